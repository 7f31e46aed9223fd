//! Training from each initializer: the MLP 784-200-200-10 of the notes and a deeper
//! one, on MNIST, with the training-loss and test-accuracy curves of every start on
//! one figure.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use dlcore::activation::Activation;
use dlcore::cli::{RunArgs, positive_f32, positive_usize};
use dlcore::data::images::{self, ImageSet};
use dlcore::init::Init;
use dlcore::plot::{Chart, Legend, Series, Style, panels};
use dlcore::record::Summary;
use init_stability::flow::init_label;
use init_stability::sci;
use init_stability::training::{Curves, TrainConfig, train};

/// Train a shallow and a deep MLP on MNIST from each initializer and compare the curves.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Hidden widths of the shallow network, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "200,200", value_parser = positive_usize)]
    hidden: Vec<usize>,
    /// Hidden layers of the deep network (each as wide as --deep-width).
    #[arg(long, default_value_t = 8, value_parser = positive_usize)]
    deep_layers: usize,
    /// Units in each hidden layer of the deep network.
    #[arg(long, default_value_t = 200, value_parser = positive_usize)]
    deep_width: usize,
    /// Initializers, comma-separated: normal:<std>, uniform:<low>:<high>, xavier, kaiming, …
    #[arg(long, value_delimiter = ',', default_value = "normal:1,normal:0.01,xavier,kaiming")]
    inits: Vec<Init>,
    /// relu, sigmoid, tanh, …
    #[arg(long, default_value = "relu")]
    activation: Activation,
    /// Learning rate of plain SGD.
    #[arg(long, default_value_t = 0.01, value_parser = positive_f32)]
    lr: f32,
    /// Examples per minibatch.
    #[arg(long, default_value_t = 200, value_parser = positive_usize)]
    batch_size: usize,
    /// Passes over the training set.
    #[arg(long, default_value_t = 5, value_parser = positive_usize)]
    epochs: usize,
    /// One point of the loss curve per this many steps (their mean).
    #[arg(long, default_value_t = 30, value_parser = positive_usize)]
    log_every: usize,
    /// Data set to train on.
    #[arg(long, default_value = "mnist")]
    dataset: ImageSet,
    #[command(flatten)]
    run: RunArgs,
}

/// One network of the comparison.
struct Network {
    /// For file names and metric keys.
    key: &'static str,
    /// For figure titles and tables.
    title: String,
    hidden: Vec<usize>,
}

