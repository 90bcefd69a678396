"""Seeded operator chains for tests, demos and experiments (SPEC §5–§7).

Every generator returns a float64 stack of shape (L, d, d) (factor J_l at index l − 1, so that
``gsalign.Chain(stack)`` multiplies later factors on the left), or, with ``stream=True``, an
iterator over the same factors that never holds more than one block of them (for chains too long
to hold in memory). The same arguments always give the same factors, streamed or not.

* :func:`near_identity` — residual factors J = I + h·E with E = G/‖G‖₂ (G Gaussian), so ‖E‖ = 1
  exactly and the transport budget of §7 is log ρ(J) ≤ artanh(h).
* :func:`aligned_power_law` — the converse chain of §6.3: J = diag(i^{−t}), t = 2 log M/(L log d),
  zero slack, exact chart, ρ = M^{1/L}, and exponent drift exactly t at every step.
* :func:`gaussian` — J = G/√d with G standard Gaussian.
* :func:`power_law_coloured` — J = U·diag(i^{−α})·Vᵀ with Haar-random orthogonal U, V.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Union

import numpy as np

from .exceptions import InvalidArgumentError

__all__ = ["near_identity", "aligned_power_law", "gaussian", "power_law_coloured"]

Factors = Union[np.ndarray, Iterator[np.ndarray]]

#: Factors generated per block (streams hold one block at a time).
_BLOCK = 64


def _check_int(value: object, arg: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidArgumentError(f"{arg}: must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_real(value: object, arg: str, *, positive: bool = False, above: float | None = None) -> float:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"{arg}: must be a real number, got {value!r}") from None
    if not math.isfinite(x) or (positive and x <= 0) or (above is not None and x <= above):
        bound = f"> {above}" if above is not None else ("> 0" if positive else "finite")
        raise InvalidArgumentError(f"{arg}: must be {bound}, got {value!r}")
    return x


def _emit(L: int, block: Callable[[int, int], np.ndarray], stream: bool) -> Factors:
    """All factors as one stack, or an iterator over them block by block. ``block(start, n)``
    returns factors start .. start + n − 1 (each block seeded from its own start index, so the
    two forms agree)."""

    def it() -> Iterator[np.ndarray]:
        for start in range(0, L, _BLOCK):
            yield from block(start, min(_BLOCK, L - start))

    if stream:
        return it()
    return np.concatenate([block(s, min(_BLOCK, L - s)) for s in range(0, L, _BLOCK)])


def _rng(seed: int, start: int) -> np.random.Generator:
    return np.random.default_rng([seed, start])


def near_identity(L: int, d: int, h: float, seed: int = 0, *, stream: bool = False) -> Factors:
    """Normalised residual chain J_l = I + h·E_l, E_l = G_l/‖G_l‖₂ (G_l i.i.d. standard Gaussian).

    ‖E_l‖ = 1, so each factor satisfies the transport budget log ρ(J_l) ≤ artanh(h) for h < 1
    (SPEC §7). ``h = c/L`` gives the normalised residual chain of §7 with log M → c.
    """
    L, d = _check_int(L, "L", 1), _check_int(d, "d", 1)
    h = _check_real(h, "h")
    seed = _check_int(seed, "seed", 0)

    def block(start: int, n: int) -> np.ndarray:
        g = _rng(seed, start).standard_normal((n, d, d))
        norms = np.linalg.svd(g, compute_uv=False)[:, 0]
        return np.eye(d) + (h / norms)[:, None, None] * g

    return _emit(L, block, stream)


def aligned_power_law(L: int, d: int, M: float, *, stream: bool = False) -> Factors:
    """The aligned diagonal converse chain of SPEC §6.3: every J_l = diag(i^{−t}), i = 1..d, with
    t = 2 log M/(L log d).

    It has ρ(J_l) = M^{1/L} exactly (the uniform budget is attained), zero slack, an exact chart,
    and the profile exponent α(P_l) = l·t drifts by exactly t = 2 log M/(L log d) per step.
    """
    L, d = _check_int(L, "L", 1), _check_int(d, "d", 2)
    M = _check_real(M, "M", above=1.0)
    t = 2.0 * math.log(M) / (L * math.log(d))
    j = np.diag(np.arange(1, d + 1, dtype=np.float64) ** (-t))

    def block(start: int, n: int) -> np.ndarray:
        return np.repeat(j[None], n, axis=0)

    return _emit(L, block, stream)


def gaussian(L: int, d: int, seed: int = 0, *, stream: bool = False) -> Factors:
    """Gaussian chain J_l = G_l/√d (G_l i.i.d. standard Gaussian)."""
    L, d = _check_int(L, "L", 1), _check_int(d, "d", 1)
    seed = _check_int(seed, "seed", 0)

    def block(start: int, n: int) -> np.ndarray:
        return _rng(seed, start).standard_normal((n, d, d)) / math.sqrt(d)

    return _emit(L, block, stream)


def _haar(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, d, d)))
    return q * np.sign(np.diagonal(r, axis1=1, axis2=2))[:, None, :]


def power_law_coloured(
    L: int, d: int, alpha: float = 0.5, seed: int = 0, *, stream: bool = False
) -> Factors:
    """Power-law-coloured chain J_l = U_l·diag(i^{−α})·V_lᵀ, U_l, V_l Haar-random orthogonal: each
    factor lies exactly on the power-law orbit (α_LS = α_top = α_H = α), but consecutive factors
    are misaligned, so the chain has slack."""
    L, d = _check_int(L, "L", 1), _check_int(d, "d", 1)
    alpha = _check_real(alpha, "alpha")
    if alpha < 0:
        raise InvalidArgumentError(f"alpha: must be >= 0, got {alpha!r}")
    seed = _check_int(seed, "seed", 0)
    s = np.arange(1, d + 1, dtype=np.float64) ** (-alpha)

    def block(start: int, n: int) -> np.ndarray:
        rng = _rng(seed, start)
        u, v = _haar(rng, n, d), _haar(rng, n, d)
        return (u * s[None, None, :]) @ np.swapaxes(v, 1, 2)

    return _emit(L, block, stream)
