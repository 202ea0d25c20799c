//! The request flow: the interface every kind of component implements
//! ([`Component`]), the actions a kind emits ([`Action`]), what a kind sees
//! of the run while it handles something ([`Cx`]), and the router that
//! carries the actions out ([`router`]).
//!
//! A request enters the component its source names. Each stop on its path
//! is a *visit*. A kind never calls another component: it emits actions —
//! call that component for this visit, end this visit, refuse it, start a
//! detached request (a queue's job), run one of my own events now — and the
//! router carries them out depth-first in the order emitted. That order is
//! the order of the calls a hand-written recursive router would make, which
//! is what keeps runs deterministic; and because every hop passes through
//! the router, cross-cutting behaviour (timeouts, retries, failures) has one
//! place to live.
//!
//! A kind schedules its own timed events with [`Cx::after`] and [`Cx::at`]:
//! a [`Wake`] carrying the kind's own tag and two numbers (a visit, an
//! instance, a generation), routed back to it by component id.

pub mod attempts;
pub mod breaker;
pub mod resilience;
pub mod router;

use crate::fleet::cost::CostConfig;
use crate::measure::Stats;
use crate::traffic::Op;
use scalesim_sim::stats::LatencyHist;
use scalesim_sim::{Scheduler, Slab, Time};
use std::num::NonZeroU32;

pub use router::{Ev, System};

/// A component's index in the (expanded) configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CompId(pub u16);

impl CompId {
    /// As an index into per-component tables.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A visit: one stop of a request at one component. `Option<VisitId>` is
/// as small as a `u32` (the id stores its slab index plus one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VisitId(NonZeroU32);

impl VisitId {
    /// The id of slab slot `i`.
    #[inline]
    pub fn from_slot(i: u32) -> VisitId {
        // Without a branch: slots stay far below 2^32 - 1 (visits in flight
        // are bounded by `max_in_flight`), where this would saturate.
        VisitId(NonZeroU32::MIN.saturating_add(i))
    }

    /// Its slab slot.
    #[inline]
    pub fn slot(self) -> u32 {
        self.0.get() - 1
    }

    /// Parents from this number up are not visits: a call record
    /// ([`attempts`]), or an attempt nobody awaits.
    const NOT_A_VISIT: u32 = 1 << 31;

    /// The parent of an attempt no longer awaited: its work goes on.
    pub(crate) const DETACHED: VisitId = VisitId(NonZeroU32::MAX);

    /// The parent of an attempt no longer awaited and cancelled: its kind
    /// drops it at its next step ([`Cx::cancelled`]).
    pub(crate) const CANCELLED: VisitId = match NonZeroU32::new(u32::MAX - 1) {
        Some(v) => VisitId(v),
        None => unreachable!(),
    };

    /// The parent of an attempt of call record `id`.
    #[inline]
    pub(crate) fn record(id: u32) -> VisitId {
        debug_assert!(id < VisitId::NOT_A_VISIT - 2);
        VisitId(NonZeroU32::MIN.saturating_add(VisitId::NOT_A_VISIT - 1 + id))
    }

    /// Whether this parent is a visit (not a record or a sentinel).
    #[inline(always)]
    pub(crate) fn is_visit(self) -> bool {
        self.0.get() < VisitId::NOT_A_VISIT
    }

    /// As a parent: the call record it names, if it names one.
    #[inline]
    pub(crate) fn as_record(self) -> Option<u32> {
        let raw = self.0.get();
        (VisitId::NOT_A_VISIT..u32::MAX - 1)
            .contains(&raw)
            .then(|| raw - VisitId::NOT_A_VISIT)
    }
}

/// A request in flight (a user request, or a job a queue accepted).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReqId(pub u32);

/// How a visit (or a whole request) ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Answered.
    Ok,
    /// Refused somewhere on its path.
    Rejected,
    /// Gave up somewhere on its path: it waited longer than a
    /// `queue_timeout` allowed and left unserved (load shedding).
    TimedOut,
    /// Lost somewhere on its path: the instance serving it failed (an
    /// error answer, HTTP 502 at a balancer).
    Failed,
}

