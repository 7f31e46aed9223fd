//! Data: in-memory data sets, minibatches, splits, synthetic generators and the
//! MNIST-family image sets (validated, fetched on first use).

pub mod batches;
pub mod dataset;
pub mod fetch;
pub mod idx;
pub mod images;
pub mod split;
pub mod synthetic;

pub use batches::Batches;
pub use dataset::{Dataset, LabeledBatch, LabeledBatches, RegressionBatch, RegressionBatches};
