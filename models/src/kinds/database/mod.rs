//! `kind = "database"`: a primary and read replicas (pools of their own,
//! `<name>/primary` and `<name>/replica<i>`). Writes go to the primary;
//! reads go round robin over the replicas, which apply a committed write
//! after the replication lag, in commit order. A read that reaches a
//! replica before its key's latest write is a stale read; with
//! `read_your_writes` such a read goes to the primary instead.

mod config;

pub use config::DatabaseConfig;

use crate::dist::Dist;
use crate::fleet::bill::{self, Purchases};
use crate::fleet::cost::CostConfig;
use crate::flow::{Caller, CompId, Component, Cx, Outcome, VisitId};
use crate::kinds::{BuildCx, CheckCx, ComponentConfig, Kind, KindConfig};
use crate::measure::{ComponentReport, Counters, Stats};
use crate::traffic::Op;
use scalesim_sim::{stream, SimRng, Time};

/// A database router as it runs.
pub struct DatabaseKind {
    primary: CompId,
    replicas: Vec<CompId>,
    /// Round robin over the replicas.
    next: usize,
    lag: Option<Dist>,
    rng: SimRng,
    read_your_writes: bool,
    /// Per key, when its latest write reaches the replicas.
    current_at: rustc_hash::FxHashMap<u64, Time>,
    /// Reads served by a replica the key's latest write had not reached.
    stale_reads: u64,
    /// Reads sent to the primary to read their own writes.
    primary_reads: u64,
}

impl DatabaseKind {
    /// Builds database `name` (`label`: the name its RNG streams take).
    pub fn new(
        db: &DatabaseConfig,
        name: &str,
        label: &str,
        seed: u64,
        rep: u32,
        idx: &dyn Fn(&str) -> CompId,
    ) -> DatabaseKind {
        DatabaseKind {
            primary: match &db.writes_to {
                Some(w) => idx(w),
                None => idx(&DatabaseConfig::primary_name(name)),
            },
            replicas: (0..db.replicas)
                .map(|i| idx(&DatabaseConfig::replica_name(name, i)))
                .collect(),
            next: 0,
            lag: db.replication_lag.as_ref().map(|l| l.sampler()),
            rng: stream(seed, rep, label, "lag"),
            read_your_writes: db.read_your_writes,
            current_at: Default::default(),
            stale_reads: 0,
            primary_reads: 0,
        }
    }
}

impl Component for DatabaseKind {
    fn releases_on_leave(&self) -> bool {
        false
    }

    fn enter(&mut self, cx: &mut Cx, v: VisitId, _caller: Caller) {
        let r = cx.request_of(v);
        let write = cx.op(&r) == Op::Write;
        cx.visit_mut(v).step = write as u16;
        let target = if write || self.replicas.is_empty() {
            self.primary
        } else {
            let behind = self.current_at.get(&r.key).is_some_and(|&t| t > cx.now);
            if behind && self.read_your_writes {
                self.primary_reads += 1;
                self.primary
            } else {
                self.stale_reads += behind as u64;
                self.next = (self.next + 1) % self.replicas.len();
                self.replicas[self.next]
            }
        };
        cx.call(v, target);
    }

    fn on_answer(&mut self, cx: &mut Cx, v: VisitId, outcome: Outcome) {
        // A committed write reaches the replicas after the lag, in commit
        // order.
        if cx.visit(v).step == 1 && outcome == Outcome::Ok {
            if let Some(l) = &self.lag {
                let at = cx.now + l.sample(&mut self.rng);
                let e = self.current_at.entry(cx.request_of(v).key).or_insert(0);
                *e = (*e).max(at);
            }
        }
        cx.leave(v, outcome);
    }

    fn counters(&self, _now: Time, c: &mut Counters) {
        c.stale_reads = self.stale_reads;
        c.primary_reads = self.primary_reads;
    }

    fn report(&self, d: &Counters, _st: &Stats, _span: f64, r: &mut ComponentReport) {
        r.stale_reads = Some(d.stale_reads);
        r.primary_reads = Some(d.primary_reads);
    }
}

impl KindConfig for DatabaseConfig {
    fn kind(&self) -> &'static str {
        "database"
    }

    fn check(&self, _cx: &CheckCx) -> Vec<(String, String)> {
        DatabaseConfig::check(self).err().into_iter().collect()
    }

    fn downstream(&self) -> Vec<(&'static str, &str)> {
        let mut v = calls(self, "");
        v.extend(
            self.writes_to
                .iter()
                .map(|w| ("primary_region", w.as_str())),
        );
        v
    }

    fn retarget(&mut self, to: &mut dyn FnMut(&str) -> String) {
        if let Some(w) = &mut self.writes_to {
            *w = to(w);
        }
        self.primary.retarget(to);
        if let Some(r) = &mut self.replica {
            r.retarget(to);
        }
    }

    /// Storage for every copy and the Multi-AZ standby; its instances are
    /// billed by the primary and replica pools.
    fn usage(&self, cost: &CostConfig) -> Purchases {
        let mut p = Purchases::default();
        let primaries = if self.writes_to.is_some() {
            0
        } else {
            self.primary.instances
        };
        if self.multi_az && primaries > 0 {
            bill::standby(&self.primary.pricing(), primaries, cost, &mut p);
        }
        let copies = primaries * (1 + self.multi_az as u32) + self.replicas;
        match &self.storage {
            Some(s) => s.purchases(copies as f64, &mut p),
            None => p
                .unpriced
                .push("storage (give storage = { gb = 100, type = \"gp3\" })".into()),
        }
        p
    }

    fn expand(&self, name: &str) -> Vec<(String, ComponentConfig)> {
        let mut out = Vec::new();
        if self.writes_to.is_none() {
            out.push((
                DatabaseConfig::primary_name(name),
                ComponentConfig::Pool(Box::new(self.primary.clone())),
            ));
        }
        for i in 0..self.replicas {
            out.push((
                DatabaseConfig::replica_name(name, i),
                ComponentConfig::Pool(Box::new(self.replica_pool())),
            ));
        }
        out
    }

    fn build(&self, b: &BuildCx) -> Kind {
        Kind::Database(Box::new(DatabaseKind::new(
            self, b.name, b.label, b.seed, b.rep, b.id,
        )))
    }
}

/// The components a database's primary and replicas call (`prefix`: the
/// field path of the database inside its component).
pub fn calls<'a>(d: &'a DatabaseConfig, prefix: &str) -> Vec<(&'static str, &'a str)> {
    let (p, r) = if prefix.is_empty() {
        ("primary.calls", "replica.calls")
    } else {
        (
            "shard_database.primary.calls",
            "shard_database.replica.calls",
        )
    };
    let mut v: Vec<(&'static str, &str)> =
        d.primary.calls.iter().map(|c| (p, c.as_str())).collect();
    if let Some(rc) = &d.replica {
        v.extend(rc.calls.iter().map(|c| (r, c.as_str())));
    }
    v
}
