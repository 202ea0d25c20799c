//! `scalesim sweep`: every point of a parameter grid, each run for R
//! replications, in parallel, with confidence intervals; `--shard I/N`
//! runs a deterministic slice and [`merge`] joins slices into the same
//! files a single machine writes.
//!
//! A point is the base scenario with its parameters set as `--set` edits;
//! its text is parsed once, however many replications it has. Replication
//! `r` of every point draws from the streams of (scenario seed, r): points
//! share common random numbers, so their differences are sharper than
//! independent runs would give (Law, *Simulation Modeling and Analysis*,
//! §11.2). Runs are numbered point-major (`run = point x R + r`); results
//! are streamed to `runs.csv` in that order and accumulated per point in
//! that order, so the output is byte-identical for any thread count and
//! any sharding. Memory is bounded by the work in flight (a few runs per
//! thread), not by the number of runs.

use crate::run;
use crate::scenario::{self, Loaded};
use crate::study::metrics;
use crate::study::objective::{self, Objective};
use crate::study::{Acc, Failure, ParamValue, PointResult, SweepResults};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use scalesim_models::units::parse_duration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;

pub use super::merge::{merge, run_to_dir, say, table, write_results, RunsWriter};

/// The `[sweep]` table of a scenario.
///
/// ```toml
/// [sweep]
/// replications = 5
/// grid = { "components.api.instances" = [4, 6, 8], "components.cache.capacity" = [1000, 10000] }
/// zip = [{ "traffic.web.rate" = [100, 200], "components.db.instances" = [2, 4] }]
/// plot = ["latency_s.p99", "cost_usd.projected_month"]   # optional
/// ```
///
/// `grid` entries vary independently (cartesian product, first slowest);
/// each `zip` group's lists vary together (equal lengths). A key holding
/// dots is a whole path (`"components.api.instances"`); a plain key whose
/// value is a table is a step into it, so `[sweep.grid.components.api]`
/// with `instances = [4, 8]` works too.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepConfig {
    /// Replications per point (default 1; 5 or more give useful intervals).
    #[serde(default = "one")]
    pub replications: u32,
    /// Parameters varied independently: dotted path -> list of values.
    #[serde(default)]
    pub grid: toml::Table,
    /// Groups of parameters varied together.
    #[serde(default)]
    pub zip: Vec<toml::Table>,
    /// Metrics to chart (default: latency percentiles, error rate,
    /// throughput, cost, SLO minutes, utilizations and hit ratios).
    #[serde(default)]
    pub plot: Vec<String>,
}

fn one() -> u32 {
    1
}

/// Leaf settings of a table: (dotted path, value), in file order. A key
/// with a dot is a whole path; a plain key holding a table is a step.
pub fn settings(t: &toml::Table) -> Vec<(String, toml::Value)> {
    fn walk(prefix: &str, t: &toml::Table, out: &mut Vec<(String, toml::Value)>) {
        for (k, v) in t {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::Table(sub) if !k.contains('.') => walk(&path, sub, out),
                _ => out.push((path, v.clone())),
            }
        }
    }
    let mut out = Vec::new();
    walk("", t, &mut out);
    out
}

/// The grid spelled out: parameters and the value of each at every point.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Dotted paths, grid entries first, then each zip group's.
    pub params: Vec<String>,
    /// Parameters per dimension of the product, in `params` order: 1 for
    /// a grid entry, the group's size for a zip group (they vary together).
    pub dims: Vec<usize>,
    /// Per point, one value per parameter.
    pub points: Vec<Vec<toml::Value>>,
    /// Replications per point.
    pub replications: u32,
}

