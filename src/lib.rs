//! # gsalign: geometric and spectral alignment of deep operator chains
//!
//! A deep residual network is a product of near-identity layer Jacobians P_L = J_L ⋯ J_1.
//! gsalign computes the spectral geometry of such chains (SPEC: ../shared/docs/SPEC.md, after
//! Liu et al., *Geometric and Spectral Alignment for Deep Neural Network I*, arXiv:2605.02108):
//!
//! | concept (SPEC section) | module |
//! |---|---|
//! | singular spectra, Frobenius normalisation, Cartan coordinate â, top-radial r (§2, §9) | [`spectrum`] |
//! | the power-law Cartan orbit p_i(α) = i^{−2α}/H_d(2α), its charts' targets R, R′, Fisher, Bures, KL (§3.1, §3.2, §4) | [`orbit`] |
//! | power-law charts α_LS, α_top, α_H and their residuals ε, δ_H (§3.3–§3.5) | [`chart`] |
//! | effective rank as an energy quantile, rank windows, stable rank (§8) | [`rank`] |
//! | Hellinger and Bures–Wasserstein distances between spectra (§1, §4.3) | [`distance`] |
//! | Householder reduction to bidiagonal and tridiagonal form (unblocked, SIMD, up to a size) | [`reduction`] |
//! | eigenvalues of symmetric tridiagonal and singular values of bidiagonal matrices (root-free QL/QR, Golub–Kahan form) | [`tridiagonal`] |
//! | compensated (Neumaier) summation for energies, harmonic numbers and log scales (§8, §9) | [`sum`] |
//! | operator chains: Mode S running product, slack σ, Ky Fan slack, interface amplitude ρ, Mode F graded QR (§5, §9) | [`chain`] |
//! | per-step exponent profiles of factors and prefixes (inputs of §6) | [`profile`] |
//! | rigidity theorems R1, R2, uniform budget, approximate and full-Cartan versions as checks (§6) | [`certify`] |
//! | Fisher–KL and Bures action estimates along orbit chains (§4.5) | [`action`] |
//! | near-identity expansions of I + hE and transport budgets (§7) | [`nearidentity`] |
//! | safetensors checkpoints: validated, memory-mapped, streamed one tensor at a time | [`checkpoint`] |
//! | static-weight profiles: layer matrices of a model, depth order, per-layer report (§11) | [`scan`] |
//! | WeightWatcher-compatible ESD metrics: power-law MLE α, KS xmin, norms, entropy | [`esd`] |
//!
//! Conventions: natural logarithms; singular values descending; k = min(m, n); α is the rank
//! exponent of singular values (s_i ∝ i^{−α}) and β = 2α the exponent of eigenvalues.
//!
//! Parallelism is one level of rayon across matrices ([`parallel`]); every decomposition runs
//! sequentially inside its task, so results do not depend on the thread count.
//!
//! The Python binding (`gsalign._core`) lives behind the `python` cargo feature; embedders use
//! the crate with default features and never depend on pyo3.
#![deny(missing_docs)]

pub mod action;
pub mod certify;
pub mod chain;
pub mod chart;
pub mod checkpoint;
pub mod distance;
pub mod error;
pub mod esd;
pub mod nearidentity;
pub mod orbit;
pub mod parallel;
pub mod profile;
pub mod rank;
pub mod reduction;
pub mod scan;
pub mod spectrum;
pub mod sum;
pub mod tridiagonal;

#[cfg(feature = "python")]
mod python;

pub use error::{Error, Result};
pub use parallel::Cancel;
pub use spectrum::{singular_values, singular_values_batch, Method, Spectrum};

/// The README's Rust example, compiled and run by `cargo test`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
