//! Operator chains: the running normalised product (Mode S), graded QR accumulation (Mode F), the
//! non-backtracking slack and the interface amplitude (SPEC §5, §9).
//!
//! A chain is a sequence of factors J_1, …, J_L (J_l of shape d_l × d_{l−1}) with partial products
//! P_l = J_l ⋯ J_1 (later factors multiply **on the left**), P_0 = I. The engine
//! ([`ChainEngine`]) reads the factors once, in order, in chunks of any size (a 3-D stack, a list,
//! or a stream of arrays: memory stays O(d²) whatever L is), and records per step:
//!
//! * **Mode S** (scalars): the normalised running product P̃_l = P_l/‖P_l‖_F and its log scale
//!   c_l = ½ log d_0 + Σ_{j≤l} log f_j (Neumaier-compensated), f_l = ‖J_l P̃_{l−1}‖_F, so that
//!   log s_1(P_l) = c_l + log s_1(P̃_l). The **slack**
//!   σ_l = log s_1(J_l) + log s_1(P_{l−1}) − log s_1(P_l) ∈ [0, 2 log ρ(J_l)] is computed
//!   **locally**: σ_l = log s_1(J_l) + log s_1(P̃_{l−1}) − log f_l − log s_1(P̃_l), never by
//!   subtracting accumulated large logs. The telescoping identity
//!   Σ_l log s_1(J_l) = log s_1(P_L) + Σ_l σ_l then holds to rounding. The **Ky Fan-k slack**
//!   σ_l^{(k)} = Σ_{i≤k}[a_i(J_l) + a_i(P_{l−1}) − a_i(P_l)] ≥ 0 (Horn) takes a_i(P_l) from the
//!   graded factorisation of Mode F (a one-sided Jacobi per step, relatively accurate even for
//!   tiny s_k(P_l)); once Mode F has degraded it falls back to the singular values of P̃, accurate
//!   only while s_k(P_l)/s_1(P_l) ≫ ε. Asking for Ky Fan slacks runs Mode F.
//! * **Interface amplitude** log ρ(J) = ½(log s_1(J) − log s_d(J)) (half the spread of the
//!   Cartan coordinate; scale-invariant); +∞ for a singular or non-square factor, which makes the
//!   profile-form bounds vacuous.
//! * **Mode F** (full Cartan vector of P_L): graded QDT accumulation P = Q·diag(e^δ)·T. Step:
//!   M = (J Q)·diag(e^{δ − max δ}); columns presorted by decreasing norm (Π), Householder QR
//!   M Π = Q′R′ (docs/DECISIONS.md §18: presorting instead of column pivoting); sign fix
//!   Q′ ← Q′S, S = diag(sign R′_ii); δ′_i = log|R′_ii| + max δ; T′ = diag(R′_ii)^{−1} R′ Πᵀ T. Q is
//!   kept as its Householder reflectors and applied to J from the right. At the end a one-sided
//!   (Hestenes) Jacobi on B = Tᵀ·diag(e^δ), carried with a separate log scale per column so no
//!   column underflows, gives log s_i(P_L). Failure test at every step: max δ − min δ > 650, a
//!   zero or subnormal R′_ii, or a non-finite T′ → the result is log s_i ≈ δ_i flagged
//!   `degraded`.
//!
//! Work per step: the serial part is the Mode S product J·P̃ and the Mode F step; the singular
//! values of J_l and of P̃_l (and any per-step analysis) run in parallel across steps on the
//! current rayon pool, overlapped with the serial part of the next chunk. Every step is computed
//! the same way whatever the chunking or the thread count, so results do not depend on either.

use crate::error::{Error, Result};
use crate::parallel::{try_map, Cancel};
use crate::spectrum::{self, Element, Method};
use crate::sum::{dot, neumaier_sum, NeumaierSum};
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::matmul::triangular::BlockStructure;
use faer::linalg::{householder, qr};
use faer::{Accum, Conj, Mat, MatRef, Par};
use std::sync::Arc;

/// Name of the factors argument in errors.
pub const ARG: &str = "factors";

/// Spread (nats) of the graded diagonal past which Mode F cannot represent the product in `f64`.
pub const MODE_F_MAX_SPREAD: f64 = 650.0;

/// Options of a chain pass.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainOptions {
    /// Run Mode F (the full log spectrum of P_L). Costs about 2.2× the Mode S product per step.
    pub product_spectrum: bool,
    /// The k of every Ky Fan-k slack to record (each 1 ≤ k ≤ the smallest width of the chain).
    pub ky_fan: Vec<usize>,
    /// How the singular values of each factor and each normalised prefix are computed.
    pub method: Method,
}

impl Default for ChainOptions {
    fn default() -> Self {
        ChainOptions {
            product_spectrum: true,
            ky_fan: Vec::new(),
            method: Method::Auto,
        }
    }
}

/// The spectra of one step, handed to the per-step analysis (which runs in parallel).
#[derive(Debug, Clone, Copy)]
pub struct StepSpectra<'a> {
    /// 0-based index of the factor J_{index+1}.
    pub index: usize,
    /// Shape (d_l, d_{l−1}) of the factor.
    pub factor_shape: (usize, usize),
    /// Descending singular values of the factor J_l.
    pub factor_sv: &'a [f64],
    /// Descending singular values of the normalised prefix P̃_l = P_l/‖P_l‖_F.
    pub prefix_sv: &'a [f64],
}

/// The log spectrum of the whole product P_L (Mode F).
#[derive(Debug, Clone, PartialEq)]
pub struct ProductSpectrum {
    /// log s_i(P_L), descending (−∞ for exactly zero singular values).
    pub log_sv: Vec<f64>,
    /// Whether f64 Mode F failed (see [`ProductSpectrum::reason`]); the values are then the
    /// graded diagonal δ, an approximation only.
    pub degraded: bool,
    /// Why the result is degraded (empty when it is not).
    pub reason: String,
}

