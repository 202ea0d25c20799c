//! The router: the system as one discrete-event [`Model`]. It owns the
//! requests, visits and classes, hands each visit and event to its
//! component's kind, and carries out the [`Action`]s kinds emit —
//! depth-first, in the order emitted, from one reusable stack, so a run
//! allocates nothing per event once warm.

use super::attempts::Attempts;
use super::{
    Action, Caller, Class, CompId, Component, Cx, Flow, Outcome, Packed, ReqId, Request, Visit,
    VisitId, Wake,
};
use crate::dist::Dist;
use crate::fleet::failure::Failures;
use crate::fleet::health::Health;
use crate::fleet::outage::Outage;
use crate::fleet::pool::LEVELS;
use crate::fleet::Scaler;
use crate::kinds::{BuildCx, Kind};
use crate::measure::{Incident, RunReport, Runaway, ScalingEvent, Stats, TsRow};
use crate::system::{ConfigIssue, SystemConfig};
use crate::traffic::closed::Next;
use crate::traffic::Source;
use scalesim_sim::stats::LatencyHist;
use scalesim_sim::{stream, to_secs, Model, RunOutcome, Scheduler, Slab, Time};
use std::collections::BTreeMap;

/// `kind!(self, s, comp, method(args))`: calls `method` of component
/// `comp`'s kind with what it sees of the run, then orders what it emitted
/// (as [`System::with_kind`] does, written out so the kind's code inlines
/// into the router's).
macro_rules! kind {
    ($sys:ident, $s:ident, $c:expr, $method:ident($($arg:expr),*)) => {{
        let mark = $sys.flow.stack.len();
        let (k, mut cx) = $sys.parts($s, $c);
        k.$method(&mut cx, $($arg),*);
        $sys.emitted(mark);
    }};
}

/// The engine events of a system. Small and `Copy`: state lives in slabs.
#[derive(Clone, Copy, Debug)]
pub enum Ev {
    /// The next request of source `.0` arrives.
    Arrival(u16),
    /// The ramp of closed source `.0` starts virtual users.
    Users(u16),
    /// A user of source `src` sends its session's next request, with
    /// `left` more after it.
    Send {
        /// The source.
        src: u16,
        /// Requests its session has after this one.
        left: u16,
    },
    /// One of a component's own events.
    Wake(Wake),
    /// End of a sampling interval.
    Sample,
    /// End of warm-up.
    Warmup,
    /// Autoscaler `.0` evaluates its policy.
    Evaluate(u16),
    /// Autoscaler `.0` closes a metric window.
    Snapshot(u16),
    /// An instance of fleet `comp` finished booting.
    Boot {
        /// The component.
        comp: CompId,
        /// Instance index.
        inst: u32,
        /// Its generation when requested (stale events are ignored).
        gen: u32,
    },
    /// An instance of fleet `comp` fails (see [`crate::fleet::failure`]).
    Fail {
        /// The component.
        comp: CompId,
        /// Instance index.
        inst: u32,
        /// Its generation when it became ready.
        gen: u32,
    },
    /// An instance of fleet `comp` is killed (out of memory) and restarts
    /// in place after `restart_ms`.
    Killed {
        /// The component.
        comp: CompId,
        /// Instance index.
        inst: u32,
        /// Its generation when killed.
        gen: u32,
        /// Milliseconds to restart.
        restart_ms: u32,
    },
    /// An instance of fleet `comp`, down, is repaired.
    Repaired {
        /// The component.
        comp: CompId,
        /// Instance index.
        inst: u32,
        /// Its generation when it failed.
        gen: u32,
    },
    /// The health checks of an instance of fleet `comp` saw it fail
    /// (`healthy` false) or pass again (see [`crate::fleet::health`]).
    Checked {
        /// The component.
        comp: CompId,
        /// Instance index.
        inst: u32,
        /// Its generation when it failed (or recovered).
        gen: u32,
        /// Passed again (else failed).
        healthy: bool,
    },
    /// Outage `k` starts (or ends).
    Outage {
        /// Its index in `[[outages]]`.
        k: u16,
        /// Starts (else ends).
        start: bool,
    },
    /// EC2 warns that a spot instance of fleet `comp` will be reclaimed
    /// (see [`crate::fleet::spot`]).
    SpotNotice {
        /// The component.
        comp: CompId,
        /// Instance index.
        inst: u32,
        /// Its generation when it became ready.
        gen: u32,
    },
    /// The notice ran out: the instance is reclaimed.
    SpotReclaim {
        /// The component.
        comp: CompId,
        /// Instance index.
        inst: u32,
        /// Its generation when it began to drain.
        gen: u32,
    },
    /// An on-demand fallback instance of fleet `comp` has run its
    /// `rebalance` time: a spot one is launched for it.
    SpotRebalance {
        /// The component.
        comp: CompId,
        /// Instance index.
        inst: u32,
        /// Its generation when it became ready.
        gen: u32,
    },
    /// The spot instance launched for fallback instance `inst` is up: it
    /// drains.
    SpotRetire {
        /// The component.
        comp: CompId,
        /// Instance index.
        inst: u32,
        /// Its generation when it became ready.
        gen: u32,
    },
    /// Something a call record awaits (see [`super::attempts`]).
    Attempt {
        /// The record.
        call: u32,
        /// Its number (stale events find another).
        seq: u32,
        /// What: a timeout, the hedge, a retry.
        what: u8,
        /// The attempt timed out (its visit's slot).
        visit: u32,
    },
    /// An instance of fleet `comp` passed its readiness grace.
    Ready {
        /// The component.
        comp: CompId,
        /// Instance index.
        inst: u32,
        /// Its generation when requested.
        gen: u32,
    },
}

