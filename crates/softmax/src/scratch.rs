//! Softmax regression written out by hand: the model's forward pass, softmax,
//! cross-entropy, their gradient and the SGD update, each a few lines over
//! nalgebra matrices and `dlcore`'s one matrix-product primitive.
//!
//! `dlcore::loss` has all of these already; the tests check that the two agree, and
//! both against finite differences. Here they are spelled out because they are what
//! the chapter teaches.
//!
//! Shapes follow the workspace: one example per column. A batch `X` of `n` images is
//! `784 × n`, the weights `W` are `10 × 784`, and the logits `O = W·X + b` are
//! `10 × n`, one column of ten class scores per image.

use dlcore::Rng;
use dlcore::init::Init;
use dlcore::layer::ensure_shape;
use dlcore::linalg::{Op, matmul_into};
use nalgebra::DMatrix;

use crate::train::Classifier;

// ANCHOR: naive
/// Softmax straight from the definition, p_i = e^(o_i) / Σ_j e^(o_j). Correct on
/// paper, but `exp` overflows to infinity once a logit passes about 88 in `f32`, and
/// ∞/∞ is NaN. Kept to show the failure; nothing trains with it.
pub fn naive_softmax(logits: &DMatrix<f32>) -> DMatrix<f32> {
    let mut probs = logits.map(f32::exp);
    for mut column in probs.column_iter_mut() {
        let sum = column.sum();
        column /= sum;
    }
    probs
}

/// Cross-entropy computed the way the formula reads, −log p_y from probabilities
/// already computed, averaged over the columns. When p_y underflows to 0 the loss is
/// infinite, even though the logits were perfectly ordinary numbers.
pub fn naive_cross_entropy(probs: &DMatrix<f32>, labels: &[u8]) -> f32 {
    let total: f32 = labels.iter().enumerate().map(|(k, &y)| -probs[(usize::from(y), k)].ln()).sum();
    total / labels.len() as f32
}
// ANCHOR_END: naive

// ANCHOR: softmax
/// Softmax of every column, p_i = e^(o_i − m) / Σ_j e^(o_j − m) with m = max_j o_j.
/// Subtracting the column's maximum cancels in the fraction, so the result is the
/// same, but now every exponent is ≤ 0: no `exp` can overflow, and the largest
/// term is exactly 1, so the sum is never 0.
pub fn softmax_into(logits: &DMatrix<f32>, probs: &mut DMatrix<f32>) {
    assert_eq!(logits.shape(), probs.shape(), "one probability per logit");
    for (o, mut p) in logits.column_iter().zip(probs.column_iter_mut()) {
        let m = o.max();
        p.zip_apply(&o, |p, o| *p = (o - m).exp());
        let sum = p.sum();
        p /= sum;
    }
}
// ANCHOR_END: softmax

/// [`softmax_into`], allocating the result.
pub fn softmax(logits: &DMatrix<f32>) -> DMatrix<f32> {
    let mut probs = DMatrix::zeros(logits.nrows(), logits.ncols());
    softmax_into(logits, &mut probs);
    probs
}

// ANCHOR: cross_entropy
/// Cross-entropy of softmax(O) against the labels, averaged over the n columns,
/// computed from the logits without ever forming log(p):
///
///   ℓ = −log p_y = −(o_y − log Σ_j e^(o_j)) = logsumexp(o) − o_y,
///   logsumexp(o) = m + log Σ_j e^(o_j − m),  m = max_j o_j.
///
/// Writes the gradient ∂L/∂O to `grad` (same shape as the logits): for one column
/// ∂ℓ/∂o = softmax(o) − onehot(y), divided by n because L is a mean over the batch.
pub fn cross_entropy_into(logits: &DMatrix<f32>, labels: &[u8], grad: &mut DMatrix<f32>) -> f32 {
    assert_eq!(logits.ncols(), labels.len(), "one label per column");
    assert_eq!(logits.shape(), grad.shape(), "one gradient entry per logit");
    let n = labels.len() as f32;
    let mut total = 0.0f64;
    for ((o, mut g), &y) in logits.column_iter().zip(grad.column_iter_mut()).zip(labels) {
        let y = usize::from(y);
        let m = o.max();
        g.zip_apply(&o, |g, o| *g = (o - m).exp()); // e^(o_j − m), each in (0, 1]
        let sum = g.sum();
        total += f64::from(m + sum.ln() - o[y]); // logsumexp(o) − o_y
        g /= sum * n; // softmax(o) / n
        g[y] -= 1.0 / n; // − onehot(y) / n
    }
    (total / f64::from(n)) as f32
}
// ANCHOR_END: cross_entropy

/// [`cross_entropy_into`], allocating the gradient.
pub fn cross_entropy(logits: &DMatrix<f32>, labels: &[u8]) -> (f32, DMatrix<f32>) {
    let mut grad = DMatrix::zeros(logits.nrows(), logits.ncols());
    let value = cross_entropy_into(logits, labels, &mut grad);
    (value, grad)
}

