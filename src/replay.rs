//! `scalesim replay-policy`: a scaling policy run alone over a recorded
//! metrics timeline, printing per evaluation the desired capacity and why.
//! This is how a policy is checked against last week's metrics without a
//! simulation, and how policies are tested against the documented rules of
//! the real controllers.
//!
//! The policy file is a TOML table as under `[autoscaler.<pool>]`
//! (`policy = "hpa"`, ...) or, for the HPA, a Kubernetes
//! HorizontalPodAutoscaler YAML manifest (`.yaml` / `.yml`).
//!
//! The metrics CSV has a header row and one row per evaluation:
//! - `time`: seconds from the start (or a duration like `"15m"`);
//! - `replicas`: the current (desired) capacity recorded then;
//! - `ready` (optional, default `replicas`): ready instances;
//! - one column per metric (`cpu` as a 0..1 fraction, `rps`, `queue`, ...);
//!   an empty cell is a missing metric;
//! - optional per-pod columns `pod<N>_ready` (`true`/`false`/`1`/`0`),
//!   `pod<N>_age` (seconds) and `pod<N>_<metric>`, for policies that look
//!   at pods (the HPA's handling of unready pods and missing metrics).
//!
//! Or it is the `timeseries.csv` of `scalesim run` ([`timeseries`]): one
//! component's rows, each sampling window one evaluation.

use crate::diagnostics::{echo, Diagnostic, Diagnostics};
use scalesim_models::limits::{MAX_HISTORY, MAX_INSTANCES, MAX_REPLAY_ROWS};
use scalesim_models::policy::{Controller, Decision, Metric, Observation, Pod, PolicyConfig};
use scalesim_models::traffic::calendar::Calendar;
use scalesim_models::units::parse_duration;
use serde::Serialize;
use std::path::Path;

pub mod timeseries;

/// One evaluation of a replay.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// Time of the row, seconds.
    pub t_s: f64,
    /// Recorded capacity.
    pub current: u32,
    /// What the policy wants.
    pub desired: u32,
    /// Why.
    pub reason: String,
}

pub(crate) fn error(file: &str, line: Option<usize>, message: String) -> Diagnostics {
    // "column `x`: ..." names the field.
    let (field, message) = match message
        .strip_prefix("column `")
        .and_then(|r| r.split_once("`: "))
    {
        Some((f, m)) => (Some(f.to_string()), m.to_string()),
        None => (None, message),
    };
    Diagnostics(vec![Diagnostic {
        file: file.to_string(),
        line_col: line.map(|l| (l, 1)),
        field,
        message,
        snippet: None,
        from_override: None,
    }])
}

/// One recorded evaluation: (time s, replicas, ready, metrics, pods).
pub type Row = (f64, u32, u32, Vec<Metric>, Vec<Pod>);

/// Reads a policy file: a TOML policy table (or an HPA YAML manifest).
pub fn load_policy(path: &Path) -> Result<PolicyConfig, Diagnostics> {
    let file = path.display().to_string();
    let text = crate::scenario::read_text(path).map_err(|(lc, e)| {
        let mut d = error(&file, None, format!("cannot read the policy file: {e}"));
        d.0[0].line_col = lc;
        d
    })?;
    let yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
    if yaml {
        return crate::scenario::policy_from_manifest(&text).map_err(|e| {
            Diagnostics(vec![Diagnostic {
                file: file.clone(),
                line_col: e.line_col,
                field: e.path,
                message: e.message,
                snippet: None,
                from_override: None,
            }])
        });
    }
    crate::scenario::policy_from_toml(&file, &text)
}

/// The rows read so far, and the bounds every new one must keep: times
/// that increase, at most [`MAX_REPLAY_ROWS`] rows, at most
/// [`MAX_HISTORY`] of them within the policy's longest window.
pub(crate) struct Timeline<'a> {
    file: &'a str,
    /// (what the window is, its length in seconds).
    history: (&'a str, f64),
    rows: Vec<Row>,
    /// Start of the rows within `history` of the newest.
    window_start: usize,
}

