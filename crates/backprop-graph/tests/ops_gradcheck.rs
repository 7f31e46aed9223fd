//! Every operation's gradient, from the engine, against central finite differences
//! (`dlcore::gradcheck`) on random shapes and values.
//!
//! Each check seeds the backward pass with a random matrix C of the output's shape,
//! so the engine computes the gradient of L = Σ C ⊙ op(inputs) — a random scalar
//! function of every output entry — and compares it, input by input, with finite
//! differences of that same L.

use backprop_graph::{Graph, Var};
use dlcore::activation::Activation;
use dlcore::gradcheck::{check, numeric_gradient};
use dlcore::init::Init;
use dlcore::seeded_rng;
use nalgebra::DMatrix;
use proptest::prelude::*;

const H: f32 = 1e-2;
const TOLERANCE: f32 = 3e-3;

fn uniform(rows: usize, cols: usize, low: f32, high: f32, rng: &mut dlcore::Rng) -> DMatrix<f32> {
    Init::Uniform { low, high }.matrix(rows, cols, rng)
}

/// Builds `op` on parameter leaves holding `inputs`, backpropagates a random seed
/// and compares every input's gradient with finite differences.
fn check_op(
    inputs: &[DMatrix<f32>],
    seed: u64,
    op: impl Fn(&mut Graph, &[Var]) -> Var,
) -> Result<(), TestCaseError> {
    let evaluate = |values: &[DMatrix<f32>]| {
        let mut g = Graph::new();
        let vars: Vec<Var> =
            values.iter().enumerate().map(|(i, v)| g.param(&format!("in{i}"), v.clone())).collect();
        let out = op(&mut g, &vars);
        (g, vars, out)
    };
    let (mut g, vars, out) = evaluate(inputs);
    let (rows, cols) = g.value(out).shape();
    let c = uniform(rows, cols, -1.0, 1.0, &mut seeded_rng(seed));
    g.backward_with(out, &c).map_err(|e| TestCaseError::fail(e.to_string()))?;
    for (k, &var) in vars.iter().enumerate() {
        let numeric = numeric_gradient(
            |probe| {
                let mut values = inputs.to_vec();
                values[k] = probe.clone();
                let (g, _, out) = evaluate(&values);
                g.value(out).component_mul(&c).sum()
            },
            &inputs[k],
            H,
        );
        let analytic = g.grad(var).ok_or_else(|| TestCaseError::fail("a parameter has no gradient"))?;
        check(analytic, &numeric, TOLERANCE)
            .map_err(|message| TestCaseError::fail(format!("input {k}: {message}")))?;
    }
    Ok(())
}

