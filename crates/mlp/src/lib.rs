//! Chapter `mlp`: multilayer perceptrons trained on MNIST-family images.
//!
//! The network and its pieces come from `dlcore` (dense layers, activations,
//! cross-entropy, SGD); this crate holds the training loop and evaluation the
//! chapter shows, and one module per further idea of the chapter:
//! - [`perceptron`]: the gradient of one layer of sigmoid perceptrons, by hand;
//! - [`checkpoint`]: saving a trained network and loading it back;
//! - [`inspect`]: class probabilities, top-k, mistakes and the confusion matrix;
//! - [`init_compare`]: the notes' initialization experiment;
//! - [`speed`]: timing an epoch;
//! - [`device`]: where training runs: the CPU, or with the `cuda` feature a GPU
//!   (module `gpu`).

pub mod checkpoint;
pub mod device;
#[cfg(feature = "cuda")]
pub mod gpu;
pub mod init_compare;
pub mod inspect;
pub mod perceptron;
pub mod speed;

use dlcore::activation::Activation;
use dlcore::data::dataset::Labeled;
use dlcore::data::{Batches, LabeledBatches};
use dlcore::init::Init;
use dlcore::layer::{ActivationLayer, Layer, Sequential};
use dlcore::loss::cross_entropy_with_logits_into;
use dlcore::metrics::correct;
use dlcore::optim::{DivergenceGuard, Sgd, StepSchedule};
use dlcore::{Result, Rng};
use nalgebra::DMatrix;

use crate::device::Opened;

/// Everything that defines a training run.
#[derive(Debug, Clone)]
pub struct Config {
    pub hidden: Vec<usize>,
    /// The nonlinearity after every hidden layer.
    pub activation: Activation,
    /// A nonlinearity applied to the output logits too. `None` (plain logits) is
    /// right for cross-entropy; `Some(Activation::Relu)` reproduces the source
    /// notes' network, whose ReLU on the logits can silence output units for good
    /// (see [`init_compare`]).
    pub output_activation: Option<Activation>,
    pub init: Init,
    pub lr: f32,
    pub momentum: f32,
    pub weight_decay: f32,
    /// Multiply the learning rate by `gamma` every `step_size` epochs (`None`: keep it).
    pub lr_schedule: Option<StepSchedule>,
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
    /// Output units that were exactly 0 for every training example of the epoch:
    /// always 0 for plain logits; under an output ReLU, units that can no longer
    /// learn (see [`OutputWatch`]).
    pub dead_outputs: usize,
    /// The share of the epoch's training examples whose true class's output was
    /// exactly 0, so that no gradient could raise it.
    pub blocked_share: f32,
}

impl EpochReport {
    pub fn test_accuracy(&self) -> f32 {
        self.test_correct as f32 / self.test_total.max(1) as f32
    }

    /// The row of `metrics.csv` for this epoch, for [`dlcore::record::Recorder::record_epoch`].
    pub fn metrics_row(&self) -> [(&'static str, f64); 8] {
        [
            ("epoch", self.epoch as f64),
            ("lr", f64::from(self.lr)),
            ("train_loss", f64::from(self.train_loss)),
            ("train_accuracy", f64::from(self.train_accuracy)),
            ("test_loss", f64::from(self.test_loss)),
            ("test_accuracy", f64::from(self.test_accuracy())),
            ("dead_outputs", self.dead_outputs as f64),
            ("blocked_share", f64::from(self.blocked_share)),
        ]
    }

    /// The notes' test line: `Test set: Average loss: 0.0712, Accuracy: 9833/10000 (98.33%)`.
    /// Unlike the notes, the average is over examples, not over batches divided
    /// again by the number of examples.
    pub fn test_line(&self) -> String {
        format!(
            "Test set: Average loss: {:.4}, Accuracy: {}/{} ({:.2}%)",
            self.test_loss,
            self.test_correct,
            self.test_total,
            100.0 * self.test_accuracy()
        )
    }
}

/// What one pass over a data set measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// Average cross-entropy per example.
    pub loss: f32,
    /// Examples whose largest output is at the true class.
    pub correct: usize,
    /// Output units that were exactly 0 for every example.
    pub dead_outputs: usize,
}

/// Watches a network's outputs over many batches for the two ways a ReLU on the
/// logits stops learning. Where an output is exactly 0 the ReLU's slope is 0, so
/// cross-entropy's gradient stops there:
/// - a unit that outputs 0 for *every* example is dead: nothing can revive it;
/// - an example whose *true class* outputs 0 is blocked: the one gradient that
///   would raise the right answer is cut, and only the wrong classes can move.
///
/// With plain logits an output is never exactly 0 in practice, and both stay 0.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputWatch {
    alive: Vec<bool>,
    blocked: usize,
    seen: usize,
}

impl OutputWatch {
    pub fn new(classes: usize) -> Self {
        OutputWatch { alive: vec![false; classes], blocked: 0, seen: 0 }
    }

