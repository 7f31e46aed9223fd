//! What the learning rate does: the scratch model trained at several rates on the
//! same data, from the same starting weights, through the same minibatches.

use dlcore::{Result, seeded_rng};

use crate::{Config, Estimate, History, scratch, synthetic_data};

/// One learning rate's run.
#[derive(Debug)]
pub struct SweepRun {
    pub lr: f32,
    /// Every loss the run saw; a diverged run's stops where it blew up.
    pub history: History,
    /// The learned parameters, or the divergence that stopped the run.
    pub outcome: Result<Estimate>,
}

impl SweepRun {
    /// Whether this run was stopped by divergence.
    pub fn diverged(&self) -> bool {
        matches!(self.outcome, Err(dlcore::Error::Diverged { .. }))
    }
}

// ANCHOR: sweep
/// Trains the scratch model once per learning rate in `lrs`, each run starting
/// from `seed` so that only the rate differs. A run that diverges is kept, with
/// its error and its losses up to that point.
pub fn learning_rates(config: &Config, lrs: &[f32], seed: u64) -> Vec<SweepRun> {
    lrs.iter()
        .map(|&lr| {
            let config = Config { lr, ..config.clone() };
            let mut rng = seeded_rng(seed);
            let data = synthetic_data(&config, &mut rng);
            let mut history = History::default();
            let outcome = scratch::train(&config, &data, &mut rng, &mut history).map(|m| m.estimate());
            SweepRun { lr, history, outcome }
        })
        .collect()
}
// ANCHOR_END: sweep
