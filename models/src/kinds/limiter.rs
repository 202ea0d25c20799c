//! `kind = "limiter"`: admission control in front of a component — a
//! token bucket (`rate` tokens per second, `burst` of them at most, full
//! at the start; each request takes one), optional buckets of its own for
//! some sources or classes, and an optional cap on requests in flight
//! past it. A request it refuses is answered at once (HTTP 429), counted
//! in `rejections` and `limited`; the others go on to `to` and their
//! answer comes back through it.
//!
//! The bucket refills continuously, as Envoy's local rate limit
//! (`AtomicTokenBucketImpl`) and AWS API Gateway's throttling do: in the
//! long run it admits min(offered, rate) per second, and a burst of up to
//! `burst` requests at once when full. `priority` classes shed last: the
//! others are refused once the bucket is down to its `reserve` share.
//! `concurrency` refuses a request while that many are in flight past the
//! limiter (Envoy's `max_requests` circuit breaker).

use crate::flow::{Caller, CompId, Component, Cx, Outcome, Visit, VisitId};
use crate::kinds::{BuildCx, CheckCx, Kind, KindConfig};
use crate::measure::{ComponentReport, Counters, Stats};
use scalesim_sim::{to_secs, Time};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Most tokens per second or in a bucket (far beyond any API gateway's
/// account limit of 10,000 per second).
const MAX_TOKENS: f64 = 1e9;

/// `[components.<name>]` with `kind = "limiter"`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LimiterConfig {
    /// Always "limiter".
    #[serde(default)]
    pub kind: Option<String>,
    /// Where admitted requests go.
    pub to: String,
    /// Tokens per second: requests admitted per second in the long run.
    pub rate: Option<f64>,
    /// The bucket's size: requests admitted at once when full (default:
    /// one second of `rate`).
    #[serde(default)]
    pub burst: Option<f64>,
    /// Buckets of their own for some sources or classes (`"web"` or
    /// `"web.search"`), checked as well as the shared one.
    #[serde(default)]
    pub per_class: BTreeMap<String, BucketConfig>,
    /// Classes (or sources) that may take the reserve.
    #[serde(default)]
    pub priority: Vec<String>,
    /// Share of the shared bucket only `priority` classes may take.
    #[serde(default)]
    pub reserve: Option<f64>,
    /// Most requests in flight past the limiter at once.
    #[serde(default)]
    pub concurrency: Option<u32>,
}

/// `{ rate = 100, burst = 50 }`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BucketConfig {
    /// Tokens per second.
    pub rate: f64,
    /// Bucket size (default: one second of `rate`).
    #[serde(default)]
    pub burst: Option<f64>,
}

/// A token bucket, refilled continuously.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Time,
}

impl Bucket {
    fn new(rate: f64, burst: Option<f64>) -> Bucket {
        let burst = burst.unwrap_or(rate).max(1.0);
        Bucket {
            rate,
            burst,
            tokens: burst,
            at: 0,
        }
    }

    /// Tokens now.
    fn level(&mut self, now: Time) -> f64 {
        self.tokens = (self.tokens + self.rate * to_secs(now - self.at)).min(self.burst);
        self.at = now;
        self.tokens
    }
}

/// Checks one bucket's numbers.
fn check_bucket(field: &str, rate: f64, burst: Option<f64>, out: &mut Vec<(String, String)>) {
    if !(rate.is_finite() && rate > 0.0 && rate <= MAX_TOKENS) {
        out.push((
            format!("{field}rate"),
            format!("expected requests per second above 0 (and at most {MAX_TOKENS:e}), such as 500; got {rate}"),
        ));
    }
    if let Some(b) = burst {
        if !(b.is_finite() && (1.0..=MAX_TOKENS).contains(&b)) {
            out.push((
                format!("{field}burst"),
                format!("expected a bucket of at least 1 request, such as 1000; got {b}"),
            ));
        }
    }
}

