//! Scales and their ticks: linear, logarithmic, counts, percentages,
//! parameter values, categories, and the time axis of a run.

use super::format::{elapsed_label, fmt_num, fmt_tick, fmt_value, Unit};
use chrono::{Datelike, NaiveDateTime, Timelike};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use std::ops::Range;

/// A coordinate in drawing units (log10 of the value on a log scale), with
/// its ticks (bold grid lines at `major`, light ones at `minor`) and their
/// labels.
#[derive(Clone, Debug)]
pub(crate) struct Scale {
    pub(crate) lo: f64,
    pub(crate) hi: f64,
    pub(crate) major: Vec<f64>,
    pub(crate) minor: Vec<f64>,
    pub(crate) labels: Vec<(f64, String)>,
    pub(crate) desc: String,
    pub(crate) log: bool,
}

impl Scale {
    /// A linear scale from `lo` to `hi` with these ticks, each major one
    /// labelled with `label` of it.
    fn new(
        (lo, hi): (f64, f64),
        (major, minor): (Vec<f64>, Vec<f64>),
        desc: impl Into<String>,
        label: impl Fn(f64) -> String,
    ) -> Scale {
        Scale {
            lo,
            hi,
            labels: major.iter().map(|&v| (v, label(v))).collect(),
            major,
            minor,
            desc: desc.into(),
            log: false,
        }
    }

    /// The same scale, logarithmic (its ticks are log10 values).
    fn log(self) -> Scale {
        Scale { log: true, ..self }
    }

    /// A value in drawing units.
    pub(crate) fn at(&self, v: f64) -> f64 {
        if self.log {
            v.max(1e-300).log10()
        } else {
            v
        }
    }

    /// A value in drawing units, kept inside the scale.
    pub(crate) fn at_in(&self, v: f64) -> f64 {
        self.at(v).clamp(self.lo, self.hi)
    }

    pub(crate) fn span(&self) -> f64 {
        self.hi - self.lo
    }

    /// The plotters coordinate of this scale (ticks at `major`/`minor`).
    pub(crate) fn axis(&self) -> Axis {
        Axis {
            lo: self.lo,
            hi: self.hi,
            major: self.major.clone(),
            minor: self.minor.clone(),
        }
    }

    /// The label of the tick nearest `v`.
    pub(crate) fn label_at(&self, v: f64) -> String {
        self.labels
            .iter()
            .min_by(|a, b| (a.0 - v).abs().total_cmp(&(b.0 - v).abs()))
            .map(|l| l.1.clone())
            .unwrap_or_default()
    }
}

