//! Figures for the book: line charts (with d2l's `semilogy`), scatter plots, panels of
//! charts, histograms, stacked histograms over steps or layers, image grids, and
//! contour plots of a function of two variables with descent paths drawn on them.
//!
//! Every figure in the book comes from code, so these helpers aim for figures that need
//! no touching up: a fixed palette, readable fonts, tick labels chosen by us rather than
//! left to chance, and a legend that moves to the emptiest corner. Charts are SVG; image
//! grids are PNG, since a pixel image gains nothing from vectors.
//!
//! Text is laid out with DejaVu Sans, embedded in the binary and registered with
//! plotters' `ab_glyph` font table, so no system font is ever looked up: the same code
//! gives the same PNG bytes and the same SVG geometry on every machine. SVG text names
//! the family `DejaVu Sans, sans-serif`, so viewers with DejaVu (most Linux systems)
//! render it exactly, and others fall back to a sans-serif of similar width.
//!
//! Every function writes its file atomically (temporary file, then rename) and reports
//! failures as [`Error::Plot`] or [`Error::Io`]; nothing here panics on bad data.
//! Non-finite points are dropped, and so are non-positive ones on a log axis.

use std::io::Write;
use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

use plotters::backend::RGBPixel;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::atomic_file;
use crate::record::histogram_counts;
use crate::{Error, Result};

/// The embedded font (DejaVu Sans 2.37, Bitstream Vera licence: see
/// `assets/fonts/DejaVuSans-LICENSE.txt`).
static FONT_BYTES: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

/// The family every text in a figure uses. It is a CSS font list on purpose: plotters
/// only uses it as a key into its font table (where the embedded font is registered
/// under exactly this name) and the SVG backend copies it into `font-family`, where
/// viewers read it as "DejaVu Sans, else any sans-serif".
/// The family name the embedded font is registered under; chapters that draw
/// with plotters directly use it (after [`ensure_font`]) to match these figures.
pub const FONT: &str = "DejaVu Sans, sans-serif";

/// Size of a single chart, in pixels: the 8:5 shape of d2l's figures at a size that
/// reads well in the book's column.
pub const CHART_SIZE: (u32, u32) = (800, 500);

/// Size of one panel in [`panels`]: smaller than a chart, so three fit side by side.
pub const PANEL_SIZE: (u32, u32) = (420, 320);

/// How many times each image pixel is enlarged in [`image_grid`]: a 28×28 MNIST digit
/// becomes 84×84, big enough to see strokes without blurring them.
pub const IMAGE_SCALE: u32 = 3;

/// The series colours, in order: matplotlib's "tab10" (the colours of d2l's figures),
/// chosen to stay distinct from one another, including for common colour blindness
/// in the first few.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),  // blue
    RGBColor(255, 127, 14),  // orange
    RGBColor(44, 160, 44),   // green
    RGBColor(214, 39, 40),   // red
    RGBColor(148, 103, 189), // purple
    RGBColor(140, 86, 75),   // brown
    RGBColor(227, 119, 194), // pink
    RGBColor(127, 127, 127), // grey
    RGBColor(188, 189, 34),  // olive
    RGBColor(23, 190, 207),  // cyan
];

/// The `i`-th palette colour, wrapping around, so any number of series gets a colour.
pub fn palette(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

const TEXT: RGBColor = RGBColor(40, 40, 40);
const GRID: RGBColor = RGBColor(225, 225, 225);
const TITLE_SIZE: f64 = 24.0;
const AXIS_DESC_SIZE: f64 = 19.0;
const TICK_SIZE: f64 = 16.0;
const LEGEND_SIZE: f64 = 16.0;
const CAPTION_SIZE: f64 = 15.0;

/// How a series is drawn. Dashed lines and markers let a reader tell series apart
/// without colour, e.g. a function (line) and its derivative (dashed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    /// A solid line through the points, in order.
    #[default]
    Line,
    /// A dashed line through the points, in order.
    Dashed,
    /// A marker at each point and no line: samples, scatter data.
    Points,
    /// A solid line with a marker at each point: few points, e.g. one per epoch.
    LinePoints,
}

/// One named curve or point set of a [`Chart`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// The legend entry; an empty name leaves the series out of the legend.
    pub name: String,
    /// The `(x, y)` points. Non-finite points are dropped when drawing.
    pub points: Vec<(f64, f64)>,
    /// How the points are drawn.
    pub style: Style,
    /// A palette index, to keep one colour for one quantity across charts and panels;
    /// `None` takes the series' position in its chart.
    pub color: Option<usize>,
}

impl Series {
    /// A solid-line series through `points`.
    pub fn new(name: impl Into<String>, points: impl IntoIterator<Item = (f64, f64)>) -> Self {
        Series { name: name.into(), points: points.into_iter().collect(), ..Series::default() }
    }

    /// A series of per-epoch values: `ys[i]` is drawn at `x = i + 1`, so the first
    /// epoch is epoch 1, as the chapters count them.
    pub fn from_ys<T: Copy + Into<f64>>(name: impl Into<String>, ys: &[T]) -> Self {
        Series::new(name, ys.iter().enumerate().map(|(i, &y)| ((i + 1) as f64, y.into())))
    }

    /// `f` sampled at `n` evenly spaced points of `[a, b]` (ends included), for drawing
    /// a function such as an activation.
    pub fn from_fn(name: impl Into<String>, (a, b): (f64, f64), n: usize, f: impl Fn(f64) -> f64) -> Self {
        let n = n.max(2);
        let step = (b - a) / (n - 1) as f64;
        Series::new(
            name,
            (0..n).map(|i| {
                let x = if i + 1 == n { b } else { a + step * i as f64 };
                (x, f(x))
            }),
        )
    }

    /// The same series drawn with `style`.
    pub fn style(mut self, style: Style) -> Self {
        self.style = style;
        self
    }

    /// The same series drawn dashed.
    pub fn dashed(self) -> Self {
        self.style(Style::Dashed)
    }

    /// The same series drawn as markers only.
    pub fn points(self) -> Self {
        self.style(Style::Points)
    }

    /// The same series in palette colour `index` (see [`Series::color`]).
    pub fn color(mut self, index: usize) -> Self {
        self.color = Some(index);
        self
    }
}

/// A labelled horizontal reference line, e.g. the 0.25 ceiling of the sigmoid's
/// derivative or a target accuracy.
#[derive(Debug, Clone, PartialEq)]
pub struct RefLine {
    /// Height of the line, in data units.
    pub y: f64,
    /// Text written just above the line's right end; may be empty.
    pub label: String,
}

/// Where the legend goes. `Auto` picks the corner that covers the fewest data points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Legend {
    /// The emptiest corner of the plotting area.
    #[default]
    Auto,
    /// Top right corner.
    UpperRight,
    /// Top left corner.
    UpperLeft,
    /// Bottom right corner.
    LowerRight,
    /// Bottom left corner.
    LowerLeft,
    /// No legend at all.
    Hidden,
}

/// Everything one chart shows. Build it with the methods (`Chart::new("loss")
/// .x_label("epoch").log_y().series(...)`) or as a struct literal with
/// `..Chart::default()`.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Caption above the chart; empty for none.
    pub title: String,
    /// Description under the x axis.
    pub x_label: String,
    /// Description left of the y axis.
    pub y_label: String,
    /// A logarithmic y axis (d2l's `semilogy`), for losses that span decades.
    pub log_y: bool,
    /// Fixed x range; `None` fits the data.
    pub x_range: Option<(f64, f64)>,
    /// Fixed y range; `None` fits the data (and the reference lines).
    pub y_range: Option<(f64, f64)>,
    /// The data, drawn in order (later series on top).
    pub series: Vec<Series>,
    /// Horizontal reference lines.
    pub hlines: Vec<RefLine>,
    /// Legend placement.
    pub legend: Legend,
    /// Figure size in pixels for [`line_chart`] and [`scatter`]; [`panels`] uses
    /// [`PANEL_SIZE`] for each chart instead.
    pub size: (u32, u32),
}

impl Default for Chart {
    fn default() -> Self {
        Chart {
            title: String::new(),
            x_label: String::new(),
            y_label: String::new(),
            log_y: false,
            x_range: None,
            y_range: None,
            series: Vec::new(),
            hlines: Vec::new(),
            legend: Legend::Auto,
            size: CHART_SIZE,
        }
    }
}

impl Chart {
    /// An empty chart with a title.
    pub fn new(title: impl Into<String>) -> Self {
        Chart { title: title.into(), ..Chart::default() }
    }

    /// Sets the x axis description.
    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = label.into();
        self
    }

    /// Sets the y axis description.
    pub fn y_label(mut self, label: impl Into<String>) -> Self {
        self.y_label = label.into();
        self
    }

    /// Makes the y axis logarithmic.
    pub fn log_y(mut self) -> Self {
        self.log_y = true;
        self
    }

    /// Fixes the x range instead of fitting the data.
    pub fn x_range(mut self, lo: f64, hi: f64) -> Self {
        self.x_range = Some((lo, hi));
        self
    }

    /// Fixes the y range instead of fitting the data.
    pub fn y_range(mut self, lo: f64, hi: f64) -> Self {
        self.y_range = Some((lo, hi));
        self
    }

    /// Adds a series.
    pub fn series(mut self, series: Series) -> Self {
        self.series.push(series);
        self
    }

    /// Adds a labelled horizontal reference line at height `y`.
    pub fn hline(mut self, y: f64, label: impl Into<String>) -> Self {
        self.hlines.push(RefLine { y, label: label.into() });
        self
    }

    /// Sets where the legend goes.
    pub fn legend(mut self, legend: Legend) -> Self {
        self.legend = legend;
        self
    }

    /// Sets the figure size in pixels (for single-chart figures).
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.size = (width, height);
        self
    }
}

