//! Empirical spectral density (ESD) metrics compatible with WeightWatcher 0.7.7.
//!
//! WeightWatcher describes a layer W (m × n, k = min(m, n), N = max(m, n)) by the eigenvalues
//! λ_i = s_i² of WᵀW (after transposing so that N ≥ k), and reports:
//!
//! | column | definition |
//! |---|---|
//! | `ww_alpha` | exponent of the continuous power law p(λ) ∝ λ^{−α} on [λ_min, ∞), fitted by maximum likelihood to the eigenvalues ≥ λ_min: α = 1 + n / Σ_{λ_j ≥ λ_min} log(λ_j/λ_min) |
//! | `ww_xmin` | λ_min, chosen among the eigenvalues > 10⁻⁵ (sorted ascending, all but the largest) to minimise `ww_D` |
//! | `ww_D` | Kolmogorov–Smirnov distance max_j \|1 − (λ_j/λ_min)^{1−α} − j/n\| between the fitted and the empirical CDF of the tail (j = 0..n−1 over the tail in ascending order; 1 when α ≤ 1) |
//! | `alpha_weighted` | α · log₁₀ λ_max |
//! | `log_norm` | log₁₀ Σ_i λ_i (= 2 log₁₀ ‖W‖_F) |
//! | `log_spectral_norm` | log₁₀ λ_max (= 2 log₁₀ ‖W‖₂) |
//! | `stable_rank` | Σ_i λ_i / λ_max |
//! | `entropy` | −Σ_i p_i log p_i / log(R + 10⁻¹⁰), p_i = λ_i/Σλ + 10⁻¹⁰, R = #{s_i > s_1 · N · ε} |
//!
//! These are WeightWatcher's default `analyze()` settings: the eigenvalue threshold 10⁻⁵
//! (`EVALS_THRESH`), no `xmax`, no "fix fingers", and its own fit (`pl_package="ww"`). Below 20
//! eigenvalues above the threshold WeightWatcher switches to a small-sample fit (bias-corrected
//! MLE α = 1 + (n − 1)/Σ log(λ_j/λ_min), tails of at least 8 eigenvalues); it then takes the
//! candidate of least D, as WeightWatcher 0.7.7 does, and so does [`fit_power_law`]. Logs are
//! natural in the fit and decimal in the norms, as in WeightWatcher. All arithmetic is `f64`.
//!
//! Differences: WeightWatcher skips layers with fewer than 8 eigenvalues (`min_evals`) and splits
//! convolution kernels into one matrix per kernel position; gsalign reports every layer and
//! reshapes kernels (out, in, kh, kw) to out × (in·kh·kw) (SPEC §2), so its `ww_*` columns
//! match WeightWatcher's on dense layers.

use crate::error::{Error, Result};
use crate::spectrum::{binary_exponent, check_spectrum, ldexp};
use crate::sum::{neumaier_sum, NeumaierSum};

/// Eigenvalues at or below this are left out of the power-law fit (WeightWatcher's `EVALS_THRESH`).
pub const EVALS_THRESH: f64 = 1e-5;

/// Below this many fitted eigenvalues the small-sample fit is used (WeightWatcher's `SMALL_N_CUTOFF`).
pub const SMALL_N: usize = 20;

/// Smallest tail of the small-sample fit (WeightWatcher's `k_min`).
const SMALL_N_MIN_TAIL: usize = 8;

/// Smallest s_1 (2^−250) for which [`esd_metrics`] works on λ = s² itself: every λ_i that
/// matters is then a normal number.
const SCALE_FREE_MIN: f64 = 5.527147875260445e-76;

/// Largest s_1 (2^250) for which [`esd_metrics`] works on λ = s² itself.
const SCALE_FREE_MAX: f64 = 1.8092513943330656e75;

/// WeightWatcher's `EPSILON` in the matrix entropy.
const ENTROPY_EPSILON: f64 = 1e-10;

