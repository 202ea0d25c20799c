//! The Kubernetes VerticalPodAutoscaler, for CPU requests
//! (kubernetes/autoscaler, `vertical-pod-autoscaler/pkg`; defaults of
//! release 1.7):
//!
//! - **Recommender** (`recommender/logic`): every minute, each pod's CPU
//!   usage in cores goes into a histogram whose samples weigh more the
//!   newer they are (half-life 24 h, `--cpu-histogram-decay-half-life`;
//!   buckets 5% wider each, from 0.01 core). Target = the 90th percentile,
//!   lower bound the 50th, upper bound the 95th (`--target-cpu-percentile`
//!   and the bound flags), each x 1.15 (`--recommendation-margin-fraction`)
//!   and at least 25 millicores. Young histories widen the bounds: with
//!   confidence c = min(days of history, samples / 1440), the upper bound
//!   is x (1 + 1/c), the lower x (1 + 0.001/c)^-2.
//! - **Updater** (`updater/`): every minute (`--updater-interval`), and
//!   only with at least 2 live pods (`--min-replicas`), it evicts the pods
//!   whose request is outside [lower, upper], or inside it but 12 h old and
//!   10% off the target (`--pod-update-threshold`), as many at once as
//!   leave more than (replicas - floor(replicas x 0.5)) running
//!   (`--eviction-tolerance`); scale-ups first, then the largest change.
//!   The ReplicaSet replaces each evicted pod at once, and the admission
//!   controller gives the replacement the target.
//! - `update_mode`: `"recreate"` (the default since 1.6, as `"auto"`),
//!   `"initial"` (new pods only, no evictions), `"off"` (recommend only).
//!
//! Here a pod's CPU request is its cores (an async pool's `concurrency`),
//! in whole cores: the target is rounded up, within `min_cores` ..
//! `max_cores` (`minAllowed` / `maxAllowed`). An instance is billed for
//! its share: price x its cores / the configured `concurrency`.

use crate::policy::{issue, metric, Controller, Decision, Observation, Resize};
use crate::units::Duration;
use serde::Deserialize;

/// `[autoscaler.<pool>]` with `policy = "vpa"`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VpaConfig {
    /// Always "vpa".
    #[serde(default)]
    pub policy: Option<String>,
    /// `"recreate"` (default; `"auto"` is the same), `"initial"` or `"off"`.
    #[serde(default)]
    pub update_mode: UpdateMode,
    /// `minAllowed` CPU, whole cores (default 1).
    #[serde(default = "crate::policy::one")]
    pub min_cores: u32,
    /// `maxAllowed` CPU, whole cores.
    pub max_cores: u32,
    /// Recommender and updater interval (default 1 min).
    #[serde(default = "crate::policy::minute")]
    pub period: Duration,
    /// The updater's `--min-replicas` (default 2).
    #[serde(default = "two")]
    pub min_replicas: u32,
    /// The updater's `--eviction-tolerance` (default 0.5).
    #[serde(default = "half")]
    pub eviction_tolerance: f64,
    /// `--cpu-histogram-decay-half-life` (default 24 h).
    #[serde(default = "day")]
    pub half_life: Duration,
}

fn two() -> u32 {
    2
}
fn half() -> f64 {
    0.5
}
fn day() -> Duration {
    Duration(86400.0)
}

/// `updatePolicy.updateMode`.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum UpdateMode {
    /// Recommendations only.
    Off,
    /// Requests set when a pod is created; no evictions.
    Initial,
    /// Set at creation, and pods evicted to apply them.
    #[default]
    #[serde(alias = "auto")]
    Recreate,
}

/// Histogram buckets: the first ends at 0.01 core, each 5% wider.
const FIRST: f64 = 0.01;
const RATIO: f64 = 1.05;
const BUCKETS: usize = 240; // up to ~1,000 cores
const MARGIN: f64 = 0.15;
const MIN_CORES: f64 = 0.025;
/// The most cores a pod may ask for (EC2's largest instances, u7i and
/// x8g families, have 448 vCPUs).
const MAX_CORES: u32 = 448;
/// `--in-recommendation-bounds-eviction-lifetime-threshold`, s.
const LIFETIME_S: f64 = 12.0 * 3600.0;

/// The running VPA: the decaying histogram of CPU usage.
pub struct Vpa {
    cfg: VpaConfig,
    /// Weight per bucket, relative to `reference` (decay applied as
    /// weights growing 2^(age / half-life) for newer samples).
    weights: Vec<f64>,
    total: f64,
    reference: f64,
    samples: u64,
    first: Option<f64>,
    last: f64,
}

