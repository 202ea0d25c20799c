//! Traffic sources: requests entering the system, their arrival process,
//! their class and their key.
//!
//! - **Rate**: a constant `rate`, `users` x `per_user_per_day`, user counts
//!   by growth phase, or a replayed trace of per-interval counts, times the
//!   pattern factors of [`crate::traffic::pattern`] (daily, weekly, events, growth,
//!   bursts). A varying rate becomes a non-homogeneous Poisson process by
//!   thinning (Lewis & Shedler 1979) against the exact per-block maximum.
//! - **Markov-modulated on/off** (`onoff`): the rate is multiplied by
//!   `on_factor` or `off_factor` while a two-state Markov chain with
//!   exponential sojourns is on or off (an MMPP(2); Fischer & Meier-Hellstern
//!   1993), for bursty clients.
//! - **Deterministic** arrivals are exactly 1/rate apart; with a counts
//!   trace they replay each interval's count exactly, evenly spaced.
//! - **Timestamps** traces replay recorded arrival instants exactly.
//! - **Classes** (`mix`): each request draws a class by weight, with its
//!   own entry component, operation (read/write) and key law.
//! - **Keys**: Zipf(s) over `1..=count` (rank 1 most popular; s = 0 is
//!   uniform), the independent reference model used by cache theory.

pub mod calendar;
pub mod closed;
pub mod pattern;
pub mod tokens;

mod source;

pub use source::{AliasTable, Source, ALIAS_MAX_KEYS};

use crate::traffic::calendar::Calendar;
use crate::traffic::pattern::{
    burst_factor, daily_knots, event_knots, growth_factor, weekly_factors, BurstConfig,
    DailyConfig, EventConfig, Factor, GrowthConfig, Knots, RateProfile, WeeklyConfig, DAY,
};
use crate::traffic::tokens::{TokenLaw, TokensConfig};
use crate::units::Duration;
use rand::Rng;
use rand_distr::{Distribution, Exp1, Zipf};
use scalesim_sim::{from_secs, SimRng, Time, NS_PER_SEC};
use serde::Deserialize;

/// Highest accepted rate: one request per nanosecond of simulated time.
pub const MAX_RATE: f64 = 1e9;

/// Length of a thinning block, seconds: the majorant is recomputed per block.
const BLOCK: f64 = 60.0;

/// How inter-arrival times are drawn.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Arrivals {
    /// A (possibly non-homogeneous) Poisson process.
    #[default]
    Poisson,
    /// Exactly 1/rate apart (constant rates and counts traces only).
    Deterministic,
}

/// The key law of a source: `{ count = 100000, zipf = 0.8 }`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct KeysConfig {
    /// Number of distinct keys.
    pub count: u64,
    /// Zipf exponent s >= 0 (0 = uniform).
    #[serde(default)]
    pub zipf: f64,
}

impl KeysConfig {
    /// Popularity of each key rank 1..=count under this law (sums to 1).
    pub fn probabilities(&self) -> Vec<f64> {
        let w: Vec<f64> = (1..=self.count)
            .map(|i| (i as f64).powf(-self.zipf))
            .collect();
        let total: f64 = w.iter().sum();
        w.into_iter().map(|x| x / total).collect()
    }

    fn check(&self) -> Result<(), String> {
        if self.count == 0 {
            return Err("keys.count must be at least 1".into());
        }
        if !(self.zipf.is_finite() && self.zipf >= 0.0) {
            return Err(format!("keys.zipf must be >= 0 (got {})", self.zipf));
        }
        Ok(())
    }
}

/// What a request does (databases route reads and writes differently).
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// A read.
    #[default]
    Read,
    /// A write.
    Write,
}

