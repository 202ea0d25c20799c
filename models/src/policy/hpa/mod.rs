//! The Kubernetes HorizontalPodAutoscaler (autoscaling/v2) as a pure
//! controller: the same replica proposals, stabilization windows, scaling
//! policies and bounds as kube-controller-manager's `podautoscaler`
//! package, evaluated every sync period on an
//! [`Observation`](crate::policy::Observation).
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
//! The pool's `cpu` metric is computing slots over slots (the CPU, not
//! counting a blocking thread's waits on its calls), a 0..1 fraction of
//! the request: `utilization = 60` targets 0.6. Per-pod CPU is taken as usage
//! of a 1000m request, so the controller's integer arithmetic (percent
//! truncated, milli-values rounded up) is kept.
//!
//! ## Files
//!
//! - `config.rs`: the `[autoscaler.<pool>]` table (spec and controller
//!   flags);
//! - `validate.rs`: the table checked as the API server validates it, and
//!   merged over the API defaults;
//! - `replicas.rs`: the replica calculator (per-metric proposals, the
//!   tolerance, several metrics);
//! - `behavior.rs`: stabilization windows, scaling policies (rate limits),
//!   the legacy path without `behavior`;
//! - `controller.rs`: one sync of the controller (`reconcileAutoscaler`);
//! - `manifest.rs`: real HorizontalPodAutoscaler YAML manifests.

mod behavior;
mod config;
mod controller;
mod manifest;
mod replicas;
mod validate;

pub use config::{
    BehaviorConfig, BehaviorSpec, HpaConfig, MetricConfig, MetricSource, PolicyType,
    ScalingPolicyConfig, ScalingRulesConfig, SelectPolicy,
};
pub use manifest::{parse_quantity, ManifestError};

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
// The controller's state
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
