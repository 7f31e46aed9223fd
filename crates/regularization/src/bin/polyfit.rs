//! Under- and over-fitting a cubic: the normal fit, too few features and too few
//! examples, each trained by SGD beside its least-squares solution.
//! `cargo run --release -p regularization` (the crate's default binary).

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use dlcore::cli::{RunArgs, non_negative_f32, positive_f32, positive_usize};
use dlcore::plot::{Chart, Legend, Series, Style, line_chart, panels};
use dlcore::record::Summary;
use regularization::polyfit::{
    NOISE_STD, PolyData, PolyfitConfig, Polynomial, Setting, SettingResult, data_rng, fit_setting, poly_data,
};
use regularization::regression::SgdConfig;

/// Fit y = 5 + 1.2x − 3.4x² + 5.6x³ + ε with the right features, too few features
/// (under-fitting) and too few examples (over-fitting).
#[derive(Debug, Parser)]
#[command(version, about, allow_negative_numbers = true)]
struct Args {
    /// Learning rate.
    #[arg(long, default_value_t = 0.01, value_parser = positive_f32)]
    lr: f32,
    /// Examples per minibatch (capped at the number of training examples).
    #[arg(long, default_value_t = 10, value_parser = positive_usize)]
    batch_size: usize,
    /// Passes over the training set (d2l used 100, where the normal fit has not yet
    /// converged).
    #[arg(long, default_value_t = 200, value_parser = positive_usize)]
    epochs: usize,
    /// The epoch whose parameters are printed beside the final ones.
    #[arg(long, default_value_t = 100, value_parser = positive_usize)]
    checkpoint_epoch: usize,
    /// Training examples of the normal and under-fitting settings.
    #[arg(long, default_value_t = 100, value_parser = positive_usize)]
    train_examples: usize,
    /// Test examples (shared by all settings).
    #[arg(long, default_value_t = 100, value_parser = positive_usize)]
    test_examples: usize,
    /// Training examples of the over-fitting setting.
    #[arg(long, default_value_t = 2, value_parser = positive_usize)]
    overfit_examples: usize,
    /// Also refit the normal setting on the data of this many seeds (from --seed on)
    /// and tabulate how often the targets hold; 0 to skip.
    #[arg(long, default_value_t = 20)]
    repeats: u64,
    /// Standard deviation σ of the noise; the loss cannot go below σ²/2 on test data.
    #[arg(long, default_value_t = NOISE_STD, value_parser = non_negative_f32)]
    noise: f32,
    #[command(flatten)]
    run: RunArgs,
}

fn run(args: &Args) -> anyhow::Result<()> {
    let out = args.run.out_dir("polyfit");
    let mut recorder = args.run.recorder(&out)?;
    let data = poly_data(args.train_examples, args.test_examples, args.noise, &mut data_rng(args.run.seed));
    let mut rng = args.run.rng();
    let config = PolyfitConfig {
        sgd: SgdConfig { lr: args.lr, batch_size: args.batch_size, epochs: args.epochs, weight_decay: 0.0 },
        overfit_examples: args.overfit_examples,
        checkpoint_epoch: args.checkpoint_epoch,
    };
    let mut results = Vec::new();
    for setting in Setting::ALL {
        let result = fit_setting(setting, &data, &config, &mut rng)
            .with_context(|| format!("the {} setting", setting.title()))?;
        results.push(result);
    }

    for epoch in 0..args.epochs {
        let mut row = vec![("epoch", (epoch + 1) as f64)];
        for (r, names) in results.iter().zip(COLUMNS) {
            row.push((names[0], f64::from(r.history[epoch].train_loss)));
            row.push((names[1], f64::from(r.history[epoch].test_loss)));
        }
        recorder.record_epoch(&row)?;
    }

    let floor = 0.5 * f64::from(args.noise).powi(2);
    panels(&out.join("polyfit.svg"), &results.iter().map(|r| loss_chart(r, floor)).collect::<Vec<_>>(), 3)?;
    curves_chart(&out.join("polyfit-curves.svg"), &data, &results)?;
    let (repeats_table, met) = repeats(args, &config)?;
    let over_inputs: Vec<String> =
        data.train.x.iter().take(results[2].train_examples).map(|x| format!("{x:.2}")).collect();
    let tables = [
        ("polyfit-losses.md", losses_table(&results, floor, &over_inputs)),
        ("polyfit-parameters.md", parameters_table(&results, args.checkpoint_epoch)),
        ("polyfit-seeds.md", repeats_table),
    ];
    for (name, table) in &tables {
        println!("{table}");
        dlcore::atomic_file::write_bytes(&out.join(name), table.as_bytes())
            .with_context(|| format!("writing {name}"))?;
    }

    let [normal, over] = [&results[0], &results[2]];
    let mut summary = Summary::new("polyfit", args.run.seed)
        .param("lr", args.lr)
        .param("batch_size", args.batch_size)
        .param("epochs", args.epochs)
        .param("train_examples", args.train_examples)
        .param("test_examples", args.test_examples)
        .param("overfit_examples", args.overfit_examples)
        .param("noise", args.noise)
        .param("repeats", args.repeats)
        .metric("noise_floor", floor)
        .metric("repeats_meeting_normal_fit_targets", met as f64)
        .metric("normal_max_parameter_error", normal.sgd.max_parameter_error(&Polynomial::truth()))
        .metric("normal_bias", normal.sgd.bias)
        .metric("over_to_normal_test_loss_ratio", f64::from(over.last().test_loss / normal.last().test_loss));
    for (i, c) in normal.sgd.coefficients.iter().enumerate() {
        summary = summary.metric(format!("normal_w{}", i + 1), *c);
    }
    for r in &results {
        let key = r.setting.key();
        summary = summary
            .metric(format!("{key}_train_loss"), f64::from(r.last().train_loss))
            .metric(format!("{key}_test_loss"), f64::from(r.last().test_loss))
            .metric(format!("{key}_least_squares_test_loss"), r.least_squares_test_loss);
    }
    if let Some(checkpoint) = &normal.checkpoint {
        summary = summary
            .metric(
                "normal_max_parameter_error_at_checkpoint",
                checkpoint.max_parameter_error(&Polynomial::truth()),
            )
            .metric(
                "normal_test_loss_at_checkpoint",
                f64::from(normal.history[args.checkpoint_epoch - 1].test_loss),
            );
    }
    recorder.finish(&summary)?;
    eprintln!("wrote figures, tables, metrics.csv and summary.json to {}", out.display());
    Ok(())
}