/// One request class of a source's `mix`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClassConfig {
    /// Class name (reported as `<source>.<name>`).
    pub name: String,
    /// Relative weight.
    pub weight: f64,
    /// Entry component (default: the source's `to`).
    #[serde(default)]
    pub to: Option<String>,
    /// Operation.
    #[serde(default)]
    pub op: Op,
    /// Key law (default: the source's `keys`).
    #[serde(default)]
    pub keys: Option<KeysConfig>,
    /// LLM requests: prompt tokens (default: the source's).
    #[serde(default)]
    pub prompt_tokens: Option<TokensConfig>,
    /// LLM requests: output tokens (default: the source's).
    #[serde(default)]
    pub output_tokens: Option<TokensConfig>,
    /// The client's patience per attempt for this class (default: the
    /// source's); likewise `on_timeout`, `retries`, `hedge`, `breaker`.
    #[serde(default)]
    pub timeout: Option<Duration>,
    #[serde(default)]
    pub on_timeout: Option<crate::flow::resilience::OnTimeout>,
    #[serde(default)]
    pub retries: Option<crate::flow::resilience::RetryConfig>,
    #[serde(default)]
    pub hedge: Option<crate::flow::resilience::HedgeConfig>,
    #[serde(default)]
    pub breaker: Option<crate::flow::breaker::BreakerConfig>,
    /// KB of each request and of each response (default: the source's),
    /// for the data transfer the network bills.
    #[serde(default)]
    pub request_kb: Option<f64>,
    #[serde(default)]
    pub response_kb: Option<f64>,
    /// The client area its users are in (a source's `from`; not written).
    #[serde(skip)]
    pub area: Option<String>,
}

impl ClassConfig {
    /// Whether it sets any part of the client's policy.
    pub fn has_policy(&self) -> bool {
        self.timeout.is_some()
            || self.on_timeout.is_some()
            || self.retries.is_some()
            || self.hedge.is_some()
            || self.breaker.is_some()
    }
}

/// Two-state Markov modulation: `onoff = { on = "30s", off = "5m",
/// on_factor = 5, off_factor = 0 }` (mean sojourn times and rate factors).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OnOffConfig {
    /// Mean time in the on state.
    pub on: Duration,
    /// Mean time in the off state.
    pub off: Duration,
    /// Rate factor while on.
    pub on_factor: f64,
    /// Rate factor while off.
    #[serde(default)]
    pub off_factor: f64,
}

/// What a trace file holds.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TraceFormat {
    /// Requests per interval.
    #[default]
    Counts,
    /// One arrival instant per row.
    Timestamps,
}

/// How counts become a rate between interval boundaries.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TraceMode {
    /// Constant over each interval.
    #[default]
    Step,
    /// Linear between interval midpoints.
    Linear,
}

/// `trace = { file = "traces/shop.csv", format = "counts", interval = "1m" }`.
/// The file format is documented in `docs/scenario-reference.md` (section
/// "Traces").
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TraceConfig {
    /// CSV file, relative to the scenario file.
    pub file: String,
    /// Counts or timestamps.
    #[serde(default)]
    pub format: TraceFormat,
    /// Interval of each count (when the file has no `time` column, or to
    /// override the spacing of its rows).
    #[serde(default)]
    pub interval: Option<Duration>,
    /// Step or linear rate between counts.
    #[serde(default)]
    pub mode: TraceMode,
}

/// A trace as loaded by the scenario reader.
#[derive(Clone, Debug, PartialEq)]
pub enum TraceData {
    /// `counts[i]` requests in `[start + i*interval, start + (i+1)*interval)`.
    Counts {
        /// Simulated second of the first interval.
        start: f64,
        /// Interval length, seconds.
        interval: f64,
        /// Requests per interval.
        counts: Vec<f64>,
    },
    /// Arrival instants, simulated seconds, sorted.
    Timestamps(Vec<f64>),
}

