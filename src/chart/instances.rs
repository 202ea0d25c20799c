//! `instances`: desired and ready instances of each fleet that changes
//! size; the fixed-size ones are named in the subtitle.

use super::axis::count_axis;
use super::figure::{key, Swatch};
use super::incidents::incident_layers;
use super::style::{palette, DESIRED};
use super::timeline::{max_of, series_layers, Layer, Panel, RunFigure};
use super::windows::Ctx;
use scalesim_models::system::TsRow;

/// At most this many fixed-size fleets are named in the subtitle.
const NAMED: usize = 6;

/// The `instances` chart: one panel per fleet whose size changes (an
/// autoscaled pool, a rollout, failures), its ready instances as an area
/// and its desired ones (ready + provisioning, warming or down) as a line. Fleets
/// of a fixed size (cache nodes, databases, static pools) are only named
/// in the subtitle, so they neither stack on the scaled pods nor flatten
/// them.
pub(crate) fn instances_figure<'a>(c: &'a Ctx) -> RunFigure<'a> {
    let mut fig = c.figure("instances", "desired and ready instances");
    // Job queues run no instances of their own (their workers do).
    let queues = c.queues();
    let fleets: Vec<usize> = (0..c.data.comps.len())
        .filter(|&i| !queues.contains(&i) && c.reports(i, |r| r.instances.is_some()))
        .collect();
    let (elastic, fixed): (Vec<usize>, Vec<usize>) =
        fleets.iter().partition(|&&i| changes_size(c, i));
    let fixed_note = fixed_fleets(c, &fixed);
    if elastic.is_empty() {
        fig.body.message = Some(vec![
            "No fleet changes size in this run.".into(),
            fixed_note.map_or_else(
                || "No component reports instances.".into(),
                |n| format!("Fixed size: {n}."),
            ),
            "An [autoscaler.<pool>] scales a pool: its desired and ready instances are drawn here."
                .into(),
        ]);
        return fig;
    }
    let mut line =
        String::from("Desired = ready + provisioning, warming or down for repair or an outage.");
    if let Some(note) = fixed_note {
        line.push_str(&format!("  Fixed size, not drawn: {note}."));
    }
    fig.head.subtitle = vec![line];
    let mut marks = Vec::new();
    for &i in &elastic {
        let name = &c.data.comps[i].0;
        let ready = c.comp_series(i, |r| r.instances.map(f64::from));
        let desired = c.comp_series(i, |r| r.instances_desired.or(r.instances).map(f64::from));
        let max = max_of([ready.as_slice(), desired.as_slice()]);
        let colour = palette(i);
        let (mut layers, keys) = incident_layers(&c.run.incidents, Some(name));
        for k in keys {
            if !marks
                .iter()
                .any(|m: &super::figure::Key| m.label == k.label)
            {
                marks.push(k);
            }
        }
        layers.push(Layer::Area {
            lower: ready.iter().flatten().map(|p| (p.x, 0.0)).collect(),
            upper: ready.iter().flatten().map(|p| (p.x, p.v)).collect(),
            colour,
            opacity: 0.35,
        });
        layers.extend(series_layers(&ready, colour, 2, c.banded(), |v| v));
        layers.extend(series_layers(&desired, DESIRED, 2, false, |v| v));
        let (lo, hi) = range(c, i, |r| r.instances);
        let mut title = format!("{name}: {lo}–{hi} ready");
        let (_, dhi) = range(c, i, |r| r.instances_desired);
        if dhi > hi {
            title.push_str(&format!(", desired up to {dhi}"));
        }
        if let Some(j) = c.component(name) {
            let (outs, ins) = (j.scale_outs.unwrap_or(0), j.scale_ins.unwrap_or(0));
            if outs + ins > 0 {
                title.push_str(&format!("; {outs} scale-outs, {ins} scale-ins"));
            }
            if let Some(n) = j.evictions {
                title.push_str(&format!("; {n} pods evicted to resize them"));
            }
        }
        fig.head
            .legend
            .push(key(format!("{name} ready"), colour, Swatch::Area(0.35)));
        fig.body
            .panels
            .push(Panel::new(count_axis(max, "instances"), layers).titled(title));
    }
    fig.head.legend.push(key(
        "desired (ready + provisioning, warming or down)",
        DESIRED,
        Swatch::Line,
    ));
    fig.head.legend.extend(marks);
    fig
}

/// Whether fleet `i`'s ready or desired instances change during the run.
fn changes_size(c: &Ctx, i: usize) -> bool {
    let name = &c.data.comps[i].0;
    let resized = c
        .run
        .incidents
        .iter()
        .any(|x| &x.component == name && x.what.starts_with("evicted"));
    if resized {
        return true;
    }
    let size = |w: usize| c.data.comps[i].2[w].map(|r| (r.instances, r.instances_desired));
    let mut sizes = (0..c.data.len()).filter_map(size);
    let first = sizes.next();
    sizes.any(|s| Some(s) != first)
}

/// The lowest and highest value of `f` over fleet `i`'s windows.
fn range(c: &Ctx, i: usize, f: impl Fn(&TsRow) -> Option<u32>) -> (u32, u32) {
    c.data.comps[i]
        .2
        .iter()
        .filter_map(|r| r.and_then(&f))
        .fold((u32::MAX, 0), |(a, b), n| (a.min(n), b.max(n)))
}

/// `workers 64, api 24, redis 2 nodes and 3 more (99 in all)`: the fleets
/// of `fixed` with any instance, largest first.
fn fixed_fleets(c: &Ctx, fixed: &[usize]) -> Option<String> {
    let mut sizes: Vec<(u32, usize)> = fixed
        .iter()
        .map(|&i| (range(c, i, |r| r.instances).1, i))
        .filter(|s| s.0 > 0)
        .collect();
    if sizes.is_empty() {
        return None;
    }
    sizes.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let total: u32 = sizes.iter().map(|s| s.0).sum();
    let named: Vec<String> = sizes
        .iter()
        .take(NAMED)
        .map(|&(n, i)| {
            let (name, kind) = (&c.data.comps[i].0, c.data.comps[i].1);
            match (kind, n) {
                ("cache", 1) => format!("{name} 1 node"),
                ("cache", _) => format!("{name} {n} nodes"),
                _ => format!("{name} {n}"),
            }
        })
        .collect();
    let mut text = named.join(", ");
    if sizes.len() > NAMED {
        text.push_str(&format!(" and {} more", sizes.len() - NAMED));
    }
    if sizes.len() > 1 {
        text.push_str(&format!(" ({total} in all)"));
    }
    Some(text)
}
