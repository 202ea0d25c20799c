//! `passive_check = { max_fails = 3, fail_timeout = "30s" }`: nginx's
//! passive health checks (the `server` parameters of
//! ngx_http_upstream_module, the reference platform's `max_fails=3
//! fail_timeout=30s`). The balancer watches the answers it gets: after
//! `max_fails` failed attempts at an instance it takes it out of the
//! rotation for `fail_timeout`, then lets a request through again (the
//! probe); a probe that fails takes it out for another `fail_timeout`.
//! A success more than `fail_timeout` after the last failure clears the
//! count (ngx_http_upstream_round_robin.c: failures within the window
//! add up even with successes between them). What counts as failed is
//! what nginx always counts: a refused connection (a dead instance still
//! in the rotation) and a request lost with its instance; error answers
//! (`error_rate`) count only under `http_500`, which is not modelled.
//!
//! Without active checks, this is how the balancer learns of a failure:
//! after `max_fails` requests have failed, however long those take to
//! come — under heavy traffic sooner than any check interval.
//!
//! `outlier_detection = { consecutive_5xx = 5, interval = "10s",
//! base_ejection_time = "30s", max_ejection_time = "300s",
//! max_ejection_percent = 10 }` is Envoy's form (cluster.v3
//! OutlierDetection; source/common/upstream/outlier_detection_impl.cc):
//! `consecutive_5xx` failures in a row (refused connections, lost
//! requests and 5xx answers alike; any success resets the count) eject an
//! instance at once, unless that would put more than
//! `max_ejection_percent` of the instances out (with the default 10%, a
//! fleet of fewer than 10 never ejects one). It stays out base x n, n the
//! number of its ejections (one less for each sweep it spent in
//! rotation), at most `max_ejection_time`, and comes back at the first
//! sweep of the `interval` grid after that.

use crate::units::Duration;
use scalesim_sim::Time;
use serde::Deserialize;

/// `passive_check = { max_fails = 3, fail_timeout = "30s" }`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PassiveCheckConfig {
    /// Failed attempts that take an instance out (nginx default 1).
    #[serde(default = "max_fails")]
    pub max_fails: u32,
    /// The window failures are counted in, and how long an instance
    /// stays out (nginx default 10 s).
    #[serde(default = "fail_timeout")]
    pub fail_timeout: Duration,
}

fn max_fails() -> u32 {
    1
}
fn fail_timeout() -> Duration {
    Duration(10.0)
}

/// `outlier_detection = { consecutive_5xx = 5, ... }` (Envoy's names and
/// defaults).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OutlierConfig {
    /// Failures in a row that eject (Envoy default 5).
    #[serde(default = "consecutive")]
    pub consecutive_5xx: u32,
    /// The sweep that brings instances back (10 s).
    #[serde(default = "sweep")]
    pub interval: Duration,
    /// First ejection's length (30 s).
    #[serde(default = "base")]
    pub base_ejection_time: Duration,
    /// Longest ejection (300 s).
    #[serde(default = "longest")]
    pub max_ejection_time: Duration,
    /// Most instances out at once, % of the fleet (10).
    #[serde(default = "max_percent")]
    pub max_ejection_percent: u32,
}

fn consecutive() -> u32 {
    5
}
fn sweep() -> Duration {
    Duration(10.0)
}
fn base() -> Duration {
    Duration(30.0)
}
fn longest() -> Duration {
    Duration(300.0)
}
fn max_percent() -> u32 {
    10
}

impl OutlierConfig {
    /// Checks the numbers; `Err((field below outlier_detection, message))`.
    pub fn check(&self) -> Result<(), (String, String)> {
        if self.consecutive_5xx == 0 || self.consecutive_5xx > 1000 {
            return Err((
                "consecutive_5xx".into(),
                "expected 1 to 1000 failures in a row".into(),
            ));
        }
        for (f, d) in [
            ("interval", self.interval),
            ("base_ejection_time", self.base_ejection_time),
            ("max_ejection_time", self.max_ejection_time),
        ] {
            if !(d.secs().is_finite() && d.secs() > 0.0) {
                return Err((f.into(), "expected a positive time, such as \"30s\"".into()));
            }
        }
        if self.max_ejection_percent == 0 || self.max_ejection_percent > 100 {
            return Err((
                "max_ejection_percent".into(),
                "expected 1 to 100 (% of the fleet out at once)".into(),
            ));
        }
        Ok(())
    }
}

impl PassiveCheckConfig {
    /// Checks the numbers; `Err((field below passive_check, message))`.
    pub fn check(&self) -> Result<(), (String, String)> {
        if self.max_fails == 0 || self.max_fails > 1000 {
            return Err((
                "max_fails".into(),
                "expected 1 to 1000 failed attempts (nginx's max_fails=0, never out, is the same as leaving passive_check out)".into(),
            ));
        }
        let t = self.fail_timeout.secs();
        if !(t.is_finite() && t > 0.0) {
            return Err((
                "fail_timeout".into(),
                "expected a positive time, such as \"30s\"".into(),
            ));
        }
        Ok(())
    }
}

