//! `kind = "dns"`: the global entry that picks a region for each request,
//! as Amazon Route 53 (and global load balancers) answer a name whose
//! records point at one component's copies, one per region.
//!
//! Routing, following the Route 53 Developer Guide ("Choosing a routing
//! policy", "How Amazon Route 53 chooses records when health checking is
//! configured"):
//! - `weighted`: a record is answered with probability weight / sum of the
//!   weights of the healthy records (weights 0-255); weight-0 records are
//!   answered only when no other record is healthy.
//! - `latency`: the healthy region of lowest round trip from the client's
//!   area (the area's row of the latency matrix).
//! - `geolocation`: the region `locations` gives the client's area, else
//!   the `default` one; if that record is unhealthy, the default.
//! - `failover`: the first healthy region of `failover = [primary,
//!   secondary]`.
//!
//! When no record is healthy, Route 53 treats them all as healthy (fail
//! open). Health comes from `health_check`: every `interval` a probe goes
//! to each region's copy; a region turns unhealthy after
//! `failure_threshold` probes in a row fail (an error, or no answer within
//! `timeout`) and healthy again after as many succeed. Route 53's
//! defaults: 30 s and 3, so a region that dies is seen about 90 s later.
//! Without health checks every record counts as healthy.
//!
//! Resolvers keep an answer for `ttl`: a client asking at `t` gets the
//! answer its resolver fetched at `t - u x ttl` (u uniform: resolvers
//! refresh at independent times), so when health changes, the share of
//! clients still sent by the old view falls linearly to 0 over one TTL.

use crate::flow::{Caller, CompId, Component, Cx, Outcome, Request, VisitId, Wake};
use crate::kinds::{BuildCx, CheckCx, Kind, KindConfig};
use crate::units::Duration;
use rand::Rng;
use scalesim_sim::{stream, SimRng, Time};
use serde::Deserialize;
use std::collections::{BTreeMap, VecDeque};

/// At most this many regions per name (a view is a 64-bit mask).
pub const MAX_RECORDS: usize = 64;

/// How a dns entry picks a region.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Routing {
    /// By weight.
    Weighted,
    /// Lowest round trip from the client's area.
    Latency,
    /// By the client's area.
    Geolocation,
    /// The primary while it is healthy, else the secondary.
    Failover,
}

/// `health_check = { interval = "30s", failure_threshold = 3 }`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HealthCheckConfig {
    /// Between two probes of a region (Route 53: 30 s standard, 10 s fast).
    #[serde(default = "default_interval")]
    pub interval: Duration,
    /// Probes in a row that flip a region's health (Route 53: 1-10,
    /// default 3).
    #[serde(default = "default_threshold")]
    pub failure_threshold: u32,
    /// A probe not answered within this fails (Route 53 HTTP checks: a
    /// connection within 4 s and an answer within 2 s more).
    #[serde(default = "default_timeout")]
    pub timeout: Duration,
}

fn default_interval() -> Duration {
    Duration(30.0)
}
fn default_threshold() -> u32 {
    3
}
fn default_timeout() -> Duration {
    Duration(6.0)
}
fn default_ttl() -> Duration {
    Duration(60.0)
}

/// One region's record: the copy it answers with, and how each client
/// area reaches it (filled by placement).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record {
    /// Its region.
    pub region: String,
    /// The copy in that region.
    pub copy: String,
    /// Client area -> (the link from it to the copy, its mean RTT in s).
    pub by_area: BTreeMap<String, (String, f64)>,
}

/// `[components.<name>]` with `kind = "dns"`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DnsConfig {
    /// Always "dns".
    #[serde(default)]
    pub kind: Option<String>,
    /// The component it answers with: one that runs in several regions
    /// (`regions = [...]`); each copy is a record.
    pub to: String,
    /// How it picks: `weighted`, `latency`, `geolocation` or `failover`.
    pub routing: Routing,
    /// `weighted`: a weight per region, 0-255.
    #[serde(default)]
    pub weights: BTreeMap<String, u32>,
    /// `geolocation`: client area -> region, and `default` for the rest.
    #[serde(default)]
    pub locations: BTreeMap<String, String>,
    /// `failover`: the primary region, then the secondary.
    #[serde(default)]
    pub failover: Vec<String>,
    /// How long resolvers keep an answer (default 60 s: AWS's advice with
    /// health checks, and the TTL of an alias to a load balancer).
    #[serde(default = "default_ttl")]
    pub ttl: Duration,
    /// Health checks of the regions (default: none, all healthy).
    #[serde(default)]
    pub health_check: Option<HealthCheckConfig>,
    /// One record per region of `to` (filled by placement, not written).
    #[serde(skip)]
    pub records: Vec<Record>,
}

