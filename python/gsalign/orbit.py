"""The exact power-law Cartan orbit of width d (SPEC §3.1, §3.2, §4, §8).

For a rank exponent α ≥ 0 (energy exponent, or inverse temperature, β = 2α) the orbit point is
the Gibbs distribution on ranks

    p_i(α) = i^{−2α} / H_d(2α),   i = 1..d,   H_d(β) = Σ_{i=1}^d i^{−β},

with energies ℓ_i = log i and log partition function ψ(β) = log H_d(β). Its trace-d state is
Λ = d·diag(p) and its singular values are s_i = √(d/H_d(2α))·i^{−α}. All logs are natural (nats).

Functions taking α or β accept a scalar (→ float) or an array (→ array of the same shape);
two-exponent functions broadcast their exponents. ``d`` is a positive integer. Exponents must be
≥ 0 (+inf is the point-mass limit where that limit is finite); a negative or NaN exponent raises
:class:`~gsalign.exceptions.InvalidArgumentError` naming the argument.

log H_d is exact to ~1e−15 relative for every d (1e9 included) and β (β = 1 ± 1e−12 included), in
O(1) time for d > 4096 (head + N-anchored Euler–Maclaurin tail); so are the moments E_β[log i] and
Var_β(log i).
"""

from __future__ import annotations

import numbers
from typing import Any, Union

import numpy as np

from . import _core
from .exceptions import DTypeError, InvalidArgumentError

__all__ = [
    "log_harmonic",
    "probabilities",
    "top_radial",
    "top_radial_slope",
    "log_rank_mean",
    "log_rank_variance",
    "fisher_information",
    "bures_line_element",
    "kl",
    "bhattacharyya",
    "fisher_rao_length",
    "tail_bounds",
    "harmonic_bounds",
    "effective_rank",
    "effective_rank_bounds",
    "effective_rank_asymptotic",
]

FloatOrArray = Union[float, np.ndarray]


def _width(d: Any, arg: str = "d") -> int:
    """``d`` as a positive Python int (numpy integers accepted; bools and floats rejected)."""
    if isinstance(d, bool) or not isinstance(d, numbers.Integral):
        raise DTypeError(f"{arg}: must be a positive integer, got {type(d).__name__} {d!r}")
    if d < 1 or d > 2**53:
        raise InvalidArgumentError(f"{arg}: must be a positive integer at most 2**53, got {d}")
    return int(d)


def _index(k: Any, arg: str) -> int:
    """A non-negative integer argument."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise DTypeError(f"{arg}: must be an integer, got {type(k).__name__} {k!r}")
    if k < 0 or k > 2**63 - 1:
        raise InvalidArgumentError(f"{arg}: must be a non-negative integer below 2**63, got {k}")
    return int(k)


def _scalar(x: Any, arg: str) -> float:
    """A real scalar argument (the core checks its domain)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        arr = np.asarray(x) if isinstance(x, np.ndarray) else None
        if arr is None or arr.ndim != 0 or arr.dtype.kind not in "fiu":
            raise DTypeError(f"{arg}: must be a real number, got {type(x).__name__} {x!r}")
    return float(x)


def _exponents(x: Any, arg: str) -> np.ndarray:
    """A real scalar or array argument as a float64 array (any shape)."""
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise DTypeError(f"{arg}: must be a real number or array of them ({exc})") from None
    if arr.dtype.kind not in "fiu" or arr.dtype == np.bool_:
        raise DTypeError(f"{arg}: must be a real number or array of them, got dtype {arr.dtype}")
    return arr.astype(np.float64, copy=False)


def _map1(fn: Any, d: Any, x: Any, arg: str) -> FloatOrArray:
    d = _width(d)
    arr = _exponents(x, arg)
    out = fn(d, np.ascontiguousarray(arr.ravel()))
    if arr.ndim == 0:
        return float(out[0])
    return out.reshape(arr.shape)


def _map2(fn: Any, d: Any, x: Any, y: Any) -> FloatOrArray:
    d = _width(d)
    a = _exponents(x, "beta0")
    b = _exponents(y, "beta1")
    try:
        a, b = np.broadcast_arrays(a, b)
    except ValueError:
        raise InvalidArgumentError(
            f"beta0, beta1: shapes {np.shape(x)} and {np.shape(y)} do not broadcast"
        ) from None
    out = fn(d, np.ascontiguousarray(a.ravel()), np.ascontiguousarray(b.ravel()))
    if a.ndim == 0:
        return float(out[0])
    return out.reshape(a.shape)


