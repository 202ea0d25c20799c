//! How the router carries out a caller's [`Policy`]
//! ([`crate::flow::resilience`]): a call under a policy becomes a *call
//! record*, and each attempt a visit whose parent is that record rather
//! than the caller. The record hears every attempt's answer, times each
//! one out, sends the retries and the hedge, and passes exactly one answer
//! on to the caller (a visit, or the request's client).
//!
//! An attempt the caller stopped waiting for (timed out, or the loser of a
//! hedge) is *detached*: its parent becomes a sentinel, its work goes on
//! (or is cancelled at its next step), and its answer, when it comes, is
//! counted as wasted at the component that gave it. Its request stays in
//! memory until the last detached attempt is done.

use super::breaker::{Breaker, BreakerFallback};
use super::resilience::{Budget, Policy};
use super::{CompId, Ev, Outcome, ReqId, System, VisitId};
use crate::system::SystemConfig;
use scalesim_sim::{stream, Scheduler, SimRng, Slab, Time};

/// An attempt's timeout fired.
const TIMEOUT: u8 = 0;
/// The hedge's delay passed.
const HEDGE: u8 = 1;
/// A retry's back-off passed.
const RETRY: u8 = 2;

/// The policies of a system and the calls in flight under them.
pub(crate) struct Attempts {
    /// Whether any policy exists (else nothing here is consulted).
    pub(crate) on: bool,
    policies: Vec<Policy>,
    /// Per policy: its retry budget.
    budgets: Vec<Option<Budget>>,
    /// Per policy: its back-off's random stream.
    rngs: Vec<SimRng>,
    /// Per policy: its circuit breaker, and the callee.
    breakers: Vec<Option<(Breaker, CompId)>>,
    /// Breaker openings before warm-up ended, per policy.
    opens_at_warmup: Vec<u64>,
    /// Per caller component: (callee, policy).
    by_call: Vec<Vec<(CompId, u16)>>,
    /// Per request class: its client's policy.
    by_class: Vec<Option<u16>>,
    calls: Slab<Call>,
    /// Per component: some policy calls it.
    targets: Vec<bool>,
    /// The last record number handed out (0 marks a free record).
    seq: u32,
}

/// A call in flight under a policy.
#[derive(Clone, Copy)]
struct Call {
    /// The calling visit (None: the request's client).
    parent: Option<VisitId>,
    req: ReqId,
    to: CompId,
    policy: u16,
    /// Attempts sent.
    made: u8,
    /// The hedge was sent (or is no longer due).
    hedged: bool,
    /// A retry waits out its back-off.
    retry_pending: bool,
    /// Slots + 1 of the attempts awaited (0: none).
    live: [u32; 2],
    /// 1 + the instance the last failed attempt was at (0: none).
    avoid: u32,
    /// The last attempt's answer.
    last: Outcome,
    /// This record's number (0: free).
    seq: u32,
}

