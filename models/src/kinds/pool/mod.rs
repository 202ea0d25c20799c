//! `kind = "pool"`: servers behind one queue (or a balancer). A visit
//! waits for a slot of an instance, is served, then makes its `calls` one
//! after the other, each through the instance's connection pool to the
//! callee when `connections` limits it: holding its slot (a thread,
//! `io = "blocking"`), or giving its core back while it awaits them
//! (`io = "async"`, see [`crate::fleet::pool`]'s event loop). The fleet of
//! instances ([`Pool`]) boots, scales, drains and bills.

use crate::fleet::cost::Pricing;
use crate::fleet::credits::{Credits, TICK};
use crate::fleet::memory::Memory;
use crate::fleet::passive::Passive;
use crate::fleet::pool::{Admission, Phase, Pool, PoolConfig, Release};
use crate::flow::{Caller, Component, Cx, Outcome, Visit, VisitId, Wake};
use crate::kinds::{BuildCx, CheckCx, Kind, KindConfig};
use crate::measure::{ComponentReport, Counters, Stats, TsRow};
use rand::Rng;
use scalesim_sim::stats::Tally;
use scalesim_sim::{from_secs, stream, to_secs, SimRng, Time};
use std::collections::VecDeque;
use steps::{Step, What};

pub mod steps;

/// Bytes in a MiB.
const MIB: f64 = (1u64 << 20) as f64;

/// A visit finished its local service.
const SERVED: u8 = 0;
/// A queued visit's `queue_timeout` passed (`b`: its ticket).
const PATIENCE: u8 = 1;
/// An instance taken out by passive checks has sat out `fail_timeout`
/// (`a`: the instance, `b`: its generation then).
const RELIST: u8 = 2;
/// A visit goes on to its next call (after a connection was handed on).
const NEXT: u8 = 3;
/// Burstable instances' credit balances are brought up to date.
const CREDIT: u8 = 4;

/// A pool as it runs.
pub struct PoolKind {
    pool: Pool,
    /// What a request does (see [`steps`]).
    program: Vec<Step>,
    /// The first CPU step: an `error_rate` answer is given at its end.
    first_cpu: usize,
    /// Every request computes first (the short form): on the slot it took.
    cpu_first: bool,
    /// Draws of the steps taken by a share of requests.
    step_rng: SimRng,
    /// Connection pools of the limited callees.
    conns: Vec<ConnPool>,
    /// Each limited call's wait for a connection (0 when one was free), for
    /// calls made after warm-up.
    conn_wait: Tally,
    /// Once an instance of it may have failed (it has `failures`, or one
    /// failed in an outage): per visit slot, the
    /// [`lives`](crate::fleet::pool::Instance::lives) of its instance when
    /// its service started (a visit whose instance has failed since is
    /// lost at its next step). Visits that started before tracking began
    /// read 0, as every instance had then.
    lives: Option<Vec<u32>>,
    /// `error_rate` and its stream.
    errors: Option<(f64, SimRng)>,
    /// nginx passive checks at the balancer.
    passive: Option<Passive>,
    /// A burstable fleet's CPU credits, and whether their tick has started.
    credits: Option<(Box<Credits>, bool)>,
    /// What its instances hold in memory, and what it has done.
    memory: Option<Box<MemoryUse>>,
}

/// A pool's memory as it runs (see [`crate::fleet::memory`]).
struct MemoryUse {
    m: Memory,
    /// The most any instance held, bytes.
    peak: f64,
    /// OOM kills so far.
    kills: u64,
    /// Per instance: bytes held by what lives inside it (an in-process
    /// cache's entries, [`Cx::held`]) when a request last started there.
    held: Vec<(u32, f64)>,
}

impl PoolKind {
    /// With `memory`: the mean over ready instances of usage / request
    /// now, as the Kubernetes resource metrics API computes a pod's memory
    /// utilization (None: none ready).
    fn memory_use(&self) -> Option<f64> {
        let u = self.memory.as_ref()?;
        let ready: Vec<f64> = self
            .pool
            .instances()
            .iter()
            .enumerate()
            .filter(|(_, x)| x.phase == Phase::Ready)
            .map(|(i, x)| {
                let held = match u.held.get(i) {
                    Some(&(g, b)) if g == x.generation() => b,
                    _ => 0.0,
                };
                (u.m.usage(x.in_flight()) + held) / u.m.request
            })
            .collect();
        (!ready.is_empty()).then(|| ready.iter().sum::<f64>() / ready.len() as f64)
    }
}

