//! Chapter `linreg`: linear regression, the smallest network there is.
//!
//! One affine map ŷ = xᵀw + b, fitted to synthetic data whose true parameters are
//! known, three ways:
//! - [`scratch`]: the model, the squared loss, its gradient and the SGD update
//!   written out in this crate, from the formulas;
//! - [`concise`]: the same model from `dlcore`'s `Linear` layer, squared loss and
//!   `Sgd` optimizer;
//! - [`analytic`]: no training at all, the closed-form least-squares solution.
//!
//! [`sweep`] trains the scratch model at several learning rates, one of them too
//! large, and [`report`] turns runs into the chapter's figures and tables.

pub mod analytic;
pub mod cli;
pub mod concise;
pub mod report;
pub mod scratch;
pub mod sweep;

use dlcore::data::Dataset;
use dlcore::data::synthetic;
use dlcore::{Error, Result, Rng};

// ANCHOR: truth
/// The weights the synthetic labels are made with: y = 2·x₁ − 3.4·x₂ + 4.2 + ε.
pub const TRUE_W: [f32; 2] = [2.0, -3.4];
/// The bias the synthetic labels are made with.
pub const TRUE_B: f32 = 4.2;
/// Standard deviation of the initial weights, w ~ N(0, 0.01²); the bias starts at 0.
pub const INIT_STD: f32 = 0.01;
// ANCHOR_END: truth

/// The model the data follow, written with the true parameters:
/// `y = 2x₁ − 3.4x₂ + 4.2 + ε`.
pub fn model_formula() -> String {
    let mut formula = String::from("y =");
    for (i, &w) in TRUE_W.iter().enumerate() {
        let sign = match (i, w < 0.0) {
            (_, true) => " −",
            (0, false) => "",
            _ => " +",
        };
        formula.push_str(&format!("{sign} {}x{}", w.abs(), subscript(i + 1)));
    }
    format!("{formula} + {TRUE_B} + ε")
}

/// `n` in Unicode subscript digits, for labels like x₂.
pub(crate) fn subscript(n: usize) -> String {
    n.to_string()
        .chars()
        .map(|c| c.to_digit(10).and_then(|d| char::from_u32(0x2080 + d)).unwrap_or(c))
        .collect()
}

/// Everything that defines a run: the data set and the training hyperparameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Number of synthetic examples, all used for training.
    pub examples: usize,
    /// Standard deviation σ of the label noise ε ~ N(0, σ²).
    pub noise_std: f32,
    /// SGD learning rate η.
    pub lr: f32,
    /// Examples per minibatch |B|.
    pub batch_size: usize,
    /// Passes over the data.
    pub epochs: usize,
}

impl Default for Config {
    /// The chapter's defaults, those of the source notes.
    fn default() -> Self {
        Config { examples: 1000, noise_std: 0.01, lr: 0.03, batch_size: 10, epochs: 3 }
    }
}

impl Config {
    /// Rejects settings no training can run with; the binaries' flags reject them
    /// earlier, this guards direct library calls.
    pub fn validate(&self) -> Result<()> {
        let positive = |name: &str, value: usize| {
            if value == 0 { Err(Error::invalid(name, value, "at least 1")) } else { Ok(()) }
        };
        positive("examples", self.examples)?;
        positive("batch size", self.batch_size)?;
        positive("epochs", self.epochs)?;
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(Error::invalid("learning rate", self.lr, "a finite number > 0"));
        }
        if !(self.noise_std.is_finite() && self.noise_std >= 0.0) {
            return Err(Error::invalid("noise", self.noise_std, "a finite number ≥ 0"));
        }
        Ok(())
    }
}

/// The chapter's data set: `config.examples` columns x ~ N(0, I₂) with labels
/// y = xᵀw + b + ε for the true [`TRUE_W`] and [`TRUE_B`].
pub fn synthetic_data(config: &Config, rng: &mut Rng) -> Dataset {
    synthetic::linear(&TRUE_W, TRUE_B, config.noise_std, config.examples, rng)
}

/// Parameters a method arrived at, in a form every method shares.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub w: Vec<f32>,
    pub b: f32,
}

