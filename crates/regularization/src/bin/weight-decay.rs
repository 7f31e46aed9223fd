//! Weight decay on a problem made to over-fit (200 features, 20 examples): λ = 0
//! against λ = 3, from scratch and through dlcore's optimizer, then a sweep over λ
//! with K-fold cross-validation choosing it.
//! `cargo run --release -p regularization --bin weight-decay`.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use dlcore::cli::{RunArgs, non_negative_f32, positive_f32, positive_usize};
use dlcore::data::split::k_fold;
use dlcore::plot::{Chart, Legend, Series, Style, line_chart, panels};
use dlcore::record::Summary;
use regularization::cross_validation::{CvScore, lowest_validation, simplest_within_one_std_error};
use regularization::regression::SgdConfig;
use regularization::significant;
use regularization::weight_decay::{
    DecayRun, FEATURES, LambdaScore, ScratchLinear, decay_data, lambda_grid, lambda_sweep, train_both,
};

/// Weight decay (L2 regularization) on high-dimensional linear regression.
#[derive(Debug, Parser)]
#[command(version, about, allow_negative_numbers = true)]
struct Args {
    /// The weight decay λ compared with λ = 0.
    #[arg(long, default_value_t = 3.0, value_parser = non_negative_f32)]
    lambda: f32,
    /// Learning rate.
    #[arg(long, default_value_t = 0.003, value_parser = positive_f32)]
    lr: f32,
    /// Examples per minibatch.
    #[arg(long, default_value_t = 1, value_parser = positive_usize)]
    batch_size: usize,
    /// Passes over the training set.
    #[arg(long, default_value_t = 100, value_parser = positive_usize)]
    epochs: usize,
    /// Training examples (fewer than the 200 features: the problem over-fits).
    #[arg(long, default_value_t = 20, value_parser = positive_usize)]
    train_examples: usize,
    /// Test examples.
    #[arg(long, default_value_t = 100, value_parser = positive_usize)]
    test_examples: usize,
    /// K of the K-fold cross-validation that chooses λ.
    #[arg(long, default_value_t = 5, value_parser = positive_usize)]
    k: usize,
    /// Smallest non-zero λ of the sweep (λ = 0 is always included).
    #[arg(long, default_value_t = 0.01, value_parser = positive_f32)]
    sweep_min: f32,
    /// Largest λ of the sweep (with batch 1, a step multiplies w by 1 − ηλ, so
    /// ηλ ≥ 2 diverges).
    #[arg(long, default_value_t = 100.0, value_parser = positive_f32)]
    sweep_max: f32,
    /// Non-zero λs in the sweep, evenly spaced in log λ.
    #[arg(long, default_value_t = 17, value_parser = positive_usize)]
    sweep_points: usize,
    #[command(flatten)]
    run: RunArgs,
}

