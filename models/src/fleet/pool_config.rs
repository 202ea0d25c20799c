//! The configuration of a pool as written (`[components.<name>]` with
//! `kind = "pool"`), its checks, and the pool behind kinds whose instances
//! run their own engine. The running pool is [`crate::fleet::pool`].

use crate::dist::DistConfig;
use crate::fleet::balance::Policy;
use crate::fleet::config::fleet_config;
use crate::fleet::cost::Pricing;
use crate::units::Duration;
use serde::Deserialize;

/// Most instances one pool may have (each instance is simulated).
pub const MAX_INSTANCES: u32 = 100_000;
/// Most slots (instances x concurrency) one pool may have.
pub const MAX_SLOTS: u64 = 10_000_000;
/// Most availability zones a fleet may spread over.
pub const MAX_ZONES: usize = 16;

fleet_config! {
    /// `[components.<name>]` with `kind = "pool"`.
    #[derive(Clone, Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    pub struct PoolConfig {
        /// Always "pool" (read by the scenario loader to pick this type).
        #[serde(default)]
        pub kind: Option<String>,
        /// Number of instances (servers).
        pub instances: u32,
        /// Requests one instance serves at once: threads (`io =
        /// "blocking"`, default 1) or cores (`io = "async"`, default the
        /// instance type's vCPUs): see [`PoolConfig::concurrency`].
        #[serde(default)]
        pub concurrency: Option<u32>,
        /// How an instance runs a request (see [`Io`]).
        #[serde(default)]
        pub io: Io,
        /// With `io = "async"`: the most requests one instance holds at
        /// once, computing or awaiting a call (a server's connection
        /// limit); one more waits in the queue. Absent: no limit.
        #[serde(default)]
        pub max_in_flight: Option<u32>,
        /// Service-time law of the local work (its CPU): the short form of
        /// `steps`, with `calls`.
        #[serde(default)]
        pub service: Option<DistConfig>,
        /// What a request does, step by step (see
        /// [`crate::kinds::pool::steps`]); instead of `service` + `calls`.
        #[serde(default)]
        pub steps: Vec<crate::kinds::pool::steps::StepConfig>,
        /// Waiting room; absent = unbounded, 0 = none.
        #[serde(default)]
        pub queue_capacity: Option<u64>,
        /// How long a request waits for a slot before it gives up and
        /// leaves unserved (load shedding), a law or a duration: `"2s"`,
        /// `{ dist = "exp", mean = "2s" }` (see [`crate::fleet::patience`]).
        /// Counted in `requests.timed_out`.
        #[serde(default)]
        pub queue_timeout: Option<DistConfig>,
        /// Share of visits answered with an error (an HTTP 500 from the
        /// application: a bad deploy, a flaky dependency) once their local
        /// service is done, drawn independently per visit; they make no
        /// calls. Counted in `failed` here.
        #[serde(default)]
        pub error_rate: Option<f64>,
        /// Downstream components called in order after the local service,
        /// while holding the slot.
        #[serde(default)]
        pub calls: Vec<String>,
        /// Catalog instance type: its price (see [`crate::fleet::cost`]),
        /// its vCPUs (an async pool's default cores) and its CPU speed (see
        /// [`crate::fleet::cpu`]).
        #[serde(default)]
        pub instance_type: Option<String>,
        /// The instance type (or family) the CPU times were measured on;
        /// on `instance_type` they scale by the two speed factors' ratio.
        /// Default: `instance_type` itself (the times are what they say).
        #[serde(default)]
        pub measured_on: Option<String>,
        /// Burstable types (t3, t3a, t4g): `{ mode = "standard" |
        /// "unlimited", initial = credits }` (see [`crate::fleet::credits`]).
        #[serde(default)]
        pub credits: Option<crate::fleet::cpu::CreditsConfig>,
        /// What an instance holds in memory, its request and limit (see
        /// [`crate::fleet::memory`]).
        #[serde(default)]
        pub memory: Option<crate::fleet::memory::MemoryConfig>,
        @provision,
        @monitor,
        /// How arrivals are spread over instances (default `fifo`: one shared
        /// queue; any other policy gives each instance its own queue).
        #[serde(default)]
        pub balance: Policy,
        /// Per-instance weights for `balance = "weighted"` or `"least_conn"`
        /// (nginx `weight=`): instance i weighs `weights[i % len]`.
        #[serde(default)]
        pub weights: Vec<u32>,
        /// Ring points per instance for `balance = "hash"` (default 100).
        #[serde(default)]
        pub virtual_nodes: Option<u32>,
        /// Connection pools: the most calls one instance has open at once to
        /// a called component, e.g. `{ db = 10 }`; a call beyond it waits for
        /// a connection (a FIFO per instance), measured as the pool's
        /// connection wait.
        #[serde(default)]
        pub connections: std::collections::BTreeMap<String, u32>,
        /// What this pool does when a callee is slow or fails, per callee:
        /// `[components.api.call.db]` with `timeout`, `on_timeout`,
        /// `retries`, `hedge` (see [`crate::flow::resilience`]).
        #[serde(default)]
        pub call: std::collections::BTreeMap<String, crate::flow::resilience::CallPolicyConfig>,
        /// nginx's passive health checks at the balancer in front:
        /// `{ max_fails = 3, fail_timeout = "30s" }` (see
        /// [`crate::fleet::passive`]).
        #[serde(default)]
        pub passive_check: Option<crate::fleet::passive::PassiveCheckConfig>,
        /// Envoy's outlier detection at the balancer in front:
        /// `{ consecutive_5xx = 5, base_ejection_time = "30s", ... }` (see
        /// [`crate::fleet::passive`]).
        #[serde(default)]
        pub outlier_detection: Option<crate::fleet::passive::OutlierConfig>,
    }
}

