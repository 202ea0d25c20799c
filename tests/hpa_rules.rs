//! The Kubernetes HorizontalPodAutoscaler model against the controller's
//! documented rules. Each test names the rule and where it is written:
//! "docs" is the page "Horizontal Pod Autoscaling"
//! (kubernetes.io/docs/concepts/workloads/autoscaling/horizontal-pod-autoscale/),
//! the `.go` names are files of kubernetes/kubernetes
//! `pkg/controller/podautoscaler` and `pkg/apis/autoscaling`.
//!
//! This file: what the controller decides (the replica calculation, the
//! tolerance, bounds, stabilization windows, scaling policies); what
//! configurations and manifests it accepts is in `hpa_config.rs`.

mod hpa_common;

use hpa_common::{eval, hpa};
use scalesim::models::policy::hpa::Hpa;
use scalesim::models::policy::{Controller, Decision, Metric, Observation, Pod};

/// One evaluation with per-pod detail; `current` is the number of pods.
fn eval_pods(h: &mut Hpa, now: f64, names: &[&str], pods: &[Pod]) -> Decision {
    let m: Vec<Metric> = names
        .iter()
        .map(|n| Metric {
            name: n.to_string(),
            value: None,
        })
        .collect();
    let ready = pods.iter().filter(|p| p.ready).count() as u32;
    h.evaluate(&Observation {
        now_s: now,
        current: pods.len() as u32,
        ready,
        metrics: &m,
        pods,
    })
}

fn pod(ready: bool, age_s: f64, values: &[Option<f64>]) -> Pod {
    Pod {
        ready,
        age_s,
        values: values.to_vec(),
        cores: 1,
    }
}

/// Drives an HPA whose only metric is `queue_total` with an External
/// averageValue target of 10 per pod: its proposal is ceil(queue / 10)
/// whatever the current count (`GetExternalPerPodMetricReplicas`), so a
/// test can dictate the raw recommendation and watch what behavior makes
/// of it. Feeds each decision back as the next current count.
fn drive(h: &mut Hpa, start: u32, steps: &[(f64, u32)]) -> Vec<u32> {
    let mut current = start;
    let mut out = Vec::new();
    for &(t, recommendation) in steps {
        let d = eval(
            h,
            t,
            current,
            current,
            &[("queue_total", Some(10.0 * recommendation as f64))],
        );
        current = d.desired;
        out.push(current);
    }
    out
}

const DRIVER: &str = r#"min = 1
max = 100
metrics = [{ name = "queue_total", average_value = 10 }]
"#;

#[test]
fn tolerance_ratio_within_ten_percent_changes_nothing() {
    // docs, Algorithm details: "the control plane skips any scaling action if
    // the ratio is sufficiently close to 1.0 (within a configurable
    // tolerance, 0.1 by default)"; replica_calculator.go Tolerances.isWithin.
    let cfg = r#"max = 50
metrics = [{ name = "cpu", utilization = 60 }]
behavior = { scale_down = { stabilization = 0 } }
"#;
    // 0.63 / 0.60 = 1.05: no change.
    let d = eval(&mut hpa(cfg), 0.0, 10, 10, &[("cpu", Some(0.63))]);
    assert_eq!(d.desired, 10, "{}", d.reason);
    assert!(d.reason.contains("within tolerance"), "{}", d.reason);
    // 0.66 / 0.60 = 1.10: the band is inclusive.
    assert_eq!(
        eval(&mut hpa(cfg), 0.0, 10, 10, &[("cpu", Some(0.66))]).desired,
        10
    );
    // 0.69 / 0.60 = 1.15: ceil(10 x 1.15) = 12.
    assert_eq!(
        eval(&mut hpa(cfg), 0.0, 10, 10, &[("cpu", Some(0.69))]).desired,
        12
    );
    // 0.57 / 0.60 = 0.95: no change; 0.51 / 0.60 = 0.85: ceil(8.5) = 9.
    assert_eq!(
        eval(&mut hpa(cfg), 0.0, 10, 10, &[("cpu", Some(0.57))]).desired,
        10
    );
    assert_eq!(
        eval(&mut hpa(cfg), 0.0, 10, 10, &[("cpu", Some(0.51))]).desired,
        9
    );
    // tolerance = 0.2 widens the band: 1.15 is now within it.
    let wide = format!("tolerance = 0.2\n{cfg}");
    assert_eq!(
        eval(&mut hpa(&wide), 0.0, 10, 10, &[("cpu", Some(0.69))]).desired,
        10
    );
}

