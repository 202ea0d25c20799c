//! Verdicts a planner can trust (issue 13): work that never finished
//! counts against the SLO, job latency and growing backlogs are judged,
//! objectives per class and per component, and units that cannot be
//! misread.
//!
//! Expected figures come from the flows. A server that never answers
//! (one instance, a 1 h service) beside a healthy pool: its class's
//! requests (λ = 1/s for T = 1,200 s) all stay in flight; those of the
//! last 30 s (the grace) are not judged, the rest (~1,170) time out at
//! the end. With the healthy class at 10/s, error rate = 1,170 / (13,200 -
//! 30) = 0.089; Poisson counts move it by a few percent of itself.

mod common;

use common::{load_error, summary};
use scalesim::output::summary::Summary;
use scalesim::run::run;
use scalesim::scenario::load_str;

fn check<'a>(s: &'a Summary, metric: &str) -> &'a scalesim::slo::SloCheck {
    s.slo
        .checks
        .iter()
        .find(|c| c.metric == metric)
        .unwrap_or_else(|| panic!("no check {metric}: {:?}", s.slo.checks))
}

const OVERLOADED: &str = r#"
duration = "20m"
seed = 3
[traffic.web]
rate = 11
mix = [
  { name = "ok", weight = 10, to = "api" },
  { name = "stuck", weight = 1, to = "stuck" },
]
[components.api]
kind = "pool"
instances = 4
service = { dist = "exp", mean = "100ms" }
[components.stuck]
kind = "pool"
instances = 1
service = { dist = "const", value = "1h" }
"#;

#[test]
fn requests_left_in_flight_count_as_timed_out_and_fail_the_slo() {
    let s = summary(&format!(
        "{OVERLOADED}[slo]\np95 = \"2s\"\nerror_rate = 0.01\n"
    ));
    let r = &s.requests;
    assert!((1_050..1_350).contains(&r.in_flight_at_end), "{r:?}");
    assert_eq!(r.arrived, r.completed + r.rejected + r.in_flight_at_end);
    assert_eq!(r.timed_out, r.timed_out_at_end);
    // The unfinished younger than the grace: the last 30 s of the stuck
    // class (and a healthy request or two in service).
    let young = r.in_flight_at_end - r.timed_out_at_end;
    assert!((12..=60).contains(&young), "young {young}");
    assert!(
        (0.080..0.098).contains(&s.error_rate),
        "error rate {} (theory 0.089)",
        s.error_rate
    );
    assert!((s.availability - (1.0 - s.error_rate)).abs() < 1e-12);
    let e = check(&s, "error_rate");
    assert!(!e.passed && e.unfinished == Some(r.timed_out_at_end));
    // The p95 counts each unfinished request at its age: a lower bound of
    // its latency, far above the completed requests' own p95.
    let p95 = check(&s, "p95");
    assert!(
        !p95.passed && p95.value > 60.0 && s.latency_s.p95 < 1.0,
        "{p95:?}"
    );
    assert_eq!(p95.unfinished, Some(r.in_flight_at_end));
    // The stuck class fails on its own; the healthy one is clean.
    let stuck = &s.classes.0.iter().find(|c| c.0 == "web.stuck").unwrap().1;
    assert!(stuck.error_rate > 0.9 && stuck.timed_out_at_end > 1_000);
    let ok = &s.classes.0.iter().find(|c| c.0 == "web.ok").unwrap().1;
    assert_eq!(ok.timed_out_at_end, 0);
    assert!(!s.slo.passed);
}

#[test]
fn a_longer_grace_judges_no_request_timed_out_but_latency_still_fails() {
    let s = summary(&format!(
        "{OVERLOADED}[slo]\np95 = \"2s\"\nerror_rate = 0.01\nunfinished_grace = \"1h\"\n"
    ));
    assert_eq!(s.requests.timed_out_at_end, 0);
    assert_eq!(s.error_rate, 0.0);
    assert!(check(&s, "error_rate").passed);
    assert!(!check(&s, "p95").passed, "the ages still count");
    assert!(!s.slo.passed);
}

#[test]
fn a_healthy_run_leaves_nothing_timed_out_and_names_no_unfinished() {
    let s = summary(
        r#"
duration = "10m"
seed = 4
[traffic.web]
rate = 5
to = "api"
[components.api]
kind = "pool"
instances = 1
service = { dist = "exp", mean = "100ms" }
[slo]
p99 = "5s"
error_rate = 0.001
availability = "99.9%"
"#,
    );
    assert_eq!(s.requests.timed_out_at_end, 0);
    assert_eq!(s.error_rate, 0.0);
    let a = check(&s, "availability");
    assert_eq!((a.op, a.limit, a.value, a.passed), (">=", 0.999, 1.0, true));
    assert!(
        s.slo.checks.iter().all(|c| c.unfinished.is_none()),
        "{:?}",
        s.slo.checks
    );
    assert!(s.slo.passed);
}

