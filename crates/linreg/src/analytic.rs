//! The closed-form least-squares solution: linear regression with the squared loss
//! is one of the few models whose best parameters a formula gives directly.
//!
//! Put the parameters in one vector θ = (w, b) and the examples in the rows of the
//! design matrix A = [Xᵀ 1] (one row [x⁽ⁱ⁾ᵀ 1] per example, the 1 multiplying b).
//! The training loss is ‖Aθ − y‖²/2n, minimised where its gradient vanishes:
//! AᵀAθ = Aᵀy, the *normal equations*. Solving them as written squares the
//! condition number of A; factoring A = QR (Q with orthonormal columns, R upper
//! triangular) turns them into Rθ = Qᵀy without ever forming AᵀA.
//!
//! Everything here runs in `f64`: the solution is the yardstick SGD is measured by.

use dlcore::data::Dataset;
use dlcore::{Error, Result};
use nalgebra::{DMatrix, DVector};

use crate::Estimate;

/// The design matrix A = [Xᵀ 1]: one row per example, its features then a 1.
pub fn design_matrix(data: &Dataset) -> DMatrix<f64> {
    let features = data.features();
    DMatrix::from_fn(
        data.len(),
        features + 1,
        |i, j| {
            if j < features { f64::from(data.x[(j, i)]) } else { 1.0 }
        },
    )
}

/// The labels as an `f64` column.
fn labels(data: &Dataset) -> DVector<f64> {
    DVector::from_iterator(data.len(), data.y.iter().map(|&v| f64::from(v)))
}

/// (w, b) from θ = (w₁, …, w_d, b).
fn estimate(theta: &DVector<f64>) -> Estimate {
    let (w, b) = theta.as_slice().split_at(theta.len() - 1);
    Estimate { w: w.iter().map(|&v| v as f32).collect(), b: b[0] as f32 }
}

/// Fewer examples than parameters leave infinitely many exact fits.
fn enough_examples(data: &Dataset) -> Result<()> {
    let parameters = data.features() + 1;
    if data.len() < parameters {
        return Err(Error::invalid(
            "examples",
            data.len(),
            format!("at least {parameters} (one per parameter) for a unique least-squares solution"),
        ));
    }
    Ok(())
}

fn rank_deficient(data: &Dataset) -> Error {
    Error::invalid(
        "data",
        format!("{} examples", data.len()),
        "features that are not linear combinations of one another (the design matrix is rank deficient)",
    )
}

// ANCHOR: least_squares
/// The parameters minimising the squared loss on `data`, through the QR
/// factorization of the design matrix: A = QR, then Rθ = Qᵀy by back substitution.
pub fn least_squares(data: &Dataset) -> Result<Estimate> {
    enough_examples(data)?;
    let qr = design_matrix(data).qr();
    let (q, r) = (qr.q(), qr.r());
    // A zero on R's diagonal means a column of A depends on the others; "zero" is
    // judged relative to the largest entry, at the precision f64 carries.
    let diagonal = r.diagonal().abs();
    let tolerance = diagonal.max() * f64::EPSILON * data.len() as f64;
    if diagonal.min() <= tolerance {
        return Err(rank_deficient(data));
    }
    let theta =
        r.solve_upper_triangular(&(q.transpose() * labels(data))).ok_or_else(|| rank_deficient(data))?;
    Ok(estimate(&theta))
}
// ANCHOR_END: least_squares

/// The same solution from the normal equations AᵀAθ = Aᵀy, through the Cholesky
/// factorization of AᵀA. Fine for well-conditioned data like this chapter's, but it
/// loses twice as many digits as [`least_squares`] as the features approach
/// collinearity.
pub fn normal_equations(data: &Dataset) -> Result<Estimate> {
    enough_examples(data)?;
    let a = design_matrix(data);
    let gram = a.transpose() * &a;
    let cholesky = gram.cholesky().ok_or_else(|| rank_deficient(data))?;
    Ok(estimate(&cholesky.solve(&(a.transpose() * labels(data)))))
}

/// The condition number σ_max/σ_min of the design matrix: roughly how many times
/// a relative error in the data can grow in the solution. The normal equations'
/// AᵀA has its square.
pub fn condition_number(data: &Dataset) -> f64 {
    let singular = design_matrix(data).singular_values();
    singular.max() / singular.min()
}
