//! `kind = "llm"` as configured: the model server's replicas, GPUs, model,
//! precisions, scheduler limits and fleet fields, and the plan resolved
//! from them (KV blocks from the memory plan, the step-time model, vLLM's
//! default limits). The replica engine that runs the plan is
//! [`super::replica`].

use crate::dist::DistConfig;
use crate::fleet::balance::Policy;
use crate::fleet::config::{fleet_config, fleet_pool};
use crate::fleet::pool::PoolConfig;
use crate::kinds::serving::gpu::{
    resolve_gpu, resolve_model, Dtype, GpuOverride, GpuSpec, ModelOverride, ModelSpec,
};
use crate::kinds::serving::roofline::{memory_plan, Efficiency, MemoryPlan, Roofline};
use crate::units::Duration;
use scalesim_sim::{from_secs, Time};
use serde::Deserialize;

/// How a replica forms its batches.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SchedulerKind {
    /// FasterTransformer / TensorRT-LLM static batching.
    Static,
    /// vLLM V0: prefill-only or decode-only steps, prefills first.
    Continuous,
    /// vLLM V1 / Sarathi-Serve: decodes plus prefill chunks in every step.
    #[default]
    Chunked,
}

impl SchedulerKind {
    /// Its name as written in scenarios.
    pub fn name(self) -> &'static str {
        match self {
            SchedulerKind::Static => "static",
            SchedulerKind::Continuous => "continuous",
            SchedulerKind::Chunked => "chunked",
        }
    }
}

fleet_config! {
    /// `[components.<name>]` with `kind = "llm"`.
    #[derive(Clone, Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    pub struct LlmConfig {
        /// Always "llm" (read by the scenario loader to pick this type).
        #[serde(default)]
        pub kind: Option<String>,
        /// Model-server replicas, each on `tensor_parallel` GPUs.
        pub replicas: u32,
        /// GPU type from the catalog (see [`crate::kinds::serving::gpu::gpu_catalog`]).
        pub gpu: String,
        /// Fields replacing the catalog's figures for `gpu`.
        #[serde(default)]
        pub gpu_spec: GpuOverride,
        /// GPUs per replica (tensor parallelism).
        #[serde(default = "one")]
        pub tensor_parallel: u32,
        /// Model from the catalog (see [`crate::kinds::serving::gpu::model_catalog`]).
        pub model: String,
        /// Fields replacing the catalog's shape for `model`.
        #[serde(default)]
        pub model_spec: ModelOverride,
        /// Weight precision (default bf16).
        #[serde(default)]
        pub dtype: Dtype,
        /// KV-cache precision (default bf16).
        #[serde(default)]
        pub kv_dtype: Dtype,
        /// Batch scheduler (default `chunked`).
        #[serde(default)]
        pub scheduler: SchedulerKind,
        /// Most running requests per replica (default: vLLM's, 1024 on GPUs of
        /// 70 GiB or more other than A100, else 256).
        #[serde(default)]
        pub max_num_seqs: Option<u32>,
        /// Token budget of one step (default: vLLM's, 8192 on GPUs of 70 GiB
        /// or more other than A100, else 2048; `continuous`: at least the
        /// longest context).
        #[serde(default)]
        pub max_num_batched_tokens: Option<u32>,
        /// Longest prompt + output accepted (default: the model's context).
        #[serde(default)]
        pub max_model_len: Option<u32>,
        /// `static`: most requests in a batch (default 16).
        #[serde(default)]
        pub max_batch: Option<u32>,
        /// `static`: longest wait of a batch's first request before the batch
        /// starts anyway (default 100 ms).
        #[serde(default)]
        pub max_wait: Option<Duration>,
        /// Tokens per KV block (default 16).
        #[serde(default = "default_block")]
        pub block_size: u32,
        /// Share of GPU memory the server may use (default 0.9).
        #[serde(default = "default_util")]
        pub gpu_memory_utilization: f64,
        /// Memory held back besides weights and KV, GiB per GPU (default:
        /// 1.4 GiB plus the activations of the largest step).
        #[serde(default)]
        pub memory_reserve_gib: Option<f64>,
        /// KV blocks per replica, given directly (wins over the memory plan).
        #[serde(default)]
        pub kv_blocks: Option<u64>,
        /// Roofline calibration.
        #[serde(default)]
        pub efficiency: Efficiency,
        /// Every step takes exactly this long (for validation against
        /// bulk-service queues); default: the roofline.
        #[serde(default)]
        pub step_time: Option<Duration>,
        /// Most requests waiting per replica; an arrival beyond is rejected
        /// (default: unbounded, as vLLM).
        #[serde(default)]
        pub queue_capacity: Option<u64>,
        /// How requests are spread over replicas (default `least_conn`).
        #[serde(default = "default_balance")]
        pub balance: Policy,
        @provision,
        /// Weight-loading bandwidth for the default cold start, GB/s
        /// (default 2).
        #[serde(default = "default_load")]
        pub load_gbs: f64,
        @monitor,
    }
}

