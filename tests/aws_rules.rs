//! The AWS scaling policies (`models/src/policy/aws/`) against the behaviour AWS
//! documents: the worked examples of the *Amazon EC2 Auto Scaling User
//! Guide* ("Step and simple scaling policies": step adjustments, scaling
//! adjustment types, instance warm-up; "Scaling cooldowns"; "Target tracking
//! scaling policies"), the *Application Auto Scaling User Guide* (target
//! tracking scale-in and cooldowns) and the *Amazon CloudWatch User Guide*
//! ("Using Amazon CloudWatch alarms": M out of N, missing data tables).
//! Policies are driven directly, one Observation per alarm period.

use scalesim::models::policy::aws::{
    round_percent_change, Alarm, AlarmState, Comparison, MissingData, Simple, SimpleConfig, Step,
    StepConfig, TargetConfig, TargetTracking,
};
use scalesim::models::policy::{Controller, Decision, Metric, Observation};

/// One evaluation at time `t` with `current` desired and `ready` instances
/// and one CPU datapoint, published as `cpu` (scalesim's share) and as
/// `cpu_percent`, a metric of AWS's own unit for the guide's examples
/// written in percent (a `cpu` threshold of 50 is refused as a percent).
fn eval(c: &mut dyn Controller, t: f64, current: u32, ready: u32, cpu: Option<f64>) -> Decision {
    let metrics = ["cpu", "cpu_percent"].map(|name| Metric {
        name: name.into(),
        value: cpu,
    });
    c.evaluate(&Observation {
        now_s: t,
        current,
        ready,
        metrics: &metrics,
        pods: &[],
    })
}

fn step(toml_text: &str) -> Step {
    let cfg: StepConfig = toml::from_str(toml_text).expect("step config parses");
    Step::new(&cfg).expect("step config is valid")
}

fn simple(toml_text: &str) -> Simple {
    let cfg: SimpleConfig = toml::from_str(toml_text).expect("simple config parses");
    Simple::new(&cfg).expect("simple config is valid")
}

fn target(toml_text: &str) -> TargetTracking {
    let cfg: TargetConfig = toml::from_str(toml_text).expect("target config parses");
    TargetTracking::new(&cfg).expect("target config is valid")
}

/// The EC2 guide's step adjustment example: threshold 50 %, scale-out steps
/// 0-10 -> 0, 10-20 -> +10 %, 20+ -> +30 %; scale-in steps -10-0 -> 0,
/// -20 - -10 -> -10 %, below -20 -> -30 %; PercentChangeInCapacity.
const DOC_EXAMPLE: &str = r#"
policy = "step"
min = 1
max = 100
warmup = 0
scale_out = { metric = "cpu_percent", comparison = ">=", threshold = 50, adjustment_type = "PercentChangeInCapacity", steps = [
    { lower = 0, upper = 10, change = 0 },
    { lower = 10, upper = 20, change = 10 },
    { lower = 20, change = 30 } ] }
scale_in = { metric = "cpu_percent", comparison = "<=", threshold = 50, adjustment_type = "PercentChangeInCapacity", steps = [
    { lower = -10, upper = 0, change = 0 },
    { lower = -20, upper = -10, change = -10 },
    { upper = -20, change = -30 } ] }
"#;

/// EC2 guide, "Step adjustments": on 10 instances, 60 -> 11 (10 % of 10),
/// then 70 -> 14 (30 % of 11 = 3.3, rounded down to 3), then 40 -> 13
/// (10 % of 14 = 1.4 -> 1), then 30 -> 10 (30 % of 13 = 3.9 -> 3); between
/// 40 and 60 the capacity is maintained.
#[test]
fn step_worked_example_threshold_50_on_10_instances() {
    let mut p = step(DOC_EXAMPLE);
    let d = eval(&mut p, 0.0, 10, 10, Some(55.0));
    assert_eq!(d.desired, 10, "{}", d.reason);
    let d = eval(&mut p, 60.0, 10, 10, Some(60.0));
    assert_eq!(d.desired, 11, "{}", d.reason);
    assert!(d.reason.contains("step [+10, +20)"), "{}", d.reason);
    let d = eval(&mut p, 120.0, 11, 11, Some(70.0));
    assert_eq!(d.desired, 14, "{}", d.reason);
    assert!(
        d.reason
            .contains("PercentChangeInCapacity +30% of 11 = 3.3 -> +3"),
        "{}",
        d.reason
    );
    let d = eval(&mut p, 180.0, 14, 14, Some(50.0));
    assert_eq!(d.desired, 14, "{}", d.reason);
    let d = eval(&mut p, 240.0, 14, 14, Some(40.0));
    assert_eq!(d.desired, 13, "{}", d.reason);
    assert!(d.reason.contains("-10% of 14 = -1.4 -> -1"), "{}", d.reason);
    // "even after this decrease in capacity": one neutral period first.
    let d = eval(&mut p, 300.0, 13, 13, Some(45.0));
    assert_eq!(d.desired, 13, "{}", d.reason);
    let d = eval(&mut p, 360.0, 13, 13, Some(30.0));
    assert_eq!(d.desired, 10, "{}", d.reason);
    assert!(d.reason.contains("-30% of 13 = -3.9 -> -3"), "{}", d.reason);
}

