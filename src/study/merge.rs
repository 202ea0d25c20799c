//! What a sweep writes — `runs.csv` streamed in run order, `points.csv`,
//! `sweep.json` (the plan, metric names and every point's statistics),
//! the sweep charts — and `scalesim merge`: slices written by `sweep
//! --shard I/N` on many machines joined into exactly the files one machine
//! writes (fingerprint, plan and slice checks).

use crate::chart;
use crate::diagnostics::echo;
use crate::output::summary::Named;
use crate::output::{columns, human_secs};
use crate::study::metrics;
use crate::study::objective::Objective;
use crate::study::{Acc, Failure, SweepResults};
use serde::{Deserialize, Serialize};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::sweep::*;

/// `sweep.json`: the plan, the metric names and, for a whole sweep, every
/// point's statistics. A shard writes the same without points.
#[derive(Serialize)]
struct Manifest<'a> {
    scenario: &'a str,
    fingerprint: &'a str,
    replications: u32,
    runs: usize,
    shard: Option<ShardJson>,
    params: &'a [String],
    /// The parameters of each dimension: one for a grid entry, several
    /// for a zip group (they vary together).
    dimensions: Vec<&'a [String]>,
    /// Per point, each parameter's value as TOML text.
    plan: Vec<Vec<String>>,
    metrics: &'a [String],
    /// The `[sweep] plot` list (empty: the headline metrics), so that a
    /// merge draws the same charts.
    plot: &'a [String],
    /// The objectives of the scenario's `[slo]` table (the table's columns).
    slo: &'a [Objective],
    points: Vec<PointJson>,
}

#[derive(Serialize, Deserialize)]
struct ShardJson {
    index: usize,
    count: usize,
    runs: usize,
}

#[derive(Serialize)]
struct PointJson {
    index: usize,
    params: Named<serde_json::Value>,
    replications: u64,
    metrics: Named<StatJson>,
}

#[derive(Serialize)]
struct StatJson {
    mean: f64,
    ci95: f64,
    sd: f64,
    min: f64,
    max: f64,
}

/// What `merge` reads back from a slice's `sweep.json`.
#[derive(Deserialize)]
struct ManifestIn {
    scenario: String,
    fingerprint: String,
    replications: u32,
    runs: usize,
    shard: Option<ShardJson>,
    params: Vec<String>,
    /// Absent before zip groups were recorded: every parameter alone.
    #[serde(default)]
    dimensions: Vec<Vec<String>>,
    plan: Vec<Vec<String>>,
    metrics: Vec<String>,
    #[serde(default)]
    plot: Vec<String>,
    #[serde(default)]
    slo: Vec<Objective>,
}

/// Streams `runs.csv`: run, point, replication, the parameters, then every
/// metric (shortest round-trip decimal text, so a merge re-reads the exact
/// values).
pub struct RunsWriter {
    out: csv::Writer<io::BufWriter<std::fs::File>>,
    header: bool,
    params: Vec<String>,
    values: Vec<Vec<String>>,
}

impl RunsWriter {
    /// Creates `<dir>/runs.csv`.
    pub fn create(dir: &Path, plan: &Plan) -> io::Result<RunsWriter> {
        let f = std::fs::File::create(dir.join("runs.csv"))?;
        Ok(RunsWriter {
            out: csv::Writer::from_writer(io::BufWriter::new(f)),
            header: false,
            params: plan.params.clone(),
            values: (0..plan.points.len())
                .map(|p| plan.values(p).into_iter().map(|v| v.text).collect())
                .collect(),
        })
    }

    /// Writes one run (the header first).
    pub fn write(&mut self, metrics: &[String], row: &Row) -> io::Result<()> {
        if !self.header {
            self.write_header(metrics)?;
        }
        let mut rec: Vec<String> = vec![
            row.run.to_string(),
            row.point.to_string(),
            row.replication.to_string(),
        ];
        rec.extend(self.values[row.point].iter().cloned());
        rec.extend(row.values.iter().map(|v| num(*v)));
        self.out.write_record(&rec).map_err(io::Error::other)
    }

    fn write_header(&mut self, metrics: &[String]) -> io::Result<()> {
        self.header = true;
        let mut h: Vec<&str> = vec!["run", "point", "replication"];
        h.extend(self.params.iter().map(String::as_str));
        h.extend(metrics.iter().map(String::as_str));
        self.out.write_record(&h).map_err(io::Error::other)
    }

