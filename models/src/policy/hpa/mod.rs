//! The Kubernetes HorizontalPodAutoscaler (autoscaling/v2) as a pure
//! controller: the same replica proposals, stabilization windows, scaling
//! policies and bounds as kube-controller-manager's `podautoscaler`
//! package, evaluated every sync period on an [`Observation`].
//!
//! Sources, by rule (kubernetes/kubernetes, `pkg/controller/podautoscaler`,
//! as of v1.33-1.34, and the documentation page "Horizontal Pod
//! Autoscaling", kubernetes.io/docs/concepts/workloads/autoscaling/horizontal-pod-autoscale/):
//!
//! - per-metric proposals: `replica_calculator.go` (`GetResourceReplicas`,
//!   `calcPlainMetricReplicas`, `GetObjectMetricReplicas`,
//!   `GetObjectPerPodMetricReplicas`, `GetExternalPerPodMetricReplicas`,
//!   `groupPods`, `Tolerances.isWithin`) and `metrics/utilization.go`
//!   (integer utilization percent, integer milli-value averages);
//! - several metrics, the largest proposal wins, no scale-down while a
//!   metric is unavailable: `horizontal.go` `computeReplicasForMetrics`;
//! - replicas outside [min, max] brought back first, zero replicas disable
//!   autoscaling, the first evaluation records the current count as a
//!   recommendation: `horizontal.go` `reconcileAutoscaler`,
//!   `recordInitialRecommendation`;
//! - behavior: `horizontal.go` `stabilizeRecommendationWithBehaviors`
//!   (scale-up: lowest recommendation in its window; scale-down: highest in
//!   its window), `convertDesiredReplicasWithBehaviorRate`,
//!   `calculateScaleUpLimitWithScalingRules`,
//!   `calculateScaleDownLimitWithBehaviors` (the replica count at the start
//!   of each policy period, from the history of scale events),
//!   `storeScaleEvent`, `markScaleEventsOutdated`;
//! - defaults (sync period 15 s, tolerance 0.1, CPU initialization period
//!   5 min, initial readiness delay 30 s, downscale stabilization 5 min):
//!   `kube-controller-manager` flags `--horizontal-pod-autoscaler-*`;
//!   default behavior and default metric (CPU at 80%):
//!   `pkg/apis/autoscaling/v2/defaults.go`; bounds on periods (1800 s) and
//!   windows (3600 s): `pkg/apis/autoscaling/validation/validation.go`;
//! - per-direction tolerances (`behavior.scaleUp.tolerance`, KEP-4951,
//!   `HPAConfigurableTolerance`).
//!
//! ```toml
//! [autoscaler.api]
//! policy = "hpa"
//! min = 2                       # minReplicas (default 1)
//! max = 20                      # maxReplicas (required)
//! metrics = [
//!   { name = "cpu", utilization = 60 },         # Resource, averageUtilization 60%
//!   { name = "rps", average_value = 100 },      # Pods, averageValue per pod
//!   { name = "queue_total", value = 50 },       # Object, value of the whole metric
//! ]
//! sync_period = "15s"           # controller flags, with their defaults
//! tolerance = 0.1
//! cpu_initialization_period = "5m"
//! initial_readiness_delay = "30s"
//! # behavior = "legacy"         # the controller's path for an object without spec.behavior
//!
//! [autoscaler.api.behavior.scale_up]      # spec.behavior.scaleUp (these are the defaults)
//! stabilization = "0s"
//! select = "max"                # or "min", "disabled"
//! policies = [
//!   { type = "pods", value = 4, period = "15s" },
//!   { type = "percent", value = 100, period = "15s" },
//! ]
//! # tolerance = 0.05            # per-direction tolerance (KEP-4951)
//!
//! [autoscaler.api.behavior.scale_down]    # spec.behavior.scaleDown (the defaults)
//! stabilization = "5m"
//! select = "max"
//! policies = [{ type = "percent", value = 100, period = "15s" }]
//! ```
//!
//! The pool's `cpu` metric is busy slots over slots, a 0..1 fraction of the
//! request: `utilization = 60` targets 0.6. Per-pod CPU is taken as usage
//! of a 1000m request, so the controller's integer arithmetic (percent
//! truncated, milli-values rounded up) is kept.

use crate::policy::{metric, Controller, Decision, Observation};
use crate::units::Duration;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::fmt;