def log_harmonic(d: int, beta: Any) -> FloatOrArray:
    """log H_d(β) = log Σ_{i=1}^d i^{−β}: the log partition function ψ(β) (dimensionless).

    Exact to ~1e−15 relative for every d ≥ 1 and β ∈ [0, ∞] (β = 1 ± 1e−12 included): term-by-term
    compensated sums for d ≤ 4096, the exact head Σ_{i≤64} plus the N-anchored Euler–Maclaurin tail
    (O(1) in d, no cancellation) beyond. H_d(2α) is the stable rank of the orbit point.
    """
    return _map1(_core.orbit_log_harmonic, d, beta, "beta")


def probabilities(d: int, alpha: float) -> np.ndarray:
    """Orbit probabilities p_i(α) = i^{−2α}/H_d(2α), i = 1..d (array (d,), sums to 1).

    α = inf gives the point mass e_1. At most 2**27 ranks are materialised.
    """
    return _core.orbit_probabilities(_width(d), _scalar(alpha, "alpha"))


def top_radial(d: int, alpha: Any) -> FloatOrArray:
    """Top-radial chart R_d(α) = ½ log(d/H_d(2α)) ∈ [0, ½ log d] (nats).

    The top-radial coordinate r of the orbit point. R(0) = 0, R(∞) = ½ log d; strictly increasing
    and concave for d ≥ 2. (Not :func:`gsalign.top_radial`, which is r of a spectrum.)
    """
    return _map1(_core.orbit_top_radial, d, alpha, "alpha")


def top_radial_slope(d: int, alpha: Any) -> FloatOrArray:
    """R′(α) = E_{p(α)}[log i] (nats per unit α): positive, decreasing, R′(0) = log(d!)/d."""
    return _map1(_core.orbit_top_radial_slope, d, alpha, "alpha")


def log_rank_mean(d: int, beta: Any) -> FloatOrArray:
    """E_β[log i] = Σ_i p_β(i) log i = −ψ′(β) (nats), in the energy exponent β = 2α."""
    return _map1(_core.orbit_log_rank_mean, d, beta, "beta")


def log_rank_variance(d: int, beta: Any) -> FloatOrArray:
    """Var_β(log i) = ψ″(β) (nats²), a centred sum; not monotone in β (d = 64: max 1.7922 near
    β = 0.957). R″(α) = −2·Var_{2α}(log i)."""
    return _map1(_core.orbit_log_rank_variance, d, beta, "beta")


def fisher_information(d: int, beta: Any) -> FloatOrArray:
    """Fisher information in β: I(β) = ψ″(β) = Var_β(log i) = Σ_i (∂_β p_i)²/p_i (per unit β²).

    In α, I_α = 4·I(2α). 0 for d = 1 and at β = inf.
    """
    return _map1(_core.orbit_fisher_information, d, beta, "beta")


def bures_line_element(d: int, alpha: Any) -> FloatOrArray:
    """Bures–Wasserstein speed of the trace-d orbit per unit α: ds_BW/dα = √(d·Var_{2α}(log i)).

    From ds²_BW = (d/4)·I(β)·dβ² with β = 2α; e.g. 10.698681 at d = 64, α = ½.
    """
    return _map1(_core.orbit_bures_line_element, d, alpha, "alpha")


def kl(d: int, beta0: Any, beta1: Any) -> FloatOrArray:
    """KL(p_{β0} ‖ p_{β1}) = Σ_i p_{β0}(i) log(p_{β0}(i)/p_{β1}(i)) (nats), energy exponents β = 2α.

    The first argument is the reference measure. Closed form (Bregman divergence of ψ):
    KL = ψ(β1) − ψ(β0) + (β1 − β0)·E_{β0}[log i] = ∫_{β0}^{β1} (β1 − u)·I(u) du, evaluated without
    cancellation (accurate also for β1 → β0). KL(p_∞ ‖ p_β) = log H_d(β); KL(p_β ‖ p_∞) = inf.
    """
    return _map2(_core.orbit_kl, d, beta0, beta1)