#[test]
fn per_direction_tolerances_from_behavior() {
    // KEP-4951 (HPAConfigurableTolerance): behavior.scaleUp.tolerance and
    // behavior.scaleDown.tolerance; isWithin is 1 - down <= ratio <= 1 + up.
    let cfg = r#"max = 50
metrics = [{ name = "cpu", utilization = 50 }]
behavior = { scale_up = { tolerance = 0 }, scale_down = { stabilization = 0, tolerance = 0.2 } }
"#;
    // 0.52 / 0.50 = 1.04 > 1 + 0: ceil(10 x 1.04) = 11.
    assert_eq!(
        eval(&mut hpa(cfg), 0.0, 10, 10, &[("cpu", Some(0.52))]).desired,
        11
    );
    // 0.42 / 0.50 = 0.84 >= 1 - 0.2: no change.
    assert_eq!(
        eval(&mut hpa(cfg), 0.0, 10, 10, &[("cpu", Some(0.42))]).desired,
        10
    );
}

#[test]
fn desired_is_the_ceiling_of_current_times_ratio() {
    // docs: desiredReplicas = ceil[currentReplicas x (currentMetricValue /
    // desiredMetricValue)].
    let cfg = r#"max = 50
metrics = [{ name = "cpu", utilization = 50 }]
"#;
    // 3 x 0.70 / 0.50 = 4.2 -> 5.
    assert_eq!(
        eval(&mut hpa(cfg), 0.0, 3, 3, &[("cpu", Some(0.70))]).desired,
        5
    );
    // A Pods metric: 3 x 130 / 100 = 3.9 -> 4.
    let pods = r#"max = 50
metrics = [{ name = "rps", average_value = 100 }]
"#;
    assert_eq!(
        eval(&mut hpa(pods), 0.0, 3, 3, &[("rps", Some(130.0))]).desired,
        4
    );
    // Utilization is an integer percent (utilization.go
    // GetResourceUtilizationRatio): 0.5549 is 55%, ratio 1.1, within.
    assert_eq!(
        eval(&mut hpa(cfg), 0.0, 10, 10, &[("cpu", Some(0.5549))]).desired,
        10
    );
    // An External averageValue: ceil(value / target) = ceil(95 / 10) = 10
    // (replica_calculator.go GetExternalPerPodMetricReplicas).
    let external = r#"max = 50
metrics = [{ name = "queue_total", average_value = 10 }]
"#;
    assert_eq!(
        eval(
            &mut hpa(external),
            0.0,
            8,
            8,
            &[("queue_total", Some(95.0))]
        )
        .desired,
        10
    );
    // An Object value: ceil(ready x value / target) = ceil(4 x 90 / 50) = 8,
    // with 4 pods of which 3 ready: ceil(3 x 90 / 50) = 6.
    let object = r#"max = 50
metrics = [{ name = "queue_total", value = 50 }]
"#;
    assert_eq!(
        eval(&mut hpa(object), 0.0, 4, 4, &[("queue_total", Some(90.0))]).desired,
        8
    );
    assert_eq!(
        eval(&mut hpa(object), 0.0, 4, 3, &[("queue_total", Some(90.0))]).desired,
        6
    );
}

