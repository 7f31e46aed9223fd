//! K-fold cross-validation: choosing a model (a polynomial degree, a weight-decay
//! strength) with the training data alone, so the test set is used once, at the end.
//!
//! The folds come from [`dlcore::data::split::k_fold`]; this module runs one fit per
//! fold and averages, and uses that to choose the degree of the polyfit model.

use std::ops::RangeInclusive;

use dlcore::data::Dataset;
use dlcore::data::split::Split;

use crate::polyfit::least_squares;

/// The losses of one fit: on the examples it was trained on and on the held-out fold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FoldLosses {
    pub train: f64,
    pub validation: f64,
}

/// The K-fold estimate: mean train and validation loss over the folds, and the
/// standard error of the mean validation loss (the spread of the K fold losses over
/// √K), which says how far apart two estimates must be to mean anything.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CvScore {
    pub train: f64,
    pub validation: f64,
    pub validation_std_error: f64,
}

// ANCHOR: cross_validate
/// Runs `fit` once per fold (it trains on `split.train` and returns its losses on
/// `split.train` and `split.validation`) and averages over the folds: the K-fold
/// estimate of training and generalization error. Stops at the first error.
pub fn cross_validate<E>(
    folds: &[Split],
    mut fit: impl FnMut(&Split) -> Result<FoldLosses, E>,
) -> Result<CvScore, E> {
    let mut losses = Vec::with_capacity(folds.len());
    for split in folds {
        losses.push(fit(split)?);
    }
    let k = losses.len().max(1) as f64;
    let train = losses.iter().map(|l| l.train).sum::<f64>() / k;
    let validation = losses.iter().map(|l| l.validation).sum::<f64>() / k;
    let spread = losses.iter().map(|l| (l.validation - validation).powi(2)).sum::<f64>() / (k - 1.0).max(1.0);
    Ok(CvScore { train, validation, validation_std_error: (spread / k).sqrt() })
}
// ANCHOR_END: cross_validate

// ANCHOR: one_standard_error
/// Chooses among `scores`, ordered from the simplest model to the most complex: the
/// simplest whose validation loss is within one standard error of the lowest. A
/// model that only beats a simpler one by less than the noise of the estimate has not
/// shown that its extra complexity helps (the "one-standard-error rule").
pub fn simplest_within_one_std_error(scores: &[CvScore]) -> Option<usize> {
    let best = (0..scores.len()).min_by(|&a, &b| scores[a].validation.total_cmp(&scores[b].validation))?;
    let threshold = scores[best].validation + scores[best].validation_std_error;
    scores.iter().position(|s| s.validation <= threshold)
}
// ANCHOR_END: one_standard_error

/// The index of the lowest validation loss (`None` for no scores).
pub fn lowest_validation(scores: &[CvScore]) -> Option<usize> {
    (0..scores.len()).min_by(|&a, &b| scores[a].validation.total_cmp(&scores[b].validation))
}

/// The cross-validated losses of one polynomial degree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DegreeScore {
    pub degree: usize,
    pub cv: CvScore,
}

// ANCHOR: degree_scores
/// Cross-validates the least-squares polynomial of every degree in `degrees` on
/// `data` (raw x, one row) over `folds`.
pub fn degree_scores(data: &Dataset, degrees: RangeInclusive<usize>, folds: &[Split]) -> Vec<DegreeScore> {
    degrees
        .map(|degree| {
            let losses = cross_validate(folds, |split| {
                let (train, validation) = (data.subset(&split.train), data.subset(&split.validation));
                let fit = least_squares(&train, degree).polynomial;
                Ok::<_, std::convert::Infallible>(FoldLosses {
                    train: fit.loss(&train),
                    validation: fit.loss(&validation),
                })
            });
            let Ok(cv) = losses;
            DegreeScore { degree, cv }
        })
        .collect()
}
// ANCHOR_END: degree_scores

#[cfg(test)]
mod tests {
    use super::*;
    use crate::polyfit::{NOISE_STD, poly_data};
    use dlcore::data::split::k_fold;
    use dlcore::seeded_rng;

    #[test]
    fn every_example_is_validated_exactly_once_and_never_trained_on_then() {
        let n = 23;
        let folds = k_fold(n, 5, &mut seeded_rng(4)).unwrap();
        let mut validated = vec![0usize; n];
        let mut calls = 0;
        let score = cross_validate(&folds, |split| {
            calls += 1;
            let mut seen = vec![false; n];
            for &i in split.train.iter().chain(&split.validation) {
                assert!(!seen[i], "example {i} is in both parts or twice");
                seen[i] = true;
            }
            assert!(seen.iter().all(|&s| s), "the fold leaves an example out");
            for &i in &split.validation {
                validated[i] += 1;
            }
            // Report the fold's size so the mean can be checked.
            Ok::<_, ()>(FoldLosses {
                train: split.train.len() as f64,
                validation: split.validation.len() as f64,
            })
        })
        .unwrap();
        assert_eq!(calls, 5);
        assert!(validated.iter().all(|&v| v == 1), "{validated:?}");
        assert!(
            (score.validation - 23.0 / 5.0).abs() < 1e-12 && (score.train - 4.0 * 23.0 / 5.0).abs() < 1e-12
        );
        // Folds of 5, 5, 5, 4, 4: standard deviation √0.3, standard error √(0.3/5).
        assert!((score.validation_std_error - (0.3f64 / 5.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn an_error_in_one_fold_stops_cross_validation() {
        let folds = k_fold(10, 5, &mut seeded_rng(0)).unwrap();
        let mut calls = 0;
        let result = cross_validate(&folds, |_| {
            calls += 1;
            if calls == 2 { Err("diverged") } else { Ok(FoldLosses { train: 0.0, validation: 0.0 }) }
        });
        assert_eq!((result, calls), (Err("diverged"), 2));
    }

    #[test]
    fn the_rule_takes_the_simplest_model_within_one_standard_error() {
        let score =
            |validation, validation_std_error| CvScore { train: 0.0, validation, validation_std_error };
        let scores = [score(5.0, 0.1), score(1.05, 0.1), score(1.0, 0.1), score(1.2, 0.1)];
        assert_eq!(lowest_validation(&scores), Some(2));
        assert_eq!(simplest_within_one_std_error(&scores), Some(1));
        assert_eq!(simplest_within_one_std_error(&[]), None);
    }

    #[test]
    fn cross_validation_picks_the_cubic_for_cubic_data() {
        let data = poly_data(100, 0, NOISE_STD, &mut seeded_rng(0));
        let folds = k_fold(100, 5, &mut seeded_rng(1)).unwrap();
        let scores = degree_scores(&data.train, 1..=8, &folds);
        assert_eq!(scores.len(), 8);
        // More degrees never fit the training folds worse (nested least squares).
        for pair in scores.windows(2) {
            assert!(pair[1].cv.train <= pair[0].cv.train * (1.0 + 1e-9));
        }
        let cv: Vec<CvScore> = scores.iter().map(|s| s.cv).collect();
        assert_eq!(simplest_within_one_std_error(&cv).map(|i| scores[i].degree), Some(3), "{scores:?}");
        // The plain minimum may sit on any degree from 3 up: beyond 3 the differences
        // are noise.
        assert!(lowest_validation(&cv).is_some_and(|i| scores[i].degree >= 3));
        assert!(scores[0].cv.validation > 20.0, "a line cannot follow a cubic");
    }
}
