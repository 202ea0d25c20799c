//! The rest of the bill: what a cloud account pays for a platform besides
//! instance-hours — load balancer hours and capacity units, data transfer
//! out, NAT gateway hours, database storage and IOPS, the standby of a
//! Multi-AZ database, managed-queue requests — metered from the run, each
//! at its published AWS price, and a list of what is not priced.
//!
//! A kind says what it buys through [`crate::kinds::KindConfig::usage`]
//! (fleets: a load balancer; databases: storage, IOPS, Multi-AZ; queues:
//! managed requests); [`meter`] measures each item from the component's
//! time series (per window, so load balancer capacity units follow the
//! hour-by-hour load as AWS bills them) and prices it.
//!
//! Prices: us-east-1 list prices as published in 2025-2026 on the pages
//! cited with each one. No free tier is applied (it is per account, not per
//! platform). They change: every item's quantity is in `summary.json` with
//! its unit price, so a bill can be re-priced by hand.

use super::cost::{CostConfig, Pricing, HOURS_PER_MONTH};
use crate::measure::TsRow;
use serde::Deserialize;

/// One published unit price.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Price {
    /// USD per unit.
    pub usd: f64,
    /// The unit, e.g. `LCU-hour`, `GB-month`, `million requests`.
    pub unit: &'static str,
    /// Where the price is published.
    pub source: &'static str,
}

const ELB: &str = "https://aws.amazon.com/elasticloadbalancing/pricing/";
const EC2: &str = "https://aws.amazon.com/ec2/pricing/on-demand/ (data transfer)";
const VPC: &str = "https://aws.amazon.com/vpc/pricing/ (NAT gateway)";
const RDS: &str = "https://aws.amazon.com/rds/postgresql/pricing/";
const SQS: &str = "https://aws.amazon.com/sqs/pricing/";

/// Application Load Balancer, per hour.
pub const ALB_HOUR: Price = Price {
    usd: 0.0225,
    unit: "ALB-hour",
    source: ELB,
};
/// Application Load Balancer capacity unit, per hour.
pub const ALB_LCU: Price = Price {
    usd: 0.008,
    unit: "LCU-hour",
    source: ELB,
};
/// Network Load Balancer, per hour.
pub const NLB_HOUR: Price = Price {
    usd: 0.0225,
    unit: "NLB-hour",
    source: ELB,
};
/// Network Load Balancer capacity unit, per hour.
pub const NLB_NLCU: Price = Price {
    usd: 0.006,
    unit: "NLCU-hour",
    source: ELB,
};
/// Data transfer out to the internet (the first 10 TB/month tier; the
/// account's monthly volume sets the tier: [`DATA_OUT_TIERS`]).
pub const DATA_OUT: Price = Price {
    usd: 0.09,
    unit: "GB",
    source: EC2,
};
/// Data transfer out to the internet by monthly volume: (GB up to which,
/// USD per GB): the next 40 TB at $0.085, the next 100 TB at $0.07, above
/// 150 TB $0.05 (EC2 on-demand pricing, data transfer).
pub const DATA_OUT_TIERS: [(f64, f64); 4] = [
    (10_240.0, 0.09),
    (51_200.0, 0.085),
    (153_600.0, 0.07),
    (f64::INFINITY, 0.05),
];
/// Data transfer from one AWS region to another (billed where it leaves).
pub const INTER_REGION: Price = Price {
    usd: 0.02,
    unit: "GB",
    source: EC2,
};
/// Data transfer between availability zones: $0.01/GB in each direction,
/// so $0.02 per GB that crosses.
pub const INTER_AZ: Price = Price {
    usd: 0.02,
    unit: "GB",
    source: EC2,
};
/// NAT gateway, per hour.
pub const NAT_HOUR: Price = Price {
    usd: 0.045,
    unit: "NAT-gateway-hour",
    source: VPC,
};
/// RDS General Purpose (gp2, gp3) storage.
pub const RDS_GP_GB: Price = Price {
    usd: 0.115,
    unit: "GB-month",
    source: RDS,
};
/// RDS gp3 IOPS above the included baseline.
pub const RDS_GP3_IOPS: Price = Price {
    usd: 0.02,
    unit: "IOPS-month",
    source: RDS,
};
/// RDS Provisioned IOPS (io1) storage.
pub const RDS_IO1_GB: Price = Price {
    usd: 0.125,
    unit: "GB-month",
    source: RDS,
};
/// RDS Provisioned IOPS (io1), per provisioned IOPS.
pub const RDS_IO1_IOPS: Price = Price {
    usd: 0.10,
    unit: "IOPS-month",
    source: RDS,
};
/// SQS standard queue requests.
pub const SQS_STANDARD: Price = Price {
    usd: 0.40,
    unit: "million requests",
    source: SQS,
};
/// SQS FIFO queue requests.
pub const SQS_FIFO: Price = Price {
    usd: 0.50,
    unit: "million requests",
    source: SQS,
};

