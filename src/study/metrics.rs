//! A run's figures as named numbers: the JSON summary flattened to dotted
//! paths (`latency_s.p99`, `components.api.utilization`,
//! `cost_usd.projected_month`, ...). Sweeps, comparisons and capacity
//! searches aggregate these over replications; SLO expressions name them.
//!
//! Left out: the scenario name and seed (identical for every replication),
//! the `engine` block (wall-clock figures, not deterministic) and the
//! guards of the SLO list (a runaway, a growing backlog: present in some
//! runs only). Each objective's check is `slo.<metric>` (`slo.p95`,
//! `slo.classes.web.p95`: the value the verdict judged).
//! Flags become 0/1: `slo.passed`, `runaway`.

use crate::output::summary::Summary;
use serde_json::Value;

/// Short names accepted wherever a metric is named: the latency keys of
/// the summary (`p99` = `latency_s.p99`) and `cost` (per month).
pub fn resolve(name: &str) -> String {
    match name {
        "mean" | "p50" | "p90" | "p95" | "p99" | "p999" | "max" => format!("latency_s.{name}"),
        "cost" | "cost_per_month" => "cost_usd.projected_month".into(),
        "violation_minutes" => "slo.violation_minutes".into(),
        "ttft_p50" | "ttft_p90" | "ttft_p95" | "ttft_p99" | "tpot_p50" | "tpot_p90"
        | "tpot_p95" | "tpot_p99" => format!("llm.{}_s.{}", &name[..4], &name[5..]),
        "itl_p50" | "itl_p90" | "itl_p95" | "itl_p99" => format!("llm.itl_s.{}", &name[4..]),
        _ => name.to_string(),
    }
}

/// True for metrics measured in seconds (shown in ms/s, bounds accept
/// durations such as `500ms`).
pub fn is_seconds(metric: &str) -> bool {
    metric.contains("_s.")
        || metric.ends_with("_s") && !metric.ends_with("simulated_s") && !metric.contains("_per_s")
}

/// The summary's numbers, flattened in the summary's key order.
pub fn flatten(s: &Summary) -> Vec<(String, f64)> {
    let mut out = Vec::with_capacity(128);
    let Ok(Value::Object(map)) = serde_json::to_value(s) else {
        return out;
    };
    for (k, v) in &map {
        match k.as_str() {
            "scenario" | "seed" | "engine" => {}
            "runaway" => out.push(("runaway".into(), if v.is_null() { 0.0 } else { 1.0 })),
            "slo" => {
                if let Some(p) = v.get("passed").and_then(Value::as_bool) {
                    out.push(("slo.passed".into(), if p { 1.0 } else { 0.0 }));
                }
                if let Some(m) = v.get("violation_minutes").and_then(Value::as_f64) {
                    out.push(("slo.violation_minutes".into(), m));
                }
                let checks = v.get("checks").and_then(Value::as_array);
                for c in checks.into_iter().flatten() {
                    // Guards (counts: in flight, a backlog) are not
                    // objectives with a figure of their own; `slo.passed`
                    // carries them.
                    let guard = c.get("unit").and_then(Value::as_str) == Some("count");
                    let Some(metric) = c.get("metric").and_then(Value::as_str) else {
                        continue;
                    };
                    if guard {
                        continue;
                    }
                    // A value without evidence (NaN) is written as null.
                    let value = c.get("value").and_then(Value::as_f64).unwrap_or(f64::NAN);
                    out.push((format!("slo.{metric}"), value + 0.0));
                }
            }
            _ => walk(k, v, &mut out),
        }
    }
    out
}

fn walk(path: &str, v: &Value, out: &mut Vec<(String, f64)>) {
    match v {
        // `+ 0.0` turns -0 into 0, so a figure reads back as it was written.
        Value::Number(n) => out.push((path.to_string(), n.as_f64().unwrap_or(f64::NAN) + 0.0)),
        Value::Bool(b) => out.push((path.to_string(), if *b { 1.0 } else { 0.0 })),
        Value::Object(m) => {
            for (k, v) in m {
                walk(&format!("{path}.{k}"), v, out);
            }
        }
        // A figure the run could not give (a month projected from a run
        // the runaway guard cut short) is missing (NaN), not left out of
        // the replication.
        Value::Null => out.push((path.into(), f64::NAN)),
        // Strings (kinds, ops) and arrays carry no figure.
        _ => {}
    }
}

/// Sum of `instances_mean` over every pool: the fleet size a comparison
/// reports as `instances`.
pub fn total_instances(m: &[(String, f64)]) -> f64 {
    m.iter()
        .filter(|(k, _)| k.starts_with("components.") && k.ends_with(".instances_mean"))
        .map(|(_, v)| v)
        .sum()
}

/// The metrics worth a chart by default: latency percentiles, error rate,
/// throughput, cost, SLO minutes, and per component its utilization, hit
/// ratio and mean instances when an autoscaler moves them.
pub fn headline(names: &[String]) -> Vec<String> {
    const FIXED: [&str; 7] = [
        "latency_s.p50",
        "latency_s.p95",
        "latency_s.p99",
        "error_rate",
        "throughput_rps",
        "cost_usd.projected_month",
        "slo.violation_minutes",
    ];
    let mut out: Vec<String> = FIXED
        .iter()
        .filter(|f| names.iter().any(|n| n == *f))
        .map(|f| f.to_string())
        .collect();
    for n in names {
        if n.starts_with("components.")
            && (n.ends_with(".utilization") || n.ends_with(".hit_ratio"))
        {
            out.push(n.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_resolve() {
        assert_eq!(resolve("p99"), "latency_s.p99");
        assert_eq!(resolve("cost"), "cost_usd.projected_month");
        assert_eq!(
            resolve("components.api.utilization"),
            "components.api.utilization"
        );
        assert!(is_seconds("latency_s.p99"));
        assert!(is_seconds("components.api.mean_wait_s"));
        assert!(!is_seconds("error_rate"));
        assert_eq!(resolve("ttft_p99"), "llm.ttft_s.p99");
        assert_eq!(resolve("itl_p95"), "llm.itl_s.p95");
        assert!(is_seconds("llm.itl_s.p95"));
        assert!(!is_seconds("llm.output_tokens_per_s"));
    }
}
