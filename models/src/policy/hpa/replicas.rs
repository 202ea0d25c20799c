//! The replica calculator: one proposal per metric, as
//! `replica_calculator.go` computes it (`GetResourceReplicas`,
//! `calcPlainMetricReplicas` with `groupPods`, `GetObjectMetricReplicas`,
//! `GetObjectPerPodMetricReplicas`, `GetExternalPerPodMetricReplicas`), in
//! the integer arithmetic of `metrics/utilization.go`; the tolerance
//! (`Tolerances.isWithin`); and with several metrics the largest proposal,
//! no scale-down while one is unavailable (`horizontal.go`
//! `computeReplicasForMetrics`).

use super::{num, Hpa, MetricSource, MetricSpec, Target};
use crate::policy::{metric, Observation};

/// A quantity's `MilliValue()`: milli-units rounded up (with a hair of
/// slack so that 0.07 is 70m, not 71m, in binary floating point).
pub(super) fn milli(v: f64) -> i64 {
    (v * 1000.0 - 1e-6).ceil() as i64
}

/// One metric's proposal and how it was reached.
struct Proposal {
    replicas: i64,
    text: String,
}

impl Hpa {
    /// `Tolerances.isWithin`: 1 - down <= ratio <= 1 + up.
    pub(super) fn within(&self, ratio: f64) -> bool {
        1.0 - self.tolerance_down <= ratio && ratio <= 1.0 + self.tolerance_up
    }

    /// The replica calculator for one metric; Err: the metric is invalid
    /// this time (no datapoint, no ready pod with a sample).
    fn propose(&self, m: &MetricSpec, obs: &Observation) -> Result<Proposal, String> {
        match m.target {
            Target::Utilization(_) | Target::AverageValue(_) => self.grouped(m, obs),
            Target::Value(t) => self.object_value(m, obs, t),
            Target::TotalPerPod(t) => self.total_per_pod(m, obs, t),
        }
    }

