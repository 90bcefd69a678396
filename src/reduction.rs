//! Householder reductions to condensed form, values only: an m × n matrix (m ≥ n) to upper
//! bidiagonal form (Golub and Kahan; the SVD route of [`crate::spectrum`]) and a symmetric matrix
//! to tridiagonal form (the Gram route), before the O(k²) stages of [`crate::tridiagonal`].
//!
//! Both are backward stable: the condensed matrix is the exact reduction of A + ΔA with
//! ‖ΔA‖ = O(n·ε·‖A‖), so each singular value (eigenvalue) is within O(n·ε·s_1) (O(n·ε·‖A‖)),
//! the accuracy contract of [`crate::spectrum`].
//!
//! Both apply their reflectors unblocked, streaming the trailing matrix through the cache with
//! the previous step's update fused into the next step's matrix–vector product, in SIMD
//! (AVX-512 or AVX2 where the CPU has it, chosen at run time by `pulp`):
//! * [`bidiagonalize`], step i: the left reflector H_i zeroes column i below the diagonal, the
//!   right reflector G_i row i right of the superdiagonal. Pass A applies G_{i−1} and H_i to
//!   each column while it sits in L1 (each entry read and written once); pass B forms z = A·v
//!   for G_i (each entry read once), four columns at a time.
//! * [`tridiagonalize`], step i (lower triangle only): the reflector H_i zeroes column i below
//!   the subdiagonal, and one pass applies the rank-2 update A ← A − v·wᵀ − w·vᵀ of step i − 1
//!   to each column and accumulates y = A·v of step i from it (each entry read and written
//!   once), three columns at a time while the trailing order exceeds 128.
//!
//! Up to a size they beat faer's blocked reductions, which win beyond (docs/DECISIONS.md §3;
//! [`crate::spectrum`] switches by size).

use faer::MatMut;
use pulp::{Arch, Simd, WithSimd};

/// The diagonal (length n) and superdiagonal (length n − 1) of an upper bidiagonal B with the
/// singular values of the m × n matrix `a` (m ≥ n, unit row stride), which is overwritten.
///
/// Entries must be finite and of moderate scale (the callers scale by a power of two so that
/// max |a_ij| ∈ [½, 1)); a column or row whose sub-vector underflows to zero is left as it is,
/// an error below 1e-150 in absolute terms.
pub fn bidiagonalize(a: MatMut<'_, f64>) -> (Vec<f64>, Vec<f64>) {
    let (m, n) = a.shape();
    assert!(
        m >= n,
        "bidiagonalize needs at least as many rows as columns"
    );
    assert!(
        n == 0 || a.row_stride() == 1,
        "bidiagonalize needs column-major storage"
    );
    Arch::new().dispatch(Reduction { a })
}

/// The reduction as a `pulp` kernel (so that it runs with the CPU's widest SIMD).
struct Reduction<'a> {
    a: MatMut<'a, f64>,
}

