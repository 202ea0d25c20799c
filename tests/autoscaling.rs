//! Autoscaling inside a run: the instance lifecycle (provisioning, readiness
//! grace, draining), the timing of scale-outs, billing from request to
//! gone, and the scaling events.

use scalesim::scenario::load_str;

const SCHEDULED: &str = r#"
name = "lifecycle"
duration = "2h"
sample = "30s"
seed = 4

[traffic.t]
rate = 0.01
to = "api"

[components.api]
kind = "pool"
instances = 1
service = { dist = "const", value = "1ms" }
instance_type = "c5.large"
provision_time = { dist = "const", value = "60s" }
ready_delay = "30s"

[autoscaler.api]
policy = "scheduled"
hours = "00:00-24:00"
capacity = 1
off_hours = 1
overrides = [{ start = "30m", end = "90m", capacity = 3 }]
"#;

fn row(r: &scalesim::run::Run, t: f64) -> &scalesim::models::system::TsRow {
    r.report
        .timeseries
        .iter()
        .find(|x| x.component == "api" && (x.t_s - t).abs() < 1e-9)
        .unwrap_or_else(|| panic!("no row at {t}"))
}

#[test]
fn scale_out_waits_for_provisioning_and_readiness() {
    let l = load_str("s.toml", SCHEDULED, &[], "s").unwrap();
    let r = scalesim::run::run(&l, 0).unwrap();
    // Requested at 30m (1800 s), booted at 1860 s, ready at 1890 s.
    let at = |t| {
        let x = row(&r, t);
        (
            x.instances.unwrap(),
            x.instances_desired.unwrap(),
            x.instances_pending.unwrap(),
        )
    };
    assert_eq!(at(1800.0), (1, 3, 2));
    assert_eq!(
        at(1860.0),
        (1, 3, 2),
        "booted but within the readiness grace"
    );
    assert_eq!(at(1890.0), (3, 3, 0));
    // Scale-in at 90m: idle instances go at once.
    assert_eq!(at(5400.0), (1, 1, 0));
    let ev = &r.report.scaling_events;
    assert_eq!(ev.len(), 2, "{ev:?}");
    assert_eq!((ev[0].t_s, ev[0].from, ev[0].to), (1800.0, 1, 3));
    assert!(ev[0].reason.contains("override"), "{}", ev[0].reason);
    assert_eq!((ev[1].t_s, ev[1].from, ev[1].to), (5400.0, 3, 1));
    let api = &r.report.components[0];
    assert_eq!(
        (api.scale_outs, api.scale_ins, api.instances_max),
        (1, 1, 3)
    );
    // Ready instances: 1 for 2 h plus 2 from 1890 s to 5400 s.
    let mean = (7200.0 + 2.0 * (5400.0 - 1890.0)) / 7200.0;
    assert!(
        (api.instances_mean - mean).abs() < 1e-9,
        "{}",
        api.instances_mean
    );
}

#[test]
fn instances_cost_money_from_request_to_gone() {
    let l = load_str("s.toml", SCHEDULED, &[], "s").unwrap();
    let r = scalesim::run::run(&l, 0).unwrap();
    // One instance for 2 h, two more from 1800 s to 5400 s (billed while
    // provisioning and warming too): 4 instance-hours of c5.large.
    assert!(
        (r.summary.cost_usd.total - 4.0 * 0.085).abs() < 1e-9,
        "{}",
        r.summary.cost_usd.total
    );
    // The cumulative cost in the time series ends at the bill.
    let last = r
        .report
        .timeseries
        .iter()
        .rev()
        .find(|x| x.component == "api")
        .unwrap();
    assert!((last.cost_usd.unwrap() - 0.34).abs() < 1e-9);
}

#[test]
fn draining_instances_finish_their_requests() {
    // Busy instances at scale-in: each long request finishes before its
    // instance goes, and no request is lost.
    let text = SCHEDULED
        .replace("rate = 0.01", "rate = 2")
        .replace("value = \"1ms\" }", "value = \"20s\" }")
        .replace("instances = 1\n", "instances = 1\nconcurrency = 200\n");
    let l = load_str("s.toml", &text, &[], "s").unwrap();
    let r = scalesim::run::run(&l, 0).unwrap();
    assert_eq!(r.summary.requests.rejected, 0);
    // Every request takes exactly 20 s when it finds a slot at once.
    assert!(
        (r.summary.latency_s.max - 20.0).abs() < 1e-6,
        "{}",
        r.summary.latency_s.max
    );
    // Draining instances are billed until their last request ends: more
    // than the 0.34 of idle instances, by at most 20 s of two instances.
    let c = r.summary.cost_usd.total;
    assert!(
        c > 0.34 && c <= 0.34 + 2.0 * 20.0 / 3600.0 * 0.085 + 1e-9,
        "{c}"
    );
}

#[test]
fn autoscaled_runs_are_deterministic() {
    let l = load_str(
        "s.toml",
        &SCHEDULED.replace("rate = 0.01", "rate = 5"),
        &[],
        "s",
    )
    .unwrap();
    let a = scalesim::run::run(&l, 0).unwrap();
    let b = scalesim::run::run(&l, 0).unwrap();
    assert_eq!(a.report.scaling_events, b.report.scaling_events);
    assert_eq!(a.report.timeseries, b.report.timeseries);
}

#[test]
fn bad_autoscalers_are_located() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "[autoscaler.api]",
            "[autoscaler.apx]",
            "unknown component \"apx\"",
        ),
        (
            "policy = \"scheduled\"",
            "policy = \"sheduled\"",
            "did you mean `scheduled`",
        ),
        ("hours = \"00:00-24:00\"", "hours = \"late\"", "HH:MM-HH:MM"),
        ("off_hours = 1", "off_hourz = 1", "did you mean `off_hours`"),
        ("end = \"90m\"", "end = \"10m\"", "ends before it starts"),
    ];
    for (from, to, words) in cases {
        let e = load_str("s.toml", &SCHEDULED.replacen(from, to, 1), &[], "s")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("s.toml:") && e.contains(words),
            "{from} -> {to}: expected {words:?} in\n{e}"
        );
    }
}
