//! What instances cost: a built-in catalog of on-demand prices, billing per
//! second with a minimum or per started hour, and a spot share bought at a
//! discount.
//!
//! Prices are AWS on-demand list prices for Linux in us-east-1 (USD per
//! hour; EC2, RDS and ElastiCache pricing pages as published in 2024-2025;
//! P4/P5 GPU instances after the June 2025 price cut).
//! They change: override any of them in the scenario (`price_per_hour` on a
//! component, or `[cost.catalog.<type>]`). EC2 bills Linux instances per
//! second with a 60-second minimum; RDS likewise; the per-hour option
//! models providers and contracts that bill each started hour.

use crate::units::Duration;
use serde::Deserialize;
use std::collections::BTreeMap;

/// One instance type of the catalog.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceType {
    /// API name, e.g. `c5.large`.
    pub name: &'static str,
    /// Virtual CPUs.
    pub vcpu: u32,
    /// Memory in GiB.
    pub memory_gib: f64,
    /// GPUs (0 for CPU instances).
    pub gpus: u32,
    /// On-demand price, USD per hour.
    pub price_per_hour: f64,
}

const fn it(
    name: &'static str,
    vcpu: u32,
    memory_gib: f64,
    gpus: u32,
    price_per_hour: f64,
) -> InstanceType {
    InstanceType {
        name,
        vcpu,
        memory_gib,
        gpus,
        price_per_hour,
    }
}

/// The built-in catalog (us-east-1, on-demand, Linux).
pub const CATALOG: &[InstanceType] = &[
    it("t3.micro", 2, 1.0, 0, 0.0104),
    it("t3.small", 2, 2.0, 0, 0.0208),
    it("t3.medium", 2, 4.0, 0, 0.0416),
    it("t3.large", 2, 8.0, 0, 0.0832),
    it("t3.xlarge", 4, 16.0, 0, 0.1664),
    it("t3.2xlarge", 8, 32.0, 0, 0.3328),
    it("t3a.medium", 2, 4.0, 0, 0.0376),
    it("t3a.large", 2, 8.0, 0, 0.0752),
    it("t4g.medium", 2, 4.0, 0, 0.0336),
    it("t4g.large", 2, 8.0, 0, 0.0672),
    it("m5a.large", 2, 8.0, 0, 0.086),
    it("m6i.large", 2, 8.0, 0, 0.096),
    it("m6i.xlarge", 4, 16.0, 0, 0.192),
    it("m7i.large", 2, 8.0, 0, 0.1008),
    it("c6i.large", 2, 4.0, 0, 0.085),
    it("c6i.xlarge", 4, 8.0, 0, 0.17),
    it("c7i.large", 2, 4.0, 0, 0.08925),
    it("c7i.xlarge", 4, 8.0, 0, 0.1785),
    it("c6g.large", 2, 4.0, 0, 0.068),
    it("c6g.xlarge", 4, 8.0, 0, 0.136),
    it("c7g.large", 2, 4.0, 0, 0.0725),
    it("c7g.xlarge", 4, 8.0, 0, 0.145),
    it("c5.large", 2, 4.0, 0, 0.085),
    it("c5.xlarge", 4, 8.0, 0, 0.17),
    it("c5.2xlarge", 8, 16.0, 0, 0.34),
    it("c5.4xlarge", 16, 32.0, 0, 0.68),
    it("m5.large", 2, 8.0, 0, 0.096),
    it("m5.xlarge", 4, 16.0, 0, 0.192),
    it("m5.2xlarge", 8, 32.0, 0, 0.384),
    it("r5.large", 2, 16.0, 0, 0.126),
    it("r5.xlarge", 4, 32.0, 0, 0.252),
    it("r5.2xlarge", 8, 64.0, 0, 0.504),
    it("db.t3.medium", 2, 4.0, 0, 0.068),
    it("db.r5.large", 2, 16.0, 0, 0.25),
    it("db.r5.xlarge", 4, 32.0, 0, 0.50),
    it("db.r5.2xlarge", 8, 64.0, 0, 1.00),
    it("db.r5.4xlarge", 16, 128.0, 0, 2.00),
    it("cache.t3.micro", 2, 0.5, 0, 0.017),
    it("cache.t3.medium", 2, 3.09, 0, 0.068),
    it("cache.r5.large", 2, 13.07, 0, 0.216),
    it("cache.r5.xlarge", 4, 26.32, 0, 0.431),
    it("g4dn.xlarge", 4, 16.0, 1, 0.526),
    it("g5.xlarge", 4, 16.0, 1, 1.006),
    it("g5.12xlarge", 48, 192.0, 4, 5.672),
    it("g6.xlarge", 4, 16.0, 1, 0.805),
    // GPU instances at the prices after AWS's June 2025 cut of P4/P5
    // on-demand prices (p4d was 32.7726, p5 98.32).
    it("p4d.24xlarge", 96, 1152.0, 8, 21.957642),
    it("p4de.24xlarge", 96, 1152.0, 8, 27.44705),
    it("p5.48xlarge", 192, 2048.0, 8, 55.04),
    it("p5en.48xlarge", 192, 2048.0, 8, 63.296),
];

