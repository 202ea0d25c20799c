//! `scalesim compare`: is configuration B better than A? R paired
//! replications with common random numbers — replication r of A and of B
//! draw from the same streams (scenario seed, r) — and a Student-t
//! interval on the paired differences B - A (Law, *Simulation Modeling and
//! Analysis*, §10.2.1, the paired-t confidence interval). Pairing removes
//! the noise the two share, so small real differences show.
//!
//! The rollout gate: each SLO (from A's and B's `[slo]` tables) is judged
//! on the mean of its metric over the replications; B fails the gate when
//! it breaks an objective that A meets.

use crate::output::{columns, human_secs};
use crate::run;
use crate::scenario::{self, Loaded};
use crate::study::metrics;
use crate::study::objective::{self, Objective};
use crate::study::sweep::{settings, thread_pool};
use crate::study::{Acc, Failure, MetricStat};
use rayon::prelude::*;
use serde::Serialize;
use std::path::Path;

/// One side of a comparison.
pub struct Side {
    /// How it is shown: the file, or `file#variant`.
    pub label: String,
    /// The scenario with its edits.
    pub loaded: Loaded,
}

/// Loads A and B: two files, or two `[variants.<name>]` of one file
/// (`variants` names them; by default the file's only two variants).
/// `overrides` (`--set`) apply to both sides.
pub fn sides(
    a: &Path,
    b: Option<&Path>,
    variants: Option<(&str, &str)>,
    overrides: &[String],
) -> Result<(Side, Side), Failure> {
    let load = |p: &Path, edits: &[String]| {
        scenario::load(p, edits).map_err(|d| Failure::Usage(d.to_string()))
    };
    let label = |p: &Path| p.display().to_string();
    if let Some(b) = b {
        if variants.is_some() {
            return Err(Failure::Usage(
                "--variants picks two variants of ONE scenario; with two files, leave it out"
                    .into(),
            ));
        }
        return Ok((
            Side {
                label: label(a),
                loaded: load(a, overrides)?,
            },
            Side {
                label: label(b),
                loaded: load(b, overrides)?,
            },
        ));
    }
    let base = load(a, overrides)?;
    let names: Vec<&String> = base.scenario.variants.keys().collect();
    let (va, vb) = match variants {
        Some(v) => v,
        None if names.len() == 2 => (names[0].as_str(), names[1].as_str()),
        None => {
            return Err(Failure::Usage(format!(
                "{}: compare needs two scenarios, or one with two [variants.<name>] tables (it has {}{}); name two with --variants A,B",
                label(a),
                names.len(),
                if names.is_empty() {
                    String::new()
                } else {
                    format!(": {}", names.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "))
                }
            )))
        }
    };
    let side = |name: &str| -> Result<Side, Failure> {
        let table = match base.scenario.variants.get(name) {
            Some(toml::Value::Table(t)) => t,
            Some(_) => {
                return Err(Failure::Usage(format!(
                    "{}: variants.{name} must be a table of dotted paths to values",
                    label(a)
                )))
            }
            None => {
                return Err(Failure::Usage(format!(
                    "{}: no [variants.{name}]{}",
                    label(a),
                    if names.is_empty() {
                        String::new()
                    } else {
                        let list: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
                        format!(" (variants here: {})", list.join(", "))
                    }
                )))
            }
        };
        let mut edits = overrides.to_vec();
        edits.extend(settings(table).into_iter().map(|(k, v)| format!("{k}={v}")));
        Ok(Side {
            label: format!("{}#{name}", label(a)),
            loaded: load(a, &edits)?,
        })
    };
    Ok((side(va)?, side(vb)?))
}

/// The verdict on one metric (lower is better for every compared metric
/// but the neutral `instances`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The interval of B - A lies below zero.
    Better,
    /// The interval of B - A lies above zero.
    Worse,
    /// The interval holds zero.
    NoSignificantDifference,
    /// Every pair gave the same value.
    Identical,
    /// More of a neutral quantity (instances): significantly more.
    More,
    /// Significantly fewer.
    Fewer,
}

impl Verdict {
    fn text(self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Worse => "worse",
            Verdict::NoSignificantDifference => "no significant difference",
            Verdict::Identical => "identical",
            Verdict::More => "more",
            Verdict::Fewer => "fewer",
        }
    }
}

/// One compared metric.
#[derive(Clone, Debug, Serialize)]
pub struct DiffRow {
    /// Metric path (`latency_s.p99`; `instances` is the sum of every pool's
    /// mean instances).
    pub metric: String,
    /// A's mean and interval.
    pub a: Stat,
    /// B's.
    pub b: Stat,
    /// The paired difference B - A.
    pub diff: Stat,
    /// What the difference says.
    pub verdict: Verdict,
}

/// A mean with its 95% half-width (JSON form of [`MetricStat`]).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Stat {
    /// Mean over replications.
    pub mean: f64,
    /// 95% Student-t half-width.
    pub ci95: f64,
}

