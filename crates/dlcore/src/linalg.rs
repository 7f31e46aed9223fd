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

/// C ← α·op(A)·op(B) + β·C, where op is identity or transpose.
///
/// A transpose only swaps strides, so `dW = dZ·Xᵀ` and `dX = Wᵀ·dZ` cost no copy.
/// With β = 0, C's old contents are ignored (it may hold anything, even NaN).
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
    let rsc = 1;
    let csc = m as isize;
    // SAFETY: the pointers come from live nalgebra matrices whose column-major
    // storage holds exactly rows·cols elements; the (m, k, n) shapes and strides
    // above describe views that stay inside those buffers (checked by the asserts),
    // and `c` is borrowed mutably, so it cannot alias `a` or `b`.
    #[allow(unsafe_code)]
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            alpha,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            beta,
            c.as_mut_ptr(),
            rsc,
            csc,
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
    fn beta_zero_ignores_garbage_in_c() {
        let a = DMatrix::from_row_slice(1, 2, &[1.0, 2.0]);
        let b = DMatrix::from_row_slice(2, 1, &[3.0, 4.0]);
        let mut c = DMatrix::from_element(1, 1, f32::NAN);
        matmul_into(&mut c, 1.0, &a, Op::N, &b, Op::N, 0.0);
        assert_eq!(c[(0, 0)], 11.0);
    }
}
