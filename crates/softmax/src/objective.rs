//! Cross-entropy against squared error for classification: the same logits turned
//! into a training signal three ways, so `mse-vs-ce` can train one model with each
//! and compare.
//!
//! - softmax + cross-entropy: ℓ = −log p_y, the chapter's loss;
//! - softmax + squared error: ℓ = ½‖p − onehot(y)‖², the probabilities regressed
//!   onto the one-hot label;
//! - sigmoid + squared error: ℓ = ½‖σ(o) − onehot(y)‖², each class its own yes/no
//!   output, the "sigmoid + MSE" of the source notes.
//!
//! Squared error here is `dlcore::loss::squared_into`, ½ Σ over the classes and a
//! mean over the examples, the loss of the linear-regression chapter. (PyTorch's
//! `mse_loss` instead averages over the classes as well and drops the ½, which makes
//! its gradients 5 times smaller still with 10 classes.)

use std::fmt;

use dlcore::activation::Activation;
use dlcore::layer::ensure_shape;
use dlcore::loss::{cross_entropy_with_logits_into, squared_into};
use nalgebra::DMatrix;

use crate::scratch::{softmax_backward_into, softmax_into};

/// Which output function and which loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    /// softmax + cross-entropy.
    CrossEntropy,
    /// softmax + squared error against the one-hot label.
    SoftmaxSquared,
    /// sigmoid on every logit + squared error against the one-hot label.
    SigmoidSquared,
}

impl Objective {
    /// All three, in the order the figures list them.
    pub const ALL: [Objective; 3] =
        [Objective::CrossEntropy, Objective::SoftmaxSquared, Objective::SigmoidSquared];

    /// The name in legends and tables.
    pub fn name(self) -> &'static str {
        match self {
            Objective::CrossEntropy => "softmax + cross-entropy",
            Objective::SoftmaxSquared => "softmax + squared error",
            Objective::SigmoidSquared => "sigmoid + squared error",
        }
    }

    /// A short identifier for column names in metrics.csv and summary.json.
    pub fn key(self) -> &'static str {
        match self {
            Objective::CrossEntropy => "ce",
            Objective::SoftmaxSquared => "softmax_mse",
            Objective::SigmoidSquared => "sigmoid_mse",
        }
    }
}

impl fmt::Display for Objective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Writes the one-hot encoding of `labels` into `targets` (`classes × n`).
pub fn one_hot_into(labels: &[u8], targets: &mut DMatrix<f32>) {
    assert_eq!(targets.ncols(), labels.len(), "one label per column");
    targets.fill(0.0);
    for (k, &y) in labels.iter().enumerate() {
        targets[(usize::from(y), k)] = 1.0;
    }
}

/// An [`Objective`] with the buffers its squared-error variants need (outputs,
/// one-hot targets, ∂L/∂outputs), kept between steps so training allocates nothing.
#[derive(Debug, Clone)]
pub struct ObjectiveLoss {
    pub objective: Objective,
    outputs: DMatrix<f32>,
    targets: DMatrix<f32>,
    grad_outputs: DMatrix<f32>,
}

impl ObjectiveLoss {
    pub fn new(objective: Objective) -> Self {
        let empty = || DMatrix::zeros(0, 0);
        ObjectiveLoss { objective, outputs: empty(), targets: empty(), grad_outputs: empty() }
    }

    // ANCHOR: objectives
    /// The batch-mean loss of `logits` against `labels`; writes ∂L/∂logits into
    /// `grad_logits`. The squared-error variants go through the output function by
    /// the chain rule: first ∂L/∂outputs = (outputs − onehot)/n, then back through
    /// softmax's Jacobian or σ'(o).
    pub fn value_and_grad(
        &mut self,
        logits: &DMatrix<f32>,
        labels: &[u8],
        grad_logits: &mut DMatrix<f32>,
    ) -> f32 {
        let (classes, n) = logits.shape();
        for buffer in [&mut self.outputs, &mut self.targets, &mut self.grad_outputs] {
            ensure_shape(buffer, classes, n);
        }
        match self.objective {
            Objective::CrossEntropy => cross_entropy_with_logits_into(logits, labels, grad_logits),
            Objective::SoftmaxSquared => {
                softmax_into(logits, &mut self.outputs);
                one_hot_into(labels, &mut self.targets);
                let value = squared_into(&self.outputs, &self.targets, &mut self.grad_outputs);
                softmax_backward_into(&self.outputs, &self.grad_outputs, grad_logits);
                value
            }
            Objective::SigmoidSquared => {
                Activation::Sigmoid.forward_into(logits, &mut self.outputs);
                one_hot_into(labels, &mut self.targets);
                let value = squared_into(&self.outputs, &self.targets, &mut self.grad_outputs);
                grad_logits.copy_from(&self.grad_outputs);
                Activation::Sigmoid.backward_in_place(logits, grad_logits);
                value
            }
        }
    }
    // ANCHOR_END: objectives
}

/// How hard each objective pushes the true class's logit up, |∂ℓ/∂o_y| for a single
/// example, when the model gives the true class probability `p_true` and puts the
/// rest, 1 − `p_true`, on one wrong class (for the sigmoid: σ(o_y) = `p_true`, the
/// wrong class's output 1 − `p_true`, every other output about 0). Computed with
/// [`ObjectiveLoss::value_and_grad`] itself, so the figure shows the code's gradient.
///
/// `p_true` must lie strictly between 0 and 1.
pub fn push_on_true_logit(objective: Objective, p_true: f32, classes: usize) -> f32 {
    assert!(classes >= 2 && 0.0 < p_true && p_true < 1.0, "need 2+ classes and 0 < p < 1");
    let (truth, wrong) = (0usize, 1usize);
    // Logits far below the rest: their softmax share and their sigmoid are ~1e-13.
    let mut logits = DMatrix::from_element(classes, 1, -30.0f32);
    match objective {
        Objective::CrossEntropy | Objective::SoftmaxSquared => {
            logits[truth] = p_true.ln();
            logits[wrong] = (1.0 - p_true).ln();
        }
        Objective::SigmoidSquared => {
            let logit = |p: f32| (p / (1.0 - p)).ln(); // the inverse of σ
            logits[truth] = logit(p_true);
            logits[wrong] = logit(1.0 - p_true);
        }
    }
    let mut grad = DMatrix::zeros(classes, 1);
    ObjectiveLoss::new(objective).value_and_grad(&logits, &[truth as u8], &mut grad);
    grad[truth].abs()
}
