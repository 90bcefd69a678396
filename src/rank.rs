//! Effective rank as a spectral-energy quantile, rank windows, stable rank (SPEC §8).
