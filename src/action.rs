//! Fisher–KL and Bures action estimates along a chain of orbit points (SPEC §4.5).
//!
//! For orbit points β_0, …, β_L of width d (β = 2α, p_β(i) = i^{−β}/H_d(β)), with
//! Δβ_l = β_l − β_{l−1} and I_min,l, I_max,l the extreme Fisher information Var_β(log i) over the
//! segment [β_{l−1}, β_l]:
//!
//! * KL action 𝒜_KL = Σ_l KL(p_{β_l} ‖ p_{β_{l−1}}) ∈ [½ Σ I_min,l Δβ_l², ½ Σ I_max,l Δβ_l²];
//! * Cauchy–Schwarz: 𝒜_KL ≥ ½ (Σ_l √I_min,l |Δβ_l|)²/L, which tends to ½·FR²/L for fine steps;
//! * Fisher–Rao length FR = Σ_l ∫ √I(β) dβ; Bures–Wasserstein length (√d/2)·FR;
//! * Bures action 𝒜_BW = Σ_l d_BW² = Σ_l 2d(1 − BC_l) ≤ d·𝒜_KL, and d_BW(ends) ≤ BW length.
//!
//! Under the uniform budget of §6.3 (|Δβ_l| = O(log M/L)), 𝒜_KL = O((log M)²/L) → 0 while FR
//! stays O(1). For raw spectra across an interface of amplitude ρ (not only orbit points),
//! KL(p′ ‖ p) ≤ min(4 log ρ, (ρ⁴ − 1)²) and ‖√p′ − √p‖ ≤ ρ² − 1 ([`raw_interface_bounds`]).
//!
//! Example (the converse chain of §6.3, d = 16, L = 32, M = 10, β_l = 2lt): 𝒜_KL = 9.2984e−2,
//! ½FR²/L = 8.6649e−2, FR = 2.354902, BW length = 4.709803, d_BW(ends) = 4.221755.

use crate::error::{Error, Result};
use crate::orbit;

/// Grid points (ends included) on which I_min, I_max are taken over each segment.
const GRID: usize = 2001;

/// The §4.5 action estimates of one orbit chain.
#[derive(Debug, Clone, PartialEq)]
pub struct OrbitAction {
    /// 𝒜_KL = Σ KL(p_{β_l} ‖ p_{β_{l−1}}).
    pub kl_action: f64,
    /// ½ Σ I_min,l Δβ_l².
    pub kl_lower: f64,
    /// ½ Σ I_max,l Δβ_l².
    pub kl_upper: f64,
    /// ½ (Σ √I_min,l |Δβ_l|)²/L.
    pub kl_cauchy_schwarz: f64,
    /// Fisher–Rao length FR.
    pub fisher_rao: f64,
    /// ½ FR²/L (the fine-step limit of the Cauchy–Schwarz bound).
    pub fisher_rao_action: f64,
    /// 𝒜_BW = Σ d_BW(Λ_l, Λ_{l−1})² at trace d.
    pub bures_action: f64,
    /// d·𝒜_KL (upper bound of 𝒜_BW).
    pub bures_upper: f64,
    /// Bures–Wasserstein length (√d/2)·FR.
    pub bures_length: f64,
    /// d_BW between the end points.
    pub bures_ends: f64,
}

/// (I_min, I_max) of the width-d orbit over [b0, b1] on a grid of [`GRID`] points.
pub fn fisher_range(d: usize, b0: f64, b1: f64) -> Result<(f64, f64)> {
    let (lo, hi) = if b0 <= b1 { (b0, b1) } else { (b1, b0) };
    let n = if hi > lo { GRID } else { 1 };
    let (mut mn, mut mx) = (f64::INFINITY, f64::NEG_INFINITY);
    for j in 0..n {
        let b = if n == 1 {
            lo
        } else {
            lo + (hi - lo) * j as f64 / (n - 1) as f64
        };
        let i = orbit::fisher_information(d, b)?;
        mn = mn.min(i);
        mx = mx.max(i);
    }
    Ok((mn, mx))
}

