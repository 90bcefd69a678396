"""Near-identity expansions (SPEC §7) and action estimates (SPEC §4.5): worked examples, convergence
orders, transport budgets and the action inequalities."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gsalign import chains, theory
from gsalign.chain import Chain
from gsalign.exceptions import InvalidArgumentError, NonFiniteError, ShapeError

E_EXAMPLE = np.array([[0, 1, 0], [0, 0.5, 0], [1, 0, -0.5]], dtype=float)


def test_worked_example_section_7():
    p = theory.near_identity(E_EXAMPLE, 0.01)
    np.testing.assert_allclose(p.mu, [0.866025, 0.0, -0.866025], atol=5e-7)
    assert p.c1 == pytest.approx(0.866025, abs=5e-7)
    assert p.c2 == pytest.approx(-0.666667, abs=5e-7)
    assert p.r_first.measured == pytest.approx(0.0085936522, abs=5e-11)
    assert p.r_first.predicted == pytest.approx(0.0086602540, abs=5e-11)
    assert p.r_second.predicted == pytest.approx(0.0085935874, abs=5e-11)
    assert p.budget_holds
    assert "second order" in repr(p)


def _order(errors):
    """log2 ratios of successive errors for h halving."""
    e = np.abs(np.asarray(errors))
    return np.log2(e[:-1] / e[1:])


def test_convergence_orders_of_r_and_log_rho():
    rng = np.random.default_rng(0)
    for _ in range(3):
        e = rng.standard_normal((6, 6))
        hs = [0.02 / 2**j for j in range(4)]
        preds = [theory.near_identity(e, h) for h in hs]
        assert np.all((_order([p.r_first.error for p in preds]) > 1.7) & (_order([p.r_first.error for p in preds]) < 2.3))
        assert np.all((_order([p.r_second.error for p in preds]) > 2.7) & (_order([p.r_second.error for p in preds]) < 3.3))
        o = _order([p.log_rho_first.error for p in preds])
        assert np.all((o > 1.7) & (o < 2.3))
        o = _order([p.cartan_error for p in preds])
        assert np.all((o > 1.7) & (o < 2.3))


def test_step_and_sum_slack_expansions_are_second_order():
    rng = np.random.default_rng(1)
    x = np.diag([3.0, 2.0, 1.5, 1.0, 0.5]) @ np.linalg.qr(rng.standard_normal((5, 5)))[0]
    e = rng.standard_normal((5, 5))
    a, b = rng.standard_normal((5, 5)), rng.standard_normal((5, 5))
    hs = [0.01 / 2**j for j in range(4)]
    steps = [theory.near_identity_step(x, e, h) for h in hs]
    for k in (0, 1):
        o = _order([s[k].error for s in steps])
        assert np.all((o > 1.7) & (o < 2.3)), o
    assert all(s[1].predicted >= 0 for s in steps)
    sums = [theory.sum_slack(a, b, h) for h in hs]
    o = _order([s.error for s in sums])
    assert np.all((o > 1.7) & (o < 2.3)), o
    assert all(s.predicted >= 0 and s.measured >= -1e-15 for s in sums)


def test_transport_budget_bounds_log_rho():
    rng = np.random.default_rng(2)
    for _ in range(200):
        d = int(rng.integers(2, 8))
        e = rng.standard_normal((d, d))
        h = float(rng.uniform(0.001, 1.0)) / np.linalg.norm(e, 2)
        p = theory.near_identity(e, h)
        assert p.budget.measured <= p.budget.predicted + 1e-12
    L, h = 40, 0.05
    est = theory.transport_budget(chains.near_identity(L, 6, h, 3))
    assert est.predicted == pytest.approx(L * math.atanh(h), rel=1e-12)
    assert est.measured <= est.predicted
    # h = c/L: log M -> c (the transport budget of a normalised residual chain).
    c = 0.8
    big = theory.transport_budget(chains.near_identity(400, 4, c / 400, 0))
    assert big.predicted == pytest.approx(c, rel=1e-5)


def test_worked_example_section_4_5_and_action_inequalities():
    d, L, M = 16, 32, 10.0
    t = 2 * math.log(M) / (L * math.log(d))
    a = theory.orbit_action(d, 2 * t * np.arange(L + 1))
    assert a.kl_action == pytest.approx(9.2984e-2, abs=5e-6)
    assert a.fisher_rao_action == pytest.approx(8.6649e-2, abs=5e-6)
    assert a.fisher_rao == pytest.approx(2.354902, abs=5e-7)
    assert a.bures_length == pytest.approx(4.709803, abs=5e-7)
    assert a.bures_ends == pytest.approx(4.221755, abs=5e-7)
    assert a.holds and "KL action" in repr(a)
    # The chain's own fitted exponents reproduce the same orbit chain exactly.
    _, act = theory.chain_action(Chain(chains.aligned_power_law(L, d, M)))
    assert act.kl_action == pytest.approx(a.kl_action, rel=1e-10)
    rng = np.random.default_rng(4)
    for _ in range(300):
        dd = int(rng.integers(2, 40))
        betas = np.cumsum(np.concatenate([[rng.uniform(0, 2)], rng.uniform(-0.3, 0.3, int(rng.integers(1, 8)))]))
        betas = np.abs(betas)
        assert theory.orbit_action(dd, betas).holds


def test_bad_input():
    with pytest.raises(ShapeError):
        theory.near_identity(np.ones((2, 3)), 0.1)
    with pytest.raises(NonFiniteError):
        theory.near_identity(np.array([[np.nan, 0], [0, 1.0]]), 0.1)
    with pytest.raises(InvalidArgumentError):
        theory.near_identity(E_EXAMPLE, float("nan"))
    with pytest.raises(InvalidArgumentError):
        theory.orbit_action(4, [0.5])
    with pytest.raises(InvalidArgumentError):
        theory.orbit_action(4, [0.5, -1.0])
