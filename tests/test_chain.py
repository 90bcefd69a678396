"""Chains: Mode S scalars, slack and Ky Fan identities, Mode F against mpmath, streaming, threads,
bad input and cancellation (SPEC §5, §9)."""

from __future__ import annotations

import math
import os
import signal
import threading
import time

import mpmath
import numpy as np
import pytest

import gsalign
from gsalign import chains
from gsalign.chain import Chain
from gsalign.exceptions import DTypeError, EmptyInputError, InvalidArgumentError, NonFiniteError, ShapeError

FAST = ("ls", "top")


def _direct(factors):
    p = np.eye(factors[0].shape[1])
    for j in factors:
        p = j @ p
    return p


def _generators(seed):
    rng = np.random.default_rng(seed)
    L = int(rng.integers(2, 12))
    d = int(rng.integers(2, 9))
    h = float(rng.uniform(0.01, 1.5))
    kind = seed % 4
    if kind == 0:
        return chains.near_identity(L, d, h, seed)
    if kind == 1:
        return chains.gaussian(L, d, seed)
    if kind == 2:
        return chains.power_law_coloured(L, d, float(rng.uniform(0, 1.5)), seed)
    return chains.aligned_power_law(L, d, float(rng.uniform(1.5, 50)))


@pytest.mark.parametrize("seed", range(40))
def test_telescoping_identity_and_ky_fan(seed):
    f = _generators(seed)
    d = f.shape[1]
    c = Chain(f, charts=FAST, ky_fan=[1, d])
    log_top = c.profile()["log_top"]
    lhs = float(np.sum(log_top))
    rhs = float(c.prefix_log_top()[-1] + np.sum(c.slack()))
    assert abs(lhs - rhs) <= 1e-10 * max(1.0, abs(lhs))
    assert c.slack()[0] == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(c.slack(1), c.slack(), atol=1e-12)
    # Ky Fan-d slack is a determinant identity: exactly 0 up to rounding.
    assert np.max(np.abs(c.slack(d))) < 1e-9
    # Inequalities: 0 <= sigma <= 2 log rho.
    s, lr = c.slack(), c.profile()["log_rho"]
    assert np.all(s >= -1e-10) and np.all(s <= 2 * lr + 1e-10)


def test_ky_fan_telescopes_against_mode_f():
    f = chains.near_identity(30, 6, 0.4, 11)
    c = Chain(f, charts=FAST, ky_fan=[2, 3])
    a_factors = np.log(gsalign.singular_values(f))
    a_prod = np.asarray(c.product_log_spectrum())
    for k in (2, 3):
        kf = c.slack(k)
        assert np.all(kf >= -1e-10)
        lhs = a_factors[:, :k].sum()
        rhs = a_prod[:k].sum() + kf.sum()
        assert abs(lhs - rhs) < 1e-10 * max(1, abs(lhs))
    # Not recorded: recomputed from the array source.
    np.testing.assert_allclose(c.slack(4).sum(), a_factors[:, :4].sum() - a_prod[:4].sum(), atol=1e-10)


def test_prefix_log_top_and_product_spectrum_match_direct_product():
    f = chains.near_identity(25, 7, 0.3, 5)
    c = Chain(f, charts=FAST)
    for l in (1, 10, 25):
        p = _direct(f[:l])
        assert c.prefix_log_top()[l - 1] == pytest.approx(math.log(np.linalg.norm(p, 2)), abs=1e-12)
    s = np.linalg.svd(_direct(f), compute_uv=False)
    res = c.product_log_spectrum()
    assert not res.degraded and res.reason == ""
    np.testing.assert_allclose(np.asarray(res), np.log(s), atol=1e-11)


def _mp_log_sv(factors, dps):
    with mpmath.workdps(dps):
        d = factors[0].shape[1]
        p = mpmath.eye(d)
        for j in factors:
            p = mpmath.matrix(j.tolist()) * p
        s = mpmath.svd_r(p, compute_uv=False)
        return sorted((float(mpmath.log(x)) for x in s), reverse=True)


def test_mode_f_against_mpmath_on_a_chain_spanning_more_than_70_nats():
    rng = np.random.default_rng(3)
    d, L = 6, 250
    grade = np.diag(np.exp(np.linspace(0.16, -0.16, d)))
    f = np.stack([grade @ (np.eye(d) + 0.15 * rng.standard_normal((d, d)) / math.sqrt(d)) for _ in range(L)])
    res = Chain(f, charts=("ls",)).product_log_spectrum()
    assert res.span > 70
    dps = int(20 + res.span / math.log(10)) + 10
    exact = _mp_log_sv(f, dps)
    assert not res.degraded
    np.testing.assert_allclose(np.asarray(res), exact, atol=1e-8, rtol=0)
    # The raw float64 product is useless for the small values.
    naive = np.log(np.linalg.svd(_direct(f), compute_uv=False))
    assert np.max(np.abs(naive - exact)) > 1.0


