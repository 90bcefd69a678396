"""Operator chains and their certificates (SPEC §5, §6, §9 Modes S and F).

A chain is a sequence of factors J_1, …, J_L (J_l of shape d_l × d_{l−1}) with partial products
P_l = J_l ⋯ J_1 (later factors multiply **on the left**). :class:`Chain` reads the factors once
(a 3-D stack, an ``np.memmap``, a sequence of 2-D arrays, or an iterator/generator, which is
streamed: memory stays O(d²) whatever L is) and records, per step:

* the **profile** of the factors (:meth:`Chain.profile`): top-radial r, α̂ of each chart, ε, δ_H,
  effective ranks, stable rank, interface amplitude log ρ = ½ log(s_1/s_d);
* the **prefix profile** of P_l (:meth:`Chain.prefix_profile`), the **slack**
  σ_l = log s_1(J_l) + log s_1(P_{l−1}) − log s_1(P_l) (:meth:`Chain.slack`, computed locally by
  the normalised running product, Mode S) and log s_1(P_l) (:meth:`Chain.prefix_log_top`);
* all log singular values of P_L by graded QR accumulation (:meth:`Chain.product_log_spectrum`,
  Mode F), accurate far beyond what the raw product can represent.

:meth:`Chain.certify` turns these into the theorems of SPEC §6 (:class:`Certificate`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Optional, TextIO, Union

import numpy as np

from . import _core
from ._arrays import _float_array, as_matrix, check_choice, check_threads
from .exceptions import EmptyInputError, InvalidArgumentError, ShapeError

__all__ = ["Chain", "Certificate", "Check", "ProductLogSpectrum", "Table", "demo_report", "load_factors"]

log = logging.getLogger(__name__)

ChartName = Literal["ls", "top", "metric"]
_CHARTS = ("ls", "top", "metric")
#: Factors handed to the core per call (bounded memory for streams; Ctrl-C is also polled inside).
_CHUNK_BYTES = 32 << 20


class Table:
    """Named numpy columns of equal length (one row per factor or interface).

    ``table["name"]`` is a column; :meth:`to_pandas` and :meth:`to_arrow` wrap the columns without
    copying when pandas / pyarrow are installed (they are optional).
    """

    def __init__(self, columns: dict[str, np.ndarray], title: str = "") -> None:
        self._columns = {k: np.asarray(v) for k, v in columns.items()}
        self.title = title

    @property
    def columns(self) -> dict[str, np.ndarray]:
        """The columns (a new dict of the same arrays)."""
        return dict(self._columns)

    def __getitem__(self, name: str) -> np.ndarray:
        return self._columns[name]

    def __contains__(self, name: object) -> bool:
        return name in self._columns

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(next(iter(self._columns.values()))) if self._columns else 0

    def keys(self) -> Iterable[str]:
        """Column names."""
        return self._columns.keys()

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame`` of the columns (requires pandas)."""
        import pandas as pd

        return pd.DataFrame(self._columns)

    def to_arrow(self) -> Any:
        """A ``pyarrow.Table`` of the columns (requires pyarrow)."""
        import pyarrow as pa

        return pa.table({k: pa.array(v) for k, v in self._columns.items()})

    def __repr__(self) -> str:
        names = ", ".join(self._columns)
        return f"Table({self.title + ': ' if self.title else ''}{len(self)} rows; {names})"


@dataclass(frozen=True, repr=False)
class ProductLogSpectrum:
    """All log singular values of P_L (Mode F, natural log, descending).

    ``degraded`` is True when f64 Mode F could not represent the product (log singular values
    spanning more than 650 nats, a numerically singular product, or a non-finite graded factor):
    the values are then the graded diagonal, an approximation, and ``reason`` says why.
    ``np.asarray(result)`` gives ``log_sv``.
    """

    log_sv: np.ndarray
    degraded: bool
    reason: str

    @property
    def span(self) -> float:
        """max log s − min log s over the finite values (nats)."""
        f = self.log_sv[np.isfinite(self.log_sv)]
        return float(f.max() - f.min()) if f.size else float("nan")

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.log_sv if dtype is None else self.log_sv.astype(dtype)

    def __len__(self) -> int:
        return len(self.log_sv)

    def __repr__(self) -> str:
        flag = f", DEGRADED: {self.reason}" if self.degraded else ""
        return (
            f"ProductLogSpectrum({len(self.log_sv)} values, log s1 = {self.log_sv[0]:.6f}, "
            f"span = {self.span:.3f} nats{flag})"
        )