/// The metrics.csv columns of each setting, in [`Setting::ALL`] order.
const COLUMNS: [[&str; 2]; 3] = [
    ["normal_train_loss", "normal_test_loss"],
    ["under_train_loss", "under_test_loss"],
    ["over_train_loss", "over_test_loss"],
];

/// Train and test loss per epoch on a log scale, with the noise floor.
fn loss_chart(result: &SettingResult, floor: f64) -> Chart {
    let train: Vec<f32> = result.history.iter().map(|h| h.train_loss).collect();
    let test: Vec<f32> = result.history.iter().map(|h| h.test_loss).collect();
    let title = format!("{} ({} training examples)", result.setting.title(), result.train_examples);
    Chart::new(title)
        .x_label("epoch")
        .y_label("loss")
        .log_y()
        .series(Series::from_ys("train", &train))
        .series(Series::from_ys("test", &test).dashed())
        .hline(floor, "noise floor σ²/2")
        .legend(Legend::LowerLeft)
}

/// The data and the three fitted polynomials over the range of the test inputs.
fn curves_chart(path: &Path, data: &PolyData, results: &[SettingResult]) -> anyhow::Result<()> {
    let (lo, hi) =
        data.test.x.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    let (lo, hi) = (f64::from(lo), f64::from(hi));
    let (y_lo, y_hi) =
        data.test.y.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &y| (a.min(y), b.max(y)));
    let margin = 0.1 * f64::from(y_hi - y_lo);
    let points = |d: &dlcore::data::Dataset| -> Vec<(f64, f64)> {
        d.x.iter().zip(d.y.iter()).map(|(&x, &y)| (f64::from(x), f64::from(y))).collect()
    };
    let over = &results[2];
    let mut chart = Chart::new("the data and the three fits (SGD, end of training)")
        .x_label("x")
        .y_label("y")
        .x_range(lo, hi)
        .y_range(f64::from(y_lo) - margin, f64::from(y_hi) + margin)
        .legend(Legend::LowerRight)
        .series(Series::new("test data", points(&data.test)).points().color(7))
        .series(Series::from_fn("truth", (lo, hi), 200, |x| Polynomial::truth().eval(x)).color(0));
    for (r, color) in results.iter().zip([2, 1, 3]) {
        let style = if r.setting == Setting::Normal { Style::Dashed } else { Style::Line };
        let fitted = r.sgd.clone();
        chart = chart.series(
            Series::from_fn(r.setting.title(), (lo, hi), 200, move |x| fitted.eval(x))
                .style(style)
                .color(color),
        );
    }
    let over_train = data.train.head(over.train_examples);
    chart = chart.series(
        Series::new(format!("the {} examples over-fitted", over.train_examples), points(&over_train))
            .points()
            .color(3),
    );
    line_chart(path, &chart)?;
    Ok(())
}

