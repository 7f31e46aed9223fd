//! Products of many factors: the arithmetic behind vanishing and exploding
//! gradients. Backpropagation through `L` layers multiplies `L` Jacobians; whether
//! the product dies out or blows up depends on the size of a typical factor, not on
//! any single one.

use dlcore::Rng;
use dlcore::init::Init;
use nalgebra::DMatrix;

// ANCHOR: powers
/// `base¹, base², …, base^count`: a scalar network with one weight repeated.
pub fn powers(base: f64, count: usize) -> Vec<f64> {
    (1..=count)
        .scan(1.0, |product, _| {
            *product *= base;
            Some(*product)
        })
        .collect()
}
// ANCHOR_END: powers

// ANCHOR: matrix_product
/// Multiplies `count` random `size × size` matrices with entries from `init`, one
/// after another, and returns the Frobenius norm of the running product after each
/// factor. The product is kept in `f64`, so that a longer chain than the chapter's
/// does not overflow `f32` (whose largest number is about 3.4·10³⁸).
pub fn matrix_product_norms(size: usize, count: usize, init: Init, rng: &mut Rng) -> Vec<f64> {
    let mut product = DMatrix::<f64>::identity(size, size);
    let mut norms = Vec::with_capacity(count);
    for _ in 0..count {
        let factor = init.matrix(size, size, rng).map(f64::from);
        product = &product * &factor;
        norms.push(product.norm());
    }
    norms
}
// ANCHOR_END: matrix_product