impl DnsConfig {
    /// Index of the record of region `r`.
    fn record(&self, r: &str) -> Option<usize> {
        self.records.iter().position(|x| x.region == r)
    }

    fn regions(&self) -> String {
        let v: Vec<&str> = self.records.iter().map(|r| r.region.as_str()).collect();
        v.join(", ")
    }
}

impl KindConfig for DnsConfig {
    fn kind(&self) -> &'static str {
        "dns"
    }

    fn check(&self, _cx: &CheckCx) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut issue = |f: &str, m: String| out.push((f.to_string(), m));
        if self.records.is_empty() {
            issue(
                "to",
                format!(
                    "{:?} does not run in several regions: a dns entry picks among the copies of a component written with regions = [\"us-east-1\", ...]",
                    self.to
                ),
            );
            return out;
        }
        if self.records.len() > MAX_RECORDS {
            issue("to", format!("at most {MAX_RECORDS} regions per name"));
        }
        let known = |r: &str| self.record(r).is_some();
        for (r, w) in &self.weights {
            if !known(r) {
                issue(
                    &format!("weights.{r}"),
                    format!("{:?} runs in {}, not in {r}", self.to, self.regions()),
                );
            } else if *w > 255 {
                issue(
                    &format!("weights.{r}"),
                    format!("a Route 53 weight is a whole number from 0 to 255; got {w}"),
                );
            }
        }
        let areas: Vec<String> = self.records[0].by_area.keys().cloned().collect();
        match self.routing {
            Routing::Weighted => {
                if let Some(r) = self.records.iter().find(|r| !self.weights.contains_key(&r.region)) {
                    issue(
                        "weights",
                        format!(
                            "give every region a weight (0-255), such as weights = {{ {:?} = 50 }}: {} has none",
                            r.region, r.region
                        ),
                    );
                }
            }
            Routing::Latency if areas.is_empty() => issue(
                "routing",
                "latency routing answers with the region nearest the client: say where the users are with from = { us-east = 0.5, europe = 0.5 } on the sources".into(),
            ),
            Routing::Geolocation => {
                for (a, r) in &self.locations {
                    if !known(r) {
                        issue(
                            &format!("locations.{a}"),
                            format!("{:?} runs in {}, not in {r}", self.to, self.regions()),
                        );
                    } else if a != "default" && !areas.contains(a) {
                        issue(
                            &format!("locations.{a}"),
                            format!("no source has users in {a:?}; areas: {}", areas.join(", ")),
                        );
                    }
                }
                if !self.locations.contains_key("default") {
                    if let Some(a) = areas.iter().find(|a| !self.locations.contains_key(*a)) {
                        issue(
                            "locations",
                            format!("no region for the users in {a:?}: Route 53 would not answer them; add {a} = \"<region>\" or default = \"<region>\""),
                        );
                    }
                }
            }
            Routing::Failover => {
                if self.failover.len() != 2 {
                    issue(
                        "failover",
                        "expected the primary and the secondary region, such as failover = [\"us-east-1\", \"us-west-2\"]".into(),
                    );
                }
                for (i, r) in self.failover.iter().enumerate() {
                    if !known(r) {
                        issue(
                            &format!("failover.{i}"),
                            format!("{:?} runs in {}, not in {r}", self.to, self.regions()),
                        );
                    }
                }
            }
            Routing::Latency => {}
        }
        if !(self.ttl.secs() >= 0.0 && self.ttl.secs() <= 7.0 * 86400.0) {
            issue(
                "ttl",
                format!("expected a TTL from 0 to 7 days (Route 53 allows up to 68 years; resolvers cap it), such as \"60s\"; got {} s", self.ttl.secs()),
            );
        }
        if let Some(h) = &self.health_check {
            if h.interval.secs() < 1.0 {
                issue(
                    "health_check.interval",
                    "expected a probe interval of at least 1 s (Route 53: 10 s or 30 s)".into(),
                );
            }
            if !(1..=10).contains(&h.failure_threshold) {
                issue(
                    "health_check.failure_threshold",
                    format!(
                        "Route 53 takes 1 to 10 probes in a row; got {}",
                        h.failure_threshold
                    ),
                );
            }
            if !(h.timeout.secs() > 0.0 && h.timeout.secs() <= h.interval.secs()) {
                issue(
                    "health_check.timeout",
                    "expected a probe timeout above 0 and at most the interval".into(),
                );
            }
        }
        out
    }

    fn downstream(&self) -> Vec<(&'static str, &str)> {
        let mut v: Vec<(&'static str, &str)> = Vec::new();
        for r in &self.records {
            v.push(("to", r.copy.as_str()));
            v.extend(r.by_area.values().map(|(l, _)| ("to", l.as_str())));
        }
        v
    }

    fn retarget(&mut self, to: &mut dyn FnMut(&str) -> String) {
        for r in &mut self.records {
            r.copy = to(&r.copy);
            for (l, _) in r.by_area.values_mut() {
                *l = to(l);
            }
        }
    }

    fn build(&self, b: &BuildCx) -> Kind {
        let areas: Vec<String> = self.records[0].by_area.keys().cloned().collect();
        let n = self.records.len();
        // Per area (and last, for classes without one): each record's
        // entry and the records in order of preference.
        let mut entry: Vec<Vec<CompId>> = Vec::new();
        let mut order: Vec<Vec<u8>> = Vec::new();
        let at = |r: &str| self.record(r).unwrap_or(0) as u8;
        for a in areas.iter().map(Some).chain([None]) {
            entry.push(
                self.records
                    .iter()
                    .map(|r| match a {
                        Some(a) => (b.id)(&r.by_area[a].0),
                        None => (b.id)(&r.copy),
                    })
                    .collect(),
            );
            let mut o: Vec<u8> = (0..n as u8).collect();
            match self.routing {
                Routing::Latency => {
                    if let Some(a) = a {
                        let rtt = |i: &u8| self.records[*i as usize].by_area[a].1;
                        o.sort_by(|x, y| rtt(x).total_cmp(&rtt(y)));
                    }
                }
                Routing::Geolocation => {
                    let mine = a.and_then(|a| self.locations.get(a));
                    let def = self.locations.get("default");
                    o = mine.into_iter().chain(def).map(|r| at(r)).collect();
                    o.dedup();
                }
                Routing::Failover => o = self.failover.iter().map(|r| at(r)).collect(),
                Routing::Weighted => {}
            }
            order.push(o);
        }
        let area_of = b
            .class_configs
            .iter()
            .map(|c| {
                let i = c
                    .area
                    .as_ref()
                    .and_then(|c| areas.iter().position(|a| a == c));
                i.unwrap_or(areas.len()) as u16
            })
            .collect();
        let all = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
        Kind::Dns(Box::new(DnsKind {
            name: b.name.to_string(),
            regions: self.records.iter().map(|r| r.region.clone()).collect(),
            routing: self.routing,
            weights: self
                .records
                .iter()
                .map(|r| self.weights.get(&r.region).copied().unwrap_or(0))
                .collect(),
            area_of,
            entry,
            order,
            ttl: self.ttl.time(),
            views: VecDeque::from([(0, all)]),
            check: self.health_check.map(|h| Checker {
                interval: h.interval.time(),
                threshold: h.failure_threshold,
                timeout: h.timeout.time(),
                healthy: all,
                streak: vec![0; n],
                sent: vec![None; n],
                probes: (0..n).map(|i| (b.id)(&self.records[i].copy)).collect(),
            }),
            rng: stream(b.seed, b.rep, b.label, "answer"),
        }))
    }
}

