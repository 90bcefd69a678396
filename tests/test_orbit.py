"""gsalign.orbit against mpmath oracles (mp.dps = 60), closed forms, finite differences, the
inequalities of SPEC §4.4 and §8, and the golden numbers of SPEC §3, §4 and §8."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gsalign
from gsalign import orbit
from gsalign.exceptions import DTypeError, GsalignError, InvalidArgumentError

mp.mp.dps = 60

WIDTHS = [2, 3, 10, 64, 1000, 4096, 4097, 10**5, 10**7, 10**9]
BETAS = ["0", "0.3", "0.5", "0.999", "1", "1.000000000001", "0.999999999999", "1.5", "2", "3", "7", "20"]


def _mp_sums(d: int, beta: str) -> list[mp.mpf]:
    """S_m = Σ_{i=1}^d i^{−β}(log i)^m for m = 0, 1, 2, from Hurwitz ζ derivatives:
    S_m = (−1)^m [ζ^{(m)}(β) − ζ^{(m)}(β, d+1)] (analytic continuation for β < 1). The pole at
    β = 1 cancels in the difference; there the value is the mean at β = 1 ± 1e−20 (error ~1e−40),
    computed with 120 digits because ζ″ ~ 2/(β−1)³ cancels 60 of them."""
    b = mp.mpf(beta)

    def sums(s: mp.mpf) -> list[mp.mpf]:
        return [(-1) ** m * (mp.zeta(s, 1, m) - mp.zeta(s, d + 1, m)) for m in range(3)]

    if b == 1:
        with mp.workdps(120):
            eps = mp.mpf("1e-20")
            lo, hi = sums(b - eps), sums(b + eps)
            return [(x + y) / 2 for x, y in zip(lo, hi)]
    return sums(b)


def _mp_moments(d: int, beta: str) -> tuple[mp.mpf, mp.mpf, mp.mpf]:
    s0, s1, s2 = _mp_sums(d, beta)
    mean = s1 / s0
    return mp.log(s0), mean, s2 / s0 - mean**2


def _rel(a: float, b: mp.mpf) -> float:
    b = float(b)
    return abs(a - b) / max(abs(b), 1e-300)


# ---------------------------------------------------------------------------------------------
# log H_d, moments, R, R′ against mpmath
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("d", WIDTHS)
def test_log_harmonic_matches_hurwitz_zeta(d: int) -> None:
    for beta in BETAS:
        ref = _mp_moments(d, beta)[0]
        got = orbit.log_harmonic(d, float(beta))
        assert _rel(got, ref) <= 1e-14, (d, beta, got, ref)


@pytest.mark.parametrize("d", [10**3, 10**6, 10**9])
def test_log_harmonic_at_beta_one_is_digamma(d: int) -> None:
    ref = mp.log(mp.digamma(d + 1) + mp.euler)
    assert _rel(orbit.log_harmonic(d, 1.0), ref) <= 1e-15


def test_log_harmonic_is_fast_for_huge_widths() -> None:
    import time

    start = time.perf_counter()
    betas = np.linspace(0.0, 20.0, 200)
    values = orbit.log_harmonic(10**9, betas)
    assert time.perf_counter() - start < 2.0
    assert values.shape == betas.shape and np.all(np.isfinite(values))


@pytest.mark.parametrize("d", WIDTHS)
def test_log_rank_moments_match_mpmath(d: int) -> None:
    for beta in BETAS:
        _, mean, var = _mp_moments(d, beta)
        assert _rel(orbit.log_rank_mean(d, float(beta)), mean) <= 1e-12, (d, beta)
        assert _rel(orbit.log_rank_variance(d, float(beta)), var) <= 1e-11, (d, beta)
        assert _rel(orbit.fisher_information(d, float(beta)), var) <= 1e-11, (d, beta)


@pytest.mark.parametrize("d", [2, 4, 64, 1024, 10**5, 10**9])
def test_top_radial_and_slope_match_mpmath(d: int) -> None:
    for alpha in ["0.001", "0.25", "0.5", "1", "2.5", "10"]:
        log_h, mean, var = _mp_moments(d, str(2 * mp.mpf(alpha)))
        r = (mp.log(d) - log_h) / 2
        assert _rel(orbit.top_radial(d, float(alpha)), r) <= 1e-13, (d, alpha)
        assert _rel(orbit.top_radial_slope(d, float(alpha)), mean) <= 1e-12, (d, alpha)
        assert _rel(orbit.bures_line_element(d, float(alpha)), mp.sqrt(d * var)) <= 1e-11


def test_top_radial_is_relatively_accurate_for_tiny_alpha() -> None:
    d, alpha = 100, 1e-9
    log_h = _mp_moments(d, str(mp.mpf(2) * mp.mpf("1e-9")))[0]
    r = (mp.log(d) - log_h) / 2
    assert _rel(orbit.top_radial(d, alpha), r) <= 1e-9


def test_probabilities_match_mpmath() -> None:
    for d, alpha in [(4, 0.5), (100, 0.37), (5000, 1.2)]:
        p = orbit.probabilities(d, alpha)
        h = mp.fsum(mp.mpf(i) ** (-2 * mp.mpf(alpha)) for i in range(1, d + 1))
        ref = np.array([float(mp.mpf(i) ** (-2 * mp.mpf(alpha)) / h) for i in range(1, d + 1)])
        np.testing.assert_allclose(p, ref, rtol=1e-14)
        assert abs(p.sum() - 1.0) <= 1e-14


# ---------------------------------------------------------------------------------------------
# KL, Bhattacharyya, Fisher–Rao against mpmath
# ---------------------------------------------------------------------------------------------


def _mp_kl_direct(d: int, b0: mp.mpf, b1: mp.mpf) -> mp.mpf:
    z0 = mp.fsum(mp.mpf(i) ** -b0 for i in range(1, d + 1))
    z1 = mp.fsum(mp.mpf(i) ** -b1 for i in range(1, d + 1))
    return mp.fsum(
        (mp.mpf(i) ** -b0 / z0) * (mp.log(mp.mpf(i) ** -b0 / z0) - mp.log(mp.mpf(i) ** -b1 / z1))
        for i in range(1, d + 1)
    )


@pytest.mark.parametrize("d", [2, 16, 300])
def test_kl_matches_direct_mpmath_sum(d: int) -> None:
    for b0, b1 in [(0.0, 1.0), (1.0, 0.0), (0.5, 0.5000001), (2.0, 1.9999999999), (0.3, 6.0), (4.0, 0.1)]:
        ref = _mp_kl_direct(d, mp.mpf(b0), mp.mpf(b1))
        assert _rel(orbit.kl(d, b0, b1), ref) <= 1e-10, (d, b0, b1)


@pytest.mark.parametrize("d", [10**5, 10**9])
def test_kl_bc_for_wide_orbits_match_mpmath(d: int) -> None:
    for b0, b1 in [("0.5", "1.5"), ("1", "1.3"), ("2", "0.2"), ("1.2", "1.2001")]:
        psi0, mean0, _ = _mp_moments(d, b0)
        psi1, _, _ = _mp_moments(d, b1)
        ref = psi1 - psi0 + (mp.mpf(b1) - mp.mpf(b0)) * mean0
        tol = 1e-10 if ref > 1e-6 else 1e-7
        assert _rel(orbit.kl(d, float(b0), float(b1)), ref) <= tol, (d, b0, b1)
        psim = _mp_moments(d, str((mp.mpf(b0) + mp.mpf(b1)) / 2))[0]
        bc = mp.exp(psim - (psi0 + psi1) / 2)
        assert _rel(orbit.bhattacharyya(d, float(b0), float(b1)), bc) <= 1e-13


def test_bhattacharyya_matches_direct_sum() -> None:
    for d, b0, b1 in [(7, 0.0, 2.0), (64, 0.4, 1.7), (500, 3.0, 0.9)]:
        p, q = orbit.probabilities(d, b0 / 2), orbit.probabilities(d, b1 / 2)
        assert abs(orbit.bhattacharyya(d, b0, b1) - np.sum(np.sqrt(p * q))) <= 1e-14


@pytest.mark.parametrize(
    "d,b0,b1", [(16, 0.0, 1.5), (64, 0.2, 3.0), (1000, 1.0, 0.0), (10**6, 0.2, 0.9), (10**9, 1.1, 2.5)]
)
def test_fisher_rao_length_matches_mpmath_quadrature(d: int, b0: float, b1: float) -> None:
    mp.mp.dps = 40

    def integrand(u: mp.mpf) -> mp.mpf:
        if d <= 1000:
            w = [mp.mpf(i) ** -u for i in range(1, d + 1)]
            z = mp.fsum(w)
            m = mp.fsum(wi * mp.log(i + 1) for i, wi in enumerate(w)) / z
            return mp.sqrt(mp.fsum(wi * (mp.log(i + 1) - m) ** 2 for i, wi in enumerate(w)) / z)
        s0, s1, s2 = [(-1) ** m * (mp.zeta(u, 1, m) - mp.zeta(u, d + 1, m)) for m in range(3)]
        return mp.sqrt(s2 / s0 - (s1 / s0) ** 2)

    try:
        ref = mp.quad(integrand, [min(b0, b1), max(b0, b1)])
    finally:
        mp.mp.dps = 60
    assert _rel(orbit.fisher_rao_length(d, b0, b1), ref) <= 1e-10


# ---------------------------------------------------------------------------------------------
# Identities by finite differences
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("d", [2, 16, 64, 1000, 10**6])
def test_derivative_identities(d: int) -> None:
    for alpha in [0.05, 0.4, 1.0, 2.0]:
        h = 1e-5
        r = lambda a: orbit.top_radial(d, a)  # noqa: E731
        slope = (r(alpha + h) - r(alpha - h)) / (2 * h)
        exact = orbit.top_radial_slope(d, alpha)
        assert abs(slope - exact) <= 1e-6 * exact
        h = 1e-3
        second = (r(alpha + h) - 2 * r(alpha) + r(alpha - h)) / h**2
        var = orbit.log_rank_variance(d, 2 * alpha)
        assert abs(second + 2 * var) <= 2e-3 * 2 * var
        # ψ″ = Var, in β
        beta, h = 2 * alpha, 1e-4
        psi = lambda b: orbit.log_harmonic(d, b)  # noqa: E731
        assert abs((psi(beta + h) - 2 * psi(beta) + psi(beta - h)) / h**2 - var) <= 1e-3 * var


@pytest.mark.parametrize("d", [2, 16, 64, 1000])
def test_fisher_is_score_variance_and_bures_is_quarter_d_fisher(d: int) -> None:
    for beta in [0.1, 0.9, 1.0, 2.5]:
        h = 1e-5
        p = orbit.probabilities(d, beta / 2)
        dp = (orbit.probabilities(d, (beta + h) / 2) - orbit.probabilities(d, (beta - h) / 2)) / (2 * h)
        fisher = orbit.fisher_information(d, beta)
        assert abs(np.sum(dp**2 / p) - fisher) <= 1e-6 * fisher
        # ds²_BW = d·‖Δ√p‖² = (d/4)·I(β)·dβ²  (1e−3 relative at h = 1e−4)
        h = 1e-4
        ds2 = d * np.sum((np.sqrt(orbit.probabilities(d, (beta + h) / 2)) - np.sqrt(p)) ** 2)
        assert abs(ds2 / h**2 - d / 4 * fisher) <= 1e-3 * d / 4 * fisher
        assert abs(orbit.bures_line_element(d, beta / 2) ** 2 - d * fisher) <= 1e-12 * d * fisher


@pytest.mark.parametrize("d", [3, 64, 2000])
def test_kl_closed_forms(d: int) -> None:
    rng = np.random.default_rng(d)
    for b0, b1 in rng.uniform(0, 4, size=(20, 2)):
        p, q = orbit.probabilities(d, b0 / 2), orbit.probabilities(d, b1 / 2)
        direct = np.sum(p * (np.log(p) - np.log(q)))
        bregman = orbit.log_harmonic(d, b1) - orbit.log_harmonic(d, b0) + (b1 - b0) * orbit.log_rank_mean(d, b0)
        got = orbit.kl(d, b0, b1)
        assert abs(got - bregman) <= 1e-12 * max(1.0, abs(bregman))
        assert abs(got - direct) <= 1e-12 * max(1.0, abs(direct))
        bc = orbit.bhattacharyya(d, b0, b1)
        assert abs(np.sum(np.sqrt(p * q)) - bc) <= 1e-12
        hell2 = np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)
        assert abs(d * hell2 - 2 * d * (1 - bc)) <= 1e-10 * d


# ---------------------------------------------------------------------------------------------
# Inequalities of SPEC §4.4 over grids
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("d", [2, 16, 64, 1000])
def test_kl_fisher_bures_inequalities(d: int) -> None:
    grid = [0.0, 0.3, 0.957, 1.0, 1.6, 3.0, 6.0]
    for b0 in grid:
        for b1 in grid:
            if b0 == b1:
                continue
            seg = np.linspace(min(b0, b1), max(b0, b1), 2001)
            fisher = orbit.fisher_information(d, seg)
            i_min, i_max = fisher.min(), fisher.max()
            dbeta2 = (b1 - b0) ** 2
            kl01, kl10 = orbit.kl(d, b0, b1), orbit.kl(d, b1, b0)
            for k in (kl01, kl10):
                assert 0.5 * i_min * dbeta2 <= k * (1 + 1e-12) + 1e-12
                assert k <= 0.5 * i_max * dbeta2 * (1 + 1e-12) + 1e-12
            p, q = orbit.probabilities(d, b0 / 2), orbit.probabilities(d, b1 / 2)
            hell2 = np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)
            assert d * hell2 <= d * min(kl01, kl10) + 1e-12
            assert hell2 >= 2 * (1 - math.exp(-i_min * dbeta2 / 8)) - 1e-12
            fr = orbit.fisher_rao_length(d, b0, b1)
            assert math.sqrt(d * hell2) <= math.sqrt(d) / 2 * fr + 1e-12


def test_variance_is_not_monotone_and_peaks_near_0957() -> None:
    betas = np.linspace(0.0, 3.0, 30001)
    var = orbit.log_rank_variance(64, betas)
    assert abs(var.max() - 1.7922) < 5e-5
    assert abs(betas[var.argmax()] - 0.957) < 1e-3


# ---------------------------------------------------------------------------------------------
# Golden numbers
# ---------------------------------------------------------------------------------------------


def test_worked_example_3_1() -> None:
    assert abs(math.exp(orbit.log_harmonic(4, 1.0)) - 25 / 12) < 1e-15
    np.testing.assert_allclose(orbit.probabilities(4, 0.5), [0.48, 0.24, 0.16, 0.12], rtol=1e-14)
    s = np.sqrt(4 * orbit.probabilities(4, 0.5))
    np.testing.assert_allclose(s, [1.3856, 0.9798, 0.8, 0.6928], atol=5e-5)


@pytest.mark.parametrize(
    "d,alpha,r,slope,var",
    [
        (4, 0.5, 0.326163, 0.508489, 0.280477),
        (64, 0.5, 1.301013, 1.814495, 1.788465),
        (1024, 0.25, 1.397711, 5.109804, 2.619459),
        (1024, 1.0, 3.217183, 0.565590, 0.852214),
    ],
)
def test_golden_table_3_2(d: int, alpha: float, r: float, slope: float, var: float) -> None:
    assert round(orbit.top_radial(d, alpha), 6) == r
    assert round(orbit.top_radial_slope(d, alpha), 6) == slope
    assert round(orbit.log_rank_variance(d, 2 * alpha), 6) == var
    assert orbit.top_radial(d, 0.0) == 0.0
    assert abs(orbit.top_radial_slope(d, 0.0) - math.lgamma(d + 1) / d) < 1e-13


def test_golden_4_2_and_4_5() -> None:
    assert round(orbit.bures_line_element(64, 0.5), 6) == 10.698681
    d, length, budget = 16, 32, 10.0
    t = 2 * math.log(budget) / (length * math.log(d))
    betas = [2 * l * t for l in range(length + 1)]
    action = sum(orbit.kl(d, betas[l], betas[l - 1]) for l in range(1, length + 1))
    fr = orbit.fisher_rao_length(d, betas[0], betas[-1])
    assert f"{action:.4e}" == "9.2984e-02"
    assert f"{0.5 * fr**2 / length:.4e}" == "8.6649e-02"
    assert round(fr, 6) == 2.354902
    assert round(math.sqrt(d) / 2 * fr, 6) == 4.709803
    p0, p1 = orbit.probabilities(d, 0.0), orbit.probabilities(d, betas[-1] / 2)
    assert round(math.sqrt(d) * np.linalg.norm(np.sqrt(p0) - np.sqrt(p1)), 6) == 4.221755
    # 𝒜_KL ≥ ½(Σ √I_min |Δβ|)²/L, and 𝒜_BW ≤ d·𝒜_KL
    lower = 0.0
    bw = 0.0
    for l in range(1, length + 1):
        seg = np.linspace(betas[l - 1], betas[l], 2001)
        lower += math.sqrt(orbit.fisher_information(d, seg).min()) * (betas[l] - betas[l - 1])
        bw += 2 * d * (1 - orbit.bhattacharyya(d, betas[l - 1], betas[l]))
    assert 0.5 * lower**2 / length <= action
    assert bw <= d * action


def test_golden_section_8() -> None:
    assert orbit.effective_rank(1000, 0.5, 0.9) == 815
    assert orbit.effective_rank(1000, 1.0, 0.9) == 473
    assert orbit.effective_rank(1000, 2.0, 0.9) == 6
    assert orbit.effective_rank(10**5, 1.5, 0.99) == 3814
    assert orbit.effective_rank(20000, 0.0, 0.5) == 10000
    lo, hi = orbit.effective_rank_bounds(1000, 0.5, 0.9)
    assert round(lo, 1) == 760.4 and hi == 841
    lo, hi = orbit.effective_rank_bounds(1000, 1.0, 0.9)
    # (e·d)^τ = 1232.7 is capped at d
    assert round(lo, 1) == 184.5 and hi == 1000
    assert round((math.e * 1000) ** 0.9, 1) == 1232.7
    assert orbit.effective_rank_bounds(1000, 2.0, 0.9)[1] == 7
    uniform = math.ceil(math.exp(-math.log((1 - 0.9) * (2 - 1)) / (2 - 1)) - 1e-9)
    assert uniform == 10
    assert round(orbit.effective_rank_asymptotic(1000, 1.0, 0.9), 2) == 473.08
    assert abs(orbit.effective_rank_asymptotic(1000, 0.5, 0.9) - 0.81 * 1000) < 1e-9


# ---------------------------------------------------------------------------------------------
# SPEC §8 closed forms over a (d, β, τ) grid
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("d", [1, 2, 5, 37, 1000, 20000])
def test_tail_harmonic_and_erank_bounds_over_a_grid(d: int) -> None:
    for beta in [0.0, 0.2, 0.5, 0.9, 0.999999, 1.0, 1.000001, 1.1, 1.5, 2.0, 3.0, 6.0]:
        w = np.arange(1, d + 1, dtype=float) ** -beta
        tails = np.concatenate([np.cumsum(w[::-1])[::-1][1:], [0.0]])
        for k in sorted({1, 2, d // 3 + 1, d // 2 + 1, d}):
            if k > d:
                continue
            lo, hi = orbit.tail_bounds(d, beta, k)
            assert lo <= tails[k - 1] * (1 + 1e-12) + 1e-300 and tails[k - 1] <= hi * (1 + 1e-12)
        h = math.exp(orbit.log_harmonic(d, beta))
        hlo, hhi = orbit.harmonic_bounds(d, beta)
        assert hlo <= h * (1 + 1e-13) and h <= hhi * (1 + 1e-13)
        for tau in [0.05, 0.3, 0.5, 0.9, 0.99, 1.0]:
            e = orbit.effective_rank(d, beta, tau)
            lo, hi = orbit.effective_rank_bounds(d, beta, tau)
            assert 1 <= lo <= e <= hi <= d, (d, beta, tau, lo, e, hi)
            # the orbit point's effective rank equals the spectrum-level quantile of SPEC §8
            sv = np.sqrt(orbit.probabilities(d, beta / 2))
            assert gsalign.effective_rank(sv, tau) == e, (d, beta, tau)


def test_erank_for_huge_widths_uses_bisection_consistently() -> None:
    d = 10**9
    target = 0.5 - 64 * d * np.finfo(float).eps
    assert orbit.effective_rank(d, 0.0, 0.5) == math.ceil(target * d)
    for beta, tau in [(0.5, 0.9), (1.0, 0.5), (2.0, 0.99)]:
        e = orbit.effective_rank(d, beta, tau)
        lo, hi = orbit.effective_rank_bounds(d, beta, tau)
        assert lo <= e <= hi
        # F(e) ≥ τ' > F(e − 1)
        tp = tau - 64 * d * np.finfo(float).eps
        log_hd = orbit.log_harmonic(d, beta)
        assert orbit.log_harmonic(e, beta) - log_hd >= math.log(tp)
        if e > 1:
            assert orbit.log_harmonic(e - 1, beta) - log_hd < math.log(tp)


def test_transition_of_the_rank_window() -> None:
    for beta in [0.3, 0.7]:
        limit = 0.9 ** (1 / (1 - beta))
        assert abs(orbit.effective_rank(10**9, beta, 0.9) / 10**9 - limit) < 2e-3
    # β = 1: grows like d^τ, erank_τ ≈ d^τ·e^{−γ(1−τ)}
    for d in (10**4, 10**6, 10**9):
        e = orbit.effective_rank(d, 1.0, 0.5)
        assert abs(e / orbit.effective_rank_asymptotic(d, 1.0, 0.5) - 1) < 0.02
    assert orbit.effective_rank(10**8, 2.0, 0.9) == orbit.effective_rank(10**4, 2.0, 0.9)


# ---------------------------------------------------------------------------------------------
# Vectorisation, limits, properties
# ---------------------------------------------------------------------------------------------


def test_functions_vectorise_over_exponents() -> None:
    alphas = np.array([[0.0, 0.5], [1.0, 2.0]])
    r = orbit.top_radial(64, alphas)
    assert r.shape == (2, 2)
    assert r[1, 0] == orbit.top_radial(64, 1.0)
    assert isinstance(orbit.top_radial(64, 0.5), float)
    kl = orbit.kl(64, np.array([0.5, 1.0, 2.0]), 1.5)
    assert kl.shape == (3,) and kl[1] == orbit.kl(64, 1.0, 1.5)
    assert orbit.log_harmonic(10, [0, 1]).tolist() == [math.log(10), orbit.log_harmonic(10, 1)]


def test_limits_and_width_one() -> None:
    assert orbit.top_radial(1, 3.0) == 0.0
    assert orbit.fisher_information(1, 3.0) == 0.0
    assert orbit.effective_rank(1, 3.0, 0.5) == 1
    assert orbit.top_radial(50, math.inf) == pytest.approx(0.5 * math.log(50), rel=1e-15)
    assert orbit.probabilities(3, math.inf).tolist() == [1.0, 0.0, 0.0]
    assert orbit.kl(10, 1.0, math.inf) == math.inf
    assert orbit.kl(10, math.inf, 1.0) == pytest.approx(orbit.log_harmonic(10, 1.0), rel=1e-15)
    assert orbit.log_harmonic(7, 0) == pytest.approx(math.log(7), rel=1e-15)


@settings(max_examples=60, deadline=None)
@given(
    d=st.integers(2, 5000),
    b0=st.floats(0, 8, allow_nan=False),
    b1=st.floats(0, 8, allow_nan=False),
)
def test_divergence_properties(d: int, b0: float, b1: float) -> None:
    k = orbit.kl(d, b0, b1)
    assert k >= 0.0
    if abs(b0 - b1) > 1e-6:
        assert k > 0.0
    bc = orbit.bhattacharyya(d, b0, b1)
    assert 0.0 < bc <= 1.0
    assert orbit.bhattacharyya(d, b1, b0) == bc
    fr = orbit.fisher_rao_length(d, b0, b1)
    assert fr == pytest.approx(orbit.fisher_rao_length(d, b1, b0), rel=1e-14)
    # Hellinger between orbit points is at most the Fisher–Rao length / 2
    assert math.sqrt(max(2 * (1 - bc), 0.0)) <= fr / 2 + 1e-12


@settings(max_examples=60, deadline=None)
@given(d=st.integers(2, 10**9), a=st.floats(0, 10, allow_nan=False))
def test_top_radial_range_and_monotonicity(d: int, a: float) -> None:
    r = orbit.top_radial(d, a)
    assert 0.0 <= r <= 0.5 * math.log(d)
    assert orbit.top_radial(d, a + 0.01) >= r
    assert orbit.top_radial_slope(d, a) > 0.0


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call,arg",
    [
        (lambda: orbit.top_radial(10, -0.1), "alpha"),
        (lambda: orbit.top_radial(10, math.nan), "alpha"),
        (lambda: orbit.probabilities(10, -1.0), "alpha"),
        (lambda: orbit.top_radial_slope(10, [0.5, -0.5]), "alpha"),
        (lambda: orbit.bures_line_element(10, -2.0), "alpha"),
        (lambda: orbit.log_harmonic(10, -1.0), "beta"),
        (lambda: orbit.fisher_information(10, math.nan), "beta"),
        (lambda: orbit.kl(10, -1.0, 1.0), "beta0"),
        (lambda: orbit.bhattacharyya(10, 1.0, math.nan), "beta1"),
        (lambda: orbit.fisher_rao_length(10, 0.0, math.inf), "beta1"),
        (lambda: orbit.log_harmonic(0, 1.0), "d"),
        (lambda: orbit.log_harmonic(-3, 1.0), "d"),
        (lambda: orbit.log_harmonic(2**70, 1.0), "d"),
        (lambda: orbit.tail_bounds(10, 1.0, 2**70), "k"),
        (lambda: orbit.probabilities(2**27 + 1, 1.0), "d"),
        (lambda: orbit.tail_bounds(10, 1.0, 11), "k"),
        (lambda: orbit.tail_bounds(10, 1.0, 0), "k"),
        (lambda: orbit.effective_rank(10, 1.0, 0.0), "tau"),
        (lambda: orbit.effective_rank(10, 1.0, 1.5), "tau"),
        (lambda: orbit.effective_rank_bounds(10, 1.0, math.nan), "tau"),
        (lambda: orbit.effective_rank_asymptotic(10, -1.0, 0.5), "beta"),
    ],
)
def test_bad_values_raise_invalid_argument_naming_it(call, arg: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        call()
    assert str(info.value).startswith(arg), str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, GsalignError)


@pytest.mark.parametrize(
    "call,arg",
    [
        (lambda: orbit.log_harmonic(2.5, 1.0), "d"),
        (lambda: orbit.log_harmonic(True, 1.0), "d"),
        (lambda: orbit.log_harmonic("10", 1.0), "d"),
        (lambda: orbit.top_radial(10, "0.5"), "alpha"),
        (lambda: orbit.top_radial(10, 1j), "alpha"),
        (lambda: orbit.probabilities(10, None), "alpha"),
        (lambda: orbit.kl(10, [0.5], "x"), "beta1"),
        (lambda: orbit.tail_bounds(10, 1.0, 2.0), "k"),
        (lambda: orbit.effective_rank(10, 1.0, "0.5"), "tau"),
    ],
)
def test_wrong_types_raise_dtype_error_naming_it(call, arg: str) -> None:
    with pytest.raises(DTypeError) as info:
        call()
    assert str(info.value).startswith(arg), str(info.value)
    assert isinstance(info.value, TypeError)
