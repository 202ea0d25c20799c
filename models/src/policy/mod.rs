//! # Scaling policies
//!
//! The autoscaler interface (this file): what a scaling policy sees at an
//! evaluation and what it decides. Policies are pure state machines over
//! these values, so the same code runs inside a simulation (fed by the
//! metrics pipeline of a pool) and in `scalesim replay-policy` (fed by a
//! recorded metrics CSV), and can be tested against the documented
//! behaviour of the real controllers without a simulation.
//!
//! The policies, one module each:
//!
//! - [`hpa`]: the Kubernetes HorizontalPodAutoscaler (autoscaling/v2);
//! - [`aws`]: AWS simple, step and target-tracking scaling, driven by a
//!   model of the CloudWatch alarm;
//! - [`schedule`]: static and scheduled (clock-driven) capacity;
//! - [`predictive`]: seasonal-naive forecast, provisioned ahead;
//! - [`vpa`]: the Kubernetes VerticalPodAutoscaler (CPU requests);
//! - [`zero`]: an HPA that scales to zero and back, as KEDA does;
//! - [`combined`]: several of these on one fleet, by the AWS and
//!   Kubernetes rules.

pub mod aws;
pub mod combined;
pub mod hpa;
pub mod predictive;
pub mod schedule;
pub mod vpa;
pub mod zero;

// ---------------------------------------------------------------------------
// Shared by the policies' configurations
// ---------------------------------------------------------------------------

/// A configuration error at `field` (a path below `[autoscaler.<pool>]`,
/// which the scenario loader turns into a file position): the
/// `Err((field, message))` every policy's check returns.
pub(crate) fn issue<T>(
    field: impl Into<String>,
    message: impl Into<String>,
) -> Result<T, (String, String)> {
    Err((field.into(), message.into()))
}

/// Default minimum capacity: 1.
pub(crate) fn one() -> u32 {
    1
}

/// Default evaluation (alarm, schedule) period: 60 s.
pub(crate) fn minute() -> crate::units::Duration {
    crate::units::Duration(60.0)
}

/// Metric names without repeats, in first-seen order (what a policy asks
/// the pipeline for).
pub(crate) fn unique(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for n in names {
        if !v.contains(&n) {
            v.push(n);
        }
    }
    v
}

/// Well-known metric names a pool publishes to its autoscaler.
pub mod metric {
    /// Computing slots / slots over ready instances, 0..1: the CPU, as a
    /// pod's usage of its request (a blocking thread awaiting a call is
    /// not computing).
    pub const CPU: &str = "cpu";
    /// Busy slots / slots over ready instances, 0..1: threads held
    /// (`io = "blocking"`, through their calls) or cores computing
    /// (`io = "async"`).
    pub const BUSY: &str = "busy";
    /// Completed requests per second per ready instance.
    pub const RPS: &str = "rps";
    /// Requests waiting in the queue per ready instance.
    pub const QUEUE: &str = "queue";
    /// Requests waiting in the queue (whole pool).
    pub const QUEUE_TOTAL: &str = "queue_total";
    /// Requests arriving per second (whole pool: it exists at zero
    /// instances, as KEDA's and Knative's request counts do).
    pub const ARRIVALS: &str = "arrivals";
    /// Requests in flight (queued or served) per ready instance.
    pub const IN_FLIGHT: &str = "in_flight";
    /// p99 response time of the pool over the metric period, seconds.
    pub const P99: &str = "p99";
    /// Mean response time over the metric period, seconds.
    pub const LATENCY: &str = "latency";
    /// Pools with `memory`: memory in use / the memory request over ready
    /// instances (sampled at the evaluation, as a pod's working set is).
    pub const MEMORY: &str = "memory";
    /// LLM components: share of KV-cache blocks in use, 0..1.
    pub const KV: &str = "kv";
    /// LLM components: output tokens per second per ready replica.
    pub const TOKENS: &str = "tokens";
    /// LLM and batch components: mean requests per step while stepping.
    pub const BATCH: &str = "batch";

