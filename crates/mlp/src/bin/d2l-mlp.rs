//! d2l's multilayer perceptron: 784-256-10 with ReLU, weights from N(0, 0.01²),
//! minibatch SGD at batch 256 for 10 epochs on Fashion-MNIST. Trained once per
//! seed; the median final test accuracy is the result (one seed can be lucky by a
//! point or two).

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Parser;
use dlcore::activation::Activation;
use dlcore::cli::{RunArgs, positive_f32, positive_usize};
use dlcore::data::images::{self, CLASSES, ImageSet};
use dlcore::init::Init;
use dlcore::plot::{Chart, Legend, Series, Style, panels};
use dlcore::record::Summary;
use dlcore::seeded_rng;
use mlp::speed::median;
use mlp::{Config, EpochReport};

/// Train d2l's 784-256-10 MLP on Fashion-MNIST once per seed and report the median accuracy.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The seeds to train with, comma-separated [default: --seed, --seed + 1, --seed + 2].
    #[arg(long, value_delimiter = ',', conflicts_with = "seed")]
    seeds: Option<Vec<u64>>,
    /// Data set: fashion-mnist (d2l's) or mnist.
    #[arg(long, default_value = "fashion-mnist")]
    dataset: ImageSet,
    /// Learning rate on the mean loss over a batch: d2l's 0.5 (see the book).
    #[arg(long, default_value_t = 0.5, value_parser = positive_f32)]
    lr: f32,
    /// Standard deviation of the normal initial weights.
    #[arg(long, default_value_t = 0.01, value_parser = positive_f32)]
    sigma: f32,
    /// Hidden units.
    #[arg(long, default_value_t = 256, value_parser = positive_usize)]
    hidden: usize,
    /// Examples per minibatch.
    #[arg(long, default_value_t = 256, value_parser = positive_usize)]
    batch_size: usize,
    /// Passes over the training set.
    #[arg(long, default_value_t = 10, value_parser = positive_usize)]
    epochs: usize,
    #[command(flatten)]
    run: RunArgs,
}

// ANCHOR: d2l_config
/// d2l's network and training setup. The weights are N(0, σ²) with σ = 0.01 and
/// the biases 0, as `net.initialize(init.Normal(sigma=0.01))` makes them; SGD is
/// plain (no momentum, no weight decay).
fn d2l_config(args: &Args) -> Config {
    Config {
        hidden: vec![args.hidden],
        activation: Activation::Relu,
        output_activation: None,
        init: Init::Normal { std: args.sigma },
        lr: args.lr,
        momentum: 0.0,
        weight_decay: 0.0,
        lr_schedule: None,
        batch_size: args.batch_size,
        epochs: args.epochs,
    }
}
// ANCHOR_END: d2l_config

