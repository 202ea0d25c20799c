//! The calendar of a scenario: which local date and time simulated time
//! `t` is, so daily and weekly patterns, dated events and charts follow the
//! wall clock of the users, including daylight-saving changes of a named
//! time zone (IANA database, compiled in by chrono-tz).
//!
//! Without a `start`, simulated time 0 is Monday 00:00 local time, so
//! business hours and weekends work in scenarios without dates.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike};
use chrono_tz::Tz;

/// The time zone of the calendar.
#[derive(Clone, Debug, PartialEq)]
pub enum Zone {
    /// A fixed offset from UTC, in seconds (`utc_offset = "+01:00"`).
    Fixed(i32),
    /// A named IANA zone (`timezone = "Europe/Paris"`).
    Named(Tz),
}

/// Maps simulated seconds to local wall-clock time.
#[derive(Clone, Debug)]
pub struct Calendar {
    /// Local wall-clock time at t = 0.
    start_local: NaiveDateTime,
    /// UTC seconds since the Unix epoch at t = 0.
    start_utc: i64,
    /// Whether the scenario gave a start date (else t = 0 is a Monday).
    dated: bool,
    zone: Zone,
    /// (simulated second, UTC offset in seconds from then on), sorted; the
    /// first entry is at t = 0.
    offsets: Vec<(f64, i32)>,
}

/// Monday 2024-01-01 00:00, the start of undated scenarios.
fn default_start() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2024, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("a valid date")
}

/// Parses `2026-11-23T00:00:00`, `2026-11-23T00:00`, `2026-11-23 08:30` or
/// `2026-11-23` as a local date-time.
pub fn parse_local(s: &str) -> Result<NaiveDateTime, String> {
    let s = s.trim();
    for f in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(d);
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .ok_or_else(|| format!("invalid date {s:?}: expected a local date-time like \"2026-11-23T08:00:00\" or a date like \"2026-11-23\""))
}

/// Parses `+01:00`, `-05:00`, `+0530`, `UTC` or `Z` into seconds east of UTC.
pub fn parse_offset(s: &str) -> Result<i32, String> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("utc") || t == "Z" {
        return Ok(0);
    }
    let bad = || format!("invalid UTC offset {s:?}: expected \"+01:00\", \"-05:00\" or \"UTC\"");
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'+') => (1, &t[1..]),
        Some(b'-') => (-1, &t[1..]),
        _ => return Err(bad()),
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let h: i32 = digits[..2].parse().map_err(|_| bad())?;
    let m: i32 = digits[2..].parse().map_err(|_| bad())?;
    if h > 14 || m > 59 {
        return Err(bad());
    }
    Ok(sign * (h * 3600 + m * 60))
}

impl Calendar {
    /// A calendar starting at local `start` (None: an undated Monday) in
    /// `zone`, covering `horizon_s` simulated seconds.
    pub fn new(
        start: Option<NaiveDateTime>,
        zone: Zone,
        horizon_s: f64,
    ) -> Result<Calendar, String> {
        let dated = start.is_some();
        let start_local = start.unwrap_or_else(default_start);
        let (start_utc, first_offset) = match &zone {
            Zone::Fixed(o) => (start_local.and_utc().timestamp() - *o as i64, *o),
            Zone::Named(tz) => {
                let local = tz
                    .from_local_datetime(&start_local)
                    .earliest()
                    .ok_or_else(|| {
                        format!("{start_local} does not exist in {tz} (a daylight-saving gap)")
                    })?;
                (local.timestamp(), local.offset().fix().local_minus_utc())
            }
        };
        let mut offsets = vec![(0.0, first_offset)];
        if let Zone::Named(tz) = &zone {
            // Scan hourly for offset changes, then bisect to the second.
            let offset_at = |t: i64| {
                tz.timestamp_opt(start_utc + t, 0)
                    .single()
                    .map(|d| d.offset().fix().local_minus_utc())
                    .unwrap_or(first_offset)
            };
            // Scan at most 10 years (horizon is finite: checked at load).
            let end = horizon_s.clamp(0.0, 3650.0 * 86400.0) as i64;
            let mut prev = first_offset;
            let mut t = 0i64;
            while t < end {
                let next = (t + 3600).min(end);
                let o = offset_at(next);
                if o != prev {
                    let (mut lo, mut hi) = (t, next);
                    while hi - lo > 1 {
                        let mid = (lo + hi) / 2;
                        if offset_at(mid) == prev {
                            lo = mid;
                        } else {
                            hi = mid;
                        }
                    }
                    offsets.push((hi as f64, o));
                    prev = o;
                }
                t = next;
            }
        }
        Ok(Calendar {
            start_local,
            start_utc,
            dated,
            zone,
            offsets,
        })
    }

    /// An undated calendar in UTC (t = 0 is Monday 00:00).
    pub fn undated() -> Calendar {
        Calendar::new(None, Zone::Fixed(0), 0.0).expect("UTC has no gaps")
    }

    /// True when the scenario gave a start date.
    pub fn is_dated(&self) -> bool {
        self.dated
    }

    /// Local wall-clock time at t = 0.
    pub fn start_local(&self) -> NaiveDateTime {
        self.start_local
    }

