//! `capacity`, `capacity-inverse`: capacity per value of the `per`
//! parameter, and the value needed for a given load.

use super::axis::{unquote, value_scale, Scale, LINEAR};
use super::draw::{
    boxed_text, centre_text, dashes, dot, err, error_bars, mesh, plot, DrawResult, Frame,
    PLOT_FRAME,
};
use super::figure::{key, Body, Figure, Header, Swatch};
use super::format::{fmt_num, plural, Unit};
use super::metric::{distinct_values, last_segment, param_axis};
use super::style::{font, text_width, DESC_SIZE, MUTED, PALETTE, SLO_RED, TEXT, TICK_SIZE};
use crate::study::{CapacityResult, CapacityRow, ParamValue};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The body of the `capacity` chart: capacity per `per` value with its
/// range, and the cost at capacity on a right axis.
pub(crate) struct CapacityPlot {
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

pub(crate) fn objectives_text(r: &CapacityResult) -> String {
    if r.objectives.is_empty() {
        "its objectives".into()
    } else {
        r.objectives.join(" and ")
    }
}

/// The `capacity` chart of a search with a `per` parameter.
pub(crate) fn capacity_figure(r: &CapacityResult) -> Figure<CapacityPlot> {
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
        body: CapacityPlot {
            x,
            y,
            y2,
            pts,
            fails,
        },
    }
}

impl Body for CapacityPlot {
    fn height(&self) -> u32 {
        560
    }

    fn draw<DB: DrawingBackend>(
        &self,
        _root: &DrawingArea<DB, Shift>,
        body: &DrawingArea<DB, Shift>,
    ) -> DrawResult {
        let (x, y, y2) = (&self.x, &self.y, &self.y2);
        let mut chart = Frame {
            right: 14,
            ..PLOT_FRAME
        }
        .on(body)
        .right_y_label_area_size(110)
        .build_cartesian_2d(x.axis(), y.axis())
        .map_err(err)?
        .set_secondary_coord(x.axis(), y2.axis());
        // After `set_secondary_coord`, so that the right axis is the secondary's.
        mesh(&mut chart, x, y, true)?;
        let y2l = |v: &f64| y2.label_at(*v);
        chart
            .configure_secondary_axes()
            .y_label_formatter(&y2l)
            .y_desc(y2.desc.clone())
            .label_style(font(TICK_SIZE))
            .axis_desc_style(font(DESC_SIZE))
            .axis_style(MUTED.stroke_width(1))
            .set_all_tick_mark_size(4)
            .draw()
            .map_err(err)?;
        // Cost at capacity, on the right axis.
        let cost: Vec<(f64, f64)> = self
            .pts
            .iter()
            .filter(|p| p.4.is_finite())
            .map(|p| (p.0, y2.at_in(p.4)))
            .collect();
        let orange = PALETTE[1];
        chart
            .draw_secondary_series(dashes(cost.clone(), orange))
            .map_err(err)?;
        chart
            .draw_secondary_series(cost.iter().map(|&p| {
                EmptyElement::at(p) + Rectangle::new([(-4, -4), (4, 4)], orange.filled())
            }))
            .map_err(err)?;
        // Capacity with its range.
        let blue = PALETTE[0];
        chart
            .draw_series(LineSeries::new(
                self.pts.iter().map(|p| (p.0, y.at_in(p.1))),
                blue.stroke_width(3),
            ))
            .map_err(err)?;
        let bars: Vec<_> = self
            .pts
            .iter()
            .filter(|p| p.2.is_finite() && p.3.is_finite() && p.3 > p.2)
            .map(|p| ((p.0, y.at_in(p.2)), (p.0, y.at_in(p.3))))
            .collect();
        error_bars(&mut chart, &bars, blue.stroke_width(2), 6)?;
        chart
            .draw_series(
                self.pts
                    .iter()
                    .flat_map(|p| dot((p.0, y.at_in(p.1)), 6, blue)),
            )
            .map_err(err)?;
        chart
            .draw_series(self.pts.iter().map(|p| {
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
                self.fails
                    .iter()
                    .map(|&fx| Cross::new((fx, y.lo), 7, SLO_RED.stroke_width(3))),
            )
            .map_err(err)?;
        if self.pts.is_empty() && self.fails.is_empty() {
            centre_text(&mut chart, x, y, "no data")?;
        }
        Ok(())
    }
}

/// The body of the `capacity-inverse` chart: the step function of the
/// smallest `per` value that carries a load.
pub(crate) struct InversePlot {
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

/// The `capacity-inverse` chart of a search with a `per` parameter.
pub(crate) fn inverse_figure(r: &CapacityResult) -> Figure<InversePlot> {
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
            Swatch::Area(0.35),
        ));
    }
    Figure {
        name: "capacity-inverse".into(),
        head,
        body: InversePlot {
            x,
            y,
            steps,
            safe,
            per_name,
        },
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

impl Body for InversePlot {
    fn height(&self) -> u32 {
        520
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        body: &DrawingArea<DB, Shift>,
    ) -> DrawResult {
        let (x, y) = (&self.x, &self.y);
        let mut chart = plot(body, None, x, y, PLOT_FRAME, true)?;
        if self.steps.is_empty() {
            return centre_text(&mut chart, x, y, "no tested value meets the objectives");
        }
        let max = self.steps.last().map_or(0.0, |s| s.1);
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
                        format!("beyond every tested {}", self.per_name),
                        (0, -10),
                        font(15)
                            .color(&SLO_RED)
                            .pos(Pos::new(HPos::Center, VPos::Bottom)),
                    ),
            ))
            .map_err(err)?;
        if !self.safe.is_empty() {
            chart
                .draw_series(dashes(step_path(&self.safe), PALETTE[1]))
                .map_err(err)?;
        }
        let blue = PALETTE[0];
        chart
            .draw_series(LineSeries::new(
                step_path(&self.steps),
                blue.stroke_width(3),
            ))
            .map_err(err)?;
        chart
            .draw_series(self.steps.iter().flat_map(|s| dot((s.1, s.2), 5, blue)))
            .map_err(err)?;
        // Each run labelled with its value and how far it carries, right of
        // its end (where the next, higher run leaves room), or above the run
        // when that would leave the plot.
        let right_edge = chart.plotting_area().get_pixel_range().0.end;
        for s in &self.steps {
            let label = format!("{}={}: up to {}", self.per_name, s.3, fmt_num(s.1));
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
