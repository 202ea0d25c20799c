//! AWS EC2 Auto Scaling dynamic scaling policies as pure controllers:
//! `simple` scaling (with cooldown), `step` scaling (step adjustments,
//! instance warm-up) and `target` tracking, all driven by a model of the
//! CloudWatch metric alarm that invokes them.
//!
//! Sources, followed rule by rule (each rule is cited where it is coded):
//!
//! - *Amazon EC2 Auto Scaling User Guide*, "Step and simple scaling
//!   policies" (`as-scaling-simple-step`): step adjustments and how their
//!   bounds are matched, the adjustment types `ChangeInCapacity`,
//!   `ExactCapacity`, `PercentChangeInCapacity` and its rounding,
//!   `MinAdjustmentMagnitude`, instance warm-up, the worked example with a
//!   50 % threshold on 10 instances;
//! - the same guide, "Scaling cooldowns" (`Cooldown`): the cooldown of
//!   simple policies, its 300 s default, and that it starts when the
//!   scaling activity has completed;
//! - the same guide, "Target tracking scaling policies" and the
//!   *Application Auto Scaling User Guide*, "Target tracking scaling
//!   policies": aggressive scale-out, gradual scale-in only once the metric
//!   is "usually more than 10% lower" than the target, no scale-in on
//!   insufficient data, `DisableScaleIn`, the scale-in cooldown;
//! - *Amazon CloudWatch User Guide*, "Using Amazon CloudWatch alarms":
//!   period, evaluation periods, datapoints to alarm ("M out of N"), the
//!   four treatments of missing data and their tables, and that "for Amazon
//!   EC2 Auto Scaling actions, the alarm continues to invoke the action for
//!   every period that the alarm remains in the new state";
//! - *EC2 Auto Scaling API Reference*, `StepAdjustment` (the validation
//!   rules of step intervals) and `PutScalingPolicy`
//!   (`MinAdjustmentMagnitude`, `MetricAggregationType`).
//!
//! One evaluation of a controller is one alarm period: the caller passes
//! the metric already averaged over the period (`Observation::metrics`), and
//! each alarm takes it as its next datapoint (None: a missing datapoint).
//!
//! In the Observation, `current` is what AWS calls the *desired capacity*
//! (instances requested, provisioning included) and AWS's *current
//! capacity* (in service and past warm-up) is derived from it: instances
//! not `ready`, and instances this controller launched less than `warmup`
//! ago, are warming.
//!
//! ## Scenario shapes
//!
//! ```toml
//! [autoscaler.api]                 # simple: one alarm ...
//! policy = "simple"
//! min = 2
//! max = 20
//! metric = "cpu"
//! comparison = ">="
//! threshold = 0.7
//! evaluation_periods = 3           # N (default 1)
//! datapoints_to_alarm = 2          # M (default N)
//! adjustment = { type = "percent", value = 30, min_adjustment_magnitude = 2 }
//! cooldown = "300s"
//!
//! [autoscaler.web]                 # ... or the usual pair
//! policy = "simple"
//! max = 20
//! scale_out = { metric = "cpu", comparison = ">=", threshold = 0.7, adjustment = { type = "change", value = 2 } }
//! scale_in  = { metric = "cpu", comparison = "<=", threshold = 0.3, adjustment = { type = "change", value = -1 }, cooldown = "180s" }
//!
//! [autoscaler.db]                  # step scaling
//! policy = "step"
//! max = 40
//! warmup = "300s"
//! scale_out = { metric = "cpu", comparison = ">=", threshold = 0.5, adjustment_type = "percent", steps = [
//!     { lower = 0.0, upper = 0.1, change = 10 },
//!     { lower = 0.1, upper = 0.2, change = 20 },
//!     { lower = 0.2, change = 30 } ] }
//! scale_in = { metric = "cpu", comparison = "<=", threshold = 0.3, steps = [{ upper = 0.0, change = -1 }] }
//!
//! [autoscaler.gpu]                 # target tracking
//! policy = "target"
//! metric = "cpu"
//! target = 0.5
//! max = 50
//! warmup = "300s"
//! ```

use crate::policy::{Controller, Decision, Observation};
use crate::units::Duration;
use serde::Deserialize;
use std::collections::VecDeque;
use std::fmt;

// ---------------------------------------------------------------------------
// CloudWatch alarm
// ---------------------------------------------------------------------------

/// The comparison operator of a CloudWatch alarm (`ComparisonOperator`):
/// `">"`, `">="`, `"<"`, `"<="`, or the AWS names
/// (`GreaterThanOrEqualToThreshold`, ...). A datapoint *breaches* when
/// `value <op> threshold`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum Comparison {
    /// `>`: `GreaterThanThreshold`.
    #[serde(rename = ">", alias = "GreaterThanThreshold")]
    Greater,
    /// `>=`: `GreaterThanOrEqualToThreshold`.
    #[serde(rename = ">=", alias = "GreaterThanOrEqualToThreshold")]
    GreaterOrEqual,
    /// `<`: `LessThanThreshold`.
    #[serde(rename = "<", alias = "LessThanThreshold")]
    Less,
    /// `<=`: `LessThanOrEqualToThreshold`.
    #[serde(rename = "<=", alias = "LessThanOrEqualToThreshold")]
    LessOrEqual,
}

impl Comparison {
    /// Whether `value` breaches `threshold`.
    pub fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::Greater => value > threshold,
            Comparison::GreaterOrEqual => value >= threshold,
            Comparison::Less => value < threshold,
            Comparison::LessOrEqual => value <= threshold,
        }
    }

    /// True for `>` and `>=` (the alarm watches for high values).
    pub fn is_high(self) -> bool {
        matches!(self, Comparison::Greater | Comparison::GreaterOrEqual)
    }

    /// The operator as written in a scenario.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Greater => ">",
            Comparison::GreaterOrEqual => ">=",
            Comparison::Less => "<",
            Comparison::LessOrEqual => "<=",
        }
    }
}

/// How an alarm treats missing datapoints (`TreatMissingData`), CloudWatch
/// User Guide, "Configuring how CloudWatch alarms treat missing data".
/// The default is `missing`.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MissingData {
    /// "The alarm does not consider missing data points when evaluating
    /// whether to change state" (the default).
    #[default]
    Missing,
    /// Missing datapoints are treated as breaching the threshold.
    Breaching,
    /// Missing datapoints are treated as within the threshold.
    #[serde(alias = "notBreaching")]
    NotBreaching,
    /// The current alarm state is maintained.
    Ignore,
}

/// How a step policy aggregates the alarm's datapoints into the one value
/// it matches against the step intervals (`MetricAggregationType`; API
/// default `Average`).
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Aggregation {
    /// Mean of the datapoints.
    #[default]
    #[serde(alias = "Average")]
    Average,
    /// Smallest datapoint.
    #[serde(alias = "Minimum")]
    Minimum,
    /// Largest datapoint.
    #[serde(alias = "Maximum")]
    Maximum,
}

/// The state of a CloudWatch metric alarm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlarmState {
    /// Within the threshold.
    Ok,
    /// Outside the threshold: the scaling policy is invoked, once per
    /// period for as long as the state lasts.
    Alarm,
    /// The alarm has just started or has too few datapoints.
    InsufficientData,
}

impl fmt::Display for AlarmState {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
        })
    }
}

