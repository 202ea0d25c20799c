//! Validation of the execution models (`io`) against queueing theory.
//!
//! An API whose request computes `S` then awaits one call of `D` (a
//! database of unbounded concurrency: a pure delay):
//!
//! - `io = "async"` on one core: the core is an M/G/1 queue of service
//!   `S`; the response time is its sojourn plus `D`. With `S` = 10 ms
//!   constant at 70 requests/s, rho = 0.7 and Pollaczek-Khinchine gives
//!   Wq = lambda S^2 / (2 (1 - rho)) = 11.667 ms: 41.667 ms in all.
//! - `io = "blocking"` with one thread: the thread is held for `S + D`,
//!   an M/D/1 queue of service 30 ms; at 20 requests/s (rho 0.6) Wq =
//!   22.5 ms, 52.5 ms in all. Its CPU is busy lambda S = 20% of the time,
//!   its thread 60%.
//! - `io = "async"` with `max_in_flight = 1` is the blocking server again.
//! - Two async instances of one core each behind the shared queue, with
//!   exponential CPU of 10 ms at 140 requests/s: the cores are M/M/2
//!   (Erlang C), then the 20 ms call.
//!
//! Statistics as in `common/mod.rs`: batch means over sampling windows
//! hundreds of relaxation times long, 99.9% Student-t intervals.

mod common;
use common::*;

/// The API (`io`, its cores, CPU law, extra fields) calling a 20 ms delay.
fn scenario(lambda: f64, io: &str, instances: u32, cpu: &str, extra: &str) -> String {
    format!(
        r#"
name = "io-validation"
duration = 41000
warmup = 1000
sample = 1000
seed = 15

[traffic.web]
rate = {lambda}
arrivals = "poisson"
to = "api"

[components.api]
kind = "pool"
io = "{io}"
instances = {instances}
concurrency = 1
service = {cpu}
calls = ["db"]
{extra}

[components.db]
kind = "pool"
instances = 1
concurrency = 100000
service = {{ dist = "const", value = "20ms" }}
"#
    )
}

const CPU_10MS: &str = r#"{ dist = "const", value = "10ms" }"#;

/// Checks the end-to-end mean response time against `theory` (seconds)
/// and returns the API's windows.
fn check_response(label: &str, text: &str, theory: f64) -> Vec<(f64, f64)> {
    let r = run_text(text, 0);
    let w = windows(&r, "_system", 1000.0, 1000.0);
    check_mean(label, &col(&w, |r| Some(r.mean_s)), theory, 0.01);
    let api = windows(&r, "api", 1000.0, 1000.0);
    api.iter()
        .map(|r| (r.utilization.unwrap(), r.cpu.unwrap()))
        .collect()
}

#[test]
fn async_core_is_md1_plus_the_call() {
    let (lambda, s, d) = (70.0, 0.010, 0.020);
    let theory = pk_wq(lambda, s, s * s) + s + d;
    assert!((theory - 0.041_667).abs() < 1e-5, "{theory}");
    let u = check_response(
        "async, 1 core, 70/s: response",
        &scenario(lambda, "async", 1, CPU_10MS, ""),
        theory,
    );
    // Its slots are cores: busy only while computing.
    let util: Vec<f64> = u.iter().map(|x| x.0).collect();
    let cpu: Vec<f64> = u.iter().map(|x| x.1).collect();
    check_mean("async: utilization (cores)", &util, lambda * s, 0.01);
    check_mean("async: cpu", &cpu, lambda * s, 0.01);
}

#[test]
fn blocking_thread_is_md1_of_cpu_plus_call() {
    let (lambda, s, d) = (20.0, 0.010, 0.020);
    let theory = pk_wq(lambda, s + d, (s + d) * (s + d)) + s + d;
    assert!((theory - 0.0525).abs() < 1e-9, "{theory}");
    let u = check_response(
        "blocking, 1 thread, 20/s: response",
        &scenario(lambda, "blocking", 1, CPU_10MS, ""),
        theory,
    );
    // The thread is held through the call; the CPU only computes.
    let util: Vec<f64> = u.iter().map(|x| x.0).collect();
    let cpu: Vec<f64> = u.iter().map(|x| x.1).collect();
    check_mean(
        "blocking: utilization (thread)",
        &util,
        lambda * (s + d),
        0.01,
    );
    check_mean("blocking: cpu", &cpu, lambda * s, 0.01);
}