const JOBS: &str = r#"
duration = "2h"
seed = 5
sample = "5m"
[traffic.web]
rate = 20
to = "jobs"
[components.jobs]
kind = "queue"
workers = "workers"
[components.workers]
kind = "pool"
instances = 1
concurrency = WORKERS
service = { dist = "exp", mean = "1s" }
"#;

#[test]
fn a_backlog_that_grows_through_the_run_fails_it_and_jobs_judge_by_age() {
    // 20 jobs/s into 15 workers of 1 job/s: the backlog grows by 5/s.
    let s = summary(&format!(
        "{}[slo]\njob_p99 = \"1m\"\n",
        JOBS.replace("WORKERS", "15")
    ));
    let b = check(&s, "components.jobs.bounded_backlog");
    assert!(!b.passed && b.value > 30_000.0, "{b:?}");
    assert!(b.note.as_deref().unwrap().contains("does not keep up"));
    let j = check(&s, "job_p99");
    assert!(!j.passed, "{j:?}");
    let q = s.components.get("jobs").unwrap();
    assert!(q.jobs_unfinished.unwrap() > 30_000);
    assert!(q.job_backlog_at_end.unwrap() > 30_000);
    assert!(!s.slo.passed);
}

#[test]
fn a_queue_that_keeps_up_is_not_flagged() {
    // 20 jobs/s into 30 workers: ρ = 0.67, a short backlog.
    let s = summary(&format!(
        "{}[slo]\njob_p99 = \"1m\"\n",
        JOBS.replace("WORKERS", "30")
    ));
    assert!(s
        .slo
        .checks
        .iter()
        .all(|c| c.metric != "components.jobs.bounded_backlog"));
    assert!(check(&s, "job_p99").passed);
    assert!(s.slo.passed, "{:?}", s.slo.checks);
}

const TWO_CLASSES: &str = r#"
duration = "20m"
warmup = "1m"
seed = 6
[traffic.web]
rate = 20
mix = [
  { name = "fast", weight = 1, to = "fn" },
  { name = "slow", weight = 1, to = "llm" },
]
[components.fn]
kind = "pool"
instances = 4
service = { dist = "const", value = "130ms" }
[components.llm]
kind = "pool"
instances = 12
service = { dist = "exp", mean = "1s" }
"#;

#[test]
fn each_class_and_component_is_judged_on_its_own_figures() {
    let s = summary(&format!(
        r#"{TWO_CLASSES}
[slo.classes."web.fast"]
p95 = "200ms"
[slo.classes."web.slow"]
p95 = "200ms"
[slo.components.llm]
utilization = 0.6
peak_utilization = "95%"
[slo.components.fn]
p99 = "150ms"
"#
    ));
    // The fast class: a constant 130 ms (λ/c·μ = 10/(4/0.13) = 0.33: a
    // short wait); the slow one, exp(1 s), cannot meet 200 ms.
    assert!(check(&s, "classes.web.fast.p95").passed);
    assert!(!check(&s, "classes.web.slow.p95").passed);
    // 10/s into 12 servers of 1/s: ρ = 0.83 over the run.
    let u = check(&s, "components.llm.utilization");
    assert!(!u.passed && (0.78..0.88).contains(&u.value), "{u:?}");
    let pk = check(&s, "components.llm.peak_utilization");
    assert!(pk.value >= u.value && pk.value <= 1.0, "{pk:?}");
    assert!(check(&s, "components.fn.p99").value >= 0.13);
    let fast = &s.classes.0.iter().find(|c| c.0 == "web.fast").unwrap().1;
    assert_eq!(fast.error_rate, 0.0);
}

#[test]
fn objectives_name_what_exists_and_what_their_scope_measures() {
    let e = load_error(&format!(
        "{TWO_CLASSES}[slo.classes.\"web.fsat\"]\np95 = \"1s\"\n"
    ));
    assert!(
        e.contains("slo.classes.web.fsat") && e.contains("did you mean \"web.fast\""),
        "{e}"
    );
    let e = load_error(&format!("{TWO_CLASSES}[slo.components.lm]\np95 = \"1s\"\n"));
    assert!(
        e.contains("no component \"lm\"") && e.contains("\"llm\""),
        "{e}"
    );
    let e = load_error(&format!("{TWO_CLASSES}[slo]\nutilization = 0.6\n"));
    assert!(
        e.contains("slo.utilization") && e.contains("[slo.components.<name>]"),
        "{e}"
    );
    let e = load_error(&format!(
        "{TWO_CLASSES}[slo.components.fn]\njob_p99 = \"1m\"\n"
    ));
    assert!(e.contains("measured by queues"), "{e}");
    let e = load_error(&format!(
        "{TWO_CLASSES}[slo.classes.\"web.fast\"]\nutilization = 0.5\n"
    ));
    assert!(e.contains("no utilization or jobs"), "{e}");
}