/// A CloudWatch metric alarm fed one datapoint per period.
///
/// Evaluation follows the CloudWatch User Guide, "Evaluating an alarm" and
/// "How alarm state is evaluated when data is missing": the alarm looks at
/// an *evaluation range* of recent periods, larger than the `N` evaluation
/// periods (this model uses `N + 2`, the 5 periods of the guide's tables
/// for `N = 3`). When the range holds at least `N` real datapoints, the
/// `N` most recent are evaluated and the alarm is in ALARM when at least
/// `M` of them breach ("the breaching data points do not have to be
/// consecutive"). With fewer, missing datapoints are filled "as few times
/// as possible" according to [`MissingData`]; with `missing` and `ignore`,
/// the guide's tables are reproduced by: ALARM if `M` real datapoints
/// breach, OK if a real datapoint does not breach, otherwise
/// INSUFFICIENT_DATA (`missing`; or ALARM when "the oldest evaluated data
/// point is breaching and there aren't any non-breaching data points") or
/// the previous state (`ignore`).
#[derive(Clone, Debug)]
pub struct Alarm {
    metric: String,
    comparison: Comparison,
    threshold: f64,
    evaluation_periods: usize,
    datapoints_to_alarm: usize,
    missing: MissingData,
    range: VecDeque<Option<f64>>,
    state: AlarmState,
    evaluated: Vec<f64>,
    breaching: usize,
}

impl Alarm {
    /// An alarm on `metric` breaching when `value <comparison> threshold`
    /// in `datapoints_to_alarm` (M) of `evaluation_periods` (N) datapoints.
    /// It starts in INSUFFICIENT_DATA, like a new CloudWatch alarm.
    pub fn new(
        metric: &str,
        comparison: Comparison,
        threshold: f64,
        evaluation_periods: u32,
        datapoints_to_alarm: u32,
        missing: MissingData,
    ) -> Self {
        let n = evaluation_periods.max(1) as usize;
        Alarm {
            metric: metric.to_string(),
            comparison,
            threshold,
            evaluation_periods: n,
            datapoints_to_alarm: (datapoints_to_alarm.max(1) as usize).min(n),
            missing,
            range: VecDeque::with_capacity(n + 2),
            state: AlarmState::InsufficientData,
            evaluated: Vec::with_capacity(n),
            breaching: 0,
        }
    }

    /// The metric the alarm watches.
    pub fn metric(&self) -> &str {
        &self.metric
    }

    /// The alarm threshold.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The comparison operator.
    pub fn comparison(&self) -> Comparison {
        self.comparison
    }

    /// Periods of the evaluation range (`N + 2`).
    fn range_len(&self) -> usize {
        self.evaluation_periods + 2
    }

    /// Takes the datapoint of one more period (None or a non-finite value:
    /// missing) and returns the new state.
    pub fn observe(&mut self, value: Option<f64>) -> AlarmState {
        let value = value.filter(|v| v.is_finite());
        if self.range.len() == self.range_len() {
            self.range.pop_front();
        }
        self.range.push_back(value);
        let (n, m) = (self.evaluation_periods, self.datapoints_to_alarm);
        let existing: Vec<f64> = self.range.iter().flatten().copied().collect();
        let skip = existing.len().saturating_sub(n);
        self.evaluated.clear();
        self.evaluated.extend_from_slice(&existing[skip..]);
        let breaching = |v: &f64| self.comparison.breaches(*v, self.threshold);
        let b = self.evaluated.iter().filter(|v| breaching(v)).count();
        let some_ok = self.evaluated.iter().any(|v| !breaching(v));
        self.breaching = b;
        self.state = if self.evaluated.len() >= n {
            // Enough real datapoints: "CloudWatch evaluates the alarm state
            // based on the most recent existing data points".
            if b >= m {
                AlarmState::Alarm
            } else {
                AlarmState::Ok
            }
        } else {
            let fill = n - self.evaluated.len();
            match self.missing {
                MissingData::Breaching => {
                    self.breaching = b + fill;
                    if b + fill >= m {
                        AlarmState::Alarm
                    } else {
                        AlarmState::Ok
                    }
                }
                MissingData::NotBreaching => {
                    if b >= m {
                        AlarmState::Alarm
                    } else {
                        AlarmState::Ok
                    }
                }
                MissingData::Missing | MissingData::Ignore => {
                    if b >= m {
                        AlarmState::Alarm
                    } else if some_ok {
                        AlarmState::Ok
                    } else if self.missing == MissingData::Ignore {
                        self.state
                    } else {
                        let oldest_breaching = self.range.len() == self.range_len()
                            && self.range[0].is_some_and(|v| breaching(&v));
                        if oldest_breaching {
                            AlarmState::Alarm
                        } else {
                            AlarmState::InsufficientData
                        }
                    }
                }
            }
        };
        self.state
    }

    /// The state after the last datapoint.
    pub fn state(&self) -> AlarmState {
        self.state
    }

    /// The real datapoints of the last evaluation, oldest first (at most N).
    pub fn evaluated(&self) -> &[f64] {
        &self.evaluated
    }

    /// How many evaluated datapoints breached (missing ones filled as
    /// breaching included).
    pub fn breaching(&self) -> usize {
        self.breaching
    }

    /// The most recent real datapoint of the evaluation range.
    pub fn latest(&self) -> Option<f64> {
        self.range.iter().rev().flatten().next().copied()
    }

    /// The evaluated datapoints aggregated (None when there are none).
    pub fn aggregate(&self, how: Aggregation) -> Option<f64> {
        let d = &self.evaluated;
        if d.is_empty() {
            return None;
        }
        Some(match how {
            Aggregation::Average => d.iter().sum::<f64>() / d.len() as f64,
            Aggregation::Minimum => d.iter().copied().fold(f64::INFINITY, f64::min),
            Aggregation::Maximum => d.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        })
    }

    /// "cpu 0.82 >= 0.7 (3 of 3)": the value that drove a decision.
    fn describe(&self, value: f64, aggregated: bool) -> String {
        let agg = if aggregated && self.evaluated.len() > 1 {
            "avg "
        } else {
            ""
        };
        format!(
            "{} {}{} {} {} ({} of {})",
            self.metric,
            agg,
            num(value),
            self.comparison.symbol(),
            num(self.threshold),
            self.breaching,
            self.evaluation_periods
        )
    }

    /// "scale_out alarm OK (0 of 3 >= 0.7)": why an alarm did not act.
    fn status(&self, name: &str) -> String {
        format!(
            "{name} alarm {} ({} of {} {} {}, {} needed)",
            self.state,
            self.breaching,
            self.evaluation_periods,
            self.comparison.symbol(),
            num(self.threshold),
            self.datapoints_to_alarm
        )
    }
}

// ---------------------------------------------------------------------------
// Adjustments
// ---------------------------------------------------------------------------

/// How a simple or step policy's scaling adjustment is read
/// (`AdjustmentType`): `"change"` / `ChangeInCapacity`, `"percent"` /
/// `PercentChangeInCapacity`, `"exact"` / `ExactCapacity`.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum AdjustmentType {
    /// Add the value to the capacity (negative: remove).
    #[default]
    #[serde(rename = "change", alias = "ChangeInCapacity")]
    ChangeInCapacity,
    /// Add this percentage of the capacity, rounded by
    /// [`round_percent_change`].
    #[serde(rename = "percent", alias = "PercentChangeInCapacity")]
    PercentChangeInCapacity,
    /// Set the capacity to the value.
    #[serde(rename = "exact", alias = "ExactCapacity")]
    ExactCapacity,
}

impl fmt::Display for AdjustmentType {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            AdjustmentType::ChangeInCapacity => "ChangeInCapacity",
            AdjustmentType::PercentChangeInCapacity => "PercentChangeInCapacity",
            AdjustmentType::ExactCapacity => "ExactCapacity",
        })
    }
}

/// Rounds a `PercentChangeInCapacity` result to whole instances as the EC2
/// Auto Scaling User Guide ("Scaling adjustment types") states: values
/// greater than 1 are rounded down (12.7 -> 12), values between 0 and 1
/// are rounded to 1 (0.67 -> 1), values between 0 and -1 are rounded to -1
/// (-0.58 -> -1), values less than -1 are rounded up (-6.67 -> -6): toward
/// zero, but never to zero.
pub fn round_percent_change(raw: f64) -> i64 {
    if raw == 0.0 || !raw.is_finite() {
        0
    } else if raw > 0.0 && raw < 1.0 {
        1
    } else if raw < 0.0 && raw > -1.0 {
        -1
    } else {
        raw.trunc() as i64
    }
}

