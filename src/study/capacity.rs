//! `scalesim capacity`: the largest value of a parameter (typically a
//! traffic rate) at which every objective still holds, found by
//! bracketing and bisection with R replications at each probe, and
//! reported with its uncertainty; `--per PATH=LIST` repeats the search for
//! each value of a second parameter (e.g. instances) for the capacity
//! chart and its inverse.
//!
//! Assumption: the objectives get harder as the varied value grows (more
//! load, longer service). Every probe replicates with common random
//! numbers — replication r uses the streams of (seed, r) at every probe —
//! so a Poisson source's arrival times scale smoothly with its rate and
//! neighbouring probes differ by the change in load, not by noise.
//!
//! Uncertainty: for each objective the probes give the mean and its 95%
//! Student-t interval as a function of x; the capacity is where the mean
//! curve (linear between probes) first crosses the bound, its `low` where
//! the pessimistic end of the interval crosses, its `high` where the
//! optimistic end does. Several objectives: the first to cross binds.

use crate::chart;
use crate::output::columns;
use crate::run;
use crate::scenario::{self, Loaded};
use crate::study::merge::num;
use crate::study::metrics;
use crate::study::objective::{self, Objective};
use crate::study::sweep::{param_value, thread_pool};
use crate::study::{Acc, CapacityResult, CapacityRow, Failure, MetricStat, ParamValue, Probe};
use indicatif::ProgressBar;
use rayon::prelude::*;
use serde::Serialize;
use std::io;
use std::path::Path;

/// The optional `[capacity]` table of a scenario: defaults for the
/// `capacity` command's flags (a flag given on the command line wins).
///
/// ```toml
/// [capacity]
/// vary = "traffic.web.rate"
/// slo = "p99<300ms,error_rate<0.001"
/// per = "components.api.instances=2..12:2"
/// replications = 3
/// ```
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapacityConfig {
    /// Default `--vary`.
    pub vary: Option<String>,
    /// Default `--slo` (else the `[slo]` table).
    pub slo: Option<String>,
    /// Default `--per`.
    pub per: Option<String>,
    /// Default `--replications`.
    pub replications: Option<u32>,
    /// Default `--tolerance`.
    pub tolerance: Option<f64>,
    /// Default `--lo`.
    pub lo: Option<f64>,
    /// Default `--hi`.
    pub hi: Option<f64>,
}

/// How to search.
#[derive(Clone, Debug)]
pub struct Search {
    /// Dotted path of the varied parameter.
    pub vary: String,
    /// The objectives that must hold.
    pub objectives: Vec<Objective>,
    /// Replications per probe.
    pub replications: u32,
    /// Lower start of the bracket (default: the scenario's value).
    pub lo: Option<f64>,
    /// Upper start of the bracket.
    pub hi: Option<f64>,
    /// Stop bisecting when (hi - lo) <= tolerance x lo.
    pub tolerance: f64,
    /// Most probes per search.
    pub max_probes: usize,
    /// Worker threads.
    pub threads: Option<usize>,
    /// Draw a progress indicator on stderr.
    pub progress: bool,
}

