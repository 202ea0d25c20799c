//! What an instance type's CPU does: how fast its family computes, how many
//! cores it has, and, for burstable types (t3, t3a, t4g), the CPU credits
//! that decide whether it may compute at full speed.
//!
//! Speed factors are per vCPU, relative to m5 (= 1.0), for web and API work
//! (docs/design/instance-types-research.md section 3 gives each one's basis:
//! AWS's generation-to-generation claims and sustained clocks; about +-15 %).
//! A pool's CPU step times are measured on one type (`measured_on`, by
//! default its own `instance_type`); on a type of another family they scale
//! by the ratio of the two factors.
//!
//! Credits follow AWS's EC2 User Guide, "Key concepts and definitions for
//! burstable performance instances" and "Unlimited mode concepts": one
//! credit is one vCPU at 100 % for one minute; an instance earns
//! `baseline x vCPUs x 60` per hour and holds at most 24 hours of earnings;
//! a new t3/t3a/t4g starts with none. Standard mode lowers the CPU to the
//! baseline when the balance is empty; unlimited mode keeps full speed and
//! bills the surplus ($0.05 per vCPU-hour for t3/t3a, $0.04 for t4g).
//! ElastiCache runs its t3 nodes in standard mode only; RDS its db.t3 in
//! unlimited mode.

use super::cost::{lookup, CostConfig};
use serde::Deserialize;

/// The speed factor of the reference family.
pub const REFERENCE_SPEED: f64 = 1.0;

/// Speed per vCPU by family, m5 = 1.0 (research notes section 3.3).
const SPEEDS: &[(&str, f64)] = &[
    ("m5", 1.00),
    ("r5", 1.00),
    ("t3", 1.00),
    ("t2", 1.00),
    ("c5", 1.10),
    ("m5a", 0.80),
    ("r5a", 0.80),
    ("t3a", 0.80),
    ("m6i", 1.20),
    ("c6i", 1.20),
    ("r6i", 1.20),
    ("m7i", 1.30),
    ("c7i", 1.30),
    ("m6g", 1.10),
    ("c6g", 1.10),
    ("r6g", 1.10),
    ("t4g", 1.10),
    ("m7g", 1.35),
    ("c7g", 1.35),
    ("r7g", 1.35),
];

/// The family of an instance type: `c5` for `c5.xlarge` and `db.r5.large`
/// and `cache.t3.micro` alike (a managed service runs the EC2 family).
pub fn family(instance_type: &str) -> &str {
    let t = instance_type
        .strip_prefix("db.")
        .or_else(|| instance_type.strip_prefix("cache."))
        .unwrap_or(instance_type);
    t.split('.').next().unwrap_or(t)
}

/// The speed factor of an instance type or family: the scenario's
/// `[cost.catalog.<type>] speed`, else its family's; `None` when unknown.
pub fn speed(name: &str, cost: &CostConfig) -> Option<f64> {
    if let Some(s) = cost.catalog.get(name).and_then(|o| o.speed) {
        return Some(s);
    }
    let f = family(name);
    SPEEDS.iter().find(|(n, _)| *n == f).map(|&(_, s)| s)
}

/// The families whose speed is known, for messages.
pub fn known_families() -> Vec<&'static str> {
    SPEEDS.iter().map(|&(n, _)| n).collect()
}

/// The vCPUs of a type of the built-in catalog.
pub fn vcpus(instance_type: &str) -> Option<u32> {
    lookup(instance_type).map(|t| t.vcpu)
}

/// What an instance does when its credit balance is empty.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CreditMode {
    /// Its CPU is lowered to the baseline.
    Standard,
    /// It keeps full speed and spends surplus credits, billed.
    Unlimited,
}

/// A burstable type's credit figures (AWS's credit table).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Burstable {
    /// vCPUs.
    pub vcpus: u32,
    /// Credits earned per hour.
    pub earned_per_hour: f64,
    /// What the EC2 API launches it with when the scenario does not say.
    pub default_mode: CreditMode,
    /// Whether the service allows standard mode only (ElastiCache).
    pub standard_only: bool,
    /// USD per surplus vCPU-hour (60 credits) in unlimited mode.
    pub surplus_usd_per_vcpu_hour: f64,
}

impl Burstable {
    /// The baseline share of each vCPU it may use without spending.
    pub fn baseline(&self) -> f64 {
        self.earned_per_hour / (60.0 * self.vcpus as f64)
    }

