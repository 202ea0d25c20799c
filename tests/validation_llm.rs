//! GPU inference against published measurements and queueing theory.
//!
//! 1. The roofline step time (models/src/roofline.rs, defaults MBU 0.70,
//!    MFU 0.65 bf16 / 0.40 fp8, 0.5 ms per step, 15 us per all-reduce)
//!    against TensorRT-LLM's published fixed-batch throughput and
//!    first-token latency tables, and Vidur's linear-layer profiles:
//!    within 20%. Rows the model misses are listed and checked to stay on
//!    their known side, so a change that moves them is seen.
//! 2. KV-cache accounting: bytes per token by the closed form, the pool of
//!    a 24 GiB GPU against vLLM's measured block count.
//! 3. Batching with a constant batch time against the bulk-service queue
//!    M/D^(1,b)/1 (serve up to b at once, start as soon as one waits),
//!    solved exactly through its embedded chain at batch ends.
//! 4. Scheduler orderings the literature reports: continuous batching
//!    sustains more load than static batching; chunked prefill bounds the
//!    time per output token that whole-prompt prefills stall.

use scalesim_models::kinds::serving::gpu::{
    resolve_gpu, resolve_model, GpuOverride, ModelOverride,
};
use scalesim_models::kinds::serving::llm::LlmConfig;
use scalesim_models::kinds::serving::replica::{Finished, Job, Replica};
use scalesim_models::kinds::serving::roofline::{Efficiency, Roofline, StepShape};
use scalesim_models::units::Duration;
use scalesim_sim::Time;

mod common;
use common::{check_mean, col, run_text, windows};

/// An LLM component's configuration from TOML lines.
fn llm(lines: &str) -> LlmConfig {
    toml::from_str(lines).unwrap_or_else(|e| panic!("{e}\n{lines}"))
}

/// Serves `jobs` (all arriving at 0) on one replica until idle; returns
/// the finish time and the finished requests.
fn serve(cfg: &LlmConfig, jobs: &[Job]) -> (Time, Vec<(Finished, Time)>) {
    let mut r = Replica::new(cfg.plan().expect("a valid plan"));
    for j in jobs {
        assert!(r.push(*j), "job refused");
    }
    let mut done = Vec::new();
    let (end, _) = r.drain(0, &mut done);
    (end, done)
}

fn jobs(n: u32, prompt: u32, output: u32) -> Vec<Job> {
    (0..n)
        .map(|visit| Job {
            visit,
            prompt,
            output,
            arrived: 0,
        })
        .collect()
}

/// TensorRT-LLM "LLaMA 7B/70B" on one GPU type: the shapes of Llama-2.
fn trt_config(gpu: &str, model: &str, tp: u32, batch: u32) -> LlmConfig {
    // H100 rows ran FP8 weights and FP8 KV cache; A100 rows FP16. Memory
    // is not the question here (the tables' batches fit): a large pool.
    let dtype = if gpu == "H100-SXM" { "fp8" } else { "fp16" };
    llm(&format!(
        "replicas = 1\ngpu = \"{gpu}\"\nmodel = \"{model}\"\ntensor_parallel = {tp}\n\
         dtype = \"{dtype}\"\nkv_dtype = \"{dtype}\"\nscheduler = \"static\"\n\
         max_batch = {batch}\nmax_wait = 0\nkv_blocks = 100000000"
    ))
}

/// One published throughput row: (gpu, model, tp, batch, input, output,
/// measured output tokens/s per GPU).
type Row = (&'static str, &'static str, u32, u32, u32, u32, f64);

/// Output tokens per second per GPU of one static batch, as modelled.
fn static_throughput(r: &Row) -> f64 {
    let &(gpu, model, tp, batch, input, output, _) = r;
    let (end, done) = serve(
        &trt_config(gpu, model, tp, batch),
        &jobs(batch, input, output),
    );
    assert_eq!(done.len(), batch as usize);
    batch as f64 * output as f64 / (end as f64 / 1e9) / tp as f64
}