/// The change in capacity of a `ChangeInCapacity` or
/// `PercentChangeInCapacity` adjustment of `value` applied to `base`
/// instances, with `MinAdjustmentMagnitude` ("the minimum number of
/// instances to scale"; 25 % of 4 is 1, with a minimum of 2 "there are 2
/// instances added"), and the words that explain it.
fn change_of(kind: AdjustmentType, value: i32, min_mag: Option<u32>, base: u32) -> (i64, String) {
    match kind {
        AdjustmentType::PercentChangeInCapacity => {
            let raw = base as f64 * value as f64 / 100.0;
            let mut d = round_percent_change(raw);
            let mut s = format!("{kind} {}% of {base} = {}", signed(value as f64), num(raw));
            if raw != d as f64 {
                s += &format!(" -> {}", signed(d as f64));
            }
            if let Some(m) = min_mag {
                let m = m as i64;
                // A zero-percent step never scales; any other step moves by
                // at least the minimum magnitude.
                if value != 0 && d.abs() < m {
                    d = m * value.signum() as i64;
                    s += &format!(", min magnitude {m} -> {}", signed(d as f64));
                }
            }
            (d, s)
        }
        _ => (value as i64, format!("{kind} {}", signed(value as f64))),
    }
}

/// `adjustment = { type = "change" | "percent" | "exact", value = 2,
/// min_adjustment_magnitude = 2 }` of a simple scaling policy
/// (`AdjustmentType`, `ScalingAdjustment`, `MinAdjustmentMagnitude`).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentConfig {
    /// How `value` is read.
    #[serde(rename = "type")]
    pub kind: AdjustmentType,
    /// Instances, percent, or the exact capacity.
    pub value: i32,
    /// With `percent` only: scale by at least this many instances.
    #[serde(default)]
    pub min_adjustment_magnitude: Option<u32>,
}

