//! Trains a small MLP built on the engine on a 2-D toy problem (two moons or XOR),
//! and draws its decision regions and loss curves.

use std::process::ExitCode;

use anyhow::Context;
use backprop_graph::figure::decision_regions;
use backprop_graph::tensorboard::graph_nodes;
use backprop_graph::toy::{
    StepReport, ToyConfig, ToyProblem, generate, padded_bounds, probability_grid, train,
};
use clap::Parser;
use dlcore::activation::Activation;
use dlcore::atomic_file::write_bytes;
use dlcore::cli::{RunArgs, non_negative_f32, positive_f32, positive_usize, unit_interval_f32};
use dlcore::init::Init;
use dlcore::plot::{Chart, Legend, Series, line_chart};
use dlcore::record::Summary;

/// Train an MLP on the autograd engine on a toy problem and draw its decision regions.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// moons or xor.
    #[arg(long, default_value = "moons")]
    problem: ToyProblem,
    /// Training points.
    #[arg(long, default_value_t = 200, value_parser = positive_usize)]
    train_size: usize,
    /// Test points, drawn from the same distribution.
    #[arg(long, default_value_t = 1000, value_parser = positive_usize)]
    test_size: usize,
    /// Standard deviation of the noise added to each coordinate.
    #[arg(long, default_value_t = 0.2, value_parser = non_negative_f32, allow_negative_numbers = true)]
    noise: f32,
    /// Hidden layer widths, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "16,16", value_parser = positive_usize)]
    hidden: Vec<usize>,
    /// relu, leaky-relu, sigmoid, tanh, selu or softplus.
    #[arg(long, default_value = "tanh")]
    activation: Activation,
    /// kaiming, xavier, xavier-normal, normal:<sigma>, … (see dlcore::init).
    #[arg(long, default_value = "xavier-normal")]
    init: Init,
    /// Learning rate.
    #[arg(long, default_value_t = 0.1, value_parser = positive_f32, allow_negative_numbers = true)]
    lr: f32,
    /// Momentum (0 for plain gradient descent).
    #[arg(long, default_value_t = 0.9, value_parser = unit_interval_f32, allow_negative_numbers = true)]
    momentum: f32,
    /// λ of the L2 penalty λ/2 Σ‖W‖² added to the loss in the graph.
    #[arg(long, default_value_t = 0.001, value_parser = non_negative_f32, allow_negative_numbers = true)]
    weight_decay: f32,
    /// Full-batch gradient steps.
    #[arg(long, default_value_t = 1000, value_parser = positive_usize)]
    steps: usize,
    /// Record the losses and accuracies every this many steps.
    #[arg(long, default_value_t = 20, value_parser = positive_usize)]
    log_every: usize,
    /// Cells per side of the decision-region grid.
    #[arg(long, default_value_t = 120, value_parser = positive_usize)]
    grid: usize,
    #[command(flatten)]
    run: RunArgs,
}

fn run(args: &Args) -> anyhow::Result<()> {
    let out = args.run.out_dir("train-toy");
    let mut recorder = args.run.recorder(&out)?;
    let mut rng = args.run.rng();
    let train_set = generate(args.problem, args.train_size, args.noise, &mut rng);
    let test_set = generate(args.problem, args.test_size, args.noise, &mut rng);
    let config = ToyConfig {
        hidden: args.hidden.clone(),
        activation: args.activation,
        init: args.init,
        lr: args.lr,
        momentum: args.momentum,
        weight_decay: args.weight_decay,
        steps: args.steps,
        log_every: args.log_every,
    };
    let bar = dlcore::progress::items(args.steps as u64, "steps");
    let (net, reports) = train(
        &config,
        &train_set,
        &test_set,
        &mut rng,
        || bar.inc(1),
        |r: &StepReport| {
            recorder.record_epoch(&[
                ("step", r.step as f64),
                ("train_loss", f64::from(r.train_loss)),
                ("train_accuracy", f64::from(r.train_accuracy)),
                ("test_loss", f64::from(r.test_loss)),
                ("test_accuracy", f64::from(r.test_accuracy)),
            ])
        },
    )?;
    bar.finish_and_clear();
    recorder.record_graph(&graph_nodes(&net.graph))?;
    let last = reports.last().context("no step ran")?;

    let steps = |f: fn(&StepReport) -> f32| reports.iter().map(move |r| (r.step as f64, f64::from(f(r))));
    let loss_chart = Chart::new(format!("{} — cross-entropy during training", args.problem))
        .x_label("step")
        .y_label("loss")
        .log_y()
        .series(Series::new("train", steps(|r| r.train_loss)))
        .series(Series::new("test", steps(|r| r.test_loss)).dashed())
        .legend(Legend::UpperRight);
    line_chart(&out.join("loss.svg"), &loss_chart)?;

    let (x_range, y_range) = padded_bounds(&train_set.x, 0.5);
    let grid = probability_grid(&net, x_range, y_range, args.grid);
    let title =
        format!("{}: {} steps, test accuracy {:.1}%", args.problem, last.step, 100.0 * last.test_accuracy);
    decision_regions(&out.join("decision-regions.svg"), &title, &grid, &train_set.x, &train_set.y)?;

    // The same training without a hidden layer: a linear classifier, whose boundary
    // is a straight line, for comparison.
    let linear_config = ToyConfig { hidden: Vec::new(), ..config.clone() };
    let (_, linear_reports) = train(&linear_config, &train_set, &test_set, &mut rng, || {}, |_| Ok(()))?;
    let linear = linear_reports.last().context("no step ran")?;

    let hidden: Vec<String> = args.hidden.iter().map(ToString::to_string).collect();
    let row = |network: &str, r: &StepReport| {
        format!(
            "| {network} | {:.4} | {:.1}% | {:.4} | {:.1}% |\n",
            r.train_loss,
            100.0 * r.train_accuracy,
            r.test_loss,
            100.0 * r.test_accuracy
        )
    };
    let markdown = format!(
        "{} with noise {}: {} training and {} test points, {} full-batch steps.\n\n\
         | network | train loss | train accuracy | test loss | test accuracy |\n\
         |---|---:|---:|---:|---:|\n{}{}",
        args.problem,
        args.noise,
        args.train_size,
        args.test_size,
        last.step,
        row("2-2, no hidden layer (a straight boundary)", linear),
        row(&format!("2-{}-2, {}", hidden.join("-"), args.activation), last),
    );
    write_bytes(&out.join("train-toy.md"), markdown.as_bytes())?;
    print!("{markdown}");

    let summary = Summary::new("train-toy", args.run.seed)
        .param("problem", args.problem.to_string())
        .param("train_size", args.train_size)
        .param("test_size", args.test_size)
        .param("noise", args.noise)
        .param("hidden", format!("{:?}", args.hidden))
        .param("activation", args.activation.to_string())
        .param("init", args.init.to_string())
        .param("lr", args.lr)
        .param("momentum", args.momentum)
        .param("weight_decay", args.weight_decay)
        .param("steps", args.steps)
        .metric("train_loss", f64::from(last.train_loss))
        .metric("train_accuracy", f64::from(last.train_accuracy))
        .metric("test_loss", f64::from(last.test_loss))
        .metric("test_accuracy", f64::from(last.test_accuracy))
        .metric("linear_test_accuracy", f64::from(linear.test_accuracy));
    recorder.finish(&summary)?;
    eprintln!("wrote loss.svg, decision-regions.svg, train-toy.md and summary.json to {}", out.display());
    Ok(())
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse()))
}
