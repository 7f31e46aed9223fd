//! Dropout in an MLP on Fashion-MNIST, against the same network without it, over
//! several seeds. `cargo run --release -p regularization --bin dropout`.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use dlcore::activation::Activation;
use dlcore::cli::{RunArgs, positive_f32, positive_usize, unit_interval_f32};
use dlcore::data::images::{self, CLASSES, ImageSet};
use dlcore::init::Init;
use dlcore::plot::{Chart, Legend, Series, panels};
use dlcore::record::Summary;
use regularization::dropout_mlp::{DropoutConfig, EpochReport, RunRngs, train};
use regularization::median;

/// Train an MLP with dropout and the same MLP without it, for several seeds, and
/// compare their test accuracy and their train–test gap.
#[derive(Debug, Parser)]
#[command(version, about, allow_negative_numbers = true)]
struct Args {
    /// Data set: fashion-mnist or mnist.
    #[arg(long, default_value = "fashion-mnist")]
    dataset: ImageSet,
    /// Hidden layer widths, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "256,256", value_parser = positive_usize)]
    hidden: Vec<usize>,
    /// Drop probability after each hidden layer, comma-separated, each in [0, 1).
    #[arg(long, value_delimiter = ',', default_value = "0.2,0.5", value_parser = unit_interval_f32)]
    dropout: Vec<f32>,
    /// relu, leaky-relu, sigmoid, tanh, selu or softplus.
    #[arg(long, default_value = "relu")]
    activation: Activation,
    /// Weight initialization (normal:<sigma>, kaiming, xavier, …).
    #[arg(long, default_value = "normal:0.01")]
    init: Init,
    /// Learning rate (of the batch-mean loss, as in PyTorch). d2l uses 0.5, where
    /// test accuracy swings by points from one epoch to the next and the last
    /// epoch's value is largely luck; at 0.2 the dips are rarer and the last epochs
    /// settle closer together.
    #[arg(long, default_value_t = 0.2, value_parser = positive_f32)]
    lr: f32,
    /// Examples per minibatch.
    #[arg(long, default_value_t = 256, value_parser = positive_usize)]
    batch_size: usize,
    /// Passes over the training set.
    #[arg(long, default_value_t = 10, value_parser = positive_usize)]
    epochs: usize,
    /// The seeds to train with, comma-separated; medians over them are reported
    /// [default: --seed, --seed + 1, --seed + 2].
    #[arg(long, value_delimiter = ',', conflicts_with = "seed")]
    seeds: Option<Vec<u64>>,
    /// Train on only the first N training images (all 60,000 if not given): dropout
    /// has more to do when the data are few.
    #[arg(long, value_parser = positive_usize)]
    train_examples: Option<usize>,
    #[command(flatten)]
    run: RunArgs,
}

/// The two arms of the comparison.
const ARMS: [&str; 2] = ["with dropout", "without dropout"];

