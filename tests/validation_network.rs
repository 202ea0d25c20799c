//! Validation of multi-component systems: Little's law per component and
//! end to end, flow conservation between components, and the nesting of
//! response times along a pool -> cache -> pool call chain.
//!
//! Little's law L = lambda W is a sample-path identity: over a window,
//! integral of N(t) dt = sum of the time each visit spent inside the window,
//! and completions x mean response = sum of the response times of visits
//! that ended in it. The two differ only by the visits straddling the
//! window's ends, whose expected contributions cancel in steady state. So
//! for each window the difference d = in_flight - completions/dt x mean_s
//! has mean zero, and its batch-means interval must contain 0 and be
//! narrow compared with L itself.

mod common;
use common::*;
use scalesim::run::Run;
use scalesim_models::system::TsRow;

/// Difference series of one Little identity over the windows of a
/// component: `lhs(row) - rate(row) / dt x time(row)`.
fn little_diffs(
    rows: &[&TsRow],
    dt: f64,
    lhs: impl Fn(&TsRow) -> f64,
    rate_count: impl Fn(&TsRow) -> f64,
    time: impl Fn(&TsRow) -> f64,
) -> Vec<f64> {
    rows.iter()
        .map(|r| lhs(r) - rate_count(r) / dt * time(r))
        .collect()
}

/// Asserts a Little identity: the difference series has a 99.9% interval
/// containing 0 with a half-width below 1% of the mean of `lhs`, and the
/// whole-run figures satisfy it within that half-width.
fn check_little(label: &str, diffs: &[f64], lhs_mean: f64, whole_lhs: f64, whole_rhs: f64) {
    let c = ci(diffs);
    println!(
        "{label}: L {lhs_mean:.5}; per-window L - lambda W = {:.2e} +- {:.2e} (99.9%); whole run L {whole_lhs:.6} vs lambda W {whole_rhs:.6}",
        c.mean, c.half_width
    );
    assert!(
        c.contains(0.0),
        "{label}: Little's law fails: L - lambda W = {} +- {}",
        c.mean,
        c.half_width
    );
    assert!(
        c.half_width < 0.01 * lhs_mean,
        "{label}: interval too wide: {} vs L {lhs_mean}",
        c.half_width
    );
    assert!(
        (whole_lhs - whole_rhs).abs() <= c.half_width.max(1e-3 * whole_lhs),
        "{label}: whole run L {whole_lhs} vs lambda W {whole_rhs}"
    );
}

const LITTLE: &str = r#"
name = "little"
duration = 200000
warmup = 5000
sample = 5000
seed = 81

# Requests with keys: web -> api, which calls the cache (misses go to db)
# and then auth; a key-less batch source loads db directly.
[traffic.web]
rate = 8
to = "api"
keys = { count = 5000, zipf = 0.9 }

[traffic.batch]
rate = 2
to = "db"

[components.api]
kind = "pool"
instances = 2
concurrency = 4
service = { dist = "exp", mean = "300ms" }
calls = ["cache", "auth"]

[components.cache]
kind = "cache"
capacity = 500
policy = "lru"
hit = { dist = "lognormal", mean = "2ms", cv = 1.0 }
miss = "db"

[components.db]
kind = "pool"
instances = 1
concurrency = 3
service = { dist = "gamma", mean = "400ms", cv = 1.5 }

[components.auth]
kind = "pool"
instances = 2
service = { dist = "uniform", min = "50ms", max = "150ms" }
"#;