impl WithSimd for Reduction<'_> {
    type Output = (Vec<f64>, Vec<f64>);

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> Self::Output {
        let mut a = self.a;
        let (m, n) = a.shape();
        let mut diag = vec![0.0; n];
        let mut sup = vec![0.0; n.saturating_sub(1)];
        // The left reflector (1, u_1, …) on rows i..m, and z = A·v of the pending right
        // reflector on rows i..m, both indexed by absolute row.
        let mut u = vec![0.0; m];
        let mut z = vec![0.0; m];
        // Row i after the left reflector (columns i+1..n), which becomes the right reflector.
        let mut row = vec![0.0; n];
        // The pending right update of column j is A_{·j} += coef_j · z (none before step 1).
        let mut coef = vec![0.0; n];
        let mut pending = false;
        for i in 0..n {
            let col = column(a.as_mut(), i, i);
            if pending {
                axpy(simd, col, coef[i], &z[i..]);
            }
            let (beta, tau) = householder(simd, col);
            diag[i] = beta;
            if i + 1 == n {
                break;
            }
            u[i] = 1.0;
            u[i + 1..].copy_from_slice(&col[1..]);
            let u = &u[i..];
            // Pass A.
            for j in i + 1..n {
                let c = column(a.as_mut(), j, i);
                let w = if pending {
                    axpy_dot(simd, c, coef[j], &z[i..], u)
                } else {
                    dot(simd, c, u)
                };
                if tau != 0.0 {
                    axpy(simd, c, -tau * w, u);
                }
                row[j] = c[0];
            }
            let (beta_r, tau_r) = householder(simd, &mut row[i + 1..]);
            sup[i] = beta_r;
            pending = tau_r != 0.0;
            if !pending {
                continue;
            }
            // Pass B: z = A[i+1.., i+1..] · (1, row[i+2..]).
            row[i + 1] = 1.0;
            let z = &mut z[i + 1..];
            z.fill(0.0);
            let mut j = i + 1;
            while j + 4 <= n {
                let cols = [j, j + 1, j + 2, j + 3].map(|c| column_ref(a.as_ref(), c, i + 1));
                axpy4(simd, z, [row[j], row[j + 1], row[j + 2], row[j + 3]], cols);
                j += 4;
            }
            for (jj, &v) in row.iter().enumerate().take(n).skip(j) {
                axpy(simd, z, v, column_ref(a.as_ref(), jj, i + 1));
            }
            for (c, &v) in coef[i + 1..].iter_mut().zip(&row[i + 1..]) {
                *c = -tau_r * v;
            }
        }
        (diag, sup)
    }
}

/// The diagonal (length n) and subdiagonal (length n − 1) of a symmetric tridiagonal T with the
/// eigenvalues of the symmetric n × n matrix `a`, of which only the lower triangle is read
/// (unit row stride); it is overwritten.
///
/// Entries must be finite and of moderate scale (as for [`bidiagonalize`]).
pub fn tridiagonalize(a: MatMut<'_, f64>) -> (Vec<f64>, Vec<f64>) {
    let n = a.nrows();
    assert_eq!(a.ncols(), n, "tridiagonalize needs a square matrix");
    assert!(
        n == 0 || a.row_stride() == 1,
        "tridiagonalize needs column-major storage"
    );
    Arch::new().dispatch(SymmetricReduction { a })
}

/// Trailing order above which [`tridiagonalize`] updates [`COLUMNS`] columns at a time.
const MULTI_COLUMN_MIN: usize = 128;

/// Columns updated at a time by [`update_dot_axpy_columns`] (at least two). Its splats and
/// accumulators, 4·COLUMNS vectors, must leave registers for the rows: AVX2 has 16, and with four
/// columns most splats were read from the stack; three were 6 % faster at k = 384 and 9-11 % at
/// k = 160-256 (docs/DECISIONS.md §3).
const COLUMNS: usize = 3;
const _: () = assert!(COLUMNS >= 2);

/// The symmetric reduction as a `pulp` kernel.
struct SymmetricReduction<'a> {
    a: MatMut<'a, f64>,
}

