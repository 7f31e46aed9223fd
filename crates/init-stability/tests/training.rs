//! Training from each initializer on real digits (the committed MNIST sample): the
//! deep network's fate is decided by its initial weights.

use dlcore::activation::Activation;
use dlcore::data::dataset::Labeled;
use dlcore::data::images::{ImageSet, load_sample, standardize};
use dlcore::init::Init;
use dlcore::seeded_rng;
use init_stability::training::{Curves, TrainConfig, train};

fn split() -> (Labeled, Labeled) {
    let data = load_sample(ImageSet::Mnist).expect("the committed MNIST sample");
    let mut train_part = data.subset(&(0..800).collect::<Vec<_>>());
    let mut test_part = data.subset(&(800..1000).collect::<Vec<_>>());
    standardize(&mut train_part, &mut [&mut test_part]);
    (train_part, test_part)
}

/// The binary's deep network, 8 hidden ReLU layers of 200, with its learning rate
/// and batch size, for a few epochs of 800 digits.
fn deep(init: Init) -> Curves {
    let (train_part, test_part) = split();
    let config = TrainConfig {
        hidden: vec![200; 8],
        activation: Activation::Relu,
        init,
        lr: 0.01,
        batch_size: 200,
        epochs: 10,
        log_every: 2,
    };
    train(&config, &train_part, &test_part, 10, &mut seeded_rng(0), |_| {}).expect("a valid configuration")
}

#[test]
fn the_deep_network_learns_from_kaiming_and_never_starts_from_small_weights() {
    let ln10 = 10f32.ln();
    let small = deep(Init::Normal { std: 0.01 });
    assert_eq!(small.diverged_at, None);
    // Every logged loss is chance level, ln 10 ≈ 2.303, to three decimals.
    assert!(small.train_loss.iter().all(|&(_, l)| (l - ln10).abs() < 1e-3), "{:?}", small.train_loss);
    let kaiming = deep(Init::KaimingNormal);
    assert!(kaiming.final_train_loss() < 1.0, "Kaiming: {:?}", kaiming.train_loss);
    assert!(kaiming.final_test_accuracy() > 0.6, "Kaiming: {:?}", kaiming.test_accuracy);
}

#[test]
fn the_deep_network_from_unit_normal_weights_never_learns() {
    let curves = deep(Init::Normal { std: 1.0 });
    // Either its loss stops being a number, or what is left after the first huge
    // steps predicts no better than a guess: the loss of guessing is ln 10, and one
    // digit of the ten is all it ever answers.
    let guessing = curves.train_loss.last().is_none_or(|&(_, l)| (l - 10f32.ln()).abs() < 0.05);
    assert!(curves.diverged_at.is_some() || guessing, "{:?}", curves.train_loss);
    assert!(curves.test_accuracy.iter().all(|&a| a < 0.25), "{:?}", curves.test_accuracy);
}

#[test]
fn curves_have_a_point_per_log_interval_and_an_accuracy_per_epoch() {
    let curves = deep(Init::KaimingNormal);
    // 800 examples in batches of 200: 4 steps an epoch, a point every 2 steps.
    assert_eq!(curves.train_loss.len(), 20);
    assert_eq!(curves.test_accuracy.len(), 10);
    assert_eq!(curves.train_loss[1].0, 1.0);
    assert_eq!(deep(Init::KaimingNormal), curves, "the same seed must give the same curves");
}
