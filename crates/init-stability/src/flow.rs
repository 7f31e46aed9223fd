//! Gradient flow through a deep MLP: how large is each layer's weight gradient
//! after one backward pass, for a given activation and initializer?
//!
//! The network is deliberately plain — `depth` hidden layers of `width` units, a
//! cross-entropy head, random inputs and random labels — so that the only things
//! that differ between two runs are the activation and the initial weights.

use dlcore::activation::Activation;
use dlcore::init::Init;
use dlcore::layer::Sequential;
use dlcore::loss::cross_entropy_with_logits;
use dlcore::{Error, Result, Rng};
use nalgebra::DMatrix;
use rand::Rng as _;

/// The deep network and the batch every gradient-flow experiment uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeepNet {
    /// Number of hidden layers.
    pub depth: usize,
    /// Units in every hidden layer (and features of the random input).
    pub width: usize,
    /// Output classes of the cross-entropy head.
    pub classes: usize,
    /// Examples in the one batch the backward pass sees.
    pub batch: usize,
}

/// The flags of the binaries that sweep the activation × initializer grid on a
/// deep network (`gradient-flow`, `activation-histograms`).
#[derive(Debug, Clone, clap::Args)]
pub struct GridArgs {
    /// Hidden layers.
    #[arg(long, default_value_t = DeepNet::CHAPTER.depth, value_parser = dlcore::cli::positive_usize)]
    pub depth: usize,
    /// Units per hidden layer (and input features).
    #[arg(long, default_value_t = DeepNet::CHAPTER.width, value_parser = dlcore::cli::positive_usize)]
    pub width: usize,
    /// Output classes (random labels).
    #[arg(long, default_value_t = DeepNet::CHAPTER.classes, value_parser = dlcore::cli::positive_usize)]
    pub classes: usize,
    /// Random examples in the batch.
    #[arg(long, default_value_t = DeepNet::CHAPTER.batch, value_parser = dlcore::cli::positive_usize)]
    pub batch_size: usize,
    /// Activations, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "sigmoid,tanh,relu")]
    pub activations: Vec<Activation>,
    /// Initializers, comma-separated: normal:<std>, uniform:<low>:<high>, xavier, kaiming, …
    #[arg(long, value_delimiter = ',', default_value = "normal:1,normal:0.01,xavier,kaiming")]
    pub inits: Vec<Init>,
}

impl GridArgs {
    /// The network the flags describe, once the lists are checked for repeats.
    pub fn net(&self) -> Result<DeepNet> {
        crate::distinct("activations", &self.activations)?;
        crate::distinct("inits", &self.inits)?;
        Ok(DeepNet { depth: self.depth, width: self.width, classes: self.classes, batch: self.batch_size })
    }
}

impl DeepNet {
    /// The chapter's network: 20 hidden layers of 100 units, 10 classes, a batch of 64.
    pub const CHAPTER: DeepNet = DeepNet { depth: 20, width: 100, classes: 10, batch: 64 };

    /// Layer sizes `width → width (depth times) → classes`.
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![self.width; self.depth + 1];
        sizes.push(self.classes);
        sizes
    }

    /// Number of dense layers: `depth` hidden ones and the output layer.
    pub fn dense_layers(&self) -> usize {
        self.depth + 1
    }

    /// `Err` naming the first size that cannot make a network.
    pub fn validate(&self) -> Result<()> {
        let least = [
            ("depth", self.depth, 1),
            ("width", self.width, 1),
            ("classes", self.classes, 2),
            ("batch size", self.batch, 1),
        ];
        if let Some((name, value, least)) = least.into_iter().find(|&(_, value, least)| value < least) {
            return Err(Error::invalid(name, value, format!("at least {least}")));
        }
        if self.classes > 256 {
            return Err(Error::invalid("classes", self.classes, "at most 256 (labels are bytes)"));
        }
        Ok(())
    }

    /// A batch of standard normal inputs (`width × batch`) and uniformly random labels:
    /// no data set is needed to see how gradients flow at initialization.
    pub fn random_batch(&self, rng: &mut Rng) -> (DMatrix<f32>, Vec<u8>) {
        let x = Init::Normal { std: 1.0 }.matrix(self.width, self.batch, rng);
        let labels = (0..self.batch).map(|_| rng.random_range(0..self.classes) as u8).collect();
        (x, labels)
    }
}

/// The Frobenius norm √(Σ m²), summed in `f64`: squares of gradients as small as
/// 1e-30 underflow `f32`, and those are exactly the ones this chapter looks at.
pub fn frobenius(m: &DMatrix<f32>) -> f64 {
    m.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>().sqrt()
}

/// The gradient norms of one (activation, initializer) pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    pub activation: Activation,
    pub init: Init,
    /// The cross-entropy at initialization.
    pub loss: f32,
    /// ‖∂L/∂W_l‖ for every dense layer, first (next to the input) to last (the output layer).
    pub norms: Vec<f64>,
}