impl WithSimd for SymmetricReduction<'_> {
    type Output = (Vec<f64>, Vec<f64>);

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> Self::Output {
        let mut a = self.a;
        let n = a.nrows();
        let mut diag = vec![0.0; n];
        let mut sub = vec![0.0; n.saturating_sub(1)];
        // The reflector (1, u_1, …) on rows i+1..n, y = τ·A·u, and the pending rank-2 update
        // A ← A − v·wᵀ − w·vᵀ of the previous step; all indexed by absolute row.
        let mut u = vec![0.0; n];
        let mut y = vec![0.0; n];
        let (mut v, mut w) = (vec![0.0; n], vec![0.0; n]);
        let mut pending = false;
        for i in 0..n {
            let col = column(a.as_mut(), i, i);
            if pending {
                rank2(simd, col, v[i], &w[i..], w[i], &v[i..]);
            }
            diag[i] = col[0];
            if i + 1 == n {
                break;
            }
            let (beta, tau) = householder(simd, &mut col[1..]);
            sub[i] = beta;
            if tau == 0.0 && !pending {
                continue;
            }
            u[i + 1] = 1.0;
            u[i + 2..].copy_from_slice(&col[2..]);
            y[i + 1..].fill(0.0);
            let coef = |j: usize| if pending { (v[j], w[j]) } else { (0.0, 0.0) };
            let mut start = i + 1;
            // COLUMNS columns at a time (the y_k, w_k, v_k, u_k of each row loaded once for all
            // of them): their diagonal block in scalars, the rows below it in SIMD.
            while tau != 0.0 && n - i > MULTI_COLUMN_MIN && start + COLUMNS <= n {
                // The block's contributions to y_start.. are summed in registers (fixed-size
                // loops, unrolled), not through y in memory.
                let mut block = [0.0f64; COLUMNS];
                for l in 0..COLUMNS {
                    let jj = start + l;
                    let c = column(a.as_mut(), jj, jj);
                    let (vj, wj) = coef(jj);
                    let uj = u[jj];
                    for r in 0..COLUMNS - l {
                        let row = jj + r;
                        let x = c[r] - (vj * w[row] + wj * v[row]);
                        c[r] = x;
                        block[l] += x * u[row];
                        if r > 0 {
                            block[l + r] += uj * x;
                        }
                    }
                }
                for (l, b) in block.iter().enumerate() {
                    y[start + l] += b;
                }
                let below = start + COLUMNS;
                if below < n {
                    let ab: [_; COLUMNS] = std::array::from_fn(|l| coef(start + l));
                    let dots = update_dot_axpy_columns(
                        simd,
                        columns(a.as_mut(), start, below),
                        ab,
                        (&w[below..], &v[below..], &u[below..]),
                        &mut y[below..],
                        std::array::from_fn(|l| u[start + l]),
                    );
                    for (l, d) in dots.iter().enumerate() {
                        y[start + l] += d;
                    }
                }
                start += COLUMNS;
            }
            for j in start..n {
                let c = column(a.as_mut(), j, j);
                if tau == 0.0 {
                    rank2(simd, c, v[j], &w[j..], w[j], &v[j..]);
                    continue;
                }
                // y_j += Σ_{k≥j} A_kj u_k and y_k += A_kj u_j for k > j (lower storage).
                let uj = u[j];
                let (vj, wj) = coef(j);
                c[0] -= vj * w[j] + wj * v[j];
                y[j] += c[0] * uj;
                let off = update_dot_axpy(
                    simd,
                    &mut c[1..],
                    (vj, &w[j + 1..], wj, &v[j + 1..]),
                    &u[j + 1..],
                    &mut y[j + 1..],
                    uj,
                );
                y[j] += off;
            }
            pending = tau != 0.0;
            if pending {
                // w = τy − (τ²/2)(yᵀu)·u, so that (I − τuuᵀ)A(I − τuuᵀ) = A − u·wᵀ − w·uᵀ.
                let yu = dot(simd, &y[i + 1..], &u[i + 1..]);
                let k = 0.5 * tau * tau * yu;
                for ((wk, yk), uk) in w[i + 1..].iter_mut().zip(&y[i + 1..]).zip(&u[i + 1..]) {
                    *wk = tau * yk - k * uk;
                }
                v[i + 1..].copy_from_slice(&u[i + 1..]);
            }
        }
        (diag, sub)
    }
}

/// Columns j..j+W of `a` from row `from` on, as W slices.
#[inline(always)]
fn columns<const W: usize>(a: MatMut<'_, f64>, j: usize, from: usize) -> [&mut [f64]; W] {
    let (_, mut rest) = a.split_at_col_mut(j);
    let mut cols = [const { None }; W];
    for slot in &mut cols {
        let (c, tail) = rest.split_at_col_mut(1);
        *slot = Some(column(c, 0, from));
        rest = tail;
    }
    cols.map(|c| c.expect("W columns"))
}

/// Column j of `a` from row `from` on, as a slice.
#[inline(always)]
fn column(a: MatMut<'_, f64>, j: usize, from: usize) -> &mut [f64] {
    let col = a
        .col_mut(j)
        .try_as_col_major_mut()
        .expect("unit row stride");
    &mut col.as_slice_mut()[from..]
}