impl From<MetricStat> for Stat {
    fn from(s: MetricStat) -> Stat {
        Stat {
            mean: s.mean,
            ci95: s.ci95,
        }
    }
}

/// One objective judged on both sides.
#[derive(Clone, Debug, Serialize)]
pub struct GateRow {
    /// The objective (`p99<=500ms`).
    pub objective: String,
    /// A's mean of the metric.
    pub a_mean: f64,
    /// B's mean.
    pub b_mean: f64,
    /// A meets it (on the mean).
    pub a_met: bool,
    /// B meets it.
    pub b_met: bool,
    /// Replications of A that met it.
    pub a_runs_met: u32,
    /// Replications of B that met it.
    pub b_runs_met: u32,
}

/// A whole comparison (the `--json` document).
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// A's label.
    pub a: String,
    /// B's label.
    pub b: String,
    /// Paired replications.
    pub replications: u32,
    /// The compared metrics.
    pub metrics: Vec<DiffRow>,
    /// Every objective of either side.
    pub slo: Vec<GateRow>,
    /// False when B breaks an objective that A meets.
    pub gate_passed: bool,
}

/// The metrics a comparison reports, lower is better for each.
pub const COMPARED: [&str; 7] = [
    "latency_s.mean",
    "latency_s.p95",
    "latency_s.p99",
    "error_rate",
    "slo.violation_minutes",
    "instances",
    "cost_usd.projected_month",
];

/// Compared too when both sides have LLM components (lower is better).
pub const COMPARED_LLM: [&str; 4] = [
    "llm.ttft_s.p99",
    "llm.tpot_s.p99",
    "llm.itl_s.p99",
    "llm.cost_per_1m_output_tokens",
];

/// Runs `replications` pairs on `threads` workers and compares them.
pub fn compare(
    a: &Side,
    b: &Side,
    replications: u32,
    threads: Option<usize>,
) -> Result<Comparison, Failure> {
    if replications < 2 {
        return Err(Failure::Usage(
            "--replications must be at least 2 for a confidence interval".into(),
        ));
    }
    let pool = thread_pool(threads)?;
    let n = replications as usize;
    let runs: Vec<Result<Vec<(String, f64)>, String>> = pool.install(|| {
        (0..2 * n)
            .into_par_iter()
            .map(|k| {
                let side = if k % 2 == 0 { a } else { b };
                run::metrics(&side.loaded, (k / 2) as u32)
            })
            .collect()
    });
    let runs: Vec<Vec<(String, f64)>> = runs
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(|e| Failure::Internal(format!("a checked scenario failed: {e}")))?;
    let value = |m: &[(String, f64)], key: &str| -> f64 {
        if key == "instances" {
            metrics::total_instances(m)
        } else {
            m.iter()
                .find(|(k, _)| k == key)
                .map_or(f64::NAN, |(_, v)| *v)
        }
    };
    let (ra, rb): (Vec<_>, Vec<_>) = runs.chunks(2).map(|p| (&p[0], &p[1])).unzip();
    let both = |key: &str| {
        [&ra, &rb]
            .iter()
            .all(|side| side.iter().all(|m| value(m, key).is_finite()))
    };
    let llm = COMPARED_LLM.iter().filter(|k| both(k));
    let rows = COMPARED
        .iter()
        .chain(llm)
        .map(|&key| {
            let (mut sa, mut sb, mut sd) = (Acc::default(), Acc::default(), Acc::default());
            let mut identical = true;
            for (x, y) in ra.iter().zip(&rb) {
                let (va, vb) = (value(x, key), value(y, key));
                sa.add(va);
                sb.add(vb);
                sd.add(vb - va);
                identical &= va == vb;
            }
            let d = sd.stat();
            // The fleet size is neither good nor bad in itself (its cost is).
            let neutral = key == "instances";
            let verdict = if identical {
                Verdict::Identical
            } else if d.lo() > 0.0 {
                if neutral {
                    Verdict::More
                } else {
                    Verdict::Worse
                }
            } else if d.hi() < 0.0 {
                if neutral {
                    Verdict::Fewer
                } else {
                    Verdict::Better
                }
            } else {
                Verdict::NoSignificantDifference
            };
            DiffRow {
                metric: key.to_string(),
                a: sa.stat().into(),
                b: sb.stat().into(),
                diff: d.into(),
                verdict,
            }
        })
        .collect();
    let objectives = union(
        objective::from_slo(&a.loaded.scenario.slo),
        objective::from_slo(&b.loaded.scenario.slo),
    );
    let slo: Vec<GateRow> = objectives
        .iter()
        .map(|o| {
            let judge = |runs: &[&Vec<(String, f64)>]| {
                let mut acc = Acc::default();
                let mut met = 0;
                for r in runs {
                    let v = value(r, &o.metric);
                    acc.add(v);
                    met += u32::from(o.met(v));
                }
                (acc.stat().mean, met)
            };
            let (am, an) = judge(&ra);
            let (bm, bn) = judge(&rb);
            GateRow {
                objective: o.text.clone(),
                a_mean: am,
                b_mean: bm,
                a_met: o.met(am),
                b_met: o.met(bm),
                a_runs_met: an,
                b_runs_met: bn,
            }
        })
        .collect();
    Ok(Comparison {
        a: a.label.clone(),
        b: b.label.clone(),
        replications,
        gate_passed: !slo.iter().any(|g| g.a_met && !g.b_met),
        metrics: rows,
        slo,
    })
}

