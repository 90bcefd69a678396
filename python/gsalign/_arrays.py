"""Input normalisation shared by every public call: one place that turns what a user passes into
what the Rust core accepts, or raises a clear :mod:`gsalign.exceptions` error naming the argument.

Rules
-----
* float32 and float64 are passed through without a cast; float16 is widened to float32 (the
  core has no half-precision arithmetic); any other dtype (bool, integer, complex, object) raises
  :class:`~gsalign.exceptions.DTypeError`.
* Any memory layout is accepted (strided, negative strides, read-only, ``np.memmap``): the core
  reads the array through its strides. Only a misaligned or byte-swapped array is copied.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, Union

import numpy as np

from .exceptions import DTypeError, EmptyInputError, InvalidArgumentError, ShapeError

Matrices = Union[tuple[Literal["stack"], np.ndarray], tuple[Literal["list"], list[np.ndarray]]]


def _float_array(a: Any, arg: str) -> np.ndarray:
    """``a`` as an aligned, native-order float32/float64 ndarray (float16 widened to float32)."""
    if isinstance(a, np.ndarray):
        arr = a
    else:
        try:
            arr = np.asarray(a)
        except (ValueError, TypeError) as exc:
            raise ShapeError(f"{arg}: cannot be read as an array ({exc})") from None
    kind = arr.dtype.kind
    if arr.dtype == np.float16:
        arr = arr.astype(np.float32)
    elif kind != "f" or arr.dtype.itemsize not in (4, 8):
        raise DTypeError(
            f"{arg}: dtype {arr.dtype} is not supported; pass float32 or float64 "
            "(float16 is widened to float32; integer, bool and complex arrays are rejected)"
        )
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if not arr.flags.aligned or any(s % arr.itemsize for s in arr.strides):
        arr = np.array(arr, copy=True)
    return arr


def as_matrix(a: Any, arg: str = "a") -> np.ndarray:
    """A single 2-D float matrix, non-empty."""
    arr = _float_array(a, arg)
    if arr.ndim != 2:
        raise ShapeError(f"{arg}: expected a 2-D matrix, got an array with {arr.ndim} dimension(s) of shape {arr.shape}")
    if arr.size == 0:
        raise EmptyInputError(f"{arg}: the matrix is empty (shape {arr.shape})")
    return arr


def as_matrices(a: Any, arg: str = "a") -> Matrices:
    """A batch: a 3-D stack (L, m, n) as ``("stack", array)``, or a sequence of 2-D arrays of any
    shapes as ``("list", arrays)``. A 2-D array is not a batch (use :func:`as_matrix`)."""
    if isinstance(a, np.ndarray) or not isinstance(a, Iterable) or _is_nested_numbers(a):
        arr = _float_array(a, arg)
        if arr.ndim != 3:
            raise ShapeError(
                f"{arg}: expected a 3-D stack (L, m, n) or a sequence of 2-D arrays, "
                f"got an array with {arr.ndim} dimension(s) of shape {arr.shape}"
            )
        if arr.shape[1] == 0 or arr.shape[2] == 0:
            raise EmptyInputError(f"{arg}: the matrices are empty (stack shape {arr.shape})")
        return ("stack", arr)
    mats = [as_matrix(x, f"{arg}[{i}]") for i, x in enumerate(a)]
    return ("list", mats)


def _is_nested_numbers(a: Any) -> bool:
    """Whether a non-array iterable is a nested list of numbers (one array) rather than a
    sequence of matrices."""
    if isinstance(a, (str, bytes)):
        raise DTypeError("a: a string is not an array")
    if not isinstance(a, (list, tuple)) or len(a) == 0:
        return False
    return not any(hasattr(x, "ndim") for x in a)


def as_spectrum(sv: Any, arg: str = "sv") -> np.ndarray:
    """A 1-D float64 vector of singular values (any non-negative order is checked by the core)."""
    arr = _float_array(sv, arg)
    if arr.ndim != 1:
        raise ShapeError(f"{arg}: expected a 1-D vector of singular values, got shape {arr.shape}")
    if arr.size == 0:
        raise EmptyInputError(f"{arg}: the spectrum is empty")
    return np.ascontiguousarray(arr, dtype=np.float64)


def check_threads(n_threads: Any) -> int | None:
    """``n_threads``: None (all cores) or a positive int."""
    if n_threads is None:
        return None
    if isinstance(n_threads, bool) or not isinstance(n_threads, (int, np.integer)) or n_threads < 1:
        raise InvalidArgumentError(f"n_threads: must be a positive integer or None, got {n_threads!r}")
    return int(n_threads)


def check_choice(value: Any, arg: str, choices: tuple[str, ...]) -> str:
    """A string option among ``choices``."""
    if value not in choices:
        raise InvalidArgumentError(f"{arg}: must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value
