//! Predictive scaling: forecast the load of the coming hour from the same
//! hour one season ago (seasonal-naive, Hyndman & Athanasopoulos,
//! *Forecasting: Principles and Practice*, §5.2), scaled by how today's
//! level compares with the season before, and provision for the forecast
//! peak `lead` ahead of time (the instance boot time) — the approach of AWS
//! EC2 Auto Scaling predictive scaling ("forecast only / forecast and
//! scale", with a scheduling buffer). Until a full season of history
//! exists, and whenever the load runs above the forecast, it acts as
//! target tracking on the current load, so a wrong forecast never leaves
//! the pool short.

use crate::policy::{issue, metric, minute, one, Controller, Decision, Observation};
use crate::units::Duration;
use serde::Deserialize;
use std::collections::VecDeque;

/// `[autoscaler.<pool>]` with `policy = "predictive"`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PredictiveConfig {
    /// Always "predictive".
    #[serde(default)]
    pub policy: Option<String>,
    /// Requests per second one instance should carry (the planned load).
    pub target_rps: f64,
    /// Seasonal period of the load (default 1 day).
    #[serde(default = "day")]
    pub season: Duration,
    /// How far ahead to provision (default 10 min: boot time and warm-up).
    #[serde(default = "ten_minutes")]
    pub lead: Duration,
    /// Forecast window after `lead` whose peak is provisioned (default 1 h).
    #[serde(default = "hour")]
    pub horizon: Duration,
    /// Fewest instances.
    #[serde(default = "one")]
    pub min: u32,
    /// Most instances.
    pub max: u32,
    /// Evaluation period (default 60 s).
    #[serde(default = "minute")]
    pub period: Duration,
    /// The reactive part scales in only to the highest need of this window
    /// (default 10 min), so noise does not flap it.
    #[serde(default = "ten_minutes")]
    pub scale_in_window: Duration,
}

fn day() -> Duration {
    Duration(86400.0)
}
fn ten_minutes() -> Duration {
    Duration(600.0)
}
fn hour() -> Duration {
    Duration(3600.0)
}

/// The running predictive policy.
pub struct Predictive {
    cfg: PredictiveConfig,
    /// (time, total load in requests/s), oldest first, one season + horizon.
    history: VecDeque<(f64, f64)>,
    /// (time, reactive need) within the scale-in window.
    recent: VecDeque<(f64, u32)>,
    /// Point forecast of the load at the last evaluation.
    point: Option<f64>,
}

impl Predictive {
    /// Checks the configuration; `Err((field, message))`.
    pub fn new(cfg: &PredictiveConfig) -> Result<Predictive, (String, String)> {
        if !(cfg.target_rps.is_finite() && cfg.target_rps > 0.0) {
            return issue(
                "target_rps",
                "expected requests per second per instance > 0",
            );
        }
        if cfg.min == 0 || cfg.max < cfg.min {
            return issue("max", "expected 1 <= min <= max");
        }
        for (f, d) in [
            ("season", cfg.season),
            ("horizon", cfg.horizon),
            ("period", cfg.period),
        ] {
            if d.secs() <= 0.0 {
                return issue(f, "expected a duration > 0");
            }
        }
        if cfg.lead.secs() + cfg.horizon.secs() >= cfg.season.secs() {
            return issue("horizon", "lead + horizon must be shorter than the season");
        }
        Ok(Predictive {
            cfg: cfg.clone(),
            history: VecDeque::new(),
            recent: VecDeque::new(),
            point: None,
        })
    }

    /// Mean load over `[a, b)` in the history, if any point falls there.
    fn mean(&self, a: f64, b: f64) -> Option<f64> {
        let (s, n) = self
            .history
            .iter()
            .filter(|p| p.0 >= a && p.0 < b)
            .fold((0.0, 0usize), |(s, n), p| (s + p.1, n + 1));
        (n > 0).then(|| s / n as f64)
    }

    /// The forecast peak load (requests/s) of `[now + lead, now + lead +
    /// horizon)`, and the level factor used; None before a season of
    /// history.
    pub fn forecast_peak(&self, now: f64) -> Option<(f64, f64)> {
        let (season, lead, horizon) = (
            self.cfg.season.secs(),
            self.cfg.lead.secs(),
            self.cfg.horizon.secs(),
        );
        let first = self.history.front()?.0;
        if now - first < season {
            return None;
        }
        let (a, b) = (now - season + lead, now - season + lead + horizon);
        let peak = self
            .history
            .iter()
            .filter(|p| p.0 >= a && p.0 < b)
            .map(|p| p.1)
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))?;
        // Level: the last hour against the same hour a season ago.
        let recent = self.mean(now - 3600.0, now + 1e-9);
        let before = self.mean(now - season - 3600.0, now - season + 1e-9);
        let level = match (recent, before) {
            (Some(r), Some(b)) if b > 0.0 => (r / b).clamp(0.5, 2.0),
            _ => 1.0,
        };
        Some((peak * level, level))
    }
}

impl Controller for Predictive {
    fn period_s(&self) -> f64 {
        self.cfg.period.secs()
    }

