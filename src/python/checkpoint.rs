//! Bindings for `crate::checkpoint`: the validated tensor list of a safetensors checkpoint.

use super::runtime::enter_core;
use crate::checkpoint::Checkpoint;
use pyo3::prelude::*;
use std::path::PathBuf;

/// One tensor: (name, dtype, shape, file).
type TensorInfo = (String, String, Vec<usize>, String);

/// (name, dtype, shape, file) of every tensor of a checkpoint (a `.safetensors` file, a directory
/// or a shard index), after validating every header. Raises `CheckpointError`.
#[pyfunction]
fn checkpoint_tensors(py: Python<'_>, path: PathBuf) -> PyResult<Vec<TensorInfo>> {
    enter_core(py, Some(1), |_| {
        let ck = Checkpoint::open(&path)?;
        let files = ck.files();
        Ok(ck
            .tensors()
            .iter()
            .map(|e| {
                (
                    e.name.clone(),
                    e.dtype.clone(),
                    e.shape.clone(),
                    files[e.file].display().to_string(),
                )
            })
            .collect())
    })
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(checkpoint_tensors, m)?)?;
    Ok(())
}
