//! Regions: where each component runs, and the network between them.
//!
//! A scenario declares its regions (`[regions.us-east-1]`) and places
//! components in them: `region = "us-east-1"` for one that runs in one
//! region (a primary database), or `regions = ["us-east-1", "eu-west-1"]`
//! for one written once and run in each, as copies named
//! `<name>@<region>` (the scenario loader makes the copies, with each
//! region's `per_region` overrides). Then [`place`] wires them: a call to
//! a component that has copies goes to the caller's region's copy, and a
//! call that crosses regions goes through a [`crate::kinds::link`] that
//! holds it for the round trip of the two regions ([`matrix`], or the
//! `rtt` the scenario gives). The engine never hears of regions: after
//! placement they are ordinary components.

pub mod matrix;

use crate::dist::DistConfig;
use crate::kinds::dns::Record;
use crate::kinds::link::{LinkConfig, Transfer};
use crate::kinds::ComponentConfig;
use crate::system::ConfigIssue;
use crate::traffic::SourceConfig;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// `[regions.<name>]`: a region the system runs in. Its name is its AWS
/// code (`us-east-1`) for the published round trips to apply.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RegionConfig {
    /// Round trips to other regions and client areas, over the defaults:
    /// `rtt = { "us-west-2" = "70ms", europe = { dist = "lognormal", mean
    /// = "25ms", cv = 0.4 } }`.
    #[serde(default)]
    pub rtt: BTreeMap<String, DistConfig>,
}

/// Where things run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Regions {
    /// The declared regions, in file order.
    pub declared: Vec<(String, RegionConfig)>,
    /// Component -> the region it runs in (a copy `api@us-east-1`, or
    /// one placed with `region = "..."`).
    pub placement: BTreeMap<String, String>,
    /// Components written once for several regions -> those regions.
    pub copies: BTreeMap<String, Vec<String>>,
}

impl Regions {
    /// Whether the scenario has no regions.
    pub fn is_empty(&self) -> bool {
        self.declared.is_empty() && self.placement.is_empty()
    }

    /// The region component `name` runs in, if it is placed.
    pub fn region_of(&self, name: &str) -> Option<&str> {
        self.placement.get(name).map(String::as_str)
    }

    /// The law of the round trip between two places (regions or client
    /// areas): the scenario's `rtt` (either way), else the published
    /// default; `Err` says what to write.
    pub fn rtt(&self, a: &str, b: &str) -> Result<DistConfig, String> {
        let given = |x: &str, y: &str| {
            self.declared
                .iter()
                .find(|(n, _)| n == x)
                .and_then(|(_, r)| r.rtt.get(y))
        };
        if let Some(d) = given(a, b).or_else(|| given(b, a)) {
            return Ok(d.clone());
        }
        matrix::rtt(a, b).ok_or_else(|| {
            format!(
                "no published round trip between {a} and {b} (defaults cover the AWS regions {} and the client areas {}); give one: [regions.{a}] rtt = {{ {b:?} = \"70ms\" }}",
                matrix::REGIONS.join(", "),
                matrix::AREAS.map(|x| x.0).join(", ")
            )
        })
    }

    /// Problems with the regions themselves: placements in undeclared
    /// regions, round trips that are not laws.
    pub fn check(&self) -> Vec<ConfigIssue> {
        let mut out = Vec::new();
        let declared: Vec<&str> = self.declared.iter().map(|(n, _)| n.as_str()).collect();
        for (comp, region) in &self.placement {
            if !declared.contains(&region.as_str()) {
                let (path, what) = match comp.split_once('@') {
                    Some((w, _)) if self.copies.contains_key(w) => {
                        (format!("components.{comp}.regions"), "regions")
                    }
                    _ => (format!("components.{comp}.region"), "region"),
                };
                out.push(ConfigIssue {
                    path,
                    message: format!(
                        "unknown {what} {region:?}: declare it with a [regions.{region}] table{}",
                        if declared.is_empty() {
                            String::new()
                        } else {
                            format!(" (declared: {})", declared.join(", "))
                        }
                    ),
                });
            }
        }
        for (name, r) in &self.declared {
            for (to, law) in &r.rtt {
                if let Err((f, m)) = law.check() {
                    out.push(ConfigIssue {
                        path: format!("regions.{name}.rtt.{to}.{f}"),
                        message: m,
                    });
                }
            }
        }
        out
    }
}

