//! The exact power-law Cartan orbit (SPEC §3.1, §3.2, §4, §8).
//!
//! For width d and rank exponent α ≥ 0 (energy exponent, or inverse temperature, β = 2α), the
//! orbit point is the Gibbs distribution on ranks
//!
//! p_i(α) = i^{−2α} / H_d(2α), i = 1..d, with H_d(β) = Σ_{i=1}^d i^{−β}
//!
//! (energy ℓ_i = log i, partition function Z = H_d(β), ψ(β) = log H_d(β)); its trace-d state is
//! Λ(α) = d·diag(p(α)) and its singular values are s_i(α) = √(d/H_d(2α))·i^{−α}.
//!
//! | quantity | formula | here |
//! |---|---|---|
//! | log partition function | ψ(β) = log H_d(β) | [`log_harmonic`] |
//! | top-radial chart | R_d(α) = ½ log(d/H_d(2α)) | [`top_radial`] |
//! | its slope | R′(α) = E_{p(α)}[log i] | [`top_radial_slope`], [`log_rank_mean`] |
//! | Fisher information (in β) | I(β) = ψ″(β) = Var_β(log i) | [`fisher_information`], [`log_rank_variance`] |
//! | Bures–Wasserstein speed | ds_BW/dα = √(d·Var_{2α}(log i)) | [`bures_line_element`] |
//! | KL, Bhattacharyya, Fisher–Rao | §4.4 closed forms | [`kl`], [`bhattacharyya`], [`fisher_rao_length`] |
//! | effective rank on the orbit | F(k) = H_k/H_d, §8 bounds | [`effective_rank`], [`effective_rank_bounds`] |
//!
//! **Evaluation.** Widths d ≤ [`DIRECT_SUM_MAX`] are summed term by term with Neumaier
//! compensation (H_d ≥ 1 is dominated by its first term, so log H_d = log1p(Σ_{i≥2} i^{−β}) is a
//! logsumexp with the maximum factored out). Wider orbits use the head of the first
//! [`EM_ANCHOR`] = 64 terms plus the N-anchored Euler–Maclaurin tail of SPEC §3.1 (with the
//! Bernoulli B₆ term added), which has no cancellation, is uniform in β ≥ 0 including β = 1, and
//! costs O(1) in d: log H_d is exact to ~1e−15 relative for d up to 1e9 and beyond. The moments
//! E_β[log i] and Var_β(log i) of wide orbits use the same head + Euler–Maclaurin tail applied to
//! x^{−β}(log x − c)^m, with the tail integral done by composite Gauss–Legendre quadrature in
//! log x, so they also cost O(1) in d (about |1 − β|·log(d) / 4 panels of 20 nodes).
//!
//! **Domain.** d ≥ 1; α, β ≥ 0 (the orbit is descending); α = β = +∞ is the limit point mass
//! p = e_1 where the limit is finite. A NaN or negative exponent is
//! [`Error::InvalidArgument`] naming the argument. Logs are natural (nats).

use crate::error::{Error, Result};
use crate::sum::{neumaier_sum, NeumaierSum};
use std::sync::OnceLock;

/// Widths up to this many ranks are summed term by term; wider orbits use the head +
/// Euler–Maclaurin tail (O(1) in d).
pub const DIRECT_SUM_MAX: usize = 4096;

/// N of the N-anchored Euler–Maclaurin form: the first N terms are summed exactly.
pub const EM_ANCHOR: usize = 64;

/// Largest width that [`probabilities`] materialises (2²⁷ ranks, 1 GiB of `f64`).
pub const MAX_MATERIALISED_WIDTH: usize = 1 << 27;

/// Largest width for which [`effective_rank`] streams the pinned prefix sums of SPEC §8 term by
/// term; wider orbits bisect on F(k) = H_k/H_d with [`log_harmonic`].
const STREAMED_ERANK_MAX: usize = 1 << 22;

/// Beyond this β, the Euler–Maclaurin tail past [`EM_ANCHOR`] is below 64^{−59} relative to the
/// head and is skipped.
const TAIL_NEGLIGIBLE_BETA: f64 = 60.0;

/// Beyond this β, Var_β(log i) < 2^{−2200}: it underflows to 0 in `f64`, and so does √Var, so
/// Fisher–Rao integrals are truncated there.
const FISHER_RAO_BETA_MAX: f64 = 2200.0;

/// Longest β segment a Fisher–Rao integral covers: past β₀ + 150 the integrand √Var_β ≈
/// log 2·2^{−β/2} (the weight of rank 2 dominates) has fallen by 2^{−75} relative to its value at
/// β₀ + 10 or earlier, so the rest of the segment adds less than 1e−20 relative.
const FISHER_RAO_SPAN_MAX: f64 = 150.0;

/// Nodes of the Gauss–Legendre rule used by every quadrature of this module.
const GL_NODES: usize = 20;

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/// Largest accepted width, 2⁵³ (every width is then exact in `f64`).
pub const MAX_WIDTH: usize = 1 << 53;

fn check_d(d: usize) -> Result<()> {
    if d == 0 {
        Err(Error::invalid("d", "the width must be at least 1, got 0"))
    } else if d > MAX_WIDTH {
        Err(Error::invalid(
            "d",
            format!("the width must be at most 2^53, got {d}"),
        ))
    } else {
        Ok(())
    }
}

/// An exponent (α or β): a number ≥ 0, +∞ allowed (the point-mass limit).
fn check_exponent(x: f64, arg: &str) -> Result<()> {
    if x >= 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(
            arg,
            format!("must be a number >= 0 (the power-law orbit is descending), got {x}"),
        ))
    }
}

/// A finite exponent ≥ 0.
fn check_finite_exponent(x: f64, arg: &str) -> Result<()> {
    check_exponent(x, arg)?;
    if x.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(arg, format!("must be finite, got {x}")))
    }
}

