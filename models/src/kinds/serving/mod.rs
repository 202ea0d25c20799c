//! `kind = "llm"` and `kind = "batch"`: instances that serve in steps. A
//! visit is routed to an instance (its fleet balances over replicas) whose
//! engine queues it and runs steps: an LLM replica ([`Replica`]: static,
//! continuous or chunked-prefill batching over a paged KV cache) or a
//! dynamic batcher ([`Batcher`], Triton-style). A step's finished requests
//! leave; the next step starts, or a batch-formation timer waits. The fleet
//! of replicas scales, loads its model, drains and bills like a pool's.

use crate::policy::{metric as m, Metric};
pub mod batch;
pub mod gpu;
pub mod llm;
pub mod replica;
pub mod roofline;

use crate::fleet::cost::Pricing;
use crate::fleet::pool::{Phase, Pool, PoolConfig};
use crate::flow::{Caller, Component, Cx, Outcome, Visit, VisitId, Wake};
use crate::kinds::{BuildCx, CheckCx, Kind, KindConfig};
use crate::measure::{ComponentReport, Counters, ServingReport, Stats, TsRow};
use batch::{BatchConfig, Batcher};
use llm::{LlmConfig, LlmPlan};
use replica::{Finished, Job, Plan, Replica};
use scalesim_sim::stats::{LatencyHist, TimeAvg};
use scalesim_sim::{stream, Time};

/// An instance's step ended (`b`: the instance's
/// [`lives`](crate::fleet::pool::Instance::lives) when it began: a step of
/// an engine that failed since is stale).
const STEP: u8 = 0;
/// A batch-formation wait ran out (`b`: the timer's generation).
const TIMER: u8 = 1;
/// Start the next step now if idle (after a step's requests left).
const KICK: u8 = 2;

/// An LLM or batch component as it runs.
pub struct ServingKind {
    pool: Pool,
    servers: Servers,
    /// Per instance: generation of its latest timer (older ones are stale).
    timers: Vec<u32>,
    /// Per instance: its running step counts as busy (it was ready when
    /// the step started).
    busy: Vec<bool>,
    /// Ready instances running a step.
    stepping: u32,
    /// Scratch for finished requests.
    done: Vec<Finished>,
    done_visits: Vec<u32>,
    stats: ServingStats,
}

enum Servers {
    Llm {
        plan: LlmPlan,
        reps: Vec<Replica>,
    },
    Batch {
        cfg: BatchConfig,
        reps: Vec<Batcher>,
    },
}

/// One instance's engine figures.
#[derive(Clone, Copy, Default)]
struct EngineFigures {
    waiting: u64,
    kv_used: u64,
    batch: u32,
    tokens_out: u64,
    tokens_in: u64,
    preemptions: u64,
}

/// What a serving component measures.
#[derive(Default)]
struct ServingStats {
    /// Output tokens emitted, prompt tokens prefilled, preemptions.
    tokens_out: u64,
    tokens_in: u64,
    preemptions: u64,
    /// KV blocks in use and in total over the serving instances.
    kv_used: TimeAvg,
    kv_total: TimeAvg,
    /// Sequences (requests) in the running steps.
    batch: TimeAvg,
    /// Time to first token and per output token of requests that entered
    /// after warm-up, and of those that ended in the current window.
    ttft: LatencyHist,
    tpot: LatencyHist,
    window_ttft: LatencyHist,
    window_tpot: LatencyHist,
    /// Gaps between consecutive output tokens of a request (inter-token
    /// latency) emitted after warm-up, and in the current window.
    itl: LatencyHist,
    window_itl: LatencyHist,
}

impl ServingKind {
    /// An LLM component (`label`: the name its RNG streams take).
    pub fn llm(l: &LlmConfig, label: &str, seed: u64, rep: u32) -> ServingKind {
        let plan = l.plan().expect("checked by SystemConfig::check");
        Self::new(
            &l.pool(),
            label,
            seed,
            rep,
            Servers::Llm {
                plan,
                reps: Vec::new(),
            },
        )
    }

