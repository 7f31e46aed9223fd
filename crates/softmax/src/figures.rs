//! The chapter's figures: training curves and the mse-vs-ce comparison through
//! `dlcore::plot`, the grid of test predictions through `dlcore::plot::image_grid`,
//! and one figure `dlcore::plot` has no kind for: each example's ten softmax
//! probabilities as horizontal bars beside the image, drawn here with plotters in
//! the same font, colours and sizes.

use std::path::Path;

use dlcore::data::dataset::Labeled;
use dlcore::plot::{Chart, FONT, Series, Style, Tile, ensure_font, image_grid, line_chart, palette};
use dlcore::{Error, Result};
use nalgebra::DMatrix;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::train::EpochReport;

/// Side of one MNIST-family image in pixels.
pub const IMAGE_SIDE: usize = 28;

/// Column `k` of a matrix as a slice: nalgebra stores matrices column by column,
/// so an image (one column of a data set) is one contiguous run.
pub fn column(m: &DMatrix<f32>, k: usize) -> &[f32] {
    let rows = m.nrows();
    &m.as_slice()[k * rows..(k + 1) * rows]
}

/// d2l's three curves, one point per epoch.
pub fn training_curves(path: &Path, title: &str, reports: &[EpochReport]) -> Result<()> {
    let column = |f: fn(&EpochReport) -> f32| reports.iter().map(f).collect::<Vec<f32>>();
    let chart = Chart::new(title)
        .x_label("epoch")
        .series(Series::from_ys("train loss", &column(|r| r.train_loss)).style(Style::LinePoints))
        .series(Series::from_ys("train accuracy", &column(|r| r.train_accuracy)).style(Style::LinePoints))
        .series(
            Series::from_ys("test accuracy", &column(|r| r.test_accuracy)).style(Style::LinePoints).dashed(),
        );
    line_chart(path, &chart)
}

/// The first `count` images of `data` with their true and predicted class names,
/// the wrong ones captioned in red: d2l's `show_images` after training.
pub fn prediction_grid(
    path: &Path,
    data: &Labeled,
    predicted: &[u8],
    class_names: &[&str],
    count: usize,
    columns: usize,
) -> Result<()> {
    let count = count.min(data.len()).min(predicted.len());
    let tiles: Vec<Tile<'_>> = (0..count)
        .map(|i| {
            let (truth, guess) = (usize::from(data.y[i]), usize::from(predicted[i]));
            let caption = format!("true: {}\npred: {}", class_names[truth], class_names[guess]);
            Tile::new(column(&data.x, i), IMAGE_SIDE, IMAGE_SIDE, caption).highlighted(truth != guess)
        })
        .collect();
    image_grid(path, &tiles, columns)
}

/// What makes an example worth a panel in the probability figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Right, with the top probability at least 0.9.
    SureAndRight,
    /// Right, with the top probability below 0.5.
    UnsureButRight,
    /// Wrong, but the true class got at least 0.25.
    CloseMiss,
    /// Wrong, with the top probability at least 0.8.
    SureButWrong,
}

impl Verdict {
    pub const ALL: [Verdict; 4] =
        [Verdict::SureAndRight, Verdict::UnsureButRight, Verdict::CloseMiss, Verdict::SureButWrong];

    pub fn describe(self) -> &'static str {
        match self {
            Verdict::SureAndRight => "sure and right",
            Verdict::UnsureButRight => "unsure but right",
            Verdict::CloseMiss => "a close miss",
            Verdict::SureButWrong => "sure but wrong",
        }
    }

    fn fits(self, probs: &[f32], truth: usize, predicted: usize) -> bool {
        let top = probs[predicted];
        match self {
            Verdict::SureAndRight => predicted == truth && top >= 0.9,
            Verdict::UnsureButRight => predicted == truth && top < 0.5,
            Verdict::CloseMiss => predicted != truth && probs[truth] >= 0.25,
            Verdict::SureButWrong => predicted != truth && top >= 0.8,
        }
    }
}

