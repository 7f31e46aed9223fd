//! The figures are written (as SVG or PNG), and bad input is an error, not a panic.

use dlcore::Error;
use dlcore::data::images::{ImageSet, load_sample};
use softmax::EpochReport;
use softmax::figures::{ProbabilityPanel, prediction_grid, probability_bars, training_curves};

#[test]
fn figures_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let data = load_sample(ImageSet::FashionMnist).unwrap();
    let names = ImageSet::FashionMnist.class_names();
    let reports: Vec<EpochReport> = (1..=3)
        .map(|epoch| EpochReport {
            epoch,
            train_loss: 1.0 / epoch as f32,
            train_accuracy: 0.7,
            test_accuracy: 0.69,
        })
        .collect();
    training_curves(&dir.path().join("curves.svg"), "curves", &reports).unwrap();
    let predicted: Vec<u8> = data.y.iter().map(|&y| (y + 1) % 10).collect();
    prediction_grid(&dir.path().join("grid.png"), &data, &predicted, &names, 6, 3).unwrap();
    let mut probs = vec![0.05f32; 10];
    probs[3] = 0.55;
    let panel = ProbabilityPanel {
        pixels: softmax::figures::column(&data.x, 0),
        probs,
        truth: usize::from(data.y[0]),
        title: "example".into(),
    };
    probability_bars(&dir.path().join("bars.svg"), &[panel.clone(), panel], &names, 2).unwrap();
    let svg = std::fs::read_to_string(dir.path().join("bars.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("ankle boot"), "{}", &svg[..200.min(svg.len())]);
    let png = std::fs::read(dir.path().join("grid.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
}

#[test]
fn a_malformed_panel_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let names = ImageSet::Mnist.class_names();
    let pixels = vec![0.0f32; 10];
    let panel = ProbabilityPanel { pixels: &pixels, probs: vec![0.1; 10], truth: 0, title: String::new() };
    assert!(matches!(
        probability_bars(&dir.path().join("bad.svg"), &[panel], &names, 1),
        Err(Error::Plot { .. })
    ));
    assert!(matches!(
        probability_bars(&dir.path().join("none.svg"), &[], &names, 1),
        Err(Error::Plot { .. })
    ));
}