#[test]
fn min_and_max_bound_the_result() {
    // horizontal.go convertDesiredReplicasWithBehaviorRate: TooManyReplicas,
    // TooFewReplicas; reconcileAutoscaler: replicas outside [min, max] are
    // brought back before any metric is read.
    let cfg = r#"min = 3
max = 10
metrics = [{ name = "cpu", utilization = 40 }]
[behavior]
scale_up = { policies = [{ type = "percent", value = 1000, period = "15s" }] }
scale_down = { stabilization = 0 }
"#;
    // 5 x 1.0 / 0.4 = 12.5 -> 13, above max.
    let d = eval(&mut hpa(cfg), 0.0, 5, 5, &[("cpu", Some(1.0))]);
    assert_eq!(d.desired, 10, "{}", d.reason);
    assert!(d.reason.contains("capped at max 10"), "{}", d.reason);
    let d = eval(&mut hpa(cfg), 0.0, 5, 5, &[("cpu", Some(0.05))]);
    assert_eq!(d.desired, 3, "{}", d.reason);
    assert!(d.reason.contains("raised to min 3"), "{}", d.reason);
    // Outside the bounds already: back to them, whatever the metrics say.
    assert_eq!(
        eval(&mut hpa(cfg), 0.0, 14, 14, &[("cpu", Some(1.0))]).desired,
        10
    );
    assert_eq!(
        eval(&mut hpa(cfg), 0.0, 1, 1, &[("cpu", Some(0.01))]).desired,
        3
    );
    // Zero replicas: autoscaling is disabled (ScalingDisabled).
    assert_eq!(
        eval(&mut hpa(cfg), 0.0, 0, 0, &[("cpu", Some(1.0))]).desired,
        0
    );
}

#[test]
fn several_metrics_the_largest_proposal_wins() {
    // docs, Algorithm details: "If multiple metrics are specified ... the
    // controller chooses the largest desired replica count";
    // horizontal.go computeReplicasForMetrics.
    let cfg = r#"max = 50
metrics = [
  { name = "cpu", utilization = 60 },
  { name = "rps", average_value = 100 },
  { name = "queue_total", value = 50 },
]
"#;
    // cpu: 4 x 0.90 / 0.60 = 6; rps: 4 x 200 / 100 = 8; queue: 4 x 60 / 50 = 4.8 -> 5.
    let d = eval(
        &mut hpa(cfg),
        0.0,
        4,
        4,
        &[
            ("cpu", Some(0.9)),
            ("rps", Some(200.0)),
            ("queue_total", Some(60.0)),
        ],
    );
    assert_eq!(d.desired, 8, "{}", d.reason);
    assert!(
        d.reason.starts_with("rps 200 / target 100 -> 8"),
        "{}",
        d.reason
    );
    assert!(
        d.reason.contains("cpu -> 6") && d.reason.contains("queue_total -> 5"),
        "{}",
        d.reason
    );
}

#[test]
fn missing_metrics_are_skipped_but_block_scale_down() {
    // horizontal.go computeReplicasForMetrics: "If all metrics are invalid or
    // some are invalid and we would scale down, return an error" (no
    // rescale); a valid metric proposing more replicas still scales up.
    let cfg = r#"max = 50
metrics = [{ name = "cpu", utilization = 50 }, { name = "rps", average_value = 100 }]
behavior = { scale_down = { stabilization = 0 } }
"#;
    let d = eval(
        &mut hpa(cfg),
        0.0,
        4,
        4,
        &[("cpu", None), ("rps", Some(200.0))],
    );
    assert_eq!(d.desired, 8, "{}", d.reason);
    let d = eval(
        &mut hpa(cfg),
        0.0,
        4,
        4,
        &[("cpu", None), ("rps", Some(50.0))],
    );
    assert_eq!(d.desired, 4, "{}", d.reason);
    assert!(d.reason.contains("cpu unavailable"), "{}", d.reason);
    let d = eval(&mut hpa(cfg), 0.0, 4, 4, &[("cpu", None), ("rps", None)]);
    assert_eq!(d.desired, 4, "{}", d.reason);
    // Both present: the scale-down goes ahead (cpu 2, rps 2).
    let d = eval(
        &mut hpa(cfg),
        0.0,
        4,
        4,
        &[("cpu", Some(0.25)), ("rps", Some(50.0))],
    );
    assert_eq!(d.desired, 2, "{}", d.reason);
}

