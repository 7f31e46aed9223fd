//! The notes' small autograd examples, run on the engine: the chain rule through
//! y1 = x·w1 + b1, y2 = y1·w2 + b2; gradient accumulation on an MSE; and what
//! happens when backward starts from a matrix instead of a scalar.

use nalgebra::DMatrix;

use crate::engine::{BackwardError, Graph, scalar};

/// The four derivatives of the chain-rule example.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChainRule {
    pub y1: f32,
    pub y2: f32,
    pub dy2_dy1: f32,
    pub dy1_dw1: f32,
    /// dy2/dy1 · dy1/dw1: the chain rule by hand.
    pub product: f32,
    /// dy2/dw1 straight from the engine.
    pub dy2_dw1: f32,
}

// ANCHOR: chain_rule
/// y1 = x·w1 + b1 and y2 = y1·w2 + b2, with w1 and w2 requiring gradients; each
/// derivative is asked for separately, like the notes' `torch.autograd.grad` calls.
pub fn chain_rule(x: f32, w1: f32, b1: f32, w2: f32, b2: f32) -> Result<ChainRule, BackwardError> {
    let mut g = Graph::new();
    let x = g.input("x", scalar(x));
    let w1 = g.param("w1", scalar(w1));
    let b1 = g.input("b1", scalar(b1));
    let w2 = g.param("w2", scalar(w2));
    let b2 = g.input("b2", scalar(b2));
    let xw1 = g.mul(x, w1);
    let y1 = g.add(xw1, b1);
    let y1w2 = g.mul(y1, w2);
    let y2 = g.add(y1w2, b2);
    let dy2_dy1 = g.gradients(y2, &[y1])?[0][(0, 0)];
    let dy1_dw1 = g.gradients(y1, &[w1])?[0][(0, 0)];
    let dy2_dw1 = g.gradients(y2, &[w1])?[0][(0, 0)];
    Ok(ChainRule {
        y1: g.scalar_value(y1),
        y2: g.scalar_value(y2),
        dy2_dy1,
        dy1_dw1,
        product: dy2_dy1 * dy1_dw1,
        dy2_dw1,
    })
}
// ANCHOR_END: chain_rule

/// What the MSE example shows about `.grad`.
#[derive(Debug, Clone, PartialEq)]
pub struct Accumulation {
    /// mse(x·w, target).
    pub loss: f32,
    /// ∂loss/∂w from `gradients` (autograd.grad), which leaves `.grad` alone.
    pub fresh: f32,
    /// `w.grad` after the 1st, 2nd, … call of `backward` without zeroing.
    pub after_each_backward: Vec<f32>,
    /// `w.grad` after `zero_grad` and one more `backward`.
    pub after_zeroing: f32,
}

// ANCHOR: accumulation
/// mse(x·w, target) with a parameter `w`: `backward` called `repeats` times adds
/// the same gradient each time, until `zero_grad` clears it.
pub fn accumulation(x: f32, w: f32, target: f32, repeats: usize) -> Result<Accumulation, BackwardError> {
    let mut g = Graph::new();
    let x = g.input("x", scalar(x));
    let w = g.param("w", scalar(w));
    let target = g.input("target", scalar(target));
    let prediction = g.mul(x, w);
    let loss = g.mse(prediction, target);
    let fresh = g.gradients(loss, &[w])?[0][(0, 0)];
    let mut after_each_backward = Vec::with_capacity(repeats);
    let w_grad = |g: &Graph| g.grad(w).map_or(f32::NAN, |grad| grad[(0, 0)]);
    for _ in 0..repeats {
        g.backward(loss)?;
        after_each_backward.push(w_grad(&g));
    }
    g.zero_grad();
    g.backward(loss)?;
    Ok(Accumulation { loss: g.scalar_value(loss), fresh, after_each_backward, after_zeroing: w_grad(&g) })
}
// ANCHOR_END: accumulation

/// What backward from a vector does.
#[derive(Debug, Clone, PartialEq)]
pub struct NonScalar {
    /// The error `backward` returns for the 3×1 output (`None` would be a bug).
    pub unseeded: Option<BackwardError>,
    /// ∂(Σ seed ⊙ p)/∂w after `backward_with` a seed of ones.
    pub seeded_grad: DMatrix<f32>,
}

/// Backward from a vector: `p = w ⊙ a` for 3-vectors. `backward` refuses, as
/// PyTorch does; `backward_with` a seed of ones (PyTorch's
/// `p.backward(torch.ones(p.shape))`) gives ∂(Σ p)/∂w, which is `a`.
pub fn non_scalar_backward(a: &[f32; 3], w: &[f32; 3]) -> Result<NonScalar, BackwardError> {
    let mut g = Graph::new();
    let a = g.input("a", DMatrix::from_column_slice(3, 1, a));
    let w = g.param("w", DMatrix::from_column_slice(3, 1, w));
    let p = g.mul(w, a);
    let p = g.named(p, "p");
    let unseeded = g.backward(p).err();
    g.backward_with(p, &DMatrix::from_element(3, 1, 1.0))?;
    let seeded_grad = g.grad(w).cloned().ok_or_else(|| BackwardError::NoGradient { name: "w".into() })?;
    Ok(NonScalar { unseeded, seeded_grad })
}
