//! `cost`: cost per hour per priced component, stacked, then the
//! cumulative cost.

use super::axis::linear_axis;
use super::figure::{key, Swatch};
use super::format::{fmt_dur, fmt_usd, Unit};
use super::style::{palette, TOTAL};
use super::timeline::{stacked, Layer, Panel, RunFigure};
use super::windows::Ctx;
use scalesim_models::fleet::cost::HOURS_PER_MONTH;

/// The `cost` chart: what each priced component costs per hour in each
/// window, stacked, with the total (the legend gives each one's rate after
/// warm-up); below, the cost accrued since the start (or a message when
/// nothing is priced).
pub(crate) fn cost_figure<'a>(c: &'a Ctx) -> RunFigure<'a> {
    let mut fig = c.figure("cost", "cost per hour");
    let comps: Vec<usize> = c.reporting(|r| r.cost_usd.is_some());
    if comps.is_empty() {
        fig.head.subtitle = vec!["Cost per hour of each priced component.".into()];
        fig.body.message = Some(vec![
            "No priced components in this scenario.".into(),
            "Give a component an instance_type (from the built-in catalog)".into(),
            "or a price_per_hour to see its cost over time here.".into(),
        ]);
        return fig;
    }
    // Cost accrued in each window, as USD per hour.
    let per_hour: Vec<_> = comps
        .iter()
        .map(|&i| {
            let rows = &c.data.comps[i].2;
            c.series(|w| {
                let now = rows[w].and_then(|r| r.cost_usd)?;
                let before = w
                    .checked_sub(1)
                    .and_then(|p| rows[p])
                    .and_then(|r| r.cost_usd)
                    .unwrap_or(0.0);
                let dt = c.data.dt[w];
                Some(((now - before) / dt * 3600.0, dt))
            })
        })
        .collect();
    // Each component's cost per hour after warm-up.
    for &i in &comps {
        let name = &c.data.comps[i].0;
        let month = c.component(name).and_then(|j| j.cost_per_month);
        fig.head.legend.push(key(
            format!(
                "{name}: {}/h",
                fmt_usd(month.unwrap_or(0.0) / HOURS_PER_MONTH)
            ),
            palette(i),
            Swatch::Area(0.55),
        ));
    }
    let k = &c.summary.cost_usd;
    // The bill's other lines (load balancers, storage, managed requests)
    // are not in the time series: the drawn total is the instances', and
    // the subtitle says how much is not drawn.
    let other = k.lines.iter().filter_map(|l| l.per_month).sum::<f64>() / HOURS_PER_MONTH;
    let (label, not_drawn) = if other > 0.0 {
        (
            "instances",
            format!(" ({}/hour of other bill lines not drawn)", fmt_usd(other)),
        )
    } else {
        ("total", String::new())
    };
    fig.head.legend.push(key(
        format!("{label}: {}/h", fmt_usd(k.per_hour - other)),
        TOTAL,
        Swatch::Line,
    ));
    fig.head.subtitle = vec![format!(
        "{} over {}; after warm-up {}/hour{not_drawn}, {}, {} per 1k requests.",
        fmt_usd(k.total),
        fmt_dur(c.summary.simulated_s),
        fmt_usd(k.per_hour),
        k.month_text(),
        fmt_usd(k.per_1k_requests)
    )];
    let (layers, max) = stacked(c, &comps, &per_hour, Some(f64::NAN));
    let y = linear_axis(max, "USD per hour", Unit::Usd);
    fig.body
        .panels
        .push(Panel::new(y, layers).titled("cost per hour, stacked by component"));
    let cumulative: Vec<(f64, f64)> = std::iter::once((0.0, 0.0))
        .chain(
            c.last(|w| c.data.system[w].cost_usd)
                .into_iter()
                .flatten()
                .map(|p| (p.x, p.v)),
        )
        .collect();
    let max = cumulative.iter().map(|p| p.1).fold(0.0, f64::max);
    let line = Layer::Line {
        segments: vec![cumulative],
        colour: TOTAL,
        width: 2,
        dashed: false,
    };
    let y = linear_axis(max, "USD", Unit::Usd);
    fig.body
        .panels
        .push(Panel::new(y, vec![line]).titled(if other > 0.0 {
            "cumulative cost of the instances since the start"
        } else {
            "cumulative cost since the start"
        }));
    fig
}
