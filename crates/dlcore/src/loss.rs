//! Losses, each returning its value and its gradient with respect to its input.
//!
//! Inputs hold one example per column. A loss is averaged over the examples of a
//! batch, so its gradient carries a factor 1/n: the learning rate then means the
//! same thing whatever the batch size.

use nalgebra::{DMatrix, DVector};

// ANCHOR: squared
/// Squared loss ½(ŷ − y)², summed over the outputs of an example and averaged over
/// the examples (columns). Returns the value and writes ∂L/∂ŷ = (ŷ − y)/n to `grad`.
pub fn squared_into(y_hat: &DMatrix<f32>, y: &DMatrix<f32>, grad: &mut DMatrix<f32>) -> f32 {
    assert_eq!(y_hat.shape(), y.shape(), "prediction and target shapes differ");
    let n = y_hat.ncols() as f32;
    let mut total = 0.0f64;
    grad.zip_zip_apply(y_hat, y, |g, p, t| {
        let d = p - t;
        total += f64::from(0.5 * d * d);
        *g = d / n;
    });
    (total / f64::from(n)) as f32
}
// ANCHOR_END: squared

/// [`squared_into`], allocating the gradient.
pub fn squared(y_hat: &DMatrix<f32>, y: &DMatrix<f32>) -> (f32, DMatrix<f32>) {
    let mut grad = DMatrix::zeros(y_hat.nrows(), y_hat.ncols());
    let value = squared_into(y_hat, y, &mut grad);
    (value, grad)
}

/// Mean squared error: (ŷ − y)² averaged over every entry, PyTorch's `MSELoss`.
/// Its gradient is 2(ŷ − y)/(number of entries).
pub fn mse(y_hat: &DMatrix<f32>, y: &DMatrix<f32>) -> (f32, DMatrix<f32>) {
    assert_eq!(y_hat.shape(), y.shape(), "prediction and target shapes differ");
    let count = y_hat.len() as f32;
    let diff = y_hat - y;
    let value = diff.iter().map(|d| f64::from(d * d)).sum::<f64>() / f64::from(count);
    (value as f32, diff * (2.0 / count))
}

// ANCHOR: softmax
/// Softmax of each column: p_i = e^(z_i − m) / Σ_j e^(z_j − m) with m = max_j z_j.
/// Subtracting the maximum changes nothing mathematically and keeps every `exp`
/// at most 1, so logits of 1000 do not overflow.
pub fn softmax_into(logits: &DMatrix<f32>, probs: &mut DMatrix<f32>) {
    for (z, mut p) in logits.column_iter().zip(probs.column_iter_mut()) {
        let m = z.max();
        let mut sum = 0.0;
        for (pi, &zi) in p.iter_mut().zip(z.iter()) {
            *pi = (zi - m).exp();
            sum += *pi;
        }
        p /= sum;
    }
}
// ANCHOR_END: softmax

/// [`softmax_into`], allocating the result.
pub fn softmax(logits: &DMatrix<f32>) -> DMatrix<f32> {
    let mut probs = DMatrix::zeros(logits.nrows(), logits.ncols());
    softmax_into(logits, &mut probs);
    probs
}

/// The Jacobian of softmax at probabilities `p`: ∂p_i/∂z_j = p_i(δ_ij − p_j).
pub fn softmax_jacobian(p: &DVector<f32>) -> DMatrix<f32> {
    DMatrix::from_diagonal(p) - p * p.transpose()
}

/// Backward through softmax (the Jacobian applied column by column, never built):
/// given ∂L/∂p, returns ∂L/∂z = p ⊙ (∂L/∂p − ⟨p, ∂L/∂p⟩).
pub fn softmax_backward(probs: &DMatrix<f32>, grad_probs: &DMatrix<f32>) -> DMatrix<f32> {
    let mut grad = grad_probs.clone();
    for (mut g, p) in grad.column_iter_mut().zip(probs.column_iter()) {
        let dot = g.dot(&p);
        g.add_scalar_mut(-dot);
        g.component_mul_assign(&p);
    }
    grad
}

// ANCHOR: log_softmax
/// log-softmax of each column: z_i − logsumexp(z), where
/// logsumexp(z) = m + ln Σ_j e^(z_j − m) is computed without overflow.
pub fn log_softmax(logits: &DMatrix<f32>) -> DMatrix<f32> {
    let mut out = logits.clone();
    for mut z in out.column_iter_mut() {
        let m = z.max();
        let lse = m + z.iter().map(|&v| (v - m).exp()).sum::<f32>().ln();
        z.add_scalar_mut(-lse);
    }
    out
}
// ANCHOR_END: log_softmax

/// Backward through log-softmax: ∂L/∂z = g − softmax(z) · Σ_i g_i, per column.
pub fn log_softmax_backward(log_probs: &DMatrix<f32>, grad_log_probs: &DMatrix<f32>) -> DMatrix<f32> {
    let mut grad = grad_log_probs.clone();
    for (mut g, lp) in grad.column_iter_mut().zip(log_probs.column_iter()) {
        let total = g.sum();
        g.zip_apply(&lp, |gi, lpi| *gi -= lpi.exp() * total);
    }
    grad
}