/// Looks an instance type up in the built-in catalog.
pub fn lookup(name: &str) -> Option<&'static InstanceType> {
    CATALOG.iter().find(|t| t.name == name)
}

/// How running time turns into a bill.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Billing {
    /// Per second, with a minimum per instance run (EC2 Linux: 60 s).
    #[default]
    PerSecond,
    /// Each started hour is billed in full.
    PerHour,
}

/// A catalog entry override: `[cost.catalog."c5.large"] price_per_hour = 0.09`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PriceOverride {
    /// USD per hour.
    pub price_per_hour: f64,
    /// CPU speed per vCPU relative to m5 = 1.0 (see [`super::cpu`]).
    #[serde(default)]
    pub speed: Option<f64>,
}

/// The scenario's `[cost]` table.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CostConfig {
    /// Billing granularity.
    #[serde(default)]
    pub billing: Billing,
    /// Minimum billed time per instance run with per-second billing.
    #[serde(default = "default_minimum")]
    pub minimum: Duration,
    /// Price overrides (and additions) by instance type.
    #[serde(default)]
    pub catalog: BTreeMap<String, PriceOverride>,
    /// NAT gateways (one per zone with private subnets), billed per hour.
    #[serde(default)]
    pub nat_gateways: u32,
    /// Fixed monthly lines: `[[cost.monthly]] item = "support", usd = 100`.
    #[serde(default)]
    pub monthly: Vec<super::bill::Monthly>,
}

fn default_minimum() -> Duration {
    Duration(60.0)
}

impl Default for CostConfig {
    fn default() -> Self {
        CostConfig {
            billing: Billing::PerSecond,
            minimum: default_minimum(),
            catalog: BTreeMap::new(),
            nat_gateways: 0,
            monthly: Vec::new(),
        }
    }
}

/// Spot capacity: `spot = { share = 0.5, discount = 0.7 }` buys `share` of
/// the instances at `discount` off the on-demand price; with
/// `interruptions`, EC2 reclaims them (see [`crate::fleet::spot`]).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SpotConfig {
    /// Fraction of instances on spot, 0..=1.
    pub share: f64,
    /// Discount off on-demand, 0..1 (AWS spot typically 0.6-0.9).
    #[serde(default = "default_discount")]
    pub discount: f64,
    /// How often EC2 reclaims a spot instance, and the notice it gives.
    #[serde(default)]
    pub interruptions: Option<crate::fleet::spot::InterruptionConfig>,
    /// What replaces a reclaimed instance: "spot" (the default) or
    /// "on_demand".
    #[serde(default)]
    pub fallback: crate::fleet::spot::Fallback,
}

fn default_discount() -> f64 {
    0.7
}

/// What a component's instances cost, as written on the component.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pricing {
    /// Catalog instance type.
    pub instance_type: Option<String>,
    /// Explicit price, USD per hour per instance (wins over the catalog).
    pub price_per_hour: Option<f64>,
    /// Spot share and discount.
    pub spot: Option<SpotConfig>,
}

