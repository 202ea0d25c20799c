//! What went wrong, drawn over the timeline panels: outages as shaded
//! bands, instance failures and spot reclaims as solid vertical rules,
//! health-check ejections, spot notices and a VPA's evictions as dashed
//! ones — so a reader
//! sees the latency rise or the instances fall where the incident struck
//! (`incidents.csv` lists the same events).

use super::figure::{key, Key, Swatch};
use super::style::{FAILED, SLO_RED};
use super::timeline::Layer;
use plotters::style::RGBColor;
use scalesim_models::system::Incident;

/// Beyond any axis: bands and rules are clamped to the panel.
const FAR: f64 = 1e300;

/// Ejections by health checks.
const EJECTED: RGBColor = RGBColor(0xe6, 0x7e, 0x22);
/// Spot interruption notices.
const SPOT: RGBColor = RGBColor(0x7b, 0x3f, 0xa0);
/// Evictions by a vertical autoscaler.
const EVICTED: RGBColor = RGBColor(0x16, 0xa0, 0x85);

/// Kills by the kernel's OOM killer.
const OOM: RGBColor = RGBColor(0xb8, 0x5c, 0x00);

/// The kinds of mark, in legend order: (what starts with, colour,
/// dashed, legend label).
const MARKS: [(&str, RGBColor, bool, &str); 6] = [
    ("failed", FAILED, false, "instance failure"),
    ("reclaimed", FAILED, false, "spot instance reclaimed"),
    ("ejected", EJECTED, true, "ejected by health checks"),
    ("spot interruption", SPOT, true, "spot interruption notice"),
    ("evicted", EVICTED, true, "evicted to resize (VPA)"),
    ("out of memory", OOM, false, "OOM kill"),
];

/// The layers marking `incidents` (of `component` only, when given; every
/// outage is shaded either way) and the legend keys of what they show.
pub(crate) fn incident_layers(
    incidents: &[Incident],
    component: Option<&str>,
) -> (Vec<Layer>, Vec<Key>) {
    let mut layers = Vec::new();
    let mut keys = Vec::new();
    // Outages: "down" .. "back up" of a zone or a component.
    let mut open: Vec<(&str, f64)> = Vec::new();
    let mut bands = Vec::new();
    for i in incidents {
        match i.what {
            "down" => open.push((i.component.as_str(), i.t_s)),
            "back up" => {
                if let Some(k) = open.iter().position(|o| o.0 == i.component) {
                    bands.push((open.remove(k).1, i.t_s));
                }
            }
            _ => {}
        }
    }
    let end = incidents.last().map_or(0.0, |i| i.t_s);
    bands.extend(open.iter().map(|o| (o.1, end.max(o.1))));
    for &(a, b) in &bands {
        layers.push(Layer::Area {
            lower: vec![(a, -FAR), (b, -FAR)],
            upper: vec![(a, FAR), (b, FAR)],
            colour: SLO_RED,
            opacity: 0.10,
        });
    }
    if !bands.is_empty() {
        keys.push(key("outage", SLO_RED, Swatch::Area(0.10)));
    }
    for (prefix, colour, dashed, label) in MARKS {
        let xs: Vec<f64> = incidents
            .iter()
            .filter(|i| i.what.starts_with(prefix))
            .filter(|i| component.is_none_or(|c| c == i.component))
            .map(|i| i.t_s)
            .collect();
        if xs.is_empty() {
            continue;
        }
        layers.push(Layer::Line {
            segments: xs.iter().map(|&x| vec![(x, -FAR), (x, FAR)]).collect(),
            colour,
            width: 1,
            dashed,
        });
        if !keys.iter().any(|k| k.label == label) {
            keys.push(key(
                label,
                colour,
                if dashed { Swatch::Dashed } else { Swatch::Line },
            ));
        }
    }
    (layers, keys)
}
