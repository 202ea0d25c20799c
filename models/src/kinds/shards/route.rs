//! A sharded store: N shards, each a pool or a replicated database, and a
//! router that sends a
//! request to the shard that owns its key, or (for scatter-gather classes)
//! to every shard, answering when the last shard has answered.
//!
//! Routing: `modulo` (key mod N), `range` (keys 1..=key_space cut into N
//! equal ranges), or `hash` (a consistent-hash ring with `virtual_nodes`
//! points per shard, see [`crate::fleet::balance`]). Under a Zipf key law hot keys
//! make hot shards: the summary lists each shard's load (its pool
//! `<name>/<i>`) and the router's `shard_imbalance`, the busiest shard's
//! arrivals over the mean.
//!
//! Scatter-gather is a fork-join: with two exponential shards each sent
//! every request, the mean response time is (12 - rho) / (8 (mu - lambda))
//! (Flatto & Hahn 1984; Nelson & Tantawi 1988).

use crate::fleet::balance::{Balancer, Policy, DEFAULT_VNODES};
use crate::fleet::pool::PoolConfig;
use crate::kinds::database::DatabaseConfig;
use scalesim_sim::SimRng;
use serde::Deserialize;

/// How a key picks its shard.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// key mod N.
    Modulo,
    /// Equal ranges of 1..=key_space.
    Range,
    /// A consistent-hash ring.
    #[default]
    Hash,
}

/// `[components.<name>]` with `kind = "shards"`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ShardsConfig {
    /// Always "shards" (read by the scenario loader to pick this type).
    #[serde(default)]
    pub kind: Option<String>,
    /// Number of shards.
    pub shards: u32,
    /// Key to shard mapping.
    #[serde(default)]
    pub route: Route,
    /// `range`: the keys 1..=key_space are cut into equal ranges.
    #[serde(default)]
    pub key_space: Option<u64>,
    /// `hash`: ring points per shard (default 100).
    #[serde(default)]
    pub virtual_nodes: Option<u32>,
    /// Each shard as a pool (`instances`, `concurrency`, `service`, ...).
    #[serde(default)]
    pub shard: Option<PoolConfig>,
    /// Or each shard as a replicated database (`primary`, `replicas`,
    /// `replication_lag`, ...; see [`crate::kinds::database`]).
    #[serde(default)]
    pub shard_database: Option<DatabaseConfig>,
    /// Request classes (`<source>` or `<source>.<class>`) that query every
    /// shard and wait for all of them.
    #[serde(default)]
    pub scatter: Vec<String>,
}

impl ShardsConfig {
    /// The name of shard `i` of component `name`: `<name>/<i>`.
    pub fn shard_name(name: &str, i: u32) -> String {
        format!("{name}/{i}")
    }

    /// Checks the numbers; `Err((field, message))`.
    pub fn check(&self) -> Result<(), (String, String)> {
        if self.shards == 0 || self.shards > 4096 {
            return Err(("shards".into(), "expected 1 to 4096 shards".into()));
        }
        if self.route == Route::Range && self.key_space.is_none_or(|k| k < self.shards as u64) {
            return Err((
                "key_space".into(),
                "route = \"range\" needs key_space = the number of keys (at least one per shard)"
                    .into(),
            ));
        }
        if self.virtual_nodes == Some(0) || self.virtual_nodes.is_some_and(|v| v > 10_000) {
            return Err((
                "virtual_nodes".into(),
                "expected 1 to 10000 ring points per shard".into(),
            ));
        }
        match (&self.shard, &self.shard_database) {
            (Some(p), None) => p.check().map_err(|(f, m)| (format!("shard.{f}"), m)),
            (None, Some(d)) => d
                .check()
                .map_err(|(f, m)| (format!("shard_database.{f}"), m)),
            _ => Err((
                "shard".into(),
                "give each shard as a pool (shard = { instances = .., service = .. }) or as a database (shard_database = { primary = .., replicas = .. }), one of the two"
                    .into(),
            )),
        }
    }
}

/// The router of a running sharded store.
pub struct Router {
    route: Route,
    n: u32,
    key_space: u64,
    ring: Balancer,
    ids: Vec<u32>,
}

impl Router {
    /// A router for `cfg`.
    pub fn new(cfg: &ShardsConfig) -> Router {
        let ids: Vec<u32> = (0..cfg.shards).collect();
        let mut ring = Balancer::new(
            Policy::Hash,
            Vec::new(),
            cfg.virtual_nodes.unwrap_or(DEFAULT_VNODES),
        );
        ring.ready_changed(&ids);
        Router {
            route: cfg.route,
            n: cfg.shards,
            key_space: cfg.key_space.unwrap_or(1).max(1),
            ring,
            ids,
        }
    }

    /// The shard (0-based) that owns `key`.
    #[inline]
    pub fn shard(&mut self, key: u64, rng: &mut SimRng) -> u32 {
        match self.route {
            Route::Modulo => (key % self.n as u64) as u32,
            Route::Range => {
                let k = key.clamp(1, self.key_space) - 1;
                ((k as u128 * self.n as u128) / self.key_space as u128) as u32
            }
            Route::Hash => self.ring.pick(&self.ids, &[], key, rng),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn cfg(route: Route, n: u32) -> ShardsConfig {
        let shard: PoolConfig =
            serde_yaml_ng::from_str("instances: 1\nservice: { dist: exp, mean: 1ms }").unwrap();
        ShardsConfig {
            kind: None,
            shards: n,
            route,
            key_space: Some(100),
            virtual_nodes: None,
            shard: Some(shard),
            shard_database: None,
            scatter: vec![],
        }
    }

    #[test]
    fn routes_split_the_key_space() {
        let mut rng = SimRng::seed_from_u64(1);
        let mut m = Router::new(&cfg(Route::Modulo, 4));
        assert_eq!(
            (1..=8).map(|k| m.shard(k, &mut rng)).collect::<Vec<_>>(),
            [1, 2, 3, 0, 1, 2, 3, 0]
        );
        let mut r = Router::new(&cfg(Route::Range, 4));
        assert_eq!(r.shard(1, &mut rng), 0);
        assert_eq!(r.shard(25, &mut rng), 0);
        assert_eq!(r.shard(26, &mut rng), 1);
        assert_eq!(r.shard(100, &mut rng), 3);
        let mut h = Router::new(&cfg(Route::Hash, 4));
        let picks: Vec<u32> = (1..=1000).map(|k| h.shard(k, &mut rng)).collect();
        for s in 0..4 {
            let c = picks.iter().filter(|&&x| x == s).count();
            assert!((150..350).contains(&c), "shard {s}: {c}");
        }
        assert_eq!(
            picks,
            (1..=1000).map(|k| h.shard(k, &mut rng)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn range_needs_a_key_space() {
        let mut c = cfg(Route::Range, 4);
        c.key_space = None;
        assert_eq!(c.check().unwrap_err().0, "key_space");
    }
}
