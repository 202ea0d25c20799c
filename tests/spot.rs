//! Spot interruptions (`spot.interruptions`): each ready spot instance is
//! reclaimed after an exponential time of rate r, so a fleet of n spot
//! instances, each replaced on spot when its notice comes and ready again
//! after a boot of b, takes interruptions as a Poisson process of rate
//! r x (spot instances ready): over T, E[N] = n r T / (1 + r b). With
//! `fallback = "on_demand"` and no return to spot, each spot instance is
//! interrupted at most once: E[N] = n (1 - e^{-rT}); with a return to
//! spot after R on demand, each spot slot cycles through a spot life
//! (mean 1/r), the fallback's boot, R, and the spot one's boot: E[N] =
//! n T / (1/r + 2b + R). Checked through 99.9% intervals of replications
//! (`tests/common`).

mod common;

use common::{check_mean, load_error, run_text};

const SPOT: &str = r#"
duration = "2000h"
warmup = "0s"
sample = "10h"
seed = 5
[traffic.web]
rate = 1
to = "api"
[components.api]
kind = "pool"
instances = 10
concurrency = 8
service = { dist = "exp", mean = "100ms" }
balance = "least_conn"
instance_type = "c5.large"
provision_time = "3m"
spot = { share = 0.8, discount = 0.7, interruptions = { rate = "5%/h" } }
"#;

fn interruptions(text: &str, rep: u32) -> f64 {
    let s = run_text(text, rep).summary;
    let c = &s.components.0.iter().find(|(n, _)| n == "api").unwrap().1;
    c.spot_interruptions.unwrap() as f64
}

#[test]
fn spot_instances_are_interrupted_at_their_rate() {
    // 10 instances at 80% spot: 8 on spot (on demand rounded up).
    let (n, r, t, b) = (8.0, 0.05 / 3600.0, 2000.0 * 3600.0, 180.0);
    let xs: Vec<f64> = (0..10).map(|rep| interruptions(SPOT, rep)).collect();
    check_mean(
        "interruptions in 2000 h",
        &xs,
        n * r * t / (1.0 + r * b),
        0.08,
    );
}

#[test]
fn with_on_demand_fallback_each_spot_instance_goes_once() {
    // 100 instances at 80% spot: 80 on spot.
    let text = SPOT
        .replace("duration = \"2000h\"", "duration = \"20h\"")
        .replace("instances = 10", "instances = 100")
        .replace(
            "interruptions = { rate = \"5%/h\" } }",
            "interruptions = { rate = \"5%/h\", rebalance = \"1000h\" }, fallback = \"on_demand\" }",
        );
    let xs: Vec<f64> = (0..20).map(|rep| interruptions(&text, rep)).collect();
    check_mean(
        "interruptions in 20 h with on-demand fallback",
        &xs,
        80.0 * (1.0 - (-1.0f64).exp()),
        0.1,
    );
}

#[test]
fn on_demand_fallbacks_go_back_to_spot_after_rebalance() {
    let text = SPOT.replace(
        "interruptions = { rate = \"5%/h\" } }",
        "interruptions = { rate = \"5%/h\", rebalance = \"30m\" }, fallback = \"on_demand\" }",
    );
    let (n, r, t, b, rb) = (8.0, 0.05 / 3600.0, 2000.0 * 3600.0, 180.0, 1800.0);
    let xs: Vec<f64> = (0..10).map(|rep| interruptions(&text, rep)).collect();
    check_mean(
        "interruptions in 2000 h, back to spot after 30 min",
        &xs,
        n * t / (1.0 / r + 2.0 * b + rb),
        0.08,
    );
}

#[test]
fn requests_held_past_the_notice_are_lost() {
    // 10-minute requests cannot finish within a 2-minute notice.
    let text = SPOT
        .replace("mean = \"100ms\"", "mean = \"10m\"")
        .replace("duration = \"2000h\"", "duration = \"200h\"")
        .replace("rate = 1\n", "rate = 0.05\n");
    let s = run_text(&text, 0).summary;
    assert!(s.requests.failed > 0, "{:?}", s.requests);
    let fast = run_text(SPOT, 0).summary;
    assert_eq!(fast.requests.failed, 0, "100 ms requests drain in time");
}

#[test]
fn bad_interruptions_are_located_errors() {
    for (spot, words) in [
        (
            "interruptions = { rate = \"5 per hour\" }",
            "such as \"5%/h\"",
        ),
        ("interruptions = { }", "either rate"),
        ("interruptions = { mtbf = \"1m\" }", "at least 600s"),
        (
            "interruptions = { rate = \"5%/h\", notice = \"30h\" }",
            "shorter than the mean",
        ),
    ] {
        let text = SPOT.replace("interruptions = { rate = \"5%/h\" }", spot);
        let e = load_error(&text);
        assert!(
            e.contains("components.api.spot") && e.contains(words),
            "{spot}: {e}"
        );
    }
}

#[test]
fn ec2_does_not_bill_a_spot_instance_it_interrupts_in_its_first_hour() {
    // Spot instances live 30 min on average after a 3 min boot: a
    // replacement runs b + L (L exponential, mean m) and is billed only if
    // that reaches an hour h, so a spot slot bills a share
    // E[(b + L) 1{b + L >= h}] / E[b + L] = e^{-(h - b)/m} (h + m) / (b + m)
    // of its time, at 30% of the on-demand price. The two on-demand
    // instances bill all of theirs.
    let text = SPOT
        .replace("duration = \"2000h\"", "duration = \"500h\"")
        .replace("instance_type = \"c5.large\"", "price_per_hour = 1.0")
        .replace("rate = \"5%/h\"", "mtbf = \"30m\"");
    let (h, b, m, t) = (3600.0f64, 180.0f64, 1800.0f64, 500.0f64);
    let share = (-(h - b) / m).exp() * (h + m) / (b + m);
    let xs: Vec<f64> = (0..10)
        .map(|rep| {
            let s = run_text(&text, rep).summary;
            let c = &s.components.0.iter().find(|(n, _)| n == "api").unwrap().1;
            (c.cost_usd - 2.0 * t) / (8.0 * 0.3 * t)
        })
        .collect();
    check_mean("billed share of a spot slot's time", &xs, share, 0.03);
}
