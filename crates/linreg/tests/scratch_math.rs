//! The from-scratch formulas: the model, the loss and its gradient against finite
//! differences and against dlcore's `Linear` layer and squared loss, and the SGD
//! update by hand.

use dlcore::gradcheck::{check, numeric_gradient};
use dlcore::init::Init;
use dlcore::layer::Linear;
use dlcore::loss::squared;
use dlcore::seeded_rng;
use linreg::scratch::{Gradients, Model, linreg_into, sgd, squared_loss, squared_loss_gradients};
use nalgebra::DMatrix;
use proptest::prelude::*;

/// A random problem: `features × batch` inputs, a column of labels, a model.
fn problem(seed: u64, features: usize, batch: usize) -> (DMatrix<f32>, DMatrix<f32>, Model) {
    let mut rng = seeded_rng(seed);
    let uniform = Init::Uniform { low: -2.0, high: 2.0 };
    let x = uniform.matrix(features, batch, &mut rng);
    let y = uniform.matrix(batch, 1, &mut rng);
    let w = uniform.matrix(features, 1, &mut rng);
    let b = uniform.matrix(1, 1, &mut rng)[0];
    (x, y, Model { w, b })
}

/// The loss of `model` on (x, y), through the scratch model and loss.
fn loss(x: &DMatrix<f32>, y: &DMatrix<f32>, model: &Model) -> f32 {
    let mut y_hat = DMatrix::zeros(x.ncols(), 1);
    linreg_into(x, model, &mut y_hat);
    squared_loss(&y_hat, y)
}

/// The scratch gradients of the loss at `model`.
fn gradients(x: &DMatrix<f32>, y: &DMatrix<f32>, model: &Model) -> Gradients {
    let mut y_hat = DMatrix::zeros(x.ncols(), 1);
    linreg_into(x, model, &mut y_hat);
    let mut residual = DMatrix::zeros(x.ncols(), 1);
    let mut grad = Gradients::zeros(x.nrows());
    squared_loss_gradients(x, &y_hat, y, &mut residual, &mut grad);
    grad
}

#[test]
fn the_model_by_hand() {
    // Two examples (columns) with features (1, 2) and (−1, 0.5).
    let x = DMatrix::from_column_slice(2, 2, &[1.0, 2.0, -1.0, 0.5]);
    let model = Model { w: DMatrix::from_column_slice(2, 1, &[2.0, -3.4]), b: 4.2 };
    let mut y_hat = DMatrix::zeros(2, 1);
    linreg_into(&x, &model, &mut y_hat);
    // 2·1 − 3.4·2 + 4.2 = −0.6 and 2·(−1) − 3.4·0.5 + 4.2 = 0.5.
    assert!((y_hat[0] + 0.6).abs() < 1e-6 && (y_hat[1] - 0.5).abs() < 1e-6, "{y_hat}");
    // ½((−0.6 − 0)² + (0.5 − 1.5)²)/2 = (0.18 + 0.5)/2.
    let y = DMatrix::from_column_slice(2, 1, &[0.0, 1.5]);
    assert!((squared_loss(&y_hat, &y) - 0.34).abs() < 1e-6);
}

#[test]
fn one_sgd_step_by_hand() {
    let mut model = Model { w: DMatrix::from_column_slice(2, 1, &[1.0, -1.0]), b: 0.5 };
    let grad = Gradients { w: DMatrix::from_column_slice(2, 1, &[2.0, -4.0]), b: 10.0 };
    sgd(&mut model, &grad, 0.1);
    assert!((model.w[0] - 0.8).abs() < 1e-6);
    assert!((model.w[1] + 0.6).abs() < 1e-6);
    assert!((model.b + 0.5).abs() < 1e-6);
}

#[test]
fn a_step_lowers_the_loss() {
    let (x, y, mut model) = problem(11, 2, 20);
    let before = loss(&x, &y, &model);
    let grad = gradients(&x, &y, &model);
    sgd(&mut model, &grad, 0.05);
    assert!(loss(&x, &y, &model) < before);
}

proptest! {
    /// The hand-derived ∂ℓ/∂w and ∂ℓ/∂b equal central finite differences of the loss.
    #[test]
    fn gradients_match_finite_differences(seed in 0u64..10_000, features in 1usize..5, batch in 1usize..13) {
        let (x, y, model) = problem(seed, features, batch);
        let grad = gradients(&x, &y, &model);
        let numeric_w = numeric_gradient(|w| loss(&x, &y, &Model { w: w.clone(), b: model.b }), &model.w, 1e-2);
        let result = check(&grad.w, &numeric_w, 2e-3);
        prop_assert!(result.is_ok(), "∂ℓ/∂w: {}", result.unwrap_err());
        let b = DMatrix::from_element(1, 1, model.b);
        let numeric_b = numeric_gradient(|b| loss(&x, &y, &Model { w: model.w.clone(), b: b[0] }), &b, 1e-2);
        let result = check(&DMatrix::from_element(1, 1, grad.b), &numeric_b, 2e-3);
        prop_assert!(result.is_ok(), "∂ℓ/∂b: {}", result.unwrap_err());
    }

    /// The scratch model, loss and gradients agree with dlcore's `Linear` layer
    /// (whose weight is the row wᵀ) and its squared loss.
    #[test]
    fn agrees_with_dlcore(seed in 0u64..10_000, features in 1usize..5, batch in 1usize..13) {
        let (x, y, model) = problem(seed, features, batch);
        let mut layer = Linear::from_parameters(model.w.transpose(), DMatrix::from_element(1, 1, model.b));
        let y_row = y.transpose();
        let (dlcore_loss, dlcore_grad) = squared(layer.forward(&x), &y_row);
        layer.backward(&dlcore_grad);
        prop_assert!((loss(&x, &y, &model) - dlcore_loss).abs() <= 1e-5 * (1.0 + dlcore_loss));
        let mut y_hat = DMatrix::zeros(batch, 1);
        linreg_into(&x, &model, &mut y_hat);
        prop_assert!((y_hat.transpose() - layer.forward(&x)).abs().max() < 1e-5);
        let grad = gradients(&x, &y, &model);
        prop_assert!((&grad.w - layer.grad_weight.transpose()).abs().max() < 1e-5);
        prop_assert!((grad.b - layer.grad_bias[0]).abs() < 1e-5);
    }
}
