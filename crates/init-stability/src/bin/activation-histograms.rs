//! The distribution of every layer's activations and weight gradients in the deep
//! MLP of `gradient-flow`, for each activation × initializer, as stacked histograms
//! (one ridge per layer): the `add_histogram` view of TensorBoard, as SVG files.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use dlcore::activation::Activation;
use dlcore::cli::{RunArgs, positive_usize};
use dlcore::init::Init;
use dlcore::layer::Sequential;
use dlcore::plot::stacked_histograms;
use dlcore::record::{Recorder, Summary};
use init_stability::flow::{self, GridArgs, init_label, init_slug};
use init_stability::sci;
use init_stability::trace::{Trace, mean_std, trace};

/// Stacked histograms of each layer's activations and weight gradients at initialization.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    #[command(flatten)]
    grid: GridArgs,
    /// Draw every k-th layer (the first and the last always), to keep the figures short.
    #[arg(long, default_value_t = 2, value_parser = positive_usize)]
    every: usize,
    /// Bins per histogram.
    #[arg(long, default_value_t = 60, value_parser = positive_usize)]
    bins: usize,
    #[command(flatten)]
    run: RunArgs,
}

/// The layers to draw: 1, 1 + k, 1 + 2k, … and always the last (counted from 1).
fn shown_layers(count: usize, every: usize) -> Vec<usize> {
    let mut layers: Vec<usize> = (1..=count).step_by(every).collect();
    if layers.last() != Some(&count) {
        layers.push(count);
    }
    layers
}

/// The share of hidden units, over the batch, whose activation is on a flat part:
/// derivative below 1 % of the largest it can be (σ′ < 0.0025, tanh′ < 0.01, ReLU
/// off). Those units pass almost no gradient back.
fn flat_share(activation: Activation, z: &nalgebra::DMatrix<f32>) -> f64 {
    let ceiling = activation.derivative(0.0).max(activation.derivative(1.0));
    let flat = z.iter().filter(|&&v| activation.derivative(v) < 0.01 * ceiling).count();
    flat as f64 / z.len().max(1) as f64
}

/// Writes the two figures of one network and records its histograms.
fn draw(
    args: &Args,
    recorder: &mut Recorder,
    activation: Activation,
    init: Init,
    trace: &Trace,
) -> anyhow::Result<()> {
    let out = recorder.dir().to_path_buf();
    let name = format!("{activation}-{}", init_slug(init));
    let label = format!("{activation}, {}", init_label(init));
    let hidden = shown_layers(trace.activations.len(), args.every);
    // A ReLU layer outputs exact zeros for about half its units; as one tall spike they
    // would flatten the rest of every ridge, so they are left out of the figure
    // (histograms.csv keeps them).
    let drop_zeros = activation == Activation::Relu;
    let ridges: Vec<(String, Vec<f32>)> = hidden
        .iter()
        .map(|&l| {
            let values = trace.activations[l - 1].iter().copied().filter(|&v| !drop_zeros || v != 0.0);
            (format!("layer {l}"), values.collect())
        })
        .collect();
    let title =
        if drop_zeros { format!("activations ≠ 0: {label}") } else { format!("activations: {label}") };
    stacked_histograms(&out.join(format!("activations-{name}.svg")), &title, &ridges, args.bins)?;
    let dense = shown_layers(trace.weight_grads.len(), args.every);
    let ridges: Vec<(String, &[f32])> =
        dense.iter().map(|&l| (format!("layer {l}"), trace.weight_grads[l - 1].as_slice())).collect();
    stacked_histograms(
        &out.join(format!("gradients-{name}.svg")),
        &format!("∂L/∂W: {label}"),
        &ridges,
        args.bins,
    )?;
    for (l, a) in trace.activations.iter().enumerate() {
        recorder.record_histogram(
            l + 1,
            &format!("{activation}/{init}/activations"),
            a.as_slice(),
            args.bins,
        )?;
    }
    for (l, g) in trace.weight_grads.iter().enumerate() {
        recorder.record_histogram(
            l + 1,
            &format!("{activation}/{init}/weight_grads"),
            g.as_slice(),
            args.bins,
        )?;
    }
    Ok(())
}

fn run(args: &Args) -> anyhow::Result<()> {
    let net = args.grid.net()?;
    let out = args.run.out_dir("activation-histograms");
    let mut recorder = args.run.recorder(&out)?;
    let (x, labels, rng) = flow::grid_start(&net, args.run.seed)?;
    let last = net.depth;
    let mut table = format!(
        "| activation | init | sd of layer 1 | sd of layer {last} | flat units in layer 1 | flat units in layer {last} |\n|---|---|---:|---:|---:|---:|\n"
    );
    let mut summary = Summary::new("activation-histograms", args.run.seed)
        .param("depth", net.depth)
        .param("width", net.width)
        .param("classes", net.classes)
        .param("batch_size", net.batch)
        .param("every", args.every)
        .param("bins", args.bins);
    for &activation in &args.grid.activations {
        for &init in &args.grid.inits {
            let mut model = Sequential::mlp(&net.sizes(), activation, init, &mut rng.clone());
            let trace = trace(&mut model, &x, &labels);
            draw(args, &mut recorder, activation, init, &trace)?;
            let (first, last_layer) = (&trace.activations[0], &trace.activations[last - 1]);
            let flat = |l: usize| flat_share(activation, &trace.pre_activations[l]);
            let _ = writeln!(
                table,
                "| {activation} | {} | {} | {} | {:.0}% | {:.0}% |",
                init_label(init),
                sci(mean_std(first).1),
                sci(mean_std(last_layer).1),
                100.0 * flat(0),
                100.0 * flat(last - 1)
            );
            let key = format!("{activation}/{init}");
            summary = summary
                .metric(format!("{key}/first_layer_sd"), mean_std(first).1)
                .metric(format!("{key}/last_layer_sd"), mean_std(last_layer).1)
                .metric(format!("{key}/last_layer_flat_share"), flat(last - 1));
        }
    }
    print!("{table}");
    dlcore::atomic_file::write_bytes(&out.join("activation-stats.md"), table.as_bytes())
        .context("writing the table")?;
    recorder.finish(&summary)?;
    eprintln!("wrote the histograms, activation-stats.md and histograms.csv in {}", out.display());
    Ok(())
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse()))
}
