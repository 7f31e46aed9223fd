//! The project's main job: train an MLP on MNIST and report the test accuracy it
//! reaches. `cargo run --release -p mlp`.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use dlcore::activation::Activation;
use dlcore::cli::{RunArgs, non_negative_f32, positive_f32, positive_usize};
use dlcore::data::images::{self, ImageSet, Split};
use dlcore::init::Init;
use dlcore::record::{Recorder, Summary};
use mlp::{Config, EpochReport};

/// Train a multilayer perceptron on MNIST (or Fashion-MNIST) and report test accuracy.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Data set to train on.
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
    /// Examples per minibatch.
    #[arg(long, default_value_t = 128, value_parser = positive_usize)]
    batch_size: usize,
    /// Passes over the training set.
    #[arg(long, default_value_t = 10, value_parser = positive_usize)]
    epochs: usize,
    #[command(flatten)]
    run: RunArgs,
}

fn run(args: &Args) -> anyhow::Result<()> {
    let data_dir = images::default_data_dir();
    let train = images::load_or_fetch(args.dataset, Split::Train, &data_dir)?;
    let test = images::load_or_fetch(args.dataset, Split::Test, &data_dir)?;
    let config = Config {
        hidden: args.hidden.clone(),
        activation: args.activation,
        init: args.init,
        lr: args.lr,
        momentum: args.momentum,
        weight_decay: args.weight_decay,
        batch_size: args.batch_size,
        epochs: args.epochs,
    };
    let out = args.run.out_dir("mlp");
    let mut recorder = Recorder::create(&out)?;
    let mut rng = args.run.rng();
    let bar = dlcore::progress::items(train.len() as u64, &format!("epoch 1/{}", args.epochs));
    let epochs = args.epochs;
    let (_net, reports) = mlp::train(
        &config,
        &train,
        &test,
        10,
        &mut rng,
        |n| bar.inc(n as u64),
        |r: &EpochReport| {
            bar.finish_and_clear();
            println!(
                "epoch {}/{epochs}: train loss {:.4}, train accuracy {:.2}%\nTest set: Average loss: {:.4}, Accuracy: {}/{} ({:.2}%)",
                r.epoch,
                r.train_loss,
                100.0 * r.train_accuracy,
                r.test_loss,
                r.test_correct,
                r.test_total,
                100.0 * r.test_accuracy()
            );
            recorder.record_epoch(&[
                ("epoch", r.epoch as f64),
                ("lr", f64::from(r.lr)),
                ("train_loss", f64::from(r.train_loss)),
                ("train_accuracy", f64::from(r.train_accuracy)),
                ("test_loss", f64::from(r.test_loss)),
                ("test_accuracy", f64::from(r.test_accuracy())),
            ])?;
            bar.reset();
            bar.set_prefix(format!("epoch {}/{epochs}", r.epoch + 1));
            Ok(())
        },
    )?;
    bar.finish_and_clear();
    let last = reports.last().context("no epoch ran")?;
    let summary = Summary::new("mlp", args.run.seed)
        .param("dataset", args.dataset.to_string())
        .param("hidden", format!("{:?}", args.hidden))
        .param("activation", args.activation.to_string())
        .param("init", args.init.to_string())
        .param("lr", args.lr)
        .param("momentum", args.momentum)
        .param("weight_decay", args.weight_decay)
        .param("batch_size", args.batch_size)
        .param("epochs", args.epochs)
        .metric("train_loss", f64::from(last.train_loss))
        .metric("test_loss", f64::from(last.test_loss))
        .metric("test_accuracy", f64::from(last.test_accuracy()));
    recorder.finish(&summary)?;
    println!("\n| epoch | train loss | test loss | test accuracy |\n|---:|---:|---:|---:|");
    for r in &reports {
        println!(
            "| {} | {:.4} | {:.4} | {:.2}% |",
            r.epoch,
            r.train_loss,
            r.test_loss,
            100.0 * r.test_accuracy()
        );
    }
    println!(
        "\nreached {:.2}% test accuracy; metrics and summary in {}",
        100.0 * last.test_accuracy(),
        out.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse()))
}