/// Parses `--per PATH=LIST`: `2,4,8`, `2..40` (step 1), `2..40:2`, a
/// TOML array `[2, 4, 8]`, or bare words `c5.large,m5.large` (strings).
pub fn parse_per(s: &str) -> Result<(String, Vec<toml::Value>), String> {
    let (path, list) = s.split_once('=').ok_or_else(|| {
        format!("--per {s}: expected PATH=LIST, e.g. components.api.instances=2..16:2")
    })?;
    let (path, list) = (path.trim(), list.trim());
    let bad = |why: &str| format!("--per {s}: {why}");
    let values: Vec<toml::Value> = if let Some((a, b)) = list.split_once("..") {
        let (b, step) = b.split_once(':').unwrap_or((b, "1"));
        let a: i64 = a
            .trim()
            .parse()
            .map_err(|_| bad("range bounds must be integers"))?;
        let b: i64 = b
            .trim()
            .parse()
            .map_err(|_| bad("range bounds must be integers"))?;
        let step: i64 = step.trim().parse().map_err(|_| bad("bad step"))?;
        if step <= 0 || b < a || (b - a) / step > 10_000 {
            return Err(bad("expected FROM..TO[:STEP] with FROM <= TO and STEP > 0"));
        }
        (a..=b)
            .step_by(step as usize)
            .map(toml::Value::Integer)
            .collect()
    } else {
        let text = if list.starts_with('[') {
            list.to_string()
        } else {
            format!("[{list}]")
        };
        let words = || -> Option<Vec<toml::Value>> {
            let w: Vec<&str> = list.split(',').map(str::trim).collect();
            let word = |x: &str| {
                !x.is_empty()
                    && x.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
            };
            w.iter().all(|x| word(x)).then(|| {
                w.iter()
                    .map(|x| toml::Value::String(x.to_string()))
                    .collect()
            })
        };
        match format!("v = {text}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|t| t.get("v").cloned())
        {
            Some(toml::Value::Array(a)) => a,
            _ => words()
                .ok_or_else(|| bad("expected a list like 2,4,8, 2..40 or c5.large,m5.large"))?,
        }
    };
    if values.is_empty() {
        return Err(bad("no values"));
    }
    Ok((path.to_string(), values))
}

/// Runs the search on `base` (once, or for each `per` value), in parallel.
pub fn capacity(
    base: &Loaded,
    per: Option<&(String, Vec<toml::Value>)>,
    search: &Search,
) -> Result<CapacityResult, Failure> {
    if search.replications == 0 {
        return Err(Failure::Usage("--replications must be at least 1".into()));
    }
    if search.tolerance.is_nan() || search.tolerance <= 0.0 {
        return Err(Failure::Usage("--tolerance must be above 0".into()));
    }
    let pool = thread_pool(search.threads)?;
    let bar = if search.progress {
        let b = ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} capacity search: {pos} runs  {rate}  elapsed {elapsed}",
        ) {
            b.set_style(style.with_key("rate", crate::study::sweep::rate));
        }
        b
    } else {
        ProgressBar::hidden()
    };
    let bases: Vec<(Option<ParamValue>, Loaded)> = match per {
        None => vec![(None, base.clone())],
        Some((path, values)) => values
            .iter()
            .map(|v| {
                let l = edit(base, &[format!("{path}={v}")])?;
                Ok((Some(param_value(v)), l))
            })
            .collect::<Result<_, Failure>>()?,
    };
    let rows: Vec<Result<CapacityRow, Failure>> = pool.install(|| {
        bases
            .par_iter()
            .map(|(pv, l)| search_one(l, pv.clone(), search, &bar))
            .collect()
    });
    bar.finish_and_clear();
    Ok(CapacityResult {
        scenario: base.scenario.name.clone(),
        vary: search.vary.clone(),
        per: per.map(|(p, _)| p.clone()),
        objectives: search.objectives.iter().map(|o| o.text.clone()).collect(),
        replications: search.replications,
        rows: rows.into_iter().collect::<Result<_, _>>()?,
    })
}

fn edit(base: &Loaded, edits: &[String]) -> Result<Loaded, Failure> {
    scenario::load_str(&base.file, &base.text, edits, &base.scenario.name)
        .map_err(|d| Failure::Usage(d.to_string()))
}

/// The number at `path` in the scenario text, and whether it is an integer.
fn current(l: &Loaded, path: &str) -> Option<(f64, bool)> {
    let doc: toml_edit::DocumentMut = l.text.parse().ok()?;
    let keys = toml_edit::Key::parse(path).ok()?;
    let mut item = doc.as_item();
    for k in &keys {
        item = item.as_table_like()?.get(k.get())?;
    }
    let v = item.as_value()?;
    v.as_integer()
        .map(|i| (i as f64, true))
        .or_else(|| v.as_float().map(|f| (f, false)))
}

struct Prober<'a> {
    base: &'a Loaded,
    search: &'a Search,
    integer: bool,
    probes: Vec<Probe>,
    bar: &'a ProgressBar,
}

