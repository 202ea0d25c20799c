//! Validation of the pool model against queueing theory: M/M/1, M/M/c
//! (Erlang C), instances x concurrency as one M/M/(c k) queue, M/D/1 and
//! M/G/1 (Pollaczek-Khinchine), and the M/G/c/c loss system (Erlang B and
//! its insensitivity to the service law).
//!
//! Reference values: /work/shared/reference/queueing.md. Every expected
//! value is computed from its closed form here and, where the reference
//! table lists it, the closed form is checked against the table too.
//!
//! Statistics: batch means, one batch per sampling window (see
//! `common/mod.rs`). Each scenario's window is hundreds of relaxation
//! times long (relaxation time of M/M/c about 1 / (c mu (1 - sqrt rho))^2:
//! 12 s for M/M/1 at rho 0.5, 89 s at 0.8, 380 s at 0.9; windows are
//! 50,000-200,000 s), so successive batch means are practically
//! uncorrelated. The first window is the warm-up and is dropped.

mod common;
use common::*;
use scalesim_models::system::TsRow;
use scalesim_models::ComponentConfig;

/// A single pool fed by Poisson arrivals. `service` is a TOML inline
/// table; `queue` an optional `queue_capacity`.
#[allow(clippy::too_many_arguments)]
fn pool_scenario(
    lambda: f64,
    instances: u32,
    concurrency: u32,
    service: &str,
    queue: Option<u64>,
    duration: f64,
    sample: f64,
    seed: u64,
) -> String {
    let queue = queue
        .map(|q| format!("queue_capacity = {q}"))
        .unwrap_or_default();
    format!(
        r#"
name = "pool-validation"
duration = {duration}
warmup = {sample}
sample = {sample}
seed = {seed}

[traffic.web]
rate = {lambda}
arrivals = "poisson"
to = "api"

[components.api]
kind = "pool"
instances = {instances}
concurrency = {concurrency}
service = {service}
{queue}
"#
    )
}

const EXP1: &str = r#"{ dist = "exp", mean = 1 }"#;

/// Runs a scenario and returns the run with its post-warm-up pool windows.
fn pool_windows(
    text: &str,
    sample: f64,
) -> (scalesim::run::Run, Vec<scalesim_models::system::TsRow>) {
    let r = run_text(text, 0);
    let w: Vec<_> = windows(&r, "api", sample, sample)
        .into_iter()
        .cloned()
        .collect();
    (r, w)
}

fn refs(w: &[scalesim_models::system::TsRow]) -> Vec<&scalesim_models::system::TsRow> {
    w.iter().collect()
}

