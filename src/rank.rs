//! Effective rank as a spectral-energy quantile, rank windows and stable rank (SPEC §8).
//!
//! For a descending spectrum s_1 ≥ … ≥ s_K ≥ 0 (K = min(m, n), zero singular values included)
//! with energy distribution p_i = s_i²/Σ_j s_j²:
//!
//! * **effective rank** erank_τ = min{k : Σ_{i≤k} p_i ≥ τ}, τ ∈ (0, 1];
//! * **rank window** W_{τ_lo,τ_hi} = [erank_{τ_lo}, erank_{τ_hi}] (1-based, inclusive);
//! * **stable rank** ‖A‖_F²/‖A‖₂² = Σ_i (s_i/s_1)² = K·e^{−2r};
//! * **robustness**: TV(p, q) ≤ ‖√p − √q‖₂, and erank_{τ−TV}(p) ≤ erank_τ(q) ≤ erank_{τ+TV}(p), so
//!   an orbit fitted with Hellinger residual δ brackets the true effective rank ([`erank_bracket`]).
//!
//! Pinned computation (so that implementations agree to the integer): p_i = (s_i/s_1)²/S with S
//! the Neumaier sum of (s_j/s_1)², C_k the Neumaier-compensated prefix sums of p, and
//! erank_τ = min{k ∈ 1..K : C_k ≥ τ − 64·K·ε}. A naive cumulative sum is not enough: with all
//! s_i equal, K = 20000 and τ = ½ it returns 10001 instead of 10000.

use crate::error::{Error, Result};
use crate::spectrum::{check_spectrum, relative_energy};
use crate::sum::NeumaierSum;

/// Tolerance 64·K·ε of the pinned quantile rule for a spectrum of width K.
fn tolerance(k: usize) -> f64 {
    64.0 * k as f64 * f64::EPSILON
}

/// Checks that `tau` is a finite number in (0, 1] (errors name `arg`).
pub(crate) fn check_tau(tau: f64, arg: &str) -> Result<()> {
    if tau > 0.0 && tau <= 1.0 {
        Ok(())
    } else {
        Err(Error::invalid(
            arg,
            format!("must lie in (0, 1], got {tau}"),
        ))
    }
}

/// Quantiles of a validated spectrum at every τ of `taus`, in one pass over the spectrum.
///
/// Extended rules: τ ≤ 0 gives 1; τ ≥ 1, NaN, or no k meeting the threshold gives the support
/// size max{i : p_i > 0}.
fn quantiles(sv: &[f64], taus: &[f64]) -> Vec<usize> {
    let k = sv.len();
    let s1 = sv[0];
    let total = relative_energy(sv);
    let p = |i: usize| (sv[i] / s1) * (sv[i] / s1) / total;
    let support = (0..k).rev().find(|&i| p(i) > 0.0).map_or(1, |i| i + 1);
    let tol = tolerance(k);
    let mut order: Vec<usize> = (0..taus.len()).collect();
    order.sort_by(|&a, &b| taus[a].total_cmp(&taus[b]));
    let mut out = vec![support; taus.len()];
    // Running Neumaier prefix sum C_n = sum + comp over the first n probabilities. The targets
    // are visited in increasing order, so the first qualifying n only moves forward.
    let (mut prefix, mut n) = (NeumaierSum::new(), 0usize);
    for j in order {
        let tau = taus[j];
        if tau <= 0.0 {
            out[j] = 1;
            continue;
        }
        if tau >= 1.0 || tau.is_nan() {
            continue;
        }
        let target = tau - tol;
        loop {
            if n > 0 && prefix.value() >= target {
                out[j] = n;
                break;
            }
            if n == k {
                break;
            }
            prefix.add(p(n));
            n += 1;
        }
    }
    out
}

/// Effective rank erank_τ = min{k : Σ_{i≤k} p_i ≥ τ − 64·K·ε} of a descending spectrum, τ ∈ (0, 1].
///
/// K = `sv.len()` (zero singular values included). τ = 1 gives the support size
/// max{i : p_i > 0}. Errors: `tau` outside (0, 1] ([`Error::InvalidArgument`] naming `tau`); an
/// empty, non-finite, negative, unsorted or all-zero spectrum (naming `sv`).
pub fn effective_rank(sv: &[f64], tau: f64) -> Result<usize> {
    check_tau(tau, "tau")?;
    check_spectrum(sv, "sv")?;
    Ok(quantiles(sv, &[tau])[0])
}

