//! `report.html`: one self-contained page per run, with the summary
//! tables (requests, latency, components, cost, SLO verdict) and the
//! charts of [`crate::chart`] inlined as SVG.
//!
//! The page loads nothing from outside (no scripts, fonts, stylesheets or
//! images), and holds no timestamp and no engine timing, so the same run
//! gives a byte-identical file.

use crate::chart::format::fmt_usd as usd;
use crate::chart::{self, Chart};
use crate::output::assumptions::Assumptions;
use crate::output::summary::Summary;
use crate::output::{fmt_check, human_secs};
use crate::scenario::{Loaded, SloConfig};
use chrono::NaiveDateTime;
use scalesim_models::system::RunReport;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

/// Draws every chart ([`chart::draw_charts`]) and writes `report.html`
/// into `dir`; returns every file written (the charts' SVG and PNG, then
/// the report). `start` is the local wall-clock time at t = 0, if known.
/// The report has no assumptions section; [`write_run`] adds it.
pub fn write_all(
    dir: &Path,
    run: &RunReport,
    summary: &Summary,
    slo: &SloConfig,
    start: Option<NaiveDateTime>,
) -> io::Result<Vec<PathBuf>> {
    write_with(dir, run, summary, slo, start, &Assumptions::default())
}

/// [`write_all`] for a loaded scenario: the report gains the
/// assumptions section (what the run modelled, priced and left out).
pub fn write_run(
    dir: &Path,
    loaded: &Loaded,
    run: &RunReport,
    summary: &Summary,
) -> io::Result<Vec<PathBuf>> {
    let cal = &loaded.calendar;
    let start = cal.is_dated().then(|| cal.start_local());
    let a = Assumptions::of(loaded);
    write_with(dir, run, summary, &loaded.scenario.slo, start, &a)
}

fn write_with(
    dir: &Path,
    run: &RunReport,
    summary: &Summary,
    slo: &SloConfig,
    start: Option<NaiveDateTime>,
    assumptions: &Assumptions,
) -> io::Result<Vec<PathBuf>> {
    let charts = chart::draw_charts(dir, run, summary, slo, start)?;
    let mut paths: Vec<PathBuf> = charts
        .iter()
        .flat_map(|c| [c.svg_path.clone(), c.png_path.clone()])
        .collect();
    let path = dir.join("report.html");
    std::fs::write(&path, html(summary, charts.as_slice(), assumptions))?;
    paths.push(path);
    Ok(paths)
}