fn check_tau(tau: f64) -> Result<()> {
    if tau > 0.0 && tau <= 1.0 {
        Ok(())
    } else {
        Err(Error::invalid(
            "tau",
            format!("must lie in (0, 1], got {tau}"),
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Numerical helpers
// ---------------------------------------------------------------------------------------------

/// expm1(x)/x, continuous at 0 (= 1).
fn exprel(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        x.exp_m1() / x
    }
}

/// e^x − 1 − x ≥ 0 without cancellation.
fn expm1_minus_x(x: f64) -> f64 {
    if x.abs() < 0.25 {
        // Σ_{n≥2} x^n/n!; 14 terms reach 0.25^15/15! < 1e−21 relative.
        let mut term = x * x / 2.0;
        let mut sum = 0.0;
        for n in 3..17 {
            sum += term;
            term *= x / n as f64;
        }
        sum
    } else {
        x.exp_m1() - x
    }
}

/// i^{−β} = exp(−β log i) (1 at i = 1, 0 for β = ∞ and i ≥ 2).
fn power(i: usize, beta: f64) -> f64 {
    if i == 1 {
        1.0
    } else {
        (-beta * (i as f64).ln()).exp()
    }
}

/// 20-point Gauss–Legendre nodes and weights on [−1, 1], by Newton's method on P_20.
fn gauss_legendre_rule() -> &'static ([f64; GL_NODES], [f64; GL_NODES]) {
    static RULE: OnceLock<([f64; GL_NODES], [f64; GL_NODES])> = OnceLock::new();
    RULE.get_or_init(|| {
        let n = GL_NODES;
        let mut x = [0.0; GL_NODES];
        let mut w = [0.0; GL_NODES];
        for i in 0..n {
            let mut z = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
            let mut dp = 1.0;
            for _ in 0..100 {
                // P_n(z) and P_n′(z) by the three-term recurrence.
                let (mut p0, mut p1) = (1.0f64, z);
                for k in 2..=n {
                    let p2 = ((2 * k - 1) as f64 * z * p1 - (k - 1) as f64 * p0) / k as f64;
                    p0 = p1;
                    p1 = p2;
                }
                dp = n as f64 * (z * p1 - p0) / (z * z - 1.0);
                let dz = p1 / dp;
                z -= dz;
                if dz.abs() <= 1e-16 {
                    break;
                }
            }
            x[i] = z;
            w[i] = 2.0 / ((1.0 - z * z) * dp * dp);
        }
        (x, w)
    })
}

/// ∫_a^b f by composite 20-point Gauss–Legendre on `panels` equal panels (Neumaier-summed).
fn integrate(a: f64, b: f64, panels: usize, mut f: impl FnMut(f64) -> f64) -> f64 {
    let (x, w) = gauss_legendre_rule();
    let panels = panels.max(1);
    let h = (b - a) / panels as f64;
    let mut terms = Vec::with_capacity(panels * GL_NODES);
    for p in 0..panels {
        let lo = a + h * p as f64;
        let mid = lo + 0.5 * h;
        for j in 0..GL_NODES {
            terms.push(0.5 * h * w[j] * f(mid + 0.5 * h * x[j]));
        }
    }
    neumaier_sum(terms)
}

// ---------------------------------------------------------------------------------------------
// Harmonic numbers and moments
// ---------------------------------------------------------------------------------------------

/// H_d(β) − 1 = Σ_{i=2}^d i^{−β} by the head + N-anchored Euler–Maclaurin tail (d > N).
///
/// With N = [`EM_ANCHOR`], L = log(d/N), x = (1 − β)L:
/// Σ_{i=N+1}^d i^{−β} = N^{1−β}·L·expm1(x)/x + (d^{−β} − N^{−β})/2 − β(d^{−β−1} − N^{−β−1})/12
/// + (β)₃(d^{−β−3} − N^{−β−3})/720 − (β)₅(d^{−β−5} − N^{−β−5})/30240, (β)_n the rising factorial.
fn harmonic_minus_one_em(d: usize, beta: f64) -> f64 {
    let n = EM_ANCHOR as f64;
    let df = d as f64;
    let head = (2..=EM_ANCHOR).map(|i| power(i, beta));
    let ln_n = n.ln();
    let ln_d = df.ln();
    let big_l = ln_d - ln_n;
    let c = 1.0 - beta;
    let pw = |ln_x: f64, e: f64| (-e * ln_x).exp();
    let diff = |e: f64| pw(ln_d, e) - pw(ln_n, e);
    let b3 = beta * (beta + 1.0) * (beta + 2.0);
    let b5 = b3 * (beta + 3.0) * (beta + 4.0);
    let tail = [
        (c * ln_n).exp() * big_l * exprel(c * big_l),
        0.5 * diff(beta),
        -beta * diff(beta + 1.0) / 12.0,
        b3 * diff(beta + 3.0) / 720.0,
        -b5 * diff(beta + 5.0) / 30240.0,
    ];
    neumaier_sum(head.chain(tail))
}

/// log H_d(β) = log Σ_{i=1}^d i^{−β} (dimensionless; the log partition function ψ(β) of the
/// Gibbs family on ranks).
///
/// Exact to ~1e−15 relative for every d ≥ 1 (1e9 included) and β ∈ [0, ∞], including β = 1 and
/// its neighbourhood: term-by-term Neumaier sums for d ≤ [`DIRECT_SUM_MAX`], the head +
/// N-anchored Euler–Maclaurin tail (O(1) in d) beyond. log H_d(∞) = 0; log H_d(0) = log d;
/// H_d(2α) is the stable rank of the orbit point.
///
/// Errors: d = 0 (`d`), β NaN or negative (`beta`).
pub fn log_harmonic(d: usize, beta: f64) -> Result<f64> {
    check_d(d)?;
    check_exponent(beta, "beta")?;
    Ok(log_h(d, beta))
}

/// [`log_harmonic`] on validated arguments.
pub(crate) fn log_h(d: usize, beta: f64) -> f64 {
    if d == 1 || beta == f64::INFINITY {
        return 0.0;
    }
    if d <= DIRECT_SUM_MAX {
        neumaier_sum((2..=d).map(|i| power(i, beta))).ln_1p()
    } else {
        harmonic_minus_one_em(d, beta).ln_1p()
    }
}

/// Σ_{i=1}^d i^{−β}(log i − c)^m for m ∈ {0, 1, 2} and d > [`EM_ANCHOR`], by the exact head
/// i ≤ N plus the Euler–Maclaurin tail of g(x) = x^{−β}(log x − c)^m on [N, d]:
/// ∫_N^d g + (g(d) − g(N))/2 + Σ_{k=1}^{3} B_{2k}/(2k)!·(g^{(2k−1)}(d) − g^{(2k−1)}(N)).
/// g^{(n)}(x) = x^{−β−n}·P_n(log x − c) with P_0(y) = y^m and P_{n+1} = −(β+n)P_n + P_n′; the
/// integral is ∫_{log N}^{log d} e^{(1−β)t}(t − c)^m dt by composite Gauss–Legendre.
fn moment_sum_em(d: usize, beta: f64, c: f64, m: usize) -> f64 {
    let mono = |y: f64| match m {
        0 => 1.0,
        1 => y,
        _ => y * y,
    };
    let head = (1..=EM_ANCHOR).map(|i| power(i, beta) * mono((i as f64).ln() - c));
    if beta > TAIL_NEGLIGIBLE_BETA {
        return neumaier_sum(head);
    }
    let ln_n = (EM_ANCHOR as f64).ln();
    let ln_d = (d as f64).ln();
    let s = 1.0 - beta;
    let panels = ((s.abs() * (ln_d - ln_n)) / 4.0).ceil() as usize;
    let integral = integrate(ln_n, ln_d, panels, |t| (s * t).exp() * mono(t - c));
    // Polynomials P_n as coefficients [y^0, y^1, y^2].
    let mut poly = [0.0f64; 3];
    poly[m.min(2)] = 1.0;
    let eval = |p: &[f64; 3], ln_x: f64, n: usize| {
        let y = ln_x - c;
        (-(beta + n as f64) * ln_x).exp() * (p[0] + y * (p[1] + y * p[2]))
    };
    let mut terms: Vec<f64> = head.collect();
    terms.push(integral);
    terms.push(0.5 * (eval(&poly, ln_d, 0) - eval(&poly, ln_n, 0)));
    // B_2/2! = 1/12, B_4/4! = −1/720, B_6/6! = 1/30240 multiply g′, g‴, g⁽⁵⁾.
    let bernoulli = [(1, 1.0 / 12.0), (3, -1.0 / 720.0), (5, 1.0 / 30240.0)];
    let mut order = 0usize;
    for (deriv, coef) in bernoulli {
        while order < deriv {
            let e = beta + order as f64;
            poly = [
                -e * poly[0] + poly[1],
                -e * poly[1] + 2.0 * poly[2],
                -e * poly[2],
            ];
            order += 1;
        }
        terms.push(coef * (eval(&poly, ln_d, order) - eval(&poly, ln_n, order)));
    }
    neumaier_sum(terms)
}

/// (E_β[log i], Var_β(log i)) on validated arguments.
pub(crate) fn log_moments(d: usize, beta: f64) -> (f64, f64) {
    if d == 1 || beta == f64::INFINITY {
        return (0.0, 0.0);
    }
    if d <= DIRECT_SUM_MAX {
        let w: Vec<f64> = (1..=d).map(|i| power(i, beta)).collect();
        let z = neumaier_sum(w.iter().copied());
        let mean = neumaier_sum(
            w.iter()
                .enumerate()
                .map(|(i, &wi)| wi * ((i + 1) as f64).ln()),
        ) / z;
        let var = neumaier_sum(w.iter().enumerate().map(|(i, &wi)| {
            let y = ((i + 1) as f64).ln() - mean;
            wi * y * y
        })) / z;
        (mean, var)
    } else {
        let z = moment_sum_em(d, beta, 0.0, 0);
        let mean = moment_sum_em(d, beta, 0.0, 1) / z;
        let var = moment_sum_em(d, beta, mean, 2) / z;
        (mean, var.max(0.0))
    }
}

/// E_β[log i] = Σ_i p_β(i) log i = −ψ′(β) (nats), the mean log-rank of the orbit point with
/// energy exponent β. O(1) in d for d > [`DIRECT_SUM_MAX`].
///
/// Errors: d = 0 (`d`), β NaN or negative (`beta`).
pub fn log_rank_mean(d: usize, beta: f64) -> Result<f64> {
    check_d(d)?;
    check_exponent(beta, "beta")?;
    Ok(log_moments(d, beta).0)
}

/// Var_β(log i) = Σ_i p_β(i)(log i − E_β[log i])² = ψ″(β) (nats²), computed as a centred sum
/// (no E[ℓ²] − E[ℓ]² cancellation). Not monotone in β (d = 64: maximum 1.7922 near β = 0.957).
///
/// Errors: d = 0 (`d`), β NaN or negative (`beta`).
pub fn log_rank_variance(d: usize, beta: f64) -> Result<f64> {
    check_d(d)?;
    check_exponent(beta, "beta")?;
    Ok(log_moments(d, beta).1)
}

/// Fisher information of the Gibbs family in its natural parameter β:
/// I(β) = ψ″(β) = Var_β(log i) = Σ_i (∂_β p_i)²/p_i (per unit β²). In α, I_α = 4·I(2α).
/// 0 for d = 1 and at β = ∞.
///
/// Errors: d = 0 (`d`), β NaN or negative (`beta`).
pub fn fisher_information(d: usize, beta: f64) -> Result<f64> {
    log_rank_variance(d, beta)
}

// ---------------------------------------------------------------------------------------------
// The orbit and its top-radial chart
// ---------------------------------------------------------------------------------------------

/// Orbit probabilities p_i(α) = i^{−2α}/H_d(2α), i = 1..d (a probability vector on ranks).
///
/// α = ∞ gives the point mass e_1. Errors: d = 0 or d > [`MAX_MATERIALISED_WIDTH`] (`d`), α NaN
/// or negative (`alpha`).
pub fn probabilities(d: usize, alpha: f64) -> Result<Vec<f64>> {
    check_d(d)?;
    check_exponent(alpha, "alpha")?;
    if d > MAX_MATERIALISED_WIDTH {
        return Err(Error::invalid(
            "d",
            format!("{d} ranks are too many to materialise (at most {MAX_MATERIALISED_WIDTH})"),
        ));
    }
    let beta = 2.0 * alpha;
    let psi = log_h(d, beta);
    Ok((1..=d)
        .map(|i| {
            if i == 1 {
                (-psi).exp()
            } else {
                (-beta * (i as f64).ln() - psi).exp()
            }
        })
        .collect())
}

/// Top-radial chart R_d(α) = r(orbit point) = ½ log(d/H_d(2α)) (nats), in [0, ½ log d].
///
/// R(0) = 0, R(∞) = ½ log d; strictly increasing and concave for d ≥ 2; R ≡ 0 for d = 1. For
/// d ≤ [`DIRECT_SUM_MAX`] it is evaluated as −½ log1p(mean_i expm1(−2α log i)), accurate
/// relative to R itself for small α.
///
/// Errors: d = 0 (`d`), α NaN or negative (`alpha`).
pub fn top_radial(d: usize, alpha: f64) -> Result<f64> {
    check_d(d)?;
    check_exponent(alpha, "alpha")?;
    Ok(top_radial_unchecked(d, alpha))
}

/// [`top_radial`] on validated arguments.
pub(crate) fn top_radial_unchecked(d: usize, alpha: f64) -> f64 {
    if d == 1 {
        return 0.0;
    }
    let beta = 2.0 * alpha;
    let half_log_d = 0.5 * (d as f64).ln();
    if beta == f64::INFINITY {
        return half_log_d;
    }
    let r = if d <= DIRECT_SUM_MAX {
        direct_radial(
            d,
            neumaier_sum((2..=d).map(|i| (-beta * (i as f64).ln()).exp_m1())),
        )
    } else {
        half_log_d - 0.5 * log_h(d, beta)
    };
    clamp_radial(r, half_log_d)
}

/// R_d = −½ log1p(s/d) from the direct sum s = Σ_{i≥2} expm1(−β log i).
fn direct_radial(d: usize, s: f64) -> f64 {
    -0.5 * (s / d as f64).ln_1p()
}

/// R clamped to its range [0, ½ log d]; `+ 0.0` turns the −0.0 of α = 0 into +0.0.
fn clamp_radial(r: f64, half_log_d: f64) -> f64 {
    r.clamp(0.0, half_log_d) + 0.0
}

/// The top-radial chart R_d and its slope R′_d(α) = E_{p(α)}[log i] of one width d at many α
/// (the chart inversion's bracket and Newton steps). For d ≤ [`DIRECT_SUM_MAX`] the logarithms
/// log i are computed once, and an evaluation of both costs two exponentials per rank (against one
/// logarithm and one exponential for R, and three logarithms and one exponential for the slope,
/// each time); beyond, the O(1) evaluations of [`top_radial`] and [`log_rank_mean`]. The value is
/// [`top_radial`]'s, bit for bit (the same terms, summed in the same order).
pub(crate) struct TopRadialCurve {
    d: usize,
    /// log i for i = 2..=d, when d ≤ [`DIRECT_SUM_MAX`].
    log_ranks: Option<Vec<f64>>,
}

impl TopRadialCurve {
    /// The curve of width `d` ≥ 1.
    pub(crate) fn new(d: usize) -> Self {
        let log_ranks = (d <= DIRECT_SUM_MAX).then(|| (2..=d).map(|i| (i as f64).ln()).collect());
        TopRadialCurve { d, log_ranks }
    }

    /// log i for i = 2..=d when the direct sums apply at exponent β (finite; d ≥ 2).
    fn direct(&self, beta: f64) -> Option<&[f64]> {
        self.log_ranks
            .as_deref()
            .filter(|_| self.d > 1 && beta != f64::INFINITY)
    }

    /// (R_d(α), R′_d(α)) for α ≥ 0, in one pass over the ranks.
    pub(crate) fn value_and_slope(&self, alpha: f64) -> (f64, f64) {
        let d = self.d;
        let beta = 2.0 * alpha;
        let Some(logs) = self.direct(beta) else {
            return (top_radial_unchecked(d, alpha), log_moments(d, beta).0);
        };
        // Σ_{i≥2} expm1(−β log i) for R; Σ_i w_i and Σ_i w_i log i (w_1 = 1) for the slope.
        let (mut s, mut z, mut m) = (NeumaierSum::new(), NeumaierSum::new(), NeumaierSum::new());
        z.add(1.0);
        for &l in logs {
            let x = -beta * l;
            s.add(x.exp_m1());
            let w = x.exp();
            z.add(w);
            m.add(w * l);
        }
        let half_log_d = 0.5 * (d as f64).ln();
        (
            clamp_radial(direct_radial(d, s.value()), half_log_d),
            m.value() / z.value(),
        )
    }
}

/// Slope of the top-radial chart R′(α) = E_{p(α)}[log i] (nats per unit α), positive and
/// decreasing for d ≥ 2; R′(0) = log(d!)/d, R′(∞) = 0.
///
/// Errors: d = 0 (`d`), α NaN or negative (`alpha`).
pub fn top_radial_slope(d: usize, alpha: f64) -> Result<f64> {
    check_d(d)?;
    check_exponent(alpha, "alpha")?;
    Ok(log_moments(d, 2.0 * alpha).0)
}

/// Bures–Wasserstein line element of the trace-d orbit, per unit α:
/// ds_BW/dα = √(d·Var_{2α}(log i)), from ds²_BW = (d/4)·I(β)·dβ² and β = 2α.
/// E.g. 10.698681 at d = 64, α = ½.
///
/// Errors: d = 0 (`d`), α NaN or negative (`alpha`).
pub fn bures_line_element(d: usize, alpha: f64) -> Result<f64> {
    check_d(d)?;
    check_exponent(alpha, "alpha")?;
    Ok((d as f64 * log_moments(d, 2.0 * alpha).1).sqrt())
}

// ---------------------------------------------------------------------------------------------
// Divergences and lengths along the orbit (in β)
// ---------------------------------------------------------------------------------------------

/// Kullback–Leibler divergence KL(p_{β0} ‖ p_{β1}) = Σ_i p_{β0}(i) log(p_{β0}(i)/p_{β1}(i)) (nats)
/// between two orbit points of width d, given by their energy exponents (β = 2α).
///
/// Order: the first argument is the reference measure. Closed form (Bregman divergence of ψ):
/// KL = ψ(β1) − ψ(β0) + (β1 − β0)·E_{β0}[log i] = ∫_{β0}^{β1}(β1 − u)·I(u) du. Evaluated without
/// cancellation: as log1p(E_{β0}[e^X − 1 − X]) with X = −(β1 − β0)(log i − E_{β0}[log i]) for
/// d ≤ [`DIRECT_SUM_MAX`], by the integral form for wider orbits and |β1 − β0| ≤ 1, and by the
/// Bregman form otherwise. KL(p_∞ ‖ p_β) = log H_d(β); KL(p_β ‖ p_∞) = +∞ for finite β, d ≥ 2.
///
/// Errors: d = 0 (`d`), β0 or β1 NaN or negative (`beta0`, `beta1`).
pub fn kl(d: usize, beta0: f64, beta1: f64) -> Result<f64> {
    check_d(d)?;
    check_exponent(beta0, "beta0")?;
    check_exponent(beta1, "beta1")?;
    if d == 1 || beta0 == beta1 {
        return Ok(0.0);
    }
    if beta0 == f64::INFINITY {
        return Ok(log_h(d, beta1));
    }
    if beta1 == f64::INFINITY {
        return Ok(f64::INFINITY);
    }
    let delta = beta1 - beta0;
    let ln_d = (d as f64).ln();
    let value = if d <= DIRECT_SUM_MAX && delta.abs() * ln_d <= 40.0 {
        let psi0 = log_h(d, beta0);
        let mean0 = log_moments(d, beta0).0;
        let s = neumaier_sum((1..=d).map(|i| {
            let l = (i as f64).ln();
            (-beta0 * l - psi0).exp() * expm1_minus_x(-delta * (l - mean0))
        }));
        s.ln_1p()
    } else if delta.abs() <= 1.0 {
        let panels = (delta.abs() / 0.25).ceil() as usize;
        integrate(beta0, beta1, panels, |u| (beta1 - u) * log_moments(d, u).1)
    } else {
        log_h(d, beta1) - log_h(d, beta0) + delta * log_moments(d, beta0).0
    };
    Ok(value.max(0.0))
}

/// Bhattacharyya coefficient BC(β0, β1) = Σ_i √(p_{β0}(i)·p_{β1}(i)) =
/// H_d((β0+β1)/2)/√(H_d(β0)·H_d(β1)) ∈ (0, 1], evaluated in logs (dimensionless).
/// ‖√p_{β0} − √p_{β1}‖² = 2(1 − BC) and d_BW² = 2d(1 − BC) at trace d.
///
/// Errors: d = 0 (`d`), β0 or β1 NaN or negative (`beta0`, `beta1`).
pub fn bhattacharyya(d: usize, beta0: f64, beta1: f64) -> Result<f64> {
    check_d(d)?;
    check_exponent(beta0, "beta0")?;
    check_exponent(beta1, "beta1")?;
    let mid = 0.5 * (beta0 + beta1);
    let log_bc = log_h(d, mid) - 0.5 * (log_h(d, beta0) + log_h(d, beta1));
    Ok(log_bc.min(0.0).exp())
}

/// Fisher–Rao length of the orbit segment between β0 and β1 (in the natural parameter β):
/// FR = |∫_{β0}^{β1} √Var_u(log i) du| (nats; dimensionless). The Bures–Wasserstein length of the
/// same segment at trace d is (√d/2)·FR.
///
/// Composite 20-point Gauss–Legendre on panels of width ≤ ½ (accurate to ~1e−13). The segment is
/// truncated at min(β0, β1) + 150 and at β = 2200, beyond which the integrand is negligible
/// (below 2^{−75} relative) or underflows.
///
/// Errors: d = 0 (`d`), β0 or β1 NaN, negative or infinite (`beta0`, `beta1`).
pub fn fisher_rao_length(d: usize, beta0: f64, beta1: f64) -> Result<f64> {
    check_d(d)?;
    check_finite_exponent(beta0, "beta0")?;
    check_finite_exponent(beta1, "beta1")?;
    if d == 1 || beta0 == beta1 {
        return Ok(0.0);
    }
    let (lo, hi) = if beta0 < beta1 {
        (beta0, beta1)
    } else {
        (beta1, beta0)
    };
    let lo = lo.min(FISHER_RAO_BETA_MAX);
    let hi = hi.min(FISHER_RAO_BETA_MAX).min(lo + FISHER_RAO_SPAN_MAX);
    if lo == hi {
        return Ok(0.0);
    }
    let panels = ((hi - lo) / 0.5).ceil() as usize;
    Ok(integrate(lo, hi, panels, |u| log_moments(d, u).1.sqrt()))
}

// ---------------------------------------------------------------------------------------------
// Effective rank on the orbit (SPEC §8)
// ---------------------------------------------------------------------------------------------

/// I(a, b) = ∫_a^b x^{−β} dx = (b^{1−β} − a^{1−β})/(1 − β) (log(b/a) when β = 1), for 0 < a ≤ b,
/// evaluated as a^{1−β}·L·expm1((1−β)L)/((1−β)L), L = log(b/a) (uniform near β = 1).
fn power_integral(a: f64, b: f64, beta: f64) -> f64 {
    let l = (b / a).ln();
    let c = 1.0 - beta;
    (c * a.ln()).exp() * l * exprel(c * l)
}

/// Finite-width tail bounds of SPEC §8 for T_k = Σ_{i=k+1}^d i^{−β} (dimensionless):
/// I(k+1, d+1) ≤ T_k ≤ I(k, d), I(a, b) = ∫_a^b x^{−β} dx. Returns (lower, upper).
/// The tail fraction of the orbit is T_k/H_d(β).
///
/// Errors: d = 0 (`d`), β NaN, negative or infinite (`beta`), k outside 1..=d (`k`).
pub fn tail_bounds(d: usize, beta: f64, k: usize) -> Result<(f64, f64)> {
    check_d(d)?;
    check_finite_exponent(beta, "beta")?;
    if k == 0 || k > d {
        return Err(Error::invalid("k", format!("must lie in 1..={d}, got {k}")));
    }
    let (kf, df) = (k as f64, d as f64);
    Ok((
        power_integral(kf + 1.0, df + 1.0, beta),
        power_integral(kf, df, beta),
    ))
}

/// Bounds on the generalized harmonic number (dimensionless):
/// 1 + I(2, d+1) ≤ H_d(β) ≤ 1 + I(1, d). Returns (lower, upper).
///
/// Errors: d = 0 (`d`), β NaN, negative or infinite (`beta`).
pub fn harmonic_bounds(d: usize, beta: f64) -> Result<(f64, f64)> {
    check_d(d)?;
    check_finite_exponent(beta, "beta")?;
    let df = d as f64;
    Ok((
        1.0 + power_integral(2.0, df + 1.0, beta),
        1.0 + power_integral(1.0, df, beta),
    ))
}

/// Effective rank erank_τ of the orbit point with energy exponent β (a rank in 1..=d):
/// min{k : F(k) ≥ τ − 64·d·ε}, F(k) = H_k(β)/H_d(β), by the pinned rule of SPEC §8 (Neumaier
/// prefix sums of p_i = i^{−β}/S, S the Neumaier sum) for d ≤ 2²², and by bisection on
/// log H_k − log H_d ≥ log(τ − 64·d·ε) with [`log_harmonic`] for wider orbits. τ = 1 gives the
/// support size max{i : p_i > 0} (d unless i^{−β} underflows), as the spectrum-level rule does.
/// β = ∞ gives 1.
///
/// Errors: d = 0 (`d`), β NaN or negative (`beta`), τ outside (0, 1] (`tau`).
pub fn effective_rank(d: usize, beta: f64, tau: f64) -> Result<usize> {
    check_d(d)?;
    check_exponent(beta, "beta")?;
    check_tau(tau)?;
    if d == 1 || beta == f64::INFINITY {
        return Ok(1);
    }
    if tau >= 1.0 {
        return Ok(support_size(d, beta));
    }
    let target = tau - 64.0 * d as f64 * f64::EPSILON;
    if d <= STREAMED_ERANK_MAX {
        let total = neumaier_sum((1..=d).map(|i| power(i, beta)));
        let mut prefix = NeumaierSum::new();
        for i in 1..=d {
            prefix.add(power(i, beta) / total);
            if prefix.value() >= target {
                return Ok(i);
            }
        }
        Ok(support_size(d, beta))
    } else {
        let log_target = target.ln();
        let log_hd = log_h(d, beta);
        let (mut lo, mut hi) = (1usize, d);
        if log_h(lo, beta) - log_hd >= log_target {
            return Ok(1);
        }
        // Invariant: F(lo) < target ≤ F(hi).
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if log_h(mid, beta) - log_hd >= log_target {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Ok(hi)
    }
}

/// Support size max{i ≤ d : p_i > 0} of the orbit point β (d unless i^{−β}/H_d(β) underflows),
/// by bisection on the monotone predicate.
fn support_size(d: usize, beta: f64) -> usize {
    let psi = log_h(d, beta);
    let positive = |i: usize| (-beta * (i as f64).ln() - psi).exp() > 0.0;
    if positive(d) {
        return d;
    }
    // Invariant: positive(lo), !positive(hi).
    let (mut lo, mut hi) = (1usize, d);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if positive(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Ceiling with a relative tolerance of 1e−10, so that the rounding of inputs such as
/// 1 − 0.9 = 0.09999999999999998 does not add one to an integer bound.
fn ceil_tol(x: f64) -> f64 {
    (x - 1e-10 * x.abs().max(1.0)).ceil()
}

/// Closed-form bounds (lower, upper) on the orbit effective rank erank_τ (SPEC §8), capped at d,
/// every power evaluated in logs (ranks; real-valued lower bounds, at least 1; the upper bounds
/// of β ≠ 1 are integers):
///
/// * β < 1 (extensive): (τ((d+1)^{1−β} − 1))^{1/(1−β)} ≤ erank_τ ≤
///   ⌈(1 + (1−β)τ(1 + I(1, d)))^{1/(1−β)} − 1⌉;
/// * β = 1 (transition): (d+1)^τ/e ≤ erank_τ ≤ (e·d)^τ;
/// * β > 1 (width-free): erank_τ ≤ ⌈((1−τ)(β−1)H_d(β))^{−1/(β−1)}⌉; the lower bound, from
///   T_k ≥ I(k+1, d+1), is ((1−τ)(β−1)H_d(β) + (d+1)^{1−β})^{−1/(β−1)} − 1 (at least 1).
///
/// Lower bounds use τ − 64·d·ε, the threshold of the pinned rule. E.g. d = 1000, τ = 0.9:
/// β = ½ → [760.4, 841], β = 1 → [184.5, 1232.7], β = 2 → upper 7.
///
/// Errors: d = 0 (`d`), β NaN, negative or infinite (`beta`), τ outside (0, 1] (`tau`).
pub fn effective_rank_bounds(d: usize, beta: f64, tau: f64) -> Result<(f64, f64)> {
    check_d(d)?;
    check_finite_exponent(beta, "beta")?;
    check_tau(tau)?;
    let df = d as f64;
    let tau_lo = (tau - 64.0 * df * f64::EPSILON).max(0.0);
    let (lo, hi) = if beta == 1.0 {
        (
            (tau_lo * (df + 1.0).ln() - 1.0).exp(),
            (tau * (1.0 + df.ln())).exp(),
        )
    } else if beta < 1.0 {
        let c = 1.0 - beta;
        // (d+1)^c − 1 = expm1(c log(d+1)).
        let lo = ((tau_lo * (c * (df + 1.0).ln()).exp_m1()).ln() / c).exp();
        let y = c * tau * (1.0 + power_integral(1.0, df, beta));
        let hi = ceil_tol((y.ln_1p() / c).exp_m1());
        (lo, hi)
    } else {
        let c = beta - 1.0;
        let hd = log_h(d, beta).exp();
        let hi = if tau == 1.0 {
            df
        } else {
            ceil_tol((-((1.0 - tau) * c * hd).ln() / c).exp())
        };
        let g = (1.0 - tau_lo) * c * hd + (-c * (df + 1.0).ln()).exp();
        let lo = ((-g.ln() / c).exp() - 1.0).max(1.0);
        (lo, hi)
    };
    Ok((lo.max(1.0).min(df), hi.min(df)))
}

/// Large-width asymptotic of the orbit effective rank (a real-valued rank):
///
/// * β < 1: erank_τ ≈ τ^{1/(1−β)}·d (extensive);
/// * β = 1: erank_τ ≈ d^τ·e^{−γ(1−τ)} (γ the Euler–Mascheroni constant), e.g. 473.08 at
///   d = 1000, τ = 0.9;
/// * β > 1: the midpoint (Euler–Maclaurin) estimate k with ∫_{k+½}^{d+½} x^{−β} dx =
///   (1−τ)H_d(β), i.e. k = ((d+½)^{1−β} + (β−1)(1−τ)H_d(β))^{−1/(β−1)} − ½, which tends to a
///   width-free limit.
///
/// Errors: d = 0 (`d`), β NaN, negative or infinite (`beta`), τ outside (0, 1] (`tau`).
pub fn effective_rank_asymptotic(d: usize, beta: f64, tau: f64) -> Result<f64> {
    check_d(d)?;
    check_finite_exponent(beta, "beta")?;
    check_tau(tau)?;
    const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;
    let df = d as f64;
    Ok(if beta == 1.0 {
        (tau * df.ln() - EULER_GAMMA * (1.0 - tau)).exp()
    } else if beta < 1.0 {
        (tau.ln() / (1.0 - beta)).exp() * df
    } else {
        let c = beta - 1.0;
        let hd = log_h(d, beta).exp();
        let g = (-c * (df + 0.5).ln()).exp() + c * (1.0 - tau) * hd;
        (-g.ln() / c).exp() - 0.5
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn top_radial_curve_is_top_radial_and_its_slope_bit_for_bit() {
        // The chart inversion's one-pass evaluations must be the functions they replace.
        for d in [1, 2, 3, 17, 384, DIRECT_SUM_MAX, DIRECT_SUM_MAX + 1, 10_000] {
            let curve = TopRadialCurve::new(d);
            for alpha in [
                0.0,
                1e-12,
                0.01,
                0.37,
                0.5,
                1.0,
                2.5,
                40.0,
                700.0,
                f64::INFINITY,
            ] {
                let (r, slope) = curve.value_and_slope(alpha);
                let expected = top_radial_unchecked(d, alpha);
                assert_eq!(r.to_bits(), expected.to_bits(), "d = {d}, α = {alpha}");
                let mean = log_moments(d, 2.0 * alpha).0;
                assert_eq!(slope.to_bits(), mean.to_bits(), "d = {d}, α = {alpha}");
            }
        }
    }

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    /// Reference log H_d(β) by a plain Neumaier sum over every term.
    fn log_h_direct(d: usize, beta: f64) -> f64 {
        neumaier_sum((2..=d).map(|i| power(i, beta))).ln_1p()
    }

    /// Reference moments by plain sums over every term.
    fn moments_direct(d: usize, beta: f64) -> (f64, f64) {
        let w: Vec<f64> = (1..=d).map(|i| power(i, beta)).collect();
        let z = neumaier_sum(w.iter().copied());
        let l = |i: usize| ((i + 1) as f64).ln();
        let m = neumaier_sum(w.iter().enumerate().map(|(i, &x)| x * l(i))) / z;
        let v = neumaier_sum(w.iter().enumerate().map(|(i, &x)| x * (l(i) - m).powi(2))) / z;
        (m, v)
    }

    #[test]
    fn gauss_legendre_integrates_polynomials_and_exponentials() {
        let v = integrate(0.0, 1.0, 1, |x| x.powi(39));
        assert!(close(v, 1.0 / 40.0, 1e-14), "{v}");
        let v = integrate(0.0, 3.0, 2, f64::exp);
        assert!(close(v, 3f64.exp_m1(), 1e-14), "{v}");
    }

    #[test]
    fn worked_example_d4() {
        assert!(close(
            log_harmonic(4, 1.0).unwrap(),
            (25.0f64 / 12.0).ln(),
            1e-15
        ));
        let p = probabilities(4, 0.5).unwrap();
        for (a, b) in p.iter().zip([0.48, 0.24, 0.16, 0.12]) {
            assert!(close(*a, b, 1e-14), "{p:?}");
        }
    }

    #[test]
    fn golden_table_3_2() {
        let table = [
            (4usize, 0.5, 0.326163, 0.508489, 0.280477),
            (64, 0.5, 1.301013, 1.814495, 1.788465),
            (1024, 0.25, 1.397711, 5.109804, 2.619459),
            (1024, 1.0, 3.217183, 0.565590, 0.852214),
        ];
        for (d, a, r, rp, var) in table {
            assert!((top_radial(d, a).unwrap() - r).abs() < 5e-7, "R {d} {a}");
            assert!(
                (top_radial_slope(d, a).unwrap() - rp).abs() < 5e-7,
                "R' {d} {a}"
            );
            assert!(
                (log_rank_variance(d, 2.0 * a).unwrap() - var).abs() < 5e-7,
                "Var {d} {a}"
            );
        }
        assert!((bures_line_element(64, 0.5).unwrap() - 10.698681).abs() < 5e-7);
    }

    #[test]
    fn euler_maclaurin_matches_direct_sums() {
        for &d in &[DIRECT_SUM_MAX + 1, 10_000, 100_000] {
            for &beta in &[
                0.0, 0.3, 0.999_999, 1.0, 1.000_001, 1.5, 2.0, 3.0, 7.0, 20.0,
            ] {
                let em = harmonic_minus_one_em(d, beta).ln_1p();
                let direct = log_h_direct(d, beta);
                assert!(close(em, direct, 2e-15), "d={d} beta={beta} {em} {direct}");
                let (m, v) = log_moments(d, beta);
                let (m0, v0) = moments_direct(d, beta);
                assert!(close(m, m0, 1e-13), "mean d={d} beta={beta} {m} {m0}");
                assert!(close(v, v0, 1e-12), "var d={d} beta={beta} {v} {v0}");
            }
        }
    }

    #[test]
    fn huge_width_is_fast_and_finite() {
        let d = 1_000_000_000;
        for &beta in &[0.0, 0.5, 1.0 - 1e-12, 1.0, 1.0 + 1e-12, 2.0, 20.0] {
            let lh = log_harmonic(d, beta).unwrap();
            assert!(lh.is_finite());
            let (m, v) = log_moments(d, beta);
            assert!(m.is_finite() && v > 0.0);
        }
        assert!(close(log_harmonic(d, 0.0).unwrap(), (d as f64).ln(), 1e-15));
        // β = 0: F(k) = k/d, and the pinned threshold is τ − 64·d·ε.
        let target = 0.5 - 64.0 * d as f64 * f64::EPSILON;
        assert_eq!(
            effective_rank(d, 0.0, 0.5).unwrap(),
            (target * d as f64).ceil() as usize
        );
    }

    #[test]
    fn effective_rank_golden_numbers() {
        assert_eq!(effective_rank(1000, 0.5, 0.9).unwrap(), 815);
        assert_eq!(effective_rank(1000, 1.0, 0.9).unwrap(), 473);
        assert_eq!(effective_rank(1000, 2.0, 0.9).unwrap(), 6);
        assert_eq!(effective_rank(100_000, 1.5, 0.99).unwrap(), 3814);
        assert_eq!(effective_rank(20_000, 0.0, 0.5).unwrap(), 10_000);
        let (lo, hi) = effective_rank_bounds(1000, 0.5, 0.9).unwrap();
        assert!((lo - 760.4).abs() < 0.05 && hi == 841.0, "{lo} {hi}");
        let (lo, hi) = effective_rank_bounds(1000, 1.0, 0.9).unwrap();
        // (e·d)^τ = 1232.7 exceeds d and is capped.
        assert!((lo - 184.5).abs() < 0.05 && hi == 1000.0, "{lo} {hi}");
        assert!(((0.9 * (1.0 + 1000f64.ln())).exp() - 1232.7).abs() < 0.05);
        let (_, hi) = effective_rank_bounds(100_000, 1.0, 0.5).unwrap();
        assert!(
            (hi - (std::f64::consts::E * 1e5).sqrt()).abs() < 1e-9,
            "{hi}"
        );
        let (_, hi) = effective_rank_bounds(1000, 2.0, 0.9).unwrap();
        assert_eq!(hi, 7.0);
        let a = effective_rank_asymptotic(1000, 1.0, 0.9).unwrap();
        assert!((a - 473.08).abs() < 0.005, "{a}");
    }

    #[test]
    fn bad_arguments_name_the_argument() {
        let arg = |e: Error| match e {
            Error::InvalidArgument { arg, .. } => arg,
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(arg(log_harmonic(0, 1.0).unwrap_err()), "d");
        assert_eq!(arg(log_harmonic(3, f64::NAN).unwrap_err()), "beta");
        assert_eq!(arg(probabilities(3, -0.1).unwrap_err()), "alpha");
        assert_eq!(arg(top_radial(3, f64::NAN).unwrap_err()), "alpha");
        assert_eq!(arg(kl(3, 1.0, -1.0).unwrap_err()), "beta1");
        assert_eq!(arg(bhattacharyya(3, -1.0, 1.0).unwrap_err()), "beta0");
        assert_eq!(
            arg(fisher_rao_length(3, 0.0, f64::INFINITY).unwrap_err()),
            "beta1"
        );
        assert_eq!(arg(tail_bounds(3, 1.0, 4).unwrap_err()), "k");
        assert_eq!(arg(effective_rank(3, 1.0, 0.0).unwrap_err()), "tau");
        assert_eq!(arg(effective_rank_bounds(3, 1.0, 1.5).unwrap_err()), "tau");
        assert_eq!(
            arg(probabilities(MAX_MATERIALISED_WIDTH + 1, 1.0).unwrap_err()),
            "d"
        );
        assert_eq!(arg(log_harmonic(MAX_WIDTH + 1, 1.0).unwrap_err()), "d");
    }

    #[test]
    fn limits_and_trivial_widths() {
        assert_eq!(log_harmonic(1, 0.3).unwrap(), 0.0);
        assert_eq!(top_radial(1, 2.0).unwrap(), 0.0);
        assert_eq!(fisher_information(1, 2.0).unwrap(), 0.0);
        assert_eq!(
            probabilities(5, f64::INFINITY).unwrap(),
            vec![1.0, 0.0, 0.0, 0.0, 0.0]
        );
        assert!(close(
            top_radial(10, f64::INFINITY).unwrap(),
            0.5 * 10f64.ln(),
            1e-15
        ));
        assert_eq!(top_radial(10, 0.0).unwrap(), 0.0);
        assert!(close(
            top_radial_slope(10, 0.0).unwrap(),
            (1..=10).map(|i| (i as f64).ln()).sum::<f64>() / 10.0,
            1e-14
        ));
        assert_eq!(kl(10, 1.0, f64::INFINITY).unwrap(), f64::INFINITY);
        assert!(close(
            kl(10, f64::INFINITY, 1.0).unwrap(),
            log_harmonic(10, 1.0).unwrap(),
            1e-15
        ));
        assert_eq!(effective_rank(10, f64::INFINITY, 0.9).unwrap(), 1);
        // Huge but finite exponents stay cheap and finite.
        assert_eq!(fisher_rao_length(10, 1e6, 1e300).unwrap(), 0.0);
        let tail = fisher_rao_length(10, 0.0, 1e300).unwrap();
        assert!((tail - fisher_rao_length(10, 0.0, 200.0).unwrap()).abs() < 1e-12);
        assert_eq!(effective_rank_bounds(10, 1e300, 0.5).unwrap(), (1.0, 1.0));
        assert_eq!(top_radial(10, 1e300).unwrap(), 0.5 * 10f64.ln());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn kl_forms_agree(d in 2usize..300, b0 in 0.0f64..4.0, b1 in 0.0f64..4.0) {
            let v = kl(d, b0, b1).unwrap();
            let bregman = log_h(d, b1) - log_h(d, b0) + (b1 - b0) * log_moments(d, b0).0;
            prop_assert!((v - bregman).abs() <= 1e-12 * (1.0 + bregman.abs()));
            let panels = ((b1 - b0).abs() / 0.25).ceil() as usize;
            let integral = integrate(b0, b1, panels, |u| (b1 - u) * log_moments(d, u).1);
            prop_assert!((v - integral).abs() <= 1e-12 * (1.0 + v));
        }

        #[test]
        fn r_is_increasing_and_concave(d in 2usize..5000, a in 0.0f64..5.0) {
            let h = 1e-3;
            let (r0, r1, r2) = (
                top_radial(d, a).unwrap(),
                top_radial(d, a + h).unwrap(),
                top_radial(d, a + 2.0 * h).unwrap(),
            );
            prop_assert!(r1 > r0 && r2 > r1);
            prop_assert!(r2 - 2.0 * r1 + r0 <= 1e-12);
            let slope = (r2 - r0) / (2.0 * h);
            let exact = top_radial_slope(d, a + h).unwrap();
            prop_assert!((slope - exact).abs() <= 1e-5 * exact.max(1e-3));
        }

        #[test]
        fn erank_within_bounds(d in 1usize..3000, beta in 0.0f64..4.0, tau in 0.01f64..1.0) {
            let e = effective_rank(d, beta, tau).unwrap() as f64;
            let (lo, hi) = effective_rank_bounds(d, beta, tau).unwrap();
            prop_assert!(lo <= e && e <= hi, "{lo} <= {e} <= {hi}");
        }

        #[test]
        fn tail_and_harmonic_bounds_hold(d in 1usize..3000, beta in 0.0f64..5.0, frac in 0.0f64..1.0) {
            let k = 1 + ((d - 1) as f64 * frac) as usize;
            let t = neumaier_sum((k + 1..=d).map(|i| power(i, beta)));
            let (lo, hi) = tail_bounds(d, beta, k).unwrap();
            prop_assert!(lo <= t * (1.0 + 1e-12) + 1e-300 && t <= hi * (1.0 + 1e-12));
            let h = log_h(d, beta).exp();
            let (hlo, hhi) = harmonic_bounds(d, beta).unwrap();
            prop_assert!(hlo <= h * (1.0 + 1e-12) && h <= hhi * (1.0 + 1e-12));
        }
    }
}