/// Column j of `a` from row `from` on, as a shared slice.
#[inline(always)]
fn column_ref(a: faer::MatRef<'_, f64>, j: usize, from: usize) -> &[f64] {
    let col = a.col(j).try_as_col_major().expect("unit row stride");
    &col.as_slice()[from..]
}

/// Turns x into the Householder vector of I − τ·(1, v)(1, v)ᵀ, which maps x to (β, 0, …, 0):
/// x_0 ← β and x_1.. ← v; returns (β, τ). τ = 0 (no reflection, β = x_0) when x_1.. is zero or
/// its squared norm underflows (LAPACK's `dlarfg` convention, without its rescaling loop:
/// the inputs are scaled to unit order).
#[inline(always)]
fn householder<S: Simd>(simd: S, x: &mut [f64]) -> (f64, f64) {
    let alpha = x[0];
    let tail = &mut x[1..];
    let norm2 = dot(simd, tail, tail);
    if norm2 == 0.0 {
        return (alpha, 0.0);
    }
    let beta = -alpha.hypot(norm2.sqrt()).copysign(alpha);
    let scale = 1.0 / (alpha - beta);
    scal(simd, tail, scale);
    x[0] = beta;
    (beta, (beta - alpha) / beta)
}

/// Σ a_i b_i over the common length, in four SIMD partial sums.
#[inline(always)]
fn dot<S: Simd>(simd: S, a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (ah, at) = S::as_simd_f64s(&a[..n]);
    let (bh, bt) = S::as_simd_f64s(&b[..n]);
    let zero = simd.splat_f64s(0.0);
    let mut acc = [zero; 4];
    let (a4, b4) = (ah.chunks_exact(4), bh.chunks_exact(4));
    let (ar, br) = (a4.remainder(), b4.remainder());
    for (x, y) in a4.zip(b4) {
        for l in 0..4 {
            acc[l] = simd.mul_add_e_f64s(x[l], y[l], acc[l]);
        }
    }
    for (x, y) in ar.iter().zip(br) {
        acc[0] = simd.mul_add_e_f64s(*x, *y, acc[0]);
    }
    let s = simd.add_f64s(simd.add_f64s(acc[0], acc[1]), simd.add_f64s(acc[2], acc[3]));
    simd.reduce_sum_f64s(s) + at.iter().zip(bt).map(|(x, y)| x * y).sum::<f64>()
}

/// y ← y + c·x over the common length.
#[inline(always)]
fn axpy<S: Simd>(simd: S, y: &mut [f64], c: f64, x: &[f64]) {
    let n = y.len().min(x.len());
    let (yh, yt) = S::as_mut_simd_f64s(&mut y[..n]);
    let (xh, xt) = S::as_simd_f64s(&x[..n]);
    let cv = simd.splat_f64s(c);
    for (y, x) in yh.iter_mut().zip(xh) {
        *y = simd.mul_add_e_f64s(cv, *x, *y);
    }
    for (y, x) in yt.iter_mut().zip(xt) {
        *y += c * x;
    }
}

/// y ← y + c·x, returning v·y (the updated y), over the common length.
#[inline(always)]
fn axpy_dot<S: Simd>(simd: S, y: &mut [f64], c: f64, x: &[f64], v: &[f64]) -> f64 {
    let n = y.len().min(x.len()).min(v.len());
    let (yh, yt) = S::as_mut_simd_f64s(&mut y[..n]);
    let (xh, xt) = S::as_simd_f64s(&x[..n]);
    let (vh, vt) = S::as_simd_f64s(&v[..n]);
    let cv = simd.splat_f64s(c);
    let (mut acc0, mut acc1) = (simd.splat_f64s(0.0), simd.splat_f64s(0.0));
    let len = yh.len();
    let (xh, vh) = (&xh[..len], &vh[..len]);
    let mut k = 0;
    while k + 2 <= len {
        let y0 = simd.mul_add_e_f64s(cv, xh[k], yh[k]);
        let y1 = simd.mul_add_e_f64s(cv, xh[k + 1], yh[k + 1]);
        acc0 = simd.mul_add_e_f64s(y0, vh[k], acc0);
        acc1 = simd.mul_add_e_f64s(y1, vh[k + 1], acc1);
        yh[k] = y0;
        yh[k + 1] = y1;
        k += 2;
    }
    if k < len {
        yh[k] = simd.mul_add_e_f64s(cv, xh[k], yh[k]);
        acc0 = simd.mul_add_e_f64s(yh[k], vh[k], acc0);
    }
    let mut tail = 0.0;
    for ((y, x), v) in yt.iter_mut().zip(xt).zip(vt) {
        *y += c * x;
        tail += *y * v;
    }
    simd.reduce_sum_f64s(simd.add_f64s(acc0, acc1)) + tail
}

