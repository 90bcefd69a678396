//! Bindings for `crate::chart`: power-law chart fits of one spectrum or a batch.
//!
//! The window arrives as at most one of `window_ranks` (1-based inclusive ranks) and
//! `window_quantiles` (effective-rank quantiles); the Python layer (`gsalign.chart`) decides
//! which from what the user passed.

use super::runtime::{enter_core, enter_core_single, light};
use crate::chart::{self, Chart, Fit, Window};
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The core window from the two optional Python arguments.
fn window(
    py: Python<'_>,
    ranks: Option<(usize, usize)>,
    quantiles: Option<(f64, f64)>,
) -> PyResult<Window> {
    match (ranks, quantiles) {
        (None, None) => Ok(Window::Default),
        (Some((lo, hi)), None) => Ok(Window::Ranks { lo, hi }),
        (None, Some((lo, hi))) => Ok(Window::Quantiles { lo, hi }),
        (Some(_), Some(_)) => light(
            py,
            Err(crate::Error::invalid(
                "window",
                "give ranks or quantiles, not both",
            )),
        ),
    }
}

type FitTuple = (f64, f64, &'static str, (usize, usize), f64, f64);

fn to_tuple(f: Fit) -> FitTuple {
    (
        f.alpha,
        f.beta,
        f.chart.name(),
        f.window,
        f.epsilon,
        f.hellinger,
    )
}

/// Fits a power-law chart to one descending spectrum:
/// (alpha, beta, chart, (lo, hi), epsilon, hellinger).
#[pyfunction]
#[pyo3(signature = (sv, chart = "ls", window_ranks = None, window_quantiles = None))]
fn fit_power_law(
    py: Python<'_>,
    sv: PyReadonlyArray1<'_, f64>,
    chart: &str,
    window_ranks: Option<(usize, usize)>,
    window_quantiles: Option<(f64, f64)>,
) -> PyResult<FitTuple> {
    let chart = light(py, Chart::parse(chart))?;
    let window = window(py, window_ranks, window_quantiles)?;
    let sv = sv.as_slice()?;
    let fit = enter_core_single(py, |_| chart::fit(sv, chart, window))?;
    Ok(to_tuple(fit))
}

/// Fits a power-law chart to every spectrum of a list, in parallel; a dict of columns
/// alpha, beta, epsilon, hellinger (float64) and window_lo, window_hi (int).
#[pyfunction]
#[pyo3(signature = (spectra, chart = "ls", window_ranks = None, window_quantiles = None, n_threads = None))]
fn fit_power_law_batch<'py>(
    py: Python<'py>,
    spectra: Vec<PyReadonlyArray1<'py, f64>>,
    chart: &str,
    window_ranks: Option<(usize, usize)>,
    window_quantiles: Option<(f64, f64)>,
    n_threads: Option<usize>,
) -> PyResult<Bound<'py, PyDict>> {
    let chart = light(py, Chart::parse(chart))?;
    let window = window(py, window_ranks, window_quantiles)?;
    let rows = spectra
        .iter()
        .map(|s| Ok(s.as_slice()?.to_vec()))
        .collect::<PyResult<Vec<Vec<f64>>>>()?;
    let fits = enter_core(py, n_threads, |c| chart::fit_batch(&rows, chart, window, c))?;
    let d = PyDict::new(py);
    let col = |f: fn(&Fit) -> f64| fits.iter().map(f).collect::<Vec<f64>>();
    d.set_item("alpha", col(|f| f.alpha).into_pyarray(py))?;
    d.set_item("beta", col(|f| f.beta).into_pyarray(py))?;
    d.set_item("epsilon", col(|f| f.epsilon).into_pyarray(py))?;
    d.set_item("hellinger", col(|f| f.hellinger).into_pyarray(py))?;
    d.set_item(
        "window_lo",
        fits.iter()
            .map(|f| f.window.0)
            .collect::<Vec<_>>()
            .into_pyarray(py),
    )?;
    d.set_item(
        "window_hi",
        fits.iter()
            .map(|f| f.window.1)
            .collect::<Vec<_>>()
            .into_pyarray(py),
    )?;
    Ok(d)
}

/// LS weights w_i = (ℓ_i − ℓ̄_W)/Σ(ℓ_j − ℓ̄_W)² on the window lo..=hi.
#[pyfunction]
fn ls_weights(py: Python<'_>, lo: usize, hi: usize) -> PyResult<Bound<'_, PyArray1<f64>>> {
    Ok(light(py, chart::ls_weights(lo, hi))?.into_pyarray(py))
}

/// Hellinger residual vector e = √p − √p_k(α).
#[pyfunction]
fn residual_vector<'py>(
    py: Python<'py>,
    sv: PyReadonlyArray1<'py, f64>,
    alpha: f64,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    Ok(light(py, chart::residual_vector(sv.as_slice()?, alpha))?.into_pyarray(py))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fit_power_law, m)?)?;
    m.add_function(wrap_pyfunction!(fit_power_law_batch, m)?)?;
    m.add_function(wrap_pyfunction!(ls_weights, m)?)?;
    m.add_function(wrap_pyfunction!(residual_vector, m)?)?;
    Ok(())
}
