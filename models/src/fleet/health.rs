//! `health_check`: active health checks by the load balancer in front of
//! a fleet, as ELB target groups and nginx's upstream check module
//! (tengine) run them: every `interval` the balancer checks each instance;
//! a check fails when no answer comes within `timeout`; `fall`
//! consecutive failed checks take the instance out of rotation, `rise`
//! consecutive good ones put it back.
//!
//! Without health checks the balancer learns of a failure at once. With
//! them, a failed instance keeps its place in the rotation until the
//! checks see it: every request sent there fails at once (a connection
//! refused: 502), and a `least_conn` balancer, seeing it idle, sends it
//! more. Checks run on a fixed grid whose phase is uniform against the
//! failure (as ELB's and the kubelet's do), so the detection delay is
//! uniform on ((fall - 1) interval + timeout, fall interval + timeout],
//! of mean (fall - 1/2) interval + timeout — a crashed host does not
//! answer, so each failing check takes its full timeout. An instance
//! repaired in place (or back from an outage) re-enters after `rise` good
//! checks: uniform on ((rise - 1) interval, rise interval]. New instances
//! enter after `ready_delay`, their registration grace.

use crate::fleet::pool::Phase;
use crate::flow::{CompId, Component, Ev, System};
use crate::units::Duration;
use rand::Rng;
use scalesim_sim::{from_secs, to_secs, Scheduler, SimRng, Time};
use serde::Deserialize;

/// Most consecutive checks `rise` or `fall` may ask (ELB allows 2-10).
const MAX_COUNT: u32 = 10;

/// `health_check = { interval = "5s", timeout = "4s", rise = 2, fall = 3 }`
/// (the reference platform's nginx: `check interval=5000 rise=2 fall=3
/// timeout=4000`).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HealthCheckConfig {
    /// Time between two checks of an instance (tengine default 30 s).
    #[serde(default = "interval")]
    pub interval: Duration,
    /// How long a check waits for an answer (tengine default 1 s).
    #[serde(default = "timeout")]
    pub timeout: Duration,
    /// Good checks in a row that bring an instance back (default 2).
    #[serde(default = "rise")]
    pub rise: u32,
    /// Failed checks in a row that take it out (tengine default 5).
    #[serde(default = "fall")]
    pub fall: u32,
}

fn interval() -> Duration {
    Duration(30.0)
}
fn timeout() -> Duration {
    Duration(1.0)
}
fn rise() -> u32 {
    2
}
fn fall() -> u32 {
    5
}

impl HealthCheckConfig {
    /// Checks the numbers; `Err((field below health_check, message))`.
    pub fn check(&self) -> Result<(), (String, String)> {
        let (i, t) = (self.interval.secs(), self.timeout.secs());
        if i.is_nan() || i <= 0.0 {
            return Err((
                "interval".into(),
                "expected a time between checks such as \"5s\"".into(),
            ));
        }
        if t.is_nan() || t <= 0.0 || t >= i {
            return Err((
                "timeout".into(),
                format!(
                    "expected a positive timeout shorter than the interval ({i}s), as ELB requires"
                ),
            ));
        }
        for (field, n) in [("rise", self.rise), ("fall", self.fall)] {
            if n == 0 || n > MAX_COUNT {
                return Err((
                    field.into(),
                    format!("expected 1 to {MAX_COUNT} checks in a row (got {n})"),
                ));
            }
        }
        Ok(())
    }

    /// Time from a failure until the checks take the instance out.
    pub fn detection(&self, rng: &mut SimRng) -> Time {
        let t = self.interval.secs();
        let phase: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
        from_secs(phase * t + (self.fall - 1) as f64 * t + self.timeout.secs())
    }

    /// Time from a recovery until the checks put the instance back.
    pub fn recovery(&self, rng: &mut SimRng) -> Time {
        let t = self.interval.secs();
        let phase: f64 = 1.0 - rng.random::<f64>();
        from_secs(phase * t + (self.rise - 1) as f64 * t)
    }

    /// Mean detection delay, seconds: (fall - 1/2) interval + timeout.
    pub fn mean_detection_s(&self) -> f64 {
        (self.fall as f64 - 0.5) * self.interval.secs() + self.timeout.secs()
    }
}

/// A fleet's health checks as they run.
pub(crate) struct Health {
    cfg: HealthCheckConfig,
    /// Draws the phase of the checks against each failure and recovery.
    rng: SimRng,
    /// Per instance: when it last failed.
    failed_at: Vec<Time>,
    /// For each instance taken out of rotation by the checks after a
    /// failure after warm-up: the delay from the failure to it (s).
    pub(crate) detection: Vec<f64>,
}

impl Health {
    /// Checks under `cfg`, their phases drawn from `rng`.
    pub(crate) fn new(cfg: HealthCheckConfig, rng: SimRng) -> Health {
        Health {
            cfg,
            rng,
            failed_at: Vec::new(),
            detection: Vec::new(),
        }
    }

    /// Instance `inst` failed at `now`: when its checks will see it.
    pub(crate) fn failed(&mut self, inst: u32, now: Time) -> Time {
        let i = inst as usize;
        if self.failed_at.len() <= i {
            self.failed_at.resize(i + 1, 0);
        }
        self.failed_at[i] = now;
        self.cfg.detection(&mut self.rng)
    }

    /// An instance works again: when its checks put it back.
    pub(crate) fn recovered(&mut self) -> Time {
        self.cfg.recovery(&mut self.rng)
    }
}

impl System {
    /// The health checks of instance `inst` of `comp` (generation `gen`)
    /// just saw it fail (`healthy` false: out of rotation) or pass again
    /// (true: ready). Stale when the instance changed since.
    pub(crate) fn health_checked(
        &mut self,
        s: &mut Scheduler<Ev>,
        comp: CompId,
        inst: u32,
        gen: u32,
        healthy: bool,
    ) {
        let now = s.now();
        let c = comp.index();
        let warmup = self.cfg.warmup;
        let (Some(h), Some(pool)) = (self.health[c].as_mut(), self.comps[c].fleet_mut()) else {
            return;
        };
        let x = pool.instances()[inst as usize];
        if x.generation() != gen {
            return;
        }
        if !healthy {
            // Still failed (not repaired before the checks saw it).
            if matches!(x.phase, Phase::Down | Phase::Failed | Phase::Gone) && pool.delist(inst) {
                let since = h.failed_at[inst as usize];
                if since >= warmup {
                    h.detection.push(to_secs(now - since));
                }
                let name = self.cfg.components[c].0.clone();
                self.incident(now, name, inst, "ejected by health checks");
            }
            return;
        }
        if x.phase == Phase::Down {
            self.instance_up(s, comp, inst, gen);
        }
    }
}
