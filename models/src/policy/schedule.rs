//! Capacity by the clock: `static` (a fixed count) and `scheduled` (AWS
//! scheduled actions / Kubernetes CronJob-driven scaling: business hours at
//! one capacity, nights at another, a weekend factor, dated overrides for
//! Black Friday), and `manual` (an operator's `kubectl scale --replicas`
//! or `aws autoscaling set-desired-capacity` at given times). The desired
//! capacity is a pure function of local time, evaluated every `period`.

use crate::policy::{issue, minute, Controller, Decision, Observation};
use crate::traffic::calendar::Calendar;
use crate::traffic::pattern::{DailyConfig, TimeRef};
use crate::units::Duration;
use serde::Deserialize;

/// `[autoscaler.<pool>]` with `policy = "static"`: the pool keeps its
/// configured instances (the same as no autoscaler; useful in sweeps that
/// compare policies).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StaticConfig {
    /// Always "static".
    #[serde(default)]
    pub policy: Option<String>,
}

/// A dated capacity override: `{ start = "2026-11-27", end = "2026-11-28",
/// capacity = 30 }`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OverrideConfig {
    /// From (local date or offset).
    pub start: TimeRef,
    /// Until (local date or offset).
    pub end: TimeRef,
    /// Capacity in force between them.
    pub capacity: u32,
}

/// `[autoscaler.<pool>]` with `policy = "scheduled"`:
/// `hours = "07:00-20:00"`, `capacity = 10`, `off_hours = 3`,
/// `weekend = 0.5` (multiplies, rounding up), `overrides = [...]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScheduledConfig {
    /// Always "scheduled".
    #[serde(default)]
    pub policy: Option<String>,
    /// Business hours, local `"HH:MM-HH:MM"`.
    pub hours: String,
    /// Capacity during business hours.
    pub capacity: u32,
    /// Capacity outside them.
    pub off_hours: u32,
    /// Factor on Saturday and Sunday (capacity rounded up, at least 1).
    #[serde(default = "one")]
    pub weekend: f64,
    /// Dated overrides; the first that covers the time wins.
    #[serde(default)]
    pub overrides: Vec<OverrideConfig>,
    /// How often the schedule is checked (default 60 s).
    #[serde(default = "minute")]
    pub period: Duration,
}

fn one() -> f64 {
    1.0
}

/// The running scheduled policy.
pub struct Scheduled {
    cfg: ScheduledConfig,
    calendar: Calendar,
    /// (from, until, capacity) in simulated seconds.
    overrides: Vec<(f64, f64, u32)>,
    open: f64,
    close: f64,
}

impl Scheduled {
    /// Checks the configuration; `Err((field, message))`.
    pub fn new(cfg: &ScheduledConfig, calendar: &Calendar) -> Result<Scheduled, (String, String)> {
        let probe = DailyConfig {
            peak_hours: Some(cfg.hours.clone()),
            peak: 1.0,
            off_peak: 0.0,
            ramp: Duration(0.0),
            hourly: None,
            smooth: false,
        };
        let knots = crate::traffic::pattern::daily_knots(&probe)
            .map_err(|(_, m)| ("hours".to_string(), m))?;
        // The open interval is where the step curve is 1.
        let open = knots
            .0
            .iter()
            .find(|k| k.1 == 1.0)
            .map(|k| k.0)
            .unwrap_or(0.0);
        let close = knots
            .0
            .iter()
            .rev()
            .find(|k| k.1 == 1.0)
            .map(|k| k.0)
            .unwrap_or(0.0);
        if cfg.capacity == 0 && cfg.off_hours == 0 {
            return issue("capacity", "a schedule needs some capacity");
        }
        if !(cfg.weekend.is_finite() && cfg.weekend > 0.0) {
            return issue(
                "weekend",
                format!("expected a factor > 0, got {}", cfg.weekend),
            );
        }
        if cfg.period.secs() <= 0.0 {
            return issue("period", "expected a period > 0");
        }
        let mut overrides = Vec::new();
        for (i, o) in cfg.overrides.iter().enumerate() {
            let a = o
                .start
                .resolve(calendar)
                .map_err(|m| (format!("overrides.{i}.start"), m))?;
            let b = o
                .end
                .resolve(calendar)
                .map_err(|m| (format!("overrides.{i}.end"), m))?;
            if b <= a {
                return issue(
                    format!("overrides.{i}.end"),
                    "the override ends before it starts",
                );
            }
            overrides.push((a, b, o.capacity));
        }
        Ok(Scheduled {
            cfg: cfg.clone(),
            calendar: calendar.clone(),
            overrides,
            open,
            close,
        })
    }

