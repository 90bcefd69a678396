//! Singular spectra of one matrix and of batches, and the per-matrix quantities of SPEC §2.
//!
//! For A ∈ ℝ^{m×n}, k = min(m, n), the singular values s_1 ≥ … ≥ s_k ≥ 0 are computed by one of
//! two routes (see [`Method`]):
//!
//! * **Gram**: the theory's own map A ↦ AᵀA (k × k) followed by the symmetric eigenvalues
//!   λ_i, s_i = √λ_i. It costs k³/3 + m k² flops for the Gram product (lower half only) and about
//!   4k³/3 for the tridiagonal eigenvalue solve, about half a bidiagonal SVD. (The reductions:
//!   [`crate::reduction`] up to a size, faer's blocked ones beyond.) Its absolute error
//!   on s_i is about c·ε·s_1²/(2 s_i): accurate for well-conditioned matrices (near-identity
//!   Jacobians), not for the small singular values of ill-conditioned ones.
//! * **SVD**: a Householder bidiagonalization (after a QR for tall matrices), then the
//!   singular values of the bidiagonal by dqds ([`crate::tridiagonal`]); accurate to O(k·ε·s_1)
//!   for every singular value.
//!
//! [`Method::Auto`] computes the Gram eigenvalues, estimates the error bound above from them
//! (the smallest and largest eigenvalue), and keeps them only when the bound is within the
//! accuracy contract, falling back to the SVD otherwise. The contract: every singular value
//! within 1e-12·s_1 of LAPACK's for `f64` input and within 1e-6·s_1 for `f32` input.
//!
//! One pass over the input (any strides, any layout) checks that its entries are finite and
//! finds an exact power-of-two scale. The Gram route then copies it to `f64` one panel of rows
//! at a time, the SVD route whole, into a column-major workspace; their arithmetic is `f64`
//! whatever the input type, and `f32` results are rounded from `f64` results (faer's own `f32`
//! SVD is only accurate to ~1e-5·s_1). One exception, where single precision meets the `f32`
//! contract and pays: [`Method::Auto`] first tries tall `f32` matrices (m ≥ 2k, m ≥ 1024) by a
//! Gram product in `f32` arithmetic, panel by panel, with `f64` sums across panels and an exact
//! `f64` diagonal, followed by `f64` eigenvalues, and keeps the result when its own error model
//! says the contract holds (s_1/s_k ≤ 52.6); twice the speed of the `f64` product on the
//! embeddings and MLP matrices of a transformer (docs/DECISIONS.md §1).
//!
//! Per-matrix quantities from a spectrum (SPEC §2), with Â = √k·A/‖A‖_F:
//!
//! * normalised Cartan coordinate â_i = log s_i(Â) = log s_i − log s_1 − ½ log(Σ_j (s_j/s_1)²/k);
//! * energy distribution p_i = s_i²/Σ_j s_j²;
//! * top-radial coordinate r = â_1 = ½ log(k·p_1) ∈ [0, ½ log k];
//! * numerical rank k′ = #{s_i > max(m, n)·ε·s_1}.

use crate::error::{Error, Result};
use crate::parallel::{try_map, Cancel};
use crate::reduction::{bidiagonalize, tridiagonalize};
use crate::sum::{dot, neumaier_sum};
use crate::tridiagonal::{bidiagonal_singular_values, tridiagonal_eigenvalues};
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::evd::tridiag;
use faer::linalg::matmul::triangular::BlockStructure;
use faer::linalg::{qr, svd};
use faer::traits::ComplexField;
use faer::{Accum, Conj, Mat, MatMut, MatRef, Par};

/// The floating-point element types the core accepts as input (`f32`, `f64`).
pub trait Element: Copy + Send + Sync + 'static {
    /// Widens to `f64` (exact).
    fn to_f64(self) -> f64;
    /// Rounds an `f64` result to this type.
    fn from_f64(x: f64) -> Self;
    /// The matrix itself when its entries are `f32` (for the single-precision Gram route).
    fn single(a: MatRef<'_, Self>) -> Option<MatRef<'_, f32>>;
    /// Tolerance of the accuracy contract, relative to s_1: 1e-12 for `f64`, 1e-6 for `f32`.
    const CONTRACT: f64;
    /// Whether the `f64` routes take the entries unscaled: true for `f32`, whose range sits well
    /// inside that of `f64` (|x| < 2^128, so products and their sums stay below 2^300; nonzero
    /// |x| ≥ 2^−149, so products stay above 2^−300, normal numbers). The input is then not read
    /// once more to find its scale and to check it: the routes check their own `f64` data
    /// instead (see [`Scaled`]).
    const UNSCALED: bool;
}

impl Element for f64 {
    fn to_f64(self) -> f64 {
        self
    }
    fn from_f64(x: f64) -> Self {
        x
    }
    fn single(_: MatRef<'_, f64>) -> Option<MatRef<'_, f32>> {
        None
    }
    const CONTRACT: f64 = 1e-12;
    const UNSCALED: bool = false;
}

impl Element for f32 {
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    fn single(a: MatRef<'_, f32>) -> Option<MatRef<'_, f32>> {
        Some(a)
    }
    const CONTRACT: f64 = 1e-6;
    const UNSCALED: bool = true;
}

/// How singular values are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// Gram eigenvalues when their error bound meets the accuracy contract, SVD otherwise.
    #[default]
    Auto,
    /// Always the Gram route (fast; inaccurate for the small singular values of ill-conditioned
    /// matrices).
    Gram,
    /// Always the SVD route.
    Svd,
}

impl Method {
    /// Parses `"auto"`, `"gram"` or `"svd"`.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "auto" => Ok(Method::Auto),
            "gram" => Ok(Method::Gram),
            "svd" => Ok(Method::Svd),
            other => Err(Error::invalid(
                "method",
                format!("must be 'auto', 'gram' or 'svd', got {other:?}"),
            )),
        }
    }
}

/// Constant c in the Gram error model |δs_i| ≤ c·ε·s_1²/(2·s_i), for a Gram product whose inner
/// dimension is `rows`.
///
/// Rounding in the Gram product grows with its inner dimension: measured against LAPACK on
/// near-identity, power-law, Gaussian and graded matrices with d = 16…1024, the largest ratio
/// |δs_i|/(ε·s_1²/(2·s_min)) was 0.22·d (near-identity, d = 1024: 1.1e-13·s_1). c = d/2 + 16
/// keeps a margin of two over every case measured, and [`gram_is_accurate`] another two.
fn gram_error_constant(rows: usize) -> f64 {
    0.5 * rows as f64 + 16.0
}

/// The largest condition number s_1/s_k for which the Gram route of a matrix with `rows` rows (of
/// its tall orientation) meets the accuracy contract `tol` in [`gram_is_accurate`]'s error model:
/// c·ε·(s_1/s_k)/2 ≤ tol/2.
pub(crate) fn gram_condition_limit(rows: usize, tol: f64) -> f64 {
    tol / (gram_error_constant(rows) * f64::EPSILON)
}

/// Whether Gram eigenvalues `lambda` (ascending) of a Gram product with inner dimension `rows`
/// meet the accuracy contract `tol` (relative to s_1), with a factor-of-two safety margin.
fn gram_is_accurate(lambda: &[f64], rows: usize, tol: f64) -> bool {
    let (Some(&lo), Some(&hi)) = (lambda.first(), lambda.last()) else {
        return false;
    };
    if !(lo > 0.0 && hi > 0.0) {
        return false;
    }
    hi.sqrt() / lo.sqrt() <= gram_condition_limit(rows, tol)
}

/// x·2^e without intermediate overflow or underflow (e may exceed the exponent range of 2^e).
pub(crate) fn ldexp(x: f64, e: i32) -> f64 {
    let half = e / 2;
    x * 2f64.powi(half) * 2f64.powi(e - half)
}

/// The binary exponent e of a finite x > 0 (subnormals included): x·2^{−e} ∈ [1, 2).
pub(crate) fn binary_exponent(x: f64) -> i32 {
    let e = x.log2().floor() as i32;
    if ldexp(x, -e) >= 2.0 {
        e + 1
    } else if ldexp(x, -e) < 1.0 {
        e - 1
    } else {
        e
    }
}

/// Side of the square tiles in which [`workspace`] copies a matrix, so that a row-major input is
/// read and the column-major workspace written a cache line at a time.
const COPY_TILE: usize = 32;

/// The first non-finite entry of `a` in column-major order, if any.
fn first_non_finite<T: Element>(a: MatRef<'_, T>) -> Option<(usize, usize)> {
    (0..a.ncols())
        .flat_map(|j| (0..a.nrows()).map(move |i| (i, j)))
        .find(|&(i, j)| !a[(i, j)].to_f64().is_finite())
}

/// Lanes of the running maxima in [`max_abs`] (independent accumulators vectorise).
const LANES: usize = 8;

/// The largest |x| over `xs` folded into `acc`, and x·0 summed into `check` (NaN when some x is
/// not finite), lane by lane.
fn max_abs_slice<T: Element>(xs: &[T], acc: &mut [f64; LANES], check: &mut [f64; LANES]) {
    let mut chunks = xs.chunks_exact(LANES);
    for chunk in &mut chunks {
        for l in 0..LANES {
            let x = chunk[l].to_f64();
            acc[l] = acc[l].max(x.abs());
            check[l] += x * 0.0;
        }
    }
    for (l, x) in chunks.remainder().iter().enumerate() {
        let x = x.to_f64();
        acc[l] = acc[l].max(x.abs());
        check[l] += x * 0.0;
    }
}

