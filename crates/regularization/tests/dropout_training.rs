//! The dropout MLP's training loop on real (sample) Fashion-MNIST images: it learns
//! with and without dropout, and a run is deterministic for a seed.

use dlcore::data::images::{CLASSES, ImageSet, load_sample};
use regularization::dropout_mlp::{DropoutConfig, EpochReport, RunRngs, train};

fn run(config: &DropoutConfig, seed: u64) -> Vec<EpochReport> {
    let data = load_sample(ImageSet::FashionMnist).expect("the committed Fashion-MNIST sample");
    let (train_part, test_part) =
        (data.subset(&(0..800).collect::<Vec<_>>()), data.subset(&(800..1000).collect::<Vec<_>>()));
    let (_, reports) =
        train(config, &train_part, &test_part, CLASSES, &mut RunRngs::from_seed(seed), |_| {}, |_| Ok(()))
            .expect("training on the sample");
    reports
}

fn small() -> DropoutConfig {
    DropoutConfig {
        hidden: vec![64, 64],
        dropout: vec![0.2, 0.5],
        init: dlcore::init::Init::KaimingNormal,
        batch_size: 32,
        lr: 0.1,
        epochs: 8,
        ..DropoutConfig::d2l()
    }
}

#[test]
fn learns_fashion_mnist_with_and_without_dropout() {
    for config in [small(), small().without_dropout()] {
        let reports = run(&config, 0);
        let (first, last) = (&reports[0], reports.last().unwrap());
        assert!(last.train_loss < first.train_loss, "{config:?}: {first:?} → {last:?}");
        // Chance is 10 %; 800 images and 8 epochs reach well above 60 %.
        assert!(last.test_accuracy > 0.6, "{config:?}: test accuracy {}", last.test_accuracy);
    }
}

#[test]
fn the_same_seed_gives_identical_numbers() {
    let config = DropoutConfig { epochs: 2, ..small() };
    assert_eq!(run(&config, 1), run(&config, 1));
    assert_ne!(run(&config, 1), run(&config, 2));
}