/// y ← y + Σ_k c_k·x_k for four vectors x_k, over the length of y.
#[inline(always)]
fn axpy4<S: Simd>(simd: S, y: &mut [f64], c: [f64; 4], x: [&[f64]; 4]) {
    let n = y.len();
    let (yh, yt) = S::as_mut_simd_f64s(y);
    let xs = x.map(|x| S::as_simd_f64s(&x[..n]));
    let mut cv = [simd.splat_f64s(0.0); 4];
    for l in 0..4 {
        cv[l] = simd.splat_f64s(c[l]);
    }
    for (k, y) in yh.iter_mut().enumerate() {
        let mut s = *y;
        for l in 0..4 {
            s = simd.mul_add_e_f64s(cv[l], xs[l].0[k], s);
        }
        *y = s;
    }
    for (k, y) in yt.iter_mut().enumerate() {
        for l in 0..4 {
            *y += c[l] * xs[l].1[k];
        }
    }
}

/// c ← c − a·x − b·z over the length of c (a rank-2 update of one column).
#[inline(always)]
fn rank2<S: Simd>(simd: S, c: &mut [f64], a: f64, x: &[f64], b: f64, z: &[f64]) {
    let n = c.len();
    let (ch, ct) = S::as_mut_simd_f64s(c);
    let (xh, xt) = S::as_simd_f64s(&x[..n]);
    let (zh, zt) = S::as_simd_f64s(&z[..n]);
    let (av, bv) = (simd.splat_f64s(-a), simd.splat_f64s(-b));
    for ((c, x), z) in ch.iter_mut().zip(xh).zip(zh) {
        *c = simd.mul_add_e_f64s(bv, *z, simd.mul_add_e_f64s(av, *x, *c));
    }
    for ((c, x), z) in ct.iter_mut().zip(xt).zip(zt) {
        *c -= a * x + b * z;
    }
}