/// How a priced item's quantity is measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Meter {
    /// `n` units held the whole run: n x hours (a load balancer, a standby).
    Hours(f64),
    /// A monthly quantity prorated over the run: n x hours / 730 (GB-month).
    Months(f64),
    /// `per` units for each visit reaching the component (requests, GB).
    Arrivals(f64),
    /// Load balancer capacity units, per window the largest dimension x
    /// the window's hours (AWS bills the dimension with the highest usage
    /// each hour).
    CapacityUnits(Dimensions),
    /// The GB a link carried (its `transfer_gb`).
    Transfer,
}

/// What one capacity unit covers (ELB pricing page): new connections per
/// second, active connections, GB processed per hour; and how the
/// component's requests map onto them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dimensions {
    /// New connections (flows) per second one unit covers.
    pub new_per_s: f64,
    /// Active connections one unit covers.
    pub active: f64,
    /// GB processed per hour one unit covers.
    pub gb_per_hour: f64,
    /// Requests carried by one connection (HTTP keep-alive).
    pub requests_per_connection: f64,
    /// KB processed per request (request + response).
    pub kb_per_request: f64,
}

/// One priced item a component buys besides its instance-hours.
#[derive(Clone, Debug, PartialEq)]
pub struct Usage {
    /// What it is, e.g. `ALB LCU-hours`.
    pub item: String,
    /// How it is measured.
    pub meter: Meter,
    /// Its unit price.
    pub price: Price,
}

/// What a component buys and what of it is left unpriced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Purchases {
    /// Priced items.
    pub items: Vec<Usage>,
    /// What it has that is not priced, with what to write to price it.
    pub unpriced: Vec<String>,
}

/// One line of the bill.
#[derive(Clone, Debug, PartialEq)]
pub struct BillLine {
    /// The component that buys it (`""`: the account).
    pub component: String,
    /// What it is.
    pub item: String,
    /// Quantity over the run, in `price.unit`.
    pub quantity: f64,
    /// Its unit price.
    pub price: Price,
    /// Quantity x price, USD.
    pub usd: f64,
    /// The part accrued after warm-up, USD.
    pub measured_usd: f64,
}

/// Everything besides instance-hours, and what is not priced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bill {
    /// Priced lines, in component order.
    pub lines: Vec<BillLine>,
    /// What is not priced, in component order, then the account's.
    pub unpriced: Vec<String>,
}

impl Bill {
    /// Sum of the lines, USD.
    pub fn usd(&self) -> f64 {
        self.lines.iter().map(|l| l.usd).sum()
    }

    /// Sum of the lines after warm-up, USD.
    pub fn measured_usd(&self) -> f64 {
        self.lines.iter().map(|l| l.measured_usd).sum()
    }
}

/// `load_balancer = "alb"` or a table, on a fleet: an AWS load balancer in
/// front of it, billed per hour and per capacity unit.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadBalancer {
    /// `alb` (HTTP, LCUs) or `nlb` (TCP, NLCUs).
    pub kind: LbKind,
    /// KB of each request (headers and body) through the balancer.
    pub request_kb: f64,
    /// KB of each response; billed again as data transfer out when the
    /// balancer faces the internet.
    pub response_kb: f64,
    /// Requests per client connection (HTTP keep-alive; 1: a new
    /// connection per request).
    pub requests_per_connection: f64,
    /// Whether responses leave AWS (data transfer out).
    pub internet_facing: bool,
}

/// An AWS load balancer type.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LbKind {
    /// Application Load Balancer.
    Alb,
    /// Network Load Balancer.
    Nlb,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LbTable {
    #[serde(rename = "type")]
    kind: LbKind,
    #[serde(default)]
    request_kb: f64,
    #[serde(default)]
    response_kb: f64,
    #[serde(default = "one")]
    requests_per_connection: f64,
    #[serde(default = "yes")]
    internet_facing: bool,
}

