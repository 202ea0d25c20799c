//! Honest money (issue 13 item 5): a bill has more than instance-hours.
//! Each line is checked against the price list and the run's own counts
//! by hand — ALB hours and LCUs (ELB pricing: the largest of 25 new
//! connections/s, 3,000 active connections, 1 GB/h processed), data
//! transfer out per GB, RDS storage per GB-month for every copy, gp3 IOPS
//! above the 3,000/12,000 baseline, a Multi-AZ standby at the primary's
//! price, SQS at 3 requests per job per 64 KB chunk, NAT gateway hours —
//! and what is not priced is listed. A run the runaway guard stopped
//! projects no month.

mod common;

use common::{load_error, summary};
use scalesim::output::summary::Summary;
use scalesim::run::run;
use scalesim::scenario::load_str;

const PLATFORM: &str = r#"
duration = "2h"
warmup = "0s"
sample = "10m"
seed = 1
[traffic.users]
rate = 100
mix = [
  { name = "read", weight = 9, op = "read", to = "api" },
  { name = "upload", weight = 1, op = "write", to = "uploads" },
]
[components.api]
kind = "pool"
instances = 2
concurrency = 8
service = { dist = "exp", mean = "20ms" }
calls = ["db"]
instance_type = "c5.large"
load_balancer = { type = "alb", request_kb = 2, response_kb = 20 }
[components.db]
kind = "database"
primary = { instances = 1, concurrency = 16, service = { dist = "exp", mean = "5ms" }, instance_type = "db.r5.large" }
replicas = 1
multi_az = true
storage = { gb = 500, type = "gp3", iops = 15000 }
[components.uploads]
kind = "pool"
instances = 1
concurrency = 4
service = { dist = "exp", mean = "10ms" }
calls = ["jobs"]
[components.jobs]
kind = "queue"
workers = "workers"
managed = "sqs"
message_kb = 100
[components.workers]
kind = "pool"
instances = 2
service = { dist = "exp", mean = "100ms" }
instance_type = "c5.large"
[cost]
nat_gateways = 3
monthly = [{ item = "support", usd = 100 }]
"#;

fn line<'a>(
    s: &'a Summary,
    component: &str,
    item: &str,
) -> &'a scalesim::output::summary::BillLineJson {
    s.cost_usd
        .lines
        .iter()
        .find(|l| l.component == component && l.item.starts_with(item))
        .unwrap_or_else(|| panic!("no line {component} {item}: {:?}", s.cost_usd.lines))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn every_line_matches_the_price_list_and_the_runs_counts() {
    let s = summary(PLATFORM);
    let hours = 2.0;
    let api = s
        .components
        .0
        .iter()
        .find(|(n, _)| n == "api")
        .unwrap()
        .1
        .arrivals as f64;
    let jobs = s
        .components
        .0
        .iter()
        .find(|(n, _)| n == "jobs")
        .unwrap()
        .1
        .arrivals as f64;
    assert!(api > 600_000.0 && jobs > 60_000.0, "{api} {jobs}");

    let alb = line(&s, "api", "ALB hours");
    assert!(close(alb.usd, hours * 0.0225), "{alb:?}");
    // 90 req/s x 22 KB = 7.1 GB/h beats 90/25 = 3.6 LCU of connections in
    // every window, so LCU-hours = GB processed.
    let lcu = line(&s, "api", "ALB capacity units");
    assert!(close(lcu.quantity, api * 22.0 / 1e6), "{lcu:?} {api}");
    assert!(close(lcu.usd, lcu.quantity * 0.008));
    let out = line(&s, "api", "data transfer out");
    assert!(close(out.quantity, api * 20.0 / 1e6) && close(out.unit_usd, 0.09));

    // Primary, standby and replica each keep 500 GB; 15,000 IOPS is 3,000
    // above the 12,000 baseline of a volume of 400 GB or more.
    let months = hours / 730.0;
    assert!(close(
        line(&s, "db", "storage").usd,
        3.0 * 500.0 * months * 0.115
    ));
    assert!(close(
        line(&s, "db", "provisioned IOPS").usd,
        3.0 * 3000.0 * months * 0.02
    ));
    assert!(close(line(&s, "db", "Multi-AZ standby").usd, hours * 0.25));

    // 100 KB is two 64 KB chunks: 6 requests per job.
    let sqs = line(&s, "jobs", "SQS requests");
    assert!(
        close(sqs.quantity, jobs * 6.0 / 1e6) && close(sqs.unit_usd, 0.40),
        "{sqs:?}"
    );
    assert!(close(
        line(&s, "", "NAT gateway hours").usd,
        3.0 * hours * 0.045
    ));
    assert!(close(line(&s, "", "support").usd, 100.0 * months));

    // The total is the instances plus every line.
    let lines: f64 = s.cost_usd.lines.iter().map(|l| l.usd).sum();
    assert!(close(s.cost_usd.total, s.cost_usd.instances + lines));
    // Instances: api 2 + workers 2 c5.large, the primary and the replica
    // db.r5.large, for 2 h (uploads has no price).
    assert!(
        close(s.cost_usd.instances, hours * (4.0 * 0.085 + 2.0 * 0.25)),
        "{}",
        s.cost_usd.instances
    );
    // Per month: the hour's bill x 730.
    let month = s
        .cost_usd
        .projected_month
        .expect("a whole run projects a month");
    assert!(close(month, s.cost_usd.total / hours * 730.0));

    // What has no price is said, with what to write.
    let np = &s.cost_usd.not_priced;
    assert!(
        np.iter()
            .any(|n| n.starts_with("uploads: 1 instance (give instance_type")),
        "{np:?}"
    );
    assert!(
        np.iter().any(|n| n.contains("NAT gateway data processing")),
        "{np:?}"
    );
}

