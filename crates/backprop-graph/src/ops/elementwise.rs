//! Elementwise operations: sum, difference, product (⊙), scaling by a constant,
//! powers, exp and log. Each output entry depends only on the same entry of the
//! inputs, so each local derivative is a plain number per entry and the chain rule
//! is an entrywise product.

use nalgebra::DMatrix;

use super::same_shape;
use crate::engine::{Graph, Operation, Var, grad_mut};

/// `a + b`: the gradient passes through unchanged to both inputs.
#[derive(Debug)]
pub struct Add {
    inputs: [Var; 2],
}

impl Operation for Add {
    fn symbol(&self) -> String {
        "+".into()
    }

    fn inputs(&self) -> &[Var] {
        &self.inputs
    }

    fn output_shape(&self, values: &[DMatrix<f32>]) -> (usize, usize) {
        same_shape(values, self.inputs, "add")
    }

    fn forward(&mut self, values: &[DMatrix<f32>], out: &mut DMatrix<f32>) {
        let [a, b] = self.inputs;
        out.zip_zip_apply(&values[a], &values[b], |o, a, b| *o = a + b);
    }

    fn backward(
        &self,
        _values: &[DMatrix<f32>],
        _out: &DMatrix<f32>,
        grad_out: &DMatrix<f32>,
        grads: &mut [Option<DMatrix<f32>>],
    ) {
        for input in self.inputs {
            if let Some(grad) = grad_mut(grads, input) {
                *grad += grad_out;
            }
        }
    }
}

/// `a − b`: the gradient passes to `a` and, negated, to `b`.
#[derive(Debug)]
pub struct Sub {
    inputs: [Var; 2],
}

impl Operation for Sub {
    fn symbol(&self) -> String {
        "−".into()
    }

    fn inputs(&self) -> &[Var] {
        &self.inputs
    }

    fn output_shape(&self, values: &[DMatrix<f32>]) -> (usize, usize) {
        same_shape(values, self.inputs, "sub")
    }

    fn forward(&mut self, values: &[DMatrix<f32>], out: &mut DMatrix<f32>) {
        let [a, b] = self.inputs;
        out.zip_zip_apply(&values[a], &values[b], |o, a, b| *o = a - b);
    }

    fn backward(
        &self,
        _values: &[DMatrix<f32>],
        _out: &DMatrix<f32>,
        grad_out: &DMatrix<f32>,
        grads: &mut [Option<DMatrix<f32>>],
    ) {
        let [a, b] = self.inputs;
        if let Some(grad) = grad_mut(grads, a) {
            *grad += grad_out;
        }
        if let Some(grad) = grad_mut(grads, b) {
            *grad -= grad_out;
        }
    }
}

/// `a ⊙ b`, the elementwise (Hadamard) product: ∂(ab)/∂a = b and ∂(ab)/∂b = a.
#[derive(Debug)]
pub struct Mul {
    inputs: [Var; 2],
}

impl Operation for Mul {
    fn symbol(&self) -> String {
        "⊙".into()
    }

    fn inputs(&self) -> &[Var] {
        &self.inputs
    }

    fn output_shape(&self, values: &[DMatrix<f32>]) -> (usize, usize) {
        same_shape(values, self.inputs, "mul")
    }

    fn forward(&mut self, values: &[DMatrix<f32>], out: &mut DMatrix<f32>) {
        let [a, b] = self.inputs;
        out.zip_zip_apply(&values[a], &values[b], |o, a, b| *o = a * b);
    }

    fn backward(
        &self,
        values: &[DMatrix<f32>],
        _out: &DMatrix<f32>,
        grad_out: &DMatrix<f32>,
        grads: &mut [Option<DMatrix<f32>>],
    ) {
        let [a, b] = self.inputs;
        if let Some(grad) = grad_mut(grads, a) {
            grad.zip_zip_apply(grad_out, &values[b], |g, up, b| *g += up * b);
        }
        if let Some(grad) = grad_mut(grads, b) {
            grad.zip_zip_apply(grad_out, &values[a], |g, up, a| *g += up * a);
        }
    }
}

/// `c · a` for a constant `c` (a hyperparameter such as λ/2, not a node).
#[derive(Debug)]
pub struct Scale {
    inputs: [Var; 1],
    factor: f32,
}

impl Operation for Scale {
    fn symbol(&self) -> String {
        format!("×{}", self.factor)
    }

    fn inputs(&self) -> &[Var] {
        &self.inputs
    }

    fn output_shape(&self, values: &[DMatrix<f32>]) -> (usize, usize) {
        values[self.inputs[0]].shape()
    }

    fn forward(&mut self, values: &[DMatrix<f32>], out: &mut DMatrix<f32>) {
        let factor = self.factor;
        out.zip_apply(&values[self.inputs[0]], |o, a| *o = factor * a);
    }

