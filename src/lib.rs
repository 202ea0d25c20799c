//! # scalesim — deterministic discrete-event load and scaling simulator
//!
//! The command-line package: scenario loading and validation
//! ([`scenario`], [`diagnostics`], [`trace`]), running ([`run`]), the
//! results of a run ([`output`]: files, the JSON summary, the HTML
//! report), the multi-run studies ([`study`]: sweeps and their shards and
//! merge, comparisons, capacity searches, SLO expressions), the charts of
//! runs and studies ([`chart`]: one chart kit, one file per figure), and
//! policy replay ([`replay`]). The engine lives in the
//! `scalesim-sim` crate (`sim/`), the component models in `scalesim-models`
//! (`models/`).

pub mod chart;
pub mod diagnostics;
pub mod output;
pub mod replay;
pub mod run;
pub mod scenario;
pub mod slo;
pub mod study;
pub mod trace;

pub use scalesim_models as models;
pub use scalesim_sim as sim;