/// The largest |a_ij| and whether every entry is finite, reading `a` in its memory order
/// (contiguous columns or rows as slices).
fn max_abs<T: Element>(a: MatRef<'_, T>) -> (f64, bool) {
    let (mut acc, mut check) = ([0.0f64; LANES], [0.0f64; LANES]);
    let mut visit_strided = |x: T| {
        let x = x.to_f64();
        acc[0] = acc[0].max(x.abs());
        check[0] += x * 0.0;
    };
    if a.row_stride() == 1 {
        for j in 0..a.ncols() {
            let col = a.col(j).try_as_col_major().expect("unit row stride");
            max_abs_slice(col.as_slice(), &mut acc, &mut check);
        }
    } else if a.col_stride() == 1 {
        for i in 0..a.nrows() {
            let row = a.row(i).try_as_row_major().expect("unit column stride");
            max_abs_slice(row.as_slice(), &mut acc, &mut check);
        }
    } else {
        for j in 0..a.ncols() {
            a.col(j).iter().for_each(|&x| visit_strided(x));
        }
    }
    let amax = acc.iter().fold(0.0f64, |m, &x| m.max(x));
    (amax, check.iter().all(|c| *c == 0.0))
}

/// A matrix prepared for the routes: oriented tall (rows ≥ cols, wide matrices transposed), with
/// the exact power of two 2^{−exponent} that brings its largest entry into [1, 2). Both routes
/// work on the scaled matrix: the scaling is exact and keeps the Gram product and the SVD's
/// iterations away from overflow and underflow (entries near 1e±300, subnormals).
///
/// When [`Element::UNSCALED`] (`f32`), the exponent is 0 and the entries are not checked here:
/// the routes check what they compute from them in `f64` ([`Scaled::check_gram`],
/// [`Scaled::check_workspace`]), in which a NaN or an infinity cannot vanish. Every diagonal
/// entry of the Gram product is a sum Σ_i a_ij² of terms of one sign, so it is finite exactly
/// when column j is; the SVD's workspace holds every entry. Either way the error, and the entry
/// it names, are those the check up front gives (the first non-finite entry, column-major).
struct Scaled<'a, T> {
    a: MatRef<'a, T>,
    /// Whether `a` is the input transposed (the input was wide).
    transposed: bool,
    /// The singular values of the input are those of the scaled matrix times 2^exponent.
    exponent: i32,
    /// 2^{−exponent} as two exact factors (one of them is 1 unless the largest entry is
    /// subnormal or near overflow).
    factors: (f64, f64),
}

impl<T: Element> Scaled<'_, T> {
    /// An entry of the input, scaled, in `f64`.
    #[inline(always)]
    fn get(&self, x: T) -> f64 {
        x.to_f64() * self.factors.0 * self.factors.1
    }

    /// dst ← the scaled entries of `src` (a contiguous row or column of the input).
    fn copy(&self, dst: &mut [f64], src: &[T]) {
        for (d, &x) in dst.iter_mut().zip(src) {
            *d = self.get(x);
        }
    }

    /// dst ← the scaled entries of column j of `block` (a block of rows of the input).
    fn copy_column(&self, dst: &mut [f64], block: MatRef<'_, T>, j: usize) {
        match block.col(j).try_as_col_major() {
            Some(src) => self.copy(dst, src.as_slice()),
            None => {
                for (d, &x) in dst.iter_mut().zip(block.col(j).iter()) {
                    *d = self.get(x);
                }
            }
        }
    }

    /// The error for the input's first non-finite entry (column-major, in the input's
    /// orientation); one must exist.
    fn non_finite(&self, arg: &str, index: usize) -> Error {
        let (i, j) = first_non_finite(self.a).expect("a non-finite entry exists");
        let (row, col) = if self.transposed { (j, i) } else { (i, j) };
        Error::NonFinite {
            arg: arg.into(),
            index,
            row,
            col,
        }
    }

    /// For unchecked entries ([`Element::UNSCALED`]): an error when the Gram matrix `g` (its
    /// diagonal Σ_i a_ij²) shows a non-finite entry.
    fn check_gram(&self, g: MatRef<'_, f64>, arg: &str, index: usize) -> Result<()> {
        if T::UNSCALED && !(0..g.nrows()).all(|j| g[(j, j)].is_finite()) {
            return Err(self.non_finite(arg, index));
        }
        Ok(())
    }

    /// For unchecked entries ([`Element::UNSCALED`]): an error when the SVD's workspace `w` (the
    /// entries in `f64`) holds a non-finite entry.
    fn check_workspace(&self, w: MatRef<'_, f64>, arg: &str, index: usize) -> Result<()> {
        if T::UNSCALED && !w.is_all_finite() {
            return Err(self.non_finite(arg, index));
        }
        Ok(())
    }
}

/// Checks `a` (non-empty, finite: errors name `arg`, `index` and the first bad entry in
/// column-major order) and finds its scale, in one pass in the input's memory order; for
/// [`Element::UNSCALED`] types, only that it is non-empty (see [`Scaled`]).
fn scaled<'a, T: Element>(a: MatRef<'a, T>, arg: &str, index: usize) -> Result<Scaled<'a, T>> {
    let (m, n) = a.shape();
    if m == 0 || n == 0 {
        return Err(Error::Empty {
            arg: arg.into(),
            index,
            rows: m,
            cols: n,
        });
    }
    let transposed = m < n;
    let a = if transposed { a.transpose() } else { a };
    let mut s = Scaled {
        a,
        transposed,
        exponent: 0,
        factors: (1.0, 1.0),
    };
    if T::UNSCALED {
        return Ok(s);
    }
    let (amax, finite) = max_abs(a);
    if !finite {
        return Err(s.non_finite(arg, index));
    }
    if amax != 0.0 {
        s.exponent = binary_exponent(amax);
        let half = -s.exponent / 2;
        s.factors = (2f64.powi(half), 2f64.powi(-s.exponent - half));
    }
    Ok(s)
}

/// The scaled matrix as an `f64` column-major workspace, for the SVD route (which overwrites it).
/// A tiled copy, so that a row-major input is read and the workspace written a cache line at a
/// time.
fn workspace<T: Element>(s: &Scaled<'_, T>) -> Mat<f64> {
    let (rows, cols) = s.a.shape();
    let mut w = Mat::<f64>::zeros(rows, cols);
    if s.a.row_stride() == 1 {
        for j in 0..cols {
            let dst = w.col_mut(j).try_as_col_major_mut().expect("column-major");
            s.copy_column(dst.as_slice_mut(), s.a, j);
        }
    } else {
        for j0 in (0..cols).step_by(COPY_TILE) {
            for i0 in (0..rows).step_by(COPY_TILE) {
                for j in j0..(j0 + COPY_TILE).min(cols) {
                    for i in i0..(i0 + COPY_TILE).min(rows) {
                        w[(i, j)] = s.get(s.a[(i, j)]);
                    }
                }
            }
        }
    }
    w
}

/// Entries (2 MiB of `f64`) of one row panel of [`gram`].
const GRAM_PANEL_ENTRIES: usize = 1 << 18;

/// g ← (or +=, by `accum`) the lower half of panelᵀ·panel, in the arithmetic of `E` (faer's
/// triangular product, sequential).
fn lower_gram<E: ComplexField>(g: MatMut<'_, E>, panel: MatRef<'_, E>, accum: Accum) {
    faer::linalg::matmul::triangular::matmul_with_conj(
        g,
        BlockStructure::TriangularLower,
        accum,
        panel.transpose(),
        BlockStructure::Rectangular,
        Conj::No,
        panel,
        BlockStructure::Rectangular,
        Conj::No,
        E::one_impl(),
        Par::Seq,
    );
}

/// The lower half of the Gram matrix WᵀW (k × k, k = cols) of the scaled matrix W, summed over
/// panels of rows: each panel is copied to `f64` in the input's own memory order (row-major
/// panels of a row-major tensor, column-major ones otherwise), then added as a rank-update.
/// A tall input is never copied whole: against a column-major copy of a 30522 × 384 row-major
/// `f32` embedding then one product, 1.7x faster (docs/DECISIONS.md §1).
fn gram<T: Element>(s: &Scaled<'_, T>) -> Mat<f64> {
    let (rows, k) = s.a.shape();
    let panels = rows.div_ceil((GRAM_PANEL_ENTRIES / k).max(1));
    let height = rows.div_ceil(panels);
    let row_major = s.a.col_stride() == 1 && s.a.row_stride() != 1;
    let mut buffer = vec![0.0f64; height * k];
    let mut g = Mat::<f64>::zeros(k, k);
    for (p, r0) in (0..rows).step_by(height).enumerate() {
        let h = height.min(rows - r0);
        let block = s.a.subrows(r0, h);
        let panel = if row_major {
            for (i, dst) in buffer.chunks_exact_mut(k).take(h).enumerate() {
                let src = block.row(i).try_as_row_major().expect("unit column stride");
                s.copy(dst, src.as_slice());
            }
            MatRef::from_row_major_slice(&buffer[..h * k], h, k)
        } else {
            for (j, dst) in buffer.chunks_exact_mut(h).take(k).enumerate() {
                s.copy_column(dst, block, j);
            }
            MatRef::from_column_major_slice(&buffer[..h * k], h, k)
        };
        lower_gram(
            g.as_mut(),
            panel,
            if p == 0 { Accum::Replace } else { Accum::Add },
        );
    }
    g
}