/// Negative log-likelihood of the true classes, averaged over examples:
/// −(1/n) Σ_k log p_{y_k}. The gradient is −1/n at each true class and 0 elsewhere.
pub fn nll(log_probs: &DMatrix<f32>, labels: &[u8]) -> (f32, DMatrix<f32>) {
    assert_eq!(log_probs.ncols(), labels.len(), "one label per column");
    let n = labels.len() as f32;
    let mut grad = DMatrix::zeros(log_probs.nrows(), log_probs.ncols());
    let mut total = 0.0f64;
    for (k, &y) in labels.iter().enumerate() {
        total -= f64::from(log_probs[(usize::from(y), k)]);
        grad[(usize::from(y), k)] = -1.0 / n;
    }
    ((total / f64::from(n)) as f32, grad)
}

// ANCHOR: cross_entropy
/// Cross-entropy of softmax(logits) against the labels, averaged over the batch,
/// computed from the logits in one pass: for each column,
/// ℓ = logsumexp(z) − z_y, and ∂ℓ/∂z = softmax(z) − onehot(y).
/// Never forms log(0), so logits of any size give a finite loss. Writes ∂L/∂z
/// (already divided by n) to `grad`, which must have the logits' shape.
pub fn cross_entropy_with_logits_into(logits: &DMatrix<f32>, labels: &[u8], grad: &mut DMatrix<f32>) -> f32 {
    assert_eq!(logits.ncols(), labels.len(), "one label per column");
    let n = labels.len() as f32;
    let mut total = 0.0f64;
    for ((z, mut g), &y) in logits.column_iter().zip(grad.column_iter_mut()).zip(labels) {
        let m = z.max();
        let mut sum = 0.0f32;
        for (gi, &zi) in g.iter_mut().zip(z.iter()) {
            *gi = (zi - m).exp();
            sum += *gi;
        }
        let y = usize::from(y);
        total += f64::from(m + sum.ln() - z[y]);
        g /= sum * n;
        g[y] -= 1.0 / n;
    }
    (total / f64::from(n)) as f32
}
// ANCHOR_END: cross_entropy

