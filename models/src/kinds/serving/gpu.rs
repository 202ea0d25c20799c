//! Hardware and model catalogs for GPU inference: accelerators (memory,
//! bandwidth, dense tensor FLOPS, interconnect, price) and transformer
//! models (layers, widths, attention heads, vocabulary), plus what follows
//! from them by arithmetic alone: parameter counts, weight bytes and the
//! KV-cache bytes per token.
//!
//! GPU figures are NVIDIA datasheet values with the 2:4-sparsity numbers
//! halved to dense ones (datasheets print the sparse figure; see
//! `shared/reference/llm-serving.md` §4, trap 1); memory is what the driver
//! reports (`nvidia-smi` MiB / 1024). Prices are per GPU-hour, derived from
//! the AWS on-demand price of the instance that carries the GPU (us-east-1,
//! Linux); override them on the component (`price_per_hour`, per replica)
//! or with `gpu_spec = { price_per_hour = ... }`.
//!
//! Model shapes are those of the models' published `config.json` files.
//! Parameters follow the reference's §1.1: per layer the Q, K, V and O
//! projections plus a gated MLP (3 x hidden x ffn), and the embedding and
//! LM head (untied unless `tied`). A mixture-of-experts model has
//! `experts` such MLPs per layer and routes each token to
//! `active_experts` of them: every expert is stored, only the active ones
//! compute (§1.1).

use serde::Deserialize;

/// Numeric precision of weights or of the KV cache.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    /// bfloat16, 2 bytes.
    #[default]
    Bf16,
    /// float16, 2 bytes (same tensor-core rate as bf16).
    Fp16,
    /// 8-bit floating point, 1 byte (FP8 tensor cores where the GPU has
    /// them; weight-only W8A16 otherwise).
    Fp8,
    /// 4-bit integer weights, half a byte (weight-only: computes at 16 bits).
    Int4,
}

impl Dtype {
    /// Bytes per element.
    pub fn bytes(self) -> f64 {
        match self {
            Dtype::Bf16 | Dtype::Fp16 => 2.0,
            Dtype::Fp8 => 1.0,
            Dtype::Int4 => 0.5,
        }
    }

    /// Its name as written in scenarios.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::Bf16 => "bf16",
            Dtype::Fp16 => "fp16",
            Dtype::Fp8 => "fp8",
            Dtype::Int4 => "int4",
        }
    }
}

/// One accelerator.
#[derive(Clone, Debug, PartialEq)]
pub struct GpuSpec {
    /// Catalog name, e.g. `H100-SXM`.
    pub name: String,
    /// Device memory, GiB.
    pub memory_gib: f64,
    /// Memory bandwidth, GB/s (10^9 bytes per second).
    pub bandwidth_gbs: f64,
    /// Dense BF16/FP16 tensor throughput, TFLOPS.
    pub bf16_tflops: f64,
    /// Dense FP8 tensor throughput, TFLOPS (None: no FP8 tensor cores).
    pub fp8_tflops: Option<f64>,
    /// GPU-to-GPU bandwidth per direction (NVLink, or PCIe), GB/s.
    pub link_gbs: f64,
    /// USD per GPU-hour.
    pub price_per_hour: f64,
}

/// `gpu_spec = { ... }` on an LLM component: fields that replace those of
/// the catalog entry named by `gpu` (or, for a name not in the catalog,
/// the whole specification).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GpuOverride {
    /// Device memory, GiB.
    pub memory_gib: Option<f64>,
    /// Memory bandwidth, GB/s.
    pub bandwidth_gbs: Option<f64>,
    /// Dense BF16 TFLOPS.
    pub bf16_tflops: Option<f64>,
    /// Dense FP8 TFLOPS.
    pub fp8_tflops: Option<f64>,
    /// Interconnect bandwidth per direction, GB/s.
    pub link_gbs: Option<f64>,
    /// USD per GPU-hour.
    pub price_per_hour: Option<f64>,
}