impl<'a> Timeline<'a> {
    pub(crate) fn new(file: &'a str, history: (&'a str, f64)) -> Self {
        Timeline {
            file,
            history,
            rows: Vec::new(),
            window_start: 0,
        }
    }

    /// Refuses a row past [`MAX_REPLAY_ROWS`] before it is parsed.
    pub(crate) fn room(&self, line: Option<usize>) -> Result<(), Diagnostics> {
        if self.rows.len() >= MAX_REPLAY_ROWS {
            return Err(error(
                self.file,
                line,
                format!("more than {MAX_REPLAY_ROWS} rows (time: each row is one evaluation of the policy); replay a shorter span"),
            ));
        }
        Ok(())
    }

    /// Checks the time `t` of the row at `line` against the rows before.
    pub(crate) fn check_time(
        &mut self,
        line: Option<usize>,
        t: f64,
        column: &str,
    ) -> Result<(), Diagnostics> {
        if let Some(prev) = self.rows.last().map(|r| r.0) {
            if t <= prev {
                return Err(error(
                    self.file,
                    line,
                    format!("column `{column}`: times must increase from row to row (one evaluation each); {t} s follows {prev} s"),
                ));
            }
        }
        let (field, hist) = self.history;
        while self.window_start < self.rows.len() && self.rows[self.window_start].0 <= t - hist {
            self.window_start += 1;
        }
        if (self.rows.len() - self.window_start) as u64 >= MAX_HISTORY {
            return Err(error(
                self.file,
                line,
                format!(
                    "column `{column}`: more than {MAX_HISTORY} rows within {hist} s (the policy's {field}), which each evaluation scans (time); space the rows further apart"
                ),
            ));
        }
        Ok(())
    }

    pub(crate) fn push(&mut self, row: Row) {
        self.rows.push(row);
    }

    /// The rows, refused when there is none.
    pub(crate) fn finish(self, what: &str) -> Result<Vec<Row>, Diagnostics> {
        if self.rows.is_empty() {
            return Err(error(self.file, Some(1), format!("{what} has no rows")));
        }
        Ok(self.rows)
    }
}

/// A count cell (`replicas`, `ready`, `instances`): 0 to [`MAX_INSTANCES`].
pub(crate) fn count(v: Option<f64>) -> Option<u32> {
    v.filter(|v| (0.0..=MAX_INSTANCES as f64).contains(v))
        .map(|v| v as u32)
}

/// Parses the metrics CSV (or a `timeseries.csv`, with its only pool)
/// into observations. `history` is the policy's longest window of past
/// evaluations and its field ([`PolicyConfig::history_s`]): rows so dense
/// that a window holds more than [`MAX_HISTORY`] of them are refused
/// (every evaluation scans them).
pub fn load_metrics(path: &Path, history: (&str, f64)) -> Result<Vec<Row>, Diagnostics> {
    read(path, history, None, &[])
}

/// What `replay-policy` reads: the metrics file for `policy`; from a
/// `timeseries.csv`, the rows of `component` (needed when several pools
/// are there), refused when a metric the policy reads has no column.
pub fn load(
    path: &Path,
    policy: &PolicyConfig,
    component: Option<&str>,
) -> Result<Vec<Row>, Diagnostics> {
    let needs = match policy.build(&Calendar::undated()) {
        Ok(Some(c)) => c.metrics(),
        _ => Vec::new(),
    };
    read(path, policy.history_s(), component, &needs)
}