impl Pricing {
    /// The effective price per instance-hour (spot blended in), or an error
    /// naming the problem. `Ok(None)`: the component is not priced.
    pub fn hourly(&self, cost: &CostConfig) -> Result<Option<f64>, (&'static str, String)> {
        let od = self.on_demand_hourly(cost)?;
        Ok(od.map(|h| h * (1.0 - self.spot.map_or(0.0, |s| s.share * s.discount))))
    }

    /// What a spot instance-hour costs as a share of an on-demand one.
    pub fn spot_factor(&self) -> f64 {
        1.0 - self.spot.map_or(0.0, |s| s.discount)
    }

    /// The on-demand price per instance-hour (the spot numbers checked).
    pub fn on_demand_hourly(
        &self,
        cost: &CostConfig,
    ) -> Result<Option<f64>, (&'static str, String)> {
        let base = match (&self.price_per_hour, &self.instance_type) {
            (Some(p), _) => Some(*p),
            (None, Some(t)) => match cost.catalog.get(t) {
                Some(o) => Some(o.price_per_hour),
                None => match lookup(t) {
                    Some(i) => Some(i.price_per_hour),
                    None => {
                        let known: Vec<&str> = CATALOG.iter().map(|i| i.name).collect();
                        return Err((
                            "instance_type",
                            format!(
                                "unknown instance type {t:?}; the catalog has {}; or give price_per_hour, or add [cost.catalog.\"{t}\"] price_per_hour = ...",
                                known.join(", ")
                            ),
                        ));
                    }
                },
            },
            (None, None) => None,
        };
        let Some(base) = base else { return Ok(None) };
        if !(base.is_finite() && base >= 0.0) {
            return Err((
                "price_per_hour",
                format!("expected a price >= 0 USD/hour, got {base}"),
            ));
        }
        if let Some(s) = self.spot {
            if !(0.0..=1.0).contains(&s.share) {
                return Err((
                    "spot",
                    format!("spot.share must be between 0 and 1, got {}", s.share),
                ));
            }
            if !(0.0..1.0).contains(&s.discount) {
                return Err((
                    "spot",
                    format!("spot.discount must be in [0, 1), got {}", s.discount),
                ));
            }
            if let Some(i) = &s.interruptions {
                i.check().map_err(|m| ("spot", m))?;
            }
        }
        Ok(Some(base))
    }
}

impl CostConfig {
    /// Checks the table; `Err((path, message))`.
    pub fn check(&self) -> Result<(), (String, String)> {
        if self.nat_gateways > 1000 {
            return Err((
                "cost.nat_gateways".into(),
                format!(
                    "{} NAT gateways is more than any platform has (at most 1000; one per zone is usual)",
                    self.nat_gateways
                ),
            ));
        }
        for (i, m) in self.monthly.iter().enumerate() {
            if !(m.usd.is_finite() && m.usd >= 0.0) {
                return Err((
                    format!("cost.monthly[{i}].usd"),
                    format!("expected USD per month >= 0, got {}", m.usd),
                ));
            }
        }
        for (name, o) in &self.catalog {
            if !(o.price_per_hour.is_finite() && o.price_per_hour >= 0.0) {
                return Err((
                    format!("cost.catalog.{name}.price_per_hour"),
                    format!("expected a price >= 0 USD/hour, got {}", o.price_per_hour),
                ));
            }
            if let Some(s) = o
                .speed
                .filter(|s| !(s.is_finite() && (0.1..=10.0).contains(s)))
            {
                return Err((
                    format!("cost.catalog.{name}.speed"),
                    format!("expected a speed per vCPU from 0.1 to 10 times an m5's, got {s}"),
                ));
            }
        }
        Ok(())
    }

    /// The bill of one instance run of `seconds` at `hourly` USD per hour.
    pub fn bill(&self, hourly: f64, seconds: f64) -> f64 {
        match self.billing {
            Billing::PerSecond => hourly * seconds.max(self.minimum.secs()) / 3600.0,
            Billing::PerHour => hourly * (seconds / 3600.0).ceil().max(1.0),
        }
    }