    /// Flushes the file (writing a header even when no run was owned).
    pub fn finish(mut self, metrics: &[String]) -> io::Result<()> {
        if !self.header {
            self.write_header(metrics)?;
        }
        self.out.flush()
    }
}

/// A CSV cell: the shortest decimal that reads back as `v` (-0 as 0), or
/// empty for NaN and infinities.
pub(crate) fn num(v: f64) -> String {
    if v.is_finite() {
        // `+ 0.0` turns -0 into 0.
        format!("{}", v + 0.0)
    } else {
        String::new()
    }
}

/// Writes `points.csv`, `sweep.json` and the charts of a whole sweep;
/// returns the JSON document.
pub fn write_results(
    dir: &Path,
    r: &SweepResults,
    plan: &Plan,
    fingerprint: &str,
    plot: &[String],
) -> io::Result<String> {
    let mut w = csv::Writer::from_path(dir.join("points.csv")).map_err(io::Error::other)?;
    let mut h: Vec<String> = vec!["point".into()];
    h.extend(r.params.iter().cloned());
    h.push("replications".into());
    for m in &r.metrics {
        h.push(format!("{m}.mean"));
        h.push(format!("{m}.ci95"));
    }
    w.write_record(&h).map_err(io::Error::other)?;
    for p in &r.points {
        let mut rec: Vec<String> = vec![p.index.to_string()];
        rec.extend(p.params.iter().map(|v| v.text.clone()));
        rec.push(p.stats.first().map_or(0, |s| s.n).to_string());
        for s in &p.stats {
            rec.push(num(s.mean));
            rec.push(num(s.ci95));
        }
        w.write_record(&rec).map_err(io::Error::other)?;
    }
    w.flush()?;
    let json = manifest_json(r, plan, fingerprint, plot, None)?;
    std::fs::write(dir.join("sweep.json"), &json)?;
    let plot = chart_metrics(plot, &r.metrics);
    chart::sweep_charts(dir, r, &plot)?;
    Ok(json)
}

/// The metrics to chart: the `plot` list (those that exist) or the
/// headline set.
fn chart_metrics(plot: &[String], names: &[String]) -> Vec<String> {
    if plot.is_empty() {
        metrics::headline(names)
    } else {
        plot.iter().filter(|m| names.contains(m)).cloned().collect()
    }
}

fn manifest_json(
    r: &SweepResults,
    plan: &Plan,
    fingerprint: &str,
    plot: &[String],
    shard: Option<ShardJson>,
) -> io::Result<String> {
    let points = if shard.is_some() {
        Vec::new()
    } else {
        r.points
            .iter()
            .map(|p| PointJson {
                index: p.index,
                params: Named(
                    r.params
                        .iter()
                        .zip(&plan.points[p.index])
                        .map(|(k, v)| (k.clone(), toml_to_json(v)))
                        .collect(),
                ),
                replications: p.stats.first().map_or(0, |s| s.n),
                metrics: Named(
                    r.metrics
                        .iter()
                        .zip(&p.stats)
                        .map(|(m, s)| {
                            let json = StatJson {
                                mean: s.mean,
                                ci95: s.ci95,
                                sd: s.sd,
                                min: s.min,
                                max: s.max,
                            };
                            (m.clone(), json)
                        })
                        .collect(),
                ),
            })
            .collect()
    };
    let m = Manifest {
        scenario: &r.scenario,
        fingerprint,
        replications: plan.replications,
        runs: plan.runs(),
        shard,
        params: &plan.params,
        dimensions: dimensions(plan),
        plan: plan
            .points
            .iter()
            .map(|vs| vs.iter().map(|v| v.to_string()).collect())
            .collect(),
        metrics: &r.metrics,
        plot,
        slo: &r.slo,
        points,
    };
    let mut s = serde_json::to_string_pretty(&m).map_err(io::Error::other)?;
    s.push('\n');
    Ok(s)
}

/// The parameters of each dimension of `plan`.
fn dimensions(plan: &Plan) -> Vec<&[String]> {
    let mut start = 0;
    plan.dims
        .iter()
        .map(|&n| {
            start += n;
            &plan.params[start - n..start]
        })
        .collect()
}

