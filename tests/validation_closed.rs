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
        e.contains("traffic.testers.think") && e.contains("closed loop") && e.contains("session"),
        "{e}"
    );
    let e = load_error(&scenario(
        10,
        "stages = [{ duration = \"0s\", target = 5 }]",
    ));
    assert!(e.contains("traffic.testers.stages.0.duration"), "{e}");
}

/// Sessions on an open source: 2 users arrive per second (Poisson), each
/// sends a geometric number of requests (mean 5), thinking exp(1 s)
/// between them, to one exponential server of 50 ms. This is an open
/// Jackson network (Jackson 1957): external Poisson arrivals at the
/// server, which sends each answered request back through an infinite
/// server (think) with probability 1 - 1/5. The server sees
/// Lambda = 2 x 5 = 10 req/s (rho = 0.5) and answers in R = 1 / (mu -
/// Lambda) = 100 ms on average; the users in the system are L_server +
/// L_think = rho / (1 - rho) + Lambda (1 - 1/5) Z = 1 + 8 = 9. (45 h: the
/// request count of a window varies as sessions x E[K^2] = 45 per
/// session, so 80 windows give the rates within 1%.)
fn sessions_scenario(session: &str) -> String {
    format!(
        r#"
name = "sessions-validation"
duration = 162000
warmup = 2000
sample = 2000
seed = 5

[traffic.visitors]
rate = 2
session = {session}
think = {{ dist = "exp", mean = "1s" }}
to = "api"

[components.api]
kind = "pool"
instances = 1
concurrency = 1
service = {{ dist = "exp", mean = "50ms" }}
"#
    )
}

#[test]
fn open_sessions_match_the_jackson_network() {
    let run = run_text(
        &sessions_scenario(r#"{ requests = 5, count = "geometric" }"#),
        0,
    );
    let w = windows(&run, "_system", 2000.0, 2000.0);
    let xs = col(&w, |r| Some(r.completions as f64 / 2000.0));
    check_mean("sessions: request throughput Lambda", &xs, 10.0, 0.02);
    let rs = col(&w, |r| Some(r.mean_s));
    check_mean("sessions: response time R", &rs, 0.1, 0.03);
    let ns = col(&w, |r| r.users);
    check_mean("sessions: users in the system", &ns, 9.0, 0.02);
    // Sessions end at the rate they start (2/s), within the Poisson
    // spread of 320,000 of them (5 sd) and the users cut by the ends.
    let u = run.summary.virtual_users.get("visitors").expect("users");
    let n = u.sessions.expect("sessions") as f64;
    let tol = 5.0 * 320_000f64.sqrt() + 2.0 * u.max as f64;
    println!(
        "sessions finished {n} (expected 320000 +- {tol:.0}), max users {}",
        u.max
    );
    assert!((n - 320_000.0).abs() <= tol, "{n}");
}

#[test]
fn a_closed_loop_counts_its_fixed_sessions() {
    // 10 users, 4 requests a session: the sessions finished are the
    // requests answered / 4, up to the sessions cut by the start and end
    // of the measurement (at most one per user at each end); the users in
    // the loop stay 10.
    let run = run_text(&scenario(10, "session = { requests = 4 }"), 0);
    let s = &run.summary;
    let u = s.virtual_users.get("testers").expect("users");
    let n = u.sessions.expect("sessions") as f64;
    let expected = s.requests.completed as f64 / 4.0;
    println!("sessions {n}, requests / 4 = {expected}");
    assert!((n - expected).abs() <= 20.0, "{n} vs {expected}");
    assert!((u.mean - 10.0).abs() < 1e-9 && u.max == 10, "{u:?}");
    // Sessions change nothing else: the throughput is MVA's X(10).
    let w = windows(&run, "_system", 2000.0, 2000.0);
    let xs = col(&w, |r| Some(r.completions as f64 / 2000.0));
    check_mean("N = 10 in sessions: throughput X", &xs, mva(10)[9].0, 0.02);
}

#[test]
fn bad_sessions_are_located() {
    let e = load_error(&sessions_scenario("{ requests = 2.5 }"));
    assert!(
        e.contains("traffic.visitors.session.requests") && e.contains("geometric"),
        "{e}"
    );
    let e = load_error(&sessions_scenario("{ requests = 0 }"));
    assert!(e.contains("at least 1 request"), "{e}");
    let e = load_error(&sessions_scenario("{ requests = 100000 }"));
    assert!(e.contains("at most 65535"), "{e}");
    let e = load_error(&sessions_scenario("{ request = 5 }"));
    assert!(e.contains("traffic.visitors"), "{e}");
}