impl Outcome {
    /// Its number, to carry in a kind's event ([`Outcome::from_code`]).
    #[inline]
    pub fn code(self) -> u32 {
        self as u32
    }

    /// The outcome numbered `c` by [`Outcome::code`].
    #[inline]
    pub fn from_code(c: u32) -> Outcome {
        match c {
            0 => Outcome::Ok,
            1 => Outcome::Rejected,
            2 => Outcome::TimedOut,
            _ => Outcome::Failed,
        }
    }
}

/// A request in flight.
#[derive(Clone, Copy, Debug)]
pub struct Request {
    /// When it arrived (a job: when its queue accepted it).
    pub arrival: Time,
    /// Its key (0 for sources without keys).
    pub key: u64,
    /// Its request class (global index).
    pub class: u16,
    /// Arrived after warm-up: counted in the run's figures.
    pub counted: bool,
    /// A job: the component that started it (a queue), told when a worker
    /// starts it and when it ends.
    pub origin: Option<CompId>,
    /// A job: a worker has started it.
    pub started: bool,
    /// LLM requests: prompt tokens.
    pub prompt: u32,
    /// LLM requests: output tokens.
    pub output: u32,
    /// Attempts of it that nobody awaits any more and that are not done
    /// (see [`attempts`]): it stays in memory until they are.
    pub detached: u32,
    /// Its answer was given while detached attempts were still at work.
    pub done: bool,
    /// Its last cache lookup missed (read by a pool step with
    /// `if = "miss"`: cache-aside).
    pub missed: bool,
    /// A user's request: how many more its session sends after it.
    pub left: u16,
}

/// One stop of a request at a component.
#[derive(Clone, Copy, Debug)]
pub struct Visit {
    /// The request.
    pub req: ReqId,
    /// The visit that called this one (None: the request's first stop).
    pub parent: Option<VisitId>,
    /// The component visited.
    pub comp: CompId,
    /// The kind's own progress counter (a pool: the next call; a cache:
    /// what the lookup found; shards: answers still awaited).
    pub step: u16,
    /// The kind's own number (a fleet: the instance serving the visit).
    pub inst: u32,
    /// When the visit began.
    pub enter: Time,
}

/// A request class: a source's `mix` entry (or the whole source).
pub struct Class {
    /// `<source>` or `<source>.<class>`.
    pub name: String,
    /// Read or write.
    pub op: Op,
    /// The component it enters.
    pub entry: CompId,
    /// Requests that arrived after warm-up.
    pub arrived: u64,
    /// Of those, completed.
    pub completed: u64,
    /// Of those, rejected.
    pub rejected: u64,
    /// Of those, timed out on their path (a `queue_timeout`).
    pub timed_out: u64,
    /// Of those, lost on their path to an instance failure.
    pub failed: u64,
    /// End-to-end latency of those completed.
    pub latency: LatencyHist,
    /// Classes with token counts: (TTFT, TPOT) of their LLM visits.
    pub tokens: Option<Box<(LatencyHist, LatencyHist)>>,
}

/// A kind's own event: its tag and two numbers whose meaning the kind
/// chooses (a visit's slot, an instance, a generation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wake {
    /// The component it is for.
    pub comp: CompId,
    /// Which of the kind's events.
    pub tag: u8,
    /// First number.
    pub a: u32,
    /// Second number.
    pub b: u32,
}

/// The caller of a visit as a per-instance component sees it: the
/// calling instance and its generation ((0, 0): no fleet caller).
pub type Caller = (u32, u32);

/// What a kind asks the router to do, carried out depth-first in the
/// order emitted.
#[derive(Clone, Copy, Debug)]
pub enum Action {
    /// Visit `from` calls component `to` (a child visit of the same
    /// request).
    Call {
        /// The calling visit.
        from: VisitId,
        /// The component called.
        to: CompId,
    },
    /// Request `req` starts at component `to` with no caller (a job).
    Spawn {
        /// Entry component.
        to: CompId,
        /// The new request.
        req: ReqId,
    },
    /// Visit `v` ends with `outcome`: its kind releases what it holds,
    /// then its caller hears the answer.
    Leave(VisitId, Outcome),
    /// Visit `v` ends before it holds anything: refused at the door
    /// (`Rejected`) or given up while waiting (`TimedOut`).
    Refuse(VisitId, Outcome),
    /// The kind runs one of its own events now, after what it emitted
    /// before.
    Run(Wake),
    /// Request `req` began service at the first stop of its path (a job's
    /// origin is told).
    Started(ReqId),
    /// The answer of a visit reaches its caller (or ends the request):
    /// the caller, the request, the outcome, and the visit answering
    /// (its slot and component).
    Answer(Option<VisitId>, ReqId, Outcome, (u32, CompId)),
}