/// A continuous power-law fit of an ESD tail.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PowerLawFit {
    /// Exponent α of p(λ) ∝ λ^{−α}.
    pub alpha: f64,
    /// Lower end λ_min of the fitted tail.
    pub xmin: f64,
    /// Kolmogorov–Smirnov distance of the fit.
    pub ks_distance: f64,
    /// Number of eigenvalues in the tail (≥ λ_min).
    pub tail: usize,
}

/// KS distance of the power law with exponent `alpha` fitted to the ascending tail whose
/// logarithms are `log_x` (log_x[0] = log λ_min): max_j |1 − (x_j/λ_min)^{1−α} − j/n|, with the
/// j where it lies; `Err(j)` when the deviation at j exceeds `stop`, or reaches it when not
/// `ties_win` (a candidate that cannot win).
///
/// The terms are visited from j = `first` on, then from 0: the maximum does not depend on the
/// order, and starting where the previous candidate's largest deviation lay lets most losing
/// candidates stop after a few terms (one `exp` each) instead of scanning their tail.
fn ks_distance(
    log_x: &[f64],
    alpha: f64,
    (stop, ties_win): (f64, bool),
    first: usize,
) -> Result<(f64, usize), usize> {
    let len = log_x.len();
    let n = len as f64;
    let log_xmin = log_x[0];
    let first = first.min(len - 1);
    let (mut d, mut at) = (0.0f64, first);
    for j in (first..len).chain(0..first) {
        let dev = (1.0 - ((1.0 - alpha) * (log_x[j] - log_xmin)).exp() - j as f64 / n).abs();
        if dev > d {
            (d, at) = (dev, j);
            if d > stop || (d == stop && !ties_win) {
                return Err(j);
            }
        }
    }
    Ok((d, at))
}

/// Suffix sums S_i = Σ_{j ≥ i} log_x_j, accumulated from the end with Neumaier compensation.
fn log_suffix_sums(log_x: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; log_x.len()];
    let mut acc = NeumaierSum::new();
    for i in (0..log_x.len()).rev() {
        acc.add(log_x[i]);
        out[i] = acc.value();
    }
    out
}

/// WeightWatcher 0.7.7's default power-law fit of eigenvalues `evals` (any order; those
/// ≤ [`EVALS_THRESH`] are dropped): the continuous MLE at every candidate λ_min, keeping the one
/// with the least KS distance (the first on ties).
///
/// Errors: [`Error::InvalidArgument`] on non-finite or negative eigenvalues, or when fewer than
/// two eigenvalues exceed the threshold (WeightWatcher reports the fit as failed).
pub fn fit_power_law(evals: &[f64]) -> Result<PowerLawFit> {
    fit_above(evals, EVALS_THRESH, 0)
}

/// [`fit_power_law`] of the eigenvalues `evals`·4^`e`, given in units of 4^e (see
/// [`esd_metrics`]) with the threshold `thresh` in the same units; `xmin` is returned in true
/// units.
fn fit_above(evals: &[f64], thresh: f64, e: i32) -> Result<PowerLawFit> {
    if let Some(i) = evals.iter().position(|v| !v.is_finite() || *v < 0.0) {
        return Err(Error::invalid(
            "evals",
            format!("eigenvalue {i} is {} (must be finite and >= 0)", evals[i]),
        ));
    }
    let mut x: Vec<f64> = evals.iter().copied().filter(|&v| v > thresh).collect();
    if x.len() < 2 {
        return Err(Error::invalid(
            "evals",
            format!(
                "{} eigenvalue(s) above {EVALS_THRESH:e}: a power-law fit needs at least 2",
                x.len()
            ),
        ));
    }
    x.sort_by(f64::total_cmp);
    let log_x: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let logs = log_suffix_sums(&log_x);
    let big_n = x.len();
    let candidates = big_n - 1;
    let mut alphas = vec![0.0f64; candidates];
    let mut ds = vec![1.0f64; candidates];
    if big_n >= SMALL_N {
        for (i, a) in alphas.iter_mut().enumerate() {
            let n = (big_n - i) as f64;
            *a = 1.0 + n / (logs[i] - n * log_x[i]);
        }
        KsSearch::run(&log_x, &alphas, &mut ds);
    } else {
        small_sample_fit(&log_x, &logs, &mut alphas, &mut ds);
    }
    let mut i_best = 0;
    for i in 1..candidates {
        if ds[i] < ds[i_best] {
            i_best = i;
        }
    }
    Ok(PowerLawFit {
        alpha: alphas[i_best],
        xmin: ldexp(x[i_best], 2 * e),
        ks_distance: ds[i_best],
        tail: big_n - i_best,
    })
}