impl KindConfig for LimiterConfig {
    fn kind(&self) -> &'static str {
        "limiter"
    }

    fn check(&self, cx: &CheckCx) -> Vec<(String, String)> {
        let mut out = Vec::new();
        match self.rate {
            Some(r) => check_bucket("", r, self.burst, &mut out),
            None if self.concurrency.is_none() => out.push((
                "rate".into(),
                "a limiter needs a rate (requests per second, such as 500) or a concurrency".into(),
            )),
            None => {}
        }
        let classes = cx.class_names();
        let known = |n: &str| {
            classes
                .iter()
                .any(|c| c == n || c.split('.').next() == Some(n))
        };
        for (n, b) in &self.per_class {
            if !known(n) {
                out.push((
                    format!("per_class.{n}"),
                    format!(
                        "unknown source or class {n:?}; known: {}",
                        classes.join(", ")
                    ),
                ));
            }
            check_bucket(&format!("per_class.{n}."), b.rate, b.burst, &mut out);
        }
        for (i, n) in self.priority.iter().enumerate() {
            if !known(n) {
                out.push((
                    format!("priority.{i}"),
                    format!(
                        "unknown source or class {n:?}; known: {}",
                        classes.join(", ")
                    ),
                ));
            }
        }
        if let Some(r) = self.reserve {
            if !(0.0..1.0).contains(&r) {
                out.push((
                    "reserve".into(),
                    format!("expected a share of the bucket from 0 up to 1, such as 0.2; got {r}"),
                ));
            } else if self.priority.is_empty() {
                out.push((
                    "reserve".into(),
                    "a reserve is for priority classes: name them (priority = [\"web.checkout\"])"
                        .into(),
                ));
            } else if self.rate.is_none() {
                out.push((
                    "reserve".into(),
                    "a reserve is a share of the bucket: give the limiter a rate".into(),
                ));
            }
        }
        if self.concurrency == Some(0) {
            out.push((
                "concurrency".into(),
                "expected at least 1 request in flight".into(),
            ));
        }
        out
    }

    fn downstream(&self) -> Vec<(&'static str, &str)> {
        vec![("to", self.to.as_str())]
    }

    fn retarget(&mut self, to: &mut dyn FnMut(&str) -> String) {
        self.to = to(&self.to);
    }

    fn build(&self, b: &BuildCx) -> Kind {
        let covers = |n: &str, class: &str| class == n || class.split('.').next() == Some(n);
        let buckets: Vec<(String, Bucket)> = self
            .per_class
            .iter()
            .map(|(n, c)| (n.clone(), Bucket::new(c.rate, c.burst)))
            .collect();
        let of_class = b
            .classes
            .iter()
            .map(|c| {
                // A class's own entry wins over its source's.
                buckets
                    .iter()
                    .position(|(n, _)| n == c)
                    .or_else(|| buckets.iter().position(|(n, _)| covers(n, c)))
            })
            .collect();
        let priority = b
            .classes
            .iter()
            .map(|c| self.priority.iter().any(|n| covers(n, c)))
            .collect();
        let shared = self.rate.map(|r| Bucket::new(r, self.burst));
        Kind::Limiter(Box::new(LimiterKind {
            to: (b.id)(&self.to),
            reserve: shared.map_or(0.0, |s| self.reserve.unwrap_or(0.0) * s.burst),
            shared,
            buckets: buckets.into_iter().map(|(_, b)| b).collect(),
            of_class,
            priority,
            concurrency: self.concurrency,
            in_flight: 0,
        }))
    }
}

/// A limiter as it runs.
pub struct LimiterKind {
    to: CompId,
    shared: Option<Bucket>,
    /// Tokens of the shared bucket only priority classes may take.
    reserve: f64,
    buckets: Vec<Bucket>,
    /// Per request class: its own bucket, if any.
    of_class: Vec<Option<usize>>,
    /// Per request class: it may take the reserve.
    priority: Vec<bool>,
    concurrency: Option<u32>,
    in_flight: u32,
}

impl LimiterKind {
    /// Whether a request of `class` is admitted now (its tokens taken).
    fn admit(&mut self, class: usize, now: Time) -> bool {
        if self.concurrency.is_some_and(|c| self.in_flight >= c) {
            return false;
        }
        let floor = if self.priority[class] {
            1.0
        } else {
            1.0 + self.reserve
        };
        if let Some(s) = &mut self.shared {
            if s.level(now) < floor {
                return false;
            }
        }
        if let Some(k) = self.of_class[class] {
            let b = &mut self.buckets[k];
            if b.level(now) < 1.0 {
                return false;
            }
            b.tokens -= 1.0;
        }
        if let Some(s) = &mut self.shared {
            s.tokens -= 1.0;
        }
        true
    }
}

impl Component for LimiterKind {
    fn releases_on_leave(&self) -> bool {
        self.concurrency.is_some()
    }

    fn enter(&mut self, cx: &mut Cx, v: VisitId, _caller: Caller) {
        let class = cx.request_of(v).class as usize;
        if !self.admit(class, cx.now) {
            // 429 Too Many Requests, at once.
            cx.refuse(v);
            return;
        }
        if self.concurrency.is_some() {
            self.in_flight += 1;
        }
        cx.call(v, self.to);
    }

    fn on_answer(&mut self, cx: &mut Cx, v: VisitId, outcome: Outcome) {
        cx.leave(v, outcome);
    }

    fn on_leave(&mut self, _cx: &mut Cx, _visit: &Visit, _outcome: Outcome) {
        self.in_flight -= 1;
    }

    fn report(&self, d: &Counters, _st: &Stats, _span: f64, r: &mut ComponentReport) {
        r.limited = Some(d.rejections);
    }
}
