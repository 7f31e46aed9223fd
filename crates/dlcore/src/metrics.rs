//! Classification metrics.

use nalgebra::DMatrix;

/// The predicted class of every column: the index of its largest score.
pub fn argmax_columns(scores: &DMatrix<f32>) -> Vec<u8> {
    scores
        .column_iter()
        .map(|column| {
            let mut best = 0;
            for (i, &v) in column.iter().enumerate() {
                if v > column[best] {
                    best = i;
                }
            }
            u8::try_from(best).unwrap_or(u8::MAX)
        })
        .collect()
}

/// Number of columns whose largest score is at the true label.
pub fn correct(scores: &DMatrix<f32>, labels: &[u8]) -> usize {
    argmax_columns(scores).iter().zip(labels).filter(|(p, y)| p == y).count()
}

/// Fraction of correct predictions (0 for an empty batch).
pub fn accuracy(scores: &DMatrix<f32>, labels: &[u8]) -> f32 {
    if labels.is_empty() { 0.0 } else { correct(scores, labels) as f32 / labels.len() as f32 }
}

/// `counts[true][predicted]` over `classes` classes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    pub counts: Vec<Vec<usize>>,
}

impl ConfusionMatrix {
    pub fn new(classes: usize) -> Self {
        ConfusionMatrix { counts: vec![vec![0; classes]; classes] }
    }

    /// Adds a batch of predictions.
    pub fn add(&mut self, predicted: &[u8], labels: &[u8]) {
        for (&p, &y) in predicted.iter().zip(labels) {
            self.counts[usize::from(y)][usize::from(p)] += 1;
        }
    }

    pub fn total(&self) -> usize {
        self.counts.iter().flatten().sum()
    }

    /// The diagonal over the total.
    pub fn accuracy(&self) -> f32 {
        let diagonal: usize = (0..self.counts.len()).map(|i| self.counts[i][i]).sum();
        diagonal as f32 / self.total().max(1) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_made_case() {
        // Three examples, three classes: columns are examples.
        let scores = DMatrix::from_column_slice(3, 3, &[0.1, 0.7, 0.2, 0.9, 0.05, 0.05, 0.2, 0.3, 0.5]);
        let labels = [1u8, 0, 1];
        assert_eq!(argmax_columns(&scores), vec![1, 0, 2]);
        assert_eq!(correct(&scores, &labels), 2);
        assert!((accuracy(&scores, &labels) - 2.0 / 3.0).abs() < 1e-7);
        let mut cm = ConfusionMatrix::new(3);
        cm.add(&argmax_columns(&scores), &labels);
        assert_eq!(cm.counts, vec![vec![1, 0, 0], vec![0, 1, 1], vec![0, 0, 0]]);
        assert!((cm.accuracy() - accuracy(&scores, &labels)).abs() < 1e-7);
    }
}