impl Prober<'_> {
    fn probe(&mut self, x: f64) -> Result<bool, Failure> {
        if let Some(p) = self.probes.iter().find(|p| p.x == x) {
            return Ok(p.passed);
        }
        let text = if self.integer {
            format!("{}", x as i64)
        } else {
            format!("{x}")
        };
        let l = edit(self.base, &[format!("{}={text}", self.search.vary)])?;
        let runs: Vec<Result<Vec<(String, f64)>, String>> = (0..self.search.replications)
            .into_par_iter()
            .map(|r| {
                let m = run::metrics(&l, r);
                self.bar.inc(1);
                m
            })
            .collect();
        let runs: Vec<Vec<(String, f64)>> = runs
            .into_iter()
            .collect::<Result<_, _>>()
            .map_err(|e| Failure::Internal(format!("a checked scenario failed: {e}")))?;
        if self.probes.is_empty() {
            let names: Vec<String> = runs[0].iter().map(|(k, _)| k.clone()).collect();
            objective::check_names(&self.search.objectives, &names).map_err(Failure::Usage)?;
        }
        let stat = |key: &str| {
            let mut a = Acc::default();
            for r in &runs {
                a.add(
                    r.iter()
                        .find(|(k, _)| k == key)
                        .map_or(f64::NAN, |(_, v)| *v),
                );
            }
            a.stat()
        };
        let values: Vec<MetricStat> = self
            .search
            .objectives
            .iter()
            .map(|o| stat(&o.metric))
            .collect();
        let passed = self
            .search
            .objectives
            .iter()
            .zip(&values)
            .all(|(o, s)| o.met(s.mean));
        self.probes.push(Probe {
            x,
            values,
            cost_per_month: stat(&metrics::resolve("cost")),
            passed,
        });
        Ok(passed)
    }

    fn mid(&self, lo: f64, hi: f64) -> f64 {
        if self.integer {
            ((lo + hi) / 2.0).floor()
        } else {
            (lo + hi) / 2.0
        }
    }

    fn done(&self, lo: f64, hi: f64) -> bool {
        if self.integer {
            hi - lo <= 1.0
        } else {
            hi - lo <= self.search.tolerance * lo.abs().max(f64::MIN_POSITIVE)
        }
    }
}

fn search_one(
    base: &Loaded,
    per: Option<ParamValue>,
    s: &Search,
    bar: &ProgressBar,
) -> Result<CapacityRow, Failure> {
    let here = per
        .as_ref()
        .map(|p| format!(" (at {})", p.text))
        .unwrap_or_default();
    let found = current(base, &s.vary);
    // Whole numbers only where the field takes nothing else (instances,
    // concurrency, capacity): a rate written as `100` is still searched
    // continuously.
    let integer = found.is_some_and(|(_, i)| i)
        && edit(base, &[format!("{}=1.5", s.vary)]).is_err()
        && s.lo.is_none_or(|x| x.fract() == 0.0);
    let start = match (s.lo, s.hi, found) {
        (Some(lo), _, _) => lo,
        (None, Some(hi), _) => hi,
        (None, None, Some((v, _))) => v,
        (None, None, None) => {
            return Err(Failure::Usage(format!(
                "--vary {}: no number at that path in the scenario; give one there or set --lo and --hi",
                s.vary
            )))
        }
    };
    if start.is_nan() || start <= 0.0 {
        return Err(Failure::Usage(format!(
            "--vary {}: the search starts at {start}; it needs a positive value (set --lo)",
            s.vary
        )));
    }
    let mut p = Prober {
        base,
        search: s,
        integer,
        probes: Vec::new(),
        bar,
    };
    let mut note = None;
    // Bracket: lo meets every objective, hi does not.
    let (mut lo, mut hi) = (f64::NAN, f64::NAN);
    if let (Some(a), Some(b)) = (s.lo, s.hi) {
        if b <= a {
            return Err(Failure::Usage("--hi must be above --lo".into()));
        }
        if p.probe(a)? {
            lo = a;
        } else {
            hi = a;
        }
        if lo.is_nan() {
            // even --lo fails: search below it
        } else if !p.probe(b)? {
            hi = b;
        } else {
            lo = b;
        }
    } else if p.probe(start)? {
        lo = start;
    } else {
        hi = start;
    }
    while hi.is_nan() && p.probes.len() < s.max_probes {
        let x = lo * 2.0;
        if p.probe(x)? {
            lo = x;
        } else {
            hi = x;
        }
    }
    while lo.is_nan() && p.probes.len() < s.max_probes {
        let x = p.mid(0.0, hi);
        if x <= 0.0 || (p.integer && x < 1.0) {
            break;
        }
        if p.probe(x)? {
            lo = x;
        } else {
            hi = x;
        }
    }
    if lo.is_nan() {
        note = Some(format!(
            "the objectives fail even at {} = {}{here}",
            s.vary, hi
        ));
    } else if hi.is_nan() {
        note = Some(format!(
            "the objectives still hold at {} = {lo}{here} after {} probes; raise --max-probes or set --hi",
            s.vary, s.max_probes
        ));
    } else {
        while !p.done(lo, hi) && p.probes.len() < s.max_probes {
            let x = p.mid(lo, hi);
            if x <= lo || x >= hi {
                break;
            }
            if p.probe(x)? {
                lo = x;
            } else {
                hi = x;
            }
        }
    }
    let mut probes = p.probes;
    probes.sort_by(|a, b| a.x.total_cmp(&b.x));
    let (capacity, low, high, binding) = if lo.is_nan() {
        (f64::NAN, f64::NAN, f64::NAN, String::new())
    } else if hi.is_nan() {
        (lo, lo, lo, String::new())
    } else {
        crossings(&probes, &s.objectives, integer)
    };
    let cost_per_month = probes
        .iter()
        .find(|q| q.x == lo)
        .map_or(f64::NAN, |q| q.cost_per_month.mean);
    Ok(CapacityRow {
        per,
        capacity,
        low,
        high,
        binding,
        cost_per_month,
        probes,
        note,
    })
}

