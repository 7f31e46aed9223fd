//! An in-memory data set: inputs as columns of a matrix, targets beside them.

use nalgebra::DMatrix;

/// Targets of a data set: anything that can be indexed by example.
pub trait Targets: Clone {
    /// Number of examples.
    fn len(&self) -> usize;
    /// Whether there are no examples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The targets of the examples `indices`, in that order.
    fn select(&self, indices: &[usize]) -> Self;
}

/// Regression targets: one column per example.
impl Targets for DMatrix<f32> {
    fn len(&self) -> usize {
        self.ncols()
    }
    fn select(&self, indices: &[usize]) -> Self {
        self.select_columns(indices)
    }
}

/// Class labels, one per example.
impl Targets for Vec<u8> {
    fn len(&self) -> usize {
        <[u8]>::len(self)
    }
    fn select(&self, indices: &[usize]) -> Self {
        indices.iter().map(|&i| self[i]).collect()
    }
}

/// `x` holds one example per column (`features × examples`); `y` the matching targets.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset<Y = DMatrix<f32>> {
    pub x: DMatrix<f32>,
    pub y: Y,
}

/// A classification data set: pixel columns and class labels.
pub type Labeled = Dataset<Vec<u8>>;

impl<Y: Targets> Dataset<Y> {
    /// Pairs inputs with targets.
    ///
    /// # Panics
    /// If the number of input columns and targets differ: that is a bug in the caller.
    pub fn new(x: DMatrix<f32>, y: Y) -> Self {
        assert_eq!(x.ncols(), y.len(), "one target per input column");
        Dataset { x, y }
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.x.ncols()
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of input features.
    pub fn features(&self) -> usize {
        self.x.nrows()
    }

    /// A new data set holding the examples `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Self {
        Dataset { x: self.x.select_columns(indices), y: self.y.select(indices) }
    }

    /// The first `n` examples (all of them if there are fewer).
    pub fn head(&self, n: usize) -> Self {
        let n = n.min(self.len());
        Dataset { x: self.x.columns(0, n).into_owned(), y: self.y.select(&(0..n).collect::<Vec<_>>()) }
    }
}

impl Dataset<Vec<u8>> {
    /// Copies the examples `indices` into preallocated batch buffers, so a training
    /// loop gathers its minibatches without allocating. `x` must have at least
    /// `indices.len()` columns; only the first `indices.len()` are written.
    pub fn gather_into(&self, indices: &[usize], x: &mut DMatrix<f32>, labels: &mut Vec<u8>) {
        labels.clear();
        for (j, &i) in indices.iter().enumerate() {
            x.column_mut(j).copy_from(&self.x.column(i));
            labels.push(self.y[i]);
        }
    }
}

/// What a classification training step fills for one minibatch: its inputs, its
/// labels, and room for the gradient of the loss with respect to the logits.
#[derive(Debug, Clone)]
pub struct LabeledBatch {
    /// `features × batch`.
    pub x: DMatrix<f32>,
    pub labels: Vec<u8>,
    /// `classes × batch`.
    pub grad: DMatrix<f32>,
}

impl LabeledBatch {
    fn new(features: usize, classes: usize, size: usize) -> Self {
        LabeledBatch {
            x: DMatrix::zeros(features, size),
            labels: Vec::with_capacity(size),
            grad: DMatrix::zeros(classes, size),
        }
    }
}

/// [`LabeledBatch`] buffers for every batch size an epoch uses: the full size, and
/// the last, smaller batch. Each is allocated once and reused, so a training loop
/// gathers its minibatches without allocating.
#[derive(Debug, Clone)]
pub struct LabeledBatches {
    classes: usize,
    full: LabeledBatch,
    tail: Option<LabeledBatch>,
}

impl LabeledBatches {
    pub fn new(features: usize, classes: usize, batch_size: usize) -> Self {
        LabeledBatches { classes, full: LabeledBatch::new(features, classes, batch_size), tail: None }
    }

    /// Copies the examples `indices` of `data` into the buffers for their count.
    pub fn gather(&mut self, data: &Labeled, indices: &[usize]) -> &mut LabeledBatch {
        let size = indices.len();
        let batch = if self.full.x.ncols() == size {
            &mut self.full
        } else {
            if self.tail.as_ref().is_none_or(|tail| tail.x.ncols() != size) {
                self.tail = Some(LabeledBatch::new(data.features(), self.classes, size));
            }
            self.tail.get_or_insert_with(|| LabeledBatch::new(data.features(), self.classes, size))
        };
        data.gather_into(indices, &mut batch.x, &mut batch.labels);
        batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subset_keeps_inputs_and_targets_together() {
        let x = DMatrix::from_fn(2, 4, |r, c| (10 * c + r) as f32);
        let data = Dataset::new(x, vec![0u8, 1, 2, 3]);
        let sub = data.subset(&[3, 1]);
        assert_eq!(sub.y, vec![3, 1]);
        assert_eq!(sub.x[(0, 0)], 30.0);
        assert_eq!(sub.x[(1, 1)], 11.0);
        let mut bx = DMatrix::zeros(2, 3);
        let mut by = Vec::new();
        data.gather_into(&[2, 0], &mut bx, &mut by);
        assert_eq!(by, vec![2, 0]);
        assert_eq!(bx[(1, 0)], 21.0);
    }

    #[test]
    fn batches_of_two_sizes_reuse_their_buffers() {
        let data = Dataset::new(DMatrix::from_fn(2, 5, |r, c| (10 * c + r) as f32), vec![0u8, 1, 2, 3, 4]);
        let mut batches = LabeledBatches::new(2, 3, 2);
        let first = batches.gather(&data, &[4, 0]);
        assert_eq!((first.x.shape(), first.grad.shape(), first.labels.clone()), ((2, 2), (3, 2), vec![4, 0]));
        let last = batches.gather(&data, &[3]);
        assert_eq!((last.x[(1, 0)], last.labels.clone()), (31.0, vec![3]));
        let pointer = last.x.as_ptr();
        assert_eq!(batches.gather(&data, &[2]).x.as_ptr(), pointer, "the tail buffer is made once");
    }
}
