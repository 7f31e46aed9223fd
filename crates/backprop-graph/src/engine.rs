//! The engine core: a tape of nodes, each holding a matrix value, and reverse-mode
//! differentiation over it.
//!
//! A [`Graph`] is a list of nodes in the order they were created. A node is either a
//! *leaf* (a value you supply: data, or a parameter that requires a gradient) or the
//! output of an [`Operation`] applied to earlier nodes. Because an operation can only
//! take nodes that already exist, the creation order is a topological order of the
//! graph: every node comes after everything it depends on. Backpropagation is
//! therefore a walk down the tape from the output to the start, applying each
//! operation's local derivative — the chain rule, one node at a time.
//!
//! Values are nalgebra `DMatrix<f32>`; a scalar is a 1×1 matrix. Every node keeps its
//! value after the forward pass (that is what backward reads), so memory grows with
//! the size of the graph: the cost the book's chapter measures.

use std::fmt;

use dlcore::optim::{Param, Params};
use nalgebra::DMatrix;

/// A handle to one node of a [`Graph`]: its position on the tape. Cheap to copy;
/// only meaningful for the graph that created it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Var(usize);

impl Var {
    /// The node's position on the tape (0 for the first node created).
    pub fn index(self) -> usize {
        self.0
    }
}

/// Operations read their inputs' values as `values[var]`.
impl std::ops::Index<Var> for [DMatrix<f32>] {
    type Output = DMatrix<f32>;

    fn index(&self, var: Var) -> &DMatrix<f32> {
        &self[var.0]
    }
}

/// A 1×1 matrix: how the engine holds a scalar.
pub fn scalar(value: f32) -> DMatrix<f32> {
    DMatrix::from_element(1, 1, value)
}

/// Why a backward pass could not start. Each message says what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackwardError {
    /// `backward` was called on a matrix: the gradient of a matrix with respect to a
    /// matrix is not a matrix, so there is no single thing to propagate.
    #[error(
        "backward() needs a scalar (1×1) output, but `{name}` is {rows}×{cols}: reduce it to a scalar (sum, mean, a loss) or pass a seed gradient of shape {rows}×{cols} to backward_with()"
    )]
    NotScalar { name: String, rows: usize, cols: usize },

    /// `backward_with` got a seed gradient of the wrong shape.
    #[error("the seed gradient is {seed_rows}×{seed_cols} but `{name}` is {rows}×{cols}: they must match")]
    SeedShape { name: String, rows: usize, cols: usize, seed_rows: usize, seed_cols: usize },

    /// The output, or a node a gradient was asked for, does not depend on any leaf
    /// that requires a gradient.
    #[error(
        "`{name}` does not require a gradient: no leaf it depends on was created with requires_grad (use Graph::param)"
    )]
    NoGradient { name: String },
}

/// So library code that returns `dlcore::Result` can use `?` on a backward pass.
impl From<BackwardError> for dlcore::Error {
    fn from(error: BackwardError) -> Self {
        let node = match &error {
            BackwardError::NotScalar { name, .. }
            | BackwardError::SeedShape { name, .. }
            | BackwardError::NoGradient { name } => name.clone(),
        };
        dlcore::Error::invalid("backward pass from", node, error.to_string())
    }
}

// ANCHOR: operation
/// One differentiable operation: how to compute its output from its inputs, and how
/// to send a gradient arriving at its output back to its inputs.
///
/// Every operation lives in its own module under [`crate::ops`]; the engine only ever
/// talks to them through this trait.
pub trait Operation: fmt::Debug {
    /// A short symbol for figures and Graphviz: `×`, `+`, `tanh`.
    fn symbol(&self) -> String;

    /// The nodes this operation reads, in order.
    fn inputs(&self) -> &[Var];

    /// The output's shape, given every value on the tape so far.
    ///
    /// # Panics
    /// If the inputs' shapes do not fit the operation: that is a bug in the code that
    /// builds the graph, like a shape mismatch between layers.
    fn output_shape(&self, values: &[DMatrix<f32>]) -> (usize, usize);

    /// Computes the output into `out` (already of the right shape) from `values`, the
    /// values of every earlier node. Takes `&mut self` so a fused operation can keep
    /// what its backward pass needs (a loss keeps its gradient).
    fn forward(&mut self, values: &[DMatrix<f32>], out: &mut DMatrix<f32>);