/// A seed for the values and a shape of 1–3 rows and columns.
fn case() -> impl Strategy<Value = (u64, usize, usize)> {
    (any::<u64>(), 1usize..4, 1usize..4)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn add((seed, r, c) in case()) {
        let mut rng = seeded_rng(seed);
        let inputs = [uniform(r, c, -2.0, 2.0, &mut rng), uniform(r, c, -2.0, 2.0, &mut rng)];
        check_op(&inputs, seed, |g, v| g.add(v[0], v[1]))?;
    }

    #[test]
    fn sub((seed, r, c) in case()) {
        let mut rng = seeded_rng(seed);
        let inputs = [uniform(r, c, -2.0, 2.0, &mut rng), uniform(r, c, -2.0, 2.0, &mut rng)];
        check_op(&inputs, seed, |g, v| g.sub(v[0], v[1]))?;
    }

    #[test]
    fn elementwise_mul((seed, r, c) in case()) {
        let mut rng = seeded_rng(seed);
        let inputs = [uniform(r, c, -2.0, 2.0, &mut rng), uniform(r, c, -2.0, 2.0, &mut rng)];
        check_op(&inputs, seed, |g, v| g.mul(v[0], v[1]))?;
    }

    #[test]
    fn scalar_mul((seed, r, c) in case(), factor in -3.0f32..3.0) {
        let inputs = [uniform(r, c, -2.0, 2.0, &mut seeded_rng(seed))];
        check_op(&inputs, seed, |g, v| g.scale(v[0], factor))?;
    }

    #[test]
    fn matmul(seed in any::<u64>(), m in 1usize..4, k in 1usize..4, n in 1usize..4) {
        let mut rng = seeded_rng(seed);
        let inputs = [uniform(m, k, -2.0, 2.0, &mut rng), uniform(k, n, -2.0, 2.0, &mut rng)];
        check_op(&inputs, seed, |g, v| g.matmul(v[0], v[1]))?;
    }

    #[test]
    fn bias_add_with_broadcast((seed, r, c) in case()) {
        let mut rng = seeded_rng(seed);
        let inputs = [uniform(r, c, -2.0, 2.0, &mut rng), uniform(r, 1, -2.0, 2.0, &mut rng)];
        check_op(&inputs, seed, |g, v| g.add_bias(v[0], v[1]))?;
    }

    #[test]
    fn sum_and_mean((seed, r, c) in case()) {
        let inputs = [uniform(r, c, -2.0, 2.0, &mut seeded_rng(seed))];
        check_op(&inputs, seed, |g, v| g.sum(v[0]))?;
        check_op(&inputs, seed, |g, v| g.mean(v[0]))?;
    }

    #[test]
    fn square_of_any_sign((seed, r, c) in case()) {
        let inputs = [uniform(r, c, -2.0, 2.0, &mut seeded_rng(seed))];
        check_op(&inputs, seed, |g, v| g.square(v[0]))?;
    }

    #[test]
    fn pow_of_positive_entries((seed, r, c) in case(), exponent in -2.0f32..3.0) {
        let inputs = [uniform(r, c, 0.5, 2.0, &mut seeded_rng(seed))];
        check_op(&inputs, seed, |g, v| g.pow(v[0], exponent))?;
    }

    #[test]
    fn exp((seed, r, c) in case()) {
        let inputs = [uniform(r, c, -2.0, 2.0, &mut seeded_rng(seed))];
        check_op(&inputs, seed, |g, v| g.exp(v[0]))?;
    }

    #[test]
    fn log_of_positive_entries((seed, r, c) in case()) {
        let inputs = [uniform(r, c, 0.5, 3.0, &mut seeded_rng(seed))];
        check_op(&inputs, seed, |g, v| g.log(v[0]))?;
    }

    #[test]
    fn sigmoid_and_tanh((seed, r, c) in case()) {
        let inputs = [uniform(r, c, -4.0, 4.0, &mut seeded_rng(seed))];
        check_op(&inputs, seed, |g, v| g.sigmoid(v[0]))?;
        check_op(&inputs, seed, |g, v| g.tanh(v[0]))?;
    }

    /// Away from the kink at 0, where a finite difference would straddle two slopes.
    #[test]
    fn relu_away_from_its_kink((seed, r, c) in case()) {
        let inputs = [uniform(r, c, -3.0, 3.0, &mut seeded_rng(seed))];
        prop_assume!(inputs[0].iter().all(|z| z.abs() > 2.0 * H));
        check_op(&inputs, seed, |g, v| g.relu(v[0]))?;
    }

    /// Every dlcore activation through the generic operation, at smooth points.
    #[test]
    fn every_dlcore_activation((seed, r, c) in case(), which in 0usize..6) {
        let activation = Activation::ALL[which];
        let inputs = [uniform(r, c, -3.0, 3.0, &mut seeded_rng(seed))];
        prop_assume!(inputs[0].iter().all(|z| z.abs() > 2.0 * H));
        check_op(&inputs, seed, |g, v| g.activation(v[0], activation))?;
    }

    /// The labels are data: only the logits get a gradient.
    #[test]
    fn softmax_cross_entropy(seed in any::<u64>(), classes in 2usize..5, n in 1usize..4) {
        let mut rng = seeded_rng(seed);
        let logits = uniform(classes, n, -3.0, 3.0, &mut rng);
        let labels = DMatrix::from_fn(1, n, |_, j| ((seed as usize + 7 * j) % classes) as f32);
        check_op(&[logits], seed, |g, v| {
            let y = g.input("y", labels.clone());
            g.softmax_cross_entropy(v[0], y)
        })?;
    }

    /// Both the prediction and the target get a gradient.
    #[test]
    fn mse((seed, r, c) in case()) {
        let mut rng = seeded_rng(seed);
        let inputs = [uniform(r, c, -2.0, 2.0, &mut rng), uniform(r, c, -2.0, 2.0, &mut rng)];
        check_op(&inputs, seed, |g, v| g.mse(v[0], v[1]))?;
    }

    #[test]
    fn frobenius_penalty_of_two_matrices((seed, r, c) in case(), lambda in 0.0f32..2.0) {
        let mut rng = seeded_rng(seed);
        let inputs = [uniform(r, c, -2.0, 2.0, &mut rng), uniform(c, r + 1, -2.0, 2.0, &mut rng)];
        check_op(&inputs, seed, |g, v| g.l2_penalty(&[v[0], v[1]], lambda))?;
    }

    /// A node used several times receives the sum of its uses' gradients:
    /// f(x, w) = mean(exp(x ⊙ x) − x·w + (x·w)²/2) reuses x and the product x·w.
    #[test]
    fn reused_nodes_accumulate_their_gradients(seed in any::<u64>(), m in 1usize..4, k in 1usize..4) {
        let mut rng = seeded_rng(seed);
        let inputs = [uniform(m, k, -1.0, 1.0, &mut rng), uniform(k, m, -1.0, 1.0, &mut rng)];
        check_op(&inputs, seed, |g, v| {
            let (x, w) = (v[0], v[1]);
            let xx = g.mul(x, x);
            let e = g.exp(xx);
            let xw = g.matmul(x, w);
            let xw2 = g.square(xw);
            let half = g.scale(xw2, 0.5);
            let spread = g.sum(e);
            let a = g.sub(half, xw);
            let m = g.mean(a);
            g.add(spread, m)
        })?;
    }
}
