//! An MLP with dropout after every hidden layer, and its training loop.
//!
//! The dense layers, the activation, the loss and the optimizer are `dlcore`'s; the
//! only new piece is the [`Dropout`] layer between them, and the train/eval switch
//! that turns it on for training and off for evaluation.

use dlcore::activation::Activation;
use dlcore::data::dataset::Labeled;
use dlcore::data::{Batches, LabeledBatches};
use dlcore::init::Init;
use dlcore::layer::{ActivationLayer, Linear};
use dlcore::loss::cross_entropy_with_logits_into;
use dlcore::metrics::correct;
use dlcore::optim::{DivergenceGuard, Param, Params, Sgd};
use dlcore::{Error, Result, Rng, seeded_rng};
use nalgebra::DMatrix;

use crate::dropout::{Dropout, Mode};

/// One hidden layer: dense, activation, then dropout.
#[derive(Debug, Clone)]
struct Hidden {
    linear: Linear,
    activation: ActivationLayer,
    dropout: Dropout,
}

/// `inputs → hidden₁ → … → outputs`, with the activation and then dropout after every
/// hidden dense layer, and nothing after the last (it outputs logits).
#[derive(Debug, Clone)]
pub struct DropoutMlp {
    hidden: Vec<Hidden>,
    output: Linear,
}

impl DropoutMlp {
    /// A network with the given hidden widths, one drop probability per hidden layer
    /// (0 for none), weights from `init` and zero biases.
    pub fn new(
        inputs: usize,
        hidden: &[usize],
        dropout: &[f32],
        outputs: usize,
        activation: Activation,
        init: Init,
        rng: &mut Rng,
    ) -> Result<Self> {
        if dropout.len() != hidden.len() {
            return Err(Error::invalid(
                "dropout probabilities",
                format!("{dropout:?}"),
                format!("one per hidden layer ({} of them)", hidden.len()),
            ));
        }
        let mut layers = Vec::with_capacity(hidden.len());
        let mut fan_in = inputs;
        for (&width, &p) in hidden.iter().zip(dropout) {
            layers.push(Hidden {
                linear: Linear::new(fan_in, width, init, rng),
                activation: ActivationLayer::new(activation),
                dropout: Dropout::new(p)?,
            });
            fan_in = width;
        }
        Ok(DropoutMlp { hidden: layers, output: Linear::new(fan_in, outputs, init, rng) })
    }

    /// Switches every dropout layer to training or evaluation mode.
    pub fn set_mode(&mut self, mode: Mode) {
        for layer in &mut self.hidden {
            layer.dropout.mode = mode;
        }
    }

    // ANCHOR: forward
    /// The logits for a batch `x` (one example per column). In training mode each
    /// dropout layer draws a fresh mask from `rng`; in evaluation mode `rng` is unused.
    pub fn forward(&mut self, x: &DMatrix<f32>, rng: &mut Rng) -> &DMatrix<f32> {
        let mut h = x;
        for layer in &mut self.hidden {
            let z = layer.linear.forward(h);
            let a = layer.activation.forward(z);
            h = layer.dropout.forward(a, rng);
        }
        self.output.forward(h)
    }
    // ANCHOR_END: forward

    /// Backpropagates ∂L/∂logits through every layer, accumulating the dense layers'
    /// gradients; must follow a training-mode forward pass of the same batch.
    pub fn backward(&mut self, grad_logits: &DMatrix<f32>) {
        let mut grad = self.output.backward(grad_logits);
        for layer in self.hidden.iter_mut().rev() {
            let through_dropout = layer.dropout.backward(grad);
            let through_activation = layer.activation.backward(through_dropout);
            grad = layer.linear.backward(through_activation);
        }
    }

    /// Clears the accumulated gradients.
    pub fn zero_grad(&mut self) {
        for layer in &mut self.hidden {
            layer.linear.zero_grad();
        }
        self.output.zero_grad();
    }

