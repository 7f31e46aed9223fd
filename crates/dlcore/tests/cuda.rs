//! The GPU matrix product against the CPU's (feature `cuda`).
//!
//! Two kinds of test:
//! - `opening_the_gpu_never_panics` runs everywhere the feature is built. Without
//!   a GPU it checks that opening one is an error value, not a panic, and prints
//!   (past the test harness's capture) that the GPU tests are skipped and why.
//!   With `DLCORE_EXPECT_NO_GPU` set (CI, linked against a driver library on a
//!   machine without a GPU) the error must be `NoDevice`.
//! - Every other test needs a GPU and is `#[ignore]`d, so `cargo test` lists it
//!   as ignored instead of passing it silently. On a machine with a GPU:
//!   `cargo test -p dlcore --features cuda -- --ignored`. Run that way without
//!   a GPU, they fail: asked to test the GPU, they must not pass without one.
#![cfg(feature = "cuda")]

use std::io::Write as _;

use dlcore::cuda::{DeviceMatrix, Gpu, GpuError};
use dlcore::init::Init;
use dlcore::linalg::{Op, matmul, matmul_into};
use dlcore::optim::{Param, Params, Sgd};
use dlcore::seeded_rng;
use nalgebra::DMatrix;

/// A line on the terminal even when the test passes (println! would be captured).
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

#[test]
fn opening_the_gpu_never_panics() {
    match Gpu::new() {
        Ok(gpu) => {
            assert!(
                std::env::var_os("DLCORE_EXPECT_NO_GPU").is_none(),
                "found {} though told there is none",
                gpu.name()
            );
            say(&format!(
                "cuda: found {}; the GPU tests are #[ignore]d: run them with --ignored",
                gpu.name()
            ));
        }
        Err(error) => {
            if std::env::var_os("DLCORE_EXPECT_NO_GPU").is_some() {
                assert_eq!(error, GpuError::NoDevice, "expected NoDevice, got {error:?}");
            }
            say(&format!(
                "cuda: skipped: no CUDA device ({error:?}: {error}); the GPU tests are #[ignore]d and were not run"
            ));
        }
    }
}

/// The GPU, for a test that needs one.
fn gpu() -> Gpu {
    Gpu::new().unwrap_or_else(|error| panic!("this test needs a CUDA GPU and found none: {error}"))
}

fn uniform(rows: usize, cols: usize, seed: u64) -> DMatrix<f32> {
    Init::Uniform { low: -1.0, high: 1.0 }.matrix(rows, cols, &mut seeded_rng(seed))
}

/// The stored matrix for a logical `rows × cols` operand under `op`.
fn stored(logical: &DMatrix<f32>, op: Op) -> DMatrix<f32> {
    if op == Op::N { logical.clone() } else { logical.transpose() }
}

/// Tolerance, per element: the two sums differ only in the order and the
/// grouping of their k roundings, each at most 2⁻²⁴ of the running sum; so
/// |gpu − cpu| ≤ 2·k·2⁻²⁴·(|α|·Σ_p |a_ip|·|b_pj| + |β|·|c_ij|), rounded up to
/// 1e-6·(k + 2)·(…). For k = 784 that is about 8e-4 of the magnitudes' sum.
fn check_product(gpu: &Gpu, (m, k, n): (usize, usize, usize), op_a: Op, op_b: Op, alpha: f32, beta: f32) {
    let seed = (m * 1_000_003 + k * 1009 + n) as u64;
    let (a_logical, b_logical) = (uniform(m, k, seed), uniform(k, n, seed + 1));
    let (a, b) = (stored(&a_logical, op_a), stored(&b_logical, op_b));
    let c0 = if beta == 0.0 { DMatrix::from_element(m, n, f32::NAN) } else { uniform(m, n, seed + 2) };

    let mut expected = c0.clone();
    matmul_into(&mut expected, alpha, &a, op_a, &b, op_b, beta);
    let magnitude = matmul(&a.abs(), op_a, &b.abs(), op_b) * alpha.abs()
        + if beta == 0.0 { DMatrix::zeros(m, n) } else { c0.abs() * beta.abs() };

    let (a_gpu, b_gpu) = (gpu.upload(&a).expect("upload A"), gpu.upload(&b).expect("upload B"));
    let mut c_gpu = gpu.upload(&c0).expect("upload C");
    gpu.matmul_into(&mut c_gpu, alpha, &a_gpu, op_a, &b_gpu, op_b, beta).expect("product");
    let found = gpu.download(&c_gpu).expect("download C");

    for j in 0..n {
        for i in 0..m {
            let allowed = 1e-6 * (k as f32 + 2.0) * magnitude[(i, j)] + f32::MIN_POSITIVE;
            let error = (found[(i, j)] - expected[(i, j)]).abs();
            assert!(
                error <= allowed,
                "{m}×{k}·{k}×{n} {op_a:?}{op_b:?} α={alpha} β={beta}: C[{i},{j}] = {} on the GPU, {} on the CPU",
                found[(i, j)],
                expected[(i, j)]
            );
        }
    }
}

const ALL_OPS: [(Op, Op); 4] = [(Op::N, Op::N), (Op::N, Op::T), (Op::T, Op::N), (Op::T, Op::T)];

