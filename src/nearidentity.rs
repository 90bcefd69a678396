//! Near-identity expansions of normalised residual factors J = I + hE (SPEC §7): the predictions,
//! and the exactly measured values beside them.
//!
//! With S = (E + Eᵀ)/2, eigenvalues μ_1 ≥ … ≥ μ_d (μ_1 simple), top eigenvector u, t = tr S/d and
//! q = ‖E‖_F²/d:
//!
//! * r(I + hE) = h(μ_1 − t) + (h²/2)(‖Eu‖² − 2μ_1² − q + 2t²) + O(h³) ([`expansion`]);
//! * â_i(I + hE) = h(μ_i − t) + O(h²);
//! * log ρ(I + hE) = h(μ_1 − μ_d)/2 + O(h²), and rigorously log ρ(I + hE) ≤ artanh(h‖E‖) when
//!   h‖E‖ < 1 (the **transport budget**);
//! * one step on a current product X (top left singular vector u_X):
//!   Δr = h(u_Xᵀ S u_X − ⟨S, XXᵀ⟩/‖X‖_F²) + O(h²) and σ = h(μ_1(S) − u_Xᵀ S u_X) + O(h²)
//!   ([`step_expansion`]);
//! * for J_1 = I + hA, J_2 = I + hB: σ(J_2, J_1) = h[μ_1(Sym A) + μ_1(Sym B) − μ_1(Sym(A + B))]
//!   + O(h²) ([`sum_slack`]).

use crate::chain;
use crate::error::{Error, Result};
use crate::spectrum::{self, Method};
use faer::{Mat, MatRef, Side};

/// The §7 predictions for one factor I + hE and the measured values.
#[derive(Debug, Clone, PartialEq)]
pub struct Expansion {
    /// Step size h.
    pub h: f64,
    /// Eigenvalues μ of S = (E + Eᵀ)/2, descending.
    pub mu: Vec<f64>,
    /// t = tr S/d.
    pub trace_mean: f64,
    /// q = ‖E‖_F²/d.
    pub frobenius_mean: f64,
    /// ‖E‖ (spectral norm).
    pub norm: f64,
    /// First-order coefficient c_1 = μ_1 − t.
    pub c1: f64,
    /// Second-order coefficient c_2 = (‖Eu‖² − 2μ_1² − q + 2t²)/2.
    pub c2: f64,
    /// r(I + hE) to first order, h c_1.
    pub r_first: f64,
    /// r(I + hE) to second order, h c_1 + h² c_2.
    pub r_second: f64,
    /// r(I + hE) measured from its singular values.
    pub r_measured: f64,
    /// log ρ(I + hE) to first order, h(μ_1 − μ_d)/2.
    pub log_rho_first: f64,
    /// log ρ(I + hE) measured.
    pub log_rho_measured: f64,
    /// Transport budget artanh(h‖E‖) (+∞ when h‖E‖ ≥ 1), a rigorous upper bound of log ρ.
    pub budget: f64,
    /// First-order normalised Cartan vector h(μ_i − t).
    pub cartan_first: Vec<f64>,
    /// Measured normalised Cartan vector â_i(I + hE).
    pub cartan_measured: Vec<f64>,
}

fn check_square(e: MatRef<'_, f64>, arg: &str) -> Result<usize> {
    let (m, n) = e.shape();
    if m != n || m == 0 {
        return Err(Error::shape(
            arg,
            format!("expected a non-empty square matrix, got shape {m} x {n}"),
        ));
    }
    for j in 0..n {
        for i in 0..m {
            if !e[(i, j)].is_finite() {
                return Err(Error::NonFinite {
                    arg: arg.into(),
                    index: 0,
                    row: i,
                    col: j,
                });
            }
        }
    }
    Ok(m)
}

fn check_h(h: f64) -> Result<()> {
    if h.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid("h", format!("must be finite, got {h}")))
    }
}

/// Sym Z = (Z + Zᵀ)/2.
fn sym(e: MatRef<'_, f64>) -> Mat<f64> {
    Mat::from_fn(e.nrows(), e.ncols(), |i, j| 0.5 * (e[(i, j)] + e[(j, i)]))
}

