//! Under- and over-fitting on a cubic: y = 5 + 1.2x − 3.4x² + 5.6x³ + ε.
//!
//! The same linear model and the same SGD fit the data in three settings: with the
//! features x, x², x³ (a model of the right complexity), with x alone (too simple:
//! under-fitting), and with x, x², x³ but only two training examples for four
//! parameters (too little data: over-fitting). Beside each SGD run sits the
//! least-squares fit of the same setting, the point SGD is heading for.

use dlcore::data::Dataset;
use dlcore::data::synthetic::{polynomial, powers};
use dlcore::init::Init;
use dlcore::{Result, Rng};
use nalgebra::{DMatrix, DVector};

use crate::regression::{EpochLosses, SgdConfig, linear_model, train_linear};

/// The coefficients of x, x², x³ in the true function.
pub const TRUE_WEIGHTS: [f32; 3] = [1.2, -3.4, 5.6];
/// The true intercept.
pub const TRUE_BIAS: f32 = 5.0;
/// The standard deviation σ of the noise ε. With the loss ½(ŷ − y)², even the true
/// function scores σ²/2 on fresh data: the noise floor.
pub const NOISE_STD: f32 = 0.1;

/// The chapter's data: the raw inputs x (one row) and targets, split into training
/// and test examples.
#[derive(Debug, Clone, PartialEq)]
pub struct PolyData {
    pub train: Dataset,
    pub test: Dataset,
}

/// The generator the data of seed `seed` are drawn from: a stream of its own, apart
/// from the one that draws initial weights and batches, so the `polyfit` and `kfold`
/// binaries see the same data for the same seed whatever else they draw, and a change
/// to the training (more epochs, another batch size) never changes the data.
pub fn data_rng(seed: u64) -> Rng {
    let mut rng = dlcore::seeded_rng(seed);
    rng.set_stream(1);
    rng
}

/// Draws `train + test` examples of the cubic with noise `noise_std` in one go and
/// takes the first `train` for training, the rest for testing.
pub fn poly_data(train: usize, test: usize, noise_std: f32, rng: &mut Rng) -> PolyData {
    let all = polynomial(&TRUE_WEIGHTS, TRUE_BIAS, noise_std, train + test, rng);
    let first: Vec<usize> = (0..train).collect();
    let rest: Vec<usize> = (train..train + test).collect();
    PolyData { train: all.subset(&first), test: all.subset(&rest) }
}

/// A polynomial b + Σ cᵢ·xⁱ (i from 1), in `f64`: a fitted model in a form that can be
/// printed, compared with the truth and drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct Polynomial {
    /// `coefficients[i]` multiplies x^(i+1).
    pub coefficients: Vec<f64>,
    pub bias: f64,
}

impl Polynomial {
    /// The true cubic.
    pub fn truth() -> Self {
        Polynomial {
            coefficients: TRUE_WEIGHTS.iter().map(|&c| f64::from(c)).collect(),
            bias: f64::from(TRUE_BIAS),
        }
    }

    /// A trained linear model on the features x, x², …, read as a polynomial.
    pub fn from_linear(weight: &DMatrix<f32>, bias: f32) -> Self {
        Polynomial { coefficients: weight.iter().map(|&w| f64::from(w)).collect(), bias: f64::from(bias) }
    }

    /// Its degree (the number of coefficients).
    pub fn degree(&self) -> usize {
        self.coefficients.len()
    }

    /// The value at `x`.
    pub fn eval(&self, x: f64) -> f64 {
        let mut power = 1.0;
        let mut sum = self.bias;
        for c in &self.coefficients {
            power *= x;
            sum += c * power;
        }
        sum
    }

    /// Mean ½(p(x) − y)² over the examples of `data` (raw x, one row).
    pub fn loss(&self, data: &Dataset) -> f64 {
        let total: f64 = data
            .x
            .iter()
            .zip(data.y.iter())
            .map(|(&x, &y)| 0.5 * (self.eval(f64::from(x)) - f64::from(y)).powi(2))
            .sum();
        total / data.len().max(1) as f64
    }

    /// The largest distance between its parameters (coefficients and bias) and
    /// `other`'s, over the coefficients both have.
    pub fn max_parameter_error(&self, other: &Polynomial) -> f64 {
        self.coefficients
            .iter()
            .zip(&other.coefficients)
            .map(|(a, b)| (a - b).abs())
            .fold((self.bias - other.bias).abs(), f64::max)
    }
}

/// The least-squares polynomial of a given degree, and how well determined it was.
#[derive(Debug, Clone, PartialEq)]
pub struct LeastSquares {
    pub polynomial: Polynomial,
    /// The rank of the design matrix.
    pub rank: usize,
    /// The number of unknowns, degree + 1: when `rank` is smaller, infinitely many
    /// polynomials fit equally well and [`least_squares`] returns the smallest one.
    pub unknowns: usize,
}