fn run(args: &Args) -> anyhow::Result<()> {
    if args.sweep_min > args.sweep_max {
        anyhow::bail!("--sweep-min ({}) must not exceed --sweep-max ({})", args.sweep_min, args.sweep_max);
    }
    let out = args.run.out_dir("weight-decay");
    let mut recorder = args.run.recorder(&out)?;
    let mut rng = args.run.rng();
    let data = decay_data(args.train_examples, args.test_examples, &mut rng);
    let start = ScratchLinear::init(FEATURES, &mut rng);
    let config =
        SgdConfig { lr: args.lr, batch_size: args.batch_size, epochs: args.epochs, weight_decay: 0.0 };

    let runs = [0.0, args.lambda]
        .into_iter()
        .map(|lambda| {
            train_both(lambda, &data, &start, &config, &rng).with_context(|| format!("λ = {lambda}"))
        })
        .collect::<anyhow::Result<Vec<DecayRun>>>()?;
    for epoch in 0..args.epochs {
        let [plain, decayed] = [&runs[0].scratch[epoch], &runs[1].scratch[epoch]];
        recorder.record_epoch(&[
            ("epoch", (epoch + 1) as f64),
            ("lambda0_train_loss", f64::from(plain.train_loss)),
            ("lambda0_test_loss", f64::from(plain.test_loss)),
            ("lambda0_weight_norm", f64::from(plain.weight_norm)),
            ("decayed_train_loss", f64::from(decayed.train_loss)),
            ("decayed_test_loss", f64::from(decayed.test_loss)),
            ("decayed_weight_norm", f64::from(decayed.weight_norm)),
        ])?;
    }
    panels(&out.join("weight-decay.svg"), &runs.iter().map(loss_chart).collect::<Vec<_>>(), 2)?;
    line_chart(&out.join("weight-decay-norm.svg"), &norm_chart(&runs))?;

    let folds = k_fold(data.train.len(), args.k, &mut rng)?;
    let lambdas = lambda_grid(args.sweep_min, args.sweep_max, args.sweep_points);
    let scores = lambda_sweep(&lambdas, &data, &start, &config, &folds, &rng)?;
    // Simplest first: the largest λ constrains the weights most.
    let simplest_first: Vec<CvScore> = scores.iter().rev().map(|s| s.cv).collect();
    let chosen =
        simplest_within_one_std_error(&simplest_first).map(|i| scores.len() - 1 - i).context("no λ")?;
    let lowest = lowest_validation(&scores.iter().map(|s| s.cv).collect::<Vec<_>>()).context("no λ")?;
    let [all, zoom] = sweep_charts(&scores, chosen, args.k);
    line_chart(&out.join("weight-decay-sweep.svg"), &all)?;
    line_chart(&out.join("weight-decay-sweep-zoom.svg"), &zoom)?;

    let tables = [
        ("weight-decay.md", runs_table(&runs)),
        ("weight-decay-sweep.md", sweep_table(&scores, chosen, lowest, args.k)),
    ];
    for (name, table) in &tables {
        println!("{table}");
        dlcore::atomic_file::write_bytes(&out.join(name), table.as_bytes())
            .with_context(|| format!("writing {name}"))?;
    }

    let last = |run: &DecayRun| *run.scratch.last().expect("at least one epoch");
    let (plain, decayed) = (last(&runs[0]), last(&runs[1]));
    let summary = Summary::new("weight-decay", args.run.seed)
        .param("lambda", args.lambda)
        .param("lr", args.lr)
        .param("batch_size", args.batch_size)
        .param("epochs", args.epochs)
        .param("train_examples", args.train_examples)
        .param("test_examples", args.test_examples)
        .param("k", args.k)
        .param("lambdas", lambdas.clone())
        .metric("lambda0_weight_norm", f64::from(plain.weight_norm))
        .metric("lambda0_train_loss", f64::from(plain.train_loss))
        .metric("lambda0_test_loss", f64::from(plain.test_loss))
        .metric("decayed_weight_norm", f64::from(decayed.weight_norm))
        .metric("decayed_train_loss", f64::from(decayed.train_loss))
        .metric("decayed_test_loss", f64::from(decayed.test_loss))
        .metric(
            "max_scratch_optimizer_difference",
            f64::from(runs.iter().map(DecayRun::max_parameter_difference).fold(0.0, f32::max)),
        )
        .metric("cv_chosen_lambda", f64::from(scores[chosen].lambda))
        .metric("cv_chosen_validation_loss", scores[chosen].cv.validation)
        .metric("cv_chosen_test_loss", scores[chosen].test_loss)
        .metric("cv_lowest_validation_lambda", f64::from(scores[lowest].lambda));
    recorder.finish(&summary)?;
    eprintln!("wrote figures, tables, metrics.csv and summary.json to {}", out.display());
    Ok(())
}

/// Train and test loss per epoch for one λ, from scratch (lines) and through the
/// optimizer (markers every few epochs: they land on the lines). Both panels share
/// the y axis; the legend sits in the empty corner of the regularized one.
fn loss_chart(run: &DecayRun) -> Chart {
    let series = |pick: fn(&regularization::regression::EpochLosses) -> f32, losses: &[_]| -> Vec<f32> {
        losses.iter().map(pick).collect()
    };
    let every = (run.optimizer.len() / 12).max(1);
    let optimizer_test = run
        .optimizer
        .iter()
        .filter(|l| l.epoch % every == 0)
        .map(|l| (l.epoch as f64, f64::from(l.test_loss)));
    Chart::new(format!("λ = {}", run.lambda))
        .x_label("epoch")
        .y_label("loss")
        .log_y()
        .y_range(1e-13, 1e4)
        .legend(if run.lambda == 0.0 { Legend::Hidden } else { Legend::LowerRight })
        .series(Series::from_ys("train", &series(|l| l.train_loss, &run.scratch)))
        .series(Series::from_ys("test", &series(|l| l.test_loss, &run.scratch)).dashed())
        .series(Series::new("test, dlcore Sgd", optimizer_test).points().color(1))
}

/// ‖w‖ per epoch for every λ.
fn norm_chart(runs: &[DecayRun]) -> Chart {
    let mut chart = Chart::new("the L2 norm of the weights").x_label("epoch").y_label("‖w‖").log_y();
    for run in runs {
        let norms: Vec<f32> = run.scratch.iter().map(|l| l.weight_norm).collect();
        chart = chart.series(Series::from_ys(format!("λ = {}", run.lambda), &norms));
    }
    chart.hline((FEATURES as f64).sqrt() * 0.01, "‖w_true‖ = 0.141")
}