// Source: NVIDIA/TensorRT-LLM docs/source/performance.md at commit
// 138f96d45f90b9667426f7c47297d8c06bafac73 (v0.6.1), "Peak Throughput"
// tables, gptSessionBenchmark, static batches; H100 FP8 (tok/s/GPU),
// A100 FP16 (per GPU, as the file's next revision 77d24b5 labels it).
const THROUGHPUT: [Row; 11] = [
    ("H100-SXM", "Llama-2-7B", 1, 768, 128, 128, 19694.0),
    ("H100-SXM", "Llama-2-7B", 1, 112, 128, 2048, 6818.0),
    ("H100-SXM", "Llama-2-7B", 1, 80, 2048, 128, 2244.0),
    ("H100-SXM", "Llama-2-7B", 1, 48, 2048, 2048, 2740.0),
    ("H100-SXM", "Llama-2-70B", 2, 1024, 128, 128, 2657.0),
    ("H100-SXM", "Llama-2-70B", 2, 96, 2048, 128, 306.0),
    ("A100-80GB", "Llama-2-7B", 1, 384, 128, 128, 5586.0),
    ("A100-80GB", "Llama-2-7B", 1, 60, 128, 2048, 1928.0),
    ("A100-80GB", "Llama-2-7B", 1, 52, 2048, 128, 591.0),
    ("A100-80GB", "Llama-2-7B", 2, 64, 2048, 2048, 782.0),
    ("A100-80GB", "Llama-2-70B", 4, 1280, 128, 128, 670.0),
];

// Same tables: rows the roofline misses. Long 70B generations at large
// batch ran at about half the bandwidth roofline in TensorRT-LLM v0.6.1
// (its GQA decode kernel; later versions closed much of the gap), so the
// model is 1.6-2x too fast there. Kept to document the limit.
const KNOWN_FAST: [Row; 3] = [
    ("H100-SXM", "Llama-2-70B", 4, 480, 128, 2048, 1486.0),
    ("H100-SXM", "Llama-2-70B", 2, 64, 2048, 2048, 547.0),
    ("A100-80GB", "Llama-2-70B", 4, 240, 128, 2048, 525.0),
];

#[test]
fn static_batch_throughput_matches_tensorrt_llm_within_20_percent() {
    for r in &THROUGHPUT {
        let model = static_throughput(r);
        let err = model / r.6 - 1.0;
        println!(
            "{} {} tp{} batch {} {}/{}: model {model:.0} tok/s/GPU, measured {}, {:+.1}%",
            r.0,
            r.1,
            r.2,
            r.3,
            r.4,
            r.5,
            r.6,
            err * 100.0
        );
        assert!(err.abs() <= 0.20, "{r:?}: model {model:.0}, {err:+.3}");
    }
    for r in &KNOWN_FAST {
        let model = static_throughput(r);
        println!(
            "known miss {} {} tp{} batch {} {}/{}: model {model:.0}, measured {}",
            r.0, r.1, r.2, r.3, r.4, r.5, r.6
        );
        assert!(model / r.6 > 1.4, "{r:?}: the known miss moved: {model:.0}");
    }
}

#[test]
fn first_token_latency_matches_tensorrt_llm_within_20_percent() {
    // Source: the same file, "Low Latency" table (data from v0.5): batch 1,
    // output length 1, first-token latency in ms.
    let rows = [
        ("H100-SXM", "Llama-2-7B", 1, 2048, 36.0),
        ("H100-SXM", "Llama-2-70B", 4, 2048, 109.0),
        ("A100-80GB", "Llama-2-7B", 1, 2048, 133.0),
        ("A100-80GB", "Llama-2-70B", 4, 2048, 377.0),
    ];
    // 128-token prompts: fixed per-request costs (launches, tokenizer
    // setup) dominate, and the model is 20-50% low. Kept as known misses.
    let short = [
        ("H100-SXM", "Llama-2-7B", 1, 128, 7.0),
        ("H100-SXM", "Llama-2-70B", 4, 128, 26.0),
        ("A100-80GB", "Llama-2-7B", 1, 128, 16.0),
        ("A100-80GB", "Llama-2-70B", 4, 128, 47.0),
    ];
    let ttft = |gpu: &str, model: &str, tp: u32, prompt: u32| {
        let (_, done) = serve(&trt_config(gpu, model, tp, 1), &jobs(1, prompt, 1));
        done[0].0.first_token as f64 / 1e6
    };
    for (gpu, model, tp, prompt, measured) in rows {
        let m = ttft(gpu, model, tp, prompt);
        let err = m / measured - 1.0;
        println!(
            "{gpu} {model} tp{tp} {prompt} tokens: TTFT {m:.1} ms, measured {measured}, {:+.1}%",
            err * 100.0
        );
        assert!(err.abs() <= 0.20, "{gpu} {model}: {m:.1} ms vs {measured}");
    }
    for (gpu, model, tp, prompt, measured) in short {
        let m = ttft(gpu, model, tp, prompt);
        println!("known miss {gpu} {model} {prompt} tokens: {m:.1} ms, measured {measured}");
        assert!(m < measured, "{gpu} {model}: the known miss moved");
    }
}

