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
//!
//! A `session` gives a user's visit a length: `requests` per session, a
//! fixed count (a k6 iteration, a JMeter loop count) or geometric with that
//! mean (each answer ends the session with probability 1 / mean). On a
//! closed source a user whose session ended starts the next one after its
//! think time (the next k6 iteration), and the sessions completed are
//! counted (k6's `iterations`). On an open source (`rate`) each arrival is
//! a new user starting a session (the partly-open model of Schroeder,
//! Wierman and Harchol-Balter, "Open versus closed: a cautionary tale",
//! NSDI 2006): it sends its next request after thinking, and leaves when
//! its session is over, so the users in the system follow Little's law,
//! N = sessions/s x session length.

use crate::dist::{Dist, DistConfig};
use crate::units::Duration;
use rand::Rng;
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

/// Most requests in one session (a request carries the count left in 16
/// bits; a longer visit is a closed loop without `session`).
pub const MAX_SESSION: u32 = 65_535;

/// How a session's request count is drawn.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum SessionCount {
    /// Exactly `requests` (a k6 iteration, a JMeter loop count).
    #[default]
    Fixed,
    /// Geometric with mean `requests`: each answer ends the session with
    /// probability 1 / requests (the partly-open model's sessions).
    Geometric,
}

/// `session = { requests = 10 }`: what a user does before it leaves.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SessionConfig {
    /// Requests per session (the mean, when `count = "geometric"`).
    pub requests: f64,
    /// "fixed" (default) or "geometric".
    #[serde(default)]
    pub count: SessionCount,
}

impl SessionConfig {
    /// Checks the count: a whole number of requests for a fixed count.
    pub fn check(&self) -> Result<(), (String, String)> {
        let r = self.requests;
        let bad = |m: String| Err(("session.requests".to_string(), m));
        if r.is_nan() || r < 1.0 {
            return bad(format!("expected at least 1 request per session, got {r}"));
        }
        if r > MAX_SESSION as f64 {
            return bad(format!(
                "at most {MAX_SESSION} requests per session (the count left rides on each request); for a user that never leaves, drop session"
            ));
        }
        if self.count == SessionCount::Fixed && r.fract() != 0.0 {
            return bad(format!(
                "a fixed count is a whole number of requests, got {r}; for a mean, write count = \"geometric\""
            ));
        }
        Ok(())
    }
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

/// What a user does once it has its answer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Next {
    /// Sends its session's next request at this time, with this many left
    /// after it.
    Send(Time, u16),
    /// Starts a new session (or, without sessions, simply sends) at this
    /// time.
    Begin(Time),
    /// Leaves (its session is over, or the run is).
    Leave,
}

/// The virtual users of a source as they run: a closed loop's, or the
/// users an open source's sessions bring.
pub struct Users {
    think: Dist,
    think_mean_s: f64,
    rng: SimRng,
    /// Ramp knots: (time, target), linear between them, flat after (empty
    /// for an open source: its arrivals bring the users).
    knots: Vec<(Time, f64)>,
    session: Option<SessionConfig>,
    /// Users in the loop (sending, waiting or thinking).
    active: u32,
    /// The most users in the loop at once.
    most: u32,
    /// Time integral of `active` up to `last` (user-ns).
    area: f64,
    last: Time,
    /// Sessions finished.
    sessions: u64,
    horizon: Time,
}

impl Users {
    /// A closed loop: `start` users at time 0, then the `stages`; thinking
    /// `think`; in `session`s when given.
    pub fn closed(
        start: u32,
        think: Option<&DistConfig>,
        stages: &[StageConfig],
        session: Option<SessionConfig>,
        horizon_s: f64,
        rng: SimRng,
    ) -> Users {
        let mut knots = vec![(0, start as f64)];
        let mut t = 0;
        for s in stages {
            t += from_secs(s.duration.secs());
            knots.push((t, s.target as f64));
        }
        let mut u = Users::open(think, session, horizon_s, rng);
        u.knots = knots;
        u
    }

