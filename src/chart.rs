//! Power-law charts and their residuals (SPEC §3.3–§3.5).
//!
//! A chart maps a spectrum s_1 ≥ … ≥ s_k ≥ 0 (k = width) to a rank exponent α̂ ≥ 0 of the
//! power-law orbit p_i(α) = i^{−2α}/H_k(2α) of [`crate::orbit`]:
//!
//! * [`Chart::Ls`], the **least-squares chart** on a rank window W ⊆ {1..k′}, |W| ≥ 2:
//!   α_LS = −Σ_{i∈W} w_i log s_i with w_i = (ℓ_i − ℓ̄_W)/Σ_{j∈W}(ℓ_j − ℓ̄_W)², ℓ_i = log i
//!   (minus the OLS slope of log s_i against log i; scale-invariant, exact on the orbit);
//! * [`Chart::Top`], the **top-radial chart** α_top = R_k^{−1}(r), r = ½ log(k·p_1) (bracketed
//!   Newton; exact on the orbit by construction, ε ≡ 0);
//! * [`Chart::Metric`], the **metric (Hellinger/Bures) chart** α_H = argmin_α ‖√p − √p(α)‖₂
//!   (the pinned grid + bounded Brent algorithm of SPEC §3.4).
//!
//! Every fit reports its residuals: the signed orbit-chart residual ε = r − R_k(α̂) (nats) and the
//! Hellinger residual δ_H = ‖√p − √p(α̂)‖₂ (dimensionless; the Bures residual is √k·δ_H).
//!
//! Edge cases (SPEC §9): k = 1 gives α = NaN (and NaN residuals); a spectrum with a single
//! singular value above [`TAU_LS`]·s_1 has no default LS window and gives α_LS = NaN; a rank-1
//! spectrum gives α_top = α_H = +∞ (residuals at the point mass e_1). The zero spectrum is an
//! error here ([`Error::ZeroMatrix`]); the Python layer turns it into NaN.

use crate::error::{Error, Result};
use crate::orbit;
use crate::parallel::{try_map, Cancel};
use crate::rank;
use crate::spectrum::{self, check_spectrum};
use crate::sum::neumaier_sum;

/// Relative threshold of the default LS window: W = {1..k″}, k″ = #{i : s_i > τ_LS·s_1}. Singular
/// values below τ_LS·s_1 are treated as noise, so two SVD libraries that differ by O(ε‖A‖) in the
/// tiny values give the same α_LS.
pub const TAU_LS: f64 = 1e-8;

/// The metric chart's pinned grid (SPEC §3.4) as evenly spaced parts (origin, step, first j,
/// last j), point α = origin + step·j: {0.01 j : j = 0..300} ∪ {3 + 0.05 j : j = 1..340}.
const METRIC_GRID_PARTS: [(f64, f64, usize, usize); 2] = [(0.0, 0.01, 0, 300), (3.0, 0.05, 1, 340)];
/// Absolute x-tolerance of the bounded Brent refinement.
const BRENT_XATOL: f64 = 1e-12;
/// Iteration cap of the bounded Brent refinement (scipy's default).
const BRENT_MAXITER: usize = 500;

/// Which power-law chart to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chart {
    /// Least squares of log s_i against log i on a rank window (SPEC §3.3).
    Ls,
    /// Inverse of the top-radial chart R_k (SPEC §3.2).
    Top,
    /// Hellinger (Bures) projection onto the orbit (SPEC §3.4).
    Metric,
}

impl Chart {
    /// Parses `"ls"`, `"top"` or `"metric"`.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "ls" => Ok(Chart::Ls),
            "top" => Ok(Chart::Top),
            "metric" => Ok(Chart::Metric),
            other => Err(Error::invalid(
                "chart",
                format!("must be 'ls', 'top' or 'metric', got {other:?}"),
            )),
        }
    }

    /// The name accepted by [`Chart::parse`].
    pub fn name(self) -> &'static str {
        match self {
            Chart::Ls => "ls",
            Chart::Top => "top",
            Chart::Metric => "metric",
        }
    }
}

