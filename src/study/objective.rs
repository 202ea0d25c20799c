//! Objectives over run metrics: `p99<500ms`, `error_rate<0.001`,
//! `components.api.utilization<=0.8`, `throughput_rps>100`, as given to
//! `capacity --slo` and as read from a scenario's `[slo]` table.
//!
//! Over replications an objective is judged on the mean of its metric
//! (the value a long run would converge to); confidence intervals say how
//! sure that verdict is.

use crate::scenario::SloConfig;
use crate::study::metrics;
use scalesim_models::units::parse_duration;
use serde::{Deserialize, Serialize};

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// `<`
    #[serde(rename = "<")]
    Lt,
    /// `<=`
    #[serde(rename = "<=")]
    Le,
    /// `>`
    #[serde(rename = ">")]
    Gt,
    /// `>=`
    #[serde(rename = ">=")]
    Ge,
}

impl Op {
    /// `<`, `<=`, `>` or `>=`.
    pub fn text(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }

    /// True when larger values of the metric are the bad direction.
    pub fn upper_bound(self) -> bool {
        matches!(self, Op::Lt | Op::Le)
    }
}

/// One objective: a metric, an operator and a bound.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Objective {
    /// As the user wrote it, normalised (`p99<500ms`).
    pub text: String,
    /// The full metric path (`latency_s.p99`).
    pub metric: String,
    /// How value and bound compare.
    pub op: Op,
    /// The bound, in the metric's unit (seconds for latencies).
    pub bound: f64,
    /// `s` (seconds), `share` (a fraction shown in %) or empty (a number).
    #[serde(default)]
    pub unit: String,
}

impl Objective {
    /// True when `value` meets the objective (NaN never does).
    pub fn met(&self, value: f64) -> bool {
        match self.op {
            Op::Lt => value < self.bound,
            Op::Le => value <= self.bound,
            Op::Gt => value > self.bound,
            Op::Ge => value >= self.bound,
        }
    }

    /// `value` in the objective's unit (`212.3ms`, `0.05%`).
    pub fn show(&self, value: f64) -> String {
        match self.unit.as_str() {
            "s" | "share" => crate::output::fmt_check(&self.unit, value),
            _ => format!("{value:.4}"),
        }
    }

    /// How far `value` is on the good side of the bound (negative when it
    /// fails), in the metric's unit.
    pub fn slack(&self, value: f64) -> f64 {
        if self.op.upper_bound() {
            self.bound - value
        } else {
            value - self.bound
        }
    }
}

/// Parses a comma-separated list such as `"p99<500ms,error_rate<0.001"`.
pub fn parse_list(expr: &str) -> Result<Vec<Objective>, String> {
    let list: Vec<Objective> = expr
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse_one)
        .collect::<Result<_, _>>()?;
    if list.is_empty() {
        return Err(format!(
            "`{expr}` names no objective; expected e.g. \"p99<500ms,error_rate<0.001\""
        ));
    }
    Ok(list)
}

fn parse_one(s: &str) -> Result<Objective, String> {
    let ops = [("<=", Op::Le), (">=", Op::Ge), ("<", Op::Lt), (">", Op::Gt)];
    let (at, len, op) = ops
        .iter()
        .filter_map(|&(t, op)| s.find(t).map(|i| (i, t.len(), op)))
        .min_by_key(|&(i, len, _)| (i, std::cmp::Reverse(len)))
        .ok_or_else(|| {
            format!(
                "`{s}`: expected METRIC<BOUND (or <=, >, >=), e.g. p99<500ms or error_rate<0.001"
            )
        })?;
    let name = s[..at].trim();
    let bound_text = s[at + len..].trim();
    if name.is_empty() || bound_text.is_empty() {
        return Err(format!("`{s}`: expected METRIC<BOUND, e.g. p99<500ms"));
    }
    let metric = metrics::resolve(name);
    let bound = if metrics::is_seconds(&metric) {
        parse_duration(bound_text).map_err(|e| format!("`{s}`: the bound of {name}: {e}"))?
    } else {
        bound_text
            .parse::<f64>()
            .ok()
            .filter(|b| b.is_finite())
            .ok_or_else(|| format!("`{s}`: the bound `{bound_text}` is not a number"))?
    };
    Ok(Objective {
        text: format!("{name}{}{bound_text}", op.text()),
        unit: if metrics::is_seconds(&metric) {
            "s"
        } else {
            ""
        }
        .into(),
        metric,
        op,
        bound,
    })
}

/// The objectives of a scenario's `[slo]` table, every scope, each judged
/// on the value the run's own verdict judged (`slo.<check>`: with the
/// unfinished work counted, CONTRACT.md §4).
pub fn from_slo(slo: &SloConfig) -> Vec<Objective> {
    crate::slo::objectives(slo)
        .into_iter()
        .map(|(metric, op, unit, bound)| Objective {
            text: format!("{metric}{op}{}", crate::output::fmt_check(unit, bound)),
            metric: format!("slo.{metric}"),
            op: if op == ">=" { Op::Ge } else { Op::Le },
            bound,
            unit: unit.into(),
        })
        .collect()
}

/// Checks that every objective names a metric in `names`; the message
/// suggests the nearest one.
pub fn check_names(list: &[Objective], names: &[String]) -> Result<(), String> {
    for o in list {
        if !names.contains(&o.metric) {
            let near = names
                .iter()
                .min_by(|a, b| {
                    let da = strsim::levenshtein(a, &o.metric);
                    let db = strsim::levenshtein(b, &o.metric);
                    da.cmp(&db)
                })
                .map(|n| format!(" (nearest: `{n}`)"))
                .unwrap_or_default();
            return Err(format!(
                "objective `{}`: no metric `{}` in this scenario's summary{near}",
                o.text, o.metric
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_operators() {
        let l = parse_list("p99<500ms, error_rate<=0.001,throughput_rps>100").unwrap();
        assert_eq!(l.len(), 3);
        assert_eq!(l[0].metric, "latency_s.p99");
        assert_eq!(l[0].bound, 0.5);
        assert_eq!(l[0].op, Op::Lt);
        assert_eq!(l[1].op, Op::Le);
        assert_eq!(l[1].bound, 0.001);
        assert_eq!(l[2].op, Op::Gt);
        assert!(l[2].met(101.0) && !l[2].met(100.0));
        assert!(l[0].met(0.49) && !l[0].met(0.5) && !l[0].met(f64::NAN));
        assert_eq!(l[0].slack(0.4), 0.5 - 0.4);
        assert_eq!(l[2].slack(90.0), -10.0);
    }

    #[test]
    fn bad_expressions_say_what_is_expected() {
        assert!(parse_list("p99").unwrap_err().contains("METRIC<BOUND"));
        assert!(parse_list("p99<fast").unwrap_err().contains("bound of p99"));
        assert!(parse_list("error_rate<x")
            .unwrap_err()
            .contains("not a number"));
        assert!(parse_list(" , ").unwrap_err().contains("no objective"));
        let l = parse_list("latency_s.p98<1s").unwrap();
        let e = check_names(&l, &["latency_s.p99".into()]).unwrap_err();
        assert!(e.contains("nearest: `latency_s.p99`"), "{e}");
    }
}
