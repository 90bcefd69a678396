"""Oracle and property suite for ``gsalign.singular_values`` and ``gsalign.spectrum`` (SPEC §2, §9).

Oracles: LAPACK through numpy (``gesdd``) and scipy (``gesvd``, an independent driver). The
accuracy contract: every singular value within 1e-12·s_1 of LAPACK's for float64 input and within
1e-6·s_1 for float32 input, for ``method="auto"`` and ``"svd"``; ``"gram"`` meets it on
well-conditioned matrices.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

import numpy as np
import pytest
import scipy.linalg
from conftest import random_orthogonal
from hypothesis import given
from hypothesis import strategies as st

import gsalign

CONTRACT = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-6}


# --- matrix families --------------------------------------------------------------------------


def coloured(rng: np.random.Generator, m: int, n: int, s: np.ndarray) -> np.ndarray:
    """U diag(s) Vᵀ with Haar-random U (m x k) and V (n x k), k = len(s)."""
    k = len(s)
    u = np.linalg.qr(rng.standard_normal((m, k)))[0]
    v = np.linalg.qr(rng.standard_normal((n, k)))[0]
    return (u * s) @ v.T


def gaussian(rng: np.random.Generator, m: int, n: int) -> np.ndarray:
    return rng.standard_normal((m, n))


def near_identity(rng: np.random.Generator, m: int, n: int) -> np.ndarray:
    """I + 0.5 G/√d (rectangular: the m x n corner of the identity)."""
    return np.eye(m, n) + 0.5 * rng.standard_normal((m, n)) / math.sqrt(max(m, n))


def power_law(alpha: float) -> Callable[[np.random.Generator, int, int], np.ndarray]:
    def make(rng: np.random.Generator, m: int, n: int) -> np.ndarray:
        k = min(m, n)
        return coloured(rng, m, n, np.arange(1, k + 1, dtype=np.float64) ** -alpha)

    make.__name__ = f"power_law_{alpha}"
    return make


def ill_conditioned(rng: np.random.Generator, m: int, n: int) -> np.ndarray:
    """Condition number 1e8, geometrically spaced singular values."""
    return coloured(rng, m, n, np.geomspace(1.0, 1e-8, min(m, n)))


def rank_deficient(rng: np.random.Generator, m: int, n: int) -> np.ndarray:
    r = max(1, min(m, n) // 3)
    return rng.standard_normal((m, r)) @ rng.standard_normal((r, n))


FAMILIES = [gaussian, near_identity, power_law(0.5), power_law(1.5), ill_conditioned, rank_deficient]
SHAPES = [(1, 1), (1, 9), (9, 1), (64, 64), (120, 40), (40, 120), (200, 17), (3, 300)]


def lapack(a: np.ndarray) -> np.ndarray:
    return np.linalg.svd(a, compute_uv=False)


def assert_within(got: np.ndarray, want: np.ndarray, tol: float) -> None:
    """max_i |got_i − want_i| ≤ tol·s_1 (want descending)."""
    assert got.shape == want.shape
    err = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))))
    bound = tol * float(want[0])
    assert err <= bound, f"max error {err:.3e} > {bound:.3e} ({err / max(float(want[0]), 1e-300):.3e}·s1)"


# --- accuracy contract ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("method", ["auto", "svd"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.__name__)
def test_contract_against_lapack(family, shape, method, dtype) -> None:
    rng = np.random.default_rng(hash((family.__name__, shape)) % 2**32)
    a = family(rng, *shape).astype(dtype)
    s = gsalign.singular_values(a, method=method)
    assert s.dtype == dtype and s.shape == (min(shape),)
    assert np.all(np.diff(s) <= 0) and np.all(s >= 0)
    assert_within(s, lapack(a), CONTRACT[np.dtype(dtype)])
    if dtype == np.float64:
        assert_within(s, scipy.linalg.svd(a, compute_uv=False, lapack_driver="gesvd"), 1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(384, 1536), (1536, 384)], ids=["384x1536", "1536x384"])
@pytest.mark.parametrize("family", [gaussian, power_law(1.5), ill_conditioned], ids=lambda f: f.__name__)
def test_contract_wide_and_tall(family, shape, dtype) -> None:
    # Aspect ratio 4: faer's own float32 SVD zeroes every value below ~3e-4·s1 here (SPEC issue).
    rng = np.random.default_rng(384)
    a = family(rng, *shape).astype(dtype)
    want = lapack(a)
    for method in ("auto", "svd"):
        s = gsalign.singular_values(a, method=method)
        assert s.dtype == dtype
        assert_within(s, want, CONTRACT[np.dtype(dtype)])
        if family is not gaussian:
            # The small singular values (below 3e-4·s1) are resolved, not flushed to zero.
            small = (want < 3e-4 * want[0]) & (want > 1e-5 * want[0])
            assert np.any(small)
            np.testing.assert_allclose(s[small], want[small], rtol=0.05)


def row_graded(rng: np.random.Generator, m: int, n: int) -> np.ndarray:
    """Gaussian rows scaled by e^U(−3, 3): a few rows dominate every column's sums."""
    return rng.standard_normal((m, n)) * np.exp(rng.uniform(-3, 3, (m, 1)))


