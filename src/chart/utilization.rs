//! `utilization`: utilization and queue length per pool, queue depths.

use super::axis::percent_axis;
use super::figure::{key, Swatch};
use super::format::fmt_dur;
use super::style::palette;
use super::timeline::{dashed, max_of, series_layers, spread_axis, Panel, RunFigure};
use super::windows::Ctx;

/// A queue panel on a log scale starts at this length: shorter mean
/// queues are drawn at it (a tenth of a request waiting, on average).
const QUEUE_FLOOR: f64 = 0.1;

/// The `utilization` chart: utilization per pool, then mean queue
/// length per pool and each job queue's depth (dashed), on a log scale
/// when one queue is orders of magnitude longer than another.
pub(crate) fn utilization_figure<'a>(c: &'a Ctx) -> RunFigure<'a> {
    let queues = c.queues();
    let title = if queues.is_empty() {
        "utilization and queue length per pool"
    } else {
        "utilization and queue length per pool, queue depth"
    };
    let mut fig = c.figure("utilization", title);
    let pools: Vec<usize> = c.reporting(|r| r.utilization.is_some());
    let queue_len = |i: usize| c.comp_series(i, |r| r.queue_len);
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
    for &i in &queues {
        let name = &c.data.comps[i].0;
        if let Some(j) = c.component(name) {
            parts.push(format!(
                "{name}: mean depth {:.2} jobs, mean job wait {}",
                j.mean_queue_len.unwrap_or(0.0),
                fmt_dur(j.mean_wait_s.unwrap_or(0.0))
            ));
        }
    }
    let utilization = |i: usize| c.component(&c.data.comps[i].0).and_then(|j| j.utilization);
    let busiest = pools
        .iter()
        .filter_map(|&i| utilization(i).map(|u| (u, i)))
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
    if let Some((u, i)) = busiest {
        parts.push(format!(
            "busiest pool {} {:.1}% busy",
            c.data.comps[i].0,
            u * 100.0
        ));
    }
    fig.head.subtitle = vec![if parts.is_empty() {
        "Time averages per window.".to_string()
    } else {
        format!("After warm-up: {}.", parts.join("; "))
    }];
    if pools.is_empty() && queues.is_empty() {
        fig.body.message = Some(vec!["This scenario has no server pools.".into()]);
        return fig;
    }
    let util: Vec<_> = pools
        .iter()
        .map(|&i| c.comp_series(i, |r| r.utilization.map(|u| u * 100.0)))
        .collect();
    let (qy, qmap) = spread_axis(
        queue.iter().chain(&depth).map(Vec::as_slice),
        QUEUE_FLOOR,
        if queues.is_empty() {
            "mean queue length (requests)"
        } else {
            "mean queue length / depth"
        },
    );
    let mut ul = Vec::new();
    let mut ql = Vec::new();
    for (k, &i) in pools.iter().enumerate() {
        let colour = palette(i);
        ul.extend(series_layers(&util[k], colour, 2, c.banded(), |v| v));
        ql.extend(series_layers(&queue[k], colour, 2, c.banded(), qmap));
        let name = &c.data.comps[i].0;
        let label = match utilization(i) {
            Some(u) => format!("{name} {:.1}% busy", u * 100.0),
            None => name.clone(),
        };
        fig.head.legend.push(key(label, colour, Swatch::Line));
    }
    // Queue depths last, dashed and on top: a depth often runs on its
    // workers' queue line (whose band then shows its range already).
    for (k, &i) in queues.iter().enumerate() {
        let colour = palette(i);
        let pool = same_as(i);
        let band = c.banded() && pool.is_none();
        ql.extend(dashed(series_layers(&depth[k], colour, 3, band, qmap)));
        let name = &c.data.comps[i].0;
        let label = match pool {
            Some(p) => format!("{name} (queue depth: the queue of {p})"),
            None => format!("{name} (queue depth)"),
        };
        fig.head.legend.push(key(label, colour, Swatch::Dashed));
    }
    if !pools.is_empty() {
        let umax = max_of(util.iter().map(Vec::as_slice));
        let y = percent_axis(umax, "utilization (% of slots busy)");
        fig.body
            .panels
            .push(Panel::new(y, ul).titled("utilization of each pool, time average per window"));
    }
    let title = if queues.is_empty() {
        "mean queue length of each pool (requests waiting for a slot)"
    } else {
        "mean queue length of each pool; depth of each job queue (dashed)"
    };
    fig.body.panels.push(Panel::new(qy, ql).titled(title));
    fig
}
