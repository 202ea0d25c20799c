//! The reports of a run: per component, per request class, the time
//! series, scaling events and the whole run.

use crate::fleet::bill::Bill;
use crate::fleet::pool::LEVELS;
use crate::traffic::Op;
use scalesim_sim::stats::LatencyHist;
use scalesim_sim::Time;

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
    /// Of those, timed out on their path (a `queue_timeout`).
    pub timed_out: u64,
    /// Of those, lost to an instance failure (here, for a component or a window row).
    pub failed: u64,
    /// Their end-to-end latency.
    pub latency: LatencyHist,
    /// Ages at the end of the run of those still in flight then, ascending,
    /// ns (each a lower bound of its latency: censored by the end).
    pub unfinished: Vec<Time>,
    /// Classes with token counts: time to first token and per output
    /// token of their visits to LLM components.
    pub tokens: Option<(LatencyHist, LatencyHist)>,
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
    /// Ages at the end of the run of the accepted jobs not done then
    /// (waiting or being worked on), ascending, ns: lower bounds of their
    /// latency.
    pub unfinished: Vec<Time>,
    /// Jobs (accepted at any time) no worker had started at the end.
    pub backlog_at_end: u64,
}

impl std::fmt::Debug for JobReport {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct("JobReport")
            .field("done", &self.done)
            .field("failed", &self.failed)
            .field("latency_mean_s", &self.latency.mean_s())
            .field("unfinished", &self.unfinished.len())
            .field("backlog_at_end", &self.backlog_at_end)
            .finish()
    }
}

/// One row of the time series: a component (or `_system`) over one window.
#[derive(Clone, Debug, Default, PartialEq)]
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
    /// Visits that gave up waiting in the window (`queue_timeout`).
    pub timed_out: u64,
    /// Of those, lost to an instance failure (here, for a component or a window row).
    pub failed: u64,
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
    /// Computing slots / slots, time-averaged: the CPU (pools).
    pub cpu: Option<f64>,
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
    /// `_system` rows of a run with virtual users: the mean number in the
    /// loop over the window (all sources).
    pub users: Option<f64>,
    /// Pools with `memory`: the ready instances' mean memory use / request
    /// at the window's end (the `memory` metric).
    pub memory: Option<f64>,
    /// Links: billed data transfer in the window, GB.
    pub transfer_gb: Option<f64>,
}

/// The virtual users of one source after warm-up: a closed loop's, or
/// the users its sessions bring.
#[derive(Clone, Debug, PartialEq)]
pub struct UsersReport {
    /// The source.
    pub source: String,
    /// Time-average of the users in the loop.
    pub mean: f64,
    /// The most at once (over the whole run).
    pub max: u32,
    /// Sessions finished (None: the source has no sessions).
    pub sessions: Option<u64>,
}

/// What callers' policies did at a component (see
/// [`crate::flow::resilience`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AttemptCounts {
    /// Attempts that were retries.
    pub retries: u64,
    /// Attempts that were hedges.
    pub hedges: u64,
    /// Answers nobody awaited any more (their caller had timed out, or a
    /// hedge had won): work wasted.
    pub wasted: u64,
    /// Visits dropped unfinished, cancelled by their caller.
    pub cancelled: u64,
    /// Calls an open breaker stopped before they reached it.
    pub short_circuited: u64,
    /// Times the breakers of calls to it opened.
    pub breaker_opens: u64,
}

