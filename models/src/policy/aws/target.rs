//! AWS target tracking: the two alarms AWS manages for the policy, a
//! proportional scale-out and a gradual scale-in (EC2 Auto Scaling User
//! Guide and Application Auto Scaling User Guide, "Target tracking scaling
//! policies").

use super::alarm::{Alarm, AlarmConfig, AlarmState, Comparison, MissingData};
use super::capacity::{check_bounds, check_zero, Activity, Bounds};
use super::table::aws_table;
use super::{finish, five_minutes, minute, num, one};
use crate::policy::{issue, Controller, Decision, Observation};
use crate::units::{Duration, Level};
use serde::Deserialize;

fn three() -> u32 {
    3
}
fn fifteen() -> u32 {
    15
}
fn ninety_percent() -> f64 {
    0.9
}

aws_table! {
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
        /// Target value of the metric, in its unit: a fraction or percent
        /// for shares (cpu: 0.7 or "70%"), a duration for latencies, a
        /// number for rates (rps per instance).
        pub target: Level,
        @group,
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
}

impl TargetConfig {
    /// Checks the configuration; `Err((field path, message))`.
    pub fn check(&self) -> Result<(), (String, String)> {
        check_bounds(self.min, self.max, self.period)?;
        check_zero(self.min, "target", &[])?;
        if self.target.value <= 0.0 {
            return issue(
                "target",
                format!("expected a target value > 0, got {}", self.target.value),
            );
        }
        crate::policy::metric::check_level(&self.metric, "target", self.target)
            .map_err(|m| ("target".to_string(), m))?;
        if !(self.scale_in_ratio > 0.0 && self.scale_in_ratio <= 1.0) {
            return issue(
                "scale_in_ratio",
                format!("expected a fraction in (0, 1], got {}", self.scale_in_ratio),
            );
        }
        for (field, alarm) in self.alarms() {
            alarm
                .check("", self.period)
                .map_err(|(f, m)| (f.replace("evaluation_periods", field), m))?;
        }
        Ok(())
    }

    /// The two alarms AWS manages for the policy, each with the field that
    /// sets its datapoints: high `metric > target` and low `metric <
    /// scale_in_ratio x target`, in N of N datapoints, missing data
    /// `missing`.
    fn alarms(&self) -> [(&'static str, AlarmConfig); 2] {
        let alarm = |comparison, threshold, n| AlarmConfig {
            metric: self.metric.clone(),
            comparison,
            threshold,
            evaluation_periods: n,
            datapoints_to_alarm: Some(n),
            treat_missing_data: MissingData::Missing,
        };
        [
            (
                "scale_out_datapoints",
                alarm(Comparison::Greater, self.target, self.scale_out_datapoints),
            ),
            (
                "scale_in_datapoints",
                alarm(
                    Comparison::Less,
                    Level {
                        value: self.target.value * self.scale_in_ratio,
                        ..self.target
                    },
                    self.scale_in_datapoints,
                ),
            ),
        ]
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
        let [(_, high), (_, low)] = cfg.alarms();
        Ok(TargetTracking {
            metric: cfg.metric.clone(),
            target: cfg.target.value,
            high: high.alarm(),
            low: low.alarm(),
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
