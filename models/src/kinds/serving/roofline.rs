//! The time of one engine step (one forward pass of a batch) of a
//! transformer on GPUs, from a roofline model, and the KV-cache memory a
//! replica has left once the weights are loaded.
//!
//! Follows `shared/reference/llm-serving.md` §1.2-1.3. A step serves `D`
//! decodes (one token each, contexts `k_i`) and prefill chunks `(c_j, k_j)`
//! (chunk length, tokens cached before it); `T = D + sum c_j` tokens.
//!
//! ```text
//! t_mem   = layer + LM-head weight bytes per GPU / (MBU x bandwidth)
//! t_comp  = 2 x (layer params x T + head params x S) / tp / (MFU x FLOPS)
//! t_lin   = sqrt(t_mem^2 + t_comp^2)              smooth roofline (§1.6)
//! t_kv    = (sum k_i + D) x KV bytes per token / min(tp, KV heads) / (MBU x bandwidth)
//! t_attn  = sum_j 4 x L x H x head_dim x c_j (k_j + c_j / 2) / tp / (MFU x FLOPS)
//! t_tp    = 2 x L x (alpha + 2 (tp - 1) / tp x T x hidden x 2 B / link)   (tp > 1)
//! t_step  = t_lin + t_kv + t_attn + t_tp + c0
//! ```
//!
//! `S` is the number of sequences that sample a token in the step (the LM
//! head runs on their last position only). For a mixture of experts the
//! compute counts the active experts only, and the weights streamed are
//! attention, LM head and the experts the step's tokens touch: E (1 - (1 -
//! k/E)^T) of E experts per layer, with k experts per token (§1.1). The efficiencies are
//! parameters: MBU (fraction of memory bandwidth reached), MFU per dtype
//! (fraction of dense peak FLOPS; FP8 reaches a lower fraction than BF16,
//! trap 2 of the reference), the all-reduce latency alpha and a fixed
//! per-step overhead c0 (scheduling, sampling, kernel launches).

use crate::kinds::serving::gpu::{Dtype, GpuSpec, ModelSpec};
use crate::units::Duration;
use serde::Deserialize;

/// Calibration of the roofline (`efficiency = { ... }` on an LLM component).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Efficiency {
    /// Fraction of memory bandwidth reached (default 0.70: batch-1 decode
    /// of Llama-2-7B measured 0.69 on A100 and H100 in Vidur's profiles).
    #[serde(default = "default_mbu")]
    pub mbu: f64,
    /// Fraction of dense BF16/FP16 peak reached by large GEMMs (default
    /// 0.65: 2048-token steps measured 0.64 on A100, 0.66 on H100).
    #[serde(default = "default_mfu_bf16")]
    pub mfu_bf16: f64,
    /// Fraction of dense FP8 peak reached (default 0.40: TensorRT-LLM's
    /// FP8 prefill on H100).
    #[serde(default = "default_mfu_fp8")]
    pub mfu_fp8: f64,
    /// Fixed time per step: scheduling, sampling, launches (default 0.5 ms).
    #[serde(default = "default_overhead")]
    pub step_overhead: Duration,
    /// Latency of one tensor-parallel all-reduce (default 15 us, NVLink).
    #[serde(default = "default_alpha")]
    pub allreduce_latency: Duration,
}

fn default_mbu() -> f64 {
    0.70
}
fn default_mfu_bf16() -> f64 {
    0.65
}
fn default_mfu_fp8() -> f64 {
    0.40
}
fn default_overhead() -> Duration {
    Duration(0.0005)
}
fn default_alpha() -> Duration {
    Duration(15e-6)
}

impl Default for Efficiency {
    fn default() -> Self {
        Efficiency {
            mbu: default_mbu(),
            mfu_bf16: default_mfu_bf16(),
            mfu_fp8: default_mfu_fp8(),
            step_overhead: default_overhead(),
            allreduce_latency: default_alpha(),
        }
    }
}