/// c ← c − a·x − b·z (a rank-2 update of one column), then returns c·u and does y ← y + s·c,
/// in one loop over the length of c.
#[inline(always)]
fn update_dot_axpy<S: Simd>(
    simd: S,
    c: &mut [f64],
    (a, x, b, z): (f64, &[f64], f64, &[f64]),
    u: &[f64],
    y: &mut [f64],
    s: f64,
) -> f64 {
    let n = c.len();
    let (ch, ct) = S::as_mut_simd_f64s(c);
    let (xh, xt) = S::as_simd_f64s(&x[..n]);
    let (zh, zt) = S::as_simd_f64s(&z[..n]);
    let (uh, ut) = S::as_simd_f64s(&u[..n]);
    let (yh, yt) = S::as_mut_simd_f64s(&mut y[..n]);
    let (av, bv, sv) = (simd.splat_f64s(-a), simd.splat_f64s(-b), simd.splat_f64s(s));
    let (mut acc0, mut acc1) = (simd.splat_f64s(0.0), simd.splat_f64s(0.0));
    let len = ch.len();
    let (xh, zh, uh, yh) = (&xh[..len], &zh[..len], &uh[..len], &mut yh[..len]);
    let mut k = 0;
    while k + 2 <= len {
        let c0 = simd.mul_add_e_f64s(bv, zh[k], simd.mul_add_e_f64s(av, xh[k], ch[k]));
        let c1 = simd.mul_add_e_f64s(bv, zh[k + 1], simd.mul_add_e_f64s(av, xh[k + 1], ch[k + 1]));
        acc0 = simd.mul_add_e_f64s(c0, uh[k], acc0);
        acc1 = simd.mul_add_e_f64s(c1, uh[k + 1], acc1);
        yh[k] = simd.mul_add_e_f64s(sv, c0, yh[k]);
        yh[k + 1] = simd.mul_add_e_f64s(sv, c1, yh[k + 1]);
        ch[k] = c0;
        ch[k + 1] = c1;
        k += 2;
    }
    if k < len {
        let c0 = simd.mul_add_e_f64s(bv, zh[k], simd.mul_add_e_f64s(av, xh[k], ch[k]));
        acc0 = simd.mul_add_e_f64s(c0, uh[k], acc0);
        yh[k] = simd.mul_add_e_f64s(sv, c0, yh[k]);
        ch[k] = c0;
    }
    let mut tail = 0.0;
    for ((((c, x), z), u), y) in ct.iter_mut().zip(xt).zip(zt).zip(ut).zip(yt.iter_mut()) {
        *c -= a * x + b * z;
        tail += *c * u;
        *y += s * *c;
    }
    simd.reduce_sum_f64s(simd.add_f64s(acc0, acc1)) + tail
}

/// For W columns c_l (l = 0…W−1) at once: c_l ← c_l − a_l·x − b_l·z (the rank-2 update),
/// returns the dots c_l·u and does y ← y + Σ_l s_l·c_l, over the length of y.
#[inline(always)]
fn update_dot_axpy_columns<S: Simd, const W: usize>(
    simd: S,
    cols: [&mut [f64]; W],
    ab: [(f64, f64); W],
    (x, z, u): (&[f64], &[f64], &[f64]),
    y: &mut [f64],
    s: [f64; W],
) -> [f64; W] {
    let n = y.len();
    let mut heads = [const { None }; W];
    let mut tails = [const { None }; W];
    for (l, c) in cols.into_iter().enumerate() {
        let (h, t) = S::as_mut_simd_f64s(&mut c[..n]);
        heads[l] = Some(h);
        tails[l] = Some(t);
    }
    let (xh, xt) = S::as_simd_f64s(&x[..n]);
    let (zh, zt) = S::as_simd_f64s(&z[..n]);
    let (uh, ut) = S::as_simd_f64s(&u[..n]);
    let (yh, yt) = S::as_mut_simd_f64s(y);
    let len = yh.len();
    let ch = heads.map(|h| &mut h.expect("W columns")[..len]);
    // Lets the compiler drop the bounds checks of ch[l][k] for k < len in the loop below.
    for c in &ch {
        assert_eq!(c.len(), len);
    }
    let (xh, zh, uh) = (&xh[..len], &zh[..len], &uh[..len]);
    // Splats by index, not by `array::map`: a closure there is not inlined into the SIMD
    // context, and its intrinsics become out-of-line calls.
    let mut av = [simd.splat_f64s(0.0); W];
    let mut bv = av;
    let mut sv = av;
    for l in 0..W {
        av[l] = simd.splat_f64s(-ab[l].0);
        bv[l] = simd.splat_f64s(-ab[l].1);
        sv[l] = simd.splat_f64s(s[l]);
    }
    let mut acc = [simd.splat_f64s(0.0); W];
    for k in 0..len {
        let (xk, zk, uk) = (xh[k], zh[k], uh[k]);
        let mut c = [xk; W];
        for l in 0..W {
            c[l] = simd.mul_add_e_f64s(bv[l], zk, simd.mul_add_e_f64s(av[l], xk, ch[l][k]));
            ch[l][k] = c[l];
            acc[l] = simd.mul_add_e_f64s(c[l], uk, acc[l]);
        }
        // Two partial sums for y_k (even and odd l): chains half as long.
        let mut even = yh[k];
        let mut odd = simd.mul_f64s(sv[1], c[1]);
        for l in (0..W).step_by(2) {
            even = simd.mul_add_e_f64s(sv[l], c[l], even);
        }
        for l in (3..W).step_by(2) {
            odd = simd.mul_add_e_f64s(sv[l], c[l], odd);
        }
        yh[k] = simd.add_f64s(even, odd);
    }
    let mut dots = [0.0; W];
    for l in 0..W {
        dots[l] = simd.reduce_sum_f64s(acc[l]);
    }
    let ct = tails.map(|t| t.expect("W columns"));
    for (k, yk) in yt.iter_mut().enumerate() {
        for l in 0..W {
            let c = &mut ct[l][k];
            *c -= ab[l].0 * xt[k] + ab[l].1 * zt[k];
            dots[l] += *c * ut[k];
            *yk += s[l] * *c;
        }
    }
    dots
}

