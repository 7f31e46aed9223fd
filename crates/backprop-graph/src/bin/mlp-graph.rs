//! The one-hidden-layer MLP with an L2 penalty, J = L + s: builds its computational
//! graph, prints every gradient from the engine beside the formula derived by hand
//! (and dlcore's layers), draws the graph and exports it to Graphviz.

use std::fmt::Write as _;
use std::process::ExitCode;

use backprop_graph::dot::to_dot;
use backprop_graph::engine::Storage;
use backprop_graph::figure::draw_graph;
use backprop_graph::layout::layout;
use backprop_graph::penalized_mlp::{
    self, Problem, build, engine_gradients, hand_gradients, layer_gradients,
};
use backprop_graph::tensorboard::graph_nodes;
use clap::Parser;
use dlcore::activation::Activation;
use dlcore::atomic_file::write_bytes;
use dlcore::cli::{RunArgs, non_negative_f32, positive_usize};
use dlcore::record::Summary;
use nalgebra::DMatrix;

/// Backpropagation through z = W1·x, h = φ(z), o = W2·h, J = ℓ(o, y) + λ/2(‖W1‖² + ‖W2‖²).
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Features per example (rows of x).
    #[arg(long, default_value_t = 3, value_parser = positive_usize)]
    inputs: usize,
    /// Hidden units (rows of W1).
    #[arg(long, default_value_t = 4, value_parser = positive_usize)]
    hidden: usize,
    /// Classes (rows of W2 and o).
    #[arg(long, default_value_t = 3, value_parser = positive_usize)]
    classes: usize,
    /// Examples in the batch (columns of x).
    #[arg(long, default_value_t = 2, value_parser = positive_usize)]
    batch_size: usize,
    /// λ of the penalty s = λ/2 (‖W1‖² + ‖W2‖²).
    #[arg(long, default_value_t = 0.1, value_parser = non_negative_f32, allow_negative_numbers = true)]
    lambda: f32,
    /// The activation φ: sigmoid, tanh, relu, leaky-relu, selu or softplus.
    #[arg(long, default_value = "tanh")]
    activation: Activation,
    #[command(flatten)]
    run: RunArgs,
}

/// Matrices with more rows or columns than this are summarised, not printed.
const PRINTABLE: usize = 12;

/// The rows of `m`, each as `[ a  b  c ]` with four decimals.
fn rows(m: &DMatrix<f32>) -> Vec<String> {
    m.row_iter()
        .map(|row| {
            let cells: Vec<String> = row.iter().map(|v| format!("{v:8.4}")).collect();
            format!("[{} ]", cells.join(""))
        })
        .collect()
}

/// Two matrices of one shape side by side, under their titles.
fn side_by_side(left_title: &str, left: &DMatrix<f32>, right_title: &str, right: &DMatrix<f32>) -> String {
    let (l, r) = (rows(left), rows(right));
    let width = l.iter().map(|s| s.chars().count()).max().unwrap_or(0).max(left_title.chars().count());
    let mut text = format!("{left_title:<width$}    {right_title}\n");
    for (a, b) in l.iter().zip(&r) {
        let _ = writeln!(text, "{a:<width$}    {b}");
    }
    text
}

/// A difference as the table shows it: exactly 0, or in scientific notation.
fn gap_text(gap: f32) -> String {
    if gap == 0.0 { "0".into() } else { format!("{gap:.1e}") }
}

fn max_abs_difference(a: &DMatrix<f32>, b: &DMatrix<f32>) -> f32 {
    (a - b).abs().max()
}

fn megabytes(floats: usize) -> f64 {
    floats as f64 * 4.0 / (1024.0 * 1024.0)
}

fn memory_table() -> String {
    let (inputs, hidden, classes) = (784, 256, 10);
    let mut md = format!(
        "For a {inputs}-{hidden}-{classes} network (MNIST-sized), in 32-bit numbers:\n\n\
         | batch | data (x, y) | parameters (W1, W2) | stored activations (z, h, o, L, s, J) | gradient buffers |\n\
         |---:|---:|---:|---:|---:|\n"
    );
    for batch in [1, 64, 256, 1024] {
        let Storage { data, parameters, intermediate_values, gradients } =
            penalized_mlp::storage(inputs, hidden, classes, batch);
        let cell = |floats: usize| format!("{floats} ({:.2} MiB)", megabytes(floats));
        let _ = writeln!(
            md,
            "| {batch} | {} | {} | {} | {} |",
            cell(data),
            cell(parameters),
            cell(intermediate_values),
            cell(gradients)
        );
    }
    md
}