// ANCHOR: least_squares
/// The polynomial of `degree` that minimises Σ (p(xᵢ) − yᵢ)² over the examples of
/// `data` (raw x, one row), through the SVD of the design matrix A with rows
/// [1, xᵢ, xᵢ², …] (computed in `f64`). The SVD solution is the pseudo-inverse
/// A⁺y: the least-squares solution when A has full column rank, and, when it does not
/// (two examples cannot pin down four parameters), the one of smallest norm
/// ‖(b, c₁, …)‖ among the infinitely many that fit exactly.
pub fn least_squares(data: &Dataset, degree: usize) -> LeastSquares {
    let n = data.len();
    let design = DMatrix::from_fn(n, degree + 1, |i, j| f64::from(data.x[(0, i)]).powi(j as i32));
    let targets = DVector::from_iterator(n, data.y.iter().map(|&y| f64::from(y)));
    let svd = design.svd(true, true);
    let largest = svd.singular_values.max();
    // Singular values below this are numerically zero: their directions are not
    // determined by the data and are left at 0, which gives the minimum-norm solution.
    let eps = largest * f64::EPSILON * n.max(degree + 1) as f64;
    let rank = svd.rank(eps);
    let solution = svd.solve(&targets, eps).unwrap_or_else(|_| DVector::zeros(degree + 1));
    let polynomial =
        Polynomial { coefficients: solution.iter().skip(1).copied().collect(), bias: solution[0] };
    LeastSquares { polynomial, rank, unknowns: degree + 1 }
}
// ANCHOR_END: least_squares

// ANCHOR: settings
/// The three fits of the chapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// Features x, x², x³ and every training example: the model matches the truth.
    Normal,
    /// Only the feature x: no straight line follows a cubic.
    UnderFitting,
    /// Features x, x², x³ but only a handful of training examples (two by default)
    /// for four parameters.
    OverFitting,
}

impl Setting {
    pub const ALL: [Setting; 3] = [Setting::Normal, Setting::UnderFitting, Setting::OverFitting];

    /// The polynomial degree of the model's features.
    pub fn degree(self) -> usize {
        match self {
            Setting::Normal | Setting::OverFitting => 3,
            Setting::UnderFitting => 1,
        }
    }

    /// How many of the `available` training examples the setting trains on.
    pub fn train_examples(self, available: usize, overfit_examples: usize) -> usize {
        match self {
            Setting::Normal | Setting::UnderFitting => available,
            Setting::OverFitting => overfit_examples.min(available),
        }
    }

    /// A short name for file columns and summary keys.
    pub fn key(self) -> &'static str {
        match self {
            Setting::Normal => "normal",
            Setting::UnderFitting => "under",
            Setting::OverFitting => "over",
        }
    }

    /// The name for figure titles and tables.
    pub fn title(self) -> &'static str {
        match self {
            Setting::Normal => "normal fit",
            Setting::UnderFitting => "under-fitting",
            Setting::OverFitting => "over-fitting",
        }
    }
}
// ANCHOR_END: settings

/// The inputs of a setting: its training examples and the whole test set, raw x
/// (one row), before the features are taken.
pub fn setting_data(setting: Setting, data: &PolyData, overfit_examples: usize) -> PolyData {
    PolyData {
        train: data.train.head(setting.train_examples(data.train.len(), overfit_examples)),
        test: data.test.clone(),
    }
}

/// The model's inputs for raw data: the powers x, x², …, x^degree as features.
pub fn with_powers(data: &Dataset, degree: usize) -> Dataset {
    Dataset::new(powers(&data.x, degree), data.y.clone())
}

/// Everything one setting produced.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingResult {
    pub setting: Setting,
    pub train_examples: usize,
    /// Train and test loss after every epoch.
    pub history: Vec<EpochLosses>,
    /// The SGD model at the end.
    pub sgd: Polynomial,
    /// The SGD model after `checkpoint_epoch` epochs (d2l's 100), if the run got there.
    pub checkpoint: Option<Polynomial>,
    /// The least-squares fit of the same training examples and features.
    pub least_squares: LeastSquares,
    /// Its loss on the training examples and on the test set.
    pub least_squares_train_loss: f64,
    pub least_squares_test_loss: f64,
}

impl SettingResult {
    /// The last epoch's losses.
    pub fn last(&self) -> EpochLosses {
        self.history.last().copied().unwrap_or(EpochLosses {
            epoch: 0,
            train_loss: f32::NAN,
            test_loss: f32::NAN,
            weight_norm: f32::NAN,
        })
    }
}

/// How the polyfit experiment is run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PolyfitConfig {
    /// SGD settings (the batch is capped at the number of training examples).
    pub sgd: SgdConfig,
    /// Training examples of the over-fitting setting.
    pub overfit_examples: usize,
    /// The epoch whose parameters are kept for comparison with the end of the run.
    pub checkpoint_epoch: usize,
}

