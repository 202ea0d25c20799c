//! Shared helpers of the HorizontalPodAutoscaler suites (`hpa_rules.rs`,
//! `hpa_config.rs`): a configuration from TOML, one evaluation from pool
//! averages.

#![allow(dead_code)]

use scalesim::models::policy::hpa::{Hpa, HpaConfig};
use scalesim::models::policy::{Controller, Decision, Metric, Observation};

pub fn config(src: &str) -> HpaConfig {
    toml::from_str(src).unwrap_or_else(|e| panic!("bad test config: {e}\n{src}"))
}

pub fn hpa(src: &str) -> Hpa {
    Hpa::new(&config(src)).unwrap_or_else(|e| panic!("invalid config: {e:?}"))
}

pub fn metrics(values: &[(&str, Option<f64>)]) -> Vec<Metric> {
    values
        .iter()
        .map(|(n, v)| Metric {
            name: n.to_string(),
            value: *v,
        })
        .collect()
}

/// One evaluation from pool averages (no per-pod detail).
pub fn eval(
    h: &mut Hpa,
    now: f64,
    current: u32,
    ready: u32,
    values: &[(&str, Option<f64>)],
) -> Decision {
    let m = metrics(values);
    h.evaluate(&Observation {
        now_s: now,
        current,
        ready,
        metrics: &m,
        pods: &[],
    })
}
