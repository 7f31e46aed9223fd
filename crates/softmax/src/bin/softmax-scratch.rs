//! Softmax regression from scratch: the model, softmax, cross-entropy, gradient and
//! SGD update written out in `softmax::scratch`, trained on Fashion-MNIST (or MNIST).
//! `cargo run --release -p softmax`.

use std::process::ExitCode;

use clap::Parser;
use softmax::run::{Implementation, TrainArgs, run};

/// Train softmax regression written from scratch; print and record the three curves.
#[derive(Debug, Parser)]
#[command(version, about, allow_negative_numbers = true)]
struct Args {
    #[command(flatten)]
    train: TrainArgs,
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse().train, Implementation::Scratch))
}
