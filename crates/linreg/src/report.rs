//! Figures and markdown tables made from runs: what the binaries write next to
//! their `metrics.csv` and the book includes.

use std::fmt::Write as _;
use std::path::Path;

use dlcore::Result;
use dlcore::data::Dataset;
use dlcore::plot::{Chart, Legend, Series, Style, line_chart, panels, scatter};

use crate::sweep::SweepRun;
use crate::{Config, Estimate, History, subscript};

/// Writes `text` to `path` atomically.
pub fn write_markdown(path: &Path, text: &str) -> Result<()> {
    dlcore::atomic_file::write_bytes(path, text.as_bytes())
}

/// The scatter of the second feature against the labels: with w₂ = −3.4 the cloud
/// slopes down, and its spread around the line comes from the other feature.
pub fn data_figure(path: &Path, data: &Dataset) -> Result<()> {
    let feature = data.features().min(2) - 1;
    let points: Vec<(f64, f64)> =
        data.x.row(feature).iter().zip(data.y.iter()).map(|(&x, &y)| (f64::from(x), f64::from(y))).collect();
    let chart = Chart::new(format!("{} examples of {}", data.len(), crate::model_formula()))
        .x_label(format!("feature {}, x{}", feature + 1, subscript(feature + 1)))
        .y_label("label y");
    // A little room at both ends, so that the outermost dots are not cut in half.
    let (lo, hi) =
        points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p.0), hi.max(p.0)));
    let chart = if lo < hi { chart.x_range(lo - 0.02 * (hi - lo), hi + 0.02 * (hi - lo)) } else { chart };
    scatter(path, &chart.series(Series::new("", points)))
}

/// The expected loss of the true parameters, E[½ε²] = σ²/2: no model can do better
/// on average, so trained losses level off there.
pub fn noise_floor(config: &Config) -> f64 {
    0.5 * f64::from(config.noise_std).powi(2)
}

/// Points (step, loss) of every minibatch loss, steps counted from 1.
fn per_step(history: &History) -> Vec<(f64, f64)> {
    history.batch_losses.iter().enumerate().map(|(i, &l)| ((i + 1) as f64, f64::from(l))).collect()
}

/// Points (epoch, loss), epoch 0 being before training.
fn per_epoch(history: &History) -> Vec<(f64, f64)> {
    history.epoch_losses.iter().enumerate().map(|(e, &l)| (e as f64, f64::from(l))).collect()
}

/// The noise floor as a dashed grey line from step (or epoch) `from` to `to`, or
/// nothing when there is no noise (a log axis cannot show 0).
fn floor_series(config: &Config, from: f64, to: f64) -> Option<Series> {
    let floor = noise_floor(config);
    (floor > 0.0).then(|| Series::new("noise floor σ²/2", [(from, floor), (to, floor)]).dashed().color(7))
}

/// Two panels, both on a log scale: the minibatch loss of every step, and the loss
/// over the whole training set after every epoch, for the scratch and the concise
/// runs. The concise curve is dashed so that the scratch one shows through it
/// wherever the two agree.
pub fn loss_figure(path: &Path, config: &Config, scratch: &History, concise: &History) -> Result<()> {
    let chart = |title: &str, x_label: &str, points: fn(&History) -> Vec<(f64, f64)>, style: Style| {
        let scratch_points = points(scratch);
        let (from, to) =
            (scratch_points.first().map_or(0.0, |p| p.0), scratch_points.last().map_or(1.0, |p| p.0));
        let mut chart = Chart::new(title)
            .x_label(x_label)
            .y_label("loss")
            .log_y()
            .series(Series::new("scratch", scratch_points).style(style).color(0))
            .series(Series::new("concise (dlcore)", points(concise)).dashed().color(1));
        if let Some(floor) = floor_series(config, from, to) {
            chart = chart.series(floor);
        }
        chart
    };
    let steps = chart("minibatch loss per step", "SGD step", per_step, Style::Line);
    let epochs =
        chart("training loss per epoch", "epoch (0 = before training)", per_epoch, Style::LinePoints);
    panels(path, &[steps, epochs], 2)
}