fn one() -> u32 {
    1
}
fn default_block() -> u32 {
    16
}
fn default_util() -> f64 {
    0.9
}
fn default_balance() -> Policy {
    Policy::LeastConn
}
fn default_load() -> f64 {
    2.0
}

/// Longest context accepted (tokens).
pub const MAX_LEN: u32 = 1 << 24;
/// Most KV blocks per replica (keeps token arithmetic far from overflow).
pub const MAX_BLOCKS: u64 = 1 << 40;

/// Longest engine step, ns (one day).
pub(crate) const MAX_STEP: Time = 86_400 * 1_000_000_000;

/// Seconds to start a model server before its weights load.
pub const SERVER_START_S: f64 = 60.0;

/// Everything a replica needs, resolved from an [`LlmConfig`].
#[derive(Clone, Debug)]
pub struct LlmPlan {
    /// The GPU.
    pub gpu: GpuSpec,
    /// The model.
    pub model: ModelSpec,
    /// GPUs per replica.
    pub tp: u32,
    /// Step-time model.
    pub roofline: Roofline,
    /// Memory plan per GPU.
    pub memory: MemoryPlan,
    /// KV blocks per replica.
    pub blocks: u64,
    /// Tokens per block.
    pub block_size: u32,
    /// Scheduler.
    pub scheduler: SchedulerKind,
    /// Most running requests.
    pub max_seqs: u32,
    /// Token budget per step.
    pub max_tokens: u32,
    /// Longest prompt + output.
    pub max_len: u32,
    /// `static`: batch size and wait.
    pub max_batch: u32,
    /// `static`: longest wait of a batch's first request.
    pub max_wait: Time,
    /// Constant step time, if set.
    pub step_time: Option<Time>,
    /// Waiting room per replica.
    pub queue_capacity: Option<u64>,
}

