//! The experiment behind `mse-vs-ce`: the same model, the same initial weights and
//! the same minibatch order, trained once per [`Objective`], with the test accuracy
//! measured several times per epoch so the early phase of training is visible.

use dlcore::data::dataset::Labeled;
use dlcore::{Result, seeded_rng};
use nalgebra::DMatrix;

use crate::objective::{Objective, ObjectiveLoss};
use crate::train::{Config, EpochReport, Minibatches, evaluate_accuracy, train_epoch};
use crate::{CLASSES, ConciseSoftmax};

/// What the comparison varies and what it holds fixed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    pub config: Config,
    /// σ of the N(0, σ²) initial weights.
    pub weight_std: f32,
    /// How many times per epoch the test accuracy is measured.
    pub evals_per_epoch: usize,
    /// Every objective starts from a generator seeded with this, so all get the same
    /// initial weights and see the batches in the same order.
    pub seed: u64,
}

/// One objective's training run.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectiveRun {
    pub objective: Objective,
    /// Learning rate it trained with.
    pub lr: f32,
    pub reports: Vec<EpochReport>,
    /// `(epochs done, test accuracy)`, starting at `(0, accuracy before training)`.
    pub test_curve: Vec<(f64, f32)>,
}

// ANCHOR: compare
/// Trains a fresh [`ConciseSoftmax`] with `objective` at learning rate `lr` and
/// measures it as it goes.
pub fn train_with_objective(
    objective: Objective,
    lr: f32,
    train: &Labeled,
    test: &Labeled,
    setup: &Comparison,
) -> Result<ObjectiveRun> {
    let config = Config { lr, ..setup.config };
    let mut rng = seeded_rng(setup.seed);
    let mut model = ConciseSoftmax::new(train.features(), CLASSES, setup.weight_std, lr, &mut rng);
    let mut loss = ObjectiveLoss::new(objective);
    let mut loss_fn = |logits: &DMatrix<f32>, labels: &[u8], grad: &mut DMatrix<f32>| {
        loss.value_and_grad(logits, labels, grad)
    };
    let mut state = Minibatches::new(train, &config);
    let evals = setup.evals_per_epoch.max(1);
    let (n, batch) = (train.len().max(1), config.batch_size);
    let mut test_curve = vec![(0.0, evaluate_accuracy(&mut model, test, batch))];
    let mut reports = Vec::with_capacity(config.epochs);
    for epoch in 1..=config.epochs {
        let mut seen = 0usize;
        let mut next_eval = 1;
        let (train_loss, train_accuracy) =
            train_epoch(&mut model, train, &mut state, &mut loss_fn, &mut rng, |model, examples| {
                seen += examples;
                // Measure each time another 1/evals of the epoch has gone by (the last
                // measurement is made after the epoch, below).
                if next_eval < evals && seen * evals >= next_eval * n {
                    let when = (epoch - 1) as f64 + seen as f64 / n as f64;
                    test_curve.push((when, evaluate_accuracy(model, test, batch)));
                    next_eval += 1;
                }
                Ok(())
            })?;
        let test_accuracy = evaluate_accuracy(&mut model, test, batch);
        test_curve.push((epoch as f64, test_accuracy));
        reports.push(EpochReport { epoch, train_loss, train_accuracy, test_accuracy });
    }
    Ok(ObjectiveRun { objective, lr, reports, test_curve })
}
// ANCHOR_END: compare
