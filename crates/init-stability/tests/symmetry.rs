//! Constant weights keep every hidden unit identical however long the network
//! trains; random weights do not. On real digits (the committed MNIST sample).

use dlcore::activation::Activation;
use dlcore::data::dataset::Labeled;
use dlcore::data::images::{ImageSet, load_sample};
use dlcore::init::Init;
use dlcore::layer::Layer;
use dlcore::seeded_rng;
use init_stability::symmetry::{SymmetryConfig, SymmetryRun, first_layer, row_spread, train_steps};
use nalgebra::DMatrix;

fn split() -> (Labeled, Labeled) {
    let data = load_sample(ImageSet::Mnist).expect("the committed MNIST sample");
    (data.subset(&(0..800).collect::<Vec<_>>()), data.subset(&(800..1000).collect::<Vec<_>>()))
}

fn run(activation: Activation, init: Init) -> SymmetryRun {
    let (train, test) = split();
    let config = SymmetryConfig { hidden: 16, activation, lr: 0.5, batch_size: 32, steps: 300 };
    train_steps(&config, init, &train, &test, 10, &mut seeded_rng(0)).expect("a valid configuration")
}

#[test]
fn constant_weights_keep_the_rows_of_the_first_layer_equal() {
    for activation in [Activation::Sigmoid, Activation::Tanh, Activation::Relu] {
        let result = run(activation, Init::Constant(0.01));
        let w = &first_layer(&result.net).weight;
        // The weights did move (they are no longer 0.01 everywhere)…
        assert!(w.iter().any(|&v| (v - 0.01).abs() > 1e-3), "{activation}: the first layer never changed");
        // …but every unit moved exactly like the first one: each computes its output
        // with the same operations on the same numbers, so the rows agree bit for bit.
        for (j, row) in w.row_iter().enumerate() {
            assert_eq!(row, w.row(0), "{activation}: unit {j} differs from unit 0");
        }
        assert!(result.spread.iter().all(|&s| s == 0.0), "{activation}: the units parted at some step");
        // The output layer sees identical units too: its columns stay equal.
        let Some(Layer::Linear(output)) = result.net.layers.last() else { unreachable!() };
        for column in output.weight.column_iter() {
            assert_eq!(column, output.weight.column(0));
        }
    }
}

#[test]
fn random_weights_break_the_symmetry() {
    let constant = run(Activation::Sigmoid, Init::Constant(0.01));
    let random = run(Activation::Sigmoid, Init::XavierUniform);
    let w = &first_layer(&random.net).weight;
    assert!(row_spread(w) > 0.1, "spread {}", row_spread(w));
    // No two units alike.
    for j in 0..w.nrows() {
        for k in 0..j {
            assert!((w.row(j) - w.row(k)).abs().max() > 1e-3, "units {j} and {k} coincide");
        }
    }
    // Sixteen different units beat one unit copied sixteen times.
    assert!(
        random.test_accuracy > constant.test_accuracy + 0.2,
        "random {} vs constant {}",
        random.test_accuracy,
        constant.test_accuracy
    );
}

#[test]
fn row_spread_measures_the_largest_difference_from_the_first_row() {
    let w = DMatrix::from_row_slice(3, 2, &[1.0, 2.0, 1.0, 2.0, 1.5, 1.0]);
    assert_eq!(row_spread(&w), 1.0);
    assert_eq!(row_spread(&DMatrix::from_element(4, 3, 0.7)), 0.0);
}
