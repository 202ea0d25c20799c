//! Writing a run's results: `summary.json`, `timeseries.csv`, and the
//! human-readable summary table.

pub mod assumptions;
pub mod report;
pub mod summary;

use crate::output::summary::Summary;
use scalesim_models::system::{Incident, ScalingEvent, TsRow};
use std::fmt::Write as _;
use std::io;
use std::path::Path;

/// Writes `summary.json` (pretty-printed, trailing newline).
pub fn write_summary(dir: &Path, s: &Summary) -> io::Result<()> {
    let mut text = serde_json::to_string_pretty(s).map_err(io::Error::other)?;
    text.push('\n');
    std::fs::write(dir.join("summary.json"), text)
}

/// The CSV header of `timeseries.csv`.
pub const TIMESERIES_HEADER: [&str; 34] = [
    "t_s",
    "component",
    "arrivals",
    "completions",
    "rejections",
    "timed_out",
    "failed",
    "latency_mean_s",
    "latency_p50_s",
    "latency_p95_s",
    "latency_p99_s",
    "wait_mean_s",
    "utilization",
    "cpu",
    "queue_len",
    "in_flight",
    "hit_ratio",
    "instances",
    "instances_desired",
    "instances_pending",
    "cost_usd",
    "forecast_rps",
    "job_latency_mean_s",
    "job_latency_p99_s",
    "ttft_p99_s",
    "tpot_p99_s",
    "itl_p99_s",
    "tokens_per_s",
    "kv_use",
    "batch_mean",
    "preemptions",
    "users",
    "memory",
    "transfer_gb",
];