/// The minibatch loss of every step at each learning rate, on a log scale. A run
/// that diverged is drawn up to its last sane loss and marked there with a dot.
/// The y axis reaches a thousand times above the highest loss, so the legend has
/// room above the curves.
pub fn learning_rate_figure(path: &Path, config: &Config, runs: &[SweepRun]) -> Result<()> {
    let steps = runs.iter().map(|r| r.history.batch_losses.len()).max().unwrap_or(1);
    let mut chart =
        Chart::new(format!("learning rate η (batch {}, {} epochs)", config.batch_size, config.epochs))
            .x_label("SGD step")
            .y_label("minibatch loss")
            .log_y()
            .legend(Legend::UpperRight);
    let losses = runs.iter().flat_map(|r| r.history.batch_losses.iter().map(|&l| f64::from(l)));
    let (lowest, highest) =
        losses.filter(|l| *l > 0.0).fold((f64::INFINITY, 0.0f64), |(lo, hi), l| (lo.min(l), hi.max(l)));
    if lowest < highest {
        chart = chart.y_range(lowest / 3.0, highest * 1e3);
    }
    for (i, run) in runs.iter().enumerate() {
        let points = per_step(&run.history);
        let name = if run.diverged() {
            format!("η = {} (diverged after step {})", run.lr, points.len())
        } else {
            format!("η = {}", run.lr)
        };
        if run.diverged()
            && let Some(&last) = points.last()
        {
            chart = chart.series(Series::new("", [last]).style(Style::Points).color(i));
        }
        chart = chart.series(Series::new(name, points).color(i));
    }
    if let Some(floor) = floor_series(config, 1.0, steps as f64) {
        chart = chart.series(floor);
    }
    line_chart(path, &chart)
}

/// "differ by at most 3.1e-4", or "are identical to the last bit" for no
/// difference at all (the same operations in the same order give the same `f32`).
pub fn differ_by(difference: f32) -> String {
    if difference == 0.0 {
        "are identical to the last bit".to_string()
    } else {
        format!("differ by at most {difference:.1e}")
    }
}

/// `| epoch | training loss | w₁ | … | b |`, one row per entry of the history.
pub fn epoch_table(history: &History) -> String {
    let features = history.epoch_estimates.first().map_or(0, |e| e.w.len());
    let mut out = String::from("| epoch | training loss |");
    for j in 1..=features {
        let _ = write!(out, " w{} |", subscript(j));
    }
    out.push_str(" b |\n|---:|---:|");
    out.push_str(&"---:|".repeat(features + 1));
    for (epoch, (loss, estimate)) in history.epoch_losses.iter().zip(&history.epoch_estimates).enumerate() {
        let label = if epoch == 0 { "0 (start)".to_string() } else { epoch.to_string() };
        let _ = write!(out, "\n| {label} | {loss:.3e} |");
        for w in &estimate.w {
            let _ = write!(out, " {w:.5} |");
        }
        let _ = write!(out, " {:.5} |", estimate.b);
    }
    out.push('\n');
    out
}

/// Several methods' parameters beside the truth, with each one's largest error and
/// its training loss: `rows` are (method, estimate).
pub fn estimate_table(rows: &[(&str, &Estimate)], data: &Dataset) -> String {
    let truth = Estimate::truth();
    let mut out = String::from("| | ");
    for j in 1..=truth.w.len() {
        let _ = write!(out, "w{} | ", subscript(j));
    }
    out.push_str("b | largest error | training loss |\n|---|");
    out.push_str(&"---:|".repeat(truth.w.len() + 3));
    let mut row = |name: &str, estimate: &Estimate, error: String| {
        let _ = write!(out, "\n| {name} |");
        for w in &estimate.w {
            let _ = write!(out, " {w:.5} |");
        }
        let _ = write!(out, " {:.5} | {error} | {:.3e} |", estimate.b, estimate.loss_on(data));
    };
    row("truth", &truth, "—".to_string());
    for (name, estimate) in rows {
        row(name, estimate, format!("{:.1e}", estimate.max_error()));
    }
    out.push('\n');
    out
}

/// What each learning rate reached, or where it diverged.
pub fn sweep_table(runs: &[SweepRun]) -> String {
    let mut out = String::from(
        "| learning rate η | steps taken | outcome | final training loss | largest parameter error |\n\
         |---:|---:|---|---:|---:|",
    );
    for run in runs {
        let steps = run.history.batch_losses.len();
        match &run.outcome {
            Ok(estimate) => {
                let loss = run.history.final_loss().unwrap_or(f32::NAN);
                let _ = write!(
                    out,
                    "\n| {} | {steps} | trained | {loss:.3e} | {:.1e} |",
                    run.lr,
                    estimate.max_error()
                );
            }
            Err(error) => {
                let _ = write!(out, "\n| {} | {steps} | {error} | — | — |", run.lr);
            }
        }
    }
    out.push('\n');
    out
}