/// EC2 guide: "If the metric value is above the breach threshold, the lower
/// bound is inclusive and the upper bound is exclusive. If the metric value
/// is below the breach threshold, the lower bound is exclusive and the upper
/// bound is inclusive."
#[test]
fn step_bounds_inclusive_on_the_documented_side() {
    let cases = [
        (59.99, 10), // [0, 10): no change
        (60.0, 11),  // lower bound of [10, 20) is inclusive
        (69.99, 11), // upper bound exclusive: still +10 %
        (70.0, 13),  // [20, +inf): +30 %
        (40.01, 10), // (-10, 0]: no change
        (40.0, 9),   // upper bound of (-20, -10] is inclusive: -10 %
        (30.01, 9),  // (-20, -10]
        (30.0, 7),   // (-inf, -20]: -30 %
    ];
    for (cpu, want) in cases {
        let mut p = step(DOC_EXAMPLE);
        let d = eval(&mut p, 0.0, 10, 10, Some(cpu));
        assert_eq!(d.desired, want, "cpu {cpu}: {}", d.reason);
    }
}

/// EC2 guide, "Instance warm-up": the metric gets to 60 (+1 -> 11), then to
/// 62 while the new instance warms: 10 % of the 10 in service is 1, the
/// desired capacity is already 11, no change; then to 70: 30 % of 10 is 3,
/// "we add only 2 instances, for a new desired capacity of 13".
#[test]
fn step_warmup_example_single_activity_per_step() {
    let mut p = step(&DOC_EXAMPLE.replace("warmup = 0", "warmup = \"300s\""));
    let d = eval(&mut p, 0.0, 10, 10, Some(60.0));
    assert_eq!(d.desired, 11, "{}", d.reason);
    let d = eval(&mut p, 60.0, 11, 10, Some(62.0));
    assert_eq!(d.desired, 11, "{}", d.reason);
    assert!(d.reason.contains("1 warming"), "{}", d.reason);
    // Ready now, but still inside its 300 s warm-up.
    let d = eval(&mut p, 120.0, 11, 11, Some(70.0));
    assert_eq!(d.desired, 13, "{}", d.reason);
    assert!(d.reason.contains("+30% of 10 = 3"), "{}", d.reason);
    // The same breach again while the 3 new instances warm: no new activity.
    let d = eval(&mut p, 180.0, 13, 13, Some(70.0));
    assert_eq!(d.desired, 13, "{}", d.reason);
    // "A scale-in activity can't start while a scale-out activity is in
    // progress."
    let d = eval(&mut p, 240.0, 13, 13, Some(20.0));
    assert_eq!(d.desired, 13, "{}", d.reason);
    assert!(d.reason.contains("scale-out in progress"), "{}", d.reason);
}

/// EC2 guide, "Scaling adjustment types": PercentChangeInCapacity results
/// are rounded: 12.7 -> 12, .67 -> 1, -.58 -> -1, -6.67 -> -6.
#[test]
fn percent_change_rounding_doc_examples() {
    assert_eq!(round_percent_change(12.7), 12);
    assert_eq!(round_percent_change(0.67), 1);
    assert_eq!(round_percent_change(-0.58), -1);
    assert_eq!(round_percent_change(-6.67), -6);
    assert_eq!(round_percent_change(3.0), 3);
    assert_eq!(round_percent_change(1.0), 1);
    assert_eq!(round_percent_change(-1.0), -1);
    assert_eq!(round_percent_change(0.0), 0);
    // Through a policy: 10 % of 127 instances is 12.7 -> +12.
    let mut p = simple(
        r#"
        max = 1000
        metric = "cpu"
        comparison = ">"
        threshold = 0.5
        adjustment = { type = "percent", value = 10 }
        "#,
    );
    let d = eval(&mut p, 0.0, 127, 127, Some(0.9));
    assert_eq!(d.desired, 139, "{}", d.reason);
    assert!(
        d.reason.contains("+10% of 127 = 12.7 -> +12"),
        "{}",
        d.reason
    );
}

