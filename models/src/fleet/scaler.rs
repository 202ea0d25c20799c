//! The autoscaler pipeline of a fleet: metric windows closed every
//! `metric_period`, read `metric_delay` late, a policy evaluated every
//! period, new instances provisioned (boot) and warmed (readiness grace),
//! removed ones drained and billed.

use crate::dist::Dist;
use crate::fleet::pool::{Phase, Pool};
use crate::flow::{CompId, Component, Ev, System};
use crate::measure::{Counters, ScalingEvent};
use crate::policy::{Controller, Metric, Observation, Pod, PolicyConfig};
use crate::system::{ConfigIssue, SystemConfig};
use scalesim_sim::{from_secs, stream, to_secs, Scheduler, SimRng, Time};
use std::collections::{BTreeMap, VecDeque};

/// Requests a new instance of fleet `comp` (`spot` as [`Pool::request_as`]
/// takes it) and has it boot `boot` from now; returns its index.
pub(crate) fn launch(
    pool: &mut Pool,
    s: &mut Scheduler<Ev>,
    comp: CompId,
    spot: Option<bool>,
    boot: Time,
) -> u32 {
    let inst = pool.request_as(s.now(), spot);
    let gen = pool.instances()[inst as usize].generation();
    s.after(boot, Ev::Boot { comp, inst, gen });
    inst
}

/// One closed metric window: (closing time, metrics, pods, and each pod's
/// (instance, generation)).
type Snapshot = (Time, Vec<Metric>, Vec<Pod>, Vec<(u32, u32)>);

/// A fleet's autoscaler: its policy and its metrics pipeline.
pub struct Scaler {
    pub(crate) comp: CompId,
    controller: Box<dyn Controller>,
    pub(crate) period: Time,
    pub(crate) window: Time,
    delay: Time,
    provision: Option<Dist>,
    rng: SimRng,
    /// Metric windows (closing time, metrics, pods, and each pod's
    /// (instance, generation)), oldest first.
    snapshots: VecDeque<Snapshot>,
    /// Counters at the last window close.
    last: Counters,
    /// (generation, busy integral) of each instance at the last close.
    last_pods: Vec<(u32, f64)>,
}

impl Scaler {
    /// The autoscaler `name` of a checked system (None: a policy that
    /// never acts, or a component without a fleet).
    pub(crate) fn new(
        cfg: &SystemConfig,
        idx: &BTreeMap<&str, CompId>,
        name: &str,
        a: &PolicyConfig,
    ) -> Result<Option<Scaler>, Vec<ConfigIssue>> {
        let controller = a.build(&cfg.calendar).map_err(|(f, m)| {
            vec![ConfigIssue {
                path: format!("autoscaler.{name}.{f}"),
                message: m,
            }]
        })?;
        let (Some(controller), Some(&comp)) = (controller, idx.get(name)) else {
            return Ok(None);
        };
        let Some(p) = cfg.components[comp.index()].1.lifecycle() else {
            return Ok(None);
        };
        let period = from_secs(controller.period_s()).max(1);
        Ok(Some(Scaler {
            comp,
            window: p.metric_period.map(|d| d.time()).unwrap_or(period).max(1),
            delay: p.metric_delay.time(),
            provision: p.provision_time.as_ref().map(|d| d.sampler()),
            rng: stream(
                cfg.seed,
                cfg.replication,
                &format!("autoscaler.{name}"),
                "provision",
            ),
            snapshots: VecDeque::new(),
            last: Counters::default(),
            last_pods: Vec::new(),
            period,
            controller,
        }))
    }
}

impl System {
    /// Component `i`'s counters now (common ones and its kind's own).
    pub(crate) fn counters(&self, i: usize, now: Time) -> Counters {
        let mut c = self.stats[i].counters(now);
        self.comps[i].counters(now, &mut c);
        c
    }

    /// Records fleet `i`'s ready slots and instances after a lifecycle
    /// change.
    pub(crate) fn fleet_changed(&mut self, i: usize, now: Time) {
        let Some(pool) = self.comps[i].fleet() else {
            return;
        };
        let st = &mut self.stats[i];
        st.slots.set(now, pool.slots() as f64);
        st.ready.set(now, pool.ready() as f64);
        st.ready_max = st.ready_max.max(pool.ready());
        st.ready_time.set(now, self.cfg.warmup, pool.ready());
        self.comps[i].capacity_changed(st, now);
    }