/// The rank window of the LS chart. Only [`Chart::Ls`] takes a window; the other charts use all
/// k ranks and accept only [`Window::Default`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Window {
    /// W = {1..k″}, k″ = #{i : s_i > [`TAU_LS`]·s_1} (capped at the numerical rank k′).
    #[default]
    Default,
    /// W = {lo..=hi}, 1-based and inclusive, 1 ≤ lo < hi ≤ k′.
    Ranks {
        /// First rank (1-based).
        lo: usize,
        /// Last rank (inclusive).
        hi: usize,
    },
    /// W = [erank_lo, erank_hi], effective-rank quantiles (SPEC §8), 0 < lo ≤ hi ≤ 1.
    Quantiles {
        /// Lower energy quantile τ_lo.
        lo: f64,
        /// Upper energy quantile τ_hi.
        hi: f64,
    },
}

/// A fitted power-law chart value and its residuals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    /// Rank exponent α̂ (s_i ∝ i^{−α}); +∞ for a spectrum steeper than the chart can resolve,
    /// NaN when undefined (k = 1, no LS window).
    pub alpha: f64,
    /// Energy exponent β = 2α̂ (λ_i = s_i² ∝ i^{−β}).
    pub beta: f64,
    /// The chart that produced α̂.
    pub chart: Chart,
    /// The rank window used, 1-based inclusive ((1, k) for the top and metric charts).
    pub window: (usize, usize),
    /// Signed orbit-chart residual ε = r − R_k(α̂) (nats).
    pub epsilon: f64,
    /// Hellinger residual δ_H = ‖√p − √p_k(α̂)‖₂ (dimensionless).
    pub hellinger: f64,
}

/// Numerical rank k′ of a spectrum whose matrix shape is unknown: #{s_i > k·ε·s_1} (the tolerance
/// max(m, n)·ε·s_1 of SPEC §2 with max(m, n) read as k).
fn spectrum_rank(sv: &[f64]) -> usize {
    spectrum::numerical_rank(sv, sv.len(), sv.len())
}

/// LS weights w_i = (ℓ_i − ℓ̄_W)/Σ_{j∈W}(ℓ_j − ℓ̄_W)², ℓ_i = log i, for the window
/// W = {lo..=hi} (1-based, inclusive); entry j of the result belongs to rank lo + j.
///
/// Σ w_i = 0 and Σ w_i ℓ_i = 1, so α_LS = −Σ w_i log s_i is exact on the orbit for every W.
/// ‖w‖₁ for W = {1..d}: 1.18435 (d = 10), 0.82688 (100), 0.75372 (1e3), 0.73624 (1e5), → 2/e.
///
/// Errors: lo = 0 or hi ≤ lo (`window`).
pub fn ls_weights(lo: usize, hi: usize) -> Result<Vec<f64>> {
    if lo == 0 || hi <= lo {
        return Err(Error::invalid(
            "window",
            format!("ranks must satisfy 1 <= lo < hi (at least 2 ranks), got ({lo}, {hi})"),
        ));
    }
    let logs: Vec<f64> = (lo..=hi).map(|i| (i as f64).ln()).collect();
    let mean = neumaier_sum(logs.iter().copied()) / logs.len() as f64;
    let centred: Vec<f64> = logs.iter().map(|l| l - mean).collect();
    let ss = neumaier_sum(centred.iter().map(|c| c * c));
    Ok(centred.into_iter().map(|c| c / ss).collect())
}

/// The rank window an LS fit of `sv` uses, validated against the numerical rank k′.
fn resolve_window(sv: &[f64], window: Window) -> Result<(usize, usize)> {
    let k_num = spectrum_rank(sv);
    let (lo, hi) = match window {
        Window::Default => {
            let threshold = TAU_LS * sv[0];
            let k2 = sv.iter().take_while(|&&s| s > threshold).count();
            return Ok((1, k2.min(k_num)));
        }
        Window::Ranks { lo, hi } => (lo, hi),
        Window::Quantiles { lo, hi } => {
            if !(lo > 0.0 && lo <= 1.0 && hi > 0.0 && hi <= 1.0 && lo <= hi) {
                return Err(Error::invalid(
                    "window",
                    format!("quantiles must satisfy 0 < lo <= hi <= 1, got ({lo}, {hi})"),
                ));
            }
            rank::rank_window(sv, lo, hi)?
        }
    };
    if lo == 0 || hi <= lo || hi > k_num {
        return Err(Error::invalid(
            "window",
            format!(
                "the window must be ranks lo..=hi with 1 <= lo < hi <= k' = {k_num} (the \
                 numerical rank of a width-{} spectrum), got ({lo}, {hi}){}",
                sv.len(),
                match window {
                    Window::Quantiles { lo: a, hi: b } => format!(" from the quantiles ({a}, {b})"),
                    _ => String::new(),
                }
            ),
        ));
    }
    Ok((lo, hi))
}

