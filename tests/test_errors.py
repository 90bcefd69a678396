"""Every bad input raises a :class:`gsalign.GsalignError` subclass that is also a ``ValueError`` or
``TypeError`` and whose message names the argument (and, in a batch, the matrix). Never a Rust
``PanicException`` (a ``BaseException``), a hang or a silent NaN."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import gsalign
from gsalign import exceptions as ex

EYE = np.eye(3)
SV = np.array([2.0, 1.0, 0.5])


def with_entry(a: np.ndarray, index: tuple[int, ...], value: float) -> np.ndarray:
    out = np.array(a, copy=True)
    out[index] = value
    return out


def expect(exc: type[Exception], f: Callable[..., Any], *args: Any, names: tuple[str, ...], **kwargs: Any) -> str:
    """Calls f, checks the exception type and its builtin base, and that the message names each
    of ``names``; returns the message."""
    with pytest.raises(exc) as info:
        f(*args, **kwargs)
    err = info.value
    assert isinstance(err, gsalign.GsalignError)
    assert isinstance(err, (ValueError, TypeError))
    for name in names:
        assert name in str(err), f"{name!r} not in {str(err)!r}"
    return str(err)


MATRIX_FUNCTIONS = [gsalign.singular_values, gsalign.spectrum]
ids = ["singular_values", "spectrum"]


# --- matrices ---------------------------------------------------------------------------------


@pytest.mark.parametrize("f", MATRIX_FUNCTIONS, ids=ids)
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_non_finite_entry(f, value: float, dtype) -> None:
    a = with_entry(EYE, (1, 2), value).astype(dtype)
    expect(ex.NonFiniteError, f, a, names=("a", "row 1, column 2"))
    # Wide matrices are transposed internally: the reported position is still the user's.
    expect(ex.NonFiniteError, f, with_entry(np.ones((2, 5)), (1, 4), value), names=("row 1, column 4",))


@pytest.mark.parametrize("f", MATRIX_FUNCTIONS, ids=ids)
def test_non_finite_entry_in_a_batch_names_the_matrix(f) -> None:
    stack = np.stack([EYE, EYE, with_entry(EYE, (0, 1), np.nan), EYE])
    expect(ex.NonFiniteError, f, stack, names=("a", "matrix 2", "row 0, column 1"))
    expect(ex.NonFiniteError, f, stack, names=("matrix 2",), n_threads=1)
    mats = [EYE, np.ones((2, 4)), with_entry(np.ones((5, 2)), (4, 0), np.inf)]
    expect(ex.NonFiniteError, f, mats, names=("a", "matrix 2", "row 4, column 0"))
    # The first bad matrix is reported, whatever the scheduling.
    two_bad = [EYE] * 5 + [with_entry(EYE, (0, 0), np.nan)] * 2 + [EYE] * 20
    for _ in range(5):
        expect(ex.NonFiniteError, f, two_bad, names=("matrix 5",), n_threads=2)


@pytest.mark.parametrize("f", MATRIX_FUNCTIONS, ids=ids)
@pytest.mark.parametrize(
    "a",
    [np.zeros((0, 3)), np.zeros((3, 0)), np.zeros((0, 0)), np.zeros((2, 0, 3)), np.zeros((2, 3, 0)), [[]]],
    ids=["0x3", "3x0", "0x0", "stack_2x0x3", "stack_2x3x0", "nested_empty"],
)
def test_empty(f, a) -> None:
    expect(ex.EmptyInputError, f, a, names=("a",))


@pytest.mark.parametrize("f", MATRIX_FUNCTIONS, ids=ids)
def test_empty_matrix_in_a_list(f) -> None:
    expect(ex.EmptyInputError, f, [EYE, np.zeros((4, 0))], names=("a[1]",))


@pytest.mark.parametrize("f", MATRIX_FUNCTIONS, ids=ids)
@pytest.mark.parametrize(
    "a",
    [np.ones(3), np.ones((2, 2, 2, 2)), np.float64(2.0), 2.0, [np.ones(3), np.ones(3)]],
    ids=["1-D", "4-D", "0-D", "python_float", "list_of_1-D"],
)
def test_wrong_number_of_dimensions(f, a) -> None:
    expect(ex.ShapeError, f, a, names=("a",))


@pytest.mark.parametrize("f", MATRIX_FUNCTIONS, ids=ids)
@pytest.mark.parametrize(
    "a",
    [
        np.ones((3, 3), dtype=np.int64),
        np.ones((3, 3), dtype=np.int32),
        np.ones((3, 3), dtype=np.uint8),
        np.ones((3, 3), dtype=bool),
        np.ones((3, 3), dtype=np.complex128),
        np.ones((3, 3), dtype=np.complex64),
        np.full((2, 2), None, dtype=object),
        np.ones((3, 3), dtype=np.longdouble),
        np.array([["a", "b"], ["c", "d"]]),
        [[1, 2], [3, 4]],
        np.ones((2, 3, 3), dtype=np.int16),
        "abc",
        None,
    ],
    ids=["int64", "int32", "uint8", "bool", "complex128", "complex64", "object", "longdouble", "str_array",
         "int_list", "int_stack", "string", "None"],
)
def test_unsupported_dtypes(f, a) -> None:
    with pytest.raises(TypeError):
        f(a)
    expect(ex.DTypeError, f, a, names=("a",))


@pytest.mark.parametrize("f", MATRIX_FUNCTIONS, ids=ids)
def test_unsupported_dtype_in_a_list_names_the_item(f) -> None:
    expect(ex.DTypeError, f, [EYE, np.ones((2, 2), dtype=np.int64)], names=("a[1]", "int64"))


@pytest.mark.parametrize("f", MATRIX_FUNCTIONS, ids=ids)
def test_ragged_nested_list(f) -> None:
    expect(ex.ShapeError, f, [[1.0, 2.0], [3.0]], names=("a",))


def test_zero_matrix_where_a_normalisation_is_needed() -> None:
    expect(ex.ZeroMatrixError, gsalign.spectrum, np.zeros((3, 4)), names=("a",))
    expect(ex.ZeroMatrixError, gsalign.spectrum, np.zeros((3, 4), dtype=np.float32), names=("a",))
    expect(ex.ZeroMatrixError, gsalign.spectrum, np.stack([EYE, np.zeros((3, 3)), EYE]), names=("a", "matrix 1"))
    expect(ex.ZeroMatrixError, gsalign.spectrum, [EYE, EYE, np.zeros((1, 5))], names=("matrix 2",))
    # Singular values of the zero matrix are well defined; r is NaN (SPEC §9), not an error.
    assert np.array_equal(gsalign.singular_values(np.zeros((3, 4))), np.zeros(3))
    assert np.isnan(gsalign.top_radial(np.zeros(3)))


@pytest.mark.parametrize("f", MATRIX_FUNCTIONS, ids=ids)
@pytest.mark.parametrize("method", ["fast", "SVD", "", None, 1])
def test_bad_method(f, method) -> None:
    expect(ex.InvalidArgumentError, f, EYE, names=("method",), method=method)


@pytest.mark.parametrize("f", MATRIX_FUNCTIONS, ids=ids)
@pytest.mark.parametrize("n_threads", [0, -1, 1.5, True, "2"])
def test_bad_n_threads(f, n_threads) -> None:
    expect(ex.InvalidArgumentError, f, np.stack([EYE, EYE]), names=("n_threads",), n_threads=n_threads)
    expect(ex.InvalidArgumentError, f, EYE, names=("n_threads",), n_threads=n_threads)


# --- spectra ----------------------------------------------------------------------------------

SPECTRUM_FUNCTIONS = [
    ("effective_rank", lambda sv: gsalign.effective_rank(sv, 0.5)),
    ("effective_ranks", lambda sv: gsalign.effective_ranks(sv, [0.5])),
    ("rank_window", lambda sv: gsalign.rank_window(sv, 0.5, 0.9)),
    ("stable_rank", gsalign.stable_rank),
    ("erank_bracket", lambda sv: gsalign.erank_bracket(sv, 0.5, 0.1)),
    ("top_radial", gsalign.top_radial),
]


@pytest.mark.parametrize(("name", "f"), SPECTRUM_FUNCTIONS, ids=[n for n, _ in SPECTRUM_FUNCTIONS])
def test_bad_spectra(name: str, f) -> None:
    expect(ex.NonFiniteError, f, np.array([1.0, np.nan]), names=("sv",))
    expect(ex.NonFiniteError, f, np.array([np.inf, 1.0]), names=("sv",))
    expect(ex.InvalidArgumentError, f, np.array([1.0, -0.5]), names=("sv", "negative"))
    expect(ex.InvalidArgumentError, f, np.array([0.5, 1.0]), names=("sv", "descending"))
    expect(ex.EmptyInputError, f, np.array([]), names=("sv",))
    expect(ex.ShapeError, f, np.ones((2, 2, 2)), names=("sv",))
    expect(ex.ShapeError, f, np.float64(1.0), names=("sv",))
    expect(ex.DTypeError, f, np.array([2, 1]), names=("sv",))
    expect(ex.DTypeError, f, np.array([2 + 0j, 1]), names=("sv",))
    if name != "top_radial":  # r of the zero matrix is NaN (SPEC §9); the ranks need p
        expect(ex.ZeroMatrixError, f, np.zeros(3), names=("sv",))


@pytest.mark.parametrize("tau", [0.0, -0.5, 1.0 + 1e-12, 2.0, np.nan, np.inf, -np.inf])
def test_tau_outside_unit_interval(tau: float) -> None:
    expect(ex.InvalidArgumentError, gsalign.effective_rank, SV, tau, names=("tau", "(0, 1]"))
    expect(ex.InvalidArgumentError, gsalign.effective_rank, np.stack([SV, SV]), tau, names=("tau",))
    expect(ex.InvalidArgumentError, gsalign.rank_window, SV, tau, 1.0, names=("tau_lo",))
    expect(ex.InvalidArgumentError, gsalign.rank_window, SV, 0.5, tau, names=("tau_hi",))
    expect(ex.InvalidArgumentError, gsalign.erank_bracket, SV, tau, 0.1, names=("tau",))
    expect(ex.InvalidArgumentError, gsalign.effective_ranks, SV, [0.5, 0.9, tau], names=("taus[2]",))


def test_tau_too_large_for_a_float() -> None:
    expect(ex.InvalidArgumentError, gsalign.effective_rank, SV, 10**400, names=("tau",))
    expect(ex.DTypeError, gsalign.effective_ranks, SV, [0.5, 10**400], names=("taus",))


@pytest.mark.parametrize("tau", ["0.5", None, True, [0.5], 1j])
def test_tau_of_the_wrong_type(tau) -> None:
    expect(ex.DTypeError, gsalign.effective_rank, SV, tau, names=("tau",))
    expect(ex.DTypeError, gsalign.rank_window, SV, tau, 1.0, names=("tau_lo",))
    expect(ex.DTypeError, gsalign.rank_window, SV, 0.5, tau, names=("tau_hi",))


def test_window_bounds() -> None:
    # A window must lie inside 1..k: its quantiles must be ordered and inside (0, 1].
    expect(ex.InvalidArgumentError, gsalign.rank_window, SV, 0.9, 0.5, names=("tau_lo", "tau_hi"))
    lo, hi = gsalign.rank_window(SV, 1e-300, 1.0)
    assert 1 <= lo <= hi <= len(SV)
    expect(ex.InvalidArgumentError, gsalign.erank_bracket, SV, 0.5, -0.1, names=("radius",))
    expect(ex.InvalidArgumentError, gsalign.erank_bracket, SV, 0.5, np.nan, names=("radius",))
    expect(ex.DTypeError, gsalign.effective_ranks, SV, "0.5", names=("taus",))
    expect(ex.DTypeError, gsalign.effective_ranks, SV, 0.5, names=("taus",))
    expect(ex.DTypeError, gsalign.effective_ranks, SV, [[0.5]], names=("taus",))
    expect(ex.DTypeError, gsalign.effective_ranks, SV, [0.5, [0.6, 0.7]], names=("taus",))


def test_batch_of_spectra_names_the_row() -> None:
    rows = np.stack([SV, SV, SV])
    expect(ex.NonFiniteError, gsalign.effective_rank, with_entry(rows, (2, 1), np.nan), names=("sv", "row 2, column 1"))
    expect(ex.InvalidArgumentError, gsalign.stable_rank, with_entry(rows, (1, 2), 5.0), names=("sv[1]",))
    expect(ex.ZeroMatrixError, gsalign.stable_rank, with_entry(rows, (0,), 0.0), names=("sv", "matrix 0"))
    expect(ex.EmptyInputError, gsalign.effective_rank, np.zeros((3, 0)), names=("sv",))


@pytest.mark.parametrize("f", [gsalign.hellinger, gsalign.bures_distance, gsalign.total_variation])
def test_distance_errors_name_the_spectrum(f) -> None:
    for bad, exc in [
        (np.array([1.0, np.nan]), ex.NonFiniteError),
        (np.zeros(2), ex.ZeroMatrixError),
        (np.array([]), ex.EmptyInputError),
        (np.ones((2, 2)), ex.ShapeError),
        (np.array([1, 0]), ex.DTypeError),
        (np.array([1.0, 2.0]), ex.InvalidArgumentError),
    ]:
        expect(exc, f, bad, SV, names=("sv_a",))
        expect(exc, f, SV, bad, names=("sv_b",))


# --- charts and the orbit ----------------------------------------------------------------------

POWER_LAW = np.arange(1, 11, dtype=np.float64) ** -1.0


@pytest.mark.parametrize(
    "window",
    [(0, 5), (1, 11), (5, 3), (4, 4), (-1, 3), (0.5, 1.5), (0.0, 0.5), (0.9, 0.5), "1:5", (1, 2, 3)],
)
def test_window_outside_one_to_k(window) -> None:
    expect(ex.InvalidArgumentError, gsalign.fit_power_law, POWER_LAW, names=("window",), window=window)


def test_bad_chart() -> None:
    expect(ex.InvalidArgumentError, gsalign.fit_power_law, POWER_LAW, names=("chart",), chart="lsq")
    expect(ex.NonFiniteError, gsalign.fit_power_law, np.array([1.0, np.nan]), names=("sv",))


@pytest.mark.parametrize("alpha", [-1.0, -1e-12, np.nan, -np.inf])
def test_negative_alpha(alpha: float) -> None:
    for f in (gsalign.orbit.probabilities, gsalign.orbit.top_radial, gsalign.orbit.bures_line_element):
        expect(ex.InvalidArgumentError, f, 8, alpha, names=("alpha",))


# --- fuzzing: nothing but GsalignError ever escapes ---------------------------------------------

# Magnitudes stay within 1e±100 here: extreme but finite scales are valid input, and their
# accuracy is tested in test_spectrum.py::test_extreme_scales.
values = st.one_of(
    st.floats(-1e100, 1e100),
    st.just(0.0),
    st.sampled_from([np.nan, np.inf, -np.inf, 1e-100, -1e-100]),
)


def call_safely(f: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return f(*args, **kwargs)
    except gsalign.GsalignError as e:
        assert isinstance(e, (ValueError, TypeError))
        return None


@given(
    data=st.lists(values, min_size=0, max_size=30),
    shape=st.tuples(st.integers(0, 5), st.integers(0, 6)),
    dtype=st.sampled_from([np.float64, np.float32, np.float16]),
)
def test_fuzz_matrices(data: list[float], shape: tuple[int, int], dtype) -> None:
    n = shape[0] * shape[1]
    flat = np.resize(np.array(data + [1.0], dtype=np.float64), n)
    with np.errstate(over="ignore", invalid="ignore"):
        a = flat.reshape(shape).astype(dtype)
    s = call_safely(gsalign.singular_values, a)
    if s is not None:
        assert np.all(np.isfinite(s)) and np.all(s >= 0)
    sp = call_safely(gsalign.spectrum, a)
    if sp is not None:
        assert np.isfinite(sp.top_radial) and np.all(np.isfinite(sp.energy))
    call_safely(gsalign.singular_values, np.stack([a, a]) if a.size else a, n_threads=2)


@given(
    sv=st.lists(values, min_size=0, max_size=12),
    tau=st.floats(allow_nan=True, allow_infinity=True),
    sort=st.booleans(),
)
def test_fuzz_spectra(sv: list[float], tau: float, sort: bool) -> None:
    arr = np.array(sv, dtype=np.float64)
    if sort:
        arr = np.sort(arr)[::-1]
    for f, args in [
        (gsalign.effective_rank, (arr, tau)),
        (gsalign.rank_window, (arr, tau, 1.0)),
        (gsalign.erank_bracket, (arr, 0.5, abs(tau))),
        (gsalign.stable_rank, (arr,)),
        (gsalign.top_radial, (arr,)),
        (gsalign.hellinger, (arr, SV)),
        (gsalign.bures_distance, (SV, arr)),
        (gsalign.total_variation, (arr, arr)),
    ]:
        out = call_safely(f, *args)
        if isinstance(out, float) and f is not gsalign.top_radial:
            assert np.isfinite(out)
