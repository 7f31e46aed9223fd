//! Glue between the optimization experiments and dlcore's contour plots: a surface
//! sampled on a grid, and a trajectory as a path on it.

use dlcore::plot::{Grid, Series, Style};

use crate::descent::Trajectory;
use crate::surfaces::Surface;

/// Grid points per side: fine enough that the iso-lines look smooth at the book's
/// figure size (a cell is about 3 pixels).
pub const GRID_SIDE: usize = 201;

/// `surface` sampled over the rectangle, for [`dlcore::plot::contour`].
pub fn surface_grid(surface: &dyn Surface, x_range: (f64, f64), y_range: (f64, f64)) -> Grid {
    Grid::sample(x_range, y_range, GRID_SIDE, GRID_SIDE, |x, y| {
        f64::from(surface.value([x as f32, y as f32]))
    })
}

/// A trajectory as a path with a marker at every iterate, in palette colour `color`.
pub fn path(name: impl Into<String>, trajectory: &Trajectory, color: usize) -> Series {
    Series::new(name, trajectory.xy()).style(Style::LinePoints).color(color)
}
