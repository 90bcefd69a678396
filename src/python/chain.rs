//! Bindings for `crate::chain` and `crate::profile`: a chain pass fed chunk by chunk (3-D stacks or
//! lists of 2-D arrays, so that Python can stream a generator), and its recorded columns.

use super::arrays::{mat_ref, mat_refs, Array2, Array3};
use super::runtime::{enter_core, light, to_pyerr};
use crate::chain::{ChainEngine, ChainOptions, ChainRun, Timings};
use crate::chart::{Chart, Window};
use crate::profile::{self, ChartColumns, Profile, ProfileOptions, ProfileSink};
use crate::spectrum::{Element, Method};
use faer::MatRef;
use numpy::{IntoPyArray, PyArray1};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// A chain pass in progress: `push_stack` / `push_list` the factors in order, then `finish`.
#[pyclass(module = "gsalign._core")]
pub(crate) struct ChainPass {
    engine: Option<ChainEngine>,
    sink: Option<ProfileSink>,
    opts: ProfileOptions,
}

impl ChainPass {
    /// Pushes views of one dtype through the core, with the GIL released.
    fn push<T: Element>(
        &mut self,
        py: Python<'_>,
        mats: &[MatRef<'_, T>],
        n_threads: Option<usize>,
    ) -> PyResult<()> {
        let (Some(engine), Some(sink)) = (self.engine.as_mut(), self.sink.as_mut()) else {
            return Err(PyRuntimeError::new_err(
                "this chain pass has finished or failed; start a new one",
            ));
        };
        let opts = &self.opts;
        let r = enter_core(py, n_threads, |c| {
            engine.push(mats, c, &|s| profile::analyse(opts, s), &mut |u| {
                sink.push(u);
                Ok(())
            })
        });
        if r.is_err() {
            self.engine = None;
            self.sink = None;
        }
        r
    }
}

#[pymethods]
impl ChainPass {
    /// A new pass. `charts`: names among "ls", "top", "metric"; `window`: None (default LS
    /// window), ("ranks", lo, hi) or ("quantiles", tau_lo, tau_hi).
    #[new]
    #[pyo3(signature = (charts, window = None, product_spectrum = true, ky_fan = Vec::new(), method = "auto"))]
    fn new(
        py: Python<'_>,
        charts: Vec<String>,
        window: Option<(String, f64, f64)>,
        product_spectrum: bool,
        ky_fan: Vec<usize>,
        method: &str,
    ) -> PyResult<Self> {
        let charts = charts
            .iter()
            .map(|c| light(py, Chart::parse(c)))
            .collect::<PyResult<Vec<_>>>()?;
        let window = match window {
            None => Window::Default,
            Some((kind, lo, hi)) if kind == "ranks" => Window::Ranks {
                lo: lo as usize,
                hi: hi as usize,
            },
            Some((kind, lo, hi)) if kind == "quantiles" => Window::Quantiles { lo, hi },
            Some((kind, _, _)) => {
                return Err(to_pyerr(
                    py,
                    crate::Error::invalid(
                        "window",
                        format!("kind must be 'ranks' or 'quantiles', got {kind:?}"),
                    ),
                ))
            }
        };
        let engine = light(
            py,
            ChainEngine::new(ChainOptions {
                product_spectrum,
                ky_fan,
                method: light(py, Method::parse(method))?,
            }),
        )?;
        Ok(ChainPass {
            engine: Some(engine),
            sink: Some(ProfileSink::new(&charts)),
            opts: ProfileOptions { charts, window },
        })
    }

    /// Number of factors read so far.
    fn __len__(&self) -> usize {
        self.engine.as_ref().map_or(0, ChainEngine::len)
    }

    /// Pushes the factors of a 3-D stack (L, d_out, d_in).
    #[pyo3(signature = (a, n_threads = None))]
    fn push_stack(
        &mut self,
        py: Python<'_>,
        a: Array3<'_>,
        n_threads: Option<usize>,
    ) -> PyResult<()> {
        match &a {
            Array3::F32(x) => {
                let mats = mat_refs(x, "factors")?;
                self.push(py, &mats, n_threads)
            }
            Array3::F64(x) => {
                let mats = mat_refs(x, "factors")?;
                self.push(py, &mats, n_threads)
            }
        }
    }

