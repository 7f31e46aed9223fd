//! `cargo bench -p mlp`: seconds per epoch for 784-256-10 at batch 256 and
//! 784-200-200-10 at batch 200 on MNIST, examples per second, and the speed of the
//! matrix product underneath. The same measurement as the `mlp-bench` binary,
//! without its flags (cargo passes `--bench` to this target, which it ignores).

use std::process::ExitCode;

use dlcore::data::images::{self, ImageSet};
use mlp::speed::{reference_workloads, sgemm_gflops, time_workload};

fn main() -> ExitCode {
    dlcore::cli::report(run())
}

fn run() -> dlcore::Result<()> {
    let (train, test) = images::load_both_or_fetch(ImageSet::Mnist, &images::default_data_dir())?;
    println!("SGEMM 256×784×256: {:.0} GFLOP/s", sgemm_gflops(1.0));
    for workload in reference_workloads(3) {
        let timing = time_workload(&workload, &train, &test, 0)?;
        println!(
            "{}: {:.3} s per epoch (median of {}: {}), {:.0} training examples/s",
            timing.name,
            timing.median_seconds(),
            timing.epoch_seconds.len(),
            timing.epoch_seconds.iter().map(|s| format!("{s:.3}")).collect::<Vec<_>>().join(", "),
            timing.samples_per_second()
        );
    }
    Ok(())
}
