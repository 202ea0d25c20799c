//! Regions: copies per region, calls wired to the caller's region, links
//! on the calls that cross regions (their round trip against the matrix),
//! and errors located where the scenario was written.

mod common;
use common::*;
use scalesim::scenario::{load, load_str};

/// Two regions; clients in each call their region's API, which calls a
/// database placed in us-east-1. Nothing queues (ample slots), so each
/// class's latency is its constant service times plus, for Europe, the
/// link's two half round trips.
const TWO: &str = r#"
name = "two"
duration = "1h"
warmup = "5m"
seed = 4

[regions.us-east-1]
[regions.eu-west-1]

[traffic.us]
rate = 50
to = "api@us-east-1"

[traffic.eu]
rate = 50
to = "api@eu-west-1"

[components.api]
kind = "pool"
regions = ["us-east-1", "eu-west-1"]
instances = 4
concurrency = 50
service = "5ms"
calls = ["db"]
per_region = { "eu-west-1" = { instances = 3 } }

[components.db]
kind = "pool"
region = "us-east-1"
instances = 2
concurrency = 50
service = "2ms"
"#;

fn class_mean(r: &scalesim::run::Run, name: &str) -> (f64, u64) {
    let c = r.report.classes.iter().find(|c| c.name == name).unwrap();
    (c.latency.mean_s(), c.latency.count())
}

#[test]
fn copies_are_made_per_region_with_their_overrides() {
    let l = load_str("two.toml", TWO, &[], "two").unwrap();
    let names: Vec<&str> = l
        .scenario
        .components
        .0
        .iter()
        .map(|c| c.0.as_str())
        .collect();
    assert_eq!(
        names,
        ["api@us-east-1", "api@eu-west-1", "db", "eu-west-1->db"]
    );
    let sys = l.system_config(0);
    let n = |i: usize| sys.components[i].1.instances();
    assert_eq!((n(0), n(1)), (4, 3));
    // Each copy calls what its region reaches: the same-region database,
    // or the link to it.
    let calls = |i: usize| -> Vec<String> {
        let d = sys.components[i].1.downstream();
        d.iter().map(|x| x.1.to_string()).collect()
    };
    assert_eq!(calls(0), ["db"]);
    assert_eq!(calls(1), ["eu-west-1->db"]);
    assert_eq!(calls(3), ["db"]);
    assert_eq!(sys.regions.region_of("api@eu-west-1"), Some("eu-west-1"));
    assert_eq!(sys.regions.region_of("db"), Some("us-east-1"));
    // --set addresses a copy by its name.
    let l = load_str(
        "two.toml",
        TWO,
        &["components.api@eu-west-1.instances=7".into()],
        "two",
    )
    .unwrap();
    assert_eq!(l.system_config(0).components[1].1.instances(), 7);
    assert_eq!(l.system_config(0).components[0].1.instances(), 4);
}

/// A call from Europe to the database in us-east-1 pays exactly one
/// inter-region round trip more than the same call made in us-east-1:
/// Imaoka's 76.0 ms, drawn as lognormal(76 ms, cv 0.03), half each way.
/// The difference of the class means has standard error
/// sd(half + half) / sqrt(n), sd = sqrt(2) x 0.03 x 76 ms / 2.
#[test]
fn a_remote_call_pays_one_round_trip_more() {
    let r = run_text(TWO, 0);
    let (us, _) = class_mean(&r, "us");
    let (eu, n) = class_mean(&r, "eu");
    assert!((us - 0.007).abs() < 1e-6, "us-east-1 pays no network: {us}");
    let sd = 2f64.sqrt() * 0.03 * 0.076 / 2.0;
    let se = sd / (n as f64).sqrt();
    let extra = eu - us;
    assert!(
        (extra - 0.076).abs() < 4.0 * se,
        "Europe pays {extra} s more, expected 0.076 +- {}",
        4.0 * se
    );
    // A round trip the scenario gives replaces the default.
    let given = TWO.replace(
        "[regions.eu-west-1]",
        "[regions.eu-west-1]\nrtt = { \"us-east-1\" = \"100ms\" }",
    );
    let r = run_text(&given, 0);
    let extra = class_mean(&r, "eu").0 - class_mean(&r, "us").0;
    assert!((extra - 0.100).abs() < 1e-6, "{extra}");
}

