//! Activation functions and their derivatives.
//!
//! Every function is written once, as a scalar formula, and applied elementwise.
//! Derivatives are taken with respect to the pre-activation `z`, which is what a
//! layer caches in its forward pass. Each formula is arranged so that it neither
//! overflows nor produces NaN for inputs as large as ±1000.

use std::fmt;
use std::str::FromStr;

use nalgebra::DMatrix;

/// SELU's constants (Klambauer et al., 2017): chosen so that activations keep zero
/// mean and unit variance through many layers.
pub const SELU_ALPHA: f32 = 1.673_263_2;
/// See [`SELU_ALPHA`].
pub const SELU_SCALE: f32 = 1.050_701;

/// The nonlinearities of the book.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    Sigmoid,
    Tanh,
    Relu,
    /// `max(αz, z)` with a small slope `α` for negative inputs, so no unit dies.
    LeakyRelu(f32),
    Selu,
    Softplus,
}

// ANCHOR: sigmoid
/// σ(z) = 1 / (1 + e^(−z)), computed so that `exp` only ever sees a non-positive
/// argument and cannot overflow.
pub fn sigmoid(z: f32) -> f32 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// σ'(z) = σ(z)(1 − σ(z)), never more than 0.25 (reached at z = 0).
pub fn sigmoid_derivative(z: f32) -> f32 {
    let s = sigmoid(z);
    s * (1.0 - s)
}
// ANCHOR_END: sigmoid

/// softplus(z) = ln(1 + e^z) = max(z, 0) + ln(1 + e^(−|z|)): the second form stays
/// finite for large |z|.
pub fn softplus(z: f32) -> f32 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

impl Activation {
    /// Every activation, in the order the book presents them.
    pub const ALL: [Activation; 6] = [
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Relu,
        Activation::LeakyRelu(0.01),
        Activation::Selu,
        Activation::Softplus,
    ];

    // ANCHOR: value
    /// The activation's value at `z`.
    pub fn value(self, z: f32) -> f32 {
        match self {
            Activation::Sigmoid => sigmoid(z),
            Activation::Tanh => z.tanh(),
            Activation::Relu => z.max(0.0),
            Activation::LeakyRelu(alpha) => {
                if z > 0.0 {
                    z
                } else {
                    alpha * z
                }
            }
            Activation::Selu => {
                if z > 0.0 {
                    SELU_SCALE * z
                } else {
                    SELU_SCALE * SELU_ALPHA * z.exp_m1()
                }
            }
            Activation::Softplus => softplus(z),
        }
    }
    // ANCHOR_END: value

    // ANCHOR: derivative
    /// The derivative d value / dz at `z`. At ReLU's kink (z = 0) we use 0, as
    /// PyTorch does.
    pub fn derivative(self, z: f32) -> f32 {
        match self {
            Activation::Sigmoid => sigmoid_derivative(z),
            Activation::Tanh => {
                let t = z.tanh();
                1.0 - t * t
            }
            Activation::Relu => {
                if z > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::LeakyRelu(alpha) => {
                if z > 0.0 {
                    1.0
                } else {
                    alpha
                }
            }
            Activation::Selu => {
                if z > 0.0 {
                    SELU_SCALE
                } else {
                    SELU_SCALE * SELU_ALPHA * z.exp()
                }
            }
            // d/dz ln(1 + e^z) = e^z / (1 + e^z) = σ(z)
            Activation::Softplus => sigmoid(z),
        }
    }
    // ANCHOR_END: derivative

    /// Applies the activation to every entry of `z`, writing into `out` (same shape).
    pub fn forward_into(self, z: &DMatrix<f32>, out: &mut DMatrix<f32>) {
        out.zip_apply(z, |o, z| *o = self.value(z));
    }

    /// `a = φ(z)` as a new matrix.
    pub fn forward(self, z: &DMatrix<f32>) -> DMatrix<f32> {
        z.map(|v| self.value(v))
    }

    /// Chain rule through the activation, in place: `grad ← grad ⊙ φ'(z)`, where
    /// `grad` arrives as ∂L/∂a and leaves as ∂L/∂z.
    pub fn backward_in_place(self, z: &DMatrix<f32>, grad: &mut DMatrix<f32>) {
        grad.zip_apply(z, |g, z| *g *= self.derivative(z));
    }

    /// The name used on command lines and in figures.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::LeakyRelu(_) => "leaky-relu",
            Activation::Selu => "selu",
            Activation::Softplus => "softplus",
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Activation::LeakyRelu(alpha) if *alpha != 0.01 => write!(f, "leaky-relu:{alpha}"),
            other => f.write_str(other.name()),
        }
    }
}