/// M/M/1 at load rho = lambda (mu = 1): W = 1/(1-rho), Wq = rho/(1-rho),
/// L = rho/(1-rho), Lq = rho^2/(1-rho), utilization rho.
fn check_mm1(lambda: f64, duration: f64, sample: f64, max_rel_hw: f64, quantiles: &[f64]) {
    let (r, w) = pool_windows(
        &pool_scenario(lambda, 1, 1, EXP1, None, duration, sample, 11),
        sample,
    );
    let w = refs(&w);
    let rho = lambda;
    let tag = format!("M/M/1 rho {rho}");
    let ci_w = check_mean(
        &format!("{tag} W"),
        &col(&w, |r| Some(r.mean_s)),
        1.0 / (1.0 - rho),
        max_rel_hw,
    );
    check_mean(
        &format!("{tag} Wq"),
        &col(&w, |r| r.wait_mean_s),
        rho / (1.0 - rho),
        max_rel_hw,
    );
    let ci_l = check_mean(
        &format!("{tag} L"),
        &col(&w, |r| Some(r.in_flight)),
        rho / (1.0 - rho),
        max_rel_hw,
    );
    check_mean(
        &format!("{tag} Lq"),
        &col(&w, |r| r.queue_len),
        rho * rho / (1.0 - rho),
        max_rel_hw,
    );
    check_mean(
        &format!("{tag} utilization"),
        &col(&w, |r| r.utilization),
        rho,
        0.01,
    );
    // FIFO M/M/1 response time is exponential with rate mu - lambda, so
    // its q-quantile is -ln(1 - q) / (mu - lambda). Window quantiles come
    // from a histogram with 1% relative resolution (reported at bucket
    // midpoints): allowed error = 1% of the value + the 99.9% half-width.
    // (The means above cannot see the queue discipline; the tail can: a
    // LIFO queue has the same mean and a far longer p99.)
    // Window quantiles of a strongly autocorrelated series are noisy near
    // saturation, so each load checks only the quantiles its run length
    // estimates within `max_rel_hw`.
    let all = [
        (0.5, (|r: &TsRow| r.p50_s) as fn(&TsRow) -> f64),
        (0.95, |r| r.p95_s),
        (0.99, |r| r.p99_s),
    ];
    for (q, f) in all.into_iter().filter(|(q, _)| quantiles.contains(q)) {
        let theory = -(1.0f64 - q).ln() / (1.0 - rho);
        let c = ci(&col(&w, |r| Some(f(r))));
        let tol = 0.01 * theory + c.half_width;
        println!(
            "{tag} response p{}: measured {:.5} +- {:.5}, theory {theory:.5}, rel.err {:+.3}%, tolerance {tol:.5}",
            q * 100.0,
            c.mean,
            c.half_width,
            100.0 * (c.mean - theory) / theory
        );
        assert!(
            c.half_width < max_rel_hw * theory,
            "{tag} p{q}: interval too wide"
        );
        assert!(
            (c.mean - theory).abs() <= tol,
            "{tag} p{q}: {} vs {theory}",
            c.mean
        );
    }
    // End-to-end rows equal the component's: the pool is the whole system.
    let sys = windows(&r, "_system", sample, sample);
    check_mean(
        &format!("{tag} W (_system)"),
        &col(&sys, |r| Some(r.mean_s)),
        1.0 / (1.0 - rho),
        max_rel_hw,
    );
    // The summary's whole-run figures, over the same period.
    check_summary(
        &format!("{tag} summary latency mean"),
        r.summary.latency_s.mean,
        &ci_w,
        1.0 / (1.0 - rho),
    );
    let api = &r.summary.components.0[0].1;
    check_summary(
        &format!("{tag} summary mean_in_system"),
        api.mean_in_system,
        &ci_l,
        rho / (1.0 - rho),
    );
}

#[test]
fn mm1_rho_0_5() {
    // Reference table: lambda 0.5, mu 1 -> W = 2.0, L = 1.0.
    assert_eq!(1.0 / (1.0 - 0.5), 2.0);
    // 2 million customers in 40 batches of 50,000.
    check_mm1(0.5, 4.0e6, 1.0e5, 0.03, &[0.5, 0.95, 0.99]);
}

#[test]
fn mm1_rho_0_8() {
    // W = 5, L = 4; 4 million customers in 49 batches.
    check_mm1(0.8, 5.0e6, 1.0e5, 0.03, &[0.5, 0.95]);
}

#[test]
fn mm1_rho_0_9() {
    // Reference table: W = 10 "needs a long run". 10 million customers,
    // 54 batches of 2e5 s (over 500 relaxation times each).
    check_mm1(0.9, 1.22e7, 2.0e5, 0.04, &[0.5]);
}

/// M/M/c with `instances` x `concurrency` slots, mu = 1: checks Wq against
/// Erlang C, W = Wq + 1, the probability of waiting (from the time-average
/// queue length: Lq = lambda Wq = C lambda / (c mu - lambda)), and the
/// utilization lambda / c.
fn check_mmc(
    lambda: f64,
    instances: u32,
    concurrency: u32,
    duration: f64,
    sample: f64,
    seed: u64,
) -> (f64, f64) {
    let c = instances * concurrency;
    let text = pool_scenario(
        lambda,
        instances,
        concurrency,
        EXP1,
        None,
        duration,
        sample,
        seed,
    );
    let (_, w) = pool_windows(&text, sample);
    let w = refs(&w);
    let tag = format!("M/M/{c} ({instances}x{concurrency}) lambda {lambda}");
    let pw = erlang_c(c, lambda);
    let wq = mmc_wq(c, lambda, 1.0);
    let ci_wq = check_mean(&format!("{tag} Wq"), &col(&w, |r| r.wait_mean_s), wq, 0.03);
    check_mean(
        &format!("{tag} W"),
        &col(&w, |r| Some(r.mean_s)),
        wq + 1.0,
        0.03,
    );
    let scale = (c as f64 - lambda) / lambda;
    let ci_pw = check_mean(
        &format!("{tag} P(wait) from Lq"),
        &col(&w, |r| r.queue_len.map(|q| q * scale)),
        pw,
        0.03,
    );
    check_mean(
        &format!("{tag} utilization"),
        &col(&w, |r| r.utilization),
        lambda / c as f64,
        0.01,
    );
    (ci_wq.mean, ci_pw.mean)
}

