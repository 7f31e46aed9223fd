//! Symmetry: an MLP whose weights all start at the same constant trains on MNIST for
//! a few hundred steps, and so does one with random weights. The constant one's
//! hidden units stay identical (its first layer's rows, drawn as images, are all the
//! same picture); the random one's do not.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;

use clap::Parser;
use dlcore::activation::Activation;
use dlcore::cli::{RunArgs, positive_f32, positive_usize};
use dlcore::data::images::{self, ImageSet};
use dlcore::init::Init;
use dlcore::plot::{Chart, Legend, Series, Tile, image_grid, panels};
use dlcore::record::Summary;
use init_stability::flow::init_label;
use init_stability::sci;
use init_stability::symmetry::{SymmetryConfig, SymmetryRun, first_layer, train_steps};

/// Train the same MLP from constant and from random weights, and compare its hidden units.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The value every weight starts at in the constant network.
    #[arg(long, default_value_t = 0.01, allow_negative_numbers = true, value_parser = finite_f32)]
    constant: f32,
    /// The random initializer to compare with: xavier, kaiming, normal:<std>, …
    #[arg(long, default_value = "xavier")]
    random: Init,
    /// Hidden units.
    #[arg(long, default_value_t = 16, value_parser = positive_usize)]
    hidden: usize,
    /// sigmoid, tanh, relu, …
    #[arg(long, default_value = "sigmoid")]
    activation: Activation,
    /// Learning rate.
    #[arg(long, default_value_t = 0.5, value_parser = positive_f32)]
    lr: f32,
    /// Examples per minibatch.
    #[arg(long, default_value_t = 64, value_parser = positive_usize)]
    batch_size: usize,
    /// SGD steps.
    #[arg(long, default_value_t = 300, value_parser = positive_usize)]
    steps: usize,
    /// Hidden units drawn as images.
    #[arg(long, default_value_t = 8, value_parser = positive_usize)]
    show: usize,
    /// Data set to train on.
    #[arg(long, default_value = "mnist")]
    dataset: ImageSet,
    #[command(flatten)]
    run: RunArgs,
}

/// The table averages the training loss over the last this many steps.
const TAIL: usize = 20;

/// Mean of the last [`TAIL`] values: one step's batch loss is noisy.
fn tail_mean(values: &[f32]) -> f64 {
    let tail = &values[values.len().saturating_sub(TAIL)..];
    tail.iter().map(|&v| f64::from(v)).sum::<f64>() / tail.len().max(1) as f64
}

fn finite_f32(s: &str) -> Result<f32, String> {
    match s.parse::<f32>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("must be a finite number, got {s}")),
    }
}

/// The first `show` hidden units' incoming weights as 28×28 images, scaled together
/// so that the network's smallest weight is black and its largest white.
fn unit_images(run: &SymmetryRun, show: usize) -> Vec<Vec<f32>> {
    let w = &first_layer(&run.net).weight;
    let (lo, hi) = (w.min(), w.max());
    let scale = if hi > lo { hi - lo } else { 1.0 };
    (0..show.min(w.nrows())).map(|j| w.row(j).iter().map(|&v| (v - lo) / scale).collect()).collect()
}

