//! A pool of identical servers: `instances` x `concurrency` slots fed by one
//! FIFO queue, with an optional queue capacity (0 = no waiting room, a
//! loss system). A request holds its slot for its own service time and
//! then for each downstream call in `calls`, in order.
//!
//! With a `balance` policy other than `fifo` (see [`crate::fleet::balance`]) each
//! instance keeps its own FIFO queue (`queue_capacity` then bounds each
//! instance's queue) and the balancer sends every arrival to one ready
//! instance at once, as a load balancer in front of the pool would.
//!
//! With exponential service and no calls this is the M/M/c queue (Erlang C;
//! Kleinrock, *Queueing Systems* vol. 1, §3.5), with `queue_capacity = 0`
//! the M/G/c/c loss system (Erlang B, insensitive to the service law), and
//! with one slot and a general law M/G/1 (Pollaczek-Khinchine).

use crate::dist::Dist;
use crate::fleet::balance::{Balancer, DEFAULT_VNODES};
use crate::fleet::patience::Patience;
use scalesim_sim::stats::TimeAvg;
use scalesim_sim::{SimRng, Time};
use std::collections::VecDeque;

mod event_loop;
mod instance;
#[cfg(test)]
mod tests;

pub use crate::fleet::pool_config::{
    check_engine_balance, CustomMetric, Io, PoolConfig, MAX_INSTANCES, MAX_SLOTS, MAX_ZONES,
};
pub use instance::Instance;
use instance::Level;

/// What happened to a request arriving at a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// A slot of this instance was free: start service now.
    Start(u32),
    /// All slots busy: it waits in the FIFO queue.
    Queued,
    /// All slots busy and the queue is full: rejected.
    Rejected,
    /// The balancer sent it to an instance that has failed and that its
    /// health checks have not yet taken out: it fails at once.
    Dead(u32),
}

/// The life of an instance: requested, provisioning (booting), warming
/// (health-check grace: up but not yet in the balancer or the metrics),
/// ready, draining on scale-in (finishes its requests, gets no new ones),
/// gone. It costs money from request to gone. A ready instance may fail
/// (see [`crate::fleet::failure`]): down while repaired in place, or
/// failed (terminated, no longer billed) when it is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Booting.
    Provisioning,
    /// Up, waiting for its readiness grace to pass.
    Warming,
    /// Serving.
    Ready,
    /// Finishing in-flight requests before it goes.
    Draining,
    /// Failed, being repaired in place: no work, still billed.
    Down,
    /// Failed and terminated (replaced by a new instance); gone once the
    /// requests it held have left. Not billed.
    Failed,
    /// Terminated.
    Gone,
}

/// Levels of the per-instance load distribution that are tracked: the
/// time-averaged number of instances with at least 1, 2, ... `LEVELS`
/// requests (in service or queued).
pub const LEVELS: usize = 8;

/// Per-instance queues and the balancer of a pool whose policy is not
/// `fifo`.
struct Dispatch {
    balancer: Balancer,
    rng: SimRng,
    /// Waiting visits per instance index.
    queues: Vec<VecDeque<u32>>,
    /// Requests in service or queued per instance index.
    load: Vec<u32>,
    /// Ready instance indices (the balancer's choices).
    ready: Vec<u32>,
    /// Sum of the queue lengths. (A visit that gives up leaves its queue
    /// at once: no tombstones here, see [`Patience::withdraw`].)
    queued: usize,
    /// Per visit slot: the instance it queued at (`queue_timeout`).
    waiting_at: Vec<u32>,
    /// Instances with load >= k + 1, time-averaged.
    at_least: [TimeAvg; LEVELS],
}

impl Dispatch {
    #[inline]
    fn inc(&mut self, inst: u32, now: Time) {
        let l = &mut self.load[inst as usize];
        if (*l as usize) < LEVELS {
            self.at_least[*l as usize].add(now, 1.0);
        }
        *l += 1;
    }

    #[inline]
    fn dec(&mut self, inst: u32, now: Time) {
        let l = &mut self.load[inst as usize];
        *l -= 1;
        if (*l as usize) < LEVELS {
            self.at_least[*l as usize].add(now, -1.0);
        }
    }

