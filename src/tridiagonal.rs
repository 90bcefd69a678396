//! Eigenvalues of symmetric tridiagonal matrices and singular values of bidiagonal matrices:
//! the last, O(k²) stage of both routes of [`crate::spectrum`] (after faer's O(k³) reduction
//! to tridiagonal or bidiagonal form), eigenvalues only.
//!
//! * [`tridiagonal_eigenvalues`]: the root-free QL/QR iteration of Pal, Walker and Kahan with
//!   Wilkinson's shift (the algorithm of LAPACK's `dsterf`). It works on the squared
//!   off-diagonal, so an inner step costs divisions but no square root, against the Givens
//!   rotations (a `hypot` each) of an eigenvector-capable QR sweep. Backward stable: every
//!   computed eigenvalue is within a small multiple of k·ε·‖T‖ of an exact one.
//! * [`bidiagonal_singular_values`]: dqds (Fernando and Parlett's differential
//!   quotient-difference algorithm with shifts) on the squared entries, which keeps every
//!   intermediate array positive and so gives each singular value to high relative accuracy,
//!   with one division per inner step on k entries. Its fallback (a zero diagonal entry, or no
//!   convergence) uses the Golub–Kahan form: the singular values ±s_i of B are the eigenvalues
//!   of the 2k × 2k tridiagonal with zero diagonal and off-diagonal (b_11, b_12, b_22, …, b_kk)
//!   (a perfect shuffle of [[0, B], [Bᵀ, 0]]), on which the root-free iteration gives every s_i
//!   with absolute error O(k·ε·s_1) without squaring B.
//!
//! Both meet the accuracy contract of [`crate::spectrum`] (absolute error ≤ 1e-12·s_1).

use crate::spectrum::{binary_exponent, ldexp};

/// An iteration did not converge within 30 sweeps per eigenvalue (never observed; the
/// callers turn it into [`crate::Error::NoConvergence`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoConvergence;

/// Sweeps allowed per eigenvalue, as in LAPACK.
const MAX_SWEEPS: usize = 30;

/// Eigenvalues (rt1, rt2), |rt1| ≥ |rt2|, of the symmetric 2 × 2 matrix [[a, b], [b, c]],
/// computed without overflow and with rt2 from rt1 by the determinant (no cancellation).
fn eigenvalues_2x2(a: f64, b: f64, c: f64) -> (f64, f64) {
    let sum = a + c;
    let diff = (a - c).abs();
    let twice_b = (b + b).abs();
    let (big, small) = if a.abs() > c.abs() { (a, c) } else { (c, a) };
    let root = if diff > twice_b {
        diff * (1.0 + (twice_b / diff).powi(2)).sqrt()
    } else if diff < twice_b {
        twice_b * (1.0 + (diff / twice_b).powi(2)).sqrt()
    } else {
        twice_b * std::f64::consts::SQRT_2
    };
    if sum == 0.0 {
        return (0.5 * root, -0.5 * root);
    }
    let rt1 = 0.5 * (sum + root.copysign(sum));
    (rt1, (big / rt1) * small - (b / rt1) * b)
}

