//! The norm of every layer's weight gradient in a deep MLP after one backward pass,
//! for each activation × initializer: a chart per activation and a table. `cargo run --release -p init-stability`.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use dlcore::activation::Activation;
use dlcore::cli::RunArgs;
use dlcore::init::Init;
use dlcore::plot::{Chart, Legend, Series, Style, line_chart};
use dlcore::record::Summary;
use init_stability::flow::{self, DeepNet, Flow, GridArgs, init_label};
use init_stability::sci;

/// Per-layer weight-gradient norms of a deep MLP for each activation and initializer.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    #[command(flatten)]
    grid: GridArgs,
    #[command(flatten)]
    run: RunArgs,
}

/// One activation's chart: layers on x, the gradient norm on a log y axis, a line per initializer.
fn chart_for(activation: Activation, flows: &[&Flow]) -> Chart {
    let mut chart = Chart::new(activation.name()).x_label("layer").y_label("‖∂L/∂W‖").log_y();
    for (i, flow) in flows.iter().enumerate() {
        let points = flow.norms.iter().enumerate().map(|(l, &n)| ((l + 1) as f64, n));
        chart = chart.series(Series::new(init_label(flow.init), points).style(Style::LinePoints).color(i));
    }
    chart
}

/// The markdown table the book includes: one row per pair.
fn table(flows: &[Flow], layers: usize) -> String {
    let mut out = format!(
        "| activation | init | loss | ‖∂L/∂W₁‖ | ‖∂L/∂W{}‖ | first / last | max / min |\n|---|---|---:|---:|---:|---:|---:|\n",
        subscript(layers)
    );
    for f in flows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            f.activation,
            init_label(f.init),
            sci(f64::from(f.loss)),
            sci(f.norms[0]),
            sci(f.norms[layers - 1]),
            sci(f.first_over_last()),
            sci(f.spread())
        );
    }
    out
}

/// The theory beside the measurement: each initializer's weight variance and the
/// small-signal factor per layer (and over all the hidden layers) for each activation,
/// with the two frameworks' defaults added for comparison.
fn gains_table(net: &DeepNet, activations: &[Activation], inits: &[Init]) -> String {
    let n = net.width;
    let bound = 1.0 / (n as f32).sqrt();
    let defaults = [
        (Init::Uniform { low: -0.07, high: 0.07 }, "MXNet's default U(−0.07, 0.07)".to_string()),
        (
            Init::Uniform { low: -bound, high: bound },
            format!("PyTorch's default U(−1/√n, 1/√n) = U(−{bound}, {bound})"),
        ),
    ];
    let rows = inits.iter().map(|&i| (i, init_label(i))).chain(defaults);
    let mut out = format!("| init | Var[w] at n = {n} |");
    for a in activations {
        let _ = write!(out, " {a}: per layer → over {} layers |", net.depth);
    }
    out.push_str("\n|---|---:|");
    out.push_str(&"---:|".repeat(activations.len()));
    out.push('\n');
    for (init, label) in rows {
        let _ = write!(out, "| {label} | {} |", sci(f64::from(init.variance(n, n))));
        for &a in activations {
            let factor = flow::small_signal_factor(a, init, n);
            let _ = write!(out, " {} → {} |", sci(factor), sci(factor.powi(net.depth as i32)));
        }
        out.push('\n');
    }
    out
}

fn subscript(n: usize) -> String {
    n.to_string().chars().map(|c| char::from_u32(0x2080 + c.to_digit(10).unwrap_or(0)).unwrap_or(c)).collect()
}

fn run(args: &Args) -> anyhow::Result<()> {
    let net = args.grid.net()?;
    let out = args.run.out_dir("gradient-flow");
    let mut recorder = args.run.recorder(&out)?;
    let flows = flow::grid(&net, &args.grid.activations, &args.grid.inits, args.run.seed)?;
    let layers = net.dense_layers();

    let mut charts: Vec<Chart> = args
        .grid
        .activations
        .iter()
        .map(|&a| chart_for(a, &flows.iter().filter(|f| f.activation == a).collect::<Vec<_>>()))
        .collect();
    // One y range for every chart, in whole decades, so heights compare across
    // activations; a dozen empty decades below the data keep the legend off the lines.
    let finite = flows.iter().flat_map(|f| f.norms.iter().copied()).filter(|&n| n > 0.0 && n.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, 0.0f64), |(lo, hi), n| (lo.min(n), hi.max(n)));
    if lo < hi {
        let (lo, hi) = (10f64.powf(lo.log10().floor() - 12.0), 10f64.powf(hi.log10().ceil()));
        charts = charts.into_iter().map(|c| c.y_range(lo, hi).legend(Legend::LowerRight)).collect();
    }
    // One full-size chart per activation rather than small panels: the y axis spans
    // some 60 decades, and the legend needs room that a small panel does not have.
    let mut figures = Vec::new();
    for (activation, chart) in args.grid.activations.iter().zip(&charts) {
        let svg = out.join(format!("gradient-flow-{activation}.svg"));
        line_chart(&svg, chart)?;
        figures.push(svg.display().to_string());
    }

    // metrics.csv: one row per layer, one column per pair.
    let names: Vec<String> = flows.iter().map(|f| format!("{}/{}", f.activation, f.init)).collect();
    for layer in 0..layers {
        let mut row = vec![("layer", (layer + 1) as f64)];
        row.extend(names.iter().zip(&flows).map(|(n, f)| (n.as_str(), f.norms[layer])));
        recorder.record_epoch(&row)?;
    }

    let markdown = table(&flows, layers);
    print!("{markdown}");
    let md = out.join("gradient-flow.md");
    dlcore::atomic_file::write_bytes(&md, markdown.as_bytes()).context("writing the table")?;

    let gains = gains_table(&net, &args.grid.activations, &args.grid.inits);
    print!("\n{gains}");
    dlcore::atomic_file::write_bytes(&out.join("gains.md"), gains.as_bytes()).context("writing the gains")?;

    let mut summary = Summary::new("gradient-flow", args.run.seed)
        .param("depth", net.depth)
        .param("width", net.width)
        .param("classes", net.classes)
        .param("batch_size", net.batch)
        .param("activations", args.grid.activations.iter().map(|a| a.to_string()).collect::<Vec<_>>())
        .param("inits", args.grid.inits.iter().map(|i| i.to_string()).collect::<Vec<_>>());
    for (name, f) in names.iter().zip(&flows) {
        summary = summary
            .metric(format!("{name}/first_layer_norm"), f.norms[0])
            .metric(format!("{name}/last_layer_norm"), f.norms[layers - 1])
            .metric(format!("{name}/first_over_last"), f.first_over_last())
            .metric(format!("{name}/max_over_min"), f.spread());
    }
    recorder.finish(&summary)?;
    eprintln!("wrote {}, {} and the run record in {}", figures.join(", "), md.display(), out.display());
    Ok(())
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse()))
}
