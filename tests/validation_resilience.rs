//! Timeouts, retries, budgets and hedges against closed forms.
//!
//! - Retries of independent failures (probability p, at most n attempts)
//!   make (1 - p^n) / (1 - p) attempts per request, and a share p^n of
//!   requests still fails.
//! - A client that stops waiting after τ but lets the work go on leaves
//!   the queue as it was: on M/M/1 the share timed out is the sojourn
//!   tail P(T > τ) = exp(-(μ - λ) τ), and every one of them is an answer
//!   wasted.
//! - A client that cancels on timeout makes M/M/1+D (patience τ on the
//!   wait): by level crossing (Brill and Posner, 1977; Barrer, 1957) the
//!   virtual wait V has an atom p0 at 0 and density λ p0 e^{-(μ-λ)x} on
//!   (0, τ], λ p0 e^{-(μ-λ)τ} e^{-μ(x-τ)} beyond; a share P(V > τ) is
//!   cancelled before service and P(V ≤ τ < V + S) = p0 e^{-(μ-λ)τ} is
//!   served and wasted.
//! - A hedge after h on an uncongested exponential backend answers in
//!   min(X1, h + X2): mean (1 - e^{-μh}/2)/μ, quantile q at (h + L_q)/2
//!   when h < L_q = ln(1/(1-q))/μ, and a share e^{-μh} of requests is
//!   hedged (Dean and Barroso, "The Tail at Scale", CACM 2013).
//! - A retry budget of ratio β caps retries at β of the requests.
//!
//! Each check runs 10 independent replications and compares their mean
//! with the theory through a 99.9% Student-t interval (`tests/common`).

mod common;

use common::{check_mean, load_error, run_text};

/// The JSON summary of `text` run as replication `rep`.
fn summary(text: &str, rep: u32) -> scalesim::output::summary::Summary {
    run_text(text, rep).summary
}

const RETRIED: &str = r#"
duration = "1000s"
warmup = "20s"
seed = 11
[traffic.web]
rate = 200
to = "api"
retries = { attempts = 3, on = ["error"] }
[components.api]
kind = "pool"
instances = 40
service = { dist = "exp", mean = "10ms" }
error_rate = 0.3
"#;

#[test]
fn retries_of_independent_failures_make_one_minus_p_to_the_n_over_one_minus_p_attempts() {
    let (p, n) = (0.3f64, 3);
    let (mut amp, mut failed) = (Vec::new(), Vec::new());
    for rep in 0..10 {
        let s = summary(RETRIED, rep);
        let c = &s.components.0.iter().find(|(n, _)| n == "api").unwrap().1;
        amp.push(c.retry_amplification.unwrap());
        failed.push(s.requests.failed as f64 / s.requests.arrived as f64);
    }
    check_mean(
        "attempts per request",
        &amp,
        (1.0 - p.powi(n)) / (1.0 - p),
        0.01,
    );
    check_mean("requests failed after 3 attempts", &failed, p.powi(n), 0.05);
}

#[test]
fn a_retry_budget_caps_retries_at_its_share_of_requests() {
    // Half the attempts fail and ten are allowed: retries would nearly
    // double the load; a budget of 10% (no floor) holds them to 10%.
    let text = RETRIED
        .replace("error_rate = 0.3", "error_rate = 0.5")
        .replace(
            r#"retries = { attempts = 3, on = ["error"] }"#,
            r#"retries = { attempts = 10, on = ["error"], budget = { ratio = 0.1, min_per_s = 0 } }"#,
        );
    // Retries are wanted far beyond the budget, so it binds: within its
    // 10-slice window's granularity, never above.
    for rep in 0..3 {
        let s = summary(&text, rep);
        let c = &s.components.0.iter().find(|(n, _)| n == "api").unwrap().1;
        let amp = c.retry_amplification.unwrap();
        println!("attempts per request under a 10% budget: {amp:.6}");
        assert!((1.099..=1.1).contains(&amp), "{amp}");
    }
}

const MM1: &str = r#"
duration = "10000s"
warmup = "50s"
seed = 21
[traffic.web]
rate = 90
to = "api"
timeout = "50ms"
[components.api]
kind = "pool"
instances = 1
service = { dist = "exp", mean = "10ms" }
"#;

/// Shares of arrivals: requests timed out, and at `api` answers wasted
/// and visits cancelled.
fn timeout_shares(text: &str, rep: u32) -> (f64, f64, f64) {
    let s = summary(text, rep);
    let c = &s.components.0.iter().find(|(n, _)| n == "api").unwrap().1;
    let a = s.requests.arrived as f64;
    (
        s.requests.timed_out as f64 / a,
        c.wasted.unwrap() as f64 / a,
        c.cancelled.unwrap() as f64 / a,
    )
}