impl Plan {
    /// Spells out `cfg`; `Err(message)` for empty lists, zip groups of
    /// unequal lengths, a parameter given twice, or zero replications.
    pub fn new(cfg: &SweepConfig) -> Result<Plan, String> {
        if cfg.replications == 0 {
            return Err("sweep.replications must be at least 1".into());
        }
        // A dimension: parameters that vary together, and their lists.
        let mut dims: Vec<Vec<(String, Vec<toml::Value>)>> = Vec::new();
        let list = |table: &str, path: String, v: toml::Value| match v {
            toml::Value::Array(a) if !a.is_empty() => Ok((path, a)),
            toml::Value::Array(_) => Err(format!("{table}: `{path}` has an empty list of values")),
            other => Err(format!(
                "{table}: `{path}` must be a list of values, e.g. [2, 4, 8]; found {}",
                other.type_str()
            )),
        };
        for (path, v) in settings(&cfg.grid) {
            dims.push(vec![list("sweep.grid", path, v)?]);
        }
        for (i, group) in cfg.zip.iter().enumerate() {
            let name = format!("sweep.zip[{i}]");
            let lists: Vec<_> = settings(group)
                .into_iter()
                .map(|(p, v)| list(&name, p, v))
                .collect::<Result<_, _>>()?;
            if lists.is_empty() {
                return Err(format!("{name} is empty"));
            }
            let n = lists[0].1.len();
            if let Some((p, l)) = lists.iter().find(|(_, l)| l.len() != n) {
                return Err(format!(
                    "{name}: lists of a zip group vary together and need equal lengths: `{}` has {n} values, `{p}` has {}",
                    lists[0].0,
                    l.len()
                ));
            }
            dims.push(lists);
        }
        if dims.is_empty() {
            return Err(
                "the [sweep] table varies nothing: add e.g. grid = { \"components.api.instances\" = [2, 4, 8] }"
                    .into(),
            );
        }
        let params: Vec<String> = dims.iter().flatten().map(|(p, _)| p.clone()).collect();
        for (i, p) in params.iter().enumerate() {
            if params[..i].contains(p) {
                return Err(format!("sweep: `{p}` is varied twice"));
            }
        }
        let sizes: Vec<usize> = dims.iter().map(|d| d[0].1.len()).collect();
        let max = scalesim_models::limits::MAX_RUNS;
        let total = sizes
            .iter()
            .try_fold(1usize, |a, &n| a.checked_mul(n))
            .filter(|&t| t <= max);
        let runs = total.and_then(|t| t.checked_mul(cfg.replications as usize));
        let Some(total) = total.filter(|_| runs.is_some_and(|r| r <= max)) else {
            return Err(format!(
                "{} points x {} replications is more than the {max} runs a sweep may have (memory and time: every run is planned and simulated); vary fewer values or lower replications",
                sizes
                    .iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(" x "),
                cfg.replications
            ));
        };
        let mut points = Vec::with_capacity(total);
        for mut k in 0..total {
            // Mixed-radix digits, the last dimension fastest.
            let mut digits = vec![0; dims.len()];
            for (d, &size) in sizes.iter().enumerate().rev() {
                digits[d] = k % size;
                k /= size;
            }
            let values = dims
                .iter()
                .zip(&digits)
                .flat_map(|(dim, &i)| dim.iter().map(move |(_, l)| l[i].clone()))
                .collect();
            points.push(values);
        }
        Ok(Plan {
            params,
            dims: dims.iter().map(Vec::len).collect(),
            points,
            replications: cfg.replications,
        })
    }

    /// Number of runs (points x replications).
    pub fn runs(&self) -> usize {
        self.points.len() * self.replications as usize
    }

    /// The `--set` edits of point `p`.
    pub fn overrides(&self, p: usize) -> Vec<String> {
        self.params
            .iter()
            .zip(&self.points[p])
            .map(|(k, v)| format!("{k}={v}"))
            .collect()
    }

    /// Point `p`'s values for display and axes.
    pub fn values(&self, p: usize) -> Vec<ParamValue> {
        self.points[p].iter().map(param_value).collect()
    }
}

/// Display text and number of a parameter value (strings without quotes;
/// durations such as "5m" count as seconds on an axis).
pub fn param_value(v: &toml::Value) -> ParamValue {
    match v {
        toml::Value::Integer(i) => ParamValue {
            text: i.to_string(),
            number: Some(*i as f64),
        },
        toml::Value::Float(f) => ParamValue {
            text: f.to_string(),
            number: Some(*f),
        },
        toml::Value::String(s) => ParamValue {
            text: s.clone(),
            number: parse_duration(s).ok(),
        },
        other => ParamValue {
            text: other.to_string(),
            number: None,
        },
    }
}

