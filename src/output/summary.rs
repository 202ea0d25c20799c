//! The JSON summary of a run (CONTRACT.md §3; keys are STABLE, more may be
//! added) and the SLO verdict.

use crate::scenario::SloConfig;
use crate::slo::{judge, Outcome, Slo};
use scalesim_models::fleet::cost::HOURS_PER_MONTH;
use scalesim_models::measure::peak;
use scalesim_models::system::{ComponentReport, RunReport, TsRow};
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
    /// (rejected + timed_out + failed) / judged, where judged is arrived
    /// less the requests unfinished at the end within the grace (their
    /// outcome is unknown).
    pub error_rate: f64,
    /// 1 - error_rate: the share of judged requests answered.
    pub availability: f64,
    /// With an availability objective: the share of measured minutes in
    /// which it held (the share of that minute's requests answered).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_minutes: Option<AvailabilityMinutes>,
    /// The whole system's busiest sampling window after warm-up (by
    /// arrivals) and its busiest hour.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak: Option<Peak>,
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
    /// Per source with virtual users (a closed loop, or sessions): how
    /// many were in the loop (absent without any).
    #[serde(skip_serializing_if = "Named::is_empty")]
    pub virtual_users: Named<UsersJson>,
    /// Per region, then per client area (absent without regions; the name
    /// is STABLE, CONTRACT.md section 5).
    #[serde(skip_serializing_if = "Named::is_empty")]
    pub regions: Named<PlaceJson>,
    /// Engine figures (not covered by the determinism promise).
    pub engine: Engine,
}

/// One region's or client area's figures after warm-up (see
/// `scalesim_models::measure::regions`).
#[derive(Clone, Debug, Serialize)]
pub struct PlaceJson {
    /// `"region"` or `"area"`.
    pub kind: &'static str,
    /// Region: the users' requests it served; area: its users' requests.
    pub requests: u64,
    /// Of those, answered.
    pub completed: u64,
    /// Region: visits refused, timed out or lost in it / its requests;
    /// area: its users' requests that failed / its requests.
    pub error_rate: f64,
    /// 1 - error_rate.
    pub availability: f64,
    /// Region: time in the region; area: end to end.
    pub latency_s: Latency,
    /// Region: ready instances, time-averaged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instances_mean: Option<f64>,
    /// Region: what it cost over the run, USD (instances and bill lines,
    /// data transfer out of it included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// Region: its components; area: its classes.
    pub members: Vec<String>,
    /// Area: requests per region that served them.
    #[serde(skip_serializing_if = "Named::is_empty")]
    pub served_by: Named<u64>,
}

impl PlaceJson {
    /// Area: the regions that served it, with their shares ("eu-west-1
    /// 97%"), those that served nothing left out.
    pub fn served_shares(&self) -> Vec<String> {
        let all = self.requests.max(1) as f64;
        self.served_by
            .0
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(r, n)| format!("{r} {:.0}%", 100.0 * *n as f64 / all))
            .collect()
    }
}

/// The virtual users of one source after warm-up.
#[derive(Clone, Debug, Serialize)]
pub struct UsersJson {
    /// Time-average of the users in the loop (sending, waiting or
    /// thinking).
    pub mean: f64,
    /// The most at once.
    pub max: u32,
    /// With `session`: sessions finished (k6's `iterations`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sessions: Option<u64>,
    /// With `session`: sessions finished per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sessions_per_s: Option<f64>,
}

/// Minutes in which the availability objective held.
#[derive(Clone, Debug, Serialize)]
pub struct AvailabilityMinutes {
    /// The objective: the share of a minute's requests answered.
    pub target: f64,
    /// Minutes measured (after warm-up; a partial last one counts).
    pub minutes: u64,
    /// Of those, minutes whose requests met it (a minute with none
    /// does).
    pub met: u64,
    /// met / minutes.
    pub share: f64,
}

