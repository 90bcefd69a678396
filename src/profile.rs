//! Exponent profiles of a chain: the per-step chart quantities that the theorems of SPEC §6 take
//! as input, computed in one streaming pass (as the per-step analysis of
//! [`ChainEngine`](crate::chain::ChainEngine)).
//!
//! For every factor J_l (profile of the **factors**, used by Theorem R1 and shown by
//! `Chain.profile()`): top-radial r, α̂ of each chart with its window, signed residual ε and
//! Hellinger residual δ_H, effective ranks at τ = 0.5, 0.9, 0.99, stable rank, and the interface
//! amplitude log ρ.
//!
//! For every prefix X_l = P_l (profile of the **product**, used by Theorem R2 and §6.3–§6.5), with
//! X_0 = I (α̂_0 = 0, ε_0 = 0, e_0 = 0): α̂_l, ε_l, δ_H of each chart; the residual variations
//! ν_l = ‖e_l − e_{l−1}‖₂ of the Hellinger residual vectors e = √p − √p(α̂); the energy step
//! ‖√p_l − √p_{l−1}‖₂; the orbit distance η_l = ‖â(X_l) − a(α̂_l)‖_∞ of §6.4; and ‖w‖₁ of the
//! least-squares weights on the LS window (for R2(e)).

use crate::chain::StepSpectra;
use crate::chart::{self, Chart, Window};
use crate::error::{Error, Result};
use crate::orbit;
use crate::rank;
use crate::spectrum;

/// The energy quantiles τ at which effective ranks are reported.
pub const TAUS: [f64; 3] = [0.5, 0.9, 0.99];

/// Which charts to fit, and on which window.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileOptions {
    /// Charts to fit at every step (the metric chart costs about 640 log-sum-exps of width d).
    pub charts: Vec<Chart>,
    /// Window of the least-squares chart.
    pub window: Window,
}

/// One chart's columns along the chain (one entry per step).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChartColumns {
    /// Fitted rank exponent α̂.
    pub alpha: Vec<f64>,
    /// First rank of the window used (1-based).
    pub window_lo: Vec<usize>,
    /// Last rank of the window used (1-based, inclusive).
    pub window_hi: Vec<usize>,
    /// Signed residual ε = r − R_k(α̂).
    pub epsilon: Vec<f64>,
    /// Hellinger residual δ_H = ‖√p − √p(α̂)‖₂.
    pub hellinger: Vec<f64>,
}

/// Per-factor profile.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FactorProfile {
    /// Stable rank ‖J‖_F²/‖J‖².
    pub stable_rank: Vec<f64>,
    /// Effective ranks at each τ of [`TAUS`].
    pub erank: [Vec<usize>; 3],
    /// One entry per chart of [`ProfileOptions::charts`].
    pub charts: Vec<ChartColumns>,
}

/// Per-prefix profile (X_l = P_l, l = 1..L; X_0 = I is implicit).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PrefixProfile {
    /// Width k of each prefix.
    pub width: Vec<usize>,
    /// One entry per chart of [`ProfileOptions::charts`].
    pub charts: Vec<ChartColumns>,
    /// ν_l = ‖e_l − e_{l−1}‖₂ per chart.
    pub residual_variation: Vec<Vec<f64>>,
    /// η_l = ‖â(X_l) − a(α̂_l)‖_∞ per chart (+∞ for a rank-deficient prefix).
    pub orbit_distance: Vec<Vec<f64>>,
    /// ‖√p_l − √p_{l−1}‖₂.
    pub energy_step: Vec<f64>,
    /// KL(p_l ‖ p_{l−1}) of the energy distributions (nats; +∞ when p_{l−1} misses mass of p_l).
    pub energy_kl: Vec<f64>,
    /// ‖w‖₁ of the least-squares weights on the window of the LS chart (NaN without one).
    pub ls_weight_norm: Vec<f64>,
}

/// Both profiles.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Profile {
    /// The charts, in column order.
    pub charts: Vec<Chart>,
    /// Per factor.
    pub factors: FactorProfile,
    /// Per prefix.
    pub prefixes: PrefixProfile,
}

