//! Gradient descent on a [`Surface`], with dlcore's optimizer. The point being
//! optimized is a 2 × 1 parameter like any layer's weights, so the same [`Sgd`]
//! (with momentum, with a step schedule) that trains the networks moves it, and its
//! path is recorded step by step for the contour plots.

use std::fmt;

use dlcore::optim::{DivergenceGuard, Param, Params, Sgd};
use nalgebra::DMatrix;

use crate::surfaces::Surface;

/// The position [x, y] as a parameter, and the gradient the surface gives there.
#[derive(Debug, Clone)]
struct Point {
    position: DMatrix<f32>,
    gradient: DMatrix<f32>,
}

impl Params for Point {
    fn visit_params(&mut self, visit: &mut dyn FnMut(Param<'_>)) {
        visit(Param { value: &mut self.position, grad: &self.gradient, decay: false });
    }
}

/// Why a run was stopped: its loss became non-finite or grew past
/// [`DivergenceGuard::GROWTH`] times its starting value.
///
/// The guard reports this as [`dlcore::Error::Diverged`], but here a diverged run
/// is data, not a failure: `learning-rate` keeps it, with its step and loss, as a row
/// of its tables and a curve of its figures. That error holds an I/O error in
/// another variant, so it is neither `Copy` nor `Clone`, and it speaks of epochs
/// where these runs count steps; this small copy of its fields is both, and
/// [`Trajectory::converged`] turns it back into an error where divergence is one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Divergence {
    /// The step after which the guard stopped the run (counted from 1).
    pub step: usize,
    /// The loss it saw then.
    pub loss: f32,
    /// The learning rate of that step.
    pub lr: f32,
}

impl Divergence {
    /// Reads the guard's verdict; `None` for any error other than divergence.
    pub fn from_guard(error: &dlcore::Error) -> Option<Divergence> {
        match *error {
            dlcore::Error::Diverged { loss, epoch, lr } => Some(Divergence { step: epoch, loss, lr }),
            _ => None,
        }
    }
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "diverged: the loss reached {:.2e} at step {} — lower the learning rate (it was {})",
            self.loss, self.step, self.lr
        )
    }
}

impl std::error::Error for Divergence {}

/// One run of gradient descent: where it went and what the surface was there.
#[derive(Debug, Clone)]
pub struct Trajectory {
    /// The start, then the point after every step (`steps + 1` points, fewer if the
    /// run diverged; the last is then the point that set off the guard).
    pub points: Vec<[f32; 2]>,
    /// f at each of `points`.
    pub values: Vec<f32>,
    /// The learning rate of each step (the schedule's, when there is one).
    pub lrs: Vec<f32>,
    /// Set when the divergence guard stopped the run early.
    pub diverged: Option<Divergence>,
}

impl Trajectory {
    /// Where the run ended.
    pub fn end(&self) -> [f32; 2] {
        self.points.last().copied().unwrap_or([f32::NAN; 2])
    }

    /// The first step (0 being the start) whose point satisfies `reached`.
    pub fn first_step_where(&self, reached: impl Fn([f32; 2]) -> bool) -> Option<usize> {
        self.points.iter().position(|&p| reached(p))
    }

    /// The trajectory, or its divergence as an error: for a binary whose requested
    /// run must not diverge.
    pub fn converged(self) -> Result<Trajectory, Divergence> {
        match self.diverged {
            Some(divergence) => Err(divergence),
            None => Ok(self),
        }
    }

    /// The points as `(x, y)` pairs for a plot.
    pub fn xy(&self) -> Vec<(f64, f64)> {
        self.points.iter().map(|&[x, y]| (f64::from(x), f64::from(y))).collect()
    }
}

// ANCHOR: descend
/// Runs `steps` steps of `sgd` (a fresh optimizer: its momentum starts at zero) on
/// `surface` from `start`. Each step is one "epoch"
/// of `sgd`'s step schedule: on a surface there is no data set to pass over, so a
/// schedule given as "every k epochs" drops the rate every k steps. A
/// [`DivergenceGuard`] watches f and stops the run (recording why) instead of
/// letting the numbers run to infinity and NaN.
pub fn descend(surface: &dyn Surface, start: [f32; 2], mut sgd: Sgd, steps: usize) -> Trajectory {
    let mut point =
        Point { position: DMatrix::from_column_slice(2, 1, &start), gradient: DMatrix::zeros(2, 1) };
    let mut guard = DivergenceGuard::new();
    let first = surface.value(start);
    let mut run = Trajectory { points: vec![start], values: vec![first], lrs: Vec::new(), diverged: None };
    if let Err(e) = guard.check(first, 0, sgd.current_lr()) {
        run.diverged = Divergence::from_guard(&e);
        return run;
    }
    for step in 0..steps {
        sgd.set_epoch(step);
        let here = [point.position[0], point.position[1]];
        point.gradient.copy_from_slice(&surface.gradient(here));
        sgd.step(&mut point);
        let there = [point.position[0], point.position[1]];
        let value = surface.value(there);
        run.points.push(there);
        run.values.push(value);
        run.lrs.push(sgd.current_lr());
        if let Err(e) = guard.check(value, step + 1, sgd.current_lr()) {
            run.diverged = Divergence::from_guard(&e);
            break;
        }
    }
    run
}
// ANCHOR_END: descend
