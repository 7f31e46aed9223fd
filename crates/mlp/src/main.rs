//! The project's main job: train an MLP on MNIST and report the test accuracy it
//! reaches. `cargo run --release -p mlp`.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use dlcore::activation::Activation;
use dlcore::cli::{RunArgs, non_negative_f32, positive_f32, positive_usize};
use dlcore::data::images::{self, CLASSES, ImageSet};
use dlcore::init::Init;
use dlcore::optim::StepSchedule;
use dlcore::plot::{Chart, Series, Style, panels};
use dlcore::record::Summary;
use mlp::checkpoint::Checkpoint;
use mlp::device::Device;
use mlp::{Config, EpochReport, Network};

/// Train a multilayer perceptron on MNIST (or Fashion-MNIST) and report test accuracy.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Data set to train on: mnist or fashion-mnist.
    #[arg(long, default_value = "mnist")]
    dataset: ImageSet,
    /// Hidden layer widths, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "256,256", value_parser = positive_usize)]
    hidden: Vec<usize>,
    /// relu, leaky-relu, sigmoid, tanh, selu or softplus.
    #[arg(long, default_value = "relu")]
    activation: Activation,
    /// kaiming, xavier, normal:<sigma>, … (see dlcore::init).
    #[arg(long, default_value = "kaiming")]
    init: Init,
    /// Learning rate.
    #[arg(long, default_value_t = 0.05, value_parser = positive_f32)]
    lr: f32,
    /// Momentum (0 for plain SGD).
    #[arg(long, default_value_t = 0.9, value_parser = dlcore::cli::unit_interval_f32)]
    momentum: f32,
    /// L2 weight decay λ.
    #[arg(long, default_value_t = 0.0, value_parser = non_negative_f32)]
    weight_decay: f32,
    /// Multiply the learning rate by --lr-gamma every this many epochs (0: never).
    /// Dropping it for the last epochs lets SGD settle instead of bouncing around
    /// the minimum, which steadies the final accuracy.
    #[arg(long, default_value_t = 8)]
    lr_step: usize,
    /// The factor for --lr-step.
    #[arg(long, default_value_t = 0.1, value_parser = positive_f32)]
    lr_gamma: f32,
    /// Examples per minibatch.
    #[arg(long, default_value_t = 128, value_parser = positive_usize)]
    batch_size: usize,
    /// Passes over the training set.
    #[arg(long, default_value_t = 10, value_parser = positive_usize)]
    epochs: usize,
    /// Where to train: cpu, or cuda (an NVIDIA GPU; needs a build with `--features cuda`).
    #[arg(long, default_value = "cpu")]
    device: Device,
    #[command(flatten)]
    run: RunArgs,
}

/// Bins of the per-epoch weight and gradient histograms (TensorBoard's default count).
const HISTOGRAM_BINS: usize = 30;

/// The file name of the checkpoint in the output directory.
const CHECKPOINT_FILE: &str = "model.ckpt";

