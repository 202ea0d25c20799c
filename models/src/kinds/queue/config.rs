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
}

impl QueueConfig {
    /// Checks the numbers; `Err((field, message))`.
    pub fn check(&self) -> Result<(), (String, String)> {
        if let Some(a) = &self.ack {
            a.check().map_err(|(f, m)| (format!("ack.{f}"), m))?;
        }
        Ok(())
    }
}