/// Eigenvalues, ascending, of the symmetric tridiagonal matrix with diagonal `d` (length k) and
/// off-diagonal `e` (length k − 1). Both are overwritten; on success `d` holds the eigenvalues
/// in ascending order. Entries must be finite.
///
/// Root-free QL or QR (chosen per unreduced block, towards the larger end), splitting where
/// |e_i| ≤ ε·√|d_i d_{i+1}|, with each block scaled into the safe range first so that squaring
/// e cannot overflow or underflow. (On the positive definite Gram matrices of
/// [`crate::spectrum`], [`dqds`] on the LDLᵀ factors was measured 1.2x slower: about four
/// transforms per eigenvalue against two sweeps here.)
pub fn tridiagonal_eigenvalues(d: &mut [f64], e: &mut [f64]) -> Result<(), NoConvergence> {
    let n = d.len();
    assert_eq!(
        e.len(),
        n.saturating_sub(1),
        "off-diagonal length must be k - 1"
    );
    if n <= 1 {
        return Ok(());
    }
    let eps = 0.5 * f64::EPSILON;
    let eps2 = eps * eps;
    let safe_min = f64::MIN_POSITIVE;
    let scaled_max = (1.0 / safe_min).sqrt() / 3.0;
    let scaled_min = safe_min.sqrt() / eps2;
    let max_sweeps = MAX_SWEEPS * n;
    let mut sweeps = 0usize;

    let mut start = 0usize;
    while start < n {
        if start > 0 {
            e[start - 1] = 0.0;
        }
        let mut end = start;
        while end + 1 < n {
            if e[end].abs() <= d[end].abs().sqrt() * d[end + 1].abs().sqrt() * eps {
                e[end] = 0.0;
                break;
            }
            end += 1;
        }
        let block = start..end + 1;
        start = end + 1;
        if block.len() == 1 {
            continue;
        }
        let norm = d[block.clone()]
            .iter()
            .chain(&e[block.start..block.end - 1])
            .fold(0.0f64, |m, x| m.max(x.abs()));
        if norm == 0.0 {
            continue;
        }
        let scale = if norm > scaled_max {
            scaled_max / norm
        } else if norm < scaled_min {
            scaled_min / norm
        } else {
            1.0
        };
        if scale != 1.0 {
            d[block.clone()].iter_mut().for_each(|x| *x *= scale);
            e[block.start..block.end - 1]
                .iter_mut()
                .for_each(|x| *x *= scale);
        }
        e[block.start..block.end - 1]
            .iter_mut()
            .for_each(|x| *x *= *x);
        let (lo, hi) = (block.start, block.end - 1);
        if d[hi].abs() < d[lo].abs() {
            sweeps = qr_block(d, e, lo, hi, eps2, sweeps, max_sweeps);
        } else {
            sweeps = ql_block(d, e, lo, hi, eps2, sweeps, max_sweeps);
        }
        if scale != 1.0 {
            d[block].iter_mut().for_each(|x| *x /= scale);
        }
        if sweeps >= max_sweeps {
            if e.iter().any(|&x| x != 0.0) {
                return Err(NoConvergence);
            }
            break;
        }
    }
    d.sort_by(f64::total_cmp);
    Ok(())
}

/// The Wilkinson shift for the leading 2 × 2 of a block: the eigenvalue of
/// [[p, √e2], [√e2, q]] closer to p.
fn shift(p: f64, e2: f64, q: f64) -> f64 {
    let rte = e2.sqrt();
    let sigma = (q - p) / (2.0 * rte);
    let r = sigma.hypot(1.0);
    p - rte / (sigma + r.copysign(sigma))
}

/// The state of one root-free implicit sweep with shift σ (shared by the QL and QR directions):
/// the rotation (c, s), γ, p = γ²/c (or c_prev·e² when c = 0), q = p/γ and t = 1/p.
struct Sweep {
    sigma: f64,
    c: f64,
    s: f64,
    gamma: f64,
    p: f64,
    q: f64,
    t: f64,
}

impl Sweep {
    /// A sweep with shift `sigma` starting from the diagonal entry `d_start` at the far end.
    fn new(sigma: f64, d_start: f64) -> Self {
        let gamma = d_start - sigma;
        let p = gamma * gamma;
        Sweep {
            sigma,
            c: 1.0,
            s: 0.0,
            gamma,
            p,
            q: gamma,
            t: 1.0 / p,
        }
    }

