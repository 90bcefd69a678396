"""gsalign.fit_power_law: exactness on the orbit, invariances, independent oracles (numpy
least squares, scipy root finding and scipy's bounded Brent), the worked example of SPEC §3.5, the
‖w‖₁ values of §3.3, batches, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

import gsalign
from gsalign import orbit
from gsalign.chart import PowerLawFit, PowerLawFitBatch, ls_weights, residual_vector
from gsalign.exceptions import (
    DTypeError,
    EmptyInputError,
    InvalidArgumentError,
    NonFiniteError,
    ShapeError,
)


def orbit_sv(d: int, alpha: float, scale: float = 1.0) -> np.ndarray:
    return scale * np.sqrt(d * orbit.probabilities(d, alpha))


# ---------------------------------------------------------------------------------------------
# Exactness on the orbit
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("d", [2, 3, 17, 64, 1000])
@pytest.mark.parametrize("alpha", [0.0, 0.1, 0.5, 1.0, 2.5])
def test_every_chart_is_exact_on_the_orbit(d: int, alpha: float) -> None:
    sv = orbit_sv(d, alpha, scale=3.7)
    windows: list[object] = [None, (1, d)]
    if d >= 4:
        windows += [(2, d // 2 + 1), (d // 2, d)]
    for window in windows:
        fit = gsalign.fit_power_law(sv, chart="ls", window=window)
        assert abs(fit.alpha - alpha) <= 1e-12 * (1 + alpha), (window, fit)
        assert fit.window == (window or (1, d))
        assert abs(fit.epsilon) <= 1e-12 and fit.hellinger <= 1e-7
    lo, hi = gsalign.rank_window(sv, 0.5, 0.99)
    if hi - lo >= 1:
        fit = gsalign.fit_power_law(sv, window=(0.5, 0.99))
        assert fit.window == (lo, hi)
        assert abs(fit.alpha - alpha) <= 1e-12 * (1 + alpha)
    top = gsalign.fit_power_law(sv, chart="top")
    assert abs(top.alpha - alpha) <= 1e-8 * (1 + alpha), top
    assert abs(top.epsilon) <= 1e-13
    metric = gsalign.fit_power_law(sv, chart="metric")
    assert abs(metric.alpha - alpha) <= 1e-6, metric
    assert metric.window == (1, d) and top.window == (1, d)


def test_beta_is_twice_alpha() -> None:
    fit = gsalign.fit_power_law(orbit_sv(50, 0.8), chart="metric")
    assert fit.beta == 2 * fit.alpha


# ---------------------------------------------------------------------------------------------
# Invariances
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("chart", ["ls", "top", "metric"])
def test_scale_invariance(chart: str) -> None:
    rng = np.random.default_rng(1)
    sv = np.sort(rng.lognormal(size=40))[::-1]
    base = gsalign.fit_power_law(sv, chart=chart)
    for scale in [1e-6, 0.3, 7.0, 1e8]:
        fit = gsalign.fit_power_law(scale * sv, chart=chart)
        tol = 1e-6 if chart == "metric" else 1e-10
        assert abs(fit.alpha - base.alpha) <= tol * (1 + base.alpha)
        assert abs(fit.epsilon - base.epsilon) <= 1e-6
        assert abs(fit.hellinger - base.hellinger) <= 1e-6


@pytest.mark.parametrize("chart", ["ls", "top", "metric"])
def test_orthogonal_invariance(chart: str) -> None:
    rng = np.random.default_rng(7)
    for m, n in [(30, 30), (40, 25)]:
        k = min(m, n)
        s = np.arange(1, k + 1, dtype=float) ** -0.7 * (1 + 0.05 * rng.standard_normal(k))
        s = np.sort(np.abs(s))[::-1]
        u, _ = np.linalg.qr(rng.standard_normal((m, m)))
        v, _ = np.linalg.qr(rng.standard_normal((n, n)))
        a = u[:, :k] @ np.diag(s) @ v[:, :k].T
        sv = gsalign.singular_values(a)
        fit_a = gsalign.fit_power_law(sv, chart=chart)
        fit_s = gsalign.fit_power_law(s, chart=chart)
        assert abs(fit_a.alpha - fit_s.alpha) <= 1e-6, (fit_a, fit_s)
        assert abs(fit_a.hellinger - fit_s.hellinger) <= 1e-9


# ---------------------------------------------------------------------------------------------
# Golden numbers
# ---------------------------------------------------------------------------------------------


def test_worked_example_3_5() -> None:
    q = np.array([0.48, 0.30, 0.12, 0.10])
    sv = np.sqrt(q)
    assert abs(gsalign.top_radial(sv) - orbit.top_radial(4, 0.5)) < 1e-15
    top = gsalign.fit_power_law(sv, chart="top")
    ls = gsalign.fit_power_law(sv)
    metric = gsalign.fit_power_law(sv, chart="metric")
    assert round(top.alpha, 6) == 0.5 and abs(top.epsilon) < 1e-14
    assert round(ls.alpha, 6) == 0.600533
    assert round(metric.alpha, 6) == 0.557542
    assert round(ls.epsilon, 6) == -0.048324
    assert round(metric.hellinger, 6) == 0.078593
    assert round(ls.hellinger, 6) == 0.081823
    # SPEC §6.5: p = p(½) and q share r but not the spectrum
    p = orbit.probabilities(4, 0.5)
    assert round(np.linalg.norm(residual_vector(sv, 0.5)), 6) == 0.084419
    assert abs(gsalign.fit_power_law(np.sqrt(p)).alpha - 0.5) < 1e-14


@pytest.mark.parametrize(
    "d,norm", [(10, 1.18435), (100, 0.82688), (1000, 0.75372), (10**5, 0.73624), (16, 1.0539)]
)
def test_ls_weight_norms(d: int, norm: float) -> None:
    w = ls_weights(1, d)
    digits = len(str(norm).split(".")[1])
    assert round(np.abs(w).sum(), digits) == norm
    assert abs(w.sum()) < 1e-12
    assert abs(w @ np.log(np.arange(1, d + 1)) - 1.0) < 1e-12
    assert np.abs(w).sum() > 2 / math.e


# ---------------------------------------------------------------------------------------------
# Independent oracles
# ---------------------------------------------------------------------------------------------


def _spectra(seed: int, count: int = 12) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        k = int(rng.integers(2, 200))
        alpha = rng.uniform(0, 2.5)
        s = np.arange(1, k + 1, dtype=float) ** -alpha * np.exp(0.2 * rng.standard_normal(k))
        out.append(np.sort(s)[::-1])
    return out


def test_ls_matches_numpy_least_squares() -> None:
    for sv in _spectra(2):
        k = len(sv)
        for lo, hi in [(1, k), (1, max(2, k // 2)), (max(1, k // 3), k)]:
            if hi <= lo:
                continue
            x = np.log(np.arange(lo, hi + 1))
            slope = np.polyfit(x, np.log(sv[lo - 1 : hi]), 1)[0]
            fit = gsalign.fit_power_law(sv, window=(lo, hi))
            assert abs(fit.alpha + slope) <= 1e-10 * (1 + abs(slope))


def test_top_matches_scipy_root_of_orbit_chart() -> None:
    for sv in _spectra(3):
        k = len(sv)
        r = gsalign.top_radial(sv)
        ref = optimize.brentq(lambda a: orbit.top_radial(k, a) - r, 0.0, 50.0, xtol=1e-15, rtol=1e-15)
        fit = gsalign.fit_power_law(sv, chart="top")
        assert abs(fit.alpha - ref) <= 1e-9 * (1 + ref)
        assert abs(fit.epsilon) <= 1e-12


def _metric_oracle(sv: np.ndarray) -> float:
    """SPEC §3.4 in numpy + scipy's bounded Brent."""
    k = len(sv)
    p = sv**2 / np.sum(sv**2)
    keep = p > 0
    half_log_p = 0.5 * np.log(p[keep])
    ell = np.log(np.arange(1, k + 1))[keep]

    def g(alpha: float) -> float:
        x = half_log_p - alpha * ell
        m = x.max()
        return m + math.log(np.sum(np.exp(x - m))) - 0.5 * orbit.log_harmonic(k, 2 * alpha)

    grid = np.concatenate([0.01 * np.arange(301), 3 + 0.05 * np.arange(1, 341)])
    values = np.array([g(a) for a in grid])
    j = int(np.argmax(values))
    if j == len(grid) - 1:
        return math.inf
    res = optimize.minimize_scalar(
        lambda a: -g(a), bounds=(grid[max(j - 1, 0)], grid[j + 1]), method="bounded", options={"xatol": 1e-12}
    )
    return float(res.x)