/// One image of an [`image_grid`], with the caption written under it.
#[derive(Debug, Clone, PartialEq)]
pub struct Tile<'a> {
    /// Grey levels in `[0, 1]` (0 black, 1 white), row by row: for an MNIST batch with
    /// one example per column, `x.column(j).as_slice()`. Values outside are clamped,
    /// non-finite ones drawn black.
    pub pixels: &'a [f32],
    /// Image width in pixels.
    pub width: usize,
    /// Image height in pixels.
    pub height: usize,
    /// Text under the image; `\n` starts a new line (e.g. "true: 7\npred: 1").
    pub caption: String,
    /// Draws the caption in red, e.g. for a wrong prediction.
    pub highlight: bool,
}

impl<'a> Tile<'a> {
    /// A tile with a caption in the normal text colour.
    pub fn new(pixels: &'a [f32], width: usize, height: usize, caption: impl Into<String>) -> Self {
        Tile { pixels, width, height, caption: caption.into(), highlight: false }
    }

    /// The same tile, its caption drawn in red when `highlight` is true.
    pub fn highlighted(mut self, highlight: bool) -> Self {
        self.highlight = highlight;
        self
    }
}

/// A multi-series line chart (each series drawn in its own [`Style`]), with a legend,
/// reference lines and, when `chart.log_y`, a logarithmic y axis.
pub fn line_chart(path: &Path, chart: &Chart) -> Result<()> {
    render_svg(path, chart.size, |root| draw_chart(root, chart, false))
}

/// A scatter plot: every series drawn as markers, whatever its style.
pub fn scatter(path: &Path, chart: &Chart) -> Result<()> {
    render_svg(path, chart.size, |root| draw_chart(root, chart, true))
}

/// Several charts in one figure, `columns` per row, each [`PANEL_SIZE`]: one panel per
/// activation function, per learning rate, and so on.
pub fn panels(path: &Path, charts: &[Chart], columns: usize) -> Result<()> {
    if columns == 0 {
        return Err(Error::invalid("columns", columns, "at least 1"));
    }
    if charts.is_empty() {
        return Err(Error::invalid("charts", 0, "at least one chart"));
    }
    let columns = columns.min(charts.len());
    let rows = charts.len().div_ceil(columns);
    let size = (PANEL_SIZE.0 * columns as u32, PANEL_SIZE.1 * rows as u32);
    render_svg(path, size, |root| {
        let areas = root.split_evenly((rows, columns));
        for (area, chart) in areas.iter().zip(charts) {
            draw_chart(area, chart, false)?;
        }
        Ok(())
    })
}

/// A histogram of `values` in `bins` equal bins over their range; the x axis
/// description gives the count, mean and standard deviation of the finite values
/// (and how many non-finite ones were left out), the numbers the initialisation
/// chapter compares with theory.
pub fn histogram(path: &Path, title: &str, values: &[f32], bins: usize) -> Result<()> {
    if bins == 0 {
        return Err(Error::invalid("bins", bins, "at least 1"));
    }
    let counts = histogram_counts(values, bins, None);
    let stats = Stats::of(values);
    let mut x_label = format!("value   (n = {}, mean = {}, sd = {}", stats.n, sig(stats.mean), sig(stats.sd));
    if stats.dropped > 0 {
        x_label.push_str(&format!(", {} non-finite left out", stats.dropped));
    }
    x_label.push(')');
    render_svg(path, CHART_SIZE, |root| {
        let (x0, x1) = match (counts.first(), counts.last()) {
            (Some(first), Some(last)) => (f64::from(first.start), f64::from(last.end)),
            _ => (0.0, 1.0),
        };
        let max = counts.iter().map(|b| b.count).max().unwrap_or(0).max(1) as f64;
        let x = Axis::linear(x0, x1, target_ticks(root, true), false);
        let y = Axis::linear(0.0, max * 1.08, target_ticks(root, false), true);
        let mut chart = chart_builder(root, title, &y).build_cartesian_2d(x, y)?;
        draw_mesh(&mut chart, &x_label, "count")?;
        let fill = palette(0).mix(0.75);
        let edge = palette(0).stroke_width(1);
        chart.draw_series(counts.iter().filter(|b| b.count > 0).flat_map(|b| {
            let corners = [(f64::from(b.start), 0.0), (f64::from(b.end), b.count as f64)];
            [Rectangle::new(corners, fill.filled()), Rectangle::new(corners, edge)]
        }))?;
        Ok(())
    })
}

/// Histograms of several tensors (steps of training, layers of a network) stacked as
/// offset ridges, first at the top, like TensorBoard's histogram view: all share the
/// same bin edges, so a spreading or collapsing distribution shows as a widening or
/// narrowing ridge. Each ridge is scaled to its own peak, so shapes and spreads compare
/// across rows but heights do not.
pub fn stacked_histograms<L: AsRef<str>, V: AsRef<[f32]>>(
    path: &Path,
    title: &str,
    layers: &[(L, V)],
    bins: usize,
) -> Result<()> {
    if bins == 0 {
        return Err(Error::invalid("bins", bins, "at least 1"));
    }
    if layers.is_empty() {
        return Err(Error::invalid("layers", 0, "at least one histogram"));
    }
    let range = finite_range(layers.iter().flat_map(|(_, v)| v.as_ref().iter().copied()));
    let ridges: Vec<Vec<(f64, f64)>> = layers
        .iter()
        .map(|(_, values)| {
            let counts = histogram_counts(values.as_ref(), bins, range);
            let peak = counts.iter().map(|b| b.count).max().unwrap_or(0).max(1) as f64;
            counts
                .iter()
                .map(|b| ((f64::from(b.start) + f64::from(b.end)) / 2.0, b.count as f64 / peak))
                .collect()
        })
        .collect();
    let n = layers.len();
    // Ridges rise up to RIDGE rows above their baseline, overlapping the row above.
    const RIDGE: f64 = 1.5;
    let baseline = |i: usize| (n - 1 - i) as f64;
    let height = CHART_SIZE.1.max(150 + 50 * n as u32);
    render_svg(path, (CHART_SIZE.0, height), |root| {
        let (x0, x1) = match range {
            Some((lo, hi)) if lo < hi => (f64::from(lo), f64::from(hi)),
            Some((v, _)) => (f64::from(v) - 0.5, f64::from(v) + 0.5),
            None => (0.0, 1.0),
        };
        let x = Axis::linear(x0, x1, target_ticks(root, true), false);
        let labels =
            layers.iter().enumerate().map(|(i, (l, _))| (baseline(i), l.as_ref().to_string())).collect();
        let y = Axis::labelled(-0.15, (n - 1) as f64 + RIDGE + 0.1, labels);
        let mut chart = chart_builder(root, title, &y).build_cartesian_2d(x, y)?;
        draw_mesh(&mut chart, "value", "")?;
        for (i, ridge) in ridges.iter().enumerate() {
            let base = baseline(i);
            let t = if n == 1 { 1.0 } else { i as f64 / (n - 1) as f64 };
            let fill = mix(RGBColor(198, 219, 239), RGBColor(33, 113, 181), t);
            let line = mix(RGBColor(107, 174, 214), RGBColor(8, 48, 107), t);
            let mut outline = Vec::with_capacity(ridge.len() + 2);
            outline.push((x0, base));
            outline.extend(ridge.iter().map(|&(x, h)| (x, base + h * RIDGE)));
            outline.push((x1, base));
            chart.draw_series(std::iter::once(Polygon::new(outline.clone(), fill.filled())))?;
            chart.draw_series(std::iter::once(PathElement::new(outline, line.stroke_width(2))))?;
        }
        Ok(())
    })
}