/// A slice of a sweep: runs whose number `k` has `k % count == index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 0-based slice number (Kubernetes' JOB_COMPLETION_INDEX, Slurm's
    /// SLURM_ARRAY_TASK_ID with --array=0-(N-1)).
    pub index: usize,
    /// Number of slices.
    pub count: usize,
}

impl Shard {
    /// Parses `I/N` with 0 <= I < N.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let bad = || format!("--shard {s}: expected I/N with 0 <= I < N, e.g. --shard 0/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// True when run `k` belongs to this slice. Interleaving spreads every
    /// point's replications over the slices, so slices take similar time.
    pub fn owns(&self, k: usize) -> bool {
        k % self.count == self.index
    }
}

/// How to execute a sweep.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Worker threads (default: one per core).
    pub threads: Option<usize>,
    /// Run only this slice.
    pub shard: Option<Shard>,
    /// Draw a progress bar on stderr (hidden when stderr is not a terminal).
    pub progress: bool,
}

/// One finished run: its number, point, replication and metric values
/// (aligned with the sweep's metric names).
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Run number (point x R + replication).
    pub run: usize,
    /// Point index.
    pub point: usize,
    /// Replication index.
    pub replication: u32,
    /// Metric values.
    pub values: Vec<f64>,
}

/// A sweep ready to run: the base scenario and its plan, every point
/// already checked.
pub struct Sweep {
    base: Loaded,
    /// The grid spelled out.
    pub plan: Plan,
    /// Metrics to chart.
    pub plot: Vec<String>,
    /// FNV-1a hash of the scenario text after `--set`: shards of one sweep
    /// must agree on it.
    pub fingerprint: String,
    /// Metric names: the union of what the points report, in summary order.
    pub metrics: Vec<String>,
    /// The objectives of the base scenario's `[slo]` table.
    pub slo: Vec<Objective>,
}

/// What [`Sweep::execute`] gathered.
pub struct Outcome {
    /// Metric names, in summary order.
    pub metrics: Vec<String>,
    /// Per point, per metric, the running statistics of its replications.
    pub accs: Vec<Vec<Acc>>,
    /// Runs executed.
    pub runs: usize,
}

impl Sweep {
    /// Prepares the sweep of `base`'s `[sweep]` table, loading and checking
    /// every point (a bad value fails here, before anything runs).
    pub fn new(base: Loaded) -> Result<Sweep, Failure> {
        let cfg = base.scenario.sweep.clone().ok_or_else(|| {
            Failure::Usage(format!(
                "{}: no [sweep] table. Add one, e.g.\n\n  [sweep]\n  replications = 5\n  grid = {{ \"components.api.instances\" = [2, 4, 8] }}",
                base.file
            ))
        })?;
        let plan = Plan::new(&cfg).map_err(|m| Failure::Usage(format!("{}: {m}", base.file)))?;
        let mut sweep = Sweep {
            fingerprint: fingerprint(&base.text),
            slo: objective::from_slo(&base.scenario.slo),
            plot: cfg.plot.iter().map(|m| metrics::resolve(m)).collect(),
            base,
            plan,
            metrics: Vec::new(),
        };
        // Every point loads, and tells which metrics it reports (a
        // balanced pool, a priced component... add some): the columns are
        // their union, a point without one gets an empty value.
        let names: Vec<Vec<String>> = (0..sweep.plan.points.len())
            .into_par_iter()
            .map(|p| {
                let l = sweep.load_point(p)?;
                run::metric_names(&l).map_err(|e| {
                    Failure::Internal(format!("sweep point {p}: a checked scenario failed: {e}"))
                })
            })
            .collect::<Result<_, _>>()?;
        sweep.metrics = union(&names);
        Ok(sweep)
    }

    /// The base scenario.
    pub fn base(&self) -> &Loaded {
        &self.base
    }

    /// Loads point `p` (the base text with the point's edits).
    pub fn load_point(&self, p: usize) -> Result<Loaded, Failure> {
        let edits = self.plan.overrides(p);
        scenario::load_str(
            &self.base.file,
            &self.base.text,
            &edits,
            &self.base.scenario.name,
        )
        .map_err(|d| Failure::Usage(format!("sweep point {p} ({}):\n{d}", edits.join(", "))))
    }