/// Rows of one panel of [`gram_single`] (at most; the panels of a matrix have equal heights).
const SINGLE_PANEL_ROWS: usize = 256;

/// Fewest panels of [`gram_single`] for the route: the `f64` sum of the panels' independent
/// rounding errors averages them (the worst ratio of [`SINGLE_ERROR_CONSTANT`]'s measurements was
/// 0.30 with one panel, 0.21 with four or more), and below 4·256 rows the `f64` route costs
/// little anyway.
const SINGLE_MIN_PANELS: usize = 4;

/// Aspect ratio m/k (tall orientation) from which `f32` input tries the single-precision Gram
/// route first. A cost rule, not an accuracy one (the accuracy is checked afterwards): a
/// random-like m × k matrix with m ≥ 2k has s_1/s_k ≤ (1 + 1/√2)/(1 − 1/√2) ≈ 5.8
/// (Marchenko–Pastur), well inside [`single_condition_limit`], while square weight matrices
/// are rarely that well conditioned and would pay for the attempt twice.
const SINGLE_MIN_ASPECT: usize = 2;

/// Largest |e| (e the binary exponent of max |a_ij|) for which the single-precision Gram route
/// keeps the product of the unscaled entries that [`gram_single`] forms: its panel sums stay below
/// 2^{2·50+10} ≪ `f32::MAX`, and products of entries near the largest stay above 2^{−100},
/// normal numbers (smaller products that underflow are far below the rounding error of the
/// sums). Checked afterwards on the `f64` diagonal, from max|a_ij|² ≤ max_j G_jj ≤
/// m·max|a_ij|² ([`single_gram_values`]).
const SINGLE_MAX_EXPONENT: i32 = 50;

/// Constant c in the error model |δs_i| ≤ c·ε₃₂·s_1²/(2·s_i) of [`gram_single`] followed by
/// `f64` eigenvalues (ε₃₂ = 2^−23), the form of the `f64` route's model.
///
/// Measured against the `f64` SVD of the same `f32` values (docs/DECISIONS.md §1; test
/// `single_gram_meets_the_f32_contract`) on about 400 matrices of at least four panels:
/// Gaussian, shifted, uniform, heavy-tailed, row- and column-graded (both, up to e^±4 and e^±3),
/// near-constant, bf16-valued, sparse and integer kinds with m = 1024…65,536 and k = 16…512,
/// and MiniLM's tall layers: the largest ratio |δs_i|/(ε₃₂·s_1²/(2·s_min)) was 0.21 (errors up
/// to 9e-8·s_1 at s_1/s_k < 20). c = 0.3 is that worst case with a margin of 1.4.
const SINGLE_ERROR_CONSTANT: f64 = 0.3;

/// The largest condition number s_1/s_k for which the single-precision Gram route meets the
/// accuracy contract `tol` in its error model, counting the rounding of an `f32` result
/// (ε₃₂/2 relative, at most ε₃₂/2·s_1): c·ε₃₂·s_1·(s_1/s_k)/2 + ε₃₂/2·s_1 ≤ tol·s_1, so
/// s_1/s_k ≤ (2·tol/ε₃₂ − 1)/c: 52.6 under the `f32` contract, below 1 (no matrix qualifies)
/// under the `f64` one. The margin is the constant's: at the limit the worst measured ratio
/// gives 7.6e-7·s_1 with the rounding.
fn single_condition_limit(tol: f64) -> f64 {
    (2.0 * tol / f32::EPSILON as f64 - 1.0) / SINGLE_ERROR_CONSTANT
}

/// The lower half of the Gram matrix AᵀA (k × k) of A with `f32` entries, in single-precision
/// arithmetic where the work is: every panel of at most
/// [`SINGLE_PANEL_ROWS`] rows of A is multiplied in `f32` (twice the `f64` rate, read in place),
/// and the panels' products are added in `f64`, so that rounding grows with the panel height,
/// not with m. The diagonal, Σ_l a_li² (sums whose terms all have one sign, so whose `f32`
/// rounding errors add up instead of cancelling), is summed in `f64` instead, from each panel
/// while it is in cache ([`add_column_squares`]; m·k multiply–adds against m·k²/2). The entries
/// are not scaled: the caller checks their range on the diagonal ([`SINGLE_MAX_EXPONENT`]).
fn gram_single(a: MatRef<'_, f32>) -> Mat<f64> {
    let (rows, k) = a.shape();
    let height = rows.div_ceil(rows.div_ceil(SINGLE_PANEL_ROWS));
    let mut product = Mat::<f32>::zeros(k, k);
    let mut g = Mat::<f64>::zeros(k, k);
    let mut diagonal = vec![0.0f64; k];
    for r0 in (0..rows).step_by(height) {
        let panel = a.subrows(r0, height.min(rows - r0));
        lower_gram(product.as_mut(), panel, Accum::Replace);
        pulp::Arch::new().dispatch(PanelSums {
            panel,
            product: product.as_ref(),
            g: g.as_mut(),
            diagonal: &mut diagonal,
        });
    }
    for (j, d) in diagonal.into_iter().enumerate() {
        g[(j, j)] = d;
    }
    g
}

/// The `f64` sums of one panel of [`gram_single`]: g += product (lower half) and the column
/// squares of the panel; plain loops, compiled inside a `pulp` dispatch so that they use the
/// CPU's SIMD.
struct PanelSums<'a> {
    panel: MatRef<'a, f32>,
    product: MatRef<'a, f32>,
    g: MatMut<'a, f64>,
    diagonal: &'a mut [f64],
}

impl pulp::WithSimd for PanelSums<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        let PanelSums {
            panel,
            product,
            mut g,
            diagonal,
        } = self;
        add_column_squares(panel, diagonal);
        for j in 0..product.ncols() {
            let src = &product
                .col(j)
                .try_as_col_major()
                .expect("column-major")
                .as_slice()[j..];
            let dst = g
                .as_mut()
                .col_mut(j)
                .try_as_col_major_mut()
                .expect("column-major");
            for (d, &x) in dst.as_slice_mut()[j..].iter_mut().zip(src) {
                *d += x as f64;
            }
        }
    }
}

/// sums_j += Σ_i a_ij² for every column j, in `f64` (exact products of `f32` entries, added in
/// row order), reading `a` in its memory order.
#[inline(always)]
fn add_column_squares(a: MatRef<'_, f32>, sums: &mut [f64]) {
    let square = |x: &f32| (*x as f64) * (*x as f64);
    if a.row_stride() == 1 {
        for (j, s) in sums.iter_mut().enumerate() {
            let col = a.col(j).try_as_col_major().expect("unit row stride");
            *s += col.as_slice().iter().map(square).sum::<f64>();
        }
    } else if a.col_stride() == 1 {
        for i in 0..a.nrows() {
            let row = a.row(i).try_as_row_major().expect("unit column stride");
            for (s, x) in sums.iter_mut().zip(row.as_slice()) {
                *s += square(x);
            }
        }
    } else {
        for (j, s) in sums.iter_mut().enumerate() {
            *s += a.col(j).iter().map(square).sum::<f64>();
        }
    }
}

/// The single-precision Gram route of [`Method::Auto`], tried first for `f32` matrices at least
/// [`SINGLE_MIN_ASPECT`] times taller than wide, of at least [`SINGLE_MIN_PANELS`] panels, with
/// their largest entry within 2^±[`SINGLE_MAX_EXPONENT`], under a contract `tol` that admits it:
/// the descending singular values when s_1/s_k of its eigenvalues is within
/// [`single_condition_limit`]; `None` when the route does not apply or they fail (the `f64`
/// routes then start afresh). The entries are those of an [`Element::UNSCALED`] type, unscaled
/// and unchecked: a non-finite one is reported from the Gram diagonal.
fn single_gram_values<T: Element>(
    s: &Scaled<'_, T>,
    tol: f64,
    arg: &str,
    index: usize,
) -> Result<Option<Vec<f64>>> {
    let Some(a) = T::single(s.a) else {
        return Ok(None);
    };
    let (rows, k) = a.shape();
    let limit = single_condition_limit(tol);
    if rows < SINGLE_MIN_ASPECT * k || rows < SINGLE_MIN_PANELS * SINGLE_PANEL_ROWS || limit < 2.0 {
        return Ok(None);
    }
    let g = gram_single(a);
    s.check_gram(g.as_ref(), arg, index)?;
    let largest = (0..k).fold(0.0f64, |m, j| m.max(g[(j, j)]));
    let range = 2f64.powi(2 * SINGLE_MAX_EXPONENT);
    if largest > range || largest < rows as f64 / range {
        return Ok(None);
    }
    let lambda = gram_eigenvalues(g, arg, index)?;
    let (lo, hi) = (lambda[0], lambda[k - 1]);
    Ok((lo > 0.0 && hi.sqrt() / lo.sqrt() <= limit)
        .then(|| lambda.iter().rev().map(|&l| l.max(0.0).sqrt()).collect()))
}

