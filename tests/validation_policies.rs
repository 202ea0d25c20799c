//! Policies that combine as in real life: several on one pool (AWS's
//! largest-capacity rule, tracking policies that scale in only together, a
//! business-hours floor under a dynamic policy), a manual scale under an
//! HPA, and scaling to zero (refused where the real controller would leave
//! the pool stuck there; KEDA's scale to zero and back for an HPA); the
//! VPA's recommendation and its updater's evictions.

mod common;
use common::*;

/// A day of an API at 60 req/s in business hours (15 off), 25 ms of CPU a
/// request on one core per instance (40 req/s at 100%), with `autoscaler`.
fn day(autoscaler: &str) -> String {
    format!(
        r#"
name = "policies-validation"
duration = "1d"
warmup = "30m"
sample = "5m"
seed = 11

[traffic.web]
rate = 60
to = "api"
daily = {{ peak_hours = "07:00-20:00", peak = 1.0, off_peak = 0.25, ramp = "1h" }}

[components.api]
kind = "pool"
io = "async"
instances = 3
concurrency = 1
service = {{ dist = "lognormal", mean = "25ms", cv = 1.0 }}
queue_capacity = 2000
provision_time = "1m"

{autoscaler}
"#
    )
}

const COMBINED: &str = r#"
[autoscaler.api]
policy = "combined"

[[autoscaler.api.policies]]
policy = "target"
metric = "cpu"
target = 0.5
min = 2
max = 30

[[autoscaler.api.policies]]
policy = "scheduled"
hours = "07:00-20:00"
capacity = 6
off_hours = 2

[[autoscaler.api.policies]]
policy = "manual"
actions = [{ at = "12h", instances = 20 }]
"#;

#[test]
fn a_floor_holds_in_business_hours_and_tracking_takes_over_a_manual_scale() {
    let r = run_text(&day(COMBINED), 0);
    let ev = &r.report.scaling_events;
    for e in ev {
        println!("{:>6} {:>2} -> {:>2}  {}", e.t_s, e.from, e.to, e.reason);
    }
    // The floor: 6 from 07:00 (within the schedule's 60 s period) to 20:00.
    let rows: Vec<_> = r
        .report
        .timeseries
        .iter()
        .filter(|w| w.component == "api" && w.t_s > 7.0 * 3600.0 + 300.0 && w.t_s <= 20.0 * 3600.0)
        .collect();
    assert!(rows.len() > 100);
    for w in &rows {
        assert!(
            w.instances_desired.unwrap() >= 6,
            "{} s: {:?}",
            w.t_s,
            w.instances_desired
        );
    }
    let floor = ev
        .iter()
        .find(|e| e.reason.starts_with("scheduled"))
        .unwrap();
    assert!(
        (7.0 * 3600.0..7.0 * 3600.0 + 60.0).contains(&floor.t_s),
        "{}",
        floor.t_s
    );
    // At 60 req/s, 6 instances run at 25% CPU, below the target's low
    // alarm: only the floor holds them, and it alone lowers them at 20:00.
    assert!(!ev
        .iter()
        .any(|e| e.t_s > floor.t_s && e.t_s < 20.0 * 3600.0 && e.to < 6));
    // The manual scale applies at once, above every other member...
    let manual = ev.iter().find(|e| e.reason.starts_with("manual")).unwrap();
    assert_eq!((manual.t_s, manual.to), (12.0 * 3600.0, 20));
    // ...and target tracking scales in from it at its next evaluation: its
    // low alarm has been in ALARM all day (the floor held the capacity
    // above what it wanted), so it acts every period, down to the floor.
    let back = ev.iter().find(|e| e.t_s > manual.t_s).unwrap();
    assert!(back.reason.starts_with("target"), "{}", back.reason);
    assert_eq!(back.t_s, manual.t_s + 60.0);
    let mut settled = ev
        .iter()
        .filter(|e| e.t_s > manual.t_s && e.t_s < 20.0 * 3600.0);
    assert_eq!(settled.next_back().unwrap().to, 6);
}