// ANCHOR: softmax_backward
/// The chain rule through softmax for a loss of the probabilities (such as squared
/// error): given p = softmax(o) and g = ∂L/∂p, writes ∂L/∂o = J·g per column, where
/// J_ij = ∂p_i/∂o_j = p_i(δ_ij − p_j). Multiplied out, J·g = p ⊙ (g − ⟨p, g⟩), so the
/// 10 × 10 Jacobian is never built.
pub fn softmax_backward_into(
    probs: &DMatrix<f32>,
    grad_probs: &DMatrix<f32>,
    grad_logits: &mut DMatrix<f32>,
) {
    assert_eq!(probs.shape(), grad_probs.shape(), "one gradient entry per probability");
    assert_eq!(probs.shape(), grad_logits.shape(), "one gradient entry per logit");
    for ((p, g), mut out) in
        probs.column_iter().zip(grad_probs.column_iter()).zip(grad_logits.column_iter_mut())
    {
        let dot = p.dot(&g);
        out.zip_zip_apply(&p, &g, |out, p, g| *out = p * (g - dot));
    }
}
// ANCHOR_END: softmax_backward

/// Softmax regression: one dense layer from `inputs` pixels to `classes` scores,
/// O = W·X + b, trained by minibatch SGD at learning rate `lr`.
#[derive(Debug, Clone)]
pub struct SoftmaxRegression {
    /// `classes × inputs`.
    pub weight: DMatrix<f32>,
    /// `classes × 1`, added to every column.
    pub bias: DMatrix<f32>,
    /// The SGD step size η.
    pub lr: f32,
    /// ∂L/∂W of the last batch, `classes × inputs`.
    pub grad_weight: DMatrix<f32>,
    /// ∂L/∂b of the last batch, `classes × 1`.
    pub grad_bias: DMatrix<f32>,
    logits: DMatrix<f32>,
}

impl SoftmaxRegression {
    /// Weights drawn from N(0, `weight_std`²) (d2l uses 0.01) and zero biases.
    pub fn new(inputs: usize, classes: usize, weight_std: f32, lr: f32, rng: &mut Rng) -> Self {
        let weight = Init::Normal { std: weight_std }.matrix(classes, inputs, rng);
        Self::from_parameters(weight, DMatrix::zeros(classes, 1), lr)
    }

    /// A model with the given weights (`classes × inputs`) and biases (`classes × 1`).
    pub fn from_parameters(weight: DMatrix<f32>, bias: DMatrix<f32>, lr: f32) -> Self {
        assert_eq!(bias.shape(), (weight.nrows(), 1), "one bias per class");
        let (classes, inputs) = weight.shape();
        SoftmaxRegression {
            grad_weight: DMatrix::zeros(classes, inputs),
            grad_bias: DMatrix::zeros(classes, 1),
            weight,
            bias,
            lr,
            logits: DMatrix::zeros(0, 0),
        }
    }

    // ANCHOR: forward
    /// The logits O = W·X + b of a batch X (one image per column).
    pub fn forward(&mut self, x: &DMatrix<f32>) -> &DMatrix<f32> {
        ensure_shape(&mut self.logits, self.weight.nrows(), x.ncols());
        for mut column in self.logits.column_iter_mut() {
            column.copy_from(&self.bias); // start every column at b …
        }
        matmul_into(&mut self.logits, 1.0, &self.weight, Op::N, x, Op::N, 1.0); // … and add W·X
        &self.logits
    }
    // ANCHOR_END: forward

    // ANCHOR: backward
    /// The parameter gradients from G = ∂L/∂O for the batch X that produced O:
    /// since o = W·x + b for every column, ∂L/∂W = G·Xᵀ and ∂L/∂b = Σ_columns G.
    pub fn backward(&mut self, x: &DMatrix<f32>, grad_logits: &DMatrix<f32>) {
        matmul_into(&mut self.grad_weight, 1.0, grad_logits, Op::N, x, Op::T, 0.0);
        self.grad_bias.fill(0.0);
        for column in grad_logits.column_iter() {
            self.grad_bias += column;
        }
    }

    /// One step downhill: θ ← θ − η·∂L/∂θ. The loss is already a batch mean, so the
    /// gradients need no further division by the batch size.
    pub fn sgd_update(&mut self) {
        let lr = self.lr;
        self.weight.zip_apply(&self.grad_weight, |w, g| *w -= lr * g);
        self.bias.zip_apply(&self.grad_bias, |b, g| *b -= lr * g);
    }
    // ANCHOR_END: backward
}

impl Classifier for SoftmaxRegression {
    fn forward(&mut self, x: &DMatrix<f32>) -> &DMatrix<f32> {
        SoftmaxRegression::forward(self, x)
    }

    fn sgd_step(&mut self, x: &DMatrix<f32>, grad_logits: &DMatrix<f32>) {
        self.backward(x, grad_logits);
        self.sgd_update();
    }

    fn parameters(&self) -> [(&'static str, &DMatrix<f32>); 4] {
        [
            ("weight", &self.weight),
            ("bias", &self.bias),
            ("weight_grad", &self.grad_weight),
            ("bias_grad", &self.grad_bias),
        ]
    }
}