fn run(args: &Args) -> anyhow::Result<()> {
    if args.dropout.len() != args.hidden.len() {
        anyhow::bail!(
            "--dropout has {} value(s) but --hidden has {} layer(s): give one drop probability per hidden layer",
            args.dropout.len(),
            args.hidden.len()
        );
    }
    let (mut train_set, test_set) = images::load_both_or_fetch(args.dataset, &images::default_data_dir())?;
    if let Some(n) = args.train_examples {
        train_set = train_set.head(n);
    }
    let with = DropoutConfig {
        hidden: args.hidden.clone(),
        dropout: args.dropout.clone(),
        activation: args.activation,
        init: args.init,
        lr: args.lr,
        batch_size: args.batch_size,
        epochs: args.epochs,
    };
    let configs = [with.clone(), with.without_dropout()];
    let out = args.run.out_dir("dropout");
    let mut recorder = args.run.recorder(&out)?;
    let seeds = args.seeds.clone().unwrap_or_else(|| (0..3).map(|i| args.run.seed + i).collect());
    if seeds.is_empty() {
        anyhow::bail!("--seeds: give at least one seed");
    }
    let total = (seeds.len() * configs.len() * args.epochs * train_set.len()) as u64;
    let bar = dlcore::progress::items(total, "dropout");

    // reports[arm][seed index][epoch]
    let mut reports: [Vec<Vec<EpochReport>>; 2] = [Vec::new(), Vec::new()];
    for &seed in &seeds {
        for (arm, config) in configs.iter().enumerate() {
            let (_, history) = train(
                config,
                &train_set,
                &test_set,
                CLASSES,
                &mut RunRngs::from_seed(seed),
                |n| bar.inc(n as u64),
                |r| {
                    bar.suspend(|| {
                        eprintln!(
                            "seed {seed}, {}: epoch {}/{}: train loss {:.4}, train accuracy {:.4}, test accuracy {:.4}",
                            ARMS[arm], r.epoch, config.epochs, r.train_loss, r.train_accuracy, r.test_accuracy
                        );
                    });
                    let dropout = if config.has_dropout() { 1.0 } else { 0.0 };
                    recorder.record_epoch_of(&[("seed", seed as f64), ("dropout", dropout)], &[
                        ("epoch", r.epoch as f64),
                        ("train_loss", f64::from(r.train_loss)),
                        ("train_accuracy", f64::from(r.train_accuracy)),
                        ("test_loss", f64::from(r.test_loss)),
                        ("test_accuracy", f64::from(r.test_accuracy)),
                    ])
                },
            )
            .with_context(|| format!("seed {seed}, {}", ARMS[arm]))?;
            reports[arm].push(history);
        }
    }
    bar.finish_and_clear();

    let title = match args.train_examples {
        Some(n) => format!("{n} images"),
        None => args.dataset.title().to_string(),
    };
    panels(&out.join("dropout.svg"), &charts(&reports, &args.dropout, &title), 2)?;
    let table = table(&reports, &seeds, &args.dropout, train_set.len());
    println!("{table}");
    dlcore::atomic_file::write_bytes(&out.join("dropout.md"), table.as_bytes())
        .context("writing dropout.md")?;

    let final_median = |arm: usize, f: fn(&EpochReport) -> f32| {
        median(&reports[arm].iter().filter_map(|h| h.last().map(f)).collect::<Vec<_>>())
    };
    let mut summary = Summary::new("dropout", seeds[0])
        .param("dataset", args.dataset.to_string())
        .param("hidden", args.hidden.clone())
        .param("dropout", args.dropout.clone())
        .param("activation", args.activation.to_string())
        .param("init", args.init.to_string())
        .param("lr", args.lr)
        .param("batch_size", args.batch_size)
        .param("epochs", args.epochs)
        .param("seeds", seeds.clone())
        .param("train_examples", train_set.len());
    for (arm, key) in ["dropout", "no_dropout"].into_iter().enumerate() {
        summary = summary
            .metric(format!("{key}_median_test_accuracy"), f64::from(final_median(arm, |r| r.test_accuracy)))
            .metric(
                format!("{key}_median_train_accuracy"),
                f64::from(final_median(arm, |r| r.train_accuracy)),
            )
            .metric(format!("{key}_median_gap"), f64::from(final_median(arm, EpochReport::gap)))
            .metric(format!("{key}_median_train_loss"), f64::from(final_median(arm, |r| r.train_loss)));
        for (history, seed) in reports[arm].iter().zip(&seeds) {
            if let Some(last) = history.last() {
                summary =
                    summary.metric(format!("{key}_seed{seed}_test_accuracy"), f64::from(last.test_accuracy));
            }
        }
    }
    recorder.finish(&summary)?;
    eprintln!("wrote dropout.svg, dropout.md, metrics.csv and summary.json to {}", out.display());
    Ok(())
}

/// Four panels, each with every run of both arms (one line per seed, a colour per
/// arm): test accuracy, train accuracy, their gap and the training loss, per epoch.
/// Every seed is drawn, not just a median, because the epoch-to-epoch swings are
/// part of the result.
fn charts(reports: &[Vec<Vec<EpochReport>>; 2], dropout: &[f32], title: &str) -> Vec<Chart> {
    let probabilities = dropout.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("/");
    let names = [format!("dropout {probabilities}"), "no dropout".to_string()];
    let losses =
        reports.iter().flatten().flatten().map(|r| r.train_loss).filter(|l| l.is_finite() && *l > 0.0);
    let (low, high) = losses.fold((f32::INFINITY, 0.0f32), |(lo, hi), l| (lo.min(l), hi.max(l)));
    let panel = |name: &str, y: &str, f: fn(&EpochReport) -> f32, legend: Legend| {
        let mut chart = Chart::new(name).x_label("epoch").y_label(y).legend(legend);
        for (arm, label) in names.iter().enumerate() {
            for (i, history) in reports[arm].iter().enumerate() {
                let values: Vec<f32> = history.iter().map(f).collect();
                let label = if i == 0 { label.as_str() } else { "" };
                chart = chart.series(Series::from_ys(label, &values).color(arm));
            }
        }
        chart
    };
    vec![
        panel(&format!("{title}: test accuracy"), "accuracy", |r| r.test_accuracy, Legend::Hidden),
        panel("train accuracy, dropout off", "accuracy", |r| r.train_accuracy, Legend::Hidden),
        panel("train − test accuracy", "gap", EpochReport::gap, Legend::Hidden),
        // One legend for all four panels, in the lower left corner, which the y range
        // leaves empty: the loss starts high and falls only to the right.
        panel("training loss, as trained", "loss", |r| r.train_loss, Legend::LowerLeft)
            .log_y()
            .y_range(f64::from(low) / 4.0, f64::from(high) * 1.3),
    ]
}

