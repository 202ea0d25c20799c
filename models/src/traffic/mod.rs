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
pub mod pattern;
pub mod tokens;

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
#[derive(Clone, Debug, Deserialize, PartialEq)]
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
    /// Mean arrival rate, requests per second (before patterns).
    #[serde(default)]
    pub rate: Option<f64>,
    /// Active users (with `per_user_per_day`), instead of `rate`.
    #[serde(default)]
    pub users: Option<f64>,
    /// Requests per user per day.
    #[serde(default)]
    pub per_user_per_day: Option<f64>,
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
    /// LLM requests: prompt tokens per request.
    #[serde(default)]
    pub prompt_tokens: Option<TokensConfig>,
    /// LLM requests: output tokens per request.
    #[serde(default)]
    pub output_tokens: Option<TokensConfig>,
    /// The loaded trace (filled by the scenario reader, not written).
    #[serde(skip)]
    pub trace_data: Option<TraceData>,
    /// Per arrival of a timestamps trace: (prompt, output) tokens, when the
    /// file has `prompt_tokens` and `output_tokens` columns.
    #[serde(skip)]
    pub trace_tokens: Option<Vec<(u32, u32)>>,
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
    /// The classes of this source: its `mix`, or one implicit class.
    pub fn classes(&self) -> Vec<ClassConfig> {
        if self.mix.is_empty() {
            vec![ClassConfig {
                name: String::new(),
                weight: 1.0,
                to: self.to.clone(),
                op: Op::Read,
                keys: self.keys,
                prompt_tokens: self.prompt_tokens,
                output_tokens: self.output_tokens,
            }]
        } else {
            self.mix
                .iter()
                .map(|c| ClassConfig {
                    to: c.to.clone().or_else(|| self.to.clone()),
                    keys: c.keys.or(self.keys),
                    prompt_tokens: c.prompt_tokens.or(self.prompt_tokens),
                    output_tokens: c.output_tokens.or(self.output_tokens),
                    ..c.clone()
                })
                .collect()
        }
    }

    /// Checks the numbers and builds the rate profile over `horizon_s`.
    pub fn profile(&self, cal: &Calendar, horizon_s: f64) -> Result<RateProfile, SourceIssue> {
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
                if *start > 0.0 {
                    // No arrivals before the trace starts.
                    factors.push(Factor::Timeline(Knots(vec![(*start, 0.0), (*start, 1.0)])));
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
            if patterned || (exact_counts && factors.len() > 1) {
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
        if peak > MAX_RATE {
            return issue(
                "rate",
                format!("the peak rate {peak:.3e} requests/s is beyond the 1 ns time resolution (at most {MAX_RATE:e})"),
            );
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
        if self.classes().iter().any(|c| c.to.is_none()) {
            return issue(
                "to",
                "expected to = \"<component>\" (on the source, or on every class of mix)",
            );
        }
        Ok(())
    }
}

enum KeyLaw {
    None,
    Uniform(u64),
    /// Up to [`ALIAS_MAX_KEYS`] keys: Walker's alias table, O(1) per draw.
    Alias(AliasTable),
    /// More keys: rejection-inversion (Hörmann & Derflinger), no table.
    Zipf(Zipf<f64>),
}

impl KeyLaw {
    fn new(k: Option<KeysConfig>) -> KeyLaw {
        match k {
            None => KeyLaw::None,
            Some(k) if k.zipf == 0.0 || k.count == 1 => KeyLaw::Uniform(k.count),
            Some(k) if k.count <= ALIAS_MAX_KEYS => {
                KeyLaw::Alias(AliasTable::new(&k.probabilities()))
            }
            Some(k) => Zipf::new(k.count as f64, k.zipf)
                .map(KeyLaw::Zipf)
                .unwrap_or(KeyLaw::Uniform(k.count)),
        }
    }

    #[inline]
    fn sample(&self, rng: &mut SimRng) -> u64 {
        match self {
            KeyLaw::None => 0,
            KeyLaw::Uniform(n) => rng.random_range(1..=*n),
            KeyLaw::Alias(t) => t.sample(rng) as u64 + 1,
            KeyLaw::Zipf(z) => z.sample(rng) as u64,
        }
    }
}

/// Largest key count drawn through an alias table (12 bytes per key).
pub const ALIAS_MAX_KEYS: u64 = 1 << 21;

/// Walker's alias method (Vose's construction): draws from a discrete law
/// over `0..n` with one uniform index and one uniform fraction.
pub struct AliasTable {
    /// (acceptance probability, alias) side by side: one cache miss per
    /// draw on large tables instead of two.
    entries: Vec<(f64, u32)>,
}

impl AliasTable {
    /// A table for weights `w` (not necessarily normalised; all >= 0 and
    /// not all 0).
    pub fn new(w: &[f64]) -> Self {
        let n = w.len();
        let total: f64 = w.iter().sum();
        let mut prob: Vec<f64> = w.iter().map(|x| x * n as f64 / total).collect();
        let mut alias = vec![0u32; n];
        let (mut small, mut large): (Vec<u32>, Vec<u32>) =
            (0..n as u32).partition(|&i| prob[i as usize] < 1.0);
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            alias[s as usize] = l;
            prob[l as usize] -= 1.0 - prob[s as usize];
            if prob[l as usize] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // Leftovers are 1 up to rounding.
        for i in small.into_iter().chain(large) {
            prob[i as usize] = 1.0;
        }
        AliasTable {
            entries: prob.into_iter().zip(alias).collect(),
        }
    }

    /// Draws an index in `0..n`.
    #[inline]
    pub fn sample(&self, rng: &mut SimRng) -> usize {
        let i = rng.random_range(0..self.entries.len());
        let (p, alias) = self.entries[i];
        if rng.random::<f64>() < p {
            i
        } else {
            alias as usize
        }
    }
}

/// The modulating chain of an on/off source.
struct OnOff {
    cfg: OnOffConfig,
    on: bool,
    next_switch: f64,
    rng: SimRng,
}

impl OnOff {
    fn new(cfg: OnOffConfig, mut rng: SimRng) -> OnOff {
        // Start in the stationary law: on with probability on / (on + off).
        let p_on = cfg.on.secs() / (cfg.on.secs() + cfg.off.secs());
        let on = rng.random::<f64>() < p_on;
        let mut s = OnOff {
            cfg,
            on,
            next_switch: 0.0,
            rng,
        };
        s.next_switch = s.sojourn();
        s
    }

    fn sojourn(&mut self) -> f64 {
        let mean = if self.on {
            self.cfg.on.secs()
        } else {
            self.cfg.off.secs()
        };
        let e: f64 = Exp1.sample(&mut self.rng);
        e * mean
    }

    /// The factor at `t` (called with non-decreasing `t`).
    #[inline]
    fn factor(&mut self, t: f64) -> f64 {
        while self.next_switch <= t {
            self.on = !self.on;
            let d = self.sojourn();
            self.next_switch += d;
        }
        if self.on {
            self.cfg.on_factor
        } else {
            self.cfg.off_factor
        }
    }

    fn max(&self) -> f64 {
        self.cfg.on_factor.max(self.cfg.off_factor)
    }
}

/// A factor that varies within a thinning block.
#[derive(Clone, Copy)]
enum Varying {
    /// alpha + beta t (a ramp).
    Linear(f64, f64),
    /// Evaluate factor i.
    Eval(usize),
}

/// How a source produces arrival instants.
enum Process {
    /// Constant-rate Poisson: exponential gaps of this mean (s).
    Poisson(f64),
    /// Constant rate, evenly spaced.
    Fixed(Time),
    /// Thinning against the per-block maximum of the rate.
    Thinned {
        profile: RateProfile,
        onoff: Option<OnOff>,
        t: f64,
        block_end: f64,
        majorant: f64,
        /// Product of the base and the factors constant over this block.
        fixed: f64,
        /// The factors that vary within this block.
        varying: Vec<Varying>,
    },
    /// Recorded instants, replayed exactly.
    Timestamps { times: Vec<f64>, next: usize },
    /// Each interval's count, evenly spaced within the interval.
    ExactCounts {
        start: f64,
        interval: f64,
        counts: Vec<u64>,
        i: usize,
        j: u64,
    },
}

/// A running source: arrival instants, classes and keys.
pub struct Source {
    process: Process,
    horizon_s: f64,
    rng: SimRng,
    class_rng: SimRng,
    key_rng: SimRng,
    /// Cumulative class weights, normalised to end at 1.
    class_cum: Vec<f64>,
    keys: Vec<KeyLaw>,
    /// Per class: (prompt, output) token laws.
    tokens: Vec<Option<(TokenLaw, TokenLaw)>>,
    token_rng: SimRng,
    /// Token counts of a timestamps trace, and the next row.
    trace_tokens: Option<(Vec<(u32, u32)>, usize)>,
}

impl Source {
    /// Builds a source from its (checked) configuration. `stream(purpose)`
    /// gives the RNG stream of each purpose ("arrivals", "class", "keys",
    /// "onoff").
    pub fn new(
        cfg: &SourceConfig,
        cal: &Calendar,
        horizon_s: f64,
        mut stream: impl FnMut(&str) -> SimRng,
    ) -> Result<Source, SourceIssue> {
        let profile = cfg.profile(cal, horizon_s)?;
        let onoff = cfg.onoff.map(|o| OnOff::new(o, stream("onoff")));
        let process = match (&cfg.trace_data, cfg.arrivals) {
            (Some(TraceData::Timestamps(ts)), _) => Process::Timestamps {
                times: ts.clone(),
                next: 0,
            },
            (
                Some(TraceData::Counts {
                    start,
                    interval,
                    counts,
                }),
                Arrivals::Deterministic,
            ) => Process::ExactCounts {
                start: *start,
                interval: *interval,
                counts: counts.iter().map(|c| c.round().max(0.0) as u64).collect(),
                i: 0,
                j: 0,
            },
            (None, Arrivals::Deterministic) => Process::Fixed(from_secs(1.0 / profile.base).max(1)),
            (None, Arrivals::Poisson) if profile.is_constant() && onoff.is_none() => {
                Process::Poisson(1.0 / profile.base)
            }
            _ => {
                let varying = Vec::with_capacity(profile.factors.len());
                let mut p = Process::Thinned {
                    profile,
                    onoff,
                    t: 0.0,
                    block_end: 0.0,
                    majorant: 0.0,
                    fixed: 0.0,
                    varying,
                };
                p.next_block();
                p
            }
        };
        let classes = cfg.classes();
        let total: f64 = classes.iter().map(|c| c.weight).sum();
        let mut acc = 0.0;
        let class_cum = classes
            .iter()
            .map(|c| {
                acc += c.weight / total;
                acc
            })
            .collect();
        Ok(Source {
            process,
            horizon_s,
            rng: stream("arrivals"),
            class_rng: stream("class"),
            key_rng: stream("keys"),
            class_cum,
            keys: classes.iter().map(|c| KeyLaw::new(c.keys)).collect(),
            tokens: classes
                .iter()
                .map(|c| match (c.prompt_tokens, c.output_tokens) {
                    (Some(p), Some(o)) => Some((p.sampler(), o.sampler())),
                    _ => None,
                })
                .collect(),
            token_rng: stream("tokens"),
            trace_tokens: cfg.trace_tokens.clone().map(|t| (t, 0)),
        })
    }

    /// The next arrival after `now`, or None when the source is exhausted
    /// or past the horizon.
    #[inline]
    pub fn next_arrival(&mut self, now: Time) -> Option<Time> {
        let t = match &mut self.process {
            Process::Poisson(mean) => {
                let e: f64 = Exp1.sample(&mut self.rng);
                return Some(now + from_secs(e * *mean))
                    .filter(|t| (*t as f64) <= self.horizon_s * NS_PER_SEC as f64);
            }
            Process::Fixed(gap) => {
                return Some(now + *gap)
                    .filter(|t| (*t as f64) <= self.horizon_s * NS_PER_SEC as f64)
            }
            Process::Timestamps { times, next } => {
                let t = *times.get(*next)?;
                *next += 1;
                t
            }
            Process::ExactCounts {
                start,
                interval,
                counts,
                i,
                j,
            } => loop {
                let c = *counts.get(*i)?;
                if *j < c {
                    let t = *start + (*i as f64 + (*j as f64 + 0.5) / c as f64) * *interval;
                    *j += 1;
                    break t;
                }
                *i += 1;
                *j = 0;
            },
            Process::Thinned { .. } => self.process.thinned(&mut self.rng, self.horizon_s)?,
        };
        if t > self.horizon_s {
            return None;
        }
        Some(from_secs(t).max(now))
    }

    /// The class of the next request (index into the source's classes).
    #[inline]
    pub fn next_class(&mut self) -> usize {
        if self.class_cum.len() == 1 {
            return 0;
        }
        let u: f64 = self.class_rng.random();
        self.class_cum
            .iter()
            .position(|&c| u < c)
            .unwrap_or(self.class_cum.len() - 1)
    }

    /// The (prompt, output) tokens of the next request of class `class`:
    /// the trace's row when the trace has token columns, else draws from
    /// the class's laws; (0, 0) for a class without tokens.
    #[inline]
    pub fn next_tokens(&mut self, class: usize) -> (u32, u32) {
        if let Some((rows, next)) = &mut self.trace_tokens {
            let t = rows.get(*next).copied().unwrap_or((0, 0));
            *next += 1;
            return t;
        }
        match &self.tokens[class] {
            Some((p, o)) => (p.sample(&mut self.token_rng), o.sample(&mut self.token_rng)),
            None => (0, 0),
        }
    }

    /// The key of the next request of class `class` (0 = no key).
    #[inline]
    pub fn next_key(&mut self, class: usize) -> u64 {
        self.keys[class].sample(&mut self.key_rng)
    }
}

impl Process {
    fn next_block(&mut self) {
        if let Process::Thinned {
            profile,
            onoff,
            t,
            block_end,
            majorant,
            fixed,
            varying,
        } = self
        {
            let (a, b) = (*t, *t + BLOCK);
            *block_end = b;
            *majorant = profile.max_over(a, b) * onoff.as_ref().map(OnOff::max).unwrap_or(1.0);
            // Factors constant over the block are multiplied once here, so
            // candidates only evaluate the ones that vary (often none).
            *fixed = if a >= profile.end { 0.0 } else { profile.base };
            varying.clear();
            for (i, f) in profile.factors.iter().enumerate() {
                let cal = &profile.calendar;
                match f.constant_over(a, b, cal) {
                    Some(v) => *fixed *= v,
                    None => varying.push(match f.linear_over(a, b, cal) {
                        Some((alpha, beta)) => Varying::Linear(alpha, beta),
                        None => Varying::Eval(i),
                    }),
                }
            }
        }
    }

    /// Thinning: candidates at the block's maximum rate, each kept with
    /// probability rate(t) / maximum (Lewis & Shedler).
    #[inline]
    fn thinned(&mut self, rng: &mut SimRng, horizon_s: f64) -> Option<f64> {
        loop {
            let Process::Thinned {
                profile,
                onoff,
                t,
                block_end,
                majorant,
                fixed,
                varying,
            } = self
            else {
                return None;
            };
            if *t > horizon_s || *t >= profile.end {
                return None;
            }
            let cand = if *majorant > 0.0 {
                let e: f64 = Exp1.sample(rng);
                *t + e / *majorant
            } else {
                f64::INFINITY
            };
            if cand >= *block_end {
                // Memoryless: restart at the block boundary with its maximum.
                *t = *block_end;
                self.next_block();
                continue;
            }
            *t = cand;
            if varying.is_empty() && onoff.is_none() && cand < profile.end {
                // The rate is constant over the block and equals the
                // majorant: every candidate is accepted.
                return Some(cand);
            }
            let mut r = *fixed;
            for v in varying.iter() {
                r *= match *v {
                    Varying::Linear(alpha, beta) => alpha + beta * cand,
                    Varying::Eval(i) => profile.factors[i].at(cand, &profile.calendar),
                };
            }
            if cand >= profile.end {
                r = 0.0;
            }
            if let Some(o) = onoff {
                r *= o.factor(cand);
            }
            if rng.random::<f64>() * *majorant < r {
                return Some(cand);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::pattern::TimeRef;

    fn cfg(rate: f64, zipf: f64) -> SourceConfig {
        SourceConfig {
            rate: Some(rate),
            to: Some("x".into()),
            keys: Some(KeysConfig { count: 100, zipf }),
            ..SourceConfig::default()
        }
    }

    fn source(c: &SourceConfig, horizon: f64) -> Source {
        Source::new(c, &Calendar::undated(), horizon, |p| {
            scalesim_sim::stream(3, 0, "s", p)
        })
        .unwrap()
    }

    /// All arrival instants (s) of a source up to its horizon.
    fn arrivals(src: &mut Source) -> Vec<f64> {
        let mut out = Vec::new();
        let mut now = 0;
        while let Some(t) = src.next_arrival(now) {
            out.push(t as f64 / 1e9);
            now = t;
        }
        out
    }

    #[test]
    fn poisson_gaps_have_the_right_mean() {
        let mut s = source(&cfg(10.0, 0.0), 20_000.0);
        let a = arrivals(&mut s);
        // 200,000 expected; Poisson sd 447: 5 sd = 2,236.
        assert!((a.len() as f64 - 200_000.0).abs() < 2_236.0, "{}", a.len());
    }

    #[test]
    fn deterministic_arrivals_are_evenly_spaced() {
        let c = SourceConfig {
            arrivals: Arrivals::Deterministic,
            ..cfg(4.0, 0.0)
        };
        let a = arrivals(&mut source(&c, 10.0));
        assert_eq!(a.len(), 40);
        assert_eq!(a[0], 0.25);
        assert_eq!(a[39], 10.0);
    }

    #[test]
    fn zipf_key_frequencies_follow_the_law() {
        let mut s = source(&cfg(10.0, 0.8), 1.0);
        let p = KeysConfig {
            count: 100,
            zipf: 0.8,
        }
        .probabilities();
        let n = 400_000;
        let mut counts = vec![0u64; 101];
        for _ in 0..n {
            counts[s.next_key(0) as usize] += 1;
        }
        assert_eq!(counts[0], 0);
        for rank in [1usize, 2, 10, 100] {
            let f = counts[rank] as f64 / n as f64;
            let se = (p[rank - 1] * (1.0 - p[rank - 1]) / n as f64).sqrt();
            assert!(
                (f - p[rank - 1]).abs() < 5.0 * se,
                "rank {rank}: {f} vs {}",
                p[rank - 1]
            );
        }
    }

    #[test]
    fn alias_table_reproduces_weights() {
        let w = [5.0, 1.0, 0.0, 2.0, 2.0];
        let t = AliasTable::new(&w);
        let mut rng = scalesim_sim::stream(9, 0, "alias", "t");
        let n = 500_000;
        let mut c = [0u64; 5];
        for _ in 0..n {
            c[t.sample(&mut rng)] += 1;
        }
        assert_eq!(c[2], 0);
        for i in 0..5 {
            let p = w[i] / 10.0;
            let se = (p * (1.0 - p) / n as f64).sqrt();
            assert!(
                (c[i] as f64 / n as f64 - p).abs() <= 5.0 * se + 1e-12,
                "{i}: {c:?}"
            );
        }
    }

    #[test]
    fn large_key_spaces_use_rejection_inversion() {
        let mut c = cfg(1.0, 1.0);
        c.keys = Some(KeysConfig {
            count: ALIAS_MAX_KEYS * 4,
            zipf: 1.0,
        });
        let mut s = source(&c, 1.0);
        assert!(matches!(s.keys[0], KeyLaw::Zipf(_)));
        // P(key 1) = 1 / H(n), H(n) ~ ln n + 0.5772.
        let n = 200_000;
        let ones = (0..n).filter(|_| s.next_key(0) == 1).count() as f64 / n as f64;
        let p = 1.0 / (((ALIAS_MAX_KEYS * 4) as f64).ln() + 0.5772);
        let se = (p * (1.0 - p) / n as f64).sqrt();
        assert!((ones - p).abs() < 5.0 * se, "{ones} vs {p}");
    }

    #[test]
    fn classes_are_drawn_by_weight() {
        let mut c = cfg(1.0, 0.0);
        c.mix = vec![
            ClassConfig {
                name: "read".into(),
                weight: 9.0,
                to: None,
                op: Op::Read,
                keys: None,
                prompt_tokens: None,
                output_tokens: None,
            },
            ClassConfig {
                name: "write".into(),
                weight: 1.0,
                to: Some("db".into()),
                op: Op::Write,
                keys: None,
                prompt_tokens: None,
                output_tokens: None,
            },
        ];
        assert!(c.check_classes().is_ok());
        assert_eq!(c.classes()[1].to.as_deref(), Some("db"));
        assert_eq!(c.classes()[0].to.as_deref(), Some("x"));
        let mut s = source(&c, 1.0);
        let n = 100_000;
        let writes = (0..n).filter(|_| s.next_class() == 1).count() as f64 / n as f64;
        // sd = sqrt(0.09 / 1e5) = 0.00095
        assert!((writes - 0.1).abs() < 0.005, "{writes}");
    }

    #[test]
    fn thinned_counts_match_the_integrated_rate() {
        // A burst: 10 x at 1000 s decaying over 300 s, on a base of 5/s.
        let mut c = cfg(5.0, 0.0);
        c.bursts = vec![crate::traffic::pattern::BurstConfig {
            at: TimeRef::Secs(1000.0),
            factor: 10.0,
            decay: Duration(300.0),
        }];
        let cal = Calendar::undated();
        let profile = c.profile(&cal, 4000.0).unwrap();
        let mut total = [0.0; 8];
        let reps = 40;
        for r in 0..reps {
            let mut s =
                Source::new(&c, &cal, 4000.0, |p| scalesim_sim::stream(r, 0, "s", p)).unwrap();
            for t in arrivals(&mut s) {
                total[((t / 500.0) as usize).min(7)] += 1.0;
            }
        }
        for (b, n) in total.iter().enumerate() {
            let expect =
                profile.integral(b as f64 * 500.0, (b + 1) as f64 * 500.0, 0.5) * reps as f64;
            // Poisson: sd = sqrt(expect); 5 sd.
            assert!(
                (n - expect).abs() < 5.0 * expect.sqrt(),
                "bucket {b}: {n} vs {expect}"
            );
        }
    }

    #[test]
    fn onoff_source_has_the_stationary_mean_rate() {
        let mut c = cfg(10.0, 0.0);
        c.onoff = Some(OnOffConfig {
            on: Duration(10.0),
            off: Duration(30.0),
            on_factor: 4.0,
            off_factor: 0.0,
        });
        let t = 400_000.0;
        let n = arrivals(&mut source(&c, t)).len() as f64;
        // Mean rate: 10 x 4 x P(on) = 10 x 4 x 0.25 = 10/s. For a two-state
        // MMPP, Var N(T) ~ (mean + 2 Var(rate) tau) T with Var(rate) =
        // 40^2 x 0.25 x 0.75 = 300 and correlation time tau = 1/(1/10 +
        // 1/30) = 7.5 s: sd = sqrt(4510 T) = 42,500 (1.06%). Allow 4 sd.
        let sd = (4510.0 * t).sqrt();
        assert!((n - 10.0 * t).abs() < 4.0 * sd, "{n}");
    }
}