/// Two charts against log₁₀ λ: every λ on a log scale, with λ = 0 (which has no
/// logarithm) as a reference line; and the λs from 1 up on a linear scale, with the
/// validation loss's one-standard-error band, to show which differences mean anything.
fn sweep_charts(scores: &[LambdaScore], chosen: usize, k: usize) -> [Chart; 2] {
    let points = |from: f32, f: &dyn Fn(&LambdaScore) -> f64| -> Vec<(f64, f64)> {
        scores
            .iter()
            .filter(|s| s.lambda > 0.0 && s.lambda >= from)
            .map(|s| (f64::from(s.lambda.log10()), f(s)))
            .collect()
    };
    let c = &scores[chosen];
    let chosen_point = |chart: Chart| {
        if c.lambda > 0.0 {
            let label = format!("chosen: λ = {}", significant(f64::from(c.lambda), 2));
            chart.series(
                Series::new(label, [(f64::from(c.lambda.log10()), c.cv.validation)]).points().color(3),
            )
        } else {
            chart
        }
    };
    let mut all = Chart::new(format!("choosing λ by {k}-fold cross-validation"))
        .x_label("log₁₀ λ")
        .y_label("loss")
        .log_y()
        .y_range(1e-12, 1e3)
        .legend(Legend::LowerRight)
        .series(Series::new("validation", points(0.0, &|s| s.cv.validation)).style(Style::LinePoints))
        .series(Series::new("train", points(0.0, &|s| s.cv.train)).dashed())
        .series(Series::new("test (not used to choose)", points(0.0, &|s| s.test_loss)).dashed().color(7));
    if let Some(zero) = scores.iter().find(|s| s.lambda == 0.0) {
        all = all.hline(zero.cv.validation, "validation at λ = 0");
    }
    let zoom = Chart::new(format!("λ ≥ 1: {k}-fold validation loss ± one standard error"))
        .x_label("log₁₀ λ")
        .y_label("loss")
        .legend(Legend::UpperRight)
        .y_range(0.004, 0.02)
        .series(Series::new("validation", points(1.0, &|s| s.cv.validation)).style(Style::LinePoints))
        .series(
            Series::new(
                "± one standard error",
                points(1.0, &|s| s.cv.validation + s.cv.validation_std_error),
            )
            .dashed()
            .color(0),
        )
        .series(
            Series::new("", points(1.0, &|s| s.cv.validation - s.cv.validation_std_error)).dashed().color(0),
        )
        .series(Series::new("test (not used to choose)", points(1.0, &|s| s.test_loss)).dashed().color(7));
    [chosen_point(all), chosen_point(zoom)]
}

/// ‖w‖ and the losses at the end of each run, both ways.
fn runs_table(runs: &[DecayRun]) -> String {
    let mut s = String::from("| λ | version | ‖w‖ | train loss | test loss |\n|---:|---|---:|---:|---:|\n");
    for run in runs {
        for (version, history) in
            [("from scratch", &run.scratch), ("dlcore `Sgd` weight decay", &run.optimizer)]
        {
            if let Some(last) = history.last() {
                let _ = writeln!(
                    s,
                    "| {} | {version} | {} | {} | {} |",
                    run.lambda,
                    significant(f64::from(last.weight_norm), 3),
                    significant(f64::from(last.train_loss), 3),
                    significant(f64::from(last.test_loss), 3),
                );
            }
        }
    }
    let difference = runs.iter().map(DecayRun::max_parameter_difference).fold(0.0, f32::max);
    let _ = writeln!(
        s,
        "\nThe two versions' final parameters differ by at most {difference:.1e} (rounding: the same update, summed in a different order)."
    );
    s
}

/// The sweep as a table, and the two ways of choosing from it.
fn sweep_table(scores: &[LambdaScore], chosen: usize, lowest: usize, k: usize) -> String {
    let mut s = format!(
        "| λ | train loss ({k}-fold mean) | validation loss ({k}-fold mean ± standard error) | test loss (trained on all 20) |\n|---:|---:|---:|---:|\n"
    );
    for (i, score) in scores.iter().enumerate() {
        let mark = match (i == chosen, i == lowest) {
            (true, true) => " (lowest; chosen)",
            (true, false) => " (chosen)",
            (false, true) => " (lowest)",
            _ => "",
        };
        let _ = writeln!(
            s,
            "| {}{mark} | {} | {} ± {} | {} |",
            significant(f64::from(score.lambda), 2),
            significant(score.cv.train, 3),
            significant(score.cv.validation, 3),
            significant(score.cv.validation_std_error, 2),
            significant(score.test_loss, 3),
        );
    }
    let (c, l) = (&scores[chosen], &scores[lowest]);
    let _ = writeln!(
        s,
        "\nThe lowest mean validation loss is at λ = {}; the largest λ within one standard error of it, the choice, is λ = {}, whose test loss after training on all 20 examples is {}.",
        significant(f64::from(l.lambda), 2),
        significant(f64::from(c.lambda), 2),
        significant(c.test_loss, 3),
    );
    s
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse()))
}
