//! Weight decay (L2 regularization) on a problem built to over-fit: 200 features,
//! 20 training examples, y = 0.05 + Σᵢ 0.01·xᵢ + ε.
//!
//! The penalty's gradient is written out here ([`scratch_step`]) and the same run is
//! repeated through `dlcore`'s optimizer, whose `weight_decay` adds λ·w to every
//! weight gradient; the two must give the same weights. A sweep over λ with K-fold
//! cross-validation then chooses λ from the training data alone.

use dlcore::data::split::Split;
use dlcore::data::synthetic::linear;
use dlcore::data::{Batches, Dataset, RegressionBatches};
use dlcore::init::Init;
use dlcore::layer::Linear;
use dlcore::linalg::{Op, matmul_into};
use dlcore::optim::DivergenceGuard;
use dlcore::{Result, Rng};
use nalgebra::DMatrix;

use crate::cross_validation::{CvScore, FoldLosses, cross_validate};
use crate::regression::{EpochLosses, SgdConfig, measure, train_linear};

/// The number of features.
pub const FEATURES: usize = 200;
/// Every true weight.
pub const TRUE_WEIGHT: f32 = 0.01;
/// The true bias.
pub const TRUE_BIAS: f32 = 0.05;
/// The standard deviation of the noise.
pub const NOISE_STD: f32 = 0.01;

/// Training and test examples of the high-dimensional problem.
#[derive(Debug, Clone, PartialEq)]
pub struct DecayData {
    pub train: Dataset,
    pub test: Dataset,
}

/// `train` and `test` examples of y = 0.05 + Σᵢ 0.01·xᵢ + ε, x ~ N(0, I), ε ~ N(0, 0.01²).
pub fn decay_data(train: usize, test: usize, rng: &mut Rng) -> DecayData {
    let w = [TRUE_WEIGHT; FEATURES];
    DecayData {
        train: linear(&w, TRUE_BIAS, NOISE_STD, train, rng),
        test: linear(&w, TRUE_BIAS, NOISE_STD, test, rng),
    }
}

/// The from-scratch model ŷ = w·x + b: nothing but its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ScratchLinear {
    /// 1 × d.
    pub w: DMatrix<f32>,
    pub b: f32,
}

impl ScratchLinear {
    /// Weights N(0, 1) and bias 0, d2l's starting point for this experiment: far from
    /// the true weights, so whatever training leaves of it shows in the test loss.
    pub fn init(features: usize, rng: &mut Rng) -> Self {
        ScratchLinear { w: Init::Normal { std: 1.0 }.matrix(1, features, rng), b: 0.0 }
    }

    /// The same parameters as a `dlcore` dense layer, for the optimizer version.
    pub fn to_linear(&self) -> Linear {
        Linear::from_parameters(self.w.clone(), DMatrix::from_element(1, 1, self.b))
    }
}

// ANCHOR: l2_penalty
/// The L2 penalty ½‖w‖² (the bias is not penalised). The objective is the mean
/// squared loss plus λ times this, whose gradient with respect to w is λ·w.
pub fn l2_penalty(w: &DMatrix<f32>) -> f32 {
    0.5 * w.norm_squared()
}
// ANCHOR_END: l2_penalty

/// Buffers for [`data_gradients`]: the residuals of a batch and ∂L/∂w.
#[derive(Debug)]
pub struct ScratchBuffers {
    residual: DMatrix<f32>,
    grad_w: DMatrix<f32>,
}

impl ScratchBuffers {
    pub fn new(features: usize) -> Self {
        ScratchBuffers { residual: DMatrix::zeros(1, 0), grad_w: DMatrix::zeros(1, features) }
    }

    /// ∂L/∂w of the last [`data_gradients`] call.
    pub fn grad_w(&self) -> &DMatrix<f32> {
        &self.grad_w
    }
}

