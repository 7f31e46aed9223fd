//! A small MLP built on the engine and trained on a two-dimensional toy problem
//! (two interleaving moons, or XOR), small enough to draw what the network learned.

use std::fmt;
use std::str::FromStr;

use dlcore::activation::Activation;
use dlcore::data::dataset::Labeled;
use dlcore::init::Init;
use dlcore::loss::softmax;
use dlcore::metrics::accuracy;
use dlcore::optim::{DivergenceGuard, Sgd};
use dlcore::{Result, Rng};
use nalgebra::DMatrix;
use rand::Rng as _;

use crate::engine::{Graph, Var};
use crate::figure::ProbabilityGrid;

/// The toy data sets: two classes in the plane that no straight line separates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToyProblem {
    /// Two interleaving half circles (scikit-learn's `make_moons`).
    Moons,
    /// Four clusters at (±1, ±1); the class is 1 where the signs of the coordinates
    /// differ.
    Xor,
}

impl fmt::Display for ToyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ToyProblem::Moons => "moons",
            ToyProblem::Xor => "xor",
        })
    }
}

impl FromStr for ToyProblem {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s {
            "moons" => Ok(ToyProblem::Moons),
            "xor" => Ok(ToyProblem::Xor),
            _ => Err(format!("unknown problem `{s}`: expected moons or xor")),
        }
    }
}

/// `examples` points of `problem`, half of each class, with Gaussian noise of
/// standard deviation `noise` added to each coordinate.
pub fn generate(problem: ToyProblem, examples: usize, noise: f32, rng: &mut Rng) -> Labeled {
    let mut x = DMatrix::zeros(2, examples);
    let mut labels = Vec::with_capacity(examples);
    for k in 0..examples {
        let class = (k % 2) as u8;
        let (a, b) = match problem {
            ToyProblem::Moons => {
                let t = rng.random_range(0.0..std::f32::consts::PI);
                if class == 0 { (t.cos(), t.sin()) } else { (1.0 - t.cos(), 0.5 - t.sin()) }
            }
            ToyProblem::Xor => {
                let sign = |positive: bool| if positive { 1.0 } else { -1.0 };
                let first = rng.random_bool(0.5);
                // Class 1: the signs differ.
                (sign(first), sign(first == (class == 0)))
            }
        };
        x[(0, k)] = a;
        x[(1, k)] = b;
        labels.push(class);
    }
    x += Init::Normal { std: noise }.matrix(2, examples, rng);
    Labeled::new(x, labels)
}

/// Everything that defines a training run.
#[derive(Debug, Clone, PartialEq)]
pub struct ToyConfig {
    pub hidden: Vec<usize>,
    pub activation: Activation,
    pub init: Init,
    pub lr: f32,
    pub momentum: f32,
    /// λ of the L2 penalty λ/2 Σ‖W‖² recorded in the graph (0 for none).
    pub weight_decay: f32,
    /// Full-batch gradient steps.
    pub steps: usize,
    /// Evaluate and report every this many steps (and after the last).
    pub log_every: usize,
}

/// The network `2 → hidden… → 2` recorded on a graph with its loss.
#[derive(Debug)]
pub struct Network {
    pub graph: Graph,
    pub x: Var,
    pub labels: Var,
    /// W1, b1, W2, b2, …: the parameters, in order.
    pub parameters: Vec<Var>,
    pub logits: Var,
    /// Mean cross-entropy.
    pub loss: Var,
    /// Loss plus the L2 penalty: what training minimises.
    pub objective: Var,
    /// The activation after every hidden layer.
    pub activation: Activation,
}

/// Initial parameter values W1, b1, W2, b2, … for layer sizes `sizes`.
pub fn initial_parameters(sizes: &[usize], init: Init, rng: &mut Rng) -> Vec<DMatrix<f32>> {
    sizes
        .windows(2)
        .flat_map(|pair| [init.matrix(pair[1], pair[0], rng), DMatrix::zeros(pair[1], 1)])
        .collect()
}

// ANCHOR: network
impl Network {
    /// Records an MLP with the given parameter values (W1, b1, W2, b2, …) on a new
    /// graph, for the batch `data`. With `trainable`, the parameters require
    /// gradients; an evaluation copy does without them, and keeps no gradients.
    pub fn new(
        parameters: &[DMatrix<f32>],
        activation: Activation,
        weight_decay: f32,
        data: &Labeled,
        trainable: bool,
    ) -> Network {
        let mut g = Graph::new();
        let x = g.input("x", data.x.clone());
        let labels = DMatrix::from_iterator(1, data.len(), data.y.iter().map(|&c| f32::from(c)));
        let labels = g.input("y", labels);
        let mut vars = Vec::with_capacity(parameters.len());
        let mut a = x;
        let layers = parameters.len() / 2;
        for (i, pair) in parameters.chunks(2).enumerate() {
            let w = g.leaf(&format!("W{}", i + 1), pair[0].clone(), trainable);
            let b = g.leaf(&format!("b{}", i + 1), pair[1].clone(), trainable);
            vars.extend([w, b]);
            let wa = g.matmul(w, a);
            let z = g.add_bias(wa, b);
            a = if i + 1 < layers { g.activation(z, activation) } else { z };
        }
        let logits = a;
        let loss = g.softmax_cross_entropy(logits, labels);
        let weights: Vec<Var> = vars.iter().copied().step_by(2).collect();
        let penalty = g.l2_penalty(&weights, weight_decay);
        let objective = g.add(loss, penalty);
        Network { graph: g, x, labels, parameters: vars, logits, loss, objective, activation }
    }

