//! The JSON summary of a run (CONTRACT.md §3; keys are STABLE, more may be
//! added) and the SLO verdict.

use crate::scenario::SloConfig;
use scalesim_models::cost::HOURS_PER_MONTH;
use scalesim_models::system::{ComponentReport, RunReport};
use scalesim_models::traffic::Op;
use scalesim_sim::stats::LatencyHist;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

/// The whole summary, in the contract's key order.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// Seed of the run.
    pub seed: u64,
    /// Simulated seconds run (less than the duration after a runaway).
    pub simulated_s: f64,
    /// Seconds after warm-up over which rates and averages are taken.
    pub measured_s: f64,
    /// Request counts (requests that arrived after warm-up).
    pub requests: Requests,
    /// End-to-end latency of completed requests, seconds.
    pub latency_s: Latency,
    /// Completed requests per second.
    pub throughput_rps: f64,
    /// (rejected + timed_out + failed) / arrived.
    pub error_rate: f64,
    /// Per-component figures, in file order.
    pub components: ComponentMap,
    /// Cost (priced instance types arrive with the cost model).
    pub cost_usd: Cost,
    /// SLO verdict.
    pub slo: Slo,
    /// Set when the in-flight cap stopped the run early.
    pub runaway: Option<RunawayJson>,
    /// Per request class (`<source>` or `<source>.<mix class>`).
    pub classes: ClassMap,
    /// Engine figures (not covered by the determinism promise).
    pub engine: Engine,
}

/// Request counts.
#[derive(Clone, Debug, Serialize)]
pub struct Requests {
    /// Arrived after warm-up.
    pub arrived: u64,
    /// Answered successfully.
    pub completed: u64,
    /// Refused by a full queue.
    pub rejected: u64,
    /// Timed out (timeouts arrive with the failure models).
    pub timed_out: u64,
    /// Failed otherwise.
    pub failed: u64,
    /// Still in flight when the run ended.
    pub in_flight_at_end: u64,
}

/// Latency statistics in seconds.
#[derive(Clone, Debug, Serialize)]
pub struct Latency {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Maximum.
    pub max: f64,
}

impl Latency {
    /// The statistics of a histogram.
    pub fn of(h: &LatencyHist) -> Latency {
        Latency {
            mean: h.mean_s(),
            p50: h.quantile_s(0.5),
            p90: h.quantile_s(0.9),
            p95: h.quantile_s(0.95),
            p99: h.quantile_s(0.99),
            p999: h.quantile_s(0.999),
            max: h.max_s(),
        }
    }

    /// A statistic by its key (`mean`, `p50`, ... `p999`, `max`).
    pub fn get(&self, key: &str) -> f64 {
        match key {
            "mean" => self.mean,
            "p50" => self.p50,
            "p90" => self.p90,
            "p95" => self.p95,
            "p99" => self.p99,
            "p999" => self.p999,
            _ => self.max,
        }
    }
}

/// One component's entry.
#[derive(Clone, Debug, Serialize)]
pub struct ComponentJson {
    /// `kind` string.
    pub kind: &'static str,
    /// Visits that arrived.
    pub arrivals: u64,
    /// Visits completed.
    pub completions: u64,
    /// Visits rejected here.
    pub rejections: u64,
    /// Completions per second.
    pub throughput_rps: f64,
    /// Mean time from arrival to answer here.
    pub mean_response_s: f64,
    /// 99th percentile of that.
    pub p99_response_s: f64,
    /// Time-averaged visits in progress.
    pub mean_in_system: f64,
    /// Busy slot-seconds / (slots x seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utilization: Option<f64>,
    /// Mean wait for a slot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_wait_s: Option<f64>,
    /// Time-averaged queue length.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_queue_len: Option<f64>,
    /// Mean instances.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instances_mean: Option<f64>,
    /// Peak instances.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instances_max: Option<u32>,
    /// Scale-out decisions of its autoscaler.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_outs: Option<u32>,
    /// Scale-in decisions of its autoscaler.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_ins: Option<u32>,
    /// The bill of this component, USD (0 when it has no `instance_type`
    /// or `price_per_hour`).
    pub cost_usd: f64,
    /// Its cost per hour after warm-up x 730.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_per_month: Option<f64>,
    /// Cache hits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hits: Option<u64>,
    /// Cache misses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub misses: Option<u64>,
    /// hits / (hits + misses).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hit_ratio: Option<f64>,
    /// Coalescing caches: misses that waited for another miss of their key
    /// (the backend saw misses - coalesced).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coalesced: Option<u64>,
    /// Caches: writes, each invalidating its key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub writes: Option<u64>,
    /// Shards: the busiest shard's arrivals over the mean shard's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard_imbalance: Option<f64>,
    /// Pools with `connections` limits: mean wait for a connection, s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_wait_s: Option<f64>,
    /// Databases: reads a replica served before the key's latest write
    /// reached it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale_reads: Option<u64>,
    /// Databases: reads sent to the primary to read their own writes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_reads: Option<u64>,
    /// Pools behind a balancer: share of ready instances with at least
    /// "1", "2", ... "8" requests in service or queued (time average).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_at_least: Option<Named<f64>>,
    /// Queues: jobs accepted after warm-up and worked off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jobs_completed: Option<u64>,
    /// Queues: jobs accepted after warm-up that the workers refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jobs_failed: Option<u64>,
    /// Queues: enqueue-to-done time of the jobs worked off, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_latency_s: Option<Latency>,
}

