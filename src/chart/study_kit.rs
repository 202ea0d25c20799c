//! The chart kit of multi-run studies (to be merged with the run kit).

use super::kit::{
    decimals, err, fmt_plain, fmt_secs, fmt_usd, fmt_usd_tick, font, label_at, nice_step,
    register_fonts, DrawResult, DESIRED, FONT, GRID, GRID_LIGHT, LEGEND_SIZE, MARGIN, MUTED,
    PALETTE, SLO_RED, SUBTITLE_SIZE, TEXT, THROUGHPUT, WIDTH,
};
use super::kit::{flow_legend, Axis};
use crate::study::{CapacityResult, CapacityRow, MetricStat, ParamValue, SweepResults};
use ndarray::Array2;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;
use std::error::Error;
use std::io;
use std::path::{Path, PathBuf};
use super::sweep::*;
use super::pareto::*;
use super::heatmap::*;
use super::capacity::*;
use super::probes::*;

/// The metrics a heatmap shows, when the sweep measured them.
pub(crate) const HEAT_METRICS: [&str; 3] = ["latency_s.p99", "cost_usd.projected_month", "error_rate"];
/// Frontier and highlight colour.
pub(crate) const HIGHLIGHT: RGBColor = DESIRED;
/// Cells without data.
pub(crate) const NO_DATA: RGBColor = RGBColor(0xc4, 0xc7, 0xcc);
pub(crate) const PANEL_TITLE_SIZE: u32 = 17;

// ---------------------------------------------------------------- figures

/// A backend-independent description of one chart.
pub(crate) struct Figure {
    pub(crate) name: String,
    pub(crate) head: Header,
    /// Height below the header.
    pub(crate) body_height: u32,
    pub(crate) body: Body,
}

pub(crate) enum Body {
    Sweep(SweepPlot),
    Pareto(ParetoPlot),
    Heatmap(Vec<HeatPanel>),
    Capacity(CapacityPlot),
    Inverse(InversePlot),
    Probes(Vec<ProbePanel>),
}

/// Title, subtitle paragraphs and legend.
pub(crate) struct Header {
    pub(crate) title: String,
    pub(crate) subtitle: Vec<String>,
    pub(crate) legend: Vec<Key>,
}

pub(crate) struct Key {
    pub(crate) label: String,
    pub(crate) colour: RGBColor,
    pub(crate) swatch: Swatch,
}

#[derive(Clone, Copy)]
pub(crate) enum Swatch {
    Dashed,
    LineDot,
    Dot,
    Hollow,
    Area,
    Cross,
}

pub(crate) fn key(label: impl Into<String>, colour: RGBColor, swatch: Swatch) -> Key {
    Key {
        label: label.into(),
        colour,
        swatch,
    }
}

/// Where the header's text goes.
pub(crate) struct HeaderLayout {
    pub(crate) title: Vec<String>,
    pub(crate) subtitle: Vec<(i32, String)>,
    pub(crate) legend: Vec<(i32, i32)>,
    pub(crate) height: u32,
}

