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

/// Loads `base` with the edits `sets`: a scenario that loads must run
/// (kept small: a few simulated seconds, a low in-flight cap); one that
/// does not must say why.
fn load_and_run(base: &str, sets: &[String]) -> Result<(), String> {
    match scalesim::scenario::load_str("robust.toml", base, sets, "robust") {
        Ok(mut l) => {
            let s = &mut l.scenario;
            s.warmup = Duration(s.warmup.secs().min(1.0));
            s.duration = Duration(s.duration.secs().clamp(1.5, 5.0));
            s.sample = Duration(s.sample.secs().max(1.0));
            s.max_in_flight = s.max_in_flight.min(10_000);
            for (_, t) in &mut s.traffic {
                t.rate = t.rate.map(|r| r.min(10_000.0));
            }
            scalesim::run::run(&l, 0)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        Err(d) => {
            assert!(!d.0.is_empty());
            for x in &d.0 {
                assert!(!x.message.is_empty());
            }
            Ok(())
        }
    }
}

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
        let outcome = std::panic::catch_unwind(|| load_and_run(BASE, &sets));
        prop_assert!(outcome.is_ok(), "panicked with --set {:?}", sets);
        prop_assert!(outcome.unwrap().is_ok(), "a loaded scenario failed to build: {:?}", sets);
    }
}

const LLM_BASE: &str = r#"
name = "robust-llm"
duration = "60s"
sample = "10s"
[traffic.chat]
rate = 5
to = "llm"
prompt_tokens = { dist = "lognormal", mean = 500, cv = 1.0 }
output_tokens = 100
[components.llm]
kind = "llm"
replicas = 1
gpu = "H100-SXM"
model = "Llama-3-8B"
[components.stt]
kind = "batch"
instances = 1
max_batch = 4
base = "100ms"
per_item = "10ms"
[traffic.audio]
rate = 2
to = "stt"
"#;

const LLM_PATHS: &[&str] = &[
    "components.llm.replicas",
    "components.llm.gpu",
    "components.llm.model",
    "components.llm.tensor_parallel",
    "components.llm.dtype",
    "components.llm.kv_dtype",
    "components.llm.scheduler",
    "components.llm.max_num_seqs",
    "components.llm.max_num_batched_tokens",
    "components.llm.max_model_len",
    "components.llm.max_batch",
    "components.llm.max_wait",
    "components.llm.block_size",
    "components.llm.gpu_memory_utilization",
    "components.llm.memory_reserve_gib",
    "components.llm.kv_blocks",
    "components.llm.step_time",
    "components.llm.queue_capacity",
    "components.llm.balance",
    "components.llm.load_gbs",
    "components.llm.gpu_spec.bandwidth_gbs",
    "components.llm.gpu_spec.memory_gib",
    "components.llm.model_spec.layers",
    "components.llm.model_spec.kv_heads",
    "components.llm.efficiency.mbu",
    "components.llm.efficiency.mfu_fp8",
    "components.llm.efficiency.step_overhead",
    "traffic.chat.prompt_tokens",
    "traffic.chat.output_tokens",
    "traffic.chat.prompt_tokens.max",
    "traffic.chat.prompt_tokens.cv",
    "components.stt.max_batch",
    "components.stt.base",
    "components.stt.per_item",
    "components.stt.max_queue_delay",
    "components.stt.instances",
    "slo.ttft_p99",
    "slo.tpot_p99",
];

const LLM_VALUES: &[&str] = &[
    "0",
    "-1",
    "1",
    "2",
    "7",
    "64",
    "0.5",
    "1e-300",
    "1e308",
    "nan",
    "inf",
    "18446744073709551615",
    "4294967295",
    "\"5m\"",
    "\"x\"",
    "\"fp8\"",
    "\"int4\"",
    "\"static\"",
    "\"continuous\"",
    "\"hash\"",
    "\"fifo\"",
    "\"L4\"",
    "\"A10G\"",
    "\"Llama-3-70B\"",
    "{ dist = \"uniform\", min = 1, max = 4294967295 }",
    "{ dist = \"exp\", mean = 1e308 }",
    "{ dist = \"const\", value = 0 }",
    "[]",
    "{}",
];

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 300,
        rng_seed: proptest::test_runner::RngSeed::Fixed(20261126),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_llm_edits_load_or_fail_cleanly(edits in prop::collection::vec((0..LLM_PATHS.len(), 0..LLM_VALUES.len()), 1..4)) {
        let sets: Vec<String> = edits.iter().map(|&(p, v)| format!("{}={}", LLM_PATHS[p], LLM_VALUES[v])).collect();
        let outcome = std::panic::catch_unwind(|| load_and_run(LLM_BASE, &sets));
        prop_assert!(outcome.is_ok(), "panicked with --set {:?}", sets);
        prop_assert!(outcome.unwrap().is_ok(), "a loaded scenario failed to build: {:?}", sets);
    }
}

/// An in-flight cap past what visit and request numbering (and memory)
/// allow is refused at load, naming the field and the bound.
#[test]
fn an_absurd_in_flight_cap_is_refused_with_its_bound() {
    let sets = ["max_in_flight=1000000000".to_string()];
    let d = match scalesim::scenario::load_str("robust.toml", BASE, &sets, "robust") {
        Ok(_) => panic!("max_in_flight = 10^9 must be refused"),
        Err(d) => d,
    };
    let text = format!("{d:?}");
    assert!(
        text.contains("max_in_flight") && text.contains("at most 100000000"),
        "{text}"
    );
    let ok = ["max_in_flight=100000000".to_string()];
    assert!(scalesim::scenario::load_str("robust.toml", BASE, &ok, "robust").is_ok());
}
