//! The panels of a run's charts: layers over simulated time, with the
//! warm-up shaded and reference lines labelled in the right margin.

use super::axis::{linear_axis, log_axis, Scale, TimeAxis};
use super::draw::{centre_text, dashes, err, plot, Chart2d, DrawResult, Frame};
use super::figure::{Body, Figure, HeaderStyle};
use super::format::Unit;
use super::style::{bold, font, palette, GRID_LIGHT, MUTED, SLO_RED, TOTAL};
use super::windows::{Ctx, Pt};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// A run's chart: its panels over the time axis, or a message.
pub(crate) type RunFigure<'a> = Figure<TimePlot<'a>, &'static str>;

/// Height of a run chart's single panel.
const PANEL_HEIGHT: u32 = 470;
/// Space around each panel's plot, which starts `14 + 96` px from the left.
const LEFT: u32 = 14;
const Y_AREA: u32 = 96;

/// Room above a titled panel's plot for its title.
const TITLE_ROOM: u32 = 26;

/// The body of a run's chart.
pub(crate) struct TimePlot<'a> {
    pub(crate) x: &'a TimeAxis,
    pub(crate) panels: Vec<Panel>,
    /// When set, drawn in place of the panels (e.g. nothing is priced).
    pub(crate) message: Option<Vec<String>>,
}

impl Body for TimePlot<'_> {
    /// The legend starts where the plots do; the title stays on one line.
    const HEADER: HeaderStyle = HeaderStyle {
        legend_left: (LEFT + Y_AREA) as i32,
        wrap_title: false,
        pad: 0,
    };

    fn height(&self) -> u32 {
        if self.message.is_some() {
            return 300;
        }
        let each = if self.panels.len() <= 1 {
            PANEL_HEIGHT
        } else {
            PANEL_HEIGHT - 110
        };
        let titles = self.panels.iter().filter(|p| p.title.is_some()).count() as u32;
        self.panels.len().max(1) as u32 * each + titles * TITLE_ROOM
    }

    fn draw<DB: DrawingBackend>(
        &self,
        _root: &DrawingArea<DB, Shift>,
        body: &DrawingArea<DB, Shift>,
    ) -> DrawResult {
        if let Some(lines) = &self.message {
            return draw_message(body, lines);
        }
        let n = self.panels.len().max(1);
        // Titled panels are taller by the title's room; the rest is shared.
        let (_, h) = body.dim_in_pixel();
        let titles = self.panels.iter().filter(|p| p.title.is_some()).count() as u32;
        let each = (h.saturating_sub(titles * TITLE_ROOM)) / n as u32;
        let mut rest = body.clone();
        // One right margin for every panel, so that their time axes line up.
        let labelled = self.panels.iter().any(|p| !p.hlines.is_empty());
        let right = if labelled { 150 } else { 48 };
        for (k, panel) in self.panels.iter().enumerate() {
            let last = k + 1 == n;
            let room = each + if panel.title.is_some() { TITLE_ROOM } else { 0 };
            let (area, below) = if last {
                (rest.clone(), rest.clone())
            } else {
                rest.split_vertically(room)
            };
            draw_panel(panel, self.x, &area, last, right)?;
            rest = below;
        }
        Ok(())
    }
}

/// A message in a grey box in place of the panels: the first line bold.
fn draw_message<DB: DrawingBackend>(body: &DrawingArea<DB, Shift>, lines: &[String]) -> DrawResult {
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
            bold(22)
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
    Ok(())
}

/// One plotting area with its y axis.
pub(crate) struct Panel {
    /// Above the plot: what the panel shows, when the chart has several.
    pub(crate) title: Option<String>,
    pub(crate) y: Scale,
    pub(crate) layers: Vec<Layer>,
    /// Horizontal reference lines: (y, label, colour).
    pub(crate) hlines: Vec<(f64, String, RGBColor)>,
    /// Drawn in the middle of the plot when there is no data.
    pub(crate) empty: Option<String>,
}

impl Panel {
    /// A panel with these layers on axis `y`, untitled, with no reference
    /// line and no message.
    pub(crate) fn new(y: Scale, layers: Vec<Layer>) -> Panel {
        Panel {
            title: None,
            y,
            layers,
            hlines: Vec::new(),
            empty: None,
        }
    }

