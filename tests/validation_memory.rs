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

/// An in-process L1 (`scope = "per_instance"`, `entry_size`) in the
/// memory of the API it lives in: 300 MiB base under a 1 GiB limit leaves
/// room for (1024 - 300) MiB / 50 KiB = 14,827.5 entries. With uniform
/// keys over K = 100,000 and an LRU larger than that, the entries are the
/// distinct keys seen: after n requests K (1 - (1 - 1/K)^n), which passes
/// 14,828 at n* = ln(1 - 14,828 / K) / ln(1 - 1/K) = 16,050 requests, at
/// 100/s t* = 160.5 s (sd: the Poisson time of n* arrivals, 1.27 s, and
/// the coupon-collector spread of n*, about 35 requests). The instance is
/// killed then and restarts cold after the 10 s CrashLoopBackOff delay;
/// the requests that queued meanwhile start on it at once, so the second
/// kill comes n* requests later again: 160.5 s after the first (a store
/// that survived the restart would be killed at once, 10 s after it). An
/// L1 of 10,000 entries
/// fits: the instance peaks at 300 + 10,000 x 50 / 1024 = 788.28 MiB.
fn l1_scenario(capacity: u32) -> String {
    format!(
        r#"
name = "l1-memory-validation"
duration = 400
warmup = 0
sample = 10
seed = 43

[traffic.web]
rate = 100
keys = {{ count = 100000, zipf = 0 }}
to = "api"

[components.api]
kind = "pool"
io = "async"
instances = 1
concurrency = 4
service = {{ dist = "const", value = "1ms" }}
calls = ["l1"]
memory = {{ base = "300MiB", limit = "1GiB" }}

[components.l1]
kind = "cache"
scope = "per_instance"
capacity = {capacity}
entry_size = "50KiB"
miss = "db"

[components.db]
kind = "pool"
instances = 1
concurrency = 1000
service = {{ dist = "const", value = "5ms" }}
"#
    )
}

#[test]
fn an_in_process_cache_fills_the_memory_of_its_instance() {
    let fits = summary(&l1_scenario(10_000));
    let m = fits.components.get("api").unwrap().memory.clone().unwrap();
    println!("L1 of 10,000: {m:?}");
    assert_eq!(m.oom_kills, 0);
    let full = 300.0 + 10_000.0 * 50.0 / 1024.0;
    assert!((m.peak_mib - full).abs() < 1e-6, "{} vs {full}", m.peak_mib);

    let run = run_text(&l1_scenario(20_000), 0);
    let kills: Vec<f64> = run
        .report
        .incidents
        .iter()
        .filter(|i| i.component == "api" && i.what.contains("out of memory"))
        .map(|i| i.t_s)
        .collect();
    let k = 100_000f64;
    let n_star = (1.0 - 14_828.0 / k).ln() / (1.0 - 1.0 / k).ln();
    let t_star = n_star / 100.0;
    let sd = (n_star.sqrt() / 100.0).hypot(35.0 / 100.0);
    println!("L1 of 20,000: kills at {kills:?}, predicted {t_star:.1} s (sd {sd:.2}), then {t_star:.1} s later");
    assert_eq!(kills.len(), 2, "{kills:?}");
    assert!((kills[0] - t_star).abs() <= 5.0 * sd, "{kills:?}");
    assert!(
        (kills[1] - kills[0] - t_star).abs() <= 5.0 * sd * 2f64.sqrt(),
        "{kills:?}"
    );
}

#[test]
fn entry_size_belongs_to_an_in_process_cache() {
    let e = load_error(&l1_scenario(100).replace("scope = \"per_instance\"\n", ""));
    assert!(
        e.contains("components.l1.entry_size") && e.contains("per_instance"),
        "{e}"
    );
    let e = load_error(&l1_scenario(100).replace("\"50KiB\"", "\"50\""));
    assert!(
        e.contains("components.l1.entry_size") && e.contains("no unit"),
        "{e}"
    );
}
