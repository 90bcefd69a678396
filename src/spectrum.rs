//! Singular spectra of one matrix and of batches, and the per-matrix quantities of SPEC §2.
//!
//! For A ∈ ℝ^{m×n}, k = min(m, n), the singular values s_1 ≥ … ≥ s_k ≥ 0 are computed by one of
//! two routes (see [`Method`]):
//!
//! * **Gram**: the theory's own map A ↦ AᵀA (k × k) followed by the symmetric eigenvalues
//!   λ_i, s_i = √λ_i. It costs k³/3 + m k² flops for the Gram product (lower half only) and about
//!   4k³/3 for the tridiagonal eigenvalue solve, about half a bidiagonal SVD. Its absolute error
//!   on s_i is about c·ε·s_1²/(2 s_i): accurate for well-conditioned matrices (near-identity
//!   Jacobians), not for the small singular values of ill-conditioned ones.
//! * **SVD**: faer's bidiagonal SVD, accurate to O(ε·s_1) for every singular value.
//!
//! [`Method::Auto`] computes the Gram eigenvalues, estimates the error bound above from them
//! (the smallest and largest eigenvalue), and keeps them only when the bound is within the
//! accuracy contract, falling back to the SVD otherwise. The contract: every singular value
//! within 1e-12·s_1 of LAPACK's for `f64` input and within 1e-6·s_1 for `f32` input.
//!
//! All arithmetic is done in `f64`, whatever the input type: each matrix is copied (with its
//! strides, any layout) into an `f64` column-major workspace, which also checks that its
//! entries are finite. `f32` results are rounded from `f64` results. This is how the `f32`
//! contract is met: faer's own `f32` SVD is only accurate to ~1e-5·s_1.
//!
//! Per-matrix quantities from a spectrum (SPEC §2), with Â = √k·A/‖A‖_F:
//!
//! * normalised Cartan coordinate â_i = log s_i(Â) = log s_i − log s_1 − ½ log(Σ_j (s_j/s_1)²/k);
//! * energy distribution p_i = s_i²/Σ_j s_j²;
//! * top-radial coordinate r = â_1 = ½ log(k·p_1) ∈ [0, ½ log k];
//! * numerical rank k′ = #{s_i > max(m, n)·ε·s_1}.

use crate::error::{Error, Result};
use crate::parallel::{try_map, Cancel};
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::matmul::triangular::BlockStructure;
use faer::linalg::{evd, svd};
use faer::{Accum, Conj, Mat, MatRef, Par};

/// The floating-point element types the core accepts as input (`f32`, `f64`).
pub trait Element: Copy + Send + Sync + 'static {
    /// Widens to `f64` (exact).
    fn to_f64(self) -> f64;
    /// Rounds an `f64` result to this type.
    fn from_f64(x: f64) -> Self;
    /// Tolerance of the accuracy contract, relative to s_1: 1e-12 for `f64`, 1e-6 for `f32`.
    const CONTRACT: f64;
}

impl Element for f64 {
    fn to_f64(self) -> f64 {
        self
    }
    fn from_f64(x: f64) -> Self {
        x
    }
    const CONTRACT: f64 = 1e-12;
}