    // ANCHOR: observe
    /// Takes in one batch of outputs (one column per example) and its labels.
    pub fn observe(&mut self, outputs: &DMatrix<f32>, labels: &[u8]) {
        for (column, &label) in outputs.column_iter().zip(labels) {
            for (alive, &v) in self.alive.iter_mut().zip(column.iter()) {
                *alive |= v != 0.0;
            }
            self.blocked += usize::from(column[usize::from(label)] == 0.0);
        }
        self.seen += labels.len();
    }
    // ANCHOR_END: observe

    /// Units that were 0 for every example seen.
    pub fn dead_units(&self) -> usize {
        self.alive.iter().filter(|&&a| !a).count()
    }

    /// The share of examples whose true class's output was 0.
    pub fn blocked_share(&self) -> f32 {
        self.blocked as f32 / self.seen.max(1) as f32
    }
}

// ANCHOR: build
/// The MLP `inputs → hidden… → classes` the configuration describes: a dense layer,
/// then the activation, for every hidden layer, and a last dense layer whose
/// outputs are the logits (passed through `output_activation` if there is one).
pub fn build(config: &Config, inputs: usize, classes: usize, rng: &mut Rng) -> Sequential {
    let mut sizes = vec![inputs];
    sizes.extend(&config.hidden);
    sizes.push(classes);
    let mut net = Sequential::mlp(&sizes, config.activation, config.init, rng);
    if let Some(output) = config.output_activation {
        net.layers.push(Layer::Activation(ActivationLayer::new(output)));
    }
    net
}
// ANCHOR_END: build

/// The number of classes `net` scores: the width of its last dense layer.
pub fn classes_of(net: &Sequential) -> usize {
    net.linear_layers().last().map_or(0, |l| l.fan_out())
}

// ANCHOR: network
/// What the training loop needs from a network, wherever its arithmetic runs: the
/// outputs for a batch (one example per column), and one SGD step from the
/// gradient of the loss with respect to those outputs. [`Sequential`] is the CPU's;
/// with the `cuda` feature, `gpu::GpuMlp` keeps its weights on a GPU.
pub trait Network {
    /// The number of outputs (classes).
    fn classes(&self) -> usize;
    /// The outputs for the batch `x`.
    fn forward(&mut self, x: &DMatrix<f32>) -> Result<&DMatrix<f32>>;
    /// Backpropagates `grad_output` (∂L/∂outputs of the last forward pass) and
    /// updates every parameter with `sgd`.
    fn learn(&mut self, grad_output: &DMatrix<f32>, sgd: &mut Sgd) -> Result<()>;
    /// The values worth a histogram after an epoch, by tag: each layer's parameters
    /// and, where the device keeps them, their gradients from the last step.
    fn tensors(&self) -> Result<Vec<(String, Vec<f32>)>>;
}

impl Network for Sequential {
    fn classes(&self) -> usize {
        classes_of(self)
    }

    fn forward(&mut self, x: &DMatrix<f32>) -> Result<&DMatrix<f32>> {
        Ok(Sequential::forward(self, x))
    }

    fn learn(&mut self, grad_output: &DMatrix<f32>, sgd: &mut Sgd) -> Result<()> {
        // zero_grad() then backward(), fused: the gradients are written, not added to.
        self.zero_grad_and_backward(grad_output);
        sgd.step(self);
        Ok(())
    }

    fn tensors(&self) -> Result<Vec<(String, Vec<f32>)>> {
        Ok(parameter_tensors(self, true))
    }
}
// ANCHOR_END: network

/// Each dense layer's weight and bias as `layer<n>/weight` and `layer<n>/bias` (n
/// from 1), and with `gradients` also `layer<n>/weight_grad` and `layer<n>/bias_grad`
/// (as left by the last backward pass): what TensorBoard users histogram per epoch.
pub fn parameter_tensors(net: &Sequential, gradients: bool) -> Vec<(String, Vec<f32>)> {
    let mut tensors = Vec::new();
    for (i, layer) in net.linear_layers().enumerate() {
        let n = i + 1;
        tensors.push((format!("layer{n}/weight"), layer.weight.as_slice().to_vec()));
        tensors.push((format!("layer{n}/bias"), layer.bias.as_slice().to_vec()));
        if gradients {
            tensors.push((format!("layer{n}/weight_grad"), layer.grad_weight.as_slice().to_vec()));
            tensors.push((format!("layer{n}/bias_grad"), layer.grad_bias.as_slice().to_vec()));
        }
    }
    tensors
}

/// Average cross-entropy, correct predictions and dead output units on `data`.
/// Fails only where the network's device does (never on the CPU).
pub fn evaluate(net: &mut impl Network, data: &Labeled, batch_size: usize) -> Result<Evaluation> {
    let classes = net.classes();
    let mut batches = Batches::new(data.len(), batch_size);
    let mut buffers = LabeledBatches::new(data.features(), classes, batch_size);
    let (mut loss_sum, mut right) = (0.0f64, 0usize);
    let mut watch = OutputWatch::new(classes);
    for indices in batches.in_order() {
        let batch = buffers.gather(data, indices);
        let logits = net.forward(&batch.x)?;
        let loss = cross_entropy_with_logits_into(logits, &batch.labels, &mut batch.grad);
        loss_sum += f64::from(loss) * indices.len() as f64;
        right += correct(logits, &batch.labels);
        watch.observe(logits, &batch.labels);
    }
    Ok(Evaluation {
        loss: (loss_sum / data.len().max(1) as f64) as f32,
        correct: right,
        dead_outputs: watch.dead_units(),
    })
}

