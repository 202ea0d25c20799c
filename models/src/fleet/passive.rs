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

/// What the balancer has seen of each instance.
pub(crate) struct Passive {
    max_fails: u32,
    /// `fail_timeout`.
    pub(crate) window: Time,
    /// Per instance: failed attempts counted, and when the last was.
    fails: Vec<(u32, Time)>,
    /// Per instance: the failure its first ejection was counted for.
    seen: Vec<Time>,
    /// Failures after warm-up the checks took out of rotation: the delay
    /// from each failure to its first ejection (s).
    pub(crate) detection: Vec<f64>,
}

impl Passive {
    pub(crate) fn new(cfg: &PassiveCheckConfig) -> Passive {
        Passive {
            max_fails: cfg.max_fails,
            window: cfg.fail_timeout.time(),
            fails: Vec::new(),
            seen: Vec::new(),
            detection: Vec::new(),
        }
    }

    fn slot(&mut self, inst: u32) -> &mut (u32, Time) {
        let i = inst as usize;
        if self.fails.len() <= i {
            self.fails.resize(i + 1, (0, 0));
        }
        &mut self.fails[i]
    }

    /// An attempt at `inst` failed now: whether it is to be taken out.
    pub(crate) fn failed(&mut self, inst: u32, now: Time) -> bool {
        let max = self.max_fails;
        let f = self.slot(inst);
        f.0 += 1;
        f.1 = now;
        f.0 >= max
    }

    /// Instance `inst`, which failed at `failed_at`, was taken out now:
    /// the detection delay is counted once per failure (the probes that
    /// take it out again are not detections).
    pub(crate) fn ejected(&mut self, inst: u32, failed_at: Time, now: Time, warmup: Time) {
        let i = inst as usize;
        if self.seen.len() <= i {
            self.seen.resize(i + 1, Time::MAX);
        }
        if self.seen[i] != failed_at && failed_at >= warmup && failed_at <= now {
            self.seen[i] = failed_at;
            self.detection.push(scalesim_sim::to_secs(now - failed_at));
        }
    }

    /// An attempt at `inst` succeeded now: a success past the window
    /// clears the count.
    pub(crate) fn succeeded(&mut self, inst: u32, now: Time) {
        let window = self.window;
        let f = self.slot(inst);
        if f.0 > 0 && now.saturating_sub(f.1) > window {
            f.0 = 0;
        }
    }
}