/// The connections of every instance of a pool to one called component.
struct ConnPool {
    limit: u32,
    /// Open connections per instance.
    in_use: Vec<u32>,
    /// Visits waiting for a connection per instance: (visit, since).
    waiting: Vec<VecDeque<(VisitId, Time)>>,
}

impl ConnPool {
    fn slot(&mut self, inst: u32) -> usize {
        let i = inst as usize;
        if self.in_use.len() <= i {
            self.in_use.resize(i + 1, 0);
            self.waiting.resize_with(i + 1, VecDeque::new);
        }
        i
    }
}

impl PoolKind {
    /// Builds pool `name` (its RNG streams are named after it).
    pub fn new(p: &PoolConfig, name: &str, seed: u64, rep: u32, b: &BuildCx) -> PoolKind {
        let limited: Vec<(&String, u32)> = p.connections.iter().map(|(c, &l)| (c, l)).collect();
        let conn = |c: &str| limited.iter().position(|(n, _)| n.as_str() == c);
        let program = Step::program(
            p.service.as_ref(),
            &p.calls,
            &p.steps,
            b.id,
            &conn,
            b.classes,
        );
        let mut pool = Pool::new(
            p,
            stream(seed, rep, name, "service"),
            stream(seed, rep, name, "balance"),
            stream(seed, rep, name, "patience"),
        );
        pool.set_pace(p.pace(b.cost));
        PoolKind {
            pool,
            credits: Credits::new(p.instance_type.as_deref(), p.credits.as_ref())
                .map(|c| (Box::new(c), false)),
            memory: p.memory_figures().and_then(Result::ok).map(|m| {
                Box::new(MemoryUse {
                    m,
                    peak: 0.0,
                    kills: 0,
                    held: Vec::new(),
                })
            }),
            first_cpu: program
                .iter()
                .position(|s| matches!(s.what, What::Cpu(_)))
                .unwrap_or(usize::MAX),
            cpu_first: program.first().is_some_and(|f| {
                matches!(f.what, What::Cpu(_)) && f.share.is_none() && f.classes.is_empty()
            }),
            program,
            step_rng: stream(seed, rep, name, "steps"),
            conns: limited
                .iter()
                .map(|&(_, limit)| ConnPool {
                    limit,
                    in_use: Vec::new(),
                    waiting: Vec::new(),
                })
                .collect(),
            conn_wait: Tally::default(),
            lives: p.failures.as_ref().map(|_| Vec::new()),
            errors: p
                .error_rate
                .filter(|&e| e > 0.0)
                .map(|e| (e, stream(seed, rep, name, "errors"))),
            passive: p
                .passive_check
                .as_ref()
                .map(Passive::nginx)
                .or_else(|| p.outlier_detection.as_ref().map(Passive::envoy)),
        }
    }

    /// An attempt at instance `inst` failed (a refused connection, a
    /// request lost with it): passive checks may take it out.
    fn attempt_failed(&mut self, cx: &mut Cx, inst: u32) {
        let Some(p) = self.passive.as_mut() else {
            return;
        };
        let fleet = self.pool.listed() + p.out();
        let Some(dt) = p.failed(inst, cx.now, fleet) else {
            return;
        };
        if !self.pool.eject(inst) {
            p.back(inst, cx.now);
            return;
        }
        let x = self.pool.instances()[inst as usize];
        if x.phase != Phase::Ready {
            p.ejected(inst, x.failed_at, cx.now, cx.warmup());
        }
        cx.after(dt, RELIST, inst, x.generation());
    }

    /// Visit `v` is lost with its instance.
    fn lose(&mut self, cx: &mut Cx, v: VisitId) {
        let inst = cx.visit(v).inst;
        cx.lose(v);
        self.attempt_failed(cx, inst);
    }

    /// Whether visit `v`'s instance failed since its service started.
    #[inline]
    fn lost(&self, cx: &Cx, v: VisitId) -> bool {
        lost(&self.lives, &self.pool, cx, v)
    }