fn run(args: &Args) -> anyhow::Result<()> {
    let seeds = args.seeds.clone().unwrap_or_else(|| (0..3).map(|i| args.run.seed + i).collect());
    if seeds.is_empty() {
        bail!("--seeds: give at least one seed");
    }
    let (train, test) = images::load_both_or_fetch(args.dataset, &images::default_data_dir())?;
    let config = d2l_config(args);
    let out = args.run.out_dir("d2l-mlp");
    let mut recorder = args.run.recorder(&out)?;
    let mut runs: Vec<(u64, Vec<EpochReport>)> = Vec::with_capacity(seeds.len());
    for &seed in &seeds {
        let label = format!("seed {seed}: epoch 1/{}", args.epochs);
        let bar = dlcore::progress::items((train.len() * args.epochs) as u64, &label);
        let (_, reports) = mlp::train(
            &config,
            &train,
            &test,
            CLASSES,
            &mut seeded_rng(seed),
            |n| bar.inc(n as u64),
            |r, _| {
                bar.println(format!(
                    "seed {seed}, epoch {}: train loss {:.4}, test accuracy {:.4}",
                    r.epoch,
                    r.train_loss,
                    r.test_accuracy()
                ));
                bar.set_prefix(format!("seed {seed}: epoch {}/{}", r.epoch + 1, args.epochs));
                recorder.record_epoch_of(&[("seed", seed as f64)], &r.metrics_row())?;
                Ok(())
            },
        )?;
        bar.finish_and_clear();
        let last = reports.last().context("no epoch ran")?;
        println!("seed {seed}: {}", last.test_line());
        runs.push((seed, reports));
    }
    let finals: Vec<f64> =
        runs.iter().filter_map(|(_, r)| r.last()).map(|r| f64::from(r.test_accuracy())).collect();
    let median_accuracy = median(&finals);
    println!("\nmedian test accuracy over seeds {seeds:?}: {median_accuracy:.4}");

    figure(&out.join("d2l-mlp.svg"), args.dataset, &runs)?;
    let table = markdown(args, &runs, median_accuracy);
    dlcore::atomic_file::write_bytes(&out.join("d2l-mlp.md"), table.as_bytes())?;
    let mut summary = Summary::new("d2l-mlp", seeds[0])
        .param("seeds", seeds.clone())
        .param("dataset", args.dataset.to_string())
        .param("hidden", args.hidden)
        .param("init", config.init.to_string())
        .param("lr", args.lr)
        .param("batch_size", args.batch_size)
        .param("epochs", args.epochs)
        .metric("median_test_accuracy", median_accuracy);
    for (seed, reports) in &runs {
        if let Some(last) = reports.last() {
            summary = summary.metric(format!("test_accuracy_seed_{seed}"), f64::from(last.test_accuracy()));
        }
    }
    recorder.finish(&summary)?;
    Ok(())
}

/// Training loss and test accuracy per epoch, one line per seed.
fn figure(path: &std::path::Path, dataset: ImageSet, runs: &[(u64, Vec<EpochReport>)]) -> anyhow::Result<()> {
    let epochs = runs.iter().map(|(_, r)| r.len()).max().unwrap_or(1) as f64;
    let mut loss =
        Chart::new(format!("{}: training loss", dataset.title())).x_label("epoch").x_range(0.5, epochs + 0.5);
    // The loss panel's legend names the seeds; one here would hide the swings.
    let mut accuracy = Chart::new(format!("{}: test accuracy", dataset.title()))
        .x_label("epoch")
        .x_range(0.5, epochs + 0.5)
        .legend(Legend::Hidden);
    for (i, (seed, reports)) in runs.iter().enumerate() {
        let name = format!("seed {seed}");
        let losses: Vec<f32> = reports.iter().map(|r| r.train_loss).collect();
        let accuracies: Vec<f32> = reports.iter().map(EpochReport::test_accuracy).collect();
        loss = loss.series(Series::from_ys(&name, &losses).style(Style::LinePoints).color(i));
        accuracy = accuracy.series(Series::from_ys(&name, &accuracies).style(Style::LinePoints).color(i));
    }
    panels(path, &[loss, accuracy], 2)?;
    Ok(())
}

fn markdown(args: &Args, runs: &[(u64, Vec<EpochReport>)], median_accuracy: f64) -> String {
    let mut out =
        String::from("| seed | train loss | test loss | test accuracy | best epoch's test accuracy |\n");
    out.push_str("|---:|---:|---:|---:|---:|\n");
    for (seed, reports) in runs {
        let (Some(last), Some(best)) =
            (reports.last(), reports.iter().max_by(|a, b| a.test_accuracy().total_cmp(&b.test_accuracy())))
        else {
            continue;
        };
        let _ = writeln!(
            out,
            "| {seed} | {:.4} | {:.4} | {:.4} | {:.4} (epoch {}) |",
            last.train_loss,
            last.test_loss,
            last.test_accuracy(),
            best.test_accuracy(),
            best.epoch
        );
    }
    let _ = write!(
        out,
        "\nMedian final test accuracy over the {} seeds: **{median_accuracy:.4}** \
         ({} epochs, learning rate {}, batch {}).\n",
        runs.len(),
        args.epochs,
        args.lr,
        args.batch_size
    );
    out
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse()))
}