fn run(args: &Args) -> anyhow::Result<()> {
    let (train, test) = images::load_both_or_fetch(args.dataset, &images::default_data_dir())?;
    let out = args.run.out_dir("symmetry");
    let mut recorder = args.run.recorder(&out)?;
    let config = SymmetryConfig {
        hidden: args.hidden,
        activation: args.activation,
        lr: args.lr,
        batch_size: args.batch_size,
        steps: args.steps,
    };
    let constant_init = Init::Constant(args.constant);
    let mut rng = args.run.rng();
    let constant = train_steps(&config, constant_init, &train, &test, 10, &mut rng.clone())?;
    let random = train_steps(&config, args.random, &train, &test, 10, &mut rng)?;
    let (constant_name, random_name) = (init_label(constant_init), init_label(args.random));

    for step in 0..args.steps {
        recorder.record_epoch(&[
            ("step", (step + 1) as f64),
            ("constant_loss", f64::from(constant.losses[step])),
            ("random_loss", f64::from(random.losses[step])),
            ("constant_row_spread", f64::from(constant.spread[step])),
            ("random_row_spread", f64::from(random.spread[step])),
        ])?;
    }

    // The legend goes once, above the spread curves: the y range leaves it room there.
    let top = constant.spread.iter().chain(&random.spread).fold(0.0f32, |m, &v| m.max(v));
    let top = if top > 0.0 { 1.8 * f64::from(top) } else { 1.0 };
    let charts = [
        Chart::new("training loss")
            .x_label("step")
            .series(Series::from_ys(constant_name.clone(), &constant.losses).color(1))
            .series(Series::from_ys(random_name.clone(), &random.losses).color(0))
            .legend(Legend::Hidden),
        Chart::new("spread between hidden units")
            .x_label("step")
            .y_label("max |W[j, i] − W[1, i]|")
            .y_range(-0.05 * top, top)
            .series(Series::from_ys(constant_name.clone(), &constant.spread).color(1))
            .series(Series::from_ys(random_name.clone(), &random.spread).color(0))
            .legend(Legend::UpperLeft),
    ];
    let svg = out.join("symmetry.svg");
    panels(&svg, &charts, 2)?;

    let (constant_images, random_images) =
        (unit_images(&constant, args.show), unit_images(&random, args.show));
    let side = (train.features() as f64).sqrt() as usize;
    let mut tiles = Vec::new();
    for (name, images) in [(&constant_name, &constant_images), (&random_name, &random_images)] {
        for (j, pixels) in images.iter().enumerate() {
            tiles.push(Tile::new(pixels, side, side, format!("{name}\nunit {}", j + 1)));
        }
    }
    let png = out.join("symmetry-units.png");
    image_grid(&png, &tiles, constant_images.len().max(1))?;

    let last = |v: &[f32]| f64::from(v.last().copied().unwrap_or(f32::NAN));
    println!(
        "after {} steps: constant {}: row spread {}, test accuracy {:.2}%; {random_name}: row spread {}, test accuracy {:.2}%",
        args.steps,
        args.constant,
        last(&constant.spread),
        100.0 * constant.test_accuracy,
        last(&random.spread),
        100.0 * random.test_accuracy
    );
    let mut markdown = format!(
        "| initial weights | largest \\|W[j, i] − W[1, i]\\| after training | training loss, last {tail} steps | test accuracy |\n|---|---:|---:|---:|\n",
        tail = TAIL.min(args.steps)
    );
    for (name, result) in [(&constant_name, &constant), (&random_name, &random)] {
        let _ = writeln!(
            markdown,
            "| {name} | {} | {:.3} | {:.1}% |",
            sci(last(&result.spread)),
            tail_mean(&result.losses),
            100.0 * result.test_accuracy
        );
    }
    dlcore::atomic_file::write_bytes(&out.join("symmetry.md"), markdown.as_bytes())
        .context("writing the table")?;

    let summary = Summary::new("symmetry", args.run.seed)
        .param("dataset", args.dataset.to_string())
        .param("constant", args.constant)
        .param("random", args.random.to_string())
        .param("hidden", args.hidden)
        .param("activation", args.activation.to_string())
        .param("lr", args.lr)
        .param("batch_size", args.batch_size)
        .param("steps", args.steps)
        .metric("constant_row_spread", last(&constant.spread))
        .metric("random_row_spread", last(&random.spread))
        .metric("constant_train_loss", last(&constant.losses))
        .metric("random_train_loss", last(&random.losses))
        .metric("constant_test_accuracy", f64::from(constant.test_accuracy))
        .metric("random_test_accuracy", f64::from(random.test_accuracy));
    recorder.finish(&summary)?;
    eprintln!(
        "wrote {}, {}, symmetry.md and the run record in {}",
        svg.display(),
        png.display(),
        out.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse()))
}
