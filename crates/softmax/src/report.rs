//! The markdown the binaries write for the book: every number the chapter quotes
//! comes from one of these functions, run on the real results.

use std::fmt::Write as _;

use nalgebra::DMatrix;

use crate::scratch::{cross_entropy, naive_cross_entropy, naive_softmax, softmax, softmax_backward_into};
use crate::train::EpochReport;

/// One row per epoch: d2l's three numbers.
pub fn epochs_table(reports: &[EpochReport]) -> String {
    let mut out =
        String::from("| epoch | train loss | train accuracy | test accuracy |\n|---:|---:|---:|---:|\n");
    for r in reports {
        let _ = writeln!(
            out,
            "| {} | {:.4} | {:.4} | {:.4} |",
            r.epoch, r.train_loss, r.train_accuracy, r.test_accuracy
        );
    }
    out
}

/// "After 10 epochs on Fashion-MNIST, …": the final numbers of a run as a sentence.
pub fn final_sentence(what: &str, data_set: &str, seed: u64, reports: &[EpochReport]) -> String {
    match reports.last() {
        Some(r) => format!(
            "{what}, after {} epochs on {data_set} (seed {seed}): training loss {:.4}, training accuracy \
             {:.4}, **test accuracy {:.4}**.\n",
            r.epoch, r.train_loss, r.train_accuracy, r.test_accuracy
        ),
        None => format!("{what}: no epoch ran.\n"),
    }
}

fn vector(values: impl IntoIterator<Item = f32>, precision: usize) -> String {
    let parts: Vec<String> = values.into_iter().map(|v| format!("{v:.precision$}")).collect();
    format!("({})", parts.join(", "))
}

/// The source notes' worked example (softmax of a = (0.8241, 0.0593, −0.1058) and the
/// gradient of p₁), then what the naive and the stable formulas make of large logits.
pub fn numerics_markdown() -> String {
    let mut out = String::new();
    let a = DMatrix::from_column_slice(3, 1, &[0.8241f32, 0.0593, -0.1058]);
    let p = softmax(&a);
    // ∂p₁/∂a is the backward pass of L = p₁, i.e. of ∂L/∂p = e₁ (counting from 0).
    let e1 = DMatrix::from_column_slice(3, 1, &[0.0f32, 1.0, 0.0]);
    let mut grad = DMatrix::zeros(3, 1);
    softmax_backward_into(&p, &e1, &mut grad);
    let _ = writeln!(
        out,
        "For a = {}: softmax(a) = {}, and the gradient of p₁ with respect to a is {}.\n",
        vector(a.iter().copied(), 4),
        vector(p.iter().copied(), 4),
        vector(grad.iter().copied(), 4)
    );

    let cases: [([f32; 3], u8); 3] =
        [([2.0, 1.0, 0.1], 0), ([1000.0, 0.0, -1000.0], 1), ([-1000.0, -1001.0, -1002.0], 0)];
    out.push_str(
        "| logits o | label y | naive softmax | stable softmax | −log p_y from probabilities | logsumexp(o) − o_y |\n\
         |---|---:|---|---|---:|---:|\n",
    );
    for (logits, label) in cases {
        let o = DMatrix::from_column_slice(3, 1, &logits);
        let naive = naive_softmax(&o);
        let stable = softmax(&o);
        let from_probs = naive_cross_entropy(&stable, &[label]);
        let (from_logits, _) = cross_entropy(&o, &[label]);
        let _ = writeln!(
            out,
            "| {} | {label} | {} | {} | {from_probs:.4} | {from_logits:.4} |",
            vector(logits, 1),
            vector(naive.iter().copied(), 4),
            vector(stable.iter().copied(), 4),
        );
    }
    out
}