#[test]
fn mistakes_are_located_where_they_were_written() {
    let at = |old: &str, new: &str| load_error(&TWO.replace(old, new));
    let e = at("region = \"us-east-1\"", "region = \"us-east-9\"");
    assert!(
        e.contains("validation.toml:29") && e.contains("[regions.us-east-9]"),
        "{e}"
    );
    let e = at(
        "\"eu-west-1\" = { instances = 3 }",
        "\"eu-west-2\" = { instances = 3 }",
    );
    assert!(
        e.contains("per_region.eu-west-2") && e.contains("not one of the regions"),
        "{e}"
    );
    // A type error in an override, and one in the table it overrides.
    let e = at("{ instances = 3 }", "{ instances = \"three\" }");
    assert!(
        e.contains("validation.toml:25")
            && e.contains("components.api.per_region.eu-west-1.instances"),
        "{e}"
    );
    let e = at("service = \"5ms\"", "service = \"5 parsecs\"");
    assert!(
        e.contains("validation.toml:23") && e.contains("components.api.service"),
        "{e}"
    );
    // A check on a copy names the table it came from.
    let e = at("instances = 4\n", "instances = 0\n");
    assert!(
        e.contains("components.api.instances") && !e.contains('@'),
        "{e}"
    );
    // An unplaced component calling one that runs in several regions.
    let e = load_error(&format!(
        "{TWO}\n[components.batch]\nkind = \"pool\"\ninstances = 1\nservice = \"1ms\"\ncalls = [\"api\"]\n"
    ));
    assert!(
        e.contains("components.batch.calls") && e.contains("place \"batch\" in a region"),
        "{e}"
    );
    // A pair without a published round trip.
    let e = load_error(&TWO.replace("eu-west-1", "mars-1"));
    assert!(
        e.contains("regions.mars-1")
            && e.contains("no published round trip between mars-1 and us-east-1"),
        "{e}"
    );
}

/// Every kind renames every component it calls (a kind that forgot one
/// would send a copy's requests to another region unseen): each example
/// scenario's calls, renamed, all carry the new name.
#[test]
fn every_kind_retargets_all_its_calls() {
    for f in std::fs::read_dir("scenarios").unwrap() {
        let path = f.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let l = load(&path, &[]).unwrap_or_else(|d| panic!("{d}"));
        for (name, mut c) in l.system_config(0).expanded().components {
            let before = c.downstream().len();
            if let Some(k) = c.config_mut() {
                k.retarget(&mut |n| format!("{n}@x"));
            }
            let after = c.downstream();
            assert_eq!(after.len(), before, "{}: {name}", path.display());
            for (f, n) in after {
                assert!(n.ends_with("@x"), "{}: {name}.{f} = {n}", path.display());
            }
        }
    }
}

/// Three regions behind a dns entry; users in three areas. `ROUTING` is
/// replaced by each test.
const GLOBAL: &str = r#"
name = "global"
duration = "2h"
warmup = "10m"
seed = 9

[regions.us-east-1]
[regions.us-west-2]
[regions.eu-west-1]

[traffic.web]
rate = 100
to = "www"
from = { us-east = 0.5, us-west = 0.25, europe = 0.25 }

[components.www]
kind = "dns"
to = "api"
ROUTING

[components.api]
kind = "pool"
regions = ["us-east-1", "us-west-2", "eu-west-1"]
instances = 2
concurrency = 100
service = "10ms"
"#;

