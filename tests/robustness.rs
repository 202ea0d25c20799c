//! Bad input never panics: random edits of a valid scenario (wrong types,
//! negative, zero, huge, NaN and infinite numbers, unknown names, cycles)
//! either load and run, or fail with located diagnostics.

use proptest::prelude::*;
use scalesim::models::units::Duration;

const BASE: &str = r#"
name = "robust"
duration = "60s"
sample = "10s"
[traffic.web]
rate = 50
to = "api"
keys = { count = 1000, zipf = 0.8 }
[components.api]
kind = "pool"
instances = 2
service = { dist = "exp", mean = "10ms" }
calls = ["cache"]
[components.cache]
kind = "cache"
capacity = 100
miss = "db"
[components.db]
kind = "pool"
instances = 1
service = { dist = "lognormal", mean = "5ms", cv = 1.0 }
"#;

const PATHS: &[&str] = &[
    "duration",
    "warmup",
    "seed",
    "sample",
    "max_in_flight",
    "name",
    "traffic.web.rate",
    "traffic.web.arrivals",
    "traffic.web.to",
    "traffic.web.keys",
    "traffic.web.keys.count",
    "traffic.web.keys.zipf",
    "traffic.other.rate",
    "components.api.kind",
    "components.api.instances",
    "components.db.instances",
    "components.api.provision_time",
    "components.api.concurrency",
    "components.api.service",
    "components.api.service.mean",
    "components.api.service.dist",
    "components.api.queue_capacity",
    "components.api.calls",
    "components.cache.capacity",
    "components.cache.policy",
    "components.cache.ttl",
    "components.cache.hit",
    "components.cache.miss",
    "components.db.kind",
    "components.db.service.cv",
    "components.db.calls",
    "components.new.kind",
    "slo.p99",
    "slo.error_rate",
    "unknown_top",
    "start",
    "timezone",
    "utc_offset",
    "traffic.web.daily.peak_hours",
    "traffic.web.daily.hourly",
    "traffic.web.daily.ramp",
    "traffic.web.weekly.weekend",
    "traffic.web.weekly.days",
    "traffic.web.growth.monthly",
    "traffic.web.events",
    "traffic.web.bursts",
    "traffic.web.onoff",
    "traffic.web.users",
    "traffic.web.per_user_per_day",
    "traffic.web.mix",
    "components.api.instance_type",
    "components.api.spot",
    "cost.billing",
];

const VALUES: &[&str] = &[
    "0",
    "-1",
    "1",
    "3",
    "0.5",
    "1e308",
    "-1e308",
    "nan",
    "inf",
    "-inf",
    "18446744073709551615",
    "4294967295",
    "\"5m\"",
    "\"-5m\"",
    "\"x\"",
    "\"api\"",
    "\"db\"",
    "\"cache\"",
    "\"pool\"",
    "\"lfu\"",
    "\"random\"",
    "\"deterministic\"",
    "[]",
    "[\"api\"]",
    "[\"db\", \"db\"]",
    "[\"cache\"]",
    "{}",
    "true",
    "{ dist = \"const\", value = 0 }",
    "{ dist = \"uniform\", min = 0, max = 0 }",
    "{ dist = \"gamma\", mean = 1, cv = 1e-9 }",
    "{ count = 1, zipf = 0 }",
    "{ count = 0 }",
    "\"07:00-20:00\"",
    "\"20:00-07:00\"",
    "\"2026-11-27\"",
    "\"2026-11-27T08:00:00\"",
    "\"Europe/Paris\"",
    "\"Mars/Olympus\"",
    "\"+01:00\"",
    "\"c5.large\"",
    "\"per_hour\"",
    "[1, 1, 1, 1, 1, 0.5, 0.5]",
    "[{ start = \"1s\", duration = \"2s\", factor = 5 }]",
    "[{ start = \"2026-11-27\", duration = \"1d\", factor = 5, ramp_up = \"1h\" }]",
    "[{ at = \"1s\", factor = 1e9, decay = \"1s\" }]",
    "{ on = \"1s\", off = \"1s\", on_factor = 3 }",
    "[{ name = \"r\", weight = 1 }, { name = \"w\", weight = 0, to = \"db\" }]",
    "{ share = 2 }",
];

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 400,
        // A fixed seed: the same cases on every run (no flaky CI).
        rng_seed: proptest::test_runner::RngSeed::Fixed(20261125),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_edits_load_or_fail_cleanly(edits in prop::collection::vec((0..PATHS.len(), 0..VALUES.len()), 1..4)) {
        let sets: Vec<String> = edits.iter().map(|&(p, v)| format!("{}={}", PATHS[p], VALUES[v])).collect();
        let outcome = std::panic::catch_unwind(|| {
            match scalesim::scenario::load_str("robust.toml", BASE, &sets, "robust") {
                Ok(mut l) => {
                    // Keep each run small: a few simulated seconds, a low cap.
                    let s = &mut l.scenario;
                    s.warmup = Duration(s.warmup.secs().min(1.0));
                    s.duration = Duration(s.duration.secs().clamp(1.5, 5.0));
                    s.sample = Duration(s.sample.secs().max(1.0));
                    s.max_in_flight = s.max_in_flight.min(10_000);
                    for (_, t) in &mut s.traffic {
                        t.rate = t.rate.map(|r| r.min(10_000.0));
                    }
                    scalesim::run::run(&l, 0).map(|_| ()).map_err(|e| e.to_string())
                }
                Err(d) => {
                    assert!(!d.0.is_empty());
                    for x in &d.0 {
                        assert!(!x.message.is_empty());
                    }
                    Ok(())
                }
            }
        });
        prop_assert!(outcome.is_ok(), "panicked with --set {:?}", sets);
        prop_assert!(outcome.unwrap().is_ok(), "a loaded scenario failed to build: {:?}", sets);
    }
}
