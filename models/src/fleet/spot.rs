//! Spot interruptions: EC2 reclaims a spot instance when it needs the
//! capacity back, after a two-minute notice ("EC2 Spot Instance
//! Interruption Warning"; docs.aws.amazon.com, AWSEC2/latest/UserGuide,
//! spot-instance-termination-notices.html).
//!
//! `spot = { share = 0.8, discount = 0.7, interruptions = { rate =
//! "5%/h", notice = "2m" }, fallback = "on_demand" }`: each spot instance,
//! once ready, is reclaimed after an exponential time of mean 1/rate (an
//! interruption rate of 5% per instance-hour: 20 h on average; or `mtbf
//! = "20h"`), from the fleet's own `spot` stream. At the notice it leaves
//! the rotation and drains, as a node termination handler drains it, and
//! its replacement is requested at once (as EC2 Auto Scaling's capacity
//! rebalancing and Karpenter do): on spot again, or on demand with
//! `fallback = "on_demand"` (the reference platform's "80% spot, fallback
//! on-demand"). When the notice runs out whatever it still holds is lost
//! and it is gone. An on-demand fallback instance is itself replaced by a
//! spot one after `rebalance` (30 min): the spot one is launched, and the
//! on-demand one drains once it is up (no capacity dip), so the fleet
//! returns to its spot share. EC2 does not charge for a spot instance it interrupts
//! in its first hour, and charges the seconds used after that
//! (billing-for-interrupted-spot-instances.html).

use crate::fleet::pool::Phase;
use crate::flow::{CompId, Component, Ev, System};
use crate::units::Duration;
use rand_distr::{Distribution, Exp1};
use scalesim_sim::{from_secs, Scheduler, SimRng, Time};
use serde::Deserialize;

/// Shortest mean time between interruptions accepted (a spot instance
/// that lives minutes is not a plan).
const MIN_MEAN_S: f64 = 600.0;

/// `interruptions = { rate = "5%/h", notice = "2m" }` (or `mtbf = "20h"`).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InterruptionConfig {
    /// Interruptions per instance and unit of time: `"5%/h"`, `"20%/d"`.
    #[serde(default)]
    pub rate: Option<Rate>,
    /// Or the mean time between them.
    #[serde(default)]
    pub mtbf: Option<Duration>,
    /// Warning before the instance is reclaimed (EC2: 2 minutes).
    #[serde(default = "notice")]
    pub notice: Duration,
    /// With `fallback = "on_demand"`: how long an on-demand fallback
    /// instance runs before a spot one is launched to take its place (it
    /// drains once that one is up), as Karpenter's consolidation moves
    /// work back to spot.
    #[serde(default = "rebalance")]
    pub rebalance: Duration,
}

fn rebalance() -> Duration {
    Duration(1800.0)
}

fn notice() -> Duration {
    Duration(120.0)
}

/// A rate written `"5%/h"`: per second.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate(pub f64);

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_rate(&s).map(Rate).map_err(serde::de::Error::custom)
    }
}

/// `"5%/h"` -> 0.05 per 3600 s.
fn parse_rate(s: &str) -> Result<f64, String> {
    let bad = || format!("{s:?}: expected a share per unit of time, such as \"5%/h\" or \"20%/d\"");
    let (share, unit) = s.split_once('/').ok_or_else(bad)?;
    let share = share.trim();
    let v: f64 = match share.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map_err(|_| bad())? / 100.0,
        None => share.parse().map_err(|_| bad())?,
    };
    let per = match unit.trim() {
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        "w" => 7.0 * 86400.0,
        _ => return Err(bad()),
    };
    Ok(v / per)
}

/// What replaces a reclaimed spot instance.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Fallback {
    /// Another spot instance.
    #[default]
    Spot,
    /// An on-demand instance.
    OnDemand,
}

impl InterruptionConfig {
    /// The mean time between interruptions of an instance, seconds.
    pub fn mean_s(&self) -> f64 {
        match (self.rate, self.mtbf) {
            (Some(r), _) => 1.0 / r.0,
            (None, Some(m)) => m.secs(),
            (None, None) => f64::NAN,
        }
    }

    /// Checks the numbers.
    pub fn check(&self) -> Result<(), String> {
        if self.rate.is_some() == self.mtbf.is_some() {
            return Err("spot.interruptions needs either rate (\"5%/h\") or mtbf (\"20h\")".into());
        }
        let m = self.mean_s();
        if !(m.is_finite() && m >= MIN_MEAN_S) {
            return Err(format!(
                "spot.interruptions: a mean of {m}s between interruptions; expected at least {MIN_MEAN_S}s (AWS reports under 5% per month for most pools)"
            ));
        }
        let n = self.notice.secs();
        let r = self.rebalance.secs();
        if !(r.is_finite() && r > 0.0) {
            return Err(
                "spot.interruptions.rebalance: expected a positive time, such as \"30m\"".into(),
            );
        }
        if !(n.is_finite() && n >= 0.0 && n < m) {
            return Err(format!(
                "spot.interruptions.notice: expected a warning of 0 s or more, shorter than the mean time between interruptions ({m}s); EC2 gives 2 minutes"
            ));
        }
        Ok(())
    }
}

/// A fleet's spot interruptions as they run.
pub(crate) struct Spot {
    mean_s: f64,
    notice: Time,
    rebalance: Time,
    on_demand: bool,
    rng: SimRng,
    /// Interruption notices so far (all, and at warm-up).
    pub(crate) count: u64,
    pub(crate) at_warmup: u64,
}

