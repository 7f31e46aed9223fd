//! `cargo xtask <command>`: the project's automation, in Rust so it runs wherever
//! cargo does. It uses dlcore's library for data and runs the chapters' binaries as
//! processes; it never links a chapter.

mod bench;
mod book;
mod book_check;
mod data;
mod plots;
mod ptx;
mod python;
mod tensorboard;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "Project automation: data, plots, book, bench, tensorboard")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Fetch MNIST and Fashion-MNIST into data/ and verify every file's sha256.
    Data(data::DataArgs),
    /// Run every figure-producing binary and write the figures under book/src/.
    Plots {
        /// Only check that the book's figure links and the plot jobs match, both ways.
        #[arg(long)]
        check: bool,
    },
    /// Build the book (mdBook with KaTeX rendered at build time) into book/book/.
    Book {
        /// Then open every chapter in headless Chromium and fail on a broken image,
        /// a KaTeX error, a failed stylesheet/font/script or any request off the
        /// machine; screenshots go to target/book-check/screenshots/.
        #[arg(long)]
        check: bool,
    },
    /// Measure the CPU training path: FMA peak, matrix products, MNIST epochs
    /// (and PyTorch's, with --vs-pytorch).
    Bench(bench::BenchArgs),
    /// Compile dlcore's CUDA kernels to the committed PTX (`--check`: verify it).
    Ptx(ptx::PtxArgs),
    /// Show runs in the real TensorBoard on loopback (`--check`: read short real
    /// runs back with TensorBoard's own reader).
    Tensorboard(tensorboard::TensorboardArgs),
}

/// The workspace root: xtask lives one level below it.
fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = workspace_root();
    let result = match cli.command {
        Command::Data(args) => data::run(&root, &args),
        Command::Plots { check } => plots::run(&root, check),
        Command::Book { check } => book::run(&root, check),
        Command::Bench(args) => bench::run(&root, &args),
        Command::Ptx(args) => ptx::run(&root, &args),
        Command::Tensorboard(args) => tensorboard::run(&root, &args),
    };
    dlcore::cli::report(result)
}