    /// The chain rule at this node: given `grad_out` = ∂root/∂output, *adds*
    /// ∂root/∂input to `grads[input]` for every input that has a gradient buffer
    /// (`None` means the input needs no gradient, so the work is skipped). `out` is
    /// this node's own value, for operations whose derivative is their output (exp).
    fn backward(
        &self,
        values: &[DMatrix<f32>],
        out: &DMatrix<f32>,
        grad_out: &DMatrix<f32>,
        grads: &mut [Option<DMatrix<f32>>],
    );
}
// ANCHOR_END: operation

/// The gradient buffer of `var`, if it has one: what [`Operation::backward`]
/// implementations add into.
pub fn grad_mut(grads: &mut [Option<DMatrix<f32>>], var: Var) -> Option<&mut DMatrix<f32>> {
    grads[var.0].as_mut()
}

/// How many `f32`s a graph holds, by role: the memory cost of keeping a forward
/// pass around for the backward one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Storage {
    /// Values of the leaves that need no gradient: the batch (inputs, labels).
    pub data: usize,
    /// Values of the leaves that require a gradient: the parameters.
    pub parameters: usize,
    /// Values of every intermediate and output node: the stored activations.
    pub intermediate_values: usize,
    /// Gradient buffers: the accumulated `.grad` and the per-pass scratch, two per
    /// node that requires a gradient.
    pub gradients: usize,
}

/// A computational graph, recorded as a tape.
///
/// The fields are parallel vectors indexed by [`Var`]: keeping values and gradient
/// buffers in separate vectors lets the backward pass read every value while it
/// writes the gradients of earlier nodes.
#[derive(Debug, Default)]
pub struct Graph {
    names: Vec<String>,
    /// `None` for a leaf.
    ops: Vec<Option<Box<dyn Operation>>>,
    values: Vec<DMatrix<f32>>,
    requires_grad: Vec<bool>,
    /// The accumulated gradient, PyTorch's `.grad`: `Some` exactly for the nodes that
    /// require a gradient.
    grads: Vec<Option<DMatrix<f32>>>,
    /// This pass's gradient of the root with respect to each node, before it is added
    /// to `grads`.
    upstream: Vec<Option<DMatrix<f32>>>,
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Self {
        Graph::default()
    }

    /// Number of nodes on the tape.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the tape is empty.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    // ANCHOR: leaves
    /// A leaf: a value supplied from outside. With `requires_grad`, backward passes
    /// accumulate ∂root/∂leaf into its [`grad`](Graph::grad).
    pub fn leaf(&mut self, name: &str, value: DMatrix<f32>, requires_grad: bool) -> Var {
        self.push(name.to_string(), None, value, requires_grad)
    }

    /// A trainable parameter: a leaf that requires a gradient.
    pub fn param(&mut self, name: &str, value: DMatrix<f32>) -> Var {
        self.leaf(name, value, true)
    }

    /// Data: a leaf that needs no gradient.
    pub fn input(&mut self, name: &str, value: DMatrix<f32>) -> Var {
        self.leaf(name, value, false)
    }
    // ANCHOR_END: leaves

    // ANCHOR: apply
    /// Records `op` on the tape and computes its output now (define-by-run, as in
    /// PyTorch). The output requires a gradient when any input does. The `ops`
    /// modules call this; it is public so a learner can add an operation of their own.
    pub fn apply(&mut self, mut op: Box<dyn Operation>) -> Var {
        let (rows, cols) = op.output_shape(&self.values);
        let mut value = DMatrix::zeros(rows, cols);
        op.forward(&self.values, &mut value);
        let requires_grad = op.inputs().iter().any(|input| self.requires_grad[input.0]);
        let name = format!("v{}", self.len());
        self.push(name, Some(op), value, requires_grad)
    }
    // ANCHOR_END: apply

    fn push(
        &mut self,
        name: String,
        op: Option<Box<dyn Operation>>,
        value: DMatrix<f32>,
        requires_grad: bool,
    ) -> Var {
        let buffer = || requires_grad.then(|| DMatrix::zeros(value.nrows(), value.ncols()));
        self.grads.push(buffer());
        self.upstream.push(buffer());
        self.names.push(name);
        self.ops.push(op);
        self.values.push(value);
        self.requires_grad.push(requires_grad);
        Var(self.values.len() - 1)
    }

