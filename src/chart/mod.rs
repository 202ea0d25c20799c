//! The charts: of one run, drawn next to `timeseries.csv`, and of
//! multi-run studies (sweeps, capacity searches), all with plotters as
//! SVG and PNG.
//!
//! One kit draws them all: `figure.rs` (a figure's header — title,
//! wrapped subtitle, legend above the plot, never on the data — and
//! writing it as SVG and PNG), `axis.rs` (scales, ticks, the time axis),
//! `format.rs` (numbers), `draw.rs` (plots and marks) and `style.rs`
//! (colours, sizes, the bundled font). Each figure has its own file: the
//! run's `load.rs`, `latency.rs`, `utilization.rs`, `instances.rs`,
//! `cost.rs` and `serving.rs` (over `windows.rs`, the time series by
//! window, and `timeline.rs`, their panels over time); the studies'
//! `sweep.rs`, `pareto.rs`, `heatmap.rs`, `capacity.rs` and `probes.rs`
//! (with `metric.rs`, what a metric is in words and units).
//!
//! # The charts of a run
//!
//! Every run draws five charts, each written as `<name>.svg` and
//! `<name>.png` (see [`CHARTS`]):
//!
//! | name | what it shows |
//! |---|---|
//! | `load` | offered load (arrivals/s) and throughput (completions/s), rejections/s when any |
//! | `latency` | end-to-end p50/p95/p99 per window, with each latency SLO as a labelled dashed line; with job queues, a second panel with each queue's job latency (enqueue to done, p99 and mean) |
//! | `utilization` | two panels: utilization (%) per pool, and mean queue length per pool with each job queue's mean depth (dashed) |
//! | `instances` | one panel per fleet that changes size (an autoscaled pool, a rollout, failures): its ready instances and its desired ones (ready + provisioning, warming or down); fixed-size fleets (cache nodes, databases, static pools) are named in the subtitle, not drawn; a VPA's evictions marked; a message when no fleet changes size |
//! | `cost` | cost per hour per priced component, stacked, with the total; below, the cumulative cost since the start |
//! | `llm` | only with LLM or batch components ([`SERVING_CHART`]): p99 time to first token and p99 time per output token, each on its own axis with its SLO, output tokens/s, KV-cache use and requests per step, per component |
//!
//! The x axis is simulated time since the start (`3h`, `1d6h`), or local
//! calendar time when the caller gives the wall-clock time of t = 0. The
//! warm-up is shaded. Each component keeps one colour in every chart (its
//! position in the scenario picks it from [`PALETTE`], twelve colours,
//! then darker shades of them). A chart's subtitle is one line of headline
//! figures after warm-up, durations past a minute in `min`, `h` or `d`;
//! each panel of a chart with several is titled with what it shows.
//!
//! Latency axes are linear (in ms, s, min or h) unless one spike would
//! flatten the rest: past 10 times the median value (or 200 times the
//! lowest) they are logarithmic, and say `(log scale)`. The queue panel is
//! logarithmic, from 0.1, when one queue's peak is over 100 times
//! another's.
//!
//! Long runs are summarised for drawing: past [`MAX_POINTS`] windows,
//! consecutive windows are grouped into buckets; a line shows the bucket's
//! exact rate or time average (for latency percentiles, the
//! completion-weighted mean of the windows' values) and a light band shows
//! the minimum and maximum of its windows, so no peak disappears; the
//! time axis's description says so (`each point: 5 windows of 1m, band:
//! their range`).
//!
//! # The charts of a study
//!
//! | name | drawn by | what it shows |
//! |---|---|---|
//! | `sweep-<param>` | [`sweep_charts`] | each plotted metric against one varied parameter (small multiples), mean with its 95% interval, one line per combination of the other parameters |
//! | `pareto` | [`sweep_charts`] | cost per month against p99 latency for every point, the Pareto frontier highlighted and labelled (numbered, with a key below, past 8 points) |
//! | `pareto-tokens` | [`sweep_charts`] | with LLM components: cost per 1M output tokens against p99 time per output token, drawn the same way |
//! | `heatmap` | [`sweep_charts`] | with exactly two parameters: p99, cost and error rate over the grid |
//! | `capacity` | [`capacity_charts`] | with `--per`: capacity per value, with its range, and the cost per month at capacity (right axis) |
//! | `capacity-inverse` | [`capacity_charts`] | with `--per`: the smallest tested value that carries a given load (a step function) |
//! | `capacity-probes` | [`capacity_charts`] | without `--per`: each objective at every probe, pass or fail, its bound, and the capacity found with its range |
//!
//! Axes follow the metric: latencies in `ms`/`s` (log scale when they
//! span a wide range), costs in `$`, ratios (error rate, utilization, hit
//! ratio, the share of a pool's instances with at least k requests) in
//! `%`. A parameter whose values are all numbers gets a numeric axis (log
//! when its values span a factor 20 or more); otherwise its values are
//! evenly spaced categories, whose labels, when they would not fit side by
//! side, are staggered on two rows (in a smaller font if need be).
//!
//! Text is drawn with the bundled DejaVu Sans (`assets/fonts/`), so PNGs
//! are readable on machines without any system font. Output is
//! deterministic: the same inputs give byte-identical SVG and PNG files.

