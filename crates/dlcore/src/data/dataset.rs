//! An in-memory data set: inputs as columns of a matrix, targets beside them, and
//! reusable minibatch buffers to gather examples into.

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

impl Dataset<DMatrix<f32>> {
    /// Copies the examples `indices` into preallocated batch buffers, so a training
    /// loop gathers its minibatches without allocating. `x` and `y` must have at
    /// least `indices.len()` columns (and `y` as many rows as the targets); only the
    /// first `indices.len()` are written.
    pub fn gather_into(&self, indices: &[usize], x: &mut DMatrix<f32>, y: &mut DMatrix<f32>) {
        for (j, &i) in indices.iter().enumerate() {
            x.column_mut(j).copy_from(&self.x.column(i));
            y.column_mut(j).copy_from(&self.y.column(i));
        }
    }
}

/// The buffer for a batch of `size` examples: `full` if it has that size, else
/// `tail`, (re)made by `make` unless it already has that size. An epoch has at most
/// two batch sizes, so after its first pass nothing is allocated.
fn full_or_tail<'a, B>(
    full: &'a mut B,
    tail: &'a mut Option<B>,
    size_of: impl Fn(&B) -> usize,
    size: usize,
    make: impl FnOnce() -> B,
) -> &'a mut B {
    if size_of(full) == size {
        return full;
    }
    if tail.as_ref().is_some_and(|tail| size_of(tail) != size) {
        *tail = None;
    }
    tail.get_or_insert_with(make)
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
        let classes = self.classes;
        let batch = full_or_tail(
            &mut self.full,
            &mut self.tail,
            |b| b.x.ncols(),
            size,
            || LabeledBatch::new(data.features(), classes, size),
        );
        data.gather_into(indices, &mut batch.x, &mut batch.labels);
        batch
    }
}

/// What a regression training step fills for one minibatch: its inputs, its
/// targets, and room for ∂ℓ/∂ŷ, the gradient of the loss with respect to the
/// predictions.
#[derive(Debug, Clone)]
pub struct RegressionBatch {
    /// `features × batch`.
    pub x: DMatrix<f32>,
    /// `outputs × batch`.
    pub y: DMatrix<f32>,
    /// `outputs × batch`, written by the loss.
    pub grad: DMatrix<f32>,
}

impl RegressionBatch {
    fn new(features: usize, outputs: usize, size: usize) -> Self {
        RegressionBatch {
            x: DMatrix::zeros(features, size),
            y: DMatrix::zeros(outputs, size),
            grad: DMatrix::zeros(outputs, size),
        }
    }
}

/// [`RegressionBatch`] buffers for every batch size an epoch uses: the full size,
/// and the last, smaller batch. Each is allocated once and reused, so a training
/// loop gathers its minibatches without allocating.
#[derive(Debug, Clone)]
pub struct RegressionBatches {
    outputs: usize,
    full: RegressionBatch,
    tail: Option<RegressionBatch>,
}

impl RegressionBatches {
    /// Buffers for `features` inputs and `outputs` targets per example (1 for
    /// scalar regression), in batches of `batch_size`.
    pub fn new(features: usize, outputs: usize, batch_size: usize) -> Self {
        RegressionBatches { outputs, full: RegressionBatch::new(features, outputs, batch_size), tail: None }
    }

    /// Copies the examples `indices` of `data` into the buffers for their count.
    pub fn gather(&mut self, data: &Dataset, indices: &[usize]) -> &mut RegressionBatch {
        let size = indices.len();
        let outputs = self.outputs;
        let batch = full_or_tail(
            &mut self.full,
            &mut self.tail,
            |b| b.x.ncols(),
            size,
            || RegressionBatch::new(data.features(), outputs, size),
        );
        data.gather_into(indices, &mut batch.x, &mut batch.y);
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

    #[test]
    fn regression_batches_carry_target_columns_with_their_inputs() {
        let x = DMatrix::from_fn(2, 5, |r, c| (10 * c + r) as f32);
        let y = DMatrix::from_fn(1, 5, |_, c| -(c as f32));
        let data = Dataset::new(x, y);
        let mut batches = RegressionBatches::new(2, 1, 2);
        let first = batches.gather(&data, &[4, 1]);
        assert_eq!((first.x.shape(), first.y.shape(), first.grad.shape()), ((2, 2), (1, 2), (1, 2)));
        assert_eq!((first.x[(1, 0)], first.x[(0, 1)]), (41.0, 10.0));
        assert_eq!(first.y.as_slice(), &[-4.0, -1.0]);
        let full_pointer = first.x.as_ptr();
        let last = batches.gather(&data, &[3]);
        assert_eq!((last.x[(0, 0)], last.y[(0, 0)], last.grad.shape()), (30.0, -3.0, (1, 1)));
        let tail_pointer = last.y.as_ptr();
        assert_eq!(batches.gather(&data, &[0, 2]).x.as_ptr(), full_pointer, "full batches reuse one buffer");
        let again = batches.gather(&data, &[2]);
        assert_eq!((again.y.as_ptr(), again.y[(0, 0)]), (tail_pointer, -2.0), "the tail buffer is made once");
    }

    #[test]
    fn regression_gather_copies_every_target_row() {
        let data = Dataset::new(
            DMatrix::from_fn(1, 3, |_, c| c as f32),
            DMatrix::from_fn(2, 3, |r, c| (10 * c + r) as f32),
        );
        let mut batches = RegressionBatches::new(1, 2, 3);
        let batch = batches.gather(&data, &[2, 0, 1]);
        assert_eq!(batch.y.column(0).as_slice(), &[20.0, 21.0]);
        assert_eq!(batch.y.column(2).as_slice(), &[10.0, 11.0]);
    }
}
