//! Reductions to a scalar: the sum and the mean of every entry. Each entry
//! contributes to the result with weight 1 (or 1/count), so the scalar's gradient is
//! copied (or spread) back to every entry.

use nalgebra::DMatrix;

use crate::engine::{Graph, Operation, Var, grad_mut};

/// Σ of every entry, as a 1×1 matrix.
#[derive(Debug)]
pub struct Sum {
    inputs: [Var; 1],
}

impl Operation for Sum {
    fn symbol(&self) -> String {
        "Σ".into()
    }

    fn inputs(&self) -> &[Var] {
        &self.inputs
    }

    fn output_shape(&self, _values: &[DMatrix<f32>]) -> (usize, usize) {
        (1, 1)
    }

    fn forward(&mut self, values: &[DMatrix<f32>], out: &mut DMatrix<f32>) {
        out[(0, 0)] = values[self.inputs[0]].sum();
    }

    fn backward(
        &self,
        _values: &[DMatrix<f32>],
        _out: &DMatrix<f32>,
        grad_out: &DMatrix<f32>,
        grads: &mut [Option<DMatrix<f32>>],
    ) {
        if let Some(grad) = grad_mut(grads, self.inputs[0]) {
            grad.add_scalar_mut(grad_out[(0, 0)]);
        }
    }
}

/// The mean of every entry, as a 1×1 matrix.
#[derive(Debug)]
pub struct Mean {
    inputs: [Var; 1],
}

impl Operation for Mean {
    fn symbol(&self) -> String {
        "mean".into()
    }

    fn inputs(&self) -> &[Var] {
        &self.inputs
    }

    fn output_shape(&self, values: &[DMatrix<f32>]) -> (usize, usize) {
        assert!(!values[self.inputs[0]].is_empty(), "the mean of an empty matrix is undefined");
        (1, 1)
    }

    fn forward(&mut self, values: &[DMatrix<f32>], out: &mut DMatrix<f32>) {
        out[(0, 0)] = values[self.inputs[0]].mean();
    }

    fn backward(
        &self,
        values: &[DMatrix<f32>],
        _out: &DMatrix<f32>,
        grad_out: &DMatrix<f32>,
        grads: &mut [Option<DMatrix<f32>>],
    ) {
        let input = self.inputs[0];
        let share = grad_out[(0, 0)] / values[input].len() as f32;
        if let Some(grad) = grad_mut(grads, input) {
            grad.add_scalar_mut(share);
        }
    }
}

impl Graph {
    /// The sum of every entry of `a`, a scalar.
    pub fn sum(&mut self, a: Var) -> Var {
        self.apply(Box::new(Sum { inputs: [a] }))
    }

    /// The mean of every entry of `a`, a scalar.
    pub fn mean(&mut self, a: Var) -> Var {
        self.apply(Box::new(Mean { inputs: [a] }))
    }
}