    /// A dynamic-batching component.
    pub fn batch(b: &BatchConfig, label: &str, seed: u64, rep: u32) -> ServingKind {
        let servers = Servers::Batch {
            cfg: b.clone(),
            reps: Vec::new(),
        };
        Self::new(&b.pool(), label, seed, rep, servers)
    }

    fn new(p: &PoolConfig, label: &str, seed: u64, rep: u32, servers: Servers) -> ServingKind {
        let mut k = ServingKind {
            pool: Pool::new(
                p,
                stream(seed, rep, label, "service"),
                stream(seed, rep, label, "balance"),
                stream(seed, rep, label, "patience"),
            ),
            servers,
            timers: Vec::new(),
            busy: Vec::new(),
            stepping: 0,
            done: Vec::new(),
            done_visits: Vec::new(),
            stats: ServingStats::default(),
        };
        let blocks = k.blocks_per_instance() * p.instances as u64;
        k.stats.kv_total.set(0, blocks as f64);
        k
    }

    /// Makes sure instance `inst` has an engine.
    fn ensure(&mut self, inst: u32) {
        let n = inst as usize + 1;
        if self.timers.len() < n {
            self.timers.resize(n, 0);
            self.busy.resize(n, false);
        }
        match &mut self.servers {
            Servers::Llm { plan, reps } => {
                while reps.len() < n {
                    reps.push(Replica::new(plan.clone()));
                }
            }
            Servers::Batch { cfg, reps } => {
                while reps.len() < n {
                    reps.push(Batcher::new(cfg));
                }
            }
        }
    }

    fn figures(&self, inst: u32) -> EngineFigures {
        match &self.servers {
            Servers::Llm { reps, .. } => {
                let r = &reps[inst as usize];
                EngineFigures {
                    waiting: r.waiting() as u64,
                    kv_used: r.used_blocks(),
                    batch: r.batch,
                    tokens_out: r.tokens_out,
                    tokens_in: r.tokens_in,
                    preemptions: r.preemptions,
                }
            }
            Servers::Batch { reps, .. } => {
                let b = &reps[inst as usize];
                EngineFigures {
                    waiting: b.waiting() as u64,
                    batch: b.batch,
                    ..EngineFigures::default()
                }
            }
        }
    }

    /// Instance `inst` chooses what to do next at `now`.
    fn plan(&mut self, inst: u32, now: Time) -> Plan {
        match &mut self.servers {
            Servers::Llm { reps, .. } => reps[inst as usize].plan(now),
            Servers::Batch { reps, .. } => reps[inst as usize].plan(now),
        }
    }

    fn stepping_at(&self, inst: u32) -> bool {
        match &self.servers {
            Servers::Llm { reps, .. } => reps[inst as usize].stepping(),
            Servers::Batch { reps, .. } => reps[inst as usize].stepping(),
        }
    }

    /// KV blocks of one instance (0 for batchers).
    fn blocks_per_instance(&self) -> u64 {
        match &self.servers {
            Servers::Llm { plan, .. } => plan.blocks,
            Servers::Batch { .. } => 0,
        }
    }

    /// Visit `v` was routed to instance `inst`: its engine queues it (or
    /// refuses it), then runs if idle.
    fn serve(&mut self, cx: &mut Cx, v: VisitId, inst: u32) {
        let now = cx.now;
        cx.visit_mut(v).inst = inst;
        let r = cx.request_of(v);
        self.ensure(inst);
        let ok = match &mut self.servers {
            Servers::Llm { reps, .. } => reps[inst as usize].push(Job {
                visit: v.slot(),
                prompt: r.prompt,
                output: r.output,
                arrived: now,
            }),
            Servers::Batch { reps, .. } => reps[inst as usize].push(v.slot(), now),
        };
        if !ok {
            cx.stats.rejections += 1;
            cx.leave(v, Outcome::Rejected);
            return;
        }
        cx.stats.queue.add(now, 1.0);
        self.kick(cx, inst);
    }