impl Attempts {
    /// The policies of `cfg` (expanded), their streams named after their
    /// owner.
    pub(crate) fn new(cfg: &SystemConfig, id: &dyn Fn(&str) -> CompId) -> Attempts {
        let (seed, rep) = (cfg.seed, cfg.replication);
        let mut a = Attempts {
            on: false,
            policies: Vec::new(),
            budgets: Vec::new(),
            rngs: Vec::new(),
            breakers: Vec::new(),
            opens_at_warmup: Vec::new(),
            by_call: vec![Vec::new(); cfg.components.len()],
            by_class: Vec::new(),
            calls: Slab::new(),
            targets: vec![false; cfg.components.len()],
            seq: 0,
        };
        let add =
            |a: &mut Attempts, p: &super::resilience::CallPolicyConfig, rng: SimRng, to: CompId| {
                let pol = p.compile();
                a.budgets.push(pol.budget.map(Budget::new));
                a.breakers.push(pol.breaker.map(|b| (Breaker::new(b), to)));
                a.opens_at_warmup.push(0);
                a.policies.push(pol);
                a.rngs.push(rng);
                a.on = true;
                a.targets[to.index()] = true;
                (a.policies.len() - 1) as u16
            };
        for (name, s) in &cfg.sources {
            // One policy (one budget, one breaker) per source, entry
            // component and class policy.
            let mut by_entry: Vec<(CompId, super::resilience::CallPolicyConfig, u16)> = Vec::new();
            for (ci, c) in s.classes().iter().enumerate() {
                let p = s.class_policy(ci);
                let to = id(c.to.as_deref().unwrap_or_default());
                let known = by_entry.iter().find(|e| e.0 == to && e.1 == p).map(|e| e.2);
                let k = (!p.is_empty()).then(|| match known {
                    Some(k) => k,
                    None => {
                        let label = format!("traffic.{name}");
                        let purpose = if by_entry.is_empty() {
                            "retries".to_string()
                        } else {
                            format!("retries.{}", cfg.components[to.index()].0)
                        };
                        let k = add(&mut a, &p, stream(seed, rep, &label, &purpose), to);
                        by_entry.push((to, p.clone(), k));
                        k
                    }
                });
                a.by_class.push(k);
            }
        }
        for (i, (name, c)) in cfg.components.iter().enumerate() {
            for (callee, p) in c.config().call_policies() {
                if p.is_empty() {
                    continue;
                }
                let rng = stream(
                    seed,
                    rep,
                    &format!("components.{name}"),
                    &format!("retries.{callee}"),
                );
                let k = add(&mut a, p, rng, id(callee));
                a.by_call[i].push((id(callee), k));
            }
        }
        a
    }

    /// The policy of calls from `from` to `to`, if any.
    #[inline]
    pub(crate) fn for_call(&self, from: CompId, to: CompId) -> Option<u16> {
        self.by_call[from.index()]
            .iter()
            .find(|(c, _)| *c == to)
            .map(|&(_, k)| k)
    }

    /// The client policy of requests of `class`, if any.
    #[inline]
    pub(crate) fn for_class(&self, class: u16) -> Option<u16> {
        self.by_class.get(class as usize).copied().flatten()
    }

    /// Whether some policy calls component `c` (its report counts what
    /// the policies did there).
    pub(crate) fn targets(&self, c: CompId) -> bool {
        self.targets.get(c.index()).copied().unwrap_or(false)
    }

    /// Times the breakers of calls to `c` opened after warm-up.
    pub(crate) fn breaker_opens(&self, c: CompId) -> u64 {
        self.breakers
            .iter()
            .zip(&self.opens_at_warmup)
            .filter_map(|(b, w)| b.as_ref().filter(|b| b.1 == c).map(|b| b.0.opens - w))
            .sum()
    }

    /// Warm-up ends: breaker openings from now on are counted.
    pub(crate) fn warmed_up(&mut self) {
        for (b, w) in self.breakers.iter().zip(self.opens_at_warmup.iter_mut()) {
            *w = b.as_ref().map_or(0, |b| b.0.opens);
        }
    }

    /// Whether policy `k`'s breaker lets a call go now (true without one).
    fn breaker_allows(&mut self, k: u16, now: Time) -> bool {
        self.breakers[k as usize]
            .as_mut()
            .is_none_or(|b| b.0.allows(now))
    }

    /// Policy `k`'s breaker hears an attempt's answer.
    fn breaker_record(&mut self, k: u16, now: Time, ok: bool) {
        if let Some(b) = self.breakers[k as usize].as_mut() {
            b.0.record(now, ok);
        }
    }

    /// The visit that made call record `id` (None: a client).
    pub(crate) fn caller_of(&self, id: u32) -> Option<VisitId> {
        self.calls[id].parent
    }
}

