//! The six activation functions and their derivatives: a figure, and tables of
//! values at the points the source notes print.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use dlcore::activation::Activation;
use dlcore::cli::RunArgs;
use dlcore::plot::{Chart, Series, panels};
use dlcore::record::Summary;

/// Plot every activation with its derivative and print their values.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    #[command(flatten)]
    run: RunArgs,
}

/// `n` evenly spaced points from `a` to `b`, both included, like `torch.linspace`.
fn linspace(a: f32, b: f32, n: usize) -> Vec<f32> {
    (0..n).map(|i| a + (b - a) * i as f32 / (n - 1) as f32).collect()
}

fn figure(activation: Activation) -> Chart {
    let range = (-6.0, 6.0);
    let mut chart = Chart::new(activation.name())
        .x_label("z")
        .series(Series::from_fn("value", range, 241, |z| f64::from(activation.value(z as f32))))
        .series(
            Series::from_fn("derivative", range, 241, |z| f64::from(activation.derivative(z as f32)))
                .dashed(),
        );
    if activation == Activation::Sigmoid {
        chart = chart.hline(0.25, "0.25");
    }
    chart
}

/// A markdown table: one row per point, one column per activation.
fn table(points: &[f32], f: impl Fn(Activation, f32) -> f32) -> String {
    let mut out = String::from("| z |");
    for a in Activation::ALL {
        let _ = write!(out, " {} |", a.name());
    }
    out.push_str("\n|---:|");
    out.push_str(&"---:|".repeat(Activation::ALL.len()));
    for &z in points {
        let _ = write!(out, "\n| {z:.4} |");
        for a in Activation::ALL {
            let _ = write!(out, " {:.4} |", f(a, z));
        }
    }
    out.push('\n');
    out
}

fn run(args: &Args) -> anyhow::Result<()> {
    let out = args.run.out_dir("activations");
    let recorder = args.run.recorder(&out)?;
    let charts: Vec<Chart> = Activation::ALL.into_iter().map(figure).collect();
    let svg = out.join("activations.svg");
    panels(&svg, &charts, 3)?;

    let mut sigmoid_table = String::from("| z | sigmoid(z) |\n|---:|---:|");
    for z in linspace(-100.0, 100.0, 10) {
        let _ = write!(sigmoid_table, "\n| {z:.4} | {:.4e} |", dlcore::activation::sigmoid(z));
    }
    let narrow = linspace(-1.0, 1.0, 10);
    let markdown = format!(
        "Sigmoid over `linspace(-100, 100, 10)`:\n\n{sigmoid_table}\n\n\
         Values over `linspace(-1, 1, 10)`:\n\n{}\nDerivatives at the same points:\n\n{}",
        table(&narrow, Activation::value),
        table(&narrow, Activation::derivative),
    );
    print!("{markdown}");
    let md = out.join("activations.md");
    dlcore::atomic_file::write_bytes(&md, markdown.as_bytes()).with_context(|| "writing the tables")?;
    // The facts the chapter leans on, measured from the functions themselves.
    let grid = linspace(-6.0, 6.0, 12_001);
    let steepest = |a: Activation| grid.iter().map(|&z| a.derivative(z)).fold(f32::MIN, f32::max);
    let summary = Summary::new("activations", args.run.seed)
        .metric("sigmoid_derivative_max", f64::from(steepest(Activation::Sigmoid)))
        .metric("tanh_derivative_max", f64::from(steepest(Activation::Tanh)))
        .metric("relu_derivative_max", f64::from(steepest(Activation::Relu)));
    recorder.finish(&summary)?;
    eprintln!("wrote {} and {}", svg.display(), md.display());
    Ok(())
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse()))
}
