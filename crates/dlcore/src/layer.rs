//! Layers: the dense (Linear) layer, an activation layer, and a small sequential
//! container. Each layer keeps what its backward pass needs from the forward pass,
//! and owns its output and gradient buffers so a training loop reuses them every
//! step instead of allocating.

use nalgebra::DMatrix;

use crate::Rng;
use crate::activation::Activation;
use crate::init::Init;
use crate::linalg::{Op, matmul_into};
use crate::optim::{Param, Params};

/// Makes `buffer` `rows × cols`, allocating only when the shape changes (for
/// example for the last, smaller batch of an epoch).
pub fn ensure_shape(buffer: &mut DMatrix<f32>, rows: usize, cols: usize) {
    if buffer.shape() != (rows, cols) {
        *buffer = DMatrix::zeros(rows, cols);
    }
}

/// Whether a backward pass adds to the gradients already held (PyTorch's
/// behaviour, which [`Sequential::backward`] keeps) or replaces them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gradients {
    Accumulate,
    Overwrite,
}

/// A dense layer Z = W·X + b, one example per column of X.
#[derive(Debug, Clone)]
pub struct Linear {
    /// `fan_out × fan_in`.
    pub weight: DMatrix<f32>,
    /// `fan_out × 1`, broadcast along the batch.
    pub bias: DMatrix<f32>,
    /// ∂L/∂W, accumulated by [`Linear::backward`] until [`Linear::zero_grad`].
    pub grad_weight: DMatrix<f32>,
    /// ∂L/∂b, accumulated likewise.
    pub grad_bias: DMatrix<f32>,
    input: DMatrix<f32>,
    output: DMatrix<f32>,
    grad_input: DMatrix<f32>,
}

impl Linear {
    /// A layer from `fan_in` to `fan_out` units with weights drawn from `init` and
    /// zero biases.
    pub fn new(fan_in: usize, fan_out: usize, init: Init, rng: &mut Rng) -> Self {
        Self::from_parameters(init.matrix(fan_out, fan_in, rng), DMatrix::zeros(fan_out, 1))
    }

    /// A layer with the given weight (`fan_out × fan_in`) and bias (`fan_out × 1`).
    pub fn from_parameters(weight: DMatrix<f32>, bias: DMatrix<f32>) -> Self {
        assert_eq!(bias.shape(), (weight.nrows(), 1), "bias must be a column with one entry per output");
        let (rows, cols) = weight.shape();
        Linear {
            grad_weight: DMatrix::zeros(rows, cols),
            grad_bias: DMatrix::zeros(rows, 1),
            weight,
            bias,
            input: DMatrix::zeros(0, 0),
            output: DMatrix::zeros(0, 0),
            grad_input: DMatrix::zeros(0, 0),
        }
    }

    /// Number of inputs.
    pub fn fan_in(&self) -> usize {
        self.weight.ncols()
    }

    /// Number of outputs.
    pub fn fan_out(&self) -> usize {
        self.weight.nrows()
    }

    // ANCHOR: linear_forward
    /// Z = W·X + b. Keeps a copy of X, which the backward pass needs for ∂L/∂W.
    pub fn forward(&mut self, x: &DMatrix<f32>) -> &DMatrix<f32> {
        let batch = x.ncols();
        ensure_shape(&mut self.input, x.nrows(), batch);
        self.input.copy_from(x);
        let fan_out = self.fan_out();
        ensure_shape(&mut self.output, fan_out, batch);
        // Start every column at b, then accumulate W·X on top of it (β = 1).
        for mut column in self.output.column_iter_mut() {
            column.copy_from(&self.bias);
        }
        matmul_into(&mut self.output, 1.0, &self.weight, Op::N, x, Op::N, 1.0);
        &self.output
    }
    // ANCHOR_END: linear_forward

    // ANCHOR: linear_backward
    /// Given ∂L/∂Z, accumulates ∂L/∂W += ∂L/∂Z·Xᵀ and ∂L/∂b += Σ_columns ∂L/∂Z, and
    /// returns ∂L/∂X = Wᵀ·∂L/∂Z.
    pub fn backward(&mut self, grad_output: &DMatrix<f32>) -> &DMatrix<f32> {
        self.params_backward(grad_output, Gradients::Accumulate);
        self.input_backward(grad_output)
    }

    /// ∂L/∂X = Wᵀ·∂L/∂Z.
    fn input_backward(&mut self, grad_output: &DMatrix<f32>) -> &DMatrix<f32> {
        let fan_in = self.fan_in();
        ensure_shape(&mut self.grad_input, fan_in, grad_output.ncols());
        matmul_into(&mut self.grad_input, 1.0, &self.weight, Op::T, grad_output, Op::N, 0.0);
        &self.grad_input
    }
    // ANCHOR_END: linear_backward