    /// Pushes a list of 2-D factors (runs of equal dtype are pushed together).
    #[pyo3(signature = (mats, n_threads = None))]
    fn push_list(
        &mut self,
        py: Python<'_>,
        mats: Vec<Array2<'_>>,
        n_threads: Option<usize>,
    ) -> PyResult<()> {
        let mut i = 0;
        while i < mats.len() {
            let is64 = matches!(mats[i], Array2::F64(_));
            let j = (i..mats.len())
                .find(|&j| matches!(mats[j], Array2::F64(_)) != is64)
                .unwrap_or(mats.len());
            if is64 {
                let views = mats[i..j]
                    .iter()
                    .filter_map(|m| match m {
                        Array2::F64(x) => Some(mat_ref(x, "factors")),
                        Array2::F32(_) => None,
                    })
                    .collect::<PyResult<Vec<_>>>()?;
                self.push(py, &views, n_threads)?;
            } else {
                let views = mats[i..j]
                    .iter()
                    .filter_map(|m| match m {
                        Array2::F32(x) => Some(mat_ref(x, "factors")),
                        Array2::F64(_) => None,
                    })
                    .collect::<PyResult<Vec<_>>>()?;
                self.push(py, &views, n_threads)?;
            }
            i = j;
        }
        Ok(())
    }

