//! `kind = "cache"`: a lookup that pays its latency and, on a miss,
//! forwards to its `miss` component and fills the key with the answer.
//! Writes invalidate their key and go on to the backend. A `shared` cache
//! is one store; a `per_instance` one is a store inside every instance of
//! the pool that calls it (cold on a new instance). With `coalesce`, a miss
//! for a key already on its way waits for that answer. Without `miss` the
//! caller fetches the value itself (cache-aside): each lookup marks the
//! request hit or missed, and a pool step `{ call = "db", if = "miss" }`
//! is taken only after a miss (the key is filled at the miss, standing for
//! the caller's SET once it has the value). A per-instance cache with an
//! `entry_size` holds entries x size of its instance's memory
//! ([`Cx::hold`]), which the pool's `memory` adds to its own.

mod store;

pub use store::*;

use crate::dist::Dist;
use crate::fleet::bill::Purchases;
use crate::fleet::cost::{CostConfig, Pricing};
use crate::flow::{Caller, CompId, Component, Cx, Outcome, VisitId, Wake};
use crate::kinds::{BuildCx, CheckCx, ComponentConfig, Kind, KindConfig};
use crate::measure::{ComponentReport, Counters, Stats, TsRow};
use crate::system::ConfigIssue;
use crate::traffic::Op;
use scalesim_sim::{stream, SimRng, Time};

/// The lookup latency elapsed.
const LOOKED: u8 = 0;

/// What a cache visit is doing (`Visit::step`).
const LOOKUP_MISS: u16 = 0;
const LOOKUP_HIT: u16 = 1;
const WRITE: u16 = 2;
const WAITING: u16 = 3;

/// No visit (the end of a chain of coalesced misses).
const NIL: u32 = u32::MAX;

/// A cache as it runs.
pub struct CacheKind {
    /// One store (shared), or one per instance of the calling pool.
    stores: Vec<Store>,
    /// Per-instance: the caller instance generation each store serves.
    gens: Vec<u32>,
    per_instance: bool,
    /// Per-instance with `entry_size`: bytes per entry (0: not counted),
    /// the pool whose instances hold the stores, and the bytes each store
    /// was last counted at.
    entry_bytes: f64,
    host: Option<CompId>,
    counted: Vec<f64>,
    /// How to make a new per-instance store.
    spec: StoreSpec,
    hit: Dist,
    rng: SimRng,
    miss: Option<CompId>,
    coalesce: bool,
    /// Coalescing: (store, key) of a miss on its way -> the last visit
    /// waiting for it ([`NIL`]: none yet).
    pending: rustc_hash::FxHashMap<(u32, u64), u32>,
    /// Coalescing: per visit slot waiting for another miss, the visit that
    /// waited before it ([`NIL`]: first).
    waiting: Vec<u32>,
    hits: u64,
    misses: u64,
    coalesced: u64,
    writes: u64,
}

/// What a new store of a cache is made of.
struct StoreSpec {
    policy: crate::kinds::cache::Policy,
    capacity: u64,
    ttl: Option<Time>,
    warm: u64,
    seed: u64,
    rep: u32,
    name: String,
}

impl StoreSpec {
    /// Store `index` of the cache (0 for a shared one), warmed at `now`.
    fn build(&self, index: u32, now: Time) -> Store {
        let label = if index == 0 {
            self.name.clone()
        } else {
            format!("{}#{index}", self.name)
        };
        let mut st = Store::new(
            self.policy,
            self.capacity,
            self.ttl,
            stream(self.seed, self.rep, &label, "evict"),
        );
        st.warm(self.warm, now);
        st
    }
}

impl CacheKind {
    /// Builds cache `name` (its RNG streams are named after it).
    pub fn new(
        c: &CacheConfig,
        name: &str,
        seed: u64,
        rep: u32,
        idx: &dyn Fn(&str) -> CompId,
    ) -> CacheKind {
        let spec = StoreSpec {
            policy: c.policy,
            capacity: c.capacity,
            ttl: c.ttl.map(|t| t.time()),
            warm: c.warm,
            seed,
            rep,
            name: name.to_string(),
        };
        let per_instance = c.scope == Scope::PerInstance;
        CacheKind {
            stores: if per_instance {
                Vec::new()
            } else {
                vec![spec.build(0, 0)]
            },
            gens: Vec::new(),
            per_instance,
            entry_bytes: c.entry_size.map_or(0.0, |b| b.0),
            host: None,
            counted: Vec::new(),
            spec,
            hit: c.hit.sampler(),
            rng: stream(seed, rep, name, "hit"),
            miss: c.miss.as_ref().map(|m| idx(m)),
            coalesce: c.coalesce,
            pending: Default::default(),
            waiting: Vec::new(),
            hits: 0,
            misses: 0,
            coalesced: 0,
            writes: 0,
        }
    }

