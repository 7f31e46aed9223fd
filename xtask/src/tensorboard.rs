//! `cargo xtask tensorboard`: the real TensorBoard, for this project's event files.
//!
//! - `cargo xtask tensorboard [DIR]` serves the dashboard for DIR (a run directory,
//!   or a folder of them such as target/runs) on loopback.
//! - `cargo xtask tensorboard --check` makes short real runs of one binary per
//!   chapter (and the graph binaries) into target/tensorboard-check/ and reads every
//!   event file back with TensorBoard's own reader (xtask/tensorboard/check_events.py):
//!   the scalars must equal metrics.csv, the histograms histograms.csv and their
//!   tensors' sizes, the graphs must have their nodes, and a file cut mid-record must
//!   still load.
//!
//! TensorBoard runs from target/tensorboard-venv (pinned, installed on first use).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The TensorBoard release the check reads with and the dashboard runs.
const TENSORBOARD_VERSION: &str = "2.21.0";

#[derive(Debug, clap::Args)]
pub struct TensorboardArgs {
    /// A run directory, or a folder of run directories [default: target/runs]
    dir: Option<PathBuf>,
    /// Port on 127.0.0.1 for the dashboard.
    #[arg(long, default_value_t = 6006)]
    port: u16,
    /// Make short real runs and check their event files with TensorBoard's reader.
    #[arg(long, conflicts_with = "dir")]
    check: bool,
}

/// One short real run whose event file the check reads.
struct CheckedRun {
    krate: &'static str,
    bin: &'static str,
    args: &'static [&'static str],
    /// Tags whose every histogram must count this many values (the tensor's size).
    histogram_sizes: &'static [(&'static str, usize)],
    /// Nodes the recorded graph must have (empty: the run records no graph).
    graph_names: &'static [&'static str],
    /// Also read a copy cut in the middle of its last record.
    truncate: bool,
}

/// One binary of every chapter, and the binaries that record a graph. Short enough
/// for CI: the mlp trains one epoch, as in the issue.
const RUNS: &[CheckedRun] = &[
    CheckedRun {
        krate: "linreg",
        bin: "linreg-scratch",
        args: &[],
        histogram_sizes: &[],
        graph_names: &[],
        truncate: false,
    },
    CheckedRun {
        krate: "softmax",
        bin: "softmax-scratch",
        args: &["--epochs", "1"],
        histogram_sizes: &[],
        graph_names: &[],
        truncate: false,
    },
    CheckedRun {
        krate: "mlp",
        bin: "mlp",
        args: &["--epochs", "1"],
        histogram_sizes: &[
            ("layer1/weight", 784 * 256),
            ("layer1/weight_grad", 784 * 256),
            ("layer1/bias", 256),
            ("layer2/weight", 256 * 256),
            ("layer3/weight", 256 * 10),
            ("layer3/bias_grad", 10),
        ],
        graph_names: &[],
        truncate: true,
    },
    CheckedRun {
        krate: "regularization",
        bin: "polyfit",
        args: &[],
        histogram_sizes: &[],
        graph_names: &[],
        truncate: false,
    },
    CheckedRun {
        krate: "init-stability",
        bin: "activation-histograms",
        args: &[],
        histogram_sizes: &[],
        graph_names: &[],
        truncate: false,
    },
    CheckedRun {
        krate: "backprop-graph",
        bin: "mlp-graph",
        args: &[],
        histogram_sizes: &[],
        graph_names: &["x", "W1", "z", "h", "W2", "o", "y", "L", "s", "J"],
        truncate: false,
    },
    CheckedRun {
        krate: "backprop-graph",
        bin: "train-toy",
        args: &["--steps", "200"],
        histogram_sizes: &[],
        graph_names: &["x", "y", "W1", "b1", "W2", "b2"],
        truncate: false,
    },
];

pub fn run(root: &Path, args: &TensorboardArgs) -> Result<()> {
    let python = crate::python::venv_python(
        root,
        "tensorboard-venv",
        &[&format!("tensorboard=={TENSORBOARD_VERSION}")],
        &format!("import tensorboard; assert tensorboard.__version__ == '{TENSORBOARD_VERSION}'"),
        &format!("TensorBoard {TENSORBOARD_VERSION}"),
    )?;
    if args.check {
        return check(root, &python);
    }
    let dir = args.dir.clone().unwrap_or_else(|| root.join("target").join("runs"));
    if !dir.is_dir() {
        bail!(
            "{} is not a directory — run a binary first (its runs go to target/runs/<binary>)",
            dir.display()
        );
    }
    let tensorboard = python.with_file_name("tensorboard");
    println!("tensorboard: serving {} at http://127.0.0.1:{}/ (Ctrl-C stops it)", dir.display(), args.port);
    let status = Command::new(tensorboard)
        .arg("--logdir")
        .arg(&dir)
        .args(["--host", "127.0.0.1", "--port", &args.port.to_string()])
        .status()
        .context("starting tensorboard")?;
    if !status.success() {
        bail!("tensorboard stopped with {status}");
    }
    Ok(())
}

fn check(root: &Path, python: &Path) -> Result<()> {
    let base = root.join("target").join("tensorboard-check");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut failed = Vec::new();
    for run in RUNS {
        let out = base.join(run.bin);
        if out.exists() {
            fs::remove_dir_all(&out).with_context(|| format!("removing {}", out.display()))?;
        }
        println!(
            "tensorboard: cargo run --release -p {} --bin {} -- {}",
            run.krate,
            run.bin,
            run.args.join(" ")
        );
        let status = Command::new(&cargo)
            .current_dir(root)
            .args(["run", "--release", "--quiet", "-p", run.krate, "--bin", run.bin, "--"])
            .args(run.args)
            .arg("--out")
            .arg(&out)
            .stdout(std::process::Stdio::null())
            .status()
            .with_context(|| format!("starting cargo for {}", run.bin))?;
        if !status.success() {
            bail!("{} failed ({status})", run.bin);
        }

        let mut reader = Command::new(python);
        reader.arg(root.join("xtask/tensorboard/check_events.py")).arg(&out);
        for (tag, size) in run.histogram_sizes {
            reader.arg("--histogram").arg(format!("{tag}={size}"));
        }
        if !run.graph_names.is_empty() {
            reader.arg("--graph-names").arg(run.graph_names.join(","));
            if let Some(nodes) = graph_nodes_in_summary(&out)? {
                reader.arg("--graph-nodes").arg(nodes.to_string());
            }
        }
        if run.truncate {
            reader.arg("--truncate");
        }
        if !reader.status().context("running check_events.py")?.success() {
            failed.push(run.bin);
        }
    }
    if !failed.is_empty() {
        bail!("TensorBoard's reader disagreed with the runs of {} (reasons above)", failed.join(", "));
    }
    println!("tensorboard: every event file read back as recorded ({} runs)", RUNS.len());
    Ok(())
}

/// The node count a graph binary reports in its summary.json, if it reports one.
fn graph_nodes_in_summary(out: &Path) -> Result<Option<usize>> {
    let summary = dlcore::record::read_summary(&out.join(dlcore::record::SUMMARY_FILE))?;
    Ok(summary.final_metrics.get("graph_nodes").map(|&n| n as usize))
}
