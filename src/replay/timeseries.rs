//! A `scalesim run` `timeseries.csv` as replay input: the rows of one
//! component, each sampling window one evaluation, its figures turned
//! into the metrics a pool publishes to its autoscaler
//! ([`scalesim_models::policy::metric`]).
//!
//! | metric | from the columns |
//! |---|---|
//! | `cpu` | `cpu` (files written before it existed: `utilization`) |
//! | `busy` | `utilization` |
//! | `rps` | `completions` / window / `instances` |
//! | `queue`, `queue_total` | `queue_len` / `instances`, `queue_len` |
//! | `in_flight` | `in_flight` / `instances` |
//! | `latency`, `p99` | `latency_mean_s`, `latency_p99_s` |
//! | `kv`, `tokens`, `batch` | `kv_use`, `tokens_per_s` / `instances`, `batch_mean` |
//! | `memory` | `memory` (pools with `memory`) |
//!
//! The recorded capacity is `instances_desired` (else `instances`), the
//! ready instances `instances`. The replay is open loop: the recorded
//! metrics do not answer the replayed policy's decisions.

use super::{count, error, reader, record, Row, Timeline};
use crate::diagnostics::{echo, Diagnostics};
use scalesim_models::limits::MAX_REPLAY_ROWS;
use scalesim_models::policy::metric as m;
use scalesim_models::policy::Metric;
use std::path::Path;

/// Where a metric comes from: (metric, column, divided by the window's
/// length in seconds, divided by the ready instances).
const SOURCES: [(&str, &str, bool, bool); 12] = [
    (m::CPU, "cpu", false, false),
    (m::BUSY, "utilization", false, false),
    (m::RPS, "completions", true, true),
    (m::QUEUE, "queue_len", false, true),
    (m::QUEUE_TOTAL, "queue_len", false, false),
    (m::IN_FLIGHT, "in_flight", false, true),
    (m::LATENCY, "latency_mean_s", false, false),
    (m::P99, "latency_p99_s", false, false),
    (m::KV, "kv_use", false, false),
    (m::TOKENS, "tokens_per_s", false, true),
    (m::BATCH, "batch_mean", false, false),
    (m::MEMORY, "memory", false, false),
];

/// True when the header is a `timeseries.csv`'s (`t_s`, `component`).
pub fn is_timeseries(headers: &[String]) -> bool {
    ["t_s", "component"]
        .iter()
        .all(|c| headers.iter().any(|h| h == c))
}