/// d_BW² = 2d(1 − BC) between two trace-d orbit points.
fn bures_sq(d: usize, b0: f64, b1: f64) -> Result<f64> {
    Ok(2.0 * d as f64 * (1.0 - orbit::bhattacharyya(d, b0, b1)?))
}

/// The action estimates of §4.5 for the orbit chain `betas` = (β_0, …, β_L) of width d.
///
/// Errors: fewer than two points or a non-finite/negative β (`betas`), d = 0 (`d`).
pub fn orbit_action(d: usize, betas: &[f64]) -> Result<OrbitAction> {
    if betas.len() < 2 {
        return Err(Error::invalid(
            "betas",
            format!("needs at least two orbit points, got {}", betas.len()),
        ));
    }
    if let Some((i, b)) = betas
        .iter()
        .enumerate()
        .find(|(_, b)| !(b.is_finite() && **b >= 0.0))
    {
        return Err(Error::invalid(
            "betas",
            format!("entry {i} must be finite and >= 0, got {b}"),
        ));
    }
    let l = (betas.len() - 1) as f64;
    let mut a = OrbitAction {
        kl_action: 0.0,
        kl_lower: 0.0,
        kl_upper: 0.0,
        kl_cauchy_schwarz: 0.0,
        fisher_rao: 0.0,
        fisher_rao_action: 0.0,
        bures_action: 0.0,
        bures_upper: 0.0,
        bures_length: 0.0,
        bures_ends: 0.0,
    };
    let mut cs = 0.0;
    for w in betas.windows(2) {
        let (b0, b1) = (w[0], w[1]);
        let db = b1 - b0;
        let (imin, imax) = fisher_range(d, b0, b1)?;
        a.kl_action += orbit::kl(d, b1, b0)?;
        a.kl_lower += 0.5 * imin * db * db;
        a.kl_upper += 0.5 * imax * db * db;
        cs += imin.sqrt() * db.abs();
        a.fisher_rao += orbit::fisher_rao_length(d, b0, b1)?;
        a.bures_action += bures_sq(d, b0, b1)?;
    }
    a.kl_cauchy_schwarz = 0.5 * cs * cs / l;
    a.fisher_rao_action = 0.5 * a.fisher_rao * a.fisher_rao / l;
    a.bures_upper = d as f64 * a.kl_action;
    a.bures_length = 0.5 * (d as f64).sqrt() * a.fisher_rao;
    a.bures_ends = bures_sq(d, betas[0], betas[betas.len() - 1])?
        .max(0.0)
        .sqrt();
    Ok(a)
}

/// Bounds for raw spectra across an interface of amplitude ρ (log ρ = `log_rho` ≥ 0):
/// (KL bound min(4 log ρ, (ρ⁴ − 1)²), Hellinger bound ρ² − 1). +∞ for log ρ = ∞.
pub fn raw_interface_bounds(log_rho: f64) -> Result<(f64, f64)> {
    if log_rho.is_nan() || log_rho < 0.0 {
        return Err(Error::invalid(
            "log_rho",
            format!("must be >= 0, got {log_rho}"),
        ));
    }
    let chi = (4.0 * log_rho).exp_m1();
    Ok(((4.0 * log_rho).min(chi * chi), (2.0 * log_rho).exp_m1()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converse_chain_example() {
        let (d, l, m) = (16usize, 32usize, 10f64);
        let t = 2.0 * m.ln() / (l as f64 * (d as f64).ln());
        let betas: Vec<f64> = (0..=l).map(|j| 2.0 * j as f64 * t).collect();
        let a = orbit_action(d, &betas).unwrap();
        assert!((a.kl_action - 9.2984e-2).abs() < 5e-6, "{}", a.kl_action);
        assert!((a.fisher_rao_action - 8.6649e-2).abs() < 5e-6);
        assert!((a.fisher_rao - 2.354902).abs() < 1e-6);
        assert!((a.bures_length - 4.709803).abs() < 1e-6);
        assert!((a.bures_ends - 4.221755).abs() < 1e-6);
        assert!(a.kl_lower <= a.kl_action && a.kl_action <= a.kl_upper);
        assert!(a.kl_cauchy_schwarz <= a.kl_action);
        assert!(a.bures_action <= a.bures_upper);
    }
}
