//! The notes' model: a one-hidden-layer MLP without biases, with an L2 penalty,
//!
//! ```text
//! z = W1·x,  h = φ(z),  o = W2·h,  L = ℓ(o, y),  s = λ/2 (‖W1‖² + ‖W2‖²),  J = L + s,
//! ```
//!
//! and its gradients computed three ways: by the engine, by the formulas derived by
//! hand, and by dlcore's layers (the same `Linear` and `ActivationLayer` the `mlp`
//! crate's network is made of). ℓ is softmax cross-entropy averaged over the columns
//! (examples) of `x`.

use dlcore::Rng;
use dlcore::activation::Activation;
use dlcore::init::Init;
use dlcore::layer::{ActivationLayer, Layer, Linear, Sequential};
use dlcore::linalg::{Op, matmul};
use dlcore::loss::cross_entropy_with_logits;
use nalgebra::DMatrix;
use rand::Rng as _;

use crate::engine::{BackwardError, Graph, Storage, Var};

/// Everything that defines one evaluation of J: the weights, a batch with its
/// labels, the penalty's λ and the activation φ.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// `hidden × inputs`.
    pub w1: DMatrix<f32>,
    /// `classes × hidden`.
    pub w2: DMatrix<f32>,
    /// `inputs × batch`, one example per column.
    pub x: DMatrix<f32>,
    /// One class index per column of `x`.
    pub labels: Vec<u8>,
    pub lambda: f32,
    pub activation: Activation,
}

impl Problem {
    /// A random problem: Xavier-normal weights, standard normal inputs, uniform labels.
    pub fn random(
        inputs: usize,
        hidden: usize,
        classes: usize,
        batch: usize,
        lambda: f32,
        activation: Activation,
        rng: &mut Rng,
    ) -> Problem {
        let w1 = Init::XavierNormal.matrix(hidden, inputs, rng);
        let w2 = Init::XavierNormal.matrix(classes, hidden, rng);
        let x = Init::Normal { std: 1.0 }.matrix(inputs, batch, rng);
        let labels = (0..batch).map(|_| rng.random_range(0..classes) as u8).collect();
        Problem { w1, w2, x, labels, lambda, activation }
    }
}

/// The gradient of J with respect to every variable of the graph (and J itself).
#[derive(Debug, Clone, PartialEq)]
pub struct Gradients {
    pub objective: f32,
    pub d_o: DMatrix<f32>,
    pub d_w2: DMatrix<f32>,
    pub d_h: DMatrix<f32>,
    pub d_z: DMatrix<f32>,
    pub d_w1: DMatrix<f32>,
}

/// The recorded graph of J, with a handle to every node the chapter talks about.
#[derive(Debug)]
pub struct PenalizedMlp {
    pub graph: Graph,
    pub x: Var,
    pub w1: Var,
    pub z: Var,
    pub h: Var,
    pub w2: Var,
    pub o: Var,
    pub y: Var,
    pub loss: Var,
    pub penalty: Var,
    pub objective: Var,
}

// ANCHOR: build
/// Forward propagation: computes J step by step, and the graph keeps every
/// intermediate (z, h, o, L, s) for the backward pass.
pub fn build(problem: &Problem) -> PenalizedMlp {
    let mut g = Graph::new();
    let x = g.input("x", problem.x.clone());
    let w1 = g.param("W1", problem.w1.clone());
    let z = g.matmul(w1, x);
    let z = g.named(z, "z");
    let h = g.activation(z, problem.activation);
    let h = g.named(h, "h");
    let w2 = g.param("W2", problem.w2.clone());
    let o = g.matmul(w2, h);
    let o = g.named(o, "o");
    let labels =
        DMatrix::from_iterator(1, problem.labels.len(), problem.labels.iter().map(|&c| f32::from(c)));
    let y = g.input("y", labels);
    let loss = g.softmax_cross_entropy(o, y);
    let loss = g.named(loss, "L");
    let penalty = g.l2_penalty(&[w1, w2], problem.lambda);
    let penalty = g.named(penalty, "s");
    let objective = g.add(loss, penalty);
    let objective = g.named(objective, "J");
    PenalizedMlp { graph: g, x, w1, z, h, w2, o, y, loss, penalty, objective }
}
// ANCHOR_END: build

