//! Every hand-written gradient of the chapter against central finite differences:
//! the backward pass of the networks `mlp::build` makes, for every activation,
//! with plain logits and with the notes' ReLU on the logits; and the perceptron
//! formula of `mlp::perceptron`.

use dlcore::activation::Activation;
use dlcore::gradcheck::{check, numeric_gradient};
use dlcore::init::Init;
use dlcore::layer::{ActivationLayer, Layer, Linear, Sequential};
use dlcore::loss::{cross_entropy_with_logits, mse};
use dlcore::seeded_rng;
use mlp::perceptron::{perceptron_loss, sigmoid_perceptrons};
use mlp::{Config, build};
use nalgebra::DMatrix;
use proptest::prelude::*;

/// The step of the finite differences, and how far from a kink every
/// pre-activation must lie for a step not to cross it.
const H: f32 = 1e-3;
const KINK_MARGIN: f32 = 0.01;
const TOLERANCE: f32 = 3e-3;

fn config(activation: Activation, output_activation: Option<Activation>) -> Config {
    Config {
        hidden: vec![5, 4],
        activation,
        output_activation,
        init: Init::XavierNormal,
        lr: 0.1,
        momentum: 0.0,
        weight_decay: 0.0,
        lr_schedule: None,
        batch_size: 3,
        epochs: 1,
    }
}

fn has_kink(activation: Activation) -> bool {
    matches!(activation, Activation::Relu | Activation::LeakyRelu(_) | Activation::Selu)
}

/// The smallest |z| that enters a kinked activation layer, walking the layers by hand.
fn smallest_kinked_input(net: &Sequential, x: &DMatrix<f32>) -> f32 {
    let mut probe = net.clone();
    let mut a = x.clone();
    let mut smallest = f32::INFINITY;
    for layer in &mut probe.layers {
        a = match layer {
            Layer::Linear(linear) => linear.forward(&a).clone(),
            Layer::Activation(act) => {
                if has_kink(act.activation) {
                    smallest = a.iter().fold(smallest, |m, z| m.min(z.abs()));
                }
                act.forward(&a).clone()
            }
        };
    }
    smallest
}