    /// Names a node (for printing, figures and Graphviz) and returns it, so building
    /// and naming read as one step: `let z = g.matmul(w1, x); g.named(z, "z")`.
    pub fn named(&mut self, var: Var, name: &str) -> Var {
        self.names[var.0] = name.to_string();
        var
    }

    /// The node's name: given at creation for leaves, `v<index>` for an unnamed
    /// operation's output.
    pub fn name(&self, var: Var) -> &str {
        &self.names[var.0]
    }

    /// The node's value, as of the last forward pass.
    pub fn value(&self, var: Var) -> &DMatrix<f32> {
        &self.values[var.0]
    }

    /// A node's value as a number; for scalar (1×1) nodes such as a loss.
    pub fn scalar_value(&self, var: Var) -> f32 {
        self.values[var.0][(0, 0)]
    }

    /// The accumulated gradient ∂root/∂node (summed over every backward pass since
    /// the last [`zero_grad`](Graph::zero_grad)), or `None` when the node does not
    /// require a gradient.
    pub fn grad(&self, var: Var) -> Option<&DMatrix<f32>> {
        self.grads[var.0].as_ref()
    }

    /// Whether the node requires a gradient (it is, or depends on, such a leaf).
    pub fn requires_grad(&self, var: Var) -> bool {
        self.requires_grad[var.0]
    }

    /// The operation that produced the node, or `None` for a leaf.
    pub fn op(&self, var: Var) -> Option<&dyn Operation> {
        self.ops[var.0].as_deref()
    }

    /// Every node, in tape order.
    pub fn vars(&self) -> impl DoubleEndedIterator<Item = Var> + ExactSizeIterator + use<> {
        (0..self.len()).map(Var)
    }

    /// Replaces a leaf's value, e.g. with the next batch; call
    /// [`forward`](Graph::forward) afterwards to recompute what depends on it.
    ///
    /// # Panics
    /// If `var` is not a leaf or the shape changes: the graph's buffers were sized for
    /// the first value (a bug in the caller, not user input).
    pub fn set_value(&mut self, var: Var, value: &DMatrix<f32>) {
        assert!(
            self.ops[var.0].is_none(),
            "`{}` is computed, not a leaf: set its inputs instead",
            self.names[var.0]
        );
        let slot = &mut self.values[var.0];
        assert_eq!(slot.shape(), value.shape(), "`{}` keeps its shape", self.names[var.0]);
        slot.copy_from(value);
    }

    // ANCHOR: forward
    /// Recomputes every operation's output, in tape order, from the leaves' current
    /// values, reusing every buffer: the graph is built once and replayed, so a
    /// training step allocates nothing.
    pub fn forward(&mut self) {
        for i in 0..self.len() {
            if let Some(op) = self.ops[i].as_mut() {
                let (earlier, rest) = self.values.split_at_mut(i);
                op.forward(earlier, &mut rest[0]);
            }
        }
    }
    // ANCHOR_END: forward

    // ANCHOR: backward
    /// Backpropagates from a scalar `root`: adds ∂root/∂node to the `.grad` of every
    /// node that requires a gradient. Calling it twice without
    /// [`zero_grad`](Graph::zero_grad) adds the gradients twice, as in PyTorch.
    pub fn backward(&mut self, root: Var) -> Result<(), BackwardError> {
        self.ensure_scalar(root)?;
        self.backward_with(root, &scalar(1.0))
    }

    /// Backpropagates from any `root`, starting from the given ∂L/∂root (the `seed`,
    /// PyTorch's `tensor.backward(gradient)`): the gradients become those of
    /// L = Σ seed ⊙ root.
    pub fn backward_with(&mut self, root: Var, seed: &DMatrix<f32>) -> Result<(), BackwardError> {
        let reached = self.propagate(root, seed)?;
        for (i, &on_path) in reached.iter().enumerate() {
            if let (true, Some(grad), Some(upstream)) = (on_path, &mut self.grads[i], &self.upstream[i]) {
                *grad += upstream;
            }
        }
        Ok(())
    }
    // ANCHOR_END: backward

