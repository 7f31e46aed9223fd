//! Inverted dropout: during training every unit h is replaced by h' = ξ·h/(1 − p),
//! where ξ is 0 with probability p and 1 otherwise, independently for every unit of
//! every example. Since E[ξ] = 1 − p, E[h'] = h: the layer after it sees inputs of
//! the same expected size as without dropout, so nothing has to be rescaled at test
//! time, when dropout is simply switched off.

use dlcore::{Error, Result, Rng};
use nalgebra::DMatrix;
use rand::Rng as _;

/// Whether a network is training (dropout active) or being evaluated (dropout off).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Train,
    Eval,
}

/// An inverted-dropout layer with drop probability p. It keeps the mask of its last
/// training forward pass, already scaled (entries 0 or 1/(1 − p)), for the backward
/// pass.
#[derive(Debug, Clone)]
pub struct Dropout {
    p: f32,
    pub mode: Mode,
    mask: DMatrix<f32>,
    output: DMatrix<f32>,
    grad_input: DMatrix<f32>,
}

impl Dropout {
    /// A dropout layer in training mode. `p` must be in [0, 1): p = 1 would drop every
    /// unit and divide the survivors (there are none) by zero.
    pub fn new(p: f32) -> Result<Self> {
        if !(0.0..1.0).contains(&p) {
            return Err(Error::invalid(
                "dropout probability",
                p,
                "must be in [0, 1): at 1 every unit is dropped and 1/(1 − p) is infinite",
            ));
        }
        let empty = || DMatrix::zeros(0, 0);
        Ok(Dropout { p, mode: Mode::Train, mask: empty(), output: empty(), grad_input: empty() })
    }

    /// The drop probability.
    pub fn p(&self) -> f32 {
        self.p
    }

    /// Whether the layer changes anything: only while training, with p > 0.
    fn active(&self) -> bool {
        self.mode == Mode::Train && self.p > 0.0
    }

    // ANCHOR: forward
    /// In training mode, h' = ξ ⊙ h / (1 − p) with a fresh mask ξ drawn from `rng`;
    /// in evaluation mode (or with p = 0) the input itself, untouched and uncopied.
    pub fn forward<'a>(&'a mut self, h: &'a DMatrix<f32>, rng: &mut Rng) -> &'a DMatrix<f32> {
        if !self.active() {
            return h;
        }
        let (p, scale) = (self.p, 1.0 / (1.0 - self.p));
        resize(&mut self.mask, h.shape());
        // Keep a unit when a uniform draw in [0, 1) lands at or above p: probability 1 − p.
        self.mask.apply(|m| *m = if rng.random::<f32>() < p { 0.0 } else { scale });
        resize(&mut self.output, h.shape());
        self.output.zip_zip_apply(h, &self.mask, |out, h, m| *out = h * m);
        &self.output
    }
    // ANCHOR_END: forward

    // ANCHOR: backward
    /// ∂L/∂h = ∂L/∂h' ⊙ ξ/(1 − p): a dropped unit passes no gradient back, a kept one
    /// its gradient scaled like its value. The identity when the layer is inactive.
    pub fn backward<'a>(&'a mut self, grad_output: &'a DMatrix<f32>) -> &'a DMatrix<f32> {
        if !self.active() {
            return grad_output;
        }
        assert_eq!(
            grad_output.shape(),
            self.mask.shape(),
            "backward needs a training forward pass of the same batch"
        );
        resize(&mut self.grad_input, grad_output.shape());
        self.grad_input.zip_zip_apply(grad_output, &self.mask, |g, d, m| *g = d * m);
        &self.grad_input
    }
    // ANCHOR_END: backward
}

