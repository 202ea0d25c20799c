//! Every bound on what one scenario, trace, policy replay or sweep may ask
//! for, in one place. No real use comes near them; they exist so that no
//! input — a typo, a fuzzed file, a value off by a factor of 10^6 — can
//! exhaust memory or run for days: a value past a bound is refused when the
//! file is loaded, with the field, the bound and the reason
//! (`docs/scenario-reference.md`, "Bounds", lists them for users).
//!
//! Counts of things held in memory bound memory; counts of things done
//! (arrivals, evaluations, samples) bound run time.

pub use crate::fleet::pool::{MAX_INSTANCES, MAX_SLOTS};
pub use crate::kinds::serving::llm::{MAX_BLOCKS, MAX_LEN};
pub use crate::system::{MAX_IN_FLIGHT, MAX_WINDOWS};
pub use crate::traffic::MAX_RATE;

/// Most instances all fleets of a system together may reach (each
/// instance is tracked, billed and sampled).
pub const MAX_TOTAL_INSTANCES: u64 = 1_000_000;

/// Most time-series rows one run keeps: windows x (components + 1). Every
/// row is held until the run ends (about 300 bytes each).
pub const MAX_SERIES_ROWS: u64 = 4_000_000;

/// Most arrivals one run may draw, counted as the thinning candidates
/// (the integral of each source's rate majorant over the run): at a few
/// million arrivals per second of wall time, a quarter of an hour or more.
pub const MAX_ARRIVALS: f64 = 2e9;

/// Most evaluations one autoscaler may make in a run (duration / period),
/// and most metric windows it may close (duration / metric_period).
pub const MAX_EVALUATIONS: u64 = 1_000_000;

/// Most per-instance samples an autoscaler's metric windows may take in a
/// run (windows x the fleet's most instances): each window samples every
/// instance.
pub const MAX_POD_SAMPLES: f64 = 1e9;

/// Most metric windows waiting out `metric_delay` at once (each holds a
/// sample of every instance).
pub const MAX_PENDING_WINDOWS: u64 = 10_000;

/// Most evaluations a policy's history may hold (its longest window over
/// its evaluation period, or over the spacing of replayed rows): each
/// evaluation scans it.
pub const MAX_HISTORY: u64 = 100_000;

/// Most on/off switches a modulated source may make in a run (2 x duration
/// / (on + off)).
pub const MAX_SWITCHES: f64 = 1e8;

/// Most rows a trace file may have (each is held in memory).
pub const MAX_TRACE_ROWS: usize = 100_000_000;

/// Most rows a `replay-policy` metrics file may have.
pub const MAX_REPLAY_ROWS: usize = 1_000_000;

/// Most runs (points x replications) one sweep may have: the plan is held
/// in memory and every run is a simulation.
pub const MAX_RUNS: usize = 1_000_000;

/// Deepest nesting of lists and maps in a YAML manifest.
pub const MAX_NESTING: usize = 64;