fn opt(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// Writes `timeseries.csv`: one row per sampling window per component,
/// plus a `_system` row with end-to-end figures. Empty cells mean "does
/// not apply" (utilization of a cache, hit ratio of a pool).
pub fn write_timeseries(dir: &Path, rows: &[TsRow]) -> io::Result<()> {
    let mut w = csv::Writer::from_path(dir.join("timeseries.csv"))?;
    w.write_record(TIMESERIES_HEADER)?;
    for r in rows {
        w.write_record([
            r.t_s.to_string(),
            r.component.clone(),
            r.arrivals.to_string(),
            r.completions.to_string(),
            r.rejections.to_string(),
            r.timed_out.to_string(),
            r.failed.to_string(),
            r.mean_s.to_string(),
            r.p50_s.to_string(),
            r.p95_s.to_string(),
            r.p99_s.to_string(),
            opt(r.wait_mean_s),
            opt(r.utilization),
            opt(r.cpu),
            opt(r.queue_len),
            r.in_flight.to_string(),
            opt(r.hit_ratio),
            r.instances.map(|n| n.to_string()).unwrap_or_default(),
            r.instances_desired
                .map(|n| n.to_string())
                .unwrap_or_default(),
            r.instances_pending
                .map(|n| n.to_string())
                .unwrap_or_default(),
            opt(r.cost_usd),
            opt(r.forecast_rps),
            opt(r.job_mean_s),
            opt(r.job_p99_s),
            opt(r.ttft_p99_s),
            opt(r.tpot_p99_s),
            opt(r.itl_p99_s),
            opt(r.tokens_per_s),
            opt(r.kv_use),
            opt(r.batch_mean),
            r.preemptions.map(|n| n.to_string()).unwrap_or_default(),
            opt(r.users),
            opt(r.memory),
            opt(r.transfer_gb),
        ])?;
    }
    w.flush()
}

/// Writes `scaling_events.csv`: every change of a pool's desired capacity
/// with the policy's reason.
pub fn write_scaling_events(dir: &Path, events: &[ScalingEvent]) -> io::Result<()> {
    let mut w = csv::Writer::from_path(dir.join("scaling_events.csv"))?;
    w.write_record(["t_s", "component", "from", "to", "ready", "reason"])?;
    for e in events {
        w.write_record([
            e.t_s.to_string(),
            e.component.clone(),
            e.from.to_string(),
            e.to.to_string(),
            e.ready.to_string(),
            e.reason.clone(),
        ])?;
    }
    w.flush()
}

/// What failed at component `c` and what callers' policies did there, as
/// phrases (none: nothing to say).
pub(crate) fn faults(c: &summary::ComponentJson) -> Vec<String> {
    let counts = [
        (c.failures, "instance failures"),
        (c.spot_interruptions, "spot interruptions"),
        (c.ejections, "ejected"),
    ];
    let mut out: Vec<String> = counts
        .iter()
        .filter_map(|&(n, what)| n.filter(|&n| n > 0).map(|n| format!("{n} {what}")))
        .collect();
    if let Some(d) = c.detection_mean_s.filter(|_| c.ejections.unwrap_or(0) > 0) {
        out.push(format!("detected after {} on average", human_secs(d)));
    }
    if let Some(t) = c.no_healthy_s.filter(|&t| t > 0.0) {
        out.push(format!("{} with none ready", human_secs(t)));
    }
    let counts = [
        (Some(c.failed), "requests lost here"),
        (c.limited, "limited (429)"),
        (c.retries, "retries"),
        (c.hedges, "hedges"),
        (c.wasted, "answers wasted"),
        (c.cancelled, "cancelled"),
        (c.breaker_opens, "breaker openings"),
        (c.short_circuited, "short-circuited"),
    ];
    out.extend(
        counts
            .iter()
            .filter_map(|&(n, what)| n.filter(|&n| n > 0).map(|n| format!("{n} {what}"))),
    );
    if let Some(a) = c.retry_amplification.filter(|&a| a > 1.0) {
        out.push(format!("{a:.2} attempts per request"));
    }
    if let Some(n) = c.memory.as_ref().map(|m| m.oom_kills).filter(|&n| n > 0) {
        out.push(format!("{n} OOM kills"));
    }
    if let Some(n) = c.evictions {
        out.push(format!("{n} pods evicted to resize them (VPA)"));
    }
    if let Some(cr) = &c.credits {
        if let Some(t) = cr.first_empty_s {
            out.push(format!(
                "CPU credits ran out at {} ({} mode; {:.1}% of instance-time at the baseline)",
                human_secs(t),
                cr.mode,
                100.0 * cr.throttled_share
            ));
        }
    }
    out
}

/// Writes `incidents.csv`: every instance failure and repair and every
/// outage's start and end (`instance` empty for a zone or a component).
pub fn write_incidents(dir: &Path, incidents: &[Incident]) -> io::Result<()> {
    let mut w = csv::Writer::from_path(dir.join("incidents.csv"))?;
    w.write_record(["t_s", "component", "instance", "what"])?;
    for i in incidents {
        let inst = match i.instance {
            u32::MAX => String::new(),
            n => n.to_string(),
        };
        w.write_record([
            i.t_s.to_string(),
            i.component.clone(),
            inst,
            i.what.to_string(),
        ])?;
    }
    w.flush()
}

/// Formats seconds for people: 312µs, 45.2ms, 1.25s, 3m12s.
pub fn human_secs(s: f64) -> String {
    // What rounds to 0 µs is written 0, as an exact zero is: one zero in a
    // column, not "0" beside "0µs".
    if s.abs() < 0.5e-6 {
        "0".into()
    } else if s >= 86400.0 {
        format!(
            "{}d{:02}h",
            (s / 86400.0) as u64,
            ((s % 86400.0) / 3600.0) as u64
        )
    } else if s >= 3600.0 {
        format!(
            "{}h{:02}m",
            (s / 3600.0) as u64,
            ((s % 3600.0) / 60.0) as u64
        )
    } else if s < 1e-3 {
        format!("{:.0}µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.1}ms", s * 1e3)
    } else if s < 120.0 {
        format!("{s:.2}s")
    } else {
        format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64)
    }
}

