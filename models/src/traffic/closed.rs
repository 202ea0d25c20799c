//! Closed-loop sources: a fixed (or ramped) number of virtual users, each
//! of which sends a request, waits for its answer, thinks, and sends again
//! — how load testers drive a system (k6's VUs, Locust's users, JMeter's
//! threads, Gatling's closed injection) and how GPU benchmarks hold a
//! fixed concurrency (genai-perf `--concurrency`). The arrival rate is not
//! given: it is what the system lets the users do, X = N / (R + Z) (the
//! interactive response-time law).
//!
//! A source is closed when it has `virtual_users` or `stages`. Users start
//! sending at once (a k6 VU begins its first iteration when it starts).
//! `stages` ramp the number of users linearly from one target to the next
//! over each stage's duration, as k6's `ramping-vus` executor does; when
//! the target falls below the users in the loop, a user leaves instead of
//! sending its next request (k6 lets an iteration finish before it stops a
//! VU).

use crate::dist::{Dist, DistConfig};
use crate::units::Duration;
use scalesim_sim::{from_secs, SimRng, Time};
use serde::Deserialize;

/// Most virtual users one source may have (each is simulated).
pub const MAX_USERS: u32 = 1_000_000;

/// Least time between the end of a request that took no time (refused at
/// once) and the same user's next one: a client's round trip, so that a
/// loop of instant refusals still advances the clock.
pub const MIN_CYCLE: Time = 1_000_000;

/// One stage of a ramp: `{ duration = "5m", target = 100 }`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StageConfig {
    /// How long the ramp to `target` takes.
    pub duration: Duration,
    /// Users at the end of the stage.
    pub target: u32,
}

/// The closed-loop fields of a source, checked.
pub fn check(
    virtual_users: Option<u32>,
    think: Option<&DistConfig>,
    stages: &[StageConfig],
) -> Result<(), (String, String)> {
    if let Some(n) = virtual_users.filter(|&n| n > MAX_USERS) {
        return Err((
            "virtual_users".into(),
            format!("at most {MAX_USERS} virtual users per source (each is simulated), got {n}"),
        ));
    }
    if virtual_users.is_none() && stages.is_empty() {
        return Err((
            "think".into(),
            "think time belongs to a closed loop: give virtual_users = N (or stages)".into(),
        ));
    }
    if let Some(t) = think {
        t.check().map_err(|(f, m)| (format!("think.{f}"), m))?;
    }
    for (i, s) in stages.iter().enumerate() {
        if s.duration.secs().is_nan() || s.duration.secs() <= 0.0 {
            return Err((
                format!("stages.{i}.duration"),
                "expected a ramp time above 0, e.g. \"5m\"".into(),
            ));
        }
        if s.target > MAX_USERS {
            return Err((
                format!("stages.{i}.target"),
                format!(
                    "at most {MAX_USERS} virtual users per source, got {}",
                    s.target
                ),
            ));
        }
    }
    if virtual_users == Some(0) && stages.iter().all(|s| s.target == 0) {
        return Err((
            "virtual_users".into(),
            "expected at least 1 virtual user (or stages that ramp up to some)".into(),
        ));
    }
    Ok(())
}

/// The virtual users of a closed source as they run.
pub struct Users {
    think: Dist,
    think_mean_s: f64,
    rng: SimRng,
    /// Ramp knots: (time, target), linear between them, flat after.
    knots: Vec<(Time, f64)>,
    /// Users in the loop (sending, waiting or thinking).
    active: u32,
    horizon: Time,
}

impl Users {
    /// `start` users at time 0, then the `stages`; thinking `think`.
    pub fn new(
        start: u32,
        think: Option<&DistConfig>,
        stages: &[StageConfig],
        horizon_s: f64,
        rng: SimRng,
    ) -> Users {
        let mut knots = vec![(0, start as f64)];
        let mut t = 0;
        for s in stages {
            t += from_secs(s.duration.secs());
            knots.push((t, s.target as f64));
        }
        Users {
            think: think.map_or(Dist::Const(0), DistConfig::sampler),
            think_mean_s: think.map_or(0.0, DistConfig::mean),
            rng,
            knots,
            active: 0,
            horizon: from_secs(horizon_s),
        }
    }

    /// The target number of users at `t` (whole users: rounded down).
    fn target(&self, t: Time) -> u32 {
        let k = &self.knots;
        let i = k.partition_point(|&(x, _)| x <= t);
        let v = match (k.get(i.wrapping_sub(1)), k.get(i)) {
            (Some(&(x0, y0)), Some(&(x1, y1))) => {
                y0 + (y1 - y0) * (t - x0) as f64 / (x1 - x0).max(1) as f64
            }
            (Some(&(_, y)), None) => y,
            _ => k[0].1,
        };
        (v + 1e-9).floor() as u32
    }

    /// Users that start at `now` (they send at once), and when the ramp
    /// next wants one more.
    pub fn due(&mut self, now: Time) -> (u32, Option<Time>) {
        let want = self.target(now);
        let starts = want.saturating_sub(self.active);
        self.active += starts;
        (starts, self.next_rise(now))
    }

    /// The first time after `now` when the target exceeds the users in
    /// the loop.
    fn next_rise(&self, now: Time) -> Option<Time> {
        let goal = (self.active + 1) as f64;
        for w in self.knots.windows(2) {
            let ((x0, y0), (x1, y1)) = (w[0], w[1]);
            if x1 <= now || y1 < goal {
                continue;
            }
            // Where the segment reaches `goal` (it may already be there).
            let at = if y0 >= goal {
                x0
            } else {
                x0 + ((goal - y0) / (y1 - y0) * (x1 - x0) as f64).ceil() as Time
            };
            let at = at.max(now + 1);
            return (at <= self.horizon).then_some(at);
        }
        None
    }

    /// A user is about to send at `now`: false when it leaves instead (the
    /// ramp wants fewer users).
    pub fn sends(&mut self, now: Time) -> bool {
        if self.active > self.target(now) {
            self.active -= 1;
            return false;
        }
        true
    }

    /// A user's request, sent at `sent`, ended at `now`: when it sends
    /// again (after thinking), or None past the horizon.
    pub fn next_send(&mut self, sent: Time, now: Time) -> Option<Time> {
        let think = self.think.sample(&mut self.rng);
        let mut t = now + think;
        if now == sent {
            t = t.max(now + MIN_CYCLE);
        }
        (t <= self.horizon).then_some(t)
    }

    /// Users in the loop now.
    pub fn active(&self) -> u32 {
        self.active
    }

    /// The largest number of users the ramp reaches.
    pub fn peak(&self) -> u32 {
        self.knots.iter().map(|k| k.1 as u32).max().unwrap_or(0)
    }

    /// Mean think time, seconds.
    pub fn think_s(&self) -> f64 {
        self.think_mean_s
    }
}
