//! The JSON summary of a run (CONTRACT.md §3; keys are STABLE, more may be
//! added) and the SLO verdict.

use crate::scenario::SloConfig;
use scalesim_models::fleet::cost::HOURS_PER_MONTH;
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
    /// LLM components together (absent without any).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub llm: Option<LlmJson>,
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
    /// LLM components: GPUs in service, time-averaged (replicas x
    /// tensor_parallel).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpus_mean: Option<f64>,
    /// LLM components: time to first token, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttft_s: Option<Latency>,
    /// LLM components: time per output token after the first, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tpot_s: Option<Latency>,
    /// LLM components: gaps between consecutive output tokens, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub itl_s: Option<Latency>,
    /// LLM components: output tokens emitted after warm-up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens_out: Option<u64>,
    /// LLM components: prompt tokens prefilled (recomputed ones included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens_in: Option<u64>,
    /// LLM components: output tokens per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_tokens_per_s: Option<f64>,
    /// LLM components: output tokens per second per GPU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_tokens_per_s_per_gpu: Option<f64>,
    /// LLM components: KV-cache blocks per replica.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kv_blocks: Option<u64>,
    /// LLM components: KV-cache tokens per replica (blocks x block size).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kv_tokens: Option<u64>,
    /// LLM components: time-averaged share of KV blocks in use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kv_use_mean: Option<f64>,
    /// LLM and batch components: mean requests per step while stepping.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_mean: Option<f64>,
    /// LLM components: requests preempted by KV exhaustion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preemptions: Option<u64>,
    /// LLM components: cost after warm-up per million output tokens, USD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_per_1m_output_tokens: Option<f64>,
    /// LLM components: the same per million tokens processed (prompt and
    /// output).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_per_1m_tokens: Option<f64>,
}

/// The LLM components together (present when the scenario has any).
#[derive(Clone, Debug, Serialize)]
pub struct LlmJson {
    /// Time to first token over every LLM component, seconds.
    pub ttft_s: Latency,
    /// Time per output token over every LLM component, seconds.
    pub tpot_s: Latency,
    /// Inter-token latency over every LLM component, seconds.
    pub itl_s: Latency,
    /// Output tokens emitted after warm-up.
    pub tokens_out: u64,
    /// Prompt tokens prefilled.
    pub tokens_in: u64,
    /// Output tokens per second.
    pub output_tokens_per_s: f64,
    /// GPUs in service, time-averaged.
    pub gpus_mean: f64,
    /// Requests preempted.
    pub preemptions: u64,
    /// Cost of the LLM components after warm-up per million output tokens.
    pub cost_per_1m_output_tokens: f64,
    /// The same per million tokens processed.
    pub cost_per_1m_tokens: f64,
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
    /// Classes with token counts: time to first token of their LLM
    /// visits, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttft_s: Option<Latency>,
    /// And their time per output token, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tpot_s: Option<Latency>,
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
        let llm = llm_block(r);
        let slo = check_slo(slo, &latency, error_rate, r, llm.as_ref());
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
                            ttft_s: c.tokens.as_ref().map(|t| Latency::of(&t.0)),
                            tpot_s: c.tokens.as_ref().map(|t| Latency::of(&t.1)),
                        };
                        (c.name.clone(), json)
                    })
                    .collect(),
            ),
            llm,
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

/// Per million tokens: `usd` over `tokens` (0 without tokens).
fn per_million(usd: f64, tokens: u64) -> f64 {
    if tokens == 0 {
        0.0
    } else {
        usd / tokens as f64 * 1e6
    }
}