/// The largest fall in test accuracy from one epoch to the next over all runs of an
/// arm: how much a final-epoch number depends on where training happened to stop.
fn largest_drop(histories: &[Vec<EpochReport>]) -> f32 {
    histories
        .iter()
        .flat_map(|h| h.windows(2).map(|w| w[0].test_accuracy - w[1].test_accuracy))
        .fold(0.0, f32::max)
}

/// The mean test accuracy over the last (up to) three epochs of a run: a steadier
/// number than the last epoch alone.
fn last_three(history: &[EpochReport]) -> f32 {
    let tail = &history[history.len().saturating_sub(3)..];
    tail.iter().map(|r| r.test_accuracy).sum::<f32>() / tail.len().max(1) as f32
}

/// The final epoch of every run, the medians, and what they say.
fn table(
    reports: &[Vec<Vec<EpochReport>>; 2],
    seeds: &[u64],
    dropout: &[f32],
    train_examples: usize,
) -> String {
    let mut s = String::from(
        "| run | seed | train loss (as trained) | train accuracy (dropout off) | test accuracy | train − test | test accuracy, mean of the last 3 epochs |\n|---|---:|---:|---:|---:|---:|---:|\n",
    );
    let row = |s: &mut String, name: &str, seed: &str, r: [f32; 5]| {
        let _ = writeln!(
            s,
            "| {name} | {seed} | {:.4} | {:.4} | {:.4} | {:+.4} | {:.4} |",
            r[0], r[1], r[2], r[3], r[4]
        );
    };
    let pick = |h: &Vec<EpochReport>| {
        h.last().map(|r| [r.train_loss, r.train_accuracy, r.test_accuracy, r.gap(), last_three(h)])
    };
    let mut medians = [[0.0f32; 5]; 2];
    for (arm, name) in ARMS.iter().enumerate() {
        for (history, seed) in reports[arm].iter().zip(seeds) {
            if let Some(values) = pick(history) {
                row(&mut s, name, &seed.to_string(), values);
            }
        }
        let finals: Vec<[f32; 5]> = reports[arm].iter().filter_map(pick).collect();
        for (i, m) in medians[arm].iter_mut().enumerate() {
            *m = median(&finals.iter().map(|f| f[i]).collect::<Vec<_>>());
        }
    }
    for (arm, name) in ARMS.iter().enumerate() {
        row(&mut s, &format!("**{name}, median**"), "", medians[arm]);
    }
    let difference = 100.0 * (medians[0][2] - medians[1][2]);
    let verdict = if difference.abs() > 0.5 {
        let direction = if difference > 0.0 { "higher" } else { "lower" };
        format!(
            "the median test accuracy at the last epoch is {:.1} points {direction} with dropout",
            difference.abs()
        )
    } else {
        format!("the median test accuracies at the last epoch differ by only {difference:+.1} points")
    };
    let probabilities = dropout.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(" and ");
    let _ = writeln!(
        s,
        "\nWith dropout {probabilities}, trained on {train_examples} images, {verdict}. Averaged over the last three epochs the medians are {:.4} with dropout and {:.4} without. The train–test gap is {:+.1} points with dropout and {:+.1} without, and the training loss (measured as trained, so with dropout on in the first arm) is {:.3} against {:.3}. From one epoch to the next, test accuracy fell by as much as {:.1} points with dropout and {:.1} without.",
        medians[0][4],
        medians[1][4],
        100.0 * medians[0][3],
        100.0 * medians[1][3],
        medians[0][0],
        medians[1][0],
        100.0 * largest_drop(&reports[0]),
        100.0 * largest_drop(&reports[1]),
    );
    s
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse()))
}
