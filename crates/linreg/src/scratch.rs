//! Linear regression from scratch: the model, the squared loss, its gradient and
//! the minibatch SGD update, each written out from its formula.
//!
//! Only the building blocks come from `dlcore`: the data, the initializer, the
//! matrix product, the minibatch indices and the divergence check. Tests hold the
//! formulas here against finite differences and against `dlcore`'s `Linear` layer
//! and squared loss.

use dlcore::data::{Batches, Dataset};
use dlcore::init::Init;
use dlcore::linalg::{Op, matmul_into};
use dlcore::optim::DivergenceGuard;
use dlcore::{Result, Rng};
use nalgebra::DMatrix;

use crate::{BatchBuffers, Config, Estimate, History, INIT_STD};

/// The model's parameters: one weight per feature and one bias.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// `features × 1`: the column w of ŷ = Xᵀw + b.
    pub w: DMatrix<f32>,
    pub b: f32,
}

impl Model {
    /// The notes' starting point: w ~ N(0, 0.01²), b = 0. Small random weights
    /// rather than zeros are not needed for a linear model (its loss has one
    /// minimum), but they are the habit every deeper network needs.
    pub fn init(features: usize, rng: &mut Rng) -> Self {
        Model { w: Init::Normal { std: INIT_STD }.matrix(features, 1, rng), b: 0.0 }
    }

    /// The parameters as an [`Estimate`].
    pub fn estimate(&self) -> Estimate {
        Estimate { w: self.w.iter().copied().collect(), b: self.b }
    }
}

/// ∂ℓ/∂w and ∂ℓ/∂b, shaped like the parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Gradients {
    pub w: DMatrix<f32>,
    pub b: f32,
}

impl Gradients {
    pub fn zeros(features: usize) -> Self {
        Gradients { w: DMatrix::zeros(features, 1), b: 0.0 }
    }
}

// ANCHOR: model
/// The model ŷ = Xᵀw + b for a batch X with one example per column: the
/// prediction for example i is x⁽ⁱ⁾ᵀw + b, and `y_hat` (`examples × 1`) gets
/// one per example.
pub fn linreg_into(x: &DMatrix<f32>, model: &Model, y_hat: &mut DMatrix<f32>) {
    y_hat.fill(model.b);
    // y_hat ← 1·Xᵀw + 1·y_hat: the transpose is a stride swap, not a copy.
    matmul_into(y_hat, 1.0, x, Op::T, &model.w, Op::N, 1.0);
}
// ANCHOR_END: model

// ANCHOR: loss
/// The squared loss ℓ = (1/|B|) Σᵢ ½(ŷ⁽ⁱ⁾ − y⁽ⁱ⁾)², averaged over the batch.
pub fn squared_loss(y_hat: &DMatrix<f32>, y: &DMatrix<f32>) -> f32 {
    assert_eq!(y_hat.shape(), y.shape(), "one prediction per label");
    let total: f32 = y_hat.iter().zip(y.iter()).map(|(p, t)| 0.5 * (p - t) * (p - t)).sum();
    total / y_hat.len() as f32
}
// ANCHOR_END: loss

// ANCHOR: gradients
/// The gradient of [`squared_loss`] of the model [`linreg_into`] with respect to
/// its parameters:
/// ∂ℓ/∂w = (1/|B|) Σᵢ x⁽ⁱ⁾(ŷ⁽ⁱ⁾ − y⁽ⁱ⁾) = X(ŷ − y)/|B| and
/// ∂ℓ/∂b = (1/|B|) Σᵢ (ŷ⁽ⁱ⁾ − y⁽ⁱ⁾). `residual` is scratch space for ŷ − y.
pub fn squared_loss_gradients(
    x: &DMatrix<f32>,
    y_hat: &DMatrix<f32>,
    y: &DMatrix<f32>,
    residual: &mut DMatrix<f32>,
    grad: &mut Gradients,
) {
    let batch = x.ncols() as f32;
    residual.copy_from(y_hat);
    *residual -= y;
    matmul_into(&mut grad.w, 1.0 / batch, x, Op::N, residual, Op::N, 0.0);
    grad.b = residual.sum() / batch;
}
// ANCHOR_END: gradients

