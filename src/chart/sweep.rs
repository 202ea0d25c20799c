//! `sweep-<param>`: each plotted metric against one varied parameter.

use super::axis::{unquote, value_scale, Scale};
use super::draw::{
    centre_text, dot, err, error_bars, plot, Chart2d, DrawResult, Frame, PANEL_FRAME,
};
use super::figure::{key, Body, Figure, Header, Swatch};
use super::metric::{distinct_values, interval, metric_desc, metric_title, param_axis, unit_of};
use super::slug;
use super::style::{font, palette, text_width, TICK_SIZE, WIDTH};
use crate::study::{MetricStat, SweepResults};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The body of a `sweep-<param>` chart: small multiples, one panel per
/// metric, in `cols` columns over the parameter's axis `x`.
pub(crate) struct SweepPlot {
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

/// The `sweep-<param>` chart of parameter `p`: each metric of `metrics`
/// against it, one line per combination of the other parameters (those
/// of its zip group move with it: they are not lines of their own).
pub(crate) fn sweep_figure(r: &SweepResults, p: usize, metrics: &[usize]) -> Figure<SweepPlot> {
    let (vals, numeric) = distinct_values(r.points.iter().filter_map(|pt| pt.params.get(p)));
    let (x, pos) = param_axis(&vals, numeric, &r.params[p]);
    let pos_of = |text: &str| vals.iter().position(|v| v.text == text).map(|i| pos[i]);
    // One group per combination of the other parameters' values, in order
    // of appearance.
    let with = r.together(p);
    let others: Vec<usize> = (0..r.params.len()).filter(|q| !with.contains(q)).collect();
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
                colour: palette(k),
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
    let zipped: Vec<&str> = with
        .filter(|&q| q != p)
        .map(|q| r.params[q].as_str())
        .collect();
    if !zipped.is_empty() {
        head.subtitle.push(format!(
            "{} varies with it (a zip group).",
            zipped.join(", ")
        ));
    }
    if others.is_empty() {
        head.legend.push(key(
            format!("{} (mean, 95% CI)", r.params[p]),
            palette(0),
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
                .push(key(label.join(", "), palette(k), Swatch::LineDot));
        }
    }
    let cols = if panels.len() == 1 { 1 } else { 2 };
    let x_labels = if numeric {
        None
    } else {
        sweep_x_labels(&x, cols)
    };
    Figure {
        name: format!("sweep-{}", slug(&r.params[p])),
        head,
        body: SweepPlot {
            x,
            x_labels,
            cols,
            panels,
        },
    }
}

impl Body for SweepPlot {
    fn height(&self) -> u32 {
        let rows = self.panels.len().div_ceil(self.cols) as u32;
        let extra = self.x_labels.as_ref().map_or(0, XLabels::extra);
        rows * (extra + if self.cols == 1 { 460 } else { 370 })
    }

    fn draw<DB: DrawingBackend>(
        &self,
        _root: &DrawingArea<DB, Shift>,
        body: &DrawingArea<DB, Shift>,
    ) -> DrawResult {
        let rows = self.panels.len().div_ceil(self.cols);
        let areas = body.split_evenly((rows, self.cols));
        // With labels of our own, plotters draws the ticks without labels.
        let (x, frame) = match &self.x_labels {
            Some(l) => (
                Scale {
                    labels: Vec::new(),
                    ..self.x.clone()
                },
                Frame {
                    x_area: PANEL_FRAME.x_area + l.extra(),
                    ..PANEL_FRAME
                },
            ),
            None => (self.x.clone(), PANEL_FRAME),
        };
        for (panel, area) in self.panels.iter().zip(&areas) {
            let y = &panel.y;
            let mut chart = plot(area, Some(&panel.title), &x, y, frame, true)?;
            if let Some(l) = &self.x_labels {
                draw_x_labels(area, &chart, &self.x, l)?;
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
                centre_text(&mut chart, &self.x, y, "no data")?;
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- category labels

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
    pub(crate) fn extra(&self) -> u32 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::axis::category_scale;
    use crate::chart::style::fonts;

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
}