/// A PNG grid of small grey images, `columns` per row, each enlarged
/// [`IMAGE_SCALE`] times with its caption centred underneath: MNIST samples with their
/// labels, or test images with true and predicted classes.
pub fn image_grid(path: &Path, tiles: &[Tile<'_>], columns: usize) -> Result<()> {
    if columns == 0 {
        return Err(Error::invalid("columns", columns, "at least 1"));
    }
    if tiles.is_empty() {
        return Err(Error::invalid("tiles", 0, "at least one image"));
    }
    if let Some(bad) = tiles.iter().find(|t| t.width * t.height != t.pixels.len() || t.width == 0) {
        return Err(plot_error(
            path,
            format!(
                "a {}×{} image needs {} pixels, got {}",
                bad.width,
                bad.height,
                bad.width * bad.height,
                bad.pixels.len()
            ),
        ));
    }
    ensure_font().map_err(|m| plot_error(path, m))?;
    const PAD: u32 = 10;
    let line_height = (CAPTION_SIZE * 1.25) as u32;
    let scale = IMAGE_SCALE;
    let lines = tiles.iter().map(|t| t.caption.lines().count()).max().unwrap_or(0) as u32;
    let mut typesetter = Typesetter::new(CAPTION_SIZE);
    let mut widest_caption = 0u32;
    for line in tiles.iter().flat_map(|t| t.caption.lines()) {
        let width = typesetter.width(line).map_err(|e| plot_error(path, e.0))?;
        widest_caption = widest_caption.max(width.ceil() as u32);
    }
    let image_w = tiles.iter().map(|t| t.width as u32).max().unwrap_or(0) * scale;
    let image_h = tiles.iter().map(|t| t.height as u32).max().unwrap_or(0) * scale;
    let cell_w = image_w.max(widest_caption) + 2 * PAD;
    let cell_h = image_h + lines * line_height + 2 * PAD;
    let columns = columns.min(tiles.len());
    let rows = tiles.len().div_ceil(columns);
    let (w, h) = (cell_w * columns as u32, cell_h * rows as u32);

    let mut rgb = vec![255u8; (w * h * 3) as usize];
    for (k, tile) in tiles.iter().enumerate() {
        let (cx, cy) = ((k % columns) as u32 * cell_w, (k / columns) as u32 * cell_h);
        let ox = cx + (cell_w - tile.width as u32 * scale) / 2;
        let oy = cy + PAD + (image_h - tile.height as u32 * scale) / 2;
        for (p, &v) in tile.pixels.iter().enumerate() {
            let grey = if v.is_finite() { (v.clamp(0.0, 1.0) * 255.0).round() as u8 } else { 0 };
            let (px, py) = ((p % tile.width) as u32 * scale, (p / tile.width) as u32 * scale);
            for dy in 0..scale {
                let row = ((oy + py + dy) * w + ox + px) as usize * 3;
                rgb[row..row + 3 * scale as usize].fill(grey);
            }
        }
    }
    let drawn = (|| -> std::result::Result<(), DrawError> {
        let backend = BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut rgb, (w, h))?;
        let root = backend.into_drawing_area();
        for (k, tile) in tiles.iter().enumerate() {
            let (cx, cy) = ((k % columns) as u32 * cell_w, (k / columns) as u32 * cell_h);
            let color = if tile.highlight { palette(3) } else { TEXT };
            for (j, line) in tile.caption.lines().enumerate() {
                let y = cy + PAD + image_h + 4 + j as u32 * line_height;
                typesetter.draw(&root, line, color, f64::from(cx + cell_w / 2), y as i32)?;
            }
        }
        root.present()?;
        Ok(())
    })();
    drawn.map_err(|e| plot_error(path, e.0))?;
    let png = encode_png(&rgb, w, h).map_err(|e| plot_error(path, e.to_string()))?;
    atomic_file::write_bytes(path, &png)
}

// ---------------------------------------------------------------------------------
// Contour plots: level sets of a function of two variables, with paths on top.

/// A function of two variables sampled on a regular grid, for [`contour`]:
/// `values[row * columns + column]` is f(x, y) at `x = x_range.0 + column · Δx`,
/// `y = y_range.0 + row · Δy`, so row 0 is the bottom of the plot.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub x_range: (f64, f64),
    pub y_range: (f64, f64),
    /// Samples along x (at least 2).
    pub columns: usize,
    /// Samples along y (at least 2).
    pub rows: usize,
    pub values: Vec<f64>,
}

impl Grid {
    /// Samples `f` at `columns × rows` evenly spaced points of the rectangle, ends
    /// included.
    pub fn sample(
        x_range: (f64, f64),
        y_range: (f64, f64),
        columns: usize,
        rows: usize,
        f: impl Fn(f64, f64) -> f64,
    ) -> Grid {
        let (columns, rows) = (columns.max(2), rows.max(2));
        let mut grid = Grid { x_range, y_range, columns, rows, values: Vec::with_capacity(columns * rows) };
        for row in 0..rows {
            for column in 0..columns {
                let (x, y) = grid.point(column as f64, row as f64);
                grid.values.push(f(x, y));
            }
        }
        grid
    }

    /// The point at fractional grid position (`column`, `row`).
    fn point(&self, column: f64, row: f64) -> (f64, f64) {
        let dx = (self.x_range.1 - self.x_range.0) / (self.columns - 1) as f64;
        let dy = (self.y_range.1 - self.y_range.0) / (self.rows - 1) as f64;
        (self.x_range.0 + column * dx, self.y_range.0 + row * dy)
    }

    fn at(&self, column: usize, row: usize) -> f64 {
        self.values[row * self.columns + column]
    }
}

/// Everything a [`contour`] figure shows: the level sets of a sampled function as
/// iso-lines (darker for lower levels, with a key of their values), and paths (a
/// descent's iterates) drawn on top with a hollow circle at the start and a filled
/// square at the end.
#[derive(Debug, Clone, PartialEq)]
pub struct ContourChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// The sampled function; its ranges are the axes' ranges.
    pub grid: Grid,
    /// The values whose level sets are drawn (see [`linear_levels`], [`log_levels`]).
    pub levels: Vec<f64>,
    /// Heading of the key of levels, e.g. `f(x, y)`.
    pub level_name: String,
    /// The paths, in their [`Style`] (`LinePoints` marks every iterate) and colour.
    /// Parts outside the grid's rectangle are cut off at its edge.
    pub paths: Vec<Series>,
    /// Figure size in pixels; the legend and the key of levels take about 200 pixels
    /// on the right, outside the plot, so they never hide a path.
    pub size: (u32, u32),
}

impl ContourChart {
    /// A chart of `grid`'s level sets at `levels`, no paths yet, 880 × 640 pixels
    /// (a plot about as tall as wide, beside the key).
    pub fn new(title: impl Into<String>, grid: Grid, levels: Vec<f64>) -> Self {
        ContourChart {
            title: title.into(),
            x_label: "x".into(),
            y_label: "y".into(),
            grid,
            levels,
            level_name: "level".into(),
            paths: Vec::new(),
            size: (880, 640),
        }
    }

    pub fn labels(mut self, x: impl Into<String>, y: impl Into<String>) -> Self {
        self.x_label = x.into();
        self.y_label = y.into();
        self
    }

    pub fn level_name(mut self, name: impl Into<String>) -> Self {
        self.level_name = name.into();
        self
    }

    pub fn path(mut self, path: Series) -> Self {
        self.paths.push(path);
        self
    }

    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.size = (width, height);
        self
    }
}

/// About `count` round levels (1, 2, 2.5 or 5 times a power of ten apart) strictly
/// inside `(lo, hi)`: for a function whose values span a range of one scale.
pub fn linear_levels(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    let axis = Axis::linear(lo, hi, count.max(1), false);
    axis.labels.iter().map(|(v, _)| *v).filter(|&v| lo < v && v < hi).collect()
}

/// Levels at 1, 2 and 5 times the powers of ten within `[lo, hi]` (both positive):
/// for a function whose values span decades, such as Himmelblau's near its minima
/// and far from them. Even steps would put every line in the steep outskirts.
pub fn log_levels(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo > 0.0 && hi >= lo && hi.is_finite()) {
        return Vec::new();
    }
    let (d0, d1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    (d0..=d1)
        .flat_map(|e| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(e)))
        .filter(|&v| v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9))
        .collect()
}

