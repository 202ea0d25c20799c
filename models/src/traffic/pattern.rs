//! Traffic patterns: factors that multiply a source's base rate over time,
//! composed by product — business hours or an hourly curve (`daily`),
//! weekday factors or a weekend dip (`weekly`), dated spikes with ramps
//! (`events`: Black Friday x5), compound growth or user counts by phase
//! (`growth`), flash crowds that jump and decay (`bursts`), and replayed
//! per-interval counts (`trace`).
//!
//! Every factor is piecewise monotone between known knots, so the maximum
//! of the rate over any interval is found exactly from its ends and the
//! knots inside. The source turns the rate into a non-homogeneous Poisson
//! process by thinning against that piecewise-constant majorant (Lewis &
//! Shedler 1979): exact, and cheap when blocks are short.

use crate::traffic::calendar::{parse_local, Calendar};
use crate::units::{parse_duration, Duration};
use serde::Deserialize;

/// Seconds in a day.
pub const DAY: f64 = 86400.0;
/// Seconds in an average month (365.25 / 12 days).
pub const MONTH: f64 = 365.25 / 12.0 * DAY;

/// `daily = { peak_hours = "07:00-20:00", peak = 1.0, off_peak = 0.3, ramp = "1h" }`
/// or `daily = { hourly = [24 factors], smooth = true }`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DailyConfig {
    /// Local business hours, `"HH:MM-HH:MM"`.
    #[serde(default)]
    pub peak_hours: Option<String>,
    /// Factor during business hours.
    #[serde(default = "one")]
    pub peak: f64,
    /// Factor outside them.
    #[serde(default = "default_off_peak")]
    pub off_peak: f64,
    /// Length of the linear ramp centred on each edge (0: a step).
    #[serde(default)]
    pub ramp: Duration,
    /// 24 factors, one per local hour starting at midnight.
    #[serde(default)]
    pub hourly: Option<Vec<f64>>,
    /// Interpolate the hourly curve linearly between hour midpoints
    /// (else each hour is flat).
    #[serde(default)]
    pub smooth: bool,
}

/// `weekly = { weekend = 0.5 }` or `weekly = { days = [7 factors, Monday first] }`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WeeklyConfig {
    /// Factor on Saturday and Sunday (weekdays 1.0).
    #[serde(default)]
    pub weekend: Option<f64>,
    /// One factor per local weekday, Monday first.
    #[serde(default)]
    pub days: Option<Vec<f64>>,
}

/// A dated spike: `{ name = "Black Friday", start = "2026-11-27", end =
/// "2026-11-28", factor = 5, ramp_up = "6h", ramp_down = "12h" }`. Times
/// are local dates (need the scenario's `start`) or offsets like `"3d"`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EventConfig {
    /// Label (charts, messages).
    #[serde(default)]
    pub name: String,
    /// When the full factor is reached.
    pub start: TimeRef,
    /// When the full factor ends (or give `duration`).
    #[serde(default)]
    pub end: Option<TimeRef>,
    /// Length of the full factor (alternative to `end`).
    #[serde(default)]
    pub duration: Option<Duration>,
    /// Rate multiplier at the peak.
    pub factor: f64,
    /// Linear ramp before `start`.
    #[serde(default)]
    pub ramp_up: Duration,
    /// Linear ramp after the end.
    #[serde(default)]
    pub ramp_down: Duration,
}

/// `growth = { monthly = 0.10 }` (compound, +10% a month) or
/// `growth = { phases = [{ at = "0d", users = 1000 }, { at = "90d", users = 100000 }] }`
/// with the source's `per_user_per_day`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GrowthConfig {
    /// Compound growth per month (0.10 = +10%).
    #[serde(default)]
    pub monthly: Option<f64>,
    /// User counts at points in time.
    #[serde(default)]
    pub phases: Option<Vec<PhaseConfig>>,
    /// Between phases: `"exponential"` (constant growth rate), `"linear"`,
    /// or `"step"` (jump at each phase).
    #[serde(default)]
    pub interpolate: Interpolate,
}

/// One growth phase.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PhaseConfig {
    /// When (local date or offset).
    pub at: TimeRef,
    /// Active users from then.
    pub users: f64,
}

