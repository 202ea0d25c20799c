//! The Kubernetes HorizontalPodAutoscaler model: the configurations it
//! accepts, as the API server validates them (`pkg/apis/autoscaling`
//! `validation.go`), real HorizontalPodAutoscaler manifests (autoscaling/v2
//! and v1), and the documented TOML example. The rules of its decisions
//! are in `hpa_rules.rs`.

mod hpa_common;

use hpa_common::{config, eval, hpa};
use scalesim::models::policy::hpa::{
    BehaviorSpec, Hpa, HpaConfig, MetricSource, PolicyType, SelectPolicy,
};
use scalesim::models::policy::Controller;
use scalesim::models::units::Percent;

#[test]
fn configuration_is_validated() {
    // validation.go: minReplicas >= 1 without HPAScaleToZero, maxReplicas >=
    // minReplicas, targets > 0, policy value > 0 and 0 < period <= 1800 s,
    // windows 0..=3600 s, at least one policy.
    let bad = |src: &str, field: &str| {
        let e = Hpa::new(&config(src))
            .err()
            .unwrap_or_else(|| panic!("accepted: {src}"));
        assert_eq!(e.0, field, "{src}: {e:?}");
    };
    let m = r#"metrics = [{ name = "cpu", utilization = 60 }]"#;
    bad(&format!("min = 0\nmax = 5\n{m}"), "min");
    bad(&format!("min = 6\nmax = 5\n{m}"), "max");
    bad(
        "max = 5\nmetrics = [{ name = \"cpu\", utilization = 0 }]",
        "metrics",
    );
    bad(
        "max = 5\nmetrics = [{ name = \"rps\", average_value = -1 }]",
        "metrics",
    );
    bad(
        "max = 5\nmetrics = [{ name = \"rps\", average_value = 1, value = 2 }]",
        "metrics",
    );
    bad("max = 5\nmetrics = [{ name = \"rps\" }]", "metrics");
    bad(
        "max = 5\nmetrics = [{ name = \"rps\", utilization = 60 }]",
        "metrics",
    );
    bad(
        "max = 5\nmetrics = [{ name = \"rps\", type = \"pods\", value = 2 }]",
        "metrics",
    );
    bad(&format!("max = 5\nsync_period = 0\n{m}"), "sync_period");
    bad(&format!("max = 5\ntolerance = -0.1\n{m}"), "tolerance");
    bad(
        &format!("max = 5\ncpu_initialization_period = 0\n{m}"),
        "cpu_initialization_period",
    );
    bad(
        &format!("max = 5\n{m}\nbehavior = {{ scale_up = {{ policies = [] }} }}"),
        "behavior.scale_up.policies",
    );
    bad(
        &format!("max = 5\n{m}\nbehavior = {{ scale_down = {{ policies = [{{ type = \"pods\", value = 1, period = 0 }}] }} }}"),
        "behavior.scale_down.policies",
    );
    bad(
        &format!("max = 5\n{m}\nbehavior = {{ scale_down = {{ policies = [{{ type = \"pods\", value = 1, period = \"1h\" }}] }} }}"),
        "behavior.scale_down.policies",
    );
    bad(
        &format!("max = 5\n{m}\nbehavior = {{ scale_up = {{ policies = [{{ type = \"pods\", value = 0, period = 15 }}] }} }}"),
        "behavior.scale_up.policies",
    );
    bad(
        &format!("max = 5\n{m}\nbehavior = {{ scale_down = {{ stabilization = \"2h\" }} }}"),
        "behavior.scale_down.stabilization",
    );
    bad(
        &format!("max = 5\n{m}\nbehavior = {{ scale_up = {{ tolerance = -1 }} }}"),
        "behavior.scale_up.tolerance",
    );
    // Unknown fields and values are refused by the parser.
    assert!(toml::from_str::<HpaConfig>("max = 5\nmaxReplicas = 3").is_err());
    assert!(toml::from_str::<HpaConfig>("max = 5\nbehavior = \"fast\"").is_err());
    assert!(toml::from_str::<HpaConfig>(
        "max = 5\nbehavior = { scale_up = { select = \"biggest\" } }"
    )
    .is_err());
    // The loader's `policy` field is accepted; defaults apply.
    let h = hpa("policy = \"hpa\"\nmax = 5");
    assert_eq!(h.period_s(), 15.0);
    assert_eq!(h.metrics(), vec!["cpu".to_string()]);
    assert_eq!(h.bounds(), (1, 5));
}

