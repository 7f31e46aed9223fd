//! The errors a user can cause, each with a one-line message that says what to do.

use std::path::PathBuf;

/// Everything in `dlcore` that can fail because of input returns this error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A data file is missing, truncated or not what it claims to be.
    #[error("{}: {problem} — run `cargo xtask data` to fetch and verify the data sets", path.display())]
    Data { path: PathBuf, problem: String },

    /// No source could provide a data set.
    #[error("could not fetch {dataset}: {tried}")]
    Fetch { dataset: String, tried: String },

    /// A hyperparameter or argument outside its meaningful range.
    #[error("invalid {name} `{value}`: {expected}")]
    InvalidArgument { name: String, value: String, expected: String },

    /// The loss stopped being a finite number.
    #[error(
        "training diverged: the loss became {loss} at epoch {epoch} — lower the learning rate (it was {lr})"
    )]
    Diverged { loss: f32, epoch: usize, lr: f32 },

    /// A run's output directory cannot be created or written.
    /// (`reason` is part of the message, not a separate cause, so the one line says
    /// it once.)
    #[error("cannot write the run directory {}: {reason} — pass --out with a directory you can write to", path.display())]
    RunDirectory { path: PathBuf, reason: std::io::Error },

    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },

    /// A figure could not be drawn or saved.
    #[error("plotting {}: {message}", path.display())]
    Plot { path: PathBuf, message: String },

    /// A saved file (checkpoint, record) is not in a format we can read.
    #[error("{}: {problem}", path.display())]
    Format { path: PathBuf, problem: String },

    /// The GPU could not be used, or failed while training (only with the `cuda`
    /// feature).
    #[cfg(feature = "cuda")]
    #[error(transparent)]
    Gpu(#[from] crate::cuda::GpuError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Shorthand for [`Error::InvalidArgument`].
    pub fn invalid(name: impl Into<String>, value: impl ToString, expected: impl Into<String>) -> Self {
        Error::InvalidArgument { name: name.into(), value: value.to_string(), expected: expected.into() }
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}