    /// The dense layers, input first.
    pub fn linear_layers(&self) -> impl Iterator<Item = &Linear> {
        self.hidden.iter().map(|layer| &layer.linear).chain(std::iter::once(&self.output))
    }

    /// The dense layers, mutably (for tests that probe a weight).
    pub fn linear_layers_mut(&mut self) -> impl Iterator<Item = &mut Linear> {
        self.hidden.iter_mut().map(|layer| &mut layer.linear).chain(std::iter::once(&mut self.output))
    }
}

impl Params for DropoutMlp {
    fn visit_params(&mut self, visit: &mut dyn FnMut(Param<'_>)) {
        for layer in self.linear_layers_mut() {
            layer.visit_params(visit);
        }
    }
}

/// Everything that defines a training run.
#[derive(Debug, Clone, PartialEq)]
pub struct DropoutConfig {
    pub hidden: Vec<usize>,
    /// One drop probability per hidden layer; zeros train the same network without
    /// dropout.
    pub dropout: Vec<f32>,
    pub activation: Activation,
    pub init: Init,
    pub lr: f32,
    pub batch_size: usize,
    pub epochs: usize,
}

impl DropoutConfig {
    /// d2l's configuration: 784-256-256-10, ReLU, dropout 0.2 then 0.5, weights
    /// N(0, 0.01²), SGD at lr 0.5 on the batch-mean loss, batches of 256, 10 epochs.
    pub fn d2l() -> Self {
        DropoutConfig {
            hidden: vec![256, 256],
            dropout: vec![0.2, 0.5],
            activation: Activation::Relu,
            init: Init::Normal { std: 0.01 },
            lr: 0.5,
            batch_size: 256,
            epochs: 10,
        }
    }

    /// The same configuration with dropout switched off.
    pub fn without_dropout(&self) -> Self {
        DropoutConfig { dropout: vec![0.0; self.hidden.len()], ..self.clone() }
    }

    /// Whether any layer drops units.
    pub fn has_dropout(&self) -> bool {
        self.dropout.iter().any(|&p| p > 0.0)
    }
}

/// What one epoch reached. Accuracies and losses other than `train_loss` are measured
/// in evaluation mode (dropout off) after the epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochReport {
    /// Counted from 1.
    pub epoch: usize,
    /// The mean loss of the epoch's minibatches, as trained: with dropout on.
    pub train_loss: f32,
    /// Accuracy on the training set with dropout off.
    pub train_accuracy: f32,
    pub test_loss: f32,
    pub test_accuracy: f32,
}

impl EpochReport {
    /// Train minus test accuracy: how much better the model does on what it saw.
    pub fn gap(&self) -> f32 {
        self.train_accuracy - self.test_accuracy
    }
}

/// Mean cross-entropy and accuracy of `net` on `data`, in evaluation mode (the net is
/// left in evaluation mode).
pub fn evaluate(net: &mut DropoutMlp, data: &Labeled, classes: usize) -> (f32, f32) {
    net.set_mode(Mode::Eval);
    let batch_size = 1000;
    let mut batches = Batches::new(data.len(), batch_size);
    let mut buffers = LabeledBatches::new(data.features(), classes, batch_size.min(data.len()).max(1));
    // Evaluation draws no random numbers; the generator is only there to satisfy
    // the signature of `forward`.
    let mut unused = seeded_rng(0);
    let (mut loss_sum, mut right) = (0.0f64, 0usize);
    for indices in batches.in_order() {
        let b = buffers.gather(data, indices);
        let logits = net.forward(&b.x, &mut unused);
        loss_sum +=
            f64::from(cross_entropy_with_logits_into(logits, &b.labels, &mut b.grad)) * indices.len() as f64;
        right += correct(logits, &b.labels);
    }
    let n = data.len().max(1) as f64;
    ((loss_sum / n) as f32, (right as f64 / n) as f32)
}

