//! The flags every binary of the chapter shares, and the record of them each run
//! writes into its `summary.json`.

use dlcore::cli::{non_negative_f32, positive_f32, positive_usize};
use dlcore::record::Summary;

use crate::Config;

/// The data set and training hyperparameters, as command-line flags whose defaults
/// are [`Config::default`].
#[derive(Debug, Clone, clap::Args)]
pub struct TrainingArgs {
    /// Learning rate η of minibatch SGD.
    #[arg(long, default_value_t = Config::default().lr, value_parser = positive_f32)]
    pub lr: f32,
    /// Examples per minibatch.
    #[arg(long, default_value_t = Config::default().batch_size, value_parser = positive_usize)]
    pub batch_size: usize,
    /// Passes over the training data.
    #[arg(long, default_value_t = Config::default().epochs, value_parser = positive_usize)]
    pub epochs: usize,
    /// Number of synthetic examples (features x ~ N(0, 1)).
    #[arg(long, default_value_t = Config::default().examples, value_parser = positive_usize)]
    pub examples: usize,
    /// Standard deviation of the label noise.
    #[arg(long, default_value_t = Config::default().noise_std, value_parser = non_negative_f32)]
    pub noise: f32,
}

impl TrainingArgs {
    pub fn config(&self) -> Config {
        Config {
            examples: self.examples,
            noise_std: self.noise,
            lr: self.lr,
            batch_size: self.batch_size,
            epochs: self.epochs,
        }
    }
}

/// Adds the run's configuration to a summary's hyperparameters.
pub fn with_config(summary: Summary, config: &Config) -> Summary {
    summary
        .param("examples", config.examples)
        .param("noise_std", config.noise_std)
        .param("lr", config.lr)
        .param("batch_size", config.batch_size)
        .param("epochs", config.epochs)
        .param("true_w", crate::TRUE_W.to_vec())
        .param("true_b", crate::TRUE_B)
}

/// Adds an estimate's parameters and its largest error against the truth to a
/// summary's metrics, each name starting with `prefix` (`"sgd_"`, or `""`).
pub fn with_estimate(mut summary: Summary, prefix: &str, estimate: &crate::Estimate) -> Summary {
    for (i, w) in estimate.w.iter().enumerate() {
        summary = summary.metric(format!("{prefix}w{}", i + 1), f64::from(*w));
    }
    summary
        .metric(format!("{prefix}b"), f64::from(estimate.b))
        .metric(format!("{prefix}max_param_error"), f64::from(estimate.max_error()))
}