/// Power- and inverse-iteration steps of [`gram_may_be_accurate`] (each 2k² flops).
const FILTER_ITERATIONS: usize = 3;

/// Smallest λ_min/λ_max threshold (c·ε/tol)² for which [`gram_may_be_accurate`] runs its test.
const FILTER_MIN_RATIO: f64 = 1e-12;

/// A cheap filter (k³/3 flops against 4k³/3 for the eigenvalues) that rules out the Gram route
/// for matrices that are clearly too ill-conditioned for it, so that they go straight to the
/// SVD without paying for the Gram eigenvalues. Gershgorin's discs ([`gershgorin_ratio`], k²
/// flops) first accept the clearly well-conditioned G (near-identity factors) on their own.
///
/// With G = LLᵀ (Cholesky; its failure means λ_min(G) ≈ 0): upper bounds of λ_min(G), every
/// pivot L_ii² (a Schur complement) and μ = 1/(xᵀG⁻¹x) for unit x along [`FILTER_ITERATIONS`]
/// steps of inverse iteration; lower bounds of λ_max(G), max_i G_ii and ν = xᵀGx = ‖Lᵀx‖² along
/// as many steps of power iteration (max G_ii alone can be k times too small, which let most
/// ill-conditioned running products of a chain through to the eigenvalues, only to fail).
/// When μ < (c·ε/tol)²·ν, the true eigenvalues cannot pass [`gram_is_accurate`] either, so the
/// filter never rejects a matrix the full test would accept: the route depends on the Gram
/// eigenvalues alone.
///
/// Under a loose contract ((c·ε/tol)² < [`FILTER_MIN_RATIO`], the `f32` contract) only matrices
/// with λ_min/λ_max below that ratio, numerically singular ones, can fail the full test; the
/// filter would cost every other matrix about a fifth of its eigenvalues to save nothing, so it
/// lets everything through.
fn gram_may_be_accurate(g: MatRef<'_, f64>, rows: usize, tol: f64) -> bool {
    let needed = 1.0 / gram_condition_limit(rows, tol);
    if needed * needed < FILTER_MIN_RATIO {
        return true;
    }
    if gershgorin_ratio(g) >= 2.0 * needed * needed {
        return true;
    }
    let k = g.nrows();
    let max_diag = (0..k).map(|i| g[(i, i)]).fold(0.0f64, f64::max);
    let mut l = g.to_owned();
    let mut mem = MemBuffer::new(
        faer::linalg::cholesky::llt::factor::cholesky_in_place_scratch::<f64>(
            k,
            Par::Seq,
            Default::default(),
        ),
    );
    let factored = faer::linalg::cholesky::llt::factor::cholesky_in_place(
        l.as_mut(),
        Default::default(),
        Par::Seq,
        MemStack::new(&mut mem),
        Default::default(),
    );
    if factored.is_err() {
        return false;
    }
    // Upper bounds of λ_min: the pivots, then inverse iteration x ← G⁻¹x with μ = 1/(xᵀG⁻¹x).
    let mut mu = (0..k)
        .map(|i| l[(i, i)] * l[(i, i)])
        .fold(f64::INFINITY, f64::min);
    let mut x: Vec<f64> = (0..k).map(|i| 1.0 + (i % 7) as f64 / 7.0).collect();
    for _ in 0..FILTER_ITERATIONS {
        if !normalize(&mut x) {
            return false;
        }
        let mut y = x.clone();
        cholesky_solve(&l, &mut y);
        let rq = dot(&x, &y);
        if !(rq > 0.0 && rq.is_finite()) {
            return false;
        }
        mu = mu.min(1.0 / rq);
        x = y;
    }
    // Lower bounds of λ_max: max G_ii, then power iteration x ← LLᵀx with ν = ‖Lᵀx‖².
    let mut nu = max_diag;
    let mut x = vec![1.0; k];
    for _ in 0..FILTER_ITERATIONS {
        if !normalize(&mut x) {
            break;
        }
        let y: Vec<f64> = (0..k)
            .map(|j| dot(&l.col_as_slice(j)[j..], &x[j..]))
            .collect();
        nu = nu.max(dot(&y, &y));
        x.iter_mut().for_each(|v| *v = 0.0);
        for (j, &yj) in y.iter().enumerate() {
            for (v, lij) in x[j..].iter_mut().zip(&l.col_as_slice(j)[j..]) {
                *v += lij * yj;
            }
        }
    }
    mu >= needed * needed * nu
}

/// A lower bound of λ_min(G)/λ_max(G) from Gershgorin's discs (G symmetric, lower half read):
/// min_i (G_ii − r_i) / max_i (G_ii + r_i) with r_i = Σ_{j≠i} |G_ij|, or 0 when the discs reach
/// zero. One pass over G (k² flops): near-identity Gram matrices pass [`gram_may_be_accurate`]
/// on it alone, without the Cholesky factor.
fn gershgorin_ratio(g: MatRef<'_, f64>) -> f64 {
    let k = g.nrows();
    let mut radius = vec![0.0f64; k];
    for j in 0..k {
        let below = &g
            .col(j)
            .try_as_col_major()
            .expect("column-major Gram")
            .as_slice()[j + 1..];
        let mut sum = 0.0;
        for (r, x) in radius[j + 1..].iter_mut().zip(below) {
            *r += x.abs();
            sum += x.abs();
        }
        radius[j] += sum;
    }
    let (lo, hi) = radius
        .iter()
        .enumerate()
        .map(|(i, r)| (g[(i, i)] - r, g[(i, i)] + r))
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), (a, b)| {
            (lo.min(a), hi.max(b))
        });
    if lo > 0.0 && hi > 0.0 {
        lo / hi
    } else {
        0.0
    }
}

/// Scales `x` to unit length; false when its length is zero or not finite.
fn normalize(x: &mut [f64]) -> bool {
    let norm = dot(x, x).sqrt();
    if !(norm > 0.0 && norm.is_finite()) {
        return false;
    }
    x.iter_mut().for_each(|v| *v /= norm);
    true
}

/// Solves LLᵀz = x in place, L the lower-triangular Cholesky factor in the lower half of `l`
/// (column-major; its strict upper half is not read): forward, then back substitution.
fn cholesky_solve(l: &Mat<f64>, x: &mut [f64]) {
    let k = x.len();
    for j in 0..k {
        let col = &l.col_as_slice(j)[j..];
        x[j] /= col[0];
        let xj = x[j];
        for (v, lij) in x[j + 1..].iter_mut().zip(&col[1..]) {
            *v -= lij * xj;
        }
    }
    for j in (0..k).rev() {
        let col = &l.col_as_slice(j)[j..];
        x[j] = (x[j] - dot(&col[1..], &x[j + 1..])) / col[0];
    }
}

/// Ascending eigenvalues of the symmetric matrix whose lower half is `g` (consumed): a
/// Householder tridiagonalization ([`tridiagonalize`] up to [`UNBLOCKED_TRIDIAGONAL_MAX`] entries,
/// faer's blocked one beyond), then the root-free QL/QR of [`crate::tridiagonal`].
fn gram_eigenvalues(mut g: Mat<f64>, arg: &str, index: usize) -> Result<Vec<f64>> {
    let k = g.nrows();
    let (mut diag, mut off) = if k * k <= UNBLOCKED_TRIDIAGONAL_MAX {
        tridiagonalize(g.as_mut())
    } else {
        // One row of Householder coefficients: the reflectors are never applied, so faer's
        // blocked form of them is not needed.
        let mut householder = Mat::<f64>::zeros(1, k.saturating_sub(1));
        let mut mem = MemBuffer::new(tridiag::tridiag_in_place_scratch::<f64>(
            k,
            Par::Seq,
            Default::default(),
        ));
        tridiag::tridiag_in_place(
            g.as_mut(),
            householder.as_mut(),
            Par::Seq,
            MemStack::new(&mut mem),
            Default::default(),
        );
        let diag: Vec<f64> = (0..k).map(|i| g[(i, i)]).collect();
        let off: Vec<f64> = (1..k).map(|i| g[(i, i - 1)]).collect();
        (diag, off)
    };
    tridiagonal_eigenvalues(&mut diag, &mut off).map_err(|_| Error::NoConvergence {
        arg: arg.into(),
        index,
    })?;
    Ok(diag)
}

/// Aspect ratio m/k above which the SVD route first reduces a tall matrix to the k × k
/// triangular factor of its QR decomposition (faer's own threshold for its SVD).
const QR_FIRST_RATIO: f64 = 11.0 / 6.0;

/// Largest matrix (in entries, 512 KiB of `f64`) reduced by the unblocked [`bidiagonalize`]: it
/// streams the trailing matrix through the cache twice per step, which beats faer's blocked
/// reduction while the matrix stays in L2 and loses beyond (docs/DECISIONS.md §3: 1.8x at
/// 64 × 64, 1.5x at 256², 0.9x at 700 × 384).
const UNBLOCKED_BIDIAGONAL_MAX: usize = 1 << 16;

