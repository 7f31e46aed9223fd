//! Training and measuring on real (sample) images: accuracy by hand, learning well
//! above chance, scratch and concise in agreement, determinism, and divergence as
//! an error.

use dlcore::data::dataset::Labeled;
use dlcore::data::images::{ImageSet, load_sample};
use dlcore::{Error, seeded_rng};
use nalgebra::DMatrix;
use softmax::compare::{Comparison, train_with_objective};
use softmax::figures::{Verdict, telling_examples};
use softmax::objective::Objective;
use softmax::scratch::cross_entropy_into;
use softmax::{CLASSES, ConciseSoftmax, Config, EpochReport, SoftmaxRegression, evaluate_accuracy, train};

fn config(lr: f32, epochs: usize) -> Config {
    Config { batch_size: 32, epochs, classes: CLASSES, lr }
}

/// The 1,000-image committed sample, split 800 for training and 200 for testing.
fn sample(set: ImageSet) -> (Labeled, Labeled) {
    let data = load_sample(set).expect("the committed sample loads");
    let train_part: Vec<usize> = (0..800).collect();
    let test_part: Vec<usize> = (800..1000).collect();
    (data.subset(&train_part), data.subset(&test_part))
}

fn run_scratch(set: ImageSet, lr: f32, epochs: usize, seed: u64) -> dlcore::Result<Vec<EpochReport>> {
    let (train_set, test_set) = sample(set);
    let mut rng = seeded_rng(seed);
    let mut model = SoftmaxRegression::new(784, CLASSES, 0.01, lr, &mut rng);
    train(&mut model, &train_set, &test_set, config(lr, epochs), cross_entropy_into, &mut rng, |_, _| Ok(()))
}

fn run_concise(set: ImageSet, lr: f32, epochs: usize, seed: u64) -> dlcore::Result<Vec<EpochReport>> {
    let (train_set, test_set) = sample(set);
    let mut rng = seeded_rng(seed);
    let mut model = ConciseSoftmax::new(784, CLASSES, 0.01, lr, &mut rng);
    let loss = dlcore::loss::cross_entropy_with_logits_into;
    train(&mut model, &train_set, &test_set, config(lr, epochs), loss, &mut rng, |_, _| Ok(()))
}

