//! Charts of many runs: sweep metrics against parameters, cost against p99
//! with its Pareto frontier, heatmaps of two-parameter grids, and capacity
//! charts.
//!
//! Every chart is written as `<name>.svg` and `<name>.png`, in the house
//! style of [`crate::charts`] (bundled DejaVu Sans, title, wrapped
//! subtitle, legend above the plot, never on the data):
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
//! Output is deterministic: the same results give byte-identical files.

use crate::charts::{
    decimals, err, fmt_plain, fmt_secs, fmt_usd, fmt_usd_tick, font, label_at, nice_step,
    register_fonts, DrawResult, DESIRED, FONT, GRID, GRID_LIGHT, LEGEND_SIZE, MARGIN, MUTED,
    PALETTE, SLO_RED, SUBTITLE_SIZE, TEXT, THROUGHPUT, WIDTH,
};
use crate::charts::{flow_legend, Axis};
use crate::study::{CapacityResult, CapacityRow, MetricStat, ParamValue, SweepResults};
use ndarray::Array2;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;
use std::error::Error;
use std::io;
use std::path::{Path, PathBuf};

/// The metrics a heatmap shows, when the sweep measured them.
const HEAT_METRICS: [&str; 3] = ["latency_s.p99", "cost_usd.projected_month", "error_rate"];
/// Frontier and highlight colour.
const HIGHLIGHT: RGBColor = DESIRED;
/// Cells without data.
const NO_DATA: RGBColor = RGBColor(0xc4, 0xc7, 0xcc);
const PANEL_TITLE_SIZE: u32 = 17;

// ---------------------------------------------------------------- public API

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
    let mut figs = Vec::new();
    if !metrics.is_empty() && !r.points.is_empty() {
        for p in 0..r.params.len() {
            figs.push(sweep_figure(r, p, &metrics));
        }
    }
    for spec in &PARETOS {
        if let (Some(a), Some(b)) = (r.metric(spec.x), r.metric(spec.y)) {
            if let Some(fig) = pareto_figure(r, a, b, spec) {
                figs.push(fig);
            }
        }
    }
    if r.params.len() == 2 {
        if let Some(fig) = heatmap_figure(r) {
            figs.push(fig);
        }
    }
    write_figures(dir, &figs)
}

/// Draws the charts of a capacity search into `dir` (created if missing)
/// and returns the paths written, SVG then PNG for each chart: with a
/// `per` parameter, `capacity` and `capacity-inverse`; without one,
/// `capacity-probes`. Nothing is drawn when there is no row.
pub fn capacity_charts(dir: &Path, r: &CapacityResult) -> io::Result<Vec<PathBuf>> {
    fonts()?;
    let mut figs = Vec::new();
    if !r.rows.is_empty() {
        if r.per.is_some() {
            figs.push(capacity_figure(r));
            figs.push(inverse_figure(r));
        } else {
            figs.push(probes_figure(r, &r.rows[0]));
        }
    }
    write_figures(dir, &figs)
}

/// The Pareto frontier of `points` (x, y), both to minimise: the indices
/// of the points no other point dominates (lower or equal on both, lower
/// on one), sorted by x then y. Points with a non-finite coordinate are
/// left out; identical points are all kept.
pub fn pareto_front(points: &[(f64, f64)]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..points.len())
        .filter(|&i| points[i].0.is_finite() && points[i].1.is_finite())
        .collect();
    idx.sort_by(|&a, &b| {
        (points[a].0.total_cmp(&points[b].0))
            .then(points[a].1.total_cmp(&points[b].1))
            .then(a.cmp(&b))
    });
    // Sorted by x: a point is dominated exactly when an earlier one has a
    // lower y, or the same y at a lower x.
    let mut best: Option<(f64, f64)> = None; // (lowest y so far, its first x)
    let mut out = Vec::new();
    for i in idx {
        let (x, y) = points[i];
        let dominated = best.is_some_and(|(by, bx)| by < y || (by == y && bx < x));
        if !dominated {
            out.push(i);
        }
        if best.is_none_or(|(by, _)| y < by) {
            best = Some((y, x));
        }
    }
    out
}

/// File-name form of a parameter path: every character that is not ASCII
/// alphanumeric becomes `-` (`components.api.instances` →
/// `components-api-instances`).
pub fn slug(path: &str) -> String {
    path.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

// ---------------------------------------------------------------- figures

/// A backend-independent description of one chart.
struct Figure {
    name: String,
    head: Header,
    /// Height below the header.
    body_height: u32,
    body: Body,
}

enum Body {
    Sweep(SweepPlot),
    Pareto(ParetoPlot),
    Heatmap(Vec<HeatPanel>),
    Capacity(CapacityPlot),
    Inverse(InversePlot),
    Probes(Vec<ProbePanel>),
}

/// Title, subtitle paragraphs and legend.
struct Header {
    title: String,
    subtitle: Vec<String>,
    legend: Vec<Key>,
}

struct Key {
    label: String,
    colour: RGBColor,
    swatch: Swatch,
}

#[derive(Clone, Copy)]
enum Swatch {
    Dashed,
    LineDot,
    Dot,
    Hollow,
    Area,
    Cross,
}

fn key(label: impl Into<String>, colour: RGBColor, swatch: Swatch) -> Key {
    Key {
        label: label.into(),
        colour,
        swatch,
    }
}

/// Where the header's text goes.
struct HeaderLayout {
    title: Vec<String>,
    subtitle: Vec<(i32, String)>,
    legend: Vec<(i32, i32)>,
    height: u32,
}

fn text_width(text: &str, size: u32, bold: bool) -> i32 {
    let f = if bold {
        (FONT, size, FontStyle::Bold).into_font()
    } else {
        (FONT, size).into_font()
    };
    f.box_size(text)
        .map(|b| b.0 as i32)
        .unwrap_or(text.chars().count() as i32 * size as i32 / 2)
}

/// Splits `text` into lines no wider than `max` pixels.
fn wrap(text: &str, size: u32, bold: bool, max: i32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if !line.is_empty() && text_width(&candidate, size, bold) > max {
            lines.push(std::mem::take(&mut line));
            line = word.to_string();
        } else {
            line = candidate;
        }
    }
    lines.push(line);
    lines
}

impl Header {
    fn layout(&self) -> HeaderLayout {
        let max_w = WIDTH as i32 - 2 * MARGIN;
        let title = wrap(&self.title, 26, true, max_w);
        let mut y = 16 + 36 * title.len() as i32 + 2;
        let mut subtitle = Vec::new();
        for para in &self.subtitle {
            for line in wrap(para, SUBTITLE_SIZE, false, max_w) {
                subtitle.push((y, line));
                y += 24;
            }
        }
        let legend_top = y + 6;
        let (legend, ly) = flow_legend(
            self.legend
                .iter()
                .map(|i| text_width(&i.label, LEGEND_SIZE, false)),
            MARGIN,
            legend_top,
        );
        let height = if self.legend.is_empty() {
            legend_top + 4
        } else {
            ly + 34
        };
        HeaderLayout {
            title,
            subtitle,
            legend,
            height: height as u32,
        }
    }
}

/// Registers the bundled font, which text measurements need.
fn fonts() -> io::Result<()> {
    if register_fonts() {
        Ok(())
    } else {
        Err(io::Error::other("the bundled chart font failed to load"))
    }
}

/// Writes every figure as SVG and PNG.
fn write_figures(dir: &Path, figs: &[Figure]) -> io::Result<Vec<PathBuf>> {
    if figs.is_empty() {
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(dir)?;
    let mut out = Vec::with_capacity(2 * figs.len());
    for fig in figs {
        let lay = fig.head.layout();
        let size = (WIDTH, lay.height + fig.body_height);
        let svg_path = dir.join(format!("{}.svg", fig.name));
        let png_path = dir.join(format!("{}.png", fig.name));
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
            render(fig, &lay, &root).map_err(io::Error::other)?;
            root.present()
                .map_err(|e| io::Error::other(e.to_string()))?;
        }
        std::fs::write(&svg_path, &svg)?;
        {
            let root = BitMapBackend::new(&png_path, size).into_drawing_area();
            render(fig, &lay, &root).map_err(io::Error::other)?;
            root.present()
                .map_err(|e| io::Error::other(e.to_string()))?;
        }
        out.push(svg_path);
        out.push(png_path);
    }
    Ok(out)
}

/// Draws `fig` on `root`, whatever the backend.
fn render<DB: DrawingBackend>(
    fig: &Figure,
    lay: &HeaderLayout,
    root: &DrawingArea<DB, Shift>,
) -> DrawResult {
    root.fill(&WHITE).map_err(err)?;
    let title_font = (FONT, 26, FontStyle::Bold).into_font().color(&TEXT);
    for (k, line) in lay.title.iter().enumerate() {
        root.draw(&Text::new(
            line.clone(),
            (MARGIN, 16 + 36 * k as i32),
            title_font.clone(),
        ))
        .map_err(err)?;
    }
    for (y, line) in &lay.subtitle {
        root.draw(&Text::new(
            line.clone(),
            (MARGIN, *y),
            font(SUBTITLE_SIZE).color(&MUTED),
        ))
        .map_err(err)?;
    }
    for (item, &(lx, y)) in fig.head.legend.iter().zip(&lay.legend) {
        draw_swatch(root, item, lx, y + 7)?;
        root.draw(&Text::new(
            item.label.clone(),
            (lx + 34, y),
            font(LEGEND_SIZE),
        ))
        .map_err(err)?;
    }
    let body = root.split_vertically(lay.height).1;
    match &fig.body {
        Body::Sweep(s) => draw_sweep(&body, s),
        Body::Pareto(p) => draw_pareto(root, &body, p),
        Body::Heatmap(panels) => draw_heatmaps(root, &body, panels),
        Body::Capacity(c) => draw_capacity(&body, c),
        Body::Inverse(i) => draw_inverse(root, &body, i),
        Body::Probes(panels) => draw_probes(&body, panels),
    }
}

fn draw_swatch<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    item: &Key,
    lx: i32,
    cy: i32,
) -> DrawResult {
    let c = item.colour;
    match item.swatch {
        Swatch::Dashed => {
            for k in 0..3 {
                root.draw(&PathElement::new(
                    vec![(lx + k * 10, cy), (lx + k * 10 + 6, cy)],
                    c.stroke_width(3),
                ))
                .map_err(err)?;
            }
        }
        Swatch::LineDot => {
            root.draw(&PathElement::new(
                vec![(lx, cy), (lx + 26, cy)],
                c.stroke_width(2),
            ))
            .map_err(err)?;
            root.draw(&Circle::new((lx + 13, cy), 5, c.filled()))
                .map_err(err)?;
        }
        Swatch::Dot => root
            .draw(&Circle::new((lx + 13, cy), 6, c.filled()))
            .map_err(err)?,
        Swatch::Hollow => root
            .draw(&Circle::new((lx + 13, cy), 5, c.stroke_width(2)))
            .map_err(err)?,
        Swatch::Area => {
            root.draw(&Rectangle::new(
                [(lx, cy - 7), (lx + 26, cy + 7)],
                c.mix(0.35).filled(),
            ))
            .map_err(err)?;
            root.draw(&Rectangle::new(
                [(lx, cy - 7), (lx + 26, cy + 7)],
                c.stroke_width(1),
            ))
            .map_err(err)?;
        }
        Swatch::Cross => root
            .draw(&Cross::new((lx + 13, cy), 6, c.stroke_width(3)))
            .map_err(err)?,
    }
    Ok(())
}

// ---------------------------------------------------------------- units

/// How a metric's values read.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Unit {
    /// Seconds, shown as `250 ms`, `1.5 s`.
    Secs,
    /// US dollars.
    Usd,
    /// A fraction, shown as a percentage.
    Ratio,
    /// Per second.
    Rate,
    Plain,
}