fn toml_to_json(v: &toml::Value) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// Runs a whole sweep (or a slice) into `dir`: `runs.csv`, and for a whole
/// sweep `points.csv`, `sweep.json` and the charts; a slice writes a
/// `sweep.json` without points for [`merge`]. Returns the results and the
/// JSON document.
pub fn run_to_dir(
    sweep: &Sweep,
    opts: &Options,
    dir: &Path,
) -> Result<(SweepResults, String), Failure> {
    let io_err = |e: io::Error| Failure::Usage(format!("cannot write to {}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(io_err)?;
    let mut runs = RunsWriter::create(dir, &sweep.plan).map_err(io_err)?;
    let outcome = sweep.execute(opts, &mut |m, row| runs.write(m, row))?;
    runs.finish(&outcome.metrics).map_err(io_err)?;
    let results = sweep.results(&outcome);
    let json = match opts.shard {
        Some(s) => {
            let shard = ShardJson {
                index: s.index,
                count: s.count,
                runs: outcome.runs,
            };
            let json = manifest_json(
                &results,
                &sweep.plan,
                &sweep.fingerprint,
                &sweep.plot,
                Some(shard),
            )
            .map_err(io_err)?;
            std::fs::write(dir.join("sweep.json"), &json).map_err(io_err)?;
            json
        }
        None => write_results(dir, &results, &sweep.plan, &sweep.fingerprint, &sweep.plot)
            .map_err(io_err)?,
    };
    Ok((results, json))
}

/// Joins the slices in `dirs` (each written by `sweep --shard I/N`) into
/// `out`: the same `runs.csv`, `points.csv`, `sweep.json` and charts as the
/// whole sweep on one machine, byte for byte. Every slice of one sweep
/// (same fingerprint) must be present exactly once. `plot` replaces the
/// scenario's chart list (kept in the slices' manifests) when not empty.
pub fn merge(dirs: &[PathBuf], out: &Path, plot: &[String]) -> Result<SweepResults, Failure> {
    let usage = |m: String| Failure::Usage(format!("error: {m}"));
    // Writing into a slice would overwrite the runs.csv and sweep.json it
    // is read from.
    let same_dir = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    };
    for d in dirs {
        if same_dir(out, d)
            || out.starts_with(d.join("sweep.json"))
            || out.starts_with(d.join("runs.csv"))
        {
            return Err(usage(format!(
                "--out {}: is the input slice {}; merging into it would overwrite what it reads: give another --out",
                out.display(),
                d.display()
            )));
        }
    }
    let mut slices: Vec<(ManifestIn, PathBuf)> = Vec::new();
    for d in dirs {
        let path = d.join("sweep.json");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            usage(format!(
                "{}: {e} (is it a `sweep --shard` output?)",
                path.display()
            ))
        })?;
        let m: ManifestIn = serde_json::from_str(&text)
            .map_err(|e| usage(format!("{}: not a sweep manifest: {e}", path.display())))?;
        check_manifest(&m).map_err(|e| usage(format!("{}: {e}", path.display())))?;
        slices.push((m, d.clone()));
    }
    let Some((first, _)) = slices.first() else {
        return Err(usage("merge needs at least one slice directory".into()));
    };
    let count = match &first.shard {
        Some(s) => s.count,
        None => {
            return Err(usage(format!(
                "{}: a whole sweep, not a slice; nothing to merge",
                dirs[0].join("sweep.json").display()
            )))
        }
    };
    let mut seen = vec![false; count];
    for (m, d) in &slices {
        let same = m.fingerprint == first.fingerprint
            && m.scenario == first.scenario
            && m.replications == first.replications
            && m.params == first.params
            && m.dimensions == first.dimensions
            && m.plan == first.plan
            && m.runs == first.runs;
        if !same {
            return Err(usage(format!(
                "{}: a slice of another sweep (scenario `{}`, fingerprint {}; expected `{}`, {})",
                d.join("sweep.json").display(),
                echo(&m.scenario),
                echo(&m.fingerprint),
                echo(&first.scenario),
                echo(&first.fingerprint)
            )));
        }
        let Some(s) = m
            .shard
            .as_ref()
            .filter(|s| s.count == count && s.index < count)
        else {
            return Err(usage(format!(
                "{}: not a slice of {count}",
                d.join("sweep.json").display()
            )));
        };
        if std::mem::replace(&mut seen[s.index], true) {
            return Err(usage(format!(
                "{}: slice {}/{count} given twice",
                d.join("sweep.json").display(),
                s.index
            )));
        }
    }
    if let Some(i) = seen.iter().position(|s| !s) {
        return Err(usage(format!(
            "slice {i}/{count} is missing: pass every slice's directory"
        )));
    }
    let plan = Plan {
        params: first.params.clone(),
        dims: if first.dimensions.is_empty() {
            vec![1; first.params.len()]
        } else {
            first.dimensions.iter().map(Vec::len).collect()
        },
        points: first
            .plan
            .iter()
            .map(|vs| vs.iter().map(|t| parse_value(t)).collect::<Result<_, _>>())
            .collect::<Result<_, String>>()
            .map_err(|e| usage(format!("{}: {e}", dirs[0].join("sweep.json").display())))?,
        replications: first.replications,
    };
    let metrics: Vec<String> = slices
        .iter()
        .map(|(m, _)| &m.metrics)
        .find(|m| !m.is_empty())
        .cloned()
        .unwrap_or_default();
    let mut rows: Vec<Option<Row>> = vec![None; plan.runs()];
    for (m, d) in &slices {
        if !m.metrics.is_empty() && m.metrics != metrics {
            return Err(usage(format!(
                "{}: other metrics than the other slices",
                d.join("sweep.json").display()
            )));
        }
        read_runs(&d.join("runs.csv"), &plan, metrics.len(), &mut rows)?;
    }
    std::fs::create_dir_all(out)
        .map_err(|e| usage(format!("cannot create {}: {e}", out.display())))?;
    let io_err =
        |e: io::Error| Failure::Usage(format!("error: cannot write to {}: {e}", out.display()));
    let mut w = RunsWriter::create(out, &plan).map_err(io_err)?;
    let mut accs: Vec<Vec<Acc>> = vec![Vec::new(); plan.points.len()];
    for (k, row) in rows.iter().enumerate() {
        let row = row.as_ref().ok_or_else(|| {
            usage(format!(
                "run {k} is in no slice's runs.csv (an interrupted slice?)"
            ))
        })?;
        add(&mut accs[row.point], &row.values);
        w.write(&metrics, row).map_err(io_err)?;
    }
    w.finish(&metrics).map_err(io_err)?;
    let results = results(&first.scenario, &plan, &metrics, &accs, &first.slo);
    let plot = if plot.is_empty() {
        &first.plot[..]
    } else {
        plot
    };
    write_results(out, &results, &plan, &first.fingerprint, plot).map_err(io_err)?;
    Ok(results)
}

