//! `dlcore`: the math every chapter of the book shares.
//!
//! Conventions, used everywhere:
//! - scalars are `f32`; matrices are nalgebra's column-major `DMatrix<f32>`;
//! - **one example per column**: a batch of `n` inputs with `d` features is a `d × n`
//!   matrix, so a batch is a contiguous block of columns and a layer computes
//!   `Z = W·X + b` with `b` broadcast along the columns;
//! - every source of randomness is an explicit, seeded [`Rng`](rand_chacha::ChaCha8Rng);
//! - errors a user can cause are [`Error`] values with a message that says what to do.

pub mod activation;
pub mod atomic_file;
pub mod cli;
#[cfg(feature = "cuda")]
pub mod cuda;
pub mod data;
pub mod error;
pub mod gradcheck;
pub mod init;
pub mod layer;
pub mod linalg;
pub mod loss;
pub mod metrics;
pub mod optim;
pub mod plot;
pub mod progress;
pub mod record;
pub mod tensorboard;

pub use error::{Error, Result};

/// The one random number generator type of the project: fast, portable and seedable,
/// so the same seed gives the same numbers on every machine.
pub type Rng = rand_chacha::ChaCha8Rng;

/// A generator seeded from a `--seed` value.
pub fn seeded_rng(seed: u64) -> Rng {
    use rand::SeedableRng;
    Rng::seed_from_u64(seed)
}
