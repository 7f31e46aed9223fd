//! `cargo xtask bench [--vs-pytorch]`: how fast the CPU training path is, measured
//! against this machine's own limits and, on request, against PyTorch on the same
//! cores in the same run.
//!
//! - the FMA peak of this machine, by our own probe ([`peak`]);
//! - G: single-precision products at the MLP's shapes through `dlcore::linalg`, in
//!   GFLOP/s and as a fraction of the peak;
//! - W1, W2: an MNIST epoch (training + evaluation) of the two reference MLPs, by
//!   running the `mlp` crate's `mlp-bench` binary as a process;
//! - with `--vs-pytorch`: the same W1 and W2 in PyTorch (xtask/bench/pytorch_mlp.py),
//!   installed on demand into a virtual environment under `target/`.
//!
//! Results go to `target/bench/bench.csv` and into the book (`figures/mlp/bench.svg`,
//! `generated/mlp/bench.md`).

mod peak;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use dlcore::linalg::{Op, matmul_into};
use dlcore::plot::{Chart, Series};
use nalgebra::DMatrix;

/// The PyTorch release compared against; pinned so numbers compare across runs.
const TORCH_VERSION: &str = "2.15.0";

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Also run the same workloads in PyTorch (installed on demand under target/).
    #[arg(long)]
    vs_pytorch: bool,
    /// Timed repetitions of each measurement (after one warm-up).
    #[arg(long, default_value_t = 5, value_parser = dlcore::cli::positive_usize)]
    repeats: usize,
    /// Do not write the results into the book.
    #[arg(long)]
    no_book: bool,
}

/// Median, minimum and maximum of a set of timings.
#[derive(Debug, Clone, Copy)]
struct Spread {
    median: f64,
    min: f64,
    max: f64,
}

impl Spread {
    fn of(values: &[f64]) -> Spread {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let median = if v.is_empty() { f64::NAN } else { v[v.len() / 2] };
        Spread {
            median,
            min: v.first().copied().unwrap_or(f64::NAN),
            max: v.last().copied().unwrap_or(f64::NAN),
        }
    }
}

/// One product C = op(A)·op(B) of the MLP, named by its role.
struct Shape {
    name: &'static str,
    m: usize,
    k: usize,
    n: usize,
    op_a: Op,
    op_b: Op,
}

const SHAPES: [Shape; 4] = [
    Shape { name: "forward W·X (256×784·784×256)", m: 256, k: 784, n: 256, op_a: Op::N, op_b: Op::N },
    Shape {
        name: "backward dW = dZ·Xᵀ (256×256·256×784)", m: 256, k: 256, n: 784, op_a: Op::N, op_b: Op::T
    },
    Shape {
        name: "backward dX = Wᵀ·dZ (784×256·256×256)", m: 784, k: 256, n: 256, op_a: Op::T, op_b: Op::N
    },
    Shape { name: "square 1024×1024×1024", m: 1024, k: 1024, n: 1024, op_a: Op::N, op_b: Op::N },
];

fn gemm_gflops(shape: &Shape, repeats: usize) -> Spread {
    let stored = |rows: usize, cols: usize, op: Op| {
        let (r, c) = if op == Op::N { (rows, cols) } else { (cols, rows) };
        DMatrix::from_fn(r, c, |i, j| ((i * 7 + j * 3) % 11) as f32 * 0.01)
    };
    let a = stored(shape.m, shape.k, shape.op_a);
    let b = stored(shape.k, shape.n, shape.op_b);
    let mut c = DMatrix::zeros(shape.m, shape.n);
    let flops = 2.0 * (shape.m * shape.k * shape.n) as f64;
    // Enough calls per timing that each takes ~50 ms or more.
    let calls = ((2.5e10 / flops) as usize).max(3);
    let mut rates = Vec::new();
    for rep in 0..=repeats {
        let start = Instant::now();
        for _ in 0..calls {
            matmul_into(&mut c, 1.0, &a, shape.op_a, &b, shape.op_b, 0.0);
        }
        let seconds = start.elapsed().as_secs_f64();
        if rep > 0 {
            rates.push(flops * calls as f64 / seconds / 1e9);
        }
    }
    std::hint::black_box(&c);
    Spread::of(&rates)
}