impl Efficiency {
    /// Checks the fractions and times; `Err((field, message))`.
    pub fn check(&self) -> Result<(), (String, String)> {
        for (f, v) in [
            ("mbu", self.mbu),
            ("mfu_bf16", self.mfu_bf16),
            ("mfu_fp8", self.mfu_fp8),
        ] {
            if !(v > 0.0 && v <= 1.0) {
                return Err((f.into(), format!("expected a fraction in (0, 1], got {v}")));
            }
        }
        for (f, d) in [
            ("step_overhead", self.step_overhead),
            ("allreduce_latency", self.allreduce_latency),
        ] {
            if !(d.secs() >= 0.0 && d.secs().is_finite()) {
                return Err((f.into(), format!("expected a time >= 0, got {}", d.secs())));
            }
        }
        Ok(())
    }
}

/// What one step computes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StepShape {
    /// Tokens computed: decodes plus prefill chunk tokens.
    pub tokens: u64,
    /// Sequences that sample a token (decodes, and prefills whose last
    /// chunk this is).
    pub sampled: u64,
    /// Cached tokens the decodes attend to, sum over decodes of (k_i + 1).
    pub decode_ctx: u64,
    /// Sum over prefill chunks of c_j x (k_j + c_j / 2).
    pub prefill_attn: f64,
}

impl StepShape {
    /// Adds a prefill chunk of `c` tokens after `k` cached ones.
    pub fn add_chunk(&mut self, c: u64, k: u64, samples: bool) {
        self.tokens += c;
        self.sampled += samples as u64;
        self.prefill_attn += c as f64 * (k as f64 + c as f64 / 2.0);
    }
}

/// The step-time model of one replica: a model on `tp` GPUs.
#[derive(Clone, Debug, PartialEq)]
pub struct Roofline {
    /// Seconds to stream the weights once (mixture of experts: the
    /// attention and LM head only; the experts come with `t_expert`).
    t_weights: f64,
    /// Mixture of experts: seconds to stream one expert of every layer, and
    /// the model (for the experts a step reads); 0 for dense models.
    t_expert: f64,
    moe: Option<ModelSpec>,
    /// Seconds of linear-layer compute per token.
    per_token: f64,
    /// Seconds of LM-head compute per sampled sequence.
    per_sample: f64,
    /// Seconds to read one cached token's KV.
    per_kv_token: f64,
    /// Seconds of prefill attention per unit of c (k + c/2).
    per_attn: f64,
    /// Tensor-parallel latency per step.
    tp_fixed: f64,
    /// Tensor-parallel transfer per token.
    tp_per_token: f64,
    /// Fixed overhead per step.
    overhead: f64,
}

impl Roofline {
    /// The model of `model` with weights in `weights` and KV in `kv`,
    /// split over `tp` GPUs of type `gpu`.
    pub fn new(
        model: &ModelSpec,
        gpu: &GpuSpec,
        tp: u32,
        weights: Dtype,
        kv: Dtype,
        eff: &Efficiency,
    ) -> Roofline {
        let tpf = tp as f64;
        let bw = gpu.bandwidth_gbs * 1e9 * eff.mbu;
        let (flops, mfu) = match (weights, gpu.fp8_tflops) {
            (Dtype::Fp8, Some(f8)) => (f8, eff.mfu_fp8),
            _ => (gpu.bf16_tflops, eff.mfu_bf16),
        };
        let flops = flops * 1e12 * mfu;
        let (l, h, hd, d) = (
            model.layers as f64,
            model.heads as f64,
            model.head_dim as f64,
            model.hidden as f64,
        );
        let dense = model.experts <= 1;
        let streamed = if dense {
            model.layer_params() + model.head_params()
        } else {
            model.attention_params() + model.head_params()
        } * weights.bytes();
        let (tp_fixed, tp_per_token) = if tp > 1 {
            (
                2.0 * l * eff.allreduce_latency.secs(),
                2.0 * l * 2.0 * (tpf - 1.0) / tpf * d * 2.0 / (gpu.link_gbs * 1e9),
            )
        } else {
            (0.0, 0.0)
        };
        Roofline {
            t_weights: streamed / tpf / bw,
            t_expert: if dense {
                0.0
            } else {
                model.expert_params() * weights.bytes() / tpf / bw
            },
            moe: (!dense).then(|| model.clone()),
            per_token: 2.0 * model.active_layer_params() / tpf / flops,
            per_sample: 2.0 * model.head_params() / tpf / flops,
            per_kv_token: model.kv_bytes_per_token(kv) / kv_split(model, tp) / bw,
            per_attn: 4.0 * l * h * hd / tpf / flops,
            tp_fixed,
            tp_per_token,
            overhead: eff.step_overhead.secs(),
        }
    }