/// A named request source as written under `[traffic.<name>]`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Mean arrival rate, requests per second (before patterns); with a
    /// `session`, users (sessions) starting per second.
    #[serde(default)]
    pub rate: Option<f64>,
    /// Active users (with `per_user_per_day`), instead of `rate`.
    #[serde(default)]
    pub users: Option<f64>,
    /// Requests per user per day.
    #[serde(default)]
    pub per_user_per_day: Option<f64>,
    /// A closed loop of this many virtual users, instead of a rate: each
    /// sends, waits for the answer, thinks, sends again (see [`closed`]).
    #[serde(default)]
    pub virtual_users: Option<u32>,
    /// A virtual user's think time between an answer and its next request
    /// (a law or a duration; default 0).
    #[serde(default)]
    pub think: Option<crate::dist::DistConfig>,
    /// A ramp of virtual users: `[{ duration = "5m", target = 100 }, ...]`
    /// (k6's stages), from `virtual_users` (default 0).
    #[serde(default)]
    pub stages: Vec<closed::StageConfig>,
    /// What a user does before it leaves: `{ requests = 10 }` (see
    /// [`closed`]); on an open source each arrival starts one.
    #[serde(default)]
    pub session: Option<closed::SessionConfig>,
    /// Arrival process.
    #[serde(default)]
    pub arrivals: Arrivals,
    /// The component requests enter (unless each class of `mix` names one).
    #[serde(default)]
    pub to: Option<String>,
    /// Key law.
    #[serde(default)]
    pub keys: Option<KeysConfig>,
    /// Daily profile.
    #[serde(default)]
    pub daily: Option<DailyConfig>,
    /// Weekly profile.
    #[serde(default)]
    pub weekly: Option<WeeklyConfig>,
    /// Dated spikes.
    #[serde(default)]
    pub events: Vec<EventConfig>,
    /// Growth.
    #[serde(default)]
    pub growth: Option<GrowthConfig>,
    /// Flash crowds.
    #[serde(default)]
    pub bursts: Vec<BurstConfig>,
    /// Markov-modulated on/off.
    #[serde(default)]
    pub onoff: Option<OnOffConfig>,
    /// Replayed trace.
    #[serde(default)]
    pub trace: Option<TraceConfig>,
    /// Request classes.
    #[serde(default)]
    pub mix: Vec<ClassConfig>,
    /// KB of each request (headers and body) and of each response, for
    /// the data transfer links bill (see [`crate::kinds::link`]).
    #[serde(default)]
    pub request_kb: Option<f64>,
    #[serde(default)]
    pub response_kb: Option<f64>,
    /// Where its users are: client areas and their shares of its requests,
    /// `from = { us-east = 0.5, europe = 0.5 }`. Each class becomes one
    /// class per area (`web.europe`, `web.read.europe`), and the network
    /// from the area applies (see [`crate::regions`]).
    #[serde(default)]
    pub from: std::collections::BTreeMap<String, f64>,
    /// The component each area's requests enter when it differs from the
    /// class's (the link from the area; filled by placement, not written).
    #[serde(skip)]
    pub area_entry: std::collections::BTreeMap<(String, String), String>,
    /// LLM requests: prompt tokens per request.
    #[serde(default)]
    pub prompt_tokens: Option<TokensConfig>,
    /// LLM requests: output tokens per request.
    #[serde(default)]
    pub output_tokens: Option<TokensConfig>,
    /// The client's patience per attempt (see
    /// [`crate::flow::resilience`]): past it the request times out (or is
    /// retried); the work goes on unless `on_timeout = "cancel"`.
    #[serde(default)]
    pub timeout: Option<Duration>,
    /// What becomes of a timed-out attempt's work.
    #[serde(default)]
    pub on_timeout: crate::flow::resilience::OnTimeout,
    /// The client's retries.
    #[serde(default)]
    pub retries: Option<crate::flow::resilience::RetryConfig>,
    /// The client's hedged second attempt.
    #[serde(default)]
    pub hedge: Option<crate::flow::resilience::HedgeConfig>,
    /// The client's circuit breaker.
    #[serde(default)]
    pub breaker: Option<crate::flow::breaker::BreakerConfig>,
    /// The loaded trace (filled by the scenario reader, not written).
    #[serde(skip)]
    pub trace_data: Option<TraceData>,
    /// Per arrival of a timestamps trace: (prompt, output) tokens, when the
    /// file has `prompt_tokens` and `output_tokens` columns.
    #[serde(skip)]
    pub trace_tokens: Option<Vec<(u32, u32)>>,
}