/// Seconds per epoch of W1 and W2, from the `mlp-bench` binary's summary.json.
fn our_epochs(root: &Path, repeats: usize) -> Result<[(String, Spread); 2]> {
    let out = root.join("target/bench/mlp");
    let status = Command::new(env!("CARGO"))
        .current_dir(root)
        .args(["run", "--release", "--quiet", "-p", "mlp", "--bin", "mlp-bench", "--"])
        .args(["--epochs", &repeats.to_string(), "--out"])
        .arg(&out)
        .status()
        .context("running the mlp-bench binary")?;
    if !status.success() {
        bail!("mlp-bench failed ({status})");
    }
    let summary = dlcore::record::read_summary(&out.join("summary.json"))?;
    let metric = |name: &str| -> Result<f64> {
        summary
            .final_metrics
            .get(name)
            .copied()
            .with_context(|| format!("mlp-bench's summary.json has no `{name}`"))
    };
    let spread = |key: &str| -> Result<Spread> {
        Ok(Spread {
            median: metric(&format!("{key}/seconds_per_epoch"))?,
            min: metric(&format!("{key}/seconds_per_epoch_min"))?,
            max: metric(&format!("{key}/seconds_per_epoch_max"))?,
        })
    };
    Ok([("W1".into(), spread("784-256-10")?), ("W2".into(), spread("784-200-200-10")?)])
}

/// A virtual environment under target/ with the pinned torch, made on first use.
fn torch_python(root: &Path) -> Result<PathBuf> {
    crate::python::venv_python(
        root,
        "bench-venv",
        &[&format!("torch=={TORCH_VERSION}"), "numpy"],
        &format!("import torch, numpy; assert torch.__version__.startswith('{TORCH_VERSION}')"),
        &format!("torch {TORCH_VERSION} (a few GB)"),
    )
}

/// W1 and W2 in PyTorch, and the torch version that ran them.
fn pytorch_epochs(root: &Path, repeats: usize, threads: usize) -> Result<(Vec<(String, Spread)>, String)> {
    let python = torch_python(root)?;
    let output = Command::new(python)
        .current_dir(root)
        .arg("xtask/bench/pytorch_mlp.py")
        .arg("--data")
        .arg(dlcore::data::images::default_data_dir().join("mnist"))
        .args(["--repeats", &repeats.to_string(), "--threads", &threads.to_string()])
        .output()
        .context("running xtask/bench/pytorch_mlp.py")?;
    if !output.status.success() {
        bail!("the PyTorch benchmark failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    let mut results = Vec::new();
    let mut version = String::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let value: serde_json::Value =
            serde_json::from_str(line).with_context(|| format!("reading `{line}`"))?;
        let seconds: Vec<f64> = value["seconds"]
            .as_array()
            .map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect())
            .unwrap_or_default();
        version = value["torch"].as_str().unwrap_or("?").to_string();
        results.push((value["workload"].as_str().unwrap_or("?").to_string(), Spread::of(&seconds)));
    }
    Ok((results, version))
}

/// FLOPs of one epoch of an MLP with `sizes`: 60,000 training examples at about
/// 3× the forward cost (forward, dX and dW products) plus 10,000 evaluated once.
fn epoch_flops(sizes: &[usize]) -> f64 {
    let forward: f64 = sizes.windows(2).map(|p| 2.0 * (p[0] * p[1]) as f64).sum();
    60_000.0 * 3.0 * forward + 10_000.0 * forward
}

