//! What `softmax-scratch` and `softmax-concise` share: their flags, and one run from
//! loading the data to writing metrics, summary, figures and the book's numbers. The
//! two binaries differ only in which model and which cross-entropy they train with.

use std::path::Path;

use anyhow::Context;
use dlcore::cli::{RunArgs, positive_f32, positive_usize};
use dlcore::data::dataset::Labeled;
use dlcore::data::images::{self, ImageSet};
use dlcore::record::Summary;

use crate::figures::{self, ProbabilityPanel};
use crate::train::{self, Classifier, Config, EpochReport, Loss};
use crate::{CLASSES, ConciseSoftmax, SoftmaxRegression, report, scratch};

/// The flags of both training binaries; the defaults are d2l's.
#[derive(Debug, Clone, clap::Args)]
pub struct TrainArgs {
    /// Data set: fashion-mnist or mnist.
    #[arg(long, default_value = "fashion-mnist")]
    pub dataset: ImageSet,
    /// Learning rate η of minibatch SGD.
    #[arg(long, default_value_t = 0.1, value_parser = positive_f32)]
    pub lr: f32,
    /// Examples per minibatch.
    #[arg(long, default_value_t = 256, value_parser = positive_usize)]
    pub batch_size: usize,
    /// Passes over the 60,000 training images.
    #[arg(long, default_value_t = 10, value_parser = positive_usize)]
    pub epochs: usize,
    /// Standard deviation σ of the initial weights, drawn from N(0, σ²).
    #[arg(long, default_value_t = 0.01, value_parser = positive_f32)]
    pub weight_std: f32,
    #[command(flatten)]
    pub run: RunArgs,
}

/// Which of the two implementations a binary trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Implementation {
    /// [`SoftmaxRegression`] with [`scratch::cross_entropy_into`].
    Scratch,
    /// [`ConciseSoftmax`] with `dlcore::loss::cross_entropy_with_logits_into`.
    Concise,
}

impl Implementation {
    /// The binary's name, also its default output directory under target/runs/.
    pub fn binary(self) -> &'static str {
        match self {
            Implementation::Scratch => "softmax-scratch",
            Implementation::Concise => "softmax-concise",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Implementation::Scratch => "From scratch",
            Implementation::Concise => "With dlcore's layer, loss and optimizer",
        }
    }
}

/// Loads the data, trains, and writes everything into `--out`.
pub fn run(args: &TrainArgs, implementation: Implementation) -> anyhow::Result<()> {
    let (train_set, test_set) = images::load_both_or_fetch(args.dataset, &images::default_data_dir())?;
    let mut rng = args.run.rng();
    let features = train_set.features();
    match implementation {
        Implementation::Scratch => {
            let model = SoftmaxRegression::new(features, CLASSES, args.weight_std, args.lr, &mut rng);
            train_and_record(
                args,
                implementation,
                model,
                scratch::cross_entropy_into,
                &train_set,
                &test_set,
                rng,
            )
        }
        Implementation::Concise => {
            let model = ConciseSoftmax::new(features, CLASSES, args.weight_std, args.lr, &mut rng);
            let loss = dlcore::loss::cross_entropy_with_logits_into;
            train_and_record(args, implementation, model, loss, &train_set, &test_set, rng)
        }
    }
}

/// Bins of the per-epoch weight and gradient histograms (TensorBoard's default count).
const HISTOGRAM_BINS: usize = 30;

fn train_and_record<M: Classifier>(
    args: &TrainArgs,
    implementation: Implementation,
    mut model: M,
    loss: impl Loss,
    train_set: &Labeled,
    test_set: &Labeled,
    mut rng: dlcore::Rng,
) -> anyhow::Result<()> {
    let binary = implementation.binary();
    let out = args.run.out_dir(binary);
    let mut recorder = args.run.recorder(&out)?;
    let config = Config { batch_size: args.batch_size, epochs: args.epochs, classes: CLASSES, lr: args.lr };
    let bar = dlcore::progress::items(args.epochs as u64, "epochs");
    let reports = train::train(
        &mut model,
        train_set,
        test_set,
        config,
        loss,
        &mut rng,
        |r: &EpochReport, model: &M| {
            bar.suspend(|| {
                println!(
                    "epoch {:>2}: train loss {:.4}, train accuracy {:.4}, test accuracy {:.4}",
                    r.epoch, r.train_loss, r.train_accuracy, r.test_accuracy
                );
            });
            bar.inc(1);
            recorder.record_epoch(&[
                ("epoch", r.epoch as f64),
                ("train_loss", f64::from(r.train_loss)),
                ("train_accuracy", f64::from(r.train_accuracy)),
                ("test_accuracy", f64::from(r.test_accuracy)),
            ])?;
            for (tag, values) in model.parameters() {
                recorder.record_histogram(r.epoch, tag, values.as_slice(), HISTOGRAM_BINS)?;
            }
            Ok(())
        },
    )?;
    bar.finish_and_clear();
    let last = reports.last().context("no epoch ran")?;

    write_figures(&out, args.dataset, implementation, &mut model, test_set, &reports)?;
    let title = args.dataset.title();
    let sentence = report::final_sentence(implementation.describe(), title, args.run.seed, &reports);
    write_text(&out.join("final.md"), &sentence)?;
    write_text(&out.join("epochs.md"), &report::epochs_table(&reports))?;
    if implementation == Implementation::Scratch {
        write_text(&out.join("numerics.md"), &report::numerics_markdown())?;
    }

    let summary = Summary::new(binary, args.run.seed)
        .param("dataset", args.dataset.to_string())
        .param("lr", args.lr)
        .param("batch_size", args.batch_size)
        .param("epochs", args.epochs)
        .param("weight_std", args.weight_std)
        .metric("train_loss", f64::from(last.train_loss))
        .metric("train_accuracy", f64::from(last.train_accuracy))
        .metric("test_accuracy", f64::from(last.test_accuracy));
    recorder.finish(&summary)?;
    print!("{}", sentence.replace("**", "")); // the bold is for the book

    println!("metrics, summary and figures in {}", out.display());
    Ok(())
}

/// curves.svg, predictions.png and probabilities.svg.
fn write_figures<M: Classifier>(
    out: &Path,
    dataset: ImageSet,
    implementation: Implementation,
    model: &mut M,
    test_set: &Labeled,
    reports: &[EpochReport],
) -> anyhow::Result<()> {
    let names = dataset.class_names();
    let title = format!("Softmax regression on {} ({})", dataset.title(), implementation.binary());
    figures::training_curves(&out.join("curves.svg"), &title, reports)?;
    let (probs, predicted) = train::predict(model, test_set);
    figures::prediction_grid(&out.join("predictions.png"), test_set, &predicted, &names, 24, 8)?;
    let panels: Vec<ProbabilityPanel<'_>> = figures::telling_examples(&probs, &predicted, &test_set.y)
        .into_iter()
        .map(|(k, verdict)| {
            let truth = usize::from(test_set.y[k]);
            ProbabilityPanel {
                pixels: figures::column(&test_set.x, k),
                probs: figures::column(&probs, k).to_vec(),
                truth,
                title: format!("test image {k} ({}): {}", names[truth], verdict.describe()),
            }
        })
        .collect();
    if !panels.is_empty() {
        figures::probability_bars(&out.join("probabilities.svg"), &panels, &names, 2)?;
    }
    Ok(())
}

/// Writes a text file atomically.
pub fn write_text(path: &Path, text: &str) -> anyhow::Result<()> {
    dlcore::atomic_file::write_bytes(path, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}
