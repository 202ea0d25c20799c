//! Charts of a run, drawn with plotters as SVG and PNG next to
//! `timeseries.csv`.
//!
//! Every run draws five charts, each written as `<name>.svg` and
//! `<name>.png` (see [`CHARTS`]):
//!
//! | name | what it shows |
//! |---|---|
//! | `load` | offered load (arrivals/s) and throughput (completions/s), rejections/s when any |
//! | `latency` | end-to-end p50/p95/p99 per window, with each latency SLO as a labelled dashed line; with job queues, a second panel with each queue's job latency (enqueue to done, p99 and mean) |
//! | `utilization` | two panels: utilization (%) and mean queue length per pool, and each job queue's mean depth (dashed) |
//! | `instances` | instances per component over time, stacked (the fleet; job queues have none) |
//! | `cost` | cumulative cost per priced component, stacked, with the total |
//! | `llm` | only with LLM or batch components ([`SERVING_CHART`]): p99 time to first token and per output token with their SLOs, output tokens/s, KV-cache use and requests per step, per component |
//!
//! The x axis is simulated time since the start (`3h`, `1d6h`), or local
//! calendar time when the caller gives the wall-clock time of t = 0. The
//! warm-up is shaded. Each component keeps one colour in every chart (its
//! position in the scenario picks it from [`PALETTE`]).
//!
//! Long runs are summarised for drawing: past [`MAX_POINTS`] windows,
//! consecutive windows are grouped into buckets; a line shows the bucket's
//! exact rate or time average (for latency percentiles, the
//! completion-weighted mean of the windows' values) and a light band shows
//! the minimum and maximum of its windows, so no peak disappears.
//!
//! Text is drawn with the bundled DejaVu Sans (`assets/fonts/`), so PNGs
//! are readable on machines without any system font. Output is
//! deterministic: the same run gives byte-identical SVG and PNG files.

use crate::output::human_secs;
use crate::scenario::SloConfig;
use crate::summary::{ComponentJson, Summary};
use chrono::{Datelike, NaiveDateTime, Timelike};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;
use scalesim_models::system::{RunReport, TsRow};
use std::collections::BTreeMap;
use std::error::Error;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};

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
    ("instances", "instances per component"),
    ("cost", "cumulative cost"),
];

/// Past this many windows, windows are grouped into buckets for drawing.
pub const MAX_POINTS: usize = 600;

/// Colours of components, by their position in the scenario (Tableau 10
/// without its red, which marks SLOs and rejections).
pub const PALETTE: [RGBColor; 9] = [
    RGBColor(0x4e, 0x79, 0xa7), // blue
    RGBColor(0xf2, 0x8e, 0x2b), // orange
    RGBColor(0x59, 0xa1, 0x4f), // green
    RGBColor(0xb0, 0x7a, 0xa1), // purple
    RGBColor(0x76, 0xb7, 0xb2), // teal
    RGBColor(0x9c, 0x75, 0x5f), // brown
    RGBColor(0xed, 0xc9, 0x48), // yellow
    RGBColor(0xff, 0x9d, 0xa7), // pink
    RGBColor(0xba, 0xb0, 0xac), // grey
];

pub(crate) const WIDTH: u32 = 1200;
const PANEL_HEIGHT: u32 = 470;
/// Left and right margin of the header text.
pub(crate) const MARGIN: i32 = 24;
/// Where the plotting area starts (panel margin + y label area).
const PLOT_LEFT: i32 = 14 + 96;
pub(crate) const SUBTITLE_SIZE: u32 = 16;
pub(crate) const LEGEND_SIZE: u32 = 16;
pub(crate) const FONT: &str = "sans-serif";
pub(crate) const TEXT: RGBColor = RGBColor(0x22, 0x22, 0x22);
pub(crate) const MUTED: RGBColor = RGBColor(0x5f, 0x63, 0x68);
pub(crate) const GRID: RGBColor = RGBColor(0xd0, 0xd4, 0xd9);
pub(crate) const GRID_LIGHT: RGBColor = RGBColor(0xec, 0xee, 0xf1);
pub(crate) const SLO_RED: RGBColor = RGBColor(0xd6, 0x27, 0x28);
const TOTAL: RGBColor = RGBColor(0x33, 0x33, 0x33);
pub(crate) const DESIRED: RGBColor = RGBColor(0xe6, 0x55, 0x0d);
const OFFERED: RGBColor = RGBColor(0x5b, 0x6b, 0x7f);
pub(crate) const THROUGHPUT: RGBColor = RGBColor(0x1b, 0x9e, 0x77);
const P50: RGBColor = RGBColor(0x6b, 0xae, 0xd6);
const P95: RGBColor = RGBColor(0x21, 0x71, 0xb5);
const P99: RGBColor = RGBColor(0x08, 0x30, 0x6b);
const MEAN: RGBColor = RGBColor(0x7b, 0x7b, 0x7b);

static REGULAR: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../assets/fonts/DejaVuSans-Bold.ttf");