fn arrivals(r: &scalesim::run::Run, comp: &str) -> f64 {
    r.report
        .components
        .iter()
        .find(|c| c.name == comp)
        .unwrap_or_else(|| panic!("no component {comp}"))
        .arrivals as f64
}

/// Route 53 weighted routing: each region's share of the answers is its
/// weight over the sum, whatever the area: the counts are binomial, so
/// each share lies within 3.29 standard errors (99.9%).
#[test]
fn a_weighted_split_matches_its_weights() {
    let text = GLOBAL.replace(
        "ROUTING",
        "routing = \"weighted\"\nweights = { \"us-east-1\" = 50, \"us-west-2\" = 25, \"eu-west-1\" = 25 }",
    );
    let r = run_text(&text, 0);
    let copies = ["api@us-east-1", "api@us-west-2", "api@eu-west-1"];
    let n: Vec<f64> = copies.iter().map(|c| arrivals(&r, c)).collect();
    let total: f64 = n.iter().sum();
    for (i, p) in [0.5, 0.25, 0.25].into_iter().enumerate() {
        let se = (p * (1.0 - p) / total).sqrt();
        let share = n[i] / total;
        assert!(
            (share - p).abs() < 3.29 * se,
            "{}: {share} vs {p} +- {}",
            copies[i],
            3.29 * se
        );
    }
    // Europe's users go where the weights say, across the Atlantic too.
    let eu: Vec<f64> = copies
        .iter()
        .map(|c| arrivals(&r, &format!("europe->{c}")))
        .collect();
    let eu_total: f64 = eu.iter().sum();
    let se = (0.25f64 * 0.75 / eu_total).sqrt();
    assert!((eu[2] / eu_total - 0.25).abs() < 3.29 * se, "{eu:?}");
}

/// Latency routing sends each area to its nearest region (every one is
/// healthy): no request of an area reaches another region.
#[test]
fn latency_routing_sends_each_area_to_its_nearest_region() {
    let r = run_text(&GLOBAL.replace("ROUTING", "routing = \"latency\""), 0);
    for (area, home) in [
        ("us-east", "us-east-1"),
        ("us-west", "us-west-2"),
        ("europe", "eu-west-1"),
    ] {
        for region in ["us-east-1", "us-west-2", "eu-west-1"] {
            let n = arrivals(&r, &format!("{area}->api@{region}"));
            if region == home {
                assert!(n > 1000.0, "{area} -> {region}: {n}");
            } else {
                assert_eq!(n, 0.0, "{area} -> {region}");
            }
        }
    }
    // Each area's latency is its last mile to its region (20 ms mean) and
    // the service (10 ms).
    for c in ["web.us-east", "web.us-west", "web.europe"] {
        let (m, n) = class_mean(&r, c);
        let se = 0.010 / (n as f64).sqrt() * 2f64.sqrt() / 2.0;
        assert!((m - 0.030).abs() < 4.0 * se, "{c}: {m}");
    }
    // Geolocation with a default: Europe to its table entry, the rest to
    // the default.
    let geo = "routing = \"geolocation\"\nlocations = { europe = \"eu-west-1\", default = \"us-east-1\" }";
    let r = run_text(&GLOBAL.replace("ROUTING", geo), 0);
    assert_eq!(arrivals(&r, "api@us-west-2"), 0.0);
    assert!(arrivals(&r, "us-west->api@us-east-1") > 1000.0);
    assert!(arrivals(&r, "europe->api@eu-west-1") > 1000.0);
}

/// Route 53 failover with fast health checks (10 s x 3) and a 60 s TTL;
/// us-east-1 goes down at 3605 s for half an hour.
const FAILOVER: &str = r#"
name = "failover"
duration = "2h"
warmup = "10m"
sample = "10s"
seed = 5

[regions.us-east-1]
[regions.us-west-2]

[traffic.web]
rate = 100
to = "www"
from = { us-east = 1.0 }

