//! Chapter `init-stability`: why deep networks can fail to train at all, and how the
//! scale of the initial weights decides it.
//!
//! - [`products`]: a product of many factors vanishes or explodes;
//! - [`flow`]: the gradient norm of every layer of a deep MLP, for each activation and
//!   initializer;
//! - [`trace`]: every intermediate of one forward and backward pass, for histograms;
//! - [`symmetry`]: constant weights keep hidden units identical forever;
//! - [`training`]: real training on MNIST from each initializer.

pub mod flow;
pub mod products;
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
