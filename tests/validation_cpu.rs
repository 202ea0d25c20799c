//! Validation of instance types' CPUs: speed factors and burstable credits.
//!
//! - A pool whose CPU times were measured on m5 (`measured_on`) runs them
//!   `speed(m5) / speed(type)` times as long on its own type: on c5 (1.10)
//!   a 10 ms request takes 9.09 ms, on m5a (0.80) 12.5 ms. One thread at 50
//!   requests/s is M/D/1 (Pollaczek-Khinchine) with that service time.
//! - A t3.medium (2 vCPUs, 24 credits earned per hour, 576 at most, a 20 %
//!   baseline; AWS EC2 User Guide, "Key concepts and definitions for
//!   burstable performance instances") starting full and kept at 50 % of
//!   both vCPUs spends 60 credits an hour and earns 24: its balance is empty
//!   after 576 / 36 = 16.0 h. Load: Poisson 10/s of 100 ms, so the spend by
//!   time t is 0.1 N(t) / 60 credits with N Poisson: the standard deviation
//!   of the empty time is sqrt(576,000) x 0.1 / 60 / 36 h = 127 s.
//! - In standard mode it then computes at the 20 % baseline: 0.4 vCPU of
//!   work per second, 4 requests/s of 100 ms, while 10 arrive.
//! - In unlimited mode it keeps full speed; the surplus grows 36 an hour,
//!   reaches the 576 cap at 32 h, and what grows beyond is billed at $0.05
//!   per vCPU-hour: after 40 h, 8 h x 36 = 288 credits billed ($0.24) and
//!   576 owed ($0.48), $0.72 in all (sd 2 credits, $0.0017).

mod common;
use common::*;

fn md1(lambda: f64, s: f64) -> f64 {
    pk_wq(lambda, s, s * s) + s
}

fn speed_scenario(instance_type: &str) -> String {
    format!(
        r#"
name = "speed-validation"
duration = 21000
warmup = 1000
sample = 1000
seed = 21

[traffic.web]
rate = 50
arrivals = "poisson"
to = "api"

[components.api]
kind = "pool"
instances = 1
concurrency = 1
instance_type = "{instance_type}"
measured_on = "m5.large"
service = {{ dist = "const", value = "10ms" }}
"#
    )
}

#[test]
fn speed_factors_scale_cpu_times_by_their_ratio() {
    for (t, speed) in [("c5.large", 1.10), ("m5a.large", 0.80), ("m5.xlarge", 1.0)] {
        let r = run_text(&speed_scenario(t), 0);
        let w = windows(&r, "_system", 1000.0, 1000.0);
        let s = 0.010 / speed;
        check_mean(
            &format!("{t} (speed {speed}): M/D/1 response"),
            &col(&w, |r| Some(r.mean_s)),
            md1(50.0, s),
            0.01,
        );
        let api = windows(&r, "api", 1000.0, 1000.0);
        check_mean(
            &format!("{t}: CPU = lambda S"),
            &col(&api, |r| r.cpu),
            50.0 * s,
            0.01,
        );
    }
}

fn credit_scenario(mode: &str, hours: f64) -> String {
    format!(
        r#"
name = "credits-validation"
duration = "{hours}h"
warmup = 0
sample = "10m"
seed = 22

[traffic.web]
rate = 10
arrivals = "poisson"
to = "api"

[components.api]
kind = "pool"
io = "async"
instances = 1
instance_type = "t3.medium"
credits = {{ mode = "{mode}", initial = 576 }}
service = {{ dist = "const", value = "100ms" }}
"#
    )
}

#[test]
fn standard_t3_runs_out_at_the_documented_time_then_computes_at_its_baseline() {
    let r = run_text(&credit_scenario("standard", 19.0), 0);
    let c = r
        .summary
        .components
        .get("api")
        .unwrap()
        .credits
        .clone()
        .expect("credits");
    let empty = c.first_empty_s.expect("ran out");
    let theory = 576.0 / 36.0 * 3600.0;
    // 4 standard deviations of the Poisson spend, plus one credit tick.
    let tol = 4.0 * 127.0 + 10.0;
    println!("empty after {empty:.0} s, theory {theory:.0} +- {tol:.0}");
    assert!((empty - theory).abs() <= tol, "{empty} vs {theory}");
    // The last two hours: throttled to the baseline, 0.4 vCPU of work per
    // second = 4 completions/s of 100 ms (batch means over 10 min).
    let api = windows(&r, "api", 17.0 * 3600.0, 600.0);
    check_mean(
        "throttled t3.medium: completions/s at the 20% baseline",
        &col(&api, |r| Some(r.completions as f64 / 600.0)),
        4.0,
        0.05,
    );
    assert!(c.throttled_share > 0.05, "{c:?}");
    assert_eq!(c.surplus_usd, 0.0);
}