/// Interpolation between growth phases.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Interpolate {
    /// Constant relative growth between phases.
    #[default]
    Exponential,
    /// Straight line.
    Linear,
    /// Flat, jumping at each phase.
    Step,
}

/// A flash crowd: `{ at = "2026-11-24T12:00", factor = 8, decay = "15m" }`:
/// the rate jumps to `factor` x at `at` and decays back exponentially with
/// time constant `decay`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BurstConfig {
    /// When the crowd arrives.
    pub at: TimeRef,
    /// Multiplier at the jump.
    pub factor: f64,
    /// Exponential decay time constant.
    pub decay: Duration,
}

/// A point in time as written: a local date-time string, or an offset from
/// the start (a duration string or a number of seconds).
#[derive(Clone, Debug, PartialEq)]
pub enum TimeRef {
    /// Seconds from the start.
    Secs(f64),
    /// `"2026-11-27"`, `"2026-11-27T08:00"`, a bare TOML date such as
    /// `2026-11-27`, or `"3d12h"`.
    Text(String),
}

impl<'de> Deserialize<'de> for TimeRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Secs(f64),
            Text(crate::units::DateText),
        }
        match Form::deserialize(d).map_err(|_| {
            serde::de::Error::custom(
                "expected a local date like 2026-11-27 or \"2026-11-27T08:00\", an offset from the start like \"3d12h\", or seconds",
            )
        })? {
            Form::Secs(s) => Ok(TimeRef::Secs(s)),
            Form::Text(t) => Ok(TimeRef::Text(t.0)),
        }
    }
}

impl TimeRef {
    /// Simulated seconds of this time under `cal`.
    pub fn resolve(&self, cal: &Calendar) -> Result<f64, String> {
        match self {
            TimeRef::Secs(s) if s.is_finite() => Ok(*s),
            TimeRef::Secs(s) => Err(format!("invalid time {s}")),
            TimeRef::Text(t) => {
                if let Ok(d) = parse_duration(t) {
                    return Ok(d);
                }
                let local = parse_local(t).map_err(|_| {
                    format!("invalid time {t:?}: expected a local date like \"2026-11-27\" or \"2026-11-27T08:00\", or an offset from the start like \"3d12h\"")
                })?;
                if !cal.is_dated() {
                    return Err(format!(
                        "the date {t:?} needs a calendar: set `start = \"YYYY-MM-DDTHH:MM:SS\"` at the top of the scenario, or give an offset like \"3d\""
                    ));
                }
                Ok(cal.sim_time(local))
            }
        }
    }
}

fn one() -> f64 {
    1.0
}
fn default_off_peak() -> f64 {
    0.3
}

/// A piecewise-linear function given by knots `(x, y)` sorted by x; equal
/// x values make a jump (the later knot wins at that x). Constant outside
/// the knots.
#[derive(Clone, Debug, PartialEq)]
pub struct Knots(pub Vec<(f64, f64)>);

impl Knots {
    /// Value at `x`.
    #[inline]
    pub fn at(&self, x: f64) -> f64 {
        let k = &self.0;
        let i = k.partition_point(|p| p.0 <= x);
        if i == 0 {
            return k[0].1;
        }
        if i == k.len() {
            return k[k.len() - 1].1;
        }
        let (x0, y0) = k[i - 1];
        let (x1, y1) = k[i];
        if x1 == x0 {
            y1
        } else {
            y0 + (y1 - y0) * (x - x0) / (x1 - x0)
        }
    }

    /// Limit from the left at `x` (the old level of a jump at `x`).
    #[inline]
    pub fn at_left(&self, x: f64) -> f64 {
        let k = &self.0;
        let i = k.partition_point(|p| p.0 < x);
        if i == 0 {
            return k[0].1;
        }
        if i == k.len() {
            return k[i - 1].1;
        }
        // k[i - 1].0 < x <= k[i].0, so the segment has a length.
        let (x0, y0) = k[i - 1];
        let (x1, y1) = k[i];
        y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    }

    /// Maximum over `[a, b)`: the ends and every knot inside (both sides
    /// of a jump are knots, so a step's old level counts too; a jump
    /// exactly at `b` belongs to the next interval).
    pub fn max_over(&self, a: f64, b: f64) -> f64 {
        let k = &self.0;
        let lo = k.partition_point(|p| p.0 < a);
        let hi = k.partition_point(|p| p.0 < b);
        k[lo..hi]
            .iter()
            .map(|p| p.1)
            .fold(self.at(a).max(self.at_left(b)), f64::max)
    }