// ANCHOR: data_gradients
/// The data term L = (1/n) Σⱼ ½(w·xⱼ + b − yⱼ)² of a batch (one example per column of
/// `x`) and its gradient: writes ∂L/∂w = (1/n) Σⱼ rⱼ·xⱼᵀ into the buffers and returns
/// (L, ∂L/∂b = (1/n) Σⱼ rⱼ), where rⱼ = w·xⱼ + b − yⱼ is the residual.
pub fn data_gradients(
    model: &ScratchLinear,
    x: &DMatrix<f32>,
    y: &DMatrix<f32>,
    buffers: &mut ScratchBuffers,
) -> (f32, f32) {
    let n = x.ncols();
    if buffers.residual.ncols() != n {
        buffers.residual = DMatrix::zeros(1, n);
    }
    let r = &mut buffers.residual;
    matmul_into(r, 1.0, &model.w, Op::N, x, Op::N, 0.0);
    r.zip_apply(y, |r, y| *r += model.b - y);
    let n = n as f32;
    matmul_into(&mut buffers.grad_w, 1.0 / n, r, Op::N, x, Op::T, 0.0);
    let loss = r.iter().map(|r| 0.5 * r * r).sum::<f32>() / n;
    (loss, r.sum() / n)
}
// ANCHOR_END: data_gradients

// ANCHOR: scratch_step
/// One SGD step on J = L + λ·½‖w‖² for the batch (`x`, `y`):
/// w ← w − η(∂L/∂w + λw) = (1 − ηλ)·w − η·∂L/∂w, and b ← b − η·∂L/∂b.
/// The factor (1 − ηλ) < 1 shrinks every weight before the data pulls on it: the
/// "decay" of weight decay.
pub fn scratch_step(
    model: &mut ScratchLinear,
    x: &DMatrix<f32>,
    y: &DMatrix<f32>,
    lr: f32,
    lambda: f32,
    buffers: &mut ScratchBuffers,
) {
    let (_, grad_b) = data_gradients(model, x, y, buffers);
    let decay = 1.0 - lr * lambda;
    model.w.zip_apply(&buffers.grad_w, |w, g| *w = decay * *w - lr * g);
    model.b -= lr * grad_b;
}
// ANCHOR_END: scratch_step

/// Trains the from-scratch model in place with the same batching as
/// [`train_linear`] (the same `rng` gives the same batches), `config.weight_decay`
/// being λ, and returns the losses after every epoch.
pub fn train_scratch(
    model: &mut ScratchLinear,
    train: &Dataset,
    test: &Dataset,
    config: &SgdConfig,
    rng: &mut Rng,
) -> Result<Vec<EpochLosses>> {
    let batch_size = config.batch_size.min(train.len()).max(1);
    let mut batches = Batches::new(train.len(), batch_size);
    let mut batch_buffers = RegressionBatches::new(train.features(), train.y.nrows(), batch_size);
    let mut buffers = ScratchBuffers::new(train.features());
    let mut guard = DivergenceGuard::new();
    let mut history = Vec::with_capacity(config.epochs);
    for epoch in 1..=config.epochs {
        for indices in batches.shuffled(rng) {
            let batch = batch_buffers.gather(train, indices);
            scratch_step(model, &batch.x, &batch.y, config.lr, config.weight_decay, &mut buffers);
        }
        let losses = measure(epoch, &model.w, model.b, train, test);
        guard.check(losses.train_loss, epoch, config.lr)?;
        history.push(losses);
    }
    Ok(history)
}

/// One λ trained both ways from the same start and with the same batches.
#[derive(Debug, Clone, PartialEq)]
pub struct DecayRun {
    pub lambda: f32,
    pub scratch: Vec<EpochLosses>,
    pub optimizer: Vec<EpochLosses>,
    pub scratch_model: ScratchLinear,
    /// The optimizer version's final parameters, in the same form.
    pub optimizer_model: ScratchLinear,
}

impl DecayRun {
    /// The largest difference between the two versions' final parameters.
    pub fn max_parameter_difference(&self) -> f32 {
        let (a, b) = (&self.scratch_model, &self.optimizer_model);
        a.w.iter().zip(b.w.iter()).map(|(x, y)| (x - y).abs()).fold((a.b - b.b).abs(), f32::max)
    }
}

/// Trains from `start` with weight decay `lambda`, from scratch and through
/// `dlcore`'s optimizer, each with a copy of `rng` so both see the same batches.
pub fn train_both(
    lambda: f32,
    data: &DecayData,
    start: &ScratchLinear,
    config: &SgdConfig,
    rng: &Rng,
) -> Result<DecayRun> {
    let config = SgdConfig { weight_decay: lambda, ..*config };
    let mut scratch_model = start.clone();
    let scratch = train_scratch(&mut scratch_model, &data.train, &data.test, &config, &mut rng.clone())?;
    let mut layer = start.to_linear();
    let optimizer = train_linear(&mut layer, &data.train, &data.test, &config, &mut rng.clone(), |_, _| {})?;
    let optimizer_model = ScratchLinear { w: layer.weight.clone(), b: layer.bias[0] };
    Ok(DecayRun { lambda, scratch, optimizer, scratch_model, optimizer_model })
}

