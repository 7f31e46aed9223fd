//! Training at the chapter's defaults reaches what the chapter promises, on the
//! code path the binaries take (`Config::default()`, the rng of `--seed`); the
//! scratch and concise versions agree; a too-large learning rate is an error that
//! leaves a finite curve behind.

use dlcore::data::Dataset;
use dlcore::{Error, seeded_rng};
use linreg::sweep::learning_rates;
use linreg::{Config, Estimate, History, analytic, concise, scratch, synthetic_data};

/// The scratch run a binary makes with `--seed seed` and the flags of `config`.
fn scratch_run(config: &Config, seed: u64) -> (dlcore::Result<Estimate>, History, Dataset) {
    let mut rng = seeded_rng(seed);
    let data = synthetic_data(config, &mut rng);
    let mut history = History::default();
    let outcome = scratch::train(config, &data, &mut rng, &mut history).map(|m| m.estimate());
    (outcome, history, data)
}

fn concise_run(config: &Config, seed: u64) -> (dlcore::Result<Estimate>, History) {
    let mut rng = seeded_rng(seed);
    let data = synthetic_data(config, &mut rng);
    let mut history = History::default();
    let outcome = concise::train(config, &data, &mut rng, &mut history).map(|l| concise::estimate(&l));
    (outcome, history)
}

/// The bar: after 3 epochs, training loss < 1e-4 and every parameter within
/// 0.01 of the truth. Seed 0 is what the binaries use by default; the others show
/// it is not luck.
#[test]
fn scratch_reaches_the_target_at_the_defaults() {
    for seed in 0..5 {
        let (estimate, history, _) = scratch_run(&Config::default(), seed);
        let estimate = estimate.unwrap();
        assert_eq!(history.epoch_losses.len(), 4, "epoch 0 and three epochs");
        assert_eq!(history.batch_losses.len(), 300, "1000 examples in batches of 10, three times");
        let loss = history.final_loss().unwrap();
        assert!(loss < 1e-4, "seed {seed}: training loss {loss}");
        assert!(estimate.max_error() < 0.01, "seed {seed}: {estimate:?}");
        // The loss starts near E[½y²] ≈ ½(4 + 11.56 + 17.64) and falls every epoch.
        assert!(history.epoch_losses[0] > 10.0);
        assert!(history.epoch_losses.windows(2).all(|w| w[1] < w[0]), "{:?}", history.epoch_losses);
    }
}

#[test]
fn concise_reaches_the_target_and_matches_scratch() {
    for seed in 0..3 {
        let (concise, concise_history) = concise_run(&Config::default(), seed);
        let concise = concise.unwrap();
        let loss = concise_history.final_loss().unwrap();
        assert!(loss < 1e-4, "seed {seed}: training loss {loss}");
        assert!(concise.max_error() < 0.01, "seed {seed}: {concise:?}");
        // Same seed: same data, same initial weights, same batches, so the same
        // numbers up to the order of float additions.
        let (scratch, scratch_history, _) = scratch_run(&Config::default(), seed);
        assert!(concise.max_difference(&scratch.unwrap()) < 1e-5);
        for (a, b) in concise_history.batch_losses.iter().zip(&scratch_history.batch_losses) {
            assert!((a - b).abs() <= 1e-4 * (1.0 + b), "{a} vs {b}");
        }
    }
}

/// A last batch smaller than the others (1005 = 100·10 + 5) goes through the tail
/// buffers of both versions.
#[test]
fn a_partial_last_batch_is_trained_on() {
    let config = Config { examples: 1005, ..Config::default() };
    let (scratch, history, _) = scratch_run(&config, 2);
    assert_eq!(history.batch_losses.len(), 3 * 101);
    let (concise, _) = concise_run(&config, 2);
    assert!(scratch.unwrap().max_difference(&concise.unwrap()) < 1e-5);
}

#[test]
fn the_least_squares_solution_is_within_0_005_and_below_sgd() {
    for seed in 0..5 {
        let (sgd, _, data) = scratch_run(&Config::default(), seed);
        let solution = analytic::least_squares(&data).unwrap();
        assert!(solution.max_error() < 0.005, "seed {seed}: {solution:?}");
        // No parameters fit the training data better than the least-squares ones.
        let sgd = sgd.unwrap();
        assert!(solution.loss_on(&data) <= sgd.loss_on(&data));
        // The normal equations give the same answer on data this well conditioned.
        let normal = analytic::normal_equations(&data).unwrap();
        assert!(solution.max_difference(&normal) < 1e-5);
        assert!(analytic::condition_number(&data) < 1.5);
    }
}