/// The health checks as they run.
struct Checker {
    interval: Time,
    threshold: u32,
    timeout: Time,
    /// Regions seen healthy (bit per record).
    healthy: u64,
    /// Per record: probes in a row that disagree with its state.
    streak: Vec<u32>,
    /// Per record: when its probe in flight was sent.
    sent: Vec<Option<Time>>,
    /// Per record: where its probes go (the copy itself).
    probes: Vec<CompId>,
}

/// Its events.
const PROBE: u8 = 0;
const PROBE_TIMEOUT: u8 = 1;

/// A dns entry as it runs.
pub struct DnsKind {
    /// Its name and its records' regions (for `incidents.csv`).
    name: String,
    regions: Vec<String>,
    routing: Routing,
    weights: Vec<u32>,
    /// Per class: its area's index (the last: none).
    area_of: Vec<u16>,
    /// Per area: each record's entry.
    entry: Vec<Vec<CompId>>,
    /// Per area: records in order of preference (all, for weighted).
    order: Vec<Vec<u8>>,
    ttl: Time,
    /// Healthy records as answered since each time, oldest first.
    views: VecDeque<(Time, u64)>,
    check: Option<Checker>,
    rng: SimRng,
}

impl DnsKind {
    /// The healthy records a client's resolver saw when it last asked.
    fn view(&mut self, now: Time) -> u64 {
        // Drop views no resolver still holds.
        let oldest = now.saturating_sub(self.ttl);
        while self.views.len() > 1 && self.views[1].0 <= oldest {
            self.views.pop_front();
        }
        if self.views.len() == 1 {
            return self.views[0].1;
        }
        let age = (self.ttl as f64 * self.rng.random::<f64>()) as Time;
        let asked = now.saturating_sub(age);
        self.views
            .iter()
            .rev()
            .find(|v| v.0 <= asked)
            .map_or(self.views[0].1, |v| v.1)
    }

