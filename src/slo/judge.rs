//! A run's verdict: every objective of every scope judged on what that
//! scope measured, one implementation for the run, a class and a
//! component; plus the guards that fail a run whatever its objectives (a
//! runaway, a job backlog that grows through the run).

use super::{Objectives, SloConfig};
use crate::output::human_secs;
use scalesim_models::measure::{peak, ComponentReport, RunReport};
use scalesim_sim::stats::LatencyHist;
use scalesim_sim::{from_secs, Time};
use serde::Serialize;

/// The SLO verdict.
#[derive(Clone, Debug, Serialize)]
pub struct Slo {
    /// True when every check passed.
    pub passed: bool,
    /// One entry per objective in the scenario (and one per guard that
    /// tripped: a runaway, a growing backlog).
    pub checks: Vec<SloCheck>,
    /// Minutes after warm-up spent in sampling windows that broke a
    /// whole-run objective: a window's mean/p50/p95/p99 above its bound,
    /// or its rejected share above `error_rate` (0 without objectives).
    pub violation_minutes: f64,
}

/// One objective and how the run did.
#[derive(Clone, Debug, Serialize)]
pub struct SloCheck {
    /// `p99`, `error_rate`, `classes.web.p95`, `components.db.peak_utilization`,
    /// ... or a guard: `bounded_in_flight`, `components.<queue>.bounded_backlog`.
    pub metric: String,
    /// `<=` (an upper bound) or `>=` (a floor: availability).
    pub op: &'static str,
    /// The unit of limit and value: `s`, `share` (a fraction) or `count`.
    pub unit: &'static str,
    /// The objective's bound.
    pub limit: f64,
    /// What the run measured.
    pub value: f64,
    /// The value meets the limit.
    pub passed: bool,
    /// Requests (or jobs) unfinished at the end counted in the value: at
    /// their age for latencies, as timed out (past the grace) for shares.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unfinished: Option<u64>,
    /// What happened, in words, where a comparison does not say it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl SloCheck {
    /// What a reader needs beside the comparison: the note, or how many
    /// unfinished requests the value counts.
    pub fn remark(&self) -> Option<String> {
        match (&self.note, self.unfinished) {
            (Some(n), _) => Some(n.clone()),
            (None, Some(n)) if self.unit == "s" => {
                Some(format!("counting {n} unfinished at their age"))
            }
            (None, Some(n)) => Some(format!(
                "counting {n} unfinished past the grace as timed out"
            )),
            (None, None) => None,
        }
    }

    /// A guard (a count: in flight, a backlog), which says what happened
    /// in words rather than as a comparison with a bound nobody set.
    pub fn is_guard(&self) -> bool {
        self.unit == "count"
    }
}

/// Requests (or jobs) unfinished at the end, split at the grace: those
/// younger are not judged (their outcome is unknown), those older count as
/// timed out at the end. `ages` ascending.
pub fn split_unfinished(ages: &[Time], grace_s: f64) -> (u64, u64) {
    let young = ages.partition_point(|&a| a < from_secs(grace_s)) as u64;
    (young, ages.len() as u64 - young)
}

/// How a scope's requests (or a queue's jobs) came out, the unfinished
/// split at the grace: what its error rate and availability read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome {
    /// Judged: arrived minus the unfinished younger than the grace.
    pub judged: u64,
    /// Refused, timed out on the path, or unfinished past the grace.
    pub errors: u64,
    /// Unfinished past the grace (in `errors`): timed out at the end.
    pub timed_out: u64,
}

impl Outcome {
    /// The outcome of `arrived` requests of which `failed` were refused or
    /// timed out on their path and those of `ages` (ascending) were
    /// unfinished at the end.
    pub fn of(arrived: u64, failed: u64, ages: &[Time], grace_s: f64) -> Outcome {
        let (young, old) = split_unfinished(ages, grace_s);
        Outcome {
            judged: arrived - young,
            errors: failed + old,
            timed_out: old,
        }
    }

    /// Errors over judged requests (0 when none is judged).
    pub fn error_rate(&self) -> f64 {
        if self.judged == 0 {
            0.0
        } else {
            self.errors as f64 / self.judged as f64
        }
    }
}

