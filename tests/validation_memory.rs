//! Validation of memory and OOM kills, and of the reference platform's
//! HPA manifest run as written.
//!
//! An async API (one core, 0.1 ms of CPU) awaits a 100 ms call for every
//! request, holding 2 MiB per request in flight on top of a 300 MiB base,
//! under a 1 GiB limit: (1024 - 300) / 2 = 362 requests fit. The requests
//! in flight are (nearly) M/G/inf, Poisson with mean lambda x 100.1 ms
//! (Little's law), so the limit is crossed at about lambda* = 362 /
//! 0.1001 s = 3,616/s. At 0.7 lambda* (Poisson mean 253) P(N >= 363) =
//! 5.8e-11 at any instant: over an hour of about 36,000 independent
//! 100 ms spans, a kill has probability 2e-6. (At 0.8 lambda* it is 1.8e-5
//! per span, about 0.65 crossings an hour: one kill, and the crash loop it
//! starts, is likely.) At 1.2 lambda* the first crossing comes within a
//! second, and the instance keeps being killed and restarted (a crash
//! loop: the requests that queued while it restarted push it over at
//! once), its requests lost. The kubelet's CrashLoopBackOff doubles the
//! restart delay (10 s, 20 s, 40 s, 80 s, 160 s, then 300 s, the cap): the
//! kills come at about 0, 10, 30, 70, 150, 310, 610, ... 3,310 s, 16 in
//! the hour.

mod common;
use common::*;

const LAMBDA_STAR: f64 = 362.0 / 0.1001;

fn scenario(lambda: f64) -> String {
    format!(
        r#"
name = "memory-validation"
duration = 3600
warmup = 0
sample = 60
seed = 41

[traffic.web]
rate = {lambda}
to = "api"

[components.api]
kind = "pool"
io = "async"
instances = 1
concurrency = 1
service = {{ dist = "const", value = "0.1ms" }}
queue_capacity = 2000
calls = ["db"]
memory = {{ base = "300MiB", per_request = "2MiB", limit = "1GiB", request = "512MiB" }}

[components.db]
kind = "pool"
instances = 1
concurrency = 100000
service = {{ dist = "const", value = "100ms" }}
"#
    )
}

#[test]
fn oom_kills_start_at_the_load_littles_law_predicts() {
    let below = summary(&scenario(0.7 * LAMBDA_STAR));
    let m = below.components.get("api").unwrap().memory.clone().unwrap();
    println!("0.7 lambda*: {m:?}");
    assert_eq!(m.oom_kills, 0);
    // The peak: base + 2 MiB x the most in flight, above the mean of 253
    // and below the limit.
    assert!(
        m.peak_mib > 300.0 + 2.0 * 253.0 && m.peak_mib <= 1024.0,
        "{m:?}"
    );
    assert_eq!(below.requests.failed, 0);
    let above = summary(&scenario(1.2 * LAMBDA_STAR));
    let m = above.components.get("api").unwrap().memory.clone().unwrap();
    println!(
        "1.2 lambda*: {m:?}, failed {} of {}",
        above.requests.failed, above.requests.arrived
    );
    assert!((15..=17).contains(&m.oom_kills), "{m:?}");
    assert!(above.requests.failed > 0);
    assert!(above.availability < 0.99, "{}", above.availability);
}

#[test]
fn bad_memory_fields_are_located_with_what_to_write() {
    let base = scenario(100.0);
    let e = load_error(&base.replace("limit = \"1GiB\"", "limit = 1024"));
    assert!(e.contains("memory") && e.contains("\"1024MiB\""), "{e}");
    let e = load_error(&base.replace(", limit = \"1GiB\"", ""));
    assert!(e.contains("components.api.memory.limit"), "{e}");
    let e = load_error(&base.replace("request = \"512MiB\"", "request = \"2GiB\""));
    assert!(
        e.contains("components.api.memory.request") && e.contains("above the limit"),
        "{e}"
    );
    let e = load_error(&base.replace("base = \"300MiB\"", "base = \"2GiB\""));
    assert!(e.contains("components.api.memory.base"), "{e}");
}
