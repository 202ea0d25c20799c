//! A dynamic batcher in front of a non-LLM model (speech-to-text, vision,
//! embeddings): each instance serves one batch at a time, and a batch of
//! `n` requests takes `base + per_item x n`.
//!
//! Follows NVIDIA Triton Inference Server's dynamic batcher: when the
//! model instance is free it takes up to `max_batch` queued requests at
//! once; with fewer queued it waits until the oldest has waited
//! `max_queue_delay` for more to arrive (0: take what is there).
//!
//! With `max_queue_delay = 0` and a constant batch time this is the bulk
//! service queue M/D^(1,b)/1 (Bailey 1954); the embedded chain at batch
//! ends, Q' = max(Q - b, 0) + A with A ~ Poisson(lambda D), gives its
//! exact mean wait (see `tests/validation_llm.rs`).

use crate::fleet::balance::Policy;
use crate::fleet::config::{fleet_config, fleet_pool};
use crate::fleet::pool::PoolConfig;
use crate::kinds::serving::replica::Plan;
use crate::units::Duration;
use scalesim_sim::{from_secs, Time};
use serde::Deserialize;
use std::collections::VecDeque;

fleet_config! {
    /// `[components.<name>]` with `kind = "batch"`.
    #[derive(Clone, Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    pub struct BatchConfig {
        /// Always "batch" (read by the scenario loader to pick this type).
        #[serde(default)]
        pub kind: Option<String>,
        /// Model instances, each batching on its own.
        pub instances: u32,
        /// Most requests in one batch.
        pub max_batch: u32,
        /// Longest wait of the oldest queued request for a fuller batch.
        #[serde(default)]
        pub max_queue_delay: Duration,
        /// Time of a batch: `base` ...
        pub base: Duration,
        /// ... plus `per_item` for each request in it.
        #[serde(default)]
        pub per_item: Duration,
        /// Most requests waiting per instance; absent = unbounded.
        #[serde(default)]
        pub queue_capacity: Option<u64>,
        /// How requests are spread over instances (default `least_conn`).
        #[serde(default = "default_balance")]
        pub balance: Policy,
        /// Catalog instance type, for cost.
        #[serde(default)]
        pub instance_type: Option<String>,
        @provision,
        @monitor,
    }
}

fn default_balance() -> Policy {
    Policy::LeastConn
}

impl BatchConfig {
    /// Checks the numbers; `Err((field, message))`.
    pub fn check(&self) -> Result<(), (String, String)> {
        if self.instances == 0 {
            return Err(("instances".into(), "expected at least 1 instance".into()));
        }
        if self.instances > crate::fleet::pool::MAX_INSTANCES {
            return Err((
                "instances".into(),
                format!(
                    "at most {} instances (each is simulated)",
                    crate::fleet::pool::MAX_INSTANCES
                ),
            ));
        }
        if self.max_batch == 0 {
            return Err(("max_batch".into(), "expected at least 1".into()));
        }
        let ok = |d: Duration| d.secs() >= 0.0 && d.secs().is_finite();
        if !ok(self.max_queue_delay) {
            return Err((
                "max_queue_delay".into(),
                "expected a time >= 0 (0: take what is queued at once)".into(),
            ));
        }
        if !ok(self.base) || !ok(self.per_item) {
            return Err((
                "base".into(),
                "batch times and the queue delay must be >= 0 (a batch takes base + per_item x n)"
                    .into(),
            ));
        }
        if self.base.secs() + self.per_item.secs() <= 0.0 {
            return Err((
                "base".into(),
                "a batch must take some time: base + per_item > 0".into(),
            ));
        }
        if let Some(p) = &self.provision_time {
            p.check()
                .map_err(|(f, m)| (format!("provision_time.{f}"), m))?;
        }
        crate::fleet::pool::check_engine_balance(self.balance)
    }

    /// The instances' lifecycle as a pool of one slot per instance.
    pub fn pool(&self) -> PoolConfig {
        PoolConfig {
            instance_type: self.instance_type.clone(),
            ..fleet_pool!(self, PoolConfig::engine_slots(self.instances, self.balance))
        }
    }
}

