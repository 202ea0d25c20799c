//! Measurements: the cumulative counters snapshotted at warm-up, at every
//! sampling instant and at every autoscaler metric window (a window's
//! figures are differences of snapshots, so nothing is reset or counted
//! twice), the measurements common to every component, and the reports a
//! run returns.

mod collect;
pub mod peak;
pub mod regions;
mod report;

pub use report::*;

use scalesim_sim::stats::{LatencyHist, Tally, TimeAvg};
use scalesim_sim::Time;

/// Cumulative counters of one component (or of the whole system).
#[derive(Clone, Copy, Default, Debug)]
pub struct Counters {
    pub arrivals: u64,
    pub completions: u64,
    pub rejections: u64,
    /// Visits that gave up waiting here (`queue_timeout`).
    pub timed_out: u64,
    /// Visits lost here to an instance failure.
    pub failed: u64,
    /// Attempts here that were retries, or hedges; answers wasted here;
    /// visits cancelled here (see [`crate::flow::attempts`]).
    pub retries: u64,
    pub hedges: u64,
    pub wasted: u64,
    pub cancelled: u64,
    pub short_circuited: u64,
    pub hits: u64,
    pub misses: u64,
    pub coalesced: u64,
    pub writes: u64,
    pub stale_reads: u64,
    pub primary_reads: u64,
    pub busy: f64,
    /// Computing slots x time: CPU (see [`Stats::cpu`]).
    pub cpu: f64,
    pub queue: f64,
    pub in_system: f64,
    /// Ready slots x time (pools).
    pub slots: f64,
    /// Ready instances x time (pools).
    pub ready: f64,
    /// Sum of response times of completed visits, seconds.
    pub resp_sum: f64,
    /// Serving components: tokens out and in, preemptions, and the
    /// integrals of KV blocks used and available and of batch sizes.
    pub tokens_out: u64,
    pub tokens_in: u64,
    pub preemptions: u64,
    pub kv_used: f64,
    pub kv_total: f64,
    pub batch: f64,
    /// Links: billed bytes that crossed them, GB.
    pub transfer_gb: f64,
}

impl Counters {
    /// These counters less `o` (the figures of the span between them).
    pub fn minus(&self, o: &Counters) -> Counters {
        Counters {
            arrivals: self.arrivals - o.arrivals,
            completions: self.completions - o.completions,
            rejections: self.rejections - o.rejections,
            timed_out: self.timed_out - o.timed_out,
            failed: self.failed - o.failed,
            retries: self.retries - o.retries,
            hedges: self.hedges - o.hedges,
            wasted: self.wasted - o.wasted,
            cancelled: self.cancelled - o.cancelled,
            short_circuited: self.short_circuited - o.short_circuited,
            hits: self.hits - o.hits,
            misses: self.misses - o.misses,
            coalesced: self.coalesced - o.coalesced,
            writes: self.writes - o.writes,
            stale_reads: self.stale_reads - o.stale_reads,
            primary_reads: self.primary_reads - o.primary_reads,
            busy: self.busy - o.busy,
            cpu: self.cpu - o.cpu,
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
            transfer_gb: self.transfer_gb - o.transfer_gb,
        }
    }
}

