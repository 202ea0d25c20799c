//! `cost`: cumulative cost per priced component, stacked.

use super::kit::*;
use super::timeline::*;
use super::windows::*;
use crate::output::human_secs;
use crate::scenario::SloConfig;
use plotters::prelude::*;
use scalesim_models::system::TsRow;

pub(crate) fn cost_figure(c: &Ctx) -> Figure {
    let mut fig = Figure::new("cost", c.title("cumulative cost"));
    let comps: Vec<usize> = (0..c.data.comps.len())
        .filter(|&i| {
            c.data.comps[i]
                .2
                .iter()
                .any(|r| r.is_some_and(|r| r.cost_usd.is_some()))
        })
        .collect();
    if comps.is_empty() {
        fig.subtitle
            .push("Cost accrued since the start, per priced component.".into());
        fig.message = Some(vec![
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
        fig.legend.push(legend(
            format!("{name}: {}", fmt_usd(total)),
            Ctx::colour(i),
            Swatch::Area,
        ));
    }
    let k = &c.summary.cost_usd;
    if comps.len() > 1 {
        fig.legend.push(legend(
            format!("total: {}", fmt_usd(k.total)),
            TOTAL,
            Swatch::Line,
        ));
    }
    fig.subtitle.push(format!(
        "{} over {} (stacked by component); after warm-up {}/hour, {}/month projected, {} per 1k requests.",
        fmt_usd(k.total),
        human_secs(c.summary.simulated_s),
        fmt_usd(k.per_hour),
        fmt_usd(k.projected_month),
        fmt_usd(k.per_1k_requests)
    ));
    let (layers, max) = stacked(c, &comps, &pts, Some(0.0));
    fig.panels.push(Panel {
        y: linear_axis(max, "cumulative cost (USD)", fmt_usd_tick),
        layers,
        hlines: Vec::new(),
        empty: None,
    });
    fig
}