/// The generators of one run, derived from its seed: `init_and_batches` draws the
/// initial weights and then the batch order; `masks` draws the dropout masks, on a
/// separate stream, so that runs with and without dropout from the same seed start
/// from the same weights and see the same batches.
#[derive(Debug, Clone)]
pub struct RunRngs {
    pub init_and_batches: Rng,
    pub masks: Rng,
}

impl RunRngs {
    pub fn from_seed(seed: u64) -> Self {
        let mut masks = seeded_rng(seed);
        masks.set_stream(1);
        RunRngs { init_and_batches: seeded_rng(seed), masks }
    }
}

// ANCHOR: train
/// Trains a fresh network with minibatch SGD on the batch-mean cross-entropy, dropout
/// on, and evaluates it with dropout off on `train` and `test` after every epoch.
/// `progress(examples)` is called after each batch; `on_epoch` after each epoch.
/// Fails if the loss blows up.
pub fn train(
    config: &DropoutConfig,
    train: &Labeled,
    test: &Labeled,
    classes: usize,
    rngs: &mut RunRngs,
    mut progress: impl FnMut(usize),
    mut on_epoch: impl FnMut(&EpochReport) -> Result<()>,
) -> Result<(DropoutMlp, Vec<EpochReport>)> {
    let RunRngs { init_and_batches: rng, masks } = rngs;
    let mut net = DropoutMlp::new(
        train.features(),
        &config.hidden,
        &config.dropout,
        classes,
        config.activation,
        config.init,
        rng,
    )?;
    let mut sgd = Sgd::new(config.lr);
    let mut batches = Batches::new(train.len(), config.batch_size);
    let mut buffers =
        LabeledBatches::new(train.features(), classes, config.batch_size.min(train.len()).max(1));
    let mut guard = DivergenceGuard::new();
    let mut reports = Vec::with_capacity(config.epochs);
    for epoch in 1..=config.epochs {
        net.set_mode(Mode::Train);
        let mut loss_sum = 0.0f64;
        for indices in batches.shuffled(rng) {
            let b = buffers.gather(train, indices);
            let logits = net.forward(&b.x, masks);
            let loss = cross_entropy_with_logits_into(logits, &b.labels, &mut b.grad);
            guard.check(loss, epoch, config.lr)?;
            loss_sum += f64::from(loss) * indices.len() as f64;
            net.zero_grad();
            net.backward(&b.grad);
            sgd.step(&mut net);
            progress(indices.len());
        }
        let (_, train_accuracy) = evaluate(&mut net, train, classes);
        let (test_loss, test_accuracy) = evaluate(&mut net, test, classes);
        let report = EpochReport {
            epoch,
            train_loss: (loss_sum / train.len().max(1) as f64) as f32,
            train_accuracy,
            test_loss,
            test_accuracy,
        };
        on_epoch(&report)?;
        reports.push(report);
    }
    Ok((net, reports))
}
// ANCHOR_END: train

#[cfg(test)]
mod tests {
    use super::*;
    use dlcore::gradcheck::{check, numeric_gradient};
    use dlcore::loss::cross_entropy_with_logits;

    fn small_net(dropout: &[f32], seed: u64) -> DropoutMlp {
        let init = Init::Uniform { low: -0.8, high: 0.8 };
        DropoutMlp::new(4, &[5, 3], dropout, 3, Activation::Tanh, init, &mut seeded_rng(seed)).unwrap()
    }

    #[test]
    fn one_probability_per_hidden_layer() {
        let init = Init::Normal { std: 0.1 };
        let error =
            DropoutMlp::new(4, &[5, 3], &[0.5], 3, Activation::Relu, init, &mut seeded_rng(0)).unwrap_err();
        assert!(error.to_string().contains("one per hidden layer"), "{error}");
        assert!(DropoutMlp::new(4, &[5], &[1.0], 3, Activation::Relu, init, &mut seeded_rng(0)).is_err());
    }