/// Registers the bundled DejaVu Sans as plotters' `sans-serif` (regular
/// and bold). Idempotent; returns false if a font failed to load.
pub fn register_fonts() -> bool {
    static ONCE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ONCE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, REGULAR).is_ok()
            && plotters::style::register_font(FONT, FontStyle::Bold, BOLD).is_ok()
    })
}

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
    if !register_fonts() {
        return Err(io::Error::other("the bundled chart font failed to load"));
    }
    let data = Windows::new(run);
    let mut x = time_axis(
        run.simulated_s.max(data.t.last().copied().unwrap_or(0.0)),
        start,
    );
    x.warmup = (summary.simulated_s - summary.measured_s).max(0.0);
    x.stop = run.runaway.as_ref().map(|r| r.at_s);
    let ctx = Ctx {
        data: &data,
        buckets: Buckets::new(data.len()),
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
        let svg_path = dir.join(format!("{}.svg", fig.name));
        let png_path = dir.join(format!("{}.png", fig.name));
        let lay = fig.layout();
        let height = lay.height;
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
            render(&fig, &lay, &ctx.x, &root).map_err(io::Error::other)?;
            root.present()
                .map_err(|e| io::Error::other(e.to_string()))?;
        }
        std::fs::write(&svg_path, &svg)?;
        {
            let root = BitMapBackend::new(&png_path, (WIDTH, height)).into_drawing_area();
            render(&fig, &lay, &ctx.x, &root).map_err(io::Error::other)?;
            root.present()
                .map_err(|e| io::Error::other(e.to_string()))?;
        }
        out.push(Chart {
            name: fig.name,
            title: fig.title.clone(),
            svg,
            svg_path,
            png_path,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------- data

/// The time series regrouped by window: `_system` rows and, per component
/// in scenario order, its row of each window.
struct Windows<'a> {
    /// End of each window (s).
    t: Vec<f64>,
    /// Length of each window (s).
    dt: Vec<f64>,
    system: Vec<&'a TsRow>,
    /// (name, kind, row per window).
    comps: Vec<(String, &'static str, Vec<Option<&'a TsRow>>)>,
}

impl<'a> Windows<'a> {
    fn new(run: &'a RunReport) -> Windows<'a> {
        let mut comps: Vec<(String, &'static str, Vec<Option<&TsRow>>)> = run
            .components
            .iter()
            .map(|c| (c.name.clone(), c.kind, Vec::new()))
            .collect();
        let mut index: BTreeMap<String, usize> = comps
            .iter()
            .enumerate()
            .map(|(i, c)| (c.0.clone(), i))
            .collect();
        let (mut t, mut dt, mut system) = (Vec::new(), Vec::new(), Vec::new());
        for row in &run.timeseries {
            if row.component == "_system" {
                let prev = t.last().copied().unwrap_or(0.0);
                t.push(row.t_s);
                dt.push((row.t_s - prev).max(1e-9));
                system.push(row);
                continue;
            }
            let i = *index.entry(row.component.clone()).or_insert_with(|| {
                comps.push((row.component.clone(), "", Vec::new()));
                comps.len() - 1
            });
            let w = system.len();
            let rows = &mut comps[i].2;
            if rows.len() <= w {
                rows.resize(w + 1, None);
            }
            rows[w] = Some(row);
        }
        for c in &mut comps {
            c.2.resize(system.len(), None);
        }
        Windows {
            t,
            dt,
            system,
            comps,
        }
    }

    fn len(&self) -> usize {
        self.t.len()
    }
}

/// Groups of consecutive windows drawn as one point.
struct Buckets {
    ranges: Vec<Range<usize>>,
    /// Windows per bucket.
    k: usize,
}

impl Buckets {
    fn new(n: usize) -> Buckets {
        let k = n.div_ceil(MAX_POINTS).max(1);
        let ranges = (0..n.div_ceil(k))
            .map(|i| i * k..((i + 1) * k).min(n))
            .collect();
        Buckets { ranges, k }
    }
}

/// One drawn point: the bucket's value and its windows' range.
#[derive(Clone, Copy)]
struct Pt {
    x: f64,
    v: f64,
    lo: f64,
    hi: f64,
}

/// Everything the figure builders need.
struct Ctx<'a> {
    data: &'a Windows<'a>,
    buckets: Buckets,
    x: XAxis,
    run: &'a RunReport,
    summary: &'a Summary,
}

impl Ctx<'_> {
    /// Per bucket: the weighted mean of `f`'s values (value, weight) and
    /// their min and max; `None` where no window has a value.
    fn series(&self, f: impl Fn(usize) -> Option<(f64, f64)>) -> Vec<Option<Pt>> {
        self.buckets
            .ranges
            .iter()
            .map(|r| {
                let (mut sum, mut wsum) = (0.0, 0.0);
                let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
                let mut any = false;
                for i in r.clone() {
                    if let Some((v, w)) = f(i) {
                        if !v.is_finite() {
                            continue;
                        }
                        any = true;
                        sum += v * w;
                        wsum += w;
                        lo = lo.min(v);
                        hi = hi.max(v);
                    }
                }
                any.then(|| Pt {
                    x: self.data.t[r.end - 1],
                    v: if wsum > 0.0 { sum / wsum } else { lo },
                    lo,
                    hi,
                })
            })
            .collect()
    }

    /// Per bucket: the last value of `f` in it (for cumulative figures).
    fn last(&self, f: impl Fn(usize) -> Option<f64>) -> Vec<Option<Pt>> {
        self.buckets
            .ranges
            .iter()
            .map(|r| {
                r.clone().rev().find_map(&f).map(|v| Pt {
                    x: self.data.t[r.end - 1],
                    v,
                    lo: v,
                    hi: v,
                })
            })
            .collect()
    }

    /// A rate series: count / window length, weighted by window length.
    fn rate(&self, count: impl Fn(&TsRow) -> u64) -> Vec<Option<Pt>> {
        self.series(|i| {
            let dt = self.data.dt[i];
            Some((count(self.data.system[i]) as f64 / dt, dt))
        })
    }

    /// The job queues (`kind = "queue"`), in scenario order.
    fn queues(&self) -> Vec<usize> {
        (0..self.data.comps.len())
            .filter(|&i| {
                let (_, kind, rows) = &self.data.comps[i];
                *kind == "queue"
                    || rows
                        .iter()
                        .any(|r| r.is_some_and(|r| r.job_p99_s.is_some()))
            })
            .collect()
    }

    /// The LLM and batch components, in scenario order.
    fn serving(&self) -> Vec<usize> {
        (0..self.data.comps.len())
            .filter(|&i| {
                self.data.comps[i]
                    .2
                    .iter()
                    .any(|r| r.is_some_and(|r| r.batch_mean.is_some()))
            })
            .collect()
    }

    /// Per bucket: figure `f` of component `i`'s rows, time-weighted.
    fn comp_series(&self, i: usize, f: impl Fn(&TsRow) -> Option<f64>) -> Vec<Option<Pt>> {
        self.series(|w| {
            self.data.comps[i].2[w]
                .and_then(&f)
                .map(|v| (v, self.data.dt[w]))
        })
    }

    /// The summary entry of component `name`.
    fn component(&self, name: &str) -> Option<&ComponentJson> {
        self.summary
            .components
            .0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, j)| j)
    }

    /// Per bucket: a job-latency figure of queue `i` (`f` of its rows),
    /// time-weighted; windows in which no job finished (0) are gaps.
    fn job_series(&self, i: usize, f: fn(&TsRow) -> Option<f64>) -> Vec<Option<Pt>> {
        self.comp_series(i, |r| f(r).filter(|v| *v > 0.0))
    }

    /// The colour of component `i` (scenario order).
    fn colour(i: usize) -> RGBColor {
        PALETTE[i % PALETTE.len()]
    }

    fn title(&self, what: &str) -> String {
        format!("{}: {what}", self.run.name)
    }

    /// The note telling how windows were grouped, if they were.
    /// `band` names what the light band spans.
    fn bucket_note(&self, band: &str) -> Option<String> {
        if self.buckets.k <= 1 {
            return None;
        }
        let sample = self.data.dt.first().copied().unwrap_or(0.0);
        Some(format!(
            "Each point summarises {} windows of {} ({} per point); the light band spans {band}.",
            self.buckets.k,
            elapsed_label(sample),
            elapsed_label(sample * self.buckets.k as f64)
        ))
    }

    fn banded(&self) -> bool {
        self.buckets.k > 1
    }
}

// ---------------------------------------------------------------- figures

/// A backend-independent description of one chart.
struct Figure {
    name: &'static str,
    title: String,
    subtitle: Vec<String>,
    legend: Vec<LegendItem>,
    panels: Vec<Panel>,
    /// When set, drawn in place of the panels (e.g. nothing is priced).
    message: Option<Vec<String>>,
}

impl Figure {
    fn new(name: &'static str, title: String) -> Figure {
        Figure {
            name,
            title,
            subtitle: Vec::new(),
            legend: Vec::new(),
            panels: Vec::new(),
            message: None,
        }
    }

    /// Wraps the subtitle to the chart's width and places the legend
    /// items in rows; text widths come from the bundled font, so the
    /// layout is the same for SVG and PNG.
    fn layout(&self) -> Layout {
        let width = |text: &str, size: u32| {
            (FONT, size)
                .into_font()
                .box_size(text)
                .map(|b| b.0 as i32)
                .unwrap_or(text.len() as i32 * size as i32 / 2)
        };
        let max_w = WIDTH as i32 - 2 * MARGIN;
        let mut subtitle = Vec::new();
        for para in &self.subtitle {
            let mut line = String::new();
            for word in para.split(' ') {
                let candidate = if line.is_empty() {
                    word.to_string()
                } else {
                    format!("{line} {word}")
                };
                if !line.is_empty() && width(&candidate, SUBTITLE_SIZE) > max_w {
                    subtitle.push(std::mem::take(&mut line));
                    line = word.to_string();
                } else {
                    line = candidate;
                }
            }
            subtitle.push(line);
        }
        let legend_top = 54 + 24 * subtitle.len() as i32 + 6;
        let (legend, ly) = flow_legend(
            self.legend.iter().map(|i| width(&i.label, LEGEND_SIZE)),
            PLOT_LEFT,
            legend_top,
        );
        let header = if self.legend.is_empty() {
            legend_top
        } else {
            ly + 30
        };
        let body = if self.message.is_some() {
            300
        } else if self.panels.len() <= 1 {
            PANEL_HEIGHT
        } else {
            self.panels.len() as u32 * (PANEL_HEIGHT - 110)
        };
        Layout {
            subtitle,
            legend,
            header: header as u32,
            height: header as u32 + body,
        }
    }
}

/// Where the header's text goes (see [`Figure::layout`]).
struct Layout {
    /// Subtitle lines after wrapping.
    subtitle: Vec<String>,
    /// Top-left corner of each legend item.
    legend: Vec<(i32, i32)>,
    /// Height of title, subtitle and legend.
    header: u32,
    /// Height of the whole chart.
    height: u32,
}

#[derive(Clone)]
enum Swatch {
    Line,
    Dashed,
    Area,
}

/// Places legend entries (a swatch and a label `text_widths` wide) left to
/// right from (`left`, `top`), wrapping at the right margin; returns each
/// entry's top-left corner and the last row's y.
pub(crate) fn flow_legend(
    text_widths: impl Iterator<Item = i32>,
    left: i32,
    top: i32,
) -> (Vec<(i32, i32)>, i32) {
    let mut at = Vec::new();
    let (mut x, mut y) = (left, top);
    for w in text_widths {
        let need = 34 + w + 28;
        if x + need > WIDTH as i32 - MARGIN && x > left {
            x = left;
            y += 26;
        }
        at.push((x, y));
        x += need;
    }
    (at, y)
}

#[derive(Clone)]
struct LegendItem {
    label: String,
    colour: RGBColor,
    swatch: Swatch,
}

fn legend(label: impl Into<String>, colour: RGBColor, swatch: Swatch) -> LegendItem {
    LegendItem {
        label: label.into(),
        colour,
        swatch,
    }
}

/// One plotting area with its y axis.
struct Panel {
    y: YAxis,
    layers: Vec<Layer>,
    /// Horizontal reference lines: (y, label, colour).
    hlines: Vec<(f64, String, RGBColor)>,
    /// Drawn in the middle of the plot when there is no data.
    empty: Option<String>,
}

enum Layer {
    /// A polygon between `lower` and `upper` (same x values).
    Area {
        lower: Vec<(f64, f64)>,
        upper: Vec<(f64, f64)>,
        colour: RGBColor,
        opacity: f64,
    },
    /// A polyline per segment (segments are split at gaps), dashed or not.
    Line {
        segments: Vec<Vec<(f64, f64)>>,
        colour: RGBColor,
        width: u32,
        dashed: bool,
    },
}

