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

/// A Kubernetes HPA on a load step, with exact (deterministic) load:
/// 10 req/s to 30 min, 30 req/s to 3 h, 10 req/s after; each request
/// takes 100 ms on one slot, so the right size at 50% CPU is 2, then 6.
fn hpa_step_run() -> scalesim::run::Run {
    let d = std::env::temp_dir().join(format!("scalesim-as-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let mut csv = String::from("time,count\n");
    for i in 0..240 {
        let extra = if (30..180).contains(&i) { 1200 } else { 0 };
        csv.push_str(&format!("{},{extra}\n", i * 60));
    }
    std::fs::write(d.join("step.csv"), csv).unwrap();
    let text = r#"
name = "hpa-step"
duration = "4h"
sample = "15s"
[traffic.base]
rate = 10
arrivals = "deterministic"
to = "api"
[traffic.step]
trace = { file = "step.csv" }
arrivals = "deterministic"
to = "api"
[components.api]
kind = "pool"
instances = 2
service = { dist = "const", value = "100ms" }
provision_time = { dist = "const", value = "60s" }
metric_delay = "30s"
[autoscaler.api]
policy = "hpa"
min = 2
max = 20
metrics = [{ name = "cpu", utilization = 50 }]
"#;
    let file = d.join("s.toml");
    let l = load_str(file.to_str().unwrap(), text, &[], "s").unwrap();
    scalesim::run::run(&l, 0).unwrap()
}

#[test]
fn hpa_scales_out_after_delay_and_provisioning_and_in_after_stabilization() {
    let r = hpa_step_run();
    let ev = &r.report.scaling_events;
    for e in ev {
        eprintln!("{} {} -> {} ({})", e.t_s, e.from, e.to, e.reason);
    }
    assert!(!ev.is_empty());
    // The load steps up at 1800 s. The first window with it closes at
    // 1815 s and is visible 30 s later, at the 1845 s sync: the scale-out
    // comes exactly then (metric delay + window + evaluation).
    assert_eq!(ev[0].t_s, 1845.0, "{ev:?}");
    assert!(ev[0].from == 2 && ev[0].to > 2, "{:?}", ev[0]);
    // Its instances are ready 60 s later (provisioning).
    let ready = |t: f64| {
        r.report
            .timeseries
            .iter()
            .find(|x| x.component == "api" && x.t_s == t)
            .unwrap()
            .instances
            .unwrap()
    };
    assert_eq!(ready(1890.0), 2);
    assert_eq!(ready(1905.0), ev[0].to);
    // Flat load: no decision between 40 min and the drop at 3 h.
    let mid: Vec<_> = ev
        .iter()
        .filter(|e| e.t_s > 2400.0 && e.t_s < 10800.0)
        .collect();
    assert!(mid.is_empty(), "flapping on a flat load: {mid:?}");
    assert_eq!(ready(10800.0), 6, "right-sized at 50% CPU");
    // The load drops at 10800 s; low recommendations are visible from
    // 10845 s, and the 300 s scale-down stabilization holds the highest
    // recommendation of the window until it has passed.
    let first_in = ev.iter().find(|e| e.t_s > 10800.0).unwrap();
    assert!(first_in.to < first_in.from);
    assert!((11130.0..=11160.0).contains(&first_in.t_s), "{first_in:?}");
    assert!(first_in.reason.contains("cpu"), "{}", first_in.reason);
    let last = ev.last().unwrap();
    assert_eq!(last.to, 2, "back to the minimum: {ev:?}");
}

#[test]
fn hpa_from_a_kubernetes_manifest_in_a_scenario() {
    let d = std::env::temp_dir().join(format!("scalesim-manifest-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let manifest = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/policies/hpa-cpu.yaml"
    ))
    .unwrap();
    std::fs::write(d.join("hpa.yaml"), manifest).unwrap();
    let text = r#"
name = "manifest"
duration = "2h"
[traffic.t]
rate = 40
to = "api"
[components.api]
kind = "pool"
instances = 2
service = { dist = "exp", mean = "100ms" }
[autoscaler.api]
policy = "hpa"
manifest = "hpa.yaml"
"#;
    let file = d.join("s.toml");
    let l = load_str(file.to_str().unwrap(), text, &[], "s").unwrap();
    let r = scalesim::run::run(&l, 0).unwrap();
    // 40 req/s of 100 ms need 4 busy slots; at the manifest's 60% CPU
    // target the HPA settles near ceil(4 / 0.6) = 7.
    let api = &r.report.components[0];
    assert!(api.scale_outs >= 1, "{:?}", r.report.scaling_events);
    let last = r
        .report
        .timeseries
        .iter()
        .rev()
        .find(|x| x.component == "api")
        .unwrap();
    assert!(
        (6..=9).contains(&last.instances.unwrap()),
        "{:?}",
        last.instances
    );
    let missing = load_str(
        file.to_str().unwrap(),
        &text.replace("hpa.yaml", "nope.yaml"),
        &[],
        "s",
    )
    .unwrap_err()
    .to_string();
    assert!(
        missing.contains("s.toml:13:") && missing.contains("cannot read the manifest"),
        "{missing}"
    );
}

#[test]
fn custom_ratio_metrics_drive_policies() {
    // Scale on queued requests per ready instance... as a custom ratio of
    // queue_total over ready (which equals the built-in `queue`).
    let text = r#"
name = "ratio"
duration = "1h"
[traffic.t]
rate = 40
to = "api"
[components.api]
kind = "pool"
instances = 2
service = { dist = "exp", mean = "100ms" }
custom_metrics = [{ name = "backlog", ratio = ["queue_total", "ready"] }]
[autoscaler.api]
policy = "step"
max = 10
warmup = "60s"
scale_out = { metric = "backlog", comparison = ">=", threshold = 1.0, steps = [{ lower = 0.0, change = 1 }] }
"#;
    let l = load_str("r.toml", text, &[], "r").unwrap();
    let r = scalesim::run::run(&l, 0).unwrap();
    // 2 instances serve 20 req/s of the 40 offered: the backlog grows and
    // the policy adds instances until it stops growing (5 or more).
    let ev = &r.report.scaling_events;
    assert!(ev[0].reason.contains("backlog"), "{}", ev[0].reason);
    assert!(ev.last().unwrap().to >= 5, "{ev:?}");
    let bad = text.replace("\"ready\"]", "\"readyy\"]");
    let e = load_str("r.toml", &bad, &[], "r").unwrap_err().to_string();
    assert!(
        e.contains("r.toml:11:") && e.contains("unknown metric \"readyy\""),
        "{e}"
    );
}