fn check_adjustment(
    path: &str,
    kind: AdjustmentType,
    value: i32,
    min_mag: Option<u32>,
) -> Result<(), (String, String)> {
    match kind {
        AdjustmentType::ExactCapacity if value < 0 => {
            return Err((
                path.into(),
                format!("ExactCapacity takes a capacity >= 0, got {value}"),
            ))
        }
        AdjustmentType::PercentChangeInCapacity if value < -100 => {
            return Err((
                path.into(),
                format!("a percent change cannot remove more than 100%, got {value}"),
            ))
        }
        _ => {}
    }
    if min_mag.is_some() && kind != AdjustmentType::PercentChangeInCapacity {
        return Err((
            "min_adjustment_magnitude".into(),
            format!("MinAdjustmentMagnitude applies to PercentChangeInCapacity only, not {kind}"),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Shared configuration pieces and checks
// ---------------------------------------------------------------------------

fn one() -> u32 {
    1
}
fn minute() -> Duration {
    Duration(60.0)
}
fn five_minutes() -> Duration {
    Duration(300.0)
}
fn three() -> u32 {
    3
}
fn fifteen() -> u32 {
    15
}
fn ninety_percent() -> f64 {
    0.9
}

fn join(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_string()
    } else {
        format!("{prefix}.{field}")
    }
}

fn check_bounds(min: u32, max: u32, period: Duration) -> Result<(), (String, String)> {
    if max < min {
        return Err((
            "max".into(),
            format!("max ({max}) must be at least min ({min})"),
        ));
    }
    if period.secs().is_nan() || period.secs() <= 0.0 {
        return Err(("period".into(), "the alarm period must be > 0".into()));
    }
    Ok(())
}

/// Checks one alarm's fields; CloudWatch: "The number of evaluation periods
/// for an alarm multiplied by the length of each evaluation period cannot
/// exceed one day", and datapoints to alarm is between 1 and N.
fn check_alarm(
    prefix: &str,
    metric: &str,
    threshold: f64,
    n: u32,
    m: Option<u32>,
    period: Duration,
) -> Result<(), (String, String)> {
    if metric.trim().is_empty() {
        return Err((join(prefix, "metric"), "expected a metric name".into()));
    }
    if !threshold.is_finite() {
        return Err((
            join(prefix, "threshold"),
            format!("expected a finite threshold, got {threshold}"),
        ));
    }
    if n == 0 {
        return Err((
            join(prefix, "evaluation_periods"),
            "expected at least 1 evaluation period".into(),
        ));
    }
    if let Some(m) = m {
        if m == 0 || m > n {
            return Err((
                join(prefix, "datapoints_to_alarm"),
                format!(
                    "datapoints_to_alarm must be between 1 and evaluation_periods ({n}), got {m}"
                ),
            ));
        }
    }
    if n as f64 * period.secs() > 86400.0 {
        return Err((
            join(prefix, "evaluation_periods"),
            format!(
                "evaluation_periods x period = {} s exceeds one day (CloudWatch limit)",
                num(n as f64 * period.secs())
            ),
        ));
    }
    Ok(())
}

/// Capacity changes this controller made, for AWS's warm-up rule ("while
/// scaling out, we do not consider instances that are warming up as part of
/// the current capacity") and its scale-in twin ("we consider instances
/// that are terminating as part of the current capacity"). Each count is
/// capped by how far `current` actually moved since the change, so a
/// replayed timeline whose `current` ignores the decisions does not count
/// instances that were never launched or removed.
#[derive(Clone, Debug, Default)]
struct Activity {
    /// (time, capacity before, capacity after) of scale-outs.
    launches: Vec<(f64, u32, u32)>,
    /// (time, capacity before, capacity after) of scale-ins.
    removals: Vec<(f64, u32, u32)>,
}

impl Activity {
    /// Instances not yet counted as in service: not ready, or launched by
    /// this controller less than `warmup` seconds ago.
    fn warming(&mut self, obs: &Observation, warmup: f64) -> u32 {
        let now = obs.now_s;
        self.launches.retain(|&(t, _, _)| now - t < warmup);
        let added: u32 = self.launches.iter().map(|&(_, from, to)| to - from).sum();
        let timer = self
            .launches
            .iter()
            .map(|&(_, from, _)| from)
            .min()
            .map_or(0, |from| added.min(obs.current.saturating_sub(from)));
        timer
            .max(obs.current.saturating_sub(obs.ready))
            .min(obs.current)
    }

    /// Instances this controller removed within `window` seconds.
    fn terminating(&mut self, obs: &Observation, window: f64) -> u32 {
        let now = obs.now_s;
        self.removals.retain(|&(t, _, _)| now - t < window);
        let removed: u32 = self.removals.iter().map(|&(_, from, to)| from - to).sum();
        self.removals
            .iter()
            .map(|&(_, from, _)| from)
            .max()
            .map_or(0, |from| removed.min(from.saturating_sub(obs.current)))
    }

    fn record(&mut self, now: f64, from: u32, to: u32) {
        if to > from {
            self.launches.push((now, from, to));
        } else if to < from {
            self.removals.push((now, from, to));
        }
    }
}

/// The capacity bounds; every decision is clamped to them ("Amazon EC2 Auto
/// Scaling does not scale your group below the minimum capacity or above
/// the maximum capacity").
#[derive(Clone, Copy, Debug)]
struct Bounds {
    min: u32,
    max: u32,
}

impl Bounds {
    /// Clamps a proposal and says so when it had to.
    fn clamp(self, proposal: i64) -> (u32, String) {
        if proposal > self.max as i64 {
            (self.max, format!(", max {}", self.max))
        } else if proposal < self.min as i64 {
            (self.min, format!(", min {}", self.min))
        } else {
            (proposal as u32, String::new())
        }
    }

    /// A decision when the current capacity is outside the bounds.
    fn outside(self, current: u32) -> Option<Decision> {
        let (d, _) = self.clamp(current as i64);
        (d != current).then(|| Decision {
            desired: d,
            reason: format!(
                "capacity {current} outside [min {}, max {}] -> {d}",
                self.min, self.max
            ),
        })
    }
}

fn dedup(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for n in names {
        if !v.contains(&n) {
            v.push(n);
        }
    }
    v
}

// ---------------------------------------------------------------------------
// Simple scaling
// ---------------------------------------------------------------------------

/// One alarm and its simple scaling policy (`scale_out = {...}` or
/// `scale_in = {...}`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SimplePolicyConfig {
    /// Metric the alarm watches (see [`crate::policy::metric`]).
    pub metric: String,
    /// Alarm comparison operator.
    pub comparison: Comparison,
    /// Alarm threshold.
    pub threshold: f64,
    /// N: datapoints evaluated (default 1).
    #[serde(default = "one")]
    pub evaluation_periods: u32,
    /// M: breaching datapoints needed (default N).
    #[serde(default)]
    pub datapoints_to_alarm: Option<u32>,
    /// Treatment of missing datapoints (default `missing`).
    #[serde(default)]
    pub treat_missing_data: MissingData,
    /// What the policy does when invoked.
    pub adjustment: AdjustmentConfig,
    /// This policy's cooldown (overrides the group's `cooldown`).
    #[serde(default)]
    pub cooldown: Option<Duration>,
}

/// `[autoscaler.<pool>]` with `policy = "simple"`: AWS simple scaling, one
/// alarm given flat (`metric`, `comparison`, `threshold`, `adjustment`, ...)
/// or the usual pair as `scale_out = {...}` and `scale_in = {...}`.
///
/// EC2 Auto Scaling User Guide: "after a scaling activity is started, the
/// policy must wait for the scaling activity ... to complete and the
/// cooldown period to expire before responding to additional alarms"; the
/// cooldown (default 300 s, the group's `DefaultCooldown`) applies to every
/// simple policy of the group.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SimpleConfig {
    /// Always "simple" (read by the scenario loader to pick this type).
    #[serde(default)]
    pub policy: Option<String>,
    /// Minimum capacity (default 1).
    #[serde(default = "one")]
    pub min: u32,
    /// Maximum capacity.
    pub max: u32,
    /// Alarm period: one datapoint, and one evaluation, per period
    /// (default 60 s).
    #[serde(default = "minute")]
    pub period: Duration,
    /// Default cooldown of the group (default 300 s).
    #[serde(default = "five_minutes")]
    pub cooldown: Duration,
    /// Flat single alarm: metric.
    #[serde(default)]
    pub metric: Option<String>,
    /// Flat single alarm: comparison operator.
    #[serde(default)]
    pub comparison: Option<Comparison>,
    /// Flat single alarm: threshold.
    #[serde(default)]
    pub threshold: Option<f64>,
    /// Flat single alarm: N (default 1).
    #[serde(default)]
    pub evaluation_periods: Option<u32>,
    /// Flat single alarm: M (default N).
    #[serde(default)]
    pub datapoints_to_alarm: Option<u32>,
    /// Flat single alarm: missing data treatment.
    #[serde(default)]
    pub treat_missing_data: Option<MissingData>,
    /// Flat single alarm: the adjustment.
    #[serde(default)]
    pub adjustment: Option<AdjustmentConfig>,
    /// The scale-out alarm and policy of a pair.
    #[serde(default)]
    pub scale_out: Option<SimplePolicyConfig>,
    /// The scale-in alarm and policy of a pair.
    #[serde(default)]
    pub scale_in: Option<SimplePolicyConfig>,
}

impl SimpleConfig {
    /// The alarms and policies, with their field path prefix ("" for the
    /// flat form).
    pub fn policies(&self) -> Result<Vec<(&'static str, SimplePolicyConfig)>, (String, String)> {
        let flat = self.metric.is_some()
            || self.comparison.is_some()
            || self.threshold.is_some()
            || self.evaluation_periods.is_some()
            || self.datapoints_to_alarm.is_some()
            || self.treat_missing_data.is_some()
            || self.adjustment.is_some();
        let pair = self.scale_out.is_some() || self.scale_in.is_some();
        if flat && pair {
            return Err((
                "scale_out".into(),
                "give either one alarm (metric, comparison, threshold, adjustment) or scale_out / scale_in, not both".into(),
            ));
        }
        if pair {
            let mut v = Vec::new();
            if let Some(p) = &self.scale_out {
                v.push(("scale_out", p.clone()));
            }
            if let Some(p) = &self.scale_in {
                v.push(("scale_in", p.clone()));
            }
            return Ok(v);
        }
        let need = |name: &str| {
            (
                name.to_string(),
                format!("missing `{name}`: a simple policy needs metric, comparison, threshold and adjustment (or scale_out / scale_in tables)"),
            )
        };
        Ok(vec![(
            "",
            SimplePolicyConfig {
                metric: self.metric.clone().ok_or_else(|| need("metric"))?,
                comparison: self.comparison.ok_or_else(|| need("comparison"))?,
                threshold: self.threshold.ok_or_else(|| need("threshold"))?,
                evaluation_periods: self.evaluation_periods.unwrap_or(1),
                datapoints_to_alarm: self.datapoints_to_alarm,
                treat_missing_data: self.treat_missing_data.unwrap_or_default(),
                adjustment: self.adjustment.ok_or_else(|| need("adjustment"))?,
                cooldown: None,
            },
        )])
    }

    /// Checks the configuration; `Err((field path, message))`.
    pub fn check(&self) -> Result<(), (String, String)> {
        check_bounds(self.min, self.max, self.period)?;
        for (prefix, p) in self.policies()? {
            check_alarm(
                prefix,
                &p.metric,
                p.threshold,
                p.evaluation_periods,
                p.datapoints_to_alarm,
                self.period,
            )?;
            let a = p.adjustment;
            check_adjustment(
                &join(prefix, "adjustment.value"),
                a.kind,
                a.value,
                a.min_adjustment_magnitude,
            )
            .map_err(|(f, m)| {
                if f == "min_adjustment_magnitude" {
                    (join(prefix, "adjustment.min_adjustment_magnitude"), m)
                } else {
                    (f, m)
                }
            })?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug)]
struct SimpleRule {
    name: &'static str,
    alarm: Alarm,
    adjustment: AdjustmentConfig,
    cooldown: f64,
}

/// A scaling activity of a simple policy and the cooldown that follows it.
#[derive(Clone, Debug)]
struct Cooldown {
    started: f64,
    scale_out: bool,
    seconds: f64,
    checks: u32,
    completed: Option<f64>,
}

/// AWS simple scaling: each period, every alarm takes a datapoint; an
/// alarm in ALARM invokes its policy, which applies its adjustment once and
/// then waits for the scaling activity to complete (the new instances
/// ready; a scale-in at once) and the cooldown to expire ("the cooldown
/// period takes effect starting when the last instance launches"). While
/// waiting, no simple policy of the group acts.
#[derive(Clone, Debug)]
pub struct Simple {
    rules: Vec<SimpleRule>,
    bounds: Bounds,
    period: f64,
    cooldown: Option<Cooldown>,
}

impl Simple {
    /// Builds the controller from a checked configuration;
    /// `Err((field path, message))` when it is not valid.
    pub fn new(cfg: &SimpleConfig) -> Result<Self, (String, String)> {
        cfg.check()?;
        let rules = cfg
            .policies()?
            .into_iter()
            .map(|(prefix, p)| SimpleRule {
                name: if prefix.is_empty() { "alarm" } else { prefix },
                alarm: Alarm::new(
                    &p.metric,
                    p.comparison,
                    p.threshold,
                    p.evaluation_periods,
                    p.datapoints_to_alarm.unwrap_or(p.evaluation_periods),
                    p.treat_missing_data,
                ),
                adjustment: p.adjustment,
                cooldown: p.cooldown.unwrap_or(cfg.cooldown).secs(),
            })
            .collect();
        Ok(Simple {
            rules,
            bounds: Bounds {
                min: cfg.min,
                max: cfg.max,
            },
            period: cfg.period.secs(),
            cooldown: None,
        })
    }

    /// Why the group is waiting, or None when simple policies may act.
    fn waiting(&mut self, obs: &Observation) -> Option<String> {
        let now = obs.now_s;
        let c = self.cooldown.as_mut()?;
        if c.completed.is_none() {
            let done = if c.scale_out {
                obs.ready >= obs.current
            } else {
                obs.ready <= obs.current
            };
            if done {
                // Seen complete at the first evaluation after it started:
                // taken as complete at once.
                c.completed = Some(if c.checks == 0 { c.started } else { now });
            } else {
                c.checks += 1;
                return Some(format!(
                    "scaling activity from t={}s in progress ({} of {} ready)",
                    num(c.started),
                    obs.ready,
                    obs.current
                ));
            }
        }
        let until = c.completed.unwrap_or(now) + c.seconds;
        if now < until {
            Some(format!(
                "cooldown {}s until t={}s",
                num(c.seconds),
                num(until)
            ))
        } else {
            self.cooldown = None;
            None
        }
    }
}

impl Controller for Simple {
    fn period_s(&self) -> f64 {
        self.period
    }

    fn metrics(&self) -> Vec<String> {
        dedup(self.rules.iter().map(|r| r.alarm.metric().to_string()))
    }

    fn evaluate(&mut self, obs: &Observation) -> Decision {
        for r in &mut self.rules {
            r.alarm.observe(obs.metric(r.alarm.metric()));
        }
        let cur = obs.current;
        if let Some(d) = self.bounds.outside(cur) {
            return d;
        }
        let waiting = self.waiting(obs);
        let mut notes = Vec::new();
        for r in &self.rules {
            if r.alarm.state() != AlarmState::Alarm {
                notes.push(r.alarm.status(r.name));
                continue;
            }
            let v = r.alarm.latest().unwrap_or(f64::NAN);
            let desc = format!("{}: {}", r.name, r.alarm.describe(v, false));
            if let Some(w) = &waiting {
                notes.push(format!("{desc}: waits, {w}"));
                continue;
            }
            let a = r.adjustment;
            let (proposal, text) = match a.kind {
                AdjustmentType::ExactCapacity => {
                    (a.value as i64, format!("{} {}", a.kind, a.value))
                }
                _ => {
                    let (d, t) = change_of(a.kind, a.value, a.min_adjustment_magnitude, cur);
                    (cur as i64 + d, t)
                }
            };
            let (new, clamp) = self.bounds.clamp(proposal);
            let text = format!("{desc}: {text} -> {proposal}{clamp}");
            if new == cur {
                notes.push(format!("{text}: desired stays {cur}"));
                continue;
            }
            let text = if new as i64 == proposal {
                text
            } else {
                format!("{text} -> {new}")
            };
            self.cooldown = Some(Cooldown {
                started: obs.now_s,
                scale_out: new > cur,
                seconds: r.cooldown,
                checks: 0,
                completed: None,
            });
            return Decision {
                desired: new,
                reason: format!("{text}, then cooldown {}s", num(r.cooldown)),
            };
        }
        Decision {
            desired: cur,
            reason: notes.join("; "),
        }
    }
}

// ---------------------------------------------------------------------------
// Step scaling
// ---------------------------------------------------------------------------

/// One step adjustment: `{ lower = 0.0, upper = 0.1, change = 1 }`, bounds
/// relative to the alarm threshold (`MetricIntervalLowerBound`,
/// `MetricIntervalUpperBound`; absent = -infinity / +infinity) and the
/// `ScalingAdjustment`, read by the policy's adjustment type.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StepAdjustmentConfig {
    /// Lower bound, relative to the threshold (absent: -infinity).
    #[serde(default)]
    pub lower: Option<f64>,
    /// Upper bound, relative to the threshold (absent: +infinity).
    #[serde(default)]
    pub upper: Option<f64>,
    /// The adjustment (instances, percent, or exact capacity).
    pub change: i32,
}

impl StepAdjustmentConfig {
    /// Whether the aggregated metric `value` falls in this step of an alarm
    /// with `threshold`. EC2 Auto Scaling User Guide: "If the metric value
    /// is above the breach threshold, the lower bound is inclusive and the
    /// upper bound is exclusive. If the metric value is below the breach
    /// threshold, the lower bound is exclusive and the upper bound is
    /// inclusive." A value equal to the threshold counts as above for a
    /// high (`>`, `>=`) alarm and as below for a low one.
    pub fn matches(&self, value: f64, threshold: f64, high_alarm: bool) -> bool {
        let above = value > threshold || (value == threshold && high_alarm);
        let lo = self.lower.map(|l| threshold + l);
        let hi = self.upper.map(|u| threshold + u);
        if above {
            lo.is_none_or(|l| value >= l) && hi.is_none_or(|h| value < h)
        } else {
            lo.is_none_or(|l| value > l) && hi.is_none_or(|h| value <= h)
        }
    }

    /// "[+0.1, +0.2)" (above the threshold) or "(-0.2, -0.1]" (below).
    fn interval(&self, above: bool) -> String {
        let lo = self.lower.map_or("-inf".to_string(), signed);
        let hi = self.upper.map_or("+inf".to_string(), signed);
        if above {
            format!("[{lo}, {hi})")
        } else {
            format!("({lo}, {hi}]")
        }
    }
}

/// One alarm and its step scaling policy (`scale_out = {...}` or
/// `scale_in = {...}`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StepPolicyConfig {
    /// Metric the alarm watches.
    pub metric: String,
    /// Alarm comparison operator.
    pub comparison: Comparison,
    /// Alarm threshold (the step bounds are relative to it).
    pub threshold: f64,
    /// N: datapoints evaluated (default 1).
    #[serde(default = "one")]
    pub evaluation_periods: u32,
    /// M: breaching datapoints needed (default N).
    #[serde(default)]
    pub datapoints_to_alarm: Option<u32>,
    /// Treatment of missing datapoints (default `missing`).
    #[serde(default)]
    pub treat_missing_data: MissingData,
    /// How the steps' `change` is read (default `change`).
    #[serde(default)]
    pub adjustment_type: AdjustmentType,
    /// With `percent` only: scale by at least this many instances.
    #[serde(default)]
    pub min_adjustment_magnitude: Option<u32>,
    /// How the alarm's datapoints are aggregated (default `average`).
    #[serde(default)]
    pub aggregation: Aggregation,
    /// The step adjustments.
    pub steps: Vec<StepAdjustmentConfig>,
}