/// What a manifest must hold before anything is sized from it: a plan
/// within [`MAX_RUNS`] whose runs add up, points as long as the parameter
/// list, a slice index within its count.
fn check_manifest(m: &ManifestIn) -> Result<(), String> {
    use scalesim_models::limits::MAX_RUNS;
    if m.replications == 0 {
        return Err("`replications` is 0: expected at least 1".into());
    }
    let runs = m.plan.len().checked_mul(m.replications as usize);
    match runs {
        Some(r) if r <= MAX_RUNS && r == m.runs => {}
        Some(r) if r <= MAX_RUNS => {
            return Err(format!(
                "`runs` is {}, but {} points x {} replications is {r}",
                m.runs,
                m.plan.len(),
                m.replications
            ))
        }
        _ => {
            return Err(format!(
                "{} points x {} replications is more than the {MAX_RUNS} runs a sweep may have",
                m.plan.len(),
                m.replications
            ))
        }
    }
    if let Some((i, p)) = m
        .plan
        .iter()
        .enumerate()
        .find(|(_, p)| p.len() != m.params.len())
    {
        return Err(format!(
            "`plan` point {i} has {} values for {} parameters",
            p.len(),
            m.params.len()
        ));
    }
    if !m.dimensions.is_empty() && m.dimensions.concat() != m.params {
        return Err("`dimensions` do not list the `params` in order".into());
    }
    if let Some(s) = &m.shard {
        if s.count == 0 || s.index >= s.count || s.count > MAX_RUNS.max(1) {
            return Err(format!(
                "`shard` {}/{}: expected index < count <= {MAX_RUNS}",
                s.index, s.count
            ));
        }
    }
    Ok(())
}

pub(super) fn parse_value(text: &str) -> Result<toml::Value, String> {
    let doc: toml::Table = format!("v = {text}")
        .parse()
        .map_err(|e: toml::de::Error| {
            format!("bad value {} in `plan`: {}", echo(text), e.message())
        })?;
    doc.get("v")
        .cloned()
        .ok_or_else(|| format!("bad value {} in `plan`", echo(text)))
}