/// One step's analysis (computed in parallel), folded into a [`Profile`] by [`ProfileSink`].
#[derive(Debug, Clone)]
pub struct StepProfile {
    factor_fits: Vec<chart::Fit>,
    stable_rank: f64,
    erank: [usize; 3],
    prefix_fits: Vec<chart::Fit>,
    residuals: Vec<Vec<f64>>,
    eta: Vec<f64>,
    sqrt_p: Vec<f64>,
    ls_weight_norm: f64,
}

/// η = max_i |â_i − a_i(α)| with a_i(α) = ½ log(k p_i(α)); +∞ when some â_i = −∞ or α = ∞.
fn orbit_distance(cartan: &[f64], alpha: f64) -> Result<f64> {
    if !alpha.is_finite() || cartan.iter().any(|a| !a.is_finite()) {
        return Ok(f64::INFINITY);
    }
    let k = cartan.len();
    let p = orbit::probabilities(k, alpha)?;
    Ok(cartan
        .iter()
        .zip(&p)
        .map(|(a, q)| (a - 0.5 * (k as f64 * q).ln()).abs())
        .fold(0.0, f64::max))
}

/// The window for `chart`: the LS window for the LS chart, the default (every rank) otherwise.
fn window_for(opts: &ProfileOptions, chart: Chart) -> Window {
    if chart == Chart::Ls {
        opts.window
    } else {
        Window::Default
    }
}

/// [`chart::fit`], with an undefined fit (a window of fewer than two ranks, as in a numerically
/// rank-1 prefix) recorded as NaN instead of failing the chain.
fn fit_or_nan(sv: &[f64], c: Chart, window: Window) -> Result<chart::Fit> {
    match chart::fit(sv, c, window) {
        Err(Error::InvalidArgument { .. }) => Ok(chart::Fit {
            alpha: f64::NAN,
            beta: f64::NAN,
            chart: c,
            window: (0, 0),
            epsilon: f64::NAN,
            hellinger: f64::NAN,
        }),
        other => other,
    }
}

/// The per-step analysis: fits of the factor and of the prefix.
pub fn analyse(opts: &ProfileOptions, step: &StepSpectra<'_>) -> Result<StepProfile> {
    let fsv = step.factor_sv;
    let psv = step.prefix_sv;
    let factor_fits = opts
        .charts
        .iter()
        .map(|&c| fit_or_nan(fsv, c, window_for(opts, c)))
        .collect::<Result<Vec<_>>>()?;
    let prefix_fits = opts
        .charts
        .iter()
        .map(|&c| fit_or_nan(psv, c, window_for(opts, c)))
        .collect::<Result<Vec<_>>>()?;
    let cartan = spectrum::normalized_cartan(psv)?;
    let mut residuals = Vec::with_capacity(prefix_fits.len());
    let mut eta = Vec::with_capacity(prefix_fits.len());
    for f in &prefix_fits {
        residuals.push(if !f.alpha.is_nan() {
            chart::residual_vector(psv, f.alpha)?
        } else {
            vec![f64::NAN; psv.len()]
        });
        eta.push(orbit_distance(&cartan, f.alpha)?);
    }
    let ls_weight_norm = prefix_fits
        .iter()
        .find(|f| f.chart == Chart::Ls && f.window.1 > f.window.0)
        .map_or(Ok(f64::NAN), |f| {
            chart::ls_weights(f.window.0, f.window.1).map(|w| w.iter().map(|x| x.abs()).sum())
        })?;
    let er = rank::effective_ranks(fsv, &TAUS)?;
    Ok(StepProfile {
        factor_fits,
        stable_rank: rank::stable_rank(fsv)?,
        erank: [er[0], er[1], er[2]],
        prefix_fits,
        residuals,
        eta,
        sqrt_p: spectrum::energy(psv)?.iter().map(|p| p.sqrt()).collect(),
        ls_weight_norm,
    })
}

