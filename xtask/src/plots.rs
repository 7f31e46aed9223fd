//! `cargo xtask plots`: runs every figure-producing binary and copies what it writes
//! into the book; `cargo xtask plots --check` compares the book's links with the
//! plot jobs, both ways, without running anything.
//!
//! The book links figures as markdown images (`![..](figures/<chapter>/...)`) and
//! generated tables or numbers as includes (`{{#include generated/<chapter>/...}}`).
//! Every such file comes from exactly one job in [`JOBS`]; every file a job declares
//! is linked by some page. Both directions are checked, so a figure can neither go
//! missing from the book nor be produced for nobody.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// One figure-producing run: `cargo run --release -p <krate> --bin <bin> -- <args>
/// --out target/plot-runs/<name>`, then each `(file in --out, path under book/src)`
/// of `outputs` is copied into the book.
#[derive(Debug, Clone, Copy)]
pub struct PlotJob {
    /// Unique name; also the run's directory under `target/plot-runs/`.
    pub name: &'static str,
    /// The chapter crate (package name); always passed with `-p`, because several
    /// chapters have binaries of the same name (`scratch`, `concise`).
    pub krate: &'static str,
    pub bin: &'static str,
    /// Extra arguments before `--out`.
    pub args: &'static [&'static str],
    /// `(file the binary writes in its --out directory, destination relative to
    /// book/src)`; destinations are `figures/<chapter>/...` or
    /// `generated/<chapter>/...`.
    pub outputs: &'static [(&'static str, &'static str)],
}