fn one() -> f64 {
    1.0
}

fn yes() -> bool {
    true
}

impl<'de> Deserialize<'de> for LoadBalancer {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Short(LbKind),
            Table(LbTable),
        }
        let t = match Form::deserialize(d).map_err(|_| {
            serde::de::Error::custom(
                "load_balancer is \"alb\", \"nlb\" or a table { type = \"alb\", request_kb = 2, response_kb = 20, requests_per_connection = 1, internet_facing = true }",
            )
        })? {
            Form::Short(kind) => LbTable {
                kind,
                request_kb: 0.0,
                response_kb: 0.0,
                requests_per_connection: 1.0,
                internet_facing: true,
            },
            Form::Table(t) => t,
        };
        Ok(LoadBalancer {
            kind: t.kind,
            request_kb: t.request_kb,
            response_kb: t.response_kb,
            requests_per_connection: t.requests_per_connection,
            internet_facing: t.internet_facing,
        })
    }
}

impl LoadBalancer {
    /// Checks the numbers; `Err((field, message))`.
    pub fn check(&self) -> Result<(), (String, String)> {
        for (f, v) in [
            ("request_kb", self.request_kb),
            ("response_kb", self.response_kb),
        ] {
            if !(v.is_finite() && (0.0..=1e6).contains(&v)) {
                return Err((
                    format!("load_balancer.{f}"),
                    format!("expected KB per request between 0 and 1e6 (1 GB), got {v}"),
                ));
            }
        }
        let r = self.requests_per_connection;
        if !(r.is_finite() && (1.0..=1e9).contains(&r)) {
            return Err((
                "load_balancer.requests_per_connection".into(),
                format!("expected requests per connection between 1 and 1e9, got {r}"),
            ));
        }
        Ok(())
    }

    /// What it costs: hours, capacity units, and data transfer out.
    pub fn purchases(&self, out: &mut Purchases) {
        let (name, hour, unit, dims) = match self.kind {
            // ALB LCU: 25 new connections/s, 3,000 active connections
            // (per minute), 1 GB/hour processed (EC2 targets), 1,000 rule
            // evaluations/s (the first 10 rules are free; not metered).
            LbKind::Alb => ("ALB", ALB_HOUR, ALB_LCU, (25.0, 3000.0, 1.0)),
            // NLB NLCU (TCP): 800 new flows/s, 100,000 active flows, 1 GB/h.
            LbKind::Nlb => ("NLB", NLB_HOUR, NLB_NLCU, (800.0, 100_000.0, 1.0)),
        };
        out.items.push(Usage {
            item: format!("{name} hours"),
            meter: Meter::Hours(1.0),
            price: hour,
        });
        out.items.push(Usage {
            item: format!("{name} capacity units"),
            meter: Meter::CapacityUnits(Dimensions {
                new_per_s: dims.0,
                active: dims.1,
                gb_per_hour: dims.2,
                requests_per_connection: self.requests_per_connection,
                kb_per_request: self.request_kb + self.response_kb,
            }),
            price: unit,
        });
        if self.request_kb + self.response_kb == 0.0 {
            out.unpriced.push(format!(
                "{name} processed bytes (give load_balancer.request_kb and response_kb)"
            ));
        }
        if self.internet_facing && self.response_kb > 0.0 {
            out.items.push(Usage {
                item: "data transfer out".into(),
                meter: Meter::Arrivals(self.response_kb / 1e6),
                price: DATA_OUT,
            });
        }
    }
}

/// `storage = { gb = 500, type = "gp3", iops = 12000 }` on a database:
/// the volume every instance (primary, standby, replica) keeps.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    /// Allocated GB per copy.
    pub gb: f64,
    /// Volume type.
    #[serde(rename = "type", default)]
    pub kind: VolumeKind,
    /// Provisioned IOPS (gp3: above the baseline they are billed; io1:
    /// all are billed). Default: the gp3 baseline.
    #[serde(default)]
    pub iops: Option<f64>,
}

/// An RDS volume type.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum VolumeKind {
    /// General Purpose SSD gp3: 3,000 IOPS included below 400 GB, 12,000
    /// from 400 GB (RDS pricing page).
    #[default]
    Gp3,
    /// General Purpose SSD gp2: IOPS come with the size (3 per GB).
    Gp2,
    /// Provisioned IOPS SSD io1: every IOPS billed.
    Io1,
}