/// Where each objective's mean, pessimistic and optimistic curves first
/// cross the bound; the objective crossing first binds.
fn crossings(probes: &[Probe], objectives: &[Objective], integer: bool) -> (f64, f64, f64, String) {
    let mut cap = (f64::INFINITY, String::new());
    let (mut low, mut high) = (f64::INFINITY, f64::INFINITY);
    for (j, o) in objectives.iter().enumerate() {
        // shift = 1: the pessimistic end of each probe's interval; -1: the
        // optimistic end.
        let curve = |shift: f64| -> f64 {
            let bad = if o.op.upper_bound() { 1.0 } else { -1.0 };
            let pts: Vec<(f64, f64)> = probes
                .iter()
                .map(|p| {
                    let s = &p.values[j];
                    let ci = if s.ci95.is_finite() { s.ci95 } else { 0.0 };
                    (p.x, o.slack(s.mean + shift * bad * ci))
                })
                .collect();
            first_crossing(&pts)
        };
        let mean = curve(0.0);
        if mean < cap.0 {
            cap = (mean, o.text.clone());
        }
        low = low.min(curve(1.0));
        high = high.min(curve(-1.0));
    }
    let round = |v: f64| if integer { v.floor() } else { v };
    let c = round(cap.0);
    (c, round(low).min(c), round(high).max(c), cap.1)
}

/// The first x where `slack` (linear between points sorted by x) turns
/// negative; the first x when it starts negative; the last x when it never
/// does.
fn first_crossing(pts: &[(f64, f64)]) -> f64 {
    let Some(&(x0, s0)) = pts.first() else {
        return f64::NAN;
    };
    if s0 < 0.0 {
        return x0;
    }
    for w in pts.windows(2) {
        let ((xa, sa), (xb, sb)) = (w[0], w[1]);
        if sb < 0.0 {
            return xa + (xb - xa) * sa / (sa - sb);
        }
    }
    pts[pts.len() - 1].0
}

// ---------------------------------------------------------------- output

#[derive(Serialize)]
struct RowJson<'a> {
    per: Option<serde_json::Value>,
    capacity: f64,
    low: f64,
    high: f64,
    binding: &'a str,
    cost_per_month: f64,
    note: Option<&'a str>,
    probes: Vec<ProbeJson>,
}

#[derive(Serialize)]
struct ProbeJson {
    x: f64,
    passed: bool,
    values: Vec<StatJson>,
    cost_per_month: f64,
}

#[derive(Serialize)]
struct StatJson {
    mean: f64,
    ci95: f64,
}

#[derive(Serialize)]
struct ResultJson<'a> {
    scenario: &'a str,
    vary: &'a str,
    per: Option<&'a str>,
    objectives: &'a [String],
    replications: u32,
    rows: Vec<RowJson<'a>>,
}

