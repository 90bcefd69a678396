//! Distances between singular spectra (SPEC §1, §4.3).
//!
//! A spectrum s_1 ≥ … ≥ s_k ≥ 0 is compared through its energy distribution p_i = s_i²/Σ_j s_j²
//! (a probability vector on ranks) or through its Frobenius-normalised state Λ = k·diag(p), the
//! ordered eigenvalues of ÂᵀÂ with Â = √k·A/‖A‖_F (trace k):
//!
//! * **Hellinger** Hell(p, q) = ‖√p − √q‖₂ ∈ [0, √2] (no 1/√2 factor);
//! * **total variation** TV(p, q) = ½‖p − q‖₁ ∈ [0, 1], with TV ≤ Hell;
//! * **Bures–Wasserstein** d_BW(Λ_a, Λ_b) between the normalised states, which for commuting
//!   states is the distance of ordered singular values ‖s(Â) − s(B̂)‖₂ (§4.3) and equals √k·Hell
//!   at a common width k.
//!
//! **Spectra of different lengths.** A spectrum of width k has the same energy distribution as
//! the same spectrum followed by zeros (a matrix with extra zero singular values), so the shorter
//! spectrum is padded with zeros: Hell and TV compare distributions on ranks 1..max(k_a, k_b).
//! For Bures–Wasserstein each state keeps its own trace (k_a and k_b), and the distance is that of
//! the zero-padded states: d_BW² = k_a + k_b − 2√(k_a k_b)·BC(p_a, p_b)
//! = (√k_a − √k_b)² + √(k_a k_b)·Hell², which is √k·Hell when k_a = k_b = k.
//!
//! Sums are Neumaier-compensated. Errors (naming `sv_a` or `sv_b`): an empty, non-finite,
//! negative, unsorted or all-zero spectrum.

use crate::error::Result;
use crate::spectrum::{check_spectrum, energy};
use crate::sum::neumaier_sum;

/// Energy distributions of both spectra, validated under their own names, the shorter padded
/// with zeros to the common length max(k_a, k_b).
fn energies(sv_a: &[f64], sv_b: &[f64]) -> Result<(Vec<f64>, Vec<f64>)> {
    check_spectrum(sv_a, "sv_a")?;
    check_spectrum(sv_b, "sv_b")?;
    let (mut p, mut q) = (energy(sv_a)?, energy(sv_b)?);
    let n = p.len().max(q.len());
    p.resize(n, 0.0);
    q.resize(n, 0.0);
    Ok((p, q))
}

/// Hellinger distance Hell(p_a, p_b) = ‖√p_a − √p_b‖₂ ∈ [0, √2] between the energy distributions
/// of two descending spectra (no 1/√2 factor; the shorter spectrum is padded with zeros).
pub fn hellinger(sv_a: &[f64], sv_b: &[f64]) -> Result<f64> {
    let (p, q) = energies(sv_a, sv_b)?;
    let sq = neumaier_sum(p.iter().zip(&q).map(|(&x, &y)| {
        let d = x.sqrt() - y.sqrt();
        d * d
    }));
    Ok(sq.sqrt().min(std::f64::consts::SQRT_2))
}

/// Total variation TV(p_a, p_b) = ½ Σ_i |p_a,i − p_b,i| ∈ [0, 1] between the energy
/// distributions of two descending spectra (the shorter spectrum is padded with zeros).
pub fn total_variation(sv_a: &[f64], sv_b: &[f64]) -> Result<f64> {
    let (p, q) = energies(sv_a, sv_b)?;
    let l1 = neumaier_sum(p.iter().zip(&q).map(|(&x, &y)| (x - y).abs()));
    Ok((0.5 * l1).min(1.0))
}