fn last_segment(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

/// The pool and `k` of a `components.<pool>.load_at_least.<k>` metric:
/// the time-averaged share of the pool's instances with at least `k`
/// requests in service or queued.
fn load_at_least(metric: &str) -> Option<(&str, &str)> {
    let rest = metric.strip_prefix("components.")?;
    let (head, k) = rest.rsplit_once('.')?;
    let pool = head.strip_suffix(".load_at_least")?;
    (!pool.is_empty() && !k.is_empty()).then_some((pool, k))
}

/// `ttft` or `tpot` and the statistic of a token-latency metric
/// (`llm.ttft_s.p99`, `components.<llm>.tpot_s.mean`).
fn token_latency(metric: &str) -> Option<(&str, &str)> {
    let (head, k) = metric.rsplit_once('.')?;
    let what = head.rsplit('.').next()?.strip_suffix("_s")?;
    matches!(what, "ttft" | "tpot" | "itl").then_some((what, k))
}

fn unit_of(metric: &str) -> Unit {
    let last = last_segment(metric);
    if load_at_least(metric).is_some() || last == "kv_use_mean" {
        Unit::Ratio
    } else if last.contains("_per_s") {
        Unit::Rate
    } else if token_latency(metric).is_some()
        || metric.starts_with("latency_s.")
        || last.ends_with("_s")
    {
        Unit::Secs
    } else if metric.starts_with("cost_usd.") || last.starts_with("cost") {
        Unit::Usd
    } else if last == "error_rate" || last.ends_with("utilization") || last.ends_with("ratio") {
        Unit::Ratio
    } else if last.ends_with("_rps") {
        Unit::Rate
    } else {
        Unit::Plain
    }
}

/// What a metric is, in words: `p99 latency`, `cost per month`,
/// `api utilization`, `api: instances with ≥ 2 requests`.
fn metric_title(metric: &str) -> String {
    let words = |s: &str| {
        let s = s
            .strip_suffix("_rps")
            .or_else(|| s.strip_suffix("_s"))
            .unwrap_or(s);
        s.replace(['_', '.'], " ")
    };
    if let Some(k) = metric.strip_prefix("latency_s.") {
        return match k {
            "p999" => "p99.9 latency".into(),
            k => format!("{k} latency"),
        };
    }
    if let Some(k) = metric.strip_prefix("cost_usd.") {
        return match k {
            "projected_month" => "cost per month".into(),
            "per_hour" => "cost per hour".into(),
            "total" => "cost of the run".into(),
            "per_1k_requests" => "cost per 1k requests".into(),
            k => format!("cost {}", words(k)),
        };
    }
    if let Some((pool, k)) = load_at_least(metric) {
        let what = if k == "1" { "request" } else { "requests" };
        return format!("{pool}: instances with ≥ {k} {what}");
    }
    if let Some((what, k)) = token_latency(metric) {
        let what = match what {
            "ttft" => "time to first token",
            "tpot" => "time per output token",
            _ => "inter-token latency",
        };
        return match metric.strip_prefix("components.") {
            Some(rest) => format!("{} {k} {what}", rest.split('.').next().unwrap_or("")),
            None => format!("{k} {what}"),
        };
    }
    let words = |s: &str| {
        let rate = s.split_once("_per_s");
        let text = match rate {
            Some((head, tail)) => format!("{}/s{}", words(head), words(tail)),
            None => words(s),
        };
        text.replace(" per gpu", " per GPU")
            .replace("per 1m", "per 1M")
            .replace("kv ", "KV ")
    };
    if let Some(rest) = metric.strip_prefix("components.") {
        if let Some((name, field)) = rest.split_once('.') {
            return format!("{name} {}", words(field));
        }
    }
    words(metric)
}

/// The y-axis description of a metric.
fn metric_desc(metric: &str) -> String {
    let last = last_segment(metric);
    match unit_of(metric) {
        Unit::Secs if metric.starts_with("latency_s.") => "latency".into(),
        Unit::Secs if token_latency(metric).is_some() => {
            token_latency(metric).map_or("time", |t| t.0).to_uppercase()
        }
        Unit::Secs => "time".into(),
        Unit::Usd => match last {
            "projected_month" | "cost_per_month" => "USD per month".into(),
            "per_hour" => "USD per hour".into(),
            "per_1k_requests" => "USD per 1k requests".into(),
            "cost_per_1m_output_tokens" => "USD per 1M output tokens".into(),
            "cost_per_1m_tokens" => "USD per 1M tokens".into(),
            _ => "USD".into(),
        },
        Unit::Ratio if last == "kv_use_mean" => "% of KV blocks".into(),
        Unit::Ratio if load_at_least(metric).is_some() => "% of instances".into(),
        Unit::Ratio if last == "error_rate" => "% of requests".into(),
        Unit::Ratio if last.ends_with("utilization") => "% of slots busy".into(),
        Unit::Ratio if last.ends_with("hit_ratio") => "% of lookups".into(),
        Unit::Ratio => "%".into(),
        Unit::Rate if last.contains("tokens") => "tokens per second".into(),
        Unit::Rate => "per second".into(),
        Unit::Plain => last.replace('_', " "),
    }
}

/// Trims trailing zeros of a decimal number.
fn trim(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// `1,234,567`.
fn grouped(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// A number for labels: `1,250`, `412`, `41.5`, `0.25`.
fn fmt_num(v: f64) -> String {
    let a = v.abs();
    if !v.is_finite() {
        "–".into()
    } else if a >= 1000.0 {
        grouped(v.round() as i64)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        trim(format!("{v:.1}"))
    } else if a >= 0.01 || a == 0.0 {
        trim(format!("{v:.2}"))
    } else {
        format!("{v:.1e}")
    }
}

/// `0.12%`, `45.3%`, `0.0123%`.
fn fmt_pct(v: f64) -> String {
    let x = v * 100.0;
    if x == 0.0 {
        return "0%".into();
    }
    let d = (2 - x.abs().log10().floor() as i32).clamp(0, 6) as usize;
    format!("{}%", trim(format!("{x:.d$}")))
}

/// `$0.0042`, `$12.34`, `$354`, `$1,234`.
fn fmt_usd_short(v: f64) -> String {
    if (100.0..1000.0).contains(&v.abs()) {
        format!("${v:.0}")
    } else {
        fmt_usd(v)
    }
}

/// A value for a label (point, cell, tick of a log axis).
fn fmt_value(unit: Unit, v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    match unit {
        Unit::Secs => fmt_secs(v),
        Unit::Usd => fmt_usd_short(v),
        Unit::Ratio => fmt_pct(v),
        Unit::Rate | Unit::Plain => fmt_num(v),
    }
}

/// A tick of a linear axis with ticks `step` apart.
fn fmt_tick(unit: Unit, v: f64, step: f64) -> String {
    let d = decimals(step);
    match unit {
        Unit::Secs => fmt_secs(v),
        Unit::Usd => fmt_usd_tick(v, d),
        Unit::Ratio => format!("{:.*}%", decimals(step * 100.0), v * 100.0),
        Unit::Rate | Unit::Plain => fmt_plain(v, d),
    }
}

/// A parameter value without TOML quotes (`"lru"` → `lru`).
fn unquote(text: &str) -> &str {
    let t = text.trim();
    for q in ['"', '\''] {
        if t.len() >= 2 && t.starts_with(q) && t.ends_with(q) {
            return &t[1..t.len() - 1];
        }
    }
    t
}

fn plural(n: u32, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

// ---------------------------------------------------------------- scales

/// A coordinate in drawing units (log10 of the value on a log scale), with
/// its ticks (bold grid lines at `major`, light ones at `minor`) and their
/// labels.
#[derive(Clone, Debug)]
struct Scale {
    lo: f64,
    hi: f64,
    major: Vec<f64>,
    minor: Vec<f64>,
    labels: Vec<(f64, String)>,
    desc: String,
    log: bool,
}

impl Scale {
    /// A value in drawing units.
    fn at(&self, v: f64) -> f64 {
        if self.log {
            v.max(1e-300).log10()
        } else {
            v
        }
    }

    /// A value in drawing units, kept inside the scale.
    fn at_in(&self, v: f64) -> f64 {
        self.at(v).clamp(self.lo, self.hi)
    }

    fn span(&self) -> f64 {
        self.hi - self.lo
    }
}

impl Scale {
    /// The plotters coordinate of this scale (ticks at `major`/`minor`).
    fn axis(&self) -> Axis {
        Axis {
            lo: self.lo,
            hi: self.hi,
            major: self.major.clone(),
            minor: self.minor.clone(),
        }
    }
}

/// Ticks at 1, 2 and 5 x 10^k (majors) and the other digits (minors)
/// between `lo` and `hi` (log10 units).
fn log_ticks(lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>) {
    let (mut major, mut minor) = (Vec::new(), Vec::new());
    for k in (lo.floor() as i32)..=(hi.ceil() as i32) {
        for m in 1..10 {
            let lv = (m as f64 * 10f64.powi(k)).log10();
            if lv < lo - 1e-9 || lv > hi + 1e-9 {
                continue;
            }
            if matches!(m, 1 | 2 | 5) {
                major.push(lv);
            } else {
                minor.push(lv);
            }
        }
    }
    if major.len() > 9 {
        // Many decades: majors at the powers of ten only.
        let (a, b): (Vec<f64>, Vec<f64>) = major
            .into_iter()
            .partition(|lv| (lv - lv.round()).abs() < 1e-9);
        major = a;
        minor.extend(b);
        minor.sort_by(f64::total_cmp);
    }
    (major, minor)
}

/// Never a log scale (see [`value_scale`]).
const LINEAR: f64 = f64::INFINITY;

/// A scale for metric values: linear from 0 (or below, for negative
/// values) to a nice bound, or logarithmic when the values are positive
/// and the largest is more than `log_above` times the smallest.
fn value_scale(vals: &[f64], unit: Unit, desc: impl Into<String>, log_above: f64) -> Scale {
    scale_of(vals, unit, desc.into(), log_above, true)
}

/// Like [`value_scale`], but a linear scale fits the values instead of
/// starting at 0 (unless they come close to it): for scatter plots.
fn fitted_scale(vals: &[f64], unit: Unit, desc: impl Into<String>, log_above: f64) -> Scale {
    scale_of(vals, unit, desc.into(), log_above, false)
}

fn scale_of(vals: &[f64], unit: Unit, desc: String, log_above: f64, zero: bool) -> Scale {
    let finite: Vec<f64> = vals.iter().copied().filter(|v| v.is_finite()).collect();
    let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !finite.is_empty() && min > 0.0 && max / min > log_above {
        let (a, b) = (min.log10(), max.log10());
        let pad = (b - a) * 0.06;
        let (lo, hi) = (a - pad, b + pad);
        let (major, minor) = log_ticks(lo, hi);
        return Scale {
            lo,
            hi,
            labels: major
                .iter()
                .map(|&lv| (lv, fmt_value(unit, 10f64.powf(lv))))
                .collect(),
            major,
            minor,
            desc: format!("{desc} (log scale)"),
            log: true,
        };
    }
    // From 0 unless fitting values far from it.
    let zero = zero
        || finite.is_empty()
        || (min >= 0.0 && min < 0.25 * max)
        || (max <= 0.0 && max > 0.25 * min);
    let (mut lo0, mut hi0) = if finite.is_empty() {
        (0.0, 1.0)
    } else if zero {
        (min.min(0.0), max.max(0.0))
    } else {
        (min, max)
    };
    if hi0 - lo0 <= 0.0 {
        let d = (hi0.abs() * 0.1).max(1e-9);
        if zero {
            hi0 = lo0 + if lo0 == 0.0 { 1.0 } else { d };
        } else {
            (lo0, hi0) = (lo0 - d, hi0 + d);
        }
    }
    let pad = (hi0 - lo0) * 0.08;
    if lo0 < 0.0 || !zero {
        lo0 -= pad;
    }
    if hi0 > 0.0 || !zero {
        hi0 += pad;
    }
    let step = nice_step(hi0 - lo0, 6.0);
    let lo = (lo0 / step).floor() * step + 0.0;
    let hi = (hi0 / step).ceil() * step;
    let n = ((hi - lo) / step).round() as i64;
    let major: Vec<f64> = (0..=n).map(|k| lo + k as f64 * step).collect();
    let minor: Vec<f64> = (0..n).map(|k| lo + (k as f64 + 0.5) * step).collect();
    Scale {
        lo,
        hi,
        labels: major
            .iter()
            .map(|&v| (v, fmt_tick(unit, v, step)))
            .collect(),
        major,
        minor,
        desc,
        log: false,
    }
}

/// A scale for numeric parameter values (distinct, sorted): ticks at the
/// values themselves, labelled with their text, when there are few and
/// they are well apart; nice ticks otherwise. Logarithmic when three or
/// more positive values span a factor 20 or more.
fn param_scale(vals: &[(f64, String)], desc: &str) -> Scale {
    let min = vals.iter().map(|v| v.0).fold(f64::INFINITY, f64::min);
    let max = vals.iter().map(|v| v.0).fold(f64::NEG_INFINITY, f64::max);
    let log = vals.len() >= 3 && min > 0.0 && max / min >= 20.0;
    let t = |v: f64| if log { v.log10() } else { v };
    let ts: Vec<f64> = vals.iter().map(|v| t(v.0)).collect();
    let (tmin, tmax) = if vals.is_empty() {
        (0.0, 1.0)
    } else {
        (t(min), t(max))
    };
    let span = tmax - tmin;
    let (lo, hi) = if span > 0.0 {
        (tmin - span * 0.07, tmax + span * 0.07)
    } else {
        let half = if log {
            0.5
        } else {
            (tmin.abs() * 0.5).max(1.0)
        };
        (tmin - half, tmin + half)
    };
    let gap = ts
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::INFINITY, f64::min);
    let desc = if log {
        format!("{desc} (log scale)")
    } else {
        desc.to_string()
    };
    if vals.len() <= 12 && (vals.len() < 2 || gap >= span / 25.0) {
        return Scale {
            lo,
            hi,
            major: ts.clone(),
            minor: Vec::new(),
            labels: ts
                .iter()
                .zip(vals)
                .map(|(&t, v)| (t, unquote(&v.1).to_string()))
                .collect(),
            desc,
            log,
        };
    }
    let (major, minor) = if log {
        log_ticks(lo, hi)
    } else {
        let step = nice_step(hi - lo, 7.0);
        let first = (lo / step).ceil() as i64;
        let last = (hi / step).floor() as i64;
        (
            (first..=last).map(|k| k as f64 * step).collect(),
            Vec::new(),
        )
    };
    let labels = major
        .iter()
        .map(|&v| (v, fmt_num(if log { 10f64.powf(v) } else { v })))
        .collect();
    Scale {
        lo,
        hi,
        major,
        minor,
        labels,
        desc,
        log,
    }
}

/// Evenly spaced categories at 0, 1, 2, ...
fn category_scale(labels: &[String], desc: &str) -> Scale {
    let n = labels.len().max(1);
    let major: Vec<f64> = (0..labels.len()).map(|i| i as f64).collect();
    Scale {
        lo: -0.5,
        hi: n as f64 - 0.5,
        labels: major
            .iter()
            .zip(labels)
            .map(|(&i, l)| (i, unquote(l).to_string()))
            .collect(),
        major,
        minor: Vec::new(),
        desc: desc.to_string(),
        log: false,
    }
}

/// The distinct values of some parameter values in axis order (sorted by
/// number when every value is a number, else in order of appearance),
/// and whether they are all numbers.
fn distinct_values<'a>(vals: impl IntoIterator<Item = &'a ParamValue>) -> (Vec<ParamValue>, bool) {
    let mut out: Vec<ParamValue> = Vec::new();
    for v in vals {
        if !out.iter().any(|o| o.text == v.text) {
            out.push(v.clone());
        }
    }
    let numeric = !out.is_empty() && out.iter().all(|v| v.number.is_some_and(f64::is_finite));
    if numeric {
        out.sort_by(|a, b| a.number.unwrap().total_cmp(&b.number.unwrap()));
    }
    (out, numeric)
}

/// The axis of a parameter's values and the position of each of them
/// (aligned with the distinct values), in drawing units.
fn param_axis(vals: &[ParamValue], numeric: bool, desc: &str) -> (Scale, Vec<f64>) {
    if numeric {
        let pairs: Vec<(f64, String)> = vals
            .iter()
            .map(|v| (v.number.unwrap_or(0.0), v.text.clone()))
            .collect();
        let s = param_scale(&pairs, desc);
        let pos = pairs.iter().map(|p| s.at(p.0)).collect();
        (s, pos)
    } else {
        let texts: Vec<String> = vals.iter().map(|v| v.text.clone()).collect();
        let pos = (0..vals.len()).map(|i| i as f64).collect();
        (category_scale(&texts, desc), pos)
    }
}

// ---------------------------------------------------------------- drawing helpers

type Chart2d<'a, DB> = ChartContext<'a, DB, Cartesian2d<Axis, Axis>>;
type BoxError = Box<dyn Error + Send + Sync>;

/// Space around a plot: margins, then the label areas.
#[derive(Clone, Copy)]
struct Frame {
    top: u32,
    right: u32,
    bottom: u32,
    left: u32,
    x_area: u32,
    y_area: u32,
}

const PANEL_FRAME: Frame = Frame {
    top: 40,
    right: 28,
    bottom: 6,
    left: 10,
    x_area: 52,
    y_area: 92,
};

/// A plot on `area` with the house mesh (grid lines unless `grid` is
/// false) and an optional title above it.
fn plot<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    title: Option<&str>,
    x: &Scale,
    y: &Scale,
    f: Frame,
    grid: bool,
) -> Result<Chart2d<'a, DB>, BoxError> {
    if let Some(t) = title {
        area.draw(&Text::new(
            t.to_string(),
            ((f.left + f.y_area) as i32, 10),
            (FONT, PANEL_TITLE_SIZE, FontStyle::Bold)
                .into_font()
                .color(&TEXT),
        ))
        .map_err(err)?;
    }
    let mut chart = ChartBuilder::on(area)
        .margin_top(f.top)
        .margin_right(f.right)
        .margin_bottom(f.bottom)
        .margin_left(f.left)
        .x_label_area_size(f.x_area)
        .y_label_area_size(f.y_area)
        .build_cartesian_2d(x.axis(), y.axis())
        .map_err(err)?;
    mesh(&mut chart, x, y, grid)?;
    Ok(chart)
}