const MANIFEST: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
---
# HPA for the web tier
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
  namespace: shop
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  minReplicas: 2
  maxReplicas: 30
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 65
  - type: Pods
    pods:
      metric:
        name: rps
      target:
        type: AverageValue
        averageValue: 1k
  - type: Object
    object:
      metric:
        name: queue_total
      describedObject:
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        name: main-route
      target:
        type: Value
        value: "500m"
  - type: External
    external:
      metric:
        name: queue_messages_ready
        selector:
          matchLabels:
            queue: worker_tasks
      target:
        type: AverageValue
        averageValue: 30
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 600
      selectPolicy: Min
      policies:
      - type: Percent
        value: 10
        periodSeconds: 60
      - type: Pods
        value: 5
        periodSeconds: 60
    scaleUp:
      tolerance: 0.05
"#;

#[test]
fn a_real_manifest_maps_onto_the_config() {
    // autoscaling/v2 HorizontalPodAutoscalerSpec: minReplicas, maxReplicas,
    // metrics (Resource, Pods, Object, External; quantities like 1k and
    // 500m), behavior (unset scaleUp fields take the defaults).
    let cfg = Hpa::from_manifest(MANIFEST).unwrap();
    assert_eq!((cfg.min, cfg.max), (2, 30));
    assert_eq!(cfg.metrics.len(), 4);
    assert_eq!(cfg.metrics[0].name, "cpu");
    assert_eq!(cfg.metrics[0].source, Some(MetricSource::Resource));
    assert_eq!(cfg.metrics[0].utilization, Some(Percent(65)));
    assert_eq!(cfg.metrics[1].name, "rps");
    assert_eq!(cfg.metrics[1].source, Some(MetricSource::Pods));
    assert_eq!(cfg.metrics[1].average_value, Some(1000.0));
    assert_eq!(cfg.metrics[2].source, Some(MetricSource::Object));
    assert_eq!(cfg.metrics[2].value, Some(0.5));
    assert_eq!(cfg.metrics[3].name, "queue_messages_ready");
    assert_eq!(cfg.metrics[3].source, Some(MetricSource::External));
    assert_eq!(cfg.metrics[3].average_value, Some(30.0));
    let Some(BehaviorSpec::Rules(b)) = &cfg.behavior else {
        panic!("expected behavior rules, got {:?}", cfg.behavior);
    };
    let down = b.scale_down.as_ref().unwrap();
    assert_eq!(down.stabilization.unwrap().secs(), 600.0);
    assert_eq!(down.select, Some(SelectPolicy::Min));
    let ps = down.policies.as_ref().unwrap();
    assert_eq!(
        (ps[0].kind, ps[0].value, ps[0].period.secs()),
        (PolicyType::Percent, 10, 60.0)
    );
    assert_eq!(
        (ps[1].kind, ps[1].value, ps[1].period.secs()),
        (PolicyType::Pods, 5, 60.0)
    );
    let up = b.scale_up.as_ref().unwrap();
    assert_eq!(up.tolerance, Some(0.05));
    assert_eq!(up.policies, None);

    // It runs: rps 1500 per pod over 4 pods -> 6; scale-up keeps the
    // default policies (4 pods or 100% per 15 s).
    let mut h = Hpa::new(&cfg).unwrap();
    assert_eq!(
        h.metrics(),
        vec!["cpu", "rps", "queue_total", "queue_messages_ready"]
    );
    let d = eval(
        &mut h,
        0.0,
        4,
        4,
        &[
            ("cpu", Some(0.65)),
            ("rps", Some(1500.0)),
            ("queue_total", Some(0.5)),
            ("queue_messages_ready", Some(90.0)),
        ],
    );
    assert_eq!(d.desired, 6, "{}", d.reason);
    // Scale down with selectPolicy Min: from 20, Percent allows 18 and Pods
    // 15: Min (the smaller change) gives 18, after the 600 s window.
    let mut h = Hpa::new(&cfg).unwrap();
    let quiet = [
        ("cpu", Some(0.05)),
        ("rps", Some(10.0)),
        ("queue_total", Some(0.01)),
        ("queue_messages_ready", Some(1.0)),
    ];
    assert_eq!(eval(&mut h, 0.0, 20, 20, &quiet).desired, 20);
    assert_eq!(eval(&mut h, 615.0, 20, 20, &quiet).desired, 18);
}