#[test]
fn erlang_c_reference_values() {
    // The closed forms used below reproduce the reference table.
    assert!(
        (mmc_wq(2, 1.5, 1.0) - 1.2857).abs() < 5e-5,
        "{}",
        mmc_wq(2, 1.5, 1.0)
    );
    assert!(
        (mmc_wq(8, 7.2, 1.0) - 0.87692).abs() < 5e-6,
        "{}",
        mmc_wq(8, 7.2, 1.0)
    );
    assert!(
        (erlang_c(8, 7.2) - 0.70153).abs() < 5e-6,
        "{}",
        erlang_c(8, 7.2)
    );
    assert!(
        (erlang_b(5, 3.0) - 0.11005).abs() < 5e-6,
        "{}",
        erlang_b(5, 3.0)
    );
    assert!(
        (erlang_b(20, 15.0) - 0.04559).abs() < 5e-6,
        "{}",
        erlang_b(20, 15.0)
    );
    assert!((pk_wq(0.5, 1.0, 1.0) - 0.5).abs() < 1e-12);
    assert!((pk_wq(0.5, 1.0, 4.0 / 3.0) - 0.6667).abs() < 5e-5);
}

#[test]
fn mm2_lambda_1_5() {
    // Reference: Wq = 1.2857. rho 0.75; 3 million customers, 39 batches.
    check_mmc(1.5, 2, 1, 2.0e6, 5.0e4, 21);
}

#[test]
fn mm8_lambda_7_2() {
    // Reference: P(wait) = 0.70153, Wq = 0.87692. rho 0.9; 21.6 million
    // customers, 59 batches of 360,000.
    check_mmc(7.2, 8, 1, 3.0e6, 5.0e4, 22);
}

#[test]
fn erlang_c_other_sizes_and_loads() {
    // Light load, where waiting is rare (C = 0.17) and Wq small.
    check_mmc(2.0, 4, 1, 2.0e6, 5.0e4, 23);
    // Three servers at rho 0.9.
    check_mmc(2.7, 3, 1, 4.0e6, 1.0e5, 24);
    // Sixteen servers at rho 0.875.
    check_mmc(14.0, 16, 1, 1.05e6, 2.5e4, 25);
}

#[test]
fn instances_times_concurrency_is_one_mmc_queue() {
    // 2 instances x 4 slots and 4 x 2 behave as M/M/8 (one FIFO queue in
    // front of 8 slots): same Wq and P(wait) as the reference M/M/8.
    for (i, k, seed) in [(2, 4, 31), (4, 2, 32)] {
        check_mmc(7.2, i, k, 3.0e6, 5.0e4, seed);
    }
}

/// M/G/1 with the given service law at arrival rate lambda: checks Wq
/// against Pollaczek-Khinchine, with E[S] and E[S^2] taken from the
/// loaded scenario's `DistConfig` (and cross-checked by the caller's
/// closed form `m2`), W = Wq + E[S], and the utilization lambda E[S].
fn check_mg1(
    label: &str,
    lambda: f64,
    service: &str,
    m2: f64,
    duration: f64,
    sample: f64,
    seed: u64,
) {
    let text = pool_scenario(lambda, 1, 1, service, None, duration, sample, seed);
    let loaded = load(&text);
    let ComponentConfig::Pool(p) = &loaded.scenario.components.0[0].1 else {
        panic!("api is a pool")
    };
    let law = p.service.as_ref().expect("a service law");
    let (es, es2) = (law.mean(), law.second_moment());
    assert!(
        (es2 - m2).abs() < 1e-9 * m2,
        "{label}: second_moment() {es2} vs closed form {m2}"
    );
    let wq = pk_wq(lambda, es, es2);
    let (_, w) = pool_windows(&text, sample);
    let w = refs(&w);
    let tag = format!("M/G/1 {label} lambda {lambda}");
    check_mean(&format!("{tag} Wq"), &col(&w, |r| r.wait_mean_s), wq, 0.03);
    check_mean(
        &format!("{tag} W"),
        &col(&w, |r| Some(r.mean_s)),
        wq + es,
        0.03,
    );
    check_mean(
        &format!("{tag} utilization"),
        &col(&w, |r| r.utilization),
        lambda * es,
        0.01,
    );
}