fn run(args: &Args) -> anyhow::Result<()> {
    let out = args.run.out_dir("mlp-graph");
    let mut recorder = args.run.recorder(&out)?;
    let mut rng = args.run.rng();
    let problem = Problem::random(
        args.inputs,
        args.hidden,
        args.classes,
        args.batch_size,
        args.lambda,
        args.activation,
        &mut rng,
    );
    let engine = engine_gradients(&problem)?;
    let hand = hand_gradients(&problem);
    let (layers_w1, layers_w2) = layer_gradients(&problem);

    let gradients = [
        ("∂J/∂o", "∂L/∂o = softmax(o) − onehot(y), averaged", &engine.d_o, &hand.d_o, None),
        ("∂J/∂W2", "∂J/∂o hᵀ + λW2", &engine.d_w2, &hand.d_w2, Some(&layers_w2)),
        ("∂J/∂h", "W2ᵀ ∂J/∂o", &engine.d_h, &hand.d_h, None),
        ("∂J/∂z", "∂J/∂h ⊙ φ'(z)", &engine.d_z, &hand.d_z, None),
        ("∂J/∂W1", "∂J/∂z xᵀ + λW1", &engine.d_w1, &hand.d_w1, Some(&layers_w1)),
    ];
    let mut table = format!(
        "J = {:.6} from the engine and {:.6} by hand ({}→{}→{} network, batch {}, φ = {}, λ = {}).\n\n\
         | gradient | formula | shape | max \\|engine − formula\\| | max \\|engine − dlcore layers\\| |\n\
         |---|---|---|---:|---:|\n",
        engine.objective,
        hand.objective,
        args.inputs,
        args.hidden,
        args.classes,
        args.batch_size,
        args.activation,
        args.lambda
    );
    let (mut worst_formula, mut worst_layers) = (0.0f32, 0.0f32);
    println!("Every gradient of J, from the engine (left) and the hand-derived formula (right):\n");
    for (name, formula, from_engine, by_hand, from_layers) in gradients {
        let formula_gap = max_abs_difference(from_engine, by_hand);
        worst_formula = worst_formula.max(formula_gap);
        let layers_gap = from_layers.map(|m| max_abs_difference(from_engine, m));
        worst_layers = worst_layers.max(layers_gap.unwrap_or(0.0));
        let layers_cell = layers_gap.map_or("—".to_string(), gap_text);
        let (r, c) = from_engine.shape();
        let _ =
            writeln!(table, "| {name} | {formula} | {r}×{c} | {} | {layers_cell} |", gap_text(formula_gap));
        if from_engine.nrows() <= PRINTABLE && from_engine.ncols() <= PRINTABLE {
            println!("{name} = {formula}\n{}", side_by_side("engine", from_engine, "by hand", by_hand));
        } else {
            println!(
                "{name} = {formula}: {r}×{c}, too large to print; largest difference {formula_gap:.1e}\n"
            );
        }
    }
    if engine.d_w2.nrows() <= PRINTABLE && engine.d_w2.ncols() <= PRINTABLE {
        let w2_pair = side_by_side("engine", &engine.d_w2, "by hand: ∂J/∂o hᵀ + λW2", &hand.d_w2);
        let _ = write!(table, "\nFor example ∂J/∂W2, entry by entry:\n\n```text\n{w2_pair}```\n");
    }

    let net = build(&problem);
    recorder.record_graph(&graph_nodes(&net.graph))?;
    let graph_layout = layout(&net.graph, net.objective);
    let figure = out.join("graph.svg");
    draw_graph(&figure, &graph_layout)?;
    let dot = to_dot(&graph_layout);
    write_bytes(&out.join("graph.dot"), dot.as_bytes())?;
    let memory = memory_table();
    write_bytes(&out.join("gradients.md"), table.as_bytes())?;
    write_bytes(&out.join("memory.md"), memory.as_bytes())?;
    print!("{table}\n{memory}");

    let storage = net.graph.storage();
    let summary = Summary::new("mlp-graph", args.run.seed)
        .param("inputs", args.inputs)
        .param("hidden", args.hidden)
        .param("classes", args.classes)
        .param("batch_size", args.batch_size)
        .param("lambda", args.lambda)
        .param("activation", args.activation.to_string())
        .metric("objective", f64::from(engine.objective))
        .metric("max_abs_difference_engine_vs_formulas", f64::from(worst_formula))
        .metric("max_abs_difference_engine_vs_layers", f64::from(worst_layers))
        .metric("graph_nodes", net.graph.len() as f64)
        .metric("stored_activation_floats", storage.intermediate_values as f64);
    recorder.finish(&summary)?;
    eprintln!("wrote graph.svg, graph.dot, gradients.md, memory.md and summary.json to {}", out.display());
    Ok(())
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse()))
}
