//! The kinds of component, and their registry: the one list from which the
//! scenario loader, validation, the summary and the docs take the kinds.
//!
//! A kind is one file here: its configuration's checks and expansion
//! ([`KindConfig`]) and its behaviour as it runs ([`Component`]). Adding a
//! kind is that file plus one line in the `registry!` call below. A kind
//! defined outside this crate plugs in as [`ComponentConfig::Plugin`]
//! (dynamic dispatch for it alone; built-in kinds dispatch statically).

pub mod cache;
pub mod database;
pub mod dns;
pub mod limiter;
pub mod link;
pub mod pool;
pub mod queue;
pub mod serving;
pub mod shards;

use crate::fleet::bill::Purchases;
use crate::fleet::cost::{CostConfig, Pricing};
use crate::fleet::pool::{Pool, PoolConfig};
use crate::flow::{Caller, CompId, Component, Cx, Outcome, Request, Visit, VisitId, Wake};
use crate::kinds::cache::CacheConfig;
use crate::kinds::database::DatabaseConfig;
use crate::kinds::dns::{DnsConfig, DnsKind};
use crate::kinds::limiter::{LimiterConfig, LimiterKind};
use crate::kinds::link::{LinkConfig, LinkKind};
use crate::kinds::queue::QueueConfig;
use crate::kinds::serving::batch::BatchConfig;
use crate::kinds::serving::llm::LlmConfig;
use crate::kinds::shards::ShardsConfig;
use crate::measure::{ComponentReport, Counters, Stats, TsRow};
use crate::system::{ConfigIssue, SystemConfig};
use scalesim_sim::Time;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

pub use cache::CacheKind;
pub use database::DatabaseKind;
pub use pool::PoolKind;
pub use queue::QueueKind;
pub use serving::ServingKind;
pub use shards::ShardsKind;

/// What a kind's configuration checks may look at: the whole system as
/// configured.
pub struct CheckCx<'a> {
    /// The system.
    pub system: &'a SystemConfig,
    /// Component name -> index in `system.components`.
    pub names: &'a BTreeMap<&'a str, usize>,
}

impl CheckCx<'_> {
    /// The component named `name`, if any.
    pub fn component(&self, name: &str) -> Option<&ComponentConfig> {
        self.names.get(name).map(|&i| &self.system.components[i].1)
    }

    /// The shortest answer component `name` can give, seconds: a pool
    /// answers no sooner than its shortest service (0 when unknown).
    pub fn least_answer_s(&self, name: &str) -> f64 {
        match self.component(name) {
            Some(ComponentConfig::Pool(p)) => p.least_service_s(),
            _ => 0.0,
        }
    }

    /// Every request class name (`<source>` or `<source>.<class>`), in
    /// source and mix order.
    pub fn class_names(&self) -> Vec<String> {
        self.system
            .sources
            .iter()
            .flat_map(|(n, s)| {
                s.classes().into_iter().map(move |c| {
                    if c.name.is_empty() {
                        n.clone()
                    } else {
                        format!("{n}.{}", c.name)
                    }
                })
            })
            .collect()
    }
}

/// What building a component's runtime state needs.
pub struct BuildCx<'a> {
    /// The component's name (`api`, `db/primary`).
    pub name: &'a str,
    /// The name its random streams take (`components.<name>`).
    pub label: &'a str,
    /// Base seed.
    pub seed: u64,
    /// Replication.
    pub rep: u32,
    /// Component name -> id (names were checked).
    pub id: &'a dyn Fn(&str) -> CompId,
    /// Every request class name, in order.
    pub classes: &'a [String],
    /// Every request class as configured (its area, sizes, ...), in order.
    pub class_configs: &'a [crate::traffic::ClassConfig],
    /// The scenario's `[cost]` (its catalog: prices and CPU speeds).
    pub cost: &'a crate::fleet::cost::CostConfig,
}

/// A kind's configuration: what it checks before a run, what it calls,
/// whether it has a fleet, what it costs, and how it is built.
pub trait KindConfig: fmt::Debug + Send + Sync {
    /// The `kind` string.
    fn kind(&self) -> &'static str;