    /// Empties instance `inst`'s queue: the visits still waiting there.
    fn drain_live(
        &mut self,
        inst: u32,
        now: Time,
        patience: &mut Option<Box<Patience>>,
    ) -> Vec<u32> {
        let lost: Vec<u32> = self.queues[inst as usize].drain(..).collect();
        if let Some(p) = patience {
            lost.iter().for_each(|&v| p.left(v));
        }
        self.queued -= lost.len();
        for _ in &lost {
            self.dec(inst, now);
        }
        lost
    }

    fn set_ready(&mut self, inst: u32, ready: bool, instances: usize) {
        if self.queues.len() < instances {
            self.queues.resize_with(instances, VecDeque::new);
            self.load.resize(instances, 0);
        }
        if ready {
            self.ready.push(inst);
        } else {
            self.ready.retain(|&i| i != inst);
        }
        self.balancer.ready_changed(&self.ready);
    }
}

/// The running pool: its instances, their free slots, and the FIFO of
/// waiting visits (or per-instance queues behind a balancer).
pub struct Pool {
    /// Slots (threads, or an async pool's cores) of new instances: the
    /// configured `concurrency`, or a vertical autoscaler's size.
    concurrency: u32,
    /// The configured `concurrency` (what an instance's price is for).
    base_concurrency: u32,
    /// Slots of ready instances (they may differ in size).
    ready_slots: u64,
    instances: Vec<Instance>,
    /// One entry per free slot of a ready instance: (instance, generation).
    /// Entries of instances that left Ready are skipped when popped.
    free: Vec<(u32, u32)>,
    capacity: Option<u64>,
    queue: VecDeque<u32>,
    /// Deadlines of queued visits (`queue_timeout`).
    patience: Option<Box<Patience>>,
    rng: SimRng,
    ready: u32,
    busy_ready: u64,
    /// Requests computing on ready instances.
    cpu_ready: u64,
    /// `io = "async"`: slots are cores, held only while computing (see
    /// [`event_loop`]).
    io_async: bool,
    /// `io = "async"`: per instance index, the requests it holds that wait
    /// for a core to compute again (a CPU step after a call), in order.
    resuming: Vec<VecDeque<u32>>,
    /// `io = "async"`: the most requests an instance holds at once
    /// (`max_in_flight`; `u32::MAX` without a limit).
    max_in_flight: u32,
    dispatch: Option<Box<Dispatch>>,
    /// Availability zones (0: none declared).
    zones: u8,
    /// Zones down now (a bit per zone; bit 63: the whole fleet).
    down_zones: u64,
    /// Service times are multiplied by this (`[[outages]]` with a
    /// `slowdown`; 1 otherwise).
    slowdown: f64,
    /// CPU times are multiplied by this: the speed of the type they were
    /// measured on over the instances' own (see [`PoolConfig::pace`]).
    pace: f64,
    /// With no instance ready, arrivals fail at once (a fleet that fails:
    /// see [`Pool::unavailable`]).
    pub(crate) fail_fast: bool,
    /// Share of instances bought on spot (0: none).
    spot_share: f64,
    /// Failed instances stay in the rotation until the balancer sees them
    /// (its active or passive checks).
    pub(crate) checked: bool,
}

/// The next live visit of the FIFO `queue`, dropping the entries of
/// visits that gave up (see [`Patience`]).
#[inline]
fn pop_live(queue: &mut VecDeque<u32>, patience: &mut Option<Box<Patience>>) -> Option<u32> {
    let Some(p) = patience else {
        return queue.pop_front();
    };
    while let Some(v) = queue.pop_front() {
        if p.reach_head(v) {
            return Some(v);
        }
    }
    None
}

/// What releasing a slot led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Release {
    /// The next waiting visit, which now holds the released slot's instance.
    pub next: Option<(u32, u32)>,
    /// `next` is a request the instance holds, taking a core again to
    /// compute (`io = "async"`), not a new arrival.
    pub resumed: bool,
    /// The released instance finished draining and is gone.
    pub gone: bool,
}