    /// The parameter half of [`Linear::backward`]: accumulates ∂L/∂W and ∂L/∂b but
    /// skips ∂L/∂X. A network's first layer needs no gradient for its input (the
    /// data), and skipping it saves a third of that layer's work.
    pub fn backward_params(&mut self, grad_output: &DMatrix<f32>) {
        self.params_backward(grad_output, Gradients::Accumulate);
    }

    fn params_backward(&mut self, grad_output: &DMatrix<f32>, mode: Gradients) {
        assert_eq!(
            grad_output.shape(),
            self.output.shape(),
            "backward needs a forward pass of the same batch first"
        );
        let beta = match mode {
            Gradients::Accumulate => 1.0,
            Gradients::Overwrite => {
                self.grad_bias.fill(0.0);
                0.0
            }
        };
        matmul_into(&mut self.grad_weight, 1.0, grad_output, Op::N, &self.input, Op::T, beta);
        for column in grad_output.column_iter() {
            self.grad_bias += column;
        }
    }

    /// Clears the accumulated gradients.
    pub fn zero_grad(&mut self) {
        self.grad_weight.fill(0.0);
        self.grad_bias.fill(0.0);
    }
}

impl Params for Linear {
    /// Weights are decayed, biases are not: a bias only shifts a unit and does not
    /// make the function more complex, the convention of d2l and most libraries.
    fn visit_params(&mut self, visit: &mut dyn FnMut(Param<'_>)) {
        visit(Param { value: &mut self.weight, grad: &self.grad_weight, decay: true });
        visit(Param { value: &mut self.bias, grad: &self.grad_bias, decay: false });
    }
}

/// An activation as a layer: caches its input Z to apply φ'(Z) on the way back.
#[derive(Debug, Clone)]
pub struct ActivationLayer {
    pub activation: Activation,
    input: DMatrix<f32>,
    output: DMatrix<f32>,
    grad_input: DMatrix<f32>,
}

impl ActivationLayer {
    pub fn new(activation: Activation) -> Self {
        let empty = || DMatrix::zeros(0, 0);
        ActivationLayer { activation, input: empty(), output: empty(), grad_input: empty() }
    }

    /// A = φ(Z).
    pub fn forward(&mut self, z: &DMatrix<f32>) -> &DMatrix<f32> {
        ensure_shape(&mut self.input, z.nrows(), z.ncols());
        ensure_shape(&mut self.output, z.nrows(), z.ncols());
        // One pass keeps Z for the backward pass and writes φ(Z).
        let activation = self.activation;
        let outputs = self.output.as_mut_slice().iter_mut().zip(self.input.as_mut_slice());
        for ((a, kept), &z) in outputs.zip(z.as_slice()) {
            *kept = z;
            *a = activation.value(z);
        }
        &self.output
    }

    /// ∂L/∂Z = ∂L/∂A ⊙ φ'(Z).
    pub fn backward(&mut self, grad_output: &DMatrix<f32>) -> &DMatrix<f32> {
        ensure_shape(&mut self.grad_input, grad_output.nrows(), grad_output.ncols());
        let activation = self.activation;
        self.grad_input.zip_zip_apply(grad_output, &self.input, |g, upstream, z| {
            *g = upstream * activation.derivative(z)
        });
        &self.grad_input
    }

    /// A = φ(Z) of the last forward pass.
    pub fn output(&self) -> &DMatrix<f32> {
        &self.output
    }

    /// ∂L/∂Z of the last backward pass.
    pub fn grad_input(&self) -> &DMatrix<f32> {
        &self.grad_input
    }
}

/// One step of a [`Sequential`] network.
#[derive(Debug, Clone)]
pub enum Layer {
    Linear(Linear),
    Activation(ActivationLayer),
}

impl Layer {
    fn forward(&mut self, x: &DMatrix<f32>) -> &DMatrix<f32> {
        match self {
            Layer::Linear(layer) => layer.forward(x),
            Layer::Activation(layer) => layer.forward(x),
        }
    }