/// An [`Action`] as the stack stores it: two whole words, written and read
/// as such (an enum written field by field and read back whole stalls the
/// processor's store forwarding on every action).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Packed(u64, u64);

impl Action {
    /// Its stack form: the first word holds the variant (bits 0-7), a
    /// 32-bit id (a visit's slot, a request, a wake's first number; bits
    /// 8-39), a component (bits 40-55) and an outcome or wake tag (bits
    /// 56-63); the second word a wake's second number, or an answer's
    /// parent visit (its id, 0 for none).
    #[inline(always)]
    pub(crate) fn pack(self) -> Packed {
        let w = |v: u8, id: u32, comp: u16, last: u8| {
            v as u64 | (id as u64) << 8 | (comp as u64) << 40 | (last as u64) << 56
        };
        match self {
            Action::Call { from, to } => Packed(w(Packed::CALL, from.slot(), to.0, 0), 0),
            Action::Spawn { to, req } => Packed(w(Packed::SPAWN, req.0, to.0, 0), 0),
            Action::Leave(v, o) => Packed(w(Packed::LEAVE, v.slot(), 0, o as u8), 0),
            Action::Refuse(v, o) => Packed(w(Packed::REFUSE, v.slot(), 0, o as u8), 0),
            Action::Run(k) => Packed(w(Packed::RUN, k.a, k.comp.0, k.tag), k.b as u64),
            Action::Started(req) => Packed(w(Packed::STARTED, req.0, 0, 0), 0),
            Action::Answer(p, req, o, (child, comp)) => Packed(
                w(Packed::ANSWER, req.0, comp.0, o as u8),
                p.map_or(0, |p| p.0.get()) as u64 | (child as u64) << 32,
            ),
        }
    }
}

impl Packed {
    /// [`Action::Call`].
    pub(crate) const CALL: u8 = 0;
    /// [`Action::Spawn`].
    const SPAWN: u8 = 1;
    /// [`Action::Leave`].
    pub(crate) const LEAVE: u8 = 2;
    /// [`Action::Refuse`].
    const REFUSE: u8 = 3;
    /// [`Action::Run`].
    const RUN: u8 = 4;
    /// [`Action::Started`].
    const STARTED: u8 = 5;
    /// [`Action::Answer`].
    const ANSWER: u8 = 6;

    /// Which action (one of the constants above).
    #[inline(always)]
    pub(crate) fn variant(self) -> u8 {
        self.0 as u8
    }

    /// Its 32-bit id or number.
    #[inline(always)]
    fn id(self) -> u32 {
        (self.0 >> 8) as u32
    }

    /// Its visit (actions on a visit).
    #[inline(always)]
    pub(crate) fn visit(self) -> VisitId {
        VisitId::from_slot(self.id())
    }

    /// Its component.
    #[inline(always)]
    pub(crate) fn comp(self) -> CompId {
        CompId((self.0 >> 40) as u16)
    }

    /// Its last byte: an outcome or a wake tag.
    #[inline(always)]
    fn last(self) -> u8 {
        (self.0 >> 56) as u8
    }

    /// Its outcome (actions that end something).
    #[inline(always)]
    pub(crate) fn outcome(self) -> Outcome {
        Outcome::from_code(self.last() as u32)
    }

