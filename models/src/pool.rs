//! A pool of identical servers: `instances` x `concurrency` slots fed by one
//! FIFO queue, with an optional queue capacity (0 = no waiting room, a
//! loss system). A request holds its slot for its own service time and
//! then for each downstream call in `calls`, in order.
//!
//! With exponential service and no calls this is the M/M/c queue (Erlang C;
//! Kleinrock, *Queueing Systems* vol. 1, §3.5), with `queue_capacity = 0`
//! the M/G/c/c loss system (Erlang B, insensitive to the service law), and
//! with one slot and a general law M/G/1 (Pollaczek-Khinchine).

use crate::cost::{Pricing, SpotConfig};
use crate::dist::{Dist, DistConfig};
use scalesim_sim::{SimRng, Time};
use serde::Deserialize;
use std::collections::VecDeque;

/// `[components.<name>]` with `kind = "pool"`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PoolConfig {
    /// Always "pool" (read by the scenario loader to pick this type).
    #[serde(default)]
    pub kind: Option<String>,
    /// Number of instances (servers).
    pub instances: u32,
    /// Requests one instance serves at once.
    #[serde(default = "one")]
    pub concurrency: u32,
    /// Service-time law of the local work.
    pub service: DistConfig,
    /// Waiting room; absent = unbounded, 0 = none.
    #[serde(default)]
    pub queue_capacity: Option<u64>,
    /// Downstream components called in order after the local service,
    /// while holding the slot.
    #[serde(default)]
    pub calls: Vec<String>,
    /// Catalog instance type, for cost (see [`crate::cost`]).
    #[serde(default)]
    pub instance_type: Option<String>,
    /// Price per instance-hour, USD (wins over the catalog).
    #[serde(default)]
    pub price_per_hour: Option<f64>,
    /// Share of instances on spot, and its discount.
    #[serde(default)]
    pub spot: Option<SpotConfig>,
}

fn one() -> u32 {
    1
}

impl PoolConfig {
    /// Total service slots (instances x concurrency).
    pub fn slots(&self) -> u64 {
        self.instances as u64 * self.concurrency as u64
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
        if self.instances == 0 {
            return Err(("instances".into(), "expected at least 1 instance".into()));
        }
        if self.concurrency == 0 {
            return Err((
                "concurrency".into(),
                "expected at least 1 request per instance".into(),
            ));
        }
        self.service
            .check()
            .map_err(|(f, m)| (format!("service.{f}"), m))
    }
}

/// What happened to a request arriving at a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// A slot was free: start service now.
    Start,
    /// All slots busy: it waits in the FIFO queue.
    Queued,
    /// All slots busy and the queue is full: rejected.
    Rejected,
}

/// The running pool: busy-slot count and the FIFO of waiting visits.
pub struct Pool {
    slots: u64,
    busy: u64,
    capacity: Option<u64>,
    queue: VecDeque<u32>,
    service: Dist,
    rng: SimRng,
}

impl Pool {
    /// Builds a pool from its (checked) configuration.
    pub fn new(cfg: &PoolConfig, rng: SimRng) -> Self {
        Pool {
            slots: cfg.slots(),
            busy: 0,
            capacity: cfg.queue_capacity,
            queue: VecDeque::with_capacity(1024),
            service: cfg.service.sampler(),
            rng,
        }
    }

    /// A visit arrives: take a slot, queue it, or reject it.
    #[inline]
    pub fn admit(&mut self, visit: u32) -> Admission {
        if self.busy < self.slots {
            self.busy += 1;
            Admission::Start
        } else if self.capacity.is_none_or(|c| (self.queue.len() as u64) < c) {
            self.queue.push_back(visit);
            Admission::Queued
        } else {
            Admission::Rejected
        }
    }

    /// A slot is released; returns the next waiting visit, which now holds it.
    #[inline]
    pub fn release(&mut self) -> Option<u32> {
        match self.queue.pop_front() {
            Some(v) => Some(v),
            None => {
                self.busy -= 1;
                None
            }
        }
    }

    /// Draws a local service time.
    #[inline]
    pub fn service_time(&mut self) -> Time {
        self.service.sample(&mut self.rng)
    }

    /// Busy slots.
    pub fn busy(&self) -> u64 {
        self.busy
    }

    /// Total slots.
    pub fn slots(&self) -> u64 {
        self.slots
    }

    /// Waiting visits.
    pub fn queue_len(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Duration;

    fn pool(slots: u32, cap: Option<u64>) -> Pool {
        let cfg = PoolConfig {
            kind: None,
            instances: slots,
            concurrency: 1,
            service: DistConfig::Const {
                value: Duration(1.0),
            },
            queue_capacity: cap,
            calls: vec![],
            instance_type: None,
            price_per_hour: None,
            spot: None,
        };
        Pool::new(&cfg, scalesim_sim::stream(0, 0, "p", "s"))
    }

    #[test]
    fn fifo_admission_and_release() {
        let mut p = pool(1, Some(1));
        assert_eq!(p.admit(10), Admission::Start);
        assert_eq!(p.admit(11), Admission::Queued);
        assert_eq!(p.admit(12), Admission::Rejected);
        assert_eq!(p.release(), Some(11));
        assert_eq!(p.busy(), 1);
        assert_eq!(p.release(), None);
        assert_eq!(p.busy(), 0);
    }

    #[test]
    fn loss_system_has_no_waiting_room() {
        let mut p = pool(2, Some(0));
        assert_eq!(p.admit(1), Admission::Start);
        assert_eq!(p.admit(2), Admission::Start);
        assert_eq!(p.admit(3), Admission::Rejected);
    }
}
