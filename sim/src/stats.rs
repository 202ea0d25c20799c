//! Statistics primitives: latency histograms (HdrHistogram, 2 significant
//! digits: below 1% relative error at any magnitude from 1 ns to days),
//! time-weighted means for queue lengths and occupancy, plain tallies, and
//! batch-means confidence intervals (Law & Kelton, *Simulation Modeling and
//! Analysis*, §9.5.3) with Student-t quantiles from statrs.

use crate::time::{to_secs, Time};
use hdrhistogram::Histogram;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Latency distribution in nanoseconds, with exact count, mean and max and
/// quantiles within 1% relative error.
#[derive(Clone)]
pub struct LatencyHist {
    h: Histogram<u64>,
    sum_ns: f64,
    max_ns: u64,
}

impl std::fmt::Debug for LatencyHist {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatencyHist")
            .field("count", &self.count())
            .field("mean_s", &self.mean_s())
            .field("max_s", &self.max_s())
            .finish()
    }
}

impl Default for LatencyHist {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHist {
    /// An empty histogram (auto-resizing, so any latency fits).
    pub fn new() -> Self {
        let mut h = Histogram::new(2).expect("2 significant digits is valid");
        h.auto(true);
        LatencyHist {
            h,
            sum_ns: 0.0,
            max_ns: 0,
        }
    }

    /// Records one latency.
    #[inline]
    pub fn record(&mut self, ns: Time) {
        // With auto-resize on, recording cannot fail.
        let _ = self.h.record(ns);
        self.sum_ns += ns as f64;
        if ns > self.max_ns {
            self.max_ns = ns;
        }
    }

    /// Records `n` values of one latency.
    #[inline]
    pub fn record_n(&mut self, ns: Time, n: u64) {
        if n == 0 {
            return;
        }
        let _ = self.h.record_n(ns, n);
        self.sum_ns += ns as f64 * n as f64;
        if ns > self.max_ns {
            self.max_ns = ns;
        }
    }

    /// Number of recorded values.
    pub fn count(&self) -> u64 {
        self.h.len()
    }

    /// Exact mean in seconds (0 when empty).
    pub fn mean_s(&self) -> f64 {
        if self.count() == 0 {
            0.0
        } else {
            self.sum_ns / self.count() as f64 / 1e9
        }
    }

    /// The `q` quantile (0..=1) in seconds (0 when empty).
    pub fn quantile_s(&self, q: f64) -> f64 {
        if self.count() == 0 {
            0.0
        } else if q >= 1.0 {
            self.max_s()
        } else {
            // Report the midpoint of the bucket holding the quantile, capped
            // by the exact maximum: this halves the bucket-width error.
            let v = self.h.value_at_quantile(q);
            let mid = self.h.median_equivalent(v).min(self.max_ns);
            mid as f64 / 1e9
        }
    }

    /// Exact maximum in seconds.
    pub fn max_s(&self) -> f64 {
        to_secs(self.max_ns)
    }

    /// Forgets every value, keeping the allocation.
    pub fn clear(&mut self) {
        self.h.reset();
        self.sum_ns = 0.0;
        self.max_ns = 0;
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &LatencyHist) {
        let _ = self.h.add(&other.h);
        self.sum_ns += other.sum_ns;
        self.max_ns = self.max_ns.max(other.max_ns);
    }
}

/// The time-weighted mean of a piecewise-constant quantity (queue length,
/// busy slots, requests in system) since the last reset.
#[derive(Clone, Copy, Debug, Default)]
pub struct TimeAvg {
    value: f64,
    last: Time,
    since: Time,
    area: f64,
}

impl TimeAvg {
    /// Starts at value 0 at time 0.
    pub fn new() -> Self {
        Self::default()
    }

    #[inline]
    fn advance(&mut self, now: Time) {
        if now > self.last {
            self.area += self.value * (now - self.last) as f64;
            self.last = now;
        }
    }

    /// The quantity changes to `v` at `now`.
    #[inline]
    pub fn set(&mut self, now: Time, v: f64) {
        self.advance(now);
        self.value = v;
    }

    /// The quantity changes by `dv` at `now`.
    #[inline]
    pub fn add(&mut self, now: Time, dv: f64) {
        self.advance(now);
        self.value += dv;
    }

    /// Current value.
    #[inline]
    pub fn value(&self) -> f64 {
        self.value
    }

    /// Time-weighted mean from the last reset to `now` (the current value
    /// if no time has passed).
    pub fn mean(&self, now: Time) -> f64 {
        let mut s = *self;
        s.advance(now);
        if now > s.since {
            s.area / (now - s.since) as f64
        } else {
            s.value
        }
    }