/// Trains a fresh network on the CPU with minibatch SGD, evaluating on `test`
/// after every epoch (the notes' "test on epoch"). `progress(n)` is called after
/// each batch of `n` examples; `on_epoch` after each epoch. Fails if the loss
/// blows up (see [`DivergenceGuard`]).
pub fn train(
    config: &Config,
    train: &Labeled,
    test: &Labeled,
    classes: usize,
    rng: &mut Rng,
    progress: impl FnMut(usize) + Send,
    on_epoch: impl FnMut(&EpochReport, &dyn Network) -> Result<()> + Send,
) -> Result<(Sequential, Vec<EpochReport>)> {
    train_on(&Opened::Cpu, config, train, test, classes, rng, progress, on_epoch)
}

// ANCHOR: train_on
/// [`train`] on an opened device (see [`device::Device::open`]). The network is
/// built and initialised on the CPU in either case, from the same draws of `rng`;
/// on a GPU its weights are then uploaded, trained there, and downloaded at the end.
#[allow(clippy::too_many_arguments)]
pub fn train_on(
    device: &Opened,
    config: &Config,
    train: &Labeled,
    test: &Labeled,
    classes: usize,
    rng: &mut Rng,
    progress: impl FnMut(usize) + Send,
    on_epoch: impl FnMut(&EpochReport, &dyn Network) -> Result<()> + Send,
) -> Result<(Sequential, Vec<EpochReport>)> {
    let net = build(config, train.features(), classes, rng);
    match device {
        // On the CPU the loop runs on dlcore's product threads (`dlcore::linalg::in_pool`).
        Opened::Cpu => {
            dlcore::linalg::in_pool(|| train_network(net, config, train, test, rng, progress, on_epoch))
        }
        #[cfg(feature = "cuda")]
        Opened::Cuda(gpu) => {
            let on_gpu = gpu::GpuMlp::upload(gpu, &net)?;
            let (on_gpu, reports) = train_network(on_gpu, config, train, test, rng, progress, on_epoch)?;
            Ok((on_gpu.download()?, reports))
        }
    }
}
// ANCHOR_END: train_on

// ANCHOR: train
/// The training loop, for a network on any device: minibatch SGD over shuffled
/// batches, with a test evaluation after every epoch.
pub fn train_network<N: Network>(
    mut net: N,
    config: &Config,
    train: &Labeled,
    test: &Labeled,
    rng: &mut Rng,
    mut progress: impl FnMut(usize),
    mut on_epoch: impl FnMut(&EpochReport, &dyn Network) -> Result<()>,
) -> Result<(N, Vec<EpochReport>)> {
    let classes = net.classes();
    let mut sgd = Sgd::new(config.lr).with_momentum(config.momentum).with_weight_decay(config.weight_decay);
    if let Some(StepSchedule { step_size, gamma }) = config.lr_schedule {
        sgd = sgd.with_step_schedule(step_size, gamma);
    }
    let mut batches = Batches::new(train.len(), config.batch_size);
    let mut buffers = LabeledBatches::new(train.features(), classes, config.batch_size);
    let mut reports = Vec::with_capacity(config.epochs);
    let mut guard = DivergenceGuard::new();
    for epoch in 0..config.epochs {
        sgd.set_epoch(epoch);
        let (mut loss_sum, mut right) = (0.0f64, 0usize);
        let mut watch = OutputWatch::new(classes);
        for indices in batches.shuffled(rng) {
            let batch = buffers.gather(train, indices);
            let logits = net.forward(&batch.x)?;
            right += correct(logits, &batch.labels);
            watch.observe(logits, &batch.labels);
            let loss = cross_entropy_with_logits_into(logits, &batch.labels, &mut batch.grad);
            guard.check(loss, epoch + 1, sgd.current_lr())?;
            loss_sum += f64::from(loss) * indices.len() as f64;
            net.learn(&batch.grad, &mut sgd)?;
            progress(indices.len());
        }
        let tested = evaluate(&mut net, test, 1000)?;
        let report = EpochReport {
            epoch: epoch + 1,
            lr: sgd.current_lr(),
            train_loss: (loss_sum / train.len() as f64) as f32,
            train_accuracy: right as f32 / train.len() as f32,
            test_loss: tested.loss,
            test_correct: tested.correct,
            test_total: test.len(),
            dead_outputs: watch.dead_units(),
            blocked_share: watch.blocked_share(),
        };
        on_epoch(&report, &net)?;
        reports.push(report);
    }
    Ok((net, reports))
}
// ANCHOR_END: train