def bhattacharyya(d: int, beta0: Any, beta1: Any) -> FloatOrArray:
    """Bhattacharyya coefficient BC = Σ_i √(p_{β0}(i)·p_{β1}(i)) = H_d((β0+β1)/2)/√(H_d(β0)·H_d(β1)).

    Evaluated in logs; ‖√p_{β0} − √p_{β1}‖² = 2(1 − BC) and d_BW² = 2d(1 − BC) at trace d.
    """
    return _map2(_core.orbit_bhattacharyya, d, beta0, beta1)


def fisher_rao_length(d: int, beta0: Any, beta1: Any) -> FloatOrArray:
    """Fisher–Rao length FR = |∫_{β0}^{β1} √Var_u(log i) du| of the orbit segment (in β).

    Composite 20-point Gauss–Legendre on panels of width ≤ ½ (~1e−13). The Bures–Wasserstein
    length of the same segment at trace d is (√d/2)·FR. Exponents must be finite.
    """
    return _map2(_core.orbit_fisher_rao_length, d, beta0, beta1)


def tail_bounds(d: int, beta: float, k: int) -> tuple[float, float]:
    """Bounds (lower, upper) on the tail T_k = Σ_{i=k+1}^d i^{−β}, 1 ≤ k ≤ d (SPEC §8):

    I(k+1, d+1) ≤ T_k ≤ I(k, d), I(a, b) = ∫_a^b x^{−β} dx = (b^{1−β} − a^{1−β})/(1−β)
    (log(b/a) at β = 1). The orbit's tail fraction is T_k/H_d(β).
    """
    return _core.orbit_tail_bounds(_width(d), _scalar(beta, "beta"), _index(k, "k"))


def harmonic_bounds(d: int, beta: float) -> tuple[float, float]:
    """Bounds (lower, upper) on H_d(β): 1 + I(2, d+1) ≤ H_d(β) ≤ 1 + I(1, d)."""
    return _core.orbit_harmonic_bounds(_width(d), _scalar(beta, "beta"))


def effective_rank(d: int, beta: float, tau: float = 0.9) -> int:
    """Effective rank erank_τ of the orbit point with energy exponent β (SPEC §8):
    min{k : H_k(β)/H_d(β) ≥ τ − 64·d·ε}, by the pinned compensated prefix sums (bisection on
    log H_k for d > 2**22). τ ∈ (0, 1]; β = inf gives 1.
    """
    return _core.orbit_effective_rank(_width(d), _scalar(beta, "beta"), _scalar(tau, "tau"))


def effective_rank_bounds(d: int, beta: float, tau: float = 0.9) -> tuple[float, float]:
    """Closed-form bounds (lower, upper) on the orbit effective rank, capped at d (SPEC §8):

    * β < 1: (τ((d+1)^{1−β} − 1))^{1/(1−β)} ≤ erank_τ ≤ ⌈(1 + (1−β)τ(1 + I(1, d)))^{1/(1−β)} − 1⌉;
    * β = 1: (d+1)^τ/e ≤ erank_τ ≤ (e·d)^τ;
    * β > 1: erank_τ ≤ ⌈((1−τ)(β−1)H_d(β))^{−1/(β−1)}⌉, and the lower bound
      ((1−τ)(β−1)H_d(β) + (d+1)^{1−β})^{−1/(β−1)} − 1 (from T_k ≥ I(k+1, d+1)).

    Lower bounds are at least 1. E.g. d = 1000, τ = 0.9: β = ½ → (760.4, 841), β = 2 → upper 7.
    """
    return _core.orbit_effective_rank_bounds(_width(d), _scalar(beta, "beta"), _scalar(tau, "tau"))


def effective_rank_asymptotic(d: int, beta: float, tau: float = 0.9) -> float:
    """Large-width asymptotic of the orbit effective rank (a real rank):

    β < 1: τ^{1/(1−β)}·d; β = 1: d^τ·e^{−γ(1−τ)} (473.08 at d = 1000, τ = 0.9); β > 1: the
    midpoint estimate ((d+½)^{1−β} + (β−1)(1−τ)H_d(β))^{−1/(β−1)} − ½.
    """
    return _core.orbit_effective_rank_asymptotic(_width(d), _scalar(beta, "beta"), _scalar(tau, "tau"))