/// Every plot job of the book. Add a row when a chapter gains a figure, and link the
/// figure from its page: `cargo xtask plots --check` holds the two together.
pub const JOBS: &[PlotJob] = &[
    PlotJob {
        name: "mlp-activations",
        krate: "mlp",
        bin: "activations",
        args: &[],
        outputs: &[
            ("activations.svg", "figures/mlp/activations.svg"),
            ("activations.md", "generated/mlp/activations.md"),
        ],
    },
    PlotJob {
        name: "mlp-main",
        krate: "mlp",
        bin: "mlp",
        args: &[],
        outputs: &[
            ("curves.svg", "figures/mlp/training-curves.svg"),
            ("training.md", "generated/mlp/training.md"),
        ],
    },
    PlotJob {
        name: "mlp-predict",
        krate: "mlp",
        bin: "predict",
        args: &["--checkpoint", "target/plot-runs/mlp-main/model.ckpt", "--index", "0,1,2,8", "--grid"],
        outputs: &[
            ("top.md", "generated/mlp/top.md"),
            ("predictions.png", "figures/mlp/predictions.png"),
            ("mistakes.png", "figures/mlp/mistakes.png"),
            ("confusion.md", "generated/mlp/confusion.md"),
        ],
    },
    PlotJob {
        name: "mlp-perceptron-grads",
        krate: "mlp",
        bin: "perceptron-grads",
        args: &[],
        outputs: &[("perceptron-grads.md", "generated/mlp/perceptron-grads.md")],
    },
    PlotJob {
        name: "mlp-init-compare",
        krate: "mlp",
        bin: "init-compare",
        args: &[],
        outputs: &[
            ("init-compare.svg", "figures/mlp/init-compare.svg"),
            ("init-compare.md", "generated/mlp/init-compare.md"),
        ],
    },
    PlotJob {
        name: "mlp-d2l",
        krate: "mlp",
        bin: "d2l-mlp",
        args: &[],
        outputs: &[("d2l-mlp.svg", "figures/mlp/d2l-mlp.svg"), ("d2l-mlp.md", "generated/mlp/d2l-mlp.md")],
    },
    PlotJob {
        name: "linreg-scratch",
        krate: "linreg",
        bin: "linreg-scratch",
        args: &["--compare-lr", "0.003,0.03,0.3,2"],
        outputs: &[
            ("data.svg", "figures/linreg/data.svg"),
            ("scratch-epochs.md", "generated/linreg/scratch-epochs.md"),
            ("scratch-estimate.md", "generated/linreg/scratch-estimate.md"),
            ("learning-rates.svg", "figures/linreg/learning-rates.svg"),
            ("learning-rates.md", "generated/linreg/learning-rates.md"),
        ],
    },
    PlotJob {
        name: "linreg-concise",
        krate: "linreg",
        bin: "linreg-concise",
        args: &[],
        outputs: &[("loss.svg", "figures/linreg/loss.svg"), ("concise.md", "generated/linreg/concise.md")],
    },
    PlotJob {
        name: "linreg-analytic",
        krate: "linreg",
        bin: "analytic",
        args: &[],
        outputs: &[("analytic.md", "generated/linreg/analytic.md")],
    },
    PlotJob {
        name: "softmax-scratch",
        krate: "softmax",
        bin: "softmax-scratch",
        args: &[],
        outputs: &[
            ("curves.svg", "figures/softmax/curves.svg"),
            ("predictions.png", "figures/softmax/predictions.png"),
            ("probabilities.svg", "figures/softmax/probabilities.svg"),
            ("epochs.md", "generated/softmax/scratch-epochs.md"),
            ("final.md", "generated/softmax/scratch-final.md"),
            ("numerics.md", "generated/softmax/numerics.md"),
        ],
    },
    PlotJob {
        name: "softmax-scratch-mnist",
        krate: "softmax",
        bin: "softmax-scratch",
        args: &["--dataset", "mnist"],
        outputs: &[("final.md", "generated/softmax/scratch-mnist-final.md")],
    },
    PlotJob {
        name: "softmax-concise",
        krate: "softmax",
        bin: "softmax-concise",
        args: &[],
        outputs: &[("final.md", "generated/softmax/concise-final.md")],
    },
    PlotJob {
        name: "softmax-mse-vs-ce",
        krate: "softmax",
        bin: "mse-vs-ce",
        args: &[],
        outputs: &[
            ("push.svg", "figures/softmax/push.svg"),
            ("mse-vs-ce.svg", "figures/softmax/mse-vs-ce.svg"),
            ("mse-vs-ce.md", "generated/softmax/mse-vs-ce.md"),
        ],
    },
    PlotJob {
        name: "softmax-mse-vs-ce-squared-lr",
        krate: "softmax",
        bin: "mse-vs-ce",
        args: &["--squared-lr", "0.3"],
        outputs: &[
            ("mse-vs-ce.svg", "figures/softmax/mse-vs-ce-squared-lr.svg"),
            ("mse-vs-ce.md", "generated/softmax/mse-vs-ce-squared-lr.md"),
        ],
    },
    PlotJob {
        name: "softmax-mse-vs-ce-lr3",
        krate: "softmax",
        bin: "mse-vs-ce",
        args: &["--lr", "3"],
        outputs: &[
            ("mse-vs-ce.svg", "figures/softmax/mse-vs-ce-lr3.svg"),
            ("mse-vs-ce.md", "generated/softmax/mse-vs-ce-lr3.md"),
        ],
    },
    PlotJob {
        name: "backprop-graph-mlp-graph",
        krate: "backprop-graph",
        bin: "mlp-graph",
        args: &[],
        outputs: &[
            ("graph.svg", "figures/backprop-graph/graph.svg"),
            ("graph.dot", "generated/backprop-graph/graph.dot"),
            ("gradients.md", "generated/backprop-graph/gradients.md"),
            ("memory.md", "generated/backprop-graph/memory.md"),
        ],
    },
    PlotJob {
        name: "backprop-graph-chain-rule",
        krate: "backprop-graph",
        bin: "chain-rule",
        args: &[],
        outputs: &[
            ("chain-rule.md", "generated/backprop-graph/chain-rule.md"),
            ("accumulation.md", "generated/backprop-graph/accumulation.md"),
            ("non-scalar.md", "generated/backprop-graph/non-scalar.md"),
        ],
    },
    PlotJob {
        name: "backprop-graph-train-toy",
        krate: "backprop-graph",
        bin: "train-toy",
        args: &[],
        outputs: &[
            ("decision-regions.svg", "figures/backprop-graph/decision-regions.svg"),
            ("loss.svg", "figures/backprop-graph/loss.svg"),
            ("train-toy.md", "generated/backprop-graph/train-toy.md"),
        ],
    },
    PlotJob {
        name: "regularization-polyfit",
        krate: "regularization",
        bin: "polyfit",
        args: &[],
        outputs: &[
            ("polyfit.svg", "figures/regularization/polyfit.svg"),
            ("polyfit-curves.svg", "figures/regularization/polyfit-curves.svg"),
            ("polyfit-losses.md", "generated/regularization/polyfit-losses.md"),
            ("polyfit-parameters.md", "generated/regularization/polyfit-parameters.md"),
            ("polyfit-seeds.md", "generated/regularization/polyfit-seeds.md"),
        ],
    },
    PlotJob {
        name: "regularization-kfold",
        krate: "regularization",
        bin: "kfold",
        args: &[],
        outputs: &[
            ("kfold.svg", "figures/regularization/kfold.svg"),
            ("kfold.md", "generated/regularization/kfold.md"),
        ],
    },
    PlotJob {
        name: "regularization-weight-decay",
        krate: "regularization",
        bin: "weight-decay",
        args: &[],
        outputs: &[
            ("weight-decay.svg", "figures/regularization/weight-decay.svg"),
            ("weight-decay-norm.svg", "figures/regularization/weight-decay-norm.svg"),
            ("weight-decay-sweep.svg", "figures/regularization/weight-decay-sweep.svg"),
            ("weight-decay-sweep-zoom.svg", "figures/regularization/weight-decay-sweep-zoom.svg"),
            ("weight-decay.md", "generated/regularization/weight-decay.md"),
            ("weight-decay-sweep.md", "generated/regularization/weight-decay-sweep.md"),
        ],
    },
    PlotJob {
        name: "regularization-dropout",
        krate: "regularization",
        bin: "dropout",
        args: &[],
        outputs: &[
            ("dropout.svg", "figures/regularization/dropout.svg"),
            ("dropout.md", "generated/regularization/dropout.md"),
        ],
    },
    PlotJob {
        name: "init-stability-products",
        krate: "init-stability",
        bin: "products",
        args: &[],
        outputs: &[
            ("products.svg", "figures/init-stability/products.svg"),
            ("products.md", "generated/init-stability/products.md"),
        ],
    },
    PlotJob {
        name: "init-stability-sigmoid-gradient",
        krate: "init-stability",
        bin: "sigmoid-gradient",
        args: &[],
        outputs: &[
            ("sigmoid-gradient.svg", "figures/init-stability/sigmoid-gradient.svg"),
            ("sigmoid-gradient.md", "generated/init-stability/sigmoid-gradient.md"),
        ],
    },
    PlotJob {
        name: "init-stability-gradient-flow",
        krate: "init-stability",
        bin: "gradient-flow",
        args: &[],
        outputs: &[
            ("gradient-flow-sigmoid.svg", "figures/init-stability/gradient-flow-sigmoid.svg"),
            ("gradient-flow-tanh.svg", "figures/init-stability/gradient-flow-tanh.svg"),
            ("gradient-flow-relu.svg", "figures/init-stability/gradient-flow-relu.svg"),
            ("gradient-flow.md", "generated/init-stability/gradient-flow.md"),
            ("gains.md", "generated/init-stability/gains.md"),
        ],
    },
    PlotJob {
        name: "init-stability-histograms",
        krate: "init-stability",
        bin: "activation-histograms",
        args: &[],
        outputs: &[
            (
                "activations-sigmoid-normal-0.01.svg",
                "figures/init-stability/activations-sigmoid-normal-0.01.svg",
            ),
            ("activations-tanh-normal-0.01.svg", "figures/init-stability/activations-tanh-normal-0.01.svg"),
            ("activations-tanh-normal-1.svg", "figures/init-stability/activations-tanh-normal-1.svg"),
            ("activations-tanh-xavier.svg", "figures/init-stability/activations-tanh-xavier.svg"),
            ("activations-relu-normal-1.svg", "figures/init-stability/activations-relu-normal-1.svg"),
            ("activations-relu-kaiming.svg", "figures/init-stability/activations-relu-kaiming.svg"),
            ("gradients-sigmoid-xavier.svg", "figures/init-stability/gradients-sigmoid-xavier.svg"),
            ("gradients-relu-kaiming.svg", "figures/init-stability/gradients-relu-kaiming.svg"),
            ("activation-stats.md", "generated/init-stability/activation-stats.md"),
        ],
    },
    PlotJob {
        name: "init-stability-symmetry",
        krate: "init-stability",
        bin: "symmetry",
        args: &[],
        outputs: &[
            ("symmetry.svg", "figures/init-stability/symmetry.svg"),
            ("symmetry-units.png", "figures/init-stability/symmetry-units.png"),
            ("symmetry.md", "generated/init-stability/symmetry.md"),
        ],
    },
    PlotJob {
        name: "init-stability-training",
        krate: "init-stability",
        bin: "training-vs-init",
        args: &[],
        outputs: &[
            ("training-vs-init.svg", "figures/init-stability/training-vs-init.svg"),
            ("training-vs-init.md", "generated/init-stability/training-vs-init.md"),
        ],
    },
    PlotJob {
        name: "init-stability-landscape",
        krate: "init-stability",
        bin: "landscape",
        args: &[],
        outputs: &[
            ("landscape-himmelblau.svg", "figures/init-stability/landscape-himmelblau.svg"),
            ("landscape-saddle.svg", "figures/init-stability/landscape-saddle.svg"),
            ("landscape-saddle-distance.svg", "figures/init-stability/landscape-saddle-distance.svg"),
            ("landscape-himmelblau.md", "generated/init-stability/landscape-himmelblau.md"),
            ("landscape-saddle.md", "generated/init-stability/landscape-saddle.md"),
        ],
    },
    PlotJob {
        name: "init-stability-learning-rate",
        krate: "init-stability",
        bin: "learning-rate",
        args: &[],
        outputs: &[
            ("learning-rate-himmelblau.svg", "figures/init-stability/learning-rate-himmelblau.svg"),
            ("learning-rate-paths.svg", "figures/init-stability/learning-rate-paths.svg"),
            ("learning-rate-regression.svg", "figures/init-stability/learning-rate-regression.svg"),
            ("learning-rate-himmelblau.md", "generated/init-stability/learning-rate-himmelblau.md"),
            ("learning-rate-regression.md", "generated/init-stability/learning-rate-regression.md"),
        ],
    },
    PlotJob {
        name: "init-stability-momentum",
        krate: "init-stability",
        bin: "momentum",
        args: &[],
        outputs: &[
            ("momentum-paths-0.svg", "figures/init-stability/momentum-paths-0.svg"),
            ("momentum-paths-0.5.svg", "figures/init-stability/momentum-paths-0.5.svg"),
            ("momentum-paths-0.9.svg", "figures/init-stability/momentum-paths-0.9.svg"),
            ("momentum-loss.svg", "figures/init-stability/momentum-loss.svg"),
            ("momentum.md", "generated/init-stability/momentum.md"),
        ],
    },
];