    /// The action it stores.
    #[inline(always)]
    pub(crate) fn unpack(self) -> Action {
        let (id, second) = (self.id(), self.1 as u32);
        match self.variant() {
            Packed::CALL => Action::Call {
                from: self.visit(),
                to: self.comp(),
            },
            Packed::SPAWN => Action::Spawn {
                to: self.comp(),
                req: ReqId(id),
            },
            Packed::LEAVE => Action::Leave(self.visit(), self.outcome()),
            Packed::REFUSE => Action::Refuse(self.visit(), self.outcome()),
            Packed::RUN => Action::Run(Wake {
                comp: self.comp(),
                tag: self.last(),
                a: id,
                b: second,
            }),
            Packed::STARTED => Action::Started(ReqId(id)),
            // Packed::ANSWER, the only other variant `pack` writes.
            _ => Action::Answer(
                NonZeroU32::new(second).map(VisitId),
                ReqId(id),
                self.outcome(),
                ((self.1 >> 32) as u32, self.comp()),
            ),
        }
    }
}

/// The state every component's visits share: the requests, visits and
/// classes in flight, the action stack, and what billing needs.
pub(crate) struct Flow {
    /// End of warm-up.
    pub(crate) warmup: Time,
    pub(crate) visits: Slab<Visit>,
    pub(crate) requests: Slab<Request>,
    pub(crate) classes: Vec<Class>,
    /// Actions still to carry out, the next on top. A kind pushes what it
    /// emits in order; the router then reverses that segment, so the first
    /// emitted is on top.
    pub(crate) stack: Vec<Packed>,
    /// Price per instance-hour of each component (None: not priced): on
    /// demand for fleets, whose spot instances pay `spot_factor` of it.
    pub(crate) hourly: Vec<Option<f64>>,
    /// Per component: a spot instance-hour's share of an on-demand one.
    pub(crate) spot_factor: Vec<f64>,
    /// Billing rules.
    pub(crate) cost: CostConfig,
    /// Per fleet, per instance: (generation, bytes) held in its memory by
    /// components that live inside its instances (an in-process L1
    /// cache's entries), read by the fleet's own memory.
    pub(crate) held: Vec<Vec<(u32, f64)>>,
    /// What kinds noted for `incidents.csv` (a region seen down).
    pub(crate) incidents: Vec<crate::measure::Incident>,
}

impl Flow {
    /// The price per hour of instance `x` of component `c` (None: not
    /// priced).
    pub(crate) fn price(&self, c: CompId, x: &crate::fleet::pool::Instance) -> Option<f64> {
        let h = self.hourly[c.index()]? * x.size;
        Some(if x.spot {
            h * self.spot_factor[c.index()]
        } else {
            h
        })
    }

    /// The bill of instance `x` of component `c`, gone `now`, USD (0 if
    /// not priced). EC2 charges nothing for a spot instance it interrupts
    /// within its first hour ([`crate::fleet::spot`]).
    pub(crate) fn closed(&self, c: CompId, x: &crate::fleet::pool::Instance, now: Time) -> f64 {
        let secs = scalesim_sim::to_secs(now.saturating_sub(x.requested_at));
        match self.price(c, x) {
            Some(_) if x.interrupted && secs < 3600.0 => 0.0,
            Some(h) => self.cost.bill(h, secs),
            None => 0.0,
        }
    }
}

/// What a kind sees of the run while it handles a visit or an event.
pub struct Cx<'a> {
    /// Simulated time now.
    pub now: Time,
    /// The component handling this.
    pub me: CompId,
    /// Its measurements common to every kind.
    pub stats: &'a mut Stats,
    pub(crate) flow: &'a mut Flow,
    pub(crate) sched: &'a mut Scheduler<Ev>,
}

