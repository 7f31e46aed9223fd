//! Losses and the weight penalty, each a scalar at the end of a graph.
//!
//! The two losses are *fused*: their forward pass calls `dlcore::loss`, which returns
//! the value and the gradient together (the stable formulas every chapter uses), and
//! keeps the gradient for the backward pass. Computing softmax, log and the mean as
//! separate nodes would give the same gradient with more nodes and less accuracy.

use dlcore::loss::{cross_entropy_with_logits_into, mse};
use nalgebra::DMatrix;

use crate::engine::{Graph, Operation, Var, grad_mut};

// ANCHOR: cross_entropy
/// Softmax cross-entropy of `logits` (classes × examples) against `labels`, a 1×n
/// row of class indices stored as numbers, averaged over the examples. The labels
/// are an input like any other, so they appear in the graph, but they get no
/// gradient: a class index is not something to differentiate.
#[derive(Debug)]
pub struct SoftmaxCrossEntropy {
    inputs: [Var; 2],
    /// The labels as `dlcore::loss` takes them, refilled by every forward pass.
    classes: Vec<u8>,
    /// ∂L/∂logits from the last forward pass: softmax(logits) − onehot(labels), / n.
    grad_logits: DMatrix<f32>,
}

impl Operation for SoftmaxCrossEntropy {
    fn symbol(&self) -> String {
        "CE".into()
    }

    fn inputs(&self) -> &[Var] {
        &self.inputs
    }

    fn output_shape(&self, values: &[DMatrix<f32>]) -> (usize, usize) {
        let [logits, labels] = self.inputs;
        let n = values[logits].ncols();
        assert_eq!(values[labels].shape(), (1, n), "cross-entropy needs one label per column of the logits");
        (1, 1)
    }

    fn forward(&mut self, values: &[DMatrix<f32>], out: &mut DMatrix<f32>) {
        let [logits, labels] = self.inputs;
        let classes = values[logits].nrows();
        self.classes.clear();
        for &label in values[labels].iter() {
            assert!(
                label >= 0.0 && label.fract() == 0.0 && (label as usize) < classes && classes <= 256,
                "labels must be class indices in 0..{classes}, got {label}"
            );
            self.classes.push(label as u8);
        }
        out[(0, 0)] = cross_entropy_with_logits_into(&values[logits], &self.classes, &mut self.grad_logits);
    }

    fn backward(
        &self,
        _values: &[DMatrix<f32>],
        _out: &DMatrix<f32>,
        grad_out: &DMatrix<f32>,
        grads: &mut [Option<DMatrix<f32>>],
    ) {
        if let Some(grad) = grad_mut(grads, self.inputs[0]) {
            let up = grad_out[(0, 0)];
            grad.zip_apply(&self.grad_logits, |g, d| *g += up * d);
        }
    }
}
// ANCHOR_END: cross_entropy

/// Mean squared error (ŷ − y)² over every entry, PyTorch's `F.mse_loss`. Both
/// arguments can require a gradient: ∂/∂ŷ = 2(ŷ − y)/count and ∂/∂y is its negative.
/// Its forward pass takes the gradient from `dlcore::loss::mse`, which returns a new
/// matrix: one allocation per pass, the only operation that makes one.
#[derive(Debug)]
pub struct MeanSquaredError {
    inputs: [Var; 2],
    /// ∂L/∂prediction from the last forward pass.
    grad_prediction: DMatrix<f32>,
}

impl Operation for MeanSquaredError {
    fn symbol(&self) -> String {
        "MSE".into()
    }

    fn inputs(&self) -> &[Var] {
        &self.inputs
    }

    fn output_shape(&self, values: &[DMatrix<f32>]) -> (usize, usize) {
        let [prediction, target] = self.inputs;
        let (sp, st) = (values[prediction].shape(), values[target].shape());
        assert_eq!(sp, st, "mse needs a prediction and a target of one shape, got {sp:?} and {st:?}");
        (1, 1)
    }

    fn forward(&mut self, values: &[DMatrix<f32>], out: &mut DMatrix<f32>) {
        let [prediction, target] = self.inputs;
        let (value, grad) = mse(&values[prediction], &values[target]);
        out[(0, 0)] = value;
        self.grad_prediction = grad;
    }

    fn backward(
        &self,
        _values: &[DMatrix<f32>],
        _out: &DMatrix<f32>,
        grad_out: &DMatrix<f32>,
        grads: &mut [Option<DMatrix<f32>>],
    ) {
        let up = grad_out[(0, 0)];
        let [prediction, target] = self.inputs;
        if let Some(grad) = grad_mut(grads, prediction) {
            grad.zip_apply(&self.grad_prediction, |g, d| *g += up * d);
        }
        if let Some(grad) = grad_mut(grads, target) {
            grad.zip_apply(&self.grad_prediction, |g, d| *g -= up * d);
        }
    }
}

// ANCHOR: penalty
/// The L2 penalty s = λ/2 · Σᵢ ‖Wᵢ‖²_F over any number of weight matrices, where
/// ‖W‖²_F is the sum of the squares of W's entries (the Frobenius norm, squared).
/// Its gradient with respect to each Wᵢ is λ·Wᵢ: weight decay.
#[derive(Debug)]
pub struct FrobeniusPenalty {
    inputs: Vec<Var>,
    lambda: f32,
}

impl Operation for FrobeniusPenalty {
    fn symbol(&self) -> String {
        "λ/2‖·‖²".into()
    }

    fn inputs(&self) -> &[Var] {
        &self.inputs
    }

    fn output_shape(&self, _values: &[DMatrix<f32>]) -> (usize, usize) {
        (1, 1)
    }

    fn forward(&mut self, values: &[DMatrix<f32>], out: &mut DMatrix<f32>) {
        let squares: f32 = self.inputs.iter().map(|&w| values[w].norm_squared()).sum();
        out[(0, 0)] = self.lambda / 2.0 * squares;
    }

    fn backward(
        &self,
        values: &[DMatrix<f32>],
        _out: &DMatrix<f32>,
        grad_out: &DMatrix<f32>,
        grads: &mut [Option<DMatrix<f32>>],
    ) {
        let factor = grad_out[(0, 0)] * self.lambda;
        for &w in &self.inputs {
            if let Some(grad) = grad_mut(grads, w) {
                grad.zip_apply(&values[w], |g, w| *g += factor * w);
            }
        }
    }
}
// ANCHOR_END: penalty

impl Graph {
    /// Mean softmax cross-entropy of `logits` against `labels` (a 1×n row of class
    /// indices).
    pub fn softmax_cross_entropy(&mut self, logits: Var, labels: Var) -> Var {
        let (rows, cols) = self.value(logits).shape();
        self.apply(Box::new(SoftmaxCrossEntropy {
            inputs: [logits, labels],
            classes: Vec::with_capacity(cols),
            grad_logits: DMatrix::zeros(rows, cols),
        }))
    }

    /// Mean squared error between `prediction` and `target`.
    pub fn mse(&mut self, prediction: Var, target: Var) -> Var {
        self.apply(Box::new(MeanSquaredError {
            inputs: [prediction, target],
            grad_prediction: DMatrix::zeros(0, 0),
        }))
    }

    /// λ/2 · Σ ‖W‖²_F over `weights`.
    pub fn l2_penalty(&mut self, weights: &[Var], lambda: f32) -> Var {
        self.apply(Box::new(FrobeniusPenalty { inputs: weights.to_vec(), lambda }))
    }
}