/// The figure and table `cargo xtask bench` writes into the book. `plots` checks
/// them like any job's outputs but never reruns the bench: it takes minutes,
/// installs PyTorch, and its numbers belong to the machine and the date it ran on.
pub const BENCH_OUTPUTS: PlotJob = PlotJob {
    name: "cargo xtask bench",
    krate: "mlp",
    bin: "(xtask bench)",
    args: &[],
    outputs: &[("bench.svg", "figures/mlp/bench.svg"), ("bench.md", "generated/mlp/bench.md")],
};

/// The preface's TensorBoard screenshots, made by `cargo xtask tensorboard
/// --screenshots` (TensorBoard and a browser, so not a plot job).
pub const TENSORBOARD_OUTPUTS: PlotJob = PlotJob {
    name: "cargo xtask tensorboard --screenshots",
    krate: "mlp",
    bin: "(xtask tensorboard)",
    args: &[],
    outputs: &crate::tensorboard::SCREENSHOTS,
};

/// The two kinds of book path a plot job can produce.
const PRODUCED_DIRS: [&str; 2] = ["figures/", "generated/"];

pub fn run(root: &Path, check: bool) -> Result<()> {
    validate_jobs(JOBS)?;
    if !check {
        for job in JOBS {
            run_job(root, job)?;
        }
    }
    let book_src = root.join("book").join("src");
    let links = scan_book(&book_src)?;
    let checked: Vec<PlotJob> = JOBS.iter().copied().chain([BENCH_OUTPUTS, TENSORBOARD_OUTPUTS]).collect();
    let problems = compare(&links, &checked, |path| book_src.join(path).is_file());
    if problems.is_empty() {
        let outputs: usize = JOBS.iter().map(|j| j.outputs.len()).sum();
        println!(
            "plots: {} job(s), {outputs} output(s), {} link(s) from the book: all match",
            JOBS.len(),
            links.len()
        );
        return Ok(());
    }
    for problem in &problems {
        eprintln!("plots: {problem}");
    }
    bail!("{} problem(s) between the book's links and the plot jobs (listed above)", problems.len())
}

