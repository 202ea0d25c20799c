//! What a study's metric is, in words and units, and the axes of
//! parameter values.

use super::axis::{category_scale, param_scale, Scale};
use super::format::Unit;
use crate::study::{MetricStat, ParamValue};

pub(crate) fn last_segment(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

/// The pool and `k` of a `components.<pool>.load_at_least.<k>` metric:
/// the time-averaged share of the pool's instances with at least `k`
/// requests in service or queued.
pub(crate) fn load_at_least(metric: &str) -> Option<(&str, &str)> {
    let rest = metric.strip_prefix("components.")?;
    let (head, k) = rest.rsplit_once('.')?;
    let pool = head.strip_suffix(".load_at_least")?;
    (!pool.is_empty() && !k.is_empty()).then_some((pool, k))
}

/// `ttft` or `tpot` and the statistic of a token-latency metric
/// (`llm.ttft_s.p99`, `components.<llm>.tpot_s.mean`).
fn token_latency(metric: &str) -> Option<(&str, &str)> {
    let (head, k) = metric.rsplit_once('.')?;
    let what = head.rsplit('.').next()?.strip_suffix("_s")?;
    matches!(what, "ttft" | "tpot" | "itl").then_some((what, k))
}

pub(crate) fn unit_of(metric: &str) -> Unit {
    let last = last_segment(metric);
    if load_at_least(metric).is_some() || last == "kv_use_mean" {
        Unit::Ratio
    } else if last.contains("_per_s") {
        Unit::Rate
    } else if token_latency(metric).is_some()
        || metric.starts_with("latency_s.")
        || last.ends_with("_s")
    {
        Unit::Secs
    } else if metric.starts_with("cost_usd.") || last.starts_with("cost") {
        Unit::Usd
    } else if last == "error_rate" || last.ends_with("utilization") || last.ends_with("ratio") {
        Unit::Ratio
    } else if last.ends_with("_rps") {
        Unit::Rate
    } else {
        Unit::Plain
    }
}

/// What a metric is, in words: `p99 latency`, `cost per month`,
/// `api utilization`, `api: instances with ≥ 2 requests`.
pub(crate) fn metric_title(metric: &str) -> String {
    let words = |s: &str| {
        let s = s
            .strip_suffix("_rps")
            .or_else(|| s.strip_suffix("_s"))
            .unwrap_or(s);
        s.replace(['_', '.'], " ")
    };
    if let Some(k) = metric.strip_prefix("latency_s.") {
        return match k {
            "p999" => "p99.9 latency".into(),
            k => format!("{k} latency"),
        };
    }
    if let Some(k) = metric.strip_prefix("cost_usd.") {
        return match k {
            "projected_month" => "cost per month".into(),
            "per_hour" => "cost per hour".into(),
            "total" => "cost of the run".into(),
            "per_1k_requests" => "cost per 1k requests".into(),
            k => format!("cost {}", words(k)),
        };
    }
    if let Some((pool, k)) = load_at_least(metric) {
        let what = if k == "1" { "request" } else { "requests" };
        return format!("{pool}: instances with ≥ {k} {what}");
    }
    if let Some((what, k)) = token_latency(metric) {
        let what = match what {
            "ttft" => "time to first token",
            "tpot" => "time per output token",
            _ => "inter-token latency",
        };
        return match metric.strip_prefix("components.") {
            Some(rest) => format!("{} {k} {what}", rest.split('.').next().unwrap_or("")),
            None => format!("{k} {what}"),
        };
    }
    let words = |s: &str| {
        let rate = s.split_once("_per_s");
        let text = match rate {
            Some((head, tail)) => format!("{}/s{}", words(head), words(tail)),
            None => words(s),
        };
        text.replace(" per gpu", " per GPU")
            .replace("per 1m", "per 1M")
            .replace("kv ", "KV ")
    };
    if let Some(rest) = metric.strip_prefix("components.") {
        if let Some((name, field)) = rest.split_once('.') {
            return format!("{name} {}", words(field));
        }
    }
    words(metric)
}

/// The y-axis description of a metric.
pub(crate) fn metric_desc(metric: &str) -> String {
    let last = last_segment(metric);
    match unit_of(metric) {
        Unit::Secs if metric.starts_with("latency_s.") => "latency".into(),
        Unit::Secs if token_latency(metric).is_some() => {
            token_latency(metric).map_or("time", |t| t.0).to_uppercase()
        }
        Unit::Secs => "time".into(),
        Unit::Usd => match last {
            "projected_month" | "cost_per_month" => "USD per month".into(),
            "per_hour" => "USD per hour".into(),
            "per_1k_requests" => "USD per 1k requests".into(),
            "cost_per_1m_output_tokens" => "USD per 1M output tokens".into(),
            "cost_per_1m_tokens" => "USD per 1M tokens".into(),
            _ => "USD".into(),
        },
        Unit::Ratio if last == "kv_use_mean" => "% of KV blocks".into(),
        Unit::Ratio if load_at_least(metric).is_some() => "% of instances".into(),
        Unit::Ratio if last == "error_rate" => "% of requests".into(),
        Unit::Ratio if last.ends_with("utilization") => "% of slots busy".into(),
        Unit::Ratio if last.ends_with("hit_ratio") => "% of lookups".into(),
        Unit::Ratio => "%".into(),
        Unit::Rate if last.contains("tokens") => "tokens per second".into(),
        Unit::Rate => "per second".into(),
        Unit::Plain => last.replace('_', " "),
    }
}

/// The distinct values of some parameter values in axis order (sorted by
/// number when every value is a number, else in order of appearance),
/// and whether they are all numbers.
pub(crate) fn distinct_values<'a>(
    vals: impl IntoIterator<Item = &'a ParamValue>,
) -> (Vec<ParamValue>, bool) {
    let mut out: Vec<ParamValue> = Vec::new();
    for v in vals {
        if !out.iter().any(|o| o.text == v.text) {
            out.push(v.clone());
        }
    }
    let numeric = !out.is_empty() && out.iter().all(|v| v.number.is_some_and(f64::is_finite));
    if numeric {
        out.sort_by(|a, b| a.number.unwrap().total_cmp(&b.number.unwrap()));
    }
    (out, numeric)
}