/// Eigenvalues (descending) and the top eigenvector of a symmetric matrix.
fn eigen(s: &Mat<f64>, arg: &str) -> Result<(Vec<f64>, Vec<f64>)> {
    let evd = s
        .self_adjoint_eigen(Side::Lower)
        .map_err(|_| Error::NoConvergence {
            arg: arg.into(),
            index: 0,
        })?;
    let n = s.nrows();
    let vals: Vec<f64> = (0..n).rev().map(|i| evd.S()[i]).collect();
    let top: Vec<f64> = (0..n).map(|i| evd.U()[(i, n - 1)]).collect();
    Ok((vals, top))
}

/// I + hE.
fn residual(e: MatRef<'_, f64>, h: f64) -> Mat<f64> {
    Mat::from_fn(e.nrows(), e.ncols(), |i, j| {
        (i == j) as u8 as f64 + h * e[(i, j)]
    })
}

fn log_rho(sv: &[f64], d: usize) -> Result<f64> {
    chain::log_interface_amplitude(sv, d, d)
}

/// The §7 expansion of r, â and log ρ for I + hE, with the measured values.
///
/// Errors: E not square, empty or non-finite (`e`); h not finite (`h`); I + hE = 0.
pub fn expansion(e: MatRef<'_, f64>, h: f64) -> Result<Expansion> {
    let d = check_square(e, "e")?;
    check_h(h)?;
    let s = sym(e);
    let (mu, u) = eigen(&s, "e")?;
    let df = d as f64;
    let t = mu.iter().sum::<f64>() / df;
    let q = (0..d)
        .flat_map(|j| (0..d).map(move |i| (i, j)))
        .map(|(i, j)| e[(i, j)] * e[(i, j)])
        .sum::<f64>()
        / df;
    let eu2: f64 = (0..d)
        .map(|i| (0..d).map(|j| e[(i, j)] * u[j]).sum::<f64>().powi(2))
        .sum();
    let c1 = mu[0] - t;
    let c2 = 0.5 * (eu2 - 2.0 * mu[0] * mu[0] - q + 2.0 * t * t);
    let norm = spectrum::singular_values_f64(e, Method::Svd, "e", 0)?[0];
    let j = residual(e, h);
    let sv = spectrum::singular_values_f64(j.as_ref(), Method::Svd, "e", 0)?;
    if sv[0] == 0.0 {
        return Err(Error::ZeroMatrix {
            arg: "I + h e".into(),
            index: 0,
        });
    }
    let hn = h.abs() * norm;
    Ok(Expansion {
        h,
        trace_mean: t,
        frobenius_mean: q,
        norm,
        c1,
        c2,
        r_first: h * c1,
        r_second: h * c1 + h * h * c2,
        r_measured: spectrum::top_radial(&sv)?,
        log_rho_first: 0.5 * h.abs() * (mu[0] - mu[d - 1]),
        log_rho_measured: log_rho(&sv, d)?,
        budget: if hn < 1.0 { hn.atanh() } else { f64::INFINITY },
        cartan_first: mu.iter().map(|m| h * (m - t)).collect(),
        cartan_measured: spectrum::normalized_cartan(&sv)?,
        mu,
    })
}

/// First-order step predictions for J = I + hE acting on a current product X, and the
/// measured values.
#[derive(Debug, Clone, PartialEq)]
pub struct StepExpansion {
    /// Predicted Δr = h(u_Xᵀ S u_X − ⟨S, XXᵀ⟩/‖X‖_F²).
    pub dr_first: f64,
    /// Measured r(JX) − r(X).
    pub dr_measured: f64,
    /// Predicted σ = h(μ_1(S) − u_Xᵀ S u_X) (a Rayleigh gap, ≥ 0).
    pub slack_first: f64,
    /// Measured slack σ(J, X).
    pub slack_measured: f64,
}

