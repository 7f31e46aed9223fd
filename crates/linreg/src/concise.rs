//! The same linear regression, concisely: `dlcore`'s `Linear` layer is the model,
//! its squared loss the loss and its `Sgd` the update. The loop is the one a
//! framework user writes: forward, loss, zero the gradients, backward, step.
//!
//! Started from the same seed as [`crate::scratch::train`], it draws the same
//! initial weights and visits the batches in the same order, so the two must end
//! at (almost exactly) the same parameters: the tests check that they do.

use dlcore::data::{Batches, Dataset, RegressionBatches};
use dlcore::init::Init;
use dlcore::layer::Linear;
use dlcore::loss::squared_into;
use dlcore::optim::{DivergenceGuard, Sgd};
use dlcore::{Result, Rng};
use nalgebra::DMatrix;

use crate::{Config, Estimate, History, INIT_STD};

/// A `Linear` layer's parameters as an [`Estimate`]: its one row of weights and
/// its bias.
pub fn estimate(layer: &Linear) -> Estimate {
    Estimate { w: layer.weight.iter().copied().collect(), b: layer.bias[0] }
}

// ANCHOR: train
/// Trains a fresh `features → 1` linear layer on `data`; `history` is filled as in
/// [`crate::scratch::train`], and a diverging run fails the same way.
pub fn train(config: &Config, data: &Dataset, rng: &mut Rng, history: &mut History) -> Result<Linear> {
    config.validate()?;
    let features = data.features();
    let mut net = Linear::new(features, 1, Init::Normal { std: INIT_STD }, rng);
    let mut sgd = Sgd::new(config.lr);
    let mut batches = Batches::new(data.len(), config.batch_size);
    let mut buffers = RegressionBatches::new(features, data.y.nrows(), config.batch_size);
    let mut whole_grad = DMatrix::zeros(1, data.len());
    let mut guard = DivergenceGuard::new();
    let whole_loss =
        |net: &mut Linear, grad: &mut DMatrix<f32>| squared_into(net.forward(&data.x), &data.y, grad);
    history.push_epoch(whole_loss(&mut net, &mut whole_grad), estimate(&net));
    for epoch in 1..=config.epochs {
        for indices in batches.shuffled(rng) {
            let batch = buffers.gather(data, indices);
            let loss = squared_into(net.forward(&batch.x), &batch.y, &mut batch.grad);
            guard.check(loss, epoch, config.lr)?;
            history.batch_losses.push(loss);
            net.zero_grad();
            net.backward(&batch.grad);
            sgd.step(&mut net);
        }
        let loss = whole_loss(&mut net, &mut whole_grad);
        guard.check(loss, epoch, config.lr)?;
        history.push_epoch(loss, estimate(&net));
    }
    Ok(net)
}
// ANCHOR_END: train