    /// Store `k`'s entries x size, in its instance's memory (per-instance
    /// caches with an `entry_size`).
    #[inline]
    fn count_memory(&mut self, cx: &mut Cx, k: usize) {
        let Some(host) = self.host else { return };
        let bytes = self.stores[k].len() as f64 * self.entry_bytes;
        let by = bytes - self.counted[k];
        if by != 0.0 {
            self.counted[k] = bytes;
            cx.hold(host, k as u32, self.gens[k], by);
        }
    }

    /// The lookup of visit `v` is done.
    #[inline]
    fn looked(&mut self, cx: &mut Cx, v: VisitId) {
        let visit = cx.visit(v);
        let key = cx.request_of(v).key;
        match (visit.step, self.miss) {
            (LOOKUP_HIT, _) => cx.leave(v, Outcome::Ok),
            // A write: on to the backend (no fill), or done.
            (_, Some(m)) if visit.step == WRITE => cx.call(v, m),
            (WRITE, None) => cx.leave(v, Outcome::Ok),
            (_, Some(m)) => {
                if self.coalesce {
                    if let Some(last) = self.pending.get_mut(&(visit.inst, key)) {
                        // Another miss for this key is on its way: wait.
                        let slot = v.slot() as usize;
                        if self.waiting.len() <= slot {
                            self.waiting.resize(slot + 1, NIL);
                        }
                        self.waiting[slot] = *last;
                        *last = v.slot();
                        cx.visit_mut(v).step = WAITING;
                        self.coalesced += 1;
                        return;
                    }
                    self.pending.insert((visit.inst, key), NIL);
                }
                cx.call(v, m);
            }
            (_, None) => {
                self.stores[visit.inst as usize].fill(key, cx.now);
                self.count_memory(cx, visit.inst as usize);
                cx.leave(v, Outcome::Ok);
            }
        }
    }
}

impl Component for CacheKind {
    fn releases_on_leave(&self) -> bool {
        false
    }

    fn wants_caller(&self) -> bool {
        self.per_instance
    }

    #[inline]
    fn enter(&mut self, cx: &mut Cx, v: VisitId, caller: Caller) {
        let now = cx.now;
        let (index, gen) = caller;
        let k = index as usize;
        if self.per_instance && self.entry_bytes > 0.0 && self.host.is_none() {
            self.host = cx.caller_of(v);
        }
        if k >= self.stores.len() {
            for i in self.stores.len()..=k {
                self.stores.push(self.spec.build(i as u32, now));
                self.gens.push(gen);
                self.counted.push(0.0);
            }
        } else if self.gens.get(k).is_some_and(|&g| g != gen) {
            // A new instance in a reused slot starts cold.
            self.stores[k] = self.spec.build(index, now);
            self.gens[k] = gen;
            self.counted[k] = 0.0;
        }
        let r = cx.request_of(v);
        let step = if cx.op(&r) == Op::Write {
            self.stores[k].invalidate(r.key);
            self.writes += 1;
            WRITE
        } else if self.stores[k].lookup(r.key, now) {
            self.hits += 1;
            cx.request_mut(v).missed = false;
            LOOKUP_HIT
        } else {
            self.misses += 1;
            cx.request_mut(v).missed = true;
            LOOKUP_MISS
        };
        if self.host.is_some() {
            // A new store's warm entries, a write's invalidation, a TTL.
            self.count_memory(cx, k);
        }
        let visit = cx.visit_mut(v);
        visit.step = step;
        visit.inst = index;
        let dt = self.hit.sample(&mut self.rng);
        cx.after(dt, LOOKED, v.slot(), 0);
    }

    #[inline]
    fn on_wake(&mut self, cx: &mut Cx, w: Wake) {
        debug_assert_eq!(w.tag, LOOKED);
        self.looked(cx, VisitId::from_slot(w.a));
    }

    #[inline]
    fn on_answer(&mut self, cx: &mut Cx, v: VisitId, outcome: Outcome) {
        let visit = cx.visit(v);
        if visit.step == WRITE {
            cx.leave(v, outcome);
            return;
        }
        let key = cx.request_of(v).key;
        if outcome == Outcome::Ok {
            self.stores[visit.inst as usize].fill(key, cx.now);
            self.count_memory(cx, visit.inst as usize);
        }
        let mut w = if self.coalesce {
            self.pending.remove(&(visit.inst, key)).unwrap_or(NIL)
        } else {
            NIL
        };
        cx.leave(v, outcome);
        // Those that waited for this answer share it.
        while w != NIL {
            cx.leave(VisitId::from_slot(w), outcome);
            w = self.waiting[w as usize];
        }
    }