impl Storage {
    /// Checks the numbers; `Err((field, message))`.
    pub fn check(&self) -> Result<(), (String, String)> {
        // RDS volumes are 20 GiB to 64 TiB.
        if !(self.gb.is_finite() && (1.0..=65_536.0).contains(&self.gb)) {
            return Err((
                "storage.gb".into(),
                format!(
                    "expected GB per copy between 1 and 65536 (RDS allows 20 GiB-64 TiB), got {}",
                    self.gb
                ),
            ));
        }
        if let Some(i) = self.iops {
            if !(i.is_finite() && (0.0..=256_000.0).contains(&i)) {
                return Err((
                    "storage.iops".into(),
                    format!("expected IOPS between 0 and 256000 (the RDS maximum), got {i}"),
                ));
            }
            if self.kind == VolumeKind::Gp2 {
                return Err((
                    "storage.iops".into(),
                    "gp2 volumes get their IOPS from their size (3 per GB); use type = \"gp3\" or \"io1\" to provision IOPS".into(),
                ));
            }
        }
        Ok(())
    }

    /// What `copies` volumes cost per month: GB and IOPS.
    pub fn purchases(&self, copies: f64, out: &mut Purchases) {
        let (gb, iops) = match self.kind {
            VolumeKind::Gp3 | VolumeKind::Gp2 => (RDS_GP_GB, RDS_GP3_IOPS),
            VolumeKind::Io1 => (RDS_IO1_GB, RDS_IO1_IOPS),
        };
        out.items.push(Usage {
            item: format!("storage ({:?}, {copies} copies)", self.kind).to_lowercase(),
            meter: Meter::Months(self.gb * copies),
            price: gb,
        });
        let billed_iops = match self.kind {
            VolumeKind::Gp2 => 0.0,
            VolumeKind::Gp3 => {
                let baseline = if self.gb < 400.0 { 3000.0 } else { 12000.0 };
                (self.iops.unwrap_or(baseline) - baseline).max(0.0)
            }
            VolumeKind::Io1 => self.iops.unwrap_or(1000.0),
        };
        if billed_iops > 0.0 {
            out.items.push(Usage {
                item: "provisioned IOPS".into(),
                meter: Meter::Months(billed_iops * copies),
                price: iops,
            });
        }
    }
}

/// `managed = "sqs"` on a queue: billed per request, not per broker.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ManagedQueue {
    /// SQS standard queue.
    Sqs,
    /// SQS FIFO queue.
    SqsFifo,
}

impl ManagedQueue {
    /// Each job is a SendMessage, a ReceiveMessage and a DeleteMessage,
    /// each billed per 64 KB chunk of its payload (SQS pricing page).
    pub fn purchases(self, message_kb: f64, out: &mut Purchases) {
        let chunks = (message_kb / 64.0).ceil().max(1.0);
        let price = match self {
            ManagedQueue::Sqs => SQS_STANDARD,
            ManagedQueue::SqsFifo => SQS_FIFO,
        };
        out.items.push(Usage {
            item: "SQS requests".into(),
            meter: Meter::Arrivals(3.0 * chunks / 1e6),
            price,
        });
    }
}

/// A Multi-AZ standby: the same instances again at the same price (RDS
/// Multi-AZ instance deployments are priced at twice Single-AZ).
pub fn standby(pricing: &Pricing, instances: u32, cost: &CostConfig, out: &mut Purchases) {
    match pricing.hourly(cost) {
        Ok(Some(h)) => out.items.push(Usage {
            item: "Multi-AZ standby".into(),
            meter: Meter::Hours(instances as f64),
            price: Price {
                usd: h,
                unit: "instance-hour",
                source: RDS,
            },
        }),
        _ => out
            .unpriced
            .push("Multi-AZ standby (give the primary an instance_type)".into()),
    }
}

/// `[[cost.monthly]]`: a fixed monthly line (support, monitoring, a
/// licence), prorated over the run.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Monthly {
    /// What it is.
    pub item: String,
    /// USD per month.
    pub usd: f64,
}

