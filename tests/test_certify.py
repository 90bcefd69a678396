"""The theorems of SPEC §6 as certificates: worked examples, the converse chain, sharpness, and the
inequalities on 300+ random chains from the four generators."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gsalign import chains, orbit, theory
from gsalign.chain import Certificate, Chain
from gsalign.exceptions import InvalidArgumentError


def _normalise(a):
    return math.sqrt(a.shape[0]) * a / np.linalg.norm(a)


def _rot_z(theta):
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])


def test_worked_example_r1_section_6_1():
    a1 = _normalise(np.diag([3.0, 2, 1]))
    a2 = _normalise(np.diag([2, 1.5, 1]) @ _rot_z(0.4))
    a3 = _normalise(np.array([[1, 0.5, 0], [0, 1, 0.5], [0, 0, 1.0]]))
    c = Chain([a1, a2, a3])
    prof = c.profile()
    np.testing.assert_allclose(prof["top_radial"], [0.328390, 0.251953, 0.245572], atol=5e-7)
    np.testing.assert_allclose(c.slack(), [0, 0.025659, 0.191425], atol=5e-7)
    assert c.normalized_log_top()[-1] == pytest.approx(0.608831, abs=5e-7)
    np.testing.assert_allclose(prof["alpha_ls"], [0.955308, 0.607682, 0.614035], atol=5e-7)
    np.testing.assert_allclose(prof["epsilon_ls"], [-0.056785, -0.033876, -0.042453], atol=5e-7)
    mean_r = float(np.mean(prof["top_radial"] - prof["epsilon_ls"]))
    assert mean_r == pytest.approx(0.319676, abs=5e-7)
    cert = c.certify()
    ident = cert.check("R1 identity")
    assert ident.holds and abs(ident.value) < 1e-12
    assert cert.check("R1 converse").holds and cert.check("R1 margin").holds
    assert cert.check("R1 margin").value == pytest.approx(mean_r, abs=1e-12)


def test_worked_example_r2_section_6_2():
    x = np.diag([2.0, 1, 0.5])
    k = np.array([[1, 0.3, 0], [0, 1, 0], [0.2, 0, 0.8]])
    c = Chain([x, k])
    pre, prof = c.prefix_profile(), c.profile()
    np.testing.assert_allclose(np.linalg.svd(k, compute_uv=False), [1.175731, 0.910787, 0.747076], atol=5e-7)
    assert prof["log_rho"][1] == pytest.approx(0.226739, abs=5e-7)
    assert c.slack()[1] == pytest.approx(0.128166, abs=5e-7)
    np.testing.assert_allclose(pre["top_radial"], [0.413339, 0.432053], atol=5e-7)
    np.testing.assert_allclose(pre["alpha_ls"], [1.233662, 1.467609], atol=5e-7)
    np.testing.assert_allclose(pre["alpha_top"], [1.088719, 1.192380], atol=5e-7)
    cert = c.certify()
    tab = cert.table()
    assert tab["R2(e).value"][1] == pytest.approx(0.233947, abs=5e-7)
    assert tab["R2(e).upper"][1] == pytest.approx(0.438774, abs=5e-7)
    assert tab["R2(a).lower"][1] == pytest.approx(-0.128166, abs=5e-7)
    assert tab["R2(a).upper"][1] == pytest.approx(0.325312, abs=5e-7)
    assert cert.holds


def test_converse_chain_attains_the_rate_exactly():
    d, L, M = 16, 32, 10.0
    t = 2 * math.log(M) / (L * math.log(d))
    assert t == pytest.approx(0.051905, abs=5e-7)
    c = Chain(chains.aligned_power_law(L, d, M))
    drift = np.diff(np.concatenate([[0.0], c.prefix_profile()["alpha_ls"]]))
    np.testing.assert_allclose(drift, t, atol=1e-13, rtol=0)
    np.testing.assert_allclose(c.profile()["log_rho"], math.log(M) / L, atol=1e-14, rtol=0)
    assert np.max(np.abs(c.slack())) < 1e-13
    assert np.max(np.abs(c.prefix_profile()["epsilon_ls"])) < 1e-12
    cert = c.certify(budget=M)
    tab = cert.table()
    np.testing.assert_allclose(tab["6.3 LS drift.upper"], 0.075836, atol=5e-7)
    np.testing.assert_allclose(tab["6.3 budget.margin"], 0.0, atol=1e-14)
    assert cert.holds
    # Zero slack and an exact chart: R2(d) is live (monotone exponent) for the LS and top charts.
    for chart in ("ls", "top"):
        dcheck = c.certify(budget=M, chart=chart).check("R2(d) (every interface)")
        assert not dcheck.vacuous and dcheck.holds and dcheck.value > 0
    assert 2 * math.log(M) / (L * orbit.top_radial_slope(d, 0.0)) == pytest.approx(0.075072, abs=5e-7)


def test_step_interface_attains_the_ls_lipschitz_constant():
    d, rho = 16, 1.01
    x = np.diag(np.arange(1.0, d + 1) ** -1.0)
    ell = np.log(np.arange(1.0, d + 1))
    w = (ell - ell.mean()) / np.sum((ell - ell.mean()) ** 2)
    k = np.diag(np.where(w < 0, rho, 1 / rho))
    tab = Chain([x, k]).certify().table()
    assert tab["R2(e).value"][1] == pytest.approx(tab["R2(e).upper"][1], rel=1e-12)
    assert tab["R2(e).upper"][1] == pytest.approx(np.abs(w).sum() * math.log(rho), rel=1e-12)


def _random_chain(seed):
    rng = np.random.default_rng(1000 + seed)
    L, d = int(rng.integers(2, 10)), int(rng.integers(2, 9))
    kind = seed % 4
    if kind == 0:
        h = float(np.exp(rng.uniform(math.log(0.01), math.log(1.5))))
        return chains.near_identity(L, d, h, seed)
    if kind == 1:
        return chains.gaussian(L, d, seed)
    if kind == 2:
        return chains.power_law_coloured(L, d, float(rng.uniform(0.0, 1.5)), seed)
    return chains.aligned_power_law(L, d, float(rng.uniform(1.1, 100)))


@pytest.mark.parametrize("block", range(4))
def test_every_inequality_holds_on_random_chains(block):
    for seed in range(block * 80, (block + 1) * 80):
        f = _random_chain(seed)
        c = Chain(f, ky_fan=[1, 2])
        for chart in ("ls", "top", "metric"):
            cert = c.certify(chart=chart)
            failing = [ch for ch in cert.checks if not ch.holds]
            assert not failing, (seed, chart, failing)
        prof = c.profile()
        lr = prof["log_rho"]
        # r(J^) <= 2 log rho(J^), Horn partial sums >= 0.
        assert np.all(prof["top_radial"] <= 2 * lr + 1e-10), seed
        assert np.all(c.slack(2) >= -1e-10), seed
        tab, act = theory.chain_action(c)
        assert np.all(tab["kl"] <= tab["kl_bound"] + 1e-10), seed
        assert np.all(tab["hellinger"] <= tab["hellinger_bound"] + 1e-10), seed
        assert np.all(tab["kl"] >= -1e-12), seed


def test_budget_below_need_fails_and_makes_dependent_checks_vacuous():
    c = Chain(chains.near_identity(20, 6, 0.3, 2))
    need = math.exp(len(c) * float(np.max(c.profile()["log_rho"])))
    ok = c.certify(budget=need * 1.01)
    assert ok.holds and ok.terms["budget_given"]
    bad = c.certify(budget=math.sqrt(need))
    assert not bad.holds
    assert not bad.check("6.3 budget (every interface)").holds
    assert bad.check("6.3 budget (whole chain)").margin < 0
    assert np.any(bad.table()["6.3 chart drift.vacuous"])
    for m in (0.5, 1.0, float("nan"), float("inf")):
        with pytest.raises(InvalidArgumentError, match="budget"):
            c.certify(budget=m)
    with pytest.raises(InvalidArgumentError, match="chart"):
        Chain(chains.near_identity(3, 3, 0.1, 0), charts=("ls",)).certify(chart="metric")


def test_certificate_is_readable_and_exports():
    c = Chain(chains.near_identity(12, 5, 0.2, 7))
    cert = c.certify()
    assert isinstance(cert, Certificate)
    r = repr(cert)
    assert "HOLDS" in r and "L=12" in r
    s = cert.summary()
    assert "R2(b) (every interface)" in s and "telescoping" in s and "holds" in s
    tab = cert.table()
    assert len(tab) == 12 and "R2(c).margin" in tab
    df = cert.to_pandas()
    assert df.shape[0] == 12 and "R2(c).holds" in df.columns
    at = cert.to_arrow()
    assert at.num_rows == 12
    prof = c.profile()
    assert prof.to_pandas().shape[0] == 12
    with pytest.raises(KeyError):
        cert.check("nope")


def test_per_coordinate_lipschitz_and_interface_angle_bounds():
    """‖Δâ‖_∞ ≤ 2 log ρ(K) and σ(K, X) ≤ −log|⟨v_1(K), u_1(X)⟩| on random pairs (SPEC §5)."""
    rng = np.random.default_rng(7)
    for trial in range(300):
        x = _random_chain(trial)[0] if trial % 3 else rng.standard_normal((int(rng.integers(2, 9)),) * 2)
        d = x.shape[0]
        h = float(np.exp(rng.uniform(math.log(0.01), math.log(1.5))))
        k = chains.near_identity(1, d, h, trial)[0] if trial % 2 else rng.standard_normal((d, d))
        c = Chain([x, k], charts=("ls",))
        sigma, log_rho = c.slack()[1], c.profile()["log_rho"][1]
        sx = np.linalg.svd(x, compute_uv=False)
        skx = np.linalg.svd(k @ x, compute_uv=False)
        if sx[-1] < 1e-8 * sx[0] or skx[-1] < 1e-8 * skx[0]:
            continue
        norm = lambda s: np.log(s) - 0.5 * np.log(np.sum(s**2) / len(s))  # noqa: E731
        assert np.max(np.abs(norm(skx) - norm(sx))) <= 2 * log_rho + 1e-10, trial
        ux = np.linalg.svd(x)[0][:, 0]
        vk = np.linalg.svd(k)[2][0]
        cos = abs(float(vk @ ux))
        assert sigma <= -math.log(cos) + 1e-10, trial
        assert -1e-10 <= sigma <= 2 * log_rho + 1e-10, trial