fn loss_of(net: &Sequential, x: &DMatrix<f32>, labels: &[u8]) -> f32 {
    cross_entropy_with_logits(net.clone().forward(x), labels).0
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// ∂L/∂W and ∂L/∂b of every dense layer of a 4-5-4-3 network equal finite
    /// differences of the cross-entropy, for every activation.
    #[test]
    fn mlp_backward_matches_finite_differences(
        seed in 0u64..100_000,
        which in 0usize..Activation::ALL.len(),
        relu_on_logits: bool,
    ) {
        let activation = Activation::ALL[which];
        let output_activation = relu_on_logits.then_some(Activation::Relu);
        let mut rng = seeded_rng(seed);
        let mut net = build(&config(activation, output_activation), 4, 3, &mut rng);
        for layer in &mut net.layers {
            if let Layer::Linear(linear) = layer {
                linear.bias = Init::Uniform { low: -0.5, high: 0.5 }.matrix(linear.fan_out(), 1, &mut rng);
            }
        }
        let x = Init::Uniform { low: -2.0, high: 2.0 }.matrix(4, 3, &mut rng);
        let labels = [0u8, 2, 1];
        prop_assume!(smallest_kinked_input(&net, &x) > KINK_MARGIN);

        let (_, grad) = cross_entropy_with_logits(net.forward(&x), &labels);
        net.zero_grad();
        net.backward(&grad);
        let dense: Vec<usize> = net.layers.iter().enumerate()
            .filter(|(_, l)| matches!(l, Layer::Linear(_))).map(|(i, _)| i).collect();
        prop_assert_eq!(dense.len(), 3);
        for &index in &dense {
            let Layer::Linear(layer) = &net.layers[index] else { unreachable!() };
            let with = |f: &dyn Fn(&mut Linear)| {
                let mut probe = net.clone();
                let Layer::Linear(target) = &mut probe.layers[index] else { unreachable!() };
                f(target);
                loss_of(&probe, &x, &labels)
            };
            let numeric_w = numeric_gradient(|w| with(&|l| l.weight.copy_from(w)), &layer.weight, H);
            let numeric_b = numeric_gradient(|b| with(&|l| l.bias.copy_from(b)), &layer.bias, H);
            let w_check = check(&layer.grad_weight, &numeric_w, TOLERANCE);
            let b_check = check(&layer.grad_bias, &numeric_b, TOLERANCE);
            prop_assert!(w_check.is_ok(), "{} (ReLU on logits: {}), layer {}: {}", activation, relu_on_logits, index, w_check.unwrap_err());
            prop_assert!(b_check.is_ok(), "{} (ReLU on logits: {}), layer {}: {}", activation, relu_on_logits, index, b_check.unwrap_err());
        }
    }

    /// The perceptron formula (2/K)(o − t)·o(1 − o)·xᵀ equals finite differences.
    #[test]
    fn perceptron_formula_matches_finite_differences(
        seed in 0u64..100_000,
        outputs in 1usize..4,
        features in 1usize..8,
        examples in 1usize..3,
    ) {
        let mut rng = seeded_rng(seed);
        let normal = Init::Normal { std: 1.0 };
        let w = normal.matrix(outputs, features, &mut rng);
        let x = normal.matrix(features, examples, &mut rng);
        let t = Init::Uniform { low: 0.0, high: 1.0 }.matrix(outputs, examples, &mut rng);
        let pass = sigmoid_perceptrons(&w, &x, &t);
        let numeric = numeric_gradient(|w| perceptron_loss(w, &x, &t), &w, H);
        let result = check(&pass.grad_weight, &numeric, TOLERANCE);
        prop_assert!(result.is_ok(), "{}", result.unwrap_err());
    }

    /// … and equals what dlcore's layers compute for the same network: a dense
    /// layer without bias, a sigmoid layer, and dlcore's mean squared error.
    #[test]
    fn perceptron_formula_matches_dlcore_layers(seed in 0u64..100_000, outputs in 1usize..4) {
        let mut rng = seeded_rng(seed);
        let normal = Init::Normal { std: 1.0 };
        let w = normal.matrix(outputs, 10, &mut rng);
        let x = normal.matrix(10, 1, &mut rng);
        let t = DMatrix::from_element(outputs, 1, 1.0f32);
        let pass = sigmoid_perceptrons(&w, &x, &t);
        let mut dense = Linear::from_parameters(w.clone(), DMatrix::zeros(outputs, 1));
        let mut sigmoid = ActivationLayer::new(Activation::Sigmoid);
        let o = sigmoid.forward(dense.forward(&x)).clone();
        let (loss, grad_o) = mse(&o, &t);
        dense.backward(sigmoid.backward(&grad_o));
        prop_assert!((loss - pass.loss).abs() <= 1e-6 * (1.0 + loss.abs()));
        prop_assert!(check(&dense.grad_weight, &pass.grad_weight, 1e-5).is_ok());
    }
}

/// The notes' observation, explained: a perceptron whose sigmoid is saturated
/// (o ≈ 1) receives almost no gradient, while its neighbour learns.
#[test]
fn a_saturated_perceptron_gets_almost_no_gradient() {
    let x = DMatrix::from_element(10, 1, 1.0f32);
    // Unit 1: z = 15, deep in saturation; unit 2: z = 0.5.
    let mut w = DMatrix::from_element(2, 10, 0.05f32);
    w.row_mut(0).fill(1.5);
    let pass = sigmoid_perceptrons(&w, &x, &DMatrix::from_element(2, 1, 1.0));
    let saturated = pass.grad_weight.row(0).abs().max();
    let learning = pass.grad_weight.row(1).abs().max();
    assert!(saturated < 1e-6, "saturated row {saturated}");
    assert!(learning > 0.05, "active row {learning}");
}
