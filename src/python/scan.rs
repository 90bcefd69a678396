//! Bindings for `crate::scan`: scan a checkpoint on disk or tensors held in memory, and hand the
//! per-layer report back as columns (numpy arrays for numbers, lists for strings).

use super::runtime::{enter_core, light};
use crate::chart::Chart;
use crate::checkpoint::{Checkpoint, FloatType, TensorView};
use crate::scan::{
    checkpoint_meta, depth_order, plan, scan, LayerKind, LayerReport, Skipped, TensorMeta,
    TensorSource,
};
use numpy::{IntoPyArray, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Calls `progress(done, total, name)` from worker threads; remembers the first exception.
struct Progress<'a> {
    callback: Option<&'a Py<PyAny>>,
    done: AtomicUsize,
    failure: Mutex<Option<PyErr>>,
}

impl Progress<'_> {
    fn tick(&self, total: usize, name: &str) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let Some(cb) = self.callback else { return };
        Python::attach(|py| {
            if let Err(e) = cb.call1(py, (done, total, name)) {
                let mut slot = self.failure.lock().unwrap_or_else(|p| p.into_inner());
                slot.get_or_insert(e);
            }
        });
    }
}

fn parse_charts(py: Python<'_>, charts: &[String]) -> PyResult<Vec<Chart>> {
    charts.iter().map(|c| light(py, Chart::parse(c))).collect()
}

/// Plans and scans `source` with the GIL released; `names` restricts the tensors.
#[allow(clippy::too_many_arguments)]
fn run<'py, S: TensorSource + ?Sized>(
    py: Python<'py>,
    source: &S,
    metas: &[TensorMeta<'_>],
    dtypes: &[&str],
    names: Option<HashSet<String>>,
    charts: Vec<String>,
    n_threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let charts = parse_charts(py, &charts)?;
    let keep = |n: &str| names.as_ref().map_or(true, |s| s.contains(n));
    let (plans, skipped) = plan(metas, &keep);
    let progress = Progress {
        callback: progress.as_ref(),
        done: AtomicUsize::new(0),
        failure: Mutex::new(None),
    };
    let total = plans.len();
    let reports = enter_core(py, n_threads, |cancel| {
        scan(source, &plans, &charts, cancel, &|i| {
            progress.tick(total, &plans[i].name)
        })
    })?;
    if let Some(e) = progress
        .failure
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
    {
        return Err(e);
    }
    columns(py, &reports, &skipped, dtypes, &charts)
}

/// Scans a checkpoint on disk: a `.safetensors` file, a directory or a shard index.
#[pyfunction]
#[pyo3(signature = (path, names = None, charts = vec!["ls".to_owned(), "top".to_owned()], n_threads = None, progress = None))]
fn scan_path<'py>(
    py: Python<'py>,
    path: PathBuf,
    names: Option<HashSet<String>>,
    charts: Vec<String>,
    n_threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let ck = enter_core(py, Some(1), |_| Checkpoint::open(&path))?;
    let metas = checkpoint_meta(&ck);
    let dtypes: Vec<&str> = metas.iter().map(|m| m.dtype).collect();
    let d = run(py, &ck, &metas, &dtypes, names, charts, n_threads, progress)?;
    let files: Vec<String> = ck.files().iter().map(|f| f.display().to_string()).collect();
    d.set_item("files", files)?;
    Ok(d)
}