fn run(args: &Args) -> anyhow::Result<()> {
    // Refuse an unavailable device before spending a second on data.
    let device = args.device.open()?;
    let (train, test) = images::load_both_or_fetch(args.dataset, &images::default_data_dir())?;
    let config = Config {
        hidden: args.hidden.clone(),
        activation: args.activation,
        output_activation: None,
        init: args.init,
        lr: args.lr,
        momentum: args.momentum,
        weight_decay: args.weight_decay,
        lr_schedule: (args.lr_step > 0)
            .then_some(StepSchedule { step_size: args.lr_step, gamma: args.lr_gamma }),
        batch_size: args.batch_size,
        epochs: args.epochs,
    };
    let out = args.run.out_dir("mlp");
    let mut recorder = args.run.recorder(&out)?;
    let mut rng = args.run.rng();
    let bar = dlcore::progress::items(train.len() as u64, &format!("epoch 1/{}", args.epochs));
    let epochs = args.epochs;
    println!(
        "training {}-{}-{CLASSES} ({}, {} init) on {} with SGD lr {}, momentum {}, batch {}, {} epochs, on the {}",
        train.features(),
        args.hidden.iter().map(usize::to_string).collect::<Vec<_>>().join("-"),
        args.activation,
        args.init,
        args.dataset.title(),
        args.lr,
        args.momentum,
        args.batch_size,
        args.epochs,
        device.describe(),
    );
    let (net, reports) = mlp::train_on(
        &device,
        &config,
        &train,
        &test,
        CLASSES,
        &mut rng,
        |n| bar.inc(n as u64),
        |r: &EpochReport, net: &dyn Network| {
            bar.finish_and_clear();
            println!(
                "epoch {}/{epochs}: train loss {:.4}, train accuracy {:.2}%\n{}",
                r.epoch,
                r.train_loss,
                100.0 * r.train_accuracy,
                r.test_line()
            );
            recorder.record_epoch(&r.metrics_row())?;
            for (tag, values) in net.tensors()? {
                recorder.record_histogram(r.epoch, &tag, &values, HISTOGRAM_BINS)?;
            }
            bar.reset();
            bar.set_prefix(format!("epoch {}/{epochs}", r.epoch + 1));
            Ok(())
        },
    )?;
    bar.finish_and_clear();
    let last = reports.last().context("no epoch ran")?;

    let checkpoint =
        Checkpoint { dataset: args.dataset, activation: args.activation, output_activation: None, net };
    let checkpoint_path = out.join(CHECKPOINT_FILE);
    checkpoint.save(&checkpoint_path)?;
    curves(&out.join("curves.svg"), args.dataset, &reports)?;
    let table = markdown(args, &reports);
    dlcore::atomic_file::write_bytes(&out.join("training.md"), table.as_bytes())?;

    let summary = Summary::new("mlp", args.run.seed)
        .param("dataset", args.dataset.to_string())
        .param("hidden", args.hidden.clone())
        .param("activation", args.activation.to_string())
        .param("init", args.init.to_string())
        .param("lr", args.lr)
        .param("momentum", args.momentum)
        .param("weight_decay", args.weight_decay)
        .param("lr_step", args.lr_step)
        .param("lr_gamma", args.lr_gamma)
        .param("batch_size", args.batch_size)
        .param("epochs", args.epochs)
        .param("device", args.device.to_string())
        .metric("train_loss", f64::from(last.train_loss))
        .metric("train_accuracy", f64::from(last.train_accuracy))
        .metric("test_loss", f64::from(last.test_loss))
        .metric("test_accuracy", f64::from(last.test_accuracy()));
    recorder.finish(&summary)?;
    println!("\n{table}");
    println!(
        "reached {:.2}% test accuracy; metrics, summary, curves and the checkpoint {CHECKPOINT_FILE} are in {}",
        100.0 * last.test_accuracy(),
        out.display()
    );
    Ok(())
}

/// Two panels: the training and test loss (log scale), and the test accuracy.
fn curves(path: &std::path::Path, dataset: ImageSet, reports: &[EpochReport]) -> anyhow::Result<()> {
    let per_epoch = |f: fn(&EpochReport) -> f64| reports.iter().map(f).collect::<Vec<f64>>();
    let x_range = (0.5, reports.len() as f64 + 0.5);
    let loss = Chart::new(format!("{}: loss", dataset.title()))
        .x_label("epoch")
        .x_range(x_range.0, x_range.1)
        .log_y()
        .series(Series::from_ys("train", &per_epoch(|r| f64::from(r.train_loss))).style(Style::LinePoints))
        .series(Series::from_ys("test", &per_epoch(|r| f64::from(r.test_loss))).style(Style::LinePoints));
    let accuracy = Chart::new(format!("{}: accuracy (%)", dataset.title()))
        .x_label("epoch")
        .x_range(x_range.0, x_range.1)
        .series(
            Series::from_ys("train", &per_epoch(|r| 100.0 * f64::from(r.train_accuracy)))
                .style(Style::LinePoints),
        )
        .series(
            Series::from_ys("test", &per_epoch(|r| 100.0 * f64::from(r.test_accuracy())))
                .style(Style::LinePoints),
        );
    panels(path, &[loss, accuracy], 2)?;
    Ok(())
}

/// The per-epoch table and a closing sentence with the final numbers, for the book.
fn markdown(args: &Args, reports: &[EpochReport]) -> String {
    let mut out = String::from(
        "| epoch | train loss | train accuracy | test loss | test accuracy |\n|---:|---:|---:|---:|---:|\n",
    );
    for r in reports {
        let _ = writeln!(
            out,
            "| {} | {:.4} | {:.2} % | {:.4} | {:.2} % |",
            r.epoch,
            r.train_loss,
            100.0 * r.train_accuracy,
            r.test_loss,
            100.0 * r.test_accuracy()
        );
    }
    if let Some(last) = reports.last() {
        let best = reports.iter().min_by(|a, b| a.test_loss.total_cmp(&b.test_loss)).unwrap_or(last);
        let _ = write!(
            out,
            "\nAfter {} epochs (seed {}) the network classifies **{} of {}** test images correctly: \
             **{:.2} %** test accuracy, with a training loss of {:.4} against a test loss of {:.4}. \
             The test loss was lowest, {:.4}, after epoch {}.\n",
            last.epoch,
            args.run.seed,
            last.test_correct,
            last.test_total,
            100.0 * last.test_accuracy(),
            last.train_loss,
            last.test_loss,
            best.test_loss,
            best.epoch,
        );
    }
    out
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse()))
}