/// Largest Gram matrix (in entries, k = 1024) tridiagonalized by [`tridiagonalize`], which
/// measured 1.0–2.0x faer's blocked reduction up to there (docs/DECISIONS.md §3: 1.7x at 64²,
/// 1.3x at 256² and 384², 1.03x at 1024²); faer's beyond.
const UNBLOCKED_TRIDIAGONAL_MAX: usize = 1 << 20;

/// Descending singular values of the tall workspace `w` (overwritten): a Householder QR first
/// when w is much taller than wide, a Householder bidiagonalization ([`bidiagonalize`] for
/// matrices up to [`UNBLOCKED_BIDIAGONAL_MAX`] entries, faer's blocked one beyond), then the bidiagonal
/// singular values of [`crate::tridiagonal`] (dqds). Accurate to O(k·ε·s_1) for every value.
fn svd_values(mut w: MatMut<'_, f64>, arg: &str, index: usize) -> Result<Vec<f64>> {
    let (m, n) = w.shape();
    let mut triangular: Mat<f64>;
    let mut w = if m as f64 > QR_FIRST_RATIO * n as f64 {
        let block = qr::no_pivoting::factor::recommended_block_size::<f64>(m, n);
        let mut householder = Mat::<f64>::zeros(block, n);
        let mut mem = MemBuffer::new(qr::no_pivoting::factor::qr_in_place_scratch::<f64>(
            m,
            n,
            block,
            Par::Seq,
            Default::default(),
        ));
        qr::no_pivoting::factor::qr_in_place(
            w.as_mut(),
            householder.as_mut(),
            Par::Seq,
            MemStack::new(&mut mem),
            Default::default(),
        );
        triangular = Mat::from_fn(n, n, |i, j| if i <= j { w[(i, j)] } else { 0.0 });
        triangular.as_mut()
    } else {
        w
    };
    let (diag, sup) = if w.nrows() * n <= UNBLOCKED_BIDIAGONAL_MAX {
        bidiagonalize(w.as_mut())
    } else {
        let mut left = Mat::<f64>::zeros(1, n);
        let mut right = Mat::<f64>::zeros(1, n.saturating_sub(1));
        let mut mem = MemBuffer::new(svd::bidiag::bidiag_in_place_scratch::<f64>(
            w.nrows(),
            n,
            Par::Seq,
            Default::default(),
        ));
        svd::bidiag::bidiag_in_place(
            w.as_mut(),
            left.as_mut(),
            right.as_mut(),
            Par::Seq,
            MemStack::new(&mut mem),
            Default::default(),
        );
        let diag: Vec<f64> = (0..n).map(|i| w[(i, i)]).collect();
        let sup: Vec<f64> = (1..n).map(|i| w[(i - 1, i)]).collect();
        (diag, sup)
    };
    bidiagonal_singular_values(&diag, &sup).map_err(|_| Error::NoConvergence {
        arg: arg.into(),
        index,
    })
}

/// Descending singular values in `f64` of a matrix of element type `T`, by `method`; `tol` is
/// the accuracy contract that [`Method::Auto`] enforces. `arg` and `index` name the matrix in
/// errors.
pub(crate) fn singular_values_f64<T: Element>(
    a: MatRef<'_, T>,
    method: Method,
    arg: &str,
    index: usize,
) -> Result<Vec<f64>> {
    let s = scaled(a, arg, index)?;
    let svd = || {
        let mut w = workspace(&s);
        s.check_workspace(w.as_ref(), arg, index)?;
        svd_values(w.as_mut(), arg, index)
    };
    let single = match method {
        Method::Auto => single_gram_values(&s, T::CONTRACT, arg, index)?,
        Method::Gram | Method::Svd => None,
    };
    let mut sv = match (method, single) {
        (_, Some(sv)) => sv,
        (Method::Svd, None) => svd()?,
        (Method::Gram | Method::Auto, None) => {
            let rows = s.a.nrows();
            let g = gram(&s);
            s.check_gram(g.as_ref(), arg, index)?;
            if method == Method::Auto && !gram_may_be_accurate(g.as_ref(), rows, T::CONTRACT) {
                svd()?
            } else {
                let lambda = gram_eigenvalues(g, arg, index)?;
                if method == Method::Gram || gram_is_accurate(&lambda, rows, T::CONTRACT) {
                    lambda.iter().rev().map(|&l| l.max(0.0).sqrt()).collect()
                } else {
                    svd()?
                }
            }
        }
    };
    let e = s.exponent;
    if e != 0 {
        sv.iter_mut().for_each(|s| *s = ldexp(*s, e));
    }
    Ok(sv)
}

/// Descending singular values (length k = min(m, n)) of one matrix, in its own precision.
///
/// Errors: [`Error::Empty`] for a zero-size matrix, [`Error::NonFinite`] for NaN/Inf entries,
/// [`Error::NoConvergence`] if the decomposition fails.
pub fn singular_values<T: Element>(a: MatRef<'_, T>, method: Method) -> Result<Vec<T>> {
    Ok(singular_values_f64(a, method, "a", 0)?
        .into_iter()
        .map(T::from_f64)
        .collect())
}

/// Singular values of every matrix of a batch, in parallel across matrices on the current rayon
/// pool (each decomposition sequential), in input order.
///
/// Memory: the inputs, the outputs and one `f64` row panel or workspace per running thread. Errors name the
/// index of the first failing matrix; a set `cancel` flag stops the batch with
/// [`Error::Cancelled`].
pub fn singular_values_batch<T: Element>(
    mats: &[MatRef<'_, T>],
    method: Method,
    cancel: &Cancel,
) -> Result<Vec<Vec<T>>> {
    try_map(mats, cancel, |i, a| {
        Ok(singular_values_f64(*a, method, "a", i)?
            .into_iter()
            .map(T::from_f64)
            .collect())
    })
}

/// Validates a spectrum given by the caller: non-empty, finite, non-negative, non-increasing.
pub fn check_spectrum(sv: &[f64], arg: &str) -> Result<()> {
    if sv.is_empty() {
        return Err(Error::Empty {
            arg: arg.into(),
            index: 0,
            rows: 0,
            cols: 0,
        });
    }
    for (i, &x) in sv.iter().enumerate() {
        if !x.is_finite() {
            return Err(Error::NonFinite {
                arg: arg.into(),
                index: 0,
                row: i,
                col: 0,
            });
        }
        if x < 0.0 {
            return Err(Error::invalid(
                arg,
                format!("singular value {i} is negative ({x})"),
            ));
        }
        if i > 0 && x > sv[i - 1] {
            return Err(Error::invalid(
                arg,
                format!(
                    "singular values must be in descending order (entry {i} = {x} > entry {} = {})",
                    i - 1,
                    sv[i - 1]
                ),
            ));
        }
    }
    if sv[0] == 0.0 {
        return Err(Error::ZeroMatrix {
            arg: arg.into(),
            index: 0,
        });
    }
    Ok(())
}

/// Σ_j (s_j/s_1)², the Frobenius energy relative to the top singular value (≥ 1).
pub(crate) fn relative_energy(sv: &[f64]) -> f64 {
    let s1 = sv[0];
    neumaier_sum(sv.iter().map(|&s| (s / s1) * (s / s1)))
}

/// Top-radial coordinate r = log s_1(Â) = ½ log(k·s_1²/‖A‖_F²) ∈ [0, ½ log k] (nats).
///
/// `sv` is a descending spectrum; k = `sv.len()`. r = 0 iff all singular values are equal;
/// r = ½ log k iff the rank is 1. Errors on an empty, non-finite or zero spectrum.
pub fn top_radial(sv: &[f64]) -> Result<f64> {
    check_spectrum(sv, "sv")?;
    let k = sv.len() as f64;
    Ok((0.5 * (k / relative_energy(sv)).ln()).clamp(0.0, 0.5 * k.ln()))
}

/// Normalised Cartan coordinate â_i = log s_i(Â) (nats), Σ_i e^{2â_i} = k; −∞ at zero singular
/// values.
pub fn normalized_cartan(sv: &[f64]) -> Result<Vec<f64>> {
    check_spectrum(sv, "sv")?;
    let k = sv.len() as f64;
    let shift = sv[0].ln() + 0.5 * (relative_energy(sv) / k).ln();
    Ok(sv.iter().map(|&s| s.ln() - shift).collect())
}

/// Energy distribution p_i = s_i²/Σ_j s_j² (a probability vector on ranks).
pub fn energy(sv: &[f64]) -> Result<Vec<f64>> {
    check_spectrum(sv, "sv")?;
    let s1 = sv[0];
    let total = relative_energy(sv);
    Ok(sv.iter().map(|&s| (s / s1) * (s / s1) / total).collect())
}

/// Numerical rank k′ = #{s_i > max(m, n)·ε·s_1} of an m × n matrix with spectrum `sv`.
pub fn numerical_rank(sv: &[f64], m: usize, n: usize) -> usize {
    let Some(&s1) = sv.first() else { return 0 };
    let tol = m.max(n) as f64 * f64::EPSILON * s1;
    sv.iter().take_while(|&&s| s > tol).count()
}

/// Every per-matrix quantity of SPEC §2 for one matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrum {
    /// Descending singular values (length k).
    pub sv: Vec<f64>,
    /// Rows of the matrix.
    pub m: usize,
    /// Columns of the matrix.
    pub n: usize,
    /// Numerical rank k′ (see [`numerical_rank`]).
    pub numerical_rank: usize,
    /// Normalised Cartan coordinate â (see [`normalized_cartan`]).
    pub cartan: Vec<f64>,
    /// Energy distribution p (see [`energy`]).
    pub energy: Vec<f64>,
    /// Top-radial coordinate r (see [`top_radial`]).
    pub top_radial: f64,
    /// Stable rank ‖A‖_F²/‖A‖² = k·e^{−2r}.
    pub stable_rank: f64,
}