impl Element for f32 {
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    const CONTRACT: f64 = 1e-6;
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

/// Constant c in the Gram error model |δs_i| ≤ c·ε·s_1²/(2·s_i) for a k × k Gram matrix.
///
/// The Gram product perturbs AᵀA by about √k·ε·s_1² in norm (rounding errors of random sign)
/// and the symmetric eigensolver adds a few ε·s_1². c = 4√k + 16 covers both with a margin
/// measured on near-identity, power-law and Gaussian matrices (see the tests).
fn gram_error_constant(k: usize) -> f64 {
    4.0 * (k as f64).sqrt() + 16.0
}

/// Whether Gram eigenvalues `lambda` (ascending) of a k × k Gram matrix meet the accuracy
/// contract `tol` (relative to s_1), with a factor-of-two safety margin.
fn gram_is_accurate(lambda: &[f64], tol: f64) -> bool {
    let (Some(&lo), Some(&hi)) = (lambda.first(), lambda.last()) else {
        return false;
    };
    if !(lo > 0.0 && hi > 0.0) {
        return false;
    }
    let bound = gram_error_constant(lambda.len()) * f64::EPSILON * hi.sqrt() / (2.0 * lo.sqrt());
    bound <= 0.5 * tol
}

/// Copies `a` into an `f64` column-major workspace of shape (max(m,n), min(m,n)), transposing
/// wide matrices, and checks every entry is finite.
fn workspace<T: Element>(a: MatRef<'_, T>, arg: &str, index: usize) -> Result<Mat<f64>> {
    let (m, n) = a.shape();
    if m == 0 || n == 0 {
        return Err(Error::Empty {
            arg: arg.into(),
            index,
            rows: m,
            cols: n,
        });
    }
    let a = if m < n { a.transpose() } else { a };
    let (rows, cols) = a.shape();
    let mut w = Mat::<f64>::zeros(rows, cols);
    for j in 0..cols {
        for i in 0..rows {
            let x = a[(i, j)].to_f64();
            if !x.is_finite() {
                let (row, col) = if m < n { (j, i) } else { (i, j) };
                return Err(Error::NonFinite {
                    arg: arg.into(),
                    index,
                    row,
                    col,
                });
            }
            w[(i, j)] = x;
        }
    }
    Ok(w)
}

/// Ascending eigenvalues of WᵀW (k × k, k = ncols of `w`).
fn gram_eigenvalues(w: MatRef<'_, f64>, arg: &str, index: usize) -> Result<Vec<f64>> {
    let k = w.ncols();
    let mut g = Mat::<f64>::zeros(k, k);
    faer::linalg::matmul::triangular::matmul_with_conj(
        g.as_mut(),
        BlockStructure::TriangularLower,
        Accum::Replace,
        w.transpose(),
        BlockStructure::Rectangular,
        Conj::No,
        w,
        BlockStructure::Rectangular,
        Conj::No,
        1.0,
        Par::Seq,
    );
    let mut lambda = faer::diag::Diag::<f64>::zeros(k);
    let mut mem = MemBuffer::new(evd::self_adjoint_evd_scratch::<f64>(
        k,
        evd::ComputeEigenvectors::No,
        Par::Seq,
        Default::default(),
    ));
    evd::self_adjoint_evd(
        g.as_ref(),
        lambda.as_mut(),
        None,
        Par::Seq,
        MemStack::new(&mut mem),
        Default::default(),
    )
    .map_err(|_| Error::NoConvergence {
        arg: arg.into(),
        index,
    })?;
    let mut out: Vec<f64> = lambda.column_vector().iter().copied().collect();
    out.sort_by(f64::total_cmp);
    Ok(out)
}

/// Descending singular values of `w` by faer's SVD.
fn svd_values(w: MatRef<'_, f64>, arg: &str, index: usize) -> Result<Vec<f64>> {
    let (m, n) = w.shape();
    let k = m.min(n);
    let mut s = faer::diag::Diag::<f64>::zeros(k);
    let mut mem = MemBuffer::new(svd::svd_scratch::<f64>(
        m,
        n,
        svd::ComputeSvdVectors::No,
        svd::ComputeSvdVectors::No,
        Par::Seq,
        Default::default(),
    ));
    svd::svd(
        w,
        s.as_mut(),
        None,
        None,
        Par::Seq,
        MemStack::new(&mut mem),
        Default::default(),
    )
    .map_err(|_| Error::NoConvergence {
        arg: arg.into(),
        index,
    })?;
    let mut out: Vec<f64> = s.column_vector().iter().map(|&x| x.max(0.0)).collect();
    out.sort_by(|a, b| b.total_cmp(a));
    Ok(out)
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
    let w = workspace(a, arg, index)?;
    match method {
        Method::Svd => svd_values(w.as_ref(), arg, index),
        Method::Gram | Method::Auto => {
            let lambda = gram_eigenvalues(w.as_ref(), arg, index)?;
            if method == Method::Gram || gram_is_accurate(&lambda, T::CONTRACT) {
                Ok(lambda.iter().rev().map(|&l| l.max(0.0).sqrt()).collect())
            } else {
                svd_values(w.as_ref(), arg, index)
            }
        }
    }
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
/// Memory: the inputs, the outputs and one `f64` workspace per running thread. Errors name the
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

/// Neumaier-compensated sum.
pub(crate) fn neumaier_sum(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut sum = 0.0f64;
    let mut comp = 0.0f64;
    for x in values {
        let t = sum + x;
        if sum.abs() >= x.abs() {
            comp += (sum - t) + x;
        } else {
            comp += (x - t) + sum;
        }
        sum = t;
    }
    sum + comp
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