impl LlmConfig {
    /// Resolves catalogs and defaults and checks the numbers;
    /// `Err((field, message))`.
    pub fn plan(&self) -> Result<LlmPlan, (String, String)> {
        let gpu = resolve_gpu(&self.gpu, &self.gpu_spec).map_err(|m| ("gpu".to_string(), m))?;
        let model =
            resolve_model(&self.model, &self.model_spec).map_err(|m| ("model".to_string(), m))?;
        if self.replicas == 0 {
            return Err(("replicas".into(), "expected at least 1 replica".into()));
        }
        if self.replicas > crate::fleet::pool::MAX_INSTANCES {
            return Err((
                "replicas".into(),
                format!(
                    "at most {} replicas (each is simulated)",
                    crate::fleet::pool::MAX_INSTANCES
                ),
            ));
        }
        let tp = self.tensor_parallel;
        if tp == 0 || tp > 64 {
            return Err((
                "tensor_parallel".into(),
                "expected 1 to 64 GPUs per replica".into(),
            ));
        }
        if !model.kv_heads.is_multiple_of(tp) && !tp.is_multiple_of(model.kv_heads) {
            return Err((
                "tensor_parallel".into(),
                format!("{} KV heads cannot be split over {tp} GPUs", model.kv_heads),
            ));
        }
        self.efficiency
            .check()
            .map_err(|(f, m)| (format!("efficiency.{f}"), m))?;
        if self.block_size == 0 || self.block_size > 1024 {
            return Err((
                "block_size".into(),
                "expected 1 to 1024 tokens per block".into(),
            ));
        }
        if !(self.gpu_memory_utilization > 0.0 && self.gpu_memory_utilization <= 1.0) {
            return Err((
                "gpu_memory_utilization".into(),
                format!(
                    "expected a fraction in (0, 1], got {}",
                    self.gpu_memory_utilization
                ),
            ));
        }
        let big = gpu.memory_gib >= 70.0 && !gpu.name.to_ascii_uppercase().starts_with("A100");
        let max_len = self.max_model_len.unwrap_or(model.max_context);
        if !(2..=MAX_LEN).contains(&max_len) {
            return Err((
                "max_model_len".into(),
                format!("expected 2 to {MAX_LEN} tokens, got {max_len}"),
            ));
        }
        let max_seqs = self.max_num_seqs.unwrap_or(if big { 1024 } else { 256 });
        let default_tokens = match self.scheduler {
            SchedulerKind::Continuous => max_len.max(2048),
            _ if big => 8192,
            _ => 2048,
        };
        let max_tokens = self.max_num_batched_tokens.unwrap_or(default_tokens);
        if max_seqs == 0 {
            return Err(("max_num_seqs".into(), "expected at least 1".into()));
        }
        if max_tokens < max_seqs && self.scheduler == SchedulerKind::Chunked {
            return Err((
                "max_num_batched_tokens".into(),
                format!(
                    "{max_tokens} tokens per step cannot hold the decodes of {max_seqs} sequences (max_num_seqs); raise it or lower max_num_seqs"
                ),
            ));
        }
        if self.scheduler == SchedulerKind::Continuous && max_tokens < max_len {
            return Err((
                "max_num_batched_tokens".into(),
                format!(
                    "continuous batching prefills whole prompts: {max_tokens} tokens per step must be at least max_model_len ({max_len}); lower max_model_len or use scheduler = \"chunked\""
                ),
            ));
        }
        let max_batch = self.max_batch.unwrap_or(16);
        if max_batch == 0 {
            return Err(("max_batch".into(), "expected at least 1".into()));
        }
        if self.scheduler != SchedulerKind::Static {
            let given = [
                ("max_batch", self.max_batch.is_some()),
                ("max_wait", self.max_wait.is_some()),
            ];
            if let Some((f, _)) = given.iter().find(|g| g.1) {
                return Err((
                    f.to_string(),
                    format!("{f} applies to scheduler = \"static\" only"),
                ));
            }
        }
        if let Some(r) = self.memory_reserve_gib {
            if !(r.is_finite() && r >= 0.0) {
                return Err((
                    "memory_reserve_gib".into(),
                    format!("expected GiB >= 0, got {r}"),
                ));
            }
        }
        if let Some(t) = self.step_time {
            if t.secs() <= 0.0 {
                return Err(("step_time".into(), "expected a time > 0".into()));
            }
        }
        if !(self.load_gbs.is_finite() && self.load_gbs > 0.0) {
            return Err(("load_gbs".into(), "expected GB/s > 0".into()));
        }
        if let Some(p) = &self.provision_time {
            p.check()
                .map_err(|(f, m)| (format!("provision_time.{f}"), m))?;
        }
        crate::fleet::pool::check_engine_balance(self.balance)?;
        let memory = memory_plan(
            &model,
            &gpu,
            tp,
            self.dtype,
            self.kv_dtype,
            self.gpu_memory_utilization,
            self.memory_reserve_gib,
            max_tokens as u64,
            self.block_size,
        );
        if self.kv_blocks.is_some_and(|b| b == 0 || b > MAX_BLOCKS) {
            return Err((
                "kv_blocks".into(),
                format!("expected 1 to {MAX_BLOCKS} blocks per replica"),
            ));
        }
        if let Some(w) = self.max_wait {
            if !(w.secs() >= 0.0 && w.secs().is_finite()) {
                return Err(("max_wait".into(), "expected a time >= 0".into()));
            }
        }
        let blocks = self.kv_blocks.unwrap_or(memory.blocks).min(MAX_BLOCKS);
        if blocks == 0 {
            let gib = |b: f64| b / (1024.0 * 1024.0 * 1024.0);
            return Err((
                "gpu".into(),
                format!(
                    "no memory left for the KV cache: {:.1} GiB x {} per GPU - {:.1} GiB of weights - {:.1} GiB reserved; use more GPUs (tensor_parallel), a smaller dtype or a bigger GPU",
                    gpu.memory_gib,
                    self.gpu_memory_utilization,
                    gib(memory.weights_bytes),
                    gib(memory.reserve_bytes)
                ),
            ));
        }
        // As vLLM refuses to start: a request of the longest accepted
        // length must fit in the KV cache (every token but the last).
        if blocks.saturating_mul(self.block_size as u64) < max_len as u64 - 1 {
            return Err((
                "max_model_len".into(),
                format!(
                    "a {max_len}-token request cannot fit in the KV cache of {} tokens per replica; lower max_model_len (default: the model's context), or give the cache more memory (gpu_memory_utilization, a bigger GPU, more tensor_parallel GPUs, fp8 KV)",
                    blocks * self.block_size as u64
                ),
            ));
        }
        let roofline = Roofline::new(
            &model,
            &gpu,
            tp,
            self.dtype,
            self.kv_dtype,
            &self.efficiency,
        );
        Ok(LlmPlan {
            tp,
            roofline,
            memory,
            blocks,
            block_size: self.block_size,
            scheduler: self.scheduler,
            max_seqs,
            max_tokens,
            max_len,
            max_batch,
            max_wait: self.max_wait.map(|d| d.time()).unwrap_or(from_secs(0.1)),
            step_time: self.step_time.map(|d| d.time().clamp(1, MAX_STEP)),
            queue_capacity: self.queue_capacity,
            gpu,
            model,
        })
    }

