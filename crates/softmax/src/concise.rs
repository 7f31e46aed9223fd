//! The same model from `dlcore`'s parts: a [`Linear`] layer, the library's
//! cross-entropy and its [`Sgd`] optimizer. What took a module by hand in
//! [`crate::scratch`] is a few calls here.

use dlcore::Rng;
use dlcore::init::Init;
use dlcore::layer::Linear;
use dlcore::optim::Sgd;
use nalgebra::DMatrix;

use crate::train::Classifier;

// ANCHOR: model
/// Softmax regression as a `dlcore` network: one dense layer and plain SGD. The
/// softmax itself lives inside the loss (`dlcore::loss::cross_entropy_with_logits`),
/// as in PyTorch's `CrossEntropyLoss`, so the layer outputs logits.
#[derive(Debug, Clone)]
pub struct ConciseSoftmax {
    pub layer: Linear,
    pub sgd: Sgd,
}

impl ConciseSoftmax {
    /// A `inputs → classes` layer with N(0, `weight_std`²) weights and zero biases.
    pub fn new(inputs: usize, classes: usize, weight_std: f32, lr: f32, rng: &mut Rng) -> Self {
        ConciseSoftmax {
            layer: Linear::new(inputs, classes, Init::Normal { std: weight_std }, rng),
            sgd: Sgd::new(lr),
        }
    }
}

impl Classifier for ConciseSoftmax {
    fn forward(&mut self, x: &DMatrix<f32>) -> &DMatrix<f32> {
        self.layer.forward(x)
    }

    /// The layer caches its input in `forward`, so `x` is not needed again here.
    fn sgd_step(&mut self, _x: &DMatrix<f32>, grad_logits: &DMatrix<f32>) {
        self.layer.zero_grad();
        self.layer.backward(grad_logits);
        self.sgd.step(&mut self.layer);
    }

    fn parameters(&self) -> [(&'static str, &DMatrix<f32>); 4] {
        let layer = &self.layer;
        [
            ("weight", &layer.weight),
            ("bias", &layer.bias),
            ("weight_grad", &layer.grad_weight),
            ("bias_grad", &layer.grad_bias),
        ]
    }
}
// ANCHOR_END: model
