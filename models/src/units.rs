//! Durations in scenario files: a number of seconds (`30`, `0.25`) or a
//! string with units (`"250ms"`, `"30s"`, `"5m"`, `"2h"`, `"7d"`,
//! `"1h30m"`, also `"us"`/`"µs"` and `"ns"`).

use scalesim_sim::{from_secs, Time};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::fmt;

/// A non-negative span of simulated time, in seconds.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Default)]
pub struct Duration(pub f64);

impl Duration {
    /// The duration in seconds.
    pub fn secs(self) -> f64 {
        self.0
    }
    /// The duration in engine time (integer nanoseconds).
    pub fn time(self) -> Time {
        from_secs(self.0)
    }
}

/// Parses `"1h30m"`-style strings (or a bare number of seconds) into seconds.
pub fn parse_duration(s: &str) -> Result<f64, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(v) = t.parse::<f64>() {
        return check(v, s);
    }
    let mut total = 0.0;
    let mut rest = t;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(bad(s));
        }
        let v: f64 = rest[..num_len].parse().map_err(|_| bad(s))?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            "w" => 7.0 * 86400.0,
            _ => return Err(bad(s)),
        };
        rest = &rest[unit_len..];
        total += v * scale;
    }
    check(total, s)
}

fn check(v: f64, s: &str) -> Result<f64, String> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(format!(
            "duration {s:?} must be a finite, non-negative time"
        ))
    }
}

fn bad(s: &str) -> String {
    format!(
        "invalid duration {s:?}: expected seconds as a number or a string like \"250ms\", \"30s\", \"5m\", \"2h\", \"7d\", \"1h30m\""
    )
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a duration: seconds as a number, or a string like \"250ms\" or \"1h30m\"",
                )
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
                check(v as f64, &v.to_string())
                    .map(Duration)
                    .map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
                Ok(Duration(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
                check(v, &v.to_string()).map(Duration).map_err(E::custom)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                parse_duration(v).map(Duration).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// A share of a whole: a fraction (`0.7`) or a percent string (`"70%"`),
/// stored as the fraction. Whether a value above 1 makes sense is the
/// field's to say ([`above_one`] words the usual mistake).
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Default)]
pub struct Fraction(pub f64);

impl Fraction {
    /// The fraction (0.7 for "70%").
    pub fn get(self) -> f64 {
        self.0
    }
}

/// Parses `"70%"`, `"0.5%"` or a bare `"0.7"` into a fraction.
pub fn parse_fraction(s: &str) -> Result<f64, String> {
    let t = s.trim();
    // A percent is parsed as the decimal it is, shifted: "99.9%" is
    // 0.999 exactly as written, not 99.9 / 100 rounded twice.
    let num = match t.strip_suffix('%') {
        Some(n) if !n.trim().is_empty() => format!("{}e-2", n.trim()),
        Some(_) => String::new(),
        None => t.to_string(),
    };
    match num.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!(
            "invalid share {s:?}: expected a fraction like 0.7 or a percent like \"70%\""
        )),
    }
}

/// The message for a fraction field `name` given a bare number above 1,
/// which is nearly always a percent written without its sign.
pub fn above_one(name: &str, v: f64) -> String {
    format!(
        "{name} = {v} is above 1: a fraction is expected here; did you mean {} or \"{v}%\"?",
        v / 100.0
    )
}

