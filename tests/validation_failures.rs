//! Instance failures (`failures`) against renewal theory.
//!
//! An instance repaired in place alternates up times U (mean MTBF) and
//! repairs D (mean MTTR): an alternating renewal process, up in the long
//! run a share A = MTBF / (MTBF + MTTR) of the time whatever the two laws
//! (Ross, *Stochastic Processes*, §3.4.1). Instances fail and are
//! repaired independently, so the number up among n is binomial(n, A) at
//! any moment, and the pool has at least k up for a share
//! Σ_{j≥k} C(n, j) A^j (1 - A)^(n-j) of the time. A replaced instance is
//! down for its replacement's boot and readiness grace. Failures strike at
//! times independent of the load, so each finds on average the mean
//! number of requests in service on an up instance (PASTA: Wolff,
//! *Stochastic Modeling and the Theory of Queues*, §5.16), and those are
//! lost.
//!
//! Each check runs 10 independent replications and compares their mean
//! with the theory through a 99.9% Student-t interval (see
//! `tests/common`).

mod common;

use common::check_mean;

/// One instance, repaired in place: exponential lifetimes of 1 h and
/// repairs of 10 min, about 430 cycles per replication.
const ONE: &str = r#"
duration = "500h"
warmup = "1h"
sample = "10h"
seed = 5
[traffic.web]
rate = 0.01
to = "api"
[components.api]
kind = "pool"
instances = 1
service = "10ms"
failures = { mtbf = "1h", repair = { dist = "exp", mean = "10m" } }
"#;

/// Share of post-warm-up time component `name` had at least `k` ready
/// instances, and its mean ready instances.
fn up_share(text: &str, rep: u32, k: usize) -> (f64, f64) {
    let r = common::run_text(text, rep);
    let c = &r.report.components[0];
    let total: f64 = c.ready_time_s.iter().sum();
    let at_least: f64 = c.ready_time_s.iter().skip(k).sum();
    let mean: f64 = c
        .ready_time_s
        .iter()
        .enumerate()
        .map(|(j, t)| j as f64 * t)
        .sum();
    (at_least / total, mean / total)
}

#[test]
fn an_instance_repaired_in_place_is_up_mtbf_over_mtbf_plus_mttr() {
    let a: Vec<f64> = (0..10).map(|rep| up_share(ONE, rep, 1).0).collect();
    check_mean("availability of one instance", &a, 60.0 / 70.0, 0.03);
}

#[test]
fn k_of_n_availability_is_binomial_whatever_the_laws() {
    // 5 instances, log-normal lifetimes (cv 1.5) and fixed 15 min repairs:
    // A = 60 / 75 = 0.8 per instance; 1,500 h per replication, as the
    // variable lifetimes make the share noisier.
    let text = ONE
        .replace("instances = 1", "instances = 5")
        .replace("duration = \"500h\"", "duration = \"1500h\"")
        .replace(
            r#"failures = { mtbf = "1h", repair = { dist = "exp", mean = "10m" } }"#,
            r#"failures = { mtbf = { dist = "lognormal", mean = "1h", cv = 1.5 }, repair = "15m" }"#,
        );
    let a = 0.8f64;
    let binom = |j: i32| {
        let c = [1.0, 5.0, 10.0, 10.0, 5.0, 1.0][j as usize];
        c * a.powi(j) * (1.0 - a).powi(5 - j)
    };
    let at_least_3: f64 = (3..=5).map(binom).sum();
    let runs: Vec<(f64, f64)> = (0..10).map(|rep| up_share(&text, rep, 3)).collect();
    let share: Vec<f64> = runs.iter().map(|r| r.0).collect();
    let mean: Vec<f64> = runs.iter().map(|r| r.1).collect();
    check_mean("P(at least 3 of 5 up)", &share, at_least_3, 0.01);
    check_mean("mean instances up", &mean, 5.0 * a, 0.01);
}

#[test]
fn a_replaced_instance_is_down_for_its_replacements_boot_and_grace() {
    // Replaced, not repaired: down for provision_time + ready_delay = 6
    // min after each failure (mean lifetime 2 h).
    let text = ONE
        .replace(
            r#"failures = { mtbf = "1h", repair = { dist = "exp", mean = "10m" } }"#,
            r#"failures = { mtbf = "2h" }
provision_time = "5m"
ready_delay = "1m"
instance_type = "c5.large""#,
        )
        .replace("rate = 0.01", "rate = 0.001");
    let a: Vec<f64> = (0..10).map(|rep| up_share(&text, rep, 1).0).collect();
    check_mean(
        "availability of a replaced instance",
        &a,
        120.0 / 126.0,
        0.03,
    );
    // Billed as EC2 bills: the failed instance until it failed, its
    // replacement from the moment it is requested (at the failure), so
    // one instance is always billed.
    let with = common::summary(&text);
    let without = common::summary(&text.replace("failures = { mtbf = \"2h\" }", ""));
    let rel = (with.cost_usd.total - without.cost_usd.total) / without.cost_usd.total;
    assert!(rel.abs() < 1e-3, "cost moved by {:.4}%", rel * 100.0);
    assert!(with.components.get("api").unwrap().failures.unwrap() > 100);
}

