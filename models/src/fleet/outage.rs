//! `[[outages]]`: scheduled trouble. For `duration` from `at`, either
//!
//! - a **zone** is down (`zone = "b"`): every instance of every fleet
//!   placed in that availability zone is down (its requests are lost, as
//!   when it fails; it stays billed, as impaired EC2 instances do), new
//!   instances go to the other zones (EC2 Auto Scaling launches in healthy
//!   AZs), and at the end the zone's instances come back;
//! - a **component** is down (`component = "db"`): all its instances, or,
//!   for a kind without instances (a cache, a queue), every visit that
//!   reaches it fails at once;
//! - a **region** is down (`region = "us-east-1"`): every component placed
//!   in it, as a component outage each (see [`crate::regions`]);
//! - or a component is **slowed** (`slowdown = 3`): its service times are
//!   multiplied by the factor — a slow disk, a noisy neighbour, a bad
//!   deploy.
//!
//! A fleet with no ready instance during an outage or after failures
//! answers at once with an error, as a load balancer with no healthy
//! target does (nginx "no live upstreams": 502), instead of queueing.
//! `component = "db"` also covers what `db` runs on (`db/primary`,
//! `db/replica0`, ...). An outage that starts after the end of the run
//! does not happen; each start and end is listed in `incidents.csv`.

use crate::fleet::pool::{Phase, Pool};
use crate::flow::{CompId, Component, Ev, System};
use crate::kinds::ComponentConfig;
use crate::measure::Incident;
use crate::system::{ConfigIssue, SystemConfig};
use crate::traffic::pattern::TimeRef;
use crate::units::Duration;
use scalesim_sim::{from_secs, to_secs, Scheduler, Time};
use serde::Deserialize;

/// Largest `slowdown` accepted: beyond it a component is down, not slow.
const MAX_SLOWDOWN: f64 = 1000.0;

/// One `[[outages]]` entry.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OutageConfig {
    /// When it starts: a local date-time (`"2026-11-27T10:00"`) or an
    /// offset from the start (`"10h"`).
    pub at: TimeRef,
    /// How long it lasts.
    pub duration: Duration,
    /// The availability zone that goes down.
    #[serde(default)]
    pub zone: Option<String>,
    /// The component that goes down (or slows).
    #[serde(default)]
    pub component: Option<String>,
    /// The region that goes down: every component placed in it.
    #[serde(default)]
    pub region: Option<String>,
    /// Service times x this instead of going down (a component only).
    #[serde(default)]
    pub slowdown: Option<f64>,
}

/// What an outage strikes, resolved against the expanded components:
/// (component, its zone index; None: all of it).
type Targets = Vec<(CompId, Option<u8>)>;

/// The targets of outage `o` in `cfg` (expanded components).
fn targets(o: &OutageConfig, cfg: &SystemConfig) -> Targets {
    let mut out = Vec::new();
    for (i, (name, c)) in cfg.components.iter().enumerate() {
        let id = CompId(i as u16);
        if let Some(z) = &o.zone {
            let zones = c.lifecycle().map(|p| p.zones).unwrap_or_default();
            if let Some(k) = zones.iter().position(|x| x == z) {
                out.push((id, Some(k as u8)));
            }
        } else if let Some(r) = &o.region {
            let placed = name.split('/').next().unwrap_or(name);
            if cfg.regions.region_of(placed) == Some(r.as_str()) {
                out.push((id, None));
            }
        } else if let Some(target) = &o.component {
            let below = name
                .strip_prefix(target.as_str())
                .is_some_and(|rest| rest.starts_with('/'));
            if name == target || below {
                out.push((id, None));
            }
        }
    }
    out
}

