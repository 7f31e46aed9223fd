//! The sigmoid and its derivative, with the derivative's ceiling of 0.25 marked:
//! however the weights are set, each sigmoid layer scales a gradient by at most ¼.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use dlcore::activation::{sigmoid, sigmoid_derivative};
use dlcore::cli::{RunArgs, positive_f32, positive_usize};
use dlcore::plot::{Chart, Series, line_chart};
use dlcore::record::Summary;
use init_stability::sci;

/// Plot σ and σ′ with the 0.25 ceiling, and tabulate how fast 0.25^L shrinks.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The plot spans [-range, range].
    #[arg(long, default_value_t = 8.0, value_parser = positive_f32)]
    range: f32,
    /// Points at which σ′ is evaluated (and searched for its maximum).
    #[arg(long, default_value_t = 1601, value_parser = positive_usize)]
    points: usize,
    #[command(flatten)]
    run: RunArgs,
}

fn run(args: &Args) -> anyhow::Result<()> {
    let out = args.run.out_dir("sigmoid-gradient");
    let mut recorder = args.run.recorder(&out)?;
    let r = f64::from(args.range);
    let points = args.points.max(2);
    let chart = Chart::new("sigmoid and its derivative")
        .x_label("z")
        .series(Series::from_fn("σ(z)", (-r, r), points, |z| f64::from(sigmoid(z as f32))))
        .series(
            Series::from_fn("σ′(z) = σ(z)(1 − σ(z))", (-r, r), points, |z| {
                f64::from(sigmoid_derivative(z as f32))
            })
            .dashed(),
        )
        .hline(0.25, "σ′ ≤ 0.25");
    let svg = out.join("sigmoid-gradient.svg");
    line_chart(&svg, &chart)?;

    // The largest σ′ on the grid, found by evaluating rather than assumed.
    let grid = chart.series[1].points.clone();
    let (argmax, max) = grid
        .iter()
        .copied()
        .fold((f64::NAN, f64::NEG_INFINITY), |best, p| if p.1 > best.1 { p } else { best });
    for &(z, d) in &grid {
        recorder.record_epoch(&[("z", z), ("sigmoid", f64::from(sigmoid(z as f32))), ("derivative", d)])?;
    }

    let mut markdown = String::from("| z | σ(z) | σ′(z) |\n|---:|---:|---:|\n");
    for z in [0.0f32, 1.0, 2.0, 4.0, 8.0] {
        let _ = writeln!(markdown, "| {z} | {:.4} | {} |", sigmoid(z), sci(f64::from(sigmoid_derivative(z))));
    }
    let _ = writeln!(
        markdown,
        "\n| sigmoid layers L | 0.25^L, the most that L factors of σ′ let through |\n|---:|---:|"
    );
    for layers in [1, 5, 10, 20, 30] {
        let _ = writeln!(markdown, "| {layers} | {} |", sci(0.25f64.powi(layers)));
    }
    print!("{markdown}");
    let md = out.join("sigmoid-gradient.md");
    dlcore::atomic_file::write_bytes(&md, markdown.as_bytes()).context("writing the table")?;
    println!("largest σ′ on the grid: {max} at z = {argmax}");

    let summary = Summary::new("sigmoid-gradient", args.run.seed)
        .param("range", r)
        .param("points", points)
        .metric("max_derivative", max)
        .metric("argmax_derivative", argmax)
        .metric("ceiling_power_20", 0.25f64.powi(20));
    recorder.finish(&summary)?;
    eprintln!("wrote {}, {} and the run record in {}", svg.display(), md.display(), out.display());
    Ok(())
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse()))
}
