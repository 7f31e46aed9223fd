//! Gradient descent on two surfaces: Himmelblau's function from four nearby starts
//! (four different minima), and a saddle left with and without momentum.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use dlcore::cli::{RunArgs, positive_f32, positive_usize, unit_interval_f32};
use dlcore::optim::Sgd;
use dlcore::plot::{Chart, ContourChart, Series, contour, line_chart, linear_levels, log_levels};
use dlcore::record::Summary;
use init_stability::descent::{Trajectory, descend};
use init_stability::figures::{path, surface_grid};
use init_stability::surfaces::{Himmelblau, Saddle, Surface};
use init_stability::{distinct, parse_point, point_short, point_text, sci};

/// Where gradient descent ends depends on where it starts (Himmelblau's function),
/// and a saddle holds plain descent far longer than descent with momentum.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Starting points on Himmelblau's function, as x,y (repeat the flag for each).
    #[arg(
        long = "start",
        value_parser = parse_point,
        allow_hyphen_values = true,
        default_values = ["0,-0.5", "-0.5,-0.5", "-0.5,-1", "0,-1"]
    )]
    starts: Vec<[f32; 2]>,
    /// Learning rate on Himmelblau's function.
    #[arg(long, default_value_t = 0.01, value_parser = positive_f32)]
    lr: f32,
    /// Steps on Himmelblau's function.
    #[arg(long, default_value_t = 500, value_parser = positive_usize)]
    steps: usize,
    /// Starting point on the saddle, as x,y: just off the saddle's ridge y = 0.
    #[arg(long, default_value = "1.5,0.001", value_parser = parse_point, allow_hyphen_values = true)]
    saddle_start: [f32; 2],
    /// Learning rate on the saddle (both runs).
    #[arg(long, default_value_t = 0.05, value_parser = positive_f32)]
    saddle_lr: f32,
    /// Momentum β of the second run on the saddle.
    #[arg(long, default_value_t = 0.9, value_parser = unit_interval_f32)]
    momentum: f32,
    /// Steps on the saddle.
    #[arg(long, default_value_t = 120, value_parser = positive_usize)]
    saddle_steps: usize,
    #[command(flatten)]
    run: RunArgs,
}

/// When a run counts as having left the saddle: |y| > 1, more than two thirds of the
/// way to a minimum at |y| = √2.
fn left_saddle([_, y]: [f32; 2]) -> bool {
    y.abs() > 1.0
}

