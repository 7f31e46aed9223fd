//! Chapter `softmax`: softmax regression, a single dense layer from 784 pixels to 10
//! class scores, trained with cross-entropy on Fashion-MNIST (or MNIST). See
//! book/src/softmax.md.
//!
//! - [`scratch`]: the model, softmax, cross-entropy, gradient and SGD step by hand;
//! - [`concise`]: the same model from `dlcore`'s layer, loss and optimizer;
//! - [`train`]: the training loop and accuracy, shared by both;
//! - [`objective`], [`compare`]: cross-entropy against squared error, `mse-vs-ce`;
//! - [`run`]: what the two training binaries share;
//! - [`figures`]: the chapter's figures;
//! - [`report`]: the tables and sentences the book includes.

pub mod compare;
pub mod concise;
pub mod figures;
pub mod objective;
pub mod report;
pub mod run;
pub mod scratch;
pub mod train;

pub use concise::ConciseSoftmax;
pub use scratch::SoftmaxRegression;
pub use train::{Classifier, Config, EpochReport, evaluate_accuracy, train};

/// Number of classes of both image sets.
pub const CLASSES: usize = dlcore::data::images::CLASSES;
