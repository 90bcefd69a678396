//! Bindings for `crate::orbit`: the power-law orbit, vectorised over exponents.
//!
//! Every exponent-valued argument arrives as a contiguous 1-D `float64` array (the Python layer
//! broadcasts and flattens it). A single value is computed directly; several run through
//! [`enter_core`] in parallel across values with the GIL released. Names carry an `orbit_`
//! prefix in `gsalign._core` (`_core.top_radial` is the spectrum's r); `gsalign.orbit` drops it.

use super::runtime::{enter_core, enter_core_single, light};
use crate::orbit;
use crate::parallel::try_map;
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

/// `f` of every value of `xs`, as a new array.
fn map1<'py, F>(
    py: Python<'py>,
    xs: &PyReadonlyArray1<'py, f64>,
    f: F,
) -> PyResult<Bound<'py, PyArray1<f64>>>
where
    F: Fn(f64) -> crate::Result<f64> + Sync + Send,
{
    let xs = xs.as_slice()?;
    let out = if xs.len() <= 1 {
        light(
            py,
            xs.iter()
                .map(|&x| f(x))
                .collect::<crate::Result<Vec<f64>>>(),
        )?
    } else {
        enter_core(py, None, |c| try_map(xs, c, |_, &x| f(x)))?
    };
    Ok(out.into_pyarray(py))
}

/// `f` of every pair (xs[i], ys[i]) (equal lengths, checked by the caller), as a new array.
fn map2<'py, F>(
    py: Python<'py>,
    xs: &PyReadonlyArray1<'py, f64>,
    ys: &PyReadonlyArray1<'py, f64>,
    f: F,
) -> PyResult<Bound<'py, PyArray1<f64>>>
where
    F: Fn(f64, f64) -> crate::Result<f64> + Sync + Send,
{
    let xs = xs.as_slice()?;
    let ys = ys.as_slice()?;
    if xs.len() != ys.len() {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "beta0, beta1: lengths differ ({} and {})",
            xs.len(),
            ys.len()
        )));
    }
    let pairs: Vec<(f64, f64)> = xs.iter().copied().zip(ys.iter().copied()).collect();
    let out = if pairs.len() <= 1 {
        light(
            py,
            pairs
                .iter()
                .map(|&(x, y)| f(x, y))
                .collect::<crate::Result<Vec<f64>>>(),
        )?
    } else {
        enter_core(py, None, |c| try_map(&pairs, c, |_, &(x, y)| f(x, y)))?
    };
    Ok(out.into_pyarray(py))
}

/// log H_d(β) for every β.
#[pyfunction]
fn orbit_log_harmonic<'py>(
    py: Python<'py>,
    d: usize,
    beta: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    map1(py, &beta, |b| orbit::log_harmonic(d, b))
}

/// Orbit probabilities p_i(α) = i^{−2α}/H_d(2α).
#[pyfunction]
fn orbit_probabilities(py: Python<'_>, d: usize, alpha: f64) -> PyResult<Bound<'_, PyArray1<f64>>> {
    let p = enter_core_single(py, |_| orbit::probabilities(d, alpha))?;
    Ok(p.into_pyarray(py))
}

/// R_d(α) = ½ log(d/H_d(2α)) for every α.
#[pyfunction]
fn orbit_top_radial<'py>(
    py: Python<'py>,
    d: usize,
    alpha: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    map1(py, &alpha, |a| orbit::top_radial(d, a))
}

/// R′(α) = E_{p(α)}[log i] for every α.
#[pyfunction]
fn orbit_top_radial_slope<'py>(
    py: Python<'py>,
    d: usize,
    alpha: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    map1(py, &alpha, |a| orbit::top_radial_slope(d, a))
}

/// E_β[log i] for every β.
#[pyfunction]
fn orbit_log_rank_mean<'py>(
    py: Python<'py>,
    d: usize,
    beta: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    map1(py, &beta, |b| orbit::log_rank_mean(d, b))
}

/// Var_β(log i) for every β.
#[pyfunction]
fn orbit_log_rank_variance<'py>(
    py: Python<'py>,
    d: usize,
    beta: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    map1(py, &beta, |b| orbit::log_rank_variance(d, b))
}

/// Fisher information I(β) = Var_β(log i) for every β.
#[pyfunction]
fn orbit_fisher_information<'py>(
    py: Python<'py>,
    d: usize,
    beta: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    map1(py, &beta, |b| orbit::fisher_information(d, b))
}

