//! # scalesim — deterministic discrete-event load and scaling simulator
//!
//! The command-line package: scenario loading and validation
//! ([`scenario`], [`diagnostics`]), running ([`run`]), the JSON summary
//! ([`summary`]), output files ([`output`]), the HTML report of a run
//! ([`report`]), the multi-run studies ([`study`], [`sweep`],
//! [`capacity`], [`compare`]), and the charts of runs and studies
//! ([`chart`]: one chart kit, one file per figure). The engine lives in the
//! `scalesim-sim` crate (`sim/`), the component models in `scalesim-models`
//! (`models/`).

pub mod capacity;
pub mod chart;
pub mod compare;
pub mod diagnostics;
pub mod metrics;
pub mod objective;
pub mod output;
pub mod replay;
pub mod report;
pub mod run;
pub mod scenario;
pub mod study;
pub mod summary;
pub mod sweep;
pub mod trace;

pub use scalesim_models as models;
pub use scalesim_sim as sim;
