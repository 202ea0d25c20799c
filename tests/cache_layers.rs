//! Cache layers: per-instance L1 caches, writes that invalidate, warm
//! starts and miss coalescing.
//!
//! - Per-instance L1 with a TTL T and room for every key, behind a random
//!   balancer over n instances: each instance sees key i at rate
//!   lambda_i / n, and a TTL cache that never evicts hits key i with
//!   probability (lambda_i T / n) / (1 + lambda_i T / n) (Fofack, Nain,
//!   Neglia & Towsley 2014). So the hit ratio falls as the pool scales
//!   out: checked for n = 1, 4, 16 against the 99.9% interval of 6
//!   replications.
//! - Writes invalidate: with room for every key and an instant backend, a
//!   read hits exactly when the key's previous request was a read, so the
//!   read hit ratio is the read share of the mix.
//! - `warm = count`: a cache holding every key from the start never misses.
//! - Coalescing: the backend sees misses - coalesced requests; without
//!   coalescing a popular key's expiry sends a stampede (every miss during
//!   the backend's answer goes through).

use scalesim::output::summary::{ComponentJson, Summary};
use scalesim::run::run;
use scalesim::scenario::load_str;
use scalesim::sim::stats::student_t_ci;

fn summary(text: &str, rep: u32) -> Summary {
    let loaded = load_str("layers.toml", text, &[], "layers").unwrap_or_else(|d| panic!("{d}"));
    run(&loaded, rep).unwrap().summary
}

fn comp<'a>(s: &'a Summary, name: &str) -> &'a ComponentJson {
    s.components.get(name).unwrap()
}

/// Zipf(s) probabilities over keys 1..=n.
fn zipf(n: usize, s: f64) -> Vec<f64> {
    let w: Vec<f64> = (1..=n).map(|i| (i as f64).powf(-s)).collect();
    let t: f64 = w.iter().sum();
    w.into_iter().map(|x| x / t).collect()
}

const L1: &str = r#"
name = "l1"
duration = "8000s"
warmup = "1000s"
seed = 2

[traffic.web]
rate = 100
to = "api"
keys = { count = 1000, zipf = 0.8 }

[components.api]
kind = "pool"
instances = INSTANCES
balance = "random"
service = { dist = "const", value = "1ms" }
calls = ["l1"]

[components.l1]
kind = "cache"
scope = "per_instance"
capacity = 100000
ttl = "10s"
"#;

#[test]
fn per_instance_l1_hit_ratio_falls_as_the_pool_scales_out() {
    let p = zipf(1000, 0.8);
    let mut last = 1.0;
    for n in [1u32, 4, 16] {
        let text = L1.replace("INSTANCES", &n.to_string());
        let xs: Vec<f64> = (0..6)
            .map(|r| comp(&summary(&text, r), "l1").hit_ratio.unwrap())
            .collect();
        let ci = student_t_ci(&xs, 0.999).unwrap();
        let t = 10.0;
        let theory: f64 = p
            .iter()
            .map(|&q| {
                let x = 100.0 * q / n as f64 * t;
                q * x / (1.0 + x)
            })
            .sum();
        eprintln!(
            "n = {n}: L1 hit ratio {:.4} +- {:.4} (theory {theory:.4})",
            ci.mean, ci.half_width
        );
        assert!(ci.contains(theory), "n = {n}: {ci:?}, theory {theory}");
        assert!(ci.half_width < 0.01, "n = {n}: {ci:?}");
        assert!(theory < last);
        last = theory;
    }
}

#[test]
fn per_instance_caches_must_live_in_one_pool() {
    let text = L1
        .replace("INSTANCES", "2")
        .replace("to = \"api\"", "to = \"l1\"");
    let e = load_str("layers.toml", &text, &[], "layers")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("components.l1.scope") && e.contains("ONE pool"),
        "{e}"
    );
}