#[test]
#[ignore = "needs a CUDA GPU"]
fn sgemm_matches_the_cpu_on_small_and_odd_shapes() {
    let gpu = gpu();
    // One element, an empty inner dimension, sizes around a 64 × 64 × 16 tile,
    // primes, vectors.
    let shapes = [
        (1, 1, 1),
        (1, 0, 1),
        (3, 7, 5),
        (64, 16, 64),
        (63, 17, 65),
        (65, 15, 63),
        (17, 33, 129),
        (1, 31, 200),
        (200, 31, 1),
        (97, 103, 101),
    ];
    for (m, k, n) in shapes {
        for (op_a, op_b) in ALL_OPS {
            check_product(&gpu, (m, k, n), op_a, op_b, 1.0, 0.0);
            check_product(&gpu, (m, k, n), op_a, op_b, -0.5, 0.75);
        }
    }
}

#[test]
#[ignore = "needs a CUDA GPU"]
fn sgemm_matches_the_cpu_on_the_mlp_shapes() {
    let gpu = gpu();
    // 784-256-256-10 at batch 128 and 256: forward W·X, backward dZ·Xᵀ and Wᵀ·dZ,
    // each layer, as (m, k, n).
    for batch in [128, 256] {
        let shapes = [
            (256, 784, batch, Op::N, Op::N),
            (256, batch, 784, Op::N, Op::T),
            (256, 256, batch, Op::N, Op::N),
            (256, batch, 256, Op::N, Op::T),
            (256, 256, batch, Op::T, Op::N),
            (10, 256, batch, Op::N, Op::N),
            (10, batch, 256, Op::N, Op::T),
            (256, 10, batch, Op::T, Op::N),
        ];
        for (m, k, n, op_a, op_b) in shapes {
            check_product(&gpu, (m, k, n), op_a, op_b, 1.0, 0.0);
        }
    }
    check_product(&gpu, (256, 784, 256), Op::N, Op::N, 1.0, 1.0);
}

#[test]
#[ignore = "needs a CUDA GPU"]
fn sgemm_matches_the_cpu_at_1024_squared() {
    let gpu = gpu();
    for (op_a, op_b) in ALL_OPS {
        check_product(&gpu, (1024, 1024, 1024), op_a, op_b, 1.0, 0.0);
    }
}

#[test]
#[ignore = "needs a CUDA GPU"]
fn matrices_stay_on_the_device_between_calls() {
    let gpu = gpu();
    let host = uniform(5, 3, 1);
    let mut on_gpu = gpu.upload(&host).expect("upload");
    assert_eq!(gpu.download(&on_gpu).expect("download"), host);
    // A new value of the same shape reuses the buffer; another shape replaces it.
    let other = uniform(5, 3, 2);
    gpu.upload_into(&other, &mut on_gpu).expect("upload into");
    assert_eq!(gpu.download(&on_gpu).expect("download"), other);
    let wider = uniform(5, 4, 3);
    gpu.upload_into(&wider, &mut on_gpu).expect("upload into");
    assert_eq!(on_gpu.shape(), (5, 4));
    let mut back = DMatrix::zeros(1, 1);
    gpu.download_into(&on_gpu, &mut back).expect("download into");
    assert_eq!(back, wider);
    let zeros: DeviceMatrix = gpu.zeros(2, 2).expect("zeros");
    assert_eq!(gpu.download(&zeros).expect("download"), DMatrix::zeros(2, 2));
    let empty = gpu.zeros(0, 3).expect("an empty matrix");
    assert_eq!(gpu.download(&empty).expect("download").shape(), (0, 3));
    // Three products in a row on resident matrices, one download at the end.
    let a = gpu.upload(&uniform(8, 8, 4)).expect("upload");
    let mut c = gpu.zeros(8, 8).expect("zeros");
    for _ in 0..3 {
        gpu.matmul_into(&mut c, 1.0, &a, Op::N, &a, Op::N, 1.0).expect("product");
    }
    let a_host = uniform(8, 8, 4);
    let expected = (&a_host * &a_host) * 3.0;
    assert!((gpu.download(&c).expect("download") - expected).abs().max() < 1e-4);
}

/// One tensor for dlcore's CPU SGD.
struct One {
    w: DMatrix<f32>,
    g: DMatrix<f32>,
}

impl Params for One {
    fn visit_params(&mut self, visit: &mut dyn FnMut(Param<'_>)) {
        visit(Param { value: &mut self.w, grad: &self.g, decay: true });
    }
}

#[test]
#[ignore = "needs a CUDA GPU"]
fn the_sgd_step_equals_the_cpu_step_bit_for_bit() {
    let gpu = gpu();
    for (momentum, decay) in [(0.0, 0.0), (0.0, 0.01), (0.9, 0.0), (0.9, 5e-4)] {
        let (w, g) = (uniform(37, 29, 5), uniform(37, 29, 6));
        let mut cpu = One { w: w.clone(), g: g.clone() };
        let mut sgd = Sgd::new(0.05).with_momentum(momentum).with_weight_decay(decay);
        let mut w_gpu = gpu.upload(&w).expect("upload");
        let g_gpu = gpu.upload(&g).expect("upload");
        let mut v_gpu = gpu.zeros(37, 29).expect("zeros");
        for _ in 0..3 {
            sgd.step(&mut cpu);
            gpu.sgd_step(&mut w_gpu, &g_gpu, &mut v_gpu, 0.05, momentum, decay).expect("step");
        }
        assert_eq!(gpu.download(&w_gpu).expect("download"), cpu.w, "momentum {momentum}, decay {decay}");
    }
}