/// `[autoscaler.<pool>]` with `policy = "step"`: AWS step scaling, one
/// alarm given flat or the pair as `scale_out = {...}`, `scale_in = {...}`.
/// No cooldown ("cooldown periods are not supported for step scaling
/// policies"); `warmup` is the instance warm-up (`EstimatedInstanceWarmup`;
/// default 300 s, the group's default cooldown it falls back to).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StepConfig {
    /// Always "step" (read by the scenario loader to pick this type).
    #[serde(default)]
    pub policy: Option<String>,
    /// Minimum capacity (default 1).
    #[serde(default = "one")]
    pub min: u32,
    /// Maximum capacity.
    pub max: u32,
    /// Alarm period (default 60 s).
    #[serde(default = "minute")]
    pub period: Duration,
    /// Instance warm-up (default 300 s).
    #[serde(default = "five_minutes")]
    pub warmup: Duration,
    /// Flat single alarm: metric.
    #[serde(default)]
    pub metric: Option<String>,
    /// Flat single alarm: comparison operator.
    #[serde(default)]
    pub comparison: Option<Comparison>,
    /// Flat single alarm: threshold.
    #[serde(default)]
    pub threshold: Option<f64>,
    /// Flat single alarm: N (default 1).
    #[serde(default)]
    pub evaluation_periods: Option<u32>,
    /// Flat single alarm: M (default N).
    #[serde(default)]
    pub datapoints_to_alarm: Option<u32>,
    /// Flat single alarm: missing data treatment.
    #[serde(default)]
    pub treat_missing_data: Option<MissingData>,
    /// Flat single alarm: adjustment type (default `change`).
    #[serde(default)]
    pub adjustment_type: Option<AdjustmentType>,
    /// Flat single alarm: MinAdjustmentMagnitude.
    #[serde(default)]
    pub min_adjustment_magnitude: Option<u32>,
    /// Flat single alarm: metric aggregation (default `average`).
    #[serde(default)]
    pub aggregation: Option<Aggregation>,
    /// Flat single alarm: the step adjustments.
    #[serde(default)]
    pub steps: Option<Vec<StepAdjustmentConfig>>,
    /// The scale-out alarm and policy of a pair.
    #[serde(default)]
    pub scale_out: Option<StepPolicyConfig>,
    /// The scale-in alarm and policy of a pair.
    #[serde(default)]
    pub scale_in: Option<StepPolicyConfig>,
}

