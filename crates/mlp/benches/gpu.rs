//! `cargo bench -p mlp --features cuda --bench gpu`: the GPU against the CPU.
//!
//! 1. GFLOP/s of our SGEMM kernel on the products of the main job's training step
//!    (784-256-256-10 at batch 128 and 256) and on 1024² and 4096² squares, beside
//!    the CPU's `linalg::matmul_into` on the same shapes (the CPU skips 4096²,
//!    which would take it minutes).
//! 2. Seconds per MNIST epoch of the two reference networks and of the main job,
//!    on the GPU and on the CPU, each the median of 3 epochs.
//!
//! Prints a markdown table. Needs an NVIDIA GPU: without one it stops with the
//! driver's answer.

use std::process::ExitCode;

use dlcore::activation::Activation;
use dlcore::cuda::Gpu;
use dlcore::data::images::{self, ImageSet};
use dlcore::init::Init;
use mlp::Config;
use mlp::device::Opened;
use mlp::speed::{
    Workload, benchmark_products, gpu_product_gflops, product_gflops, reference_workloads, time_workload_on,
};

fn main() -> ExitCode {
    dlcore::cli::report(run())
}

fn run() -> dlcore::Result<()> {
    let gpu = Gpu::new()?;
    println!("GPU: {}\n", gpu.name());
    println!("| product | GPU GFLOP/s | CPU GFLOP/s |\n|---|---:|---:|");
    for batch in [128, 256] {
        for product in benchmark_products(batch) {
            if batch == 256 && product.name.starts_with("square") {
                continue;
            }
            let on_gpu = gpu_product_gflops(&gpu, &product, 1.0)?;
            let on_cpu = if product.m >= 4096 {
                "—".to_owned()
            } else {
                format!("{:.0}", product_gflops(&product, 1.0))
            };
            let name = product.name.replace("batch", &batch.to_string());
            println!("| {name} | {on_gpu:.0} | {on_cpu} |");
        }
    }

    let (train, test) = images::load_both_or_fetch(ImageSet::Mnist, &images::default_data_dir())?;
    let main_job = Workload {
        name: "784-256-256-10, batch 128, momentum 0.9 (the main job)",
        config: Config {
            hidden: vec![256, 256],
            activation: Activation::Relu,
            output_activation: None,
            init: Init::KaimingNormal,
            lr: 0.05,
            momentum: 0.9,
            weight_decay: 0.0,
            lr_schedule: None,
            batch_size: 128,
            epochs: 3,
        },
    };
    let gpu = Opened::Cuda(gpu);
    println!("\n| network | GPU s/epoch | CPU s/epoch | speed-up |\n|---|---:|---:|---:|");
    for workload in reference_workloads(3).iter().chain([&main_job]) {
        let on_gpu = time_workload_on(&gpu, workload, &train, &test, 0)?.median_seconds();
        let on_cpu = time_workload_on(&Opened::Cpu, workload, &train, &test, 0)?.median_seconds();
        println!("| {} | {on_gpu:.3} | {on_cpu:.3} | {:.1}× |", workload.name, on_cpu / on_gpu);
    }
    Ok(())
}
