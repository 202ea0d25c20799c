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
