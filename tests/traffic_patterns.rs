//! Traffic over time and money: realized arrivals follow the integrated
//! rate, traces replay exactly, bills match hand computation, and bad
//! pattern or trace definitions get located errors.

use scalesim::scenario::load_str;
use statrs::distribution::{ChiSquared, ContinuousCDF};
use std::path::PathBuf;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("scalesim-tp-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const PATTERNED: &str = r#"
name = "patterned"
start = "2026-11-26T00:00:00"   # a Thursday
timezone = "America/New_York"
duration = "3d"
sample = "1h"
seed = 17

[traffic.web]
rate = 20
to = "api"
daily = { peak_hours = "07:00-20:00", peak = 1.0, off_peak = 0.2, ramp = "2h" }
weekly = { weekend = 0.5 }
events = [{ name = "Black Friday", start = "2026-11-27T06:00", end = "2026-11-27T18:00", factor = 5.0, ramp_up = "3h", ramp_down = "3h" }]
bursts = [{ at = "2026-11-28T12:00", factor = 4.0, decay = "30m" }]

[components.api]
kind = "pool"
instances = 200
service = { dist = "const", value = "1ms" }
"#;

/// Arrivals per hour against the integral of the rate over each hour:
/// a chi-square test over 72 hourly buckets (counts are independent
/// Poisson variables with those means).
#[test]
fn hourly_arrivals_match_the_integrated_rate() {
    let l = load_str("p.toml", PATTERNED, &[], "p").unwrap();
    let profile = l.scenario.traffic[0]
        .1
        .profile(&l.calendar, 3.0 * 86400.0)
        .unwrap();
    let r = scalesim::run::run(&l, 0).unwrap();
    let rows: Vec<_> = r
        .report
        .timeseries
        .iter()
        .filter(|r| r.component == "_system")
        .collect();
    assert_eq!(rows.len(), 72);
    let mut chi2 = 0.0;
    let mut total = 0.0;
    for (h, row) in rows.iter().enumerate() {
        let expect = profile.integral(h as f64 * 3600.0, (h + 1) as f64 * 3600.0, 1.0);
        chi2 += (row.arrivals as f64 - expect).powi(2) / expect;
        total += expect;
    }
    let p = 1.0 - ChiSquared::new(72.0).unwrap().cdf(chi2);
    assert!(p > 0.001, "chi2 = {chi2:.1} over 72 hours (p = {p:.2e})");
    // The pattern is really there: Black Friday's busiest hour is far
    // above a night hour, and the weekend is quieter than a weekday.
    let busiest = rows.iter().map(|r| r.arrivals).max().unwrap() as f64;
    assert!(busiest > 20.0 * 3600.0 * 4.0, "{busiest}");
    assert!(
        rows[3].arrivals < 20 * 3600 / 3,
        "Thursday 03:00: {}",
        rows[3].arrivals
    );
    let arrived: u64 = rows.iter().map(|r| r.arrivals).sum();
    assert!(
        (arrived as f64 - total).abs() < 5.0 * total.sqrt(),
        "{arrived} vs {total}"
    );
}

#[test]
fn counts_trace_replays_exactly() {
    let d = tmp("counts");
    let counts = [3u32, 0, 7, 12, 1, 5];
    let mut csv = String::from("# five-minute counts\ntime,count\n");
    for (i, c) in counts.iter().enumerate() {
        csv.push_str(&format!("{},{c}\n", i * 300));
    }
    std::fs::write(d.join("t.csv"), csv).unwrap();
    let scenario = r#"
name = "replay"
duration = "30m"
sample = "5m"
[traffic.t]
trace = { file = "t.csv" }
arrivals = "deterministic"
to = "p"
[components.p]
kind = "pool"
instances = 1
service = { dist = "const", value = "1ms" }
"#;
    let file = d.join("s.toml");
    let l = load_str(file.to_str().unwrap(), scenario, &[], "s").unwrap();
    let r = scalesim::run::run(&l, 0).unwrap();
    let got: Vec<u64> = r
        .report
        .timeseries
        .iter()
        .filter(|r| r.component == "_system")
        .map(|r| r.arrivals)
        .collect();
    let want: Vec<u64> = counts.iter().map(|&c| c as u64).collect();
    assert_eq!(got, want);
}

#[test]
fn timestamps_trace_replays_exact_instants() {
    let d = tmp("ts");
    std::fs::write(d.join("a.csv"), "time\n0.5\n0.5\n1.25\n10\n3598\n").unwrap();
    let scenario = r#"
name = "ts"
duration = "1h"
sample = "1h"
[traffic.t]
trace = { file = "a.csv", format = "timestamps" }
to = "p"
[components.p]
kind = "pool"
instances = 1
service = { dist = "const", value = "1s" }
"#;
    let file = d.join("s.toml");
    let l = load_str(file.to_str().unwrap(), scenario, &[], "s").unwrap();
    let r = scalesim::run::run(&l, 0).unwrap();
    assert_eq!(r.summary.requests.arrived, 5);
    // One server, 1 s each: 0.5 -> 1.5, 0.5 waits -> 2.5, 1.25 waits ->
    // 3.5, then 10 and 3598 alone: latencies 1, 2, 2.25, 1, 1.
    assert!((r.summary.latency_s.max - 2.25).abs() < 1e-9);
    assert!((r.summary.latency_s.mean - 7.25 / 5.0).abs() < 1e-9);
}

const PRICED: &str = r#"
name = "priced"
duration = "2h"
warmup = "30m"
[traffic.t]
rate = 10
to = "api"
keys = { count = 100 }
[components.api]
kind = "pool"
instances = 3
service = { dist = "const", value = "10ms" }
calls = ["cache"]
instance_type = "c5.large"
[components.cache]
kind = "cache"
capacity = 10
nodes = 2
instance_type = "cache.r5.large"
[components.db]
kind = "pool"
instances = 4
service = { dist = "const", value = "1ms" }
price_per_hour = 1.0
spot = { share = 0.5, discount = 0.6 }
[traffic.d]
rate = 1
to = "db"
"#;

#[test]
fn bills_match_hand_computation() {
    let l = load_str("c.toml", PRICED, &[], "c").unwrap();
    let s = scalesim::run::run(&l, 0).unwrap().summary;
    let c = |n: &str| s.components.get(n).unwrap().cost_usd;
    // 3 x c5.large ($0.085/h) x 2 h; 2 x cache.r5.large ($0.216/h) x 2 h;
    // 4 x $1/h with half on spot at 60% off = $0.70/h, x 2 h.
    assert!((c("api") - 0.51).abs() < 1e-9, "{}", c("api"));
    assert!((c("cache") - 0.864).abs() < 1e-9, "{}", c("cache"));
    assert!((c("db") - 5.6).abs() < 1e-9, "{}", c("db"));
    assert!((s.cost_usd.total - 6.974).abs() < 1e-9);
    assert!((s.cost_usd.per_hour - 3.487).abs() < 1e-9);
    assert!((s.cost_usd.projected_month.unwrap() - 3.487 * 730.0).abs() < 1e-6);
    let per_1k = 3.487 * 1.5 / s.requests.completed as f64 * 1000.0;
    assert!((s.cost_usd.per_1k_requests - per_1k).abs() < 1e-9);

    // Per-hour billing: 61 minutes are two started hours.
    let sets = ["duration=61m".to_string(), "cost.billing=per_hour".into()];
    let l = load_str("c.toml", PRICED, &sets, "c").unwrap();
    let s = scalesim::run::run(&l, 0).unwrap().summary;
    assert!((s.components.0[0].1.cost_usd - 3.0 * 0.085 * 2.0).abs() < 1e-9);
    // Per-second billing has a 60 s minimum.
    let sets = ["duration=20s".to_string(), "warmup=0".into()];
    let l = load_str("c.toml", PRICED, &sets, "c").unwrap();
    let s = scalesim::run::run(&l, 0).unwrap().summary;
    assert!((s.components.0[0].1.cost_usd - 3.0 * 0.085 / 60.0).abs() < 1e-12);
    // Catalog overrides win.
    let sets = ["cost.catalog.\"c5.large\".price_per_hour=1".to_string()];
    let l = load_str("c.toml", PRICED, &sets, "c").unwrap();
    let s = scalesim::run::run(&l, 0).unwrap().summary;
    assert!((s.components.0[0].1.cost_usd - 6.0).abs() < 1e-9);
}

/// (replace, with, expected line, expected words) on PATTERNED.
#[test]
fn bad_patterns_are_located() {
    let cases: &[(&str, &str, usize, &str)] = &[
        (
            "\"07:00-20:00\"",
            "\"20:00-07:00\"",
            12,
            "start before it ends",
        ),
        ("\"07:00-20:00\"", "\"7am-8pm\"", 12, "HH:MM-HH:MM"),
        ("weekend = 0.5", "weekend = -0.5", 13, "factors >= 0"),
        ("weekend = 0.5", "days = [1, 1]", 13, "7 factors"),
        (
            "start = \"2026-11-27T06:00\"",
            "start = \"27/11/2026\"",
            14,
            "local date",
        ),
        (
            "factor = 5.0",
            "factor = 5.0, duration = \"1d\"",
            14,
            "either end or duration",
        ),
        ("decay = \"30m\"", "decay = 0", 15, "decay time > 0"),
        (
            "timezone = \"America/New_York\"",
            "timezone = \"America/Gotham\"",
            4,
            "IANA",
        ),
        (
            "start = \"2026-11-26T00:00:00\"",
            "start = \"Thursday\"",
            3,
            "local date-time",
        ),
    ];
    for (from, to, line, words) in cases {
        assert!(PATTERNED.contains(from), "{from}");
        let text = PATTERNED.replacen(from, to, 1);
        let e = load_str("p.toml", &text, &[], "p").unwrap_err().to_string();
        assert!(
            e.contains(&format!("p.toml:{line}:")),
            "{from} -> {to}: expected line {line} in\n{e}"
        );
        assert!(
            e.contains(words),
            "{from} -> {to}: expected {words:?} in\n{e}"
        );
    }
    // Dates without a calendar.
    let text = PATTERNED.replace("start = \"2026-11-26T00:00:00\"   # a Thursday\n", "");
    let e = load_str("p.toml", &text, &[], "p").unwrap_err().to_string();
    assert!(e.contains("needs a calendar"), "{e}");
}

#[test]
fn malformed_traces_name_file_and_line() {
    let d = tmp("bad");
    let scenario = |extra: &str| {
        format!(
            r#"
name = "bad"
duration = "1h"
[traffic.t]
trace = {{ file = "t.csv"{extra} }}
to = "p"
[components.p]
kind = "pool"
instances = 1
service = {{ dist = "const", value = "1ms" }}
"#
        )
    };
    let cases: &[(&str, &str, &str)] = &[
        (
            "time,count\n0,5\n60,x\n",
            "t.csv:3:",
            "expected a number >= 0, got \"x\"",
        ),
        (
            "time,count\n0,5\n60,4\n180,2\n",
            "t.csv:4:",
            "evenly spaced",
        ),
        ("time,count\n0,5\nsoon,4\n", "t.csv:3:", "expected a time"),
        ("when,count\n0,5\n", "t.csv:1:", "set interval"),
        ("time,n\n0,5\n", "t.csv:1:", "`count` column"),
        ("time,count\n0,5\n60,4,9\n", "t.csv:3:", "malformed CSV"),
        ("time,count\n60,5\n0,4\n", "t.csv:3:", "must not decrease"),
    ];
    let file = d.join("s.toml");
    for (csv, at, words) in cases {
        std::fs::write(d.join("t.csv"), csv).unwrap();
        let e = load_str(file.to_str().unwrap(), &scenario(""), &[], "s")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(at) && e.contains(words),
            "{csv:?}: expected {at} and {words:?} in\n{e}"
        );
    }
    let e = load_str(file.to_str().unwrap(), &scenario(", file2 = 1"), &[], "s")
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field `file2`"), "{e}");
    std::fs::remove_file(d.join("t.csv")).unwrap();
    let e = load_str(file.to_str().unwrap(), &scenario(""), &[], "s")
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot read the trace file"), "{e}");
}

#[test]
fn request_classes_are_reported() {
    let text = r#"
name = "mix"
duration = "2000s"
[traffic.web]
rate = 50
to = "api"
mix = [
  { name = "read", weight = 9, op = "read" },
  { name = "write", weight = 1, op = "write", to = "db" },
]
[components.api]
kind = "pool"
instances = 4
service = { dist = "const", value = "10ms" }
calls = ["db"]
[components.db]
kind = "pool"
instances = 4
service = { dist = "const", value = "5ms" }
"#;
    let l = load_str("m.toml", text, &[], "m").unwrap();
    let r = scalesim::run::run(&l, 0).unwrap();
    let classes = &r.report.classes;
    assert_eq!(classes.len(), 2);
    assert_eq!(classes[0].name, "web.read");
    let writes = classes[1].arrived as f64 / r.summary.requests.arrived as f64;
    assert!((writes - 0.1).abs() < 0.01, "{writes}");
    // Writes go straight to the db: 5 ms; reads pass the api first: 15 ms.
    assert!((classes[1].latency.mean_s() - 0.005).abs() < 1e-4);
    assert!((classes[0].latency.mean_s() - 0.015).abs() < 1e-3);
}