#[test]
fn units_that_cannot_be_misread() {
    // A bare number is seconds: 200 is refused as likely milliseconds.
    let e = load_error(&format!("{OVERLOADED}[slo]\np95 = 200\n"));
    assert!(
        e.contains("validation.toml:") && e.contains("`slo.p95`") && e.contains("write \"200ms\""),
        "{e}"
    );
    let e = load_error(&format!(
        "{TWO_CLASSES}[slo.classes.\"web.fast\"]\np99 = 150\n"
    ));
    assert!(e.contains("slo.classes.web.fast.p99"), "{e}");
    // Small bare numbers are plain seconds.
    let s = summary(&format!("{OVERLOADED}[slo]\np95 = 2\n"));
    assert_eq!(check(&s, "p95").limit, 2.0);
    // A share above 1 is a percent without its sign.
    let e = load_error(&format!("{OVERLOADED}[slo]\nerror_rate = 5\n"));
    assert!(e.contains("did you mean 0.05 or \"5%\""), "{e}");
    let s = summary(&format!("{OVERLOADED}[slo]\nerror_rate = \"0.1%\"\n"));
    assert_eq!(check(&s, "error_rate").limit, 0.001);
}

#[test]
fn a_runaway_says_what_happened() {
    let s = summary(&format!("max_in_flight = 500\n{OVERLOADED}"));
    assert!(s.runaway.is_some());
    let c = check(&s, "bounded_in_flight");
    assert!(!c.passed);
    let note = c.note.as_deref().unwrap();
    assert!(
        note.contains("stopped") && note.contains("max_in_flight cap of 500"),
        "{note}"
    );
    let table = scalesim::output::table(&s);
    assert!(!table.contains("<= 500"), "{table}");
}

/// An example scenario's text with `--set` overrides, loaded.
fn load_example(file: &str, sets: &[&str]) -> Result<scalesim::scenario::Loaded, String> {
    let text = std::fs::read_to_string(file).unwrap();
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    load_str(file, &text, &sets, "x").map_err(|d| d.to_string())
}

#[test]
fn policy_levels_on_shares_refuse_percent_numbers_and_take_percent_strings() {
    // AWS's CPUUtilization is in percent; scalesim's cpu is a fraction.
    let e = load_example("scenarios/target-week.toml", &["autoscaler.api.target=70"]).unwrap_err();
    assert!(
        e.contains("`autoscaler.api.target`") && e.contains("did you mean 0.7 or \"70%\""),
        "{e}"
    );
    let l = load_example(
        "scenarios/target-week.toml",
        &["autoscaler.api.target=\"70%\""],
    )
    .unwrap();
    let a = l
        .scenario
        .autoscaler
        .0
        .iter()
        .find(|(n, _)| n == "api")
        .unwrap();
    assert!(format!("{:?}", a.1).contains("value: 0.7"), "{:?}", a.1);
    let e = load_example(
        "scenarios/flapping.toml",
        &["autoscaler.api.scale_in.threshold=40"],
    )
    .unwrap_err();
    assert!(
        e.contains("scale_in.threshold") && e.contains("did you mean 0.4 or \"40%\"?"),
        "{e}"
    );
    // "40%" is the same policy as 0.4.
    let policy = |sets: &[&str]| {
        let l = load_example("scenarios/flapping.toml", sets).unwrap();
        let s = scalesim::run::run(&l, 0).unwrap().summary;
        let api = s.components.get("api").unwrap();
        (api.scale_outs, api.scale_ins)
    };
    assert_eq!(
        policy(&["autoscaler.api.scale_in.threshold=\"40%\""]),
        policy(&["autoscaler.api.scale_in.threshold=0.4"])
    );
}

