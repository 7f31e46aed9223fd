//! What every binary's command line shares: `--seed` and `--out`, value parsers
//! that reject impossible hyperparameters, and one-line error reporting.

use std::fmt::Display;
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags every binary takes; flatten it into the binary's own clap struct with
/// `#[command(flatten)] run: RunArgs`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Seed of the run's random number generator: the same seed gives the same numbers.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Directory for this run's metrics.csv, summary.json and figures
    /// [default: target/runs/<binary>]
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// Do not write a TensorBoard event file (events.out.tfevents.*) into the run
    /// directory; `cargo xtask tensorboard <dir>` shows the ones that are written.
    #[arg(long)]
    pub no_tensorboard: bool,
}

impl RunArgs {
    /// The output directory, `target/runs/<name>` unless `--out` was given.
    pub fn out_dir(&self, name: &str) -> PathBuf {
        self.out.clone().unwrap_or_else(|| PathBuf::from("target").join("runs").join(name))
    }

    /// The run's [`Recorder`](crate::record::Recorder) in `dir` (usually
    /// [`RunArgs::out_dir`]), writing a TensorBoard event file unless
    /// `--no-tensorboard` was given. Call it before training: it fails at once, with a
    /// one-line error, when `dir` cannot be written.
    pub fn recorder(&self, dir: &std::path::Path) -> crate::Result<crate::record::Recorder> {
        crate::record::Recorder::create_with(dir, !self.no_tensorboard)
    }

    /// A generator seeded from `--seed`.
    pub fn rng(&self) -> crate::Rng {
        crate::seeded_rng(self.seed)
    }
}

fn parse<T: std::str::FromStr>(s: &str) -> Result<T, String>
where
    T::Err: Display,
{
    s.parse::<T>().map_err(|e| format!("`{s}` is not a number ({e})"))
}

/// A finite number greater than zero (learning rates, standard deviations).
pub fn positive_f32(s: &str) -> Result<f32, String> {
    let v: f32 = parse(s)?;
    if v.is_finite() && v > 0.0 { Ok(v) } else { Err(format!("must be a finite number > 0, got {s}")) }
}

/// A finite number that is zero or more (weight decay, momentum).
pub fn non_negative_f32(s: &str) -> Result<f32, String> {
    let v: f32 = parse(s)?;
    if v.is_finite() && v >= 0.0 { Ok(v) } else { Err(format!("must be a finite number ≥ 0, got {s}")) }
}

/// A probability p with 0 ≤ p < 1 (dropout, momentum).
pub fn unit_interval_f32(s: &str) -> Result<f32, String> {
    let v: f32 = parse(s)?;
    if (0.0..1.0).contains(&v) { Ok(v) } else { Err(format!("must be in [0, 1), got {s}")) }
}

/// A count of one or more (epochs, batch size, examples, units).
pub fn positive_usize(s: &str) -> Result<usize, String> {
    let v: usize = parse(s)?;
    if v > 0 { Ok(v) } else { Err(format!("must be at least 1, got {s}")) }
}

/// Runs a binary's body and turns an error into one line on stderr and exit code 1.
///
/// `{:#}` prints an `anyhow` error with its causes on the same line.
pub fn report<E: Display>(result: Result<(), E>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsers_reject_impossible_values() {
        assert!(positive_f32("-1").is_err());
        assert!(positive_f32("0").is_err());
        assert!(positive_f32("NaN").is_err());
        assert!(positive_f32("inf").is_err());
        assert_eq!(positive_f32("0.5"), Ok(0.5));
        assert!(positive_usize("0").is_err());
        assert!(positive_usize("x").is_err());
        assert_eq!(positive_usize("3"), Ok(3));
        assert!(unit_interval_f32("1").is_err());
        assert!(non_negative_f32("-0.1").is_err());
        assert_eq!(non_negative_f32("0"), Ok(0.0));
    }
}
