//! The linear-regression problem of the first chapter, rebuilt from dlcore (chapters
//! never depend on each other): synthetic data y = wᵀx + b + ε, dlcore's `Linear`
//! layer, the squared loss and minibatch SGD. Progress is measured as the distance
//! to the best possible loss, L − L*, where L* is the least-squares minimum solved
//! exactly, so that a run can be seen to stop improving long before L − L* is zero.

use dlcore::data::{Batches, Dataset, RegressionBatches, synthetic};
use dlcore::layer::Linear;
use dlcore::loss::squared_into;
use dlcore::optim::{DivergenceGuard, Sgd};
use dlcore::{Error, Result, Rng};
use nalgebra::{DMatrix, DVector};

use crate::descent::Divergence;

/// A synthetic regression data set and its least-squares optimum.
#[derive(Debug, Clone)]
pub struct Regression {
    pub data: Dataset,
    /// The least-squares loss L* = min over (w, b) of the mean of ½(wᵀx + b − y)².
    pub optimal_loss: f64,
}

impl Regression {
    /// d2l's data: `examples` points with true weights `w`, bias `b` and noise of
    /// standard deviation `noise_std`. `Err` when L* is not unique: fewer examples
    /// than parameters (the weights and the bias) fit exactly in infinitely many ways.
    pub fn synthetic(
        w: &[f32],
        b: f32,
        noise_std: f32,
        examples: usize,
        rng: &mut Rng,
    ) -> Result<Regression> {
        let parameters = w.len() + 1;
        if examples < parameters {
            return Err(Error::invalid(
                "number of examples",
                examples,
                format!(
                    "at least {parameters} (one per weight and one for the bias), for a unique least-squares optimum L*"
                ),
            ));
        }
        let data = synthetic::linear(w, b, noise_std, examples, rng);
        let optimal_loss = least_squares_loss(&data)?;
        Ok(Regression { data, optimal_loss })
    }

    /// The loss of `model` on the whole data set, in `f64` so that L − L* keeps its
    /// digits when both are near the noise floor.
    pub fn loss(&self, model: &Linear) -> f64 {
        loss_of(&self.data, model.weight.as_slice(), f64::from(model.bias[0]))
    }
}

/// Mean of ½(wᵀx + b − y)² over the data, in `f64`, for the model's `f32` weights
/// and the least-squares solution's `f64` ones alike.
fn loss_of<W: Copy + Into<f64>>(data: &Dataset, w: &[W], b: f64) -> f64 {
    let total: f64 = data
        .x
        .column_iter()
        .zip(data.y.iter())
        .map(|(x, &y)| {
            let prediction: f64 = x.iter().zip(w).map(|(&xi, &wi)| f64::from(xi) * wi.into()).sum();
            let r = prediction + b - f64::from(y);
            0.5 * r * r
        })
        .sum();
    total / data.len() as f64
}

/// L* from the normal equations (in `f64`, with a column of ones for the bias). The
/// linreg chapter has a fuller solver, but chapters do not depend on one another and
/// dlcore has none; for two features the system is 3 × 3 and well conditioned, so
/// Cholesky on the normal equations is enough.
fn least_squares_loss(data: &Dataset) -> Result<f64> {
    let (d, n) = (data.features(), data.len());
    let design =
        DMatrix::<f64>::from_fn(n, d + 1, |i, j| if j < d { f64::from(data.x[(j, i)]) } else { 1.0 });
    let targets = DVector::<f64>::from_iterator(n, data.y.iter().map(|&y| f64::from(y)));
    let gram = design.transpose() * &design;
    let rhs = design.transpose() * targets;
    let theta = gram.cholesky().map(|c| c.solve(&rhs)).ok_or_else(|| {
        Error::invalid(
            "data",
            format!("{n} examples"),
            "features that are not linear combinations of one another (L* is not unique): draw more examples",
        )
    })?;
    Ok(loss_of(data, &theta.as_slice()[..d], theta[d]))
}

/// What [`train`] recorded.
#[derive(Debug, Clone)]
pub struct RegressionRun {
    /// L − L* at the start and after every step (fewer if the run diverged).
    pub excess: Vec<f64>,
    /// The learning rate of each step.
    pub lrs: Vec<f32>,
    /// Set when the divergence guard stopped the run.
    pub diverged: Option<Divergence>,
}

// ANCHOR: train
/// Minibatch SGD from w = 0, b = 0 for `steps` steps of `batch_size` examples
/// (reshuffled every pass over the data), with L − L* on the whole data set after
/// every step. As in [`crate::descent::descend`], each step is one "epoch" of the
/// step schedule, so the rate drops every `step_size` steps.
pub fn train(
    problem: &Regression,
    mut sgd: Sgd,
    steps: usize,
    batch_size: usize,
    rng: &mut Rng,
) -> RegressionRun {
    let (features, examples) = (problem.data.features(), problem.data.len());
    let mut model = Linear::from_parameters(DMatrix::zeros(1, features), DMatrix::zeros(1, 1));
    let mut batches = Batches::new(examples, batch_size);
    // A pass is full batches and, when the size does not divide the data, one
    // smaller last batch: one buffer for each size.
    let mut buffers = RegressionBatches::new(features, problem.data.y.nrows(), batch_size.min(examples));
    let mut guard = DivergenceGuard::new();
    let start = problem.loss(&model);
    let mut run = RegressionRun {
        excess: Vec::with_capacity(steps + 1),
        lrs: Vec::with_capacity(steps),
        diverged: None,
    };
    run.excess.push(start - problem.optimal_loss);
    let mut step = 0;
    'passes: while step < steps {
        for indices in batches.shuffled(rng) {
            if step == steps {
                break 'passes;
            }
            let batch = buffers.gather(&problem.data, indices);
            squared_into(model.forward(&batch.x), &batch.y, &mut batch.grad);
            model.zero_grad();
            model.backward_params(&batch.grad);
            sgd.set_epoch(step);
            sgd.step(&mut model);
            step += 1;
            let loss = problem.loss(&model);
            run.excess.push(loss - problem.optimal_loss);
            run.lrs.push(sgd.current_lr());
            if let Err(e) = guard.check(loss as f32, step, sgd.current_lr()) {
                run.diverged = Divergence::from_guard(&e);
                break 'passes;
            }
        }
    }
    run
}
// ANCHOR_END: train