#[allow(clippy::too_many_arguments)]
fn gpu(
    name: &str,
    memory_gib: f64,
    bandwidth_gbs: f64,
    bf16_tflops: f64,
    fp8_tflops: Option<f64>,
    link_gbs: f64,
    price_per_hour: f64,
) -> GpuSpec {
    GpuSpec {
        name: name.into(),
        memory_gib,
        bandwidth_gbs,
        bf16_tflops,
        fp8_tflops,
        link_gbs,
        price_per_hour,
    }
}

/// The GPU catalog.
///
/// | GPU | memory | bandwidth | bf16 / fp8 dense | link | $/GPU-h (AWS instance) |
/// |---|---|---|---|---|---|
/// | A100-80GB (SXM) | 80 GiB | 2,039 GB/s | 312 / — | NVLink 3, 300 GB/s | 3.431 (p4de.24xlarge / 8) |
/// | A100-40GB (SXM) | 40 GiB | 1,555 GB/s | 312 / — | 300 GB/s | 2.745 (p4d.24xlarge / 8) |
/// | H100-SXM | 79.6 GiB | 3,350 GB/s | 989 / 1,979 | NVLink 4, 450 GB/s | 6.88 (p5.48xlarge / 8) |
/// | H200 (SXM) | 140.4 GiB | 4,800 GB/s | 989 / 1,979 | 450 GB/s | 7.912 (p5en.48xlarge / 8) |
/// | L4 | 22.5 GiB | 300 GB/s | 121 / 242 | PCIe 4, 32 GB/s | 0.805 (g6.xlarge) |
/// | A10G | 22.5 GiB | 600 GB/s | 70 / — | PCIe 4, 32 GB/s | 1.006 (g5.xlarge) |
///
/// P4/P5 prices are those after AWS's June 2025 cut (p5.48xlarge 98.32 ->
/// 55.04 USD/h). The A10G's dense BF16 figure (70 TFLOPS) is the one
/// cloud vendors quote for AWS's variant; the A10's datasheet says 125.
pub fn gpu_catalog() -> Vec<GpuSpec> {
    vec![
        gpu("A100-80GB", 80.0, 2039.0, 312.0, None, 300.0, 3.431),
        gpu("A100-40GB", 40.0, 1555.0, 312.0, None, 300.0, 2.745),
        gpu("H100-SXM", 79.6, 3350.0, 989.0, Some(1979.0), 450.0, 6.88),
        gpu("H200", 140.4, 4800.0, 989.0, Some(1979.0), 450.0, 7.912),
        gpu("L4", 22.5, 300.0, 121.0, Some(242.0), 32.0, 0.805),
        gpu("A10G", 22.5, 600.0, 70.0, None, 32.0, 1.006),
    ]
}

/// A transformer model's shape.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSpec {
    /// Catalog name, e.g. `Llama-3-8B`.
    pub name: String,
    /// Decoder layers.
    pub layers: u32,
    /// Hidden size.
    pub hidden: u32,
    /// Query heads.
    pub heads: u32,
    /// Key/value heads (grouped-query attention: fewer than `heads`).
    pub kv_heads: u32,
    /// Width of one attention head (read from the config, not derived).
    pub head_dim: u32,
    /// MLP intermediate size.
    pub ffn: u32,
    /// Vocabulary size.
    pub vocab: u32,
    /// The LM head shares the embedding's weights.
    pub tied: bool,
    /// Longest context the model accepts, tokens.
    pub max_context: u32,
    /// MLP experts per layer (1: a dense model).
    pub experts: u32,
    /// Experts each token is routed to.
    pub active_experts: u32,
}

/// `model_spec = { ... }` on an LLM component: fields that replace those of
/// the catalog entry named by `model` (or, for a name not in the catalog,
/// the whole shape).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelOverride {
    /// Decoder layers.
    pub layers: Option<u32>,
    /// Hidden size.
    pub hidden: Option<u32>,
    /// Query heads.
    pub heads: Option<u32>,
    /// Key/value heads.
    pub kv_heads: Option<u32>,
    /// Head width.
    pub head_dim: Option<u32>,
    /// MLP intermediate size.
    pub ffn: Option<u32>,
    /// Vocabulary size.
    pub vocab: Option<u32>,
    /// Tied embedding and LM head.
    pub tied: Option<bool>,
    /// Longest context, tokens.
    pub max_context: Option<u32>,
    /// MLP experts per layer (mixture of experts).
    pub experts: Option<u32>,
    /// Experts each token is routed to.
    pub active_experts: Option<u32>,
}