/// Scans tensors held in memory: `(name, dtype, shape, data)` with `data` the tensor's
/// little-endian bytes as a contiguous 1-D uint8 array and `dtype` one of F64, F32, F16, BF16
/// (other dtypes are listed as skipped).
#[pyfunction]
#[pyo3(signature = (tensors, names = None, charts = vec!["ls".to_owned(), "top".to_owned()], n_threads = None, progress = None))]
fn scan_tensors<'py>(
    py: Python<'py>,
    tensors: Vec<(String, String, Vec<usize>, PyReadonlyArray1<'py, u8>)>,
    names: Option<HashSet<String>>,
    charts: Vec<String>,
    n_threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let mut slices = Vec::with_capacity(tensors.len());
    for (name, _, _, data) in &tensors {
        slices.push(data.as_slice().map_err(|_| {
            pyo3::exceptions::PyValueError::new_err(format!(
                "tensors: the data of {name:?} is not a contiguous uint8 array"
            ))
        })?);
    }
    let metas: Vec<TensorMeta<'_>> = tensors
        .iter()
        .map(|(name, dtype, shape, _)| TensorMeta { name, dtype, shape })
        .collect();
    // Tensors of other dtypes never reach the scan (the planner skips them); a placeholder view
    // keeps the indices aligned.
    let views: Vec<TensorView<'_>> = tensors
        .iter()
        .zip(&slices)
        .map(|((name, dtype, shape, _), bytes)| TensorView {
            name,
            file: "<memory>",
            dtype: FloatType::parse(dtype).unwrap_or(FloatType::F32),
            shape,
            bytes,
        })
        .collect();
    for (v, (name, dtype, _, _)) in views.iter().zip(&tensors) {
        let elements: usize = v.shape.iter().product();
        if FloatType::parse(dtype).is_some() && elements * v.dtype.size() != v.bytes.len() {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "tensors: {name:?} has {} bytes, but {dtype} with shape {:?} needs {}",
                v.bytes.len(),
                v.shape,
                elements * v.dtype.size()
            )));
        }
    }
    let dtypes: Vec<&str> = metas.iter().map(|m| m.dtype).collect();
    let d = run(
        py,
        &views[..],
        &metas,
        &dtypes,
        names,
        charts,
        n_threads,
        progress,
    )?;
    d.set_item("files", vec!["<memory>"])?;
    Ok(d)
}