const WRITES: &str = r#"
name = "writes"
duration = "4000s"
warmup = "100s"
seed = 4

[traffic.web]
rate = 100
to = "api"
keys = { count = 1000, zipf = 0.8 }
mix = [{ name = "read", weight = 9, op = "read" }, { name = "write", weight = 1, op = "write" }]

[components.api]
kind = "pool"
instances = 10
service = { dist = "const", value = "1ms" }
calls = ["cache"]

[components.cache]
kind = "cache"
capacity = 100000
warm = 1000
miss = "db"

[components.db]
kind = "pool"
instances = 1
concurrency = 100
service = { dist = "const", value = "0s" }
"#;

#[test]
fn writes_invalidate_their_key() {
    let xs: Vec<f64> = (0..5)
        .map(|r| {
            let s = summary(WRITES, r);
            let c = comp(&s, "cache");
            // Every write and every miss reaches the database.
            assert_eq!(
                comp(&s, "db").arrivals,
                c.writes.unwrap() + c.misses.unwrap()
            );
            c.hit_ratio.unwrap()
        })
        .collect();
    let ci = student_t_ci(&xs, 0.999).unwrap();
    eprintln!(
        "read hit ratio with 10% writes: {:.4} +- {:.4}",
        ci.mean, ci.half_width
    );
    assert!(ci.contains(0.9), "{ci:?}");
    assert!(ci.half_width < 0.005);
}

#[test]
fn a_warm_cache_holding_every_key_never_misses() {
    let text = WRITES.replace(
        "mix = [{ name = \"read\", weight = 9, op = \"read\" }, { name = \"write\", weight = 1, op = \"write\" }]",
        "",
    );
    let s = summary(&text.replace("warmup = \"100s\"", "warmup = \"0s\""), 0);
    let c = comp(&s, "cache");
    assert_eq!(c.misses, Some(0));
    assert!(c.hits.unwrap() > 300_000);
    let cold = summary(
        &text
            .replace("warm = 1000", "warm = 0")
            .replace("warmup = \"100s\"", "warmup = \"0s\""),
        0,
    );
    assert_eq!(
        comp(&cold, "cache").misses,
        Some(1000),
        "one cold miss per key"
    );
}

const STAMPEDE: &str = r#"
name = "stampede"
duration = "3600s"
warmup = "300s"
seed = 2

[traffic.web]
rate = 200
to = "api"
keys = { count = 100, zipf = 1.0 }

[components.api]
kind = "pool"
instances = 400
service = { dist = "const", value = "1ms" }
calls = ["cache"]

[components.cache]
kind = "cache"
capacity = 1000
ttl = "30s"
hit = { dist = "const", value = "1ms" }
miss = "db"
coalesce = COALESCE

[components.db]
kind = "pool"
instances = 1
concurrency = 1000
service = { dist = "const", value = "500ms" }
"#;

#[test]
fn coalescing_stops_the_stampede() {
    let off = summary(&STAMPEDE.replace("COALESCE", "false"), 0);
    let on = summary(&STAMPEDE.replace("COALESCE", "true"), 0);
    let (c_off, c_on) = (comp(&off, "cache"), comp(&on, "cache"));
    let (db_off, db_on) = (comp(&off, "db").arrivals, comp(&on, "db").arrivals);
    assert_eq!(db_off, c_off.misses.unwrap());
    assert_eq!(db_on, c_on.misses.unwrap() - c_on.coalesced.unwrap());
    // With coalescing a key is refreshed at most once per TTL + backend
    // time: at most 100 keys x 3300 s / 30.5 s (+ one each at warm-up).
    assert!(db_on as f64 <= 100.0 * 3300.0 / 30.5 + 100.0, "{db_on}");
    eprintln!("backend requests: {db_off} without coalescing, {db_on} with");
    assert!(db_off as f64 > 1.5 * db_on as f64, "{db_off} vs {db_on}");
}