impl AvailabilityMinutes {
    /// Each minute of `minutes` ([answered, errors]) judged against
    /// `target` over `measured_s`.
    fn of(minutes: &[[u32; 2]], target: f64, measured_s: f64) -> AvailabilityMinutes {
        let n = ((measured_s / 60.0).ceil() as u64)
            .max(minutes.len() as u64)
            .max(1);
        let broken = minutes
            .iter()
            .filter(|[ok, bad]| {
                let all = (*ok + *bad) as f64;
                all > 0.0 && (*ok as f64) < target * all
            })
            .count() as u64;
        AvailabilityMinutes {
            target,
            minutes: n,
            met: n - broken,
            share: (n - broken) as f64 / n as f64,
        }
    }
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
    /// Timed out: gave up waiting past a pool's `queue_timeout` on their
    /// path, or unfinished at the end and older than
    /// `slo.unfinished_grace` (timed out at the end of the run).
    pub timed_out: u64,
    /// Lost on their path: an instance serving them failed.
    pub failed: u64,
    /// Still in flight when the run ended (timed out at the end or not).
    pub in_flight_at_end: u64,
    /// Of those, older than the grace: counted in `timed_out`.
    pub timed_out_at_end: u64,
    /// Ages at the end of the unfinished requests, seconds (0 when every
    /// request finished).
    pub unfinished_age_s: Ages,
}

/// Ages of unfinished work at the end of a run, seconds.
#[derive(Clone, Debug, Serialize)]
pub struct Ages {
    /// Median.
    pub p50: f64,
    /// Oldest.
    pub max: f64,
}