    /// Instance `inst` starts its next step, or sets a timer, unless a step
    /// is running.
    fn kick(&mut self, cx: &mut Cx, inst: u32) {
        let now = cx.now;
        if self.stepping_at(inst) {
            return;
        }
        let before = self.figures(inst);
        let plan = self.plan(inst, now);
        let after = self.figures(inst);
        let st = &mut *cx.stats;
        st.queue
            .add(now, after.waiting as f64 - before.waiting as f64);
        let v = &mut self.stats;
        v.kv_used
            .add(now, after.kv_used as f64 - before.kv_used as f64);
        v.preemptions += after.preemptions - before.preemptions;
        match plan {
            Plan::Step(dt) => {
                // Busy time and batch sizes count steps of ready instances
                // (the divisor and the sum of the mean batch agree).
                let ready = self.pool.instances()[inst as usize].phase == Phase::Ready;
                self.busy[inst as usize] = ready;
                if ready {
                    self.stepping += 1;
                    stepping(st, now, self.stepping);
                    v.batch.add(now, after.batch as f64);
                }
                let lives = self.pool.instances()[inst as usize].lives();
                cx.after(dt, STEP, inst, lives);
            }
            Plan::Wait(t) => {
                let g = &mut self.timers[inst as usize];
                *g = g.wrapping_add(1);
                let gen = *g;
                cx.at(t, TIMER, inst, gen);
            }
            Plan::Idle => {}
        }
    }

    /// A step of instance `inst` ended: its finished requests leave, then
    /// the next step starts.
    fn on_step(&mut self, cx: &mut Cx, inst: u32) {
        let now = cx.now;
        let warmup = cx.warmup();
        let before = self.figures(inst);
        let mut done = std::mem::take(&mut self.done);
        let mut visits = std::mem::take(&mut self.done_visits);
        let v = &mut self.stats;
        match &mut self.servers {
            Servers::Llm { reps, .. } => {
                let r = &mut reps[inst as usize];
                r.finish(now, &mut done);
                for &(gap, n) in &r.itl {
                    v.window_itl.record_n(gap, n as u64);
                    if now >= warmup {
                        v.itl.record_n(gap, n as u64);
                    }
                }
            }
            Servers::Batch { reps, .. } => reps[inst as usize].finish(&mut visits),
        }
        let after = self.figures(inst);
        let v = &mut self.stats;
        let counted = std::mem::take(&mut self.busy[inst as usize]);
        if counted {
            self.stepping -= 1;
            stepping(cx.stats, now, self.stepping);
        }
        v.tokens_out += after.tokens_out - before.tokens_out;
        v.tokens_in += after.tokens_in - before.tokens_in;
        v.kv_used
            .add(now, after.kv_used as f64 - before.kv_used as f64);
        if counted {
            v.batch.add(now, -(before.batch as f64));
        }
        for f in &done {
            let ttft = f.first_token - f.job.arrived;
            v.window_ttft.record(ttft);
            let tpot =
                (f.job.output > 1).then(|| (now - f.first_token) / (f.job.output as u64 - 1));
            if let Some(t) = tpot {
                v.window_tpot.record(t);
            }
            if f.job.arrived >= warmup {
                let class = cx.request_of(VisitId::from_slot(f.job.visit)).class;
                if let Some(t) = &mut cx.class_mut(class).tokens {
                    t.0.record(ttft);
                    if let Some(p) = tpot {
                        t.1.record(p);
                    }
                }
                v.ttft.record(ttft);
                if let Some(t) = tpot {
                    v.tpot.record(t);
                }
            }
            visits.push(f.job.visit);
        }
        done.clear();
        for &visit in &visits {
            cx.leave(VisitId::from_slot(visit), Outcome::Ok);
        }
        let left = !visits.is_empty();
        visits.clear();
        self.done = done;
        self.done_visits = visits;
        // The next step starts once the finished requests have left (their
        // answers may bring new ones); when none finished, at once.
        if left {
            cx.run(KICK, inst, 0);
        } else {
            self.kick(cx, inst);
        }
    }
}