/// Makes `buffer` the given shape, allocating only when it changes.
fn resize(buffer: &mut DMatrix<f32>, shape: (usize, usize)) {
    if buffer.shape() != shape {
        *buffer = DMatrix::zeros(shape.0, shape.1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dlcore::gradcheck::{check, numeric_gradient};
    use dlcore::init::Init;
    use dlcore::seeded_rng;
    use proptest::prelude::*;

    /// The statistical test of the expectation: for each p, the mean of N masked
    /// copies of an input is within 5 standard errors of the input, entry by entry.
    /// One entry's h'/h is (1/(1 − p))·Bernoulli(1 − p), with standard deviation
    /// √(p/(1 − p)); the mean of N has standard error √(p/((1 − p)N)). At 5 standard
    /// errors a correct layer fails with probability below 1e-6 per entry, while a
    /// layer that forgot to rescale is off by p·h, hundreds of standard errors.
    #[test]
    fn the_mean_of_many_masks_converges_to_the_input() {
        let input = DMatrix::from_row_slice(2, 3, &[1.0, -2.0, 0.5, 3.0, 0.0, -0.25]);
        let draws = 20_000;
        for p in [0.1f32, 0.5, 0.8] {
            let mut layer = Dropout::new(p).unwrap();
            let mut rng = seeded_rng(11);
            let mut sum = DMatrix::<f64>::zeros(2, 3);
            let mut zeros = 0usize;
            for _ in 0..draws {
                let out = layer.forward(&input, &mut rng);
                zeros += out.iter().zip(input.iter()).filter(|(o, i)| **o == 0.0 && **i != 0.0).count();
                sum += out.map(f64::from);
            }
            let standard_error = (f64::from(p) / (1.0 - f64::from(p)) / f64::from(draws)).sqrt();
            for (mean, &h) in (sum / f64::from(draws)).iter().zip(input.iter()) {
                let tolerance = 5.0 * standard_error * f64::from(h.abs());
                assert!((mean - f64::from(h)).abs() <= tolerance, "p = {p}: mean {mean} for input {h}");
            }
            // And about a fraction p of the non-zero units was dropped.
            let dropped = zeros as f64 / f64::from(5 * draws);
            assert!((dropped - f64::from(p)).abs() < 0.01, "p = {p}: dropped {dropped}");
        }
    }

    #[test]
    fn p_zero_is_the_identity() {
        let x = Init::Normal { std: 1.0 }.matrix(4, 7, &mut seeded_rng(0));
        let mut layer = Dropout::new(0.0).unwrap();
        assert_eq!(layer.forward(&x, &mut seeded_rng(1)), &x);
        assert_eq!(layer.backward(&x), &x);
    }

    #[test]
    fn p_of_one_or_more_and_nan_are_rejected() {
        for p in [1.0, 1.5, -0.1, f32::NAN] {
            let error = Dropout::new(p).unwrap_err();
            assert!(error.to_string().contains("dropout probability"), "{error}");
        }
        assert!(Dropout::new(0.999).is_ok());
    }

    #[test]
    fn evaluation_mode_is_the_identity() {
        let x = Init::Normal { std: 1.0 }.matrix(5, 3, &mut seeded_rng(2));
        let mut layer = Dropout::new(0.5).unwrap();
        layer.mode = Mode::Eval;
        let mut rng = seeded_rng(3);
        let untouched = rng.clone();
        assert_eq!(layer.forward(&x, &mut rng), &x);
        assert_eq!(rng, untouched, "evaluation draws no random numbers");
        // Back in training mode, about half the units are dropped and the rest doubled.
        layer.mode = Mode::Train;
        let out = layer.forward(&x, &mut rng).clone();
        for (o, i) in out.iter().zip(x.iter()) {
            assert!(*o == 0.0 || (o - 2.0 * i).abs() < 1e-6);
        }
    }

    proptest! {
        /// With the mask held fixed (the same seed each time), dropout is linear in
        /// h, and its backward pass is that linear map's gradient.
        #[test]
        fn backward_matches_finite_differences(seed in 0u64..10_000, p in 0.0f32..0.9, rows in 1usize..5, cols in 1usize..4) {
            let mut rng = seeded_rng(seed);
            let x = Init::Uniform { low: -1.0, high: 1.0 }.matrix(rows, cols, &mut rng);
            let c = Init::Uniform { low: -1.0, high: 1.0 }.matrix(rows, cols, &mut rng);
            let mut layer = Dropout::new(p).unwrap();
            layer.forward(&x, &mut seeded_rng(seed + 1));
            let analytic = layer.backward(&c).clone();
            let numeric = numeric_gradient(
                |x| layer.clone().forward(x, &mut seeded_rng(seed + 1)).component_mul(&c).sum(),
                &x,
                1e-2,
            );
            prop_assert!(check(&analytic, &numeric, 2e-3).is_ok());
        }
    }
}