/// For each [`Verdict`], the first example (in data order) that fits it, if any:
/// `probs` holds one column of probabilities per example.
pub fn telling_examples(probs: &DMatrix<f32>, predicted: &[u8], labels: &[u8]) -> Vec<(usize, Verdict)> {
    Verdict::ALL
        .into_iter()
        .filter_map(|verdict| {
            (0..labels.len())
                .find(|&k| {
                    let column = probs.column(k);
                    verdict.fits(column.as_slice(), usize::from(labels[k]), usize::from(predicted[k]))
                })
                .map(|k| (k, verdict))
        })
        .collect()
}

/// One panel of [`probability_bars`]: an image, its class probabilities and truth.
#[derive(Debug, Clone)]
pub struct ProbabilityPanel<'a> {
    /// `IMAGE_SIDE²` grey levels in [0, 1], row by row.
    pub pixels: &'a [f32],
    /// One probability per class.
    pub probs: Vec<f32>,
    /// The true class.
    pub truth: usize,
    /// Text above the panel.
    pub title: String,
}

const TEXT: RGBColor = RGBColor(40, 40, 40);
const PANEL: (u32, u32) = (560, 340);
/// Each image pixel becomes a square of this many figure pixels.
const PIXEL: i32 = 3;

/// Each example's image with its softmax probabilities as horizontal bars, `columns`
/// panels per row: the true class's bar green, a wrong prediction's bar red, the
/// others blue. An SVG.
pub fn probability_bars(
    path: &Path,
    panels: &[ProbabilityPanel<'_>],
    class_names: &[&str],
    columns: usize,
) -> Result<()> {
    let plot_error = |message: String| Error::Plot { path: path.to_path_buf(), message };
    if panels.is_empty() || columns == 0 {
        return Err(plot_error("need at least one panel and one column".into()));
    }
    if let Some(bad) = panels.iter().find(|p| {
        p.pixels.len() != IMAGE_SIDE * IMAGE_SIDE
            || p.probs.len() != class_names.len()
            || p.truth >= p.probs.len()
    }) {
        return Err(plot_error(format!(
            "a panel needs {} pixels and {} probabilities, got {} and {}",
            IMAGE_SIDE * IMAGE_SIDE,
            class_names.len(),
            bad.pixels.len(),
            bad.probs.len()
        )));
    }
    ensure_font().map_err(plot_error)?;
    let columns = columns.min(panels.len());
    let rows = panels.len().div_ceil(columns);
    let size = (PANEL.0 * columns as u32, PANEL.1 * rows as u32);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        let drawn = (|| -> std::result::Result<(), String> {
            root.fill(&WHITE).map_err(|e| e.to_string())?;
            for (area, panel) in root.split_evenly((rows, columns)).iter().zip(panels) {
                draw_panel(area, panel, class_names).map_err(|e| e.to_string())?;
            }
            root.present().map_err(|e| e.to_string())
        })();
        drawn.map_err(plot_error)?;
    }
    dlcore::atomic_file::write_bytes(path, svg.as_bytes())
}

