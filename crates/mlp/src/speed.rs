//! Timing training: seconds per epoch for the two reference networks of the
//! issue, and the raw speed of the matrix product every layer relies on, so that
//! our numbers can be set beside PyTorch's measured on the same machine.

use std::time::Instant;

use dlcore::activation::Activation;
use dlcore::data::dataset::Labeled;
use dlcore::init::Init;
use dlcore::linalg::{Op, matmul_into};
use dlcore::{Result, seeded_rng};
use nalgebra::DMatrix;

use crate::Config;
use crate::device::Opened;

/// A network and batch size to time.
#[derive(Debug, Clone)]
pub struct Workload {
    pub name: &'static str,
    pub config: Config,
}

/// The two workloads of the speed benchmark (W1, W2): d2l's 784-256-10 at batch 256
/// with momentum, and the notes' 784-200-200-10 at batch 200 with plain SGD, both
/// ReLU. `xtask/bench/pytorch_mlp.py` mirrors them exactly.
pub fn reference_workloads(epochs: usize) -> [Workload; 2] {
    let config = |hidden: Vec<usize>, batch_size: usize, lr: f32, momentum: f32| Config {
        hidden,
        activation: Activation::Relu,
        output_activation: None,
        init: Init::KaimingNormal,
        lr,
        momentum,
        weight_decay: 0.0,
        lr_schedule: None,
        batch_size,
        epochs,
    };
    [
        Workload { name: "784-256-10, batch 256", config: config(vec![256], 256, 0.05, 0.9) },
        Workload { name: "784-200-200-10, batch 200", config: config(vec![200, 200], 200, 0.01, 0.0) },
    ]
}

/// What timing one workload measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    pub name: &'static str,
    /// Wall-clock seconds of every epoch: one pass over the training set plus the
    /// evaluation on the test set, as in the reference table.
    pub epoch_seconds: Vec<f64>,
    pub train_examples: usize,
}

impl Timing {
    /// The timed epochs: all but the first, which warms caches, the allocator and
    /// the thread pool (when there is more than one).
    pub fn timed(&self) -> &[f64] {
        if self.epoch_seconds.len() > 1 { &self.epoch_seconds[1..] } else { &self.epoch_seconds }
    }

    /// The median timed epoch: robust to one epoch disturbed by another process.
    pub fn median_seconds(&self) -> f64 {
        median(self.timed())
    }

    /// The fastest and slowest timed epochs.
    pub fn range_seconds(&self) -> (f64, f64) {
        let timed = self.timed();
        (timed.iter().copied().fold(f64::INFINITY, f64::min), timed.iter().copied().fold(0.0, f64::max))
    }

    /// Training examples per second at the median epoch.
    pub fn samples_per_second(&self) -> f64 {
        self.train_examples as f64 / self.median_seconds().max(f64::MIN_POSITIVE)
    }
}

/// The median of some numbers (the mean of the middle two for an even count; 0 for none).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Trains `workload` on the CPU and times each epoch (training plus test evaluation).
pub fn time_workload(workload: &Workload, train: &Labeled, test: &Labeled, seed: u64) -> Result<Timing> {
    time_workload_on(&Opened::Cpu, workload, train, test, seed)
}

/// [`time_workload`] on an opened device.
pub fn time_workload_on(
    device: &Opened,
    workload: &Workload,
    train: &Labeled,
    test: &Labeled,
    seed: u64,
) -> Result<Timing> {
    let mut epoch_seconds = Vec::with_capacity(workload.config.epochs);
    let mut started = Instant::now();
    crate::train_on(
        device,
        &workload.config,
        train,
        test,
        10,
        &mut seeded_rng(seed),
        |_| {},
        |_, _| {
            epoch_seconds.push(started.elapsed().as_secs_f64());
            started = Instant::now();
            Ok(())
        },
    )?;
    Ok(Timing { name: workload.name, epoch_seconds, train_examples: train.len() })
}