    /// Visit `v` has taken a slot of `inst`: count its wait, run its
    /// first step.
    #[inline]
    fn start_service(&mut self, cx: &mut Cx, mut v: VisitId, mut inst: u32) {
        loop {
            cx.visit_mut(v).inst = inst;
            if !cx.cancelled(v) {
                break;
            }
            // Its caller gave up and cancelled it while it waited: the
            // slot it was given goes to the next (a thread as the visit
            // leaves; an async core at once).
            cx.drop_cancelled(v);
            if !self.pool.io_async() {
                return;
            }
            let r = self.pool.suspend(inst, cx.now);
            cx.stats.busy.set(cx.now, self.pool.busy() as f64);
            match r.next {
                Some((next, i)) if !r.resumed => {
                    cx.stats.queue.add(cx.now, -1.0);
                    (v, inst) = (VisitId::from_slot(next), i);
                }
                Some((next, _)) => return self.compute(cx, VisitId::from_slot(next)),
                None => return,
            }
        }
        if let Some(lives) = &mut self.lives {
            let i = v.slot() as usize;
            if lives.len() <= i {
                lives.resize((i + 1).next_power_of_two(), 0);
            }
            lives[i] = self.pool.instances()[inst as usize].lives();
        }
        if let Some(mem) = &mut self.memory {
            let x = self.pool.instances()[inst as usize];
            let held = cx.held(inst, x.generation());
            // Kept for the memory metric, which is read without a Cx.
            let i = inst as usize;
            if mem.held.len() <= i {
                mem.held.resize(i + 1, (0, 0.0));
            }
            mem.held[i] = (x.generation(), held);
            let used = mem.m.usage(x.in_flight()) + held;
            mem.peak = mem.peak.max(used.min(mem.m.limit));
            if used > mem.m.limit {
                // The kernel's OOM killer ends the process.
                mem.kills += 1;
                self.lives.get_or_insert_with(Vec::new);
                cx.kill_instance(inst, x.generation(), from_secs(mem.m.restart_s));
            }
        }
        cx.started(v);
        let visit = cx.visit(v);
        let wait = to_secs(cx.now - visit.enter);
        cx.stats.window_wait.add(wait);
        if visit.enter >= cx.warmup() {
            cx.stats.wait.add(wait);
        }
        if self.cpu_first {
            // The common case: it computes first, on the slot it took.
            cx.visit_mut(v).step = 1;
            return self.compute(cx, v);
        }
        if self.pool.io_async() {
            self.suspend(cx, v);
        }
        self.advance(cx, v);
    }

    /// Visit `v` computes its step `step - 1` (on its thread, or on the
    /// core it holds).
    #[inline]
    fn compute(&mut self, cx: &mut Cx, v: VisitId) {
        let k = cx.visit(v).step as usize - 1;
        let What::Cpu(law) = &self.program[k].what else {
            unreachable!("a CPU step")
        };
        let inst = cx.visit(v).inst;
        let dt = self.pool.draw(law, inst);
        self.pool.compute(inst, cx.now, true);
        cx.stats.cpu.set(cx.now, self.pool.computing() as f64);
        cx.after(dt, SERVED, v.slot(), 0);
    }

    /// Async visit `v` gives its core up (its CPU step is over): the next
    /// waiting visit takes it.
    fn suspend(&mut self, cx: &mut Cx, v: VisitId) {
        let r = self.pool.suspend(cx.visit(v).inst, cx.now);
        cx.stats.busy.set(cx.now, self.pool.busy() as f64);
        self.hand_on(cx, r);
    }

    /// A slot freed by `r` went to the next visit: it starts, or computes
    /// again.
    #[inline]
    fn hand_on(&mut self, cx: &mut Cx, r: Release) {
        match r.next {
            Some((next, _)) if r.resumed => self.compute(cx, VisitId::from_slot(next)),
            Some((next, inst)) => {
                cx.stats.queue.add(cx.now, -1.0);
                self.start_service(cx, VisitId::from_slot(next), inst);
            }
            None => {}
        }
    }

    /// Visit `v` runs its next step taken, or ends.
    #[inline]
    fn advance(&mut self, cx: &mut Cx, v: VisitId) {
        let r = cx.request_of(v);
        let (class, missed) = (r.class, r.missed);
        loop {
            let visit = cx.visit(v);
            let k = visit.step as usize;
            let Some(step) = self.program.get(k) else {
                return cx.leave(v, Outcome::Ok);
            };
            // Cancelled by its caller: the steps left are not run (an
            // answer with nothing left to do is given, and wasted).
            if cx.cancelled(v) {
                return cx.drop_cancelled(v);
            }
            cx.visit_mut(v).step += 1;
            if !step.taken(class, missed, || self.step_rng.random::<f64>()) {
                continue;
            }
            match step.what {
                What::Cpu(_) => {
                    if !self.pool.io_async() {
                        self.compute(cx, v);
                    } else if self.pool.resume(visit.inst, v.slot(), cx.now) {
                        cx.stats.busy.set(cx.now, self.pool.busy() as f64);
                        self.compute(cx, v);
                    }
                    // Else it waits for a core of its instance.
                }
                What::Call { to, conns } => {
                    if let Some(cp) = conns.map(|c| &mut self.conns[c]) {
                        let i = cp.slot(visit.inst);
                        if cp.in_use[i] >= cp.limit {
                            // Every connection of this instance is busy: wait.
                            cp.waiting[i].push_back((v, cx.now));
                            return;
                        }
                        cp.in_use[i] += 1;
                        if cx.now >= cx.warmup() {
                            self.conn_wait.add(0.0);
                        }
                    }
                    cx.call(v, to);
                }
            }
            return;
        }
    }