/// Problems with the `[[outages]]` of `cfg` (not yet expanded).
pub fn check(cfg: &SystemConfig) -> Vec<ConfigIssue> {
    let mut out = Vec::new();
    let expanded = cfg.expanded();
    let zones: Vec<String> = {
        let mut z: Vec<String> = expanded
            .components
            .iter()
            .filter_map(|(_, c)| c.lifecycle())
            .flat_map(|p| p.zones)
            .collect();
        z.sort();
        z.dedup();
        z
    };
    for (i, o) in cfg.outages.iter().enumerate() {
        let mut issue = |field: &str, message: String| {
            out.push(ConfigIssue {
                path: if field.is_empty() {
                    format!("outages.{i}")
                } else {
                    format!("outages.{i}.{field}")
                },
                message,
            })
        };
        match o.at.resolve(&cfg.calendar) {
            Err(m) => issue("at", m),
            // One that starts after the end does not happen (a run
            // shortened with --set duration keeps its outages).
            Ok(t) if t < 0.0 => issue(
                "at",
                format!("the outage starts {}s before the start of the run", -t),
            ),
            Ok(_) => {}
        }
        if o.duration.secs() <= 0.0 {
            issue(
                "duration",
                "an outage lasts a while: expected a duration such as \"45m\"".into(),
            );
        }
        let given = [&o.zone, &o.component, &o.region];
        if given.iter().filter(|x| x.is_some()).count() != 1 {
            issue(
                "",
                "give one of zone = \"<name>\" (an availability zone goes down), component = \"<name>\" (one component goes down or slows) or region = \"<name>\" (a region goes down)".into(),
            );
        } else if let Some(r) = &o.region {
            if targets(o, &expanded).is_empty() {
                let placed: std::collections::BTreeSet<&String> =
                    cfg.regions.placement.values().collect();
                let placed: Vec<&str> = placed.into_iter().map(String::as_str).collect();
                issue(
                    "region",
                    format!(
                        "no component runs in region {r:?}; components run in: {}",
                        if placed.is_empty() {
                            "no region (place them with region = \"...\" or regions = [...])"
                                .to_string()
                        } else {
                            placed.join(", ")
                        }
                    ),
                );
            }
        }
        match (&o.zone, &o.component) {
            (Some(_), Some(_)) | (None, None) => {}
            (Some(z), None) if !zones.contains(z) => issue(
                "zone",
                if zones.is_empty() {
                    format!("no component is placed in zones; give the fleets zones = [\"a\", \"b\", \"c\"] to take zone {z:?} down")
                } else {
                    format!(
                        "unknown zone {z:?}; the fleets are placed in {}",
                        zones.join(", ")
                    )
                },
            ),
            (None, Some(c)) if targets(o, &expanded).is_empty() => {
                let known: Vec<&str> = cfg.components.iter().map(|(n, _)| n.as_str()).collect();
                issue(
                    "component",
                    format!("unknown component {c:?}; known: {}", known.join(", ")),
                )
            }
            _ => {}
        }
        if let Some(k) = o.slowdown {
            if o.zone.is_some() {
                issue(
                    "slowdown",
                    "a slowdown applies to a component: write component = \"<name>\"".into(),
                );
            } else if !(k > 1.0 && k <= MAX_SLOWDOWN) {
                issue(
                    "slowdown",
                    format!("expected a factor above 1 and at most {MAX_SLOWDOWN} on service times (got {k}); for a component that stops, leave slowdown out"),
                );
            } else if let Some(bad) = targets(o, &expanded)
                .iter()
                .map(|(c, _)| &expanded.components[c.index()])
                .find(|(_, c)| !matches!(c, ComponentConfig::Pool(_)))
            {
                issue(
                    "slowdown",
                    format!("{:?} is a {}: slowdowns apply to pools (servers with a service time), including a database's and a shard's", bad.0, bad.1.kind()),
                );
            }
        }
    }
    out
}

/// An outage as it runs.
pub(crate) struct Outage {
    start: Time,
    end: Time,
    targets: Targets,
    slowdown: Option<f64>,
    label: String,
    /// The instances it took down: (component, instance, generation).
    held: Vec<(CompId, u32, u32)>,
    active: bool,
}

impl Outage {
    /// The outages of a checked, expanded configuration.
    pub(crate) fn all(cfg: &SystemConfig) -> Vec<Outage> {
        cfg.outages
            .iter()
            .map(|o| {
                let start = from_secs(o.at.resolve(&cfg.calendar).unwrap_or(0.0));
                Outage {
                    start,
                    end: start.saturating_add(o.duration.time()),
                    targets: targets(o, cfg),
                    slowdown: o.slowdown,
                    label: match (&o.zone, &o.component, &o.region) {
                        (Some(z), _, _) => format!("zone {z}"),
                        (_, Some(c), _) => c.clone(),
                        (_, _, Some(r)) => format!("region {r}"),
                        _ => String::new(),
                    },
                    held: Vec::new(),
                    active: false,
                }
            })
            .collect()
    }
}

impl System {
    /// Schedules the start of every outage.
    pub(crate) fn schedule_outages(&mut self, s: &mut Scheduler<Ev>) {
        for (k, o) in self.outages.iter().enumerate() {
            s.at(
                o.start,
                Ev::Outage {
                    k: k as u16,
                    start: true,
                },
            );
        }
    }