/// GFLOP/s of the `256 × 784 · 784 × 256` single-precision product (a first layer's
/// forward pass at batch 256), repeated for about `seconds`.
pub fn sgemm_gflops(seconds: f64) -> f64 {
    let product = Product { name: "", m: 256, k: 784, n: 256, op_a: Op::N, op_b: Op::N };
    product_gflops(&product, seconds)
}

/// One matrix product to time: op(A) is `m × k`, op(B) is `k × n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Product {
    pub name: &'static str,
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub op_a: Op,
    pub op_b: Op,
}

impl Product {
    /// Multiply-adds count two floating-point operations each.
    pub fn flops(&self) -> f64 {
        2.0 * (self.m * self.k * self.n) as f64
    }

    /// Operands with these shapes (stored transposed where op says so), filled
    /// with a fixed pattern.
    pub fn operands(&self) -> (DMatrix<f32>, DMatrix<f32>) {
        let pattern =
            |rows, cols, mix| DMatrix::from_fn(rows, cols, |i, j| ((i * mix + j * 3) % 11) as f32 / 11.0);
        let a = if self.op_a == Op::N { pattern(self.m, self.k, 7) } else { pattern(self.k, self.m, 7) };
        let b = if self.op_b == Op::N { pattern(self.k, self.n, 5) } else { pattern(self.n, self.k, 5) };
        (a, b)
    }
}

/// The products a training step of the main job (784-256-256-10) runs at batch
/// `batch`, and two large squares for the peak.
pub fn benchmark_products(batch: usize) -> Vec<Product> {
    let p = |name, m, k, n, op_a, op_b| Product { name, m, k, n, op_a, op_b };
    vec![
        p("forward W·X, 256×784 · 784×batch", 256, 784, batch, Op::N, Op::N),
        p("backward dZ·Xᵀ, 256×batch · batch×784", 256, batch, 784, Op::N, Op::T),
        p("backward Wᵀ·dZ, 256×256 · 256×batch", 256, 256, batch, Op::T, Op::N),
        p("square 1024", 1024, 1024, 1024, Op::N, Op::N),
        p("square 4096", 4096, 4096, 4096, Op::N, Op::N),
    ]
}

/// GFLOP/s of `product` on the CPU, repeated for about `seconds` (at least 3 times).
pub fn product_gflops(product: &Product, seconds: f64) -> f64 {
    let (a, b) = product.operands();
    let mut c = DMatrix::zeros(product.m, product.n);
    let started = Instant::now();
    let mut calls = 0u64;
    while calls < 3 || started.elapsed().as_secs_f64() < seconds {
        matmul_into(&mut c, 1.0, &a, product.op_a, &b, product.op_b, 0.0);
        calls += 1;
    }
    product.flops() * calls as f64 / started.elapsed().as_secs_f64() / 1e9
}

/// GFLOP/s of `product` on the GPU, operands already in GPU memory, repeated for
/// about `seconds` after a warm-up call. Only the product is timed, no copy.
#[cfg(feature = "cuda")]
pub fn gpu_product_gflops(gpu: &dlcore::cuda::Gpu, product: &Product, seconds: f64) -> Result<f64> {
    let (a, b) = product.operands();
    let (a, b) = (gpu.upload(&a)?, gpu.upload(&b)?);
    let mut c = gpu.zeros(product.m, product.n)?;
    gpu.matmul_into(&mut c, 1.0, &a, product.op_a, &b, product.op_b, 0.0)?;
    gpu.synchronize()?;
    let started = Instant::now();
    let mut calls = 0u64;
    while calls < 3 || started.elapsed().as_secs_f64() < seconds {
        // Queue a few at a time, then wait, so the clock sees finished work.
        for _ in 0..10 {
            gpu.matmul_into(&mut c, 1.0, &a, product.op_a, &b, product.op_b, 0.0)?;
        }
        gpu.synchronize()?;
        calls += 10;
    }
    Ok(product.flops() * calls as f64 / started.elapsed().as_secs_f64() / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }
}
