"""Scale-out: checkpoint scans and chain sweeps fanned out over a Dask cluster or any
``concurrent.futures.Executor`` (optional extra ``gsalign[dask]``; this module is imported only when
asked for, and imports Dask only when a Dask client is used).

Design
------
Every call is split into small independent tasks that take a file path or a few numbers and return
plain Python/numpy values (dicts of arrays and lists, which pickle), never a pyclass object:

* :func:`scan` / :func:`scan_many`: one listing task per checkpoint (its tensor names, dtypes,
  shapes and files, and the empty column layout), then one task per tensor (``split="tensor"``) or
  per file of a sharded checkpoint (``split="file"``), each a call of the core scan
  (``_core.scan_path``) restricted to its tensors. The parts are merged by
  ``gsalign.scan._merge_parts`` into the same :class:`~gsalign.scan.ScanReport` as
  :func:`gsalign.scan`, bit for bit: every per-layer number is computed by the same code on the
  same tensor, and rows are put in the same depth order. With many checkpoints a task per
  checkpoint (``split="checkpoint"``, the default when there are at least twice as many paths
  as task slots) saves the listing round trip and the per-tensor task overhead.
* :func:`sweep`: one task per parameter set; the task builds its own seeded chain from a generator
  of :mod:`gsalign.chains`, runs :class:`gsalign.Chain` and :meth:`~gsalign.Chain.certify`, and
  returns a row of scalars (terms, margins, verdicts). Only the spec crosses the network.

Engines: a ``distributed.Client`` (or a scheduler address, connected with a timeout), a
``concurrent.futures.Executor`` of the user's, or, with neither, the current Dask client when one
exists and otherwise the calling process (the same tasks, run one after the other).

Fault model
-----------
* A layer the core cannot profile (NaN payload, zero matrix) is an error row, as in a local scan.
* A task that raises (a worker that cannot read the file, a crash, a worker lost more often than
  Dask allows) gives one error row per tensor of the task, appended after the depth-ordered rows,
  with ``error = "task failed: <exception>"``; the rest of the scan completes.
* A worker killed mid-scan: Dask reschedules its tasks on the surviving workers (and on the
  worker its nanny restarts); ``retries`` re-runs tasks that raised. The result is complete and
  identical to an undisturbed run.
* An unreachable scheduler raises :class:`ClusterError` after ``timeout`` seconds.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import inspect
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from . import _core, chains
from ._arrays import check_choice, check_threads
from .chain import Chain, ChartName, Table
from .exceptions import ClusterError, GsalignError, InvalidArgumentError
from .scan import CHARTS, ScanReport, _merge_parts, _report

__all__ = ["scan", "scan_many", "sweep", "local_client", "ClusterError", "GENERATORS", "run_scan_command"]

log = logging.getLogger(__name__)

#: Generators of :mod:`gsalign.chains` a sweep may name.
GENERATORS = tuple(chains.__all__)

Progress = Callable[[int, int, str], None]


# --- tasks (module-level functions of plain arguments: they pickle by reference) ---------------


def _list_task(path: str, pattern: str | None, charts: list[str]) -> dict[str, Any]:
    """The tensors of a checkpoint (name, dtype, shape, file) kept by ``pattern``, and the column
    layout and file list of the checkpoint (a scan of no tensor)."""
    tensors = _core.checkpoint_tensors(path)
    if pattern is not None:
        regex = re.compile(pattern)
        tensors = [t for t in tensors if regex.search(t[0])]
    return {"tensors": tensors, "empty": _core.scan_path(path, set(), charts, 1)}


def _whole_task(path: str, pattern: str | None, charts: list[str], n_threads: int | None) -> dict[str, Any]:
    """The raw scan columns of a whole checkpoint, as :func:`gsalign.scan` computes them."""
    names = None
    if pattern is not None:
        regex = re.compile(pattern)
        names = {t[0] for t in _core.checkpoint_tensors(path) if regex.search(t[0])}
    return _core.scan_path(path, names, charts, n_threads)


def _scan_task(file: str, names: list[str], charts: list[str], n_threads: int | None) -> dict[str, Any]:
    """The raw scan columns of tensors ``names`` of the safetensors file ``file``."""
    return _core.scan_path(file, set(names), charts, n_threads)


def _sweep_task(
    generator: str,
    kwargs: dict[str, Any],
    charts: list[ChartName],
    chart: ChartName,
    budget: float | None,
    n_threads: int | None,
) -> dict[str, Any]:
    """One row of a sweep: the certificate of the chain ``chains.<generator>(**kwargs)``."""
    chain = Chain(getattr(chains, generator)(**kwargs), n_threads=n_threads, charts=charts)
    cert = chain.certify(budget=budget, chart=chart)
    row: dict[str, Any] = dict(cert.terms)
    row["holds"] = cert.holds
    for c in cert.checks:
        row[f"{c.name}.margin"] = c.margin
        row[f"{c.name}.holds"] = c.holds
        row[f"{c.name}.vacuous"] = c.vacuous
    return row


# --- engines ------------------------------------------------------------------------------------


class _InlineExecutor(concurrent.futures.Executor):
    """Runs each task at submission, in the calling thread (the engine when there is no cluster)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # a task failure is reported through its future, as on a pool
            future.set_exception(exc)
        return future


