//! AWS step scaling: alarms whose policies pick a step adjustment by how
//! far the metric is past the threshold, with instance warm-up instead of
//! a cooldown (EC2 Auto Scaling User Guide, "Step and simple scaling
//! policies"; API Reference, `StepAdjustment` for the rules of the step
//! intervals, `PutScalingPolicy` for `MetricAggregationType`).

use super::adjustment::{change_of, check_adjustment, check_min_magnitude, AdjustmentType};
use super::alarm::{one_or_pair, Aggregation, Alarm, AlarmConfig, AlarmState};
use super::capacity::{check_bounds, check_zero, Activity, Bounds};
use super::table::aws_table;
use super::{five_minutes, join, minute, num, one, rule_name, signed};
use crate::policy::{issue, unique, Controller, Decision, Observation};
use crate::units::Duration;
use serde::Deserialize;

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

aws_table! {
    /// One alarm and its step scaling policy (`scale_out = {...}` or
    /// `scale_in = {...}`).
    #[derive(Clone, Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    pub struct StepPolicyConfig {
        @alarm Required,
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
}

aws_table! {
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
        @group,
        /// Instance warm-up (default 300 s).
        #[serde(default = "five_minutes")]
        pub warmup: Duration,
        @alarm Optional,
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
        @pair StepPolicyConfig,
    }
}

/// One alarm and its step policy, from either form.
struct StepPolicy {
    alarm: AlarmConfig,
    adjustment_type: AdjustmentType,
    min_adjustment_magnitude: Option<u32>,
    aggregation: Aggregation,
    steps: Vec<StepAdjustmentConfig>,
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
        return issue(
            join(prefix, "steps"),
            "expected at least one step adjustment",
        );
    }
    for (i, s) in steps.iter().enumerate() {
        for (f, b) in [("lower", s.lower), ("upper", s.upper)] {
            if b.is_some_and(|b| !b.is_finite()) {
                return issue(path(i, f), "expected a finite bound (omit it for infinity)");
            }
        }
        match (s.lower, s.upper) {
            (None, None) => {
                return issue(
                    path(i, "lower"),
                    "the upper and lower bound can't both be absent in one step",
                )
            }
            (Some(l), Some(u)) if u <= l => {
                return issue(
                    path(i, "upper"),
                    format!(
                        "the upper bound ({}) must be greater than the lower bound ({})",
                        num(u),
                        num(l)
                    ),
                )
            }
            _ => {}
        }
        check_adjustment(&path(i, "change"), kind, s.change)?;
    }
    let null_lower: Vec<usize> = (0..steps.len())
        .filter(|&i| steps[i].lower.is_none())
        .collect();
    let null_upper: Vec<usize> = (0..steps.len())
        .filter(|&i| steps[i].upper.is_none())
        .collect();
    if null_lower.len() > 1 {
        return issue(
            path(null_lower[1], "lower"),
            "only one step adjustment can have no lower bound (-infinity)",
        );
    }
    if null_upper.len() > 1 {
        return issue(
            path(null_upper[1], "upper"),
            "only one step adjustment can have no upper bound (+infinity)",
        );
    }
    if let Some(i) = steps.iter().position(|s| s.lower.is_some_and(|l| l < 0.0)) {
        if null_lower.is_empty() {
            return issue(path(i, "lower"), "a step has a negative lower bound, so one step must have no lower bound (-infinity)");
        }
    }
    if let Some(i) = steps.iter().position(|s| s.upper.is_some_and(|u| u > 0.0)) {
        if null_upper.is_empty() {
            return issue(path(i, "upper"), "a step has a positive upper bound, so one step must have no upper bound (+infinity)");
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
            return issue(
                path(w[1], "lower"),
                format!("steps[{}] and steps[{}] overlap", w[0], w[1]),
            );
        };
        if hi > lo {
            return issue(
                path(w[1], "lower"),
                format!(
                    "steps[{}] and steps[{}] overlap: [{}, {}) and [{}, ...)",
                    w[0],
                    w[1],
                    num(a.lower.unwrap_or(f64::NEG_INFINITY)),
                    num(hi),
                    num(lo)
                ),
            );
        }
        if hi < lo {
            return issue(
                path(w[1], "lower"),
                format!(
                    "gap between steps[{}] (up to {}) and steps[{}] (from {})",
                    w[0],
                    num(hi),
                    w[1],
                    num(lo)
                ),
            );
        }
    }
    Ok(())
}

impl StepConfig {
    /// The alarms and policies, with their field path prefix ("" for the
    /// flat form).
    fn policies(&self) -> Result<Vec<(&'static str, StepPolicy)>, (String, String)> {
        let flat = self.alarm_given().any()
            || self.adjustment_type.is_some()
            || self.min_adjustment_magnitude.is_some()
            || self.aggregation.is_some()
            || self.steps.is_some();
        one_or_pair(
            "step",
            "steps",
            flat,
            [
                ("scale_out", self.scale_out.as_ref()),
                ("scale_in", self.scale_in.as_ref()),
            ],
            |p, need| {
                Ok(StepPolicy {
                    alarm: p.alarm_given().resolve(need)?,
                    adjustment_type: p.adjustment_type,
                    min_adjustment_magnitude: p.min_adjustment_magnitude,
                    aggregation: p.aggregation,
                    steps: p.steps.clone(),
                })
            },
            |need| {
                Ok(StepPolicy {
                    alarm: self.alarm_given().resolve(need)?,
                    adjustment_type: self.adjustment_type.unwrap_or_default(),
                    min_adjustment_magnitude: self.min_adjustment_magnitude,
                    aggregation: self.aggregation.unwrap_or_default(),
                    steps: self.steps.clone().ok_or_else(|| need("steps"))?,
                })
            },
        )
    }

    /// Checks the configuration; `Err((field path, message))`.
    pub fn check(&self) -> Result<(), (String, String)> {
        check_bounds(self.min, self.max, self.period)?;
        let policies = self.policies()?;
        let alarms: Vec<_> = policies
            .iter()
            .map(|(prefix, p)| (*prefix, p.alarm.metric.as_str(), p.alarm.treat_missing_data))
            .collect();
        check_zero(self.min, "step", &alarms)?;
        for (prefix, p) in policies {
            p.alarm.check(prefix, self.period)?;
            check_min_magnitude(
                &join(prefix, "min_adjustment_magnitude"),
                p.adjustment_type,
                p.min_adjustment_magnitude,
            )?;
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
                name: rule_name(prefix),
                alarm: p.alarm.alarm(),
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
        unique(self.rules.iter().map(|r| r.alarm.metric().to_string()))
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