fn mesh<DB: DrawingBackend>(
    chart: &mut Chart2d<DB>,
    x: &Scale,
    y: &Scale,
    grid: bool,
) -> DrawResult {
    let xl = |v: &f64| label_at(&x.labels, *v);
    let yl = |v: &f64| label_at(&y.labels, *v);
    let mut m = chart.configure_mesh();
    m.x_label_formatter(&xl)
        .y_label_formatter(&yl)
        .x_desc(x.desc.clone())
        .y_desc(y.desc.clone())
        .label_style(font(TICK_SIZE))
        .axis_desc_style(font(16))
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(GRID_LIGHT.stroke_width(1))
        .axis_style(MUTED.stroke_width(1))
        .set_all_tick_mark_size(4);
    if !grid {
        m.disable_mesh();
    }
    m.draw().map_err(err)
}

/// A filled marker with a white ring, so overlapping markers stay apart.
fn dot(c: (f64, f64), r: i32, colour: RGBColor) -> impl Iterator<Item = Circle<(f64, f64), i32>> {
    [
        Circle::new(c, r + 2, WHITE.filled()),
        Circle::new(c, r, colour.filled()),
    ]
    .into_iter()
}

/// Interval bars from `.0` to `.1` (drawing units), vertical or
/// horizontal, with caps `cap` pixels long each side.
fn error_bars<DB: DrawingBackend>(
    chart: &mut Chart2d<DB>,
    bars: &[Segment],
    style: ShapeStyle,
    cap: i32,
) -> DrawResult {
    chart
        .draw_series(
            bars.iter()
                .map(|&(a, b)| PathElement::new(vec![a, b], style)),
        )
        .map_err(err)?;
    chart
        .draw_series(bars.iter().flat_map(|&(a, b)| {
            let tick = if a.0 == b.0 {
                vec![(-cap, 0), (cap, 0)]
            } else {
                vec![(0, -cap), (0, cap)]
            };
            [a, b]
                .into_iter()
                .map(move |c| EmptyElement::at(c) + PathElement::new(tick.clone(), style))
        }))
        .map_err(err)?;
    Ok(())
}

/// A message in the middle of a plot.
fn centre_text<DB: DrawingBackend>(
    chart: &mut Chart2d<DB>,
    x: &Scale,
    y: &Scale,
    msg: &str,
) -> DrawResult {
    chart
        .draw_series(std::iter::once(Text::new(
            msg.to_string(),
            ((x.lo + x.hi) / 2.0, (y.lo + y.hi) / 2.0),
            font(18)
                .color(&MUTED)
                .pos(Pos::new(HPos::Center, VPos::Center)),
        )))
        .map_err(err)?;
    Ok(())
}

/// A segment between two points, in drawing units.
type Segment = ((f64, f64), (f64, f64));
/// A label's anchor point and its width and height, in pixels.
type Anchored = ((i32, i32), (i32, i32));
/// A pixel rectangle: left, top, right, bottom.
type Rect = (i32, i32, i32, i32);

fn overlap(a: Rect, b: Rect) -> i64 {
    let w = (a.2.min(b.2) - a.0.max(b.0)).max(0) as i64;
    let h = (a.3.min(b.3) - a.1.max(b.1)).max(0) as i64;
    w * h
}

/// Chooses where each label goes around its anchor point (pixels) so that
/// labels overlap neither each other, nor `obstacles`, nor leave `bounds`
/// when avoidable. Returns each label's top-left corner.
fn place_labels(items: &[Anchored], obstacles: &[Rect], bounds: Rect) -> Vec<(i32, i32)> {
    let mut placed: Vec<Rect> = Vec::new();
    let mut out = Vec::new();
    for &((px, py), (w, h)) in items {
        let candidates = [
            (px + 10, py - h - 4),
            (px + 10, py + 5),
            (px - 10 - w, py - h - 4),
            (px - 10 - w, py + 5),
            (px - w / 2, py - h - 12),
            (px - w / 2, py + 12),
            (px + 12, py - h / 2),
            (px - 12 - w, py - h / 2),
        ];
        let mut best = (i64::MAX, candidates[0]);
        for &(x, y) in &candidates {
            let r = (x - 2, y - 1, x + w + 2, y + h + 1);
            let mut score: i64 = placed.iter().chain(obstacles).map(|&o| overlap(r, o)).sum();
            let inside = overlap(r, bounds);
            score += 4 * (i64::from(w + 4) * i64::from(h + 2) - inside);
            if score < best.0 {
                best = (score, (x, y));
            }
            if score == 0 {
                break;
            }
        }
        let (x, y) = best.1;
        placed.push((x - 2, y - 1, x + w + 2, y + h + 1));
        out.push((x, y));
    }
    out
}

/// A label with a white backing, at pixel `(x, y)` (top-left) of `root`.
fn boxed_text<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    (x, y): (i32, i32),
    size: u32,
    colour: RGBColor,
) -> DrawResult {
    let w = text_width(text, size, false);
    root.draw(&Rectangle::new(
        [(x - 3, y - 2), (x + w + 3, y + size as i32 + 3)],
        WHITE.mix(0.85).filled(),
    ))
    .map_err(err)?;
    root.draw(&Text::new(
        text.to_string(),
        (x, y),
        font(size).color(&colour),
    ))
    .map_err(err)?;
    Ok(())
}

// ---------------------------------------------------------------- sweep

struct SweepPlot {
    x: Scale,
    /// How the labels of a categorical x axis are set, when plotters'
    /// own single row at the usual size would overlap.
    x_labels: Option<XLabels>,
    cols: usize,
    panels: Vec<SweepPanel>,
}

struct SweepPanel {
    title: String,
    y: Scale,
    series: Vec<Series>,
}

/// One line: its points (x in drawing units, y values raw).
struct Series {
    colour: RGBColor,
    pts: Vec<SPt>,
}

#[derive(Clone, Copy)]
struct SPt {
    x: f64,
    y: f64,
    lo: f64,
    hi: f64,
}

/// The interval of a mean, its lower end kept at 0 or above for a
/// non-negative mean (metrics here are counts, times, rates and costs).
fn interval(s: &MetricStat) -> (f64, f64) {
    let lo = if s.mean >= 0.0 {
        s.lo().max(0.0)
    } else {
        s.lo()
    };
    (lo, s.hi())
}

fn spt(x: f64, s: &MetricStat) -> SPt {
    let (lo, hi) = if s.ci95.is_finite() {
        interval(s)
    } else {
        (f64::NAN, f64::NAN)
    };
    SPt {
        x,
        y: s.mean,
        lo,
        hi,
    }
}

fn replication_note(n: u32) -> String {
    if n >= 2 {
        format!("Each point: mean of {n} replications; bars: its 95% confidence interval.")
    } else {
        "Each point: one replication (no confidence interval).".into()
    }
}