#[test]
fn manifests_without_behavior_v1_and_errors() {
    // No spec.behavior: the controller's legacy path.
    let plain = r#"apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: api }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: api }
  maxReplicas: 10
  metrics:
  - type: Resource
    resource: { name: cpu, target: { type: Utilization, averageUtilization: 50 } }
"#;
    let cfg = Hpa::from_manifest(plain).unwrap();
    assert_eq!(cfg.behavior, Some(BehaviorSpec::Legacy));
    assert_eq!(cfg.min, 1);
    // autoscaling/v1: targetCPUUtilizationPercentage.
    let v1 = r#"apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: { name: api }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: api }
  minReplicas: 2
  maxReplicas: 8
  targetCPUUtilizationPercentage: 70
"#;
    let cfg = Hpa::from_manifest(v1).unwrap();
    assert_eq!(
        (cfg.min, cfg.max, cfg.metrics[0].utilization),
        (2, 8, Some(Percent(70)))
    );
    // Errors name the place.
    let e = Hpa::from_manifest("apiVersion: apps/v1\nkind: Deployment\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("no HorizontalPodAutoscaler"), "{e}");
    let e = Hpa::from_manifest(&plain.replace("averageUtilization: 50", "averageUtilization: 0"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("spec.metrics[0].resource.target.averageUtilization"),
        "{e}"
    );
    let e =
        Hpa::from_manifest(&plain.replace("maxReplicas: 10", "maxReplicas: 10\n  minReplicas: 0"))
            .unwrap_err()
            .to_string();
    assert!(e.contains("`spec.minReplicas`"), "{e}");
    let bad_q = MANIFEST.replace("averageValue: 1k", "averageValue: 1kk");
    let e = Hpa::from_manifest(&bad_q).unwrap_err().to_string();
    assert!(
        e.contains("spec.metrics[1].pods.target.averageValue"),
        "{e}"
    );
    let e = Hpa::from_manifest(&MANIFEST.replace("selectPolicy: Min", "selectPolicy: Least"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("spec.behavior.scaleDown.selectPolicy"), "{e}");
}

#[test]
fn the_documented_toml_example_parses() {
    // The example at the top of models/src/policy/hpa/mod.rs, taken from the source so
    // the two cannot drift apart.
    let src = include_str!("../models/src/policy/hpa/mod.rs");
    let start = src.find("//! ```toml\n").expect("toml example") + "//! ```toml\n".len();
    let end = start + src[start..].find("//! ```\n").unwrap();
    let example: String = src[start..end]
        .lines()
        .map(|l| {
            l.strip_prefix("//! ")
                .unwrap_or(l.trim_start_matches("//!"))
        })
        .collect::<Vec<_>>()
        .join("\n");
    let doc: toml::Value = toml::from_str(&example).unwrap_or_else(|e| panic!("{e}\n{example}"));
    let cfg: HpaConfig = doc["autoscaler"]["api"].clone().try_into().unwrap();
    assert_eq!((cfg.min, cfg.max, cfg.metrics.len()), (2, 20, 3));
    let Some(BehaviorSpec::Rules(b)) = &cfg.behavior else {
        panic!("{:?}", cfg.behavior)
    };
    let up = b.scale_up.as_ref().unwrap();
    assert_eq!(up.select, Some(SelectPolicy::Max));
    assert_eq!(up.policies.as_ref().unwrap().len(), 2);
    assert_eq!(
        b.scale_down.as_ref().unwrap().stabilization.unwrap().secs(),
        300.0
    );
    // Written out, the defaults decide as the defaults do.
    let mut written = Hpa::new(&cfg).unwrap();
    let mut implied = Hpa::new(&HpaConfig {
        behavior: None,
        ..cfg.clone()
    })
    .unwrap();
    for (t, cpu) in [(0.0, 1.0), (15.0, 1.0), (30.0, 0.1), (330.0, 0.1)] {
        let v = [
            ("cpu", Some(cpu)),
            ("rps", Some(50.0)),
            ("queue_total", Some(10.0)),
        ];
        let a = eval(&mut written, t, 3, 3, &v);
        let b = eval(&mut implied, t, 3, 3, &v);
        assert_eq!(a, b);
    }
}
