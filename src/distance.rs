//! Distances between spectra (SPEC §1, §4.3).
