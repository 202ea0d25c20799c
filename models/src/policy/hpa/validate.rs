//! The configuration checked as the API server validates a
//! HorizontalPodAutoscaler (`pkg/apis/autoscaling/validation/validation.go`:
//! targets > 0, windows 0..=3600 s, policy periods 0 < p <= 1800 s, at
//! least one policy) and the controller flags are checked, and merged over
//! the API defaults (`copyHPAScalingRules`, `defaults.go`: the default
//! metric, CPU at 80%, and the default behavior).

use super::config::{
    BehaviorSpec, HpaConfig, MetricConfig, MetricSource, PolicyType, ScalingRulesConfig,
    SelectPolicy,
};
use super::replicas::milli;
use super::{
    Hpa, MetricSpec, Normalization, Policy, Rules, Target, DEFAULT_CPU_UTILIZATION,
    DEFAULT_DOWNSCALE_STABILIZATION_S, MAX_POLICY_PERIOD_S, MAX_STABILIZATION_S,
};
use crate::policy::{issue, metric};

/// Pool-wide metrics: an `average_value` target on them divides the whole
/// value (External averageValue) rather than averaging per pod.
pub(super) fn pool_wide(name: &str) -> bool {
    [metric::QUEUE_TOTAL, metric::P99, metric::LATENCY].contains(&name)
}

fn positive(field: &str, what: &str, v: f64) -> Result<f64, (String, String)> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        issue(field, format!("{what}: expected a number > 0, got {v}"))
    }
}

fn resolve_metric(i: usize, m: &MetricConfig) -> Result<MetricSpec, (String, String)> {
    let at = format!("metrics[{i}] ({})", m.name);
    if m.name.trim().is_empty() {
        return issue("metrics", format!("metrics[{i}]: expected a metric name"));
    }
    let not_fractions = [
        metric::RPS,
        metric::QUEUE,
        metric::QUEUE_TOTAL,
        metric::IN_FLIGHT,
        metric::P99,
        metric::LATENCY,
    ];
    if m.utilization.is_some() && not_fractions.contains(&m.name.as_str()) {
        return issue(
            "metrics",
            format!(
                "{at}: utilization is a percent of the request, for a metric published as a 0..1 fraction such as cpu; give {} an average_value or a value",
                m.name
            ),
        );
    }
    let given = [
        m.utilization.is_some(),
        m.average_value.is_some(),
        m.value.is_some(),
    ]
    .iter()
    .filter(|g| **g)
    .count();
    if given != 1 {
        return issue(
            "metrics",
            format!(
                "{at}: give exactly one target: utilization (percent of the request), average_value (per pod) or value (of the whole metric)"
            ),
        );
    }
    let source = m.source.unwrap_or(if m.utilization.is_some() {
        MetricSource::Resource
    } else if m.value.is_some() {
        MetricSource::Object
    } else if m.name == metric::CPU {
        MetricSource::Resource
    } else if pool_wide(&m.name) {
        MetricSource::External
    } else {
        MetricSource::Pods
    });
    let target = match (source, m.utilization, m.average_value, m.value) {
        (MetricSource::Resource, Some(crate::units::Percent(u)), _, _) => {
            if u < 1 {
                return issue(
                    "metrics",
                    format!("{at}: utilization must be greater than 0 (percent)"),
                );
            }
            // Kubernetes accepts targets above 100% (pods whose limit is
            // above their request), but a pool's instance is busy at most
            // all of its slots: a pod here never uses more than its request.
            if u > 100 {
                return issue(
                    "metrics",
                    format!("{at}: utilization = {u} is above 100% of the request: in scalesim a pod's CPU usage is the computing share of its slots, at most 100%, so the target would never be reached and the HPA would never scale out; write at most 100"),
                );
            }
            Target::Utilization(u as i64)
        }
        (MetricSource::Resource | MetricSource::Pods, _, Some(v), _) => {
            Target::AverageValue(milli(positive("metrics", &at, v)?))
        }
        (MetricSource::Object | MetricSource::External, _, _, Some(v)) => {
            Target::Value(milli(positive("metrics", &at, v)?))
        }
        (MetricSource::Object | MetricSource::External, _, Some(v), _) => {
            Target::TotalPerPod(milli(positive("metrics", &at, v)?))
        }
        (MetricSource::Resource, ..) => {
            return issue(
                "metrics",
                format!("{at}: a resource metric takes utilization or average_value"),
            )
        }
        (MetricSource::Pods, ..) => {
            return issue(
                "metrics",
                format!("{at}: a pods metric takes average_value"),
            )
        }
        (MetricSource::Object | MetricSource::External, ..) => {
            return issue(
                "metrics",
                format!("{at}: an object or external metric takes value or average_value"),
            )
        }
    };
    Ok(MetricSpec {
        name: m.name.clone(),
        source,
        target,
    })
}

pub(super) fn default_rules(up: bool) -> Rules {
    if up {
        Rules {
            window: 0.0,
            select: SelectPolicy::Max,
            policies: vec![
                Policy {
                    kind: PolicyType::Pods,
                    value: 4,
                    period: 15.0,
                },
                Policy {
                    kind: PolicyType::Percent,
                    value: 100,
                    period: 15.0,
                },
            ],
        }
    } else {
        Rules {
            window: DEFAULT_DOWNSCALE_STABILIZATION_S,
            select: SelectPolicy::Max,
            policies: vec![Policy {
                kind: PolicyType::Percent,
                value: 100,
                period: 15.0,
            }],
        }
    }
}

