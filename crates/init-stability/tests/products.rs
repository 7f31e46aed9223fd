//! Products of many factors vanish or explode.

use dlcore::init::Init;
use dlcore::seeded_rng;
use init_stability::products::{matrix_product_norms, powers};

#[test]
fn powers_of_the_notes() {
    let small = powers(0.2, 30);
    let large = powers(5.0, 30);
    assert_eq!(small.len(), 30);
    assert!((small[29] / 0.2f64.powi(30) - 1.0).abs() < 1e-12);
    assert!((large[29] / 5f64.powi(30) - 1.0).abs() < 1e-12);
    assert!(small[29] < 1e-20 && large[29] > 1e20);
    assert_eq!(powers(3.0, 2), vec![3.0, 9.0]);
}

#[test]
fn a_product_of_unit_normal_matrices_explodes_and_scaled_ones_do_not() {
    for seed in 0..5 {
        let unit = matrix_product_norms(4, 100, Init::Normal { std: 1.0 }, &mut seeded_rng(seed));
        let scaled = matrix_product_norms(4, 100, Init::Normal { std: 0.5 }, &mut seeded_rng(seed));
        assert_eq!(unit.len(), 100);
        assert!(unit[99] > 1e15, "seed {seed}: {:e}", unit[99]);
        assert!(scaled[99] < 1.0, "seed {seed}: {:e}", scaled[99]);
        // Same draws scaled by ½ a hundred times: exactly 2¹⁰⁰ apart.
        assert!((unit[99] / scaled[99] / 2f64.powi(100) - 1.0).abs() < 1e-6);
    }
}
