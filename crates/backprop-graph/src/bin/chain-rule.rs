//! The notes' autograd examples on the engine: the chain rule through
//! y1 = x·w1 + b1, y2 = y1·w2 + b2; `.grad` accumulating 2, 4, 6 on an MSE until it is
//! zeroed; and backward from a vector, refused without a seed gradient.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use backprop_graph::chain_rule::{accumulation, chain_rule, non_scalar_backward};
use clap::Parser;
use dlcore::atomic_file::write_bytes;
use dlcore::cli::{RunArgs, positive_usize};
use dlcore::record::Summary;

/// Differentiate the notes' small examples with the engine and print the numbers.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// x in y1 = x·w1 + b1 (and in the MSE example, mse(x·w, 1)).
    #[arg(long, default_value_t = 1.0, value_parser = finite_f32, allow_negative_numbers = true)]
    x: f32,
    /// w1 in y1 = x·w1 + b1.
    #[arg(long, default_value_t = 2.0, value_parser = finite_f32, allow_negative_numbers = true)]
    w1: f32,
    /// b1 in y1 = x·w1 + b1.
    #[arg(long, default_value_t = 1.0, value_parser = finite_f32, allow_negative_numbers = true)]
    b1: f32,
    /// w2 in y2 = y1·w2 + b2.
    #[arg(long, default_value_t = 2.0, value_parser = finite_f32, allow_negative_numbers = true)]
    w2: f32,
    /// b2 in y2 = y1·w2 + b2.
    #[arg(long, default_value_t = 1.0, value_parser = finite_f32, allow_negative_numbers = true)]
    b2: f32,
    /// w in the MSE example mse(x·w, 1).
    #[arg(long, default_value_t = 2.0, value_parser = finite_f32, allow_negative_numbers = true)]
    w: f32,
    /// How many times to call backward on the MSE without zeroing.
    #[arg(long, default_value_t = 3, value_parser = positive_usize)]
    repeats: usize,
    #[command(flatten)]
    run: RunArgs,
}

/// Any finite number.
fn finite_f32(s: &str) -> Result<f32, String> {
    match s.parse::<f32>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("must be a finite number, got {s}")),
    }
}

fn run(args: &Args) -> anyhow::Result<()> {
    let out = args.run.out_dir("chain-rule");
    let mut recorder = args.run.recorder(&out)?;

    let c = chain_rule(args.x, args.w1, args.b1, args.w2, args.b2)?;
    let chain_md = format!(
        "With x = {}, w1 = {}, b1 = {}, w2 = {}, b2 = {}:\n\n\
         | quantity | value |\n|---|---:|\n\
         | y1 = x·w1 + b1 | {} |\n| y2 = y1·w2 + b2 | {} |\n\
         | dy2/dy1 (= w2) | {} |\n| dy1/dw1 (= x) | {} |\n\
         | dy2/dy1 · dy1/dw1, the chain rule by hand | {} |\n\
         | dy2/dw1 from one backward pass | {} |\n",
        args.x, args.w1, args.b1, args.w2, args.b2, c.y1, c.y2, c.dy2_dy1, c.dy1_dw1, c.product, c.dy2_dw1
    );

    let a = accumulation(args.x, args.w, 1.0, args.repeats)?;
    let mut accumulation_md = format!(
        "With x = {}, w = {} and target 1, the loss mse(x·w, 1) is {}; `gradients` (like \
         `torch.autograd.grad`) gives ∂loss/∂w = {} and leaves `.grad` alone.\n\n\
         | after | w.grad |\n|---|---:|\n",
        args.x, args.w, a.loss, a.fresh
    );
    for (k, grad) in a.after_each_backward.iter().enumerate() {
        let call = k + 1;
        let _ = writeln!(accumulation_md, "| backward call {call} | {grad} |");
        recorder.record_epoch(&[("backward_call", call as f64), ("w_grad", f64::from(*grad))])?;
    }
    let _ = writeln!(accumulation_md, "| zero_grad, then one more backward | {} |", a.after_zeroing);

    // The vector of the notes' softmax example, as the values of a.
    let a_values = [0.8241, 0.0593, -0.1058];
    let non_scalar = non_scalar_backward(&a_values, &[1.0, 1.0, 1.0])?;
    let refusal = non_scalar.unseeded.context("backward from a 3×1 output should have been refused")?;
    let list =
        |values: &mut dyn Iterator<Item = &f32>| values.map(|v| v.to_string()).collect::<Vec<_>>().join(", ");
    let non_scalar_md = format!(
        "For p = w ⊙ a with w = [1, 1, 1] and a = [{}], `backward(p)` returns this error:\n\n\
         ```text\nerror: {refusal}\n```\n\n`backward_with(p, ones)` then gives w.grad = [{}], \
         which is a: the gradient of Σ p.\n",
        list(&mut a_values.iter()),
        list(&mut non_scalar.seeded_grad.iter())
    );

    print!("{chain_md}\n{accumulation_md}\n{non_scalar_md}");
    for (name, text) in [
        ("chain-rule.md", &chain_md),
        ("accumulation.md", &accumulation_md),
        ("non-scalar.md", &non_scalar_md),
    ] {
        write_bytes(&out.join(name), text.as_bytes())?;
    }
    let mut summary = Summary::new("chain-rule", args.run.seed)
        .param("x", args.x)
        .param("w1", args.w1)
        .param("b1", args.b1)
        .param("w2", args.w2)
        .param("b2", args.b2)
        .param("w", args.w)
        .param("repeats", args.repeats)
        .metric("dy2_dy1", f64::from(c.dy2_dy1))
        .metric("dy1_dw1", f64::from(c.dy1_dw1))
        .metric("chain_product", f64::from(c.product))
        .metric("dy2_dw1", f64::from(c.dy2_dw1))
        .metric("mse_loss", f64::from(a.loss))
        .metric("mse_grad", f64::from(a.fresh))
        .metric("mse_grad_after_zeroing", f64::from(a.after_zeroing));
    if let Some(last) = a.after_each_backward.last() {
        summary = summary.metric("mse_grad_accumulated", f64::from(*last));
    }
    recorder.finish(&summary)?;
    eprintln!("wrote chain-rule.md, accumulation.md, non-scalar.md and summary.json to {}", out.display());
    Ok(())
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse()))
}
