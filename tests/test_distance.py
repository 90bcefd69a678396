"""Hellinger, total-variation and Bures–Wasserstein distances between spectra (SPEC §1, §4.3),
against matrix-level oracles (scipy's matrix square root and orthogonal Procrustes)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
from conftest import power_law_spectrum, random_orthogonal
from hypothesis import given
from hypothesis import strategies as st

import gsalign

spectra = st.lists(st.one_of(st.floats(0.0, 1e3), st.just(0.0)), min_size=1, max_size=30).map(
    lambda v: np.array(sorted(v, reverse=True) if max(v) > 0 else [1.0] + v[1:], dtype=np.float64)
)


def psd_sqrt(s: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix."""
    w, v = np.linalg.eigh((s + s.T) / 2)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def bures_matrix(s1: np.ndarray, s2: np.ndarray) -> float:
    """d_BW(Σ1, Σ2)² = tr Σ1 + tr Σ2 − 2 tr (Σ1^½ Σ2 Σ1^½)^½ for symmetric PSD matrices."""
    r1 = psd_sqrt(s1)
    cross = psd_sqrt(r1 @ s2 @ r1)
    return math.sqrt(max(np.trace(s1) + np.trace(s2) - 2 * np.trace(cross), 0.0))


def normalised(a: np.ndarray) -> np.ndarray:
    """Â = √k·A/‖A‖_F."""
    return math.sqrt(min(a.shape)) * a / np.linalg.norm(a, "fro")


def harmonic(d: int, beta: float) -> float:
    return math.fsum(np.arange(1, d + 1, dtype=np.float64) ** (-beta))


def test_separation_example() -> None:
    # SPEC §6.5: p = (.48, .24, .16, .12) and q = (.48, .30, .12, .10): Hell = 0.084419.
    p = np.sqrt([0.48, 0.24, 0.16, 0.12])
    q = np.sqrt([0.48, 0.30, 0.12, 0.10])
    assert round(gsalign.hellinger(p, q), 6) == 0.084419
    assert gsalign.bures_distance(p, q) == pytest.approx(2 * gsalign.hellinger(p, q), rel=1e-15)
    assert gsalign.total_variation(p, q) == pytest.approx(0.06, abs=1e-15)
    assert gsalign.hellinger(power_law_spectrum(4, 0.5), p) < 1e-15


def test_no_one_over_root_two_factor() -> None:
    # Rank one vs flat on two ranks: ‖(1, 0) − (1/√2, 1/√2)‖ = √(2 − √2).
    assert gsalign.hellinger([1.0, 0.0], [1.0, 1.0]) == pytest.approx(math.sqrt(2 - math.sqrt(2)), rel=1e-15)
    assert gsalign.total_variation([1.0, 0.0], [1.0, 1.0]) == pytest.approx(0.5, rel=1e-15)
    # Rank one vs flat on d ranks: Hell² = 2(1 − 1/√d) → 2 (the maximum, √2, needs disjoint supports).
    d = 10_000
    assert gsalign.hellinger(np.eye(1, d)[0], np.ones(d)) ** 2 == pytest.approx(2 * (1 - d**-0.5), rel=1e-12)


def test_scale_free() -> None:
    p = power_law_spectrum(20, 0.7)
    q = power_law_spectrum(20, 0.3)
    for f in (gsalign.hellinger, gsalign.total_variation, gsalign.bures_distance):
        assert f(3.5 * p, q / 7) == pytest.approx(f(p, q), rel=1e-13)
        assert f(p, p * 2.0**-600) == 0.0
        assert f(p, p * 1e-200) < 1e-15


@pytest.mark.parametrize(("d", "beta0", "beta1"), [(4, 1.0, 1.4), (64, 0.5, 1.0), (1000, 1.8, 2.0)])
def test_orbit_closed_forms(d: int, beta0: float, beta1: float) -> None:
    # BC = H_d((β+β')/2)/√(H_d(β) H_d(β')), d_BW² = d·Hell² = 2d(1 − BC) (SPEC §4.4).
    sa, sb = power_law_spectrum(d, beta0 / 2), power_law_spectrum(d, beta1 / 2)
    bc = harmonic(d, (beta0 + beta1) / 2) / math.sqrt(harmonic(d, beta0) * harmonic(d, beta1))
    hell = gsalign.hellinger(sa, sb)
    assert hell**2 == pytest.approx(2 * (1 - bc), rel=1e-9)
    assert gsalign.bures_distance(sa, sb) ** 2 == pytest.approx(2 * d * (1 - bc), rel=1e-9)