    /// The time zone.
    pub fn zone(&self) -> &Zone {
        &self.zone
    }

    /// UTC offset (seconds) in force at simulated second `t`.
    #[inline]
    pub fn offset_at(&self, t: f64) -> i32 {
        if self.offsets.len() == 1 {
            return self.offsets[0].1;
        }
        let i = self.offsets.partition_point(|&(at, _)| at <= t);
        self.offsets[i.saturating_sub(1)].1
    }

    /// Local seconds since 1970-01-01 00:00 local time at simulated `t`.
    #[inline]
    pub fn local_secs(&self, t: f64) -> f64 {
        (self.start_utc + self.offset_at(t) as i64) as f64 + t
    }

    /// Seconds since local midnight at `t` (0..86400).
    #[inline]
    pub fn time_of_day(&self, t: f64) -> f64 {
        // floor() rather than rem_euclid(): fmod is slow on the hot path.
        let s = self.local_secs(t);
        s - 86400.0 * (s / 86400.0).floor()
    }

    /// Local weekday at `t`: 0 = Monday .. 6 = Sunday.
    #[inline]
    pub fn weekday(&self, t: f64) -> usize {
        // 1970-01-01 was a Thursday (3).
        (((self.local_secs(t) / 86400.0).floor() as i64 + 3).rem_euclid(7)) as usize
    }

    /// Local wall-clock time at `t`.
    pub fn local_datetime(&self, t: f64) -> NaiveDateTime {
        let s = self.local_secs(t);
        chrono::DateTime::from_timestamp(s.floor() as i64, ((s - s.floor()) * 1e9) as u32)
            .map(|d| d.naive_utc())
            .unwrap_or(self.start_local)
    }

    /// Simulated seconds of a local date-time (may be negative: before the
    /// start).
    pub fn sim_time(&self, local: NaiveDateTime) -> f64 {
        let utc = match &self.zone {
            Zone::Fixed(o) => local.and_utc().timestamp() - *o as i64,
            Zone::Named(tz) => match tz.from_local_datetime(&local).earliest() {
                Some(d) => d.timestamp(),
                // In a spring-forward gap: the instant the gap ends.
                None => local.and_utc().timestamp() - self.offset_at(0.0) as i64,
            },
        };
        (utc - self.start_utc) as f64 + local.nanosecond() as f64 * 1e-9
    }

    /// A short label of the zone, e.g. `Europe/Paris` or `UTC+01:00`.
    pub fn zone_label(&self) -> String {
        match &self.zone {
            Zone::Named(tz) => tz.name().to_string(),
            Zone::Fixed(0) => "UTC".into(),
            Zone::Fixed(o) => format!(
                "UTC{}{:02}:{:02}",
                if *o < 0 { '-' } else { '+' },
                o.abs() / 3600,
                (o.abs() % 3600) / 60
            ),
        }
    }

    /// Year and month of local time at `t` (for monthly reports).
    pub fn year_month(&self, t: f64) -> (i32, u32) {
        let d = self.local_datetime(t);
        (d.year(), d.month())
    }

    /// Hour of the day (0..23) at `t`.
    pub fn hour(&self, t: f64) -> u32 {
        self.local_datetime(t).hour()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undated_starts_on_a_monday_midnight() {
        let c = Calendar::undated();
        assert_eq!(c.weekday(0.0), 0);
        assert_eq!(c.weekday(5.0 * 86400.0 + 1.0), 5);
        assert_eq!(c.time_of_day(7.5 * 3600.0), 7.5 * 3600.0);
    }

    #[test]
    fn dated_start_with_fixed_offset() {
        let start = parse_local("2026-11-27T00:00:00").unwrap(); // a Friday
        let c = Calendar::new(
            Some(start),
            Zone::Fixed(parse_offset("-05:00").unwrap()),
            86400.0,
        )
        .unwrap();
        assert_eq!(c.weekday(0.0), 4);
        assert_eq!(c.sim_time(parse_local("2026-11-28").unwrap()), 86400.0);
        assert_eq!(c.zone_label(), "UTC-05:00");
    }

    #[test]
    fn named_zone_follows_daylight_saving() {
        // Europe/Paris leaves summer time on 2026-10-25 at 03:00 local.
        let tz: Tz = "Europe/Paris".parse().unwrap();
        let start = parse_local("2026-10-24T12:00:00").unwrap();
        let c = Calendar::new(Some(start), Zone::Named(tz), 3.0 * 86400.0).unwrap();
        assert_eq!(c.offset_at(0.0), 7200);
        assert_eq!(c.offset_at(2.0 * 86400.0), 3600);
        // 24 simulated hours after Saturday noon it is Sunday 11:00 local.
        assert_eq!(c.time_of_day(86400.0), 11.0 * 3600.0);
        assert_eq!(c.weekday(86400.0), 6);
        assert_eq!(c.offsets.len(), 2);
    }

    #[test]
    fn parse_errors_say_what_is_expected() {
        assert!(parse_local("27/11/2026")
            .unwrap_err()
            .contains("2026-11-23"));
        assert!(parse_offset("+1").is_err());
        assert_eq!(parse_offset("+05:30").unwrap(), 19800);
        assert_eq!(parse_offset("UTC").unwrap(), 0);
    }
}
