//! `pareto`, `pareto-tokens`: cost against latency, the Pareto frontier
//! highlighted.

use super::axis::{fitted_scale, unquote, Scale, LINEAR};
use super::draw::{
    boxed_text, dot, err, error_bars, place_labels, plot, Anchored, DrawResult, Frame, Rect,
    PLOT_FRAME,
};
use super::figure::{key as key_entry, Body, Figure, Header, Swatch};
use super::format::{plural, Unit};
use super::metric::{interval, last_segment};
use super::style::{bold, font, text_width, DESIRED, MARGIN, MUTED, PALETTE, TEXT, WIDTH};
use crate::study::{MetricStat, ParamValue, SweepResults};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

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

/// The body of a Pareto chart: every configuration, the frontier and
/// its labels, numbers on the other configurations, and the key of the
/// numbers below.
pub(crate) struct ParetoPlot {
    x: Scale,
    y: Scale,
    /// (p99, cost) of every point with both means.
    pts: Vec<(MetricStat, MetricStat)>,
    /// Indices into `pts`, by increasing p99.
    front: Vec<usize>,
    /// What is written next to each frontier point (aligned with `front`):
    /// its parameters, or its number in the key.
    front_marks: Vec<String>,
    /// The dominated points that carry a number (indices into `pts`, in
    /// sweep order), and their numbers.
    others: Vec<(usize, String)>,
    /// The key of the numbers.
    key: Vec<KeySection>,
}

/// A titled list of numbered configurations, in columns.
struct KeySection {
    title: String,
    colour: RGBColor,
    /// (number, parameters).
    entries: Vec<(String, String)>,
    col_w: i32,
    rows: usize,
}

impl KeySection {
    fn new(title: String, colour: RGBColor, entries: Vec<(String, String)>) -> Self {
        let widest = entries
            .iter()
            .map(|(n, l)| text_width(&format!("{n}  {l}"), 14, false))
            .max()
            .unwrap_or(0);
        let col_w = widest + 36;
        let cols = ((WIDTH as i32 - 2 * MARGIN) / col_w).clamp(1, 4) as usize;
        let rows = entries.len().div_ceil(cols);
        KeySection {
            title,
            colour,
            entries,
            col_w,
            rows,
        }
    }

    fn height(&self) -> i32 {
        KEY_TITLE + self.rows as i32 * KEY_ROW
    }
}