[components.www]
kind = "dns"
to = "api"
routing = "failover"
failover = ["us-east-1", "us-west-2"]
ttl = "60s"
health_check = { interval = "10s", failure_threshold = 3 }

[components.api]
kind = "pool"
regions = ["us-east-1", "us-west-2"]
instances = 4
concurrency = 100
service = "10ms"

[[outages]]
region = "us-east-1"
at = "3605s"
duration = "30m"
"#;

/// A region outage moves traffic within detection + TTL. Probes leave at
/// 0, 10, 20 s, ...: the ones at 3610, 3620 and 3630 s fail, so the
/// region is seen down at D = 3630 s; resolvers then drop the old answer
/// over one TTL, a share (t - D) / TTL of them by t. Every request sent to
/// us-east-1 from the outage to D + TTL fails: a thinned Poisson count of
/// mean 100/s x (25 s + 60 s / 2) = 5,500 (99.9%: +- 3.29 sqrt). After D +
/// TTL no user request reaches us-east-1 until it is back.
#[test]
fn a_region_outage_moves_traffic_within_detection_and_ttl() {
    let r = run_text(FAILOVER, 0);
    let failed = r.report.classes[0].failed as f64;
    let mean = 100.0 * (25.0 + 30.0);
    assert!(
        (failed - mean).abs() < 3.29 * mean.sqrt(),
        "{failed} failed, expected {mean}"
    );
    let seen: Vec<(f64, &str)> = r.report.incidents.iter().map(|i| (i.t_s, i.what)).collect();
    assert!(seen.contains(&(3630.0, "unhealthy")), "{seen:?}");
    let rows = |c: &str| -> Vec<(f64, u64)> {
        r.report
            .timeseries
            .iter()
            .filter(|x| x.component == c)
            .map(|x| (x.t_s, x.arrivals))
            .collect()
    };
    for (t, n) in rows("us-east->api@us-east-1") {
        if t > 3690.0 && t <= 5400.0 {
            assert_eq!(n, 0, "users still reach us-east-1 in the window ending {t}");
        }
        if t > 700.0 && t <= 3630.0 {
            assert!(n > 900, "window ending {t}: {n}");
        }
    }
    for (t, n) in rows("us-east->api@us-west-2") {
        if t <= 3630.0 {
            assert_eq!(n, 0, "failover before detection, window ending {t}");
        }
    }
}

/// A global database: the primary and a replica in us-east-1, a
/// secondary cluster of one replica in eu-west-1; the API in both.
const GLOBAL_DB: &str = r#"
name = "global-db"
duration = "1h"
warmup = "5m"
seed = 6

[regions.us-east-1]
[regions.eu-west-1]

[traffic.us]
rate = 40
to = "api@us-east-1"
keys = { count = 1000000, zipf = 0.5 }
mix = [{ name = "read", weight = 0.5 }, { name = "write", weight = 0.5, op = "write" }]

[traffic.eu]
rate = 40
to = "api@eu-west-1"
keys = { count = 1000000, zipf = 0.5 }
mix = [{ name = "read", weight = 0.5 }, { name = "write", weight = 0.5, op = "write" }]

[components.api]
kind = "pool"
regions = ["us-east-1", "eu-west-1"]
instances = 2
concurrency = 100
service = "5ms"
calls = ["db"]

[components.db]
kind = "database"
regions = ["us-east-1", "eu-west-1"]
primary_region = "us-east-1"
primary = { instances = 1, concurrency = 100, service = "3ms" }
replicas = 1
replica = { instances = 1, concurrency = 100, service = "1ms" }
replication_lag = { dist = "exp", mean = "20ms" }
read_your_writes = true
per_region = { "eu-west-1" = { replication_lag = { dist = "exp", mean = "900ms" } } }
"#;

