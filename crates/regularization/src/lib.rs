//! Chapter `regularization`: model selection, under- and over-fitting, weight decay
//! and dropout (book/src/regularization.md).
//!
//! - [`regression`]: linear regression trained by minibatch SGD from `dlcore`'s
//!   pieces, with per-epoch train and test loss: the model of the first three parts.
//! - [`polyfit`]: fitting a cubic with the right features, too few features and too
//!   few examples, and the least-squares fit each setting's SGD is approaching.
//! - [`cross_validation`]: K-fold cross-validation over `dlcore`'s folds, used to
//!   choose a polynomial degree and a weight-decay strength.
//! - [`weight_decay`]: L2 regularization written out, beside `dlcore`'s optimizer
//!   weight decay, on a 200-feature problem with 20 examples.
//! - [`dropout`]: inverted dropout as a layer with a train and an eval mode.
//! - [`dropout_mlp`]: an MLP with dropout between its layers, and its training loop on
//!   Fashion-MNIST.

pub mod cross_validation;
pub mod dropout;
pub mod dropout_mlp;
pub mod polyfit;
pub mod regression;
pub mod weight_decay;

/// The median of `values` (the mean of the middle two for an even count); NaN for
/// none. Runs are compared by the median over seeds, which one unlucky seed cannot
/// drag.
pub fn median(values: &[f32]) -> f32 {
    let mut sorted: Vec<f32> = values.to_vec();
    sorted.sort_by(f32::total_cmp);
    match sorted.len() {
        0 => f32::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]),
    }
}

/// `v` written with `digits` significant digits but never fewer than the units
/// (`0.00512`, `1.23`, `105`), and in scientific notation below 0.001 (`2.73e-12`):
/// how the generated tables print losses that range from 1e-12 to the hundreds.
pub fn significant(v: f64, digits: usize) -> String {
    if !v.is_finite() || v == 0.0 {
        return format!("{v}");
    }
    let magnitude = v.abs().log10().floor() as i64;
    if magnitude < -3 {
        let decimals = digits.saturating_sub(1);
        return format!("{v:.decimals$e}");
    }
    let decimals = (digits as i64 - 1 - magnitude).max(0) as usize;
    format!("{v:.decimals$}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(super::median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(super::median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(super::median(&[]).is_nan());
    }

    #[test]
    fn significant_digits() {
        assert_eq!(super::significant(0.0051234, 3), "0.00512");
        assert_eq!(super::significant(1.23456, 3), "1.23");
        assert_eq!(super::significant(105.23, 3), "105");
        assert_eq!(super::significant(-0.5, 2), "-0.50");
        assert_eq!(super::significant(2.7328e-12, 3), "2.73e-12");
    }
}
