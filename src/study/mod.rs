//! Results of many runs — sweep points and capacity curves — shared by
//! `sweep`, `merge`, `compare`, `capacity` and their charts.
//!
//! Replications of one configuration are independent (each has its own
//! derived random streams), so their means get Student-t confidence
//! intervals (Law, *Simulation Modeling and Analysis*, 5th ed., §9.4.1).
//! Every aggregate here is accumulated in run order, so the same runs give
//! bit-identical figures however they were scheduled.

pub mod capacity;
pub mod compare;
pub mod merge;
pub mod metrics;
pub mod objective;
pub mod sweep;

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Confidence level of every interval scalesim reports.
pub const LEVEL: f64 = 0.95;

/// A value of a varied parameter: its text as written in the scenario
/// (TOML), and its number when it is one (used to place it on an axis).
#[derive(Clone, Debug, PartialEq)]
pub struct ParamValue {
    /// TOML text, e.g. `8`, `0.5`, `"lru"`, `"5m"`.
    pub text: String,
    /// The number, for numbers and durations ("5m" = 300).
    pub number: Option<f64>,
}

/// Running mean and variance of one metric over replications (Welford's
/// algorithm, exact order-dependent arithmetic: callers add in run order).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Acc {
    n: u64,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
}

impl Acc {
    /// Adds one replication's value.
    pub fn add(&mut self, x: f64) {
        if self.n == 0 {
            self.min = x;
            self.max = x;
        } else {
            self.min = self.min.min(x);
            self.max = self.max.max(x);
        }
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    /// The mean, its interval, and the range of what was added.
    pub fn stat(&self) -> MetricStat {
        let sd = if self.n > 1 {
            (self.m2 / (self.n - 1) as f64).max(0.0).sqrt()
        } else {
            f64::NAN
        };
        MetricStat {
            n: self.n,
            mean: if self.n == 0 { f64::NAN } else { self.mean },
            sd,
            ci95: half_width(sd, self.n),
            min: if self.n == 0 { f64::NAN } else { self.min },
            max: if self.n == 0 { f64::NAN } else { self.max },
        }
    }
}

/// A metric over the replications of one configuration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MetricStat {
    /// Replications.
    pub n: u64,
    /// Mean over replications.
    pub mean: f64,
    /// Sample standard deviation (NaN below 2 replications).
    pub sd: f64,
    /// Half-width of the 95% Student-t interval of the mean (NaN below 2
    /// replications; 0 when every replication agrees).
    pub ci95: f64,
    /// Smallest replication value.
    pub min: f64,
    /// Largest replication value.
    pub max: f64,
}

impl MetricStat {
    /// Lower end of the interval.
    pub fn lo(&self) -> f64 {
        self.mean - self.ci95.max(0.0)
    }
    /// Upper end of the interval.
    pub fn hi(&self) -> f64 {
        self.mean + self.ci95.max(0.0)
    }
}

/// Student-t quantile t_{n-1, 1-(1-LEVEL)/2}.
pub fn t_quantile(n: u64) -> f64 {
    if n < 2 {
        return f64::NAN;
    }
    StudentsT::new(0.0, 1.0, (n - 1) as f64)
        .map(|t| t.inverse_cdf(0.5 + LEVEL / 2.0))
        .unwrap_or(f64::NAN)
}

/// Half-width of the 95% interval of a mean of `n` values with sample
/// standard deviation `sd`.
pub fn half_width(sd: f64, n: u64) -> f64 {
    if n < 2 {
        f64::NAN
    } else {
        t_quantile(n) * sd / (n as f64).sqrt()
    }
}

/// Why a study (sweep, merge, comparison, capacity search) stopped.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// Bad input or an unwritable output: exit code 2.
    #[error("{0}")]
    Usage(String),
    /// A bug: exit code 3.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Failure {
    /// The process exit code (CONTRACT.md §1).
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Internal(_) => 3,
        }
    }
}

/// One grid point of a sweep, aggregated over its replications (a row of
/// `points.csv`).
#[derive(Clone, Debug, PartialEq)]
pub struct PointResult {
    /// Position in the sweep's point order (0-based).
    pub index: usize,
    /// Value of each varied parameter, aligned with [`SweepResults::params`].
    pub params: Vec<ParamValue>,
    /// Statistics of each metric, aligned with [`SweepResults::metrics`].
    pub stats: Vec<MetricStat>,
}

