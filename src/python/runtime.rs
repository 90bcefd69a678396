//! The one door into the core: release the GIL, run on a sized rayon pool, stay interruptible,
//! and map core errors onto the Python exception hierarchy of `gsalign.exceptions`.

use crate::error::Error;
use crate::parallel::Cancel;
use pyo3::exceptions::{PyKeyboardInterrupt, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;
use rayon::{ThreadPool, ThreadPoolBuilder};
use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often a running job looks for Ctrl-C (Python signal handlers run on the main thread).
const SIGNAL_POLL: Duration = Duration::from_millis(50);

static POOLS: Mutex<Option<HashMap<usize, Arc<ThreadPool>>>> = Mutex::new(None);

/// The rayon pool with `n_threads` workers (all cores when `None`), built once and cached.
pub(crate) fn pool(n_threads: Option<usize>) -> PyResult<Arc<ThreadPool>> {
    let n = match n_threads {
        Some(0) => {
            return Err(PyValueError::new_err(
                "n_threads: must be a positive integer or None, got 0",
            ))
        }
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let mut guard = POOLS.lock().unwrap_or_else(|p| p.into_inner());
    let pools = guard.get_or_insert_with(HashMap::new);
    if let Some(p) = pools.get(&n) {
        return Ok(Arc::clone(p));
    }
    let p = ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("gsalign-{i}"))
        .build()
        .map_err(|e| PyValueError::new_err(format!("n_threads: cannot start {n} threads: {e}")))?;
    let p = Arc::new(p);
    pools.insert(n, Arc::clone(&p));
    Ok(p)
}

/// Forgets every cached pool: called in a forked child, whose copies of the pools have no threads.
pub(crate) fn forget_pools() {
    let mut guard = POOLS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(pools) = guard.take() {
        std::mem::forget(pools);
    }
}

/// Runs `f` on the pool for `n_threads` with the GIL released.
///
/// While `f` runs, the calling thread wakes every [`SIGNAL_POLL`] to run Python's signal handlers;
/// a `KeyboardInterrupt` (or any exception they raise) sets the cancel flag that `f` checks
/// between units of work, waits for `f` to stop, and is returned. Core errors are mapped by
/// [`to_pyerr`].
pub(crate) fn enter_core<T, F>(py: Python<'_>, n_threads: Option<usize>, f: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&Cancel) -> crate::Result<T> + Send,
{
    run(py, Some(pool(n_threads)?), true, f)
}

/// [`enter_core`] for one indivisible unit of work (a single large decomposition): it runs on a
/// thread of its own rather than on a shared pool, so that concurrent calls from several Python
/// threads run in parallel instead of queueing on one pool worker.
pub(crate) fn enter_core_single<T, F>(py: Python<'_>, f: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&Cancel) -> crate::Result<T> + Send,
{
    run(py, None, true, f)
}

/// [`enter_core`] for work known to be brief (one small decomposition, well under a tenth of a
/// second): the GIL is released and `f` runs on the calling thread, with no watcher thread
/// polling for Ctrl-C and no hop to the pool, which would cost more than the work itself.
pub(crate) fn enter_core_brief<T, F>(py: Python<'_>, f: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&Cancel) -> crate::Result<T> + Send,
{
    run(py, None, false, f)
}

/// Runs `f` with the GIL released: inline when not `interruptible`; otherwise on a worker thread
/// (inside `pool` when given) while this thread polls for Ctrl-C.
fn run<T, F>(
    py: Python<'_>,
    pool: Option<Arc<ThreadPool>>,
    interruptible: bool,
    f: F,
) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&Cancel) -> crate::Result<T> + Send,
{
    let cancel = Cancel::new();
    if !interruptible {
        return py.detach(|| f(&cancel)).map_err(|e| to_pyerr(py, e));
    }
    let (result, interrupt) = py.detach(|| {
        std::thread::scope(|scope| {
            let (tx, rx) = mpsc::channel::<()>();
            let cancel = &cancel;
            let pool = &pool;
            let worker = scope.spawn(move || {
                let r = match pool {
                    Some(pool) => pool.install(|| f(cancel)),
                    None => f(cancel),
                };
                let _ = tx.send(());
                r
            });
            let mut interrupt: Option<PyErr> = None;
            while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(SIGNAL_POLL) {
                if interrupt.is_none() {
                    if let Err(e) = Python::attach(|py| py.check_signals()) {
                        cancel.cancel();
                        interrupt = Some(e);
                    }
                }
            }
            (worker.join(), interrupt)
        })
    });
    if let Some(e) = interrupt {
        return Err(e);
    }
    match result {
        Ok(r) => r.map_err(|e| to_pyerr(py, e)),
        Err(_) => Err(pyo3::exceptions::PyRuntimeError::new_err(
            "gsalign: internal error (a worker thread panicked)",
        )),
    }
}

static NON_FINITE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static EMPTY: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static ZERO: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static SHAPE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static INVALID: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static CONVERGENCE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static CHECKPOINT: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// The exception class `gsalign.exceptions.<name>`, cached in `cell`.
fn exception<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyType>>,
    name: &str,
) -> PyResult<Bound<'py, PyType>> {
    cell.import(py, "gsalign.exceptions", name).cloned()
}

/// Maps a core error onto `gsalign.exceptions` (each class also derives from the builtin a user
/// would catch: `ValueError` for bad input, `ArithmeticError` for non-convergence).
pub(crate) fn to_pyerr(py: Python<'_>, e: Error) -> PyErr {
    let (cell, name) = match &e {
        Error::NonFinite { .. } => (&NON_FINITE, "NonFiniteError"),
        Error::Empty { .. } => (&EMPTY, "EmptyInputError"),
        Error::ZeroMatrix { .. } => (&ZERO, "ZeroMatrixError"),
        Error::Shape { .. } | Error::ChainMismatch { .. } => (&SHAPE, "ShapeError"),
        Error::InvalidArgument { .. } => (&INVALID, "InvalidArgumentError"),
        Error::NoConvergence { .. } => (&CONVERGENCE, "ConvergenceError"),
        Error::Checkpoint { .. } => (&CHECKPOINT, "CheckpointError"),
        Error::Cancelled => return PyKeyboardInterrupt::new_err("cancelled"),
    };
    match exception(py, cell, name) {
        Ok(ty) => PyErr::from_type(ty, e.to_string()),
        Err(import_error) => import_error,
    }
}

/// `Result<T, Error>` → `PyResult<T>` for light calls that do not need [`enter_core`].
pub(crate) fn light<T>(py: Python<'_>, r: crate::Result<T>) -> PyResult<T> {
    r.map_err(|e| to_pyerr(py, e))
}
