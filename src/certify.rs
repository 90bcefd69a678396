//! The rigidity theorems of SPEC §6 as checks on one chain: each states a value, its bounds, the
//! margin to the nearer bound and whether it holds, per interface and for the whole chain.
//!
//! Inputs are what one chain pass records ([`ChainRun`] and [`Profile`]): slacks σ_l, interface
//! amplitudes log ρ_l, top-radial coordinates r, chart values α̂ with residuals ε and residual
//! variations ν, orbit distances η, and log s_1 of the normalised-factor product Q_L.
//! Profile form: X_l = P_l, K_l = J_l, X_0 = I (α̂_0 = 0, ε_0 = 0).
//!
//! | check | statement (SPEC) |
//! |---|---|
//! | `telescoping` | Σ log s_1(J_l) = log s_1(P_L) + Σ σ_l (§5, identity) |
//! | `R1 identity` | Σ R(α̂_l) = log s_1(Q_L) + Σ σ_l − Σ ε_l on the factor charts (§6.1) |
//! | `R1 margin` | (1/L) Σ R(α̂_l) ≤ (log M_gain + Σσ − Σε)/L when log s_1(Q_L) ≤ log M_gain = 2 log M (§6.1, §6.3) |
//! | `R1 converse` | (1/L) Σ R(α̂_l) ≥ (log s_1(Q_L) − Σε)/L (§6.1) |
//! | `R2(a) slack` | 0 ≤ σ_l ≤ 2 log ρ_l |
//! | `R2(a)` | −σ_l ≤ r(X_l) − r(X_{l−1}) ≤ 2 log ρ_l − σ_l |
//! | `R2(b)` | −σ_l − Δε_l ≤ R(α̂_l) − R(α̂_{l−1}) ≤ 2 log ρ_l − σ_l − Δε_l |
//! | `R2(b) summed` | R(α̂_L) − R(α̂_0) + Σσ + ε_L − ε_0 ≤ 2L log ρ̄ |
//! | `R2(c)` | \|Δα̂_l\| ≤ [max(σ_l, 2 log ρ_l − σ_l) + \|Δε_l\|]/R′(max(α̂_{l−1}, α̂_l)) |
//! | `R2(d)` | 0 ≤ α̂_l − α̂_{l−1} ≤ 2 log ρ_l/R′(α̂_l) when σ_l = 0 and ε_{l−1} = ε_l = 0 |
//! | `R2(e)` | \|Δα_LS\| ≤ ‖w‖₁ log ρ_l (same window at l − 1 and l) |
//! | `6.3 budget` | log ρ_l ≤ (log M)/L |
//! | `6.3 LS drift` | \|Δα_LS\| ≤ ‖w‖₁ (log M)/L |
//! | `6.3 chart drift` | \|ΔR(α̂_l)\| ≤ 2 (log M)/L + \|Δε_l\| |
//! | `6.4 residual` | \|ε_l\| ≤ η_l and δ_H,l ≤ e^{η_l} − 1 |
//! | `6.4 displacement` | \|Δα̂_l\| ≤ [max(σ_l, 2 log ρ_l − σ_l) + η_l + η_{l−1}]/R′(max α̂) |
//! | `6.5 Hellinger` | ‖√p(α̂_l) − √p(α̂_{l−1})‖ ≤ min(‖√p_l − √p_{l−1}‖, ρ_l² − 1) + ν_l |
//! | `6.5 exponent` | \|Δβ_l\| ≤ √(−8 log(1 − D²/2)/I_min), D the right side above (D < √2) |
//!
//! A check is **vacuous** when a bound is infinite or NaN (a singular or non-square interface
//! gives ρ = ∞) or its hypothesis fails (a budget exceeded, different LS windows); it then does
//! not count against the verdict. A check **holds** when its margin is ≥ −[`TOLERANCE`]·max(1,
//! |bound|), which absorbs rounding.

use crate::chain::ChainRun;
use crate::chart::Chart;
use crate::error::{Error, Result};
use crate::orbit;
use crate::profile::Profile;

/// Relative rounding tolerance of every verdict.
pub const TOLERANCE: f64 = 1e-10;

/// |σ| and |ε| below this count as zero for the hypotheses of R2(d).
const ZERO: f64 = 1e-12;

/// Most points of the grid on which I_min is taken over a segment of β (ends included).
const FISHER_GRID: usize = 2001;