/// A whole sweep's aggregates.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepResults {
    /// Scenario name.
    pub scenario: String,
    /// Dotted paths of the varied parameters, in grid order.
    pub params: Vec<String>,
    /// Parameters per dimension ([`sweep::Plan::dims`]): a zip group's
    /// parameters vary together.
    pub dims: Vec<usize>,
    /// The objectives of the scenario's `[slo]` table.
    pub slo: Vec<objective::Objective>,
    /// Metric names (dotted summary paths, e.g. `latency_s.p99`).
    pub metrics: Vec<String>,
    /// Replications per point.
    pub replications: u32,
    /// Every point, in order.
    pub points: Vec<PointResult>,
}

impl SweepResults {
    /// Index of a metric by name.
    pub fn metric(&self, name: &str) -> Option<usize> {
        self.metrics.iter().position(|m| m == name)
    }

    /// The parameters that vary together with parameter `p` (its zip
    /// group, `p` included; `p` alone for a grid entry).
    pub fn together(&self, p: usize) -> std::ops::Range<usize> {
        let mut start = 0;
        for &n in &self.dims {
            if p < start + n {
                return start..start + n;
            }
            start += n;
        }
        p..p + 1
    }

    /// True when the points are a grid (cartesian product) of exactly two
    /// parameters, each its own dimension: what a heatmap shows.
    pub fn is_grid2(&self) -> bool {
        self.params.len() == 2 && self.together(0) == (0..1) && self.together(1) == (1..2)
    }
}

/// One probe of a capacity search: the varied value and how the
/// objectives came out over its replications.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    /// Value of the varied parameter.
    pub x: f64,
    /// Each objective's metric, aligned with [`CapacityResult::objectives`].
    pub values: Vec<MetricStat>,
    /// Mean cost per month (`cost_usd.projected_month`).
    pub cost_per_month: MetricStat,
    /// True when every objective's mean meets its bound.
    pub passed: bool,
}

/// The capacity found for one value of the `--per` parameter (or the only
/// one without `--per`).
#[derive(Clone, Debug, PartialEq)]
pub struct CapacityRow {
    /// Value of the `--per` parameter (None without `--per`).
    pub per: Option<ParamValue>,
    /// Largest value of the varied parameter that meets every objective
    /// (where the mean curve of the binding objective crosses its bound).
    /// NaN when even the smallest probe fails.
    pub capacity: f64,
    /// Lower end of its uncertainty: where the upper 95% bound crosses.
    pub low: f64,
    /// Upper end: where the lower 95% bound crosses.
    pub high: f64,
    /// The objective that binds at capacity (e.g. `p99<500ms`).
    pub binding: String,
    /// Mean cost per month at the largest passing probe.
    pub cost_per_month: f64,
    /// Every probe, sorted by `x`.
    pub probes: Vec<Probe>,
    /// Set when the search stopped without a bracket (e.g. the upper
    /// search limit still met the objectives).
    pub note: Option<String>,
}

/// A capacity search, possibly repeated for each `--per` value.
#[derive(Clone, Debug, PartialEq)]
pub struct CapacityResult {
    /// Scenario name.
    pub scenario: String,
    /// Dotted path of the varied parameter (e.g. `traffic.web.rate`).
    pub vary: String,
    /// Dotted path of the `--per` parameter, if any.
    pub per: Option<String>,
    /// The objectives, as text (`p99<500ms`, `error_rate<0.001`).
    pub objectives: Vec<String>,
    /// Replications per probe.
    pub replications: u32,
    /// One row per `--per` value (one row without `--per`).
    pub rows: Vec<CapacityRow>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welford_matches_two_pass_and_t_table() {
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0];
        let mut a = Acc::default();
        for x in xs {
            a.add(x);
        }
        let s = a.stat();
        assert_eq!(s.n, 5);
        assert_eq!(s.mean, 3.0);
        assert!((s.sd - 2.5f64.sqrt()).abs() < 1e-12);
        // t_{0.975,4} = 2.776445
        assert!((s.ci95 - 2.776_445 * (2.5f64 / 5.0).sqrt()).abs() < 1e-5);
        assert_eq!((s.min, s.max), (1.0, 5.0));
        let one = {
            let mut a = Acc::default();
            a.add(7.0);
            a.stat()
        };
        assert!(one.ci95.is_nan() && one.mean == 7.0);
    }
}