/// The summary table printed by `scalesim run`.
pub fn table(s: &Summary) -> String {
    let mut o = String::new();
    let r = &s.requests;
    let _ = writeln!(
        o,
        "scenario {}  seed {}  simulated {}  (measured {} after warm-up)",
        s.scenario,
        s.seed,
        human_secs(s.simulated_s),
        human_secs(s.measured_s)
    );
    let _ = writeln!(
        o,
        "requests  arrived {}  completed {}  rejected {}{}{}  in flight at end {}{}  error rate {:.4}%  availability {:.4}%{}  throughput {:.2}/s",
        r.arrived,
        r.completed,
        r.rejected,
        match r.timed_out - r.timed_out_at_end {
            0 => String::new(),
            n => format!("  timed out {n}"),
        },
        match r.failed {
            0 => String::new(),
            n => format!("  failed {n}"),
        },
        r.in_flight_at_end,
        if r.timed_out_at_end > 0 {
            format!(" ({} timed out at the end)", r.timed_out_at_end)
        } else {
            String::new()
        },
        s.error_rate * 100.0,
        s.availability * 100.0,
        match &s.availability_minutes {
            Some(m) if m.met < m.minutes => format!(
                " ({} of {} minutes at {}%)",
                m.met,
                m.minutes,
                m.target * 100.0
            ),
            _ => String::new(),
        },
        s.throughput_rps
    );
    let l = &s.latency_s;
    let _ = writeln!(
        o,
        "latency   mean {}  p50 {}  p90 {}  p95 {}  p99 {}  p99.9 {}  max {}",
        human_secs(l.mean),
        human_secs(l.p50),
        human_secs(l.p90),
        human_secs(l.p95),
        human_secs(l.p99),
        human_secs(l.p999),
        human_secs(l.max)
    );
    for (name, p) in &s.regions.0 {
        let _ = writeln!(o, "{}", place_line(name, p));
    }
    for (name, u) in &s.virtual_users.0 {
        let _ = writeln!(
            o,
            "users     {name}: mean {:.1}  max {}{}",
            u.mean,
            u.max,
            match (u.sessions, u.sessions_per_s) {
                (Some(n), Some(x)) => format!("  sessions finished {n} ({x:.2}/s)"),
                _ => String::new(),
            }
        );
    }
    let _ = writeln!(o);
    // Columns as wide as the longest name (regional copies and links).
    let nw = s
        .components
        .0
        .iter()
        .map(|(n, _)| n.len())
        .max()
        .unwrap_or(0)
        .max(16);
    let kw = s
        .components
        .0
        .iter()
        .map(|(_, c)| c.kind.len())
        .max()
        .unwrap_or(0)
        .max(6);
    let _ = writeln!(
        o,
        "{:<nw$} {:<kw$} {:>9} {:>7} {:>10} {:>10} {:>9} {:>9} {:>10} {:>10} {:>8}",
        "component",
        "kind",
        "util",
        "cpu",
        "wait",
        "queue",
        "in sys",
        "rps",
        "mean resp",
        "p99 resp",
        "hit"
    );
    for (name, c) in &s.components.0 {
        let pct = |v: Option<f64>| {
            v.map(|x| format!("{:.1}%", x * 100.0))
                .unwrap_or_else(|| "-".into())
        };
        let _ = writeln!(
            o,
            "{:<nw$} {:<kw$} {:>9} {:>7} {:>10} {:>10} {:>9.2} {:>9.2} {:>10} {:>10} {:>8}",
            name,
            c.kind,
            pct(c.utilization),
            pct(c.cpu),
            c.mean_wait_s.map(human_secs).unwrap_or_else(|| "-".into()),
            c.mean_queue_len
                .map(|q| format!("{q:.2}"))
                .unwrap_or_else(|| "-".into()),
            c.mean_in_system,
            c.throughput_rps,
            human_secs(c.mean_response_s),
            human_secs(c.p99_response_s),
            pct(c.hit_ratio),
        );
    }
    // What failed and what the policies did, per component.
    let mut first = true;
    for (name, c) in &s.components.0 {
        let line = faults(c);
        if !line.is_empty() {
            let _ = writeln!(
                o,
                "{}faults    {name}: {}",
                if std::mem::take(&mut first) { "\n" } else { "" },
                line.join(", ")
            );
        }
    }
    // The busiest window of the system and of each component with
    // instances or a queue: what the whole-run means above hide.
    let peaks = s
        .peak
        .iter()
        .map(|p| ("system", p))
        .chain(s.components.0.iter().filter_map(|(name, c)| {
            c.peak
                .as_ref()
                .filter(|p| p.utilization.is_some() || c.kind == "queue")
                .map(|p| (name.as_str(), p))
        }));
    for (i, (name, p)) in peaks.enumerate() {
        let _ = writeln!(
            o,
            "{}peak      {name}: {}{}p99 {}{}  in the {} window ending {} after the start; busiest hour from {} at {:.1} req/s",
            if i == 0 { "\n" } else { "" },
            p.utilization
                .map(|u| format!("{:.1}% busy  ", u * 100.0))
                .unwrap_or_default(),
            p.queue_len
                .map(|q| format!("queue {q:.1}  "))
                .unwrap_or_default(),
            human_secs(p.p99_s),
            if p.error_rate > 0.0 {
                format!("  errors {}", fmt_check("share", p.error_rate))
            } else {
                String::new()
            },
            human_secs(p.window_s),
            human_secs(p.at_s),
            human_secs(p.busiest_hour_start_s),
            p.busiest_hour_arrivals_per_s,
        );
    }
    // A queue's row above is its callers' view (response = the ack) with
    // the job wait and the mean depth in `wait` and `queue`; its jobs'
    // own latency, enqueue to done, goes on a line of its own.
    let mut first = true;
    for (name, c) in &s.components.0 {
        let Some(j) = &c.job_latency_s else { continue };
        let _ = writeln!(
            o,
            "{}jobs      {name}: {} done  {} failed  latency mean {}  p50 {}  p95 {}  p99 {}  max {}  (enqueue to done)",
            if first { "\n" } else { "" },
            c.jobs_completed.unwrap_or(0),
            c.jobs_failed.unwrap_or(0),
            human_secs(j.mean),
            human_secs(j.p50),
            human_secs(j.p95),
            human_secs(j.p99),
            human_secs(j.max)
        );
        first = false;
    }
    // LLM components: token latencies, throughput, memory and money.
    let mut first = true;
    for (name, c) in &s.components.0 {
        let (Some(t), Some(p)) = (&c.ttft_s, &c.tpot_s) else {
            continue;
        };
        let _ = writeln!(
            o,
            "{}llm       {name}: TTFT mean {}  p50 {}  p99 {}   TPOT mean {}  p99 {}   ITL p99 {}",
            if first { "\n" } else { "" },
            human_secs(t.mean),
            human_secs(t.p50),
            human_secs(t.p99),
            human_secs(p.mean),
            human_secs(p.p99),
            human_secs(c.itl_s.as_ref().map_or(0.0, |i| i.p99)),
        );
        let _ = writeln!(
            o,
            "          {:.1} GPUs  {:.0} output tokens/s ({:.0} per GPU)  batch {:.1}  KV use {:.1}% of {} tokens/replica  {} preemptions  ${:.3} per 1M output tokens",
            c.gpus_mean.unwrap_or(0.0),
            c.output_tokens_per_s.unwrap_or(0.0),
            c.output_tokens_per_s_per_gpu.unwrap_or(0.0),
            c.batch_mean.unwrap_or(0.0),
            c.kv_use_mean.unwrap_or(0.0) * 100.0,
            c.kv_tokens.unwrap_or(0),
            c.preemptions.unwrap_or(0),
            c.cost_per_1m_output_tokens.unwrap_or(0.0),
        );
        first = false;
    }
    let c = &s.cost_usd;
    if c.total > 0.0 {
        let _ = writeln!(
            o,
            "\ncost      ${:.2} for the run  ${:.2}/hour  {}  ${:.4} per 1k requests",
            c.total,
            c.per_hour,
            c.month_text(),
            c.per_1k_requests
        );
        // Lines of nothing (a link no user took) stay in summary.json.
        let shown: Vec<_> = c.lines.iter().filter(|l| l.quantity > 0.0).collect();
        let who = |l: &&summary::BillLineJson| -> String {
            if l.component.is_empty() {
                "account".into()
            } else {
                l.component.clone()
            }
        };
        let ww = shown
            .iter()
            .map(|l| who(l).len())
            .max()
            .unwrap_or(0)
            .max(10);
        let iw = shown
            .iter()
            .map(|l| l.item.len())
            .max()
            .unwrap_or(0)
            .max(34);
        for l in &shown {
            let _ = writeln!(
                o,
                "          {:<ww$} {:<iw$} {:>12.4} {:<17} ${:.2}",
                who(l),
                l.item,
                l.quantity,
                l.unit,
                l.usd
            );
        }
    }
    for (i, n) in s.cost_usd.not_priced.iter().enumerate() {
        let head = if i == 0 { "unpriced" } else { "" };
        let _ = writeln!(o, "{head:<10}{n}");
    }
    if let Some(w) = &s.runaway {
        let _ = writeln!(o, "\nRUNAWAY: {}", w.message);
    }
    let _ = writeln!(o);
    if s.slo.checks.is_empty() {
        let _ = writeln!(o, "SLO       none set");
    } else {
        let w = s
            .slo
            .checks
            .iter()
            .map(|c| c.metric.len())
            .max()
            .unwrap_or(0)
            .max(18);
        for c in &s.slo.checks {
            let verdict = if c.passed { "pass" } else { "FAIL" };
            let remark = c.remark();
            let _ = match remark {
                Some(note) if c.is_guard() => {
                    writeln!(o, "SLO       {:<w$} {verdict}: {note}", c.metric)
                }
                _ => writeln!(
                    o,
                    "SLO       {:<w$} {:>12} {} {:<12} {verdict}{}",
                    c.metric,
                    fmt_check(c.unit, c.value),
                    c.op,
                    fmt_check(c.unit, c.limit),
                    remark.map(|r| format!("  ({r})")).unwrap_or_default()
                ),
            };
        }
        let _ = writeln!(
            o,
            "SLO       {}",
            if s.slo.passed { "PASSED" } else { "FAILED" }
        );
    }
    let _ = writeln!(
        o,
        "engine    {} events in {:.3}s wall ({:.1} M events/s)",
        s.engine.events,
        s.engine.wall_s,
        s.engine.events_per_s / 1e6
    );
    o
}