type DrawResult<DB> = std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &ProbabilityPanel<'_>,
    class_names: &[&str],
) -> DrawResult<DB> {
    let predicted =
        (0..panel.probs.len()).fold(0, |best, c| if panel.probs[c] > panel.probs[best] { c } else { best });
    let wrong = predicted != panel.truth;
    let (width, _) = area.dim_in_pixel();
    let (title_area, body) = area.split_vertically(36);
    let title_color = if wrong { palette(3) } else { TEXT };
    let title_style = (FONT, 18.0).into_font().color(&title_color);
    title_area.draw(&Text::new(
        panel.title.clone(),
        (width as i32 / 2, 14),
        title_style.pos(Pos::new(HPos::Center, VPos::Center)),
    ))?;

    let side = IMAGE_SIDE as i32 * PIXEL;
    let (image_area, chart_area) = body.split_horizontally(side as u32 + 24);
    draw_image(&image_area, panel.pixels, (12, 24))?;

    let classes = class_names.len() as i32;
    // Class 0 at the top: row r of the chart (counted from the bottom) shows class
    // classes − 1 − r. plotters' integer ranges include their end, so rows
    // 0..=classes−1 are `0..classes - 1`.
    let class_of = |row: i32| (classes - 1 - row) as usize;
    let mut chart = ChartBuilder::on(&chart_area)
        .margin_top(4)
        .margin_right(44)
        .margin_bottom(6)
        .x_label_area_size(34)
        .y_label_area_size(92)
        .build_cartesian_2d(0f64..1f64, (0..classes - 1).into_segmented())?;
    let label_font = (FONT, 15.0).into_font().color(&TEXT);
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_labels(6)
        .x_label_formatter(&|x| format!("{x:.1}"))
        .y_labels(class_names.len())
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(row) if (0..classes).contains(row) => {
                class_names[class_of(*row)].to_string()
            }
            _ => String::new(),
        })
        .x_desc("probability")
        .axis_desc_style((FONT, 15.0).into_font().color(&TEXT))
        .label_style(label_font.clone())
        .bold_line_style(RGBColor(225, 225, 225))
        .max_light_lines(1)
        .light_line_style(WHITE)
        .draw()?;
    chart.draw_series((0..classes).map(|row| {
        let class = class_of(row);
        let color = if class == panel.truth {
            palette(2)
        } else if class == predicted {
            palette(3)
        } else {
            palette(0)
        };
        let p = f64::from(panel.probs[class]);
        let mut bar = Rectangle::new(
            [(0.0, SegmentValue::Exact(row)), (p, SegmentValue::Exact(row + 1))],
            color.filled(),
        );
        bar.set_margin(3, 3, 0, 0);
        bar
    }))?;
    let value_style = (FONT, 13.0).into_font().color(&TEXT).pos(Pos::new(HPos::Left, VPos::Center));
    chart.draw_series((0..classes).map(|row| {
        let p = panel.probs[class_of(row)];
        let text = if p >= 0.005 { format!("{p:.2}") } else { String::new() };
        EmptyElement::at((f64::from(p), SegmentValue::CenterOf(row)))
            + Text::new(text, (4, 0), value_style.clone())
    }))?;
    Ok(())
}

/// Draws a grey image with its top left corner at `origin`, black 0 to white 1, as
/// a black square with runs of equal grey on top: a few hundred SVG rectangles
/// rather than one per pixel.
fn draw_image<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    pixels: &[f32],
    (x0, y0): (i32, i32),
) -> DrawResult<DB> {
    let side = IMAGE_SIDE as i32;
    area.draw(&Rectangle::new([(x0, y0), (x0 + side * PIXEL, y0 + side * PIXEL)], BLACK.filled()))?;
    // 32 grey levels are more than the eye separates at this size.
    let level = |v: f32| (v.clamp(0.0, 1.0) * 31.0).round() as u8;
    for (r, row) in pixels.chunks(IMAGE_SIDE).enumerate() {
        let mut c = 0;
        while c < row.len() {
            let grey = level(row[c]);
            let start = c;
            while c < row.len() && level(row[c]) == grey {
                c += 1;
            }
            if grey > 0 {
                let shade = (f32::from(grey) / 31.0 * 255.0).round() as u8;
                let (left, top) = (x0 + start as i32 * PIXEL, y0 + r as i32 * PIXEL);
                area.draw(&Rectangle::new(
                    [(left, top), (x0 + c as i32 * PIXEL, top + PIXEL)],
                    RGBColor(shade, shade, shade).filled(),
                ))?;
            }
        }
    }
    Ok(())
}

/// The mse-vs-ce figures: how hard each objective pushes the true logit, as a
/// function of the probability the model gives the true class.
pub fn push_chart(path: &Path, curves: &[(String, Vec<(f64, f64)>)]) -> Result<()> {
    let mut chart = Chart::new("How hard the loss pulls the true class up")
        .x_label("probability of the true class")
        .y_label("|∂ℓ/∂o_y|")
        .x_range(0.0, 1.0);
    for (name, points) in curves {
        chart = chart.series(Series::new(name.clone(), points.iter().copied()));
    }
    line_chart(path, &chart)
}

/// Test accuracy against (fractional) epochs, one curve per objective.
pub fn accuracy_chart(path: &Path, title: &str, curves: &[(String, Vec<(f64, f64)>)]) -> Result<()> {
    let mut chart = Chart::new(title).x_label("epoch").y_label("test accuracy");
    for (name, points) in curves {
        chart = chart.series(Series::new(name.clone(), points.iter().copied()));
    }
    line_chart(path, &chart)
}