impl Default for PolyfitConfig {
    /// The chapter's settings: lr 0.01, batches of 10, 200 epochs, 2 examples to
    /// over-fit, and the parameters after d2l's 100 epochs kept for comparison.
    fn default() -> Self {
        PolyfitConfig {
            sgd: SgdConfig { lr: 0.01, batch_size: 10, epochs: 200, weight_decay: 0.0 },
            overfit_examples: 2,
            checkpoint_epoch: 100,
        }
    }
}

// ANCHOR: fit_setting
/// Trains a fresh linear model (weights N(0, 0.01²), bias 0) on the setting's
/// features with SGD, and solves the same problem by least squares.
pub fn fit_setting(
    setting: Setting,
    data: &PolyData,
    config: &PolyfitConfig,
    rng: &mut Rng,
) -> Result<SettingResult> {
    let raw = setting_data(setting, data, config.overfit_examples);
    let (train, test) = (with_powers(&raw.train, setting.degree()), with_powers(&raw.test, setting.degree()));
    let mut model = linear_model(setting.degree(), Init::Normal { std: 0.01 }, rng);
    let mut checkpoint = None;
    let history = train_linear(&mut model, &train, &test, &config.sgd, rng, |losses, model| {
        if losses.epoch == config.checkpoint_epoch {
            checkpoint = Some(Polynomial::from_linear(&model.weight, model.bias[0]));
        }
    })?;
    let least_squares = least_squares(&raw.train, setting.degree());
    Ok(SettingResult {
        setting,
        train_examples: train.len(),
        history,
        sgd: Polynomial::from_linear(&model.weight, model.bias[0]),
        checkpoint,
        least_squares_train_loss: least_squares.polynomial.loss(&raw.train),
        least_squares_test_loss: least_squares.polynomial.loss(&raw.test),
        least_squares,
    })
}
// ANCHOR_END: fit_setting

/// Runs all three settings on the same data, in order, drawing from one generator.
pub fn fit_all(data: &PolyData, config: &PolyfitConfig, rng: &mut Rng) -> Result<Vec<SettingResult>> {
    Setting::ALL.iter().map(|&setting| fit_setting(setting, data, config, rng)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dlcore::seeded_rng;

    #[test]
    fn least_squares_recovers_an_exact_polynomial() {
        let x = DMatrix::from_row_slice(1, 6, &[-2.0, -1.0, -0.5, 0.5, 1.0, 2.5]);
        let truth = Polynomial::truth();
        let y = x.map(|x| truth.eval(f64::from(x)) as f32);
        let fit = least_squares(&Dataset::new(x, y), 3);
        assert_eq!((fit.rank, fit.unknowns), (4, 4));
        assert!(fit.polynomial.max_parameter_error(&truth) < 1e-4, "{:?}", fit.polynomial);
    }

    #[test]
    fn with_too_few_examples_least_squares_is_the_minimum_norm_exact_fit() {
        let x = DMatrix::from_row_slice(1, 2, &[0.5, -1.5]);
        let y = DMatrix::from_row_slice(1, 2, &[3.0, -2.0]);
        let data = Dataset::new(x, y);
        let fit = least_squares(&data, 3);
        assert_eq!((fit.rank, fit.unknowns), (2, 4));
        assert!(fit.polynomial.loss(&data) < 1e-12, "fits both points exactly");
        // The minimum-norm solution lies in the row space of A: θ = Aᵀα for some α.
        // Check it against the closed form θ = Aᵀ(AAᵀ)⁻¹y.
        let a = DMatrix::from_fn(2, 4, |i, j| f64::from(data.x[(0, i)]).powi(j as i32));
        let yy = DVector::from_row_slice(&[3.0, -2.0]);
        let gram = &a * a.transpose();
        let theta = a.transpose() * gram.try_inverse().unwrap() * yy;
        assert!((fit.polynomial.bias - theta[0]).abs() < 1e-9);
        for (c, t) in fit.polynomial.coefficients.iter().zip(theta.iter().skip(1)) {
            assert!((c - t).abs() < 1e-9, "{c} vs {t}");
        }
    }

    #[test]
    fn the_settings_use_the_right_features_and_examples() {
        let data = poly_data(100, 100, NOISE_STD, &mut seeded_rng(0));
        let over = setting_data(Setting::OverFitting, &data, 2);
        assert_eq!((over.train.len(), over.test.len()), (2, 100));
        assert_eq!(over.train.x.columns(0, 2), data.train.x.columns(0, 2));
        let under =
            with_powers(&setting_data(Setting::UnderFitting, &data, 2).train, Setting::UnderFitting.degree());
        assert_eq!((under.features(), under.len()), (1, 100));
        let normal = with_powers(&data.train, 3);
        let x = data.train.x[(0, 7)];
        assert!((normal.x[(2, 7)] - x * x * x).abs() < 1e-5);
    }

    #[test]
    fn the_noise_floor_is_half_the_noise_variance() {
        // The true function's loss on a large test set is σ²/2 = 0.005.
        let data = poly_data(1, 20_000, NOISE_STD, &mut seeded_rng(3));
        let floor = Polynomial::truth().loss(&data.test);
        assert!((floor - 0.005).abs() < 0.0003, "{floor}");
    }
}
