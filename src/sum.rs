//! Compensated summation (Neumaier's variant of Kahan's algorithm), and the plain dot product.
//!
//! Sums of many probabilities or logarithms (energy fractions, harmonic numbers, log scales of
//! long chains) lose digits in naive floating-point addition; the Neumaier sum keeps a running
//! correction so that the error is O(ε) independent of the number of terms (for sums without
//! catastrophic cancellation). SPEC §8 pins it for effective ranks: with a naive cumulative sum,
//! β = 0, d = 20000, τ = ½ gives 10001 instead of 10000.

/// Σ a_i b_i over min(len a, len b) terms, plainly summed (no compensation) in eight interleaved
/// partial sums (so that it vectorises): for the single-scale vectors of iterative kernels
/// (Jacobi rotations, power and inverse iteration), where the iteration absorbs the rounding.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut lanes = [0.0f64; 8];
    let (mut ca, mut cb) = (a.chunks_exact(8), b.chunks_exact(8));
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..8 {
            lanes[l] += x[l] * y[l];
        }
    }
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    lanes.iter().sum::<f64>() + tail
}

/// A running Neumaier-compensated sum: `add` terms, read `value`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NeumaierSum {
    sum: f64,
    comp: f64,
}

impl NeumaierSum {
    /// The empty sum.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one term.
    pub fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.comp += (self.sum - t) + x;
        } else {
            self.comp += (x - t) + self.sum;
        }
        self.sum = t;
    }

    /// The compensated value of the sum so far.
    pub fn value(&self) -> f64 {
        self.sum + self.comp
    }
}

/// Neumaier-compensated sum of `values`.
pub fn neumaier_sum(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut s = NeumaierSum::new();
    values.into_iter().for_each(|x| s.add(x));
    s.value()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_what_naive_summation_loses() {
        let terms = [1.0, 1e100, 1.0, -1e100];
        assert_eq!(terms.iter().sum::<f64>(), 0.0);
        assert_eq!(neumaier_sum(terms), 2.0);
    }

    #[test]
    fn flat_prefix_sums_hit_one_half_exactly() {
        let d = 20000;
        let mut s = NeumaierSum::new();
        let first = (1..=d)
            .find(|_| {
                s.add(1.0 / d as f64);
                s.value() >= 0.5
            })
            .unwrap();
        assert_eq!(first, 10000);
    }
}