/// What the router measures of every component (or of the whole system):
/// visits in and out, their response times, and the occupancy integrals
/// that fleets and queues keep.
#[derive(Default)]
pub struct Stats {
    /// Visits that arrived.
    pub arrivals: u64,
    /// Visits that completed.
    pub completions: u64,
    /// Visits rejected here.
    pub rejections: u64,
    /// Visits that gave up waiting here (`queue_timeout`).
    pub timed_out: u64,
    /// Visits lost here to an instance failure.
    pub failed: u64,
    /// Attempts here that were retries ([`crate::flow::resilience`]).
    pub retries: u64,
    /// Attempts here that were hedges.
    pub hedges: u64,
    /// Answers given here that nobody awaited any more (the caller timed
    /// out, or a hedge won): work wasted.
    pub wasted: u64,
    /// Visits dropped here unfinished, cancelled by their caller.
    pub cancelled: u64,
    /// Calls to this component an open circuit breaker stopped.
    pub short_circuited: u64,
    /// Busy slots (fleets; stepping instances for batch servers).
    pub busy: TimeAvg,
    /// Slots computing: the CPU. A pool's blocking thread awaiting a call
    /// is busy but not computing; an async pool's busy cores compute. A
    /// batch server's engine computes while it steps.
    pub cpu: TimeAvg,
    /// Visits (or jobs) waiting.
    pub queue: TimeAvg,
    /// Visits in progress, queued or held.
    pub in_system: TimeAvg,
    /// Ready slots (fleets).
    pub slots: TimeAvg,
    /// Ready instances (fleets).
    pub ready: TimeAvg,
    /// Most ready instances at once.
    pub ready_max: u32,
    /// Time at each count of ready instances (fleets).
    pub ready_time: ReadyTime,
    /// Sum of response times of completed visits, seconds.
    pub resp_sum: f64,
    /// Bills of instances that are gone, USD.
    pub closed_cost: f64,
    /// Scale-out decisions.
    pub scale_outs: u32,
    /// Scale-in decisions.
    pub scale_ins: u32,
    /// Instances a vertical autoscaler evicted to resize them.
    pub evictions: u32,
    /// Response times in the current autoscaler metric window (components
    /// with an autoscaler only).
    pub scaler_window: Option<LatencyHist>,
    /// The autoscaler's latest load forecast (forecasting policies).
    pub forecast: Option<f64>,
    /// Response times of visits entered after warm-up.
    pub response: LatencyHist,
    /// Waits for a slot (or a worker) of visits entered after warm-up.
    pub wait: Tally,
    /// Response times in the current sampling window.
    pub window: LatencyHist,
    /// Waits in the current sampling window.
    pub window_wait: Tally,
    /// Counters at the end of warm-up.
    pub at_warmup: Counters,
    /// Counters at the last sampling instant.
    pub at_sample: Counters,
}

/// Time spent at each count of ready instances after warm-up: the
/// distribution whose tail is the fleet's k-of-n availability.
#[derive(Default)]
pub struct ReadyTime {
    since: Time,
    ready: u32,
    secs: Vec<f64>,
}

impl ReadyTime {
    /// From `t` on, `ready` instances are ready (time before `warmup` is
    /// not counted).
    pub fn set(&mut self, t: Time, warmup: Time, ready: u32) {
        self.close(t, warmup);
        self.ready = ready;
    }

    fn close(&mut self, t: Time, warmup: Time) {
        let from = self.since.max(warmup);
        if t > from {
            let k = self.ready as usize;
            if self.secs.len() <= k {
                self.secs.resize(k + 1, 0.0);
            }
            self.secs[k] += scalesim_sim::to_secs(t - from);
        }
        self.since = self.since.max(t);
    }

    /// Seconds at each count, by count, up to `end`.
    pub fn until(&self, end: Time, warmup: Time) -> Vec<f64> {
        let mut me = ReadyTime {
            since: self.since,
            ready: self.ready,
            secs: self.secs.clone(),
        };
        me.close(end, warmup);
        me.secs
    }
}

impl Stats {
    /// The common counters now (a kind adds its own, see
    /// [`crate::flow::Component::counters`]).
    pub fn counters(&self, now: Time) -> Counters {
        Counters {
            arrivals: self.arrivals,
            completions: self.completions,
            rejections: self.rejections,
            timed_out: self.timed_out,
            failed: self.failed,
            retries: self.retries,
            hedges: self.hedges,
            wasted: self.wasted,
            cancelled: self.cancelled,
            short_circuited: self.short_circuited,
            busy: self.busy.integral(now),
            cpu: self.cpu.integral(now),
            queue: self.queue.integral(now),
            in_system: self.in_system.integral(now),
            slots: self.slots.integral(now),
            ready: self.ready.integral(now),
            resp_sum: self.resp_sum,
            ..Counters::default()
        }
    }
}