#[test]
fn pods_without_a_sample_count_at_target_down_and_zero_up() {
    // docs, Algorithm details: missing metrics are assumed to be 100% of the
    // desired value on scale down and 0% on scale up, then the ratio is
    // recomputed; replica_calculator.go GetResourceReplicas (missing pods
    // at max(100%, target) of the request) and calcPlainMetricReplicas (at
    // the target value).
    let cfg = r#"max = 50
metrics = [{ name = "cpu", utilization = 60 }]
behavior = { scale_down = { stabilization = 0 } }
"#;
    let s = |v| pod(true, 3600.0, &[Some(v)]);
    let none = pod(true, 3600.0, &[None]);
    // Scale down: 3 pods at 0.30 (ratio 0.5, alone -> 2) and 1 without a
    // sample counted at 100%: 47% / 60% = 0.78 -> ceil(0.78 x 4) = 4.
    let d = eval_pods(
        &mut hpa(cfg),
        0.0,
        &["cpu"],
        &[s(0.3), s(0.3), s(0.3), none.clone()],
    );
    assert_eq!(d.desired, 4, "{}", d.reason);
    assert!(d.reason.contains("counted at target"), "{}", d.reason);
    // Scale up: 2 pods at 0.90 (ratio 1.5) and 3 without a sample counted as
    // 0: 36% / 60% = 0.6 reverses the direction: keep 5.
    let d = eval_pods(
        &mut hpa(cfg),
        0.0,
        &["cpu"],
        &[s(0.9), s(0.9), none.clone(), none.clone(), none.clone()],
    );
    assert_eq!(d.desired, 5, "{}", d.reason);
    // 6 replicas asked for, 4 pods so far (3 at 0.90, 1 without a sample):
    // 67% / 60% -> ceil(1.12 x 4) = 5 would scale down while the metric
    // asks for more, so the count stays ("the change of metrics length would
    // cause a change in scale direction").
    let m = [Metric {
        name: "cpu".into(),
        value: None,
    }];
    let pods = [s(0.9), s(0.9), s(0.9), none.clone()];
    let d = hpa(cfg).evaluate(&Observation {
        now_s: 0.0,
        current: 6,
        ready: 4,
        metrics: &m,
        pods: &pods,
    });
    assert_eq!(d.desired, 6, "{}", d.reason);
    // A Pods metric: 3 at 40 rps and 1 missing counted at the 100 target:
    // avg 55 -> ceil(0.55 x 4) = 3 (instead of ceil(0.4 x 3) = 2).
    let rps = r#"max = 50
metrics = [{ name = "rps", average_value = 100 }]
behavior = { scale_down = { stabilization = 0 } }
"#;
    let r = |v| pod(true, 3600.0, &[Some(v)]);
    let d = eval_pods(
        &mut hpa(rps),
        0.0,
        &["rps"],
        &[r(40.0), r(40.0), r(40.0), none],
    );
    assert_eq!(d.desired, 3, "{}", d.reason);
}