/// Draws a [`ContourChart`] as SVG.
pub fn contour(path: &Path, chart: &ContourChart) -> Result<()> {
    let grid = &chart.grid;
    let ranges_ok = |(a, b): (f64, f64)| a.is_finite() && b.is_finite() && a < b;
    if grid.columns < 2 || grid.rows < 2 || grid.values.len() != grid.columns * grid.rows {
        return Err(plot_error(
            path,
            format!(
                "a {}×{} grid needs {} values (and at least 2×2), got {}",
                grid.columns,
                grid.rows,
                grid.columns * grid.rows,
                grid.values.len()
            ),
        ));
    }
    if !ranges_ok(grid.x_range) || !ranges_ok(grid.y_range) {
        return Err(plot_error(path, "the grid's x and y ranges must be finite and increasing"));
    }
    let mut levels: Vec<f64> = chart.levels.iter().copied().filter(|v| v.is_finite()).collect();
    levels.sort_by(f64::total_cmp);
    levels.dedup();
    let lines: Vec<Vec<Vec<(f64, f64)>>> = levels.iter().map(|&level| iso_lines(grid, level)).collect();
    let shade = |i: usize| {
        let t = if levels.len() < 2 { 0.0 } else { i as f64 / (levels.len() - 1) as f64 };
        mix(CONTOUR_LOW, CONTOUR_HIGH, t)
    };
    let level_labels: Vec<String> = levels.iter().map(|&v| level_label(v)).collect();
    // Measuring text (to size the key) needs the font registered.
    ensure_font().map_err(|m| plot_error(path, m))?;
    let path_names: Vec<&str> =
        chart.paths.iter().map(|s| s.name.as_str()).filter(|n| !n.is_empty()).collect();
    let key_width = path_names
        .iter()
        .copied()
        .chain(level_labels.iter().map(String::as_str))
        .chain([chart.level_name.as_str(), "start", "end"])
        .map(|t| text_width(t, LEGEND_SIZE))
        .max()
        .unwrap_or(0)
        + 60;

    render_svg(path, chart.size, |root| {
        let (w, _) = root.dim_in_pixel();
        let (plot_area, key_area) = root.split_horizontally(w.saturating_sub(key_width + 10));
        let x = Axis::linear(grid.x_range.0, grid.x_range.1, target_ticks(&plot_area, true), false);
        let y = Axis::linear(grid.y_range.0, grid.y_range.1, target_ticks(&plot_area, false), false);
        let mut ctx = chart_builder(&plot_area, &chart.title, &y).build_cartesian_2d(x, y)?;
        draw_mesh(&mut ctx, &chart.x_label, &chart.y_label)?;
        for (i, polylines) in lines.iter().enumerate() {
            let style = shade(i).stroke_width(1);
            ctx.draw_series(polylines.iter().map(|line| PathElement::new(line.clone(), style)))?;
        }
        let inside = |(px, py): (f64, f64)| {
            grid.x_range.0 <= px && px <= grid.x_range.1 && grid.y_range.0 <= py && py <= grid.y_range.1
        };
        let finite = |series: &Series| -> Vec<(f64, f64)> {
            series.points.iter().copied().filter(|(a, b)| a.is_finite() && b.is_finite()).collect()
        };
        // Lines first, then the iterates' markers, then starts and ends on top, so
        // no path hides another's start or end.
        for (i, series) in chart.paths.iter().enumerate() {
            let color = palette(series.color.unwrap_or(i));
            let points = finite(series);
            let line = color.stroke_width(2);
            if series.style != Style::Points {
                for piece in clip_polyline(&points, grid.x_range, grid.y_range) {
                    match series.style {
                        Style::Dashed => ctx.draw_series(DashedLineSeries::new(piece, 9, 6, line))?,
                        _ => ctx.draw_series(LineSeries::new(piece, line))?,
                    };
                }
            }
        }
        for (i, series) in chart.paths.iter().enumerate() {
            let color = palette(series.color.unwrap_or(i));
            let points = finite(series);
            if matches!(series.style, Style::Points | Style::LinePoints) {
                // A run that settles puts hundreds of iterates on one spot; a marker
                // within a few pixels of the last one drawn adds nothing to see but
                // bytes, so it is skipped.
                let mut last_drawn: Option<(i32, i32)> = None;
                let mut markers = Vec::new();
                for p in points.iter().copied().filter(|&p| inside(p)) {
                    let (px, py) = ctx.backend_coord(&p);
                    let far = last_drawn.is_none_or(|(lx, ly)| (px - lx).pow(2) + (py - ly).pow(2) >= 9);
                    if far {
                        last_drawn = Some((px, py));
                        markers.push(Circle::new(p, 2, color.filled()));
                    }
                }
                ctx.draw_series(markers)?;
            }
        }
        for (i, series) in chart.paths.iter().enumerate() {
            let color = palette(series.color.unwrap_or(i));
            let points = finite(series);
            let line = color.stroke_width(2);
            if let Some(&first) = points.first().filter(|&&p| inside(p)) {
                ctx.draw_series([Circle::new(first, 6, WHITE.filled()), Circle::new(first, 6, line)])?;
            }
            if let Some(&last) = points.last().filter(|&&p| inside(p)) {
                ctx.draw_series([
                    EmptyElement::at(last) + Rectangle::new([(-5, -5), (5, 5)], color.filled())
                ])?;
            }
        }

        // The key, right of the plot: the paths, the two markers, then the levels
        // from the highest (top) down, as in the plot's usual reading.
        let font = (FONT, LEGEND_SIZE).into_font().color(&TEXT).pos(Pos::new(HPos::Left, VPos::Center));
        const ROW: i32 = 24;
        const SAMPLE: i32 = LEGEND_SAMPLE;
        let x0 = 4;
        let mut row_y = 60;
        let grey = RGBColor(90, 90, 90);
        for (i, series) in chart.paths.iter().enumerate().filter(|(_, s)| !s.name.is_empty()) {
            // Markers as small as the paths' own (which are smaller than a line
            // chart's: a path has one at every iterate).
            draw_legend_sample(&key_area, series.style, palette(series.color.unwrap_or(i)), (x0, row_y), 3)?;
            key_area.draw_text(&series.name, &font, (x0 + SAMPLE + 8, row_y))?;
            row_y += ROW;
        }
        if !chart.paths.is_empty() {
            let centre = (x0 + SAMPLE / 2, row_y);
            key_area.draw(&Circle::new(centre, 6, WHITE.filled()))?;
            key_area.draw(&Circle::new(centre, 6, grey.stroke_width(2)))?;
            key_area.draw_text("start", &font, (x0 + SAMPLE + 8, row_y))?;
            row_y += ROW;
            let (cx, cy) = (x0 + SAMPLE / 2, row_y);
            key_area.draw(&Rectangle::new([(cx - 5, cy - 5), (cx + 5, cy + 5)], grey.filled()))?;
            key_area.draw_text("end", &font, (x0 + SAMPLE + 8, row_y))?;
            row_y += ROW + ROW / 2;
        }
        if !levels.is_empty() {
            key_area.draw_text(&chart.level_name, &font, (x0, row_y))?;
            row_y += ROW;
            for i in (0..levels.len()).rev() {
                let sample =
                    PathElement::new(vec![(x0, row_y), (x0 + SAMPLE, row_y)], shade(i).stroke_width(2));
                key_area.draw(&sample)?;
                key_area.draw_text(&level_labels[i], &font, (x0 + SAMPLE + 8, row_y))?;
                row_y += ROW - 4;
            }
        }
        Ok(())
    })
}

/// A level for the key: at most 3 significant digits and no trailing zeros ("0.5",
/// "50", "-1.5"), since levels are round numbers.
fn level_label(v: f64) -> String {
    let text = sig(v);
    if text.contains('.') && !text.contains('e') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// Iso-line colours: the lowest level darkest, so the eye finds the valleys, and the
/// highest light, so the crowded lines of steep walls stay in the background. Both
/// are grey-blues, well away from the saturated palette the paths are drawn in.
const CONTOUR_LOW: RGBColor = RGBColor(30, 50, 90);
const CONTOUR_HIGH: RGBColor = RGBColor(185, 198, 220);

/// The level set {f = `level`} of a sampled function, by marching squares, as
/// polylines in data coordinates. Each cell edge whose two ends lie on opposite sides
/// of the level holds one crossing (placed by linear interpolation); a cell with two
/// crossings holds one segment, a cell with four (a saddle of the samples) holds two,
/// paired by the value at the cell's centre. Segments meeting at an edge are then
/// chained, so each connected piece of the level set is one polyline (closed loops
/// end where they began). Cells with a non-finite corner are skipped.
fn iso_lines(grid: &Grid, level: f64) -> Vec<Vec<(f64, f64)>> {
    use std::collections::HashMap;
    let (nc, nr) = (grid.columns, grid.rows);
    // An edge is named by its lower-left grid point and its direction.
    let horizontal = |c: usize, r: usize| 2 * (r * nc + c);
    let vertical = |c: usize, r: usize| 2 * (r * nc + c) + 1;
    let mut crossing: HashMap<usize, (f64, f64)> = HashMap::new();
    let mut segments: Vec<(usize, usize)> = Vec::new();
    let above = |v: f64| v >= level;
    for r in 0..nr - 1 {
        for c in 0..nc - 1 {
            // Corners counter-clockwise from the bottom left.
            let corners = [(c, r), (c + 1, r), (c + 1, r + 1), (c, r + 1)];
            let v = corners.map(|(cc, rr)| grid.at(cc, rr));
            if v.iter().any(|x| !x.is_finite()) {
                continue;
            }
            // Edges k = 0..4 join corner k to corner k + 1: bottom, right, top, left.
            let edges = [horizontal(c, r), vertical(c + 1, r), horizontal(c, r + 1), vertical(c, r)];
            let mut cut = Vec::with_capacity(4);
            for k in 0..4 {
                let (a, b) = (v[k], v[(k + 1) % 4]);
                if above(a) != above(b) {
                    let t = (level - a) / (b - a);
                    let (ca, cb) = (corners[k], corners[(k + 1) % 4]);
                    let column = ca.0 as f64 + t * (cb.0 as f64 - ca.0 as f64);
                    let row = ca.1 as f64 + t * (cb.1 as f64 - ca.1 as f64);
                    crossing.entry(edges[k]).or_insert_with(|| grid.point(column, row));
                    cut.push(k);
                }
            }
            match *cut.as_slice() {
                [k1, k2] => segments.push((edges[k1], edges[k2])),
                [_, _, _, _] => {
                    // Corners 0 and 2 are on one side, 1 and 3 on the other. If the
                    // centre sides with corner 0, corners 0 and 2 connect through it
                    // and the lines cut off corners 1 and 3; otherwise the reverse.
                    let centre = v.iter().sum::<f64>() / 4.0;
                    if above(centre) == above(v[0]) {
                        segments.push((edges[0], edges[1]));
                        segments.push((edges[2], edges[3]));
                    } else {
                        segments.push((edges[3], edges[0]));
                        segments.push((edges[1], edges[2]));
                    }
                }
                _ => {}
            }
        }
    }
    // Chain: every edge belongs to at most two segments (the two cells beside it).
    let mut at_edge: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, &(a, b)) in segments.iter().enumerate() {
        at_edge.entry(a).or_default().push(i);
        at_edge.entry(b).or_default().push(i);
    }
    let mut used = vec![false; segments.len()];
    let next_from = |edge: usize, used: &mut [bool]| -> Option<usize> {
        let i = *at_edge.get(&edge)?.iter().find(|&&i| !used[i])?;
        used[i] = true;
        let (a, b) = segments[i];
        Some(if a == edge { b } else { a })
    };
    let mut lines = Vec::new();
    for start in 0..segments.len() {
        if used[start] {
            continue;
        }
        used[start] = true;
        let (a, b) = segments[start];
        let mut forward = vec![a, b];
        while let Some(edge) = next_from(*forward.last().unwrap_or(&b), &mut used) {
            forward.push(edge);
        }
        let mut backward = Vec::new();
        let mut tail = a;
        while let Some(edge) = next_from(tail, &mut used) {
            backward.push(edge);
            tail = edge;
        }
        backward.reverse();
        backward.extend(forward);
        lines.push(backward.iter().filter_map(|e| crossing.get(e).copied()).collect());
    }
    lines
}