impl Spot {
    /// The interruptions of a fleet, drawn from `rng`.
    pub(crate) fn new(cfg: &InterruptionConfig, fallback: Fallback, rng: SimRng) -> Spot {
        Spot {
            mean_s: cfg.mean_s(),
            notice: cfg.notice.time(),
            rebalance: cfg.rebalance.time(),
            on_demand: fallback == Fallback::OnDemand,
            rng,
            count: 0,
            at_warmup: 0,
        }
    }
}

impl System {
    /// Spot instance `inst` of `comp` (generation `gen`) became ready:
    /// its interruption is drawn, if the fleet's spot instances are
    /// interrupted.
    pub(crate) fn arm_spot(&mut self, s: &mut Scheduler<Ev>, comp: CompId, inst: u32, gen: u32) {
        let c = comp.index();
        let Some(sp) = self.spot[c].as_mut() else {
            return;
        };
        let Some(x) = self.comps[c].fleet().map(|p| p.instances()[inst as usize]) else {
            return;
        };
        if x.spot {
            let t: f64 = Exp1.sample(&mut sp.rng);
            s.after(
                from_secs(t * sp.mean_s).max(1),
                Ev::SpotNotice { comp, inst, gen },
            );
        } else if x.fallback {
            s.after(sp.rebalance, Ev::SpotRebalance { comp, inst, gen });
        }
    }

    /// On-demand fallback instance `inst` of `comp` has run its
    /// `rebalance` time: a spot instance is launched for it, and it drains
    /// once that one is up.
    pub(crate) fn spot_rebalance(
        &mut self,
        s: &mut Scheduler<Ev>,
        comp: CompId,
        inst: u32,
        gen: u32,
        retire: bool,
    ) {
        let now = s.now();
        let c = comp.index();
        let Some(pool) = self.comps[c].fleet_mut() else {
            return;
        };
        let x = pool.instances()[inst as usize];
        if x.generation() != gen || x.phase != Phase::Ready {
            return;
        }
        if retire {
            if pool.drain(inst) {
                let x = pool.instances()[inst as usize];
                self.stats[c].closed_cost += self.flow.closed(comp, &x, now);
            }
            self.fleet_changed(c, now);
            return;
        }
        let boot = self.launch(s, comp, true);
        let up = boot + self.ready_delay[c];
        s.after(up, Ev::SpotRetire { comp, inst, gen });
        self.fleet_changed(c, now);
    }

    /// EC2 warns that spot instance `inst` of `comp` will be reclaimed:
    /// it drains, its replacement is requested.
    pub(crate) fn spot_notice(&mut self, s: &mut Scheduler<Ev>, comp: CompId, inst: u32, gen: u32) {
        let now = s.now();
        let c = comp.index();
        let (Some(sp), Some(pool)) = (self.spot[c].as_mut(), self.comps[c].fleet_mut()) else {
            return;
        };
        let x = pool.instances()[inst as usize];
        if x.generation() != gen || x.phase != Phase::Ready {
            return;
        }
        sp.count += 1;
        let (notice, on_demand) = (sp.notice, sp.on_demand);
        pool.set_interrupted(inst);
        let gone = pool.drain(inst);
        let x = pool.instances()[inst as usize];
        if gone {
            self.stats[c].closed_cost += self.flow.closed(comp, &x, now);
        } else {
            s.after(
                notice,
                Ev::SpotReclaim {
                    comp,
                    inst,
                    gen: x.generation(),
                },
            );
        }
        self.launch(s, comp, !on_demand);
        self.fleet_changed(c, now);
        let name = self.cfg.components[c].0.clone();
        self.incident(now, name, inst, "spot interruption notice");
    }

    /// Launches an instance of `comp` now, on spot or on demand (an
    /// on-demand one stands in for a reclaimed spot instance), booting for
    /// a `provision_time` drawn from the fleet's spot stream. Returns the
    /// boot time.
    fn launch(&mut self, s: &mut Scheduler<Ev>, comp: CompId, spot: bool) -> Time {
        let c = comp.index();
        let (Some(sp), Some(pool)) = (self.spot[c].as_mut(), self.comps[c].fleet_mut()) else {
            return 0;
        };
        let boot = self.provision[c]
            .as_ref()
            .map_or(0, |d| d.sample(&mut sp.rng));
        let new = crate::fleet::scaler::launch(pool, s, comp, Some(spot), boot);
        pool.set_fallback(new, !spot);
        boot
    }

    /// The notice of spot instance `inst` of `comp` ran out: it is
    /// reclaimed, what it still holds is lost.
    pub(crate) fn spot_reclaim(
        &mut self,
        s: &mut Scheduler<Ev>,
        comp: CompId,
        inst: u32,
        gen: u32,
    ) {
        let now = s.now();
        let c = comp.index();
        let Some(pool) = self.comps[c].fleet_mut() else {
            return;
        };
        let x = pool.instances()[inst as usize];
        if x.generation() != gen || x.phase != Phase::Draining {
            return;
        }
        let queued = pool.reclaim(inst, now);
        self.stats[c].closed_cost += self.flow.closed(comp, &x, now);
        self.fleet_changed(c, now);
        self.with_kind(s, comp, |k, cx| k.instance_failed(cx, inst, &queued));
        let name = self.cfg.components[c].0.clone();
        self.incident(now, name, inst, "reclaimed (spot)");
    }
}