/// What one scope measured, as its objectives read it.
struct Measured {
    /// Completed latencies, with the unfinished at their age.
    latency: LatencyHist,
    /// Completed latencies alone.
    done: LatencyHist,
    /// Completed requests (no completion: no evidence for a latency bound).
    completed: u64,
    /// Unfinished requests counted in `latency`.
    unfinished: u64,
    /// Judged requests, errors and timed out among them.
    outcome: Outcome,
    /// (TTFT, TPOT) of LLM visits, when tokens were generated.
    tokens: Option<(LatencyHist, LatencyHist)>,
    /// Jobs: done with the unfinished at their age, done alone, and how
    /// many unfinished.
    jobs: Option<(LatencyHist, LatencyHist, u64)>,
    utilization: Option<f64>,
    /// The busiest sampling window after warm-up (the system's by
    /// arrivals, a component's by utilization, queue or arrivals).
    peak: Option<PeakWindow>,
}

/// A scope's busiest window, as the `peak_*` objectives read it.
struct PeakWindow {
    /// What ranked the windows (`utilization`, `arrivals`, ...).
    by: &'static str,
    from_s: f64,
    to_s: f64,
    utilization: Option<f64>,
    p95_s: f64,
    p99_s: f64,
    error_rate: f64,
    completions: u64,
}

impl PeakWindow {
    /// The busiest of the windows of `name` after warm-up.
    fn of(r: &RunReport, name: &str) -> Option<PeakWindow> {
        let w = peak::windows(&r.timeseries, name, r.simulated_s - r.measured_s);
        peak::busiest(&w).map(|top| PeakWindow {
            by: peak::rank(top.row).0,
            from_s: top.from_s,
            to_s: top.row.t_s,
            utilization: top.row.utilization,
            p95_s: top.row.p95_s,
            p99_s: top.row.p99_s,
            error_rate: top.error_rate(),
            completions: top.row.completions,
        })
    }

    /// "in the busiest window by arrivals, 2h00m to 3h00m after the start",
    /// a check's note.
    fn note(&self) -> String {
        format!(
            "in the busiest window by {}, {} to {} after the start",
            self.by,
            human_secs(self.from_s),
            human_secs(self.to_s)
        )
    }
}

impl Measured {
    /// The figures of requests: `latency` of those completed, `ages` of
    /// those unfinished (ascending).
    fn requests(
        latency: &LatencyHist,
        ages: &[Time],
        arrived: u64,
        completed: u64,
        failed: u64,
        grace_s: f64,
    ) -> Measured {
        Measured {
            latency: with_ages(latency, ages),
            done: latency.clone(),
            completed,
            unfinished: ages.len() as u64,
            outcome: Outcome::of(arrived, failed, ages, grace_s),
            tokens: None,
            jobs: None,
            utilization: None,
            peak: None,
        }
    }

    fn error_rate(&self) -> f64 {
        self.outcome.error_rate()
    }
}

/// `h` with every age in `ages` recorded.
fn with_ages(h: &LatencyHist, ages: &[Time]) -> LatencyHist {
    let mut out = h.clone();
    ages.iter().for_each(|&a| out.record(a));
    out
}

fn stat(h: &LatencyHist, key: &str) -> f64 {
    match key {
        "mean" => h.mean_s(),
        "p50" => h.quantile_s(0.5),
        "p90" => h.quantile_s(0.9),
        "p95" => h.quantile_s(0.95),
        "p99" => h.quantile_s(0.99),
        "p999" => h.quantile_s(0.999),
        _ => h.max_s(),
    }
}

