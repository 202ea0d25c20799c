//! Sharded stores against theory.
//!
//! - Scatter-gather over two exponential shards (every request forks to
//!   both, answers when both have): the two-server fork-join queue, whose
//!   mean response time is (12 - rho) / (8 (mu - lambda)) (Flatto & Hahn
//!   1984; Nelson & Tantawi 1988). Checked against the 99.9% interval of
//!   8 replications.
//! - Hot keys make hot shards: under Zipf(0.9) keys routed by modulo, each
//!   shard's share of the requests is the probability mass of the keys it
//!   owns (within 4 binomial standard deviations), and the router reports
//!   the busiest shard's load over the mean.

use scalesim::run::run;
use scalesim::scenario::load_str;
use scalesim::sim::stats::student_t_ci;

const FORK_JOIN: &str = r#"
name = "forkjoin"
duration = "100000s"
warmup = "2000s"
seed = 2

[traffic.web]
rate = 0.5
to = "db"
keys = { count = 1000, zipf = 0.9 }

[components.db]
kind = "shards"
shards = 2
route = "modulo"
shard = { instances = 1, service = { dist = "exp", mean = "1s" } }
scatter = ["web"]
"#;

#[test]
fn scatter_gather_over_two_shards_is_the_fork_join_queue() {
    let loaded = load_str("shards.toml", FORK_JOIN, &[], "shards").unwrap();
    let xs: Vec<f64> = (0..8)
        .map(|r| run(&loaded, r).unwrap().summary.latency_s.mean)
        .collect();
    let ci = student_t_ci(&xs, 0.999).unwrap();
    let (lambda, mu) = (0.5, 1.0);
    let theory = (12.0 - lambda / mu) / (8.0 * (mu - lambda));
    eprintln!(
        "fork-join E[T] {:.4} +- {:.4} (theory {theory:.4})",
        ci.mean, ci.half_width
    );
    assert!(ci.contains(theory), "{ci:?}, theory {theory}");
    assert!(ci.half_width < 0.05 * theory);
}

#[test]
fn hot_keys_make_hot_shards() {
    let text = FORK_JOIN
        .replace("scatter = [\"web\"]", "")
        .replace("shards = 2", "shards = 4")
        .replace("rate = 0.5", "rate = 2.0")
        .replace("duration = \"100000s\"", "duration = \"20000s\"");
    let loaded = load_str("shards.toml", &text, &[], "shards").unwrap();
    let s = run(&loaded, 0).unwrap().summary;
    let arrivals = |name: &str| {
        s.components
            .0
            .iter()
            .find(|(n, _)| n == name)
            .unwrap()
            .1
            .arrivals as f64
    };
    let total: f64 = (0..4).map(|i| arrivals(&format!("db/{i}"))).sum();
    assert_eq!(total, arrivals("db"));
    let w: Vec<f64> = (1..=1000).map(|k: i32| (k as f64).powf(-0.9)).collect();
    let wsum: f64 = w.iter().sum();
    let mut shares = Vec::new();
    for shard in 0..4 {
        // Modulo: shard j owns the keys k with k % 4 == j.
        let p: f64 = (1..=1000usize)
            .filter(|k| k % 4 == shard)
            .map(|k| w[k - 1] / wsum)
            .sum();
        let got = arrivals(&format!("db/{shard}")) / total;
        let sd = (p * (1.0 - p) / total).sqrt();
        eprintln!(
            "shard {shard}: share {got:.4}, expected {p:.4} +- {:.4}",
            4.0 * sd
        );
        assert!((got - p).abs() < 4.0 * sd, "shard {shard}: {got} vs {p}");
        shares.push(got);
    }
    let mean = 0.25;
    let imbalance = shares.iter().copied().fold(0.0, f64::max) / mean;
    let reported = s.components.0[0].1.shard_imbalance.unwrap();
    assert!(
        (reported - imbalance).abs() < 1e-9,
        "{reported} vs {imbalance}"
    );
    assert!(
        reported > 1.1,
        "key 1 (the hottest) makes shard 1 hot: {reported}"
    );
}

#[test]
fn bad_shard_configs_are_located() {
    let bad = FORK_JOIN.replace("scatter = [\"web\"]", "scatter = [\"webb\"]");
    let e = load_str("shards.toml", &bad, &[], "shards")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("components.db.scatter") && e.contains("unknown request class"),
        "{e}"
    );
    let bad = FORK_JOIN.replace("route = \"modulo\"", "route = \"range\"");
    let e = load_str("shards.toml", &bad, &[], "shards")
        .unwrap_err()
        .to_string();
    assert!(e.contains("key_space"), "{e}");
    let bad = FORK_JOIN.replace("[components.db]", "[components.\"a/b\"]\nkind = \"pool\"\ninstances = 1\nservice = { dist = \"exp\", mean = \"1s\" }\n\n[components.db]");
    let e = load_str("shards.toml", &bad, &[], "shards")
        .unwrap_err()
        .to_string();
    assert!(e.contains("may not contain '/'"), "{e}");
}

#[test]
fn shards_may_be_replicated_databases() {
    let text = r#"
name = "sharded-db"
duration = "2000s"
warmup = "100s"
seed = 2

[traffic.web]
rate = 200
to = "db"
keys = { count = 300, zipf = 0.0 }
mix = [{ name = "read", weight = 9, op = "read" }, { name = "write", weight = 1, op = "write" }]

[components.db]
kind = "shards"
shards = 3
route = "modulo"
shard_database = { primary = { instances = 1, concurrency = 100, service = { dist = "const", value = "1ms" } }, replicas = 1 }
"#;
    let loaded = load_str("shards.toml", text, &[], "shards").unwrap();
    let s = run(&loaded, 0).unwrap().summary;
    let get = |name: &str| s.components.get(name).unwrap();
    let writes = s.classes.0[1].1.arrived;
    let mut primaries = 0;
    for i in 0..3 {
        let db = get(&format!("db/{i}"));
        assert_eq!(db.kind, "database");
        let (p, r) = (
            get(&format!("db/{i}/primary")).arrivals,
            get(&format!("db/{i}/replica0")).arrivals,
        );
        assert_eq!(p + r, db.arrivals);
        primaries += p;
    }
    // Every write lands on its shard's primary, every read on a replica.
    assert_eq!(primaries, writes);
    let bad = text.replace("route = \"modulo\"", "route = \"modulo\"\nshard = { instances = 1, service = { dist = \"exp\", mean = \"1s\" } }");
    let e = load_str("shards.toml", &bad, &[], "shards")
        .unwrap_err()
        .to_string();
    assert!(e.contains("one of the two"), "{e}");
}