impl Pool {
    /// Builds a pool from its (checked) configuration, all instances ready
    /// at time 0. `balance_rng` drives the balancer's random choices (a
    /// stream apart from the service times, so that changing the policy
    /// keeps the service draws).
    pub fn new(cfg: &PoolConfig, rng: SimRng, balance_rng: SimRng, patience_rng: SimRng) -> Self {
        let dispatch = cfg.balance.per_instance().then(|| {
            Box::new(Dispatch {
                balancer: Balancer::new(
                    cfg.balance,
                    cfg.weights.clone(),
                    cfg.virtual_nodes.unwrap_or(DEFAULT_VNODES),
                ),
                rng: balance_rng,
                queues: Vec::new(),
                load: Vec::new(),
                ready: Vec::new(),
                queued: 0,
                waiting_at: Vec::new(),
                at_least: Default::default(),
            })
        });
        let mut p = Pool {
            concurrency: cfg.concurrency(),
            base_concurrency: cfg.concurrency(),
            ready_slots: 0,
            instances: Vec::with_capacity(cfg.instances as usize),
            free: Vec::with_capacity(cfg.slots() as usize),
            capacity: cfg.queue_capacity,
            queue: VecDeque::with_capacity(1024),
            patience: cfg
                .queue_timeout
                .as_ref()
                .map(|law| Box::new(Patience::new(law, patience_rng))),
            rng,
            ready: 0,
            busy_ready: 0,
            cpu_ready: 0,
            io_async: cfg.io == Io::Async,
            resuming: Vec::new(),
            max_in_flight: cfg.max_in_flight.unwrap_or(u32::MAX),
            dispatch,
            zones: cfg.zones.len() as u8,
            down_zones: 0,
            slowdown: 1.0,
            pace: 1.0,
            fail_fast: cfg.failures.is_some()
                || cfg.spot.is_some_and(|s| s.interruptions.is_some()),
            spot_share: cfg.spot.map_or(0.0, |s| s.share),
            checked: cfg.health_check.is_some()
                || cfg.passive_check.is_some()
                || cfg.outlier_detection.is_some(),
        };
        for _ in 0..cfg.instances {
            let i = p.request(0);
            p.set_phase(i, Phase::Ready, 0);
        }
        p
    }

    /// A visit (of a request with `key`) arrives: take a slot, queue it, or
    /// reject it. Behind a balancer it goes to the chosen instance's slot
    /// or queue; with no ready instance it is rejected.
    #[inline]
    pub fn admit(&mut self, visit: u32, key: u64, now: Time) -> Admission {
        self.admit_avoiding(visit, key, now, None)
    }

    /// [`Pool::admit`] for a retry that should not go back to instance
    /// `avoid` (nginx `proxy_next_upstream`): behind a balancer, if the
    /// balancer picks it and another is listed, the next listed instance
    /// is taken instead.
    pub fn admit_avoiding(
        &mut self,
        visit: u32,
        key: u64,
        now: Time,
        avoid: Option<u32>,
    ) -> Admission {
        if self.dispatch.is_some() {
            let Some(inst) = self.pick(key, avoid) else {
                return Admission::Rejected;
            };
            if self.instances[inst as usize].phase != Phase::Ready {
                return Admission::Dead(inst);
            }
            let i = &self.instances[inst as usize];
            if i.busy < i.cores && i.in_flight() < self.max_in_flight {
                self.occupy(inst, now);
                return Admission::Start(inst);
            }
            let d = self.dispatch.as_deref_mut().expect("a balanced pool");
            let waiting = d.queues[inst as usize].len();
            return if self.capacity.is_none_or(|c| (waiting as u64) < c) {
                d.queues[inst as usize].push_back(visit);
                d.queued += 1;
                d.inc(inst, now);
                if self.patience.is_some() {
                    let s = visit as usize;
                    if d.waiting_at.len() <= s {
                        d.waiting_at.resize((s + 1).next_power_of_two(), 0);
                    }
                    d.waiting_at[s] = inst;
                }
                Admission::Queued
            } else {
                Admission::Rejected
            };
        }
        if let Some(inst) = self.take_slot() {
            self.occupy(inst, now);
            Admission::Start(inst)
        } else if self.capacity.is_none_or(|c| (self.queue_len() as u64) < c) {
            self.queue.push_back(visit);
            Admission::Queued
        } else {
            Admission::Rejected
        }
    }

    /// For instances that serve in batches (LLM replicas, dynamic
    /// batchers): picks a ready instance with the balancer and counts the
    /// visit on it with no slot limit (the instance's own engine queues
    /// it). None when no instance is ready.
    pub fn route(&mut self, key: u64, now: Time) -> Option<u32> {
        let inst = self.pick(key, None)?;
        if self.instances[inst as usize].phase != Phase::Ready {
            return None;
        }
        self.occupy(inst, now);
        Some(inst)
    }

