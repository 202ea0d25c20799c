//! `failures`: instances that crash. Each ready instance draws its time to
//! failure from the component's own random stream (so adding failures to
//! one component changes no other component's draws); when it fails, the
//! requests it holds are lost (`requests.failed`), and the instance is
//! either
//!
//! - **replaced** (no `repair`): terminated — its bill closes, as EC2 bills
//!   to the second until termination and a Kubernetes pod's node time is
//!   freed — and a new instance is requested at once through the normal
//!   lifecycle (`provision_time`, then `ready_delay`), as an EC2 Auto
//!   Scaling group replaces an unhealthy instance ("Health checks for
//!   instances in an Auto Scaling group", AWS EC2 Auto Scaling user guide)
//!   and a ReplicaSet recreates a deleted pod; or
//! - **repaired in place** (`repair` given): down for the repair time, still
//!   billed (the VM or pod is still held, as a container restarted by its
//!   kubelet is), then ready again — the textbook alternating renewal
//!   process whose long-run availability is MTBF / (MTBF + MTTR).
//!
//! The time to failure counts from the moment an instance is ready.
//! `mtbf = "30d"` is an exponential lifetime of that mean (failures as a
//! Poisson process, the usual model of random hardware and software
//! faults); a table gives any law (`{ dist = "gamma", mean = "30d", cv =
//! 0.5 }` for wear-out). A request held by an instance that fails learns
//! it at its next step (its service or call ending): with services of
//! milliseconds against lifetimes of days the difference is nothing, and a
//! request waiting at the failed instance (behind a balancer) fails at
//! once.

use crate::dist::{Dist, DistConfig};
use crate::fleet::pool::Phase;
use crate::flow::{CompId, Component, Ev, System};
use crate::units::Duration;
use scalesim_sim::{Scheduler, SimRng, Time};
use serde::Deserialize;

/// Shortest mean time between failures accepted: below it the run would be
/// nothing but failures (and events).
const MIN_MTBF_S: f64 = 1.0;

/// `failures = { mtbf = "30d", repair = { dist = "exp", mean = "10m" } }`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FailureConfig {
    /// Time from ready to failure: a duration (the mean of an exponential
    /// lifetime) or a law.
    pub mtbf: Lifetime,
    /// Time to repair in place (a law or a duration); absent: the failed
    /// instance is replaced by a new one.
    #[serde(default)]
    pub repair: Option<DistConfig>,
}

/// A time to failure: a bare duration is the mean of an exponential law.
#[derive(Clone, Debug, PartialEq)]
pub struct Lifetime(pub DistConfig);

impl<'de> Deserialize<'de> for Lifetime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{self, value::MapAccessDeserializer, MapAccess, Visitor};
        use std::fmt;
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Lifetime;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mean time between failures such as \"30d\" (exponential lifetimes) or a law such as { dist = \"gamma\", mean = \"30d\", cv = 0.5 }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Lifetime, E> {
                crate::units::parse_duration(v)
                    .map(|s| Lifetime(DistConfig::Exp { mean: Duration(s) }))
                    .map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Lifetime, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Lifetime, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Lifetime, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Lifetime, A::Error> {
                DistConfig::deserialize(MapAccessDeserializer::new(map)).map(Lifetime)
            }
        }
        d.deserialize_any(V)
    }
}

impl FailureConfig {
    /// Checks the laws; `Err((field below failures, message))`.
    pub fn check(&self) -> Result<(), (String, String)> {
        let law = &self.mtbf.0;
        law.check().map_err(|(f, m)| (format!("mtbf.{f}"), m))?;
        if law.mean().is_nan() || law.mean() < MIN_MTBF_S {
            return Err((
                "mtbf".into(),
                format!(
                    "a mean time between failures of {}s: expected at least {MIN_MTBF_S}s (\"30d\" for a VM, \"7d\" for a flaky pod)",
                    law.mean()
                ),
            ));
        }
        if let Some(r) = &self.repair {
            r.check().map_err(|(f, m)| (format!("repair.{f}"), m))?;
            if r.mean().is_nan() || r.mean() <= 0.0 {
                return Err((
                    "repair".into(),
                    "a repair takes time: expected a positive duration such as \"10m\" (leave repair out to replace failed instances)".into(),
                ));
            }
        }
        Ok(())
    }