/// Effective ranks at several quantiles `taus` (each in (0, 1]), computed in one pass.
///
/// `effective_ranks(sv, taus)[j] == effective_rank(sv, taus[j])`. The error for a bad τ names
/// `taus[j]`.
pub fn effective_ranks(sv: &[f64], taus: &[f64]) -> Result<Vec<usize>> {
    for (j, &tau) in taus.iter().enumerate() {
        check_tau(tau, &format!("taus[{j}]"))?;
    }
    check_spectrum(sv, "sv")?;
    Ok(quantiles(sv, taus))
}

/// Effective rank with the extended rules used inside brackets: any τ is accepted, τ ≤ 0 gives 1
/// and τ ≥ 1 gives the support size max{i : p_i > 0}; otherwise as [`effective_rank`].
///
/// Errors: a NaN `tau`, or a bad spectrum.
pub fn effective_rank_extended(sv: &[f64], tau: f64) -> Result<usize> {
    if tau.is_nan() {
        return Err(Error::invalid("tau", "must be a number, got NaN"));
    }
    check_spectrum(sv, "sv")?;
    Ok(quantiles(sv, &[tau])[0])
}

/// Rank window [erank_{τ_lo}, erank_{τ_hi}] (1-based, inclusive) with 0 < τ_lo ≤ τ_hi ≤ 1.
///
/// Errors name `tau_lo` or `tau_hi` when outside (0, 1], and `tau_lo` when τ_lo > τ_hi.
pub fn rank_window(sv: &[f64], tau_lo: f64, tau_hi: f64) -> Result<(usize, usize)> {
    check_tau(tau_lo, "tau_lo")?;
    check_tau(tau_hi, "tau_hi")?;
    if tau_lo > tau_hi {
        return Err(Error::invalid(
            "tau_lo",
            format!("must not exceed tau_hi ({tau_lo} > {tau_hi})"),
        ));
    }
    check_spectrum(sv, "sv")?;
    let q = quantiles(sv, &[tau_lo, tau_hi]);
    Ok((q[0], q[1]))
}

/// Stable rank ‖A‖_F²/‖A‖₂² = Σ_i (s_i/s_1)² ∈ [1, K] of a descending spectrum (= K·e^{−2r}).
pub fn stable_rank(sv: &[f64]) -> Result<f64> {
    check_spectrum(sv, "sv")?;
    Ok(relative_energy(sv))
}