    /// Visit `v`'s call (step `step - 1`) has answered: its connection (if
    /// limited) goes to the next visit of that instance waiting for one.
    #[inline]
    fn release_connection(&mut self, cx: &mut Cx, v: VisitId) {
        let visit = cx.visit(v);
        let k = visit.step as usize - 1;
        let What::Call { to, conns: Some(c) } = self.program[k].what else {
            return;
        };
        let cp = &mut self.conns[c];
        let i = cp.slot(visit.inst);
        while let Some((w, since)) = cp.waiting[i].pop_front() {
            if lost(&self.lives, &self.pool, cx, w) {
                // Its instance failed while it waited for the connection.
                cx.lose(w);
                continue;
            }
            let wait = to_secs(cx.now - since);
            if cx.now >= cx.warmup() {
                self.conn_wait.add(wait);
            }
            cx.call(w, to);
            return;
        }
        cp.in_use[i] -= 1;
    }
}

/// Whether visit `v` of `pool` is lost: its instance failed since its
/// service started (`lives`: see [`PoolKind`]).
#[inline]
fn lost(lives: &Option<Vec<u32>>, pool: &Pool, cx: &Cx, v: VisitId) -> bool {
    let Some(lives) = lives else {
        return false;
    };
    let inst = cx.visit(v).inst as usize;
    lives.get(v.slot() as usize).copied().unwrap_or(0) != pool.instances()[inst].lives()
}

impl Component for PoolKind {
    #[inline]
    fn enter(&mut self, cx: &mut Cx, v: VisitId, _caller: Caller) {
        if let Some((_, started @ false)) = &mut self.credits {
            *started = true;
            cx.after(0, CREDIT, 0, 0);
        }
        if self.pool.unavailable() {
            cx.lose_waiting(v);
            return;
        }
        let key = cx.request_of(v).key;
        // A retry may carry an instance to avoid (see `open_visit`).
        let avoid = std::mem::take(&mut cx.visit_mut(v).inst).checked_sub(1);
        match self.pool.admit_avoiding(v.slot(), key, cx.now, avoid) {
            Admission::Start(inst) => {
                cx.stats.busy.set(cx.now, self.pool.busy() as f64);
                self.start_service(cx, v, inst)
            }
            Admission::Queued => {
                cx.stats.queue.add(cx.now, 1.0);
                if let Some((ticket, dt)) = self.pool.patience(v.slot()) {
                    cx.after(dt, PATIENCE, v.slot(), ticket);
                }
            }
            Admission::Rejected => cx.refuse(v),
            Admission::Dead(inst) => {
                cx.visit_mut(v).inst = inst;
                cx.lose_waiting(v);
                self.attempt_failed(cx, inst);
            }
        }
    }

    #[inline]
    fn on_wake(&mut self, cx: &mut Cx, w: Wake) {
        if w.tag == PATIENCE {
            if self.pool.give_up(w.a, w.b, cx.now) {
                cx.stats.queue.add(cx.now, -1.0);
                cx.abandon(VisitId::from_slot(w.a));
            }
            return;
        }
        if w.tag == CREDIT {
            if let Some((c, _)) = &mut self.credits {
                c.tick(&mut self.pool, cx.now);
            }
            cx.after(TICK, CREDIT, 0, 0);
            return;
        }
        if w.tag == RELIST {
            if self.pool.instances()[w.a as usize].generation() == w.b {
                self.pool.relist(w.a);
            }
            if let Some(p) = self.passive.as_mut() {
                p.back(w.a, cx.now);
            }
            return;
        }
        let v = VisitId::from_slot(w.a);
        if w.tag == SERVED {
            self.pool.compute(cx.visit(v).inst, cx.now, false);
            cx.stats.cpu.set(cx.now, self.pool.computing() as f64);
            if self.pool.io_async() {
                self.suspend(cx, v);
            }
        }
        if self.lost(cx, v) {
            self.lose(cx, v);
            return;
        }
        if w.tag == SERVED && cx.visit(v).step as usize == self.first_cpu + 1 {
            if let Some((p, rng)) = &mut self.errors {
                if rng.random::<f64>() < *p {
                    // An error answer (a 500): counted here as failed,
                    // and by outlier detection.
                    let inst = cx.visit(v).inst;
                    cx.lose(v);
                    if self.passive.as_ref().is_some_and(|p| p.counts_errors) {
                        self.attempt_failed(cx, inst);
                    }
                    return;
                }
            }
        }
        self.advance(cx, v);
    }

