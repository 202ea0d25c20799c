//! Reading trace files: recorded traffic replayed by a source
//! (`trace = { file = "...", format = "counts" | "timestamps" }`).
//!
//! Format (CSV with a header row; `#` starts a comment line):
//! - counts: a `count` column (requests in each interval) and optionally a
//!   `time` column (start of each interval: seconds from the start, a
//!   duration like `"90m"`, or a local date-time like
//!   `2026-11-23T08:00:00`). Without `time`, rows are consecutive intervals
//!   of the source's `interval` from t = 0; with it, the spacing of the
//!   times is the interval and must be constant.
//! - timestamps: a `time` column, one arrival per row, non-decreasing;
//!   optionally `prompt_tokens` and `output_tokens` columns (LLM requests:
//!   each arrival replays its own token counts).

use crate::diagnostics::{echo, Diagnostic, Diagnostics};
use scalesim_models::limits::{MAX_ARRIVALS, MAX_RATE, MAX_TRACE_ROWS};
use scalesim_models::traffic::calendar::{parse_local, Calendar};
use scalesim_models::traffic::{TraceConfig, TraceData, TraceFormat};
use scalesim_models::units::parse_duration;
use std::path::Path;

/// An error at `line` of the trace file.
fn at(file: &str, line: u64, field: &str, message: String) -> Diagnostics {
    Diagnostics(vec![Diagnostic {
        file: file.to_string(),
        line_col: Some((line as usize, 1)),
        field: Some(field.to_string()),
        message,
        snippet: None,
        from_override: None,
    }])
}

/// Parses a time cell: seconds, a duration, or a local date-time.
fn time_cell(s: &str, cal: &Calendar) -> Result<f64, String> {
    let s = s.trim();
    if let Ok(v) = s.parse::<f64>() {
        if v.is_finite() {
            return Ok(v);
        }
    }
    if let Ok(d) = parse_duration(s) {
        return Ok(d);
    }
    match parse_local(s) {
        Ok(d) if cal.is_dated() => Ok(cal.sim_time(d)),
        Ok(_) => Err(format!(
            "the date {} needs the scenario's `start`; or give seconds from the start", echo(s)
        )),
        Err(_) => Err(format!(
            "expected a time: seconds from the start, a duration like \"90m\", or a date-time like \"2026-11-23T08:00:00\"; got {}", echo(s)
        )),
    }
}

/// A loaded trace: its arrivals, and per arrival the (prompt, output)
/// tokens when a timestamps file has token columns.
pub type Loaded = (TraceData, Option<Vec<(u32, u32)>>);