impl Estimate {
    /// The parameters the data were made with.
    pub fn truth() -> Self {
        Estimate { w: TRUE_W.to_vec(), b: TRUE_B }
    }

    /// The largest absolute difference between any parameter here and in `other`.
    pub fn max_difference(&self, other: &Estimate) -> f32 {
        assert_eq!(self.w.len(), other.w.len(), "estimates of different models");
        self.w.iter().zip(&other.w).map(|(a, b)| (a - b).abs()).fold((self.b - other.b).abs(), f32::max)
    }

    /// The largest error of any parameter against the truth.
    pub fn max_error(&self) -> f32 {
        self.max_difference(&Estimate::truth())
    }

    /// The average squared loss ½(xᵀw + b − y)² over `data`, in `f64` so that the
    /// tiny losses of a good fit compare exactly between methods.
    pub fn loss_on(&self, data: &Dataset) -> f64 {
        let total: f64 = data
            .x
            .column_iter()
            .zip(data.y.iter())
            .map(|(x, &y)| {
                let y_hat =
                    x.iter().zip(&self.w).map(|(&xi, &wi)| f64::from(xi) * f64::from(wi)).sum::<f64>()
                        + f64::from(self.b);
                0.5 * (y_hat - f64::from(y)).powi(2)
            })
            .sum();
        total / data.len().max(1) as f64
    }
}

/// What a training run saw, filled in as it goes, so that a run stopped by
/// divergence still leaves its curve up to the point where it blew up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// The minibatch loss of every SGD step, before that step's update.
    pub batch_losses: Vec<f32>,
    /// The loss over the whole training set: entry 0 before training, entry `e`
    /// after epoch `e`.
    pub epoch_losses: Vec<f32>,
    /// The parameters, indexed like `epoch_losses`.
    pub epoch_estimates: Vec<Estimate>,
}

impl History {
    /// Records the loss over the whole training set and the parameters at the end
    /// of an epoch (or before the first).
    pub fn push_epoch(&mut self, loss: f32, estimate: Estimate) {
        self.epoch_losses.push(loss);
        self.epoch_estimates.push(estimate);
    }

    /// The training loss after the last completed epoch (or before training).
    pub fn final_loss(&self) -> Option<f32> {
        self.epoch_losses.last().copied()
    }
}

/// A pair of batch buffers: one for full minibatches and one, made the first time it
/// is needed, for the smaller last batch of an epoch, so that no step allocates.
pub(crate) struct BatchBuffers<T, F> {
    full: T,
    full_size: usize,
    tail: Option<(usize, T)>,
    make: F,
}

impl<T, F: Fn(usize) -> T> BatchBuffers<T, F> {
    /// Buffers for batches of `batch_size` examples, made by `make(size)`.
    pub(crate) fn new(batch_size: usize, make: F) -> Self {
        BatchBuffers { full: make(batch_size), full_size: batch_size, tail: None, make }
    }

    /// The buffers for a batch of `size` examples.
    pub(crate) fn for_size(&mut self, size: usize) -> &mut T {
        if size == self.full_size {
            return &mut self.full;
        }
        if self.tail.as_ref().is_some_and(|(tail_size, _)| *tail_size != size) {
            self.tail = None;
        }
        let make = &self.make;
        &mut self.tail.get_or_insert_with(|| (size, make(size))).1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_formula_shows_the_true_parameters() {
        assert_eq!(model_formula(), "y = 2x₁ − 3.4x₂ + 4.2 + ε");
        assert_eq!(subscript(12), "₁₂");
    }

    #[test]
    fn estimates_compare_parameter_by_parameter() {
        let a = Estimate { w: vec![2.0, -3.0], b: 4.0 };
        assert!((a.max_error() - 0.4).abs() < 1e-6);
        assert_eq!(a.max_difference(&a), 0.0);
        // Every label is y = 2x₁ − 3.4x₂ + 4.2 exactly, so the truth has zero loss.
        let data = synthetic_data(
            &Config { noise_std: 0.0, examples: 20, ..Config::default() },
            &mut dlcore::seeded_rng(0),
        );
        assert!(Estimate::truth().loss_on(&data) < 1e-10);
        assert!(a.loss_on(&data) > 0.01);
    }
}