def shifted(rng: np.random.Generator, m: int, n: int) -> np.ndarray:
    return rng.standard_normal((m, n)) + 0.3


@pytest.mark.parametrize(
    "shape", [(1024, 128), (2048, 512), (384, 1536), (20000, 48)], ids=lambda s: f"{s[0]}x{s[1]}"
)
@pytest.mark.parametrize(
    "family", [gaussian, near_identity, power_law(0.5), shifted, row_graded, ill_conditioned], ids=lambda f: f.__name__
)
def test_float32_tall_contract(family, shape) -> None:
    # Tall float32 matrices of at least 1024 rows take the single-precision Gram route when it is
    # accurate enough (docs/DECISIONS.md §1): the contract holds against LAPACK in float64 on the
    # same float32 values, in every layout, and spectrum() agrees to it.
    rng = np.random.default_rng(shape[0] + shape[1])
    a = family(rng, *shape).astype(np.float32)
    want = lapack(a.astype(np.float64))
    s = gsalign.singular_values(a)
    assert s.dtype == np.float32
    assert_within(s, want, 1e-6)
    assert_within(gsalign.singular_values(np.asfortranarray(a)), want, 1e-6)
    assert_within(gsalign.spectrum(a).sv, want, 1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("d", [8, 64, 256])
def test_contract_near_identity_square(d: int, dtype) -> None:
    rng = np.random.default_rng(d)
    a = near_identity(rng, d, d).astype(dtype)
    for method in ("auto", "svd", "gram"):
        assert_within(gsalign.singular_values(a, method=method), lapack(a), CONTRACT[np.dtype(dtype)])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    ("family", "shape"),
    [(near_identity, (100, 100)), (gaussian, (400, 20)), (gaussian, (20, 400)), (power_law(0.5), (50, 50))],
    ids=["near_identity", "tall_gaussian", "wide_gaussian", "power_law_0.5"],
)
def test_gram_on_well_conditioned(family, shape, dtype) -> None:
    rng = np.random.default_rng(11)
    a = family(rng, *shape).astype(dtype)
    assert_within(gsalign.singular_values(a, method="gram"), lapack(a), CONTRACT[np.dtype(dtype)])


def test_auto_falls_back_on_ill_conditioned() -> None:
    # The Gram route loses the small singular values (error ~ ε s1²/s_i); auto must not.
    rng = np.random.default_rng(5)
    a = ill_conditioned(rng, 80, 80)
    want = lapack(a)
    gram = gsalign.singular_values(a, method="gram")
    assert np.max(np.abs(gram - want)) > 1e-12 * want[0]  # the test case does exercise the fallback
    assert_within(gsalign.singular_values(a, method="auto"), want, 1e-12)


def test_exact_cases() -> None:
    assert np.array_equal(gsalign.singular_values(np.zeros((3, 5))), np.zeros(3))
    np.testing.assert_allclose(gsalign.singular_values(np.diag([3.0, -5.0, 1.0])), [5.0, 3.0, 1.0], rtol=1e-15)
    np.testing.assert_allclose(gsalign.singular_values(np.array([[3.0, 4.0]])), [5.0], rtol=1e-15)
    assert gsalign.singular_values(np.array([[-2.5]], dtype=np.float32))[0] == np.float32(2.5)


