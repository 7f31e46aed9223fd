//! The chapter's two hand-drawn figures, made with plotters directly because
//! `dlcore::plot` draws charts, not diagrams or maps: the computational graph (from a
//! [`Layout`]) and a classifier's decision regions.
//!
//! Text uses the same embedded DejaVu Sans as `dlcore::plot`, registered under the
//! same family name, so these figures look like the rest of the book and never
//! depend on the fonts of the machine that draws them.

use std::path::Path;

use dlcore::plot::{FONT, ensure_font, palette};
use dlcore::{Error, Result, atomic_file};
use nalgebra::DMatrix;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::layout::{Item, Layout, Role, Shape};

const TEXT: RGBColor = RGBColor(40, 40, 40);
const OUTLINE: RGBColor = RGBColor(70, 70, 70);
const DATA_FILL: RGBColor = RGBColor(228, 228, 228);
const PARAMETER_FILL: RGBColor = RGBColor(253, 208, 162);
const COMPUTED_FILL: RGBColor = RGBColor(255, 255, 255);
const OPERATOR_FILL: RGBColor = RGBColor(198, 219, 239);

fn plot_error(path: &Path, message: impl ToString) -> Error {
    Error::Plot { path: path.to_path_buf(), message: message.to_string() }
}

/// Draws into an in-memory SVG of `size` pixels and writes it atomically.
fn render_svg(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> std::result::Result<(), String>,
) -> Result<()> {
    ensure_font().map_err(|m| plot_error(path, m))?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| plot_error(path, e))?;
        draw(&root).map_err(|m| plot_error(path, m))?;
        root.present().map_err(|e| plot_error(path, e))?;
    }
    atomic_file::write_bytes(path, svg.as_bytes())
}

fn font(size: f64) -> TextStyle<'static> {
    (FONT, size).into_font().color(&TEXT).pos(Pos::new(HPos::Center, VPos::Center))
}

// ---------------------------------------------------------------------------------
// The computational graph.

const COLUMN_WIDTH: f64 = 92.0;
const ROW_HEIGHT: f64 = 96.0;
const MARGIN: f64 = 24.0;
const LEGEND_HEIGHT: f64 = 40.0;
const LABEL_SIZE: f64 = 18.0;
const DETAIL_SIZE: f64 = 13.0;
const BOX_HEIGHT: f64 = 46.0;

/// An item's outline in pixels, centred on `(x, y)`.
#[derive(Debug, Clone, Copy)]
enum Outline {
    Rect { x: f64, y: f64, half_w: f64, half_h: f64 },
    Circle { x: f64, y: f64, r: f64 },
}

impl Outline {
    fn center(self) -> (f64, f64) {
        match self {
            Outline::Rect { x, y, .. } | Outline::Circle { x, y, .. } => (x, y),
        }
    }

    /// Where the ray from the centre in direction `(dx, dy)` (a unit vector) leaves
    /// the outline.
    fn exit(self, (dx, dy): (f64, f64)) -> (f64, f64) {
        match self {
            Outline::Rect { x, y, half_w, half_h } => {
                let t = (half_w / dx.abs().max(1e-9)).min(half_h / dy.abs().max(1e-9));
                (x + t * dx, y + t * dy)
            }
            Outline::Circle { x, y, r } => (x + r * dx, y + r * dy),
        }
    }