    /// True for the metrics that are shares of a whole (0..1): a target or
    /// threshold above 1 on them is a percent written as a number (AWS's
    /// own `CPUUtilization` is in percent: `threshold = 70` is copied
    /// from it), refused with the fraction it likely means.
    pub fn is_share(name: &str) -> bool {
        name == CPU || name == BUSY || name == KV || name == MEMORY
    }
    /// True for the latency metrics (seconds).
    pub fn is_latency(name: &str) -> bool {
        name == P99 || name == LATENCY
    }

    /// A bare number of seconds at or above this for a latency level is
    /// refused as milliseconds written without their unit (as for the SLO
    /// bounds, CONTRACT.md §4).
    const BARE_SECONDS_LIMIT: f64 = 10.0;

    /// Checks that `level`, the `field` a policy compares metric `name`
    /// with, is in the metric's unit; the message says what to write. A
    /// share takes a fraction or a percent (a number above 1 is a percent
    /// without its sign); a latency a duration or seconds (a bare number of
    /// 10 or more is milliseconds without their unit); a count or rate a
    /// number. Metrics not listed here (custom ratios) take any number or
    /// percent.
    pub fn check_level(name: &str, field: &str, level: crate::units::Level) -> Result<(), String> {
        use crate::units::Written;
        let v = level.value;
        if is_share(name) {
            return match level.written {
                Written::Number if v > 1.0 => Err(format!(
                    "{}; {name} is a share of a whole, as a fraction",
                    crate::units::above_one(field, v)
                )),
                Written::Duration => Err(format!(
                    "{field}: {name} is a share of a whole, not a duration: write a fraction (0.7) or a percent (\"70%\")"
                )),
                _ => Ok(()),
            };
        }
        if is_latency(name) {
            return match level.written {
                Written::Number if v >= BARE_SECONDS_LIMIT => Err(format!(
                    "{field} = {v} means {v} seconds of {name}; write \"{v}ms\" for milliseconds, or \"{v}s\" if seconds are meant"
                )),
                Written::Percent => Err(format!(
                    "{field}: {name} is a latency, not a share: write a duration such as \"300ms\""
                )),
                _ => Ok(()),
            };
        }
        let known = POOL.contains(&name) || [TOKENS, BATCH].contains(&name);
        match level.written {
            Written::Duration => Err(format!(
                "{field}: a duration is for the latency metrics ({P99}, {LATENCY}); {name} is a {}: write a number",
                if known { "count or rate" } else { "custom metric" }
            )),
            Written::Percent if known => Err(format!(
                "{field}: a percent is for the share metrics ({CPU}, {KV}); {name} is a count or rate: write a number"
            )),
            _ => Ok(()),
        }
    }

    /// Every metric a pool publishes.
    pub const POOL: [&str; 9] = [
        CPU,
        BUSY,
        RPS,
        QUEUE,
        QUEUE_TOTAL,
        ARRIVALS,
        IN_FLIGHT,
        LATENCY,
        P99,
    ];

    /// True for the metrics that exist when a pool has no instance (whole
    /// pool counts, and custom metrics, which the user defines).
    pub fn without_instances(name: &str) -> bool {
        name == QUEUE_TOTAL || name == ARRIVALS || !(POOL.contains(&name) || name == MEMORY)
    }
}

/// One metric at an evaluation: its value averaged over ready instances
/// (or a pool-wide value, by the metric's definition), or None when no
/// datapoint is available (no ready instance, or not yet reported).
#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    /// Metric name (see [`metric`]).
    pub name: String,
    /// The value, or None when missing.
    pub value: Option<f64>,
}

/// One instance (pod) as the Kubernetes HPA sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Pod {
    /// Passed its readiness check.
    pub ready: bool,
    /// Seconds since the pod started (for the HPA's CPU initialization
    /// period and initial readiness delay).
    pub age_s: f64,
    /// Per-metric values of this pod, in the order of
    /// [`Observation::metrics`]; None when the pod has no sample.
    pub values: Vec<Option<f64>>,
    /// Its CPU request in cores (an async pool's cores per instance; 1
    /// when not known, as in a replayed file).
    pub cores: u32,
}

/// Everything a policy is told at one evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation<'a> {
    /// Seconds since the start of the run (or of the recorded timeline).
    pub now_s: f64,
    /// Current desired capacity (replicas as specified now, including those
    /// still provisioning).
    pub current: u32,
    /// Instances ready to serve.
    pub ready: u32,
    /// Metrics, averaged over ready instances.
    pub metrics: &'a [Metric],
    /// Per-pod detail (may be empty: then policies use `metrics`).
    pub pods: &'a [Pod],
}