/// The parts of a polyline inside a rectangle: each segment is cut at the edges
/// (Liang–Barsky), and a path that leaves and comes back becomes several pieces.
fn clip_polyline(points: &[(f64, f64)], (x0, x1): (f64, f64), (y0, y1): (f64, f64)) -> Vec<Vec<(f64, f64)>> {
    let mut pieces: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    for pair in points.windows(2) {
        let ((ax, ay), (bx, by)) = (pair[0], pair[1]);
        let (dx, dy) = (bx - ax, by - ay);
        let (mut t0, mut t1) = (0.0f64, 1.0f64);
        let mut visible = true;
        for (p, q) in [(-dx, ax - x0), (dx, x1 - ax), (-dy, ay - y0), (dy, y1 - ay)] {
            if p == 0.0 {
                if q < 0.0 {
                    visible = false;
                }
            } else {
                let t = q / p;
                if p < 0.0 {
                    t0 = t0.max(t);
                } else {
                    t1 = t1.min(t);
                }
            }
        }
        if !visible || t0 > t1 {
            if current.len() > 1 {
                pieces.push(std::mem::take(&mut current));
            }
            current.clear();
            continue;
        }
        let start = (ax + t0 * dx, ay + t0 * dy);
        let end = (ax + t1 * dx, ay + t1 * dy);
        if current.last() != Some(&start) {
            if current.len() > 1 {
                pieces.push(std::mem::take(&mut current));
            }
            current = vec![start];
        }
        current.push(end);
        if t1 < 1.0 {
            pieces.push(std::mem::take(&mut current));
        }
    }
    if current.len() > 1 {
        pieces.push(current);
    }
    pieces
}

// ---------------------------------------------------------------------------------
// Drawing one chart.

/// Any drawing error, as text: plotters' error types are generic over the backend, and
/// all we do with them is report them in an [`Error::Plot`].
struct DrawError(String);

impl<E: std::error::Error> From<E> for DrawError {
    fn from(e: E) -> Self {
        DrawError(e.to_string())
    }
}

type DrawResult = std::result::Result<(), DrawError>;

fn plot_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Plot { path: path.to_path_buf(), message: message.into() }
}

/// Registers the embedded font with plotters, once per process.
/// Registers the embedded DejaVu Sans with plotters, once per process, so text is
/// measured and drawn the same on every machine, with no system fonts.
pub fn ensure_font() -> std::result::Result<(), String> {
    static REGISTERED: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            // "sans-serif" too, for any text plotters styles by default.
            for name in [FONT, "sans-serif"] {
                plotters::style::register_font(name, FontStyle::Normal, FONT_BYTES)
                    .map_err(|_| "the embedded font could not be parsed".to_string())?;
            }
            Ok(())
        })
        .clone()
}

/// Draws into an in-memory SVG, then writes it atomically.
fn render_svg(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> DrawResult,
) -> Result<()> {
    ensure_font().map_err(|m| plot_error(path, m))?;
    let mut svg = String::new();
    let drawn = (|| -> DrawResult {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
        Ok(())
    })();
    drawn.map_err(|e| plot_error(path, e.0))?;
    atomic_file::write_bytes(path, svg.as_bytes())
}

/// The chart frame shared by every chart: margins, caption and label areas (the y
/// label area as wide as the widest tick label needs).
fn chart_builder<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    title: &str,
    y: &Axis,
) -> ChartBuilder<'a, 'b, DB> {
    let widest = y.labels.iter().map(|(_, l)| text_width(l, TICK_SIZE)).max().unwrap_or(0);
    let mut builder = ChartBuilder::on(area);
    builder.margin(12).margin_right(25).x_label_area_size(55).y_label_area_size(widest + 45);
    if !title.is_empty() {
        builder.caption(title, (FONT, TITLE_SIZE).into_font().color(&TEXT));
    }
    builder
}

/// A chart's series with the points that can be drawn: finite, and positive on a log
/// axis.
struct Drawable<'c> {
    series: &'c Series,
    color: RGBColor,
    points: Vec<(f64, f64)>,
}

fn draw_chart<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, chart: &Chart, scatter: bool) -> DrawResult {
    let usable = |y: f64| y.is_finite() && (!chart.log_y || y > 0.0);
    let drawable: Vec<Drawable<'_>> = chart
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| Drawable {
            series: s,
            color: palette(s.color.unwrap_or(i)),
            points: s.points.iter().copied().filter(|&(x, y)| x.is_finite() && usable(y)).collect(),
        })
        .collect();
    let all = || drawable.iter().flat_map(|d| d.points.iter().copied());
    let (x0, x1) = chart
        .x_range
        .filter(|&(a, b)| a.is_finite() && b.is_finite() && a < b)
        .unwrap_or_else(|| pad_range(span(all().map(|p| p.0)), 0.0));
    let integer_x = all().all(|(x, _)| x.fract() == 0.0);
    let x = Axis::linear(x0, x1, target_ticks(area, true), integer_x);
    let ys = all().map(|p| p.1).chain(chart.hlines.iter().map(|h| h.y)).filter(|&y| usable(y));
    let fixed_y = chart.y_range.filter(|&(a, b)| usable(a) && usable(b) && a < b);
    let y = if chart.log_y {
        let (y0, y1) = fixed_y.unwrap_or_else(|| log_range(span(ys)));
        Axis::log(y0, y1, target_ticks(area, false))
    } else {
        let (y0, y1) = fixed_y.unwrap_or_else(|| pad_range(span(ys), 0.05));
        Axis::linear(y0, y1, target_ticks(area, false), false)
    };
    let legend = match chart.legend {
        _ if !drawable.iter().any(|d| !d.series.name.is_empty()) => None,
        Legend::Hidden => None,
        Legend::Auto => Some(emptiest_corner(&drawable, &x, &y)),
        corner => Some(corner),
    };
    let (x_end, (y_lo, y_hi)) = (x.hi, (y.lo, y.hi));
    let mut ctx = chart_builder(area, &chart.title, &y).build_cartesian_2d(x, y)?;
    draw_mesh(&mut ctx, &chart.x_label, &chart.y_label)?;

    for d in &drawable {
        let style = if scatter { Style::Points } else { d.series.style };
        let line = d.color.stroke_width(2);
        let marker = d.color.filled();
        match style {
            Style::Line => ctx.draw_series(LineSeries::new(d.points.iter().copied(), line))?,
            Style::Dashed => ctx.draw_series(DashedLineSeries::new(d.points.iter().copied(), 9, 6, line))?,
            Style::Points => ctx.draw_series(d.points.iter().map(|&p| Circle::new(p, 3, marker)))?,
            Style::LinePoints => {
                ctx.draw_series(LineSeries::new(d.points.iter().copied(), line))?;
                ctx.draw_series(d.points.iter().map(|&p| Circle::new(p, 3, marker)))?
            }
        };
    }

    let ref_color = RGBColor(90, 90, 90);
    for h in chart.hlines.iter().filter(|h| usable(h.y) && y_lo <= h.y && h.y <= y_hi) {
        let ends = [(x0, h.y), (x_end, h.y)];
        ctx.draw_series(DashedLineSeries::new(ends, 6, 4, ref_color.stroke_width(1)))?;
        if !h.label.is_empty() {
            let style =
                (FONT, TICK_SIZE).into_font().color(&ref_color).pos(Pos::new(HPos::Right, VPos::Bottom));
            // Nudged a few pixels up and left, off the line and the frame.
            let label = EmptyElement::at((x_end, h.y)) + Text::new(h.label.clone(), (-6, -4), style);
            ctx.draw_series(std::iter::once(label))?;
        }
    }

    if let Some(corner) = legend {
        let entries: Vec<(&str, Style, RGBColor)> = drawable
            .iter()
            .filter(|d| !d.series.name.is_empty())
            .map(|d| (d.series.name.as_str(), if scatter { Style::Points } else { d.series.style }, d.color))
            .collect();
        draw_legend(&ctx.plotting_area().strip_coord_spec(), &entries, corner)?;
    }
    Ok(())
}