    fn counters(&self, _now: Time, c: &mut Counters) {
        c.hits = self.hits;
        c.misses = self.misses;
        c.coalesced = self.coalesced;
        c.writes = self.writes;
    }

    fn report(&self, d: &Counters, _st: &Stats, _span: f64, r: &mut ComponentReport) {
        r.hits = Some(d.hits);
        r.misses = Some(d.misses);
        r.coalesced = self.coalesce.then_some(d.coalesced);
        r.writes = Some(d.writes);
    }

    fn window(&mut self, d: &Counters, _st: &Stats, _dt: f64, row: &mut TsRow) {
        let lookups = d.hits + d.misses;
        row.hit_ratio = (lookups > 0).then(|| d.hits as f64 / lookups as f64);
    }
}

impl KindConfig for CacheConfig {
    fn kind(&self) -> &'static str {
        "cache"
    }

    fn check(&self, _cx: &CheckCx) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Err((f, m)) = self.hit.check() {
            out.push((format!("hit.{f}"), m));
        }
        if self.ttl.is_some_and(|t| t.secs() <= 0.0) {
            out.push(("ttl".into(), "expected a TTL > 0 (omit it for none)".into()));
        }
        if let Some(b) = self.entry_size {
            if self.scope != Scope::PerInstance {
                out.push((
                    "entry_size".into(),
                    "entry_size counts an in-process cache in the memory of the instances it lives in: give scope = \"per_instance\" (a shared cache's nodes are sized by capacity)".into(),
                ));
            } else if !(b.0 > 0.0 && b.0.is_finite()) {
                out.push((
                    "entry_size".into(),
                    "expected a size above 0, e.g. \"2KiB\"".into(),
                ));
            }
        }
        out
    }

    /// A per-instance cache lives inside the instances of one pool.
    fn check_graph(&self, name: &str, cx: &CheckCx) -> Option<ConfigIssue> {
        if self.scope != Scope::PerInstance {
            return None;
        }
        let comps = &cx.system.components;
        let calls_me = |o: &ComponentConfig| o.downstream().iter().any(|(_, t)| *t == name);
        let callers: Vec<&str> = comps
            .iter()
            .filter(|(_, o)| calls_me(o))
            .map(|(n, _)| n.as_str())
            .collect();
        let entered = cx
            .system
            .sources
            .iter()
            .any(|(_, s)| s.classes().iter().any(|k| k.to.as_deref() == Some(name)));
        // Only fleets hold instances (and of those, only pools call).
        let non_pool = comps
            .iter()
            .any(|(_, o)| o.lifecycle().is_none() && calls_me(o));
        (entered || non_pool || callers.len() > 1).then(|| ConfigIssue {
            path: format!("components.{name}.scope"),
            message: format!(
                "a per_instance cache lives inside the instances of ONE pool that calls it; {name:?} is {}",
                if entered {
                    "the entry of a traffic source".to_string()
                } else {
                    format!("called by {}", callers.join(", "))
                }
            ),
        })
    }

    fn downstream(&self) -> Vec<(&'static str, &str)> {
        self.miss.iter().map(|m| ("miss", m.as_str())).collect()
    }

    fn retarget(&mut self, to: &mut dyn FnMut(&str) -> String) {
        if let Some(m) = &mut self.miss {
            *m = to(m);
        }
    }

    fn instances(&self) -> u32 {
        self.nodes
    }

    fn pricing(&self) -> Pricing {
        CacheConfig::pricing(self)
    }

    /// Its nodes, unless it lives in the memory of the caller's instances
    /// (`per_instance`), which are billed with them.
    fn usage(&self, cost: &CostConfig) -> Purchases {
        let mut p = Purchases::default();
        if self.scope != Scope::PerInstance && matches!(self.pricing().hourly(cost), Ok(None)) {
            p.unpriced.push(format!(
                "{} nodes (give instance_type or price_per_hour)",
                self.nodes
            ));
        }
        p
    }

    fn needs_key(&self) -> Option<&'static str> {
        Some("cache")
    }

    fn build(&self, b: &BuildCx) -> Kind {
        Kind::Cache(Box::new(CacheKind::new(self, b.label, b.seed, b.rep, b.id)))
    }
}
