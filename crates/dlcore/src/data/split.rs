//! Holding data out: a train/validation split and K-fold cross-validation.

use rand::seq::SliceRandom;

use crate::{Error, Result, Rng};

/// Indices of a training part and a validation part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub train: Vec<usize>,
    pub validation: Vec<usize>,
}

/// Shuffles `0..n` and holds out `validation_fraction` of it (rounded) for validation.
pub fn train_validation(n: usize, validation_fraction: f32, rng: &mut Rng) -> Result<Split> {
    if !(validation_fraction > 0.0 && validation_fraction < 1.0) {
        return Err(Error::invalid(
            "validation fraction",
            validation_fraction,
            "must be strictly between 0 and 1",
        ));
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(rng);
    let held = ((n as f32) * validation_fraction).round() as usize;
    let validation = order.split_off(n - held);
    Ok(Split { train: order, validation })
}

// ANCHOR: k_fold
/// K-fold cross-validation: the shuffled indices are cut into `k` nearly equal
/// folds; split `i` validates on fold `i` and trains on the others, so every
/// example is validated exactly once.
pub fn k_fold(n: usize, k: usize, rng: &mut Rng) -> Result<Vec<Split>> {
    if k < 2 || k > n {
        return Err(Error::invalid("K", k, format!("K-fold needs 2 ≤ K ≤ the number of examples ({n})")));
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(rng);
    // The first n % k folds get one extra example.
    let bounds: Vec<usize> = (0..=k).map(|i| i * (n / k) + i.min(n % k)).collect();
    Ok((0..k)
        .map(|i| {
            let (start, end) = (bounds[i], bounds[i + 1]);
            let validation = order[start..end].to_vec();
            let train = order[..start].iter().chain(&order[end..]).copied().collect();
            Split { train, validation }
        })
        .collect())
}
// ANCHOR_END: k_fold

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seeded_rng;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn folds_partition_the_data(n in 2usize..200, k in 2usize..12, seed: u64) {
            prop_assume!(k <= n);
            let folds = k_fold(n, k, &mut seeded_rng(seed)).unwrap();
            prop_assert_eq!(folds.len(), k);
            let mut validated = vec![0; n];
            for fold in &folds {
                prop_assert_eq!(fold.train.len() + fold.validation.len(), n);
                prop_assert!(fold.validation.len() == n / k || fold.validation.len() == n / k + 1);
                let mut all: Vec<usize> = fold.train.iter().chain(&fold.validation).copied().collect();
                all.sort_unstable();
                prop_assert_eq!(all, (0..n).collect::<Vec<_>>());
                for &i in &fold.validation {
                    validated[i] += 1;
                }
            }
            prop_assert!(validated.iter().all(|&v| v == 1));
        }
    }

    #[test]
    fn holdout_sizes_and_errors() {
        let split = train_validation(100, 0.2, &mut seeded_rng(0)).unwrap();
        assert_eq!((split.train.len(), split.validation.len()), (80, 20));
        assert!(train_validation(10, 1.0, &mut seeded_rng(0)).is_err());
        assert!(k_fold(3, 5, &mut seeded_rng(0)).is_err());
        assert!(k_fold(10, 1, &mut seeded_rng(0)).is_err());
    }
}