def _reordering_chain(kind, seed):
    """Chains whose grading changes order between steps (Mode F presorts columns; no pivoting)."""
    rng = np.random.default_rng(seed)
    d, L = int(rng.integers(3, 9)), int(rng.integers(60, 200))
    g = np.exp(np.linspace(0.5, -0.5, d) * rng.uniform(0.3, 1.0))
    out = []
    for l in range(L):
        if kind == "permuted grading":
            j = np.diag(g[rng.permutation(d)]) @ (np.eye(d) + 0.3 * rng.standard_normal((d, d)) / math.sqrt(d))
        elif kind == "orthogonal mixing":
            j = np.linalg.qr(rng.standard_normal((d, d)))[0] @ np.diag(g)
        elif kind == "alternating order":
            j = (np.eye(d) + 0.5 * rng.standard_normal((d, d))) @ np.diag(g if l % 2 else g[::-1])
        else:
            j = rng.standard_normal((d, d))
        out.append(j)
    return np.stack(out)


@pytest.mark.parametrize("kind", ["permuted grading", "orthogonal mixing", "alternating order", "gaussian"])
@pytest.mark.parametrize("seed", [0, 1])
def test_mode_f_against_mpmath_when_the_grading_reorders(kind, seed):
    f = _reordering_chain(kind, seed)
    res = Chain(f, charts=("ls",)).product_log_spectrum()
    assert not res.degraded
    exact = _mp_log_sv(f, int(20 + res.span / math.log(10)) + 10)
    np.testing.assert_allclose(np.asarray(res), exact, atol=1e-10 * max(1.0, res.span), rtol=0)


def test_mode_f_flags_degraded_accuracy_past_its_range():
    d, L = 5, 200
    grade = np.diag(np.exp(np.linspace(2.0, -2.0, d)))
    rng = np.random.default_rng(0)
    f = np.stack([grade @ (np.eye(d) + 0.05 * rng.standard_normal((d, d))) for _ in range(L)])
    c = Chain(f, charts=("ls",))
    res = c.product_log_spectrum()
    assert res.degraded and "nats" in res.reason
    assert "DEGRADED" in repr(res)
    # The degraded values are the graded diagonal: close to, not equal to, the Mode S log s1.
    assert res.log_sv[0] == pytest.approx(c.prefix_log_top()[-1], abs=0.05)


def test_thread_count_and_input_form_do_not_change_results(tmp_path):
    f = chains.near_identity(70, 9, 0.2, 1)
    base = Chain(f, n_threads=1, ky_fan=3)
    other = [
        Chain(f, n_threads=2, ky_fan=3),
        Chain(list(f), ky_fan=3),
        Chain(iter(list(f)), ky_fan=3),
        Chain(chains.near_identity(70, 9, 0.2, 1, stream=True), ky_fan=3),
    ]
    path = tmp_path / "f.npy"
    np.save(path, f)
    other.append(Chain(np.load(path, mmap_mode="r"), ky_fan=3))
    other.append(Chain(np.asfortranarray(f[:, ::-1, :])[:, ::-1, :], ky_fan=3))
    names = base._cols.keys()
    assert len(names) > 40 and "ky_fan_3" in names
    for c in other:
        for k, v in base._cols.items():
            np.testing.assert_array_equal(v, c._cols[k], err_msg=k)
        np.testing.assert_array_equal(np.asarray(base.product_log_spectrum()), np.asarray(c.product_log_spectrum()))


def test_float32_and_rectangular_chains():
    rng = np.random.default_rng(2)
    f = [rng.standard_normal((5, 3)), rng.standard_normal((4, 5)).astype(np.float32), rng.standard_normal((6, 4))]
    c = Chain(f)
    p = _direct([x.astype(np.float64) for x in f])
    s = np.linalg.svd(p, compute_uv=False)
    np.testing.assert_allclose(np.asarray(c.product_log_spectrum()), np.log(s), atol=1e-10)
    assert c.shapes == [(5, 3), (4, 5), (6, 4)]
    assert np.all(np.isinf(c.profile()["log_rho"]))
    cert = c.certify()
    assert cert.check("R2(a) (every interface)").vacuous


