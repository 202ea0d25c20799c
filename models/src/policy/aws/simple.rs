//! AWS simple scaling: one or two alarms, each with one adjustment, and
//! the cooldown that follows every scaling activity (EC2 Auto Scaling User
//! Guide, "Step and simple scaling policies" and "Scaling cooldowns").

use super::adjustment::{
    change_of, check_adjustment, check_min_magnitude, AdjustmentConfig, AdjustmentType,
};
use super::alarm::{one_or_pair, Alarm, AlarmConfig, AlarmState};
use super::capacity::{check_bounds, check_zero, Bounds};
use super::table::aws_table;
use super::{five_minutes, join, minute, num, one, rule_name};
use crate::policy::{unique, Controller, Decision, Observation};
use crate::units::Duration;
use serde::Deserialize;

aws_table! {
    /// One alarm and its simple scaling policy (`scale_out = {...}` or
    /// `scale_in = {...}`).
    #[derive(Clone, Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    pub struct SimplePolicyConfig {
        @alarm Required,
        /// What the policy does when invoked.
        pub adjustment: AdjustmentConfig,
        /// This policy's cooldown (overrides the group's `cooldown`).
        #[serde(default)]
        pub cooldown: Option<Duration>,
    }
}

aws_table! {
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
        @group,
        /// Default cooldown of the group (default 300 s).
        #[serde(default = "five_minutes")]
        pub cooldown: Duration,
        @alarm Optional,
        /// Flat single alarm: the adjustment.
        #[serde(default)]
        pub adjustment: Option<AdjustmentConfig>,
        @pair SimplePolicyConfig,
    }
}

/// One alarm and its simple policy, from either form.
struct SimplePolicy {
    alarm: AlarmConfig,
    adjustment: AdjustmentConfig,
    cooldown: Option<Duration>,
}

impl SimpleConfig {
    /// The alarms and policies, with their field path prefix ("" for the
    /// flat form).
    fn policies(&self) -> Result<Vec<(&'static str, SimplePolicy)>, (String, String)> {
        one_or_pair(
            "simple",
            "adjustment",
            self.alarm_given().any() || self.adjustment.is_some(),
            [
                ("scale_out", self.scale_out.as_ref()),
                ("scale_in", self.scale_in.as_ref()),
            ],
            |p, need| {
                Ok(SimplePolicy {
                    alarm: p.alarm_given().resolve(need)?,
                    adjustment: p.adjustment,
                    cooldown: p.cooldown,
                })
            },
            |need| {
                Ok(SimplePolicy {
                    alarm: self.alarm_given().resolve(need)?,
                    adjustment: self.adjustment.ok_or_else(|| need("adjustment"))?,
                    cooldown: None,
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
        check_zero(self.min, "simple", &alarms)?;
        for (prefix, p) in policies {
            p.alarm.check(prefix, self.period)?;
            let a = p.adjustment;
            check_adjustment(&join(prefix, "adjustment.value"), a.kind, a.value)?;
            check_min_magnitude(
                &join(prefix, "adjustment.min_adjustment_magnitude"),
                a.kind,
                a.min_adjustment_magnitude,
            )?;
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
                name: rule_name(prefix),
                alarm: p.alarm.alarm(),
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
        unique(self.rules.iter().map(|r| r.alarm.metric().to_string()))
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