/// `--horizontal-pod-autoscaler-sync-period` default, seconds.
pub const DEFAULT_SYNC_PERIOD_S: f64 = 15.0;
/// `--horizontal-pod-autoscaler-tolerance` default.
pub const DEFAULT_TOLERANCE: f64 = 0.1;
/// `--horizontal-pod-autoscaler-cpu-initialization-period` default, seconds.
pub const DEFAULT_CPU_INITIALIZATION_PERIOD_S: f64 = 300.0;
/// `--horizontal-pod-autoscaler-initial-readiness-delay` default, seconds.
pub const DEFAULT_INITIAL_READINESS_DELAY_S: f64 = 30.0;
/// `--horizontal-pod-autoscaler-downscale-stabilization` default, seconds:
/// the scale-down window when `behavior.scale_down.stabilization` is unset,
/// and the window of the legacy (no-behavior) path.
pub const DEFAULT_DOWNSCALE_STABILIZATION_S: f64 = 300.0;
/// The metric an HPA gets when it lists none: CPU at 80% of the request
/// (`autoscaling.DefaultCPUUtilization`, applied by `SetDefaults_HorizontalPodAutoscaler`).
pub const DEFAULT_CPU_UTILIZATION: u32 = 80;
/// Longest scaling-policy period the API accepts, seconds (`MaxPeriodSeconds`).
pub const MAX_POLICY_PERIOD_S: f64 = 1800.0;
/// Longest stabilization window the API accepts, seconds
/// (`MaxStabilizationWindowSeconds`).
pub const MAX_STABILIZATION_S: f64 = 3600.0;

// ---------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------

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
}

fn one() -> u32 {
    1
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
        }
    }

    /// Checks the configuration as [`Hpa::new`] does; `Err((field, message))`.
    pub fn check(&self) -> Result<(), (String, String)> {
        Hpa::new(self).map(|_| ())
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
    /// Metric name as the pool publishes it (see [`metric`]).
    pub name: String,
    /// Source type; implied by the target when absent.
    #[serde(default, rename = "type")]
    pub source: Option<MetricSource>,
    /// Target average utilization, percent of the request (>= 1).
    #[serde(default)]
    pub utilization: Option<u32>,
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
            utilization: Some(percent),
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

// ---------------------------------------------------------------------------
// The controller
// ---------------------------------------------------------------------------

/// A metric target resolved to the replica-calculator function that
/// serves it; values in milli-units (as `Quantity.MilliValue()`), or
/// percent for utilization.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    /// Resource averageUtilization (percent); pods grouped.
    Utilization(i64),
    /// Resource or Pods averageValue (milli per pod); pods grouped.
    AverageValue(i64),
    /// Object or External value (milli, whole metric).
    Value(i64),
    /// Object or External averageValue (milli per pod of a whole metric).
    TotalPerPod(i64),
}

#[derive(Clone, Debug)]
struct MetricSpec {
    name: String,
    source: MetricSource,
    target: Target,
}

#[derive(Clone, Copy, Debug)]
struct Policy {
    kind: PolicyType,
    value: u32,
    period: f64,
}

impl Policy {
    fn describe(&self) -> String {
        match self.kind {
            PolicyType::Pods => format!("Pods policy {} per {}s", self.value, num(self.period)),
            PolicyType::Percent => {
                format!("Percent policy {}% per {}s", self.value, num(self.period))
            }
        }
    }
}

#[derive(Clone, Debug)]
struct Rules {
    window: f64,
    select: SelectPolicy,
    policies: Vec<Policy>,
}

#[derive(Clone, Debug)]
enum Normalization {
    Legacy,
    Behavior { up: Rules, down: Rules },
}

#[derive(Clone, Copy, Debug)]
struct Recommendation {
    replicas: i64,
    at: f64,
}

#[derive(Clone, Copy, Debug)]
struct ScaleEvent {
    change: i64,
    at: f64,
    outdated: bool,
}

/// The running HorizontalPodAutoscaler: its configuration and the state the
/// controller keeps per HPA (unstabilized recommendations with their times,
/// scale-up and scale-down events with their times).
#[derive(Clone, Debug)]
pub struct Hpa {
    min: i64,
    max: i64,
    metrics: Vec<MetricSpec>,
    sync_period: f64,
    tolerance_up: f64,
    tolerance_down: f64,
    cpu_initialization: f64,
    readiness_delay: f64,
    normalization: Normalization,
    recommendations: Vec<Recommendation>,
    up_events: Vec<ScaleEvent>,
    down_events: Vec<ScaleEvent>,
    started: bool,
}

fn err<T>(field: &str, message: impl Into<String>) -> Result<T, (String, String)> {
    Err((field.to_string(), message.into()))
}

/// Pool-wide metrics: an `average_value` target on them divides the whole
/// value (External averageValue) rather than averaging per pod.
fn pool_wide(name: &str) -> bool {
    [metric::QUEUE_TOTAL, metric::P99, metric::LATENCY].contains(&name)
}