def test_bad_input_names_the_factor():
    f = list(chains.near_identity(5, 4, 0.1, 0))
    with pytest.raises(ShapeError, match="factor 3"):
        Chain(f[:3] + [np.eye(5)] + f[3:])
    for bad in (np.nan, np.inf):
        g = [x.copy() for x in f]
        g[2][1, 3] = bad
        with pytest.raises(NonFiniteError, match="matrix 2"):
            Chain(g)
        with pytest.raises(NonFiniteError, match="matrix 2"):
            Chain(np.stack(g))
        with pytest.raises(NonFiniteError, match="matrix 2"):
            Chain(iter(g))
    with pytest.raises(EmptyInputError):
        Chain([])
    with pytest.raises(EmptyInputError):
        Chain(iter([]))
    with pytest.raises(ShapeError):
        Chain(np.eye(3))
    with pytest.raises(DTypeError, match=r"factors\[1\]"):
        Chain([np.eye(3), np.eye(3, dtype=int)])
    with pytest.raises(InvalidArgumentError):
        Chain(f, charts=("nope",))
    with pytest.raises(InvalidArgumentError):
        Chain(f, ky_fan=[9])
    with pytest.raises(gsalign.exceptions.ZeroMatrixError):
        Chain([np.eye(4), np.zeros((4, 4))])
    g = Chain(iter(f))
    with pytest.raises(InvalidArgumentError, match="ky_fan"):
        g.slack(2)
    with pytest.raises(InvalidArgumentError):
        Chain(f, product_spectrum=False).product_log_spectrum()


def test_singular_factor_gives_infinite_rho_and_vacuous_bounds():
    f = list(chains.near_identity(6, 4, 0.2, 0))
    f[3] = f[3].copy()
    f[3][:, 0] = 0.0
    c = Chain(f)
    lr = c.profile()["log_rho"]
    assert np.isinf(lr[3]) and np.all(np.isfinite(np.delete(lr, 3)))
    cert = c.certify()
    tab = cert.table()
    assert tab["R2(a).vacuous"][3] and not tab["R2(a).vacuous"][2]
    assert cert.holds
    res = c.product_log_spectrum()
    assert res.degraded or res.log_sv[-1] < -30


def test_streamed_generator_is_read_once_and_lazily():
    seen = []

    def gen():
        for i, j in enumerate(chains.near_identity(300, 8, 0.1, 4, stream=True)):
            seen.append(i)
            yield j

    c = Chain(gen(), charts=("ls",))
    assert len(c) == 300 and seen == list(range(300))


def test_ctrl_c_stops_a_long_chain_within_a_second():
    f = chains.near_identity(64, 160, 0.05, 0)
    big = np.concatenate([f] * 60)  # 3840 factors: many seconds of work
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            Chain(big, charts=("ls",))
        latency = time.perf_counter() - start - 0.5
    finally:
        timer.cancel()
    assert latency < 1.0


def test_degenerate_chains_give_nan_or_vacuous_not_errors():
    c = Chain([np.array([[2.0]]), np.array([[3.0]])])
    assert np.all(np.isnan(c.profile()["alpha_ls"]))
    assert c.product_log_spectrum().log_sv[0] == pytest.approx(math.log(6.0), abs=1e-14)
    cert = c.certify()
    assert cert.holds and cert.check("R1 identity").vacuous
    rank1 = Chain(np.ones((3, 4, 4)), ky_fan=[1, 2])
    assert np.all(np.isnan(rank1.slack(2)[1:]))
    np.testing.assert_allclose(rank1.slack(1), rank1.slack(), atol=1e-12)
    assert rank1.certify(chart="metric").holds


def test_ls_window_option():
    f = chains.power_law_coloured(6, 12, 0.8, 1)
    c = Chain(f, charts=("ls",), window=(2, 9))
    prof = c.profile()
    assert np.all(prof["window_lo_ls"] == 2) and np.all(prof["window_hi_ls"] == 9)
    np.testing.assert_allclose(prof["alpha_ls"], 0.8, atol=1e-12)
    q = Chain(f, charts=("ls",), window=(0.5, 0.99)).profile()
    assert np.all(q["window_lo_ls"] >= 1) and np.all(q["window_hi_ls"] <= 12)
    for bad in ((3, 3), (0, 4), (0.5, 1.5), "all", (1, 2, 3)):
        with pytest.raises(InvalidArgumentError, match="window"):
            Chain(f, window=bad)


def test_docstring_example():
    import doctest

    import gsalign.chain

    assert doctest.testmod(gsalign.chain, optionflags=doctest.ELLIPSIS).failed == 0
