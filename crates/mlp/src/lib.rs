//! Chapter `mlp`: multilayer perceptrons trained on MNIST-family images.
//!
//! The network and its pieces come from `dlcore` (dense layers, activations,
//! cross-entropy, SGD); this crate holds the training loop and evaluation the
//! chapter shows.

use dlcore::activation::Activation;
use dlcore::data::Batches;
use dlcore::data::dataset::Labeled;
use dlcore::init::Init;
use dlcore::layer::Sequential;
use dlcore::loss::cross_entropy_with_logits_into;
use dlcore::metrics::correct;
use dlcore::optim::{DivergenceGuard, Sgd};
use dlcore::{Result, Rng};
use nalgebra::DMatrix;

/// Everything that defines a training run.
#[derive(Debug, Clone)]
pub struct Config {
    pub hidden: Vec<usize>,
    pub activation: Activation,
    pub init: Init,
    pub lr: f32,
    pub momentum: f32,
    pub weight_decay: f32,
    pub batch_size: usize,
    pub epochs: usize,
}

/// What one epoch reached.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochReport {
    /// Counted from 1.
    pub epoch: usize,
    pub lr: f32,
    pub train_loss: f32,
    pub train_accuracy: f32,
    pub test_loss: f32,
    pub test_correct: usize,
    pub test_total: usize,
}

impl EpochReport {
    pub fn test_accuracy(&self) -> f32 {
        self.test_correct as f32 / self.test_total.max(1) as f32
    }
}

/// Reusable buffers for one batch size, so a step allocates nothing.
#[derive(Debug)]
struct BatchBuffers {
    x: DMatrix<f32>,
    labels: Vec<u8>,
    grad: DMatrix<f32>,
}

impl BatchBuffers {
    fn new(features: usize, classes: usize, batch: usize) -> Self {
        BatchBuffers {
            x: DMatrix::zeros(features, batch),
            labels: Vec::with_capacity(batch),
            grad: DMatrix::zeros(classes, batch),
        }
    }
}

/// The MLP `inputs → hidden… → classes` the configuration describes.
pub fn build(config: &Config, inputs: usize, classes: usize, rng: &mut Rng) -> Sequential {
    let mut sizes = vec![inputs];
    sizes.extend(&config.hidden);
    sizes.push(classes);
    Sequential::mlp(&sizes, config.activation, config.init, rng)
}

/// Average cross-entropy and number of correct predictions on `data`.
pub fn evaluate(net: &mut Sequential, data: &Labeled, batch_size: usize) -> (f32, usize) {
    let classes = net.linear_layers().last().map_or(0, |l| l.fan_out());
    let mut batches = Batches::new(data.len(), batch_size);
    let mut full = BatchBuffers::new(data.features(), classes, batch_size);
    let mut tail = None;
    let (mut loss_sum, mut right) = (0.0f64, 0usize);
    for indices in batches.in_order() {
        let buffers = pick(&mut full, &mut tail, indices.len(), data.features(), classes);
        data.gather_into(indices, &mut buffers.x, &mut buffers.labels);
        let logits = net.forward(&buffers.x);
        let loss = cross_entropy_with_logits_into(logits, &buffers.labels, &mut buffers.grad);
        loss_sum += f64::from(loss) * indices.len() as f64;
        right += correct(logits, &buffers.labels);
    }
    ((loss_sum / data.len().max(1) as f64) as f32, right)
}

/// The buffers for a batch of `size`: the full-size ones, or ones made once for
/// the last, smaller batch of an epoch.
fn pick<'a>(
    full: &'a mut BatchBuffers,
    tail: &'a mut Option<BatchBuffers>,
    size: usize,
    features: usize,
    classes: usize,
) -> &'a mut BatchBuffers {
    if full.x.ncols() == size {
        return full;
    }
    if tail.as_ref().is_none_or(|buffers| buffers.x.ncols() != size) {
        *tail = None;
    }
    tail.get_or_insert_with(|| BatchBuffers::new(features, classes, size))
}

// ANCHOR: train
/// Trains a fresh network with minibatch SGD, evaluating on `test` after every
/// epoch (the notes' "test on epoch"). `progress(done, total)` is called after
/// each batch; `on_epoch` after each epoch. Fails if the loss blows up
/// (see [`DivergenceGuard`]).
pub fn train(
    config: &Config,
    train: &Labeled,
    test: &Labeled,
    classes: usize,
    rng: &mut Rng,
    mut progress: impl FnMut(usize),
    mut on_epoch: impl FnMut(&EpochReport) -> Result<()>,
) -> Result<(Sequential, Vec<EpochReport>)> {
    let mut net = build(config, train.features(), classes, rng);
    let mut sgd = Sgd::new(config.lr).with_momentum(config.momentum).with_weight_decay(config.weight_decay);
    let mut batches = Batches::new(train.len(), config.batch_size);
    let mut full = BatchBuffers::new(train.features(), classes, config.batch_size);
    let mut tail = None;
    let mut reports = Vec::with_capacity(config.epochs);
    let mut guard = DivergenceGuard::new();
    for epoch in 0..config.epochs {
        sgd.set_epoch(epoch);
        let (mut loss_sum, mut right) = (0.0f64, 0usize);
        for indices in batches.shuffled(rng) {
            let buffers = pick(&mut full, &mut tail, indices.len(), train.features(), classes);
            train.gather_into(indices, &mut buffers.x, &mut buffers.labels);
            let logits = net.forward(&buffers.x);
            right += correct(logits, &buffers.labels);
            let loss = cross_entropy_with_logits_into(logits, &buffers.labels, &mut buffers.grad);
            guard.check(loss, epoch + 1, sgd.current_lr())?;
            loss_sum += f64::from(loss) * indices.len() as f64;
            net.zero_grad();
            net.backward(&buffers.grad);
            sgd.step(&mut net);
            progress(indices.len());
        }
        let (test_loss, test_correct) = evaluate(&mut net, test, 1000);
        let report = EpochReport {
            epoch: epoch + 1,
            lr: sgd.current_lr(),
            train_loss: (loss_sum / train.len() as f64) as f32,
            train_accuracy: right as f32 / train.len() as f32,
            test_loss,
            test_correct,
            test_total: test.len(),
        };
        on_epoch(&report)?;
        reports.push(report);
    }
    Ok((net, reports))
}
// ANCHOR_END: train
