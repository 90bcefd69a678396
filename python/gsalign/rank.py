"""Effective rank as a spectral-energy quantile, rank windows and stable rank (SPEC §8).

For a descending spectrum s_1 ≥ … ≥ s_K ≥ 0 (K = min(m, n), zero singular values included) with
energy distribution p_i = s_i² / Σ_j s_j²:

* effective rank erank_τ = min{k : Σ_{i≤k} p_i ≥ τ}, τ ∈ (0, 1], computed with Neumaier-compensated
  sums and the tolerance 64·K·ε (so that, for example, K = 20000 equal singular values give exactly
  10000 at τ = ½);
* rank window [erank_{τ_lo}, erank_{τ_hi}] (1-based, inclusive);
* stable rank ‖A‖_F² / ‖A‖₂² = Σ_i (s_i/s_1)² = K e^{−2r};
* robustness: TV(p, q) ≤ Hell(p, q), and erank_{τ−TV}(p) ≤ erank_τ(q) ≤ erank_{τ+TV}(p)
  (:func:`erank_bracket`).

Every function takes a 1-D spectrum; :func:`effective_rank` and :func:`stable_rank` also take a 2-D
array with one spectrum per row and return one value per row.
"""

from __future__ import annotations

import numbers
from typing import Any, Union

import numpy as np

from . import _core
from ._arrays import _float_array, as_spectrum
from .exceptions import DTypeError, EmptyInputError, InvalidArgumentError

__all__ = ["effective_rank", "effective_ranks", "rank_window", "stable_rank", "erank_bracket"]


def _real(x: Any, arg: str) -> float:
    """A real scalar argument as a float (the core checks its range)."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        raise DTypeError(f"{arg}: expected a real number, got {x!r}")
    try:
        return float(x)
    except OverflowError:
        raise InvalidArgumentError(f"{arg}: {x!r} is too large for a float") from None


def _spectra(sv: Any) -> np.ndarray:
    """A 1-D spectrum, or a C-contiguous float64 2-D array with one spectrum per row."""
    arr = _float_array(sv, "sv")
    if arr.ndim != 2:
        return as_spectrum(arr, "sv")
    if arr.shape[1] == 0:
        raise EmptyInputError(f"sv: the spectra are empty (shape {arr.shape})")
    return np.ascontiguousarray(arr, dtype=np.float64)


def effective_rank(sv: Any, tau: float = 0.9) -> Union[int, np.ndarray]:
    """Effective rank erank_τ = min{k : Σ_{i≤k} p_i ≥ τ − 64·K·ε}, the energy quantile of SPEC §8.

    Parameters
    ----------
    sv : array_like
        Descending singular values (K,), or an (L, K) array with one spectrum per row.
    tau : float
        Energy fraction in (0, 1]; τ = 1 gives the support size max{i : p_i > 0}.

    Returns
    -------
    int, or an int array (L,) for a 2-D input.

    Raises
    ------
    InvalidArgumentError
        ``tau`` outside (0, 1]; a spectrum that is negative or not descending.
    NonFiniteError, EmptyInputError, ZeroMatrixError, ShapeError, DTypeError
        A bad spectrum (naming ``sv`` and, for a 2-D input, the row).
    """
    tau = _real(tau, "tau")
    arr = _spectra(sv)
    if arr.ndim == 2:
        return _core.effective_rank_batch(arr, tau).astype(np.int64)
    return _core.effective_rank(arr, tau)


def effective_ranks(sv: Any, taus: Any) -> np.ndarray:
    """Effective ranks of one spectrum at several quantiles ``taus`` (each in (0, 1]), in one pass
    over the spectrum. Returns an int array with one entry per τ."""
    message = f"taus: expected a sequence of real numbers, got {taus!r}"
    try:
        taus_arr = np.asarray(taus)
    except (ValueError, TypeError):
        raise DTypeError(message) from None
    if taus_arr.dtype.kind not in "fiu" or taus_arr.ndim != 1:
        raise DTypeError(message)
    values = [float(t) for t in taus_arr]
    return _core.effective_ranks(as_spectrum(sv), values).astype(np.int64)


def rank_window(sv: Any, tau_lo: float, tau_hi: float) -> tuple[int, int]:
    """Rank window (erank_{τ_lo}, erank_{τ_hi}), 1-based and inclusive, with 0 < τ_lo ≤ τ_hi ≤ 1.

    Raises :class:`~gsalign.exceptions.InvalidArgumentError` naming ``tau_lo`` or ``tau_hi`` when a
    bound is outside (0, 1] or τ_lo > τ_hi.
    """
    lo, hi = _core.rank_window(as_spectrum(sv), _real(tau_lo, "tau_lo"), _real(tau_hi, "tau_hi"))
    return (lo, hi)


def stable_rank(sv: Any) -> Union[float, np.ndarray]:
    """Stable rank ‖A‖_F² / ‖A‖₂² = Σ_i (s_i/s_1)² ∈ [1, K] (= K e^{−2r}) of a descending spectrum,
    or of every row of an (L, K) array (→ float array (L,)). Raises
    :class:`~gsalign.exceptions.ZeroMatrixError` for an all-zero spectrum."""
    arr = _spectra(sv)
    if arr.ndim == 2:
        return _core.stable_rank_batch(arr)
    return _core.stable_rank(arr)


def erank_bracket(sv: Any, tau: float, radius: float) -> tuple[int, int]:
    """Robust effective-rank bracket (erank_{τ−ρ}(p), erank_{τ+ρ}(p)), ρ = radius + 64·K·ε.

    Every spectrum q of the same width with TV(p, q) ≤ ``radius`` has erank_τ(q) inside the bracket
    (SPEC §8). Since TV ≤ Hellinger, the Hellinger residual δ of a fitted orbit is a valid radius.
    Quantiles below 0 give 1 and above 1 give the support size.
    """
    lo, hi = _core.erank_bracket(as_spectrum(sv), _real(tau, "tau"), _real(radius, "radius"))
    return (lo, hi)