/// Checks step intervals against the rules of the API's `StepAdjustment`:
/// the ranges "can't overlap or have a gap"; at most one null lower bound
/// and, if a lower bound is negative, one null lower bound; at most one
/// null upper bound and, if an upper bound is positive, one null upper
/// bound; "the upper and lower bound can't be null in the same step
/// adjustment"; "the upper bound must be greater than the lower bound".
fn check_steps(
    prefix: &str,
    kind: AdjustmentType,
    steps: &[StepAdjustmentConfig],
) -> Result<(), (String, String)> {
    let path = |i: usize, f: &str| join(prefix, &format!("steps[{i}].{f}"));
    if steps.is_empty() {
        return Err((
            join(prefix, "steps"),
            "expected at least one step adjustment".into(),
        ));
    }
    for (i, s) in steps.iter().enumerate() {
        for (f, b) in [("lower", s.lower), ("upper", s.upper)] {
            if b.is_some_and(|b| !b.is_finite()) {
                return Err((
                    path(i, f),
                    "expected a finite bound (omit it for infinity)".into(),
                ));
            }
        }
        match (s.lower, s.upper) {
            (None, None) => {
                return Err((
                    path(i, "lower"),
                    "the upper and lower bound can't both be absent in one step".into(),
                ))
            }
            (Some(l), Some(u)) if u <= l => {
                return Err((
                    path(i, "upper"),
                    format!(
                        "the upper bound ({}) must be greater than the lower bound ({})",
                        num(u),
                        num(l)
                    ),
                ))
            }
            _ => {}
        }
        check_adjustment(&path(i, "change"), kind, s.change, None)?;
    }
    let null_lower: Vec<usize> = (0..steps.len())
        .filter(|&i| steps[i].lower.is_none())
        .collect();
    let null_upper: Vec<usize> = (0..steps.len())
        .filter(|&i| steps[i].upper.is_none())
        .collect();
    if null_lower.len() > 1 {
        return Err((
            path(null_lower[1], "lower"),
            "only one step adjustment can have no lower bound (-infinity)".into(),
        ));
    }
    if null_upper.len() > 1 {
        return Err((
            path(null_upper[1], "upper"),
            "only one step adjustment can have no upper bound (+infinity)".into(),
        ));
    }
    if let Some(i) = steps.iter().position(|s| s.lower.is_some_and(|l| l < 0.0)) {
        if null_lower.is_empty() {
            return Err((
                path(i, "lower"),
                "a step has a negative lower bound, so one step must have no lower bound (-infinity)".into(),
            ));
        }
    }
    if let Some(i) = steps.iter().position(|s| s.upper.is_some_and(|u| u > 0.0)) {
        if null_upper.is_empty() {
            return Err((
                path(i, "upper"),
                "a step has a positive upper bound, so one step must have no upper bound (+infinity)".into(),
            ));
        }
    }
    let mut order: Vec<usize> = (0..steps.len()).collect();
    order.sort_by(|&a, &b| {
        let la = steps[a].lower.unwrap_or(f64::NEG_INFINITY);
        let lb = steps[b].lower.unwrap_or(f64::NEG_INFINITY);
        la.total_cmp(&lb)
    });
    for w in order.windows(2) {
        let (a, b) = (&steps[w[0]], &steps[w[1]]);
        let (Some(hi), Some(lo)) = (a.upper, b.lower) else {
            return Err((
                path(w[1], "lower"),
                format!("steps[{}] and steps[{}] overlap", w[0], w[1]),
            ));
        };
        if hi > lo {
            return Err((
                path(w[1], "lower"),
                format!(
                    "steps[{}] and steps[{}] overlap: [{}, {}) and [{}, ...)",
                    w[0],
                    w[1],
                    num(a.lower.unwrap_or(f64::NEG_INFINITY)),
                    num(hi),
                    num(lo)
                ),
            ));
        }
        if hi < lo {
            return Err((
                path(w[1], "lower"),
                format!(
                    "gap between steps[{}] (up to {}) and steps[{}] (from {})",
                    w[0],
                    num(hi),
                    w[1],
                    num(lo)
                ),
            ));
        }
    }
    Ok(())
}

impl StepConfig {
    /// The alarms and policies, with their field path prefix ("" for the
    /// flat form).
    pub fn policies(&self) -> Result<Vec<(&'static str, StepPolicyConfig)>, (String, String)> {
        let flat = self.metric.is_some()
            || self.comparison.is_some()
            || self.threshold.is_some()
            || self.evaluation_periods.is_some()
            || self.datapoints_to_alarm.is_some()
            || self.treat_missing_data.is_some()
            || self.adjustment_type.is_some()
            || self.min_adjustment_magnitude.is_some()
            || self.aggregation.is_some()
            || self.steps.is_some();
        let pair = self.scale_out.is_some() || self.scale_in.is_some();
        if flat && pair {
            return Err((
                "scale_out".into(),
                "give either one alarm (metric, comparison, threshold, steps) or scale_out / scale_in, not both".into(),
            ));
        }
        if pair {
            let mut v = Vec::new();
            if let Some(p) = &self.scale_out {
                v.push(("scale_out", p.clone()));
            }
            if let Some(p) = &self.scale_in {
                v.push(("scale_in", p.clone()));
            }
            return Ok(v);
        }
        let need = |name: &str| {
            (
                name.to_string(),
                format!("missing `{name}`: a step policy needs metric, comparison, threshold and steps (or scale_out / scale_in tables)"),
            )
        };
        Ok(vec![(
            "",
            StepPolicyConfig {
                metric: self.metric.clone().ok_or_else(|| need("metric"))?,
                comparison: self.comparison.ok_or_else(|| need("comparison"))?,
                threshold: self.threshold.ok_or_else(|| need("threshold"))?,
                evaluation_periods: self.evaluation_periods.unwrap_or(1),
                datapoints_to_alarm: self.datapoints_to_alarm,
                treat_missing_data: self.treat_missing_data.unwrap_or_default(),
                adjustment_type: self.adjustment_type.unwrap_or_default(),
                min_adjustment_magnitude: self.min_adjustment_magnitude,
                aggregation: self.aggregation.unwrap_or_default(),
                steps: self.steps.clone().ok_or_else(|| need("steps"))?,
            },
        )])
    }