#[allow(clippy::too_many_arguments)]
fn model(
    name: &str,
    layers: u32,
    hidden: u32,
    heads: u32,
    kv_heads: u32,
    ffn: u32,
    vocab: u32,
    max_context: u32,
) -> ModelSpec {
    ModelSpec {
        name: name.into(),
        layers,
        hidden,
        heads,
        kv_heads,
        head_dim: 128,
        ffn,
        vocab,
        tied: false,
        max_context,
        experts: 1,
        active_experts: 1,
    }
}

/// The model catalog (shapes from each model's `config.json` on its
/// publisher's model card; all use 128-wide heads and a gated MLP).
pub fn model_catalog() -> Vec<ModelSpec> {
    vec![
        model("Llama-2-7B", 32, 4096, 32, 32, 11008, 32000, 4096),
        model("Llama-2-13B", 40, 5120, 40, 40, 13824, 32000, 4096),
        model("Llama-2-70B", 80, 8192, 64, 8, 28672, 32000, 4096),
        model("Llama-3-8B", 32, 4096, 32, 8, 14336, 128256, 8192),
        model("Llama-3.1-8B", 32, 4096, 32, 8, 14336, 128256, 131072),
        model("Llama-3-70B", 80, 8192, 64, 8, 28672, 128256, 8192),
        model("Llama-3.1-70B", 80, 8192, 64, 8, 28672, 128256, 131072),
        model("Mistral-7B", 32, 4096, 32, 8, 14336, 32000, 32768),
        ModelSpec {
            experts: 8,
            active_experts: 2,
            ..model("Mixtral-8x7B", 32, 4096, 32, 8, 14336, 32000, 32768)
        },
    ]
}

/// Looks a GPU up by name (case-insensitive) and applies an override; an
/// unknown name needs every field in the override.
pub fn resolve_gpu(name: &str, o: &GpuOverride) -> Result<GpuSpec, String> {
    let base = gpu_catalog()
        .into_iter()
        .find(|g| g.name.eq_ignore_ascii_case(name));
    let mut g = match base {
        Some(g) => g,
        None => {
            let complete = o.memory_gib.is_some()
                && o.bandwidth_gbs.is_some()
                && o.bf16_tflops.is_some()
                && o.price_per_hour.is_some();
            if !complete {
                let known: Vec<String> = gpu_catalog().into_iter().map(|g| g.name).collect();
                return Err(format!(
                    "unknown GPU {name:?}; the catalog has {}; or describe it with gpu_spec = {{ memory_gib, bandwidth_gbs, bf16_tflops, price_per_hour }}",
                    known.join(", ")
                ));
            }
            gpu(name, 0.0, 0.0, 0.0, None, 32.0, 0.0)
        }
    };
    if let Some(v) = o.memory_gib {
        g.memory_gib = v;
    }
    if let Some(v) = o.bandwidth_gbs {
        g.bandwidth_gbs = v;
    }
    if let Some(v) = o.bf16_tflops {
        g.bf16_tflops = v;
    }
    if o.fp8_tflops.is_some() {
        g.fp8_tflops = o.fp8_tflops;
    }
    if let Some(v) = o.link_gbs {
        g.link_gbs = v;
    }
    if let Some(v) = o.price_per_hour {
        g.price_per_hour = v;
    }
    let positive = [
        ("memory_gib", g.memory_gib),
        ("bandwidth_gbs", g.bandwidth_gbs),
        ("bf16_tflops", g.bf16_tflops),
        ("link_gbs", g.link_gbs),
        ("fp8_tflops", g.fp8_tflops.unwrap_or(1.0)),
    ];
    for (f, v) in positive {
        if !(v.is_finite() && v > 0.0) {
            return Err(format!("gpu_spec.{f} must be > 0, got {v}"));
        }
    }
    if !(g.price_per_hour.is_finite() && g.price_per_hour >= 0.0) {
        return Err(format!(
            "gpu_spec.price_per_hour must be >= 0, got {}",
            g.price_per_hour
        ));
    }
    Ok(g)
}