#[test]
fn unlimited_t3_keeps_full_speed_and_bills_the_surplus_beyond_the_cap() {
    let r = run_text(&credit_scenario("unlimited", 40.0), 0);
    let c = r
        .summary
        .components
        .get("api")
        .unwrap()
        .credits
        .clone()
        .expect("credits");
    let theory = (8.0 * 36.0 + 576.0) * 0.05 / 60.0;
    println!("surplus ${:.4}, theory ${theory:.4}", c.surplus_usd);
    assert!(
        (c.surplus_usd - theory).abs() <= 4.0 * 0.0017 + 0.001,
        "{c:?}"
    );
    assert_eq!(c.throttled_share, 0.0);
    let api = windows(&r, "api", 20.0 * 3600.0, 600.0);
    check_mean(
        "unlimited t3.medium: completions/s as offered",
        &col(&api, |r| Some(r.completions as f64 / 600.0)),
        10.0,
        0.05,
    );
    // The pool's bill: 40 instance-hours at $0.0416 plus the surplus.
    let usd = r.summary.components.get("api").unwrap().cost_usd;
    let hours = 40.0 * 0.0416;
    println!(
        "api ${usd:.4} = {hours:.4} instance-hours + ${:.4}",
        c.surplus_usd
    );
    assert!((usd - hours - c.surplus_usd).abs() < 1e-6, "{usd}");
}

#[test]
fn bad_cpu_fields_are_located_with_what_to_write() {
    let base = speed_scenario("c5.large");
    let e = load_error(&base.replace("measured_on = \"m5.large\"", "measured_on = \"z9.large\""));
    assert!(
        e.contains("components.api.measured_on") && e.contains("[cost.catalog.\"z9.large\"] speed"),
        "{e}"
    );
    let e = load_error(&base.replace(
        "instance_type = \"c5.large\"\nmeasured_on = \"m5.large\"",
        "credits = { mode = \"standard\" }",
    ));
    assert!(
        e.contains("components.api.credits") && e.contains("burstable"),
        "{e}"
    );
    // On a type without credits they have no effect.
    let s = summary(&base.replace(
        "measured_on",
        "credits = { mode = \"standard\" }\nmeasured_on",
    ));
    assert!(s.components.get("api").unwrap().credits.is_none());
    let e = load_error(&credit_scenario("standard", 1.0).replace("initial = 576", "initial = 600"));
    assert!(
        e.contains("components.api.credits.initial") && e.contains("0 to 576"),
        "{e}"
    );
    let e = load_error(&base.replace(
        "service =",
        "[cost.catalog.\"c5.large\"]\nprice_per_hour = 0.085\nspeed = 0\n[components.x]\nkind = \"pool\"\ninstances = 1\nservice =",
    ));
    assert!(e.contains("cost.catalog.c5.large.speed"), "{e}");
}

#[test]
fn changing_the_type_by_an_edit_keeps_the_times_measured_on_the_written_one() {
    // No measured_on: 10 ms on the c5.large the scenario names. Moved to
    // an m5a.large by --set (as a variant or capacity --per does), the
    // request takes 10 ms x 1.10 / 0.80 = 13.75 ms.
    let text = speed_scenario("c5.large").replace("measured_on = \"m5.large\"\n", "");
    let loaded = scalesim::scenario::load_str(
        "speed.toml",
        &text,
        &["components.api.instance_type=m5a.large".into()],
        "speed",
    )
    .expect("loads");
    assert!(
        loaded.text.contains("measured_on = \"c5.large\""),
        "{}",
        loaded.text
    );
    let r = scalesim::run::run(&loaded, 0).expect("runs");
    let w = windows(&r, "_system", 1000.0, 1000.0);
    check_mean(
        "c5.large times on an m5a.large: M/D/1 response",
        &col(&w, |r| Some(r.mean_s)),
        md1(50.0, 0.010 * 1.10 / 0.80),
        0.01,
    );
}
