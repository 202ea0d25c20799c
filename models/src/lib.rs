//! # scalesim-models — the component models
//!
//! One file per model (a folder where a model has several parts), each
//! stating what it models and which reference it follows:
//!
//! - [`traffic`]: request sources (Poisson / deterministic, Zipf keys,
//!   request classes, traces);
//! - [`pattern`]: daily, weekly, event, growth and burst rate factors;
//! - [`calendar`]: local dates and time zones of simulated time;
//! - [`pool`]: instances x concurrency slots behind one FIFO queue, or
//!   per-instance queues fed by a [`balance`] policy;
//! - [`cache`]: LRU / FIFO / LFU / RANDOM caches with TTL and miss forwarding;
//! - [`llm`]: LLM model-server replicas on GPUs: static, continuous and
//!   chunked-prefill batching, paged KV cache, preemption by recompute;
//! - [`batch`]: a Triton-style dynamic batcher for non-LLM models;
//! - [`tokens`]: prompt and output token-count laws of LLM requests;
//! - [`queue`]: an asynchronous job queue in front of a worker pool;
//! - [`database`]: a primary and read replicas with replication lag;
//! - [`shards`]: a sharded store routing keys to shard pools, scatter-gather;
//! - [`balance`]: load balancing policies over a pool's instances;
//! - [`policy`]: the interface every scaling policy implements, and the
//!   policies: [`policy::hpa`] (the Kubernetes HorizontalPodAutoscaler,
//!   autoscaling/v2), [`policy::aws`] (AWS simple, step and
//!   target-tracking scaling), [`policy::schedule`] (static and scheduled
//!   capacity), [`policy::predictive`] (seasonal-naive forecast,
//!   provisioned ahead);
//! - [`cost`]: instance catalog, billing, spot;
//! - [`gpu`]: GPU and transformer-model catalogs, parameter and KV bytes;
//! - [`roofline`]: the step time of a batch on GPUs, the KV-cache memory plan;
//! - [`dist`]: service-time laws; [`units`]: durations in scenario files;
//! - [`system`]: the components wired into one [`scalesim_sim::Model`], the
//!   request flow between them, and the measurements of a run.

pub mod balance;
pub mod batch;
pub mod cache;
pub mod calendar;
pub mod cost;
pub mod database;
pub mod dist;
pub mod gpu;
pub mod llm;
pub mod pattern;
pub mod policy;
pub mod pool;
pub mod queue;
pub mod roofline;
pub mod shards;
pub mod system;
pub mod tokens;
pub mod traffic;
pub mod units;

/// The paths of the policies before they moved under [`policy`].
pub use policy::{aws, hpa, predictive, schedule};

/// The old name of [`policy`] (the scaling interface).
pub use policy as autoscaler;

pub use system::{ComponentConfig, RunReport, System, SystemConfig};
