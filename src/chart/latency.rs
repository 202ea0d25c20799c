//! `latency`: end-to-end percentiles per window with the SLOs, and each
//! job queue's job latency.

use super::figure::{key, Swatch};
use super::format::{elapsed_label, fmt_dur, fmt_num, fmt_secs, fmt_value, plural, Unit};
use super::incidents::incident_layers;
use super::style::{palette, MEAN, P50, P95, P99, SLO_RED};
use super::timeline::{dashed, latency_axis, series_layers, Panel, RunFigure};
use super::windows::{Ctx, Pt};
use crate::scenario::SloConfig;
use plotters::prelude::*;
use scalesim_models::system::TsRow;

/// Latency objectives of `slo`: (label, bound in seconds).
fn latency_slos(slo: &SloConfig) -> Vec<(&'static str, f64)> {
    slo.run()
        .latency_bounds()
        .into_iter()
        .map(|(k, v)| (if k == "p999" { "p99.9" } else { k }, v))
        .collect()
}

/// The `latency` chart: p50/p95/p99 (and the mean with a mean SLO) per
/// window with each latency SLO, then each job queue's job latency.
pub(crate) fn latency_figure<'a>(c: &'a Ctx, slo: &SloConfig) -> RunFigure<'a> {
    let queues: Vec<usize> = c
        .queues()
        .into_iter()
        .filter(|&i| c.reports(i, |r| r.job_p99_s.is_some()))
        .collect();
    let title = if queues.is_empty() {
        "end-to-end latency per window"
    } else {
        "end-to-end and job latency per window"
    };
    let mut fig = c.figure("latency", title);
    let l = &c.summary.latency_s;
    let slos = latency_slos(slo);
    let pct = |f: fn(&TsRow) -> f64| {
        c.series(|i| {
            let r = c.data.system[i];
            (r.completions > 0).then(|| (f(r), r.completions as f64))
        })
    };
    let mut lines: Vec<(String, RGBColor, Vec<Option<Pt>>)> = Vec::new();
    if slo.mean.is_some() {
        lines.push(("mean".into(), MEAN, pct(|r| r.mean_s)));
    }
    lines.push(("p50".into(), P50, pct(|r| r.p50_s)));
    lines.push(("p95".into(), P95, pct(|r| r.p95_s)));
    lines.push(("p99".into(), P99, pct(|r| r.p99_s)));
    let slo_max = slos.iter().map(|s| s.1).fold(0.0, f64::max);
    let (y, map) = latency_axis(
        lines.iter().map(|l| l.2.as_slice()),
        slo_max,
        if queues.is_empty() {
            "latency"
        } else {
            "request latency"
        },
    );
    let (mut layers, marks) = incident_layers(&c.run.incidents, None);
    // Only the p99 gets a min/max band: overlapping bands would hide the
    // lines, and the highest p99 is what an SLO review looks for.
    for (name, colour, pts) in &lines {
        let band = c.banded() && name == "p99";
        layers.extend(series_layers(pts, *colour, 2, band, map));
        fig.head
            .legend
            .push(key(name.clone(), *colour, Swatch::Line));
    }
    let mut hlines = Vec::new();
    for (name, bound) in &slos {
        let label = format!("SLO {name} ≤ {}", fmt_secs(*bound));
        hlines.push((map(*bound), label, SLO_RED));
    }
    if !slos.is_empty() {
        fig.head
            .legend
            .push(key("SLO bound", SLO_RED, Swatch::Dashed));
    }
    fig.head.legend.extend(marks);
    let mut sub = format!(
        "After warm-up: p50 {}, p95 {}, p99 {}, max {}.",
        fmt_dur(l.p50),
        fmt_dur(l.p95),
        fmt_dur(l.p99),
        fmt_dur(l.max),
    );
    // The end-to-end checks in full, the others counted, so that the
    // subtitle stays one line.
    let (own, others): (Vec<_>, Vec<_>) = c
        .summary
        .slo
        .checks
        .iter()
        .filter(|k| k.metric != "bounded_in_flight")
        .partition(|k| !k.metric.contains('.'));
    let value = |unit: &str, v: f64| match unit {
        "s" => fmt_dur(v),
        "share" => fmt_value(Unit::Ratio, v),
        _ => fmt_num(v),
    };
    let mut checks: Vec<String> = own
        .iter()
        .map(|k| {
            // The line gives these values already.
            let measured = if ["p50", "p95", "p99", "max"].contains(&k.metric.as_str()) {
                String::new()
            } else {
                format!(" {}", value(k.unit, k.value))
            };
            format!(
                "{}{measured} {} {} {}",
                k.metric,
                if k.op == ">=" { "≥" } else { "≤" },
                value(k.unit, k.limit),
                if k.passed { "pass" } else { "FAIL" }
            )
        })
        .collect();
    let failed = others.iter().filter(|k| !k.passed).count();
    match (others.len() as u32, failed) {
        (0, _) => {}
        (n, 0) => checks.push(format!("{} pass", plural(n, "other check"))),
        (n, f) => checks.push(format!("{f} of {} FAIL", plural(n, "other check"))),
    }
    if !checks.is_empty() {
        sub.push_str(&format!("  SLO {}.", checks.join(", ")));
    }
    fig.head.subtitle = vec![sub];
    let empty = lines.iter().all(|l| l.2.iter().all(Option::is_none));
    let window = elapsed_label(c.data.dt.first().copied().unwrap_or(0.0));
    fig.body.panels.push(Panel {
        hlines,
        empty: empty.then(|| "no request completed".into()),
        ..Panel::new(y, layers).titled(format!(
            "request latency (arrival to answer) of the requests completed in each {window} window"
        ))
    });
    if !queues.is_empty() {
        job_latency_panel(c, &queues, &mut fig);
    }
    fig
}