    /// `GetResourceReplicas` / `calcPlainMetricReplicas` with `groupPods`.
    fn grouped(&self, m: &MetricSpec, obs: &Observation) -> Result<Proposal, String> {
        let current = obs.current as i64;
        let cpu_rules = m.source == MetricSource::Resource && m.name == metric::CPU;
        let mut samples: Vec<i64> = Vec::new();
        let (mut unready, mut missing) = (0usize, 0usize);
        if obs.pods.is_empty() {
            // Counts only: the ready pods all report the published average;
            // the other current replicas exist as pods that are not ready yet.
            let v = obs
                .metric(&m.name)
                .ok_or_else(|| format!("{} unavailable (no datapoint)", m.name))?;
            samples.resize(obs.ready as usize, milli(v));
            unready = obs.current.saturating_sub(obs.ready) as usize;
        } else {
            let idx = obs
                .metrics
                .iter()
                .position(|x| x.name == m.name)
                .ok_or_else(|| format!("{} unavailable (not published)", m.name))?;
            for pod in obs.pods {
                if !pod.ready {
                    unready += 1;
                    continue;
                }
                match pod.values.get(idx).copied().flatten() {
                    None => missing += 1,
                    Some(v) => {
                        if cpu_rules
                            && pod.age_s < self.cpu_initialization
                            && pod.age_s < self.readiness_delay
                        {
                            unready += 1;
                        } else {
                            samples.push(milli(v));
                        }
                    }
                }
            }
        }
        if samples.is_empty() {
            return Err(format!(
                "{} unavailable (no sample from a ready pod)",
                m.name
            ));
        }
        // GetResourceUtilizationRatio / GetMetricUsageRatio, in integers.
        let usage = |s: &[i64]| -> (f64, f64) {
            // In i128: milli-values near i64::MAX (absurd recorded
            // metrics) must not overflow the sum.
            let n = s.len() as i128;
            let total: i128 = s.iter().map(|&v| v as i128).sum();
            match m.target {
                Target::Utilization(t) => {
                    let util = total * 100 / (n * 1000);
                    let t = t as i128;
                    (util as f64 / t as f64, util as f64 / 100.0)
                }
                Target::AverageValue(t) => {
                    let avg = total / n;
                    let t = t as i128;
                    (avg as f64 / t as f64, avg as f64 / 1000.0)
                }
                _ => unreachable!("grouped serves utilization and average-value targets"),
            }
        };
        let (target_shown, fallback) = match m.target {
            Target::Utilization(t) => (format!("{:.2}", t as f64 / 100.0), 1000 * t.max(100) / 100),
            Target::AverageValue(t) => (num(t as f64 / 1000.0), t),
            _ => unreachable!(),
        };
        let shown = |v: f64| match m.target {
            Target::Utilization(_) => format!("{v:.2}"),
            _ => num(v),
        };
        let (ratio, value) = usage(&samples);
        let base = format!("{} {} / target {}", m.name, shown(value), target_shown);
        let ready_count = samples.len() as i64;
        let scale_up_with_unready = unready > 0 && ratio > 1.0;
        if !scale_up_with_unready && missing == 0 {
            if self.within(ratio) {
                return Ok(Proposal {
                    replicas: current,
                    text: format!("{base} within tolerance -> {current}"),
                });
            }
            let n = (ratio * ready_count as f64).ceil() as i64;
            return Ok(Proposal {
                replicas: n,
                text: format!("{base} -> {n}"),
            });
        }
        let mut all = samples.clone();
        let mut notes = Vec::new();
        if missing > 0 {
            if ratio < 1.0 {
                all.extend(std::iter::repeat_n(fallback, missing));
                notes.push(format!("{missing} pods without a sample counted at target"));
            } else if ratio > 1.0 {
                all.extend(std::iter::repeat_n(0, missing));
                notes.push(format!("{missing} pods without a sample counted as 0"));
            }
        }
        if scale_up_with_unready {
            all.extend(std::iter::repeat_n(0, unready));
            notes.push(format!("{unready} unready pods counted as 0"));
        }
        let (new_ratio, new_value) = usage(&all);
        let with = if notes.is_empty() {
            base
        } else {
            format!("{base}; {}: {}", notes.join(", "), shown(new_value))
        };
        if self.within(new_ratio)
            || (ratio < 1.0 && new_ratio > 1.0)
            || (ratio > 1.0 && new_ratio < 1.0)
        {
            let why = if self.within(new_ratio) {
                "within tolerance"
            } else {
                "would reverse the direction"
            };
            return Ok(Proposal {
                replicas: current,
                text: format!("{with} {why} -> {current}"),
            });
        }
        let n = (new_ratio * all.len() as f64).ceil() as i64;
        if (new_ratio < 1.0 && n > current) || (new_ratio > 1.0 && n < current) {
            return Ok(Proposal {
                replicas: current,
                text: format!("{with} -> {n} would reverse the direction -> {current}"),
            });
        }
        Ok(Proposal {
            replicas: n,
            text: format!("{with} -> {n}"),
        })
    }

    /// `GetObjectMetricReplicas` / `GetExternalMetricReplicas`
    /// (`getUsageRatioReplicaCount`): ceil(ready pods x value / target).
    fn object_value(&self, m: &MetricSpec, obs: &Observation, t: i64) -> Result<Proposal, String> {
        let current = obs.current as i64;
        let v = obs
            .metric(&m.name)
            .ok_or_else(|| format!("{} unavailable (no datapoint)", m.name))?;
        let ratio = milli(v) as f64 / t as f64;
        let base = format!("{} {} / target {}", m.name, num(v), num(t as f64 / 1000.0));
        if self.within(ratio) {
            return Ok(Proposal {
                replicas: current,
                text: format!("{base} within tolerance -> {current}"),
            });
        }
        let ready = if obs.pods.is_empty() {
            obs.ready as i64
        } else {
            obs.pods.iter().filter(|p| p.ready).count() as i64
        };
        let n = (ratio * ready as f64).ceil() as i64;
        Ok(Proposal {
            replicas: n,
            text: format!("{base} x {ready} ready -> {n}"),
        })
    }

