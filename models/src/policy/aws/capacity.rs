//! The capacity the AWS policies act on: the group's min/max bounds, the
//! instances still warming up after a scale-out and those terminating after
//! a scale-in (EC2 Auto Scaling User Guide, "Step and simple scaling
//! policies", instance warm-up).

use crate::policy::{issue, Decision, Observation};
use crate::units::Duration;

pub(super) fn check_bounds(min: u32, max: u32, period: Duration) -> Result<(), (String, String)> {
    if max < min {
        return issue("max", format!("max ({max}) must be at least min ({min})"));
    }
    if period.secs().is_nan() || period.secs() <= 0.0 {
        return issue("period", "the alarm period must be > 0");
    }
    Ok(())
}

/// `min = 0` lets a group reach zero instances, where a metric averaged
/// over instances has no datapoints: its alarm goes to INSUFFICIENT_DATA
/// and nothing scales the group out again (CloudWatch, "Configuring how
/// CloudWatch alarms treat missing data"), and target tracking's
/// proportional step from zero is zero. So it is refused unless an alarm
/// of the policy (`alarms`: (field prefix, metric, missing data)) watches a
/// metric that exists without instances (the scale-out alarm, of a pair) (`queue_total`, `arrivals`, or a custom one)
/// or treats missing data as breaching.
pub(super) fn check_zero(
    min: u32,
    policy: &str,
    alarms: &[(&str, &str, super::alarm::MissingData)],
) -> Result<(), (String, String)> {
    if min > 0 {
        return Ok(());
    }
    let survives = crate::policy::metric::without_instances;
    if policy != "target"
        && alarms
            .iter()
            .filter(|a| a.0 != "scale_in")
            .any(|(_, metric, missing)| {
                survives(metric) || *missing == super::alarm::MissingData::Breaching
            })
    {
        return Ok(());
    }
    let why = if policy == "target" {
        "target tracking cannot scale out a group at zero: its metric has no datapoints without instances, and ceil(0 x ratio) is 0"
    } else {
        "at zero instances the alarm's metric, an average over instances, has no datapoints, so no alarm fires to scale out again"
    };
    issue(
        "min",
        format!("min = 0: {why}; keep min = 1, or scale out on queue_total (requests waiting in the pool) or arrivals with a step or simple policy, or treat_missing_data = \"breaching\" on its scale-out alarm"),
    )
}

/// Capacity changes this controller made, for AWS's warm-up rule ("while
/// scaling out, we do not consider instances that are warming up as part of
/// the current capacity") and its scale-in twin ("we consider instances
/// that are terminating as part of the current capacity"). Each count is
/// capped by how far `current` actually moved since the change, so a
/// replayed timeline whose `current` ignores the decisions does not count
/// instances that were never launched or removed.
#[derive(Clone, Debug, Default)]
pub(super) struct Activity {
    /// (time, capacity before, capacity after) of scale-outs.
    launches: Vec<(f64, u32, u32)>,
    /// (time, capacity before, capacity after) of scale-ins.
    removals: Vec<(f64, u32, u32)>,
}

impl Activity {
    /// Instances not yet counted as in service: not ready, or launched by
    /// this controller less than `warmup` seconds ago.
    pub(super) fn warming(&mut self, obs: &Observation, warmup: f64) -> u32 {
        let now = obs.now_s;
        self.launches.retain(|&(t, _, _)| now - t < warmup);
        let added: u32 = self.launches.iter().map(|&(_, from, to)| to - from).sum();
        let timer = self
            .launches
            .iter()
            .map(|&(_, from, _)| from)
            .min()
            .map_or(0, |from| added.min(obs.current.saturating_sub(from)));
        timer
            .max(obs.current.saturating_sub(obs.ready))
            .min(obs.current)
    }

    /// Instances this controller removed within `window` seconds.
    pub(super) fn terminating(&mut self, obs: &Observation, window: f64) -> u32 {
        let now = obs.now_s;
        self.removals.retain(|&(t, _, _)| now - t < window);
        let removed: u32 = self.removals.iter().map(|&(_, from, to)| from - to).sum();
        self.removals
            .iter()
            .map(|&(_, from, _)| from)
            .max()
            .map_or(0, |from| removed.min(from.saturating_sub(obs.current)))
    }

    pub(super) fn record(&mut self, now: f64, from: u32, to: u32) {
        if to > from {
            self.launches.push((now, from, to));
        } else if to < from {
            self.removals.push((now, from, to));
        }
    }
}

/// The capacity bounds; every decision is clamped to them ("Amazon EC2 Auto
/// Scaling does not scale your group below the minimum capacity or above
/// the maximum capacity").
#[derive(Clone, Copy, Debug)]
pub(super) struct Bounds {
    pub(super) min: u32,
    pub(super) max: u32,
}

impl Bounds {
    /// Clamps a proposal and says so when it had to.
    pub(super) fn clamp(self, proposal: i64) -> (u32, String) {
        if proposal > self.max as i64 {
            (self.max, format!(", max {}", self.max))
        } else if proposal < self.min as i64 {
            (self.min, format!(", min {}", self.min))
        } else {
            (proposal as u32, String::new())
        }
    }

    /// A decision when the current capacity is outside the bounds.
    pub(super) fn outside(self, current: u32) -> Option<Decision> {
        let (d, _) = self.clamp(current as i64);
        (d != current).then(|| Decision {
            desired: d,
            reason: format!(
                "capacity {current} outside [min {}, max {}] -> {d}",
                self.min, self.max
            ),
        })
    }
}