/// Lines of cells as aligned columns, two spaces apart: the first column
/// left-aligned when `label_first`, every other one right-aligned.
pub fn columns<S: AsRef<str>>(lines: &[Vec<S>], label_first: bool) -> String {
    let n = lines.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|c| {
            lines
                .iter()
                .filter_map(|l| l.get(c))
                .map(|s| s.as_ref().chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut o = String::new();
    for l in lines {
        let mut line = String::new();
        for (c, (cell, w)) in l.iter().zip(&widths).enumerate() {
            let cell = cell.as_ref();
            if c > 0 {
                line.push_str("  ");
            }
            if c == 0 && label_first {
                line.push_str(&format!("{cell:<w$}"));
            } else {
                line.push_str(&format!("{cell:>w$}"));
            }
        }
        o.push_str(line.trim_end());
        o.push('\n');
    }
    o
}

/// An SLO check's figure in its unit (`s`, `share`, `count`).
pub fn fmt_check(unit: &str, v: f64) -> String {
    match unit {
        "s" if v.is_nan() => "none".into(),
        "s" => human_secs(v),
        "share" if v.is_nan() => "none".into(),
        "share" => {
            let p = format!("{:.4}", v * 100.0);
            format!("{}%", p.trim_end_matches('0').trim_end_matches('.'))
        }
        _ => format!("{v}"),
    }
}

/// One terminal line of a region or client area.
fn place_line(name: &str, p: &summary::PlaceJson) -> String {
    let head = if p.kind == "region" { "region" } else { "area" };
    let mut line = format!(
        "{head:<9} {name}: {} requests  p95 {}  p99 {}  availability {:.4}%",
        p.requests,
        human_secs(p.latency_s.p95),
        human_secs(p.latency_s.p99),
        p.availability * 100.0
    );
    if let (Some(i), Some(c)) = (p.instances_mean, p.cost_usd) {
        line += &format!("  {i:.1} instances  ${c:.2}");
    }
    let served = p.served_shares();
    if !served.is_empty() {
        line += &format!("  served by {}", served.join(", "));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_seconds() {
        assert_eq!(human_secs(0.000312), "312µs");
        assert_eq!(
            (human_secs(0.0), human_secs(2e-7)),
            ("0".into(), "0".into())
        );
        assert_eq!(human_secs(0.0452), "45.2ms");
        assert_eq!(human_secs(1.25), "1.25s");
        assert_eq!(human_secs(192.0), "3m12s");
        assert_eq!(human_secs(5400.0), "1h30m");
        assert_eq!(human_secs(86400.0 * 7.0), "7d00h");
    }
}