impl Ages {
    /// The ages (ascending, ns) summarised; zeros when there are none.
    fn of(ages: &[scalesim_sim::Time]) -> Ages {
        let at = |i: usize| ages.get(i).map_or(0.0, |&a| scalesim_sim::to_secs(a));
        Ages {
            p50: at(ages.len() / 2),
            max: at(ages.len().wrapping_sub(1)),
        }
    }
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
    /// Visits that gave up waiting here (`queue_timeout`), after warm-up.
    pub timed_out: u64,
    /// Visits lost here to an instance failure, after warm-up.
    pub failed: u64,
    /// Completions per second.
    pub throughput_rps: f64,
    /// Mean time from arrival to answer here.
    pub mean_response_s: f64,
    /// 99th percentile of that.
    pub p99_response_s: f64,
    /// Time-averaged visits in progress.
    pub mean_in_system: f64,
    /// Busy slot-seconds / (slots x seconds): threads held through calls
    /// (`io = "blocking"`) or cores computing (`io = "async"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utilization: Option<f64>,
    /// Pools: what `utilization` counts, "blocking" (threads) or "async"
    /// (cores).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub io: Option<&'static str>,
    /// A burstable pool's CPU credits (t3, t3a, t4g).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credits: Option<scalesim_models::fleet::credits::CreditsReport>,
    /// A pool's memory: request, limit, peak, OOM kills.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<scalesim_models::measure::MemoryReport>,
    /// Computing slot-seconds / (slots x seconds): the CPU a pod reports
    /// (a blocking thread awaiting a call is not computing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<f64>,
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
    /// Instance failures after warm-up (fleets with `failures`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failures: Option<u64>,
    /// Seconds after warm-up with no ready instance (fleets with
    /// `failures`): the component was down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_healthy_s: Option<f64>,
    /// Fleets with health checks: failures the checks took out of
    /// rotation after warm-up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ejections: Option<u64>,
    /// Their mean and longest delay from the failure, seconds (the time a
    /// failed instance kept receiving traffic).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detection_mean_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detection_max_s: Option<f64>,
    /// Fleets with spot interruptions: notices after warm-up (each
    /// reclaimed a spot instance two minutes later).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spot_interruptions: Option<u64>,
    /// Limiters: requests refused (HTTP 429) by a bucket or the
    /// concurrency cap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limited: Option<u64>,
    /// Components called under a timeout, retry or hedge policy: attempts
    /// here that were retries, and hedges.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hedges: Option<u64>,
    /// Attempts here per first attempt: arrivals / (arrivals - retries -
    /// hedges), the load the policies multiply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_amplification: Option<f64>,
    /// Answers given here that nobody awaited any more (the caller had
    /// timed out, or a hedge had won): work wasted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wasted: Option<u64>,
    /// Visits dropped here unfinished, cancelled by a caller that timed
    /// out (`on_timeout = "cancel"`) or by a winning hedge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled: Option<u64>,
    /// Calls an open circuit breaker stopped before they reached it, and
    /// how many times the breakers of calls to it opened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short_circuited: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breaker_opens: Option<u64>,
    /// Scale-out decisions of its autoscaler.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_outs: Option<u32>,
    /// Scale-in decisions of its autoscaler.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_ins: Option<u32>,
    /// Pods a vertical autoscaler (`policy = "vpa"`) evicted to resize
    /// them (present when it evicted any).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evictions: Option<u32>,
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
    /// The busiest sampling window after warm-up (by utilization where
    /// the component has one, else by queue length, else by arrivals):
    /// what the whole-run means hide.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak: Option<Peak>,
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
    /// Queues: jobs accepted after warm-up and not done at the end
    /// (waiting or being worked on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jobs_unfinished: Option<u64>,
    /// Queues: jobs no worker had started at the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_backlog_at_end: Option<u64>,
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

impl<T> Named<T> {
    /// The entry named `name`.
    pub fn get(&self, name: &str) -> Option<&T> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// No entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

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
    /// Timed out on their path (`queue_timeout`) or at the end.
    pub timed_out: u64,
    /// Lost on their path to an instance failure.
    pub failed: u64,
    /// Still in flight at the end.
    pub in_flight_at_end: u64,
    /// Of those, older than the grace (timed out at the end).
    pub timed_out_at_end: u64,
    /// (rejected + timed out + failed) / judged, as the run's.
    pub error_rate: f64,
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

/// Cost figures: priced components' instance-hours and the bill's other
/// lines (load balancers, storage, data transfer, managed requests).
#[derive(Clone, Debug, Serialize)]
pub struct Cost {
    /// The bill for the simulated time, USD.
    pub total: f64,
    /// Per 1,000 completed requests, from the cost after warm-up.
    pub per_1k_requests: f64,
    /// Mean cost per hour after warm-up.
    pub per_hour: f64,
    /// per_hour x 730 hours; null when the runaway guard stopped the run
    /// (a month is not projected from a partial run).
    pub projected_month: Option<f64>,
    /// Of `total`, instance-hours.
    pub instances: f64,
    /// The lines besides instance-hours.
    pub lines: Vec<BillLineJson>,
    /// What the run does not price, with what to write to price it.
    pub not_priced: Vec<String>,
}

impl Cost {
    /// "$1234/month projected", or why there is no projection.
    pub fn month_text(&self) -> String {
        match self.projected_month {
            Some(m) => format!("{}/month projected", crate::chart::format::fmt_usd(m)),
            None => "no monthly projection (the runaway guard stopped the run)".into(),
        }
    }
}

/// One line of the bill besides instance-hours.
#[derive(Clone, Debug, Serialize)]
pub struct BillLineJson {
    /// The component that buys it (empty: the account).
    pub component: String,
    /// What it is.
    pub item: String,
    /// Quantity over the run, in `unit`.
    pub quantity: f64,
    /// The unit priced.
    pub unit: &'static str,
    /// USD per unit.
    pub unit_usd: f64,
    /// USD over the run.
    pub usd: f64,
    /// Its cost per hour after warm-up x 730; null after a runaway.
    pub per_month: Option<f64>,
    /// Where the price is published.
    pub source: &'static str,
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
        let grace = slo.grace_s();
        let run = Outcome::of(r.arrived, r.errors(), &r.unfinished, grace);
        let components = Named(
            r.components
                .iter()
                .map(|c| (c.name.clone(), component(c, r)))
                .collect(),
        );
        let llm = llm_block(r);
        let availability_minutes = slo
            .run()
            .availability()
            .map(|t| AvailabilityMinutes::of(&r.minutes, t, r.measured_s));
        let slo = judge(slo, r);
        Summary {
            scenario: r.name.clone(),
            seed: r.seed,
            simulated_s: r.simulated_s,
            measured_s: r.measured_s,
            requests: Requests {
                arrived: r.arrived,
                completed: r.completed,
                rejected: r.rejected,
                timed_out: r.timed_out + run.timed_out,
                failed: r.failed,
                in_flight_at_end: r.in_flight_at_end,
                timed_out_at_end: run.timed_out,
                unfinished_age_s: Ages::of(&r.unfinished),
            },
            latency_s: latency,
            throughput_rps: r.completed as f64 / r.measured_s,
            error_rate: run.error_rate(),
            availability: 1.0 - run.error_rate(),
            availability_minutes,
            peak: peak(&r.timeseries, "_system", r.simulated_s - r.measured_s),
            components,
            cost_usd: cost(r),
            slo,
            classes: Named(
                r.classes
                    .iter()
                    .map(|c| {
                        let o =
                            Outcome::of(c.arrived, c.errors(), &c.unfinished, grace);
                        let json = ClassJson {
                            op: match c.op {
                                Op::Read => "read",
                                Op::Write => "write",
                            },
                            arrived: c.arrived,
                            completed: c.completed,
                            rejected: c.rejected,
                            timed_out: c.timed_out + o.timed_out,
                            failed: c.failed,
                            in_flight_at_end: c.unfinished.len() as u64,
                            timed_out_at_end: o.timed_out,
                            error_rate: o.error_rate(),
                            latency_s: Latency::of(&c.latency),
                            ttft_s: c.tokens.as_ref().map(|t| Latency::of(&t.0)),
                            tpot_s: c.tokens.as_ref().map(|t| Latency::of(&t.1)),
                        };
                        (c.name.clone(), json)
                    })
                    .collect(),
            ),
            llm,
            virtual_users: Named(
                r.users
                    .iter()
                    .map(|u| {
                        let json = UsersJson {
                            mean: u.mean,
                            max: u.max,
                            sessions: u.sessions,
                            sessions_per_s: u.sessions.map(|n| n as f64 / r.measured_s),
                        };
                        (u.source.clone(), json)
                    })
                    .collect(),
            ),
            regions: Named(
                r.regions
                    .iter()
                    .map(|p| {
                        let region = p.kind == "region";
                        let rate = if p.arrived > 0 {
                            (p.errors as f64 / p.arrived as f64).min(1.0)
                        } else {
                            0.0
                        };
                        let json = PlaceJson {
                            kind: p.kind,
                            requests: p.arrived,
                            completed: p.completed,
                            error_rate: rate,
                            availability: 1.0 - rate,
                            latency_s: Latency::of(&p.latency),
                            instances_mean: region.then_some(p.instances_mean),
                            cost_usd: region.then_some(p.cost_usd),
                            members: p.members.clone(),
                            served_by: Named(p.served_by.clone()),
                        };
                        (p.name.clone(), json)
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
    // A month projected from a run the runaway guard cut short is not a
    // forecast of anything.
    let month = |usd_measured: f64| {
        r.runaway
            .is_none()
            .then(|| usd_measured / hours * HOURS_PER_MONTH)
    };
    Cost {
        total: r.cost_usd,
        per_1k_requests: if r.completed == 0 {
            0.0
        } else {
            r.cost_measured_usd / r.completed as f64 * 1000.0
        },
        per_hour,
        projected_month: month(r.cost_measured_usd),
        instances: r.cost_usd - r.bill.usd(),
        lines: r
            .bill
            .lines
            .iter()
            .map(|l| BillLineJson {
                component: l.component.clone(),
                item: l.item.clone(),
                quantity: l.quantity,
                unit: l.price.unit,
                unit_usd: l.price.usd,
                usd: l.usd,
                per_month: month(l.measured_usd),
                source: l.price.source,
            })
            .collect(),
        not_priced: r.bill.unpriced.clone(),
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

/// A component's busiest sampling window, and its busiest hour.
#[derive(Clone, Debug, Serialize)]
pub struct Peak {
    /// End of the window, seconds since the start.
    pub at_s: f64,
    /// Length of the window, seconds.
    pub window_s: f64,
    /// Busy slots / slots in the window (components with instances).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utilization: Option<f64>,
    /// Time-averaged queue length in the window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_len: Option<f64>,
    /// 95th percentile of the response times that ended in the window.
    pub p95_s: f64,
    /// 99th percentile of the response times that ended in the window.
    pub p99_s: f64,
    /// Rejected arrivals over arrivals in the window.
    pub error_rate: f64,
    /// Arrivals per second in the window.
    pub arrivals_per_s: f64,
    /// Start of the hour (whole windows) with the most arrivals, seconds.
    pub busiest_hour_start_s: f64,
    /// Arrivals per second over that hour.
    pub busiest_hour_arrivals_per_s: f64,
}

/// The peak of component `name` over the windows after `warmup` s.
fn peak(rows: &[TsRow], name: &str, warmup: f64) -> Option<Peak> {
    let w = peak::windows(rows, name, warmup);
    let top = peak::busiest(&w)?;
    let (hour, hour_rate) = peak::busiest_hour(&w)?;
    let r = top.row;
    Some(Peak {
        at_s: r.t_s,
        window_s: top.len_s(),
        utilization: r.utilization,
        queue_len: r.queue_len,
        p95_s: r.p95_s,
        p99_s: r.p99_s,
        error_rate: top.error_rate(),
        arrivals_per_s: r.arrivals as f64 / top.len_s(),
        busiest_hour_start_s: hour,
        busiest_hour_arrivals_per_s: hour_rate,
    })
}

fn component(c: &ComponentReport, r: &RunReport) -> ComponentJson {
    let measured_s = r.measured_s;
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
        timed_out: c.timed_out,
        failed: c.failed,
        throughput_rps: c.throughput_rps,
        mean_response_s: c.mean_response_s,
        p99_response_s: c.p99_response_s,
        mean_in_system: c.mean_in_system,
        utilization: c.utilization,
        io: c.io,
        credits: c.credits.clone(),
        memory: c.memory.clone(),
        cpu: c.cpu,
        mean_wait_s: c.mean_wait_s,
        mean_queue_len: c.mean_queue_len,
        instances_mean: c.instances.map(|_| c.instances_mean),
        instances_max: c.instances.map(|_| c.instances_max),
        failures: c.failures,
        no_healthy_s: c
            .failures
            .map(|_| c.ready_time_s.first().copied().unwrap_or(0.0)),
        ejections: c.detection_s.as_ref().map(|d| d.len() as u64),
        detection_mean_s: c
            .detection_s
            .as_ref()
            .map(|d| d.iter().sum::<f64>() / d.len().max(1) as f64),
        detection_max_s: c
            .detection_s
            .as_ref()
            .map(|d| d.iter().copied().fold(0.0, f64::max)),
        limited: c.limited,
        spot_interruptions: c.spot_interruptions,
        retries: c.attempts.map(|a| a.retries),
        hedges: c.attempts.map(|a| a.hedges),
        retry_amplification: c.attempts.map(|a| {
            let first = c.arrivals.saturating_sub(a.retries + a.hedges);
            if first == 0 {
                1.0
            } else {
                c.arrivals as f64 / first as f64
            }
        }),
        wasted: c.attempts.map(|a| a.wasted),
        cancelled: c.attempts.map(|a| a.cancelled),
        short_circuited: c.attempts.map(|a| a.short_circuited),
        breaker_opens: c.attempts.map(|a| a.breaker_opens),
        scale_outs: c.instances.map(|_| c.scale_outs),
        scale_ins: c.instances.map(|_| c.scale_ins),
        evictions: (c.evictions > 0).then_some(c.evictions),
        cost_usd: c.cost_usd.unwrap_or(0.0),
        cost_per_month: c
            .cost_measured_usd
            .filter(|_| r.runaway.is_none())
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
        jobs_unfinished: c.jobs.as_ref().map(|j| j.unfinished.len() as u64),
        job_backlog_at_end: c.jobs.as_ref().map(|j| j.backlog_at_end),
        load_at_least: c.load_at_least.map(|l| {
            Named(
                l.iter()
                    .enumerate()
                    .map(|(k, v)| ((k + 1).to_string(), *v))
                    .collect(),
            )
        }),
        peak: peak(&r.timeseries, &c.name, r.simulated_s - r.measured_s),
        hit_ratio: c.hits.map(|h| {
            if lookups == 0 {
                0.0
            } else {
                h as f64 / lookups as f64
            }
        }),
    }
}
