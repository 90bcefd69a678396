//! Bindings for `crate::chain` and `crate::profile`: a chain pass fed chunk by chunk (3-D stacks or
//! lists of 2-D arrays, so that Python can stream a generator), and its recorded columns.

use super::arrays::{mat_ref, mat_refs, Array2, Array3};
use super::runtime::{enter_core, light, to_pyerr};
use crate::chain::{ChainEngine, ChainOptions, ChainRun, Timings};
use crate::chart::{Chart, Window};
use crate::profile::{self, ChartColumns, Profile, ProfileOptions, ProfileSink};
use crate::spectrum::{Element, Method};
use faer::MatRef;
use numpy::IntoPyArray;
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

fn put_chart(d: &Bound<'_, PyDict>, prefix: &str, name: &str, col: &ChartColumns) -> PyResult<()> {
    let py = d.py();
    d.set_item(
        format!("{prefix}alpha_{name}"),
        col.alpha.clone().into_pyarray(py),
    )?;
    d.set_item(
        format!("{prefix}window_lo_{name}"),
        col.window_lo.clone().into_pyarray(py),
    )?;
    d.set_item(
        format!("{prefix}window_hi_{name}"),
        col.window_hi.clone().into_pyarray(py),
    )?;
    d.set_item(
        format!("{prefix}epsilon_{name}"),
        col.epsilon.clone().into_pyarray(py),
    )?;
    d.set_item(
        format!("{prefix}hellinger_{name}"),
        col.hellinger.clone().into_pyarray(py),
    )?;
    Ok(())
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

    /// Every recorded column as a dict of numpy arrays (one entry per factor), plus the Mode F
    /// result: `product_log_sv`, `product_degraded`, `product_reason`.
    fn columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let r = &self.run;
        let p = &self.profile;
        let d = PyDict::new(py);
        d.set_item(
            "charts",
            p.charts.iter().map(|c| c.name()).collect::<Vec<_>>(),
        )?;
        d.set_item("input_width", r.input_width)?;
        d.set_item(
            "rows",
            r.shapes
                .iter()
                .map(|s| s.0)
                .collect::<Vec<_>>()
                .into_pyarray(py),
        )?;
        d.set_item(
            "cols",
            r.shapes
                .iter()
                .map(|s| s.1)
                .collect::<Vec<_>>()
                .into_pyarray(py),
        )?;
        d.set_item("log_top", r.factor_log_top.clone().into_pyarray(py))?;
        d.set_item("top_radial", r.factor_top_radial.clone().into_pyarray(py))?;
        d.set_item("log_rho", r.factor_log_rho.clone().into_pyarray(py))?;
        d.set_item(
            "stable_rank",
            p.factors.stable_rank.clone().into_pyarray(py),
        )?;
        for (tau, e) in profile::TAUS.iter().zip(&p.factors.erank) {
            d.set_item(
                format!("erank_{}", (tau * 100.0).round() as usize),
                e.clone().into_pyarray(py),
            )?;
        }
        for (c, col) in p.charts.iter().zip(&p.factors.charts) {
            put_chart(&d, "", c.name(), col)?;
        }
        d.set_item("prefix_log_top", r.prefix_log_top.clone().into_pyarray(py))?;
        d.set_item(
            "prefix_top_radial",
            r.prefix_top_radial.clone().into_pyarray(py),
        )?;
        d.set_item(
            "normalized_log_top",
            r.normalized_log_top.clone().into_pyarray(py),
        )?;
        d.set_item("slack", r.slack.clone().into_pyarray(py))?;
        d.set_item("prefix_width", p.prefixes.width.clone().into_pyarray(py))?;
        d.set_item(
            "prefix_energy_step",
            p.prefixes.energy_step.clone().into_pyarray(py),
        )?;
        d.set_item(
            "prefix_energy_kl",
            p.prefixes.energy_kl.clone().into_pyarray(py),
        )?;
        d.set_item(
            "prefix_ls_weight_norm",
            p.prefixes.ls_weight_norm.clone().into_pyarray(py),
        )?;
        for (i, c) in p.charts.iter().enumerate() {
            put_chart(&d, "prefix_", c.name(), &p.prefixes.charts[i])?;
            d.set_item(
                format!("prefix_residual_variation_{}", c.name()),
                p.prefixes.residual_variation[i].clone().into_pyarray(py),
            )?;
            d.set_item(
                format!("prefix_orbit_distance_{}", c.name()),
                p.prefixes.orbit_distance[i].clone().into_pyarray(py),
            )?;
        }
        for (k, col) in &r.ky_fan {
            d.set_item(format!("ky_fan_{k}"), col.clone().into_pyarray(py))?;
        }
        if let Some(f) = &r.product {
            d.set_item("product_log_sv", f.log_sv.clone().into_pyarray(py))?;
            d.set_item("product_degraded", f.degraded)?;
            d.set_item("product_reason", f.reason.clone())?;
        }
        Ok(d)
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ChainPass>()?;
    m.add_class::<ChainResult>()?;
    Ok(())
}
