//! AWS EC2 Auto Scaling dynamic scaling policies as pure controllers:
//! `simple` scaling (with cooldown), `step` scaling (step adjustments,
//! instance warm-up) and `target` tracking, all driven by a model of the
//! CloudWatch metric alarm that invokes them.
//!
//! Sources, followed rule by rule (each rule is cited where it is coded):
//!
//! - *Amazon EC2 Auto Scaling User Guide*, "Step and simple scaling
//!   policies" (`as-scaling-simple-step`): step adjustments and how their
//!   bounds are matched, the adjustment types `ChangeInCapacity`,
//!   `ExactCapacity`, `PercentChangeInCapacity` and its rounding,
//!   `MinAdjustmentMagnitude`, instance warm-up, the worked example with a
//!   50 % threshold on 10 instances;
//! - the same guide, "Scaling cooldowns" (`Cooldown`): the cooldown of
//!   simple policies, its 300 s default, and that it starts when the
//!   scaling activity has completed;
//! - the same guide, "Target tracking scaling policies" and the
//!   *Application Auto Scaling User Guide*, "Target tracking scaling
//!   policies": aggressive scale-out, gradual scale-in only once the metric
//!   is "usually more than 10% lower" than the target, no scale-in on
//!   insufficient data, `DisableScaleIn`, the scale-in cooldown;
//! - *Amazon CloudWatch User Guide*, "Using Amazon CloudWatch alarms":
//!   period, evaluation periods, datapoints to alarm ("M out of N"), the
//!   four treatments of missing data and their tables, and that "for Amazon
//!   EC2 Auto Scaling actions, the alarm continues to invoke the action for
//!   every period that the alarm remains in the new state";
//! - *EC2 Auto Scaling API Reference*, `StepAdjustment` (the validation
//!   rules of step intervals) and `PutScalingPolicy`
//!   (`MinAdjustmentMagnitude`, `MetricAggregationType`).
//!
//! One evaluation of a controller is one alarm period: the caller passes
//! the metric already averaged over the period (`Observation::metrics`), and
//! each alarm takes it as its next datapoint (None: a missing datapoint).
//!
//! In the Observation, `current` is what AWS calls the *desired capacity*
//! (instances requested, provisioning included) and AWS's *current
//! capacity* (in service and past warm-up) is derived from it: instances
//! not `ready`, and instances this controller launched less than `warmup`
//! ago, are warming.
//!
//! ## Scenario shapes
//!
//! ```toml
//! [autoscaler.api]                 # simple: one alarm ...
//! policy = "simple"
//! min = 2
//! max = 20
//! metric = "cpu"
//! comparison = ">="
//! threshold = 0.7
//! evaluation_periods = 3           # N (default 1)
//! datapoints_to_alarm = 2          # M (default N)
//! adjustment = { type = "percent", value = 30, min_adjustment_magnitude = 2 }
//! cooldown = "300s"
//!
//! [autoscaler.web]                 # ... or the usual pair
//! policy = "simple"
//! max = 20
//! scale_out = { metric = "cpu", comparison = ">=", threshold = 0.7, adjustment = { type = "change", value = 2 } }
//! scale_in  = { metric = "cpu", comparison = "<=", threshold = 0.3, adjustment = { type = "change", value = -1 }, cooldown = "180s" }
//!
//! [autoscaler.db]                  # step scaling
//! policy = "step"
//! max = 40
//! warmup = "300s"
//! scale_out = { metric = "cpu", comparison = ">=", threshold = 0.5, adjustment_type = "percent", steps = [
//!     { lower = 0.0, upper = 0.1, change = 10 },
//!     { lower = 0.1, upper = 0.2, change = 20 },
//!     { lower = 0.2, change = 30 } ] }
//! scale_in = { metric = "cpu", comparison = "<=", threshold = 0.3, steps = [{ upper = 0.0, change = -1 }] }
//!
//! [autoscaler.gpu]                 # target tracking
//! policy = "target"
//! metric = "cpu"
//! target = 0.5
//! max = 50
//! warmup = "300s"
//! ```

//! ## Files
//!
//! - `alarm.rs`: the CloudWatch metric alarm (comparison, M out of N,
//!   missing data) and the checks of its fields;
//! - `adjustment.rs`: adjustment types, the rounding of percent changes,
//!   `MinAdjustmentMagnitude`;
//! - `capacity.rs`: min/max bounds, instances warming up and terminating;
//! - `table.rs`: the fields the policies' tables share, written once;
//! - `simple.rs`, `step.rs`, `target.rs`: the three policies.

mod adjustment;
mod alarm;
mod capacity;
mod simple;
mod step;
mod table;
mod target;

pub use adjustment::{round_percent_change, AdjustmentConfig, AdjustmentType};
pub use alarm::{Aggregation, Alarm, AlarmState, Comparison, MissingData};
pub use simple::{Simple, SimpleConfig, SimplePolicyConfig};
pub use step::{Step, StepAdjustmentConfig, StepConfig, StepPolicyConfig};
pub use target::{TargetConfig, TargetTracking};

use crate::units::Duration;
// The defaults the policies share, for the tables here.
use crate::policy::{minute, one};

// ---------------------------------------------------------------------------
// Shared configuration pieces
// ---------------------------------------------------------------------------

pub(super) fn five_minutes() -> Duration {
    Duration(300.0)
}

/// The field path `prefix.field` (`field` alone for the flat form).
pub(super) fn join(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_string()
    } else {
        format!("{prefix}.{field}")
    }
}

/// The name of an alarm's rule in reasons: its table, or "alarm" for the
/// flat single alarm.
pub(super) fn rule_name(prefix: &'static str) -> &'static str {
    if prefix.is_empty() {
        "alarm"
    } else {
        prefix
    }
}

// ---------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------

/// A reason that ends on the proposal, and on the capacity when a bound
/// changed it.
pub(super) fn finish(text: String, proposal: i64, new: u32, clamp: &str) -> String {
    if proposal == new as i64 {
        text
    } else {
        format!("{text}{clamp} -> {new}")
    }
}

pub(super) use crate::units::num;

/// A number with its sign: "+0.1", "-2", "0".
pub(super) fn signed(x: f64) -> String {
    if x > 0.0 {
        format!("+{}", num(x))
    } else {
        num(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_reasons() {
        assert_eq!(num(7.0), "7");
        assert_eq!(num(1.5), "1.5");
        assert_eq!(num(0.1 + 0.2), "0.3");
        assert_eq!(signed(0.1), "+0.1");
        assert_eq!(signed(-3.0), "-3");
        assert_eq!(signed(0.0), "0");
    }
}
