//! Scaling to zero and back, as KEDA does for an HPA (`minReplicaCount: 0`,
//! `cooldownPeriod`, default 300 s): KEDA itself moves a workload between
//! zero and one replica and leaves one to max to the HPA. A workload at
//! zero is *activated* (0 -> 1) when its trigger sees work (here: requests
//! arrived at the pool since the last evaluation; they wait in its queue
//! meanwhile, as Knative's activator holds them), and *deactivated*
//! (-> 0) once no request has arrived for the cooldown. The activation is
//! looked at every HPA sync (KEDA polls its triggers every
//! `pollingInterval`, 30 s by default; Knative's activator reacts at once).

use crate::policy::hpa::{Hpa, HpaConfig};
use crate::policy::{issue, metric, Controller, Decision, Observation};

/// The controller of an HPA configuration: the HPA itself, or, with
/// `min = 0` and `scale_to_zero`, the HPA from one replica under
/// [`ScaleToZero`]. `Err((field, message))`.
pub fn hpa(cfg: &HpaConfig) -> Result<Box<dyn Controller>, (String, String)> {
    let Some(idle) = cfg.scale_to_zero else {
        return Ok(Box::new(Hpa::new(cfg)?));
    };
    if cfg.min != 0 {
        return issue(
            "scale_to_zero",
            format!(
                "scale_to_zero takes the workload to zero replicas: it needs min = 0, not {}",
                cfg.min
            ),
        );
    }
    if !(idle.secs().is_finite() && idle.secs() > 0.0) {
        return issue("scale_to_zero", "expected an idle time > 0, such as \"5m\"");
    }
    let mut from_one = cfg.clone();
    from_one.min = 1;
    from_one.max = cfg.max.max(1);
    Ok(Box::new(ScaleToZero {
        inner: Box::new(Hpa::new(&from_one)?),
        idle: idle.secs(),
        last_active: 0.0,
    }))
}

/// A controller that owns the zero <-> one moves of a workload and leaves
/// the rest to `inner`.
pub struct ScaleToZero {
    inner: Box<dyn Controller>,
    /// Seconds without a request before going to zero.
    idle: f64,
    /// When requests last arrived.
    last_active: f64,
}

impl Controller for ScaleToZero {
    fn period_s(&self) -> f64 {
        self.inner.period_s()
    }

    fn metrics(&self) -> Vec<String> {
        let mut m = self.inner.metrics();
        if !m.iter().any(|x| x == metric::ARRIVALS) {
            m.push(metric::ARRIVALS.to_string());
        }
        m
    }

    fn evaluate(&mut self, obs: &Observation) -> Decision {
        let arrivals = obs.metric(metric::ARRIVALS).unwrap_or(0.0);
        if arrivals > 0.0 {
            self.last_active = obs.now_s;
        }
        if obs.current == 0 {
            return match arrivals > 0.0 {
                true => Decision {
                    desired: 1,
                    reason: format!(
                        "activation: {arrivals:.3} req/s arriving at zero replicas (0 -> 1)"
                    ),
                },
                false => Decision {
                    desired: 0,
                    reason: String::new(),
                },
            };
        }
        if obs.now_s - self.last_active >= self.idle {
            return Decision {
                desired: 0,
                reason: format!("no request for {} s (cooldown): scale to zero", self.idle),
            };
        }
        self.inner.evaluate(obs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Metric;
    use crate::units::Duration;

    fn at(c: &mut dyn Controller, t: f64, current: u32, arrivals: f64) -> u32 {
        let metrics = [
            Metric {
                name: metric::CPU.into(),
                value: (current > 0).then_some(0.8),
            },
            Metric {
                name: metric::ARRIVALS.into(),
                value: Some(arrivals),
            },
        ];
        c.evaluate(&Observation {
            now_s: t,
            current,
            ready: current,
            metrics: &metrics,
            pods: &[],
        })
        .desired
    }

    #[test]
    fn idles_to_zero_and_activates_on_the_first_request() {
        let mut cfg = HpaConfig::new(0, 10, Vec::new());
        assert_eq!(hpa(&cfg).err().unwrap().0, "min");
        cfg.scale_to_zero = Some(Duration(300.0));
        let mut c = hpa(&cfg).unwrap();
        // Busy: the HPA's own rule (cpu 0.8 vs the default 80%: no change).
        assert_eq!(at(&mut *c, 15.0, 2, 5.0), 2);
        // Idle for less than the cooldown, then for the cooldown.
        assert_eq!(at(&mut *c, 300.0, 2, 0.0), 2);
        assert_eq!(at(&mut *c, 315.0, 2, 0.0), 0);
        assert_eq!(at(&mut *c, 330.0, 0, 0.0), 0);
        assert_eq!(at(&mut *c, 345.0, 0, 0.2), 1);
        let mut wrong = cfg.clone();
        wrong.min = 1;
        assert_eq!(hpa(&wrong).err().unwrap().0, "scale_to_zero");
    }
}
