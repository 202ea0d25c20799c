//! `breaker = { failures = 5, open_for = "5s" }`: a circuit breaker on a
//! caller's calls to one callee (Hystrix's and resilience4j's): closed,
//! it lets calls through and watches their answers; after `failures`
//! failed attempts in a row, or once at least `min_calls` attempts of the
//! last `window` came back with an error share of `error_rate` or more
//! (Hystrix: 20 calls, 50%, 10 s), it opens: calls fail at once without
//! reaching the callee ("short-circuited"), or get a degraded answer with
//! `fallback = "degraded"` (a default, a stale copy). After `open_for`
//! (Hystrix's sleep window, 5 s) it lets `half_open_calls` trial calls
//! through: if they all succeed it closes, if one fails it opens again.
//! Failed means an error, a timeout or a refusal, as Hystrix counts them.
//! One breaker per caller component and callee, as if its instances
//! shared what they see.

use super::resilience::Rolling;
use crate::units::Duration;
use scalesim_sim::Time;
use serde::Deserialize;

/// `breaker = { failures = 5, error_rate = 0.5, min_calls = 20, window =
/// "10s", open_for = "5s", half_open_calls = 1, fallback = "error" }`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BreakerConfig {
    /// Failed attempts in a row that open it.
    #[serde(default)]
    pub failures: Option<u32>,
    /// Error share over the window that opens it.
    #[serde(default)]
    pub error_rate: Option<f64>,
    /// Attempts the window needs before its error share counts.
    #[serde(default = "min_calls")]
    pub min_calls: u32,
    /// The window of `error_rate`.
    #[serde(default = "window")]
    pub window: Duration,
    /// How long it stays open before trial calls.
    #[serde(default = "open_for")]
    pub open_for: Duration,
    /// Trial calls let through half-open.
    #[serde(default = "half_open_calls")]
    pub half_open_calls: u32,
    /// What a short-circuited call gets: "error" (the default) or
    /// "degraded" (an answer, at once).
    #[serde(default)]
    pub fallback: BreakerFallback,
}

fn min_calls() -> u32 {
    20
}
fn window() -> Duration {
    Duration(10.0)
}
fn open_for() -> Duration {
    Duration(5.0)
}
fn half_open_calls() -> u32 {
    1
}

/// What a call the open breaker stops gets.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BreakerFallback {
    /// An error, at once.
    #[default]
    Error,
    /// A degraded answer, at once (counted as answered).
    Degraded,
}

