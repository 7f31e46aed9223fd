//! The claims the chapter makes about gradient flow, asserted on the numbers of the
//! same function the `gradient-flow` binary calls, with its default network (20
//! hidden layers of 100 units, a batch of 64) and several seeds.

use dlcore::activation::Activation;
use dlcore::init::Init;
use init_stability::flow::{self, ACTIVATIONS, DeepNet, Flow, INITS};

const SEEDS: [u64; 4] = [0, 1, 2, 3];

/// One pair's result, exactly as it appears in the binary's full grid (every network
/// of the grid starts from the same generator state, so a one-pair grid is the same).
fn flow_of(seed: u64, activation: Activation, init: Init) -> Flow {
    let flows = flow::grid(&DeepNet::CHAPTER, &[activation], &[init], seed).expect("the chapter's network");
    flows.into_iter().next().expect("one pair, one result")
}

const SMALL: Init = Init::Normal { std: 0.01 };
const UNIT: Init = Init::Normal { std: 1.0 };

#[test]
fn the_grid_has_every_pair_and_every_layer() {
    let flows = flow::grid(&DeepNet::CHAPTER, &ACTIVATIONS, &INITS, 0).unwrap();
    assert_eq!(flows.len(), 12);
    for f in &flows {
        assert_eq!(f.norms.len(), 21, "{} {}", f.activation, f.init);
        assert!(
            f.norms.iter().all(|n| n.is_finite() && *n > 0.0),
            "{} {}: {:?}",
            f.activation,
            f.init,
            f.norms
        );
    }
}

#[test]
fn sigmoid_with_small_weights_vanishes_towards_the_input() {
    for seed in SEEDS {
        let f = flow_of(seed, Activation::Sigmoid, SMALL);
        // Each layer back multiplies by about ‖W‖·σ′ ≈ 0.1 · 0.25: twenty layers make
        // some 10⁻³²; far below 10⁻²⁰ is the claim.
        assert!(f.first_over_last() < 1e-20, "seed {seed}: first/last = {:e}", f.first_over_last());
        assert!(
            f.norms.windows(2).all(|w| w[0] < w[1]),
            "seed {seed}: not shrinking layer by layer: {:?}",
            f.norms
        );
    }
}

#[test]
fn sigmoid_still_vanishes_with_xavier_and_kaiming() {
    for seed in SEEDS {
        for init in [Init::XavierUniform, Init::KaimingNormal] {
            let f = flow_of(seed, Activation::Sigmoid, init);
            assert!(f.first_over_last() < 1e-6, "seed {seed} {init}: first/last = {:e}", f.first_over_last());
        }
    }
}

#[test]
fn sigmoid_with_unit_normal_weights_does_not_vanish_at_width_100() {
    // The notes blame N(0, 1) weights for vanishing sigmoid gradients; with 100 inputs
    // per unit, ‖W‖ is about 10 and makes up for σ′: the first layer's gradient stays
    // within 100× of the last's (against 10⁻³² with small weights).
    for seed in SEEDS {
        let f = flow_of(seed, Activation::Sigmoid, UNIT);
        assert!(f.first_over_last() > 1e-2, "seed {seed}: first/last = {:e}", f.first_over_last());
    }
}

#[test]
fn tanh_with_unit_normal_weights_explodes_towards_the_input() {
    for seed in SEEDS {
        let f = flow_of(seed, Activation::Tanh, UNIT);
        assert!(f.first_over_last() > 1e4, "seed {seed}: first/last = {:e}", f.first_over_last());
    }
}

#[test]
fn relu_with_unit_normal_weights_explodes() {
    for seed in SEEDS {
        let exploded = flow_of(seed, Activation::Relu, UNIT);
        let kaiming = flow_of(seed, Activation::Relu, Init::KaimingNormal);
        let smallest = exploded.norms.iter().copied().fold(f64::INFINITY, f64::min);
        let kaiming_largest = kaiming.norms.iter().copied().fold(0.0, f64::max);
        // Every layer's gradient, the first included, is more than 10¹⁰ times as large as
        // any layer's under Kaiming, and the loss itself is astronomically large.
        assert!(
            smallest > 1e10 * kaiming_largest,
            "seed {seed}: {smallest:e} vs Kaiming {kaiming_largest:e}"
        );
        assert!(exploded.loss > 1e10, "seed {seed}: loss {}", exploded.loss);
    }
}

#[test]
fn kaiming_keeps_relu_gradients_within_ten_times_across_depth() {
    for seed in SEEDS {
        let f = flow_of(seed, Activation::Relu, Init::KaimingNormal);
        assert!(f.spread() < 10.0, "seed {seed}: max/min = {} over {:?}", f.spread(), f.norms);
    }
}

#[test]
fn small_weights_shrink_every_tanh_and_relu_layer_alike() {
    // With N(0, 0.01²), tanh and ReLU layers are nearly linear and every layer scales
    // the forward signal and the gradient alike: the weight gradients are all tiny,
    // and all about the same size.
    for seed in SEEDS {
        for activation in [Activation::Tanh, Activation::Relu] {
            let f = flow_of(seed, activation, SMALL);
            let largest = f.norms.iter().copied().fold(0.0, f64::max);
            assert!(largest < 1e-15, "seed {seed} {activation}: largest {largest:e}");
            assert!(f.spread() < 10.0, "seed {seed} {activation}: max/min {}", f.spread());
        }
    }
}

#[test]
fn one_pair_alone_gives_the_numbers_of_the_full_grid() {
    let full = flow::grid(&DeepNet::CHAPTER, &ACTIVATIONS, &INITS, 2).unwrap();
    for f in &full {
        assert_eq!(&flow_of(2, f.activation, f.init), f);
    }
}

#[test]
fn the_same_seed_gives_the_same_numbers() {
    let a = flow::grid(&DeepNet::CHAPTER, &ACTIVATIONS, &INITS, 5).unwrap();
    let b = flow::grid(&DeepNet::CHAPTER, &ACTIVATIONS, &INITS, 5).unwrap();
    let c = flow::grid(&DeepNet::CHAPTER, &ACTIVATIONS, &INITS, 6).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn impossible_networks_are_errors_not_panics() {
    let net = DeepNet { depth: 0, ..DeepNet::CHAPTER };
    assert!(flow::grid(&net, &ACTIVATIONS, &INITS, 0).is_err());
    let net = DeepNet { classes: 1, ..DeepNet::CHAPTER };
    assert!(flow::grid(&net, &ACTIVATIONS, &INITS, 0).is_err());
}
