//! # scalesim-models — the component models
//!
//! The layers (see `docs/architecture.md`), each file stating what it
//! models and which reference it follows:
//!
//! - [`flow`]: the [`flow::Component`] interface every kind implements,
//!   the actions a kind emits, and the router that carries them out — the
//!   system as one [`scalesim_sim::Model`];
//! - [`kinds`]: the registry of component kinds and one folder or file per
//!   kind: [`kinds::pool`] (servers behind a queue or a balancer),
//!   [`kinds::cache`] (LRU / FIFO / LFU / RANDOM stores with TTL, shared or
//!   per instance, coalescing), [`kinds::queue`] (asynchronous jobs),
//!   [`kinds::database`] (primary, read replicas, replication lag),
//!   [`kinds::shards`] (key routing, scatter-gather), [`kinds::serving`]
//!   (LLM replicas on GPUs — static, continuous and chunked-prefill
//!   batching over a paged KV cache, the GPU and model catalogs, the
//!   roofline step time — and Triton-style dynamic batching);
//! - [`fleet`]: instances and their lifecycle ([`fleet::pool`]), balancing
//!   over them ([`fleet::balance`]), prices and bills ([`fleet::cost`]),
//!   and the autoscaler pipeline;
//! - [`measure`]: counters, the measurements common to every component,
//!   time-series rows and the run's report;
//! - [`policy`]: the interface every scaling policy implements, and the
//!   policies: [`policy::hpa`] (the Kubernetes HorizontalPodAutoscaler,
//!   autoscaling/v2), [`policy::aws`] (AWS simple, step and
//!   target-tracking scaling), [`policy::schedule`] (static and scheduled
//!   capacity), [`policy::predictive`] (seasonal-naive forecast,
//!   provisioned ahead);
//! - [`traffic`]: request sources (Poisson / deterministic, Zipf keys,
//!   request classes, traces), rate patterns ([`traffic::pattern`]),
//!   calendars ([`traffic::calendar`]) and token laws
//!   ([`traffic::tokens`]);
//! - [`system`]: the system as configured and the checks before a run;
//! - [`dist`]: service-time laws; [`units`]: durations in scenario files.

pub mod dist;
pub mod fleet;
pub mod flow;
pub mod kinds;
pub mod limits;
pub mod measure;
pub mod plain;
pub mod policy;
pub mod regions;
pub mod system;
pub mod traffic;
pub mod units;

pub use system::{ComponentConfig, RunReport, System, SystemConfig};