/// The per-layer report as columns.
fn columns<'py>(
    py: Python<'py>,
    reports: &[LayerReport],
    skipped: &[Skipped],
    dtypes: &[&str],
    charts: &[Chart],
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let col_f = |name: &str, f: &dyn Fn(&LayerReport) -> Option<f64>| -> PyResult<()> {
        let v: Vec<f64> = reports.iter().map(|r| f(r).unwrap_or(f64::NAN)).collect();
        d.set_item(name, v.into_pyarray(py))
    };
    let col_i = |name: &str, f: &dyn Fn(&LayerReport) -> Option<i64>| -> PyResult<()> {
        let v: Vec<i64> = reports.iter().map(|r| f(r).unwrap_or(-1)).collect();
        d.set_item(name, v.into_pyarray(py))
    };
    let ok = |r: &LayerReport| r.result.as_ref().ok().cloned();
    d.set_item(
        "name",
        reports
            .iter()
            .map(|r| r.plan.name.clone())
            .collect::<Vec<_>>(),
    )?;
    col_i("block", &|r| r.plan.block.map(|b| b as i64))?;
    d.set_item(
        "kind",
        reports
            .iter()
            .map(|r| r.plan.kind.name())
            .collect::<Vec<_>>(),
    )?;
    d.set_item(
        "dtype",
        reports
            .iter()
            .map(|r| dtypes[r.plan.tensor])
            .collect::<Vec<_>>(),
    )?;
    d.set_item(
        "tensor_shape",
        reports
            .iter()
            .map(|r| {
                let dims: Vec<String> = r.plan.tensor_shape.iter().map(|d| d.to_string()).collect();
                dims.join("x")
            })
            .collect::<Vec<_>>(),
    )?;
    col_i("m", &|r| Some(r.plan.shape().0 as i64))?;
    col_i("n", &|r| Some(r.plan.shape().1 as i64))?;
    col_i(
        "k",
        &|r| Some(r.plan.shape().0.min(r.plan.shape().1) as i64),
    )?;
    col_f("sv_max", &|r| ok(r).map(|m| m.sv[0]))?;
    col_f("top_radial", &|r| ok(r).map(|m| m.top_radial))?;
    col_i("numerical_rank", &|r| {
        ok(r).map(|m| m.numerical_rank as i64)
    })?;
    for (c, chart) in charts.iter().enumerate() {
        let fit = |r: &LayerReport| ok(r).and_then(|m| m.charts[c].clone().ok());
        let tag = chart.name();
        col_f(&format!("alpha_{tag}"), &|r| fit(r).map(|f| f.alpha))?;
        col_f(&format!("epsilon_{tag}"), &|r| fit(r).map(|f| f.epsilon))?;
        col_f(&format!("hellinger_{tag}"), &|r| {
            fit(r).map(|f| f.hellinger)
        })?;
        if *chart == Chart::Ls {
            col_i("window_ls_lo", &|r| fit(r).map(|f| f.window.0 as i64))?;
            col_i("window_ls_hi", &|r| fit(r).map(|f| f.window.1 as i64))?;
        }
    }
    for (j, tag) in ["erank_50", "erank_90", "erank_99"].iter().enumerate() {
        col_i(tag, &|r| ok(r).map(|m| m.erank[j] as i64))?;
    }
    col_i("rank_window_lo", &|r| ok(r).map(|m| m.rank_window.0 as i64))?;
    col_i("rank_window_hi", &|r| ok(r).map(|m| m.rank_window.1 as i64))?;
    col_f("stable_rank", &|r| ok(r).map(|m| m.stable_rank))?;
    col_f("ww_alpha", &|r| ok(r).map(|m| m.esd.alpha))?;
    col_f("ww_xmin", &|r| ok(r).map(|m| m.esd.xmin))?;
    col_f("ww_D", &|r| ok(r).map(|m| m.esd.ks_distance))?;
    col_f("alpha_weighted", &|r| ok(r).map(|m| m.esd.alpha_weighted))?;
    col_f("log_norm", &|r| ok(r).map(|m| m.esd.log_norm))?;
    col_f("log_spectral_norm", &|r| {
        ok(r).map(|m| m.esd.log_spectral_norm)
    })?;
    col_f("entropy", &|r| ok(r).map(|m| m.esd.entropy))?;
    let errors: Vec<String> = reports
        .iter()
        .map(|r| match &r.result {
            Err(e) => e.clone(),
            Ok(m) => m
                .charts
                .iter()
                .filter_map(|c| c.as_ref().err().cloned())
                .collect::<Vec<_>>()
                .join("; "),
        })
        .collect();
    d.set_item("error", errors)?;
    let sv = PyList::empty(py);
    for r in reports {
        let v = r.result.as_ref().map(|m| m.sv.clone()).unwrap_or_default();
        sv.append(v.into_pyarray(py))?;
    }
    d.set_item("sv", sv)?;
    d.set_item(
        "skipped",
        skipped
            .iter()
            .map(|s| (s.name.clone(), s.reason.clone()))
            .collect::<Vec<_>>(),
    )?;
    Ok(d)
}

/// The permutation that puts layers (names and kind names, as in a scan's columns) in model-depth
/// order: the rule of every scan, for callers that merge partial scans.
#[pyfunction]
fn layer_depth_order(names: Vec<String>, kinds: Vec<String>) -> PyResult<Vec<usize>> {
    if names.len() != kinds.len() {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "kinds: {} kinds for {} names",
            kinds.len(),
            names.len()
        )));
    }
    let layers = names
        .iter()
        .zip(&kinds)
        .map(|(n, k)| {
            LayerKind::parse(k)
                .map(|kind| (n.as_str(), kind))
                .ok_or_else(|| {
                    pyo3::exceptions::PyValueError::new_err(format!(
                        "kinds: unknown layer kind {k:?}"
                    ))
                })
        })
        .collect::<PyResult<Vec<_>>>()?;
    Ok(depth_order(&layers))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(layer_depth_order, m)?)?;
    m.add_function(wrap_pyfunction!(scan_path, m)?)?;
    m.add_function(wrap_pyfunction!(scan_tensors, m)?)?;
    Ok(())
}
