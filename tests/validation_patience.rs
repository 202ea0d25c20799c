//! `queue_timeout` against Palm's M/M/c+M queue ("Erlang-A": Poisson
//! arrivals λ, c exponential servers of rate μ, exponential patience of
//! rate θ; Garnett, Mandelbaum and Reiman, MSOM 2002). The number in
//! system is a birth-death chain with births λ and deaths
//! min(n, c) μ + (n - c)⁺ θ, so π(n) ∝ Π_{k=1..n} λ / d(k); the queue
//! holds E[Q] = Σ (n - c)⁺ π(n), and a waiting customer abandons at rate
//! θ, so P(abandon) = θ E[Q] / λ.
//!
//! c = 4, μ = 1/s, λ = 4.5/s (ρ = 1.125: overloaded, stable only through
//! abandonment), patience mean 2 s (θ = 0.5). Each of 10 replications
//! runs 4 h after a 10 min warm-up (~65,000 arrivals); the replications
//! are independent, so their means give a Student-t interval (99.9%),
//! which must hold the theory and be narrower than 5% of it.

mod common;

use common::check_mean;

const ERLANG_A: &str = r#"
duration = "250m"
warmup = "10m"
sample = "10m"
seed = 21
[traffic.calls]
rate = 4.5
to = "agents"
[components.agents]
kind = "pool"
instances = 4
service = { dist = "exp", mean = "1s" }
queue_timeout = { dist = "exp", mean = "2s" }
"#;

/// (P(abandon), E[Q]) of M/M/c+M.
fn erlang_a(c: u32, lambda: f64, mu: f64, theta: f64) -> (f64, f64) {
    let (mut p, mut total, mut queued) = (1.0, 1.0, 0.0);
    for n in 1..100_000u32 {
        let death = n.min(c) as f64 * mu + n.saturating_sub(c) as f64 * theta;
        p *= lambda / death;
        total += p;
        queued += n.saturating_sub(c) as f64 * p;
        if p < 1e-300 || (n > c && p < 1e-18 * total) {
            break;
        }
    }
    let q = queued / total;
    (theta * q / lambda, q)
}

#[test]
fn exponential_patience_matches_erlang_a() {
    let (p_ab, eq) = erlang_a(4, 4.5, 1.0, 0.5);
    let (mut ab, mut q) = (Vec::new(), Vec::new());
    for rep in 0..10 {
        let s = common::run_text(ERLANG_A, rep).summary;
        let c = s.components.get("agents").unwrap();
        ab.push(c.timed_out as f64 / c.arrivals as f64);
        q.push(c.mean_queue_len.unwrap());
        // The run's counts agree, but for the requests that arrived before
        // warm-up (the component counts what happened after it, the run
        // the requests that arrived after it): a timed-out request is an
        // error.
        assert!(s.requests.timed_out.abs_diff(c.timed_out) < 50);
        assert_eq!(s.requests.rejected, 0);
        let share = s.requests.timed_out as f64 / s.requests.arrived as f64;
        assert!(
            (s.error_rate - share).abs() < 1e-4,
            "{} vs {share}",
            s.error_rate
        );
    }
    check_mean("P(abandon)", &ab, p_ab, 0.05);
    check_mean("E[Q]", &q, eq, 0.05);
}

#[test]
fn behind_a_random_balancer_each_instance_is_its_own_erlang_a_queue() {
    // 3 instances of 4 slots behind a random balancer: each gets a Poisson
    // third of 13.5/s, an M/M/4+M queue of its own (the same as above);
    // the pool's queue is the sum of three.
    let (p_ab, eq) = erlang_a(4, 4.5, 1.0, 0.5);
    let text = ERLANG_A.replace("rate = 4.5", "rate = 13.5").replace(
        "instances = 4",
        "instances = 3\nconcurrency = 4\nbalance = \"random\"",
    );
    let (mut ab, mut q) = (Vec::new(), Vec::new());
    for rep in 0..10 {
        let s = common::run_text(&text, rep).summary;
        let c = s.components.get("agents").unwrap();
        ab.push(c.timed_out as f64 / c.arrivals as f64);
        q.push(c.mean_queue_len.unwrap());
    }
    check_mean("P(abandon) per instance", &ab, p_ab, 0.05);
    check_mean("E[Q] of 3 instances", &q, 3.0 * eq, 0.05);
}

#[test]
fn a_fixed_deadline_bounds_every_wait() {
    // A const deadline: nobody who is served waited longer than it, and
    // the wait of those served is at most 1 s.
    let text = ERLANG_A.replace(
        "queue_timeout = { dist = \"exp\", mean = \"2s\" }",
        "queue_timeout = \"1s\"",
    );
    let s = common::run_text(&text, 0).summary;
    let c = s.components.get("agents").unwrap();
    assert!(c.timed_out > 0);
    assert!(c.mean_wait_s.unwrap() < 1.0);
    // Served plus timed out is every arrival, but those in flight at
    // warm-up and at the end.
    assert!((c.completions + c.timed_out).abs_diff(c.arrivals) < 100);
}

#[test]
fn bad_deadlines_are_refused_where_they_are_written() {
    for (to, want) in [
        (
            "queue_timeout = \"0s\"",
            "a queue timeout of 0 drops every request",
        ),
        ("queue_timeout = \"-2s\"", "invalid duration \"-2s\""),
        ("queue_timeout = { dist = \"exp\" }", "missing field `mean`"),
    ] {
        let text = ERLANG_A.replace("queue_timeout = { dist = \"exp\", mean = \"2s\" }", to);
        let e = common::load_error(&text);
        assert!(
            e.contains("validation.toml:")
                && e.contains("components.agents.queue_timeout")
                && e.contains(want),
            "{to}: {e}"
        );
    }
}

#[test]
fn a_shard_that_times_out_times_out_the_whole_query() {
    // Scatter-gather over two overloaded shards with a deadline: a query
    // fails as its first failed shard did, so the run counts timeouts,
    // not rejections.
    let text = r#"
duration = "30m"
warmup = "1m"
seed = 3
[traffic.search]
rate = 30
to = "db"
keys = { count = 1000 }
[components.db]
kind = "shards"
shards = 2
route = "modulo"
shard = { instances = 1, service = { dist = "exp", mean = "50ms" }, queue_timeout = "200ms" }
scatter = ["search"]
"#;
    let s = common::summary(text);
    assert!(s.requests.timed_out > 1_000, "{:?}", s.requests);
    assert_eq!(s.requests.rejected, 0);
}