#[test]
fn a_failure_loses_the_requests_in_service() {
    // Four instances of 50 slots, ~10 requests in service on each
    // (exponential 1 s services at 40/s): each failure loses what its
    // instance holds, on average the mean in service on an up instance
    // (never all four down at once: no arrival fails for want of one).
    let text = r#"
duration = "50h"
warmup = "10m"
sample = "10h"
seed = 9
[traffic.web]
rate = 40
to = "api"
[components.api]
kind = "pool"
instances = 4
concurrency = 50
service = { dist = "exp", mean = "1s" }
failures = { mtbf = "20m", repair = "30s" }
"#;
    let mut per_failure = Vec::new();
    let mut in_service = Vec::new();
    for rep in 0..10 {
        let s = common::run_text(text, rep).summary;
        let c = s.components.get("api").unwrap();
        per_failure.push(c.failed as f64 / c.failures.unwrap() as f64);
        in_service.push(c.utilization.unwrap() * 50.0);
        // Every request lost counts as failed and as an error.
        assert!(s.requests.failed.abs_diff(c.failed) < 50);
        let share = (s.requests.failed + s.requests.rejected) as f64 / s.requests.arrived as f64;
        assert!((s.error_rate - share).abs() < 1e-6);
    }
    let busy = common::ci(&in_service).mean;
    check_mean("requests lost per failure", &per_failure, busy, 0.05);
}

#[test]
fn failures_of_one_pool_leave_the_others_draws_alone() {
    let two = r#"
duration = "5h"
warmup = "10m"
seed = 4
[traffic.a]
rate = 50
to = "a"
[traffic.b]
rate = 50
to = "b"
[components.a]
kind = "pool"
instances = 2
concurrency = 4
service = { dist = "exp", mean = "50ms" }
[components.b]
kind = "pool"
instances = 2
concurrency = 4
service = { dist = "exp", mean = "50ms" }
"#;
    let failing = two.replace(
        "[components.b]\nkind = \"pool\"",
        "[components.b]\nkind = \"pool\"\nfailures = { mtbf = \"30m\", repair = \"5m\" }",
    );
    let (x, y) = (common::summary(two), common::summary(&failing));
    let (xa, ya) = (
        x.components.get("a").unwrap(),
        y.components.get("a").unwrap(),
    );
    assert_eq!(xa.completions, ya.completions);
    assert_eq!(xa.mean_response_s, ya.mean_response_s);
    assert_eq!(xa.p99_response_s, ya.p99_response_s);
    assert!(y.components.get("b").unwrap().failures.unwrap() > 0);
    assert_ne!(
        x.components.get("b").unwrap().mean_response_s,
        y.components.get("b").unwrap().mean_response_s
    );
}