    /// Closes a metric window of scaler `k` at `now`.
    pub(crate) fn snapshot(&mut self, k: usize, now: Time) {
        let comp = self.scalers[k].comp.index();
        let c = self.counters(comp, now);
        let p99 = self.stats[comp].scaler_window.as_mut().and_then(|h| {
            let v = (h.count() > 0).then(|| h.quantile_s(0.99));
            h.clear();
            v
        });
        let sc = &mut self.scalers[k];
        let d = c.minus(&sc.last);
        let dt = now
            .saturating_sub(sc.snapshots.back().map(|x| x.0).unwrap_or(0))
            .max(1) as f64;
        let kind = &self.comps[comp];
        let Some(pool) = kind.fleet() else {
            return;
        };
        let ready = pool.ready();
        let per = |x: f64| (ready > 0).then(|| x / ready as f64);
        let metric = |name: &str, value: Option<f64>| Metric {
            name: name.to_string(),
            value,
        };
        use crate::policy::metric as m;
        let mut metrics = vec![
            metric(m::CPU, (d.slots > 0.0).then(|| d.cpu / d.slots)),
            metric(m::BUSY, (d.slots > 0.0).then(|| d.busy / d.slots)),
            metric(m::RPS, per(d.completions as f64 / (dt / 1e9))),
            metric(m::QUEUE, per(d.queue / dt)),
            metric(m::QUEUE_TOTAL, Some(d.queue / dt)),
            metric(m::ARRIVALS, Some(d.arrivals as f64 / (dt / 1e9))),
            metric(m::IN_FLIGHT, per(d.in_system / dt)),
            metric(
                m::LATENCY,
                (d.completions > 0).then(|| d.resp_sum / d.completions as f64),
            ),
            metric(m::P99, p99),
        ];
        kind.scaling_metrics(&d, &per, dt, &mut metrics);
        if let Some(pc) = self.cfg.components[comp].1.lifecycle() {
            for cm in &pc.custom_metrics {
                let get = |n: &str| {
                    if n == "ready" {
                        Some(ready as f64)
                    } else {
                        metrics.iter().find(|x| x.name == n).and_then(|x| x.value)
                    }
                };
                let value = match (get(&cm.ratio[0]), get(&cm.ratio[1])) {
                    (Some(a), Some(b)) if b != 0.0 => Some(a / b),
                    _ => None,
                };
                metrics.push(metric(&cm.name, value));
            }
        }
        let (pods, ids) = pods(
            pool,
            kind.pods_share_cpu(),
            &metrics,
            &mut sc.last_pods,
            now,
            dt,
        );
        sc.last = c;
        sc.snapshots.push_back((now, metrics, pods, ids));
        // Keep what a delayed read may still need.
        while sc.snapshots.len() > 2 && sc.snapshots[1].0 + sc.delay <= now {
            sc.snapshots.pop_front();
        }
    }

    /// Scaler `k` evaluates its policy at `now` and applies the decision.
    pub(crate) fn evaluate(&mut self, s: &mut Scheduler<Ev>, k: usize) {
        let now = s.now();
        let comp = self.scalers[k].comp;
        let c = comp.index();
        let Some(pool) = self.comps[c].fleet() else {
            return;
        };
        let (current, ready) = (pool.desired(), pool.ready());
        let sc = &mut self.scalers[k];
        let visible = sc.snapshots.iter().rev().find(|x| x.0 + sc.delay <= now);
        let empty = (Vec::new(), Vec::new(), Vec::new());
        let (metrics, pods, ids) = visible
            .map(|x| (&x.1, &x.2, &x.3))
            .unwrap_or((&empty.0, &empty.1, &empty.2));
        let obs = Observation {
            now_s: to_secs(now),
            current,
            ready,
            metrics,
            pods,
        };
        let decision = sc.controller.evaluate(&obs);
        let resize = sc.controller.resize(&obs).map(|r| {
            let evict: Vec<(u32, u32)> = r.evict.iter().map(|&k| ids[k]).collect();
            (r, evict)
        });
        self.stats[c].forecast = sc.controller.forecast();
        if let Some((r, evict)) = resize {
            // A vertical policy leaves the count alone.
            self.resize(s, k, r, &evict);
            return;
        }
        if decision.desired == current {
            return;
        }
        let (scaler_rng, provision) = (&mut sc.rng, &sc.provision);
        let Some(pool) = self.comps[c].fleet_mut() else {
            return;
        };
        if decision.desired > current {
            for _ in current..decision.desired {
                let boot = provision.as_ref().map_or(0, |d| d.sample(scaler_rng));
                launch(pool, s, comp, None, boot);
            }
            self.stats[c].scale_outs += 1;
        } else {
            let gone = pool.remove(current - decision.desired, now);
            for inst in gone {
                let x = pool.instances()[inst as usize];
                self.stats[c].closed_cost += self.flow.closed(comp, &x, now);
            }
            self.stats[c].scale_ins += 1;
            self.fleet_changed(c, now);
        }
        self.scaling_events.push(ScalingEvent {
            t_s: to_secs(now),
            component: self.cfg.components[c].0.clone(),
            from: current,
            to: decision.desired,
            ready,
            reason: decision.reason,
        });
    }