def test_metric_matches_scipy_bounded_brent_and_minimises_hellinger() -> None:
    for sv in _spectra(4):
        fit = gsalign.fit_power_law(sv, chart="metric")
        ref = _metric_oracle(sv)
        # Same algorithm; g differs in its last bits, and Brent stops at √ε·|α| + xatol/3.
        assert abs(fit.alpha - ref) <= 1e-7 * (1 + ref), (fit, ref)
        k = len(sv)
        p = sv**2 / np.sum(sv**2)
        dist = lambda a: np.linalg.norm(np.sqrt(p) - np.sqrt(orbit.probabilities(k, a)))  # noqa: E731
        assert abs(fit.hellinger - dist(fit.alpha)) <= 1e-14
        for a in (fit.alpha - 1e-3, fit.alpha + 1e-3, 0.0, 5.0):
            assert fit.hellinger <= dist(max(a, 0.0)) + 1e-15


# ---------------------------------------------------------------------------------------------
# Edge cases (SPEC §9)
# ---------------------------------------------------------------------------------------------


def test_zero_spectrum_gives_nan_fit() -> None:
    for chart in ("ls", "top", "metric"):
        fit = gsalign.fit_power_law(np.zeros(5), chart=chart)
        assert math.isnan(fit.alpha) and math.isnan(fit.epsilon) and math.isnan(fit.hellinger)
        assert fit.window is None