/// Largest spacing (in β) of that grid.
const FISHER_SPACING: f64 = 1e-3;

/// One inequality (or identity) with its verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// Short name (see the module table).
    pub name: String,
    /// SPEC section.
    pub section: String,
    /// The checked quantity.
    pub value: f64,
    /// Lower bound (−∞ when one-sided).
    pub lower: f64,
    /// Upper bound (+∞ when one-sided).
    pub upper: f64,
    /// Distance to the nearer bound, min(value − lower, upper − value) (negative when violated).
    pub margin: f64,
    /// Whether the inequality holds (within the rounding tolerance).
    pub holds: bool,
    /// Whether the bound says nothing (infinite, NaN, or hypothesis not met).
    pub vacuous: bool,
    /// Explanation (hypothesis, why vacuous), possibly empty.
    pub note: String,
}

impl Check {
    /// A two-sided check lower ≤ value ≤ upper (vacuous when a bound is not finite).
    fn new(name: &str, section: &str, value: f64, lower: f64, upper: f64) -> Self {
        Self::build(
            name,
            section,
            value,
            lower,
            upper,
            lower.is_finite() && upper.is_finite(),
        )
    }

    /// A one-sided check value ≤ upper (vacuous when the bound is not finite).
    fn upper(name: &str, section: &str, value: f64, upper: f64) -> Self {
        Self::build(
            name,
            section,
            value,
            f64::NEG_INFINITY,
            upper,
            upper.is_finite(),
        )
    }

    /// A one-sided check value ≥ lower (vacuous when the bound is not finite).
    fn lower(name: &str, section: &str, value: f64, lower: f64) -> Self {
        Self::build(
            name,
            section,
            value,
            lower,
            f64::INFINITY,
            lower.is_finite(),
        )
    }

    fn build(name: &str, section: &str, value: f64, lower: f64, upper: f64, live: bool) -> Self {
        let margin = (value - lower).min(upper - value);
        let bound = if upper.is_finite() { upper } else { lower };
        let scale = 1f64.max(bound.abs());
        let vacuous = !live || value.is_nan();
        Check {
            name: name.into(),
            section: section.into(),
            value,
            lower,
            upper,
            margin,
            holds: vacuous || margin >= -TOLERANCE * scale,
            vacuous,
            note: String::new(),
        }
    }

    fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    /// Marks the check vacuous because its hypothesis fails.
    fn unless(mut self, hypothesis: bool, note: &str) -> Self {
        if !hypothesis {
            self.vacuous = true;
            self.holds = true;
            self.note = note.into();
        }
        self
    }
}

/// The per-interface rows of one check, as columns (index l − 1 for interface l).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InterfaceColumn {
    /// Check name.
    pub name: String,
    /// SPEC section.
    pub section: String,
    /// Values.
    pub value: Vec<f64>,
    /// Lower bounds.
    pub lower: Vec<f64>,
    /// Upper bounds.
    pub upper: Vec<f64>,
    /// Margins.
    pub margin: Vec<f64>,
    /// Verdicts.
    pub holds: Vec<bool>,
    /// Vacuous flags.
    pub vacuous: Vec<bool>,
}

impl InterfaceColumn {
    fn push(&mut self, c: Check) {
        if self.name.is_empty() {
            self.name = c.name.clone();
            self.section = c.section.clone();
        }
        self.value.push(c.value);
        self.lower.push(c.lower);
        self.upper.push(c.upper);
        self.margin.push(c.margin);
        self.holds.push(c.holds);
        self.vacuous.push(c.vacuous);
    }

    /// The whole-chain summary of the column: the interface of smallest margin among the
    /// non-vacuous ones.
    fn summary(&self) -> Check {
        let n = self.value.len();
        let live: Vec<usize> = (0..n).filter(|&i| !self.vacuous[i]).collect();
        let failing = (0..n).filter(|&i| !self.holds[i]).count();
        let worst = live
            .iter()
            .copied()
            .min_by(|&a, &b| self.margin[a].total_cmp(&self.margin[b]));
        match worst {
            Some(i) => Check {
                name: format!("{} (every interface)", self.name),
                section: self.section.clone(),
                value: self.value[i],
                lower: self.lower[i],
                upper: self.upper[i],
                margin: self.margin[i],
                holds: failing == 0,
                vacuous: false,
                note: format!(
                    "{} of {n} interfaces checked, {failing} fail; tightest at interface {}",
                    live.len(),
                    i + 1
                ),
            },
            None => Check {
                name: format!("{} (every interface)", self.name),
                section: self.section.clone(),
                value: f64::NAN,
                lower: f64::NEG_INFINITY,
                upper: f64::INFINITY,
                margin: f64::NAN,
                holds: true,
                vacuous: true,
                note: format!("vacuous at all {n} interfaces"),
            },
        }
    }
}

