//! Training on the GPU against training on the CPU (feature `cuda`).
//!
//! The tests that need a GPU are `#[ignore]`d, so `cargo test` lists them as
//! ignored rather than passing them silently; on a machine with a GPU run them with
//! `cargo test -p mlp --features cuda -- --ignored`. The one test that runs
//! everywhere checks that `--device cuda` without a GPU is a clean error, and
//! prints past the harness's capture whether the GPU tests could have run.
#![cfg(feature = "cuda")]

use std::io::Write as _;

use dlcore::activation::Activation;
use dlcore::cuda::Gpu;
use dlcore::data::images::{ImageSet, load_sample};
use dlcore::init::Init;
use dlcore::layer::{Layer, Sequential};
use dlcore::loss::cross_entropy_with_logits;
use dlcore::optim::Sgd;
use dlcore::seeded_rng;
use mlp::device::{Device, DeviceError, Opened};
use mlp::gpu::GpuMlp;
use mlp::{Config, Network};
use nalgebra::DMatrix;

#[test]
fn opening_cuda_without_a_gpu_is_a_clean_error() {
    match Device::Cuda.open() {
        Ok(opened) => {
            let _ = writeln!(
                std::io::stderr(),
                "mlp: {} is present; run the GPU training tests with --ignored",
                opened.describe()
            );
        }
        Err(error) => {
            if std::env::var_os("DLCORE_EXPECT_NO_GPU").is_some() {
                assert_eq!(error, DeviceError::NoGpu);
            }
            let message = error.to_string();
            assert!(message.contains("--device cpu") && !message.contains('\n'), "{message}");
            let _ = writeln!(
                std::io::stderr(),
                "mlp: skipped: {message}; the GPU training tests are #[ignore]d and were not run"
            );
        }
    }
}

fn gpu() -> Gpu {
    Gpu::new().unwrap_or_else(|error| panic!("this test needs a CUDA GPU and found none: {error}"))
}

fn config() -> Config {
    Config {
        hidden: vec![256, 256],
        activation: Activation::Relu,
        output_activation: None,
        init: Init::KaimingNormal,
        lr: 0.05,
        momentum: 0.9,
        weight_decay: 5e-4,
        lr_schedule: None,
        batch_size: 128,
        epochs: 2,
    }
}

fn largest_difference(a: &DMatrix<f32>, b: &DMatrix<f32>) -> f32 {
    assert_eq!(a.shape(), b.shape());
    (a - b).abs().max()
}

/// Every weight and bias of two networks of the same layout.
fn parameters(net: &Sequential) -> Vec<DMatrix<f32>> {
    net.layers
        .iter()
        .filter_map(|layer| match layer {
            Layer::Linear(linear) => Some([linear.weight.clone(), linear.bias.clone()]),
            Layer::Activation(_) => None,
        })
        .flatten()
        .collect()
}

/// Two steps of 784-256-256-10 with momentum and weight decay on 128 real
/// digits, from the same initial weights. The products sum in a different
/// order on the GPU, so the logits may differ by float roundings (≤ 1e-4 on
/// logits of magnitude ~1) and the parameters by the learning rate times that.
#[test]
#[ignore = "needs a CUDA GPU"]
fn a_training_step_on_the_gpu_equals_the_cpu_step() {
    let gpu = gpu();
    let data = load_sample(ImageSet::Mnist).expect("sample data").head(128);
    let x = data.x.clone();
    let mut cpu = mlp::build(&config(), data.features(), 10, &mut seeded_rng(0));
    let mut on_gpu = GpuMlp::upload(&gpu, &cpu).expect("upload");
    assert_eq!(
        parameters(&on_gpu.download().expect("download")),
        parameters(&cpu),
        "upload changed the weights"
    );
    let new_sgd = || Sgd::new(0.05).with_momentum(0.9).with_weight_decay(5e-4);
    let (mut sgd_cpu, mut sgd_gpu) = (new_sgd(), new_sgd());
    for step in 0..2 {
        let logits_cpu = Network::forward(&mut cpu, &x).expect("cpu").clone();
        let logits_gpu = Network::forward(&mut on_gpu, &x).expect("gpu").clone();
        let difference = largest_difference(&logits_cpu, &logits_gpu);
        assert!(difference <= 1e-4, "step {step}: logits differ by {difference}");
        let (_, grad) = cross_entropy_with_logits(&logits_cpu, &data.y);
        cpu.learn(&grad, &mut sgd_cpu).expect("cpu step");
        on_gpu.learn(&grad, &mut sgd_gpu).expect("gpu step");
        let trained = on_gpu.download().expect("download");
        for (index, (a, b)) in parameters(&cpu).iter().zip(parameters(&trained)).enumerate() {
            let difference = largest_difference(a, &b);
            assert!(difference <= 1e-5, "step {step}: parameter {index} differs by {difference}");
        }
    }
}

/// Two epochs on 800 digits through `train_on`, on each device: the same
/// shuffles from the same seed, so the curves agree to float noise.
#[test]
#[ignore = "needs a CUDA GPU"]
fn a_short_run_on_the_gpu_tracks_the_cpu_run() {
    let data = load_sample(ImageSet::Mnist).expect("sample data");
    let train = data.subset(&(0..800).collect::<Vec<_>>());
    let test = data.subset(&(800..1000).collect::<Vec<_>>());
    let run = |device: &Opened| {
        mlp::train_on(device, &config(), &train, &test, 10, &mut seeded_rng(1), |_| {}, |_, _| Ok(()))
            .expect("training")
    };
    let (_, on_cpu) = run(&Opened::Cpu);
    let (_, on_gpu) = run(&Opened::Cuda(gpu()));
    for (c, g) in on_cpu.iter().zip(&on_gpu) {
        assert!((c.train_loss - g.train_loss).abs() <= 1e-3 * c.train_loss, "{c:?}\n{g:?}");
        assert!(c.test_correct.abs_diff(g.test_correct) <= 2, "{c:?}\n{g:?}");
    }
}
