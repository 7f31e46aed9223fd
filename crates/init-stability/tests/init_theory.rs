//! The derivations behind Xavier and Kaiming, checked by sampling: the bound and the
//! variance of the initializers at the chapter's layer sizes, and what they do to the
//! variance of a signal passing through layers.

use dlcore::activation::Activation;
use dlcore::init::Init;
use dlcore::layer::Sequential;
use dlcore::seeded_rng;
use init_stability::trace::trace;
use nalgebra::DMatrix;

fn variance(m: &DMatrix<f32>) -> f64 {
    let n = m.len() as f64;
    let mean = m.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    m.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / n
}

fn second_moment(m: &DMatrix<f32>) -> f64 {
    m.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / m.len() as f64
}

/// The 784 → 200 layer of the MNIST network: 156,800 weights. The sample variance's
/// relative standard error is √(2/N) ≈ 0.36 % for a normal and √(0.8/N) ≈ 0.23 % for
/// a uniform; the 2 % tolerance is more than five of them.
#[test]
fn xavier_uniform_bound_and_variance_at_784_to_200() {
    let (fan_in, fan_out) = (784.0f64, 200.0f64);
    let w = Init::XavierUniform.matrix(200, 784, &mut seeded_rng(0));
    let bound = (6.0 / (fan_in + fan_out)).sqrt() as f32;
    assert!(w.iter().all(|v| v.abs() <= bound));
    assert!(w.iter().any(|v| v.abs() > 0.99 * bound), "the draws should reach close to the bound");
    let theory = 2.0 / (fan_in + fan_out);
    assert!((variance(&w) / theory - 1.0).abs() < 0.02, "{} vs {theory}", variance(&w));
}

#[test]
fn kaiming_normal_variance_at_784_to_200() {
    let w = Init::KaimingNormal.matrix(200, 784, &mut seeded_rng(1));
    let theory = 2.0 / 784.0;
    assert!((variance(&w) / theory - 1.0).abs() < 0.02, "{} vs {theory}", variance(&w));
}

/// Forward: Var(z) = n_in · Var(w) · E[x²]. A square linear layer with Xavier's
/// variance 2/(n + n) = 1/n keeps unit-variance inputs at unit variance. 250,000
/// outputs; 5 % leaves room for the one shared weight matrix.
#[test]
fn xavier_keeps_the_variance_through_a_square_linear_layer() {
    let mut rng = seeded_rng(2);
    let x = Init::Normal { std: 1.0 }.matrix(500, 500, &mut rng);
    let w = Init::XavierNormal.matrix(500, 500, &mut rng);
    let ratio = variance(&(&w * &x)) / variance(&x);
    assert!((ratio - 1.0).abs() < 0.05, "{ratio}");
}

/// Kaiming: ReLU zeroes half its inputs, so E[a²] = E[z²]/2, and Var(w) = 2/n_in
/// restores E[z²] in the next layer. That holds on average; one network's layers each
/// scale the signal by a random gain near 1, and over 20 layers of 400 units those
/// gains wander within a factor of about 3 (seeds 0–3 give 0.4 to 1.2). Xavier's 1/n
/// loses half the second moment in every ReLU layer: 2⁻¹⁹ ≈ 2·10⁻⁶ by layer 20.
#[test]
fn kaiming_keeps_relu_pre_activations_at_scale_and_xavier_halves_them() {
    let sizes = [vec![400; 21], vec![10]].concat();
    let mut rng = seeded_rng(3);
    let x = Init::Normal { std: 1.0 }.matrix(400, 200, &mut rng);
    let labels = vec![0u8; 200];
    let ratio = |init: Init, rng: &mut dlcore::Rng| {
        let mut net = Sequential::mlp(&sizes, Activation::Relu, init, rng);
        let t = trace(&mut net, &x, &labels);
        second_moment(&t.pre_activations[19]) / second_moment(&t.pre_activations[0])
    };
    let kaiming = ratio(Init::KaimingNormal, &mut rng);
    assert!((1.0 / 3.0..3.0).contains(&kaiming), "Kaiming: {kaiming}");
    let xavier = ratio(Init::XavierNormal, &mut rng);
    assert!(xavier < 1e-4, "Xavier: {xavier}");
}
