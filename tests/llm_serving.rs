//! LLM and batch components inside whole systems: token traces, the
//! orderings of the schedulers the literature reports, autoscaling GPU
//! replicas with model-load cold starts, and located errors for bad
//! configurations.

use scalesim::run::run;
use scalesim::scenario::{load, load_str};

mod common;
use common::run_text;

const CHAT: &str = r#"
name = "chat"
duration = "40m"
warmup = "5m"
sample = "1m"
seed = 3

[traffic.chat]
rate = RATE
to = "llm"
prompt_tokens = PROMPT
output_tokens = { dist = "lognormal", mean = 250, cv = 1.0, max = 2000 }

[components.llm]
kind = "llm"
replicas = 1
gpu = "H100-SXM"
model = "Llama-3-8B"
"#;

fn chat(rate: f64, prompt: &str, extra: &str) -> String {
    CHAT.replace("RATE", &rate.to_string())
        .replace("PROMPT", prompt)
        + extra
}

/// (TTFT p99, TPOT p99, output tokens/s, ITL p99) of the `llm` component.
fn token_figures(text: &str) -> (f64, f64, f64, f64) {
    let r = run_text(text, 0);
    let c = r
        .report
        .components
        .iter()
        .find(|c| c.name == "llm")
        .unwrap();
    let v = c.serving.as_ref().unwrap();
    (
        v.ttft.quantile_s(0.99),
        v.tpot.quantile_s(0.99),
        v.tokens_out as f64 / r.report.measured_s,
        v.itl.quantile_s(0.99),
    )
}

#[test]
fn continuous_batching_sustains_loads_that_static_batching_cannot() {
    // Reference V10: iteration-level scheduling beats request-level
    // batching. At 8 chat requests/s one H100 keeps TTFT p99 well under a
    // second with chunked prefill; static batches of 16 run until their
    // longest answer ends and fall behind.
    let lengths = "{ dist = \"lognormal\", mean = 1000, cv = 1.0, max = 6000 }";
    let (ttft_c, _, tok_c, _) = token_figures(&chat(8.0, lengths, ""));
    let static_text = chat(8.0, lengths, "scheduler = \"static\"\nmax_batch = 16\n");
    let (ttft_s, _, tok_s, _) = token_figures(&static_text);
    println!("chunked TTFT p99 {ttft_c:.3} s ({tok_c:.0} tok/s); static {ttft_s:.3} s ({tok_s:.0} tok/s)");
    assert!(ttft_c < 1.0, "{ttft_c}");
    assert!(ttft_s > 10.0 * ttft_c, "{ttft_s} vs {ttft_c}");
    assert!(tok_c > tok_s, "continuous batching serves more tokens");
}

#[test]
fn chunked_prefill_bounds_the_stalls_of_whole_prompt_prefills() {
    // Reference V10 (Sarathi-Serve): with long prompts, vLLM V0's
    // prefill-only steps stall every running decode for a whole prompt;
    // chunks of 512 tokens mixed with the decodes bound each stall, so
    // the time per output token has a much lower tail.
    let long = "{ dist = \"uniform\", min = 3000, max = 5000 }";
    let v0 = chat(3.0, long, "scheduler = \"continuous\"\n");
    let sarathi = chat(
        3.0,
        long,
        "scheduler = \"chunked\"\nmax_num_batched_tokens = 512\nmax_num_seqs = 256\n",
    );
    let (_, tpot_v0, _, itl_v0) = token_figures(&v0);
    let (_, tpot_chunked, _, itl_chunked) = token_figures(&sarathi);
    println!("TPOT p99: continuous {tpot_v0:.4} s, chunked (512) {tpot_chunked:.4} s");
    println!("ITL p99: continuous {itl_v0:.4} s, chunked (512) {itl_chunked:.4} s");
    assert!(tpot_chunked < 0.7 * tpot_v0, "{tpot_chunked} vs {tpot_v0}");
    // The stalls themselves: a whole-prompt prefill between two tokens.
    assert!(itl_chunked < 0.5 * itl_v0, "{itl_chunked} vs {itl_v0}");
}