mod axis;
mod capacity;
mod cost;
mod draw;
mod figure;
pub(crate) mod format;
mod heatmap;
mod incidents;
mod instances;
mod latency;
mod load;
mod metric;
mod pareto;
mod probes;
mod serving;
mod style;
mod sweep;
mod timeline;
mod utilization;
mod windows;

pub use pareto::pareto_front;
pub use style::{register_fonts, PALETTE};

use crate::output::summary::Summary;
use crate::scenario::SloConfig;
use crate::study::{CapacityResult, SweepResults};
use chrono::NaiveDateTime;
use scalesim_models::system::RunReport;
use std::io;
use std::path::{Path, PathBuf};

use axis::time_axis;
use capacity::{capacity_figure, inverse_figure};
use cost::cost_figure;
use figure::Files;
use format::elapsed_label;
use heatmap::heatmap_figure;
use instances::instances_figure;
use latency::latency_figure;
use load::load_figure;
use pareto::{pareto_figure, PARETOS};
use probes::probes_figure;
use serving::serving_figure;
use style::fonts;
use sweep::sweep_figure;
use utilization::utilization_figure;
use windows::{Buckets, Ctx, Windows};

/// The chart of runs with LLM or batch components (after [`CHARTS`]).
pub const SERVING_CHART: (&str, &str) = (
    "llm",
    "token latency, tokens/s, KV-cache use and batch size",
);

/// The charts every run draws, in order: file stem and what it shows.
pub const CHARTS: [(&str, &str); 5] = [
    ("load", "offered load and throughput"),
    ("latency", "end-to-end latency"),
    ("utilization", "utilization and queue length per pool"),
    (
        "instances",
        "desired and ready instances of the fleets that change size",
    ),
    ("cost", "cost per hour and cumulative cost"),
];

/// Past this many windows, windows are grouped into buckets for drawing.
pub const MAX_POINTS: usize = 600;

/// One chart written by [`draw_charts`].
#[derive(Clone, Debug)]
pub struct Chart {
    /// File stem: `load`, `latency`, ... (see [`CHARTS`]).
    pub name: &'static str,
    /// The chart's title, e.g. `quickstart: end-to-end latency`.
    pub title: String,
    /// The SVG document (also written to `svg_path`).
    pub svg: String,
    /// `<dir>/<name>.svg`.
    pub svg_path: PathBuf,
    /// `<dir>/<name>.png`.
    pub png_path: PathBuf,
}

/// Draws every chart of [`CHARTS`] into `dir` as SVG and PNG and returns
/// the paths written (SVG then PNG for each chart).
///
/// `start` is the local wall-clock time at t = 0: when given, the x axis
/// shows calendar time instead of time since the start.
pub fn write_charts(
    dir: &Path,
    run: &RunReport,
    summary: &Summary,
    slo: &SloConfig,
    start: Option<NaiveDateTime>,
) -> io::Result<Vec<PathBuf>> {
    Ok(draw_charts(dir, run, summary, slo, start)?
        .into_iter()
        .flat_map(|c| [c.svg_path, c.png_path])
        .collect())
}

