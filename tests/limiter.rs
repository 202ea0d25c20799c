//! `kind = "limiter"`: a token bucket of rate r and size b admits, over
//! any span of length T, at most b + r T requests, and under overload at
//! least r T - b (the bucket can hold no more than b): so the long-run
//! admitted rate is min(offered, r), and a burst that finds the bucket
//! full gets b requests through at once. These are bounds, not
//! statistics: they hold exactly. A concurrency cap of 1 in front of one
//! exponential server is Erlang's loss system M/M/1/1, checked through a
//! 99.9% interval of 10 replications.

mod common;

use common::{load_error, run_text};

fn component<'a>(
    s: &'a scalesim::output::summary::Summary,
    name: &str,
) -> &'a scalesim::output::summary::ComponentJson {
    &s.components.0.iter().find(|(n, _)| n == name).unwrap().1
}

const GATED: &str = r#"
duration = "1000s"
warmup = "100s"
seed = 3
[traffic.web]
rate = 300
to = "gate"
mix = [ { name = "browse", weight = 9 }, { name = "checkout", weight = 1 } ]
[components.gate]
kind = "limiter"
to = "api"
rate = 200
burst = 100
[components.api]
kind = "pool"
instances = 50
service = { dist = "exp", mean = "10ms" }
"#;

#[test]
fn the_long_run_admitted_rate_is_min_of_offered_and_rate() {
    for rep in 0..3 {
        let s = run_text(GATED, rep).summary;
        let admitted = s.requests.completed as f64 + s.requests.in_flight_at_end as f64;
        // Over the 900 s measured: within a bucket of r x 900.
        assert!(
            (admitted - 200.0 * 900.0).abs() <= 100.0 + 1.0,
            "admitted {admitted}"
        );
        assert_eq!(component(&s, "gate").limited, Some(s.requests.rejected));
    }
    // Below the rate, a 100-request bucket absorbs Poisson bursts.
    let s = run_text(&GATED.replace("rate = 300", "rate = 150"), 0).summary;
    let limited = component(&s, "gate").limited.unwrap() as f64;
    assert!(limited / (s.requests.arrived as f64) < 1e-4, "{limited}");
}

#[test]
fn a_full_bucket_absorbs_a_burst_of_its_size() {
    // 500 requests 0.1 ms apart into a bucket of 200 refilled at 100/s:
    // 200 + 100 x 0.05 = 205 get through.
    let text = GATED
        .replace(
            "duration = \"1000s\"\nwarmup = \"100s\"",
            "duration = \"50ms\"\nwarmup = \"0s\"\nsample = \"50ms\"",
        )
        .replace("rate = 300", "rate = 10000\narrivals = \"deterministic\"")
        .replace("rate = 200\nburst = 100", "rate = 100\nburst = 200");
    let s = run_text(&text, 0).summary;
    let admitted = s.requests.arrived - s.requests.rejected;
    assert!((204..=205).contains(&admitted), "{:?}", s.requests);
}

#[test]
fn priority_classes_take_the_reserve_and_per_class_buckets_bind() {
    // 300 req/s offered to 200: browse (90%) is shed, checkout (10%) is
    // kept by a 30% reserve.
    let text = GATED.replace(
        "burst = 100",
        "burst = 100\npriority = [\"web.checkout\"]\nreserve = 0.3",
    );
    let s = run_text(&text, 0).summary;
    let class = |n: &str| &s.classes.0.iter().find(|(c, _)| c == n).unwrap().1;
    assert_eq!(class("web.checkout").rejected, 0);
    assert!(class("web.browse").rejected > 80_000);
    // A bucket of 10/s for checkout alone: it gets at most 10 x 900 + 10.
    let text = GATED.replace(
        "burst = 100",
        "burst = 100\nper_class = { \"web.checkout\" = { rate = 10 } }",
    );
    let s = run_text(&text, 0).summary;
    let c = &s
        .classes
        .0
        .iter()
        .find(|(c, _)| c == "web.checkout")
        .unwrap()
        .1;
    let admitted = (c.arrived - c.rejected) as f64;
    assert!((admitted - 9000.0).abs() <= 11.0, "{admitted}");
}

#[test]
fn a_concurrency_cap_refuses_past_it() {
    // At most 1 request past the gate into one 10 ms server at 50 req/s:
    // an Erlang loss system M/M/1/1, blocking a/(1+a) = 1/3.
    let text = GATED
        .replace("rate = 300", "rate = 50")
        .replace("rate = 200\nburst = 100", "concurrency = 1")
        .replace("instances = 50", "instances = 1");
    let shares: Vec<f64> = (0..10)
        .map(|rep| {
            let s = run_text(&text, rep).summary;
            s.requests.rejected as f64 / s.requests.arrived as f64
        })
        .collect();
    common::check_mean(
        "blocking behind a concurrency cap of 1",
        &shares,
        1.0 / 3.0,
        0.02,
    );
}

#[test]
fn bad_limiters_are_located_errors() {
    for (fields, field, words) in [
        ("", "components.gate.rate", "needs a rate"),
        ("rate = -5", "components.gate.rate", "above 0"),
        (
            "rate = 5\nburst = 0.5",
            "components.gate.burst",
            "at least 1",
        ),
        (
            "rate = 5\nper_class = { nope = { rate = 1 } }",
            "components.gate.per_class.nope",
            "unknown source or class",
        ),
        (
            "rate = 5\nreserve = 0.2",
            "components.gate.reserve",
            "priority",
        ),
        (
            "concurrency = 0",
            "components.gate.concurrency",
            "at least 1",
        ),
    ] {
        let text = format!(
            "duration = \"1h\"\n[traffic.web]\nrate = 1\nto = \"gate\"\n[components.gate]\nkind = \"limiter\"\nto = \"api\"\n{fields}\n[components.api]\nkind = \"pool\"\ninstances = 1\nservice = \"10ms\"\n"
        );
        let e = load_error(&text);
        assert!(e.contains(field) && e.contains(words), "{fields}: {e}");
    }
}