fn sweep_figure(r: &SweepResults, p: usize, metrics: &[usize]) -> Figure {
    let (vals, numeric) = distinct_values(r.points.iter().filter_map(|pt| pt.params.get(p)));
    let (x, pos) = param_axis(&vals, numeric, &r.params[p]);
    let pos_of = |text: &str| vals.iter().position(|v| v.text == text).map(|i| pos[i]);
    // One group per combination of the other parameters' values, in order
    // of appearance.
    let others: Vec<usize> = (0..r.params.len()).filter(|&q| q != p).collect();
    let mut groups: Vec<(Vec<String>, Vec<usize>)> = Vec::new();
    for (i, pt) in r.points.iter().enumerate() {
        let k: Vec<String> = others
            .iter()
            .map(|&q| pt.params.get(q).map(|v| v.text.clone()).unwrap_or_default())
            .collect();
        match groups.iter_mut().find(|g| g.0 == k) {
            Some(g) => g.1.push(i),
            None => groups.push((k, vec![i])),
        }
    }
    // Lines sharing an x are set slightly apart so their bars stay visible.
    let gap = pos
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(x.span(), f64::min);
    let g = groups.len();
    let dodge = if g > 1 {
        (x.span() * 0.015).min(gap * 0.5 / g as f64)
    } else {
        0.0
    };
    let colour = |k: usize| PALETTE[k % PALETTE.len()];
    let mut panels = Vec::new();
    for &m in metrics {
        let name = &r.metrics[m];
        let unit = unit_of(name);
        let mut series = Vec::new();
        let mut all = Vec::new();
        for (k, (_, members)) in groups.iter().enumerate() {
            let off = (k as f64 - (g as f64 - 1.0) / 2.0) * dodge;
            let mut pts: Vec<SPt> = members
                .iter()
                .filter_map(|&i| {
                    let pt = &r.points[i];
                    let xp = pos_of(&pt.params.get(p)?.text)?;
                    Some(spt(xp + off, pt.stats.get(m)?))
                })
                .filter(|s| s.y.is_finite())
                .collect();
            pts.sort_by(|a, b| a.x.total_cmp(&b.x));
            all.extend(pts.iter().flat_map(|s| [s.y, s.lo, s.hi]));
            series.push(Series {
                colour: colour(k),
                pts,
            });
        }
        panels.push(SweepPanel {
            title: metric_title(name),
            y: value_scale(&all, unit, metric_desc(name), 50.0),
            series,
        });
    }
    let mut head = Header {
        title: format!("{}: metrics against {}", r.scenario, r.params[p]),
        subtitle: vec![replication_note(r.replications)],
        legend: Vec::new(),
    };
    if others.is_empty() {
        head.legend.push(key(
            format!("{} (mean, 95% CI)", r.params[p]),
            colour(0),
            Swatch::LineDot,
        ));
    } else {
        let names: Vec<&str> = others.iter().map(|&q| r.params[q].as_str()).collect();
        head.subtitle.push(format!(
            "One line per combination of the other varied parameters ({}); {} points in all.",
            names.join(", "),
            r.points.len()
        ));
        for (k, (texts, _)) in groups.iter().enumerate() {
            let label: Vec<String> = others
                .iter()
                .zip(texts)
                .map(|(&q, t)| format!("{}={}", r.params[q], unquote(t)))
                .collect();
            head.legend
                .push(key(label.join(", "), colour(k), Swatch::LineDot));
        }
    }
    let cols = if panels.len() == 1 { 1 } else { 2 };
    let rows = panels.len().div_ceil(cols) as u32;
    let x_labels = if numeric {
        None
    } else {
        sweep_x_labels(&x, cols)
    };
    let extra = x_labels.as_ref().map_or(0, XLabels::extra);
    Figure {
        name: format!("sweep-{}", slug(&r.params[p])),
        head,
        body_height: rows * (extra + if cols == 1 { 460 } else { 370 }),
        body: Body::Sweep(SweepPlot {
            x,
            x_labels,
            cols,
            panels,
        }),
    }
}