/// Merges one direction's rules over its defaults (`copyHPAScalingRules`)
/// and validates them (`validateScalingRules`). Returns the rules and the
/// direction's tolerance, if given.
fn resolve_rules(
    field: &str,
    up: bool,
    cfg: Option<&ScalingRulesConfig>,
) -> Result<(Rules, Option<f64>), (String, String)> {
    let mut rules = default_rules(up);
    let Some(c) = cfg else {
        return Ok((rules, None));
    };
    if let Some(w) = c.stabilization {
        let w = w.secs();
        if !(w.is_finite() && (0.0..=MAX_STABILIZATION_S).contains(&w)) {
            return issue(
                format!("{field}.stabilization"),
                format!("expected a window between 0 and 3600 s (the API's limit), got {w} s"),
            );
        }
        rules.window = w;
    }
    if let Some(s) = c.select {
        rules.select = s;
    }
    if let Some(ps) = &c.policies {
        if ps.is_empty() {
            return issue(
                format!("{field}.policies"),
                "must specify at least one policy (or leave policies out for the default)",
            );
        }
        rules.policies = Vec::with_capacity(ps.len());
        for (i, p) in ps.iter().enumerate() {
            if p.value == 0 {
                return issue(
                    format!("{field}.policies"),
                    format!("policies[{i}]: value must be greater than zero"),
                );
            }
            let period = p.period.secs();
            if !(period > 0.0 && period <= MAX_POLICY_PERIOD_S) {
                return issue(
                    format!("{field}.policies"),
                    format!(
                        "policies[{i}]: period must be greater than 0 and at most 1800 s (the API's limit), got {period} s"
                    ),
                );
            }
            rules.policies.push(Policy {
                kind: p.kind,
                value: p.value,
                period,
            });
        }
    }
    if let Some(t) = c.tolerance {
        if !(t.is_finite() && t >= 0.0) {
            return issue(
                format!("{field}.tolerance"),
                format!("expected a tolerance >= 0, got {t}"),
            );
        }
    }
    Ok((rules, c.tolerance))
}

impl Hpa {
    /// Builds the controller from a configuration, validating it as the
    /// API server and the controller flags would: 1 <= min <= max (a
    /// minReplicas of 0 needs the `HPAScaleToZero` feature gate and is
    /// refused), targets > 0, sync and policy periods > 0, tolerances >= 0,
    /// windows 0..=3600 s, policy periods <= 1800 s, at least one policy per
    /// direction. `Err((field path below the autoscaler table, message))`.
    pub fn new(cfg: &HpaConfig) -> Result<Hpa, (String, String)> {
        if cfg.min < 1 {
            return issue(
                "min",
                "expected min >= 1: Kubernetes refuses minReplicas 0 (it needs the alpha HPAScaleToZero feature gate); to scale to zero as KEDA does, write min = 0 with scale_to_zero = \"5m\" (the idle time before going to zero)",
            );
        }
        if cfg.max < cfg.min {
            return issue(
                "max",
                format!("expected max >= min, got max {} < min {}", cfg.max, cfg.min),
            );
        }
        let metrics = if cfg.metrics.is_empty() {
            vec![MetricSpec {
                name: metric::CPU.into(),
                source: MetricSource::Resource,
                target: Target::Utilization(DEFAULT_CPU_UTILIZATION as i64),
            }]
        } else {
            cfg.metrics
                .iter()
                .enumerate()
                .map(|(i, m)| resolve_metric(i, m))
                .collect::<Result<Vec<_>, _>>()?
        };
        let sync = cfg.sync_period.secs();
        if !(sync.is_finite() && sync > 0.0) {
            return issue("sync_period", "expected a sync period > 0");
        }
        if !(cfg.tolerance.is_finite() && cfg.tolerance >= 0.0) {
            return issue(
                "tolerance",
                format!("expected a tolerance >= 0, got {}", cfg.tolerance),
            );
        }
        let cpu_init = cfg.cpu_initialization_period.secs();
        if !(cpu_init.is_finite() && cpu_init > 0.0) {
            return issue(
                "cpu_initialization_period",
                "expected a CPU initialization period > 0",
            );
        }
        let readiness = cfg.initial_readiness_delay.secs();
        if !readiness.is_finite() {
            return issue("initial_readiness_delay", "expected a finite delay");
        }
        let (mut tolerance_up, mut tolerance_down) = (cfg.tolerance, cfg.tolerance);
        let normalization = match &cfg.behavior {
            Some(BehaviorSpec::Legacy) => Normalization::Legacy,
            None => Normalization::Behavior {
                up: default_rules(true),
                down: default_rules(false),
            },
            Some(BehaviorSpec::Rules(b)) => {
                let (up, tu) = resolve_rules("behavior.scale_up", true, b.scale_up.as_ref())?;
                let (down, td) =
                    resolve_rules("behavior.scale_down", false, b.scale_down.as_ref())?;
                tolerance_up = tu.unwrap_or(tolerance_up);
                tolerance_down = td.unwrap_or(tolerance_down);
                Normalization::Behavior { up, down }
            }
        };
        Ok(Hpa {
            min: cfg.min as i64,
            max: cfg.max as i64,
            metrics,
            sync_period: sync,
            tolerance_up,
            tolerance_down,
            cpu_initialization: cpu_init,
            readiness_delay: readiness,
            normalization,
            recommendations: Vec::new(),
            up_events: Vec::new(),
            down_events: Vec::new(),
            started: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Controller;

    #[test]
    fn default_metric_is_cpu_at_80_percent() {
        let h = Hpa::new(&HpaConfig::new(1, 10, vec![])).unwrap();
        assert_eq!(h.metrics(), vec!["cpu".to_string()]);
        assert_eq!(h.metrics[0].target, Target::Utilization(80));
    }
}