    /// USD per replica-hour before spot: `price_per_hour`, or the GPU's
    /// price x `tensor_parallel`.
    pub fn replica_price(&self) -> Option<f64> {
        self.price_per_hour.or_else(|| {
            resolve_gpu(&self.gpu, &self.gpu_spec)
                .ok()
                .map(|g| g.price_per_hour * self.tensor_parallel as f64)
        })
    }

    /// The replicas' lifecycle as a pool of one slot per replica (the
    /// slot is "stepping"): instances, cold start, balancing, metrics.
    pub fn pool(&self) -> PoolConfig {
        let boot = self.provision_time.clone().unwrap_or_else(|| {
            let weights = resolve_model(&self.model, &self.model_spec)
                .map(|m| m.total_params() * self.dtype.bytes())
                .unwrap_or(0.0);
            DistConfig::Const {
                value: Duration(SERVER_START_S + weights / (self.load_gbs * 1e9)),
            }
        });
        PoolConfig {
            price_per_hour: self.replica_price(),
            provision_time: Some(boot),
            ..fleet_pool!(self, PoolConfig::engine_slots(self.replicas, self.balance))
        }
    }
}

/// One Llama-3-8B replica on an H100 with `scheduler` and the YAML lines
/// `extra` (the unit tests' configuration).
#[cfg(test)]
pub(crate) fn test_config(scheduler: &str, extra: &str) -> LlmConfig {
    let text =
        format!("replicas: 1\ngpu: H100-SXM\nmodel: Llama-3-8B\nscheduler: {scheduler}\n{extra}");
    serde_yaml_ng::from_str(&text).unwrap()
}

#[cfg(test)]
mod tests {
    use super::test_config as cfg;
    use super::*;

    #[test]
    fn plans_follow_vllm_defaults_and_catch_bad_numbers() {
        let p = cfg("chunked", "").plan().unwrap();
        assert_eq!((p.max_tokens, p.max_seqs), (8192, 1024));
        let a =
            serde_yaml_ng::from_str::<LlmConfig>("replicas: 1\ngpu: A100-80GB\nmodel: Llama-3-8B")
                .unwrap()
                .plan()
                .unwrap();
        assert_eq!((a.max_tokens, a.max_seqs), (2048, 256));
        let e = cfg("chunked", "max_num_batched_tokens: 100")
            .plan()
            .unwrap_err();
        assert_eq!(e.0, "max_num_batched_tokens");
        let e = cfg("continuous", "max_num_batched_tokens: 4096")
            .plan()
            .unwrap_err();
        assert!(e.1.contains("whole prompts"), "{e:?}");
        let e = serde_yaml_ng::from_str::<LlmConfig>("replicas: 1\ngpu: L4\nmodel: Llama-3-70B")
            .unwrap()
            .plan()
            .unwrap_err();
        assert!(e.1.contains("no memory left"), "{e:?}");
    }
}