/// How an instance runs a request.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Io {
    /// A thread per request (Tomcat, Rails/Puma, PHP-FPM): the request
    /// holds one of `concurrency` threads from its start to its answer,
    /// through every call it makes.
    #[default]
    Blocking,
    /// An event loop (Node.js, asyncio, Netty, Go): `concurrency` cores; a
    /// request holds a core only while computing and awaits its calls
    /// without one.
    Async,
}

/// A metric defined as the ratio of two published metrics.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CustomMetric {
    /// Its name, as policies refer to it.
    pub name: String,
    /// [numerator, denominator] metric names.
    pub ratio: [String; 2],
}

impl PoolConfig {
    /// Requests one instance serves at once: `concurrency` as written;
    /// without it, an async pool's cores are its instance type's vCPUs
    /// (1 without a known type) and a blocking pool has 1 thread.
    pub fn concurrency(&self) -> u32 {
        self.concurrency.unwrap_or_else(|| match self.io {
            Io::Async => self
                .instance_type
                .as_deref()
                .and_then(crate::fleet::cpu::vcpus)
                .unwrap_or(1),
            Io::Blocking => 1,
        })
    }

    /// Its memory figures, resolved against its instance type's memory.
    pub fn memory_figures(&self) -> Option<Result<crate::fleet::memory::Memory, (String, String)>> {
        let gib = self
            .instance_type
            .as_deref()
            .and_then(crate::fleet::cost::lookup)
            .map(|t| t.memory_gib);
        self.memory.as_ref().map(|m| m.resolve(gib))
    }

    /// Total service slots (instances x concurrency).
    pub fn slots(&self) -> u64 {
        self.instances as u64 * self.concurrency() as u64
    }

    /// What CPU times are multiplied by on this pool's instances: the
    /// speed of the type they were measured on over its own (1 when either
    /// is unknown or they are the same family).
    pub fn pace(&self, cost: &crate::fleet::cost::CostConfig) -> f64 {
        use crate::fleet::cpu::speed;
        let (Some(on), Some(t)) = (self.measured_on.as_deref(), self.instance_type.as_deref())
        else {
            return 1.0;
        };
        match (speed(on, cost), speed(t, cost)) {
            (Some(a), Some(b)) => a / b,
            _ => 1.0,
        }
    }

