//! The fleet fields every kind with instances shares (pools, LLM replicas,
//! batch servers), declared once: what an instance costs and how it is
//! provisioned and how it fails (`@provision`: `price_per_hour`, `spot`,
//! `provision_time`, `load_balancer`, `failures`, `zones`,
//! `health_check`),
//! and when it counts and what the autoscaler sees of it (`@monitor`:
//! `ready_delay`, `metric_period`, `metric_delay`, `custom_metrics`).
//!
//! `fleet_config!` writes a configuration struct with the groups put where
//! its markers stand. They are plain fields, not a flattened sub-struct:
//! `#[serde(flatten)]` does not combine with `deny_unknown_fields`, and the
//! order of declaration is the order serde lists the expected fields in.
//! `fleet_pool!` copies them into a [`crate::fleet::pool::PoolConfig`].

/// A configuration struct with the shared fleet fields in place of the
/// markers `@provision,` and `@monitor,` in its field list; every field
/// ends with a comma.
///
/// ```text
/// fleet_config! {
///     /// Docs.
///     #[derive(Clone, Debug, Deserialize, PartialEq)]
///     #[serde(deny_unknown_fields)]
///     pub struct XConfig {
///         /// Instances.
///         pub instances: u32,
///         @provision,
///         @monitor,
///     }
/// }
/// ```
macro_rules! fleet_config {
    (@munch $head:tt [$($done:tt)*] @provision, $($rest:tt)*) => {
        $crate::fleet::config::fleet_config!(@munch $head [$($done)*
            /// Price per instance-hour (replica-hour for `llm`), USD; wins over
            /// the default: the catalog's price for `instance_type`, for `llm`
            /// the GPU's x `tensor_parallel`.
            #[serde(default)]
            pub price_per_hour: Option<f64>,
            /// Share of instances (replicas) on spot, and its discount.
            #[serde(default)]
            pub spot: Option<$crate::fleet::cost::SpotConfig>,
            /// Time from requesting an instance to its boot (e.g. uniform 2-5
            /// min for VMs, 10-40 s for pods, minutes for loading a model;
            /// `llm` default: 60 s to start the server plus the weights read
            /// at `load_gbs`).
            #[serde(default)]
            pub provision_time: Option<$crate::dist::DistConfig>,
            /// An AWS load balancer in front of it (`"alb"`, `"nlb"` or a
            /// table with the bytes per request), billed per hour and per
            /// capacity unit.
            #[serde(default)]
            pub load_balancer: Option<$crate::fleet::bill::LoadBalancer>,
            /// Instance crashes: `{ mtbf = "30d" }` (replaced) or with a
            /// `repair` time (repaired in place); see
            /// [`crate::fleet::failure`].
            #[serde(default)]
            pub failures: Option<$crate::fleet::failure::FailureConfig>,
            /// Availability zones its instances spread over, e.g. `["a",
            /// "b", "c"]`: each new instance goes to the zone with the
            /// fewest (of those not down), as an EC2 Auto Scaling group
            /// balances its AZs; `[[outages]]` take a zone down.
            #[serde(default)]
            pub zones: Vec<String>,
            /// Active health checks by the balancer in front:
            /// `{ interval = "5s", timeout = "4s", rise = 2, fall = 3 }`
            /// (see [`crate::fleet::health`]).
            #[serde(default)]
            pub health_check: Option<$crate::fleet::health::HealthCheckConfig>,
        ] $($rest)*);
    };
    (@munch $head:tt [$($done:tt)*] @monitor, $($rest:tt)*) => {
        $crate::fleet::config::fleet_config!(@munch $head [$($done)*
            /// Health-check grace after boot (after the model is loaded): the
            /// instance is up but takes no work and is not in the metrics.
            #[serde(default)]
            pub ready_delay: $crate::units::Duration,
            /// The autoscaler's metric window (default: its evaluation period).
            #[serde(default)]
            pub metric_period: Option<$crate::units::Duration>,
            /// Delay before a metric window is visible to the autoscaler.
            #[serde(default)]
            pub metric_delay: $crate::units::Duration,
            /// Custom ratio metrics published to the autoscaler:
            /// `[{ name = "queue_per_rps", ratio = ["queue_total", "rps"] }]`;
            /// `"ready"` names the ready instance count.
            #[serde(default)]
            pub custom_metrics: Vec<$crate::fleet::pool::CustomMetric>,
        ] $($rest)*);
    };
    (@munch $head:tt [$($done:tt)*]
        $(#[$fmeta:meta])* $fvis:vis $field:ident : $ty:ty, $($rest:tt)*) => {
        $crate::fleet::config::fleet_config!(@munch $head [$($done)*
            $(#[$fmeta])* $fvis $field: $ty,
        ] $($rest)*);
    };
    (@munch [$($head:tt)*] [$($done:tt)*]) => {
        $($head)* { $($done)* }
    };
    ($(#[$meta:meta])* $vis:vis struct $name:ident { $($body:tt)* }) => {
        $crate::fleet::config::fleet_config!(
            @munch [$(#[$meta])* $vis struct $name] [] $($body)*
        );
    };
}

/// `PoolConfig { <the shared fleet fields of $src>, ..$base }`: a kind's
/// instances as a pool.
macro_rules! fleet_pool {
    ($src:expr, $base:expr) => {{
        let src = $src;
        $crate::fleet::pool::PoolConfig {
            price_per_hour: src.price_per_hour,
            spot: src.spot,
            provision_time: src.provision_time.clone(),
            load_balancer: src.load_balancer.clone(),
            failures: src.failures.clone(),
            zones: src.zones.clone(),
            health_check: src.health_check,
            ready_delay: src.ready_delay,
            metric_period: src.metric_period,
            metric_delay: src.metric_delay,
            custom_metrics: src.custom_metrics.clone(),
            ..$base
        }
    }};
}

pub(crate) use fleet_config;
pub(crate) use fleet_pool;