    /// The scheduled capacity at simulated second `t`, and why.
    pub fn capacity_at(&self, t: f64) -> (u32, String) {
        if let Some(&(_, _, c)) = self.overrides.iter().find(|o| o.0 <= t && t < o.1) {
            return (c, format!("dated override: {c}"));
        }
        let tod = self.calendar.time_of_day(t);
        let business = tod >= self.open && tod < self.close;
        let base = if business {
            self.cfg.capacity
        } else {
            self.cfg.off_hours
        };
        let weekend = self.calendar.weekday(t) >= 5;
        if weekend && self.cfg.weekend != 1.0 {
            let c = ((base as f64 * self.cfg.weekend).ceil() as u32).max(1);
            (
                c,
                format!(
                    "{} x weekend {} = {c}",
                    if business {
                        "business hours"
                    } else {
                        "off hours"
                    },
                    self.cfg.weekend
                ),
            )
        } else {
            (
                base,
                format!(
                    "{}: {base}",
                    if business {
                        "business hours"
                    } else {
                        "off hours"
                    }
                ),
            )
        }
    }
}

impl Controller for Scheduled {
    fn period_s(&self) -> f64 {
        self.cfg.period.secs()
    }

    fn metrics(&self) -> Vec<String> {
        Vec::new()
    }

    fn evaluate(&mut self, obs: &Observation) -> Decision {
        let (desired, reason) = self.capacity_at(obs.now_s);
        Decision { desired, reason }
    }
}

/// One operator action: `{ at = "1h05m", instances = 20 }`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ActionConfig {
    /// When (local date or offset from the start).
    pub at: TimeRef,
    /// The replica count it sets.
    pub instances: u32,
}

/// `[autoscaler.<pool>]` with `policy = "manual"`: `actions = [{ at =
/// "1h05m", instances = 20 }]`, each setting the desired capacity once, as
/// `kubectl scale deployment api --replicas=20` does. Alone, the count
/// then stays; beside an HPA or a target policy (`policy = "combined"`)
/// that policy goes on from it at its next evaluation, as the real
/// controllers do with a manual scale.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ManualConfig {
    /// Always "manual".
    #[serde(default)]
    pub policy: Option<String>,
    /// The actions, in any order.
    pub actions: Vec<ActionConfig>,
    /// How often due actions are looked for (default 10 s): an action
    /// applies at the first look at or after its time.
    #[serde(default = "ten_seconds")]
    pub period: Duration,
}

fn ten_seconds() -> Duration {
    Duration(10.0)
}

/// The running manual policy: the actions by time, and how many applied.
pub struct Manual {
    period: f64,
    /// (simulated second, instances), by time.
    actions: Vec<(f64, u32)>,
    done: usize,
}