/// Completes a fit from α̂: ε = r − R_k(α̂) and δ_H = ‖√p − √p_k(α̂)‖₂.
fn finish(sv: &[f64], alpha: f64, chart: Chart, window: (usize, usize)) -> Result<Fit> {
    let k = sv.len();
    let (epsilon, hellinger) = if alpha.is_nan() {
        (f64::NAN, f64::NAN)
    } else {
        let r = spectrum::top_radial(sv)?;
        let e = residual_vector(sv, alpha)?;
        (
            r - orbit::top_radial_unchecked(k, alpha),
            neumaier_sum(e.iter().map(|x| x * x)).sqrt(),
        )
    };
    Ok(Fit {
        alpha,
        beta: 2.0 * alpha,
        chart,
        window,
        epsilon,
        hellinger,
    })
}

/// The fit of a width-1 spectrum: every chart is undefined (SPEC §9).
fn width_one(chart: Chart) -> Fit {
    Fit {
        alpha: f64::NAN,
        beta: f64::NAN,
        chart,
        window: (1, 1),
        epsilon: f64::NAN,
        hellinger: f64::NAN,
    }
}

/// Least-squares chart α_LS = −Σ_{i∈W} w_i log s_i on the window W ([`ls_weights`]), with its
/// residuals.
///
/// Invariant under scaling of `sv`; exact on the orbit for every window. The default window is
/// {1..k″} (see [`TAU_LS`]); a default window of one rank (a numerically rank-1 spectrum) gives
/// α = NaN. Explicit windows must lie in 1..=k′ with at least 2 ranks.
///
/// Errors: a bad spectrum (`sv`: empty, non-finite, negative, unsorted, zero), a window outside
/// 1..=k′ or with fewer than 2 ranks or with quantiles outside (0, 1] (`window`).
pub fn fit_ls(sv: &[f64], window: Window) -> Result<Fit> {
    check_spectrum(sv, "sv")?;
    if sv.len() == 1 {
        if let Window::Ranks { lo, hi } = window {
            if (lo, hi) != (1, 1) {
                return Err(Error::invalid(
                    "window",
                    format!("must lie in 1..=1 for a width-1 spectrum, got ({lo}, {hi})"),
                ));
            }
        }
        return Ok(width_one(Chart::Ls));
    }
    let (lo, hi) = resolve_window(sv, window)?;
    if hi <= lo {
        return finish(sv, f64::NAN, Chart::Ls, (lo, hi));
    }
    let w = ls_weights(lo, hi)?;
    let s1 = sv[0];
    let alpha = -neumaier_sum(
        w.iter()
            .zip(&sv[lo - 1..hi])
            .map(|(wi, s)| wi * (s / s1).ln()),
    );
    finish(sv, alpha, Chart::Ls, (lo, hi))
}

/// α_top = R_k^{−1}(r) for r ∈ (0, ½ log k) by bracketed Newton (SPEC §3.2): bracket [0, 1],
/// doubling the upper end until R(hi) ≥ r; Newton steps f/R′, bisection when a step leaves the
/// bracket; stop at |f| ≤ 4ε|r| or a relative step ≤ 1e−13.
fn invert_top_radial(k: usize, r: f64) -> f64 {
    let curve = orbit::TopRadialCurve::new(k);
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    let mut doublings = 0;
    while curve.value_and_slope(hi).0 < r {
        lo = hi;
        hi *= 2.0;
        doublings += 1;
        if doublings > 60 {
            return f64::INFINITY;
        }
    }
    let mut x = 0.5 * (lo + hi);
    for _ in 0..200 {
        let (value, slope) = curve.value_and_slope(x);
        let f = value - r;
        if f.abs() <= 4.0 * f64::EPSILON * r.abs() {
            return x;
        }
        if f < 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let newton = x - f / slope;
        let next = if slope > 0.0 && newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        if (next - x).abs() <= 1e-13 * x.abs() {
            return next;
        }
        x = next;
    }
    x
}