/// EC2 guide, "Scaling adjustment types": ChangeInCapacity 3 + 5 = 8;
/// ExactCapacity 3 -> 5; PercentChangeInCapacity 10 % of 10 -> 11.
#[test]
fn adjustment_types_doc_examples() {
    for (kind, current, value, want) in [
        ("change", 3, 5, 8),
        ("ChangeInCapacity", 3, 5, 8),
        ("exact", 3, 5, 5),
        ("ExactCapacity", 3, 5, 5),
        ("percent", 10, 10, 11),
        ("PercentChangeInCapacity", 10, 10, 11),
    ] {
        let mut p = simple(&format!(
            r#"
            policy = "simple"
            max = 100
            metric = "cpu"
            comparison = ">="
            threshold = 0.7
            adjustment = {{ type = "{kind}", value = {value} }}
            "#
        ));
        let d = eval(&mut p, 0.0, current, current, Some(0.75));
        assert_eq!(d.desired, want, "{kind}: {}", d.reason);
        assert!(
            d.reason.contains(
                &kind
                    .replace("change", "ChangeInCapacity")
                    .replace("exact", "ExactCapacity")
                    .replace("percent", "PercentChangeInCapacity")
            ),
            "{}",
            d.reason
        );
    }
}

/// EC2 guide: "suppose that you create a policy that adds 25 percent and
/// you specify a minimum increment of 2 instances ... 25 percent of 4 is 1
/// instance. However, because you specified a minimum increment of 2, there
/// are 2 instances added."
#[test]
fn min_adjustment_magnitude_doc_example() {
    let cfg = |mam: &str| {
        format!(
            r#"
            max = 100
            metric = "cpu"
            comparison = ">="
            threshold = 0.7
            adjustment = {{ type = "percent", value = 25 {mam} }}
            "#
        )
    };
    let mut with = simple(&cfg(", min_adjustment_magnitude = 2"));
    let d = eval(&mut with, 0.0, 4, 4, Some(0.8));
    assert_eq!(d.desired, 6, "{}", d.reason);
    assert!(d.reason.contains("min magnitude 2 -> +2"), "{}", d.reason);
    let mut without = simple(&cfg(""));
    assert_eq!(eval(&mut without, 0.0, 4, 4, Some(0.8)).desired, 5);

    // The reason spells out each rounding, as in a scaling_events.csv row.
    let mut p = step(
        r#"
        max = 20
        warmup = 0
        metric = "cpu"
        comparison = ">="
        threshold = 0.7
        evaluation_periods = 3
        adjustment_type = "percent"
        min_adjustment_magnitude = 2
        steps = [{ lower = 0, upper = 0.1, change = 10 }, { lower = 0.1, upper = 0.2, change = 30 }, { lower = 0.2, change = 50 }]
        "#,
    );
    for t in [0.0, 60.0] {
        assert_eq!(eval(&mut p, t, 5, 5, Some(0.82)).desired, 5);
    }
    let d = eval(&mut p, 120.0, 5, 5, Some(0.82));
    assert_eq!(d.desired, 7, "{}", d.reason);
    assert_eq!(
        d.reason,
        "alarm: cpu avg 0.82 >= 0.7 (3 of 3): step [+0.1, +0.2) PercentChangeInCapacity +30% of 5 = 1.5 -> +1, min magnitude 2 -> +2 -> 7"
    );
}

/// EC2 guide, "Scaling cooldowns": after a simple policy scales, the group
/// "waits for the cooldown period to complete before resuming scaling
/// activities"; the cooldown starts when the activity completes (the last
/// instance in service).
#[test]
fn simple_cooldown_blocks_a_second_action() {
    let mut p = simple(
        r#"
        policy = "simple"
        max = 20
        metric = "cpu"
        comparison = ">="
        threshold = 0.7
        adjustment = { type = "change", value = 2 }
        cooldown = "300s"
        "#,
    );
    assert_eq!(eval(&mut p, 0.0, 4, 4, Some(0.9)).desired, 6);
    // Instances provisioning until t = 180: the activity is in progress.
    for t in [60.0, 120.0] {
        let d = eval(&mut p, t, 6, 4, Some(0.9));
        assert_eq!(d.desired, 6, "{}", d.reason);
        assert!(d.reason.contains("in progress"), "{}", d.reason);
    }
    // Complete at 180: cooldown until 480, though the alarm stays in ALARM.
    for t in [180.0, 240.0, 420.0] {
        let d = eval(&mut p, t, 6, 6, Some(0.9));
        assert_eq!(d.desired, 6, "t={t}: {}", d.reason);
        assert!(
            d.reason.contains("cooldown 300s until t=480s"),
            "{}",
            d.reason
        );
    }
    let d = eval(&mut p, 480.0, 6, 6, Some(0.9));
    assert_eq!(d.desired, 8, "{}", d.reason);
}