    /// What an instance costs.
    pub fn pricing(&self) -> Pricing {
        Pricing {
            instance_type: self.instance_type.clone(),
            price_per_hour: self.price_per_hour,
            spot: self.spot,
        }
    }

    /// Checks the numbers; `Err((field, message))`.
    pub fn check(&self) -> Result<(), (String, String)> {
        if let Some(lb) = &self.load_balancer {
            lb.check()?;
        }
        if self.instances == 0 {
            return Err(("instances".into(), "expected at least 1 instance".into()));
        }
        if self.instances > MAX_INSTANCES {
            return Err((
                "instances".into(),
                format!("at most {MAX_INSTANCES} instances per pool (each is simulated)"),
            ));
        }
        if self.slots() > MAX_SLOTS {
            return Err((
                "concurrency".into(),
                format!(
                    "instances x concurrency is {}; at most {MAX_SLOTS} slots per pool",
                    self.slots()
                ),
            ));
        }
        if self.concurrency == Some(0) {
            return Err((
                "concurrency".into(),
                "expected at least 1 request per instance".into(),
            ));
        }
        match (self.io, self.max_in_flight) {
            (Io::Blocking, Some(_)) => {
                return Err((
                    "max_in_flight".into(),
                    "a blocking pool holds one request per thread: its in-flight limit is concurrency; max_in_flight applies with io = \"async\"".into(),
                ))
            }
            (Io::Async, Some(0)) => {
                return Err((
                    "max_in_flight".into(),
                    "expected at least 1 request in flight per instance (leave it out for no limit)".into(),
                ))
            }
            _ => {}
        }
        if let Some(c) = &self.credits {
            c.check(self.instance_type.as_deref()).map_err(|(f, m)| {
                (
                    if f.is_empty() {
                        "credits".into()
                    } else {
                        format!("credits.{f}")
                    },
                    m,
                )
            })?;
        }
        if let Some(m) = self.memory_figures() {
            m.map_err(|(f, msg)| (format!("memory.{f}"), msg))?;
        }
        let mut known = crate::policy::metric::POOL.to_vec();
        if self.memory.is_some() {
            known.push(crate::policy::metric::MEMORY);
        }
        known.push("ready");
        for (i, c) in self.custom_metrics.iter().enumerate() {
            if known.contains(&c.name.as_str()) {
                return Err((
                    format!("custom_metrics.{i}"),
                    format!("{:?} is a built-in metric", c.name),
                ));
            }
            if let Some(bad) = c.ratio.iter().find(|r| !known.contains(&r.as_str())) {
                return Err((
                    format!("custom_metrics.{i}"),
                    format!(
                        "unknown metric {bad:?}; ratios combine {}",
                        known.join(", ")
                    ),
                ));
            }
        }
        if let Some(p) = &self.provision_time {
            p.check()
                .map_err(|(f, m)| (format!("provision_time.{f}"), m))?;
        }
        if let Some(f) = &self.failures {
            f.check().map_err(|(k, m)| (format!("failures.{k}"), m))?;
        }
        if let Some(h) = &self.health_check {
            h.check()
                .map_err(|(k, m)| (format!("health_check.{k}"), m))?;
            if !self.balance.per_instance() {
                return Err((
                    "health_check".into(),
                    "health checks are a load balancer's: give the pool a balance (\"round_robin\", \"least_conn\", ...); with the default \"fifo\" its instances pull from one queue, so a failed one takes no work".into(),
                ));
            }
        }
        if let Some(o) = &self.outlier_detection {
            o.check()
                .map_err(|(k, m)| (format!("outlier_detection.{k}"), m))?;
        }
        if let Some(p) = &self.passive_check {
            p.check()
                .map_err(|(k, m)| (format!("passive_check.{k}"), m))?;
        }
        let checks = [
            ("health_check", self.health_check.is_some()),
            ("passive_check", self.passive_check.is_some()),
            ("outlier_detection", self.outlier_detection.is_some()),
        ];
        let given: Vec<&str> = checks.iter().filter(|c| c.1).map(|c| c.0).collect();
        if given.len() > 1 {
            return Err((
                given[1].into(),
                format!(
                    "give one of health_check (active), passive_check (nginx) and outlier_detection (Envoy), not both {} and {} (the nginx check module advises against fail_timeout with active checks)",
                    given[0], given[1]
                ),
            ));
        }
        if let Some(&field) = given.iter().find(|f| **f != "health_check") {
            if !self.balance.per_instance() {
                return Err((
                    field.into(),
                    "passive checks are a load balancer's: give the pool a balance (\"round_robin\", \"least_conn\", ...)".into(),
                ));
            }
        }
        if self.zones.len() > MAX_ZONES {
            return Err((
                "zones".into(),
                format!("at most {MAX_ZONES} zones (a region has 3 to 6)"),
            ));
        }
        for (i, z) in self.zones.iter().enumerate() {
            if z.is_empty() || self.zones[..i].contains(z) {
                return Err((
                    format!("zones.{i}"),
                    format!("zone names must be distinct and not empty (got {z:?})"),
                ));
            }
        }
        if let Some(e) = self.error_rate {
            if !(0.0..1.0).contains(&e) {
                return Err((
                    "error_rate".into(),
                    format!("expected a share of visits from 0 up to (not including) 1, such as 0.05; got {e}"),
                ));
            }
        }
        if let Some(t) = &self.queue_timeout {
            t.check()
                .map_err(|(f, m)| (format!("queue_timeout.{f}"), m))?;
            if t.mean() <= 0.0 {
                return Err((
                    "queue_timeout".into(),
                    "a queue timeout of 0 drops every request that would wait: write queue_capacity = 0 for a pool without a waiting room".into(),
                ));
            }
        }
        for (callee, &limit) in &self.connections {
            if !self.callees().contains(&callee.as_str()) {
                return Err((
                    format!("connections.{callee}"),
                    format!(
                        "{callee:?} is not called (in calls or a step); connection limits apply to called components"
                    ),
                ));
            }
            if limit == 0 {
                return Err((
                    format!("connections.{callee}"),
                    "expected at least 1 connection".into(),
                ));
            }
        }
        match self.balance {
            Policy::Weighted if self.weights.is_empty() => {
                return Err((
                    "weights".into(),
                    "balance = \"weighted\" needs weights, e.g. weights = [3, 3, 2]".into(),
                ))
            }
            Policy::Weighted | Policy::LeastConn => {}
            _ if !self.weights.is_empty() => {
                return Err((
                    "weights".into(),
                    "weights apply to balance = \"weighted\" and \"least_conn\" only".into(),
                ))
            }
            _ => {}
        }
        if self.weights.contains(&0) {
            return Err((
                "weights".into(),
                "expected weights of at least 1 (a server with weight 0 would get nothing: leave it out of the pool)".into(),
            ));
        }
        if self.virtual_nodes == Some(0) || self.virtual_nodes.is_some_and(|v| v > 10_000) {
            return Err((
                "virtual_nodes".into(),
                "expected 1 to 10000 ring points per instance".into(),
            ));
        }
        for (i, s) in self.steps.iter().enumerate() {
            s.check().map_err(|(f, m)| {
                let at = format!("steps.{i}");
                (
                    if f.is_empty() {
                        at
                    } else {
                        format!("{at}.{f}")
                    },
                    m,
                )
            })?;
        }
        if let (Io::Async, Some(first)) = (self.io, self.steps.first()) {
            if first.cpu.is_none() || first.share.is_some() || !first.classes.is_empty() {
                return Err((
                    "steps.0".into(),
                    "an event loop accepts a request on a core: with io = \"async\" the steps begin with a { cpu = ... } step that every request takes (reading and parsing it)".into(),
                ));
            }
        }
        match (&self.service, self.steps.is_empty()) {
            (Some(s), true) => s.check().map_err(|(f, m)| (format!("service.{f}"), m)),
            (None, true) => Err((
                "service".into(),
                "missing: give the CPU time of a request, e.g. service = { dist = \"exp\", mean = \"20ms\" }, or its steps".into(),
            )),
            (Some(_), false) => Err((
                "service".into(),
                "steps replace service and calls: write the service as a step, steps = [{ cpu = ... }, { call = ... }]".into(),
            )),
            (None, false) if !self.calls.is_empty() => Err((
                "calls".into(),
                "steps replace service and calls: write each call as a step, { call = \"db\" }".into(),
            )),
            (None, false) => Ok(()),
        }
    }