#[test]
fn littles_law_per_component() {
    let (warm, dt) = (5000.0, 5000.0);
    let r: Run = run_text(LITTLE, 0);
    let comps = &r.summary.components.0;
    let span = r.summary.measured_s;
    for (name, c) in comps {
        let w = windows(&r, name, warm, dt);
        let l_mean = ci(&col(&w, |r| Some(r.in_flight))).mean;
        // L = throughput x mean response, for every component.
        let d = little_diffs(
            &w,
            dt,
            |r| r.in_flight,
            |r| r.completions as f64,
            |r| r.mean_s,
        );
        check_little(
            &format!("{name} ({}) L = X W", c.kind),
            &d,
            l_mean,
            c.mean_in_system,
            c.throughput_rps * c.mean_response_s,
        );
        // Lq = (admitted arrival rate) x mean wait, for pools.
        if c.kind == "pool" {
            let lq_mean = ci(&col(&w, |r| r.queue_len)).mean;
            let d = little_diffs(
                &w,
                dt,
                |r| r.queue_len.unwrap(),
                |r| (r.arrivals - r.rejections) as f64,
                |r| r.wait_mean_s.unwrap(),
            );
            let admitted = (c.arrivals - c.rejections) as f64 / span;
            check_little(
                &format!("{name} Lq = lambda Wq"),
                &d,
                lq_mean,
                c.mean_queue_len.unwrap(),
                admitted * c.mean_wait_s.unwrap(),
            );
            assert!(
                lq_mean > 0.05,
                "{name}: the test needs queueing to be meaningful (Lq {lq_mean})"
            );
        }
    }
    // End to end: requests in the system = throughput x mean latency.
    let w = windows(&r, "_system", warm, dt);
    let l_mean = ci(&col(&w, |r| Some(r.in_flight))).mean;
    let d = little_diffs(
        &w,
        dt,
        |r| r.in_flight,
        |r| r.completions as f64,
        |r| r.mean_s,
    );
    let s = &r.summary;
    let sys_l: f64 = w.iter().map(|r| r.in_flight).sum::<f64>() / w.len() as f64;
    check_little(
        "_system L = X W",
        &d,
        l_mean,
        sys_l,
        s.throughput_rps * s.latency_s.mean,
    );

    // Flow conservation (counts after warm-up; only the few visits that
    // straddle the warm-up instant or the end may differ).
    let get = |n: &str| &comps.iter().find(|c| c.0 == n).unwrap().1;
    let (api, cache, db, auth) = (get("api"), get("cache"), get("db"), get("auth"));
    let close = |a: u64, b: u64, what: &str| {
        assert!(a.abs_diff(b) <= 50, "{what}: {a} vs {b}");
    };
    close(
        cache.arrivals,
        api.arrivals,
        "every api visit looks the cache up",
    );
    close(
        cache.hits.unwrap() + cache.misses.unwrap(),
        cache.arrivals,
        "lookups",
    );
    close(
        auth.arrivals,
        api.arrivals,
        "every api visit calls auth after the cache",
    );
    let batch = s.requests.arrived - api.arrivals;
    close(
        db.arrivals,
        cache.misses.unwrap() + batch,
        "db sees cache misses plus the batch source",
    );
    assert_eq!(s.requests.rejected, 0);
    // Arrival rates match the sources: 8/s into api, 10 - 8 = 2/s batch.
    let lam_api = api.arrivals as f64 / span;
    let se = (8.0 / span).sqrt();
    assert!(
        (lam_api - 8.0).abs() < 4.0 * se,
        "api arrival rate {lam_api}"
    );
}

/// Front pool (const s1, ample slots) -> cache (const lookup h) -> on a
/// miss, back pool (const s2, ample slots). No queueing anywhere, so every
/// request takes exactly s1 + h, plus s2 on a miss.
const CHAIN_CONST: &str = r#"
name = "chain-const"
duration = 20000
warmup = 1000
sample = 1000
seed = 82

[traffic.web]
rate = 50
to = "api"
keys = { count = 5000, zipf = 0.9 }

[components.api]
kind = "pool"
instances = 64
service = { dist = "const", value = "10ms" }
calls = ["cache"]

[components.cache]
kind = "cache"
capacity = 1000
policy = "lru"
hit = { dist = "const", value = "1ms" }
miss = "db"

[components.db]
kind = "pool"
instances = 64
service = { dist = "const", value = "20ms" }
"#;

#[test]
fn chain_latency_is_sum_of_parts_const() {
    let (s1, h, s2) = (0.010, 0.001, 0.020);
    let r = run_text(CHAIN_CONST, 0);
    let s = &r.summary;
    let comps = &s.components.0;
    let (api, cache, db) = (&comps[0].1, &comps[1].1, &comps[2].1);
    // Ample slots: nobody waits (64 slots hold about 1.5 busy on average).
    assert_eq!(api.mean_wait_s, Some(0.0));
    assert_eq!(db.mean_wait_s, Some(0.0));
    let miss = cache.misses.unwrap() as f64 / (cache.hits.unwrap() + cache.misses.unwrap()) as f64;
    assert!(miss > 0.1 && miss < 0.9, "a mix of hits and misses: {miss}");
    // Per request, latency = s1 + h + [miss] s2 exactly (integer
    // nanoseconds). The cache's miss count and the latency tally cover the
    // same requests except those straddling the warm-up instant or the end
    // (a handful at 50/s and 31 ms), each off by at most s2: allow 20 of
    // them out of about a million, plus float rounding.
    let n = s.requests.completed as f64;
    let slack = 20.0 * s2 / n + 1e-12;
    let expect = s1 + h + miss * s2;
    println!("chain const: mean latency {:.9} vs s1 + h + miss x s2 = {expect:.9} (miss ratio {miss:.5}, slack {slack:.2e})", s.latency_s.mean);
    assert!(
        (s.latency_s.mean - expect).abs() <= slack,
        "{} vs {expect}",
        s.latency_s.mean
    );
    // The same nesting per component: db answers in s2, the cache in
    // h + miss x s2, api in s1 + the cache's answer.
    assert!(
        (db.mean_response_s - s2).abs() < 1e-12,
        "{}",
        db.mean_response_s
    );
    let cache_expect = h + miss * s2;
    assert!(
        (cache.mean_response_s - cache_expect).abs() <= slack,
        "{} vs {cache_expect}",
        cache.mean_response_s
    );
    assert!(
        (api.mean_response_s - (s1 + cache.mean_response_s)).abs() <= slack,
        "{}",
        api.mean_response_s
    );
    // Two latency values only: hits at s1 + h, misses at s1 + h + s2; the
    // histogram's quantiles are within 1% of them.
    let hit_lat = s1 + h;
    let miss_lat = s1 + h + s2;
    assert!(
        miss < 0.5,
        "p50 is a hit when misses are under half: {miss}"
    );
    assert!(
        (s.latency_s.p50 - hit_lat).abs() <= 0.01 * hit_lat,
        "p50 {}",
        s.latency_s.p50
    );
    assert!(
        (s.latency_s.p99 - miss_lat).abs() <= 0.01 * miss_lat,
        "p99 {}",
        s.latency_s.p99
    );
    assert!(
        (s.latency_s.max - miss_lat).abs() < 1e-12,
        "max {}",
        s.latency_s.max
    );
}