    /// The gradients of a scalar `root` with respect to `wrt`, returned without
    /// touching any `.grad` (PyTorch's `torch.autograd.grad`). A node `root` does not
    /// depend on gets a zero gradient.
    pub fn gradients(&mut self, root: Var, wrt: &[Var]) -> Result<Vec<DMatrix<f32>>, BackwardError> {
        self.ensure_scalar(root)?;
        let reached = self.propagate(root, &scalar(1.0))?;
        wrt.iter()
            .map(|&var| match &self.upstream[var.0] {
                Some(upstream) if reached.get(var.0) == Some(&true) => Ok(upstream.clone()),
                Some(upstream) => Ok(DMatrix::zeros(upstream.nrows(), upstream.ncols())),
                None => Err(BackwardError::NoGradient { name: self.names[var.0].clone() }),
            })
            .collect()
    }

    /// Backward without a seed needs a 1×1 root: the derivative of a scalar.
    fn ensure_scalar(&self, root: Var) -> Result<(), BackwardError> {
        match self.values[root.0].shape() {
            (1, 1) => Ok(()),
            (rows, cols) => Err(BackwardError::NotScalar { name: self.names[root.0].clone(), rows, cols }),
        }
    }

    // ANCHOR: propagate
    /// One backward pass from `root`, written into the `upstream` scratch buffers.
    /// Returns which nodes (up to `root`) lie on a path to it.
    fn propagate(&mut self, root: Var, seed: &DMatrix<f32>) -> Result<Vec<bool>, BackwardError> {
        let name = || self.names[root.0].clone();
        let (rows, cols) = self.values[root.0].shape();
        if seed.shape() != (rows, cols) {
            let (seed_rows, seed_cols) = seed.shape();
            return Err(BackwardError::SeedShape { name: name(), rows, cols, seed_rows, seed_cols });
        }
        if !self.requires_grad[root.0] {
            return Err(BackwardError::NoGradient { name: name() });
        }
        // Walking the tape backwards visits a node only after every node that uses
        // it: reverse topological order. Mark the nodes root depends on.
        let mut reached = vec![false; root.0 + 1];
        reached[root.0] = true;
        for i in (0..=root.0).rev() {
            if let (true, Some(op)) = (reached[i], &self.ops[i]) {
                for input in op.inputs() {
                    reached[input.0] |= self.requires_grad[input.0];
                }
            }
        }
        for (upstream, &on_path) in self.upstream.iter_mut().zip(&reached) {
            if let (true, Some(upstream)) = (on_path, upstream) {
                upstream.fill(0.0);
            }
        }
        if let Some(upstream) = &mut self.upstream[root.0] {
            upstream.copy_from(seed);
        }
        // The chain rule, node by node: each node's gradient is complete once every
        // later node has sent its share, so it can now be sent on to its inputs.
        for i in (0..=root.0).rev() {
            if let (true, Some(op)) = (reached[i], &self.ops[i]) {
                let (earlier, rest) = self.upstream.split_at_mut(i);
                if let Some(grad_out) = &rest[0] {
                    op.backward(&self.values, &self.values[i], grad_out, earlier);
                }
            }
        }
        Ok(reached)
    }
    // ANCHOR_END: propagate

    // ANCHOR: zero_grad
    /// Sets every accumulated gradient to zero: call it before each training step's
    /// backward pass, or gradients from earlier steps add up.
    pub fn zero_grad(&mut self) {
        for grad in self.grads.iter_mut().flatten() {
            grad.fill(0.0);
        }
    }
    // ANCHOR_END: zero_grad

    /// How many numbers the graph keeps, by role (see [`Storage`]).
    pub fn storage(&self) -> Storage {
        let mut storage = Storage::default();
        for i in 0..self.len() {
            let size = self.values[i].len();
            if self.ops[i].is_some() {
                storage.intermediate_values += size;
            } else if self.requires_grad[i] {
                storage.parameters += size;
            } else {
                storage.data += size;
            }
            storage.gradients += self.grads[i].as_ref().map_or(0, DMatrix::len);
            storage.gradients += self.upstream[i].as_ref().map_or(0, DMatrix::len);
        }
        storage
    }
}

/// The parameters an optimizer updates are the leaves that require a gradient, in
/// tape order. None is marked for weight decay: a penalty belongs in the graph, where
/// its gradient is computed like any other.
impl Params for Graph {
    fn visit_params(&mut self, visit: &mut dyn FnMut(Param<'_>)) {
        let leaves = self.values.iter_mut().zip(&self.grads).zip(&self.ops);
        for ((value, grad), op) in leaves {
            if let (Some(grad), None) = (grad, op) {
                visit(Param { value, grad, decay: false });
            }
        }
    }
}