impl Spectrum {
    /// All quantities from the descending singular values `sv` of an m × n matrix.
    pub fn from_singular_values(sv: Vec<f64>, m: usize, n: usize) -> Result<Self> {
        check_spectrum(&sv, "sv")?;
        let rel = relative_energy(&sv);
        Ok(Spectrum {
            numerical_rank: numerical_rank(&sv, m, n),
            cartan: normalized_cartan(&sv)?,
            energy: energy(&sv)?,
            top_radial: top_radial(&sv)?,
            stable_rank: rel,
            sv,
            m,
            n,
        })
    }

    /// The spectrum of a matrix (singular values in `f64` by `method`).
    pub fn of<T: Element>(a: MatRef<'_, T>, method: Method) -> Result<Self> {
        let (m, n) = a.shape();
        let sv = singular_values_f64(a, method, "a", 0)?;
        if sv[0] == 0.0 {
            return Err(Error::ZeroMatrix {
                arg: "a".into(),
                index: 0,
            });
        }
        Self::from_singular_values(sv, m, n)
    }

    /// Width k = min(m, n).
    pub fn k(&self) -> usize {
        self.sv.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Deterministic standard-normal-ish entries (sum of uniforms) for test matrices.
    fn noise(seed: u64, m: usize, n: usize) -> Mat<f64> {
        let mut state = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        Mat::from_fn(m, n, |_, _| (0..12).map(|_| next()).sum::<f64>() - 6.0)
    }

    fn diag_spectrum(s: &[f64]) -> Mat<f64> {
        Mat::from_fn(s.len(), s.len(), |i, j| if i == j { s[i] } else { 0.0 })
    }

    #[test]
    fn diagonal_matrix_gives_its_sorted_entries() {
        let a = diag_spectrum(&[0.5, 3.0, 1.0, 2.0]);
        for method in [Method::Auto, Method::Gram, Method::Svd] {
            let sv = singular_values(a.as_ref(), method).unwrap();
            let expected = [3.0, 2.0, 1.0, 0.5];
            for (x, y) in sv.iter().zip(expected) {
                assert!((x - y).abs() < 1e-14, "{method:?}: {sv:?}");
            }
        }
    }

    #[test]
    fn wide_and_tall_matrices_agree_with_their_transpose() {
        let a = noise(3, 7, 19);
        let wide = singular_values(a.as_ref(), Method::Svd).unwrap();
        let tall = singular_values(a.transpose(), Method::Svd).unwrap();
        assert_eq!(wide.len(), 7);
        for (x, y) in wide.iter().zip(&tall) {
            assert!((x - y).abs() < 1e-13 * wide[0]);
        }
    }

    #[test]
    fn gram_in_panels_matches_one_product_in_every_layout() {
        // 10,000 × 64: three panels. Column-major, row-major (a transposed view), wide (transposed
        // to tall), reversed rows (negative stride), and f32.
        let a = noise(11, 10_000, 64);
        let at = a.transpose().to_owned();
        let reference = |w: MatRef<'_, f64>| {
            let mut g = Mat::<f64>::zeros(w.ncols(), w.ncols());
            faer::linalg::matmul::matmul(
                g.as_mut(),
                Accum::Replace,
                w.transpose(),
                w,
                1.0,
                Par::Seq,
            );
            g
        };
        let check = |g: Mat<f64>, r: Mat<f64>, exponent: i32, tol: f64| {
            let scale = 2f64.powi(2 * exponent);
            for j in 0..r.ncols() {
                for i in j..r.nrows() {
                    assert!(
                        (g[(i, j)] * scale - r[(i, j)]).abs() <= tol * r[(j, j)],
                        "{i} {j}"
                    );
                }
            }
        };
        let full = reference(a.as_ref());
        for view in [a.as_ref(), at.as_ref().transpose(), at.as_ref()] {
            let s = scaled(view, "a", 0).unwrap();
            check(gram(&s), full.clone(), s.exponent, 1e-14);
        }
        let reversed = a.as_ref().reverse_rows();
        let s = scaled(reversed, "a", 0).unwrap();
        check(gram(&s), full.clone(), s.exponent, 1e-14);
        let a32 = Mat::<f32>::from_fn(10_000, 64, |i, j| a[(i, j)] as f32);
        let s = scaled(a32.as_ref(), "a", 0).unwrap();
        let widened = Mat::<f64>::from_fn(10_000, 64, |i, j| a32[(i, j)] as f64);
        check(gram(&s), reference(widened.as_ref()), s.exponent, 1e-14);
    }

    #[test]
    fn graded_matrix_falls_back_to_the_svd() {
        // s_i = 10^{-i}: the Gram route loses everything below √ε·s_1; auto must not take it.
        let s: Vec<f64> = (0..12).map(|i| 10f64.powi(-i)).collect();
        let a = diag_spectrum(&s);
        let auto = singular_values(a.as_ref(), Method::Auto).unwrap();
        for (x, y) in auto.iter().zip(&s) {
            assert!((x - y).abs() <= 1e-15 * s[0], "{x} vs {y}");
        }
        let lambda = gram_eigenvalues(gram(&scaled(a.as_ref(), "a", 0).unwrap()), "a", 0).unwrap();
        assert!(!gram_is_accurate(&lambda, 12, f64::CONTRACT));
    }

    #[test]
    fn wide_svd_route_matches_a_dense_svd() {
        // Wide enough for faer's blocked bidiagonalization (after a QR when tall); graded
        // columns make the small singular values matter.
        for (m, n) in [(200, 200), (400, 168)] {
            let mut a = noise(m as u64, m, n);
            for j in 0..n {
                let f = 10f64.powf(-10.0 * j as f64 / n as f64);
                for i in 0..m {
                    a[(i, j)] *= f;
                }
            }
            let mut reference = a.singular_values().unwrap();
            reference.sort_by(|a, b| b.total_cmp(a));
            let ours = svd_values(a.as_mut(), "a", 0).unwrap();
            for (x, y) in ours.iter().zip(&reference) {
                assert!((x - y).abs() <= 1e-13 * reference[0], "{m}x{n}: {x} vs {y}");
            }
        }
    }

    #[test]
    fn unscaled_f32_entries_are_checked_by_every_route() {
        // f32 input is checked on the routes' f64 data (the Gram diagonal, the SVD workspace):
        // every route, orientation and kind of bad entry must name the entry a check up front
        // names, the first non-finite one in column-major order (of the input's orientation
        // when it is tall, of its transpose when wide).
        let tall = kind_of_matrix(0, 1024, 64, 5); // the single-precision Gram route
        let square = kind_of_matrix(0, 48, 48, 6); // the f64 Gram route
        for base in [tall.clone(), tall.transpose().to_owned(), square] {
            let (m, n) = base.shape();
            for (bad, spots) in [
                (f32::NAN, vec![(m - 1, n - 1)]),
                (f32::INFINITY, vec![(0, n / 2), (m / 2, 0)]),
                (f32::NEG_INFINITY, vec![(m / 3, n - 1), (m - 1, n / 3)]),
            ] {
                let mut a = base.clone();
                for &(i, j) in &spots {
                    a[(i, j)] = bad;
                }
                // The expected entry: first in column-major order of the tall orientation.
                let key = |&(i, j): &(usize, usize)| if m < n { (i, j) } else { (j, i) };
                let &(row, col) = spots.iter().min_by_key(|p| key(p)).unwrap();
                for method in [Method::Auto, Method::Gram, Method::Svd] {
                    assert_eq!(
                        singular_values_f64(a.as_ref(), method, "w", 3),
                        Err(Error::NonFinite {
                            arg: "w".into(),
                            index: 3,
                            row,
                            col
                        }),
                        "{m}x{n} {bad} {method:?}"
                    );
                }
            }
        }
        // Unscaled f32 towards the ends of its normal range: the same spectra times the exact
        // powers of two, whichever route each scale takes.
        let base = singular_values(tall.as_ref(), Method::Auto).unwrap();
        for e in [-100, -60, -40, 40, 60, 100, 120] {
            let f = 2f32.powi(e / 2) * 2f32.powi(e - e / 2);
            let a = Mat::<f32>::from_fn(1024, 64, |i, j| tall[(i, j)] * f);
            let sv = singular_values(a.as_ref(), Method::Auto).unwrap();
            for (x, y) in sv.iter().zip(&base) {
                assert!(((x / f) - y).abs() <= 2e-6 * base[0], "2^{e}: {x} vs {y}");
            }
        }
    }