/// The rows of `component` (default: the only pool).
pub(crate) fn read(
    path: &Path,
    headers: &[String],
    mut timeline: Timeline,
    component: Option<&str>,
    needs: &[String],
) -> Result<Vec<Row>, Diagnostics> {
    let file = timeline.file;
    let col = |n: &str| headers.iter().position(|h| h == n);
    let header_error = |m: String| error(file, Some(1), m);
    // The metrics the policy reads, each with its column.
    let mut sources = Vec::new();
    for name in needs {
        let Some(&(metric, column, per_s, per_instance)) =
            SOURCES.iter().find(|s| s.0 == name.as_str())
        else {
            return Err(header_error(format!(
                "the policy reads metric `{name}`, which a timeseries.csv does not hold (it gives {})",
                SOURCES.map(|s| s.0).join(", ")
            )));
        };
        // A file from before the `cpu` column: its utilization was the CPU.
        let column = match column {
            "cpu" if col("cpu").is_none() => "utilization",
            c => c,
        };
        let Some(i) = col(column) else {
            return Err(header_error(format!(
                "column `{column}`: missing; the policy's metric `{metric}` is read from it"
            )));
        };
        sources.push((metric, column, i, per_s, per_instance));
    }
    let need = |n: &str| {
        col(n).ok_or_else(|| header_error(format!("column `{n}`: missing from the timeseries")))
    };
    let (t_col, comp_col, inst_col) = (need("t_s")?, need("component")?, need("instances")?);
    let desired_col = col("instances_desired");
    let chosen = match component {
        Some(c) => c.to_string(),
        None => only_pool(path, file, t_col, comp_col, desired_col.unwrap_or(inst_col))?,
    };
    // Names seen (a few), for the message when `chosen` is not there.
    let mut seen: Vec<String> = Vec::new();
    let mut first_line: Option<usize> = None;
    let mut filled = vec![false; sources.len()];
    let mut prev_t = 0.0;
    for rec in reader(path, file)?.records() {
        let (rec, line) = record(file, rec)?;
        let cell = |i: usize| rec.get(i).unwrap_or("");
        let name = cell(comp_col);
        if name != chosen {
            if seen.len() < 20 && !seen.iter().any(|s| s == name) {
                seen.push(name.to_string());
            }
            continue;
        }
        timeline.room(line)?;
        first_line.get_or_insert(line.unwrap_or(1));
        // A figure, or None for an empty cell (and NaN: no sample).
        let num = |i: usize| -> Result<Option<f64>, Diagnostics> {
            let c = cell(i);
            match c.parse::<f64>() {
                _ if c.is_empty() => Ok(None),
                Ok(v) if v.is_nan() => Ok(None),
                Ok(v) if v.is_finite() => Ok(Some(v)),
                _ => Err(error(
                    file,
                    line,
                    format!(
                        "column `{}`: expected a number, got {}",
                        headers[i],
                        echo(c)
                    ),
                )),
            }
        };
        let t = num(t_col)?.ok_or_else(|| {
            error(
                file,
                line,
                format!("column `t_s`: expected seconds, got {}", echo(cell(t_col))),
            )
        })?;
        timeline.check_time(line, t, "t_s")?;
        let counted = |i: usize| -> Result<Option<u32>, Diagnostics> {
            match num(i)? {
                None => Ok(None),
                v => count(v).map(Some).ok_or_else(|| {
                    error(
                        file,
                        line,
                        format!(
                            "column `{}`: expected a count, got {}",
                            headers[i],
                            echo(cell(i))
                        ),
                    )
                }),
            }
        };
        let ready = counted(inst_col)?.ok_or_else(|| {
            error(
                file,
                line,
                format!(
                    "column `instances`: empty for {}: replay a component with instances (a pool)",
                    echo(name)
                ),
            )
        })?;
        let current = match desired_col {
            Some(d) => counted(d)?.unwrap_or(ready),
            None => ready,
        };
        let window = t - prev_t;
        prev_t = t;
        let mut metrics = Vec::with_capacity(sources.len());
        for (k, &(metric, _, i, per_s, per_instance)) in sources.iter().enumerate() {
            let mut v = num(i)?;
            if per_s {
                v = v.filter(|_| window > 0.0).map(|x| x / window);
            }
            if per_instance {
                v = v.filter(|_| ready > 0).map(|x| x / ready as f64);
            }
            filled[k] |= v.is_some();
            metrics.push(Metric {
                name: metric.to_string(),
                value: v,
            });
        }
        timeline.push((t, current, ready, metrics, Vec::new()));
    }
    let Some(at) = first_line else {
        return Err(header_error(format!(
            "--component {}: no rows of that component (the file has {})",
            echo(&chosen),
            seen.join(", ")
        )));
    };
    if let Some(k) = filled.iter().position(|f| !f) {
        let (metric, column, ..) = sources[k];
        return Err(error(
            file,
            Some(at),
            format!(
                "column `{column}`: empty in every row of {}, and the policy's metric `{metric}` is read from it",
                echo(&chosen)
            ),
        ));
    }
    timeline.finish(&format!("component {}", echo(&chosen)))
}

/// The only pool (a component with a value in column `inst_col`, the
/// desired instances) in the first window: every component has a row in
/// each window.
fn only_pool(
    path: &Path,
    file: &str,
    t_col: usize,
    comp_col: usize,
    inst_col: usize,
) -> Result<String, Diagnostics> {
    let mut pools: Vec<String> = Vec::new();
    let mut first_t: Option<String> = None;
    for rec in reader(path, file)?.records().take(MAX_REPLAY_ROWS) {
        let Ok(rec) = rec else { break };
        let cell = |i: usize| rec.get(i).unwrap_or("");
        if *first_t.get_or_insert_with(|| cell(t_col).to_string()) != cell(t_col) {
            break;
        }
        let name = cell(comp_col);
        if !cell(inst_col).is_empty() && name != "_system" && !pools.iter().any(|p| p == name) {
            pools.push(name.to_string());
        }
    }
    pick(file, &pools)
}

/// The one pool among `pools`, or an error naming them.
fn pick(file: &str, pools: &[String]) -> Result<String, Diagnostics> {
    match pools {
        [one] => Ok(one.clone()),
        [] => Err(error(
            file,
            Some(1),
            "no component with instances (a pool) in the timeseries: nothing a policy scales"
                .into(),
        )),
        many => Err(error(
            file,
            Some(1),
            format!(
                "several pools ({}): pick one with --component NAME",
                many.join(", ")
            ),
        )),
    }
}
