//! Service-level objectives: what `[slo]` bounds for the whole run, and
//! its `[slo.classes.<class>]` and `[slo.components.<name>]` tables for
//! one request class or one component; [`judge`] gives a run's verdict.
//!
//! Work that never finished counts (CONTRACT.md §4): a request still in
//! flight at the end enters the latency objectives at its age then (a
//! lower bound of its latency), and once older than `unfinished_grace` it
//! counts as timed out in the error rate and availability.

mod judge;

pub use judge::{judge, objectives, split_unfinished, Outcome, Slo, SloCheck};

use scalesim_models::system::ConfigIssue;
use scalesim_models::units::{above_one, Duration, Fraction};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Default `unfinished_grace`: 30 s, the grace k6 gives iterations in
/// flight when a test ends (`gracefulStop`, k6 docs "Graceful stop").
pub const DEFAULT_GRACE_S: f64 = 30.0;

/// A bare number in a request-latency bound at or above this many seconds
/// is refused as a likely millisecond value (CONTRACT.md §4).
const BARE_SECONDS_LIMIT: f64 = 10.0;

/// Declares the objectives once: [`Objectives`] (one scope's bounds) and
/// [`SloConfig`] (the `[slo]` table: the run's bounds, the grace and the
/// per-class and per-component tables) share the list.
macro_rules! objectives {
    ($( $(#[doc = $d:literal])* $name:ident : $ty:ty ),* $(,)?) => {
        /// The bounds one scope sets (the whole run, a class, a component).
        #[derive(Clone, Debug, Default, Deserialize, PartialEq)]
        #[serde(deny_unknown_fields)]
        pub struct Objectives {
            $( $(#[doc = $d])* pub $name: Option<$ty>, )*
        }

        /// Service-level objectives: a failed one makes `run` exit 1.
        #[derive(Clone, Debug, Default, Deserialize, PartialEq)]
        #[serde(deny_unknown_fields)]
        pub struct SloConfig {
            $( $(#[doc = $d])* pub $name: Option<$ty>, )*
            /// A request (or job) still unfinished at the end counts as
            /// timed out once older than this (default 30 s).
            pub unfinished_grace: Option<Duration>,
            /// Objectives of one request class (`<source>` or
            /// `<source>.<class>`).
            #[serde(default)]
            pub classes: BTreeMap<String, Objectives>,
            /// Objectives of one component.
            #[serde(default)]
            pub components: BTreeMap<String, Objectives>,
            /// Objectives of the users in one client area (a source's
            /// `from`): its classes together.
            #[serde(default)]
            pub from: BTreeMap<String, Objectives>,
        }

        impl SloConfig {
            /// The whole run's own objectives.
            pub fn run(&self) -> Objectives {
                Objectives { $( $name: self.$name, )* }
            }
        }
    };
}

objectives! {
    /// Bound on mean latency.
    mean: Duration,
    /// Bound on median latency.
    p50: Duration,
    /// Bound on the 90th percentile.
    p90: Duration,
    /// Bound on the 95th percentile.
    p95: Duration,
    /// Bound on the 99th percentile.
    p99: Duration,
    /// Bound on the 99.9th percentile.
    p999: Duration,
    /// Bound on the maximum.
    max: Duration,
    /// Bound on (rejected + timed out) / judged requests.
    error_rate: Fraction,
    /// Floor on the share of judged requests answered.
    availability: Fraction,
    /// Bounds on the time to first token of LLM visits.
    ttft_p50: Duration,
    /// 90th percentile.
    ttft_p90: Duration,
    /// 95th percentile.
    ttft_p95: Duration,
    /// 99th percentile.
    ttft_p99: Duration,
    /// Bounds on their time per output token.
    tpot_p50: Duration,
    /// 90th percentile.
    tpot_p90: Duration,
    /// 95th percentile.
    tpot_p95: Duration,
    /// 99th percentile.
    tpot_p99: Duration,
    /// Bounds on queued jobs' enqueue-to-done time: mean.
    job_mean: Duration,
    /// Median.
    job_p50: Duration,
    /// 95th percentile.
    job_p95: Duration,
    /// 99th percentile.
    job_p99: Duration,
    /// Maximum.
    job_max: Duration,
    /// Components with a fleet: bound on busy slots / slots over the run.
    utilization: Fraction,
    /// Components with a fleet: bound on the busiest sampling window's
    /// utilization.
    peak_utilization: Fraction,
    /// Bound on the 95th percentile in the busiest sampling window (the
    /// run's by arrivals; a component's by utilization, queue length or
    /// arrivals: the window of its `peak` in the summary).
    peak_p95: Duration,
    /// Bound on the 99th percentile in the busiest window.
    peak_p99: Duration,
    /// Bound on the rejected share of arrivals in the busiest window.
    peak_error_rate: Fraction,
}

/// Latency objectives: (key as in the summary's `latency_s`, bound).
const LATENCY: &[&str] = &["mean", "p50", "p90", "p95", "p99", "p999", "max"];

impl Objectives {
    /// The latency objectives that are set: (key as in `latency_s`,
    /// bound in seconds), from mean to max.
    pub fn latency_bounds(&self) -> Vec<(&'static str, f64)> {
        let all = [
            self.mean, self.p50, self.p90, self.p95, self.p99, self.p999, self.max,
        ];
        LATENCY
            .iter()
            .zip(all)
            .filter_map(|(n, d)| d.map(|d| (*n, d.secs())))
            .collect()
    }

    /// The token-latency objectives that are set: (`ttft` or `tpot`,
    /// percentile key as in the summary's `llm` block, bound in seconds).
    pub fn token_bounds(&self) -> Vec<(&'static str, &'static str, f64)> {
        [
            ("ttft", "p50", self.ttft_p50),
            ("ttft", "p90", self.ttft_p90),
            ("ttft", "p95", self.ttft_p95),
            ("ttft", "p99", self.ttft_p99),
            ("tpot", "p50", self.tpot_p50),
            ("tpot", "p90", self.tpot_p90),
            ("tpot", "p95", self.tpot_p95),
            ("tpot", "p99", self.tpot_p99),
        ]
        .into_iter()
        .filter_map(|(w, n, d)| d.map(|d| (w, n, d.secs())))
        .collect()
    }

    /// The job-latency objectives that are set: (key as in a queue's
    /// `job_latency_s`, bound in seconds).
    pub fn job_bounds(&self) -> Vec<(&'static str, f64)> {
        [
            ("mean", self.job_mean),
            ("p50", self.job_p50),
            ("p95", self.job_p95),
            ("p99", self.job_p99),
            ("max", self.job_max),
        ]
        .into_iter()
        .filter_map(|(n, d)| d.map(|d| (n, d.secs())))
        .collect()
    }

    /// The latency objectives at the peak that are set: (`p95` or `p99`,
    /// bound in seconds).
    pub fn peak_latency_bounds(&self) -> Vec<(&'static str, f64)> {
        [("p95", self.peak_p95), ("p99", self.peak_p99)]
            .into_iter()
            .filter_map(|(n, d)| d.map(|d| (n, d.secs())))
            .collect()
    }

    /// The shares that are set: (field, value).
    fn shares(&self) -> Vec<(&'static str, f64)> {
        [
            ("error_rate", self.error_rate),
            ("availability", self.availability),
            ("utilization", self.utilization),
            ("peak_utilization", self.peak_utilization),
            ("peak_error_rate", self.peak_error_rate),
        ]
        .into_iter()
        .filter_map(|(n, f)| f.map(|f| (n, f.get())))
        .collect()
    }

    /// The availability floor, if set.
    pub fn availability(&self) -> Option<f64> {
        self.availability.map(|f| f.get())
    }

    /// True when nothing is bounded.
    pub fn is_empty(&self) -> bool {
        *self == Objectives::default()
    }
}

impl SloConfig {
    /// The grace after which an unfinished request counts as timed out.
    pub fn grace_s(&self) -> f64 {
        self.unfinished_grace.map_or(DEFAULT_GRACE_S, |d| d.secs())
    }

    /// True when no objective is set in any scope.
    pub fn is_empty(&self) -> bool {
        self.run().is_empty()
            && self.classes.is_empty()
            && self.components.is_empty()
            && self.from.is_empty()
    }
}

/// What the checks need to know of the system: its class names and, per
/// component, its kind and whether it has a fleet of its own.
pub struct Names<'a> {
    /// `<source>` or `<source>.<class>`, as in the summary's `classes`.
    pub classes: &'a [String],
    /// (name, kind, has a fleet), hidden components (`db/replica`) too.
    pub components: &'a [(String, &'static str, bool)],
    /// The client areas of the sources' `from`.
    pub areas: &'a [String],
}

/// The problems of an `[slo]` table: shares out of range, names that are
/// not in the system, objectives a scope does not measure.
pub fn check(slo: &SloConfig, names: &Names) -> Vec<ConfigIssue> {
    let mut out = Vec::new();
    check_scope("slo.", &slo.run(), Scope::Run, &mut out);
    for (c, o) in &slo.classes {
        if names.classes.contains(c) {
            check_scope(&format!("slo.classes.{c}."), o, Scope::Class, &mut out);
        } else {
            out.push(ConfigIssue {
                path: format!("slo.classes.{c}"),
                message: format!(
                    "no request class {c:?}{}; the classes are {}",
                    nearest(c, names.classes.iter()),
                    names.classes.join(", ")
                ),
            });
        }
    }
    for (a, o) in &slo.from {
        if names.areas.contains(a) {
            check_scope(&format!("slo.from.{a}."), o, Scope::Class, &mut out);
        } else {
            out.push(ConfigIssue {
                path: format!("slo.from.{a}"),
                message: if names.areas.is_empty() {
                    format!("no source has users in client areas: say where they are with from = {{ {a} = 1.0 }} on a source")
                } else {
                    format!(
                        "no client area {a:?}{}; the areas are {}",
                        nearest(a, names.areas.iter()),
                        names.areas.join(", ")
                    )
                },
            });
        }
    }
    for (c, o) in &slo.components {
        match names.components.iter().find(|x| &x.0 == c) {
            Some((_, kind, fleet)) => check_scope(
                &format!("slo.components.{c}."),
                o,
                Scope::Component(kind, *fleet),
                &mut out,
            ),
            None => out.push(ConfigIssue {
                path: format!("slo.components.{c}"),
                message: format!(
                    "no component {c:?}{}",
                    nearest(c, names.components.iter().map(|x| &x.0))
                ),
            }),
        }
    }
    out
}

/// The problems of one scope's objectives `o` (fields named `<prefix><field>`).
fn check_scope(prefix: &str, o: &Objectives, what: Scope, out: &mut Vec<ConfigIssue>) {
    let mut push = |field: &str, message: String| {
        out.push(ConfigIssue {
            path: format!("{prefix}{field}"),
            message,
        })
    };
    for (field, v) in o.shares() {
        if v > 1.0 {
            push(field, above_one(field, v));
        }
    }
    let (no_fleet, no_jobs) = match what {
        Scope::Run => (Some("utilization is a component's: write it under [slo.components.<name>], e.g. [slo.components.api] peak_utilization = \"60%\"".to_string()), None),
        Scope::Class => {
            let why = "a request class has no utilization or jobs of its own: write it under [slo.components.<name>]".to_string();
            (Some(why.clone()), Some(why))
        }
        Scope::Component(kind, fleet) => (
            (!fleet).then(|| format!("utilization is measured where instances serve (pools and fleets); this component is a {kind}: bound one of the components it runs on (`<name>/...`) instead")),
            (kind != "queue").then(|| format!("job latency is measured by queues; this component is a {kind}")),
        ),
    };
    if matches!(what, Scope::Class) {
        for f in peak_fields(o) {
            push(f, "the peak is a sampling window of the time series, which has rows per component and for the system, not per class: bound it under [slo] or [slo.components.<name>]".into());
        }
    }
    if let Some(why) = no_fleet {
        for f in fleet_fields(o) {
            push(f, why.clone());
        }
    }
    if let Some(why) = no_jobs {
        for f in job_fields(o) {
            push(f, why.clone());
        }
    }
}

/// Where a table of objectives sits.
#[derive(Clone, Copy)]
enum Scope {
    Run,
    Class,
    Component(&'static str, bool),
}

fn fleet_fields(o: &Objectives) -> Vec<&'static str> {
    [
        ("utilization", o.utilization.is_some()),
        ("peak_utilization", o.peak_utilization.is_some()),
    ]
    .into_iter()
    .filter_map(|(f, set)| set.then_some(f))
    .collect()
}

fn peak_fields(o: &Objectives) -> Vec<&'static str> {
    [
        ("peak_p95", o.peak_p95.is_some()),
        ("peak_p99", o.peak_p99.is_some()),
        ("peak_error_rate", o.peak_error_rate.is_some()),
    ]
    .into_iter()
    .filter_map(|(f, set)| set.then_some(f))
    .collect()
}

fn job_fields(o: &Objectives) -> Vec<&'static str> {
    [
        ("job_mean", o.job_mean),
        ("job_p50", o.job_p50),
        ("job_p95", o.job_p95),
        ("job_p99", o.job_p99),
        ("job_max", o.job_max),
    ]
    .into_iter()
    .filter_map(|(f, d)| d.map(|_| f))
    .collect()
}

/// ` (did you mean "x"?)` for the nearest of `names`, if any is close.
fn nearest<'a>(name: &str, names: impl Iterator<Item = &'a String>) -> String {
    names
        .map(|n| (strsim::levenshtein(n, name), n))
        .filter(|(d, n)| *d <= 3.max(n.len() / 3))
        .min()
        .map(|(_, n)| format!(" (did you mean {n:?}?)"))
        .unwrap_or_default()
}