    /// Whether the segment from `a` to `b` passes within a few pixels of the outline
    /// (checked at points 2 pixels apart: plenty for a figure).
    fn touches_segment(self, a: (f64, f64), b: (f64, f64)) -> bool {
        const CLEARANCE: f64 = 5.0;
        let steps = ((b.0 - a.0).hypot(b.1 - a.1) / 2.0).ceil().max(1.0) as usize;
        (0..=steps).any(|k| {
            let t = k as f64 / steps as f64;
            let (px, py) = (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
            match self {
                Outline::Rect { x, y, half_w, half_h } => {
                    (px - x).abs() <= half_w + CLEARANCE && (py - y).abs() <= half_h + CLEARANCE
                }
                Outline::Circle { x, y, r } => (px - x).hypot(py - y) <= r + CLEARANCE,
            }
        })
    }
}

fn pixel(p: (f64, f64)) -> (i32, i32) {
    (p.0.round() as i32, p.1.round() as i32)
}

// ANCHOR: draw_graph
/// Draws a laid-out computational graph: boxes for variables (grey: data, orange:
/// parameters, white: computed), circles for operators, arrows along the data flow,
/// and a legend.
pub fn draw_graph(path: &Path, layout: &Layout) -> Result<()> {
    let width = 2.0 * MARGIN + layout.columns as f64 * COLUMN_WIDTH;
    let height = 2.0 * MARGIN + LEGEND_HEIGHT + layout.rows as f64 * ROW_HEIGHT;
    let center = |item: &Item| {
        let x = MARGIN + (item.column as f64 + 0.5) * COLUMN_WIDTH;
        let y = MARGIN + LEGEND_HEIGHT + ((layout.rows - 1 - item.row) as f64 + 0.5) * ROW_HEIGHT;
        (x, y)
    };
    render_svg(path, (width.ceil() as u32, height.ceil() as u32), |root| {
        let text_width = |text: &str, size: f64| {
            root.estimate_text_size(text, &font(size)).map(|(w, _)| f64::from(w)).map_err(|e| e.to_string())
        };
        let mut outlines = Vec::with_capacity(layout.items.len());
        for item in &layout.items {
            let (x, y) = center(item);
            let label = text_width(&item.label, LABEL_SIZE)?;
            outlines.push(match item.shape {
                Shape::Variable => {
                    let detail = text_width(&item.detail, DETAIL_SIZE)?;
                    Outline::Rect {
                        x,
                        y,
                        half_w: (label.max(detail) + 20.0).max(48.0) / 2.0,
                        half_h: BOX_HEIGHT / 2.0,
                    }
                }
                Shape::Operator => Outline::Circle { x, y, r: (label / 2.0 + 9.0).max(21.0) },
            });
        }
        for &edge in &layout.edges {
            draw_arrow(root, &outlines, edge)?;
        }
        for (item, &outline) in layout.items.iter().zip(&outlines) {
            draw_item(root, item, outline)?;
        }
        draw_legend(root)
    })
}
// ANCHOR_END: draw_graph

fn fill_of(role: Role) -> RGBColor {
    match role {
        Role::Data => DATA_FILL,
        Role::Parameter => PARAMETER_FILL,
        Role::Computed => COMPUTED_FILL,
        Role::Operator => OPERATOR_FILL,
    }
}

fn draw_item<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    item: &Item,
    outline: Outline,
) -> std::result::Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let fill = fill_of(item.role);
    match outline {
        Outline::Rect { x, y, half_w, half_h } => {
            let corners = [pixel((x - half_w, y - half_h)), pixel((x + half_w, y + half_h))];
            root.draw(&Rectangle::new(corners, fill.filled())).map_err(err)?;
            root.draw(&Rectangle::new(corners, OUTLINE.stroke_width(2))).map_err(err)?;
            root.draw_text(&item.label, &font(LABEL_SIZE), pixel((x, y - 8.0))).map_err(err)?;
            let detail = font(DETAIL_SIZE).color(&RGBColor(100, 100, 100));
            root.draw_text(&item.detail, &detail, pixel((x, y + 12.0))).map_err(err)?;
        }
        Outline::Circle { x, y, r } => {
            let r = r.round() as i32;
            root.draw(&Circle::new(pixel((x, y)), r, fill.filled())).map_err(err)?;
            root.draw(&Circle::new(pixel((x, y)), r, OUTLINE.stroke_width(2))).map_err(err)?;
            root.draw_text(&item.label, &font(LABEL_SIZE), pixel((x, y))).map_err(err)?;
        }
    }
    Ok(())
}