impl Flow {
    /// ‖∂L/∂W₁‖ / ‖∂L/∂W_L‖: far below 1 when gradients vanish on their way back to
    /// the input, far above 1 when they explode.
    pub fn first_over_last(&self) -> f64 {
        self.norms.first().copied().unwrap_or(f64::NAN) / self.norms.last().copied().unwrap_or(f64::NAN)
    }

    /// The largest layer norm over the smallest: how many times the gradient's size
    /// changes across depth (1 when every layer gets the same).
    pub fn spread(&self) -> f64 {
        let max = self.norms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let min = self.norms.iter().copied().fold(f64::INFINITY, f64::min);
        max / min
    }
}

// ANCHOR: gradient_flow
/// Builds the deep network with `activation` and `init`, runs one forward and one
/// backward pass on `(x, labels)`, and returns the norm of every layer's weight
/// gradient. `rng` draws the weights.
pub fn gradient_flow(
    net: &DeepNet,
    activation: Activation,
    init: Init,
    x: &DMatrix<f32>,
    labels: &[u8],
    rng: &mut Rng,
) -> Flow {
    let mut model = Sequential::mlp(&net.sizes(), activation, init, rng);
    let (loss, grad) = cross_entropy_with_logits(model.forward(x), labels);
    model.zero_grad();
    model.backward(&grad);
    let norms = model.linear_layers().map(|layer| frobenius(&layer.grad_weight)).collect();
    Flow { activation, init, loss, norms }
}
// ANCHOR_END: gradient_flow

/// The chapter's grid of activations.
pub const ACTIVATIONS: [Activation; 3] = [Activation::Sigmoid, Activation::Tanh, Activation::Relu];

/// The chapter's grid of initializers: N(0, 1), N(0, 0.01²), Xavier (uniform, as in
/// the notes) and Kaiming (normal, as in the notes).
pub const INITS: [Init; 4] =
    [Init::Normal { std: 1.0 }, Init::Normal { std: 0.01 }, Init::XavierUniform, Init::KaimingNormal];

/// [`gradient_flow`] for every activation × initializer, all on one random batch.
/// Every network draws its weights from a generator in the same state, so two
/// initializers of the same family (N(0, 1) and N(0, 0.01²)) give weights that are
/// scaled copies of each other, and nothing but the scale differs.
pub fn grid(net: &DeepNet, activations: &[Activation], inits: &[Init], seed: u64) -> Result<Vec<Flow>> {
    let (x, labels, rng) = grid_start(net, seed)?;
    let mut flows = Vec::with_capacity(activations.len() * inits.len());
    for &activation in activations {
        for &init in inits {
            flows.push(gradient_flow(net, activation, init, &x, &labels, &mut rng.clone()));
        }
    }
    Ok(flows)
}

/// The random batch, and the weight generator every network of the grid is drawn
/// with (cloned, so each starts from the same state), for `seed`. The gradient-flow
/// and the histogram binaries both start here, so they look at the same networks.
pub fn grid_start(net: &DeepNet, seed: u64) -> Result<(DMatrix<f32>, Vec<u8>, Rng)> {
    net.validate()?;
    let mut rng = dlcore::seeded_rng(seed);
    let (x, labels) = net.random_batch(&mut rng);
    Ok((x, labels, rng))
}

/// A name for file names: `normal-0.01`, `xavier`, `kaiming`, …
pub fn init_slug(init: Init) -> String {
    init.to_string().replace(':', "-")
}

/// A short label for figures and tables: `N(0, 1)`, `N(0, 0.01²)`, `Xavier`, `Kaiming`, …
pub fn init_label(init: Init) -> String {
    match init {
        Init::Normal { std } => format!("N(0, {std}²)").replace("(0, 1²)", "(0, 1)"),
        Init::XavierUniform => "Xavier".into(),
        Init::XavierNormal => "Xavier (normal)".into(),
        Init::KaimingNormal => "Kaiming".into(),
        Init::KaimingUniform => "Kaiming (uniform)".into(),
        Init::Uniform { low, high } => format!("U({low}, {high})"),
        Init::Constant(c) => format!("constant {c}"),
    }
}

// ANCHOR: small_signal
/// How much one layer scales the size of a gradient on its way back, while the
/// signals are small (pre-activations near 0): √(n · Var[w]) from the weights, times
/// the activation's typical slope there — ¼ for the sigmoid, 1 for tanh, and for ReLU
/// √½, since half the units pass the gradient with slope 1 and half block it.
/// `width` is the number of units of a square layer.
pub fn small_signal_factor(activation: Activation, init: Init, width: usize) -> f64 {
    let n = width as f64;
    let weights = (n * f64::from(init.variance(width, width))).sqrt();
    let slope = match activation {
        Activation::Relu => 0.5f64.sqrt(),
        Activation::LeakyRelu(alpha) => ((1.0 + f64::from(alpha).powi(2)) / 2.0).sqrt(),
        other => f64::from(other.derivative(0.0)),
    };
    weights * slope
}
// ANCHOR_END: small_signal