    /// Behind a balancer: the ready instance it picks for `key` (None
    /// without a balancer or a ready instance).
    #[inline]
    fn pick(&mut self, key: u64, avoid: Option<u32>) -> Option<u32> {
        let d = self.dispatch.as_deref_mut()?;
        if d.ready.is_empty() {
            return None;
        }
        let i = d.balancer.pick(&d.ready, &d.load, key, &mut d.rng);
        if avoid != Some(i) || d.ready.len() == 1 {
            return Some(i);
        }
        let at = d.ready.iter().position(|&r| r == i).unwrap_or(0);
        Some(d.ready[(at + 1) % d.ready.len()])
    }

    /// Pops a free slot of a ready instance.
    #[inline]
    fn take_slot(&mut self) -> Option<u32> {
        while let Some((inst, gen)) = self.free.pop() {
            let i = &mut self.instances[inst as usize];
            if i.generation != gen {
                continue;
            }
            i.offered -= 1;
            // An async instance's free core is offered once per release;
            // it may have been taken since by a request it holds, or the
            // instance be at its in-flight limit.
            if i.phase == Phase::Ready && i.busy < i.cores && i.in_flight() < self.max_in_flight {
                return Some(inst);
            }
        }
        None
    }

    /// Instance `inst` takes one more request (counted in its balancer's
    /// load, if any).
    #[inline]
    fn occupy(&mut self, inst: u32, now: Time) {
        let i = &mut self.instances[inst as usize];
        i.set_busy(now, i.busy + 1);
        self.busy_ready += 1;
        if let Some(d) = self.dispatch.as_deref_mut() {
            d.inc(inst, now);
        }
    }

    /// A slot of `inst` is released; the next waiting visit takes it if
    /// the instance is still ready.
    #[inline]
    pub fn release(&mut self, inst: u32, now: Time) -> Release {
        let i = &mut self.instances[inst as usize];
        if let Some(d) = self.dispatch.as_deref_mut() {
            d.dec(inst, now);
            // Its own queue first, draining or not: the slot stays busy.
            if let Some(v) = d.queues[inst as usize].pop_front() {
                if let Some(p) = self.patience.as_deref_mut() {
                    p.left(v);
                }
                d.queued -= 1;
                return Release {
                    next: Some((v, inst)),
                    resumed: false,
                    gone: false,
                };
            }
            i.set_busy(now, i.busy - 1);
            if i.phase == Phase::Ready {
                self.busy_ready -= 1;
                return Release {
                    next: None,
                    resumed: false,
                    gone: false,
                };
            }
            return Release {
                next: None,
                resumed: false,
                gone: i.unready_release(),
            };
        }
        match i.phase {
            Phase::Ready => {
                if let Some(v) = pop_live(&mut self.queue, &mut self.patience) {
                    return Release {
                        next: Some((v, inst)),
                        resumed: false,
                        gone: false,
                    };
                }
                i.set_busy(now, i.busy - 1);
                self.busy_ready -= 1;
                let gen = i.generation;
                i.offered += 1;
                self.free.push((inst, gen));
                Release {
                    next: None,
                    resumed: false,
                    gone: false,
                }
            }
            _ => {
                i.set_busy(now, i.busy - 1);
                Release {
                    next: None,
                    resumed: false,
                    gone: i.unready_release(),
                }
            }
        }
    }

    /// Takes instance `inst` out of the balancer's rotation (its failure
    /// was detected); false if it was not in it.
    pub fn delist(&mut self, inst: u32) -> bool {
        let n = self.instances.len();
        let i = &mut self.instances[inst as usize];
        let Some(d) = self.dispatch.as_deref_mut().filter(|_| i.listed) else {
            return false;
        };
        i.listed = false;
        d.set_ready(inst, false, n);
        true
    }

    /// Passive checks take instance `inst` out of the rotation until
    /// [`Pool::relist`]; false if it was not in it.
    pub fn eject(&mut self, inst: u32) -> bool {
        let out = self.delist(inst);
        if out {
            self.instances[inst as usize].ejected = true;
        }
        out
    }

    /// Instances in the balancer's rotation (0 without a balancer).
    pub fn listed(&self) -> u32 {
        self.dispatch.as_deref().map_or(0, |d| d.ready.len() as u32)
    }