pub fn run(root: &Path, args: &BenchArgs) -> Result<()> {
    // `cargo xtask` builds without optimizations; the probe and the products must be
    // measured as users run them, so a debug build hands over to a release one.
    if cfg!(debug_assertions) {
        let status = Command::new(env!("CARGO"))
            .current_dir(root)
            .args(["run", "--release", "--quiet", "-p", "xtask", "--", "bench"])
            .args(std::env::args().skip_while(|a| a != "bench").skip(1))
            .status()
            .context("running the release build of xtask")?;
        if !status.success() {
            bail!("the benchmark failed ({status})");
        }
        return Ok(());
    }
    dlcore::data::images::load_both_or_fetch(
        dlcore::data::images::ImageSet::Mnist,
        &dlcore::data::images::default_data_dir(),
    )?;
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let isa = peak::Isa::detect();
    let peak = peak::measure(isa, threads);
    if peak <= 0.0 || !peak.is_finite() {
        bail!("the FMA probe measured {peak} GFLOP/s; nothing to compare against");
    }
    println!("FMA peak ({}, {threads} threads): {peak:.0} GFLOP/s", isa.name());

    let mut csv = String::from("kind,name,median,min,max,unit\n");
    let mut table =
        String::from("| measurement | median | range | of peak / ratio |\n|---|---:|---:|---:|\n");
    let _ = writeln!(csv, "peak,{},{peak:.1},{peak:.1},{peak:.1},GFLOP/s", isa.name());
    for shape in &SHAPES {
        // As in training: on dlcore's product threads, the caller taking part.
        let g = dlcore::linalg::in_pool(|| gemm_gflops(shape, args.repeats));
        println!("G {}: {:.0} GFLOP/s ({:.0} % of peak)", shape.name, g.median, 100.0 * g.median / peak);
        let _ = writeln!(csv, "gemm,{},{:.1},{:.1},{:.1},GFLOP/s", shape.name, g.median, g.min, g.max);
        let _ = writeln!(
            table,
            "| G {} | {:.0} GFLOP/s | {:.0}–{:.0} | {:.0} % of peak |",
            shape.name,
            g.median,
            g.min,
            g.max,
            100.0 * g.median / peak
        );
    }

    let ours = our_epochs(root, args.repeats)?;
    let torch = if args.vs_pytorch { Some(pytorch_epochs(root, args.repeats, threads)?) } else { None };
    let floors =
        [epoch_flops(&[784, 256, 10]) / (peak * 1e9), epoch_flops(&[784, 200, 200, 10]) / (peak * 1e9)];
    let mut chart = Chart::new("Seconds per MNIST epoch: W1 = 784-256-10, W2 = 784-200-200-10")
        .x_label("workload (1 = W1, 2 = W2)")
        .y_label("seconds");
    let mut ours_points = Vec::new();
    let mut torch_points = Vec::new();
    for (i, (name, spread)) in ours.iter().enumerate() {
        let _ = writeln!(csv, "epoch,{name} ours,{:.4},{:.4},{:.4},s", spread.median, spread.min, spread.max);
        let vs = torch.as_ref().and_then(|(t, _)| t.iter().find(|(n, _)| n == name)).map(|(_, s)| *s);
        let ratio = vs.map(|t| spread.median / t.median);
        println!(
            "{name}: {:.3} s per epoch (floor {:.3} s){}",
            spread.median,
            floors[i],
            ratio.map(|r| format!(", {r:.2}× PyTorch's time")).unwrap_or_default()
        );
        let _ = writeln!(
            table,
            "| {name} ours | {:.3} s | {:.3}–{:.3} | {} |",
            spread.median,
            spread.min,
            spread.max,
            ratio.map(|r| format!("{r:.2}× PyTorch")).unwrap_or_else(|| "—".into())
        );
        ours_points.push(((i + 1) as f64, spread.median));
        if let Some(t) = vs {
            let _ = writeln!(csv, "epoch,{name} pytorch,{:.4},{:.4},{:.4},s", t.median, t.min, t.max);
            let _ =
                writeln!(table, "| {name} PyTorch | {:.3} s | {:.3}–{:.3} | 1.00 |", t.median, t.min, t.max);
            torch_points.push(((i + 1) as f64, t.median));
        }
        let _ = writeln!(table, "| {name} floor (FLOPs / peak) | {:.3} s | | |", floors[i]);
    }
    chart = chart.series(Series::new("ours", ours_points).points());
    let floor_points = floors.iter().enumerate().map(|(i, f)| ((i + 1) as f64, *f));
    chart = chart.series(Series::new("floor: FLOPs / FMA peak", floor_points).points());
    if !torch_points.is_empty() {
        chart = chart.series(Series::new("PyTorch", torch_points).points());
    }
    chart = chart.x_range(0.5, 2.5).y_range(0.0, ours.iter().map(|(_, s)| s.max).fold(0.5, f64::max) * 1.3);

    let machine = format!(
        "Measured by `cargo xtask bench{}` on {} ({threads} cores, {}) on {}{}.",
        if args.vs_pytorch { " --vs-pytorch" } else { "" },
        cpu_model(),
        isa.name(),
        today(),
        torch.as_ref().map(|(_, v)| format!(", against PyTorch {v}")).unwrap_or_default()
    );
    let _ = write!(table, "\n{machine} \n");
    println!("\n{table}");
    dlcore::atomic_file::write_bytes(&root.join("target/bench/bench.csv"), csv.as_bytes())?;
    if !args.no_book {
        let book = root.join("book/src");
        let [(_, figure), (_, numbers)] = crate::plots::BENCH_OUTPUTS.outputs else {
            bail!("BENCH_OUTPUTS must list the figure, then the table");
        };
        dlcore::plot::scatter(&book.join(figure), &chart)?;
        dlcore::atomic_file::write_bytes(&book.join(numbers), table.as_bytes())?;
        println!("bench: wrote book/src/{figure} and book/src/{numbers}");
    }
    Ok(())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "an unknown CPU".into())
}

fn today() -> String {
    Command::new("date")
        .arg("+%Y-%m-%d")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
