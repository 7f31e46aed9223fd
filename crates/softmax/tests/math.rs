//! The chapter's hand-written math against `dlcore`'s versions and against finite
//! differences, and its behaviour on logits large enough to break the naive formulas.

use dlcore::gradcheck::{check, numeric_gradient};
use dlcore::loss;
use nalgebra::DMatrix;
use proptest::prelude::*;
use softmax::SoftmaxRegression;
use softmax::objective::{Objective, ObjectiveLoss, one_hot_into, push_on_true_logit};
use softmax::scratch::{cross_entropy, naive_cross_entropy, naive_softmax, softmax, softmax_backward_into};

/// Finite-difference step and tolerance: central differences in f32 with h = 1e-2
/// are good to about 1e-3 on these O(1) functions.
const H: f32 = 1e-2;
const TOL: f32 = 2e-3;

fn matrix(rows: usize, cols: usize, range: f32) -> impl Strategy<Value = DMatrix<f32>> {
    proptest::collection::vec(-range..range, rows * cols).prop_map(move |v| DMatrix::from_vec(rows, cols, v))
}

/// Logits of 2–6 classes for 1–4 examples, with a label per example.
fn labeled_logits(range: f32) -> impl Strategy<Value = (DMatrix<f32>, Vec<u8>)> {
    (2usize..7, 1usize..5).prop_flat_map(move |(classes, n)| {
        (matrix(classes, n, range), proptest::collection::vec(0..classes as u8, n))
    })
}

fn grad_of(objective: Objective, logits: &DMatrix<f32>, labels: &[u8]) -> (f32, DMatrix<f32>) {
    let mut grad = DMatrix::zeros(logits.nrows(), logits.ncols());
    let value = ObjectiveLoss::new(objective).value_and_grad(logits, labels, &mut grad);
    (value, grad)
}

proptest! {
    #[test]
    fn softmax_agrees_with_dlcore_and_gives_distributions(z in matrix(5, 3, 30.0)) {
        let ours = softmax(&z);
        let theirs = loss::softmax(&z);
        prop_assert!((&ours - &theirs).abs().max() < 1e-6, "ours {ours} dlcore {theirs}");
        for column in ours.column_iter() {
            prop_assert!((column.sum() - 1.0).abs() < 1e-5);
            prop_assert!(column.iter().all(|&p| (0.0..=1.0).contains(&p)));
        }
    }

    /// Shifting every logit of a column by the same amount changes nothing: the
    /// reason subtracting the maximum is allowed.
    #[test]
    fn softmax_ignores_a_common_shift(z in matrix(4, 2, 5.0), shift in -50.0f32..50.0) {
        let shifted = z.add_scalar(shift);
        prop_assert!((softmax(&z) - softmax(&shifted)).abs().max() < 1e-5);
    }

    #[test]
    fn cross_entropy_agrees_with_dlcore((z, labels) in labeled_logits(20.0)) {
        let (ours, our_grad) = cross_entropy(&z, &labels);
        let (theirs, their_grad) = loss::cross_entropy_with_logits(&z, &labels);
        prop_assert!((ours - theirs).abs() <= 1e-5 * (1.0 + theirs.abs()), "{ours} vs {theirs}");
        prop_assert!((our_grad - their_grad).abs().max() < 1e-6);
    }

    #[test]
    fn cross_entropy_gradient_matches_finite_differences((z, labels) in labeled_logits(4.0)) {
        let (_, grad) = cross_entropy(&z, &labels);
        let numeric = numeric_gradient(|m| cross_entropy(m, &labels).0, &z, H);
        let verdict = check(&grad, &numeric, TOL);
        prop_assert!(verdict.is_ok(), "{}", verdict.unwrap_err());
    }

    /// Softmax is vector-valued: test its backward pass through L = Σ c ⊙ softmax(z),
    /// whose gradient is the Jacobian applied to c.
    #[test]
    fn softmax_backward_matches_dlcore_and_finite_differences(z in matrix(4, 3, 4.0), c in matrix(4, 3, 2.0)) {
        let p = softmax(&z);
        let mut ours = DMatrix::zeros(4, 3);
        softmax_backward_into(&p, &c, &mut ours);
        prop_assert!((&ours - loss::softmax_backward(&p, &c)).abs().max() < 1e-6);
        let numeric = numeric_gradient(|m| softmax(m).component_mul(&c).sum(), &z, H);
        let verdict = check(&ours, &numeric, TOL);
        prop_assert!(verdict.is_ok(), "{}", verdict.unwrap_err());
    }

    /// The whole model: ∂L/∂W = G·Xᵀ and ∂L/∂b = Σ G against finite differences of
    /// L(W, b) = cross_entropy(W·X + b).
    #[test]
    fn model_gradients_match_finite_differences(
        w in matrix(3, 4, 1.0),
        b in matrix(3, 1, 1.0),
        x in matrix(4, 5, 1.0),
        labels in proptest::collection::vec(0u8..3, 5),
    ) {
        let mut model = SoftmaxRegression::from_parameters(w.clone(), b.clone(), 0.1);
        let logits = model.forward(&x).clone();
        let (_, grad_logits) = cross_entropy(&logits, &labels);
        model.backward(&x, &grad_logits);
        let loss_at = |w: &DMatrix<f32>, b: &DMatrix<f32>| {
            cross_entropy(&SoftmaxRegression::from_parameters(w.clone(), b.clone(), 0.1).forward(&x).clone(), &labels).0
        };
        let numeric_w = numeric_gradient(|m| loss_at(m, &b), &w, H);
        let numeric_b = numeric_gradient(|m| loss_at(&w, m), &b, H);
        let verdict_w = check(&model.grad_weight, &numeric_w, TOL);
        let verdict_b = check(&model.grad_bias, &numeric_b, TOL);
        prop_assert!(verdict_w.is_ok(), "{}", verdict_w.unwrap_err());
        prop_assert!(verdict_b.is_ok(), "{}", verdict_b.unwrap_err());
    }

    #[test]
    fn squared_error_objectives_match_finite_differences((z, labels) in labeled_logits(3.0)) {
        for objective in [Objective::SoftmaxSquared, Objective::SigmoidSquared, Objective::CrossEntropy] {
            let (_, grad) = grad_of(objective, &z, &labels);
            let numeric = numeric_gradient(|m| grad_of(objective, m, &labels).0, &z, H);
            let verdict = check(&grad, &numeric, TOL);
            prop_assert!(verdict.is_ok(), "{objective}: {}", verdict.unwrap_err());
        }
    }
}