fn read(
    path: &Path,
    history: (&str, f64),
    component: Option<&str>,
    needs: &[String],
) -> Result<Vec<Row>, Diagnostics> {
    let file = path.display().to_string();
    let mut rdr = reader(path, &file)?;
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| error(&file, Some(1), format!("cannot read the header row: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    let timeline = Timeline::new(&file, history);
    if timeseries::is_timeseries(&headers) {
        return timeseries::read(path, &headers, timeline, component, needs);
    }
    if let Some(c) = component {
        return Err(error(
            &file,
            Some(1),
            format!(
                "--component {}: picks a component of a `scalesim run` timeseries.csv (columns t_s, component, ...); this file has no `component` column",
                echo(c)
            ),
        ));
    }
    recorded(rdr, &headers, timeline)
}

/// A reader of the metrics file (`#` starts a comment line).
pub(crate) fn reader(path: &Path, file: &str) -> Result<csv::Reader<std::fs::File>, Diagnostics> {
    csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| error(file, None, format!("cannot read the metrics file: {e}")))
}

/// A record of the metrics file with its line, or the located CSV error.
pub(crate) fn record(
    file: &str,
    rec: csv::Result<csv::StringRecord>,
) -> Result<(csv::StringRecord, Option<usize>), Diagnostics> {
    let rec = rec.map_err(|e| {
        let line = e.position().map(|p| p.line() as usize);
        error(file, line, format!("malformed CSV: {e}"))
    })?;
    let line = rec.position().map(|p| p.line() as usize);
    Ok((rec, line))
}

/// Rows of a recorded metrics CSV (`time`, `replicas`, metrics, pods).
fn recorded(
    mut rdr: csv::Reader<std::fs::File>,
    headers: &[String],
    mut timeline: Timeline,
) -> Result<Vec<Row>, Diagnostics> {
    let file = timeline.file;
    let find = |n: &str| headers.iter().position(|h| h == n);
    let time = find("time")
        .or_else(|| find("t"))
        .ok_or_else(|| error(file, Some(1), "expected a `time` column (or the `t_s` and `component` columns of a scalesim timeseries.csv)".into()))?;
    let replicas = find("replicas")
        .ok_or_else(|| error(file, Some(1), "expected a `replicas` column".into()))?;
    let ready = find("ready");
    // Pod columns: pod<N>_<field>.
    let mut pod_cols: Vec<(usize, usize, String)> = Vec::new();
    let mut metric_cols: Vec<(usize, String)> = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        if i == time || i == replicas || Some(i) == ready {
            continue;
        }
        let pod = h
            .strip_prefix("pod")
            .and_then(|r| r.split_once('_'))
            .and_then(|(n, f)| n.parse::<usize>().ok().map(|n| (n, f.to_string())));
        match pod {
            Some((n, _)) if n >= MAX_INSTANCES as usize => {
                return Err(error(
                    file,
                    Some(1),
                    format!(
                        "column `{}`: pod index {n} is past the {MAX_INSTANCES} instances one pool may have (memory: a pod is kept for every index up to the highest)",
                        h.chars().take(80).collect::<String>()
                    ),
                ));
            }
            Some((n, f)) => pod_cols.push((i, n, f)),
            None => metric_cols.push((i, h.clone())),
        }
    }
    let npods = pod_cols.iter().map(|p| p.1 + 1).max().unwrap_or(0);
    for rec in rdr.records() {
        timeline.room(
            rec.as_ref()
                .ok()
                .and_then(|r| r.position().map(|p| p.line() as usize)),
        )?;
        let (rec, line) = record(file, rec)?;
        let cell = |i: usize| rec.get(i).unwrap_or("");
        let num = |i: usize, what: &str| -> Result<Option<f64>, Diagnostics> {
            let c = cell(i);
            if c.is_empty() {
                return Ok(None);
            }
            c.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map(Some)
                .ok_or_else(|| {
                    error(
                        file,
                        line,
                        format!("column `{what}`: expected a number, got {}", echo(c)),
                    )
                })
        };
        let t = cell(time)
            .parse::<f64>()
            .ok()
            .or_else(|| parse_duration(cell(time)).ok())
            .ok_or_else(|| {
                error(
                    file,
                    line,
                    format!(
                        "column `time`: expected seconds or a duration, got {}",
                        echo(cell(time))
                    ),
                )
            })?;
        if !t.is_finite() {
            return Err(error(
                file,
                line,
                format!(
                    "column `time`: expected a finite time, got {}",
                    echo(cell(time))
                ),
            ));
        }
        timeline.check_time(line, t, "time")?;
        let current = count(num(replicas, "replicas")?).ok_or_else(|| {
            error(
                file,
                line,
                format!(
                    "column `replicas`: expected a count, got {}",
                    echo(cell(replicas))
                ),
            )
        })?;
        let ready_n = match ready {
            Some(r) => match num(r, "ready")? {
                None => current,
                v => count(v).ok_or_else(|| {
                    error(
                        file,
                        line,
                        format!(
                            "column `ready`: expected a count from 0 to {MAX_INSTANCES}, got {}",
                            echo(cell(r))
                        ),
                    )
                })?,
            },
            None => current,
        };
        let metrics: Vec<Metric> = metric_cols
            .iter()
            .map(|(i, name)| {
                Ok(Metric {
                    name: name.clone(),
                    value: num(*i, name)?,
                })
            })
            .collect::<Result<_, Diagnostics>>()?;
        let mut pods: Vec<Pod> = (0..npods)
            .map(|_| Pod {
                ready: true,
                age_s: f64::INFINITY,
                values: vec![None; metrics.len()],
                cores: 1,
            })
            .collect();
        for (i, n, f) in &pod_cols {
            let c = cell(*i);
            match f.as_str() {
                "ready" => pods[*n].ready = matches!(c, "true" | "1" | "yes"),
                "age" => pods[*n].age_s = num(*i, "age")?.unwrap_or(f64::INFINITY),
                m => {
                    let k = metrics.iter().position(|x| x.name == m).ok_or_else(|| {
                        error(
                            file,
                            Some(1),
                            format!("column `pod{n}_{m}`: no `{m}` column for the pool-wide value"),
                        )
                    })?;
                    pods[*n].values[k] = num(*i, m)?;
                }
            }
        }
        timeline.push((t, current, ready_n, metrics, pods));
    }
    timeline.finish("the metrics file")
}

