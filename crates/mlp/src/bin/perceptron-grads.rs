//! The notes' perceptron gradient examples: one sigmoid output, then two, on a
//! random 10-feature input with N(0, 1) weights and target 1, the loss PyTorch's
//! `mse_loss`. Each gradient is computed by the hand-derived formula and checked
//! against central finite differences.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::bail;
use clap::Parser;
use dlcore::cli::{RunArgs, positive_usize};
use dlcore::gradcheck::{max_relative_error, numeric_gradient};
use dlcore::init::Init;
use dlcore::record::Summary;
use mlp::perceptron::{perceptron_loss, sigmoid_perceptrons};
use nalgebra::DMatrix;

/// Gradients of one and of two sigmoid perceptrons, by formula and by finite differences.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Input features, as in the notes' `torch.randn(1, 10)`.
    #[arg(long, default_value_t = 10, value_parser = positive_usize)]
    features: usize,
    #[command(flatten)]
    run: RunArgs,
}

/// Largest disagreement allowed between formula and finite differences.
const TOLERANCE: f32 = 1e-3;

fn run(args: &Args) -> anyhow::Result<()> {
    let out = args.run.out_dir("perceptron-grads");
    let recorder = args.run.recorder(&out)?;
    let mut rng = args.run.rng();
    let normal = Init::Normal { std: 1.0 };
    let x = normal.matrix(args.features, 1, &mut rng);
    let mut md = String::new();
    let mut summary = Summary::new("perceptron-grads", args.run.seed).param("features", args.features);
    for outputs in [1usize, 2] {
        let w = normal.matrix(outputs, args.features, &mut rng);
        let target = DMatrix::from_element(outputs, 1, 1.0f32);
        let pass = sigmoid_perceptrons(&w, &x, &target);
        let numeric = numeric_gradient(|w| perceptron_loss(w, &x, &target), &w, 1e-3);
        let error = max_relative_error(&pass.grad_weight, &numeric);
        let title = if outputs == 1 { "One output" } else { "Two outputs" };
        println!("{title}: loss {:.6}, largest disagreement with finite differences {error:.2e}", pass.loss);
        let _ = write!(
            md,
            "**{title}** (W is {outputs}×{}, target 1): loss {:.6}.\n\n\
             | unit k | z_k | o_k = σ(z_k) | σ'(z_k) | δ_k |\n|---:|---:|---:|---:|---:|\n",
            args.features, pass.loss
        );
        for k in 0..outputs {
            let (z, o, slope, delta) = (pass.z[k], pass.output[k], pass.sigmoid_slope[k], pass.delta[k]);
            let _ = writeln!(md, "| {} | {z:.4} | {o:.4} | {slope:.4} | {delta:.4} |", k + 1);
            println!("  unit {}: z {z:.4}, o {o:.4}, σ'(z) {slope:.4}, δ {delta:.4}", k + 1);
        }
        md.push_str("\n| j | x_j |");
        for k in 1..=outputs {
            let _ = write!(md, " ∂L/∂w_{k}j, formula | ∂L/∂w_{k}j, finite differences |");
        }
        md.push_str("\n|---:|---:|");
        md.push_str(&"---:|---:|".repeat(outputs));
        for j in 0..args.features {
            let _ = write!(md, "\n| {} | {:.4} |", j + 1, x[j]);
            for k in 0..outputs {
                let _ = write!(md, " {:.5} | {:.5} |", pass.grad_weight[(k, j)], numeric[(k, j)]);
            }
        }
        let _ = write!(md, "\n\nLargest disagreement between the two: {error:.1e}.\n\n");
        println!("  formula:\n{}  finite differences:\n{}", pass.grad_weight, numeric);
        summary = summary.metric(format!("{outputs}_outputs/max_relative_error"), f64::from(error));
        if error > TOLERANCE {
            bail!("{title}: the formula and finite differences disagree by {error:.2e} (> {TOLERANCE:.0e})");
        }
    }
    dlcore::atomic_file::write_bytes(&out.join("perceptron-grads.md"), md.trim_end().as_bytes())?;
    recorder.finish(&summary)?;
    Ok(())
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse()))
}