impl Cx<'_> {
    /// End of warm-up: what happens before it is not measured.
    #[inline]
    pub fn warmup(&self) -> Time {
        self.flow.warmup
    }

    /// Request class `class` (its per-class measurements).
    #[inline]
    pub fn class_mut(&mut self, class: u16) -> &mut Class {
        &mut self.flow.classes[class as usize]
    }

    /// Instance `inst` (generation `gen`) of this component is killed now
    /// (out of memory): it fails, what it holds is lost, and it restarts
    /// in place after `restart`.
    pub fn kill_instance(&mut self, inst: u32, gen: u32, restart: Time) {
        let comp = self.me;
        self.sched.after(
            0,
            Ev::Killed {
                comp,
                inst,
                gen,
                restart_ms: (restart / 1_000_000).min(u32::MAX as u64) as u32,
            },
        );
    }

    /// Notes an incident of this component now (`incidents.csv`):
    /// `what` happened to `subject` (a region, an instance).
    pub fn incident(&mut self, subject: String, what: &'static str) {
        self.flow.incidents.push(crate::measure::Incident {
            t_s: scalesim_sim::to_secs(self.now),
            component: subject,
            instance: u32::MAX,
            what,
        });
    }

    /// Instance `x` of this component is gone now: close its bill.
    #[inline]
    pub fn close_instance(&mut self, x: &crate::fleet::pool::Instance) {
        self.stats.closed_cost += self.flow.closed(self.me, x, self.now);
    }

    /// Visit `v`.
    #[inline]
    pub fn visit(&self, v: VisitId) -> Visit {
        self.flow.visits[v.slot()]
    }

    /// Visit `v`, to change its `step` or `inst`.
    #[inline]
    pub fn visit_mut(&mut self, v: VisitId) -> &mut Visit {
        &mut self.flow.visits[v.slot()]
    }

    /// The request of visit `v`.
    #[inline]
    pub fn request_of(&self, v: VisitId) -> Request {
        self.flow.requests[self.flow.visits[v.slot()].req.0]
    }

    /// What lives in instance `inst` (generation `gen`) of fleet `host`
    /// now holds `by` more bytes of its memory (less when negative).
    pub fn hold(&mut self, host: CompId, inst: u32, gen: u32, by: f64) {
        let row = &mut self.flow.held[host.index()];
        let i = inst as usize;
        if row.len() <= i {
            row.resize(i + 1, (gen, 0.0));
        }
        if row[i].0 != gen {
            // A new instance in the slot: what the old one held is gone.
            row[i] = (gen, 0.0);
        }
        row[i].1 += by;
    }

    /// Bytes held in this component's instance `inst` (generation `gen`)
    /// by what lives inside it (see [`Cx::hold`]).
    #[inline]
    pub fn held(&self, inst: u32, gen: u32) -> f64 {
        match self.flow.held[self.me.index()].get(inst as usize) {
            Some(&(g, b)) if g == gen => b,
            _ => 0.0,
        }
    }

    /// The component that made visit `v`'s call (None: a request's first
    /// stop).
    #[inline]
    pub fn caller_of(&self, v: VisitId) -> Option<CompId> {
        let p = self.flow.visits[v.slot()].parent?;
        Some(self.flow.visits[p.slot()].comp)
    }

    /// The request visit `v` serves, to change.
    #[inline]
    pub fn request_mut(&mut self, v: VisitId) -> &mut Request {
        &mut self.flow.requests[self.flow.visits[v.slot()].req.0]
    }

    /// Whether request `r` reads or writes.
    #[inline]
    pub fn op(&self, r: &Request) -> Op {
        self.flow.classes[r.class as usize].op
    }

    /// Starts a request of its own (a job) from `r`, arriving now; send it
    /// on its way with [`Cx::spawn`].
    pub fn new_request(&mut self, r: Request) -> ReqId {
        ReqId(self.flow.requests.insert(r))
    }

    /// Schedules this component's event `tag` after `dt`.
    #[inline]
    pub fn after(&mut self, dt: Time, tag: u8, a: u32, b: u32) {
        let comp = self.me;
        self.sched.after(dt, Ev::Wake(Wake { comp, tag, a, b }));
    }

    /// Schedules this component's event `tag` at `t` (not before now).
    #[inline]
    pub fn at(&mut self, t: Time, tag: u8, a: u32, b: u32) {
        let comp = self.me;
        self.sched
            .at(t.max(self.now), Ev::Wake(Wake { comp, tag, a, b }));
    }

    /// Visit `from` calls component `to`.
    #[inline]
    pub fn call(&mut self, from: VisitId, to: CompId) {
        self.flow.stack.push(Action::Call { from, to }.pack());
    }

    /// Request `req` starts at `to` with no caller.
    #[inline]
    pub fn spawn(&mut self, to: CompId, req: ReqId) {
        self.flow.stack.push(Action::Spawn { to, req }.pack());
    }

    /// Visit `v` ends.
    #[inline]
    pub fn leave(&mut self, v: VisitId, outcome: Outcome) {
        self.flow.stack.push(Action::Leave(v, outcome).pack());
    }

    /// Visit `v` is refused before it holds anything.
    #[inline]
    pub fn refuse(&mut self, v: VisitId) {
        self.flow
            .stack
            .push(Action::Refuse(v, Outcome::Rejected).pack());
    }

    /// Visit `v` gave up waiting before it held anything (its
    /// `queue_timeout` passed): it times out, and its caller hears so.
    #[inline]
    pub fn abandon(&mut self, v: VisitId) {
        self.flow
            .stack
            .push(Action::Refuse(v, Outcome::TimedOut).pack());
    }

    /// Visit `v`, held by an instance that failed, is lost here: it ends
    /// with [`Outcome::Failed`], counted at this component (its callers
    /// hear the failure and pass it on). An error answer (`error_rate`)
    /// ends the same way.
    #[inline]
    pub fn lose(&mut self, v: VisitId) {
        self.stats.failed += 1;
        self.flow
            .stack
            .push(Action::Leave(v, Outcome::Failed).pack());
    }

    /// Visit `v`, waiting and holding nothing, is lost here (it waited for
    /// an instance that failed).
    #[inline]
    pub fn lose_waiting(&mut self, v: VisitId) {
        self.stats.failed += 1;
        self.flow
            .stack
            .push(Action::Refuse(v, Outcome::Failed).pack());
    }

    /// Whether visit `v` was cancelled: its caller timed out and asked
    /// for the work to stop (`on_timeout = "cancel"`). A kind that checks
    /// drops it with [`Cx::drop_cancelled`] at its next step.
    #[inline]
    pub fn cancelled(&self, v: VisitId) -> bool {
        self.flow.visits[v.slot()].parent == Some(VisitId::CANCELLED)
    }

    /// Visit `v`, cancelled, ends here unfinished (what it holds is
    /// released as on any leave).
    #[inline]
    pub fn drop_cancelled(&mut self, v: VisitId) {
        self.stats.cancelled += 1;
        self.flow
            .stack
            .push(Action::Leave(v, Outcome::TimedOut).pack());
    }

    /// The visits `queued` at an instance that failed, holding nothing,
    /// are lost (see [`Component::instance_failed`]).
    pub fn lose_queued(&mut self, queued: &[u32]) {
        for &v in queued {
            self.stats.queue.add(self.now, -1.0);
            self.lose_waiting(VisitId::from_slot(v));
        }
    }

    /// Runs this component's event `tag` once what was emitted before it
    /// has been carried out.
    #[inline]
    pub fn run(&mut self, tag: u8, a: u32, b: u32) {
        let comp = self.me;
        self.flow
            .stack
            .push(Action::Run(Wake { comp, tag, a, b }).pack());
    }

    /// Visit `v` began service: if it is the first stop of a job, the
    /// job's origin is told.
    #[inline]
    pub fn started(&mut self, v: VisitId) {
        let visit = self.flow.visits[v.slot()];
        if visit.parent.is_none() && self.flow.requests[visit.req.0].origin.is_some() {
            // A job's first stop (jobs have no client policy: their first
            // visit's parent is never a record).
            self.flow.stack.push(Action::Started(visit.req).pack());
        }
    }

    /// Whether anything was emitted since `mark` (see [`Cx::mark`]).
    #[inline]
    pub fn emitted_since(&self, mark: usize) -> bool {
        self.flow.stack.len() > mark
    }

    /// A mark for [`Cx::emitted_since`].
    #[inline]
    pub fn mark(&self) -> usize {
        self.flow.stack.len()
    }
}

