"""gsalign: geometric and spectral alignment of deep operator chains.

A Rust core (faer + rayon) behind a thin numpy API for the spectral geometry of Frobenius-normalised
layer factors and their products (SPEC: Liu et al., arXiv:2605.02108): singular spectra, the
top-radial Cartan coordinate, power-law charts, the Gibbs/Fisher/Bures geometry of the power-law
orbit (:mod:`gsalign.orbit`) and effective rank as an energy quantile.
"""

from __future__ import annotations

from . import exceptions
from ._core import __version__
from .exceptions import GsalignError
from .spectrum import Spectrum, SpectrumBatch, singular_values, spectrum, top_radial
from .distance import bures_distance, hellinger, total_variation
from .rank import effective_rank, effective_ranks, erank_bracket, rank_window, stable_rank
from . import orbit
from .chart import PowerLawFit, PowerLawFitBatch, fit_power_law
from .scan import ScanReport, scan
from . import chains, theory
from .chain import Certificate, Chain

__all__ = [
    "__version__",
    "exceptions",
    "GsalignError",
    "Spectrum",
    "SpectrumBatch",
    "singular_values",
    "spectrum",
    "top_radial",
    "effective_rank",
    "effective_ranks",
    "erank_bracket",
    "rank_window",
    "stable_rank",
    "hellinger",
    "bures_distance",
    "total_variation",
    "orbit",
    "PowerLawFit",
    "PowerLawFitBatch",
    "fit_power_law",
    "ScanReport",
    "scan",
    "Chain",
    "Certificate",
    "chains",
    "theory",
]


def _register_fork_hook() -> None:
    import os

    from . import _core

    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_core._after_fork_in_child)


_register_fork_hook()