    /// One step over the squared off-diagonal `e2` and the next diagonal entry `alpha`: returns
    /// the updated previous squared off-diagonal (not written on the first step) and the updated
    /// diagonal entry behind the step.
    ///
    /// The textbook step (c′ = p/r, s′ = e²/r with r = p + e², γ′ = c′(α − σ) − s′γ,
    /// p′ = γ′²/c′) chains two divisions from p to p′. With q = γ/c = p/γ it reads
    /// q′ = (α − σ) − e²/q, γ′ = c′·q′, p′ = c′·q′² (q runs the pivots of T − σI, a recurrence
    /// of one division and one subtraction), and in t = 1/p the other recurrence holds no
    /// division: u = 1 + e²·t = 1/c′ and t′ = u/q′² (with g = 1/q′, a division fed by the q
    /// recurrence but not feeding it), while c′ = 1/u is off both paths. The step is then
    /// bound by the q recurrence's latency: 1.1x faster at k = 384 than with a division on the
    /// path of p as well (docs/DECISIONS.md §3). Where c′ = 0, q′ = 0 or a value overflows, the
    /// textbook step (and q, t from it).
    #[inline(always)]
    fn step(&mut self, e2: f64, alpha: f64) -> (f64, f64) {
        let e_prev = self.s * (self.p + e2);
        let old_c = self.c;
        let old_gamma = self.gamma;
        let u = 1.0 + e2 * self.t;
        let c = 1.0 / u;
        let q = (alpha - self.sigma) - e2 / self.q;
        let g = 1.0 / q;
        let t = u * (g * g);
        let p = c * (q * q);
        if c != 0.0 && p.is_finite() && g.is_finite() && t.is_normal() {
            self.c = c;
            self.s = (e2 * self.t) * c;
            self.gamma = c * q;
            self.p = p;
            self.q = q;
            self.t = t;
        } else {
            let r = self.p + e2;
            self.c = self.p / r;
            self.s = e2 / r;
            self.gamma = self.c * (alpha - self.sigma) - self.s * old_gamma;
            self.p = if self.c != 0.0 {
                self.gamma * self.gamma / self.c
            } else {
                old_c * e2
            };
            self.q = if self.gamma != 0.0 {
                self.p / self.gamma
            } else {
                f64::INFINITY
            };
            self.t = 1.0 / self.p;
        }
        (e_prev, old_gamma + (alpha - self.gamma))
    }

    /// The last squared off-diagonal s·p and diagonal entry σ + γ at the near end.
    fn finish(self) -> (f64, f64) {
        (self.s * self.p, self.sigma + self.gamma)
    }
}

/// Root-free QL on the unreduced block lo..=hi (squared off-diagonal in `e2`), deflating
/// eigenvalues at lo upwards. Returns the updated sweep count.
fn ql_block(
    d: &mut [f64],
    e2: &mut [f64],
    mut lo: usize,
    hi: usize,
    eps2: f64,
    mut sweeps: usize,
    max_sweeps: usize,
) -> usize {
    while lo <= hi {
        let mut m = lo;
        while m < hi && e2[m].abs() > eps2 * (d[m] * d[m + 1]).abs() {
            m += 1;
        }
        if m < hi {
            e2[m] = 0.0;
        }
        if m == lo {
            lo += 1;
            continue;
        }
        if m == lo + 1 {
            let (rt1, rt2) = eigenvalues_2x2(d[lo], e2[lo].sqrt(), d[lo + 1]);
            d[lo] = rt1;
            d[lo + 1] = rt2;
            e2[lo] = 0.0;
            lo += 2;
            continue;
        }
        if sweeps == max_sweeps {
            break;
        }
        sweeps += 1;
        let mut sweep = Sweep::new(shift(d[lo], e2[lo], d[lo + 1]), d[m]);
        for i in (lo..m).rev() {
            let (e_prev, d_next) = sweep.step(e2[i], d[i]);
            if i + 1 != m {
                e2[i + 1] = e_prev;
            }
            d[i + 1] = d_next;
        }
        (e2[lo], d[lo]) = sweep.finish();
    }
    sweeps
}