/// Top-radial chart α_top = R_k^{−1}(r(X)) with its residuals (ε ≡ 0 up to rounding).
///
/// r ≤ 0 (all singular values equal) gives 0; r ≥ ½ log k (rank 1) gives +∞; k = 1 gives NaN.
///
/// Errors: a bad spectrum (`sv`).
pub fn fit_top(sv: &[f64]) -> Result<Fit> {
    check_spectrum(sv, "sv")?;
    let k = sv.len();
    if k == 1 {
        return Ok(width_one(Chart::Top));
    }
    let r = spectrum::top_radial(sv)?;
    let alpha = if r <= 0.0 {
        0.0
    } else if r >= 0.5 * (k as f64).ln() {
        f64::INFINITY
    } else {
        invert_top_radial(k, r)
    };
    finish(sv, alpha, Chart::Top, (1, k))
}

/// The points of [`METRIC_GRID_PARTS`], in order.
fn metric_grid() -> Vec<f64> {
    METRIC_GRID_PARTS
        .iter()
        .flat_map(|&(origin, step, first, last)| {
            (first..=last).map(move |j| origin + step * j as f64)
        })
        .collect()
}

/// (½ log p_i, log i) over the support p_i > 0 of the energy distribution `p`.
fn metric_terms(p: &[f64]) -> Vec<(f64, f64)> {
    p.iter()
        .enumerate()
        .filter(|(_, &pi)| pi > 0.0)
        .map(|(i, &pi)| (0.5 * pi.ln(), ((i + 1) as f64).ln()))
        .collect()
}

/// The metric chart's objective g(α) = logsumexp_i(½ log p_i − α log i) − ½ log H_k(2α), from the
/// support's [`metric_terms`], shifted by its largest term and Neumaier-summed.
fn metric_objective(terms: &[(f64, f64)], k: usize, alpha: f64) -> f64 {
    let max = terms
        .iter()
        .map(|(h, l)| h - alpha * l)
        .fold(f64::NEG_INFINITY, f64::max);
    let s = neumaier_sum(terms.iter().map(|(h, l)| (h - alpha * l - max).exp()));
    max + s.ln() - 0.5 * orbit::log_h(k, 2.0 * alpha)
}

/// [`metric_objective`], g(α) = log Σ_{i: p_i>0} √p_i·i^{−α} − ½ log Σ_{i≤k} i^{−2α}, at every
/// point of [`metric_grid`], in its order, by running powers: along each evenly spaced part of
/// the grid x_i = i^{−α} is multiplied by i^{−Δα}, so the 641 points cost two products a rank and
/// no exponential (one grid scan drops from ~1,300·k exponentials to 2k). The sums need
/// no shift: the i = 1 terms √p_1 ≥ 1/√k and 1 bound them from below, and terms that underflow are
/// negligible beside them. Each value carries a relative error of a few hundred ε (the running
/// products); it only selects the Brent bracket, which is then refined on the exact objective.
fn metric_grid_values(p: &[f64]) -> Vec<f64> {
    let log_rank: Vec<f64> = (1..=p.len()).map(|i| (i as f64).ln()).collect();
    let sqrt_p: Vec<f64> = p.iter().map(|pi| pi.sqrt()).collect();
    let mut values = Vec::new();
    for (origin, step, first, last) in METRIC_GRID_PARTS {
        let start = origin + step * first as f64;
        let mut x: Vec<f64> = log_rank.iter().map(|l| (-start * l).exp()).collect();
        let ratio: Vec<f64> = log_rank.iter().map(|l| (-step * l).exp()).collect();
        for _ in first..=last {
            let (mut weighted, mut squares) = (0.0, 0.0);
            for ((xi, sp), r) in x.iter_mut().zip(&sqrt_p).zip(&ratio) {
                weighted += sp * *xi;
                squares += *xi * *xi;
                *xi *= r;
            }
            values.push(weighted.ln() - 0.5 * squares.ln());
        }
    }
    values
}