/// Measures and prices what each component buys. `rows`: the run's time
/// series; `purchases`: per component name; `warmup`, `end`: seconds.
pub fn meter(purchases: &[(String, Purchases)], rows: &[TsRow], warmup: f64, end: f64) -> Bill {
    let mut bill = Bill::default();
    for (name, p) in purchases {
        let mine: Vec<&TsRow> = rows.iter().filter(|r| &r.component == name).collect();
        for u in &p.items {
            let (quantity, measured) = quantity(&u.meter, &mine, warmup, end);
            bill.lines.push(BillLine {
                component: name.clone(),
                item: u.item.clone(),
                quantity,
                price: u.price,
                usd: quantity * u.price.usd,
                measured_usd: measured * u.price.usd,
            });
        }
        bill.unpriced
            .extend(p.unpriced.iter().map(|s| match name.as_str() {
                "" => s.clone(),
                _ => format!("{name}: {s}"),
            }));
    }
    tier_data_out(&mut bill, end);
    bill
}

/// Reprices the lines of data out to the internet at the tier the run's
/// volume, projected to a month, falls in: each GB at the mean price of
/// the month's GBs (AWS tiers the account's monthly total).
fn tier_data_out(bill: &mut Bill, end: f64) {
    let out = |l: &&mut BillLine| l.price == DATA_OUT;
    let gb: f64 = bill.lines.iter_mut().filter(out).map(|l| l.quantity).sum();
    if gb <= 0.0 || end <= 0.0 {
        return;
    }
    let month = gb * HOURS_PER_MONTH * 3600.0 / end;
    let usd_per_gb = tiered_usd(month) / month;
    for l in bill.lines.iter_mut().filter(out) {
        let k = usd_per_gb / l.price.usd;
        l.usd *= k;
        l.measured_usd *= k;
        l.price.usd = usd_per_gb;
    }
}

/// What `gb` of data out to the internet in a month costs.
pub fn tiered_usd(gb: f64) -> f64 {
    let (mut usd, mut from) = (0.0, 0.0);
    for (upto, price) in DATA_OUT_TIERS {
        if gb <= from {
            break;
        }
        usd += (gb.min(upto) - from) * price;
        from = upto;
    }
    usd
}

/// The quantity over the run and after warm-up.
fn quantity(m: &Meter, rows: &[&TsRow], warmup: f64, end: f64) -> (f64, f64) {
    let hours = end / 3600.0;
    let measured_hours = (end - warmup).max(0.0) / 3600.0;
    match *m {
        Meter::Hours(n) => (n * hours, n * measured_hours),
        Meter::Months(n) => (
            n * hours / HOURS_PER_MONTH,
            n * measured_hours / HOURS_PER_MONTH,
        ),
        Meter::Arrivals(per) => windows(rows, warmup, |r, _| per * r.arrivals as f64),
        Meter::Transfer => windows(rows, warmup, |r, _| r.transfer_gb.unwrap_or(0.0)),
        Meter::CapacityUnits(d) => windows(rows, warmup, |r, dt| {
            let connections = r.arrivals as f64 / d.requests_per_connection;
            let new = connections / dt / d.new_per_s;
            // An in-flight request holds a connection (idle keep-alive
            // connections are not seen: a lower bound).
            let active = r.in_flight / d.active;
            let gb_per_hour = r.arrivals as f64 * d.kb_per_request / 1e6 / (dt / 3600.0);
            let processed = gb_per_hour / d.gb_per_hour;
            new.max(active).max(processed) * dt / 3600.0
        }),
    }
}