    /// The integral of the quantity (value x nanoseconds) from the last
    /// reset to `now`. Differences of integrals give window averages.
    pub fn integral(&self, now: Time) -> f64 {
        let mut s = *self;
        s.advance(now);
        s.area
    }

    /// Starts a new averaging window at `now`, keeping the current value.
    pub fn reset(&mut self, now: Time) {
        self.advance(now);
        self.area = 0.0;
        self.since = now;
    }
}

/// Count and sum of observations.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    /// Number of observations.
    pub count: u64,
    /// Their sum.
    pub sum: f64,
}

impl Tally {
    /// Adds one observation.
    #[inline]
    pub fn add(&mut self, x: f64) {
        self.count += 1;
        self.sum += x;
    }

    /// Mean, or 0 when empty.
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum / self.count as f64
        }
    }
}

/// A mean with the half-width of its confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanCi {
    /// Point estimate.
    pub mean: f64,
    /// Half-width of the two-sided interval.
    pub half_width: f64,
    /// Number of independent (or batch) means it was computed from.
    pub n: usize,
}

impl MeanCi {
    /// True when `x` lies within the interval.
    pub fn contains(&self, x: f64) -> bool {
        (x - self.mean).abs() <= self.half_width
    }
}

/// Two-sided Student-t confidence interval for the mean of independent
/// observations `xs` at `level` (e.g. 0.95). Needs at least 2 values.
pub fn student_t_ci(xs: &[f64], level: f64) -> Option<MeanCi> {
    let n = xs.len();
    if n < 2 || !(0.0..1.0).contains(&level) {
        return None;
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
        .ok()?
        .inverse_cdf(0.5 + level / 2.0);
    Some(MeanCi {
        mean,
        half_width: t * (var / n as f64).sqrt(),
        n,
    })
}

/// Batch means: splits the autocorrelated series `xs` (e.g. successive
/// waiting times) into `batches` contiguous batches and returns the
/// Student-t interval of the batch means. With batches much longer than the
/// correlation time the batch means are nearly independent.
pub fn batch_means_ci(xs: &[f64], batches: usize, level: f64) -> Option<MeanCi> {
    if batches < 2 || xs.len() < batches {
        return None;
    }
    let size = xs.len() / batches;
    let means: Vec<f64> = (0..batches)
        .map(|b| xs[b * size..(b + 1) * size].iter().sum::<f64>() / size as f64)
        .collect();
    student_t_ci(&means, level)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_relative_error_below_one_percent() {
        for &v in &[
            1_000u64,
            37_123,
            1_000_000,
            123_456_789,
            3_600_000_000_000,
            7_200_000_000_123,
        ] {
            let mut h = LatencyHist::new();
            h.record(v);
            h.record(v / 2);
            let got = h.quantile_s(0.99) * 1e9;
            let rel = (got - v as f64).abs() / v as f64;
            assert!(rel < 0.01, "value {v}: got {got}, rel err {rel}");
            assert_eq!(h.max_s(), v as f64 / 1e9);
        }
    }

    #[test]
    fn histogram_mean_is_exact() {
        let mut h = LatencyHist::new();
        for v in [1u64, 2, 3, 1_000_000_007] {
            h.record(v);
        }
        assert_eq!(h.count(), 4);
        assert!((h.mean_s() - 1_000_000_013.0 / 4.0 / 1e9).abs() < 1e-15);
    }

    #[test]
    fn time_average_weights_by_duration() {
        let mut a = TimeAvg::new();
        a.set(0, 2.0); // 2 for 10 ns
        a.set(10, 4.0); // 4 for 30 ns
        assert!((a.mean(40) - (20.0 + 120.0) / 40.0).abs() < 1e-12);
        a.reset(40);
        a.add(50, -1.0); // 4 for 10 ns, 3 for 10 ns
        assert!((a.mean(60) - 3.5).abs() < 1e-12);
    }

    #[test]
    fn student_t_interval_matches_table() {
        // n = 5, t_{0.975,4} = 2.776
        let ci = student_t_ci(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.95).unwrap();
        assert_eq!(ci.mean, 3.0);
        let expect = 2.776_445 * (2.5f64 / 5.0).sqrt();
        assert!((ci.half_width - expect).abs() < 1e-5, "{}", ci.half_width);
        assert!(student_t_ci(&[1.0], 0.95).is_none());
    }

    #[test]
    fn batch_means_uses_contiguous_batches() {
        let xs: Vec<f64> = (0..100).map(|i| if i < 50 { 0.0 } else { 2.0 }).collect();
        let ci = batch_means_ci(&xs, 2, 0.95).unwrap();
        assert_eq!(ci.mean, 1.0);
        assert_eq!(ci.n, 2);
    }
}