#[test]
fn md1() {
    // Reference: M/D/1 lambda 0.5, service 1 -> Wq = 0.5.
    check_mg1(
        "const 1",
        0.5,
        r#"{ dist = "const", value = 1 }"#,
        1.0,
        4.0e6,
        1.0e5,
        41,
    );
    // Heavier load: Wq = 0.8 / (2 x 0.2) = 2.
    check_mg1(
        "const 1",
        0.8,
        r#"{ dist = "const", value = 1 }"#,
        1.0,
        4.0e6,
        1.0e5,
        42,
    );
}

#[test]
fn mg1_uniform() {
    // Reference: uniform(0, 2) at lambda 0.5 -> Wq = 0.6667 (E[S^2] = 4/3).
    check_mg1(
        "uniform(0,2)",
        0.5,
        r#"{ dist = "uniform", min = 0, max = 2 }"#,
        4.0 / 3.0,
        4.0e6,
        1.0e5,
        43,
    );
}

#[test]
fn mg1_lognormal() {
    // cv 2: E[S^2] = 1 + 4 = 5, Wq = 0.5 x 5 / 1 = 2.5. Heavy right tail
    // (E[S^3] = (1 + cv^2)^3 = 125), so a longer run: 12 million customers.
    check_mg1(
        "lognormal cv 2",
        0.5,
        r#"{ dist = "lognormal", mean = 1, cv = 2 }"#,
        5.0,
        2.4e7,
        5.0e5,
        44,
    );
}

#[test]
fn mg1_gamma() {
    // cv 0.5 (less variable than exponential): E[S^2] = 1.25, Wq = 0.625.
    check_mg1(
        "gamma cv 0.5",
        0.5,
        r#"{ dist = "gamma", mean = 1, cv = 0.5 }"#,
        1.25,
        4.0e6,
        1.0e5,
        45,
    );
    // cv 2 at rho 0.7: E[S^2] = 5, Wq = 0.7 x 5 / 0.6 = 5.833.
    check_mg1(
        "gamma cv 2",
        0.7,
        r#"{ dist = "gamma", mean = 1, cv = 2 }"#,
        5.0,
        8.0e6,
        2.0e5,
        46,
    );
}

/// M/G/c/c (`queue_capacity = 0`) with offered load `a` (service mean 1):
/// checks the fraction of arrivals rejected against Erlang B, the summary's
/// rejected / arrived and the component's rejections / arrivals, and the
/// utilization a (1 - B) / c (carried load).
fn check_loss(
    label: &str,
    c: u32,
    a: f64,
    service: &str,
    duration: f64,
    sample: f64,
    seed: u64,
) -> f64 {
    let text = pool_scenario(a, c, 1, service, Some(0), duration, sample, seed);
    let r = run_text(&text, 0);
    let w = windows(&r, "api", sample, sample);
    let b = erlang_b(c, a);
    let tag = format!("M/G/{c}/{c} {label} a {a}");
    let blocked: Vec<f64> = w
        .iter()
        .map(|w| w.rejections as f64 / w.arrivals as f64)
        .collect();
    let ci_b = check_mean(&format!("{tag} P(block)"), &blocked, b, 0.03);
    let s = &r.summary;
    check_summary(
        &format!("{tag} summary rejected/arrived"),
        s.requests.rejected as f64 / s.requests.arrived as f64,
        &ci_b,
        b,
    );
    let api = &s.components.0[0].1;
    check_summary(
        &format!("{tag} component rejections/arrivals"),
        api.rejections as f64 / api.arrivals as f64,
        &ci_b,
        b,
    );
    assert_eq!(
        s.requests.rejected + s.requests.completed + s.requests.in_flight_at_end,
        s.requests.arrived
    );
    // No waiting room: nobody waits.
    assert!(
        col(&w, |r| r.queue_len).iter().all(|&q| q == 0.0),
        "{tag}: a loss system has no queue"
    );
    check_mean(
        &format!("{tag} utilization"),
        &col(&w, |r| r.utilization),
        a * (1.0 - b) / c as f64,
        0.01,
    );
    ci_b.mean
}