impl Observation<'_> {
    /// The value of metric `name`, if present and available.
    pub fn metric(&self, name: &str) -> Option<f64> {
        self.metrics
            .iter()
            .find(|m| m.name == name)
            .and_then(|m| m.value)
    }
}

/// What a policy decided at one evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// The capacity the policy wants now (equal to `current`: no change).
    pub desired: u32,
    /// Why, in words a person reads in `scaling_events.csv` or
    /// `replay-policy` output: the metric and value that drove the
    /// proposal, and which rule (tolerance, cooldown, stabilization window,
    /// behavior policy, min/max bound) limited it.
    pub reason: String,
}

/// What a vertical policy decided at one evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct Resize {
    /// Cores per instance that new instances get.
    pub cores: u32,
    /// Pods to evict now (indices into [`Observation::pods`]): each is
    /// drained and replaced by one of the new size.
    pub evict: Vec<usize>,
    /// Why, for `scaling_events.csv` (empty: nothing to say).
    pub reason: String,
}

/// A scaling policy: evaluated every [`Controller::period_s`] seconds.
pub trait Controller {
    /// Seconds between evaluations (HPA sync period, alarm period, ...).
    fn period_s(&self) -> f64;

    /// The metric names this policy reads (so the pipeline computes them).
    fn metrics(&self) -> Vec<String>;

    /// Decides the desired capacity at one evaluation.
    fn evaluate(&mut self, obs: &Observation) -> Decision;

    /// For vertical policies ([`vpa`]): the size new instances get and the
    /// pods to replace now, decided after [`Controller::evaluate`] at the
    /// same evaluation.
    fn resize(&mut self, _obs: &Observation) -> Option<Resize> {
        None
    }

    /// For forecasting policies: the load (requests/s) forecast for the
    /// time of the last evaluation, to draw against the actual load.
    fn forecast(&self) -> Option<f64> {
        None
    }
}

/// A policy as configured under `[autoscaler.<pool>]`, picked by its
/// `policy` field.
#[derive(Clone, Debug, PartialEq)]
pub enum PolicyConfig {
    /// `policy = "static"`.
    Static(schedule::StaticConfig),
    /// `policy = "scheduled"`.
    Scheduled(schedule::ScheduledConfig),
    /// `policy = "hpa"`: Kubernetes HorizontalPodAutoscaler.
    Hpa(hpa::HpaConfig),
    /// `policy = "simple"`: AWS simple scaling.
    Simple(aws::SimpleConfig),
    /// `policy = "step"`: AWS step scaling.
    Step(aws::StepConfig),
    /// `policy = "target"`: AWS target tracking.
    Target(aws::TargetConfig),
    /// `policy = "predictive"`: seasonal forecast, provisioned ahead.
    Predictive(predictive::PredictiveConfig),
    /// `policy = "hpa"` with `manifest = "<file>.yaml"`: the scenario
    /// loader reads the manifest and replaces this with [`PolicyConfig::Hpa`].
    /// The manifest's path, and `metric_names`: the scalesim metric each
    /// of its Pods, Object or External metric names stands for.
    HpaManifest(String, std::collections::BTreeMap<String, String>),
    /// `policy = "manual"`: operator actions at given times.
    Manual(schedule::ManualConfig),
    /// `policy = "combined"`: several policies on one fleet.
    Combined(combined::CombinedConfig),
    /// `policy = "vpa"`: Kubernetes VerticalPodAutoscaler.
    Vpa(vpa::VpaConfig),
}

/// The `policy` names this version knows.
pub const POLICIES: &[&str] = &[
    "static",
    "scheduled",
    "hpa",
    "simple",
    "step",
    "target",
    "predictive",
    "manual",
    "combined",
    "vpa",
];