/// Frontier and highlight colour.
const HIGHLIGHT: RGBColor = DESIRED;
/// Past this many frontier points, the plot numbers them and a key below
/// it lists their parameters.
const MAX_FRONT_LABELS: usize = 8;
/// Past this many dominated points, they carry no number (points.csv
/// lists them).
const MAX_NUMBERED: usize = 40;
const PARETO_PLOT_HEIGHT: u32 = 640;
const KEY_ROW: i32 = 22;
/// Height of a key section's title line.
const KEY_TITLE: i32 = 36;

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
pub(crate) struct ParetoSpec {
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
pub(crate) const PARETOS: [ParetoSpec; 2] = [
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

/// The Pareto chart `spec` of a sweep, when it measured both metrics
/// and some point has both means.
pub(crate) fn pareto_figure(r: &SweepResults, spec: &ParetoSpec) -> Option<Figure<ParetoPlot>> {
    let (lat, cost) = (r.metric(spec.x)?, r.metric(spec.y)?);
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
    let label = |i: usize| short_label(r, &which[i].params);
    let numbered = front.len() > MAX_FRONT_LABELS;
    let mut key = Vec::new();
    let front_marks: Vec<String> = if numbered {
        let entries: Vec<(String, String)> = front
            .iter()
            .enumerate()
            .map(|(k, &i)| ((k + 1).to_string(), label(i)))
            .collect();
        let marks = entries.iter().map(|e| e.0.clone()).collect();
        key.push(KeySection::new(
            format!("Pareto frontier, by increasing {}:", spec.x_label),
            HIGHLIGHT,
            entries,
        ));
        marks
    } else {
        front.iter().map(|&i| label(i)).collect()
    };
    let dominated: Vec<usize> = (0..pts.len()).filter(|i| !front.contains(i)).collect();
    let first = if numbered { front.len() + 1 } else { 1 };
    let others: Vec<(usize, String)> = if dominated.len() <= MAX_NUMBERED {
        dominated
            .iter()
            .enumerate()
            .map(|(k, &i)| (i, (first + k).to_string()))
            .collect()
    } else {
        Vec::new()
    };
    if !others.is_empty() {
        key.push(KeySection::new(
            "Other configurations (grey numbers):".into(),
            MUTED,
            others.iter().map(|(i, n)| (n.clone(), label(*i))).collect(),
        ));
    }
    // An interval reaching 0 does not keep latencies that span a factor
    // 10 off a log axis: its bar runs to the axis.
    let xs: Vec<f64> = pts
        .iter()
        .flat_map(|(a, _)| [a.mean, interval(a).0, a.hi()])
        .filter(|&v| v > 0.0)
        .collect();
    let ys: Vec<f64> = pts
        .iter()
        .flat_map(|(_, b)| [b.mean, interval(b).0, b.hi()])
        .collect();
    let x = fitted_scale(&xs, Unit::Secs, spec.x_label, 10.0);
    let y = fitted_scale(&ys, Unit::Usd, spec.y_label, LINEAR);
    let mut subtitle = vec![
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
    ];
    if !dominated.is_empty() && others.is_empty() {
        subtitle.push(format!(
            "The {} other configurations are not numbered: points.csv lists them.",
            dominated.len()
        ));
    }
    let head = Header {
        title: format!("{}: {}", r.scenario, spec.title),
        subtitle,
        legend: vec![
            key_entry("configuration", PALETTE[0], Swatch::Dot),
            key_entry("Pareto frontier", HIGHLIGHT, Swatch::LineDot),
            key_entry(
                "dominated: another configuration is cheaper and faster",
                MUTED,
                Swatch::Area(0.35),
            ),
        ],
    };
    Some(Figure {
        name: spec.name.into(),
        head,
        body: ParetoPlot {
            x,
            y,
            pts,
            front,
            front_marks,
            others,
            key,
        },
    })
}

impl Body for ParetoPlot {
    fn height(&self) -> u32 {
        let key: i32 = self.key.iter().map(KeySection::height).sum();
        PARETO_PLOT_HEIGHT + key.max(0) as u32 + if self.key.is_empty() { 0 } else { 8 }
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        body: &DrawingArea<DB, Shift>,
    ) -> DrawResult {
        let (x, y) = (&self.x, &self.y);
        let f = Frame {
            top: 12,
            ..PLOT_FRAME
        };
        let (area, below) = body.split_vertically(PARETO_PLOT_HEIGHT);
        let mut chart = plot(&area, None, x, y, f, true)?;
        let at = |i: usize| (x.at_in(self.pts[i].0.mean), y.at_in(self.pts[i].1.mean));
        // The staircase of the frontier, and the region it dominates.
        let mut stair_px: Vec<(i32, i32)> = Vec::new();
        let mut stair = Vec::new();
        for (k, &i) in self.front.iter().enumerate() {
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
        for (a, b) in &self.pts {
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
            .draw_series((0..self.pts.len()).flat_map(|i| dot(at(i), 5, PALETTE[0])))
            .map_err(err)?;
        chart
            .draw_series(self.front.iter().flat_map(|&i| dot(at(i), 7, HIGHLIGHT)))
            .map_err(err)?;
        // Labels of the frontier, placed clear of the points and each other.
        let px: Vec<(i32, i32)> = (0..self.pts.len())
            .map(|i| chart.backend_coord(&at(i)))
            .collect();
        // Unnumbered points keep a wider berth, so that no label seems to
        // name them.
        let numbered = |i: usize| self.front.contains(&i) || self.others.iter().any(|o| o.0 == i);
        let mut obstacles: Vec<Rect> = px
            .iter()
            .enumerate()
            .map(|(i, &(a, b))| {
                let r = if numbered(i) { 8 } else { 16 };
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
        // (point, text, size, colour): the frontier first, then the others.
        let marks: Vec<(usize, &str, u32, RGBColor)> = self
            .front
            .iter()
            .zip(&self.front_marks)
            .map(|(&i, l)| (i, l.as_str(), 14, TEXT))
            .chain(self.others.iter().map(|(i, n)| (*i, n.as_str(), 12, MUTED)))
            .collect();
        let items: Vec<Anchored> = marks
            .iter()
            .map(|&(i, l, size, _)| (px[i], (text_width(l, size, false), size as i32 + 2)))
            .collect();
        let spots = place_labels(&items, &obstacles, (xr.start, yr.start, xr.end, yr.end));
        for (&(_, l, size, colour), spot) in marks.iter().zip(spots) {
            boxed_text(root, l, spot, size, colour)?;
        }
        // The key of the numbers, a section each, in columns.
        let mut top = 8;
        for sec in &self.key {
            below
                .draw(&Text::new(sec.title.clone(), (MARGIN, top), bold(15)))
                .map_err(err)?;
            for (k, (n, l)) in sec.entries.iter().enumerate() {
                let (c, r) = (k / sec.rows, k % sec.rows);
                let (lx, ly) = (MARGIN + c as i32 * sec.col_w, top + 28 + r as i32 * KEY_ROW);
                below
                    .draw(&Text::new(
                        n.clone(),
                        (lx + 22, ly),
                        bold(14)
                            .color(&sec.colour)
                            .pos(Pos::new(HPos::Right, VPos::Top)),
                    ))
                    .map_err(err)?;
                below
                    .draw(&Text::new(l.clone(), (lx + 30, ly), font(14)))
                    .map_err(err)?;
            }
            top += sec.height();
        }
        Ok(())
    }
}