fn draw_sweep<DB: DrawingBackend>(body: &DrawingArea<DB, Shift>, s: &SweepPlot) -> DrawResult {
    let rows = s.panels.len().div_ceil(s.cols);
    let areas = body.split_evenly((rows, s.cols));
    // With labels of our own, plotters draws the ticks without labels.
    let (x, frame) = match &s.x_labels {
        Some(l) => (
            Scale {
                labels: Vec::new(),
                ..s.x.clone()
            },
            Frame {
                x_area: PANEL_FRAME.x_area + l.extra(),
                ..PANEL_FRAME
            },
        ),
        None => (s.x.clone(), PANEL_FRAME),
    };
    for (panel, area) in s.panels.iter().zip(&areas) {
        let y = &panel.y;
        let mut chart = plot(area, Some(&panel.title), &x, y, frame, true)?;
        if let Some(l) = &s.x_labels {
            draw_x_labels(area, &chart, &s.x, l)?;
        }
        for line in &panel.series {
            let c = line.colour;
            chart
                .draw_series(LineSeries::new(
                    line.pts.iter().map(|p| (p.x, y.at_in(p.y))),
                    c.stroke_width(2),
                ))
                .map_err(err)?;
            let bars: Vec<_> = line
                .pts
                .iter()
                .filter(|p| p.lo.is_finite() && p.hi > p.lo)
                .map(|p| ((p.x, y.at_in(p.lo)), (p.x, y.at_in(p.hi))))
                .collect();
            error_bars(&mut chart, &bars, c.stroke_width(2), 5)?;
            chart
                .draw_series(line.pts.iter().flat_map(|p| dot((p.x, y.at_in(p.y)), 4, c)))
                .map_err(err)?;
        }
        if panel.series.iter().all(|l| l.pts.is_empty()) {
            centre_text(&mut chart, &s.x, y, "no data")?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- category labels

/// The usual size of tick labels (see [`mesh`]).
const TICK_SIZE: u32 = 15;
/// Smaller sizes tried, in turn, for staggered category labels.
const SMALL_TICK_SIZES: [u32; 5] = [14, 13, 12, 11, 10];
/// The least room between two labels of a row, in pixels.
const X_LABEL_GAP: i32 = 8;
/// Where plotters puts the top of an x tick label, below the axis (twice
/// the tick mark size).
const X_LABEL_TOP: i32 = 8;

/// How the labels of a categorical x axis are set: in `rows` rows (label
/// `k` on row `k % rows`), at font `size`, with these texts (shortened
/// with `…` only when nothing else fits).
#[derive(Clone, Debug, PartialEq)]
struct XLabels {
    size: u32,
    rows: usize,
    texts: Vec<String>,
}

impl XLabels {
    /// The distance between rows, in pixels.
    fn pitch(&self) -> i32 {
        self.size as i32 + 4
    }

    /// The room the rows past the first take, in pixels.
    fn extra(&self) -> u32 {
        (self.rows.saturating_sub(1) as i32 * self.pitch()) as u32
    }
}

/// Whether labels of `widths` centred at `centres` (pixels, increasing),
/// in `rows` rows, stay apart and within `bounds`.
fn labels_fit(centres: &[i32], widths: &[i32], rows: usize, bounds: (i32, i32)) -> bool {
    let inside = centres
        .iter()
        .zip(widths)
        .all(|(&c, &w)| c - w / 2 >= bounds.0 && c + (w + 1) / 2 <= bounds.1);
    let apart = (rows..centres.len()).all(|j| {
        let i = j - rows;
        centres[j] - centres[i] >= (widths[i] + widths[j] + 1) / 2 + X_LABEL_GAP
    });
    inside && apart
}

/// `text` cut short with `…` to at most `max` pixels wide.
fn shorten(text: &str, size: u32, max: i32) -> String {
    if text_width(text, size, false) <= max {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    (0..chars.len())
        .rev()
        .map(|n| format!("{}…", chars[..n].iter().collect::<String>()))
        .find(|s| text_width(s, size, false) <= max)
        .unwrap_or_else(|| "…".into())
}

/// How to set category labels `texts` centred at `centres` (pixels,
/// increasing) within `bounds`: `None` when one row at the usual size
/// fits; else two staggered rows at the largest size that fits, down to
/// 10 px, and failing that labels shortened to fit two rows at 10 px.
fn category_labels(texts: &[String], centres: &[i32], bounds: (i32, i32)) -> Option<XLabels> {
    let widths =
        |size: u32| -> Vec<i32> { texts.iter().map(|t| text_width(t, size, false)).collect() };
    if labels_fit(centres, &widths(TICK_SIZE), 1, bounds) {
        return None;
    }
    let layout = |size: u32, texts: Vec<String>| XLabels {
        size,
        rows: 2,
        texts,
    };
    for size in std::iter::once(TICK_SIZE).chain(SMALL_TICK_SIZES) {
        if labels_fit(centres, &widths(size), 2, bounds) {
            return Some(layout(size, texts.to_vec()));
        }
    }
    // Each label no wider than the room to its row's neighbours and to the
    // bounds.
    let size = SMALL_TICK_SIZES[SMALL_TICK_SIZES.len() - 1];
    let n = centres.len();
    let short = (0..n)
        .map(|i| {
            let mut max = (2 * (centres[i] - bounds.0)).min(2 * (bounds.1 - centres[i]) - 1);
            if i >= 2 {
                max = max.min(centres[i] - centres[i - 2] - X_LABEL_GAP);
            }
            if i + 2 < n {
                max = max.min(centres[i + 2] - centres[i] - X_LABEL_GAP);
            }
            shorten(&texts[i], size, max)
        })
        .collect();
    Some(layout(size, short))
}

/// The category labels of a sweep's x axis, in panels `cols` to the
/// figure's width (see [`sweep_figure`]), or `None` for plotters' own.
fn sweep_x_labels(x: &Scale, cols: usize) -> Option<XLabels> {
    let f = PANEL_FRAME;
    let panel = WIDTH as i32 / cols.max(1) as i32;
    let (left, right) = ((f.left + f.y_area) as i32, panel - f.right as i32);
    let centres: Vec<i32> = x
        .labels
        .iter()
        .map(|(t, _)| left + ((t - x.lo) / x.span() * f64::from(right - left)).floor() as i32)
        .collect();
    let texts: Vec<String> = x.labels.iter().map(|l| l.1.clone()).collect();
    // Labels may reach into the corner below the y labels, not into the
    // next panel.
    category_labels(&texts, &centres, (4, panel - 4))
}

/// Draws the category labels `l` of `x` below the plot of `chart`.
fn draw_x_labels<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &Chart2d<DB>,
    x: &Scale,
    l: &XLabels,
) -> DrawResult {
    let (bx, by) = area.get_base_pixel();
    let (_, yr) = chart.plotting_area().get_pixel_range();
    let style = font(l.size).pos(Pos::new(HPos::Center, VPos::Top));
    for (k, ((t, _), text)) in x.labels.iter().zip(&l.texts).enumerate() {
        let (px, _) = chart.backend_coord(&(*t, 0.0));
        let top = yr.end + X_LABEL_TOP + (k % l.rows) as i32 * l.pitch();
        area.draw(&Text::new(text.clone(), (px - bx, top - by), style.clone()))
            .map_err(err)?;
    }
    Ok(())
}

// ---------------------------------------------------------------- pareto

struct ParetoPlot {
    x: Scale,
    y: Scale,
    /// (p99, cost) of every point with both means.
    pts: Vec<(MetricStat, MetricStat)>,
    /// Indices into `pts`, by increasing p99.
    front: Vec<usize>,
    /// Label of each frontier point (aligned with `front`).
    labels: Vec<String>,
    /// With many frontier points, the plot shows their numbers and this
    /// key lists them in columns: (column width, rows).
    key: Option<(i32, usize)>,
}

/// Past this many frontier points, the plot numbers them and a key below
/// it lists their parameters.
const MAX_FRONT_LABELS: usize = 8;
const PARETO_PLOT_HEIGHT: u32 = 640;
const KEY_ROW: i32 = 22;

/// `instances=8, capacity=1000`.
fn short_label(r: &SweepResults, params: &[ParamValue]) -> String {
    r.params
        .iter()
        .zip(params)
        .map(|(p, v)| format!("{}={}", last_segment(p), unquote(&v.text)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A Pareto chart: two metrics to minimise, latency across and cost up.
struct ParetoSpec {
    name: &'static str,
    x: &'static str,
    y: &'static str,
    x_label: &'static str,
    y_label: &'static str,
    title: &'static str,
}

/// The Pareto charts a sweep draws when it measured both metrics:
/// monthly cost against p99 latency, and for LLM components the cost per
/// million output tokens against the p99 time per output token.
const PARETOS: [ParetoSpec; 2] = [
    ParetoSpec {
        name: "pareto",
        x: "latency_s.p99",
        y: "cost_usd.projected_month",
        x_label: "p99 latency",
        y_label: "cost per month (USD)",
        title: "cost against p99 latency",
    },
    ParetoSpec {
        name: "pareto-tokens",
        x: "llm.tpot_s.p99",
        y: "llm.cost_per_1m_output_tokens",
        x_label: "p99 time per output token",
        y_label: "cost per 1M output tokens (USD)",
        title: "cost per 1M output tokens against p99 time per output token",
    },
];

fn pareto_figure(r: &SweepResults, lat: usize, cost: usize, spec: &ParetoSpec) -> Option<Figure> {
    let mut pts = Vec::new();
    let mut which = Vec::new();
    for pt in &r.points {
        let (Some(a), Some(b)) = (pt.stats.get(lat), pt.stats.get(cost)) else {
            continue;
        };
        if a.mean.is_finite() && b.mean.is_finite() {
            pts.push((*a, *b));
            which.push(pt);
        }
    }
    if pts.is_empty() {
        return None;
    }
    let xy: Vec<(f64, f64)> = pts.iter().map(|(a, b)| (a.mean, b.mean)).collect();
    let front = pareto_front(&xy);
    let labels: Vec<String> = front
        .iter()
        .map(|&i| short_label(r, &which[i].params))
        .collect();
    let xs: Vec<f64> = pts
        .iter()
        .flat_map(|(a, _)| [a.mean, interval(a).0, a.hi()])
        .collect();
    let ys: Vec<f64> = pts
        .iter()
        .flat_map(|(_, b)| [b.mean, interval(b).0, b.hi()])
        .collect();
    let x = fitted_scale(&xs, Unit::Secs, spec.x_label, 10.0);
    let y = fitted_scale(&ys, Unit::Usd, spec.y_label, LINEAR);
    let head = Header {
        title: format!("{}: {}", r.scenario, spec.title),
        subtitle: vec![
            format!(
                "Each point is one configuration of the sweep: mean of {}{}.",
                plural(r.replications, "replication"),
                if r.replications >= 2 {
                    ", bars: 95% confidence intervals both ways"
                } else {
                    ""
                }
            ),
            format!(
                "Highlighted: the Pareto frontier, the {} of {} configurations that no other beats on both {} and cost (lower left is better).",
                front.len(),
                pts.len(),
                spec.x_label
            ),
        ],
        legend: vec![
            key("configuration", PALETTE[0], Swatch::Dot),
            key("Pareto frontier", HIGHLIGHT, Swatch::LineDot),
            key("dominated: another configuration is cheaper and faster", MUTED, Swatch::Area),
        ],
    };
    let key = (front.len() > MAX_FRONT_LABELS).then(|| {
        let widest = labels
            .iter()
            .enumerate()
            .map(|(k, l)| text_width(&format!("{}  {l}", k + 1), 14, false))
            .max()
            .unwrap_or(0);
        let col_w = widest + 36;
        let cols = ((WIDTH as i32 - 2 * MARGIN) / col_w).clamp(1, 4) as usize;
        (col_w, labels.len().div_ceil(cols))
    });
    let key_height = key.map_or(0, |(_, rows)| 40 + rows as u32 * KEY_ROW as u32);
    Some(Figure {
        name: spec.name.into(),
        head,
        body_height: PARETO_PLOT_HEIGHT + key_height,
        body: Body::Pareto(ParetoPlot {
            x,
            y,
            pts,
            front,
            labels,
            key,
        }),
    })
}

fn draw_pareto<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    body: &DrawingArea<DB, Shift>,
    p: &ParetoPlot,
) -> DrawResult {
    let (x, y) = (&p.x, &p.y);
    let f = Frame {
        top: 12,
        right: 36,
        bottom: 8,
        left: 14,
        x_area: 56,
        y_area: 100,
    };
    let (area, below) = body.split_vertically(PARETO_PLOT_HEIGHT);
    let mut chart = plot(&area, None, x, y, f, true)?;
    let at = |i: usize| (x.at_in(p.pts[i].0.mean), y.at_in(p.pts[i].1.mean));
    // The staircase of the frontier, and the region it dominates.
    let mut stair_px: Vec<(i32, i32)> = Vec::new();
    let mut stair = Vec::new();
    for (k, &i) in p.front.iter().enumerate() {
        let (px, py) = at(i);
        if k > 0 {
            stair.push((px, stair.last().map_or(py, |s: &(f64, f64)| s.1)));
        }
        stair.push((px, py));
    }
    if let (Some(&first), Some(&last)) = (stair.first(), stair.last()) {
        let mut region = vec![(first.0, y.hi)];
        region.extend(stair.iter().copied());
        region.push((x.hi, last.1));
        region.push((x.hi, y.hi));
        chart
            .draw_series(std::iter::once(Polygon::new(
                region,
                MUTED.mix(0.10).filled(),
            )))
            .map_err(err)?;
        chart
            .draw_series(DashedLineSeries::new(
                [(first.0, y.hi), first],
                6,
                5,
                HIGHLIGHT.mix(0.6).stroke_width(1),
            ))
            .map_err(err)?;
        chart
            .draw_series(DashedLineSeries::new(
                [last, (x.hi, last.1)],
                6,
                5,
                HIGHLIGHT.mix(0.6).stroke_width(1),
            ))
            .map_err(err)?;
        stair_px = stair.iter().map(|c| chart.backend_coord(c)).collect();
        chart
            .draw_series(LineSeries::new(stair, HIGHLIGHT.stroke_width(3)))
            .map_err(err)?;
    }
    // Every configuration, with its intervals.
    let mut bars = Vec::new();
    for (a, b) in &p.pts {
        let (px, py) = (x.at_in(a.mean), y.at_in(b.mean));
        if a.ci95.is_finite() && a.ci95 > 0.0 {
            bars.push(((x.at_in(interval(a).0), py), (x.at_in(a.hi()), py)));
        }
        if b.ci95.is_finite() && b.ci95 > 0.0 {
            bars.push(((px, y.at_in(interval(b).0)), (px, y.at_in(b.hi()))));
        }
    }
    error_bars(&mut chart, &bars, PALETTE[0].mix(0.6).stroke_width(1), 4)?;
    chart
        .draw_series((0..p.pts.len()).flat_map(|i| dot(at(i), 5, PALETTE[0])))
        .map_err(err)?;
    chart
        .draw_series(p.front.iter().flat_map(|&i| dot(at(i), 7, HIGHLIGHT)))
        .map_err(err)?;
    // Labels of the frontier, placed clear of the points and each other.
    let px: Vec<(i32, i32)> = (0..p.pts.len())
        .map(|i| chart.backend_coord(&at(i)))
        .collect();
    // Other points keep a wider berth, so that no label seems to name them.
    let mut obstacles: Vec<Rect> = px
        .iter()
        .enumerate()
        .map(|(i, &(a, b))| {
            let r = if p.front.contains(&i) { 9 } else { 16 };
            (a - r, b - r, a + r, b + r)
        })
        .collect();
    for w in stair_px.windows(2) {
        let (a, b) = (w[0], w[1]);
        obstacles.push((
            a.0.min(b.0) - 2,
            a.1.min(b.1) - 2,
            a.0.max(b.0) + 2,
            a.1.max(b.1) + 2,
        ));
    }
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let size = 14;
    let shown: Vec<String> = if p.key.is_some() {
        (1..=p.labels.len()).map(|k| k.to_string()).collect()
    } else {
        p.labels.clone()
    };
    let items: Vec<Anchored> = p
        .front
        .iter()
        .zip(&shown)
        .map(|(&i, l)| (px[i], (text_width(l, size, false), size as i32 + 2)))
        .collect();
    let spots = place_labels(&items, &obstacles, (xr.start, yr.start, xr.end, yr.end));
    for (l, spot) in shown.iter().zip(spots) {
        boxed_text(root, l, spot, size, TEXT)?;
    }
    // The key of the numbers, in columns.
    if let Some((col_w, rows)) = p.key {
        below
            .draw(&Text::new(
                "Pareto frontier, by increasing p99:".to_string(),
                (MARGIN, 8),
                (FONT, 15, FontStyle::Bold).into_font().color(&TEXT),
            ))
            .map_err(err)?;
        for (k, l) in p.labels.iter().enumerate() {
            let (c, r) = (k / rows, k % rows);
            let (lx, ly) = (MARGIN + c as i32 * col_w, 36 + r as i32 * KEY_ROW);
            below
                .draw(&Text::new(
                    format!("{}", k + 1),
                    (lx + 22, ly),
                    (FONT, 14, FontStyle::Bold)
                        .into_font()
                        .color(&HIGHLIGHT)
                        .pos(Pos::new(HPos::Right, VPos::Top)),
                ))
                .map_err(err)?;
            below
                .draw(&Text::new(l.clone(), (lx + 30, ly), font(14)))
                .map_err(err)?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- heatmap

struct HeatPanel {
    title: String,
    unit: Unit,
    /// Rows: values of the 2nd parameter (first at the bottom); columns:
    /// values of the 1st. NaN where no point has a value.
    grid: Array2<f64>,
    x: Scale,
    y: Scale,
    ramp: &'static [RGBColor],
    /// Colour scale: log10 when set.
    log: bool,
    lo: f64,
    hi: f64,
}

const BLUES: [RGBColor; 8] = [
    RGBColor(0xde, 0xeb, 0xf7),
    RGBColor(0xc6, 0xdb, 0xef),
    RGBColor(0x9e, 0xca, 0xe1),
    RGBColor(0x6b, 0xae, 0xd6),
    RGBColor(0x42, 0x92, 0xc6),
    RGBColor(0x21, 0x71, 0xb5),
    RGBColor(0x08, 0x51, 0x9c),
    RGBColor(0x08, 0x30, 0x6b),
];
const GREENS: [RGBColor; 8] = [
    RGBColor(0xe5, 0xf5, 0xe0),
    RGBColor(0xc7, 0xe9, 0xc0),
    RGBColor(0xa1, 0xd9, 0x9b),
    RGBColor(0x74, 0xc4, 0x76),
    RGBColor(0x41, 0xab, 0x5d),
    RGBColor(0x23, 0x8b, 0x45),
    RGBColor(0x00, 0x6d, 0x2c),
    RGBColor(0x00, 0x44, 0x1b),
];
const REDS: [RGBColor; 8] = [
    RGBColor(0xfe, 0xe8, 0xc8),
    RGBColor(0xfd, 0xd4, 0x9e),
    RGBColor(0xfd, 0xbb, 0x84),
    RGBColor(0xfc, 0x8d, 0x59),
    RGBColor(0xef, 0x65, 0x48),
    RGBColor(0xd7, 0x30, 0x1f),
    RGBColor(0xb3, 0x00, 0x00),
    RGBColor(0x7f, 0x00, 0x00),
];

/// The colour at `t` in 0..=1 along `stops`.
fn ramp(stops: &[RGBColor], t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.5
    };
    let f = t * (stops.len() - 1) as f64;
    let i = (f.floor() as usize).min(stops.len() - 2);
    let u = f - i as f64;
    let (a, b) = (stops[i], stops[i + 1]);
    let mix = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * u).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

impl HeatPanel {
    /// Position of `v` on the colour scale, 0 to 1.
    fn t(&self, v: f64) -> f64 {
        let f = |v: f64| if self.log { v.max(1e-300).log10() } else { v };
        let span = f(self.hi) - f(self.lo);
        if span > 0.0 {
            (f(v) - f(self.lo)) / span
        } else {
            0.5
        }
    }
}

fn heatmap_figure(r: &SweepResults) -> Option<Figure> {
    let metrics: Vec<usize> = HEAT_METRICS.iter().filter_map(|m| r.metric(m)).collect();
    if metrics.is_empty() || r.points.is_empty() {
        return None;
    }
    let (cols, _) = distinct_values(r.points.iter().filter_map(|pt| pt.params.first()));
    let (rows, _) = distinct_values(r.points.iter().filter_map(|pt| pt.params.get(1)));
    let col_texts: Vec<String> = cols.iter().map(|v| v.text.clone()).collect();
    let row_texts: Vec<String> = rows.iter().map(|v| v.text.clone()).collect();
    let x = category_scale(&col_texts, &r.params[0]);
    let y = category_scale(&row_texts, &r.params[1]);
    let mut panels = Vec::new();
    let mut height = 0;
    for &m in &metrics {
        let name = &r.metrics[m];
        let unit = unit_of(name);
        let mut grid = Array2::from_elem((rows.len(), cols.len()), f64::NAN);
        for pt in &r.points {
            let (Some(a), Some(b)) = (pt.params.first(), pt.params.get(1)) else {
                continue;
            };
            let c = col_texts.iter().position(|t| *t == a.text);
            let rr = row_texts.iter().position(|t| *t == b.text);
            if let (Some(c), Some(rr), Some(s)) = (c, rr, pt.stats.get(m)) {
                grid[[rr, c]] = s.mean;
            }
        }
        let finite: Vec<f64> = grid.iter().copied().filter(|v| v.is_finite()).collect();
        let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let log = !finite.is_empty() && lo > 0.0 && hi / lo > 30.0;
        let ramp: &'static [RGBColor] = match unit {
            Unit::Usd => &GREENS,
            Unit::Ratio => &REDS,
            _ => &BLUES,
        };
        let plot_h = (rows.len() as u32 * 64).clamp(192, 520);
        height += plot_h + 40 + 56 + 14;
        panels.push(HeatPanel {
            title: format!(
                "{}{}",
                metric_title(name),
                if log { " (log colour scale)" } else { "" }
            ),
            unit,
            grid,
            x: x.clone(),
            y: y.clone(),
            ramp,
            log,
            lo,
            hi,
        });
    }
    let names: Vec<String> = metrics
        .iter()
        .map(|&m| metric_title(&r.metrics[m]))
        .collect();
    let head = Header {
        title: format!(
            "{}: {} × {}",
            r.scenario,
            last_segment(&r.params[0]),
            last_segment(&r.params[1])
        ),
        subtitle: vec![
            format!(
                "{} over the grid of {} (columns) and {} (rows).",
                names.join(", "),
                r.params[0],
                r.params[1]
            ),
            format!(
                "Each cell: mean of {}; darker is higher. Grey: no data.",
                plural(r.replications, "replication")
            ),
        ],
        legend: Vec::new(),
    };
    Some(Figure {
        name: "heatmap".into(),
        head,
        body_height: height,
        body: Body::Heatmap(panels),
    })
}

fn draw_heatmaps<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    body: &DrawingArea<DB, Shift>,
    panels: &[HeatPanel],
) -> DrawResult {
    let mut rest = body.clone();
    for h in panels {
        let plot_h = (h.grid.nrows() as u32 * 64).clamp(192, 520);
        let (area, below) = rest.split_vertically(plot_h + 40 + 56 + 14);
        rest = below;
        draw_heatmap(root, &area, h)?;
    }
    Ok(())
}

fn draw_heatmap<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    area: &DrawingArea<DB, Shift>,
    h: &HeatPanel,
) -> DrawResult {
    let y_area = 40
        + h.y
            .labels
            .iter()
            .map(|l| text_width(&l.1, 15, false))
            .max()
            .unwrap_or(0)
            .clamp(30, 200) as u32;
    let f = Frame {
        top: 40,
        right: 190,
        bottom: 14,
        left: 10,
        x_area: 56,
        y_area,
    };
    let mut chart = plot(area, Some(&h.title), &h.x, &h.y, f, false)?;
    let (nr, nc) = h.grid.dim();
    // Cell size in pixels, for the text size.
    let (a, b) = (
        chart.backend_coord(&(0.0, 0.0)),
        chart.backend_coord(&(1.0, 1.0)),
    );
    let (cw, ch) = ((b.0 - a.0).abs(), (b.1 - a.1).abs());
    for rr in 0..nr {
        for c in 0..nc {
            let v = h.grid[[rr, c]];
            let fill = if v.is_finite() {
                ramp(h.ramp, h.t(v))
            } else {
                NO_DATA
            };
            let (x, y) = (c as f64, rr as f64);
            chart
                .draw_series([
                    Rectangle::new([(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)], fill.filled()),
                    Rectangle::new(
                        [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                        WHITE.stroke_width(2),
                    ),
                ])
                .map_err(err)?;
            let text = if v.is_finite() {
                fmt_value(h.unit, v)
            } else {
                "no data".into()
            };
            let lum = 0.2126 * fill.0 as f64 + 0.7152 * fill.1 as f64 + 0.0722 * fill.2 as f64;
            let colour = if lum < 140.0 { WHITE } else { TEXT };
            let size = [16, 13, 11]
                .into_iter()
                .find(|&s| text_width(&text, s, false) <= cw - 8 && s as i32 + 4 <= ch);
            if let Some(size) = size {
                chart
                    .draw_series(std::iter::once(Text::new(
                        text,
                        (x, y),
                        font(size)
                            .color(&colour)
                            .pos(Pos::new(HPos::Center, VPos::Center)),
                    )))
                    .map_err(err)?;
            }
        }
    }
    // The colour bar, right of the plot.
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    if !h.lo.is_finite() {
        return Ok(());
    }
    let (bx, bw) = (xr.end + 36, 18);
    let (top, bottom) = (yr.start, yr.end - 1);
    let steps = 64;
    for k in 0..steps {
        let y0 = bottom - (bottom - top) * k / steps;
        let y1 = bottom - (bottom - top) * (k + 1) / steps;
        let t = (k as f64 + 0.5) / steps as f64;
        root.draw(&Rectangle::new(
            [(bx, y1), (bx + bw, y0)],
            ramp(h.ramp, t).filled(),
        ))
        .map_err(err)?;
    }
    root.draw(&Rectangle::new(
        [(bx, top), (bx + bw, bottom)],
        MUTED.stroke_width(1),
    ))
    .map_err(err)?;
    // Ticks: the range's ends, then nice values within it where they fit.
    let mut ticks = vec![h.lo];
    if h.hi > h.lo {
        ticks.push(h.hi);
    }
    ticks.extend(if h.hi > h.lo {
        if h.log {
            let (major, _) = log_ticks(h.lo.log10(), h.hi.log10());
            major.iter().map(|lv| 10f64.powf(*lv)).collect()
        } else {
            let step = nice_step(h.hi - h.lo, 4.0);
            let first = (h.lo / step).ceil() as i64;
            let last = (h.hi / step).floor() as i64;
            (first..=last).map(|k| k as f64 * step).collect()
        }
    } else {
        Vec::new()
    });
    let mut drawn: Vec<i32> = Vec::new();
    for v in ticks {
        let t = h.t(v);
        let py = bottom - ((bottom - top) as f64 * t).round() as i32;
        if drawn.iter().any(|d| (d - py).abs() < 18) {
            continue;
        }
        drawn.push(py);
        root.draw(&PathElement::new(
            vec![(bx + bw, py), (bx + bw + 5, py)],
            MUTED.stroke_width(1),
        ))
        .map_err(err)?;
        root.draw(&Text::new(
            fmt_value(h.unit, v),
            (bx + bw + 9, py),
            font(14).pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(err)?;
    }
    Ok(())
}

// ---------------------------------------------------------------- capacity

struct CapacityPlot {
    x: Scale,
    y: Scale,
    y2: Scale,
    /// Rows with a capacity: x (drawing units), capacity, low, high, cost.
    pts: Vec<(f64, f64, f64, f64, f64)>,
    /// x of rows where nothing passes.
    fails: Vec<f64>,
}

/// The `per` values of the rows in axis order and each row's position.
fn per_axis(r: &CapacityResult) -> (Scale, Vec<f64>) {
    let per = r.per.clone().unwrap_or_default();
    let missing = ParamValue {
        text: "-".into(),
        number: None,
    };
    let vals: Vec<&ParamValue> = r
        .rows
        .iter()
        .map(|row| row.per.as_ref().unwrap_or(&missing))
        .collect();
    let (distinct, numeric) = distinct_values(vals.iter().copied());
    let (scale, pos) = param_axis(&distinct, numeric, &per);
    let rows = vals
        .iter()
        .map(|v| {
            distinct
                .iter()
                .position(|d| d.text == v.text)
                .map_or(0.0, |i| pos[i])
        })
        .collect();
    (scale, rows)
}

fn objectives_text(r: &CapacityResult) -> String {
    if r.objectives.is_empty() {
        "its objectives".into()
    } else {
        r.objectives.join(" and ")
    }
}

fn capacity_figure(r: &CapacityResult) -> Figure {
    let per = r.per.clone().unwrap_or_default();
    let (x, pos) = per_axis(r);
    let mut pts = Vec::new();
    let mut fails = Vec::new();
    for (row, &xp) in r.rows.iter().zip(&pos) {
        if row.capacity.is_finite() {
            pts.push((xp, row.capacity, row.low, row.high, row.cost_per_month));
        } else {
            fails.push(xp);
        }
    }
    let ys: Vec<f64> = pts.iter().flat_map(|p| [p.1, p.2, p.3]).collect();
    let costs: Vec<f64> = pts.iter().map(|p| p.4).collect();
    let y = value_scale(
        &ys,
        Unit::Plain,
        format!("capacity: max {}", r.vary),
        LINEAR,
    );
    let y2 = value_scale(
        &costs,
        Unit::Usd,
        "cost per month at capacity (USD)",
        LINEAR,
    );
    let mut head = Header {
        title: format!(
            "{}: max {} per {} meeting {} ({} per probe)",
            r.scenario,
            r.vary,
            per,
            objectives_text(r),
            plural(r.replications, "replication")
        ),
        subtitle: vec![format!(
            "Capacity: the largest {} that meets every objective, for each tested {}; bars: its 95% range (where the objective's interval crosses the bound).",
            r.vary, per
        )],
        legend: vec![
            key(
                format!("capacity (max {})", last_segment(&r.vary)),
                PALETTE[0],
                Swatch::LineDot,
            ),
            key(
                "cost per month at capacity (right axis)",
                PALETTE[1],
                Swatch::Dashed,
            ),
        ],
    };
    let bindings: Vec<&str> = {
        let mut b: Vec<&str> = Vec::new();
        for row in &r.rows {
            if row.capacity.is_finite()
                && !row.binding.is_empty()
                && !b.contains(&row.binding.as_str())
            {
                b.push(&row.binding);
            }
        }
        b
    };
    if !bindings.is_empty() {
        head.subtitle
            .push(format!("Binding objective: {}.", bindings.join(", ")));
    }
    let per_text = |row: &CapacityRow| {
        row.per
            .as_ref()
            .map(|v| format!("{}={}", last_segment(&per), unquote(&v.text)))
            .unwrap_or_default()
    };
    for row in &r.rows {
        if let Some(note) = &row.note {
            head.subtitle.push(format!("{}: {note}", per_text(row)));
        }
    }
    if !fails.is_empty() {
        head.legend.push(key(
            "no tested load meets the objectives",
            SLO_RED,
            Swatch::Cross,
        ));
    }
    Figure {
        name: "capacity".into(),
        head,
        body_height: 560,
        body: Body::Capacity(CapacityPlot {
            x,
            y,
            y2,
            pts,
            fails,
        }),
    }
}

fn draw_capacity<DB: DrawingBackend>(
    body: &DrawingArea<DB, Shift>,
    c: &CapacityPlot,
) -> DrawResult {
    let (x, y, y2) = (&c.x, &c.y, &c.y2);
    let mut chart = ChartBuilder::on(body)
        .margin_top(14)
        .margin_right(14)
        .margin_bottom(8)
        .margin_left(14)
        .x_label_area_size(56)
        .y_label_area_size(100)
        .right_y_label_area_size(110)
        .build_cartesian_2d(x.axis(), y.axis())
        .map_err(err)?
        .set_secondary_coord(x.axis(), y2.axis());
    // After `set_secondary_coord`, so that the right axis is the secondary's.
    mesh(&mut chart, x, y, true)?;
    let y2l = |v: &f64| label_at(&y2.labels, *v);
    chart
        .configure_secondary_axes()
        .y_label_formatter(&y2l)
        .y_desc(y2.desc.clone())
        .label_style(font(15))
        .axis_desc_style(font(16))
        .axis_style(MUTED.stroke_width(1))
        .set_all_tick_mark_size(4)
        .draw()
        .map_err(err)?;
    // Cost at capacity, on the right axis.
    let cost: Vec<(f64, f64)> = c
        .pts
        .iter()
        .filter(|p| p.4.is_finite())
        .map(|p| (p.0, y2.at_in(p.4)))
        .collect();
    let orange = PALETTE[1];
    chart
        .draw_secondary_series(DashedLineSeries::new(
            cost.clone(),
            10,
            6,
            orange.stroke_width(2),
        ))
        .map_err(err)?;
    chart
        .draw_secondary_series(
            cost.iter().map(|&p| {
                EmptyElement::at(p) + Rectangle::new([(-4, -4), (4, 4)], orange.filled())
            }),
        )
        .map_err(err)?;
    // Capacity with its range.
    let blue = PALETTE[0];
    chart
        .draw_series(LineSeries::new(
            c.pts.iter().map(|p| (p.0, y.at_in(p.1))),
            blue.stroke_width(3),
        ))
        .map_err(err)?;
    let bars: Vec<_> = c
        .pts
        .iter()
        .filter(|p| p.2.is_finite() && p.3.is_finite() && p.3 > p.2)
        .map(|p| ((p.0, y.at_in(p.2)), (p.0, y.at_in(p.3))))
        .collect();
    error_bars(&mut chart, &bars, blue.stroke_width(2), 6)?;
    chart
        .draw_series(c.pts.iter().flat_map(|p| dot((p.0, y.at_in(p.1)), 6, blue)))
        .map_err(err)?;
    chart
        .draw_series(c.pts.iter().map(|p| {
            EmptyElement::at((p.0, y.at_in(p.1)))
                + Text::new(
                    fmt_num(p.1),
                    (10, -8),
                    font(15).pos(Pos::new(HPos::Left, VPos::Bottom)),
                )
        }))
        .map_err(err)?;
    chart
        .draw_series(
            c.fails
                .iter()
                .map(|&fx| Cross::new((fx, y.lo), 7, SLO_RED.stroke_width(3))),
        )
        .map_err(err)?;
    if c.pts.is_empty() && c.fails.is_empty() {
        centre_text(&mut chart, x, y, "no data")?;
    }
    Ok(())
}

struct InversePlot {
    x: Scale,
    y: Scale,
    /// Steps: (from load, to load, y in drawing units, per text).
    steps: Vec<(f64, f64, f64, String)>,
    /// The same with the low end of each capacity's range, when it differs.
    safe: Vec<(f64, f64, f64, String)>,
    per_name: String,
}

/// The smallest `per` (by position) that carries each load, as steps:
/// (from, to, position, text), from load 0 to the largest capacity.
fn needed_steps(rows: &[(f64, f64, String)]) -> Vec<(f64, f64, f64, String)> {
    let mut caps: Vec<f64> = rows
        .iter()
        .map(|r| r.0)
        .filter(|c| c.is_finite() && *c > 0.0)
        .collect();
    caps.sort_by(f64::total_cmp);
    caps.dedup();
    let mut steps: Vec<(f64, f64, f64, String)> = Vec::new();
    let mut from = 0.0;
    for &c in &caps {
        // Loads in (from, c] need the smallest row whose capacity reaches c.
        let best = rows
            .iter()
            .filter(|r| r.0.is_finite() && r.0 >= c)
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some(b) = best {
            match steps.last_mut() {
                Some(s) if s.2 == b.1 => s.1 = c,
                _ => steps.push((from, c, b.1, b.2.clone())),
            }
        }
        from = c;
    }
    steps
}

fn inverse_figure(r: &CapacityResult) -> Figure {
    let per = r.per.clone().unwrap_or_default();
    let (y, pos) = per_axis(r);
    let text = |row: &CapacityRow| {
        row.per
            .as_ref()
            .map(|v| unquote(&v.text).to_string())
            .unwrap_or_default()
    };
    let rows: Vec<(f64, f64, String)> = r
        .rows
        .iter()
        .zip(&pos)
        .map(|(row, &p)| (row.capacity, p, text(row)))
        .collect();
    let steps = needed_steps(&rows);
    let lows: Vec<(f64, f64, String)> = r
        .rows
        .iter()
        .zip(&pos)
        .filter(|(row, _)| row.capacity.is_finite())
        .map(|(row, &p)| (row.low, p, text(row)))
        .collect();
    let differs = r
        .rows
        .iter()
        .any(|row| row.capacity.is_finite() && row.low.is_finite() && row.low < row.capacity);
    let safe = if differs && lows.iter().all(|l| l.0.is_finite()) {
        needed_steps(&lows)
    } else {
        Vec::new()
    };
    let max = steps.last().map_or(1.0, |s| s.1);
    let x = value_scale(
        &[0.0, max * 1.12],
        Unit::Plain,
        format!("load: {}", r.vary),
        LINEAR,
    );
    let per_name = last_segment(&per).to_string();
    let mut head = Header {
        title: format!("{}: {} needed for a given {}", r.scenario, per, r.vary),
        subtitle: vec![format!(
            "The smallest tested {per} whose capacity (the largest {} meeting {}, {} per probe) reaches the load.",
            r.vary,
            objectives_text(r),
            plural(r.replications, "replication")
        )],
        legend: vec![key(format!("{per_name} needed"), PALETTE[0], Swatch::LineDot)],
    };
    if !safe.is_empty() {
        head.legend.push(key(
            "with the low end of each capacity's 95% range (safer)",
            PALETTE[1],
            Swatch::Dashed,
        ));
    }
    if !steps.is_empty() {
        head.legend.push(key(
            format!("beyond every tested {per_name}"),
            SLO_RED,
            Swatch::Area,
        ));
    }
    Figure {
        name: "capacity-inverse".into(),
        head,
        body_height: 520,
        body: Body::Inverse(InversePlot {
            x,
            y,
            steps,
            safe,
            per_name,
        }),
    }
}

/// The path of a step function: horizontal runs joined by vertical jumps.
fn step_path(steps: &[(f64, f64, f64, String)]) -> Vec<(f64, f64)> {
    let mut path = Vec::new();
    for s in steps {
        path.push((s.0, s.2));
        path.push((s.1, s.2));
    }
    path
}

fn draw_inverse<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    body: &DrawingArea<DB, Shift>,
    p: &InversePlot,
) -> DrawResult {
    let (x, y) = (&p.x, &p.y);
    let f = Frame {
        top: 14,
        right: 36,
        bottom: 8,
        left: 14,
        x_area: 56,
        y_area: 100,
    };
    let mut chart = plot(body, None, x, y, f, true)?;
    if p.steps.is_empty() {
        return centre_text(&mut chart, x, y, "no tested value meets the objectives");
    }
    let max = p.steps.last().map_or(0.0, |s| s.1);
    chart
        .draw_series(std::iter::once(Rectangle::new(
            [(max, y.lo), (x.hi, y.hi)],
            SLO_RED.mix(0.08).filled(),
        )))
        .map_err(err)?;
    chart
        .draw_series(std::iter::once(
            EmptyElement::at(((max + x.hi) / 2.0, y.lo))
                + Text::new(
                    format!("beyond every tested {}", p.per_name),
                    (0, -10),
                    font(15)
                        .color(&SLO_RED)
                        .pos(Pos::new(HPos::Center, VPos::Bottom)),
                ),
        ))
        .map_err(err)?;
    if !p.safe.is_empty() {
        chart
            .draw_series(DashedLineSeries::new(
                step_path(&p.safe),
                10,
                6,
                PALETTE[1].stroke_width(2),
            ))
            .map_err(err)?;
    }
    let blue = PALETTE[0];
    chart
        .draw_series(LineSeries::new(step_path(&p.steps), blue.stroke_width(3)))
        .map_err(err)?;
    chart
        .draw_series(p.steps.iter().flat_map(|s| dot((s.1, s.2), 5, blue)))
        .map_err(err)?;
    // Each run labelled with its value and how far it carries, right of
    // its end (where the next, higher run leaves room), or above the run
    // when that would leave the plot.
    let right_edge = chart.plotting_area().get_pixel_range().0.end;
    for s in &p.steps {
        let label = format!("{}={}: up to {}", p.per_name, s.3, fmt_num(s.1));
        let (px, py) = chart.backend_coord(&(s.1, s.2));
        let w = text_width(&label, 14, false);
        let spot = if px + 12 + w < right_edge - 4 {
            (px + 12, py - 8)
        } else {
            (px - w - 8, py - 26)
        };
        boxed_text(root, &label, spot, 14, TEXT)?;
    }
    Ok(())
}

// ---------------------------------------------------------------- probes

struct ProbePanel {
    title: String,
    unit: Unit,
    x: Scale,
    y: Scale,
    /// (x, the objective's metric, passed every objective).
    pts: Vec<(f64, MetricStat, bool)>,
    /// The bound and its label.
    bound: Option<(f64, String)>,
    /// Capacity, low, high.
    capacity: (f64, f64, f64),
}

/// An objective as text, e.g. `p99<500ms`, `error_rate<=0.1%`: the
/// metric, the bound (seconds for durations, a fraction for percentages),
/// how to read it, and whether the bound is an upper one (`<`, `<=`).
fn parse_objective(text: &str) -> Option<(String, f64, Unit, bool)> {
    let i = text.find(['<', '>'])?;
    let upper = text[i..].starts_with('<');
    let name = text[..i].trim().to_string();
    let rest = text[i + 1..].trim_start_matches('=').trim();
    let split = rest
        .char_indices()
        .find(|&(k, c)| {
            !(c.is_ascii_digit()
                || c == '.'
                || ((c == '-' || c == '+') && (k == 0 || rest[..k].ends_with(['e', 'E'])))
                || ((c == 'e' || c == 'E') && k > 0))
        })
        .map_or(rest.len(), |(k, _)| k);
    let mut num: f64 = rest[..split].parse().ok()?;
    let suffix = rest[split..].trim();
    let by_name = || {
        let n = name.to_ascii_lowercase();
        if n.contains("latency")
            || n == "mean"
            || n == "max"
            || (n.starts_with('p') && n[1..].chars().all(|c| c.is_ascii_digit()) && n.len() > 1)
        {
            Unit::Secs
        } else {
            unit_of(&n)
        }
    };
    let unit = match suffix {
        "" => by_name(),
        "us" | "µs" => {
            num *= 1e-6;
            Unit::Secs
        }
        "ms" => {
            num *= 1e-3;
            Unit::Secs
        }
        "s" => Unit::Secs,
        "m" | "min" => {
            num *= 60.0;
            Unit::Secs
        }
        "h" => {
            num *= 3600.0;
            Unit::Secs
        }
        "%" => {
            num /= 100.0;
            Unit::Ratio
        }
        _ => by_name(),
    };
    Some((name, num, unit, upper))
}

fn probes_figure(r: &CapacityResult, row: &CapacityRow) -> Figure {
    let mut xs: Vec<f64> = row.probes.iter().map(|p| p.x).collect();
    xs.extend([row.capacity, row.low, row.high]);
    let x = fitted_scale(&xs, Unit::Plain, r.vary.clone(), LINEAR);
    let mut panels = Vec::new();
    for (k, obj) in r.objectives.iter().enumerate() {
        let parsed = parse_objective(obj);
        let unit = parsed.as_ref().map_or(Unit::Plain, |p| p.2);
        let pts: Vec<(f64, MetricStat, bool)> = row
            .probes
            .iter()
            .filter_map(|p| p.values.get(k).map(|v| (p.x, *v, p.passed)))
            .filter(|p| p.0.is_finite() && p.1.mean.is_finite())
            .collect();
        let mut ys: Vec<f64> = pts
            .iter()
            .flat_map(|p| [p.1.mean, interval(&p.1).0, p.1.hi()])
            .collect();
        let bound = parsed
            .as_ref()
            .map(|p| (p.1, format!("bound {}", fmt_value(unit, p.1))));
        if let Some(b) = &bound {
            ys.push(b.0);
        }
        let desc = match &parsed {
            Some((name, _, Unit::Secs, _)) if !name.contains('.') => format!("{name} latency"),
            Some((name, _, _, _)) => name.replace('_', " "),
            None => obj.clone(),
        };
        // Far past an upper bound, values are clipped to 4 times the bound
        // (and marked), so that the region around the bound stays readable;
        // a log scale instead when the values allow one.
        let min = ys
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(f64::INFINITY, f64::min);
        let max = ys
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max);
        let log = min > 0.0 && max / min > 10.0;
        let clip = match &parsed {
            Some((_, b, _, true)) if !log && *b > 0.0 && max > 4.0 * b => Some(4.0 * b),
            _ => None,
        };
        let y = match clip {
            Some(c) => {
                ys.retain(|v| *v <= c);
                ys.push(c);
                value_scale(&ys, unit, format!("{desc} (clipped)"), LINEAR)
            }
            None => value_scale(&ys, unit, desc, 10.0),
        };
        panels.push(ProbePanel {
            title: format!("objective {obj}: its metric at each probe"),
            x: x.clone(),
            y,
            unit,
            pts,
            bound,
            capacity: (row.capacity, row.low, row.high),
        });
    }
    let mut sub = if row.capacity.is_finite() {
        let range = if row.low.is_finite() && row.high.is_finite() {
            format!(" (95% range {} to {})", fmt_num(row.low), fmt_num(row.high))
        } else {
            String::new()
        };
        let mut s = format!("Capacity {}{range}", fmt_num(row.capacity));
        if !row.binding.is_empty() {
            s.push_str(&format!(", bound by {}", row.binding));
        }
        if row.cost_per_month.is_finite() {
            s.push_str(&format!(
                "; cost at capacity {}/month",
                fmt_usd_short(row.cost_per_month)
            ));
        }
        s.push('.');
        s
    } else {
        "Even the smallest probe fails: no capacity found.".to_string()
    };
    sub.push_str(&format!(
        " {} probes, {} each{}.",
        row.probes.len(),
        plural(r.replications, "replication"),
        if r.replications >= 2 {
            "; bars: 95% confidence intervals"
        } else {
            ""
        }
    ));
    let mut head = Header {
        title: format!(
            "{}: capacity of {} under {}",
            r.scenario,
            r.vary,
            objectives_text(r)
        ),
        subtitle: vec![sub],
        legend: vec![
            key("probe meets every objective", THROUGHPUT, Swatch::Dot),
            key("probe fails", SLO_RED, Swatch::Hollow),
            key("objective bound", SLO_RED, Swatch::Dashed),
            key("capacity and its 95% range", PALETTE[0], Swatch::Area),
        ],
    };
    if let Some(note) = &row.note {
        head.subtitle.push(format!("Note: {note}"));
    }
    if panels.is_empty() {
        head.subtitle.push("No objective to show.".into());
    }
    Figure {
        name: "capacity-probes".into(),
        head,
        body_height: panels.len() as u32 * 380,
        body: Body::Probes(panels),
    }
}

fn draw_probes<DB: DrawingBackend>(
    body: &DrawingArea<DB, Shift>,
    panels: &[ProbePanel],
) -> DrawResult {
    if panels.is_empty() {
        return Ok(());
    }
    let areas = body.split_evenly((panels.len(), 1));
    for (p, area) in panels.iter().zip(&areas) {
        let (x, y) = (&p.x, &p.y);
        let f = Frame {
            right: 40,
            x_area: 54,
            y_area: 100,
            ..PANEL_FRAME
        };
        let mut chart = plot(area, Some(&p.title), x, y, f, true)?;
        let (cap, low, high) = p.capacity;
        if low.is_finite() && high.is_finite() && high > low {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x.at_in(low), y.lo), (x.at_in(high), y.hi)],
                    PALETTE[0].mix(0.15).filled(),
                )))
                .map_err(err)?;
        }
        if cap.is_finite() {
            let cx = x.at_in(cap);
            chart
                .draw_series(LineSeries::new(
                    [(cx, y.lo), (cx, y.hi)],
                    PALETTE[0].stroke_width(2),
                ))
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((cx, y.hi))
                        + Text::new(
                            format!("capacity {}", fmt_num(cap)),
                            (6, 4),
                            font(14).color(&PALETTE[0]),
                        ),
                ))
                .map_err(err)?;
        }
        if let Some((b, label)) = &p.bound {
            let by = y.at(*b);
            if by >= y.lo && by <= y.hi {
                chart
                    .draw_series(DashedLineSeries::new(
                        [(x.lo, by), (x.hi, by)],
                        10,
                        6,
                        SLO_RED.stroke_width(2),
                    ))
                    .map_err(err)?;
                chart
                    .draw_series(std::iter::once(
                        EmptyElement::at((x.lo, by))
                            + Text::new(
                                label.clone(),
                                (8, -4),
                                font(14)
                                    .color(&SLO_RED)
                                    .pos(Pos::new(HPos::Left, VPos::Bottom)),
                            ),
                    ))
                    .map_err(err)?;
            }
        }
        let mut line: Vec<(f64, f64)> = p
            .pts
            .iter()
            .map(|q| (x.at_in(q.0), y.at_in(q.1.mean)))
            .collect();
        line.sort_by(|a, b| a.0.total_cmp(&b.0));
        chart
            .draw_series(LineSeries::new(line, MUTED.mix(0.6).stroke_width(1)))
            .map_err(err)?;
        for &(px, s, passed) in &p.pts {
            let colour = if passed { THROUGHPUT } else { SLO_RED };
            let c = (x.at_in(px), y.at_in(s.mean));
            if y.at(s.mean) > y.hi {
                // Clipped: a triangle at the top edge, with the value.
                chart
                    .draw_series(std::iter::once(
                        EmptyElement::at(c)
                            + TriangleMarker::new((0, 7), 7, colour.filled())
                            + Text::new(
                                fmt_value(p.unit, s.mean),
                                (10, 4),
                                font(14).color(&colour),
                            ),
                    ))
                    .map_err(err)?;
                continue;
            }
            if s.ci95.is_finite() && s.ci95 > 0.0 {
                let bar = ((c.0, y.at_in(interval(&s).0)), (c.0, y.at_in(s.hi())));
                error_bars(&mut chart, &[bar], colour.stroke_width(1), 4)?;
            }
            if passed {
                chart.draw_series(dot(c, 5, colour)).map_err(err)?;
            } else {
                chart
                    .draw_series([
                        Circle::new(c, 6, WHITE.filled()),
                        Circle::new(c, 5, colour.stroke_width(2)),
                    ])
                    .map_err(err)?;
            }
        }
        if p.pts.is_empty() {
            centre_text(&mut chart, x, y, "no probe")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_titles() {
        assert_eq!(unit_of("latency_s.p99"), Unit::Secs);
        assert_eq!(unit_of("cost_usd.projected_month"), Unit::Usd);
        assert_eq!(unit_of("error_rate"), Unit::Ratio);
        assert_eq!(unit_of("components.api.utilization"), Unit::Ratio);
        assert_eq!(unit_of("throughput_rps"), Unit::Rate);
        assert_eq!(metric_title("latency_s.p999"), "p99.9 latency");
        assert_eq!(metric_title("llm.ttft_s.p99"), "p99 time to first token");
        assert_eq!(
            metric_title("components.gen.tpot_s.p50"),
            "gen p50 time per output token"
        );
        assert_eq!(unit_of("llm.tpot_s.p99"), Unit::Secs);
        assert_eq!(unit_of("llm.output_tokens_per_s"), Unit::Rate);
        assert_eq!(
            metric_title("llm.output_tokens_per_s"),
            "llm output tokens/s"
        );
        assert_eq!(
            metric_title("components.gen.output_tokens_per_s_per_gpu"),
            "gen output tokens/s per GPU"
        );
        assert_eq!(unit_of("components.gen.kv_use_mean"), Unit::Ratio);
        assert_eq!(
            metric_title("components.api.utilization"),
            "api utilization"
        );
        assert_eq!(metric_title("components.api.mean_wait_s"), "api mean wait");
        assert_eq!(metric_title("throughput_rps"), "throughput");
        assert_eq!(fmt_pct(0.001), "0.1%");
        assert_eq!(fmt_pct(0.4567), "45.7%");
        assert_eq!(fmt_num(1234.4), "1,234");
        assert_eq!(fmt_num(40.0), "40");
        assert_eq!(slug("components.api.instances"), "components-api-instances");
    }

    #[test]
    fn load_at_least_is_a_share_of_instances() {
        let m = "components.api.load_at_least.2";
        assert_eq!(load_at_least(m), Some(("api", "2")));
        assert_eq!(unit_of(m), Unit::Ratio);
        assert_eq!(metric_desc(m), "% of instances");
        assert_eq!(metric_title(m), "api: instances with ≥ 2 requests");
        assert_eq!(
            metric_title("components.db.load_at_least.1"),
            "db: instances with ≥ 1 request"
        );
        assert_eq!(fmt_value(unit_of(m), 0.25), "25%");
        // Not the metric: no pool, or no k.
        assert_eq!(load_at_least("load_at_least.2"), None);
        assert_eq!(load_at_least("components.load_at_least.2"), None);
        assert_eq!(load_at_least("components.api.load_at_least"), None);
        assert_eq!(unit_of("components.api.load_at_least"), Unit::Plain);
    }

    /// Centres of `n` categories on a plot from `left` to `right` pixels.
    fn centres(n: usize, left: i32, right: i32) -> Vec<i32> {
        let w = f64::from(right - left) / n as f64;
        (0..n)
            .map(|i| left + ((i as f64 + 0.5) * w).floor() as i32)
            .collect()
    }

    fn texts(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    /// The labels of `l` stay apart and within `bounds`.
    fn readable(l: &XLabels, centres: &[i32], bounds: (i32, i32)) -> bool {
        let widths: Vec<i32> = l
            .texts
            .iter()
            .map(|t| text_width(t, l.size, false))
            .collect();
        labels_fit(centres, &widths, l.rows, bounds)
    }

    #[test]
    fn category_labels_stagger_then_shrink_then_shorten() {
        fonts().unwrap();
        let policies = texts(&[
            "fifo",
            "least_conn",
            "power_of_two",
            "round_robin",
            "random",
            "hash",
        ]);
        // Full width: one row, plotters' own labels.
        let wide = centres(6, 102, 1172);
        assert_eq!(category_labels(&policies, &wide, (4, 1196)), None);
        // A panel of two columns: two rows at the usual size.
        let half = centres(6, 102, 572);
        let l = category_labels(&policies, &half, (4, 596)).unwrap();
        assert_eq!((l.size, l.rows), (TICK_SIZE, 2));
        assert_eq!(l.texts, policies);
        assert!(readable(&l, &half, (4, 596)));
        assert!(!labels_fit(
            &half,
            &policies
                .iter()
                .map(|t| text_width(t, TICK_SIZE, false))
                .collect::<Vec<_>>(),
            1,
            (4, 596)
        ));
        assert_eq!(l.extra(), TICK_SIZE + 4);
        // Narrower: two rows in a smaller font.
        let narrow = centres(6, 102, 312);
        let l = category_labels(&policies, &narrow, (4, 336)).unwrap();
        assert_eq!(l.rows, 2);
        assert!(l.size < TICK_SIZE, "{l:?}");
        assert_eq!(l.texts, policies);
        assert!(readable(&l, &narrow, (4, 336)));
        // Far too narrow: shortened with an ellipsis, still apart.
        let long = texts(&[
            "weighted_least_connections",
            "consistent_hash_with_bounded_loads",
            "power_of_two_choices",
            "weighted_round_robin",
            "random",
            "hash",
        ]);
        let l = category_labels(&long, &narrow, (4, 336)).unwrap();
        assert_eq!((l.size, l.rows), (10, 2));
        assert!(l.texts.iter().any(|t| t.ends_with('…')), "{l:?}");
        assert_eq!(l.texts[4], "random");
        assert!(readable(&l, &narrow, (4, 336)), "{l:?}");
        // One label too wide for its panel, near the edge: kept inside.
        let one = texts(&["a_very_long_category_name_indeed_that_cannot_fit"]);
        let l = category_labels(&one, &[120], (4, 236)).unwrap();
        assert!(readable(&l, &[120], (4, 236)), "{l:?}");
        assert_eq!(shorten("random", 15, 1000), "random");
        assert_eq!(shorten("random", 15, 0), "…");
    }

    #[test]
    fn sweep_labels_depend_on_the_panel_width() {
        fonts().unwrap();
        let policies = texts(&[
            "\"fifo\"",
            "\"least_conn\"",
            "\"power_of_two\"",
            "\"round_robin\"",
            "\"random\"",
            "\"hash\"",
        ]);
        let x = category_scale(&policies, "components.api.balance");
        assert_eq!(sweep_x_labels(&x, 1), None);
        let l = sweep_x_labels(&x, 2).unwrap();
        assert_eq!((l.size, l.rows), (TICK_SIZE, 2));
        assert_eq!(l.texts[1], "least_conn");
        let few = category_scale(&texts(&["lru", "lfu", "fifo"]), "policy");
        assert_eq!(sweep_x_labels(&few, 2), None);
    }

    #[test]
    fn objectives_parse() {
        assert_eq!(
            parse_objective("p99<500ms"),
            Some(("p99".into(), 0.5, Unit::Secs, true))
        );
        assert_eq!(
            parse_objective("error_rate<=0.1%"),
            Some(("error_rate".into(), 0.001, Unit::Ratio, true))
        );
        assert_eq!(
            parse_objective("error_rate<1e-3"),
            Some(("error_rate".into(), 0.001, Unit::Ratio, true))
        );
        assert_eq!(
            parse_objective("throughput_rps>=100"),
            Some(("throughput_rps".into(), 100.0, Unit::Rate, false))
        );
        assert_eq!(parse_objective("p99").map(|p| p.1), None);
    }

    #[test]
    fn needed_steps_take_the_smallest_value() {
        let rows = vec![
            (100.0, 2.0, "2".to_string()),
            (250.0, 4.0, "4".to_string()),
            (230.0, 6.0, "6".to_string()),
            (500.0, 8.0, "8".to_string()),
            (f64::NAN, 1.0, "1".to_string()),
        ];
        let s = needed_steps(&rows);
        let runs: Vec<(f64, f64, f64)> = s.iter().map(|s| (s.0, s.1, s.2)).collect();
        assert_eq!(
            runs,
            vec![(0.0, 100.0, 2.0), (100.0, 250.0, 4.0), (250.0, 500.0, 8.0)]
        );
    }

    #[test]
    fn scales() {
        let s = value_scale(&[0.12, 0.31], Unit::Secs, "latency", 50.0);
        assert_eq!(s.lo, 0.0);
        assert!(s.hi >= 0.31 && !s.log);
        assert!(s.labels.iter().any(|l| l.1 == "100 ms"), "{:?}", s.labels);
        let s = value_scale(&[0.05, 20.0], Unit::Secs, "latency", 50.0);
        assert!(s.log);
        let vals: Vec<(f64, String)> = [2.0, 4.0, 8.0]
            .iter()
            .map(|v| (*v, v.to_string()))
            .collect();
        let p = param_scale(&vals, "instances");
        assert_eq!(p.major, vec![2.0, 4.0, 8.0]);
        let vals: Vec<(f64, String)> = [100.0, 1000.0, 10000.0]
            .iter()
            .map(|v| (*v, v.to_string()))
            .collect();
        assert!(param_scale(&vals, "capacity").log);
    }
}