/// x ← c·x.
#[inline(always)]
fn scal<S: Simd>(simd: S, x: &mut [f64], c: f64) {
    let (xh, xt) = S::as_mut_simd_f64s(x);
    let cv = simd.splat_f64s(c);
    for x in xh {
        *x = simd.mul_f64s(cv, *x);
    }
    for x in xt {
        *x *= c;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tridiagonal::bidiagonal_singular_values;
    use faer::Mat;

    fn lcg(state: &mut u64) -> f64 {
        *state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    }

    /// Singular values through [`bidiagonalize`] against faer's dense SVD.
    fn check(a: &Mat<f64>, tol: f64) {
        let mut w = a.clone();
        let (d, e) = bidiagonalize(w.as_mut());
        let got = bidiagonal_singular_values(&d, &e).unwrap();
        let want = a.singular_values().unwrap();
        let s1 = want[0].max(f64::MIN_POSITIVE);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= tol * s1, "{:?}: {g} vs {w}", a.shape());
        }
    }

    #[test]
    fn matches_a_dense_svd_on_square_tall_and_graded_matrices() {
        let mut st = 7u64;
        for &(m, n) in &[
            (1, 1),
            (2, 1),
            (2, 2),
            (3, 3),
            (5, 3),
            (9, 9),
            (17, 16),
            (33, 31),
            (64, 64),
            (100, 57),
            (130, 129),
        ] {
            let a = Mat::from_fn(m, n, |_, _| lcg(&mut st));
            check(&a, 1e-13);
            // Graded columns (spread e^30): the small singular values are below ε·s_1.
            let g = Mat::from_fn(m, n, |_, j| {
                lcg(&mut st) * (-(j as f64) * 30.0 / n as f64).exp()
            });
            check(&g, 1e-13);
        }
    }

    /// Eigenvalues through [`tridiagonalize`] against faer's dense symmetric EVD.
    fn check_symmetric(g: &Mat<f64>, tol: f64) {
        let n = g.nrows();
        let mut w = Mat::from_fn(n, n, |i, j| if i >= j { g[(i, j)] } else { f64::NAN });
        let (mut d, mut e) = tridiagonalize(w.as_mut());
        crate::tridiagonal::tridiagonal_eigenvalues(&mut d, &mut e).unwrap();
        let mut want = g.self_adjoint_eigenvalues(faer::Side::Lower).unwrap();
        want.sort_by(f64::total_cmp);
        let scale = want.iter().fold(f64::MIN_POSITIVE, |m, x| m.max(x.abs()));
        for (x, r) in d.iter().zip(&want) {
            assert!((x - r).abs() <= tol * scale, "{n}: {x} vs {r}");
        }
    }

    #[test]
    fn tridiagonalization_matches_a_dense_eigensolver() {
        let mut st = 11u64;
        for &n in &[
            1usize, 2, 3, 4, 7, 9, 16, 17, 33, 64, 100, 129, 134, 203, 389,
        ] {
            let a = Mat::from_fn(n + 3, n, |_, _| lcg(&mut st));
            let g = a.transpose() * &a;
            check_symmetric(&g, 1e-13);
            // Indefinite, graded (spread e^30), near-identity, and already tridiagonal or diagonal.
            let s = Mat::from_fn(n, n, |i, j| ((i * 7 + j * 7 + i * j) as f64).sin());
            check_symmetric(&(&s + s.transpose()), 1e-13);
            let f: Vec<f64> = (0..n)
                .map(|i| (-(i as f64) * 15.0 / n as f64).exp())
                .collect();
            check_symmetric(&Mat::from_fn(n, n, |i, j| g[(i, j)] * f[i] * f[j]), 1e-13);
            check_symmetric(
                &Mat::from_fn(n, n, |i, j| if i == j { 1.0 } else { 0.01 * s[(i, j)] }),
                1e-13,
            );
            check_symmetric(
                &Mat::from_fn(
                    n,
                    n,
                    |i, j| if i.abs_diff(j) <= 1 { s[(i, j)] } else { 0.0 },
                ),
                1e-13,
            );
            check_symmetric(
                &Mat::from_fn(n, n, |i, j| if i == j { i as f64 } else { 0.0 }),
                1e-14,
            );
        }
    }

    /// The kernels are generic over the SIMD width: the scalar backend and AVX2 (where the CPU
    /// has it) give the same spectra as the dispatched (widest) one, on sizes with and without
    /// SIMD tails and above the multi-column threshold of [`tridiagonalize`].
    #[test]
    fn every_simd_width_gives_the_same_spectra() {
        let mut st = 5u64;
        for &(m, n) in &[(37usize, 29usize), (64, 64), (150, 141)] {
            let a = Mat::from_fn(m, n, |_, _| lcg(&mut st));
            let g = a.transpose() * &a;
            let svd = |(d, e): (Vec<f64>, Vec<f64>)| bidiagonal_singular_values(&d, &e).unwrap();
            let evd = |(mut d, mut e): (Vec<f64>, Vec<f64>)| {
                crate::tridiagonal::tridiagonal_eigenvalues(&mut d, &mut e).unwrap();
                d
            };
            let want_s = svd(bidiagonalize(a.clone().as_mut()));
            let want_l = evd(tridiagonalize(g.clone().as_mut()));
            let mut got: Vec<(Vec<f64>, Vec<f64>)> = vec![(
                svd(Reduction {
                    a: a.clone().as_mut(),
                }
                .with_simd(pulp::Scalar::new())),
                evd(SymmetricReduction {
                    a: g.clone().as_mut(),
                }
                .with_simd(pulp::Scalar::new())),
            )];
            #[cfg(target_arch = "x86_64")]
            if let Some(v3) = pulp::x86::V3::try_new() {
                got.push((
                    svd(v3.vectorize(|| {
                        Reduction {
                            a: a.clone().as_mut(),
                        }
                        .with_simd(v3)
                    })),
                    evd(v3.vectorize(|| {
                        SymmetricReduction {
                            a: g.clone().as_mut(),
                        }
                        .with_simd(v3)
                    })),
                ));
            }
            for (s, l) in &got {
                for (x, y) in s.iter().zip(&want_s) {
                    assert!((x - y).abs() <= 1e-13 * want_s[0], "{m}x{n}: {x} vs {y}");
                }
                for (x, y) in l.iter().zip(&want_l) {
                    assert!((x - y).abs() <= 1e-13 * want_l[n - 1], "{n}: {x} vs {y}");
                }
            }
        }
    }

    #[test]
    fn zero_and_rank_deficient_columns_need_no_reflection() {
        // Zero column, repeated columns, a column of one entry: τ = 0 paths.
        let a = Mat::from_fn(12, 6, |i, j| match j {
            0 => 0.0,
            1 | 2 => (i as f64 + 1.0).sqrt(),
            3 => {
                if i == 3 {
                    0.75
                } else {
                    0.0
                }
            }
            _ => ((i * j) as f64).sin(),
        });
        check(&a, 1e-14);
        let z = Mat::<f64>::zeros(5, 4);
        let mut w = z.clone();
        let (d, e) = bidiagonalize(w.as_mut());
        assert!(d.iter().chain(&e).all(|&x| x == 0.0));
    }
}