/// The usual pair: a scale-out and a scale-in simple policy share the
/// group's cooldown; a policy's own cooldown overrides the default ("a
/// scaling-specific cooldown period of 180 seconds for your scale-in
/// policy").
#[test]
fn simple_pair_shares_the_cooldown_and_scale_in_uses_its_own() {
    let mut p = simple(
        r#"
        max = 20
        min = 2
        scale_out = { metric = "cpu", comparison = ">=", threshold = 0.7, adjustment = { type = "change", value = 2 } }
        scale_in = { metric = "cpu", comparison = "<=", threshold = 0.3, adjustment = { type = "change", value = -1 }, cooldown = "180s" }
        "#,
    );
    assert_eq!(p.metrics(), vec!["cpu".to_string()]);
    assert_eq!(p.period_s(), 60.0);
    assert_eq!(eval(&mut p, 0.0, 4, 4, Some(0.9)).desired, 6);
    // Load drops at once; instances were ready at the next evaluation, so
    // the scale-out completed at t = 0 and its 300 s cooldown runs to 300.
    for t in [60.0, 120.0, 240.0] {
        let d = eval(&mut p, t, 6, 6, Some(0.1));
        assert_eq!(d.desired, 6, "t={t}: {}", d.reason);
        assert!(d.reason.starts_with("scale_out alarm OK"), "{}", d.reason);
        assert!(
            d.reason.contains("scale_in: cpu 0.1 <= 0.3"),
            "{}",
            d.reason
        );
    }
    assert_eq!(eval(&mut p, 300.0, 6, 6, Some(0.1)).desired, 5);
    for t in [360.0, 420.0] {
        assert_eq!(eval(&mut p, t, 5, 5, Some(0.1)).desired, 5, "t={t}");
    }
    assert_eq!(eval(&mut p, 480.0, 5, 5, Some(0.1)).desired, 4);
}

/// CloudWatch guide: "Datapoints to Alarm is the number of data points
/// within the evaluation period that must be breaching ... The breaching
/// data points do not have to be consecutive."
#[test]
fn datapoints_to_alarm_m_of_n() {
    let mut a = Alarm::new(
        "cpu",
        Comparison::GreaterOrEqual,
        0.7,
        3,
        2,
        MissingData::Missing,
    );
    assert_eq!(a.observe(Some(0.9)), AlarmState::InsufficientData);
    assert_eq!(a.observe(Some(0.5)), AlarmState::Ok);
    assert_eq!(a.observe(Some(0.8)), AlarmState::Alarm); // X 0 X: 2 of 3
    assert_eq!(a.breaching(), 2);
    assert_eq!(a.observe(Some(0.5)), AlarmState::Ok); // 0 X 0
    assert_eq!(a.observe(Some(0.7)), AlarmState::Alarm); // X 0 X, >= is inclusive
    assert_eq!(a.evaluated(), &[0.8, 0.5, 0.7]);

    // A 2-of-3 step policy acts on the second breaching datapoint only.
    let mut p = step(
        r#"
        max = 20
        metric = "cpu"
        comparison = ">"
        threshold = 0.7
        evaluation_periods = 3
        datapoints_to_alarm = 2
        steps = [{ lower = 0, change = 1 }]
        "#,
    );
    assert_eq!(eval(&mut p, 0.0, 4, 4, Some(0.9)).desired, 4);
    assert_eq!(eval(&mut p, 60.0, 4, 4, Some(0.6)).desired, 4);
    assert_eq!(eval(&mut p, 120.0, 4, 4, Some(0.95)).desired, 5);
}

/// Feeds "0 - X - X" (0: not breaching, X: breaching, -: missing) to an
/// alarm with threshold 3, after a prefix that sets its earlier state.
fn run_alarm(m: u32, missing: MissingData, prefix: &str, points: &str) -> AlarmState {
    let mut a = Alarm::new("m", Comparison::Greater, 3.0, 3, m, missing);
    let mut state = a.state();
    for c in prefix.split_whitespace().chain(points.split_whitespace()) {
        let v = match c {
            "0" => Some(1.0),
            "X" => Some(5.0),
            "-" => None,
            _ => panic!("bad datapoint {c}"),
        };
        state = a.observe(v);
    }
    state
}

