//! What decides whether optimization works: the start (Himmelblau's four minima),
//! saddles and momentum, the learning rate and its decay. Every gradient used is
//! checked against finite differences.

use dlcore::gradcheck::{max_relative_error, numeric_gradient};
use dlcore::optim::Sgd;
use dlcore::seeded_rng;
use init_stability::descent::descend;
use init_stability::parse_point;
use init_stability::regression::{Regression, train};
use init_stability::surfaces::{Himmelblau, Quadratic, Saddle, Surface};
use nalgebra::DMatrix;
use proptest::prelude::*;

/// Largest disagreement between a surface's hand-written gradient at `p` and
/// central differences, relative as in dlcore's gradcheck.
fn gradient_error(surface: &dyn Surface, p: [f32; 2]) -> f32 {
    let at = DMatrix::from_column_slice(2, 1, &p);
    let numeric = numeric_gradient(|m: &DMatrix<f32>| surface.value([m[0], m[1]]), &at, 1e-2);
    let analytic = DMatrix::from_column_slice(2, 1, &surface.gradient(p));
    max_relative_error(&analytic, &numeric)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn hand_written_gradients_equal_finite_differences(x in -5.0f32..5.0, y in -5.0f32..5.0) {
        for surface in [&Himmelblau as &dyn Surface, &Saddle, &Quadratic::default(), &Quadratic { a: 3.0, b: 0.2 }] {
            let error = gradient_error(surface, [x, y]);
            prop_assert!(error < 5e-3, "{} at ({x}, {y}): relative error {error:e}", surface.name());
        }
    }
}

#[test]
fn the_gradient_check_would_catch_a_wrong_gradient() {
    /// Himmelblau with the chain rule's inner factor 2x forgotten in ∂f/∂x.
    struct Wrong;
    impl Surface for Wrong {
        fn name(&self) -> String {
            "wrong".into()
        }
        fn formula(&self) -> String {
            String::new()
        }
        fn value(&self, p: [f32; 2]) -> f32 {
            Himmelblau.value(p)
        }
        fn gradient(&self, [x, y]: [f32; 2]) -> [f32; 2] {
            let (a, b) = (x * x + y - 11.0, x + y * y - 7.0);
            [2.0 * a + 2.0 * b, 2.0 * a + 4.0 * y * b]
        }
    }
    assert!(gradient_error(&Wrong, [1.0, 1.0]) > 0.1);
}

#[test]
fn four_nearby_starts_reach_the_four_minima() {
    let starts = [[0.0, -0.5], [-0.5, -0.5], [-0.5, -1.0], [0.0, -1.0]];
    for (start, minimum) in starts.into_iter().zip(Himmelblau::MINIMA) {
        let run = descend(&Himmelblau, start, Sgd::new(0.01), 500);
        assert!(run.diverged.is_none());
        let [x, y] = run.end();
        let miss = (x - minimum[0]).abs().max((y - minimum[1]).abs());
        assert!(miss < 1e-3, "from {start:?} ended at ({x}, {y}), {miss:e} from {minimum:?}");
        assert!(Himmelblau.value(run.end()) < 1e-6);
        // The known minima really are minima: f vanishes and so does the gradient.
        let g = Himmelblau.gradient(minimum);
        assert!(Himmelblau.value(minimum) < 1e-8 && g[0].abs() < 1e-3 && g[1].abs() < 1e-3, "{minimum:?}");
    }
}