/// Everything one pass records, one entry per factor (index l − 1 for J_l).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChainRun {
    /// Shape (d_l, d_{l−1}) of each factor.
    pub shapes: Vec<(usize, usize)>,
    /// log s_1(J_l).
    pub factor_log_top: Vec<f64>,
    /// Top-radial coordinate r(J_l) = log s_1(Ĵ_l).
    pub factor_top_radial: Vec<f64>,
    /// Interface amplitude log ρ(J_l) = ½ log(s_1/s_d); +∞ when singular or non-square.
    pub factor_log_rho: Vec<f64>,
    /// log s_1(P_l) (Mode S).
    pub prefix_log_top: Vec<f64>,
    /// Top-radial coordinate r(P_l).
    pub prefix_top_radial: Vec<f64>,
    /// log s_1(Q_l), Q_l = Ĵ_l ⋯ Ĵ_1 the product of the Frobenius-normalised factors (SPEC §6.1).
    pub normalized_log_top: Vec<f64>,
    /// Chain slack σ_l (σ_1 = 0).
    pub slack: Vec<f64>,
    /// (k, σ_l^{(k)} for every l) for each requested k.
    pub ky_fan: Vec<(usize, Vec<f64>)>,
    /// Mode F result, when asked for.
    pub product: Option<ProductSpectrum>,
    /// Width d_0 of the input side (columns of J_1).
    pub input_width: usize,
}

impl ChainRun {
    /// Number of factors L.
    pub fn len(&self) -> usize {
        self.shapes.len()
    }

    /// Whether no factor has been read.
    pub fn is_empty(&self) -> bool {
        self.shapes.is_empty()
    }

    /// Drops the spare capacity of every column (long streamed chains).
    fn shrink_to_fit(&mut self) {
        self.shapes.shrink_to_fit();
        for v in [
            &mut self.factor_log_top,
            &mut self.factor_top_radial,
            &mut self.factor_log_rho,
            &mut self.prefix_log_top,
            &mut self.prefix_top_radial,
            &mut self.normalized_log_top,
            &mut self.slack,
        ] {
            v.shrink_to_fit();
        }
        for (_, v) in &mut self.ky_fan {
            v.shrink_to_fit();
        }
    }
}

/// Copies a factor into an `f64` matrix, checking that it is non-empty and finite.
fn to_f64<T: Element>(a: MatRef<'_, T>, index: usize) -> Result<Mat<f64>> {
    let (m, n) = a.shape();
    if m == 0 || n == 0 {
        return Err(Error::Empty {
            arg: ARG.into(),
            index,
            rows: m,
            cols: n,
        });
    }
    let mut out = Mat::<f64>::zeros(m, n);
    for j in 0..n {
        for i in 0..m {
            let x = a[(i, j)].to_f64();
            if !x.is_finite() {
                return Err(Error::NonFinite {
                    arg: ARG.into(),
                    index,
                    row: i,
                    col: j,
                });
            }
            out[(i, j)] = x;
        }
    }
    Ok(out)
}

/// Mode S state: P̃ and its log scale.
#[derive(Debug, Clone)]
struct ModeS {
    /// Shared with the step's parallel work (read-only there), so that handing it over copies
    /// nothing.
    ptilde: Arc<Mat<f64>>,
    log_scale: NeumaierSum,
}

impl ModeS {
    /// P̃ ← J·P̃/f with f = ‖J·P̃‖_F; returns the new P̃ and log f (shapes already checked).
    fn step(&mut self, j: MatRef<'_, f64>, index: usize) -> Result<(Arc<Mat<f64>>, f64)> {
        let mut m = Mat::<f64>::zeros(j.nrows(), self.ptilde.ncols());
        faer::linalg::matmul::matmul(
            m.as_mut(),
            Accum::Replace,
            j,
            (*self.ptilde).as_ref(),
            1.0,
            Par::Seq,
        );
        let f = m.norm_l2();
        if !(f > 0.0 && f.is_finite()) {
            return Err(Error::ZeroMatrix {
                arg: "product".into(),
                index,
            });
        }
        m *= faer::Scale(1.0 / f);
        let log_f = f.ln();
        self.log_scale.add(log_f);
        self.ptilde = Arc::new(m);
        Ok((Arc::clone(&self.ptilde), log_f))
    }
}

/// Mode F state: P = Q·diag(e^δ)·T with Q = (Householder reflectors of the last QR)·S.
#[derive(Debug, Clone)]
struct ModeF {
    /// Householder basis (strictly below the diagonal) and R′ of the last step; 0 × 0 at the start
    /// (Q = I).
    qr: Mat<f64>,
    hcoef: Mat<f64>,
    signs: Vec<f64>,
    delta: Vec<f64>,
    t: Mat<f64>,
    reason: String,
}

impl ModeF {
    fn new(n0: usize) -> Self {
        ModeF {
            qr: Mat::zeros(0, 0),
            hcoef: Mat::zeros(0, 0),
            signs: vec![1.0; n0],
            delta: vec![0.0; n0],
            t: Mat::identity(n0, n0),
            reason: String::new(),
        }
    }