/// ds_BW/dα = √(d·Var_{2α}(log i)) for every α.
#[pyfunction]
fn orbit_bures_line_element<'py>(
    py: Python<'py>,
    d: usize,
    alpha: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    map1(py, &alpha, |a| orbit::bures_line_element(d, a))
}

/// KL(p_{β0} ‖ p_{β1}) for every pair.
#[pyfunction]
fn orbit_kl<'py>(
    py: Python<'py>,
    d: usize,
    beta0: PyReadonlyArray1<'py, f64>,
    beta1: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    map2(py, &beta0, &beta1, |a, b| orbit::kl(d, a, b))
}

/// Bhattacharyya coefficient BC(β0, β1) for every pair.
#[pyfunction]
fn orbit_bhattacharyya<'py>(
    py: Python<'py>,
    d: usize,
    beta0: PyReadonlyArray1<'py, f64>,
    beta1: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    map2(py, &beta0, &beta1, |a, b| orbit::bhattacharyya(d, a, b))
}

/// Fisher–Rao length ∫ √Var_β(log i) dβ for every pair.
#[pyfunction]
fn orbit_fisher_rao_length<'py>(
    py: Python<'py>,
    d: usize,
    beta0: PyReadonlyArray1<'py, f64>,
    beta1: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    map2(py, &beta0, &beta1, |a, b| orbit::fisher_rao_length(d, a, b))
}

/// (I(k+1, d+1), I(k, d)), bounds on the tail Σ_{i>k} i^{−β}.
#[pyfunction]
fn orbit_tail_bounds(py: Python<'_>, d: usize, beta: f64, k: usize) -> PyResult<(f64, f64)> {
    light(py, orbit::tail_bounds(d, beta, k))
}

/// (1 + I(2, d+1), 1 + I(1, d)), bounds on H_d(β).
#[pyfunction]
fn orbit_harmonic_bounds(py: Python<'_>, d: usize, beta: f64) -> PyResult<(f64, f64)> {
    light(py, orbit::harmonic_bounds(d, beta))
}

/// Effective rank erank_τ of the orbit point β.
#[pyfunction]
fn orbit_effective_rank(py: Python<'_>, d: usize, beta: f64, tau: f64) -> PyResult<usize> {
    enter_core_single(py, |_| orbit::effective_rank(d, beta, tau))
}

/// Closed-form (lower, upper) bounds on the orbit effective rank.
#[pyfunction]
fn orbit_effective_rank_bounds(
    py: Python<'_>,
    d: usize,
    beta: f64,
    tau: f64,
) -> PyResult<(f64, f64)> {
    light(py, orbit::effective_rank_bounds(d, beta, tau))
}

/// Large-width asymptotic of the orbit effective rank.
#[pyfunction]
fn orbit_effective_rank_asymptotic(py: Python<'_>, d: usize, beta: f64, tau: f64) -> PyResult<f64> {
    light(py, orbit::effective_rank_asymptotic(d, beta, tau))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(orbit_log_harmonic, m)?)?;
    m.add_function(wrap_pyfunction!(orbit_probabilities, m)?)?;
    m.add_function(wrap_pyfunction!(orbit_top_radial, m)?)?;
    m.add_function(wrap_pyfunction!(orbit_top_radial_slope, m)?)?;
    m.add_function(wrap_pyfunction!(orbit_log_rank_mean, m)?)?;
    m.add_function(wrap_pyfunction!(orbit_log_rank_variance, m)?)?;
    m.add_function(wrap_pyfunction!(orbit_fisher_information, m)?)?;
    m.add_function(wrap_pyfunction!(orbit_bures_line_element, m)?)?;
    m.add_function(wrap_pyfunction!(orbit_kl, m)?)?;
    m.add_function(wrap_pyfunction!(orbit_bhattacharyya, m)?)?;
    m.add_function(wrap_pyfunction!(orbit_fisher_rao_length, m)?)?;
    m.add_function(wrap_pyfunction!(orbit_tail_bounds, m)?)?;
    m.add_function(wrap_pyfunction!(orbit_harmonic_bounds, m)?)?;
    m.add_function(wrap_pyfunction!(orbit_effective_rank, m)?)?;
    m.add_function(wrap_pyfunction!(orbit_effective_rank_bounds, m)?)?;
    m.add_function(wrap_pyfunction!(orbit_effective_rank_asymptotic, m)?)?;
    Ok(())
}