    /// The value when the function is constant on `[a, b)` (no knot
    /// inside and equal ends; a jump exactly at `b` belongs to the next
    /// interval), else None.
    pub fn constant_over(&self, a: f64, b: f64) -> Option<f64> {
        let k = &self.0;
        let lo = k.partition_point(|p| p.0 <= a);
        let hi = k.partition_point(|p| p.0 < b);
        let (va, vb) = (self.at(a), self.at_left(b));
        (lo >= hi && va == vb).then_some(va)
    }

    /// `(alpha, beta)` with value = alpha + beta x on `[a, b)` when no knot
    /// lies strictly inside, else None (a jump exactly at `b` belongs to
    /// the next interval).
    pub fn linear_over(&self, a: f64, b: f64) -> Option<(f64, f64)> {
        let k = &self.0;
        let lo = k.partition_point(|p| p.0 <= a);
        let hi = k.partition_point(|p| p.0 < b);
        if lo < hi || b <= a {
            return None;
        }
        let (va, vb) = (self.at(a), self.at_left(b));
        let beta = (vb - va) / (b - a);
        Some((va - beta * a, beta))
    }

    /// Largest value anywhere.
    pub fn max(&self) -> f64 {
        self.0.iter().map(|p| p.1).fold(f64::MIN, f64::max)
    }
}

/// One multiplicative factor of a rate.
#[derive(Clone, Debug, PartialEq)]
pub enum Factor {
    /// Periodic over the local day: knots over 0..86400 s of local time.
    Daily(Knots),
    /// By local weekday, Monday first.
    Weekly([f64; 7]),
    /// A function of simulated time (events, growth phases, traces).
    Timeline(Knots),
    /// exp(k t): compound growth.
    Growth(f64),
    /// 1 + amp * exp(-(t - at) / decay) for t >= at, else 1.
    Burst {
        /// Jump time.
        at: f64,
        /// factor - 1.
        amp: f64,
        /// Decay time constant.
        decay: f64,
    },
}

impl Factor {
    /// Value at simulated second `t`.
    #[inline]
    pub fn at(&self, t: f64, cal: &Calendar) -> f64 {
        match self {
            Factor::Daily(k) => k.at(cal.time_of_day(t)),
            Factor::Weekly(d) => d[cal.weekday(t)],
            Factor::Timeline(k) => k.at(t),
            Factor::Growth(k) => (k * t).exp(),
            Factor::Burst { at, amp, decay } => {
                if t < *at {
                    1.0
                } else {
                    1.0 + amp * (-(t - at) / decay).exp()
                }
            }
        }
    }

    /// The value when this factor is constant on `[a, b]` (a block shorter
    /// than a day), else None. Thinning skips constant factors.
    pub fn constant_over(&self, a: f64, b: f64, cal: &Calendar) -> Option<f64> {
        match self {
            Factor::Daily(k) => {
                let (ta, tb) = (cal.time_of_day(a), cal.time_of_day(b));
                if b - a >= DAY || ta > tb || cal.offset_at(a) != cal.offset_at(b) {
                    return None;
                }
                k.constant_over(ta, tb)
            }
            Factor::Weekly(d) => {
                (b - a < DAY && cal.weekday(a) == cal.weekday(b)).then(|| d[cal.weekday(a)])
            }
            Factor::Timeline(k) => k.constant_over(a, b),
            Factor::Growth(k) => (*k == 0.0).then_some(1.0),
            Factor::Burst { at, .. } => (b < *at).then_some(1.0),
        }
    }

    /// `(alpha, beta)` with value = alpha + beta t over simulated `[a, b]`
    /// when the factor is linear there (a ramp without a knot inside),
    /// else None. Thinning evaluates such factors with one multiply-add.
    pub fn linear_over(&self, a: f64, b: f64, cal: &Calendar) -> Option<(f64, f64)> {
        match self {
            Factor::Daily(k) => {
                let (ta, tb) = (cal.time_of_day(a), cal.time_of_day(b));
                if b - a >= DAY || ta > tb || cal.offset_at(a) != cal.offset_at(b) {
                    return None;
                }
                // Local time of day is t + (ta - a) within the block.
                let (alpha, beta) = k.linear_over(ta, tb)?;
                Some((alpha + beta * (ta - a), beta))
            }
            Factor::Timeline(k) => k.linear_over(a, b),
            _ => None,
        }
    }

