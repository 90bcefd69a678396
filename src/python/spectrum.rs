//! Bindings for `crate::spectrum`: singular values and per-matrix spectra of matrices and batches.

use super::arrays::{mat_ref, mat_refs, Array2, Array3};
use super::runtime::{enter_core, enter_core_brief, enter_core_single, light};
use crate::parallel::try_map;
use crate::spectrum::{self, Element, Method, Spectrum};
use faer::MatRef;
use numpy::{IntoPyArray, PyArray2, PyArrayMethods, PyReadonlyArray1, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// One matrix of either dtype, viewed without copying.
#[derive(Clone, Copy)]
enum AnyMat<'a> {
    F32(MatRef<'a, f32>),
    F64(MatRef<'a, f64>),
}

impl<'a> AnyMat<'a> {
    fn from_array(a: &'a Array2<'_>, arg: &str) -> PyResult<Self> {
        Ok(match a {
            Array2::F32(x) => AnyMat::F32(mat_ref(x, arg)?),
            Array2::F64(x) => AnyMat::F64(mat_ref(x, arg)?),
        })
    }

    fn from_arrays(mats: &'a [Array2<'_>]) -> PyResult<Vec<Self>> {
        mats.iter().map(|a| AnyMat::from_array(a, "a")).collect()
    }

    fn shape(&self) -> (usize, usize) {
        match self {
            AnyMat::F32(a) => a.shape(),
            AnyMat::F64(a) => a.shape(),
        }
    }

    fn singular_values(&self, method: Method, index: usize) -> crate::Result<AnySv> {
        Ok(match self {
            AnyMat::F32(a) => AnySv::F32(round(spectrum::singular_values_f64(
                *a, method, "a", index,
            )?)),
            AnyMat::F64(a) => AnySv::F64(spectrum::singular_values_f64(*a, method, "a", index)?),
        })
    }

    fn spectrum(&self, method: Method, index: usize) -> crate::Result<Spectrum> {
        let sv = match self {
            AnyMat::F32(a) => spectrum::singular_values_f64(*a, method, "a", index)?,
            AnyMat::F64(a) => spectrum::singular_values_f64(*a, method, "a", index)?,
        };
        if sv[0] == 0.0 {
            return Err(crate::Error::ZeroMatrix {
                arg: "a".into(),
                index,
            });
        }
        let (m, n) = self.shape();
        Spectrum::from_singular_values(sv, m, n)
    }
}

fn round<T: Element>(sv: Vec<f64>) -> Vec<T> {
    sv.into_iter().map(T::from_f64).collect()
}

/// Singular values of either dtype.
enum AnySv {
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl AnySv {
    fn into_py(self, py: Python<'_>) -> Bound<'_, PyAny> {
        match self {
            AnySv::F32(v) => v.into_pyarray(py).into_any(),
            AnySv::F64(v) => v.into_pyarray(py).into_any(),
        }
    }
}

/// Rows of equal length → an (L, k) array.
fn stack<'py, T: numpy::Element + Copy>(
    py: Python<'py>,
    rows: Vec<Vec<T>>,
    k: usize,
) -> Bound<'py, PyArray2<T>> {
    let l = rows.len();
    let flat: Vec<T> = rows.into_iter().flatten().collect();
    flat.into_pyarray(py)
        .reshape([l, k])
        .expect("length is l * k by construction")
}

/// m·n·min(m, n) below which one decomposition takes well under 0.1 s and runs without a
/// Ctrl-C watcher (see [`enter_core_brief`]).
const BRIEF_WORK: f64 = 2e7;

/// Descending singular values of one 2-D array (float32 or float64, result in the same dtype).
#[pyfunction]
#[pyo3(signature = (a, method = "auto"))]
fn singular_values<'py>(
    py: Python<'py>,
    a: Array2<'py>,
    method: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let method = light(py, Method::parse(method))?;
    let m = AnyMat::from_array(&a, "a")?;
    let (rows, cols) = m.shape();
    let work = rows as f64 * cols as f64 * rows.min(cols) as f64;
    let sv = if work < BRIEF_WORK {
        enter_core_brief(py, |_| m.singular_values(method, 0))?
    } else {
        enter_core_single(py, |_| m.singular_values(method, 0))?
    };
    Ok(sv.into_py(py))
}

/// Singular values of a 3-D stack (L, m, n) → (L, k) in the input dtype, parallel across matrices.
#[pyfunction]
#[pyo3(signature = (a, method = "auto", n_threads = None))]
fn singular_values_stack<'py>(
    py: Python<'py>,
    a: Array3<'py>,
    method: &str,
    n_threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let method = light(py, Method::parse(method))?;
    Ok(match &a {
        Array3::F32(x) => {
            let k = x.shape()[1].min(x.shape()[2]);
            let mats = mat_refs(x, "a")?;
            let rows = enter_core(py, n_threads, |c| {
                spectrum::singular_values_batch(&mats, method, c)
            })?;
            stack(py, rows, k).into_any()
        }
        Array3::F64(x) => {
            let k = x.shape()[1].min(x.shape()[2]);
            let mats = mat_refs(x, "a")?;
            let rows = enter_core(py, n_threads, |c| {
                spectrum::singular_values_batch(&mats, method, c)
            })?;
            stack(py, rows, k).into_any()
        }
    })
}