// ANCHOR: sgd
/// One minibatch SGD step: every parameter moves against its gradient,
/// w ← w − η·∂ℓ/∂w and b ← b − η·∂ℓ/∂b. The loss is already a batch average, so
/// the notes' division by |B| happened in the gradient.
pub fn sgd(model: &mut Model, grad: &Gradients, lr: f32) {
    model.w.zip_apply(&grad.w, |w, g| *w -= lr * g);
    model.b -= lr * grad.b;
}
// ANCHOR_END: sgd

/// One minibatch, gathered into buffers made once.
#[derive(Debug)]
struct Batch {
    /// `features × size`, one example per column.
    x: DMatrix<f32>,
    /// `size × 1`: the labels, shaped like the predictions.
    y: DMatrix<f32>,
    y_hat: DMatrix<f32>,
    residual: DMatrix<f32>,
}

impl Batch {
    fn new(features: usize, size: usize) -> Self {
        let column = || DMatrix::zeros(size, 1);
        Batch { x: DMatrix::zeros(features, size), y: column(), y_hat: column(), residual: column() }
    }

    /// Copies the examples `indices` of `data` into the buffers.
    fn gather(&mut self, data: &Dataset, indices: &[usize]) {
        for (j, &i) in indices.iter().enumerate() {
            self.x.column_mut(j).copy_from(&data.x.column(i));
            self.y[j] = data.y[i];
        }
    }
}

/// The training loss over the whole data set, with its buffers made once.
#[derive(Debug)]
struct WholeSet {
    /// The labels as a column, like the predictions.
    y: DMatrix<f32>,
    y_hat: DMatrix<f32>,
}

impl WholeSet {
    fn new(data: &Dataset) -> Self {
        WholeSet { y: data.y.transpose(), y_hat: DMatrix::zeros(data.len(), 1) }
    }

    fn loss(&mut self, data: &Dataset, model: &Model) -> f32 {
        linreg_into(&data.x, model, &mut self.y_hat);
        squared_loss(&self.y_hat, &self.y)
    }
}

// ANCHOR: train
/// Trains a fresh model on `data` with minibatch SGD: every epoch visits the
/// examples in a new random order, `config.batch_size` at a time, and takes one
/// step per batch. `history` receives every batch loss and, after each epoch, the
/// loss over all of `data` (as the notes print it) and the parameters.
///
/// Fails with [`dlcore::Error::Diverged`] as soon as a loss is no longer finite or
/// has grown 100-fold; `history` then ends at the last loss that was still sane.
pub fn train(config: &Config, data: &Dataset, rng: &mut Rng, history: &mut History) -> Result<Model> {
    config.validate()?;
    let features = data.features();
    let mut model = Model::init(features, rng);
    let mut grad = Gradients::zeros(features);
    let mut batches = Batches::new(data.len(), config.batch_size);
    let mut buffers = BatchBuffers::new(config.batch_size, |size| Batch::new(features, size));
    let mut whole = WholeSet::new(data);
    let mut guard = DivergenceGuard::new();
    history.push_epoch(whole.loss(data, &model), model.estimate());
    for epoch in 1..=config.epochs {
        for indices in batches.shuffled(rng) {
            let batch = buffers.for_size(indices.len());
            batch.gather(data, indices);
            linreg_into(&batch.x, &model, &mut batch.y_hat);
            let loss = squared_loss(&batch.y_hat, &batch.y);
            guard.check(loss, epoch, config.lr)?;
            history.batch_losses.push(loss);
            squared_loss_gradients(&batch.x, &batch.y_hat, &batch.y, &mut batch.residual, &mut grad);
            sgd(&mut model, &grad, config.lr);
        }
        let loss = whole.loss(data, &model);
        guard.check(loss, epoch, config.lr)?;
        history.push_epoch(loss, model.estimate());
    }
    Ok(model)
}
// ANCHOR_END: train