    /// max δ − min δ (+∞ when some δ_i = −∞): about log cond(P).
    fn log_spread(&self) -> f64 {
        let (lo, hi) = self
            .delta
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                (lo.min(x), hi.max(x))
            });
        hi - lo
    }

    fn degraded(&self) -> bool {
        !self.reason.is_empty()
    }

    /// One graded QR step with the factor `j` (shapes already checked by Mode S).
    fn step(&mut self, j: MatRef<'_, f64>, index: usize) {
        let rows = j.nrows();
        let k = self.delta.len();
        // M = (J Q)·diag(sign·e^{δ − max δ}), Q applied as Householder reflectors from the right.
        let mut jq = j.to_owned();
        if self.qr.nrows() > 0 {
            let bs = self.hcoef.nrows();
            let mut mem =
                MemBuffer::new(
                    householder::apply_block_householder_sequence_on_the_right_in_place_scratch::<
                        f64,
                    >(self.qr.nrows(), bs, rows),
                );
            householder::apply_block_householder_sequence_on_the_right_in_place_with_conj(
                self.qr.as_ref(),
                self.hcoef.as_ref(),
                Conj::No,
                jq.as_mut(),
                Par::Seq,
                MemStack::new(&mut mem),
            );
        }
        let dmax = self.delta.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        // Presorting: the columns of M in order of decreasing norm ‖(JQ)_c‖·e^{δ_c} (compared in
        // logs, so no scaled norm under- or overflows), ties in their own order.
        let log_norm: Vec<f64> = (0..k)
            .map(|c| jq.col(c).norm_l2().ln() + self.delta[c])
            .collect();
        let mut fwd: Vec<usize> = (0..k).collect();
        fwd.sort_by(|&a, &b| log_norm[b].total_cmp(&log_norm[a]));
        let mut m = Mat::<f64>::zeros(rows, k);
        for (dst, &c) in fwd.iter().enumerate() {
            let w = self.signs[c] * (self.delta[c] - dmax).exp();
            for (x, y) in m.col_as_slice_mut(dst).iter_mut().zip(jq.col_as_slice(c)) {
                *x = y * w;
            }
        }
        // Householder QR of the presorted columns: M Π = Q′R′.
        let size = rows.min(k);
        let bs = qr::no_pivoting::factor::recommended_block_size::<f64>(rows, k);
        let mut hcoef = Mat::<f64>::zeros(bs, size);
        let mut mem = MemBuffer::new(qr::no_pivoting::factor::qr_in_place_scratch::<f64>(
            rows,
            k,
            bs,
            Par::Seq,
            Default::default(),
        ));
        qr::no_pivoting::factor::qr_in_place(
            m.as_mut(),
            hcoef.as_mut(),
            Par::Seq,
            MemStack::new(&mut mem),
            Default::default(),
        );
        let mut delta = Vec::with_capacity(size);
        let mut signs = Vec::with_capacity(size);
        let mut tiny = false;
        for i in 0..size {
            let rii = m[(i, i)];
            if rii == 0.0 || !rii.is_normal() {
                tiny = true;
            }
            signs.push(if rii < 0.0 { -1.0 } else { 1.0 });
            delta.push(rii.abs().ln() + dmax);
        }
        if tiny && !self.degraded() {
            self.reason = format!(
                "factor {index}: a pivot of the graded QR is zero or subnormal (the product is \
                 numerically singular)"
            );
        }
        if !self.degraded() {
            // T′ = U·(Πᵀ T), U = diag(R′_ii)^{−1} R′ (unit upper trapezoidal).
            let n0 = self.t.ncols();
            let inv_diag: Vec<f64> = (0..size).map(|i| 1.0 / m[(i, i)]).collect();
            let mut u = Mat::<f64>::zeros(size, k);
            for c in 0..k {
                let top = (c + 1).min(size);
                let src = &m.col_as_slice(c)[..top];
                for ((x, y), s) in u.col_as_slice_mut(c).iter_mut().zip(src).zip(&inv_diag) {
                    *x = y * s;
                }
            }
            let mut pt = Mat::<f64>::zeros(k, n0);
            for c in 0..n0 {
                let src = self.t.col_as_slice(c);
                for (x, &r) in pt.col_as_slice_mut(c).iter_mut().zip(&fwd) {
                    *x = src[r];
                }
            }
            let mut t = Mat::<f64>::zeros(size, n0);
            if size == k {
                faer::linalg::matmul::triangular::matmul(
                    t.as_mut(),
                    BlockStructure::Rectangular,
                    Accum::Replace,
                    u.as_ref(),
                    BlockStructure::TriangularUpper,
                    pt.as_ref(),
                    BlockStructure::Rectangular,
                    1.0,
                    Par::Seq,
                );
            } else {
                faer::linalg::matmul::matmul(
                    t.as_mut(),
                    Accum::Replace,
                    u.as_ref(),
                    pt.as_ref(),
                    1.0,
                    Par::Seq,
                );
            }
            let finite = (0..n0).all(|c| t.col_as_slice(c).iter().all(|x| x.is_finite()));
            if finite {
                self.t = t;
            } else {
                self.reason = format!("factor {index}: the graded factor T became non-finite");
            }
        }
        let (lo, hi) = delta
            .iter()
            .filter(|x| x.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                (lo.min(x), hi.max(x))
            });
        if hi - lo > MODE_F_MAX_SPREAD && !self.degraded() {
            self.reason = format!(
                "factor {index}: the log singular values span {:.1} nats, more than the {} \
                 that f64 Mode F supports",
                hi - lo,
                MODE_F_MAX_SPREAD
            );
        }
        self.qr = m;
        self.hcoef = hcoef;
        self.signs = signs;
        self.delta = delta;
    }

    /// The columns of B = Tᵀ·diag(e^δ) as (rows of T, δ): the input of [`graded_jacobi`].
    fn graded(&self) -> Option<Graded> {
        if self.degraded() {
            return None;
        }
        let rows = (0..self.delta.len())
            .map(|i| (0..self.t.ncols()).map(|c| self.t[(i, c)]).collect())
            .collect();
        Some(Graded {
            rows,
            delta: self.delta.clone(),
        })
    }

    /// The log singular values of the accumulated product, padded with −∞ to `width`.
    fn finish(self, width: usize) -> ProductSpectrum {
        let (mut log_sv, reason) = match self.graded().map(Graded::log_sv) {
            None => (self.delta, self.reason),
            Some(Some(v)) => (v, String::new()),
            Some(None) => (
                self.delta,
                "the final one-sided Jacobi did not converge".to_string(),
            ),
        };
        log_sv.sort_by(|a, b| b.total_cmp(a));
        log_sv.resize(width.max(log_sv.len()), f64::NEG_INFINITY);
        ProductSpectrum {
            degraded: !reason.is_empty(),
            log_sv,
            reason,
        }
    }
}