/// Runs `cargo run --release -p krate --bin bin -- args --out out` from the root,
/// into a fresh `out`, so an output the binary no longer writes cannot be picked up
/// from an earlier run. The plot jobs and `xtask tensorboard` run binaries this way.
pub fn run_binary(root: &Path, krate: &str, bin: &str, args: &[&str], out: &Path) -> Result<()> {
    if out.exists() {
        fs::remove_dir_all(out).with_context(|| format!("removing {}", out.display()))?;
    }
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args(["run", "--release", "--quiet", "-p", krate, "--bin", bin, "--"])
        .args(args)
        .arg("--out")
        .arg(out)
        .status()
        .with_context(|| format!("starting cargo for {bin}"))?;
    if !status.success() {
        bail!("{bin} failed ({status})");
    }
    Ok(())
}

/// Runs one job and copies its declared outputs into book/src.
fn run_job(root: &Path, job: &PlotJob) -> Result<()> {
    let out_dir = root.join("target").join("plot-runs").join(job.name);
    let mut shown_args: Vec<&str> = job.args.to_vec();
    let shown_out = format!("target/plot-runs/{}", job.name);
    shown_args.extend(["--out", &shown_out]);
    println!(
        "plots: [{}] cargo run --release -p {} --bin {} -- {}",
        job.name,
        job.krate,
        job.bin,
        shown_args.join(" ")
    );
    run_binary(root, job.krate, job.bin, job.args, &out_dir)
        .with_context(|| format!("plot job `{}`", job.name))?;

    for (file, dest) in job.outputs {
        let from = out_dir.join(file);
        let bytes = fs::read(&from).with_context(|| {
            format!("plot job `{}` did not write {file} (looked for {})", job.name, from.display())
        })?;
        let to = root.join("book").join("src").join(dest);
        let shown = format!("book/src/{dest}");
        if fs::read(&to).is_ok_and(|old| old == bytes) {
            println!("plots:   unchanged {shown}");
            continue;
        }
        dlcore::atomic_file::write_bytes(&to, &bytes).with_context(|| format!("writing {shown}"))?;
        println!("plots:   wrote {shown} ({} bytes)", bytes.len());
    }
    Ok(())
}