#[test]
fn unready_pods_count_as_zero_on_scale_up_and_are_ignored_on_scale_down() {
    // docs, Algorithm details: not-yet-ready pods are set aside; on a scale
    // up they are assumed to consume 0%, then the ratio is recomputed and a
    // reversed direction or a ratio within tolerance means no change;
    // replica_calculator.go groupPods and GetResourceReplicas.
    let cfg = r#"max = 50
metrics = [{ name = "cpu", utilization = 60 }]
behavior = { scale_down = { stabilization = 0 } }
"#;
    let ready = |v| pod(true, 3600.0, &[Some(v)]);
    let starting = pod(false, 20.0, &[None]);
    // 2 ready at 0.90 (ratio 1.5, alone -> 3) + 2 not ready counted as 0:
    // 45% / 60% = 0.75 reverses the direction: keep 4.
    let d = eval_pods(
        &mut hpa(cfg),
        0.0,
        &["cpu"],
        &[ready(0.9), ready(0.9), starting.clone(), starting.clone()],
    );
    assert_eq!(d.desired, 4, "{}", d.reason);
    assert!(
        d.reason.contains("2 unready pods counted as 0"),
        "{}",
        d.reason
    );
    // 3 ready at 0.85 (85% / 60% = 1.42, alone -> ceil(4.25) = 5) + 1 not
    // ready counted as 0: 63% / 60% = 1.05 is within tolerance: keep 4.
    let d = eval_pods(
        &mut hpa(cfg),
        0.0,
        &["cpu"],
        &[ready(0.85), ready(0.85), ready(0.85), starting.clone()],
    );
    assert_eq!(d.desired, 4, "{}", d.reason);
    // Scale down: unready pods are left out: ceil(0.5 x 2) = 1.
    let d = eval_pods(
        &mut hpa(cfg),
        0.0,
        &["cpu"],
        &[ready(0.3), ready(0.3), starting.clone(), starting],
    );
    assert_eq!(d.desired, 1, "{}", d.reason);
    // CPU only: a ready pod younger than the initial readiness delay (30 s,
    // inside the 5 min CPU initialization period) is unready for CPU. Here
    // the 2 settled pods are at target: keep 3 (with it: 73% -> 4).
    let young = pod(true, 10.0, &[Some(1.0)]);
    let d = eval_pods(
        &mut hpa(cfg),
        0.0,
        &["cpu"],
        &[ready(0.6), ready(0.6), young.clone()],
    );
    assert_eq!(d.desired, 3, "{}", d.reason);
    let settled = pod(true, 600.0, &[Some(1.0)]);
    let d = eval_pods(
        &mut hpa(cfg),
        0.0,
        &["cpu"],
        &[ready(0.6), ready(0.6), settled],
    );
    assert_eq!(d.desired, 4, "{}", d.reason);
    // The same young pod counts for a Pods metric (groupPods applies the
    // CPU timing rules to the cpu resource only).
    let rps = r#"max = 50
metrics = [{ name = "rps", average_value = 100 }]
"#;
    let r = |v| pod(true, 3600.0, &[Some(v)]);
    let young = pod(true, 10.0, &[Some(300.0)]);
    let d = eval_pods(&mut hpa(rps), 0.0, &["rps"], &[r(100.0), r(100.0), young]);
    assert_eq!(d.desired, 5, "{}", d.reason);
}

#[test]
fn without_per_pod_detail_pending_replicas_are_unready() {
    // The same rule from counts: current - ready replicas exist as pods that
    // are not ready (Pending), so a scale-up is re-checked with them at 0.
    let cfg = r#"max = 50
metrics = [{ name = "cpu", utilization = 60 }]
"#;
    // 3 ready at 0.90, 2 pending: 54% / 60% = 0.9 reverses: keep 5.
    assert_eq!(
        eval(&mut hpa(cfg), 0.0, 5, 3, &[("cpu", Some(0.9))]).desired,
        5
    );
    // 3 ready at 0.85, 1 pending: 63% / 60% = 1.05 is within tolerance:
    // keep 4 (the 3 alone would ask for ceil(4.25) = 5).
    assert_eq!(
        eval(&mut hpa(cfg), 0.0, 4, 3, &[("cpu", Some(0.85))]).desired,
        4
    );
    // All 3 ready: ceil(3 x 1.5) = 5.
    assert_eq!(
        eval(&mut hpa(cfg), 0.0, 3, 3, &[("cpu", Some(0.9))]).desired,
        5
    );
}

#[test]
fn scale_down_stabilization_takes_the_highest_recommendation_in_the_window() {
    // docs, Stabilization window: "the highest recommendation from within
    // that window"; horizontal.go stabilizeRecommendationWithBehaviors
    // (recommendations newer than now - window; the first evaluation records
    // the current count: recordInitialRecommendation).
    let mut h = hpa(DRIVER);
    let mut steps = Vec::new();
    for k in 0..=28 {
        let t = 15.0 * k as f64;
        let rec = match t as u32 {
            0 => 10,
            15..=59 => 8,
            60..=119 => 6,
            _ => 4,
        };
        steps.push((t, rec));
    }
    let out = drive(&mut h, 10, &steps);
    let at = |t: u32| out[(t / 15) as usize];
    // Recommendations fell to 4 at 120 s, but the 10 recorded at 0 s holds
    // the count for the whole 300 s window...
    assert_eq!(at(200), 10);
    assert_eq!(at(285), 10);
    // ... then the highest of the remaining window is applied, step by step.
    assert_eq!(at(300), 8);
    assert_eq!(at(330), 8);
    assert_eq!(at(345), 6);
    assert_eq!(at(390), 6);
    assert_eq!(at(405), 4);
}