#[test]
fn an_hpa_undoes_a_manual_scale_the_load_does_not_need() {
    // Every recommendation in the HPA's 300 s scale-down window was made
    // for the load before the manual scale, so the first sync after it
    // scales back down (the default scale-down policy allows 100% per 15 s).
    let hpa = r#"
[autoscaler.api]
policy = "combined"

[[autoscaler.api.policies]]
policy = "hpa"
min = 2
max = 30
metrics = [{ name = "cpu", utilization = 50 }]

[[autoscaler.api.policies]]
policy = "manual"
actions = [{ at = "12h", instances = 20 }]
"#;
    let r = run_text(&day(hpa), 0);
    let ev = &r.report.scaling_events;
    let manual = ev.iter().find(|e| e.reason.starts_with("manual")).unwrap();
    assert_eq!(manual.to, 20);
    let back = ev.iter().find(|e| e.t_s > manual.t_s).unwrap();
    println!(
        "{} -> {} at {} s: {}",
        back.from, back.to, back.t_s, back.reason
    );
    assert!(back.reason.starts_with("hpa"));
    assert!(back.t_s <= manual.t_s + 15.0 && back.to < 10, "{back:?}");
}

/// Jobs at 5 req/s in hours 1 and 4 of 6 only, on a pool whose HPA may
/// scale it to zero (`scale_to_zero`, KEDA's cooldownPeriod).
fn bursty(autoscaler: &str) -> String {
    format!(
        r#"
name = "zero-validation"
duration = "6h"
sample = "5m"
seed = 3

[traffic.jobs]
rate = 5
to = "api"
daily = {{ hourly = [0,1,0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0], smooth = false }}

[components.api]
kind = "pool"
instances = 1
concurrency = 4
service = {{ dist = "exp", mean = "100ms" }}
provision_time = "20s"

{autoscaler}
"#
    )
}

#[test]
fn an_hpa_scales_to_zero_when_idle_and_back_on_the_first_request() {
    let r = run_text(
        &bursty(
            r#"
[autoscaler.api]
policy = "hpa"
min = 0
max = 5
scale_to_zero = "5m"
"#,
        ),
        0,
    );
    let ev = &r.report.scaling_events;
    for e in ev {
        println!("{:>6} {} -> {}  {}", e.t_s, e.from, e.to, e.reason);
    }
    let ups: Vec<f64> = ev.iter().filter(|e| e.from == 0).map(|e| e.t_s).collect();
    let downs: Vec<f64> = ev.iter().filter(|e| e.to == 0).map(|e| e.t_s).collect();
    // Activated within a sync (15 s) of each busy hour's first request.
    assert_eq!(ups.len(), 2, "{ups:?}");
    for (up, hour) in ups.iter().zip([1.0, 4.0]) {
        assert!(*up > hour * 3600.0 && *up <= hour * 3600.0 + 16.0, "{up}");
    }
    // To zero after 5 idle minutes: at the start, after each busy hour.
    assert_eq!(downs.len(), 3, "{downs:?}");
    for (down, idle_from) in downs.iter().zip([0.0, 2.0 * 3600.0, 5.0 * 3600.0]) {
        assert!(
            *down >= idle_from + 300.0 && *down <= idle_from + 300.0 + 60.0,
            "{down} vs {idle_from}"
        );
    }
    // Nothing is lost: the first requests wait for the instance (the
    // 15 s sync at most, then the 20 s boot).
    let s = &r.summary;
    assert_eq!(s.requests.completed, s.requests.arrived);
    assert!(s.requests.arrived > 30_000);
    let max = s.latency_s.max;
    assert!((20.0..=36.0).contains(&max), "{max}");
}

