//! A system as configured: its sources, components, autoscalers, costs and
//! calendar, the checks that can be made before running, and the expansion
//! of components that run on hidden ones (shards, database pools). The
//! running system is [`crate::flow::System`]; its measurements are in
//! [`crate::measure`].

use crate::fleet::bill::Purchases;
use crate::fleet::cost::CostConfig;
use crate::kinds::CheckCx;
use crate::limits;
use crate::policy::PolicyConfig;
use crate::traffic::calendar::Calendar;
use crate::traffic::SourceConfig;
use scalesim_sim::{to_secs, Time};
use std::collections::BTreeMap;

pub use crate::flow::{Ev, System};
pub use crate::kinds::{published_metrics, ComponentConfig, KINDS};
pub use crate::measure::{
    ClassReport, ComponentReport, Incident, JobReport, RunReport, Runaway, ScalingEvent,
    ServingReport, TsRow,
};

/// At most this many time-series windows per run.
pub const MAX_WINDOWS: u64 = 1_000_000;

/// The most requests in flight a run may allow (`max_in_flight`): far
/// below the 2^32 slots visits and requests are numbered with.
pub const MAX_IN_FLIGHT: usize = 100_000_000;

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
    /// Scheduled outages and slowdowns (`[[outages]]`).
    pub outages: Vec<crate::fleet::outage::OutageConfig>,
    /// Where the components run (empty: no regions).
    pub regions: crate::regions::Regions,
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
            for (n, sub) in c.config().expand(name) {
                push(out, &n, &sub);
            }
        }
        let mut cfg = self.clone();
        cfg.components = Vec::with_capacity(self.components.len());
        for (name, c) in &self.components {
            push(&mut cfg.components, name, c);
        }
        cfg
    }

    /// What each component buys besides instance-hours (and what of it
    /// is not priced), then the account's own lines under `""`.
    pub fn purchases(&self) -> Vec<(String, Purchases)> {
        let mut out: Vec<(String, Purchases)> = self
            .components
            .iter()
            .map(|(name, c)| {
                let mut p = c.usage(&self.cost);
                // Users reach a fleet's instances through a load balancer.
                let entry = self
                    .sources
                    .iter()
                    .any(|(_, s)| s.classes().iter().any(|k| k.to.as_deref() == Some(name)));
                if entry && c.lifecycle().is_some_and(|l| l.load_balancer.is_none()) {
                    p.unpriced.push(
                        "the load balancer users reach it through (load_balancer = \"alb\")".into(),
                    );
                }
                (name.clone(), p)
            })
            .collect();
        out.push((String::new(), self.cost.purchases()));
        out
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
        } else if self.max_in_flight > MAX_IN_FLIGHT {
            // Each request in flight holds its own and its visits' state
            // (about 100 bytes): 10^8 of them is already ~10 GB.
            issue(
                "max_in_flight".into(),
                format!(
                    "{} is too many (at most {MAX_IN_FLIGHT}: each request in flight takes memory)",
                    self.max_in_flight
                ),
            );
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
            let cx = CheckCx {
                system: self,
                names: &names,
            };
            for (f, m) in c.config().check(&cx) {
                issue(format!("{base}.{f}"), m);
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
        let mut drawn = 0.0;
        for (name, s) in &self.sources {
            let least = s
                .classes()
                .iter()
                .map(|c| {
                    CheckCx {
                        system: self,
                        names: &names,
                    }
                    .least_answer_s(c.to.as_deref().unwrap_or(""))
                })
                .fold(f64::INFINITY, f64::min);
            if let Err((f, m)) = s.client_policy().check(least.min(1e300)) {
                issue(format!("traffic.{name}.{f}"), m);
            }
            for (i, _) in s.mix.iter().enumerate().filter(|(_, c)| c.has_policy()) {
                if let Err((f, m)) = s.class_policy(i).check(least.min(1e300)) {
                    issue(format!("traffic.{name}.mix.{i}.{f}"), m);
                }
            }
            if let Err((f, m)) = s.check_classes() {
                issue(format!("traffic.{name}.{f}"), m);
                continue;
            }
            match s.profile(&self.calendar, horizon_s) {
                Err((f, m)) => issue(format!("traffic.{name}.{f}"), m),
                Ok(p) => {
                    drawn += p.candidates(horizon_s, 60.0);
                }
            }
            for (i, c) in s.classes().iter().enumerate() {
                let to = c.to.as_deref().unwrap_or("");
                if !names.contains_key(to) {
                    let m = s.mix_index(i);
                    let field = if s.mix.get(m).is_some_and(|c| c.to.is_some()) {
                        format!("mix.{m}.to")
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
        if drawn > limits::MAX_ARRIVALS {
            issue(
                "traffic".into(),
                format!(
                    "the sources together would draw about {drawn:.3e} arrivals, more than the {:e} one run may simulate (time: every arrival is simulated); lower the rates or shorten the duration",
                    limits::MAX_ARRIVALS
                ),
            );
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
            let comp = names.get(name.as_str()).map(|&i| &self.components[i]);
            if let (PolicyConfig::Vpa(_), Some((_, c))) = (a, comp) {
                let io_async = c
                    .lifecycle()
                    .is_some_and(|p| p.io == crate::fleet::pool_config::Io::Async);
                if c.kind() != "pool" || !io_async {
                    issue(
                        format!("{base}.policy"),
                        format!(
                            "a VPA sizes the CPU request of pods, which is the cores of an io = \"async\" pool; {name:?} is {}",
                            if c.kind() == "pool" { "a blocking pool (its threads are not CPU requests)".to_string() } else { format!("a {}", c.kind()) }
                        ),
                    );
                }
            }
            for (f, m) in self.check_autoscaler_bounds(name, a, comp.map(|c| &c.1)) {
                issue(format!("{base}.{f}"), m);
            }
            match a.build(&self.calendar) {
                Err((f, m)) => issue(format!("autoscaler.{name}.{f}"), m),
                Ok(Some(ctrl)) => {
                    for (path, m) in self.check_evaluations(name, a, &*ctrl, comp.map(|c| &c.1)) {
                        issue(path, m);
                    }
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
        // Only once every component checks out: a bad count (shards) must
        // not be expanded.
        if out.is_empty() && self.sample > 0 && self.duration / self.sample <= MAX_WINDOWS {
            // Rows are kept for every window and every component (shards
            // and database pools count) plus the `_system` row.
            let expanded = self.expanded();
            let comps = expanded.components.len() as u64 + 1;
            // Instances of every fleet, hidden ones (shards, database
            // pools) included, at the most their policy may set.
            let total: u64 = expanded
                .components
                .iter()
                .map(|(n, c)| {
                    let policy = self
                        .autoscalers
                        .iter()
                        .find(|(a, _)| a == n)
                        .map(|(_, p)| p.capacities().iter().map(|c| c.1).max().unwrap_or(0))
                        .unwrap_or(0);
                    c.instances().max(policy) as u64
                })
                .sum();
            if total > limits::MAX_TOTAL_INSTANCES {
                out.push(ConfigIssue {
                    path: "components".into(),
                    message: format!(
                        "the fleets may reach {total} instances together (shards and database pools counted), above the {} one system may have (memory: every instance is tracked)",
                        limits::MAX_TOTAL_INSTANCES
                    ),
                });
            }
            let rows = (self.duration / self.sample).saturating_add(1) * comps;
            if rows > limits::MAX_SERIES_ROWS {
                out.push(ConfigIssue {
                    path: "sample".into(),
                    message: format!(
                        "{} windows x {comps} components (with `_system`) is {rows} time-series rows, above the {} one run keeps (memory: every row is held to the end); use a longer sample interval",
                        self.duration / self.sample,
                        limits::MAX_SERIES_ROWS
                    ),
                });
            }
        }
        if out.is_empty() {
            out.extend(self.check_graph(&names));
        }
        if out.is_empty() {
            out.extend(crate::fleet::outage::check(self));
        }
        out
    }

    /// The capacities a policy may set against the size of one fleet:
    /// `(field below [autoscaler.<name>], message)`.
    fn check_autoscaler_bounds(
        &self,
        _name: &str,
        a: &PolicyConfig,
        comp: Option<&ComponentConfig>,
    ) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let max_inst = limits::MAX_INSTANCES;
        for (f, v) in a.capacities() {
            if v > max_inst {
                out.push((
                    f,
                    format!(
                        "a capacity of {v} is above the {max_inst} instances one pool may have (memory: every instance is tracked)"
                    ),
                ));
            }
        }
        if let (Some(p), Some((f, v))) = (
            comp.and_then(|c| c.lifecycle()),
            a.capacities().into_iter().max_by_key(|c| c.1),
        ) {
            let slots = v as u64 * p.concurrency() as u64;
            if out.is_empty() && slots > limits::MAX_SLOTS {
                out.push((
                    f,
                    format!(
                        "{v} instances x concurrency {} is {slots} slots, above the {} one pool may have (memory: every slot is tracked)",
                        p.concurrency(),
                        limits::MAX_SLOTS
                    ),
                ));
            }
        }
        out
    }

    /// Evaluations, metric windows and samples an autoscaler makes over the
    /// run: `(dotted path, message)`.
    fn check_evaluations(
        &self,
        name: &str,
        a: &PolicyConfig,
        ctrl: &dyn crate::policy::Controller,
        comp: Option<&ComponentConfig>,
    ) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let horizon = to_secs(self.duration);
        let period_field = match a {
            PolicyConfig::Hpa(_) => "sync_period",
            PolicyConfig::Combined(_) => "policies",
            _ => "period",
        };
        let at = |f: &str| format!("autoscaler.{name}.{f}");
        let period = ctrl.period_s();
        let evals = horizon / period.max(1e-9);
        if evals > limits::MAX_EVALUATIONS as f64 {
            out.push((
                at(period_field),
                format!(
                    "an evaluation every {period} s over {horizon} s is {evals:.3e} evaluations, above the {} one autoscaler may make in a run (time: each one runs the policy); give a longer period",
                    limits::MAX_EVALUATIONS
                ),
            ));
            return out;
        }
        let (hist_field, hist) = a.history_s();
        let kept = hist / period.max(1e-9);
        if kept > limits::MAX_HISTORY as f64 {
            out.push((
                at(period_field),
                format!(
                    "an evaluation every {period} s keeps {kept:.0} of them over the policy's {hist} s {hist_field}, above {} (time: every evaluation scans them); give a longer period",
                    limits::MAX_HISTORY
                ),
            ));
        }
        let Some(p) = comp.and_then(|c| c.lifecycle()) else {
            return out;
        };
        let window = p.metric_period.map(|d| d.secs()).unwrap_or(period);
        let comp_at = |f: &str| {
            if p.metric_period.is_some() || f != "metric_period" {
                format!("components.{name}.{f}")
            } else {
                at(period_field)
            }
        };
        let windows = horizon / window.max(1e-9);
        if windows > limits::MAX_EVALUATIONS as f64 {
            out.push((
                comp_at("metric_period"),
                format!(
                    "a metric window every {window} s over {horizon} s is {windows:.3e} windows, above the {} one autoscaler may close in a run (time: each samples every instance); give a longer metric_period",
                    limits::MAX_EVALUATIONS
                ),
            ));
            return out;
        }
        let most = a
            .capacities()
            .iter()
            .map(|c| c.1)
            .max()
            .unwrap_or(0)
            .max(p.instances);
        let samples = windows * most as f64;
        if samples > limits::MAX_POD_SAMPLES {
            out.push((
                comp_at("metric_period"),
                format!(
                    "{windows:.0} metric windows x up to {most} instances is {samples:.3e} instance samples, above the {:e} one run may take (time: each window samples every instance); give a longer metric_period",
                    limits::MAX_POD_SAMPLES
                ),
            ));
        }
        let pending = p.metric_delay.secs() / window.max(1e-9);
        if pending > limits::MAX_PENDING_WINDOWS as f64 {
            out.push((
                comp_at("metric_delay"),
                format!(
                    "a metric delay of {} s holds {pending:.0} windows of {window} s at once, above {} (memory: each holds a sample of every instance)",
                    p.metric_delay.secs(),
                    limits::MAX_PENDING_WINDOWS
                ),
            ));
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
        let cx = CheckCx {
            system: self,
            names,
        };
        for (cname, c) in &self.components {
            out.extend(c.config().check_graph(cname, &cx));
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
                    if let (Some(what), None) = (comp.config().needs_key(), c.keys) {
                        out.push(ConfigIssue {
                            path: format!("traffic.{sname}"),
                            message: format!(
                                "requests of this source reach {what} {cname:?} but carry no key; add keys = {{ count = N, zipf = S }}"
                            ),
                        });
                        break;
                    }
                    if let (Some(what), false) = (comp.config().needs_tokens(), has_tokens) {
                        out.push(ConfigIssue {
                            path: format!("traffic.{sname}"),
                            message: format!(
                                "requests of this source reach {what} {cname:?} but carry no token counts; add prompt_tokens = N and output_tokens = N (numbers or laws such as {{ dist = \"lognormal\", mean = 512, cv = 1.0 }})"
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