/// Runs `policy` over the recorded rows.
pub fn replay(policy: &PolicyConfig, rows: &[Row]) -> Result<Vec<Step>, String> {
    let mut controller: Box<dyn Controller> = match policy.build(&Calendar::undated()) {
        Ok(Some(c)) => c,
        Ok(None) => return Err("a static policy makes no decisions to replay".into()),
        Err((f, m)) => return Err(format!("{f}: {m}")),
    };
    Ok(rows
        .iter()
        .map(|(t, current, ready, metrics, pods)| {
            let obs = Observation {
                now_s: *t,
                current: *current,
                ready: *ready,
                metrics,
                pods,
            };
            let Decision { desired, reason } = controller.evaluate(&obs);
            Step {
                t_s: *t,
                current: *current,
                desired,
                reason,
            }
        })
        .collect())
}

/// The replay as a table for people: the rows where the recorded or the
/// desired capacity changed from the row before (every row with `all`),
/// then a legend of the marks.
pub fn table(steps: &[Step], all: bool) -> String {
    let mut o = format!(
        "{:>10} {:>8} {:>8}  reason\n",
        "time_s", "current", "desired"
    );
    let mut shown = 0;
    for (i, s) in steps.iter().enumerate() {
        let changed = i == 0 || {
            let p = &steps[i - 1];
            (p.current, p.desired) != (s.current, s.desired)
        };
        if !(all || changed) {
            continue;
        }
        shown += 1;
        let mark = if s.desired > s.current {
            "+"
        } else if s.desired < s.current {
            "-"
        } else {
            " "
        };
        o.push_str(&format!(
            "{:>10} {:>8} {:>7}{mark}  {}\n",
            s.t_s, s.current, s.desired, s.reason
        ));
    }
    o.push_str(
        "\ncurrent: the recorded capacity; desired: what the policy wants then.\n\
         +  the policy scales out (desired above current); -  it scales in (below).\n",
    );
    if shown < steps.len() {
        o.push_str(&format!(
            "{shown} of {} evaluations shown: those where current or desired changed; --all prints every one.\n",
            steps.len()
        ));
    }
    o
}