/// Singular values of a list of 2-D arrays of any shapes and dtypes → list of 1-D arrays.
#[pyfunction]
#[pyo3(signature = (mats, method = "auto", n_threads = None))]
fn singular_values_list<'py>(
    py: Python<'py>,
    mats: Vec<Array2<'py>>,
    method: &str,
    n_threads: Option<usize>,
) -> PyResult<Bound<'py, PyList>> {
    let method = light(py, Method::parse(method))?;
    let views = AnyMat::from_arrays(&mats)?;
    let out = enter_core(py, n_threads, |c| {
        try_map(&views, c, |i, m| m.singular_values(method, i))
    })?;
    PyList::new(py, out.into_iter().map(|sv| sv.into_py(py)))
}

/// Spectra of a list of 2-D arrays as a dict of per-matrix lists:
/// sv, m, n, numerical_rank, cartan, energy, top_radial, stable_rank.
#[pyfunction]
#[pyo3(signature = (mats, method = "auto", n_threads = None))]
fn spectra<'py>(
    py: Python<'py>,
    mats: Vec<Array2<'py>>,
    method: &str,
    n_threads: Option<usize>,
) -> PyResult<Bound<'py, PyDict>> {
    let method = light(py, Method::parse(method))?;
    let views = AnyMat::from_arrays(&mats)?;
    let out = enter_core(py, n_threads, |c| {
        try_map(&views, c, |i, m| m.spectrum(method, i))
    })?;
    spectra_dict(py, out)
}

/// Spectra of a 3-D stack, as [`spectra`].
#[pyfunction]
#[pyo3(signature = (a, method = "auto", n_threads = None))]
fn spectra_stack<'py>(
    py: Python<'py>,
    a: Array3<'py>,
    method: &str,
    n_threads: Option<usize>,
) -> PyResult<Bound<'py, PyDict>> {
    let method = light(py, Method::parse(method))?;
    let views: Vec<AnyMat<'_>> = match &a {
        Array3::F32(x) => mat_refs(x, "a")?.into_iter().map(AnyMat::F32).collect(),
        Array3::F64(x) => mat_refs(x, "a")?.into_iter().map(AnyMat::F64).collect(),
    };
    let out = enter_core(py, n_threads, |c| {
        try_map(&views, c, |i, m| m.spectrum(method, i))
    })?;
    spectra_dict(py, out)
}

fn spectra_dict(py: Python<'_>, out: Vec<Spectrum>) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    d.set_item(
        "m",
        out.iter().map(|s| s.m).collect::<Vec<_>>().into_pyarray(py),
    )?;
    d.set_item(
        "n",
        out.iter().map(|s| s.n).collect::<Vec<_>>().into_pyarray(py),
    )?;
    d.set_item(
        "numerical_rank",
        out.iter()
            .map(|s| s.numerical_rank)
            .collect::<Vec<_>>()
            .into_pyarray(py),
    )?;
    d.set_item(
        "top_radial",
        out.iter()
            .map(|s| s.top_radial)
            .collect::<Vec<_>>()
            .into_pyarray(py),
    )?;
    d.set_item(
        "stable_rank",
        out.iter()
            .map(|s| s.stable_rank)
            .collect::<Vec<_>>()
            .into_pyarray(py),
    )?;
    let mut sv = Vec::with_capacity(out.len());
    let mut cartan = Vec::with_capacity(out.len());
    let mut energy = Vec::with_capacity(out.len());
    for s in out {
        sv.push(s.sv.into_pyarray(py));
        cartan.push(s.cartan.into_pyarray(py));
        energy.push(s.energy.into_pyarray(py));
    }
    d.set_item("sv", PyList::new(py, sv)?)?;
    d.set_item("cartan", PyList::new(py, cartan)?)?;
    d.set_item("energy", PyList::new(py, energy)?)?;
    Ok(d)
}

/// Top-radial coordinate r = ½ log(k s_1²/‖A‖_F²) of a descending spectrum.
#[pyfunction]
fn top_radial(py: Python<'_>, sv: PyReadonlyArray1<'_, f64>) -> PyResult<f64> {
    light(py, spectrum::top_radial(sv.as_slice()?))
}

/// Normalised Cartan coordinate â_i = log s_i(Â) of a descending spectrum.
#[pyfunction]
fn normalized_cartan<'py>(
    py: Python<'py>,
    sv: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(light(py, spectrum::normalized_cartan(sv.as_slice()?))?
        .into_pyarray(py)
        .into_any())
}

/// Energy distribution p_i = s_i²/Σ s_j² of a descending spectrum.
#[pyfunction]
fn energy<'py>(py: Python<'py>, sv: PyReadonlyArray1<'py, f64>) -> PyResult<Bound<'py, PyAny>> {
    Ok(light(py, spectrum::energy(sv.as_slice()?))?
        .into_pyarray(py)
        .into_any())
}

/// Numerical rank #{s_i > max(m, n)·ε·s_1}.
#[pyfunction]
fn numerical_rank(sv: PyReadonlyArray1<'_, f64>, m: usize, n: usize) -> PyResult<usize> {
    Ok(spectrum::numerical_rank(sv.as_slice()?, m, n))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(singular_values, m)?)?;
    m.add_function(wrap_pyfunction!(singular_values_stack, m)?)?;
    m.add_function(wrap_pyfunction!(singular_values_list, m)?)?;
    m.add_function(wrap_pyfunction!(spectra, m)?)?;
    m.add_function(wrap_pyfunction!(spectra_stack, m)?)?;
    m.add_function(wrap_pyfunction!(top_radial, m)?)?;
    m.add_function(wrap_pyfunction!(normalized_cartan, m)?)?;
    m.add_function(wrap_pyfunction!(energy, m)?)?;
    m.add_function(wrap_pyfunction!(numerical_rank, m)?)?;
    Ok(())
}