    /// Problems with it, as (field below `components.<name>`, message).
    fn check(&self, _cx: &CheckCx) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Problems only the whole call graph shows (checked once the graph is
    /// known to be a DAG of known names).
    fn check_graph(&self, _name: &str, _cx: &CheckCx) -> Option<ConfigIssue> {
        None
    }

    /// Names of the components it sends requests to, with the field that
    /// names them.
    fn downstream(&self) -> Vec<(&'static str, &str)> {
        Vec::new()
    }

    /// Renames the components it sends requests to (regions: a call to a
    /// component that runs in several regions goes to the copy in the
    /// caller's region, or through the network to another). Every name
    /// [`KindConfig::downstream`] lists must pass through `to`.
    fn retarget(&mut self, _to: &mut dyn FnMut(&str) -> String) {}

    /// Its callers' policies per callee (timeouts, retries, hedges: see
    /// [`crate::flow::resilience`]).
    fn call_policies(&self) -> Vec<(&str, &crate::flow::resilience::CallPolicyConfig)> {
        Vec::new()
    }

    /// The instance lifecycle of kinds whose instances scale (count, cold
    /// start, balancing, autoscaler metrics).
    fn lifecycle(&self) -> Option<PoolConfig> {
        None
    }

    /// The metrics it publishes to an autoscaler beyond the pool metrics.
    fn extra_metrics(&self) -> &'static [&'static str] {
        &[]
    }

    /// Instances (servers, cache nodes, replicas) that are billed.
    fn instances(&self) -> u32 {
        0
    }

    /// What one instance costs.
    fn pricing(&self) -> Pricing {
        Pricing::default()
    }

    /// What it buys besides instance-hours (a fleet: its load balancer),
    /// and what of it is not priced (instances without a price).
    fn usage(&self, cost: &CostConfig) -> Purchases {
        let mut p = Purchases::default();
        if self.instances() > 0 && matches!(self.pricing().hourly(cost), Ok(None)) {
            let n = self.instances();
            p.unpriced.push(format!(
                "{n} instance{} (give instance_type or price_per_hour)",
                if n == 1 { "" } else { "s" }
            ));
        }
        if let Some(lb) = self.lifecycle().and_then(|l| l.load_balancer) {
            lb.purchases(&mut p);
        }
        p
    }

    /// What requests reaching it must carry a key for (a cache, a hash
    /// balancer), if anything.
    fn needs_key(&self) -> Option<&'static str> {
        self.lifecycle()
            .is_some_and(|p| p.balance == crate::fleet::balance::Policy::Hash)
            .then_some("component balanced by key hash")
    }

    /// What requests reaching it must carry token counts for, if anything.
    fn needs_tokens(&self) -> Option<&'static str> {
        None
    }

    /// The hidden components it runs on, placed after it (`<name>/...`).
    fn expand(&self, _name: &str) -> Vec<(String, ComponentConfig)> {
        Vec::new()
    }

    /// Its runtime state.
    fn build(&self, b: &BuildCx) -> Kind;
}