    /// Renames the components it calls (see [`crate::kinds::KindConfig::retarget`]).
    pub fn retarget(&mut self, to: &mut dyn FnMut(&str) -> String) {
        for c in &mut self.calls {
            *c = to(c);
        }
        for s in &mut self.steps {
            for c in [&mut s.call, &mut s.enqueue].into_iter().flatten() {
                *c = to(c);
            }
        }
        let policies = std::mem::take(&mut self.call);
        self.call = policies.into_iter().map(|(c, p)| (to(&c), p)).collect();
    }

    /// Every component a request of this pool may call, in order (`calls`,
    /// or the call and enqueue steps), once each.
    pub fn callees(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let all = self
            .calls
            .iter()
            .map(String::as_str)
            .chain(self.steps.iter().filter_map(|s| s.callee()));
        for c in all {
            if !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }

    /// The shortest local work of a request, seconds (its first CPU step).
    pub fn least_service_s(&self) -> f64 {
        match &self.service {
            Some(s) => s.least(),
            None => self
                .steps
                .iter()
                .filter_map(|s| {
                    s.cpu
                        .as_ref()
                        .filter(|_| s.share.is_none() && s.classes.is_empty())
                })
                .map(DistConfig::least)
                .sum(),
        }
    }
}

impl PoolConfig {
    /// The pool behind a component whose instances run their own engine
    /// (LLM replicas, dynamic batchers): `instances` of one slot each, busy
    /// while the engine steps, with no service or calls of its own; the
    /// caller adds cost and lifecycle fields.
    pub fn engine_slots(instances: u32, balance: Policy) -> PoolConfig {
        PoolConfig {
            kind: None,
            instances,
            concurrency: Some(1),
            io: Io::Blocking,
            max_in_flight: None,
            service: Some(DistConfig::Const {
                value: Duration(0.0),
            }),
            steps: Vec::new(),
            queue_capacity: None,
            queue_timeout: None,
            error_rate: None,
            calls: Vec::new(),
            instance_type: None,
            measured_on: None,
            credits: None,
            memory: None,
            price_per_hour: None,
            spot: None,
            provision_time: None,
            load_balancer: None,
            failures: None,
            health_check: None,
            zones: Vec::new(),
            ready_delay: Duration(0.0),
            metric_period: None,
            metric_delay: Duration(0.0),
            custom_metrics: Vec::new(),
            balance,
            weights: Vec::new(),
            virtual_nodes: None,
            connections: Default::default(),
            call: Default::default(),
            passive_check: None,
            outlier_detection: None,
        }
    }
}

/// Checks the `balance` of a component whose instances run their own
/// engine: each instance keeps its own queue, and there are no weights.
pub fn check_engine_balance(balance: Policy) -> Result<(), (String, String)> {
    if !balance.per_instance() || balance == Policy::Weighted {
        return Err((
            "balance".into(),
            "instances (replicas) each keep their own queue; use least_conn, round_robin, random, power_of_two or hash".into(),
        ));
    }
    Ok(())
}