    /// Long-run share of time an instance repaired in place is up,
    /// MTBF / (MTBF + MTTR) (None when failed instances are replaced).
    pub fn availability(&self) -> Option<f64> {
        let up = self.mtbf.0.mean();
        self.repair.as_ref().map(|r| up / (up + r.mean()))
    }
}

/// The failures of one fleet as they run: the laws and their streams.
pub(crate) struct Failures {
    lifetime: Dist,
    repair: Option<Dist>,
    /// Draws the times to failure.
    rng: SimRng,
    /// Draws repair and replacement boot times.
    recovery_rng: SimRng,
    /// Instance failures so far (all, and at warm-up).
    pub(crate) count: u64,
    pub(crate) at_warmup: u64,
}

impl Failures {
    /// A fleet's failures, drawn from `rng` (lifetimes) and `recovery_rng`.
    pub(crate) fn new(cfg: &FailureConfig, rng: SimRng, recovery_rng: SimRng) -> Failures {
        Failures {
            lifetime: cfg.mtbf.0.sampler(),
            repair: cfg.repair.as_ref().map(DistConfig::sampler),
            rng,
            recovery_rng,
            count: 0,
            at_warmup: 0,
        }
    }

    /// Time from now to the next failure of an instance that is ready now.
    pub(crate) fn lifetime(&mut self) -> Time {
        self.lifetime.sample(&mut self.rng).max(1)
    }

    /// Repairs in place: the time this repair takes. None: replace.
    pub(crate) fn repair_time(&mut self) -> Option<Time> {
        let r = self.repair.as_ref()?;
        Some(r.sample(&mut self.recovery_rng))
    }

    /// A replacement's boot time under the fleet's `provision_time`.
    pub(crate) fn boot_time(&mut self, provision: Option<&Dist>) -> Time {
        provision.map_or(0, |d| d.sample(&mut self.recovery_rng))
    }
}

impl System {
    /// Schedules the first failure of every instance ready at the start.
    pub(crate) fn schedule_failures(&mut self, s: &mut Scheduler<Ev>) {
        for c in 0..self.comps.len() {
            let Some(pool) = self.comps[c].fleet() else {
                continue;
            };
            let ready: Vec<(u32, u32)> = (0..pool.instances().len() as u32)
                .filter(|&i| pool.instances()[i as usize].phase == Phase::Ready)
                .map(|i| (i, pool.instances()[i as usize].generation()))
                .collect();
            for (inst, gen) in ready {
                self.arm(s, CompId(c as u16), inst, gen);
            }
        }
    }

    /// Instance `inst` of `comp` (generation `gen`) became ready: its next
    /// failure is drawn, if the fleet fails.
    pub(crate) fn arm(&mut self, s: &mut Scheduler<Ev>, comp: CompId, inst: u32, gen: u32) {
        if let Some(f) = self.failures[comp.index()].as_mut() {
            s.after(f.lifetime(), Ev::Fail { comp, inst, gen });
        }
        self.arm_spot(s, comp, inst, gen);
    }

    /// Instance `inst` of `comp` fails now (unless the event is stale: the
    /// instance left Ready since).
    pub(crate) fn instance_fails(
        &mut self,
        s: &mut Scheduler<Ev>,
        comp: CompId,
        inst: u32,
        gen: u32,
    ) {
        let now = s.now();
        let c = comp.index();
        let (Some(f), Some(pool)) = (self.failures[c].as_mut(), self.comps[c].fleet_mut()) else {
            return;
        };
        let x = pool.instances()[inst as usize];
        if x.generation() != gen || x.phase != Phase::Ready {
            return;
        }
        f.count += 1;
        let repair = f.repair_time();
        let boot = repair
            .is_none()
            .then(|| f.boot_time(self.provision[c].as_ref()));
        let gen = self.take_instance_down(s, comp, inst, repair.is_some());
        let Some(pool) = self.comps[c].fleet_mut() else {
            return;
        };
        match repair {
            Some(dt) => s.after(dt, Ev::Repaired { comp, inst, gen }),
            None => {
                // Terminated: its bill closes; a replacement boots.
                self.stats[c].closed_cost += self.flow.closed(comp, &x, now);
                crate::fleet::scaler::launch(pool, s, comp, None, boot.unwrap_or(0));
            }
        }
        let what = if repair.is_some() {
            "failed (repairing)"
        } else {
            "failed (replacing)"
        };
        self.incident(now, self.cfg.components[c].0.clone(), inst, what);
    }