/// One model instance: its queue and the batch in service.
pub struct Batcher {
    max_batch: u32,
    delay: Time,
    base: f64,
    per_item: f64,
    capacity: Option<u64>,
    /// Waiting (visit, arrival).
    queue: VecDeque<(u32, Time)>,
    /// The batch in service.
    running: Vec<u32>,
    /// Requests in the running batch (0 when idle).
    pub batch: u32,
}

impl Batcher {
    /// An idle instance.
    pub fn new(c: &BatchConfig) -> Batcher {
        Batcher {
            max_batch: c.max_batch,
            delay: c.max_queue_delay.time(),
            base: c.base.secs(),
            per_item: c.per_item.secs(),
            capacity: c.queue_capacity,
            queue: VecDeque::new(),
            running: Vec::with_capacity(c.max_batch as usize),
            batch: 0,
        }
    }

    /// Queues visit `visit` arrived at `now`; false when the queue is full.
    pub fn push(&mut self, visit: u32, now: Time) -> bool {
        if self.capacity.is_some_and(|c| self.queue.len() as u64 >= c) {
            return false;
        }
        self.queue.push_back((visit, now));
        true
    }

    /// The visits it holds, waiting or in the batch (lost when the
    /// instance fails).
    pub fn visits(&self) -> Vec<u32> {
        self.queue
            .iter()
            .map(|q| q.0)
            .chain(self.running.iter().copied())
            .collect()
    }

    /// Requests waiting.
    pub fn waiting(&self) -> usize {
        self.queue.len()
    }

    /// A batch is in service.
    pub fn stepping(&self) -> bool {
        self.batch > 0
    }

    /// Chooses what to do at `now` when no batch is in service.
    pub fn plan(&mut self, now: Time) -> Plan {
        let Some(&(_, oldest)) = self.queue.front() else {
            return Plan::Idle;
        };
        let full = self.queue.len() as u32 >= self.max_batch;
        let due = oldest.saturating_add(self.delay);
        if !full && now < due {
            return Plan::Wait(due);
        }
        let n = (self.queue.len() as u32).min(self.max_batch);
        self.running.clear();
        self.running
            .extend(self.queue.drain(..n as usize).map(|(v, _)| v));
        self.batch = n;
        Plan::Step(from_secs(self.base + self.per_item * n as f64).max(1))
    }

    /// Ends the batch in service: its visits, in queue order, go to `out`.
    pub fn finish(&mut self, out: &mut Vec<u32>) {
        out.extend_from_slice(&self.running);
        self.running.clear();
        self.batch = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(delay: &str) -> BatchConfig {
        serde_yaml_ng::from_str(&format!(
            "instances: 1\nmax_batch: 3\nmax_queue_delay: {delay}\nbase: 10ms\nper_item: 5ms"
        ))
        .unwrap()
    }

    #[test]
    fn full_batches_start_at_once_partial_ones_after_the_delay() {
        let mut b = Batcher::new(&cfg("20ms"));
        b.push(1, 0);
        assert_eq!(b.plan(0), Plan::Wait(20_000_000));
        b.push(2, 1);
        b.push(3, 2);
        b.push(4, 3);
        // Full: 3 taken, 10 + 3 x 5 ms.
        assert_eq!(b.plan(3), Plan::Step(25_000_000));
        let mut out = Vec::new();
        b.finish(&mut out);
        assert_eq!(out, vec![1, 2, 3]);
        // One left, queued at 3 ns: it has waited past the delay, so it
        // starts at once.
        assert_eq!(b.plan(25_000_000), Plan::Step(15_000_000));
        let mut b = Batcher::new(&cfg("0s"));
        b.push(9, 0);
        assert_eq!(b.plan(0), Plan::Step(15_000_000));
    }

    #[test]
    fn bad_numbers_are_named() {
        let mut c = cfg("0s");
        c.max_batch = 0;
        assert_eq!(c.check().unwrap_err().0, "max_batch");
        let mut c = cfg("0s");
        c.base = Duration(0.0);
        c.per_item = Duration(0.0);
        assert_eq!(c.check().unwrap_err().0, "base");
    }
}
