"""WeightWatcher-compatible ESD metrics (src/esd.rs) against an independent numpy implementation.

``ww_fit`` below re-derives WeightWatcher 0.7.7's default power-law fit from its definition
(continuous MLE α = 1 + n/Σ log(λ_j/λ_min) at every candidate λ_min among the eigenvalues > 1e-5,
KS distance to the empirical CDF, the candidate of least D; bias-corrected small-sample variant below
20 eigenvalues), vectorised over candidates; the scan's columns must agree with it.
"""

from __future__ import annotations

import numpy as np
import pytest

import gsalign

THRESH = 1e-5


def ww_fit(evals: np.ndarray) -> tuple[float, float, float]:
    """(alpha, xmin, D) of WeightWatcher's default fit of the eigenvalues ``evals``."""
    x = np.sort(np.asarray(evals, dtype=np.float64)[evals > THRESH])
    big_n = x.size
    assert big_n >= 2
    logx = np.log(x)
    cand = np.arange(big_n - 1)
    n = (big_n - cand).astype(np.float64)
    rel = logx[None, :] - logx[:-1, None]  # log(x_j / x_i), row i = candidate
    tail = np.arange(big_n)[None, :] >= cand[:, None]
    s = np.where(tail, rel, 0.0).sum(axis=1)
    emp = (np.arange(big_n)[None, :] - cand[:, None]) / n[:, None]
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if big_n >= 20:
            alpha = 1.0 + n / s
            valid = alpha > 1.0
        else:
            alpha = np.where(s > 1e-12, 1.0 + (n - 1.0) / s, 0.0)
            valid = (n >= 8) & (s > 1e-12) & (alpha > 1.0)
        fitted = 1.0 - np.exp(rel * (1.0 - alpha[:, None]))
        d = np.where(tail, np.abs(fitted - emp), 0.0).max(axis=1)
    d = np.where(valid, d, 1.0)
    if big_n < 20 and not valid.any() and s[0] > 1e-12:
        d[0] = np.abs(1.0 - np.exp(rel[0] * (1.0 - alpha[0])) - emp[0]).max()
    best = int(np.argmin(d))
    return float(alpha[best]), float(x[best]), float(d[best])


def matrix_with_spectrum(sv: np.ndarray, m: int, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    u, _ = np.linalg.qr(rng.standard_normal((m, sv.size)))
    v, _ = np.linalg.qr(rng.standard_normal((n, sv.size)))
    return (u * sv) @ v.T


def scan_one(w: np.ndarray) -> gsalign.ScanReport:
    return gsalign.scan({"layers.0.fc1.weight": w}, charts=())


@pytest.mark.parametrize("seed", range(6))
def test_ww_alpha_matches_the_reference_on_heavy_tailed_spectra(seed):
    rng = np.random.default_rng(100 + seed)
    k = int(rng.integers(30, 120))
    bulk = rng.uniform(0.2, 1.0, k)
    spikes = rng.pareto(1.5 + seed * 0.3, k) + 1.0
    sv = np.sort(np.where(rng.random(k) < 0.3, spikes * 2.0, bulk))[::-1]
    r = scan_one(matrix_with_spectrum(sv, k + 7, k, seed))
    got = r.spectra[0]
    np.testing.assert_allclose(got, sv, rtol=0, atol=1e-12 * sv[0])
    alpha, xmin, d = ww_fit(got**2)
    assert r["ww_alpha"][0] == pytest.approx(alpha, rel=1e-10)
    assert r["ww_xmin"][0] == pytest.approx(xmin, rel=1e-12)
    assert r["ww_D"][0] == pytest.approx(d, rel=1e-9)
    assert r["alpha_weighted"][0] == pytest.approx(alpha * np.log10(sv[0] ** 2), rel=1e-10)


def test_small_sample_fit_below_twenty_eigenvalues():
    for seed, k in enumerate((3, 9, 12, 19)):
        sv = np.geomspace(5.0, 0.3, k) * (1 + 0.05 * np.random.default_rng(seed).random(k))
        sv = np.sort(sv)[::-1]
        r = scan_one(matrix_with_spectrum(sv, 40, k, seed))
        alpha, xmin, d = ww_fit(r.spectra[0] ** 2)
        assert r["ww_alpha"][0] == pytest.approx(alpha, rel=1e-10), k
        assert r["ww_xmin"][0] == pytest.approx(xmin, rel=1e-12), k
        assert r["ww_D"][0] == pytest.approx(d, rel=1e-9), k


def test_norm_metrics_follow_weightwatcher_definitions():
    sv = np.array([6.0, 3.0, 2.0, 1.0, 0.5, 0.25] + [0.1] * 20)
    r = scan_one(matrix_with_spectrum(sv, 50, sv.size, 3))
    lam = r.spectra[0] ** 2
    assert r["log_norm"][0] == pytest.approx(np.log10(lam.sum()), rel=1e-13)
    assert r["log_spectral_norm"][0] == pytest.approx(np.log10(lam.max()), rel=1e-13)
    assert r["stable_rank"][0] == pytest.approx(lam.sum() / lam.max(), rel=1e-12)
    p = lam / lam.sum() + 1e-10
    rank = np.count_nonzero(r.spectra[0] > r.spectra[0].max() * 50 * np.finfo(float).eps)
    assert r["entropy"][0] == pytest.approx(-(p * np.log(p)).sum() / np.log(rank + 1e-10), rel=1e-12)


def test_power_law_tail_is_recovered():
    # eigenvalues drawn from a Pareto law with density exponent 3: the fit must find about 3
    rng = np.random.default_rng(5)
    lam = np.sort(0.5 * (1.0 - rng.random(300)) ** (-1.0 / 2.0))[::-1]
    r = scan_one(matrix_with_spectrum(np.sqrt(lam), 400, 300, 5))
    assert abs(r["ww_alpha"][0] - 3.0) < 0.35


def test_rank_one_layer_has_no_fit_and_says_so_with_nan():
    w = np.outer(np.arange(1.0, 9.0), np.ones(6))
    r = scan_one(w)
    assert not r["error"][0]
    assert np.isnan(r["ww_alpha"][0]) and np.isnan(r["ww_D"][0])
    assert r["stable_rank"][0] == pytest.approx(1.0)