/// The table itself must be sound: unique job names, each destination produced once
/// and under `figures/<crate>/` or `generated/<crate>/` of the job's own crate.
fn validate_jobs(jobs: &[PlotJob]) -> Result<()> {
    let mut names = BTreeSet::new();
    let mut dests = BTreeMap::new();
    for job in jobs {
        if !names.insert(job.name) {
            bail!("plot job name `{}` is used twice in xtask/src/plots.rs", job.name);
        }
        for (_, dest) in job.outputs {
            if let Some(other) = dests.insert(*dest, job.name) {
                bail!("plot jobs `{other}` and `{}` both write {dest}", job.name);
            }
            let mut parts = dest.splitn(3, '/');
            let (kind, chapter, rest) = (parts.next(), parts.next(), parts.next());
            let kind_ok = kind.is_some_and(|k| PRODUCED_DIRS.contains(&format!("{k}/").as_str()));
            if !kind_ok || chapter != Some(job.krate) || rest.is_none_or(str::is_empty) {
                bail!(
                    "plot job `{}` writes {dest}: destinations must be figures/{}/<file> \
                     or generated/{}/<file>, named after the job's crate",
                    job.name,
                    job.krate,
                    job.krate
                );
            }
        }
    }
    Ok(())
}

/// A file the book expects a plot job to produce.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct BookLink {
    /// The page that links it, relative to book/src (`mlp.md`).
    pub page: String,
    /// The linked file, relative to book/src (`figures/mlp/activations.svg`).
    pub target: String,
}

