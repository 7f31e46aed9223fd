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
        output_activation: None,
        init: Init::KaimingNormal,
        lr,
        momentum: 0.9,
        weight_decay: 0.0,
        lr_schedule: None,
        batch_size: 32,
        epochs: 5,
    }
}

fn run(lr: f32, seed: u64) -> dlcore::Result<Vec<EpochReport>> {
    let data = load_sample(ImageSet::Mnist)?;
    let (train_part, test_part) =
        (data.subset(&(0..800).collect::<Vec<_>>()), data.subset(&(800..1000).collect::<Vec<_>>()));
    let (_, reports) =
        train(&config(lr), &train_part, &test_part, 10, &mut seeded_rng(seed), |_| {}, |_, _| Ok(()))?;
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

/// Trains on the sample and records every epoch as the main job does, into `dir`.
fn record_run(dir: &std::path::Path, seed: u64) -> dlcore::Result<()> {
    let data = load_sample(ImageSet::Mnist)?;
    let (train_part, test_part) =
        (data.subset(&(0..800).collect::<Vec<_>>()), data.subset(&(800..1000).collect::<Vec<_>>()));
    let mut recorder = dlcore::record::Recorder::create(dir)?;
    let mut short = config(0.05);
    short.epochs = 3;
    train(
        &short,
        &train_part,
        &test_part,
        10,
        &mut seeded_rng(seed),
        |_| {},
        |r, _| recorder.record_epoch(&r.metrics_row()),
    )?;
    Ok(())
}

#[test]
fn the_same_seed_writes_an_identical_metrics_file() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("c"));
    record_run(&a, 7).unwrap();
    record_run(&b, 7).unwrap();
    record_run(&c, 8).unwrap();
    let read = |d: &std::path::Path| std::fs::read(d.join(dlcore::record::METRICS_FILE)).unwrap();
    let first = read(&a);
    assert!(String::from_utf8_lossy(&first).starts_with("epoch,lr,train_loss,"));
    assert_eq!(first, read(&b), "same seed, same bytes");
    assert_ne!(first, read(&c), "another seed, other numbers");
}

#[test]
fn evaluation_counts_dead_outputs_only_under_an_output_relu() {
    let data = load_sample(ImageSet::Mnist).unwrap().head(200);
    let mut plain = config(0.05);
    plain.hidden = vec![16];
    let mut net = mlp::build(&plain, data.features(), 10, &mut seeded_rng(1));
    assert_eq!(mlp::evaluate(&mut net, &data, 64).unwrap().dead_outputs, 0);
    // Output weights and biases all negative on non-negative hidden activations:
    // every logit is negative, so the ReLU silences all ten output units.
    let mut dead = plain.clone();
    dead.output_activation = Some(Activation::Relu);
    let mut net = mlp::build(&dead, data.features(), 10, &mut seeded_rng(1));
    if let Some(dlcore::layer::Layer::Linear(last)) =
        net.layers.iter_mut().rev().find(|l| matches!(l, dlcore::layer::Layer::Linear(_)))
    {
        last.weight.apply(|w| *w = -w.abs());
        last.bias.fill(-0.1);
    }
    let evaluation = mlp::evaluate(&mut net, &data, 64).unwrap();
    assert_eq!(evaluation.dead_outputs, 10);
    // Ten equal scores: every image is called a 0, and the loss is exactly ln 10.
    let zeros = data.y.iter().filter(|&&y| y == 0).count();
    assert_eq!(evaluation.correct, zeros);
    assert!((evaluation.loss - 10f32.ln()).abs() < 1e-5);
}
