//! What `spec.behavior` does to a proposal (`horizontal.go`):
//! stabilization windows (`stabilizeRecommendationWithBehaviors`: scale-up
//! takes the lowest recommendation of its window, scale-down the highest of
//! its), scaling policies as rate limits
//! (`convertDesiredReplicasWithBehaviorRate`,
//! `calculateScaleUpLimitWithScalingRules`,
//! `calculateScaleDownLimitWithBehaviors`, from the history of scale
//! events: `storeScaleEvent`, `markScaleEventsOutdated`), and the legacy
//! path of an HPA without `behavior` (`normalizeDesiredReplicas`,
//! `convertDesiredReplicasWithRules`).

use super::{
    num, Hpa, Normalization, PolicyType, Recommendation, Rules, ScaleEvent, SelectPolicy,
    DEFAULT_DOWNSCALE_STABILIZATION_S,
};

impl Hpa {
    /// `stabilizeRecommendationWithBehaviors`: the current count brought
    /// within [lowest recommendation of the scale-up window, highest of the
    /// scale-down window]; records the unstabilized recommendation.
    pub(super) fn stabilize(
        &mut self,
        up: f64,
        down: f64,
        now: f64,
        current: i64,
        desired: i64,
    ) -> (i64, Option<String>) {
        let (up_cut, down_cut) = (now - up, now - down);
        let (mut up_rec, mut down_rec) = (desired, desired);
        let mut old = None;
        for (i, r) in self.recommendations.iter().enumerate() {
            if r.at > up_cut {
                up_rec = up_rec.min(r.replicas);
            }
            if r.at > down_cut {
                down_rec = down_rec.max(r.replicas);
            }
            if r.at < up_cut && r.at < down_cut {
                old = Some(i);
            }
        }
        let mut stabilized = current;
        if stabilized < up_rec {
            stabilized = up_rec;
        }
        if stabilized > down_rec {
            stabilized = down_rec;
        }
        self.record(old, desired, now);
        let note = if stabilized == desired {
            None
        } else if stabilized < desired {
            Some(format!(
                "scale-up stabilized: lowest recommendation in the last {}s is {up_rec} -> {stabilized}",
                num(up)
            ))
        } else {
            Some(format!(
                "scale-down stabilized: highest recommendation in the last {}s is {down_rec} -> {stabilized}",
                num(down)
            ))
        };
        (stabilized, note)
    }

    fn record(&mut self, old: Option<usize>, desired: i64, now: f64) {
        let rec = Recommendation {
            replicas: desired,
            at: now,
        };
        match old {
            Some(i) => self.recommendations[i] = rec,
            None => self.recommendations.push(rec),
        }
    }

    /// Replicas added (or removed) by the events of the last `period` s
    /// (`getReplicasChangePerPeriod`).
    fn change_in(events: &[ScaleEvent], period: f64, now: f64) -> i64 {
        events
            .iter()
            .filter(|e| e.at > now - period)
            .map(|e| e.change)
            .sum()
    }

    /// `calculateScaleUpLimitWithScalingRules` (`up`) or
    /// `calculateScaleDownLimitWithBehaviors`: the limit and the policy that
    /// set it.
    fn rate_limit(&self, rules: &Rules, up: bool, now: f64, current: i64) -> (i64, String) {
        if rules.select == SelectPolicy::Disabled {
            return (current, "selectPolicy Disabled".into());
        }
        // Max picks the largest change: the highest limit up, the lowest down.
        let largest_change = rules.select == SelectPolicy::Max;
        let mut best: Option<(i64, usize, i64)> = None;
        for (i, p) in rules.policies.iter().enumerate() {
            let start = current - Self::change_in(&self.up_events, p.period, now)
                + Self::change_in(&self.down_events, p.period, now);
            let proposed = match (up, p.kind) {
                (true, PolicyType::Pods) => start + p.value as i64,
                (true, PolicyType::Percent) => {
                    (start as f64 * (1.0 + p.value as f64 / 100.0)).ceil() as i64
                }
                (false, PolicyType::Pods) => start - p.value as i64,
                (false, PolicyType::Percent) => {
                    (start as f64 * (1.0 - p.value as f64 / 100.0)) as i64
                }
            };
            let better = match best {
                None => true,
                Some((b, ..)) => {
                    if up == largest_change {
                        proposed > b
                    } else {
                        proposed < b
                    }
                }
            };
            if better {
                best = Some((proposed, i, start));
            }
        }
        let (limit, i, start) = best.expect("validated: at least one policy");
        let mut desc = rules.policies[i].describe();
        if start != current {
            desc = format!("{desc} from {start} at the period start");
        }
        (limit, desc)
    }