/// The engine's answer: one backward pass from J, then every node's `.grad`.
pub fn engine_gradients(problem: &Problem) -> Result<Gradients, BackwardError> {
    let mut net = build(problem);
    net.graph.backward(net.objective)?;
    let g = &net.graph;
    let grad =
        |var: Var| g.grad(var).cloned().ok_or_else(|| BackwardError::NoGradient { name: g.name(var).into() });
    Ok(Gradients {
        objective: g.scalar_value(net.objective),
        d_o: grad(net.o)?,
        d_w2: grad(net.w2)?,
        d_h: grad(net.h)?,
        d_z: grad(net.z)?,
        d_w1: grad(net.w1)?,
    })
}

// ANCHOR: by_hand
/// The gradients from the formulas derived by hand, in the order backpropagation
/// finds them (∂J/∂L = ∂J/∂s = 1 are folded in).
pub fn hand_gradients(p: &Problem) -> Gradients {
    // Forward, keeping z and h: the backward formulas need them.
    let z = matmul(&p.w1, Op::N, &p.x, Op::N);
    let h = p.activation.forward(&z);
    let o = matmul(&p.w2, Op::N, &h, Op::N);
    let (loss, d_o) = cross_entropy_with_logits(&o, &p.labels); // ∂J/∂o = ∂L/∂o
    let penalty = p.lambda / 2.0 * (p.w1.norm_squared() + p.w2.norm_squared());
    // ∂J/∂W2 = ∂J/∂o hᵀ + λW2
    let d_w2 = matmul(&d_o, Op::N, &h, Op::T) + &p.w2 * p.lambda;
    // ∂J/∂h = W2ᵀ ∂J/∂o
    let d_h = matmul(&p.w2, Op::T, &d_o, Op::N);
    // ∂J/∂z = ∂J/∂h ⊙ φ'(z)
    let d_z = d_h.zip_map(&z, |d, z| d * p.activation.derivative(z));
    // ∂J/∂W1 = ∂J/∂z xᵀ + λW1
    let d_w1 = matmul(&d_z, Op::N, &p.x, Op::T) + &p.w1 * p.lambda;
    Gradients { objective: loss + penalty, d_o, d_w2, d_h, d_z, d_w1 }
}
// ANCHOR_END: by_hand

/// ∂J/∂W1 and ∂J/∂W2 from dlcore's layers: a `Sequential` of `Linear` (zero bias),
/// `ActivationLayer` and `Linear`, run forward and backward through
/// cross-entropy, with the penalty's λW added to each weight gradient (the
/// penalty is not part of a layer; the optimizer adds it as weight decay).
pub fn layer_gradients(p: &Problem) -> (DMatrix<f32>, DMatrix<f32>) {
    let zero_bias = |w: &DMatrix<f32>| DMatrix::zeros(w.nrows(), 1);
    let mut net = Sequential {
        layers: vec![
            Layer::Linear(Linear::from_parameters(p.w1.clone(), zero_bias(&p.w1))),
            Layer::Activation(ActivationLayer::new(p.activation)),
            Layer::Linear(Linear::from_parameters(p.w2.clone(), zero_bias(&p.w2))),
        ],
    };
    let (_, d_o) = cross_entropy_with_logits(net.forward(&p.x), &p.labels);
    net.zero_grad();
    net.backward(&d_o);
    let mut weight_grads = net.linear_layers().map(|layer| layer.grad_weight.clone());
    let (Some(d_w1), Some(d_w2)) = (weight_grads.next(), weight_grads.next()) else {
        unreachable!("the network above has two dense layers")
    };
    (d_w1 + &p.w1 * p.lambda, d_w2 + &p.w2 * p.lambda)
}

/// How many numbers the graph of J keeps for a network `inputs → hidden → classes`
/// and a batch of `batch` examples (the values do not matter, only the shapes).
pub fn storage(inputs: usize, hidden: usize, classes: usize, batch: usize) -> Storage {
    let problem = Problem {
        w1: DMatrix::zeros(hidden, inputs),
        w2: DMatrix::zeros(classes, hidden),
        x: DMatrix::zeros(inputs, batch),
        labels: vec![0; batch],
        lambda: 0.0,
        activation: Activation::Relu,
    };
    build(&problem).graph.storage()
}
