"""Effective rank as an energy quantile, rank windows, stable rank and the robustness bracket
(SPEC §8), against an mpmath oracle, the closed-form tail bounds and the golden numbers."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from conftest import power_law_spectrum
from hypothesis import given
from hypothesis import strategies as st

import gsalign
from gsalign.exceptions import InvalidArgumentError

EPS = np.finfo(np.float64).eps


def exact_erank(sv: np.ndarray, tau: float) -> tuple[int, float]:
    """min{k : Σ_{i≤k} p_i ≥ τ} in 50-digit arithmetic, and the distance of the nearest partial
    sum to τ (the oracle is only compared where that distance exceeds the pinned tolerance)."""
    with mpmath.workdps(50):
        sq = [mpmath.mpf(float(s)) ** 2 for s in sv]
        total = mpmath.fsum(sq)
        c = mpmath.mpf(0)
        answer, gap = None, mpmath.inf
        for k, x in enumerate(sq, start=1):
            c += x / total
            gap = min(gap, abs(c - tau))
            if answer is None and c >= tau:
                answer = k
        return answer, float(gap)


spectra = st.lists(
    st.one_of(st.floats(0.0, 1e3), st.just(0.0), st.floats(1e-150, 1e-140)), min_size=1, max_size=60
).map(lambda v: np.array(sorted(v, reverse=True) if max(v) > 0 else [1.0] + v[1:], dtype=np.float64))
taus = st.floats(1e-9, 1.0, exclude_min=False)


# --- golden numbers and regressions -----------------------------------------------------------


def test_flat_spectrum_regression() -> None:
    # SPEC §8/§10: beta = 0, d = 20000, tau = 0.5 is exactly 10000 (a naive cumsum gives 10001).
    sv = np.ones(20000)
    assert gsalign.effective_rank(sv, 0.5) == 10000
    assert gsalign.effective_rank(np.full(20000, 0.37), 0.5) == 10000
    assert gsalign.effective_rank(sv, 0.9) == 18000
    assert gsalign.effective_rank(sv, 1.0) == 20000


@pytest.mark.parametrize(
    ("d", "beta", "tau", "expected"),
    [(1000, 0.5, 0.9, 815), (1000, 1.0, 0.9, 473), (1000, 2.0, 0.9, 6), (100_000, 1.5, 0.99, 3814)],
)
def test_golden_numbers(d: int, beta: float, tau: float, expected: int) -> None:
    assert gsalign.effective_rank(power_law_spectrum(d, beta / 2), tau) == expected


def test_worked_example_quantiles() -> None:
    # p = (0.48, 0.24, 0.16, 0.12), cumulative (0.48, 0.72, 0.88, 1.0).
    sv = power_law_spectrum(4, 0.5)
    assert [gsalign.effective_rank(sv, t) for t in (0.1, 0.48, 0.5, 0.72, 0.73, 0.88, 0.9, 1.0)] == [
        1, 1, 2, 2, 3, 3, 4, 4,
    ]
    assert gsalign.rank_window(sv, 0.5, 0.9) == (2, 4)
    assert list(gsalign.effective_ranks(sv, [0.9, 0.5, 0.1])) == [4, 2, 1]
    assert gsalign.effective_rank(sv) == 4  # default tau = 0.9


def test_zero_singular_values_count_in_the_width() -> None:
    sv = np.array([2.0, 1.0, 0.0, 0.0, 0.0])
    assert gsalign.effective_rank(sv, 1.0) == 2  # support size, not K
    assert gsalign.effective_rank(sv, 0.8) == 1
    assert gsalign.effective_rank(sv, 0.81) == 2
    assert gsalign.effective_rank(np.array([5.0]), 0.3) == 1
    assert gsalign.stable_rank(sv) == 1.25


def test_results_are_python_ints() -> None:
    sv = power_law_spectrum(10, 1.0)
    assert type(gsalign.effective_rank(sv, 0.5)) is int
    lo, hi = gsalign.rank_window(sv, 0.5, 0.9)
    assert type(lo) is int and type(hi) is int


# --- closed-form bounds of §8 -----------------------------------------------------------------


def integral(a: float, b: float, beta: float) -> float:
    """I(a, b) = ∫_a^b x^{-beta} dx."""
    if beta == 1.0:
        return math.log(b / a)
    return (b ** (1 - beta) - a ** (1 - beta)) / (1 - beta)


def harmonic(d: int, beta: float) -> float:
    return math.fsum(np.arange(1, d + 1, dtype=np.float64) ** (-beta))


@pytest.mark.parametrize("d", [50, 1000, 20000])
@pytest.mark.parametrize("beta", [0.0, 0.3, 0.5, 0.8, 1.0, 1.2, 1.5, 2.0, 3.0])
@pytest.mark.parametrize("tau", [0.5, 0.9, 0.99])
def test_tail_bounds(d: int, beta: float, tau: float) -> None:
    e = gsalign.effective_rank(power_law_spectrum(d, beta / 2), tau)
    assert 1 <= e <= d
    if beta < 1:
        lower = (tau * ((d + 1) ** (1 - beta) - 1)) ** (1 / (1 - beta))
        upper = math.ceil((1 + (1 - beta) * tau * (1 + integral(1, d, beta))) ** (1 / (1 - beta)) - 1)
        assert lower <= e <= min(d, upper)
    elif beta == 1:
        assert (d + 1) ** tau / math.e <= e <= min(d, (math.e * d) ** tau)
    else:
        h = harmonic(d, beta)
        upper = math.ceil(math.exp(-math.log((1 - tau) * (beta - 1) * h) / (beta - 1)))
        uniform = math.ceil(((1 - tau) * (beta - 1)) ** (-1 / (beta - 1)))
        assert e <= min(d, upper) <= uniform


def test_bound_numbers_of_the_spec() -> None:
    # d = 1000, tau = 0.9: beta = 0.5 -> 815 in [760.4, 841]; beta = 2 -> 6, bound 7, uniform 10.
    lower = (0.9 * (1001**0.5 - 1)) ** 2
    upper = math.ceil((1 + 0.5 * 0.9 * (1 + integral(1, 1000, 0.5))) ** 2 - 1)
    assert round(lower, 1) == 760.4 and upper == 841
    h = harmonic(1000, 2.0)
    assert math.ceil(math.exp(-math.log(0.1 * h))) == 7
    assert math.ceil(0.1**-1) == 10


def test_transition_extensive_below_half() -> None:
    # erank_tau / d -> tau^{1/(1-beta)} for beta < 1 (alpha < 1/2).
    d = 200_000
    for beta, tau in [(0.5, 0.5), (0.2, 0.9)]:
        e = gsalign.effective_rank(power_law_spectrum(d, beta / 2), tau)
        assert abs(e / d - tau ** (1 / (1 - beta))) < 0.01
    # beta = 1: erank_tau ~ d^tau e^{-gamma (1 - tau)} (473.08 at d = 1000, tau = 0.9).
    asymptotic = 1000**0.9 * math.exp(-0.5772156649015329 * 0.1)
    assert abs(asymptotic - 473.08) < 0.01


# --- properties against an mpmath oracle -------------------------------------------------------


@given(sv=spectra, tau=taus)
def test_agrees_with_exact_quantile(sv: np.ndarray, tau: float) -> None:
    tau = min(max(tau, 1e-9), 1.0)
    got = gsalign.effective_rank(sv, tau)
    support = int(np.flatnonzero(sv > 0)[-1]) + 1
    if tau == 1.0:
        assert got == support
        return
    want, gap = exact_erank(sv, tau)
    if gap > 1e3 * len(sv) * EPS:
        assert got == want
    else:  # within rounding of a partial sum: the tolerance may take the smaller rank
        assert got in (want, want - 1) or (want is None and got == support)
    assert 1 <= got <= support


@given(sv=spectra, a=taus, b=taus, e=st.integers(-30, 30))
def test_window_monotone_and_scale_invariant(sv: np.ndarray, a: float, b: float, e: int) -> None:
    lo, hi = sorted((max(a, 1e-9), max(b, 1e-9)))
    w = gsalign.rank_window(sv, lo, hi)
    assert 1 <= w[0] <= w[1] <= len(sv)
    assert w == (gsalign.effective_rank(sv, lo), gsalign.effective_rank(sv, hi))
    assert gsalign.rank_window(sv * 2.0**e, lo, hi) == w  # power-of-two scaling is exact


@given(sv=spectra, ts=st.lists(st.floats(1e-6, 1.0), max_size=8))
def test_one_pass_matches_single_calls(sv: np.ndarray, ts: list[float]) -> None:
    many = gsalign.effective_ranks(sv, ts)
    assert many.dtype == np.int64 and many.shape == (len(ts),)
    assert list(many) == [gsalign.effective_rank(sv, t) for t in ts]


@given(
    n=st.integers(1, 40),
    data=st.data(),
    tau=st.floats(1e-3, 1.0),
)
def test_robustness_bracket(n: int, data: st.DataObject, tau: float) -> None:
    draw = st.lists(st.floats(0.0, 10.0), min_size=n, max_size=n)
    sp = np.sort(np.array(data.draw(draw)))[::-1]
    sq = np.sort(np.array(data.draw(draw)))[::-1]
    sp[0] = sp[0] or 1.0
    sq[0] = sq[0] or 1.0
    tv = gsalign.total_variation(sp, sq)
    hell = gsalign.hellinger(sp, sq)
    assert tv <= hell + 1e-15
    eq = gsalign.effective_rank(sq, tau)
    for radius in (tv, hell):
        lo, hi = gsalign.erank_bracket(sp, tau, radius)
        assert lo <= eq <= hi


def test_bracket_of_a_fitted_orbit() -> None:
    # A spectrum near the orbit p(alpha): the orbit quantiles at tau -/+ delta bracket its erank.
    rng = np.random.default_rng(7)
    d, alpha = 300, 0.6
    orbit = power_law_spectrum(d, alpha)
    data = np.sort(orbit * np.exp(0.05 * rng.standard_normal(d)))[::-1]
    delta = gsalign.hellinger(orbit, data)
    for tau in (0.5, 0.9, 0.99):
        lo, hi = gsalign.erank_bracket(orbit, tau, delta)
        assert lo <= gsalign.effective_rank(data, tau) <= hi
        assert lo < hi
    assert gsalign.erank_bracket(orbit, 0.5, 0.0) == (gsalign.effective_rank(orbit, 0.5),) * 2
    assert gsalign.erank_bracket(orbit, 0.9, 1.0) == (1, d)


# --- stable rank ------------------------------------------------------------------------------


def test_stable_rank_against_numpy(rng: np.random.Generator) -> None:
    for shape in [(30, 30), (50, 20), (7, 40)]:
        a = rng.standard_normal(shape) @ np.diag(np.linspace(1, 0.1, shape[1]))
        sv = gsalign.singular_values(a)
        want = np.linalg.norm(a, "fro") ** 2 / np.linalg.norm(a, 2) ** 2
        assert gsalign.stable_rank(sv) == pytest.approx(want, rel=1e-12)
        k = min(shape)
        r = gsalign.top_radial(sv)
        assert gsalign.stable_rank(sv) == pytest.approx(k * math.exp(-2 * r), rel=1e-12)
        assert gsalign.spectrum(a).stable_rank == pytest.approx(gsalign.stable_rank(sv), rel=1e-14)


def test_stable_rank_orbit_is_the_harmonic_number() -> None:
    # SPEC §3.1: H_d(2 alpha) is the stable rank of the orbit point.
    for d, alpha in [(4, 0.5), (64, 0.5), (1000, 1.0)]:
        assert gsalign.stable_rank(power_law_spectrum(d, alpha)) == pytest.approx(harmonic(d, 2 * alpha), rel=1e-14)
    assert gsalign.stable_rank(np.ones(17)) == 17.0
    assert gsalign.stable_rank(np.array([3.0, 0.0, 0.0])) == 1.0


# --- batches of spectra -----------------------------------------------------------------------


def test_rows_of_a_2d_array(rng: np.random.Generator) -> None:
    rows = np.sort(rng.random((6, 25)), axis=1)[:, ::-1]
    e = gsalign.effective_rank(rows, 0.7)
    assert e.shape == (6,) and e.dtype == np.int64
    assert list(e) == [gsalign.effective_rank(r, 0.7) for r in rows]
    s = gsalign.stable_rank(rows)
    assert s.shape == (6,) and s.dtype == np.float64
    np.testing.assert_array_equal(s, [gsalign.stable_rank(r) for r in rows])
    # float32 rows and non-contiguous views are accepted.
    assert list(gsalign.effective_rank(rows[::2].astype(np.float32), 0.7)) == [
        gsalign.effective_rank(r.astype(np.float32).astype(np.float64), 0.7) for r in rows[::2]
    ]
    assert gsalign.effective_rank(np.zeros((0, 5)), 0.5).shape == (0,)


def test_bad_row_is_named(rng: np.random.Generator) -> None:
    rows = np.sort(rng.random((4, 5)), axis=1)[:, ::-1].copy()
    rows[2, 3] = np.nan
    with pytest.raises(gsalign.exceptions.NonFiniteError, match=r"row 2, column 3"):
        gsalign.effective_rank(rows)
    rows[2, 3] = 0.0
    rows[1] = rows[1][::-1]
    with pytest.raises(InvalidArgumentError, match=r"sv\[1\]"):
        gsalign.stable_rank(rows)
    rows[1] = 0.0
    with pytest.raises(gsalign.exceptions.ZeroMatrixError, match=r"sv: matrix 1"):
        gsalign.effective_rank(rows)
    with pytest.raises(InvalidArgumentError, match="tau"):
        gsalign.effective_rank(np.zeros((0, 5)), 1.5)