/// The links written so far, and the problems found.
struct Wiring {
    links: Vec<(String, ComponentConfig)>,
    /// Some request class has no sizes.
    sizes_missing: bool,
    /// Components whose internet-facing load balancer bills their
    /// responses as data out (`response_kb`): users' links to them do not.
    billed_out: BTreeSet<String>,
    /// Names taken (components and links).
    seen: BTreeSet<String>,
    issues: Vec<ConfigIssue>,
}

impl Wiring {
    /// The link `<from>-><target>` (written once) from place `from` (a
    /// region or a client area) to `target`, which runs in `region`.
    fn link(&mut self, r: &Regions, from: &str, target: &str, region: &str) -> String {
        let name = format!("{from}->{target}");
        if self.seen.insert(name.clone()) {
            match r.rtt(from, region) {
                Ok(rtt) => self.links.push((
                    name.clone(),
                    ComponentConfig::Link(Box::new(LinkConfig {
                        kind: None,
                        to: target.to_string(),
                        rtt,
                        loss: 0.0,
                        bandwidth: None,
                        sizes_missing: self.sizes_missing,
                        // Users are on the internet (data out is billed
                        // once: by the load balancer if it does); regions
                        // bill what leaves them for another.
                        transfer: if r.declared.iter().any(|(n, _)| n == from) {
                            Transfer::InterRegion
                        } else if self.billed_out.contains(target) {
                            Transfer::None
                        } else {
                            Transfer::Internet
                        },
                    })),
                )),
                Err(m) => self.issues.push(ConfigIssue {
                    path: match r.declared.iter().any(|(n, _)| n == from) {
                        true => format!("regions.{from}"),
                        false => format!("regions.{region}"),
                    },
                    message: m,
                }),
            }
        }
        name
    }
}

