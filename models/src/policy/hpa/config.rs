//! The `[autoscaler.<pool>]` table of `policy = "hpa"`: the
//! HorizontalPodAutoscaler spec (autoscaling/v2 `minReplicas`,
//! `maxReplicas`, `metrics`, `behavior`) and the kube-controller-manager
//! flags that shape it, with the defaults of
//! `pkg/apis/autoscaling/v2/defaults.go` and of the
//! `--horizontal-pod-autoscaler-*` flags.

use super::{
    DEFAULT_CPU_INITIALIZATION_PERIOD_S, DEFAULT_INITIAL_READINESS_DELAY_S, DEFAULT_SYNC_PERIOD_S,
    DEFAULT_TOLERANCE,
};
use crate::policy::one;
use crate::units::Duration;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::fmt;

/// `[autoscaler.<pool>]` with `policy = "hpa"`: a HorizontalPodAutoscaler
/// spec (`minReplicas`, `maxReplicas`, `metrics`, `behavior`) plus the
/// kube-controller-manager flags that shape it (sync period, tolerance, CPU
/// initialization period, initial readiness delay).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HpaConfig {
    /// Always "hpa" (read by the scenario loader to pick this type).
    #[serde(default)]
    pub policy: Option<String>,
    /// `spec.minReplicas` (>= 1; default 1, as `SetDefaults_HorizontalPodAutoscaler`).
    #[serde(default = "one")]
    pub min: u32,
    /// `spec.maxReplicas` (>= min).
    pub max: u32,
    /// `spec.metrics`; empty means CPU at 80% (the API default).
    #[serde(default)]
    pub metrics: Vec<MetricConfig>,
    /// `--horizontal-pod-autoscaler-sync-period` (default 15 s): seconds
    /// between evaluations.
    #[serde(default = "default_sync_period")]
    pub sync_period: Duration,
    /// `--horizontal-pod-autoscaler-tolerance` (default 0.1): usage ratios
    /// within [1 - tolerance, 1 + tolerance] change nothing.
    #[serde(default = "default_tolerance")]
    pub tolerance: f64,
    /// `--horizontal-pod-autoscaler-cpu-initialization-period` (default 5 min):
    /// how long after a pod starts its CPU samples are suspect.
    #[serde(default = "default_cpu_initialization_period")]
    pub cpu_initialization_period: Duration,
    /// `--horizontal-pod-autoscaler-initial-readiness-delay` (default 30 s):
    /// within the CPU initialization period, a pod younger than this is
    /// treated as not yet ready for CPU (it stands for "the sample predates
    /// readiness", which the observation does not carry).
    #[serde(default = "default_initial_readiness_delay")]
    pub initial_readiness_delay: Duration,
    /// `spec.behavior`; absent: the documented default behavior (scale up by
    /// the larger of 100% or 4 pods per 15 s at once; scale down by 100%
    /// per 15 s after a 300 s window). `"legacy"`: the controller's path for
    /// an object with no `spec.behavior`.
    #[serde(default)]
    pub behavior: Option<BehaviorSpec>,
    /// With `min = 0`: KEDA's `cooldownPeriod` (KEDA's default is 5 min):
    /// after this long without a request the workload goes to zero
    /// replicas, and the first request brings one back (KEDA activates
    /// 0 -> 1 and leaves 1 -> max to this HPA). See [`crate::policy::zero`].
    #[serde(default)]
    pub scale_to_zero: Option<Duration>,
}

fn default_sync_period() -> Duration {
    Duration(DEFAULT_SYNC_PERIOD_S)
}
fn default_tolerance() -> f64 {
    DEFAULT_TOLERANCE
}
fn default_cpu_initialization_period() -> Duration {
    Duration(DEFAULT_CPU_INITIALIZATION_PERIOD_S)
}
fn default_initial_readiness_delay() -> Duration {
    Duration(DEFAULT_INITIAL_READINESS_DELAY_S)
}

