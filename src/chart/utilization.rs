//! `utilization`: utilization and queue length per pool, queue depths.

use super::axis::{linear_axis, percent_axis};
use super::figure::{key, Swatch};
use super::format::{fmt_secs, Unit};
use super::style::palette;
use super::timeline::{dashed, max_of, series_layers, Panel, RunFigure};
use super::windows::Ctx;

/// The `utilization` chart: utilization per pool, then mean queue
/// length per pool and each job queue's depth (dashed).
pub(crate) fn utilization_figure<'a>(c: &'a Ctx) -> RunFigure<'a> {
    let queues = c.queues();
    let title = if queues.is_empty() {
        "utilization and queue length per pool"
    } else {
        "utilization and queue length per pool, queue depth"
    };
    let mut fig = c.figure("utilization", title);
    let pools: Vec<usize> = c.reporting(|r| r.utilization.is_some());
    let queue_len = |i: usize| {
        c.series(|w| c.data.comps[i].2[w].and_then(|r| r.queue_len.map(|q| (q, c.data.dt[w]))))
    };
    let queue: Vec<_> = pools.iter().map(|&i| queue_len(i)).collect();
    let depth: Vec<_> = queues.iter().map(|&i| queue_len(i)).collect();
    // A pool whose queue holds exactly a queue's waiting jobs (its
    // workers, fed by nothing else) draws the same line as its depth.
    let same_as = |i: usize| -> Option<&str> {
        pools
            .iter()
            .find(|&&p| {
                let (a, b) = (&c.data.comps[i].2, &c.data.comps[p].2);
                let mut busy = false;
                let same = a.iter().zip(b).all(|(x, y)| {
                    match (x.and_then(|r| r.queue_len), y.and_then(|r| r.queue_len)) {
                        (Some(x), Some(y)) => {
                            busy |= x > 0.0;
                            (x - y).abs() <= 1e-9 * x.abs().max(1.0)
                        }
                        (None, None) => true,
                        _ => false,
                    }
                });
                same && busy
            })
            .map(|&p| c.data.comps[p].0.as_str())
    };
    let mut parts = Vec::new();
    for (name, comp) in &c.summary.components.0 {
        if comp.kind == "queue" {
            let mut part = format!(
                "{name}: mean depth {:.2} jobs, mean job wait {}",
                comp.mean_queue_len.unwrap_or(0.0),
                fmt_secs(comp.mean_wait_s.unwrap_or(0.0))
            );
            let i = c.data.comps.iter().position(|x| &x.0 == name);
            if let Some(pool) = i.and_then(same_as) {
                part.push_str(&format!(
                    " (its jobs wait in the queue of {pool}: the two lines coincide)"
                ));
            }
            parts.push(part);
        } else if let Some(u) = comp.utilization {
            parts.push(format!(
                "{name}: {:.1}% busy, mean queue {:.2}",
                u * 100.0,
                comp.mean_queue_len.unwrap_or(0.0)
            ));
        } else if let Some(h) = comp.hit_ratio {
            parts.push(format!("{name}: {:.1}% cache hits", h * 100.0));
        }
    }
    fig.head
        .subtitle
        .push(format!("After warm-up: {}.", parts.join("; ")));
    fig.head
        .subtitle
        .extend(c.bucket_note("the lowest and highest window values"));
    if pools.is_empty() && queues.is_empty() {
        fig.body.message = Some(vec!["This scenario has no server pools.".into()]);
        return fig;
    }
    let util: Vec<_> = pools
        .iter()
        .map(|&i| {
            c.series(|w| {
                c.data.comps[i].2[w].and_then(|r| r.utilization.map(|u| (u * 100.0, c.data.dt[w])))
            })
        })
        .collect();
    let mut ul = Vec::new();
    let mut ql = Vec::new();
    for (k, &i) in pools.iter().enumerate() {
        let colour = palette(i);
        ul.extend(series_layers(&util[k], colour, 2, c.banded(), |v| v));
        ql.extend(series_layers(&queue[k], colour, 2, c.banded(), |v| v));
        fig.head
            .legend
            .push(key(c.data.comps[i].0.clone(), colour, Swatch::Line));
    }
    // Queue depths last, dashed and on top: a depth often runs on its
    // workers' queue line (whose band then shows its range already).
    for (k, &i) in queues.iter().enumerate() {
        let colour = palette(i);
        let band = c.banded() && same_as(i).is_none();
        ql.extend(dashed(series_layers(&depth[k], colour, 3, band, |v| v)));
        fig.head.legend.push(key(
            format!("{} (queue depth)", c.data.comps[i].0),
            colour,
            Swatch::Dashed,
        ));
    }
    if !pools.is_empty() {
        let umax = max_of(util.iter().map(Vec::as_slice));
        fig.body.panels.push(Panel {
            y: percent_axis(umax, "utilization (% of slots busy)"),
            layers: ul,
            hlines: Vec::new(),
            empty: None,
        });
    }
    let qmax = max_of(queue.iter().chain(&depth).map(Vec::as_slice));
    fig.body.panels.push(Panel {
        y: linear_axis(
            qmax,
            if queues.is_empty() {
                "mean queue length (requests)"
            } else {
                "mean queue length / depth"
            },
            Unit::Plain,
        ),
        layers: ql,
        hlines: Vec::new(),
        empty: None,
    });
    fig
}