/// The optional calls a component's kind wants.
#[derive(Clone, Copy)]
struct Hooks {
    /// [`Component::wants_caller`].
    caller: bool,
    /// [`Component::releases_on_leave`].
    leave: bool,
}

/// A built system, ready to run.
pub struct System {
    pub(crate) cfg: SystemConfig,
    /// Each source with the global index of its first class.
    sources: Vec<(Source, u16)>,
    /// Per class, the closed-loop source it belongs to (empty without
    /// closed sources): its requests' answers schedule its users' next.
    closed: Vec<Option<u16>>,
    pub(crate) comps: Vec<Kind>,
    /// Per component: which optional calls its kind wants (fixed once
    /// built).
    hooks: Vec<Hooks>,
    pub(crate) stats: Vec<Stats>,
    /// Requests, visits, classes and actions in flight.
    pub(crate) flow: Flow,
    /// Accrued cost of each component at the end of warm-up.
    pub(crate) cost_at_warmup: Vec<Option<f64>>,
    /// Per component, the balanced fleet's load integrals at warm-up.
    pub(crate) load_at_warmup: Vec<Option<[f64; LEVELS]>>,
    pub(crate) scalers: Vec<Scaler>,
    pub(crate) scaling_events: Vec<ScalingEvent>,
    /// Per component: its instances' failures, if they fail.
    pub(crate) failures: Vec<Option<Failures>>,
    /// Per component: its spot instances' interruptions, if they are.
    pub(crate) spot: Vec<Option<crate::fleet::spot::Spot>>,
    /// Per component: its fleet's health checks, if any.
    pub(crate) health: Vec<Option<Health>>,
    /// Per component: its fleet's `provision_time`, for replacements.
    pub(crate) provision: Vec<Option<Dist>>,
    /// Per component: its fleet's readiness grace (`ready_delay`).
    pub(crate) ready_delay: Vec<Time>,
    /// Instance failures and repairs, in time order.
    pub(crate) incidents: Vec<Incident>,
    /// The scheduled outages.
    pub(crate) outages: Vec<Outage>,
    /// Timeouts, retries and hedges, and the calls in flight under them.
    pub(crate) att: Attempts,
    /// Per component without a fleet: down now (an outage), every visit
    /// fails at once.
    pub(crate) down: Vec<bool>,
    /// End-to-end figures.
    pub(crate) sys: Stats,
    pub(crate) counted_arrived: u64,
    pub(crate) counted_completed: u64,
    pub(crate) counted_rejected: u64,
    /// Requests that arrived after warm-up and timed out on their path.
    pub(crate) counted_timed_out: u64,
    /// Requests that arrived after warm-up and were lost on their path.
    pub(crate) counted_failed: u64,
    pub(crate) latency: LatencyHist,
    /// Per minute after warm-up: counted requests answered in it, and
    /// those that ended in an error in it.
    pub(crate) minutes: Vec<[u32; 2]>,
    pub(crate) rows: Vec<TsRow>,
    pub(crate) last_sample: Time,
    pub(crate) runaway: Option<Runaway>,
    /// Per source, its users' marks at the end of warm-up (see
    /// [`System::user_marks`]).
    pub(crate) users_at_warmup: Vec<Option<(f64, u64)>>,
    /// Users' user-seconds, all sources, at the last sample.
    pub(crate) users_at_sample: f64,
}