/// A write from Europe pays exactly one inter-region round trip more than
/// the same write in us-east-1 (76 ms, the link's two halves), and the
/// reads stay in their region: European reads are served by their
/// replica (1 ms) unless the key's own write has not reached it yet
/// (read-your-writes: those go to the primary, across the ocean).
#[test]
fn a_remote_write_pays_one_round_trip_more() {
    let r = run_text(GLOBAL_DB, 0);
    let names: Vec<&str> = r
        .report
        .components
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert!(
        names.contains(&"db@us-east-1/primary") && !names.contains(&"db@eu-west-1/primary"),
        "{names:?}"
    );
    assert!(names.contains(&"eu-west-1->db@us-east-1"), "{names:?}");
    let (us, _) = class_mean(&r, "us.write");
    let (eu, n) = class_mean(&r, "eu.write");
    assert!((us - 0.008).abs() < 1e-6, "{us}");
    let se = 2f64.sqrt() * 0.03 * 0.076 / 2.0 / (n as f64).sqrt();
    assert!(
        (eu - us - 0.076).abs() < 4.0 * se,
        "{} vs 0.076 +- {}",
        eu - us,
        4.0 * se
    );
    // Reads: 1e6 keys and 20 writes/s: a read almost never finds its key
    // behind, so European reads cost the local replica's 1 ms.
    let (eu_read, _) = class_mean(&r, "eu.read");
    assert!(eu_read < 0.0065, "{eu_read}");
    let db_eu = r
        .report
        .components
        .iter()
        .find(|c| c.name == "db@eu-west-1")
        .unwrap();
    let db_us = r
        .report
        .components
        .iter()
        .find(|c| c.name == "db@us-east-1")
        .unwrap();
    // us-east-1's database takes its own writes and reads and Europe's
    // writes.
    assert!(db_us.arrivals > db_eu.arrivals);
}

/// Data transfer against a hand-computed bill. Europe's 2 KB requests
/// and 30 KB responses cross the Atlantic to the database: each request
/// and answer leaves a region ($0.02/GB). Users' responses leave AWS
/// (data transfer out, $0.09/GB at this volume); their requests come in
/// free.
#[test]
fn data_transfer_is_billed_per_gb_as_computed_by_hand() {
    let text = TWO.replace(
        "rate = 50\n",
        "rate = 50\nrequest_kb = 2\nresponse_kb = 30\n",
    );
    let text = text.replace(
        "to = \"api@eu-west-1\"",
        "to = \"api@eu-west-1\"\nfrom = { europe = 1 }",
    );
    let r = run_text(&text, 0);
    let comp = |n: &str| r.report.components.iter().find(|c| c.name == n).unwrap();
    let line = |c: &str| {
        let l = r.report.bill.lines.iter().find(|l| l.component == c);
        l.unwrap_or_else(|| panic!("no bill line for {c}: {:?}", r.report.bill.lines))
    };
    // Every visit is answered but those in flight at the end (each of
    // them short of its 30 KB answer).
    let link = comp("eu-west-1->db");
    let gb = link.arrivals as f64 * 32e-6;
    let l = line("eu-west-1->db");
    assert_eq!(l.item, "inter-region transfer");
    assert!((l.usd - 0.02 * l.quantity).abs() < 1e-12);
    // The report counts visits after warm-up: so does the bill's measured part.
    let measured = l.measured_usd / 0.02;
    assert!(
        gb - measured >= -1e-9 && gb - measured <= 10.0 * 30e-6,
        "{measured} vs {gb}"
    );
    let users = comp("europe->api@eu-west-1");
    let out = line("europe->api@eu-west-1");
    assert_eq!(out.item, "data transfer out");
    let gb = users.arrivals as f64 * 30e-6;
    let measured = out.measured_usd / 0.09;
    assert!(
        gb - measured >= -1e-9 && gb - measured <= 10.0 * 30e-6,
        "{measured} vs {gb}"
    );
    assert!((out.usd - 0.09 * out.quantity).abs() < 1e-12);
    // The US users call api@us-east-1 directly: no link, no transfer.
    assert!(r
        .report
        .bill
        .lines
        .iter()
        .all(|l| !l.component.contains("us-east->")));
    // Above 10 TB a month the tiers apply: $0.085 for the next 40 TB,
    // $0.07 for the next 100 TB, $0.05 beyond.
    use scalesim_models::fleet::bill::tiered_usd;
    assert!((tiered_usd(10_240.0) - 921.6).abs() < 1e-9);
    assert!((tiered_usd(60_000.0) - (921.6 + 40_960.0 * 0.085 + 8_800.0 * 0.07)).abs() < 1e-9);
}