impl FromStr for Activation {
    type Err = String;

    /// Parses `sigmoid`, `tanh`, `relu`, `leaky-relu` (slope 0.01) or
    /// `leaky-relu:<slope>`, `selu`, `softplus`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let expected = "expected one of sigmoid, tanh, relu, leaky-relu[:slope], selu, softplus";
        match s {
            "sigmoid" => Ok(Activation::Sigmoid),
            "tanh" => Ok(Activation::Tanh),
            "relu" => Ok(Activation::Relu),
            "leaky-relu" => Ok(Activation::LeakyRelu(0.01)),
            "selu" => Ok(Activation::Selu),
            "softplus" => Ok(Activation::Softplus),
            _ => match s.strip_prefix("leaky-relu:").map(str::parse::<f32>) {
                Some(Ok(alpha)) if alpha.is_finite() && (0.0..1.0).contains(&alpha) => {
                    Ok(Activation::LeakyRelu(alpha))
                }
                Some(_) => Err(format!("`{s}`: the leaky-relu slope must be in [0, 1)")),
                None => Err(format!("unknown activation `{s}`: {expected}")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::central_difference_scalar;
    use proptest::prelude::*;

    #[test]
    fn finite_at_plus_minus_1000() {
        for act in Activation::ALL {
            for z in [-1000.0f32, 1000.0, -88.8, 88.8, 0.0] {
                assert!(act.value(z).is_finite(), "{act}({z}) = {}", act.value(z));
                assert!(act.derivative(z).is_finite(), "{act}'({z}) = {}", act.derivative(z));
            }
        }
        assert_eq!(sigmoid(1000.0), 1.0);
        assert_eq!(sigmoid(-1000.0), 0.0);
        assert_eq!(softplus(1000.0), 1000.0);
        assert_eq!(softplus(-1000.0), 0.0);
    }

    #[test]
    fn known_values() {
        assert!((sigmoid(0.0) - 0.5).abs() < 1e-7);
        assert!((sigmoid_derivative(0.0) - 0.25).abs() < 1e-7);
        assert!((softplus(0.0) - std::f32::consts::LN_2).abs() < 1e-7);
        assert_eq!(Activation::Relu.value(-3.0), 0.0);
        assert_eq!(Activation::LeakyRelu(0.1).value(-3.0), -0.3);
        assert!((Activation::Selu.value(1.0) - SELU_SCALE).abs() < 1e-7);
        assert!((Activation::Selu.value(-1000.0) + SELU_SCALE * SELU_ALPHA).abs() < 1e-6);
    }

    #[test]
    fn sigmoid_derivative_never_exceeds_a_quarter() {
        for i in -2000..=2000 {
            let z = i as f32 * 0.01;
            assert!(sigmoid_derivative(z) <= 0.25);
        }
    }

    #[test]
    fn names_round_trip() {
        for act in Activation::ALL {
            assert_eq!(act.to_string().parse::<Activation>(), Ok(act));
        }
        assert_eq!("leaky-relu:0.2".parse::<Activation>(), Ok(Activation::LeakyRelu(0.2)));
        assert!("swish".parse::<Activation>().unwrap_err().contains("unknown activation"));
        assert!("leaky-relu:2".parse::<Activation>().is_err());
    }

    proptest! {
        /// Every derivative equals central finite differences of its value, away from
        /// the kinks of ReLU and LeakyReLU where the derivative is not defined.
        #[test]
        fn derivatives_match_finite_differences(z in -8.0f32..8.0, which in 0usize..6) {
            let act = Activation::ALL[which];
            let h = 1e-2;
            prop_assume!(z.abs() > 2.0 * h);
            let numeric = central_difference_scalar(|v| act.value(v), z, h);
            let analytic = act.derivative(z);
            prop_assert!((numeric - analytic).abs() <= 2e-3 * (1.0 + analytic.abs()),
                "{}'({}) analytic {} numeric {}", act, z, analytic, numeric);
        }

        #[test]
        fn matrix_backward_is_elementwise_chain_rule(vals in proptest::collection::vec(-5.0f32..5.0, 6), which in 0usize..6) {
            let act = Activation::ALL[which];
            let z = DMatrix::from_vec(2, 3, vals);
            let mut grad = DMatrix::from_element(2, 3, 2.0f32);
            act.backward_in_place(&z, &mut grad);
            for (g, &zv) in grad.iter().zip(z.iter()) {
                prop_assert_eq!(*g, 2.0 * act.derivative(zv));
            }
            let mut out = DMatrix::zeros(2, 3);
            act.forward_into(&z, &mut out);
            prop_assert_eq!(out, act.forward(&z));
        }
    }
}
