//! Validation of closed-loop traffic (`virtual_users`, `think`) against
//! exact Mean Value Analysis (Reiser & Lavenberg 1980).
//!
//! N users think Z = 200 ms (exponential), then send to an async API whose
//! one core computes exp(10 ms), which then awaits a database of one
//! server, exp(15 ms), without its core: a closed product-form network of
//! an infinite server (think) and two FCFS exponential stations. MVA gives
//! its throughput X(N) and response time R(N) exactly:
//!
//! R_k(n) = S_k (1 + Q_k(n-1)),  X(n) = n / (Z + sum R_k(n)),
//! Q_k(n) = X(n) R_k(n).
//!
//! The run must match both for N from 1 to 50 (through the knee at N* =
//! (Z + sum S) / max S = 15), and each run obeys the interactive
//! response-time law R = N / X - Z.

mod common;
use common::*;

const Z: f64 = 0.200;
const S: [f64; 2] = [0.010, 0.015];

/// Exact MVA: (X, R) for 1..=n users.
fn mva(n: u32) -> Vec<(f64, f64)> {
    let mut q = [0.0; 2];
    (1..=n)
        .map(|users| {
            let r: Vec<f64> = S.iter().zip(q).map(|(s, qk)| s * (1.0 + qk)).collect();
            let total: f64 = r.iter().sum();
            let x = users as f64 / (Z + total);
            for k in 0..2 {
                q[k] = x * r[k];
            }
            (x, total)
        })
        .collect()
}

fn scenario(users: u32, extra: &str) -> String {
    format!(
        r#"
name = "closed-validation"
duration = 42000
warmup = 2000
sample = 2000
seed = 31

[traffic.testers]
virtual_users = {users}
think = {{ dist = "exp", mean = "200ms" }}
to = "api"
{extra}

[components.api]
kind = "pool"
io = "async"
instances = 1
concurrency = 1
service = {{ dist = "exp", mean = "10ms" }}
calls = ["db"]

[components.db]
kind = "pool"
instances = 1
concurrency = 1
service = {{ dist = "exp", mean = "15ms" }}
"#
    )
}

#[test]
fn throughput_and_response_match_exact_mva_from_1_to_50_users() {
    let exact = mva(50);
    for n in [1, 2, 5, 10, 15, 20, 30, 50] {
        let (x, r) = exact[n as usize - 1];
        let run = run_text(&scenario(n, ""), 0);
        let w = windows(&run, "_system", 2000.0, 2000.0);
        let xs = col(&w, |r| Some(r.completions as f64 / 2000.0));
        check_mean(&format!("N = {n}: throughput X"), &xs, x, 0.02);
        let rs = col(&w, |r| Some(r.mean_s));
        check_mean(&format!("N = {n}: response time R"), &rs, r, 0.03);
        // The interactive response-time law over the measured run. It
        // holds with the think times drawn: their mean over C cycles is Z
        // within 4 Z / sqrt(C) (exponential: sd = mean), and the users'
        // cycles cut by the start and the end of the measurement add at
        // most N cycles of R + Z.
        let s = &run.summary;
        let (c, t) = (s.requests.completed as f64, 40000.0);
        let xm = c / t;
        let law = n as f64 / xm - Z;
        let tol = 4.0 * Z / c.sqrt() + n as f64 * (r + Z) / c;
        println!(
            "N = {n}: R = N/X - Z = {law:.5}, summary mean {:.5} (+- {tol:.5})",
            s.latency_s.mean
        );
        assert!(
            (law - s.latency_s.mean).abs() <= tol,
            "N = {n}: R = N/X - Z = {law}, measured {}",
            s.latency_s.mean
        );
    }
}

#[test]
fn a_ramp_follows_its_stages_and_users_leave_when_it_falls() {
    // 0 -> 12 users over 500 s, hold 12 for 4000 s, down to 5 over 500 s,
    // hold 5 for 4000 s: the users in the loop follow the target, so the
    // throughput of the holds is MVA's X(12) and X(5) (X(11) and X(13),
    // X(4) and X(6) lie well outside the intervals).
    let text = scenario(0, "")
        .replace(
            "virtual_users = 0",
            "virtual_users = 0\nstages = [{ duration = \"500s\", target = 12 }, { duration = \"4000s\", target = 12 }, { duration = \"500s\", target = 5 }, { duration = \"4000s\", target = 5 }]",
        )
        .replace("duration = 42000", "duration = 9000")
        .replace("warmup = 2000", "warmup = 200")
        .replace("sample = 2000", "sample = 200");
    let run = run_text(&text, 0);
    let exact = mva(13);
    let hold = |from: f64, to: f64| -> Vec<f64> {
        run.report
            .timeseries
            .iter()
            .filter(|w| w.component == "_system" && w.t_s > from + 200.0 && w.t_s <= to)
            .map(|w| w.completions as f64 / 200.0)
            .collect()
    };
    for (label, from, to, n) in [("12", 500.0, 4500.0, 12), ("5", 5000.0, 9000.0, 5)] {
        let c = ci(&hold(from, to));
        let x = exact[n - 1].0;
        println!(
            "hold {label}: {:.3} +- {:.3} (MVA {x:.3}; with one user less {:.3}, more {:.3})",
            c.mean,
            c.half_width,
            exact[n - 2].0,
            exact[n].0
        );
        assert!(c.contains(x), "{c:?}");
        assert!(
            !c.contains(exact[n - 2].0) && !c.contains(exact[n].0),
            "{c:?}"
        );
    }
}

#[test]
fn bad_closed_loop_fields_are_located() {
    let e = load_error(&scenario(10, "rate = 5"));
    assert!(
        e.contains("traffic.testers.rate") && e.contains("stages"),
        "{e}"
    );
    let e = load_error(&scenario(0, ""));
    assert!(e.contains("traffic.testers.virtual_users"), "{e}");
    let e = load_error(&scenario(2_000_000, ""));
    assert!(e.contains("at most 1000000"), "{e}");
    let e = load_error(&scenario(10, "").replace("virtual_users = 10\n", "rate = 10\n"));
    assert!(
        e.contains("traffic.testers.think") && e.contains("closed loop"),
        "{e}"
    );
    let e = load_error(&scenario(
        10,
        "stages = [{ duration = \"0s\", target = 5 }]",
    ));
    assert!(e.contains("traffic.testers.stages.0.duration"), "{e}");
}
