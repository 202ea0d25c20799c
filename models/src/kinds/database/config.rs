//! A replicated database: a primary pool that takes every write, and
//! `replicas` read-replica pools that share the reads in turn.
//!
//! Replication is asynchronous: a write committed at t reaches the
//! replicas at t + lag (a law), in commit order (a key is current on the
//! replicas once its latest write has arrived). A read of a key whose
//! latest write has not reached the replicas is stale when served by a
//! replica; `read_your_writes = true` sends such reads to the primary
//! instead. With Poisson writes of rate w on a key and any lag law of mean
//! m, the writes still in flight form an M/G/inf queue, so a read finds
//! the key stale with probability 1 - exp(-w m) (Kleinrock vol. 1, §4.6
//! for M/G/inf).
//!
//! The primary and each replica are pools (any pool field), reported as
//! `<name>/primary` and `<name>/replica<i>`. A secondary cluster of a
//! database across regions (`primary_region`) has no primary of its own:
//! its writes, and its reads of its own writes, go to the primary's
//! region, and its replicas see only the writes made through it.

use crate::dist::DistConfig;
use crate::fleet::bill::Storage;
use crate::fleet::pool::PoolConfig;
use serde::Deserialize;

/// `[components.<name>]` with `kind = "database"`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// Always "database" (read by the scenario loader to pick this type).
    #[serde(default)]
    pub kind: Option<String>,
    /// The primary: a pool (`instances`, `concurrency` = connections it
    /// serves at once, `service`, `instance_type`, ...).
    pub primary: PoolConfig,
    /// Read replicas.
    #[serde(default)]
    pub replicas: u32,
    /// Each replica's pool (default: the primary's).
    #[serde(default)]
    pub replica: Option<PoolConfig>,
    /// Replication lag law (default: none, replicas are always current).
    #[serde(default)]
    pub replication_lag: Option<DistConfig>,
    /// Reads of a key whose latest write has not reached the replicas go
    /// to the primary.
    #[serde(default)]
    pub read_your_writes: bool,
    /// A synchronous standby of the primary in another zone (RDS Multi-AZ):
    /// it serves nothing and is billed like the primary.
    #[serde(default)]
    pub multi_az: bool,
    /// The volume each copy (primary, standby, replica) keeps, billed per
    /// GB-month and provisioned IOPS.
    #[serde(default)]
    pub storage: Option<Storage>,
    /// A database that runs in several regions (`regions = [...]`): the
    /// region of its primary. The copies in the other regions are
    /// secondary clusters, as in an Aurora Global Database: read replicas
    /// only, which forward writes to the primary's region (Aurora's write
    /// forwarding) and apply them after their `replication_lag`.
    #[serde(default)]
    pub primary_region: Option<String>,
    /// A secondary cluster: the primary's copy its writes go to (set by
    /// placement from `primary_region`, not written).
    #[serde(skip)]
    pub writes_to: Option<String>,
}

impl DatabaseConfig {
    /// Name of the primary pool of component `name`.
    pub fn primary_name(name: &str) -> String {
        format!("{name}/primary")
    }

    /// Name of replica `i` of component `name`.
    pub fn replica_name(name: &str, i: u32) -> String {
        format!("{name}/replica{i}")
    }

    /// The replica pool's configuration.
    pub fn replica_pool(&self) -> PoolConfig {
        self.replica.clone().unwrap_or_else(|| self.primary.clone())
    }

    /// Checks the numbers; `Err((field, message))`.
    pub fn check(&self) -> Result<(), (String, String)> {
        if self.replicas > 256 {
            return Err(("replicas".into(), "at most 256 read replicas".into()));
        }
        self.primary
            .check()
            .map_err(|(f, m)| (format!("primary.{f}"), m))?;
        if let Some(r) = &self.replica {
            r.check().map_err(|(f, m)| (format!("replica.{f}"), m))?;
        }
        if let Some(s) = &self.storage {
            s.check()?;
        }
        if let Some(l) = &self.replication_lag {
            l.check()
                .map_err(|(f, m)| (format!("replication_lag.{f}"), m))?;
        }
        Ok(())
    }
}