@dataclass(frozen=True)
class Check:
    """One theorem check: ``lower ≤ value ≤ upper`` (an identity has lower = upper = 0 on the
    defect). ``margin`` = distance to the nearer bound (negative when violated); ``vacuous`` when
    a bound is infinite/NaN or its hypothesis fails (then it does not count against the verdict)."""

    name: str
    section: str
    value: float
    lower: float
    upper: float
    margin: float
    holds: bool
    vacuous: bool
    note: str = ""

    @property
    def verdict(self) -> str:
        """"holds", "FAILS" or "vacuous"."""
        return "vacuous" if self.vacuous else ("holds" if self.holds else "FAILS")


def _fmt(x: float) -> str:
    if isinstance(x, float) and math.isinf(x):
        return "+inf" if x > 0 else "-inf"
    if isinstance(x, float) and math.isnan(x):
        return "nan"
    return f"{x:.6g}"


@dataclass(frozen=True, repr=False)
class Certificate:
    """The theorems of SPEC §6 checked on one chain (see ``gsalign.certify`` in the Rust core for
    the list). ``checks``: whole-chain checks (identities, summed forms, and for every per-interface
    check the tightest interface); ``interfaces``: the per-interface checks as a :class:`Table`
    with columns ``"<check>.value"``, ``".lower"``, ``".upper"``, ``".margin"``, ``".holds"``,
    ``".vacuous"``; ``terms``: the quantities the bounds are made of (Σσ, Σε, log M, …)."""

    chart: str
    holds: bool
    terms: dict[str, Any]
    checks: tuple[Check, ...]
    interfaces: Table = field(compare=False)

    def check(self, name: str) -> Check:
        """The whole-chain check called ``name`` (e.g. ``"R1 identity"``, ``"R2(b) (every interface)"``)."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"no check named {name!r}; have {[c.name for c in self.checks]}")

    def table(self) -> Table:
        """Per-interface table (one row per interface l = 1..L)."""
        return self.interfaces

    def to_pandas(self) -> Any:
        """Per-interface table as a ``pandas.DataFrame``."""
        return self.interfaces.to_pandas()

    def to_arrow(self) -> Any:
        """Per-interface table as a ``pyarrow.Table``."""
        return self.interfaces.to_arrow()

    def summary(self) -> str:
        """A readable multi-line report: terms, then one line per check."""
        t = self.terms
        budget = "given" if t["budget_given"] else "the chain's own, L·max log ρ"
        lines = [
            f"Certificate (chart {self.chart!r}, L = {t['depth']}): "
            + ("every non-vacuous check holds" if self.holds else "SOME CHECKS FAIL"),
            f"  budget log M = {t['log_budget']:.6f} ({budget}); sum sigma = {t['slack_sum']:.6f}; "
            f"L log rho-bar = {t['log_rho_sum']:.6f}; max log rho = {t['log_rho_max']:.6f}",
            f"  log s1(P_L) = {t['log_top_product']:.6f}; log s1(Q_L) = {t['log_top_normalized']:.6f}; "
            f"sum eps (factors) = {t['factor_epsilon_sum']:.6f}; sum |d eps| = {t['epsilon_variation']:.6f}; "
            f"sum nu = {t['hellinger_variation']:.6f}",
            f"  exponent alpha(P_L) - alpha(I) = {t['exponent_displacement']:.6f}; "
            f"max adjacent drift = {t['max_drift']:.6f}",
        ]
        w = max(len(c.name) for c in self.checks)
        for c in self.checks:
            lo = "" if c.lower == -math.inf else f"{_fmt(c.lower)} <= "
            hi = "" if c.upper == math.inf else f" <= {_fmt(c.upper)}"
            lines.append(
                f"  [{c.verdict:>7}] {c.name:<{w}}  §{c.section:<6} {lo}{_fmt(c.value)}{hi}"
                f"  margin {_fmt(c.margin)}" + (f"  ({c.note})" if c.note else "")
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        n_live = sum(not c.vacuous for c in self.checks)
        n_fail = sum(not c.holds for c in self.checks)
        return (
            f"<Certificate chart={self.chart!r} L={self.terms['depth']} "
            f"{'HOLDS' if self.holds else 'FAILS'}: {n_live} live checks, {n_fail} failing, "
            f"{len(self.checks) - n_live} vacuous; log M = {self.terms['log_budget']:.4g}, "
            f"sum sigma = {self.terms['slack_sum']:.4g}>"
        )


def _certificate(raw: dict[str, Any]) -> Certificate:
    cols: dict[str, np.ndarray] = {}
    for col in raw["interfaces"]:
        for key in ("value", "lower", "upper", "margin", "holds", "vacuous"):
            cols[f"{col['name']}.{key}"] = col[key]
    n = len(next(iter(cols.values()))) if cols else 0
    cols = {"interface": np.arange(1, n + 1), **cols}
    return Certificate(
        chart=raw["chart"],
        holds=bool(raw["holds"]),
        terms=dict(raw["terms"]),
        checks=tuple(Check(**c) for c in raw["checks"]),
        interfaces=Table(cols, "interfaces"),
    )


class _Columns:
    """Read-only mapping over the per-step columns of a finished pass: each column is copied out of
    the core when asked for, so a long chain keeps a single copy of its per-step data."""

    def __init__(self, result: Any) -> None:
        self._result = result
        self._names = set(result.column_names())

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._names:
            raise KeyError(name)
        return self._result.columns([name])[name]

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def keys(self) -> list[str]:
        return sorted(self._names)

    def items(self) -> list[tuple[str, np.ndarray]]:
        return [(k, self[k]) for k in self.keys()]


def _window(window: Any) -> Optional[tuple[str, float, float]]:
    if window is None:
        return None
    if isinstance(window, tuple) and len(window) == 2:
        lo, hi = window
        if all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in window):
            if 1 <= lo < hi:
                return ("ranks", float(lo), float(hi))
        elif all(isinstance(x, (float, np.floating)) for x in window):
            if 0.0 < lo <= hi <= 1.0:
                return ("quantiles", float(lo), float(hi))
    raise InvalidArgumentError(
        f"window: expected None, a rank pair (lo, hi) of ints or a quantile pair (tau_lo, tau_hi) "
        f"of floats, got {window!r}"
    )


def _is_stream(factors: Any) -> bool:
    return not isinstance(factors, (np.ndarray, list, tuple)) and isinstance(factors, Iterable)


class Chain:
    """An operator chain J_1, …, J_L with P_l = J_l ⋯ J_1, analysed in one pass.

    Parameters
    ----------
    factors : array_like or iterable
        A 3-D stack (L, d, d) (any layout, ``np.memmap`` included), a sequence of 2-D arrays with
        compatible shapes (J_l is d_l × d_{l−1}), or an iterator/generator of 2-D arrays (streamed:
        memory stays O(d²) whatever L). float32/float64 (computed in float64).
    n_threads : int, optional
        Worker threads (default: all cores). Results do not depend on it.
    charts : sequence of {"ls", "top", "metric"}
        Charts fitted to every factor and every prefix (the metric chart is the costliest).
    window : None, (lo, hi) ints, or (tau_lo, tau_hi) floats
        Window of the LS chart (default: ranks with s_i > 1e-8·s_1).
    ky_fan : int or sequence of int, optional
        Ky Fan-k slacks to record during the pass (a stream cannot be re-read; an array or list
        chain recomputes other k on demand).
    product_spectrum : bool
        Run Mode F (all log singular values of P_L); about doubles the serial work per step.
    method : {"auto", "gram", "svd"}
        How the singular values of each factor and prefix are computed (see
        :func:`gsalign.singular_values`).

    Examples
    --------
    >>> import gsalign
    >>> chain = gsalign.Chain(gsalign.chains.near_identity(64, 16, 0.1, seed=0))
    >>> float(chain.slack().sum()) >= 0
    True
    >>> chain.certify().holds
    True

    Raises
    ------
    ShapeError
        A factor that cannot multiply the running product (the message names its index), or not 2-D.
    NonFiniteError, EmptyInputError, DTypeError, ZeroMatrixError
        Naming the index of the offending factor.
    """

    def __init__(
        self,
        factors: Any,
        *,
        n_threads: int | None = None,
        charts: Sequence[ChartName] = _CHARTS,
        window: Any = None,
        ky_fan: Union[int, Sequence[int], None] = None,
        product_spectrum: bool = True,
        method: Literal["auto", "gram", "svd"] = "auto",
    ) -> None:
        self._n_threads = check_threads(n_threads)
        charts = tuple(charts)
        if not charts:
            raise InvalidArgumentError("charts: at least one chart is needed")
        for c in charts:
            check_choice(c, "charts", _CHARTS)
        self._charts = charts
        self._window = _window(window)
        check_choice(method, "method", ("auto", "gram", "svd"))
        self._method = method
        self._product_spectrum = bool(product_spectrum)
        ks = [] if ky_fan is None else ([ky_fan] if isinstance(ky_fan, (int, np.integer)) else list(ky_fan))
        self._source = None if _is_stream(factors) else factors
        self._result = self._run(factors, [int(k) for k in ks], self._product_spectrum)
        self._cols = _Columns(self._result)
        self._extra_ky: dict[int, np.ndarray] = {}

    def _run(self, factors: Any, ky_fan: list[int], product_spectrum: bool) -> Any:
        p = _core.ChainPass(list(self._charts), self._window, product_spectrum, ky_fan, self._method)
        if isinstance(factors, np.ndarray) or (
            not isinstance(factors, (list, tuple)) and not _is_stream(factors)
        ):
            arr = _float_array(factors, "factors")
            if arr.ndim != 3:
                raise ShapeError(
                    f"factors: expected a 3-D stack (L, d_out, d_in), a sequence of 2-D arrays or an "
                    f"iterator of 2-D arrays, got an array of shape {arr.shape}"
                )
            if arr.shape[0] == 0 or arr.shape[1] == 0 or arr.shape[2] == 0:
                raise EmptyInputError(f"factors: the chain is empty (stack shape {arr.shape})")
            step = max(1, _CHUNK_BYTES // max(1, arr[0].nbytes))
            for s in range(0, arr.shape[0], step):
                p.push_stack(arr[s : s + step], self._n_threads)
        else:
            batch: list[np.ndarray] = []
            size = 0
            for i, a in enumerate(factors):
                m = as_matrix(a, f"factors[{i}]")
                batch.append(m)
                size += m.nbytes
                if size >= _CHUNK_BYTES or len(batch) >= 256:
                    p.push_list(batch, self._n_threads)
                    batch, size = [], 0
            if batch:
                p.push_list(batch, self._n_threads)
            if len(p) == 0:
                raise EmptyInputError("factors: the chain has no factors")
        return p.finish()

    # --- sizes -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._result)

    @property
    def shapes(self) -> list[tuple[int, int]]:
        """(d_l, d_{l−1}) of every factor."""
        return list(zip(self._cols["rows"].tolist(), self._cols["cols"].tolist()))

    def timings(self) -> dict[str, float]:
        """Wall-clock seconds of the pass: ``serial`` (the running product and Mode F, overlapped
        with the parallel per-factor work), ``total``, and ``serial_share`` = serial/total (near 1
        means the serial part is the critical path). Diagnostics only."""
        serial, total = self._result.timings()
        return {"serial": serial, "total": total, "serial_share": serial / total if total > 0 else float("nan")}

    @property
    def charts(self) -> tuple[str, ...]:
        """The charts fitted in this pass."""
        return self._charts

    # --- per-factor and per-prefix quantities ------------------------------------------------
    def profile(self) -> Table:
        """Per-factor columns: ``top_radial`` r(J_l); for each chart c ``alpha_c``, ``window_lo_c``,
        ``window_hi_c``, ``epsilon_c`` (ε = r − R_k(α̂)) and ``hellinger_c`` (δ_H); ``erank_50``,
        ``erank_90``, ``erank_99`` (energy quantiles); ``stable_rank``; ``log_rho``
        (interface amplitude ½ log(s_1/s_d), +inf when singular or non-square); ``log_top``
        (log s_1(J_l)). One row per factor."""
        names = ["top_radial"]
        for c in self._charts:
            names += [f"alpha_{c}", f"window_lo_{c}", f"window_hi_{c}", f"epsilon_{c}", f"hellinger_{c}"]
        names += ["erank_50", "erank_90", "erank_99", "stable_rank", "log_rho", "log_top"]
        cols = {"factor": np.arange(1, len(self) + 1), **{n: self._cols[n] for n in names}}
        return Table(cols, "factor profile")

    def prefix_profile(self) -> Table:
        """Per-prefix columns for X_l = P_l (l = 1..L): ``log_top`` log s_1(P_l), ``top_radial``
        r(P_l), ``slack`` σ_l; for each chart c ``alpha_c``, ``epsilon_c``, ``hellinger_c``,
        ``residual_variation_c`` (ν_l = ‖e_l − e_{l−1}‖), ``orbit_distance_c`` (η_l of §6.4);
        ``energy_step`` ‖√p_l − √p_{l−1}‖."""
        cols: dict[str, np.ndarray] = {
            "prefix": np.arange(1, len(self) + 1),
            "log_top": self._cols["prefix_log_top"],
            "top_radial": self._cols["prefix_top_radial"],
            "slack": self._cols["slack"],
        }
        for c in self._charts:
            for key in ("alpha", "window_lo", "window_hi", "epsilon", "hellinger", "residual_variation", "orbit_distance"):
                cols[f"{key}_{c}"] = self._cols[f"prefix_{key}_{c}"]
        cols["energy_step"] = self._cols["prefix_energy_step"]
        return Table(cols, "prefix profile")

    def slack(self, k: int | None = None) -> np.ndarray:
        """Non-backtracking slack σ_l = log s_1(J_l) + log s_1(P_{l−1}) − log s_1(P_l) (k = None),
        computed locally at each step (SPEC §5, Mode S); or the Ky Fan-k slack
        σ_l^{(k)} = Σ_{i≤k}[a_i(J_l) + a_i(P_{l−1}) − a_i(P_l)] ≥ 0 (exactly 0 for k = d).

        Telescoping: Σ_l log s_1(J_l) = log s_1(P_L) + Σ_l σ_l (to rounding; σ_l can come out as
        −1e−16). Ky Fan-k is accurate while s_k(P_l)/s_1(P_l) ≫ 1e−16.
        """
        if k is None:
            return self._cols["slack"]
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise InvalidArgumentError(f"k: must be a positive integer or None, got {k!r}")
        key = f"ky_fan_{int(k)}"
        if key in self._cols:
            return self._cols[key]
        if int(k) not in self._extra_ky:
            if self._source is None:
                raise InvalidArgumentError(
                    f"k: the Ky Fan-{k} slack was not recorded and a streamed chain cannot be read "
                    f"again; pass ky_fan={k} to Chain(...)"
                )
            res = self._run(self._source, [int(k)], False)
            self._extra_ky[int(k)] = res.columns([key])[key]
        return self._extra_ky[int(k)]

    def prefix_log_top(self) -> np.ndarray:
        """log s_1(P_l) for l = 1..L (Mode S: normalised running product with a compensated log
        scale; never a raw product)."""
        return self._cols["prefix_log_top"]

    def normalized_log_top(self) -> np.ndarray:
        """log s_1(Q_l), Q_l = Ĵ_l ⋯ Ĵ_1 the product of the Frobenius-normalised factors (§6.1)."""
        return self._cols["normalized_log_top"]

    def product_log_spectrum(self) -> ProductLogSpectrum:
        """All log singular values of P_L (Mode F: graded QR accumulation with presorted columns and
        a final one-sided Jacobi), with a degraded-accuracy flag past the range f64 Mode F supports."""
        product = self._result.product()
        if product is None:
            raise InvalidArgumentError(
                "product_log_spectrum: this chain was built with product_spectrum=False"
            )
        log_sv, degraded, reason = product
        return ProductLogSpectrum(log_sv, bool(degraded), str(reason))

    def certify(self, *, budget: float | None = None, chart: ChartName = "ls") -> Certificate:
        """The theorems of SPEC §6 on this chain (see :class:`Certificate`).

        Parameters
        ----------
        budget : float, optional
            Interface budget M > 1: the uniform budget is log ρ_l ≤ (log M)/L, the implied gain
            budget of R1 is M². Default: the chain's own, log M = L·max_l log ρ_l.
        chart : {"ls", "top", "metric"}
            Chart of the profile exponent α̂(P_l) (must be among ``charts``).
        """
        check_choice(chart, "chart", _CHARTS)
        if budget is not None:
            try:
                budget = float(budget)
            except (TypeError, ValueError):
                raise InvalidArgumentError(f"budget: must be a number > 1, got {budget!r}") from None
        return _certificate(_core.certify_chain(self._result, chart, budget))

    def __repr__(self) -> str:
        shapes = self.shapes
        d = {s for s in shapes}
        shape = f"{shapes[0][0]}x{shapes[0][1]}" if len(d) == 1 else "mixed shapes"
        return (
            f"Chain(L={len(self)}, {shape}, log s1(P_L) = {self.prefix_log_top()[-1]:.6f}, "
            f"sum slack = {float(np.sum(self.slack())):.6f})"
        )

    def summary(self) -> str:
        """Profile summary: ranges of the per-factor and prefix quantities."""
        prof, pre = self.profile(), self.prefix_profile()

        def rng(x: np.ndarray) -> str:
            if np.issubdtype(np.asarray(x).dtype, np.integer):
                return f"{int(np.min(x))} .. {int(np.max(x))}" if len(x) else "n/a"
            f = np.asarray(x, dtype=float)
            f = f[np.isfinite(f)]
            return f"{f.min():.6f} .. {f.max():.6f} (mean {f.mean():.6f})" if f.size else "n/a"

        lines = [repr(self), "  factors:"]
        lines.append(f"    top radial r      {rng(prof['top_radial'])}")
        for c in self._charts:
            lines.append(f"    alpha_{c:<10} {rng(prof[f'alpha_{c}'])}")
        lines.append(f"    log rho           {rng(prof['log_rho'])}")
        lines.append(f"    erank .5/.9/.99   {rng(prof['erank_50'])} / {rng(prof['erank_90'])} / {rng(prof['erank_99'])}")
        lines.append("  prefixes P_l:")
        lines.append(f"    log s1(P_l)       {rng(pre['log_top'])}")
        lines.append(f"    top radial r      {rng(pre['top_radial'])}")
        for c in self._charts:
            lines.append(f"    alpha_{c:<10} {rng(pre[f'alpha_{c}'])}")
        lines.append(f"    slack sigma       {rng(pre['slack'])}, sum {float(np.sum(self.slack())):.6f}")
        if self._product_spectrum:
            lines.append(f"  P_L: {self.product_log_spectrum()!r}")
        return "\n".join(lines)


def load_factors(path: Any, *, key: str | None = None) -> np.ndarray:
    """A stack of factors from a ``.npy`` file or a ``.npz`` archive, memory-mapped (uncompressed
    ``.npz`` members are mapped in place; compressed ones are read into memory). ``key`` names the
    array in a ``.npz`` (default: ``"factors"``, or its only array)."""
    import os
    import zipfile

    path = os.fspath(path)
    if not path.endswith(".npz"):
        return np.load(path, mmap_mode="r")
    with zipfile.ZipFile(path) as zf:
        names = [n[:-4] for n in zf.namelist() if n.endswith(".npy")]
        if key is None:
            key = "factors" if "factors" in names else (names[0] if len(names) == 1 else None)
        if key is None or key not in names:
            raise InvalidArgumentError(f"key: choose one of the arrays in {path}: {names}")
        info = zf.getinfo(key + ".npy")
        if info.compress_type != zipfile.ZIP_STORED:
            log.info("%s: %s is compressed; reading it into memory", path, key)
            with zf.open(info) as fh:
                return np.lib.format.read_array(fh)
    with open(path, "rb") as fh:
        fh.seek(info.header_offset)
        local = fh.read(30)
        name_len = int.from_bytes(local[26:28], "little")
        extra_len = int.from_bytes(local[28:30], "little")
        start = info.header_offset + 30 + name_len + extra_len
        fh.seek(start)
        version = np.lib.format.read_magic(fh)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(fh)
        offset = fh.tell()
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape, order="F" if fortran else "C")


def demo_report(
    L: int = 256,
    d: int = 128,
    *,
    h: float | None = None,
    seed: int = 0,
    plot: str | None = None,
    factors: Any = None,
    budget: float | None = None,
    chart: ChartName = "ls",
    n_threads: int | None = None,
    out: TextIO | None = None,
) -> Chain:
    """The chain section of ``gsalign demo`` (and of ``gsalign chain FILE``): builds a seeded
    near-identity residual chain J_l = I + h E_l (L, d; default h = 1/√L) unless ``factors`` is
    given, prints the profile summary and the certificate, and writes a PNG of the exponent
    profile with its certified drift band to ``plot`` when matplotlib is installed.
    Returns the :class:`Chain`."""
    import sys
    import time

    from . import chains

    stream = out if out is not None else sys.stdout
    if factors is None:
        h = 1.0 / math.sqrt(L) if h is None else h
        factors = chains.near_identity(L, d, h, seed)
        print(f"Near-identity residual chain J_l = I + h E_l (||E_l|| = 1): L = {L}, d = {d}, h = {h:.6g}, seed = {seed}", file=stream)
    start = time.perf_counter()
    chain = Chain(factors, n_threads=n_threads)
    elapsed = time.perf_counter() - start
    print(f"{chain.summary()}\n  ({len(chain)} factors in {elapsed:.2f} s)", file=stream)
    cert = chain.certify(budget=budget, chart=chart)
    print(cert.summary(), file=stream)
    if plot is not None:
        try:
            from .plot import plot_profile

            plot_profile(chain, cert, path=plot)
            print(f"plot written to {plot}", file=stream)
        except ImportError:
            print("matplotlib is not installed: no plot written", file=stream)
    return chain