    /// Runs every run (or the slice of `opts.shard`), handing each finished
    /// run to `sink` in run order.
    pub fn execute(
        &self,
        opts: &Options,
        sink: &mut dyn FnMut(&[String], &Row) -> io::Result<()>,
    ) -> Result<Outcome, Failure> {
        let pool = thread_pool(opts.threads)?;
        let r = self.plan.replications as usize;
        let owned: Vec<usize> = (0..self.plan.runs())
            .filter(|&k| opts.shard.is_none_or(|s| s.owns(k)))
            .collect();
        let bar = progress_bar(owned.len() as u64, opts.progress);
        let chunk = pool.current_num_threads().max(1) * 4;
        let metrics = &self.metrics;
        let column: BTreeMap<&str, usize> = metrics
            .iter()
            .enumerate()
            .map(|(i, m)| (m.as_str(), i))
            .collect();
        let mut accs: Vec<Vec<Acc>> = vec![Vec::new(); self.plan.points.len()];
        let mut loaded: BTreeMap<usize, Arc<Loaded>> = BTreeMap::new();
        for ch in owned.chunks(chunk) {
            let need: Vec<usize> = {
                let mut v: Vec<usize> = ch.iter().map(|k| k / r).collect();
                v.dedup();
                v
            };
            loaded.retain(|p, _| need.contains(p));
            let missing: Vec<usize> = need
                .iter()
                .copied()
                .filter(|p| !loaded.contains_key(p))
                .collect();
            let fresh: Vec<Result<Loaded, Failure>> =
                pool.install(|| missing.par_iter().map(|&p| self.load_point(p)).collect());
            for (p, l) in missing.into_iter().zip(fresh) {
                loaded.insert(p, Arc::new(l?));
            }
            let results: Vec<Result<Vec<(String, f64)>, String>> = pool.install(|| {
                ch.par_iter()
                    .map(|&k| {
                        let out = run::metrics(&loaded[&(k / r)], (k % r) as u32);
                        bar.inc(1);
                        out
                    })
                    .collect()
            });
            for (&k, res) in ch.iter().zip(results) {
                let named = res.map_err(|e| {
                    Failure::Internal(format!("run {k}: a checked scenario failed: {e}"))
                })?;
                let mut values = vec![f64::NAN; metrics.len()];
                for (name, v) in named {
                    let Some(&c) = column.get(name.as_str()) else {
                        return Err(Failure::Internal(format!(
                            "run {k} reports metric `{name}` that its point did not announce"
                        )));
                    };
                    values[c] = v;
                }
                let row = Row {
                    run: k,
                    point: k / r,
                    replication: (k % r) as u32,
                    values,
                };
                add(&mut accs[row.point], &row.values);
                sink(metrics, &row).map_err(|e| Failure::Usage(format!("writing runs: {e}")))?;
            }
        }
        bar.finish_and_clear();
        Ok(Outcome {
            metrics: metrics.clone(),
            accs,
            runs: owned.len(),
        })
    }

    /// The aggregates of an outcome.
    pub fn results(&self, o: &Outcome) -> SweepResults {
        results(
            &self.base.scenario.name,
            &self.plan,
            &o.metrics,
            &o.accs,
            &self.slo,
        )
    }
}

/// The union of name lists, each kept in its own order: a name new to the
/// union goes right after the name that precedes it in its list.
fn union(lists: &[Vec<String>]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for list in lists {
        let mut at = 0;
        for name in list {
            match out.iter().position(|n| n == name) {
                Some(p) => at = p + 1,
                None => {
                    out.insert(at, name.clone());
                    at += 1;
                }
            }
        }
    }
    out
}

pub(super) fn add(accs: &mut Vec<Acc>, values: &[f64]) {
    if accs.is_empty() {
        accs.resize(values.len(), Acc::default());
    }
    for (a, &v) in accs.iter_mut().zip(values) {
        a.add(v);
    }
}