/// The same chain with queueing and random laws: front pool of 4 slots
/// (exp 50 ms), cache lookup log-normal 1 ms, back pool of 2 slots (gamma
/// 100 ms, cv 1.5).
const CHAIN_QUEUEING: &str = r#"
name = "chain-queueing"
duration = 205000
warmup = 5000
sample = 5000
seed = 83

[traffic.web]
rate = 20
to = "api"
keys = { count = 20000, zipf = 0.8 }

[components.api]
kind = "pool"
instances = 2
concurrency = 2
service = { dist = "exp", mean = "50ms" }
calls = ["cache"]

[components.cache]
kind = "cache"
capacity = 2000
policy = "lru"
hit = { dist = "lognormal", mean = "1ms", cv = 1.0 }
miss = "db"

[components.db]
kind = "pool"
instances = 1
concurrency = 2
service = { dist = "gamma", mean = "100ms", cv = 1.5 }
"#;

#[test]
fn chain_latency_nests_with_queueing() {
    let (warm, dt) = (5000.0, 5000.0);
    let (es1, eh) = (0.050, 0.001);
    let r = run_text(CHAIN_QUEUEING, 0);
    let api = windows(&r, "api", warm, dt);
    let cache = windows(&r, "cache", warm, dt);
    let db = windows(&r, "db", warm, dt);
    let sys = windows(&r, "_system", warm, dt);
    let util = |w: &[&TsRow]| ci(&col(w, |r| r.utilization)).mean;
    println!(
        "chain: api utilization {:.3}, db utilization {:.3}",
        util(&api),
        util(&db)
    );
    assert!(ci(&col(&api, |r| r.wait_mean_s)).mean > 0.01, "api queues");
    assert!(ci(&col(&db, |r| r.wait_mean_s)).mean > 0.02, "db queues");
    // Per visit: api response = api wait + S1 + cache response, so per
    // window mean(api) - mean(api wait) - mean(cache) estimates E[S1].
    // (Sums over visits ending in a window differ from the sums over
    // visits starting in it only at the window's ends.)
    let d1: Vec<f64> = (0..api.len())
        .map(|i| api[i].mean_s - api[i].wait_mean_s.unwrap() - cache[i].mean_s)
        .collect();
    check_mean("chain: api - api wait - cache = E[S1]", &d1, es1, 0.03);
    // Cache response = lookup + (on a miss) db response, so per window
    // mean(cache) - mean(db) x db visits / cache visits estimates E[h].
    let d2: Vec<f64> = (0..cache.len())
        .map(|i| {
            cache[i].mean_s - db[i].mean_s * db[i].completions as f64 / cache[i].completions as f64
        })
        .collect();
    check_mean("chain: cache - miss share x db = E[h]", &d2, eh, 0.03);
    // End to end equals the front component (one source into api).
    let d3: Vec<f64> = (0..api.len())
        .map(|i| sys[i].mean_s - api[i].mean_s)
        .collect();
    let c3 = ci(&d3);
    println!(
        "chain: _system - api per window = {:.2e} +- {:.2e}",
        c3.mean, c3.half_width
    );
    assert!(
        d3.iter().all(|d| d.abs() < 1e-12),
        "end-to-end latency is the api response: {d3:?}"
    );
    // Whole run: mean latency = Wq(api) + E[S1] + E[h] + miss ratio x W(db),
    // the sum of the parts, within the interval of the total.
    let s = &r.summary;
    let comps = &s.components.0;
    let (capi, ccache, cdb) = (&comps[0].1, &comps[1].1, &comps[2].1);
    let miss = ccache.misses.unwrap() as f64 / ccache.arrivals as f64;
    let parts = capi.mean_wait_s.unwrap() + es1 + eh + miss * cdb.mean_response_s;
    let total = ci(&col(&sys, |r| Some(r.mean_s)));
    println!(
        "chain: mean latency {:.6} +- {:.6}; sum of parts {parts:.6} (api wait {:.6}, miss {miss:.4}, db W {:.6})",
        s.latency_s.mean,
        total.half_width,
        capi.mean_wait_s.unwrap(),
        cdb.mean_response_s
    );
    assert!(
        (s.latency_s.mean - parts).abs() <= total.half_width,
        "{} vs {parts}",
        s.latency_s.mean
    );
    assert!(total.half_width < 0.03 * parts);
}
