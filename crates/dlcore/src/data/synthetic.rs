//! Synthetic data sets whose true parameters are known, so a learner can check
//! what training recovers.

use nalgebra::DMatrix;
use rand_distr::{Distribution, StandardNormal};

use super::Dataset;
use crate::Rng;

fn standard_normal(rows: usize, cols: usize, rng: &mut Rng) -> DMatrix<f32> {
    DMatrix::from_fn(rows, cols, |_, _| StandardNormal.sample(rng))
}

// ANCHOR: linear
/// y = wᵀx + b + ε with x ~ N(0, I) and ε ~ N(0, σ²): `examples` columns of
/// `w.len()` features each, and a 1 × `examples` row of targets.
pub fn linear(w: &[f32], b: f32, noise_std: f32, examples: usize, rng: &mut Rng) -> Dataset {
    let x = standard_normal(w.len(), examples, rng);
    let weights = DMatrix::from_row_slice(1, w.len(), w);
    let mut y = weights * &x;
    for v in y.iter_mut() {
        let noise: f32 = StandardNormal.sample(rng);
        *v += b + noise_std * noise;
    }
    Dataset::new(x, y)
}
// ANCHOR_END: linear

/// y = b + Σ_i c_i·xⁱ + ε with scalar x ~ N(0, 1) and ε ~ N(0, σ²), where
/// `coefficients[i]` multiplies x^(i+1). Returns x itself (1 × examples); the
/// chapter chooses which powers to use as features.
pub fn polynomial(coefficients: &[f32], b: f32, noise_std: f32, examples: usize, rng: &mut Rng) -> Dataset {
    let x = standard_normal(1, examples, rng);
    let y = DMatrix::from_fn(1, examples, |_, j| {
        let noise: f32 = StandardNormal.sample(rng);
        let xj = x[(0, j)];
        let mut power = 1.0;
        let mut sum = b;
        for c in coefficients {
            power *= xj;
            sum += c * power;
        }
        sum + noise_std * noise
    });
    Dataset::new(x, y)
}

/// The features x, x², …, x^degree of a 1 × n row of inputs, as a degree × n matrix.
pub fn powers(x: &DMatrix<f32>, degree: usize) -> DMatrix<f32> {
    DMatrix::from_fn(degree, x.ncols(), |i, j| x[(0, j)].powi(i as i32 + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seeded_rng;

    #[test]
    fn linear_data_follow_their_model() {
        let data = linear(&[2.0, -3.4], 4.2, 0.01, 1000, &mut seeded_rng(0));
        assert_eq!((data.x.shape(), data.y.shape()), ((2, 1000), (1, 1000)));
        let residual = &data.y - DMatrix::from_row_slice(1, 2, &[2.0, -3.4]) * &data.x;
        let mean = residual.mean();
        let std = (residual.map(|r| (r - mean) * (r - mean)).mean()).sqrt();
        assert!((mean - 4.2).abs() < 0.002, "mean residual {mean}");
        assert!((std - 0.01).abs() < 0.001, "noise std {std}");
    }

    #[test]
    fn polynomial_data_follow_their_model() {
        let data = polynomial(&[1.2, -3.4, 5.6], 5.0, 0.0, 50, &mut seeded_rng(1));
        for j in 0..50 {
            let x = data.x[(0, j)];
            let expected = 5.0 + 1.2 * x - 3.4 * x * x + 5.6 * x * x * x;
            assert!((data.y[(0, j)] - expected).abs() < 1e-3 * (1.0 + expected.abs()));
        }
        let p = powers(&DMatrix::from_row_slice(1, 2, &[2.0, -1.0]), 3);
        assert_eq!(p, DMatrix::from_column_slice(3, 2, &[2.0, 4.0, 8.0, -1.0, 1.0, -1.0]));
    }
}