/// Draws the legend box in a corner of the plotting area `area` (pixel coordinates
/// from its top left): a sample of each series' line or marker, then its name.
/// Drawn by hand rather than by plotters' series labels, whose sample closures cannot
/// draw a dashed line.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(&str, Style, RGBColor)],
    corner: Legend,
) -> DrawResult {
    const PAD: i32 = 10;
    const ROW: i32 = 24;
    const SAMPLE: i32 = LEGEND_SAMPLE;
    const MARGIN: i32 = 12;
    let text_w = entries.iter().map(|(name, _, _)| text_width(name, LEGEND_SIZE)).max().unwrap_or(0) as i32;
    let (box_w, box_h) = (2 * PAD + SAMPLE + 8 + text_w, 2 * PAD + ROW * entries.len() as i32 - 4);
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let left = matches!(corner, Legend::UpperLeft | Legend::LowerLeft);
    let top = matches!(corner, Legend::UpperLeft | Legend::UpperRight);
    let x0 = if left { MARGIN } else { w - MARGIN - box_w };
    let y0 = if top { MARGIN } else { h - MARGIN - box_h };
    area.draw(&Rectangle::new([(x0, y0), (x0 + box_w, y0 + box_h)], WHITE.mix(0.88).filled()))?;
    area.draw(&Rectangle::new(
        [(x0, y0), (x0 + box_w, y0 + box_h)],
        RGBColor(190, 190, 190).stroke_width(1),
    ))?;
    let font = (FONT, LEGEND_SIZE).into_font().color(&TEXT).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, &(name, style, color)) in entries.iter().enumerate() {
        let y = y0 + PAD + ROW * i as i32 + (ROW - 4) / 2;
        let x = x0 + PAD;
        draw_legend_sample(area, style, color, (x, y), 4)?;
        area.draw_text(name, &font, (x + SAMPLE + 8, y))?;
    }
    Ok(())
}

/// Width in pixels of a legend's sample of a series' line or marker.
const LEGEND_SAMPLE: i32 = 28;

/// A legend's sample of a series drawn in `style` and `color`, [`LEGEND_SAMPLE`]
/// pixels wide from `(x, y)` (the left end of its centre line), with markers of
/// radius `marker`. A dashed line is shown as two dashes with a gap between.
fn draw_legend_sample<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    style: Style,
    color: RGBColor,
    (x, y): (i32, i32),
    marker: i32,
) -> DrawResult {
    let segment = |a: i32, b: i32| PathElement::new(vec![(x + a, y), (x + b, y)], color.stroke_width(2));
    let dot = || Circle::new((x + LEGEND_SAMPLE / 2, y), marker, color.filled());
    match style {
        Style::Line => area.draw(&segment(0, LEGEND_SAMPLE))?,
        Style::Dashed => {
            area.draw(&segment(0, 9))?;
            area.draw(&segment(LEGEND_SAMPLE - 9, LEGEND_SAMPLE))?;
        }
        Style::Points => area.draw(&dot())?,
        Style::LinePoints => {
            area.draw(&segment(0, LEGEND_SAMPLE))?;
            area.draw(&dot())?;
        }
    }
    Ok(())
}

/// The grid, tick labels and axis descriptions, with the labels our [`Axis`] chose.
fn draw_mesh<DB: DrawingBackend>(
    ctx: &mut ChartContext<'_, DB, Cartesian2d<Axis, Axis>>,
    x_label: &str,
    y_label: &str,
) -> DrawResult {
    let (x_axis, y_axis) = (ctx.as_coord_spec().x_spec().clone(), ctx.as_coord_spec().y_spec().clone());
    let x_fmt = |v: &f64| x_axis.label(*v);
    let y_fmt = |v: &f64| y_axis.label(*v);
    ctx.configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .axis_desc_style((FONT, AXIS_DESC_SIZE).into_font().color(&TEXT))
        .label_style((FONT, TICK_SIZE).into_font().color(&TEXT))
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .bold_line_style(GRID)
        .light_line_style(RGBColor(242, 242, 242))
        .draw()?;
    Ok(())
}

/// The corner of the plotting area near which the fewest points lie, so the legend
/// hides as little data as it can. Ties prefer upper right, then upper left.
fn emptiest_corner(drawable: &[Drawable<'_>], x: &Axis, y: &Axis) -> Legend {
    let mut counts = [0usize; 4]; // upper right, upper left, lower right, lower left
    for &(px, py) in drawable.iter().flat_map(|d| d.points.iter()) {
        let (u, v) = (x.unit(px), y.unit(py));
        let (right, left, top, bottom) = (u > 0.55, u < 0.45, v > 0.6, v < 0.4);
        counts[0] += usize::from(right && top);
        counts[1] += usize::from(left && top);
        counts[2] += usize::from(right && bottom);
        counts[3] += usize::from(left && bottom);
    }
    match (0..4).min_by_key(|&i| counts[i]) {
        Some(1) => Legend::UpperLeft,
        Some(2) => Legend::LowerRight,
        Some(3) => Legend::LowerLeft,
        _ => Legend::UpperRight,
    }
}

// ---------------------------------------------------------------------------------
// Axes, ranges and ticks.

/// One axis, linear or logarithmic, with the ticks and tick labels we chose. It is a
/// plotters coordinate (`Ranged`), so plotters draws exactly our ticks.
#[derive(Debug, Clone, PartialEq)]
struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
    /// Labelled ticks (bold grid lines).
    labels: Vec<(f64, String)>,
    /// Unlabelled minor grid lines.
    light: Vec<f64>,
}

impl Axis {
    /// A linear axis with "nice" ticks (1, 2, 2.5 or 5 times a power of ten), about
    /// `target` of them, each labelled with just the decimals the step needs.
    /// With `integer`, steps are whole numbers (epochs, layers: no tick at 2.5).
    fn linear(lo: f64, hi: f64, target: usize, integer: bool) -> Axis {
        let mut raw = (hi - lo) / target.max(1) as f64;
        if integer {
            raw = raw.max(1.0);
        }
        if !(raw.is_finite() && raw > 0.0) {
            return Axis { lo, hi, log: false, labels: vec![(lo, sig(lo))], light: vec![] };
        }
        let magnitude = 10f64.powf(raw.log10().floor());
        let mantissas: &[f64] = if integer { &[1.0, 2.0, 5.0, 10.0] } else { &[1.0, 2.0, 2.5, 5.0, 10.0] };
        let mantissa = mantissas.iter().copied().find(|&m| m * magnitude >= raw).unwrap_or(10.0);
        let step = mantissa * magnitude;
        let mut decimals = (-step.log10().floor()).max(0.0) as usize;
        if mantissa == 2.5 {
            decimals += 1;
        }
        let scientific = lo.abs().max(hi.abs()) >= 1e6 || step < 1e-4;
        let (first, last) = ((lo / step - 1e-9).ceil() as i64, (hi / step + 1e-9).floor() as i64);
        let labels = (first..=last)
            .map(|k| {
                let v = k as f64 * step;
                (v, tidy_zero(if scientific { sci(v) } else { format!("{v:.decimals$}") }))
            })
            .collect();
        Axis { lo, hi, log: false, labels, light: vec![] }
    }

