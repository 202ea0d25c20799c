//! Number formatting for labels, ticks and subtitles.

/// How a value reads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Unit {
    /// Seconds, shown as `250 ms`, `1.5 s`.
    Secs,
    /// US dollars.
    Usd,
    /// A fraction, shown as a percentage.
    Ratio,
    /// Per second.
    Rate,
    Plain,
}

/// Trims trailing zeros of a decimal number.
fn trim(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// `1234567` → `1,234,567`.
fn group_digits(digits: &str) -> String {
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `1,234,567`.
fn grouped(n: i64) -> String {
    let out = group_digits(&n.unsigned_abs().to_string());
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// The decimals a tick step needs (`0.25` → 2).
fn decimals(step: f64) -> usize {
    let mut d = 0;
    while d < 9
        && ((step * 10f64.powi(d as i32)).round() - step * 10f64.powi(d as i32)).abs() > 1e-6
    {
        d += 1;
    }
    d
}

/// A tick with `d` decimals: `0.5`, `250`, `12k`.
fn fmt_plain(v: f64, d: usize) -> String {
    if v >= 10_000.0 && d == 0 {
        let k = v / 1000.0;
        format!("{}k", fmt_plain(k, decimals(k)))
    } else {
        format!("{v:.d$}")
    }
}

/// A dollar tick with `d` decimals: `$0.5`, `$250`, `$12k`.
fn fmt_usd_tick(v: f64, d: usize) -> String {
    if d == 0 && v >= 10_000.0 {
        format!("${}k", fmt_plain(v / 1000.0, decimals(v / 1000.0)))
    } else {
        format!("${v:.d$}")
    }
}

/// `$0.0042`, `$12.34`, `$1,234`.
pub(crate) fn fmt_usd(v: f64) -> String {
    if v == 0.0 {
        "$0".into()
    } else if v < 0.1 {
        format!("${v:.4}")
    } else if v < 1000.0 {
        format!("${v:.2}")
    } else {
        format!("${}", group_digits(&(v.round() as u64).to_string()))
    }
}

/// `$0.0042`, `$12.34`, `$354`, `$1,234`.
pub(crate) fn fmt_usd_short(v: f64) -> String {
    if (100.0..1000.0).contains(&v.abs()) {
        format!("${v:.0}")
    } else {
        fmt_usd(v)
    }
}

/// A rate for subtitles: `1234`, `41.5`, `0.25`.
pub(crate) fn fmt_rate(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Latency for labels: `850 µs`, `32.4 ms`, `400 ms`, `1.25 s`.
pub(crate) fn fmt_secs(s: f64) -> String {
    if s == 0.0 {
        "0".into()
    } else if s < 1e-3 {
        format!("{} µs", trim(format!("{:.0}", s * 1e6)))
    } else if s < 1.0 {
        let d = if s < 0.1 { 1 } else { 0 };
        format!("{} ms", trim(format!("{:.d$}", s * 1e3)))
    } else {
        format!("{} s", trim(format!("{s:.2}")))
    }
}

/// A duration for subtitles and labels: like [`fmt_secs`] below a
/// minute, then in minutes, hours or days with one decimal: `45 s`,
/// `2.5 min`, `2.9 h`, `36 h`, `7 d`.
pub(crate) fn fmt_dur(s: f64) -> String {
    let one = |v: f64, unit: &str| format!("{} {unit}", trim(format!("{v:.1}")));
    if s < 59.95 {
        fmt_secs(s)
    } else if s < 3600.0 {
        one(s / 60.0, "min")
    } else if s < 2.0 * 86400.0 {
        one(s / 3600.0, "h")
    } else {
        one(s / 86400.0, "d")
    }
}

/// A number for labels: `1,250`, `412`, `41.5`, `0.25`.
pub(crate) fn fmt_num(v: f64) -> String {
    let a = v.abs();
    if !v.is_finite() {
        "–".into()
    } else if a >= 1000.0 {
        grouped(v.round() as i64)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        trim(format!("{v:.1}"))
    } else if a >= 0.01 || a == 0.0 {
        trim(format!("{v:.2}"))
    } else {
        format!("{v:.1e}")
    }
}

/// `0.12%`, `45.3%`, `0.0123%`.
fn fmt_pct(v: f64) -> String {
    let x = v * 100.0;
    if x == 0.0 {
        return "0%".into();
    }
    let d = (2 - x.abs().log10().floor() as i32).clamp(0, 6) as usize;
    format!("{}%", trim(format!("{x:.d$}")))
}

/// A value for a label (point, cell, tick of a log axis).
pub(crate) fn fmt_value(unit: Unit, v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    match unit {
        Unit::Secs => fmt_secs(v),
        Unit::Usd => fmt_usd_short(v),
        Unit::Ratio => fmt_pct(v),
        Unit::Rate | Unit::Plain => fmt_num(v),
    }
}

/// A tick of a linear axis with ticks `step` apart.
pub(crate) fn fmt_tick(unit: Unit, v: f64, step: f64) -> String {
    let d = decimals(step);
    match unit {
        Unit::Secs => fmt_secs(v),
        Unit::Usd => fmt_usd_tick(v, d),
        Unit::Ratio => format!("{:.*}%", decimals(step * 100.0), v * 100.0),
        Unit::Rate | Unit::Plain => fmt_plain(v, d),
    }
}

/// Simulated time: `0`, `45m`, `3h`, `1h30m`, `1d6h`, `7d`.
pub(crate) fn elapsed_label(t: f64) -> String {
    let total = t.round() as u64;
    if total == 0 {
        return "0".into();
    }
    let (d, h, m, s) = (
        total / 86400,
        total % 86400 / 3600,
        total % 3600 / 60,
        total % 60,
    );
    let mut out = String::new();
    for (v, u) in [(d, "d"), (h, "h"), (m, "m"), (s, "s")] {
        if v > 0 {
            out.push_str(&format!("{v}{u}"));
        }
    }
    out
}

/// `1 replication`, `3 replications`.
pub(crate) fn plural(n: u32, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(fmt_usd_tick(5.0, 0), "$5");
        assert_eq!(fmt_usd_tick(0.5, 1), "$0.5");
        assert_eq!(fmt_usd(1234.4), "$1,234");
        assert_eq!(fmt_secs(0.4), "400 ms");
        assert_eq!(fmt_secs(0.0324), "32.4 ms");
        assert_eq!(fmt_secs(1.5), "1.5 s");
        assert_eq!(fmt_dur(0.25), "250 ms");
        assert_eq!(fmt_dur(45.0), "45 s");
        assert_eq!(fmt_dur(150.0), "2.5 min");
        assert_eq!(fmt_dur(10464.4), "2.9 h");
        assert_eq!(fmt_dur(129600.0), "36 h");
        assert_eq!(fmt_dur(604800.0), "7 d");
        assert_eq!(fmt_pct(0.001), "0.1%");
        assert_eq!(fmt_pct(0.4567), "45.7%");
        assert_eq!(fmt_num(1234.4), "1,234");
        assert_eq!(fmt_num(-1234567.0), "-1,234,567");
        assert_eq!(fmt_num(40.0), "40");
        assert_eq!(fmt_value(Unit::Ratio, 0.25), "25%");
    }

    #[test]
    fn elapsed_labels() {
        assert_eq!(elapsed_label(0.0), "0");
        assert_eq!(elapsed_label(2700.0), "45m");
        assert_eq!(elapsed_label(5400.0), "1h30m");
        assert_eq!(elapsed_label(108000.0), "1d6h");
        assert_eq!(elapsed_label(604800.0), "7d");
    }
}
