//! # scalesim — deterministic discrete-event load and scaling simulator
//!
//! The command-line package: scenario loading and validation
//! ([`scenario`], [`diagnostics`]), running ([`run`]), the JSON summary
//! ([`summary`]) and output files ([`output`]). The engine lives in the
//! `scalesim-sim` crate (`sim/`), the component models in `scalesim-models`
//! (`models/`).

pub mod diagnostics;
pub mod output;
pub mod run;
pub mod scenario;
pub mod summary;

pub use scalesim_models as models;
pub use scalesim_sim as sim;