    /// A log axis over positive `[lo, hi]`: ticks at 1, 2 and 5 times the powers of ten
    /// when they fit (a few decades), else at powers of ten only (every k-th one when
    /// there are many), or at every multiple within a single decade; the multiples not
    /// labelled become minor grid lines.
    fn log(lo: f64, hi: f64, target: usize) -> Axis {
        let (d0, d1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
        let inside = |v: f64| v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9);
        let decades: Vec<i32> = (d0..=d1).filter(|&e| inside(10f64.powi(e))).collect();
        let one_two_five: Vec<f64> = (d0..=d1)
            .flat_map(|e| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(e)))
            .filter(|&v| inside(v))
            .collect();
        let values: Vec<f64> = if one_two_five.len() < 3 {
            // Less than a decade: label every multiple.
            (d0..=d1)
                .flat_map(|e| (1..10).map(move |m| f64::from(m) * 10f64.powi(e)))
                .filter(|&v| inside(v))
                .collect()
        } else if one_two_five.len() <= target + 2 {
            one_two_five
        } else {
            let every = decades.len().div_ceil(target.max(1)).max(1) as i32;
            decades.iter().filter(|&&e| e.rem_euclid(every) == 0).map(|&e| 10f64.powi(e)).collect()
        };
        // Minor lines at the other multiples, unless there are so many decades that
        // they would grey the whole chart.
        let light = (d0..=d1)
            .flat_map(|e| (1..10).map(move |m| f64::from(m) * 10f64.powi(e)))
            .filter(|&v| inside(v) && !values.iter().any(|t| (t / v - 1.0).abs() < 1e-9))
            .filter(|_| d1 - d0 <= 5)
            .collect();
        let exponent = |v: f64| (v.log10() + 1e-9).floor() as i32;
        let plain = values.iter().all(|&v| (-4..=5).contains(&exponent(v)));
        let powers = values.iter().all(|&v| (v / 10f64.powi(exponent(v)) - 1.0).abs() < 1e-9);
        let labels = values
            .into_iter()
            .map(|v| {
                let e = exponent(v);
                let text = if plain {
                    format!("{v:.decimals$}", decimals = (-e).max(0) as usize)
                } else if powers {
                    power_of_ten(e)
                } else {
                    sci(v)
                };
                (v, text)
            })
            .collect();
        Axis { lo, hi, log: true, labels, light }
    }

    /// A linear axis whose only ticks are the given labelled positions.
    fn labelled(lo: f64, hi: f64, labels: Vec<(f64, String)>) -> Axis {
        Axis { lo, hi, log: false, labels, light: vec![] }
    }

    /// Where `v` falls on the axis, 0 at `lo` and 1 at `hi` (outside for values out of
    /// range; very far below for non-positive values on a log axis).
    fn unit(&self, v: f64) -> f64 {
        if self.log {
            let v = v.max(f64::MIN_POSITIVE);
            (v.ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }

    /// The label of the tick nearest `v` (plotters hands back our tick values, but a
    /// rounding error away is harmless this way).
    fn label(&self, v: f64) -> String {
        self.labels
            .iter()
            .min_by(|a, b| {
                (self.unit(a.0) - self.unit(v)).abs().total_cmp(&(self.unit(b.0) - self.unit(v)).abs())
            })
            .map(|(_, l)| l.clone())
            .unwrap_or_default()
    }
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let u = self.unit(*value);
        let u = if u.is_finite() { u.clamp(-1e3, 1e3) } else { 0.5 };
        limit.0 + (f64::from(limit.1 - limit.0) * u).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.light.clone()
        } else {
            self.labels.iter().map(|(v, _)| *v).collect()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

/// About one tick per 100 pixels across and per 60 pixels up.
fn target_ticks<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, x: bool) -> usize {
    let (w, h) = area.dim_in_pixel();
    if x { (w / 100).clamp(3, 10) as usize } else { (h / 60).clamp(3, 10) as usize }
}

/// The finite min and max of some values, if any.
fn span(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.filter(|v| v.is_finite()).fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// The finite min and max of some `f32`s, if any.
fn finite_range(values: impl Iterator<Item = f32>) -> Option<(f32, f32)> {
    values.filter(|v| v.is_finite()).fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// A data range widened by `pad` of its width on each side; a single value gets a
/// unit-wide range around it, no data at all gets [0, 1].
fn pad_range(range: Option<(f64, f64)>, pad: f64) -> (f64, f64) {
    match range {
        None => (0.0, 1.0),
        Some((lo, hi)) if hi - lo <= f64::EPSILON * hi.abs().max(1.0) => {
            let half = (lo.abs() * 0.1).max(0.5);
            (lo - half, hi + half)
        }
        Some((lo, hi)) => {
            let p = (hi - lo) * pad;
            (lo - p, hi + p)
        }
    }
}

/// A positive range rounded out to the nearest 1, 2 or 5 times a power of ten, so a
/// log axis ends on round values without wasting most of a decade.
fn log_range(range: Option<(f64, f64)>) -> (f64, f64) {
    let Some((lo, hi)) = range else { return (1.0, 10.0) };
    let steps = |v: f64| {
        let e = v.log10().floor();
        [1.0, 2.0, 5.0, 10.0].map(|m| m * 10f64.powf(e))
    };
    let down = steps(lo).into_iter().rev().find(|&s| s <= lo * (1.0 + 1e-9)).unwrap_or(lo);
    let up = steps(hi).into_iter().find(|&s| s >= hi * (1.0 - 1e-9)).unwrap_or(hi);
    if up > down { (down, up) } else { (down, down * 10.0) }
}

/// "10⁻⁵": a power of ten with a superscript exponent (DejaVu Sans has the glyphs).
fn power_of_ten(e: i32) -> String {
    const SUPERSCRIPT: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let digits = e.unsigned_abs().to_string();
    let sign = if e < 0 { "⁻" } else { "" };
    let exponent: String = digits.bytes().map(|d| SUPERSCRIPT[usize::from(d - b'0')]).collect();
    format!("10{sign}{exponent}")
}

/// `v` in scientific notation with at most 3 significant digits and no trailing
/// zeros: "2.5e-4", "1e6".
fn sci(v: f64) -> String {
    let text = format!("{v:.2e}");
    match text.split_once('e') {
        Some((mantissa, exp)) if mantissa.contains('.') => {
            format!("{}e{exp}", mantissa.trim_end_matches('0').trim_end_matches('.'))
        }
        _ => text,
    }
}

/// `v` with 3 significant digits, for statistics in labels.
fn sig(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v != 0.0 && (v.abs() >= 1e5 || v.abs() < 1e-3) {
        return sci(v);
    }
    let decimals = if v == 0.0 { 0 } else { (2 - v.abs().log10().floor() as i32).max(0) as usize };
    tidy_zero(format!("{v:.decimals$}"))
}

/// "-0", "-0.00" → "0", "0.00": rounding a tiny negative tick must not show a sign.
fn tidy_zero(text: String) -> String {
    match text.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => text,
    }
}

/// Count, mean and standard deviation of the finite values, and how many were not.
struct Stats {
    n: usize,
    dropped: usize,
    mean: f64,
    sd: f64,
}

impl Stats {
    fn of(values: &[f32]) -> Stats {
        let finite = || values.iter().filter(|v| v.is_finite()).map(|&v| f64::from(v));
        let n = finite().count();
        let mean = if n == 0 { 0.0 } else { finite().sum::<f64>() / n as f64 };
        let var = if n == 0 { 0.0 } else { finite().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64 };
        Stats { n, dropped: values.len() - n, mean, sd: var.sqrt() }
    }
}

// ---------------------------------------------------------------------------------
// Small helpers: bitmap text, colour, text width, PNG.

/// Sets bitmap text one glyph at a time. plotters 0.3.7's bitmap text drops each
/// glyph's left side bearing (it puts the glyph's ink box at the pen position), which
/// leaves uneven gaps inside words ("trou ser"). We place each glyph ourselves instead,
/// its ink centred in its advance width: for a sans-serif that is close to the font's
/// own bearings. Glyph metrics are measured once per character with plotters itself.
#[derive(Debug)]
struct Typesetter {
    size: f64,
    /// Per character: advance width, and where its ink starts within that advance.
    metrics: std::collections::HashMap<char, (f64, f64)>,
}

impl Typesetter {
    fn new(size: f64) -> Self {
        Typesetter { size, metrics: std::collections::HashMap::new() }
    }

    fn style(&self, color: RGBColor) -> TextStyle<'static> {
        (FONT, self.size).into_font().color(&color).pos(Pos::new(HPos::Left, VPos::Top))
    }

    fn glyph(&mut self, c: char) -> std::result::Result<(f64, f64), DrawError> {
        if let Some(&m) = self.metrics.get(&c) {
            return Ok(m);
        }
        // The advance of ten copies, to get it to a tenth of a pixel.
        let ten: String = std::iter::repeat_n(c, 10).collect();
        let advance = f64::from((FONT, self.size).into_font().box_size(&ten)?.0) / 10.0;
        // The ink's width: draw the glyph alone and find its rightmost inked column.
        let side = (self.size * 2.0).ceil() as u32;
        let mut scratch = vec![255u8; (side * side * 3) as usize];
        {
            let area = BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut scratch, (side, side))?
                .into_drawing_area();
            area.draw_text(&c.to_string(), &self.style(BLACK), (0, (side / 4) as i32))?;
            area.present()?;
        }
        let inked = scratch.chunks(3).enumerate().filter(|(_, px)| px[0] < 250).map(|(i, _)| i as u32 % side);
        let ink = inked.max().map_or(0.0, |x| f64::from(x + 1));
        let m = (advance, ((advance - ink) / 2.0).max(0.0));
        self.metrics.insert(c, m);
        Ok(m)
    }

    fn width(&mut self, text: &str) -> std::result::Result<f64, DrawError> {
        text.chars().map(|c| self.glyph(c).map(|(advance, _)| advance)).sum()
    }

    /// Draws `text` centred on `centre_x`, its top at `top`.
    fn draw<DB: DrawingBackend>(
        &mut self,
        area: &DrawingArea<DB, Shift>,
        text: &str,
        color: RGBColor,
        centre_x: f64,
        top: i32,
    ) -> DrawResult {
        let style = self.style(color);
        let mut pen = centre_x - self.width(text)? / 2.0;
        for c in text.chars() {
            let (advance, ink_start) = self.glyph(c)?;
            if !c.is_whitespace() {
                area.draw_text(&c.to_string(), &style, ((pen + ink_start).round() as i32, top))?;
            }
            pen += advance;
        }
        Ok(())
    }
}

/// The colour a fraction `t` of the way from `a` to `b`.
fn mix(a: RGBColor, b: RGBColor, t: f64) -> RGBColor {
    let lerp =
        |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * t.clamp(0.0, 1.0)).round() as u8;
    RGBColor(lerp(a.0, b.0), lerp(a.1, b.1), lerp(a.2, b.2))
}

/// Width in pixels of `text` in the embedded font, to size label areas and cells; 0 if
/// the font cannot measure it (the layout then is tighter, never wrong).
fn text_width(text: &str, size: f64) -> u32 {
    (FONT, size).into_font().box_size(text).map(|(w, _)| w).unwrap_or(0)
}

