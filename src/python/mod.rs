//! The pyo3 binding `gsalign._core` (cargo feature `python`).
//!
//! Each file here binds the core module of the same name: it extracts Python inputs into Rust
//! values, calls the core through [`runtime::enter_core`] (GIL released, interruptible), and
//! converts results to numpy arrays without copying. No mathematics lives here.

mod action;
mod arrays;
mod certify;
mod chain;
mod chart;
mod checkpoint;
mod distance;
mod nearidentity;
mod orbit;
mod rank;
mod runtime;
mod scan;
mod spectrum;

use pyo3::prelude::*;

/// Drops the cached thread pools in a forked child (their threads do not survive `fork`).
#[pyfunction]
fn _after_fork_in_child() {
    runtime::forget_pools();
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(_after_fork_in_child, m)?)?;
    spectrum::register(m)?;
    orbit::register(m)?;
    chart::register(m)?;
    rank::register(m)?;
    distance::register(m)?;
    chain::register(m)?;
    certify::register(m)?;
    action::register(m)?;
    nearidentity::register(m)?;
    checkpoint::register(m)?;
    scan::register(m)?;
    Ok(())
}
