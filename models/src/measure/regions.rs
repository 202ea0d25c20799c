//! Results per region and per client area (`summary.regions`): what each
//! region served and cost, and what each area's users got.
//!
//! A region's figures sum its components (the copies placed in it, what
//! they run on, and the links that leave it, whose transfer it pays):
//! arrivals and latency are those of the users' requests it served (at
//! the components users reach it through: time in the region), errors
//! the visits lost, refused or timed out anywhere in it. An area's figures are its users' requests end
//! to end (its classes together) and the regions that served them.

use crate::measure::{ClassReport, ComponentReport, RunReport};
use crate::system::SystemConfig;
use scalesim_sim::stats::LatencyHist;

/// The figures of one region or client area after warm-up.
#[derive(Clone, Debug)]
pub struct PlaceReport {
    /// Its name.
    pub name: String,
    /// `"region"` or `"area"`.
    pub kind: &'static str,
    /// Region: the users' requests it served; area: its users' requests.
    pub arrived: u64,
    /// Of those, answered.
    pub completed: u64,
    /// Region: visits refused, timed out or lost in it; area: its users'
    /// requests that ended in an error.
    pub errors: u64,
    /// Region: those requests' time in the region; area: its users'
    /// end-to-end latency.
    pub latency: LatencyHist,
    /// Region: its ready instances, time-averaged (0 for an area).
    pub instances_mean: f64,
    /// Region: what it cost, USD, instances and bill lines (0 for an area).
    pub cost_usd: f64,
    /// Region: its components; area: its classes.
    pub members: Vec<String>,
    /// Area: requests per region that served them.
    pub served_by: Vec<(String, u64)>,
}

/// The region each component's figures count in: its own (a copy, or a
/// component placed with `region`), its parent's (`db@us-east-1/primary`),
/// or, for a link, the region it leaves (`eu-west-1->db`) or, from a client
/// area, the region of what it reaches.
fn region_of<'a>(cfg: &'a SystemConfig, name: &str) -> Option<&'a str> {
    let r = &cfg.regions;
    if let Some((from, to)) = name.split_once("->") {
        return match r.declared.iter().find(|(n, _)| n == from) {
            Some((n, _)) => Some(n.as_str()),
            None => region_of(cfg, to),
        };
    }
    let placed = name.split('/').next().unwrap_or(name);
    r.region_of(placed)
}

/// The regions and client areas of a run (empty without regions).
pub fn places(cfg: &SystemConfig, run: &RunReport) -> Vec<PlaceReport> {
    let mut out = Vec::new();
    let comps = &run.components;
    // Users' entries: what the links from client areas and the sources
    // lead to.
    let declared = |n: &str| cfg.regions.declared.iter().any(|(d, _)| d == n);
    let is_entry = |c: &ComponentReport| {
        let linked = cfg.components.iter().any(|(n, k)| {
            n.split_once("->").is_some_and(|(from, _)| !declared(from))
                && k.downstream().iter().any(|(_, t)| *t == c.name)
        });
        let direct = cfg
            .sources
            .iter()
            .any(|(_, s)| s.classes().iter().any(|k| k.to.as_deref() == Some(&c.name)));
        linked || direct
    };
    for (name, _) in &cfg.regions.declared {
        let mine: Vec<&ComponentReport> = comps
            .iter()
            .filter(|c| region_of(cfg, &c.name) == Some(name.as_str()))
            .collect();
        let mut p = PlaceReport {
            name: name.clone(),
            kind: "region",
            arrived: 0,
            completed: 0,
            errors: 0,
            latency: LatencyHist::new(),
            instances_mean: 0.0,
            cost_usd: 0.0,
            members: mine.iter().map(|c| c.name.clone()).collect(),
            served_by: Vec::new(),
        };
        for c in &mine {
            if is_entry(c) && !c.name.contains("->") {
                p.arrived += c.arrivals;
                p.completed += c.completions;
                p.latency.merge(&c.response);
            }
            p.errors += c.rejections + c.timed_out + c.failed;
            p.instances_mean += c.instances_mean;
            p.cost_usd += c.cost_usd.unwrap_or(0.0);
        }
        p.cost_usd += run
            .bill
            .lines
            .iter()
            .filter(|l| region_of(cfg, &l.component) == Some(name.as_str()))
            .map(|l| l.usd)
            .sum::<f64>();
        out.push(p);
    }
    for a in crate::traffic::areas(&cfg.sources) {
        let classes: Vec<&ClassReport> = run
            .classes
            .iter()
            .zip(cfg.sources.iter().flat_map(|(_, s)| s.classes()))
            .filter(|(_, k)| k.area.as_deref() == Some(a.as_str()))
            .map(|(c, _)| c)
            .collect();
        let mut latency = LatencyHist::new();
        classes.iter().for_each(|c| latency.merge(&c.latency));
        let prefix = format!("{a}->");
        let mut served_by: Vec<(String, u64)> = Vec::new();
        for c in comps.iter().filter(|c| c.name.starts_with(&prefix)) {
            let Some(r) = region_of(cfg, &c.name) else {
                continue;
            };
            match served_by.iter_mut().find(|(n, _)| n == r) {
                Some(e) => e.1 += c.arrivals,
                None => served_by.push((r.to_string(), c.arrivals)),
            }
        }
        out.push(PlaceReport {
            name: a,
            kind: "area",
            arrived: classes.iter().map(|c| c.arrived).sum(),
            completed: classes.iter().map(|c| c.completed).sum(),
            errors: classes.iter().map(|c| c.errors()).sum(),
            latency,
            instances_mean: 0.0,
            cost_usd: 0.0,
            members: classes.iter().map(|c| c.name.clone()).collect(),
            served_by,
        });
    }
    out
}