/// The report page: a header with the SLO verdict, tables of requests,
/// latency, cost, components and SLO checks, then each chart as inline
/// SVG with links to its SVG and PNG files.
pub fn html(s: &Summary, charts: &[Chart], assumptions: &Assumptions) -> String {
    let mut o =
        String::with_capacity(64 * 1024 + charts.iter().map(|c| c.svg.len()).sum::<usize>());
    let name = esc(&s.scenario);
    let verdict = if s.slo.checks.is_empty() {
        ("none", "no SLO set")
    } else if s.slo.passed {
        ("pass", "SLO PASSED")
    } else {
        ("fail", "SLO FAILED")
    };
    let _ = write!(
        o,
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>scalesim report: {name}</title>
<style>
body {{ font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #222; margin: 0; background: #f5f6f8; }}
main {{ max-width: 1240px; margin: 0 auto; padding: 24px 20px 48px; }}
h1 {{ font-size: 28px; margin: 0 0 4px; }}
h2 {{ font-size: 20px; margin: 32px 0 10px; }}
p.meta {{ color: #5f6368; margin: 0 0 12px; }}
.verdict {{ display: inline-block; padding: 4px 12px; border-radius: 4px; font-weight: bold; }}
.verdict.pass {{ background: #e3f4e8; color: #1b7a3d; }}
.verdict.fail {{ background: #fde4e4; color: #b3261e; }}
.verdict.none {{ background: #eceef1; color: #5f6368; }}
.warn {{ background: #fde4e4; color: #b3261e; padding: 10px 14px; border-radius: 4px; }}
.cards {{ display: flex; flex-wrap: wrap; gap: 12px; }}
.card {{ background: #fff; border: 1px solid #dfe2e6; border-radius: 6px; padding: 10px 16px; min-width: 150px; }}
.card .k {{ color: #5f6368; font-size: 13px; }}
.card .v {{ font-size: 20px; font-weight: bold; }}
table {{ border-collapse: collapse; background: #fff; border: 1px solid #dfe2e6; font-size: 14px; }}
th, td {{ padding: 5px 9px; border-bottom: 1px solid #eceef1; text-align: right; white-space: nowrap; }}
th {{ background: #eceef1; font-weight: 600; }}
td:first-child, th:first-child {{ text-align: left; }}
td.pass {{ color: #1b7a3d; font-weight: bold; }}
td.text, th.text {{ text-align: left; white-space: normal; }}
td.fail {{ color: #b3261e; font-weight: bold; }}
.scroll {{ overflow-x: auto; }}
table.assume {{ width: 100%; }}
table.assume th {{ width: 200px; vertical-align: top; text-align: left; }}
table.assume td {{ text-align: left; white-space: normal; overflow-wrap: anywhere; font-size: 13px; }}
figure {{ background: #fff; border: 1px solid #dfe2e6; border-radius: 6px; margin: 0 0 20px; padding: 8px; }}
figure svg {{ width: 100%; height: auto; display: block; }}
figcaption {{ font-size: 13px; color: #5f6368; padding: 4px 8px; }}
nav a, figcaption a {{ color: #21569b; }}
footer {{ color: #5f6368; font-size: 13px; margin-top: 32px; }}
</style>
</head>
<body>
<main>
<h1>{name}</h1>
<p class="meta">seed {seed} · simulated {sim} · measured {meas} after warm-up</p>
<p><span class="verdict {vclass}">{vtext}</span></p>
"#,
        seed = s.seed,
        sim = esc(&human_secs(s.simulated_s)),
        meas = esc(&human_secs(s.measured_s)),
        vclass = verdict.0,
        vtext = verdict.1,
    );
    if let Some(w) = &s.runaway {
        let _ = writeln!(o, "<p class=\"warn\">Runaway: {}</p>", esc(&w.message));
    }
    if !charts.is_empty() {
        o.push_str("<nav>Charts: ");
        let links: Vec<String> = charts
            .iter()
            .map(|c| format!("<a href=\"#{0}\">{0}</a>", esc(c.name)))
            .collect();
        o.push_str(&links.join(" · "));
        if !assumptions.groups.is_empty() {
            o.push_str(" · <a href=\"#assumptions\">assumptions</a>");
        }
        o.push_str("</nav>\n");
    }

    // Headline figures.
    let r = &s.requests;
    let l = &s.latency_s;
    o.push_str("<h2>Requests</h2>\n<div class=\"cards\">\n");
    let mut card = |k: &str, v: String| {
        let _ = writeln!(
            o,
            "<div class=\"card\"><div class=\"k\">{}</div><div class=\"v\">{}</div></div>",
            esc(k),
            esc(&v)
        );
    };
    card("arrived", thousands(r.arrived));
    card("completed", thousands(r.completed));
    card("rejected", thousands(r.rejected));
    if r.timed_out > r.timed_out_at_end {
        card("timed out", thousands(r.timed_out - r.timed_out_at_end));
    }
    if r.failed > 0 {
        card("lost to failures", thousands(r.failed));
    }
    card("in flight at end", thousands(r.in_flight_at_end));
    if r.timed_out_at_end > 0 {
        card("timed out at the end", thousands(r.timed_out_at_end));
    }
    card("throughput", format!("{:.2} req/s", s.throughput_rps));
    card("error rate", format!("{:.4}%", s.error_rate * 100.0));
    card("availability", format!("{:.4}%", s.availability * 100.0));
    if let Some(m) = &s.availability_minutes {
        card(
            &format!("minutes at {}%", m.target * 100.0),
            format!("{} of {} ({:.1}%)", m.met, m.minutes, m.share * 100.0),
        );
    }
    if s.cost_usd.total > 0.0 {
        card("cost of the run", usd(s.cost_usd.total));
        card(
            "per month (projected)",
            s.cost_usd
                .projected_month
                .map(usd)
                .unwrap_or_else(|| "none: run stopped early".into()),
        );
    }
    o.push_str("</div>\n");

    o.push_str(
        "<h2>End-to-end latency</h2>\n<div class=\"scroll\"><table>\n<tr><th>statistic</th>",
    );
    let stats = [
        ("mean", l.mean),
        ("p50", l.p50),
        ("p90", l.p90),
        ("p95", l.p95),
        ("p99", l.p99),
        ("p99.9", l.p999),
        ("max", l.max),
    ];
    for (k, _) in stats {
        let _ = write!(o, "<th>{k}</th>");
    }
    o.push_str("</tr>\n<tr><td>completed requests</td>");
    for (_, v) in stats {
        let _ = write!(o, "<td>{}</td>", esc(&human_secs(v)));
    }
    o.push_str("</tr>\n</table></div>\n");

    // SLO checks.
    o.push_str("<h2>Service-level objectives</h2>\n");
    if s.slo.checks.is_empty() {
        o.push_str("<p>No SLO is set in this scenario (add an <code>[slo]</code> table).</p>\n");
    } else {
        o.push_str(
            "<table>\n<tr><th>objective</th><th>measured</th><th>bound</th><th>verdict</th><th>note</th></tr>\n",
        );
        for c in &s.slo.checks {
            let note = c.remark().unwrap_or_default();
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{} {}</td><td class=\"{}\">{}</td><td>{}</td></tr>",
                esc(&c.metric),
                esc(&fmt_check(c.unit, c.value)),
                match c.op {
                    ">=" => "≥",
                    "<" => "<",
                    _ => "≤",
                },
                esc(&fmt_check(c.unit, c.limit)),
                if c.passed { "pass" } else { "fail" },
                if c.passed { "pass" } else { "FAIL" },
                esc(&note)
            );
        }
        o.push_str("</table>\n");
    }

    // Components: load and latency, then the peak, then money; three
    // narrow tables that fit a 1,400 px window instead of one that scrolls.
    let pct = |v: Option<f64>| v.map(|u| format!("{:.1}%", u * 100.0)).unwrap_or_else(dash);
    o.push_str("<h2>Components</h2>\n");
    let rows = s.components.0.iter().map(|(name, c)| {
        // A job queue runs no instances of its own (its workers do).
        let is_queue = c.kind == "queue";
        let cells = vec![
            c.kind.to_string(),
            c.instances_max
                .filter(|_| !is_queue)
                .map(|n| n.to_string())
                .unwrap_or_else(dash),
            format!("{:.2}/s", c.throughput_rps),
            match c.io {
                Some(io) => format!(
                    "{} ({})",
                    pct(c.utilization),
                    if io == "async" { "cores" } else { "threads" }
                ),
                None => pct(c.utilization),
            },
            pct(c.cpu),
            c.mean_wait_s.map(human_secs).unwrap_or_else(dash),
            c.mean_queue_len
                .map(|q| format!("{q:.2}"))
                .unwrap_or_else(dash),
            human_secs(c.mean_response_s),
            human_secs(c.p99_response_s),
            pct(c.hit_ratio),
        ];
        (name.clone(), cells)
    });
    let head = [
        "component",
        "kind",
        "instances",
        "throughput",
        "utilization",
        "cpu",
        "mean wait",
        "mean queue",
        "mean response",
        "p99 response",
        "hit ratio",
    ];
    html_table(&mut o, &head, rows);
    // The system's busiest window (by arrivals), then each component's
    // with instances or a queue.
    let faults: Vec<(&String, Vec<String>)> = s
        .components
        .0
        .iter()
        .map(|(n, c)| (n, super::faults(c)))
        .filter(|(_, f)| !f.is_empty())
        .collect();
    if !faults.is_empty() {
        o.push_str(
            "<h3>Failures and policies</h3>\n<p class=\"meta\">What failed at each component after warm-up (instance failures, OOM kills, CPU credits run out), what callers' timeouts, retries, hedges, breakers and limits did there, and a VPA's evictions (incidents.csv lists each failure, ejection, eviction and outage).</p>\n<table>\n<tr><th>component</th><th class=\"text\">what happened</th></tr>\n",
        );
        for (n, f) in &faults {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td class=\"text\">{}</td></tr>",
                esc(n),
                esc(&f.join(", "))
            );
        }
        o.push_str("</table>\n");
    }
    let peaks: Vec<_> = s
        .peak
        .iter()
        .map(|p| ("the system".to_string(), None, p))
        .chain(
            s.components
                .0
                .iter()
                .filter_map(|(name, c)| c.peak.as_ref().map(|p| (name, c, p)))
                .filter(|(_, c, p)| p.utilization.is_some() || c.kind == "queue")
                .map(|(name, c, p)| (name.clone(), Some(c), p)),
        )
        .collect();
    if !peaks.is_empty() {
        o.push_str(
            "<h3>At the peak</h3>\n<p class=\"meta\">The busiest sampling window after warm-up (the system's by arrivals; \
a component's by utilization, a queue's by depth) and the busiest hour: what the means above hide, and what the \
<code>peak_*</code> objectives judge. Times are since the start of the run.</p>\n",
        );
        let rows = peaks.into_iter().map(|(name, c, p)| {
            let cells = vec![
                pct(p.utilization),
                pct(c.and_then(|c| c.utilization)),
                p.queue_len.map(|q| format!("{q:.1}")).unwrap_or_else(dash),
                human_secs(p.p95_s),
                human_secs(p.p99_s),
                fmt_check("share", p.error_rate),
                format!("{:.2}/s", p.arrivals_per_s),
                format!("{} ({})", human_secs(p.at_s), human_secs(p.window_s)),
                format!(
                    "{} ({:.2}/s)",
                    human_secs(p.busiest_hour_start_s),
                    p.busiest_hour_arrivals_per_s
                ),
            ];
            (name, cells)
        });
        let head = [
            "",
            "peak utilization",
            "over the run",
            "peak queue",
            "p95",
            "p99",
            "errors",
            "arrivals",
            "window ending (length)",
            "busiest hour from",
        ];
        html_table(&mut o, &head, rows);
    }
    let priced: Vec<_> = s
        .components
        .0
        .iter()
        .filter(|(_, c)| c.cost_usd > 0.0)
        .collect();
    if !priced.is_empty() {
        o.push_str("<h3>Cost per component</h3>\n");
        let rows = priced.into_iter().map(|(name, c)| {
            let cells = vec![
                c.instances_mean
                    .map(|m| format!("{m:.2}"))
                    .unwrap_or_else(dash),
                usd(c.cost_usd),
                c.cost_per_month.map(usd).unwrap_or_else(dash),
            ];
            (name.clone(), cells)
        });
        html_table(
            &mut o,
            &[
                "component",
                "mean instances",
                "cost of the run",
                "per month",
            ],
            rows,
        );
    }
    classes(&mut o, s);
    regions(&mut o, s);
    job_queues(&mut o, s);
    bill(&mut o, s);

    // Charts.
    if !charts.is_empty() {
        o.push_str("<h2>Charts</h2>\n");
    }
    for c in charts {
        let n = esc(c.name);
        let _ = writeln!(o, "<figure id=\"{n}\">");
        o.push_str(strip_prolog(&c.svg).trim_end());
        let _ = writeln!(
            o,
            "\n<figcaption>{} · <a href=\"{n}.svg\">{n}.svg</a> · <a href=\"{n}.png\">{n}.png</a></figcaption>\n</figure>",
            esc(&c.title)
        );
    }
    let c = &s.cost_usd;
    let mut priced: Vec<String> = s
        .components
        .0
        .iter()
        .filter(|(_, c)| c.cost_usd > 0.0)
        .map(|(n, _)| format!("{n}: instance-hours"))
        .collect();
    priced.extend(c.lines.iter().map(|l| match l.component.as_str() {
        "" => l.item.clone(),
        n => format!("{n}: {}", l.item),
    }));
    assumptions.html(&mut o, &priced, &c.not_priced);
    let _ = write!(
        o,
        "<footer>scalesim {} · same scenario and seed, same report. Data: \
<a href=\"summary.json\">summary.json</a>, <a href=\"timeseries.csv\">timeseries.csv</a>.</footer>\n\
</main>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    );
    o
}

/// The job queues' table (none when the scenario has no queue): what
/// became of their jobs and how long they took, enqueue to done.
fn job_queues(o: &mut String, s: &Summary) {
    let queues: Vec<_> = s
        .components
        .0
        .iter()
        .filter(|(_, c)| c.kind == "queue")
        .collect();
    if queues.is_empty() {
        return;
    }
    o.push_str(
        "<h3>Job queues</h3>\n<p class=\"meta\">A queue answers its callers once it accepts a job: \
its response above is that acknowledgement, its wait the job wait for a worker and its queue the mean depth. \
Job latency runs from enqueue to done.</p>\n<div class=\"scroll\"><table>\n<tr><th>queue</th>\
<th>jobs completed</th><th>jobs failed</th><th>mean depth</th><th>mean job wait</th>\
<th>job mean</th><th>job p50</th><th>job p90</th><th>job p95</th><th>job p99</th><th>job p99.9</th>\
<th>job max</th></tr>\n",
    );
    for (name, c) in queues {
        let mut cells = vec![
            c.jobs_completed.map(thousands).unwrap_or_else(dash),
            c.jobs_failed.map(thousands).unwrap_or_else(dash),
            c.mean_queue_len
                .map(|q| format!("{q:.2}"))
                .unwrap_or_else(dash),
            c.mean_wait_s.map(human_secs).unwrap_or_else(dash),
        ];
        match &c.job_latency_s {
            Some(l) => {
                cells.extend([l.mean, l.p50, l.p90, l.p95, l.p99, l.p999, l.max].map(human_secs))
            }
            None => cells.extend(std::iter::repeat_with(dash).take(7)),
        }
        let _ = write!(o, "<tr><td>{}</td>", esc(name));
        for cell in cells {
            let _ = write!(o, "<td>{}</td>", esc(&cell));
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</table></div>\n");
}

/// The bill: instance-hours, every other priced line with its unit price
/// and source, and what is not priced.
fn bill(o: &mut String, s: &Summary) {
    let c = &s.cost_usd;
    if c.total <= 0.0 && c.not_priced.is_empty() {
        return;
    }
    o.push_str("<h3>The bill</h3>\n");
    let _ = writeln!(
        o,
        "<p class=\"meta\">{} for the run ({} instance-hours), {}/hour after warm-up, {}, {} per 1k requests.</p>",
        usd(c.total),
        usd(c.instances),
        usd(c.per_hour),
        esc(&c.month_text()),
        usd(c.per_1k_requests)
    );
    if !c.lines.is_empty() {
        let rows = c.lines.iter().map(|l| {
            let who = if l.component.is_empty() {
                "account".to_string()
            } else {
                l.component.clone()
            };
            let cells = vec![
                l.item.clone(),
                format!("{} {}", fmt_quantity(l.quantity), l.unit),
                format!("${} / {}", fmt_quantity(l.unit_usd), l.unit),
                usd(l.usd),
                l.per_month.map(usd).unwrap_or_else(dash),
                source_label(l.source),
            ];
            (who, cells)
        });
        html_table(
            o,
            &[
                "bought by",
                "item",
                "quantity",
                "unit price",
                "run",
                "per month",
                "price source",
            ],
            rows,
        );
    }
    if !c.not_priced.is_empty() {
        o.push_str("<p class=\"meta\">Not priced:</p>\n<ul class=\"meta\">\n");
        for n in &c.not_priced {
            let _ = writeln!(o, "<li>{}</li>", esc(n));
        }
        o.push_str("</ul>\n");
    }
}

/// `https://aws.amazon.com/rds/postgresql/pricing/` -> `AWS rds pricing`:
/// short enough for a table cell (the summary has the address).
fn source_label(source: &str) -> String {
    match source.strip_prefix("https://aws.amazon.com/") {
        Some(rest) => {
            let service = rest.split('/').next().unwrap_or(rest);
            let note = rest
                .split_once(" (")
                .map(|(_, n)| format!(" ({n}"))
                .unwrap_or_default();
            format!("AWS {service} pricing{note}")
        }
        None => source.to_string(),
    }
}

/// A quantity with 4 significant digits, in plain notation.
fn fmt_quantity(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
    format!("{v:.digits$}")
}

/// A table of `head` and rows of (first cell, other cells), escaped.
fn html_table(o: &mut String, head: &[&str], rows: impl Iterator<Item = (String, Vec<String>)>) {
    o.push_str("<div class=\"scroll\"><table>\n<tr>");
    for h in head {
        let _ = write!(o, "<th>{}</th>", esc(h));
    }
    o.push_str("</tr>\n");
    for (first, cells) in rows {
        let _ = write!(o, "<tr><td>{}</td>", esc(&first));
        for cell in cells {
            let _ = write!(o, "<td>{}</td>", esc(&cell));
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</table></div>\n");
}

/// Per request class: counts, errors and latency, so an LLM class and a
/// 130 ms function class behind one gateway are seen apart.
fn classes(o: &mut String, s: &Summary) {
    if s.classes.0.len() < 2 {
        return;
    }
    o.push_str("<h3>Request classes</h3>\n");
    let rows = s.classes.0.iter().map(|(name, c)| {
        let l = &c.latency_s;
        let mut cells = vec![
            c.op.to_string(),
            thousands(c.arrived),
            thousands(c.completed),
            thousands(c.rejected),
            thousands(c.timed_out_at_end),
            format!("{:.4}%", c.error_rate * 100.0),
        ];
        cells.extend([l.mean, l.p50, l.p95, l.p99, l.max].map(human_secs));
        (name.clone(), cells)
    });
    let head = [
        "class",
        "op",
        "arrived",
        "completed",
        "rejected",
        "timed out at end",
        "error rate",
        "mean",
        "p50",
        "p95",
        "p99",
        "max",
    ];
    html_table(o, &head, rows);
}

/// Per region and client area (`summary.regions`): what each region
/// served and cost, and what each area's users got and where.
fn regions(o: &mut String, s: &Summary) {
    if s.regions.is_empty() {
        return;
    }
    o.push_str("<h3>Regions and client areas</h3>\n<p class=\"meta\">A region: the users' requests it served and their time in it, what was refused, timed out or lost in it, its instances and its cost (data transfer out of it included). An area: its users' requests end to end, and the regions that served them.</p>\n");
    let rows = s.regions.0.iter().map(|(name, p)| {
        let l = &p.latency_s;
        let served = p.served_shares();
        let mut cells = vec![p.kind.to_string(), thousands(p.requests)];
        cells.push(format!("{:.4}%", p.availability * 100.0));
        cells.extend([l.mean, l.p95, l.p99].map(human_secs));
        cells.push(p.instances_mean.map_or_else(dash, |i| format!("{i:.1}")));
        cells.push(p.cost_usd.map_or_else(dash, |c| format!("${c:.2}")));
        cells.push(if served.is_empty() {
            dash()
        } else {
            served.join(", ")
        });
        (name.clone(), cells)
    });
    let head = [
        "",
        "kind",
        "requests",
        "availability",
        "mean",
        "p95",
        "p99",
        "instances",
        "cost",
        "served by",
    ];
    html_table(o, &head, rows);
}

/// An empty cell.
fn dash() -> String {
    "–".to_string()
}

/// The SVG element without any XML declaration, for inlining.
fn strip_prolog(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}

/// Escapes text for HTML.
pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// `4289215` -> `4,289,215`.
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut o = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            o.push(',');
        }
        o.push(ch);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(4289215), "4,289,215");
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(strip_prolog("<?xml version=\"1.0\"?>\n<svg/>"), "<svg/>");
        assert_eq!(fmt_check("share", 0.001), "0.1%");
        assert_eq!(fmt_check("share", 0.296388), "29.6388%");
        assert_eq!(fmt_check("share", 0.0), "0%");
        assert_eq!(usd(17.3), "$17.30");
    }
}