/// Loads the trace of source `source` (for messages) as configured in
/// `cfg`, resolving the file relative to `scenario_dir`; `horizon_s` is the
/// run's duration (rows past it are not replayed, so not counted against
/// the arrivals bound).
pub fn load(
    cfg: &TraceConfig,
    scenario_dir: &Path,
    cal: &Calendar,
    source: &str,
    horizon_s: f64,
) -> Result<Loaded, Diagnostics> {
    let path = scenario_dir.join(&cfg.file);
    let file = path.display().to_string();
    let field = format!("traffic.{source}.trace");
    let mut rdr = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_path(&path)
        .map_err(|e| at(&file, 0, &field, format!("cannot read the trace file: {e}")))
        .map_err(|mut d| {
            d.0[0].line_col = None;
            d
        })?;
    let headers = rdr
        .headers()
        .map_err(|e| at(&file, 1, &field, format!("cannot read the header row: {e}")))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let time_col = col("time").or_else(|| col("t"));
    let count_col = col("count");
    let token_cols = match (col("prompt_tokens"), col("output_tokens")) {
        (Some(p), Some(o)) if cfg.format == TraceFormat::Timestamps => Some((p, o)),
        (None, None) => None,
        _ => {
            return Err(at(
                &file,
                1,
                &field,
                "token counts need both `prompt_tokens` and `output_tokens` columns, in a timestamps trace".into(),
            ))
        }
    };
    let mut times = Vec::new();
    let mut counts = Vec::new();
    let mut tokens = Vec::new();
    // The line of each row, for messages about a row found later.
    let mut lines: Vec<u64> = Vec::new();
    for rec in rdr.records() {
        if lines.len() >= MAX_TRACE_ROWS {
            let line = rec
                .ok()
                .and_then(|r| r.position().map(|p| p.line()))
                .unwrap_or(0);
            return Err(at(
                &file,
                line,
                &field,
                format!("more than {MAX_TRACE_ROWS} rows (memory: every row is held); aggregate the trace into counts per interval"),
            ));
        }
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            at(&file, line, &field, format!("malformed CSV: {e}"))
        })?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        lines.push(line);
        if let Some(tc) = time_col {
            let cell = rec.get(tc).unwrap_or("");
            let t = time_cell(cell, cal)
                .map_err(|m| at(&file, line, &field, format!("column `time`: {m}")))?;
            if times.last().is_some_and(|&p| t < p) {
                return Err(at(
                    &file,
                    line,
                    &field,
                    "column `time`: times must not decrease".into(),
                ));
            }
            times.push(t);
        }
        if let Some((pc, oc)) = token_cols {
            let cell = |c: usize, name: &str| -> Result<u32, Diagnostics> {
                let v = rec.get(c).unwrap_or("");
                v.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                    at(
                        &file,
                        line,
                        &field,
                        format!(
                            "column `{name}`: expected a whole number of tokens >= 1, got {}",
                            echo(v)
                        ),
                    )
                })
            };
            tokens.push((cell(pc, "prompt_tokens")?, cell(oc, "output_tokens")?));
        }
        if cfg.format == TraceFormat::Counts {
            let Some(cc) = count_col else { break };
            let cell = rec.get(cc).unwrap_or("");
            let c: f64 = cell
                .parse()
                .ok()
                .filter(|c: &f64| c.is_finite() && *c >= 0.0)
                .ok_or_else(|| {
                    at(
                        &file,
                        line,
                        &field,
                        format!("column `count`: expected a number >= 0, got {}", echo(cell)),
                    )
                })?;
            counts.push(c);
        }
    }
    match cfg.format {
        TraceFormat::Timestamps => {
            if time_col.is_none() {
                return Err(at(
                    &file,
                    1,
                    &field,
                    "a timestamps trace needs a `time` column".into(),
                ));
            }
            if times.is_empty() {
                return Err(at(&file, 1, &field, "the trace has no rows".into()));
            }
            Ok((TraceData::Timestamps(times), token_cols.map(|_| tokens)))
        }
        TraceFormat::Counts => {
            if count_col.is_none() {
                return Err(at(
                    &file,
                    1,
                    &field,
                    "a counts trace needs a `count` column".into(),
                ));
            }
            if counts.is_empty() {
                return Err(at(&file, 1, &field, "the trace has no rows".into()));
            }
            let (start, interval) = match (cfg.interval, times.len()) {
                (Some(i), _) if i.secs() > 0.0 => (times.first().copied().unwrap_or(0.0), i.secs()),
                (Some(_), _) => return Err(at(&file, 1, &field, "interval must be > 0".into())),
                (None, n) if n >= 2 => {
                    let step = times[1] - times[0];
                    if let Some(i) = times.windows(2).position(|w| ((w[1] - w[0]) - step).abs() > 1e-6) {
                        return Err(at(
                            &file,
                            i as u64 + 3,
                            &field,
                            format!("column `time`: rows must be evenly spaced ({step} s apart), or set interval"),
                        ));
                    }
                    if step <= 0.0 {
                        return Err(at(&file, 3, &field, "column `time`: times must increase".into()));
                    }
                    (times[0], step)
                }
                _ => {
                    return Err(at(
                        &file,
                        1,
                        &field,
                        "set interval = \"1m\" on the trace (or give a `time` column with two rows or more)".into(),
                    ))
                }
            };
            // A row's rate past the time resolution, or a trace with more
            // arrivals than a run may simulate, is refused at its row.
            let mut total = 0.0;
            for (i, c) in counts.iter().enumerate() {
                let line = lines.get(i).copied().unwrap_or(0);
                if c / interval > MAX_RATE {
                    return Err(at(
                        &file,
                        line,
                        &field,
                        format!(
                            "column `count`: {c} requests in {interval} s is {:.3e} requests/s, beyond the 1 ns time resolution (at most {MAX_RATE:e})",
                            c / interval
                        ),
                    ));
                }
                if start + i as f64 * interval < horizon_s {
                    total += c;
                }
                if total > MAX_ARRIVALS {
                    return Err(at(
                        &file,
                        line,
                        &field,
                        format!(
                            "column `count`: the trace reaches {total:.3e} requests by this row, more than the {MAX_ARRIVALS:e} one run may simulate (time: every arrival is simulated)"
                        ),
                    ));
                }
            }
            Ok((
                TraceData::Counts {
                    start,
                    interval,
                    counts,
                },
                None,
            ))
        }
    }
}
