//! The notes' initialization experiment: 784-200-200-10 on MNIST, plain SGD at
//! lr 0.01, batch 200, 10 epochs; weights N(0, 1) or Kaiming, logits plain or
//! through the notes' ReLU. Four curves of test accuracy and of training loss.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use dlcore::cli::{RunArgs, positive_f32, positive_usize};
use dlcore::data::images::{self, CLASSES, ImageSet, standardize};
use dlcore::plot::{Chart, Legend, Series, Style, panels};
use dlcore::record::Summary;
use mlp::EpochReport;
use mlp::init_compare::{VARIANTS, Variant, config, initial_logit_std};

/// Compare N(0, 1) and Kaiming initialization, with and without a ReLU on the logits.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Learning rate (plain SGD, no momentum).
    #[arg(long, default_value_t = 0.01, value_parser = positive_f32)]
    lr: f32,
    /// Examples per minibatch.
    #[arg(long, default_value_t = 200, value_parser = positive_usize)]
    batch_size: usize,
    /// Passes over the training set.
    #[arg(long, default_value_t = 10, value_parser = positive_usize)]
    epochs: usize,
    /// Standardize the pixels (mean 0.1307, sd 0.3081 on MNIST: the notes'
    /// `Normalize`) instead of using them as they are, in [0, 1].
    #[arg(long)]
    standardize: bool,
    #[command(flatten)]
    run: RunArgs,
}

/// One variant's outcome.
struct Outcome {
    variant: Variant,
    logit_std: f32,
    reports: Vec<EpochReport>,
}

fn run(args: &Args) -> anyhow::Result<()> {
    let (mut train, mut test) = images::load_both_or_fetch(ImageSet::Mnist, &images::default_data_dir())?;
    if args.standardize {
        let s = standardize(&mut train, &mut [&mut test]);
        println!("standardized the pixels with mean {:.4} and sd {:.4}", s.mean, s.std);
    }
    let out = args.run.out_dir("init-compare");
    let mut recorder = args.run.recorder(&out)?;
    let probe = test.x.columns(0, 1000).into_owned();
    let mut outcomes = Vec::with_capacity(VARIANTS.len());
    for (index, variant) in VARIANTS.iter().enumerate() {
        let config = config(variant, args.lr, args.batch_size, args.epochs);
        let logit_std = initial_logit_std(&config, &probe, CLASSES, args.run.seed);
        println!("{}: initial logits have standard deviation {logit_std:.3}", variant.name);
        let bar = dlcore::progress::items((train.len() * args.epochs) as u64, variant.name);
        let (_, reports) = mlp::train(
            &config,
            &train,
            &test,
            CLASSES,
            &mut args.run.rng(),
            |n| bar.inc(n as u64),
            |r, _| {
                bar.println(format!(
                    "  epoch {}: train loss {:.4}, {}, dead outputs {}, blocked {:.1}%",
                    r.epoch,
                    r.train_loss,
                    r.test_line(),
                    r.dead_outputs,
                    100.0 * r.blocked_share
                ));
                recorder.record_epoch_of(&[("variant", index as f64)], &r.metrics_row())?;
                Ok(())
            },
        )?;
        bar.finish_and_clear();
        let last = reports.last().context("no epoch ran")?;
        println!(
            "{}: {}, dead output units {}, blocked training images {:.1}%",
            variant.name,
            last.test_line(),
            last.dead_outputs,
            100.0 * last.blocked_share
        );
        outcomes.push(Outcome { variant: *variant, logit_std, reports });
    }

    figure(&out.join("init-compare.svg"), &outcomes)?;
    let table = markdown(args, &outcomes, &test.y);
    dlcore::atomic_file::write_bytes(&out.join("init-compare.md"), table.as_bytes())?;
    println!("\n{table}");
    let mut summary = Summary::new("init-compare", args.run.seed)
        .param("hidden", vec![200, 200])
        .param("lr", args.lr)
        .param("batch_size", args.batch_size)
        .param("epochs", args.epochs)
        .param("standardize", args.standardize);
    for outcome in &outcomes {
        if let Some(last) = outcome.reports.last() {
            let name = outcome.variant.name;
            summary = summary
                .metric(format!("{name}/test_accuracy"), f64::from(last.test_accuracy()))
                .metric(format!("{name}/train_loss"), f64::from(last.train_loss))
                .metric(format!("{name}/dead_outputs"), last.dead_outputs as f64)
                .metric(format!("{name}/blocked_share"), f64::from(last.blocked_share))
                .metric(format!("{name}/initial_logit_std"), f64::from(outcome.logit_std));
        }
    }
    recorder.finish(&summary)?;
    Ok(())
}

/// Test accuracy and training loss (log scale) per epoch, one line per variant:
/// colour tells the initialization, a dashed line the ReLU on the logits.
fn figure(path: &std::path::Path, outcomes: &[Outcome]) -> anyhow::Result<()> {
    let epochs = outcomes.iter().map(|o| o.reports.len()).max().unwrap_or(1) as f64;
    let mut accuracy =
        Chart::new("test accuracy (%)").x_label("epoch").x_range(0.5, epochs + 0.5).y_range(0.0, 100.0);
    // One legend is enough: the loss panel shares the accuracy panel's colours and
    // dashes, and its own would cover the curves.
    let mut loss = Chart::new("training loss")
        .x_label("epoch")
        .x_range(0.5, epochs + 0.5)
        .log_y()
        .legend(Legend::Hidden)
        .hline(10f64.ln(), "");
    for outcome in outcomes {
        let v = &outcome.variant;
        let color = if v.name.starts_with("Kaiming") { 0 } else { 3 };
        let style = if v.output_activation.is_some() { Style::Dashed } else { Style::LinePoints };
        let acc: Vec<f64> = outcome.reports.iter().map(|r| 100.0 * f64::from(r.test_accuracy())).collect();
        let losses: Vec<f32> = outcome.reports.iter().map(|r| r.train_loss).collect();
        accuracy = accuracy.series(Series::from_ys(v.name, &acc).style(style).color(color));
        loss = loss.series(Series::from_ys(v.name, &losses).style(style).color(color));
    }
    panels(path, &[accuracy, loss], 2)?;
    Ok(())
}

fn markdown(args: &Args, outcomes: &[Outcome], test_labels: &[u8]) -> String {
    let mut out = String::from(
        "| weights, logits | initial logit sd | epoch-1 train loss | final train loss | final test accuracy | dead output units | blocked training images |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    for outcome in outcomes {
        let (Some(first), Some(last)) = (outcome.reports.first(), outcome.reports.last()) else { continue };
        let _ = writeln!(
            out,
            "| {} | {:.3} | {:.3} | {:.3} | {:.2} % | {} of {CLASSES} | {:.2} % |",
            outcome.variant.name,
            outcome.logit_std,
            first.train_loss,
            last.train_loss,
            100.0 * last.test_accuracy(),
            last.dead_outputs,
            100.0 * last.blocked_share
        );
    }
    let zeros = test_labels.iter().filter(|&&y| y == 0).count();
    let _ = write!(
        out,
        "\nThe test set holds {zeros} zeros among its {} images ({:.2} %); ln 10 = {:.4}. \
         Seed {}, learning rate {}, batch {}, {} epochs, pixels {}.\n",
        test_labels.len(),
        100.0 * zeros as f64 / test_labels.len().max(1) as f64,
        10f64.ln(),
        args.run.seed,
        args.lr,
        args.batch_size,
        args.epochs,
        if args.standardize { "standardized" } else { "in [0, 1]" }
    );
    out
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse()))
}