    /// An upper bound (exact maximum) over `[a, b]`.
    pub fn max_over(&self, a: f64, b: f64, cal: &Calendar) -> f64 {
        match self {
            Factor::Daily(k) => {
                if b - a >= DAY || cal.offset_at(a) != cal.offset_at(b) {
                    return k.max();
                }
                let (ta, tb) = (cal.time_of_day(a), cal.time_of_day(b));
                if ta <= tb {
                    k.max_over(ta, tb)
                } else {
                    k.max_over(ta, DAY).max(k.max_over(0.0, tb))
                }
            }
            Factor::Weekly(d) => {
                if b - a >= 7.0 * DAY {
                    return d.iter().copied().fold(f64::MIN, f64::max);
                }
                let (wa, days) = (cal.weekday(a), ((b - a) / DAY).ceil() as usize + 1);
                (0..days.min(7))
                    .map(|i| d[(wa + i) % 7])
                    .fold(f64::MIN, f64::max)
            }
            Factor::Timeline(k) => k.max_over(a, b),
            Factor::Growth(_) => self.at(a, cal).max(self.at(b, cal)),
            Factor::Burst { at, .. } => {
                if b < *at {
                    1.0
                } else {
                    self.at(a.max(*at), cal)
                }
            }
        }
    }
}

/// A base rate times factors.
#[derive(Clone, Debug)]
pub struct RateProfile {
    /// Base rate, requests per second.
    pub base: f64,
    /// Multiplicative factors.
    pub factors: Vec<Factor>,
    /// Calendar for daily and weekly factors.
    pub calendar: Calendar,
    /// No arrival after this time (end of a trace).
    pub end: f64,
}

impl RateProfile {
    /// True when the rate never changes.
    pub fn is_constant(&self) -> bool {
        self.factors.is_empty()
    }

    /// Rate at `t`, requests per second.
    #[inline]
    pub fn rate(&self, t: f64) -> f64 {
        if t >= self.end {
            return 0.0;
        }
        let mut r = self.base;
        for f in &self.factors {
            r *= f.at(t, &self.calendar);
        }
        r
    }

    /// An upper bound of the rate over `[a, b]` (product of the factors'
    /// maxima).
    pub fn max_over(&self, a: f64, b: f64) -> f64 {
        if a >= self.end {
            return 0.0;
        }
        let mut r = self.base;
        for f in &self.factors {
            r *= f.max_over(a, b, &self.calendar);
        }
        r
    }

    /// The arrivals thinning draws over `[0, horizon]` (accepted or not):
    /// the integral of the majorant, block by block, on blocks of `block`
    /// seconds (more when the horizon holds over 100,000 blocks, which
    /// only raises the count). For load-time work bounds.
    pub fn candidates(&self, horizon: f64, block: f64) -> f64 {
        let horizon = horizon.min(self.end).max(0.0);
        let step = block.max(horizon / 100_000.0);
        let mut a = 0.0;
        let mut total = 0.0;
        while a < horizon {
            let b = (a + step).min(horizon);
            total += self.max_over(a, b) * (b - a);
            a = b;
        }
        total
    }

    /// The expected number of arrivals in `[a, b]`: the integral of the
    /// rate, by the midpoint rule on steps of at most `step` seconds
    /// (for checks and reports, not the hot path).
    pub fn integral(&self, a: f64, b: f64, step: f64) -> f64 {
        let n = ((b - a) / step).ceil().max(1.0) as usize;
        let h = (b - a) / n as f64;
        (0..n)
            .map(|i| self.rate(a + (i as f64 + 0.5) * h))
            .sum::<f64>()
            * h
    }
}