    /// Backward through the whole network, dropout masks held fixed, equals finite
    /// differences of the cross-entropy with respect to every dense layer's weights.
    #[test]
    fn gradients_with_dropout_match_finite_differences() {
        for seed in 0..5 {
            let mut net = small_net(&[0.3, 0.5], seed);
            let x = Init::Uniform { low: -1.0, high: 1.0 }.matrix(4, 6, &mut seeded_rng(100 + seed));
            let labels = [0u8, 2, 1, 1, 0, 2];
            let masks = seeded_rng(200 + seed);
            let (_, grad) = cross_entropy_with_logits(net.forward(&x, &mut masks.clone()), &labels);
            net.zero_grad();
            net.backward(&grad);
            let layers: Vec<Linear> = net.linear_layers().cloned().collect();
            for (index, layer) in layers.iter().enumerate() {
                let numeric = numeric_gradient(
                    |w| {
                        let mut probe = net.clone();
                        probe.linear_layers_mut().nth(index).unwrap().weight.copy_from(w);
                        cross_entropy_with_logits(probe.forward(&x, &mut masks.clone()), &labels).0
                    },
                    &layer.weight,
                    1e-2,
                );
                let result = check(&layer.grad_weight, &numeric, 3e-3);
                assert!(result.is_ok(), "seed {seed}, layer {index}: {}", result.unwrap_err());
            }
        }
    }

    #[test]
    fn evaluation_mode_is_deterministic_and_training_mode_is_not() {
        let mut net = small_net(&[0.5, 0.5], 1);
        let x = Init::Uniform { low: -1.0, high: 1.0 }.matrix(4, 8, &mut seeded_rng(7));
        let mut rng = seeded_rng(9);
        net.set_mode(Mode::Eval);
        let first = net.forward(&x, &mut rng).clone();
        assert_eq!(net.forward(&x, &mut rng), &first);
        let mut without = small_net(&[0.0, 0.0], 1);
        assert_eq!(without.forward(&x, &mut rng), &first, "eval mode = the same net without dropout");
        net.set_mode(Mode::Train);
        let a = net.forward(&x, &mut rng).clone();
        let b = net.forward(&x, &mut rng).clone();
        assert_ne!(a, b, "two training passes draw two masks");
    }

    /// Without dropout the network is exactly dlcore's `Sequential` MLP: built from
    /// the same generator it has the same weights and computes the same logits.
    #[test]
    fn without_dropout_it_is_dlcores_mlp() {
        let init = Init::Normal { std: 0.1 };
        let mut ours =
            DropoutMlp::new(6, &[5, 4], &[0.0, 0.0], 3, Activation::Relu, init, &mut seeded_rng(8)).unwrap();
        let mut theirs =
            dlcore::layer::Sequential::mlp(&[6, 5, 4, 3], Activation::Relu, init, &mut seeded_rng(8));
        let x = Init::Uniform { low: -1.0, high: 1.0 }.matrix(6, 9, &mut seeded_rng(1));
        assert_eq!(ours.forward(&x, &mut seeded_rng(2)), theirs.forward(&x));
    }

    #[test]
    fn runs_with_and_without_dropout_start_from_the_same_weights() {
        let data = dlcore::data::images::load_sample(dlcore::data::images::ImageSet::FashionMnist).unwrap();
        let data = data.head(64);
        let config = DropoutConfig { epochs: 0, ..DropoutConfig::d2l() };
        let (with, _) =
            train(&config, &data, &data, 10, &mut RunRngs::from_seed(3), |_| {}, |_| Ok(())).unwrap();
        let config = config.without_dropout();
        let (without, _) =
            train(&config, &data, &data, 10, &mut RunRngs::from_seed(3), |_| {}, |_| Ok(())).unwrap();
        assert!(with.linear_layers().zip(without.linear_layers()).all(|(a, b)| a.weight == b.weight));
    }
}