/// The upper edge of bucket `b`, cores.
fn edge(b: usize) -> f64 {
    FIRST * (RATIO.powi(b as i32 + 1) - 1.0) / (RATIO - 1.0)
}

/// The bucket of `cores`.
fn bucket(cores: f64) -> usize {
    if cores <= 0.0 {
        return 0;
    }
    let b = ((cores * (RATIO - 1.0) / FIRST + 1.0).ln() / RATIO.ln()).floor() as usize;
    b.min(BUCKETS - 1)
}

impl Vpa {
    /// Checks the configuration; `Err((field, message))`.
    pub fn new(cfg: &VpaConfig) -> Result<Vpa, (String, String)> {
        if cfg.min_cores == 0 {
            return issue("min_cores", "expected at least 1 core");
        }
        if cfg.max_cores < cfg.min_cores {
            return issue(
                "max_cores",
                format!("expected max_cores >= min_cores ({})", cfg.min_cores),
            );
        }
        if cfg.max_cores > MAX_CORES {
            return issue(
                "max_cores",
                format!(
                    "{} cores: the largest instances sold have {MAX_CORES} vCPUs",
                    cfg.max_cores
                ),
            );
        }
        if !(cfg.period.secs().is_finite() && cfg.period.secs() > 0.0) {
            return issue("period", "expected a period > 0");
        }
        if !(0.0..=1.0).contains(&cfg.eviction_tolerance) {
            return issue(
                "eviction_tolerance",
                "expected a fraction of the replicas, 0 to 1",
            );
        }
        if !(cfg.half_life.secs().is_finite() && cfg.half_life.secs() > 0.0) {
            return issue("half_life", "expected a half-life > 0");
        }
        Ok(Vpa {
            cfg: cfg.clone(),
            weights: vec![0.0; BUCKETS],
            total: 0.0,
            reference: 0.0,
            samples: 0,
            first: None,
            last: 0.0,
        })
    }

    fn add(&mut self, cores: f64, t: f64) {
        let mut w = ((t - self.reference) / self.cfg.half_life.secs()).exp2();
        if w > 1e100 {
            // Move the reference forward (VPA's histograms do the same).
            for x in &mut self.weights {
                *x /= w;
            }
            self.total /= w;
            self.reference = t;
            w = 1.0;
        }
        self.weights[bucket(cores)] += w;
        self.total += w;
        self.samples += 1;
        self.first.get_or_insert(t);
        self.last = t;
    }

    fn percentile(&self, p: f64) -> f64 {
        let mut acc = 0.0;
        for (b, w) in self.weights.iter().enumerate() {
            acc += w;
            if acc >= p * self.total {
                return edge(b);
            }
        }
        edge(BUCKETS - 1)
    }

    /// (lower bound, target, upper bound), cores; None without samples.
    pub fn recommendation(&self) -> Option<(f64, f64, f64)> {
        let first = self.first?;
        let est = |p: f64| (self.percentile(p) * (1.0 + MARGIN)).max(MIN_CORES);
        let days = ((self.last - first) / 86400.0).min(self.samples as f64 / 1440.0);
        let lower = if days > 0.0 {
            est(0.5) * (1.0 + 0.001 / days).powi(-2)
        } else {
            0.0
        };
        let upper = if days > 0.0 {
            est(0.95) * (1.0 + 1.0 / days)
        } else {
            f64::INFINITY
        };
        Some((lower, est(0.9), upper))
    }

    /// The whole-core request the target asks for.
    fn request(&self, target: f64) -> u32 {
        (target - 1e-9)
            .ceil()
            .clamp(self.cfg.min_cores as f64, self.cfg.max_cores as f64) as u32
    }
}

impl Controller for Vpa {
    fn period_s(&self) -> f64 {
        self.cfg.period.secs()
    }

    fn metrics(&self) -> Vec<String> {
        vec![metric::CPU.to_string()]
    }

    /// The replica count is the workload's own: never changed.
    fn evaluate(&mut self, obs: &Observation) -> Decision {
        let cpu = obs.metrics.iter().position(|m| m.name == metric::CPU);
        for pod in obs.pods.iter().filter(|p| p.ready) {
            if let Some(share) = cpu.and_then(|k| pod.values.get(k).copied().flatten()) {
                self.add(share * pod.cores as f64, obs.now_s);
            }
        }
        Decision {
            desired: obs.current,
            reason: String::new(),
        }
    }