/// Builds the knots of a `daily` factor; `Err((field, message))`.
pub fn daily_knots(d: &DailyConfig) -> Result<Knots, (&'static str, String)> {
    match (&d.peak_hours, &d.hourly) {
        (Some(_), Some(_)) => Err((
            "hourly",
            "give either peak_hours or hourly, not both".into(),
        )),
        (None, None) => Err((
            "peak_hours",
            "expected peak_hours = \"07:00-20:00\" or hourly = [24 factors]".into(),
        )),
        (None, Some(h)) => {
            if h.len() != 24 {
                return Err((
                    "hourly",
                    format!(
                        "expected 24 hourly factors (midnight first), got {}",
                        h.len()
                    ),
                ));
            }
            check_factors("hourly", h)?;
            let mut k = Vec::with_capacity(50);
            if d.smooth {
                // Linear between hour midpoints, wrapping around midnight.
                let mid = (h[23] + h[0]) / 2.0;
                k.push((0.0, mid));
                for (i, v) in h.iter().enumerate() {
                    k.push((i as f64 * 3600.0 + 1800.0, *v));
                }
                k.push((DAY, mid));
            } else {
                for (i, v) in h.iter().enumerate() {
                    k.push((i as f64 * 3600.0, *v));
                    k.push(((i + 1) as f64 * 3600.0, *v));
                }
            }
            Ok(Knots(k))
        }
        (Some(p), None) => {
            let (open, close) = parse_hours(p).map_err(|m| ("peak_hours", m))?;
            check_factors("peak", &[d.peak])?;
            check_factors("off_peak", &[d.off_peak])?;
            let r = d.ramp.secs() / 2.0;
            if r * 2.0 > (close - open).min(DAY - (close - open)) {
                return Err((
                    "ramp",
                    "the ramp is longer than the peak or off-peak period".into(),
                ));
            }
            let (lo, hi) = (d.off_peak, d.peak);
            // Knots of one day from open - r, then wrap into 0..DAY.
            let edges = [
                (open - r, lo),
                (open + r, hi),
                (close - r, hi),
                (close + r, lo),
            ];
            let mut k: Vec<(f64, f64)> = Vec::new();
            let at = |x: f64| {
                // Value of the unwrapped periodic curve at local second x.
                let x = x.rem_euclid(DAY);
                let mut best = lo;
                for w in [-DAY, 0.0, DAY] {
                    let xs = x + w;
                    if xs >= open + r && (xs < close - r || (r > 0.0 && xs == close - r)) {
                        best = hi;
                    } else if r > 0.0 && xs > open - r && xs < open + r {
                        best = lo + (hi - lo) * (xs - (open - r)) / (2.0 * r);
                    } else if r > 0.0 && xs > close - r && xs < close + r {
                        best = hi + (lo - hi) * (xs - (close - r)) / (2.0 * r);
                    }
                }
                best
            };
            k.push((0.0, at(0.0)));
            let mut xs: Vec<f64> = edges.iter().map(|e| e.0.rem_euclid(DAY)).collect();
            xs.sort_by(f64::total_cmp);
            for x in xs {
                if r == 0.0 {
                    // A step: old level, then new level, at the same x.
                    k.push((x, at(x - 1e-6)));
                    k.push((x, at(x)));
                } else {
                    k.push((x, at(x)));
                }
            }
            k.push((DAY, at(DAY)));
            Ok(Knots(k))
        }
    }
}

/// Parses `"07:00-20:00"` into local seconds of opening and closing.
fn parse_hours(s: &str) -> Result<(f64, f64), String> {
    let bad = || format!("invalid hours {s:?}: expected \"HH:MM-HH:MM\" like \"07:00-20:00\"");
    let (a, b) = s.split_once('-').ok_or_else(bad)?;
    let hm = |t: &str| -> Result<f64, String> {
        let (h, m) = t.trim().split_once(':').ok_or_else(bad)?;
        let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if h > 24 || m > 59 || (h == 24 && m > 0) {
            return Err(bad());
        }
        Ok((h * 3600 + m * 60) as f64)
    };
    let (open, close) = (hm(a)?, hm(b)?);
    if open >= close {
        return Err(format!("invalid hours {s:?}: the peak must start before it ends (use two sources for overnight peaks)"));
    }
    Ok((open, close))
}

/// Checks rate factors are finite and non-negative.
pub fn check_factors(field: &'static str, xs: &[f64]) -> Result<(), (&'static str, String)> {
    match xs.iter().find(|x| !(x.is_finite() && **x >= 0.0)) {
        Some(x) => Err((field, format!("expected factors >= 0, got {x}"))),
        None => Ok(()),
    }
}