/// The cross-validated and the test loss of one λ.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LambdaScore {
    pub lambda: f32,
    /// Mean train and validation loss over the folds.
    pub cv: CvScore,
    /// Test loss after training on the whole training set: shown for comparison, never
    /// used to choose.
    pub test_loss: f64,
}

// ANCHOR: lambda_sweep
/// For every λ of `lambdas`: K-fold cross-validation on the training set over
/// `folds`, then one run on the whole training set measured on the test set. Every
/// run starts from `start` and draws its batches from a copy of `rng`, so the λs
/// differ in nothing else.
pub fn lambda_sweep(
    lambdas: &[f32],
    data: &DecayData,
    start: &ScratchLinear,
    config: &SgdConfig,
    folds: &[Split],
    rng: &Rng,
) -> Result<Vec<LambdaScore>> {
    let fit = |lambda: f32, train: &Dataset, held_out: &Dataset| -> Result<EpochLosses> {
        let config = SgdConfig { weight_decay: lambda, ..*config };
        let mut model = start.to_linear();
        let history = train_linear(&mut model, train, held_out, &config, &mut rng.clone(), |_, _| {})?;
        Ok(history.last().copied().unwrap_or_else(|| measure(0, &start.w, start.b, train, held_out)))
    };
    lambdas
        .iter()
        .map(|&lambda| {
            let cv = cross_validate(folds, |split| {
                let (train, validation) =
                    (data.train.subset(&split.train), data.train.subset(&split.validation));
                let last = fit(lambda, &train, &validation)?;
                Ok::<_, dlcore::Error>(FoldLosses {
                    train: f64::from(last.train_loss),
                    validation: f64::from(last.test_loss),
                })
            })?;
            let test_loss = f64::from(fit(lambda, &data.train, &data.test)?.test_loss);
            Ok(LambdaScore { lambda, cv, test_loss })
        })
        .collect()
}
// ANCHOR_END: lambda_sweep

/// 0 followed by `points` values from `low` to `high`, evenly spaced in log λ: the
/// interesting changes happen over decades of λ, not in steps of one.
pub fn lambda_grid(low: f32, high: f32, points: usize) -> Vec<f32> {
    let mut grid = vec![0.0];
    let (a, b) = (low.ln(), high.ln());
    // The ends exactly as asked (exp(ln 100) is not exactly 100 in f32).
    grid.extend((0..points).map(|i| match i {
        0 => low,
        i if i + 1 == points => high,
        i => (a + (b - a) * i as f32 / (points - 1) as f32).exp(),
    }));
    grid
}

#[cfg(test)]
mod tests {
    use super::*;
    use dlcore::gradcheck::{check, numeric_gradient};
    use dlcore::optim::Sgd;
    use dlcore::seeded_rng;
    use proptest::prelude::*;

    fn small_problem(seed: u64, features: usize, n: usize) -> (ScratchLinear, DMatrix<f32>, DMatrix<f32>) {
        let mut rng = seeded_rng(seed);
        let uniform = Init::Uniform { low: -1.0, high: 1.0 };
        let model =
            ScratchLinear { w: uniform.matrix(1, features, &mut rng), b: uniform.matrix(1, 1, &mut rng)[0] };
        (model, uniform.matrix(features, n, &mut rng), uniform.matrix(1, n, &mut rng))
    }