/// The named terms that enter the bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct Terms {
    /// L.
    pub depth: usize,
    /// log M (interface budget: log ρ_l ≤ log M / L).
    pub log_budget: f64,
    /// Whether the budget was given (otherwise it is the chain's own: L·max log ρ_l).
    pub budget_given: bool,
    /// Σ σ_l.
    pub slack_sum: f64,
    /// Σ log ρ_l = L log ρ̄.
    pub log_rho_sum: f64,
    /// max log ρ_l.
    pub log_rho_max: f64,
    /// Σ ε_l over the factor charts (R1).
    pub factor_epsilon_sum: f64,
    /// Σ |Δε_l| over the prefix charts (R2).
    pub epsilon_variation: f64,
    /// Σ ν_l (Hellinger residual variation of the prefixes).
    pub hellinger_variation: f64,
    /// log s_1(P_L).
    pub log_top_product: f64,
    /// log s_1(Q_L), Q the product of the normalised factors.
    pub log_top_normalized: f64,
    /// α̂(X_L) − α̂(X_0) of the prefix chart.
    pub exponent_displacement: f64,
    /// max_l |Δα̂_l|.
    pub max_drift: f64,
}

/// A chain certificate.
#[derive(Debug, Clone, PartialEq)]
pub struct Certificate {
    /// Chart of the profile checks.
    pub chart: Chart,
    /// The terms of the bounds.
    pub terms: Terms,
    /// Whole-chain checks (identities, summed forms, and the summary of each interface column).
    pub checks: Vec<Check>,
    /// Per-interface checks, as columns.
    pub interfaces: Vec<InterfaceColumn>,
}

impl Certificate {
    /// Whether every non-vacuous check holds.
    pub fn holds(&self) -> bool {
        self.checks.iter().all(|c| c.holds)
    }
}

/// R_k(α) from r and ε (ε = r − R(α̂) by definition), so that identities close exactly.
fn chart_radial(r: f64, eps: f64) -> f64 {
    r - eps
}

/// min over [lo, hi] (β) of the Fisher information of the width-k orbit, on a grid of spacing
/// at most [`FISHER_SPACING`] (at most [`FISHER_GRID`] points, ends included). A grid minimum can
/// only overestimate I_min, which makes the §6.5 exponent bound stricter, never looser.
fn fisher_min(k: usize, b0: f64, b1: f64) -> Result<f64> {
    let (lo, hi) = if b0 <= b1 { (b0, b1) } else { (b1, b0) };
    let n = if hi > lo {
        (((hi - lo) / FISHER_SPACING).ceil() as usize + 1).clamp(2, FISHER_GRID)
    } else {
        1
    };
    let mut m = f64::INFINITY;
    for j in 0..n {
        let b = if n == 1 {
            lo
        } else {
            lo + (hi - lo) * j as f64 / (n - 1) as f64
        };
        m = m.min(orbit::fisher_information(k, b)?);
    }
    Ok(m)
}

/// ‖√p(α_0) − √p(α_1)‖₂ on the width-k orbit.
fn orbit_hellinger(k: usize, a0: f64, a1: f64) -> Result<f64> {
    let p = orbit::probabilities(k, a0)?;
    let q = orbit::probabilities(k, a1)?;
    Ok(p.iter()
        .zip(&q)
        .map(|(x, y)| (x.sqrt() - y.sqrt()).powi(2))
        .sum::<f64>()
        .sqrt())
}