    /// The same panel titled `title`.
    pub(crate) fn titled(self, title: impl Into<String>) -> Panel {
        Panel {
            title: Some(title.into()),
            ..self
        }
    }
}

pub(crate) enum Layer {
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
pub(crate) fn series_layers(
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
pub(crate) fn dashed(mut layers: Vec<Layer>) -> Vec<Layer> {
    for l in &mut layers {
        if let Layer::Line { dashed, .. } = l {
            *dashed = true;
        }
    }
    layers
}

/// The largest value a set of series reaches (band included).
pub(crate) fn max_of<'a>(series: impl IntoIterator<Item = &'a [Option<Pt>]>) -> f64 {
    series
        .into_iter()
        .flatten()
        .flatten()
        .map(|p| p.hi.max(p.v))
        .fold(0.0, f64::max)
}

/// Past this ratio of the highest value to the median one, a latency axis
/// is logarithmic: on a linear one, the typical windows would sit in the
/// bottom tenth under one spike (or under a far SLO bound).
pub(crate) const LOG_SPREAD: f64 = 10.0;

/// A latency y axis for `lines`, reaching at least `floor_hi` (s): linear
/// in ms, s, min or h (whichever suits the highest value), or log, marked
/// `(log scale)`, when one spike would flatten the rest (the highest value
/// is over [`LOG_SPREAD`] times the median one, or 200 times the lowest).
/// Returns the axis and the seconds-to-drawing map.
pub(crate) fn latency_axis<'a>(
    lines: impl IntoIterator<Item = &'a [Option<Pt>]> + Clone,
    floor_hi: f64,
    what: &str,
) -> (Scale, impl Fn(f64) -> f64 + Copy) {
    let hi = max_of(lines.clone()).max(floor_hi);
    let pts = || lines.clone().into_iter().flatten().flatten();
    let data_min = pts()
        .map(|p| p.lo.min(p.v))
        .filter(|v| *v > 0.0)
        .fold(f64::INFINITY, f64::min);
    let mut values: Vec<f64> = pts().map(|p| p.v).filter(|v| *v > 0.0).collect();
    values.sort_by(f64::total_cmp);
    let median = values.get(values.len() / 2).copied().unwrap_or(0.0);
    let log = data_min.is_finite() && (hi / data_min > 200.0 || hi > LOG_SPREAD * median);
    // A log axis labels each tick with its own unit (`20 ms`, `1 s`).
    let (unit, scale) = if log {
        ("s", 1.0)
    } else if hi < 1.0 {
        ("ms", 1e3)
    } else if hi < 120.0 {
        ("s", 1.0)
    } else if hi < 7200.0 {
        ("min", 1.0 / 60.0)
    } else {
        ("h", 1.0 / 3600.0)
    };
    let y = if log {
        log_axis(data_min, hi, &format!("{what} (log scale)"), Unit::Secs)
    } else {
        linear_axis(hi * scale, &format!("{what} ({unit})"), Unit::Plain)
    };
    let map = move |v: f64| {
        if log {
            v.max(1e-12).log10()
        } else {
            v * scale
        }
    };
    (y, map)
}

/// A y axis for counts (queue lengths) of series that may differ by orders
/// of magnitude: log from `floor` up, marked `(log scale)`, when the
/// largest series' peak is over 100 times the smallest one's (a peak below
/// `floor` counts as `floor`, and so is drawn any value below it); linear
/// from 0 otherwise. Returns the axis and the value-to-drawing map.
pub(crate) fn spread_axis<'a>(
    series: impl IntoIterator<Item = &'a [Option<Pt>]>,
    floor: f64,
    desc: &str,
) -> (Scale, impl Fn(f64) -> f64 + Copy) {
    let peaks: Vec<f64> = series.into_iter().map(|s| max_of([s])).collect();
    let hi = peaks.iter().copied().fold(0.0, f64::max);
    let lo = peaks.iter().map(|p| p.max(floor)).fold(hi, f64::min);
    let log = peaks.len() > 1 && hi > 100.0 * lo;
    let y = if log {
        log_axis(floor, hi, &format!("{desc} (log scale)"), Unit::Plain)
    } else {
        linear_axis(hi, desc, Unit::Plain)
    };
    let map = move |v: f64| if log { v.max(floor).log10() } else { v };
    (y, map)
}