fn run(args: &Args) -> anyhow::Result<()> {
    let out = args.run.out_dir("landscape");
    distinct("start", &args.starts.iter().map(|&p| point_text(p)).collect::<Vec<_>>())?;
    // One run record per surface: their runs have different lengths (--steps and
    // --saddle-steps), and a shared metrics table would pad the shorter with values
    // that never existed.
    let (himmelblau_dir, saddle_dir) = (out.join("himmelblau"), out.join("saddle"));
    let mut himmelblau_recorder = args.run.recorder(&himmelblau_dir)?;
    let mut saddle_recorder = args.run.recorder(&saddle_dir)?;

    // Himmelblau: plain gradient descent from each start.
    let himmelblau = Himmelblau;
    let mut runs: Vec<Trajectory> = Vec::new();
    for &start in &args.starts {
        let trajectory =
            descend(&himmelblau, start, Sgd::new(args.lr), args.steps).converged().with_context(|| {
                format!("gradient descent on Himmelblau's function from {}", point_text(start))
            })?;
        runs.push(trajectory);
    }

    // The saddle: the same start and rate, without and with momentum.
    let saddle = Saddle;
    let saddle_runs = [
        ("plain gradient descent".to_string(), Sgd::new(args.saddle_lr)),
        (format!("momentum β = {}", args.momentum), Sgd::new(args.saddle_lr).with_momentum(args.momentum)),
    ]
    .map(|(name, sgd)| {
        let trajectory = descend(&saddle, args.saddle_start, sgd, args.saddle_steps).converged();
        (name, trajectory)
    });
    let mut saddle_trajectories = Vec::new();
    for (name, trajectory) in saddle_runs {
        let trajectory = trajectory.with_context(|| format!("{name} on the saddle"))?;
        saddle_trajectories.push((name, trajectory));
    }

    let range = (-5.0, 5.0);
    let mut chart = ContourChart::new(
        format!("gradient descent on {}", himmelblau.formula()),
        surface_grid(&himmelblau, range, range),
        log_levels(0.5, 500.0),
    )
    .level_name("f(x, y)");
    for (i, (start, trajectory)) in args.starts.iter().zip(&runs).enumerate() {
        chart = chart.path(path(format!("from {}", point_short(*start)), trajectory, i + 1));
    }
    let himmelblau_svg = out.join("landscape-himmelblau.svg");
    contour(&himmelblau_svg, &chart)?;

    let range = (-2.0, 2.0);
    let mut chart = ContourChart::new(
        format!("leaving the saddle of {}", saddle.formula()),
        surface_grid(&saddle, range, range),
        linear_levels(-1.0, 4.0, 10),
    )
    .level_name("f(x, y)");
    for (i, (name, trajectory)) in saddle_trajectories.iter().enumerate() {
        chart = chart.path(path(name, trajectory, i + 1));
    }
    let saddle_svg = out.join("landscape-saddle.svg");
    contour(&saddle_svg, &chart)?;

    // The distance from the saddle, and its y part alone (dashed): y is the
    // direction the saddle is left along, and grows by a constant factor per step.
    let mut chart = Chart::new("distance from the saddle point (0, 0)")
        .x_label("step")
        .y_label("distance (log scale)")
        .log_y()
        .hline(std::f64::consts::SQRT_2, "the minima, at distance √2");
    for (i, (name, trajectory)) in saddle_trajectories.iter().enumerate() {
        let distances = trajectory
            .points
            .iter()
            .enumerate()
            .map(|(step, &[x, y])| (step as f64, f64::from(x).hypot(f64::from(y))));
        let heights =
            trajectory.points.iter().enumerate().map(|(step, &[_, y])| (step as f64, f64::from(y.abs())));
        chart = chart
            .series(Series::new(format!("{name}: ‖(x, y)‖"), distances).color(i + 1))
            .series(Series::new(format!("{name}: |y|"), heights).color(i + 1).dashed());
    }
    let distance_svg = out.join("landscape-saddle-distance.svg");
    line_chart(&distance_svg, &chart)?;

    // Per-step records, one column per run. No run here diverges (that is an error
    // above), so every run has all its steps.
    let names: Vec<String> = (0..runs.len()).map(|i| format!("himmelblau_f_{i}")).collect();
    for step in 0..=args.steps {
        let mut row: Vec<(&str, f64)> = vec![("step", step as f64)];
        for (name, trajectory) in names.iter().zip(&runs) {
            row.push((name, f64::from(trajectory.values[step])));
        }
        himmelblau_recorder.record_epoch(&row)?;
    }
    for step in 0..=args.saddle_steps {
        let mut row: Vec<(&str, f64)> = vec![("step", step as f64)];
        for (name, (_, trajectory)) in
            ["saddle_distance_plain", "saddle_distance_momentum"].iter().zip(&saddle_trajectories)
        {
            let [x, y] = trajectory.points[step];
            row.push((name, f64::from(x.hypot(y))));
        }
        saddle_recorder.record_epoch(&row)?;
    }

    let mut markdown = String::new();
    let _ = writeln!(markdown, "| start | end after {} steps | f there | nearest minimum |", args.steps);
    let _ = writeln!(markdown, "|---|---|---:|---|");
    for (start, trajectory) in args.starts.iter().zip(&runs) {
        let end = trajectory.end();
        let nearest = Himmelblau::MINIMA
            .iter()
            .min_by(|a, b| distance(**a, end).total_cmp(&distance(**b, end)))
            .copied()
            .unwrap_or([f32::NAN; 2]);
        let _ = writeln!(
            markdown,
            "| {} | {} | {} | {} |",
            point_text(*start),
            point_text(end),
            sci(f64::from(himmelblau.value(end))),
            point_text(nearest)
        );
    }
    let himmelblau_md = out.join("landscape-himmelblau.md");
    dlcore::atomic_file::write_bytes(&himmelblau_md, markdown.as_bytes()).context("writing the table")?;
    print!("{markdown}");

    let mut markdown = String::new();
    let _ = writeln!(
        markdown,
        "| run (learning rate {}) | first step with \\|y\\| > 1 | end after {} steps |",
        args.saddle_lr, args.saddle_steps
    );
    let _ = writeln!(markdown, "|---|---:|---|");
    let mut escape_steps = Vec::new();
    for (name, trajectory) in &saddle_trajectories {
        let escape = trajectory.first_step_where(left_saddle);
        escape_steps.push(escape.map_or(f64::NAN, |s| s as f64));
        let shown =
            escape.map_or_else(|| format!("not within {} steps", args.saddle_steps), |s| s.to_string());
        let _ = writeln!(markdown, "| {name} | {shown} | {} |", point_text(trajectory.end()));
    }
    let saddle_md = out.join("landscape-saddle.md");
    dlcore::atomic_file::write_bytes(&saddle_md, markdown.as_bytes()).context("writing the table")?;
    print!("{markdown}");

    let mut summary = Summary::new("landscape", args.run.seed)
        .param("starts", args.starts.iter().map(|p| p.to_vec()).collect::<Vec<_>>())
        .param("lr", args.lr)
        .param("steps", args.steps);
    for (i, trajectory) in runs.iter().enumerate() {
        let [x, y] = trajectory.end();
        summary = summary.metric(format!("himmelblau_end_x_{i}"), f64::from(x));
        summary = summary.metric(format!("himmelblau_end_y_{i}"), f64::from(y));
    }
    himmelblau_recorder.finish(&summary)?;
    let summary = Summary::new("landscape", args.run.seed)
        .param("saddle_start", args.saddle_start.to_vec())
        .param("saddle_lr", args.saddle_lr)
        .param("momentum", args.momentum)
        .param("saddle_steps", args.saddle_steps)
        .metric("saddle_escape_step_plain", escape_steps[0])
        .metric("saddle_escape_step_momentum", escape_steps[1]);
    saddle_recorder.finish(&summary)?;
    eprintln!(
        "wrote {}, {}, {} and the tables in {}, and the run records in {} and {}",
        himmelblau_svg.display(),
        saddle_svg.display(),
        distance_svg.display(),
        out.display(),
        himmelblau_dir.display(),
        saddle_dir.display()
    );
    Ok(())
}

fn distance(a: [f32; 2], b: [f32; 2]) -> f32 {
    (a[0] - b[0]).hypot(a[1] - b[1])
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse()))
}