#[test]
fn momentum_leaves_the_saddle_in_fewer_steps() {
    let left = |[_, y]: [f32; 2]| y.abs() > 1.0;
    let start = [1.5, 1e-3];
    let plain = descend(&Saddle, start, Sgd::new(0.05), 200);
    let heavy = descend(&Saddle, start, Sgd::new(0.05).with_momentum(0.9), 200);
    let plain_steps = plain.first_step_where(left).expect("plain descent leaves the saddle eventually");
    let heavy_steps = heavy.first_step_where(left).expect("descent with momentum leaves the saddle");
    assert!(heavy_steps < plain_steps, "momentum {heavy_steps} steps, plain {plain_steps}");
    // Plain descent grows y by exactly 1 + 2·lr per step near the saddle (∂f/∂y ≈ −2y):
    // ln(1000) / ln(1.1) ≈ 72.5 steps from 10⁻³ to 1, give or take the y³ term.
    assert!((70..=80).contains(&plain_steps), "{plain_steps}");
    // Both settle in the minimum above the saddle.
    for run in [&plain, &heavy] {
        let [x, y] = run.end();
        assert!(x.abs() < 1e-2 && (y - Saddle::MINIMUM[1]).abs() < 1e-2, "ended at ({x}, {y})");
    }
    // Started exactly on the ridge, plain descent never leaves: the gradient has no
    // y component there. That is what makes a saddle a trap.
    let stuck = descend(&Saddle, [1.5, 0.0], Sgd::new(0.05), 200);
    assert_eq!(stuck.first_step_where(left), None);
}

#[test]
fn a_diverging_learning_rate_is_detected_and_reported() {
    let run = descend(&Himmelblau, [0.0, 0.0], Sgd::new(0.05), 100);
    let divergence = run.diverged.expect("lr 0.05 diverges on Himmelblau from the origin");
    assert!(divergence.step < 20, "{divergence:?}");
    assert_eq!(run.points.len(), divergence.step + 1, "the run stops at the step that diverged");
    assert!(run.values[..divergence.step].iter().all(|v| v.is_finite()));
    let message = run.converged().unwrap_err().to_string();
    assert!(message.contains("diverged") && message.contains("lower the learning rate"), "{message}");
    assert!(!message.contains('\n'));
    // The good rate from the same start does not trip the guard.
    assert!(descend(&Himmelblau, [0.0, 0.0], Sgd::new(0.01), 100).converged().is_ok());

    let problem = Regression::synthetic(&[2.0, -3.4], 4.2, 0.01, 1000, &mut seeded_rng(0)).unwrap();
    let blown = train(&problem, Sgd::new(2.5), 400, 10, &mut seeded_rng(1));
    let divergence = blown.diverged.expect("lr 2.5 diverges on linear regression");
    assert_eq!(blown.excess.len(), divergence.step + 1);
    assert!(train(&problem, Sgd::new(0.03), 400, 10, &mut seeded_rng(1)).diverged.is_none());
}

#[test]
fn too_few_examples_for_a_unique_optimum_are_an_error_not_nan() {
    // Two features and a bias: three parameters, so three examples are the fewest
    // with one least-squares solution.
    for examples in [0, 1, 2] {
        let error = Regression::synthetic(&[2.0, -3.4], 4.2, 0.01, examples, &mut seeded_rng(0)).unwrap_err();
        let message = error.to_string();
        assert!(message.contains(&format!("`{examples}`")) && message.contains("at least 3"), "{message}");
        assert!(!message.contains('\n'));
    }
    let smallest = Regression::synthetic(&[2.0, -3.4], 4.2, 0.01, 3, &mut seeded_rng(0)).unwrap();
    assert!(smallest.optimal_loss.is_finite() && smallest.optimal_loss >= 0.0);
    // Three points determine the plane: L* is zero up to rounding, and a run on them
    // (one batch smaller than the batch size) still records finite numbers.
    assert!(smallest.optimal_loss < 1e-10, "{}", smallest.optimal_loss);
    let run = train(&smallest, Sgd::new(0.1), 20, 10, &mut seeded_rng(1));
    assert!(run.diverged.is_none() && run.excess.iter().all(|e| e.is_finite()));
}

#[test]
fn learning_rate_with_too_few_examples_stops_with_one_line_not_nan_tables() {
    let out = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("learning-rate-few-examples");
    for examples in ["1", "2"] {
        let _ = std::fs::remove_dir_all(&out);
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_learning-rate"))
            .args(["--examples", examples, "--out"])
            .arg(&out)
            .output()
            .expect("the binary starts");
        let message = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "--examples {examples} succeeded: {message}");
        assert_eq!(message.lines().count(), 1, "{message}");
        assert!(message.starts_with("error: ") && message.contains("at least 3"), "{message}");
        // It stops before anything is written: no table of NaN.
        assert!(!out.join("learning-rate-regression.md").exists());
    }
}

