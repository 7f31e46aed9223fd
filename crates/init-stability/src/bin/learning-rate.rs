//! The learning rate decides speed and precision: gradient descent on Himmelblau's
//! function and minibatch SGD on linear regression, each with a rate too small, a
//! good one, one too large and one that diverges, plus a step decay on the regression.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use dlcore::cli::{RunArgs, positive_f32, positive_usize};
use dlcore::optim::Sgd;
use dlcore::plot::{Chart, ContourChart, Legend, Series, contour, line_chart, log_levels};
use dlcore::record::Summary;
use init_stability::descent::{Divergence, Trajectory, descend};
use init_stability::figures::{path, surface_grid};
use init_stability::regression::{Regression, RegressionRun, train};
use init_stability::surfaces::Himmelblau;
use init_stability::{distinct, parse_point, point_short, point_text, sci};

/// Learning rates from too small to diverging, on a surface and on linear regression.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Learning rates for gradient descent on Himmelblau's function, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "0.002,0.01,0.024,0.05", value_parser = positive_f32)]
    lrs: Vec<f32>,
    /// Starting point on Himmelblau's function, as x,y.
    #[arg(long, default_value = "0,0", value_parser = parse_point, allow_hyphen_values = true)]
    start: [f32; 2],
    /// Steps on Himmelblau's function.
    #[arg(long, default_value_t = 100, value_parser = positive_usize)]
    steps: usize,
    /// Learning rates for minibatch SGD on linear regression, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "0.003,0.03,1,2.5", value_parser = positive_f32)]
    regression_lrs: Vec<f32>,
    /// Minibatch steps on linear regression.
    #[arg(long, default_value_t = 400, value_parser = positive_usize)]
    regression_steps: usize,
    /// Examples per minibatch.
    #[arg(long, default_value_t = 10, value_parser = positive_usize)]
    batch_size: usize,
    /// Examples in the synthetic data set (d2l's y = 2·x₁ − 3.4·x₂ + 4.2 + noise).
    #[arg(long, default_value_t = 1000, value_parser = positive_usize)]
    examples: usize,
    /// Standard deviation of the noise on the targets.
    #[arg(long, default_value_t = 0.01, value_parser = positive_f32)]
    noise: f32,
    /// Starting learning rate of the step-decay run on linear regression.
    #[arg(long, default_value_t = 1.0, value_parser = positive_f32)]
    decay_lr: f32,
    /// The decay multiplies the rate by --decay-gamma every this many steps.
    #[arg(long, default_value_t = 80, value_parser = positive_usize)]
    decay_every: usize,
    /// Factor of each drop of the decaying rate.
    #[arg(long, default_value_t = 0.2, value_parser = positive_f32)]
    decay_gamma: f32,
    #[command(flatten)]
    run: RunArgs,
}

/// "Close enough" for the tables' "steps to" column: f (whose minimum is 0) or
/// L − L* below this.
const CLOSE: f64 = 1e-3;

/// How many final steps the regression table's median covers: a minibatch run
/// does not settle on one value but jitters around a floor, and one step's value is
/// a single draw from that jitter.
const TAIL: usize = 100;

/// One row of a table: the run's name, what it reached, and how.
struct Row {
    name: String,
    steps_to_close: Option<usize>,
    last: f64,
    tail_median: f64,
    diverged: Option<Divergence>,
}

fn row(name: String, values: &[f64], diverged: Option<Divergence>) -> Row {
    let mut tail: Vec<f64> = values[values.len().saturating_sub(TAIL)..].to_vec();
    tail.sort_by(f64::total_cmp);
    Row {
        name,
        steps_to_close: values.iter().position(|&v| v < CLOSE),
        last: values.last().copied().unwrap_or(f64::NAN),
        tail_median: tail.get(tail.len() / 2).copied().unwrap_or(f64::NAN),
        diverged,
    }
}

/// A markdown table of the runs; with `median`, a column with the median of each
/// run's last [`TAIL`] values.
fn table(heading: &str, steps: usize, rows: &[Row], median: bool) -> String {
    let mut markdown = String::new();
    let extra = if median { format!(" median of the last {TAIL} steps |") } else { String::new() };
    let _ = writeln!(markdown, "| {heading} | steps until below 10⁻³ | after {steps} steps |{extra}");
    let _ = writeln!(markdown, "|---|---:|---|{}", if median { "---:|" } else { "" });
    for r in rows {
        let reached = r.steps_to_close.map_or_else(|| "never".to_string(), |s| s.to_string());
        let (last, tail) = match r.diverged {
            Some(d) => (
                format!(
                    "**diverged** at step {}: the loss reached {}, run stopped",
                    d.step,
                    sci(f64::from(d.loss))
                ),
                "—".to_string(),
            ),
            None => (sci(r.last), sci(r.tail_median)),
        };
        let tail = if median { format!(" {tail} |") } else { String::new() };
        let _ = writeln!(markdown, "| {} | {reached} | {last} |{tail}", r.name);
    }
    markdown
}

