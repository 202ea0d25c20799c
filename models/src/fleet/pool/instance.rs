//! One instance of a pool: its phase in life, the slots it holds, and
//! what it is billed as.

use super::Phase;
use scalesim_sim::Time;

/// One instance of a pool.
#[derive(Debug, Clone, Copy)]
pub struct Instance {
    /// Where it is in its life.
    pub phase: Phase,
    /// When it was requested (billing starts).
    pub requested_at: Time,
    /// When it became ready (or `Time::MAX`).
    pub ready_at: Time,
    /// Busy slots: threads held (`io = "blocking"`), or cores computing
    /// (`io = "async"`).
    pub busy: u32,
    /// `io = "async"`: requests it holds that hold no core (awaiting a
    /// call); 0 when blocking.
    pub(super) away: u32,
    /// Entries of its current generation in the fleet's free-slot stack.
    pub(super) offered: u32,
    /// Requests computing (in a CPU step), and its integral: the CPU a pod
    /// reports, which leaves out the time a blocking thread waits on a call.
    pub(super) cpu: Level,
    /// Busy slot-nanoseconds so far (for per-instance utilization).
    pub(super) busy_area: f64,
    pub(super) last_change: Time,
    /// Bumped whenever the instance leaves Ready, so stale free-slot
    /// entries can be recognised.
    pub(super) generation: u32,
    /// Failures of this slot index so far: a request that started on it
    /// under another count was lost to a failure.
    pub(super) lives: u32,
    /// Its availability zone (index into the fleet's `zones`; 0 without).
    pub zone: u8,
    /// In the balancer's rotation (behind a balancer): ready, or failed
    /// and not yet seen by the health checks.
    pub(super) listed: bool,
    /// A spot instance (billed at the spot discount; may be interrupted:
    /// see [`crate::fleet::spot`]).
    pub spot: bool,
    /// EC2 reclaimed it (a spot interruption).
    pub interrupted: bool,
    /// Launched on demand in place of a reclaimed spot instance.
    pub fallback: bool,
    /// When it last failed (or `Time::MAX`).
    pub failed_at: Time,
    /// Taken out by the balancer's passive checks: out of the rotation
    /// until the ejection ends, even if it works again before.
    pub(super) ejected: bool,
    /// The speed its CPU steps start at: 1, or a burstable instance's
    /// baseline once its credits ran out (see [`crate::fleet::credits`]).
    pub(super) speed: f64,
    /// Its slots: threads, or an async instance's cores (the pool's
    /// `concurrency`, or the size a vertical autoscaler gave it).
    pub(super) cores: u32,
    /// Restarts in a row after crashes (OOM kills), for Kubernetes'
    /// CrashLoopBackOff (see [`super::Pool::restart_delay`]).
    pub(super) crashes: u8,
    /// Its size over the configured one: what its price is multiplied by
    /// (a pod's share of its node).
    pub size: f64,
}

impl Instance {
    /// Generation of this slot index (changes when the index is reused or
    /// the instance leaves Ready), to recognise stale lifecycle events.
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// In the balancer's rotation (behind a balancer).
    pub fn listed(&self) -> bool {
        self.listed
    }

    /// Failures of this instance slot so far (see [`Pool::fail`]).
    pub fn lives(&self) -> u32 {
        self.lives
    }

    /// Its slots (see [`Instance::cores`]).
    pub fn slots(&self) -> u32 {
        self.cores
    }

    /// Requests it holds, computing or not.
    pub fn in_flight(&self) -> u32 {
        self.busy + self.away
    }

    /// Requests computing now.
    pub fn computing(&self) -> u32 {
        self.cpu.n
    }

    /// Computing-request-nanoseconds up to `now` (CPU time).
    pub fn cpu_integral(&self, now: Time) -> f64 {
        self.cpu.integral(now)
    }

    /// Busy slot-nanoseconds up to `now`.
    pub fn busy_integral(&self, now: Time) -> f64 {
        self.busy_area + self.busy as f64 * now.saturating_sub(self.last_change) as f64
    }

    /// Whether it is billed now (requested and not terminated).
    pub fn billed(&self) -> bool {
        !matches!(self.phase, Phase::Gone | Phase::Failed)
    }

    /// A slot of this instance, not ready, was released (`busy` already
    /// counts it): a draining instance is gone with its last request (true:
    /// close its bill), a failed one too (its bill closed when it failed);
    /// one down for repair keeps its index.
    pub(super) fn unready_release(&mut self) -> bool {
        if self.in_flight() > 0 {
            return false;
        }
        match self.phase {
            Phase::Draining => {
                self.phase = Phase::Gone;
                true
            }
            Phase::Failed => {
                self.phase = Phase::Gone;
                false
            }
            _ => false,
        }
    }

    pub(super) fn set_busy(&mut self, now: Time, busy: u32) {
        self.busy_area = self.busy_integral(now);
        self.last_change = now;
        self.busy = busy;
    }
}

/// A count over time and its integral (count-nanoseconds).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Level {
    pub(super) n: u32,
    area: f64,
    since: Time,
}

impl Level {
    /// The integral up to `now`.
    pub(super) fn integral(&self, now: Time) -> f64 {
        self.area + self.n as f64 * now.saturating_sub(self.since) as f64
    }

    /// The count changes by `d` at `now`.
    #[inline]
    pub(super) fn add(&mut self, now: Time, d: i32) {
        self.area = self.integral(now);
        self.since = now;
        self.n = self.n.wrapping_add_signed(d);
    }
}
