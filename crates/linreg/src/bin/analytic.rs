//! The closed-form least-squares solution of the chapter's data set, beside what
//! minibatch SGD learns on the same data.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use dlcore::cli::RunArgs;
use dlcore::record::Summary;
use linreg::cli::{TrainingArgs, with_config, with_estimate};
use linreg::{Estimate, History, analytic, report, scratch};

/// Solve linear least squares in closed form (QR of the design matrix) and compare
/// the solution with the truth and with SGD's answer.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The data set, and the SGD run to compare with.
    #[command(flatten)]
    training: TrainingArgs,
    #[command(flatten)]
    run: RunArgs,
}

fn run(args: &Args) -> anyhow::Result<()> {
    let config = args.training.config();
    let out = args.run.out_dir("analytic");
    let mut recorder = args.run.recorder(&out)?;
    let mut rng = args.run.rng();
    let data = linreg::synthetic_data(&config, &mut rng);

    let solution = analytic::least_squares(&data)?;
    let via_normal_equations = analytic::normal_equations(&data)?;
    let condition = analytic::condition_number(&data);
    let mut history = History::default();
    let sgd = scratch::train(&config, &data, &mut rng, &mut history)
        .with_context(|| format!("SGD stopped after {} steps", history.batch_losses.len()))?
        .estimate();

    let truth = Estimate::truth();
    println!("true w {:?}, b {}", truth.w, truth.b);
    println!("least squares (QR): w {:?}, b {}", solution.w, solution.b);
    println!("normal equations (Cholesky): w {:?}, b {}", via_normal_equations.w, via_normal_equations.b);
    println!("SGD, {} epochs: w {:?}, b {}", config.epochs, sgd.w, sgd.b);
    let sgd_vs_solution = sgd.max_difference(&solution);
    let solvers_differ = solution.max_difference(&via_normal_equations);
    println!(
        "largest error against the truth: least squares {:.1e}, SGD {:.1e}; SGD is {sgd_vs_solution:.1e} \
         from the least-squares solution",
        solution.max_error(),
        sgd.max_error()
    );

    let sgd_name = format!("SGD, {} epochs", config.epochs);
    let table = report::estimate_table(
        &[
            ("least squares (QR)", &solution),
            ("normal equations (Cholesky)", &via_normal_equations),
            (&sgd_name, &sgd),
        ],
        &data,
    );
    let text = format!(
        "{table}\nThe design matrix has condition number {condition:.3}, so AᵀA has {:.3}. QR and \
         Cholesky, rounded to `f32`, {}. SGD's parameters are at most {sgd_vs_solution:.1e} from \
         the least-squares solution.\n",
        condition * condition,
        report::differ_by(solvers_differ)
    );
    report::write_markdown(&out.join("analytic.md"), &text)?;
    recorder.record_epoch(&[
        ("epoch", config.epochs as f64),
        ("least_squares_loss", solution.loss_on(&data)),
        ("sgd_train_loss", sgd.loss_on(&data)),
    ])?;

    let summary = with_config(Summary::new("analytic", args.run.seed), &config)
        .metric("train_loss", solution.loss_on(&data))
        .metric("sgd_train_loss", sgd.loss_on(&data))
        .metric("sgd_max_difference_from_least_squares", f64::from(sgd_vs_solution))
        .metric("normal_equations_max_difference", f64::from(solvers_differ))
        .metric("condition_number", condition);
    let summary = with_estimate(with_estimate(summary, "", &solution), "sgd_", &sgd);
    recorder.finish(&summary)?;
    println!("metrics, summary and table in {}", out.display());
    Ok(())
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse()))
}