#[test]
fn impossible_failures_are_located_errors() {
    let base = r#"
duration = "1h"
[traffic.web]
rate = 1
to = "api"
[components.api]
kind = "pool"
instances = 1
service = "10ms"
"#;
    for (failures, expect) in [
        (r#"{ mtbf = "-5h" }"#, "failures.mtbf"),
        (r#"{ mtbf = "0s" }"#, "failures.mtbf"),
        (r#"{ mtbf = "30d", repair = "0s" }"#, "failures.repair"),
        (r#"{ mtbf = "30d", mttr = "1h" }"#, "mttr"),
        (r#"{ repair = "1h" }"#, "mtbf"),
    ] {
        let e = common::load_error(&format!("{base}failures = {failures}\n"));
        assert!(
            e.contains("validation.toml") && e.contains(expect),
            "{failures}: {e}"
        );
        println!("{failures}:\n{e}");
    }
}

#[test]
fn a_failed_engine_loses_its_batch_and_queue_and_restarts_empty() {
    // LLM replicas and dynamic batchers hold requests in their own
    // engines: a failure loses all of them at once, and every request is
    // accounted for (answered, refused while no replica was up, lost, or
    // in flight at the end).
    let text = r#"
duration = "12h"
warmup = "10m"
sample = "5m"
seed = 8
[traffic.users]
rate = 12
mix = [
  { name = "chat", weight = 80, to = "llm", prompt_tokens = { dist = "lognormal", mean = 800, cv = 1.0, max = 4000 }, output_tokens = { dist = "lognormal", mean = 200, cv = 1.0, max = 1000 } },
  { name = "clip", weight = 20, to = "stt" },
]
[components.llm]
kind = "llm"
replicas = 2
gpu = "H100-SXM"
model = "Llama-3-8B"
balance = "least_conn"
failures = { mtbf = "1h", repair = "5m" }
[components.stt]
kind = "batch"
instances = 2
max_batch = 8
max_queue_delay = "50ms"
base = "180ms"
per_item = "45ms"
failures = { mtbf = "1h" }
provision_time = "2m"
"#;
    let s = common::run_text(text, 0).summary;
    let r = &s.requests;
    assert_eq!(
        r.arrived,
        r.completed + r.rejected + r.timed_out - r.timed_out_at_end + r.failed + r.in_flight_at_end
    );
    for name in ["llm", "stt"] {
        let c = s.components.get(name).unwrap();
        let failures = c.failures.unwrap();
        assert!(failures >= 10, "{name}: {failures} failures");
        // The LLM replicas hold several requests each, the batchers one
        // batch of a few.
        let held = if name == "llm" { 3 } else { 0 };
        assert!(c.failed > held * failures, "{name}: {} lost", c.failed);
        // Up MTBF / (MTBF + down time) of the time on average.
        let down = if name == "llm" { 5.0 } else { 2.0 };
        let expected = 2.0 * 60.0 / (60.0 + down);
        let mean = c.instances_mean.unwrap();
        assert!(
            (mean - expected).abs() < 0.1,
            "{name}: {mean} vs {expected}"
        );
    }
    // The engines restart empty and keep serving after their failures.
    assert!(s.requests.completed as f64 > 0.98 * s.requests.arrived as f64);
    // With health checks on the LLM balancer, a failed replica stays in
    // rotation until 3 checks 5 s apart have failed (~16.5 s): what is
    // sent to it meanwhile fails at once, so more is lost, and the checks
    // report each detection.
    let checked = text.replace(
        "balance = \"least_conn\"",
        "balance = \"round_robin\"\nhealth_check = { interval = \"5s\", timeout = \"4s\", fall = 3 }",
    );
    let c = common::run_text(&checked, 0).summary;
    let (llm, plain) = (
        c.components.get("llm").unwrap(),
        s.components.get("llm").unwrap(),
    );
    assert_eq!(llm.ejections, llm.failures, "{:?}", llm.ejections);
    let d = llm.detection_mean_s.unwrap();
    assert!((14.0..=19.0).contains(&d), "detected after {d} s");
    assert!(
        llm.failed > plain.failed,
        "{} vs {}",
        llm.failed,
        plain.failed
    );
}

#[test]
fn active_health_checks_detect_a_failure_after_fall_checks() {
    // Checks every 5 s with a 4 s timeout, out after 3 failed in a row
    // (the reference platform's nginx: interval=5000 fall=3 timeout=4000):
    // the failure falls at a uniform phase of the check grid, so the
    // delay is uniform on (2 x 5 + 4, 3 x 5 + 4] = (14, 19] s, mean 16.5 s.
    // Until then round robin sends a quarter of the traffic to the dead
    // instance, and each of those requests fails.
    let text = r#"
duration = "1000h"
warmup = "10m"
sample = "50h"
seed = 12
[traffic.web]
rate = 2
to = "api"
[components.api]
kind = "pool"
instances = 4
concurrency = 8
service = { dist = "exp", mean = "100ms" }
balance = "round_robin"
failures = { mtbf = "10h", repair = "1m" }
health_check = { interval = "5s", timeout = "4s", rise = 2, fall = 3 }
"#;
    let (mut mean, mut lost) = (Vec::new(), Vec::new());
    for rep in 0..10 {
        let r = common::run_text(text, rep);
        let c = &r.report.components[0];
        let d = c.detection_s.as_ref().unwrap();
        assert!(d.len() > 250, "{} ejections", d.len());
        for &x in d {
            assert!(x > 14.0 - 1e-6 && x <= 19.0 + 1e-6, "detection {x}");
        }
        mean.push(d.iter().sum::<f64>() / d.len() as f64);
        lost.push(c.failed as f64 / c.failures.unwrap() as f64);
    }
    check_mean("mean detection delay (s)", &mean, 16.5, 0.01);
    // Lost per failure: the ~0.05 in service on the instance, plus a
    // quarter of 2/s for the 16.5 s until detection (8.25 requests; the
    // repairs are short, so two instances are seldom down at once).
    let in_service = 2.0 * 0.1 / 4.0;
    check_mean(
        "requests lost per failure",
        &lost,
        in_service + 0.5 * 16.5,
        0.03,
    );
}

#[test]
fn health_checks_need_a_balancer() {
    let e = common::load_error(
        r#"
duration = "1h"
[traffic.web]
rate = 1
to = "api"
[components.api]
kind = "pool"
instances = 2
service = "10ms"
health_check = { interval = "5s", timeout = "4s" }
"#,
    );
    assert!(e.contains("health_check") && e.contains("balance"), "{e}");
    let e = common::load_error(
        r#"
duration = "1h"
[traffic.web]
rate = 1
to = "api"
[components.api]
kind = "pool"
instances = 2
service = "10ms"
balance = "round_robin"
health_check = { interval = "5s", timeout = "6s" }
"#,
    );
    assert!(
        e.contains("health_check.timeout") && e.contains("shorter"),
        "{e}"
    );
}

/// Four servers behind round robin; zone a's is down for 10 minutes and
/// stays in the rotation until the balancer sees it.
const PASSIVE: &str = r#"
duration = "3h"
warmup = "10m"
seed = 41
[traffic.web]
rate = 100
to = "api"
[components.api]
kind = "pool"
instances = 4
zones = ["a", "b", "c", "d"]
balance = "round_robin"
concurrency = 4
service = { dist = "exp", mean = "10ms" }
passive_check = { max_fails = 3, fail_timeout = "30s" }
[[outages]]
at = "1h"
duration = "10m"
zone = "a"
"#;

#[test]
fn passive_checks_eject_after_max_fails_and_probe_every_fail_timeout() {
    // nginx: 3 failed attempts take the server out at once (a refused
    // connection fails at once); every 30 s one request probes it and
    // fails, until it is back: 3 + (600 / 30 - 1) = 22 requests lost,
    // whatever the traffic. Detected after about 3 of its 25 req/s.
    for rep in 0..3 {
        let s = common::run_text(PASSIVE, rep).summary;
        let c = &s.components.0.iter().find(|(n, _)| n == "api").unwrap().1;
        assert!((21..=23).contains(&s.requests.failed), "{:?}", s.requests);
        assert_eq!(c.ejections, Some(1));
        let d = c.detection_mean_s.unwrap();
        assert!(d > 0.0 && d < 1.0, "detected after {d} s");
    }
    // Ten times the traffic: the same loss, detected ten times sooner.
    let s = common::run_text(&PASSIVE.replace("rate = 100", "rate = 1000"), 0).summary;
    assert!((21..=23).contains(&s.requests.failed), "{:?}", s.requests);
}

#[test]
fn passive_and_active_checks_are_one_or_the_other() {
    let e = common::load_error(&PASSIVE.replace(
        "passive_check =",
        "health_check = { interval = \"5s\" }\npassive_check =",
    ));
    assert!(
        e.contains("components.api.passive_check") && e.contains("not both"),
        "{e}"
    );
    let e = common::load_error(&PASSIVE.replace("max_fails = 3", "max_fails = 0"));
    assert!(e.contains("passive_check.max_fails"), "{e}");
    let e = common::load_error(&PASSIVE.replace("balance = \"round_robin\"\n", ""));
    assert!(e.contains("passive_check") && e.contains("balance"), "{e}");
}

#[test]
fn envoy_outlier_detection_ejects_for_longer_each_time_and_caps_the_share_out() {
    // Ten servers, one zone each; zone a's is down for 10 minutes. Five
    // failures in a row eject it (5 requests lost), for 30 s, then 60 s,
    // 90 s, 120 s, 150 s (each rounded up to the 10 s sweep): back five
    // times in the 600 s, each costing 5 more requests: 30 in all.
    let zones: Vec<String> = (0..10).map(|z| format!("\"z{z}\"")).collect();
    let text = PASSIVE
        .replace("instances = 4", "instances = 10")
        .replace(
            "zones = [\"a\", \"b\", \"c\", \"d\"]",
            &format!("zones = [{}]", zones.join(", ")),
        )
        .replace("zone = \"a\"", "zone = \"z0\"")
        .replace(
            "passive_check = { max_fails = 3, fail_timeout = \"30s\" }",
            "outlier_detection = { consecutive_5xx = 5, interval = \"10s\", base_ejection_time = \"30s\" }",
        );
    let s = common::run_text(&text, 0).summary;
    assert!((29..=31).contains(&s.requests.failed), "{:?}", s.requests);
    // Nine servers: ejecting one would put 11% out, over Envoy's default
    // 10% cap, so it is never ejected and its share fails for the whole
    // outage: 600 s x 100/9 req/s.
    let nine = text.replace("instances = 10", "instances = 9");
    let s = common::run_text(&nine, 0).summary;
    let want: f64 = 600.0 * 100.0 / 9.0;
    let sd = want.sqrt();
    assert!(
        (s.requests.failed as f64 - want).abs() < 5.0 * sd,
        "{:?}",
        s.requests
    );
}