#[test]
fn policy_levels_take_the_unit_of_their_metric() {
    let flapping = |set: &str| load_example("scenarios/flapping.toml", &[set]);
    // A latency threshold is a duration; a bare 300 is 300 s.
    let e = flapping("autoscaler.api.scale_out={metric=\"p99\",comparison=\">=\",threshold=300,adjustment={type=\"change\",value=1}}").unwrap_err();
    assert!(
        e.contains("`autoscaler.api.scale_out.threshold`")
            && e.contains("threshold = 300 means 300 seconds of p99; write \"300ms\""),
        "{e}"
    );
    flapping("autoscaler.api.scale_out={metric=\"p99\",comparison=\">=\",threshold=\"300ms\",adjustment={type=\"change\",value=1}}").unwrap();
    // A percent is for shares, a duration for latencies.
    let e = flapping("autoscaler.api.scale_out={metric=\"rps\",comparison=\">=\",threshold=\"50%\",adjustment={type=\"change\",value=1}}").unwrap_err();
    assert!(e.contains("a percent is for the share metrics"), "{e}");
    let e = flapping("autoscaler.api.scale_in.threshold=\"300ms\"").unwrap_err();
    assert!(
        e.contains("cpu is a share of a whole, not a duration"),
        "{e}"
    );
    let e = flapping("autoscaler.api.scale_in.threshold=\"lots\"").unwrap_err();
    assert!(
        e.contains("write a number (0.7, 100), a percent (\"70%\") or a duration"),
        "{e}"
    );
    // The HPA keeps Kubernetes' whole percent, and takes "60%" too.
    let hpa = |set: &str| load_example("scenarios/hpa-week.toml", &[set]);
    let percent = hpa("autoscaler.api.metrics=[{name=\"cpu\",utilization=\"60%\"}]").unwrap();
    let plain = hpa("autoscaler.api.metrics=[{name=\"cpu\",utilization=60}]").unwrap();
    assert_eq!(
        format!("{:?}", percent.scenario.autoscaler),
        format!("{:?}", plain.scenario.autoscaler)
    );
    let e = hpa("autoscaler.api.metrics=[{name=\"cpu\",utilization=0.6}]").unwrap_err();
    assert!(
        e.contains("autoscaler.api.metrics") && e.contains("did you mean 60 or \"60%\"?"),
        "{e}"
    );
    let e = hpa("autoscaler.api.metrics=[{name=\"cpu\",utilization=120}]").unwrap_err();
    assert!(
        e.contains("utilization = 120 is above 100% of the request"),
        "{e}"
    );
    let e = hpa("autoscaler.api.metrics=[{name=\"cpu\",utilization=62.5}]").unwrap_err();
    assert!(e.contains("expected a whole percent"), "{e}");
}

#[test]
fn a_duration_where_a_law_is_expected_is_a_constant() {
    let s = summary(&OVERLOADED.replace(
        "service = { dist = \"const\", value = \"1h\" }",
        "service = \"1h\"",
    ));
    assert!(
        s.requests.in_flight_at_end > 1_000,
        "the stuck server still holds for an hour"
    );
    let e = load_error(&OVERLOADED.replace(
        "service = { dist = \"exp\", mean = \"100ms\" }",
        "service = [1]",
    ));
    assert!(
        e.contains("a duration for a constant (\"20ms\") or a table such as"),
        "{e}"
    );
}

#[test]
fn the_report_shows_each_class_and_each_check_with_its_note() {
    let loaded = load_str(
        "slo.toml",
        &format!("{OVERLOADED}[slo]\np95 = \"2s\"\n"),
        &[],
        "slo",
    )
    .unwrap();
    let r = run(&loaded, 0).unwrap();
    let dir = std::env::temp_dir().join(format!("scalesim-slo-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    scalesim::output::report::write_all(&dir, &r.report, &r.summary, &loaded.scenario.slo, None)
        .unwrap();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    for needle in [
        "Request classes",
        "<td>web.stuck</td>",
        "timed out at end",
        "counting",
        "availability",
    ] {
        assert!(html.contains(needle), "report.html lacks {needle}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bare_toml_dates_are_dates() {
    // `start = 2026-11-23` (a TOML date, no quotes) and bare date-times in
    // events read as the same local times as their quoted forms.
    let quoted = std::fs::read_to_string("scenarios/black-friday.toml").unwrap();
    let bare = quoted
        .replace("start = \"2026-11-23T00:00:00\"", "start = 2026-11-23")
        .replace(
            "start = \"2026-11-27T00:00\"",
            "start = 2026-11-27T00:00:00",
        )
        .replace("at = \"2026-11-27T09:00\"", "at = 2026-11-27T09:00:00");
    assert_ne!(bare, quoted);
    let set = [
        "duration=5d".to_string(),
        "sample=1h".to_string(),
        "traffic.shoppers.rate=0.5".to_string(),
    ];
    let a = load_str("q.toml", &quoted, &set, "q").unwrap();
    let b = load_str("b.toml", &bare, &set, "b").unwrap();
    let (a, b) = (run(&a, 0).unwrap().summary, run(&b, 0).unwrap().summary);
    assert_eq!(a.requests.arrived, b.requests.arrived);
    assert_eq!(a.latency_s.p99, b.latency_s.p99);
    // A table is not a date.
    let e = load_error(&quoted.replace("start = \"2026-11-23T00:00:00\"", "start = { day = 1 }"));
    assert!(e.contains("a local date-time like 2026-11-23"), "{e}");
}