class _Engine:
    """Submits tasks and yields them as they complete, on Dask or on an Executor."""

    def __init__(self, client: Any, executor: Any, retries: int) -> None:
        self.client = client
        self.executor = executor
        self.retries = retries
        self.inline = isinstance(executor, _InlineExecutor)
        #: threads per task: 1 on a cluster or pool (it supplies the parallelism), all cores inline
        self.default_threads = None if self.inline else 1

    def workers(self) -> int:
        """Tasks the engine runs at once (Dask worker threads, pool workers; 1 in-process)."""
        if self.client is not None:
            return max(1, sum(self.client.nthreads().values()))
        return max(1, int(getattr(self.executor, "_max_workers", 1)))

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self.client is not None:
            return self.client.submit(fn, *args, retries=self.retries, pure=False)
        return self.executor.submit(fn, *args)

    def as_completed(self, futures: Sequence[Any]) -> Iterator[Any]:
        if self.client is not None:
            from distributed import as_completed

            return iter(as_completed(futures))
        return concurrent.futures.as_completed(futures)

    def run(self, tasks: Sequence[tuple[Any, ...]], progress: Progress | None, labels: Sequence[str]) -> list[Any]:
        """Runs ``tasks`` (function, args...) and returns each one's future in submission order,
        calling ``progress(done, total, label)`` as each completes."""
        if self.inline:
            futures = []
            for t, label in zip(tasks, labels):
                futures.append(self.submit(t[0], *t[1:]))
                if progress is not None:
                    progress(len(futures), len(tasks), label)
            return futures
        futures = [self.submit(t[0], *t[1:]) for t in tasks]
        index = {id(f): i for i, f in enumerate(futures)}
        for done, f in enumerate(self.as_completed(futures), 1):
            if progress is not None:
                progress(done, len(futures), labels[index[id(f)]])
        return futures


def local_client(n_workers: int = 2, *, memory_limit: str = "1GiB") -> Any:
    """A ``distributed.Client`` on a new ``LocalCluster`` of ``n_workers`` single-threaded worker
    processes (``memory_limit`` each), listening on 127.0.0.1 only, dashboard off. Close it
    (``client.close(); client.cluster.close()``) when done. The workers are spawned processes:
    in a script, call it under ``if __name__ == "__main__":``."""
    import dask
    from distributed import Client, LocalCluster

    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise InvalidArgumentError(f"n_workers: must be a positive integer, got {n_workers!r}")
    # Dask spawns workers with MALLOC_TRIM_THRESHOLD_=65536, which turns off glibc's dynamic mmap
    # threshold: every per-layer workspace is then mmapped and unmapped again, and a scan task
    # took 99 ms instead of 70 (benches/bench_distributed.py, docs/DISTRIBUTED.md).
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ"))
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            # no dashboard; the scheduler's small HTTP server (health, metrics) on a free loopback port
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
            memory_limit=memory_limit,
        )
    return Client(cluster)


@contextlib.contextmanager
def _engine(client: Any, executor: Any, *, retries: int, timeout: float) -> Iterator[_Engine]:
    """The engine of a call; closes a client it connected itself."""
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise InvalidArgumentError(f"retries: must be a non-negative integer, got {retries!r}")
    if client is not None and executor is not None:
        raise InvalidArgumentError("client, executor: pass one of them, not both")
    if executor is not None:
        if not isinstance(executor, concurrent.futures.Executor):
            raise InvalidArgumentError(
                f"executor: expected a concurrent.futures.Executor, got {type(executor).__name__}"
            )
        yield _Engine(None, executor, retries)
        return
    if client is None:
        client = _default_client()
        if client is None:
            yield _Engine(None, _InlineExecutor(), retries)
            return
    if isinstance(client, str):
        own = _connect(client, timeout)
        try:
            yield _Engine(own, None, retries)
        finally:
            own.close()
        return
    if not hasattr(client, "submit") or not hasattr(client, "scheduler"):
        raise InvalidArgumentError(
            f"client: expected a distributed.Client or a scheduler address, got {type(client).__name__}"
        )
    yield _Engine(client, None, retries)


