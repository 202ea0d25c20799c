//! `capacity-probes`: each objective at every probe of a capacity search.

use super::axis::{fitted_scale, value_scale, Scale, LINEAR};
use super::capacity::objectives_text;
use super::draw::{
    centre_text, dashes, dot, err, error_bars, plot, DrawResult, Frame, PANEL_FRAME,
};
use super::figure::{key, Body, Figure, Header, Swatch};
use super::format::{fmt_num, fmt_usd_short, fmt_value, plural, Unit};
use super::metric::{interval, unit_of};
use super::style::{font, MUTED, PALETTE, SLO_RED, THROUGHPUT};
use crate::study::{CapacityResult, CapacityRow, MetricStat};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One panel of the `capacity-probes` chart: an objective's metric at
/// every probe, its bound, and the capacity found.
pub(crate) struct ProbePanel {
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

/// The `capacity-probes` chart of `row`, a search without `per`: one
/// panel per objective.
pub(crate) fn probes_figure(r: &CapacityResult, row: &CapacityRow) -> Figure<Vec<ProbePanel>> {
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
            key("capacity and its 95% range", PALETTE[0], Swatch::Area(0.35)),
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
        body: panels,
    }
}

impl Body for Vec<ProbePanel> {
    fn height(&self) -> u32 {
        self.len() as u32 * 380
    }

    fn draw<DB: DrawingBackend>(
        &self,
        _root: &DrawingArea<DB, Shift>,
        body: &DrawingArea<DB, Shift>,
    ) -> DrawResult {
        if self.is_empty() {
            return Ok(());
        }
        let areas = body.split_evenly((self.len(), 1));
        for (p, area) in self.iter().zip(&areas) {
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
                        .draw_series(dashes([(x.lo, by), (x.hi, by)], SLO_RED))
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
