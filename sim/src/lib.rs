//! # scalesim-sim — the domain-free discrete-event engine
//!
//! Everything a discrete-event model needs and nothing about web services:
//!
//! - [`time`]: simulated time as integer nanoseconds ([`Time`]);
//! - [`queue`]: the future-event list, ordered by (time, insertion sequence)
//!   so simultaneous events run in a deterministic order;
//! - [`engine`]: the run loop and the [`Model`] trait a model implements;
//! - [`rng`]: seeded random streams derived from (seed, replication,
//!   component, purpose) with a stable hash;
//! - [`slab`]: an arena with a free list so per-request state is not
//!   allocated per event;
//! - [`stats`]: latency histograms, time-weighted means and batch-means
//!   confidence intervals.
//!
//! Batch service and periodic control events (autoscaler ticks, metric
//! sampling, GPU engine steps) are ordinary events: a model schedules one
//! event for a whole batch held in its own slab, and a periodic task is an
//! event whose handler schedules its next occurrence.

pub mod engine;
pub mod queue;
pub mod rng;
pub mod slab;
pub mod stats;
pub mod time;

pub use engine::{Model, RunOutcome, Scheduler};
pub use queue::EventQueue;
pub use rng::{stream, SimRng};
pub use slab::Slab;
pub use time::{from_secs, to_secs, Time, NS_PER_SEC};
