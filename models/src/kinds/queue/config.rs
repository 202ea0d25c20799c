//! An asynchronous job queue (an SQS / RabbitMQ-like broker) in front of a
//! worker pool.
//!
//! A caller's visit is answered as soon as its job is accepted (after the
//! optional `ack` latency), so the caller does not wait for the work. The
//! job then runs on its own through the `workers` pool (and whatever that
//! pool calls). The queue's depth is the number of accepted jobs that no
//! worker has started yet; a bounded queue (`capacity`) refuses a job when
//! its depth has reached the bound, and the caller sees a rejection.
//!
//! With Poisson arrivals and exponential work on c workers the depth and
//! the job wait are those of M/M/c (Erlang C), and with a bound K the
//! refused share is the blocking probability of M/M/c/(c+K) (Kleinrock,
//! *Queueing Systems* vol. 1, §3.5-3.7); Little's law ties the mean depth
//! to the job rate times the mean job wait.

use crate::dist::DistConfig;
use crate::fleet::bill::ManagedQueue;
use serde::Deserialize;

/// `[components.<name>]` with `kind = "queue"`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct QueueConfig {
    /// Always "queue" (read by the scenario loader to pick this type).
    #[serde(default)]
    pub kind: Option<String>,
    /// The pool whose instances work the jobs off.
    pub workers: String,
    /// Most jobs waiting for a worker; absent = unbounded.
    #[serde(default)]
    pub capacity: Option<u64>,
    /// Time to accept a job, which the caller waits (default: none).
    #[serde(default)]
    pub ack: Option<DistConfig>,
    /// A managed broker billed per request (`"sqs"`, `"sqs_fifo"`); absent:
    /// a broker of your own, not priced.
    #[serde(default)]
    pub managed: Option<ManagedQueue>,
    /// Payload of a job, KB (SQS bills each 64 KB chunk as a request).
    #[serde(default = "default_message_kb")]
    pub message_kb: f64,
}

fn default_message_kb() -> f64 {
    1.0
}

impl QueueConfig {
    /// Checks the numbers; `Err((field, message))`.
    pub fn check(&self) -> Result<(), (String, String)> {
        if let Some(a) = &self.ack {
            a.check().map_err(|(f, m)| (format!("ack.{f}"), m))?;
        }
        // An SQS message is at most 256 KiB (SQS quotas).
        if !(self.message_kb.is_finite() && (0.0..=256.0).contains(&self.message_kb)) {
            return Err((
                "message_kb".into(),
                format!(
                    "expected KB per job between 0 and 256 (the SQS message limit), got {}",
                    self.message_kb
                ),
            ));
        }
        Ok(())
    }
}