#[test]
fn a_client_timeout_that_lets_work_go_on_times_out_the_sojourn_tail() {
    let (lambda, mu, tau) = (90.0f64, 100.0f64, 0.05f64);
    let tail = (-(mu - lambda) * tau).exp();
    let runs: Vec<(f64, f64, f64)> = (0..10).map(|rep| timeout_shares(MM1, rep)).collect();
    check_mean(
        "timed out, M/M/1 sojourn tail",
        &runs.iter().map(|r| r.0).collect::<Vec<_>>(),
        tail,
        0.02,
    );
    check_mean(
        "answers wasted",
        &runs.iter().map(|r| r.1).collect::<Vec<_>>(),
        tail,
        0.02,
    );
    assert!(runs.iter().all(|r| r.2 == 0.0), "nothing is cancelled");
}

#[test]
fn a_client_timeout_that_cancels_makes_m_m_1_plus_d() {
    let (l, mu, tau) = (90.0f64, 100.0f64, 0.05f64);
    let e = (-(mu - l) * tau).exp();
    let p0 = 1.0 / (1.0 + l * (1.0 - e) / (mu - l) + l * e / mu);
    let cancelled = l * p0 * e / mu;
    let wasted = p0 * e;
    let text = MM1.replace(
        "timeout = \"50ms\"",
        "timeout = \"50ms\"\non_timeout = \"cancel\"",
    );
    let runs: Vec<(f64, f64, f64)> = (0..10).map(|rep| timeout_shares(&text, rep)).collect();
    check_mean(
        "cancelled before service (P(V > tau))",
        &runs.iter().map(|r| r.2).collect::<Vec<_>>(),
        cancelled,
        0.03,
    );
    check_mean(
        "served and wasted (P(V <= tau < V + S))",
        &runs.iter().map(|r| r.1).collect::<Vec<_>>(),
        wasted,
        0.03,
    );
    check_mean(
        "timed out",
        &runs.iter().map(|r| r.0).collect::<Vec<_>>(),
        cancelled + wasted,
        0.02,
    );
}

#[test]
fn a_hedge_after_the_p95_answers_in_min_of_x1_and_h_plus_x2() {
    // 10 ms exponential service on 400 servers at 100 requests/s: no
    // queueing. h = p95 = ln(20) x 10 ms.
    let mu = 100.0f64;
    let h = 20f64.ln() / mu;
    let text = format!(
        r#"
duration = "1500s"
warmup = "10s"
seed = 31
[traffic.web]
rate = 100
to = "api"
hedge = {{ after = "{h}s" }}
[components.api]
kind = "pool"
instances = 400
service = {{ dist = "exp", mean = "10ms" }}
"#
    );
    let (mut mean, mut p99, mut share) = (Vec::new(), Vec::new(), Vec::new());
    for rep in 0..10 {
        let s = summary(&text, rep);
        let c = &s.components.0.iter().find(|(n, _)| n == "api").unwrap().1;
        mean.push(s.latency_s.mean);
        p99.push(s.latency_s.p99);
        share.push(c.hedges.unwrap() as f64 / s.requests.arrived as f64);
    }
    check_mean(
        "hedged mean",
        &mean,
        (1.0 - (-mu * h).exp() / 2.0) / mu,
        0.01,
    );
    let l99 = 100f64.ln() / mu;
    check_mean("hedged p99", &p99, (h + l99) / 2.0, 0.01);
    check_mean("share hedged", &share, 0.05, 0.05);
}

#[test]
fn next_upstream_retries_on_another_instance() {
    // Two servers behind a random balancer; zone a's is down for 30 min
    // but stays in rotation until its health checks fail (about 2 min).
    // A retry that may land on the same server fails a quarter of the
    // requests sent meanwhile; one sent to the other never fails.
    let base = r#"
duration = "3h"
warmup = "10m"
seed = 41
[traffic.web]
rate = 10
to = "api"
retries = { attempts = 2, on = ["error"] NEXT }
[components.api]
kind = "pool"
instances = 2
zones = ["a", "b"]
balance = "random"
service = { dist = "exp", mean = "10ms" }
health_check = { interval = "30s", timeout = "1s", fall = 5, rise = 2 }
[[outages]]
at = "1h"
duration = "30m"
zone = "a"
"#;
    let same = summary(&base.replace(" NEXT", ""), 0);
    let next = summary(&base.replace(" NEXT", ", next_upstream = true"), 0);
    assert!(same.requests.failed > 100, "{:?}", same.requests);
    assert_eq!(next.requests.failed, 0, "{:?}", next.requests);
}