/// CloudWatch guide, "How alarm state is evaluated when data is missing":
/// both tables (3 of 3 and 2 of 3, 5 datapoints retrieved), every
/// treatment. "Retain" is checked after both an ALARM and an OK history.
#[test]
fn cloudwatch_missing_data_tables() {
    use AlarmState::{Alarm as A, InsufficientData as I, Ok as O};
    // (datapoints, MISSING, IGNORE (None = retain), BREACHING, NOT BREACHING)
    let table1: [(&str, AlarmState, Option<AlarmState>, AlarmState, AlarmState); 6] = [
        ("0 - X - X", O, Some(O), O, O),
        ("0 - - - -", O, Some(O), O, O),
        ("- - - - -", I, None, A, O),
        ("0 X X - X", A, Some(A), A, A),
        ("- - - - X", I, None, A, O),
        ("X - - - -", A, None, A, O),
    ];
    let table2: [(&str, AlarmState, Option<AlarmState>, AlarmState, AlarmState); 5] = [
        ("0 - X - X", A, Some(A), A, A),
        ("0 0 X 0 X", A, Some(A), A, A),
        ("0 - X - -", O, Some(O), A, O),
        ("- - - - 0", O, Some(O), A, O),
        ("- - - - X", I, None, A, O),
    ];
    let rows = table1
        .iter()
        .map(|r| (3, r))
        .chain(table2.iter().map(|r| (2, r)));
    for (m, &(points, missing, ignore, breaching, not_breaching)) in rows {
        for (prefix, before) in [("X X X", A), ("0 0 0", O)] {
            let got = |t| run_alarm(m, t, prefix, points);
            let ctx = format!("{m} of 3, {points} after {prefix}");
            assert_eq!(got(MissingData::Missing), missing, "missing: {ctx}");
            assert_eq!(got(MissingData::Breaching), breaching, "breaching: {ctx}");
            assert_eq!(
                got(MissingData::NotBreaching),
                not_breaching,
                "notBreaching: {ctx}"
            );
            assert_eq!(
                got(MissingData::Ignore),
                ignore.unwrap_or(before),
                "ignore: {ctx}"
            );
        }
    }
}

/// "Amazon EC2 Auto Scaling does not scale your group below the minimum
/// capacity or above the maximum capacity."
#[test]
fn min_max_clamps() {
    let mut p = step(
        r#"
        min = 2
        max = 20
        warmup = 0
        scale_out = { metric = "cpu", comparison = ">=", threshold = 0.7, steps = [{ lower = 0, change = 5 }] }
        scale_in = { metric = "cpu", comparison = "<=", threshold = 0.3, steps = [{ upper = 0, change = -5 }] }
        "#,
    );
    let d = eval(&mut p, 0.0, 18, 18, Some(0.9));
    assert_eq!(d.desired, 20, "{}", d.reason);
    assert!(d.reason.contains("-> 23, max 20 -> 20"), "{}", d.reason);
    let d = eval(&mut p, 60.0, 20, 20, Some(0.9));
    assert_eq!(d.desired, 20, "{}", d.reason);
    assert!(d.reason.contains("desired stays 20"), "{}", d.reason);
    let d = eval(&mut p, 120.0, 4, 4, Some(0.1));
    assert_eq!(d.desired, 2, "{}", d.reason);
    assert!(d.reason.contains("min 2 -> 2"), "{}", d.reason);
    let d = eval(&mut p, 180.0, 25, 25, Some(0.5));
    assert_eq!(d.desired, 20, "{}", d.reason);
    assert!(d.reason.contains("outside"), "{}", d.reason);
}

/// Step policies match the aggregated value of the alarm's datapoints
/// (`MetricAggregationType`, default Average).
#[test]
fn step_matches_the_aggregated_datapoints() {
    let cfg = |agg: &str| {
        format!(
            r#"
            max = 100
            warmup = 0
            metric = "cpu_percent"
            comparison = ">="
            threshold = 50
            evaluation_periods = 3
            adjustment_type = "percent"
            {agg}
            steps = [{{ lower = 0, upper = 10, change = 0 }}, {{ lower = 10, upper = 20, change = 10 }}, {{ lower = 20, change = 30 }}]
            "#
        )
    };
    for (agg, want) in [
        ("", 11),
        ("aggregation = \"maximum\"", 13),
        ("aggregation = \"minimum\"", 10),
    ] {
        let mut p = step(&cfg(agg));
        eval(&mut p, 0.0, 10, 10, Some(55.0));
        eval(&mut p, 60.0, 10, 10, Some(72.0));
        // Average of 55, 72, 80 is 69: the +10 % step; max 80: +30 %; min 55: 0.
        let d = eval(&mut p, 120.0, 10, 10, Some(80.0));
        assert_eq!(d.desired, want, "{agg}: {}", d.reason);
    }
}

