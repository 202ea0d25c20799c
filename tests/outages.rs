//! `[[outages]]` and `zones`: a zone down takes its share of every fleet
//! placed in it, a component down fails what reaches it, a slowdown
//! multiplies service times, and bad entries are located errors.

mod common;

const ZONED: &str = r#"
duration = "4h"
warmup = "10m"
sample = "1m"
seed = 3
[traffic.web]
rate = 200
to = "api"
keys = { count = 100, zipf = 0.5 }
[components.api]
kind = "pool"
instances = 6
concurrency = 8
service = { dist = "exp", mean = "50ms" }
zones = ["a", "b", "c"]
calls = ["cache"]
[components.cache]
kind = "cache"
capacity = 1000
hit = "1ms"
"#;

fn rows<'a>(r: &'a scalesim::run::Run, name: &str) -> Vec<&'a scalesim_models::system::TsRow> {
    r.report
        .timeseries
        .iter()
        .filter(|w| w.component == name)
        .collect()
}

#[test]
fn a_zone_outage_takes_its_instances_down_for_its_duration() {
    let text = format!("{ZONED}[[outages]]\nat = \"2h\"\nduration = \"45m\"\nzone = \"b\"\n");
    let r = common::run_text(&text, 0);
    let api = rows(&r, "api");
    let ready_at = |t: f64| api.iter().find(|w| w.t_s == t).unwrap().instances.unwrap();
    // Six instances, two per zone (placed round-robin): four during the
    // outage, six before and after.
    assert_eq!(ready_at(7140.0), 6);
    assert_eq!(ready_at(7260.0), 4);
    assert_eq!(ready_at(9840.0), 4);
    assert_eq!(ready_at(9960.0), 6);
    // What the zone's instances held at 2h was lost, nothing else.
    let s = &r.summary;
    let api = s.components.get("api").unwrap();
    assert!(api.failed > 0 && api.failed < 30, "{}", api.failed);
    assert_eq!(s.requests.failed, api.failed);
    // Mean ready instances: 6 less 2 for 45 of the 230 measured minutes.
    let expected = 6.0 - 2.0 * 45.0 / 230.0;
    assert!((api.instances_mean.unwrap() - expected).abs() < 0.01);
    let incidents: Vec<&str> = r.report.incidents.iter().map(|i| i.what).collect();
    assert_eq!(incidents, ["down", "back up"]);
}

#[test]
fn a_component_without_instances_fails_every_visit_while_down() {
    let text =
        format!("{ZONED}[[outages]]\nat = \"1h\"\nduration = \"10m\"\ncomponent = \"cache\"\n");
    let s = common::summary(&text);
    let cache = s.components.get("cache").unwrap();
    // 200 requests/s for 600 s reach the cache and fail there, each
    // failing its request: a Poisson count of mean 120,000.
    let sd = 120_000f64.sqrt();
    assert!(
        (cache.failed as f64 - 120_000.0).abs() < 5.0 * sd,
        "{}",
        cache.failed
    );
    assert_eq!(s.requests.failed, cache.failed);
    assert!((s.availability - (1.0 - 10.0 / 230.0)).abs() < 0.002);
    // Against a 99.9% objective the 10 minutes down break 10 of the 230
    // minutes measured (the outage starts 50 minutes after warm-up, on a
    // minute's edge).
    let s = common::summary(&format!("{text}[slo]\navailability = \"99.9%\"\n"));
    let m = s.availability_minutes.expect("an availability objective");
    assert_eq!((m.minutes, m.met), (230, 220), "{m:?}");
    assert!((m.share - 220.0 / 230.0).abs() < 1e-12);
}

#[test]
fn a_slowdown_multiplies_service_times_for_its_duration() {
    // A fixed 10 ms service at low load, three times slower for 1 h of
    // the 2 h measured: the mean response is (10 + 30) / 2 = 20 ms.
    let text = r#"
duration = "2h10m"
warmup = "10m"
seed = 2
[traffic.web]
rate = 5
to = "api"
[components.api]
kind = "pool"
instances = 1
concurrency = 64
service = "10ms"
[[outages]]
at = "1h10m"
duration = "1h"
component = "api"
slowdown = 3
"#;
    let s = common::summary(text);
    let m = s.components.get("api").unwrap().mean_response_s;
    assert!((m - 0.020).abs() < 0.0005, "{m}");
    assert_eq!(s.requests.failed, 0);
}

