//! The system: traffic sources and components wired into one discrete-event
//! [`Model`], the flow of a request through them, and what a run measures.
//!
//! A request enters the component its source names. Each stop on its path is
//! a *visit* (kept in a [`Slab`]): a pool visit waits for a slot, is served,
//! then makes its downstream `calls` one after the other while holding the
//! slot; a cache visit pays its lookup latency and, on a miss, forwards to
//! its `miss` component and fills the key with the answer. When a visit ends
//! it answers its parent visit, and the root visit's answer completes the
//! request. A rejection anywhere fails the whole request: every visit on its
//! path releases what it holds.
//!
//! Measurements are cumulative counters and time integrals, snapshotted at
//! the end of warm-up and at every sampling instant; a window's figures are
//! differences of snapshots, so nothing is reset or counted twice.

use crate::autoscaler::{Controller, Metric, Pod, PolicyConfig};
use crate::balance::Policy;
use crate::batch::{BatchConfig, Batcher};
use crate::cache::{CacheConfig, Scope, Store};
use crate::calendar::Calendar;
use crate::cost::{CostConfig, Pricing};
use crate::database::DatabaseConfig;
use crate::dist::Dist;
use crate::llm::{Finished, Job, LlmConfig, LlmPlan, Plan, Replica};
use crate::pool::Phase;
use crate::pool::{Admission, Pool, PoolConfig, LEVELS};
use crate::queue::QueueConfig;
use crate::shards::{Router, ShardsConfig};
use crate::traffic::Op;
use crate::traffic::{Source, SourceConfig};
use scalesim_sim::stats::{LatencyHist, Tally, TimeAvg};
use scalesim_sim::{from_secs, stream, to_secs, Model, RunOutcome, Scheduler, SimRng, Slab, Time};
use std::collections::BTreeMap;
use std::collections::VecDeque;

/// One component as configured.
#[derive(Clone, Debug, PartialEq)]
pub enum ComponentConfig {
    /// `kind = "pool"`.
    Pool(PoolConfig),
    /// `kind = "cache"`.
    Cache(CacheConfig),
    /// `kind = "queue"`.
    Queue(QueueConfig),
    /// `kind = "shards"`.
    Shards(Box<ShardsConfig>),
    /// `kind = "database"`.
    Database(Box<DatabaseConfig>),
    /// `kind = "llm"`.
    Llm(Box<LlmConfig>),
    /// `kind = "batch"`.
    Batch(Box<BatchConfig>),
}

impl ComponentConfig {
    /// The `kind` string of this component.
    pub fn kind(&self) -> &'static str {
        match self {
            ComponentConfig::Pool(_) => "pool",
            ComponentConfig::Cache(_) => "cache",
            ComponentConfig::Queue(_) => "queue",
            ComponentConfig::Shards(_) => "shards",
            ComponentConfig::Database(_) => "database",
            ComponentConfig::Llm(_) => "llm",
            ComponentConfig::Batch(_) => "batch",
        }
    }

    /// The instance lifecycle (count, cold start, balancing, autoscaler
    /// metrics) of components whose instances scale: pools, and LLM and
    /// batch components as pools of one "stepping" slot per instance.
    pub fn lifecycle(&self) -> Option<PoolConfig> {
        match self {
            ComponentConfig::Pool(p) => Some(p.clone()),
            ComponentConfig::Llm(l) => Some(l.pool()),
            ComponentConfig::Batch(b) => Some(b.pool()),
            _ => None,
        }
    }

    /// Names of the components this one sends requests to, with the field
    /// that names them.
    pub fn downstream(&self) -> Vec<(&'static str, &str)> {
        match self {
            ComponentConfig::Pool(p) => p.calls.iter().map(|c| ("calls", c.as_str())).collect(),
            ComponentConfig::Cache(c) => c.miss.iter().map(|m| ("miss", m.as_str())).collect(),
            ComponentConfig::Queue(q) => vec![("workers", q.workers.as_str())],
            // Before expansion, a shard's calls; after, the shard pools are
            // components of their own (see `SystemConfig::expanded`).
            ComponentConfig::Shards(sh) => match (&sh.shard, &sh.shard_database) {
                (Some(p), _) => p
                    .calls
                    .iter()
                    .map(|c| ("shard.calls", c.as_str()))
                    .collect(),
                (None, Some(d)) => database_calls(d, "shard_database."),
                (None, None) => Vec::new(),
            },
            ComponentConfig::Database(d) => database_calls(d, ""),
            ComponentConfig::Llm(_) | ComponentConfig::Batch(_) => Vec::new(),
        }
    }

    /// Instances (pool servers, cache nodes) that are billed.
    pub fn instances(&self) -> u32 {
        match self {
            ComponentConfig::Pool(p) => p.instances,
            ComponentConfig::Cache(c) => c.nodes,
            ComponentConfig::Llm(l) => l.replicas,
            ComponentConfig::Batch(b) => b.instances,
            ComponentConfig::Queue(_)
            | ComponentConfig::Shards(_)
            | ComponentConfig::Database(_) => 0,
        }
    }

    /// What one instance costs.
    pub fn pricing(&self) -> Pricing {
        match self {
            ComponentConfig::Pool(p) => p.pricing(),
            ComponentConfig::Cache(c) => c.pricing(),
            ComponentConfig::Llm(l) => Pricing {
                instance_type: None,
                price_per_hour: l.replica_price(),
                spot: l.spot,
            },
            ComponentConfig::Batch(b) => b.pool().pricing(),
            ComponentConfig::Queue(_)
            | ComponentConfig::Shards(_)
            | ComponentConfig::Database(_) => Pricing::default(),
        }
    }
}

/// The metrics a scaling component publishes to its autoscaler: the pool
/// metrics, `batch` for serving components, `kv` and `tokens` for LLM
/// ones, and its custom ratios (empty: the component does not scale).
pub fn published_metrics(c: &ComponentConfig) -> Vec<String> {
    use crate::autoscaler::metric as m;
    let Some(p) = c.lifecycle() else {
        return Vec::new();
    };
    let mut out: Vec<String> = m::POOL.iter().map(|s| s.to_string()).collect();
    match c {
        ComponentConfig::Llm(_) => out.extend([m::KV, m::TOKENS, m::BATCH].map(String::from)),
        ComponentConfig::Batch(_) => out.push(m::BATCH.into()),
        _ => {}
    }
    out.extend(p.custom_metrics.iter().map(|cm| cm.name.clone()));
    out
}

/// The components a database's primary and replicas call (`prefix`: the
/// field path of the database inside its component).
fn database_calls<'a>(d: &'a DatabaseConfig, prefix: &str) -> Vec<(&'static str, &'a str)> {
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

/// Everything needed to build and run a system.
#[derive(Clone, Debug)]
pub struct SystemConfig {
    /// Scenario name.
    pub name: String,
    /// Base seed.
    pub seed: u64,
    /// Replication number (sweeps run several; 0 for a single run).
    pub replication: u32,
    /// Simulated time to run.
    pub duration: Time,
    /// Requests arriving before this are not counted.
    pub warmup: Time,
    /// Time-series sampling interval.
    pub sample: Time,
    /// The run stops (and says so) when this many requests are in flight.
    pub max_in_flight: usize,
    /// Named traffic sources, in file order.
    pub sources: Vec<(String, SourceConfig)>,
    /// Named components, in file order.
    pub components: Vec<(String, ComponentConfig)>,
    /// Billing rules and price overrides.
    pub cost: CostConfig,
    /// Local dates and time zone of simulated time.
    pub calendar: Calendar,
    /// Autoscaling policies by pool name.
    pub autoscalers: Vec<(String, PolicyConfig)>,
}

/// A problem in a configuration: the dotted path of the offending field and
/// what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigIssue {
    /// Dotted path, e.g. `components.api.instances`.
    pub path: String,
    /// What is wrong and what is expected.
    pub message: String,
}

impl SystemConfig {
    /// The configuration with every `shards` component followed by its
    /// shards `<name>/0` .. `<name>/<N-1>`, and every `database` by its
    /// pools `<name>/primary`, `<name>/replica<i>` (what [`System::new`]
    /// runs).
    pub fn expanded(&self) -> SystemConfig {
        fn push(out: &mut Vec<(String, ComponentConfig)>, name: &str, c: &ComponentConfig) {
            out.push((name.to_string(), c.clone()));
            match c {
                ComponentConfig::Shards(sh) => {
                    for i in 0..sh.shards {
                        let n = ShardsConfig::shard_name(name, i);
                        match (&sh.shard, &sh.shard_database) {
                            (Some(p), _) => push(out, &n, &ComponentConfig::Pool(p.clone())),
                            (None, Some(d)) => {
                                push(out, &n, &ComponentConfig::Database(Box::new(d.clone())))
                            }
                            (None, None) => {}
                        }
                    }
                }
                ComponentConfig::Database(db) => {
                    out.push((
                        DatabaseConfig::primary_name(name),
                        ComponentConfig::Pool(db.primary.clone()),
                    ));
                    for i in 0..db.replicas {
                        out.push((
                            DatabaseConfig::replica_name(name, i),
                            ComponentConfig::Pool(db.replica_pool()),
                        ));
                    }
                }
                _ => {}
            }
        }
        let mut cfg = self.clone();
        cfg.components = Vec::with_capacity(self.components.len());
        for (name, c) in &self.components {
            push(&mut cfg.components, name, c);
        }
        cfg
    }