/// A quantity's `MilliValue()`: milli-units rounded up (with a hair of
/// slack so that 0.07 is 70m, not 71m, in binary floating point).
fn milli(v: f64) -> i64 {
    (v * 1000.0 - 1e-6).ceil() as i64
}

fn positive(field: &str, what: &str, v: f64) -> Result<f64, (String, String)> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        err(field, format!("{what}: expected a number > 0, got {v}"))
    }
}

fn resolve_metric(i: usize, m: &MetricConfig) -> Result<MetricSpec, (String, String)> {
    let at = format!("metrics[{i}] ({})", m.name);
    if m.name.trim().is_empty() {
        return err("metrics", format!("metrics[{i}]: expected a metric name"));
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
        return err(
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
        return err(
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
        (MetricSource::Resource, Some(u), _, _) => {
            if u < 1 {
                return err(
                    "metrics",
                    format!("{at}: utilization must be greater than 0 (percent)"),
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
            return err(
                "metrics",
                format!("{at}: a resource metric takes utilization or average_value"),
            )
        }
        (MetricSource::Pods, ..) => {
            return err(
                "metrics",
                format!("{at}: a pods metric takes average_value"),
            )
        }
        (MetricSource::Object | MetricSource::External, ..) => {
            return err(
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

fn default_rules(up: bool) -> Rules {
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
            return err(
                &format!("{field}.stabilization"),
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
            return err(
                &format!("{field}.policies"),
                "must specify at least one policy (or leave policies out for the default)",
            );
        }
        rules.policies = Vec::with_capacity(ps.len());
        for (i, p) in ps.iter().enumerate() {
            if p.value == 0 {
                return err(
                    &format!("{field}.policies"),
                    format!("policies[{i}]: value must be greater than zero"),
                );
            }
            let period = p.period.secs();
            if !(period > 0.0 && period <= MAX_POLICY_PERIOD_S) {
                return err(
                    &format!("{field}.policies"),
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
            return err(
                &format!("{field}.tolerance"),
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
            return err(
                "min",
                "expected min >= 1 (minReplicas 0 needs the HPAScaleToZero feature gate, which is not modelled)",
            );
        }
        if cfg.max < cfg.min {
            return err(
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
            return err("sync_period", "expected a sync period > 0");
        }
        if !(cfg.tolerance.is_finite() && cfg.tolerance >= 0.0) {
            return err(
                "tolerance",
                format!("expected a tolerance >= 0, got {}", cfg.tolerance),
            );
        }
        let cpu_init = cfg.cpu_initialization_period.secs();
        if !(cpu_init.is_finite() && cpu_init > 0.0) {
            return err(
                "cpu_initialization_period",
                "expected a CPU initialization period > 0",
            );
        }
        let readiness = cfg.initial_readiness_delay.secs();
        if !readiness.is_finite() {
            return err("initial_readiness_delay", "expected a finite delay");
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

    /// (minReplicas, maxReplicas).
    pub fn bounds(&self) -> (u32, u32) {
        (self.min as u32, self.max as u32)
    }

    /// `Tolerances.isWithin`: 1 - down <= ratio <= 1 + up.
    fn within(&self, ratio: f64) -> bool {
        1.0 - self.tolerance_down <= ratio && ratio <= 1.0 + self.tolerance_up
    }
}

/// A number for a reason string: integers bare, others with up to 3
/// decimals.
fn num(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{}", x.round() as i64)
    } else {
        let s = format!("{x:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// One metric's proposal and how it was reached.
struct Proposal {
    replicas: i64,
    text: String,
}

impl Hpa {
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
            let n = s.len() as i64;
            let total: i64 = s.iter().sum();
            match m.target {
                Target::Utilization(t) => {
                    let util = total * 100 / (n * 1000);
                    (util as f64 / t as f64, util as f64 / 100.0)
                }
                Target::AverageValue(t) => {
                    let avg = total / n;
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
    fn compute(&self, obs: &Observation) -> Result<(i64, String), String> {
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

    /// `stabilizeRecommendationWithBehaviors`: the current count brought
    /// within [lowest recommendation of the scale-up window, highest of the
    /// scale-down window]; records the unstabilized recommendation.
    fn stabilize(
        &mut self,
        up: f64,
        down: f64,
        now: f64,
        current: i64,
        desired: i64,
    ) -> (i64, Option<String>) {
        let (up_cut, down_cut) = (now - up, now - down);
        let (mut up_rec, mut down_rec) = (desired, desired);
        let mut old = None;
        for (i, r) in self.recommendations.iter().enumerate() {
            if r.at > up_cut {
                up_rec = up_rec.min(r.replicas);
            }
            if r.at > down_cut {
                down_rec = down_rec.max(r.replicas);
            }
            if r.at < up_cut && r.at < down_cut {
                old = Some(i);
            }
        }
        let mut stabilized = current;
        if stabilized < up_rec {
            stabilized = up_rec;
        }
        if stabilized > down_rec {
            stabilized = down_rec;
        }
        self.record(old, desired, now);
        let note = if stabilized == desired {
            None
        } else if stabilized < desired {
            Some(format!(
                "scale-up stabilized: lowest recommendation in the last {}s is {up_rec} -> {stabilized}",
                num(up)
            ))
        } else {
            Some(format!(
                "scale-down stabilized: highest recommendation in the last {}s is {down_rec} -> {stabilized}",
                num(down)
            ))
        };
        (stabilized, note)
    }

    fn record(&mut self, old: Option<usize>, desired: i64, now: f64) {
        let rec = Recommendation {
            replicas: desired,
            at: now,
        };
        match old {
            Some(i) => self.recommendations[i] = rec,
            None => self.recommendations.push(rec),
        }
    }

    /// Replicas added (or removed) by the events of the last `period` s
    /// (`getReplicasChangePerPeriod`).
    fn change_in(events: &[ScaleEvent], period: f64, now: f64) -> i64 {
        events
            .iter()
            .filter(|e| e.at > now - period)
            .map(|e| e.change)
            .sum()
    }

    /// `calculateScaleUpLimitWithScalingRules` (`up`) or
    /// `calculateScaleDownLimitWithBehaviors`: the limit and the policy that
    /// set it.
    fn rate_limit(&self, rules: &Rules, up: bool, now: f64, current: i64) -> (i64, String) {
        if rules.select == SelectPolicy::Disabled {
            return (current, "selectPolicy Disabled".into());
        }
        // Max picks the largest change: the highest limit up, the lowest down.
        let largest_change = rules.select == SelectPolicy::Max;
        let mut best: Option<(i64, usize, i64)> = None;
        for (i, p) in rules.policies.iter().enumerate() {
            let start = current - Self::change_in(&self.up_events, p.period, now)
                + Self::change_in(&self.down_events, p.period, now);
            let proposed = match (up, p.kind) {
                (true, PolicyType::Pods) => start + p.value as i64,
                (true, PolicyType::Percent) => {
                    (start as f64 * (1.0 + p.value as f64 / 100.0)).ceil() as i64
                }
                (false, PolicyType::Pods) => start - p.value as i64,
                (false, PolicyType::Percent) => {
                    (start as f64 * (1.0 - p.value as f64 / 100.0)) as i64
                }
            };
            let better = match best {
                None => true,
                Some((b, ..)) => {
                    if up == largest_change {
                        proposed > b
                    } else {
                        proposed < b
                    }
                }
            };
            if better {
                best = Some((proposed, i, start));
            }
        }
        let (limit, i, start) = best.expect("validated: at least one policy");
        let mut desc = rules.policies[i].describe();
        if start != current {
            desc = format!("{desc} from {start} at the period start");
        }
        (limit, desc)
    }

    /// `convertDesiredReplicasWithBehaviorRate`: policies, then min/max.
    fn limit_rate(&self, now: f64, current: i64, desired: i64) -> (i64, Option<String>) {
        let Normalization::Behavior { up, down } = &self.normalization else {
            return (desired, None);
        };
        if desired > current {
            let (mut limit, desc) = self.rate_limit(up, true, now, current);
            if limit < current {
                limit = current;
            }
            let (allowed, why) = if self.max > limit {
                (limit, format!("scale-up limited by {desc}"))
            } else {
                (self.max, format!("capped at max {}", self.max))
            };
            if desired > allowed {
                return (allowed, Some(format!("{why} -> {allowed}")));
            }
        } else if desired < current {
            let (mut limit, desc) = self.rate_limit(down, false, now, current);
            if limit > current {
                limit = current;
            }
            let (allowed, why) = if self.min < limit {
                (limit, format!("scale-down limited by {desc}"))
            } else {
                (self.min, format!("raised to min {}", self.min))
            };
            if desired < allowed {
                return (allowed, Some(format!("{why} -> {allowed}")));
            }
        }
        (desired, None)
    }

    /// `normalizeDesiredReplicas` (no behavior): the highest recommendation
    /// of the downscale window (inclusive), then max(2 x current, 4) and
    /// min/max (`convertDesiredReplicasWithRules`).
    fn normalize_legacy(&mut self, now: f64, current: i64, desired: i64) -> (i64, Vec<String>) {
        let window = DEFAULT_DOWNSCALE_STABILIZATION_S;
        let cutoff = now - window;
        let mut highest = desired;
        let mut old = None;
        for (i, r) in self.recommendations.iter().enumerate() {
            if r.at < cutoff {
                old = Some(i);
            } else if r.replicas > highest {
                highest = r.replicas;
            }
        }
        self.record(old, desired, now);
        let mut notes = Vec::new();
        if highest != desired {
            notes.push(format!(
                "stabilized: highest recommendation in the last {}s is {highest}",
                num(window)
            ));
        }
        let scale_up_limit = (2.0 * current as f64).max(4.0) as i64;
        let (max_allowed, why) = if self.max > scale_up_limit {
            (
                scale_up_limit,
                format!(
                    "scale-up limited to max(2 x {current}, 4) = {scale_up_limit} (no behavior)"
                ),
            )
        } else {
            (self.max, format!("capped at max {}", self.max))
        };
        let out = if highest < self.min {
            notes.push(format!("raised to min {} -> {}", self.min, self.min));
            self.min
        } else if highest > max_allowed {
            notes.push(format!("{why} -> {max_allowed}"));
            max_allowed
        } else {
            highest
        };
        (out, notes)
    }

    /// `storeScaleEvent`: the change, reusing a slot outdated by the
    /// direction's longest policy period.
    fn store_event(&mut self, now: f64, prev: i64, new: i64) {
        let Normalization::Behavior { up, down } = &self.normalization else {
            return;
        };
        let (rules, events, change) = if new > prev {
            (up, &mut self.up_events, new - prev)
        } else {
            (down, &mut self.down_events, prev - new)
        };
        let longest = rules.policies.iter().map(|p| p.period).fold(0.0, f64::max);
        let mut slot = None;
        for (i, e) in events.iter_mut().enumerate() {
            if e.at < now - longest {
                e.outdated = true;
            }
            if e.outdated {
                slot = Some(i);
            }
        }
        let event = ScaleEvent {
            change,
            at: now,
            outdated: false,
        };
        match slot {
            Some(i) => events[i] = event,
            None => events.push(event),
        }
    }
}

impl Controller for Hpa {
    fn period_s(&self) -> f64 {
        self.sync_period
    }

    fn metrics(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for m in &self.metrics {
            if !names.contains(&m.name) {
                names.push(m.name.clone());
            }
        }
        names
    }

    fn evaluate(&mut self, obs: &Observation) -> Decision {
        let now = obs.now_s;
        let current = obs.current as i64;
        if !self.started {
            self.started = true;
            self.recommendations.push(Recommendation {
                replicas: current,
                at: now,
            });
        }
        let (desired, reason) = if current == 0 {
            return Decision {
                desired: 0,
                reason: "scaling disabled: the target has 0 replicas".into(),
            };
        } else if current > self.max {
            (
                self.max,
                format!("{current} replicas above max {} -> {}", self.max, self.max),
            )
        } else if current < self.min {
            (
                self.min,
                format!("{current} replicas below min {} -> {}", self.min, self.min),
            )
        } else {
            let (proposal, text) = match self.compute(obs) {
                Ok(x) => x,
                Err(why) => {
                    return Decision {
                        desired: obs.current,
                        reason: why,
                    }
                }
            };
            let mut parts = vec![text];
            let windows = match &self.normalization {
                Normalization::Legacy => None,
                Normalization::Behavior { up, down } => Some((up.window, down.window)),
            };
            let out = match windows {
                None => {
                    let (out, notes) = self.normalize_legacy(now, current, proposal);
                    parts.extend(notes);
                    out
                }
                Some((up, down)) => {
                    let (stabilized, note) = self.stabilize(up, down, now, current, proposal);
                    parts.extend(note);
                    let (out, note) = self.limit_rate(now, current, stabilized);
                    parts.extend(note);
                    out
                }
            };
            (out, parts.join("; "))
        };
        if desired != current {
            self.store_event(now, current, desired);
        }
        Decision {
            desired: desired.clamp(0, u32::MAX as i64) as u32,
            reason,
        }
    }
}

// ---------------------------------------------------------------------------
// HorizontalPodAutoscaler manifests
// ---------------------------------------------------------------------------

/// A Kubernetes quantity as YAML gives it: a number, or a string such as
/// `"500m"`, `"1k"`, `"2Gi"`, `"1.5"`, `"1e3"`.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum QuantityRepr {
    Number(f64),
    Text(String),
}

impl QuantityRepr {
    fn value(&self) -> Result<f64, String> {
        match self {
            QuantityRepr::Number(v) => Ok(*v),
            QuantityRepr::Text(s) => parse_quantity(s),
        }
    }
}

/// Parses a Kubernetes `resource.Quantity` (`<signedNumber><suffix>`):
/// decimal SI suffixes `n u m k M G T P E`, binary `Ki Mi Gi Ti Pi Ei`, or
/// an exponent `e3` / `E-2` (`k8s.io/apimachinery/pkg/api/resource`).
pub fn parse_quantity(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let bad =
        || format!("invalid quantity {s:?}: expected e.g. \"100\", \"500m\", \"1.5k\", \"2Gi\"");
    let end = t
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || ((c == '+' || c == '-') && i == 0)))
        .map(|(i, _)| i)
        .unwrap_or(t.len());
    let (number, suffix) = t.split_at(end);
    if number.is_empty() || !number.chars().any(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let base: f64 = number.parse().map_err(|_| bad())?;
    let scale = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        x if x.len() > 1 && (x.starts_with('e') || x.starts_with('E')) => {
            let exp: i32 = x[1..].parse().map_err(|_| bad())?;
            10f64.powi(exp)
        }
        _ => return Err(bad()),
    };
    Ok(base * scale)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct K8sSpecV2 {
    #[serde(default)]
    min_replicas: Option<i64>,
    max_replicas: i64,
    #[serde(default)]
    metrics: Vec<K8sMetric>,
    #[serde(default)]
    behavior: Option<K8sBehavior>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct K8sSpecV1 {
    #[serde(default)]
    min_replicas: Option<i64>,
    max_replicas: i64,
    #[serde(default, rename = "targetCPUUtilizationPercentage")]
    target_cpu: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct K8sMetric {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    resource: Option<K8sResource>,
    #[serde(default)]
    container_resource: Option<K8sResource>,
    #[serde(default)]
    pods: Option<K8sSource>,
    #[serde(default)]
    object: Option<K8sSource>,
    #[serde(default)]
    external: Option<K8sSource>,
}

#[derive(Deserialize)]
struct K8sResource {
    name: String,
    target: K8sTarget,
}

#[derive(Deserialize)]
struct K8sSource {
    metric: K8sMetricId,
    target: K8sTarget,
}

#[derive(Deserialize)]
struct K8sMetricId {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct K8sTarget {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    average_utilization: Option<i64>,
    #[serde(default)]
    average_value: Option<QuantityRepr>,
    #[serde(default)]
    value: Option<QuantityRepr>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct K8sBehavior {
    #[serde(default)]
    scale_up: Option<K8sRules>,
    #[serde(default)]
    scale_down: Option<K8sRules>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct K8sRules {
    #[serde(default)]
    stabilization_window_seconds: Option<i64>,
    #[serde(default)]
    select_policy: Option<String>,
    #[serde(default)]
    policies: Option<Vec<K8sPolicy>>,
    #[serde(default)]
    tolerance: Option<QuantityRepr>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct K8sPolicy {
    #[serde(rename = "type")]
    kind: String,
    value: i64,
    period_seconds: i64,
}

fn replicas_u32(path: &str, v: i64) -> Result<u32, String> {
    u32::try_from(v).map_err(|_| format!("{path}: expected a replica count >= 0, got {v}"))
}

fn quantity(path: &str, q: &Option<QuantityRepr>) -> Result<Option<f64>, String> {
    q.as_ref()
        .map(|q| q.value().map_err(|e| format!("{path}: {e}")))
        .transpose()
}

fn manifest_metric(i: usize, m: &K8sMetric) -> Result<MetricConfig, String> {
    let path = format!("spec.metrics[{i}]");
    let missing = |f: &str| format!("{path}: type {} needs its `{f}` block", m.kind);
    let (name, source, target, tpath) = match m.kind.as_str() {
        "Resource" | "ContainerResource" => {
            let r = if m.kind == "Resource" {
                m.resource.as_ref().ok_or_else(|| missing("resource"))?
            } else {
                m.container_resource
                    .as_ref()
                    .ok_or_else(|| missing("containerResource"))?
            };
            (r.name.clone(), MetricSource::Resource, &r.target, "resource")
        }
        "Pods" => {
            let s = m.pods.as_ref().ok_or_else(|| missing("pods"))?;
            (s.metric.name.clone(), MetricSource::Pods, &s.target, "pods")
        }
        "Object" => {
            let s = m.object.as_ref().ok_or_else(|| missing("object"))?;
            (s.metric.name.clone(), MetricSource::Object, &s.target, "object")
        }
        "External" => {
            let s = m.external.as_ref().ok_or_else(|| missing("external"))?;
            (s.metric.name.clone(), MetricSource::External, &s.target, "external")
        }
        other => {
            return Err(format!(
                "{path}.type: unsupported metric source type {other:?}: expected Resource, ContainerResource, Pods, Object or External"
            ))
        }
    };
    let tpath = format!("{path}.{tpath}.target");
    let mut out = MetricConfig {
        name,
        source: Some(source),
        utilization: None,
        average_value: None,
        value: None,
    };
    match target.kind.as_str() {
        "Utilization" => {
            let u = target
                .average_utilization
                .ok_or_else(|| format!("{tpath}: type Utilization needs averageUtilization"))?;
            if u < 1 || u > u32::MAX as i64 {
                return Err(format!(
                    "{tpath}.averageUtilization: must be greater than 0, got {u}"
                ));
            }
            out.utilization = Some(u as u32);
        }
        "AverageValue" => {
            out.average_value = Some(
                quantity(&format!("{tpath}.averageValue"), &target.average_value)?
                    .ok_or_else(|| format!("{tpath}: type AverageValue needs averageValue"))?,
            );
        }
        "Value" => {
            out.value = Some(
                quantity(&format!("{tpath}.value"), &target.value)?
                    .ok_or_else(|| format!("{tpath}: type Value needs value"))?,
            );
        }
        other => {
            return Err(format!(
                "{tpath}.type: {other:?} must be Utilization, Value or AverageValue"
            ))
        }
    }
    Ok(out)
}

fn manifest_rules(path: &str, r: &K8sRules) -> Result<ScalingRulesConfig, String> {
    let stabilization = match r.stabilization_window_seconds {
        None => None,
        Some(s) if s >= 0 => Some(Duration(s as f64)),
        Some(s) => {
            return Err(format!(
                "{path}.stabilizationWindowSeconds: must be >= 0, got {s}"
            ))
        }
    };
    let select = match r.select_policy.as_deref() {
        None => None,
        Some("Max") => Some(SelectPolicy::Max),
        Some("Min") => Some(SelectPolicy::Min),
        Some("Disabled") => Some(SelectPolicy::Disabled),
        Some(other) => {
            return Err(format!(
                "{path}.selectPolicy: {other:?} must be Max, Min or Disabled"
            ))
        }
    };
    let policies = match &r.policies {
        None => None,
        Some(ps) => Some(
            ps.iter()
                .enumerate()
                .map(|(i, p)| {
                    let at = format!("{path}.policies[{i}]");
                    let kind = match p.kind.as_str() {
                        "Pods" => PolicyType::Pods,
                        "Percent" => PolicyType::Percent,
                        other => {
                            return Err(format!("{at}.type: {other:?} must be Pods or Percent"))
                        }
                    };
                    if p.value < 1 || p.value > u32::MAX as i64 {
                        return Err(format!(
                            "{at}.value: must be greater than zero, got {}",
                            p.value
                        ));
                    }
                    if p.period_seconds < 1 {
                        return Err(format!(
                            "{at}.periodSeconds: must be greater than zero, got {}",
                            p.period_seconds
                        ));
                    }
                    Ok(ScalingPolicyConfig::new(
                        kind,
                        p.value as u32,
                        p.period_seconds as f64,
                    ))
                })
                .collect::<Result<Vec<_>, String>>()?,
        ),
    };
    Ok(ScalingRulesConfig {
        stabilization,
        select,
        policies,
        tolerance: quantity(&format!("{path}.tolerance"), &r.tolerance)?,
    })
}

impl Hpa {
    /// Reads a real HorizontalPodAutoscaler manifest (YAML; the first
    /// document of `kind: HorizontalPodAutoscaler` in a multi-document
    /// file) into an [`HpaConfig`]. autoscaling/v2 (and v2beta2):
    /// `spec.minReplicas`, `spec.maxReplicas`, `spec.metrics` (Resource and
    /// ContainerResource `cpu` -> metric `cpu`, other resources by their
    /// name; Pods, Object and External by `metric.name`; targets
    /// `averageUtilization`, `averageValue`, `value`, Kubernetes quantities
    /// such as `"500m"` or `"1k"` accepted) and `spec.behavior`
    /// (`stabilizationWindowSeconds`, `selectPolicy`, `policies`,
    /// `tolerance`). A manifest without `spec.behavior` gives
    /// [`BehaviorSpec::Legacy`], the controller's path for such an object.
    /// autoscaling/v1: `targetCPUUtilizationPercentage` (default 80).
    /// Controller flags (sync period, tolerance, ...) keep their defaults.
    /// The result is checked as [`Hpa::new`] checks it.
    pub fn from_manifest(yaml: &str) -> Result<HpaConfig, String> {
        for doc in serde_yaml_ng::Deserializer::from_str(yaml) {
            let v =
                serde_yaml_ng::Value::deserialize(doc).map_err(|e| format!("invalid YAML: {e}"))?;
            if v.get("kind").and_then(|k| k.as_str()) != Some("HorizontalPodAutoscaler") {
                continue;
            }
            let api = v
                .get("apiVersion")
                .and_then(|a| a.as_str())
                .unwrap_or("")
                .to_string();
            let spec = v
                .get("spec")
                .cloned()
                .ok_or_else(|| "HorizontalPodAutoscaler without spec".to_string())?;
            let mut cfg = match api.as_str() {
                "autoscaling/v2" | "autoscaling/v2beta2" => {
                    let s: K8sSpecV2 =
                        serde_yaml_ng::from_value(spec).map_err(|e| format!("spec: {e}"))?;
                    let metrics = s
                        .metrics
                        .iter()
                        .enumerate()
                        .map(|(i, m)| manifest_metric(i, m))
                        .collect::<Result<Vec<_>, String>>()?;
                    let behavior = match &s.behavior {
                        None => BehaviorSpec::Legacy,
                        Some(b) => BehaviorSpec::Rules(BehaviorConfig {
                            scale_up: b
                                .scale_up
                                .as_ref()
                                .map(|r| manifest_rules("spec.behavior.scaleUp", r))
                                .transpose()?,
                            scale_down: b
                                .scale_down
                                .as_ref()
                                .map(|r| manifest_rules("spec.behavior.scaleDown", r))
                                .transpose()?,
                        }),
                    };
                    let mut cfg = HpaConfig::new(
                        replicas_u32("spec.minReplicas", s.min_replicas.unwrap_or(1))?,
                        replicas_u32("spec.maxReplicas", s.max_replicas)?,
                        metrics,
                    );
                    cfg.behavior = Some(behavior);
                    cfg
                }
                "autoscaling/v1" => {
                    let s: K8sSpecV1 =
                        serde_yaml_ng::from_value(spec).map_err(|e| format!("spec: {e}"))?;
                    let target = s.target_cpu.unwrap_or(DEFAULT_CPU_UTILIZATION as i64);
                    if target < 1 || target > u32::MAX as i64 {
                        return Err(format!(
                            "spec.targetCPUUtilizationPercentage: must be greater than 0, got {target}"
                        ));
                    }
                    let mut cfg = HpaConfig::new(
                        replicas_u32("spec.minReplicas", s.min_replicas.unwrap_or(1))?,
                        replicas_u32("spec.maxReplicas", s.max_replicas)?,
                        vec![MetricConfig::utilization(metric::CPU, target as u32)],
                    );
                    cfg.behavior = Some(BehaviorSpec::Legacy);
                    cfg
                }
                other => {
                    return Err(format!(
                        "apiVersion {other:?}: expected autoscaling/v2 (or autoscaling/v2beta2, autoscaling/v1)"
                    ))
                }
            };
            cfg.policy = Some("hpa".into());
            cfg.check()
                .map_err(|(field, message)| format!("{field}: {message}"))?;
            return Ok(cfg);
        }
        Err("no HorizontalPodAutoscaler in the manifest (expected a document with kind: HorizontalPodAutoscaler)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_parse_like_resource_quantity() {
        assert_eq!(parse_quantity("500m").unwrap(), 0.5);
        assert_eq!(parse_quantity("1k").unwrap(), 1000.0);
        assert_eq!(parse_quantity("1.5").unwrap(), 1.5);
        assert_eq!(parse_quantity("2Ki").unwrap(), 2048.0);
        assert_eq!(parse_quantity("1e3").unwrap(), 1000.0);
        assert_eq!(parse_quantity("1E-2").unwrap(), 0.01);
        assert_eq!(parse_quantity("3M").unwrap(), 3e6);
        assert_eq!(parse_quantity("100").unwrap(), 100.0);
        for bad in ["", "m", "5 pods", "1x", "1.2.3", "e3"] {
            assert!(parse_quantity(bad).is_err(), "{bad:?} should fail");
        }
    }

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

    #[test]
    fn default_metric_is_cpu_at_80_percent() {
        let h = Hpa::new(&HpaConfig::new(1, 10, vec![])).unwrap();
        assert_eq!(h.metrics(), vec!["cpu".to_string()]);
        assert_eq!(h.metrics[0].target, Target::Utilization(80));
    }
}