#[test]
fn nim_70b_on_two_h100_at_concurrency_one() {
    // Source: NVIDIA NIM LLM benchmarking guide,
    // https://docs.nvidia.com/nim/benchmarking/llm/1.0.0/performance
    // (reference V6): Llama-3.3-70B (the Llama-3-70B shape), 2 x H100,
    // FP8, TP2, 5000 input / 500 output tokens, one request at a time:
    // TTFT 407 ms, inter-token latency 18.6 ms. Here: vLLM-style chunked
    // scheduling, one request alone.
    let cfg = llm(
        "replicas = 1\ngpu = \"H100-SXM\"\nmodel = \"Llama-3-70B\"\ntensor_parallel = 2\n\
         dtype = \"fp8\"\nkv_dtype = \"fp8\"",
    );
    let (end, done) = serve(&cfg, &jobs(1, 5000, 500));
    let first = done[0].0.first_token as f64 / 1e9;
    let itl = (end as f64 / 1e9 - first) / 499.0;
    println!(
        "NIM 70B TP2 c=1: TTFT {:.0} ms (measured 407), ITL {:.2} ms (measured 18.6)",
        first * 1e3,
        itl * 1e3
    );
    assert!((first / 0.407 - 1.0).abs() <= 0.20, "TTFT {first}");
    assert!((itl / 0.0186 - 1.0).abs() <= 0.20, "ITL {itl}");
}

#[test]
fn linear_layers_match_vidur_profiles() {
    // Source: microsoft/vidur data/profiling/compute/{a100,h100}/
    // meta-llama/Llama-2-7b-hf/mlp.csv, the nine token-level operations
    // per layer x 32 layers (as summed in shared/reference/llm-serving.md
    // §1.6): milliseconds per step of T tokens, kernels only (no CPU
    // overhead, no LM head, no attention).
    let table: [(u64, f64, f64); 7] = [
        (1, 9.28, 5.60),
        (64, 9.70, 5.86),
        (128, 12.24, 6.37),
        (256, 17.81, 9.15),
        (512, 33.36, 11.98),
        (2048, 133.5, 40.5),
        (4096, 261.5, 83.2),
    ];
    let mut model = resolve_model("Llama-2-7B", &ModelOverride::default()).unwrap();
    model.vocab = 1; // no LM head in the profile
    let eff = Efficiency {
        step_overhead: Duration(0.0),
        ..Efficiency::default()
    };
    for (col, gpu) in [(1, "A100-80GB"), (2, "H100-SXM")] {
        let g = resolve_gpu(gpu, &GpuOverride::default()).unwrap();
        let r = Roofline::new(
            &model,
            &g,
            1,
            scalesim_models::kinds::serving::gpu::Dtype::Bf16,
            scalesim_models::kinds::serving::gpu::Dtype::Bf16,
            &eff,
        );
        for row in table {
            let measured = if col == 1 { row.1 } else { row.2 };
            let shape = StepShape {
                tokens: row.0,
                ..StepShape::default()
            };
            let m = r.step_s(&shape) * 1e3;
            let err = m / measured - 1.0;
            println!(
                "{gpu} {} tokens: {m:.2} ms, Vidur {measured}, {:+.1}%",
                row.0,
                err * 100.0
            );
            // Within 5% except H100 at 256 tokens (-18%, the ridge).
            let tol = if gpu == "H100-SXM" && row.0 == 256 {
                0.20
            } else {
                0.05
            };
            assert!(err.abs() <= tol, "{gpu} {}: {m:.2} vs {measured}", row.0);
        }
    }
}

