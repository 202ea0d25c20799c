//! `instances`: instances per component, stacked, and the desired fleet.

use super::axis::count_axis;
use super::figure::{key, Swatch};
use super::style::{palette, DESIRED, TOTAL};
use super::timeline::{series_layers, stacked, Panel, RunFigure};
use super::windows::Ctx;
use crate::output::human_secs;

/// The `instances` chart: instances per component, stacked, with the
/// total and, when an autoscaler boots instances, the desired fleet.
pub(crate) fn instances_figure<'a>(c: &'a Ctx) -> RunFigure<'a> {
    let mut fig = c.figure("instances", "instances per component");
    // Job queues run no instances of their own (their workers do).
    let queues = c.queues();
    let comps: Vec<usize> = (0..c.data.comps.len())
        .filter(|&i| !queues.contains(&i) && c.reports(i, |r| r.instances.is_some()))
        .collect();
    let value = |i: usize, w: usize| c.data.comps[i].2[w].and_then(|r| r.instances);
    let pts: Vec<_> = comps
        .iter()
        .map(|&i| c.series(|w| value(i, w).map(|n| (n as f64, c.data.dt[w]))))
        .collect();
    let mut total_lo = u64::MAX;
    let mut total_hi = 0u64;
    for w in 0..c.data.len() {
        let n: u64 = comps
            .iter()
            .filter_map(|&i| value(i, w))
            .map(u64::from)
            .sum();
        total_lo = total_lo.min(n);
        total_hi = total_hi.max(n);
    }
    for &i in &comps {
        let (lo, hi) = (0..c.data.len())
            .filter_map(|w| value(i, w))
            .fold((u32::MAX, 0), |(a, b), n| (a.min(n), b.max(n)));
        let range = if lo == hi {
            format!("{hi}")
        } else {
            format!("{lo}–{hi}")
        };
        fig.head.legend.push(key(
            format!("{}: {range}", c.data.comps[i].0),
            palette(i),
            Swatch::Area(0.55),
        ));
    }
    if comps.len() > 1 {
        fig.head.legend.push(key("total", TOTAL, Swatch::Line));
    }
    let fleet = if total_lo == total_hi || comps.is_empty() {
        format!("{} instances", total_hi)
    } else {
        format!("{total_lo} to {total_hi} instances")
    };
    fig.head.subtitle.push(format!(
        "Stacked by component (pool servers, cache nodes); the whole fleet: {fleet}."
    ));
    if c.banded() {
        fig.head.subtitle.push(format!(
            "Each point is the time average of {} windows of {}.",
            c.buckets.k,
            human_secs(c.data.dt.first().copied().unwrap_or(0.0))
        ));
    }
    if comps.is_empty() {
        fig.body.message = Some(vec!["No component reports instances.".into()]);
        return fig;
    }
    let (mut layers, mut max) = stacked(c, &comps, &pts, Some(f64::NAN));
    // Desired capacity (ready + booting) of the whole fleet, when an
    // autoscaler made it differ from the ready count.
    let desired = |w: usize| -> Option<f64> {
        let mut any = false;
        let n: f64 = comps
            .iter()
            .filter_map(|&i| c.data.comps[i].2[w])
            .map(|r| {
                any = true;
                r.instances_desired.or(r.instances).unwrap_or(0) as f64
            })
            .sum();
        any.then_some(n)
    };
    let differs = (0..c.data.len()).any(|w| {
        comps.iter().any(|&i| {
            c.data.comps[i].2[w].is_some_and(|r| r.instances_pending.is_some_and(|p| p > 0))
        })
    });
    if differs {
        let d = c.series(|w| desired(w).map(|n| (n, c.data.dt[w])));
        max = d.iter().flatten().map(|p| p.hi).fold(max, f64::max);
        layers.extend(series_layers(&d, DESIRED, 2, false, |v| v));
        fig.head
            .legend
            .push(key("desired (incl. booting)", DESIRED, Swatch::Line));
    }
    fig.body.panels.push(Panel {
        y: count_axis(max, "instances"),
        layers,
        hlines: Vec::new(),
        empty: None,
    });
    fig
}