/// The behaviour of one kind of component: how it takes a visit, handles
/// its own events and the answers of what it called, releases what a
/// leaving visit held, and what it measures. Every method but `enter` has
/// a default that does nothing, so a simple kind is a few lines (see the
/// fixed-delay kind in `tests/plugin_kind.rs`).
pub trait Component {
    /// Whether [`Component::enter`] needs its caller's instance (a
    /// per-instance cache does).
    fn wants_caller(&self) -> bool {
        false
    }

    /// Whether [`Component::on_leave`] has anything to release. A kind
    /// whose visits hold nothing once answered says `false`, and the router
    /// skips the call (fixed once built, like [`Component::wants_caller`]).
    fn releases_on_leave(&self) -> bool {
        true
    }

    /// The tag of an event of its own to run at t = 0, if any (a periodic
    /// task, such as health checks).
    fn start_tag(&self) -> Option<u8> {
        None
    }

    /// Visit `v` arrives (already counted as an arrival and in the system).
    fn enter(&mut self, cx: &mut Cx, v: VisitId, caller: Caller);

    /// One of this component's events (scheduled or run).
    fn on_wake(&mut self, _cx: &mut Cx, _w: Wake) {}

    /// A component that visit `v` called has answered.
    fn on_answer(&mut self, _cx: &mut Cx, _v: VisitId, _outcome: Outcome) {}