/// Certifies a chain with the prefix chart `chart` (one of the charts of `profile`) and the
/// interface budget `budget` = M > 1 (log ρ_l ≤ log M / L); `None` uses the chain's own budget
/// log M = L·max_l log ρ_l.
///
/// Errors: `chart` not among the profile's charts; M ≤ 1 or not finite.
pub fn certify(
    run: &ChainRun,
    profile: &Profile,
    chart: Chart,
    budget: Option<f64>,
) -> Result<Certificate> {
    let c = profile
        .charts
        .iter()
        .position(|&x| x == chart)
        .ok_or_else(|| {
            Error::invalid(
                "chart",
                format!(
                    "{chart:?} was not computed for this chain (computed: {:?})",
                    profile.charts
                ),
            )
        })?;
    let ls = profile.charts.iter().position(|&x| x == Chart::Ls);
    let l_n = run.len();
    let lf = l_n as f64;
    let log_rho_max = run
        .factor_log_rho
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let (log_budget, budget_given) = match budget {
        Some(m) if m > 1.0 && m.is_finite() => (m.ln(), true),
        Some(m) => {
            return Err(Error::invalid(
                "budget",
                format!("the budget M must be a finite number > 1, got {m}"),
            ))
        }
        None => (lf * log_rho_max, false),
    };
    let per_step_budget = log_budget / lf;

    let pre = &profile.prefixes;
    let pc = &pre.charts[c];
    let fc = &profile.factors.charts[c];
    let mut cols: Vec<InterfaceColumn> = Vec::new();
    let mut col = |i: usize, chk: Check| {
        if cols.len() <= i {
            cols.push(InterfaceColumn::default());
        }
        cols[i].push(chk);
    };

    let (mut eps_var, mut nu_sum, mut max_drift) = (0.0, 0.0, 0.0f64);
    for l in 0..l_n {
        let sigma = run.slack[l];
        let lr = run.factor_log_rho[l];
        let k = pre.width[l];
        let (r0, r1) = (
            if l == 0 {
                0.0
            } else {
                run.prefix_top_radial[l - 1]
            },
            run.prefix_top_radial[l],
        );
        let (a0, a1) = (if l == 0 { 0.0 } else { pc.alpha[l - 1] }, pc.alpha[l]);
        let (e0, e1) = (if l == 0 { 0.0 } else { pc.epsilon[l - 1] }, pc.epsilon[l]);
        let d_eps = e1 - e0;
        let d_r = chart_radial(r1, e1) - chart_radial(r0, e0);
        let d_alpha = a1 - a0;
        eps_var += d_eps.abs();
        nu_sum += pre.residual_variation[c][l];
        if d_alpha.is_finite() {
            max_drift = max_drift.max(d_alpha.abs());
        }
        let slope = orbit::top_radial_slope(k, a0.max(a1)).unwrap_or(f64::NAN);
        let spread = sigma.max(2.0 * lr - sigma);

        col(0, Check::new("R2(a) slack", "6.2(a)", sigma, 0.0, 2.0 * lr));
        col(
            1,
            Check::new("R2(a)", "6.2(a)", r1 - r0, -sigma, 2.0 * lr - sigma),
        );
        col(
            2,
            Check::new(
                "R2(b)",
                "6.2(b)",
                d_r,
                -sigma - d_eps,
                2.0 * lr - sigma - d_eps,
            ),
        );
        col(
            3,
            Check::upper(
                "R2(c)",
                "6.2(c)",
                d_alpha.abs(),
                (spread + d_eps.abs()) / slope,
            ),
        );
        // R2(e) and the LS drift need the LS chart on one window at both ends.
        let (ls_drift, ls_same_window, wnorm) = match ls {
            Some(i) => {
                let lc = &pre.charts[i];
                let same = l == 0 && lc.window_lo[0] == 1 && lc.window_hi[0] == run.input_width
                    || l > 0
                        && lc.window_lo[l] == lc.window_lo[l - 1]
                        && lc.window_hi[l] == lc.window_hi[l - 1];
                let prev = if l == 0 { 0.0 } else { lc.alpha[l - 1] };
                ((lc.alpha[l] - prev).abs(), same, pre.ls_weight_norm[l])
            }
            None => (f64::NAN, false, f64::NAN),
        };
        col(
            4,
            Check::upper("R2(e)", "6.2(e)", ls_drift, wnorm * lr)
                .unless(ls_same_window, "the LS windows at l-1 and l differ"),
        );
        let in_budget = lr <= per_step_budget * (1.0 + TOLERANCE);
        col(5, Check::upper("6.3 budget", "6.3", lr, per_step_budget));
        col(
            6,
            Check::upper("6.3 LS drift", "6.3", ls_drift, wnorm * per_step_budget).unless(
                in_budget && ls_same_window,
                "budget exceeded or LS windows differ",
            ),
        );
        col(
            7,
            Check::upper(
                "6.3 chart drift",
                "6.3",
                d_r.abs(),
                2.0 * per_step_budget + d_eps.abs(),
            )
            .unless(in_budget, "budget exceeded at this interface"),
        );
        let (eta0, eta1) = (
            if l == 0 {
                0.0
            } else {
                pre.orbit_distance[c][l - 1]
            },
            pre.orbit_distance[c][l],
        );
        col(8, Check::upper("6.4 residual", "6.4", e1.abs(), eta1));
        col(
            9,
            Check::upper(
                "6.4 Hellinger residual",
                "6.4",
                pc.hellinger[l],
                eta1.exp_m1(),
            ),
        );
        col(
            10,
            Check::upper(
                "6.4 displacement",
                "6.4",
                d_alpha.abs(),
                (spread + eta0 + eta1) / slope,
            ),
        );
        let rho2 = (2.0 * lr).exp_m1();
        let dbound = pre.energy_step[l].min(rho2) + pre.residual_variation[c][l];
        let (dval, dbeta_bound) = if a0.is_finite() && a1.is_finite() {
            let v = orbit_hellinger(k, a0, a1)?;
            let b = if dbound < std::f64::consts::SQRT_2 {
                let imin = fisher_min(k, 2.0 * a0, 2.0 * a1)?;
                (-8.0 * (-0.5 * dbound * dbound).ln_1p() / imin).sqrt()
            } else {
                f64::INFINITY
            };
            (v, b)
        } else {
            (f64::NAN, f64::NAN)
        };
        col(11, Check::upper("6.5 Hellinger", "6.5", dval, dbound));
        col(
            12,
            Check::upper("6.5 exponent", "6.5", 2.0 * d_alpha.abs(), dbeta_bound),
        );
        // (d) needs zero slack and an exact chart at both ends (always exact for the top chart).
        let exact = e0.abs() <= ZERO && e1.abs() <= ZERO && sigma.abs() <= ZERO;
        col(
            13,
            Check::new(
                "R2(d)",
                "6.2(d)",
                d_alpha,
                0.0,
                2.0 * lr / orbit::top_radial_slope(k, a1).unwrap_or(f64::NAN),
            )
            .unless(exact, "needs zero slack and an exact chart"),
        );
    }

    // Whole-chain checks.
    let slack_sum: f64 = run.slack.iter().sum();
    let log_rho_sum: f64 = run.factor_log_rho.iter().sum();
    let log_top_product = run.prefix_log_top[l_n - 1];
    let log_top_normalized = run.normalized_log_top[l_n - 1];
    let sum_log_top: f64 = run.factor_log_top.iter().sum();
    let mut checks = Vec::new();
    let tel = log_top_product + slack_sum;
    checks.push(
        Check::new("telescoping", "5", sum_log_top - tel, 0.0, 0.0).with_note(format!(
            "sum log s1(J) = {sum_log_top:.9}, log s1(P_L) + sum sigma = {tel:.9}"
        )),
    );
    fix_identity(checks.last_mut(), sum_log_top.abs().max(tel.abs()));
    let sum_r_factor: f64 = (0..l_n)
        .map(|l| chart_radial(run.factor_top_radial[l], fc.epsilon[l]))
        .sum();
    let eps_factor: f64 = fc.epsilon.iter().sum();
    let r1_rhs = log_top_normalized + slack_sum - eps_factor;
    checks.push(
        Check::new("R1 identity", "6.1", sum_r_factor - r1_rhs, 0.0, 0.0).with_note(format!(
            "sum R(alpha_l) = {sum_r_factor:.9}, log s1(Q_L) + sum sigma - sum eps = {r1_rhs:.9}"
        )),
    );
    fix_identity(checks.last_mut(), sum_r_factor.abs().max(r1_rhs.abs()));
    let log_gain = 2.0 * log_budget;
    checks.push(
        Check::upper(
            "R1 margin",
            "6.1",
            sum_r_factor / lf,
            (log_gain + slack_sum - eps_factor) / lf,
        )
        .unless(
            log_top_normalized <= log_gain * (1.0 + TOLERANCE),
            "log s1(Q_L) exceeds the gain budget 2 log M",
        ),
    );
    checks.push(Check::lower(
        "R1 converse",
        "6.1",
        sum_r_factor / lf,
        (log_top_normalized - eps_factor) / lf,
    ));
    let last = l_n - 1;
    let summed =
        chart_radial(run.prefix_top_radial[last], pc.epsilon[last]) + slack_sum + pc.epsilon[last];
    checks.push(Check::upper(
        "R2(b) summed",
        "6.2(b)",
        summed,
        2.0 * log_rho_sum,
    ));
    checks.push(Check::upper(
        "6.3 budget (whole chain)",
        "6.3",
        lf * log_rho_max,
        log_budget,
    ));
    let cols: Vec<InterfaceColumn> = cols;
    checks.extend(cols.iter().map(InterfaceColumn::summary));

    Ok(Certificate {
        chart,
        terms: Terms {
            depth: l_n,
            log_budget,
            budget_given,
            slack_sum,
            log_rho_sum,
            log_rho_max,
            factor_epsilon_sum: eps_factor,
            epsilon_variation: eps_var,
            hellinger_variation: nu_sum,
            log_top_product,
            log_top_normalized,
            exponent_displacement: pc.alpha[last],
            max_drift,
        },
        checks,
        interfaces: cols,
    })
}