/// Bounded Brent minimisation of `f` on [a, b] with absolute x-tolerance `xatol` (the algorithm of
/// scipy's `minimize_scalar(method="bounded")`, so that implementations agree): golden-section
/// steps with parabolic interpolation, tolerance √ε·|x| + xatol/3.
fn brent_bounded(mut f: impl FnMut(f64) -> f64, a: f64, b: f64, xatol: f64) -> f64 {
    let sqrt_eps = 2.2e-16f64.sqrt();
    let golden_mean = 0.5 * (3.0 - 5f64.sqrt());
    let (mut a, mut b) = (a, b);
    let mut fulc = a + golden_mean * (b - a);
    let mut nfc = fulc;
    let mut xf = fulc;
    let (mut rat, mut e) = (0.0f64, 0.0f64);
    let mut fx = f(xf);
    let mut num = 1;
    let (mut ffulc, mut fnfc) = (fx, fx);
    let mut xm = 0.5 * (a + b);
    let mut tol1 = sqrt_eps * xf.abs() + xatol / 3.0;
    let mut tol2 = 2.0 * tol1;
    while (xf - xm).abs() > tol2 - 0.5 * (b - a) {
        let mut golden = true;
        if e.abs() > tol1 {
            golden = false;
            let mut r = (xf - nfc) * (fx - ffulc);
            let mut q = (xf - fulc) * (fx - fnfc);
            let mut p = (xf - fulc) * q - (xf - nfc) * r;
            q = 2.0 * (q - r);
            if q > 0.0 {
                p = -p;
            }
            q = q.abs();
            r = e;
            e = rat;
            if p.abs() < (0.5 * q * r).abs() && p > q * (a - xf) && p < q * (b - xf) {
                rat = p / q;
                let x = xf + rat;
                if (x - a) < tol2 || (b - x) < tol2 {
                    let si = if xm - xf >= 0.0 { 1.0 } else { -1.0 };
                    rat = tol1 * si;
                }
            } else {
                golden = true;
            }
        }
        if golden {
            e = if xf >= xm { a - xf } else { b - xf };
            rat = golden_mean * e;
        }
        let si = if rat >= 0.0 { 1.0 } else { -1.0 };
        let x = xf + si * rat.abs().max(tol1);
        let fu = f(x);
        num += 1;
        if fu <= fx {
            if x >= xf {
                a = xf;
            } else {
                b = xf;
            }
            fulc = nfc;
            ffulc = fnfc;
            nfc = xf;
            fnfc = fx;
            xf = x;
            fx = fu;
        } else {
            if x < xf {
                a = x;
            } else {
                b = x;
            }
            if fu <= fnfc || nfc == xf {
                fulc = nfc;
                ffulc = fnfc;
                nfc = x;
                fnfc = fu;
            } else if fu <= ffulc || fulc == xf || fulc == nfc {
                fulc = x;
                ffulc = fu;
            }
        }
        xm = 0.5 * (a + b);
        tol1 = sqrt_eps * xf.abs() + xatol / 3.0;
        tol2 = 2.0 * tol1;
        if num >= BRENT_MAXITER {
            break;
        }
    }
    xf
}

