//! What a caller does when an answer is slow or bad: a timeout per attempt,
//! retries with back-off and a budget, and a hedged second attempt — the
//! policies of a traffic source (the client) and of a pool's calls
//! (`[components.<name>.call.<callee>]`, the proxy in front of the callee).
//! The router carries them out ([`crate::flow::attempts`]); this file is
//! their configuration, its checks, and the two rules that draw numbers:
//! the back-off and the budget.
//!
//! - `timeout`: how long the caller waits for one attempt (nginx
//!   `proxy_read_timeout`, Envoy `per_try_timeout`, a browser's patience).
//!   The callee does not hear of it: its work goes on and its answer, when
//!   it comes, is wasted — unless `on_timeout = "cancel"`, when the callee
//!   drops the work at its next step (a gRPC deadline propagated).
//! - `retries = { attempts, on, backoff, budget, next_upstream }`:
//!   `attempts` counts the first one (nginx `proxy_next_upstream_tries`,
//!   Envoy `num_retries + 1`); `on` which answers are retried (nginx's
//!   `proxy_next_upstream error timeout` by default); the back-off is
//!   capped exponential with jitter (Brooker, "Exponential Backoff And
//!   Jitter", AWS Architecture Blog, 2015); the budget is Finagle's
//!   `RetryBudget` (retries at most `ratio` of the requests of the last
//!   `window`, plus `min_per_s`: twitter.github.io/finagle, "Retries").
//! - `hedge = { after }`: one more attempt when the first has not answered
//!   after `after`; the first answer wins and the other is cancelled
//!   (Dean and Barroso, "The Tail at Scale", CACM 2013).
//! - `breaker = { failures, error_rate, open_for, ... }`: a circuit
//!   breaker ([`crate::flow::breaker`]).

use crate::flow::Outcome;
use crate::units::Duration;
use rand::Rng;
use scalesim_sim::{from_secs, SimRng, Time};
use serde::Deserialize;

/// Most attempts a retry policy may make (nested retries multiply: three
/// layers of 10 would be 1,000 attempts per request).
pub const MAX_ATTEMPTS: u32 = 10;

/// A caller's policy as written: on a source, or per callee of a pool.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CallPolicyConfig {
    /// How long one attempt is waited for.
    #[serde(default)]
    pub timeout: Option<Duration>,
    /// What the callee does with an attempt timed out: "continue" (the
    /// default: the work goes on, wasted) or "cancel".
    #[serde(default)]
    pub on_timeout: OnTimeout,
    /// Retries.
    #[serde(default)]
    pub retries: Option<RetryConfig>,
    /// A hedged second attempt.
    #[serde(default)]
    pub hedge: Option<HedgeConfig>,
    /// A circuit breaker (see [`crate::flow::breaker`]).
    #[serde(default)]
    pub breaker: Option<crate::flow::breaker::BreakerConfig>,
}

/// What becomes of the callee's work once its caller timed out.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OnTimeout {
    /// The callee finishes it; its answer is wasted.
    #[default]
    Continue,
    /// The callee drops it at its next step (before it starts service, or
    /// before its next call).
    Cancel,
}

/// `retries = { attempts = 3, on = ["error", "timeout"], backoff = { base
/// = "100ms", max = "2s", jitter = "full" }, budget = 0.2 }`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    /// Attempts in all, the first included (1: no retry).
    pub attempts: u32,
    /// Which answers are retried: "error" (the callee failed: a refused
    /// connection, a lost instance; 502), "timeout" (a timeout here or a
    /// `queue_timeout` on the way; 504), "rejected" (a full queue, 503; a
    /// limiter, 429);
    /// "5xx" is all three. Default `["error", "timeout"]`, as nginx.
    #[serde(default = "default_on")]
    pub on: Vec<String>,
    /// Wait before each retry (absent: retry at once, as nginx does).
    #[serde(default)]
    pub backoff: Option<BackoffConfig>,
    /// The most retries may add, as a share of requests.
    #[serde(default)]
    pub budget: Option<BudgetConfig>,
    /// Send a retry to another instance than the one that failed (nginx
    /// `proxy_next_upstream`: a request never tries the same server twice
    /// while others are left).
    #[serde(default)]
    pub next_upstream: bool,
}