#[test]
fn kv_pool_matches_the_closed_form_and_vllm() {
    // Llama-3-8B on one H100 at utilization 0.9, vLLM V1 defaults:
    // (79.6 GiB x 0.9 - weights - 1.4 GiB - activations of 8192 tokens)
    // / (2 x 32 layers x 8 KV heads x 128 x 2 bytes x 16 tokens).
    let p = llm("replicas = 1\ngpu = \"H100-SXM\"\nmodel = \"Llama-3-8B\"")
        .plan()
        .unwrap();
    let gib = 1024f64.powi(3);
    let weights = p.model.total_params() * 2.0;
    let act = 8192.0 * (2.0 * 4096.0 + 3.0 * 14336.0) * 2.0;
    let pool = 79.6 * gib * 0.9 - weights - 1.4 * gib - act;
    let per_block = (2 * 32 * 8 * 128 * 2 * 16) as f64;
    assert_eq!(p.blocks, (pool / per_block).floor() as u64);
    assert_eq!(p.memory.kv_bytes_per_token, 131072.0);
    // Tensor parallelism splits the KV heads: half the bytes per GPU.
    let p2 = llm("replicas = 1\ngpu = \"H100-SXM\"\nmodel = \"Llama-3-70B\"\ntensor_parallel = 4")
        .plan()
        .unwrap();
    assert_eq!(p2.memory.kv_bytes_per_token, 327680.0 / 4.0);

    // Reference V8 (casys-kaist/LLMServingSim bench/examples validation,
    // vLLM 0.19.0): Llama-3.1-8B on a 24 GiB RTX 4090, utilization 0.9,
    // max_num_batched_tokens 2048: vLLM's pool was 2,588 blocks = 41,408
    // tokens. The default reserve was fitted to this point, so this is a
    // calibration check (within 2%), not an independent validation.
    let p = llm(
        "replicas = 1\ngpu = \"RTX-4090\"\nmodel = \"Llama-3.1-8B\"\nmax_num_batched_tokens = 2048\n\
         max_model_len = 8192\n\
         gpu_spec = { memory_gib = 23.99, bandwidth_gbs = 1008, bf16_tflops = 165, price_per_hour = 0 }",
    )
    .plan()
    .unwrap();
    let tokens = (p.blocks * 16) as f64;
    println!("RTX 4090 KV pool: {tokens} tokens (vLLM measured 41,408)");
    assert!((tokens / 41408.0 - 1.0).abs() < 0.02, "{tokens}");
}

/// Exact mean wait of the bulk-service queue M/D_n^(1,b)/1: Poisson
/// arrivals at `lambda`; when the server is free it takes min(queue, b)
/// requests (the first arrival at once when idle) and serves them
/// together for `d(n)` seconds.
///
/// Embedded chain at batch ends: Q' = max(Q - b, 0) + A, A ~ Poisson(lambda
/// d(n)) with n = min(max(Q, 1), b). By renewal-reward over the cycles
/// between batch ends, the time-average number waiting is
/// sum pi_q (max(q - b, 0) d(n) + lambda d(n)^2 / 2) /
/// sum pi_q (d(n) + [q = 0] / lambda), and Little's law gives the wait.
fn bulk_wait(lambda: f64, b: u32, d: impl Fn(u32) -> f64) -> f64 {
    const N: usize = 400;
    let b = b as usize;
    let poisson = |m: f64| -> Vec<f64> {
        let mut p = vec![(-m).exp()];
        for k in 1..N {
            p.push(p[k - 1] * m / k as f64);
        }
        p
    };
    let laws: Vec<Vec<f64>> = (0..=b)
        .map(|n| poisson(lambda * d(n.max(1) as u32)))
        .collect();
    let mut pi = vec![0.0; N];
    pi[0] = 1.0;
    for _ in 0..20_000 {
        let mut next = vec![0.0; N];
        for (q, &pq) in pi.iter().enumerate() {
            if pq < 1e-300 {
                continue;
            }
            let n = q.clamp(1, b);
            let left = q.saturating_sub(b);
            for (a, pa) in laws[n].iter().enumerate() {
                if left + a < N {
                    next[left + a] += pq * pa;
                }
            }
        }
        let s: f64 = next.iter().sum();
        let delta: f64 = next.iter().zip(&pi).map(|(x, y)| (x / s - y).abs()).sum();
        pi = next.iter().map(|x| x / s).collect();
        if delta < 1e-13 {
            break;
        }
    }
    let (mut area, mut length) = (0.0, 0.0);
    for (q, p) in pi.iter().enumerate() {
        let dn = d(q.clamp(1, b) as u32);
        area += p * (q.saturating_sub(b) as f64 * dn + lambda * dn * dn / 2.0);
        length += p * (dn + if q == 0 { 1.0 / lambda } else { 0.0 });
    }
    area / length / lambda
}