    /// The most credits it holds (24 hours of earnings).
    pub fn max_balance(&self) -> f64 {
        24.0 * self.earned_per_hour
    }
}

/// Credits earned per hour by size, t3/t3a/t4g (identical tables).
const EARNED: &[(&str, u32, f64)] = &[
    ("nano", 2, 6.0),
    ("micro", 2, 12.0),
    ("small", 2, 24.0),
    ("medium", 2, 24.0),
    ("large", 2, 36.0),
    ("xlarge", 4, 96.0),
    ("2xlarge", 8, 192.0),
];

/// The credit figures of a burstable instance type, `None` for the others.
pub fn burstable(instance_type: &str) -> Option<Burstable> {
    let fam = family(instance_type);
    let surplus = match fam {
        "t3" | "t3a" => 0.05,
        "t4g" => 0.04,
        _ => return None,
    };
    let size = instance_type.rsplit('.').next()?;
    let &(_, vcpus, earned) = EARNED.iter().find(|(s, _, _)| *s == size)?;
    let cache = instance_type.starts_with("cache.");
    Some(Burstable {
        vcpus,
        earned_per_hour: earned,
        // EC2 launches t3/t3a/t4g unlimited (CreditSpecification); RDS
        // runs db.t3 unlimited; ElastiCache standard only.
        default_mode: if cache {
            CreditMode::Standard
        } else {
            CreditMode::Unlimited
        },
        standard_only: cache,
        surplus_usd_per_vcpu_hour: if cache { 0.0 } else { surplus },
    })
}

/// `credits = { mode = "standard", initial = 576 }` on a pool of a
/// burstable type.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CreditsConfig {
    /// `standard` or `unlimited` (default: what the service launches).
    #[serde(default)]
    pub mode: Option<CreditMode>,
    /// Credits each instance starts with (default 0: a new t3 has none).
    #[serde(default)]
    pub initial: Option<f64>,
}

impl CreditsConfig {
    /// Checks it against the instance type's figures. On a type without
    /// credits (c5, m5) it has no effect, so that one scenario can compare
    /// a burstable type with others (variants, `capacity --per`).
    pub fn check(&self, instance_type: Option<&str>) -> Result<(), (String, String)> {
        let Some(t) = instance_type else {
            return Err((
                String::new(),
                "CPU credits belong to burstable instance types (t3, t3a, t4g): give the pool its instance_type, e.g. \"t3.medium\"".into(),
            ));
        };
        let Some(b) = burstable(t) else {
            return Ok(());
        };
        if b.standard_only && self.mode == Some(CreditMode::Unlimited) {
            return Err((
                "mode".into(),
                "ElastiCache runs burstable nodes in standard mode only".into(),
            ));
        }
        if let Some(i) = self.initial {
            if !(i.is_finite() && (0.0..=b.max_balance()).contains(&i)) {
                return Err((
                    "initial".into(),
                    format!(
                        "expected 0 to {} credits (24 hours of earnings at {}/h), got {i}",
                        b.max_balance(),
                        b.earned_per_hour
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_and_speeds() {
        let c = CostConfig::default();
        assert_eq!(family("db.r5.large"), "r5");
        assert_eq!(family("cache.t3.micro"), "t3");
        assert_eq!(speed("c5.xlarge", &c), Some(1.10));
        assert_eq!(speed("m5", &c), Some(1.0));
        assert_eq!(speed("g5.xlarge", &c), None);
        assert_eq!(vcpus("c5.xlarge"), Some(4));
    }

    #[test]
    fn credit_table_relations_hold() {
        // AWS's table: earned/h = baseline x vCPUs x 60, max = 24 x earned.
        let m = burstable("t3.medium").unwrap();
        assert_eq!((m.vcpus, m.earned_per_hour), (2, 24.0));
        assert!((m.baseline() - 0.20).abs() < 1e-12);
        assert_eq!(m.max_balance(), 576.0);
        assert_eq!(m.default_mode, CreditMode::Unlimited);
        let x = burstable("t3.xlarge").unwrap();
        assert!((x.baseline() - 0.40).abs() < 1e-12);
        let c = burstable("cache.t3.micro").unwrap();
        assert!((c.baseline() - 0.10).abs() < 1e-12);
        assert!(c.standard_only);
        assert_eq!(
            burstable("t4g.large").unwrap().surplus_usd_per_vcpu_hour,
            0.04
        );
        assert_eq!(burstable("c5.large"), None);
    }
}