/// A whole percent, the native unit of a Kubernetes `averageUtilization`
/// (an `int32`): `60` or `"60%"`. A fraction such as `0.6` is refused with
/// the percent it likely means, and so is a percent with decimals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Percent(pub u32);

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Percent;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a whole percent: 60 or \"60%\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Percent, E> {
                u32::try_from(v).map(Percent).map_err(|_| {
                    E::custom(format!(
                        "expected a whole percent from 0 to {}, got {v}",
                        u32::MAX
                    ))
                })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Percent, E> {
                self.visit_i64(i64::try_from(v).unwrap_or(i64::MAX))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Percent, E> {
                if v.is_finite() && v > 0.0 && v < 1.0 {
                    Err(E::custom(format!(
                        "{v} reads as a fraction, but this is a percent (as a manifest's averageUtilization): did you mean {} or \"{}%\"?",
                        num(v * 100.0),
                        num(v * 100.0)
                    )))
                } else if v.is_finite() && v.fract() == 0.0 {
                    self.visit_i64(v as i64)
                } else {
                    Err(E::custom(format!(
                        "expected a whole percent (an int32, as averageUtilization), got {v}"
                    )))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Percent, E> {
                let n = v.trim().strip_suffix('%').unwrap_or(v).trim();
                match n.parse::<f64>() {
                    Ok(x) if x.is_finite() && x.fract() == 0.0 => self.visit_i64(x as i64),
                    _ => Err(E::custom(format!(
                        "invalid percent {v:?}: write a whole percent such as 60 or \"60%\""
                    ))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A number in a message or a reason: integers without decimals, others
/// with at most 4 (`0.7`, `70`, `0.0005`).
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x == x.trunc() && x.abs() < 1e15 {
        return format!("{}", x as i64);
    }
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// A level a policy compares its metric with (an alarm threshold, a
/// tracking target), in the metric's own unit, remembering how it was
/// written so the policy can refuse a unit its metric does not have:
/// a number (`0.7`, `100`), a percent (`"70%"` is 0.7, for shares) or a
/// duration (`"300ms"` is 0.3, for latencies).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Level {
    /// The value in the metric's unit (a fraction, seconds, a count).
    pub value: f64,
    /// How it was written.
    pub written: Written,
}

/// How a [`Level`] was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Written {
    /// A bare number.
    #[default]
    Number,
    /// A percent string.
    Percent,
    /// A duration string.
    Duration,
}

impl Level {
    /// A level written as a bare number.
    pub fn number(value: f64) -> Level {
        Level {
            value,
            written: Written::Number,
        }
    }
}

impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Level;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a level: a number, a percent like \"70%\" or a duration like \"300ms\"",
                )
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Level, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Level, E> {
                self.visit_f64(v as f64)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Level, E> {
                if v.is_finite() {
                    Ok(Level::number(v))
                } else {
                    Err(E::custom(format!("expected a finite number, got {v}")))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Level, E> {
                if let Ok(n) = v.trim().parse::<f64>() {
                    return self.visit_f64(n);
                }
                let (value, written) = if v.trim_end().ends_with('%') {
                    (parse_fraction(v), Written::Percent)
                } else {
                    (parse_duration(v), Written::Duration)
                };
                value.map(|value| Level { value, written }).map_err(|_| {
                    E::custom(format!(
                        "invalid level {v:?}: write a number (0.7, 100), a percent (\"70%\") or a duration (\"300ms\")"
                    ))
                })
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Fraction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Fraction;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a share: a fraction like 0.7, or a percent like \"70%\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Fraction, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Fraction, E> {
                self.visit_f64(v as f64)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Fraction, E> {
                if v.is_finite() && v >= 0.0 {
                    Ok(Fraction(v))
                } else {
                    Err(E::custom(format!(
                        "a share must be a finite, non-negative number, got {v}"
                    )))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Fraction, E> {
                parse_fraction(v).map(Fraction).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_as_fractions_or_percents() {
        assert_eq!(parse_fraction("70%").unwrap(), 0.7);
        assert_eq!(parse_fraction("99.9%").unwrap(), 0.999);
        assert_eq!(parse_fraction("0.1 %").unwrap(), 0.001);
        assert_eq!(parse_fraction("0.25").unwrap(), 0.25);
        for s in ["", "%", "70 percent", "-5%", "inf"] {
            assert!(parse_fraction(s).is_err(), "{s} should fail");
        }
        assert!(above_one("threshold", 70.0).contains("did you mean 0.7 or \"70%\""));
    }

    #[test]
    fn parses_units_and_compounds() {
        assert_eq!(parse_duration("250ms").unwrap(), 0.25);
        assert_eq!(parse_duration("30s").unwrap(), 30.0);
        assert_eq!(parse_duration("5m").unwrap(), 300.0);
        assert_eq!(parse_duration("2h").unwrap(), 7200.0);
        assert_eq!(parse_duration("7d").unwrap(), 604800.0);
        assert_eq!(parse_duration("1h30m").unwrap(), 5400.0);
        assert_eq!(parse_duration("1.5s").unwrap(), 1.5);
        assert_eq!(parse_duration("10").unwrap(), 10.0);
        assert!((parse_duration("20us").unwrap() - 2e-5).abs() < 1e-18);
    }

    #[test]
    fn rejects_garbage_and_negatives() {
        for s in ["", "ms", "5 parsecs", "-3s", "1h30", "3x", "-1"] {
            assert!(parse_duration(s).is_err(), "{s} should fail");
        }
    }
}

/// A date-time written either as a string (`"2026-11-23T08:00"`) or as a
/// bare TOML date or date-time (`start = 2026-11-23`), as its text. The
/// TOML deserializer hands a bare date-time over as a one-entry map keyed
/// `$__toml_private_datetime` (the `toml_datetime` crate's convention).
#[derive(Clone, Debug, PartialEq)]
pub struct DateText(pub String);

impl<'de> Deserialize<'de> for DateText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DateTextVisitor).map(DateText)
    }
}

struct DateTextVisitor;

impl<'de> Visitor<'de> for DateTextVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a local date-time like 2026-11-23 or \"2026-11-23T08:00\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut m: A) -> Result<String, A::Error> {
        match m.next_key::<String>()? {
            Some(k) if k.contains("datetime") => m.next_value::<String>(),
            _ => Err(de::Error::custom(
                "expected a local date-time like 2026-11-23 or \"2026-11-23T08:00\", not a table",
            )),
        }
    }
}

/// `Option<String>` from a string or a bare TOML date-time ([`DateText`]).
pub fn de_opt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<DateText>::deserialize(d).map(|o| o.map(|t| t.0))
}