impl BreakerConfig {
    /// Checks the numbers; `Err((field, message))`.
    pub fn check(&self) -> Result<(), (String, String)> {
        if self.failures.is_none() && self.error_rate.is_none() {
            return Err((
                "failures".into(),
                "a breaker opens on failures in a row (failures = 5) or an error share (error_rate = 0.5): give one".into(),
            ));
        }
        if self.failures == Some(0) {
            return Err((
                "failures".into(),
                "expected at least 1 failure in a row".into(),
            ));
        }
        if let Some(e) = self.error_rate {
            if !(e > 0.0 && e <= 1.0) {
                return Err((
                    "error_rate".into(),
                    format!("expected a share above 0 and at most 1, such as 0.5; got {e}"),
                ));
            }
        }
        for (f, d) in [("window", self.window), ("open_for", self.open_for)] {
            if !(d.secs().is_finite() && d.secs() > 0.0) {
                return Err((f.into(), "expected a positive time, such as \"5s\"".into()));
            }
        }
        if self.min_calls == 0 || self.half_open_calls == 0 {
            let f = if self.min_calls == 0 {
                "min_calls"
            } else {
                "half_open_calls"
            };
            return Err((f.into(), "expected at least 1 call".into()));
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    Closed,
    Open { until: Time },
    HalfOpen { admitted: u32, passed: u32 },
}

/// A breaker as it runs.
#[derive(Clone, Debug)]
pub struct Breaker {
    cfg: BreakerConfig,
    state: State,
    /// Failed attempts in a row.
    in_a_row: u32,
    /// Attempts (0) and failed ones (1) over the window.
    window: Rolling,
    /// Times it opened.
    pub opens: u64,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(cfg: BreakerConfig) -> Breaker {
        Breaker {
            cfg,
            state: State::Closed,
            in_a_row: 0,
            window: Rolling::new(cfg.window.secs()),
            opens: 0,
        }
    }

    /// What short-circuited calls get.
    pub fn fallback(&self) -> BreakerFallback {
        self.cfg.fallback
    }

    /// Whether a call may go now (a trial call half-open is counted).
    pub fn allows(&mut self, now: Time) -> bool {
        match self.state {
            State::Closed => true,
            State::Open { until } if now >= until => {
                self.state = State::HalfOpen {
                    admitted: 1,
                    passed: 0,
                };
                true
            }
            State::Open { .. } => false,
            State::HalfOpen { admitted, passed } if admitted < self.cfg.half_open_calls => {
                self.state = State::HalfOpen {
                    admitted: admitted + 1,
                    passed,
                };
                true
            }
            State::HalfOpen { .. } => false,
        }
    }

    /// An attempt it let through came back now, `ok` or not.
    pub fn record(&mut self, now: Time, ok: bool) {
        match self.state {
            State::HalfOpen { admitted, passed } => {
                if !ok {
                    self.open(now);
                } else if passed + 1 >= self.cfg.half_open_calls {
                    self.state = State::Closed;
                    self.in_a_row = 0;
                    self.window.clear();
                } else {
                    self.state = State::HalfOpen {
                        admitted,
                        passed: passed + 1,
                    };
                }
            }
            // An answer to a call sent before it opened.
            State::Open { .. } => {}
            State::Closed => {
                self.window.add(now, 0);
                if ok {
                    self.in_a_row = 0;
                    return;
                }
                self.window.add(now, 1);
                self.in_a_row += 1;
                let [calls, failed] = self.window.sums(now);
                let by_row = self.cfg.failures.is_some_and(|n| self.in_a_row >= n);
                let by_rate = self.cfg.error_rate.is_some_and(|e| {
                    calls >= self.cfg.min_calls as u64 && failed as f64 >= e * calls as f64
                });
                if by_row || by_rate {
                    self.open(now);
                }
            }
        }
    }

    fn open(&mut self, now: Time) {
        self.state = State::Open {
            until: now + self.cfg.open_for.time(),
        };
        self.opens += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> BreakerConfig {
        BreakerConfig {
            failures: Some(3),
            error_rate: None,
            min_calls: 20,
            window: Duration(10.0),
            open_for: Duration(5.0),
            half_open_calls: 1,
            fallback: BreakerFallback::Error,
        }
    }

    const S: Time = 1_000_000_000;

    #[test]
    fn opens_after_failures_in_a_row_and_probes_after_open_for() {
        let mut b = Breaker::new(cfg());
        for t in 0..2 {
            assert!(b.allows(t * S));
            b.record(t * S, false);
        }
        b.record(2 * S, true); // a success breaks the row
        for t in 3..6 {
            assert!(b.allows(t * S));
            b.record(t * S, false);
        }
        assert_eq!(b.opens, 1);
        assert!(!b.allows(6 * S), "open until 10 s");
        assert!(b.allows(10 * S), "the trial call");
        assert!(!b.allows(10 * S), "one trial at a time");
        b.record(10 * S, false);
        assert_eq!(b.opens, 2, "a failed trial opens it again");
        assert!(b.allows(15 * S));
        b.record(15 * S, true);
        assert!(b.allows(15 * S) && b.allows(15 * S), "closed");
    }

    #[test]
    fn an_error_share_counts_once_the_window_has_min_calls() {
        let mut b = Breaker::new(BreakerConfig {
            failures: None,
            error_rate: Some(0.5),
            ..cfg()
        });
        // 19 failures alone do not open it (Hystrix: 20 requests needed).
        for k in 0..19 {
            b.record(k * S / 10, false);
        }
        assert_eq!(b.opens, 0);
        b.record(2 * S, false);
        assert_eq!(b.opens, 1);
    }
}