    #[inline]
    fn on_answer(&mut self, cx: &mut Cx, v: VisitId, outcome: Outcome) {
        let mark = cx.mark();
        self.release_connection(cx, v);
        if self.lost(cx, v) {
            self.lose(cx, v);
            return;
        }
        match outcome {
            // The call handed its connection on: that visit goes first.
            Outcome::Ok if cx.emitted_since(mark) => cx.run(NEXT, v.slot(), 0),
            Outcome::Ok => self.advance(cx, v),
            _ => cx.leave(v, outcome),
        }
    }

    #[inline]
    fn on_leave(&mut self, cx: &mut Cx, visit: &Visit, outcome: Outcome) {
        let now = cx.now;
        if let (Some(p), Outcome::Ok) = (self.passive.as_mut(), outcome) {
            p.succeeded(visit.inst, now);
        }
        let r = if self.pool.io_async() {
            self.pool.finish(visit.inst, now)
        } else {
            self.pool.release(visit.inst, now)
        };
        cx.stats.busy.set(now, self.pool.busy() as f64);
        if r.gone {
            cx.close_instance(&self.pool.instances()[visit.inst as usize]);
        }
        self.hand_on(cx, r);
    }

    fn fleet(&self) -> Option<&Pool> {
        Some(&self.pool)
    }

    fn fleet_mut(&mut self) -> Option<&mut Pool> {
        Some(&mut self.pool)
    }

    fn capacity_changed(&mut self, st: &mut Stats, now: Time) {
        st.busy.set(now, self.pool.busy() as f64);
        st.cpu.set(now, self.pool.computing() as f64);
    }

    fn instance_failed(&mut self, cx: &mut Cx, inst: u32, queued: &[u32]) {
        self.lives.get_or_insert_with(Vec::new);
        cx.lose_queued(queued);
        // Requests it held that waited for a core to compute again.
        for v in self.pool.take_resuming(inst) {
            cx.lose(VisitId::from_slot(v));
        }
    }

    fn instance_ready(&mut self, cx: &mut Cx) {
        while let Some((v, i)) = self.pool.next_waiting(cx.now) {
            cx.stats.queue.add(cx.now, -1.0);
            cx.stats.busy.set(cx.now, self.pool.busy() as f64);
            self.start_service(cx, VisitId::from_slot(v), i);
        }
    }

    fn report(&self, _d: &Counters, st: &Stats, _span: f64, r: &mut ComponentReport) {
        if let Some(p) = &self.passive {
            r.detection_s = Some(p.detection.clone());
        }
        r.mean_wait_s = Some(st.wait.mean());
        r.io = Some(if self.pool.io_async() {
            "async"
        } else {
            "blocking"
        });
        r.connection_wait_s = (!self.conns.is_empty()).then(|| self.conn_wait.mean());
        r.credits = self.credits.as_ref().map(|(c, _)| c.report());
        r.memory = self.memory.as_ref().map(|u| crate::measure::MemoryReport {
            request_mib: u.m.request / MIB,
            limit_mib: u.m.limit / MIB,
            peak_mib: u.peak / MIB,
            oom_kills: u.kills,
        });
    }

    fn scaling_metrics(
        &self,
        _d: &Counters,
        _per: &dyn Fn(f64) -> Option<f64>,
        _dt: f64,
        out: &mut Vec<crate::policy::Metric>,
    ) {
        if self.memory.is_some() {
            out.push(crate::policy::Metric {
                name: crate::policy::metric::MEMORY.into(),
                value: self.memory_use(),
            });
        }
    }

    fn window(&mut self, _d: &Counters, _st: &Stats, _dt: f64, row: &mut TsRow) {
        row.memory = self.memory_use();
    }