    /// `GetObjectPerPodMetricReplicas` / `GetExternalPerPodMetricReplicas`:
    /// ceil(value / target) unless value / (target x replicas) is within
    /// tolerance (replicas: the pods that exist, `scale.status.replicas`).
    fn total_per_pod(&self, m: &MetricSpec, obs: &Observation, t: i64) -> Result<Proposal, String> {
        let v = obs
            .metric(&m.name)
            .ok_or_else(|| format!("{} unavailable (no datapoint)", m.name))?;
        let usage = milli(v);
        let status = if obs.pods.is_empty() {
            obs.current as i64
        } else {
            obs.pods.len() as i64
        };
        let ratio = usage as f64 / (t as f64 * status as f64);
        let base = format!(
            "{} {} / target {} per pod",
            m.name,
            num(v),
            num(t as f64 / 1000.0)
        );
        if self.within(ratio) {
            return Ok(Proposal {
                replicas: status,
                text: format!("{base} within tolerance -> {status}"),
            });
        }
        let n = (usage as f64 / t as f64).ceil() as i64;
        Ok(Proposal {
            replicas: n,
            text: format!("{base} -> {n}"),
        })
    }

    /// `computeReplicasForMetrics`: the largest proposal; Err (no scaling)
    /// when every metric is invalid, or when some is and the others would
    /// scale down.
    pub(super) fn compute(&self, obs: &Observation) -> Result<(i64, String), String> {
        let current = obs.current as i64;
        let mut replicas = 0i64;
        let mut winner: Option<usize> = None;
        let mut results = Vec::with_capacity(self.metrics.len());
        for m in &self.metrics {
            results.push(self.propose(m, obs));
        }
        for (i, r) in results.iter().enumerate() {
            if let Ok(p) = r {
                if replicas == 0 || p.replicas > replicas {
                    replicas = p.replicas;
                    winner = Some(i);
                }
            }
        }
        let invalid: Vec<&str> = results
            .iter()
            .filter_map(|r| r.as_ref().err().map(|e| e.as_str()))
            .collect();
        let Some(w) = winner else {
            return Err(format!("{}; keeping {current}", invalid.join("; ")));
        };
        let lead = results[w]
            .as_ref()
            .map(|p| p.text.clone())
            .unwrap_or_default();
        if !invalid.is_empty() && replicas < current {
            return Err(format!(
                "{lead}, but {}: no scale-down while a metric is unavailable; keeping {current}",
                invalid.join("; ")
            ));
        }
        let mut text = lead;
        if results.len() > 1 {
            let others: Vec<String> = results
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != w)
                .map(|(i, r)| match r {
                    Ok(p) => format!("{} -> {}", self.metrics[i].name, p.replicas),
                    Err(e) => e.clone(),
                })
                .collect();
            text = format!("{text} (largest; {})", others.join(", "));
        }
        Ok((replicas.max(0), text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::hpa::HpaConfig;

    #[test]
    fn milli_values_round_up_like_milli_value() {
        assert_eq!(milli(0.07), 70);
        assert_eq!(milli(0.6), 600);
        assert_eq!(milli(0.0701), 71);
        assert_eq!(milli(100.0), 100_000);
    }

    #[test]
    fn tolerance_band_is_inclusive() {
        // Tolerances.isWithin: (1 - down) <= ratio <= (1 + up).
        let h = Hpa::new(&HpaConfig::new(1, 10, vec![])).unwrap();
        assert!(h.within(1.1) && h.within(0.9) && h.within(1.0));
        assert!(!h.within(1.1000001) && !h.within(0.8999999));
    }
}