/// The factor of a `weekly` table.
pub fn weekly_factors(w: &WeeklyConfig) -> Result<[f64; 7], (&'static str, String)> {
    match (&w.weekend, &w.days) {
        (Some(_), Some(_)) => Err(("days", "give either weekend or days, not both".into())),
        (None, None) => Err((
            "weekend",
            "expected weekend = 0.5 or days = [7 factors, Monday first]".into(),
        )),
        (Some(we), None) => {
            check_factors("weekend", &[*we])?;
            Ok([1.0, 1.0, 1.0, 1.0, 1.0, *we, *we])
        }
        (None, Some(d)) => {
            if d.len() != 7 {
                return Err((
                    "days",
                    format!("expected 7 factors (Monday first), got {}", d.len()),
                ));
            }
            check_factors("days", d)?;
            Ok([d[0], d[1], d[2], d[3], d[4], d[5], d[6]])
        }
    }
}

/// The timeline of one event; `Err((field, message))`.
pub fn event_knots(e: &EventConfig, cal: &Calendar) -> Result<Knots, (&'static str, String)> {
    let start = e.start.resolve(cal).map_err(|m| ("start", m))?;
    let end = match (&e.end, &e.duration) {
        (Some(end), None) => end.resolve(cal).map_err(|m| ("end", m))?,
        (None, Some(d)) => start + d.secs(),
        (Some(_), Some(_)) => {
            return Err(("duration", "give either end or duration, not both".into()))
        }
        (None, None) => {
            return Err((
                "end",
                "expected end = <date or offset> or duration = \"1d\"".into(),
            ))
        }
    };
    if end < start {
        return Err(("end", "the event ends before it starts".into()));
    }
    if end == start && e.ramp_up.secs() == 0.0 && e.ramp_down.secs() == 0.0 {
        // A spike of no width changes no arrival but would raise the
        // thinning majorant of its whole block.
        return Err((
            if e.duration.is_some() {
                "duration"
            } else {
                "end"
            },
            "the event lasts 0 s: give it a duration > 0 (or a ramp)".into(),
        ));
    }
    check_factors("factor", &[e.factor])?;
    let (up, down) = (e.ramp_up.secs(), e.ramp_down.secs());
    let mut k = vec![
        (start - up, 1.0),
        (start, e.factor),
        (end, e.factor),
        (end + down, 1.0),
    ];
    if up == 0.0 {
        k[0].1 = 1.0;
    }
    Ok(Knots(k))
}

/// The growth factor, relative to the base rate; for phases the base rate
/// is per-user and the knots are user counts.
pub fn growth_factor(g: &GrowthConfig, cal: &Calendar) -> Result<Factor, (&'static str, String)> {
    match (&g.monthly, &g.phases) {
        (Some(_), Some(_)) => Err(("phases", "give either monthly or phases, not both".into())),
        (None, None) => Err((
            "monthly",
            "expected monthly = 0.10 or phases = [{ at, users }, ...]".into(),
        )),
        (Some(m), None) => {
            if !(m.is_finite() && *m > -1.0) {
                return Err((
                    "monthly",
                    format!("expected monthly growth > -1 (e.g. 0.10 for +10%), got {m}"),
                ));
            }
            Ok(Factor::Growth((1.0 + m).ln() / MONTH))
        }
        (None, Some(ph)) => {
            if ph.is_empty() {
                return Err(("phases", "expected at least one phase".into()));
            }
            let mut pts = Vec::with_capacity(ph.len());
            for p in ph {
                let t = p.at.resolve(cal).map_err(|m| ("phases", m))?;
                if !(p.users.is_finite() && p.users > 0.0) {
                    return Err(("phases", format!("expected users > 0, got {}", p.users)));
                }
                if pts.last().is_some_and(|&(pt, _)| t <= pt) {
                    return Err(("phases", "phases must be in increasing time order".into()));
                }
                pts.push((t, p.users));
            }
            let k = match g.interpolate {
                Interpolate::Linear => pts,
                Interpolate::Step => {
                    let mut k = vec![pts[0]];
                    for w in pts.windows(2) {
                        k.push((w[1].0, w[0].1));
                        k.push(w[1]);
                    }
                    k
                }
                Interpolate::Exponential => {
                    // Piecewise linear in log space, sampled every day so
                    // thinning blocks stay tight.
                    let mut k = vec![pts[0]];
                    for w in pts.windows(2) {
                        let ((t0, u0), (t1, u1)) = (w[0], w[1]);
                        let n = ((t1 - t0) / DAY).ceil().max(1.0) as usize;
                        for i in 1..=n {
                            let f = i as f64 / n as f64;
                            k.push((t0 + f * (t1 - t0), u0 * (u1 / u0).powf(f)));
                        }
                    }
                    k
                }
            };
            Ok(Factor::Timeline(Knots(k)))
        }
    }
}