/// Judges `r` against every objective of `slo`.
pub fn judge(slo: &SloConfig, r: &RunReport) -> Slo {
    let grace = slo.grace_s();
    let mut checks = Vec::new();
    let run = run_measured(r, grace);
    judge_scope("", &slo.run(), &run, &mut checks);
    for (name, o) in &slo.classes {
        if let Some(c) = r.classes.iter().find(|c| &c.name == name) {
            let mut m = Measured::requests(
                &c.latency,
                &c.unfinished,
                c.arrived,
                c.completed,
                c.errors(),
                grace,
            );
            m.tokens = c.tokens.clone().filter(|t| t.0.count() > 0);
            judge_scope(&format!("classes.{name}."), o, &m, &mut checks);
        }
    }
    for (name, o) in &slo.from {
        let area = r
            .regions
            .iter()
            .find(|p| p.kind == "area" && &p.name == name);
        if let Some(a) = area {
            let classes = r.classes.iter().filter(|c| a.members.contains(&c.name));
            let mut unfinished: Vec<u64> = classes
                .clone()
                .flat_map(|c| c.unfinished.iter().copied())
                .collect();
            unfinished.sort_unstable();
            let m = Measured::requests(
                &a.latency,
                &unfinished,
                a.arrived,
                a.completed,
                a.errors,
                grace,
            );
            judge_scope(&format!("from.{name}."), o, &m, &mut checks);
        }
    }
    for (name, o) in &slo.components {
        if let Some(c) = r.components.iter().find(|c| &c.name == name) {
            let m = component_measured(c, r, grace);
            judge_scope(&format!("components.{name}."), o, &m, &mut checks);
        }
    }
    if let Some(w) = &r.runaway {
        checks.push(SloCheck {
            metric: "bounded_in_flight".into(),
            op: "<",
            unit: "count",
            limit: w.limit as f64,
            value: w.in_flight as f64,
            passed: false,
            unfinished: None,
            note: Some(format!(
                "the run was stopped at {} of simulated time: requests in flight reached the max_in_flight cap of {}, so the load outgrew capacity and the figures cover only the run before the stop",
                human_secs(w.at_s),
                w.limit
            )),
        });
    }
    checks.extend(growing_backlogs(r, grace));
    Slo {
        passed: checks.iter().all(|c| c.passed),
        checks,
        violation_minutes: violation_minutes(&slo.run(), r),
    }
}

/// The whole run's figures: every request, every LLM visit, every job.
fn run_measured(r: &RunReport, grace: f64) -> Measured {
    let mut m = Measured::requests(
        &r.latency,
        &r.unfinished,
        r.arrived,
        r.completed,
        r.errors(),
        grace,
    );
    let (mut ttft, mut tpot) = (LatencyHist::new(), LatencyHist::new());
    let (mut jobs, mut jobs_done) = (LatencyHist::new(), LatencyHist::new());
    let (mut jobs_unfinished, mut queues) = (0, 0);
    for c in &r.components {
        if let Some(v) = c.serving.as_ref().filter(|v| v.gpus_per_instance > 0) {
            ttft.merge(&v.ttft);
            tpot.merge(&v.tpot);
        }
        if let Some(j) = &c.jobs {
            jobs.merge(&with_ages(&j.latency, &j.unfinished));
            jobs_done.merge(&j.latency);
            jobs_unfinished += j.unfinished.len() as u64;
            queues += 1;
        }
    }
    m.tokens = (ttft.count() > 0).then_some((ttft, tpot));
    m.jobs = (queues > 0).then_some((jobs, jobs_done, jobs_unfinished));
    m.peak = PeakWindow::of(r, "_system");
    m
}

/// One component's figures: its visits' response times and rejections,
/// its LLM visits, its jobs, its utilization over the run and at its
/// busiest sampling window after warm-up.
fn component_measured(c: &ComponentReport, r: &RunReport, grace: f64) -> Measured {
    let mut m = Measured::requests(
        &c.response,
        &[],
        c.arrivals,
        c.completions,
        c.errors(),
        grace,
    );
    m.tokens = c
        .serving
        .as_ref()
        .filter(|v| v.gpus_per_instance > 0 && v.ttft.count() > 0)
        .map(|v| (v.ttft.clone(), v.tpot.clone()));
    m.jobs = c.jobs.as_ref().map(|j| {
        let n = j.unfinished.len() as u64;
        (with_ages(&j.latency, &j.unfinished), j.latency.clone(), n)
    });
    m.utilization = c.utilization;
    m.peak = PeakWindow::of(r, &c.name);
    m
}