#[test]
fn new_instances_go_to_the_zones_that_are_up() {
    // A zone of three is down when the autoscaler adds instances: they
    // are all placed in the two zones that are up, so the outage's end
    // brings back the two it held.
    let text = format!(
        "{ZONED}[autoscaler.api]\npolicy = \"scheduled\"\nhours = \"00:00-23:59\"\ncapacity = 6\noff_hours = 6\noverrides = [{{ start = \"2h10m\", end = \"4h\", capacity = 10 }}]\n[[outages]]\nat = \"2h\"\nduration = \"1h\"\nzone = \"b\"\n"
    );
    let r = common::run_text(&text, 0);
    let api = rows(&r, "api");
    let ready_at = |t: f64| api.iter().find(|w| w.t_s == t).unwrap().instances.unwrap();
    assert_eq!(ready_at(7860.0), 8, "4 up + 4 new in zones a and c");
    assert_eq!(ready_at(10860.0), 10, "and zone b's two back");
}

#[test]
fn a_fleet_with_no_ready_instance_answers_errors_at_once() {
    // One instance, replaced after each failure with a 5 min boot: the
    // requests of those 5 minutes fail at once instead of queueing.
    let text = r#"
duration = "20h"
warmup = "10m"
seed = 6
[traffic.web]
rate = 2
to = "api"
[components.api]
kind = "pool"
instances = 1
service = "10ms"
failures = { mtbf = "2h" }
provision_time = "5m"
"#;
    let s = common::summary(text);
    let api = s.components.get("api").unwrap();
    let n = api.failures.unwrap() as f64;
    let expected = n * 300.0 * 2.0;
    assert!(
        (api.failed as f64 - expected).abs() < 5.0 * expected.sqrt(),
        "{} lost for {n} failures",
        api.failed
    );
    assert!(s.latency_s.max < 0.05, "nobody queued: {}", s.latency_s.max);
}

#[test]
fn impossible_outages_are_located_errors() {
    for (outage, field, says) in [
        (
            "at = \"1h\"\nduration = \"5m\"\nzone = \"d\"",
            "outages.0.zone",
            "a, b, c",
        ),
        ("at = \"1h\"\nduration = \"5m\"", "outages.0", "one of zone"),
        (
            "at = \"1h\"\nduration = \"5m\"\nzone = \"a\"\ncomponent = \"api\"",
            "outages.0",
            "one of zone",
        ),
        (
            "at = \"1h\"\nduration = \"5m\"\nregion = \"us-east-1\"",
            "outages.0.region",
            "no component runs in region",
        ),
        (
            "at = \"1h\"\nduration = \"5m\"\ncomponent = \"apii\"",
            "outages.0.component",
            "known: api",
        ),
        (
            "at = -60\nduration = \"5m\"\nzone = \"a\"",
            "outages.0.at",
            "before the start",
        ),
        (
            "at = \"1h\"\nduration = \"0s\"\nzone = \"a\"",
            "outages.0.duration",
            "lasts",
        ),
        (
            "at = \"1h\"\nduration = \"5m\"\ncomponent = \"api\"\nslowdown = 0.5",
            "outages.0.slowdown",
            "above 1",
        ),
        (
            "at = \"1h\"\nduration = \"5m\"\nzone = \"a\"\nslowdown = 2",
            "outages.0.slowdown",
            "component",
        ),
        (
            "at = \"1h\"\nduration = \"5m\"\ncomponent = \"cache\"\nslowdown = 2",
            "outages.0.slowdown",
            "pools",
        ),
        (
            "at = \"2026-11-27T10:00\"\nduration = \"5m\"\nzone = \"a\"",
            "outages.0.at",
            "calendar",
        ),
    ] {
        let e = common::load_error(&format!("{ZONED}[[outages]]\n{outage}\n"));
        assert!(
            e.contains("validation.toml:") && e.contains(field) && e.contains(says),
            "{outage}:\n{e}"
        );
    }
    let e = common::load_error(&ZONED.replace("[\"a\", \"b\", \"c\"]", "[\"a\", \"a\"]"));
    assert!(e.contains("zones.1") && e.contains("distinct"), "{e}");
}