/// Losses of every setting: SGD after the last epoch and the least-squares fit.
fn losses_table(results: &[SettingResult], floor: f64, over_inputs: &[String]) -> String {
    let mut s = String::from(
        "| setting | training examples | features | SGD train loss | SGD test loss | least-squares train loss | least-squares test loss |\n|---|---:|---|---:|---:|---:|---:|\n",
    );
    for r in results {
        let last = r.last();
        let features = (1..=r.setting.degree()).map(power).collect::<Vec<_>>().join(", ");
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.setting.title(),
            r.train_examples,
            features,
            number(f64::from(last.train_loss)),
            number(f64::from(last.test_loss)),
            number(r.least_squares_train_loss),
            number(r.least_squares_test_loss),
        );
    }
    let _ = writeln!(
        s,
        "\nThe noise floor σ²/2 is {}. The over-fitting setting trains on the examples at x = {}.",
        number(floor),
        over_inputs.join(", ")
    );
    s
}

/// The learned parameters beside the true ones.
fn parameters_table(results: &[SettingResult], checkpoint_epoch: usize) -> String {
    let mut s = String::from("| model | b | x | x² | x³ |\n|---|---:|---:|---:|---:|\n");
    let mut row = |name: String, p: &Polynomial| {
        let _ = write!(s, "| {name} | {:.4} |", p.bias);
        for i in 0..3 {
            match p.coefficients.get(i) {
                Some(c) => {
                    let _ = write!(s, " {c:.4} |");
                }
                None => s.push_str(" — |"),
            }
        }
        s.push('\n');
    };
    row("true function".into(), &Polynomial::truth());
    for r in results {
        let title = r.setting.title();
        let epochs = r.history.len();
        if r.setting == Setting::Normal
            && let Some(checkpoint) = &r.checkpoint
            && checkpoint_epoch < epochs
        {
            row(format!("{title}, SGD after {checkpoint_epoch} epochs"), checkpoint);
        }
        row(format!("{title}, SGD after {epochs} epochs"), &r.sgd);
        let ls = &r.least_squares;
        let kind = if ls.rank < ls.unknowns {
            format!("minimum-norm least squares (rank {} < {} unknowns)", ls.rank, ls.unknowns)
        } else {
            "least squares".to_string()
        };
        row(format!("{title}, {kind}"), &ls.polynomial);
    }
    s
}

/// The targets for the normal fit: train and test loss below 0.008 and every
/// parameter within 0.05 of the truth.
fn normal_fit_meets_targets(r: &SettingResult) -> bool {
    let last = r.last();
    last.train_loss < 0.008
        && last.test_loss < 0.008
        && r.sgd.max_parameter_error(&Polynomial::truth()) < 0.05
}

/// Refits the normal setting on the data of seeds `seed, seed + 1, …` and tabulates
/// the results beside least squares: how much of the distance to the truth is the
/// sample's, not SGD's. Returns the table and how many seeds met the targets.
fn repeats(args: &Args, config: &PolyfitConfig) -> anyhow::Result<(String, usize)> {
    let mut s = String::from(
        "| seed | SGD: largest parameter error | least squares: largest parameter error | SGD train loss | SGD test loss | least-squares test loss | targets met |\n|---:|---:|---:|---:|---:|---:|:---:|\n",
    );
    let mut met = 0;
    let truth = Polynomial::truth();
    for seed in args.run.seed..args.run.seed.saturating_add(args.repeats) {
        let data = poly_data(args.train_examples, args.test_examples, args.noise, &mut data_rng(seed));
        let r = fit_setting(Setting::Normal, &data, config, &mut dlcore::seeded_rng(seed))
            .with_context(|| format!("the normal fit of seed {seed}"))?;
        let ok = normal_fit_meets_targets(&r);
        met += usize::from(ok);
        let _ = writeln!(
            s,
            "| {seed} | {} | {} | {} | {} | {} | {} |",
            number(r.sgd.max_parameter_error(&truth)),
            number(r.least_squares.polynomial.max_parameter_error(&truth)),
            number(f64::from(r.last().train_loss)),
            number(f64::from(r.last().test_loss)),
            number(r.least_squares_test_loss),
            if ok { "yes" } else { "**no**" },
        );
    }
    let _ = writeln!(s, "\nThe targets held for {met} of {} seeds.", args.repeats);
    Ok((s, met))
}

/// `x`, `x²`, `x³`, … as the tables write them.
fn power(i: usize) -> String {
    match i {
        1 => "x".into(),
        2 => "x²".into(),
        3 => "x³".into(),
        i => format!("x^{i}"),
    }
}

/// A number for a table, to three significant digits (at least the units).
fn number(v: f64) -> String {
    regularization::significant(v, 3)
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse()))
}