/// A legend entry that says when a run was stopped.
fn label(name: &str, diverged: Option<Divergence>) -> String {
    match diverged {
        Some(d) => format!("{name} (diverged, step {})", d.step),
        None => name.to_string(),
    }
}

fn run(args: &Args) -> anyhow::Result<()> {
    let out = args.run.out_dir("learning-rate");
    distinct("--lrs", &args.lrs)?;
    distinct("--regression-lrs", &args.regression_lrs)?;
    let mut rng = args.run.rng();
    let problem = Regression::synthetic(&[2.0, -3.4], 4.2, args.noise, args.examples, &mut rng)?;
    // One run record per problem: their runs have different lengths (--steps and
    // --regression-steps), and a shared metrics table would pad the shorter with
    // values that never existed. NaN in a record means that a run diverged.
    let (himmelblau_dir, regression_dir) = (out.join("himmelblau"), out.join("regression"));
    let mut himmelblau_recorder = args.run.recorder(&himmelblau_dir)?;
    let mut regression_recorder = args.run.recorder(&regression_dir)?;

    // Himmelblau: the same start, each rate. A diverging run is an expected outcome
    // here: it is stopped by the guard and reported, not an error.
    let himmelblau = Himmelblau;
    let surface_runs: Vec<Trajectory> =
        args.lrs.iter().map(|&lr| descend(&himmelblau, args.start, Sgd::new(lr), args.steps)).collect();

    // Linear regression: the same data and the same minibatch order for every rate.
    let data_seed = args.run.seed.wrapping_add(1);
    let mut regression_runs: Vec<(String, RegressionRun)> = args
        .regression_lrs
        .iter()
        .map(|&lr| {
            let run = train(
                &problem,
                Sgd::new(lr),
                args.regression_steps,
                args.batch_size,
                &mut dlcore::seeded_rng(data_seed),
            );
            (format!("lr {lr}"), run)
        })
        .collect();
    let decay = Sgd::new(args.decay_lr).with_step_schedule(args.decay_every, args.decay_gamma);
    let decay_name = format!("lr {} × {} every {} steps", args.decay_lr, args.decay_gamma, args.decay_every);
    let decayed =
        train(&problem, decay, args.regression_steps, args.batch_size, &mut dlcore::seeded_rng(data_seed));
    regression_runs.push((decay_name, decayed));

    for (what, diverged) in surface_runs
        .iter()
        .zip(&args.lrs)
        .map(|(r, lr)| (format!("Himmelblau at lr {lr}"), r.diverged))
        .chain(regression_runs.iter().map(|(name, r)| (format!("linear regression at {name}"), r.diverged)))
    {
        if let Some(d) = diverged {
            eprintln!("{what} {d} (an expected outcome: it is in the table and the figures)");
        }
    }

    // Figures: the loss per step of both problems, and the surface runs' paths.
    let surface_values: Vec<Vec<f64>> =
        surface_runs.iter().map(|r| r.values.iter().map(|&v| f64::from(v)).collect()).collect();
    let mut chart = Chart::new(format!("Himmelblau's function from {}", point_short(args.start)))
        .x_label("step")
        .y_label("f(x, y)  (log scale)")
        .log_y()
        .legend(Legend::UpperRight);
    for (i, ((values, lr), r)) in surface_values.iter().zip(&args.lrs).zip(&surface_runs).enumerate() {
        let points = values.iter().enumerate().map(|(s, &v)| (s as f64, v));
        chart = chart.series(Series::new(label(&format!("lr {lr}"), r.diverged), points).color(i));
    }
    let surface_svg = out.join("learning-rate-himmelblau.svg");
    line_chart(&surface_svg, &chart)?;

    let mut chart = Chart::new("linear regression, minibatch SGD")
        .x_label("step (minibatch)")
        .y_label("L − L*  (log scale)")
        .log_y()
        // Headroom above the curves for the legend, so that it hides none of them.
        .y_range(1e-9, 1e7)
        .legend(Legend::UpperRight);
    for (i, (name, r)) in regression_runs.iter().enumerate() {
        let points = r.excess.iter().enumerate().map(|(s, &v)| (s as f64, v));
        let series = Series::new(label(name, r.diverged), points).color(i);
        let is_decay = i == args.regression_lrs.len();
        chart = chart.series(if is_decay { series.color(4).dashed() } else { series });
    }
    let regression_svg = out.join("learning-rate-regression.svg");
    line_chart(&regression_svg, &chart)?;

    // Around the start and the minimum it heads for, close enough to see the
    // zig-zag of a rate that is too large; a diverging path is cut at the edge.
    let mut chart = ContourChart::new(
        format!("gradient descent from {} at each learning rate", point_short(args.start)),
        surface_grid(&himmelblau, (-0.5, 4.0), (-0.5, 3.5)),
        log_levels(0.5, 500.0),
    )
    .level_name("f(x, y)");
    for (i, (lr, r)) in args.lrs.iter().zip(&surface_runs).enumerate() {
        chart = chart.path(path(label(&format!("lr {lr}"), r.diverged), r, i));
    }
    let paths_svg = out.join("learning-rate-paths.svg");
    contour(&paths_svg, &chart)?;

    // Per-step records, one column per run. A diverged run stopped early: NaN from
    // there on.
    let surface_columns: Vec<String> = args.lrs.iter().map(|lr| format!("himmelblau_f_lr_{lr}")).collect();
    for step in 0..=args.steps {
        let mut row: Vec<(&str, f64)> = vec![("step", step as f64)];
        for (name, values) in surface_columns.iter().zip(&surface_values) {
            row.push((name, values.get(step).copied().unwrap_or(f64::NAN)));
        }
        himmelblau_recorder.record_epoch(&row)?;
    }
    let regression_columns: Vec<String> = args
        .regression_lrs
        .iter()
        .map(|lr| format!("regression_excess_lr_{lr}"))
        .chain(["regression_excess_decay".to_string()])
        .collect();
    for step in 0..=args.regression_steps {
        let mut row: Vec<(&str, f64)> = vec![("step", step as f64)];
        for (name, (_, r)) in regression_columns.iter().zip(&regression_runs) {
            row.push((name, r.excess.get(step).copied().unwrap_or(f64::NAN)));
        }
        regression_recorder.record_epoch(&row)?;
    }

    let rows: Vec<Row> = args
        .lrs
        .iter()
        .zip(&surface_values)
        .zip(&surface_runs)
        .map(|((lr, values), r)| row(format!("lr {lr}"), values, r.diverged))
        .collect();
    let mut markdown =
        table(&format!("Himmelblau from {}, f(x, y)", point_text(args.start)), args.steps, &rows, false);
    let surface_md = out.join("learning-rate-himmelblau.md");
    dlcore::atomic_file::write_bytes(&surface_md, markdown.as_bytes()).context("writing the table")?;
    print!("{markdown}");
    let rows: Vec<Row> =
        regression_runs.iter().map(|(name, r)| row(name.clone(), &r.excess, r.diverged)).collect();
    markdown = table("linear regression, L − L*", args.regression_steps, &rows, true);
    let _ = writeln!(
        markdown,
        "\nL* = {} (the least-squares loss of these {} examples, noise σ = {}).",
        sci(problem.optimal_loss),
        args.examples,
        args.noise
    );
    let regression_md = out.join("learning-rate-regression.md");
    dlcore::atomic_file::write_bytes(&regression_md, markdown.as_bytes()).context("writing the table")?;
    print!("{markdown}");

    let mut summary = Summary::new("learning-rate", args.run.seed)
        .param("lrs", args.lrs.clone())
        .param("start", args.start.to_vec())
        .param("steps", args.steps);
    for (name, values) in surface_columns.iter().zip(&surface_values) {
        summary = summary.metric(name.clone(), values.last().copied().unwrap_or(f64::NAN));
    }
    himmelblau_recorder.finish(&summary)?;
    let mut summary = Summary::new("learning-rate", args.run.seed)
        .param("regression_lrs", args.regression_lrs.clone())
        .param("regression_steps", args.regression_steps)
        .param("batch_size", args.batch_size)
        .param("examples", args.examples)
        .param("noise", args.noise)
        .param("decay_lr", args.decay_lr)
        .param("decay_every", args.decay_every)
        .param("decay_gamma", args.decay_gamma)
        .metric("optimal_loss", problem.optimal_loss);
    for (name, (_, r)) in regression_columns.iter().zip(&regression_runs) {
        summary = summary.metric(name.clone(), r.excess.last().copied().unwrap_or(f64::NAN));
    }
    regression_recorder.finish(&summary)?;
    eprintln!(
        "wrote {}, {}, {} and the tables in {}, and the run records in {} and {}",
        surface_svg.display(),
        regression_svg.display(),
        paths_svg.display(),
        out.display(),
        himmelblau_dir.display(),
        regression_dir.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse()))
}