/// Post-warm-up figures of one component.
#[derive(Clone, Debug, Default)]
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
    /// Visits that gave up waiting here (`queue_timeout`).
    pub timed_out: u64,
    /// Of those, lost to an instance failure (here, for a component or a window row).
    pub failed: u64,
    /// Completions per second.
    pub throughput_rps: f64,
    /// Instance failures after warm-up (fleets with `failures`).
    pub failures: Option<u64>,
    /// Fleets with spot interruptions: notices after warm-up.
    pub spot_interruptions: Option<u64>,
    /// Limiters: requests refused (429) after warm-up.
    pub limited: Option<u64>,
    /// Components called under a timeout, retry or hedge policy: what the
    /// policies did here after warm-up.
    pub attempts: Option<AttemptCounts>,
    /// Fleets with health checks: for each failure after warm-up that the
    /// checks took out of rotation, the delay from the failure (s).
    pub detection_s: Option<Vec<f64>>,
    /// Seconds after warm-up spent with exactly k ready instances, by k
    /// (fleets).
    pub ready_time_s: Vec<f64>,
    /// Busy slot-seconds / (slots x seconds) (pools): threads held
    /// (`io = "blocking"`) or cores computing (`io = "async"`).
    pub utilization: Option<f64>,
    /// Computing slot-seconds / (slots x seconds) (pools): the CPU, which
    /// leaves out a blocking thread's waits on its calls.
    pub cpu: Option<f64>,
    /// A pool's execution model: "blocking" or "async".
    pub io: Option<&'static str>,
    /// A burstable pool's CPU credits.
    pub credits: Option<crate::fleet::credits::CreditsReport>,
    /// A pool's memory.
    pub memory: Option<MemoryReport>,
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
    /// The distribution of that time.
    pub response: LatencyHist,
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
    /// Instances a vertical autoscaler evicted to resize them.
    pub evictions: u32,
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

/// An instance failure or repair, for the marks on the charts.
#[derive(Clone, Debug, PartialEq)]
pub struct Incident {
    /// When, seconds since the start.
    pub t_s: f64,
    /// The component.
    pub component: String,
    /// Its instance index.
    pub instance: u32,
    /// What happened: "failed (replacing)", "failed (repairing)",
    /// "repaired".
    pub what: &'static str,
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
    /// Of those, timed out on their path (a `queue_timeout`).
    pub timed_out: u64,
    /// Of those, lost to an instance failure (here, for a component or a window row).
    pub failed: u64,
    /// Of those, still in flight at the end.
    pub in_flight_at_end: u64,
    /// End-to-end latency of completed counted requests.
    pub latency: LatencyHist,
    /// Ages at the end of the counted requests still in flight then,
    /// ascending, ns.
    pub unfinished: Vec<Time>,
    /// Per-component figures, in configuration order.
    pub components: Vec<ComponentReport>,
    /// The time series.
    pub timeseries: Vec<TsRow>,
    /// Set when the in-flight cap stopped the run.
    pub runaway: Option<Runaway>,
    /// Engine events handled.
    pub events: u64,
    /// The whole bill for the run, USD: every priced component's
    /// instance-hours and the lines of `bill`.
    pub cost_usd: f64,
    /// Cost accrued after warm-up, USD.
    pub cost_measured_usd: f64,
    /// What was bought besides instance-hours, and what is not priced.
    pub bill: Bill,
    /// Per request class, in source and mix order.
    pub classes: Vec<ClassReport>,
    /// Every change of desired capacity, in time order.
    pub scaling_events: Vec<ScalingEvent>,
    /// Every instance failure and repair, in time order.
    pub incidents: Vec<Incident>,
    /// Per minute after warm-up: counted requests answered in it, and
    /// those that ended in an error in it.
    pub minutes: Vec<[u32; 2]>,
    /// Per source with virtual users (closed loops and sessions).
    pub users: Vec<UsersReport>,
    /// Per region, then per client area (empty without regions).
    pub regions: Vec<super::regions::PlaceReport>,
}

/// Requests (or visits) that ended in an error: rejected, timed out or
/// lost to a failure — the numerator of every error rate.
macro_rules! errors {
    ($($T:ty: $rejected:ident),*) => {$(
        impl $T {
            /// Rejected + timed out + failed.
            pub fn errors(&self) -> u64 {
                self.$rejected + self.timed_out + self.failed
            }
        }
    )*};
}

errors!(ClassReport: rejected, RunReport: rejected, TsRow: rejections, ComponentReport: rejections);

/// What a pool's instances held in memory (see [`crate::fleet::memory`]).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct MemoryReport {
    /// The memory request per instance, MiB.
    pub request_mib: f64,
    /// The limit per instance, MiB.
    pub limit_mib: f64,
    /// The most an instance held (up to its limit), MiB.
    pub peak_mib: f64,
    /// Instances killed for going over the limit.
    pub oom_kills: u64,
}