/// Robust effective-rank bracket (SPEC §8): [erank_{τ−ρ}(p), erank_{τ+ρ}(p)] with the extended
/// rules of [`effective_rank_extended`], where p is the energy distribution of `sv` and
/// ρ = `radius` + 64·K·ε.
///
/// For every spectrum q of the same width with TV(p, q) ≤ `radius`, erank_τ(q) lies in the
/// bracket. Since TV(p, q) ≤ Hell(p, q) = ‖√p − √q‖₂, a fitted orbit p with Hellinger residual δ
/// brackets the data's effective rank with `radius = δ`. The extra 64·K·ε covers the rounding of
/// the two quantile computations, so the bracket is valid in floating point, not only in exact
/// arithmetic.
///
/// Errors: `tau` outside (0, 1], `radius` negative or not finite, or a bad spectrum.
pub fn erank_bracket(sv: &[f64], tau: f64, radius: f64) -> Result<(usize, usize)> {
    check_tau(tau, "tau")?;
    if !(radius >= 0.0 && radius.is_finite()) {
        return Err(Error::invalid(
            "radius",
            format!("must be a finite number >= 0, got {radius}"),
        ));
    }
    check_spectrum(sv, "sv")?;
    let rho = radius + tolerance(sv.len());
    let q = quantiles(sv, &[tau - rho, tau + rho]);
    Ok((q[0], q[1]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spectrum::energy;
    use proptest::prelude::*;

    fn power_law(d: usize, beta: f64) -> Vec<f64> {
        (1..=d).map(|i| (i as f64).powf(-beta / 2.0)).collect()
    }

    /// Direct evaluation of the definition (no early exit, no pass sharing).
    fn reference(sv: &[f64], tau: f64) -> usize {
        let k = sv.len();
        let s1 = sv[0];
        let s = crate::sum::neumaier_sum(sv.iter().map(|&x| (x / s1) * (x / s1)));
        let p: Vec<f64> = sv.iter().map(|&x| (x / s1) * (x / s1) / s).collect();
        let support = p.iter().rposition(|&x| x > 0.0).map_or(1, |i| i + 1);
        if tau <= 0.0 {
            return 1;
        }
        if tau >= 1.0 {
            return support;
        }
        (1..=k)
            .find(|&n| crate::sum::neumaier_sum(p[..n].iter().copied()) >= tau - tolerance(k))
            .unwrap_or(support)
    }

    #[test]
    fn flat_spectrum_regression() {
        let sv = vec![1.0; 20000];
        assert_eq!(effective_rank(&sv, 0.5).unwrap(), 10000);
        assert_eq!(effective_rank(&vec![3.7; 20000], 0.5).unwrap(), 10000);
        assert_eq!(effective_rank(&sv, 0.25).unwrap(), 5000);
        assert_eq!(effective_rank(&sv, 1.0).unwrap(), 20000);
    }

    #[test]
    fn golden_numbers() {
        assert_eq!(effective_rank(&power_law(1000, 0.5), 0.9).unwrap(), 815);
        assert_eq!(effective_rank(&power_law(1000, 1.0), 0.9).unwrap(), 473);
        assert_eq!(effective_rank(&power_law(1000, 2.0), 0.9).unwrap(), 6);
        assert_eq!(
            effective_rank(&power_law(100_000, 1.5), 0.99).unwrap(),
            3814
        );
    }

    #[test]
    fn worked_example() {
        // p = (0.48, 0.24, 0.16, 0.12): C = (0.48, 0.72, 0.88, 1).
        let sv = power_law(4, 1.0);
        assert_eq!(effective_rank(&sv, 0.48).unwrap(), 1);
        assert_eq!(effective_rank(&sv, 0.49).unwrap(), 2);
        assert_eq!(effective_rank(&sv, 0.72).unwrap(), 2);
        assert_eq!(effective_rank(&sv, 0.88).unwrap(), 3);
        assert_eq!(effective_rank(&sv, 0.9).unwrap(), 4);
        assert_eq!(rank_window(&sv, 0.5, 0.9).unwrap(), (2, 4));
        assert_eq!(
            effective_ranks(&sv, &[0.9, 0.5, 0.1]).unwrap(),
            vec![4, 2, 1]
        );
    }

    #[test]
    fn zeros_and_support() {
        let sv = [2.0, 1.0, 0.0, 0.0];
        assert_eq!(effective_rank(&sv, 1.0).unwrap(), 2);
        assert_eq!(effective_rank(&sv, 0.8).unwrap(), 1);
        assert_eq!(effective_rank(&sv, 0.81).unwrap(), 2);
        assert_eq!(effective_rank(&[5.0], 0.3).unwrap(), 1);
        assert_eq!(effective_rank_extended(&sv, 2.0).unwrap(), 2);
        assert_eq!(effective_rank_extended(&sv, -1.0).unwrap(), 1);
        assert_eq!(effective_rank_extended(&sv, 0.0).unwrap(), 1);
        // The tolerance: a tail of relative energy 1e-20 is below 64·K·ε.
        assert_eq!(effective_rank(&[1.0, 1e-10], 0.999_999).unwrap(), 1);
        assert_eq!(effective_rank(&[1.0, 1e-10], 1.0).unwrap(), 2);
    }

    #[test]
    fn stable_rank_values() {
        assert_eq!(stable_rank(&[1.0; 7]).unwrap(), 7.0);
        assert_eq!(stable_rank(&[3.0, 0.0]).unwrap(), 1.0);
        let sv = power_law(4, 1.0);
        let h4 = 25.0 / 12.0;
        assert!((stable_rank(&sv).unwrap() - h4).abs() < 1e-14);
        let r = crate::spectrum::top_radial(&sv).unwrap();
        assert!((stable_rank(&sv).unwrap() - 4.0 * (-2.0 * r).exp()).abs() < 1e-12);
    }

    #[test]
    fn errors_name_the_argument() {
        let sv = [1.0, 0.5];
        for tau in [0.0, -0.1, 1.0 + 1e-12, f64::NAN, f64::INFINITY] {
            match effective_rank(&sv, tau) {
                Err(Error::InvalidArgument { arg, .. }) => assert_eq!(arg, "tau"),
                other => panic!("tau = {tau}: {other:?}"),
            }
        }
        let arg_of = |r: Result<(usize, usize)>| match r {
            Err(Error::InvalidArgument { arg, .. }) => arg,
            other => panic!("{other:?}"),
        };
        assert_eq!(arg_of(rank_window(&sv, 0.0, 0.5)), "tau_lo");
        assert_eq!(arg_of(rank_window(&sv, 0.5, 1.5)), "tau_hi");
        assert_eq!(arg_of(rank_window(&sv, 0.9, 0.5)), "tau_lo");
        assert_eq!(arg_of(erank_bracket(&sv, 0.5, -1.0)), "radius");
        assert_eq!(arg_of(erank_bracket(&sv, 0.5, f64::NAN)), "radius");
        match effective_ranks(&sv, &[0.5, 2.0]) {
            Err(Error::InvalidArgument { arg, .. }) => assert_eq!(arg, "taus[1]"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(effective_rank(&[], 0.5), Err(Error::Empty { .. })));
        assert!(matches!(
            effective_rank(&[0.0, 0.0], 0.5),
            Err(Error::ZeroMatrix { .. })
        ));
        assert!(matches!(
            effective_rank(&[1.0, f64::NAN], 0.5),
            Err(Error::NonFinite { row: 1, .. })
        ));
        assert!(matches!(
            stable_rank(&[1.0, 2.0]),
            Err(Error::InvalidArgument { .. })
        ));
        assert!(effective_rank_extended(&sv, f64::NAN).is_err());
    }

    fn spectrum_strategy() -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec(prop_oneof![3 => 0.0f64..10.0, 1 => Just(0.0)], 1..40).prop_map(
            |mut v| {
                v.sort_by(|a, b| b.total_cmp(a));
                if v[0] == 0.0 {
                    v[0] = 1.0;
                }
                v
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn agrees_with_the_definition(sv in spectrum_strategy(), tau in 0.0f64..=1.0) {
            prop_assume!(tau > 0.0);
            let e = effective_rank(&sv, tau).unwrap();
            prop_assert_eq!(e, reference(&sv, tau));
            let p = energy(&sv).unwrap();
            prop_assert!(e >= 1 && e <= sv.len());
            prop_assert!(p[e - 1] > 0.0);
        }

        #[test]
        fn one_pass_matches_single_calls(sv in spectrum_strategy(), taus in prop::collection::vec(1e-6f64..=1.0, 0..8)) {
            let many = effective_ranks(&sv, &taus).unwrap();
            for (j, &tau) in taus.iter().enumerate() {
                prop_assert_eq!(many[j], effective_rank(&sv, tau).unwrap());
            }
        }

        #[test]
        fn monotone_and_scale_invariant(sv in spectrum_strategy(), a in 1e-6f64..=1.0, b in 1e-6f64..=1.0, e in -20i32..20) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            let w = rank_window(&sv, lo, hi).unwrap();
            prop_assert!(w.0 <= w.1);
            let c = 2f64.powi(e);
            let scaled: Vec<f64> = sv.iter().map(|&s| s * c).collect();
            prop_assert_eq!(rank_window(&scaled, lo, hi).unwrap(), w);
            let sr = stable_rank(&sv).unwrap();
            prop_assert!(sr >= 1.0 && sr <= sv.len() as f64 * (1.0 + 1e-12));
        }

        #[test]
        fn robustness_bracket(len in 1usize..30, seed_p in prop::collection::vec(0.0f64..1.0, 30), seed_q in prop::collection::vec(0.0f64..1.0, 30), tau in 1e-3f64..=1.0) {
            let mk = |seed: &[f64]| {
                let mut v: Vec<f64> = seed[..len].to_vec();
                v.sort_by(|a, b| b.total_cmp(a));
                if v[0] == 0.0 {
                    v[0] = 1.0;
                }
                v
            };
            let (sp, sq) = (mk(&seed_p), mk(&seed_q));
            let tv = crate::distance::total_variation(&sp, &sq).unwrap();
            let hell = crate::distance::hellinger(&sp, &sq).unwrap();
            prop_assert!(tv <= hell + 1e-15);
            let eq = effective_rank(&sq, tau).unwrap();
            for radius in [tv, hell] {
                let (lo, hi) = erank_bracket(&sp, tau, radius).unwrap();
                prop_assert!(lo <= eq && eq <= hi, "{} not in [{}, {}]", eq, lo, hi);
            }
        }
    }
}
