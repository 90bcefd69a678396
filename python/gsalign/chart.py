"""Power-law charts of a singular spectrum and their residuals (SPEC §3.3–§3.5).

A chart maps a descending spectrum s_1 ≥ … ≥ s_k ≥ 0 to a rank exponent α̂ ≥ 0 of the power-law
orbit p_i(α) = i^{−2α}/H_k(2α) (:mod:`gsalign.orbit`):

* ``"ls"`` (least squares on a rank window W, default): α_LS = −Σ_{i∈W} w_i log s_i with
  w_i = (ℓ_i − ℓ̄_W)/Σ_{j∈W}(ℓ_j − ℓ̄_W)², ℓ_i = log i (minus the OLS slope of log s against log i);
* ``"top"`` (top-radial chart inverse): α_top = R_k^{−1}(r), r = ½ log(k s_1²/Σ s_j²);
* ``"metric"`` (Hellinger/Bures projection): α_H = argmin_α ‖√p − √p(α)‖₂ (pinned grid + Brent).

Every fit reports the signed orbit-chart residual ε = r − R_k(α̂) (nats) and the Hellinger
residual δ_H = ‖√p − √p(α̂)‖₂ (the Bures residual is √k·δ_H).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Literal, Optional, Union

import numpy as np

from . import _core
from ._arrays import _float_array, check_choice, check_threads
from .exceptions import DTypeError, EmptyInputError, InvalidArgumentError, ShapeError

ChartName = Literal["ls", "top", "metric"]
_CHARTS = ("ls", "top", "metric")

#: Default LS window threshold: W = {1..k″}, k″ = #{i : s_i > TAU_LS·s_1}.
TAU_LS = 1e-8

__all__ = ["fit_power_law", "PowerLawFit", "PowerLawFitBatch", "ls_weights", "residual_vector", "TAU_LS"]


@dataclass(frozen=True, repr=False)
class PowerLawFit:
    """A power-law chart value of one spectrum and its residuals.

    Attributes
    ----------
    alpha : float
        Rank exponent α̂ (s_i ∝ i^{−α}). ``inf`` for a spectrum steeper than the chart resolves
        (rank 1 for ``"top"``, beyond α = 20 for ``"metric"``); NaN when undefined (width 1, a
        default LS window with a single rank, or the zero spectrum).
    beta : float
        Energy exponent β = 2α̂ (λ_i = s_i² ∝ i^{−β}).
    chart : str
        ``"ls"``, ``"top"`` or ``"metric"``.
    window : tuple[int, int] or None
        Ranks (lo, hi), 1-based inclusive, that the fit used ((1, k) for ``"top"`` and
        ``"metric"``); None for the zero spectrum.
    epsilon : float
        Signed orbit-chart residual ε = r − R_k(α̂) (nats); ≡ 0 for ``"top"``.
    hellinger : float
        Hellinger residual δ_H = ‖√p − √p_k(α̂)‖₂ (dimensionless).
    """

    alpha: float
    beta: float
    chart: str
    window: Optional[tuple[int, int]]
    epsilon: float
    hellinger: float

    def __repr__(self) -> str:
        win = "None" if self.window is None else f"{self.window[0]}..{self.window[1]}"
        return (
            f"PowerLawFit(chart={self.chart!r}, alpha={self.alpha:.6f}, beta={self.beta:.6f}, "
            f"window={win}, epsilon={self.epsilon:+.6f}, hellinger={self.hellinger:.6f})"
        )


@dataclass(frozen=True, repr=False)
class PowerLawFitBatch:
    """The fields of :class:`PowerLawFit` as columns, one row per spectrum of a batch.

    ``alpha``, ``beta``, ``epsilon``, ``hellinger`` are float64 arrays (L,); ``window`` is an int
    array (L, 2) of 1-based inclusive ranks ((0, 0) for a zero spectrum). ``batch[i]`` is the
    :class:`PowerLawFit` of spectrum i.
    """

    alpha: np.ndarray
    beta: np.ndarray
    chart: str
    window: np.ndarray
    epsilon: np.ndarray
    hellinger: np.ndarray

    def __len__(self) -> int:
        return len(self.alpha)

    def __getitem__(self, i: int) -> PowerLawFit:
        lo, hi = (int(x) for x in self.window[i])
        return PowerLawFit(
            alpha=float(self.alpha[i]),
            beta=float(self.beta[i]),
            chart=self.chart,
            window=None if lo == 0 else (lo, hi),
            epsilon=float(self.epsilon[i]),
            hellinger=float(self.hellinger[i]),
        )

    def __repr__(self) -> str:
        if len(self) == 0:
            return f"PowerLawFitBatch(chart={self.chart!r}, 0 spectra)"
        with np.errstate(all="ignore"):
            return (
                f"PowerLawFitBatch(chart={self.chart!r}, {len(self)} spectra, "
                f"alpha={np.nanmin(self.alpha):.4f}..{np.nanmax(self.alpha):.4f})"
                if np.any(~np.isnan(self.alpha))
                else f"PowerLawFitBatch(chart={self.chart!r}, {len(self)} spectra, alpha=nan)"
            )


def _window_args(window: Any) -> tuple[Optional[tuple[int, int]], Optional[tuple[float, float]]]:
    """``window`` → (ranks, quantiles): None; a pair of ints (ranks); a pair of floats in (0, 1]
    (effective-rank quantiles)."""
    if window is None:
        return None, None
    bad = InvalidArgumentError(
        "window: must be None, a pair of 1-based ranks (lo, hi) with lo < hi, or a pair of "
        f"effective-rank quantiles (tau_lo, tau_hi) in (0, 1], got {window!r}"
    )
    if isinstance(window, (str, bytes)):
        raise bad
    try:
        items = list(window)
    except TypeError:
        raise bad from None
    if len(items) != 2 or any(isinstance(x, bool) for x in items):
        raise bad
    if all(isinstance(x, numbers.Integral) for x in items):
        lo, hi = (int(x) for x in items)
        if lo < 1 or hi <= lo:
            raise bad
        return (lo, hi), None
    if all(isinstance(x, numbers.Real) for x in items):
        lo, hi = (float(x) for x in items)
        if not (0.0 < lo <= hi <= 1.0):
            raise bad
        return None, (lo, hi)
    raise bad


def _nan_fit(chart: str) -> PowerLawFit:
    nan = float("nan")
    return PowerLawFit(alpha=nan, beta=nan, chart=chart, window=None, epsilon=nan, hellinger=nan)


def fit_power_law(
    sv: Any,
    *,
    chart: ChartName = "ls",
    window: Any = None,
    n_threads: int | None = None,
) -> Union[PowerLawFit, PowerLawFitBatch]:
    """Fit a power-law chart to a descending singular spectrum (SPEC §3.3–§3.5).

    The Python name of the core's ``chart::fit``.

    Parameters
    ----------
    sv : array_like
        Descending singular values, 1-D (k,) → :class:`PowerLawFit`; or 2-D (L, k), one spectrum
        per row → :class:`PowerLawFitBatch` (fitted in parallel). Scale does not matter.
    chart : {"ls", "top", "metric"}
        ``"ls"``: α_LS = −Σ_{i∈W} w_i log s_i, w_i = (ℓ_i − ℓ̄_W)/Σ_{j∈W}(ℓ_j − ℓ̄_W)², ℓ_i = log i.
        ``"top"``: α_top = R_k^{−1}(r) with R_k(α) = ½ log(k/H_k(2α)) (inf at rank 1).
        ``"metric"``: α_H = argmin_{α≥0} ‖√p − √p_k(α)‖₂ on the pinned grid, refined by bounded
        Brent (inf beyond α = 20).
    window : None, (int, int) or (float, float)
        LS window only. None: W = {1..k″}, k″ = #{s_i > 1e-8·s_1}. A pair of ints: ranks lo..hi
        (1-based, inclusive), 1 ≤ lo < hi ≤ k′ (the numerical rank). A pair of floats in (0, 1]:
        W = [erank_{τ_lo}, erank_{τ_hi}] (effective-rank quantiles, SPEC §8).
    n_threads : int, optional
        Worker threads for a 2-D batch (default: all cores).

    Returns
    -------
    PowerLawFit or PowerLawFitBatch
        alpha, beta = 2·alpha, chart, window (the ranks used), epsilon = r − R_k(alpha) (nats) and
        hellinger = ‖√p − √p_k(alpha)‖₂. A zero spectrum gives NaN values (SPEC §9) instead of
        an error; width 1 gives NaN.

    Raises
    ------
    InvalidArgumentError
        Naming ``chart`` or ``window`` (outside 1..k′, fewer than 2 ranks, quantiles outside
        (0, 1], a window with a chart other than ``"ls"``), or ``sv`` (negative or unsorted).
    NonFiniteError, EmptyInputError, ShapeError, DTypeError
        Naming ``sv``.
    """
    check_choice(chart, "chart", _CHARTS)
    ranks, quantiles = _window_args(window)
    if window is not None and chart != "ls":
        raise InvalidArgumentError(f"window: only the 'ls' chart takes a window, not {chart!r}")
    arr = _float_array(sv, "sv")
    if arr.ndim not in (1, 2):
        raise ShapeError(
            f"sv: expected a 1-D spectrum or a 2-D batch (one spectrum per row), got shape {arr.shape}"
        )
    if arr.size == 0:
        raise EmptyInputError(f"sv: the spectrum is empty (shape {arr.shape})")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if arr.ndim == 1:
        if not np.any(arr) and np.all(np.isfinite(arr)):
            return _nan_fit(chart)
        alpha, beta, name, win, eps, hell = _core.fit_power_law(arr, chart, ranks, quantiles)
        return PowerLawFit(alpha=alpha, beta=beta, chart=name, window=tuple(win), epsilon=eps, hellinger=hell)
    n_threads = check_threads(n_threads)
    zero = ~np.any(arr, axis=1) & np.all(np.isfinite(arr), axis=1)
    rows = [arr[i] for i in np.flatnonzero(~zero)]
    cols = _core.fit_power_law_batch(rows, chart, ranks, quantiles, n_threads)
    n = arr.shape[0]
    out = {name: np.full(n, np.nan) for name in ("alpha", "beta", "epsilon", "hellinger")}
    win = np.zeros((n, 2), dtype=np.int64)
    keep = ~zero
    for name in out:
        out[name][keep] = cols[name]
    win[keep, 0] = cols["window_lo"]
    win[keep, 1] = cols["window_hi"]
    return PowerLawFitBatch(chart=chart, window=win, **out)


def ls_weights(lo: int, hi: int) -> np.ndarray:
    """LS weights w_i = (ℓ_i − ℓ̄_W)/Σ_{j∈W}(ℓ_j − ℓ̄_W)², ℓ_i = log i, on W = {lo..hi} (1-based).

    Σw = 0 and Σ w_i log i = 1. ‖w‖₁ for W = {1..d}: 1.18435 (d = 10), 0.82688 (100), 0.75372 (1e3),
    0.73624 (1e5), → 2/e.
    """
    for name, v in (("lo", lo), ("hi", hi)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise InvalidArgumentError(f"window: {name} must be a positive integer rank, got {v!r}")
    return _core.ls_weights(int(lo), int(hi))


def residual_vector(sv: Any, alpha: float) -> np.ndarray:
    """Hellinger residual vector e = √p − √p_k(α) ∈ ℝ^k (dimensionless); ‖e‖₂ = δ_H.

    α = inf uses the point mass e_1. Raises naming ``sv`` or ``alpha``.
    """
    from ._arrays import as_spectrum

    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise DTypeError(f"alpha: must be a real number >= 0, got {type(alpha).__name__} {alpha!r}")
    return _core.residual_vector(as_spectrum(sv), float(alpha))
