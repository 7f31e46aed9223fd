//! Chapter `backprop-graph`: a small reverse-mode automatic differentiation engine
//! on computational graphs of matrices, and the chapter's experiments with it.
//!
//! - [`engine`]: the tape of nodes, `backward`, gradient accumulation and zeroing;
//! - [`ops`]: the operations, one concept per module;
//! - [`chain_rule`]: the notes' small autograd examples;
//! - [`penalized_mlp`]: the one-hidden-layer MLP with an L2 penalty, J = L + s, and
//!   its gradients three ways (engine, formulas by hand, dlcore's layers);
//! - [`layout`], [`figure`], [`dot`]: drawing a graph, and exporting it to Graphviz;
//! - [`tensorboard`]: the graph for TensorBoard's Graphs tab (`add_graph`);
//! - [`toy`]: an MLP on the engine trained on a 2-D toy problem.

pub mod chain_rule;
pub mod dot;
pub mod engine;
pub mod figure;
pub mod layout;
pub mod ops;
pub mod penalized_mlp;
pub mod tensorboard;
pub mod toy;

pub use engine::{BackwardError, Graph, Operation, Var, scalar};
