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
//! - `cargo xtask tensorboard --screenshots` trains the main job and runs `mlp-graph`,
//!   serves them, and saves what TensorBoard shows of them (scalars, histograms,
//!   the graph) from headless Chromium (xtask/tensorboard/screenshots.mjs) as the
//!   preface's figures, book/src/figures/tensorboard/.
//!
//! TensorBoard runs from target/tensorboard-venv (pinned, installed on first use).

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
    #[arg(long, conflicts_with_all = ["dir", "screenshots"])]
    check: bool,
    /// Train the main job, then save TensorBoard's view of it as the book's figures.
    #[arg(long, conflicts_with = "dir")]
    screenshots: bool,
}

/// The preface's figures: (file the screenshot script writes, path under book/src/).
pub const SCREENSHOTS: [(&str, &str); 3] = [
    ("scalars.png", "figures/tensorboard/scalars.png"),
    ("histograms.png", "figures/tensorboard/histograms.png"),
    ("graph.png", "figures/tensorboard/graph.png"),
];

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
    /// metrics.csv columns that label several runs in one table (each run's events
    /// are in a subdirectory).
    run_columns: &'static [&'static str],
}

/// One binary of every chapter, the binaries that record a graph, and one that
/// trains several runs into one table. Short enough for CI: the mlp trains one
/// epoch, as in the issue.
const RUNS: &[CheckedRun] = &[
    CheckedRun::plain("linreg", "linreg-scratch", &[]),
    CheckedRun {
        histogram_sizes: &[("weight", 784 * 10), ("weight_grad", 784 * 10), ("bias", 10), ("bias_grad", 10)],
        ..CheckedRun::plain("softmax", "softmax-scratch", &["--epochs", "1"])
    },
    CheckedRun {
        histogram_sizes: &[
            ("layer1/weight", 784 * 256),
            ("layer1/weight_grad", 784 * 256),
            ("layer1/bias", 256),
            ("layer2/weight", 256 * 256),
            ("layer3/weight", 256 * 10),
            ("layer3/bias_grad", 10),
        ],
        truncate: true,
        ..CheckedRun::plain("mlp", "mlp", &["--epochs", "1"])
    },
    CheckedRun {
        run_columns: &["seed"],
        ..CheckedRun::plain("mlp", "d2l-mlp", &["--seeds", "0,1", "--epochs", "2"])
    },
    CheckedRun::plain("regularization", "polyfit", &[]),
    CheckedRun::plain("init-stability", "activation-histograms", &[]),
    CheckedRun {
        graph_names: &["x", "W1", "z", "h", "W2", "o", "y", "L", "s", "J"],
        ..CheckedRun::plain("backprop-graph", "mlp-graph", &[])
    },
    CheckedRun {
        graph_names: &["x", "y", "W1", "b1", "W2", "b2"],
        ..CheckedRun::plain("backprop-graph", "train-toy", &["--steps", "200"])
    },
];

impl CheckedRun {
    /// A run whose scalars (and histograms, if any) are checked, and nothing more.
    const fn plain(krate: &'static str, bin: &'static str, args: &'static [&'static str]) -> CheckedRun {
        CheckedRun {
            krate,
            bin,
            args,
            histogram_sizes: &[],
            graph_names: &[],
            truncate: false,
            run_columns: &[],
        }
    }
}

pub fn run(root: &Path, args: &TensorboardArgs) -> Result<()> {
    let dir = args.dir.clone().unwrap_or_else(|| root.join("target").join("runs"));
    if !args.check && !args.screenshots && !dir.is_dir() {
        bail!(
            "{} is not a directory — run a binary first (its runs go to target/runs/<binary>)",
            dir.display()
        );
    }
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
    if args.screenshots {
        return screenshots(root, &python);
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
    let mut failed = Vec::new();
    for run in RUNS {
        let out = base.join(run.bin);
        run_binary(root, run.krate, run.bin, run.args, &out)?;

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
        if !run.run_columns.is_empty() {
            reader.arg("--run-columns").arg(run.run_columns.join(","));
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

/// A binary's run for the check or the screenshots, announced.
fn run_binary(root: &Path, krate: &str, bin: &str, args: &[&str], out: &Path) -> Result<()> {
    println!("tensorboard: cargo run --release -p {krate} --bin {bin} -- {}", args.join(" "));
    crate::plots::run_binary(root, krate, bin, args, out)
}

/// The main job and the penalized MLP's graph, as TensorBoard shows them, saved into
/// book/src/figures/tensorboard/.
fn screenshots(root: &Path, python: &Path) -> Result<()> {
    let (chromium, modules) = crate::book_check::browser(root)?;
    // Relative to the root: TensorBoard shows the directory it serves.
    let runs = Path::new("target/tensorboard-shots/runs");
    run_binary(root, "mlp", "mlp", &[], &root.join(runs).join("mlp"))?;
    run_binary(root, "backprop-graph", "mlp-graph", &[], &root.join(runs).join("mlp-graph"))?;

    let server = Server::start(python, root, runs)?;
    let pictures = root.join("target/tensorboard-shots/png");
    fs::create_dir_all(&pictures).with_context(|| format!("creating {}", pictures.display()))?;
    let status = Command::new("node")
        .arg(root.join("xtask/tensorboard/screenshots.mjs"))
        .arg("--modules")
        .arg(&modules)
        .arg("--chromium")
        .arg(&chromium)
        .arg("--url")
        .arg(&server.url)
        .arg("--out")
        .arg(&pictures)
        .status()
        .context("running node xtask/tensorboard/screenshots.mjs")?;
    drop(server);
    if !status.success() {
        bail!("the screenshots of TensorBoard failed (reason above)");
    }
    for (file, dest) in SCREENSHOTS {
        let bytes =
            fs::read(pictures.join(file)).with_context(|| format!("screenshots.mjs did not write {file}"))?;
        let to = root.join("book").join("src").join(dest);
        if let Some(dir) = to.parent() {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        dlcore::atomic_file::write_bytes(&to, &bytes)?;
        println!("tensorboard: wrote book/src/{dest}");
    }
    Ok(())
}

/// TensorBoard serving a directory on a free loopback port, stopped when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    /// Serves `logdir` (relative to `root`, as the dashboard shows it).
    fn start(python: &Path, root: &Path, logdir: &Path) -> Result<Server> {
        // Ask the system for a free port, then hand it to TensorBoard.
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(python.with_file_name("tensorboard"))
            .current_dir(root)
            .arg("--logdir")
            .arg(logdir)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting tensorboard")?;
        let mut server = Server { child, url: format!("http://127.0.0.1:{port}/") };
        let started = Instant::now();
        while !answers(port, "/data/runs") {
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "TensorBoard stopped before it served ({status}): run `cargo xtask tensorboard` to see why"
                );
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!("TensorBoard did not answer on port {port} within 60 s");
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        Ok(server)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether an HTTP GET of `path` on the loopback `port` answers 200.
fn answers(port: u16, path: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    if stream.set_read_timeout(Some(Duration::from_secs(5))).is_err() {
        return false;
    }
    let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    let mut reply = String::new();
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_to_string(&mut reply).is_ok()
        && reply.split_whitespace().nth(1) == Some("200")
}