/// The `--json` document (also `capacity.json`).
pub fn json(r: &CapacityResult) -> String {
    let doc = ResultJson {
        scenario: &r.scenario,
        vary: &r.vary,
        per: r.per.as_deref(),
        objectives: &r.objectives,
        replications: r.replications,
        rows: r
            .rows
            .iter()
            .map(|row| RowJson {
                per: row.per.as_ref().map(|p| match p.number {
                    Some(n) if p.text.parse::<f64>().is_ok() => serde_json::json!(n),
                    _ => serde_json::json!(p.text),
                }),
                capacity: row.capacity,
                low: row.low,
                high: row.high,
                binding: &row.binding,
                cost_per_month: row.cost_per_month,
                note: row.note.as_deref(),
                probes: row
                    .probes
                    .iter()
                    .map(|p| ProbeJson {
                        x: p.x,
                        passed: p.passed,
                        values: p
                            .values
                            .iter()
                            .map(|s| StatJson {
                                mean: s.mean,
                                ci95: s.ci95,
                            })
                            .collect(),
                        cost_per_month: p.cost_per_month.mean,
                    })
                    .collect(),
            })
            .collect(),
    };
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

/// Writes `capacity.csv`, `probes.csv`, `capacity.json` and the charts.
pub fn write(dir: &Path, r: &CapacityResult) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let per_col = r.per.clone().unwrap_or_else(|| "per".into());
    let mut w = csv::Writer::from_path(dir.join("capacity.csv")).map_err(io::Error::other)?;
    w.write_record([
        per_col.as_str(),
        "capacity",
        "low",
        "high",
        "binding",
        "cost_per_month",
        "probes",
        "note",
    ])
    .map_err(io::Error::other)?;
    for row in &r.rows {
        w.write_record([
            row.per.as_ref().map_or(String::new(), |p| p.text.clone()),
            num(row.capacity),
            num(row.low),
            num(row.high),
            row.binding.clone(),
            num(row.cost_per_month),
            row.probes.len().to_string(),
            row.note.clone().unwrap_or_default(),
        ])
        .map_err(io::Error::other)?;
    }
    w.flush()?;
    let mut w = csv::Writer::from_path(dir.join("probes.csv")).map_err(io::Error::other)?;
    let mut h = vec![per_col, r.vary.clone(), "passed".into()];
    for o in &r.objectives {
        h.push(format!("{o} mean"));
        h.push(format!("{o} ci95"));
    }
    h.push("cost_per_month".into());
    w.write_record(&h).map_err(io::Error::other)?;
    for row in &r.rows {
        for p in &row.probes {
            let mut rec = vec![
                row.per.as_ref().map_or(String::new(), |p| p.text.clone()),
                num(p.x),
                p.passed.to_string(),
            ];
            for s in &p.values {
                rec.push(num(s.mean));
                rec.push(num(s.ci95));
            }
            rec.push(num(p.cost_per_month.mean));
            w.write_record(&rec).map_err(io::Error::other)?;
        }
    }
    w.flush()?;
    std::fs::write(dir.join("capacity.json"), json(r))?;
    chart::capacity_charts(dir, r)?;
    Ok(())
}

/// The human table: per row the capacity, its interval, the binding
/// objective and the cost per month there.
pub fn table(r: &CapacityResult) -> String {
    let mut o = format!(
        "capacity: largest {} meeting {} ({} replications per probe; interval from the 95% bands)\n\n",
        r.vary,
        r.objectives.join(", "),
        r.replications
    );
    let short = |p: &str| p.rsplit('.').next().unwrap_or(p).to_string();
    let mut lines: Vec<Vec<String>> = Vec::new();
    let mut head = Vec::new();
    if let Some(p) = &r.per {
        head.push(short(p));
    }
    head.extend([
        short(&r.vary),
        "interval".into(),
        "binding".into(),
        "$/month".into(),
        "probes".into(),
    ]);
    lines.push(head);
    for row in &r.rows {
        let mut l = Vec::new();
        if let Some(p) = &row.per {
            l.push(p.text.clone());
        }
        l.push(fmt(row.capacity));
        l.push(format!("[{}, {}]", fmt(row.low), fmt(row.high)));
        l.push(row.binding.clone());
        l.push(if row.cost_per_month.is_finite() {
            format!("${:.0}", row.cost_per_month)
        } else {
            "-".into()
        });
        l.push(row.probes.len().to_string());
        lines.push(l);
    }
    o.push_str(&columns(&lines, false));
    for row in &r.rows {
        if let Some(n) = &row.note {
            o.push_str(&format!("note: {n}\n"));
        }
    }
    o
}

fn fmt(v: f64) -> String {
    if !v.is_finite() {
        "-".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_lists_and_ranges() {
        let (p, v) = parse_per("components.api.instances=2..8:2").unwrap();
        assert_eq!(p, "components.api.instances");
        assert_eq!(v, [2, 4, 6, 8].map(toml::Value::Integer));
        let (_, v) = parse_per("x=1,2.5,4").unwrap();
        assert_eq!(v.len(), 3);
        let (_, v) = parse_per("x=c5.large, m5.large").unwrap();
        assert_eq!(v[1], toml::Value::String("m5.large".into()));
        let (_, v) = parse_per("x=[\"a\", \"b\"]").unwrap();
        assert_eq!(v[1], toml::Value::String("b".into()));
        assert!(parse_per("x").is_err());
        assert!(parse_per("x=5..1").is_err());
        assert!(parse_per("x=1..5:0").is_err());
    }

    #[test]
    fn crossing_interpolates_between_probes() {
        assert_eq!(first_crossing(&[(1.0, 1.0), (2.0, 0.5), (3.0, -0.5)]), 2.5);
        assert_eq!(first_crossing(&[(1.0, -1.0), (2.0, -2.0)]), 1.0);
        assert_eq!(first_crossing(&[(1.0, 1.0), (2.0, 2.0)]), 2.0);
    }
}