    /// Ends the pass (Mode F's final Jacobi runs here).
    fn finish(&mut self, py: Python<'_>) -> PyResult<ChainResult> {
        let (Some(engine), Some(sink)) = (self.engine.take(), self.sink.take()) else {
            return Err(PyRuntimeError::new_err(
                "this chain pass has finished or failed; start a new one",
            ));
        };
        let timings = engine.timings();
        let run = enter_core(py, Some(1), |_| engine.finish())?;
        Ok(ChainResult {
            run,
            profile: sink.finish(),
            timings,
        })
    }
}

/// The recorded quantities of a finished chain pass.
#[pyclass(module = "gsalign._core", frozen)]
pub(crate) struct ChainResult {
    pub(crate) run: ChainRun,
    pub(crate) profile: Profile,
    timings: Timings,
}

/// A borrowed per-step column of a finished pass.
enum Column<'a> {
    F64(&'a [f64]),
    Usize(&'a [usize]),
    Rows,
    Cols,
}

impl ChainResult {
    /// Every per-step column, by name (borrowed; copied into numpy only when asked for).
    fn column_refs(&self) -> Vec<(String, Column<'_>)> {
        let r = &self.run;
        let p = &self.profile;
        let mut v: Vec<(String, Column<'_>)> = vec![
            ("rows".into(), Column::Rows),
            ("cols".into(), Column::Cols),
            ("log_top".into(), Column::F64(&r.factor_log_top)),
            ("top_radial".into(), Column::F64(&r.factor_top_radial)),
            ("log_rho".into(), Column::F64(&r.factor_log_rho)),
            ("stable_rank".into(), Column::F64(&p.factors.stable_rank)),
        ];
        for (tau, e) in profile::TAUS.iter().zip(&p.factors.erank) {
            v.push((
                format!("erank_{}", (tau * 100.0).round() as usize),
                Column::Usize(e),
            ));
        }
        for (c, col) in p.charts.iter().zip(&p.factors.charts) {
            push_chart(&mut v, "", c.name(), col);
        }
        v.push(("prefix_log_top".into(), Column::F64(&r.prefix_log_top)));
        v.push((
            "prefix_top_radial".into(),
            Column::F64(&r.prefix_top_radial),
        ));
        v.push((
            "normalized_log_top".into(),
            Column::F64(&r.normalized_log_top),
        ));
        v.push(("slack".into(), Column::F64(&r.slack)));
        v.push(("prefix_width".into(), Column::Usize(&p.prefixes.width)));
        v.push((
            "prefix_energy_step".into(),
            Column::F64(&p.prefixes.energy_step),
        ));
        v.push((
            "prefix_energy_kl".into(),
            Column::F64(&p.prefixes.energy_kl),
        ));
        v.push((
            "prefix_ls_weight_norm".into(),
            Column::F64(&p.prefixes.ls_weight_norm),
        ));
        for (i, c) in p.charts.iter().enumerate() {
            push_chart(&mut v, "prefix_", c.name(), &p.prefixes.charts[i]);
            v.push((
                format!("prefix_residual_variation_{}", c.name()),
                Column::F64(&p.prefixes.residual_variation[i]),
            ));
            v.push((
                format!("prefix_orbit_distance_{}", c.name()),
                Column::F64(&p.prefixes.orbit_distance[i]),
            ));
        }
        for (k, col) in &r.ky_fan {
            v.push((format!("ky_fan_{k}"), Column::F64(col)));
        }
        v
    }
}

fn push_chart<'a>(
    v: &mut Vec<(String, Column<'a>)>,
    prefix: &str,
    name: &str,
    col: &'a ChartColumns,
) {
    v.push((format!("{prefix}alpha_{name}"), Column::F64(&col.alpha)));
    v.push((
        format!("{prefix}window_lo_{name}"),
        Column::Usize(&col.window_lo),
    ));
    v.push((
        format!("{prefix}window_hi_{name}"),
        Column::Usize(&col.window_hi),
    ));
    v.push((format!("{prefix}epsilon_{name}"), Column::F64(&col.epsilon)));
    v.push((
        format!("{prefix}hellinger_{name}"),
        Column::F64(&col.hellinger),
    ));
}

#[pymethods]
impl ChainResult {
    /// Number of factors L.
    fn __len__(&self) -> usize {
        self.run.len()
    }

    /// (seconds in the serial part, seconds in the whole pass).
    fn timings(&self) -> (f64, f64) {
        (self.timings.serial, self.timings.total)
    }

    /// The Mode F result (log singular values of P_L, degraded flag, reason), or None.
    fn product<'py>(&self, py: Python<'py>) -> Option<(Bound<'py, PyArray1<f64>>, bool, String)> {
        self.run.product.as_ref().map(|f| {
            (
                PyArray1::from_slice(py, &f.log_sv),
                f.degraded,
                f.reason.clone(),
            )
        })
    }

    /// The names of the per-step columns.
    fn column_names(&self) -> Vec<String> {
        self.column_refs().into_iter().map(|(n, _)| n).collect()
    }

    /// Per-step columns as a dict of numpy arrays (copies; one entry per factor): those named in
    /// `names`, or all of them; plus `charts`, `input_width` and the Mode F result
    /// (`product_log_sv`, `product_degraded`, `product_reason`) when `names` is None.
    #[pyo3(signature = (names = None))]
    fn columns<'py>(
        &self,
        py: Python<'py>,
        names: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (name, col) in self.column_refs() {
            if names.as_ref().is_some_and(|n| !n.contains(&name)) {
                continue;
            }
            let shapes = &self.run.shapes;
            match col {
                Column::F64(x) => d.set_item(name, PyArray1::from_slice(py, x))?,
                Column::Usize(x) => d.set_item(name, PyArray1::from_slice(py, x))?,
                Column::Rows | Column::Cols => {
                    let rows = matches!(col, Column::Rows);
                    let dims: Vec<usize> = shapes
                        .iter()
                        .map(|s| if rows { s.0 } else { s.1 })
                        .collect();
                    d.set_item(name, dims.into_pyarray(py))?
                }
            }
        }
        if names.is_none() {
            let p = &self.profile;
            d.set_item(
                "charts",
                p.charts.iter().map(|c| c.name()).collect::<Vec<_>>(),
            )?;
            d.set_item("input_width", self.run.input_width)?;
            if let Some(f) = &self.run.product {
                d.set_item("product_log_sv", PyArray1::from_slice(py, &f.log_sv))?;
                d.set_item("product_degraded", f.degraded)?;
                d.set_item("product_reason", f.reason.clone())?;
            }
        }
        Ok(d)
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ChainPass>()?;
    m.add_class::<ChainResult>()?;
    Ok(())
}