/// A linear f64 coordinate with our own tick positions (bold grid lines
/// at `major`, light ones at `minor`); labels come from the mesh's label
/// formatters.
#[derive(Clone)]
pub(crate) struct Axis {
    lo: f64,
    hi: f64,
    major: Vec<f64>,
    minor: Vec<f64>,
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let span = self.hi - self.lo;
        if span <= 0.0 {
            return (limit.0 + limit.1) / 2;
        }
        let f = (v - self.lo) / span;
        limit.0 + (f64::from(limit.1 - limit.0) * f + 1e-3).floor() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.minor.clone()
        } else {
            self.major.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

// ---------------------------------------------------------------- ticks

/// A "nice" step (1, 2, 2.5 or 5 times a power of ten) for about `target`
/// ticks between 0 and `max`.
fn nice_step(max: f64, target: f64) -> f64 {
    let raw = max / target;
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let m = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 2.5 {
        2.5
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// The nice steps between `lo` and `hi` (about `target` of them), within
/// the range.
pub(crate) fn ticks_within(lo: f64, hi: f64, target: f64) -> Vec<f64> {
    let step = nice_step(hi - lo, target);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// A linear scale widened from `lo0`..`hi0` to nice steps (about 6),
/// majors at the steps and minors halfway, labelled for `unit`.
fn stepped(lo0: f64, hi0: f64, unit: Unit, desc: impl Into<String>) -> Scale {
    let step = nice_step(hi0 - lo0, 6.0);
    let lo = (lo0 / step).floor() * step + 0.0;
    let hi = (hi0 / step).ceil() * step;
    let n = ((hi - lo) / step).round() as i64;
    let major = (0..=n).map(|k| lo + k as f64 * step).collect();
    let minor = (0..n).map(|k| lo + (k as f64 + 0.5) * step).collect();
    Scale::new((lo, hi), (major, minor), desc, |v| fmt_tick(unit, v, step))
}

/// Ticks at 1, 2 and 5 x 10^k (majors) and the other digits (minors)
/// between `lo` and `hi` (log10 units; the top one `slack` past `hi` at
/// most). With `thin`, many decades get majors at the powers of ten only.
fn log_ticks(lo: f64, hi: f64, slack: f64, thin: bool) -> (Vec<f64>, Vec<f64>) {
    let (mut major, mut minor) = (Vec::new(), Vec::new());
    for k in (lo.floor() as i32)..=(hi.ceil() as i32) {
        for m in 1..10 {
            let lv = (m as f64 * 10f64.powi(k)).log10();
            if lv < lo - 1e-9 || lv > hi + slack {
                continue;
            }
            if matches!(m, 1 | 2 | 5) {
                major.push(lv);
            } else {
                minor.push(lv);
            }
        }
    }
    if thin && major.len() > 9 {
        let (a, b): (Vec<f64>, Vec<f64>) = major
            .into_iter()
            .partition(|lv| (lv - lv.round()).abs() < 1e-9);
        major = a;
        minor.extend(b);
        minor.sort_by(f64::total_cmp);
    }
    (major, minor)
}

/// The majors of a study's log scale from `lo` to `hi` (log10 units).
pub(crate) fn log_majors(lo: f64, hi: f64) -> Vec<f64> {
    log_ticks(lo, hi, 1e-9, true).0
}

// ---------------------------------------------------------------- run axes

/// A linear axis from 0 to a nice bound above `max` (with headroom).
pub(crate) fn linear_axis(max: f64, desc: &str, unit: Unit) -> Scale {
    let max = if max > 0.0 && max.is_finite() {
        max * 1.08
    } else {
        1.0
    };
    stepped(0.0, max, unit, desc)
}

/// Integer ticks from 0 (instance counts).
pub(crate) fn count_axis(max: f64, desc: &str) -> Scale {
    let y = linear_axis(max.max(1.0), desc, Unit::Plain);
    if !y.major.get(1).is_some_and(|s| *s < 1.0) {
        return y;
    }
    let hi = (max * 1.25).ceil().max(2.0);
    let major = (0..=hi as i64).map(|k| k as f64).collect();
    Scale::new((0.0, hi), (major, Vec::new()), desc, |v| format!("{v:.0}"))
}

/// 0 to 100 % (or above, when a value exceeds it).
pub(crate) fn percent_axis(max: f64, desc: &str) -> Scale {
    let hi = if max > 100.0 { max * 1.05 } else { 105.0 };
    let major: Vec<f64> = (0..=(hi / 20.0) as i64).map(|k| k as f64 * 20.0).collect();
    let minor = major.iter().map(|v| v + 10.0).filter(|v| *v < hi).collect();
    Scale::new((0.0, hi), (major, minor), desc, |v| format!("{v:.0}%"))
}

/// A log10 axis from `min` to `max` (both > 0), ticks at 1, 2, 5 x 10^k.
pub(crate) fn log_axis(min: f64, max: f64, desc: &str, unit: Unit) -> Scale {
    let lo = min.log10().floor();
    let hi = (max * 1.5).log10();
    let ticks = log_ticks(lo, hi, 0.0, false);
    Scale::new((lo, hi), ticks, desc, |lv| fmt_value(unit, 10f64.powf(lv))).log()
}

// ---------------------------------------------------------------- study scales

/// Never a log scale (see [`value_scale`]).
pub(crate) const LINEAR: f64 = f64::INFINITY;

/// A scale for metric values: linear from 0 (or below, for negative
/// values) to a nice bound, or logarithmic when the values are positive
/// and the largest is more than `log_above` times the smallest.
pub(crate) fn value_scale(
    vals: &[f64],
    unit: Unit,
    desc: impl Into<String>,
    log_above: f64,
) -> Scale {
    scale_of(vals, unit, desc.into(), log_above, true)
}

/// Like [`value_scale`], but a linear scale fits the values instead of
/// starting at 0 (unless they come close to it): for scatter plots.
pub(crate) fn fitted_scale(
    vals: &[f64],
    unit: Unit,
    desc: impl Into<String>,
    log_above: f64,
) -> Scale {
    scale_of(vals, unit, desc.into(), log_above, false)
}

fn scale_of(vals: &[f64], unit: Unit, desc: String, log_above: f64, zero: bool) -> Scale {
    let finite: Vec<f64> = vals.iter().copied().filter(|v| v.is_finite()).collect();
    let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !finite.is_empty() && min > 0.0 && max / min > log_above {
        let (a, b) = (min.log10(), max.log10());
        let pad = (b - a) * 0.06;
        let (lo, hi) = (a - pad, b + pad);
        let ticks = log_ticks(lo, hi, 1e-9, true);
        let desc = format!("{desc} (log scale)");
        return Scale::new((lo, hi), ticks, desc, |lv| fmt_value(unit, 10f64.powf(lv))).log();
    }
    // From 0 unless fitting values far from it.
    let zero = zero
        || finite.is_empty()
        || (min >= 0.0 && min < 0.25 * max)
        || (max <= 0.0 && max > 0.25 * min);
    let (mut lo0, mut hi0) = if finite.is_empty() {
        (0.0, 1.0)
    } else if zero {
        (min.min(0.0), max.max(0.0))
    } else {
        (min, max)
    };
    if hi0 - lo0 <= 0.0 {
        let d = (hi0.abs() * 0.1).max(1e-9);
        if zero {
            hi0 = lo0 + if lo0 == 0.0 { 1.0 } else { d };
        } else {
            (lo0, hi0) = (lo0 - d, hi0 + d);
        }
    }
    let pad = (hi0 - lo0) * 0.08;
    if lo0 < 0.0 || !zero {
        lo0 -= pad;
    }
    if hi0 > 0.0 || !zero {
        hi0 += pad;
    }
    stepped(lo0, hi0, unit, desc)
}

/// A parameter value without TOML quotes (`"lru"` → `lru`).
pub(crate) fn unquote(text: &str) -> &str {
    let t = text.trim();
    for q in ['"', '\''] {
        if t.len() >= 2 && t.starts_with(q) && t.ends_with(q) {
            return &t[1..t.len() - 1];
        }
    }
    t
}

/// A scale for numeric parameter values (distinct, sorted): ticks at the
/// values themselves, labelled with their text, when there are few and
/// they are well apart; nice ticks otherwise. Logarithmic when three or
/// more positive values span a factor 20 or more.
pub(crate) fn param_scale(vals: &[(f64, String)], desc: &str) -> Scale {
    let min = vals.iter().map(|v| v.0).fold(f64::INFINITY, f64::min);
    let max = vals.iter().map(|v| v.0).fold(f64::NEG_INFINITY, f64::max);
    let log = vals.len() >= 3 && min > 0.0 && max / min >= 20.0;
    let t = |v: f64| if log { v.log10() } else { v };
    let ts: Vec<f64> = vals.iter().map(|v| t(v.0)).collect();
    let (tmin, tmax) = if vals.is_empty() {
        (0.0, 1.0)
    } else {
        (t(min), t(max))
    };
    let span = tmax - tmin;
    let (lo, hi) = if span > 0.0 {
        (tmin - span * 0.07, tmax + span * 0.07)
    } else {
        let half = if log {
            0.5
        } else {
            (tmin.abs() * 0.5).max(1.0)
        };
        (tmin - half, tmin + half)
    };
    let gap = ts
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::INFINITY, f64::min);
    let desc = if log {
        format!("{desc} (log scale)")
    } else {
        desc.to_string()
    };
    if vals.len() <= 12 && (vals.len() < 2 || gap >= span / 25.0) {
        let labels = ts.iter().zip(vals);
        return Scale {
            lo,
            hi,
            labels: labels
                .map(|(&t, v)| (t, unquote(&v.1).to_string()))
                .collect(),
            major: ts,
            minor: Vec::new(),
            desc,
            log,
        };
    }
    let ticks = if log {
        log_ticks(lo, hi, 1e-9, true)
    } else {
        (ticks_within(lo, hi, 7.0), Vec::new())
    };
    let label = |v: f64| fmt_num(if log { 10f64.powf(v) } else { v });
    Scale {
        log,
        ..Scale::new((lo, hi), ticks, desc, label)
    }
}

/// Evenly spaced categories at 0, 1, 2, ...
pub(crate) fn category_scale(labels: &[String], desc: &str) -> Scale {
    let n = labels.len().max(1);
    let major = (0..labels.len()).map(|i| i as f64).collect();
    Scale::new((-0.5, n as f64 - 0.5), (major, Vec::new()), desc, |i| {
        unquote(&labels[i as usize]).to_string()
    })
}

// ---------------------------------------------------------------- time

/// The x axis of a run's charts: simulated time from 0, its ticks and
/// their labels, and the marks drawn on every panel.
pub(crate) struct TimeAxis {
    pub(crate) scale: Scale,
    /// End of the warm-up (shaded), s.
    pub(crate) warmup: f64,
    /// Where a runaway stopped the run, s.
    pub(crate) stop: Option<f64>,
}

/// Time steps for ticks (s), with the minor step drawn between them.
const TIME_STEPS: [(f64, f64); 22] = [
    (1.0, 0.5),
    (2.0, 1.0),
    (5.0, 1.0),
    (10.0, 5.0),
    (15.0, 5.0),
    (30.0, 10.0),
    (60.0, 30.0),
    (120.0, 60.0),
    (300.0, 60.0),
    (600.0, 300.0),
    (900.0, 300.0),
    (1800.0, 600.0),
    (3600.0, 900.0),
    (7200.0, 1800.0),
    (10800.0, 3600.0),
    (21600.0, 3600.0),
    (43200.0, 10800.0),
    (86400.0, 21600.0),
    (172800.0, 86400.0),
    (604800.0, 86400.0),
    (1209600.0, 604800.0),
    (2419200.0, 604800.0),
];

/// Builds the time axis for `span` seconds, in calendar time from
/// `start` when given.
pub(crate) fn time_axis(span: f64, start: Option<NaiveDateTime>) -> TimeAxis {
    let span = if span > 0.0 { span } else { 1.0 };
    let max_ticks = if start.is_some() { 8.0 } else { 12.0 };
    let (step, minor) = TIME_STEPS
        .iter()
        .copied()
        .find(|(s, _)| span / s <= max_ticks)
        .unwrap_or_else(|| {
            let s = (span / max_ticks / 2419200.0).ceil() * 2419200.0;
            (s, 604800.0)
        });
    // Offset of t = 0 from the alignment origin (midnight, or Monday
    // midnight for weekly steps), so that calendar ticks fall on round times.
    let offset = start.map_or(0.0, |s| {
        let sod = s.time().num_seconds_from_midnight() as f64 + s.time().nanosecond() as f64 * 1e-9;
        if step >= 604800.0 {
            sod + s.weekday().num_days_from_monday() as f64 * 86400.0
        } else {
            sod
        }
    });
    let ticks = |step: f64| -> Vec<f64> {
        let first = (offset / step).ceil() * step - offset;
        let n = ((span - first) / step + 1e-9).floor().max(-1.0) as i64;
        (0..=n).map(|k| first + k as f64 * step).collect()
    };
    let label = |t: f64| match start {
        None => elapsed_label(t),
        Some(s) => {
            let when = s + chrono::Duration::milliseconds((t * 1000.0).round() as i64);
            if step >= 86400.0 || (when.hour() == 0 && when.minute() == 0) {
                when.format("%a %-d %b").to_string()
            } else {
                when.format("%H:%M").to_string()
            }
        }
    };
    let desc = match start {
        None => "simulated time since start".to_string(),
        Some(s) => format!("local time (run starts {})", s.format("%a %Y-%m-%d %H:%M")),
    };
    TimeAxis {
        scale: Scale::new((0.0, span), (ticks(step), ticks(minor)), desc, label),
        warmup: 0.0,
        stop: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn time_ticks_fit_the_span() {
        let day = time_axis(86400.0, None).scale;
        assert_eq!(day.major.len(), 13, "every 2 h over a day");
        assert_eq!(day.labels[1].1, "2h");
        let week = time_axis(7.0 * 86400.0, None).scale;
        assert_eq!(week.labels.last().unwrap().1, "7d");
        let short = time_axis(600.0, None).scale;
        assert_eq!(short.labels[1].1, "1m");
    }

    #[test]
    fn calendar_ticks_fall_on_round_times() {
        let start = NaiveDate::from_ymd_opt(2026, 11, 23)
            .unwrap()
            .and_hms_opt(7, 10, 0)
            .unwrap();
        let ax = time_axis(86400.0, Some(start)).scale;
        // 3-hour steps from midnight: the first tick is 09:00, 1h50m in.
        assert_eq!(ax.major[0], 6600.0);
        assert_eq!(ax.labels[0].1, "09:00");
        assert!(ax.labels.iter().any(|l| l.1 == "Tue 24 Nov"));
        let week = time_axis(7.0 * 86400.0, Some(start)).scale;
        assert_eq!(week.labels[0].1, "Tue 24 Nov");
    }

    #[test]
    fn run_axes() {
        let y = linear_axis(52.0, "rps", Unit::Plain);
        assert_eq!(y.hi, 60.0);
        assert_eq!(y.labels[1].1, "10");
        let y = linear_axis(0.0, "empty", Unit::Plain);
        assert_eq!(y.hi, 1.0);
        let y = log_axis(0.03, 40.0, "s", Unit::Secs);
        assert!(y.labels.iter().any(|l| l.1 == "50 ms"));
        assert!(y.labels.iter().any(|l| l.1 == "20 s"));
        let y = count_axis(5.0, "instances");
        assert!(y.labels.iter().all(|l| !l.1.contains('.')));
    }

    #[test]
    fn study_scales() {
        let s = value_scale(&[0.12, 0.31], Unit::Secs, "latency", 50.0);
        assert_eq!(s.lo, 0.0);
        assert!(s.hi >= 0.31 && !s.log);
        assert!(s.labels.iter().any(|l| l.1 == "100 ms"), "{:?}", s.labels);
        let s = value_scale(&[0.05, 20.0], Unit::Secs, "latency", 50.0);
        assert!(s.log);
        let vals: Vec<(f64, String)> = [2.0, 4.0, 8.0]
            .iter()
            .map(|v| (*v, v.to_string()))
            .collect();
        let p = param_scale(&vals, "instances");
        assert_eq!(p.major, vec![2.0, 4.0, 8.0]);
        let vals: Vec<(f64, String)> = [100.0, 1000.0, 10000.0]
            .iter()
            .map(|v| (*v, v.to_string()))
            .collect();
        assert!(param_scale(&vals, "capacity").log);
    }
}
