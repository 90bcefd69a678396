"""Shared pytest configuration: a fast, deterministic hypothesis profile and common fixtures."""

from __future__ import annotations

import os

# The LAPACK oracles work on small and medium matrices, where a multi-threaded BLAS is slower than
# one thread and competes with gsalign's own rayon workers; set before numpy is first imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "gsalign",
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("GSALIGN_HYPOTHESIS_PROFILE", "gsalign"))


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator (each test gets its own, so tests do not depend on their order)."""
    return np.random.default_rng(20260502)


def power_law_spectrum(d: int, alpha: float) -> np.ndarray:
    """Singular values s_i = i^{-alpha}, i = 1..d (an exact point of the power-law orbit up to scale)."""
    return np.arange(1, d + 1, dtype=np.float64) ** (-alpha)


def random_orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    """A Haar-distributed orthogonal n x n matrix (QR of a Gaussian with the sign fix)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))