/// The latency figure's second panel: the job latency (enqueue to done) of
/// each queue in `queues`, p99 solid and mean dashed in the queue's colour,
/// on its own scale (jobs usually take far longer than requests).
fn job_latency_panel(c: &Ctx, queues: &[usize], fig: &mut RunFigure) {
    let mut series = Vec::new();
    let mut notes = Vec::new();
    for &i in queues {
        let p99 = c.job_series(i, |r| r.job_p99_s);
        let mean = c.job_series(i, |r| r.job_mean_s);
        series.push((i, p99, mean));
    }
    let (y, map) = latency_axis(
        series.iter().flat_map(|s| [s.1.as_slice(), s.2.as_slice()]),
        0.0,
        "job latency",
    );
    let mut layers = Vec::new();
    for (i, p99, mean) in &series {
        let colour = palette(*i);
        let name = &c.data.comps[*i].0;
        layers.extend(dashed(series_layers(mean, colour, 2, false, map)));
        layers.extend(series_layers(p99, colour, 2, c.banded(), map));
        // The legend gives the whole run's figures after warm-up.
        let j = c.component(name);
        let jl = j.and_then(|j| j.job_latency_s.as_ref());
        let after = |v: Option<f64>| v.map(|v| format!(" {}", fmt_dur(v))).unwrap_or_default();
        fig.head.legend.push(key(
            format!("{name}: job latency p99{}", after(jl.map(|l| l.p99))),
            colour,
            Swatch::Line,
        ));
        fig.head.legend.push(key(
            format!("{name}: job latency mean{}", after(jl.map(|l| l.mean))),
            colour,
            Swatch::Dashed,
        ));
        if let Some(j) = j.filter(|j| j.jobs_completed.is_some()) {
            notes.push(format!(
                "{name} {} done, {} failed",
                fmt_num(j.jobs_completed.unwrap_or(0) as f64),
                fmt_num(j.jobs_failed.unwrap_or(0) as f64)
            ));
        }
    }
    let mut title =
        String::from("job latency (enqueue to done) of the jobs finished in each window");
    if !notes.is_empty() {
        title.push_str(&format!("; after warm-up {}", notes.join(", ")));
    }
    let empty = series
        .iter()
        .all(|s| s.1.iter().chain(&s.2).all(Option::is_none));
    fig.body.panels.push(Panel {
        empty: empty.then(|| "no job finished".into()),
        ..Panel::new(y, layers).titled(title)
    });
}