    /// What a run of `seconds` has accrued so far (no minimum yet: that is
    /// applied when the instance stops), for cost-over-time series.
    pub fn accrued(&self, hourly: f64, seconds: f64) -> f64 {
        match self.billing {
            Billing::PerSecond => hourly * seconds / 3600.0,
            Billing::PerHour => hourly * (seconds / 3600.0).ceil(),
        }
    }

    /// What the account buys besides components: NAT gateways, monthly
    /// lines; and what no run prices.
    pub fn purchases(&self) -> super::bill::Purchases {
        use super::bill::{Meter, Price, Usage, NAT_HOUR};
        let mut p = super::bill::Purchases::default();
        if self.nat_gateways > 0 {
            p.items.push(Usage {
                item: "NAT gateway hours".into(),
                meter: Meter::Hours(self.nat_gateways as f64),
                price: NAT_HOUR,
            });
            p.unpriced
                .push("NAT gateway data processing ($0.045/GB; not metered)".into());
        }
        for m in &self.monthly {
            p.items.push(Usage {
                item: m.item.clone(),
                meter: Meter::Months(1.0),
                price: Price {
                    usd: m.usd,
                    unit: "month",
                    source: "the scenario ([[cost.monthly]])",
                },
            });
        }
        p.unpriced.push(
            "traffic between zones, monitoring, support, taxes, free tiers and reserved or savings-plan discounts (add [[cost.monthly]] lines)".into(),
        );
        p
    }
}

/// Hours in a month as AWS bills them (365 x 24 / 12).
pub const HOURS_PER_MONTH: f64 = 730.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_has_the_seed_types() {
        for t in [
            "t3.medium",
            "t3.large",
            "c5.large",
            "c5.xlarge",
            "r5.large",
            "m5.large",
            "db.r5.large",
            "db.r5.xlarge",
            "cache.r5.large",
            "g5.xlarge",
            "p4d.24xlarge",
            "p5.48xlarge",
        ] {
            assert!(lookup(t).is_some(), "{t}");
        }
    }

    #[test]
    fn bills_by_hand() {
        let c = CostConfig::default();
        // c5.large for 2 h: 2 x 0.085.
        assert!((c.bill(0.085, 7200.0) - 0.17).abs() < 1e-12);
        // 10 s is billed as the 60 s minimum.
        assert!((c.bill(3.6, 10.0) - 0.06).abs() < 1e-12);
        let h = CostConfig {
            billing: Billing::PerHour,
            ..CostConfig::default()
        };
        // 61 minutes are 2 started hours.
        assert!((h.bill(1.0, 3660.0) - 2.0).abs() < 1e-12);
        assert!((h.accrued(1.0, 1800.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn spot_blends_the_price_and_overrides_win() {
        let mut c = CostConfig::default();
        let p = Pricing {
            instance_type: Some("m5.large".into()),
            price_per_hour: None,
            spot: Some(SpotConfig {
                share: 0.5,
                discount: 0.6,
                interruptions: None,
                fallback: Default::default(),
            }),
        };
        assert!((p.hourly(&c).unwrap().unwrap() - 0.096 * 0.7).abs() < 1e-12);
        assert!((p.on_demand_hourly(&c).unwrap().unwrap() - 0.096).abs() < 1e-12);
        assert!((p.spot_factor() - 0.4).abs() < 1e-12);
        c.catalog.insert(
            "m5.large".into(),
            PriceOverride {
                price_per_hour: 0.2,
                speed: None,
            },
        );
        assert!((p.hourly(&c).unwrap().unwrap() - 0.14).abs() < 1e-12);
        let bad = Pricing {
            instance_type: Some("m5.larg".into()),
            ..Pricing::default()
        };
        assert_eq!(bad.hourly(&c).unwrap_err().0, "instance_type");
        assert_eq!(Pricing::default().hourly(&c).unwrap(), None);
    }
}