/// An arrow from `from` to `to`: straight when that line touches no other item,
/// otherwise with one bend, rising next to `from` to the height of `to` and running
/// level from there. The layout keeps a branch's row free of other items across the
/// columns it spans, so the level part crosses nothing.
fn draw_arrow<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    outlines: &[Outline],
    (from, to): (usize, usize),
) -> std::result::Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let (source, target) = (outlines[from], outlines[to]);
    let ((x0, y0), (x1, y1)) = (source.center(), target.center());
    let others = || outlines.iter().enumerate().filter(|&(i, _)| i != from && i != to).map(|(_, o)| *o);
    let blocked = others().any(|o| o.touches_segment((x0, y0), (x1, y1)));
    let bend = (blocked && y1 != y0).then_some((x0 + COLUMN_WIDTH / 2.0, y1));
    let unit = |(ax, ay): (f64, f64), (bx, by): (f64, f64)| {
        let length = (bx - ax).hypot(by - ay).max(1e-9);
        ((bx - ax) / length, (by - ay) / length)
    };
    let (first_leg, last_leg) = match bend {
        Some(corner) => (unit((x0, y0), corner), unit(corner, (x1, y1))),
        None => (unit((x0, y0), (x1, y1)), unit((x0, y0), (x1, y1))),
    };
    let start = source.exit(first_leg);
    let tip = target.exit((-last_leg.0, -last_leg.1));
    const HEAD_LENGTH: f64 = 10.0;
    const HEAD_HALF_WIDTH: f64 = 4.5;
    let (dx, dy) = last_leg;
    let base = (tip.0 - HEAD_LENGTH * dx, tip.1 - HEAD_LENGTH * dy);
    let path: Vec<(i32, i32)> = std::iter::once(start).chain(bend).chain([base]).map(pixel).collect();
    root.draw(&PathElement::new(path, OUTLINE.stroke_width(2))).map_err(err)?;
    let head = vec![
        pixel(tip),
        pixel((base.0 - HEAD_HALF_WIDTH * dy, base.1 + HEAD_HALF_WIDTH * dx)),
        pixel((base.0 + HEAD_HALF_WIDTH * dy, base.1 - HEAD_HALF_WIDTH * dx)),
    ];
    root.draw(&Polygon::new(head, OUTLINE.filled())).map_err(err)?;
    Ok(())
}

fn draw_legend<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>) -> std::result::Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let entries = [
        (Role::Data, "data"),
        (Role::Parameter, "parameter"),
        (Role::Computed, "computed variable"),
        (Role::Operator, "operator"),
    ];
    let y = (MARGIN + LEGEND_HEIGHT / 2.0 - 6.0) as i32;
    let mut x = MARGIN as i32;
    let style = (FONT, 15.0).into_font().color(&TEXT).pos(Pos::new(HPos::Left, VPos::Center));
    for (role, name) in entries {
        let fill = fill_of(role);
        if role == Role::Operator {
            root.draw(&Circle::new((x + 9, y), 9, fill.filled())).map_err(err)?;
            root.draw(&Circle::new((x + 9, y), 9, OUTLINE.stroke_width(1))).map_err(err)?;
        } else {
            let corners = [(x, y - 9), (x + 18, y + 9)];
            root.draw(&Rectangle::new(corners, fill.filled())).map_err(err)?;
            root.draw(&Rectangle::new(corners, OUTLINE.stroke_width(1))).map_err(err)?;
        }
        root.draw_text(name, &style, (x + 26, y)).map_err(err)?;
        let (w, _) = root.estimate_text_size(name, &style).map_err(err)?;
        x += 26 + w as i32 + 28;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// Decision regions.

/// A classifier's class probabilities on a regular grid over a rectangle.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbabilityGrid {
    pub x_range: (f32, f32),
    pub y_range: (f32, f32),
    /// Cells per side.
    pub resolution: usize,
    /// `classes × resolution²`: column `row · resolution + column` holds the class
    /// probabilities at that cell's centre, rows counted from the bottom.
    pub probabilities: DMatrix<f32>,
}