    /// Applies vertical decision `r` of scaler `k`: new instances get
    /// `r.cores`; each of `evict` (instance, generation) still ready is
    /// drained and replaced at once by one of the new size, as the VPA
    /// updater's eviction and the ReplicaSet's replacement do.
    fn resize(
        &mut self,
        s: &mut Scheduler<Ev>,
        k: usize,
        r: crate::policy::Resize,
        evict: &[(u32, u32)],
    ) {
        let now = s.now();
        let sc = &mut self.scalers[k];
        let comp = sc.comp;
        let c = comp.index();
        let (rng, provision) = (&mut sc.rng, &sc.provision);
        let Some(pool) = self.comps[c].fleet_mut() else {
            return;
        };
        let before = pool.size();
        pool.set_size(r.cores);
        let mut evicted = Vec::new();
        for &(inst, gen) in evict {
            let x = pool.instances()[inst as usize];
            if x.generation() != gen || x.phase != Phase::Ready {
                continue;
            }
            if pool.drain(inst) {
                let x = pool.instances()[inst as usize];
                self.stats[c].closed_cost += self.flow.closed(comp, &x, now);
            }
            let boot = provision.as_ref().map_or(0, |d| d.sample(rng));
            launch(pool, s, comp, None, boot);
            evicted.push(inst);
        }
        let name = &self.cfg.components[c].0;
        for &inst in &evicted {
            self.incidents.push(crate::measure::Incident {
                t_s: to_secs(now),
                component: name.clone(),
                instance: inst,
                what: "evicted to resize (vpa)",
            });
        }
        let evicted = evicted.len() as u32;
        if evicted > 0 {
            self.stats[c].evictions += evicted;
            self.fleet_changed(c, now);
        }
        if evicted > 0 || before != r.cores {
            let desired = self.comps[c].fleet().map_or(0, |p| p.desired());
            self.scaling_events.push(ScalingEvent {
                t_s: to_secs(now),
                component: self.cfg.components[c].0.clone(),
                from: desired,
                to: desired,
                ready: self.comps[c].fleet().map_or(0, |p| p.ready()),
                reason: r.reason,
            });
        }
    }

    /// An instance of fleet `comp` finished booting (`ready`: its readiness
    /// grace).
    pub(crate) fn lifecycle(
        &mut self,
        s: &mut Scheduler<Ev>,
        comp: CompId,
        inst: u32,
        gen: u32,
        ready: bool,
    ) {
        let now = s.now();
        let c = comp.index();
        let delay = self.ready_delay[c];
        let Some(pool) = self.comps[c].fleet_mut() else {
            return;
        };
        let x = pool.instances()[inst as usize];
        if x.generation() != gen || matches!(x.phase, Phase::Gone | Phase::Draining) {
            return;
        }
        if !ready && delay > 0 {
            pool.set_phase(inst, Phase::Warming, now);
            s.after(delay, Ev::Ready { comp, inst, gen });
            return;
        }
        self.instance_up(s, comp, inst, gen);
    }
}

/// The pods of a fleet as an autoscaler sees them in a metric window: ready
/// and warming instances, each with its own CPU (busy time over its slots
/// since the last window) or the component's share (`shared_cpu`).
fn pods(
    pool: &Pool,
    shared_cpu: bool,
    metrics: &[Metric],
    last_pods: &mut Vec<(u32, f64)>,
    now: Time,
    dt: f64,
) -> (Vec<Pod>, Vec<(u32, u32)>) {
    use crate::policy::metric as m;
    let shared_cpu = shared_cpu.then(|| {
        metrics
            .iter()
            .find(|x| x.name == m::CPU)
            .and_then(|x| x.value)
    });
    last_pods.resize(pool.instances().len(), (u32::MAX, 0.0));
    let mut pods = Vec::new();
    let mut ids = Vec::new();
    for (k, (x, last)) in pool
        .instances()
        .iter()
        .zip(last_pods.iter_mut())
        .enumerate()
    {
        let integral = x.cpu_integral(now);
        if matches!(x.phase, Phase::Warming | Phase::Ready) {
            let ready_pod = x.phase == Phase::Ready;
            let cpu = match shared_cpu {
                Some(c) => c.filter(|_| ready_pod),
                None => (ready_pod && last.0 == x.generation())
                    .then(|| (integral - last.1) / (x.slots().max(1) as f64 * dt)),
            };
            let values = metrics
                .iter()
                .map(|mt| {
                    if mt.name == m::CPU {
                        cpu
                    } else {
                        mt.value.filter(|_| ready_pod)
                    }
                })
                .collect();
            pods.push(Pod {
                ready: ready_pod,
                age_s: to_secs(now.saturating_sub(x.requested_at)),
                values,
                cores: x.slots(),
            });
            ids.push((k as u32, x.generation()));
        }
        *last = (x.generation(), integral);
    }
    (pods, ids)
}