/// Line and min/max band layers of a series, `scale` applied to values.
fn series_layers(
    pts: &[Option<Pt>],
    colour: RGBColor,
    width: u32,
    band: bool,
    map: impl Fn(f64) -> f64,
) -> Vec<Layer> {
    let mut segments: Vec<Vec<Pt>> = Vec::new();
    let mut cur = Vec::new();
    for p in pts {
        match p {
            Some(p) => cur.push(*p),
            None if !cur.is_empty() => segments.push(std::mem::take(&mut cur)),
            None => {}
        }
    }
    if !cur.is_empty() {
        segments.push(cur);
    }
    let mut layers = Vec::new();
    if band {
        for s in &segments {
            layers.push(Layer::Area {
                lower: s.iter().map(|p| (p.x, map(p.lo))).collect(),
                upper: s.iter().map(|p| (p.x, map(p.hi))).collect(),
                colour,
                opacity: 0.18,
            });
        }
    }
    layers.push(Layer::Line {
        segments: segments
            .iter()
            .map(|s| s.iter().map(|p| (p.x, map(p.v))).collect())
            .collect(),
        colour,
        width,
        dashed: false,
    });
    layers
}

/// The same layers with their lines dashed (bands unchanged).
fn dashed(mut layers: Vec<Layer>) -> Vec<Layer> {
    for l in &mut layers {
        if let Layer::Line { dashed, .. } = l {
            *dashed = true;
        }
    }
    layers
}

/// The largest value a set of series reaches (band included).
fn max_of<'a>(series: impl IntoIterator<Item = &'a [Option<Pt>]>) -> f64 {
    series
        .into_iter()
        .flatten()
        .flatten()
        .map(|p| p.hi.max(p.v))
        .fold(0.0, f64::max)
}

fn load_figure(c: &Ctx) -> Figure {
    let mut fig = Figure::new("load", c.title("offered load and throughput"));
    let s = c.summary;
    let offered = c.rate(|r| r.arrivals);
    let done = c.rate(|r| r.completions);
    let rejected_total: u64 = c.data.system.iter().map(|r| r.rejections).sum();
    let rejects = c.rate(|r| r.rejections);
    let offered_rps = if s.measured_s > 0.0 {
        s.requests.arrived as f64 / s.measured_s
    } else {
        0.0
    };
    fig.subtitle.push(format!(
        "After warm-up: offered {} req/s, throughput {} req/s, {} rejected (error rate {:.3}%).",
        fmt_rate(offered_rps),
        fmt_rate(s.throughput_rps),
        s.requests.rejected,
        s.error_rate * 100.0
    ));
    fig.subtitle
        .extend(c.bucket_note("the lowest and highest window rates"));
    // Forecasting autoscalers: their load forecast for each moment.
    let forecasts: Vec<(usize, Vec<Option<Pt>>)> = (0..c.data.comps.len())
        .filter(|&i| {
            c.data.comps[i]
                .2
                .iter()
                .any(|r| r.is_some_and(|r| r.forecast_rps.is_some()))
        })
        .map(|i| {
            (
                i,
                c.series(|w| {
                    c.data.comps[i].2[w]
                        .and_then(|r| r.forecast_rps)
                        .map(|f| (f, c.data.dt[w]))
                }),
            )
        })
        .collect();
    let mut series: Vec<&[Option<Pt>]> = vec![&offered, &done];
    if rejected_total > 0 {
        series.push(&rejects);
    }
    series.extend(forecasts.iter().map(|f| f.1.as_slice()));
    let y = linear_axis(max_of(series), "requests per second", fmt_plain);
    let mut layers = Vec::new();
    // Offered load as a light filled area, so throughput stays readable on top.
    let pts: Vec<Pt> = offered.iter().flatten().copied().collect();
    layers.push(Layer::Area {
        lower: pts.iter().map(|p| (p.x, 0.0)).collect(),
        upper: pts.iter().map(|p| (p.x, p.v)).collect(),
        colour: OFFERED,
        opacity: 0.12,
    });
    layers.extend(series_layers(&offered, OFFERED, 2, c.banded(), |v| v));
    // No band for throughput: it follows the offered load's band.
    layers.extend(series_layers(&done, THROUGHPUT, 2, false, |v| v));
    fig.legend
        .push(legend("offered load (arrivals/s)", OFFERED, Swatch::Area));
    fig.legend.push(legend(
        "throughput (completions/s)",
        THROUGHPUT,
        Swatch::Line,
    ));
    if rejected_total > 0 {
        layers.extend(series_layers(&rejects, SLO_RED, 2, c.banded(), |v| v));
        fig.legend
            .push(legend("rejections/s (queue full)", SLO_RED, Swatch::Line));
    }
    for (i, f) in &forecasts {
        layers.extend(series_layers(f, DESIRED, 2, false, |v| v));
        let name = &c.data.comps[*i].0;
        fig.legend.push(legend(
            format!("forecast of {name}'s load"),
            DESIRED,
            Swatch::Line,
        ));
    }
    fig.panels.push(Panel {
        y,
        layers,
        hlines: Vec::new(),
        empty: pts.is_empty().then(|| "no traffic recorded".into()),
    });
    fig
}

/// Latency objectives of `slo`: (label, bound in seconds).
fn latency_slos(slo: &SloConfig) -> Vec<(&'static str, f64)> {
    slo.latency_bounds()
        .into_iter()
        .map(|(k, v)| (if k == "p999" { "p99.9" } else { k }, v))
        .collect()
}

/// A latency y axis for `lines`, reaching at least `floor_hi` (s): linear,
/// in milliseconds below one second, or log when a few slow windows would
/// flatten the rest. Returns the axis and the seconds-to-drawing map.
fn latency_axis<'a>(
    lines: impl IntoIterator<Item = &'a [Option<Pt>]> + Clone,
    floor_hi: f64,
    what: &str,
) -> (YAxis, impl Fn(f64) -> f64 + Copy) {
    let data_max = max_of(lines.clone());
    let hi = data_max.max(floor_hi);
    let data_min = lines
        .into_iter()
        .flatten()
        .flatten()
        .map(|p| p.lo.min(p.v))
        .filter(|v| *v > 0.0)
        .fold(f64::INFINITY, f64::min);
    // A log scale when a few slow windows would flatten the rest.
    let log = data_min.is_finite() && hi / data_min > 200.0;
    // Display unit: milliseconds below one second; a log axis labels each
    // tick with its own unit (`20 ms`, `1 s`).
    let (unit, scale) = if log || hi >= 1.0 {
        ("s", 1.0)
    } else {
        ("ms", 1e3)
    };
    let y = if log {
        log_axis(data_min, hi, &format!("{what} (log scale)"), fmt_secs)
    } else {
        linear_axis(hi * scale, &format!("{what} ({unit})"), fmt_plain)
    };
    let map = move |v: f64| {
        if log {
            (v * scale).max(1e-12).log10()
        } else {
            v * scale
        }
    };
    (y, map)
}

fn latency_figure(c: &Ctx, slo: &SloConfig) -> Figure {
    let queues: Vec<usize> = c
        .queues()
        .into_iter()
        .filter(|&i| {
            c.data.comps[i]
                .2
                .iter()
                .any(|r| r.is_some_and(|r| r.job_p99_s.is_some()))
        })
        .collect();
    let title = if queues.is_empty() {
        "end-to-end latency per window"
    } else {
        "end-to-end and job latency per window"
    };
    let mut fig = Figure::new("latency", c.title(title));
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
    let mut layers = Vec::new();
    // Only the p99 gets a min/max band: overlapping bands would hide the
    // lines, and the highest p99 is what an SLO review looks for.
    for (name, colour, pts) in &lines {
        let band = c.banded() && name == "p99";
        layers.extend(series_layers(pts, *colour, 2, band, map));
        fig.legend.push(legend(name.clone(), *colour, Swatch::Line));
    }
    let mut hlines = Vec::new();
    for (name, bound) in &slos {
        let label = format!("SLO {name} ≤ {}", fmt_secs(*bound));
        hlines.push((map(*bound), label, SLO_RED));
    }
    if !slos.is_empty() {
        fig.legend
            .push(legend("SLO bound", SLO_RED, Swatch::Dashed));
    }
    let mut sub = format!(
        "Whole run after warm-up: p50 {}, p95 {}, p99 {}, max {}.",
        fmt_secs(l.p50),
        fmt_secs(l.p95),
        fmt_secs(l.p99),
        fmt_secs(l.max),
    );
    let checks: Vec<String> = c
        .summary
        .slo
        .checks
        .iter()
        .filter(|k| k.metric != "error_rate" && k.metric != "bounded_in_flight")
        .map(|k| {
            format!(
                "SLO {} {} ≤ {}: {}",
                k.metric,
                fmt_secs(k.value),
                fmt_secs(k.limit),
                if k.passed { "pass" } else { "FAIL" }
            )
        })
        .collect();
    if checks.is_empty() {
        sub.push_str("  No latency SLO set.");
    } else {
        sub.push_str(&format!("  {}.", checks.join("; ")));
    }
    fig.subtitle.push(sub);
    fig.subtitle.push(format!(
        "{}: percentiles of the requests that completed in each {} window (arrival to answer).",
        if queues.is_empty() {
            "Lines"
        } else {
            "Upper panel"
        },
        elapsed_label(c.data.dt.first().copied().unwrap_or(0.0))
    ));
    let empty = lines.iter().all(|l| l.2.iter().all(Option::is_none));
    fig.panels.push(Panel {
        y,
        layers,
        hlines,
        empty: empty.then(|| "no request completed".into()),
    });
    if !queues.is_empty() {
        job_latency_panel(c, &queues, &mut fig);
    }
    fig.subtitle
        .extend(c.bucket_note("the lowest and highest window p99"));
    fig
}