/// The search for the KS-optimal candidate λ_min = x_i among those with α_i > 1: the first
/// index of the least KS distance, with ds[i] set to the distance of every candidate that was
/// the best when it was evaluated (the others keep their default, which is never below the
/// minimum). A candidate stops as soon as its partial maximum shows it cannot win (beyond the
/// best so far, or equal to it at a later index), so that the evaluation order changes the
/// work but not the result: the winner is always evaluated in full, and a tie goes to the
/// lower index whichever comes first.
///
/// Order: every s-th candidate first (s = ⌈√candidates⌉), then the others nearest the best of
/// those first. In index order, MiniLM's KS distances fell over long runs of candidates, each
/// a new best scanned in full (150–190 of 383 per layer, about 40,000 exponentials); from a
/// near-optimal bound most candidates stop after a few terms.
struct KsSearch<'a> {
    log_x: &'a [f64],
    alphas: &'a [f64],
    ds: &'a mut [f64],
    /// The least distance so far and its index (`usize::MAX` before any).
    best: (f64, usize),
    /// Where the last candidate's deviation was largest (or stopped it), in `log_x`.
    hint: usize,
}

impl KsSearch<'_> {
    fn run(log_x: &[f64], alphas: &[f64], ds: &mut [f64]) {
        let candidates = alphas.len();
        let mut search = KsSearch {
            log_x,
            alphas,
            ds,
            best: (f64::INFINITY, usize::MAX),
            hint: 0,
        };
        let stride = ((candidates as f64).sqrt().ceil() as usize).max(1);
        for i in (0..candidates).step_by(stride) {
            search.visit(i);
        }
        let centre = if search.best.1 == usize::MAX {
            0
        } else {
            search.best.1
        };
        let mut rest: Vec<usize> = (0..candidates).filter(|i| i % stride != 0).collect();
        rest.sort_by_key(|&i| (i.abs_diff(centre), i));
        for i in rest {
            search.visit(i);
        }
    }

    fn visit(&mut self, i: usize) {
        let alpha = self.alphas[i];
        if alpha <= 1.0 {
            return;
        }
        let stop = (self.best.0, i < self.best.1);
        match ks_distance(&self.log_x[i..], alpha, stop, self.hint.max(i) - i) {
            Ok((d, at)) => {
                self.ds[i] = d;
                self.best = (d, i);
                self.hint = i + at;
            }
            Err(at) => self.hint = i + at,
        }
    }
}

/// WeightWatcher's small-sample loop: bias-corrected MLE on tails of at least 8 eigenvalues;
/// with no such tail, the whole sample.
fn small_sample_fit(log_x: &[f64], logs: &[f64], alphas: &mut [f64], ds: &mut [f64]) {
    let big_n = log_x.len();
    let mut any = false;
    for i in 0..big_n - 1 {
        let n_int = big_n - i;
        if n_int < SMALL_N_MIN_TAIL {
            continue;
        }
        let n = n_int as f64;
        let s = logs[i] - n * log_x[i];
        if s <= 1e-12 {
            continue;
        }
        let alpha = 1.0 + (n - 1.0) / s;
        alphas[i] = alpha;
        if alpha <= 1.0 {
            continue;
        }
        if let Ok((d, _)) = ks_distance(&log_x[i..], alpha, (f64::INFINITY, true), 0) {
            ds[i] = d;
            any = true;
        }
    }
    if !any {
        let n = big_n as f64;
        let s = logs[0] - n * log_x[0];
        if s > 1e-12 {
            let alpha = 1.0 + (n - 1.0) / s;
            alphas[0] = alpha;
            if let Ok((d, _)) = ks_distance(log_x, alpha, (f64::INFINITY, true), 0) {
                ds[0] = d;
            }
        }
    }
}

