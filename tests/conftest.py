"""Shared pytest configuration: a fast, deterministic hypothesis profile and common fixtures."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

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