/// Like [`write_charts`], and returns each chart with its SVG text (for
/// the HTML report).
pub fn draw_charts(
    dir: &Path,
    run: &RunReport,
    summary: &Summary,
    slo: &SloConfig,
    start: Option<NaiveDateTime>,
) -> io::Result<Vec<Chart>> {
    fonts()?;
    let data = Windows::new(run);
    let mut x = time_axis(
        run.simulated_s.max(data.t.last().copied().unwrap_or(0.0)),
        start,
    );
    x.warmup = (summary.simulated_s - summary.measured_s).max(0.0);
    x.stop = run.runaway.as_ref().map(|r| r.at_s);
    let buckets = Buckets::new(data.len());
    if buckets.k > 1 {
        // Under the time axis: how windows were grouped for drawing.
        let sample = data.dt.first().copied().unwrap_or(0.0);
        x.scale.desc.push_str(&format!(
            "; each point: {} windows of {}, band: their range",
            buckets.k,
            elapsed_label(sample)
        ));
    }
    let ctx = Ctx {
        data: &data,
        buckets,
        x,
        run,
        summary,
    };
    let mut figures = vec![
        load_figure(&ctx),
        latency_figure(&ctx, slo),
        utilization_figure(&ctx),
        instances_figure(&ctx),
        cost_figure(&ctx),
    ];
    if !ctx.serving().is_empty() {
        figures.push(serving_figure(&ctx, slo));
    }
    let mut out = Vec::with_capacity(figures.len());
    for fig in figures {
        let w = fig.write(dir)?;
        out.push(Chart {
            name: fig.name,
            title: fig.head.title,
            svg: w.svg,
            svg_path: w.svg_path,
            png_path: w.png_path,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------- studies

/// Draws the charts of a sweep into `dir` (created if missing) and returns
/// the paths written, SVG then PNG for each chart: `sweep-<slug>` for each
/// varied parameter (one panel per metric of `plot`, in that order; names
/// not in `r.metrics` are ignored), `pareto` when the sweep measured
/// `latency_s.p99` and `cost_usd.projected_month`, and `heatmap` when
/// exactly two parameters vary.
pub fn sweep_charts(dir: &Path, r: &SweepResults, plot: &[String]) -> io::Result<Vec<PathBuf>> {
    fonts()?;
    let mut metrics: Vec<usize> = Vec::new();
    for m in plot {
        if let Some(i) = r.metric(m) {
            if !metrics.contains(&i) {
                metrics.push(i);
            }
        }
    }
    let mut files = Files::new(dir);
    if !metrics.is_empty() && !r.points.is_empty() {
        for p in 0..r.params.len() {
            files.write(&sweep_figure(r, p, &metrics))?;
        }
    }
    for spec in &PARETOS {
        if let Some(fig) = pareto_figure(r, spec) {
            files.write(&fig)?;
        }
    }
    if r.params.len() == 2 {
        if let Some(fig) = heatmap_figure(r) {
            files.write(&fig)?;
        }
    }
    Ok(files.paths())
}

/// Draws the charts of a capacity search into `dir` (created if missing)
/// and returns the paths written, SVG then PNG for each chart: with a
/// `per` parameter, `capacity` and `capacity-inverse`; without one,
/// `capacity-probes`. Nothing is drawn when there is no row.
pub fn capacity_charts(dir: &Path, r: &CapacityResult) -> io::Result<Vec<PathBuf>> {
    fonts()?;
    let mut files = Files::new(dir);
    if !r.rows.is_empty() {
        if r.per.is_some() {
            files.write(&capacity_figure(r))?;
            files.write(&inverse_figure(r))?;
        } else {
            files.write(&probes_figure(r, &r.rows[0]))?;
        }
    }
    Ok(files.paths())
}

/// File-name form of a parameter path: every character that is not ASCII
/// alphanumeric becomes `-` (`components.api.instances` →
/// `components-api-instances`).
pub fn slug(path: &str) -> String {
    path.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}
