//! The replicated database: writes to the primary, reads shared by the
//! replicas, asynchronous replication.
//!
//! With Poisson writes of rate w_k on key k and a replication lag of mean
//! m (any law), the writes of k not yet on the replicas form an M/G/inf
//! queue: a read finds k behind with probability 1 - exp(-w_k m). Over a
//! Zipf key law the stale share of replica reads is the p-weighted mean of
//! that (reads and writes draw keys from one law). Checked against the
//! 99.9% interval of 6 replications; with `read_your_writes` the same
//! share of reads goes to the primary instead and none is stale.
//!
//! A caller's connection pool (`connections = { db = 2 }`) in front of a
//! database with room for every query is an M/M/2 queue: the wait for a
//! connection is Erlang C's Wq.

use scalesim::output::summary::Summary;
use scalesim::run::run;
use scalesim::scenario::load_str;
use scalesim::sim::stats::student_t_ci;

const DB: &str = r#"
name = "replicas"
duration = "10000s"
warmup = "500s"
seed = 2

[traffic.web]
rate = 200
to = "db"
keys = { count = 200, zipf = 0.8 }
mix = [{ name = "read", weight = 9, op = "read" }, { name = "write", weight = 1, op = "write" }]

[components.db]
kind = "database"
primary = { instances = 1, concurrency = 100, service = { dist = "const", value = "0s" } }
replicas = 2
replication_lag = { dist = "exp", mean = "100ms" }
read_your_writes = RYW
"#;

fn arrivals(s: &Summary, name: &str) -> u64 {
    s.components
        .0
        .iter()
        .find(|(n, _)| n == name)
        .unwrap()
        .1
        .arrivals
}

/// The stale probability of a read: sum_k p_k (1 - exp(-w p_k m)).
fn theory() -> f64 {
    let w: Vec<f64> = (1..=200).map(|k| (k as f64).powf(-0.8)).collect();
    let t: f64 = w.iter().sum();
    w.iter()
        .map(|x| x / t)
        .map(|p| p * (1.0 - (-20.0 * p * 0.1f64).exp()))
        .sum()
}

fn shares(ryw: bool) -> Vec<(f64, Summary)> {
    let text = DB.replace("RYW", &ryw.to_string());
    let loaded = load_str("db.toml", &text, &[], "db").unwrap();
    (0..6)
        .map(|r| {
            let s = run(&loaded, r).unwrap().summary;
            let db = &s.components.0[0].1;
            let reads = s.classes.0[0].1.arrived as f64;
            let behind = if ryw {
                db.primary_reads.unwrap()
            } else {
                db.stale_reads.unwrap()
            };
            (behind as f64 / reads, s)
        })
        .collect()
}

#[test]
fn replicas_serve_stale_reads_as_m_g_infinity_predicts() {
    let runs = shares(false);
    for (_, s) in &runs {
        let writes = s.classes.0[1].1.arrived;
        assert_eq!(
            arrivals(s, "db/primary"),
            writes,
            "every write, and only writes"
        );
        let (a, b) = (arrivals(s, "db/replica0"), arrivals(s, "db/replica1"));
        assert!(a.abs_diff(b) <= 1, "round robin: {a} vs {b}");
        assert_eq!(s.components.0[0].1.primary_reads, Some(0));
    }
    let xs: Vec<f64> = runs.iter().map(|r| r.0).collect();
    let ci = student_t_ci(&xs, 0.999).unwrap();
    let t = theory();
    eprintln!(
        "stale reads {:.5} +- {:.5} (theory {t:.5})",
        ci.mean, ci.half_width
    );
    assert!(ci.contains(t), "{ci:?} vs {t}");
    assert!(ci.half_width < 0.05 * t);
}

#[test]
fn read_your_writes_sends_lagging_keys_to_the_primary() {
    let runs = shares(true);
    for (_, s) in &runs {
        let db = &s.components.0[0].1;
        assert_eq!(db.stale_reads, Some(0));
        let writes = s.classes.0[1].1.arrived;
        assert_eq!(
            arrivals(s, "db/primary"),
            writes + db.primary_reads.unwrap()
        );
    }
    let xs: Vec<f64> = runs.iter().map(|r| r.0).collect();
    let ci = student_t_ci(&xs, 0.999).unwrap();
    let t = theory();
    eprintln!(
        "reads to the primary {:.5} +- {:.5} (theory {t:.5})",
        ci.mean, ci.half_width
    );
    assert!(ci.contains(t), "{ci:?} vs {t}");
}

/// A pool whose instance may hold 2 connections to a database that serves
/// any number of queries in Exp(1 s): the connections are the servers of
/// an M/M/2 queue, so the wait for one is Erlang C's Wq.
const CONNECTIONS: &str = r#"
name = "connections"
duration = "100000s"
warmup = "2000s"
seed = 3

[traffic.web]
rate = 1.6
to = "api"

[components.api]
kind = "pool"
instances = 1
concurrency = 100
service = { dist = "const", value = "0s" }
calls = ["db"]
connections = { db = 2 }

[components.db]
kind = "pool"
instances = 1
concurrency = 100
service = { dist = "exp", mean = "1s" }
"#;

#[test]
fn a_connection_pool_is_a_multi_server_queue() {
    let loaded = load_str("conn.toml", CONNECTIONS, &[], "conn").unwrap();
    let xs: Vec<f64> = (0..8)
        .map(|r| {
            let s = run(&loaded, r).unwrap().summary;
            // The database never has more than 2 queries from this instance.
            assert!(s.components.0[1].1.mean_in_system <= 2.0);
            s.components.0[0].1.connection_wait_s.unwrap()
        })
        .collect();
    let ci = student_t_ci(&xs, 0.999).unwrap();
    // Erlang C, c = 2, a = 1.6: P(wait) = t / (1 + a + t) with
    // t = a^2 / 2 * 2 / (2 - a); P(wait) = 0.7111, Wq = P(wait) / (2 - a).
    let a: f64 = 1.6;
    let top = a * a / 2.0 * 2.0 / (2.0 - a);
    let wq = top / (1.0 + a + top) / (2.0 - a);
    eprintln!(
        "connection wait {:.4} +- {:.4} (Erlang C {wq:.4})",
        ci.mean, ci.half_width
    );
    assert!(ci.contains(wq), "{ci:?} vs {wq}");
    assert!(ci.half_width < 0.1 * wq);
}