impl System {
    /// Request `req` calls `to` from `parent` (None: its client) under
    /// policy `k`: the record is made and the first attempt sent.
    pub(crate) fn call_start(
        &mut self,
        s: &mut Scheduler<Ev>,
        parent: Option<VisitId>,
        req: ReqId,
        to: CompId,
        k: u16,
    ) {
        if !self.att.breaker_allows(k, s.now()) {
            // Short-circuited: an error or a degraded answer, at once.
            self.stats[to.index()].short_circuited += 1;
            let fallback = self.att.breakers[k as usize]
                .as_ref()
                .map(|b| b.0.fallback());
            let outcome = match fallback {
                Some(BreakerFallback::Degraded) => Outcome::Ok,
                _ => Outcome::Failed,
            };
            return self.answer(s, parent, req, outcome, NO_CHILD);
        }
        let a = &mut self.att;
        a.seq = a.seq.checked_add(1).unwrap_or(1);
        let seq = a.seq;
        let id = a.calls.insert(Call {
            parent,
            req,
            to,
            policy: k,
            made: 0,
            hedged: false,
            retry_pending: false,
            live: [0; 2],
            avoid: 0,
            last: Outcome::Ok,
            seq,
        });
        let pol = a.policies[k as usize];
        if let Some(b) = &mut a.budgets[k as usize] {
            b.request(s.now());
        }
        if let Some(h) = pol.hedge {
            s.after(h, attempt_ev(id, seq, HEDGE, 0));
        }
        self.send(s, id);
    }

    /// Sends call record `id`'s next attempt.
    fn send(&mut self, s: &mut Scheduler<Ev>, id: u32) {
        let c = &mut self.att.calls[id];
        c.made += 1;
        let pol = self.att.policies[c.policy as usize];
        let avoid = if pol.next_upstream { c.avoid } else { 0 };
        let (req, to, seq) = (c.req, c.to, c.seq);
        let v = self.open_visit(s.now(), to, req, Some(VisitId::record(id)), avoid);
        let c = &mut self.att.calls[id];
        let free = c.live.iter().position(|&l| l == 0).unwrap_or(1);
        c.live[free] = v.slot() + 1;
        if let Some(t) = pol.timeout {
            s.after(t, attempt_ev(id, seq, TIMEOUT, v.slot()));
        }
        self.admit(s, v, to);
    }

    /// An attempt of call record `id` (visit slot `child`) answered
    /// `outcome`.
    pub(crate) fn attempt_answered(
        &mut self,
        s: &mut Scheduler<Ev>,
        id: u32,
        child: u32,
        outcome: Outcome,
    ) {
        let c = &mut self.att.calls[id];
        if let Some(l) = c.live.iter_mut().find(|l| **l == child + 1) {
            *l = 0;
        }
        let k = c.policy;
        self.att.breaker_record(k, s.now(), outcome == Outcome::Ok);
        self.settle(s, id, outcome);
    }

    /// An attempt of call record `id` ends badly at instance `inst`: a
    /// retry under `next_upstream` goes elsewhere.
    pub(crate) fn attempt_failed_at(&mut self, id: u32, inst: u32) {
        self.att.calls[id].avoid = inst + 1;
    }

    /// One of call record `id`'s events.
    pub(crate) fn attempt_event(
        &mut self,
        s: &mut Scheduler<Ev>,
        id: u32,
        seq: u32,
        what: u8,
        visit: u32,
    ) {
        // A record's slot outlives it (seq 0 when free, a new seq when
        // reused): an event of a record that is done finds another seq.
        let c = self.att.calls[id];
        if c.seq != seq {
            return;
        }
        match what {
            TIMEOUT => {
                let Some(l) = c.live.iter().position(|&l| l == visit + 1) else {
                    return;
                };
                self.att.calls[id].live[l] = 0;
                let cancel = self.att.policies[c.policy as usize].cancel;
                self.detach(VisitId::from_slot(visit), cancel);
                self.stats[c.to.index()].timed_out += 1;
                self.att.breaker_record(c.policy, s.now(), false);
                self.settle(s, id, Outcome::TimedOut);
            }
            HEDGE => {
                let waiting = c.live.iter().filter(|&&l| l != 0).count();
                if c.hedged || c.retry_pending || waiting != 1 {
                    return;
                }
                self.att.calls[id].hedged = true;
                if let Some(b) = &mut self.att.budgets[c.policy as usize] {
                    if !b.withdraw(s.now()) {
                        return;
                    }
                }
                if !self.att.breaker_allows(c.policy, s.now()) {
                    return;
                }
                self.stats[c.to.index()].hedges += 1;
                self.send(s, id);
            }
            _ => {
                self.att.calls[id].retry_pending = false;
                if !self.att.breaker_allows(c.policy, s.now()) {
                    // The breaker opened meanwhile: the last answer stands.
                    return self.deliver(s, id, c.last);
                }
                self.stats[c.to.index()].retries += 1;
                self.send(s, id);
            }
        }
    }