    /// Checks the configuration; `Err((field path, message))`.
    pub fn check(&self) -> Result<(), (String, String)> {
        check_bounds(self.min, self.max, self.period)?;
        for (prefix, p) in self.policies()? {
            check_alarm(
                prefix,
                &p.metric,
                p.threshold,
                p.evaluation_periods,
                p.datapoints_to_alarm,
                self.period,
            )?;
            if p.min_adjustment_magnitude.is_some()
                && p.adjustment_type != AdjustmentType::PercentChangeInCapacity
            {
                return Err((
                    join(prefix, "min_adjustment_magnitude"),
                    format!(
                        "MinAdjustmentMagnitude applies to PercentChangeInCapacity only, not {}",
                        p.adjustment_type
                    ),
                ));
            }
            check_steps(prefix, p.adjustment_type, &p.steps)?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug)]
struct StepRule {
    name: &'static str,
    alarm: Alarm,
    kind: AdjustmentType,
    min_mag: Option<u32>,
    aggregation: Aggregation,
    steps: Vec<StepAdjustmentConfig>,
}

/// AWS step scaling. Each period, every alarm takes a datapoint; an alarm
/// in ALARM invokes its policy, which aggregates the alarm's datapoints
/// (`MetricAggregationType`), picks the step whose interval holds the
/// value, and applies its adjustment:
///
/// - scaling out, to the capacity in service (instances warming are not
///   counted: "multiple alarm breaches that fall in the range of the same
///   step adjustment result in a single scaling activity"), and the desired
///   capacity only grows: with 1 instance warming on 10, +30 % gives 13 and
///   adds 2 to the desired 11 (the guide's warm-up example);
/// - scaling in, to the capacity including the instances it removed in the
///   previous period, still terminating ("we don't remove more instances
///   than necessary"), and never while a scale-out is warming ("a scale-in
///   activity can't start while a scale-out activity is in progress").
#[derive(Clone, Debug)]
pub struct Step {
    rules: Vec<StepRule>,
    bounds: Bounds,
    period: f64,
    warmup: f64,
    activity: Activity,
}

impl Step {
    /// Builds the controller from a checked configuration;
    /// `Err((field path, message))` when it is not valid.
    pub fn new(cfg: &StepConfig) -> Result<Self, (String, String)> {
        cfg.check()?;
        let rules = cfg
            .policies()?
            .into_iter()
            .map(|(prefix, p)| StepRule {
                name: if prefix.is_empty() { "alarm" } else { prefix },
                alarm: Alarm::new(
                    &p.metric,
                    p.comparison,
                    p.threshold,
                    p.evaluation_periods,
                    p.datapoints_to_alarm.unwrap_or(p.evaluation_periods),
                    p.treat_missing_data,
                ),
                kind: p.adjustment_type,
                min_mag: p.min_adjustment_magnitude,
                aggregation: p.aggregation,
                steps: p.steps,
            })
            .collect();
        Ok(Step {
            rules,
            bounds: Bounds {
                min: cfg.min,
                max: cfg.max,
            },
            period: cfg.period.secs(),
            warmup: cfg.warmup.secs(),
            activity: Activity::default(),
        })
    }
}

impl Controller for Step {
    fn period_s(&self) -> f64 {
        self.period
    }

    fn metrics(&self) -> Vec<String> {
        dedup(self.rules.iter().map(|r| r.alarm.metric().to_string()))
    }

    fn evaluate(&mut self, obs: &Observation) -> Decision {
        let now = obs.now_s;
        for r in &mut self.rules {
            r.alarm.observe(obs.metric(r.alarm.metric()));
        }
        let cur = obs.current;
        let warming = self.activity.warming(obs, self.warmup);
        // Removed instances count as terminating through the next
        // evaluation, whose datapoint is the first measured without them.
        let terminating = self.activity.terminating(obs, 1.5 * self.period);
        if let Some(d) = self.bounds.outside(cur) {
            return d;
        }
        let mut notes = Vec::new();
        for r in &self.rules {
            if r.alarm.state() != AlarmState::Alarm {
                notes.push(r.alarm.status(r.name));
                continue;
            }
            let Some(v) = r.alarm.aggregate(r.aggregation) else {
                notes.push(format!(
                    "{} alarm ALARM with no datapoint to match a step",
                    r.name
                ));
                continue;
            };
            let desc = format!("{}: {}", r.name, r.alarm.describe(v, true));
            let thr = r.alarm.threshold();
            let high = r.alarm.comparison().is_high();
            let Some(step) = r.steps.iter().find(|s| s.matches(v, thr, high)) else {
                notes.push(format!("{desc}: no step adjustment matches"));
                continue;
            };
            let above = v > thr || (v == thr && high);
            let head = format!("{desc}: step {}", step.interval(above));
            let c = step.change;
            let (proposal, text) = if r.kind == AdjustmentType::ExactCapacity {
                (c as i64, format!("{} {c}", r.kind))
            } else if c == 0 {
                notes.push(format!("{head} {} 0: no change", r.kind));
                continue;
            } else if c > 0 {
                let base = cur - warming;
                let (d, t) = change_of(r.kind, c, r.min_mag, base);
                let p = base as i64 + d;
                let mut t = format!("{t} -> {p}");
                if warming > 0 {
                    t += &format!(" ({base} in service + {warming} warming)");
                }
                (p.max(cur as i64), t)
            } else {
                let base = cur + terminating;
                let (d, t) = change_of(r.kind, c, r.min_mag, base);
                let p = (base as i64 + d).max(0);
                let mut t = format!("{t} -> {p}");
                if terminating > 0 {
                    t += &format!(" ({cur} + {terminating} terminating)");
                }
                (p.min(cur as i64), t)
            };
            if proposal < cur as i64 && warming > 0 {
                notes.push(format!(
                    "{head} {text}: waits, scale-out in progress ({warming} warming)"
                ));
                continue;
            }
            let (new, clamp) = self.bounds.clamp(proposal);
            if new == cur {
                notes.push(format!("{head} {text}{clamp}: desired stays {cur}"));
                continue;
            }
            self.activity.record(now, cur, new);
            let reason = if new as i64 == proposal {
                format!("{head} {text}")
            } else {
                format!("{head} {text}{clamp} -> {new}")
            };
            return Decision {
                desired: new,
                reason,
            };
        }
        Decision {
            desired: cur,
            reason: notes.join("; "),
        }
    }
}

// ---------------------------------------------------------------------------
// Target tracking
// ---------------------------------------------------------------------------

/// `[autoscaler.<pool>]` with `policy = "target"`: AWS target tracking
/// (`TargetTrackingConfiguration`).
///
/// AWS creates and manages two CloudWatch alarms for the policy; their
/// shapes are not published in the user guides, so they are parameters
/// here, with defaults from the alarms AWS creates for 1-minute metrics: a
/// high alarm `metric > target` in 3 of 3 datapoints, and a low alarm
/// `metric < scale_in_ratio x target` in 15 of 15. The Application Auto
/// Scaling guide says capacity is removed "only when utilization passes a
/// threshold that is far enough below the target value (usually more than
/// 10% lower)": `scale_in_ratio` defaults to 0.9.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    /// Always "target" (read by the scenario loader to pick this type).
    #[serde(default)]
    pub policy: Option<String>,
    /// The tracked metric (a utilization: it must fall as capacity grows).
    pub metric: String,
    /// Target value of the metric.
    pub target: f64,
    /// Minimum capacity (default 1).
    #[serde(default = "one")]
    pub min: u32,
    /// Maximum capacity.
    pub max: u32,
    /// Alarm period (default 60 s).
    #[serde(default = "minute")]
    pub period: Duration,
    /// Instance warm-up (default 300 s).
    #[serde(default = "five_minutes")]
    pub warmup: Duration,
    /// `DisableScaleIn`: never remove capacity.
    #[serde(default)]
    pub disable_scale_in: bool,
    /// `ScaleInCooldown` (Application Auto Scaling; EC2 Auto Scaling groups
    /// have none): after a scale-in, further scale-ins wait this long.
    #[serde(default)]
    pub scale_in_cooldown: Option<Duration>,
    /// Datapoints (N = M) of the high alarm (default 3).
    #[serde(default = "three")]
    pub scale_out_datapoints: u32,
    /// Datapoints (N = M) of the low alarm (default 15).
    #[serde(default = "fifteen")]
    pub scale_in_datapoints: u32,
    /// Low alarm threshold as a fraction of the target (default 0.9).
    #[serde(default = "ninety_percent")]
    pub scale_in_ratio: f64,
}