    /// Visit `visit` is leaving (already removed and counted): release
    /// what it holds.
    fn on_leave(&mut self, _cx: &mut Cx, _visit: &Visit, _outcome: Outcome) {}

    /// A request this component started has begun service where it went.
    fn on_job_started(&mut self, _cx: &mut Cx, _job: &Request) {}

    /// A request this component started has ended.
    fn on_job_done(&mut self, _cx: &mut Cx, _job: &Request, _outcome: Outcome) {}

    /// Its fleet of instances, if it has one (they scale, boot and bill).
    fn fleet(&self) -> Option<&crate::fleet::pool::Pool> {
        None
    }

    /// The same, to change.
    fn fleet_mut(&mut self) -> Option<&mut crate::fleet::pool::Pool> {
        None
    }

    /// Its fleet's ready capacity changed: record it.
    fn capacity_changed(&mut self, _stats: &mut Stats, _now: Time) {}

    /// An instance became ready: hand it waiting visits.
    fn instance_ready(&mut self, _cx: &mut Cx) {}

    /// Instance `inst` failed (see [`crate::fleet::failure`]); `queued`
    /// are the visits that were waiting at it, holding nothing: they are
    /// lost now. A kind whose instances hold work of their own (an engine's
    /// batch) loses it here too.
    fn instance_failed(&mut self, cx: &mut Cx, _inst: u32, queued: &[u32]) {
        cx.lose_queued(queued);
    }

    /// Its cumulative counters beyond the common ones.
    fn counters(&self, _now: Time, _c: &mut crate::measure::Counters) {}

    /// The metrics it publishes to an autoscaler beyond the pool metrics,
    /// from the counters of a metric window (`per`: divide by ready
    /// instances).
    fn scaling_metrics(
        &self,
        _d: &crate::measure::Counters,
        _per: &dyn Fn(f64) -> Option<f64>,
        _dt: f64,
        _out: &mut Vec<crate::policy::Metric>,
    ) {
    }

    /// Whether its pods report the component's busy share (instances that
    /// step in batches) rather than their own slots' busy time.
    fn pods_share_cpu(&self) -> bool {
        false
    }

    /// What it has cost beyond its instance-hours so far, USD (a burstable
    /// fleet's surplus CPU credits).
    fn extra_cost_usd(&self) -> f64 {
        0.0
    }

    /// Fills its fields of the run's report (`d`: counters since warm-up,
    /// `span`: measured nanoseconds).
    fn report(
        &self,
        _d: &crate::measure::Counters,
        _stats: &Stats,
        _span: f64,
        _r: &mut crate::measure::ComponentReport,
    ) {
    }

    /// Fills what it reads from the other components' reports.
    fn finish_report(
        &self,
        _me: &mut crate::measure::ComponentReport,
        _all: &[crate::measure::ComponentReport],
    ) {
    }

    /// Fills its fields of a time-series row (`d`: counters of the window,
    /// `dt`: its length in ns) and clears its window figures.
    fn window(
        &mut self,
        _d: &crate::measure::Counters,
        _stats: &Stats,
        _dt: f64,
        _row: &mut crate::measure::TsRow,
    ) {
    }
}
