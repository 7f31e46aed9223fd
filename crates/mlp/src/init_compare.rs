//! The notes' initialization experiment: a 784-200-200-10 ReLU network on MNIST,
//! plain SGD at learning rate 0.01, batch 200, ten epochs, its weights drawn from
//! N(0, 1) or by Kaiming's rule, and, as in the notes, with or without a ReLU on
//! the output logits. Two separate effects hide in the notes' result:
//!
//! - **N(0, 1) is far too wide.** A unit's pre-activation is a sum of 784
//!   pixel·weight products, with a standard deviation of ‖x‖ ≈ 9 for an MNIST
//!   image; each further layer of 200 ReLU units multiplies it by about
//!   √(200/2) = 10, so the logits start near a thousand (the binary measures it).
//!   The softmax is then certain of one class for every image, the loss is huge,
//!   and SGD can make the network accurate but not calibrated.
//! - **A ReLU on the logits can kill output units.** Cross-entropy pushes the
//!   logits of wrong classes down; once a unit's logit is negative for every image,
//!   the ReLU outputs 0 and passes back no gradient, so the unit never recovers.
//!   When all ten die the network outputs ten zeros for every image, predicts
//!   class 0 (the first of ten equal scores) and scores exactly the share of zeros
//!   in the test set.

use dlcore::activation::Activation;
use dlcore::init::Init;

use crate::Config;

/// One arm of the experiment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Variant {
    /// A short name for legends and tables.
    pub name: &'static str,
    pub init: Init,
    /// `Some(Activation::Relu)` for the notes' ReLU on the logits.
    pub output_activation: Option<Activation>,
}

// ANCHOR: variants
/// The four combinations the chapter compares.
pub const VARIANTS: [Variant; 4] = [
    Variant { name: "N(0,1), plain logits", init: Init::Normal { std: 1.0 }, output_activation: None },
    Variant { name: "Kaiming, plain logits", init: Init::KaimingNormal, output_activation: None },
    Variant {
        name: "N(0,1), ReLU on logits",
        init: Init::Normal { std: 1.0 },
        output_activation: Some(Activation::Relu),
    },
    Variant {
        name: "Kaiming, ReLU on logits",
        init: Init::KaimingNormal,
        output_activation: Some(Activation::Relu),
    },
];
// ANCHOR_END: variants

/// The notes' training setup for one variant: 784-200-200-10 with ReLU, plain SGD.
pub fn config(variant: &Variant, lr: f32, batch_size: usize, epochs: usize) -> Config {
    Config {
        hidden: vec![200, 200],
        activation: Activation::Relu,
        output_activation: variant.output_activation,
        init: variant.init,
        lr,
        momentum: 0.0,
        weight_decay: 0.0,
        lr_schedule: None,
        batch_size,
        epochs,
    }
}

/// The standard deviation of the logits (before any output activation) of a
/// freshly built network on the inputs `x`: how far from "unsure of every class"
/// the initialization starts.
pub fn initial_logit_std(config: &Config, x: &nalgebra::DMatrix<f32>, classes: usize, seed: u64) -> f32 {
    let plain = Config { output_activation: None, ..config.clone() };
    // `train` draws the weights first from a generator seeded the same way, so this
    // is the very network a run with `seed` starts from.
    let mut net = crate::build(&plain, x.nrows(), classes, &mut dlcore::seeded_rng(seed));
    let logits = net.forward(x);
    let n = logits.len().max(1) as f64;
    let mean = logits.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = logits.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / n;
    var.sqrt() as f32
}