/// Reads every markdown page under `book_src` (skipping the fetched `katex/`
/// assets) and returns the links to `figures/` and `generated/` files.
fn scan_book(book_src: &Path) -> Result<Vec<BookLink>> {
    let mut links = Vec::new();
    for page in markdown_pages(book_src)? {
        let text =
            fs::read_to_string(book_src.join(&page)).with_context(|| format!("reading book/src/{page}"))?;
        let page_dir = page.rsplit_once('/').map_or("", |(dir, _)| dir);
        for target in extract_links(&text, page_dir) {
            links.push(BookLink { page: page.clone(), target });
        }
    }
    Ok(links)
}

/// Every markdown page under `book_src`, relative to it with `/` separators, sorted;
/// the fetched `katex/` assets are skipped.
pub fn markdown_pages(book_src: &Path) -> Result<Vec<String>> {
    let mut pages = Vec::new();
    collect_markdown(book_src, book_src, &mut pages)?;
    pages.sort();
    Ok(pages)
}

fn collect_markdown(book_src: &Path, dir: &Path, pages: &mut Vec<String>) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path: PathBuf = entry?.path();
        let rel = path.strip_prefix(book_src).unwrap_or(&path);
        let rel = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        if path.is_dir() {
            if rel != "katex" {
                collect_markdown(book_src, &path, pages)?;
            }
        } else if rel.ends_with(".md") {
            pages.push(rel);
        }
    }
    Ok(())
}

/// The `figures/…` and `generated/…` files a page links, as paths relative to
/// book/src. `page_dir` is the page's directory relative to book/src (`""` for a
/// top-level page). Recognised: markdown images `![alt](path)` and HTML
/// `<img src="path">` outside fenced code, and `{{#include path}}` anywhere (mdBook
/// expands includes inside code fences too) unless escaped as `\{{#include`.
/// Anchors and line ranges after `:` are dropped.
pub fn extract_links(markdown: &str, page_dir: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut in_fence: Option<&str> = None;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        let fence = ["```", "~~~"].into_iter().find(|f| trimmed.starts_with(f));
        if let Some(f) = fence {
            match in_fence {
                None => in_fence = Some(f),
                Some(open) if open == f => in_fence = None,
                Some(_) => {}
            }
            continue;
        }
        found.extend(includes(line).into_iter().map(|include| include.path));
        if in_fence.is_none() {
            found.extend(images(line));
        }
    }
    let mut links: Vec<String> = found
        .into_iter()
        .filter_map(|raw| normalize(page_dir, &raw))
        .filter(|path| PRODUCED_DIRS.iter().any(|dir| path.starts_with(dir)))
        .collect();
    links.sort();
    links.dedup();
    links
}

/// One `{{#include path:selector}}` (or `{{#rustdoc_include …}}`) directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    /// The path as written, relative to the page's directory.
    pub path: String,
    /// What follows the first `:`: an anchor name or a line range, if any.
    pub selector: Option<String>,
}

/// The include directives on a line, skipping escaped ones (`\{{#include …}}`).
pub fn includes(line: &str) -> Vec<Include> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find("{{") {
        let escaped = rest[..start].ends_with('\\');
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let inner = after[..end].trim();
        let argument = inner.strip_prefix("#include").or_else(|| inner.strip_prefix("#rustdoc_include"));
        if !escaped && let Some(argument) = argument.filter(|a| a.starts_with(char::is_whitespace)) {
            let mut parts = argument.trim().splitn(2, ':');
            let path = parts.next().unwrap_or("").trim();
            let selector = parts.next().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
            if !path.is_empty() {
                found.push(Include { path: path.to_owned(), selector });
            }
        }
        rest = &after[end + 2..];
    }
    found
}