# --- batches, dtypes and layouts --------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_stack_gives_rows(dtype, rng: np.random.Generator) -> None:
    a = rng.standard_normal((7, 30, 12)).astype(dtype)
    s = gsalign.singular_values(a)
    assert s.shape == (7, 12) and s.dtype == dtype
    for i in range(7):
        np.testing.assert_array_equal(s[i], gsalign.singular_values(a[i]))
        assert_within(s[i], lapack(a[i]), CONTRACT[np.dtype(dtype)])


def test_list_of_shapes_gives_list(rng: np.random.Generator) -> None:
    mats = [
        rng.standard_normal((5, 8)),
        rng.standard_normal((30, 4)).astype(np.float32),
        rng.standard_normal((1, 1)),
        rng.standard_normal((16, 16)).astype(np.float16),
    ]
    out = gsalign.singular_values(mats)
    assert isinstance(out, list) and len(out) == 4
    assert [x.shape for x in out] == [(5,), (4,), (1,), (16,)]
    assert [x.dtype for x in out] == [np.float64, np.float32, np.float64, np.float32]
    for x, a in zip(out, mats):
        np.testing.assert_array_equal(x, gsalign.singular_values(a))
    assert gsalign.singular_values(tuple(mats[:2]))[1].dtype == np.float32


def test_float16_is_computed_in_float32(rng: np.random.Generator) -> None:
    a16 = rng.standard_normal((20, 10)).astype(np.float16)
    s = gsalign.singular_values(a16)
    assert s.dtype == np.float32
    np.testing.assert_array_equal(s, gsalign.singular_values(a16.astype(np.float32)))
    stack = gsalign.singular_values(np.stack([a16, a16]))
    assert stack.dtype == np.float32 and stack.shape == (2, 10)


def test_nested_lists_are_arrays() -> None:
    s = gsalign.singular_values([[3.0, 0.0], [0.0, 4.0]])
    np.testing.assert_allclose(s, [4.0, 3.0], rtol=1e-15)
    assert gsalign.singular_values([[[1.0, 0.0], [0.0, 2.0]]] * 3).shape == (3, 2)


def layouts(a: np.ndarray, tmp_path) -> dict[str, np.ndarray]:
    """The same data in many memory layouts (each paired with its contiguous copy by the caller)."""
    ro = a.copy()
    ro.setflags(write=False)
    mm = np.memmap(tmp_path / "a.bin", dtype=a.dtype, mode="w+", shape=a.shape)
    mm[...] = a
    mm.flush()
    mm_ro = np.memmap(tmp_path / "a.bin", dtype=a.dtype, mode="r", shape=a.shape)
    return {
        "slice": a[1::2, ::3],
        "negative": a[::-1, ::-2],
        "transposed": a.T,
        "fortran": np.asfortranarray(a),
        "readonly": ro,
        "memmap": mm_ro,
        "column": a[:, 5:6],
        "byteswapped": a.astype(a.dtype.newbyteorder(">")),
    }


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_any_layout(dtype, rng: np.random.Generator, tmp_path) -> None:
    a = rng.standard_normal((40, 30)).astype(dtype)
    for name, view in layouts(a, tmp_path).items():
        got = gsalign.singular_values(view)
        want = gsalign.singular_values(np.ascontiguousarray(view).astype(dtype))
        assert got.dtype == dtype, name
        np.testing.assert_array_equal(got, want, err_msg=name)
        assert_within(got, lapack(np.asarray(view, dtype=dtype)), CONTRACT[np.dtype(dtype)])


def test_stack_layouts(rng: np.random.Generator, tmp_path) -> None:
    a = rng.standard_normal((6, 20, 14))
    mm = np.memmap(tmp_path / "s.bin", dtype=a.dtype, mode="w+", shape=a.shape)
    mm[...] = a
    ro = a.copy()
    ro.setflags(write=False)
    views = {
        "every_other": a[::2],
        "negative": a[::-1, ::-1, ::-2],
        "swapped_axes": np.transpose(a, (0, 2, 1)),
        "fortran": np.asfortranarray(a),
        "matrix_axis_last": np.moveaxis(a, 0, 2)[..., :].transpose(2, 0, 1),
        "memmap": mm,
        "readonly": ro,
    }
    for name, view in views.items():
        np.testing.assert_array_equal(
            gsalign.singular_values(view), gsalign.singular_values(np.ascontiguousarray(view)), err_msg=name
        )
    spec = gsalign.spectrum(views["negative"])
    np.testing.assert_array_equal(spec.sv, gsalign.spectrum(np.ascontiguousarray(views["negative"])).sv)


