//! The two operations of a dense layer: the matrix product `W·X` and adding a bias
//! column to every column (broadcasting).

use dlcore::linalg::{Op, matmul_into};
use nalgebra::DMatrix;

use crate::engine::{Graph, Operation, Var, grad_mut};

// ANCHOR: matmul
/// `C = A·B`. Each entry c_ij = Σ_k a_ik b_kj, so ∂L/∂a_ik = Σ_j ∂L/∂c_ij · b_kj and
/// ∂L/∂b_kj = Σ_i a_ik · ∂L/∂c_ij, which in matrix form is
/// ∂L/∂A = ∂L/∂C · Bᵀ and ∂L/∂B = Aᵀ · ∂L/∂C — the notes' `prod`, where the
/// transposes and the order are whatever makes the shapes fit.
#[derive(Debug)]
pub struct MatMul {
    inputs: [Var; 2],
}

impl Operation for MatMul {
    fn symbol(&self) -> String {
        "×".into()
    }

    fn inputs(&self) -> &[Var] {
        &self.inputs
    }

    fn output_shape(&self, values: &[DMatrix<f32>]) -> (usize, usize) {
        let [a, b] = self.inputs;
        let ((m, k), (k2, n)) = (values[a].shape(), values[b].shape());
        assert_eq!(k, k2, "matmul of {m}×{k} by {k2}×{n}: inner dimensions differ");
        (m, n)
    }

    fn forward(&mut self, values: &[DMatrix<f32>], out: &mut DMatrix<f32>) {
        let [a, b] = self.inputs;
        matmul_into(out, 1.0, &values[a], Op::N, &values[b], Op::N, 0.0);
    }

    fn backward(
        &self,
        values: &[DMatrix<f32>],
        _out: &DMatrix<f32>,
        grad_out: &DMatrix<f32>,
        grads: &mut [Option<DMatrix<f32>>],
    ) {
        let [a, b] = self.inputs;
        // β = 1: add to what other uses of A and B have already sent.
        if let Some(grad) = grad_mut(grads, a) {
            matmul_into(grad, 1.0, grad_out, Op::N, &values[b], Op::T, 1.0);
        }
        if let Some(grad) = grad_mut(grads, b) {
            matmul_into(grad, 1.0, &values[a], Op::T, grad_out, Op::N, 1.0);
        }
    }
}
// ANCHOR_END: matmul

/// `X + b` with a column `b` added to every column of `X` (one example per column).
/// Every column used `b`, so its gradient is the sum of the columns of ∂L/∂(X + b).
#[derive(Debug)]
pub struct AddBias {
    inputs: [Var; 2],
}

impl Operation for AddBias {
    fn symbol(&self) -> String {
        "+b".into()
    }

    fn inputs(&self) -> &[Var] {
        &self.inputs
    }

    fn output_shape(&self, values: &[DMatrix<f32>]) -> (usize, usize) {
        let [x, b] = self.inputs;
        let (rows, cols) = values[x].shape();
        assert_eq!(
            values[b].shape(),
            (rows, 1),
            "the bias of a {rows}×{cols} input must be a {rows}×1 column"
        );
        (rows, cols)
    }

    fn forward(&mut self, values: &[DMatrix<f32>], out: &mut DMatrix<f32>) {
        let [x, b] = self.inputs;
        for (mut column, x_column) in out.column_iter_mut().zip(values[x].column_iter()) {
            column.zip_zip_apply(&x_column, &values[b], |o, x, b| *o = x + b);
        }
    }

    fn backward(
        &self,
        _values: &[DMatrix<f32>],
        _out: &DMatrix<f32>,
        grad_out: &DMatrix<f32>,
        grads: &mut [Option<DMatrix<f32>>],
    ) {
        let [x, b] = self.inputs;
        if let Some(grad) = grad_mut(grads, x) {
            *grad += grad_out;
        }
        if let Some(grad) = grad_mut(grads, b) {
            for column in grad_out.column_iter() {
                *grad += column;
            }
        }
    }
}

impl Graph {
    /// The matrix product `a · b`.
    pub fn matmul(&mut self, a: Var, b: Var) -> Var {
        self.apply(Box::new(MatMul { inputs: [a, b] }))
    }

    /// `x + bias`, the column `bias` added to every column of `x`.
    pub fn add_bias(&mut self, x: Var, bias: Var) -> Var {
        self.apply(Box::new(AddBias { inputs: [x, bias] }))
    }
}