def _default_client() -> Any:
    """The current Dask client, if Dask is imported and one is running."""
    if "distributed" not in sys.modules:
        return None
    from distributed import default_client

    try:
        return default_client()
    except ValueError:
        return None


def _connect(address: str, timeout: float) -> Any:
    """A client of the scheduler at ``address``, or :class:`ClusterError` after ``timeout`` s."""
    try:
        timeout = float(timeout)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"timeout: must be a positive number of seconds, got {timeout!r}") from None
    if not timeout > 0:
        raise InvalidArgumentError(f"timeout: must be a positive number of seconds, got {timeout!r}")
    from distributed import Client

    start = time.monotonic()
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(
            f"client: cannot reach the Dask scheduler at {address!r} within {timeout:g} s "
            f"(gave up after {time.monotonic() - start:.1f} s: {exc})"
        ) from None


# --- scans --------------------------------------------------------------------------------------


def _check_scan_options(pattern: Any, charts: Any, split: Any, n_threads: Any) -> tuple[str, ...]:
    check_threads(n_threads)
    check_choice(split, "split", ("auto", "tensor", "file", "checkpoint"))
    if isinstance(charts, str):
        charts = (charts,)
    charts = tuple(check_choice(c, "charts", CHARTS) for c in charts)
    if len(set(charts)) != len(charts):
        raise InvalidArgumentError(f"charts: each chart may appear once, got {charts!r}")
    if pattern is not None:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            raise InvalidArgumentError(f"pattern: not a regular expression: {exc}") from None
    return charts


def _groups(tensors: Sequence[tuple[str, str, list[int], str]], split: str) -> list[tuple[str, list[str]]]:
    """(file, tensor names) of each scan task of one checkpoint."""
    if split == "tensor":
        return [(file, [name]) for name, _, _, file in tensors]
    by_file: dict[str, list[str]] = {}
    for name, _, _, file in tensors:
        by_file.setdefault(file, []).append(name)
    return list(by_file.items())


def _failed_rows(empty: dict[str, Any], tensors: Sequence[tuple[str, str, list[int], str]], error: str) -> dict[str, Any]:
    """Error rows (one per tensor) in the column layout of ``empty``: numbers NaN, integers -1,
    the tensor's name, dtype and shape, kind ``other``."""
    n = len(tensors)
    rows: dict[str, Any] = {}
    for key, value in empty.items():
        if key in ("skipped", "files"):
            rows[key] = []
        elif key == "sv":
            rows[key] = [np.zeros(0) for _ in range(n)]
        elif isinstance(value, np.ndarray):
            rows[key] = np.full(n, np.nan if value.dtype.kind == "f" else -1, dtype=value.dtype)
        else:
            rows[key] = [""] * n
    rows["name"] = [t[0] for t in tensors]
    rows["dtype"] = [t[1] for t in tensors]
    rows["kind"] = ["other"] * n
    if "tensor_shape" in rows:
        rows["tensor_shape"] = ["x".join(map(str, t[2])) for t in tensors]
    rows["error"] = [error] * n
    return rows