    /// Seconds one step of this shape takes (0 for an empty step).
    #[inline]
    pub fn step_s(&self, s: &StepShape) -> f64 {
        if s.tokens == 0 {
            return 0.0;
        }
        let comp = self.per_token * s.tokens as f64 + self.per_sample * s.sampled as f64;
        let mem = match &self.moe {
            None => self.t_weights,
            Some(m) => self.t_weights + self.t_expert * m.experts_read(s.tokens as f64),
        };
        mem.hypot(comp)
            + self.per_kv_token * s.decode_ctx as f64
            + self.per_attn * s.prefill_attn
            + self.tp_fixed
            + self.tp_per_token * s.tokens as f64
            + self.overhead
    }

    /// Seconds to stream the weights a one-token step reads (the floor of
    /// any step).
    pub fn weights_s(&self) -> f64 {
        match &self.moe {
            None => self.t_weights,
            Some(m) => self.t_weights + self.t_expert * m.experts_read(1.0),
        }
    }
}

/// Over how many GPUs the KV cache is split: KV heads are divided among
/// `tp` GPUs, and copied when there are more GPUs than KV heads (each
/// GPU then holds whole heads).
fn kv_split(model: &ModelSpec, tp: u32) -> f64 {
    tp.min(model.kv_heads) as f64
}

/// The memory plan of one replica (per GPU; `tp` GPUs hold one replica).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MemoryPlan {
    /// Weight bytes per GPU.
    pub weights_bytes: f64,
    /// Bytes held back for activations, CUDA context and graphs.
    pub reserve_bytes: f64,
    /// KV bytes per token per GPU.
    pub kv_bytes_per_token: f64,
    /// KV-cache bytes per GPU.
    pub kv_bytes: f64,
    /// Blocks of `block_size` tokens in the replica's KV cache.
    pub blocks: u64,
}

/// Default fixed memory held back besides activations, GiB: CUDA context,
/// NCCL buffers, CUDA graphs. Fitted to vLLM's measured pool of 41,408
/// tokens for Llama-3.1-8B on a 24 GiB GPU at utilization 0.9 (reference
/// V8), which leaves 1.58 GiB besides weights and KV.
pub const RESERVE_GIB: f64 = 1.4;

/// Activation bytes per token of the largest step vLLM profiles: the
/// hidden state twice and the gated MLP's intermediate three times, in
/// 16 bits.
pub fn activation_bytes_per_token(model: &ModelSpec, tp: u32) -> f64 {
    (2.0 * model.hidden as f64 + 3.0 * model.ffn as f64 / tp as f64) * 2.0
}