    /// Outage `k` starts (or ends) now.
    pub(crate) fn outage(&mut self, s: &mut Scheduler<Ev>, k: usize, start: bool) {
        let now = s.now();
        let o = &mut self.outages[k];
        o.active = start;
        if start {
            s.at(
                o.end,
                Ev::Outage {
                    k: k as u16,
                    start: false,
                },
            );
        }
        let targets = o.targets.clone();
        let label = o.label.clone();
        if o.slowdown.is_some() {
            for &(comp, _) in &targets {
                let k: f64 = self
                    .outages
                    .iter()
                    .filter(|x| x.active && x.targets.iter().any(|t| t.0 == comp))
                    .filter_map(|x| x.slowdown)
                    .product();
                if let Some(pool) = self.comps[comp.index()].fleet_mut() {
                    pool.set_slowdown(k);
                }
            }
            self.incident(
                now,
                label,
                u32::MAX,
                if start { "slowed" } else { "back to speed" },
            );
            return;
        }
        self.incident(now, label, u32::MAX, if start { "down" } else { "back up" });
        for (comp, zone) in targets {
            let c = comp.index();
            let Some(pool) = self.comps[c].fleet_mut() else {
                self.down[c] = start;
                continue;
            };
            pool.set_zone_down(zone, start);
            if start {
                pool.fail_fast = true;
                let hit: Vec<u32> = (0..pool.instances().len() as u32)
                    .filter(|&i| {
                        let x = &pool.instances()[i as usize];
                        x.phase == Phase::Ready && zone.is_none_or(|z| x.zone == z)
                    })
                    .collect();
                for inst in hit {
                    self.take_down(s, comp, inst, k);
                }
            } else {
                let held = std::mem::take(&mut self.outages[k].held);
                let (mine, others): (Vec<_>, Vec<_>) = held.into_iter().partition(|h| h.0 == comp);
                self.outages[k].held = others;
                for (_, inst, gen) in mine {
                    self.bring_back(s, comp, inst, gen);
                }
            }
        }
    }

    /// Ready instance `inst` of `comp` goes down with outage `k`.
    fn take_down(&mut self, s: &mut Scheduler<Ev>, comp: CompId, inst: u32, k: usize) {
        let gen = self.take_instance_down(s, comp, inst, true);
        self.outages[k].held.push((comp, inst, gen));
    }

    /// An instance of `comp` became ready (or was repaired) while its zone
    /// is down: it goes down with the outage instead. True if so.
    pub(crate) fn held_by_outage(
        &mut self,
        s: &mut Scheduler<Ev>,
        comp: CompId,
        inst: u32,
    ) -> bool {
        let Some(pool) = self.comps[comp.index()].fleet() else {
            return false;
        };
        let zone = pool.instances()[inst as usize].zone;
        if !pool.zone_down(zone) {
            return false;
        }
        let k = self.outages.iter().position(|o| {
            o.active
                && o.slowdown.is_none()
                && o.targets
                    .iter()
                    .any(|t| t.0 == comp && t.1.is_none_or(|z| z == zone))
        });
        match k {
            Some(k) => {
                self.take_down(s, comp, inst, k);
                true
            }
            None => false,
        }
    }

    /// Instance `inst` of `comp`, held down by an outage that ended, comes
    /// back (unless it left since).
    fn bring_back(&mut self, s: &mut Scheduler<Ev>, comp: CompId, inst: u32, gen: u32) {
        let Some(pool) = self.comps[comp.index()].fleet() else {
            return;
        };
        let x = pool.instances()[inst as usize];
        if x.generation() != gen || x.phase != Phase::Down {
            return;
        }
        self.bring_up(s, comp, inst, gen);
    }

    /// Records an incident for the charts and the summary.
    pub(crate) fn incident(
        &mut self,
        now: Time,
        component: String,
        instance: u32,
        what: &'static str,
    ) {
        self.incidents.push(Incident {
            t_s: to_secs(now),
            component,
            instance,
            what,
        });
    }
}

impl Pool {
    /// No instance is ready and the fleet is one that fails (it has
    /// `failures`, or an outage struck it): an arrival is answered with an
    /// error at once.
    #[inline]
    pub fn unavailable(&self) -> bool {
        self.fail_fast && self.ready() == 0
    }
}
