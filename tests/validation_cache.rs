//! Validation of the cache model under the independent reference model
//! (IRM): keys drawn independently from a Zipf law, a cache with no `miss`
//! target (a miss answers after the lookup and fills the key) and no
//! lookup latency, so the store sees exactly the IRM request sequence.
//!
//! Expected values:
//! - Che's approximation (`cache::che_hit_ratio`) for LRU, and its
//!   FIFO/RANDOM variant, checked against the reference table
//!   (/work/shared/reference/queueing.md). Che is an approximation: it is
//!   within about 1% (relative) of the exact hit ratio for caches of 50+
//!   entries (Fricker, Robert, Roberts 2012; Martina, Garetto, Leonardi
//!   2014). A measured LRU hit ratio is therefore accepted when
//!   |measured - che| <= 1% x che + the 99.9% half-width of the measured
//!   mean: the first term is the approximation error budget, the second
//!   the sampling noise. The half-width itself must be below 1% of the
//!   value, so noise cannot make the check vacuous.
//! - Exact values where they are computable: under IRM the stationary law
//!   of RANDOM (and of FIFO, which has the same hit ratio: Gelenbe 1973)
//!   is product-form, P(cache holds set S) proportional to prod_{i in S}
//!   p_i, so the exact hit ratio follows from elementary symmetric
//!   polynomials in O(N C). For LRU the exact law of the ordered cache
//!   content is prod_j p_{i_j} / (1 - p_{i_1} - ... - p_{i_{j-1}}) (King
//!   1971), summed by enumeration for a small key space. Against exact
//!   values the tolerance is the statistical interval alone.
//!
//! Statistics: one batch per sampling window (100,000 requests), after a
//! warm-up window that fills the cache many times over.

mod common;
use common::*;
use scalesim_models::kinds::cache::{che_hit_ratio, Policy};
use scalesim_models::traffic::KeysConfig;

/// Zipf popularities of `count` keys (rank 1 first).
fn zipf(count: u64, s: f64) -> Vec<f64> {
    KeysConfig { count, zipf: s }.probabilities()
}

fn cache_scenario(count: u64, s: f64, capacity: u64, policy: &str, seed: u64) -> String {
    // 1000 requests/s, 4,100 s: 4.1 million requests, 41 windows of
    // 100,000, the first dropped as warm-up.
    format!(
        r#"
name = "cache-validation"
duration = 4100
warmup = 100
sample = 100
seed = {seed}

[traffic.reads]
rate = 1000
to = "cache"
keys = {{ count = {count}, zipf = {s} }}

[components.cache]
kind = "cache"
capacity = {capacity}
policy = "{policy}"
"#
    )
}

/// Runs the cache scenario and returns the 99.9% interval of the per-window
/// hit ratios, after checking the counts and the summary's hit ratio.
fn measure(
    count: u64,
    s: f64,
    capacity: u64,
    policy: &str,
    seed: u64,
) -> scalesim::sim::stats::MeanCi {
    let r = run_text(&cache_scenario(count, s, capacity, policy, seed), 0);
    let w = windows(&r, "cache", 100.0, 100.0);
    let hr = col(&w, |r| r.hit_ratio);
    let c = ci(&hr);
    let tag = format!("{policy} {count} keys zipf {s} capacity {capacity}");
    println!(
        "{tag}: hit ratio {:.5} +- {:.5} (99.9%, {} batches)",
        c.mean, c.half_width, c.n
    );
    assert!(
        c.half_width < 0.01 * c.mean,
        "{tag}: interval too wide: {c:?}"
    );
    let comp = &r.summary.components.0[0].1;
    let (hits, misses) = (comp.hits.unwrap(), comp.misses.unwrap());
    // Every request is one lookup, and with no miss target every lookup
    // answers after a zero lookup latency.
    assert_eq!(hits + misses, comp.arrivals, "{tag}: lookups = arrivals");
    assert_eq!(
        comp.completions + r.summary.requests.in_flight_at_end,
        comp.arrivals,
        "{tag}"
    );
    assert_eq!(
        r.summary.latency_s.max, 0.0,
        "{tag}: no lookup latency was configured"
    );
    let whole = comp.hit_ratio.unwrap();
    assert!(
        (whole - c.mean).abs() <= c.half_width,
        "{tag}: whole-run hit ratio {whole} vs batch mean {c:?}"
    );
    c
}