/// A snapshot of the graded factorisation P = Q·diag(e^δ)·T (rows of T and δ).
#[derive(Debug, Clone)]
struct Graded {
    rows: Vec<Vec<f64>>,
    delta: Vec<f64>,
}

impl Graded {
    /// log s_i(P), descending, by [`graded_jacobi`] (`None` if it does not converge).
    fn log_sv(self) -> Option<Vec<f64>> {
        let mut v = graded_jacobi(self.rows, self.delta)?;
        v.sort_by(|a, b| b.total_cmp(a));
        Some(v)
    }
}

/// Moves the norm of `c` into its log scale `g` (c becomes a unit vector; a zero column gets
/// g = −∞).
fn fold_norm(c: &mut [f64], g: &mut f64) {
    let n = dot(c, c).sqrt();
    if n == 0.0 || !n.is_finite() {
        *g = f64::NEG_INFINITY;
        return;
    }
    c.iter_mut().for_each(|x| *x /= n);
    *g += n.ln();
}

/// One-sided (Hestenes) Jacobi on the columns b_i = e^{g_i}·c_i, each carried as a unit vector
/// c_i and a log scale g_i so that no column under- or overflows. Returns log s_i = g_i after
/// convergence (unsorted), or `None` when 80 sweeps do not converge.
///
/// For a pair with scales g_b ≥ g_s, ω = e^{g_s − g_b} ≤ 1 and the standard rotation
/// ζ = (β − α)/(2γ), t = sign ζ/(|ζ| + √(1 + ζ²)) is evaluated through z = ζω and t/ω, which stay
/// finite when ω underflows (the rotation then is one Gram–Schmidt step of the small column).
fn graded_jacobi(cols: Vec<Vec<f64>>, mut g: Vec<f64>) -> Option<Vec<f64>> {
    let k = cols.len();
    let n = cols.first().map_or(0, |c| c.len());
    // Column i lives at flat[i·n .. (i+1)·n], a unit vector (or zero, with g_i = −∞).
    let mut flat: Vec<f64> = cols.into_iter().flatten().collect();
    for (c, gi) in flat.chunks_exact_mut(n.max(1)).zip(g.iter_mut()) {
        fold_norm(c, gi);
    }
    let tol = f64::EPSILON * (n.max(1) as f64).sqrt();
    for _sweep in 0..80 {
        let mut rotated = false;
        for p in 0..k {
            for q in p + 1..k {
                if g[p] == f64::NEG_INFINITY || g[q] == f64::NEG_INFINITY {
                    continue;
                }
                // p < q: split so that both columns can be updated in place.
                let (head, tail) = flat.split_at_mut(q * n);
                let (cp, cq) = (&mut head[p * n..(p + 1) * n], &mut tail[..n]);
                let gamma = dot(cp, cq);
                let (ap, aq) = (dot(cp, cp), dot(cq, cq));
                if gamma.abs() <= tol * (ap * aq).sqrt() {
                    continue;
                }
                rotated = true;
                let p_big = g[p] >= g[q];
                let (alpha, beta) = if p_big { (ap, aq) } else { (aq, ap) };
                let (gb, gs) = if p_big { (g[p], g[q]) } else { (g[q], g[p]) };
                let omega = (gs - gb).exp();
                let z = (omega * omega * beta - alpha) / (2.0 * gamma);
                let t_over_omega = z.signum() / (z.abs() + (omega * omega + z * z).sqrt());
                let t = omega * t_over_omega;
                let c = 1.0 / (1.0 + t * t).sqrt();
                let (to_big, to_small) = (c * t * omega, c * t_over_omega);
                let (big, small) = if p_big { (cp, cq) } else { (cq, cp) };
                for (xb, xs) in big.iter_mut().zip(small.iter_mut()) {
                    let (vb, vs) = (*xb, *xs);
                    *xb = c * vb - to_big * vs;
                    *xs = to_small * vb + c * vs;
                }
                let (mut nb, mut ns) = (gb, gs);
                fold_norm(big, &mut nb);
                fold_norm(small, &mut ns);
                if p_big {
                    g[p] = nb;
                    g[q] = ns;
                } else {
                    g[q] = nb;
                    g[p] = ns;
                }
            }
        }
        if !rotated {
            return Some(g);
        }
    }
    None
}

/// Output of the serial part of one step.
struct SerialStep {
    index: usize,
    factor: Mat<f64>,
    prefix: Arc<Mat<f64>>,
    log_f: f64,
    log_scale: f64,
    /// The graded factorisation of P_l, kept only for accurate Ky Fan slacks.
    graded: Option<Graded>,
    /// How the singular values of P̃_l are computed (see [`prefix_method`]).
    prefix_method: Method,
}

/// What the parallel part computes for one step.
struct ParallelStep<U> {
    log_top_factor: f64,
    r_factor: f64,
    log_rho: f64,
    log_top_prefix: f64,
    r_prefix: f64,
    ky_factor: Vec<f64>,
    ky_prefix: Vec<f64>,
    /// Σ_{i≤k} log s_i(P_l) (absolute, from the graded factorisation), when available.
    ky_prefix_abs: Option<Vec<f64>>,
    analysis: U,
}

