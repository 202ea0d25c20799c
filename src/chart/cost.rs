//! `cost`: cumulative cost per priced component, stacked.

use super::axis::linear_axis;
use super::figure::{key, Swatch};
use super::format::{fmt_usd, Unit};
use super::style::{palette, TOTAL};
use super::timeline::{stacked, Panel, RunFigure};
use super::windows::Ctx;
use crate::output::human_secs;

/// The `cost` chart: cumulative cost per priced component, stacked,
/// with the total (or a message when nothing is priced).
pub(crate) fn cost_figure<'a>(c: &'a Ctx) -> RunFigure<'a> {
    let mut fig = c.figure("cost", "cumulative cost");
    let comps: Vec<usize> = c.reporting(|r| r.cost_usd.is_some());
    if comps.is_empty() {
        fig.head
            .subtitle
            .push("Cost accrued since the start, per priced component.".into());
        fig.body.message = Some(vec![
            "No priced components in this scenario.".into(),
            "Give a component an instance_type (from the built-in catalog)".into(),
            "or a price_per_hour to see its cost over time here.".into(),
        ]);
        return fig;
    }
    let pts: Vec<_> = comps
        .iter()
        .map(|&i| c.last(|w| c.data.comps[i].2[w].and_then(|r| r.cost_usd)))
        .collect();
    for &i in &comps {
        let name = &c.data.comps[i].0;
        let total = c
            .summary
            .components
            .0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, j)| j.cost_usd)
            .unwrap_or(0.0);
        fig.head.legend.push(key(
            format!("{name}: {}", fmt_usd(total)),
            palette(i),
            Swatch::Area(0.55),
        ));
    }
    let k = &c.summary.cost_usd;
    if comps.len() > 1 {
        fig.head.legend.push(key(
            format!("total: {}", fmt_usd(k.total)),
            TOTAL,
            Swatch::Line,
        ));
    }
    fig.head.subtitle.push(format!(
        "{} over {} (stacked by component); after warm-up {}/hour, {}, {} per 1k requests.",
        fmt_usd(k.total),
        human_secs(c.summary.simulated_s),
        fmt_usd(k.per_hour),
        k.month_text(),
        fmt_usd(k.per_1k_requests)
    ));
    let (layers, max) = stacked(c, &comps, &pts, Some(0.0));
    fig.body.panels.push(Panel {
        y: linear_axis(max, "cumulative cost (USD)", Unit::Usd),
        layers,
        hlines: Vec::new(),
        empty: None,
    });
    fig
}
