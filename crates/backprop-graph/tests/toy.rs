//! The engine trains a real classifier: an MLP on two moons learns a curved boundary,
//! the same seed gives the same run, and a diverging run is an error.

use backprop_graph::toy::{StepReport, ToyConfig, ToyProblem, generate, probability_grid, train};
use dlcore::activation::Activation;
use dlcore::init::Init;
use dlcore::{Error, seeded_rng};

fn config(lr: f32, steps: usize) -> ToyConfig {
    ToyConfig {
        hidden: vec![16, 16],
        activation: Activation::Tanh,
        init: Init::XavierNormal,
        lr,
        momentum: 0.9,
        weight_decay: 1e-3,
        steps,
        log_every: 50,
    }
}

fn run(problem: ToyProblem, lr: f32, steps: usize, seed: u64) -> dlcore::Result<Vec<StepReport>> {
    let mut rng = seeded_rng(seed);
    let train_set = generate(problem, 200, 0.2, &mut rng);
    let test_set = generate(problem, 400, 0.2, &mut rng);
    let (_, reports) = train(&config(lr, steps), &train_set, &test_set, &mut rng, || {}, |_| Ok(()))?;
    Ok(reports)
}

#[test]
fn learns_two_moons_beyond_a_straight_line() {
    let reports = run(ToyProblem::Moons, 0.1, 400, 0).unwrap();
    let (first, last) = (&reports[0], reports.last().unwrap());
    assert!(last.train_loss < first.train_loss / 3.0, "loss {} → {}", first.train_loss, last.train_loss);
    // A straight line gets 85–88 % of these noisy moons right; the MLP bends around them.
    assert!(last.test_accuracy > 0.93, "test accuracy {}", last.test_accuracy);
    assert_eq!(last.step, 400);
}

#[test]
fn learns_xor() {
    let last = run(ToyProblem::Xor, 0.1, 300, 1).unwrap().pop().unwrap();
    assert!(last.test_accuracy > 0.97, "test accuracy {}", last.test_accuracy);
}

#[test]
fn the_same_seed_gives_the_same_run() {
    assert_eq!(run(ToyProblem::Moons, 0.1, 100, 3).unwrap(), run(ToyProblem::Moons, 0.1, 100, 3).unwrap());
    assert_ne!(run(ToyProblem::Moons, 0.1, 100, 3).unwrap(), run(ToyProblem::Moons, 0.1, 100, 4).unwrap());
}

#[test]
fn a_diverging_run_is_an_error() {
    match run(ToyProblem::Moons, 1000.0, 200, 0) {
        Err(Error::Diverged { lr, .. }) => assert_eq!(lr, 1000.0),
        other => panic!("expected divergence, got {other:?}"),
    }
}

#[test]
fn the_data_has_balanced_classes_and_xor_labels_follow_the_signs() {
    let data = generate(ToyProblem::Xor, 100, 0.0, &mut seeded_rng(0));
    assert_eq!(data.y.iter().filter(|&&c| c == 1).count(), 50);
    for (point, &label) in data.x.column_iter().zip(&data.y) {
        let signs_differ = (point[0] > 0.0) != (point[1] > 0.0);
        assert_eq!(label == 1, signs_differ, "{point} labelled {label}");
    }
    let moons = generate(ToyProblem::Moons, 101, 0.1, &mut seeded_rng(0));
    assert_eq!((moons.len(), moons.y.iter().filter(|&&c| c == 0).count()), (101, 51));
}

#[test]
fn the_probability_grid_is_a_distribution_per_cell() {
    let mut rng = seeded_rng(2);
    let train_set = generate(ToyProblem::Moons, 100, 0.2, &mut rng);
    let (net, _) = train(&config(0.1, 20), &train_set, &train_set, &mut rng, || {}, |_| Ok(())).unwrap();
    let grid = probability_grid(&net, (-1.0, 2.0), (-1.0, 1.5), 7);
    assert_eq!(grid.probabilities.shape(), (2, 49));
    for cell in grid.probabilities.column_iter() {
        assert!((cell.sum() - 1.0).abs() < 1e-5);
    }
}