/// Metric (Hellinger/Bures projection) chart α_H = argmin_{α≥0} ‖√p − √p_k(α)‖₂ with its
/// residuals, by the pinned algorithm of SPEC §3.4: maximise
/// g(α) = logsumexp_{i: p_i>0}(½ log p_i − α log i) − ½ log H_k(2α) on the grid
/// {0.01 j : j = 0..300} ∪ {3 + 0.05 j : j = 1..340}; at the first maximiser j*, return +∞ if it is
/// the last grid point (steeper than the orbit at α = 20), else refine by bounded Brent
/// (xatol 1e−12) on [G_{max(j*−1, 0)}, G_{j*+1}]. Exact on the orbit (to ~1e−8); k = 1 gives NaN.
///
/// Errors: a bad spectrum (`sv`).
pub fn fit_metric(sv: &[f64]) -> Result<Fit> {
    check_spectrum(sv, "sv")?;
    let k = sv.len();
    if k == 1 {
        return Ok(width_one(Chart::Metric));
    }
    let p = spectrum::energy(sv)?;
    let terms = metric_terms(&p);
    let g = |alpha: f64| metric_objective(&terms, k, alpha);
    let grid = metric_grid();
    let mut best = 0usize;
    let mut best_value = f64::NEG_INFINITY;
    for (j, v) in metric_grid_values(&p).into_iter().enumerate() {
        if v > best_value {
            best_value = v;
            best = j;
        }
    }
    let alpha = if best == grid.len() - 1 {
        f64::INFINITY
    } else {
        let lo = grid[best.saturating_sub(1)];
        let hi = grid[best + 1];
        brent_bounded(|a| -g(a), lo, hi, BRENT_XATOL)
    };
    finish(sv, alpha, Chart::Metric, (1, k))
}

/// Fits `chart` to the spectrum `sv` (descending singular values; k = `sv.len()`).
///
/// `window` applies to [`Chart::Ls`] only; the top and metric charts use all k ranks and require
/// [`Window::Default`]. Errors: see [`fit_ls`], [`fit_top`], [`fit_metric`], and a non-default
/// window with another chart (`window`).
pub fn fit(sv: &[f64], chart: Chart, window: Window) -> Result<Fit> {
    match chart {
        Chart::Ls => fit_ls(sv, window),
        Chart::Top | Chart::Metric if window != Window::Default => Err(Error::invalid(
            "window",
            format!(
                "only the 'ls' chart takes a window; the '{}' chart uses every rank",
                chart.name()
            ),
        )),
        Chart::Top => fit_top(sv),
        Chart::Metric => fit_metric(sv),
    }
}

/// The index of spectrum `index` of a batch, written into an error.
fn at_index(e: Error, index: usize) -> Error {
    match e {
        Error::NonFinite { arg, row, col, .. } => Error::NonFinite {
            arg,
            index,
            row,
            col,
        },
        Error::Empty {
            arg, rows, cols, ..
        } => Error::Empty {
            arg,
            index,
            rows,
            cols,
        },
        Error::ZeroMatrix { arg, .. } => Error::ZeroMatrix { arg, index },
        Error::InvalidArgument { arg, reason } => Error::InvalidArgument {
            arg,
            reason: format!("spectrum {index}: {reason}"),
        },
        other => other,
    }
}

/// [`fit`] of every spectrum of a batch, in parallel across spectra on the current rayon pool, in
/// input order. Errors carry the index of the first failing spectrum; a set `cancel` flag stops
/// the batch with [`Error::Cancelled`].
pub fn fit_batch(
    spectra: &[Vec<f64>],
    chart: Chart,
    window: Window,
    cancel: &Cancel,
) -> Result<Vec<Fit>> {
    try_map(spectra, cancel, |i, sv| {
        fit(sv, chart, window).map_err(|e| at_index(e, i))
    })
}

