//! Central finite differences: the independent referee every analytic gradient in
//! the project is tested against.
//!
//! `(f(x + h) − f(x − h)) / 2h` has error O(h²), against O(h) for the one-sided
//! difference. In `f32`, rounding error grows like ε·|f|/h, so `h` around 1e-2 to
//! 1e-3 balances the two; differences are taken in `f64` to lose no more.

use nalgebra::DMatrix;

/// df/dx at `x` for a scalar function.
pub fn central_difference_scalar(f: impl Fn(f32) -> f32, x: f32, h: f32) -> f32 {
    ((f64::from(f(x + h)) - f64::from(f(x - h))) / (2.0 * f64::from(h))) as f32
}

/// The gradient of a scalar function of a matrix, one entry at a time.
pub fn numeric_gradient(mut f: impl FnMut(&DMatrix<f32>) -> f32, x: &DMatrix<f32>, h: f32) -> DMatrix<f32> {
    let mut probe = x.clone();
    let mut grad = DMatrix::zeros(x.nrows(), x.ncols());
    for i in 0..x.len() {
        let original = probe[i];
        probe[i] = original + h;
        let plus = f64::from(f(&probe));
        probe[i] = original - h;
        let minus = f64::from(f(&probe));
        probe[i] = original;
        grad[i] = ((plus - minus) / (2.0 * f64::from(h))) as f32;
    }
    grad
}

/// The largest entrywise disagreement, relative to the size of the entries:
/// `max |a − b| / (1 + max(|a|, |b|))`. Near zero it is an absolute error, for large
/// entries a relative one.
pub fn max_relative_error(analytic: &DMatrix<f32>, numeric: &DMatrix<f32>) -> f32 {
    assert_eq!(analytic.shape(), numeric.shape(), "gradients of different shapes");
    analytic
        .iter()
        .zip(numeric.iter())
        .map(|(a, n)| (a - n).abs() / (1.0 + a.abs().max(n.abs())))
        .fold(0.0, f32::max)
}

/// `Ok` when the analytic gradient agrees with finite differences within `tolerance`
/// (as measured by [`max_relative_error`]); otherwise a message with both matrices.
pub fn check(analytic: &DMatrix<f32>, numeric: &DMatrix<f32>, tolerance: f32) -> Result<(), String> {
    let err = max_relative_error(analytic, numeric);
    if err <= tolerance {
        Ok(())
    } else {
        Err(format!(
            "gradient check failed: error {err:.3e} > {tolerance:.1e}\nanalytic {analytic}numeric {numeric}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_known_gradients_and_catches_wrong_ones() {
        let x = DMatrix::from_row_slice(2, 2, &[1.0, -2.0, 0.5, 3.0]);
        // f = Σ x³ has gradient 3x².
        let f = |m: &DMatrix<f32>| m.iter().map(|v| v * v * v).sum::<f32>();
        let numeric = numeric_gradient(f, &x, 1e-2);
        let right = x.map(|v| 3.0 * v * v);
        assert!(check(&right, &numeric, 1e-3).is_ok());
        let wrong = x.map(|v| 2.0 * v * v);
        assert!(check(&wrong, &numeric, 1e-3).is_err());
        assert!((central_difference_scalar(f32::sin, 0.3, 1e-2) - 0.3f32.cos()).abs() < 1e-4);
    }
}