#[test]
fn bulk_wait_reduces_to_md1() {
    // b = 1 is M/D/1: Wq = rho D / (2 (1 - rho)).
    let (lambda, d) = (0.8, 1.0);
    let w = bulk_wait(lambda, 1, |_| d);
    assert!((w - 0.8 / (2.0 * 0.2)).abs() < 1e-9, "{w}");
}

const BATCHER: &str = r#"
name = "batcher"
duration = "400000s"
warmup = "2000s"
sample = "10000s"
seed = 5

[traffic.audio]
rate = RATE
to = "stt"

[components.stt]
kind = "batch"
instances = 1
max_batch = 4
max_queue_delay = "0s"
base = "BASE"
per_item = "PER"
"#;

#[test]
fn dynamic_batcher_is_the_bulk_service_queue() {
    // Constant batch time 1 s, up to 4 per batch, load 3 per second
    // (75% of the top rate): the Bailey bulk queue.
    for (rate, base, per) in [(3.0, 1.0, 0.0), (2.0, 0.4, 0.25)] {
        let text = BATCHER
            .replace("RATE", &rate.to_string())
            .replace("BASE", &format!("{base}s"))
            .replace("PER", &format!("{per}s"));
        let r = run_text(&text, 0);
        let rows = windows(&r, "stt", 2000.0, 10000.0);
        // Response = wait + the batch's time, whose law depends on the
        // batch size: compare the wait, read as response - own batch time,
        // through the queue's own Little's law: mean queue length / rate.
        let lq = col(&rows, |w| w.queue_len);
        let theory = bulk_wait(rate, 4, |n| base + per * n as f64);
        check_mean(
            &format!("batcher rate {rate} base {base} per {per}: mean wait x rate"),
            &lq,
            theory * rate,
            0.05,
        );
    }
}

const STATIC_LLM: &str = r#"
name = "static-llm"
duration = "400000s"
warmup = "2000s"
sample = "10000s"
seed = 9

[traffic.chat]
rate = 0.5
to = "llm"
prompt_tokens = 200
output_tokens = 20

[components.llm]
kind = "llm"
replicas = 1
gpu = "H100-SXM"
model = "Llama-3-8B"
scheduler = "static"
max_batch = 8
max_wait = "0s"
step_time = "250ms"
"#;

#[test]
fn static_llm_batching_with_constant_steps_is_the_bulk_queue() {
    // 20 output tokens at 250 ms per step: every batch takes D = 5 s
    // whatever its size; up to 8 per batch; 0.5 requests/s (rho = 0.31
    // of the top rate). TTFT = wait + one step.
    let r = run_text(STATIC_LLM, 0);
    let rows = windows(&r, "llm", 2000.0, 10000.0);
    let theory = bulk_wait(0.5, 8, |_| 5.0);
    let resp = col(&rows, |w| Some(w.mean_s));
    check_mean("static LLM: mean end-to-end", &resp, theory + 5.0, 0.02);
    // Every request's first token comes one step after its batch starts
    // and its last 19 steps later: TTFT = end-to-end - 4.75 s exactly (to
    // the histograms' 1% resolution).
    let c = &r.report.components[0];
    let v = c.serving.as_ref().unwrap();
    let e2e = c.mean_response_s;
    println!(
        "static LLM: TTFT mean {:.4} s, end-to-end {e2e:.4} s",
        v.ttft.mean_s()
    );
    assert!((v.ttft.mean_s() - (e2e - 4.75)).abs() < 0.01 * e2e);
}