/// ‖a − b‖₂, NaN when the lengths differ.
fn distance(a: &[f64], b: &[f64]) -> f64 {
    if a.len() != b.len() {
        return f64::NAN;
    }
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// KL(p ‖ q) from √p and √q, NaN when the lengths differ.
fn kl(sqrt_p: &[f64], sqrt_q: &[f64]) -> f64 {
    if sqrt_p.len() != sqrt_q.len() {
        return f64::NAN;
    }
    sqrt_p
        .iter()
        .zip(sqrt_q)
        .filter(|(a, _)| **a > 0.0)
        .map(|(a, b)| 2.0 * a * a * (a / b).ln())
        .sum()
}

fn push_fit(col: &mut ChartColumns, f: &chart::Fit) {
    col.alpha.push(f.alpha);
    col.window_lo.push(f.window.0);
    col.window_hi.push(f.window.1);
    col.epsilon.push(f.epsilon);
    col.hellinger.push(f.hellinger);
}

/// Folds step analyses, in chain order, into a [`Profile`] (keeping only the previous step's
/// vectors: memory O(d)).
#[derive(Debug, Clone)]
pub struct ProfileSink {
    profile: Profile,
    prev_residuals: Option<Vec<Vec<f64>>>,
    prev_sqrt_p: Option<Vec<f64>>,
}

impl ProfileSink {
    /// An empty profile for `charts`.
    pub fn new(charts: &[Chart]) -> Self {
        let n = charts.len();
        ProfileSink {
            profile: Profile {
                charts: charts.to_vec(),
                factors: FactorProfile {
                    charts: vec![ChartColumns::default(); n],
                    ..FactorProfile::default()
                },
                prefixes: PrefixProfile {
                    charts: vec![ChartColumns::default(); n],
                    residual_variation: vec![Vec::new(); n],
                    orbit_distance: vec![Vec::new(); n],
                    ..PrefixProfile::default()
                },
            },
            prev_residuals: None,
            prev_sqrt_p: None,
        }
    }

    /// Adds the next step.
    pub fn push(&mut self, s: StepProfile) {
        let k = s.sqrt_p.len();
        // X_0 = I: e_0 = 0 and √p_0 = (1/√n)·1 with the width of the first prefix's input.
        let prev_res = self
            .prev_residuals
            .take()
            .unwrap_or_else(|| vec![vec![0.0; k]; s.residuals.len()]);
        let prev_sqrt = self
            .prev_sqrt_p
            .take()
            .unwrap_or_else(|| vec![1.0 / (k as f64).sqrt(); k]);
        let f = &mut self.profile.factors;
        f.stable_rank.push(s.stable_rank);
        for (i, e) in s.erank.iter().enumerate() {
            f.erank[i].push(*e);
        }
        for (col, fit) in f.charts.iter_mut().zip(&s.factor_fits) {
            push_fit(col, fit);
        }
        let p = &mut self.profile.prefixes;
        p.width.push(k);
        for (c, fit) in s.prefix_fits.iter().enumerate() {
            push_fit(&mut p.charts[c], fit);
            p.residual_variation[c].push(distance(&s.residuals[c], &prev_res[c]));
            p.orbit_distance[c].push(s.eta[c]);
        }
        p.energy_step.push(distance(&s.sqrt_p, &prev_sqrt));
        p.energy_kl.push(kl(&s.sqrt_p, &prev_sqrt));
        p.ls_weight_norm.push(s.ls_weight_norm);
        self.prev_residuals = Some(s.residuals);
        self.prev_sqrt_p = Some(s.sqrt_p);
    }

    /// The finished profile (spare capacity dropped).
    pub fn finish(mut self) -> Profile {
        let p = &mut self.profile;
        p.factors.stable_rank.shrink_to_fit();
        p.factors.erank.iter_mut().for_each(Vec::shrink_to_fit);
        p.prefixes.width.shrink_to_fit();
        for v in [
            &mut p.prefixes.energy_step,
            &mut p.prefixes.energy_kl,
            &mut p.prefixes.ls_weight_norm,
        ] {
            v.shrink_to_fit();
        }
        p.prefixes
            .residual_variation
            .iter_mut()
            .for_each(Vec::shrink_to_fit);
        p.prefixes
            .orbit_distance
            .iter_mut()
            .for_each(Vec::shrink_to_fit);
        for c in p
            .factors
            .charts
            .iter_mut()
            .chain(p.prefixes.charts.iter_mut())
        {
            c.alpha.shrink_to_fit();
            c.window_lo.shrink_to_fit();
            c.window_hi.shrink_to_fit();
            c.epsilon.shrink_to_fit();
            c.hellinger.shrink_to_fit();
        }
        self.profile
    }
}
