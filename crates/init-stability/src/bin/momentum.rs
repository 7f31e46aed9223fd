//! SGD with and without momentum on an ill-conditioned quadratic: plain gradient
//! descent zig-zags across the narrow valley and crawls along it; momentum averages
//! the zig-zag away and keeps the progress along the valley.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use dlcore::cli::{RunArgs, positive_f32, positive_usize, unit_interval_f32};
use dlcore::optim::Sgd;
use dlcore::plot::{Chart, ContourChart, Legend, Series, contour, line_chart, log_levels};
use dlcore::record::Summary;
use init_stability::descent::{Trajectory, descend};
use init_stability::figures::{path, surface_grid};
use init_stability::surfaces::{Quadratic, Surface};
use init_stability::{distinct, parse_point, point_short, point_text, sci};

/// Gradient descent with momentum β on f(x, y) = a·x² + b·y², for several β.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Curvature of the flat direction: the a of a·x² + b·y².
    #[arg(long, default_value_t = 0.1, value_parser = positive_f32)]
    a: f32,
    /// Curvature of the steep direction: the b of a·x² + b·y².
    #[arg(long, default_value_t = 2.0, value_parser = positive_f32)]
    b: f32,
    /// Momentum values β to compare, comma-separated (0 is plain gradient descent).
    #[arg(long, value_delimiter = ',', default_value = "0,0.5,0.9", value_parser = unit_interval_f32)]
    betas: Vec<f32>,
    /// Learning rate, the same for every β.
    #[arg(long, default_value_t = 0.45, value_parser = positive_f32)]
    lr: f32,
    /// Starting point, as x,y.
    #[arg(long, default_value = "-5,-2", value_parser = parse_point, allow_hyphen_values = true)]
    start: [f32; 2],
    /// Steps per run.
    #[arg(long, default_value_t = 60, value_parser = positive_usize)]
    steps: usize,
    #[command(flatten)]
    run: RunArgs,
}

/// "Close enough" for the table: f (whose minimum is 0) below this.
const CLOSE: f32 = 1e-3;

/// How often y changes sign in the first `steps` steps: each change is one crossing
/// of the valley floor, a zig.
fn valley_crossings(trajectory: &Trajectory, steps: usize) -> usize {
    let points = &trajectory.points[..trajectory.points.len().min(steps + 1)];
    points.windows(2).filter(|w| w[0][1] * w[1][1] < 0.0).count()
}

fn run(args: &Args) -> anyhow::Result<()> {
    let out = args.run.out_dir("momentum");
    distinct("--betas", &args.betas)?;
    let mut recorder = args.run.recorder(&out)?;
    let quadratic = Quadratic { a: args.a, b: args.b };

    let mut runs: Vec<(String, Trajectory)> = Vec::new();
    for &beta in &args.betas {
        let name = if beta == 0.0 { "plain (β = 0)".to_string() } else { format!("momentum β = {beta}") };
        let trajectory = descend(&quadratic, args.start, Sgd::new(args.lr).with_momentum(beta), args.steps)
            .converged()
            .with_context(|| format!("{name} at learning rate {}", args.lr))?;
        runs.push((name, trajectory));
    }

    // Figures: the paths over the contours, and f per step.
    let [x0, y0] = args.start;
    let half_width = f64::from(x0.abs().max(1.0)) * 1.2;
    let half_height = f64::from(y0.abs().max(0.5)) * 1.5;
    let peak = f64::from(quadratic.value([half_width as f32, half_height as f32]));
    let grid = surface_grid(&quadratic, (-half_width, half_width), (-half_height, half_height));
    // One figure per β, all on the same axes: drawn together, the wide swings of a
    // large β hide the others' paths.
    let mut path_files = Vec::new();
    for (i, (beta, (name, trajectory))) in args.betas.iter().zip(&runs).enumerate() {
        let chart = ContourChart::new(
            format!("{name} on {}, learning rate {}", quadratic.formula(), args.lr),
            grid.clone(),
            log_levels(peak * 1e-4, peak),
        )
        .level_name("f(x, y)")
        // Wide and low, like the valley.
        .size(1000, 460)
        .path(path(format!("from {}", point_short(args.start)), trajectory, i));
        let file = out.join(format!("momentum-paths-{beta}.svg"));
        contour(&file, &chart)?;
        path_files.push(file);
    }

    let mut chart = Chart::new("loss per step")
        .x_label("step")
        .y_label("f(x, y)  (log scale)")
        .log_y()
        .legend(Legend::LowerLeft);
    for (i, (name, trajectory)) in runs.iter().enumerate() {
        let points = trajectory.values.iter().enumerate().map(|(s, &v)| (s as f64, f64::from(v)));
        chart = chart.series(Series::new(name, points).color(i));
    }
    let loss_svg = out.join("momentum-loss.svg");
    line_chart(&loss_svg, &chart)?;

    for step in 0..=args.steps {
        let mut row: Vec<(String, f64)> = vec![("step".into(), step as f64)];
        for (beta, (_, trajectory)) in args.betas.iter().zip(&runs) {
            let value = trajectory.values.get(step).map_or(f64::NAN, |&v| f64::from(v));
            row.push((format!("f_beta_{beta}"), value));
        }
        let row: Vec<(&str, f64)> = row.iter().map(|(name, v)| (name.as_str(), *v)).collect();
        recorder.record_epoch(&row)?;
    }

    let early = 10.min(args.steps);
    let mut markdown = String::new();
    let _ = writeln!(
        markdown,
        "| run (learning rate {}) | valley crossings in the first {early} steps | steps until f < 10⁻³ | f after {} steps | end |",
        args.lr, args.steps
    );
    let _ = writeln!(markdown, "|---|---:|---:|---:|---|");
    let mut summary = Summary::new("momentum", args.run.seed)
        .param("a", args.a)
        .param("b", args.b)
        .param("betas", args.betas.clone())
        .param("lr", args.lr)
        .param("start", args.start.to_vec())
        .param("steps", args.steps);
    for (beta, (name, trajectory)) in args.betas.iter().zip(&runs) {
        let close = trajectory.first_step_where(|p| quadratic.value(p) < CLOSE);
        let last = trajectory.values.last().copied().unwrap_or(f32::NAN);
        let _ = writeln!(
            markdown,
            "| {name} | {} | {} | {} | {} |",
            valley_crossings(trajectory, early),
            close.map_or_else(|| "never".to_string(), |s| s.to_string()),
            sci(f64::from(last)),
            point_text(trajectory.end())
        );
        summary = summary.metric(format!("final_f_beta_{beta}"), f64::from(last));
        summary = summary.metric(format!("steps_to_close_beta_{beta}"), close.map_or(f64::NAN, |s| s as f64));
    }
    let md = out.join("momentum.md");
    dlcore::atomic_file::write_bytes(&md, markdown.as_bytes()).context("writing the table")?;
    print!("{markdown}");
    recorder.finish(&summary)?;
    eprintln!(
        "wrote {}, {}, {} and the run record in {}",
        path_files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", "),
        loss_svg.display(),
        md.display(),
        out.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse()))
}