/// How the balancer judges what it sees.
enum Rule {
    /// nginx: `max_fails` within `fail_timeout`, out for `fail_timeout`.
    Nginx { max_fails: u32, window: Time },
    /// Envoy: consecutive failures, ejections growing, capped.
    Envoy(OutlierConfig),
}

/// What the balancer has seen of one instance.
#[derive(Clone, Copy, Default)]
struct Seen {
    /// Failures counted (nginx: within the window; Envoy: in a row).
    fails: u32,
    /// The last failure.
    last: Time,
    /// Envoy: ejections so far, less the sweeps spent back in rotation.
    ejections: u32,
    /// Envoy: out now, and when it came back last.
    out: bool,
    back_at: Time,
    /// The failure its first ejection was counted for.
    detected: Option<Time>,
}

/// Passive checks as they run.
pub(crate) struct Passive {
    rule: Rule,
    seen: Vec<Seen>,
    /// Envoy: instances out now.
    out: u32,
    /// Whether error answers (5xx) count as failures (Envoy's do).
    pub(crate) counts_errors: bool,
    /// Failures after warm-up the checks took out of rotation: the delay
    /// from each failure to its first ejection (s).
    pub(crate) detection: Vec<f64>,
}

impl Passive {
    /// nginx's checks.
    pub(crate) fn nginx(cfg: &PassiveCheckConfig) -> Passive {
        Passive::with(Rule::Nginx {
            max_fails: cfg.max_fails,
            window: cfg.fail_timeout.time(),
        })
    }

    /// Envoy's outlier detection.
    pub(crate) fn envoy(cfg: &OutlierConfig) -> Passive {
        Passive {
            counts_errors: true,
            ..Passive::with(Rule::Envoy(*cfg))
        }
    }

    fn with(rule: Rule) -> Passive {
        Passive {
            rule,
            seen: Vec::new(),
            out: 0,
            counts_errors: false,
            detection: Vec::new(),
        }
    }

    fn slot(&mut self, inst: u32) -> &mut Seen {
        let i = inst as usize;
        if self.seen.len() <= i {
            self.seen.resize(i + 1, Seen::default());
        }
        &mut self.seen[i]
    }

    /// An attempt at `inst` failed now, `fleet` instances in the
    /// balancer's list: how long to take it out for, if it is to be.
    pub(crate) fn failed(&mut self, inst: u32, now: Time, fleet: u32) -> Option<Time> {
        let out = self.out;
        let rule = match &self.rule {
            Rule::Nginx { max_fails, window } => Err((*max_fails, *window)),
            Rule::Envoy(c) => Ok(*c),
        };
        let f = self.slot(inst);
        f.fails += 1;
        f.last = now;
        match rule {
            Err((max_fails, window)) => (f.fails >= max_fails).then_some(window),
            Ok(c) => {
                if f.out || f.fails < c.consecutive_5xx {
                    return None;
                }
                // The cap counts the instances out, this one included.
                if 100 * (out as u64 + 1) > c.max_ejection_percent as u64 * fleet as u64 {
                    return None;
                }
                let i = c.interval.time().max(1);
                let sweeps_back = now.saturating_sub(f.back_at) / i;
                f.ejections = f.ejections.saturating_sub(sweeps_back as u32) + 1;
                let base = c.base_ejection_time.time();
                let longest = c.max_ejection_time.time().max(base);
                let len = (base * f.ejections as u64).min(longest);
                // Back at the first sweep at or after now + len.
                let back = (now + len).div_ceil(i) * i;
                f.out = true;
                self.out += 1;
                Some(back - now)
            }
        }
    }

    /// Instances out now (Envoy's ejections; 0 under nginx's rule).
    pub(crate) fn out(&self) -> u32 {
        self.out
    }

    /// Instance `inst` is back in the rotation now (Envoy: its counts are
    /// cleared).
    pub(crate) fn back(&mut self, inst: u32, now: Time) {
        let envoy = matches!(self.rule, Rule::Envoy(_));
        let f = self.slot(inst);
        if envoy && f.out {
            f.out = false;
            f.fails = 0;
            f.back_at = now;
            self.out -= 1;
        }
    }

    /// Instance `inst`, which failed at `failed_at`, was taken out now:
    /// the detection delay is counted once per failure (the probes that
    /// take it out again are not detections).
    pub(crate) fn ejected(&mut self, inst: u32, failed_at: Time, now: Time, warmup: Time) {
        let f = self.slot(inst);
        if f.detected != Some(failed_at) && failed_at >= warmup && failed_at <= now {
            f.detected = Some(failed_at);
            self.detection.push(scalesim_sim::to_secs(now - failed_at));
        }
    }

    /// An attempt at `inst` succeeded now: nginx clears the count with a
    /// success past the window, Envoy with any success.
    pub(crate) fn succeeded(&mut self, inst: u32, now: Time) {
        let window = match self.rule {
            Rule::Nginx { window, .. } => Some(window),
            Rule::Envoy(_) => None,
        };
        let f = self.slot(inst);
        match window {
            Some(w) if f.fails > 0 && now.saturating_sub(f.last) > w => f.fails = 0,
            Some(_) => {}
            None => f.fails = 0,
        }
    }
}
