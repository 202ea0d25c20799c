//! `heatmap`: p99, cost and error rate over a two-parameter grid.

use super::axis::{category_scale, log_majors, ticks_within, Scale};
use super::draw::{err, plot, DrawResult, Frame};
use super::figure::{Body, Figure, Header};
use super::format::{fmt_value, plural, Unit};
use super::metric::{distinct_values, last_segment, metric_title, unit_of};
use super::style::{font, text_width, MUTED, TEXT};
use crate::study::SweepResults;
use ndarray::Array2;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The metrics a heatmap shows, when the sweep measured them.
const HEAT_METRICS: [&str; 3] = ["latency_s.p99", "cost_usd.projected_month", "error_rate"];
/// Cells without data.
const NO_DATA: RGBColor = RGBColor(0xc4, 0xc7, 0xcc);

/// One metric over the grid of the two parameters, with its colour bar.
pub(crate) struct HeatPanel {
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
    /// Height of the panel: its title, the grid and the x labels.
    fn height(&self) -> u32 {
        (self.grid.nrows() as u32 * 64).clamp(192, 520) + 40 + 56 + 14
    }

    /// Position of `v` on the colour scale, 0 to 1.
    pub(crate) fn t(&self, v: f64) -> f64 {
        let f = |v: f64| if self.log { v.max(1e-300).log10() } else { v };
        let span = f(self.hi) - f(self.lo);
        if span > 0.0 {
            (f(v) - f(self.lo)) / span
        } else {
            0.5
        }
    }
}

/// The `heatmap` chart of a sweep over a grid of exactly two parameters
/// (not a zip group, whose points are a diagonal): one panel per metric
/// of [`HEAT_METRICS`] it measured.
pub(crate) fn heatmap_figure(r: &SweepResults) -> Option<Figure<Vec<HeatPanel>>> {
    let metrics: Vec<usize> = HEAT_METRICS.iter().filter_map(|m| r.metric(m)).collect();
    if metrics.is_empty() || r.points.is_empty() || !r.is_grid2() {
        return None;
    }
    let (cols, _) = distinct_values(r.points.iter().filter_map(|pt| pt.params.first()));
    let (rows, _) = distinct_values(r.points.iter().filter_map(|pt| pt.params.get(1)));
    let col_texts: Vec<String> = cols.iter().map(|v| v.text.clone()).collect();
    let row_texts: Vec<String> = rows.iter().map(|v| v.text.clone()).collect();
    let x = category_scale(&col_texts, &r.params[0]);
    let y = category_scale(&row_texts, &r.params[1]);
    let mut panels = Vec::new();
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
        body: panels,
    })
}

/// The panels, one below the other.
impl Body for Vec<HeatPanel> {
    fn height(&self) -> u32 {
        self.iter().map(HeatPanel::height).sum()
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        body: &DrawingArea<DB, Shift>,
    ) -> DrawResult {
        let mut rest = body.clone();
        for h in self {
            let (area, below) = rest.split_vertically(h.height());
            rest = below;
            draw_heatmap(root, &area, h)?;
        }
        Ok(())
    }
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
            let major = log_majors(h.lo.log10(), h.hi.log10());
            major.iter().map(|lv| 10f64.powf(*lv)).collect()
        } else {
            ticks_within(h.lo, h.hi, 4.0)
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
