"""The gsalign exception hierarchy.

Every error gsalign raises on purpose is a :class:`GsalignError`. Each subclass also derives from
the builtin exception a user would naturally catch (``ValueError`` for bad input, ``TypeError``
for a wrong type or dtype, ``ArithmeticError`` for a decomposition that fails), so
``except ValueError`` keeps working in code that does not know gsalign.
"""

from __future__ import annotations

__all__ = [
    "GsalignError",
    "InvalidArgumentError",
    "NonFiniteError",
    "EmptyInputError",
    "ZeroMatrixError",
    "ShapeError",
    "DTypeError",
    "ConvergenceError",
    "CheckpointError",
    "ClusterError",
]


class GsalignError(Exception):
    """Base class of every error gsalign raises on purpose."""


class InvalidArgumentError(GsalignError, ValueError):
    """An argument is outside its domain (tau outside (0, 1], window outside 1..k, alpha < 0, ...)."""


class NonFiniteError(InvalidArgumentError):
    """An input has a NaN or infinite entry."""


class EmptyInputError(InvalidArgumentError):
    """An input has no entries (zero-size array, empty sequence)."""


class ZeroMatrixError(InvalidArgumentError):
    """A normalisation was asked of the zero matrix (or an all-zero spectrum)."""


class ShapeError(InvalidArgumentError):
    """An input has the wrong number of dimensions, or shapes that must agree do not."""


class DTypeError(GsalignError, TypeError):
    """An input has an unsupported type or dtype (integer, complex, object, ...)."""


class ConvergenceError(GsalignError, ArithmeticError):
    """An iterative decomposition did not converge."""


class CheckpointError(InvalidArgumentError):
    """A checkpoint file is unreadable, truncated, malformed or inconsistent."""


class ClusterError(GsalignError, ConnectionError):
    """The Dask scheduler cannot be reached, or the cluster could not run the work
    (:mod:`gsalign.distributed`)."""