/// What an objective bounds.
#[derive(Clone, Copy)]
enum What {
    /// A statistic (`mean`, `p95`, ...) of TTFT (true) or TPOT (false).
    Token(bool, &'static str),
    /// A statistic of end-to-end (or a component's response) latency.
    Latency(&'static str),
    /// A statistic of job latency.
    Job(&'static str),
    ErrorRate,
    Availability,
    Utilization,
    /// At the busiest window: its utilization, p95, p99, error rate.
    PeakUtilization,
    PeakLatency(&'static str),
    PeakErrorRate,
}

/// One objective of a scope, before any run: what it bounds, its key
/// (`p95`, `job_p99`, ...), operator, unit and limit.
struct Bound {
    what: What,
    key: String,
    op: &'static str,
    unit: &'static str,
    limit: f64,
}

/// The objectives `o` sets, in the order the verdict lists them.
fn bounds(o: &Objectives) -> Vec<Bound> {
    let b = |what, key: String, unit, limit| Bound {
        what,
        key,
        op: "<=",
        unit,
        limit,
    };
    let mut out = Vec::new();
    for (w, k, l) in o.token_bounds() {
        out.push(b(What::Token(w == "ttft", k), format!("{w}_{k}"), "s", l));
    }
    for (k, l) in o.latency_bounds() {
        out.push(b(What::Latency(k), k.into(), "s", l));
    }
    for (k, l) in o.job_bounds() {
        out.push(b(What::Job(k), format!("job_{k}"), "s", l));
    }
    for (k, l) in o.peak_latency_bounds() {
        out.push(b(What::PeakLatency(k), format!("peak_{k}"), "s", l));
    }
    let shares = [
        (What::ErrorRate, "error_rate", o.error_rate),
        (What::Availability, "availability", o.availability),
        (What::Utilization, "utilization", o.utilization),
        (
            What::PeakUtilization,
            "peak_utilization",
            o.peak_utilization,
        ),
        (What::PeakErrorRate, "peak_error_rate", o.peak_error_rate),
    ];
    for (what, key, f) in shares {
        if let Some(f) = f {
            let mut x = b(what, key.into(), "share", f.get());
            if matches!(what, What::Availability) {
                x.op = ">=";
            }
            out.push(x);
        }
    }
    out
}

/// Every objective of `slo`, every scope, as (metric as in the verdict's
/// checks, operator, unit, limit), in the verdict's order: what a study
/// judges before it has run.
pub fn objectives(slo: &SloConfig) -> Vec<(String, &'static str, &'static str, f64)> {
    let scopes = std::iter::once((String::new(), slo.run()))
        .chain(
            slo.classes
                .iter()
                .map(|(n, o)| (format!("classes.{n}."), o.clone())),
        )
        .chain(
            slo.components
                .iter()
                .map(|(n, o)| (format!("components.{n}."), o.clone())),
        )
        .chain(
            slo.from
                .iter()
                .map(|(n, o)| (format!("from.{n}."), o.clone())),
        );
    scopes
        .flat_map(|(prefix, o)| {
            bounds(&o)
                .into_iter()
                .map(move |b| (format!("{prefix}{}", b.key), b.op, b.unit, b.limit))
        })
        .collect()
}

/// The checks of one scope's objectives `o` on `m`, named `<prefix><key>`.
/// The unfinished are named in a check only where they moved its value.
fn judge_scope(prefix: &str, o: &Objectives, m: &Measured, out: &mut Vec<SloCheck>) {
    for b in bounds(o) {
        // (value, evidence that it was measured, unfinished it counts)
        let (value, measured, unfinished) = match b.what {
            // No LLM request measured is no evidence of meeting a bound.
            What::Token(ttft, k) => match &m.tokens {
                Some(t) => (stat(if ttft { &t.0 } else { &t.1 }, k), true, 0),
                None => (f64::NAN, false, 0),
            },
            // No completed request is no evidence of meeting a bound.
            What::Latency(k) => {
                let v = stat(&m.latency, k);
                let moved = v != stat(&m.done, k);
                (v, m.completed > 0, if moved { m.unfinished } else { 0 })
            }
            What::Job(k) => match &m.jobs {
                Some(j) => {
                    let v = stat(&j.0, k);
                    (v, j.1.count() > 0, if v != stat(&j.1, k) { j.2 } else { 0 })
                }
                None => (f64::NAN, false, 0),
            },
            What::ErrorRate => (m.error_rate(), true, m.outcome.timed_out),
            What::Availability => (1.0 - m.error_rate(), true, m.outcome.timed_out),
            What::Utilization => (m.utilization.unwrap_or(f64::NAN), true, 0),
            What::PeakUtilization => (
                m.peak
                    .as_ref()
                    .and_then(|p| p.utilization)
                    .unwrap_or(f64::NAN),
                true,
                0,
            ),
            // No completion in the window is no evidence for a latency.
            What::PeakLatency(k) => match &m.peak {
                Some(p) => (
                    if k == "p95" { p.p95_s } else { p.p99_s },
                    p.completions > 0,
                    0,
                ),
                None => (f64::NAN, false, 0),
            },
            What::PeakErrorRate => match &m.peak {
                Some(p) => (p.error_rate, true, 0),
                None => (f64::NAN, false, 0),
            },
        };
        let note = match b.what {
            What::PeakUtilization | What::PeakLatency(_) | What::PeakErrorRate => {
                m.peak.as_ref().map(PeakWindow::note)
            }
            _ => None,
        };
        let meets = if b.op == ">=" {
            value >= b.limit
        } else {
            value <= b.limit
        };
        out.push(SloCheck {
            metric: format!("{prefix}{}", b.key),
            op: b.op,
            unit: b.unit,
            limit: b.limit,
            value,
            passed: measured && meets,
            unfinished: (unfinished > 0).then_some(unfinished),
            note,
        });
    }
}

/// A failed check for each queue whose backlog grew through the run: at
/// the end it is more than twice its mean over the first half of the
/// measured windows, and its workers, at their measured rate, would take
/// longer than a tenth of the measured run (and than the grace) to clear
/// it. A backlog that drains within the day is a design; one that grows
/// without bound is a queue that does not keep up.
fn growing_backlogs(r: &RunReport, grace: f64) -> Vec<SloCheck> {
    let warmup = r.simulated_s - r.measured_s;
    let mut out = Vec::new();
    for c in &r.components {
        let Some(j) = &c.jobs else { continue };
        let depths: Vec<f64> = r
            .timeseries
            .iter()
            .filter(|w| w.component == c.name && w.t_s > warmup + 1e-9)
            .filter_map(|w| w.queue_len)
            .collect();
        let half = &depths[..depths.len().div_ceil(2)];
        let early = if half.is_empty() {
            0.0
        } else {
            half.iter().sum::<f64>() / half.len() as f64
        };
        let end = j.backlog_at_end as f64;
        let rate = j.done as f64 / r.measured_s;
        let drain_s = if rate > 0.0 {
            end / rate
        } else {
            f64::INFINITY
        };
        let grew = end > 2.0 * early.max(1.0);
        if grew && drain_s > grace.max(0.1 * r.measured_s) {
            let clear = if drain_s.is_finite() {
                format!(
                    "its workers would take {} to clear it at their measured rate",
                    human_secs(drain_s)
                )
            } else {
                "its workers finished no job after warm-up".to_string()
            };
            out.push(SloCheck {
                metric: format!("components.{}.bounded_backlog", c.name),
                op: "<=",
                unit: "count",
                limit: (2.0 * early.max(1.0)).round(),
                value: end,
                passed: false,
                unfinished: Some(j.unfinished.len() as u64),
                note: Some(format!(
                    "the backlog of {} grew through the run, from {:.0} jobs on average in its first half to {} at the end; {clear}: the queue does not keep up",
                    c.name, early, j.backlog_at_end
                )),
            });
        }
    }
    out
}

/// Minutes of `_system` windows (after warm-up) that broke a whole-run
/// objective of `o` (objectives a window does not measure, p90/p999/max,
/// are left to the whole-run check).
fn violation_minutes(o: &Objectives, r: &RunReport) -> f64 {
    let warmup = r.simulated_s - r.measured_s;
    let bounds = o.latency_bounds();
    let token_bounds: Vec<(&str, f64)> = o
        .token_bounds()
        .into_iter()
        .filter(|b| b.1 == "p99")
        .map(|(w, _, l)| (w, l))
        .collect();
    let error_limit = o
        .error_rate
        .map(|f| f.get())
        .or(o.availability.map(|a| 1.0 - a.get()));
    let mut prev = 0.0;
    let mut seconds = 0.0;
    // Rows come window by window, each window's `_system` row last: an LLM
    // component's row may break a token bound of its window.
    let mut tokens_late = false;
    for w in &r.timeseries {
        if w.component != "_system" {
            tokens_late |= token_bounds.iter().any(|&(what, limit)| {
                let v = if what == "ttft" {
                    w.ttft_p99_s
                } else {
                    w.tpot_p99_s
                };
                v.is_some_and(|v| v > limit)
            });
            continue;
        }
        let start = std::mem::replace(&mut prev, w.t_s);
        let window_tokens_late = std::mem::take(&mut tokens_late);
        if start + 1e-9 < warmup {
            continue;
        }
        let late = w.completions > 0
            && bounds.iter().any(|&(k, limit)| {
                let v = match k {
                    "mean" => w.mean_s,
                    "p50" => w.p50_s,
                    "p95" => w.p95_s,
                    "p99" => w.p99_s,
                    _ => return false,
                };
                v > limit
            });
        let failing = match error_limit {
            Some(limit) if w.arrivals > 0 => w.errors() as f64 / w.arrivals as f64 > limit,
            _ => false,
        };
        if late || window_tokens_late || failing {
            seconds += w.t_s - start;
        }
    }
    seconds / 60.0
}