#[test]
fn min_zero_is_refused_where_the_pool_would_stay_at_zero() {
    let e = load_error(&bursty(
        "[autoscaler.api]\npolicy = \"hpa\"\nmin = 0\nmax = 5\n",
    ));
    assert!(
        e.contains("autoscaler.api.min") && e.contains("scale_to_zero"),
        "{e}"
    );
    let e = load_error(&bursty(
        "[autoscaler.api]\npolicy = \"target\"\nmetric = \"cpu\"\ntarget = 0.5\nmin = 0\nmax = 5\n",
    ));
    assert!(
        e.contains("autoscaler.api.min") && e.contains("target tracking"),
        "{e}"
    );
    let step = |metric: &str| {
        format!(
            r#"
[autoscaler.api]
policy = "step"
min = 0
max = 5
[autoscaler.api.scale_out]
metric = "{metric}"
comparison = ">"
threshold = 0
steps = [{{ lower = 0.0, change = 1 }}]
[autoscaler.api.scale_in]
metric = "arrivals"
comparison = "<="
threshold = 0
steps = [{{ upper = 0.0, change = -1 }}]
"#
        )
    };
    let e = load_error(&bursty(&step("rps")));
    assert!(
        e.contains("autoscaler.api.min") && e.contains("queue_total"),
        "{e}"
    );
    // A step policy on a whole-pool count scales from zero.
    let r = run_text(&bursty(&step("arrivals")), 0);
    assert!(r
        .report
        .scaling_events
        .iter()
        .any(|e| e.from == 0 && e.to == 1));
    let e = load_error(&bursty(
        "[autoscaler.api]\npolicy = \"hpa\"\nmin = 1\nmax = 5\nscale_to_zero = \"5m\"\n",
    ));
    assert!(e.contains("autoscaler.api.scale_to_zero"), "{e}");
}

#[test]
fn combined_members_are_checked_where_they_are_written() {
    let e = load_error(&day(
        "[autoscaler.api]\npolicy = \"combined\"\n[[autoscaler.api.policies]]\npolicy = \"target\"\nmetric = \"cpu\"\ntarget = 0.5\nmax = 5\n",
    ));
    assert!(
        e.contains("autoscaler.api.policies") && e.contains("two or more"),
        "{e}"
    );
    // An unknown field of a member, at its line.
    let text = day(&COMBINED.replace("capacity = 6", "capacity = 6\ncolour = 1"));
    let line = text.lines().position(|l| l.starts_with("colour")).unwrap() + 1;
    let e = load_error(&text);
    assert!(
        e.contains("colour") && e.contains(&format!(":{line}:")),
        "{e}"
    );
    let e = load_error(&day(&COMBINED.replace("max = 30", "max = 1")));
    assert!(e.contains("autoscaler.api.policies.0.max"), "{e}");
    let hpa = "\n[[autoscaler.api.policies]]\npolicy = \"hpa\"\nmax = 4\n";
    let e = load_error(&day(&format!(
        "[autoscaler.api]\npolicy = \"combined\"\n{hpa}{hpa}"
    )));
    assert!(
        e.contains("autoscaler.api.policies") && e.contains("two HPAs"),
        "{e}"
    );
}

/// 6 one-core async pods at utilisation `rho` (exponential service, 30 ms),
/// from 10:00 to 20:00 only when `peaks`, else all day, under a VPA in
/// `mode`.
fn vpa(rho: f64, peaks: bool, mode: &str) -> String {
    let rate = rho * 6.0 / 0.03;
    let daily = if peaks {
        "daily = { peak_hours = \"10:00-20:00\", peak = 1.0, off_peak = 0.3, ramp = \"0s\" }"
    } else {
        ""
    };
    format!(
        r#"
name = "vpa-validation"
duration = "16h"
sample = "5m"
seed = 9

[traffic.web]
rate = {rate}
to = "api"
{daily}

[components.api]
kind = "pool"
io = "async"
instances = 6
concurrency = 1
service = {{ dist = "exp", mean = "30ms" }}
instance_type = "c5.large"
provision_time = "30s"

[autoscaler.api]
policy = "vpa"
update_mode = "{mode}"
max_cores = 4
"#
    )
}

/// The numbers of a VPA reason: (lower bound, target).
fn bounds(reason: &str) -> (f64, f64) {
    let num = |after: &str| -> f64 {
        let at = reason.find(after).unwrap() + after.len();
        reason[at..].split(' ').next().unwrap().parse().unwrap()
    };
    (num("(bounds "), num("cpu target "))
}