impl Component for ServingKind {
    fn enter(&mut self, cx: &mut Cx, v: VisitId, _caller: Caller) {
        if self.pool.unavailable() {
            cx.lose_waiting(v);
            return;
        }
        let key = cx.request_of(v).key;
        match self.pool.route(key, cx.now) {
            Some(inst) => self.serve(cx, v, inst),
            // Sent to a failed replica its checks have not yet seen.
            None if self.pool.fail_fast => cx.lose_waiting(v),
            None => cx.refuse(v),
        }
    }

    fn on_wake(&mut self, cx: &mut Cx, w: Wake) {
        match w.tag {
            STEP if self.pool.instances()[w.a as usize].lives() == w.b => self.on_step(cx, w.a),
            STEP => {}
            TIMER if self.timers[w.a as usize] == w.b => self.kick(cx, w.a),
            TIMER => {}
            _ => self.kick(cx, w.a),
        }
    }

    fn on_leave(&mut self, cx: &mut Cx, visit: &Visit, _outcome: Outcome) {
        let now = cx.now;
        let r = self.pool.release(visit.inst, now);
        debug_assert!(r.next.is_none(), "engines queue their own requests");
        if r.gone {
            cx.close_instance(&self.pool.instances()[visit.inst as usize]);
            self.capacity_changed(cx.stats, now);
        }
    }

    fn fleet(&self) -> Option<&Pool> {
        Some(&self.pool)
    }

    fn fleet_mut(&mut self) -> Option<&mut Pool> {
        Some(&mut self.pool)
    }

    fn instance_failed(&mut self, cx: &mut Cx, inst: u32, _queued: &[u32]) {
        // The engine restarts empty: what it held is lost, its step (if
        // any) never ends, its KV cache is freed.
        self.ensure(inst);
        let now = cx.now;
        let before = self.figures(inst);
        let i = inst as usize;
        let lost = match &mut self.servers {
            Servers::Llm { plan, reps } => {
                let v = reps[i].visits();
                reps[i] = Replica::new(plan.clone());
                v
            }
            Servers::Batch { cfg, reps } => {
                let v = reps[i].visits();
                reps[i] = Batcher::new(cfg);
                v
            }
        };
        cx.stats.queue.add(now, -(before.waiting as f64));
        self.stats.kv_used.add(now, -(before.kv_used as f64));
        if std::mem::take(&mut self.busy[i]) {
            self.stepping -= 1;
            stepping(cx.stats, now, self.stepping);
            self.stats.batch.add(now, -(before.batch as f64));
        }
        self.timers[i] = self.timers[i].wrapping_add(1);
        for v in lost {
            cx.lose(VisitId::from_slot(v));
        }
    }

    fn capacity_changed(&mut self, st: &mut Stats, now: Time) {
        stepping(st, now, self.stepping);
        // KV of the instances that serve: ready or draining.
        let serving = self
            .pool
            .instances()
            .iter()
            .filter(|x| matches!(x.phase, Phase::Ready | Phase::Draining))
            .count() as u64;
        let blocks = serving * self.blocks_per_instance();
        self.stats.kv_total.set(now, blocks as f64);
    }

    fn counters(&self, now: Time, c: &mut Counters) {
        let v = &self.stats;
        c.tokens_out = v.tokens_out;
        c.tokens_in = v.tokens_in;
        c.preemptions = v.preemptions;
        c.kv_used = v.kv_used.integral(now);
        c.kv_total = v.kv_total.integral(now);
        c.batch = v.batch.integral(now);
    }

    fn scaling_metrics(
        &self,
        d: &Counters,
        per: &dyn Fn(f64) -> Option<f64>,
        dt: f64,
        out: &mut Vec<Metric>,
    ) {
        let metric = |name: &str, value: Option<f64>| Metric {
            name: name.to_string(),
            value,
        };
        if self.blocks_per_instance() > 0 {
            out.push(metric(
                m::KV,
                (d.kv_total > 0.0).then(|| d.kv_used / d.kv_total),
            ));
            out.push(metric(m::TOKENS, per(d.tokens_out as f64 / (dt / 1e9))));
        }
        out.push(metric(m::BATCH, (d.busy > 0.0).then(|| d.batch / d.busy)));
    }