/// Every WeightWatcher-compatible metric of one layer (see the module table).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EsdMetrics {
    /// Power-law exponent (NaN when fewer than two eigenvalues exceed the threshold).
    pub alpha: f64,
    /// λ_min of the fit (NaN when there is no fit; +inf when it exceeds the largest double).
    pub xmin: f64,
    /// KS distance of the fit (NaN when there is no fit).
    pub ks_distance: f64,
    /// Eigenvalues in the fitted tail (0 when there is no fit).
    pub tail: usize,
    /// λ_max = s_1² (+inf when it exceeds the largest double).
    pub lambda_max: f64,
    /// α · log₁₀ λ_max.
    pub alpha_weighted: f64,
    /// log₁₀ Σ λ_i.
    pub log_norm: f64,
    /// log₁₀ λ_max.
    pub log_spectral_norm: f64,
    /// Σ λ_i / λ_max.
    pub stable_rank: f64,
    /// WeightWatcher's matrix entropy.
    pub entropy: f64,
}

/// The metrics of a layer from its descending singular values `sv` (k = min(m, n) of them) and
/// its shape m × n.
///
/// Errors: those of [`check_spectrum`] (empty, non-finite, negative, unsorted or all-zero `sv`).
pub fn esd_metrics(sv: &[f64], m: usize, n: usize) -> Result<EsdMetrics> {
    check_spectrum(sv, "sv")?;
    // λ_i = s_i² = μ_i·4^e: e = 0 for every matrix of sensible scale; beyond, the μ_i keep the
    // metrics finite where λ_i would overflow or underflow (every metric but `xmin` and
    // `lambda_max` is scale-free or a logarithm, and the threshold scales exactly).
    let e = if (SCALE_FREE_MIN..=SCALE_FREE_MAX).contains(&sv[0]) || sv[0] == 0.0 {
        0
    } else {
        binary_exponent(sv[0])
    };
    let evals: Vec<f64> = sv
        .iter()
        .map(|&s| {
            let t = ldexp(s, -e);
            t * t
        })
        .collect();
    let log10_scale = 2.0 * e as f64 * std::f64::consts::LOG10_2;
    let mu_max = evals[0];
    let total = neumaier_sum(evals.iter().copied());
    let fit = fit_above(&evals, ldexp(EVALS_THRESH, -2 * e), e).ok();
    let (alpha, xmin, ks, tail) = fit.map_or((f64::NAN, f64::NAN, f64::NAN, 0), |f| {
        (f.alpha, f.xmin, f.ks_distance, f.tail)
    });
    let tol = sv[0] * m.max(n) as f64 * f64::EPSILON;
    let rank = sv.iter().filter(|&&s| s > tol).count() as f64;
    let plogp = neumaier_sum(evals.iter().map(|&l| {
        let p = l / total + ENTROPY_EPSILON;
        p * p.ln()
    }));
    Ok(EsdMetrics {
        alpha,
        xmin,
        ks_distance: ks,
        tail,
        lambda_max: ldexp(mu_max, 2 * e),
        alpha_weighted: alpha * (mu_max.log10() + log10_scale),
        log_norm: total.log10() + log10_scale,
        log_spectral_norm: mu_max.log10() + log10_scale,
        stable_rank: total / mu_max,
        entropy: -plogp / (rank + ENTROPY_EPSILON).ln(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The eigenvalues a fit uses: those above the threshold, ascending.
    fn fitted(evals: &[f64]) -> Vec<f64> {
        let mut x: Vec<f64> = evals
            .iter()
            .copied()
            .filter(|&v| v > EVALS_THRESH)
            .collect();
        x.sort_by(f64::total_cmp);
        x
    }

    /// Direct transcription of the definitions (no early exit, plain sums), for comparison.
    fn reference_fit(evals: &[f64]) -> (f64, f64, f64) {
        let x = fitted(evals);
        let big_n = x.len();
        let mut best = (f64::INFINITY, 0.0, 0.0);
        for i in 0..big_n - 1 {
            let n = (big_n - i) as f64;
            let s: f64 = x[i..].iter().map(|v| (v / x[i]).ln()).sum();
            let alpha = 1.0 + n / s;
            let d = if alpha > 1.0 {
                x[i..]
                    .iter()
                    .enumerate()
                    .map(|(j, v)| (1.0 - (v / x[i]).powf(1.0 - alpha) - j as f64 / n).abs())
                    .fold(0.0, f64::max)
            } else {
                1.0
            };
            if d < best.0 {
                best = (d, alpha, x[i]);
            }
        }
        (best.1, best.2, best.0)
    }

    fn lcg(state: &mut u64) -> f64 {
        *state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((*state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    #[test]
    fn recovers_the_exponent_of_a_pareto_sample() {
        let mut st = 7u64;
        let alpha = 2.5;
        let x: Vec<f64> = (0..4000)
            .map(|_| 0.1 * lcg(&mut st).powf(-1.0 / (alpha - 1.0)))
            .collect();
        let fit = fit_power_law(&x).unwrap();
        assert!((fit.alpha - alpha).abs() < 0.1, "{fit:?}");
        assert!(fit.ks_distance < 0.05, "{fit:?}");
        assert_eq!(fit.tail, x.iter().filter(|&&v| v >= fit.xmin).count());
    }

    #[test]
    fn matches_a_direct_transcription() {
        let mut st = 11u64;
        for trial in 0..20 {
            let n = 20 + 13 * trial;
            let x: Vec<f64> = (0..n)
                .map(|_| {
                    let u = lcg(&mut st);
                    if u < 0.7 {
                        u * 3.0
                    } else {
                        (1.0 - u).powf(-0.8)
                    }
                })
                .collect();
            let fit = fit_power_law(&x).unwrap();
            let (a, xmin, d) = reference_fit(&x);
            assert!((fit.alpha - a).abs() < 1e-9, "{trial}: {fit:?} vs {a}");
            assert_eq!(fit.xmin, xmin);
            assert!((fit.ks_distance - d).abs() < 1e-12);
        }
    }

    #[test]
    fn the_search_order_changes_nothing() {
        // KsSearch against every candidate evaluated in full, in index order, with the same
        // arithmetic: the same winner (first on ties) and the same values, bit for bit, on
        // spectra of six kinds, ties included.
        let mut st = 5u64;
        for trial in 0..600 {
            let n = 20 + (lcg(&mut st) * 500.0) as usize;
            let a = 0.5 + 4.0 * lcg(&mut st);
            let evals: Vec<f64> = (0..n)
                .map(|i| match trial % 6 {
                    0 => lcg(&mut st).powf(-1.0 / a),
                    1 => -lcg(&mut st).ln(),
                    2 => (i % 7) as f64 + 1.0,
                    3 => 1e3 * (1.0 + i as f64).powf(-a),
                    4 => (0.5 + (i % 3) as f64) * (i / 3 + 1) as f64,
                    _ => (20.0 * lcg(&mut st) - 10.0).exp(),
                })
                .collect();
            let x = fitted(&evals);
            let n = x.len();
            if n < SMALL_N {
                continue;
            }
            let log_x: Vec<f64> = x.iter().map(|v| v.ln()).collect();
            let logs = log_suffix_sums(&log_x);
            let (mut best, mut at, mut alpha_at) = (1.0f64, 0, 0.0);
            for i in 0..n - 1 {
                let m = (n - i) as f64;
                let alpha = 1.0 + m / (logs[i] - m * log_x[i]);
                let d = if alpha > 1.0 {
                    ks_distance(&log_x[i..], alpha, (f64::INFINITY, true), 0)
                        .unwrap()
                        .0
                } else {
                    1.0
                };
                if i == 0 || d < best {
                    (best, at, alpha_at) = (d, i, alpha);
                }
            }
            let fit = fit_power_law(&evals).unwrap();
            assert_eq!(
                (
                    fit.alpha.to_bits(),
                    fit.xmin,
                    fit.ks_distance.to_bits(),
                    fit.tail
                ),
                (alpha_at.to_bits(), x[at], best.to_bits(), n - at),
                "trial {trial}"
            );
        }
    }

    #[test]
    fn small_samples_and_failures() {
        // fewer than 2 eigenvalues above the threshold: no fit
        assert!(fit_power_law(&[1.0, 1e-6]).is_err());
        assert!(fit_power_law(&[f64::NAN, 1.0]).is_err());
        // a small sample (< 20) uses the bias-corrected MLE on the whole sample when no tail of 8 exists
        let x = [1.0, 2.0, 4.0, 8.0, 16.0];
        let fit = fit_power_law(&x).unwrap();
        let s: f64 = x.iter().map(|v: &f64| v.ln()).sum::<f64>() - 5.0 * 1.0f64.ln();
        assert!((fit.alpha - (1.0 + 4.0 / s)).abs() < 1e-12);
        assert_eq!(fit.xmin, 1.0);
        // equal eigenvalues: WeightWatcher's degenerate case gives alpha 0 and D 1
        let fit = fit_power_law(&[2.0; 5]).unwrap();
        assert_eq!((fit.alpha, fit.ks_distance), (0.0, 1.0));
    }

    #[test]
    fn extreme_scales_keep_the_metrics_finite() {
        // λ from 1 down to 40^-1.4 ≈ 0.006: all above the threshold at scale 1.
        let sv: Vec<f64> = (1..=40).map(|i| (i as f64).powf(-0.7)).collect();
        let base = esd_metrics(&sv, 40, 60).unwrap();
        for k in [300, 600, 1000, -600, -1000] {
            let scaled: Vec<f64> = sv.iter().map(|&s| ldexp(s, k)).collect();
            let m = esd_metrics(&scaled, 40, 60).unwrap();
            let shift = 2.0 * k as f64 * std::f64::consts::LOG10_2;
            assert_eq!(
                (m.stable_rank, m.entropy),
                (base.stable_rank, base.entropy),
                "{k}"
            );
            assert_eq!(m.lambda_max, ldexp(base.lambda_max, 2 * k), "{k}");
            assert!((m.log_norm - base.log_norm - shift).abs() < 1e-12, "{k}");
            assert!((m.log_spectral_norm - base.log_spectral_norm - shift).abs() < 1e-12);
            if k > 0 {
                // every eigenvalue still above the threshold: the same fit, xmin scaled
                assert_eq!(
                    (m.alpha, m.ks_distance, m.tail),
                    (base.alpha, base.ks_distance, base.tail)
                );
                assert_eq!(m.xmin, ldexp(base.xmin, 2 * k), "{k}");
                assert!(
                    (m.alpha_weighted - base.alpha * (base.log_spectral_norm + shift)).abs() < 1e-9
                );
            } else {
                // every eigenvalue below WeightWatcher's 1e-5: no fit, as WeightWatcher
                assert!(m.alpha.is_nan() && m.xmin.is_nan() && m.tail == 0);
            }
        }
    }

    #[test]
    fn norm_metrics_follow_their_definitions() {
        let sv = [4.0, 2.0, 1.0, 0.0];
        let e = esd_metrics(&sv, 4, 6).unwrap();
        assert_eq!(e.lambda_max, 16.0);
        assert!((e.log_norm - 21f64.log10()).abs() < 1e-15);
        assert!((e.log_spectral_norm - 16f64.log10()).abs() < 1e-15);
        assert!((e.stable_rank - 21.0 / 16.0).abs() < 1e-15);
        let p: Vec<f64> = [16.0, 4.0, 1.0, 0.0]
            .iter()
            .map(|l| l / 21.0 + 1e-10)
            .collect();
        let h = -p.iter().map(|q| q * q.ln()).sum::<f64>() / (3.0f64 + 1e-10).ln();
        assert!((e.entropy - h).abs() < 1e-14);
        assert!((e.alpha_weighted - e.alpha * 16f64.log10()).abs() < 1e-14);
        assert!(esd_metrics(&[0.0, 0.0], 2, 2).is_err());
    }
}