#[test]
fn the_vpa_recommends_the_90th_percentile_plus_15_percent_and_evicts_by_its_rules() {
    // All day at 90%: each pod's per-minute CPU is about 0.9 core, so the
    // 90th percentile x 1.15 asks for more than 1 core (2 whole cores).
    // Once the history is an hour old the lower bound (the median x 1.15,
    // x (1 + 0.001 / days)^-2) passes the 1-core request: the pods are
    // outside the bounds and evicted, 3 at a time (floor(6 x 0.5)), the
    // second round a minute later once the first's replacements are up.
    let r = run_text(&vpa(0.9, false, "recreate"), 0);
    let ev = &r.report.scaling_events;
    for e in ev {
        println!("{:>6} {}", e.t_s, e.reason);
    }
    let (_, target) = bounds(&ev[0].reason);
    assert!(ev[0].reason.contains("-> 2 cores"), "{}", ev[0].reason);
    assert!((0.9 * 1.15..1.25).contains(&target), "{target}");
    let rounds: Vec<_> = ev
        .iter()
        .filter(|e| e.reason.contains("evicting"))
        .collect();
    assert_eq!(rounds.len(), 2, "{rounds:?}");
    assert!(rounds
        .iter()
        .all(|e| e.reason.ends_with("evicting 3 pod(s)")));
    assert!(
        bounds(&rounds[0].reason).0 >= 0.9995,
        "{}",
        rounds[0].reason
    );
    assert!(ev
        .iter()
        .filter(|e| e.t_s < rounds[0].t_s)
        .all(|e| bounds(&e.reason).0 < 1.0005));
    assert_eq!(rounds[1].t_s - rounds[0].t_s, 60.0);
    let api = r.summary.components.get("api").unwrap();
    assert_eq!(api.evictions, Some(6));
    // Twice the cores for the same work: the CPU halves (0.9 x 6 / 12 =
    // 0.45; a 5-minute window of 54,000 requests spreads by about 1%).
    for w in r
        .report
        .timeseries
        .iter()
        .filter(|w| w.component == "api" && w.t_s > 3.0 * 3600.0)
    {
        let cpu = w.cpu.unwrap();
        assert!((cpu - 0.45).abs() < 0.03, "{} s: cpu {cpu}", w.t_s);
        assert_eq!(w.instances, Some(6));
    }
    // Busy 10:00-20:00 only: the median stays low, the 1-core request is
    // within the bounds, and the pods go only once 12 hours old (12:00),
    // after the target reached 2 cores.
    let r = run_text(&vpa(0.9, true, "recreate"), 0);
    let ev = &r.report.scaling_events;
    let rounds: Vec<_> = ev
        .iter()
        .filter(|e| e.reason.contains("evicting"))
        .collect();
    println!("{rounds:?}");
    assert_eq!(rounds.len(), 2);
    assert!((12.0 * 3600.0..=12.0 * 3600.0 + 60.0).contains(&rounds[0].t_s));
    assert!(bounds(&rounds[0].reason).0 < 1.0);
    // "off" recommends without changing anything; "initial" sizes only
    // new pods (none here: nothing evicts).
    for mode in ["off", "initial"] {
        let r = run_text(&vpa(0.9, false, mode), 0);
        let api = r.summary.components.get("api").unwrap();
        assert_eq!(api.evictions, None, "{mode}");
        assert!(r
            .report
            .scaling_events
            .iter()
            .all(|e| !e.reason.contains("evicting")));
    }
    // At 80% the target (0.8 x 1.15 and the spread of a minute's CPU)
    // stays within 1 core.
    let r = run_text(&vpa(0.8, false, "recreate"), 0);
    assert!(r
        .report
        .scaling_events
        .iter()
        .all(|e| !e.reason.contains("-> 2")));
}

#[test]
fn a_vpa_is_refused_where_it_cannot_size_cpu() {
    let text = vpa(0.5, false, "recreate");
    let e = load_error(&text.replace("io = \"async\"\n", ""));
    assert!(
        e.contains("autoscaler.api.policy") && e.contains("blocking pool"),
        "{e}"
    );
    let e = load_error(&text.replace("max_cores = 4", "max_cores = 1000"));
    assert!(
        e.contains("autoscaler.api.max_cores") && e.contains("448"),
        "{e}"
    );
    let e = load_error(&text.replace("update_mode = \"recreate\"", "update_mode = \"inplace\""));
    assert!(e.contains("update_mode"), "{e}");
}