/// Components keyed by name, in file order.
pub type ComponentMap = Named<ComponentJson>;

/// Entries keyed by name, serialized as a JSON object in this order (not
/// sorted, not hashed: deterministic and as the scenario file reads).
#[derive(Clone, Debug)]
pub struct Named<T>(pub Vec<(String, T)>);

impl<T: Serialize> Serialize for Named<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// One request class's figures.
#[derive(Clone, Debug, Serialize)]
pub struct ClassJson {
    /// `read` or `write`.
    pub op: &'static str,
    /// Arrived after warm-up.
    pub arrived: u64,
    /// Completed.
    pub completed: u64,
    /// Rejected.
    pub rejected: u64,
    /// End-to-end latency, seconds.
    pub latency_s: Latency,
}

/// Classes keyed by name, in source and mix order.
pub type ClassMap = Named<ClassJson>;

/// Cost figures (priced components only: those with an `instance_type`
/// or a `price_per_hour`).
#[derive(Clone, Debug, Serialize)]
pub struct Cost {
    /// The bill for the simulated time, USD.
    pub total: f64,
    /// Per 1,000 completed requests, from the cost after warm-up.
    pub per_1k_requests: f64,
    /// Mean cost per hour after warm-up.
    pub per_hour: f64,
    /// per_hour x 730 hours.
    pub projected_month: f64,
}

/// The SLO verdict.
#[derive(Clone, Debug, Serialize)]
pub struct Slo {
    /// True when every check passed.
    pub passed: bool,
    /// One entry per objective in the scenario (and one for a runaway).
    pub checks: Vec<SloCheck>,
    /// Minutes after warm-up spent in sampling windows that broke an
    /// objective: a window's mean/p50/p95/p99 above its bound, or its
    /// rejected share above `error_rate` (0 without objectives).
    pub violation_minutes: f64,
}

/// One objective and how the run did.
#[derive(Clone, Debug, Serialize)]
pub struct SloCheck {
    /// `p99`, `error_rate`, ... or `bounded_in_flight`.
    pub metric: String,
    /// The objective's bound.
    pub limit: f64,
    /// What the run measured.
    pub value: f64,
    /// value <= limit.
    pub passed: bool,
}

/// The runaway report.
#[derive(Clone, Debug, Serialize)]
pub struct RunawayJson {
    /// Simulated time of the stop.
    pub at_s: f64,
    /// Requests in flight then.
    pub in_flight: usize,
    /// The `max_in_flight` cap.
    pub limit: usize,
    /// Plain-language explanation.
    pub message: String,
}

/// Engine performance (excluded from the determinism promise).
#[derive(Clone, Debug, Serialize)]
pub struct Engine {
    /// Events handled.
    pub events: u64,
    /// Wall-clock seconds of the simulation.
    pub wall_s: f64,
    /// events / wall_s.
    pub events_per_s: f64,
}

impl Summary {
    /// Builds the summary of `r` and checks it against `slo`.
    pub fn new(r: &RunReport, slo: &SloConfig, wall_s: f64) -> Summary {
        let h = &r.latency;
        let latency = Latency::of(h);
        let errors = r.rejected;
        let error_rate = if r.arrived == 0 {
            0.0
        } else {
            errors as f64 / r.arrived as f64
        };
        let components = Named(
            r.components
                .iter()
                .map(|c| (c.name.clone(), component(c, r.measured_s)))
                .collect(),
        );
        let slo = check_slo(slo, &latency, error_rate, r);
        Summary {
            scenario: r.name.clone(),
            seed: r.seed,
            simulated_s: r.simulated_s,
            measured_s: r.measured_s,
            requests: Requests {
                arrived: r.arrived,
                completed: r.completed,
                rejected: r.rejected,
                timed_out: 0,
                failed: 0,
                in_flight_at_end: r.in_flight_at_end,
            },
            latency_s: latency,
            throughput_rps: r.completed as f64 / r.measured_s,
            error_rate,
            components,
            cost_usd: cost(r),
            slo,
            classes: Named(
                r.classes
                    .iter()
                    .map(|c| {
                        let json = ClassJson {
                            op: match c.op {
                                Op::Read => "read",
                                Op::Write => "write",
                            },
                            arrived: c.arrived,
                            completed: c.completed,
                            rejected: c.rejected,
                            latency_s: Latency::of(&c.latency),
                        };
                        (c.name.clone(), json)
                    })
                    .collect(),
            ),
            runaway: r.runaway.as_ref().map(|w| RunawayJson {
                at_s: w.at_s,
                in_flight: w.in_flight,
                limit: w.limit,
                message: format!(
                    "stopped at {:.1} s: {} requests in flight reached max_in_flight = {}; the offered load exceeds capacity (a queue grows without bound)",
                    w.at_s, w.in_flight, w.limit
                ),
            }),
            engine: Engine {
                events: r.events,
                wall_s,
                events_per_s: if wall_s > 0.0 { r.events as f64 / wall_s } else { 0.0 },
            },
        }
    }
}

