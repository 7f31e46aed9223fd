//! Times an epoch of the two reference networks (784-256-10 at batch 256,
//! 784-200-200-10 at batch 200) on MNIST and the matrix product underneath, and
//! writes the numbers to `bench.md` and `summary.json`. `cargo bench -p mlp` runs
//! the same measurement.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::Parser;
use dlcore::cli::{RunArgs, positive_usize};
use dlcore::data::images::{self, ImageSet};
use dlcore::record::Summary;
use mlp::speed::{reference_workloads, sgemm_gflops, time_workload};

/// Seconds per MNIST epoch of the two reference MLPs, and examples per second.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Epochs to time per network; the first warms up and the median of the rest
    /// is reported.
    #[arg(long, default_value_t = 4, value_parser = positive_usize)]
    epochs: usize,
    #[command(flatten)]
    run: RunArgs,
}

fn run(args: &Args) -> anyhow::Result<()> {
    let (train, test) = images::load_both_or_fetch(ImageSet::Mnist, &images::default_data_dir())?;
    let out = args.run.out_dir("mlp-bench");
    let recorder = args.run.recorder(&out)?;
    let gflops = sgemm_gflops(1.0);
    let mut summary = Summary::new("mlp-bench", args.run.seed)
        .param("epochs", args.epochs)
        .metric("sgemm_256x784x256_gflops", gflops);
    let mut table = String::from(
        "| network | seconds per epoch (median) | training examples per second |\n|---|---:|---:|\n",
    );
    println!("SGEMM 256×784×256: {gflops:.0} GFLOP/s");
    for (i, workload) in reference_workloads(args.epochs).iter().enumerate() {
        let timing = time_workload(workload, &train, &test, args.run.seed)?;
        let (seconds, rate) = (timing.median_seconds(), timing.samples_per_second());
        println!("{}: {seconds:.3} s per epoch, {rate:.0} training examples/s", timing.name);
        let _ = writeln!(table, "| {} | {seconds:.3} | {rate:.0} |", timing.name);
        let key = ["784-256-10", "784-200-200-10"][i];
        let (fastest, slowest) = timing.range_seconds();
        summary = summary
            .metric(format!("{key}/seconds_per_epoch"), seconds)
            .metric(format!("{key}/seconds_per_epoch_min"), fastest)
            .metric(format!("{key}/seconds_per_epoch_max"), slowest)
            .metric(format!("{key}/samples_per_second"), rate);
    }
    let _ = write!(table, "\nSGEMM 256×784×256: {gflops:.0} GFLOP/s.\n");
    dlcore::atomic_file::write_bytes(&out.join("bench.md"), table.as_bytes())?;
    recorder.finish(&summary)?;
    println!("\n{table}");
    Ok(())
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse()))
}
