//! Cross-entropy against squared error for classification: the same softmax
//! regression trained with softmax + cross-entropy, softmax + squared error and
//! sigmoid + squared error, from the same initial weights on the same batches.
//! `cargo run --release -p softmax --bin mse-vs-ce`.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::Parser;
use dlcore::cli::{RunArgs, positive_f32, positive_usize};
use dlcore::data::images::{self, ImageSet};
use dlcore::record::Summary;
use softmax::compare::{Comparison, ObjectiveRun, train_with_objective};
use softmax::figures::{accuracy_chart, push_chart};
use softmax::objective::{Objective, push_on_true_logit};
use softmax::run::write_text;
use softmax::{CLASSES, Config};

/// Train one softmax regression per loss (cross-entropy, softmax + squared error,
/// sigmoid + squared error) and compare how fast each learns.
#[derive(Debug, Parser)]
#[command(version, about, allow_negative_numbers = true)]
struct Args {
    /// Data set: fashion-mnist or mnist.
    #[arg(long, default_value = "fashion-mnist")]
    dataset: ImageSet,
    /// Learning rate of every run.
    #[arg(long, default_value_t = 0.1, value_parser = positive_f32)]
    lr: f32,
    /// A different learning rate for the two squared-error runs [default: --lr].
    #[arg(long, value_parser = positive_f32)]
    squared_lr: Option<f32>,
    /// Examples per minibatch.
    #[arg(long, default_value_t = 256, value_parser = positive_usize)]
    batch_size: usize,
    /// Passes over the training set.
    #[arg(long, default_value_t = 10, value_parser = positive_usize)]
    epochs: usize,
    /// Standard deviation σ of the initial weights, drawn from N(0, σ²).
    #[arg(long, default_value_t = 0.01, value_parser = positive_f32)]
    weight_std: f32,
    /// How many times per epoch the test accuracy is measured for the figure.
    #[arg(long, default_value_t = 10, value_parser = positive_usize)]
    evals_per_epoch: usize,
    #[command(flatten)]
    run: RunArgs,
}

/// The first fractional epoch at which a run's test accuracy reached `level`.
fn first_reaching(run: &ObjectiveRun, level: f32) -> Option<f64> {
    run.test_curve.iter().find(|(_, acc)| *acc >= level).map(|(t, _)| *t)
}

fn table(runs: &[ObjectiveRun], level: f32) -> String {
    let mut out = format!(
        "| objective | learning rate | test accuracy after epoch 1 | after the last epoch | first reached {level:.2} at epoch | final training loss |\n\
         |---|---:|---:|---:|---:|---:|\n"
    );
    for run in runs {
        let at = |epoch: usize| run.reports.get(epoch).map_or(f32::NAN, |r| r.test_accuracy);
        let reached = first_reaching(run, level).map_or("never".to_string(), |t| format!("{t:.1}"));
        let _ = writeln!(
            out,
            "| {} | {} | {:.4} | {:.4} | {reached} | {:.4} |",
            run.objective,
            run.lr,
            at(0),
            at(run.reports.len() - 1),
            run.reports.last().map_or(f32::NAN, |r| r.train_loss)
        );
    }
    out
}

fn run(args: &Args) -> anyhow::Result<()> {
    let (train, test) = images::load_both_or_fetch(args.dataset, &images::default_data_dir())?;
    let out = args.run.out_dir("mse-vs-ce");
    let mut recorder = args.run.recorder(&out)?;
    let setup = Comparison {
        config: Config { batch_size: args.batch_size, epochs: args.epochs, classes: CLASSES, lr: args.lr },
        weight_std: args.weight_std,
        evals_per_epoch: args.evals_per_epoch,
        seed: args.run.seed,
    };
    let bar = dlcore::progress::items(Objective::ALL.len() as u64, "objectives");
    let mut runs = Vec::new();
    for objective in Objective::ALL {
        let lr = match objective {
            Objective::CrossEntropy => args.lr,
            Objective::SoftmaxSquared | Objective::SigmoidSquared => args.squared_lr.unwrap_or(args.lr),
        };
        let run = train_with_objective(objective, lr, &train, &test, &setup)?;
        bar.suspend(|| {
            let last = run.reports.last();
            println!(
                "{objective} (lr {lr}): test accuracy {:.4} after epoch 1, {:.4} after epoch {}",
                run.reports.first().map_or(f32::NAN, |r| r.test_accuracy),
                last.map_or(f32::NAN, |r| r.test_accuracy),
                args.epochs
            );
        });
        bar.inc(1);
        runs.push(run);
    }
    bar.finish_and_clear();

    for epoch in 0..args.epochs {
        let mut row = vec![("epoch".to_string(), (epoch + 1) as f64)];
        for run in &runs {
            let r = &run.reports[epoch];
            let key = run.objective.key();
            row.push((format!("{key}_train_loss"), f64::from(r.train_loss)));
            row.push((format!("{key}_train_accuracy"), f64::from(r.train_accuracy)));
            row.push((format!("{key}_test_accuracy"), f64::from(r.test_accuracy)));
        }
        let row: Vec<(&str, f64)> = row.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        recorder.record_epoch(&row)?;
    }

    let curves: Vec<(String, Vec<(f64, f64)>)> = runs
        .iter()
        .map(|run| {
            let name = format!("{} (lr {})", run.objective, run.lr);
            (name, run.test_curve.iter().map(|&(t, acc)| (t, f64::from(acc))).collect())
        })
        .collect();
    let title = format!("Test accuracy on {} while training", args.dataset.title());
    accuracy_chart(&out.join("mse-vs-ce.svg"), &title, &curves)?;
    let push: Vec<(String, Vec<(f64, f64)>)> = Objective::ALL
        .into_iter()
        .map(|objective| {
            let points = (1..200)
                .map(|i| {
                    let p = i as f32 / 200.0;
                    (f64::from(p), f64::from(push_on_true_logit(objective, p, CLASSES)))
                })
                .collect();
            (objective.name().to_string(), points)
        })
        .collect();
    push_chart(&out.join("push.svg"), &push)?;
    let level = 0.8;
    let markdown = table(&runs, level);
    write_text(&out.join("mse-vs-ce.md"), &markdown)?;
    print!("\n{markdown}");

    let mut summary = Summary::new("mse-vs-ce", args.run.seed)
        .param("dataset", args.dataset.to_string())
        .param("lr", args.lr)
        .param("squared_lr", args.squared_lr.unwrap_or(args.lr))
        .param("batch_size", args.batch_size)
        .param("epochs", args.epochs)
        .param("weight_std", args.weight_std);
    for run in &runs {
        if let (Some(first), Some(last)) = (run.reports.first(), run.reports.last()) {
            let key = run.objective.key();
            summary = summary
                .metric(format!("{key}_test_accuracy_epoch_1"), f64::from(first.test_accuracy))
                .metric(format!("{key}_test_accuracy"), f64::from(last.test_accuracy))
                .metric(format!("{key}_train_loss"), f64::from(last.train_loss));
        }
    }
    recorder.finish(&summary)?;
    println!("metrics, summary and figures in {}", out.display());
    Ok(())
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse()))
}
