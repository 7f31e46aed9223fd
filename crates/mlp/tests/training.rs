//! The training loop on real (sample) MNIST data: it learns, it is deterministic,
//! and a diverging run is an error rather than NaN output.

use dlcore::activation::Activation;
use dlcore::data::images::{ImageSet, load_sample};
use dlcore::init::Init;
use dlcore::{Error, seeded_rng};
use mlp::{Config, EpochReport, train};

fn config(lr: f32) -> Config {
    Config {
        hidden: vec![64],
        activation: Activation::Relu,
        init: Init::KaimingNormal,
        lr,
        momentum: 0.9,
        weight_decay: 0.0,
        batch_size: 32,
        epochs: 5,
    }
}

fn run(lr: f32, seed: u64) -> dlcore::Result<Vec<EpochReport>> {
    let data = load_sample(ImageSet::Mnist)?;
    let (train_part, test_part) =
        (data.subset(&(0..800).collect::<Vec<_>>()), data.subset(&(800..1000).collect::<Vec<_>>()));
    let (_, reports) =
        train(&config(lr), &train_part, &test_part, 10, &mut seeded_rng(seed), |_| {}, |_| Ok(()))?;
    Ok(reports)
}

#[test]
fn learns_mnist_digits_from_800_examples() {
    let reports = run(0.05, 0).unwrap();
    let first = &reports[0];
    let last = reports.last().unwrap();
    assert!(
        last.train_loss < first.train_loss / 3.0,
        "train loss {} → {}",
        first.train_loss,
        last.train_loss
    );
    // Chance is 10 %; a 784-64-10 MLP on 800 digits reaches well above 80 %.
    assert!(last.test_accuracy() > 0.8, "test accuracy {}", last.test_accuracy());
}

#[test]
fn the_same_seed_gives_identical_numbers() {
    assert_eq!(run(0.05, 3).unwrap(), run(0.05, 3).unwrap());
    assert_ne!(run(0.05, 3).unwrap(), run(0.05, 4).unwrap());
}

#[test]
fn a_diverging_run_is_an_error() {
    match run(1000.0, 0) {
        Err(Error::Diverged { lr, .. }) => assert_eq!(lr, 1000.0),
        other => panic!("expected divergence, got {other:?}"),
    }
}