/// The `llm` block: every LLM component's measurements merged.
fn llm_block(r: &RunReport) -> Option<LlmJson> {
    let llms: Vec<_> = r
        .components
        .iter()
        .filter_map(|c| {
            c.serving
                .as_ref()
                .filter(|v| v.gpus_per_instance > 0)
                .map(|v| (c, v))
        })
        .collect();
    if llms.is_empty() {
        return None;
    }
    let mut ttft = LatencyHist::new();
    let mut tpot = LatencyHist::new();
    let mut itl = LatencyHist::new();
    let (mut out, mut inp, mut pre, mut gpus, mut usd) = (0, 0, 0, 0.0, 0.0);
    for (c, v) in &llms {
        ttft.merge(&v.ttft);
        tpot.merge(&v.tpot);
        itl.merge(&v.itl);
        out += v.tokens_out;
        inp += v.tokens_in;
        pre += v.preemptions;
        gpus += c.instances_mean * v.gpus_per_instance as f64;
        usd += c.cost_measured_usd.unwrap_or(0.0);
    }
    Some(LlmJson {
        ttft_s: Latency::of(&ttft),
        tpot_s: Latency::of(&tpot),
        itl_s: Latency::of(&itl),
        tokens_out: out,
        tokens_in: inp,
        output_tokens_per_s: out as f64 / r.measured_s,
        gpus_mean: gpus,
        preemptions: pre,
        cost_per_1m_output_tokens: per_million(usd, out),
        cost_per_1m_tokens: per_million(usd, out + inp),
    })
}

fn component(c: &ComponentReport, measured_s: f64) -> ComponentJson {
    let lookups = c.hits.unwrap_or(0) + c.misses.unwrap_or(0);
    let llm = c.serving.as_ref().filter(|v| v.gpus_per_instance > 0);
    let gpus = llm.map(|v| c.instances_mean * v.gpus_per_instance as f64);
    let usd = c.cost_measured_usd.unwrap_or(0.0);
    ComponentJson {
        gpus_mean: gpus,
        ttft_s: llm.map(|v| Latency::of(&v.ttft)),
        tpot_s: llm.map(|v| Latency::of(&v.tpot)),
        itl_s: llm.map(|v| Latency::of(&v.itl)),
        tokens_out: llm.map(|v| v.tokens_out),
        tokens_in: llm.map(|v| v.tokens_in),
        output_tokens_per_s: llm.map(|v| v.tokens_out as f64 / measured_s),
        output_tokens_per_s_per_gpu: llm.map(|v| {
            let g = gpus.unwrap_or(0.0);
            if g > 0.0 {
                v.tokens_out as f64 / measured_s / g
            } else {
                0.0
            }
        }),
        kv_blocks: llm.map(|v| v.kv_blocks),
        kv_tokens: llm.map(|v| v.kv_blocks * v.block_size as u64),
        kv_use_mean: llm.map(|v| v.kv_use_mean),
        batch_mean: c.serving.as_ref().map(|v| v.batch_mean),
        preemptions: llm.map(|v| v.preemptions),
        cost_per_1m_output_tokens: llm.map(|v| per_million(usd, v.tokens_out)),
        cost_per_1m_tokens: llm.map(|v| per_million(usd, v.tokens_out + v.tokens_in)),
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

fn check_slo(
    slo: &SloConfig,
    l: &Latency,
    error_rate: f64,
    r: &RunReport,
    llm: Option<&LlmJson>,
) -> Slo {
    let mut checks = Vec::new();
    for (what, name, limit) in slo.token_bounds() {
        let lat = llm.map(|b| if what == "ttft" { &b.ttft_s } else { &b.tpot_s });
        let value = lat.map(|x| x.get(name)).unwrap_or(f64::NAN);
        checks.push(SloCheck {
            metric: format!("{what}_{name}"),
            limit,
            value,
            // No LLM request measured is no evidence of meeting a bound.
            passed: llm.is_some_and(|b| b.tokens_out > 0) && value <= limit,
        });
    }
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
    let token_bounds: Vec<(&str, f64)> = slo
        .token_bounds()
        .into_iter()
        .filter(|b| b.1 == "p99")
        .map(|(w, _, l)| (w, l))
        .collect();
    let mut prev = 0.0;
    let mut seconds = 0.0;
    // Rows come window by window, each window's `_system` row last: an LLM
    // component's row may break a token bound of its window.
    let mut tokens_late = false;
    for w in &r.timeseries {
        if w.component != "_system" {
            tokens_late |= token_bounds.iter().any(|&(what, limit)| {
                let v = if what == "ttft" {
                    w.ttft_p99_s
                } else {
                    w.tpot_p99_s
                };
                v.is_some_and(|v| v > limit)
            });
            continue;
        }
        let start = std::mem::replace(&mut prev, w.t_s);
        let window_tokens_late = std::mem::take(&mut tokens_late);
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
        if late || window_tokens_late || failing {
            seconds += w.t_s - start;
        }
    }
    seconds / 60.0
}
