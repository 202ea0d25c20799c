//! `kind = "link"`: the network between two places (two regions, or a
//! client area and a region). A request crossing it waits half a round
//! trip on the way out, visits `to`, and waits half a round trip (an
//! independent draw) on the way back with the answer. Each direction
//! is a pure delay: the link never queues (an infinite-server station,
//! so its visit time is exactly the sum of the two halves).
//!
//! With `loss`, a share of the requests is lost on the way out: the caller
//! hears an error once the way out has passed (a reset connection), which
//! its retry rules (`[components.<caller>.call.<callee>]`) may retry.
//!
//! With `transfer`, the bytes crossing it are billed per GB at AWS's
//! published prices: `"internet"` (users' requests come in free, the
//! responses are data transfer out to the internet, priced by the tier of
//! the month's volume), `"inter-region"` ($0.02/GB, each way, where it
//! leaves) or `"inter-az"` ($0.01/GB each side). The sizes are the request
//! classes' `request_kb` and `response_kb`; a response is counted when it
//! is answered.
//!
//! With `bandwidth` (`"1Gbps"`, `"100Mbps"`), each direction is also a
//! pipe that sends one message at a time, first come first served: a
//! message waits for the ones before it, then takes its size / bandwidth
//! to send, then the half round trip to arrive (a FIFO single server in
//! front of a pure delay: M/D/1 for Poisson traffic of one size).
//!
//! Scenarios with regions get their links written for them (see
//! [`crate::regions`]): one on every call that crosses regions and one
//! from each client area to each region, with the round trips of
//! [`crate::regions::matrix`] unless `[regions.<name>] rtt` overrides them.

use crate::dist::{Dist, DistConfig};
use crate::fleet::bill::{Meter, Price, Purchases, Usage, DATA_OUT, INTER_AZ, INTER_REGION};
use crate::fleet::cost::CostConfig;
use crate::flow::{Caller, CompId, Component, Cx, Outcome, VisitId, Wake};
use crate::kinds::{BuildCx, CheckCx, Kind, KindConfig};
use crate::measure::{Counters, Stats, TsRow};
use rand::Rng;
use scalesim_sim::{stream, SimRng, Time};
use serde::Deserialize;

/// `[components.<name>]` with `kind = "link"`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LinkConfig {
    /// Always "link".
    #[serde(default)]
    pub kind: Option<String>,
    /// What is on the other side.
    pub to: String,
    /// The round trip's law: each way takes half of a draw.
    pub rtt: DistConfig,
    /// Share of requests lost on the way out (an error for the caller).
    #[serde(default)]
    pub loss: f64,
    /// How the bytes crossing it are billed.
    #[serde(default)]
    pub transfer: Transfer,
    /// Each direction's capacity, bits per second (`"1Gbps"`); none: the
    /// messages never wait for each other.
    #[serde(default, deserialize_with = "de_bandwidth")]
    pub bandwidth: Option<f64>,
    /// Some request class has no sizes (set by placement: its bytes are
    /// not billed, and the bill says so).
    #[serde(skip)]
    pub sizes_missing: bool,
}

/// What crossing a link is billed as.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Transfer {
    /// Not billed.
    #[default]
    None,
    /// To the internet: responses are data transfer out (tiered).
    Internet,
    /// Between AWS regions, both ways.
    InterRegion,
    /// Between availability zones, both ways.
    InterAz,
}

impl Transfer {
    /// Its bill line and price; whether requests are billed too.
    fn priced(self) -> Option<(&'static str, Price, bool)> {
        match self {
            Transfer::None => None,
            Transfer::Internet => Some(("data transfer out", DATA_OUT, false)),
            Transfer::InterRegion => Some(("inter-region transfer", INTER_REGION, true)),
            Transfer::InterAz => Some(("inter-AZ transfer", INTER_AZ, true)),
        }
    }
}

/// Reads `"10Gbps"`, `"100Mbps"`, `"64kbps"`, `"1e9bps"` as bits per
/// second.
pub fn parse_bandwidth(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let bad = || {
        format!("{s:?} is not a bandwidth: write a number and bps, kbps, Mbps or Gbps, such as \"1Gbps\" (bits per second)")
    };
    let units = [("Gbps", 1e9), ("Mbps", 1e6), ("kbps", 1e3), ("bps", 1.0)];
    let (num, k) = units
        .iter()
        .find_map(|(u, k)| t.strip_suffix(u).map(|n| (n.trim(), *k)))
        .ok_or_else(bad)?;
    let v: f64 = num.parse().map_err(|_| bad())?;
    if !(v.is_finite() && v > 0.0 && v * k <= 1e15) {
        return Err(format!(
            "expected a bandwidth above 0 and at most 1 Pbps; got {s:?}"
        ));
    }
    Ok(v * k)
}

fn de_bandwidth<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let s = String::deserialize(d)?;
    parse_bandwidth(&s)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// One direction of a link with a bandwidth: messages go one at a time.
#[derive(Clone, Copy, Debug)]
struct Pipe {
    /// Bytes per nanosecond.
    bytes_per_ns: f64,
    /// When the message being sent is out.
    free_at: Time,
}

impl Pipe {
    /// A message of `kb` KB handed to the pipe now is out after this.
    fn send(&mut self, now: Time, kb: f64) -> Time {
        if kb <= 0.0 {
            return 0;
        }
        let start = self.free_at.max(now);
        self.free_at = start + (kb * 1e3 / self.bytes_per_ns).round() as Time;
        self.free_at - now
    }
}