/// Bures–Wasserstein distance between the Frobenius-normalised states Λ_a = k_a·diag(p_a) and
/// Λ_b = k_b·diag(p_b) of two descending spectra:
/// d_BW² = tr Λ_a + tr Λ_b − 2 tr(Λ_a^{½} Λ_b Λ_a^{½})^{½} = ‖s(Â) − s(B̂)‖₂².
///
/// At a common width k this is √k·Hell(p_a, p_b) (SPEC §1). For widths k_a ≠ k_b it is computed
/// as √((√k_a − √k_b)² + √(k_a k_b)·Hell²), the distance of the zero-padded states.
pub fn bures_distance(sv_a: &[f64], sv_b: &[f64]) -> Result<f64> {
    let h = hellinger(sv_a, sv_b)?;
    let (ka, kb) = (sv_a.len() as f64, sv_b.len() as f64);
    if sv_a.len() == sv_b.len() {
        return Ok(ka.sqrt() * h);
    }
    let gap = ka.sqrt() - kb.sqrt();
    Ok((gap * gap + (ka * kb).sqrt() * h * h).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use proptest::prelude::*;

    fn power_law(d: usize, alpha: f64) -> Vec<f64> {
        (1..=d).map(|i| (i as f64).powf(-alpha)).collect()
    }

    #[test]
    fn separation_example() {
        // SPEC §6.5: p = (0.48, .24, .16, .12), q = (0.48, .30, .12, .10): Hell = 0.084419.
        let sv_p: Vec<f64> = [0.48f64, 0.24, 0.16, 0.12]
            .iter()
            .map(|x| x.sqrt())
            .collect();
        let sv_q: Vec<f64> = [0.48f64, 0.30, 0.12, 0.10]
            .iter()
            .map(|x| x.sqrt())
            .collect();
        let h = hellinger(&sv_p, &sv_q).unwrap();
        assert!((h - 0.084419).abs() < 5e-7, "{h}");
        assert!((bures_distance(&sv_p, &sv_q).unwrap() - 2.0 * h).abs() < 1e-15);
        let tv = total_variation(&sv_p, &sv_q).unwrap();
        assert!((tv - 0.06).abs() < 1e-15, "{tv}");
        // The power law with alpha = 1/2 at d = 4 has exactly p.
        assert!(hellinger(&power_law(4, 0.5), &sv_p).unwrap() < 1e-15);
    }

    #[test]
    fn extremes() {
        assert_eq!(hellinger(&[1.0, 0.0], &[1.0, 0.0]).unwrap(), 0.0);
        // Disjoint supports cannot be built from descending spectra, but rank 1 vs flat can.
        let h = hellinger(&[1.0, 0.0], &[1.0, 1.0]).unwrap();
        let expected = ((1.0 - 0.5f64.sqrt()).powi(2) + 0.5).sqrt();
        assert!((h - expected).abs() < 1e-15);
        assert!((total_variation(&[1.0, 0.0], &[1.0, 1.0]).unwrap() - 0.5).abs() < 1e-15);
        // Scale does not matter.
        assert_eq!(hellinger(&[4.0, 2.0], &[2.0, 1.0]).unwrap(), 0.0);
    }

    #[test]
    fn different_lengths_are_zero_padded() {
        assert_eq!(hellinger(&[1.0, 1.0], &[1.0, 1.0, 0.0, 0.0]).unwrap(), 0.0);
        assert_eq!(total_variation(&[1.0, 1.0], &[3.0, 3.0, 0.0]).unwrap(), 0.0);
        // Lambda_a = diag(1, 1, 0, 0) (trace 2), Lambda_b = diag(2, 2, 0, 0) (trace 4):
        // d_BW = ||(1, 1) - (sqrt 2, sqrt 2)|| = 2 - sqrt 2.
        let d = bures_distance(&[1.0, 1.0], &[1.0, 1.0, 0.0, 0.0]).unwrap();
        assert!((d - (2.0 - 2f64.sqrt())).abs() < 1e-15, "{d}");
        // Symmetric.
        let (a, b) = (power_law(3, 0.7), power_law(5, 0.2));
        assert_eq!(hellinger(&a, &b).unwrap(), hellinger(&b, &a).unwrap());
        let (d1, d2) = (
            bures_distance(&a, &b).unwrap(),
            bures_distance(&b, &a).unwrap(),
        );
        assert!((d1 - d2).abs() < 1e-15);
    }

    #[test]
    fn errors_name_the_argument() {
        let arg = |e: Error| match e {
            Error::Empty { arg, .. }
            | Error::NonFinite { arg, .. }
            | Error::ZeroMatrix { arg, .. }
            | Error::InvalidArgument { arg, .. } => arg,
            other => panic!("{other:?}"),
        };
        assert_eq!(arg(hellinger(&[], &[1.0]).unwrap_err()), "sv_a");
        assert_eq!(arg(hellinger(&[1.0], &[f64::NAN]).unwrap_err()), "sv_b");
        assert_eq!(arg(bures_distance(&[1.0], &[0.0]).unwrap_err()), "sv_b");
        assert_eq!(
            arg(total_variation(&[1.0, 2.0], &[1.0]).unwrap_err()),
            "sv_a"
        );
        assert_eq!(
            arg(total_variation(&[1.0], &[1.0, -1.0]).unwrap_err()),
            "sv_b"
        );
    }

    fn spectrum_strategy() -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec(prop_oneof![3 => 0.0f64..10.0, 1 => Just(0.0)], 1..30).prop_map(
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
        fn metric_properties(a in spectrum_strategy(), b in spectrum_strategy(), c in spectrum_strategy()) {
            let (hab, hbc, hac) = (hellinger(&a, &b).unwrap(), hellinger(&b, &c).unwrap(), hellinger(&a, &c).unwrap());
            prop_assert!(hac <= hab + hbc + 1e-14);
            prop_assert!((0.0..=std::f64::consts::SQRT_2).contains(&hab));
            prop_assert!(hellinger(&a, &a).unwrap() == 0.0);
            let tv = total_variation(&a, &b).unwrap();
            prop_assert!(tv <= hab + 1e-15 && (0.0..=1.0).contains(&tv));
            // Hell^2 <= 2 TV (the other side of the equivalence).
            prop_assert!(hab * hab <= 2.0 * tv + 1e-14);
            let (dab, dbc, dac) = (bures_distance(&a, &b).unwrap(), bures_distance(&b, &c).unwrap(), bures_distance(&a, &c).unwrap());
            prop_assert!(dac <= dab + dbc + 1e-12);
        }

        #[test]
        fn bures_is_the_distance_of_normalised_singular_values(a in spectrum_strategy(), b in spectrum_strategy()) {
            let shat = |sv: &[f64]| -> Vec<f64> {
                let k = sv.len() as f64;
                energy(sv).unwrap().iter().map(|&p| (k * p).sqrt()).collect()
            };
            let (mut x, mut y) = (shat(&a), shat(&b));
            let n = x.len().max(y.len());
            x.resize(n, 0.0);
            y.resize(n, 0.0);
            let direct = x.iter().zip(&y).map(|(u, v)| (u - v) * (u - v)).sum::<f64>().sqrt();
            let d = bures_distance(&a, &b).unwrap();
            prop_assert!((d - direct).abs() <= 1e-12 * (1.0 + direct), "{} vs {}", d, direct);
        }
    }
}
