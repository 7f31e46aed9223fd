//! The operations of the engine, one concept per module. Each module holds an
//! operation's forward formula and local derivative (an [`Operation`]) and the
//! [`Graph`] method that records it on the tape.
//!
//! Every backward pass *adds* into its inputs' gradient buffers: a node used twice
//! (as in `x ⊙ x`, or a weight in both a layer and a penalty) receives the sum of both
//! uses' gradients, which is what the multivariable chain rule asks for.
//!
//! [`Operation`]: crate::engine::Operation
//! [`Graph`]: crate::engine::Graph

pub mod activation;
pub mod elementwise;
pub mod linear;
pub mod loss;
pub mod reduce;

use nalgebra::DMatrix;

use crate::engine::Var;

/// The common shape of two inputs of an elementwise operation.
///
/// # Panics
/// If the shapes differ: a bug in the code that builds the graph.
fn same_shape(values: &[DMatrix<f32>], [a, b]: [Var; 2], op: &str) -> (usize, usize) {
    let (sa, sb) = (values[a].shape(), values[b].shape());
    assert_eq!(sa, sb, "`{op}` needs inputs of one shape, got {sa:?} and {sb:?}");
    sa
}