#[test]
fn scale_up_stabilization_takes_the_lowest_recommendation_in_the_window() {
    // docs, Stabilization window / behavior.scaleUp.stabilizationWindowSeconds;
    // horizontal.go stabilizeRecommendationWithBehaviors (upRecommendation:
    // min over the scale-up window).
    let cfg = format!(
        "{DRIVER}behavior = {{ scale_up = {{ stabilization = 60, policies = [{{ type = \"pods\", value = 100, period = 15 }}] }} }}\n"
    );
    let mut h = hpa(&cfg);
    let out = drive(
        &mut h,
        2,
        &[
            (0.0, 2),
            (15.0, 8),
            (30.0, 5),
            (45.0, 8),
            (60.0, 8),
            (75.0, 8),
            (90.0, 8),
        ],
    );
    // 2 (initial) within the last 60 s until 60 s; then the dip to 5 at 30 s
    // holds until it leaves the window at 90 s.
    assert_eq!(out, vec![2, 2, 2, 2, 5, 5, 8]);
}

#[test]
fn pods_and_percent_policies_limit_change_per_period() {
    // docs, Scaling policies; horizontal.go
    // calculateScaleUpLimitWithScalingRules: each policy allows
    // periodStartReplicas + Pods or ceil(periodStartReplicas x (1 +
    // Percent/100)), with periodStartReplicas = current - replicas added in
    // the last period (scale events are kept with their times).
    let cfg = format!(
        "{DRIVER}behavior = {{ scale_up = {{ policies = [{{ type = \"pods\", value = 4, period = \"60s\" }}, {{ type = \"percent\", value = 100, period = \"60s\" }}] }} }}\n"
    );
    let mut h = hpa(&cfg);
    let out = drive(
        &mut h,
        2,
        &[(0.0, 40), (15.0, 40), (45.0, 40), (60.0, 40), (120.0, 40)],
    );
    // 0 s: max(2 + 4, 2 x 2) = 6. 15 s and 45 s: the period started at 2,
    // so 6 is still the limit. 60 s: the +4 event is 60 s old, out of the
    // period: max(6 + 4, 12) = 12. 120 s: max(16, 24) = 24.
    assert_eq!(out, vec![6, 6, 6, 12, 24]);
    // "the proposal has to be rounded up": Percent 50 from 3 allows
    // ceil(4.5) = 5.
    let half = format!(
        "{DRIVER}behavior = {{ scale_up = {{ policies = [{{ type = \"percent\", value = 50, period = \"60s\" }}] }} }}\n"
    );
    assert_eq!(drive(&mut hpa(&half), 3, &[(0.0, 40)]), vec![5]);

    // Scale down by Percent truncates: 10% per 60 s from 80 gives 72, holds
    // while the -8 is inside the period, then 64
    // (calculateScaleDownLimitWithBehaviors).
    let down = format!(
        "{DRIVER}behavior = {{ scale_down = {{ stabilization = 0, policies = [{{ type = \"percent\", value = 10, period = \"60s\" }}] }} }}\n"
    );
    let mut h = hpa(&down);
    let out = drive(&mut h, 80, &[(0.0, 10), (15.0, 10), (60.0, 10)]);
    assert_eq!(out, vec![72, 72, 64]);
    let d = eval(
        &mut hpa(&down),
        0.0,
        80,
        80,
        &[("queue_total", Some(100.0))],
    );
    assert!(
        d.reason
            .contains("scale-down limited by Percent policy 10% per 60s -> 72"),
        "{}",
        d.reason
    );
}