/// The client areas the sources' users are in (their `from`), sorted.
pub fn areas(sources: &[(String, SourceConfig)]) -> Vec<String> {
    let mut v: Vec<String> = sources
        .iter()
        .flat_map(|(_, s)| s.from.keys().cloned())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// A configuration problem: (field path below the source, message).
pub type SourceIssue = (String, String);

fn issue<T>(field: impl Into<String>, m: impl Into<String>) -> Result<T, SourceIssue> {
    Err((field.into(), m.into()))
}

fn positive(field: &str, v: f64) -> Result<f64, SourceIssue> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        issue(field, format!("expected {field} > 0, got {v}"))
    }
}

impl SourceConfig {
    /// Its client's timeout, retries and hedge.
    pub fn client_policy(&self) -> crate::flow::resilience::CallPolicyConfig {
        crate::flow::resilience::CallPolicyConfig {
            timeout: self.timeout,
            on_timeout: self.on_timeout,
            retries: self.retries.clone(),
            hedge: self.hedge,
            breaker: self.breaker,
        }
    }

    /// The client policy of class `i` of [`SourceConfig::classes`]: the
    /// source's, each field the class sets overriding it.
    pub fn class_policy(&self, i: usize) -> crate::flow::resilience::CallPolicyConfig {
        let p = self.client_policy();
        let Some(c) = self.mix.get(self.mix_index(i)) else {
            return p;
        };
        crate::flow::resilience::CallPolicyConfig {
            timeout: c.timeout.or(p.timeout),
            on_timeout: c.on_timeout.unwrap_or(p.on_timeout),
            retries: c.retries.clone().or(p.retries),
            hedge: c.hedge.or(p.hedge),
            breaker: c.breaker.or(p.breaker),
        }
    }

    /// The classes of this source: its `mix`, or one implicit class, each
    /// split per client area of `from` (mix-major order).
    pub fn classes(&self) -> Vec<ClassConfig> {
        let written = self.written_classes();
        if self.from.is_empty() {
            return written;
        }
        let total: f64 = self.from.values().sum();
        let mut out = Vec::with_capacity(written.len() * self.from.len());
        for c in written {
            for (a, share) in &self.from {
                let to = c.to.as_ref().map(|t| {
                    let key = (a.clone(), t.clone());
                    self.area_entry.get(&key).unwrap_or(t).clone()
                });
                out.push(ClassConfig {
                    name: if c.name.is_empty() {
                        a.clone()
                    } else {
                        format!("{}.{a}", c.name)
                    },
                    weight: c.weight * share / total,
                    area: Some(a.clone()),
                    to,
                    ..c.clone()
                });
            }
        }
        out
    }

    /// The `mix` entry (0 without a mix) class `i` of
    /// [`SourceConfig::classes`] comes from.
    pub fn mix_index(&self, i: usize) -> usize {
        i / self.from.len().max(1)
    }

    /// The classes as written (`mix`, or one implicit class), before
    /// client areas.
    fn written_classes(&self) -> Vec<ClassConfig> {
        if self.mix.is_empty() {
            vec![ClassConfig {
                name: String::new(),
                weight: 1.0,
                to: self.to.clone(),
                op: Op::Read,
                keys: self.keys,
                prompt_tokens: self.prompt_tokens,
                output_tokens: self.output_tokens,
                request_kb: self.request_kb,
                response_kb: self.response_kb,
                ..ClassConfig::default()
            }]
        } else {
            self.mix
                .iter()
                .map(|c| ClassConfig {
                    to: c.to.clone().or_else(|| self.to.clone()),
                    keys: c.keys.or(self.keys),
                    prompt_tokens: c.prompt_tokens.or(self.prompt_tokens),
                    output_tokens: c.output_tokens.or(self.output_tokens),
                    request_kb: c.request_kb.or(self.request_kb),
                    response_kb: c.response_kb.or(self.response_kb),
                    ..c.clone()
                })
                .collect()
        }
    }

    /// A closed loop of virtual users (see [`closed`]).
    pub fn is_closed(&self) -> bool {
        self.virtual_users.is_some() || !self.stages.is_empty()
    }