/// [`cross_entropy_with_logits_into`], allocating the gradient.
pub fn cross_entropy_with_logits(logits: &DMatrix<f32>, labels: &[u8]) -> (f32, DMatrix<f32>) {
    let mut grad = DMatrix::zeros(logits.nrows(), logits.ncols());
    let value = cross_entropy_with_logits_into(logits, labels, &mut grad);
    (value, grad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{check, numeric_gradient};
    use proptest::prelude::*;

    const H: f32 = 1e-2;
    const TOL: f32 = 2e-3;

    fn matrix(rows: usize, cols: usize, range: f32) -> impl Strategy<Value = DMatrix<f32>> {
        proptest::collection::vec(-range..range, rows * cols)
            .prop_map(move |v| DMatrix::from_vec(rows, cols, v))
    }

    fn labeled_logits() -> impl Strategy<Value = (DMatrix<f32>, Vec<u8>)> {
        (2usize..6, 1usize..5).prop_flat_map(|(classes, n)| {
            (matrix(classes, n, 4.0), proptest::collection::vec(0..classes as u8, n))
        })
    }

    #[test]
    fn softmax_worked_example_from_the_notes() {
        let a = DMatrix::from_column_slice(3, 1, &[0.8241, 0.0593, -0.1058]);
        let p = softmax(&a);
        for (got, want) in p.iter().zip([0.5376, 0.2502, 0.2122]) {
            assert!((got - want).abs() < 1e-4, "p = {p}");
        }
        let jac = softmax_jacobian(&p.column(0).into_owned());
        for (got, want) in jac.row(0).iter().zip([0.2486, -0.1345, -0.1141]) {
            assert!((got - want).abs() < 1e-4, "row 0 of J = {}", jac.row(0));
        }
        // ∂p_1/∂a: the derivative of the second probability with respect to each input.
        for (got, want) in jac.row(1).iter().zip([-0.1345, 0.1876, -0.0531]) {
            assert!((got - want).abs() < 1e-4, "row 1 of J = {}", jac.row(1));
        }
    }

    #[test]
    fn huge_logits_stay_finite() {
        let logits = DMatrix::from_column_slice(3, 2, &[1000.0, 1000.0, -1000.0, -1000.0, 0.0, 1000.0]);
        let (value, grad) = cross_entropy_with_logits(&logits, &[0, 1]);
        assert!(value.is_finite(), "loss {value}");
        assert!(grad.iter().all(|g| g.is_finite()));
        // Column 1's true class has logit 0 against 1000: the loss is about 1000.
        assert!((value - (2f32.ln() + 1000.0) / 2.0).abs() < 1e-2, "loss {value}");
        assert!(softmax(&logits).iter().all(|p| p.is_finite()));
        assert!(log_softmax(&logits).iter().all(|p| p.is_finite()));
    }

    #[test]
    fn squared_loss_value_by_hand() {
        let y_hat = DMatrix::from_row_slice(1, 2, &[3.0, 1.0]);
        let y = DMatrix::from_row_slice(1, 2, &[1.0, 1.0]);
        let (value, grad) = squared(&y_hat, &y);
        assert_eq!(value, 1.0); // (½·4 + 0) / 2
        assert_eq!(grad, DMatrix::from_row_slice(1, 2, &[1.0, 0.0]));
        let (mse_value, _) = mse(&y_hat, &y);
        assert_eq!(mse_value, 2.0);
    }

    proptest! {
        #[test]
        fn softmax_columns_are_distributions(z in matrix(4, 3, 50.0)) {
            let p = softmax(&z);
            for col in p.column_iter() {
                prop_assert!((col.sum() - 1.0).abs() < 1e-5);
                prop_assert!(col.iter().all(|&v| (0.0..=1.0).contains(&v)));
            }
        }

        #[test]
        fn squared_gradient_matches_finite_differences(y_hat in matrix(2, 3, 3.0), y in matrix(2, 3, 3.0)) {
            let (_, grad) = squared(&y_hat, &y);
            let numeric = numeric_gradient(|m| squared(m, &y).0, &y_hat, H);
            prop_assert!(check(&grad, &numeric, TOL).is_ok(), "{}", check(&grad, &numeric, TOL).unwrap_err());
        }

        #[test]
        fn mse_gradient_matches_finite_differences(y_hat in matrix(2, 3, 3.0), y in matrix(2, 3, 3.0)) {
            let (_, grad) = mse(&y_hat, &y);
            let numeric = numeric_gradient(|m| mse(m, &y).0, &y_hat, H);
            prop_assert!(check(&grad, &numeric, TOL).is_ok(), "{}", check(&grad, &numeric, TOL).unwrap_err());
        }

        /// Softmax is vector-valued, so check its backward pass through a random
        /// linear functional L = Σ c ⊙ softmax(z), whose gradient is the Jacobian
        /// transposed times c.
        #[test]
        fn softmax_backward_matches_finite_differences(z in matrix(4, 2, 4.0), c in matrix(4, 2, 2.0)) {
            let grad = softmax_backward(&softmax(&z), &c);
            let numeric = numeric_gradient(|m| softmax(m).component_mul(&c).sum(), &z, H);
            prop_assert!(check(&grad, &numeric, TOL).is_ok(), "{}", check(&grad, &numeric, TOL).unwrap_err());
            // The explicit Jacobian agrees with the backward pass.
            let p = softmax(&z).column(0).into_owned();
            let via_jacobian = softmax_jacobian(&p).transpose() * c.column(0);
            for (a, b) in via_jacobian.iter().zip(grad.column(0).iter()) {
                prop_assert!((a - b).abs() < 1e-5);
            }
        }

        #[test]
        fn log_softmax_backward_matches_finite_differences(z in matrix(4, 2, 4.0), c in matrix(4, 2, 2.0)) {
            let grad = log_softmax_backward(&log_softmax(&z), &c);
            let numeric = numeric_gradient(|m| log_softmax(m).component_mul(&c).sum(), &z, H);
            prop_assert!(check(&grad, &numeric, TOL).is_ok(), "{}", check(&grad, &numeric, TOL).unwrap_err());
        }

        #[test]
        fn nll_gradient_matches_finite_differences((z, labels) in labeled_logits()) {
            let (_, grad) = nll(&z, &labels);
            let numeric = numeric_gradient(|m| nll(m, &labels).0, &z, H);
            prop_assert!(check(&grad, &numeric, TOL).is_ok(), "{}", check(&grad, &numeric, TOL).unwrap_err());
        }

        #[test]
        fn cross_entropy_gradient_matches_finite_differences((z, labels) in labeled_logits()) {
            let (_, grad) = cross_entropy_with_logits(&z, &labels);
            let numeric = numeric_gradient(|m| cross_entropy_with_logits(m, &labels).0, &z, H);
            prop_assert!(check(&grad, &numeric, TOL).is_ok(), "{}", check(&grad, &numeric, TOL).unwrap_err());
        }

        #[test]
        fn cross_entropy_equals_nll_of_log_softmax((z, labels) in labeled_logits()) {
            let (ce, ce_grad) = cross_entropy_with_logits(&z, &labels);
            let log_probs = log_softmax(&z);
            let (nll_value, nll_grad) = nll(&log_probs, &labels);
            prop_assert!((ce - nll_value).abs() < 1e-5 * (1.0 + ce.abs()));
            // And the chain rule through the two pieces gives the fused gradient.
            let chained = log_softmax_backward(&log_probs, &nll_grad);
            prop_assert!(check(&ce_grad, &chained, 1e-5).is_ok());
        }
    }
}