def test_bures_matches_the_matrix_formula_on_normalised_states(rng: np.random.Generator) -> None:
    d = 6
    for _ in range(5):
        sa = np.sort(rng.random(d))[::-1]
        sb = np.sort(rng.random(d) ** 3)[::-1]
        # Co-diagonal states Λ = k·diag(p): equality.
        la = d * np.diag(sa**2 / np.sum(sa**2))
        lb = d * np.diag(sb**2 / np.sum(sb**2))
        assert gsalign.bures_distance(sa, sb) == pytest.approx(bures_matrix(la, lb), rel=1e-9, abs=1e-12)
        # Rotated states: d_BW(ÂᵀÂ, B̂ᵀB̂) ≥ ‖s(Â) − s(B̂)‖ (SPEC §4.3) and Procrustes.
        a = normalised(random_orthogonal(rng, d) @ np.diag(sa) @ random_orthogonal(rng, d))
        b = normalised(random_orthogonal(rng, d) @ np.diag(sb) @ random_orthogonal(rng, d))
        dbw = bures_matrix(a.T @ a, b.T @ b)
        r, _ = scipy.linalg.orthogonal_procrustes(b.T, a.T)  # min over O of ‖A − O B‖_F, O = Rᵀ
        assert np.linalg.norm(a - r.T @ b, "fro") == pytest.approx(dbw, rel=1e-7)
        assert gsalign.bures_distance(sa, sb) <= dbw + 1e-9


def test_different_lengths_are_zero_padded() -> None:
    assert gsalign.hellinger([1.0, 1.0], [1.0, 1.0, 0.0, 0.0]) == 0.0
    assert gsalign.total_variation([2.0, 2.0], [1.0, 1.0, 0.0]) == 0.0
    a = power_law_spectrum(3, 0.8)
    b = power_law_spectrum(7, 0.2)
    pad = np.concatenate([a, np.zeros(4)])
    assert gsalign.hellinger(a, b) == gsalign.hellinger(pad, b)
    assert gsalign.total_variation(a, b) == gsalign.total_variation(pad, b)
    assert gsalign.hellinger(a, b) == gsalign.hellinger(b, a)
    # Bures keeps each state's trace (k_a = 3, k_b = 7): the distance of the zero-padded states.
    la = np.diag(np.concatenate([3 * a**2 / np.sum(a**2), np.zeros(4)]))
    lb = np.diag(7 * b**2 / np.sum(b**2))
    assert gsalign.bures_distance(a, b) == pytest.approx(bures_matrix(la, lb), rel=1e-9)
    assert gsalign.bures_distance(b, a) == pytest.approx(gsalign.bures_distance(a, b), rel=1e-14)
    # ... which is not the width-7 distance of the padded spectrum (its trace would be 7).
    assert gsalign.bures_distance(pad, b) == pytest.approx(math.sqrt(7) * gsalign.hellinger(a, b), rel=1e-14)
    assert gsalign.bures_distance([1.0, 1.0], [1.0, 1.0, 0.0, 0.0]) == pytest.approx(2 - math.sqrt(2), rel=1e-14)


@given(a=spectra, b=spectra, c=spectra)
def test_metric_properties(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> None:
    hab, hbc, hac = gsalign.hellinger(a, b), gsalign.hellinger(b, c), gsalign.hellinger(a, c)
    assert 0.0 <= hab <= math.sqrt(2)
    assert hac <= hab + hbc + 1e-14
    assert gsalign.hellinger(a, a) == 0.0
    tv = gsalign.total_variation(a, b)
    assert 0.0 <= tv <= hab + 1e-15  # TV ≤ Hell (SPEC §8)
    assert hab**2 <= 2 * tv + 1e-14  # Hell² ≤ 2 TV
    dab, dbc, dac = (gsalign.bures_distance(*x) for x in ((a, b), (b, c), (a, c)))
    assert dac <= dab + dbc + 1e-12
    assert gsalign.bures_distance(b, a) == pytest.approx(dab, rel=1e-13, abs=1e-15)


@given(a=spectra, b=spectra)
def test_bures_is_the_distance_of_normalised_singular_values(a: np.ndarray, b: np.ndarray) -> None:
    def shat(s: np.ndarray, n: int) -> np.ndarray:
        out = np.zeros(n)
        s = s / s.max()  # keeps np.linalg.norm away from underflow (s = [2.2e-308])
        out[: len(s)] = np.sqrt(len(s)) * s / np.linalg.norm(s)
        return out

    n = max(len(a), len(b))
    direct = np.linalg.norm(shat(a, n) - shat(b, n))
    assert gsalign.bures_distance(a, b) == pytest.approx(direct, rel=1e-12, abs=1e-12)


def test_float32_spectra_are_accepted() -> None:
    a = power_law_spectrum(10, 0.5)
    b = power_law_spectrum(10, 1.0)
    want = gsalign.hellinger(a.astype(np.float32).astype(np.float64), b)
    assert gsalign.hellinger(a.astype(np.float32), b) == want
