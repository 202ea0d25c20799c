//! `kind = "shards"`: a sharded store. A request goes to the shard its key
//! routes to (modulo, range or a consistent-hash ring); a request of a
//! `scatter` class goes to every shard and ends when the last one answers
//! (failed if any failed). Each shard is a pool or a database of its own,
//! `<name>/<i>`.

use crate::flow::{Caller, CompId, Component, Cx, Outcome, VisitId};
use crate::kinds::{BuildCx, CheckCx, ComponentConfig, Kind, KindConfig};
use crate::measure::ComponentReport;
mod route;

pub use route::{Route, Router, ShardsConfig};

use scalesim_sim::{stream, SimRng};

/// A shard router as it runs.
pub struct ShardsKind {
    router: Router,
    /// The shards.
    targets: Vec<CompId>,
    /// Per request class: scatter to every shard.
    scatter: Vec<bool>,
    rng: SimRng,
}

impl ShardsKind {
    /// Builds shards `name` (`label`: the name its RNG streams take;
    /// `classes`: every request class name, in order).
    pub fn new(
        sh: &ShardsConfig,
        name: &str,
        label: &str,
        seed: u64,
        rep: u32,
        idx: &dyn Fn(&str) -> CompId,
        classes: &[String],
    ) -> ShardsKind {
        ShardsKind {
            router: Router::new(sh),
            targets: (0..sh.shards)
                .map(|i| idx(&ShardsConfig::shard_name(name, i)))
                .collect(),
            scatter: classes.iter().map(|c| sh.scatter.contains(c)).collect(),
            rng: stream(seed, rep, label, "route"),
        }
    }
}

impl Component for ShardsKind {
    fn releases_on_leave(&self) -> bool {
        false
    }

    fn enter(&mut self, cx: &mut Cx, v: VisitId, _caller: Caller) {
        let r = cx.request_of(v);
        if self.scatter[r.class as usize] {
            // Fork to every shard; the visit counts the answers (`step`)
            // and remembers the first failure (`inst`).
            let visit = cx.visit_mut(v);
            visit.step = self.targets.len() as u16;
            visit.inst = 0;
            for &t in &self.targets {
                cx.call(v, t);
            }
        } else {
            let t = self.targets[self.router.shard(r.key, &mut self.rng) as usize];
            let visit = cx.visit_mut(v);
            visit.step = 1;
            visit.inst = 0;
            cx.call(v, t);
        }
    }

    fn on_answer(&mut self, cx: &mut Cx, v: VisitId, outcome: Outcome) {
        let p = cx.visit_mut(v);
        p.step -= 1;
        // The request fails as its first failed shard did: refused or
        // timed out (`inst` keeps 0 for none, else the outcome's code + 1).
        if outcome != Outcome::Ok && p.inst == 0 {
            p.inst = 1 + (outcome == Outcome::TimedOut) as u32;
        }
        if p.step == 0 {
            let o = match p.inst {
                0 => Outcome::Ok,
                1 => Outcome::Rejected,
                _ => Outcome::TimedOut,
            };
            cx.leave(v, o);
        }
    }

    fn finish_report(&self, me: &mut ComponentReport, all: &[ComponentReport]) {
        let loads: Vec<f64> = self
            .targets
            .iter()
            .map(|t| all[t.index()].arrivals as f64)
            .collect();
        let mean = loads.iter().sum::<f64>() / loads.len() as f64;
        let max = loads.iter().copied().fold(0.0, f64::max);
        me.shard_imbalance = Some(if mean > 0.0 { max / mean } else { 1.0 });
    }
}

impl KindConfig for ShardsConfig {
    fn kind(&self) -> &'static str {
        "shards"
    }

    fn check(&self, cx: &CheckCx) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = ShardsConfig::check(self).err().into_iter().collect();
        let classes = cx.class_names();
        for (i, sc) in self.scatter.iter().enumerate() {
            if !classes.contains(sc) {
                out.push((
                    format!("scatter.{i}"),
                    format!(
                        "unknown request class {sc:?}; classes: {}",
                        classes.join(", ")
                    ),
                ));
            }
        }
        out
    }

    /// Before expansion, a shard's calls; after, the shards are components
    /// of their own.
    fn downstream(&self) -> Vec<(&'static str, &str)> {
        match (&self.shard, &self.shard_database) {
            (Some(p), _) => p
                .calls
                .iter()
                .map(|c| ("shard.calls", c.as_str()))
                .collect(),
            (None, Some(d)) => crate::kinds::database::calls(d, "shard_database."),
            (None, None) => Vec::new(),
        }
    }

    fn retarget(&mut self, to: &mut dyn FnMut(&str) -> String) {
        if let Some(p) = &mut self.shard {
            p.retarget(to);
        }
        if let Some(d) = &mut self.shard_database {
            d.retarget(to);
        }
    }

    fn expand(&self, name: &str) -> Vec<(String, ComponentConfig)> {
        (0..self.shards)
            .filter_map(|i| {
                let n = ShardsConfig::shard_name(name, i);
                match (&self.shard, &self.shard_database) {
                    (Some(p), _) => Some((n, ComponentConfig::Pool(Box::new(p.clone())))),
                    (None, Some(d)) => Some((n, ComponentConfig::Database(Box::new(d.clone())))),
                    (None, None) => None,
                }
            })
            .collect()
    }

    fn build(&self, b: &BuildCx) -> Kind {
        Kind::Shards(Box::new(ShardsKind::new(
            self, b.name, b.label, b.seed, b.rep, b.id, b.classes,
        )))
    }
}
