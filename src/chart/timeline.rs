//! The panels of a run's charts: layers over simulated time.

use super::kit::*;
use super::windows::*;
use super::kit::DrawResult;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One plotting area with its y axis.
pub(crate) struct Panel {
    pub(crate) y: YAxis,
    pub(crate) layers: Vec<Layer>,
    /// Horizontal reference lines: (y, label, colour).
    pub(crate) hlines: Vec<(f64, String, RGBColor)>,
    /// Drawn in the middle of the plot when there is no data.
    pub(crate) empty: Option<String>,
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

/// A latency y axis for `lines`, reaching at least `floor_hi` (s): linear,
/// in milliseconds below one second, or log when a few slow windows would
/// flatten the rest. Returns the axis and the seconds-to-drawing map.
pub(crate) fn latency_axis<'a>(
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

pub(crate) fn draw_panel<DB: DrawingBackend>(
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

pub(crate) fn draw_layers<DB: DrawingBackend>(
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