fn run(args: &Args) -> anyhow::Result<()> {
    init_stability::distinct("inits", &args.inits)?;
    let (mut train_set, mut test_set) =
        images::load_both_or_fetch(args.dataset, &images::default_data_dir())?;
    // Pixels shifted and scaled to mean 0 and variance 1, as the notes' Normalize does:
    // the variance arguments behind Xavier and Kaiming assume such inputs.
    images::standardize(&mut train_set, &mut [&mut test_set]);
    let describe = |hidden: &[usize]| {
        let mut sizes = vec![train_set.features()];
        sizes.extend(hidden);
        sizes.push(10);
        sizes.iter().map(ToString::to_string).collect::<Vec<_>>().join("-")
    };
    let deep_hidden = vec![args.deep_width; args.deep_layers];
    let networks = [
        Network { key: "shallow", title: describe(&args.hidden), hidden: args.hidden.clone() },
        Network {
            key: "deep",
            title: describe(&[args.deep_width]).replacen(
                &format!("-{}-", args.deep_width),
                &format!("-{}×{}-", args.deep_width, args.deep_layers),
                1,
            ),
            hidden: deep_hidden,
        },
    ];
    let out = args.run.out_dir("training-vs-init");
    let mut recorder = args.run.recorder(&out)?;
    let total = (train_set.len() * args.epochs * args.inits.len() * networks.len()) as u64;
    let bar = dlcore::progress::items(total, "training");

    let mut results: Vec<(usize, Init, Curves)> = Vec::new();
    for (n, network) in networks.iter().enumerate() {
        for &init in &args.inits {
            bar.set_prefix(format!("{} {}", network.key, init_label(init)));
            let config = TrainConfig {
                hidden: network.hidden.clone(),
                activation: args.activation,
                init,
                lr: args.lr,
                batch_size: args.batch_size,
                epochs: args.epochs,
                log_every: args.log_every,
            };
            // Every run starts from the same seed: the same draws, the same batch order.
            let start = bar.position();
            let curves =
                train(&config, &train_set, &test_set, 10, &mut args.run.rng(), |k| bar.inc(k as u64))?;
            // A run that stopped early still counts as done.
            bar.set_position(start + (args.epochs * train_set.len()) as u64);
            results.push((n, init, curves));
        }
    }
    bar.finish_and_clear();

    // Colours follow the initializer; every other one is dashed, so a run that lies
    // exactly on top of another (two networks stuck at the same loss) still shows.
    let style = |i: usize| if i % 2 == 1 { Style::Dashed } else { Style::Line };
    let mut charts = Vec::new();
    for (n, network) in networks.iter().enumerate() {
        let runs: Vec<&(usize, Init, Curves)> = results.iter().filter(|r| r.0 == n).collect();
        let mut loss = Chart::new(network.title.clone())
            .x_label("epoch")
            .y_label("training loss")
            .log_y()
            .legend(if n + 1 == networks.len() { Legend::UpperRight } else { Legend::Hidden });
        let mut accuracy = Chart::new(network.title.clone())
            .x_label("epoch")
            .y_label("test accuracy")
            .y_range(0.0, 1.0)
            .legend(Legend::Hidden);
        for (i, (_, init, curves)) in runs.iter().enumerate() {
            let points = curves.train_loss.iter().map(|&(x, y)| (x, f64::from(y)));
            loss = loss.series(Series::new(init_label(*init), points).style(style(i)).color(i));
            accuracy = accuracy
                .series(Series::from_ys(init_label(*init), &curves.test_accuracy).style(style(i)).color(i));
        }
        charts.push(loss);
        charts.push(accuracy);
    }
    let svg = out.join("training-vs-init.svg");
    panels(&svg, &charts, 2)?;

    for epoch in 0..args.epochs {
        let mut row = vec![("epoch".to_string(), (epoch + 1) as f64)];
        for (n, init, curves) in &results {
            let key = format!("{}/{}", networks[*n].key, init);
            let at = |v: &[f32]| v.get(epoch).map_or(f64::NAN, |&x| f64::from(x));
            row.push((format!("{key}/test_accuracy"), at(&curves.test_accuracy)));
            row.push((format!("{key}/test_loss"), at(&curves.test_loss)));
        }
        let row: Vec<(&str, f64)> = row.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        recorder.record_epoch(&row)?;
    }

    let mut table = format!(
        "| network | init | test accuracy, epoch 1 | test accuracy, epoch {} | training loss at the end |\n|---|---|---:|---:|---:|\n",
        args.epochs
    );
    let mut summary = Summary::new("training-vs-init", args.run.seed)
        .param("dataset", args.dataset.to_string())
        .param("hidden", format!("{:?}", args.hidden))
        .param("deep_layers", args.deep_layers)
        .param("deep_width", args.deep_width)
        .param("inits", args.inits.iter().map(|i| i.to_string()).collect::<Vec<_>>())
        .param("activation", args.activation.to_string())
        .param("lr", args.lr)
        .param("batch_size", args.batch_size)
        .param("epochs", args.epochs);
    for (n, init, curves) in &results {
        let percent = |a: Option<&f32>| a.map_or("—".to_string(), |a| format!("{:.1}%", 100.0 * a));
        let end = match curves.diverged_at {
            Some(at) => format!("NaN from epoch {at:.2}"),
            None => sci(f64::from(curves.final_train_loss())),
        };
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} | {end} |",
            networks[*n].title,
            init_label(*init),
            percent(curves.test_accuracy.first()),
            percent(curves.test_accuracy.get(args.epochs - 1)),
        );
        let key = format!("{}/{}", networks[*n].key, init);
        summary = summary
            .metric(format!("{key}/test_accuracy"), f64::from(curves.final_test_accuracy()))
            .metric(format!("{key}/train_loss"), f64::from(curves.final_train_loss()))
            .metric(format!("{key}/diverged_at_epoch"), curves.diverged_at.unwrap_or(f64::NAN));
    }
    // The two baselines a stuck network sits at, measured on this test set.
    let mut counts = [0usize; 256];
    test_set.y.iter().for_each(|&y| counts[usize::from(y)] += 1);
    let (commonest, count) =
        counts.iter().enumerate().max_by_key(|&(digit, &c)| (c, usize::MAX - digit)).unwrap_or((0, &0));
    let _ = writeln!(
        table,
        "\nAnswering {commonest} for every image scores {:.2}% on this test set ({count} of its {} images); a uniform guess costs ln 10 = {:.4}.",
        100.0 * *count as f64 / test_set.len().max(1) as f64,
        test_set.len(),
        10f64.ln()
    );
    print!("{table}");
    let md = out.join("training-vs-init.md");
    dlcore::atomic_file::write_bytes(&md, table.as_bytes()).context("writing the table")?;
    recorder.finish(&summary)?;
    eprintln!("wrote {}, {} and the run record in {}", svg.display(), md.display(), out.display());
    Ok(())
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse()))
}
