//! Real HorizontalPodAutoscaler manifests (YAML, autoscaling/v2,
//! v2beta2 and v1) read into an [`HpaConfig`], with Kubernetes quantities
//! (`k8s.io/apimachinery/pkg/api/resource`).

use super::config::{
    BehaviorConfig, BehaviorSpec, HpaConfig, MetricConfig, MetricSource, PolicyType,
    ScalingPolicyConfig, ScalingRulesConfig, SelectPolicy,
};
use super::{Hpa, DEFAULT_CPU_UTILIZATION};
use crate::policy::metric;
use crate::units::Duration;
use serde::Deserialize;

/// A Kubernetes quantity as YAML gives it: a number, or a string such as
/// `"500m"`, `"1k"`, `"2Gi"`, `"1.5"`, `"1e3"`.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum QuantityRepr {
    Number(f64),
    Text(String),
}

impl QuantityRepr {
    fn value(&self) -> Result<f64, String> {
        match self {
            QuantityRepr::Number(v) => Ok(*v),
            QuantityRepr::Text(s) => parse_quantity(s),
        }
    }
}

/// Parses a Kubernetes `resource.Quantity` (`<signedNumber><suffix>`):
/// decimal SI suffixes `n u m k M G T P E`, binary `Ki Mi Gi Ti Pi Ei`, or
/// an exponent `e3` / `E-2` (`k8s.io/apimachinery/pkg/api/resource`).
pub fn parse_quantity(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let bad =
        || format!("invalid quantity {s:?}: expected e.g. \"100\", \"500m\", \"1.5k\", \"2Gi\"");
    let end = t
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || ((c == '+' || c == '-') && i == 0)))
        .map(|(i, _)| i)
        .unwrap_or(t.len());
    let (number, suffix) = t.split_at(end);
    if number.is_empty() || !number.chars().any(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let base: f64 = number.parse().map_err(|_| bad())?;
    let scale = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        x if x.len() > 1 && (x.starts_with('e') || x.starts_with('E')) => {
            let exp: i32 = x[1..].parse().map_err(|_| bad())?;
            10f64.powi(exp)
        }
        _ => return Err(bad()),
    };
    Ok(base * scale)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct K8sSpecV2 {
    #[serde(default)]
    min_replicas: Option<i64>,
    max_replicas: i64,
    #[serde(default)]
    metrics: Vec<K8sMetric>,
    #[serde(default)]
    behavior: Option<K8sBehavior>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct K8sSpecV1 {
    #[serde(default)]
    min_replicas: Option<i64>,
    max_replicas: i64,
    #[serde(default, rename = "targetCPUUtilizationPercentage")]
    target_cpu: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct K8sMetric {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    resource: Option<K8sResource>,
    #[serde(default)]
    container_resource: Option<K8sResource>,
    #[serde(default)]
    pods: Option<K8sSource>,
    #[serde(default)]
    object: Option<K8sSource>,
    #[serde(default)]
    external: Option<K8sSource>,
}

#[derive(Deserialize)]
struct K8sResource {
    name: String,
    target: K8sTarget,
}

#[derive(Deserialize)]
struct K8sSource {
    metric: K8sMetricId,
    target: K8sTarget,
}

#[derive(Deserialize)]
struct K8sMetricId {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct K8sTarget {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    average_utilization: Option<i64>,
    #[serde(default)]
    average_value: Option<QuantityRepr>,
    #[serde(default)]
    value: Option<QuantityRepr>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct K8sBehavior {
    #[serde(default)]
    scale_up: Option<K8sRules>,
    #[serde(default)]
    scale_down: Option<K8sRules>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct K8sRules {
    #[serde(default)]
    stabilization_window_seconds: Option<i64>,
    #[serde(default)]
    select_policy: Option<String>,
    #[serde(default)]
    policies: Option<Vec<K8sPolicy>>,
    #[serde(default)]
    tolerance: Option<QuantityRepr>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct K8sPolicy {
    #[serde(rename = "type")]
    kind: String,
    value: i64,
    period_seconds: i64,
}

fn replicas_u32(path: &str, v: i64) -> Result<u32, String> {
    u32::try_from(v).map_err(|_| format!("{path}: expected a replica count >= 0, got {v}"))
}

fn quantity(path: &str, q: &Option<QuantityRepr>) -> Result<Option<f64>, String> {
    q.as_ref()
        .map(|q| q.value().map_err(|e| format!("{path}: {e}")))
        .transpose()
}

fn manifest_metric(i: usize, m: &K8sMetric) -> Result<MetricConfig, String> {
    let path = format!("spec.metrics[{i}]");
    let missing = |f: &str| format!("{path}: type {} needs its `{f}` block", m.kind);
    let (name, source, target, tpath) = match m.kind.as_str() {
        "Resource" | "ContainerResource" => {
            let r = if m.kind == "Resource" {
                m.resource.as_ref().ok_or_else(|| missing("resource"))?
            } else {
                m.container_resource
                    .as_ref()
                    .ok_or_else(|| missing("containerResource"))?
            };
            (r.name.clone(), MetricSource::Resource, &r.target, "resource")
        }
        "Pods" => {
            let s = m.pods.as_ref().ok_or_else(|| missing("pods"))?;
            (s.metric.name.clone(), MetricSource::Pods, &s.target, "pods")
        }
        "Object" => {
            let s = m.object.as_ref().ok_or_else(|| missing("object"))?;
            (s.metric.name.clone(), MetricSource::Object, &s.target, "object")
        }
        "External" => {
            let s = m.external.as_ref().ok_or_else(|| missing("external"))?;
            (s.metric.name.clone(), MetricSource::External, &s.target, "external")
        }
        other => {
            return Err(format!(
                "{path}.type: unsupported metric source type {other:?}: expected Resource, ContainerResource, Pods, Object or External"
            ))
        }
    };
    let tpath = format!("{path}.{tpath}.target");
    let mut out = MetricConfig {
        name,
        source: Some(source),
        utilization: None,
        average_value: None,
        value: None,
    };
    match target.kind.as_str() {
        "Utilization" => {
            let u = target
                .average_utilization
                .ok_or_else(|| format!("{tpath}: type Utilization needs averageUtilization"))?;
            if u < 1 || u > u32::MAX as i64 {
                return Err(format!(
                    "{tpath}.averageUtilization: must be greater than 0, got {u}"
                ));
            }
            out.utilization = Some(crate::units::Percent(u as u32));
        }
        "AverageValue" => {
            out.average_value = Some(
                quantity(&format!("{tpath}.averageValue"), &target.average_value)?
                    .ok_or_else(|| format!("{tpath}: type AverageValue needs averageValue"))?,
            );
        }
        "Value" => {
            out.value = Some(
                quantity(&format!("{tpath}.value"), &target.value)?
                    .ok_or_else(|| format!("{tpath}: type Value needs value"))?,
            );
        }
        other => {
            return Err(format!(
                "{tpath}.type: {other:?} must be Utilization, Value or AverageValue"
            ))
        }
    }
    Ok(out)
}

fn manifest_rules(path: &str, r: &K8sRules) -> Result<ScalingRulesConfig, String> {
    let stabilization = match r.stabilization_window_seconds {
        None => None,
        Some(s) if s >= 0 => Some(Duration(s as f64)),
        Some(s) => {
            return Err(format!(
                "{path}.stabilizationWindowSeconds: must be >= 0, got {s}"
            ))
        }
    };
    let select = match r.select_policy.as_deref() {
        None => None,
        Some("Max") => Some(SelectPolicy::Max),
        Some("Min") => Some(SelectPolicy::Min),
        Some("Disabled") => Some(SelectPolicy::Disabled),
        Some(other) => {
            return Err(format!(
                "{path}.selectPolicy: {other:?} must be Max, Min or Disabled"
            ))
        }
    };
    let policies = match &r.policies {
        None => None,
        Some(ps) => Some(
            ps.iter()
                .enumerate()
                .map(|(i, p)| {
                    let at = format!("{path}.policies[{i}]");
                    let kind = match p.kind.as_str() {
                        "Pods" => PolicyType::Pods,
                        "Percent" => PolicyType::Percent,
                        other => {
                            return Err(format!("{at}.type: {other:?} must be Pods or Percent"))
                        }
                    };
                    if p.value < 1 || p.value > u32::MAX as i64 {
                        return Err(format!(
                            "{at}.value: must be greater than zero, got {}",
                            p.value
                        ));
                    }
                    if p.period_seconds < 1 {
                        return Err(format!(
                            "{at}.periodSeconds: must be greater than zero, got {}",
                            p.period_seconds
                        ));
                    }
                    Ok(ScalingPolicyConfig::new(
                        kind,
                        p.value as u32,
                        p.period_seconds as f64,
                    ))
                })
                .collect::<Result<Vec<_>, String>>()?,
        ),
    };
    Ok(ScalingRulesConfig {
        stabilization,
        select,
        policies,
        tolerance: quantity(&format!("{path}.tolerance"), &r.tolerance)?,
    })
}

impl Hpa {
    /// Reads a real HorizontalPodAutoscaler manifest (YAML; the first
    /// document of `kind: HorizontalPodAutoscaler` in a multi-document
    /// file) into an [`HpaConfig`]. autoscaling/v2 (and v2beta2):
    /// `spec.minReplicas`, `spec.maxReplicas`, `spec.metrics` (Resource and
    /// ContainerResource `cpu` -> metric `cpu`, other resources by their
    /// name; Pods, Object and External by `metric.name`; targets
    /// `averageUtilization`, `averageValue`, `value`, Kubernetes quantities
    /// such as `"500m"` or `"1k"` accepted) and `spec.behavior`
    /// (`stabilizationWindowSeconds`, `selectPolicy`, `policies`,
    /// `tolerance`). A manifest without `spec.behavior` gives
    /// [`BehaviorSpec::Legacy`], the controller's path for such an object.
    /// autoscaling/v1: `targetCPUUtilizationPercentage` (default 80).
    /// Controller flags (sync period, tolerance, ...) keep their defaults.
    /// The result is checked as [`Hpa::new`] checks it.
    pub fn from_manifest(yaml: &str) -> Result<HpaConfig, ManifestError> {
        check_nesting(yaml)?;
        Self::read_manifest(yaml).map_err(|e| match e {
            Read::Yaml(e) => ManifestError::from_yaml(&e),
            Read::Path(m) => ManifestError::from_path_message(yaml, m),
        })
    }

    fn read_manifest(yaml: &str) -> Result<HpaConfig, Read> {
        // First pass: which document is the HPA, and its apiVersion.
        let mut found = None;
        for (i, doc) in serde_yaml_ng::Deserializer::from_str(yaml).enumerate() {
            let v = serde_yaml_ng::Value::deserialize(doc).map_err(Read::Yaml)?;
            if v.get("kind").and_then(|k| k.as_str()) != Some("HorizontalPodAutoscaler") {
                continue;
            }
            let api = v
                .get("apiVersion")
                .and_then(|a| a.as_str())
                .unwrap_or("")
                .to_string();
            if v.get("spec").is_none() {
                return Err(Read::Path(
                    "spec: HorizontalPodAutoscaler without spec".into(),
                ));
            }
            found = Some((i, api));
            break;
        }
        let Some((index, api)) = found else {
            return Err(Read::Path("no HorizontalPodAutoscaler in the manifest (expected a document with kind: HorizontalPodAutoscaler)".into()));
        };
        // Second pass: that document read straight into its type, so that
        // errors carry their line and path.
        let doc = || {
            serde_yaml_ng::Deserializer::from_str(yaml)
                .nth(index)
                .expect("the first pass found it")
        };
        #[derive(Deserialize)]
        struct Doc<S> {
            spec: S,
        }
        let mut cfg = match api.as_str() {
            "autoscaling/v2" | "autoscaling/v2beta2" => {
                let s = Doc::<K8sSpecV2>::deserialize(doc()).map_err(Read::Yaml)?.spec;
                let metrics = s
                    .metrics
                    .iter()
                    .enumerate()
                    .map(|(i, m)| manifest_metric(i, m))
                    .collect::<Result<Vec<_>, String>>()
                    .map_err(Read::Path)?;
                let behavior = match &s.behavior {
                    None => BehaviorSpec::Legacy,
                    Some(b) => BehaviorSpec::Rules(BehaviorConfig {
                        scale_up: b
                            .scale_up
                            .as_ref()
                            .map(|r| manifest_rules("spec.behavior.scaleUp", r))
                            .transpose()
                            .map_err(Read::Path)?,
                        scale_down: b
                            .scale_down
                            .as_ref()
                            .map(|r| manifest_rules("spec.behavior.scaleDown", r))
                            .transpose()
                            .map_err(Read::Path)?,
                    }),
                };
                let mut cfg = HpaConfig::new(
                    replicas_u32("spec.minReplicas", s.min_replicas.unwrap_or(1))
                        .map_err(Read::Path)?,
                    replicas_u32("spec.maxReplicas", s.max_replicas).map_err(Read::Path)?,
                    metrics,
                );
                cfg.behavior = Some(behavior);
                cfg
            }
            "autoscaling/v1" => {
                let s = Doc::<K8sSpecV1>::deserialize(doc()).map_err(Read::Yaml)?.spec;
                let target = s.target_cpu.unwrap_or(DEFAULT_CPU_UTILIZATION as i64);
                if target < 1 || target > u32::MAX as i64 {
                    return Err(Read::Path(format!(
                        "spec.targetCPUUtilizationPercentage: must be greater than 0, got {target}"
                    )));
                }
                let mut cfg = HpaConfig::new(
                    replicas_u32("spec.minReplicas", s.min_replicas.unwrap_or(1))
                        .map_err(Read::Path)?,
                    replicas_u32("spec.maxReplicas", s.max_replicas).map_err(Read::Path)?,
                    vec![MetricConfig::utilization(metric::CPU, target as u32)],
                );
                cfg.behavior = Some(BehaviorSpec::Legacy);
                cfg
            }
            other => {
                return Err(Read::Path(format!(
                    "apiVersion: {other:?}: expected autoscaling/v2 (or autoscaling/v2beta2, autoscaling/v1)"
                )))
            }
        };
        cfg.policy = Some("hpa".into());
        cfg.check().map_err(|(field, message)| {
            let field = match field.as_str() {
                "min" => "spec.minReplicas".to_string(),
                "max" => "spec.maxReplicas".to_string(),
                f => f.to_string(),
            };
            Read::Path(format!("{field}: {message}"))
        })?;
        Ok(cfg)
    }
}

/// Why a manifest was not read.
enum Read {
    /// A YAML or type error, with its place.
    Yaml(serde_yaml_ng::Error),
    /// `"<path>: <message>"`.
    Path(String),
}

/// A problem in a HorizontalPodAutoscaler manifest: where (line and
/// column, the field path such as `spec.metrics[0].resource`) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestError {
    /// 1-based line and column, when known.
    pub line_col: Option<(usize, usize)>,
    /// Path of the field, e.g. `spec.metrics[0].resource`.
    pub path: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ManifestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some((l, c)) = self.line_col {
            write!(f, "{l}:{c}: ")?;
        }
        if let Some(p) = &self.path {
            write!(f, "`{p}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl ManifestError {
    fn from_yaml(e: &serde_yaml_ng::Error) -> ManifestError {
        let line_col = e.location().map(|l| (l.line(), l.column()));
        let mut text = e.to_string();
        if let Some(i) = text.rfind(" at line ") {
            text.truncate(i);
        }
        let (path, message) = split_path(&text);
        ManifestError {
            line_col,
            path,
            message: crate::plain::plain(&message),
        }
    }

    fn from_path_message(yaml: &str, text: String) -> ManifestError {
        let (path, message) = split_path(&text);
        ManifestError {
            line_col: path.as_deref().and_then(|p| locate_yaml(yaml, p)),
            path,
            message,
        }
    }
}

/// `"spec.metrics[0]: missing field"` -> (Some(path), message).
fn split_path(text: &str) -> (Option<String>, String) {
    match text.split_once(": ") {
        Some((p, m)) if !p.is_empty() && !p.contains(' ') && p != "invalid type" => {
            (Some(p.to_string()), m.to_string())
        }
        _ => (None, text.to_string()),
    }
}

/// The line and column of the key at `path` (`spec.metrics[1].pods`) in a
/// block-style YAML text, found by walking its indentation.
fn locate_yaml(yaml: &str, path: &str) -> Option<(usize, usize)> {
    let lines: Vec<&str> = yaml.lines().collect();
    // Column of the content of line `j` after any "- " markers, and that
    // content.
    let content = |j: usize| -> (usize, &str) {
        let l = lines[j];
        let mut col = l.len() - l.trim_start().len();
        let mut rest = l.trim_start();
        while let Some(r) = rest.strip_prefix("- ") {
            let r2 = r.trim_start();
            col += rest.len() - r2.len();
            rest = r2;
        }
        (col, rest)
    };
    let blank = |j: usize| {
        let t = lines[j].trim();
        t.is_empty() || t.starts_with('#') || t == "---"
    };
    let (mut pos, mut indent, mut found) = (0usize, -1i64, None);
    for comp in path.split('.') {
        let (key, idx) = match comp.split_once('[') {
            Some((k, rest)) => (k, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (comp, None),
        };
        let mut hit = None;
        for j in pos..lines.len() {
            if blank(j) {
                continue;
            }
            let (col, rest) = content(j);
            if (col as i64) <= indent && j > pos {
                break;
            }
            if (col as i64) > indent && rest.starts_with(key) && rest[key.len()..].starts_with(':')
            {
                hit = Some((j, col));
                break;
            }
        }
        let (j, col) = hit?;
        found = Some((j + 1, col + 1));
        (pos, indent) = (j + 1, col as i64);
        if let Some(i) = idx {
            // The i-th "- " item below the key.
            let mut n = 0;
            let mut item = None;
            for (k, &l) in lines.iter().enumerate().skip(pos) {
                if blank(k) {
                    continue;
                }
                let lead = l.len() - l.trim_start().len();
                if (lead as i64) < indent
                    || ((lead as i64) == indent && !l.trim_start().starts_with("- "))
                {
                    break;
                }
                if l.trim_start().starts_with("- ") && item.is_none_or(|(_, c)| c == lead) {
                    if n == i {
                        item = Some((k, lead));
                        break;
                    }
                    n += 1;
                    item = Some((k, lead));
                }
            }
            let (k, lead) = item.filter(|_| n == i)?;
            found = Some((k + 1, lead + 1));
            (pos, indent) = (k, lead as i64);
        }
    }
    found
}

/// Refuses lists and maps nested deeper than [`MAX_NESTING`] (flow
/// brackets or indentation), before the YAML parser walks them.
fn check_nesting(yaml: &str) -> Result<(), ManifestError> {
    use crate::limits::MAX_NESTING;
    let mut flow = 0usize;
    let mut indents: Vec<usize> = Vec::new();
    for (n, line) in yaml.lines().enumerate() {
        let t = line.trim_start();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let lead = line.len() - t.len();
        if flow == 0 {
            while indents.last().is_some_and(|&i| i >= lead) {
                indents.pop();
            }
            indents.push(lead);
        }
        let dashes = t.split("- ").take_while(|p| p.trim().is_empty()).count();
        let mut quote = None;
        for (c_at, c) in line.char_indices() {
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, '#') if c_at == 0 || line[..c_at].ends_with(' ') => break,
                (None, '[' | '{') => flow += 1,
                (None, ']' | '}') => flow = flow.saturating_sub(1),
                _ => {}
            }
            if flow + indents.len() + dashes > MAX_NESTING {
                return Err(ManifestError {
                    line_col: Some((n + 1, c_at + 1)),
                    path: None,
                    message: format!(
                        "lists and maps nested deeper than {MAX_NESTING} levels (a manifest needs fewer than 10)"
                    ),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_parse_like_resource_quantity() {
        assert_eq!(parse_quantity("500m").unwrap(), 0.5);
        assert_eq!(parse_quantity("1k").unwrap(), 1000.0);
        assert_eq!(parse_quantity("1.5").unwrap(), 1.5);
        assert_eq!(parse_quantity("2Ki").unwrap(), 2048.0);
        assert_eq!(parse_quantity("1e3").unwrap(), 1000.0);
        assert_eq!(parse_quantity("1E-2").unwrap(), 0.01);
        assert_eq!(parse_quantity("3M").unwrap(), 3e6);
        assert_eq!(parse_quantity("100").unwrap(), 100.0);
        for bad in ["", "m", "5 pods", "1x", "1.2.3", "e3"] {
            assert!(parse_quantity(bad).is_err(), "{bad:?} should fail");
        }
    }
}