/// `summary.regions`: one entry per region, then per client area; an
/// area's requests are its classes' and are all served somewhere; an
/// objective per area judges them together.
#[test]
fn results_per_region_and_area_and_their_objectives() {
    let text = GLOBAL.replace("ROUTING", "routing = \"latency\"")
        + "\n[slo.from.europe]\np95 = \"1ms\"\n[slo.from.us-east]\np95 = \"1s\"\n";
    let r = run_text(&text, 0);
    let s = &r.summary;
    let names: Vec<&str> = s.regions.0.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "us-east-1",
            "us-west-2",
            "eu-west-1",
            "europe",
            "us-east",
            "us-west"
        ]
    );
    let eu = s.regions.get("europe").unwrap();
    assert_eq!(eu.kind, "area");
    assert_eq!(eu.requests, s.classes.get("web.europe").unwrap().arrived);
    let served: u64 = eu.served_by.0.iter().map(|(_, n)| n).sum();
    assert_eq!(served, eu.requests);
    assert_eq!(eu.served_by.get("eu-west-1"), Some(&eu.requests));
    let region = s.regions.get("eu-west-1").unwrap();
    assert_eq!(region.kind, "region");
    assert_eq!(
        region.requests, eu.requests,
        "eu-west-1 serves Europe alone"
    );
    assert_eq!(region.instances_mean, Some(2.0));
    // 1 ms cannot hold across the last mile; 1 s does.
    let check = |m: &str| s.slo.checks.iter().find(|c| c.metric == m).unwrap().passed;
    assert!(!check("from.europe.p95") && check("from.us-east.p95") && !s.slo.passed);
    let e = load_error(&format!("{text}\n[slo.from.mars]\np95 = \"1s\"\n"));
    assert!(
        e.contains("slo.from.mars") && e.contains("the areas are europe, us-east, us-west"),
        "{e}"
    );
}

/// A link with a bandwidth sends one message at a time: Poisson requests
/// of one size make its way out an M/D/1 queue. 125 KB at 1 Gbps take
/// S = 1 ms; at 800/s (rho = 0.8) Pollaczek-Khinchine gives Wq = rho S /
/// (2 (1 - rho)) = 2 ms, so a visit (no round trip, a 1 us server behind)
/// takes 3.001 ms.
#[test]
fn a_link_with_a_bandwidth_queues_as_m_d_1() {
    let text = r#"
name = "pipe"
duration = "3h"
warmup = "10m"
sample = "10m"
seed = 12

[traffic.web]
rate = 800
request_kb = 125
response_kb = 0
to = "wan"

[components.wan]
kind = "link"
to = "srv"
rtt = "0ms"
bandwidth = "1Gbps"

[components.srv]
kind = "pool"
instances = 1
concurrency = 1000
service = "1us"
"#;
    let r = run_text(text, 0);
    let rows = windows(&r, "wan", 600.0, 600.0);
    let xs = col(&rows, |w| Some(w.mean_s));
    let theory = pk_wq(800.0, 0.001, 0.001 * 0.001) + 0.001 + 1e-6;
    check_mean("link M/D/1 visit time", &xs, theory, 0.02);
    let e = load_error(&text.replace("\"1Gbps\"", "\"fast\""));
    assert!(
        e.contains("components.wan.bandwidth") && e.contains("\"1Gbps\""),
        "{e}"
    );
}
