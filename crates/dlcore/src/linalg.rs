//! The one entry point for matrix products. Every layer's product goes through
//! [`matmul_into`], so a faster kernel (or the GPU) can be swapped in here without
//! touching a chapter.

use nalgebra::DMatrix;

/// Whether an operand is used as stored or transposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Use the matrix as it is.
    N,
    /// Use its transpose, without copying it.
    T,
}

impl Op {
    /// The shape of op(m) and its (row, column) strides in m's column-major storage.
    fn view(self, m: &DMatrix<f32>) -> (usize, usize, isize, isize) {
        let (rows, cols) = m.shape();
        let ld = rows as isize;
        match self {
            Op::N => (rows, cols, 1, ld),
            Op::T => (cols, rows, ld, 1),
        }
    }
}

/// Threads the products may use: `DLCORE_THREADS` if set, else every core.
/// Results do not depend on it beyond rounding order within one machine and
/// thread count (each output block is summed by one thread).
pub fn threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| {
        std::env::var("DLCORE_THREADS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
    })
}

/// The worker threads the products share, built once with [`threads`] workers.
fn pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| rayon::ThreadPoolBuilder::new().num_threads(threads()).build().ok()).as_ref()
}

// ANCHOR: in_pool
/// Runs `work` (a training loop, say) on one of the product threads, so that
/// every product inside it is split between this thread and the others without
/// waking a thread pool and putting the caller to sleep each time: measured, that
/// round trip cost about a sixth of an MNIST epoch. Products outside `in_pool`
/// still work, through rayon's global pool.
pub fn in_pool<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    match pool() {
        Some(pool) => pool.install(work),
        None => work(),
    }
}
// ANCHOR_END: in_pool

/// Products smaller than this many multiply-adds run on one thread: below it,
/// waking a second thread costs more than it saves.
const PARALLEL_THRESHOLD: usize = 1 << 20;

/// C ← α·op(A)·op(B) + β·C, where op is identity or transpose.
///
/// A transpose only swaps strides, so `dW = dZ·Xᵀ` and `dX = Wᵀ·dZ` cost no copy.
/// With β = 0, C's old contents are ignored (it may hold anything, even NaN).
///
/// The kernel is the `gemm` crate: register-blocked, cache-tiled, with AVX-512 or
/// AVX2 micro-kernels picked at run time, and multithreaded for large products
/// (see ARCHITECTURE.md for the measurements that chose it).
///
/// # Panics
/// If the shapes do not agree: that is a bug in the calling layer, not user input.
pub fn matmul_into(
    c: &mut DMatrix<f32>,
    alpha: f32,
    a: &DMatrix<f32>,
    op_a: Op,
    b: &DMatrix<f32>,
    op_b: Op,
    beta: f32,
) {
    let (m, k, rsa, csa) = op_a.view(a);
    let (kb, n, rsb, csb) = op_b.view(b);
    assert_eq!(k, kb, "inner dimensions differ: op(A) is {m}×{k}, op(B) is {kb}×{n}");
    assert_eq!(c.shape(), (m, n), "C is {:?}, the product is {m}×{n}", c.shape());
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        // An empty sum: C ← β·C (and β = 0 clears whatever C held).
        if beta == 0.0 {
            c.fill(0.0)
        } else {
            c.scale_mut(beta)
        }
        return;
    }
    let parallelism = if m * n * k >= PARALLEL_THRESHOLD && threads() > 1 {
        gemm::Parallelism::Rayon(threads())
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the pointers come from live nalgebra matrices whose column-major
    // storage holds exactly rows·cols elements; the (m, k, n) shapes and strides
    // above describe views that stay inside those buffers (checked by the asserts),
    // and `c` is borrowed mutably, so it cannot alias `a` or `b`.
    // `gemm` names its scalars the other way round from BLAS: it computes
    // dst ← alpha·dst + beta·lhs·rhs, and reads dst only when asked to.
    #[allow(unsafe_code)]
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            m as isize,
            1,
            beta != 0.0,
            a.as_ptr(),
            csa,
            rsa,
            b.as_ptr(),
            csb,
            rsb,
            beta,
            alpha,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// op(A)·op(B) as a new matrix.
pub fn matmul(a: &DMatrix<f32>, op_a: Op, b: &DMatrix<f32>, op_b: Op) -> DMatrix<f32> {
    let rows = if op_a == Op::N { a.nrows() } else { a.ncols() };
    let cols = if op_b == Op::N { b.ncols() } else { b.nrows() };
    let mut c = DMatrix::zeros(rows, cols);
    matmul_into(&mut c, 1.0, a, op_a, b, op_b, 0.0);
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Every transpose combination equals nalgebra's own product of the
        /// materialised transposes, including β accumulation.
        #[test]
        fn agrees_with_nalgebra(m in 1usize..9, k in 1usize..9, n in 1usize..9, seed in 0u64..1000, ta: bool, tb: bool) {
            let mut rng = crate::seeded_rng(seed);
            let a_logical = crate::init::Init::Uniform { low: -1.0, high: 1.0 }.matrix(m, k, &mut rng);
            let b_logical = crate::init::Init::Uniform { low: -1.0, high: 1.0 }.matrix(k, n, &mut rng);
            let c0 = crate::init::Init::Uniform { low: -1.0, high: 1.0 }.matrix(m, n, &mut rng);
            let (a, op_a) = if ta { (a_logical.transpose(), Op::T) } else { (a_logical.clone(), Op::N) };
            let (b, op_b) = if tb { (b_logical.transpose(), Op::T) } else { (b_logical.clone(), Op::N) };
            let mut c = c0.clone();
            matmul_into(&mut c, 2.0, &a, op_a, &b, op_b, 0.5);
            let expected = &a_logical * &b_logical * 2.0 + &c0 * 0.5;
            prop_assert!((c - expected).abs().max() < 1e-5);
            prop_assert!((matmul(&a, op_a, &b, op_b) - &a_logical * &b_logical).abs().max() < 1e-5);
        }
    }

    #[test]
    fn large_products_agree_with_nalgebra_too() {
        // Big enough to take the multithreaded path.
        let mut rng = crate::seeded_rng(9);
        let init = crate::init::Init::Uniform { low: -1.0, high: 1.0 };
        let a = init.matrix(130, 200, &mut rng);
        let b = init.matrix(130, 90, &mut rng);
        let c = matmul(&a, Op::T, &b, Op::N);
        assert!((c - a.transpose() * b).abs().max() < 1e-4);
    }

    #[test]
    fn beta_zero_ignores_garbage_in_c() {
        let a = DMatrix::from_row_slice(1, 2, &[1.0, 2.0]);
        let b = DMatrix::from_row_slice(2, 1, &[3.0, 4.0]);
        let mut c = DMatrix::from_element(1, 1, f32::NAN);
        matmul_into(&mut c, 1.0, &a, Op::N, &b, Op::N, 0.0);
        assert_eq!(c[(0, 0)], 11.0);
    }
}