#[test]
fn erlang_b_mm5_5() {
    // Reference: offered load 3 on 5 servers -> P(block) = 0.11005.
    // 6 million arrivals, 49 batches.
    check_loss("exp", 5, 3.0, EXP1, 2.0e6, 4.0e4, 51);
}

#[test]
fn erlang_b_mm20_20_and_insensitivity() {
    // Reference: offered load 15 on 20 servers -> P(block) = 0.04559,
    // whatever the service law (Erlang B is insensitive to it beyond its
    // mean): exponential, constant and a highly variable log-normal all
    // give the same blocking. 6 million arrivals each.
    check_loss("exp", 20, 15.0, EXP1, 4.0e5, 8.0e3, 52);
    check_loss(
        "const",
        20,
        15.0,
        r#"{ dist = "const", value = 1 }"#,
        4.0e5,
        8.0e3,
        53,
    );
    check_loss(
        "lognormal cv 2",
        20,
        15.0,
        r#"{ dist = "lognormal", mean = 1, cv = 2 }"#,
        4.0e5,
        8.0e3,
        54,
    );
    // And M/M/5/5 with constant service.
    check_loss(
        "const",
        5,
        3.0,
        r#"{ dist = "const", value = 1 }"#,
        2.0e6,
        4.0e4,
        55,
    );
}

/// Stationary law of the M/M/c/K birth-death chain (K = c + queue
/// capacity, mu = 1): pi_n proportional to prod_{k<=n} lambda / min(k, c).
fn mmck(lambda: f64, c: u32, k: u32) -> Vec<f64> {
    let mut pi = vec![1.0];
    for n in 1..=k {
        let prev = pi[n as usize - 1];
        pi.push(prev * lambda / n.min(c) as f64);
    }
    let total: f64 = pi.iter().sum();
    pi.iter().map(|x| x / total).collect()
}

#[test]
fn mmck_finite_queue() {
    // A bounded waiting room (queue_capacity = K - c > 0): M/M/c/K. By
    // PASTA an arrival is rejected with probability pi_K; the admitted
    // rate is lambda (1 - pi_K); W and Wq follow from L and Lq by Little.
    for (lambda, c, q, seed) in [(0.9, 1u32, 4u64, 56), (2.4, 2, 3, 57)] {
        let k = c + q as u32;
        let pi = mmck(lambda, c, k);
        let p_block = pi[k as usize];
        let l: f64 = pi.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
        let lq: f64 = pi
            .iter()
            .enumerate()
            .map(|(n, p)| n.saturating_sub(c as usize) as f64 * p)
            .sum();
        let x = lambda * (1.0 - p_block);
        let text = pool_scenario(lambda, c, 1, EXP1, Some(q), 2.0e6, 5.0e4, seed);
        let r = run_text(&text, 0);
        let w = windows(&r, "api", 5.0e4, 5.0e4);
        let tag = format!("M/M/{c}/{k} lambda {lambda}");
        let blocked: Vec<f64> = w
            .iter()
            .map(|w| w.rejections as f64 / w.arrivals as f64)
            .collect();
        check_mean(&format!("{tag} P(block)"), &blocked, p_block, 0.03);
        check_mean(
            &format!("{tag} L"),
            &col(&w, |r| Some(r.in_flight)),
            l,
            0.03,
        );
        check_mean(&format!("{tag} Lq"), &col(&w, |r| r.queue_len), lq, 0.03);
        check_mean(
            &format!("{tag} W"),
            &col(&w, |r| Some(r.mean_s)),
            l / x,
            0.03,
        );
        check_mean(
            &format!("{tag} Wq"),
            &col(&w, |r| r.wait_mean_s),
            lq / x,
            0.03,
        );
        let q_max = col(&w, |r| r.queue_len).into_iter().fold(0.0, f64::max);
        assert!(
            q_max <= q as f64,
            "{tag}: the queue never exceeds its capacity"
        );
    }
}
