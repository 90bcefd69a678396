//! Bindings for `crate::nearidentity`: the §7 near-identity predictions and measured values.

use super::arrays::mat_ref;
use super::runtime::light;
use crate::nearidentity;
use numpy::{IntoPyArray, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The §7 expansion of I + hE (float64 E), as a dict of predictions and measured values.
#[pyfunction]
fn near_identity_expansion<'py>(
    py: Python<'py>,
    e: PyReadonlyArray2<'py, f64>,
    h: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let x = light(py, nearidentity::expansion(mat_ref(&e, "e")?, h))?;
    let out = PyDict::new(py);
    out.set_item("h", x.h)?;
    out.set_item("mu", x.mu.into_pyarray(py))?;
    out.set_item("trace_mean", x.trace_mean)?;
    out.set_item("frobenius_mean", x.frobenius_mean)?;
    out.set_item("norm", x.norm)?;
    out.set_item("c1", x.c1)?;
    out.set_item("c2", x.c2)?;
    out.set_item("r_first", x.r_first)?;
    out.set_item("r_second", x.r_second)?;
    out.set_item("r_measured", x.r_measured)?;
    out.set_item("log_rho_first", x.log_rho_first)?;
    out.set_item("log_rho_measured", x.log_rho_measured)?;
    out.set_item("budget", x.budget)?;
    out.set_item("cartan_first", x.cartan_first.into_pyarray(py))?;
    out.set_item("cartan_measured", x.cartan_measured.into_pyarray(py))?;
    Ok(out)
}

/// One-step expansion on X: (dr_first, dr_measured, slack_first, slack_measured).
#[pyfunction]
fn near_identity_step(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    e: PyReadonlyArray2<'_, f64>,
    h: f64,
) -> PyResult<(f64, f64, f64, f64)> {
    let s = light(
        py,
        nearidentity::step_expansion(mat_ref(&x, "x")?, mat_ref(&e, "e")?, h),
    )?;
    Ok((s.dr_first, s.dr_measured, s.slack_first, s.slack_measured))
}

/// Sum slack of two residual steps: (first order, measured).
#[pyfunction]
fn near_identity_sum_slack(
    py: Python<'_>,
    a: PyReadonlyArray2<'_, f64>,
    b: PyReadonlyArray2<'_, f64>,
    h: f64,
) -> PyResult<(f64, f64)> {
    light(
        py,
        nearidentity::sum_slack(mat_ref(&a, "a")?, mat_ref(&b, "b")?, h),
    )
}

/// Transport budget log M = L·max artanh(h_l‖E_l‖).
#[pyfunction]
fn transport_budget(py: Python<'_>, h_norms: Vec<f64>) -> PyResult<f64> {
    light(py, nearidentity::transport_budget(&h_norms))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(near_identity_expansion, m)?)?;
    m.add_function(wrap_pyfunction!(near_identity_step, m)?)?;
    m.add_function(wrap_pyfunction!(near_identity_sum_slack, m)?)?;
    m.add_function(wrap_pyfunction!(transport_budget, m)?)?;
    Ok(())
}