impl ProbabilityGrid {
    /// The cell centres as a `2 × resolution²` batch (one point per column), in the
    /// order `probabilities` expects.
    pub fn centres(x_range: (f32, f32), y_range: (f32, f32), resolution: usize) -> DMatrix<f32> {
        let step = |(lo, hi): (f32, f32), i: usize| lo + (hi - lo) * (i as f32 + 0.5) / resolution as f32;
        DMatrix::from_fn(2, resolution * resolution, |coordinate, k| {
            if coordinate == 0 { step(x_range, k % resolution) } else { step(y_range, k / resolution) }
        })
    }
}

/// How light a region's tint is: a confident prediction gets a stronger tint.
fn tint(class: usize, confidence: f32, classes: usize) -> RGBColor {
    let chance = 1.0 / classes.max(2) as f32;
    let certainty = ((confidence - chance) / (1.0 - chance)).clamp(0.0, 1.0);
    // Six levels, so neighbouring cells of one level merge into one rectangle.
    let level = (certainty * 5.0).round() / 5.0;
    let strength = f64::from(0.12 + 0.33 * level);
    let RGBColor(r, g, b) = palette(class);
    let mix = |c: u8| (255.0 - (255.0 - f64::from(c)) * strength).round() as u8;
    RGBColor(mix(r), mix(g), mix(b))
}

// ANCHOR: decision_regions
/// The decision regions of a classifier (each cell tinted with its predicted class,
/// stronger where the classifier is surer) with the labelled `points` (2 × n) on top.
pub fn decision_regions(
    path: &Path,
    title: &str,
    grid: &ProbabilityGrid,
    points: &DMatrix<f32>,
    labels: &[u8],
) -> Result<()> {
    let classes = grid.probabilities.nrows();
    let n = grid.resolution;
    let (x0, x1) = (f64::from(grid.x_range.0), f64::from(grid.x_range.1));
    let (y0, y1) = (f64::from(grid.y_range.0), f64::from(grid.y_range.1));
    let (cell_w, cell_h) = ((x1 - x0) / n as f64, (y1 - y0) / n as f64);
    render_svg(path, (700, 620), |root| {
        let axis_font = (FONT, 17.0).into_font().color(&TEXT);
        let mut chart = ChartBuilder::on(root)
            .margin(14)
            .margin_right(24)
            .caption(title, (FONT, 22.0).into_font().color(&TEXT))
            .x_label_area_size(48)
            .y_label_area_size(56)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("x₁")
            .y_desc("x₂")
            .axis_desc_style(axis_font.clone())
            .label_style((FONT, 15.0).into_font().color(&TEXT))
            .draw()
            .map_err(|e| e.to_string())?;
        // One rectangle per run of equal colour along a row keeps the SVG small.
        let mut runs = Vec::new();
        for row in 0..n {
            let mut start = 0;
            let colour_at = |column: usize| {
                let p = grid.probabilities.column(row * n + column);
                let class = p.imax();
                tint(class, p[class], classes)
            };
            for column in 1..=n {
                if column == n || colour_at(column) != colour_at(start) {
                    let corners = [
                        (x0 + start as f64 * cell_w, y0 + row as f64 * cell_h),
                        (x0 + column as f64 * cell_w, y0 + (row + 1) as f64 * cell_h),
                    ];
                    runs.push(Rectangle::new(corners, colour_at(start).filled()));
                    start = column;
                }
            }
        }
        chart.draw_series(runs).map_err(|e| e.to_string())?;
        let dots = points.column_iter().zip(labels).map(|(p, &label)| {
            let colour = palette(usize::from(label));
            EmptyElement::at((f64::from(p[0]), f64::from(p[1])))
                + Circle::new((0, 0), 4, colour.filled())
                + Circle::new((0, 0), 4, WHITE.stroke_width(1))
        });
        chart.draw_series(dots).map_err(|e| e.to_string())?;
        Ok(())
    })
}
// ANCHOR_END: decision_regions