def test_width_one_rank_one_and_flat() -> None:
    for chart in ("ls", "top", "metric"):
        fit = gsalign.fit_power_law([2.0], chart=chart)
        assert math.isnan(fit.alpha) and fit.window == (1, 1)
    rank1 = np.array([3.0, 0.0, 0.0, 0.0])
    assert gsalign.fit_power_law(rank1, chart="top").alpha == math.inf
    metric = gsalign.fit_power_law(rank1, chart="metric")
    assert metric.alpha == math.inf and metric.hellinger < 1e-15 and abs(metric.epsilon) < 1e-15
    assert math.isnan(gsalign.fit_power_law(rank1).alpha)
    flat = np.ones(6)
    assert gsalign.fit_power_law(flat, chart="top").alpha == 0.0
    assert abs(gsalign.fit_power_law(flat).alpha) < 1e-15
    assert gsalign.fit_power_law(flat, chart="metric").alpha < 1e-6


def test_default_window_drops_noise_below_tau_ls() -> None:
    sv = np.concatenate([np.arange(1, 21, dtype=float) ** -1.0, [1e-9, 1e-12]])
    fit = gsalign.fit_power_law(sv)
    assert fit.window == (1, 20) and abs(fit.alpha - 1.0) < 1e-12
    with pytest.raises(InvalidArgumentError, match="^window"):
        gsalign.fit_power_law(np.array([1.0, 0.5, 0.0, 0.0]), window=(1, 3))


def test_repr_is_readable() -> None:
    text = repr(gsalign.fit_power_law(np.sqrt([0.48, 0.3, 0.12, 0.1])))
    assert text == (
        "PowerLawFit(chart='ls', alpha=0.600533, beta=1.201066, window=1..4, "
        "epsilon=-0.048324, hellinger=0.081823)"
    )


# ---------------------------------------------------------------------------------------------
# Batches
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("chart", ["ls", "top", "metric"])
def test_batch_matches_single_fits(chart: str) -> None:
    rng = np.random.default_rng(5)
    rows = np.sort(rng.lognormal(size=(9, 30)), axis=1)[:, ::-1]
    rows[4] = 0.0
    batch = gsalign.fit_power_law(rows, chart=chart, n_threads=2)
    assert isinstance(batch, PowerLawFitBatch) and len(batch) == 9
    for i, row in enumerate(rows):
        single = gsalign.fit_power_law(row, chart=chart)
        got = batch[i]
        assert isinstance(got, PowerLawFit)
        if i == 4:
            assert math.isnan(got.alpha) and got.window is None
            continue
        assert got == single
    assert batch.window.shape == (9, 2)
    assert "PowerLawFitBatch" in repr(batch)


def test_batch_error_names_the_row() -> None:
    rows = np.tile(np.arange(10, 0, -1, dtype=float), (3, 1))
    rows[2, 3] = np.nan
    with pytest.raises(NonFiniteError, match="^sv"):
        gsalign.fit_power_law(rows)
    rows[2, 3] = 7.0
    with pytest.raises(InvalidArgumentError, match="window"):
        gsalign.fit_power_law(rows, window=(1, 11))


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------

spectra = st.lists(st.floats(1e-6, 1e3, allow_nan=False), min_size=2, max_size=60).map(
    lambda xs: np.sort(np.array(xs))[::-1]
)


