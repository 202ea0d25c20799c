//! Running a loaded scenario: build the system, run it, time it, summarise.

use crate::output::summary::Summary;
use crate::scenario::Loaded;
use scalesim_models::system::RunReport;
use scalesim_models::System;
use std::time::Instant;

/// A finished run: the raw report and its JSON summary.
pub struct Run {
    /// What the models measured, including the time series.
    pub report: RunReport,
    /// The summary (CONTRACT.md §3).
    pub summary: Summary,
}

/// Runs replication `replication` of a loaded (already checked) scenario.
pub fn run(loaded: &Loaded, replication: u32) -> Result<Run, String> {
    let system = build(loaded.system_config(replication))?;
    // Wall-clock time is measured for the engine block only; it never
    // influences the simulation.
    let t0 = Instant::now();
    let report = system.run();
    let wall_s = t0.elapsed().as_secs_f64();
    let summary = Summary::new(&report, &loaded.scenario.slo, wall_s);
    Ok(Run { report, summary })
}

/// Runs replication `replication` and returns its summary flattened to
/// named numbers (see [`crate::study::metrics::flatten`]).
pub fn metrics(loaded: &Loaded, replication: u32) -> Result<Vec<(String, f64)>, String> {
    run(loaded, replication).map(|r| crate::study::metrics::flatten(&r.summary))
}

/// The metric names a run of `loaded` reports (they depend on its
/// components and classes, not on what happens): read from a run of one
/// nanosecond.
pub fn metric_names(loaded: &Loaded) -> Result<Vec<String>, String> {
    let mut cfg = loaded.system_config(0);
    cfg.duration = 1;
    cfg.warmup = 0;
    let report = build(cfg)?.run();
    let summary = Summary::new(&report, &loaded.scenario.slo, 0.0);
    Ok(crate::study::metrics::flatten(&summary)
        .into_iter()
        .map(|(k, _)| k)
        .collect())
}

fn build(cfg: scalesim_models::SystemConfig) -> Result<System, String> {
    System::new(cfg).map_err(|issues| {
        issues
            .iter()
            .map(|i| format!("{}: {}", i.path, i.message))
            .collect::<Vec<_>>()
            .join("; ")
    })
}
