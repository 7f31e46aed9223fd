//! Looking at what a trained network does: class probabilities, the top few
//! guesses for one image, every test prediction, the mistakes among them and the
//! confusion matrix.

use std::fmt::Write as _;

use dlcore::data::Batches;
use dlcore::data::dataset::Labeled;
use dlcore::layer::Sequential;
use dlcore::loss::softmax_into;
use dlcore::metrics::ConfusionMatrix;
use nalgebra::DMatrix;

/// One class and the probability the network gives it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Guess {
    pub class: u8,
    pub probability: f32,
}

/// The network's prediction for every example of a data set.
#[derive(Debug, Clone, PartialEq)]
pub struct Predictions {
    /// The predicted class of each example, in data-set order.
    pub classes: Vec<u8>,
    /// The probability the network gave its predicted class.
    pub confidence: Vec<f32>,
    /// `counts[true][predicted]`.
    pub confusion: ConfusionMatrix,
}

impl Predictions {
    /// Indices of the examples whose prediction differs from the label, in order.
    pub fn mistakes(&self, labels: &[u8]) -> Vec<usize> {
        self.classes.iter().zip(labels).enumerate().filter(|(_, (p, y))| p != y).map(|(i, _)| i).collect()
    }

    /// The fraction predicted right.
    pub fn accuracy(&self) -> f32 {
        self.confusion.accuracy()
    }
}

/// Softmax of the network's outputs: one probability distribution per column.
pub fn probabilities(net: &mut Sequential, x: &DMatrix<f32>) -> DMatrix<f32> {
    let logits = net.forward(x);
    let mut probs = DMatrix::zeros(logits.nrows(), logits.ncols());
    softmax_into(logits, &mut probs);
    probs
}

/// The `k` most probable classes of one column of probabilities, most probable
/// first (ties keep the lower class first).
pub fn top_k(probs: &[f32], k: usize) -> Vec<Guess> {
    let mut guesses: Vec<Guess> = probs
        .iter()
        .enumerate()
        .map(|(class, &probability)| Guess { class: u8::try_from(class).unwrap_or(u8::MAX), probability })
        .collect();
    guesses.sort_by(|a, b| b.probability.total_cmp(&a.probability).then(a.class.cmp(&b.class)));
    guesses.truncate(k);
    guesses
}

/// Classifies every example of `data`, `batch_size` at a time.
pub fn predict_all(net: &mut Sequential, data: &Labeled, batch_size: usize) -> Predictions {
    let classes = crate::classes_of(net);
    let mut confusion = ConfusionMatrix::new(classes);
    let (mut predicted, mut confidence) = (Vec::with_capacity(data.len()), Vec::with_capacity(data.len()));
    let mut x = DMatrix::zeros(data.features(), batch_size);
    let mut labels = Vec::with_capacity(batch_size);
    for indices in Batches::new(data.len(), batch_size).in_order() {
        if x.ncols() != indices.len() {
            x = DMatrix::zeros(data.features(), indices.len());
        }
        data.gather_into(indices, &mut x, &mut labels);
        let probs = probabilities(net, &x);
        for column in probs.column_iter() {
            let best = top_k(column.as_slice(), 1)[0];
            predicted.push(best.class);
            confidence.push(best.probability);
        }
        confusion.add(&predicted[predicted.len() - indices.len()..], &labels);
    }
    Predictions { classes: predicted, confidence, confusion }
}

// ANCHOR: confusion_table
/// The confusion matrix as a markdown table: one row per true class, one column
/// per predicted class, the correct counts on the diagonal in bold, and each
/// class's recall (the share of its images classified right) at the end.
pub fn confusion_table(confusion: &ConfusionMatrix, names: &[&str]) -> String {
    let classes = confusion.counts.len();
    let name = |i: usize| names.get(i).copied().unwrap_or("?");
    let mut out = String::from("| true ↓ / predicted → |");
    for i in 0..classes {
        let _ = write!(out, " {} |", name(i));
    }
    out.push_str(" recall |\n|---|");
    out.push_str(&"---:|".repeat(classes + 1));
    for (t, row) in confusion.counts.iter().enumerate() {
        let _ = write!(out, "\n| **{}** |", name(t));
        for (p, &count) in row.iter().enumerate() {
            let _ = if p == t { write!(out, " **{count}** |") } else { write!(out, " {count} |") };
        }
        let total: usize = row.iter().sum();
        let recall = if total == 0 { 0.0 } else { 100.0 * row[t] as f64 / total as f64 };
        let _ = write!(out, " {recall:.1} % |");
    }
    out.push('\n');
    out
}
// ANCHOR_END: confusion_table

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_orders_by_probability() {
        let guesses = top_k(&[0.1, 0.6, 0.05, 0.25], 3);
        let classes: Vec<u8> = guesses.iter().map(|g| g.class).collect();
        assert_eq!(classes, [1, 3, 0]);
        assert_eq!(top_k(&[0.5, 0.5], 1)[0].class, 0);
    }

    #[test]
    fn confusion_table_marks_the_diagonal_and_recall() {
        let mut cm = ConfusionMatrix::new(2);
        cm.add(&[0, 1, 1, 1], &[0, 0, 1, 1]);
        let table = confusion_table(&cm, &["cat", "dog"]);
        assert!(table.contains("| **cat** | **1** | 1 | 50.0 % |"), "{table}");
        assert!(table.contains("| **dog** | 0 | **2** | 100.0 % |"), "{table}");
    }
}
