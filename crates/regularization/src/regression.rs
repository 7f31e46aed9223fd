//! Linear regression ŷ = w·x + b trained by minibatch SGD, built from `dlcore`'s
//! dense layer, squared loss and optimizer. Every epoch it measures the loss on the
//! whole training set and on the test set, the two curves this chapter is about.

use dlcore::data::{Batches, Dataset, RegressionBatches};
use dlcore::layer::Linear;
use dlcore::loss::squared_into;
use dlcore::optim::{DivergenceGuard, Sgd};
use dlcore::{Result, Rng};
use nalgebra::DMatrix;

/// The settings of one SGD run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgdConfig {
    /// Learning rate η.
    pub lr: f32,
    /// Examples per minibatch; a data set smaller than this is one batch.
    pub batch_size: usize,
    /// Passes over the training set.
    pub epochs: usize,
    /// λ of the L2 penalty (λ/2)‖w‖²; 0 for none. The bias is never penalised.
    pub weight_decay: f32,
}

/// The state of a run after one epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochLosses {
    /// Counted from 1.
    pub epoch: usize,
    /// Mean ½(ŷ − y)² over the whole training set, without the penalty.
    pub train_loss: f32,
    /// The same on the test (or validation) set.
    pub test_loss: f32,
    /// ‖w‖, the Euclidean norm of the weights (the bias left out).
    pub weight_norm: f32,
}

/// Mean squared loss ½(ŷ − y)² of the model (`weight` 1 × d, `bias` 1 × 1) on `data`,
/// computed column by column so that neither a layer's buffers nor the heap are
/// touched: evaluation must not disturb training.
pub fn mean_squared_loss(weight: &DMatrix<f32>, bias: f32, data: &Dataset) -> f32 {
    let mut total = 0.0f64;
    for (x, y) in data.x.column_iter().zip(data.y.iter()) {
        let y_hat = weight.row(0).transpose().dot(&x) + bias;
        total += 0.5 * f64::from(y_hat - y).powi(2);
    }
    (total / data.len().max(1) as f64) as f32
}

/// A dense layer `d → 1` for a model of `features` inputs, weights from `init`,
/// bias 0.
pub fn linear_model(features: usize, init: dlcore::init::Init, rng: &mut Rng) -> Linear {
    Linear::new(features, 1, init, rng)
}

// ANCHOR: train_linear
/// Trains `model` in place by minibatch SGD on the squared loss, with `dlcore`'s
/// optimizer applying the weight decay, and returns the losses after every epoch.
/// The batches are drawn from `rng`; `on_epoch` sees the model after every epoch.
/// Fails if the training loss blows up.
pub fn train_linear(
    model: &mut Linear,
    train: &Dataset,
    test: &Dataset,
    config: &SgdConfig,
    rng: &mut Rng,
    mut on_epoch: impl FnMut(&EpochLosses, &Linear),
) -> Result<Vec<EpochLosses>> {
    let mut sgd = Sgd::new(config.lr).with_weight_decay(config.weight_decay);
    let batch_size = config.batch_size.min(train.len()).max(1);
    let mut batches = Batches::new(train.len(), batch_size);
    let mut buffers = RegressionBatches::new(train.features(), train.y.nrows(), batch_size);
    let mut guard = DivergenceGuard::new();
    let mut history = Vec::with_capacity(config.epochs);
    for epoch in 1..=config.epochs {
        for indices in batches.shuffled(rng) {
            let batch = buffers.gather(train, indices);
            let y_hat = model.forward(&batch.x);
            squared_into(y_hat, &batch.y, &mut batch.grad);
            model.zero_grad();
            model.backward(&batch.grad);
            sgd.step(model);
        }
        let losses = measure(epoch, &model.weight, model.bias[0], train, test);
        guard.check(losses.train_loss, epoch, config.lr)?;
        on_epoch(&losses, model);
        history.push(losses);
    }
    Ok(history)
}
// ANCHOR_END: train_linear

/// The losses and weight norm of the model (`weight`, `bias`) after `epoch`.
pub fn measure(
    epoch: usize,
    weight: &DMatrix<f32>,
    bias: f32,
    train: &Dataset,
    test: &Dataset,
) -> EpochLosses {
    EpochLosses {
        epoch,
        train_loss: mean_squared_loss(weight, bias, train),
        test_loss: mean_squared_loss(weight, bias, test),
        weight_norm: weight.norm(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dlcore::data::synthetic;
    use dlcore::init::Init;
    use dlcore::seeded_rng;

    #[test]
    fn the_loss_helper_agrees_with_dlcore_squared_loss() {
        let mut rng = seeded_rng(0);
        let data = synthetic::linear(&[0.5, -1.0, 2.0], 0.3, 0.5, 17, &mut rng);
        let mut model = linear_model(3, Init::Normal { std: 1.0 }, &mut rng);
        model.bias[0] = 0.7;
        let ours = mean_squared_loss(&model.weight, 0.7, &data);
        let mut grad = DMatrix::zeros(1, 17);
        let theirs = squared_into(model.forward(&data.x), &data.y, &mut grad);
        assert!((ours - theirs).abs() < 1e-5 * theirs.max(1.0), "{ours} vs {theirs}");
    }

    #[test]
    fn sgd_recovers_a_linear_model() {
        let mut rng = seeded_rng(1);
        let train = synthetic::linear(&[2.0, -3.4], 4.2, 0.01, 200, &mut rng);
        let test = synthetic::linear(&[2.0, -3.4], 4.2, 0.01, 50, &mut rng);
        let mut model = linear_model(2, Init::Normal { std: 0.01 }, &mut rng);
        let config = SgdConfig { lr: 0.03, batch_size: 10, epochs: 20, weight_decay: 0.0 };
        let history = train_linear(&mut model, &train, &test, &config, &mut rng, |_, _| {}).unwrap();
        assert_eq!(history.len(), 20);
        assert!(history[19].test_loss < 1e-3, "{:?}", history[19]);
        assert!((model.weight[0] - 2.0).abs() < 0.01 && (model.bias[0] - 4.2).abs() < 0.01);
        // 200 examples in batches of 10 and in batches of 7 (a smaller last batch).
        let mut other = linear_model(2, Init::Normal { std: 0.01 }, &mut rng);
        let config = SgdConfig { batch_size: 7, ..config };
        assert!(train_linear(&mut other, &train, &test, &config, &mut rng, |_, _| {}).is_ok());
    }
}