/// Looks a model up by name (case-insensitive) and applies an override; an
/// unknown name needs every shape field in the override.
pub fn resolve_model(name: &str, o: &ModelOverride) -> Result<ModelSpec, String> {
    let base = model_catalog()
        .into_iter()
        .find(|m| m.name.eq_ignore_ascii_case(name));
    let mut m = match base {
        Some(m) => m,
        None => {
            let complete = o.layers.is_some()
                && o.hidden.is_some()
                && o.heads.is_some()
                && o.kv_heads.is_some()
                && o.head_dim.is_some()
                && o.ffn.is_some()
                && o.vocab.is_some();
            if !complete {
                let known: Vec<String> = model_catalog().into_iter().map(|m| m.name).collect();
                return Err(format!(
                    "unknown model {name:?}; the catalog has {}; or describe it with model_spec = {{ layers, hidden, heads, kv_heads, head_dim, ffn, vocab }}",
                    known.join(", ")
                ));
            }
            model(name, 0, 0, 0, 0, 0, 0, 131072)
        }
    };
    let set = |dst: &mut u32, v: Option<u32>| {
        if let Some(v) = v {
            *dst = v;
        }
    };
    set(&mut m.layers, o.layers);
    set(&mut m.hidden, o.hidden);
    set(&mut m.heads, o.heads);
    set(&mut m.kv_heads, o.kv_heads);
    set(&mut m.head_dim, o.head_dim);
    set(&mut m.ffn, o.ffn);
    set(&mut m.vocab, o.vocab);
    set(&mut m.max_context, o.max_context);
    set(&mut m.experts, o.experts);
    set(&mut m.active_experts, o.active_experts);
    if let Some(t) = o.tied {
        m.tied = t;
    }
    let fields = [
        ("layers", m.layers),
        ("hidden", m.hidden),
        ("heads", m.heads),
        ("kv_heads", m.kv_heads),
        ("head_dim", m.head_dim),
        ("ffn", m.ffn),
        ("vocab", m.vocab),
        ("max_context", m.max_context),
        ("experts", m.experts),
        ("active_experts", m.active_experts),
    ];
    for (f, v) in fields {
        if v == 0 {
            return Err(format!("model_spec.{f} must be at least 1"));
        }
    }
    if m.active_experts > m.experts {
        return Err(format!(
            "model_spec.active_experts: {} of {} experts per token is more than there are",
            m.active_experts, m.experts
        ));
    }
    if !m.heads.is_multiple_of(m.kv_heads) {
        return Err(format!(
            "model_spec.kv_heads: {} query heads cannot share {} KV heads evenly",
            m.heads, m.kv_heads
        ));
    }
    Ok(m)
}

impl ModelSpec {
    /// Attention parameters of all decoder layers (Q, K, V, O).
    pub fn attention_params(&self) -> f64 {
        let (d, h, kv, hd) = (
            self.hidden as f64,
            self.heads as f64,
            self.kv_heads as f64,
            self.head_dim as f64,
        );
        self.layers as f64 * (d * h * hd + 2.0 * d * kv * hd + h * hd * d)
    }

    /// Parameters of one expert's gated MLP over all layers (the MLP of a
    /// dense model).
    pub fn expert_params(&self) -> f64 {
        self.layers as f64 * 3.0 * self.hidden as f64 * self.ffn as f64
    }

    /// Parameters of the decoder layers (attention and every expert's
    /// MLP), without embedding and LM head.
    pub fn layer_params(&self) -> f64 {
        self.attention_params() + self.experts as f64 * self.expert_params()
    }

    /// Decoder-layer parameters one token computes with (attention and
    /// its active experts).
    pub fn active_layer_params(&self) -> f64 {
        self.attention_params() + self.active_experts as f64 * self.expert_params()
    }

