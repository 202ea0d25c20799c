//! The chart kit of a run's charts (to be merged with the study kit).

use chrono::{Datelike, NaiveDateTime, Timelike};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;
use std::error::Error;
use std::ops::Range;

use super::timeline::{draw_panel, Panel};

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
pub(crate) const PANEL_HEIGHT: u32 = 470;
/// Left and right margin of the header text.
pub(crate) const MARGIN: i32 = 24;
/// Where the plotting area starts (panel margin + y label area).
pub(crate) const PLOT_LEFT: i32 = 14 + 96;
pub(crate) const SUBTITLE_SIZE: u32 = 16;
pub(crate) const LEGEND_SIZE: u32 = 16;
pub(crate) const FONT: &str = "sans-serif";
pub(crate) const TEXT: RGBColor = RGBColor(0x22, 0x22, 0x22);
pub(crate) const MUTED: RGBColor = RGBColor(0x5f, 0x63, 0x68);
pub(crate) const GRID: RGBColor = RGBColor(0xd0, 0xd4, 0xd9);
pub(crate) const GRID_LIGHT: RGBColor = RGBColor(0xec, 0xee, 0xf1);
pub(crate) const SLO_RED: RGBColor = RGBColor(0xd6, 0x27, 0x28);
pub(crate) const TOTAL: RGBColor = RGBColor(0x33, 0x33, 0x33);
pub(crate) const DESIRED: RGBColor = RGBColor(0xe6, 0x55, 0x0d);
pub(crate) const OFFERED: RGBColor = RGBColor(0x5b, 0x6b, 0x7f);
pub(crate) const THROUGHPUT: RGBColor = RGBColor(0x1b, 0x9e, 0x77);
pub(crate) const P50: RGBColor = RGBColor(0x6b, 0xae, 0xd6);
pub(crate) const P95: RGBColor = RGBColor(0x21, 0x71, 0xb5);
pub(crate) const P99: RGBColor = RGBColor(0x08, 0x30, 0x6b);
pub(crate) const MEAN: RGBColor = RGBColor(0x7b, 0x7b, 0x7b);

pub(crate) static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
pub(crate) static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// Registers the bundled DejaVu Sans as plotters' `sans-serif` (regular
/// and bold). Idempotent; returns false if a font failed to load.
pub fn register_fonts() -> bool {
    static ONCE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ONCE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, REGULAR).is_ok()
            && plotters::style::register_font(FONT, FontStyle::Bold, BOLD).is_ok()
    })
}

// ---------------------------------------------------------------- figures

/// A backend-independent description of one chart.
pub(crate) struct Figure {
    pub(crate) name: &'static str,
    pub(crate) title: String,
    pub(crate) subtitle: Vec<String>,
    pub(crate) legend: Vec<LegendItem>,
    pub(crate) panels: Vec<Panel>,
    /// When set, drawn in place of the panels (e.g. nothing is priced).
    pub(crate) message: Option<Vec<String>>,
}

impl Figure {
    pub(crate) fn new(name: &'static str, title: String) -> Figure {
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
    pub(crate) fn layout(&self) -> Layout {
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
pub(crate) struct Layout {
    /// Subtitle lines after wrapping.
    pub(crate) subtitle: Vec<String>,
    /// Top-left corner of each legend item.
    pub(crate) legend: Vec<(i32, i32)>,
    /// Height of title, subtitle and legend.
    pub(crate) header: u32,
    /// Height of the whole chart.
    pub(crate) height: u32,
}

#[derive(Clone)]
pub(crate) enum Swatch {
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
pub(crate) struct LegendItem {
    pub(crate) label: String,
    pub(crate) colour: RGBColor,
    pub(crate) swatch: Swatch,
}

pub(crate) fn legend(label: impl Into<String>, colour: RGBColor, swatch: Swatch) -> LegendItem {
    LegendItem {
        label: label.into(),
        colour,
        swatch,
    }
}

// ---------------------------------------------------------------- axes

/// The x axis: range, ticks and their labels, and the marks drawn on
/// every panel.
pub(crate) struct XAxis {
    pub(crate) hi: f64,
    /// End of the warm-up (shaded), s.
    pub(crate) warmup: f64,
    /// Where a runaway stopped the run, s.
    pub(crate) stop: Option<f64>,
    pub(crate) major: Vec<f64>,
    pub(crate) minor: Vec<f64>,
    pub(crate) labels: Vec<(f64, String)>,
    pub(crate) desc: String,
}

/// A y axis in drawing units (log10 of the value on a log axis).
pub(crate) struct YAxis {
    pub(crate) lo: f64,
    pub(crate) hi: f64,
    pub(crate) major: Vec<f64>,
    pub(crate) minor: Vec<f64>,
    pub(crate) labels: Vec<(f64, String)>,
    pub(crate) desc: String,
}

pub(crate) fn label_at(labels: &[(f64, String)], v: f64) -> String {
    labels
        .iter()
        .min_by(|a, b| (a.0 - v).abs().total_cmp(&(b.0 - v).abs()))
        .map(|l| l.1.clone())
        .unwrap_or_default()
}

/// Time steps for ticks (s), with the minor step drawn between them.
pub(crate) const TIME_STEPS: [(f64, f64); 22] = [
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
pub(crate) fn time_axis(span: f64, start: Option<NaiveDateTime>) -> XAxis {
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
pub(crate) fn elapsed_label(t: f64) -> String {
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
pub(crate) fn linear_axis(max: f64, desc: &str, fmt: fn(f64, usize) -> String) -> YAxis {
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
pub(crate) fn count_axis(max: f64, desc: &str) -> YAxis {
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
pub(crate) fn percent_axis(max: f64, desc: &str) -> YAxis {
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
pub(crate) fn log_axis(min: f64, max: f64, desc: &str, fmt: fn(f64) -> String) -> YAxis {
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
pub(crate) fn render<DB: DrawingBackend>(
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