/// Root-free QR on the unreduced block lo..=hi (squared off-diagonal in `e2`), deflating
/// eigenvalues at hi downwards. Returns the updated sweep count.
fn qr_block(
    d: &mut [f64],
    e2: &mut [f64],
    lo: usize,
    hi: usize,
    eps2: f64,
    mut sweeps: usize,
    max_sweeps: usize,
) -> usize {
    // `top` is one past the highest undeflated index, so that it can reach lo without wrapping.
    let mut top = hi + 1;
    while top > lo {
        let l = top - 1;
        let mut m = l;
        while m > lo && e2[m - 1].abs() > eps2 * (d[m] * d[m - 1]).abs() {
            m -= 1;
        }
        if m > lo {
            e2[m - 1] = 0.0;
        }
        if m == l {
            top -= 1;
            continue;
        }
        if m + 1 == l {
            let (rt1, rt2) = eigenvalues_2x2(d[l], e2[l - 1].sqrt(), d[l - 1]);
            d[l] = rt1;
            d[l - 1] = rt2;
            e2[l - 1] = 0.0;
            top -= 2;
            continue;
        }
        if sweeps == max_sweeps {
            break;
        }
        sweeps += 1;
        let mut sweep = Sweep::new(shift(d[l], e2[l - 1], d[l - 1]), d[m]);
        for i in m..l {
            let (e_prev, d_next) = sweep.step(e2[i], d[i + 1]);
            if i != m {
                e2[i - 1] = e_prev;
            }
            d[i] = d_next;
        }
        (e2[l - 1], d[l]) = sweep.finish();
    }
    sweeps
}

/// Relative deflation tolerance of [`dqds`]: a trailing e_{n−1} below (100ε)² times the
/// converged eigenvalue is dropped (LAPACK's `dlasq2` criterion).
const DQDS_TOL2: f64 = (100.0 * 0.5 * f64::EPSILON) * (100.0 * 0.5 * f64::EPSILON);

/// One dqds transform with shift τ of the qd array (q, e) into (qh, eh): B̂ᵀB̂ = BBᵀ − τI for
/// the bidiagonal B with B_ii² = q_i, B_{i,i+1}² = e_i. Returns the smallest pivot d_min (an
/// upper bound of the new smallest eigenvalue) and whether it is the last one. Fails (returning
/// the last pivot and whether it was the only negative one) when a pivot is negative or not a
/// number, i.e. when τ is not below the smallest eigenvalue.
fn dqds_transform(
    q: &[f64],
    e: &[f64],
    tau: f64,
    qh: &mut [f64],
    eh: &mut [f64],
) -> Result<(f64, bool), (f64, bool)> {
    let n = q.len();
    let mut d = q[0] - tau;
    let mut dmin = f64::INFINITY;
    for k in 0..n - 1 {
        if d.is_nan() || d < 0.0 {
            return Err((d, false));
        }
        dmin = dmin.min(d);
        qh[k] = d + e[k];
        let t = q[k + 1] / qh[k];
        eh[k] = e[k] * t;
        d = d * t - tau;
    }
    if d.is_nan() || d < 0.0 {
        return Err((d, true));
    }
    qh[n - 1] = d;
    Ok((dmin.min(d), d <= dmin))
}