    /// Checks a closed source: its users and think time, and no rate or
    /// pattern (the users set the rate).
    fn check_closed(&self) -> Result<(), SourceIssue> {
        let open = [
            ("rate", self.rate.is_some()),
            ("users", self.users.is_some()),
            ("per_user_per_day", self.per_user_per_day.is_some()),
            ("trace", self.trace.is_some()),
            ("daily", self.daily.is_some()),
            ("weekly", self.weekly.is_some()),
            ("events", !self.events.is_empty()),
            ("growth", self.growth.is_some()),
            ("bursts", !self.bursts.is_empty()),
            ("onoff", self.onoff.is_some()),
            ("arrivals", self.arrivals != Arrivals::Poisson),
        ];
        if let Some((f, _)) = open.iter().find(|o| o.1) {
            return issue(
                *f,
                format!("{f} shapes an open-loop rate; with virtual_users the users set the rate (each sends when it has its answer and has thought): ramp them with stages = [{{ duration = \"5m\", target = 100 }}]"),
            );
        }
        closed::check(self.virtual_users, self.think.as_ref(), &self.stages)?;
        self.check_session()
    }

    /// Checks `session` (for either kind of source).
    fn check_session(&self) -> Result<(), SourceIssue> {
        match &self.session {
            Some(s) => s.check(),
            None => Ok(()),
        }
    }

    /// Users in the system: a closed loop's, or an open source's sessions.
    pub fn has_users(&self) -> bool {
        self.is_closed() || self.session.is_some()
    }

