//! The training loop and the accuracy measurement, shared by the hand-written model
//! and the `dlcore` one: d2l's `train_epoch_ch3`, `evaluate_accuracy` and
//! `train_ch3`.

use dlcore::data::dataset::Labeled;
use dlcore::data::{Batches, LabeledBatches};
use dlcore::layer::ensure_shape;
use dlcore::metrics::{argmax_columns, correct};
use dlcore::optim::DivergenceGuard;
use dlcore::{Result, Rng};
use nalgebra::DMatrix;

use crate::scratch::softmax_into;

/// What the training loop needs from a model: the logits of a batch, and one step of
/// learning from the gradient of the loss with respect to those logits.
pub trait Classifier {
    /// The logits (class scores) of a batch `x`, one example per column.
    fn forward(&mut self, x: &DMatrix<f32>) -> &DMatrix<f32>;
    /// One SGD step, given the batch `x` last passed to [`forward`](Classifier::forward)
    /// and ∂L/∂logits for it.
    fn sgd_step(&mut self, x: &DMatrix<f32>, grad_logits: &DMatrix<f32>);
    /// The weight, the bias and their gradients from the last step, by tag, for the
    /// per-epoch histograms a PyTorch user would log with `add_histogram`.
    fn parameters(&self) -> [(&'static str, &DMatrix<f32>); 4];
}

/// A loss on logits: returns the batch mean and writes ∂L/∂logits into its third
/// argument (same shape as the logits).
pub trait Loss: FnMut(&DMatrix<f32>, &[u8], &mut DMatrix<f32>) -> f32 {}
impl<F: FnMut(&DMatrix<f32>, &[u8], &mut DMatrix<f32>) -> f32> Loss for F {}

/// How long and in what portions to train.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    pub batch_size: usize,
    pub epochs: usize,
    /// Number of classes, the model's outputs.
    pub classes: usize,
    /// Only for the message when training diverges; the model owns its step size.
    pub lr: f32,
}

/// What one epoch reached: d2l's three curves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochReport {
    /// Counted from 1.
    pub epoch: usize,
    /// Mean loss over the epoch's batches, each measured before its update.
    pub train_loss: f32,
    /// Fraction of training examples classified right, measured the same way.
    pub train_accuracy: f32,
    /// Fraction of the test set classified right after the epoch.
    pub test_accuracy: f32,
}

/// Minibatch state that lives across epochs: the shuffled order, the buffers for
/// full batches and for the last, smaller one, and the divergence check.
#[derive(Debug)]
pub struct Minibatches {
    batches: Batches,
    buffers: LabeledBatches,
    guard: DivergenceGuard,
    epoch: usize,
    lr: f32,
}

impl Minibatches {
    /// For `data` in batches of `config.batch_size`, for a model with `config.classes`
    /// outputs.
    pub fn new(data: &Labeled, config: &Config) -> Self {
        let Config { batch_size, classes, lr, .. } = *config;
        let batch = batch_size.min(data.len()).max(1);
        Minibatches {
            batches: Batches::new(data.len(), batch_size),
            buffers: LabeledBatches::new(data.features(), classes, batch),
            guard: DivergenceGuard::new(),
            epoch: 0,
            lr,
        }
    }
}

// ANCHOR: train_epoch
/// One pass over `data` in a fresh random order: for every minibatch, the logits,
/// the loss and its gradient, then one SGD step. Returns the epoch's mean training
/// loss and accuracy, each batch measured before its own update.
///
/// `after_step(model, examples)` runs after every step (progress bars, or measuring
/// the model mid-epoch). Fails if the loss diverges.
pub fn train_epoch<M: Classifier>(
    model: &mut M,
    data: &Labeled,
    state: &mut Minibatches,
    loss: &mut impl Loss,
    rng: &mut Rng,
    mut after_step: impl FnMut(&mut M, usize) -> Result<()>,
) -> Result<(f32, f32)> {
    let Minibatches { batches, buffers, guard, epoch, lr } = state;
    *epoch += 1;
    let (mut loss_sum, mut right) = (0.0f64, 0usize);
    for indices in batches.shuffled(rng) {
        let batch = buffers.gather(data, indices);
        let logits = model.forward(&batch.x);
        right += correct(logits, &batch.labels);
        let value = loss(logits, &batch.labels, &mut batch.grad);
        guard.check(value, *epoch, *lr)?;
        loss_sum += f64::from(value) * indices.len() as f64;
        model.sgd_step(&batch.x, &batch.grad);
        after_step(model, indices.len())?;
    }
    let n = data.len().max(1) as f64;
    Ok(((loss_sum / n) as f32, (right as f64 / n) as f32))
}
// ANCHOR_END: train_epoch

// ANCHOR: evaluate
/// The fraction of `data` the model classifies right: the predicted class of an
/// image is the index of its largest logit (the largest probability too, since
/// softmax keeps the order), compared with the label. Runs in batches of
/// `batch_size` so memory stays bounded.
pub fn evaluate_accuracy(model: &mut impl Classifier, data: &Labeled, batch_size: usize) -> f32 {
    let mut x = DMatrix::zeros(data.features(), batch_size.min(data.len()).max(1));
    let mut labels = Vec::with_capacity(x.ncols());
    let mut right = 0;
    for indices in Batches::new(data.len(), batch_size).in_order() {
        ensure_shape(&mut x, data.features(), indices.len());
        data.gather_into(indices, &mut x, &mut labels);
        right += correct(model.forward(&x), &labels);
    }
    right as f32 / data.len().max(1) as f32
}
// ANCHOR_END: evaluate

// ANCHOR: train
/// Trains `model` for `config.epochs` epochs with `loss`, measuring test accuracy
/// after each; `on_epoch` sees every report as it is made, and the model as it is
/// then (to print and record them).
pub fn train<M: Classifier>(
    model: &mut M,
    train: &Labeled,
    test: &Labeled,
    config: Config,
    mut loss: impl Loss,
    rng: &mut Rng,
    mut on_epoch: impl FnMut(&EpochReport, &M) -> Result<()>,
) -> Result<Vec<EpochReport>> {
    let mut state = Minibatches::new(train, &config);
    let mut reports = Vec::with_capacity(config.epochs);
    for epoch in 1..=config.epochs {
        let (train_loss, train_accuracy) =
            train_epoch(model, train, &mut state, &mut loss, rng, |_, _| Ok(()))?;
        let test_accuracy = evaluate_accuracy(model, test, config.batch_size);
        let report = EpochReport { epoch, train_loss, train_accuracy, test_accuracy };
        on_epoch(&report, model)?;
        reports.push(report);
    }
    Ok(reports)
}
// ANCHOR_END: train

/// The model's softmax probabilities (one column per example) and predicted classes
/// for `data`, for figures of what it thinks.
pub fn predict(model: &mut impl Classifier, data: &Labeled) -> (DMatrix<f32>, Vec<u8>) {
    let logits = model.forward(&data.x);
    let mut probs = DMatrix::zeros(logits.nrows(), logits.ncols());
    softmax_into(logits, &mut probs);
    let predicted = argmax_columns(logits);
    (probs, predicted)
}