fn default_on() -> Vec<String> {
    vec!["error".into(), "timeout".into()]
}

/// `backoff = { base = "100ms", max = "2s", jitter = "full" }`: retry `n`
/// waits up to `min(max, base x 2^(n-1))`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BackoffConfig {
    /// The first retry's wait (its upper bound under jitter).
    pub base: Duration,
    /// The longest wait (default 10 x base, as Envoy).
    #[serde(default)]
    pub max: Option<Duration>,
    /// "full" (the default: uniform on [0, wait)), "equal" (half the wait
    /// plus a uniform share of the other half) or "none".
    #[serde(default)]
    pub jitter: Jitter,
}

/// How a back-off wait is spread.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Jitter {
    /// Uniform on [0, w).
    #[default]
    Full,
    /// w/2 + uniform on [0, w/2).
    Equal,
    /// Exactly w.
    None,
}

/// `budget = 0.2`, or `budget = { ratio = 0.2, min_per_s = 10, window =
/// "10s" }` (Finagle's defaults).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BudgetConfig {
    /// Retries allowed per request of the window.
    pub ratio: f64,
    /// Retries allowed per second whatever the traffic.
    pub min_per_s: f64,
    /// How far back requests count.
    pub window: Duration,
}

impl<'de> Deserialize<'de> for BudgetConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{self, value::MapAccessDeserializer, MapAccess, Visitor};
        use std::fmt;
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Table {
            ratio: f64,
            #[serde(default = "min_per_s")]
            min_per_s: f64,
            #[serde(default = "window")]
            window: Duration,
        }
        fn min_per_s() -> f64 {
            10.0
        }
        fn window() -> Duration {
            Duration(10.0)
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BudgetConfig;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a share of requests that may be retried, such as 0.2, or { ratio = 0.2, min_per_s = 10, window = \"10s\" }")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<BudgetConfig, E> {
                Ok(BudgetConfig {
                    ratio: v,
                    min_per_s: min_per_s(),
                    window: window(),
                })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<BudgetConfig, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<BudgetConfig, E> {
                self.visit_f64(v as f64)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<BudgetConfig, A::Error> {
                let t = Table::deserialize(MapAccessDeserializer::new(map))?;
                Ok(BudgetConfig {
                    ratio: t.ratio,
                    min_per_s: t.min_per_s,
                    window: t.window,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// `hedge = { after = "50ms" }`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HedgeConfig {
    /// How long the first attempt runs alone (Dean and Barroso suggest
    /// the 95th percentile of its latency).
    pub after: Duration,
}

/// Outcome bits of `on`.
const ON_ERROR: u8 = 1;
const ON_TIMEOUT: u8 = 2;
const ON_REJECTED: u8 = 4;

impl CallPolicyConfig {
    /// Whether it asks for anything.
    pub fn is_empty(&self) -> bool {
        self.timeout.is_none()
            && self.retries.is_none()
            && self.hedge.is_none()
            && self.breaker.is_none()
    }

    /// Checks the numbers; `Err((field, message))`. `least_s`: the
    /// shortest answer the callee can give (a timeout below it always
    /// fires).
    pub fn check(&self, least_s: f64) -> Result<(), (String, String)> {
        if let Some(t) = self.timeout {
            if t.secs().is_nan() || t.secs() <= 0.0 {
                return Err((
                    "timeout".into(),
                    "expected a positive time to wait, such as \"5s\"".into(),
                ));
            }
            if t.secs() <= least_s {
                return Err((
                    "timeout".into(),
                    format!(
                        "a timeout of {}s is no longer than the shortest possible answer ({}s): every attempt would time out; give a timeout above it",
                        t.secs(),
                        least_s
                    ),
                ));
            }
        } else if self.on_timeout == OnTimeout::Cancel {
            return Err((
                "on_timeout".into(),
                "on_timeout needs a timeout (add timeout = \"5s\")".into(),
            ));
        }
        if let Some(r) = &self.retries {
            r.check().map_err(|(f, m)| (format!("retries.{f}"), m))?;
        }
        if let Some(b) = &self.breaker {
            b.check().map_err(|(f, m)| (format!("breaker.{f}"), m))?;
        }
        if let Some(h) = self.hedge {
            if h.after.secs().is_nan() || h.after.secs() <= 0.0 {
                return Err((
                    "hedge.after".into(),
                    "expected a positive delay before the second attempt, such as the callee's p95 (\"50ms\")".into(),
                ));
            }
        }
        Ok(())
    }

    /// The policy as the router applies it.
    pub fn compile(&self) -> Policy {
        Policy {
            timeout: self.timeout.map(|t| t.time()),
            cancel: self.on_timeout == OnTimeout::Cancel,
            attempts: self.retries.as_ref().map_or(1, |r| r.attempts as u8),
            on: self
                .retries
                .as_ref()
                .map_or(0, |r| on_mask(&r.on).unwrap_or(0)),
            backoff: self.retries.as_ref().and_then(|r| r.backoff).map(|b| {
                let base = b.base.secs();
                Backoff {
                    base,
                    max: b.max.map_or(10.0 * base, |m| m.secs()),
                    jitter: b.jitter,
                }
            }),
            budget: self.retries.as_ref().and_then(|r| r.budget),
            next_upstream: self.retries.as_ref().is_some_and(|r| r.next_upstream),
            hedge: self.hedge.map(|h| h.after.time()),
            breaker: self.breaker,
        }
    }
}

/// The bits of `on`, or the first name it does not know.
fn on_mask(on: &[String]) -> Result<u8, String> {
    let mut m = 0;
    for o in on {
        m |= match o.as_str() {
            "error" | "502" => ON_ERROR,
            "timeout" | "504" => ON_TIMEOUT,
            "rejected" | "503" | "429" => ON_REJECTED,
            "5xx" => ON_ERROR | ON_TIMEOUT | ON_REJECTED,
            _ => return Err(o.clone()),
        };
    }
    Ok(m)
}

impl RetryConfig {
    fn check(&self) -> Result<(), (String, String)> {
        if self.attempts == 0 {
            return Err((
                "attempts".into(),
                "expected at least 1 attempt (1: no retry; 3: the first and two retries)".into(),
            ));
        }
        if self.attempts > MAX_ATTEMPTS {
            return Err((
                "attempts".into(),
                format!("at most {MAX_ATTEMPTS} attempts (retries multiply through every layer that retries)"),
            ));
        }
        match on_mask(&self.on) {
            Err(o) => {
                return Err((
                    "on".into(),
                    format!("unknown answer {o:?}: expected \"error\" (502), \"timeout\" (504), \"rejected\" (503) or \"5xx\""),
                ))
            }
            Ok(0) => {
                return Err((
                    "on".into(),
                    "expected at least one answer to retry, such as [\"error\", \"timeout\"]"
                        .into(),
                ))
            }
            Ok(_) => {}
        }
        if let Some(b) = &self.backoff {
            let base = b.base.secs();
            if base.is_nan() || base <= 0.0 {
                return Err((
                    "backoff.base".into(),
                    "expected a positive first wait, such as \"100ms\"".into(),
                ));
            }
            if let Some(m) = b.max {
                if m.secs().is_nan() || m.secs() < base {
                    return Err((
                        "backoff.max".into(),
                        format!("expected a longest wait of at least base ({base}s)"),
                    ));
                }
            }
        }
        if let Some(b) = &self.budget {
            if !(b.ratio.is_finite() && (0.0..=10.0).contains(&b.ratio)) {
                return Err((
                    "budget".into(),
                    format!("expected a share of requests between 0 and 10 (0.2: retries add at most 20%), got {}", b.ratio),
                ));
            }
            if !(b.min_per_s.is_finite() && b.min_per_s >= 0.0) {
                return Err((
                    "budget.min_per_s".into(),
                    "expected retries per second of 0 or more".into(),
                ));
            }
            let w = b.window.secs();
            if !(w.is_finite() && (1.0..=3600.0).contains(&w)) {
                return Err((
                    "budget.window".into(),
                    "expected a window between 1s and 1h, such as \"10s\"".into(),
                ));
            }
        }
        Ok(())
    }
}

/// A caller's policy as the router applies it.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Per-attempt timeout.
    pub timeout: Option<Time>,
    /// Timed-out attempts are cancelled (else their work goes on).
    pub cancel: bool,
    /// Attempts in all (1: no retry).
    pub attempts: u8,
    /// Outcome bits retried.
    on: u8,
    /// Wait before a retry.
    pub backoff: Option<Backoff>,
    /// Retry budget.
    pub budget: Option<BudgetConfig>,
    /// Retries avoid the instance that failed.
    pub next_upstream: bool,
    /// Delay of the hedged attempt.
    pub hedge: Option<Time>,
    /// Circuit breaker.
    pub breaker: Option<crate::flow::breaker::BreakerConfig>,
}

impl Policy {
    /// Whether an attempt that ended with `o` may be retried.
    #[inline]
    pub fn retries(&self, o: Outcome) -> bool {
        let bit = match o {
            Outcome::Ok => 0,
            Outcome::Failed => ON_ERROR,
            Outcome::TimedOut => ON_TIMEOUT,
            Outcome::Rejected => ON_REJECTED,
        };
        self.on & bit != 0
    }
}

/// Capped exponential back-off with jitter.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    base: f64,
    max: f64,
    jitter: Jitter,
}

impl Backoff {
    /// The wait before retry `n` (1: the first retry).
    pub fn wait(&self, n: u8, rng: &mut SimRng) -> Time {
        let w = (self.base * 2f64.powi(n.saturating_sub(1) as i32)).min(self.max);
        let u: f64 = rng.random();
        from_secs(match self.jitter {
            Jitter::Full => u * w,
            Jitter::Equal => w / 2.0 + u * w / 2.0,
            Jitter::None => w,
        })
    }
}

/// Buckets of a rolling window.
const BUCKETS: usize = 10;

/// Two counts over the last `window`, kept in `BUCKETS` slices of it (as
/// Finagle's `WindowedAdder` and Hystrix's rolling statistics): a count
/// leaves between 0.9 and 1 window after it was added.
#[derive(Clone, Debug)]
pub struct Rolling {
    slice: Time,
    /// The slice the newest bucket covers.
    at: u64,
    counts: [[u64; 2]; BUCKETS],
}

impl Rolling {
    /// Empty counts over `window` seconds.
    pub fn new(window: f64) -> Rolling {
        Rolling {
            slice: from_secs(window / BUCKETS as f64).max(1),
            at: 0,
            counts: [[0; 2]; BUCKETS],
        }
    }

    /// Moves the window to `now`: slices gone by are emptied. Returns the
    /// bucket of now.
    fn roll(&mut self, now: Time) -> usize {
        let k = now / self.slice;
        let gone = (k - self.at.min(k)).min(BUCKETS as u64);
        for j in 1..=gone {
            self.counts[((self.at + j) % BUCKETS as u64) as usize] = [0; 2];
        }
        self.at = self.at.max(k);
        (k % BUCKETS as u64) as usize
    }

    /// Adds one to count `which` (0 or 1) now.
    pub fn add(&mut self, now: Time, which: usize) {
        let b = self.roll(now);
        self.counts[b][which] += 1;
    }

    /// Both counts over the window ending now.
    pub fn sums(&mut self, now: Time) -> [u64; 2] {
        self.roll(now);
        self.counts
            .iter()
            .fold([0, 0], |s, c| [s[0] + c[0], s[1] + c[1]])
    }

    /// Clears both counts.
    pub fn clear(&mut self) {
        self.counts = [[0; 2]; BUCKETS];
    }
}

/// Finagle's retry budget: a retry is allowed while the retries of the
/// last window stay within `ratio` x its requests + `min_per_s` x its
/// length.
#[derive(Clone, Debug)]
pub struct Budget {
    cfg: BudgetConfig,
    /// Requests (0) and retries (1).
    counts: Rolling,
}

impl Budget {
    /// An empty budget.
    pub fn new(cfg: BudgetConfig) -> Budget {
        Budget {
            cfg,
            counts: Rolling::new(cfg.window.secs()),
        }
    }

    /// A first attempt was sent.
    pub fn request(&mut self, now: Time) {
        self.counts.add(now, 0);
    }

    /// Whether one more retry is allowed now; if so it is counted.
    pub fn withdraw(&mut self, now: Time) -> bool {
        let [req, ret] = self.counts.sums(now);
        let allowed = self.cfg.ratio * req as f64 + self.cfg.min_per_s * self.cfg.window.secs();
        let ok = (ret + 1) as f64 <= allowed;
        if ok {
            self.counts.add(now, 1);
        }
        ok
    }
}