#[test]
fn components_without_purchases_say_what_is_left_out() {
    let s = summary(
        &PLATFORM
            .replace(
                "load_balancer = { type = \"alb\", request_kb = 2, response_kb = 20 }",
                "load_balancer = \"nlb\"",
            )
            .replace("storage = { gb = 500, type = \"gp3\", iops = 15000 }", "")
            .replace("managed = \"sqs\"", ""),
    );
    let np = &s.cost_usd.not_priced;
    for want in [
        "api: NLB processed bytes",
        "db: storage (give storage",
        "jobs: the broker",
    ] {
        assert!(np.iter().any(|n| n.starts_with(want)), "{want}: {np:?}");
    }
    assert!(s
        .cost_usd
        .lines
        .iter()
        .all(|l| l.item != "data transfer out"));
}

#[test]
fn a_run_stopped_by_the_runaway_guard_projects_no_month() {
    let s = summary(
        r#"
duration = "1h"
max_in_flight = 1000
[traffic.t]
rate = 100
to = "api"
[components.api]
kind = "pool"
instances = 1
service = { dist = "const", value = "1s" }
instance_type = "c5.large"
"#,
    );
    assert!(s.runaway.is_some());
    assert_eq!(s.cost_usd.projected_month, None);
    assert!(s.cost_usd.total > 0.0, "the run so far is still billed");
    assert!(s.cost_usd.month_text().contains("no monthly projection"));
    let json = serde_json::to_value(&s).unwrap();
    assert!(json["cost_usd"]["projected_month"].is_null());
}

#[test]
fn bad_purchases_are_refused_where_they_are_written() {
    for (from, to, want) in [
        (
            "type = \"alb\"",
            "type = \"elb\"",
            "\"alb\", \"nlb\" or a table",
        ),
        ("gb = 500", "gb = 0", "storage.gb"),
        ("iops = 15000", "iops = 1e9", "storage.iops"),
        ("message_kb = 100", "message_kb = 1000", "message_kb"),
        (
            "nat_gateways = 3",
            "nat_gateways = 5000",
            "cost.nat_gateways",
        ),
        ("usd = 100", "usd = -1", "cost.monthly[0].usd"),
    ] {
        let text = PLATFORM.replace(from, to);
        let e = load_error(&text);
        assert!(
            e.contains(want) && e.contains("validation.toml:"),
            "{to}: {e}"
        );
    }
}

#[test]
fn report_html_shows_the_bill_and_the_assumptions() {
    let loaded = load_str("bill.toml", PLATFORM, &["duration=20m".into()], "bill").unwrap();
    let r = run(&loaded, 0).unwrap();
    let dir = std::env::temp_dir().join(format!("scalesim-bill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    scalesim::output::report::write_run(&dir, &loaded, &r.report, &r.summary).unwrap();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    for want in [
        "<h3>The bill</h3>",
        "ALB capacity units",
        "AWS sqs pricing",
        "<h2 id=\"assumptions\">Assumptions</h2>",
        // The scenario as it ran: the --set duration, the laws as written.
        "duration = &quot;20m&quot;",
        "service = { dist = &quot;exp&quot;, mean = &quot;20ms&quot; }",
        "billed at $0.0850 per instance-hour",
        "<strong>Not priced:</strong> uploads: 1 instance (give instance_type",
        "<strong>Not modelled:</strong>",
    ] {
        assert!(html.contains(want), "report.html lacks {want:?}");
    }
}
