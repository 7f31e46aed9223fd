//! Linear regression from scratch on synthetic data, the chapter's main job:
//! `cargo run --release -p linreg`. Prints the loss per epoch and the learned
//! parameters beside the true ones; with `--compare-lr` it also trains at several
//! learning rates and draws what each does.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use dlcore::cli::{RunArgs, positive_f32};
use dlcore::record::Summary;
use linreg::cli::{TrainingArgs, with_config, with_estimate};
use linreg::{Estimate, History, report, scratch, sweep};

/// Train linear regression written from scratch (model, loss, gradient, SGD) on
/// synthetic data with known parameters.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    #[command(flatten)]
    training: TrainingArgs,
    /// Also train at each of these learning rates (comma-separated, e.g.
    /// 0.003,0.03,0.3,3) and draw their loss curves in learning-rates.svg.
    #[arg(long, value_delimiter = ',', value_parser = positive_f32)]
    compare_lr: Vec<f32>,
    #[command(flatten)]
    run: RunArgs,
}

fn run(args: &Args) -> anyhow::Result<()> {
    let config = args.training.config();
    let out = args.run.out_dir("linreg-scratch");
    let mut recorder = args.run.recorder(&out)?;
    let mut rng = args.run.rng();
    let data = linreg::synthetic_data(&config, &mut rng);
    report::data_figure(&out.join("data.svg"), &data)?;

    let mut history = History::default();
    let trained = scratch::train(&config, &data, &mut rng, &mut history);
    for (epoch, (loss, estimate)) in history.epoch_losses.iter().zip(&history.epoch_estimates).enumerate() {
        if epoch > 0 {
            println!("epoch {epoch}, loss {loss:.6e}");
        }
        let mut row = vec![("epoch", epoch as f64), ("train_loss", f64::from(*loss))];
        let names = ["w1", "w2"];
        row.extend(names.iter().zip(&estimate.w).map(|(n, w)| (*n, f64::from(*w))));
        row.push(("b", f64::from(estimate.b)));
        recorder.record_epoch(&row)?;
    }
    let model = trained.with_context(|| format!("stopped after {} SGD steps", history.batch_losses.len()))?;
    let learned = model.estimate();
    let truth = Estimate::truth();
    println!("true w {:?}, learned w {:?}", truth.w, learned.w);
    println!("true b {}, learned b {}", truth.b, learned.b);
    println!("largest parameter error {:.2e}", learned.max_error());

    report::write_markdown(&out.join("scratch-epochs.md"), &report::epoch_table(&history))?;
    let table = report::estimate_table(&[("SGD from scratch", &learned)], &data);
    report::write_markdown(&out.join("scratch-estimate.md"), &table)?;

    if !args.compare_lr.is_empty() {
        let runs = sweep::learning_rates(&config, &args.compare_lr, args.run.seed);
        println!("\nlearning rates:");
        for run in &runs {
            match &run.outcome {
                Ok(estimate) => println!(
                    "  η = {}: training loss {:.3e}, largest parameter error {:.1e}",
                    run.lr,
                    run.history.final_loss().unwrap_or(f32::NAN),
                    estimate.max_error()
                ),
                Err(error) => {
                    println!("  η = {}: {error} (after {} SGD steps)", run.lr, run.history.batch_losses.len())
                }
            }
        }
        report::learning_rate_figure(&out.join("learning-rates.svg"), &config, &runs)?;
        report::write_markdown(&out.join("learning-rates.md"), &report::sweep_table(&runs))?;
    }

    let final_loss = history.final_loss().context("no epoch ran")?;
    let summary = with_config(Summary::new("linreg-scratch", args.run.seed), &config)
        .param("compare_lr", args.compare_lr.clone())
        .metric("train_loss", f64::from(final_loss));
    recorder.finish(&with_estimate(summary, "", &learned))?;
    println!("metrics, summary and figures in {}", out.display());
    Ok(())
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse()))
}