pub(super) fn results(
    scenario: &str,
    plan: &Plan,
    metrics: &[String],
    accs: &[Vec<Acc>],
    slo: &[Objective],
) -> SweepResults {
    SweepResults {
        scenario: scenario.to_string(),
        params: plan.params.clone(),
        dims: plan.dims.clone(),
        slo: slo.to_vec(),
        metrics: metrics.to_vec(),
        replications: plan.replications,
        points: accs
            .iter()
            .enumerate()
            .map(|(i, a)| PointResult {
                index: i,
                params: plan.values(i),
                stats: a.iter().map(Acc::stat).collect(),
            })
            .collect(),
    }
}

/// A rayon pool of `threads` workers (default: one per core).
pub fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool, Failure> {
    if threads == Some(0) {
        return Err(Failure::Usage("--threads must be at least 1".into()));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .map_err(|e| Failure::Internal(format!("cannot start worker threads: {e}")))
}

/// A progress bar on stderr: runs done, runs per second and time left.
pub fn progress_bar(len: u64, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{bar:32.cyan/blue} {pos}/{len} runs  {rate}  elapsed {elapsed}  ETA {eta}",
    ) {
        bar.set_style(style.progress_chars("=> ").with_key("rate", rate));
    }
    bar
}

/// Progress-bar key: runs per second with one decimal.
pub fn rate(state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write) {
    let _ = write!(w, "{:.1} runs/s", state.per_sec());
}

/// 64-bit FNV-1a of `text`, as 16 hex digits.
pub fn fingerprint(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::super::merge::parse_value;
    use super::*;

    fn cfg(text: &str) -> SweepConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn grid_is_a_cartesian_product_first_slowest() {
        let p = Plan::new(&cfg(r#"replications = 2
            grid = { "a.x" = [1, 2], b = { y = ["p", "q", "r"] } }"#))
        .unwrap();
        assert_eq!(p.params, ["a.x", "b.y"]);
        assert_eq!(p.points.len(), 6);
        assert_eq!(p.runs(), 12);
        assert_eq!(p.overrides(0), ["a.x=1", "b.y=\"p\""]);
        assert_eq!(p.overrides(5), ["a.x=2", "b.y=\"r\""]);
        assert_eq!(p.values(4)[1].text, "q");
    }

    #[test]
    fn zip_groups_vary_together() {
        let p = Plan::new(&cfg(r#"grid = { "a" = [1, 2] }
            zip = [{ "r" = [10, 20, 30], "c" = [1, 2, 3] }]"#))
        .unwrap();
        assert_eq!(p.params, ["a", "r", "c"]);
        assert_eq!(p.dims, [1, 2]);
        assert_eq!(p.points.len(), 6);
        assert_eq!(p.overrides(4), ["a=2", "r=20", "c=2"]);
        let e = Plan::new(&cfg(r#"zip = [{ "r" = [1, 2], "c" = [1] }]"#)).unwrap_err();
        assert!(e.contains("equal lengths"), "{e}");
        let e = Plan::new(&cfg(r#"grid = { "r" = 3 }"#)).unwrap_err();
        assert!(e.contains("must be a list"), "{e}");
        let e = Plan::new(&cfg("replications = 3")).unwrap_err();
        assert!(e.contains("varies nothing"), "{e}");
        let e = Plan::new(&cfg(r#"grid = { "r" = [1] }
            zip = [{ "r" = [1] }]"#))
        .unwrap_err();
        assert!(e.contains("varied twice"), "{e}");
    }

    #[test]
    fn shards_partition_the_runs() {
        let s: Vec<Shard> = (0..3)
            .map(|i| Shard::parse(&format!("{i}/3")).unwrap())
            .collect();
        for k in 0..100 {
            assert_eq!(s.iter().filter(|s| s.owns(k)).count(), 1);
        }
        for bad in ["3/3", "1", "a/2", "0/0", "-1/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parameter_values_read_back_from_manifest_text() {
        for t in [
            "8",
            "0.25",
            "\"lru\"",
            "[1, 2]",
            "{ dist = \"exp\", mean = \"1s\" }",
        ] {
            let v = parse_value(t).unwrap();
            assert_eq!(parse_value(&v.to_string()).unwrap(), v);
        }
        assert_eq!(
            param_value(&parse_value("\"5m\"").unwrap()).number,
            Some(300.0)
        );
    }
}