    /// Checks the numbers and builds the rate profile over `horizon_s`
    /// (for a closed source: none, its users set the rate).
    pub fn profile(&self, cal: &Calendar, horizon_s: f64) -> Result<RateProfile, SourceIssue> {
        if self.is_closed() {
            self.check_closed()?;
            return Ok(RateProfile {
                base: 0.0,
                factors: Vec::new(),
                calendar: cal.clone(),
                end: f64::INFINITY,
            });
        }
        if self.think.is_some() && self.session.is_none() {
            return issue(
                "think",
                "think time belongs to a closed loop (virtual_users = N, or stages, instead of a rate) or to sessions (session = { requests = N }: each arrival is a user who sends again after thinking)",
            );
        }
        self.check_session()?;
        if self.session.is_some() && self.trace.is_some() {
            return issue(
                "session",
                "a trace replays requests as they were sent; sessions make each arrival a user who sends more: drop one of the two",
            );
        }
        let mut factors = Vec::new();
        let mut end = f64::INFINITY;
        let per_user = |f: &str| -> Result<f64, SourceIssue> {
            match self.per_user_per_day {
                Some(p) => Ok(positive("per_user_per_day", p)? / DAY),
                None => issue(
                    f,
                    "user counts need per_user_per_day = <requests per user per day>",
                ),
            }
        };
        let phases = self.growth.as_ref().is_some_and(|g| g.phases.is_some());
        let bases = [
            self.rate.is_some(),
            self.users.is_some(),
            self.trace.is_some(),
            phases,
        ];
        if bases.iter().filter(|b| **b).count() != 1 {
            return issue(
                "rate",
                "give exactly one base rate: rate = <req/s>, users = N with per_user_per_day, growth phases with per_user_per_day, or a trace",
            );
        }
        if self.per_user_per_day.is_some() && self.users.is_none() && !phases {
            return issue(
                "per_user_per_day",
                "per_user_per_day needs users = N or growth phases",
            );
        }
        let mut base = 1.0;
        if let Some(r) = self.rate {
            base = positive("rate", r)?;
        }
        if let Some(u) = self.users {
            base = positive("users", u)? * per_user("users")?;
        }
        if let Some(d) = &self.daily {
            factors.push(Factor::Daily(
                daily_knots(d).or_else(|(f, m)| issue(format!("daily.{f}"), m))?,
            ));
        }
        if let Some(w) = &self.weekly {
            factors.push(Factor::Weekly(
                weekly_factors(w).or_else(|(f, m)| issue(format!("weekly.{f}"), m))?,
            ));
        }
        for e in &self.events {
            factors.push(Factor::Timeline(
                event_knots(e, cal).or_else(|(f, m)| issue(format!("events.{f}"), m))?,
            ));
        }
        if let Some(g) = &self.growth {
            if phases {
                base = per_user("growth")?;
            }
            factors.push(growth_factor(g, cal).or_else(|(f, m)| issue(format!("growth.{f}"), m))?);
        }
        for b in &self.bursts {
            factors.push(burst_factor(b, cal).or_else(|(f, m)| issue(format!("bursts.{f}"), m))?);
        }
        if let Some(o) = &self.onoff {
            positive("onoff.on", o.on.secs())?;
            positive("onoff.off", o.off.secs())?;
            crate::traffic::pattern::check_factors("on_factor", &[o.on_factor, o.off_factor])
                .or_else(|(_, m)| issue("onoff", m))?;
        }
        // The factors the trace itself adds (its counts, and no arrivals
        // before its start): a deterministic counts replay may have them.
        let mut trace_factors = 0;
        match (&self.trace, &self.trace_data) {
            (
                Some(t),
                Some(TraceData::Counts {
                    start,
                    interval,
                    counts,
                }),
            ) => {
                let mut k = Vec::with_capacity(counts.len() * 2 + 2);
                match t.mode {
                    crate::traffic::TraceMode::Step => {
                        for (i, c) in counts.iter().enumerate() {
                            let x = start + i as f64 * interval;
                            k.push((x, c / interval));
                            k.push((x + interval, c / interval));
                        }
                    }
                    crate::traffic::TraceMode::Linear => {
                        k.push((*start, counts[0] / interval));
                        for (i, c) in counts.iter().enumerate() {
                            k.push((start + (i as f64 + 0.5) * interval, c / interval));
                        }
                        k.push((
                            start + counts.len() as f64 * interval,
                            counts[counts.len() - 1] / interval,
                        ));
                    }
                }
                end = start + counts.len() as f64 * interval;
                factors.push(Factor::Timeline(Knots(k)));
                trace_factors = 1;
                if *start > 0.0 {
                    // No arrivals before the trace starts.
                    factors.push(Factor::Timeline(Knots(vec![(*start, 0.0), (*start, 1.0)])));
                    trace_factors = 2;
                }
            }
            (Some(_), Some(TraceData::Timestamps(ts))) => {
                if !factors.is_empty() || self.onoff.is_some() {
                    return issue(
                        "trace",
                        "a timestamps trace replays exact instants: patterns cannot apply to it",
                    );
                }
                end = ts.last().map(|t| t + 1e-9).unwrap_or(0.0);
            }
            (Some(_), None) => return issue("trace", "the trace file was not loaded"),
            _ => {}
        }
        let exact_counts = matches!(self.trace_data, Some(TraceData::Counts { .. }));
        if self.arrivals == Arrivals::Deterministic {
            let patterned = self.daily.is_some()
                || self.weekly.is_some()
                || !self.events.is_empty()
                || self.growth.is_some()
                || !self.bursts.is_empty()
                || self.onoff.is_some();
            if patterned || (exact_counts && factors.len() > trace_factors) {
                return issue(
                    "arrivals",
                    "deterministic arrivals need a constant rate or a counts trace alone; use arrivals = \"poisson\" with patterns",
                );
            }
        }
        let profile = RateProfile {
            base,
            factors,
            calendar: cal.clone(),
            end,
        };
        let peak = profile.max_over(0.0, horizon_s.max(1.0))
            * self
                .onoff
                .map(|o| o.on_factor.max(o.off_factor))
                .unwrap_or(1.0);
        // The field that sets the base rate, to blame for too much load.
        let base_field = if self.trace.is_some() {
            "trace"
        } else if self.users.is_some() {
            "users"
        } else if phases {
            "growth.phases"
        } else {
            "rate"
        };
        if peak > MAX_RATE {
            return issue(
                base_field,
                format!("the peak rate {peak:.3e} requests/s is beyond the 1 ns time resolution (at most {MAX_RATE:e})"),
            );
        }
        if let Some(o) = &self.onoff {
            let switches = 2.0 * horizon_s / (o.on.secs() + o.off.secs());
            if switches > crate::limits::MAX_SWITCHES {
                return issue(
                    "onoff",
                    format!(
                        "on {} s / off {} s over {horizon_s} s is about {switches:.3e} switches (at most {:e}: each is drawn); give longer on and off periods",
                        o.on.secs(),
                        o.off.secs(),
                        crate::limits::MAX_SWITCHES
                    ),
                );
            }
        }
        if !matches!(self.trace_data, Some(TraceData::Timestamps(_))) {
            let onoff_max = self
                .onoff
                .map(|o| o.on_factor.max(o.off_factor))
                .unwrap_or(1.0);
            let drawn = profile.candidates(horizon_s, BLOCK) * onoff_max;
            let max = crate::limits::MAX_ARRIVALS;
            if drawn > max {
                let h = horizon_s.min(profile.end);
                let expected = profile.integral(0.0, h, BLOCK.max(h / 100_000.0)) * onoff_max;
                let spiky = drawn > 10.0 * expected;
                let field = match (spiky, self.events.is_empty(), self.bursts.is_empty()) {
                    (true, false, _) => "events",
                    (true, true, false) => "bursts",
                    _ => base_field,
                };
                let why = if spiky {
                    format!(
                        "; most at the peak of a short spike, to be discarded (about {expected:.3e} kept): thinning draws at the highest rate of each {BLOCK} s block, so lengthen the spike or lower its factor"
                    )
                } else {
                    "; lower the rate or shorten the duration".into()
                };
                return issue(
                    field,
                    format!(
                        "this source would draw about {drawn:.3e} arrivals in {horizon_s} s, more than the {max:e} one run may simulate (time: every arrival is simulated){why}"
                    ),
                );
            }
        }
        Ok(profile)
    }