#[test]
fn token_traces_replay_each_request_exactly() {
    let dir = std::env::temp_dir().join(format!("scalesim-llm-trace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("requests.csv"),
        "time,prompt_tokens,output_tokens\n1,100,10\n2,300,5\n2.5,50,20\n",
    )
    .unwrap();
    let scenario = dir.join("replay.toml");
    std::fs::write(
        &scenario,
        r#"
name = "replay"
duration = "60s"

[traffic.chat]
to = "llm"
trace = { file = "requests.csv", format = "timestamps" }

[components.llm]
kind = "llm"
replicas = 1
gpu = "H100-SXM"
model = "Llama-3-8B"
step_time = "100ms"
"#,
    )
    .unwrap();
    let loaded = load(&scenario, &[]).expect("loads");
    let r = run(&loaded, 0).expect("runs");
    let v = r.report.components[0].serving.clone().unwrap();
    assert_eq!(r.report.completed, 3);
    assert_eq!(v.tokens_in, 450);
    assert_eq!(v.tokens_out, 35);
    // Alone, request 1 takes 10 steps; request 2 arrives during them and
    // joins at the next step boundary; a constant 100 ms per step.
    assert_eq!(r.report.latency.max_s(), 2.0);
    std::fs::write(
        dir.join("requests.csv"),
        "time,prompt_tokens,output_tokens\n1,100,0\n",
    )
    .unwrap();
    let e = format!("{:?}", load(&scenario, &[]).unwrap_err());
    assert!(
        e.contains("requests.csv") && e.contains("output_tokens") && e.contains(">= 1"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

const SCALED: &str = r#"
name = "scaled"
duration = "1h"
sample = "1s"
seed = 4

[traffic.chat]
rate = 4
to = "llm"
prompt_tokens = 500
output_tokens = 200
events = [{ start = "1200s", duration = "1h", factor = 5.0 }]

[components.llm]
kind = "llm"
replicas = 1
gpu = "H100-SXM"
model = "Llama-3-8B"

[autoscaler.llm]
policy = "hpa"
min = 1
max = 4
metrics = [{ name = "batch", average_value = 20 }]
"#;

#[test]
fn gpu_replicas_scale_out_after_the_model_loads() {
    // Running requests, KV-cache use and output tokens/s per replica: each
    // a metric an LLM autoscaler may target.
    for (metric, target) in [("batch", "20"), ("kv", "0.04"), ("tokens", "2000")] {
        let text = SCALED.replace(
            "{ name = \"batch\", average_value = 20 }",
            &format!("{{ name = \"{metric}\", average_value = {target} }}"),
        );
        scale_out_then_load(&text, metric);
    }
}

fn scale_out_then_load(text: &str, metric: &str) {
    let r = run_text(text, 0);
    let out = r
        .report
        .scaling_events
        .iter()
        .find(|e| e.to > e.from)
        .expect("a scale-out");
    // The load steps up at 1200 s; the HPA sees it within a window.
    assert!(out.t_s > 1200.0 && out.t_s < 1300.0, "{out:?}");
    // Default cold start: 60 s of server start + 16.06 GB of weights at
    // 2 GB/s = 68.03 s before the new replica serves.
    let ready_at = |n: u32| {
        r.report
            .timeseries
            .iter()
            .find(|w| w.component == "llm" && w.t_s > out.t_s && w.instances >= Some(n))
            .map(|w| w.t_s)
            .unwrap()
    };
    let first = ready_at(out.from + 1);
    println!(
        "{metric}: scale-out at {} s ({}), next replica ready by {first} s",
        out.t_s, out.reason
    );
    assert_eq!(first, (out.t_s + 68.03).ceil(), "{out:?}");
    let c = &r.report.components[0];
    assert!(c.instances_max >= 2 && c.scale_outs >= 1);
    // A replica is billed while it loads: the bill exceeds the ready
    // replica-hours by at least 68 s per replica added.
    let added: u32 = r
        .report
        .scaling_events
        .iter()
        .filter(|e| e.to > e.from)
        .map(|e| e.to - e.from)
        .sum();
    let loading = c.cost_usd.unwrap() - 6.88 * c.instances_mean;
    assert!(
        loading >= 6.88 * 68.0 / 3600.0 * added as f64,
        "{loading} for {added} replicas"
    );
}

#[test]
fn bad_llm_configurations_are_caught_at_load_time() {
    let bad = |text: &str| -> String {
        match load_str("bad.toml", text, &[], "bad") {
            Ok(_) => panic!("loaded:\n{text}"),
            Err(d) => format!("{d:?}"),
        }
    };
    let unknown_gpu = SCALED.replace("gpu = \"H100-SXM\"", "gpu = \"H100\"");
    let e = bad(&unknown_gpu);
    assert!(
        e.contains("components.llm.gpu") && e.contains("H100-SXM") && e.contains("line_col: Some"),
        "{e}"
    );
    let no_tokens = SCALED.replace("prompt_tokens = 500\n", "");
    let e = bad(&no_tokens);
    assert!(e.contains("carry no token counts"), "{e}");
    let too_big = SCALED
        .replace("gpu = \"H100-SXM\"", "gpu = \"L4\"\ndtype = \"bf16\"")
        .replace("Llama-3-8B", "Llama-3-70B");
    let e = bad(&too_big);
    assert!(e.contains("no memory left for the KV cache"), "{e}");
    let pool_kv = r#"
name = "p"
duration = "1h"
[traffic.web]
rate = 1
to = "api"
[components.api]
kind = "pool"
instances = 1
service = { dist = "exp", mean = "10ms" }
[autoscaler.api]
policy = "hpa"
max = 3
metrics = [{ name = "kv", average_value = 0.5 }]
"#;
    let e = bad(pool_kv);
    assert!(e.contains("does not publish"), "{e}");
    let zero = SCALED.replace("replicas = 1", "replicas = 0");
    assert!(bad(&zero).contains("at least 1 replica"));
}

#[test]
fn llm_runs_are_deterministic() {
    let text = chat(10.0, "{ dist = \"lognormal\", mean = 800, cv = 1.0 }", "");
    let a = run_text(&text, 0);
    let b = run_text(&text, 0);
    assert_eq!(a.report.timeseries, b.report.timeseries);
    let c = run_text(&text, 1);
    assert_ne!(a.report.timeseries, c.report.timeseries);
}

#[test]
fn compare_reports_token_latencies_and_cost_per_token() {
    // Two replicas against one at the same load: the second GPU halves
    // the batch, so every token comes sooner, and costs more.
    let d = std::env::temp_dir().join(format!("scalesim-llm-compare-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let file = d.join("pair.toml");
    let text = chat(16.0, "{ dist = \"lognormal\", mean = 1000, cv = 1.0 }", "")
        + "\n[variants.one]\n[variants.two]\n\"components.llm.replicas\" = 2\n";
    std::fs::write(&file, text).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .args(["compare", file.to_str().unwrap(), "-r", "3", "--json"])
        .output()
        .expect("the scalesim binary runs");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let verdict = |m: &str| {
        v["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["metric"] == m)
            .unwrap_or_else(|| panic!("no {m} in {v}"))["verdict"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(verdict("llm.tpot_s.p99"), "better");
    assert_eq!(verdict("llm.ttft_s.p99"), "better");
    assert_eq!(verdict("llm.cost_per_1m_output_tokens"), "worse");
    std::fs::remove_dir_all(&d).ok();
}

/// Bursts scaled out and in by an HPA with no scale-down stabilization:
/// replicas drain with requests still queued and their slots are reused.
const CHURN: &str = r#"
name = "churn"
duration = "30m"
warmup = "1m"
sample = "10s"
seed = SEED

[traffic.chat]
rate = 3
to = "llm"
prompt_tokens = { dist = "lognormal", mean = 300, cv = 1.0, max = 1500 }
output_tokens = { dist = "lognormal", mean = 150, cv = 1.0, max = 800 }
events = [{ start = "300s", duration = "300s", factor = 6.0 }, { start = "900s", duration = "200s", factor = 8.0 }]

[components.llm]
kind = "llm"
replicas = 1
gpu = "H100-SXM"
model = "Llama-3-8B"
kv_blocks = 400
max_model_len = 4096
max_num_seqs = 8
max_num_batched_tokens = 512
provision_time = { dist = "uniform", min = "5s", max = "20s" }

[autoscaler.llm]
policy = "hpa"
min = 1
max = 5
metrics = [{ name = "METRIC", average_value = 4 }]

[autoscaler.llm.behavior.scale_down]
stabilization = "0s"
"#;

#[test]
fn draining_replicas_keep_the_figures_consistent() {
    for seed in 1..4 {
        for metric in ["batch", "queue"] {
            let text = CHURN
                .replace("SEED", &seed.to_string())
                .replace("METRIC", metric);
            let r = run_text(&text, 0);
            let c = &r.report.components[0];
            let v = c.serving.as_ref().unwrap();
            assert!(c.scale_ins > 0 && c.scale_outs > 0, "{metric}: no churn");
            // No step holds more than max_num_seqs requests, in any window.
            for w in r.report.timeseries.iter().filter(|w| w.component == "llm") {
                let b = w.batch_mean.unwrap();
                assert!(
                    b <= 8.0 + 1e-9,
                    "seed {seed} {metric}: batch {b} at {}",
                    w.t_s
                );
                let kv = w.kv_use.unwrap();
                assert!((0.0..=1.0 + 1e-9).contains(&kv), "kv {kv} at {}", w.t_s);
            }
            // Every request that arrived is answered or still in flight.
            assert_eq!(
                r.report.arrived,
                r.report.completed + r.report.rejected + r.report.in_flight_at_end
            );
            assert!(v.batch_mean <= 8.0);
        }
    }
}

#[test]
fn request_classes_report_their_own_token_latencies() {
    // Summaries (6,000-token prompts) wait longer for their first token
    // than chat turns (500 tokens) on the same replica.
    let text = r#"
name = "mix"
duration = "30m"
warmup = "5m"
seed = 3
[traffic.users]
rate = 10
to = "llm"
mix = [
  { name = "chat", weight = 8, prompt_tokens = 500, output_tokens = 200 },
  { name = "summarize", weight = 2, prompt_tokens = 6000, output_tokens = 300 },
]
[components.llm]
kind = "llm"
replicas = 1
gpu = "H100-SXM"
model = "Llama-3-8B"
"#;
    let r = run_text(text, 0);
    let ttft = |name: &str| {
        let c = r.report.classes.iter().find(|c| c.name == name).unwrap();
        let (t, p) = c.tokens.as_ref().expect("token latencies");
        assert_eq!(t.count(), c.completed);
        assert!(p.count() > 0);
        t.quantile_s(0.5)
    };
    let (chat, summarize) = (ttft("users.chat"), ttft("users.summarize"));
    println!("TTFT p50: chat {chat:.3} s, summarize {summarize:.3} s");
    assert!(summarize > 2.0 * chat, "{summarize} vs {chat}");
    let all = r.report.components[0]
        .serving
        .as_ref()
        .unwrap()
        .ttft
        .count();
    assert_eq!(
        all,
        r.report.classes.iter().map(|c| c.completed).sum::<u64>()
    );
}