pub(crate) fn text_width(text: &str, size: u32, bold: bool) -> i32 {
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
pub(crate) fn wrap(text: &str, size: u32, bold: bool, max: i32) -> Vec<String> {
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
    pub(crate) fn layout(&self) -> HeaderLayout {
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
pub(crate) fn fonts() -> io::Result<()> {
    if register_fonts() {
        Ok(())
    } else {
        Err(io::Error::other("the bundled chart font failed to load"))
    }
}

/// Writes every figure as SVG and PNG.
pub(crate) fn write_figures(dir: &Path, figs: &[Figure]) -> io::Result<Vec<PathBuf>> {
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
pub(crate) fn render<DB: DrawingBackend>(
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

pub(crate) fn draw_swatch<DB: DrawingBackend>(
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
pub(crate) enum Unit {
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

pub(crate) fn last_segment(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

/// The pool and `k` of a `components.<pool>.load_at_least.<k>` metric:
/// the time-averaged share of the pool's instances with at least `k`
/// requests in service or queued.
pub(crate) fn load_at_least(metric: &str) -> Option<(&str, &str)> {
    let rest = metric.strip_prefix("components.")?;
    let (head, k) = rest.rsplit_once('.')?;
    let pool = head.strip_suffix(".load_at_least")?;
    (!pool.is_empty() && !k.is_empty()).then_some((pool, k))
}

/// `ttft` or `tpot` and the statistic of a token-latency metric
/// (`llm.ttft_s.p99`, `components.<llm>.tpot_s.mean`).
pub(crate) fn token_latency(metric: &str) -> Option<(&str, &str)> {
    let (head, k) = metric.rsplit_once('.')?;
    let what = head.rsplit('.').next()?.strip_suffix("_s")?;
    matches!(what, "ttft" | "tpot" | "itl").then_some((what, k))
}

pub(crate) fn unit_of(metric: &str) -> Unit {
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
pub(crate) fn metric_title(metric: &str) -> String {
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
pub(crate) fn metric_desc(metric: &str) -> String {
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
pub(crate) fn trim(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// `1,234,567`.
pub(crate) fn grouped(n: i64) -> String {
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
pub(crate) fn fmt_num(v: f64) -> String {
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
pub(crate) fn fmt_pct(v: f64) -> String {
    let x = v * 100.0;
    if x == 0.0 {
        return "0%".into();
    }
    let d = (2 - x.abs().log10().floor() as i32).clamp(0, 6) as usize;
    format!("{}%", trim(format!("{x:.d$}")))
}

/// `$0.0042`, `$12.34`, `$354`, `$1,234`.
pub(crate) fn fmt_usd_short(v: f64) -> String {
    if (100.0..1000.0).contains(&v.abs()) {
        format!("${v:.0}")
    } else {
        fmt_usd(v)
    }
}

/// A value for a label (point, cell, tick of a log axis).
pub(crate) fn fmt_value(unit: Unit, v: f64) -> String {
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
pub(crate) fn fmt_tick(unit: Unit, v: f64, step: f64) -> String {
    let d = decimals(step);
    match unit {
        Unit::Secs => fmt_secs(v),
        Unit::Usd => fmt_usd_tick(v, d),
        Unit::Ratio => format!("{:.*}%", decimals(step * 100.0), v * 100.0),
        Unit::Rate | Unit::Plain => fmt_plain(v, d),
    }
}

/// A parameter value without TOML quotes (`"lru"` → `lru`).
pub(crate) fn unquote(text: &str) -> &str {
    let t = text.trim();
    for q in ['"', '\''] {
        if t.len() >= 2 && t.starts_with(q) && t.ends_with(q) {
            return &t[1..t.len() - 1];
        }
    }
    t
}

pub(crate) fn plural(n: u32, what: &str) -> String {
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
pub(crate) struct Scale {
    pub(crate) lo: f64,
    pub(crate) hi: f64,
    pub(crate) major: Vec<f64>,
    pub(crate) minor: Vec<f64>,
    pub(crate) labels: Vec<(f64, String)>,
    pub(crate) desc: String,
    pub(crate) log: bool,
}

impl Scale {
    /// A value in drawing units.
    pub(crate) fn at(&self, v: f64) -> f64 {
        if self.log {
            v.max(1e-300).log10()
        } else {
            v
        }
    }

    /// A value in drawing units, kept inside the scale.
    pub(crate) fn at_in(&self, v: f64) -> f64 {
        self.at(v).clamp(self.lo, self.hi)
    }

    pub(crate) fn span(&self) -> f64 {
        self.hi - self.lo
    }
}

impl Scale {
    /// The plotters coordinate of this scale (ticks at `major`/`minor`).
    pub(crate) fn axis(&self) -> Axis {
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
pub(crate) fn log_ticks(lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>) {
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
pub(crate) const LINEAR: f64 = f64::INFINITY;

/// A scale for metric values: linear from 0 (or below, for negative
/// values) to a nice bound, or logarithmic when the values are positive
/// and the largest is more than `log_above` times the smallest.
pub(crate) fn value_scale(vals: &[f64], unit: Unit, desc: impl Into<String>, log_above: f64) -> Scale {
    scale_of(vals, unit, desc.into(), log_above, true)
}

/// Like [`value_scale`], but a linear scale fits the values instead of
/// starting at 0 (unless they come close to it): for scatter plots.
pub(crate) fn fitted_scale(vals: &[f64], unit: Unit, desc: impl Into<String>, log_above: f64) -> Scale {
    scale_of(vals, unit, desc.into(), log_above, false)
}

pub(crate) fn scale_of(vals: &[f64], unit: Unit, desc: String, log_above: f64, zero: bool) -> Scale {
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
pub(crate) fn param_scale(vals: &[(f64, String)], desc: &str) -> Scale {
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
pub(crate) fn category_scale(labels: &[String], desc: &str) -> Scale {
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
pub(crate) fn distinct_values<'a>(vals: impl IntoIterator<Item = &'a ParamValue>) -> (Vec<ParamValue>, bool) {
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
pub(crate) fn param_axis(vals: &[ParamValue], numeric: bool, desc: &str) -> (Scale, Vec<f64>) {
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

pub(crate) type Chart2d<'a, DB> = ChartContext<'a, DB, Cartesian2d<Axis, Axis>>;
pub(crate) type BoxError = Box<dyn Error + Send + Sync>;

/// Space around a plot: margins, then the label areas.
#[derive(Clone, Copy)]
pub(crate) struct Frame {
    pub(crate) top: u32,
    pub(crate) right: u32,
    pub(crate) bottom: u32,
    pub(crate) left: u32,
    pub(crate) x_area: u32,
    pub(crate) y_area: u32,
}

pub(crate) const PANEL_FRAME: Frame = Frame {
    top: 40,
    right: 28,
    bottom: 6,
    left: 10,
    x_area: 52,
    y_area: 92,
};

/// A plot on `area` with the house mesh (grid lines unless `grid` is
/// false) and an optional title above it.
pub(crate) fn plot<'a, DB: DrawingBackend>(
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

pub(crate) fn mesh<DB: DrawingBackend>(
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
pub(crate) fn dot(c: (f64, f64), r: i32, colour: RGBColor) -> impl Iterator<Item = Circle<(f64, f64), i32>> {
    [
        Circle::new(c, r + 2, WHITE.filled()),
        Circle::new(c, r, colour.filled()),
    ]
    .into_iter()
}

/// Interval bars from `.0` to `.1` (drawing units), vertical or
/// horizontal, with caps `cap` pixels long each side.
pub(crate) fn error_bars<DB: DrawingBackend>(
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
pub(crate) fn centre_text<DB: DrawingBackend>(
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
pub(crate) type Segment = ((f64, f64), (f64, f64));
/// A label's anchor point and its width and height, in pixels.
pub(crate) type Anchored = ((i32, i32), (i32, i32));
/// A pixel rectangle: left, top, right, bottom.
pub(crate) type Rect = (i32, i32, i32, i32);

pub(crate) fn overlap(a: Rect, b: Rect) -> i64 {
    let w = (a.2.min(b.2) - a.0.max(b.0)).max(0) as i64;
    let h = (a.3.min(b.3) - a.1.max(b.1)).max(0) as i64;
    w * h
}

/// Chooses where each label goes around its anchor point (pixels) so that
/// labels overlap neither each other, nor `obstacles`, nor leave `bounds`
/// when avoidable. Returns each label's top-left corner.
pub(crate) fn place_labels(items: &[Anchored], obstacles: &[Rect], bounds: Rect) -> Vec<(i32, i32)> {
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
pub(crate) fn boxed_text<DB: DrawingBackend>(
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