/// The latency figure's second panel: the job latency (enqueue to done) of
/// each queue in `queues`, p99 solid and mean dashed in the queue's colour,
/// on its own scale (jobs usually take far longer than requests).
fn job_latency_panel(c: &Ctx, queues: &[usize], fig: &mut Figure) {
    let mut series = Vec::new();
    let mut notes = Vec::new();
    for &i in queues {
        let name = &c.data.comps[i].0;
        let p99 = c.job_series(i, |r| r.job_p99_s);
        let mean = c.job_series(i, |r| r.job_mean_s);
        if let Some(j) = c.component(name) {
            if let Some(jl) = &j.job_latency_s {
                notes.push(format!(
                    "{name}: mean {}, p99 {}, max {}, {} done, {} failed",
                    fmt_secs(jl.mean),
                    fmt_secs(jl.p99),
                    fmt_secs(jl.max),
                    j.jobs_completed.unwrap_or(0),
                    j.jobs_failed.unwrap_or(0)
                ));
            }
        }
        series.push((i, p99, mean));
    }
    let (y, map) = latency_axis(
        series.iter().flat_map(|s| [s.1.as_slice(), s.2.as_slice()]),
        0.0,
        "job latency",
    );
    let mut layers = Vec::new();
    for (i, p99, mean) in &series {
        let colour = Ctx::colour(*i);
        let name = &c.data.comps[*i].0;
        layers.extend(dashed(series_layers(mean, colour, 2, false, map)));
        layers.extend(series_layers(p99, colour, 2, c.banded(), map));
        fig.legend.push(legend(
            format!("{name}: job latency p99"),
            colour,
            Swatch::Line,
        ));
        fig.legend.push(legend(
            format!("{name}: job latency mean"),
            colour,
            Swatch::Dashed,
        ));
    }
    let mut sub = String::from(
        "Lower panel: job latency (enqueue to done) of the jobs finished in each window; \
         callers wait only for the ack, so it is not in the request latency above.",
    );
    if !notes.is_empty() {
        sub.push_str(&format!("  After warm-up: {}.", notes.join("; ")));
    }
    fig.subtitle.push(sub);
    let empty = series
        .iter()
        .all(|s| s.1.iter().chain(&s.2).all(Option::is_none));
    fig.panels.push(Panel {
        y,
        layers,
        hlines: Vec::new(),
        empty: empty.then(|| "no job finished".into()),
    });
}

fn utilization_figure(c: &Ctx) -> Figure {
    let queues = c.queues();
    let title = if queues.is_empty() {
        "utilization and queue length per pool"
    } else {
        "utilization and queue length per pool, queue depth"
    };
    let mut fig = Figure::new("utilization", c.title(title));
    let pools: Vec<usize> = (0..c.data.comps.len())
        .filter(|&i| {
            c.data.comps[i]
                .2
                .iter()
                .any(|r| r.is_some_and(|r| r.utilization.is_some()))
        })
        .collect();
    let queue_len = |i: usize| {
        c.series(|w| c.data.comps[i].2[w].and_then(|r| r.queue_len.map(|q| (q, c.data.dt[w]))))
    };
    let queue: Vec<_> = pools.iter().map(|&i| queue_len(i)).collect();
    let depth: Vec<_> = queues.iter().map(|&i| queue_len(i)).collect();
    // A pool whose queue holds exactly a queue's waiting jobs (its
    // workers, fed by nothing else) draws the same line as its depth.
    let same_as = |i: usize| -> Option<&str> {
        pools
            .iter()
            .find(|&&p| {
                let (a, b) = (&c.data.comps[i].2, &c.data.comps[p].2);
                let mut busy = false;
                let same = a.iter().zip(b).all(|(x, y)| {
                    match (x.and_then(|r| r.queue_len), y.and_then(|r| r.queue_len)) {
                        (Some(x), Some(y)) => {
                            busy |= x > 0.0;
                            (x - y).abs() <= 1e-9 * x.abs().max(1.0)
                        }
                        (None, None) => true,
                        _ => false,
                    }
                });
                same && busy
            })
            .map(|&p| c.data.comps[p].0.as_str())
    };
    let mut parts = Vec::new();
    for (name, comp) in &c.summary.components.0 {
        if comp.kind == "queue" {
            let mut part = format!(
                "{name}: mean depth {:.2} jobs, mean job wait {}",
                comp.mean_queue_len.unwrap_or(0.0),
                fmt_secs(comp.mean_wait_s.unwrap_or(0.0))
            );
            let i = c.data.comps.iter().position(|x| &x.0 == name);
            if let Some(pool) = i.and_then(same_as) {
                part.push_str(&format!(
                    " (its jobs wait in the queue of {pool}: the two lines coincide)"
                ));
            }
            parts.push(part);
        } else if let Some(u) = comp.utilization {
            parts.push(format!(
                "{name}: {:.1}% busy, mean queue {:.2}",
                u * 100.0,
                comp.mean_queue_len.unwrap_or(0.0)
            ));
        } else if let Some(h) = comp.hit_ratio {
            parts.push(format!("{name}: {:.1}% cache hits", h * 100.0));
        }
    }
    fig.subtitle
        .push(format!("After warm-up: {}.", parts.join("; ")));
    fig.subtitle
        .extend(c.bucket_note("the lowest and highest window values"));
    if pools.is_empty() && queues.is_empty() {
        fig.message = Some(vec!["This scenario has no server pools.".into()]);
        return fig;
    }
    let util: Vec<_> = pools
        .iter()
        .map(|&i| {
            c.series(|w| {
                c.data.comps[i].2[w].and_then(|r| r.utilization.map(|u| (u * 100.0, c.data.dt[w])))
            })
        })
        .collect();
    let mut ul = Vec::new();
    let mut ql = Vec::new();
    for (k, &i) in pools.iter().enumerate() {
        let colour = Ctx::colour(i);
        ul.extend(series_layers(&util[k], colour, 2, c.banded(), |v| v));
        ql.extend(series_layers(&queue[k], colour, 2, c.banded(), |v| v));
        fig.legend
            .push(legend(c.data.comps[i].0.clone(), colour, Swatch::Line));
    }
    // Queue depths last, dashed and on top: a depth often runs on its
    // workers' queue line (whose band then shows its range already).
    for (k, &i) in queues.iter().enumerate() {
        let colour = Ctx::colour(i);
        let band = c.banded() && same_as(i).is_none();
        ql.extend(dashed(series_layers(&depth[k], colour, 3, band, |v| v)));
        fig.legend.push(legend(
            format!("{} (queue depth)", c.data.comps[i].0),
            colour,
            Swatch::Dashed,
        ));
    }
    if !pools.is_empty() {
        let umax = max_of(util.iter().map(Vec::as_slice));
        fig.panels.push(Panel {
            y: percent_axis(umax, "utilization (% of slots busy)"),
            layers: ul,
            hlines: Vec::new(),
            empty: None,
        });
    }
    let qmax = max_of(queue.iter().chain(&depth).map(Vec::as_slice));
    fig.panels.push(Panel {
        y: linear_axis(
            qmax,
            if queues.is_empty() {
                "mean queue length (requests)"
            } else {
                "mean queue length / depth"
            },
            fmt_plain,
        ),
        layers: ql,
        hlines: Vec::new(),
        empty: None,
    });
    fig
}