impl Manual {
    /// Checks the configuration; `Err((field, message))`.
    pub fn new(cfg: &ManualConfig, calendar: &Calendar) -> Result<Manual, (String, String)> {
        if cfg.actions.is_empty() {
            return issue(
                "actions",
                "a manual policy needs actions = [{ at = \"1h\", instances = 20 }]",
            );
        }
        if cfg.period.secs() <= 0.0 {
            return issue("period", "expected a period > 0");
        }
        let mut actions = Vec::new();
        for (i, a) in cfg.actions.iter().enumerate() {
            let t =
                a.at.resolve(calendar)
                    .map_err(|m| (format!("actions.{i}.at"), m))?;
            if t < 0.0 {
                return issue(format!("actions.{i}.at"), "the action is before the start");
            }
            actions.push((t, a.instances));
        }
        actions.sort_by(|a, b| a.0.total_cmp(&b.0));
        Ok(Manual {
            period: cfg.period.secs(),
            actions,
            done: 0,
        })
    }
}

impl Controller for Manual {
    fn period_s(&self) -> f64 {
        self.period
    }

    fn metrics(&self) -> Vec<String> {
        Vec::new()
    }

    /// The last action due and not yet applied sets the capacity; between
    /// actions the capacity is left as it is.
    fn evaluate(&mut self, obs: &Observation) -> Decision {
        let first = self.done;
        while self.done < self.actions.len() && self.actions[self.done].0 <= obs.now_s + 1e-9 {
            self.done += 1;
        }
        if self.done == first {
            return Decision {
                desired: obs.current,
                reason: String::new(),
            };
        }
        let (t, n) = self.actions[self.done - 1];
        Decision {
            desired: n,
            reason: format!("operator action at {t} s: scale to {n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched() -> Scheduled {
        let cfg = ScheduledConfig {
            policy: None,
            hours: "07:00-20:00".into(),
            capacity: 10,
            off_hours: 3,
            weekend: 0.5,
            overrides: vec![OverrideConfig {
                start: TimeRef::Text("4d".into()),
                end: TimeRef::Text("5d".into()),
                capacity: 30,
            }],
            period: Duration(60.0),
        };
        Scheduled::new(&cfg, &Calendar::undated()).unwrap()
    }

    #[test]
    fn business_hours_nights_weekends_and_overrides() {
        let s = sched();
        let h = 3600.0;
        assert_eq!(s.capacity_at(6.99 * h).0, 3);
        assert_eq!(s.capacity_at(7.0 * h).0, 10);
        assert_eq!(s.capacity_at(19.99 * h).0, 10);
        assert_eq!(s.capacity_at(20.0 * h).0, 3);
        // Friday (day 4) is overridden to 30 all day.
        assert_eq!(s.capacity_at(4.0 * 86400.0 + 2.0 * h).0, 30);
        // Saturday noon: 10 x 0.5; Saturday night: ceil(3 x 0.5) = 2.
        assert_eq!(s.capacity_at(5.0 * 86400.0 + 12.0 * h).0, 5);
        assert_eq!(s.capacity_at(5.0 * 86400.0 + 23.0 * h).0, 2);
    }

    #[test]
    fn manual_actions_apply_once_in_time_order() {
        let cfg = ManualConfig {
            policy: None,
            actions: vec![
                ActionConfig {
                    at: TimeRef::Text("2h".into()),
                    instances: 4,
                },
                ActionConfig {
                    at: TimeRef::Secs(3900.0),
                    instances: 20,
                },
            ],
            period: Duration(10.0),
        };
        let mut m = Manual::new(&cfg, &Calendar::undated()).unwrap();
        let at = |m: &mut Manual, t: f64, current: u32| {
            m.evaluate(&Observation {
                now_s: t,
                current,
                ready: current,
                metrics: &[],
                pods: &[],
            })
            .desired
        };
        assert_eq!(at(&mut m, 3890.0, 8), 8);
        assert_eq!(at(&mut m, 3900.0, 8), 20);
        // Once applied, an action does not fight a later change.
        assert_eq!(at(&mut m, 3910.0, 12), 12);
        assert_eq!(at(&mut m, 7200.0, 12), 4);
        let mut bad = cfg.clone();
        bad.actions[0].at = TimeRef::Secs(-5.0);
        assert_eq!(
            Manual::new(&bad, &Calendar::undated()).err().unwrap().0,
            "actions.0.at"
        );
    }
}