    #[test]
    fn errors_name_the_matrix() {
        let mut a = noise(1, 3, 3);
        a[(1, 2)] = f64::NAN;
        let good = noise(2, 3, 3);
        let err = singular_values_batch(&[good.as_ref(), a.as_ref()], Method::Auto, &Cancel::new())
            .unwrap_err();
        assert_eq!(
            err,
            Error::NonFinite {
                arg: "a".into(),
                index: 1,
                row: 1,
                col: 2
            }
        );
        let empty = Mat::<f64>::zeros(0, 3);
        assert!(matches!(
            singular_values(empty.as_ref(), Method::Auto),
            Err(Error::Empty { .. })
        ));
        let cancel = Cancel::new();
        cancel.cancel();
        assert_eq!(
            singular_values_batch(&[good.as_ref()], Method::Auto, &cancel),
            Err(Error::Cancelled)
        );
    }

    #[test]
    fn extreme_scales_are_exact_powers_of_two_away() {
        let a = noise(4, 9, 6);
        let base = singular_values(a.as_ref(), Method::Svd).unwrap();
        for e in [-1000, -300, 300, 1000] {
            let scaled = Mat::from_fn(9, 6, |i, j| ldexp(a[(i, j)], e));
            for method in [Method::Auto, Method::Gram, Method::Svd] {
                let sv = singular_values(scaled.as_ref(), method).unwrap();
                for (x, y) in sv.iter().zip(&base) {
                    let back = ldexp(*x, -e);
                    assert!(
                        (back - y).abs() <= 1e-12 * base[0] + 1e-300,
                        "{method:?} 2^{e}: {back} vs {y}"
                    );
                }
            }
        }
    }

    #[test]
    fn subnormal_matrices_are_not_zero() {
        let ints = Mat::from_fn(5, 3, |i, j| ((i * 3 + j * 7) % 11) as f64 - 5.0);
        let base = singular_values(ints.as_ref(), Method::Svd).unwrap();
        let tiny = Mat::from_fn(5, 3, |i, j| ldexp(ints[(i, j)], -1070));
        let sv = singular_values(tiny.as_ref(), Method::Auto).unwrap();
        // The results are themselves subnormal: exact up to the rounding of the output.
        for (x, y) in sv.iter().zip(&base) {
            assert!(*x > 0.0);
            assert!(
                (x - ldexp(*y, -1070)).abs() <= ldexp(2.0, -1074),
                "{x:e} vs {y}"
            );
        }
    }

    #[test]
    fn f32_input_meets_its_contract() {
        let a64 = noise(9, 40, 24);
        let a32 = Mat::<f32>::from_fn(40, 24, |i, j| a64[(i, j)] as f32);
        let exact = singular_values(
            Mat::<f64>::from_fn(40, 24, |i, j| a32[(i, j)] as f64).as_ref(),
            Method::Svd,
        )
        .unwrap();
        let got = singular_values(a32.as_ref(), Method::Auto).unwrap();
        for (x, y) in got.iter().zip(&exact) {
            assert!(((*x as f64) - y).abs() <= 1e-6 * exact[0]);
        }
    }

    /// A tall `f32` matrix of one of eleven kinds: Gaussian, shifted, uniform, heavy-tailed,
    /// row-graded (e^±3), near-constant, bf16-valued, 90 % sparse, integer, column-graded by a
    /// power law, column-graded by e^±1.
    fn kind_of_matrix(kind: usize, m: usize, n: usize, seed: u64) -> Mat<f32> {
        let g = noise(seed, m, n);
        // Deterministic values in [0, 1).
        let u = |i: usize, j: usize| ((i * 7919 + j * 104_729 + kind) % 10_007) as f64 / 10_007.0;
        let rows: Vec<f64> = (0..m).map(|i| (6.0 * u(i, 1) - 3.0).exp()).collect();
        let cols: Vec<f64> = (0..n).map(|j| (2.0 * u(3, j) - 1.0).exp()).collect();
        Mat::from_fn(m, n, |i, j| {
            let x = g[(i, j)];
            let v = match kind {
                0 => x,
                1 => x + 0.3,
                2 => u(i, j),
                3 => x / (u(i, j) + 0.05),
                4 => x * rows[i],
                5 => 0.1 + 0.01 * x,
                6 => f32::from_bits((x as f32).to_bits() & 0xffff_0000) as f64,
                7 => {
                    if u(j, i) < 0.9 {
                        0.0
                    } else {
                        x
                    }
                }
                8 => (3.0 * x).round(),
                9 => x * ((j + 1) as f64).powf(-0.3),
                _ => x * cols[j],
            };
            v as f32
        })
    }

    /// The share of s_1 the single route may lose before its `f32` result is rounded.
    const ROUTE_BUDGET: f64 = f32::CONTRACT - 0.5 * f32::EPSILON as f64;

    #[test]
    fn single_gram_meets_the_f32_contract() {
        let mut accepted = 0;
        for (m, n) in [(1024, 128), (1536, 96), (4096, 32)] {
            for kind in 0..11 {
                let a = kind_of_matrix(kind, m, n, (m * 11 + kind) as u64);
                let widened = Mat::<f64>::from_fn(m, n, |i, j| a[(i, j)] as f64);
                let exact = singular_values(widened.as_ref(), Method::Svd).unwrap();
                let (s1, kappa) = (exact[0], exact[0] / exact[n - 1]);
                // The route itself: its error model holds on every kind, accepted or not.
                let lambda = gram_eigenvalues(gram_single(a.as_ref()), "a", 0).unwrap();
                let single: Vec<f64> = lambda.iter().rev().map(|&l| l.max(0.0).sqrt()).collect();
                let err = single
                    .iter()
                    .zip(&exact)
                    .map(|(x, y)| (x - y).abs())
                    .fold(0.0, f64::max);
                let model = f32::EPSILON as f64 * s1 * kappa / 2.0;
                assert!(
                    err <= SINGLE_ERROR_CONSTANT * model,
                    "{m}x{n} kind {kind}: {err:e} vs {model:e}"
                );
                // Auto (through whichever route it takes) meets the contract.
                let s = scaled(a.as_ref(), "a", 0).unwrap();
                let route = single_gram_values(&s, f32::CONTRACT, "a", 0).unwrap();
                if let Some(sv) = &route {
                    accepted += 1;
                    assert!(kappa <= 1.01 * single_condition_limit(f32::CONTRACT));
                    for (x, y) in sv.iter().zip(&exact) {
                        assert!((ldexp(*x, s.exponent) - y).abs() <= ROUTE_BUDGET * s1);
                    }
                }
                let auto = singular_values(a.as_ref(), Method::Auto).unwrap();
                for (x, y) in auto.iter().zip(&exact) {
                    assert!(
                        (*x as f64 - y).abs() <= f32::CONTRACT * s1,
                        "{m}x{n} kind {kind}"
                    );
                }
            }
        }
        // Row- and column-graded Gaussian matrices, the kinds with the largest ratios.
        for (rg, cg) in [
            (0.0, 0.0),
            (2.0, 0.0),
            (4.0, 0.0),
            (2.0, 1.0),
            (4.0, 1.0),
            (4.0, 2.0),
        ] {
            let g = noise(rg as u64 + 10, 1024, 128);
            let w = |i: usize, j: usize| ((i * 7919 + j * 104_729) % 10_007) as f64 / 5_003.5 - 1.0;
            let a = Mat::<f32>::from_fn(1024, 128, |i, j| {
                (g[(i, j)] * (rg * w(i, 1)).exp() * (cg * w(3, j)).exp()) as f32
            });
            let widened = Mat::<f64>::from_fn(1024, 128, |i, j| a[(i, j)] as f64);
            let exact = singular_values(widened.as_ref(), Method::Svd).unwrap();
            let lambda = gram_eigenvalues(gram_single(a.as_ref()), "a", 0).unwrap();
            let model = f32::EPSILON as f64 * exact[0] * exact[0] / exact[127] / 2.0;
            for (l, y) in lambda.iter().rev().zip(&exact) {
                assert!(
                    (l.sqrt() - y).abs() <= SINGLE_ERROR_CONSTANT * model,
                    "{rg} {cg}"
                );
            }
        }
        // The well-conditioned kinds take the route (most of the 33 matrices).
        assert!(accepted >= 20, "{accepted}");
    }

    #[test]
    fn single_gram_admits_condition_numbers_up_to_its_limit() {
        let limit = single_condition_limit(f32::CONTRACT);
        assert!((52.0..53.0).contains(&limit), "{limit}");
        let (m, n) = (4096, 64);
        let mut admitted = 0;
        // Column grading r^j spans s_1/s_k from about 13 to 200, across the limit.
        for (t, r) in [0.96f64, 0.95, 0.945, 0.94, 0.935, 0.93, 0.92]
            .into_iter()
            .enumerate()
        {
            let g = noise(40 + t as u64, m, n);
            let a = Mat::<f32>::from_fn(m, n, |i, j| (g[(i, j)] * r.powi(j as i32)) as f32);
            let widened = Mat::<f64>::from_fn(m, n, |i, j| a[(i, j)] as f64);
            let exact = singular_values(widened.as_ref(), Method::Svd).unwrap();
            let kappa = exact[0] / exact[n - 1];
            let s = scaled(a.as_ref(), "a", 0).unwrap();
            match single_gram_values(&s, f32::CONTRACT, "a", 0).unwrap() {
                Some(sv) => {
                    admitted += 1;
                    assert!(kappa <= 1.001 * limit, "{r}: {kappa}");
                    for (x, y) in sv.iter().zip(&exact) {
                        let err = (ldexp(*x, s.exponent) - y).abs();
                        assert!(err <= ROUTE_BUDGET * exact[0], "{r}: {err:e}");
                    }
                }
                None => assert!(kappa >= 0.999 * limit, "{r}: {kappa}"),
            }
        }
        assert!((3..7).contains(&admitted), "{admitted}");
    }