    fn pods_share_cpu(&self) -> bool {
        true
    }

    fn report(&self, d: &Counters, _st: &Stats, _span: f64, r: &mut ComponentReport) {
        let (gpus, block_size) = match &self.servers {
            Servers::Llm { plan, .. } => (plan.tp, plan.block_size),
            Servers::Batch { .. } => (0, 0),
        };
        let v = &self.stats;
        r.serving = Some(ServingReport {
            gpus_per_instance: gpus,
            kv_blocks: self.blocks_per_instance(),
            block_size,
            ttft: v.ttft.clone(),
            tpot: v.tpot.clone(),
            itl: v.itl.clone(),
            tokens_out: d.tokens_out,
            tokens_in: d.tokens_in,
            preemptions: d.preemptions,
            kv_use_mean: if d.kv_total > 0.0 {
                d.kv_used / d.kv_total
            } else {
                0.0
            },
            batch_mean: if d.busy > 0.0 { d.batch / d.busy } else { 0.0 },
        });
    }

    fn window(&mut self, d: &Counters, _st: &Stats, dt: f64, row: &mut TsRow) {
        let q = |h: &LatencyHist| (h.count() > 0).then(|| h.quantile_s(0.99));
        let llm = self.blocks_per_instance() > 0;
        let v = &mut self.stats;
        // Engines queue requests themselves: no slot wait to report.
        row.wait_mean_s = None;
        row.batch_mean = Some(if d.busy > 0.0 { d.batch / d.busy } else { 0.0 });
        if llm {
            row.ttft_p99_s = q(&v.window_ttft);
            row.tpot_p99_s = q(&v.window_tpot);
            row.itl_p99_s = q(&v.window_itl);
            row.tokens_per_s = Some(d.tokens_out as f64 / (dt / 1e9));
            row.kv_use = Some(if d.kv_total > 0.0 {
                d.kv_used / d.kv_total
            } else {
                0.0
            });
            row.preemptions = Some(d.preemptions);
        }
        v.window_ttft.clear();
        v.window_tpot.clear();
        v.window_itl.clear();
    }
}

impl KindConfig for LlmConfig {
    fn kind(&self) -> &'static str {
        "llm"
    }

    fn check(&self, _cx: &CheckCx) -> Vec<(String, String)> {
        self.plan().err().into_iter().collect()
    }

    fn lifecycle(&self) -> Option<PoolConfig> {
        Some(self.pool())
    }

    fn extra_metrics(&self) -> &'static [&'static str] {
        &[m::KV, m::TOKENS, m::BATCH]
    }

    fn instances(&self) -> u32 {
        self.replicas
    }

    fn pricing(&self) -> Pricing {
        Pricing {
            instance_type: None,
            price_per_hour: self.replica_price(),
            spot: self.spot,
        }
    }

    fn needs_tokens(&self) -> Option<&'static str> {
        Some("LLM component")
    }

    fn build(&self, b: &BuildCx) -> Kind {
        Kind::Llm(Box::new(ServingKind::llm(self, b.label, b.seed, b.rep)))
    }
}

impl KindConfig for BatchConfig {
    fn kind(&self) -> &'static str {
        "batch"
    }

    fn check(&self, _cx: &CheckCx) -> Vec<(String, String)> {
        BatchConfig::check(self).err().into_iter().collect()
    }

    fn lifecycle(&self) -> Option<PoolConfig> {
        Some(self.pool())
    }

    fn extra_metrics(&self) -> &'static [&'static str] {
        &[m::BATCH]
    }

    fn instances(&self) -> u32 {
        self.instances
    }

    fn pricing(&self) -> Pricing {
        self.pool().pricing()
    }

    fn build(&self, b: &BuildCx) -> Kind {
        Kind::Batch(Box::new(ServingKind::batch(self, b.label, b.seed, b.rep)))
    }
}

/// `n` instances step now: busy, and computing (an engine's step is its
/// compute, the CPU its pods report).
fn stepping(st: &mut Stats, now: Time, n: u32) {
    st.busy.set(now, n as f64);
    st.cpu.set(now, n as f64);
}