    /// Puts instance `inst`, taken out by passive checks, back in the
    /// rotation: ready, or down (it fails the next request, the probe).
    /// False if it is listed already or no longer there to probe.
    pub fn relist(&mut self, inst: u32) -> bool {
        let n = self.instances.len();
        let i = &mut self.instances[inst as usize];
        i.ejected = false;
        if i.listed || !matches!(i.phase, Phase::Ready | Phase::Down) {
            return false;
        }
        let Some(d) = self.dispatch.as_deref_mut() else {
            return false;
        };
        i.listed = true;
        d.set_ready(inst, true, n);
        true
    }

    /// Requests a new instance at `now` (phase Provisioning); returns its
    /// index. Indices of gone instances are reused. It is bought on spot
    /// if the fleet's spot share asks for it (see [`Pool::request_as`]).
    pub fn request(&mut self, now: Time) -> u32 {
        self.request_as(now, None)
    }

    /// [`Pool::request`] on spot or on demand as `spot` says (None: as the
    /// fleet's share asks: on demand while fewer than the rounded-up
    /// on-demand share of the billed instances are, as an EC2 Auto
    /// Scaling mixed instances policy rounds in favour of On-Demand).
    pub fn request_as(&mut self, now: Time, spot: Option<bool>) -> u32 {
        let spot = spot.unwrap_or_else(|| {
            let billed = self.instances.iter().filter(|i| i.billed());
            let (n, od) = billed.fold((1u32, 0u32), |(n, od), i| (n + 1, od + !i.spot as u32));
            self.spot_share > 0.0 && od as f64 >= ((1.0 - self.spot_share) * n as f64 - 1e-9).ceil()
        });
        let inst = Instance {
            phase: Phase::Provisioning,
            requested_at: now,
            ready_at: Time::MAX,
            busy: 0,
            away: 0,
            offered: 0,
            cpu: Level::default(),
            busy_area: 0.0,
            last_change: now,
            generation: 0,
            lives: 0,
            zone: self.placement(),
            listed: false,
            spot,
            interrupted: false,
            fallback: false,
            failed_at: Time::MAX,
            ejected: false,
            speed: 1.0,
            cores: self.concurrency,
            crashes: 0,
            size: self.concurrency as f64 / self.base_concurrency.max(1) as f64,
        };
        match self
            .instances
            .iter()
            .position(|i| i.phase == Phase::Gone && !i.listed)
        {
            Some(k) => {
                let gen = self.instances[k].generation;
                self.instances[k] = Instance {
                    generation: gen + 1,
                    lives: self.instances[k].lives,
                    ..inst
                };
                k as u32
            }
            None => {
                self.instances.push(inst);
                (self.instances.len() - 1) as u32
            }
        }
    }

    /// Moves instance `inst` to `phase` at `now`. Ready adds its slots
    /// (less those still held by requests lost to its failure, while they
    /// leave); leaving Ready invalidates them. Returns false when the
    /// instance is gone, draining or failed (a stale lifecycle event).
    pub fn set_phase(&mut self, inst: u32, phase: Phase, now: Time) -> bool {
        let i = &mut self.instances[inst as usize];
        let c = i.cores;
        if matches!(i.phase, Phase::Gone | Phase::Draining | Phase::Failed) {
            return false;
        }
        let was_ready = i.phase == Phase::Ready;
        i.phase = phase;
        if phase == Phase::Ready && !was_ready {
            i.ready_at = now;
            let gen = i.generation;
            self.ready += 1;
            self.ready_slots += c as u64;
            self.busy_ready += i.busy as u64;
            self.cpu_ready += i.cpu.n as u64;
            let free = c - i.busy.min(c);
            if let Some(d) = self.dispatch.as_deref_mut() {
                if !i.listed && !i.ejected {
                    i.listed = true;
                    d.set_ready(inst, true, self.instances.len());
                }
                return true;
            }
            i.offered = free;
            for _ in 0..free {
                self.free.push((inst, gen));
            }
        }
        true
    }

