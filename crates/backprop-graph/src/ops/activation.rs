//! Activation functions as graph operations. The values and derivatives are
//! `dlcore::activation`'s, the same functions every chapter's layers use; this module
//! only wires them into the chain rule: ∂L/∂z = ∂L/∂φ(z) ⊙ φ'(z).

use dlcore::activation::Activation;
use nalgebra::DMatrix;

use crate::engine::{Graph, Operation, Var, grad_mut};

/// `φ(z)` entry by entry, for any of dlcore's activations.
#[derive(Debug)]
pub struct Activate {
    inputs: [Var; 1],
    activation: Activation,
}

impl Operation for Activate {
    fn symbol(&self) -> String {
        self.activation.name().into()
    }

    fn inputs(&self) -> &[Var] {
        &self.inputs
    }

    fn output_shape(&self, values: &[DMatrix<f32>]) -> (usize, usize) {
        values[self.inputs[0]].shape()
    }

    fn forward(&mut self, values: &[DMatrix<f32>], out: &mut DMatrix<f32>) {
        self.activation.forward_into(&values[self.inputs[0]], out);
    }

    fn backward(
        &self,
        values: &[DMatrix<f32>],
        _out: &DMatrix<f32>,
        grad_out: &DMatrix<f32>,
        grads: &mut [Option<DMatrix<f32>>],
    ) {
        let input = self.inputs[0];
        if let Some(grad) = grad_mut(grads, input) {
            let activation = self.activation;
            grad.zip_zip_apply(grad_out, &values[input], |g, up, z| *g += up * activation.derivative(z));
        }
    }
}

impl Graph {
    /// `φ(z)` for a dlcore activation.
    pub fn activation(&mut self, z: Var, activation: Activation) -> Var {
        self.apply(Box::new(Activate { inputs: [z], activation }))
    }

    /// `max(z, 0)`; its derivative at 0 is taken as 0, as in PyTorch.
    pub fn relu(&mut self, z: Var) -> Var {
        self.activation(z, Activation::Relu)
    }

    /// `1 / (1 + e^(−z))`.
    pub fn sigmoid(&mut self, z: Var) -> Var {
        self.activation(z, Activation::Sigmoid)
    }

    /// `tanh z`.
    pub fn tanh(&mut self, z: Var) -> Var {
        self.activation(z, Activation::Tanh)
    }
}