#[test]
fn one_request_in_flight_makes_an_event_loop_block() {
    let (lambda, sd) = (20.0, 0.030);
    check_response(
        "async, max_in_flight = 1, 20/s: response",
        &scenario(lambda, "async", 1, CPU_10MS, "max_in_flight = 1"),
        pk_wq(lambda, sd, sd * sd) + sd,
    );
}

#[test]
fn async_instances_share_one_queue_of_cores() {
    // Exponential CPU, 2 instances x 1 core: M/M/2 at rho 0.7, then 20 ms.
    let (lambda, mu) = (140.0, 100.0);
    check_response(
        "async, 2 instances, exp CPU, 140/s: response",
        &scenario(lambda, "async", 2, r#"{ dist = "exp", mean = "10ms" }"#, ""),
        mmc_wq(2, lambda, mu) + 1.0 / mu + 0.020,
    );
}

#[test]
fn max_in_flight_needs_async() {
    let e = load_error(&scenario(
        20.0,
        "blocking",
        1,
        CPU_10MS,
        "max_in_flight = 5",
    ));
    assert!(
        e.contains("max_in_flight") && e.contains("io = \"async\""),
        "{e}"
    );
    let e = load_error(&scenario(20.0, "async", 1, CPU_10MS, "max_in_flight = 0"));
    assert!(e.contains("at least 1"), "{e}");
    let e = load_error(&scenario(20.0, "threads", 1, CPU_10MS, ""));
    assert!(e.contains("blocking") && e.contains("async"), "{e}");
}

/// An async fleet through its whole life: autoscaled on CPU, instances
/// failing and replaced, a balancer or the shared queue, a connection
/// limit and a bounded queue. Every request is accounted for, the cores
/// are never more than busy, and the fleet scales on its CPU.
#[test]
fn async_fleets_live_scale_and_fail_without_losing_count() {
    for balance in ["fifo", "least_conn", "round_robin"] {
        let text = format!(
            r#"
name = "io-lifecycle"
duration = "2h"
warmup = "5m"
sample = "1m"
seed = 3

[traffic.web]
rate = 400
to = "api"
bursts = [{{ at = "40m", factor = 3.0, decay = "20m" }}]

[components.api]
kind = "pool"
io = "async"
balance = "{balance}"
instances = 3
concurrency = 2
max_in_flight = 6
queue_capacity = 200
service = {{ dist = "exp", mean = "5ms" }}
calls = ["db"]
failures = {{ mtbf = "20m" }}
provision_time = "30s"

[components.db]
kind = "pool"
instances = 1
concurrency = 100000
service = {{ dist = "exp", mean = "15ms" }}

[autoscaler.api]
policy = "target"
metric = "cpu"
target = "50%"
min = 3
max = 30
warmup = "60s"
"#
        );
        let s = summary(&text);
        let q = &s.requests;
        let ended = q.completed + q.rejected + q.timed_out + q.failed;
        assert!(ended + q.in_flight_at_end == q.arrived, "{balance}: {q:?}");
        let api = s.components.get("api").expect("the api pool");
        let (u, cpu) = (api.utilization.unwrap(), api.cpu.unwrap());
        assert!(
            (u - cpu).abs() < 1e-9 && cpu > 0.2 && cpu < 0.8,
            "{balance}: {u} {cpu}"
        );
        assert!(api.failures.unwrap() > 5, "{balance}: {:?}", api.failures);
        // 400/s x 5 ms = 2 cores at 50%: about 2 instances, 6 in the burst.
        assert!(
            api.instances_max.unwrap() >= 6,
            "{balance}: {:?}",
            api.instances_max
        );
        println!(
            "{balance}: {q:?}, cpu {cpu:.3}, instances max {:?}",
            api.instances_max
        );
    }
}

/// An API described by `steps` (a TOML array) calling the 20 ms delay,
/// with `extra` lines (traffic classes, ...).
fn steps_scenario(lambda: f64, io: &str, steps: &str, traffic: &str) -> String {
    format!(
        r#"
name = "steps-validation"
duration = 41000
warmup = 1000
sample = 1000
seed = 16

[traffic.web]
rate = {lambda}
arrivals = "poisson"
to = "api"
{traffic}

[components.api]
kind = "pool"
io = "{io}"
instances = 1
concurrency = 1
steps = {steps}

[components.db]
kind = "pool"
instances = 1
concurrency = 100000
service = {{ dist = "const", value = "20ms" }}
"#
    )
}

#[test]
fn steps_split_the_cpu_around_calls() {
    // Blocking, 5 ms + call + 5 ms on one thread: still M/D/1 of 30 ms.
    let (lambda, s) = (20.0, 0.030);
    check_response(
        "blocking steps cpu 5, db, cpu 5 at 20/s: response",
        &steps_scenario(
            lambda,
            "blocking",
            r#"[{ cpu = "5ms" }, { call = "db" }, { cpu = "5ms" }]"#,
            "",
        ),
        pk_wq(lambda, s, s * s) + s,
    );
    // Async with one request in flight: the same server.
    check_response(
        "async steps, max_in_flight = 1, at 20/s: response",
        &steps_scenario(
            lambda,
            "async",
            r#"[{ cpu = "5ms" }, { call = "db" }, { cpu = "5ms" }]
max_in_flight = 1"#,
            "",
        ),
        pk_wq(lambda, s, s * s) + s,
    );
    // Async without a limit: each request takes the core again after its
    // call. No closed form; Little's law holds at the API, the core is
    // busy lambda x 10 ms, and the response lies between the steps alone
    // (30 ms) and the blocking server's (52.5 ms).
    let r = run_text(
        &steps_scenario(
            lambda,
            "async",
            r#"[{ cpu = "5ms" }, { call = "db" }, { cpu = "5ms" }]"#,
            "",
        ),
        0,
    );
    let api = windows(&r, "api", 1000.0, 1000.0);
    let sys = windows(&r, "_system", 1000.0, 1000.0);
    let resp = ci(&col(&sys, |r| Some(r.mean_s)));
    println!(
        "async steps at 20/s: response {:.6} +- {:.6}",
        resp.mean, resp.half_width
    );
    assert!(resp.mean > 0.0301 && resp.mean < 0.0525, "{resp:?}");
    check_mean(
        "async steps: cpu",
        &col(&api, |r| r.cpu),
        lambda * 0.010,
        0.01,
    );
    let little: Vec<f64> = api
        .iter()
        .map(|w| w.in_flight - lambda * w.mean_s)
        .collect();
    let l = ci(&little);
    println!(
        "Little at the API: L - lambda W = {:.6} +- {:.6}",
        l.mean, l.half_width
    );
    assert!(
        l.contains(0.0) && l.half_width < 0.01 * lambda * resp.mean,
        "{l:?}"
    );
}

#[test]
fn steps_taken_by_a_share_or_by_classes() {
    // 30% of requests call the database: M/D/1 of the CPU + 0.3 x 20 ms.
    let (lambda, s) = (70.0, 0.010);
    check_response(
        "async, db for 30%: response",
        &steps_scenario(
            lambda,
            "async",
            r#"[{ cpu = "10ms" }, { call = "db", share = 0.3 }]"#,
            "",
        ),
        pk_wq(lambda, s, s * s) + s + 0.3 * 0.020,
    );
    // Only checkouts (a quarter of requests) call the database.
    let text = steps_scenario(
        lambda,
        "async",
        r#"[{ cpu = "10ms" }, { call = "db", classes = ["checkout"] }]"#,
        r#"mix = [{ name = "browse", weight = 3 }, { name = "checkout", weight = 1 }]"#,
    );
    let sum = summary(&text);
    let wq = pk_wq(lambda, s, s * s);
    for (class, call) in [("web.browse", 0.0), ("web.checkout", 0.020)] {
        let m = sum.classes.get(class).expect("the class").latency_s.mean;
        let theory = wq + s + call;
        println!("{class}: mean {m:.6}, theory {theory:.6}");
        assert!(
            (m - theory).abs() < 0.02 * theory,
            "{class}: {m} vs {theory}"
        );
    }
}

/// Cache-aside: the API reads a cache (an LRU of 300 of 1,000 uniform
/// keys: under independent references its hit ratio is exactly 300 /
/// 1,000) and calls the database itself only after a miss.
#[test]
fn cache_aside_calls_the_database_only_after_a_miss() {
    let (lambda, s) = (70.0, 0.010);
    let text = |when: &str| {
        format!(
            r#"{}
[components.cache]
kind = "cache"
capacity = 300
hit = {{ dist = "const", value = "1ms" }}
"#,
            steps_scenario(
                lambda,
                "async",
                &format!(
                    r#"[{{ cpu = "10ms" }}, {{ call = "cache" }}, {{ call = "db", if = "{when}" }}]"#
                ),
                "keys = { count = 1000 }",
            )
        )
    };
    let sum = summary(&text("miss"));
    let part = |n: &str| sum.components.get(n).expect("the component");
    let (cache, db) = (part("cache"), part("db"));
    let misses = cache.misses.expect("a cache counts misses");
    let lookups = misses + cache.hits.expect("and hits");
    // Each miss, and only a miss, goes on to the database (counted after
    // warm-up on both sides: a request in flight at the edge may differ).
    assert!(
        db.arrivals.abs_diff(misses) <= 5,
        "db {} vs misses {misses}",
        db.arrivals
    );
    let ratio = misses as f64 / lookups as f64;
    let sd = (0.7_f64 * 0.3 / lookups as f64).sqrt();
    println!("cache-aside: miss ratio {ratio:.5} vs 0.7 (binomial sd {sd:.5}; LRU misses are correlated: allow twice the binomial variance, 5 sd)");
    assert!((ratio - 0.7).abs() < 5.0 * sd, "{ratio}");
    // The response: M/D/1 of the CPU, the 1 ms lookup, 20 ms for 70%.
    let theory = pk_wq(lambda, s, s * s) + s + 0.001 + 0.7 * 0.020;
    check_response(
        "cache-aside, db after a miss: response",
        &text("miss"),
        theory,
    );
    let theory = pk_wq(lambda, s, s * s) + s + 0.001 + 0.3 * 0.020;
    check_response("db after a hit: response", &text("hit"), theory);
}

#[test]
fn bad_steps_are_located() {
    let bad = |steps: &str| load_error(&steps_scenario(20.0, "async", steps, ""));
    let e = bad(r#"[{ cpu = "5ms", call = "db" }]"#);
    assert!(e.contains("steps.0") && e.contains("one of"), "{e}");
    let e = bad(r#"[{ cpu = "5ms" }, { call = "db", share = 1.5 }]"#);
    assert!(e.contains("steps.1.share"), "{e}");
    let e = bad(r#"[{ cpu = "5ms" }, { call = "db", classes = ["chekout"] }]"#);
    assert!(
        e.contains("steps.1.classes.0") && e.contains("chekout"),
        "{e}"
    );
    let e = bad(r#"[{ cpu = "5ms" }, { enqueue = "db" }]"#);
    assert!(
        e.contains("steps.1.enqueue") && e.contains("not a queue"),
        "{e}"
    );
    let e = bad(r#"[{ call = "db" }, { cpu = "5ms" }]"#);
    assert!(e.contains("steps.0") && e.contains("event loop"), "{e}");
    let e = bad(r#"[{ cpu = "5ms" }, { call = "db", if = "missed" }]"#);
    assert!(e.contains("steps.1.if") && e.contains("\"miss\""), "{e}");
    let e = bad(r#"[{ cpu = "5ms" }, { call = "db", if = "miss" }]"#);
    assert!(
        e.contains("steps.1.if") && e.contains("no step before this one calls a cache"),
        "{e}"
    );
    let e = bad(r#"[{ cpu = "5ms" }, { call = "dbb" }]"#);
    assert!(e.contains("dbb"), "{e}");
    // steps replace service and calls.
    let text = scenario(20.0, "async", 1, CPU_10MS, r#"steps = [{ cpu = "5ms" }]"#);
    let e = load_error(&text);
    assert!(e.contains("steps replace service"), "{e}");
}
