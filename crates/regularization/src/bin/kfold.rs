//! Choosing the polynomial degree of the polyfit model by K-fold cross-validation.
//! `cargo run --release -p regularization --bin kfold`.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use dlcore::cli::{RunArgs, non_negative_f32, positive_usize};
use dlcore::data::split::k_fold;
use dlcore::plot::{Chart, Legend, Series, Style, line_chart};
use dlcore::record::Summary;
use regularization::cross_validation::{
    CvScore, DegreeScore, degree_scores, lowest_validation, simplest_within_one_std_error,
};
use regularization::polyfit::{NOISE_STD, data_rng, least_squares, poly_data};
use regularization::significant;

/// Choose the degree of a polynomial model by K-fold cross-validation on the polyfit
/// data (the same data as `polyfit` for the same seed).
#[derive(Debug, Parser)]
#[command(version, about, allow_negative_numbers = true)]
struct Args {
    /// K: the number of folds.
    #[arg(long, default_value_t = 5, value_parser = positive_usize)]
    k: usize,
    /// Degrees 1 to this are compared.
    #[arg(long, default_value_t = 10, value_parser = positive_usize)]
    max_degree: usize,
    /// Training examples (split into the folds).
    #[arg(long, default_value_t = 100, value_parser = positive_usize)]
    train_examples: usize,
    /// Test examples, used once, for the chosen degree.
    #[arg(long, default_value_t = 100, value_parser = positive_usize)]
    test_examples: usize,
    /// Standard deviation σ of the noise.
    #[arg(long, default_value_t = NOISE_STD, value_parser = non_negative_f32)]
    noise: f32,
    #[command(flatten)]
    run: RunArgs,
}

fn run(args: &Args) -> anyhow::Result<()> {
    let out = args.run.out_dir("kfold");
    let mut recorder = args.run.recorder(&out)?;
    let data = poly_data(args.train_examples, args.test_examples, args.noise, &mut data_rng(args.run.seed));
    let folds = k_fold(data.train.len(), args.k, &mut args.run.rng())?;
    let scores = degree_scores(&data.train, 1..=args.max_degree, &folds);
    for s in &scores {
        recorder.record_epoch(&[
            ("degree", s.degree as f64),
            ("train_loss", s.cv.train),
            ("validation_loss", s.cv.validation),
            ("validation_std_error", s.cv.validation_std_error),
        ])?;
    }
    let cv: Vec<CvScore> = scores.iter().map(|s| s.cv).collect();
    let chosen = &scores[simplest_within_one_std_error(&cv).context("no degrees")?];
    let lowest = &scores[lowest_validation(&cv).context("no degrees")?];
    // Only now, with the degree fixed, is the test set used: once.
    let final_fit = least_squares(&data.train, chosen.degree).polynomial;
    let test_loss = final_fit.loss(&data.test);

    line_chart(&out.join("kfold.svg"), &chart(&scores, chosen, args))?;
    let table = table(&scores, chosen, lowest, test_loss, args);
    println!("{table}");
    dlcore::atomic_file::write_bytes(&out.join("kfold.md"), table.as_bytes()).context("writing kfold.md")?;
    let summary = Summary::new("kfold", args.run.seed)
        .param("k", args.k)
        .param("max_degree", args.max_degree)
        .param("train_examples", args.train_examples)
        .param("test_examples", args.test_examples)
        .param("noise", args.noise)
        .metric("chosen_degree", chosen.degree as f64)
        .metric("chosen_validation_loss", chosen.cv.validation)
        .metric("lowest_validation_degree", lowest.degree as f64)
        .metric("chosen_test_loss", test_loss);
    recorder.finish(&summary)?;
    eprintln!("wrote kfold.svg, kfold.md, metrics.csv and summary.json to {}", out.display());
    Ok(())
}

/// Mean train and validation loss against the degree, on a log scale, with the
/// validation loss's one-standard-error band and the noise floor.
fn chart(scores: &[DegreeScore], chosen: &DegreeScore, args: &Args) -> Chart {
    let points = |f: &dyn Fn(&CvScore) -> f64| -> Vec<(f64, f64)> {
        scores.iter().map(|s| (s.degree as f64, f(&s.cv))).collect()
    };
    Chart::new(format!("choosing the degree by {}-fold cross-validation", args.k))
        .x_label("polynomial degree")
        .y_label("loss")
        .log_y()
        .legend(Legend::UpperRight)
        .series(Series::new("train (mean over folds)", points(&|c| c.train)).style(Style::LinePoints))
        .series(
            Series::new("validation (mean over folds)", points(&|c| c.validation)).style(Style::LinePoints),
        )
        .series(
            Series::new(
                "validation ± one standard error",
                points(&|c| c.validation + c.validation_std_error),
            )
            .dashed()
            .color(1),
        )
        .series(
            Series::new("", points(&|c| (c.validation - c.validation_std_error).max(1e-9))).dashed().color(1),
        )
        .series(
            Series::new(
                format!("chosen: degree {}", chosen.degree),
                [(chosen.degree as f64, chosen.cv.validation)],
            )
            .points()
            .color(3),
        )
        .hline(0.5 * f64::from(args.noise).powi(2), "noise floor σ²/2")
}

/// Every degree's losses, and the choice.
fn table(
    scores: &[DegreeScore],
    chosen: &DegreeScore,
    lowest: &DegreeScore,
    test_loss: f64,
    args: &Args,
) -> String {
    let k = args.k;
    let mut s = format!(
        "| degree | train loss ({k}-fold mean) | validation loss ({k}-fold mean ± standard error) |\n|---:|---:|---:|\n"
    );
    for score in scores {
        let mark = match (score.degree == chosen.degree, score.degree == lowest.degree) {
            (true, true) => " (lowest; chosen)",
            (true, false) => " (chosen)",
            (false, true) => " (lowest)",
            _ => "",
        };
        let _ = writeln!(
            s,
            "| {}{mark} | {} | {} ± {} |",
            score.degree,
            significant(score.cv.train, 3),
            significant(score.cv.validation, 3),
            significant(score.cv.validation_std_error, 2),
        );
    }
    let _ = writeln!(
        s,
        "\nThe lowest mean validation loss is at degree {}; the simplest degree within one standard error of it, the choice, is {}. Refitted on all {} training examples, the degree-{} polynomial scores {} on the {} test examples (the noise floor is {}).",
        lowest.degree,
        chosen.degree,
        args.train_examples,
        chosen.degree,
        significant(test_loss, 3),
        args.test_examples,
        significant(0.5 * f64::from(args.noise).powi(2), 3),
    );
    s
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse()))
}
