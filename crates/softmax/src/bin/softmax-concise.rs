//! Softmax regression with `dlcore`'s Linear layer, cross-entropy and SGD: the same
//! model as `softmax-scratch`, in a few calls.
//! `cargo run --release -p softmax --bin softmax-concise`.

use std::process::ExitCode;

use clap::Parser;
use softmax::run::{Implementation, TrainArgs, run};

/// Train softmax regression built from dlcore's layer, loss and optimizer.
#[derive(Debug, Parser)]
#[command(version, about, allow_negative_numbers = true)]
struct Args {
    #[command(flatten)]
    train: TrainArgs,
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse().train, Implementation::Concise))
}
