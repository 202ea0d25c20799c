//! `llm`: token latencies, tokens/s, KV-cache use and batch size.

use super::axis::{linear_axis, percent_axis, Scale};
use super::figure::{key, Swatch};
use super::format::{fmt_dur, fmt_rate, fmt_secs, fmt_usd, Unit};
use super::style::{palette, SLO_RED};
use super::timeline::{latency_axis, max_of, series_layers, Panel, RunFigure};
use super::windows::Ctx;
use super::SERVING_CHART;
use crate::scenario::SloConfig;
use scalesim_models::system::TsRow;

/// The token latencies drawn, each in its own panel: what the SLO calls
/// it, its axis name, the panel's title and its figure in a window's row.
type TokenLatency = (
    &'static str,
    &'static str,
    &'static str,
    fn(&TsRow) -> Option<f64>,
);

const TOKEN_LATENCIES: [TokenLatency; 2] = [
    (
        "ttft",
        "TTFT p99",
        "p99 time to first token (TTFT) of the requests that finished in each window",
        |r| r.ttft_p99_s,
    ),
    (
        "tpot",
        "TPOT p99",
        "p99 time per output token (TPOT) after the first",
        |r| r.tpot_p99_s,
    ),
];

/// The serving components' chart, one colour per component: p99 time to
/// first token and p99 time per output token, each on its own axis with
/// its SLO bound (red), output tokens/s and KV-cache use of the LLM
/// components, and requests per engine step of every serving component.
pub(crate) fn serving_figure<'a>(c: &'a Ctx, slo: &SloConfig) -> RunFigure<'a> {
    let comps = c.serving();
    let llms: Vec<usize> = comps
        .iter()
        .copied()
        .filter(|&i| c.reports(i, |r| r.kv_use.is_some()))
        .collect();
    let mut fig = c.figure(SERVING_CHART.0, SERVING_CHART.1);
    let mut notes = Vec::new();
    for &i in &comps {
        let name = &c.data.comps[i].0;
        let Some(j) = c.component(name) else { continue };
        let label = match (&j.ttft_s, &j.tpot_s) {
            (Some(t), Some(p)) => {
                notes.push(format!(
                    "{name} {} tokens/s on {:.1} GPUs, {} per 1M output tokens",
                    fmt_rate(j.output_tokens_per_s.unwrap_or(0.0)),
                    j.gpus_mean.unwrap_or(0.0),
                    fmt_usd(j.cost_per_1m_output_tokens.unwrap_or(0.0))
                ));
                format!(
                    "{name}: TTFT p99 {}, TPOT p99 {}",
                    fmt_dur(t.p99),
                    fmt_dur(p.p99)
                )
            }
            _ => format!(
                "{name}: {:.1} requests per batch",
                j.batch_mean.unwrap_or(0.0)
            ),
        };
        fig.head.legend.push(key(label, palette(i), Swatch::Line));
    }
    fig.head.subtitle = vec![if notes.is_empty() {
        "Requests per engine step of each batch component.".to_string()
    } else {
        format!("After warm-up: {}.", notes.join("; "))
    }];
    if !llms.is_empty() {
        let bounds = slo.run().token_bounds();
        for (what, desc, title, f) in TOKEN_LATENCIES {
            let bound = bounds
                .iter()
                .find(|b| b.0 == what && b.1 == "p99")
                .map(|b| b.2);
            fig.body
                .panels
                .push(token_panel(c, &llms, f, bound, desc).titled(title));
        }
        if !bounds.is_empty() {
            fig.head
                .legend
                .push(key("SLO bound", SLO_RED, Swatch::Dashed));
        }
        let tokens = component_panel(
            c,
            &llms,
            |r| r.tokens_per_s,
            |max| linear_axis(max, "output tokens/s", Unit::Plain),
        );
        fig.body
            .panels
            .push(tokens.titled("output tokens per second"));
        let kv = component_panel(
            c,
            &llms,
            |r| r.kv_use.map(|v| v * 100.0),
            |max| percent_axis(max, "KV-cache blocks in use"),
        );
        fig.body
            .panels
            .push(kv.titled("KV-cache blocks in use, time average"));
    }
    let batch = component_panel(
        c,
        &comps,
        |r| r.batch_mean,
        |max| linear_axis(max, "requests per step", Unit::Plain),
    );
    fig.body
        .panels
        .push(batch.titled("requests per engine step while stepping"));
    fig
}

/// A token latency's panel: figure `f` (p99 seconds) of each of `llms`,
/// with its SLO `bound` as a red line, on its own latency axis.
fn token_panel(
    c: &Ctx,
    llms: &[usize],
    f: fn(&TsRow) -> Option<f64>,
    bound: Option<f64>,
    desc: &str,
) -> Panel {
    let series: Vec<_> = llms.iter().map(|&i| c.comp_series(i, f)).collect();
    let (y, map) = latency_axis(series.iter().map(Vec::as_slice), bound.unwrap_or(0.0), desc);
    let mut layers = Vec::new();
    for (pts, &i) in series.iter().zip(llms) {
        layers.extend(series_layers(pts, palette(i), 2, c.banded(), map));
    }
    let what = desc.split(' ').next().unwrap_or(desc);
    let empty = series.iter().all(|s| s.iter().all(Option::is_none));
    Panel {
        hlines: bound
            .map(|b| (map(b), format!("{what} ≤ {}", fmt_secs(b)), SLO_RED))
            .into_iter()
            .collect(),
        empty: empty.then(|| "no LLM request finished".into()),
        ..Panel::new(y, layers)
    }
}

/// A panel with one line (and band) per component of `comps`, figure `f`
/// of its rows, on the axis `axis` makes for the largest value.
fn component_panel(
    c: &Ctx,
    comps: &[usize],
    f: impl Fn(&TsRow) -> Option<f64> + Copy,
    axis: impl Fn(f64) -> Scale,
) -> Panel {
    let series: Vec<_> = comps.iter().map(|&i| c.comp_series(i, f)).collect();
    let mut layers = Vec::new();
    for (pts, &i) in series.iter().zip(comps) {
        layers.extend(series_layers(pts, palette(i), 2, c.banded(), |v| v));
    }
    Panel::new(axis(max_of(series.iter().map(|s| s.as_slice()))), layers)
}