    /// Checks everything that can be known before running: numbers in
    /// range, names that exist, no call cycle, keys where caches need them.
    pub fn check(&self) -> Vec<ConfigIssue> {
        let mut out = Vec::new();
        let mut issue = |path: String, message: String| out.push(ConfigIssue { path, message });
        let names: BTreeMap<&str, usize> = self
            .components
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (n.as_str(), i))
            .collect();
        let known = || {
            let v: Vec<&str> = self.components.iter().map(|(n, _)| n.as_str()).collect();
            v.join(", ")
        };
        if self.duration == 0 {
            issue(
                "duration".into(),
                "expected a simulated duration > 0".into(),
            );
        }
        if self.warmup >= self.duration && self.duration > 0 {
            issue(
                "warmup".into(),
                "warm-up must be shorter than the duration".into(),
            );
        }
        if self.sample == 0 {
            issue("sample".into(), "expected a sampling interval > 0".into());
        } else if self.duration / self.sample > MAX_WINDOWS {
            issue(
                "sample".into(),
                format!(
                    "{} time-series windows is too many (at most {MAX_WINDOWS}); use a longer sample interval",
                    self.duration / self.sample
                ),
            );
        }
        if self.max_in_flight == 0 {
            issue("max_in_flight".into(), "expected at least 1".into());
        }
        if let Err((path, m)) = self.cost.check() {
            issue(path, m);
        }
        if self.sources.is_empty() {
            issue(
                "traffic".into(),
                "expected at least one [traffic.<name>] source".into(),
            );
        }
        if self.components.is_empty() {
            issue(
                "components".into(),
                "expected at least one [components.<name>]".into(),
            );
        }
        if self.components.len() > u16::MAX as usize || self.sources.len() > u16::MAX as usize {
            issue(
                "components".into(),
                "too many components or sources (at most 65535)".into(),
            );
        }
        for (name, c) in &self.components {
            if name.starts_with('_') {
                issue(
                    format!("components.{name}"),
                    "component names starting with '_' are reserved".into(),
                );
            }
            if name.contains('/') {
                issue(
                    format!("components.{name}"),
                    "component names may not contain '/' (it names the shards of a kind = \"shards\" component)".into(),
                );
            }
            let base = format!("components.{name}");
            match c {
                ComponentConfig::Database(db) => {
                    if let Err((f, m)) = db.check() {
                        issue(format!("{base}.{f}"), m);
                    }
                }
                ComponentConfig::Shards(sh) => {
                    if let Err((f, m)) = sh.check() {
                        issue(format!("{base}.{f}"), m);
                    }
                    let classes: Vec<String> = self
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
                        .collect();
                    for (i, sc) in sh.scatter.iter().enumerate() {
                        if !classes.contains(sc) {
                            issue(
                                format!("{base}.scatter.{i}"),
                                format!(
                                    "unknown request class {sc:?}; classes: {}",
                                    classes.join(", ")
                                ),
                            );
                        }
                    }
                }
                ComponentConfig::Pool(p) => {
                    if let Err((f, m)) = p.check() {
                        issue(format!("{base}.{f}"), m);
                    }
                }
                ComponentConfig::Llm(l) => {
                    if let Err((f, m)) = l.plan() {
                        issue(format!("{base}.{f}"), m);
                    }
                }
                ComponentConfig::Batch(b) => {
                    if let Err((f, m)) = b.check() {
                        issue(format!("{base}.{f}"), m);
                    }
                }
                ComponentConfig::Queue(q) => {
                    if let Err((f, m)) = q.check() {
                        issue(format!("{base}.{f}"), m);
                    }
                    if let Some(&w) = names.get(q.workers.as_str()) {
                        if !matches!(self.components[w].1, ComponentConfig::Pool(_)) {
                            issue(
                                format!("{base}.workers"),
                                format!(
                                    "workers must name a pool; {:?} is a {}",
                                    q.workers,
                                    self.components[w].1.kind()
                                ),
                            );
                        }
                    }
                }
                ComponentConfig::Cache(cc) => {
                    if let Err((f, m)) = cc.hit.check() {
                        issue(format!("{base}.hit.{f}"), m);
                    }
                    if cc.ttl.is_some_and(|t| t.secs() <= 0.0) {
                        issue(
                            format!("{base}.ttl"),
                            "expected a TTL > 0 (omit it for none)".into(),
                        );
                    }
                }
            }
            if let Err((f, m)) = c.pricing().hourly(&self.cost) {
                issue(format!("{base}.{f}"), m);
            }
            for (field, target) in c.downstream() {
                if !names.contains_key(target) {
                    issue(
                        format!("{base}.{field}"),
                        format!(
                            "unknown component {target:?}; known components: {}",
                            known()
                        ),
                    );
                }
            }
        }
        let horizon_s = to_secs(self.duration);
        for (name, s) in &self.sources {
            if let Err((f, m)) = s.check_classes() {
                issue(format!("traffic.{name}.{f}"), m);
                continue;
            }
            if let Err((f, m)) = s.profile(&self.calendar, horizon_s) {
                issue(format!("traffic.{name}.{f}"), m);
            }
            for (i, c) in s.classes().iter().enumerate() {
                let to = c.to.as_deref().unwrap_or("");
                if !names.contains_key(to) {
                    let field = if s.mix.get(i).is_some_and(|m| m.to.is_some()) {
                        format!("mix.{i}.to")
                    } else {
                        "to".into()
                    };
                    issue(
                        format!("traffic.{name}.{field}"),
                        format!("unknown component {to:?}; known components: {}", known()),
                    );
                    break;
                }
            }
        }
        for (name, a) in &self.autoscalers {
            let base = format!("autoscaler.{name}");
            match names.get(name.as_str()).map(|&i| &self.components[i].1) {
                Some(c) if c.lifecycle().is_some() => {}
                Some(c) => issue(
                    base.clone(),
                    format!(
                        "only pools, llm and batch components scale; {name:?} is a {}",
                        c.kind()
                    ),
                ),
                None => issue(
                    base.clone(),
                    format!("unknown component {name:?}; known components: {}", known()),
                ),
            }
            match a.build(&self.calendar) {
                Err((f, m)) => issue(format!("autoscaler.{name}.{f}"), m),
                Ok(Some(ctrl)) => {
                    let published = names
                        .get(name.as_str())
                        .map(|&i| published_metrics(&self.components[i].1))
                        .unwrap_or_default();
                    for m in ctrl.metrics() {
                        if !published.is_empty() && !published.contains(&m) {
                            issue(
                                base.clone(),
                                format!(
                                    "the policy reads metric {m:?}, which {name:?} does not publish; it publishes {}",
                                    published.join(", ")
                                ),
                            );
                        }
                    }
                }
                Ok(None) => {}
            }
        }
        if out.is_empty() {
            out.extend(self.check_graph(&names));
        }
        out
    }

    /// Call cycles, and caches reached by requests without keys.
    fn check_graph(&self, names: &BTreeMap<&str, usize>) -> Vec<ConfigIssue> {
        let edges: Vec<Vec<(usize, &'static str)>> = self
            .components
            .iter()
            .map(|(_, c)| {
                c.downstream()
                    .into_iter()
                    .map(|(f, t)| (names[t], f))
                    .collect()
            })
            .collect();
        let mut out = Vec::new();
        // Depth-first search with colours: 0 new, 1 on the stack, 2 done.
        let mut colour = vec![0u8; edges.len()];
        let mut stack: Vec<usize> = Vec::new();
        fn dfs(
            u: usize,
            edges: &[Vec<(usize, &'static str)>],
            colour: &mut [u8],
            stack: &mut Vec<usize>,
        ) -> Option<(Vec<usize>, &'static str)> {
            colour[u] = 1;
            stack.push(u);
            for &(v, f) in &edges[u] {
                if colour[v] == 1 {
                    let from = stack.iter().position(|&x| x == v).unwrap_or(0);
                    let mut cyc = stack[from..].to_vec();
                    cyc.push(v);
                    return Some((cyc, f));
                }
                if colour[v] == 0 {
                    if let Some(c) = dfs(v, edges, colour, stack) {
                        return Some(c);
                    }
                }
            }
            stack.pop();
            colour[u] = 2;
            None
        }
        for start in 0..edges.len() {
            if colour[start] == 0 {
                if let Some((cyc, _)) = dfs(start, &edges, &mut colour, &mut stack) {
                    let path: Vec<&str> =
                        cyc.iter().map(|&i| self.components[i].0.as_str()).collect();
                    let last = cyc[cyc.len() - 2];
                    let field = edges[last]
                        .iter()
                        .find(|e| e.0 == *cyc.last().unwrap())
                        .map(|e| e.1)
                        .unwrap_or("calls");
                    out.push(ConfigIssue {
                        path: format!("components.{}.{field}", self.components[last].0),
                        message: format!(
                            "call cycle {}: a request would call itself forever; calls must form a tree or DAG",
                            path.join(" -> ")
                        ),
                    });
                    return out;
                }
            }
        }
        for (cname, c) in &self.components {
            let ComponentConfig::Cache(cc) = c else {
                continue;
            };
            if cc.scope != Scope::PerInstance {
                continue;
            }
            let callers: Vec<&str> = self
                .components
                .iter()
                .filter(|(_, o)| o.downstream().iter().any(|(_, t)| t == cname))
                .map(|(n, _)| n.as_str())
                .collect();
            let entered = self
                .sources
                .iter()
                .any(|(_, s)| s.classes().iter().any(|k| k.to.as_deref() == Some(cname)));
            let non_pool = self.components.iter().any(|(_, o)| {
                !matches!(o, ComponentConfig::Pool(_))
                    && o.downstream().iter().any(|(_, t)| t == cname)
            });
            if entered || non_pool || callers.len() > 1 {
                out.push(ConfigIssue {
                    path: format!("components.{cname}.scope"),
                    message: format!(
                        "a per_instance cache lives inside the instances of ONE pool that calls it; {cname:?} is {}",
                        if entered {
                            "the entry of a traffic source".to_string()
                        } else {
                            format!("called by {}", callers.join(", "))
                        }
                    ),
                });
            }
        }
        for (sname, s) in &self.sources {
            for c in s.classes() {
                let has_tokens = s.trace_tokens.is_some()
                    || (c.prompt_tokens.is_some() && c.output_tokens.is_some());
                if c.keys.is_some() && has_tokens {
                    continue;
                }
                let Some(to) = c.to.as_deref() else { continue };
                let mut seen = vec![false; edges.len()];
                let mut todo = vec![names[to]];
                while let Some(u) = todo.pop() {
                    if std::mem::replace(&mut seen[u], true) {
                        continue;
                    }
                    let (cname, comp) = &self.components[u];
                    let hashed = comp.lifecycle().is_some_and(|p| p.balance == Policy::Hash);
                    let needs = match comp {
                        ComponentConfig::Cache(_) => Some("cache"),
                        _ if hashed => Some("component balanced by key hash"),
                        _ => None,
                    };
                    if let (Some(what), None) = (needs, c.keys) {
                        out.push(ConfigIssue {
                            path: format!("traffic.{sname}"),
                            message: format!(
                                "requests of this source reach {what} {cname:?} but carry no key; add keys = {{ count = N, zipf = S }}"
                            ),
                        });
                        break;
                    }
                    if matches!(comp, ComponentConfig::Llm(_)) && !has_tokens {
                        out.push(ConfigIssue {
                            path: format!("traffic.{sname}"),
                            message: format!(
                                "requests of this source reach LLM component {cname:?} but carry no token counts; add prompt_tokens = N and output_tokens = N (numbers or laws such as {{ dist = \"lognormal\", mean = 512, cv = 1.0 }})"
                            ),
                        });
                        break;
                    }
                    todo.extend(edges[u].iter().map(|e| e.0));
                }
            }
        }
        out.dedup();
        out
    }
}

const NIL: u32 = u32::MAX;

/// At most this many time-series windows per run.
pub const MAX_WINDOWS: u64 = 1_000_000;

/// The engine events of a system. Small and `Copy`: state lives in slabs.
#[derive(Clone, Copy, Debug)]
pub enum Ev {
    /// The next request of source `.0` arrives.
    Arrival(u16),
    /// Pool visit `.0` finished its local service.
    Served(u32),
    /// Cache visit `.0` finished its lookup.
    Looked(u32),
    /// Queue visit `.0` has its job accepted.
    Acked(u32),
    /// End of a sampling interval.
    Sample,
    /// End of warm-up.
    Warmup,
    /// Autoscaler `.0` evaluates its policy.
    Evaluate(u16),
    /// Autoscaler `.0` closes a metric window.
    Snapshot(u16),
    /// An instance of pool `comp` finished booting.
    Boot {
        /// Pool component.
        comp: u16,
        /// Instance index.
        inst: u32,
        /// Its generation when requested (stale events are ignored).
        gen: u32,
    },
    /// Instance `inst` of serving component `comp` ended its step.
    Step {
        /// Component.
        comp: u16,
        /// Instance index.
        inst: u32,
    },
    /// A batch-formation wait of instance `inst` of `comp` ran out.
    Timer {
        /// Component.
        comp: u16,
        /// Instance index.
        inst: u32,
        /// The timer's generation (stale timers are ignored).
        gen: u32,
    },
    /// An instance of pool `comp` passed its readiness grace.
    Ready {
        /// Pool component.
        comp: u16,
        /// Instance index.
        inst: u32,
        /// Its generation when requested.
        gen: u32,
    },
}

/// A pool's autoscaler: its policy and its metrics pipeline.
struct Scaler {
    comp: u16,
    controller: Box<dyn Controller>,
    period: Time,
    window: Time,
    delay: Time,
    provision: Option<Dist>,
    ready_delay: Time,
    rng: SimRng,
    /// Metric windows (closing time, metrics, pods), oldest first.
    snapshots: VecDeque<(Time, Vec<Metric>, Vec<Pod>)>,
    /// Counters at the last window close.
    last: Counters,
    /// (generation, busy integral) of each instance at the last close.
    last_pods: Vec<(u32, f64)>,
}

/// One change of desired capacity.
#[derive(Clone, Debug, PartialEq)]
pub struct ScalingEvent {
    /// When, seconds.
    pub t_s: f64,
    /// The pool.
    pub component: String,
    /// Desired capacity before.
    pub from: u32,
    /// Desired capacity after.
    pub to: u32,
    /// Ready instances then.
    pub ready: u32,
    /// The policy's reason.
    pub reason: String,
}

#[derive(Clone, Copy)]
struct Request {
    arrival: Time,
    key: u64,
    class: u16,
    counted: bool,
    /// For a job: the queue component that accepted it (else [`NO_QUEUE`]).
    job_of: u16,
    /// For a job: a worker has started it.
    started: bool,
    /// LLM requests: prompt and output tokens.
    prompt: u32,
    output: u32,
}

/// `Request::job_of` of a user request.
const NO_QUEUE: u16 = u16::MAX;

/// A request class: a source's `mix` entry (or the whole source).
struct Class {
    name: String,
    op: Op,
    entry: u16,
    arrived: u64,
    completed: u64,
    rejected: u64,
    latency: LatencyHist,
    /// Classes with token counts: (TTFT, TPOT) of their LLM visits.
    tokens: Option<Box<(LatencyHist, LatencyHist)>>,
}

/// Post-warm-up figures of one request class.
#[derive(Clone)]
pub struct ClassReport {
    /// `<source>` or `<source>.<class>`.
    pub name: String,
    /// Read or write.
    pub op: Op,
    /// Requests that arrived after warm-up.
    pub arrived: u64,
    /// Of those, completed.
    pub completed: u64,
    /// Of those, rejected.
    pub rejected: u64,
    /// Their end-to-end latency.
    pub latency: LatencyHist,
    /// Classes with token counts: time to first token and per output
    /// token of their visits to LLM components.
    pub tokens: Option<(LatencyHist, LatencyHist)>,
}

#[derive(Clone, Copy)]
struct Visit {
    req: u32,
    parent: u32,
    comp: u16,
    /// Pool: index of the next downstream call. Cache: 1 if the lookup hit.
    step: u16,
    /// Pool: the instance serving this visit.
    inst: u32,
    enter: Time,
}

enum Comp {
    Pool {
        pool: Pool,
        calls: Vec<u16>,
        /// Per entry of `calls`: its connection pool, if limited.
        conns: Vec<Option<ConnPool>>,
        /// LLM and batch components: the engine of each instance.
        engine: Option<Box<Serving>>,
    },
    Cache {
        /// One store (shared), or one per instance of the calling pool.
        stores: Vec<Store>,
        /// Per-instance: the caller instance generation each store serves.
        gens: Vec<u32>,
        per_instance: bool,
        /// How to make a new per-instance store.
        spec: StoreSpec,
        hit: Dist,
        rng: SimRng,
        miss: Option<u16>,
        coalesce: bool,
        /// Coalescing: (store, key) of a miss on its way -> the last visit
        /// waiting for it ([`NIL`]: none yet).
        pending: rustc_hash::FxHashMap<(u32, u64), u32>,
    },
    Database {
        primary: u16,
        replicas: Vec<u16>,
        /// Round robin over the replicas.
        next: usize,
        lag: Option<Dist>,
        rng: SimRng,
        read_your_writes: bool,
        /// Per key, when its latest write reaches the replicas.
        current_at: rustc_hash::FxHashMap<u64, Time>,
    },
    Shards {
        router: Router,
        /// The shard pools.
        targets: Vec<u16>,
        /// Per request class: scatter to every shard.
        scatter: Vec<bool>,
        rng: SimRng,
    },
    Queue {
        workers: u16,
        capacity: Option<u64>,
        ack: Option<Dist>,
        rng: SimRng,
        /// Accepted jobs no worker has started.
        depth: u64,
    },
}

impl Comp {
    /// A balanced pool's load integrals (see [`Pool::load_integrals`]).
    fn load_integrals(&self, now: Time) -> Option<[f64; LEVELS]> {
        match self {
            Comp::Pool { pool, .. } => pool.load_integrals(now),
            Comp::Cache { .. }
            | Comp::Queue { .. }
            | Comp::Shards { .. }
            | Comp::Database { .. } => None,
        }
    }
}

/// The connections of every instance of a pool to one called component.
struct ConnPool {
    limit: u32,
    /// Open connections per instance.
    in_use: Vec<u32>,
    /// Visits waiting for a connection per instance: (visit, since).
    waiting: Vec<VecDeque<(u32, Time)>>,
}

impl ConnPool {
    fn slot(&mut self, inst: u32) -> usize {
        let i = inst as usize;
        if self.in_use.len() <= i {
            self.in_use.resize(i + 1, 0);
            self.waiting.resize_with(i + 1, VecDeque::new);
        }
        i
    }
}

/// The engines of a component whose instances serve in batches (LLM
/// replicas, dynamic batchers), one per instance index, and the step and
/// timer events that drive them.
struct Serving {
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

/// One instance's engine figures: (waiting, KV blocks used, sequences in
/// its step, output tokens, prompt tokens, preemptions).
#[derive(Clone, Copy, Default)]
struct EngineFigures {
    waiting: u64,
    kv_used: u64,
    batch: u32,
    tokens_out: u64,
    tokens_in: u64,
    preemptions: u64,
}

impl Serving {
    fn new(servers: Servers) -> Serving {
        Serving {
            servers,
            timers: Vec::new(),
            busy: Vec::new(),
            stepping: 0,
            done: Vec::new(),
            done_visits: Vec::new(),
        }
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
}

/// What a serving component measured (LLM and batch components).
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

/// What a new store of a cache is made of.
struct StoreSpec {
    policy: crate::cache::Policy,
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

/// What a cache visit is doing (`Visit::step`).
const LOOKUP_MISS: u16 = 0;
const LOOKUP_HIT: u16 = 1;
const WRITE: u16 = 2;
const WAITING: u16 = 3;

/// Why a request did not complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Ok,
    Rejected,
}

/// Cumulative counters of one component (or of the whole system).
#[derive(Clone, Copy, Default, Debug)]
struct Counters {
    arrivals: u64,
    completions: u64,
    rejections: u64,
    hits: u64,
    misses: u64,
    coalesced: u64,
    writes: u64,
    stale_reads: u64,
    primary_reads: u64,
    busy: f64,
    queue: f64,
    in_system: f64,
    /// Ready slots x time (pools).
    slots: f64,
    /// Ready instances x time (pools).
    ready: f64,
    /// Sum of response times of completed visits, seconds.
    resp_sum: f64,
    /// Serving components: tokens out and in, preemptions, and the
    /// integrals of KV blocks used and available and of batch sizes.
    tokens_out: u64,
    tokens_in: u64,
    preemptions: u64,
    kv_used: f64,
    kv_total: f64,
    batch: f64,
}

impl Counters {
    fn minus(&self, o: &Counters) -> Counters {
        Counters {
            arrivals: self.arrivals - o.arrivals,
            completions: self.completions - o.completions,
            rejections: self.rejections - o.rejections,
            hits: self.hits - o.hits,
            misses: self.misses - o.misses,
            coalesced: self.coalesced - o.coalesced,
            writes: self.writes - o.writes,
            stale_reads: self.stale_reads - o.stale_reads,
            primary_reads: self.primary_reads - o.primary_reads,
            busy: self.busy - o.busy,
            queue: self.queue - o.queue,
            in_system: self.in_system - o.in_system,
            slots: self.slots - o.slots,
            ready: self.ready - o.ready,
            resp_sum: self.resp_sum - o.resp_sum,
            tokens_out: self.tokens_out - o.tokens_out,
            tokens_in: self.tokens_in - o.tokens_in,
            preemptions: self.preemptions - o.preemptions,
            kv_used: self.kv_used - o.kv_used,
            kv_total: self.kv_total - o.kv_total,
            batch: self.batch - o.batch,
        }
    }
}

#[derive(Default)]
struct Stats {
    arrivals: u64,
    completions: u64,
    rejections: u64,
    hits: u64,
    misses: u64,
    busy: TimeAvg,
    queue: TimeAvg,
    in_system: TimeAvg,
    slots: TimeAvg,
    ready: TimeAvg,
    ready_max: u32,
    resp_sum: f64,
    /// Bills of instances that are gone, USD.
    closed_cost: f64,
    scale_outs: u32,
    scale_ins: u32,
    /// Pools with connection limits: each limited call's wait for a
    /// connection (0 when one was free), for calls made after warm-up.
    conn_wait: Tally,
    /// Databases: reads served by a replica the key's latest write had not
    /// reached.
    stale_reads: u64,
    /// Databases: reads sent to the primary to read their own writes.
    primary_reads: u64,
    /// Caches: misses that waited for another miss of their key.
    coalesced: u64,
    /// Caches: writes (which invalidate their key).
    writes: u64,
    /// Queues: jobs accepted after warm-up and done.
    jobs_done: u64,
    /// Queues: jobs accepted after warm-up that their workers refused.
    jobs_failed: u64,
    /// Queues: enqueue-to-done times of jobs accepted after warm-up.
    job_latency: LatencyHist,
    /// Queues: the same in the current sampling window.
    job_window: LatencyHist,
    /// Response times in the current autoscaler metric window (pools with
    /// an autoscaler only).
    scaler_window: Option<LatencyHist>,
    /// The autoscaler's latest load forecast (forecasting policies).
    forecast: Option<f64>,
    /// Response times of visits entered after warm-up.
    response: LatencyHist,
    /// Waits for a slot of visits entered after warm-up.
    wait: Tally,
    /// Response times in the current sampling window.
    window: LatencyHist,
    /// Waits for a slot in the current sampling window.
    window_wait: Tally,
    at_warmup: Counters,
    at_sample: Counters,
    /// LLM and batch components.
    serving: Option<Box<ServingStats>>,
}

impl Stats {
    fn counters(&self, now: Time) -> Counters {
        Counters {
            arrivals: self.arrivals,
            completions: self.completions,
            rejections: self.rejections,
            hits: self.hits,
            misses: self.misses,
            coalesced: self.coalesced,
            writes: self.writes,
            stale_reads: self.stale_reads,
            primary_reads: self.primary_reads,
            busy: self.busy.integral(now),
            queue: self.queue.integral(now),
            in_system: self.in_system.integral(now),
            slots: self.slots.integral(now),
            ready: self.ready.integral(now),
            resp_sum: self.resp_sum,
            ..self.serving_counters(now)
        }
    }

    fn serving_counters(&self, now: Time) -> Counters {
        match &self.serving {
            Some(v) => Counters {
                tokens_out: v.tokens_out,
                tokens_in: v.tokens_in,
                preemptions: v.preemptions,
                kv_used: v.kv_used.integral(now),
                kv_total: v.kv_total.integral(now),
                batch: v.batch.integral(now),
                ..Counters::default()
            },
            None => Counters::default(),
        }
    }
}

/// The jobs of a queue accepted after warm-up.
#[derive(Clone)]
pub struct JobReport {
    /// Worked off.
    pub done: u64,
    /// Refused by the worker pool (or what it called).
    pub failed: u64,
    /// Enqueue-to-done time of the jobs done.
    pub latency: LatencyHist,
}

impl std::fmt::Debug for JobReport {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct("JobReport")
            .field("done", &self.done)
            .field("failed", &self.failed)
            .field("latency_mean_s", &self.latency.mean_s())
            .finish()
    }
}

/// One row of the time series: a component (or `_system`) over one window.
#[derive(Clone, Debug, PartialEq)]
pub struct TsRow {
    /// End of the window, seconds since the start.
    pub t_s: f64,
    /// Component name, or `_system` for end-to-end figures.
    pub component: String,
    /// Arrivals in the window.
    pub arrivals: u64,
    /// Completions in the window.
    pub completions: u64,
    /// Rejections in the window.
    pub rejections: u64,
    /// Mean response time of visits that ended in the window (s).
    pub mean_s: f64,
    /// Response-time percentiles of visits that ended in the window (s).
    pub p50_s: f64,
    /// 95th percentile (s).
    pub p95_s: f64,
    /// 99th percentile (s).
    pub p99_s: f64,
    /// Mean wait for a slot of visits that got one in the window (pools).
    pub wait_mean_s: Option<f64>,
    /// Busy slots / slots, time-averaged (pools; empty otherwise).
    pub utilization: Option<f64>,
    /// Time-averaged queue length (pools).
    pub queue_len: Option<f64>,
    /// Time-averaged number of visits (requests for `_system`) in progress.
    pub in_flight: f64,
    /// Hits / lookups in the window (caches).
    pub hit_ratio: Option<f64>,
    /// Ready instances (pool servers, cache nodes) at the end of the window.
    pub instances: Option<u32>,
    /// Desired instances (ready + pending) at the end of the window (pools).
    pub instances_desired: Option<u32>,
    /// Instances provisioning or warming at the end of the window (pools).
    pub instances_pending: Option<u32>,
    /// A forecasting autoscaler's latest load forecast, requests/s (pools).
    pub forecast_rps: Option<f64>,
    /// Cost accrued since the start, USD (priced components; the sum for
    /// `_system`).
    pub cost_usd: Option<f64>,
    /// Queues: mean enqueue-to-done time of jobs done in the window (s).
    pub job_mean_s: Option<f64>,
    /// Queues: its 99th percentile (s).
    pub job_p99_s: Option<f64>,
    /// LLM components: 99th percentile of the time to first token of the
    /// requests that ended in the window (s).
    pub ttft_p99_s: Option<f64>,
    /// LLM components: 99th percentile of their time per output token (s).
    pub tpot_p99_s: Option<f64>,
    /// LLM components: 99th percentile of the gaps between consecutive
    /// output tokens emitted in the window (s).
    pub itl_p99_s: Option<f64>,
    /// LLM components: output tokens per second in the window.
    pub tokens_per_s: Option<f64>,
    /// LLM components: time-averaged share of KV blocks in use.
    pub kv_use: Option<f64>,
    /// LLM and batch components: mean requests per step while stepping.
    pub batch_mean: Option<f64>,
    /// LLM components: requests preempted in the window.
    pub preemptions: Option<u64>,
}

/// Post-warm-up figures of one component.
#[derive(Clone, Debug)]
pub struct ComponentReport {
    /// Component name.
    pub name: String,
    /// `kind` string.
    pub kind: &'static str,
    /// Visits that arrived.
    pub arrivals: u64,
    /// Visits that completed.
    pub completions: u64,
    /// Visits rejected here.
    pub rejections: u64,
    /// Completions per second.
    pub throughput_rps: f64,
    /// Busy slot-seconds / (slots x seconds) (pools).
    pub utilization: Option<f64>,
    /// Mean wait for a slot (pools).
    pub mean_wait_s: Option<f64>,
    /// Time-averaged queue length (pools).
    pub mean_queue_len: Option<f64>,
    /// Time-averaged number of visits in progress (queued or held).
    pub mean_in_system: f64,
    /// Mean time from arrival to answer at this component.
    pub mean_response_s: f64,
    /// 99th percentile of that time.
    pub p99_response_s: f64,
    /// Instances (pools).
    pub instances: Option<u32>,
    /// Cache hits.
    pub hits: Option<u64>,
    /// Cache misses.
    pub misses: Option<u64>,
    /// The bill for the whole run, USD (priced components only).
    pub cost_usd: Option<f64>,
    /// Cost accrued after warm-up, USD: the basis of hourly and per-request
    /// figures.
    pub cost_measured_usd: Option<f64>,
    /// Time-averaged ready instances after warm-up (pools; nodes for caches).
    pub instances_mean: f64,
    /// Most ready instances at once.
    pub instances_max: u32,
    /// Pools behind a balancer: the time-averaged share of ready instances
    /// with at least 1, 2, ... 8 requests in service or queued.
    pub load_at_least: Option<[f64; LEVELS]>,
    /// Queues: what became of the jobs accepted after warm-up.
    pub jobs: Option<JobReport>,
    /// Coalescing caches: misses that waited for another miss of their key
    /// instead of reaching the backend.
    pub coalesced: Option<u64>,
    /// Caches: writes seen (each invalidates its key).
    pub writes: Option<u64>,
    /// Shards: the busiest shard's arrivals over the mean shard's.
    pub shard_imbalance: Option<f64>,
    /// Pools with `connections` limits: mean wait of a limited call for a
    /// connection of its instance, seconds.
    pub connection_wait_s: Option<f64>,
    /// Databases: reads a replica served before the key's latest write
    /// reached it.
    pub stale_reads: Option<u64>,
    /// Databases: reads sent to the primary to read their own writes.
    pub primary_reads: Option<u64>,
    /// Scale-out decisions.
    pub scale_outs: u32,
    /// Scale-in decisions.
    pub scale_ins: u32,
    /// LLM and batch components: what their engines measured.
    pub serving: Option<ServingReport>,
}

/// What an LLM or batch component measured after warm-up.
#[derive(Clone)]
pub struct ServingReport {
    /// GPUs per replica (0 for a batch component).
    pub gpus_per_instance: u32,
    /// KV-cache blocks per replica (0 for a batch component).
    pub kv_blocks: u64,
    /// Tokens per KV block.
    pub block_size: u32,
    /// Time to first token of requests that entered after warm-up.
    pub ttft: LatencyHist,
    /// Their time per output token after the first.
    pub tpot: LatencyHist,
    /// Gaps between consecutive output tokens emitted after warm-up.
    pub itl: LatencyHist,
    /// Output tokens emitted.
    pub tokens_out: u64,
    /// Prompt tokens prefilled, recomputed ones included.
    pub tokens_in: u64,
    /// Requests preempted (KV exhausted; recomputed later).
    pub preemptions: u64,
    /// Time-averaged share of the KV blocks in use.
    pub kv_use_mean: f64,
    /// Mean requests per step while stepping.
    pub batch_mean: f64,
}

impl std::fmt::Debug for ServingReport {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct("ServingReport")
            .field("tokens_out", &self.tokens_out)
            .field("ttft_mean_s", &self.ttft.mean_s())
            .field("tpot_mean_s", &self.tpot.mean_s())
            .field("kv_use_mean", &self.kv_use_mean)
            .field("batch_mean", &self.batch_mean)
            .finish()
    }
}

/// Why a run ended before its duration.
#[derive(Clone, Debug, PartialEq)]
pub struct Runaway {
    /// Simulated time of the stop (s).
    pub at_s: f64,
    /// Requests in flight then.
    pub in_flight: usize,
    /// The cap that was hit.
    pub limit: usize,
}

/// Everything a run measured.
pub struct RunReport {
    /// Scenario name.
    pub name: String,
    /// Seed used.
    pub seed: u64,
    /// Simulated seconds actually run.
    pub simulated_s: f64,
    /// Seconds after warm-up over which rates and averages are taken.
    pub measured_s: f64,
    /// Requests that arrived after warm-up.
    pub arrived: u64,
    /// Of those, completed.
    pub completed: u64,
    /// Of those, rejected.
    pub rejected: u64,
    /// Of those, still in flight at the end.
    pub in_flight_at_end: u64,
    /// End-to-end latency of completed counted requests.
    pub latency: LatencyHist,
    /// Per-component figures, in configuration order.
    pub components: Vec<ComponentReport>,
    /// The time series.
    pub timeseries: Vec<TsRow>,
    /// Set when the in-flight cap stopped the run.
    pub runaway: Option<Runaway>,
    /// Engine events handled.
    pub events: u64,
    /// The bill of every priced component for the whole run, USD.
    pub cost_usd: f64,
    /// Cost accrued after warm-up, USD.
    pub cost_measured_usd: f64,
    /// Per request class, in source and mix order.
    pub classes: Vec<ClassReport>,
    /// Every change of desired capacity, in time order.
    pub scaling_events: Vec<ScalingEvent>,
}

/// A built system, ready to run.
pub struct System {
    cfg: SystemConfig,
    /// Each source with the global index of its first class.
    sources: Vec<(Source, u16)>,
    classes: Vec<Class>,
    comps: Vec<Comp>,
    stats: Vec<Stats>,
    /// Price per instance-hour of each component (None: not priced).
    hourly: Vec<Option<f64>>,
    /// Accrued cost of each component at the end of warm-up.
    cost_at_warmup: Vec<Option<f64>>,
    /// Per component, the balanced pool's load integrals at warm-up.
    load_at_warmup: Vec<Option<[f64; LEVELS]>>,
    scalers: Vec<Scaler>,
    scaling_events: Vec<ScalingEvent>,
    sys: Stats,
    requests: Slab<Request>,
    visits: Slab<Visit>,
    /// Coalescing caches: per visit waiting for another miss, the visit
    /// that waited before it ([`NIL`]: first).
    waiting: Vec<u32>,
    counted_arrived: u64,
    counted_completed: u64,
    counted_rejected: u64,
    latency: LatencyHist,
    rows: Vec<TsRow>,
    last_sample: Time,
    runaway: Option<Runaway>,
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
        let idx: BTreeMap<&str, u16> = cfg
            .components
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (n.as_str(), i as u16))
            .collect();
        let (seed, rep) = (cfg.seed, cfg.replication);
        let horizon_s = to_secs(cfg.duration);
        let mut sources = Vec::with_capacity(cfg.sources.len());
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
                    latency: LatencyHist::new(),
                    tokens: (s.trace_tokens.is_some()
                        || (c.prompt_tokens.is_some() && c.output_tokens.is_some()))
                    .then(|| Box::new((LatencyHist::new(), LatencyHist::new()))),
                });
            }
        }
        let comps: Vec<Comp> = cfg
            .components
            .iter()
            .map(|(n, c)| {
                let comp = format!("components.{n}");
                match c {
                    ComponentConfig::Pool(p) => Comp::Pool {
                        pool: Pool::new(
                            p,
                            stream(seed, rep, &comp, "service"),
                            stream(seed, rep, &comp, "balance"),
                        ),
                        calls: p.calls.iter().map(|c| idx[c.as_str()]).collect(),
                        conns: p
                            .calls
                            .iter()
                            .map(|c| {
                                p.connections.get(c).map(|&limit| ConnPool {
                                    limit,
                                    in_use: Vec::new(),
                                    waiting: Vec::new(),
                                })
                            })
                            .collect(),
                        engine: None,
                    },
                    ComponentConfig::Llm(l) => Comp::Pool {
                        pool: Pool::new(
                            &l.pool(),
                            stream(seed, rep, &comp, "service"),
                            stream(seed, rep, &comp, "balance"),
                        ),
                        calls: Vec::new(),
                        conns: Vec::new(),
                        engine: Some(Box::new(Serving::new(Servers::Llm {
                            plan: l.plan().expect("checked by SystemConfig::check"),
                            reps: Vec::new(),
                        }))),
                    },
                    ComponentConfig::Batch(b) => Comp::Pool {
                        pool: Pool::new(
                            &b.pool(),
                            stream(seed, rep, &comp, "service"),
                            stream(seed, rep, &comp, "balance"),
                        ),
                        calls: Vec::new(),
                        conns: Vec::new(),
                        engine: Some(Box::new(Serving::new(Servers::Batch {
                            cfg: (**b).clone(),
                            reps: Vec::new(),
                        }))),
                    },
                    ComponentConfig::Cache(c) => {
                        let spec = StoreSpec {
                            policy: c.policy,
                            capacity: c.capacity,
                            ttl: c.ttl.map(|t| t.time()),
                            warm: c.warm,
                            seed,
                            rep,
                            name: comp.clone(),
                        };
                        let per_instance = c.scope == Scope::PerInstance;
                        Comp::Cache {
                            stores: if per_instance {
                                Vec::new()
                            } else {
                                vec![spec.build(0, 0)]
                            },
                            gens: Vec::new(),
                            per_instance,
                            spec,
                            hit: c.hit.sampler(),
                            rng: stream(seed, rep, &comp, "hit"),
                            miss: c.miss.as_ref().map(|m| idx[m.as_str()]),
                            coalesce: c.coalesce,
                            pending: Default::default(),
                        }
                    }
                    ComponentConfig::Database(db) => Comp::Database {
                        primary: idx[DatabaseConfig::primary_name(n).as_str()],
                        replicas: (0..db.replicas)
                            .map(|i| idx[DatabaseConfig::replica_name(n, i).as_str()])
                            .collect(),
                        next: 0,
                        lag: db.replication_lag.as_ref().map(|l| l.sampler()),
                        rng: stream(seed, rep, &comp, "lag"),
                        read_your_writes: db.read_your_writes,
                        current_at: Default::default(),
                    },
                    ComponentConfig::Shards(sh) => Comp::Shards {
                        router: Router::new(sh),
                        targets: (0..sh.shards)
                            .map(|i| idx[ShardsConfig::shard_name(n, i).as_str()])
                            .collect(),
                        scatter: classes
                            .iter()
                            .map(|c| sh.scatter.contains(&c.name))
                            .collect(),
                        rng: stream(seed, rep, &comp, "route"),
                    },
                    ComponentConfig::Queue(q) => Comp::Queue {
                        workers: idx[q.workers.as_str()],
                        capacity: q.capacity,
                        ack: q.ack.as_ref().map(|a| a.sampler()),
                        rng: stream(seed, rep, &comp, "ack"),
                        depth: 0,
                    },
                }
            })
            .collect();
        let mut stats: Vec<Stats> = cfg.components.iter().map(|_| Stats::default()).collect();
        for ((st, (_, c)), comp) in stats.iter_mut().zip(&cfg.components).zip(&comps) {
            if let Some(p) = c.lifecycle() {
                st.slots.set(0, p.slots() as f64);
                st.ready.set(0, p.instances as f64);
                st.ready_max = p.instances;
            }
            if let Comp::Pool {
                engine: Some(e), ..
            } = comp
            {
                let mut v = Box::<ServingStats>::default();
                v.kv_total
                    .set(0, (e.blocks_per_instance() * c.instances() as u64) as f64);
                st.serving = Some(v);
            }
        }
        let mut scalers = Vec::new();
        for (name, a) in &cfg.autoscalers {
            let controller = a.build(&cfg.calendar).map_err(|(f, m)| {
                vec![ConfigIssue {
                    path: format!("autoscaler.{name}.{f}"),
                    message: m,
                }]
            })?;
            let (Some(controller), Some(&comp)) = (controller, idx.get(name.as_str())) else {
                continue;
            };
            let Some(p) = cfg.components[comp as usize].1.lifecycle() else {
                continue;
            };
            let period = from_secs(controller.period_s()).max(1);
            stats[comp as usize].scaler_window = Some(LatencyHist::new());
            scalers.push(Scaler {
                comp,
                window: p.metric_period.map(|d| d.time()).unwrap_or(period).max(1),
                delay: p.metric_delay.time(),
                provision: p.provision_time.as_ref().map(|d| d.sampler()),
                ready_delay: p.ready_delay.time(),
                rng: stream(seed, rep, &format!("autoscaler.{name}"), "provision"),
                snapshots: VecDeque::new(),
                last: Counters::default(),
                last_pods: Vec::new(),
                period,
                controller,
            });
        }
        let hourly: Vec<Option<f64>> = cfg
            .components
            .iter()
            .map(|(_, c)| c.pricing().hourly(&cfg.cost).ok().flatten())
            .collect();
        Ok(System {
            cfg,
            sources,
            classes,
            comps,
            stats,
            cost_at_warmup: vec![None; hourly.len()],
            load_at_warmup: vec![None; hourly.len()],
            hourly,
            scalers,
            scaling_events: Vec::new(),
            sys: Stats::default(),
            requests: Slab::new(),
            visits: Slab::new(),
            waiting: Vec::new(),
            counted_arrived: 0,
            counted_completed: 0,
            counted_rejected: 0,
            latency: LatencyHist::new(),
            rows: Vec::new(),
            last_sample: 0,
            runaway: None,
        })
    }

    /// Runs the system for its duration and returns what it measured.
    pub fn run(mut self) -> RunReport {
        let mut s: Scheduler<Ev> = Scheduler::new();
        for i in 0..self.sources.len() {
            if let Some(t) = self.sources[i].0.next_arrival(0) {
                s.at(t, Ev::Arrival(i as u16));
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

    fn report(self, end: Time, events: u64) -> RunReport {
        let warm = self.cfg.warmup.min(end);
        let span = (end - warm).max(1) as f64;
        let components = self
            .cfg
            .components
            .iter()
            .zip(&self.stats)
            .zip(&self.comps)
            .enumerate()
            .map(|(i, (((name, cfg), st), comp))| {
                let d = st.counters(end).minus(&st.at_warmup);
                let is_pool = matches!(comp, Comp::Pool { .. });
                let is_queue = matches!(comp, Comp::Queue { .. });
                ComponentReport {
                    name: name.clone(),
                    kind: cfg.kind(),
                    arrivals: d.arrivals,
                    completions: d.completions,
                    rejections: d.rejections,
                    throughput_rps: d.completions as f64 / span * 1e9,
                    utilization: is_pool
                        .then(|| if d.slots > 0.0 { d.busy / d.slots } else { 0.0 }),
                    mean_wait_s: ((is_pool && st.serving.is_none()) || is_queue)
                        .then(|| st.wait.mean()),
                    mean_queue_len: (is_pool || is_queue).then(|| d.queue / span),
                    mean_in_system: d.in_system / span,
                    mean_response_s: st.response.mean_s(),
                    p99_response_s: st.response.quantile_s(0.99),
                    instances: Some(cfg.instances()),
                    instances_mean: if is_pool {
                        d.ready / span
                    } else {
                        cfg.instances() as f64
                    },
                    instances_max: if is_pool {
                        st.ready_max
                    } else {
                        cfg.instances()
                    },
                    scale_outs: st.scale_outs,
                    scale_ins: st.scale_ins,
                    hits: matches!(comp, Comp::Cache { .. }).then_some(d.hits),
                    misses: matches!(comp, Comp::Cache { .. }).then_some(d.misses),
                    coalesced: matches!(comp, Comp::Cache { coalesce: true, .. })
                        .then_some(d.coalesced),
                    writes: matches!(comp, Comp::Cache { .. }).then_some(d.writes),
                    shard_imbalance: None,
                    connection_wait_s: match comp {
                        Comp::Pool { conns, .. } if conns.iter().any(Option::is_some) => {
                            Some(st.conn_wait.mean())
                        }
                        _ => None,
                    },
                    stale_reads: matches!(comp, Comp::Database { .. }).then_some(d.stale_reads),
                    primary_reads: matches!(comp, Comp::Database { .. }).then_some(d.primary_reads),
                    jobs: is_queue.then(|| JobReport {
                        done: st.jobs_done,
                        failed: st.jobs_failed,
                        latency: st.job_latency.clone(),
                    }),
                    cost_usd: self.bill(i, end),
                    cost_measured_usd: self
                        .accrued(i, end)
                        .map(|a| a - self.cost_at_warmup[i].unwrap_or(0.0)),
                    serving: match (comp, &st.serving) {
                        (
                            Comp::Pool {
                                engine: Some(e), ..
                            },
                            Some(v),
                        ) => {
                            let (gpus, block_size) = match &e.servers {
                                Servers::Llm { plan, .. } => (plan.tp, plan.block_size),
                                Servers::Batch { .. } => (0, 0),
                            };
                            Some(ServingReport {
                                gpus_per_instance: gpus,
                                kv_blocks: e.blocks_per_instance(),
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
                            })
                        }
                        _ => None,
                    },
                    load_at_least: comp.load_integrals(end).map(|l| {
                        let w = self.load_at_warmup[i].unwrap_or([0.0; LEVELS]);
                        std::array::from_fn(|k| {
                            if d.ready > 0.0 {
                                (l[k] - w[k]) / d.ready
                            } else {
                                0.0
                            }
                        })
                    }),
                }
            })
            .collect::<Vec<_>>();
        let mut components = components;
        for (i, comp) in self.comps.iter().enumerate() {
            if let Comp::Shards { targets, .. } = comp {
                let loads: Vec<f64> = targets
                    .iter()
                    .map(|&t| components[t as usize].arrivals as f64)
                    .collect();
                let mean = loads.iter().sum::<f64>() / loads.len() as f64;
                let max = loads.iter().copied().fold(0.0, f64::max);
                components[i].shard_imbalance = Some(if mean > 0.0 { max / mean } else { 1.0 });
            }
        }
        let cost_usd = components.iter().filter_map(|c| c.cost_usd).sum();
        let cost_measured_usd = components.iter().filter_map(|c| c.cost_measured_usd).sum();
        RunReport {
            name: self.cfg.name.clone(),
            seed: self.cfg.seed,
            simulated_s: to_secs(end),
            measured_s: span / 1e9,
            arrived: self.counted_arrived,
            completed: self.counted_completed,
            rejected: self.counted_rejected,
            in_flight_at_end: self.counted_arrived - self.counted_completed - self.counted_rejected,
            latency: self.latency,
            components,
            timeseries: self.rows,
            runaway: self.runaway,
            events,
            cost_usd,
            cost_measured_usd,
            scaling_events: self.scaling_events,
            classes: self
                .classes
                .into_iter()
                .map(|c| ClassReport {
                    name: c.name,
                    op: c.op,
                    arrived: c.arrived,
                    completed: c.completed,
                    rejected: c.rejected,
                    latency: c.latency,
                    tokens: c.tokens.map(|t| *t),
                })
                .collect(),
        }
    }

    /// Ready instances of component `i` now (cache nodes for caches).
    fn instances(&self, i: usize) -> u32 {
        match &self.comps[i] {
            Comp::Pool { pool, .. } => pool.ready(),
            Comp::Cache { .. }
            | Comp::Queue { .. }
            | Comp::Shards { .. }
            | Comp::Database { .. } => self.cfg.components[i].1.instances(),
        }
    }

    /// Cost of component `i` accrued from the start to `t` (None: unpriced):
    /// the bills of gone instances plus what live ones have run so far.
    fn accrued(&self, i: usize, t: Time) -> Option<f64> {
        self.cost_of(i, t, |h, secs| self.cfg.cost.accrued(h, secs))
    }

    /// The bill of component `i` for a run ending at `end` (minimums
    /// applied to every instance run).
    fn bill(&self, i: usize, end: Time) -> Option<f64> {
        self.cost_of(i, end, |h, secs| self.cfg.cost.bill(h, secs))
    }

    fn cost_of(&self, i: usize, t: Time, run: impl Fn(f64, f64) -> f64) -> Option<f64> {
        let h = self.hourly[i]?;
        Some(match &self.comps[i] {
            Comp::Pool { pool, .. } => {
                self.stats[i].closed_cost
                    + pool
                        .instances()
                        .iter()
                        .filter(|x| x.phase != Phase::Gone)
                        .map(|x| run(h, to_secs(t.saturating_sub(x.requested_at))))
                        .sum::<f64>()
            }
            Comp::Cache { .. }
            | Comp::Queue { .. }
            | Comp::Shards { .. }
            | Comp::Database { .. } => {
                self.cfg.components[i].1.instances() as f64 * run(h, to_secs(t))
            }
        })
    }

    /// Instance `inst` of pool `i` is gone at `now`: close its bill.
    fn close_instance(&mut self, i: usize, inst: u32, now: Time) {
        if let (Some(h), Comp::Pool { pool, .. }) = (self.hourly[i], &self.comps[i]) {
            let run = to_secs(now.saturating_sub(pool.instances()[inst as usize].requested_at));
            self.stats[i].closed_cost += self.cfg.cost.bill(h, run);
        }
    }

    /// Records the pool's ready slots and instances after a lifecycle change.
    fn pool_capacity_changed(&mut self, i: usize, now: Time) {
        if let Comp::Pool { pool, engine, .. } = &self.comps[i] {
            let st = &mut self.stats[i];
            st.slots.set(now, pool.slots() as f64);
            st.ready.set(now, pool.ready() as f64);
            st.ready_max = st.ready_max.max(pool.ready());
            match (engine, &mut st.serving) {
                (Some(e), Some(v)) => {
                    st.busy.set(now, e.stepping as f64);
                    // KV of the instances that serve: ready or draining.
                    let serving = pool
                        .instances()
                        .iter()
                        .filter(|x| matches!(x.phase, Phase::Ready | Phase::Draining))
                        .count() as u64;
                    v.kv_total
                        .set(now, (serving * e.blocks_per_instance()) as f64);
                }
                _ => st.busy.set(now, pool.busy() as f64),
            }
        }
    }

    /// Closes a metric window of scaler `k` at `now`.
    fn snapshot(&mut self, k: usize, now: Time) {
        let comp = self.scalers[k].comp as usize;
        let c = self.stats[comp].counters(now);
        let p99 = self.stats[comp].scaler_window.as_mut().and_then(|h| {
            let v = (h.count() > 0).then(|| h.quantile_s(0.99));
            h.clear();
            v
        });
        let sc = &mut self.scalers[k];
        let d = c.minus(&sc.last);
        let dt = now
            .saturating_sub(sc.snapshots.back().map(|x| x.0).unwrap_or(0))
            .max(1) as f64;
        let Comp::Pool { pool, .. } = &self.comps[comp] else {
            return;
        };
        let ready = pool.ready();
        let per = |x: f64| (ready > 0).then(|| x / ready as f64);
        let metric = |name: &str, value: Option<f64>| Metric {
            name: name.to_string(),
            value,
        };
        use crate::autoscaler::metric as m;
        let metrics = vec![
            metric(m::CPU, (d.slots > 0.0).then(|| d.busy / d.slots)),
            metric(m::RPS, per(d.completions as f64 / (dt / 1e9))),
            metric(m::QUEUE, per(d.queue / dt)),
            metric(m::QUEUE_TOTAL, Some(d.queue / dt)),
            metric(m::IN_FLIGHT, per(d.in_system / dt)),
            metric(
                m::LATENCY,
                (d.completions > 0).then(|| d.resp_sum / d.completions as f64),
            ),
            metric(m::P99, p99),
        ];
        let mut metrics = metrics;
        if let Comp::Pool {
            engine: Some(e), ..
        } = &self.comps[comp]
        {
            if e.blocks_per_instance() > 0 {
                metrics.push(metric(
                    m::KV,
                    (d.kv_total > 0.0).then(|| d.kv_used / d.kv_total),
                ));
                metrics.push(metric(m::TOKENS, per(d.tokens_out as f64 / (dt / 1e9))));
            }
            metrics.push(metric(m::BATCH, (d.busy > 0.0).then(|| d.batch / d.busy)));
        }
        if let Some(pc) = self.cfg.components[comp].1.lifecycle() {
            for cm in &pc.custom_metrics {
                let get = |n: &str| {
                    if n == "ready" {
                        Some(ready as f64)
                    } else {
                        metrics.iter().find(|x| x.name == n).and_then(|x| x.value)
                    }
                };
                let value = match (get(&cm.ratio[0]), get(&cm.ratio[1])) {
                    (Some(a), Some(b)) if b != 0.0 => Some(a / b),
                    _ => None,
                };
                metrics.push(metric(&cm.name, value));
            }
        }
        let conc = pool.slots().max(1) as f64 / ready.max(1) as f64;
        // Serving instances count visits, not slots: their pods report the
        // component's GPU-busy share.
        let shared_cpu = matches!(
            &self.comps[comp],
            Comp::Pool {
                engine: Some(_),
                ..
            }
        )
        .then(|| {
            metrics
                .iter()
                .find(|x| x.name == m::CPU)
                .and_then(|x| x.value)
        });
        sc.last_pods.resize(pool.instances().len(), (u32::MAX, 0.0));
        let mut pods = Vec::new();
        for (x, last) in pool.instances().iter().zip(sc.last_pods.iter_mut()) {
            let integral = x.busy_integral(now);
            if matches!(x.phase, Phase::Warming | Phase::Ready) {
                let ready_pod = x.phase == Phase::Ready;
                let cpu = match shared_cpu {
                    Some(c) => c.filter(|_| ready_pod),
                    None => (ready_pod && last.0 == x.generation())
                        .then(|| (integral - last.1) / (conc * dt)),
                };
                let values = metrics
                    .iter()
                    .map(|mt| {
                        if mt.name == m::CPU {
                            cpu
                        } else {
                            mt.value.filter(|_| ready_pod)
                        }
                    })
                    .collect();
                pods.push(Pod {
                    ready: ready_pod,
                    age_s: to_secs(now.saturating_sub(x.requested_at)),
                    values,
                });
            }
            *last = (x.generation(), integral);
        }
        sc.last = c;
        sc.snapshots.push_back((now, metrics, pods));
        // Keep what a delayed read may still need.
        while sc.snapshots.len() > 2 && sc.snapshots[1].0 + sc.delay <= now {
            sc.snapshots.pop_front();
        }
    }

    /// Scaler `k` evaluates its policy at `now` and applies the decision.
    fn evaluate(&mut self, s: &mut Scheduler<Ev>, k: usize) {
        let now = s.now();
        let comp = self.scalers[k].comp as usize;
        let Comp::Pool { pool, .. } = &self.comps[comp] else {
            return;
        };
        let (current, ready) = (pool.desired(), pool.ready());
        let sc = &mut self.scalers[k];
        let visible = sc.snapshots.iter().rev().find(|x| x.0 + sc.delay <= now);
        let empty = (Vec::new(), Vec::new());
        let (metrics, pods) = visible
            .map(|x| (&x.1, &x.2))
            .unwrap_or((&empty.0, &empty.1));
        let obs = crate::autoscaler::Observation {
            now_s: to_secs(now),
            current,
            ready,
            metrics,
            pods,
        };
        let decision = sc.controller.evaluate(&obs);
        self.stats[comp].forecast = sc.controller.forecast();
        if decision.desired == current {
            return;
        }
        let (scaler_rng, provision) = (&mut sc.rng, &sc.provision);
        let Comp::Pool { pool, .. } = &mut self.comps[comp] else {
            return;
        };
        if decision.desired > current {
            for _ in current..decision.desired {
                let inst = pool.request(now);
                let gen = pool.instances()[inst as usize].generation();
                let boot = provision
                    .as_ref()
                    .map(|d| d.sample(scaler_rng))
                    .unwrap_or(0);
                s.after(
                    boot,
                    Ev::Boot {
                        comp: comp as u16,
                        inst,
                        gen,
                    },
                );
            }
            self.stats[comp].scale_outs += 1;
        } else {
            let gone = pool.remove(current - decision.desired, now);
            for inst in gone {
                self.close_instance(comp, inst, now);
            }
            self.stats[comp].scale_ins += 1;
            self.pool_capacity_changed(comp, now);
        }
        self.scaling_events.push(ScalingEvent {
            t_s: to_secs(now),
            component: self.cfg.components[comp].0.clone(),
            from: current,
            to: decision.desired,
            ready,
            reason: decision.reason,
        });
    }

    /// An instance finished booting or its readiness grace.
    fn lifecycle(&mut self, s: &mut Scheduler<Ev>, comp: u16, inst: u32, gen: u32, ready: bool) {
        let now = s.now();
        let c = comp as usize;
        let delay = self
            .scalers
            .iter()
            .find(|x| x.comp == comp)
            .map(|x| x.ready_delay)
            .unwrap_or(0);
        let Comp::Pool { pool, .. } = &mut self.comps[c] else {
            return;
        };
        let x = pool.instances()[inst as usize];
        if x.generation() != gen || matches!(x.phase, Phase::Gone | Phase::Draining) {
            return;
        }
        if !ready && delay > 0 {
            pool.set_phase(inst, Phase::Warming, now);
            s.after(delay, Ev::Ready { comp, inst, gen });
            return;
        }
        pool.set_phase(inst, Phase::Ready, now);
        self.pool_capacity_changed(c, now);
        loop {
            let Comp::Pool { pool, .. } = &mut self.comps[c] else {
                return;
            };
            let Some((v, i)) = pool.next_waiting(now) else {
                break;
            };
            let st = &mut self.stats[c];
            st.queue.add(now, -1.0);
            st.busy.set(now, pool.busy() as f64);
            self.start_service(s, v, i);
        }
    }

    fn on_arrival(&mut self, s: &mut Scheduler<Ev>, src: u16) {
        let now = s.now();
        if self.requests.len() >= self.cfg.max_in_flight {
            self.runaway = Some(Runaway {
                at_s: to_secs(now),
                in_flight: self.requests.len(),
                limit: self.cfg.max_in_flight,
            });
            s.stop();
            return;
        }
        let (source, first_class) = &mut self.sources[src as usize];
        let c = source.next_class();
        let key = source.next_key(c);
        let (prompt, output) = source.next_tokens(c);
        if let Some(t) = source.next_arrival(now) {
            s.at(t, Ev::Arrival(src));
        }
        let class = *first_class + c as u16;
        let to = self.classes[class as usize].entry;
        let counted = now >= self.cfg.warmup;
        self.counted_arrived += counted as u64;
        self.classes[class as usize].arrived += counted as u64;
        let req = self.requests.insert(Request {
            arrival: now,
            key,
            class,
            counted,
            job_of: NO_QUEUE,
            started: false,
            prompt,
            output,
        });
        self.sys.arrivals += 1;
        self.sys.in_system.add(now, 1.0);
        self.enter(s, to, req, NIL);
    }

    /// A request reaches component `comp`, called by visit `parent`.
    fn enter(&mut self, s: &mut Scheduler<Ev>, comp: u16, req: u32, parent: u32) {
        let now = s.now();
        let v = self.visits.insert(Visit {
            req,
            parent,
            comp,
            step: 0,
            inst: 0,
            enter: now,
        });
        let slot = self.cache_slot(comp, parent);
        let st = &mut self.stats[comp as usize];
        st.arrivals += 1;
        st.in_system.add(now, 1.0);
        match &mut self.comps[comp as usize] {
            Comp::Pool {
                pool,
                engine: Some(_),
                ..
            } => match pool.route(self.requests[req].key, now) {
                Some(inst) => self.serve(s, comp, v, inst),
                None => {
                    st.rejections += 1;
                    st.in_system.add(now, -1.0);
                    self.visits.remove(v);
                    self.answer(s, parent, req, Outcome::Rejected);
                }
            },
            Comp::Pool { pool, .. } => match pool.admit(v, self.requests[req].key, now) {
                Admission::Start(inst) => {
                    st.busy.set(now, pool.busy() as f64);
                    self.start_service(s, v, inst)
                }
                Admission::Queued => st.queue.add(now, 1.0),
                Admission::Rejected => {
                    st.rejections += 1;
                    st.in_system.add(now, -1.0);
                    self.visits.remove(v);
                    self.answer(s, parent, req, Outcome::Rejected);
                }
            },
            Comp::Cache {
                stores,
                gens,
                spec,
                hit,
                rng,
                ..
            } => {
                let (index, gen) = slot;
                let k = index as usize;
                if k >= stores.len() {
                    for i in stores.len()..=k {
                        stores.push(spec.build(i as u32, now));
                        gens.push(gen);
                    }
                } else if gens.get(k).is_some_and(|&g| g != gen) {
                    // A new instance in a reused slot starts cold.
                    stores[k] = spec.build(index, now);
                    gens[k] = gen;
                }
                let r = self.requests[req];
                let write = self.classes[r.class as usize].op == Op::Write;
                let step = if write {
                    stores[k].invalidate(r.key);
                    st.writes += 1;
                    WRITE
                } else if stores[k].lookup(r.key, now) {
                    st.hits += 1;
                    LOOKUP_HIT
                } else {
                    st.misses += 1;
                    LOOKUP_MISS
                };
                self.visits[v].step = step;
                self.visits[v].inst = index;
                s.after(hit.sample(rng), Ev::Looked(v));
            }
            Comp::Database {
                primary,
                replicas,
                next,
                read_your_writes,
                current_at,
                ..
            } => {
                let r = self.requests[req];
                let write = self.classes[r.class as usize].op == Op::Write;
                self.visits[v].step = write as u16;
                let target = if write || replicas.is_empty() {
                    *primary
                } else {
                    let behind = current_at.get(&r.key).is_some_and(|&t| t > now);
                    if behind && *read_your_writes {
                        st.primary_reads += 1;
                        *primary
                    } else {
                        st.stale_reads += behind as u64;
                        *next = (*next + 1) % replicas.len();
                        replicas[*next]
                    }
                };
                self.enter(s, target, req, v);
            }
            Comp::Shards {
                router,
                targets,
                scatter,
                rng,
            } => {
                let r = self.requests[req];
                if scatter[r.class as usize] {
                    // Fork to every shard; the visit counts the answers.
                    let n = targets.len();
                    self.visits[v].step = n as u16;
                    self.visits[v].inst = 0;
                    for k in 0..n {
                        let Comp::Shards { targets, .. } = &self.comps[comp as usize] else {
                            unreachable!()
                        };
                        let t = targets[k];
                        self.enter(s, t, req, v);
                    }
                } else {
                    let t = targets[router.shard(r.key, rng) as usize];
                    self.visits[v].step = 1;
                    self.visits[v].inst = 0;
                    self.enter(s, t, req, v);
                }
            }
            Comp::Queue {
                workers,
                capacity,
                ack,
                rng,
                depth,
            } => {
                if capacity.is_some_and(|c| *depth >= c) {
                    st.rejections += 1;
                    st.in_system.add(now, -1.0);
                    self.visits.remove(v);
                    self.answer(s, parent, req, Outcome::Rejected);
                    return;
                }
                *depth += 1;
                st.queue.add(now, 1.0);
                let workers = *workers;
                let delay = ack.as_ref().map(|a| a.sample(rng));
                let r = self.requests[req];
                let job = self.requests.insert(Request {
                    arrival: now,
                    job_of: comp,
                    started: false,
                    ..r
                });
                match delay {
                    Some(d) => s.after(d, Ev::Acked(v)),
                    None => self.leave(s, v, Outcome::Ok),
                }
                self.enter(s, workers, job, NIL);
            }
        }
    }

    /// For a per-instance cache: the calling instance and its generation
    /// (which store serves the visit); (0, 0) for everything else.
    #[inline]
    fn cache_slot(&self, comp: u16, parent: u32) -> (u32, u32) {
        if !matches!(
            self.comps[comp as usize],
            Comp::Cache {
                per_instance: true,
                ..
            }
        ) || parent == NIL
        {
            return (0, 0);
        }
        let caller = self.visits[parent];
        match &self.comps[caller.comp as usize] {
            Comp::Pool { pool, .. } => (
                caller.inst,
                pool.instances()[caller.inst as usize].generation(),
            ),
            _ => (0, 0),
        }
    }

    /// Visit `v` has taken a pool slot: count its wait, draw its service.
    fn start_service(&mut self, s: &mut Scheduler<Ev>, v: u32, inst: u32) {
        let now = s.now();
        self.visits[v].inst = inst;
        let visit = self.visits[v];
        if visit.parent == NIL {
            self.job_started(visit.req, now);
        }
        let st = &mut self.stats[visit.comp as usize];
        let wait = to_secs(now - visit.enter);
        st.window_wait.add(wait);
        if visit.enter >= self.cfg.warmup {
            st.wait.add(wait);
        }
        let Comp::Pool { pool, .. } = &mut self.comps[visit.comp as usize] else {
            unreachable!("start_service on a pool visit only")
        };
        s.after(pool.service_time(), Ev::Served(v));
    }

    /// Pool visit `v` makes its next downstream call, or ends.
    fn next_call(&mut self, s: &mut Scheduler<Ev>, v: u32) {
        let visit = self.visits[v];
        let Comp::Pool { calls, conns, .. } = &mut self.comps[visit.comp as usize] else {
            unreachable!("next_call on a pool visit only")
        };
        let k = visit.step as usize;
        match calls.get(k) {
            Some(&next) => {
                self.visits[v].step += 1;
                if let Some(cp) = conns[k].as_mut() {
                    let i = cp.slot(visit.inst);
                    if cp.in_use[i] >= cp.limit {
                        // Every connection of this instance is busy: wait.
                        cp.waiting[i].push_back((v, s.now()));
                        return;
                    }
                    cp.in_use[i] += 1;
                    if s.now() >= self.cfg.warmup {
                        self.stats[visit.comp as usize].conn_wait.add(0.0);
                    }
                }
                self.enter(s, next, visit.req, v);
            }
            None => self.leave(s, v, Outcome::Ok),
        }
    }

    /// Pool visit `v`'s call number `step - 1` has answered: give its
    /// connection (if limited) to the next visit of that instance waiting
    /// for one.
    fn release_connection(&mut self, s: &mut Scheduler<Ev>, v: u32) {
        let visit = self.visits[v];
        let Comp::Pool { calls, conns, .. } = &mut self.comps[visit.comp as usize] else {
            return;
        };
        let k = visit.step as usize - 1;
        let Some(cp) = conns[k].as_mut() else {
            return;
        };
        let i = cp.slot(visit.inst);
        match cp.waiting[i].pop_front() {
            Some((w, since)) => {
                let callee = calls[k];
                let wait = to_secs(s.now() - since);
                let req = self.visits[w].req;
                if s.now() >= self.cfg.warmup {
                    self.stats[visit.comp as usize].conn_wait.add(wait);
                }
                self.enter(s, callee, req, w);
            }
            None => cp.in_use[i] -= 1,
        }
    }

    /// Visit `v` ends: release what it holds, then answer its parent.
    fn leave(&mut self, s: &mut Scheduler<Ev>, v: u32, outcome: Outcome) {
        let now = s.now();
        let visit = self.visits[v];
        self.visits.remove(v);
        let st = &mut self.stats[visit.comp as usize];
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
        if let Comp::Pool { pool, engine, .. } = &mut self.comps[visit.comp as usize] {
            let r = pool.release(visit.inst, now);
            let serving = engine.is_some();
            if !serving {
                st.busy.set(now, pool.busy() as f64);
            }
            if r.gone {
                self.close_instance(visit.comp as usize, visit.inst, now);
                if serving {
                    self.pool_capacity_changed(visit.comp as usize, now);
                }
            }
            if let Some((next, inst)) = r.next {
                self.stats[visit.comp as usize].queue.add(now, -1.0);
                self.start_service(s, next, inst);
            }
        }
        self.answer(s, visit.parent, visit.req, outcome);
    }

    /// The answer of a visit reaches its parent visit (or ends the request).
    fn answer(&mut self, s: &mut Scheduler<Ev>, parent: u32, req: u32, outcome: Outcome) {
        if parent == NIL {
            self.finish(s.now(), req, outcome);
            return;
        }
        let comp = self.visits[parent].comp;
        match &mut self.comps[comp as usize] {
            Comp::Pool { .. } => {
                self.release_connection(s, parent);
                if outcome == Outcome::Ok {
                    self.next_call(s, parent);
                } else {
                    self.leave(s, parent, outcome);
                }
            }
            Comp::Cache {
                stores,
                coalesce,
                pending,
                ..
            } => {
                let visit = self.visits[parent];
                let key = self.requests[req].key;
                if visit.step == WRITE {
                    self.leave(s, parent, outcome);
                    return;
                }
                if outcome == Outcome::Ok {
                    stores[visit.inst as usize].fill(key, s.now());
                }
                let mut w = if *coalesce {
                    pending.remove(&(visit.inst, key)).unwrap_or(NIL)
                } else {
                    NIL
                };
                self.leave(s, parent, outcome);
                // Those that waited for this answer share it.
                while w != NIL {
                    let next = self.waiting[w as usize];
                    self.leave(s, w, outcome);
                    w = next;
                }
            }
            Comp::Database {
                lag,
                rng,
                current_at,
                ..
            } => {
                // A committed write reaches the replicas after the lag, in
                // commit order.
                if self.visits[parent].step == 1 && outcome == Outcome::Ok {
                    if let Some(l) = lag {
                        let at = s.now() + l.sample(rng);
                        let e = current_at.entry(self.requests[req].key).or_insert(0);
                        *e = (*e).max(at);
                    }
                }
                self.leave(s, parent, outcome);
            }
            Comp::Shards { .. } => {
                // One shard answered; the last one ends the visit, failed
                // if any shard failed.
                let p = &mut self.visits[parent];
                p.step -= 1;
                if outcome != Outcome::Ok {
                    p.inst = 1;
                }
                if p.step == 0 {
                    let o = if p.inst == 0 {
                        Outcome::Ok
                    } else {
                        Outcome::Rejected
                    };
                    self.leave(s, parent, o);
                }
            }
            Comp::Queue { .. } => unreachable!("a queue visit calls nothing: its job runs alone"),
        }
    }

    /// Visit `v` was routed to instance `inst` of serving component
    /// `comp`: its engine queues it (or refuses it), then runs if idle.
    fn serve(&mut self, s: &mut Scheduler<Ev>, comp: u16, v: u32, inst: u32) {
        let now = s.now();
        self.visits[v].inst = inst;
        let r = self.requests[self.visits[v].req];
        let Comp::Pool {
            engine: Some(e), ..
        } = &mut self.comps[comp as usize]
        else {
            unreachable!("serve on serving components only")
        };
        e.ensure(inst);
        let ok = match &mut e.servers {
            Servers::Llm { reps, .. } => reps[inst as usize].push(Job {
                visit: v,
                prompt: r.prompt,
                output: r.output,
                arrived: now,
            }),
            Servers::Batch { reps, .. } => reps[inst as usize].push(v, now),
        };
        if !ok {
            self.stats[comp as usize].rejections += 1;
            self.leave(s, v, Outcome::Rejected);
            return;
        }
        self.stats[comp as usize].queue.add(now, 1.0);
        self.kick(s, comp, inst);
    }

    /// Instance `inst` of serving component `comp` starts its next step,
    /// or sets a timer, unless a step is running.
    fn kick(&mut self, s: &mut Scheduler<Ev>, comp: u16, inst: u32) {
        let now = s.now();
        let Comp::Pool {
            pool,
            engine: Some(e),
            ..
        } = &mut self.comps[comp as usize]
        else {
            return;
        };
        if e.stepping_at(inst) {
            return;
        }
        let before = e.figures(inst);
        let plan = e.plan(inst, now);
        let after = e.figures(inst);
        let st = &mut self.stats[comp as usize];
        st.queue
            .add(now, after.waiting as f64 - before.waiting as f64);
        let v = st.serving.as_mut().expect("serving stats");
        v.kv_used
            .add(now, after.kv_used as f64 - before.kv_used as f64);
        v.preemptions += after.preemptions - before.preemptions;
        match plan {
            Plan::Step(dt) => {
                // Busy time and batch sizes count steps of ready instances
                // (the divisor and the sum of the mean batch agree).
                let ready = pool.instances()[inst as usize].phase == Phase::Ready;
                e.busy[inst as usize] = ready;
                if ready {
                    e.stepping += 1;
                    st.busy.set(now, e.stepping as f64);
                    v.batch.add(now, after.batch as f64);
                }
                s.after(dt, Ev::Step { comp, inst });
            }
            Plan::Wait(t) => {
                let g = &mut e.timers[inst as usize];
                *g = g.wrapping_add(1);
                s.at(
                    t.max(now),
                    Ev::Timer {
                        comp,
                        inst,
                        gen: *g,
                    },
                );
            }
            Plan::Idle => {}
        }
    }

    /// A step of instance `inst` of serving component `comp` ended: its
    /// finished requests leave, then the next step starts.
    fn on_step(&mut self, s: &mut Scheduler<Ev>, comp: u16, inst: u32) {
        let now = s.now();
        let warmup = self.cfg.warmup;
        let Comp::Pool {
            engine: Some(e), ..
        } = &mut self.comps[comp as usize]
        else {
            return;
        };
        let before = e.figures(inst);
        let mut done = std::mem::take(&mut e.done);
        let mut visits = std::mem::take(&mut e.done_visits);
        let st = &mut self.stats[comp as usize];
        let v = st.serving.as_mut().expect("serving stats");
        match &mut e.servers {
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
        let after = e.figures(inst);
        let counted = std::mem::take(&mut e.busy[inst as usize]);
        if counted {
            e.stepping -= 1;
            st.busy.set(now, e.stepping as f64);
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
                let class = self.requests[self.visits[f.job.visit].req].class;
                if let Some(t) = &mut self.classes[class as usize].tokens {
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
            self.leave(s, visit, Outcome::Ok);
        }
        visits.clear();
        if let Comp::Pool {
            engine: Some(e), ..
        } = &mut self.comps[comp as usize]
        {
            e.done = done;
            e.done_visits = visits;
        }
        self.kick(s, comp, inst);
    }

    /// A batch-formation timer ran out.
    fn on_timer(&mut self, s: &mut Scheduler<Ev>, comp: u16, inst: u32, gen: u32) {
        if let Comp::Pool {
            engine: Some(e), ..
        } = &self.comps[comp as usize]
        {
            if e.timers[inst as usize] == gen {
                self.kick(s, comp, inst);
            }
        }
    }

    /// A worker starts job `req` (if it is one): it leaves its queue.
    fn job_started(&mut self, req: u32, now: Time) {
        let r = &mut self.requests[req];
        if r.job_of == NO_QUEUE || r.started {
            return;
        }
        r.started = true;
        let (q, arrival) = (r.job_of as usize, r.arrival);
        if let Comp::Queue { depth, .. } = &mut self.comps[q] {
            *depth -= 1;
        }
        let st = &mut self.stats[q];
        st.queue.add(now, -1.0);
        let wait = to_secs(now - arrival);
        st.window_wait.add(wait);
        if arrival >= self.cfg.warmup {
            st.wait.add(wait);
        }
    }

    /// Job `req` of queue `q` is done (or was refused by its workers).
    fn finish_job(&mut self, now: Time, req: u32, outcome: Outcome) {
        let r = self.requests[req];
        self.requests.remove(req);
        if !r.started {
            // Refused before any worker took it: it leaves the queue.
            if let Comp::Queue { depth, .. } = &mut self.comps[r.job_of as usize] {
                *depth -= 1;
            }
            self.stats[r.job_of as usize].queue.add(now, -1.0);
        }
        let st = &mut self.stats[r.job_of as usize];
        match outcome {
            Outcome::Ok => {
                let lat = now - r.arrival;
                st.job_window.record(lat);
                if r.arrival >= self.cfg.warmup {
                    st.jobs_done += 1;
                    st.job_latency.record(lat);
                }
            }
            Outcome::Rejected => st.jobs_failed += (r.arrival >= self.cfg.warmup) as u64,
        }
    }

    fn finish(&mut self, now: Time, req: u32, outcome: Outcome) {
        let r = self.requests[req];
        if r.job_of != NO_QUEUE {
            self.finish_job(now, req, outcome);
            return;
        }
        self.requests.remove(req);
        self.sys.in_system.add(now, -1.0);
        match outcome {
            Outcome::Ok => {
                self.sys.completions += 1;
                let lat = now - r.arrival;
                self.sys.window.record(lat);
                if r.counted {
                    self.counted_completed += 1;
                    self.latency.record(lat);
                    let c = &mut self.classes[r.class as usize];
                    c.completed += 1;
                    c.latency.record(lat);
                }
            }
            Outcome::Rejected => {
                self.sys.rejections += 1;
                self.counted_rejected += r.counted as u64;
                self.classes[r.class as usize].rejected += r.counted as u64;
            }
        }
    }

    fn on_looked(&mut self, s: &mut Scheduler<Ev>, v: u32) {
        let visit = self.visits[v];
        let key = self.requests[visit.req].key;
        let Comp::Cache {
            stores,
            miss,
            coalesce,
            pending,
            ..
        } = &mut self.comps[visit.comp as usize]
        else {
            unreachable!("Looked is scheduled for cache visits only")
        };
        match (visit.step, *miss) {
            (LOOKUP_HIT, _) => self.leave(s, v, Outcome::Ok),
            // A write: on to the backend (no fill), or done.
            (_, Some(m)) if visit.step == WRITE => self.enter(s, m, visit.req, v),
            (WRITE, None) => self.leave(s, v, Outcome::Ok),
            (_, Some(m)) => {
                if *coalesce {
                    if let Some(last) = pending.get_mut(&(visit.inst, key)) {
                        // Another miss for this key is on its way: wait.
                        if self.waiting.len() <= v as usize {
                            self.waiting.resize(v as usize + 1, NIL);
                        }
                        self.waiting[v as usize] = *last;
                        *last = v;
                        self.visits[v].step = WAITING;
                        self.stats[visit.comp as usize].coalesced += 1;
                        return;
                    }
                    pending.insert((visit.inst, key), NIL);
                }
                self.enter(s, m, visit.req, v);
            }
            (_, None) => {
                stores[visit.inst as usize].fill(key, s.now());
                self.leave(s, v, Outcome::Ok);
            }
        }
    }

    /// Closes the sampling window ending at `now`: one row per component
    /// and one for the whole system.
    fn sample(&mut self, now: Time) {
        let dt = (now - self.last_sample).max(1) as f64;
        let t_s = to_secs(now);
        let mut rows = Vec::with_capacity(self.stats.len() + 1);
        let costs: Vec<Option<f64>> = (0..self.stats.len())
            .map(|i| self.accrued(i, now))
            .collect();
        let instances: Vec<u32> = (0..self.stats.len()).map(|i| self.instances(i)).collect();
        let all = self
            .stats
            .iter_mut()
            .zip(&self.comps)
            .zip(&self.cfg.components);
        for (i, ((st, comp), (name, _))) in all.enumerate() {
            let c = st.counters(now);
            let d = c.minus(&st.at_sample);
            let pool_figures = match comp {
                Comp::Pool { pool, .. } => Some(PoolWindow {
                    utilization: d.busy / (pool.slots() as f64 * dt),
                    queue_len: d.queue / dt,
                    wait_mean_s: st.window_wait.mean(),
                }),
                Comp::Queue { .. } => Some(PoolWindow {
                    utilization: f64::NAN,
                    queue_len: d.queue / dt,
                    wait_mean_s: st.window_wait.mean(),
                }),
                Comp::Cache { .. } | Comp::Shards { .. } | Comp::Database { .. } => None,
            };
            let lookups = d.hits + d.misses;
            let hit_ratio = match comp {
                Comp::Cache { .. } if lookups > 0 => Some(d.hits as f64 / lookups as f64),
                _ => None,
            };
            let is_queue = matches!(comp, Comp::Queue { .. });
            let mut row = window_row(t_s, name, &d, &st.window, pool_figures, dt, hit_ratio);
            if is_queue {
                row.utilization = None;
                let done = st.job_window.count() > 0;
                row.job_mean_s = done.then(|| st.job_window.mean_s());
                row.job_p99_s = done.then(|| st.job_window.quantile_s(0.99));
                st.job_window.clear();
            }
            row.instances = Some(instances[i]);
            if let Comp::Pool { pool, .. } = comp {
                row.instances_desired = Some(pool.desired());
                row.instances_pending = Some(pool.desired() - pool.ready());
                row.forecast_rps = st.forecast;
            }
            if let (
                Comp::Pool {
                    engine: Some(e), ..
                },
                Some(v),
            ) = (comp, &mut st.serving)
            {
                let q = |h: &LatencyHist| (h.count() > 0).then(|| h.quantile_s(0.99));
                // Engines queue requests themselves: no slot wait to report.
                row.wait_mean_s = None;
                row.batch_mean = Some(if d.busy > 0.0 { d.batch / d.busy } else { 0.0 });
                if e.blocks_per_instance() > 0 {
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
            row.cost_usd = costs[i];
            rows.push(row);
            st.at_sample = c;
            st.window.clear();
            st.window_wait = Tally::default();
        }
        let c = self.sys.counters(now);
        let d = c.minus(&self.sys.at_sample);
        let mut row = window_row(t_s, "_system", &d, &self.sys.window, None, dt, None);
        row.cost_usd = costs.iter().flatten().copied().reduce(|a, b| a + b);
        rows.push(row);
        self.sys.at_sample = c;
        self.sys.window.clear();
        self.rows.extend(rows);
        self.last_sample = now;
    }
}

/// Window figures that only pools have.
struct PoolWindow {
    utilization: f64,
    queue_len: f64,
    wait_mean_s: f64,
}

fn window_row(
    t_s: f64,
    name: &str,
    d: &Counters,
    h: &LatencyHist,
    pool: Option<PoolWindow>,
    dt: f64,
    hit_ratio: Option<f64>,
) -> TsRow {
    TsRow {
        t_s,
        component: name.to_string(),
        arrivals: d.arrivals,
        completions: d.completions,
        rejections: d.rejections,
        mean_s: h.mean_s(),
        p50_s: h.quantile_s(0.5),
        p95_s: h.quantile_s(0.95),
        p99_s: h.quantile_s(0.99),
        wait_mean_s: pool.as_ref().map(|p| p.wait_mean_s),
        utilization: pool.as_ref().map(|p| p.utilization),
        queue_len: pool.as_ref().map(|p| p.queue_len),
        in_flight: d.in_system / dt,
        hit_ratio,
        instances: None,
        instances_desired: None,
        instances_pending: None,
        forecast_rps: None,
        cost_usd: None,
        job_mean_s: None,
        job_p99_s: None,
        ttft_p99_s: None,
        tpot_p99_s: None,
        itl_p99_s: None,
        tokens_per_s: None,
        kv_use: None,
        batch_mean: None,
        preemptions: None,
    }
}

impl Model for System {
    type Event = Ev;

    fn handle(&mut self, ev: Ev, s: &mut Scheduler<Ev>) {
        match ev {
            Ev::Arrival(src) => self.on_arrival(s, src),
            Ev::Served(v) => self.next_call(s, v),
            Ev::Looked(v) => self.on_looked(s, v),
            Ev::Acked(v) => self.leave(s, v, Outcome::Ok),
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
            Ev::Step { comp, inst } => self.on_step(s, comp, inst),
            Ev::Timer { comp, inst, gen } => self.on_timer(s, comp, inst, gen),
            Ev::Boot { comp, inst, gen } => self.lifecycle(s, comp, inst, gen, false),
            Ev::Ready { comp, inst, gen } => self.lifecycle(s, comp, inst, gen, true),
            Ev::Warmup => {
                let now = s.now();
                self.cost_at_warmup = (0..self.comps.len())
                    .map(|i| self.accrued(i, now))
                    .collect();
                self.load_at_warmup = self.comps.iter().map(|c| c.load_integrals(now)).collect();
                for st in &mut self.stats {
                    st.at_warmup = st.counters(now);
                }
                self.sys.at_warmup = self.sys.counters(now);
            }
        }
    }
}