#[test]
fn select_policy_max_min_and_disabled() {
    // docs, Scaling policies: selectPolicy Max (default) picks the policy
    // allowing the highest change, Min the lowest, Disabled turns scaling in
    // that direction off.
    let with = |select: &str, dir: &str| {
        format!(
            "{DRIVER}behavior = {{ {dir} = {{ stabilization = 0, select = \"{select}\", policies = [{{ type = \"pods\", value = 4, period = \"60s\" }}, {{ type = \"percent\", value = 50, period = \"60s\" }}] }} }}\n"
        )
    };
    let up = |select: &str| drive(&mut hpa(&with(select, "scale_up")), 10, &[(0.0, 40)])[0];
    // From 10: Pods gives 14, Percent 15.
    assert_eq!(up("max"), 15);
    assert_eq!(up("min"), 14);
    assert_eq!(up("disabled"), 10);
    let down = |select: &str| drive(&mut hpa(&with(select, "scale_down")), 10, &[(0.0, 1)])[0];
    // From 10: Pods allows 6, Percent 5.
    assert_eq!(down("max"), 5);
    assert_eq!(down("min"), 6);
    assert_eq!(down("disabled"), 10);
    let d = eval(
        &mut hpa(&with("disabled", "scale_up")),
        0.0,
        10,
        10,
        &[("queue_total", Some(400.0))],
    );
    assert!(d.reason.contains("selectPolicy Disabled"), "{}", d.reason);
}

#[test]
fn default_behavior_when_none_is_given() {
    // docs, Default Behavior; defaults.go: scale up with no window by the
    // larger of 4 pods or 100% per 15 s; scale down by 100% per 15 s after
    // a 300 s window.
    let mut h = hpa(DRIVER);
    let out = drive(&mut h, 1, &[(0.0, 50), (15.0, 50), (30.0, 50), (45.0, 50)]);
    // max(1 + 4, 2) = 5, max(9, 10) = 10, max(14, 20) = 20, then 40 > 50? no: max(24, 40) = 40.
    assert_eq!(out, vec![5, 10, 20, 40]);

    let mut h = hpa(DRIVER);
    let steps: Vec<(f64, u32)> = (0..=21).map(|k| (15.0 * k as f64, 2)).collect();
    let out = drive(&mut h, 20, &steps);
    // Held at 20 until the 300 s window has passed, then straight to 2
    // (100% per 15 s allows any scale-down).
    assert!(out[..20].iter().all(|&r| r == 20), "{out:?}");
    assert_eq!(out[20], 2, "{out:?}");

    // The reason names the limiting policy.
    let cfg = r#"max = 50
metrics = [{ name = "cpu", utilization = 60 }]
"#;
    let d = eval(&mut hpa(cfg), 0.0, 1, 1, &[("cpu", Some(1.0))]);
    assert_eq!(d.desired, 2, "{}", d.reason);
    let d = eval(&mut hpa(DRIVER), 0.0, 1, 1, &[("queue_total", Some(100.0))]);
    assert_eq!(
        d.reason,
        "queue_total 100 / target 10 per pod -> 10; scale-up limited by Pods policy 4 per 15s -> 5"
    );
}

#[test]
fn legacy_path_for_an_hpa_without_behavior() {
    // horizontal.go normalizeDesiredReplicas / convertDesiredReplicasWithRules:
    // with spec.behavior nil the controller allows at most max(2 x current, 4)
    // and keeps the highest recommendation of the downscale window.
    let cfg = format!("{DRIVER}behavior = \"legacy\"\n");
    let out = drive(&mut hpa(&cfg), 1, &[(0.0, 50), (15.0, 50), (30.0, 50)]);
    assert_eq!(out, vec![4, 8, 16]);
}

#[test]
fn reason_names_the_metric_and_the_limit() {
    let cfg = r#"max = 50
metrics = [{ name = "cpu", utilization = 60 }]
behavior = { scale_up = { policies = [{ type = "pods", value = 1, period = "15s" }] } }
"#;
    let d = eval(&mut hpa(cfg), 0.0, 4, 4, &[("cpu", Some(0.92))]);
    assert_eq!(d.desired, 5);
    assert_eq!(
        d.reason,
        "cpu 0.92 / target 0.60 -> 7; scale-up limited by Pods policy 1 per 15s -> 5"
    );
}
