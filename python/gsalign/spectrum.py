"""Singular spectra of matrices and batches, and the per-matrix quantities of SPEC §2.

For A ∈ ℝ^{m×n}, k = min(m, n), s_1 ≥ … ≥ s_k ≥ 0 and the Frobenius-normalised Â = √k·A/‖A‖_F:

* normalised Cartan coordinate â_i = log s_i(Â) (nats), Σ e^{2â_i} = k;
* energy distribution p_i = s_i² / Σ s_j²;
* top-radial coordinate r = â_1 = ½ log(k s_1²/‖A‖_F²) ∈ [0, ½ log k];
* stable rank ‖A‖_F²/‖A‖₂² = k e^{−2r};
* numerical rank k′ = #{s_i > max(m, n)·ε·s_1}.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Union

import numpy as np

from . import _core
from ._arrays import as_matrices, as_matrix, as_spectrum, check_choice, check_threads

Method = Literal["auto", "gram", "svd"]
_METHODS = ("auto", "gram", "svd")

__all__ = ["singular_values", "spectrum", "Spectrum", "SpectrumBatch", "top_radial", "Method"]


def singular_values(a: Any, *, method: Method = "auto", n_threads: int | None = None) -> Any:
    """Descending singular values.

    Parameters
    ----------
    a : array_like
        A 2-D matrix (m, n) → array (k,) with k = min(m, n); a 3-D stack (L, m, n) → array (L, k);
        a sequence of 2-D arrays of any shapes → list of 1-D arrays. float32 in gives float32 out,
        float64 gives float64; float16 is computed in float32 and returned as float32. Any memory
        layout is accepted (non-contiguous, negative strides, read-only, ``np.memmap``).
    method : {"auto", "gram", "svd"}
        ``"gram"``: eigenvalues of AᵀA (the theory's own map, about twice as fast, inaccurate for
        the small singular values of ill-conditioned matrices); ``"svd"``: bidiagonal SVD;
        ``"auto"`` (default): the Gram route when its error bound c·ε·s_1²/(2 s_k), read off the
        Gram eigenvalues, meets the accuracy contract, the SVD otherwise. Contract: every singular
        value within 1e-12·s_1 of LAPACK's for float64 input, 1e-6·s_1 for float32 input.
    n_threads : int, optional
        Worker threads for batches (default: all cores). Matrices run in parallel, each
        decomposition sequentially; the result does not depend on the thread count.

    Raises
    ------
    NonFiniteError, EmptyInputError, ShapeError, DTypeError
        Naming the argument (and the index of the matrix in a batch).
    """
    check_choice(method, "method", _METHODS)
    n_threads = check_threads(n_threads)
    if _is_single(a):
        return _core.singular_values(as_matrix(a), method)
    kind, mats = as_matrices(a)
    if kind == "stack":
        return _core.singular_values_stack(mats, method, n_threads)
    return list(_core.singular_values_list(mats, method, n_threads))


def _is_single(a: Any) -> bool:
    ndim = getattr(a, "ndim", None)
    if ndim is not None:
        return ndim != 3
    if isinstance(a, (list, tuple)) and a and not any(hasattr(x, "ndim") for x in a):
        try:
            return np.ndim(a) != 3
        except ValueError:
            return True
    return False


@dataclass(frozen=True, repr=False)
class Spectrum:
    """Per-matrix spectral quantities (SPEC §2). All logs are natural (nats).

    Attributes
    ----------
    sv : ndarray (k,)
        Descending singular values (float64).
    k : int
        Width min(m, n).
    shape : tuple[int, int]
        (m, n).
    numerical_rank : int
        #{s_i > max(m, n)·ε·s_1}.
    cartan : ndarray (k,)
        Normalised Cartan coordinate â_i = log s_i(Â); −inf at zero singular values.
    energy : ndarray (k,)
        p_i = s_i²/Σ s_j².
    top_radial : float
        r = â_1 = ½ log(k p_1) ∈ [0, ½ log k].
    stable_rank : float
        ‖A‖_F²/‖A‖₂² = k e^{−2r}.
    """

    sv: np.ndarray
    k: int
    shape: tuple[int, int]
    numerical_rank: int
    cartan: np.ndarray
    energy: np.ndarray
    top_radial: float
    stable_rank: float

    def __repr__(self) -> str:
        m, n = self.shape
        return (
            f"Spectrum({m}x{n}, k={self.k}, numerical_rank={self.numerical_rank}, "
            f"s1={self.sv[0]:.6g}, top_radial={self.top_radial:.6f}, stable_rank={self.stable_rank:.4f})"
        )


@dataclass(frozen=True, repr=False)
class SpectrumBatch:
    """The fields of :class:`Spectrum` as columns, one row per matrix of a batch.

    ``sv``, ``cartan`` and ``energy`` are 2-D arrays (L, k) when every matrix has the same width,
    lists of 1-D arrays otherwise; the scalar fields are 1-D arrays (L,). ``batch[i]`` is the
    :class:`Spectrum` of matrix i.
    """

    sv: Union[np.ndarray, list[np.ndarray]]
    k: np.ndarray
    m: np.ndarray
    n: np.ndarray
    numerical_rank: np.ndarray
    cartan: Union[np.ndarray, list[np.ndarray]]
    energy: Union[np.ndarray, list[np.ndarray]]
    top_radial: np.ndarray
    stable_rank: np.ndarray

    def __len__(self) -> int:
        return len(self.k)

    def __getitem__(self, i: int) -> Spectrum:
        return Spectrum(
            sv=self.sv[i],
            k=int(self.k[i]),
            shape=(int(self.m[i]), int(self.n[i])),
            numerical_rank=int(self.numerical_rank[i]),
            cartan=self.cartan[i],
            energy=self.energy[i],
            top_radial=float(self.top_radial[i]),
            stable_rank=float(self.stable_rank[i]),
        )

    def __repr__(self) -> str:
        if len(self) == 0:
            return "SpectrumBatch(0 matrices)"
        return (
            f"SpectrumBatch({len(self)} matrices, k={int(self.k.min())}..{int(self.k.max())}, "
            f"top_radial={float(self.top_radial.min()):.4f}..{float(self.top_radial.max()):.4f})"
        )


def spectrum(a: Any, *, method: Method = "auto", n_threads: int | None = None) -> Union[Spectrum, SpectrumBatch]:
    """Spectral quantities of a matrix (→ :class:`Spectrum`) or of a batch, a 3-D stack or a
    sequence of 2-D arrays (→ :class:`SpectrumBatch`). Singular values are computed in float64
    (see :func:`singular_values` for ``method`` and ``n_threads``).

    Raises :class:`~gsalign.exceptions.ZeroMatrixError` for a zero matrix (its normalisation is
    undefined), and the errors of :func:`singular_values`.
    """
    check_choice(method, "method", _METHODS)
    n_threads = check_threads(n_threads)
    if _is_single(a):
        cols = _core.spectra([as_matrix(a)], method, 1)
        return SpectrumBatch(**_columns(cols))[0]
    kind, mats = as_matrices(a)
    if kind == "stack":
        cols = _core.spectra_stack(mats, method, n_threads)
    else:
        cols = _core.spectra(mats, method, n_threads)
    return SpectrumBatch(**_columns(cols))


def _columns(cols: dict[str, Any]) -> dict[str, Any]:
    out = dict(cols)
    out["k"] = np.minimum(cols["m"], cols["n"])
    for name in ("sv", "cartan", "energy"):
        rows = cols[name]
        if rows and all(len(r) == len(rows[0]) for r in rows):
            out[name] = np.stack(rows)
        elif not rows:
            out[name] = np.zeros((0, 0))
    return out


def top_radial(sv: Any) -> float:
    """Top-radial coordinate r = ½ log(k s_1²/Σ s_j²) ∈ [0, ½ log k] of a descending spectrum
    (nats). NaN for an all-zero spectrum (SPEC §9: r is undefined at A = 0)."""
    arr = as_spectrum(sv)
    if arr[0] == 0.0 and not np.any(arr):
        return float("nan")
    return _core.top_radial(arr)