def _append(raw: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(raw)
    for key, value in extra.items():
        if key in ("skipped", "files"):
            continue
        out[key] = np.concatenate([raw[key], value]) if isinstance(value, np.ndarray) else list(raw[key]) + value
    return out


def scan_many(
    paths: Iterable[str | os.PathLike[str]],
    client: Any = None,
    executor: concurrent.futures.Executor | None = None,
    *,
    pattern: str | None = None,
    charts: Sequence[str] = ("ls", "top"),
    split: Literal["auto", "tensor", "file", "checkpoint"] = "auto",
    n_threads: int | None = None,
    retries: int = 2,
    timeout: float = 5.0,
    progress: Progress | None = None,
) -> list[ScanReport]:
    """Profile every layer matrix of several checkpoints, fanned out over a cluster.

    Parameters
    ----------
    paths : iterable of str or os.PathLike
        Checkpoints as :func:`gsalign.scan` reads them (a ``.safetensors`` file, a directory, a
        shard index), as the workers see them (a shared file system on a real cluster).
    client : distributed.Client or str, optional
        The Dask client, or a scheduler address (``"tcp://host:8786"``) to connect to for this call.
        Default: the current Dask client if one is running, else the calling process.
    executor : concurrent.futures.Executor, optional
        A pool to run the tasks on instead of Dask (a ``ProcessPoolExecutor`` for parallel work:
        the core releases the GIL, so a ``ThreadPoolExecutor`` works too).
    pattern, charts
        As in :func:`gsalign.scan`.
    split : {"auto", "tensor", "file", "checkpoint"}
        One task per tensor, per file (per shard of a sharded checkpoint), or per checkpoint
        (no listing round trip; a checkpoint whose task fails for another reason than the
        checkpoint itself is then scanned tensor by tensor). ``"auto"``: per checkpoint in the
        calling process or when there are at least twice as many paths as the engine runs tasks
        at once, else per tensor.
    n_threads : int, optional
        Threads per task. Default: 1 on a cluster or executor (the workers supply the
        parallelism), all cores in the calling process. The results do not depend on it.
    retries : int
        Dask re-runs of a task that raised (a worker that died is rescheduled by Dask anyway).
    timeout : float
        Seconds to wait for a scheduler given by address before :class:`ClusterError`.
    progress : callable, optional
        ``progress(done, total, label)`` after each task completes (in the calling thread), with
        ``label`` = ``"<path>: <first tensor of the task>"`` (``"<path>"`` for a whole checkpoint).

    Returns
    -------
    list of ScanReport
        One per path, in order, identical to ``gsalign.scan(path, pattern=..., charts=...)``
        except that a task that raised gives error rows (see the module's fault model).

    Raises
    ------
    CheckpointError
        A checkpoint is missing, unreadable or malformed (as :func:`gsalign.scan`).
    ClusterError
        The scheduler is unreachable, or a listing task could not run.
    InvalidArgumentError
        A bad option.
    """
    files = [os.fspath(p) for p in paths]
    charts = _check_scan_options(pattern, charts, split, n_threads)
    raws: list[dict[str, Any]] = [{} for _ in files]
    with _engine(client, executor, retries=retries, timeout=timeout) as engine:
        threads = engine.default_threads if n_threads is None else n_threads
        if split == "auto":
            split = "checkpoint" if engine.inline or len(files) >= 2 * engine.workers() else "tensor"
        rest = list(range(len(files)))
        if split == "checkpoint":
            tasks = [(_whole_task, p, pattern, list(charts), threads) for p in files]
            rest = []
            for j, future in enumerate(engine.run(tasks, progress, files)):
                try:
                    raws[j] = future.result()
                except GsalignError:
                    raise
                except Exception as exc:
                    log.warning("scan task of %s failed (%s); scanning it tensor by tensor", files[j], exc)
                    rest.append(j)
            split = "tensor"
        if rest:
            _scan_in_parts(engine, [files[j] for j in rest], pattern, charts, split, threads, progress, raws, rest)
    return [_report(raw, charts) for raw in raws]


def _scan_in_parts(
    engine: _Engine,
    paths: list[str],
    pattern: str | None,
    charts: tuple[str, ...],
    split: str,
    threads: int | None,
    progress: Progress | None,
    raws: list[dict[str, Any]],
    slots: list[int],
) -> None:
    """Scans ``paths`` with a listing task each, then one task per tensor or per file, and puts
    each merged raw report into ``raws[slots[j]]``."""
    listings = []
    for path, future in zip(paths, engine.run([(_list_task, p, pattern, list(charts)) for p in paths], None, paths)):
        try:
            listings.append(future.result())
        except GsalignError:
            raise
        except Exception as exc:
            raise ClusterError(f"paths: the listing task of {path!r} failed: {type(exc).__name__}: {exc}") from exc
    tasks, labels, owners = [], [], []
    for j, (path, lst) in enumerate(zip(paths, listings)):
        for file, names in _groups(lst["tensors"], split):
            tasks.append((_scan_task, file, names, list(charts), threads))
            labels.append(f"{path}: {names[0]}")
            owners.append((j, names))
    parts: list[list[dict[str, Any]]] = [[lst["empty"]] for lst in listings]
    failed: list[list[tuple[tuple[str, str, list[int], str], str]]] = [[] for _ in paths]
    for (j, names), future in zip(owners, engine.run(tasks, progress, labels)):
        try:
            parts[j].append(future.result())
        except Exception as exc:
            log.warning("scan task of %s (%s) failed: %s", paths[j], ", ".join(names), exc)
            meta = {t[0]: t for t in listings[j]["tensors"]}
            failed[j].extend((meta[n], f"task failed: {type(exc).__name__}: {exc}") for n in names)
    for j, lst in enumerate(listings):
        raw = _merge_parts(parts[j], [t[0] for t in lst["tensors"]])
        for tensor, error in failed[j]:
            raw = _append(raw, _failed_rows(lst["empty"], [tensor], error))
        raws[slots[j]] = raw


def scan(
    path: str | os.PathLike[str],
    client: Any = None,
    executor: concurrent.futures.Executor | None = None,
    **options: Any,
) -> ScanReport:
    """Profile every layer matrix of one checkpoint with one task per tensor (or per file): the
    :func:`scan_many` of ``[path]`` (same options). Returns the same :class:`ScanReport` as
    :func:`gsalign.scan`."""
    return scan_many([path], client, executor, **options)[0]


# --- sweeps -------------------------------------------------------------------------------------


def sweep(
    generator_spec: Mapping[str, Any],
    params: Iterable[Mapping[str, Any]],
    client: Any = None,
    executor: concurrent.futures.Executor | None = None,
    *,
    charts: Sequence[str] = ("ls", "top", "metric"),
    chart: str = "ls",
    budget: float | None = None,
    n_threads: int | None = None,
    retries: int = 2,
    timeout: float = 5.0,
    progress: Progress | None = None,
) -> Table:
    """Certify many seeded chains, one task per parameter set.

    Parameters
    ----------
    generator_spec : mapping
        ``{"generator": <name>, **arguments}``: a generator of :mod:`gsalign.chains` (one of
        :data:`GENERATORS`) and the arguments shared by every chain, e.g.
        ``{"generator": "near_identity", "L": 256, "d": 64, "h": 0.1}``.
    params : iterable of mappings
        Per-task arguments, merged over the spec (e.g. ``[{"seed": s} for s in range(100)]``).
    client, executor, n_threads, retries, timeout, progress
        As in :func:`scan_many` (``progress`` labels are the task index).
    charts, chart, budget
        :class:`gsalign.Chain` ``charts`` and :meth:`gsalign.Chain.certify` ``chart``/``budget``.

    Returns
    -------
    Table
        One row per parameter set, in order: a column per argument that ``params`` varies; the
        certificate terms (``depth``, ``log_budget``, ``slack_sum``, ``log_rho_sum``,
        ``log_top_product``, ``exponent_displacement``, ``max_drift``, …); ``holds`` (every
        non-vacuous check holds); and ``<check>.margin``/``.holds``/``.vacuous`` for every
        whole-chain check of the :class:`~gsalign.chain.Certificate`. The same numbers as ``Chain(chains.<generator>(**args),
        charts=charts).certify(budget=budget, chart=chart)`` run locally.

    Raises
    ------
    InvalidArgumentError
        An unknown generator, an argument it does not take or a bad value (checked before any task
        runs), or a bad option. An exception raised by a task is raised here.
    """
    if not isinstance(generator_spec, Mapping) or "generator" not in generator_spec:
        raise InvalidArgumentError(
            f"generator_spec: expected a mapping with a 'generator' key, got {generator_spec!r}"
        )
    spec = dict(generator_spec)
    generator = check_choice(spec.pop("generator"), "generator_spec['generator']", GENERATORS)
    charts = tuple(check_choice(c, "charts", CHARTS) for c in ((charts,) if isinstance(charts, str) else charts))
    check_choice(chart, "chart", charts)
    check_threads(n_threads)
    fn = getattr(chains, generator)
    signature = inspect.signature(fn)
    rows: list[dict[str, Any]] = []
    varied: list[str] = []
    for i, p in enumerate(params):
        if not isinstance(p, Mapping):
            raise InvalidArgumentError(f"params[{i}]: expected a mapping of arguments, got {p!r}")
        kwargs = {**spec, **p}
        if "stream" in kwargs:
            raise InvalidArgumentError(f"params[{i}]: 'stream' is not a chain argument of a sweep")
        try:
            signature.bind(**kwargs)
        except TypeError as exc:
            raise InvalidArgumentError(f"params[{i}]: {generator}{signature}: {exc}") from None
        try:
            fn(**kwargs, stream=True)  # validates the arguments without building the chain
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"params[{i}]: {exc}") from None
        rows.append(kwargs)
        varied.extend(k for k in p if k not in varied)
    with _engine(client, executor, retries=retries, timeout=timeout) as engine:
        threads = engine.default_threads if n_threads is None else n_threads
        tasks = [(_sweep_task, generator, kw, list(charts), chart, budget, threads) for kw in rows]
        futures = engine.run(tasks, progress, [str(i) for i in range(len(tasks))])
        results = [f.result() for f in futures]
    columns: dict[str, np.ndarray] = {k: np.asarray([kw.get(k) for kw in rows]) for k in varied}
    if results:
        for key in results[0]:
            columns[key] = np.asarray([r[key] for r in results])
    return Table(columns, f"sweep of {generator}")