    /// Checks everything but the rate profile: classes and keys.
    pub fn check_classes(&self) -> Result<(), SourceIssue> {
        if let Some(k) = &self.keys {
            k.check().or_else(|m| issue("keys", m))?;
        }
        for (f, t) in [
            ("prompt_tokens", &self.prompt_tokens),
            ("output_tokens", &self.output_tokens),
        ] {
            if let Some(t) = t {
                t.check().or_else(|m| issue(f, m))?;
            }
        }
        for (i, c) in self.mix.iter().enumerate() {
            if !(c.weight.is_finite() && c.weight > 0.0) {
                return issue(
                    format!("mix.{i}.weight"),
                    format!("expected a weight > 0, got {}", c.weight),
                );
            }
            if let Some(k) = &c.keys {
                k.check().or_else(|m| issue(format!("mix.{i}.keys"), m))?;
            }
            for (f, t) in [
                ("prompt_tokens", &c.prompt_tokens),
                ("output_tokens", &c.output_tokens),
            ] {
                if let Some(t) = t {
                    t.check().or_else(|m| issue(format!("mix.{i}.{f}"), m))?;
                }
            }
            if c.name.is_empty() || c.name.contains('.') {
                return issue(
                    format!("mix.{i}.name"),
                    "expected a class name without dots",
                );
            }
            if self.mix[..i].iter().any(|o| o.name == c.name) {
                return issue(
                    format!("mix.{i}.name"),
                    format!("duplicate class name {:?}", c.name),
                );
            }
        }
        let sizes = [
            ("request_kb", self.request_kb),
            ("response_kb", self.response_kb),
        ]
        .into_iter()
        .map(|(f, v)| (f.to_string(), v))
        .chain(self.mix.iter().enumerate().flat_map(|(i, c)| {
            [("request_kb", c.request_kb), ("response_kb", c.response_kb)]
                .map(|(f, v)| (format!("mix.{i}.{f}"), v))
        }));
        for (f, v) in sizes {
            if let Some(v) = v.filter(|v| !(v.is_finite() && (0.0..=1e6).contains(v))) {
                return issue(
                    f,
                    format!("expected KB between 0 and 1e6 (1 GB), such as 4; got {v}"),
                );
            }
        }
        for (a, share) in &self.from {
            if !(share.is_finite() && *share > 0.0) {
                return issue(
                    format!("from.{a}"),
                    format!("expected a share of the users above 0, such as 0.25; got {share}"),
                );
            }
        }
        if self.classes().iter().any(|c| c.to.is_none()) {
            return issue(
                "to",
                "expected to = \"<component>\" (on the source, or on every class of mix)",
            );
        }
        Ok(())
    }
}