/// Stacked areas of per-component series (bottom first) and a total line.
/// `pts[k]` are the bucket values of component `comps[k]`; missing values
/// count as 0. Returns the layers and the largest total.
fn stacked(
    c: &Ctx,
    comps: &[usize],
    pts: &[Vec<Option<Pt>>],
    origin: Option<f64>,
) -> (Vec<Layer>, f64) {
    let xs: Vec<f64> = origin
        .iter()
        .map(|_| 0.0)
        .chain(c.buckets.ranges.iter().map(|r| c.data.t[r.end - 1]))
        .collect();
    let mut base = vec![0.0; xs.len()];
    let mut layers = Vec::new();
    let mut lines = Vec::new();
    for (k, &i) in comps.iter().enumerate() {
        let vals: Vec<f64> = origin
            .iter()
            .map(|o| {
                // The value at t = 0: `o` or, if NaN, the first bucket's.
                if o.is_nan() {
                    pts[k].iter().flatten().next().map(|p| p.v).unwrap_or(0.0)
                } else {
                    *o
                }
            })
            .chain(pts[k].iter().map(|p| p.map(|p| p.v).unwrap_or(0.0)))
            .collect();
        let top: Vec<f64> = base.iter().zip(&vals).map(|(b, v)| b + v).collect();
        let colour = Ctx::colour(i);
        layers.push(Layer::Area {
            lower: xs.iter().copied().zip(base.iter().copied()).collect(),
            upper: xs.iter().copied().zip(top.iter().copied()).collect(),
            colour,
            opacity: 0.55,
        });
        lines.push(Layer::Line {
            segments: vec![xs.iter().copied().zip(top.iter().copied()).collect()],
            colour,
            width: 2,
            dashed: false,
        });
        base = top;
    }
    let max = base.iter().copied().fold(0.0, f64::max);
    layers.extend(lines);
    if comps.len() > 1 {
        layers.push(Layer::Line {
            segments: vec![xs.iter().copied().zip(base.iter().copied()).collect()],
            colour: TOTAL,
            width: 2,
            dashed: false,
        });
    }
    (layers, max)
}

fn instances_figure(c: &Ctx) -> Figure {
    let mut fig = Figure::new("instances", c.title("instances per component"));
    // Job queues run no instances of their own (their workers do).
    let queues = c.queues();
    let comps: Vec<usize> = (0..c.data.comps.len())
        .filter(|&i| {
            !queues.contains(&i)
                && c.data.comps[i]
                    .2
                    .iter()
                    .any(|r| r.is_some_and(|r| r.instances.is_some()))
        })
        .collect();
    let value = |i: usize, w: usize| c.data.comps[i].2[w].and_then(|r| r.instances);
    let pts: Vec<_> = comps
        .iter()
        .map(|&i| c.series(|w| value(i, w).map(|n| (n as f64, c.data.dt[w]))))
        .collect();
    let mut total_lo = u64::MAX;
    let mut total_hi = 0u64;
    for w in 0..c.data.len() {
        let n: u64 = comps
            .iter()
            .filter_map(|&i| value(i, w))
            .map(u64::from)
            .sum();
        total_lo = total_lo.min(n);
        total_hi = total_hi.max(n);
    }
    for &i in &comps {
        let (lo, hi) = (0..c.data.len())
            .filter_map(|w| value(i, w))
            .fold((u32::MAX, 0), |(a, b), n| (a.min(n), b.max(n)));
        let range = if lo == hi {
            format!("{hi}")
        } else {
            format!("{lo}–{hi}")
        };
        fig.legend.push(legend(
            format!("{}: {range}", c.data.comps[i].0),
            Ctx::colour(i),
            Swatch::Area,
        ));
    }
    if comps.len() > 1 {
        fig.legend.push(legend("total", TOTAL, Swatch::Line));
    }
    let fleet = if total_lo == total_hi || comps.is_empty() {
        format!("{} instances", total_hi)
    } else {
        format!("{total_lo} to {total_hi} instances")
    };
    fig.subtitle.push(format!(
        "Stacked by component (pool servers, cache nodes); the whole fleet: {fleet}."
    ));
    if c.banded() {
        fig.subtitle.push(format!(
            "Each point is the time average of {} windows of {}.",
            c.buckets.k,
            human_secs(c.data.dt.first().copied().unwrap_or(0.0))
        ));
    }
    if comps.is_empty() {
        fig.message = Some(vec!["No component reports instances.".into()]);
        return fig;
    }
    let (mut layers, mut max) = stacked(c, &comps, &pts, Some(f64::NAN));
    // Desired capacity (ready + booting) of the whole fleet, when an
    // autoscaler made it differ from the ready count.
    let desired = |w: usize| -> Option<f64> {
        let mut any = false;
        let n: f64 = comps
            .iter()
            .filter_map(|&i| c.data.comps[i].2[w])
            .map(|r| {
                any = true;
                r.instances_desired.or(r.instances).unwrap_or(0) as f64
            })
            .sum();
        any.then_some(n)
    };
    let differs = (0..c.data.len()).any(|w| {
        comps.iter().any(|&i| {
            c.data.comps[i].2[w].is_some_and(|r| r.instances_pending.is_some_and(|p| p > 0))
        })
    });
    if differs {
        let d = c.series(|w| desired(w).map(|n| (n, c.data.dt[w])));
        max = d.iter().flatten().map(|p| p.hi).fold(max, f64::max);
        layers.extend(series_layers(&d, DESIRED, 2, false, |v| v));
        fig.legend
            .push(legend("desired (incl. booting)", DESIRED, Swatch::Line));
    }
    fig.panels.push(Panel {
        y: count_axis(max, "instances"),
        layers,
        hlines: Vec::new(),
        empty: None,
    });
    fig
}

/// The serving components' chart: token latencies (p99 time to first
/// token solid, per output token dashed, SLO bounds red), output tokens/s,
/// KV-cache use and requests per step, one colour per component.
fn serving_figure(c: &Ctx, slo: &SloConfig) -> Figure {
    let comps = c.serving();
    let llms: Vec<usize> = comps
        .iter()
        .copied()
        .filter(|&i| {
            c.data.comps[i]
                .2
                .iter()
                .any(|r| r.is_some_and(|r| r.kv_use.is_some()))
        })
        .collect();
    let mut fig = Figure::new(SERVING_CHART.0, c.title(SERVING_CHART.1));
    let mut notes = Vec::new();
    for &i in &comps {
        let name = &c.data.comps[i].0;
        let Some(j) = c.component(name) else { continue };
        match (&j.ttft_s, &j.tpot_s) {
            (Some(t), Some(p)) => notes.push(format!(
                "{name}: TTFT p50 {} p99 {}, TPOT p50 {} p99 {}, {:.0} tokens/s on {:.1} GPUs, {} per 1M output tokens",
                fmt_secs(t.p50),
                fmt_secs(t.p99),
                fmt_secs(p.p50),
                fmt_secs(p.p99),
                j.output_tokens_per_s.unwrap_or(0.0),
                j.gpus_mean.unwrap_or(0.0),
                fmt_usd(j.cost_per_1m_output_tokens.unwrap_or(0.0))
            )),
            _ => notes.push(format!(
                "{name}: mean {:.1} requests per batch",
                j.batch_mean.unwrap_or(0.0)
            )),
        }
    }
    fig.subtitle
        .push(format!("After warm-up: {}.", notes.join("; ")));
    if !llms.is_empty() {
        let ttft: Vec<_> = llms
            .iter()
            .map(|&i| c.comp_series(i, |r| r.ttft_p99_s))
            .collect();
        let tpot: Vec<_> = llms
            .iter()
            .map(|&i| c.comp_series(i, |r| r.tpot_p99_s))
            .collect();
        let bounds: Vec<(String, f64)> = slo
            .token_bounds()
            .into_iter()
            .filter(|b| b.1 == "p99")
            .map(|(w, _, b)| (w.to_uppercase(), b))
            .collect();
        let floor = bounds.iter().map(|b| b.1).fold(0.0, f64::max);
        let (y, map) = latency_axis(
            ttft.iter().chain(&tpot).map(|s| s.as_slice()),
            floor,
            "p99 per window",
        );
        let mut layers = Vec::new();
        for (k, &i) in llms.iter().enumerate() {
            let colour = Ctx::colour(i);
            let name = &c.data.comps[i].0;
            layers.extend(series_layers(&ttft[k], colour, 2, false, map));
            layers.extend(dashed(series_layers(&tpot[k], colour, 2, false, map)));
            fig.legend
                .push(legend(format!("{name}: TTFT p99"), colour, Swatch::Line));
            fig.legend
                .push(legend(format!("{name}: TPOT p99"), colour, Swatch::Dashed));
        }
        let hlines: Vec<_> = bounds
            .iter()
            .map(|(label, b)| (map(*b), format!("{label} ≤ {}", fmt_secs(*b)), SLO_RED))
            .collect();
        if !hlines.is_empty() {
            fig.legend
                .push(legend("SLO bound", SLO_RED, Swatch::Dashed));
        }
        let empty = ttft.iter().all(|s| s.iter().all(Option::is_none));
        fig.panels.push(Panel {
            y,
            layers,
            hlines,
            empty: empty.then(|| "no LLM request finished".into()),
        });
        let tokens = component_panel(
            c,
            &llms,
            |r| r.tokens_per_s,
            |max| linear_axis(max, "output tokens/s", fmt_plain),
        );
        fig.panels.push(tokens);
        let kv = component_panel(
            c,
            &llms,
            |r| r.kv_use.map(|v| v * 100.0),
            |max| percent_axis(max, "KV-cache blocks in use"),
        );
        fig.panels.push(kv);
    }
    for &i in comps.iter().filter(|i| !llms.contains(i)) {
        fig.legend.push(legend(
            format!("{}: batch", c.data.comps[i].0),
            Ctx::colour(i),
            Swatch::Line,
        ));
    }
    let batch = component_panel(
        c,
        &comps,
        |r| r.batch_mean,
        |max| linear_axis(max, "requests per step", fmt_plain),
    );
    fig.panels.push(batch);
    let tokens = if llms.is_empty() {
        ""
    } else {
        "p99 time to first token (solid) and per output token (dashed) of the requests that finished in each window; output tokens/s; KV-cache blocks in use (time average); "
    };
    fig.subtitle.push(format!(
        "Panels, top to bottom: {tokens}requests per engine step while stepping."
    ));
    fig.subtitle
        .extend(c.bucket_note("the lowest and highest window"));
    fig
}