/// Eigenvalues (in no particular order) of BᵀB for the positive qd array (q, e) (length n and
/// n − 1, every entry > 0) by the differential quotient-difference algorithm with shifts
/// (dqds; Fernando and Parlett 1994). Every transform keeps the array positive, which makes
/// each eigenvalue accurate to a few ulps relative to itself. Shift: while the smallest pivot
/// of the previous transform is the last one (the bottom is converging), 2μ − q_{n−1}, with μ
/// the smaller eigenvalue of the trailing 2 × 2 of BBᵀ; otherwise a quarter of that smallest
/// pivot. A shift that overshoots is corrected by the negative last pivot (τ + 2·d_n: near
/// convergence d_n ≈ λ_min − τ), then quartered, then set to zero. Measured: about 4.5
/// transforms per eigenvalue, and one failed transform per 20.
fn dqds(mut q: Vec<f64>, mut e: Vec<f64>) -> Result<Vec<f64>, NoConvergence> {
    let mut n = q.len();
    let mut out = Vec::with_capacity(n);
    let (mut qh, mut eh) = (vec![0.0; n], vec![0.0; n.saturating_sub(1)]);
    let mut sigma = 0.0f64;
    let max_sweeps = MAX_SWEEPS * n;
    let mut sweeps = 0usize;
    // (d_min, whether it was the last pivot) of the previous transform.
    let mut previous: Option<(f64, bool)> = None;
    while n > 0 {
        if n == 1 {
            out.push(sigma + q[0]);
            break;
        }
        let last = e[n - 2];
        if last <= DQDS_TOL2 * (sigma + q[n - 1]) || last <= DQDS_TOL2 * q[n - 2] {
            out.push(sigma + q[n - 1]);
            n -= 1;
            previous = None;
            continue;
        }
        if n == 2 {
            // BᵀB = [[q0, √(q0 e0)], [√(q0 e0), e0 + q1]]: determinant q0 q1, no cancellation.
            let (a, c) = (q[0], e[0] + q[1]);
            let big = 0.5 * (a + c + ((a - c) * (a - c) + 4.0 * q[0] * e[0]).sqrt());
            out.push(sigma + big);
            out.push(sigma + q[0] * q[1] / big);
            break;
        }
        if sweeps == max_sweeps {
            return Err(NoConvergence);
        }
        sweeps += 1;
        // Trailing 2 × 2 of BBᵀ, [[q_{n−2} + e_{n−2}, √(q_{n−1} e_{n−2})], [·, q_{n−1}]]: its
        // smaller eigenvalue μ (determinant q_{n−2} q_{n−1} over the larger one) bounds the
        // smallest eigenvalue from above (interlacing) and is close to it once the bottom
        // converges; q_{n−1} − μ measures the coupling of the last row, so 2μ − q_{n−1} usually
        // lies just below.
        let (a, c) = (q[n - 2] + e[n - 2], q[n - 1]);
        let big = 0.5 * (a + c + ((a - c) * (a - c) + 4.0 * q[n - 1] * e[n - 2]).sqrt());
        let mu = q[n - 2] * q[n - 1] / big;
        let mut tau = match previous {
            Some((dmin, false)) => 0.25 * dmin,
            _ => (2.0 * mu - q[n - 1]).max(0.0),
        };
        let mut attempt = 0;
        loop {
            match dqds_transform(&q[..n], &e[..n - 1], tau, &mut qh[..n], &mut eh[..n - 1]) {
                Ok(found) => {
                    previous = Some(found);
                    break;
                }
                Err((last_pivot, only_last)) => {
                    attempt += 1;
                    tau = match attempt {
                        1 if only_last && tau + 2.0 * last_pivot > 0.0 => tau + 2.0 * last_pivot,
                        1 | 2 => 0.25 * tau,
                        3 => 0.0,
                        _ => return Err(NoConvergence),
                    };
                }
            }
        }
        std::mem::swap(&mut q, &mut qh);
        std::mem::swap(&mut e, &mut eh);
        sigma += tau;
    }
    Ok(out)
}

/// Eigenvalues, ascending, of BᵀB for the qd array (q, e) with q_i > 0 and e_i ≥ 0: [`dqds`]
/// on each block between zero e_i. Fails when some q_i is not positive or dqds does not
/// converge.
fn qd_eigenvalues(q: Vec<f64>, e: Vec<f64>) -> Result<Vec<f64>, NoConvergence> {
    if q.iter().any(|&x| x.is_nan() || x <= 0.0) {
        return Err(NoConvergence);
    }
    let mut out = Vec::with_capacity(q.len());
    let mut start = 0;
    for end in 0..q.len() {
        if end + 1 == q.len() || e[end].is_nan() || e[end] <= 0.0 {
            out.extend(dqds(q[start..=end].to_vec(), e[start..end].to_vec())?);
            start = end + 1;
        }
    }
    out.sort_by(f64::total_cmp);
    Ok(out)
}

