"""Distances between singular spectra (SPEC §1, §4.3).

Spectra are compared through their energy distributions p_i = s_i² / Σ_j s_j² or their
Frobenius-normalised states Λ = k·diag(p) (trace k, the ordered eigenvalues of ÂᵀÂ):

* Hellinger Hell(p, q) = ‖√p − √q‖₂ ∈ [0, √2] (no 1/√2 factor);
* total variation TV(p, q) = ½‖p − q‖₁ ∈ [0, 1], TV ≤ Hell;
* Bures–Wasserstein d_BW = ‖s(Â) − s(B̂)‖₂ = √k·Hell at a common width k.

Spectra of different lengths: the shorter is padded with zeros (a matrix with extra zero singular
values has the same energy distribution). Each Bures state keeps its own trace, so for widths
k_a ≠ k_b, d_BW² = (√k_a − √k_b)² + √(k_a k_b)·Hell².
"""

from __future__ import annotations

from typing import Any

from . import _core
from ._arrays import as_spectrum

__all__ = ["hellinger", "bures_distance", "total_variation"]


def hellinger(sv_a: Any, sv_b: Any) -> float:
    """Hellinger distance ‖√p_a − √p_b‖₂ ∈ [0, √2] between the energy distributions of two
    descending spectra (no 1/√2 factor; scale-free; the shorter spectrum is zero-padded).

    Raises a :class:`~gsalign.exceptions.GsalignError` naming ``sv_a`` or ``sv_b`` for an empty,
    non-finite, negative, unsorted or all-zero spectrum.
    """
    return _core.hellinger(as_spectrum(sv_a, "sv_a"), as_spectrum(sv_b, "sv_b"))


def total_variation(sv_a: Any, sv_b: Any) -> float:
    """Total variation ½ Σ_i |p_a,i − p_b,i| ∈ [0, 1] between the energy distributions of two
    descending spectra (the shorter spectrum is zero-padded). Errors as :func:`hellinger`."""
    return _core.total_variation(as_spectrum(sv_a, "sv_a"), as_spectrum(sv_b, "sv_b"))


def bures_distance(sv_a: Any, sv_b: Any) -> float:
    """Bures–Wasserstein distance between the Frobenius-normalised states Λ_a = k_a·diag(p_a) and
    Λ_b = k_b·diag(p_b): d_BW² = tr Λ_a + tr Λ_b − 2 tr(Λ_a^½ Λ_b Λ_a^½)^½ = ‖s(Â) − s(B̂)‖₂²,
    which is √k·Hell(p_a, p_b) at a common width k (SPEC §1, §4.3). Errors as :func:`hellinger`."""
    return _core.bures_distance(as_spectrum(sv_a, "sv_a"), as_spectrum(sv_b, "sv_b"))