impl HpaConfig {
    /// A configuration with `min`, `max` and `metrics`, everything else at
    /// its default.
    pub fn new(min: u32, max: u32, metrics: Vec<MetricConfig>) -> Self {
        HpaConfig {
            policy: None,
            min,
            max,
            metrics,
            sync_period: default_sync_period(),
            tolerance: DEFAULT_TOLERANCE,
            cpu_initialization_period: default_cpu_initialization_period(),
            initial_readiness_delay: default_initial_readiness_delay(),
            behavior: None,
            scale_to_zero: None,
        }
    }

    /// Checks the configuration as [`Hpa::new`] does; `Err((field, message))`.
    pub fn check(&self) -> Result<(), (String, String)> {
        crate::policy::zero::hpa(self).map(|_| ())
    }
}

/// Where a metric comes from, as `spec.metrics[].type` of autoscaling/v2.
/// Usually implied by the target (see [`MetricConfig`]).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MetricSource {
    /// `Resource`: a per-pod resource (`cpu`) as a utilization of the
    /// request or an average value; pods are grouped by readiness
    /// (`GetResourceReplicas`, `GetRawResourceReplicas`).
    #[serde(alias = "Resource")]
    Resource,
    /// `Pods`: a per-pod metric averaged over pods, grouped by readiness
    /// (`GetMetricReplicas`).
    #[serde(alias = "Pods")]
    Pods,
    /// `Object`: one value describing an object (`GetObjectMetricReplicas`,
    /// `GetObjectPerPodMetricReplicas`).
    #[serde(alias = "Object")]
    Object,
    /// `External`: one value from outside the cluster
    /// (`GetExternalMetricReplicas`, `GetExternalPerPodMetricReplicas`).
    #[serde(alias = "External")]
    External,
}

/// One entry of `metrics`: a metric name and exactly one target.
///
/// - `utilization = 60`: `target.averageUtilization`, percent of the
///   request (the `cpu` metric is a 0..1 fraction: 60 means 0.6). Type
///   `resource`.
/// - `average_value = 100`: `target.averageValue`, per pod. Type `pods`
///   (`resource` for `cpu`; `external` for the pool-wide metrics
///   `queue_total`, `p99`, `latency`, whose value is divided by the target:
///   desired = ceil(value / average_value)).
/// - `value = 50`: `target.value` of the whole metric, type `object`:
///   desired = ceil(ready pods x value / target).
///
/// `type = "resource" | "pods" | "object" | "external"` overrides the
/// implied source.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MetricConfig {
    /// Metric name as the pool publishes it (see [`crate::policy::metric`]).
    pub name: String,
    /// Source type; implied by the target when absent.
    #[serde(default, rename = "type")]
    pub source: Option<MetricSource>,
    /// Target average utilization, a whole percent of the request (>= 1),
    /// as the manifest's `averageUtilization`: `60` or `"60%"`.
    #[serde(default)]
    pub utilization: Option<crate::units::Percent>,
    /// Target average value per pod (> 0).
    #[serde(default)]
    pub average_value: Option<f64>,
    /// Target value of the whole metric (> 0).
    #[serde(default)]
    pub value: Option<f64>,
}

impl MetricConfig {
    /// `{ name, utilization }`.
    pub fn utilization(name: &str, percent: u32) -> Self {
        MetricConfig {
            name: name.into(),
            source: None,
            utilization: Some(crate::units::Percent(percent)),
            average_value: None,
            value: None,
        }
    }
    /// `{ name, average_value }`.
    pub fn average_value(name: &str, target: f64) -> Self {
        MetricConfig {
            name: name.into(),
            source: None,
            utilization: None,
            average_value: Some(target),
            value: None,
        }
    }
    /// `{ name, value }`.
    pub fn value(name: &str, target: f64) -> Self {
        MetricConfig {
            name: name.into(),
            source: None,
            utilization: None,
            average_value: None,
            value: Some(target),
        }
    }
}