/// Asserts `measured` is within Che's error budget (1% relative) plus
/// the sampling half-width of `che`.
fn assert_che(label: &str, c: &scalesim::sim::stats::MeanCi, che: f64) {
    let tol = 0.01 * che + c.half_width;
    println!(
        "{label}: measured {:.5} +- {:.5}, Che {:.5}, rel.diff {:+.3}%, tolerance {:.5}",
        c.mean,
        c.half_width,
        che,
        100.0 * (c.mean - che) / che,
        tol
    );
    assert!(
        (c.mean - che).abs() <= tol,
        "{label}: measured {} vs Che {che} (tolerance {tol})",
        c.mean
    );
}

/// Exact hit ratio of RANDOM (and FIFO) under IRM: P(S) ~ prod_{i in S} p_i.
/// hit = sum_i p_i P(i in S), P(i in S) = w_i e_{C-1}(w without i) / e_C(w),
/// with e_k the elementary symmetric polynomials, computed from prefix and
/// suffix tables (all terms positive: no cancellation). Weights are scaled
/// by N so e_C stays within floating-point range.
fn exact_random_hit_ratio(p: &[f64], c: usize) -> f64 {
    let n = p.len();
    let w: Vec<f64> = p.iter().map(|x| x * n as f64).collect();
    let mut pre = vec![vec![0.0; c + 1]; n + 1];
    pre[0][0] = 1.0;
    for i in 0..n {
        for k in 0..=c {
            pre[i + 1][k] = pre[i][k] + if k > 0 { w[i] * pre[i][k - 1] } else { 0.0 };
        }
    }
    let mut suf = vec![vec![0.0; c + 1]; n + 1];
    suf[n][0] = 1.0;
    for i in (0..n).rev() {
        for k in 0..=c {
            suf[i][k] = suf[i + 1][k] + if k > 0 { w[i] * suf[i + 1][k - 1] } else { 0.0 };
        }
    }
    let e_c = pre[n][c];
    let (mut hit, mut occupancy) = (0.0, 0.0);
    for i in 0..n {
        let e: f64 = (0..c).map(|j| pre[i][j] * suf[i + 1][c - 1 - j]).sum();
        let q = w[i] * e / e_c;
        occupancy += q;
        hit += p[i] * q;
    }
    assert!(
        (occupancy - c as f64).abs() < 1e-6 * c as f64,
        "occupancies sum to {occupancy}"
    );
    hit
}

/// Exact LRU hit ratio under IRM by enumerating the ordered contents
/// (most recent first) of a full cache: P(i_1..i_C) = prod_j p_{i_j} /
/// (1 - sum_{k<j} p_{i_k}).
fn exact_lru_hit_ratio(p: &[f64], c: usize) -> f64 {
    fn go(
        p: &[f64],
        c: usize,
        used: &mut Vec<usize>,
        prob: f64,
        mass: f64,
        total: &mut (f64, f64),
    ) {
        if used.len() == c {
            total.0 += prob;
            total.1 += prob * mass;
            return;
        }
        for i in 0..p.len() {
            if !used.contains(&i) {
                let next = prob * p[i] / (1.0 - mass);
                used.push(i);
                go(p, c, used, next, mass + p[i], total);
                used.pop();
            }
        }
    }
    let mut total = (0.0, 0.0);
    go(p, c, &mut Vec::new(), 1.0, 0.0, &mut total);
    assert!(
        (total.0 - 1.0).abs() < 1e-9,
        "probabilities sum to {}",
        total.0
    );
    total.1
}

