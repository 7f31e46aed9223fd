//! Linear regression with dlcore's `Linear` layer, squared loss and `Sgd`, trained
//! beside the from-scratch version on the same data, from the same starting
//! weights and through the same minibatches, to show the two compute the same thing.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use dlcore::cli::RunArgs;
use dlcore::record::Summary;
use linreg::cli::{TrainingArgs, with_config, with_estimate};
use linreg::{Estimate, History, concise, report, scratch};

/// Train linear regression with dlcore's layer, loss and optimizer, and compare it
/// with the from-scratch version.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    #[command(flatten)]
    training: TrainingArgs,
    #[command(flatten)]
    run: RunArgs,
}

fn run(args: &Args) -> anyhow::Result<()> {
    let config = args.training.config();
    let out = args.run.out_dir("linreg-concise");
    let mut recorder = args.run.recorder(&out)?;

    // Two runs from the same seed: same data, same initial weights, same batches.
    let mut rng = args.run.rng();
    let data = linreg::synthetic_data(&config, &mut rng);
    let mut concise_history = History::default();
    let trained = concise::train(&config, &data, &mut rng, &mut concise_history);
    let mut rng = args.run.rng();
    let scratch_data = linreg::synthetic_data(&config, &mut rng);
    let mut scratch_history = History::default();
    let scratch_trained = scratch::train(&config, &scratch_data, &mut rng, &mut scratch_history);

    for (epoch, (c, s)) in concise_history.epoch_losses.iter().zip(&scratch_history.epoch_losses).enumerate()
    {
        if epoch > 0 {
            println!("epoch {epoch}, loss {c:.6e} (from scratch: {s:.6e})");
        }
        recorder.record_epoch(&[
            ("epoch", epoch as f64),
            ("train_loss", f64::from(*c)),
            ("scratch_train_loss", f64::from(*s)),
        ])?;
    }
    let steps = concise_history.batch_losses.len();
    let learned = concise::estimate(&trained.with_context(|| format!("stopped after {steps} SGD steps"))?);
    let from_scratch = scratch_trained.context("the from-scratch run")?.estimate();
    let truth = Estimate::truth();
    println!("true w {:?}, learned w {:?}", truth.w, learned.w);
    println!("true b {}, learned b {}", truth.b, learned.b);
    let difference = learned.max_difference(&from_scratch);
    println!(
        "largest parameter error {:.2e}; largest difference from scratch {difference:.1e}",
        learned.max_error()
    );

    report::loss_figure(&out.join("loss.svg"), &config, &scratch_history, &concise_history)?;
    let table =
        report::estimate_table(&[("SGD from scratch", &from_scratch), ("SGD with dlcore", &learned)], &data);
    let loss_difference = (concise_history.final_loss().unwrap_or(f32::NAN)
        - scratch_history.final_loss().unwrap_or(f32::NAN))
    .abs();
    let text = format!(
        "{table}\nThe two runs' parameters {}; their final training losses {}.\n",
        report::differ_by(difference),
        report::differ_by(loss_difference)
    );
    report::write_markdown(&out.join("concise.md"), &text)?;

    let final_loss = concise_history.final_loss().context("no epoch ran")?;
    let summary = with_config(Summary::new("linreg-concise", args.run.seed), &config)
        .metric("train_loss", f64::from(final_loss))
        .metric("max_difference_from_scratch", f64::from(difference));
    recorder.finish(&with_estimate(summary, "", &learned))?;
    println!("metrics, summary and figures in {}", out.display());
    Ok(())
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse()))
}