/// Σ_{i≤k} x_i for each k of `ks` (x already in logs).
fn prefix_sums(x: &[f64], ks: &[usize]) -> Vec<f64> {
    ks.iter()
        .map(|&k| neumaier_sum(x.iter().take(k).copied()))
        .collect()
}

/// Σ_{i≤k} log s_i for each k of `ks`; NaN when s_k is numerically zero (below k·ε·s_1, so its
/// log is noise), which makes that Ky Fan slack undefined rather than wrong.
fn partial_log_sums(sv: &[f64], ks: &[usize]) -> Vec<f64> {
    let rank = spectrum::numerical_rank(sv, sv.len(), sv.len());
    ks.iter()
        .map(|&k| {
            if k > rank {
                return f64::NAN;
            }
            neumaier_sum(sv.iter().take(k).map(|s| s.ln()))
        })
        .collect()
}

/// The single-pass chain engine: push factors in order (any chunking), then [`finish`].
///
/// [`finish`]: ChainEngine::finish
#[derive(Debug, Clone)]
pub struct ChainEngine {
    opts: ChainOptions,
    mode_s: Option<ModeS>,
    mode_f: Option<ModeF>,
    run: ChainRun,
    /// log s_1(P̃_{l−1}) and the Ky Fan partial sums of P̃_{l−1}.
    prev_log_top: f64,
    prev_ky: Vec<f64>,
    prev_ky_abs: Option<Vec<f64>>,
    normalized_scale: NeumaierSum,
    min_width: usize,
    timings: Timings,
}

/// Wall-clock time spent in a pass (diagnostics: results never depend on it).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Timings {
    /// Seconds spent in the serial part (Mode S product and Mode F step), which overlaps with
    /// the parallel part of the previous chunk.
    pub serial: f64,
    /// Seconds spent in [`ChainEngine::push`] altogether.
    pub total: f64,
}

impl ChainEngine {
    /// A new engine with no factor read yet.
    pub fn new(opts: ChainOptions) -> Result<Self> {
        if opts.ky_fan.contains(&0) {
            return Err(Error::invalid("ky_fan", "every k must be at least 1"));
        }
        let ky = opts.ky_fan.iter().map(|&k| (k, Vec::new())).collect();
        Ok(ChainEngine {
            opts,
            mode_s: None,
            mode_f: None,
            run: ChainRun {
                ky_fan: ky,
                ..ChainRun::default()
            },
            prev_log_top: 0.0,
            prev_ky: Vec::new(),
            prev_ky_abs: None,
            normalized_scale: NeumaierSum::new(),
            min_width: usize::MAX,
            timings: Timings::default(),
        })
    }

    /// Number of factors read so far.
    pub fn len(&self) -> usize {
        self.run.len()
    }

    /// Whether no factor has been read.
    pub fn is_empty(&self) -> bool {
        self.run.is_empty()
    }

    /// Time spent so far; serial/total is the share of the serial part on the critical path.
    pub fn timings(&self) -> Timings {
        self.timings
    }

