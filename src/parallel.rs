//! Parallel execution across matrices, with cooperative cancellation.
//!
//! The core uses one level of rayon parallelism: independent matrices (factors, layers, tensors)
//! run on the current rayon pool, each decomposition itself sequential (`Par::Seq`). Callers
//! choose the pool (`ThreadPool::install`); results never depend on the number of threads
//! because every item is computed independently and collected in input order.

use crate::error::{Error, Result};
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A cancellation flag shared between a caller and long-running core work.
///
/// Long loops call [`Cancel::check`] between units of work (one matrix, one chain step), so a
/// cancelled job stops within one unit.
#[derive(Debug, Default)]
pub struct Cancel(AtomicBool);

impl Cancel {
    /// A flag that is not set.
    pub fn new() -> Self {
        Self(AtomicBool::new(false))
    }

    /// Sets the flag: work that checks it stops with [`Error::Cancelled`].
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether the flag is set.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// `Err(Error::Cancelled)` when the flag is set.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// Maps `f` over `items` in parallel on the current rayon pool, in input order.
///
/// `f(index, item)` runs once per item. Items are handed out in input order from one shared
/// counter (a worker takes the next item when it is free), so callers that sort their items
/// largest first get a longest-first schedule and no worker is left alone with a big item at the
/// end. When several items fail, the error of the lowest index is returned, so the reported error
/// does not depend on scheduling. Cancellation is checked before each item.
pub fn try_map<T, U, F>(items: &[T], cancel: &Cancel, f: F) -> Result<Vec<U>>
where
    T: Sync,
    U: Send,
    F: Fn(usize, &T) -> Result<U> + Sync + Send,
{
    let next = AtomicUsize::new(0);
    let workers = rayon::current_num_threads().clamp(1, items.len().max(1));
    let parts: Vec<Vec<(usize, Result<U>)>> = (0..workers)
        .into_par_iter()
        .map(|_| {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else {
                    return done;
                };
                done.push((i, cancel.check().and_then(|()| f(i, item))));
            }
        })
        .collect();
    let mut slots: Vec<Option<Result<U>>> = (0..items.len()).map(|_| None).collect();
    for (i, r) in parts.into_iter().flatten() {
        slots[i] = Some(r);
    }
    let mut out = Vec::with_capacity(items.len());
    let mut cancelled = false;
    for r in slots
        .into_iter()
        .map(|r| r.expect("every item is taken once"))
    {
        match r {
            Ok(v) => out.push(v),
            Err(Error::Cancelled) => cancelled = true,
            Err(e) => return Err(e),
        }
    }
    if cancelled {
        return Err(Error::Cancelled);
    }
    Ok(out)
}
