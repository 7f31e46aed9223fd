//! Chapter `init-stability`: why deep networks can fail to train at all, and how the
//! scale of the initial weights decides it.
//!
//! - [`products`]: a product of many factors vanishes or explodes;
//! - [`flow`]: the gradient norm of every layer of a deep MLP, for each activation and
//!   initializer;
//! - [`trace`]: every intermediate of one forward and backward pass, for histograms;
//! - [`symmetry`]: constant weights keep hidden units identical forever;
//! - [`training`]: real training on MNIST from each initializer;
//!
//! and what decides whether optimization works once training starts:
//!
//! - [`surfaces`]: loss surfaces of two variables (Himmelblau's, a saddle, an
//!   ill-conditioned quadratic) with hand-written gradients;
//! - [`descent`]: dlcore's SGD on such a surface, step by step, and [`figures`]:
//!   the surface and the path as a contour plot;
//! - [`regression`]: minibatch SGD on linear regression, measured against the
//!   least-squares optimum.

pub mod descent;
pub mod figures;
pub mod flow;
pub mod products;
pub mod regression;
pub mod surfaces;
pub mod symmetry;
pub mod trace;
pub mod training;

/// A number in short scientific notation for tables (`3.14e-32`), or plain when it
/// reads better that way (`0.52`, `12`).
pub fn sci(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    // (The lower end allows for 0.01 arriving as the nearest f32, 0.00999999978.)
    if v == 0.0 || (0.009_999_99..1000.0).contains(&v.abs()) {
        let s = format!("{v:.3}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        return s.to_string();
    }
    format!("{v:.2e}")
}

/// `Err` if a list given on the command line names something twice (each entry
/// becomes a column, a file name and a legend entry, which must be unique).
pub fn distinct<T: PartialEq + std::fmt::Display>(what: &str, items: &[T]) -> dlcore::Result<()> {
    match items.iter().enumerate().find(|(i, item)| items[..*i].contains(item)) {
        Some((_, twice)) => Err(dlcore::Error::invalid(what, twice, "each one only once")),
        None => Ok(()),
    }
}

/// A point `x,y` from the command line (`--start -0.5,-1`), for the surfaces'
/// starting points.
pub fn parse_point(s: &str) -> Result<[f32; 2], String> {
    let Some((x, y)) = s.split_once(',') else {
        return Err(format!("`{s}` is not a point: write it as x,y (for example 0,-0.5)"));
    };
    let coordinate = |t: &str| -> Result<f32, String> {
        let v: f32 = t.trim().parse().map_err(|_| format!("`{t}` in `{s}` is not a number"))?;
        if v.is_finite() { Ok(v) } else { Err(format!("`{s}` must have finite coordinates")) }
    };
    Ok([coordinate(x)?, coordinate(y)?])
}

/// `(x, y)` for tables: `(3.000, 2.000)`.
pub fn point_text([x, y]: [f32; 2]) -> String {
    // Rounded first, and + 0.0 turns −0 into 0: no "-0.000" in a table.
    let tidy = |v: f32| (v * 1000.0).round() / 1000.0 + 0.0;
    format!("({:.3}, {:.3})", tidy(x), tidy(y))
}

/// `(0, -0.5)`: a point as short as it was typed, for legends and titles.
pub fn point_short([x, y]: [f32; 2]) -> String {
    format!("({x}, {y})")
}