    /// Reads the next factors, recording the chain quantities of each step and calling
    /// `analyse` on each step's spectra (in parallel across steps) and `sink` on the results
    /// (serially, in order).
    ///
    /// Errors: [`Error::Empty`] / [`Error::NonFinite`] for a bad factor, [`Error::ChainMismatch`]
    /// when J_l cannot multiply P_{l−1}, [`Error::ZeroMatrix`] when the product becomes zero,
    /// [`Error::InvalidArgument`] when a Ky Fan k exceeds a width, [`Error::Cancelled`]. Every
    /// error names the 0-based index of the offending factor.
    pub fn push<T, U, A, S>(
        &mut self,
        factors: &[MatRef<'_, T>],
        cancel: &Cancel,
        analyse: &A,
        sink: &mut S,
    ) -> Result<()>
    where
        T: Element,
        U: Send,
        A: Fn(&StepSpectra<'_>) -> Result<U> + Sync,
        S: FnMut(U) -> Result<()>,
    {
        let chunk = (4 * rayon::current_num_threads()).max(8);
        let started = std::time::Instant::now();
        let offset = self.len();
        let mut pending: Option<Vec<SerialStep>> = None;
        let mut start = 0;
        while start < factors.len() || pending.is_some() {
            let end = (start + chunk).min(factors.len());
            let next = &factors[start..end];
            let base = offset + start;
            let (serial, parallel) = {
                let opts = &self.opts;
                let mode_s = &mut self.mode_s;
                let mode_f = &mut self.mode_f;
                let min_width = &mut self.min_width;
                let taken = pending.take();
                rayon::join(
                    || -> Result<(Vec<SerialStep>, f64)> {
                        let t0 = std::time::Instant::now();
                        let mut out = Vec::with_capacity(next.len());
                        for (i, a) in next.iter().enumerate() {
                            cancel.check()?;
                            let j = to_f64(*a, base + i)?;
                            out.push(serial_step(opts, mode_s, mode_f, min_width, j, base + i)?);
                        }
                        Ok((out, t0.elapsed().as_secs_f64()))
                    },
                    || taken.map(|steps| parallel_stage(opts, steps, cancel, analyse)),
                )
            };
            if let Some(p) = parallel {
                let (steps, results) = p?;
                self.finalize(steps, results, sink)?;
            }
            let (serial, seconds) = serial?;
            self.timings.serial += seconds;
            pending = (!serial.is_empty()).then_some(serial);
            start = end;
        }
        self.timings.total += started.elapsed().as_secs_f64();
        Ok(())
    }

    /// Records the parallel results of a chunk, in order.
    fn finalize<U, S>(
        &mut self,
        steps: Vec<SerialStep>,
        results: Vec<ParallelStep<U>>,
        sink: &mut S,
    ) -> Result<()>
    where
        S: FnMut(U) -> Result<()>,
    {
        for (st, p) in steps.into_iter().zip(results) {
            let run = &mut self.run;
            if run.shapes.is_empty() {
                let n0 = st.factor.ncols() as f64;
                self.prev_log_top = -0.5 * n0.ln();
                self.prev_ky = self
                    .opts
                    .ky_fan
                    .iter()
                    .map(|&k| -0.5 * k as f64 * n0.ln())
                    .collect();
                self.prev_ky_abs = Some(vec![0.0; self.opts.ky_fan.len()]);
                self.normalized_scale.add(0.5 * n0.ln());
                run.input_width = st.factor.ncols();
            }
            run.shapes.push(st.factor.shape());
            run.factor_log_top.push(p.log_top_factor);
            run.factor_top_radial.push(p.r_factor);
            run.factor_log_rho.push(p.log_rho);
            run.prefix_log_top.push(st.log_scale + p.log_top_prefix);
            run.prefix_top_radial.push(p.r_prefix);
            // σ_1 = 0 exactly (P_0 = I: nothing to backtrack against).
            let slack = if run.slack.is_empty() {
                0.0
            } else {
                p.log_top_factor + self.prev_log_top - st.log_f - p.log_top_prefix
            };
            run.slack.push(slack);
            // log(‖J‖_F/√k) = log s_1(J) − r(J): the factor's normalisation scale.
            self.normalized_scale
                .add(st.log_f - (p.log_top_factor - p.r_factor));
            run.normalized_log_top
                .push(self.normalized_scale.value() + p.log_top_prefix);
            for (i, (_, col)) in run.ky_fan.iter_mut().enumerate() {
                let k = self.opts.ky_fan[i] as f64;
                // Accurate graded values when both ends have them; else the normalised product.
                col.push(match (&self.prev_ky_abs, &p.ky_prefix_abs) {
                    (Some(prev), Some(cur)) => p.ky_factor[i] + prev[i] - cur[i],
                    _ => p.ky_factor[i] + self.prev_ky[i] - k * st.log_f - p.ky_prefix[i],
                });
            }
            self.prev_log_top = p.log_top_prefix;
            self.prev_ky = p.ky_prefix;
            self.prev_ky_abs = p.ky_prefix_abs;
            debug_assert_eq!(run.shapes.len(), st.index + 1);
            sink(p.analysis)?;
        }
        Ok(())
    }

    /// Ends the pass: runs the final Jacobi of Mode F and returns everything recorded.
    ///
    /// Errors: [`Error::Empty`] when no factor was read.
    pub fn finish(mut self) -> Result<ChainRun> {
        if self.run.is_empty() {
            return Err(Error::Empty {
                arg: ARG.into(),
                index: 0,
                rows: 0,
                cols: 0,
            });
        }
        self.run.shrink_to_fit();
        if let Some(f) = self.mode_f.take().filter(|_| self.opts.product_spectrum) {
            let (rows, _) = self.run.shapes[self.run.len() - 1];
            self.run.product = Some(f.finish(rows.min(self.run.input_width)));
        }
        Ok(self.run)
    }
}

/// The serial part of one step: Mode S product and Mode F step.
fn serial_step(
    opts: &ChainOptions,
    mode_s: &mut Option<ModeS>,
    mode_f: &mut Option<ModeF>,
    min_width: &mut usize,
    j: Mat<f64>,
    index: usize,
) -> Result<SerialStep> {
    let (rows, cols) = j.shape();
    let s = mode_s.get_or_insert_with(|| {
        let mut log_scale = NeumaierSum::new();
        log_scale.add(0.5 * (cols as f64).ln());
        ModeS {
            ptilde: Arc::new(
                Mat::<f64>::identity(cols, cols) * faer::Scale(1.0 / (cols as f64).sqrt()),
            ),
            log_scale,
        }
    });
    if s.ptilde.nrows() != cols {
        return Err(Error::ChainMismatch {
            arg: ARG.into(),
            index,
            left: (rows, cols),
            right: s.ptilde.shape(),
        });
    }
    *min_width = (*min_width).min(rows.min(cols));
    if let Some(&k) = opts.ky_fan.iter().find(|&&k| k > *min_width) {
        return Err(Error::invalid(
            "ky_fan",
            format!(
                "k = {k} exceeds the width {} reached at factor {index}",
                *min_width
            ),
        ));
    }
    let (m, log_f) = s.step(j.as_ref(), index)?;
    let mut graded = None;
    if opts.product_spectrum || !opts.ky_fan.is_empty() {
        let f = mode_f.get_or_insert_with(|| ModeF::new(cols));
        f.step(j.as_ref(), index);
        if !opts.ky_fan.is_empty() {
            graded = f.graded();
        }
    }
    let prefix_method = prefix_method(opts.method, mode_f.as_ref(), m.nrows().max(m.ncols()));
    Ok(SerialStep {
        index,
        factor: j,
        prefix: m,
        log_f,
        log_scale: s.log_scale.value(),
        graded,
        prefix_method,
    })
}

/// Margin (in nats) by which Mode F's graded spread must exceed the log of the Gram route's
/// condition limit before the prefix goes straight to the SVD route.
const PREFIX_SVD_MARGIN: f64 = std::f64::consts::LN_2 * 3.0;

/// The method for the singular values of P̃_l. Under [`Method::Auto`], when Mode F runs and its
/// graded diagonal spans more than the Gram route's condition limit (times e^margin, see
/// [`PREFIX_SVD_MARGIN`]), P̃_l is too ill-conditioned for the Gram route and goes straight to
/// the SVD, skipping the Gram product and filter that would reject it. The spread estimates
/// log cond(P_l) (the diagonal of R′ follows the singular values on these column-graded
/// matrices); a wrong estimate only costs time, since both routes meet the accuracy contract.
/// It comes from the serial part, so the choice does not depend on chunking or threads.
fn prefix_method(method: Method, mode_f: Option<&ModeF>, rows: usize) -> Method {
    match mode_f {
        Some(f)
            if method == Method::Auto
                && f.log_spread()
                    > spectrum::gram_condition_limit(rows, f64::CONTRACT).ln()
                        + PREFIX_SVD_MARGIN =>
        {
            Method::Svd
        }
        _ => method,
    }
}

/// The parallel part of a chunk: spectra of each factor and prefix, and the analysis.
fn parallel_stage<U, A>(
    opts: &ChainOptions,
    steps: Vec<SerialStep>,
    cancel: &Cancel,
    analyse: &A,
) -> Result<(Vec<SerialStep>, Vec<ParallelStep<U>>)>
where
    U: Send,
    A: Fn(&StepSpectra<'_>) -> Result<U> + Sync,
{
    let results = try_map(&steps, cancel, |_, st| {
        let fsv = spectrum::singular_values_f64(st.factor.as_ref(), opts.method, ARG, st.index)?;
        if fsv[0] == 0.0 {
            return Err(Error::ZeroMatrix {
                arg: ARG.into(),
                index: st.index,
            });
        }
        let psv = spectrum::singular_values_f64(
            (*st.prefix).as_ref(),
            st.prefix_method,
            "product",
            st.index,
        )?;
        let (rows, cols) = st.factor.shape();
        let k = fsv.len();
        let log_rho = if rows == cols && spectrum::numerical_rank(&fsv, rows, cols) == k {
            0.5 * (fsv[0].ln() - fsv[k - 1].ln())
        } else {
            f64::INFINITY
        };
        let analysis = analyse(&StepSpectra {
            index: st.index,
            factor_shape: (rows, cols),
            factor_sv: &fsv,
            prefix_sv: &psv,
        })?;
        Ok(ParallelStep {
            log_top_factor: fsv[0].ln(),
            r_factor: spectrum::top_radial(&fsv)?,
            log_rho,
            log_top_prefix: psv[0].ln(),
            r_prefix: spectrum::top_radial(&psv)?,
            ky_factor: partial_log_sums(&fsv, &opts.ky_fan),
            ky_prefix: partial_log_sums(&psv, &opts.ky_fan),
            ky_prefix_abs: st
                .graded
                .clone()
                .and_then(Graded::log_sv)
                .map(|v| prefix_sums(&v, &opts.ky_fan)),
            analysis,
        })
    })?;
    Ok((steps, results))
}

/// Runs a whole chain given as a slice of factors (no per-step analysis).
pub fn run<T: Element>(
    factors: &[MatRef<'_, T>],
    opts: ChainOptions,
    cancel: &Cancel,
) -> Result<ChainRun> {
    let mut engine = ChainEngine::new(opts)?;
    engine.push(factors, cancel, &|_| Ok(()), &mut |_: ()| Ok(()))?;
    engine.finish()
}

/// Slack σ(K, X) = log s_1(K) + log s_1(X) − log s_1(KX) of one product (SPEC §5), computed
/// on normalised copies so that it does not depend on the scales of K and X.
pub fn slack(k: MatRef<'_, f64>, x: MatRef<'_, f64>) -> Result<f64> {
    if k.ncols() != x.nrows() {
        return Err(Error::ChainMismatch {
            arg: "k".into(),
            index: 0,
            left: k.shape(),
            right: x.shape(),
        });
    }
    let r = run(
        &[x, k],
        ChainOptions {
            product_spectrum: false,
            ..ChainOptions::default()
        },
        &Cancel::new(),
    )?;
    Ok(r.slack[1])
}

/// Interface amplitude log ρ(K) = ½ log(s_1(K)/s_d(K)) of a square matrix (SPEC §5); +∞ when K
/// is singular (numerical rank below d) or not square.
pub fn log_interface_amplitude(sv: &[f64], rows: usize, cols: usize) -> Result<f64> {
    spectrum::check_spectrum(sv, "sv")?;
    let k = sv.len();
    Ok(
        if rows == cols && spectrum::numerical_rank(sv, rows, cols) == k {
            0.5 * (sv[0].ln() - sv[k - 1].ln())
        } else {
            f64::INFINITY
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random number in [−1, 1) (xorshift).
    fn rng(state: &mut u64) -> f64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        (*state >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    fn near_identity(l: usize, d: usize, h: f64, seed: u64) -> Vec<Mat<f64>> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..l)
            .map(|_| Mat::from_fn(d, d, |i, j| (i == j) as u8 as f64 + h * rng(&mut s)))
            .collect()
    }

    fn direct_log_sv(factors: &[Mat<f64>]) -> Vec<f64> {
        let mut p = Mat::<f64>::identity(factors[0].ncols(), factors[0].ncols());
        for j in factors {
            p = j * &p;
        }
        spectrum::singular_values_f64(p.as_ref(), Method::Svd, "p", 0)
            .unwrap()
            .iter()
            .map(|s| s.ln())
            .collect()
    }

    #[test]
    fn telescoping_and_mode_f_match_the_direct_product() {
        let fs = near_identity(40, 6, 0.3, 7);
        let refs: Vec<_> = fs.iter().map(|m| m.as_ref()).collect();
        let r = run(
            &refs,
            ChainOptions {
                ky_fan: vec![1, 3, 6],
                ..Default::default()
            },
            &Cancel::new(),
        )
        .unwrap();
        let lhs: f64 = r.factor_log_top.iter().sum();
        let rhs = r.prefix_log_top[39] + r.slack.iter().sum::<f64>();
        assert!(
            (lhs - rhs).abs() <= 1e-12 * lhs.abs().max(1.0),
            "{lhs} {rhs}"
        );
        let direct = direct_log_sv(&fs);
        let f = r.product.as_ref().unwrap();
        assert!(!f.degraded);
        for (a, b) in f.log_sv.iter().zip(&direct) {
            assert!((a - b).abs() < 1e-10, "{a} {b}");
        }
        assert!((r.prefix_log_top[39] - direct[0]).abs() < 1e-12);
        // Ky Fan-1 is the slack; Ky Fan-d vanishes (determinant).
        for l in 0..40 {
            assert!((r.ky_fan[0].1[l] - r.slack[l]).abs() < 1e-12);
            assert!(r.ky_fan[1].1[l] >= -1e-10);
            assert!(r.ky_fan[2].1[l].abs() < 1e-10);
            assert!(r.slack[l] >= -1e-12 && r.slack[l] <= 2.0 * r.factor_log_rho[l] + 1e-12);
        }
    }

    #[test]
    fn ill_conditioned_prefixes_skip_the_gram_route_with_the_same_results() {
        // Graded factors: log cond(P_l) grows by 0.4 nats a step, past the Gram limit (~4 nats).
        let d = 6;
        let fs: Vec<Mat<f64>> = near_identity(40, d, 0.1, 3)
            .into_iter()
            .map(|j| Mat::from_fn(d, d, |r, c| j[(r, c)] * (-0.08 * r as f64).exp()))
            .collect();
        let refs: Vec<_> = fs.iter().map(|m| m.as_ref()).collect();
        let limit = spectrum::gram_condition_limit(d, f64::CONTRACT).ln();
        let mut f = ModeF::new(d);
        let mut routes = Vec::new();
        for (i, j) in fs.iter().enumerate() {
            f.step(j.as_ref(), i);
            routes.push(prefix_method(Method::Auto, Some(&f), d));
            assert_eq!(prefix_method(Method::Gram, Some(&f), d), Method::Gram);
            assert_eq!(
                routes[i] == Method::Svd,
                f.log_spread() > limit + PREFIX_SVD_MARGIN
            );
        }
        assert_eq!(routes[0], Method::Auto);
        assert_eq!(routes[39], Method::Svd);
        assert_eq!(prefix_method(Method::Auto, None, d), Method::Auto);
        // The chosen routes give the values the SVD route gives everywhere.
        let auto = run(&refs, ChainOptions::default(), &Cancel::new()).unwrap();
        let svd = ChainOptions {
            method: Method::Svd,
            ..Default::default()
        };
        let svd = run(&refs, svd, &Cancel::new()).unwrap();
        for l in 0..40 {
            assert!((auto.prefix_log_top[l] - svd.prefix_log_top[l]).abs() < 1e-12);
            assert!((auto.prefix_top_radial[l] - svd.prefix_top_radial[l]).abs() < 1e-12);
        }
    }

    #[test]
    fn rectangular_chains_and_mismatch_errors() {
        let a = Mat::from_fn(5, 3, |i, j| {
            ((i * 3 + j) as f64).sin() + (i == j) as u8 as f64
        });
        let b = Mat::from_fn(4, 5, |i, j| {
            ((i * 5 + j) as f64).cos() + (i == j) as u8 as f64
        });
        let r = run(
            &[a.as_ref(), b.as_ref()],
            ChainOptions::default(),
            &Cancel::new(),
        )
        .unwrap();
        let direct = direct_log_sv(&[a.clone(), b.clone()]);
        let f = r.product.unwrap();
        assert_eq!(f.log_sv.len(), 3);
        for (x, y) in f.log_sv.iter().zip(&direct) {
            assert!((x - y).abs() < 1e-12);
        }
        assert!(r.factor_log_rho[0].is_infinite());
        let err = run(
            &[a.as_ref(), a.as_ref()],
            ChainOptions::default(),
            &Cancel::new(),
        )
        .unwrap_err();
        assert!(
            matches!(err, Error::ChainMismatch { index: 1, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn graded_jacobi_handles_huge_spreads() {
        // Columns 1 and e^{-800}·(1, 1e-3): singular values e^0·~1 and e^{-800}·~1e-3.
        let cols = vec![vec![1.0, 0.0], vec![1.0, 1e-3]];
        let g = graded_jacobi(cols, vec![0.0, -800.0]).unwrap();
        let mut g = g;
        g.sort_by(|a, b| b.total_cmp(a));
        assert!(g[0].abs() < 1e-12);
        assert!((g[1] - (-800.0 + (1e-3f64).ln())).abs() < 1e-9, "{g:?}");
    }

    #[test]
    fn chunking_does_not_change_results() {
        let fs = near_identity(50, 5, 0.4, 3);
        let refs: Vec<_> = fs.iter().map(|m| m.as_ref()).collect();
        let whole = run(&refs, ChainOptions::default(), &Cancel::new()).unwrap();
        let mut e = ChainEngine::new(ChainOptions::default()).unwrap();
        for c in refs.chunks(7) {
            e.push(c, &Cancel::new(), &|_| Ok(()), &mut |_: ()| Ok(()))
                .unwrap();
        }
        assert_eq!(e.finish().unwrap(), whole);
    }

    #[test]
    fn non_finite_and_cancel() {
        let mut fs = near_identity(3, 3, 0.1, 1);
        fs[2][(1, 2)] = f64::NAN;
        let refs: Vec<_> = fs.iter().map(|m| m.as_ref()).collect();
        let err = run(&refs, ChainOptions::default(), &Cancel::new()).unwrap_err();
        assert!(matches!(
            err,
            Error::NonFinite {
                index: 2,
                row: 1,
                col: 2,
                ..
            }
        ));
        let c = Cancel::new();
        c.cancel();
        assert_eq!(
            run(&refs, ChainOptions::default(), &c).unwrap_err(),
            Error::Cancelled
        );
    }
}
