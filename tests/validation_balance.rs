//! Load balancing against published results.
//!
//! - Power of two choices: N servers of rate 1, Poisson arrivals at rate
//!   N lambda, each sent to the shorter of two random queues. As N grows,
//!   the fraction of queues with at least i jobs tends to
//!   lambda^(2^i - 1) (Mitzenmacher, IEEE TPDS 12(10), 2001; Vvedenskaya,
//!   Dobrushin & Karpelevich 1996). Checked for i = 1..4 at N = 1000,
//!   lambda = 0.9, against the 99.9% Student-t interval of 10
//!   replications.
//! - Random assignment: every queue is an M/M/1 at load lambda, so the
//!   fraction with at least i jobs is lambda^i.
//! - Join the shortest queue (`least_conn`): the d = N limit, where almost
//!   no queue holds two jobs; its fraction busy is lambda (flow balance),
//!   and it beats two choices, which beats random, on response time.
//! - Consistent hashing with v points per instance on the ring: an
//!   instance's share of the key space is a sum of v spacings of N v
//!   uniform points, Beta(v, (N - 1) v), whose coefficient of variation is
//!   sqrt((N - 1) / (N v + 1)) ~ 1/sqrt(v).

use scalesim::run::run;
use scalesim::scenario::load_str;
use scalesim::sim::stats::student_t_ci;
use scalesim_models::fleet::balance::{Balancer, Policy};

/// Summary values of one replication: (load_at_least[1..=8], mean latency).
fn replicate(policy: &str, instances: u32, lambda: f64, secs: u32, rep: u32) -> (Vec<f64>, f64) {
    let text = format!(
        r#"
name = "balance"
duration = "{secs}s"
warmup = "{warm}s"
sample = "{secs}s"
seed = 17

[traffic.web]
rate = {rate}
to = "api"

[components.api]
kind = "pool"
instances = {instances}
balance = "{policy}"
service = {{ dist = "exp", mean = "1s" }}
"#,
        warm = secs / 10,
        rate = lambda * instances as f64,
    );
    let loaded = load_str("balance.toml", &text, &[], "balance").unwrap();
    let r = run(&loaded, rep).unwrap();
    let api = &r.summary.components.0[0].1;
    let shares = api
        .load_at_least
        .as_ref()
        .expect("a balanced pool reports its load distribution")
        .0
        .iter()
        .map(|(_, v)| *v)
        .collect();
    (shares, r.summary.latency_s.mean)
}

/// Checks `theory[i]` against the 99.9% interval of each level over
/// `reps` replications; the interval must also be narrow (relative
/// half-width below `max_rel`), so a noisy run cannot pass by vagueness.
fn check_levels(
    policy: &str,
    n: u32,
    lambda: f64,
    secs: u32,
    reps: u32,
    theory: &[f64],
    max_rel: f64,
) {
    let runs: Vec<Vec<f64>> = (0..reps)
        .map(|r| replicate(policy, n, lambda, secs, r).0)
        .collect();
    for (i, &t) in theory.iter().enumerate() {
        let xs: Vec<f64> = runs.iter().map(|r| r[i]).collect();
        let ci = student_t_ci(&xs, 0.999).unwrap();
        eprintln!(
            "{policy} N={n}: P(queue >= {}) = {:.5} +- {:.5} (theory {t:.5})",
            i + 1,
            ci.mean,
            ci.half_width
        );
        assert!(
            ci.contains(t),
            "{policy}: level {}: {:.5} +- {:.5}, theory {t:.5}",
            i + 1,
            ci.mean,
            ci.half_width
        );
        assert!(
            ci.half_width < max_rel * t,
            "{policy}: level {}: interval +-{:.5} too wide",
            i + 1,
            ci.half_width
        );
    }
}

#[test]
fn power_of_two_choices_reaches_the_supermarket_fixed_point() {
    let lambda: f64 = 0.9;
    let theory: Vec<f64> = (1..=4).map(|i| lambda.powi((1 << i) - 1)).collect();
    check_levels("power_of_two", 1000, lambda, 2000, 10, &theory, 0.03);
}

#[test]
fn random_assignment_makes_independent_mm1_queues() {
    let lambda: f64 = 0.8;
    let theory: Vec<f64> = (1..=4).map(|i| lambda.powi(i)).collect();
    check_levels("random", 100, lambda, 20_000, 10, &theory, 0.03);
}

#[test]
fn join_the_shortest_queue_beats_two_choices_beats_random() {
    let (jsq, w_jsq) = replicate("least_conn", 100, 0.9, 5000, 0);
    let (p2c, w_p2c) = replicate("power_of_two", 100, 0.9, 5000, 0);
    let (_, w_rand) = replicate("random", 100, 0.9, 5000, 0);
    // Flow balance: each server is busy a fraction lambda of the time.
    assert!((jsq[0] - 0.9).abs() < 0.01, "{}", jsq[0]);
    // Few queues ever hold two jobs under JSQ; under two choices
    // lambda^3 = 73% of them do.
    assert!(
        jsq[1] < p2c[1] / 5.0,
        "JSQ {} vs two choices {}",
        jsq[1],
        p2c[1]
    );
    assert!(w_jsq < w_p2c && w_p2c < w_rand, "{w_jsq} {w_p2c} {w_rand}");
    // Random: M/M/1 at 0.9, W = 10 s; JSQ close to the pure service time.
    assert!(w_rand > 8.0 && w_jsq < 1.2, "{w_rand} {w_jsq}");
}

#[test]
fn consistent_hash_shares_spread_as_one_over_root_v() {
    let n = 200u32;
    let ready: Vec<u32> = (0..n).collect();
    let keys = 4_000_000u64;
    for v in [10u32, 100] {
        let mut b = Balancer::new(Policy::Hash, vec![], v);
        b.ready_changed(&ready);
        let mut rng = scalesim::sim::stream(1, 0, "ring", "test");
        let mut count = vec![0u64; n as usize];
        for k in 0..keys {
            count[b.pick(&ready, &[0; 200], k, &mut rng) as usize] += 1;
        }
        let mean = keys as f64 / n as f64;
        let var = count
            .iter()
            .map(|&c| (c as f64 - mean).powi(2))
            .sum::<f64>()
            / (n - 1) as f64;
        let cv = var.sqrt() / mean;
        // Ring spread (Beta) plus the multinomial noise of sampling keys.
        let ring = (((n - 1) as f64) / ((n * v) as f64 + 1.0)).sqrt();
        let expected = (ring * ring + 1.0 / mean).sqrt();
        // The sample CV of n shares has a relative sd of about
        // 1/sqrt(2 (n - 1)) = 5%; allow four of them.
        let tol = 4.0 * expected / (2.0 * (n - 1) as f64).sqrt();
        eprintln!("v = {v}: CV of shares {cv:.4}, expected {expected:.4} +- {tol:.4}");
        assert!(
            (cv - expected).abs() < tol,
            "v = {v}: CV {cv}, expected {expected}"
        );
    }
}