    /// `convertDesiredReplicasWithBehaviorRate`: policies, then min/max.
    pub(super) fn limit_rate(&self, now: f64, current: i64, desired: i64) -> (i64, Option<String>) {
        let Normalization::Behavior { up, down } = &self.normalization else {
            return (desired, None);
        };
        if desired > current {
            let (mut limit, desc) = self.rate_limit(up, true, now, current);
            if limit < current {
                limit = current;
            }
            let (allowed, why) = if self.max > limit {
                (limit, format!("scale-up limited by {desc}"))
            } else {
                (self.max, format!("capped at max {}", self.max))
            };
            if desired > allowed {
                return (allowed, Some(format!("{why} -> {allowed}")));
            }
        } else if desired < current {
            let (mut limit, desc) = self.rate_limit(down, false, now, current);
            if limit > current {
                limit = current;
            }
            let (allowed, why) = if self.min < limit {
                (limit, format!("scale-down limited by {desc}"))
            } else {
                (self.min, format!("raised to min {}", self.min))
            };
            if desired < allowed {
                return (allowed, Some(format!("{why} -> {allowed}")));
            }
        }
        (desired, None)
    }

    /// `normalizeDesiredReplicas` (no behavior): the highest recommendation
    /// of the downscale window (inclusive), then max(2 x current, 4) and
    /// min/max (`convertDesiredReplicasWithRules`).
    pub(super) fn normalize_legacy(
        &mut self,
        now: f64,
        current: i64,
        desired: i64,
    ) -> (i64, Vec<String>) {
        let window = DEFAULT_DOWNSCALE_STABILIZATION_S;
        let cutoff = now - window;
        let mut highest = desired;
        let mut old = None;
        for (i, r) in self.recommendations.iter().enumerate() {
            if r.at < cutoff {
                old = Some(i);
            } else if r.replicas > highest {
                highest = r.replicas;
            }
        }
        self.record(old, desired, now);
        let mut notes = Vec::new();
        if highest != desired {
            notes.push(format!(
                "stabilized: highest recommendation in the last {}s is {highest}",
                num(window)
            ));
        }
        let scale_up_limit = (2.0 * current as f64).max(4.0) as i64;
        let (max_allowed, why) = if self.max > scale_up_limit {
            (
                scale_up_limit,
                format!(
                    "scale-up limited to max(2 x {current}, 4) = {scale_up_limit} (no behavior)"
                ),
            )
        } else {
            (self.max, format!("capped at max {}", self.max))
        };
        let out = if highest < self.min {
            notes.push(format!("raised to min {} -> {}", self.min, self.min));
            self.min
        } else if highest > max_allowed {
            notes.push(format!("{why} -> {max_allowed}"));
            max_allowed
        } else {
            highest
        };
        (out, notes)
    }

    /// `storeScaleEvent`: the change, reusing a slot outdated by the
    /// direction's longest policy period.
    pub(super) fn store_event(&mut self, now: f64, prev: i64, new: i64) {
        let Normalization::Behavior { up, down } = &self.normalization else {
            return;
        };
        let (rules, events, change) = if new > prev {
            (up, &mut self.up_events, new - prev)
        } else {
            (down, &mut self.down_events, prev - new)
        };
        let longest = rules.policies.iter().map(|p| p.period).fold(0.0, f64::max);
        let mut slot = None;
        for (i, e) in events.iter_mut().enumerate() {
            if e.at < now - longest {
                e.outdated = true;
            }
            if e.outdated {
                slot = Some(i);
            }
        }
        let event = ScaleEvent {
            change,
            at: now,
            outdated: false,
        };
        match slot {
            Some(i) => events[i] = event,
            None => events.push(event),
        }
    }
}