@settings(max_examples=80, deadline=None)
@given(sv=spectra, scale=st.floats(1e-3, 1e3))
def test_chart_properties(sv: np.ndarray, scale: float) -> None:
    ls = gsalign.fit_power_law(sv)
    if ls.window[1] == 1:
        # every s_i, i ≥ 2, is below TAU_LS·s_1: no default LS window
        assert math.isnan(ls.alpha) and np.all(sv[1:] <= 1e-8 * sv[0])
        return
    assert ls.alpha >= -1e-12  # a descending spectrum has a non-positive log–log slope
    assert abs(gsalign.fit_power_law(scale * sv).alpha - ls.alpha) <= 1e-9 * (1 + ls.alpha)
    top = gsalign.fit_power_law(sv, chart="top")
    assert top.alpha >= 0 and (top.alpha == math.inf or abs(top.epsilon) <= 1e-10)
    metric = gsalign.fit_power_law(sv, chart="metric")
    assert metric.alpha >= 0
    # the metric chart minimises the Hellinger residual (up to its Brent tolerance)
    for other in (ls, top):
        if other.alpha <= 20:
            assert metric.hellinger <= other.hellinger + 1e-7
    assert 0 <= metric.hellinger <= math.sqrt(2)
    r = gsalign.top_radial(sv)
    assert abs(ls.epsilon - (r - orbit.top_radial(len(sv), ls.alpha))) <= 1e-12


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------

GOOD = np.array([4.0, 2.0, 1.0, 0.5, 0.25])


@pytest.mark.parametrize(
    "kwargs,exc,arg",
    [
        ({"sv": [1.0, np.nan, 0.5]}, NonFiniteError, "sv"),
        ({"sv": [np.inf, 1.0]}, NonFiniteError, "sv"),
        ({"sv": []}, EmptyInputError, "sv"),
        ({"sv": np.zeros((0, 4))}, EmptyInputError, "sv"),
        ({"sv": np.ones((2, 2, 2))}, ShapeError, "sv"),
        ({"sv": [1, 2, 3]}, DTypeError, "sv"),
        ({"sv": np.array([1 + 0j, 0.5])}, DTypeError, "sv"),
        ({"sv": [1.0, 2.0, 0.5]}, InvalidArgumentError, "sv"),
        ({"sv": [1.0, -0.5]}, InvalidArgumentError, "sv"),
        ({"sv": GOOD, "chart": "LS"}, InvalidArgumentError, "chart"),
        ({"sv": GOOD, "window": (0, 3)}, InvalidArgumentError, "window"),
        ({"sv": GOOD, "window": (2, 6)}, InvalidArgumentError, "window"),
        ({"sv": GOOD, "window": (3, 3)}, InvalidArgumentError, "window"),
        ({"sv": GOOD, "window": (4, 2)}, InvalidArgumentError, "window"),
        ({"sv": GOOD, "window": (0.0, 0.5)}, InvalidArgumentError, "window"),
        ({"sv": GOOD, "window": (0.5, 1.5)}, InvalidArgumentError, "window"),
        ({"sv": GOOD, "window": (0.9, 0.5)}, InvalidArgumentError, "window"),
        ({"sv": GOOD, "window": (0.01, 0.02)}, InvalidArgumentError, "window"),
        ({"sv": GOOD, "window": (1, 2, 3)}, InvalidArgumentError, "window"),
        ({"sv": GOOD, "window": "1:3"}, InvalidArgumentError, "window"),
        ({"sv": GOOD, "window": 3}, InvalidArgumentError, "window"),
        ({"sv": GOOD, "window": (1.0, 3)}, InvalidArgumentError, "window"),
        ({"sv": GOOD, "window": (True, 3)}, InvalidArgumentError, "window"),
        ({"sv": GOOD, "chart": "top", "window": (1, 3)}, InvalidArgumentError, "window"),
        ({"sv": np.ones((2, 4)), "n_threads": 0}, InvalidArgumentError, "n_threads"),
    ],
)
def test_bad_input_raises_naming_the_argument(kwargs: dict, exc: type, arg: str) -> None:
    sv = kwargs.pop("sv")
    with pytest.raises(exc) as info:
        gsalign.fit_power_law(sv, **kwargs)
    assert str(info.value).startswith(arg), str(info.value)


def test_residual_vector_and_weights_reject_bad_input() -> None:
    with pytest.raises(InvalidArgumentError, match="^alpha"):
        residual_vector(GOOD, -0.5)
    with pytest.raises(InvalidArgumentError, match="^alpha"):
        residual_vector(GOOD, math.nan)
    with pytest.raises(DTypeError, match="^alpha"):
        residual_vector(GOOD, "1")
    with pytest.raises(InvalidArgumentError, match="^window"):
        ls_weights(3, 3)
    with pytest.raises(InvalidArgumentError, match="^window"):
        ls_weights(0, 3)
    e = residual_vector(GOOD, math.inf)
    p = GOOD**2 / np.sum(GOOD**2)
    np.testing.assert_allclose(e, np.sqrt(p) - np.eye(5)[0], atol=1e-15)