#[test]
fn the_notes_worked_example() {
    let a = DMatrix::from_column_slice(3, 1, &[0.8241, 0.0593, -0.1058]);
    let p = softmax(&a);
    for (got, want) in p.iter().zip([0.5376, 0.2502, 0.2122]) {
        assert!((got - want).abs() < 1e-4, "p = {p}");
    }
    // The gradient of p₁ (counting from 0): ∂p₁/∂a = (−0.1345, 0.1876, −0.0531).
    let mut grad = DMatrix::zeros(3, 1);
    softmax_backward_into(&p, &DMatrix::from_column_slice(3, 1, &[0.0, 1.0, 0.0]), &mut grad);
    for (got, want) in grad.iter().zip([-0.1345, 0.1876, -0.0531]) {
        assert!((got - want).abs() < 1e-4, "grad = {grad}");
    }
}

#[test]
fn huge_logits_give_finite_results_and_break_the_naive_formulas() {
    let logits = DMatrix::from_column_slice(3, 2, &[1000.0, 0.0, -1000.0, -1000.0, -1001.0, -1002.0]);
    let labels = [1u8, 0];
    let p = softmax(&logits);
    assert!(p.iter().all(|v| v.is_finite()), "{p}");
    assert_eq!(p[(0, 0)], 1.0);
    let (value, grad) = cross_entropy(&logits, &labels);
    assert!(value.is_finite() && grad.iter().all(|g| g.is_finite()));
    // Column 0: logsumexp = 1000, o_y = 0, so ℓ = 1000; column 1: ln(1 + e⁻¹ + e⁻²).
    let second = (1.0f32 + (-1.0f32).exp() + (-2.0f32).exp()).ln();
    assert!((value - (1000.0 + second) / 2.0).abs() < 1e-2, "loss {value}");
    // The naive formulas fail on the same input: e^1000 = ∞ gives ∞/∞ = NaN, and a
    // probability that underflowed to 0 gives −log 0 = ∞.
    assert!(naive_softmax(&logits).iter().any(|v| v.is_nan()));
    assert!(naive_cross_entropy(&p, &labels).is_infinite());
    // Every objective's gradient stays finite too.
    for objective in Objective::ALL {
        let (value, grad) = grad_of(objective, &logits, &labels);
        assert!(value.is_finite() && grad.iter().all(|g| g.is_finite()), "{objective}");
    }
}

#[test]
fn one_hot_by_hand() {
    let mut targets = DMatrix::from_element(3, 2, 7.0);
    one_hot_into(&[2, 0], &mut targets);
    assert_eq!(targets, DMatrix::from_column_slice(3, 2, &[0.0, 0.0, 1.0, 1.0, 0.0, 0.0]));
}

/// With the true class at p and the rest on one wrong class, the pushes are
/// 1 − p (cross-entropy), 2p(1 − p)² (softmax + squared error) and p(1 − p)²
/// (sigmoid + squared error): worked out in the book.
#[test]
fn push_on_the_true_logit_follows_the_formulas() {
    for p in [0.01f32, 0.1, 0.3, 0.5, 0.9, 0.99] {
        let q = 1.0 - p;
        let cases = [
            (Objective::CrossEntropy, q),
            (Objective::SoftmaxSquared, 2.0 * p * q * q),
            (Objective::SigmoidSquared, p * q * q),
        ];
        for (objective, want) in cases {
            let got = push_on_true_logit(objective, p, 10);
            assert!((got - want).abs() < 1e-4, "{objective} at p = {p}: {got} vs {want}");
        }
    }
}