    fn output(&self) -> &DMatrix<f32> {
        match self {
            Layer::Linear(layer) => &layer.output,
            Layer::Activation(layer) => &layer.output,
        }
    }
}

/// Layers applied in order; the forward pass feeds each output to the next layer,
/// the backward pass walks them in reverse (the chain rule, one layer at a time).
#[derive(Debug, Clone, Default)]
pub struct Sequential {
    pub layers: Vec<Layer>,
}

impl Sequential {
    /// An MLP `sizes[0] → sizes[1] → … → sizes[last]` with `activation` after every
    /// hidden layer and none after the last (it outputs logits or predictions).
    pub fn mlp(sizes: &[usize], activation: Activation, init: Init, rng: &mut Rng) -> Self {
        let mut layers = Vec::new();
        for (i, pair) in sizes.windows(2).enumerate() {
            layers.push(Layer::Linear(Linear::new(pair[0], pair[1], init, rng)));
            if i + 2 < sizes.len() {
                layers.push(Layer::Activation(ActivationLayer::new(activation)));
            }
        }
        Sequential { layers }
    }

    /// The network's output for a batch `x` (one example per column).
    pub fn forward(&mut self, x: &DMatrix<f32>) -> &DMatrix<f32> {
        let Some((first, rest)) = self.layers.split_first_mut() else {
            panic!("a Sequential needs at least one layer");
        };
        first.forward(x);
        let mut previous = first;
        for layer in rest {
            layer.forward(previous.output());
            previous = layer;
        }
        previous.output()
    }

    /// Backpropagates ∂L/∂output through every layer, accumulating parameter
    /// gradients. The gradient with respect to the network's input is not
    /// computed: nothing upstream of the data needs it.
    pub fn backward(&mut self, grad_output: &DMatrix<f32>) {
        self.backward_with(grad_output, Gradients::Accumulate);
    }

    /// [`Sequential::zero_grad`] followed by [`Sequential::backward`], fused: each
    /// weight gradient is written by its product instead of cleared and then added
    /// to, which saves a pass over every gradient matrix per training step.
    pub fn zero_grad_and_backward(&mut self, grad_output: &DMatrix<f32>) {
        self.backward_with(grad_output, Gradients::Overwrite);
    }

    fn backward_with(&mut self, grad_output: &DMatrix<f32>, mode: Gradients) {
        let mut upstream = grad_output;
        for (index, layer) in self.layers.iter_mut().enumerate().rev() {
            match layer {
                Layer::Linear(first) if index == 0 => first.params_backward(upstream, mode),
                Layer::Linear(linear) => {
                    linear.params_backward(upstream, mode);
                    upstream = linear.input_backward(upstream);
                }
                Layer::Activation(activation) => upstream = activation.backward(upstream),
            }
        }
    }

    /// Clears every layer's accumulated gradients.
    pub fn zero_grad(&mut self) {
        for layer in &mut self.layers {
            if let Layer::Linear(linear) = layer {
                linear.zero_grad();
            }
        }
    }