# --- command line -------------------------------------------------------------------------------


def run_scan_command(
    paths: Sequence[str],
    *,
    scheduler: str | None = None,
    local_cluster: int | None = None,
    pattern: str | None = None,
    out: str | None = None,
    threads: int | None = None,
    charts: Sequence[str] = ("ls", "top"),
    split: Literal["auto", "tensor", "file", "checkpoint"] = "auto",
) -> int:
    """``gsalign scan PATH... [--scheduler ADDR | --local-cluster N]``: scan the checkpoints on a
    cluster (or in this process), drawing a progress bar fed by task completion (rich on a
    terminal, plain lines on stderr otherwise), print the per-layer table of a single checkpoint
    or a line per checkpoint, and write ``out`` (with a ``checkpoint`` column). Returns the exit
    code: 0 ok, 1 some layers failed, 2 bad arguments, unreadable input or no scheduler."""
    from .scan import _print_tables

    if out is not None and Path(out).suffix.lower() not in (".csv", ".json", ".parquet"):
        print(f"error: --out {out!r}: use a .csv, .json or .parquet suffix", file=sys.stderr)
        return 2
    console = None
    if sys.stdout.isatty():
        try:
            from rich.console import Console

            console = Console()
        except ImportError:
            console = None
    client: Any = scheduler
    try:
        if local_cluster is not None:
            client = local_client(local_cluster)
        with contextlib.ExitStack() as stack:
            if local_cluster is not None:
                stack.callback(client.cluster.close)
                stack.callback(client.close)
            if console is not None:
                from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
                from rich.progress import Progress as Bar

                bar = stack.enter_context(
                    Bar(TextColumn("scanning"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TextColumn("{task.description}"), console=console, transient=True)
                )
                task = bar.add_task("", total=None)

                def tick(done: int, total: int, label: str) -> None:
                    bar.update(task, completed=done, total=total, description=label)
            else:

                def tick(done: int, total: int, label: str) -> None:
                    print(f"[{done}/{total}] {label}", file=sys.stderr, flush=True)

            reports = scan_many(paths, client, pattern=pattern, charts=charts, split=split, n_threads=threads, progress=tick)
    except (GsalignError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ImportError as exc:
        print(f"error: a cluster scan needs dask (pip install 'gsalign[dask]'): {exc}", file=sys.stderr)
        return 2
    if len(reports) == 1:
        _print_tables(reports[0], console)
    for path, r in zip(paths, reports):
        print(f"{path}: {len(r)} layers, {len(r.failed)} failed, {len(r.skipped)} tensors skipped")
    if out is not None:
        combined = _combine(paths, reports)
        print(f"report written to {combined.write(out)}")
    failed = [(path, name, err) for path, r in zip(paths, reports) for name, err in r.failed]
    if failed:
        print(f"{len(failed)} layer(s) failed:", file=sys.stderr)
        for path, name, err in failed:
            print(f"  {path}: {name}: {err}", file=sys.stderr)
        return 1
    return 0


def _combine(paths: Sequence[str], reports: Sequence[ScanReport]) -> ScanReport:
    """One report of several, with a leading ``checkpoint`` column."""
    keys = list(reports[0].columns)
    columns = {"checkpoint": np.array([p for p, r in zip(paths, reports) for _ in range(len(r))], dtype=object)}
    for k in keys:
        columns[k] = np.concatenate([r.columns[k] for r in reports])
    return ScanReport(
        columns=columns,
        spectra=tuple(s for r in reports for s in r.spectra),
        skipped=tuple(s for r in reports for s in r.skipped),
        files=tuple(f for r in reports for f in r.files),
        charts=reports[0].charts,
    )
