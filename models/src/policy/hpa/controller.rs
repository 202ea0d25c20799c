//! One sync of the controller (`horizontal.go` `reconcileAutoscaler`):
//! replicas outside [min, max] brought back first, zero replicas disable
//! autoscaling, the first evaluation records the current count as a
//! recommendation (`recordInitialRecommendation`); otherwise the replica
//! calculator's proposal, stabilized and rate-limited by the behavior.

use super::{Hpa, Normalization, Recommendation};
use crate::policy::{unique, Controller, Decision, Observation};

impl Hpa {
    /// (minReplicas, maxReplicas).
    pub fn bounds(&self) -> (u32, u32) {
        (self.min as u32, self.max as u32)
    }
}

impl Controller for Hpa {
    fn period_s(&self) -> f64 {
        self.sync_period
    }

    fn metrics(&self) -> Vec<String> {
        unique(self.metrics.iter().map(|m| m.name.clone()))
    }

    fn evaluate(&mut self, obs: &Observation) -> Decision {
        let now = obs.now_s;
        let current = obs.current as i64;
        if !self.started {
            self.started = true;
            self.recommendations.push(Recommendation {
                replicas: current,
                at: now,
            });
        }
        let (desired, reason) = if current == 0 {
            return Decision {
                desired: 0,
                reason: "scaling disabled: the target has 0 replicas".into(),
            };
        } else if current > self.max {
            (
                self.max,
                format!("{current} replicas above max {} -> {}", self.max, self.max),
            )
        } else if current < self.min {
            (
                self.min,
                format!("{current} replicas below min {} -> {}", self.min, self.min),
            )
        } else {
            let (proposal, text) = match self.compute(obs) {
                Ok(x) => x,
                Err(why) => {
                    return Decision {
                        desired: obs.current,
                        reason: why,
                    }
                }
            };
            let mut parts = vec![text];
            let windows = match &self.normalization {
                Normalization::Legacy => None,
                Normalization::Behavior { up, down } => Some((up.window, down.window)),
            };
            let out = match windows {
                None => {
                    let (out, notes) = self.normalize_legacy(now, current, proposal);
                    parts.extend(notes);
                    out
                }
                Some((up, down)) => {
                    let (stabilized, note) = self.stabilize(up, down, now, current, proposal);
                    parts.extend(note);
                    let (out, note) = self.limit_rate(now, current, stabilized);
                    parts.extend(note);
                    out
                }
            };
            (out, parts.join("; "))
        };
        if desired != current {
            self.store_event(now, current, desired);
        }
        Decision {
            desired: desired.clamp(0, u32::MAX as i64) as u32,
            reason,
        }
    }
}
