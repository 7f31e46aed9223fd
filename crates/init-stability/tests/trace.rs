//! The layer-by-layer walk of `trace` computes what `Sequential` computes, and its
//! gradients are right.

use dlcore::activation::Activation;
use dlcore::gradcheck::{check, numeric_gradient};
use dlcore::init::Init;
use dlcore::layer::{Layer, Sequential};
use dlcore::loss::cross_entropy_with_logits;
use dlcore::seeded_rng;
use init_stability::trace::{mean_std, trace};
use nalgebra::DMatrix;
use proptest::prelude::*;

fn small_net(activation: Activation, seed: u64) -> (Sequential, DMatrix<f32>, Vec<u8>) {
    let mut rng = seeded_rng(seed);
    let net = Sequential::mlp(&[3, 4, 4, 3], activation, Init::XavierNormal, &mut rng);
    let x = Init::Uniform { low: -2.0, high: 2.0 }.matrix(3, 5, &mut rng);
    (net, x, vec![0, 1, 2, 1, 0])
}

#[test]
fn trace_matches_sequential_forward_and_backward() {
    for activation in [Activation::Sigmoid, Activation::Tanh, Activation::Relu] {
        let (mut net, x, labels) = small_net(activation, 1);
        let mut reference = net.clone();
        let t = trace(&mut net, &x, &labels);
        let (loss, grad) = cross_entropy_with_logits(reference.forward(&x), &labels);
        reference.zero_grad();
        reference.backward(&grad);
        assert_eq!(t.loss, loss);
        assert_eq!(t.activations.len(), 2);
        assert_eq!(t.pre_activations.len(), 2);
        assert_eq!(t.output_grads.len(), 3);
        for (mine, theirs) in t.weight_grads.iter().zip(reference.linear_layers()) {
            assert_eq!(mine, &theirs.grad_weight);
        }
        // A_l = φ(Z_l), entry by entry.
        for (a, z) in t.activations.iter().zip(&t.pre_activations) {
            assert_eq!(a, &activation.forward(z));
        }
    }
}

#[test]
fn weight_gradient_is_output_gradient_times_layer_input() {
    // ∂L/∂W_l = ∂L/∂Z_l · A_{l−1}ᵀ, with A_0 = x: the chain-rule step that ties the
    // recorded output gradients to the weight gradients.
    let (mut net, x, labels) = small_net(Activation::Tanh, 2);
    let t = trace(&mut net, &x, &labels);
    let inputs: Vec<&DMatrix<f32>> = std::iter::once(&x).chain(&t.activations).collect();
    for ((w_grad, z_grad), input) in t.weight_grads.iter().zip(&t.output_grads).zip(inputs) {
        let expected = z_grad * input.transpose();
        assert!((w_grad - &expected).abs().max() < 1e-6);
    }
}

proptest! {
    /// Every weight gradient `trace` reports equals finite differences of the loss.
    #[test]
    fn traced_weight_gradients_match_finite_differences(seed in 0u64..1000, which in 0usize..2) {
        let activation = [Activation::Sigmoid, Activation::Tanh][which];
        let (mut net, x, labels) = small_net(activation, seed);
        let t = trace(&mut net, &x, &labels);
        for (layer_index, analytic) in [0usize, 2, 4].into_iter().zip(&t.weight_grads) {
            let Layer::Linear(layer) = &net.layers[layer_index] else { unreachable!() };
            let numeric = numeric_gradient(|w| {
                let mut probe = net.clone();
                let Layer::Linear(target) = &mut probe.layers[layer_index] else { unreachable!() };
                target.weight.copy_from(w);
                cross_entropy_with_logits(probe.forward(&x), &labels).0
            }, &layer.weight, 1e-2);
            let result = check(analytic, &numeric, 3e-3);
            prop_assert!(result.is_ok(), "layer {}: {}", layer_index, result.unwrap_err());
        }
    }
}

#[test]
fn mean_and_standard_deviation() {
    let m = DMatrix::from_row_slice(2, 2, &[1.0, 3.0, 1.0, 3.0]);
    assert_eq!(mean_std(&m), (2.0, 1.0));
}