fn read_runs(
    path: &Path,
    plan: &Plan,
    n_metrics: usize,
    rows: &mut [Option<Row>],
) -> Result<(), Failure> {
    let bad = |m: String| Failure::Usage(format!("error: {}: {m}", path.display()));
    let mut r = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let skip = 3 + plan.params.len();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| bad(e.to_string()))?;
        let line = i + 2;
        let field = |j: usize| rec.get(j).unwrap_or("");
        let run: usize = field(0)
            .parse()
            .map_err(|_| bad(format!("line {line}: bad run number {}", echo(field(0)))))?;
        if run >= rows.len() || rec.len() != skip + n_metrics {
            return Err(bad(format!("line {line}: does not belong to this sweep")));
        }
        let values = (skip..skip + n_metrics)
            .map(|j| {
                let t = field(j);
                if t.is_empty() {
                    Ok(f64::NAN)
                } else {
                    t.parse::<f64>()
                        .map_err(|_| bad(format!("line {line}: {} is not a number", echo(t))))
                }
            })
            .collect::<Result<Vec<f64>, _>>()?;
        if rows[run].is_some() {
            return Err(bad(format!("line {line}: run {run} appears twice")));
        }
        let r = plan.replications as usize;
        rows[run] = Some(Row {
            run,
            point: run / r,
            replication: (run % r) as u32,
            values,
        });
    }
    Ok(())
}

/// The human table: each point's parameters, then each metric the
/// scenario's SLO bounds, with its bound in the header (p99 and the error
/// rate when the SLO does not bound them), cost per month and the share
/// of replications meeting the SLO (at most `max` rows).
pub fn table(r: &SweepResults, max: usize) -> String {
    /// A column: header, metric, and how a mean and its interval read.
    struct Col<'a> {
        head: String,
        metric: &'a str,
        show: Box<dyn Fn(f64) -> String + 'a>,
        ci: bool,
    }
    let slo = |m: &str| r.slo.iter().any(|o| o.metric == format!("slo.{m}"));
    let mut cols: Vec<Col> = Vec::new();
    for o in &r.slo {
        let check = o.metric.strip_prefix("slo.").unwrap_or(&o.metric);
        let op = if o.op.upper_bound() { "≤" } else { "≥" };
        cols.push(Col {
            head: format!("{check} {op} {}", o.show(o.bound)),
            metric: &o.metric,
            show: Box::new(move |v| o.show(v)),
            ci: true,
        });
    }
    if !r.slo.iter().any(|o| o.unit == "s") {
        cols.insert(
            0,
            Col {
                head: "p99 (95% CI)".into(),
                metric: "latency_s.p99",
                show: Box::new(human_secs),
                ci: true,
            },
        );
    }
    if !slo("error_rate") {
        cols.push(Col {
            head: "errors".into(),
            metric: "error_rate",
            show: Box::new(|v| format!("{:.3}%", v * 100.0)),
            ci: false,
        });
    }
    cols.push(Col {
        head: "$/month".into(),
        metric: "cost_usd.projected_month",
        show: Box::new(|v| format!("${v:.0}")),
        ci: false,
    });
    cols.push(Col {
        head: "SLO met".into(),
        metric: "slo.passed",
        show: Box::new(|v| format!("{:.0}%", v * 100.0)),
        ci: false,
    });
    let cols: Vec<(Col, usize)> = cols
        .into_iter()
        .filter_map(|c| r.metric(c.metric).map(|i| (c, i)))
        .collect();
    let mut lines: Vec<Vec<String>> = vec![r
        .params
        .iter()
        .map(|p| p.rsplit('.').next().unwrap_or(p).to_string())
        .chain(cols.iter().map(|(c, _)| c.head.clone()))
        .collect()];
    for p in r.points.iter().take(max) {
        let mut l: Vec<String> = p.params.iter().map(|v| v.text.clone()).collect();
        for (c, i) in &cols {
            let s = p.stats[*i];
            l.push(match s.mean {
                m if !m.is_finite() => "-".into(),
                m if c.ci && s.ci95.is_finite() => {
                    format!("{} ± {}", (c.show)(m), (c.show)(s.ci95))
                }
                m => (c.show)(m),
            });
        }
        lines.push(l);
    }
    let mut o = columns(&lines, false);
    if r.points.len() > max {
        o.push_str(&format!(
            "... {} more points in points.csv\n",
            r.points.len() - max
        ));
    }
    if !r.slo.is_empty() {
        o.push_str(
            "SLO columns: the mean of what each objective judged (unfinished work counted); SLO met: replications meeting every objective.\n",
        );
    }
    o
}

/// Writes `text` to stdout, ignoring a closed pipe.
pub fn say(text: &str) {
    let _ = io::stdout().lock().write_all(text.as_bytes());
}