/// The KV pool: memory x utilization - weights - reserve, in blocks.
/// `reserve_gib` None: [`RESERVE_GIB`] plus the activations of a
/// `max_tokens`-token step.
#[allow(clippy::too_many_arguments)]
pub fn memory_plan(
    model: &ModelSpec,
    gpu: &GpuSpec,
    tp: u32,
    weights: Dtype,
    kv: Dtype,
    utilization: f64,
    reserve_gib: Option<f64>,
    max_tokens: u64,
    block_size: u32,
) -> MemoryPlan {
    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
    let weights_bytes = model.total_params() * weights.bytes() / tp as f64;
    let reserve_bytes = match reserve_gib {
        Some(r) => r * GIB,
        None => RESERVE_GIB * GIB + activation_bytes_per_token(model, tp) * max_tokens as f64,
    };
    let kv_bytes_per_token = model.kv_bytes_per_token(kv) / kv_split(model, tp);
    let kv_bytes = (gpu.memory_gib * GIB * utilization - weights_bytes - reserve_bytes).max(0.0);
    MemoryPlan {
        weights_bytes,
        reserve_bytes,
        kv_bytes_per_token,
        kv_bytes,
        blocks: (kv_bytes / (kv_bytes_per_token * block_size as f64)).floor() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::serving::gpu::{resolve_gpu, resolve_model, GpuOverride, ModelOverride};

    fn setup(model: &str, gpu: &str) -> (ModelSpec, GpuSpec) {
        (
            resolve_model(model, &ModelOverride::default()).unwrap(),
            resolve_gpu(gpu, &GpuOverride::default()).unwrap(),
        )
    }

    #[test]
    fn small_steps_are_memory_bound_large_ones_compute_bound() {
        let (m, g) = setup("Llama-3-8B", "H100-SXM");
        let r = Roofline::new(&m, &g, 1, Dtype::Bf16, Dtype::Bf16, &Efficiency::default());
        let one = StepShape {
            tokens: 1,
            sampled: 1,
            ..Default::default()
        };
        let t1 = r.step_s(&one);
        // Batch 1 decode: the weights streamed once, plus the overhead.
        assert!((t1 - r.weights_s() - 0.0005).abs() / t1 < 0.01, "{t1}");
        let mut big = StepShape::default();
        big.add_chunk(8192, 0, true);
        let mut big2 = StepShape::default();
        big2.add_chunk(16384, 0, true);
        // Far past the ridge, doubling tokens nearly doubles the time.
        let ratio = r.step_s(&big2) / r.step_s(&big);
        assert!(ratio > 1.9 && ratio < 2.3, "{ratio}");
        assert_eq!(r.step_s(&StepShape::default()), 0.0);
    }

    #[test]
    fn mixture_of_experts_reads_the_experts_it_routes_to() {
        let (m, g) = setup("Mixtral-8x7B", "H100-SXM");
        let eff = Efficiency {
            step_overhead: Duration(0.0),
            ..Efficiency::default()
        };
        // One GPU (no all-reduce) to isolate the weights and FLOPs.
        let r = Roofline::new(&m, &g, 1, Dtype::Bf16, Dtype::Bf16, &eff);
        let step = |t: u64| {
            r.step_s(&StepShape {
                tokens: t,
                sampled: t,
                ..Default::default()
            })
        };
        // One token reads attention, the LM head and 2 of 8 experts: the
        // bytes of a 12.9 B model; many tokens read all 46.7 B.
        let bw = 3350e9 * 0.70;
        let one = (m.attention_params() + 2.0 * m.expert_params() + m.head_params()) * 2.0 / bw;
        assert!((r.weights_s() - one).abs() < 1e-12);
        assert!((step(1) / one - 1.0).abs() < 0.01, "{} vs {one}", step(1));
        let all = (m.layer_params() + m.head_params()) * 2.0 / bw;
        assert!(step(64) > 0.95 * all, "{} vs {all}", step(64));
        // Compute counts active experts only: far past the ridge, a step
        // costs what a 12.9 B dense model's would.
        let big = step(16384);
        let active = 2.0 * (m.active_layer_params() + m.head_params()) * 16384.0 / (989e12 * 0.65);
        assert!((big / active - 1.0).abs() < 0.05, "{big} vs {active}");
    }

    #[test]
    fn kv_heads_are_copied_past_tp_equal_kv_heads() {
        // Llama-3-70B has 8 KV heads: at tp 16 each GPU holds one whole
        // head (copied on two GPUs), as at tp 8.
        let (m, g) = setup("Llama-3-70B", "H100-SXM");
        let per_gpu = |tp| {
            memory_plan(&m, &g, tp, Dtype::Bf16, Dtype::Bf16, 0.9, None, 8192, 16)
                .kv_bytes_per_token
        };
        assert_eq!(per_gpu(4), 327680.0 / 4.0);
        assert_eq!(per_gpu(8), 40960.0);
        assert_eq!(per_gpu(16), 40960.0);
    }

    #[test]
    fn capacity_of_70b_fp8_on_two_h100() {
        // Reference §2: (2 x 80 x 0.9 - 70.6) GB / 160 KiB per token
        // = about 448 k tokens, with no reserve.
        let (m, mut g) = setup("Llama-3-70B", "H100-SXM");
        g.memory_gib = 80e9 / (1024.0 * 1024.0 * 1024.0);
        let p = memory_plan(&m, &g, 2, Dtype::Fp8, Dtype::Fp8, 0.9, Some(0.0), 0, 16);
        let tokens = (p.blocks * 16) as f64;
        assert!((tokens - 448e3).abs() / 448e3 < 0.01, "{tokens}");
    }
}