/// Hellinger residual vector e = √p − √p_k(α) ∈ ℝ^k of a spectrum against the orbit point of
/// exponent α (dimensionless); δ_H = ‖e‖₂, and the Bures residual is √k·‖e‖₂. α = +∞ uses the
/// point mass e_1.
///
/// Errors: a bad spectrum (`sv`), α NaN or negative (`alpha`).
pub fn residual_vector(sv: &[f64], alpha: f64) -> Result<Vec<f64>> {
    let p = spectrum::energy(sv)?;
    let q = orbit::probabilities(sv.len(), alpha)?;
    Ok(p.iter().zip(&q).map(|(a, b)| a.sqrt() - b.sqrt()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn orbit_sv(d: usize, alpha: f64) -> Vec<f64> {
        (1..=d).map(|i| (i as f64).powf(-alpha)).collect()
    }

    #[test]
    fn worked_example_3_5() {
        let q = [0.48f64, 0.30, 0.12, 0.10];
        let sv: Vec<f64> = q.iter().map(|x| x.sqrt()).collect();
        let top = fit_top(&sv).unwrap();
        assert!((top.alpha - 0.5).abs() < 1e-9, "{top:?}");
        let ls = fit_ls(&sv, Window::Default).unwrap();
        assert!((ls.alpha - 0.600533).abs() < 5e-7, "{ls:?}");
        assert!((ls.epsilon + 0.048324).abs() < 5e-7, "{ls:?}");
        assert!((ls.hellinger - 0.081823).abs() < 5e-7, "{ls:?}");
        assert_eq!(ls.window, (1, 4));
        let h = fit_metric(&sv).unwrap();
        assert!((h.alpha - 0.557542).abs() < 5e-7, "{h:?}");
        assert!((h.hellinger - 0.078593).abs() < 5e-7, "{h:?}");
    }

    #[test]
    fn ls_weight_norms() {
        for (d, norm) in [(10usize, 1.18435), (100, 0.82688), (1000, 0.75372)] {
            let w = ls_weights(1, d).unwrap();
            let l1: f64 = w.iter().map(|x| x.abs()).sum();
            assert!((l1 - norm).abs() < 5e-6, "{d} {l1}");
            assert!(w.iter().sum::<f64>().abs() < 1e-12);
        }
    }

    #[test]
    fn metric_grid_values_match_the_objective() {
        let mut state = 7u64;
        let grid = metric_grid();
        for case in 0..40 {
            let k = [2, 3, 17, 64, 300, 5000][case % 6];
            let alpha = 0.05 * case as f64;
            let mut sv: Vec<f64> = (1..=k)
                .map(|i| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let noise = 1.0 + 0.3 * ((state >> 11) as f64 / (1u64 << 53) as f64);
                    (i as f64).powf(-alpha) * noise
                })
                .collect();
            if case % 5 == 0 {
                sv[k - 1] = 0.0;
            }
            sv.sort_by(|a, b| b.total_cmp(a));
            let p = spectrum::energy(&sv).unwrap();
            let terms = metric_terms(&p);
            let fast = metric_grid_values(&p);
            assert_eq!(fast.len(), grid.len());
            for (v, &a) in fast.iter().zip(&grid) {
                let exact = metric_objective(&terms, k, a);
                assert!(
                    (v - exact).abs() <= 1e-12 * exact.abs().max(1.0),
                    "k {k} α {a}: {v} vs {exact}"
                );
            }
        }
    }

    #[test]
    fn edge_cases() {
        let one = fit(&[2.0], Chart::Ls, Window::Default).unwrap();
        assert!(one.alpha.is_nan() && one.epsilon.is_nan());
        assert!(fit_top(&[3.0]).unwrap().alpha.is_nan());
        assert!(fit_metric(&[3.0]).unwrap().alpha.is_nan());
        let rank1 = [1.0, 0.0, 0.0];
        assert_eq!(fit_top(&rank1).unwrap().alpha, f64::INFINITY);
        let m = fit_metric(&rank1).unwrap();
        assert_eq!(m.alpha, f64::INFINITY);
        assert!(m.hellinger.abs() < 1e-15 && m.epsilon.abs() < 1e-15);
        assert!(fit_ls(&rank1, Window::Default).unwrap().alpha.is_nan());
        assert_eq!(fit_top(&[2.0, 2.0, 2.0]).unwrap().alpha, 0.0);
        let flat = fit_ls(&[2.0, 2.0, 2.0], Window::Default).unwrap();
        assert!(flat.alpha.abs() < 1e-15);
    }

    #[test]
    fn bad_windows_and_charts_are_rejected() {
        let sv = orbit_sv(10, 0.7);
        let arg = |e: Error| match e {
            Error::InvalidArgument { arg, .. } => arg,
            other => panic!("unexpected {other:?}"),
        };
        for w in [
            Window::Ranks { lo: 0, hi: 3 },
            Window::Ranks { lo: 3, hi: 3 },
            Window::Ranks { lo: 2, hi: 11 },
            Window::Quantiles { lo: 0.0, hi: 0.5 },
            Window::Quantiles { lo: 0.9, hi: 0.5 },
            Window::Quantiles { lo: 0.5, hi: 1.5 },
            Window::Quantiles { lo: 0.01, hi: 0.02 },
        ] {
            assert_eq!(arg(fit_ls(&sv, w).unwrap_err()), "window", "{w:?}");
        }
        let w = Window::Ranks { lo: 1, hi: 3 };
        assert_eq!(arg(fit(&sv, Chart::Top, w).unwrap_err()), "window");
        assert_eq!(arg(Chart::parse("LS").unwrap_err()), "chart");
        let deficient = [1.0, 0.5, 0.0, 0.0];
        assert_eq!(
            arg(fit_ls(&deficient, Window::Ranks { lo: 1, hi: 3 }).unwrap_err()),
            "window"
        );
        assert!(matches!(
            fit_ls(&[0.0, 0.0], Window::Default),
            Err(Error::ZeroMatrix { .. })
        ));
        assert!(matches!(
            fit_metric(&[1.0, f64::NAN]),
            Err(Error::NonFinite { .. })
        ));
        assert_eq!(arg(residual_vector(&sv, -1.0).unwrap_err()), "alpha");
    }

    #[test]
    fn batch_matches_single_fits_and_reports_the_index() {
        let spectra: Vec<Vec<f64>> = (0..6).map(|j| orbit_sv(20 + j, 0.1 * j as f64)).collect();
        let fits = fit_batch(&spectra, Chart::Metric, Window::Default, &Cancel::new()).unwrap();
        for (sv, f) in spectra.iter().zip(&fits) {
            assert_eq!(*f, fit(sv, Chart::Metric, Window::Default).unwrap());
        }
        let mut bad = spectra.clone();
        bad[3][2] = f64::NAN;
        match fit_batch(&bad, Chart::Ls, Window::Default, &Cancel::new()) {
            Err(Error::NonFinite { index, .. }) => assert_eq!(index, 3),
            other => panic!("unexpected {other:?}"),
        }
        let cancel = Cancel::new();
        cancel.cancel();
        assert_eq!(
            fit_batch(&spectra, Chart::Ls, Window::Default, &cancel),
            Err(Error::Cancelled)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn every_chart_is_exact_on_the_orbit(d in 2usize..400, alpha in 0.0f64..3.0, scale in 1e-3f64..1e3) {
            let sv: Vec<f64> = orbit_sv(d, alpha).into_iter().map(|s| s * scale).collect();
            let ls = fit_ls(&sv, Window::Default).unwrap();
            prop_assert!((ls.alpha - alpha).abs() <= 1e-9 * (1.0 + alpha));
            prop_assert!(ls.hellinger <= 1e-7 && ls.epsilon.abs() <= 1e-9);
            let lo = 1 + d / 3;
            if d - lo >= 1 {
                let w = fit_ls(&sv, Window::Ranks { lo, hi: d }).unwrap();
                prop_assert!((w.alpha - alpha).abs() <= 1e-9 * (1.0 + alpha));
            }
            let top = fit_top(&sv).unwrap();
            prop_assert!((top.alpha - alpha).abs() <= 1e-8 * (1.0 + alpha), "{top:?}");
            let h = fit_metric(&sv).unwrap();
            prop_assert!((h.alpha - alpha).abs() <= 1e-6, "{h:?}");
        }

        #[test]
        fn charts_are_scale_invariant(
            sv in proptest::collection::vec(1e-3f64..1.0, 2..40),
            scale in 1e-3f64..1e3,
        ) {
            let mut sv = sv;
            sv.sort_by(|a, b| b.total_cmp(a));
            let scaled: Vec<f64> = sv.iter().map(|s| s * scale).collect();
            for chart in [Chart::Ls, Chart::Top, Chart::Metric] {
                let a = fit(&sv, chart, Window::Default).unwrap();
                let b = fit(&scaled, chart, Window::Default).unwrap();
                // The metric chart's Brent refinement stops at √ε·|α| + xatol/3 (~1e−8).
                let tol = if chart == Chart::Metric { 1e-6 } else { 1e-9 };
                prop_assert!((a.alpha - b.alpha).abs() <= tol * (1.0 + a.alpha.abs()), "{chart:?} {a:?} {b:?}");
            }
        }
    }
}
