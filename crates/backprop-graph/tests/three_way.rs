//! The one-hidden-layer MLP with an L2 penalty, J = L + s, checked three ways on
//! random networks: the engine's gradients equal the hand-derived formulas, which
//! equal dlcore's `Linear`/`ActivationLayer` backward pass (the layers the `mlp`
//! crate's network is made of) plus λW; and the engine's equal finite differences
//! of J.
//!
//! Tolerances: the three analytic routes do the same arithmetic in different orders,
//! so they agree to a few float32 roundings — 1e-5 in dlcore's
//! `max_relative_error`. Finite differences in f32 with h = 1e-2 are good to about
//! 1e-3, so that check uses 3e-3.

use backprop_graph::penalized_mlp::{Problem, build, engine_gradients, hand_gradients, layer_gradients};
use dlcore::activation::Activation;
use dlcore::gradcheck::{check, numeric_gradient};
use dlcore::seeded_rng;
use nalgebra::DMatrix;
use proptest::prelude::*;

const ANALYTIC_TOLERANCE: f32 = 1e-5;
const NUMERIC_TOLERANCE: f32 = 3e-3;

fn random_problem() -> impl Strategy<Value = Problem> {
    (any::<u64>(), 1usize..6, 1usize..6, 2usize..5, 1usize..5, 0.0f32..1.0, 0usize..6).prop_map(
        |(seed, inputs, hidden, classes, batch, lambda, which)| {
            let activation = Activation::ALL[which];
            Problem::random(inputs, hidden, classes, batch, lambda, activation, &mut seeded_rng(seed))
        },
    )
}

fn agree(name: &str, a: &DMatrix<f32>, b: &DMatrix<f32>, tolerance: f32) -> Result<(), TestCaseError> {
    check(a, b, tolerance).map_err(|message| TestCaseError::fail(format!("{name}: {message}")))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn engine_equals_hand_derived_formulas_equals_dlcore_layers(problem in random_problem()) {
        let engine = engine_gradients(&problem).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let hand = hand_gradients(&problem);
        prop_assert!((engine.objective - hand.objective).abs() <= 1e-5 * (1.0 + hand.objective.abs()));
        agree("∂J/∂o", &engine.d_o, &hand.d_o, ANALYTIC_TOLERANCE)?;
        agree("∂J/∂W2", &engine.d_w2, &hand.d_w2, ANALYTIC_TOLERANCE)?;
        agree("∂J/∂h", &engine.d_h, &hand.d_h, ANALYTIC_TOLERANCE)?;
        agree("∂J/∂z", &engine.d_z, &hand.d_z, ANALYTIC_TOLERANCE)?;
        agree("∂J/∂W1", &engine.d_w1, &hand.d_w1, ANALYTIC_TOLERANCE)?;
        let (layers_w1, layers_w2) = layer_gradients(&problem);
        agree("∂J/∂W1 (layers)", &layers_w1, &hand.d_w1, ANALYTIC_TOLERANCE)?;
        agree("∂J/∂W2 (layers)", &layers_w2, &hand.d_w2, ANALYTIC_TOLERANCE)?;
    }

    /// Smooth activations only: a finite difference across a ReLU kink measures
    /// neither slope.
    #[test]
    fn engine_equals_finite_differences_of_j(problem in random_problem(), smooth in 0usize..3) {
        let problem = Problem { activation: [Activation::Sigmoid, Activation::Tanh, Activation::Softplus][smooth], ..problem };
        let engine = engine_gradients(&problem).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let objective = |p: &Problem| {
            let net = build(p);
            net.graph.scalar_value(net.objective)
        };
        let numeric_w1 = numeric_gradient(|w| objective(&Problem { w1: w.clone(), ..problem.clone() }), &problem.w1, 1e-2);
        let numeric_w2 = numeric_gradient(|w| objective(&Problem { w2: w.clone(), ..problem.clone() }), &problem.w2, 1e-2);
        agree("∂J/∂W1", &engine.d_w1, &numeric_w1, NUMERIC_TOLERANCE)?;
        agree("∂J/∂W2", &engine.d_w2, &numeric_w2, NUMERIC_TOLERANCE)?;
    }
}

/// The notes write ∂J/∂W1 = ∂J/∂o xᵀ + λW1 (with o where z belongs). The test above
/// would catch that: here is the difference on a network where the shapes happen to
/// allow the wrong product.
#[test]
fn the_notes_misprinted_w1_formula_is_wrong() {
    let problem = Problem::random(3, 4, 4, 2, 0.1, Activation::Tanh, &mut seeded_rng(1));
    let hand = hand_gradients(&problem);
    let misprint = &hand.d_o * problem.x.transpose() + &problem.w1 * problem.lambda;
    assert!(check(&hand.d_w1, &misprint, 1e-2).is_err());
    let engine = engine_gradients(&problem).unwrap();
    assert!(check(&engine.d_w1, &hand.d_w1, ANALYTIC_TOLERANCE).is_ok());
}
