//! Plots and marks: a plot with the house mesh, markers, interval bars,
//! and labels placed clear of the data.

use super::axis::{Axis, Scale};
use super::style::{bold, font, text_width, DESC_SIZE, GRID, GRID_LIGHT, MUTED, TICK_SIZE};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::error::Error;

type BoxError = Box<dyn Error + Send + Sync>;
pub(crate) type DrawResult = Result<(), BoxError>;
pub(crate) type Chart2d<'a, DB> = ChartContext<'a, DB, Cartesian2d<Axis, Axis>>;

pub(crate) fn err<E: std::fmt::Display>(e: E) -> BoxError {
    e.to_string().into()
}

/// The size of a panel's title.
const PANEL_TITLE_SIZE: u32 = 17;

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

impl Frame {
    /// A chart builder on `area` with this frame.
    pub(crate) fn on<'a, 'b, DB: DrawingBackend>(
        &self,
        area: &'a DrawingArea<DB, Shift>,
    ) -> ChartBuilder<'a, 'b, DB> {
        let mut b = ChartBuilder::on(area);
        b.margin_top(self.top)
            .margin_right(self.right)
            .margin_bottom(self.bottom)
            .margin_left(self.left)
            .x_label_area_size(self.x_area)
            .y_label_area_size(self.y_area);
        b
    }
}

/// The frame of a study chart with one plot as wide as the chart.
pub(crate) const PLOT_FRAME: Frame = Frame {
    top: 14,
    right: 36,
    bottom: 8,
    left: 14,
    x_area: 56,
    y_area: 100,
};

/// The frame of a study chart's panels.
pub(crate) const PANEL_FRAME: Frame = Frame {
    top: 40,
    right: 28,
    bottom: 6,
    left: 10,
    x_area: 52,
    y_area: 92,
};

/// A plot on `area` with the house mesh (grid lines unless `grid` is
/// false; no x description when `x.desc` is empty) and an optional title
/// above it.
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
            bold(PANEL_TITLE_SIZE),
        ))
        .map_err(err)?;
    }
    let mut chart = f
        .on(area)
        .build_cartesian_2d(x.axis(), y.axis())
        .map_err(err)?;
    mesh(&mut chart, x, y, grid)?;
    Ok(chart)
}

/// The house mesh on `chart`: labels of `x` and `y`, their descriptions,
/// grid lines unless `grid` is false.
pub(crate) fn mesh<DB: DrawingBackend>(
    chart: &mut Chart2d<DB>,
    x: &Scale,
    y: &Scale,
    grid: bool,
) -> DrawResult {
    let xl = |v: &f64| x.label_at(*v);
    let yl = |v: &f64| y.label_at(*v);
    let mut m = chart.configure_mesh();
    m.x_label_formatter(&xl)
        .y_label_formatter(&yl)
        .y_desc(y.desc.clone())
        .label_style(font(TICK_SIZE))
        .axis_desc_style(font(DESC_SIZE))
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(GRID_LIGHT.stroke_width(1))
        .axis_style(MUTED.stroke_width(1))
        .set_all_tick_mark_size(4);
    if !x.desc.is_empty() {
        m.x_desc(x.desc.clone());
    }
    if !grid {
        m.disable_mesh();
    }
    m.draw().map_err(err)
}

/// A line in the house dash (10 px dashes, 6 px apart, 2 px wide): bounds
/// and secondary series.
pub(crate) fn dashes<I>(points: I, colour: RGBColor) -> DashedLineSeries<I::IntoIter, i32>
where
    I: IntoIterator,
    I::IntoIter: Clone,
{
    DashedLineSeries::new(points, 10, 6, colour.stroke_width(2))
}

/// A filled marker with a white ring, so overlapping markers stay apart.
pub(crate) fn dot(
    c: (f64, f64),
    r: i32,
    colour: RGBColor,
) -> impl Iterator<Item = Circle<(f64, f64), i32>> {
    [
        Circle::new(c, r + 2, WHITE.filled()),
        Circle::new(c, r, colour.filled()),
    ]
    .into_iter()
}

/// A segment between two points, in drawing units.
type Segment = ((f64, f64), (f64, f64));

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

/// A label's anchor point and its width and height, in pixels.
pub(crate) type Anchored = ((i32, i32), (i32, i32));
/// A pixel rectangle: left, top, right, bottom.
pub(crate) type Rect = (i32, i32, i32, i32);

fn overlap(a: Rect, b: Rect) -> i64 {
    let w = (a.2.min(b.2) - a.0.max(b.0)).max(0) as i64;
    let h = (a.3.min(b.3) - a.1.max(b.1)).max(0) as i64;
    w * h
}

/// Chooses where each label goes around its anchor point (pixels) so that
/// labels overlap neither each other, nor `obstacles`, nor leave `bounds`
/// when avoidable. Returns each label's top-left corner.
pub(crate) fn place_labels(
    items: &[Anchored],
    obstacles: &[Rect],
    bounds: Rect,
) -> Vec<(i32, i32)> {
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