    /// Call record `id` heard `outcome` from an attempt: the caller gets
    /// it, or a retry is sent, or the record waits for another attempt.
    fn settle(&mut self, s: &mut Scheduler<Ev>, id: u32, outcome: Outcome) {
        let c = self.att.calls[id];
        if outcome == Outcome::Ok {
            // The first good answer wins: the others are cancelled.
            for l in c.live.iter().filter(|&&l| l != 0) {
                self.detach(VisitId::from_slot(l - 1), true);
            }
            return self.deliver(s, id, outcome);
        }
        self.att.calls[id].last = outcome;
        if c.live.iter().any(|&l| l != 0) || c.retry_pending {
            return;
        }
        let k = c.policy as usize;
        let pol = self.att.policies[k];
        let now = s.now();
        let allowed = pol.retries(outcome)
            && c.made < pol.attempts
            && self.att.budgets[k].as_mut().is_none_or(|b| b.withdraw(now));
        if !allowed {
            return self.deliver(s, id, outcome);
        }
        let dt: Time = match pol.backoff {
            Some(b) => b.wait(c.made, &mut self.att.rngs[k]),
            None => 0,
        };
        if dt == 0 {
            if !self.att.breaker_allows(c.policy, now) {
                return self.deliver(s, id, outcome);
            }
            self.stats[c.to.index()].retries += 1;
            return self.send(s, id);
        }
        self.att.calls[id].retry_pending = true;
        s.after(dt, attempt_ev(id, c.seq, RETRY, 0));
    }

    /// Call record `id` is done: its caller hears `outcome`.
    fn deliver(&mut self, s: &mut Scheduler<Ev>, id: u32, outcome: Outcome) {
        let c = self.att.calls[id];
        self.att.calls[id].seq = 0;
        self.att.calls.remove(id);
        self.answer(s, c.parent, c.req, outcome, NO_CHILD);
    }

    /// Visit `v`, an attempt no longer awaited, goes on alone (or is
    /// cancelled at its next step); its request waits for it.
    fn detach(&mut self, v: VisitId, cancel: bool) {
        let visit = &mut self.flow.visits[v.slot()];
        visit.parent = Some(if cancel {
            VisitId::CANCELLED
        } else {
            VisitId::DETACHED
        });
        self.flow.requests[visit.req.0].detached += 1;
    }

    /// A detached attempt (at `comp`) answered `outcome`: nobody waits for
    /// it; an answer is wasted work. Its request goes once nothing of it
    /// is left.
    pub(crate) fn detached_answered(&mut self, req: ReqId, comp: CompId, outcome: Outcome) {
        if outcome == Outcome::Ok {
            self.stats[comp.index()].wasted += 1;
        }
        let r = &mut self.flow.requests[req.0];
        r.detached -= 1;
        if r.detached == 0 && r.done {
            self.flow.requests.remove(req.0);
        }
    }
}

/// No child visit (an answer a call record delivers): (slot, component).
pub(crate) const NO_CHILD: (u32, CompId) = (u32::MAX, CompId(0));

fn attempt_ev(call: u32, seq: u32, what: u8, visit: u32) -> Ev {
    Ev::Attempt {
        call,
        seq,
        what,
        visit,
    }
}
