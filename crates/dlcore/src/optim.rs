//! Stochastic gradient descent with the options the book needs: momentum, weight
//! decay (an L2 penalty's gradient) and a step learning-rate schedule.

use nalgebra::DMatrix;

/// One trainable tensor as the optimizer sees it.
#[derive(Debug)]
pub struct Param<'a> {
    pub value: &'a mut DMatrix<f32>,
    pub grad: &'a DMatrix<f32>,
    /// Whether weight decay applies to this tensor (weights yes, biases no).
    pub decay: bool,
}

/// Anything with trainable parameters. The visiting order must be the same on every
/// call: the optimizer keeps per-parameter state (the momentum buffers) by position.
pub trait Params {
    fn visit_params(&mut self, visit: &mut dyn FnMut(Param<'_>));
}

/// Multiply the learning rate by `gamma` every `step_size` epochs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepSchedule {
    pub step_size: usize,
    pub gamma: f32,
}

/// SGD, with PyTorch's conventions so results compare:
/// g = ∇L + λ·w (weight decay), v ← μ·v + g (momentum), w ← w − η·v.
#[derive(Debug, Clone)]
pub struct Sgd {
    /// The base learning rate η, before any schedule.
    pub lr: f32,
    /// μ; 0 is plain SGD.
    pub momentum: f32,
    /// λ in the penalty (λ/2)‖w‖², whose gradient is λ·w.
    pub weight_decay: f32,
    pub schedule: Option<StepSchedule>,
    epoch: usize,
    velocity: Vec<DMatrix<f32>>,
}

impl Sgd {
    /// Plain SGD at learning rate `lr`.
    pub fn new(lr: f32) -> Self {
        Sgd { lr, momentum: 0.0, weight_decay: 0.0, schedule: None, epoch: 0, velocity: Vec::new() }
    }

    pub fn with_momentum(mut self, momentum: f32) -> Self {
        self.momentum = momentum;
        self
    }

    pub fn with_weight_decay(mut self, weight_decay: f32) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    pub fn with_step_schedule(mut self, step_size: usize, gamma: f32) -> Self {
        self.schedule = Some(StepSchedule { step_size: step_size.max(1), gamma });
        self
    }

    /// Tells the schedule which epoch (counted from 0) is starting.
    pub fn set_epoch(&mut self, epoch: usize) {
        self.epoch = epoch;
    }

    /// The learning rate in effect this epoch.
    pub fn current_lr(&self) -> f32 {
        match self.schedule {
            Some(StepSchedule { step_size, gamma }) => {
                let drops = i32::try_from(self.epoch / step_size).unwrap_or(i32::MAX);
                self.lr * gamma.powi(drops)
            }
            None => self.lr,
        }
    }

    // ANCHOR: sgd_step
    /// Updates every parameter of `model` from its accumulated gradient.
    pub fn step(&mut self, model: &mut dyn Params) {
        let (lr, momentum, weight_decay) = (self.current_lr(), self.momentum, self.weight_decay);
        let velocity = &mut self.velocity;
        let mut slot = 0;
        model.visit_params(&mut |p: Param<'_>| {
            let decay = if p.decay { weight_decay } else { 0.0 };
            if momentum == 0.0 {
                p.value.zip_apply(p.grad, |w, g| *w -= lr * (g + decay * *w));
            } else {
                if velocity.len() == slot {
                    velocity.push(DMatrix::zeros(p.value.nrows(), p.value.ncols()));
                }
                // One pass over w, v and g: v ← μv + g + λw, then w ← w − ηv.
                let v = velocity[slot].as_mut_slice();
                for ((w, v), g) in p.value.as_mut_slice().iter_mut().zip(v).zip(p.grad.as_slice()) {
                    *v = momentum * *v + g + decay * *w;
                    *w -= lr * *v;
                }
            }
            slot += 1;
        });
    }
    // ANCHOR_END: sgd_step
}

