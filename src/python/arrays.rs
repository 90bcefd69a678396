//! Arrays in: numpy arrays of any layout viewed as faer matrices without copying.
//!
//! The Python layer hands over aligned `float32`/`float64` arrays in native byte order whose
//! strides are multiples of the item size (it copies the rare array that is not). Here each 2-D
//! slice becomes a `faer::MatRef` over the numpy buffer, with the array's own (possibly negative)
//! strides. The readonly borrow held by the caller keeps the buffer alive and unmodified while
//! the core reads it with the GIL released.

use numpy::{
    Element, PyArray2, PyArray3, PyArrayMethods, PyReadonlyArray2, PyReadonlyArray3,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// A 2-D array of either floating dtype.
#[derive(FromPyObject)]
pub(crate) enum Array2<'py> {
    /// float32
    F32(PyReadonlyArray2<'py, f32>),
    /// float64
    F64(PyReadonlyArray2<'py, f64>),
}

/// A 3-D array of either floating dtype.
#[derive(FromPyObject)]
pub(crate) enum Array3<'py> {
    /// float32
    F32(PyReadonlyArray3<'py, f32>),
    /// float64
    F64(PyReadonlyArray3<'py, f64>),
}

/// Element strides from byte strides.
fn element_strides<T>(byte_strides: &[isize], arg: &str) -> PyResult<Vec<isize>> {
    let size = std::mem::size_of::<T>() as isize;
    byte_strides
        .iter()
        .map(|&s| {
            if s % size == 0 {
                Ok(s / size)
            } else {
                Err(PyValueError::new_err(format!(
                    "{arg}: strides {byte_strides:?} are not multiples of the item size {size}"
                )))
            }
        })
        .collect()
}

/// A view of a 2-D numpy array as a faer matrix.
pub(crate) fn mat_ref<'a, T: Element>(
    a: &'a PyReadonlyArray2<'_, T>,
    arg: &str,
) -> PyResult<faer::MatRef<'a, T>> {
    let arr: &Bound<'_, PyArray2<T>> = a;
    let shape = arr.shape();
    let st = element_strides::<T>(arr.strides(), arg)?;
    // SAFETY: the pointer, shape and element strides describe the live numpy buffer, which the
    // readonly borrow `a` keeps alive and immutable for 'a.
    Ok(unsafe {
        faer::MatRef::from_raw_parts(arr.data() as *const T, shape[0], shape[1], st[0], st[1])
    })
}

/// Views of the L matrices of a 3-D numpy array (L, m, n).
pub(crate) fn mat_refs<'a, T: Element>(
    a: &'a PyReadonlyArray3<'_, T>,
    arg: &str,
) -> PyResult<Vec<faer::MatRef<'a, T>>> {
    let arr: &Bound<'_, PyArray3<T>> = a;
    let shape = arr.shape().to_vec();
    let st = element_strides::<T>(arr.strides(), arg)?;
    let base = arr.data() as *const T;
    Ok((0..shape[0])
        .map(|l| {
            // SAFETY: as in `mat_ref`; slice l starts l * st[0] elements from the base pointer,
            // which stays inside the buffer for l < L.
            unsafe {
                faer::MatRef::from_raw_parts(
                    base.offset(l as isize * st[0]),
                    shape[1],
                    shape[2],
                    st[1],
                    st[2],
                )
            }
        })
        .collect())
}
