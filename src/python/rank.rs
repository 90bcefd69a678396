//! Bindings for `crate::rank`: effective ranks, rank windows, stable rank and the robustness
//! bracket, for one spectrum or for the rows of a 2-D array of spectra.

use super::runtime::light;
use crate::error::Error;
use crate::rank;
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;

/// Rewrites an error about one spectrum so that it points at row `index` of the 2-D array `sv`.
fn at_row(e: Error, index: usize) -> Error {
    match e {
        Error::NonFinite { arg, row, .. } => Error::NonFinite {
            arg,
            index: 0,
            row: index,
            col: row,
        },
        Error::Empty {
            arg, rows, cols, ..
        } => Error::Empty {
            arg,
            index,
            rows,
            cols,
        },
        Error::ZeroMatrix { arg, .. } => Error::ZeroMatrix { arg, index },
        Error::InvalidArgument { arg, reason } if arg == "sv" => {
            Error::invalid(format!("sv[{index}]"), reason)
        }
        other => other,
    }
}

/// Applies `f` to every row of the C-contiguous 2-D array `sv` (one spectrum per row).
fn rows<T>(
    py: Python<'_>,
    sv: &PyReadonlyArray2<'_, f64>,
    f: impl Fn(&[f64]) -> crate::Result<T>,
) -> PyResult<Vec<T>> {
    let (l, k) = (sv.shape()[0], sv.shape()[1]);
    if k == 0 {
        return light(
            py,
            Err(Error::Empty {
                arg: "sv".into(),
                index: 0,
                rows: l,
                cols: 0,
            }),
        );
    }
    let data = sv.as_slice()?;
    light(
        py,
        data.chunks_exact(k)
            .enumerate()
            .map(|(i, row)| f(row).map_err(|e| at_row(e, i)))
            .collect(),
    )
}

/// Effective rank erank_τ = min{k : Σ_{i≤k} p_i ≥ τ − 64·K·ε} of a descending spectrum.
#[pyfunction]
#[pyo3(signature = (sv, tau = 0.9))]
fn effective_rank(py: Python<'_>, sv: PyReadonlyArray1<'_, f64>, tau: f64) -> PyResult<usize> {
    light(py, rank::effective_rank(sv.as_slice()?, tau))
}

/// Effective ranks of one spectrum at several quantiles, in one pass.
#[pyfunction]
fn effective_ranks<'py>(
    py: Python<'py>,
    sv: PyReadonlyArray1<'py, f64>,
    taus: Vec<f64>,
) -> PyResult<Bound<'py, PyArray1<usize>>> {
    Ok(light(py, rank::effective_ranks(sv.as_slice()?, &taus))?.into_pyarray(py))
}

/// Effective rank of every row of a C-contiguous 2-D array of spectra.
#[pyfunction]
#[pyo3(signature = (sv, tau = 0.9))]
fn effective_rank_batch<'py>(
    py: Python<'py>,
    sv: PyReadonlyArray2<'py, f64>,
    tau: f64,
) -> PyResult<Bound<'py, PyArray1<usize>>> {
    light(py, rank::check_tau(tau, "tau"))?;
    Ok(rows(py, &sv, |row| rank::effective_rank(row, tau))?.into_pyarray(py))
}

/// Rank window [erank_{τ_lo}, erank_{τ_hi}] (1-based, inclusive).
#[pyfunction]
fn rank_window(
    py: Python<'_>,
    sv: PyReadonlyArray1<'_, f64>,
    tau_lo: f64,
    tau_hi: f64,
) -> PyResult<(usize, usize)> {
    light(py, rank::rank_window(sv.as_slice()?, tau_lo, tau_hi))
}

/// Stable rank Σ_i (s_i/s_1)² of a descending spectrum.
#[pyfunction]
fn stable_rank(py: Python<'_>, sv: PyReadonlyArray1<'_, f64>) -> PyResult<f64> {
    light(py, rank::stable_rank(sv.as_slice()?))
}

/// Stable rank of every row of a C-contiguous 2-D array of spectra.
#[pyfunction]
fn stable_rank_batch<'py>(
    py: Python<'py>,
    sv: PyReadonlyArray2<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    Ok(rows(py, &sv, rank::stable_rank)?.into_pyarray(py))
}

/// Robust bracket [erank_{τ−ρ}, erank_{τ+ρ}] with ρ = radius + 64·K·ε.
#[pyfunction]
fn erank_bracket(
    py: Python<'_>,
    sv: PyReadonlyArray1<'_, f64>,
    tau: f64,
    radius: f64,
) -> PyResult<(usize, usize)> {
    light(py, rank::erank_bracket(sv.as_slice()?, tau, radius))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(effective_rank, m)?)?;
    m.add_function(wrap_pyfunction!(effective_ranks, m)?)?;
    m.add_function(wrap_pyfunction!(effective_rank_batch, m)?)?;
    m.add_function(wrap_pyfunction!(rank_window, m)?)?;
    m.add_function(wrap_pyfunction!(stable_rank, m)?)?;
    m.add_function(wrap_pyfunction!(stable_rank_batch, m)?)?;
    m.add_function(wrap_pyfunction!(erank_bracket, m)?)?;
    Ok(())
}