#[test]
fn bad_policies_are_located_errors() {
    let cases = [
        (
            r#"retries = { attempts = 0 }"#,
            "traffic.web.retries.attempts",
            "at least 1",
        ),
        (
            r#"retries = { attempts = 3, on = ["oops"] }"#,
            "traffic.web.retries.on",
            "\"oops\"",
        ),
        (
            r#"timeout = "5ms""#,
            "traffic.web.timeout",
            "shortest possible",
        ),
        (
            r#"on_timeout = "cancel""#,
            "traffic.web.on_timeout",
            "needs a timeout",
        ),
        (
            r#"retries = { attempts = 3, budget = 20 }"#,
            "traffic.web.retries.budget",
            "between 0 and 10",
        ),
        (
            r#"breaker = { open_for = "5s" }"#,
            "traffic.web.breaker.failures",
            "give one",
        ),
        (
            r#"breaker = { error_rate = 1.5 }"#,
            "traffic.web.breaker.error_rate",
            "at most 1",
        ),
        (
            r#"retries = { attempts = 3, backoff = { base = "1s", max = "10ms" } }"#,
            "traffic.web.retries.backoff.max",
            "at least base",
        ),
    ];
    for (line, field, words) in cases {
        let text = format!(
            "duration = \"1h\"\n[traffic.web]\nrate = 1\nto = \"api\"\n{line}\n[components.api]\nkind = \"pool\"\ninstances = 1\nservice = \"10ms\"\ncalls = [\"db\"]\n[components.db]\nkind = \"pool\"\ninstances = 1\nservice = \"1ms\"\n"
        );
        let e = load_error(&text);
        assert!(e.contains(field) && e.contains(words), "{line}: {e}");
    }
    let e = load_error(
        "duration = \"1h\"\n[traffic.web]\nrate = 1\nto = \"api\"\n[components.api]\nkind = \"pool\"\ninstances = 1\nservice = \"10ms\"\n[components.api.call.db]\ntimeout = \"1s\"\n[components.db]\nkind = \"pool\"\ninstances = 1\nservice = \"1ms\"\n",
    );
    assert!(
        e.contains("components.api.call.db") && e.contains("does not call"),
        "{e}"
    );
}

#[test]
fn an_open_breaker_lets_one_trial_through_every_open_for() {
    // The database is down for 10 minutes; the API's breaker on it opens
    // after 5 failures in a row, then lets one trial call through every
    // 5 s (each fails at once and opens it again): 12 calls a minute reach
    // the database instead of 3,000, and with a degraded fallback only
    // those fail: 5 + 600 / 5 - 1 = 124 requests.
    let text = r#"
duration = "1h"
warmup = "5m"
sample = "1m"
seed = 51
[traffic.web]
rate = 50
to = "api"
[components.api]
kind = "pool"
instances = 4
concurrency = 8
service = { dist = "exp", mean = "10ms" }
calls = ["db"]
[components.api.call.db]
breaker = { failures = 5, open_for = "5s", fallback = "degraded" }
[components.db]
kind = "pool"
instances = 2
concurrency = 8
service = { dist = "exp", mean = "5ms" }
failures = { mtbf = "100000h", repair = "1m" }
[[outages]]
at = "20m"
duration = "10m"
component = "db"
"#;
    let r = run_text(text, 0);
    let inside: Vec<u64> = r
        .report
        .timeseries
        .iter()
        .filter(|w| w.component == "db" && w.t_s > 1260.0 && w.t_s <= 1800.0)
        .map(|w| w.arrivals)
        .collect();
    assert_eq!(inside.len(), 9);
    assert!(inside.iter().all(|&a| (11..=13).contains(&a)), "{inside:?}");
    let s = &r.summary;
    assert!((123..=125).contains(&s.requests.failed), "{:?}", s.requests);
    let db = &s.components.0.iter().find(|(n, _)| n == "db").unwrap().1;
    assert!(db.breaker_opens.unwrap() >= 119, "{:?}", db.breaker_opens);
    assert!(
        db.short_circuited.unwrap() > 25_000,
        "{:?}",
        db.short_circuited
    );
    // Without the breaker every call in those 10 minutes fails.
    let plain = run_text(&text.replace("breaker = {", "# breaker = {"), 0).summary;
    assert!(plain.requests.failed > 25_000, "{:?}", plain.requests);
}

#[test]
fn a_class_sets_its_own_client_policy() {
    // Searches give up after 50 ms; exports (the source's policy: none)
    // wait as long as it takes. On M/M/1 at rho 0.9 the searches time out
    // as often as the sojourn tail says; exports never do.
    let text = MM1
        .replace("timeout = \"50ms\"\n", "")
        .replace(
            "to = \"api\"",
            "to = \"api\"\nmix = [ { name = \"search\", weight = 1, timeout = \"50ms\" }, { name = \"export\", weight = 1 } ]",
        );
    let s = summary(&text, 0);
    let class = |n: &str| &s.classes.0.iter().find(|(c, _)| c == n).unwrap().1;
    let search = class("web.search");
    assert_eq!(class("web.export").timed_out, 0);
    let share = search.timed_out as f64 / search.arrived as f64;
    assert!((share - (-0.5f64).exp()).abs() < 0.03, "{share}");
    let e = load_error(&text.replace("timeout = \"50ms\"", "timeout = \"-1s\""));
    assert!(e.contains("traffic.web.mix"), "{e}");
}