/// An identity holds when its defect is within the rounding tolerance relative to `scale`.
fn fix_identity(c: Option<&mut Check>, scale: f64) {
    if let Some(c) = c {
        c.vacuous = c.value.is_nan();
        c.holds = c.vacuous || c.value.abs() <= TOLERANCE * scale.max(1.0);
        c.margin = -c.value.abs();
        if c.vacuous {
            c.note = format!("undefined (a chart value is NaN): {}", c.note);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{ChainEngine, ChainOptions};
    use crate::chart::Window;
    use crate::parallel::Cancel;
    use crate::profile::{self, ProfileOptions, ProfileSink};
    use faer::{mat, Mat};

    fn certify_chain(factors: &[Mat<f64>], chart: Chart, budget: Option<f64>) -> Certificate {
        let opts = ProfileOptions {
            charts: vec![Chart::Ls, Chart::Top, Chart::Metric],
            window: Window::Default,
        };
        let mut engine = ChainEngine::new(ChainOptions::default()).unwrap();
        let mut sink = ProfileSink::new(&opts.charts);
        let refs: Vec<_> = factors.iter().map(|m| m.as_ref()).collect();
        engine
            .push(
                &refs,
                &Cancel::new(),
                &|s| profile::analyse(&opts, s),
                &mut |u| {
                    sink.push(u);
                    Ok(())
                },
            )
            .unwrap();
        let run = engine.finish().unwrap();
        certify(&run, &sink.finish(), chart, budget).unwrap()
    }

    fn column<'a>(c: &'a Certificate, name: &str) -> &'a InterfaceColumn {
        c.interfaces.iter().find(|col| col.name == name).unwrap()
    }

    #[test]
    fn worked_example_of_section_6_2() {
        let x = mat![[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.5]];
        let k = mat![[1.0, 0.3, 0.0], [0.0, 1.0, 0.0], [0.2, 0.0, 0.8]];
        let c = certify_chain(&[x, k], Chart::Ls, None);
        let e = column(&c, "R2(e)");
        assert!((e.value[1] - 0.233947).abs() < 5e-7);
        assert!((e.upper[1] - 0.438774).abs() < 5e-7);
        let a = column(&c, "R2(a)");
        assert!((a.lower[1] + 0.128166).abs() < 5e-7);
        assert!((a.upper[1] - 0.325312).abs() < 5e-7);
        assert!(c.holds());
    }

    #[test]
    fn converse_chain_is_tight_and_a_small_budget_fails() {
        let (d, l, m) = (8usize, 10usize, 5.0f64);
        let t = 2.0 * m.ln() / (l as f64 * (d as f64).ln());
        let j = Mat::from_fn(d, d, |a, b| {
            if a == b {
                ((a + 1) as f64).powf(-t)
            } else {
                0.0
            }
        });
        let fs = vec![j; l];
        let c = certify_chain(&fs, Chart::Ls, Some(m));
        assert!(c.holds());
        let b = column(&c, "6.3 budget");
        assert!(b.margin.iter().all(|x| x.abs() < 1e-14));
        assert!((c.terms.max_drift - t).abs() < 1e-13);
        let small = certify_chain(&fs, Chart::Ls, Some(m.sqrt()));
        assert!(!small.holds());
        assert!(certify(
            &ChainRun::default(),
            &Profile::default(),
            Chart::Ls,
            Some(0.5)
        )
        .is_err());
    }
}