    /// Instance `inst` of `comp` is killed now (out of memory, see
    /// [`crate::fleet::memory`]) unless the event is stale: it goes down
    /// as a failure does and restarts in place after `restart_ms`.
    pub(crate) fn instance_killed(
        &mut self,
        s: &mut Scheduler<Ev>,
        comp: CompId,
        inst: u32,
        gen: u32,
        restart_ms: u32,
    ) {
        let c = comp.index();
        let Some(pool) = self.comps[c].fleet() else {
            return;
        };
        let x = pool.instances()[inst as usize];
        if x.generation() != gen || x.phase != Phase::Ready {
            return;
        }
        let now = s.now();
        let (delay, backoff) = match self.comps[c].fleet_mut() {
            Some(pool) => pool.restart_delay(inst, now, restart_ms as Time * 1_000_000),
            None => return,
        };
        let gen = self.take_instance_down(s, comp, inst, true);
        s.after(delay, Ev::Repaired { comp, inst, gen });
        let what = if backoff {
            "out of memory (CrashLoopBackOff)"
        } else {
            "out of memory (restarting)"
        };
        self.incident(now, self.cfg.components[c].0.clone(), inst, what);
    }

    /// Ready instance `inst` of `comp` goes down now (it failed, or an
    /// outage struck): it leaves the rotation at once, or when its health
    /// checks see it; what it holds is lost. Returns its new generation.
    pub(crate) fn take_instance_down(
        &mut self,
        s: &mut Scheduler<Ev>,
        comp: CompId,
        inst: u32,
        repair: bool,
    ) -> u32 {
        let now = s.now();
        let c = comp.index();
        let Some(pool) = self.comps[c].fleet_mut() else {
            return 0;
        };
        let checked = pool.checked;
        let queued = pool.fail(inst, now, repair, !checked);
        let gen = pool.instances()[inst as usize].generation();
        if let Some(h) = self.health[c].as_mut() {
            let dt = h.failed(inst, now);
            s.after(
                dt,
                Ev::Checked {
                    comp,
                    inst,
                    gen,
                    healthy: false,
                },
            );
        }
        self.fleet_changed(c, now);
        self.with_kind(s, comp, |k, cx| k.instance_failed(cx, inst, &queued));
        gen
    }

    /// Instance `inst` of `comp` (generation `gen`), down, works again: it
    /// is ready at once, or once its health checks pass (unless they never
    /// took it out).
    pub(crate) fn bring_up(&mut self, s: &mut Scheduler<Ev>, comp: CompId, inst: u32, gen: u32) {
        let c = comp.index();
        let Some(pool) = self.comps[c].fleet_mut() else {
            return;
        };
        if let Some(h) = self.health[c].as_mut() {
            if !pool.instances()[inst as usize].listed() {
                let dt = h.recovered();
                s.after(
                    dt,
                    Ev::Checked {
                        comp,
                        inst,
                        gen,
                        healthy: true,
                    },
                );
                return;
            }
        }
        self.instance_up(s, comp, inst, gen);
    }

    /// Instance `inst` of `comp`, down, is ready now (unless an outage
    /// holds its zone): its next failure is drawn, it takes work.
    pub(crate) fn instance_up(&mut self, s: &mut Scheduler<Ev>, comp: CompId, inst: u32, gen: u32) {
        let now = s.now();
        let c = comp.index();
        let Some(pool) = self.comps[c].fleet_mut() else {
            return;
        };
        pool.set_phase(inst, Phase::Ready, now);
        self.fleet_changed(c, now);
        if self.held_by_outage(s, comp, inst) {
            return;
        }
        self.arm(s, comp, inst, gen);
        self.with_kind(s, comp, |k, cx| k.instance_ready(cx));
    }

    /// Instance `inst` of `comp`, down for repair, is repaired now.
    pub(crate) fn instance_repaired(
        &mut self,
        s: &mut Scheduler<Ev>,
        comp: CompId,
        inst: u32,
        gen: u32,
    ) {
        let now = s.now();
        let c = comp.index();
        let Some(pool) = self.comps[c].fleet_mut() else {
            return;
        };
        let x = pool.instances()[inst as usize];
        if x.generation() != gen || x.phase != Phase::Down {
            return;
        }
        self.incident(now, self.cfg.components[c].0.clone(), inst, "repaired");
        self.bring_up(s, comp, inst, gen);
    }
}