#[test]
fn che_matches_reference_table() {
    let p = zipf(10_000, 0.8);
    for (policy, table) in [
        (Policy::Lru, 0.1566),
        (Policy::Fifo, 0.1336),
        (Policy::Random, 0.1336),
    ] {
        let h = che_hit_ratio(&p, 100.0, policy);
        assert!((h - table).abs() < 5e-5, "{policy:?}: {h} vs {table}");
    }
    let h = che_hit_ratio(&zipf(10_000, 1.2), 50.0, Policy::Lru);
    assert!((h - 0.5755).abs() < 5e-5, "{h}");
    // The exact FIFO/RANDOM value is within Che's 1% budget (here 0.2%),
    // which supports the budget used for LRU.
    let exact = exact_random_hit_ratio(&p, 100);
    assert!((exact - 0.1336).abs() < 0.01 * 0.1336, "{exact}");
}

#[test]
fn lru_zipf_0_8_capacity_100() {
    let che = che_hit_ratio(&zipf(10_000, 0.8), 100.0, Policy::Lru);
    let c = measure(10_000, 0.8, 100, "lru", 61);
    assert_che("LRU zipf 0.8 C 100", &c, che);
}

#[test]
fn lru_zipf_1_2_capacity_50() {
    let che = che_hit_ratio(&zipf(10_000, 1.2), 50.0, Policy::Lru);
    let c = measure(10_000, 1.2, 50, "lru", 62);
    assert_che("LRU zipf 1.2 C 50", &c, che);
}

#[test]
fn fifo_and_random_zipf_0_8_capacity_100() {
    let p = zipf(10_000, 0.8);
    let che = che_hit_ratio(&p, 100.0, Policy::Fifo);
    let exact = exact_random_hit_ratio(&p, 100);
    for (policy, seed) in [("fifo", 63), ("random", 64)] {
        let c = measure(10_000, 0.8, 100, policy, seed);
        assert_che(&format!("{policy} zipf 0.8 C 100"), &c, che);
        check_mean_ci(&format!("{policy} zipf 0.8 C 100 vs exact"), &c, exact);
    }
}

#[test]
fn fifo_and_random_zipf_1_2_capacity_50() {
    // Not in the reference table: a steeper law, where FIFO/RANDOM lose
    // more against LRU.
    let p = zipf(10_000, 1.2);
    let che = che_hit_ratio(&p, 50.0, Policy::Random);
    let exact = exact_random_hit_ratio(&p, 50);
    for (policy, seed) in [("fifo", 65), ("random", 66)] {
        let c = measure(10_000, 1.2, 50, policy, seed);
        assert_che(&format!("{policy} zipf 1.2 C 50"), &c, che);
        check_mean_ci(&format!("{policy} zipf 1.2 C 50 vs exact"), &c, exact);
    }
}

#[test]
fn small_key_space_exact_lru_fifo_random() {
    // 8 keys, capacity 3: exact values by enumeration, no approximation.
    let p = zipf(8, 0.8);
    let lru = exact_lru_hit_ratio(&p, 3);
    let rnd = exact_random_hit_ratio(&p, 3);
    assert!(lru > rnd, "LRU beats RANDOM under IRM with a skewed law");
    for (policy, exact, seed) in [("lru", lru, 67), ("fifo", rnd, 68), ("random", rnd, 69)] {
        let c = measure(8, 0.8, 3, policy, seed);
        check_mean_ci(&format!("{policy} 8 keys zipf 0.8 C 3 vs exact"), &c, exact);
    }
    // Uniform keys (zipf = 0): every policy holds a uniformly random set,
    // hit ratio exactly C / N.
    for (policy, seed) in [("lru", 70), ("fifo", 71), ("random", 72)] {
        let c = measure(8, 0.0, 3, policy, seed);
        check_mean_ci(&format!("{policy} 8 uniform keys C 3"), &c, 3.0 / 8.0);
    }
}

/// `theory` inside the interval `c` (already checked to be narrow).
fn check_mean_ci(label: &str, c: &scalesim::sim::stats::MeanCi, theory: f64) {
    println!(
        "{label}: measured {:.5} +- {:.5}, exact {:.5}, rel.diff {:+.3}%",
        c.mean,
        c.half_width,
        theory,
        100.0 * (c.mean - theory) / theory
    );
    assert!(
        c.contains(theory),
        "{label}: exact {theory} outside {} +- {}",
        c.mean,
        c.half_width
    );
}