/// Wires placed components and the users' areas (see the module doc):
/// users reach what they enter through a link from their area (a dns
/// entry: through one link per region, to its copy there); calls to a
/// component with copies go to the caller's region's copy, and calls that
/// cross regions go through a link `<from>-><component>`. The links are
/// appended to `components`; the problems found are returned.
pub fn place(
    components: &mut Vec<(String, ComponentConfig)>,
    sources: &mut [(String, SourceConfig)],
    r: &Regions,
) -> Vec<ConfigIssue> {
    let issues = r.check();
    let areas = sources.iter().any(|(_, s)| !s.from.is_empty());
    let global_db = components
        .iter()
        .any(|(_, c)| matches!(c, ComponentConfig::Database(d) if d.primary_region.is_some()));
    if (r.is_empty() && !areas && !global_db) || !issues.is_empty() {
        return issues;
    }
    let mut w = Wiring {
        billed_out: components
            .iter()
            .filter(|(_, c)| {
                let lb = c.lifecycle().and_then(|l| l.load_balancer);
                lb.is_some_and(|b| b.internet_facing && b.response_kb > 0.0)
            })
            .map(|(n, _)| n.clone())
            .collect(),
        links: Vec::new(),
        sizes_missing: sources.iter().any(|(_, s)| {
            s.classes()
                .iter()
                .any(|c| c.request_kb.is_none() || c.response_kb.is_none())
        }),
        seen: components.iter().map(|(n, _)| n.clone()).collect(),
        issues,
    };
    let kind_of = |n: &str| components.iter().find(|c| c.0 == n).map(|c| c.1.kind());
    // Dns entry -> the areas its users are in.
    let mut dns_areas: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (sname, s) in sources.iter_mut() {
        let mut entries = Vec::new();
        for c in s.classes() {
            let Some(to) = c.to.clone() else { continue };
            if let Some(rs) = r.copies.get(&to) {
                w.issues.push(ConfigIssue {
                    path: format!("traffic.{sname}.to"),
                    message: format!(
                        "{to:?} runs in {}: send users to a kind = \"dns\" entry that picks a region for them, or to one copy (\"{to}@{}\")",
                        rs.join(", "),
                        rs[0]
                    ),
                });
                break;
            }
            let Some(area) = c.area else { continue };
            if kind_of(&to) == Some("dns") {
                dns_areas.entry(to).or_default().insert(area);
                continue;
            }
            match r.region_of(&to) {
                Some(region) => {
                    let link = w.link(r, &area, &to, region);
                    entries.push(((area, to), link));
                }
                None => {
                    w.issues.push(ConfigIssue {
                        path: format!("traffic.{sname}.from"),
                        message: format!(
                            "the users in {area} reach {to:?}, which runs in no region: place it (region = \"us-east-1\") so the network from {area} applies, or send them to a kind = \"dns\" entry"
                        ),
                    });
                    break;
                }
            }
        }
        s.area_entry.extend(entries);
    }
    for (name, c) in components.iter_mut() {
        let ComponentConfig::Dns(d) = c else { continue };
        let Some(rs) = r.copies.get(&d.to) else {
            continue;
        };
        let areas = dns_areas.remove(name.as_str()).unwrap_or_default();
        d.records = rs
            .iter()
            .map(|region| {
                let copy = format!("{}@{region}", d.to);
                let by_area = areas
                    .iter()
                    .map(|a| {
                        let rtt = r.rtt(a, region).map_or(0.0, |x| x.mean());
                        (a.clone(), (w.link(r, a, &copy, region), rtt))
                    })
                    .collect();
                Record {
                    region: region.clone(),
                    copy,
                    by_area,
                }
            })
            .collect();
    }
    for (name, c) in components.iter_mut() {
        let ComponentConfig::Database(d) = c else {
            continue;
        };
        let Some(p) = d.primary_region.clone() else {
            continue;
        };
        let written = name.split('@').next().unwrap_or(name);
        let path = format!("components.{name}.primary_region");
        match r.copies.get(written) {
            Some(rs) if rs.contains(&p) => {
                if r.region_of(name) != Some(p.as_str()) {
                    d.writes_to = Some(format!("{written}@{p}"));
                }
            }
            Some(rs) => w.issues.push(ConfigIssue {
                path,
                message: format!("{p:?} is not one of its regions ({})", rs.join(", ")),
            }),
            None => w.issues.push(ConfigIssue {
                path,
                message: "primary_region places the primary of a database that runs in several regions (regions = [...]); a database in one region is placed with region = \"...\"".into(),
            }),
        }
    }
    for (name, c) in components.iter_mut() {
        let here = r.region_of(name).map(str::to_string);
        let fields: Vec<(&'static str, String)> = c
            .downstream()
            .into_iter()
            .map(|(f, n)| (f, n.to_string()))
            .collect();
        let Some(cfg) = c.config_mut() else { continue };
        cfg.retarget(&mut |callee| {
            let field = fields
                .iter()
                .find(|(_, n)| n == callee)
                .map_or("calls", |f| f.0);
            let mut issue = |message: String| {
                w.issues.push(ConfigIssue {
                    path: format!("components.{name}.{field}"),
                    message,
                })
            };
            let target = match (r.copies.get(callee), &here) {
                (Some(rs), Some(h)) if rs.contains(h) => format!("{callee}@{h}"),
                (Some(rs), Some(h)) => {
                    issue(format!(
                        "{callee:?} runs in {} but not in {h}, where {name:?} runs: add {h:?} to its regions, or call one copy by name (\"{callee}@{}\")",
                        rs.join(", "),
                        rs[0]
                    ));
                    return callee.to_string();
                }
                (Some(rs), None) => {
                    issue(format!(
                        "{callee:?} runs in {}: place {name:?} in a region too (region = \"{}\" or regions = [...]), or call one copy by name (\"{callee}@{}\")",
                        rs.join(", "),
                        rs[0],
                        rs[0]
                    ));
                    return callee.to_string();
                }
                (None, _) => callee.to_string(),
            };
            match (&here, r.region_of(&target)) {
                (Some(h), Some(t)) if h != t => w.link(r, h, &target, t),
                _ => target,
            }
        });
    }
    components.extend(w.links);
    w.issues
}