/// Declares the registry: one line per kind — its `kind` string, its
/// variant, its configuration type and its runtime type.
macro_rules! registry {
    ($d:tt $( $(#[$doc:meta])* $name:literal => $Variant:ident($Config:ty, $Runtime:ty) ),* $(,)?) => {
        /// One component as configured.
        #[derive(Clone, Debug)]
        pub enum ComponentConfig {
            $( $(#[$doc])* $Variant(Box<$Config>), )*
            /// A kind defined outside this crate.
            Plugin(Arc<dyn KindConfig>),
        }

        /// The `kind` names this version knows, in registry order.
        pub const KINDS: &[&str] = &[$($name),*];

        impl ComponentConfig {
            /// Its configuration's behaviour.
            pub fn config(&self) -> &dyn KindConfig {
                match self {
                    $( ComponentConfig::$Variant(c) => &**c, )*
                    ComponentConfig::Plugin(c) => &**c,
                }
            }

            /// Its configuration, to change (None: a plug-in, shared).
            pub fn config_mut(&mut self) -> Option<&mut dyn KindConfig> {
                match self {
                    $( ComponentConfig::$Variant(c) => Some(&mut **c), )*
                    ComponentConfig::Plugin(_) => None,
                }
            }

            /// Reads a component of kind `tag` (one of [`KINDS`]).
            pub fn deserialize_kind<'de, D: serde::Deserializer<'de>>(
                tag: &str,
                d: D,
            ) -> Result<ComponentConfig, D::Error> {
                match tag {
                    $( $name => <$Config as serde::Deserialize>::deserialize(d)
                        .map(|c| ComponentConfig::$Variant(Box::new(c))), )*
                    other => Err(serde::de::Error::unknown_variant(other, KINDS)),
                }
            }
        }

        impl PartialEq for ComponentConfig {
            fn eq(&self, other: &ComponentConfig) -> bool {
                match (self, other) {
                    $( (ComponentConfig::$Variant(a), ComponentConfig::$Variant(b)) => a == b, )*
                    (ComponentConfig::Plugin(a), ComponentConfig::Plugin(b)) => Arc::ptr_eq(a, b),
                    _ => false,
                }
            }
        }

        /// A component as it runs: static dispatch over the registry's
        /// kinds, dynamic for a plug-in. Each kind's state is boxed, so the
        /// table of components stays small whatever a kind holds.
        pub enum Kind {
            $( $(#[$doc])* $Variant(Box<$Runtime>), )*
            /// A kind defined outside this crate.
            Plugin(Box<dyn Component>),
        }

        /// Runs `$e` with `$k` bound to the kind inside a [`Kind`].
        macro_rules! dispatch {
            ($d this:expr, $d k:ident => $d e:expr) => {
                match $d this {
                    $( Kind::$Variant($d k) => $d e, )*
                    Kind::Plugin($d k) => $d e,
                }
            };
        }
    };
}

registry! { $
    /// `kind = "pool"`: servers behind a queue or a balancer.
    "pool" => Pool(PoolConfig, PoolKind),
    /// `kind = "cache"`: a lookup that forwards misses.
    "cache" => Cache(CacheConfig, CacheKind),
    /// `kind = "queue"`: asynchronous jobs for a worker pool.
    "queue" => Queue(QueueConfig, QueueKind),
    /// `kind = "shards"`: keys routed to shards.
    "shards" => Shards(ShardsConfig, ShardsKind),
    /// `kind = "database"`: a primary and read replicas.
    "database" => Database(DatabaseConfig, DatabaseKind),
    /// `kind = "llm"`: LLM model servers on GPUs.
    "llm" => Llm(LlmConfig, ServingKind),
    /// `kind = "batch"`: a dynamic batcher.
    "batch" => Batch(BatchConfig, ServingKind),
    /// `kind = "limiter"`: a token bucket in front of a component.
    "limiter" => Limiter(LimiterConfig, LimiterKind),
    /// `kind = "link"`: the network between two places.
    "link" => Link(LinkConfig, LinkKind),
    /// `kind = "dns"`: the global entry that picks a region.
    "dns" => Dns(DnsConfig, DnsKind),
}

impl ComponentConfig {
    /// The `kind` string of this component.
    pub fn kind(&self) -> &'static str {
        self.config().kind()
    }

    /// See [`KindConfig::lifecycle`].
    pub fn lifecycle(&self) -> Option<PoolConfig> {
        self.config().lifecycle()
    }

    /// See [`KindConfig::downstream`].
    pub fn downstream(&self) -> Vec<(&'static str, &str)> {
        self.config().downstream()
    }

    /// See [`KindConfig::instances`].
    pub fn instances(&self) -> u32 {
        self.config().instances()
    }

    /// See [`KindConfig::usage`].
    pub fn usage(&self, cost: &CostConfig) -> Purchases {
        self.config().usage(cost)
    }

    /// See [`KindConfig::pricing`].
    pub fn pricing(&self) -> Pricing {
        self.config().pricing()
    }
}

/// The metrics a scaling component publishes to its autoscaler: the pool
/// metrics, its kind's own (`batch`, `kv`, `tokens` for serving kinds),
/// and its custom ratios (empty: the component does not scale).
pub fn published_metrics(c: &ComponentConfig) -> Vec<String> {
    use crate::policy::metric as m;
    let Some(p) = c.lifecycle() else {
        return Vec::new();
    };
    let mut out: Vec<String> = m::POOL.iter().map(|s| s.to_string()).collect();
    out.extend(c.config().extra_metrics().iter().map(|s| s.to_string()));
    out.extend(p.custom_metrics.iter().map(|cm| cm.name.clone()));
    out
}

impl Component for Kind {
    #[inline]
    fn wants_caller(&self) -> bool {
        dispatch!(self, k => k.wants_caller())
    }
    fn releases_on_leave(&self) -> bool {
        dispatch!(self, k => k.releases_on_leave())
    }
    fn start_tag(&self) -> Option<u8> {
        dispatch!(self, k => k.start_tag())
    }
    #[inline(always)]
    fn enter(&mut self, cx: &mut Cx, v: VisitId, caller: Caller) {
        dispatch!(self, k => k.enter(cx, v, caller))
    }
    #[inline(always)]
    fn on_wake(&mut self, cx: &mut Cx, w: Wake) {
        dispatch!(self, k => k.on_wake(cx, w))
    }
    #[inline(always)]
    fn on_answer(&mut self, cx: &mut Cx, v: VisitId, outcome: Outcome) {
        dispatch!(self, k => k.on_answer(cx, v, outcome))
    }
    #[inline(always)]
    fn on_leave(&mut self, cx: &mut Cx, visit: &Visit, outcome: Outcome) {
        dispatch!(self, k => k.on_leave(cx, visit, outcome))
    }
    fn on_job_started(&mut self, cx: &mut Cx, job: &Request) {
        dispatch!(self, k => k.on_job_started(cx, job))
    }
    fn on_job_done(&mut self, cx: &mut Cx, job: &Request, outcome: Outcome) {
        dispatch!(self, k => k.on_job_done(cx, job, outcome))
    }
    #[inline]
    fn fleet(&self) -> Option<&Pool> {
        dispatch!(self, k => k.fleet())
    }
    #[inline]
    fn fleet_mut(&mut self) -> Option<&mut Pool> {
        dispatch!(self, k => k.fleet_mut())
    }
    fn capacity_changed(&mut self, stats: &mut Stats, now: Time) {
        dispatch!(self, k => k.capacity_changed(stats, now))
    }
    fn instance_ready(&mut self, cx: &mut Cx) {
        dispatch!(self, k => k.instance_ready(cx))
    }
    fn instance_failed(&mut self, cx: &mut Cx, inst: u32, queued: &[u32]) {
        dispatch!(self, k => k.instance_failed(cx, inst, queued))
    }
    fn counters(&self, now: Time, c: &mut Counters) {
        dispatch!(self, k => k.counters(now, c))
    }
    fn extra_cost_usd(&self) -> f64 {
        dispatch!(self, k => k.extra_cost_usd())
    }
    fn scaling_metrics(
        &self,
        d: &Counters,
        per: &dyn Fn(f64) -> Option<f64>,
        dt: f64,
        out: &mut Vec<crate::policy::Metric>,
    ) {
        dispatch!(self, k => k.scaling_metrics(d, per, dt, out))
    }
    fn pods_share_cpu(&self) -> bool {
        dispatch!(self, k => k.pods_share_cpu())
    }
    fn report(&self, d: &Counters, stats: &Stats, span: f64, r: &mut ComponentReport) {
        dispatch!(self, k => k.report(d, stats, span, r))
    }
    fn finish_report(&self, me: &mut ComponentReport, all: &[ComponentReport]) {
        dispatch!(self, k => k.finish_report(me, all))
    }
    fn window(&mut self, d: &Counters, stats: &Stats, dt: f64, row: &mut TsRow) {
        dispatch!(self, k => k.window(d, stats, dt, row))
    }
}