#[test]
fn without_noise_least_squares_recovers_the_truth() {
    let config = Config { noise_std: 0.0, examples: 50, ..Config::default() };
    let data = synthetic_data(&config, &mut seeded_rng(0));
    let solution = analytic::least_squares(&data).unwrap();
    assert!(solution.max_error() < 1e-5, "{solution:?}");
    assert!(solution.loss_on(&data) < 1e-10);
}

#[test]
fn least_squares_refuses_what_has_no_unique_solution() {
    let too_few = synthetic_data(&Config { examples: 2, ..Config::default() }, &mut seeded_rng(0));
    assert!(matches!(analytic::least_squares(&too_few), Err(Error::InvalidArgument { .. })));
    // The second feature is twice the first: w₁ + 2w₂ is all the data can pin down.
    let mut data = synthetic_data(&Config { examples: 20, ..Config::default() }, &mut seeded_rng(0));
    let doubled = data.x.row(0) * 2.0;
    data.x.set_row(1, &doubled);
    assert!(matches!(analytic::least_squares(&data), Err(Error::InvalidArgument { .. })));
    assert!(analytic::normal_equations(&data).is_err() || analytic::condition_number(&data) > 1e6);
}

#[test]
fn the_same_seed_gives_identical_numbers() {
    let config = Config::default();
    let (a, history_a, _) = scratch_run(&config, 7);
    let (b, history_b, _) = scratch_run(&config, 7);
    assert_eq!(a.unwrap(), b.unwrap());
    assert_eq!(history_a, history_b);
    let (c, _, _) = scratch_run(&config, 8);
    assert_ne!(history_a.final_loss(), None);
    assert_ne!(c.unwrap(), scratch_run(&config, 7).0.unwrap());
}

fn assert_diverged_cleanly(outcome: dlcore::Result<Estimate>, history: &History) {
    match outcome {
        Err(Error::Diverged { lr, epoch, .. }) => assert_eq!((lr, epoch), (3.0, 1)),
        other => panic!("expected divergence, got {other:?}"),
    }
    assert!(!history.batch_losses.is_empty());
    assert!(history.batch_losses.iter().all(|l| l.is_finite()));
    assert!(history.batch_losses.len() < 100, "stopped early: {}", history.batch_losses.len());
}

#[test]
fn a_diverging_rate_is_an_error_with_a_finite_curve() {
    let config = Config { lr: 3.0, ..Config::default() };
    let (outcome, history, _) = scratch_run(&config, 0);
    assert_diverged_cleanly(outcome, &history);
    let (outcome, history) = concise_run(&config, 0);
    assert_diverged_cleanly(outcome, &history);
}

#[test]
fn the_sweep_keeps_every_run_and_flags_the_diverged_one() {
    let runs = learning_rates(&Config::default(), &[0.003, 0.03, 3.0], 0);
    assert_eq!(runs.iter().map(|r| r.diverged()).collect::<Vec<_>>(), [false, false, true]);
    let loss = |i: usize| runs[i].history.final_loss().unwrap();
    // Too small a rate is still far from the floor after three epochs.
    assert!(loss(0) > 100.0 * loss(1), "{} vs {}", loss(0), loss(1));
    // The default rate of the sweep is the default run.
    let (_, history, _) = scratch_run(&Config::default(), 0);
    assert_eq!(runs[1].history, history);
}

#[test]
fn impossible_configurations_are_errors() {
    let data = synthetic_data(&Config::default(), &mut seeded_rng(0));
    for config in [
        Config { batch_size: 0, ..Config::default() },
        Config { epochs: 0, ..Config::default() },
        Config { lr: -1.0, ..Config::default() },
        Config { lr: f32::NAN, ..Config::default() },
    ] {
        let result = scratch::train(&config, &data, &mut seeded_rng(0), &mut History::default());
        assert!(matches!(result, Err(Error::InvalidArgument { .. })), "{config:?}");
    }
}