    fn backward(
        &self,
        _values: &[DMatrix<f32>],
        _out: &DMatrix<f32>,
        grad_out: &DMatrix<f32>,
        grads: &mut [Option<DMatrix<f32>>],
    ) {
        if let Some(grad) = grad_mut(grads, self.inputs[0]) {
            let factor = self.factor;
            grad.zip_apply(grad_out, |g, up| *g += factor * up);
        }
    }
}

/// `aᵖ` entry by entry for a constant exponent `p`: ∂aᵖ/∂a = p·aᵖ⁻¹. For a
/// non-integer `p` the entries must be positive.
#[derive(Debug)]
pub struct Pow {
    inputs: [Var; 1],
    exponent: f32,
}

impl Operation for Pow {
    fn symbol(&self) -> String {
        if self.exponent == 2.0 { "x²".into() } else { format!("x^{}", self.exponent) }
    }

    fn inputs(&self) -> &[Var] {
        &self.inputs
    }

    fn output_shape(&self, values: &[DMatrix<f32>]) -> (usize, usize) {
        values[self.inputs[0]].shape()
    }

    fn forward(&mut self, values: &[DMatrix<f32>], out: &mut DMatrix<f32>) {
        let p = self.exponent;
        out.zip_apply(&values[self.inputs[0]], |o, a| *o = a.powf(p));
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
            let p = self.exponent;
            grad.zip_zip_apply(grad_out, &values[input], |g, up, a| *g += up * p * a.powf(p - 1.0));
        }
    }
}

/// `eᵃ`, whose derivative is itself: the backward pass reads the stored output.
#[derive(Debug)]
pub struct Exp {
    inputs: [Var; 1],
}

impl Operation for Exp {
    fn symbol(&self) -> String {
        "exp".into()
    }

    fn inputs(&self) -> &[Var] {
        &self.inputs
    }

    fn output_shape(&self, values: &[DMatrix<f32>]) -> (usize, usize) {
        values[self.inputs[0]].shape()
    }

    fn forward(&mut self, values: &[DMatrix<f32>], out: &mut DMatrix<f32>) {
        out.zip_apply(&values[self.inputs[0]], |o, a| *o = a.exp());
    }

    fn backward(
        &self,
        _values: &[DMatrix<f32>],
        out: &DMatrix<f32>,
        grad_out: &DMatrix<f32>,
        grads: &mut [Option<DMatrix<f32>>],
    ) {
        if let Some(grad) = grad_mut(grads, self.inputs[0]) {
            grad.zip_zip_apply(grad_out, out, |g, up, e| *g += up * e);
        }
    }
}

/// `ln a` for positive entries: ∂ ln a/∂a = 1/a.
#[derive(Debug)]
pub struct Log {
    inputs: [Var; 1],
}

impl Operation for Log {
    fn symbol(&self) -> String {
        "ln".into()
    }

    fn inputs(&self) -> &[Var] {
        &self.inputs
    }

    fn output_shape(&self, values: &[DMatrix<f32>]) -> (usize, usize) {
        values[self.inputs[0]].shape()
    }

    fn forward(&mut self, values: &[DMatrix<f32>], out: &mut DMatrix<f32>) {
        out.zip_apply(&values[self.inputs[0]], |o, a| *o = a.ln());
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
            grad.zip_zip_apply(grad_out, &values[input], |g, up, a| *g += up / a);
        }
    }
}

impl Graph {
    /// `a + b` (same shapes).
    pub fn add(&mut self, a: Var, b: Var) -> Var {
        self.apply(Box::new(Add { inputs: [a, b] }))
    }

    /// `a − b` (same shapes).
    pub fn sub(&mut self, a: Var, b: Var) -> Var {
        self.apply(Box::new(Sub { inputs: [a, b] }))
    }

    /// `a ⊙ b`, the elementwise product (same shapes).
    pub fn mul(&mut self, a: Var, b: Var) -> Var {
        self.apply(Box::new(Mul { inputs: [a, b] }))
    }

    /// `factor · a` for a constant `factor`.
    pub fn scale(&mut self, a: Var, factor: f32) -> Var {
        self.apply(Box::new(Scale { inputs: [a], factor }))
    }

    /// `aᵖ`, entry by entry.
    pub fn pow(&mut self, a: Var, exponent: f32) -> Var {
        self.apply(Box::new(Pow { inputs: [a], exponent }))
    }

    /// `a²`, entry by entry.
    pub fn square(&mut self, a: Var) -> Var {
        self.pow(a, 2.0)
    }

    /// `eᵃ`, entry by entry.
    pub fn exp(&mut self, a: Var) -> Var {
        self.apply(Box::new(Exp { inputs: [a] }))
    }

    /// `ln a`, entry by entry (entries must be positive).
    pub fn log(&mut self, a: Var) -> Var {
        self.apply(Box::new(Log { inputs: [a] }))
    }
}
