//! Training an MLP from a given initialization, keeping the curves that show
//! whether (and how fast) it learns: the training loss every few steps and the
//! test accuracy after every epoch.
//!
//! Unlike the `mlp` chapter's loop, a run that blows up is not an error here: a
//! loss that stops being a number is one of the outcomes this chapter compares, so
//! the run stops and says when.

use dlcore::activation::Activation;
use dlcore::data::dataset::Labeled;
use dlcore::data::{Batches, LabeledBatches};
use dlcore::init::Init;
use dlcore::layer::Sequential;
use dlcore::loss::cross_entropy_with_logits_into;
use dlcore::metrics::correct;
use dlcore::optim::Sgd;
use dlcore::{Error, Result, Rng};

/// The buffers a training or evaluation loop needs (dlcore's [`LabeledBatches`]:
/// one set for full batches, one for the smaller last batch), with the two things
/// this chapter does with a batch. No step allocates.
#[derive(Debug)]
pub struct BatchBuffers {
    batches: LabeledBatches,
}

impl BatchBuffers {
    pub fn new(features: usize, classes: usize, batch_size: usize) -> Self {
        BatchBuffers { batches: LabeledBatches::new(features, classes, batch_size) }
    }

    // ANCHOR: sgd_step
    /// One minibatch SGD step on the examples `indices` of `data`. Returns the batch's
    /// loss, measured before the step.
    pub fn sgd_step(
        &mut self,
        net: &mut Sequential,
        sgd: &mut Sgd,
        data: &Labeled,
        indices: &[usize],
    ) -> f32 {
        let b = self.batches.gather(data, indices);
        let loss = cross_entropy_with_logits_into(net.forward(&b.x), &b.labels, &mut b.grad);
        net.zero_grad();
        net.backward(&b.grad);
        sgd.step(net);
        loss
    }
    // ANCHOR_END: sgd_step

    /// The loss and the number of correct predictions on `indices` of `data`.
    fn evaluate_batch(&mut self, net: &mut Sequential, data: &Labeled, indices: &[usize]) -> (f32, usize) {
        let b = self.batches.gather(data, indices);
        let logits = net.forward(&b.x);
        let right = correct(logits, &b.labels);
        (cross_entropy_with_logits_into(logits, &b.labels, &mut b.grad), right)
    }
}

/// Average cross-entropy and accuracy of `net` on `data`, in batches of 1,000.
pub fn evaluate(net: &mut Sequential, data: &Labeled, classes: usize) -> (f32, f32) {
    let mut buffers = BatchBuffers::new(data.features(), classes, 1000);
    let mut batches = Batches::new(data.len(), 1000);
    let (mut loss_sum, mut right) = (0.0f64, 0usize);
    for indices in batches.in_order() {
        let (loss, r) = buffers.evaluate_batch(net, data, indices);
        loss_sum += f64::from(loss) * indices.len() as f64;
        right += r;
    }
    let n = data.len().max(1) as f64;
    ((loss_sum / n) as f32, (right as f64 / n) as f32)
}

/// How to train.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    pub activation: Activation,
    pub init: Init,
    pub lr: f32,
    pub batch_size: usize,
    pub epochs: usize,
    /// The training-loss curve gets one point, the mean over this many steps, per
    /// this many steps.
    pub log_every: usize,
}

/// What one run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Curves {
    /// `(epochs done, as a fraction, mean training loss over the last few steps)`.
    pub train_loss: Vec<(f64, f32)>,
    /// Test accuracy after each completed epoch.
    pub test_accuracy: Vec<f32>,
    /// Test loss after each completed epoch.
    pub test_loss: Vec<f32>,
    /// Where (in epochs) the loss stopped being a finite number, if it did.
    pub diverged_at: Option<f64>,
}

impl Curves {
    /// The last training-loss point, NaN if there is none.
    pub fn final_train_loss(&self) -> f32 {
        self.train_loss.last().map_or(f32::NAN, |p| p.1)
    }

    /// The test accuracy after the last completed epoch, NaN if none completed.
    pub fn final_test_accuracy(&self) -> f32 {
        self.test_accuracy.last().copied().unwrap_or(f32::NAN)
    }
}

// ANCHOR: train
/// Builds `inputs → hidden… → classes` with `config.init` and trains it with plain
/// minibatch SGD, evaluating on `test` after every epoch. A loss that is not a
/// finite number ends the run (recorded in [`Curves::diverged_at`]), since no step
/// can bring such a network back. `progress(examples)` is called after each step.
pub fn train(
    config: &TrainConfig,
    train: &Labeled,
    test: &Labeled,
    classes: usize,
    rng: &mut Rng,
    mut progress: impl FnMut(usize),
) -> Result<Curves> {
    for (name, value) in [
        ("training examples", train.len()),
        ("batch size", config.batch_size),
        ("log interval", config.log_every),
    ] {
        if value == 0 {
            return Err(Error::invalid(name, value, "at least 1"));
        }
    }
    let mut sizes = vec![train.features()];
    sizes.extend(&config.hidden);
    sizes.push(classes);
    let mut net = Sequential::mlp(&sizes, config.activation, config.init, rng);
    let mut sgd = Sgd::new(config.lr);
    let mut batches = Batches::new(train.len(), config.batch_size);
    let mut buffers = BatchBuffers::new(train.features(), classes, config.batch_size);
    let steps_per_epoch = batches.len() as f64;
    let mut curves = Curves {
        train_loss: Vec::new(),
        test_accuracy: Vec::new(),
        test_loss: Vec::new(),
        diverged_at: None,
    };
    let (mut window_sum, mut window_len, mut step) = (0.0f64, 0usize, 0usize);
    for _epoch in 0..config.epochs {
        for indices in batches.shuffled(rng) {
            let loss = buffers.sgd_step(&mut net, &mut sgd, train, indices);
            step += 1;
            progress(indices.len());
            if !loss.is_finite() {
                curves.diverged_at = Some(step as f64 / steps_per_epoch);
                return Ok(curves);
            }
            window_sum += f64::from(loss);
            window_len += 1;
            if window_len == config.log_every {
                let mean = (window_sum / window_len as f64) as f32;
                curves.train_loss.push((step as f64 / steps_per_epoch, mean));
                (window_sum, window_len) = (0.0, 0);
            }
        }
        let (test_loss, test_accuracy) = evaluate(&mut net, test, classes);
        curves.test_loss.push(test_loss);
        curves.test_accuracy.push(test_accuracy);
    }
    Ok(curves)
}
// ANCHOR_END: train
