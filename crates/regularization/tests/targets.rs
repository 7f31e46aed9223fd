//! The issue's targets for the two small experiments, at the binaries' defaults
//! (seed 0): they run in well under a second, so they are checked on every test run.

use dlcore::seeded_rng;
use regularization::polyfit::{
    NOISE_STD, PolyfitConfig, Polynomial, Setting, data_rng, fit_setting, poly_data,
};
use regularization::regression::SgdConfig;
use regularization::weight_decay::{FEATURES, ScratchLinear, decay_data, train_both};

#[test]
fn polyfit_reaches_the_issue_targets_at_the_defaults() {
    let data = poly_data(100, 100, NOISE_STD, &mut data_rng(0));
    let config = PolyfitConfig::default();
    let mut rng = seeded_rng(0);
    let results: Vec<_> =
        Setting::ALL.iter().map(|&s| fit_setting(s, &data, &config, &mut rng).unwrap()).collect();
    let [normal, under, over] = [&results[0], &results[1], &results[2]];

    let last = normal.last();
    assert!(last.train_loss < 0.008 && last.test_loss < 0.008, "normal fit: {last:?}");
    let truth = Polynomial::truth();
    for (learned, true_value) in normal.sgd.coefficients.iter().zip(&truth.coefficients) {
        assert!((learned - true_value).abs() < 0.05, "weights {:?}", normal.sgd.coefficients);
    }
    assert!((normal.sgd.bias - 5.0).abs() < 0.05, "bias {}", normal.sgd.bias);
    // SGD has reached the least-squares solution, up to its own noise.
    assert!((f64::from(last.test_loss) - normal.least_squares_test_loss).abs() < 0.001);

    assert!(under.last().test_loss > 20.0, "under-fitting: {:?}", under.last());
    assert!(over.last().test_loss > 100.0 * last.test_loss, "over-fitting: {:?}", over.last());
    assert_eq!(over.train_examples, 2);
    // The over-fitted model fits its two examples far better than it fits the test set.
    assert!(over.last().train_loss < over.last().test_loss / 100.0);
}

#[test]
fn polyfit_is_deterministic_for_a_seed() {
    let run = |seed| {
        let data = poly_data(100, 100, NOISE_STD, &mut data_rng(seed));
        fit_setting(Setting::Normal, &data, &PolyfitConfig::default(), &mut seeded_rng(seed)).unwrap()
    };
    assert_eq!(run(4), run(4));
    assert_ne!(run(4).history, run(5).history);
}

#[test]
fn weight_decay_reaches_the_issue_targets_at_the_defaults() {
    let mut rng = seeded_rng(0);
    let data = decay_data(20, 100, &mut rng);
    let start = ScratchLinear::init(FEATURES, &mut rng);
    let config = SgdConfig { lr: 0.003, batch_size: 1, epochs: 100, weight_decay: 0.0 };
    let plain = train_both(0.0, &data, &start, &config, &rng).unwrap();
    let decayed = train_both(3.0, &data, &start, &config, &rng).unwrap();
    let (p, d) = (plain.scratch.last().unwrap(), decayed.scratch.last().unwrap());
    assert!(p.weight_norm > 5.0, "λ = 0: ‖w‖ = {}", p.weight_norm);
    assert!(d.weight_norm < 0.2, "λ = 3: ‖w‖ = {}", d.weight_norm);
    assert!(d.test_loss < p.test_loss, "test loss {} (λ = 3) vs {} (λ = 0)", d.test_loss, p.test_loss);
    // λ = 0 over-fits: it fits the 20 training examples almost exactly.
    assert!(p.train_loss < 1e-6 && p.test_loss > 10.0);
    for run in [&plain, &decayed] {
        assert!(
            run.max_parameter_difference() < 1e-4,
            "scratch and optimizer differ: {}",
            run.max_parameter_difference()
        );
    }
}