/// The median of the last `n` values.
fn tail_median(values: &[f64], n: usize) -> f64 {
    let mut tail = values[values.len() - n..].to_vec();
    tail.sort_by(f64::total_cmp);
    tail[n / 2]
}

#[test]
fn learning_rate_trades_speed_for_precision_and_decay_gets_both() {
    for seed in 0..3 {
        let problem = Regression::synthetic(&[2.0, -3.4], 4.2, 0.01, 1000, &mut seeded_rng(seed)).unwrap();
        assert!(problem.optimal_loss > 0.0 && problem.optimal_loss < 1e-4, "{}", problem.optimal_loss);
        let run = |sgd: Sgd| train(&problem, sgd, 400, 10, &mut seeded_rng(seed + 100));
        let small = run(Sgd::new(0.03));
        let large = run(Sgd::new(1.0));
        let decayed = run(Sgd::new(1.0).with_step_schedule(80, 0.2));
        for r in [&small, &large, &decayed] {
            assert_eq!(r.excess.len(), 401);
            // L* is the least-squares minimum: no weights do better.
            assert!(r.excess.iter().all(|&e| e > -1e-12), "L − L* < 0: L* is not the minimum");
        }
        let first_close = |e: &[f64]| e.iter().position(|&v| v < 1e-3).unwrap_or(usize::MAX);
        // Large steps get close fast but jitter at a floor; small ones are slow.
        assert!(first_close(&large.excess) * 5 < first_close(&small.excess), "seed {seed}");
        assert!(tail_median(&large.excess, 100) > 10.0 * tail_median(&decayed.excess, 100), "seed {seed}");
        // The decay follows the large rate until its first drop, then goes below it.
        assert_eq!(decayed.excess[..81], large.excess[..81]);
        assert!(tail_median(&decayed.excess, 100) < tail_median(&small.excess, 100), "seed {seed}");
        // Each step is one "epoch" of the schedule: the rate drops after step 80.
        assert_eq!((decayed.lrs[79], decayed.lrs[80]), (1.0, 0.2));
    }
}

#[test]
fn momentum_damps_the_zig_zag_of_an_ill_conditioned_valley() {
    let valley = Quadratic::default();
    let steps_to = |beta: f32| {
        descend(&valley, [-5.0, -2.0], Sgd::new(0.45).with_momentum(beta), 200)
            .first_step_where(|p| valley.value(p) < 1e-3)
            .unwrap_or(usize::MAX)
    };
    let crossings = |beta: f32| {
        let run = descend(&valley, [-5.0, -2.0], Sgd::new(0.45).with_momentum(beta), 10);
        run.points.windows(2).filter(|w| w[0][1] * w[1][1] < 0.0).count()
    };
    // Plain descent: y is multiplied by 1 − 0.45·4 = −0.8 every step, a zig every step.
    assert_eq!(crossings(0.0), 10);
    assert!(crossings(0.5) < 10);
    assert!(steps_to(0.5) * 2 < steps_to(0.0), "{} vs {}", steps_to(0.5), steps_to(0.0));
    // Too much momentum overshoots and circles: slower than none at all here.
    assert!(steps_to(0.9) > steps_to(0.0));
}

#[test]
fn points_parse_from_the_command_line() {
    assert_eq!(parse_point("0,-0.5"), Ok([0.0, -0.5]));
    assert_eq!(parse_point(" 1.5 , 0.001"), Ok([1.5, 0.001]));
    // Each message quotes what was wrong and, where the shape is wrong, how to write it.
    for (bad, says) in [
        ("1", "`1` is not a point: write it as x,y"),
        ("1,x", "`x` in `1,x` is not a number"),
        ("nan,1", "`nan,1` must have finite coordinates"),
        ("1;2", "`1;2` is not a point: write it as x,y"),
        ("", "`` is not a point: write it as x,y"),
    ] {
        let error = parse_point(bad).unwrap_err();
        assert!(!error.contains('\n') && error.contains(says), "{bad:?}: {error}");
    }
}
