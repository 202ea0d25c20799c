//! `llm`: token latencies, tokens/s, KV-cache use and batch size.

use super::axis::{linear_axis, percent_axis, Scale};
use super::figure::{key, Swatch};
use super::format::{fmt_secs, fmt_usd, Unit};
use super::style::{palette, SLO_RED};
use super::timeline::{dashed, latency_axis, max_of, series_layers, Panel, RunFigure};
use super::windows::Ctx;
use super::SERVING_CHART;
use crate::scenario::SloConfig;
use scalesim_models::system::TsRow;

/// The serving components' chart: token latencies (p99 time to first
/// token solid, per output token dashed, SLO bounds red), output tokens/s,
/// KV-cache use and requests per step, one colour per component.
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
        match (&j.ttft_s, &j.tpot_s) {
            (Some(t), Some(p)) => notes.push(format!(
                "{name}: TTFT p50 {} p99 {}, TPOT p50 {} p99 {}, {:.0} tokens/s on {:.1} GPUs, {} per 1M output tokens",
                fmt_secs(t.p50),
                fmt_secs(t.p99),
                fmt_secs(p.p50),
                fmt_secs(p.p99),
                j.output_tokens_per_s.unwrap_or(0.0),
                j.gpus_mean.unwrap_or(0.0),
                fmt_usd(j.cost_per_1m_output_tokens.unwrap_or(0.0))
            )),
            _ => notes.push(format!(
                "{name}: mean {:.1} requests per batch",
                j.batch_mean.unwrap_or(0.0)
            )),
        }
    }
    fig.head
        .subtitle
        .push(format!("After warm-up: {}.", notes.join("; ")));
    if !llms.is_empty() {
        let ttft: Vec<_> = llms
            .iter()
            .map(|&i| c.comp_series(i, |r| r.ttft_p99_s))
            .collect();
        let tpot: Vec<_> = llms
            .iter()
            .map(|&i| c.comp_series(i, |r| r.tpot_p99_s))
            .collect();
        let bounds: Vec<(String, f64)> = slo
            .run()
            .token_bounds()
            .into_iter()
            .filter(|b| b.1 == "p99")
            .map(|(w, _, b)| (w.to_uppercase(), b))
            .collect();
        let floor = bounds.iter().map(|b| b.1).fold(0.0, f64::max);
        let (y, map) = latency_axis(
            ttft.iter().chain(&tpot).map(|s| s.as_slice()),
            floor,
            "p99 per window",
        );
        let mut layers = Vec::new();
        for (k, &i) in llms.iter().enumerate() {
            let colour = palette(i);
            let name = &c.data.comps[i].0;
            layers.extend(series_layers(&ttft[k], colour, 2, false, map));
            layers.extend(dashed(series_layers(&tpot[k], colour, 2, false, map)));
            fig.head
                .legend
                .push(key(format!("{name}: TTFT p99"), colour, Swatch::Line));
            fig.head
                .legend
                .push(key(format!("{name}: TPOT p99"), colour, Swatch::Dashed));
        }
        let hlines: Vec<_> = bounds
            .iter()
            .map(|(label, b)| (map(*b), format!("{label} ≤ {}", fmt_secs(*b)), SLO_RED))
            .collect();
        if !hlines.is_empty() {
            fig.head
                .legend
                .push(key("SLO bound", SLO_RED, Swatch::Dashed));
        }
        let empty = ttft.iter().all(|s| s.iter().all(Option::is_none));
        fig.body.panels.push(Panel {
            y,
            layers,
            hlines,
            empty: empty.then(|| "no LLM request finished".into()),
        });
        let tokens = component_panel(
            c,
            &llms,
            |r| r.tokens_per_s,
            |max| linear_axis(max, "output tokens/s", Unit::Plain),
        );
        fig.body.panels.push(tokens);
        let kv = component_panel(
            c,
            &llms,
            |r| r.kv_use.map(|v| v * 100.0),
            |max| percent_axis(max, "KV-cache blocks in use"),
        );
        fig.body.panels.push(kv);
    }
    for &i in comps.iter().filter(|i| !llms.contains(i)) {
        fig.head.legend.push(key(
            format!("{}: batch", c.data.comps[i].0),
            palette(i),
            Swatch::Line,
        ));
    }
    let batch = component_panel(
        c,
        &comps,
        |r| r.batch_mean,
        |max| linear_axis(max, "requests per step", Unit::Plain),
    );
    fig.body.panels.push(batch);
    let tokens = if llms.is_empty() {
        ""
    } else {
        "p99 time to first token (solid) and per output token (dashed) of the requests that finished in each window; output tokens/s; KV-cache blocks in use (time average); "
    };
    fig.head.subtitle.push(format!(
        "Panels, top to bottom: {tokens}requests per engine step while stepping."
    ));
    fig.head
        .subtitle
        .extend(c.bucket_note("the lowest and highest window"));
    fig
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
    Panel {
        y: axis(max_of(series.iter().map(|s| s.as_slice()))),
        layers,
        hlines: Vec::new(),
        empty: None,
    }
}