/// Its events.
const OUT: u8 = 0;
const BACK: u8 = 1;

impl KindConfig for LinkConfig {
    fn kind(&self) -> &'static str {
        "link"
    }

    fn check(&self, _cx: &CheckCx) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Err((f, m)) = self.rtt.check() {
            out.push((format!("rtt.{f}"), m));
        } else if self.rtt.mean() > 60.0 {
            out.push((
                "rtt".into(),
                format!(
                    "a round trip of {} s is not a network (the farthest regions are under 0.3 s apart); give it in ms, such as \"70ms\"",
                    self.rtt.mean()
                ),
            ));
        }
        if !(0.0..1.0).contains(&self.loss) {
            out.push((
                "loss".into(),
                format!(
                    "expected a share of requests from 0 up to 1, such as 0.001; got {}",
                    self.loss
                ),
            ));
        }
        out
    }

    fn downstream(&self) -> Vec<(&'static str, &str)> {
        vec![("to", self.to.as_str())]
    }

    fn retarget(&mut self, to: &mut dyn FnMut(&str) -> String) {
        self.to = to(&self.to);
    }

    fn usage(&self, _cost: &CostConfig) -> Purchases {
        let mut p = Purchases::default();
        if let Some((item, price, _)) = self.transfer.priced() {
            p.items.push(Usage {
                item: item.into(),
                meter: Meter::Transfer,
                price,
            });
            if self.sizes_missing {
                p.unpriced.push(format!(
                    "{item} of the request classes without request_kb and response_kb (give them on the sources)"
                ));
            }
        }
        p
    }

    fn build(&self, b: &BuildCx) -> Kind {
        let billed = self.transfer.priced();
        let gb = |kb: Option<f64>| kb.unwrap_or(0.0) / 1e6;
        let pipe = self.bandwidth.map(|bps| Pipe {
            bytes_per_ns: bps / 8.0 / 1e9,
            free_at: 0,
        });
        Kind::Link(Box::new(LinkKind {
            kb: b
                .class_configs
                .iter()
                .map(|c| (c.request_kb.unwrap_or(0.0), c.response_kb.unwrap_or(0.0)))
                .collect(),
            pipes: pipe.map(|p| [p, p]),
            sizes: b
                .class_configs
                .iter()
                .map(|c| match billed {
                    Some((_, _, requests)) => (
                        if requests { gb(c.request_kb) } else { 0.0 },
                        gb(c.response_kb),
                    ),
                    None => (0.0, 0.0),
                })
                .collect(),
            transfer_gb: 0.0,
            to: (b.id)(&self.to),
            rtt: self.rtt.sampler(),
            loss: self.loss,
            rng: stream(b.seed, b.rep, b.label, "delay"),
            loss_rng: stream(b.seed, b.rep, b.label, "loss"),
        }))
    }
}

/// A link as it runs.
pub struct LinkKind {
    /// Per class: KB of a request and of a response.
    kb: Vec<(f64, f64)>,
    /// With a bandwidth: the way out and the way back.
    pipes: Option<[Pipe; 2]>,
    /// Per class: billed GB of a request and of a response.
    sizes: Vec<(f64, f64)>,
    /// Billed GB so far.
    transfer_gb: f64,
    to: CompId,
    rtt: Dist,
    loss: f64,
    rng: SimRng,
    loss_rng: SimRng,
}

impl LinkKind {
    /// Half a round trip, ns.
    fn half(&mut self) -> u64 {
        self.rtt.sample(&mut self.rng) / 2
    }
}

impl Component for LinkKind {
    fn releases_on_leave(&self) -> bool {
        false
    }

    fn enter(&mut self, cx: &mut Cx, v: VisitId, _caller: Caller) {
        let class = cx.request_of(v).class as usize;
        self.transfer_gb += self.sizes[class].0;
        let sent = self
            .pipes
            .as_mut()
            .map_or(0, |p| p[0].send(cx.now, self.kb[class].0));
        let d = sent + self.half();
        cx.after(d, OUT, v.slot(), 0);
    }

    fn on_wake(&mut self, cx: &mut Cx, w: Wake) {
        let v = VisitId::from_slot(w.a);
        match w.tag {
            OUT if cx.cancelled(v) => cx.drop_cancelled(v),
            OUT if self.loss > 0.0 && self.loss_rng.random::<f64>() < self.loss => cx.lose(v),
            OUT => cx.call(v, self.to),
            _ => cx.leave(v, Outcome::from_code(w.b)),
        }
    }

    fn on_answer(&mut self, cx: &mut Cx, v: VisitId, outcome: Outcome) {
        let class = cx.request_of(v).class as usize;
        let mut sent = 0;
        if outcome == Outcome::Ok {
            self.transfer_gb += self.sizes[class].1;
            sent = self
                .pipes
                .as_mut()
                .map_or(0, |p| p[1].send(cx.now, self.kb[class].1));
        }
        let d = sent + self.half();
        cx.after(d, BACK, v.slot(), outcome.code());
    }

    fn counters(&self, _now: Time, c: &mut Counters) {
        c.transfer_gb = self.transfer_gb;
    }

    fn window(&mut self, d: &Counters, _stats: &Stats, _dt: f64, row: &mut TsRow) {
        if self.sizes.iter().any(|s| s.0 + s.1 > 0.0) {
            row.transfer_gb = Some(d.transfer_gb);
        }
    }
}