impl PolicyConfig {
    /// Every capacity this policy may set, with its field path (checked
    /// against [`crate::limits::MAX_INSTANCES`]).
    pub fn capacities(&self) -> Vec<(String, u32)> {
        let group = |min: u32, max: u32| vec![("min".to_string(), min), ("max".to_string(), max)];
        match self {
            PolicyConfig::Static(_) | PolicyConfig::HpaManifest(..) | PolicyConfig::Vpa(_) => {
                Vec::new()
            }
            PolicyConfig::Scheduled(c) => {
                let mut v = vec![
                    ("capacity".to_string(), c.capacity),
                    ("off_hours".to_string(), c.off_hours),
                ];
                for (i, o) in c.overrides.iter().enumerate() {
                    v.push((format!("overrides.{i}.capacity"), o.capacity));
                }
                v
            }
            PolicyConfig::Hpa(c) => group(c.min, c.max),
            PolicyConfig::Simple(c) => group(c.min, c.max),
            PolicyConfig::Step(c) => group(c.min, c.max),
            PolicyConfig::Target(c) => group(c.min, c.max),
            PolicyConfig::Predictive(c) => group(c.min, c.max),
            PolicyConfig::Manual(c) => c
                .actions
                .iter()
                .enumerate()
                .map(|(i, a)| (format!("actions.{i}.instances"), a.instances))
                .collect(),
            PolicyConfig::Combined(c) => c
                .policies
                .iter()
                .enumerate()
                .flat_map(|(i, p)| {
                    p.capacities()
                        .into_iter()
                        .map(move |(f, v)| (format!("policies.{i}.{f}"), v))
                })
                .collect(),
        }
    }

    /// The longest span of past evaluations the policy keeps and scans at
    /// every evaluation (stabilization windows, warm-ups and cooldowns, a
    /// forecasting season), seconds; with the evaluation spacing it bounds
    /// the work of an evaluation ([`crate::limits::MAX_HISTORY`]).
    /// Returns (what the span is, seconds).
    pub fn history_s(&self) -> (&'static str, f64) {
        match self {
            PolicyConfig::Static(_) | PolicyConfig::HpaManifest(..) => ("period", 0.0),
            PolicyConfig::Scheduled(_) | PolicyConfig::Manual(_) => ("period", 0.0),
            PolicyConfig::Vpa(_) => ("period", 0.0),
            PolicyConfig::Combined(c) => c
                .policies
                .iter()
                .map(|p| p.history_s())
                .fold(("period", 0.0), |a, b| if b.1 > a.1 { b } else { a }),
            // The validated bounds of every HPA window and policy period.
            PolicyConfig::Hpa(_) => (
                "stabilization windows",
                hpa::MAX_STABILIZATION_S.max(hpa::MAX_POLICY_PERIOD_S),
            ),
            PolicyConfig::Simple(c) => ("cooldown", c.cooldown.secs()),
            PolicyConfig::Step(c) => ("warmup", c.warmup.secs()),
            PolicyConfig::Target(c) => (
                "warmup",
                c.warmup
                    .secs()
                    .max(c.scale_in_cooldown.map_or(0.0, |d| d.secs())),
            ),
            PolicyConfig::Predictive(c) => ("season", c.season.secs() + 3600.0 + c.period.secs()),
        }
    }

    /// Builds the controller (None for `static`); `Err((field, message))`.
    pub fn build(
        &self,
        cal: &crate::traffic::calendar::Calendar,
    ) -> Result<Option<Box<dyn Controller>>, (String, String)> {
        Ok(match self {
            PolicyConfig::Static(_) => None,
            PolicyConfig::Scheduled(c) => Some(Box::new(schedule::Scheduled::new(c, cal)?)),
            PolicyConfig::Hpa(c) => Some(zero::hpa(c)?),
            PolicyConfig::Simple(c) => Some(Box::new(aws::Simple::new(c)?)),
            PolicyConfig::Step(c) => Some(Box::new(aws::Step::new(c)?)),
            PolicyConfig::Target(c) => Some(Box::new(aws::TargetTracking::new(c)?)),
            PolicyConfig::Predictive(c) => Some(Box::new(predictive::Predictive::new(c)?)),
            PolicyConfig::Manual(c) => Some(Box::new(schedule::Manual::new(c, cal)?)),
            PolicyConfig::Combined(c) => Some(Box::new(combined::Combined::new(c, cal)?)),
            PolicyConfig::Vpa(c) => Some(Box::new(vpa::Vpa::new(c)?)),
            PolicyConfig::HpaManifest(..) => {
                return issue("manifest", "the manifest was not loaded");
            }
        })
    }
}