/// Encodes 8-bit RGB pixels as a PNG: the signature, then IHDR, IDAT (rows with filter
/// byte 0, zlib-compressed) and IEND chunks, each with its CRC-32. Written here
/// because plotters' own PNG path writes straight to a file name it picks the format
/// from, which would defeat the atomic temp-then-rename write.
fn encode_png(rgb: &[u8], width: u32, height: u32) -> std::io::Result<Vec<u8>> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]); // 8 bits, RGB, deflate, no filter method, no interlace
    let row = width as usize * 3;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    for line in rgb.chunks(row.max(1)).take(height as usize) {
        z.write_all(&[0])?;
        z.write_all(line)?;
    }
    let data = z.finish()?;
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &header);
    chunk(&mut png, b"IDAT", &data);
    chunk(&mut png, b"IEND", &[]);
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

    fn starts_svg(path: &Path) -> bool {
        let bytes = std::fs::read(path).unwrap();
        !bytes.is_empty() && bytes.starts_with(b"<svg")
    }

    fn sample_chart() -> Chart {
        Chart::new("activations")
            .x_label("x")
            .y_label("f(x)")
            .series(Series::from_fn("sigmoid", (-6.0, 6.0), 100, |x| 1.0 / (1.0 + (-x).exp())))
            .series(Series::from_fn("tanh", (-6.0, 6.0), 100, f64::tanh).dashed())
            .hline(0.25, "max of sigmoid'")
    }

    #[test]
    fn line_chart_writes_svg() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("line.svg");
        line_chart(&path, &sample_chart()).unwrap();
        assert!(starts_svg(&path));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("sigmoid") && text.contains("DejaVu Sans"));
    }

    #[test]
    fn log_chart_with_zeros_and_nan_does_not_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loss.svg");
        let losses = [2.3, 0.9, 0.0, f64::NAN, 0.05, -1.0, f64::INFINITY, 0.001];
        let chart = Chart::new("loss").log_y().series(Series::from_ys("train", &losses)).hline(0.0, "zero");
        line_chart(&path, &chart).unwrap();
        assert!(starts_svg(&path));
        // All points unusable on a log axis: still a (blank) chart, not an error.
        let empty = Chart::new("nothing").log_y().series(Series::from_ys("zeros", &[0.0, -1.0, f64::NAN]));
        line_chart(&path, &empty).unwrap();
        assert!(starts_svg(&path));
    }

    #[test]
    fn scatter_and_panels_write_svg() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scatter.svg");
        let points = Series::new("data", (0..50).map(|i| (f64::from(i), f64::from(i * i % 17))));
        scatter(&path, &Chart::new("scatter").series(points)).unwrap();
        assert!(starts_svg(&path));
        let path = dir.path().join("panels.svg");
        panels(&path, &[sample_chart(), sample_chart().log_y(), Chart::new("empty")], 2).unwrap();
        assert!(starts_svg(&path));
        assert!(panels(&path, &[], 2).is_err());
        assert!(panels(&path, &[sample_chart()], 0).is_err());
    }

    #[test]
    fn histograms_write_svg() {
        let dir = tempfile::tempdir().unwrap();
        let values: Vec<f32> = (0..1000).map(|i| ((i as f32) * 0.37).sin() * (i as f32 / 500.0)).collect();
        let path = dir.path().join("hist.svg");
        histogram(&path, "weights", &values, 30).unwrap();
        assert!(starts_svg(&path));
        histogram(&path, "nothing finite", &[f32::NAN], 10).unwrap();
        assert!(histogram(&path, "no bins", &values, 0).is_err());
        let path = dir.path().join("stacked.svg");
        let layers: Vec<(String, Vec<f32>)> =
            (1..=4).map(|l| (format!("layer {l}"), values.iter().map(|v| v * l as f32).collect())).collect();
        stacked_histograms(&path, "activations per layer", &layers, 40).unwrap();
        assert!(starts_svg(&path));
    }

    #[test]
    fn image_grid_writes_png() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grid.png");
        let image: Vec<f32> = (0..28 * 28).map(|p| (p % 28) as f32 / 27.0).collect();
        let tiles: Vec<Tile<'_>> = (0..5)
            .map(|i| Tile::new(&image, 28, 28, format!("label {i}\npred {i}")).highlighted(i == 3))
            .collect();
        image_grid(&path, &tiles, 3).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.starts_with(PNG_MAGIC));
        // Width and height in IHDR: 3 columns and 2 rows of cells.
        let w = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
        let h = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
        assert!(w >= 3 * 84 && h >= 2 * 84, "{w}×{h}");
        let wrong_size = [Tile::new(&image[..10], 28, 28, "x")];
        assert!(matches!(image_grid(&path, &wrong_size, 1), Err(Error::Plot { .. })));
    }

    #[test]
    fn writing_under_a_file_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, b"x").unwrap();
        let image = [0.5f32; 4];
        assert!(line_chart(&file.join("chart.svg"), &sample_chart()).is_err());
        assert!(histogram(&file.join("hist.svg"), "h", &[1.0, 2.0], 5).is_err());
        assert!(image_grid(&file.join("grid.png"), &[Tile::new(&image, 2, 2, "c")], 1).is_err());
    }

    #[test]
    fn iso_lines_of_a_paraboloid_are_circles_chained_into_one_loop() {
        let grid = Grid::sample((-2.0, 2.0), (-2.0, 2.0), 81, 81, |x, y| x * x + y * y);
        for radius in [0.5f64, 1.0, 1.7] {
            let lines = iso_lines(&grid, radius * radius);
            assert_eq!(lines.len(), 1, "radius {radius}: {} pieces", lines.len());
            let line = &lines[0];
            assert!(line.len() > 20);
            // Linear interpolation on a 0.05 grid: within a hundredth of the circle.
            for &(x, y) in line {
                assert!(((x * x + y * y).sqrt() - radius).abs() < 0.01, "({x}, {y}) off radius {radius}");
            }
            assert_eq!(line.first(), line.last(), "a closed level set must close");
        }
        // A level above every value has no line; one through a corner region is open.
        assert!(iso_lines(&grid, 100.0).is_empty());
        let corner = iso_lines(&grid, 7.0);
        assert_eq!(corner.len(), 4);
        assert!(corner.iter().all(|l| l.first() != l.last()));
    }

    #[test]
    fn saddle_cells_and_clipping() {
        // f = x·y sampled at the corners of one cell: every edge is crossed at any
        // level near 0, and the two segments must join the crossings on each side of
        // the branch of {x·y = level} they approximate. Level 0.1 lies in the first
        // and third quadrants, −0.1 in the second and fourth; the other pairing
        // would join crossings in different quadrants.
        let grid = Grid::sample((-1.0, 1.0), (-1.0, 1.0), 2, 2, |x, y| x * y);
        let quadrant = |(x, y): (f64, f64)| (x > 0.0, y > 0.0);
        for (level, quadrants) in
            [(0.1, [(false, false), (true, true)]), (-0.1, [(false, true), (true, false)])]
        {
            let lines = iso_lines(&grid, level);
            assert_eq!(lines.len(), 2, "level {level}: {lines:?}");
            let mut found: Vec<(bool, bool)> = lines
                .iter()
                .map(|line| {
                    assert_eq!(line.len(), 2, "level {level}: one segment per branch, {line:?}");
                    let q = quadrant(line[0]);
                    assert!(
                        line.iter().all(|&p| quadrant(p) == q),
                        "level {level}: {line:?} joins two quadrants"
                    );
                    q
                })
                .collect();
            found.sort();
            assert_eq!(found, quadrants, "level {level}: {lines:?}");
        }
        let pieces =
            clip_polyline(&[(0.0, 0.0), (2.0, 0.0), (2.0, 0.5), (0.5, 0.5)], (-1.0, 1.0), (-1.0, 1.0));
        assert_eq!(pieces, vec![vec![(0.0, 0.0), (1.0, 0.0)], vec![(1.0, 0.5), (0.5, 0.5)]]);
        assert!(clip_polyline(&[(5.0, 5.0), (6.0, 6.0)], (-1.0, 1.0), (-1.0, 1.0)).is_empty());
    }

    #[test]
    fn contour_writes_svg_and_rejects_a_ragged_grid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("contour.svg");
        let grid =
            Grid::sample((-3.0, 3.0), (-3.0, 3.0), 60, 60, |x, y| (x * x + y - 1.0).powi(2) + y * y + 0.01);
        let levels = log_levels(0.01, 100.0);
        assert_eq!(levels.first(), Some(&0.01));
        assert_eq!(levels.len(), 13);
        let path_points = vec![(2.5, 2.5), (1.0, 0.5), (0.5, 0.1), (10.0, 10.0)];
        let chart = ContourChart::new("bowl", grid.clone(), levels)
            .level_name("f(x, y)")
            .path(Series::new("descent", path_points).style(Style::LinePoints).color(1));
        contour(&path, &chart).unwrap();
        assert!(starts_svg(&path));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("descent") && text.contains("f(x, y)") && text.contains("start"));
        let ragged = ContourChart::new("bad", Grid { values: vec![1.0; 5], ..grid }, vec![1.0]);
        assert!(matches!(contour(&path, &ragged), Err(Error::Plot { .. })));
        assert_eq!(linear_levels(-1.0, 4.0, 5), vec![0.0, 1.0, 2.0, 3.0]);
    }

    #[test]
    fn ticks_are_round_and_labelled_without_noise() {
        let t = Axis::linear(0.0, 1.0, 5, false);
        let labels: Vec<&str> = t.labels.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        let t = Axis::linear(-0.3, 0.3, 6, false);
        assert!(t.labels.iter().all(|(_, l)| !l.starts_with("-0.0") && l.len() <= 5), "{:?}", t.labels);
        let t = Axis::log(1e-4, 10.0, 8);
        let labels: Vec<&str> = t.labels.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["0.0001", "0.001", "0.01", "0.1", "1", "10"]);
        let t = Axis::log(0.1, 10.0, 8);
        let labels: Vec<&str> = t.labels.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["0.1", "0.2", "0.5", "1", "2", "5", "10"]);
        assert_eq!(sci(0.00025), "2.5e-4");
        assert_eq!(log_range(Some((0.3, 2.0))), (0.2, 2.0));
        assert_eq!(log_range(Some((0.0112, 2.3))), (0.01, 5.0));
        let t = Axis::log(1e-6, 1e10, 8);
        assert_eq!(t.labels.first().map(|l| l.1.as_str()), Some("10⁻⁶"));
        let t = Axis::linear(1.0, 5.0, 8, true);
        assert!(t.labels.iter().all(|(v, _)| v.fract() == 0.0), "{:?}", t.labels);
    }
}
