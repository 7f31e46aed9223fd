//! Why weights must start random: if every weight starts at the same value, every
//! hidden unit computes the same thing, receives the same gradient and takes the same
//! step — so they stay identical forever, and a layer of many units works like a
//! layer of one.

use dlcore::activation::Activation;
use dlcore::data::Batches;
use dlcore::data::dataset::Labeled;
use dlcore::init::Init;
use dlcore::layer::{Linear, Sequential};
use dlcore::optim::Sgd;
use dlcore::{Error, Result, Rng};
use nalgebra::DMatrix;

use crate::training::{BatchBuffers, evaluate};

/// A one-hidden-layer network and how long to train it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SymmetryConfig {
    pub hidden: usize,
    pub activation: Activation,
    pub lr: f32,
    pub batch_size: usize,
    pub steps: usize,
}

/// What training from one initializer produced.
#[derive(Debug, Clone)]
pub struct SymmetryRun {
    pub net: Sequential,
    /// The training loss of every step's batch.
    pub losses: Vec<f32>,
    /// [`row_spread`] of the first layer's weights after every step.
    pub spread: Vec<f32>,
    /// Accuracy on the test set after the last step.
    pub test_accuracy: f32,
}

// ANCHOR: row_spread
/// How different the hidden units are: the largest |W[j, i] − W[0, i]| over every
/// unit j and input i. Row j of the first layer's weights is what unit j looks for
/// in the input, so a spread of 0 means all units are the same unit.
pub fn row_spread(weights: &DMatrix<f32>) -> f32 {
    let first = weights.row(0);
    weights.row_iter().map(|row| (row - first).abs().max()).fold(0.0, f32::max)
}
// ANCHOR_END: row_spread

/// The network's first dense layer.
pub fn first_layer(net: &Sequential) -> &Linear {
    net.linear_layers().next().unwrap_or_else(|| unreachable!("Sequential::mlp always has a dense layer"))
}

// ANCHOR: train_steps
/// Trains `inputs → hidden → classes` from `init` for `config.steps` SGD steps and
/// records the loss and the spread between hidden units after each.
pub fn train_steps(
    config: &SymmetryConfig,
    init: Init,
    train: &Labeled,
    test: &Labeled,
    classes: usize,
    rng: &mut Rng,
) -> Result<SymmetryRun> {
    if train.is_empty() || config.batch_size == 0 || config.hidden == 0 {
        return Err(Error::invalid("training examples, batch size and hidden units", 0, "at least 1 each"));
    }
    let sizes = [train.features(), config.hidden, classes];
    let mut net = Sequential::mlp(&sizes, config.activation, init, rng);
    let mut sgd = Sgd::new(config.lr);
    let mut batches = Batches::new(train.len(), config.batch_size);
    let mut buffers = BatchBuffers::new(train.features(), classes, config.batch_size);
    let (mut losses, mut spread) = (Vec::with_capacity(config.steps), Vec::with_capacity(config.steps));
    while losses.len() < config.steps {
        for indices in batches.shuffled(rng) {
            if losses.len() == config.steps {
                break;
            }
            losses.push(buffers.sgd_step(&mut net, &mut sgd, train, indices));
            spread.push(row_spread(&first_layer(&net).weight));
        }
    }
    let (_, test_accuracy) = evaluate(&mut net, test, classes);
    Ok(SymmetryRun { net, losses, spread, test_accuracy })
}
// ANCHOR_END: train_steps