/// A panel with one line (and band) per component of `comps`, figure `f`
/// of its rows, on the axis `axis` makes for the largest value.
fn component_panel(
    c: &Ctx,
    comps: &[usize],
    f: impl Fn(&TsRow) -> Option<f64> + Copy,
    axis: impl Fn(f64) -> YAxis,
) -> Panel {
    let series: Vec<_> = comps.iter().map(|&i| c.comp_series(i, f)).collect();
    let mut layers = Vec::new();
    for (pts, &i) in series.iter().zip(comps) {
        layers.extend(series_layers(pts, Ctx::colour(i), 2, c.banded(), |v| v));
    }
    Panel {
        y: axis(max_of(series.iter().map(|s| s.as_slice()))),
        layers,
        hlines: Vec::new(),
        empty: None,
    }
}

fn cost_figure(c: &Ctx) -> Figure {
    let mut fig = Figure::new("cost", c.title("cumulative cost"));
    let comps: Vec<usize> = (0..c.data.comps.len())
        .filter(|&i| {
            c.data.comps[i]
                .2
                .iter()
                .any(|r| r.is_some_and(|r| r.cost_usd.is_some()))
        })
        .collect();
    if comps.is_empty() {
        fig.subtitle
            .push("Cost accrued since the start, per priced component.".into());
        fig.message = Some(vec![
            "No priced components in this scenario.".into(),
            "Give a component an instance_type (from the built-in catalog)".into(),
            "or a price_per_hour to see its cost over time here.".into(),
        ]);
        return fig;
    }
    let pts: Vec<_> = comps
        .iter()
        .map(|&i| c.last(|w| c.data.comps[i].2[w].and_then(|r| r.cost_usd)))
        .collect();
    for &i in &comps {
        let name = &c.data.comps[i].0;
        let total = c
            .summary
            .components
            .0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, j)| j.cost_usd)
            .unwrap_or(0.0);
        fig.legend.push(legend(
            format!("{name}: {}", fmt_usd(total)),
            Ctx::colour(i),
            Swatch::Area,
        ));
    }
    let k = &c.summary.cost_usd;
    if comps.len() > 1 {
        fig.legend.push(legend(
            format!("total: {}", fmt_usd(k.total)),
            TOTAL,
            Swatch::Line,
        ));
    }
    fig.subtitle.push(format!(
        "{} over {} (stacked by component); after warm-up {}/hour, {}/month projected, {} per 1k requests.",
        fmt_usd(k.total),
        human_secs(c.summary.simulated_s),
        fmt_usd(k.per_hour),
        fmt_usd(k.projected_month),
        fmt_usd(k.per_1k_requests)
    ));
    let (layers, max) = stacked(c, &comps, &pts, Some(0.0));
    fig.panels.push(Panel {
        y: linear_axis(max, "cumulative cost (USD)", fmt_usd_tick),
        layers,
        hlines: Vec::new(),
        empty: None,
    });
    fig
}

// ---------------------------------------------------------------- axes

/// The x axis: range, ticks and their labels, and the marks drawn on
/// every panel.
struct XAxis {
    hi: f64,
    /// End of the warm-up (shaded), s.
    warmup: f64,
    /// Where a runaway stopped the run, s.
    stop: Option<f64>,
    major: Vec<f64>,
    minor: Vec<f64>,
    labels: Vec<(f64, String)>,
    desc: String,
}

/// A y axis in drawing units (log10 of the value on a log axis).
struct YAxis {
    lo: f64,
    hi: f64,
    major: Vec<f64>,
    minor: Vec<f64>,
    labels: Vec<(f64, String)>,
    desc: String,
}

pub(crate) fn label_at(labels: &[(f64, String)], v: f64) -> String {
    labels
        .iter()
        .min_by(|a, b| (a.0 - v).abs().total_cmp(&(b.0 - v).abs()))
        .map(|l| l.1.clone())
        .unwrap_or_default()
}

/// Time steps for ticks (s), with the minor step drawn between them.
const TIME_STEPS: [(f64, f64); 22] = [
    (1.0, 0.5),
    (2.0, 1.0),
    (5.0, 1.0),
    (10.0, 5.0),
    (15.0, 5.0),
    (30.0, 10.0),
    (60.0, 30.0),
    (120.0, 60.0),
    (300.0, 60.0),
    (600.0, 300.0),
    (900.0, 300.0),
    (1800.0, 600.0),
    (3600.0, 900.0),
    (7200.0, 1800.0),
    (10800.0, 3600.0),
    (21600.0, 3600.0),
    (43200.0, 10800.0),
    (86400.0, 21600.0),
    (172800.0, 86400.0),
    (604800.0, 86400.0),
    (1209600.0, 604800.0),
    (2419200.0, 604800.0),
];

/// Builds the time axis for `span` seconds, in calendar time from
/// `start` when given.
fn time_axis(span: f64, start: Option<NaiveDateTime>) -> XAxis {
    let span = if span > 0.0 { span } else { 1.0 };
    let max_ticks = if start.is_some() { 8.0 } else { 12.0 };
    let (step, minor) = TIME_STEPS
        .iter()
        .copied()
        .find(|(s, _)| span / s <= max_ticks)
        .unwrap_or_else(|| {
            let s = (span / max_ticks / 2419200.0).ceil() * 2419200.0;
            (s, 604800.0)
        });
    // Offset of t = 0 from the alignment origin (midnight, or Monday
    // midnight for weekly steps), so that calendar ticks fall on round times.
    let offset = start.map_or(0.0, |s| {
        let sod = s.time().num_seconds_from_midnight() as f64 + s.time().nanosecond() as f64 * 1e-9;
        if step >= 604800.0 {
            sod + s.weekday().num_days_from_monday() as f64 * 86400.0
        } else {
            sod
        }
    });
    let ticks = |step: f64| -> Vec<f64> {
        let first = (offset / step).ceil() * step - offset;
        let n = ((span - first) / step + 1e-9).floor().max(-1.0) as i64;
        (0..=n).map(|k| first + k as f64 * step).collect()
    };
    let major = ticks(step);
    let minor = ticks(minor);
    let labels = major
        .iter()
        .map(|&t| {
            let text = match start {
                None => elapsed_label(t),
                Some(s) => {
                    let when = s + chrono::Duration::milliseconds((t * 1000.0).round() as i64);
                    if step >= 86400.0 || (when.hour() == 0 && when.minute() == 0) {
                        when.format("%a %-d %b").to_string()
                    } else {
                        when.format("%H:%M").to_string()
                    }
                }
            };
            (t, text)
        })
        .collect();
    let desc = match start {
        None => "simulated time since start".to_string(),
        Some(s) => format!("local time (run starts {})", s.format("%a %Y-%m-%d %H:%M")),
    };
    XAxis {
        hi: span,
        warmup: 0.0,
        stop: None,
        major,
        minor,
        labels,
        desc,
    }
}

/// `0`, `45m`, `3h`, `1h30m`, `1d6h`, `7d`.
fn elapsed_label(t: f64) -> String {
    let total = t.round() as u64;
    if total == 0 {
        return "0".into();
    }
    let (d, h, m, s) = (
        total / 86400,
        total % 86400 / 3600,
        total % 3600 / 60,
        total % 60,
    );
    let mut out = String::new();
    for (v, u) in [(d, "d"), (h, "h"), (m, "m"), (s, "s")] {
        if v > 0 {
            out.push_str(&format!("{v}{u}"));
        }
    }
    out
}