/// The factor of one burst.
pub fn burst_factor(b: &BurstConfig, cal: &Calendar) -> Result<Factor, (&'static str, String)> {
    let at = b.at.resolve(cal).map_err(|m| ("at", m))?;
    check_factors("factor", &[b.factor])?;
    if b.decay.secs() <= 0.0 {
        return Err(("decay", "expected a decay time > 0".into()));
    }
    Ok(Factor::Burst {
        at,
        amp: b.factor - 1.0,
        decay: b.decay.secs(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cal() -> Calendar {
        Calendar::undated()
    }

    #[test]
    fn knots_interpolate_jump_and_bound() {
        let k = Knots(vec![(0.0, 1.0), (10.0, 3.0), (10.0, 0.5), (20.0, 0.5)]);
        assert_eq!(k.at(5.0), 2.0);
        assert_eq!(k.at(10.0), 0.5);
        assert_eq!(k.at(-1.0), 1.0);
        assert_eq!(k.at(99.0), 0.5);
        // Just before the jump the value approaches 3.
        assert!((k.max_over(6.0, 12.0) - 3.0).abs() < 1e-12);
        assert!((k.max_over(11.0, 12.0) - 0.5).abs() < 1e-12);
        // A step up exactly at the end of an interval belongs to the next
        // one: the interval before it stays flat (a zero-ramp event must
        // not leak into the thinning block that ends at its start).
        let up = Knots(vec![(0.0, 1.0), (10.0, 1.0), (10.0, 5.0), (20.0, 5.0)]);
        assert_eq!(up.max_over(5.0, 10.0), 1.0);
        assert_eq!(up.constant_over(5.0, 10.0), Some(1.0));
        assert_eq!(up.linear_over(5.0, 10.0), Some((1.0, 0.0)));
        assert_eq!(up.max_over(5.0, 10.5), 5.0);
        assert_eq!(up.at_left(10.0), 1.0);
        assert_eq!(up.at(10.0), 5.0);
    }

    #[test]
    fn business_hours_with_and_without_ramp() {
        let d = DailyConfig {
            peak_hours: Some("07:00-20:00".into()),
            peak: 1.0,
            off_peak: 0.3,
            ramp: Duration(0.0),
            hourly: None,
            smooth: false,
        };
        let f = Factor::Daily(daily_knots(&d).unwrap());
        let c = cal();
        assert_eq!(f.at(6.0 * 3600.0, &c), 0.3);
        assert_eq!(f.at(7.0 * 3600.0, &c), 1.0);
        assert_eq!(f.at(19.9 * 3600.0, &c), 1.0);
        assert_eq!(f.at(20.0 * 3600.0, &c), 0.3);
        assert_eq!(f.at(DAY + 12.0 * 3600.0, &c), 1.0);
        // A block straddling 07:00 is bounded by the peak.
        assert_eq!(f.max_over(6.9 * 3600.0, 7.1 * 3600.0, &c), 1.0);
        assert_eq!(f.max_over(1.0 * 3600.0, 2.0 * 3600.0, &c), 0.3);
        let ramped = Factor::Daily(
            daily_knots(&DailyConfig {
                ramp: Duration(7200.0),
                ..d
            })
            .unwrap(),
        );
        assert!((ramped.at(7.0 * 3600.0, &c) - 0.65).abs() < 1e-12);
        assert!((ramped.at(6.0 * 3600.0, &c) - 0.3).abs() < 1e-12);
        assert!((ramped.at(8.0 * 3600.0, &c) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn hourly_curve_smooth_and_stepped() {
        let mut h = vec![1.0; 24];
        h[12] = 3.0;
        let base = DailyConfig {
            peak_hours: None,
            peak: 1.0,
            off_peak: 0.3,
            ramp: Duration(0.0),
            hourly: Some(h),
            smooth: false,
        };
        let step = daily_knots(&base).unwrap();
        assert_eq!(step.at(12.0 * 3600.0 + 10.0), 3.0);
        assert_eq!(step.at(11.99 * 3600.0), 1.0);
        let smooth = daily_knots(&DailyConfig {
            smooth: true,
            ..base
        })
        .unwrap();
        assert_eq!(smooth.at(12.5 * 3600.0), 3.0);
        assert!((smooth.at(12.0 * 3600.0) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn weekend_dip_and_events() {
        let c = cal();
        let w = Factor::Weekly(
            weekly_factors(&WeeklyConfig {
                weekend: Some(0.5),
                days: None,
            })
            .unwrap(),
        );
        assert_eq!(w.at(4.5 * DAY, &c), 1.0);
        assert_eq!(w.at(5.5 * DAY, &c), 0.5);
        assert_eq!(w.max_over(5.5 * DAY, 6.5 * DAY, &c), 0.5);
        assert_eq!(w.max_over(4.5 * DAY, 5.5 * DAY, &c), 1.0);
        let e = EventConfig {
            name: "bf".into(),
            start: TimeRef::Text("4d".into()),
            end: None,
            duration: Some(Duration(DAY)),
            factor: 5.0,
            ramp_up: Duration(6.0 * 3600.0),
            ramp_down: Duration(0.0),
        };
        let k = event_knots(&e, &c).unwrap();
        assert_eq!(k.at(3.0 * DAY), 1.0);
        assert!((k.at(4.0 * DAY - 3.0 * 3600.0) - 3.0).abs() < 1e-12);
        assert_eq!(k.at(4.5 * DAY), 5.0);
        assert_eq!(k.at(5.0 * DAY + 1.0), 1.0);
    }

    #[test]
    fn dates_need_a_calendar() {
        let e = TimeRef::Text("2026-11-27".into());
        assert!(e.resolve(&cal()).unwrap_err().contains("start"));
        assert!(TimeRef::Text("soon".into()).resolve(&cal()).is_err());
    }

    #[test]
    fn growth_compound_and_phases() {
        let c = cal();
        let g = growth_factor(
            &GrowthConfig {
                monthly: Some(0.1),
                phases: None,
                interpolate: Interpolate::Exponential,
            },
            &c,
        )
        .unwrap();
        assert!((g.at(MONTH, &c) - 1.1).abs() < 1e-12);
        assert!((g.at(12.0 * MONTH, &c) - 1.1f64.powi(12)).abs() < 1e-9);
        let ph = GrowthConfig {
            monthly: None,
            phases: Some(vec![
                PhaseConfig {
                    at: TimeRef::Secs(0.0),
                    users: 1000.0,
                },
                PhaseConfig {
                    at: TimeRef::Text("10d".into()),
                    users: 10000.0,
                },
            ]),
            interpolate: Interpolate::Exponential,
        };
        let f = growth_factor(&ph, &c).unwrap();
        assert!((f.at(5.0 * DAY, &c) - 1000.0 * 10f64.sqrt()).abs() < 1e-6);
        assert_eq!(f.at(20.0 * DAY, &c), 10000.0);
        let step = growth_factor(
            &GrowthConfig {
                interpolate: Interpolate::Step,
                ..ph
            },
            &c,
        )
        .unwrap();
        assert_eq!(step.at(9.0 * DAY, &c), 1000.0);
        assert_eq!(step.at(10.0 * DAY, &c), 10000.0);
    }

    #[test]
    fn burst_jumps_and_decays() {
        let c = cal();
        let b = burst_factor(
            &BurstConfig {
                at: TimeRef::Secs(100.0),
                factor: 9.0,
                decay: Duration(60.0),
            },
            &c,
        )
        .unwrap();
        assert_eq!(b.at(99.0, &c), 1.0);
        assert_eq!(b.at(100.0, &c), 9.0);
        assert!((b.at(160.0, &c) - (1.0 + 8.0 / std::f64::consts::E)).abs() < 1e-12);
        assert_eq!(b.max_over(50.0, 200.0, &c), 9.0);
        assert!((b.max_over(160.0, 200.0, &c) - b.at(160.0, &c)).abs() < 1e-12);
    }
}
