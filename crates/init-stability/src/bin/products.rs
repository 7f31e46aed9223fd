//! Products of many factors: 0.2³⁰, 5³⁰ and the product of 100 random 4×4 matrices,
//! printed and drawn on a log scale as the factors accumulate.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use dlcore::cli::{RunArgs, positive_f32, positive_usize};
use dlcore::init::Init;
use dlcore::plot::{Chart, Legend, Series, line_chart};
use dlcore::record::Summary;
use init_stability::products::{matrix_product_norms, powers};
use init_stability::sci;

/// Powers of a small and a large number, and the norm of a product of random matrices.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The factor below 1.
    #[arg(long, default_value_t = 0.2, value_parser = positive_f64)]
    small: f64,
    /// The factor above 1.
    #[arg(long, default_value_t = 5.0, value_parser = positive_f64)]
    large: f64,
    /// How many times each scalar factor is multiplied.
    #[arg(long, default_value_t = 30, value_parser = positive_usize)]
    power: usize,
    /// Side of the random square matrices.
    #[arg(long, default_value_t = 4, value_parser = positive_usize)]
    size: usize,
    /// How many random matrices are multiplied.
    #[arg(long, default_value_t = 100, value_parser = positive_usize)]
    factors: usize,
    #[command(flatten)]
    run: RunArgs,
}

/// A finite number above 0, kept in `f64` so that `0.2` stays 0.2 and not the
/// nearest `f32`.
fn positive_f64(s: &str) -> Result<f64, String> {
    positive_f32(s)?;
    s.parse::<f64>().map_err(|e| e.to_string())
}

fn run(args: &Args) -> anyhow::Result<()> {
    let out = args.run.out_dir("products");
    let mut recorder = args.run.recorder(&out)?;
    let (small, large) = (args.small, args.large);
    let small_powers = powers(small, args.power);
    let large_powers = powers(large, args.power);
    let mut rng = args.run.rng();
    let unit = matrix_product_norms(args.size, args.factors, Init::Normal { std: 1.0 }, &mut rng);
    // Variance 1/n: the scale Xavier and LeCun choose for a square layer.
    let scaled_std = (1.0 / args.size as f32).sqrt();
    let scaled = matrix_product_norms(args.size, args.factors, Init::Normal { std: scaled_std }, &mut rng);

    let (n, k, m) = (args.size, args.factors, args.power);
    let chart = Chart::new("products of many factors")
        .x_label("factors multiplied")
        .y_label("size of the product")
        .log_y()
        .series(Series::from_ys(format!("{large}^k"), &large_powers).color(3))
        .series(Series::from_ys(format!("{small}^k"), &small_powers).color(0))
        .series(Series::from_ys(format!("‖product of {n}×{n} N(0, 1) matrices‖"), &unit).color(1))
        .series(
            Series::from_ys(format!("‖product of {n}×{n} N(0, 1/{n}) matrices‖"), &scaled).color(2).dashed(),
        )
        .hline(1.0, "1");
    // Room below the lowest curve for the legend, in the corner the curves leave empty.
    let all = small_powers.iter().chain(&large_powers).chain(&unit).chain(&scaled).copied();
    let (lo, hi) = all
        .filter(|v| *v > 0.0 && v.is_finite())
        .fold((1.0f64, 1.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let chart = chart
        .y_range(10f64.powf(lo.log10().floor() - 6.0), 10f64.powf(hi.log10().ceil()))
        .legend(Legend::LowerRight);
    let svg = out.join("products.svg");
    line_chart(&svg, &chart)?;

    for i in 0..k.max(m) {
        let at = |v: &[f64]| v.get(i).copied().unwrap_or(f64::NAN);
        recorder.record_epoch(&[
            ("factors", (i + 1) as f64),
            ("small_power", at(&small_powers)),
            ("large_power", at(&large_powers)),
            ("unit_normal_product_norm", at(&unit)),
            ("scaled_normal_product_norm", at(&scaled)),
        ])?;
    }
    let last = |v: &[f64]| v.last().copied().unwrap_or(f64::NAN);
    let mut markdown = String::new();
    let _ = writeln!(markdown, "| product | value |\n|---|---:|");
    let _ = writeln!(markdown, "| {small}^{m} | {} |", sci(last(&small_powers)));
    let _ = writeln!(markdown, "| {large}^{m} | {} |", sci(last(&large_powers)));
    let _ = writeln!(markdown, "| ‖product of {k} {n}×{n} N(0, 1) matrices‖ | {} |", sci(last(&unit)));
    let _ = writeln!(markdown, "| ‖product of {k} {n}×{n} N(0, 1/{n}) matrices‖ | {} |", sci(last(&scaled)));
    print!("{markdown}");
    let md = out.join("products.md");
    dlcore::atomic_file::write_bytes(&md, markdown.as_bytes()).context("writing the table")?;

    let summary = Summary::new("products", args.run.seed)
        .param("small", small)
        .param("large", large)
        .param("power", m)
        .param("size", n)
        .param("factors", k)
        .metric("small_power", last(&small_powers))
        .metric("large_power", last(&large_powers))
        .metric("unit_normal_product_norm", last(&unit))
        .metric("scaled_normal_product_norm", last(&scaled));
    recorder.finish(&summary)?;
    eprintln!("wrote {}, {} and the run record in {}", svg.display(), md.display(), out.display());
    Ok(())
}

fn main() -> ExitCode {
    dlcore::cli::report(run(&Args::parse()))
}
