//! Every intermediate of one forward and one backward pass, layer by layer: what
//! TensorBoard's `add_histogram` would be fed to look inside a network.
//!
//! `Sequential::forward` and `Sequential::backward` hand back only the final result;
//! here we walk the same layers ourselves, in the same order, and keep a copy of what
//! each one produces. (A test checks that the weight gradients come out exactly as
//! `Sequential::backward` computes them.)

use dlcore::layer::{Layer, Sequential};
use dlcore::loss::cross_entropy_with_logits;
use nalgebra::DMatrix;

/// What one pass through the network produced.
#[derive(Debug, Clone)]
pub struct Trace {
    /// The input Z_l of every hidden activation layer (a dense layer's output), first to last.
    pub pre_activations: Vec<DMatrix<f32>>,
    /// The output A_l = φ(Z_l) of every hidden layer, first to last.
    pub activations: Vec<DMatrix<f32>>,
    /// ∂L/∂Z_l, the gradient arriving at every dense layer's output, first to last.
    pub output_grads: Vec<DMatrix<f32>>,
    /// ∂L/∂W_l of every dense layer, first to last.
    pub weight_grads: Vec<DMatrix<f32>>,
    /// The cross-entropy of the batch.
    pub loss: f32,
}

// ANCHOR: trace
/// Runs `x` forward through `net` and the cross-entropy gradient back, keeping every
/// hidden activation and every gradient on the way. Leaves `net`'s weight gradients
/// set as one `zero_grad` + `backward` would.
pub fn trace(net: &mut Sequential, x: &DMatrix<f32>, labels: &[u8]) -> Trace {
    let (mut pre_activations, mut activations) = (Vec::new(), Vec::new());
    let mut signal = x.clone();
    for layer in &mut net.layers {
        signal = match layer {
            Layer::Linear(linear) => linear.forward(&signal).clone(),
            Layer::Activation(activation) => {
                pre_activations.push(signal.clone());
                let a = activation.forward(&signal).clone();
                activations.push(a.clone());
                a
            }
        };
    }
    let (loss, mut grad) = cross_entropy_with_logits(&signal, labels);
    net.zero_grad();
    let mut output_grads = Vec::new();
    for layer in net.layers.iter_mut().rev() {
        grad = match layer {
            Layer::Linear(linear) => {
                output_grads.push(grad.clone());
                linear.backward(&grad).clone()
            }
            Layer::Activation(activation) => activation.backward(&grad).clone(),
        };
    }
    output_grads.reverse();
    let weight_grads = net.linear_layers().map(|linear| linear.grad_weight.clone()).collect();
    Trace { pre_activations, activations, output_grads, weight_grads, loss }
}
// ANCHOR_END: trace

/// Mean and standard deviation of a matrix's entries (in `f64`).
pub fn mean_std(m: &DMatrix<f32>) -> (f64, f64) {
    let n = m.len().max(1) as f64;
    let mean = m.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = m.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}
