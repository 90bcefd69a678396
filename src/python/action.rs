//! Bindings for `crate::action`: the §4.5 action estimates.

use super::runtime::light;
use crate::action;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Action estimates of the orbit chain `betas` (β_0..β_L) of width d, as a dict.
#[pyfunction]
fn orbit_action<'py>(py: Python<'py>, d: usize, betas: Vec<f64>) -> PyResult<Bound<'py, PyDict>> {
    let a = light(py, action::orbit_action(d, &betas))?;
    let out = PyDict::new(py);
    out.set_item("kl_action", a.kl_action)?;
    out.set_item("kl_lower", a.kl_lower)?;
    out.set_item("kl_upper", a.kl_upper)?;
    out.set_item("kl_cauchy_schwarz", a.kl_cauchy_schwarz)?;
    out.set_item("fisher_rao", a.fisher_rao)?;
    out.set_item("fisher_rao_action", a.fisher_rao_action)?;
    out.set_item("bures_action", a.bures_action)?;
    out.set_item("bures_upper", a.bures_upper)?;
    out.set_item("bures_length", a.bures_length)?;
    out.set_item("bures_ends", a.bures_ends)?;
    Ok(out)
}

/// (I_min, I_max) of the Fisher information of the width-d orbit over [b0, b1].
#[pyfunction]
fn fisher_range(py: Python<'_>, d: usize, b0: f64, b1: f64) -> PyResult<(f64, f64)> {
    light(py, action::fisher_range(d, b0, b1))
}

/// (KL bound, Hellinger bound) for raw spectra across an interface with amplitude log ρ.
#[pyfunction]
fn raw_interface_bounds(py: Python<'_>, log_rho: f64) -> PyResult<(f64, f64)> {
    light(py, action::raw_interface_bounds(log_rho))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(orbit_action, m)?)?;
    m.add_function(wrap_pyfunction!(fisher_range, m)?)?;
    m.add_function(wrap_pyfunction!(raw_interface_bounds, m)?)?;
    Ok(())
}
