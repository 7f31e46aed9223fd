//! The gradient of one layer of sigmoid perceptrons, derived by hand: the notes'
//! first step from a single neuron towards backpropagation through an MLP.
//!
//! `K` perceptrons share one input `x` (`n` features, one example per column, as
//! everywhere in the project). Perceptron `k` has a weight row `w_k` and no bias,
//! as in the notes, and outputs `o_k = σ(z_k)` with `z_k = w_k · x`. The loss is
//! PyTorch's `mse_loss` against targets `t`: the mean over the `K` outputs (and the
//! examples) of `(o_k − t_k)²`. The chain rule gives
//!
//! ```text
//! ∂L/∂w_kj = ∂L/∂o_k · ∂o_k/∂z_k · ∂z_k/∂w_kj
//!          = (2/K)(o_k − t_k) · o_k(1 − o_k) · x_j
//! ```
//!
//! so the gradient is an outer product `δ xᵀ` of the error signal
//! `δ_k = (2/K)(o_k − t_k) o_k(1 − o_k)` with the input. Row `k` depends only on
//! perceptron `k`'s own output: a saturated perceptron (`o_k` near 0 or 1) gets a
//! gradient near zero, which is why one row of the notes' two-output gradient is
//! about 10⁻⁷.

use dlcore::activation::sigmoid;
use nalgebra::DMatrix;

/// Everything one forward and backward pass through the perceptrons computes.
#[derive(Debug, Clone, PartialEq)]
pub struct PerceptronPass {
    /// `z = W·x`, `K × examples`.
    pub z: DMatrix<f32>,
    /// `o = σ(z)`.
    pub output: DMatrix<f32>,
    /// `σ'(z) = o(1 − o)`: how much of the error signal each unit lets through.
    pub sigmoid_slope: DMatrix<f32>,
    /// The mean squared error against the targets.
    pub loss: f32,
    /// `δ = ∂L/∂z`, the error signal of each unit.
    pub delta: DMatrix<f32>,
    /// `∂L/∂W`, the same shape as `W` (`K × n`).
    pub grad_weight: DMatrix<f32>,
}

// ANCHOR: perceptron_gradient
/// `K` sigmoid perceptrons with weights `weight` (`K × n`) on inputs `x`
/// (`n × examples`), the mean squared error against `target` (`K × examples`),
/// and its gradient with respect to the weights, by the formula of the module
/// documentation.
pub fn sigmoid_perceptrons(weight: &DMatrix<f32>, x: &DMatrix<f32>, target: &DMatrix<f32>) -> PerceptronPass {
    let z = weight * x;
    let output = z.map(sigmoid);
    assert_eq!(output.shape(), target.shape(), "one target per output");
    // mse_loss averages over every output of every example.
    let count = output.len() as f32;
    let loss = output.zip_map(target, |o, t| (o - t) * (o - t)).sum() / count;
    let sigmoid_slope = output.map(|o| o * (1.0 - o));
    // δ = ∂L/∂z = ∂L/∂o ⊙ σ'(z) = (2/count)(o − t) ⊙ o(1 − o)
    let delta = (&output - target).component_mul(&sigmoid_slope) * (2.0 / count);
    // ∂L/∂w_kj = Σ over examples of δ_k x_j: the outer product δ·xᵀ.
    let grad_weight = &delta * x.transpose();
    PerceptronPass { z, output, sigmoid_slope, loss, delta, grad_weight }
}
// ANCHOR_END: perceptron_gradient

/// The loss alone, for finite differences.
pub fn perceptron_loss(weight: &DMatrix<f32>, x: &DMatrix<f32>, target: &DMatrix<f32>) -> f32 {
    sigmoid_perceptrons(weight, x, target).loss
}