/// A's objectives, then B's on metrics A does not bound (B's bound wins
/// where both bound one metric: B is what would be rolled out).
fn union(a: Vec<Objective>, b: Vec<Objective>) -> Vec<Objective> {
    let mut out: Vec<Objective> = a
        .into_iter()
        .filter(|o| !b.iter().any(|x| x.metric == o.metric))
        .collect();
    out.extend(b);
    out
}

fn show(metric: &str, v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    match metric {
        "error_rate" => format!("{:.3}%", v * 100.0),
        "cost_usd.projected_month" if v < 0.0 => format!("-${:.0}", -v),
        "cost_usd.projected_month" => format!("${v:.0}"),
        "slo.violation_minutes" => format!("{v:.1} min"),
        "instances" => format!("{v:.2}"),
        "llm.cost_per_1m_output_tokens" if v < 0.0 => format!("-${:.3}", -v),
        "llm.cost_per_1m_output_tokens" => format!("${v:.3}"),
        _ if v < 0.0 => format!("-{}", human_secs(-v)),
        _ => human_secs(v),
    }
}

fn label(metric: &str) -> &str {
    match metric {
        "latency_s.mean" => "mean latency",
        "latency_s.p95" => "p95 latency",
        "latency_s.p99" => "p99 latency",
        "error_rate" => "error rate",
        "slo.violation_minutes" => "SLO violation",
        "instances" => "instances (mean)",
        "cost_usd.projected_month" => "cost per month",
        "llm.ttft_s.p99" => "TTFT p99",
        "llm.tpot_s.p99" => "TPOT p99",
        "llm.itl_s.p99" => "ITL p99",
        "llm.cost_per_1m_output_tokens" => "$ per 1M out tokens",
        m => m,
    }
}

/// The human report: a table of differences with intervals and verdicts,
/// then the SLO gate.
pub fn table(c: &Comparison) -> String {
    let mut o = format!(
        "A  {}\nB  {}\n{} paired replications (common random numbers); intervals are 95% Student-t\n\n",
        c.a, c.b, c.replications
    );
    let pm = |m: &str, s: Stat| {
        if s.ci95.is_finite() && s.ci95 > 0.0 {
            format!("{} ± {}", show(m, s.mean), show(m, s.ci95))
        } else {
            show(m, s.mean)
        }
    };
    let mut lines = vec![[
        "metric".to_string(),
        "A".into(),
        "B".into(),
        "B - A".into(),
        "verdict for B".into(),
    ]];
    for r in &c.metrics {
        let signed = |s: Stat| {
            let t = pm(&r.metric, s);
            if s.mean > 0.0 {
                format!("+{t}")
            } else {
                t
            }
        };
        lines.push([
            label(&r.metric).to_string(),
            pm(&r.metric, r.a),
            pm(&r.metric, r.b),
            signed(r.diff),
            r.verdict.text().to_string(),
        ]);
    }
    push_table(&mut o, &lines);
    if c.slo.is_empty() {
        o.push_str("\nno [slo] in either scenario: no rollout gate\n");
        return o;
    }
    o.push_str("\nSLO, judged on the mean over replications (runs meeting it in brackets)\n");
    let n = c.replications;
    let verdict =
        |met: bool, runs: u32| format!("{} ({runs}/{n})", if met { "met" } else { "FAILED" });
    let mut lines = vec![["objective".to_string(), "A".into(), "B".into()]];
    for g in &c.slo {
        lines.push([
            g.objective.clone(),
            verdict(g.a_met, g.a_runs_met),
            verdict(g.b_met, g.b_runs_met),
        ]);
    }
    push_table(&mut o, &lines);
    let broken: Vec<&str> = c
        .slo
        .iter()
        .filter(|g| g.a_met && !g.b_met)
        .map(|g| g.objective.as_str())
        .collect();
    if broken.is_empty() {
        o.push_str("\nrollout gate: PASSED (B breaks no objective that A meets)\n");
    } else {
        o.push_str(&format!(
            "\nrollout gate: FAILED: B breaks {} which A meets\n",
            broken.join(", ")
        ));
    }
    o
}

fn push_table<const N: usize>(o: &mut String, lines: &[[String; N]]) {
    let rows: Vec<Vec<&String>> = lines.iter().map(|l| l.iter().collect()).collect();
    o.push_str(&columns(&rows, true));
}