    /// Ready instance `inst` fails at `now`: it leaves the balancer and
    /// its slots are no longer offered. The requests it holds are lost as
    /// they next step (their instance's [`Instance::lives`] moved on); the
    /// visits queued at it (behind a balancer) are returned, lost now.
    /// `repair`: it stays, down and billed, until [`Pool::set_phase`]
    /// makes it ready again; else it is terminated, gone once what it holds
    /// has left.
    pub fn fail(&mut self, inst: u32, now: Time, repair: bool, delist: bool) -> Vec<u32> {
        let n = self.instances.len();
        let i = &mut self.instances[inst as usize];
        debug_assert_eq!(i.phase, Phase::Ready);
        Self::leave_ready(
            (&mut self.ready, &mut self.ready_slots),
            &mut self.busy_ready,
            &mut self.cpu_ready,
            i,
        );
        i.generation += 1;
        i.lives += 1;
        i.failed_at = now;
        i.phase = match (repair, i.in_flight()) {
            (true, _) => Phase::Down,
            (false, 0) => Phase::Gone,
            (false, _) => Phase::Failed,
        };
        let mut lost = Vec::new();
        if let Some(d) = self.dispatch.as_deref_mut() {
            if delist {
                i.listed = false;
                d.set_ready(inst, false, n);
            }
            lost = d.drain_live(inst, now, &mut self.patience);
        }
        lost
    }

    /// Instance `i` leaves Ready: its slots, busy and computing ones no
    /// longer count among the ready ones (fields apart, for the borrow of
    /// `i`).
    fn leave_ready(ready: (&mut u32, &mut u64), busy: &mut u64, cpu: &mut u64, i: &Instance) {
        *ready.0 -= 1;
        *ready.1 -= i.cores as u64;
        *busy -= i.busy as u64;
        *cpu -= i.cpu.n as u64;
    }

    /// Instance `inst` was launched on demand in place of a reclaimed spot
    /// instance (`true`).
    pub fn set_fallback(&mut self, inst: u32, fallback: bool) {
        self.instances[inst as usize].fallback = fallback;
    }

    /// EC2 gave instance `inst` its interruption notice.
    pub fn set_interrupted(&mut self, inst: u32) {
        self.instances[inst as usize].interrupted = true;
    }

    /// Ready instance `inst` leaves the rotation and finishes what it
    /// holds (its queue too, behind a balancer): draining, as on scale-in.
    /// Returns true when it held nothing and is gone now.
    pub fn drain(&mut self, inst: u32) -> bool {
        let n = self.instances.len();
        let i = &mut self.instances[inst as usize];
        debug_assert_eq!(i.phase, Phase::Ready);
        Self::leave_ready(
            (&mut self.ready, &mut self.ready_slots),
            &mut self.busy_ready,
            &mut self.cpu_ready,
            i,
        );
        i.generation += 1;
        if let Some(d) = self.dispatch.as_deref_mut().filter(|_| i.listed) {
            i.listed = false;
            d.set_ready(inst, false, n);
        }
        let queued = self
            .dispatch
            .as_deref()
            .is_some_and(|d| !d.queues[inst as usize].is_empty());
        let gone = i.in_flight() == 0 && !queued;
        i.phase = if gone { Phase::Gone } else { Phase::Draining };
        gone
    }

    /// Draining instance `inst` is terminated now: what it still holds is
    /// lost as it next steps, what waits at it (behind a balancer) is
    /// returned, lost now; gone once its held requests have left.
    pub fn reclaim(&mut self, inst: u32, now: Time) -> Vec<u32> {
        let i = &mut self.instances[inst as usize];
        debug_assert_eq!(i.phase, Phase::Draining);
        i.generation += 1;
        i.lives += 1;
        i.phase = if i.in_flight() == 0 {
            Phase::Gone
        } else {
            Phase::Failed
        };
        match self.dispatch.as_deref_mut() {
            Some(d) => d.drain_live(inst, now, &mut self.patience),
            None => Vec::new(),
        }
    }

    /// Waiting visits that can start now on free slots (after an instance
    /// became ready): (visit, instance).
    pub fn next_waiting(&mut self, now: Time) -> Option<(u32, u32)> {
        // Behind a balancer, a new instance gets new arrivals only.
        // Only live entries count: a queue of tombstones takes no slot.
        if self.queue_len() == 0 || self.dispatch.is_some() {
            return None;
        }
        let inst = self.take_slot()?;
        self.occupy(inst, now);
        pop_live(&mut self.queue, &mut self.patience).map(|v| (v, inst))
    }