/// Targets of markdown images `![alt](target "title")` and `<img src="target">`.
fn images(line: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find("![") {
        let after = &rest[start + 2..];
        let Some(close) = after.find("](") else { break };
        let link = &after[close + 2..];
        let Some(end) = link.find(')') else { break };
        let target = link[..end].split_whitespace().next().unwrap_or("");
        let target = target.trim_start_matches('<').trim_end_matches('>');
        if !target.is_empty() {
            targets.push(target.to_owned());
        }
        rest = &link[end + 1..];
    }
    let mut rest = line;
    while let Some(start) = rest.find("<img") {
        let tag = &rest[start..];
        let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
        if let Some(pos) = tag.find("src=") {
            let value = &tag[pos + 4..];
            let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'');
            let target = match quote {
                Some(q) => value[1..].split(q).next().unwrap_or(""),
                None => value.split_whitespace().next().unwrap_or(""),
            };
            if !target.is_empty() {
                targets.push(target.to_owned());
            }
        }
        rest = &rest[start + 4..];
    }
    targets
}

/// Joins a link onto its page's directory and resolves `.` and `..` lexically; a
/// URL, an absolute path or a path that climbs out of book/src gives `None`.
pub fn normalize(page_dir: &str, link: &str) -> Option<String> {
    if link.contains("://") || link.starts_with('/') || link.starts_with('#') {
        return None;
    }
    let link = link.split(['#', '?']).next().unwrap_or(link);
    let mut parts: Vec<&str> = Vec::new();
    for part in page_dir.split('/').chain(link.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

/// Everything that does not match between the book's links and the jobs' outputs;
/// `exists` says whether a path relative to book/src is on disk.
pub fn compare(links: &[BookLink], jobs: &[PlotJob], exists: impl Fn(&str) -> bool) -> Vec<String> {
    let produced: BTreeMap<&str, &str> =
        jobs.iter().flat_map(|job| job.outputs.iter().map(move |(_, dest)| (*dest, job.name))).collect();
    let linked: BTreeSet<&str> = links.iter().map(|l| l.target.as_str()).collect();

    let mut problems = Vec::new();
    let mut reported = BTreeSet::new();
    for link in links {
        if !produced.contains_key(link.target.as_str()) && reported.insert((&link.page, &link.target)) {
            problems.push(format!(
                "book/src/{} links {}, which no plot job produces (add one to JOBS in xtask/src/plots.rs)",
                link.page, link.target
            ));
        }
    }
    for (dest, job) in &produced {
        if !linked.contains(dest) {
            problems.push(format!("plot job `{job}` writes {dest}, which no page of the book links"));
        }
        if !exists(dest) {
            problems
                .push(format!("book/src/{dest} (from plot job `{job}`) is missing: run `cargo xtask plots`"));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(page: &str, target: &str) -> BookLink {
        BookLink { page: page.into(), target: target.into() }
    }

    const JOB: PlotJob = PlotJob {
        name: "demo",
        krate: "mlp",
        bin: "demo",
        args: &[],
        outputs: &[("a.svg", "figures/mlp/a.svg"), ("t.md", "generated/mlp/t.md")],
    };

    #[test]
    fn finds_images_and_generated_includes() {
        let page = "# Title\n\
                    Some text ![A figure](figures/mlp/a.svg \"title\") and more.\n\
                    {{#include generated/mlp/t.md}}\n\
                    {{ #include generated/mlp/anchored.md:table }}\n\
                    <img alt=\"x\" src=\"figures/mlp/b.png\">\n\
                    ![external](https://example.org/x.svg)\n";
        assert_eq!(
            extract_links(page, ""),
            ["figures/mlp/a.svg", "figures/mlp/b.png", "generated/mlp/anchored.md", "generated/mlp/t.md"]
        );
    }

    #[test]
    fn ignores_source_includes_escapes_and_images_in_code() {
        let page = "```rust,ignore\n\
                    {{#include ../../crates/dlcore/src/activation.rs:sigmoid}}\n\
                    ![not an image](figures/mlp/in-code.svg)\n\
                    ```\n\
                    Write `\\{{#include generated/mlp/escaped.md}}` to include a file.\n\
                    ~~~\n\
                    ```\n\
                    ![still code](figures/mlp/tilde.svg)\n\
                    ~~~\n";
        assert!(extract_links(page, "").is_empty(), "{:?}", extract_links(page, ""));
    }

    #[test]
    fn include_directives_are_parsed() {
        let line = "a {{#include ../src/x.rs:sigmoid}} b {{ #rustdoc_include y.rs:3:10 }} \\{{#include z.md}} {{#title T}}";
        let found = includes(line);
        assert_eq!(
            found,
            [
                Include { path: "../src/x.rs".into(), selector: Some("sigmoid".into()) },
                Include { path: "y.rs".into(), selector: Some("3:10".into()) },
            ]
        );
        assert!(includes("{{#includes x}} {{#include}}").is_empty());
    }

    #[test]
    fn includes_inside_code_fences_count() {
        let page = "```text\n{{#include generated/mlp/log.txt}}\n```\n";
        assert_eq!(extract_links(page, ""), ["generated/mlp/log.txt"]);
    }

    #[test]
    fn links_resolve_relative_to_the_page() {
        assert_eq!(extract_links("![x](../figures/mlp/a.svg)", "part"), ["figures/mlp/a.svg"]);
        assert_eq!(extract_links("![x](./figures/mlp/a.svg)", ""), ["figures/mlp/a.svg"]);
        assert!(extract_links("![x](../../figures/a.svg)", "").is_empty());
        assert!(extract_links("![x](other/figures/a.svg)", "").is_empty());
    }

    #[test]
    fn several_links_on_one_line_and_duplicates() {
        let page = "![a](figures/x/a.svg) ![b](figures/x/b.svg)\n![a again](figures/x/a.svg)";
        assert_eq!(extract_links(page, ""), ["figures/x/a.svg", "figures/x/b.svg"]);
    }

    #[test]
    fn matching_book_and_jobs_have_no_problems() {
        let links = [link("mlp.md", "figures/mlp/a.svg"), link("mlp.md", "generated/mlp/t.md")];
        assert!(compare(&links, &[JOB], |_| true).is_empty());
    }

    #[test]
    fn a_link_no_job_produces_is_reported() {
        let links = [
            link("mlp.md", "figures/mlp/a.svg"),
            link("mlp.md", "generated/mlp/t.md"),
            link("softmax.md", "figures/softmax/curves.svg"),
        ];
        let problems = compare(&links, &[JOB], |_| true);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("book/src/softmax.md links figures/softmax/curves.svg"));
        assert!(problems[0].contains("no plot job produces"));
    }

    #[test]
    fn an_output_no_page_links_is_reported() {
        let links = [link("mlp.md", "figures/mlp/a.svg")];
        let problems = compare(&links, &[JOB], |_| true);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("`demo` writes generated/mlp/t.md, which no page of the book links"));
    }

    #[test]
    fn a_missing_output_file_is_reported() {
        let links = [link("mlp.md", "figures/mlp/a.svg"), link("mlp.md", "generated/mlp/t.md")];
        let problems = compare(&links, &[JOB], |path| path != "figures/mlp/a.svg");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("book/src/figures/mlp/a.svg (from plot job `demo`) is missing"));
    }

    #[test]
    fn the_job_table_is_sound() {
        validate_jobs(JOBS).unwrap();
    }

    #[test]
    fn bad_tables_are_rejected() {
        let twice = PlotJob { name: "other", ..JOB };
        assert!(validate_jobs(&[JOB, twice]).unwrap_err().to_string().contains("both write"));
        let same_name = PlotJob { outputs: &[], ..JOB };
        assert!(validate_jobs(&[JOB, same_name]).unwrap_err().to_string().contains("used twice"));
        let outside = PlotJob { outputs: &[("a.svg", "images/a.svg")], ..JOB };
        assert!(validate_jobs(&[outside]).is_err());
        let no_chapter = PlotJob { outputs: &[("a.svg", "figures/a.svg")], ..JOB };
        assert!(validate_jobs(&[no_chapter]).is_err());
        let other_chapter = PlotJob { outputs: &[("a.svg", "figures/softmax/a.svg")], ..JOB };
        assert!(validate_jobs(&[other_chapter]).unwrap_err().to_string().contains("figures/mlp/<file>"));
    }
}