    fn metrics(&self) -> Vec<String> {
        vec![metric::RPS.to_string()]
    }

    fn forecast(&self) -> Option<f64> {
        self.point
    }

    fn evaluate(&mut self, obs: &Observation) -> Decision {
        let now = obs.now_s;
        // The point forecast of now, made from the season before (for the
        // forecast-against-actual chart).
        let (season, half) = (self.cfg.season.secs(), self.cfg.period.secs() / 2.0);
        self.point = match self.forecast_peak(now) {
            Some((_, level)) => self
                .mean(now - season - half, now - season + half)
                .map(|m| m * level),
            None => None,
        };
        let load = obs.metric(metric::RPS).map(|r| r * obs.ready as f64);
        if let Some(l) = load {
            self.history.push_back((now, l));
        }
        let keep = self.cfg.season.secs() + 3600.0 + self.cfg.period.secs();
        while self.history.front().is_some_and(|p| p.0 < now - keep) {
            self.history.pop_front();
        }
        let per = self.cfg.target_rps;
        let reactive = load.map(|l| {
            let need = (l / per).ceil() as u32;
            self.recent.push_back((now, need));
            let w = self.cfg.scale_in_window.secs();
            while self.recent.front().is_some_and(|p| p.0 <= now - w) {
                self.recent.pop_front();
            }
            self.recent.iter().map(|p| p.1).max().unwrap_or(need)
        });
        let predicted = self
            .forecast_peak(now)
            .map(|(f, level)| ((f / per).ceil() as u32, f, level));
        let (want, mut reason) = match (predicted, reactive) {
            (Some((p, f, level)), r) => {
                let r = r.unwrap_or(0);
                let why = format!(
                    "forecast peak {f:.1} rps in {:.0}-{:.0} min (seasonal naive x level {level:.2}) -> {p}; current load -> {r}",
                    self.cfg.lead.secs() / 60.0,
                    (self.cfg.lead.secs() + self.cfg.horizon.secs()) / 60.0
                );
                (p.max(r), why)
            }
            (None, Some(r)) => (
                r,
                format!(
                    "no full season of history yet: current load {:.1} rps; highest need in the last {:.0} min -> {r}",
                    load.unwrap_or(0.0),
                    self.cfg.scale_in_window.secs() / 60.0
                ),
            ),
            (None, None) => (obs.current, "no metric yet: keep".to_string()),
        };
        let desired = want.clamp(self.cfg.min, self.cfg.max);
        if desired != want {
            reason.push_str(&format!("; bounded to {desired}"));
        }
        Decision { desired, reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Metric;

    fn cfg() -> PredictiveConfig {
        PredictiveConfig {
            policy: None,
            target_rps: 10.0,
            season: Duration(86400.0),
            lead: Duration(600.0),
            horizon: Duration(3600.0),
            min: 1,
            max: 100,
            period: Duration(60.0),
            scale_in_window: Duration(60.0),
        }
    }

    /// Load of a day: 100 rps from 08:00 to 18:00, else 10.
    fn load(t: f64) -> f64 {
        let h = (t % 86400.0) / 3600.0;
        if (8.0..18.0).contains(&h) {
            100.0
        } else {
            10.0
        }
    }

    fn step(p: &mut Predictive, t: f64, ready: u32) -> Decision {
        let m = [Metric {
            name: "rps".into(),
            value: Some(load(t) / ready as f64),
        }];
        p.evaluate(&Observation {
            now_s: t,
            current: ready,
            ready,
            metrics: &m,
            pods: &[],
        })
    }

    #[test]
    fn reacts_until_a_season_then_scales_ahead_of_the_morning() {
        let mut p = Predictive::new(&cfg()).unwrap();
        let mut t = 0.0;
        while t < 86400.0 + 7.0 * 3600.0 {
            let d = step(&mut p, t, 2);
            if t < 86400.0 {
                assert_eq!(d.desired, (load(t) / 10.0).ceil() as u32, "reactive at {t}");
            }
            t += 60.0;
        }
        // Day 2, 07:00: the 08:00 peak is within lead..lead+horizon.
        let d = step(&mut p, 86400.0 + 7.0 * 3600.0, 2);
        assert_eq!(d.desired, 10, "{}", d.reason);
        assert!(d.reason.contains("forecast peak 100.0"), "{}", d.reason);
        // 06:00: the peak is still beyond the horizon.
        let mut q = Predictive::new(&cfg()).unwrap();
        let mut t = 0.0;
        while t < 86400.0 + 6.0 * 3600.0 - 1.0 {
            step(&mut q, t, 2);
            t += 60.0;
        }
        assert_eq!(step(&mut q, 86400.0 + 6.0 * 3600.0, 2).desired, 1);
    }

    #[test]
    fn rejects_bad_configs() {
        let mut c = cfg();
        c.target_rps = 0.0;
        assert_eq!(Predictive::new(&c).err().unwrap().0, "target_rps");
        let mut c = cfg();
        c.horizon = Duration(86400.0);
        assert_eq!(Predictive::new(&c).err().unwrap().0, "horizon");
    }
}