/// The request-latency bounds of the `[slo]` table of `doc` written as
/// bare numbers of at least [`BARE_SECONDS_LIMIT`] seconds: (dotted path,
/// the number). A bare number is seconds, so `p95 = 200` is more than
/// three minutes: nearly always meant as milliseconds.
pub fn bare_seconds(slo: &toml_edit::Table) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    let mut scan = |prefix: String, t: &dyn toml_edit::TableLike| {
        for (k, item) in t.iter() {
            let latency = LATENCY.contains(&k.trim_start_matches("peak_"))
                || k.starts_with("ttft_")
                || k.starts_with("tpot_");
            let v = item
                .as_value()
                .and_then(|v| v.as_float().or_else(|| v.as_integer().map(|i| i as f64)));
            if let (true, Some(v)) = (latency, v) {
                if v >= BARE_SECONDS_LIMIT {
                    out.push((format!("{prefix}{k}"), v));
                }
            }
        }
    };
    scan("slo.".into(), slo);
    for group in ["classes", "components", "from"] {
        if let Some(t) = slo.get(group).and_then(|g| g.as_table_like()) {
            for (name, item) in t.iter() {
                if let Some(inner) = item.as_table_like() {
                    scan(format!("slo.{group}.{name}."), inner);
                }
            }
        }
    }
    out
}

/// The message for a bare-seconds latency bound `field = v`.
pub fn bare_seconds_message(field: &str, v: f64) -> String {
    let key = field.rsplit('.').next().unwrap_or(field);
    format!("{key} = {v} means {v} seconds; write \"{v}ms\" for milliseconds, or \"{v}s\" if seconds are meant")
}