    /// Expected distinct experts per layer that a step of `tokens` tokens
    /// reads, each token routed to `active_experts` of `experts` (routing
    /// taken as uniform and independent): E (1 - (1 - k/E)^T).
    pub fn experts_read(&self, tokens: f64) -> f64 {
        let (e, k) = (self.experts as f64, self.active_experts as f64);
        if self.experts <= 1 {
            return 1.0;
        }
        e * (1.0 - (1.0 - k / e).powf(tokens.max(1.0)))
    }

    /// Parameters of the LM head (hidden x vocab).
    pub fn head_params(&self) -> f64 {
        self.hidden as f64 * self.vocab as f64
    }

    /// All parameters stored: layers, embedding and (untied) LM head.
    pub fn total_params(&self) -> f64 {
        self.layer_params() + self.head_params() * if self.tied { 1.0 } else { 2.0 }
    }

    /// KV-cache bytes per token for the whole model:
    /// 2 (K and V) x layers x KV heads x head_dim x bytes.
    pub fn kv_bytes_per_token(&self, kv: Dtype) -> f64 {
        2.0 * self.layers as f64 * self.kv_heads as f64 * self.head_dim as f64 * kv.bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str) -> ModelSpec {
        resolve_model(name, &ModelOverride::default()).unwrap()
    }

    #[test]
    fn parameter_counts_match_the_published_sizes() {
        // Published sizes: Llama-2-7B 6.74 B, Llama-3-8B 8.03 B,
        // Llama-3-70B 70.6 B, Mistral-7B 7.24 B, Llama-2-70B 69.0 B.
        let mix = m("Mixtral-8x7B");
        // Published: 46.7 B stored, 12.9 B active per token.
        assert!((mix.total_params() / 1e9 - 46.7).abs() < 0.1);
        let active = mix.active_layer_params() + 2.0 * mix.head_params();
        assert!((active / 1e9 - 12.9).abs() < 0.1, "{active}");
        assert_eq!(mix.experts_read(1.0), 2.0);
        assert!((mix.experts_read(64.0) - 8.0).abs() < 1e-6);
        for (name, b) in [
            ("Llama-2-7B", 6.74),
            ("Llama-3-8B", 8.03),
            ("Llama-3-70B", 70.55),
            ("Mistral-7B", 7.24),
            ("Llama-2-70B", 68.98),
            ("Llama-2-13B", 13.02),
        ] {
            let p = m(name).total_params() / 1e9;
            assert!((p - b).abs() / b < 0.005, "{name}: {p:.3} B vs {b} B");
        }
    }

    #[test]
    fn kv_bytes_per_token_closed_form() {
        // 2 x layers x kv_heads x head_dim x bytes.
        assert_eq!(
            m("Llama-2-7B").kv_bytes_per_token(Dtype::Bf16),
            (2 * 32 * 32 * 128 * 2) as f64
        );
        assert_eq!(
            m("Llama-3-8B").kv_bytes_per_token(Dtype::Bf16),
            128.0 * 1024.0
        );
        assert_eq!(
            m("Llama-3-70B").kv_bytes_per_token(Dtype::Bf16),
            320.0 * 1024.0
        );
        assert_eq!(
            m("Llama-3-70B").kv_bytes_per_token(Dtype::Fp8),
            160.0 * 1024.0
        );
    }

    #[test]
    fn overrides_and_unknown_names() {
        let g = resolve_gpu(
            "h100-sxm",
            &GpuOverride {
                price_per_hour: Some(4.0),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(g.price_per_hour, 4.0);
        assert_eq!(g.bandwidth_gbs, 3350.0);
        let e = resolve_gpu("B200", &GpuOverride::default()).unwrap_err();
        assert!(e.contains("unknown GPU") && e.contains("H100-SXM"), "{e}");
        let e = resolve_model("GPT-5", &ModelOverride::default()).unwrap_err();
        assert!(e.contains("Llama-3-8B"), "{e}");
        let e = resolve_model(
            "Llama-3-8B",
            &ModelOverride {
                kv_heads: Some(5),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(e.contains("kv_heads"), "{e}");
    }
}