/// Target tracking scales out after the high alarm's 3 of 3 datapoints,
/// to ceil(in-service capacity x metric / target) ("we round up and add two
/// instances" for 1.5), and does not count warming instances again.
#[test]
fn target_tracking_scale_out_is_proportional() {
    let mut p = target(
        r#"
        policy = "target"
        metric = "cpu"
        target = 0.5
        max = 100
        warmup = "300s"
        "#,
    );
    assert_eq!(eval(&mut p, 0.0, 10, 10, Some(0.8)).desired, 10);
    assert_eq!(eval(&mut p, 60.0, 10, 10, Some(0.8)).desired, 10);
    let d = eval(&mut p, 120.0, 10, 10, Some(0.8));
    assert_eq!(d.desired, 16, "{}", d.reason);
    assert!(
        d.reason.contains("ceil(10 x 0.8 / 0.5) = 16"),
        "{}",
        d.reason
    );
    // The metric stays high while the 6 new instances provision and warm.
    let d = eval(&mut p, 180.0, 16, 10, Some(0.8));
    assert_eq!(d.desired, 16, "{}", d.reason);
    let d = eval(&mut p, 360.0, 16, 16, Some(0.8));
    assert_eq!(d.desired, 16, "{}", d.reason);
    // Warm-up over at 420: the 16 count.
    let d = eval(&mut p, 420.0, 16, 16, Some(0.6));
    assert_eq!(d.desired, 20, "{}", d.reason);

    // 1.5 instances needed -> 2 added.
    let mut p = target("metric = \"cpu\"\ntarget = 0.5\nmax = 10");
    for t in [0.0, 60.0] {
        eval(&mut p, t, 3, 3, Some(0.75));
    }
    assert_eq!(eval(&mut p, 120.0, 3, 3, Some(0.75)).desired, 5);
}

/// Target tracking scales in only when the low alarm (15 of 15 datapoints
/// more than 10 % below the target) fires, and removes the smaller number
/// ("removing 1.5 instances ... we remove just one instance").
#[test]
fn target_tracking_scale_in_is_slow_and_conservative() {
    let cfg = "metric = \"cpu\"\ntarget = 0.5\nmax = 100";
    let mut p = target(cfg);
    for i in 0..14 {
        let d = eval(&mut p, 60.0 * i as f64, 10, 10, Some(0.3));
        assert_eq!(d.desired, 10, "datapoint {}: {}", i + 1, d.reason);
    }
    let d = eval(&mut p, 840.0, 10, 10, Some(0.3));
    assert_eq!(d.desired, 6, "{}", d.reason);
    assert!(
        d.reason.contains("ceil(10 x 0.3 / 0.5) = 6"),
        "{}",
        d.reason
    );

    // 8.5 instances would do: 1 goes, not 2.
    let mut p = target(cfg);
    let mut last = None;
    for i in 0..15 {
        last = Some(eval(&mut p, 60.0 * i as f64, 10, 10, Some(0.425)));
    }
    assert_eq!(last.unwrap().desired, 9);

    // Below the target but not 10 % below: never scales in, though 92 of
    // 100 instances would do.
    let mut p = target("metric = \"cpu\"\ntarget = 0.5\nmax = 200");
    for i in 0..40 {
        let d = eval(&mut p, 60.0 * i as f64, 100, 100, Some(0.46));
        assert_eq!(d.desired, 100, "{}", d.reason);
    }
    // 11 % below: scales in after 15 datapoints.
    let mut p = target("metric = \"cpu\"\ntarget = 0.5\nmax = 200");
    let mut last = None;
    for i in 0..15 {
        last = Some(eval(&mut p, 60.0 * i as f64, 100, 100, Some(0.445)));
    }
    assert_eq!(last.unwrap().desired, 89);

    // A missing datapoint is not low utilization: no scale-in on it.
    let mut p = target(cfg);
    for i in 0..15 {
        let v = if i == 7 { None } else { Some(0.3) };
        assert_eq!(
            eval(&mut p, 60.0 * i as f64, 10, 10, v).desired,
            10,
            "i={i}"
        );
    }

    // DisableScaleIn.
    let mut p = target(&format!("{cfg}\ndisable_scale_in = true"));
    let mut last = None;
    for i in 0..20 {
        last = Some(eval(&mut p, 60.0 * i as f64, 10, 10, Some(0.1)));
    }
    let d = last.unwrap();
    assert_eq!(d.desired, 10);
    assert!(d.reason.contains("scale-in disabled"), "{}", d.reason);
}

