//! Bindings for `crate::distance`: Hellinger, total-variation and Bures–Wasserstein distances
//! between two spectra.

use super::runtime::light;
use crate::distance;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

/// Hellinger distance ‖√p_a − √p_b‖₂ between the energy distributions of two spectra.
#[pyfunction]
fn hellinger(
    py: Python<'_>,
    sv_a: PyReadonlyArray1<'_, f64>,
    sv_b: PyReadonlyArray1<'_, f64>,
) -> PyResult<f64> {
    light(py, distance::hellinger(sv_a.as_slice()?, sv_b.as_slice()?))
}

/// Total variation ½‖p_a − p_b‖₁ between the energy distributions of two spectra.
#[pyfunction]
fn total_variation(
    py: Python<'_>,
    sv_a: PyReadonlyArray1<'_, f64>,
    sv_b: PyReadonlyArray1<'_, f64>,
) -> PyResult<f64> {
    light(
        py,
        distance::total_variation(sv_a.as_slice()?, sv_b.as_slice()?),
    )
}

/// Bures–Wasserstein distance between the Frobenius-normalised states of two spectra.
#[pyfunction]
fn bures_distance(
    py: Python<'_>,
    sv_a: PyReadonlyArray1<'_, f64>,
    sv_b: PyReadonlyArray1<'_, f64>,
) -> PyResult<f64> {
    light(
        py,
        distance::bures_distance(sv_a.as_slice()?, sv_b.as_slice()?),
    )
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(hellinger, m)?)?;
    m.add_function(wrap_pyfunction!(total_variation, m)?)?;
    m.add_function(wrap_pyfunction!(bures_distance, m)?)?;
    Ok(())
}