    fn extra_cost_usd(&self) -> f64 {
        self.credits.as_ref().map_or(0.0, |(c, _)| c.usd())
    }
}

impl KindConfig for PoolConfig {
    fn kind(&self) -> &'static str {
        "pool"
    }

    fn extra_metrics(&self) -> &'static [&'static str] {
        if self.memory.is_some() {
            &[crate::policy::metric::MEMORY]
        } else {
            &[]
        }
    }

    fn check(&self, cx: &CheckCx) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = PoolConfig::check(self).err().into_iter().collect();
        let classes: Vec<String> = cx
            .system
            .sources
            .iter()
            .flat_map(|(s, src)| {
                src.classes()
                    .into_iter()
                    .map(move |c| match c.name.as_str() {
                        "" => s.clone(),
                        n => format!("{s}.{n}"),
                    })
            })
            .collect();
        for (i, s) in self.steps.iter().enumerate() {
            if let Some(q) = &s.enqueue {
                if cx
                    .component(q)
                    .is_some_and(|c| c.config().kind() != "queue")
                {
                    out.push((
                        format!("steps.{i}.enqueue"),
                        format!("{q:?} is not a queue (kind = \"queue\"); write {{ call = {q:?} }} to call it"),
                    ));
                }
            }
            let looked_up = self.steps[..i]
                .iter()
                .filter_map(steps::StepConfig::callee)
                .any(|c| {
                    cx.component(c)
                        .is_some_and(|c| c.config().kind() == "cache")
                });
            if let (Some(w), false) = (&s.when, looked_up) {
                out.push((
                    format!("steps.{i}.if"),
                    format!("if = {w:?} reads the last cache lookup, and no step before this one calls a cache (kind = \"cache\"): put {{ call = \"<cache>\" }} first"),
                ));
            }
            for (k, w) in s.classes.iter().enumerate() {
                if !classes.iter().any(|n| steps::class_matches(w, n)) {
                    out.push((
                        format!("steps.{i}.classes.{k}"),
                        format!("no request class is called {w:?}; the classes are {classes:?}"),
                    ));
                }
            }
        }
        if let Some(on) = &self.measured_on {
            let cost = &cx.system.cost;
            let known = |t: &str| crate::fleet::cpu::speed(t, cost).is_some();
            if self.instance_type.is_none() {
                out.push((
                    "measured_on".into(),
                    "measured_on compares the speed of two instance types: give the pool its instance_type too".into(),
                ));
            } else if let Some(bad) = [on.as_str(), self.instance_type.as_deref().unwrap_or("")]
                .into_iter()
                .find(|t| !known(t))
            {
                out.push((
                    "measured_on".into(),
                    format!(
                        "no CPU speed is known for {bad:?}; the families with one are {}; or give it: [cost.catalog.\"{bad}\"] speed = 1.2 (per vCPU, m5 = 1.0)",
                        crate::fleet::cpu::known_families().join(", ")
                    ),
                ));
            }
        }
        for (callee, p) in &self.call {
            if !self.callees().contains(&callee.as_str()) {
                out.push((
                    format!("call.{callee}"),
                    format!(
                        "this pool does not call {callee:?} (it calls {:?}): a call policy names one of its calls",
                        self.callees()
                    ),
                ));
                continue;
            }
            if let Err((f, m)) = p.check(cx.least_answer_s(callee)) {
                out.push((format!("call.{callee}.{f}"), m));
            }
        }
        out
    }

    fn downstream(&self) -> Vec<(&'static str, &str)> {
        let field = if self.steps.is_empty() {
            "calls"
        } else {
            "steps"
        };
        self.callees().into_iter().map(|c| (field, c)).collect()
    }

    fn retarget(&mut self, to: &mut dyn FnMut(&str) -> String) {
        PoolConfig::retarget(self, to)
    }

    fn call_policies(&self) -> Vec<(&str, &crate::flow::resilience::CallPolicyConfig)> {
        self.call.iter().map(|(c, p)| (c.as_str(), p)).collect()
    }

    fn lifecycle(&self) -> Option<PoolConfig> {
        Some(self.clone())
    }

    fn instances(&self) -> u32 {
        self.instances
    }

    fn pricing(&self) -> Pricing {
        PoolConfig::pricing(self)
    }

    fn build(&self, b: &BuildCx) -> Kind {
        Kind::Pool(Box::new(PoolKind::new(self, b.label, b.seed, b.rep, b)))
    }
}