    #[test]
    fn single_gram_applies_to_tall_f32_only() {
        let tall = kind_of_matrix(0, 1024, 64, 1);
        let s = scaled(tall.as_ref(), "a", 0).unwrap();
        assert!(single_gram_values(&s, f32::CONTRACT, "a", 0)
            .unwrap()
            .is_some());
        // Wide input is the same matrix transposed.
        let s = scaled(tall.transpose(), "a", 0).unwrap();
        assert!(single_gram_values(&s, f32::CONTRACT, "a", 0)
            .unwrap()
            .is_some());
        // Too few rows for four panels, too square, f64 input, or an ill-conditioned matrix.
        for a in [
            kind_of_matrix(0, 1000, 64, 2),
            kind_of_matrix(0, 1024, 600, 3),
        ] {
            let s = scaled(a.as_ref(), "a", 0).unwrap();
            assert!(single_gram_values(&s, f32::CONTRACT, "a", 0)
                .unwrap()
                .is_none());
        }
        let wide64 = Mat::<f64>::from_fn(1024, 64, |i, j| tall[(i, j)] as f64);
        let s = scaled(wide64.as_ref(), "a", 0).unwrap();
        assert!(single_gram_values(&s, f32::CONTRACT, "a", 0)
            .unwrap()
            .is_none());
        let graded = Mat::<f32>::from_fn(1024, 64, |i, j| tall[(i, j)] * 0.9f32.powi(j as i32));
        let s = scaled(graded.as_ref(), "a", 0).unwrap();
        assert!(single_gram_values(&s, f32::CONTRACT, "a", 0)
            .unwrap()
            .is_none());
        // Extreme scales keep the f64 routes (exact powers of two away from the unscaled values).
        let huge = Mat::<f32>::from_fn(1024, 64, |i, j| tall[(i, j)] * 2f32.powi(100));
        let s = scaled(huge.as_ref(), "a", 0).unwrap();
        assert!(single_gram_values(&s, f32::CONTRACT, "a", 0)
            .unwrap()
            .is_none());
        let base = singular_values(tall.as_ref(), Method::Auto).unwrap();
        let sv = singular_values(huge.as_ref(), Method::Auto).unwrap();
        for (x, y) in sv.iter().zip(&base) {
            assert!((x / 2f32.powi(100) - y).abs() <= 2e-6 * base[0]);
        }
    }

    #[test]
    fn spectrum_quantities_satisfy_their_identities() {
        let sv = vec![3.0, 2.0, 1.0, 0.0];
        let sp = Spectrum::from_singular_values(sv, 4, 6).unwrap();
        let k = 4.0f64;
        let sum: f64 = sp.cartan.iter().map(|a| (2.0 * a).exp()).sum();
        assert!((sum - k).abs() < 1e-12);
        assert!((sp.top_radial - 0.5 * (k * sp.energy[0]).ln()).abs() < 1e-12);
        assert!((sp.stable_rank - k * (-2.0 * sp.top_radial).exp()).abs() < 1e-12);
        assert_eq!(sp.numerical_rank, 3);
        assert_eq!(sp.cartan[3], f64::NEG_INFINITY);
        assert!(matches!(
            top_radial(&[0.0, 0.0]),
            Err(Error::ZeroMatrix { .. })
        ));
        assert!(top_radial(&[1.0, 2.0]).is_err());
        assert_eq!(top_radial(&[5.0]).unwrap(), 0.0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// The cheap filter never rejects a matrix whose Gram eigenvalues pass the full test.
        #[test]
        fn filter_never_rejects_what_the_full_test_accepts(seed in 0u64..1_000_000, n in 2usize..24, extra in 0usize..8, grade in 0.0f64..6.0) {
            let mut a = noise(seed, n + extra, n);
            for j in 0..n {
                let scale = 10f64.powf(-grade * j as f64 / n as f64);
                for i in 0..n + extra {
                    a[(i, j)] *= scale;
                }
            }
            let g = gram(&scaled(a.as_ref(), "a", 0).unwrap());
            let lambda = gram_eigenvalues(g.clone(), "a", 0).unwrap();
            for tol in [f64::CONTRACT, f32::CONTRACT] {
                if gram_is_accurate(&lambda, n + extra, tol) {
                    prop_assert!(gram_may_be_accurate(g.as_ref(), n + extra, tol));
                }
            }
        }

        /// Gershgorin's ratio never exceeds λ_min/λ_max, on Gram matrices of I + t·noise from
        /// diagonally dominant (t small) to not (t large, where it is 0).
        #[test]
        fn gershgorin_ratio_bounds_the_eigenvalue_ratio(seed in 0u64..1_000_000, n in 1usize..40, t in 0.0f64..0.6) {
            let mut a = noise(seed, n, n);
            for i in 0..n {
                for j in 0..n {
                    a[(i, j)] = t * a[(i, j)] + if i == j { 1.0 } else { 0.0 };
                }
            }
            let g = gram(&scaled(a.as_ref(), "a", 0).unwrap());
            let lambda = gram_eigenvalues(g.clone(), "a", 0).unwrap();
            let ratio = gershgorin_ratio(g.as_ref());
            prop_assert!(ratio >= 0.0);
            prop_assert!(ratio <= lambda[0] / lambda[n - 1] * (1.0 + 1e-12));
            if t < 0.05 / (n as f64).sqrt() {
                prop_assert!(ratio > 0.1);
            }
        }

        /// The SVD route agrees with faer's own dense SVD to O(ε·s_1), square or tall.
        #[test]
        fn svd_route_matches_a_dense_svd(seed in 0u64..1_000_000, m in 1usize..40, n in 1usize..40, grade in 0.0f64..12.0) {
            let mut a = noise(seed, m, n);
            for j in 0..n {
                let f = 10f64.powf(-grade * j as f64 / n as f64);
                for i in 0..m {
                    a[(i, j)] *= f;
                }
            }
            let mut w = workspace(&scaled(a.as_ref(), "a", 0).unwrap());
            let mut reference = w.as_ref().singular_values().unwrap();
            reference.sort_by(|a, b| b.total_cmp(a));
            let ours = svd_values(w.as_mut(), "a", 0).unwrap();
            for (x, y) in ours.iter().zip(&reference) {
                prop_assert!((x - y).abs() <= 1e-13 * reference[0], "{x} vs {y}");
            }
        }

        /// Tall f32 matrices (the single-precision route where it applies): Auto within the f32
        /// contract of the f64 SVD of the same values, whatever the row and column grading.
        #[test]
        fn tall_f32_meets_its_contract(seed in 0u64..1_000_000, m in 1024usize..1300, n in 4usize..64, rows in 0.0f64..4.0, cols in 0.0f64..2.0, shift in -0.5f64..0.5) {
            let g = noise(seed, m, n);
            let w = |i: usize, j: usize| ((i * 7919 + j * 104_729 + seed as usize) % 10_007) as f64 / 5_003.5 - 1.0;
            let a = Mat::<f32>::from_fn(m, n, |i, j| {
                ((g[(i, j)] + shift) * (rows * w(i, 1)).exp() * (cols * w(3, j)).exp()) as f32
            });
            let widened = Mat::<f64>::from_fn(m, n, |i, j| a[(i, j)] as f64);
            let exact = singular_values(widened.as_ref(), Method::Svd).unwrap();
            let auto = singular_values(a.as_ref(), Method::Auto).unwrap();
            for (x, y) in auto.iter().zip(&exact) {
                prop_assert!((*x as f64 - y).abs() <= f32::CONTRACT * exact[0], "{x} vs {y}");
            }
        }

        /// Auto agrees with the SVD to the f64 contract; r is scale invariant.
        #[test]
        fn auto_meets_the_contract(seed in 0u64..1_000_000, m in 1usize..20, n in 1usize..20, grade in 0.0f64..10.0, scale in -20.0f64..20.0) {
            let mut a = noise(seed, m, n);
            for j in 0..n {
                let f = 10f64.powf(-grade * j as f64 / n as f64);
                for i in 0..m {
                    a[(i, j)] *= f;
                }
            }
            let auto = singular_values(a.as_ref(), Method::Auto).unwrap();
            let svd = singular_values(a.as_ref(), Method::Svd).unwrap();
            for (x, y) in auto.iter().zip(&svd) {
                prop_assert!((x - y).abs() <= 1e-12 * svd[0]);
            }
            let c = 2f64.powf(scale);
            let scaled = Mat::from_fn(m, n, |i, j| c * a[(i, j)]);
            let r1 = top_radial(&svd).unwrap();
            let r2 = top_radial(&singular_values(scaled.as_ref(), Method::Svd).unwrap()).unwrap();
            prop_assert!((r1 - r2).abs() < 1e-12);
        }
    }
}