/// The axis of a parameter's values and the position of each of them
/// (aligned with the distinct values), in drawing units.
pub(crate) fn param_axis(vals: &[ParamValue], numeric: bool, desc: &str) -> (Scale, Vec<f64>) {
    if numeric {
        let pairs: Vec<(f64, String)> = vals
            .iter()
            .map(|v| (v.number.unwrap_or(0.0), v.text.clone()))
            .collect();
        let s = param_scale(&pairs, desc);
        let pos = pairs.iter().map(|p| s.at(p.0)).collect();
        (s, pos)
    } else {
        let texts: Vec<String> = vals.iter().map(|v| v.text.clone()).collect();
        let pos = (0..vals.len()).map(|i| i as f64).collect();
        (category_scale(&texts, desc), pos)
    }
}

/// The interval of a mean, its lower end kept at 0 or above for a
/// non-negative mean (metrics here are counts, times, rates and costs).
pub(crate) fn interval(s: &MetricStat) -> (f64, f64) {
    let lo = if s.mean >= 0.0 {
        s.lo().max(0.0)
    } else {
        s.lo()
    };
    (lo, s.hi())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::format::fmt_value;

    #[test]
    fn units_and_titles() {
        assert_eq!(unit_of("latency_s.p99"), Unit::Secs);
        assert_eq!(unit_of("cost_usd.projected_month"), Unit::Usd);
        assert_eq!(unit_of("error_rate"), Unit::Ratio);
        assert_eq!(unit_of("components.api.utilization"), Unit::Ratio);
        assert_eq!(unit_of("throughput_rps"), Unit::Rate);
        assert_eq!(metric_title("latency_s.p999"), "p99.9 latency");
        assert_eq!(metric_title("llm.ttft_s.p99"), "p99 time to first token");
        assert_eq!(
            metric_title("components.gen.tpot_s.p50"),
            "gen p50 time per output token"
        );
        assert_eq!(unit_of("llm.tpot_s.p99"), Unit::Secs);
        assert_eq!(unit_of("llm.output_tokens_per_s"), Unit::Rate);
        assert_eq!(
            metric_title("llm.output_tokens_per_s"),
            "llm output tokens/s"
        );
        assert_eq!(
            metric_title("components.gen.output_tokens_per_s_per_gpu"),
            "gen output tokens/s per GPU"
        );
        assert_eq!(unit_of("components.gen.kv_use_mean"), Unit::Ratio);
        assert_eq!(
            metric_title("components.api.utilization"),
            "api utilization"
        );
        assert_eq!(metric_title("components.api.mean_wait_s"), "api mean wait");
        assert_eq!(metric_title("throughput_rps"), "throughput");
        assert_eq!(
            super::super::slug("components.api.instances"),
            "components-api-instances"
        );
    }

    #[test]
    fn load_at_least_is_a_share_of_instances() {
        let m = "components.api.load_at_least.2";
        assert_eq!(load_at_least(m), Some(("api", "2")));
        assert_eq!(unit_of(m), Unit::Ratio);
        assert_eq!(metric_desc(m), "% of instances");
        assert_eq!(metric_title(m), "api: instances with ≥ 2 requests");
        assert_eq!(
            metric_title("components.db.load_at_least.1"),
            "db: instances with ≥ 1 request"
        );
        assert_eq!(fmt_value(unit_of(m), 0.25), "25%");
        // Not the metric: no pool, or no k.
        assert_eq!(load_at_least("load_at_least.2"), None);
        assert_eq!(load_at_least("components.load_at_least.2"), None);
        assert_eq!(load_at_least("components.api.load_at_least"), None);
        assert_eq!(unit_of("components.api.load_at_least"), Unit::Plain);
    }
}