    /// The dense layers, in order.
    pub fn linear_layers(&self) -> impl Iterator<Item = &Linear> {
        self.layers.iter().filter_map(|layer| match layer {
            Layer::Linear(linear) => Some(linear),
            Layer::Activation(_) => None,
        })
    }
}

impl Params for Sequential {
    fn visit_params(&mut self, visit: &mut dyn FnMut(Param<'_>)) {
        for layer in &mut self.layers {
            if let Layer::Linear(linear) = layer {
                linear.visit_params(visit);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{check, numeric_gradient};
    use crate::loss::cross_entropy_with_logits;
    use crate::seeded_rng;
    use proptest::prelude::*;

    #[test]
    fn linear_forward_by_hand() {
        let mut layer = Linear::from_parameters(
            DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 0.0, -1.0, 1.0]),
            DMatrix::from_column_slice(2, 1, &[0.5, -0.5]),
        );
        let x = DMatrix::from_column_slice(3, 2, &[1.0, 1.0, 1.0, 1.0, 0.0, -1.0]);
        let z = layer.forward(&x).clone();
        assert_eq!(z, DMatrix::from_column_slice(2, 2, &[6.5, -0.5, -1.5, -1.5]));
    }

    proptest! {
        /// The layer's three gradients equal finite differences of L = Σ C ⊙ Z for a
        /// random C (so ∂L/∂Z = C).
        #[test]
        fn linear_gradients_match_finite_differences(seed in 0u64..10_000, fan_in in 1usize..5, fan_out in 1usize..5, batch in 1usize..4) {
            let mut rng = seeded_rng(seed);
            let uniform = Init::Uniform { low: -1.0, high: 1.0 };
            let mut layer = Linear::new(fan_in, fan_out, uniform, &mut rng);
            layer.bias = uniform.matrix(fan_out, 1, &mut rng);
            let x = uniform.matrix(fan_in, batch, &mut rng);
            let c = uniform.matrix(fan_out, batch, &mut rng);
            layer.forward(&x);
            let dx = layer.backward(&c).clone();
            let (w, b) = (layer.weight.clone(), layer.bias.clone());
            let loss = |w: &DMatrix<f32>, b: &DMatrix<f32>, x: &DMatrix<f32>| {
                Linear::from_parameters(w.clone(), b.clone()).forward(x).component_mul(&c).sum()
            };
            let tol = 2e-3;
            prop_assert!(check(&layer.grad_weight, &numeric_gradient(|w| loss(w, &b, &x), &w, 1e-2), tol).is_ok());
            prop_assert!(check(&layer.grad_bias, &numeric_gradient(|b| loss(&w, b, &x), &b, 1e-2), tol).is_ok());
            prop_assert!(check(&dx, &numeric_gradient(|x| loss(&w, &b, x), &x, 1e-2), tol).is_ok());
        }

        /// Backward through a whole MLP with each activation equals finite
        /// differences of the cross-entropy loss with respect to every weight.
        #[test]
        fn mlp_gradients_match_finite_differences(seed in 0u64..10_000, which in 0usize..6) {
            let activation = Activation::ALL[which];
            let mut rng = seeded_rng(seed);
            let mut net = Sequential::mlp(&[3, 4, 3], activation, Init::XavierNormal, &mut rng);
            let x = Init::Uniform { low: -2.0, high: 2.0 }.matrix(3, 5, &mut rng);
            let labels = [0u8, 1, 2, 1, 0];
            // ReLU, LeakyReLU and SELU all have a kink (a jump in slope) at 0.
            let kinked = matches!(activation, Activation::Relu | Activation::LeakyRelu(_) | Activation::Selu);
            if kinked {
                // A finite difference that steps across a kink measures neither
                // slope; keep every pre-activation further from 0 than a step can move it.
                let Layer::Linear(first) = &mut net.layers[0] else { unreachable!() };
                let smallest = first.forward(&x).iter().fold(f32::INFINITY, |m, z| m.min(z.abs()));
                prop_assume!(smallest > 0.05);
            }
            let (_, grad) = cross_entropy_with_logits(net.forward(&x), &labels);
            net.zero_grad();
            net.backward(&grad);
            for index in [0, 2] {
                let Layer::Linear(layer) = &net.layers[index] else { unreachable!() };
                let analytic = layer.grad_weight.clone();
                let numeric = numeric_gradient(|w| {
                    let mut probe = net.clone();
                    let Layer::Linear(target) = &mut probe.layers[index] else { unreachable!() };
                    target.weight.copy_from(w);
                    cross_entropy_with_logits(probe.forward(&x), &labels).0
                }, &layer.weight, 1e-2);
                let result = check(&analytic, &numeric, 3e-3);
                prop_assert!(result.is_ok(), "{} layer {}: {}", activation, index, result.unwrap_err());
            }
        }
    }

    #[test]
    fn gradients_accumulate_until_zeroed() {
        let mut rng = seeded_rng(0);
        let mut layer = Linear::new(2, 2, Init::KaimingNormal, &mut rng);
        let x = DMatrix::from_element(2, 3, 1.0);
        let g = DMatrix::from_element(2, 3, 1.0);
        layer.forward(&x);
        layer.backward(&g);
        let once = layer.grad_weight.clone();
        layer.backward(&g);
        assert_eq!(layer.grad_weight, &once * 2.0);
        layer.zero_grad();
        assert!(layer.grad_weight.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn fused_zero_grad_and_backward_equals_the_two_steps() {
        let mut rng = seeded_rng(5);
        let mut a = Sequential::mlp(&[4, 5, 3], Activation::Tanh, Init::XavierNormal, &mut rng);
        let x = Init::Uniform { low: -1.0, high: 1.0 }.matrix(4, 6, &mut rng);
        let g = Init::Uniform { low: -1.0, high: 1.0 }.matrix(3, 6, &mut rng);
        let mut b = a.clone();
        for _ in 0..2 {
            a.forward(&x);
            a.zero_grad();
            a.backward(&g);
            b.forward(&x);
            b.zero_grad_and_backward(&g);
        }
        let grads = |n: &Sequential| {
            n.linear_layers().map(|l| (l.grad_weight.clone(), l.grad_bias.clone())).collect::<Vec<_>>()
        };
        assert_eq!(grads(&a), grads(&b));
    }

    #[test]
    fn mlp_layout() {
        let net =
            Sequential::mlp(&[784, 256, 256, 10], Activation::Relu, Init::KaimingNormal, &mut seeded_rng(0));
        assert_eq!(net.layers.len(), 5);
        let shapes: Vec<_> = net.linear_layers().map(|l| l.weight.shape()).collect();
        assert_eq!(shapes, vec![(256, 784), (256, 256), (10, 256)]);
    }
}