/// `behavior`: a table of scaling rules, or `"legacy"`.
#[derive(Clone, Debug, PartialEq)]
pub enum BehaviorSpec {
    /// What kube-controller-manager does for an HPA object whose
    /// `spec.behavior` is nil (`normalizeDesiredReplicas`): the highest
    /// recommendation of the last 5 minutes (window inclusive, and applied
    /// in both directions), then at most max(2 x current, 4) replicas, then
    /// min/max. No scale events are recorded. [`Hpa::from_manifest`] gives
    /// this for a manifest without `behavior`.
    Legacy,
    /// `spec.behavior`: unset fields take the defaults of
    /// `pkg/apis/autoscaling/v2/defaults.go`.
    Rules(BehaviorConfig),
}

impl<'de> Deserialize<'de> for BehaviorSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BehaviorSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a table { scale_up = { ... }, scale_down = { ... } } or the string \"legacy\"",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<BehaviorSpec, E> {
                if v == "legacy" {
                    Ok(BehaviorSpec::Legacy)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<BehaviorSpec, A::Error> {
                BehaviorConfig::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(BehaviorSpec::Rules)
            }
        }
        d.deserialize_any(V)
    }
}

/// `behavior = { scale_up = {...}, scale_down = {...} }` (`spec.behavior`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BehaviorConfig {
    /// `scaleUp`; unset fields default to a 0 s window, select max,
    /// policies Pods 4 per 15 s and Percent 100% per 15 s.
    #[serde(default)]
    pub scale_up: Option<ScalingRulesConfig>,
    /// `scaleDown`; unset fields default to a 300 s window, select max,
    /// policy Percent 100% per 15 s.
    #[serde(default)]
    pub scale_down: Option<ScalingRulesConfig>,
}

/// One direction's rules (`HPAScalingRules`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScalingRulesConfig {
    /// `stabilizationWindowSeconds`, 0..=3600 s.
    #[serde(default)]
    pub stabilization: Option<Duration>,
    /// `selectPolicy`: `"max"` (largest change), `"min"` (smallest change)
    /// or `"disabled"` (no scaling in this direction).
    #[serde(default)]
    pub select: Option<SelectPolicy>,
    /// `policies` (at least one when given).
    #[serde(default)]
    pub policies: Option<Vec<ScalingPolicyConfig>>,
    /// `tolerance` of this direction (KEP-4951); default: the
    /// controller-wide `tolerance`.
    #[serde(default)]
    pub tolerance: Option<f64>,
}

/// `selectPolicy`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SelectPolicy {
    /// `Max`: the policy allowing the largest change.
    #[serde(alias = "Max")]
    Max,
    /// `Min`: the policy allowing the smallest change.
    #[serde(alias = "Min")]
    Min,
    /// `Disabled`: no scaling in this direction.
    #[serde(alias = "Disabled")]
    Disabled,
}

/// `HPAScalingPolicyType`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PolicyType {
    /// `Pods`: at most `value` pods per period.
    #[serde(alias = "Pods")]
    Pods,
    /// `Percent`: at most `value` percent of the replicas at the start of
    /// the period.
    #[serde(alias = "Percent")]
    Percent,
}

/// `{ type = "percent", value = 100, period = "15s" }` (`HPAScalingPolicy`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScalingPolicyConfig {
    /// `type`: `"pods"` or `"percent"`.
    #[serde(rename = "type")]
    pub kind: PolicyType,
    /// `value` (> 0): pods, or percent.
    pub value: u32,
    /// `periodSeconds` (0 < period <= 1800 s).
    pub period: Duration,
}

impl ScalingPolicyConfig {
    /// A policy of `kind`, `value` per `period_s` seconds.
    pub fn new(kind: PolicyType, value: u32, period_s: f64) -> Self {
        ScalingPolicyConfig {
            kind,
            value,
            period: Duration(period_s),
        }
    }
}
