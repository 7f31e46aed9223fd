//! Seeded minibatches: each epoch visits every example exactly once, in a fresh
//! random order, and keeps the last, smaller batch rather than dropping it.

use rand::seq::SliceRandom;

use crate::Rng;

/// Shuffled minibatch indices over a data set of `n` examples. The index buffer is
/// allocated once and reshuffled in place every epoch.
#[derive(Debug, Clone)]
pub struct Batches {
    order: Vec<usize>,
    batch_size: usize,
}

impl Batches {
    /// # Panics
    /// If `batch_size` is 0: command lines reject it before it gets here.
    pub fn new(examples: usize, batch_size: usize) -> Self {
        assert!(batch_size > 0, "batch size must be at least 1");
        Batches { order: (0..examples).collect(), batch_size }
    }

    /// Batches per epoch, counting the last partial one.
    pub fn len(&self) -> usize {
        self.order.len().div_ceil(self.batch_size)
    }

    /// Whether there are no examples at all.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Shuffles with `rng` and yields this epoch's batches of example indices.
    pub fn shuffled(&mut self, rng: &mut Rng) -> std::slice::Chunks<'_, usize> {
        self.order.shuffle(rng);
        self.order.chunks(self.batch_size)
    }

    /// This epoch's batches in the data set's own order (for evaluation).
    pub fn in_order(&mut self) -> std::slice::Chunks<'_, usize> {
        self.order.sort_unstable();
        self.order.chunks(self.batch_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seeded_rng;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn every_example_exactly_once_per_epoch(n in 0usize..300, batch in 1usize..40, seed: u64) {
            let mut batches = Batches::new(n, batch);
            let mut rng = seeded_rng(seed);
            for _epoch in 0..3 {
                let mut seen = vec![0usize; n];
                let mut count = 0;
                for (i, b) in batches.shuffled(&mut rng).enumerate() {
                    count += 1;
                    // Every batch is full except possibly the last.
                    prop_assert!(b.len() == batch || (i + 1 == n.div_ceil(batch) && b.len() <= batch));
                    for &idx in b {
                        seen[idx] += 1;
                    }
                }
                prop_assert_eq!(count, n.div_ceil(batch));
                prop_assert!(seen.iter().all(|&s| s == 1));
            }
        }
    }

    #[test]
    fn shuffles_differently_each_epoch_and_reproducibly_per_seed() {
        let order = |seed| {
            let mut b = Batches::new(100, 10);
            let mut rng = seeded_rng(seed);
            let first: Vec<usize> = b.shuffled(&mut rng).flatten().copied().collect();
            let second: Vec<usize> = b.shuffled(&mut rng).flatten().copied().collect();
            (first, second)
        };
        let (a1, a2) = order(5);
        assert_ne!(a1, a2);
        assert_eq!(order(5), (a1, a2));
        assert_ne!(order(6).0, order(5).0);
        let mut b = Batches::new(7, 3);
        let sizes: Vec<usize> = b.in_order().map(<[usize]>::len).collect();
        assert_eq!(sizes, vec![3, 3, 1]);
    }
}