/// The one-step expansion of SPEC §7 (needs a simple s_1(X) for the first-order formula).
///
/// Errors: shapes (E square d × d, X with d rows), non-finite entries, X = 0.
pub fn step_expansion(x: MatRef<'_, f64>, e: MatRef<'_, f64>, h: f64) -> Result<StepExpansion> {
    let d = check_square(e, "e")?;
    check_h(h)?;
    if x.nrows() != d || x.ncols() == 0 {
        return Err(Error::shape(
            "x",
            format!(
                "expected {d} rows (the width of e), got shape {} x {}",
                x.nrows(),
                x.ncols()
            ),
        ));
    }
    let svd = x.to_owned().thin_svd().map_err(|_| Error::NoConvergence {
        arg: "x".into(),
        index: 0,
    })?;
    let ux: Vec<f64> = (0..d).map(|i| svd.U()[(i, 0)]).collect();
    let sx: Vec<f64> = (0..svd.S().dim()).map(|i| svd.S()[i]).collect();
    if sx[0] == 0.0 {
        return Err(Error::ZeroMatrix {
            arg: "x".into(),
            index: 0,
        });
    }
    let s = sym(e);
    let (mu, _) = eigen(&s, "e")?;
    let quad = |v: &[f64]| -> f64 {
        (0..d)
            .map(|i| v[i] * (0..d).map(|j| s[(i, j)] * v[j]).sum::<f64>())
            .sum()
    };
    let rayleigh = quad(&ux);
    // ⟨S, XXᵀ⟩/‖X‖_F² = Σ_i s_i² u_iᵀ S u_i / Σ s_i².
    let fro2: f64 = sx.iter().map(|v| v * v).sum();
    let mut weighted = 0.0;
    for (k, sk) in sx.iter().enumerate() {
        let uk: Vec<f64> = (0..d).map(|i| svd.U()[(i, k)]).collect();
        weighted += sk * sk * quad(&uk);
    }
    let j = residual(e, h);
    let jx = &j * x;
    let r_x = spectrum::top_radial(&spectrum::singular_values_f64(x, Method::Svd, "x", 0)?)?;
    let r_jx = spectrum::top_radial(&spectrum::singular_values_f64(
        jx.as_ref(),
        Method::Svd,
        "x",
        0,
    )?)?;
    Ok(StepExpansion {
        dr_first: h * (rayleigh - weighted / fro2),
        dr_measured: r_jx - r_x,
        slack_first: h * (mu[0] - rayleigh),
        slack_measured: chain::slack(j.as_ref(), x)?,
    })
}

/// First-order slack of two residual steps, h[μ_1(Sym A) + μ_1(Sym B) − μ_1(Sym(A + B))] ≥ 0 (Ky
/// Fan), and the measured σ(I + hB, I + hA). Returns (first order, measured).
pub fn sum_slack(a: MatRef<'_, f64>, b: MatRef<'_, f64>, h: f64) -> Result<(f64, f64)> {
    let d = check_square(a, "a")?;
    if check_square(b, "b")? != d {
        return Err(Error::shape(
            "b",
            format!(
                "must have the shape of a ({d} x {d}), got {} x {}",
                b.nrows(),
                b.ncols()
            ),
        ));
    }
    check_h(h)?;
    let ab = Mat::from_fn(d, d, |i, j| a[(i, j)] + b[(i, j)]);
    let top = |m: MatRef<'_, f64>, arg: &str| eigen(&sym(m), arg).map(|(v, _)| v[0]);
    let first = h * (top(a, "a")? + top(b, "b")? - top(ab.as_ref(), "a + b")?);
    let (ja, jb) = (residual(a, h), residual(b, h));
    Ok((first, chain::slack(jb.as_ref(), ja.as_ref())?))
}

/// Transport budget of a residual chain from h_l‖E_l‖: log M = L·max_l artanh(h_l‖E_l‖), so that
/// log ρ(J_l) ≤ (log M)/L for every l (+∞ when some h_l‖E_l‖ ≥ 1).
///
/// Errors: an empty or negative/NaN list (`h_norms`).
pub fn transport_budget(h_norms: &[f64]) -> Result<f64> {
    if h_norms.is_empty() {
        return Err(Error::invalid("h_norms", "needs at least one factor"));
    }
    let mut worst = 0.0f64;
    for (i, &x) in h_norms.iter().enumerate() {
        if x.is_nan() || x < 0.0 {
            return Err(Error::invalid(
                "h_norms",
                format!("entry {i} must be >= 0, got {x}"),
            ));
        }
        worst = worst.max(if x < 1.0 { x.atanh() } else { f64::INFINITY });
    }
    Ok(h_norms.len() as f64 * worst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_example_of_section_7() {
        let e = faer::mat![[0.0, 1.0, 0.0], [0.0, 0.5, 0.0], [1.0, 0.0, -0.5]];
        let x = expansion(e.as_ref(), 0.01).unwrap();
        assert!((x.c1 - 0.866025).abs() < 1e-6);
        assert!((x.c2 + 0.666667).abs() < 1e-6);
        assert!((x.r_measured - 0.0085936522).abs() < 1e-10);
        assert!((x.r_first - 0.0086602540).abs() < 1e-10);
        assert!((x.r_second - 0.0085935874).abs() < 1e-10);
        assert!(x.log_rho_measured <= x.budget);
    }
}