    /// Copies the current parameter values of `trained` (same architecture) and
    /// recomputes the forward pass.
    pub fn load_parameters(&mut self, trained: &Network) {
        for (&mine, &theirs) in self.parameters.iter().zip(&trained.parameters) {
            self.graph.set_value(mine, trained.graph.value(theirs));
        }
        self.graph.forward();
    }

    /// Mean cross-entropy and accuracy of the last forward pass.
    pub fn loss_and_accuracy(&self, data: &Labeled) -> (f32, f32) {
        (self.graph.scalar_value(self.loss), accuracy(self.graph.value(self.logits), &data.y))
    }
}
// ANCHOR_END: network

/// Where training stood at one logged step.
#[derive(Debug, Clone, PartialEq)]
pub struct StepReport {
    /// Steps taken so far.
    pub step: usize,
    pub train_loss: f32,
    pub train_accuracy: f32,
    pub test_loss: f32,
    pub test_accuracy: f32,
}

// ANCHOR: train
/// Full-batch gradient descent on `train`, one graph built once and replayed every
/// step: forward, zero the gradients, backward, update. `on_log` gets a report before
/// the first step, every `log_every` steps and after the last; `progress` is called
/// after every step.
pub fn train(
    config: &ToyConfig,
    train: &Labeled,
    test: &Labeled,
    rng: &mut Rng,
    mut progress: impl FnMut(),
    mut on_log: impl FnMut(&StepReport) -> Result<()>,
) -> Result<(Network, Vec<StepReport>)> {
    let mut sizes = vec![train.features()];
    sizes.extend(&config.hidden);
    sizes.push(2);
    let parameters = initial_parameters(&sizes, config.init, rng);
    let mut net = Network::new(&parameters, config.activation, config.weight_decay, train, true);
    let mut test_net = Network::new(&parameters, config.activation, config.weight_decay, test, false);
    let mut sgd = Sgd::new(config.lr).with_momentum(config.momentum);
    let mut guard = DivergenceGuard::new();
    let mut reports = Vec::new();
    let mut log = |step: usize, net: &Network| {
        test_net.load_parameters(net);
        let (train_loss, train_accuracy) = net.loss_and_accuracy(train);
        let (test_loss, test_accuracy) = test_net.loss_and_accuracy(test);
        let report = StepReport { step, train_loss, train_accuracy, test_loss, test_accuracy };
        on_log(&report)?;
        reports.push(report);
        Ok::<(), dlcore::Error>(())
    };
    log(0, &net)?; // before any update: the loss of the initial weights
    for step in 1..=config.steps {
        net.graph.forward();
        guard.check(net.graph.scalar_value(net.objective), step, config.lr)?;
        net.graph.zero_grad();
        net.graph.backward(net.objective)?;
        sgd.step(&mut net.graph);
        progress();
        if step % config.log_every == 0 || step == config.steps {
            net.graph.forward(); // the loss after this step's update
            log(step, &net)?;
        }
    }
    Ok((net, reports))
}
// ANCHOR_END: train

/// The trained network's class probabilities on a `resolution × resolution` grid
/// over the rectangle, for drawing its decision regions.
pub fn probability_grid(
    trained: &Network,
    x_range: (f32, f32),
    y_range: (f32, f32),
    resolution: usize,
) -> ProbabilityGrid {
    let centres = ProbabilityGrid::centres(x_range, y_range, resolution);
    let points = Labeled::new(centres, vec![0; resolution * resolution]);
    let parameters: Vec<DMatrix<f32>> =
        trained.parameters.iter().map(|&p| trained.graph.value(p).clone()).collect();
    let grid_net = Network::new(&parameters, trained.activation, 0.0, &points, false);
    let probabilities = softmax(grid_net.graph.value(grid_net.logits));
    ProbabilityGrid { x_range, y_range, resolution, probabilities }
}

/// The data's bounding box, widened by `pad` on every side: the area to draw.
pub fn padded_bounds(x: &DMatrix<f32>, pad: f32) -> ((f32, f32), (f32, f32)) {
    let range = |row: usize| {
        let values = x.row(row);
        (values.min() - pad, values.max() + pad)
    };
    (range(0), range(1))
}