/// Application Auto Scaling guide: "scale-in activities are blocked until
/// the cooldown period has expired. However, if another alarm triggers a
/// scale-out activity during the scale-in cooldown period, [it] scales out
/// the target immediately."
#[test]
fn target_scale_in_cooldown_blocks_scale_in_not_scale_out() {
    let cfg = "metric = \"cpu\"\ntarget = 0.5\nmax = 100\nscale_in_cooldown = \"300s\"";
    let mut p = target(cfg);
    for i in 0..15 {
        eval(&mut p, 60.0 * i as f64, 10, 10, Some(0.3));
    }
    // Scaled in to 6 at t = 840; utilization is still low on 6.
    for t in [900.0, 960.0, 1080.0] {
        let d = eval(&mut p, t, 6, 6, Some(0.2));
        assert_eq!(d.desired, 6, "t={t}: {}", d.reason);
    }
    let d = eval(&mut p, 1080.0 + 60.0, 6, 6, Some(0.2));
    assert_eq!(d.desired, 3, "{}", d.reason);

    let mut p = target(cfg);
    for i in 0..15 {
        eval(&mut p, 60.0 * i as f64, 10, 10, Some(0.3));
    }
    for (t, want) in [(900.0, 6), (960.0, 6), (1020.0, 11)] {
        let d = eval(&mut p, t, 6, 6, Some(0.9));
        assert_eq!(d.desired, want, "t={t}: {}", d.reason);
    }
}

fn step_err(toml_text: &str) -> (String, String) {
    let cfg: StepConfig = toml::from_str(toml_text).expect("parses");
    Step::new(&cfg).expect_err("should be rejected")
}

/// The StepAdjustment rules of the EC2 Auto Scaling API reference, and the
/// CloudWatch and capacity limits, each reported with its field path.
#[test]
fn invalid_configurations_are_rejected_with_their_field() {
    let with_steps = |steps: &str| {
        format!(
            "max = 10\nscale_out = {{ metric = \"cpu\", comparison = \">=\", threshold = 0.5, steps = [{steps}] }}"
        )
    };
    let cases = [
        // overlap
        (
            "{ lower = 0, upper = 0.2, change = 1 }, { lower = 0.1, change = 2 }",
            "scale_out.steps[1].lower",
            "overlap",
        ),
        // gap
        (
            "{ lower = 0, upper = 0.1, change = 1 }, { lower = 0.2, change = 2 }",
            "scale_out.steps[1].lower",
            "gap",
        ),
        // two open lower bounds
        (
            "{ upper = 0, change = 1 }, { upper = 0.1, change = 2 }, { lower = 0.1, change = 3 }",
            "scale_out.steps[1].lower",
            "only one",
        ),
        // a negative lower bound needs an open lower bound
        (
            "{ lower = -0.1, upper = 0, change = 1 }, { lower = 0, change = 2 }",
            "scale_out.steps[0].lower",
            "negative lower bound",
        ),
        // a positive upper bound needs an open upper bound
        (
            "{ lower = 0, upper = 0.1, change = 1 }",
            "scale_out.steps[0].upper",
            "positive upper bound",
        ),
        // both bounds open
        (
            "{ change = 1 }",
            "scale_out.steps[0].lower",
            "both be absent",
        ),
        // upper <= lower
        (
            "{ lower = 0.2, upper = 0.1, change = 1 }, { lower = 0.1, change = 2 }",
            "scale_out.steps[0].upper",
            "greater than",
        ),
        // no steps
        ("", "scale_out.steps", "at least one"),
    ];
    for (steps, field, words) in cases {
        let (f, m) = step_err(&with_steps(steps));
        assert_eq!(f, field, "{steps}: {m}");
        assert!(m.contains(words), "{steps}: {m}");
    }
    let alarm = "metric = \"cpu\"\ncomparison = \">=\"\nthreshold = 0.5\nsteps = [{ lower = 0, change = 1 }]";
    for (extra, field) in [
        ("max = 1\nmin = 2", "max"),
        (
            "max = 10\nevaluation_periods = 3\ndatapoints_to_alarm = 4",
            "datapoints_to_alarm",
        ),
        ("max = 10\nevaluation_periods = 0", "evaluation_periods"),
        ("max = 10\nevaluation_periods = 1441", "evaluation_periods"),
        (
            "max = 10\nmin_adjustment_magnitude = 2",
            "min_adjustment_magnitude",
        ),
        ("max = 10\nperiod = 0", "period"),
    ] {
        let (f, m) = step_err(&format!("{extra}\n{alarm}"));
        assert_eq!(f, field, "{extra}: {m}");
    }
    // ExactCapacity must be >= 0.
    let (f, _) = step_err(&format!(
        "max = 10\nadjustment_type = \"exact\"\n{}",
        alarm.replace("change = 1", "change = -1")
    ));
    assert_eq!(f, "steps[0].change");
    // Flat alarm and pair together.
    let (f, _) = step_err(&format!(
        "{}\nmetric = \"cpu\"",
        with_steps("{ lower = 0, change = 1 }")
    ));
    assert_eq!(f, "scale_out");
    // Step policies have no cooldown: an unknown field.
    assert!(
        toml::from_str::<StepConfig>(&format!("max = 10\ncooldown = \"60s\"\n{alarm}")).is_err()
    );

    let simple_err = |t: &str| {
        let cfg: SimpleConfig = toml::from_str(t).expect("parses");
        Simple::new(&cfg).expect_err("rejected").0
    };
    assert_eq!(simple_err("max = 10\nmetric = \"cpu\"\nthreshold = 0.5\nadjustment = { type = \"change\", value = 1 }"), "comparison");
    assert_eq!(
        simple_err("max = 10\nscale_in = { metric = \"cpu\", comparison = \"<\", threshold = 0.2, adjustment = { type = \"change\", value = -1, min_adjustment_magnitude = 1 } }"),
        "scale_in.adjustment.min_adjustment_magnitude"
    );

    let target_err = |t: &str| {
        let cfg: TargetConfig = toml::from_str(t).expect("parses");
        TargetTracking::new(&cfg).expect_err("rejected").0
    };
    assert_eq!(
        target_err("metric = \"cpu\"\ntarget = 0\nmax = 10"),
        "target"
    );
    assert_eq!(
        target_err("metric = \"cpu\"\ntarget = 0.5\nmax = 10\nscale_in_ratio = 1.5"),
        "scale_in_ratio"
    );
    assert_eq!(
        target_err("metric = \"cpu\"\ntarget = 0.5\nmax = 10\nscale_in_datapoints = 0"),
        "scale_in_datapoints"
    );
    assert!(toml::from_str::<TargetConfig>(
        "metric = \"cpu\"\ntarget = 0.5\nmax = 10\nscale_out_cooldown = 60"
    )
    .is_err());
}