/// Sums `f(row, window seconds)` over the windows, and over the part of
/// each window after warm-up.
fn windows(rows: &[&TsRow], warmup: f64, f: impl Fn(&TsRow, f64) -> f64) -> (f64, f64) {
    let (mut total, mut measured, mut start) = (0.0, 0.0, 0.0);
    for r in rows {
        let dt = r.t_s - start;
        if dt > 0.0 {
            let q = f(r, dt);
            total += q;
            measured += q * ((r.t_s - warmup.max(start)) / dt).clamp(0.0, 1.0);
        }
        start = r.t_s;
    }
    (total, measured)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(component: &str, t_s: f64, arrivals: u64, in_flight: f64) -> TsRow {
        TsRow {
            t_s,
            component: component.into(),
            arrivals,
            in_flight,
            ..TsRow::default()
        }
    }

    fn lb(kind: LbKind, request_kb: f64, response_kb: f64) -> Purchases {
        let mut p = Purchases::default();
        LoadBalancer {
            kind,
            request_kb,
            response_kb,
            requests_per_connection: 1.0,
            internet_facing: true,
        }
        .purchases(&mut p);
        p
    }

    #[test]
    fn alb_capacity_units_follow_the_busiest_dimension_by_hand() {
        // Hour 1: 6,000 requests in flight = 2 LCU of active connections
        // (1,000 new connections and 0.1 GB are less).
        // Hour 2: 10/s with 100 KB each: 3.6 GB/h = 3.6 LCU (bytes dominate).
        let rows = [
            row("api", 3600.0, 1_000, 6000.0),
            row("api", 7200.0, 36_000, 5.0),
        ];
        let p = lb(LbKind::Alb, 0.0, 100.0);
        let bill = meter(&[("api".into(), p)], &rows, 3600.0, 7200.0);
        let lcu = &bill.lines[1];
        assert_eq!(lcu.item, "ALB capacity units");
        assert!((lcu.quantity - 5.6).abs() < 1e-9, "{}", lcu.quantity);
        assert!((lcu.usd - 5.6 * 0.008).abs() < 1e-12);
        // After the 1 h warm-up only the second hour counts.
        assert!((lcu.measured_usd - 3.6 * 0.008).abs() < 1e-12);
        // Two ALB-hours; data out is 37,000 x 100 KB = 3.7 GB.
        assert!((bill.lines[0].usd - 2.0 * 0.0225).abs() < 1e-12);
        assert!((bill.lines[2].quantity - 3.7).abs() < 1e-9);
        assert!((bill.lines[2].usd - 3.7 * 0.09).abs() < 1e-9);
        // No bytes: 50 new connections/s for an hour is 2 LCU-hours.
        let p = lb(LbKind::Alb, 0.0, 0.0);
        let bill = meter(
            &[("api".into(), p)],
            &[row("api", 3600.0, 180_000, 1.0)],
            0.0,
            3600.0,
        );
        assert!((bill.lines[1].quantity - 2.0).abs() < 1e-9);
    }

    #[test]
    fn nothing_unpriced_is_silent() {
        let p = lb(LbKind::Nlb, 0.0, 0.0);
        assert_eq!(p.items.len(), 2, "no bytes: no data transfer line");
        let bill = meter(&[("api".into(), p)], &[], 0.0, 3600.0);
        assert_eq!(bill.unpriced.len(), 1);
        assert!(bill.unpriced[0].starts_with("api: NLB processed bytes"));
    }

    #[test]
    fn gp3_bills_iops_above_the_baseline_and_months_prorate() {
        let s = Storage {
            gb: 500.0,
            kind: VolumeKind::Gp3,
            iops: Some(15000.0),
        };
        let mut p = Purchases::default();
        s.purchases(2.0, &mut p);
        // 730 h is one month: 1,000 GB-month and 6,000 IOPS-month.
        let bill = meter(&[("db".into(), p)], &[], 0.0, 730.0 * 3600.0);
        assert!((bill.lines[0].usd - 1000.0 * 0.115).abs() < 1e-9);
        assert!((bill.lines[1].usd - 6000.0 * 0.02).abs() < 1e-9);
        let small = Storage {
            gb: 100.0,
            kind: VolumeKind::Gp3,
            iops: None,
        };
        let mut p = Purchases::default();
        small.purchases(1.0, &mut p);
        assert_eq!(p.items.len(), 1, "the baseline is included");
    }

    #[test]
    fn sqs_counts_three_requests_per_64kb_chunk() {
        let mut p = Purchases::default();
        ManagedQueue::Sqs.purchases(100.0, &mut p);
        let rows = [row("jobs", 60.0, 1_000_000, 0.0)];
        let bill = meter(&[("jobs".into(), p)], &rows, 0.0, 60.0);
        // 1 M jobs x 3 requests x 2 chunks = 6 M requests.
        assert!((bill.lines[0].usd - 6.0 * 0.40).abs() < 1e-9);
        assert!(bill.lines[0].quantity > 0.0);
    }

    #[test]
    fn load_balancer_reads_both_forms_and_refuses_others() {
        #[derive(Deserialize)]
        struct W {
            lb: LoadBalancer,
        }
        let w: W = serde_yaml_ng::from_str("lb: alb").unwrap();
        assert_eq!(w.lb.kind, LbKind::Alb);
        let w: W = serde_yaml_ng::from_str("lb: { type: nlb, response_kb: 20 }").unwrap();
        assert_eq!((w.lb.kind, w.lb.response_kb), (LbKind::Nlb, 20.0));
        let e = serde_yaml_ng::from_str::<W>("lb: elb")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("\"alb\", \"nlb\" or a table"), "{e}");
    }
}
