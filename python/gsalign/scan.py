"""Static-weight profiles of checkpoints and models (SPEC §11): every layer matrix of a model, its
spectrum, power-law charts, effective ranks and the WeightWatcher-compatible ESD metrics.

The Rust core reads ``.safetensors`` checkpoints itself (memory-mapped, validated, one tensor per
worker thread at a time, so peak memory is a few tensors, never the checkpoint) and scans layers in
parallel with the GIL released. Which tensors are layer matrices, how convolution kernels are
reshaped and fused QKV projections split, how layers are classified and ordered by depth: see
:func:`scan`.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import _core
from ._arrays import check_choice, check_threads
from .exceptions import DTypeError, InvalidArgumentError

__all__ = ["scan", "ScanReport", "CHARTS", "save_plots", "run_scan_command"]

CHARTS = ("ls", "top", "metric")

_NUMPY_DTYPES = {np.dtype(np.float64): "F64", np.dtype(np.float32): "F32", np.dtype(np.float16): "F16"}

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True, repr=False)
class ScanReport:
    """Per-layer profile of a model, one row per layer matrix in depth order.

    Columns (``report.columns``, also ``report["name"]``):

    * ``name`` (tensor name; ``[q]``/``[k]``/``[v]`` for the parts of a split fused projection),
      ``block`` (first integer in the name, -1 if none), ``kind`` (``embedding``, ``attn_q``,
      ``attn_k``, ``attn_v``, ``attn_qkv``, ``attn_o``, ``mlp``, ``conv``, ``other``), ``dtype``,
      ``tensor_shape`` (as stored, e.g. ``64x3x7x7``), ``m``, ``n`` (the layer matrix: out × in, a
      kernel reshaped to out × (in·kh·kw), a third of a split fused projection), ``shape`` (the
      tuple (m, n); a list in JSON and Parquet), ``k`` = min(m, n);
    * ``sv_max`` (s_1), ``top_radial`` (r = ½ log(k s_1²/‖W‖_F²), nats), ``numerical_rank``;
    * per chart c in ``charts``: ``alpha_c`` (rank exponent α, s_i ∝ i^{-α}), ``epsilon_c`` (signed
      orbit-chart residual, nats), ``hellinger_c`` (Hellinger residual); ``window_ls_lo``/``_hi``
      for the least-squares chart's rank window;
    * ``erank_50``, ``erank_90``, ``erank_99`` (energy quantiles), ``rank_window_lo``/``_hi``
      (= erank_50, erank_99), ``stable_rank`` (‖W‖_F²/‖W‖₂²);
    * WeightWatcher 0.7.7-compatible metrics of the ESD λ = s²: ``ww_alpha`` (continuous power-law
      MLE with the KS-optimal xmin among eigenvalues > 1e-5), ``ww_xmin``, ``ww_D`` (KS distance),
      ``alpha_weighted`` (ww_alpha·log10 λ_max), ``log_norm`` (log10 Σλ), ``log_spectral_norm``
      (log10 λ_max), ``entropy`` (WeightWatcher's matrix entropy);
    * ``error``: empty when the layer is fine, the reason when it is not (its numbers are then NaN,
      its integer columns -1).

    ``spectra[i]`` holds the singular values of layer i (empty for a failed layer); ``skipped``
    lists the tensors that are not layer matrices, with the reason.
    """

    columns: dict[str, np.ndarray]
    spectra: tuple[np.ndarray, ...]
    skipped: tuple[tuple[str, str], ...]
    files: tuple[str, ...]
    charts: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.columns["name"])

    def __getitem__(self, column: str) -> np.ndarray:
        return self.columns[column]

    @property
    def failed(self) -> list[tuple[str, str]]:
        """(name, error) of every layer whose ``error`` is not empty."""
        return [(n, e) for n, e in zip(self.columns["name"], self.columns["error"]) if e]

    def to_dict(self) -> dict[str, np.ndarray]:
        """The columns (a shallow copy of :attr:`columns`)."""
        return dict(self.columns)

    def to_pandas(self) -> Any:
        """The columns as a ``pandas.DataFrame`` (needs the ``pandas`` extra)."""
        import pandas as pd

        return pd.DataFrame(self.columns)

    def to_arrow(self) -> Any:
        """The columns as a ``pyarrow.Table`` (needs the ``arrow`` extra)."""
        import pyarrow as pa

        return pa.table({k: _arrow_column(v) for k, v in self.columns.items()})

    def depth_summary(self) -> dict[str, np.ndarray]:
        """Per block index (layers without one left out): ``block``, ``layers``, ``failed`` and the
        mean over the block's successful layers of each ``alpha_<chart>``, ``ww_alpha``,
        ``erank_90`` and ``top_radial``."""
        block = self.columns["block"]
        ok = np.array([not e for e in self.columns["error"]], dtype=bool)
        blocks = np.unique(block[block >= 0])
        names = [f"alpha_{c}" for c in self.charts] + ["ww_alpha", "erank_90", "top_radial"]
        out: dict[str, Any] = {"block": blocks, "layers": [], "failed": []}
        means: dict[str, list[float]] = {n: [] for n in names}
        for b in blocks:
            rows = block == b
            good = rows & ok
            out["layers"].append(int(rows.sum()))
            out["failed"].append(int((rows & ~ok).sum()))
            for n in names:
                vals = self.columns[n][good].astype(np.float64)
                vals = vals[np.isfinite(vals)]
                means[n].append(float(vals.mean()) if vals.size else math.nan)
        out["layers"] = np.array(out["layers"], dtype=np.int64)
        out["failed"] = np.array(out["failed"], dtype=np.int64)
        for n in names:
            out[f"mean_{n}"] = np.array(means[n], dtype=np.float64)
        return out

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Writes the per-layer columns to ``path``, by suffix: ``.csv`` (NaN as an empty field),
        ``.json`` (a list of records, NaN as null) or ``.parquet`` (needs ``pyarrow``)."""
        p = Path(path)
        suffix = p.suffix.lower()
        keys = list(self.columns)
        rows = [[_plain(self.columns[k][i]) for k in keys] for i in range(len(self))]
        if suffix == ".csv":
            with p.open("w", newline="") as f:
                w = csv.writer(f)
                w.writerow(keys)
                for row in rows:
                    w.writerow(["" if v is None else v for v in row])
        elif suffix == ".json":
            p.write_text(json.dumps([dict(zip(keys, row)) for row in rows], indent=1) + "\n")
        elif suffix == ".parquet":
            import pyarrow.parquet as pq

            pq.write_table(self.to_arrow(), p)
        else:
            raise InvalidArgumentError(
                f"path: cannot tell the format of {str(p)!r}; use a .csv, .json or .parquet suffix"
            )
        return p

    def save_plots(self, directory: str | os.PathLike[str]) -> list[Path]:
        """PNG figures of this report in ``directory`` (see :func:`save_plots`)."""
        return save_plots(self, directory)

    def __repr__(self) -> str:
        kinds: dict[str, int] = {}
        for k in self.columns["kind"]:
            kinds[k] = kinds.get(k, 0) + 1
        parts = ", ".join(f"{v} {k}" for k, v in kinds.items())
        return (
            f"ScanReport({len(self)} layers: {parts}; {len(self.failed)} failed, "
            f"{len(self.skipped)} tensors skipped; charts {', '.join(self.charts) or 'none'})"
        )


def _arrow_column(v: np.ndarray) -> Any:
    if v.dtype == object:
        return [list(x) if isinstance(x, tuple) else str(x) for x in v]
    return v


def _plain(x: Any) -> Any:
    """A JSON/CSV-friendly Python value (NaN → None, a tuple → a list)."""
    if isinstance(x, (np.floating, float)):
        f = float(x)
        return None if math.isnan(f) else f
    if isinstance(x, (np.integer, int)):
        return int(x)
    if isinstance(x, tuple):
        return [_plain(v) for v in x]
    return str(x)


def _tensor_entry(name: str, value: Any) -> tuple[str, str, list[int], np.ndarray]:
    """(name, dtype, shape, little-endian bytes) of a numpy array or a torch tensor."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        if value.is_meta:
            raise InvalidArgumentError(f"path_or_model[{name!r}]: a meta tensor has no values to scan")
        t = value.detach().to("cpu")
        t = (t.to_dense() if t.layout != torch.strided else t).contiguous()
        shape = list(t.shape)
        if t.dtype == torch.bfloat16:
            return (name, "BF16", shape, t.view(torch.int16).numpy().reshape(-1).view(np.uint8))
        if t.dtype in (torch.float64, torch.float32, torch.float16):
            value = t.numpy()
        else:
            return (name, str(t.dtype).replace("torch.", ""), shape, np.zeros(0, np.uint8))
    if not isinstance(value, np.ndarray):
        try:
            value = np.asarray(value)
        except (TypeError, ValueError) as exc:
            raise DTypeError(f"path_or_model[{name!r}]: cannot be read as an array ({exc})") from None
    native = value.dtype.newbyteorder("=") if value.dtype.byteorder in "<>" else value.dtype
    dtype = _NUMPY_DTYPES.get(native)
    shape = [int(d) for d in value.shape]
    if dtype is None:
        return (name, str(value.dtype), shape, np.zeros(0, np.uint8))
    little = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<"))
    return (name, dtype, shape, little.reshape(-1).view(np.uint8))


def _state_dict(model: Any) -> Mapping[str, Any] | None:
    """The state dict of a torch module (torch is only looked at if already imported)."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(model, torch.nn.Module):
        return model.state_dict()
    return None


def scan(
    path_or_model: Any,
    *,
    pattern: str | None = None,
    charts: Sequence[str] = ("ls", "top"),
    n_threads: int | None = None,
    progress: Progress | None = None,
) -> ScanReport:
    """Profile every layer matrix of a model.

    Parameters
    ----------
    path_or_model : str, os.PathLike, mapping or torch module
        A ``.safetensors`` file, a directory of them, a sharded checkpoint's
        ``*.safetensors.index.json`` (or its directory); a mapping of names to numpy arrays or torch
        tensors (a ``state_dict``); or a ``torch.nn.Module``. Pickle-based files (``.pt``, ``.bin``)
        are refused: loading them runs arbitrary code. Storage types F64, F32, F16 and BF16 are
        scanned (half precision is widened to float32). Spectra meet the accuracy contract of
        ``singular_values`` for the storage type: float64 tensors in float64 arithmetic; float32
        (and half) tensors in float64 too, except tall well-conditioned ones (embeddings, MLP
        matrices), whose Gram product runs in float32 where that stays within 1e-6·s_1. The
        ``ww_*`` metrics are computed from the spectrum in float64.
    pattern : str, optional
        A regular expression; only tensors whose name it matches (``re.search``) are scanned.
    charts : sequence of {"ls", "top", "metric"}
        Power-law charts fitted to every layer (SPEC §3), each on its default window.
    n_threads : int, optional
        Worker threads (default: all cores). Layers run in parallel, one tensor per thread.
    progress : callable, optional
        ``progress(done, total, name)``, called as each layer finishes (from a worker thread).

    Which tensors are layer matrices: floating tensors with at least two dimensions once leading
    dimensions of size 1 are dropped; 1-D tensors (biases, norms) and non-float tensors are listed
    in ``report.skipped``. Kernels (out, in, k...) are reshaped to out × (in·k...); fused QKV
    projections stored as [Q; K; V] (``c_attn``, ``in_proj_weight``, ``qkv``, ``qkv_proj``,
    ``wqkv``, ``to_qkv``, ``w_pack``) are split into three layers when one dimension is three
    times the other. Layers are ordered by depth: embeddings, then blocks by the integers in their
    names (q, k, v, o, mlp within a block), then the rest.

    Returns
    -------
    ScanReport
        One row per layer; a layer that cannot be profiled (NaN in its payload, all-zero matrix)
        has its ``error`` set while the others are reported.

    Raises
    ------
    CheckpointError
        The checkpoint is missing, unreadable, malformed or pickle-based (naming the file and tensor).
    InvalidArgumentError, DTypeError
        A bad ``pattern``, ``charts`` or ``n_threads``, or a model entry that is not an array.
    """
    n_threads = check_threads(n_threads)
    if isinstance(charts, str):
        charts = (charts,)
    charts = tuple(check_choice(c, "charts", CHARTS) for c in charts)
    if len(set(charts)) != len(charts):
        raise InvalidArgumentError(f"charts: each chart may appear once, got {charts!r}")
    regex = None
    if pattern is not None:
        try:
            regex = re.compile(pattern)
        except (re.error, TypeError) as exc:
            raise InvalidArgumentError(f"pattern: not a regular expression: {exc}") from None

    if isinstance(path_or_model, (str, os.PathLike)):
        path = os.fspath(path_or_model)
        names = None
        if regex is not None:
            names = {t[0] for t in _core.checkpoint_tensors(path) if regex.search(t[0])}
        raw = _core.scan_path(path, names, list(charts), n_threads, progress)
    else:
        mapping = _state_dict(path_or_model)
        if mapping is None:
            if not isinstance(path_or_model, Mapping):
                raise DTypeError(
                    "path_or_model: expected a path, a mapping of names to arrays, or a torch "
                    f"module, got {type(path_or_model).__name__}"
                )
            mapping = path_or_model
        entries = [_tensor_entry(str(k), v) for k, v in mapping.items()]
        names = None
        if regex is not None:
            names = {e[0] for e in entries if regex.search(e[0])}
        raw = _core.scan_tensors(entries, names, list(charts), n_threads, progress)
    return _report(raw, charts)


def _report(raw: dict[str, Any], charts: tuple[str, ...]) -> ScanReport:
    columns: dict[str, np.ndarray] = {}
    for key, value in raw.items():
        if key in ("sv", "skipped", "files"):
            continue
        if isinstance(value, list):
            columns[key] = np.array(value, dtype=object)
        else:
            columns[key] = value
        if key == "n":
            shape = np.empty(len(value), dtype=object)
            for i, mn in enumerate(zip(columns["m"], value)):
                shape[i] = (int(mn[0]), int(mn[1]))
            columns["shape"] = shape
    return ScanReport(
        columns=columns,
        spectra=tuple(raw["sv"]),
        skipped=tuple((str(n), str(r)) for n, r in raw["skipped"]),
        files=tuple(raw["files"]),
        charts=charts,
    )


def _safe_filename(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "layer"


def save_plots(report: ScanReport, directory: str | os.PathLike[str]) -> list[Path]:
    """Writes PNG figures of ``report`` into ``directory`` (created if needed) and returns their paths:

    * ``exponent_profile.png``: each chart's α and ``ww_alpha`` against depth, one line per layer kind;
    * ``rank_windows.png``: the effective-rank window [erank_50, erank_99] of every layer against
      depth, with erank_90 marked and the width k for scale;
    * ``spectra/<layer>.png``: for every layer, log s_i against log i with the fitted orbit
      s_i(α) = ‖W‖_F·√p_i(α) of each chart (SPEC §3.1).

    Needs matplotlib (the ``report`` extra); uses the non-interactive Agg backend.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from . import orbit

    out = Path(directory)
    (out / "spectra").mkdir(parents=True, exist_ok=True)
    c = report.columns
    depth = np.arange(len(report))
    kinds = list(dict.fromkeys(c["kind"]))
    paths: list[Path] = []

    exponents = [f"alpha_{ch}" for ch in report.charts] + ["ww_alpha"]
    fig, axes = plt.subplots(len(exponents), 1, figsize=(9, 2.6 * len(exponents)), sharex=True, squeeze=False)
    for ax, col in zip(axes[:, 0], exponents):
        for kind in kinds:
            rows = c["kind"] == kind
            ax.plot(depth[rows], c[col][rows].astype(float), marker="o", ms=3, lw=1, label=kind)
        ax.set_ylabel(col)
    axes[0, 0].set_title("Exponent profile across depth (static weights: a diagnostic, SPEC §11)")
    axes[0, 0].legend(fontsize=7, ncol=min(len(kinds), 5))
    axes[-1, 0].set_xlabel("layer (depth order)")
    fig.tight_layout()
    paths.append(out / "exponent_profile.png")
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, 3.5))
    lo = c["rank_window_lo"].astype(float)
    hi = c["rank_window_hi"].astype(float)
    ok = lo > 0
    ax.vlines(depth[ok], lo[ok], hi[ok], color="tab:blue", lw=3, alpha=0.6, label="[erank_50, erank_99]")
    ax.plot(depth[ok], c["erank_90"][ok], "k_", ms=8, label="erank_90")
    ax.plot(depth, c["k"], ":", color="grey", lw=1, label="k = min(m, n)")
    ax.set_yscale("log")
    ax.set_xlabel("layer (depth order)")
    ax.set_ylabel("rank")
    ax.set_title("Effective-rank windows across depth")
    ax.legend(fontsize=7)
    fig.tight_layout()
    paths.append(out / "rank_windows.png")
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)

    for i, sv in enumerate(report.spectra):
        if sv.size == 0 or sv[0] <= 0:
            continue
        k = sv.size
        ranks = np.arange(1, k + 1)
        fig, ax = plt.subplots(figsize=(5.5, 4))
        pos = sv > 0
        ax.loglog(ranks[pos], sv[pos], ".", ms=3, color="black", label="singular values")
        frob = float(np.sqrt(np.sum(np.square(sv))))
        for ch in report.charts:
            alpha = float(c[f"alpha_{ch}"][i])
            if np.isfinite(alpha) and k >= 2:
                fit = frob * np.sqrt(orbit.probabilities(k, alpha))
                ax.loglog(ranks, fit, lw=1.2, label=f"{ch} chart, alpha = {alpha:.3f}")
        ax.set_xlabel("rank i")
        ax.set_ylabel("s_i")
        ax.set_title(f"{c['name'][i]} ({c['kind'][i]})", fontsize=8)
        ax.legend(fontsize=7)
        fig.tight_layout()
        paths.append(out / "spectra" / f"{i:04d}_{_safe_filename(str(c['name'][i]))}.png")
        fig.savefig(paths[-1], dpi=90)
        plt.close(fig)
    return paths


def _fmt(x: Any, digits: int = 3) -> str:
    if isinstance(x, (float, np.floating)):
        return "-" if not np.isfinite(x) else f"{float(x):.{digits}f}"
    return str(x)


def _layer_rows(report: ScanReport) -> tuple[list[str], list[list[str]]]:
    c = report.columns
    head = ["#", "layer", "block", "kind", "shape"]
    head += [f"α {ch}" for ch in report.charts] + ["ww_alpha", "erank.9", "r", "error"]
    rows = []
    for i in range(len(report)):
        row = [str(i), str(c["name"][i]), str(c["block"][i]) if c["block"][i] >= 0 else "-", str(c["kind"][i])]
        row.append(f"{c['m'][i]}x{c['n'][i]}")
        row += [_fmt(c[f"alpha_{ch}"][i]) for ch in report.charts]
        row += [_fmt(c["ww_alpha"][i]), str(c["erank_90"][i]), _fmt(c["top_radial"][i]), "FAILED" if c["error"][i] else ""]
        rows.append(row)
    return head, rows


def _summary_rows(report: ScanReport) -> tuple[list[str], list[list[str]]]:
    s = report.depth_summary()
    head = ["block", "layers", "failed"] + [f"mean α {ch}" for ch in report.charts] + ["mean ww_alpha", "mean erank.9", "mean r"]
    rows = []
    for j, b in enumerate(s["block"]):
        row = [str(b), str(s["layers"][j]), str(s["failed"][j])]
        row += [_fmt(s[f"mean_alpha_{ch}"][j]) for ch in report.charts]
        row += [_fmt(s["mean_ww_alpha"][j]), _fmt(s["mean_erank_90"][j], 1), _fmt(s["mean_top_radial"][j])]
        rows.append(row)
    return head, rows


def _print_plain(title: str, head: list[str], rows: list[list[str]], file: Any) -> None:
    widths = [max(len(h), *(len(r[j]) for r in rows)) if rows else len(h) for j, h in enumerate(head)]
    print(title, file=file)
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip(), file=file)
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip(), file=file)


def _print_tables(report: ScanReport, rich_console: Any) -> None:
    tables = [("Per-layer profile (depth order)", *_layer_rows(report)), ("Depth summary (per block)", *_summary_rows(report))]
    for title, head, rows in tables:
        if rich_console is None:
            _print_plain(title, head, rows, sys.stdout)
            print()
            continue
        from rich.markup import escape
        from rich.table import Table

        t = Table(title=title, title_justify="left")
        for h in head:
            t.add_column(h, justify="left" if h in ("layer", "kind", "error") else "right", no_wrap=h == "layer")
        for r in rows:
            t.add_row(*(escape(cell) for cell in r))
        rich_console.print(t)


def run_scan_command(
    path: str,
    *,
    pattern: str | None = None,
    out: str | None = None,
    plots: str | None = None,
    threads: int | None = None,
    charts: Sequence[str] = ("ls", "top"),
) -> int:
    """``gsalign scan``: scan ``path``, print the per-layer table and the depth summary, and write
    the report (``out``) and figures (``plots``). Returns the exit code: 0 when every layer was
    profiled, 1 when some layers failed (listed on stderr), 2 for bad arguments or unreadable input.
    A progress bar (rich) is drawn on a terminal; without one, a plain line per layer goes to stderr."""
    from .exceptions import GsalignError

    if out is not None and Path(out).suffix.lower() not in (".csv", ".json", ".parquet"):
        print(f"error: --out {out!r}: use a .csv, .json or .parquet suffix", file=sys.stderr)
        return 2
    if plots is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print("error: --plots needs matplotlib (pip install 'gsalign[report]')", file=sys.stderr)
            return 2
    console = None
    if sys.stdout.isatty():
        try:
            from rich.console import Console

            console = Console()
        except ImportError:
            console = None
    try:
        if console is not None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            with Progress(
                TextColumn("scanning"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                TextColumn("{task.description}"), console=console, transient=True,
            ) as bar:
                task = bar.add_task("", total=None)

                def tick(done: int, total: int, name: str) -> None:
                    bar.update(task, completed=done, total=total, description=name)

                report = scan(path, pattern=pattern, charts=charts, n_threads=threads, progress=tick)
        else:

            def line(done: int, total: int, name: str) -> None:
                print(f"[{done}/{total}] {name}", file=sys.stderr, flush=True)

            report = scan(path, pattern=pattern, charts=charts, n_threads=threads, progress=line)
    except (GsalignError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _print_tables(report, console)
    print(f"{len(report)} layers, {len(report.failed)} failed, {len(report.skipped)} tensors skipped "
          f"(not layer matrices); files: {', '.join(report.files)}")
    if out is not None:
        print(f"report written to {report.write(out)}")
    if plots is not None:
        written = save_plots(report, plots)
        print(f"{len(written)} figures written to {plots}")
    if report.failed:
        print(f"{len(report.failed)} layer(s) failed:", file=sys.stderr)
        for name, err in report.failed:
            print(f"  {name}: {err}", file=sys.stderr)
        return 1
    return 0


# --- Scans in parts (gsalign.distributed): merge the raw columns of disjoint tensor subsets ------

def _merge_parts(parts: Sequence[dict[str, Any]], tensors: Sequence[str]) -> dict[str, Any]:
    """The raw columns of one scan (as ``_core.scan_path`` returns them) from the raw columns of
    scans of disjoint tensor subsets of the same checkpoint: rows in depth order, ``skipped`` in
    the order of ``tensors`` (the checkpoint's tensor names), ``files`` of the first part.
    ``parts`` must not be empty (a scan of no tensors gives the column layout)."""
    merged: dict[str, Any] = {}
    for key, value in parts[0].items():
        if key in ("skipped", "files"):
            continue
        if isinstance(value, np.ndarray):
            merged[key] = np.concatenate([p[key] for p in parts])
        else:
            merged[key] = [x for p in parts for x in p[key]]
    order = _core.layer_depth_order(list(merged["name"]), list(merged["kind"]))
    for key, value in merged.items():
        merged[key] = value[order] if isinstance(value, np.ndarray) else [value[i] for i in order]
    position = {name: i for i, name in enumerate(tensors)}
    merged["skipped"] = sorted((s for p in parts for s in p["skipped"]), key=lambda s: position[s[0]])
    merged["files"] = list(parts[0]["files"])
    return merged