impl TargetConfig {
    /// Checks the configuration; `Err((field path, message))`.
    pub fn check(&self) -> Result<(), (String, String)> {
        check_bounds(self.min, self.max, self.period)?;
        if !(self.target.is_finite() && self.target > 0.0) {
            return Err((
                "target".into(),
                format!("expected a target value > 0, got {}", self.target),
            ));
        }
        if !(self.scale_in_ratio > 0.0 && self.scale_in_ratio <= 1.0) {
            return Err((
                "scale_in_ratio".into(),
                format!("expected a fraction in (0, 1], got {}", self.scale_in_ratio),
            ));
        }
        check_alarm(
            "",
            &self.metric,
            self.target,
            self.scale_out_datapoints,
            None,
            self.period,
        )
        .map_err(|(f, m)| (f.replace("evaluation_periods", "scale_out_datapoints"), m))?;
        check_alarm(
            "",
            &self.metric,
            self.target,
            self.scale_in_datapoints,
            None,
            self.period,
        )
        .map_err(|(f, m)| (f.replace("evaluation_periods", "scale_in_datapoints"), m))?;
        Ok(())
    }
}

/// AWS target tracking. The high alarm in ALARM scales out at once to
/// `ceil(in-service capacity x metric / target)` ("scales out
/// proportionally to the metric as fast as it can"; it rounds up, "we round
/// up and add two instances" for 1.5); instances warming are not counted,
/// so a breach that persists while they warm does not add them again. The
/// low alarm in ALARM scales in to `ceil(capacity x metric / target)`
/// (rounding so that fewer instances go: "if we determine that removing 1.5
/// instances increases your CPU utilization to above 50 percent, we remove
/// just one"), never while a scale-out is in progress, never on
/// insufficient data, and not at all with `disable_scale_in`. A scale-out
/// during the scale-in cooldown proceeds and ends the cooldown.
#[derive(Clone, Debug)]
pub struct TargetTracking {
    metric: String,
    target: f64,
    high: Alarm,
    low: Alarm,
    bounds: Bounds,
    period: f64,
    warmup: f64,
    disable_scale_in: bool,
    scale_in_cooldown: f64,
    scale_in_blocked_until: Option<f64>,
    activity: Activity,
}

impl TargetTracking {
    /// Builds the controller from a checked configuration;
    /// `Err((field path, message))` when it is not valid.
    pub fn new(cfg: &TargetConfig) -> Result<Self, (String, String)> {
        cfg.check()?;
        let (n_out, n_in) = (cfg.scale_out_datapoints, cfg.scale_in_datapoints);
        Ok(TargetTracking {
            metric: cfg.metric.clone(),
            target: cfg.target,
            high: Alarm::new(
                &cfg.metric,
                Comparison::Greater,
                cfg.target,
                n_out,
                n_out,
                MissingData::Missing,
            ),
            low: Alarm::new(
                &cfg.metric,
                Comparison::Less,
                cfg.target * cfg.scale_in_ratio,
                n_in,
                n_in,
                MissingData::Missing,
            ),
            bounds: Bounds {
                min: cfg.min,
                max: cfg.max,
            },
            period: cfg.period.secs(),
            warmup: cfg.warmup.secs(),
            disable_scale_in: cfg.disable_scale_in,
            scale_in_cooldown: cfg.scale_in_cooldown.map_or(0.0, |d| d.secs()),
            scale_in_blocked_until: None,
            activity: Activity::default(),
        })
    }

    /// `ceil(capacity x metric / target)`, with a relative tolerance of
    /// 1e-9 so that 11 x 0.5 / 0.5 stays 11 in floating point.
    fn proposal(&self, capacity: u32, value: f64) -> i64 {
        let x = capacity as f64 * value / self.target;
        (x - 1e-9 * x.abs().max(1.0)).ceil().max(0.0) as i64
    }
}

impl Controller for TargetTracking {
    fn period_s(&self) -> f64 {
        self.period
    }

    fn metrics(&self) -> Vec<String> {
        vec![self.metric.clone()]
    }

    fn evaluate(&mut self, obs: &Observation) -> Decision {
        let now = obs.now_s;
        let value = obs.metric(&self.metric);
        self.high.observe(value);
        self.low.observe(value);
        let cur = obs.current;
        let warming = self.activity.warming(obs, self.warmup);
        let terminating = self.activity.terminating(obs, 1.5 * self.period);
        if let Some(d) = self.bounds.outside(cur) {
            return d;
        }
        let t = num(self.target);
        let mut notes = Vec::new();
        if self.high.state() == AlarmState::Alarm {
            if let Some(v) = self.high.latest() {
                let base = cur - warming;
                let p = self.proposal(base, v);
                let mut text = format!(
                    "high alarm: {}: ceil({base} x {} / {t}) = {p}",
                    self.high.describe(v, false),
                    num(v)
                );
                if warming > 0 {
                    text += &format!(" ({base} in service + {warming} warming)");
                }
                let (new, clamp) = self.bounds.clamp(p.max(cur as i64));
                if new > cur {
                    self.activity.record(now, cur, new);
                    self.scale_in_blocked_until = None;
                    return Decision {
                        desired: new,
                        reason: finish(text, p, new, &clamp),
                    };
                }
                notes.push(format!("{text}{clamp}: desired stays {cur}"));
            }
        }
        if self.low.state() == AlarmState::Alarm {
            let v = self.low.latest().unwrap_or(f64::NAN);
            let desc = format!("low alarm: {}", self.low.describe(v, false));
            if self.disable_scale_in {
                notes.push(format!("{desc}: scale-in disabled"));
            } else if warming > 0 {
                notes.push(format!(
                    "{desc}: scale-in waits, scale-out in progress ({warming} warming)"
                ));
            } else if let Some(until) = self.scale_in_blocked_until.filter(|&u| now < u) {
                notes.push(format!("{desc}: scale-in cooldown until t={}s", num(until)));
            } else {
                let base = cur + terminating;
                let p = self.proposal(base, v);
                let mut text = format!("{desc}: ceil({base} x {} / {t}) = {p}", num(v));
                if terminating > 0 {
                    text += &format!(" ({cur} + {terminating} terminating)");
                }
                let (new, clamp) = self.bounds.clamp(p.min(cur as i64));
                if new < cur {
                    self.activity.record(now, cur, new);
                    if self.scale_in_cooldown > 0.0 {
                        self.scale_in_blocked_until = Some(now + self.scale_in_cooldown);
                    }
                    return Decision {
                        desired: new,
                        reason: finish(text, p, new, &clamp),
                    };
                }
                notes.push(format!("{text}{clamp}: desired stays {cur}"));
            }
        }
        if notes.is_empty() {
            let v = value.map_or("missing".to_string(), num);
            notes.push(format!(
                "{} {v}, target {t}: {}; {}",
                self.metric,
                self.high.status("high"),
                self.low.status("low")
            ));
        }
        Decision {
            desired: cur,
            reason: notes.join("; "),
        }
    }
}

// ---------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------

/// A reason that ends on the proposal, and on the capacity when a bound
/// changed it.
fn finish(text: String, proposal: i64, new: u32, clamp: &str) -> String {
    if proposal == new as i64 {
        text
    } else {
        format!("{text}{clamp} -> {new}")
    }
}

/// A number in a reason: integers without decimals, others with at most 4.
fn num(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x == x.trunc() && x.abs() < 1e15 {
        return format!("{}", x as i64);
    }
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// A number with its sign: "+0.1", "-2", "0".
fn signed(x: f64) -> String {
    if x > 0.0 {
        format!("+{}", num(x))
    } else {
        num(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_reasons() {
        assert_eq!(num(7.0), "7");
        assert_eq!(num(1.5), "1.5");
        assert_eq!(num(0.1 + 0.2), "0.3");
        assert_eq!(signed(0.1), "+0.1");
        assert_eq!(signed(-3.0), "-3");
        assert_eq!(signed(0.0), "0");
    }

    #[test]
    fn percent_change_uses_min_magnitude_only_for_nonzero_steps() {
        let p = AdjustmentType::PercentChangeInCapacity;
        assert_eq!(change_of(p, 25, Some(2), 4).0, 2);
        assert_eq!(change_of(p, 0, Some(2), 4).0, 0);
        assert_eq!(change_of(p, -10, Some(3), 10).0, -3);
        assert_eq!(change_of(p, 50, Some(2), 10).0, 5);
    }
}