    /// Removes `k` instances at `now`: not-yet-ready ones first (they go at
    /// once), then the newest ready ones (they drain). Returns the indices
    /// of instances that are gone now.
    pub fn remove(&mut self, k: u32, now: Time) -> Vec<u32> {
        let mut gone = Vec::new();
        let mut order: Vec<u32> = (0..self.instances.len() as u32)
            .filter(|&i| {
                matches!(
                    self.instances[i as usize].phase,
                    Phase::Provisioning | Phase::Warming | Phase::Ready | Phase::Down
                )
            })
            .collect();
        // Pending first, then ready by most recent readiness, newest first.
        order.sort_by_key(|&i| {
            let x = &self.instances[i as usize];
            (
                x.phase == Phase::Ready,
                std::cmp::Reverse(x.ready_at),
                std::cmp::Reverse(x.requested_at),
                std::cmp::Reverse(i),
            )
        });
        let n = self.instances.len();
        for &inst in order.iter().take(k as usize) {
            let i = &mut self.instances[inst as usize];
            if i.phase == Phase::Ready {
                Self::leave_ready(
                    (&mut self.ready, &mut self.ready_slots),
                    &mut self.busy_ready,
                    &mut self.cpu_ready,
                    i,
                );
            }
            if let Some(d) = self.dispatch.as_deref_mut().filter(|_| i.listed) {
                i.listed = false;
                d.set_ready(inst, false, n);
            }
            i.generation += 1;
            if i.in_flight() == 0 {
                i.phase = Phase::Gone;
                gone.push(inst);
            } else {
                i.phase = Phase::Draining;
            }
            let _ = now;
        }
        gone
    }

    /// Draws a CPU time of law `law` on instance `inst` (from the service
    /// stream; slowed by an outage's `slowdown`, scaled by the instance
    /// type's speed and its credits).
    #[inline]
    pub fn draw(&mut self, law: &Dist, inst: u32) -> Time {
        let t = law.sample(&mut self.rng);
        let k = self.slowdown * self.pace / self.instances[inst as usize].speed;
        if k == 1.0 {
            t
        } else {
            (t as f64 * k) as Time
        }
    }

    /// CPU times are multiplied by `pace` (see [`PoolConfig::pace`]).
    pub fn set_pace(&mut self, pace: f64) {
        self.pace = pace;
    }

    /// Instance `inst`'s CPU steps start at `speed` from now on (1: full).
    pub fn set_speed(&mut self, inst: u32, speed: f64) {
        self.instances[inst as usize].speed = speed;
    }

    /// The zone a new instance goes to: of the zones not down, the one
    /// with the fewest live instances (the first on ties), as EC2 Auto
    /// Scaling balances capacity across Availability Zones and launches in
    /// healthy ones when one is impaired.
    fn placement(&self) -> u8 {
        if self.zones <= 1 {
            return 0;
        }
        let mut live = [0u32; MAX_ZONES];
        for i in &self.instances {
            if !matches!(i.phase, Phase::Gone | Phase::Failed) {
                live[i.zone as usize] += 1;
            }
        }
        let up = |z: u8| self.down_zones & (1 << z) == 0;
        let pick = |only_up: bool| {
            (0..self.zones)
                .filter(|&z| !only_up || up(z))
                .min_by_key(|&z| live[z as usize])
        };
        pick(true).or(pick(false)).unwrap_or(0)
    }

    /// Whether zone `zone` (or the whole fleet) is down now.
    pub fn zone_down(&self, zone: u8) -> bool {
        self.down_zones & (1 << zone | 1 << 63) != 0
    }

    /// Marks zone `zone` (None: the whole fleet) down or up.
    pub fn set_zone_down(&mut self, zone: Option<u8>, down: bool) {
        let bit = 1u64 << zone.unwrap_or(63);
        if down {
            self.down_zones |= bit;
        } else {
            self.down_zones &= !bit;
        }
    }

    /// Sets the factor on service times (1: none).
    pub fn set_slowdown(&mut self, k: f64) {
        self.slowdown = k;
    }

    /// Busy slots on ready instances.
    pub fn busy(&self) -> u64 {
        self.busy_ready
    }

    /// Requests computing on ready instances (CPU-busy slots; see
    /// [`Pool::compute`]).
    pub fn computing(&self) -> u64 {
        self.cpu_ready
    }

    /// A request of instance `inst` starts (`true`) or ends a CPU step at
    /// `now`: a blocking thread computing, or an async core taken.
    #[inline]
    pub fn compute(&mut self, inst: u32, now: Time, start: bool) {
        let i = &mut self.instances[inst as usize];
        i.cpu.add(now, if start { 1 } else { -1 });
        if i.phase == Phase::Ready {
            if start {
                self.cpu_ready += 1;
            } else {
                self.cpu_ready -= 1;
            }
        }
    }

