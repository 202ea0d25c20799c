//! Simulated time: unsigned integer nanoseconds since the start of the run.
//!
//! Integer time makes event ordering exact (no floating-point ties that
//! depend on summation order); 2^64 ns is about 584 years of simulated time.

/// A point in simulated time, or a span of it, in nanoseconds.
pub type Time = u64;

/// Nanoseconds in one second.
pub const NS_PER_SEC: u64 = 1_000_000_000;

/// Converts seconds to [`Time`], rounding to the nearest nanosecond and
/// saturating at 0 and `u64::MAX`.
#[inline]
pub fn from_secs(s: f64) -> Time {
    let ns = (s * NS_PER_SEC as f64).round();
    if ns <= 0.0 {
        0
    } else if ns >= u64::MAX as f64 {
        u64::MAX
    } else {
        ns as u64
    }
}

/// Converts a [`Time`] to seconds.
#[inline]
pub fn to_secs(t: Time) -> f64 {
    t as f64 / NS_PER_SEC as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_saturation() {
        assert_eq!(from_secs(1.5), 1_500_000_000);
        assert_eq!(from_secs(-3.0), 0);
        assert_eq!(from_secs(1e30), u64::MAX);
        assert_eq!(to_secs(250_000_000), 0.25);
        assert_eq!(from_secs(1e-9), 1);
    }
}