/// The exact power of two that brings `largest` into [1, 2) (1 for zero).
fn unit_scale(largest: f64) -> f64 {
    if largest == 0.0 || !largest.is_finite() {
        return 1.0;
    }
    ldexp(1.0, -binary_exponent(largest))
}

/// Singular values, descending and non-negative, of the upper bidiagonal matrix with diagonal
/// `diag` (length k) and superdiagonal `sup` (length k − 1). Entries must be finite.
///
/// [`dqds`] on the squares (after an exact power-of-two scaling), which gives every singular
/// value to high relative accuracy; when a diagonal entry is zero (or squares to zero) or dqds
/// does not converge, the k largest eigenvalues of the Golub–Kahan tridiagonal form (see the
/// module documentation) by the root-free QL/QR iteration, accurate to O(k·ε·s_1).
pub fn bidiagonal_singular_values(diag: &[f64], sup: &[f64]) -> Result<Vec<f64>, NoConvergence> {
    let k = diag.len();
    assert_eq!(
        sup.len(),
        k.saturating_sub(1),
        "superdiagonal length must be k - 1"
    );
    if k == 0 {
        return Ok(Vec::new());
    }
    let largest = diag.iter().chain(sup).fold(0.0f64, |m, x| m.max(x.abs()));
    let scale = unit_scale(largest);
    let q: Vec<f64> = diag.iter().map(|x| (x * scale) * (x * scale)).collect();
    let e: Vec<f64> = sup.iter().map(|x| (x * scale) * (x * scale)).collect();
    if let Ok(lambda) = qd_eigenvalues(q, e) {
        return Ok(lambda.iter().rev().map(|l| l.sqrt() / scale).collect());
    }
    let mut off = Vec::with_capacity(2 * k - 1);
    for i in 0..k {
        off.push(diag[i]);
        if i + 1 < k {
            off.push(sup[i]);
        }
    }
    let mut d = vec![0.0; 2 * k];
    tridiagonal_eigenvalues(&mut d, &mut off)?;
    Ok(d[k..].iter().rev().map(|&x| x.max(0.0)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;
    use proptest::prelude::*;

    /// Reference eigenvalues (ascending) by faer's dense symmetric solver.
    fn dense_eigenvalues(d: &[f64], e: &[f64]) -> Vec<f64> {
        let n = d.len();
        let t = Mat::<f64>::from_fn(n, n, |i, j| {
            if i == j {
                d[i]
            } else if i == j + 1 {
                e[j]
            } else if j == i + 1 {
                e[i]
            } else {
                0.0
            }
        });
        let mut out: Vec<f64> = t
            .self_adjoint_eigenvalues(faer::Side::Lower)
            .unwrap()
            .into_iter()
            .collect();
        out.sort_by(f64::total_cmp);
        out
    }

    fn lcg(state: &mut u64) -> f64 {
        *state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*state >> 11) as f64) / (1u64 << 53) as f64 - 0.5
    }

    #[test]
    fn closed_forms() {
        // The k × k matrix with 2 on the diagonal and −1 beside it: 2 − 2cos(jπ/(k+1)).
        for k in [1usize, 2, 3, 10, 101] {
            let mut d = vec![2.0; k];
            let mut e = vec![-1.0; k - 1];
            tridiagonal_eigenvalues(&mut d, &mut e).unwrap();
            for (j, x) in d.iter().enumerate() {
                let exact =
                    2.0 - 2.0 * ((j + 1) as f64 * std::f64::consts::PI / (k + 1) as f64).cos();
                assert!(
                    (x - exact).abs() < 1e-14 * 4.0,
                    "k={k} j={j}: {x} vs {exact}"
                );
            }
        }
        // A diagonal bidiagonal matrix: its entries' absolute values.
        let s = bidiagonal_singular_values(&[3.0, -1e-300, 0.0, 2.0], &[0.0, 0.0, 0.0]).unwrap();
        assert_eq!(s, vec![3.0, 2.0, 1e-300, 0.0]);
        // 2 × 2 upper bidiagonal [[1, 1], [0, 1]]: the golden ratio and its inverse.
        let s = bidiagonal_singular_values(&[1.0, 1.0], &[1.0]).unwrap();
        let phi = (1.0 + 5f64.sqrt()) / 2.0;
        assert!((s[0] - phi).abs() < 1e-15 && (s[1] - 1.0 / phi).abs() < 1e-15);
    }

    #[test]
    fn extreme_scales_and_wilkinson_matrices() {
        // W21+: eigenvalues come in nearly equal pairs, a classic hard case for deflation.
        let m = 10usize;
        let d0: Vec<f64> = (0..=2 * m).map(|i| (m as f64 - i as f64).abs()).collect();
        let e0 = vec![1.0; 2 * m];
        let reference = dense_eigenvalues(&d0, &e0);
        for scale in [1e-300, 1e-150, 1.0, 1e150, 1e300] {
            let mut d: Vec<f64> = d0.iter().map(|x| x * scale).collect();
            let mut e: Vec<f64> = e0.iter().map(|x| x * scale).collect();
            tridiagonal_eigenvalues(&mut d, &mut e).unwrap();
            for (x, r) in d.iter().zip(&reference) {
                assert!((x / scale - r).abs() < 1e-13 * 11.0, "{scale}: {x} vs {r}");
            }
        }
    }

    proptest! {
        #[test]
        fn eigenvalues_match_a_dense_solver(seed in 0u64..1_000_000, n in 1usize..60, grade in 0.0f64..30.0, zeros in 0usize..4) {
            let mut st = seed;
            let mut d: Vec<f64> = (0..n).map(|i| lcg(&mut st) * (-grade * i as f64 / n as f64).exp()).collect();
            let mut e: Vec<f64> = (1..n).map(|i| lcg(&mut st) * (-grade * i as f64 / n as f64).exp()).collect();
            for z in 0..zeros.min(e.len()) {
                let at = (((lcg(&mut st) + 0.5) * e.len() as f64) as usize).min(e.len() - 1);
                e[at] = 0.0;
                if z % 2 == 1 { d[at] = 0.0; }
            }
            let reference = dense_eigenvalues(&d, &e);
            let norm = reference.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            tridiagonal_eigenvalues(&mut d, &mut e).unwrap();
            for (x, r) in d.iter().zip(&reference) {
                prop_assert!((x - r).abs() <= 8.0 * n as f64 * f64::EPSILON * norm, "{} vs {}", x, r);
            }
        }

        #[test]
        fn singular_values_match_a_dense_svd(seed in 0u64..1_000_000, k in 1usize..60, grade in 0.0f64..40.0) {
            let mut st = seed;
            let diag: Vec<f64> = (0..k).map(|i| lcg(&mut st) * (-grade * i as f64 / k as f64).exp()).collect();
            let sup: Vec<f64> = (1..k).map(|i| lcg(&mut st) * (-grade * i as f64 / k as f64).exp()).collect();
            let b = Mat::<f64>::from_fn(k, k, |i, j| if i == j { diag[i] } else if j == i + 1 { sup[i] } else { 0.0 });
            let mut reference: Vec<f64> = b.singular_values().unwrap();
            reference.sort_by(|a, b| b.total_cmp(a));
            let s = bidiagonal_singular_values(&diag, &sup).unwrap();
            prop_assert!(s.windows(2).all(|w| w[0] >= w[1]));
            let q: Vec<f64> = diag.iter().map(|x| x * x).collect();
            let e: Vec<f64> = sup.iter().map(|x| x * x).collect();
            prop_assert!(qd_eigenvalues(q, e).is_ok(), "dqds must converge on a nonsingular bidiagonal");
            for (x, r) in s.iter().zip(&reference) {
                prop_assert!((x - r).abs() <= 8.0 * k as f64 * f64::EPSILON * reference[0], "{} vs {}", x, r);
            }
        }
    }
}