    /// How long instance `inst`, crashed now, takes to restart: `first`
    /// doubled for each crash in a row, at most 5 minutes, the count reset
    /// once it has run 10 minutes without a crash (the kubelet's
    /// CrashLoopBackOff: "10s, 20s, 40s, ..., capped at five minutes ...
    /// reset after 10 minutes", Kubernetes docs, Pod Lifecycle). Returns
    /// (delay, true when backed off).
    pub fn restart_delay(&mut self, inst: u32, now: Time, first: Time) -> (Time, bool) {
        const CAP: Time = 300_000_000_000;
        const RESET: Time = 600_000_000_000;
        let i = &mut self.instances[inst as usize];
        if i.ready_at == Time::MAX || now.saturating_sub(i.ready_at) >= RESET {
            i.crashes = 0;
        }
        let k = i.crashes;
        i.crashes = i.crashes.saturating_add(1).min(30);
        let delay = first.saturating_mul(1 << k.min(30)).min(CAP.max(first));
        (delay, k > 0)
    }

    /// The slots new instances get (see [`Pool::set_size`]).
    pub fn size(&self) -> u32 {
        self.concurrency
    }

    /// New instances get `cores` slots (a vertical autoscaler's size);
    /// instances already there keep theirs.
    pub fn set_size(&mut self, cores: u32) {
        self.concurrency = cores.max(1);
    }

    /// Slots of ready instances.
    pub fn slots(&self) -> u64 {
        self.ready_slots
    }

    /// Ready instances.
    pub fn ready(&self) -> u32 {
        self.ready
    }

    /// Instances counted as capacity: provisioning, warming, ready or down
    /// for repair.
    pub fn desired(&self) -> u32 {
        self.count(|p| {
            matches!(
                p,
                Phase::Provisioning | Phase::Warming | Phase::Ready | Phase::Down
            )
        })
    }

    /// Instances being billed: everything not gone or failed.
    pub fn billed(&self) -> u32 {
        self.count(|p| !matches!(p, Phase::Gone | Phase::Failed))
    }

    fn count(&self, f: impl Fn(Phase) -> bool) -> u32 {
        self.instances.iter().filter(|i| f(i.phase)).count() as u32
    }

    /// Every instance slot, gone ones included (indices are stable).
    pub fn instances(&self) -> &[Instance] {
        &self.instances
    }

    /// Waiting visits (all instances' queues behind a balancer).
    pub fn queue_len(&self) -> usize {
        match &self.dispatch {
            Some(d) => d.queued,
            None => self.queue.len() - self.patience.as_ref().map_or(0, |p| p.stale()),
        }
    }

    /// Visit `visit` was queued: its ticket and patience, when the pool
    /// has a `queue_timeout`.
    pub fn patience(&mut self, visit: u32) -> Option<(u32, Time)> {
        self.patience.as_mut().map(|p| p.wait(visit))
    }

    /// The deadline `ticket` of queued visit `visit` passed: true when it
    /// was still waiting and gives up now.
    pub fn give_up(&mut self, visit: u32, ticket: u32, now: Time) -> bool {
        let Some(p) = self.patience.as_deref_mut() else {
            return false;
        };
        let Some(d) = self.dispatch.as_deref_mut() else {
            // The shared FIFO keeps its entry as a tombstone.
            return p.expire(visit, ticket);
        };
        if !p.withdraw(visit, ticket) {
            return false;
        }
        // Behind a balancer its entry leaves its instance's queue now
        // (a short queue: found by a scan).
        let inst = d.waiting_at[visit as usize];
        let q = &mut d.queues[inst as usize];
        if let Some(k) = q.iter().position(|&v| v == visit) {
            q.remove(k);
        }
        d.queued -= 1;
        d.dec(inst, now);
        true
    }

    /// The balancing policy in use.
    pub fn balanced(&self) -> bool {
        self.dispatch.is_some()
    }

    /// Behind a balancer: integrals up to `now` of the number of instances
    /// with at least 1, 2, ... [`LEVELS`] requests (instance-nanoseconds).
    pub fn load_integrals(&self, now: Time) -> Option<[f64; LEVELS]> {
        self.dispatch
            .as_ref()
            .map(|d| std::array::from_fn(|k| d.at_least[k].integral(now)))
    }
}