/// Stacked areas of per-component series (bottom first) and a total line.
/// `pts[k]` are the bucket values of component `comps[k]`; missing values
/// count as 0. Returns the layers and the largest total.
pub(crate) fn stacked(
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
        let colour = palette(i);
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

fn draw_panel<DB: DrawingBackend>(
    p: &Panel,
    x: &TimeAxis,
    area: &DrawingArea<DB, Shift>,
    last: bool,
    right: u32,
) -> DrawResult {
    let f = Frame {
        top: if p.title.is_some() { 8 + TITLE_ROOM } else { 8 },
        right,
        bottom: if last { 8 } else { 0 },
        left: LEFT,
        x_area: if last { 50 } else { 30 },
        y_area: Y_AREA,
    };
    // Only the last panel describes the time axis.
    let xs = Scale {
        desc: if last {
            x.scale.desc.clone()
        } else {
            String::new()
        },
        ..x.scale.clone()
    };
    let mut chart = plot(area, p.title.as_deref(), &xs, &p.y, f, true)?;
    draw_layers(&mut chart, area, p, x)
}

fn draw_layers<DB: DrawingBackend>(
    chart: &mut Chart2d<DB>,
    area: &DrawingArea<DB, Shift>,
    p: &Panel,
    x: &TimeAxis,
) -> DrawResult {
    let (ylo, yhi) = (p.y.lo, p.y.hi);
    let xhi = x.scale.hi;
    let small = font(14).color(&MUTED);
    if x.warmup > 0.0 {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.0, ylo), (x.warmup.min(xhi), yhi)],
                MUTED.mix(0.10).filled(),
            )))
            .map_err(err)?;
        let y = yhi - (yhi - ylo) * 0.01;
        chart
            .draw_series(std::iter::once(Text::new(
                "warm-up".to_string(),
                (x.warmup.min(xhi), y),
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
            .draw_series(dashes([(0.0, *y), (xhi, *y)], *colour))
            .map_err(err)?;
        labels.push((chart.backend_coord(&(xhi, *y)), label, colour));
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
        centre_text(chart, &x.scale, &p.y, msg)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A series of `n` points of value `v`, `spike` at point 10.
    fn line(n: usize, v: f64, spike: f64) -> Vec<Option<Pt>> {
        (0..n)
            .map(|k| {
                let v = if k == 10 { spike } else { v };
                Some(Pt {
                    x: k as f64,
                    v,
                    lo: v,
                    hi: v,
                })
            })
            .collect()
    }

    #[test]
    fn one_spike_puts_latency_on_a_log_scale() {
        // p50 40 ms, p95 60 ms, p99 80 ms; one window at 3 s, 37x the p95
        // (and 75x the lowest value, which alone would keep it linear).
        let (p50, p95) = (line(60, 0.04, 0.5), line(60, 0.06, 2.0));
        let p99 = line(60, 0.08, 3.0);
        let lines = [p50.as_slice(), p95.as_slice(), p99.as_slice()];
        let (y, map) = latency_axis(lines, 0.25, "latency");
        assert!(y.log && y.desc == "latency (log scale)", "{}", y.desc);
        assert!((map(0.1) - -1.0).abs() < 1e-9);
        // Without the spike: linear, in ms.
        let calm = line(60, 0.08, 0.08);
        let (y, map) = latency_axis([p50.as_slice(), calm.as_slice()], 0.25, "latency");
        assert!(!y.log && y.desc == "latency (ms)", "{}", y.desc);
        assert_eq!(map(0.1), 100.0);
        // Job latencies of hours read in hours.
        let jobs = line(60, 3.0 * 3600.0, 3.5 * 3600.0);
        let (y, _) = latency_axis([jobs.as_slice()], 0.0, "job latency");
        assert_eq!(y.desc, "job latency (h)");
    }

    #[test]
    fn one_long_queue_puts_queues_on_a_log_scale() {
        let (small, huge) = (line(60, 2.0, 5.0), line(60, 1000.0, 660_000.0));
        let (y, map) = spread_axis([small.as_slice(), huge.as_slice()], 0.1, "queue");
        assert!(y.log && y.desc == "queue (log scale)");
        assert_eq!(map(0.0), -1.0);
        let (y, _) = spread_axis([small.as_slice(), small.as_slice()], 0.1, "queue");
        assert!(!y.log && y.desc == "queue");
    }
}