    /// The record answered to a client of area `a` whose resolver saw
    /// `healthy` (every record healthy if none is: fail open).
    fn pick(&mut self, a: usize, healthy: u64) -> usize {
        let healthy = if healthy == 0 { u64::MAX } else { healthy };
        let ok = |i: usize| healthy >> i & 1 == 1;
        match self.routing {
            Routing::Weighted => {
                let n = self.weights.len();
                let total = |w: &dyn Fn(usize) -> u64| (0..n).map(w).sum::<u64>();
                let weight = |i: usize| if ok(i) { self.weights[i] as u64 } else { 0 };
                let mut sum = total(&weight);
                // Weight 0 records serve only when no other is healthy;
                // all weights 0: equal shares.
                let zero = |i: usize| (ok(i) && self.weights[i] == 0) as u64;
                let by: &dyn Fn(usize) -> u64 = if sum > 0 { &weight } else { &zero };
                if sum == 0 {
                    sum = total(&zero);
                }
                if sum == 0 {
                    return 0;
                }
                let mut x = self.rng.random_range(0..sum);
                for i in 0..n {
                    let w = by(i);
                    if x < w {
                        return i;
                    }
                    x -= w;
                }
                n - 1
            }
            _ => {
                let o = &self.order[a];
                o.iter()
                    .find(|&&i| ok(i as usize))
                    .or(o.first())
                    .map_or(0, |&i| i as usize)
            }
        }
    }

    /// Sends the probes of a round and schedules the next.
    fn probe(&mut self, cx: &mut Cx) {
        let Some(c) = &mut self.check else { return };
        for (i, &to) in c.probes.iter().enumerate() {
            if c.sent[i].is_some() {
                continue;
            }
            c.sent[i] = Some(cx.now);
            let probe = cx.new_request(Request {
                arrival: cx.now,
                key: i as u64,
                class: 0,
                counted: false,
                origin: Some(cx.me),
                started: false,
                prompt: 0,
                output: 0,
                detached: 0,
                done: false,
                missed: false,
                left: 0,
            });
            cx.spawn(to, probe);
            cx.after(c.timeout, PROBE_TIMEOUT, i as u32, 0);
        }
        cx.after(c.interval, PROBE, 0, 0);
    }

    /// Record `i`'s probe ended: a success or a failure.
    fn probed(&mut self, cx: &mut Cx, i: usize, ok: bool) {
        let Some(c) = &mut self.check else { return };
        c.sent[i] = None;
        let healthy = c.healthy >> i & 1 == 1;
        if ok == healthy {
            c.streak[i] = 0;
            return;
        }
        c.streak[i] += 1;
        if c.streak[i] >= c.threshold {
            c.streak[i] = 0;
            c.healthy ^= 1 << i;
            self.views.push_back((cx.now, c.healthy));
            let what = if healthy {
                "unhealthy"
            } else {
                "healthy again"
            };
            cx.incident(format!("{} {}", self.name, self.regions[i]), what);
        }
    }
}

impl Component for DnsKind {
    fn releases_on_leave(&self) -> bool {
        false
    }

    fn start_tag(&self) -> Option<u8> {
        self.check.as_ref().map(|_| PROBE)
    }

    fn enter(&mut self, cx: &mut Cx, v: VisitId, _caller: Caller) {
        let class = cx.request_of(v).class as usize;
        let a = self.area_of[class] as usize;
        let healthy = self.view(cx.now);
        let i = self.pick(a, healthy);
        cx.call(v, self.entry[a][i]);
    }

    fn on_wake(&mut self, cx: &mut Cx, w: Wake) {
        match w.tag {
            PROBE => self.probe(cx),
            _ => {
                // A probe's timeout: it fails unless answered.
                let i = w.a as usize;
                let late = self.check.as_ref().and_then(|c| c.sent[i]);
                if late.is_some_and(|t| cx.now >= t + self.check.as_ref().map_or(0, |c| c.timeout))
                {
                    self.probed(cx, i, false);
                }
            }
        }
    }

    fn on_answer(&mut self, cx: &mut Cx, v: VisitId, outcome: Outcome) {
        cx.leave(v, outcome);
    }

    fn on_job_done(&mut self, cx: &mut Cx, job: &Request, outcome: Outcome) {
        let i = job.key as usize;
        let mine = self
            .check
            .as_ref()
            .and_then(|c| c.sent.get(i).copied().flatten());
        if mine == Some(job.arrival) {
            self.probed(cx, i, outcome == Outcome::Ok);
        }
    }
}