impl System {
    /// Builds a system from a configuration that passed
    /// [`SystemConfig::check`]; returns the issues otherwise.
    pub fn new(cfg: SystemConfig) -> Result<System, Vec<ConfigIssue>> {
        let issues = cfg.check();
        if !issues.is_empty() {
            return Err(issues);
        }
        let cfg = cfg.expanded();
        let idx: BTreeMap<&str, CompId> = cfg
            .components
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (n.as_str(), CompId(i as u16)))
            .collect();
        let (seed, rep) = (cfg.seed, cfg.replication);
        let horizon_s = to_secs(cfg.duration);
        let mut sources = Vec::with_capacity(cfg.sources.len());
        let mut closed: Vec<Option<u16>> = Vec::new();
        let mut classes = Vec::new();
        for (n, s) in &cfg.sources {
            let comp = format!("traffic.{n}");
            let src = Source::new(s, &cfg.calendar, horizon_s, |purpose| {
                stream(seed, rep, &comp, purpose)
            })
            .map_err(|(f, m)| {
                vec![ConfigIssue {
                    path: format!("{comp}.{f}"),
                    message: m,
                }]
            })?;
            sources.push((src, classes.len() as u16));
            let me = (sources.len() - 1) as u16;
            closed.extend(s.classes().iter().map(|_| s.has_users().then_some(me)));
            for c in s.classes() {
                classes.push(Class {
                    name: if c.name.is_empty() {
                        n.clone()
                    } else {
                        format!("{n}.{}", c.name)
                    },
                    op: c.op,
                    entry: idx[c.to.as_deref().unwrap_or_default()],
                    arrived: 0,
                    completed: 0,
                    rejected: 0,
                    timed_out: 0,
                    failed: 0,
                    latency: LatencyHist::new(),
                    tokens: (s.trace_tokens.is_some()
                        || (c.prompt_tokens.is_some() && c.output_tokens.is_some()))
                    .then(|| Box::new((LatencyHist::new(), LatencyHist::new()))),
                });
            }
        }
        let class_names: Vec<String> = classes.iter().map(|c| c.name.clone()).collect();
        let class_configs: Vec<crate::traffic::ClassConfig> =
            cfg.sources.iter().flat_map(|(_, s)| s.classes()).collect();
        let id = |n: &str| idx[n];
        let comps: Vec<Kind> = cfg
            .components
            .iter()
            .map(|(n, c)| {
                let label = format!("components.{n}");
                c.config().build(&BuildCx {
                    name: n,
                    label: &label,
                    seed,
                    rep,
                    id: &id,
                    classes: &class_names,
                    class_configs: &class_configs,
                    cost: &cfg.cost,
                })
            })
            .collect();
        let mut stats: Vec<Stats> = cfg.components.iter().map(|_| Stats::default()).collect();
        let n = comps.len();
        let (mut failures, mut provision) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let mut ready_delay = Vec::with_capacity(n);
        let mut health = Vec::with_capacity(n);
        let mut spot = Vec::with_capacity(n);
        let mut spot_factor = Vec::with_capacity(n);
        for (st, (name, c)) in stats.iter_mut().zip(&cfg.components) {
            let p = c.lifecycle();
            if let Some(p) = &p {
                st.slots.set(0, p.slots() as f64);
                st.ready.set(0, p.instances as f64);
                st.ready_time.set(0, cfg.warmup, p.instances);
                st.ready_max = p.instances;
            }
            let label = format!("components.{name}");
            failures.push(p.as_ref().and_then(|p| p.failures.as_ref()).map(|f| {
                Failures::new(
                    f,
                    stream(seed, rep, &label, "failures"),
                    stream(seed, rep, &label, "recovery"),
                )
            }));
            spot.push(p.as_ref().and_then(|p| p.spot).and_then(|sp| {
                sp.interruptions.map(|i| {
                    crate::fleet::spot::Spot::new(
                        &i,
                        sp.fallback,
                        stream(seed, rep, &label, "spot"),
                    )
                })
            }));
            spot_factor.push(c.pricing().spot_factor());
            health.push(
                p.as_ref()
                    .and_then(|p| p.health_check)
                    .map(|h| Health::new(h, stream(seed, rep, &label, "health"))),
            );
            provision.push(
                p.as_ref()
                    .and_then(|p| p.provision_time.as_ref())
                    .map(|d| d.sampler()),
            );
            ready_delay.push(p.map_or(0, |p| p.ready_delay.time()));
        }
        let mut scalers = Vec::new();
        for (name, a) in &cfg.autoscalers {
            if let Some(sc) = Scaler::new(&cfg, &idx, name, a)? {
                stats[sc.comp.index()].scaler_window = Some(LatencyHist::new());
                scalers.push(sc);
            }
        }
        // Fleets bill each instance on demand or on spot; other kinds
        // their instances at the blended price.
        let hourly: Vec<Option<f64>> = cfg
            .components
            .iter()
            .map(|(_, c)| match c.lifecycle() {
                Some(_) => c.pricing().on_demand_hourly(&cfg.cost).ok().flatten(),
                None => c.pricing().hourly(&cfg.cost).ok().flatten(),
            })
            .collect();
        let outages = Outage::all(&cfg);
        let att = Attempts::new(&cfg, &id);
        let hooks = comps
            .iter()
            .map(|k| Hooks {
                caller: k.wants_caller(),
                leave: k.releases_on_leave(),
            })
            .collect();
        let flow = Flow {
            warmup: cfg.warmup,
            visits: Slab::new(),
            requests: Slab::new(),
            classes,
            stack: Vec::with_capacity(64),
            hourly,
            spot_factor,
            cost: cfg.cost.clone(),
            held: vec![Vec::new(); n],
            incidents: Vec::new(),
        };
        Ok(System {
            cfg,
            closed: if closed.iter().any(Option::is_some) {
                closed
            } else {
                Vec::new()
            },
            sources,
            comps,
            hooks,
            stats,
            flow,
            cost_at_warmup: vec![None; n],
            load_at_warmup: vec![None; n],
            scalers,
            scaling_events: Vec::new(),
            failures,
            spot,
            health,
            provision,
            ready_delay,
            incidents: Vec::new(),
            outages,
            att,
            down: vec![false; n],
            sys: Stats::default(),
            counted_arrived: 0,
            counted_completed: 0,
            counted_rejected: 0,
            counted_timed_out: 0,
            counted_failed: 0,
            latency: LatencyHist::new(),
            minutes: Vec::new(),
            rows: Vec::new(),
            last_sample: 0,
            runaway: None,
            users_at_warmup: Vec::new(),
            users_at_sample: 0.0,
        })
    }

    /// Per source with users (a closed loop, or sessions): the users'
    /// time integral so far (user-seconds) and the sessions finished.
    pub(crate) fn user_marks(&self, now: Time) -> Vec<Option<(f64, u64)>> {
        self.sources
            .iter()
            .map(|(s, _)| s.users_ref().map(|u| (u.user_seconds(now), u.sessions())))
            .collect()
    }

    /// Per source with users: the most in the loop at once, and whether
    /// they come in sessions.
    pub(crate) fn user_peaks(&self) -> Vec<Option<(u32, bool)>> {
        self.sources
            .iter()
            .map(|(s, _)| s.users_ref().map(|u| (u.most(), u.has_sessions())))
            .collect()
    }

    /// Runs the system for its duration and returns what it measured.
    pub fn run(mut self) -> RunReport {
        let mut s: Scheduler<Ev> = Scheduler::new();
        for i in 0..self.sources.len() {
            if let Some(t) = self.sources[i].0.next_arrival(0) {
                s.at(t, Ev::Arrival(i as u16));
            }
            if self.sources[i].0.is_closed() {
                s.at(0, Ev::Users(i as u16));
            }
        }
        if self.cfg.warmup > 0 {
            s.at(self.cfg.warmup, Ev::Warmup);
        }
        s.at(self.cfg.sample.min(self.cfg.duration), Ev::Sample);
        for (k, sc) in self.scalers.iter().enumerate() {
            s.at(sc.window, Ev::Snapshot(k as u16));
            s.at(sc.period, Ev::Evaluate(k as u16));
        }
        for (i, c) in self.comps.iter().enumerate() {
            if let Some(tag) = c.start_tag() {
                let comp = CompId(i as u16);
                s.at(
                    0,
                    Ev::Wake(Wake {
                        comp,
                        tag,
                        a: 0,
                        b: 0,
                    }),
                );
            }
        }
        self.schedule_failures(&mut s);
        self.schedule_outages(&mut s);
        let horizon = self.cfg.duration;
        let outcome = s.run_until(&mut self, horizon);
        let end = match outcome {
            RunOutcome::Horizon => self.cfg.duration,
            RunOutcome::Stopped { at } => at,
        };
        if self.last_sample < end {
            self.sample(end);
        }
        self.report(end, s.events())
    }

    /// Calls `f` with component `c`'s kind and what it sees of the run;
    /// what it emits goes on the stack, first emitted on top. For the
    /// fleet's code outside this file; the router itself uses `kind!`, the
    /// same without a closure.
    pub(crate) fn with_kind<R>(
        &mut self,
        s: &mut Scheduler<Ev>,
        c: CompId,
        f: impl FnOnce(&mut Kind, &mut Cx) -> R,
    ) -> R {
        let mark = self.flow.stack.len();
        let (k, mut cx) = self.parts(s, c);
        let r = f(k, &mut cx);
        self.emitted(mark);
        r
    }

    /// Component `c`'s kind and what it sees of the run, borrowed apart.
    #[inline(always)]
    pub(crate) fn parts<'a>(
        &'a mut self,
        s: &'a mut Scheduler<Ev>,
        c: CompId,
    ) -> (&'a mut Kind, Cx<'a>) {
        let i = c.index();
        let cx = Cx {
            now: s.now(),
            me: c,
            stats: &mut self.stats[i],
            flow: &mut self.flow,
            sched: s,
        };
        (&mut self.comps[i], cx)
    }

    /// What a kind emitted above `mark` goes first emitted on top.
    #[inline(always)]
    pub(crate) fn emitted(&mut self, mark: usize) {
        if self.flow.stack.len() > mark + 1 {
            self.flow.stack[mark..].reverse();
        }
    }

    /// Carries out the stacked actions (and those they lead to).
    pub(crate) fn drain(&mut self, s: &mut Scheduler<Ev>) {
        // Calls and leaves are nearly all the traffic: tested first and
        // read straight from their packed words, the rest apart
        // (conditional branches predict better than one indirect jump over
        // every action).
        while let Some(p) = self.flow.stack.pop() {
            match p.variant() {
                Packed::CALL => {
                    let from = p.visit();
                    let visit = self.flow.visits[from.slot()];
                    if self.att.on {
                        if let Some(k) = self.att.for_call(visit.comp, p.comp()) {
                            self.call_start(s, Some(from), visit.req, p.comp(), k);
                            continue;
                        }
                    }
                    self.enter(s, p.comp(), visit.req, Some(from));
                }
                Packed::LEAVE => self.leave(s, p.visit(), p.outcome()),
                _ => self.rare(s, p.unpack()),
            }
        }
    }

    /// One of a component's own events, scheduled or run.
    #[inline(always)]
    fn wake(&mut self, s: &mut Scheduler<Ev>, w: Wake) {
        kind!(self, s, w.comp, on_wake(w));
    }

    /// The actions other than calls and leaves.
    #[inline(never)]
    fn rare(&mut self, s: &mut Scheduler<Ev>, a: Action) {
        match a {
            Action::Spawn { to, req } => self.enter(s, to, req, None),
            Action::Refuse(v, o) => self.refuse(s, v, o),
            Action::Run(w) => self.wake(s, w),
            Action::Started(req) => self.started(s, req),
            Action::Answer(parent, req, outcome, child) => {
                self.answer(s, parent, req, outcome, child)
            }
            Action::Call { .. } | Action::Leave(..) => unreachable!("handled by drain"),
        }
    }

    /// A request of source `src` arrives: a new one from its arrivals (or
    /// a user's new session) when `left` is None, else a user's next in
    /// its session, with `left` after it.
    fn on_arrival(&mut self, s: &mut Scheduler<Ev>, src: u16, left: Option<u16>) {
        let now = s.now();
        if self.flow.requests.len() >= self.cfg.max_in_flight {
            self.runaway = Some(Runaway {
                at_s: to_secs(now),
                in_flight: self.flow.requests.len(),
                limit: self.cfg.max_in_flight,
            });
            s.stop();
            return;
        }
        let (source, first_class) = &mut self.sources[src as usize];
        let mut session_left = left.unwrap_or(0);
        if let Some(u) = source.users() {
            if !u.sends(now) {
                return;
            }
            if left.is_none() {
                session_left = u.begin(now);
            }
        }
        let c = source.next_class();
        let key = source.next_key(c);
        let (prompt, output) = source.next_tokens(c);
        if left.is_none() {
            if let Some(t) = source.next_arrival(now) {
                s.at(t, Ev::Arrival(src));
            }
        }
        let class = *first_class + c as u16;
        let to = self.flow.classes[class as usize].entry;
        let counted = now >= self.cfg.warmup;
        self.counted_arrived += counted as u64;
        self.flow.classes[class as usize].arrived += counted as u64;
        let req = ReqId(self.flow.requests.insert(Request {
            arrival: now,
            key,
            class,
            counted,
            origin: None,
            started: false,
            prompt,
            output,
            detached: 0,
            done: false,
            missed: false,
            left: session_left,
        }));
        self.sys.arrivals += 1;
        self.sys.in_system.add(now, 1.0);
        if self.att.on {
            if let Some(k) = self.att.for_class(class) {
                return self.call_start(s, None, req, to, k);
            }
        }
        self.enter(s, to, req, None);
    }

    /// Request `req` reaches component `comp`, called by visit `parent`.
    #[inline(always)]
    fn enter(&mut self, s: &mut Scheduler<Ev>, comp: CompId, req: ReqId, parent: Option<VisitId>) {
        let v = self.open_visit(s.now(), comp, req, parent, 0);
        self.admit(s, v, comp);
    }

    /// The visit of request `req` to `comp`, called by `parent`, begins
    /// (`hint`: what its kind finds in `inst`: 0, or 1 + an instance a
    /// retry should avoid).
    #[inline(always)]
    pub(crate) fn open_visit(
        &mut self,
        now: Time,
        comp: CompId,
        req: ReqId,
        parent: Option<VisitId>,
        hint: u32,
    ) -> VisitId {
        let v = VisitId::from_slot(self.flow.visits.insert(Visit {
            req,
            parent,
            comp,
            step: 0,
            inst: hint,
            enter: now,
        }));
        let st = &mut self.stats[comp.index()];
        st.arrivals += 1;
        st.in_system.add(now, 1.0);
        v
    }

    /// Visit `v`, just opened at `comp`, is handed to its kind.
    #[inline(always)]
    pub(crate) fn admit(&mut self, s: &mut Scheduler<Ev>, v: VisitId, comp: CompId) {
        if self.down[comp.index()] {
            self.stats[comp.index()].failed += 1;
            self.refuse(s, v, Outcome::Failed);
            return;
        }
        let caller = self.caller(comp, self.flow.visits[v.slot()].parent);
        kind!(self, s, comp, enter(v, caller));
    }

    /// The caller's instance and its generation, for kinds that ask.
    #[inline]
    fn caller(&self, comp: CompId, parent: Option<VisitId>) -> Caller {
        if !self.hooks[comp.index()].caller {
            return (0, 0);
        }
        // An attempt's caller is the visit that made its call record.
        let parent = match parent.and_then(|p| p.as_record()) {
            Some(id) => self.att.caller_of(id),
            None => parent,
        };
        let Some(p) = parent else {
            return (0, 0);
        };
        let caller = self.flow.visits[p.slot()];
        match self.comps[caller.comp.index()].fleet() {
            Some(pool) => (
                caller.inst,
                pool.instances()[caller.inst as usize].generation(),
            ),
            None => (0, 0),
        }
    }

    /// Visit `v` ends before it holds anything: refused (`Rejected`) or
    /// given up waiting (`TimedOut`), counted where it happened.
    fn refuse(&mut self, s: &mut Scheduler<Ev>, v: VisitId, outcome: Outcome) {
        let visit = self.flow.visits[v.slot()];
        let st = &mut self.stats[visit.comp.index()];
        match outcome {
            Outcome::TimedOut => st.timed_out += 1,
            Outcome::Rejected => st.rejections += 1,
            // Counted by the kind that lost it (`Cx::lose_waiting`).
            _ => {}
        }
        st.in_system.add(s.now(), -1.0);
        self.flow.visits.remove(v.slot());
        self.ended_attempt(&visit, outcome);
        self.answer(s, visit.parent, visit.req, outcome, (v.slot(), visit.comp));
    }

    /// Visit `visit` ends with `outcome`: if it is an attempt that failed,
    /// its record learns where.
    #[inline(always)]
    fn ended_attempt(&mut self, visit: &Visit, outcome: Outcome) {
        if outcome != Outcome::Ok {
            if let Some(id) = visit.parent.and_then(|p| p.as_record()) {
                self.attempt_failed_at(id, visit.inst);
            }
        }
    }

    /// Visit `v` ends: its kind releases what it holds, then its parent
    /// hears the answer.
    #[inline(always)]
    fn leave(&mut self, s: &mut Scheduler<Ev>, v: VisitId, outcome: Outcome) {
        let now = s.now();
        let visit = self.flow.visits[v.slot()];
        self.flow.visits.remove(v.slot());
        let st = &mut self.stats[visit.comp.index()];
        st.in_system.add(now, -1.0);
        if outcome == Outcome::Ok {
            st.completions += 1;
            let rt = now - visit.enter;
            st.resp_sum += to_secs(rt);
            st.window.record(rt);
            if let Some(h) = &mut st.scaler_window {
                h.record(rt);
            }
            if visit.enter >= self.cfg.warmup {
                st.response.record(rt);
            }
        }
        self.ended_attempt(&visit, outcome);
        // The answer goes up once what the kind emits on release is done.
        let mark = self.flow.stack.len();
        if self.hooks[visit.comp.index()].leave {
            kind!(self, s, visit.comp, on_leave(&visit, outcome));
        }
        let child = (v.slot(), visit.comp);
        if self.flow.stack.len() == mark {
            self.answer(s, visit.parent, visit.req, outcome, child);
        } else {
            let answer = Action::Answer(visit.parent, visit.req, outcome, child);
            self.flow.stack.insert(mark, answer.pack());
        }
    }

    /// The answer of visit `child` (slot, component) reaches its parent:
    /// a visit, a call record, nobody (a detached attempt), or the
    /// request's end.
    #[inline(always)]
    pub(crate) fn answer(
        &mut self,
        s: &mut Scheduler<Ev>,
        parent: Option<VisitId>,
        req: ReqId,
        outcome: Outcome,
        child: (u32, CompId),
    ) {
        match parent {
            None => self.finish(s, req, outcome),
            Some(p) if p.is_visit() => {
                let comp = self.flow.visits[p.slot()].comp;
                kind!(self, s, comp, on_answer(p, outcome));
            }
            Some(p) => match p.as_record() {
                Some(id) => self.attempt_answered(s, id, child.0, outcome),
                None => self.detached_answered(req, child.1, outcome),
            },
        }
    }

    /// Request `req` began service at its first stop: a job's origin is
    /// told once.
    fn started(&mut self, s: &mut Scheduler<Ev>, req: ReqId) {
        let r = &mut self.flow.requests[req.0];
        let Some(origin) = r.origin.filter(|_| !r.started) else {
            return;
        };
        r.started = true;
        let job = *r;
        kind!(self, s, origin, on_job_started(&job));
    }

    /// A counted request ended at `now`, answered (`ok`) or not: its
    /// minute's tally.
    fn count_minute(&mut self, now: Time, ok: bool) {
        let m = (now.saturating_sub(self.cfg.warmup) / (60 * scalesim_sim::NS_PER_SEC)) as usize;
        if self.minutes.len() <= m {
            self.minutes.resize(m + 1, [0; 2]);
        }
        self.minutes[m][!ok as usize] += 1;
    }

    /// Request `req` ended.
    fn finish(&mut self, s: &mut Scheduler<Ev>, req: ReqId, outcome: Outcome) {
        let now = s.now();
        let r = self.flow.requests[req.0];
        if r.detached > 0 {
            // Attempts nobody awaits still use it: it goes with the last.
            self.flow.requests[req.0].done = true;
        } else {
            self.flow.requests.remove(req.0);
        }
        if let Some(origin) = r.origin {
            kind!(self, s, origin, on_job_done(&r, outcome));
            return;
        }
        if let Some(&Some(src)) = self.closed.get(r.class as usize) {
            // A user has its answer: it thinks, then sends again (or its
            // session is over).
            let users = self.sources[src as usize].0.users().expect("has users");
            match users.answered(r.arrival, now, r.left) {
                Next::Send(t, left) => s.at(t, Ev::Send { src, left }),
                Next::Begin(t) => s.at(t, Ev::Arrival(src)),
                Next::Leave => {}
            }
        }
        self.sys.in_system.add(now, -1.0);
        if r.counted {
            self.count_minute(now, outcome == Outcome::Ok);
        }
        match outcome {
            Outcome::Ok => {
                self.sys.completions += 1;
                let lat = now - r.arrival;
                self.sys.window.record(lat);
                if r.counted {
                    self.counted_completed += 1;
                    self.latency.record(lat);
                    let c = &mut self.flow.classes[r.class as usize];
                    c.completed += 1;
                    c.latency.record(lat);
                }
            }
            Outcome::Rejected => {
                self.sys.rejections += 1;
                self.counted_rejected += r.counted as u64;
                self.flow.classes[r.class as usize].rejected += r.counted as u64;
            }
            Outcome::TimedOut => {
                self.sys.timed_out += 1;
                self.counted_timed_out += r.counted as u64;
                self.flow.classes[r.class as usize].timed_out += r.counted as u64;
            }
            Outcome::Failed => {
                self.sys.failed += 1;
                self.counted_failed += r.counted as u64;
                self.flow.classes[r.class as usize].failed += r.counted as u64;
            }
        }
    }
}