/// Two features, three classes, W = I (3 × 2 padded with a zero row) and b = (0, 0,
/// 0.5): class 0 wins when x₀ is largest, class 1 when x₁ is, class 2 when both are
/// below 0.5. Five examples, three of them labelled so the model is right.
#[test]
fn accuracy_on_a_hand_made_case() {
    let weight = DMatrix::from_row_slice(3, 2, &[1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
    let bias = DMatrix::from_column_slice(3, 1, &[0.0, 0.0, 0.5]);
    let mut model = SoftmaxRegression::from_parameters(weight, bias, 0.1);
    #[rustfmt::skip]
    let x = DMatrix::from_column_slice(2, 5, &[
        0.9, 0.1, // predicts 0
        0.2, 0.8, // predicts 1
        0.1, 0.2, // predicts 2
        0.7, 0.3, // predicts 0
        0.3, 0.9, // predicts 1
    ]);
    let data = Labeled::new(x, vec![0, 1, 2, 2, 0]);
    // Batches of 2 leave a last batch of 1: every batch must count.
    for batch_size in [1, 2, 5, 64] {
        let accuracy = evaluate_accuracy(&mut model, &data, batch_size);
        assert!((accuracy - 3.0 / 5.0).abs() < 1e-7, "batch {batch_size}: {accuracy}");
    }
}

#[test]
fn learns_fashion_mnist_well_above_chance() {
    let reports = run_scratch(ImageSet::FashionMnist, 0.1, 5, 0).unwrap();
    let (first, last) = (reports[0], reports[reports.len() - 1]);
    assert!(
        last.train_loss < 0.7 * first.train_loss,
        "train loss {} → {}",
        first.train_loss,
        last.train_loss
    );
    // Chance is 0.10; 800 images and a linear model reach about 0.75.
    assert!(last.test_accuracy > 0.6, "test accuracy {}", last.test_accuracy);
    assert!(last.train_accuracy > 0.7, "train accuracy {}", last.train_accuracy);
}

#[test]
fn learns_mnist_well_above_chance() {
    let last = *run_scratch(ImageSet::Mnist, 0.1, 5, 0).unwrap().last().unwrap();
    assert!(last.test_accuracy > 0.7, "test accuracy {}", last.test_accuracy);
}

/// Same seed, same initial weights, same batches, the same formulas in a different
/// place: the two implementations agree to rounding.
#[test]
fn scratch_and_concise_agree() {
    let scratch = run_scratch(ImageSet::FashionMnist, 0.1, 2, 5).unwrap();
    let concise = run_concise(ImageSet::FashionMnist, 0.1, 2, 5).unwrap();
    for (a, b) in scratch.iter().zip(&concise) {
        assert!((a.train_loss - b.train_loss).abs() < 1e-5, "{a:?} vs {b:?}");
        assert!((a.test_accuracy - b.test_accuracy).abs() <= 1.0 / 200.0, "{a:?} vs {b:?}");
    }
}

#[test]
fn the_same_seed_gives_identical_numbers() {
    let run = |seed| run_scratch(ImageSet::FashionMnist, 0.1, 2, seed).unwrap();
    assert_eq!(run(3), run(3));
    assert_ne!(run(3), run(4));
}

#[test]
fn a_diverging_run_is_an_error_not_nan() {
    match run_scratch(ImageSet::FashionMnist, 1e5, 3, 0) {
        Err(Error::Diverged { lr, .. }) => assert_eq!(lr, 1e5),
        other => panic!("expected divergence, got {other:?}"),
    }
}

/// The chapter's claim, on the sample: over the first three epochs at the same
/// learning rate, cross-entropy is well ahead of sigmoid + squared error.
#[test]
fn cross_entropy_learns_faster_than_sigmoid_squared_error() {
    let (train_set, test_set) = sample(ImageSet::FashionMnist);
    let setup = Comparison { config: config(0.1, 3), weight_std: 0.01, evals_per_epoch: 4, seed: 0 };
    let ce = train_with_objective(Objective::CrossEntropy, 0.1, &train_set, &test_set, &setup).unwrap();
    let mse = train_with_objective(Objective::SigmoidSquared, 0.1, &train_set, &test_set, &setup).unwrap();
    // The curve starts before training and has evals_per_epoch points per epoch.
    assert_eq!(ce.test_curve.len(), 1 + 3 * 4);
    assert_eq!(ce.test_curve[0].0, 0.0);
    assert_eq!(ce.test_curve[4].0, 1.0);
    // Single measurements on 200 test images are noisy; the mean over the curve
    // (after the start, where both are the same untrained model) is not.
    let mean =
        |curve: &[(f64, f32)]| curve[1..].iter().map(|(_, a)| a).sum::<f32>() / (curve.len() - 1) as f32;
    let (ce_mean, mse_mean) = (mean(&ce.test_curve), mean(&mse.test_curve));
    assert!(
        ce_mean > mse_mean + 0.08,
        "mean test accuracy: cross-entropy {ce_mean}, sigmoid + squared error {mse_mean}"
    );
}

#[test]
fn telling_examples_pick_the_first_of_each_kind() {
    #[rustfmt::skip]
    let probs = DMatrix::from_column_slice(3, 5, &[
        0.95, 0.03, 0.02, // 0: sure and right (label 0)
        0.40, 0.35, 0.25, // 1: unsure but right (label 0)
        0.10, 0.60, 0.30, // 2: close miss (label 2)
        0.05, 0.90, 0.05, // 3: sure but wrong (label 0)
        0.96, 0.02, 0.02, // 4: sure and right again: not picked
    ]);
    let predicted = [0u8, 0, 1, 1, 0];
    let labels = [0u8, 0, 2, 0, 0];
    let picked = telling_examples(&probs, &predicted, &labels);
    assert_eq!(
        picked,
        vec![
            (0, Verdict::SureAndRight),
            (1, Verdict::UnsureButRight),
            (2, Verdict::CloseMiss),
            (3, Verdict::SureButWrong)
        ]
    );
}