/// Stops a run whose loss has blown up. A stable loss (cross-entropy from logits)
/// can stay finite while training is hopeless, so besides NaN and infinity this also
/// calls "diverged" a loss that grew to more than [`DivergenceGuard::GROWTH`] times
/// the first one it saw.
#[derive(Debug, Clone, Default)]
pub struct DivergenceGuard {
    first: Option<f32>,
}

impl DivergenceGuard {
    /// How far above its starting value a loss may climb before the run is stopped.
    pub const GROWTH: f32 = 100.0;

    pub fn new() -> Self {
        Self::default()
    }

    /// `Err(Error::Diverged)` if `loss` is not finite or has grown too far.
    pub fn check(&mut self, loss: f32, epoch: usize, lr: f32) -> crate::Result<()> {
        let first = *self.first.get_or_insert(loss);
        if loss.is_finite() && loss <= Self::GROWTH * first.max(f32::MIN_POSITIVE) {
            Ok(())
        } else {
            Err(crate::Error::Diverged { loss, epoch, lr })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct One {
        w: DMatrix<f32>,
        g: DMatrix<f32>,
        decay: bool,
    }

    impl Params for One {
        fn visit_params(&mut self, visit: &mut dyn FnMut(Param<'_>)) {
            visit(Param { value: &mut self.w, grad: &self.g, decay: self.decay });
        }
    }

    fn one(w: f32, g: f32) -> One {
        One { w: DMatrix::from_element(1, 1, w), g: DMatrix::from_element(1, 1, g), decay: true }
    }

    #[test]
    fn the_guard_stops_nan_and_blow_ups_only() {
        let mut guard = DivergenceGuard::new();
        assert!(guard.check(2.3, 1, 0.1).is_ok());
        assert!(guard.check(50.0, 1, 0.1).is_ok());
        assert!(guard.check(231.0, 2, 0.1).is_err());
        assert!(guard.check(f32::NAN, 2, 0.1).is_err());
        assert!(DivergenceGuard::new().check(f32::INFINITY, 1, 0.1).is_err());
    }

    #[test]
    fn plain_step() {
        let mut p = one(1.0, 0.5);
        Sgd::new(0.1).step(&mut p);
        assert!((p.w[0] - 0.95).abs() < 1e-7);
    }

    #[test]
    fn weight_decay_adds_lambda_w_to_the_gradient() {
        let mut p = one(2.0, 0.5);
        Sgd::new(0.1).with_weight_decay(3.0).step(&mut p);
        // w − η(g + λw) = 2 − 0.1·(0.5 + 6)
        assert!((p.w[0] - 1.35).abs() < 1e-6);
        let mut bias = one(2.0, 0.5);
        bias.decay = false;
        Sgd::new(0.1).with_weight_decay(3.0).step(&mut bias);
        assert!((bias.w[0] - 1.95).abs() < 1e-6);
    }

    #[test]
    fn momentum_accumulates_velocity() {
        let mut p = one(0.0, 1.0);
        let mut sgd = Sgd::new(0.1).with_momentum(0.9);
        sgd.step(&mut p); // v = 1, w = −0.1
        sgd.step(&mut p); // v = 1.9, w = −0.29
        sgd.step(&mut p); // v = 2.71, w = −0.561
        assert!((p.w[0] + 0.561).abs() < 1e-6, "w = {}", p.w[0]);
    }

    #[test]
    fn step_schedule_drops_the_rate() {
        let mut sgd = Sgd::new(1.0).with_step_schedule(2, 0.1);
        let rates: Vec<f32> = (0..5)
            .map(|e| {
                sgd.set_epoch(e);
                sgd.current_lr()
            })
            .collect();
        let expected = [1.0, 1.0, 0.1, 0.1, 0.01];
        for (r, e) in rates.iter().zip(expected) {
            assert!((r - e).abs() < 1e-7, "{rates:?}");
        }
    }
}