    proptest! {
        /// ∂J/∂w = ∂L/∂w + λw and ∂J/∂b agree with finite differences of
        /// J = L + λ·½‖w‖².
        #[test]
        fn penalised_gradients_match_finite_differences(seed in 0u64..10_000, features in 1usize..6, n in 1usize..5, lambda in 0.0f32..5.0) {
            let (model, x, y) = small_problem(seed, features, n);
            let mut buffers = ScratchBuffers::new(features);
            let (loss, grad_b) = data_gradients(&model, &x, &y, &mut buffers);
            let objective = |w: &DMatrix<f32>, b: f32| {
                let probe = ScratchLinear { w: w.clone(), b };
                data_gradients(&probe, &x, &y, &mut ScratchBuffers::new(features)).0 + lambda * l2_penalty(w)
            };
            prop_assert!((objective(&model.w, model.b) - loss - lambda * l2_penalty(&model.w)).abs() < 1e-5);
            let analytic_w = buffers.grad_w() + &model.w * lambda;
            let numeric_w = numeric_gradient(|w| objective(w, model.b), &model.w, 1e-2);
            prop_assert!(check(&analytic_w, &numeric_w, 2e-3).is_ok(), "{}", check(&analytic_w, &numeric_w, 2e-3).unwrap_err());
            let b = DMatrix::from_element(1, 1, model.b);
            let numeric_b = numeric_gradient(|b| objective(&model.w, b[0]), &b, 1e-2);
            prop_assert!(check(&DMatrix::from_element(1, 1, grad_b), &numeric_b, 2e-3).is_ok());
        }

        /// One step from scratch equals one step of dlcore's dense layer, squared loss
        /// and SGD with weight decay.
        #[test]
        fn one_scratch_step_equals_one_optimizer_step(seed in 0u64..10_000, features in 1usize..8, n in 1usize..6, lambda in 0.0f32..5.0, lr in 0.001f32..0.1) {
            let (mut model, x, y) = small_problem(seed, features, n);
            let mut layer = model.to_linear();
            scratch_step(&mut model, &x, &y, lr, lambda, &mut ScratchBuffers::new(features));
            let (_, grad) = dlcore::loss::squared(layer.forward(&x), &y);
            layer.zero_grad();
            layer.backward(&grad);
            Sgd::new(lr).with_weight_decay(lambda).step(&mut layer);
            for (a, b) in model.w.iter().zip(layer.weight.iter()) {
                prop_assert!((a - b).abs() < 1e-5 * (1.0 + a.abs()), "{a} vs {b}");
            }
            prop_assert!((model.b - layer.bias[0]).abs() < 1e-5 * (1.0 + model.b.abs()));
        }
    }

    #[test]
    fn a_step_shrinks_the_weights_by_one_minus_lr_lambda_when_the_data_agree() {
        // With zero residual (the model fits the batch exactly) only the decay acts.
        let model_w = DMatrix::from_row_slice(1, 2, &[2.0, -4.0]);
        let x = DMatrix::from_column_slice(2, 1, &[1.0, 1.0]);
        let mut model = ScratchLinear { w: model_w, b: 0.5 };
        let y = DMatrix::from_element(1, 1, 2.0 - 4.0 + 0.5);
        scratch_step(&mut model, &x, &y, 0.1, 3.0, &mut ScratchBuffers::new(2));
        assert!((model.w[0] - 1.4).abs() < 1e-6 && (model.w[1] + 2.8).abs() < 1e-6, "{}", model.w);
        assert!((model.b - 0.5).abs() < 1e-7, "the bias is not decayed");
    }

    #[test]
    fn whole_runs_agree_between_scratch_and_optimizer() {
        let mut rng = seeded_rng(5);
        let data = decay_data(20, 30, &mut rng);
        let start = ScratchLinear::init(FEATURES, &mut rng);
        let config = SgdConfig { lr: 0.003, batch_size: 1, epochs: 10, weight_decay: 0.0 };
        for lambda in [0.0, 3.0] {
            let run = train_both(lambda, &data, &start, &config, &rng).unwrap();
            assert!(
                run.max_parameter_difference() < 1e-4,
                "λ = {lambda}: {}",
                run.max_parameter_difference()
            );
            let (a, b) = (run.scratch.last().unwrap(), run.optimizer.last().unwrap());
            assert!((a.test_loss - b.test_loss).abs() < 1e-3 * a.test_loss.max(1.0));
        }
    }

    #[test]
    fn the_grid_starts_at_zero_and_is_log_spaced() {
        let grid = lambda_grid(0.01, 10.0, 4);
        let expected = [0.0, 0.01, 0.1, 1.0, 10.0];
        assert_eq!(grid.len(), 5);
        for (g, e) in grid.iter().zip(expected) {
            assert!((g - e).abs() <= 1e-5 * e.max(1e-3), "{grid:?}");
        }
    }
}