impl Model for System {
    type Event = Ev;

    fn handle(&mut self, ev: Ev, s: &mut Scheduler<Ev>) {
        match ev {
            Ev::Arrival(src) => self.on_arrival(s, src, None),
            Ev::Send { src, left } => self.on_arrival(s, src, Some(left)),
            Ev::Users(src) => {
                let now = s.now();
                let users = self.sources[src as usize].0.users().expect("closed");
                let (starts, next) = users.due(now);
                if let Some(t) = next {
                    s.at(t, Ev::Users(src));
                }
                for _ in 0..starts {
                    s.at(now, Ev::Arrival(src));
                }
            }
            Ev::Wake(w) => self.wake(s, w),
            Ev::Sample => {
                let now = s.now();
                self.sample(now);
                if now < self.cfg.duration {
                    s.at((now + self.cfg.sample).min(self.cfg.duration), Ev::Sample);
                }
            }
            Ev::Evaluate(k) => {
                self.evaluate(s, k as usize);
                let p = self.scalers[k as usize].period;
                s.after(p, Ev::Evaluate(k));
            }
            Ev::Snapshot(k) => {
                self.snapshot(k as usize, s.now());
                let w = self.scalers[k as usize].window;
                s.after(w, Ev::Snapshot(k));
            }
            Ev::Boot { comp, inst, gen } => self.lifecycle(s, comp, inst, gen, false),
            Ev::Ready { comp, inst, gen } => self.lifecycle(s, comp, inst, gen, true),
            Ev::Fail { comp, inst, gen } => self.instance_fails(s, comp, inst, gen),
            Ev::Repaired { comp, inst, gen } => self.instance_repaired(s, comp, inst, gen),
            Ev::Killed {
                comp,
                inst,
                gen,
                restart_ms,
            } => self.instance_killed(s, comp, inst, gen, restart_ms),
            Ev::Outage { k, start } => self.outage(s, k as usize, start),
            Ev::Checked {
                comp,
                inst,
                gen,
                healthy,
            } => self.health_checked(s, comp, inst, gen, healthy),
            Ev::SpotNotice { comp, inst, gen } => self.spot_notice(s, comp, inst, gen),
            Ev::SpotReclaim { comp, inst, gen } => self.spot_reclaim(s, comp, inst, gen),
            Ev::SpotRebalance { comp, inst, gen } => self.spot_rebalance(s, comp, inst, gen, false),
            Ev::SpotRetire { comp, inst, gen } => self.spot_rebalance(s, comp, inst, gen, true),
            Ev::Attempt {
                call,
                seq,
                what,
                visit,
            } => self.attempt_event(s, call, seq, what, visit),
            Ev::Warmup => self.warmed_up(s.now()),
        }
        self.drain(s);
    }
}
