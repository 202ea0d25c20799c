//! The adjustment of a simple or step scaling policy: the adjustment types
//! `ChangeInCapacity`, `PercentChangeInCapacity` (and its rounding) and
//! `ExactCapacity`, and `MinAdjustmentMagnitude` (EC2 Auto Scaling User
//! Guide, "Step and simple scaling policies", "Scaling adjustment types";
//! API Reference, `PutScalingPolicy`).

use super::{num, signed};
use crate::policy::issue;
use serde::Deserialize;
use std::fmt;

/// How a simple or step policy's scaling adjustment is read
/// (`AdjustmentType`): `"change"` / `ChangeInCapacity`, `"percent"` /
/// `PercentChangeInCapacity`, `"exact"` / `ExactCapacity`.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum AdjustmentType {
    /// Add the value to the capacity (negative: remove).
    #[default]
    #[serde(rename = "change", alias = "ChangeInCapacity")]
    ChangeInCapacity,
    /// Add this percentage of the capacity, rounded by
    /// [`round_percent_change`].
    #[serde(rename = "percent", alias = "PercentChangeInCapacity")]
    PercentChangeInCapacity,
    /// Set the capacity to the value.
    #[serde(rename = "exact", alias = "ExactCapacity")]
    ExactCapacity,
}

impl fmt::Display for AdjustmentType {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            AdjustmentType::ChangeInCapacity => "ChangeInCapacity",
            AdjustmentType::PercentChangeInCapacity => "PercentChangeInCapacity",
            AdjustmentType::ExactCapacity => "ExactCapacity",
        })
    }
}

/// Rounds a `PercentChangeInCapacity` result to whole instances as the EC2
/// Auto Scaling User Guide ("Scaling adjustment types") states: values
/// greater than 1 are rounded down (12.7 -> 12), values between 0 and 1
/// are rounded to 1 (0.67 -> 1), values between 0 and -1 are rounded to -1
/// (-0.58 -> -1), values less than -1 are rounded up (-6.67 -> -6): toward
/// zero, but never to zero.
pub fn round_percent_change(raw: f64) -> i64 {
    if raw == 0.0 || !raw.is_finite() {
        0
    } else if raw > 0.0 && raw < 1.0 {
        1
    } else if raw < 0.0 && raw > -1.0 {
        -1
    } else {
        raw.trunc() as i64
    }
}

/// The change in capacity of a `ChangeInCapacity` or
/// `PercentChangeInCapacity` adjustment of `value` applied to `base`
/// instances, with `MinAdjustmentMagnitude` ("the minimum number of
/// instances to scale"; 25 % of 4 is 1, with a minimum of 2 "there are 2
/// instances added"), and the words that explain it.
pub(super) fn change_of(
    kind: AdjustmentType,
    value: i32,
    min_mag: Option<u32>,
    base: u32,
) -> (i64, String) {
    match kind {
        AdjustmentType::PercentChangeInCapacity => {
            let raw = base as f64 * value as f64 / 100.0;
            let mut d = round_percent_change(raw);
            let mut s = format!("{kind} {}% of {base} = {}", signed(value as f64), num(raw));
            if raw != d as f64 {
                s += &format!(" -> {}", signed(d as f64));
            }
            if let Some(m) = min_mag {
                let m = m as i64;
                // A zero-percent step never scales; any other step moves by
                // at least the minimum magnitude.
                if value != 0 && d.abs() < m {
                    d = m * value.signum() as i64;
                    s += &format!(", min magnitude {m} -> {}", signed(d as f64));
                }
            }
            (d, s)
        }
        _ => (value as i64, format!("{kind} {}", signed(value as f64))),
    }
}

/// `adjustment = { type = "change" | "percent" | "exact", value = 2,
/// min_adjustment_magnitude = 2 }` of a simple scaling policy
/// (`AdjustmentType`, `ScalingAdjustment`, `MinAdjustmentMagnitude`).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentConfig {
    /// How `value` is read.
    #[serde(rename = "type")]
    pub kind: AdjustmentType,
    /// Instances, percent, or the exact capacity.
    pub value: i32,
    /// With `percent` only: scale by at least this many instances.
    #[serde(default)]
    pub min_adjustment_magnitude: Option<u32>,
}

/// Checks an adjustment's value (at `path`) against its type: an exact
/// capacity is not negative, a percent change removes at most 100%.
pub(super) fn check_adjustment(
    path: &str,
    kind: AdjustmentType,
    value: i32,
) -> Result<(), (String, String)> {
    match kind {
        AdjustmentType::ExactCapacity if value < 0 => {
            return issue(
                path,
                format!("ExactCapacity takes a capacity >= 0, got {value}"),
            )
        }
        AdjustmentType::PercentChangeInCapacity if value < -100 => {
            return issue(
                path,
                format!("a percent change cannot remove more than 100%, got {value}"),
            )
        }
        _ => {}
    }
    Ok(())
}

/// Checks that `MinAdjustmentMagnitude` (at `path`) is given with
/// `PercentChangeInCapacity` only (API Reference, `PutScalingPolicy`).
pub(super) fn check_min_magnitude(
    path: &str,
    kind: AdjustmentType,
    min_mag: Option<u32>,
) -> Result<(), (String, String)> {
    if min_mag.is_some() && kind != AdjustmentType::PercentChangeInCapacity {
        return issue(
            path,
            format!("MinAdjustmentMagnitude applies to PercentChangeInCapacity only, not {kind}"),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_change_uses_min_magnitude_only_for_nonzero_steps() {
        let p = AdjustmentType::PercentChangeInCapacity;
        assert_eq!(change_of(p, 25, Some(2), 4).0, 2);
        assert_eq!(change_of(p, 0, Some(2), 4).0, 0);
        assert_eq!(change_of(p, -10, Some(3), 10).0, -3);
        assert_eq!(change_of(p, 50, Some(2), 10).0, 5);
    }
}
