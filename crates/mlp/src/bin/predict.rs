//! Classifies test images with a saved network: the top-3 classes and their
//! probabilities for the images asked for, the accuracy over the whole test set,
//! and with `--grid` pictures of predictions and of mistakes and the confusion
//! matrix.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Parser;
use dlcore::cli::{RunArgs, positive_usize};
use dlcore::data::dataset::Labeled;
use dlcore::data::images::{self, Split};
use dlcore::plot::{Tile, image_grid};
use dlcore::record::Summary;
use mlp::checkpoint::Checkpoint;
use mlp::inspect::{Predictions, confusion_table, predict_all, probabilities, top_k};

/// Classify test images with a checkpoint written by the main job (`cargo run -p mlp`).
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The checkpoint to load.
    #[arg(long, default_value = "target/runs/mlp/model.ckpt")]
    checkpoint: PathBuf,
    /// Test images to classify, by index (0 to 9999), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "0,1,2")]
    index: Vec<usize>,
    /// Also write predictions.png, mistakes.png and confusion.md.
    #[arg(long)]
    grid: bool,
    /// Images per grid.
    #[arg(long, default_value_t = 40, value_parser = positive_usize)]
    grid_size: usize,
    /// Classes shown per image.
    #[arg(long, default_value_t = 3, value_parser = positive_usize)]
    top: usize,
    /// (--seed is accepted like everywhere, but predicting draws nothing at random.)
    #[command(flatten)]
    run: RunArgs,
}

/// Images per grid row.
const GRID_COLUMNS: usize = 10;

fn run(args: &Args) -> anyhow::Result<()> {
    let Checkpoint { dataset, mut net, .. } = Checkpoint::load(&args.checkpoint)?;
    let test = images::load_or_fetch(dataset, Split::Test, &images::default_data_dir())?;
    if mlp::classes_of(&net) != images::CLASSES
        || net.linear_layers().next().map(|l| l.fan_in()) != Some(test.features())
    {
        bail!(
            "{}: the network does not map {} pixels to {} classes",
            args.checkpoint.display(),
            test.features(),
            images::CLASSES
        );
    }
    if let Some(&bad) = args.index.iter().find(|&&i| i >= test.len()) {
        bail!("--index {bad}: the {} test set has images 0 to {}", dataset.title(), test.len() - 1);
    }
    let names = dataset.class_names();
    let out = args.run.out_dir("predict");
    let recorder = args.run.recorder(&out)?;

    // The asked-for images, as one batch.
    let picked = test.subset(&args.index);
    let probs = probabilities(&mut net, &picked.x);
    let mut top_md =
        format!("| test image | true class | top {} guesses (probability) |\n|---:|---|---|\n", args.top);
    for (j, &index) in args.index.iter().enumerate() {
        let guesses = top_k(probs.column(j).as_slice(), args.top);
        let shown: Vec<String> = guesses
            .iter()
            .map(|g| format!("{} ({})", names[usize::from(g.class)], probability(g.probability)))
            .collect();
        let truth = names[usize::from(picked.y[j])];
        println!("test image {index} (true: {truth}): {}", shown.join(", "));
        let _ = writeln!(top_md, "| {index} | {truth} | {} |", shown.join(", "));
    }

    let all = predict_all(&mut net, &test, 1000);
    let mistakes = all.mistakes(&test.y);
    println!(
        "\n{}: {} of {} test images right ({:.2} %), {} mistakes",
        dataset.title(),
        test.len() - mistakes.len(),
        test.len(),
        100.0 * all.accuracy(),
        mistakes.len()
    );
    dlcore::atomic_file::write_bytes(&out.join("top.md"), top_md.as_bytes())?;
    if args.grid {
        let first: Vec<usize> = (0..args.grid_size.min(test.len())).collect();
        let shown_mistakes = &mistakes[..args.grid_size.min(mistakes.len())];
        grid(&out.join("predictions.png"), &test, &all, &first, &names)?;
        if shown_mistakes.is_empty() {
            println!("no mistakes to draw");
        } else {
            grid(&out.join("mistakes.png"), &test, &all, shown_mistakes, &names)?;
        }
        let confusion = format!(
            "{}\n{} test images, {} classified right ({:.2} %).\n",
            confusion_table(&all.confusion, &names),
            test.len(),
            test.len() - mistakes.len(),
            100.0 * all.accuracy()
        );
        dlcore::atomic_file::write_bytes(&out.join("confusion.md"), confusion.as_bytes())?;
        println!("\n{confusion}");
        println!("wrote predictions.png, mistakes.png and confusion.md to {}", out.display());
    }
    let summary = Summary::new("predict", args.run.seed)
        .param("checkpoint", args.checkpoint.display().to_string())
        .param("dataset", dataset.to_string())
        .metric("test_accuracy", f64::from(all.accuracy()))
        .metric("mistakes", mistakes.len() as f64);
    recorder.finish(&summary).context("writing the summary")?;
    Ok(())
}

/// A probability with four decimals, or in scientific notation when it is too
/// small for them (a network this sure gives its second guess 10⁻⁶).
fn probability(p: f32) -> String {
    if p >= 1e-3 { format!("{p:.4}") } else { format!("{p:.1e}") }
}

/// A grid of test images captioned "true → predicted" and the probability the
/// network gave its prediction; wrong ones in red.
fn grid(
    path: &std::path::Path,
    test: &Labeled,
    predictions: &Predictions,
    indices: &[usize],
    names: &[&str],
) -> anyhow::Result<()> {
    let images: Vec<Vec<f32>> = indices.iter().map(|&i| test.x.column(i).iter().copied().collect()).collect();
    let tiles: Vec<Tile<'_>> = indices
        .iter()
        .zip(&images)
        .map(|(&i, image)| {
            let (truth, guess) = (test.y[i], predictions.classes[i]);
            let caption = format!(
                "{} → {}\n{:.0} %",
                names[usize::from(truth)],
                names[usize::from(guess)],
                100.0 * predictions.confidence[i]
            );
            Tile::new(image, 28, 28, caption).highlighted(truth != guess)
        })
        .collect();
    image_grid(path, &tiles, GRID_COLUMNS)?;
    Ok(())
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse()))
}
