//! `load`: offered load and throughput, rejections and load forecasts,
//! and the virtual users of closed loops and sessions.

use super::axis::{count_axis, linear_axis};
use super::figure::{key, Swatch};
use super::format::{fmt_rate, Unit};
use super::style::{DESIRED, FAILED, OFFERED, SLO_RED, THROUGHPUT, TIMED_OUT, USERS};
use super::timeline::{max_of, series_layers, Layer, Panel, RunFigure};
use super::windows::{Ctx, Pt};

/// The `load` chart: offered load as a light area, throughput on top,
/// rejections/s when any and each forecasting autoscaler's forecast.
pub(crate) fn load_figure<'a>(c: &'a Ctx) -> RunFigure<'a> {
    let mut fig = c.figure("load", "offered load and throughput");
    let s = c.summary;
    let offered = c.rate(|r| r.arrivals);
    let done = c.rate(|r| r.completions);
    let rejected_total: u64 = c.data.system.iter().map(|r| r.rejections).sum();
    let rejects = c.rate(|r| r.rejections);
    let timed_out_total: u64 = c.data.system.iter().map(|r| r.timed_out).sum();
    let timeouts = c.rate(|r| r.timed_out);
    let failed_total: u64 = c.data.system.iter().map(|r| r.failed).sum();
    let failures = c.rate(|r| r.failed);
    let offered_rps = if s.measured_s > 0.0 {
        s.requests.arrived as f64 / s.measured_s
    } else {
        0.0
    };
    fig.head.subtitle = vec![format!(
        "After warm-up: offered {} req/s, throughput {} req/s, {} rejected{}{} (error rate {:.3}%).",
        fmt_rate(offered_rps),
        fmt_rate(s.throughput_rps),
        s.requests.rejected,
        match s.requests.timed_out {
            0 => String::new(),
            n => format!(", {n} timed out"),
        },
        match s.requests.failed {
            0 => String::new(),
            n => format!(", {n} lost to failures"),
        },
        s.error_rate * 100.0
    )];
    // Forecasting autoscalers: their load forecast for each moment.
    let forecasts: Vec<(usize, Vec<Option<Pt>>)> = c
        .reporting(|r| r.forecast_rps.is_some())
        .into_iter()
        .map(|i| {
            (
                i,
                c.series(|w| {
                    c.data.comps[i].2[w]
                        .and_then(|r| r.forecast_rps)
                        .map(|f| (f, c.data.dt[w]))
                }),
            )
        })
        .collect();
    let mut series: Vec<&[Option<Pt>]> = vec![&offered, &done];
    if rejected_total > 0 {
        series.push(&rejects);
    }
    if timed_out_total > 0 {
        series.push(&timeouts);
    }
    if failed_total > 0 {
        series.push(&failures);
    }
    series.extend(forecasts.iter().map(|f| f.1.as_slice()));
    let y = linear_axis(max_of(series), "requests per second", Unit::Plain);
    let mut layers = Vec::new();
    // Offered load as a light filled area, so throughput stays readable on top.
    let pts: Vec<Pt> = offered.iter().flatten().copied().collect();
    layers.push(Layer::Area {
        lower: pts.iter().map(|p| (p.x, 0.0)).collect(),
        upper: pts.iter().map(|p| (p.x, p.v)).collect(),
        colour: OFFERED,
        opacity: 0.12,
    });
    layers.extend(series_layers(&offered, OFFERED, 2, c.banded(), |v| v));
    // No band for throughput: it follows the offered load's band.
    layers.extend(series_layers(&done, THROUGHPUT, 2, false, |v| v));
    fig.head.legend.push(key(
        "offered load (arrivals/s)",
        OFFERED,
        Swatch::Area(0.55),
    ));
    fig.head
        .legend
        .push(key("throughput (completions/s)", THROUGHPUT, Swatch::Line));
    if rejected_total > 0 {
        layers.extend(series_layers(&rejects, SLO_RED, 2, c.banded(), |v| v));
        fig.head
            .legend
            .push(key("rejections/s (queue full)", SLO_RED, Swatch::Line));
    }
    if timed_out_total > 0 {
        layers.extend(series_layers(&timeouts, TIMED_OUT, 2, c.banded(), |v| v));
        fig.head.legend.push(key(
            "timed out/s (past a timeout or queue_timeout)",
            TIMED_OUT,
            Swatch::Line,
        ));
    }
    if failed_total > 0 {
        layers.extend(series_layers(&failures, FAILED, 2, c.banded(), |v| v));
        fig.head.legend.push(key(
            "failed/s (lost to an instance failure)",
            FAILED,
            Swatch::Line,
        ));
    }
    for (i, f) in &forecasts {
        layers.extend(series_layers(f, DESIRED, 2, false, |v| v));
        let name = &c.data.comps[*i].0;
        fig.head.legend.push(key(
            format!("forecast of {name}'s load"),
            DESIRED,
            Swatch::Line,
        ));
    }
    let with_users = !s.virtual_users.is_empty();
    let panel = Panel {
        empty: pts.is_empty().then(|| "no traffic recorded".into()),
        ..Panel::new(y, layers)
    };
    fig.body.panels.push(if with_users {
        panel.titled("requests per second")
    } else {
        panel
    });
    if with_users {
        fig.body.panels.push(users_panel(c));
    }
    fig
}

/// Virtual users in the loop (closed loops and sessions, all sources):
/// the load a closed system offers follows them, X = N / (R + Z).
fn users_panel(c: &Ctx) -> Panel {
    let users = c.series(|w| c.data.system[w].users.map(|u| (u, c.data.dt[w])));
    let mut layers = vec![Layer::Area {
        lower: users.iter().flatten().map(|p| (p.x, 0.0)).collect(),
        upper: users.iter().flatten().map(|p| (p.x, p.v)).collect(),
        colour: USERS,
        opacity: 0.2,
    }];
    layers.extend(series_layers(&users, USERS, 2, c.banded(), |v| v));
    let title = c
        .summary
        .virtual_users
        .0
        .iter()
        .map(|(name, u)| {
            let mut t = format!("{name}: mean {:.0}, at most {}", u.mean, u.max);
            if let Some(x) = u.sessions_per_s {
                t.push_str(&format!(", {} sessions/s finished", fmt_rate(x)));
            }
            t
        })
        .collect::<Vec<_>>()
        .join("; ");
    Panel::new(
        count_axis(max_of([users.as_slice()]), "virtual users"),
        layers,
    )
    .titled(format!("virtual users in the loop — {title}"))
}
