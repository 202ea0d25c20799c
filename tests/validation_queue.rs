//! The asynchronous queue in front of a worker pool, against queueing
//! theory (Kleinrock, *Queueing Systems* vol. 1, §3.5-3.7).
//!
//! - Unbounded, Poisson jobs, c = 4 exponential workers at load 0.8: the
//!   job wait is the M/M/c Erlang C wait Wq, the job latency Wq + 1/mu,
//!   and the mean depth Lq = lambda Wq; the caller waits only for the ack.
//! - Bounded at K waiting jobs: the refused share is the M/M/c/(c+K)
//!   blocking probability p_{c+K}.
//!
//! Each check: the theory inside the 99.9% Student-t interval of 10
//! independent replications, and that interval narrow.

use scalesim::run::run;
use scalesim::scenario::load_str;
use scalesim::sim::stats::student_t_ci;

mod common;
use common::erlang_c;

const SCENARIO: &str = r#"
name = "queue"
duration = "100000s"
warmup = "2000s"
sample = "2000s"
seed = 23

[traffic.web]
rate = 3.2
to = "api"

[components.api]
kind = "pool"
instances = 8
service = { dist = "exp", mean = "100ms" }
calls = ["jobs"]

[components.jobs]
kind = "queue"
workers = "workers"
ack = { dist = "const", value = "5ms" }

[components.workers]
kind = "pool"
instances = 4
service = { dist = "exp", mean = "1s" }
"#;

const REPS: u32 = 10;

/// Blocking probability of M/M/c/(c+k) at offered load a.
fn mmck_blocking(c: u32, k: u32, a: f64) -> f64 {
    let mut p = Vec::new();
    let mut term = 1.0;
    for n in 0..=(c + k) {
        if n > 0 {
            term *= a / n.min(c) as f64;
        }
        p.push(term);
    }
    p[(c + k) as usize] / p.iter().sum::<f64>()
}

fn check(what: &str, xs: &[f64], theory: f64, max_rel: f64) {
    let ci = student_t_ci(xs, 0.999).unwrap();
    eprintln!(
        "{what}: {:.5} +- {:.5} (theory {theory:.5})",
        ci.mean, ci.half_width
    );
    assert!(ci.contains(theory), "{what}: {ci:?}, theory {theory}");
    assert!(
        ci.half_width < max_rel * theory,
        "{what}: interval {} too wide",
        ci.half_width
    );
}

#[test]
fn unbounded_queue_is_mmc_and_the_caller_does_not_wait() {
    let loaded = load_str("queue.toml", SCENARIO, &[], "queue").unwrap();
    let (mut wait, mut latency, mut depth, mut caller) = (vec![], vec![], vec![], vec![]);
    for rep in 0..REPS {
        let r = run(&loaded, rep).unwrap().summary;
        let jobs = &r.components.0[1].1;
        assert_eq!(jobs.kind, "queue");
        wait.push(jobs.mean_wait_s.unwrap());
        depth.push(jobs.mean_queue_len.unwrap());
        latency.push(jobs.job_latency_s.as_ref().unwrap().mean);
        caller.push(r.latency_s.mean);
        assert_eq!(jobs.rejections, 0);
        assert_eq!(jobs.jobs_failed, Some(0));
    }
    let (lambda, c) = (3.2, 4);
    let wq = erlang_c(c, lambda) / (c as f64 - lambda);
    check("job wait", &wait, wq, 0.08);
    check("job latency", &latency, wq + 1.0, 0.03);
    check("mean depth", &depth, lambda * wq, 0.08);
    // The caller: its own 100 ms of service plus the 5 ms ack.
    check("caller latency", &caller, 0.105, 0.02);
}

#[test]
fn bounded_queue_refuses_as_mmck() {
    let text = SCENARIO.replace(
        "workers = \"workers\"",
        "workers = \"workers\"\ncapacity = 3",
    );
    let loaded = load_str("queue.toml", &text, &[], "queue").unwrap();
    let mut refused = vec![];
    for rep in 0..REPS {
        let r = run(&loaded, rep).unwrap().summary;
        let jobs = &r.components.0[1].1;
        refused.push(jobs.rejections as f64 / jobs.arrivals as f64);
        // A refused job is the caller's error.
        assert_eq!(r.requests.rejected, jobs.rejections);
    }
    check("refused share", &refused, mmck_blocking(4, 3, 3.2), 0.1);
}