fn cost(r: &RunReport) -> Cost {
    let hours = r.measured_s / 3600.0;
    let per_hour = r.cost_measured_usd / hours;
    Cost {
        total: r.cost_usd,
        per_1k_requests: if r.completed == 0 {
            0.0
        } else {
            r.cost_measured_usd / r.completed as f64 * 1000.0
        },
        per_hour,
        projected_month: per_hour * HOURS_PER_MONTH,
    }
}

fn component(c: &ComponentReport, measured_s: f64) -> ComponentJson {
    let lookups = c.hits.unwrap_or(0) + c.misses.unwrap_or(0);
    ComponentJson {
        kind: c.kind,
        arrivals: c.arrivals,
        completions: c.completions,
        rejections: c.rejections,
        throughput_rps: c.throughput_rps,
        mean_response_s: c.mean_response_s,
        p99_response_s: c.p99_response_s,
        mean_in_system: c.mean_in_system,
        utilization: c.utilization,
        mean_wait_s: c.mean_wait_s,
        mean_queue_len: c.mean_queue_len,
        instances_mean: c.instances.map(|_| c.instances_mean),
        instances_max: c.instances.map(|_| c.instances_max),
        scale_outs: c.instances.map(|_| c.scale_outs),
        scale_ins: c.instances.map(|_| c.scale_ins),
        cost_usd: c.cost_usd.unwrap_or(0.0),
        cost_per_month: c
            .cost_measured_usd
            .map(|m| m / measured_s * 3600.0 * HOURS_PER_MONTH),
        hits: c.hits,
        misses: c.misses,
        coalesced: c.coalesced,
        writes: c.writes,
        shard_imbalance: c.shard_imbalance,
        connection_wait_s: c.connection_wait_s,
        stale_reads: c.stale_reads,
        primary_reads: c.primary_reads,
        jobs_completed: c.jobs.as_ref().map(|j| j.done),
        jobs_failed: c.jobs.as_ref().map(|j| j.failed),
        job_latency_s: c.jobs.as_ref().map(|j| Latency::of(&j.latency)),
        load_at_least: c.load_at_least.map(|l| {
            Named(
                l.iter()
                    .enumerate()
                    .map(|(k, v)| ((k + 1).to_string(), *v))
                    .collect(),
            )
        }),
        hit_ratio: c.hits.map(|h| {
            if lookups == 0 {
                0.0
            } else {
                h as f64 / lookups as f64
            }
        }),
    }
}

fn check_slo(slo: &SloConfig, l: &Latency, error_rate: f64, r: &RunReport) -> Slo {
    let mut checks = Vec::new();
    for (name, limit) in slo.latency_bounds() {
        let value = l.get(name);
        checks.push(SloCheck {
            metric: name.into(),
            limit,
            value,
            // No completed request is no evidence of meeting a bound.
            passed: r.completed > 0 && value <= limit,
        });
    }
    if let Some(limit) = slo.error_rate {
        checks.push(SloCheck {
            metric: "error_rate".into(),
            limit,
            value: error_rate,
            passed: error_rate <= limit,
        });
    }
    if let Some(w) = &r.runaway {
        checks.push(SloCheck {
            metric: "bounded_in_flight".into(),
            limit: w.limit as f64,
            value: w.in_flight as f64,
            passed: false,
        });
    }
    Slo {
        passed: checks.iter().all(|c| c.passed),
        checks,
        violation_minutes: violation_minutes(slo, r),
    }
}

/// Minutes of `_system` windows (after warm-up) that broke an objective
/// of `slo` (objectives a window does not measure, p90/p999/max, are left
/// to the whole-run check).
fn violation_minutes(slo: &SloConfig, r: &RunReport) -> f64 {
    let warmup = r.simulated_s - r.measured_s;
    let bounds = slo.latency_bounds();
    let mut prev = 0.0;
    let mut seconds = 0.0;
    for w in r.timeseries.iter().filter(|w| w.component == "_system") {
        let start = std::mem::replace(&mut prev, w.t_s);
        if start + 1e-9 < warmup {
            continue;
        }
        let late = w.completions > 0
            && bounds.iter().any(|&(k, limit)| {
                let v = match k {
                    "mean" => w.mean_s,
                    "p50" => w.p50_s,
                    "p95" => w.p95_s,
                    "p99" => w.p99_s,
                    _ => return false,
                };
                v > limit
            });
        let failing = match slo.error_rate {
            Some(limit) if w.arrivals > 0 => w.rejections as f64 / w.arrivals as f64 > limit,
            _ => false,
        };
        if late || failing {
            seconds += w.t_s - start;
        }
    }
    seconds / 60.0
}