    /// The users of an open source whose arrivals start `session`s.
    pub fn open(
        think: Option<&DistConfig>,
        session: Option<SessionConfig>,
        horizon_s: f64,
        rng: SimRng,
    ) -> Users {
        Users {
            think: think.map_or(Dist::Const(0), DistConfig::sampler),
            think_mean_s: think.map_or(0.0, DistConfig::mean),
            rng,
            knots: Vec::new(),
            session,
            active: 0,
            most: 0,
            area: 0.0,
            last: 0,
            sessions: 0,
            horizon: from_secs(horizon_s),
        }
    }

    /// Open: arrivals bring the users (no ramp).
    fn is_open(&self) -> bool {
        self.knots.is_empty()
    }

    /// `active` changes by `by` at `now`.
    fn change(&mut self, now: Time, by: i64) {
        self.area += self.active as f64 * now.saturating_sub(self.last) as f64;
        self.last = self.last.max(now);
        self.active = (self.active as i64 + by).max(0) as u32;
        self.most = self.most.max(self.active);
    }

    /// The target number of users at `t` (whole users: rounded down).
    fn target(&self, t: Time) -> u32 {
        let k = &self.knots;
        if k.is_empty() {
            return u32::MAX;
        }
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
        self.change(now, starts as i64);
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
            self.change(now, -1);
            return false;
        }
        true
    }

    /// A session starts at `now` (an open source's arrival is a new user):
    /// the requests it has left after this first one.
    pub fn begin(&mut self, now: Time) -> u16 {
        if self.is_open() {
            self.change(now, 1);
        }
        let Some(s) = self.session else { return 0 };
        let n = match s.count {
            SessionCount::Fixed => s.requests,
            SessionCount::Geometric => {
                // Inversion: the number of trials to the first success of
                // probability 1 / mean.
                let p = 1.0 / s.requests;
                let u: f64 = 1.0 - self.rng.random::<f64>();
                if p >= 1.0 {
                    1.0
                } else {
                    (u.ln() / (1.0 - p).ln()).floor() + 1.0
                }
            }
        };
        (n.min(MAX_SESSION as f64) as u16).saturating_sub(1)
    }

    /// A user's request, sent at `sent` with `left` requests after it in
    /// its session, ended at `now`: what the user does next.
    pub fn answered(&mut self, sent: Time, now: Time, left: u16) -> Next {
        let session_over = self.session.is_some() && left == 0;
        if session_over {
            self.sessions += 1;
            if self.is_open() {
                self.change(now, -1);
                return Next::Leave;
            }
        }
        let think = self.think.sample(&mut self.rng);
        let mut t = now + think;
        if now == sent {
            t = t.max(now + MIN_CYCLE);
        }
        if t > self.horizon {
            if self.is_open() {
                self.change(now, -1);
            }
            return Next::Leave;
        }
        match self.session {
            Some(_) if left > 0 => Next::Send(t, left - 1),
            _ => Next::Begin(t),
        }
    }

    /// Time integral of the users in the loop from 0 to `now`, user-seconds.
    pub fn user_seconds(&self, now: Time) -> f64 {
        (self.area + self.active as f64 * now.saturating_sub(self.last) as f64) / 1e9
    }

    /// The most users in the loop at once so far.
    pub fn most(&self) -> u32 {
        self.most
    }

    /// Sessions finished so far (0 without `session`).
    pub fn sessions(&self) -> u64 {
        self.sessions
    }

    /// Whether the users come in sessions.
    pub fn has_sessions(&self) -> bool {
        self.session.is_some()
    }

    /// Users in the loop now.
    pub fn active(&self) -> u32 {
        self.active
    }

    /// The largest number of users the ramp reaches (0 for an open
    /// source: see [`Users::most`]).
    pub fn peak(&self) -> u32 {
        self.knots.iter().map(|k| k.1 as u32).max().unwrap_or(0)
    }

    /// Mean think time, seconds.
    pub fn think_s(&self) -> f64 {
        self.think_mean_s
    }
}