@pytest.mark.parametrize("method", ["auto", "svd", "gram"])
def test_independent_of_thread_count(method: str, rng: np.random.Generator) -> None:
    stack = np.concatenate(
        [near_identity(rng, 48, 48)[None] for _ in range(6)] + [ill_conditioned(rng, 48, 48)[None] for _ in range(6)]
    )
    one = gsalign.singular_values(stack, method=method, n_threads=1)
    two = gsalign.singular_values(stack, method=method, n_threads=2)
    every = gsalign.singular_values(stack, method=method)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(one, every)
    mats = [stack[i, : 10 + i, :] for i in range(12)]
    for x, y in zip(gsalign.singular_values(mats, n_threads=1), gsalign.singular_values(mats, n_threads=2)):
        np.testing.assert_array_equal(x, y)
    b1 = gsalign.spectrum(stack, n_threads=1)
    b2 = gsalign.spectrum(stack, n_threads=2)
    np.testing.assert_array_equal(b1.top_radial, b2.top_radial)
    np.testing.assert_array_equal(b1.cartan, b2.cartan)


# --- spectrum fields (SPEC §2) ----------------------------------------------------------------


def check_fields(sp: gsalign.Spectrum, a: np.ndarray) -> None:
    m, n = a.shape
    k = min(m, n)
    assert sp.k == k and sp.shape == (m, n)
    assert sp.sv.dtype == np.float64 and sp.sv.shape == (k,)
    assert_within(sp.sv, lapack(a.astype(np.float64)), 1e-12)
    # ‖Â‖_F² = k: Σ e^{2â} = k.
    assert math.fsum(np.exp(2 * sp.cartan)) == pytest.approx(k, rel=1e-12)
    np.testing.assert_allclose(sp.energy, np.exp(2 * sp.cartan) / k, rtol=1e-12, atol=1e-300)
    assert math.fsum(sp.energy) == pytest.approx(1.0, rel=1e-13)
    np.testing.assert_allclose(sp.energy, sp.sv**2 / np.sum(sp.sv**2), rtol=1e-12)
    # r = â_1 = ½ log(k p_1) ∈ [0, ½ log k]; srank = k e^{-2r} = ‖A‖_F²/‖A‖².
    assert sp.top_radial == pytest.approx(sp.cartan[0], abs=1e-12)
    assert sp.top_radial == pytest.approx(0.5 * math.log(k * sp.energy[0]), abs=1e-12)
    assert 0.0 <= sp.top_radial <= 0.5 * math.log(k) + 1e-15
    assert sp.stable_rank == pytest.approx(k * math.exp(-2 * sp.top_radial), rel=1e-12)
    fro2, spec2 = np.linalg.norm(a, "fro") ** 2, np.linalg.norm(a.astype(np.float64), 2) ** 2
    assert sp.stable_rank == pytest.approx(fro2 / spec2, rel=1e-10)
    assert gsalign.top_radial(sp.sv) == pytest.approx(sp.top_radial, abs=1e-14)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("shape", [(1, 1), (1, 6), (30, 30), (45, 12)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_spectrum_fields(family, shape) -> None:
    rng = np.random.default_rng(99)
    a = family(rng, *shape)
    sp = gsalign.spectrum(a)
    assert isinstance(sp, gsalign.Spectrum)
    check_fields(sp, a)
    if shape[0] * shape[1] == 1 or 1 in shape:
        assert sp.top_radial == 0.0  # k = 1
    if family is rank_deficient and min(shape) > 3:
        assert sp.numerical_rank == min(shape) // 3
        assert np.isneginf(sp.cartan[-1]) or sp.cartan[-1] < sp.cartan[0] - 25
    if family is not rank_deficient:
        assert sp.numerical_rank == min(shape)
    assert "top_radial" in repr(sp)


def test_rank_one_and_orthogonal(rng: np.random.Generator) -> None:
    for m, n in [(10, 10), (30, 7), (5, 40)]:
        a = np.outer(rng.standard_normal(m), rng.standard_normal(n))
        sp = gsalign.spectrum(a)
        assert sp.top_radial == pytest.approx(0.5 * math.log(min(m, n)), abs=1e-12)
        assert sp.numerical_rank == 1
        assert sp.stable_rank == pytest.approx(1.0, abs=1e-12)
    for d in (2, 17, 64):
        q = random_orthogonal(rng, d)
        sp = gsalign.spectrum(q)
        assert sp.top_radial == pytest.approx(0.0, abs=1e-12)
        np.testing.assert_allclose(sp.cartan, 0.0, atol=1e-12)
        assert sp.stable_rank == pytest.approx(d, rel=1e-12)
    # A partial isometry (orthonormal columns) also has r = 0.
    assert gsalign.spectrum(random_orthogonal(rng, 20)[:, :6]).top_radial == pytest.approx(0.0, abs=1e-12)


def test_spectrum_of_a_batch(rng: np.random.Generator) -> None:
    stack = rng.standard_normal((5, 12, 9))
    batch = gsalign.spectrum(stack)
    assert isinstance(batch, gsalign.SpectrumBatch) and len(batch) == 5
    assert batch.sv.shape == (5, 9) and batch.cartan.shape == (5, 9) and batch.energy.shape == (5, 9)
    assert batch.top_radial.shape == (5,) and list(batch.k) == [9] * 5
    for i in range(5):
        single = gsalign.spectrum(stack[i])
        np.testing.assert_array_equal(batch[i].sv, single.sv)
        assert batch[i].top_radial == single.top_radial
        check_fields(batch[i], stack[i])
    wide = rng.standard_normal((3, 20)).astype(np.float32)
    mixed = gsalign.spectrum([stack[0], wide])
    assert isinstance(mixed.sv, list) and [len(x) for x in mixed.sv] == [9, 3]
    check_fields(mixed[1], wide.astype(np.float64))
    assert "SpectrumBatch" in repr(mixed)


@pytest.mark.parametrize("method", ["auto", "svd"])
@pytest.mark.parametrize("scale", [1e-305, 1e-300, 1e-160, 1e160, 1e200, 1e300], ids=lambda c: f"{c:.0e}")
def test_extreme_scales(scale: float, method: str) -> None:
    # Any finite non-zero matrix is valid input (SPEC §2: Â(cA) = Â(A) for c > 0), and the
    # contract is relative to s1, so it must hold at every scale LAPACK handles, subnormal included.
    rng = np.random.default_rng(3)
    base = rng.standard_normal((6, 4))
    a = base * scale
    want = lapack(a)
    assert want[0] > 0 and np.all(np.isfinite(want))
    assert_within(gsalign.singular_values(a, method=method), want, 1e-12)
    w = want / want[0]
    r = 0.5 * math.log(len(w) / np.sum(w**2))
    assert gsalign.spectrum(a, method=method).top_radial == pytest.approx(r, abs=1e-12)


def test_subnormal_matrix_is_not_zero() -> None:
    # Entries ~1e-319 are subnormal (about 14 significant bits) but the matrix is not zero.
    a = np.random.default_rng(3).standard_normal((6, 4)) * 2.0**-1060
    want = lapack(a)
    assert want[0] > 0
    s = gsalign.singular_values(a)
    assert_within(s, want, 1e-3)
    w = want / want[0]
    assert gsalign.spectrum(a).top_radial == pytest.approx(0.5 * math.log(len(w) / np.sum(w**2)), abs=1e-3)


# --- hypothesis properties --------------------------------------------------------------------

shapes = st.tuples(st.integers(1, 24), st.integers(1, 24))
kinds = st.sampled_from(FAMILIES)


@given(seed=st.integers(0, 2**32 - 1), shape=shapes, kind=kinds, e=st.floats(-30, 30))
def test_scale_invariance(seed: int, shape: tuple[int, int], kind, e: float) -> None:
    a = kind(np.random.default_rng(seed), *shape)
    c = 10.0**e
    sp, spc = gsalign.spectrum(a), gsalign.spectrum(c * a)
    assert spc.top_radial == pytest.approx(sp.top_radial, abs=1e-12)
    np.testing.assert_allclose(spc.energy, sp.energy, rtol=1e-10, atol=1e-14)
    assert_within(spc.sv / c, sp.sv, 1e-12)


@given(seed=st.integers(0, 2**32 - 1), shape=shapes, kind=kinds)
def test_orthogonal_invariance(seed: int, shape: tuple[int, int], kind) -> None:
    rng = np.random.default_rng(seed)
    a = kind(rng, *shape)
    m, n = shape
    b = random_orthogonal(rng, m) @ a @ random_orthogonal(rng, n)
    assert_within(gsalign.singular_values(b), gsalign.singular_values(a), 1e-12)
    assert gsalign.spectrum(b).top_radial == pytest.approx(gsalign.spectrum(a).top_radial, abs=1e-10)


@given(seed=st.integers(0, 2**32 - 1), shape=shapes, kind=kinds)
def test_float32_agrees_with_float64(seed: int, shape: tuple[int, int], kind) -> None:
    a32 = kind(np.random.default_rng(seed), *shape).astype(np.float32)
    s32 = gsalign.singular_values(a32)
    s64 = gsalign.singular_values(a32.astype(np.float64))
    assert s32.dtype == np.float32
    assert_within(s32, s64, 1e-6)
    # With the same route, the float32 result is exactly the float64 computation rounded.
    np.testing.assert_array_equal(
        gsalign.singular_values(a32, method="svd"),
        gsalign.singular_values(a32.astype(np.float64), method="svd").astype(np.float32),
    )
    sp32, sp64 = gsalign.spectrum(a32), gsalign.spectrum(a32.astype(np.float64))
    assert sp32.top_radial == pytest.approx(sp64.top_radial, abs=1e-12)


@given(seed=st.integers(0, 2**32 - 1), shape=shapes)
def test_radial_bounds(seed: int, shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape) * rng.random(shape[1]) ** 4
    sp = gsalign.spectrum(a)
    assert 0.0 <= sp.top_radial <= 0.5 * math.log(sp.k) + 1e-15
    assert 1.0 - 1e-12 <= sp.stable_rank <= sp.k * (1 + 1e-12)


# --- the GIL is released ----------------------------------------------------------------------


def test_gil_is_released_during_a_batch() -> None:
    # While one thread runs a long batch in the core, another Python thread keeps running: it
    # calls gsalign itself and finishes first (it could not if the batch held the GIL).
    rng = np.random.default_rng(0)
    big = rng.standard_normal((300, 128, 128))
    small = rng.standard_normal((8, 8))
    barrier = threading.Barrier(2)
    times: dict[str, float] = {}

    def long_batch() -> None:
        barrier.wait()
        times["long_start"] = time.perf_counter()
        gsalign.singular_values(big, method="svd", n_threads=2)
        times["long_end"] = time.perf_counter()

    def short_calls() -> None:
        barrier.wait()
        time.sleep(0.05)
        ticks = 0
        while "long_end" not in times and ticks < 20:
            gsalign.singular_values(small)
            ticks += 1
        times["short_end"] = time.perf_counter()
        times["ticks"] = ticks

    threads = [threading.Thread(target=long_batch), threading.Thread(target=short_calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert times["ticks"] == 20
    assert times["long_start"] < times["short_end"] < times["long_end"]


def test_two_batches_overlap_in_time() -> None:
    # Like safetensors' test_threadable.py: two threads run batches behind a barrier, and their
    # calls into the core overlap in time. If a call held the GIL, no other thread could even
    # reach its own call meanwhile, so the intervals of different threads would be disjoint.
    rng = np.random.default_rng(1)
    stacks = [rng.standard_normal((160, 96, 96)) for _ in range(2)]
    barrier = threading.Barrier(2)
    spans: list[list[tuple[float, float]]] = [[], []]

    def run(i: int) -> None:
        barrier.wait()
        for j in range(4):
            start = time.perf_counter()
            gsalign.singular_values(stacks[i][j * 40 : (j + 1) * 40], method="svd", n_threads=1)
            spans[i].append((start, time.perf_counter()))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    overlap = sum(max(0.0, min(e0, e1) - max(s0, s1)) for s0, e0 in spans[0] for s1, e1 in spans[1])
    busy = min(sum(e - s for s, e in spans[i]) for i in range(2))
    assert overlap > 0.3 * busy, (overlap, busy)