    fn resize(&mut self, obs: &Observation) -> Option<Resize> {
        let (lower, target, upper) = self.recommendation()?;
        let cores = self.request(target);
        let why = format!(
            "vpa: cpu target {target:.3} cores (bounds {lower:.3} .. {upper:.3}) -> {cores} cores"
        );
        if self.cfg.update_mode == UpdateMode::Off {
            return None;
        }
        let mut evict = Vec::new();
        let ready = obs.pods.iter().filter(|p| p.ready).count() as u32;
        if self.cfg.update_mode == UpdateMode::Recreate && ready >= self.cfg.min_replicas {
            let mut due: Vec<(bool, u32, usize)> = obs
                .pods
                .iter()
                .enumerate()
                .filter(|(_, p)| p.ready && p.cores != cores)
                .filter(|(_, p)| {
                    let c = p.cores as f64;
                    c < lower || c > upper || p.age_s >= LIFETIME_S
                })
                .map(|(i, p)| (p.cores > cores, p.cores.abs_diff(cores), i))
                .collect();
            // Scale-ups first, then the largest change.
            due.sort_by_key(|&(down, diff, i)| (down, std::cmp::Reverse(diff), i));
            let tolerance = (obs.current as f64 * self.cfg.eviction_tolerance).floor() as u32;
            let mut room = ready.saturating_sub(obs.current.saturating_sub(tolerance));
            if tolerance == 0 && ready >= obs.current {
                room = 1;
            }
            evict = due.iter().take(room as usize).map(|x| x.2).collect();
        }
        Some(Resize {
            cores,
            reason: if evict.is_empty() {
                why
            } else {
                format!("{why}; evicting {} pod(s)", evict.len())
            },
            evict,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Metric, Pod};

    fn cfg() -> VpaConfig {
        VpaConfig {
            policy: None,
            update_mode: UpdateMode::Recreate,
            min_cores: 1,
            max_cores: 8,
            period: Duration(60.0),
            min_replicas: 2,
            eviction_tolerance: 0.5,
            half_life: Duration(86400.0),
        }
    }

    fn obs_at<'a>(t: f64, metrics: &'a [Metric], pods: &'a [Pod]) -> Observation<'a> {
        Observation {
            now_s: t,
            current: pods.len() as u32,
            ready: pods.len() as u32,
            metrics,
            pods,
        }
    }

    #[test]
    fn buckets_and_percentiles() {
        assert!((edge(0) - 0.01).abs() < 1e-12);
        for x in [0.003, 0.05, 1.0, 3.7, 500.0] {
            let b = bucket(x);
            assert!(
                edge(b) >= x - 1e-12 && (b == 0 || edge(b - 1) < x + 1e-12),
                "{x}"
            );
        }
    }

    #[test]
    fn recommends_the_90th_percentile_plus_margin_and_evicts_within_tolerance() {
        let mut v = Vpa::new(&cfg()).unwrap();
        let metrics = [Metric {
            name: "cpu".into(),
            value: None,
        }];
        // Four 1-core pods busy at 90% for two days: usage 0.9 core each.
        let pod = |cores| Pod {
            ready: true,
            age_s: 3600.0,
            values: vec![Some(0.9)],
            cores,
        };
        let pods = vec![pod(1); 4];
        for k in 0..2880 {
            v.evaluate(&obs_at(k as f64 * 60.0, &metrics, &pods));
        }
        let (lower, target, upper) = v.recommendation().unwrap();
        // 0.9 falls in a bucket whose upper edge is within 5% above it.
        assert!(
            (0.9 * 1.15..=0.9 * 1.05 * 1.15 + 1e-9).contains(&target),
            "{target}"
        );
        assert!(lower < target && upper > target);
        let r = v.resize(&obs_at(2880.0 * 60.0, &metrics, &pods)).unwrap();
        assert_eq!(r.cores, 2);
        // 1 core < the lower bound: due; at most floor(4 x 0.5) = 2 at once.
        assert_eq!(r.evict, vec![0, 1]);
        // Fewer than min_replicas: nothing evicted.
        let one = vec![pod(1)];
        assert!(v
            .resize(&obs_at(0.0, &metrics, &one))
            .unwrap()
            .evict
            .is_empty());
        // Off: no resize at all.
        let mut off = Vpa::new(&VpaConfig {
            update_mode: UpdateMode::Off,
            ..cfg()
        })
        .unwrap();
        off.evaluate(&obs_at(0.0, &metrics, &pods));
        assert!(off.resize(&obs_at(60.0, &metrics, &pods)).is_none());
    }
}