/// A "nice" step (1, 2, 2.5 or 5 times a power of ten) for about `target`
/// ticks between 0 and `max`.
pub(crate) fn nice_step(max: f64, target: f64) -> f64 {
    let raw = max / target;
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let m = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 2.5 {
        2.5
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

pub(crate) fn decimals(step: f64) -> usize {
    let mut d = 0;
    while d < 9
        && ((step * 10f64.powi(d as i32)).round() - step * 10f64.powi(d as i32)).abs() > 1e-6
    {
        d += 1;
    }
    d
}

/// A linear axis from 0 to a nice bound above `max` (with headroom).
fn linear_axis(max: f64, desc: &str, fmt: fn(f64, usize) -> String) -> YAxis {
    let max = if max > 0.0 && max.is_finite() {
        max * 1.08
    } else {
        1.0
    };
    let step = nice_step(max, 6.0);
    let hi = (max / step).ceil() * step;
    let n = (hi / step).round() as i64;
    let major: Vec<f64> = (0..=n).map(|k| k as f64 * step).collect();
    let minor: Vec<f64> = (0..n).map(|k| (k as f64 + 0.5) * step).collect();
    let d = decimals(step);
    YAxis {
        lo: 0.0,
        hi,
        labels: major.iter().map(|&v| (v, fmt(v, d))).collect(),
        major,
        minor,
        desc: desc.into(),
    }
}

/// Integer ticks from 0 (instance counts).
fn count_axis(max: f64, desc: &str) -> YAxis {
    let mut y = linear_axis(max.max(1.0), desc, fmt_plain);
    if y.major.get(1).is_some_and(|s| *s < 1.0) {
        let hi = (max * 1.25).ceil().max(2.0);
        let major: Vec<f64> = (0..=hi as i64).map(|k| k as f64).collect();
        y = YAxis {
            lo: 0.0,
            hi,
            labels: major.iter().map(|&v| (v, format!("{v:.0}"))).collect(),
            major,
            minor: Vec::new(),
            desc: desc.into(),
        };
    }
    y
}

/// 0 to 100 % (or above, when a value exceeds it).
fn percent_axis(max: f64, desc: &str) -> YAxis {
    let hi = if max > 100.0 { max * 1.05 } else { 105.0 };
    let major: Vec<f64> = (0..=(hi / 20.0) as i64).map(|k| k as f64 * 20.0).collect();
    YAxis {
        lo: 0.0,
        hi,
        labels: major.iter().map(|&v| (v, format!("{v:.0}%"))).collect(),
        minor: major.iter().map(|v| v + 10.0).filter(|v| *v < hi).collect(),
        major,
        desc: desc.into(),
    }
}

/// A log10 axis from `min` to `max` (both > 0), ticks at 1, 2, 5 x 10^k.
fn log_axis(min: f64, max: f64, desc: &str, fmt: fn(f64) -> String) -> YAxis {
    let lo = min.log10().floor();
    let hi = (max * 1.5).log10();
    let mut major = Vec::new();
    let mut minor = Vec::new();
    let mut k = lo as i32;
    while (k as f64) <= hi.ceil() {
        for m in 1..10 {
            let v = m as f64 * 10f64.powi(k);
            let lv = v.log10();
            if lv < lo - 1e-9 || lv > hi {
                continue;
            }
            if matches!(m, 1 | 2 | 5) {
                major.push(lv);
            } else {
                minor.push(lv);
            }
        }
        k += 1;
    }
    YAxis {
        lo,
        hi,
        labels: major
            .iter()
            .map(|&lv| {
                let v = 10f64.powf(lv);
                (lv, fmt(v))
            })
            .collect(),
        major,
        minor,
        desc: desc.into(),
    }
}

pub(crate) fn fmt_plain(v: f64, d: usize) -> String {
    if v >= 10_000.0 && d == 0 {
        let k = v / 1000.0;
        format!("{}k", fmt_plain(k, decimals(k)))
    } else {
        format!("{v:.d$}")
    }
}

pub(crate) fn fmt_usd_tick(v: f64, d: usize) -> String {
    if d == 0 && v >= 10_000.0 {
        format!("${}k", fmt_plain(v / 1000.0, decimals(v / 1000.0)))
    } else {
        format!("${v:.d$}")
    }
}

/// `$0.0042`, `$12.34`, `$1,234`.
pub(crate) fn fmt_usd(v: f64) -> String {
    if v == 0.0 {
        "$0".into()
    } else if v < 0.1 {
        format!("${v:.4}")
    } else if v < 1000.0 {
        format!("${v:.2}")
    } else {
        let n = v.round() as u64;
        let s = n.to_string();
        let mut out = String::new();
        for (i, ch) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        format!("${out}")
    }
}

pub(crate) fn fmt_rate(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Latency for labels: `850 µs`, `32.4 ms`, `400 ms`, `1.25 s`.
pub(crate) fn fmt_secs(s: f64) -> String {
    let trim = |x: f64, d: usize| {
        let t = format!("{x:.d$}");
        if t.contains('.') {
            t.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            t
        }
    };
    if s == 0.0 {
        "0".into()
    } else if s < 1e-3 {
        format!("{} µs", trim(s * 1e6, 0))
    } else if s < 1.0 {
        format!("{} ms", trim(s * 1e3, if s < 0.1 { 1 } else { 0 }))
    } else {
        format!("{} s", trim(s, 2))
    }
}

// ---------------------------------------------------------------- drawing

/// A linear f64 coordinate with our own tick positions (bold grid lines
/// at `major`, light ones at `minor`); labels come from the mesh's label
/// formatters.
#[derive(Clone)]
pub(crate) struct Axis {
    pub(crate) lo: f64,
    pub(crate) hi: f64,
    pub(crate) major: Vec<f64>,
    pub(crate) minor: Vec<f64>,
}

impl Ranged for Axis {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let span = self.hi - self.lo;
        if span <= 0.0 {
            return (limit.0 + limit.1) / 2;
        }
        let f = (v - self.lo) / span;
        limit.0 + (f64::from(limit.1 - limit.0) * f + 1e-3).floor() as i32
    }

    fn key_points<H: plotters::coord::ranged1d::KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.minor.clone()
        } else {
            self.major.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

pub(crate) type DrawResult = Result<(), Box<dyn Error + Send + Sync>>;

pub(crate) fn err<E: std::fmt::Display>(e: E) -> Box<dyn Error + Send + Sync> {
    e.to_string().into()
}

pub(crate) fn font(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&TEXT)
}

/// Draws `fig` on `root`, whatever the backend.
fn render<DB: DrawingBackend>(
    fig: &Figure,
    lay: &Layout,
    x: &XAxis,
    root: &DrawingArea<DB, Shift>,
) -> DrawResult {
    root.fill(&WHITE).map_err(err)?;
    // Title and subtitle lines.
    let title_font = (FONT, 26, FontStyle::Bold).into_font().color(&TEXT);
    root.draw(&Text::new(fig.title.clone(), (MARGIN, 16), title_font))
        .map_err(err)?;
    let mut y = 54;
    for line in &lay.subtitle {
        root.draw(&Text::new(
            line.clone(),
            (MARGIN, y),
            font(SUBTITLE_SIZE).color(&MUTED),
        ))
        .map_err(err)?;
        y += 24;
    }
    // Legend: swatches and labels in rows, above the plot (never on data).
    let lf = font(LEGEND_SIZE);
    for (item, &(lx, y)) in fig.legend.iter().zip(&lay.legend) {
        let cy = y + 7;
        match item.swatch {
            Swatch::Line => {
                root.draw(&PathElement::new(
                    vec![(lx, cy), (lx + 26, cy)],
                    item.colour.stroke_width(3),
                ))
                .map_err(err)?;
            }
            Swatch::Dashed => {
                for k in 0..3 {
                    root.draw(&PathElement::new(
                        vec![(lx + k * 10, cy), (lx + k * 10 + 6, cy)],
                        item.colour.stroke_width(3),
                    ))
                    .map_err(err)?;
                }
            }
            Swatch::Area => {
                root.draw(&Rectangle::new(
                    [(lx, cy - 7), (lx + 26, cy + 7)],
                    item.colour.mix(0.55).filled(),
                ))
                .map_err(err)?;
                root.draw(&Rectangle::new(
                    [(lx, cy - 7), (lx + 26, cy + 7)],
                    item.colour.stroke_width(1),
                ))
                .map_err(err)?;
            }
        }
        root.draw(&Text::new(item.label.clone(), (lx + 34, y), lf.clone()))
            .map_err(err)?;
    }
    let body = root.split_vertically(lay.header).1;
    if let Some(lines) = &fig.message {
        let body = body.margin(10, 30, 30, 30);
        let (bw, bh) = body.dim_in_pixel();
        body.draw(&Rectangle::new(
            [(0, 0), (bw as i32 - 1, bh as i32 - 1)],
            GRID_LIGHT.filled(),
        ))
        .map_err(err)?;
        let mut ty = bh as i32 / 2 - 14 * lines.len() as i32;
        for (k, line) in lines.iter().enumerate() {
            let style = if k == 0 {
                (FONT, 22, FontStyle::Bold).into_font().color(&TEXT)
            } else {
                font(18).color(&MUTED)
            };
            body.draw(&Text::new(
                line.clone(),
                (bw as i32 / 2, ty),
                style.pos(Pos::new(HPos::Center, VPos::Top)),
            ))
            .map_err(err)?;
            ty += if k == 0 { 40 } else { 28 };
        }
        return Ok(());
    }
    let n = fig.panels.len().max(1);
    let areas = body.split_evenly((n, 1));
    // One right margin for every panel, so that their time axes line up.
    let labelled = fig.panels.iter().any(|p| !p.hlines.is_empty());
    let right = if labelled { 150 } else { 48 };
    for (k, (panel, area)) in fig.panels.iter().zip(areas.iter()).enumerate() {
        draw_panel(panel, x, area, k + 1 == n, right)?;
    }
    Ok(())
}

fn draw_panel<DB: DrawingBackend>(
    p: &Panel,
    x: &XAxis,
    area: &DrawingArea<DB, Shift>,
    last: bool,
    right: u32,
) -> DrawResult {
    let mut chart = ChartBuilder::on(area)
        .margin_left(14)
        .margin_right(right)
        .margin_top(8)
        .margin_bottom(if last { 8 } else { 0 })
        .x_label_area_size(if last { 50 } else { 30 })
        .y_label_area_size(96)
        .build_cartesian_2d(
            Axis {
                lo: 0.0,
                hi: x.hi,
                major: x.major.clone(),
                minor: x.minor.clone(),
            },
            Axis {
                lo: p.y.lo,
                hi: p.y.hi,
                major: p.y.major.clone(),
                minor: p.y.minor.clone(),
            },
        )
        .map_err(err)?;
    let xl = |v: &f64| label_at(&x.labels, *v);
    let yl = |v: &f64| label_at(&p.y.labels, *v);
    let mut mesh = chart.configure_mesh();
    mesh.x_label_formatter(&xl)
        .y_label_formatter(&yl)
        .y_desc(p.y.desc.clone())
        .label_style(font(15))
        .axis_desc_style(font(16))
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(GRID_LIGHT.stroke_width(1))
        .axis_style(MUTED.stroke_width(1))
        .x_label_offset(0)
        .set_all_tick_mark_size(4);
    if last {
        mesh.x_desc(x.desc.clone());
    }
    mesh.draw().map_err(err)?;
    draw_layers(&mut chart, area, p, x)
}

fn draw_layers<DB: DrawingBackend>(
    chart: &mut ChartContext<DB, Cartesian2d<Axis, Axis>>,
    area: &DrawingArea<DB, Shift>,
    p: &Panel,
    x: &XAxis,
) -> DrawResult {
    let (ylo, yhi) = (p.y.lo, p.y.hi);
    let small = font(14).color(&MUTED);
    if x.warmup > 0.0 {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.0, ylo), (x.warmup.min(x.hi), yhi)],
                MUTED.mix(0.10).filled(),
            )))
            .map_err(err)?;
        let y = yhi - (yhi - ylo) * 0.01;
        chart
            .draw_series(std::iter::once(Text::new(
                "warm-up".to_string(),
                (x.warmup.min(x.hi), y),
                small.pos(Pos::new(HPos::Left, VPos::Top)),
            )))
            .map_err(err)?;
    }
    for layer in &p.layers {
        match layer {
            Layer::Area {
                lower,
                upper,
                colour,
                opacity,
            } => {
                if upper.is_empty() {
                    continue;
                }
                let clamp = |(a, b): &(f64, f64)| (*a, b.clamp(ylo, yhi));
                let poly: Vec<(f64, f64)> = upper
                    .iter()
                    .map(clamp)
                    .chain(lower.iter().rev().map(clamp))
                    .collect();
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        poly,
                        colour.mix(*opacity).filled(),
                    )))
                    .map_err(err)?;
            }
            Layer::Line {
                segments,
                colour,
                width,
                dashed,
            } => {
                for s in segments {
                    let pts = s.iter().map(|&(a, b)| (a, b.clamp(ylo, yhi)));
                    if *dashed {
                        chart
                            .draw_series(DashedLineSeries::new(
                                pts,
                                9,
                                5,
                                colour.stroke_width(*width),
                            ))
                            .map_err(err)?;
                    } else {
                        chart
                            .draw_series(LineSeries::new(pts, colour.stroke_width(*width)))
                            .map_err(err)?;
                    }
                }
            }
        }
    }
    let mut labels = Vec::new();
    for (y, label, colour) in &p.hlines {
        if *y < ylo || *y > yhi {
            continue;
        }
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, *y), (x.hi, *y)],
                10,
                6,
                colour.stroke_width(2),
            ))
            .map_err(err)?;
        labels.push((chart.backend_coord(&(x.hi, *y)), label, colour));
    }
    // Labels in the right margin, pushed apart when lines are close.
    labels.sort_by_key(|l| l.0 .1);
    let base = area.get_base_pixel();
    let mut next_free = i32::MIN;
    for ((px, py), label, colour) in labels {
        let ty = (py - 9).max(next_free);
        next_free = ty + 20;
        area.draw(&Text::new(
            label.clone(),
            (px - base.0 + 8, ty - base.1),
            font(15).color(colour),
        ))
        .map_err(err)?;
    }
    if let Some(t) = x.stop {
        chart
            .draw_series(LineSeries::new(
                [(t, ylo), (t, yhi)],
                SLO_RED.stroke_width(2),
            ))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(Text::new(
                "runaway: run stopped".to_string(),
                (t, yhi - (yhi - ylo) * 0.01),
                font(14)
                    .color(&SLO_RED)
                    .pos(Pos::new(HPos::Right, VPos::Top)),
            )))
            .map_err(err)?;
    }
    if let Some(msg) = &p.empty {
        chart
            .draw_series(std::iter::once(Text::new(
                msg.clone(),
                (x.hi / 2.0, (ylo + yhi) / 2.0),
                font(18)
                    .color(&MUTED)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            )))
            .map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn bundled_fonts_load() {
        assert!(register_fonts());
        let (w, h) = (FONT, 16).into_font().box_size("scalesim").unwrap();
        assert!(w > 40 && h > 8, "{w}x{h}");
    }

    #[test]
    fn elapsed_labels() {
        assert_eq!(elapsed_label(0.0), "0");
        assert_eq!(elapsed_label(2700.0), "45m");
        assert_eq!(elapsed_label(5400.0), "1h30m");
        assert_eq!(elapsed_label(108000.0), "1d6h");
        assert_eq!(elapsed_label(604800.0), "7d");
    }

    #[test]
    fn time_ticks_fit_the_span() {
        let day = time_axis(86400.0, None);
        assert_eq!(day.major.len(), 13, "every 2 h over a day");
        assert_eq!(day.labels[1].1, "2h");
        let week = time_axis(7.0 * 86400.0, None);
        assert_eq!(week.labels.last().unwrap().1, "7d");
        let short = time_axis(600.0, None);
        assert_eq!(short.labels[1].1, "1m");
    }

    #[test]
    fn calendar_ticks_fall_on_round_times() {
        let start = NaiveDate::from_ymd_opt(2026, 11, 23)
            .unwrap()
            .and_hms_opt(7, 10, 0)
            .unwrap();
        let ax = time_axis(86400.0, Some(start));
        // 3-hour steps from midnight: the first tick is 09:00, 1h50m in.
        assert_eq!(ax.major[0], 6600.0);
        assert_eq!(ax.labels[0].1, "09:00");
        assert!(ax.labels.iter().any(|l| l.1 == "Tue 24 Nov"));
        let week = time_axis(7.0 * 86400.0, Some(start));
        assert_eq!(week.labels[0].1, "Tue 24 Nov");
    }

    #[test]
    fn y_axes() {
        let y = linear_axis(52.0, "rps", fmt_plain);
        assert_eq!(y.hi, 60.0);
        assert_eq!(y.labels[1].1, "10");
        let y = linear_axis(0.0, "empty", fmt_plain);
        assert_eq!(y.hi, 1.0);
        let y = log_axis(0.03, 40.0, "s", fmt_secs);
        assert!(y.labels.iter().any(|l| l.1 == "50 ms"));
        assert!(y.labels.iter().any(|l| l.1 == "20 s"));
        let y = count_axis(5.0, "instances");
        assert!(y.labels.iter().all(|l| !l.1.contains('.')));
        assert_eq!(fmt_usd_tick(5.0, 0), "$5");
        assert_eq!(fmt_usd_tick(0.5, 1), "$0.5");
        assert_eq!(fmt_usd(1234.4), "$1,234");
        assert_eq!(fmt_secs(0.4), "400 ms");
        assert_eq!(fmt_secs(0.0324), "32.4 ms");
        assert_eq!(fmt_secs(1.5), "1.5 s");
    }

    #[test]
    fn buckets_cover_every_window_once() {
        for n in [0, 1, 599, 600, 601, 10080] {
            let b = Buckets::new(n);
            assert!(b.ranges.len() <= MAX_POINTS);
            let covered: usize = b.ranges.iter().map(|r| r.len()).sum();
            assert_eq!(covered, n);
            assert!(b.ranges.windows(2).all(|w| w[0].end == w[1].start));
        }
    }
}