/// EC2 guide, "Instance warm-up": "While scaling in, we consider instances
/// that are terminating as part of the current capacity of the group.
/// Therefore, we don't remove more instances from the Auto Scaling group
/// than necessary." The datapoint of the period right after a scale-in was
/// measured with the removed instances; it does not remove more.
#[test]
fn scale_in_counts_terminating_instances() {
    let mut p = step(
        r#"
        min = 1
        max = 20
        metric = "cpu"
        comparison = "<"
        threshold = 0.3
        steps = [{ upper = 0, change = -1 }]
        "#,
    );
    assert_eq!(eval(&mut p, 0.0, 10, 10, Some(0.1)).desired, 9);
    let d = eval(&mut p, 60.0, 9, 9, Some(0.1));
    assert_eq!(d.desired, 9, "{}", d.reason);
    assert!(d.reason.contains("(9 + 1 terminating)"), "{}", d.reason);
    assert_eq!(eval(&mut p, 120.0, 9, 9, Some(0.1)).desired, 8);

    let mut p = target("metric = \"cpu\"\ntarget = 0.5\nmax = 100");
    for i in 0..15 {
        eval(&mut p, 60.0 * i as f64, 10, 10, Some(0.3));
    }
    // Scaled in to 6 at t = 840; the next datapoint is still the old load.
    let d = eval(&mut p, 900.0, 6, 6, Some(0.3));
    assert_eq!(d.desired, 6, "{}", d.reason);
    assert!(
        d.reason
            .contains("ceil(10 x 0.3 / 0.5) = 6 (6 + 4 terminating)"),
        "{}",
        d.reason
    );
    // Measured on 6 instances, the utilization is back at the target.
    let d = eval(&mut p, 960.0, 6, 6, Some(0.5));
    assert_eq!(d.desired, 6, "{}", d.reason);
}

/// `replay-policy` feeds a recorded timeline whose `current` does not
/// follow the policy's decisions: the policy then keeps asking for the same
/// capacity instead of counting instances that were never launched (or
/// removed) as warming (or terminating).
#[test]
fn replayed_timeline_does_not_count_phantom_instances() {
    let mut p = target("metric = \"cpu\"\ntarget = 0.5\nmax = 100");
    for t in [0.0, 60.0] {
        eval(&mut p, t, 10, 10, Some(0.8));
    }
    for t in [120.0, 180.0, 240.0] {
        let d = eval(&mut p, t, 10, 10, Some(0.8));
        assert_eq!(d.desired, 16, "t={t}: {}", d.reason);
    }
    let mut p = step(DOC_EXAMPLE);
    for t in [0.0, 60.0, 120.0] {
        let d = eval(&mut p, t, 14, 14, Some(40.0));
        assert_eq!(d.desired, 13, "t={t}: {}", d.reason);
    }
}
