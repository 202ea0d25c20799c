//! Many-run studies: sweeps, shards and merge, comparisons and capacity
//! searches, checked against queueing theory and for determinism.
//!
//! - Student-t intervals over replications of M/M/1 cover the exact mean
//!   response time 1/(mu - lambda) in 93-97% of 1,500 independent sweeps
//!   points (binomial sd 0.56%: the band is about +-3.6 sd around 95%).
//! - A sweep writes byte-identical files with 1, 2 or 3 threads; its
//!   slices, merged, equal the whole.
//! - The capacity of M/M/c found by bisection brackets the rate where the
//!   Erlang C mean response time, or the exact 99th percentile of the
//!   response time, reaches the target.
//! - `compare` finds a fifth server better on latency, worse on cost, and
//!   gates a rollout that breaks an SLO.

use scalesim::scenario::{load_str, Loaded};
use scalesim::study::capacity::{self, Search};
use scalesim::study::objective;
use scalesim::study::sweep::{self, Options, Shard, Sweep};
use std::path::PathBuf;

mod common;
use common::{assert_same_files, erlang_c};
use std::process::{Command, Output};

fn load(text: &str) -> Loaded {
    load_str("study.toml", text, &[], "study").unwrap_or_else(|d| panic!("{d}\n{text}"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("scalesim-studies-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn scalesim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the scalesim binary runs")
}

/// M/M/1 with lambda = 0.5, mu = 1: W = 1 / (mu - lambda) = 2 s.
const MM1: &str = r#"
name = "mm1"
duration = "5000s"
warmup = "500s"
sample = "5000s"
seed = 1

[traffic.web]
rate = 0.5
to = "api"

[components.api]
kind = "pool"
instances = 1
service = { dist = "exp", mean = "1s" }
"#;

#[test]
fn student_t_intervals_cover_the_mm1_mean_response_time() {
    // 1,500 points that differ only by their seed, 10 replications each:
    // 1,500 independent 95% intervals for W.
    let seeds: Vec<String> = (1..=1500).map(|s| s.to_string()).collect();
    let text = format!(
        "{MM1}\n[sweep]\nreplications = 10\ngrid = {{ seed = [{}] }}\n",
        seeds.join(", ")
    );
    let sw = Sweep::new(load(&text)).unwrap();
    let out = sw.execute(&Options::default(), &mut |_, _| Ok(())).unwrap();
    let r = sw.results(&out);
    let m = r.metric("latency_s.mean").unwrap();
    let covered = r
        .points
        .iter()
        .filter(|p| (p.stats[m].mean - 2.0).abs() <= p.stats[m].ci95)
        .count();
    let share = covered as f64 / r.points.len() as f64;
    assert!(
        (0.93..=0.97).contains(&share),
        "95% intervals covered W = 2 s in {:.1}% of {} points",
        share * 100.0,
        r.points.len()
    );
    // Not vague: the typical interval is a few percent of W.
    let mean_hw = r.points.iter().map(|p| p.stats[m].ci95).sum::<f64>() / r.points.len() as f64;
    assert!(mean_hw < 0.1, "mean half-width {mean_hw}");
}

const SWEEP: &str = r#"
[sweep]
replications = 3
grid = { "traffic.web.rate" = [0.3, 0.6], "components.api.instances" = [1, 2] }
zip = [{ "components.api.service" = [{ dist = "exp", mean = "1s" }, { dist = "const", value = "1s" }], "warmup" = ["400s", "500s"] }]
"#;

#[test]
fn sweeps_are_identical_for_any_thread_count_and_sharding() {
    let sw = Sweep::new(load(&format!("{MM1}{SWEEP}"))).unwrap();
    assert_eq!(sw.plan.points.len(), 8);
    assert_eq!(sw.plan.runs(), 24);
    let whole = tmp("whole");
    let (r, _) = sweep::run_to_dir(&sw, &Options::default(), &whole).unwrap();
    // Common random numbers: replication r offers the same arrivals at
    // every point with the same rate.
    let arrived = r.metric("requests.arrived").unwrap();
    assert_eq!(r.points[0].stats[arrived], r.points[2].stats[arrived]);
    for threads in [1, 3] {
        let d = tmp(&format!("threads{threads}"));
        let opts = Options {
            threads: Some(threads),
            ..Options::default()
        };
        sweep::run_to_dir(&sw, &opts, &d).unwrap();
        assert_same_files(&whole, &d);
    }
    // Five slices (one of them owns fewer runs), merged, equal the whole.
    let slices: Vec<PathBuf> = (0..5)
        .map(|i| {
            let d = tmp(&format!("slice{i}"));
            let opts = Options {
                shard: Some(Shard { index: i, count: 5 }),
                ..Options::default()
            };
            sweep::run_to_dir(&sw, &opts, &d).unwrap();
            d
        })
        .collect();
    let merged = tmp("merged");
    sweep::merge(&slices, &merged, &[]).unwrap();
    assert_same_files(&whole, &merged);
    // The same through the command line, in reverse order of slices.
    let merged2 = tmp("merged-cli");
    let mut args = vec!["merge".to_string()];
    args.extend(slices.iter().rev().map(|d| d.display().to_string()));
    args.extend(["--out".into(), merged2.display().to_string()]);
    let o = scalesim(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same_files(&whole, &merged2);
    // A missing or repeated slice is refused.
    let e = sweep::merge(&slices[..4], &tmp("bad"), &[]).unwrap_err();
    assert!(e.to_string().contains("slice 4/5 is missing"), "{e}");
    let twice = [slices[0].clone(), slices[0].clone()];
    let e = sweep::merge(&twice, &tmp("bad2"), &[]).unwrap_err();
    assert!(e.to_string().contains("given twice"), "{e}");
}

#[test]
fn sweep_files_hold_every_run_and_point() {
    let sw = Sweep::new(load(&format!("{MM1}{SWEEP}"))).unwrap();
    let d = tmp("files");
    let (r, json) = sweep::run_to_dir(&sw, &Options::default(), &d).unwrap();
    let runs = std::fs::read_to_string(d.join("runs.csv")).unwrap();
    let mut lines = runs.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with(
        "run,point,replication,traffic.web.rate,components.api.instances,components.api.service,warmup,"
    ));
    assert!(header.contains(",latency_s.p99,") && header.contains(",cost_usd.projected_month,"));
    assert_eq!(lines.count(), 24);
    let points = std::fs::read_to_string(d.join("points.csv")).unwrap();
    assert!(points
        .lines()
        .next()
        .unwrap()
        .contains("latency_s.p99.mean,latency_s.p99.ci95"));
    assert_eq!(points.lines().count(), 9);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["points"].as_array().unwrap().len(), 8);
    assert_eq!(v["points"][1]["params"]["components.api.instances"], 1);
    assert_eq!(v["points"][1]["params"]["warmup"], "500s");
    // Deterministic service halves the M/M/1 wait (Pollaczek-Khinchine):
    // point 0 (exp) is slower than point 1 (const) at rate 0.3.
    let m = r.metric("latency_s.mean").unwrap();
    assert!(r.points[0].stats[m].mean > r.points[1].stats[m].mean);
    for chart in [
        "sweep-traffic-web-rate.png",
        "pareto.png",
        "sweep-warmup.svg",
    ] {
        assert!(d.join(chart).exists(), "{chart}");
    }
}

#[test]
fn bad_sweeps_are_usage_errors() {
    let d = tmp("bad-sweeps");
    let write = |name: &str, text: &str| {
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let none = write("none.toml", MM1);
    let o = scalesim(&["sweep", &none, "--out", &d.display().to_string()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no [sweep] table"));
    let zero = write(
        "zero.toml",
        &format!("{MM1}\n[sweep]\ngrid = {{ \"components.api.instances\" = [1, 0] }}\n"),
    );
    let o = scalesim(&["sweep", &zero, "--quiet"]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("sweep point 1 (components.api.instances=0)"),
        "{e}"
    );
    assert!(e.contains("instances"), "{e}");
    let zip = write(
        "zip.toml",
        &format!("{MM1}\n[sweep]\nzip = [{{ seed = [1, 2], warmup = [\"1s\"] }}]\n"),
    );
    let o = scalesim(&["sweep", &zip, "--quiet"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("equal lengths"));
    let o = scalesim(&["sweep", &zip, "--shard", "2/2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("0 <= I < N"));
}

/// Solves f(lambda) = target for an increasing f on (lo, hi).
fn solve(f: impl Fn(f64) -> f64, target: f64, mut lo: f64, mut hi: f64) -> f64 {
    for _ in 0..100 {
        let m = (lo + hi) / 2.0;
        if f(m) < target {
            lo = m;
        } else {
            hi = m;
        }
    }
    lo
}

fn mmc(c: u32) -> String {
    format!(
        r#"
name = "mmc"
duration = "20000s"
warmup = "1000s"
sample = "1000s"
seed = 11

[traffic.web]
rate = 1.0
to = "api"

[components.api]
kind = "pool"
instances = {c}
service = {{ dist = "exp", mean = "1s" }}
"#
    )
}

fn search(slo: &str) -> Search {
    Search {
        vary: "traffic.web.rate".into(),
        objectives: objective::parse_list(slo).unwrap(),
        replications: 5,
        lo: None,
        hi: None,
        tolerance: 0.005,
        max_probes: 30,
        threads: None,
        progress: false,
    }
}

#[test]
fn capacity_of_mmc_matches_erlang_c_mean_response_time() {
    // W(lambda) = C(c, lambda) / (c - lambda) + 1 (mu = 1) must stay below 1.5 s.
    let per = capacity::parse_per("components.api.instances=2,4,8").unwrap();
    let r = capacity::capacity(&load(&mmc(4)), Some(&per), &search("mean<1.5s")).unwrap();
    assert_eq!(r.rows.len(), 3);
    for (row, c) in r.rows.iter().zip([2u32, 4, 8]) {
        let exact = solve(
            |l| erlang_c(c, l) / (c as f64 - l) + 1.0,
            1.5,
            0.01,
            c as f64 - 1e-9,
        );
        assert!(
            row.low <= exact && exact <= row.high,
            "c = {c}: capacity {} in [{}, {}], Erlang C {exact}",
            row.capacity,
            row.low,
            row.high
        );
        assert!(
            (row.high - row.low) / exact < 0.04,
            "c = {c}: interval [{}, {}] too wide",
            row.low,
            row.high
        );
        assert_eq!(row.binding, "mean<1.5s");
        assert!(row.note.is_none());
    }
}

#[test]
fn capacity_of_mmc_matches_the_exact_p99_of_the_response_time() {
    // T = Wq + S: P(T > t) = e^{-mu t} (1 + C mu / (theta - mu))
    //                        - C mu e^{-theta t} / (theta - mu), theta = c mu - lambda.
    let c = 4u32;
    let t: f64 = 6.0;
    let tail = |l: f64| {
        let theta = c as f64 - l;
        let pc = erlang_c(c, l);
        (-t).exp() * (1.0 + pc / (theta - 1.0)) - pc * (-theta * t).exp() / (theta - 1.0)
    };
    // p99 < t  <=>  P(T > t) < 0.01.
    let exact = solve(tail, 0.01, 0.5, 3.9);
    let r = capacity::capacity(&load(&mmc(c)), None, &search("p99<6s")).unwrap();
    let row = &r.rows[0];
    assert!(
        row.low <= exact && exact <= row.high,
        "capacity {} in [{}, {}], exact {exact}",
        row.capacity,
        row.low,
        row.high
    );
    assert!(
        (row.high - row.low) / exact < 0.05,
        "[{}, {}]",
        row.low,
        row.high
    );
}

const PAIR: &str = r#"
name = "pair"
duration = "3000s"
warmup = "300s"
seed = 5

[traffic.web]
rate = 3.2
to = "api"

[components.api]
kind = "pool"
instances = 4
instance_type = "c5.large"
service = { dist = "exp", mean = "1s" }

[slo]
p99 = "6s"

[variants.four]
[variants.five]
"components.api.instances" = 5
"#;

#[test]
fn compare_pairs_replications_and_gates_a_rollout() {
    let d = tmp("compare");
    let file = d.join("pair.toml");
    std::fs::write(&file, PAIR).unwrap();
    let f = file.display().to_string();
    let json = |o: &Output| -> serde_json::Value {
        serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
    };
    let verdict = |v: &serde_json::Value, m: &str| -> String {
        v["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["metric"] == m)
            .unwrap()["verdict"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // Four -> five servers: faster, more instances, dearer; the gate passes.
    let o = scalesim(&["compare", &f, "--json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = json(&o);
    assert_eq!(v["replications"], 10);
    assert_eq!(verdict(&v, "latency_s.p99"), "better");
    assert_eq!(verdict(&v, "latency_s.mean"), "better");
    assert_eq!(verdict(&v, "instances"), "more");
    assert_eq!(verdict(&v, "cost_usd.projected_month"), "worse");
    assert_eq!(verdict(&v, "error_rate"), "identical");
    // Five -> four breaks the p99 SLO that five meets: exit 1.
    let o = scalesim(&["compare", &f, "--variants", "five,four", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["gate_passed"], false);
    assert_eq!(v["slo"][0]["a_met"], true);
    assert_eq!(v["slo"][0]["b_met"], false);
    // A scenario against itself: every difference is exactly zero.
    let o = scalesim(&["compare", &f, &f, "-r", "3", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let v = json(&o);
    for r in v["metrics"].as_array().unwrap() {
        assert_eq!(r["verdict"], "identical", "{r}");
    }
    // Human table on stdout.
    let o = scalesim(&["compare", &f, "--variants", "five,four"]);
    let t = String::from_utf8_lossy(&o.stdout);
    assert!(t.contains("rollout gate: FAILED"), "{t}");
    assert!(t.contains("p99 latency"), "{t}");
    let o = scalesim(&["compare", &f, "--variants", "five,six"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no [variants.six]"));
}

#[test]
fn slo_violation_minutes_count_the_windows_that_break_an_objective() {
    // 5000 s run, 500 s warm-up, 100 s windows: 45 windows after warm-up.
    let text = MM1.replace("sample = \"5000s\"", "sample = \"100s\"");
    let minutes = |slo: &str| {
        let l = load(&format!("{text}\n[slo]\n{slo}\n"));
        scalesim::run::run(&l, 0)
            .unwrap()
            .summary
            .slo
            .violation_minutes
    };
    // Every window's p99 is above 10 ms (service alone is Exp(1 s)).
    assert_eq!(minutes("p99 = \"10ms\""), 45.0 * 100.0 / 60.0);
    // No window's mean reaches a minute.
    assert_eq!(minutes("mean = \"60s\""), 0.0);
    // Nothing is rejected (unbounded queue).
    assert_eq!(minutes("error_rate = 0.0"), 0.0);
    // In between, some windows break a p95 of 6 s (the M/M/1 response time
    // is Exp(1/2): its p95 is 2 ln 20 = 6.0 s), not all.
    let some = minutes("p95 = \"6s\"");
    assert!(some > 0.0 && some < 75.0, "{some}");
}

#[test]
fn a_sweep_may_change_which_metrics_exist() {
    // A balanced pool reports its load distribution, a shared queue does
    // not: the columns are the union, the shared queue's cells are empty.
    let text = format!(
        "{MM1}\n[sweep]\nreplications = 2\ngrid = {{ \"components.api.balance\" = [\"fifo\", \"round_robin\"] }}\n"
    );
    let text = text.replace("instances = 1", "instances = 2");
    let sw = Sweep::new(load(&text)).unwrap();
    assert!(sw
        .metrics
        .iter()
        .any(|m| m == "components.api.load_at_least.1"));
    let d = tmp("union");
    let (r, _) = sweep::run_to_dir(&sw, &Options::default(), &d).unwrap();
    let m = r.metric("components.api.load_at_least.1").unwrap();
    assert!(r.points[0].stats[m].mean.is_nan());
    let share = r.points[1].stats[m].mean;
    // Round robin over 2 servers at 0.25 each: busy a quarter of the time.
    assert!((share - 0.25).abs() < 0.03, "{share}");
    let runs = std::fs::read_to_string(d.join("runs.csv")).unwrap();
    let header: Vec<&str> = runs.lines().next().unwrap().split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "components.api.load_at_least.1")
        .unwrap();
    let first: Vec<&str> = runs.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(first[col], "", "fifo has no load distribution");
}

/// M/M/2 with a p95 objective, swept over a grid or a zip group of two
/// parameters.
fn slo_sweep(vary: &str) -> String {
    format!(
        "{}\n[slo]\np95 = \"6s\"\n\n[sweep]\nreplications = 2\n{vary}\n",
        MM1.replace("instances = 1", "instances = 2")
            .replace("duration = \"5000s\"", "duration = \"1500s\"")
    )
}

#[test]
fn the_sweep_table_shows_what_the_slo_bounds_and_zips_get_no_heatmap() {
    let grid = r#"grid = { "traffic.web.rate" = [0.5, 1.5], "components.api.instances" = [2, 3] }"#;
    let zip = r#"zip = [{ "traffic.web.rate" = [0.5, 1.0, 1.5], "components.api.instances" = [2, 3, 4] }]"#;
    for (vary, heatmap) in [(grid, true), (zip, false)] {
        let sw = Sweep::new(load(&slo_sweep(vary))).unwrap();
        let whole = tmp(if heatmap { "slo-grid" } else { "slo-zip" });
        let (r, json) = sweep::run_to_dir(&sw, &Options::default(), &whole).unwrap();
        assert_eq!(whole.join("heatmap.png").exists(), heatmap, "{vary}");
        assert!(whole.join("sweep-traffic-web-rate.png").exists());
        let t = sweep::table(&r, 40);
        let head = t.lines().next().unwrap();
        // The p95 the SLO bounds, with its bound; not the p99 it does not.
        assert!(head.contains("p95 ≤ 6.00s"), "{t}");
        assert!(!head.contains("p99"), "{t}");
        assert!(head.contains("errors") && head.contains("SLO met"), "{t}");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["slo"][0]["metric"], "slo.p95", "{json}");
        let dims = v["dimensions"].as_array().unwrap().len();
        assert_eq!(dims, if heatmap { 2 } else { 1 }, "{json}");
        // Slices carry the objectives and the zip group to the merge.
        let slices: Vec<PathBuf> = (0..2)
            .map(|i| {
                let d = whole.with_extension(format!("slice{i}"));
                let opts = Options {
                    shard: Some(Shard { index: i, count: 2 }),
                    ..Options::default()
                };
                sweep::run_to_dir(&sw, &opts, &d).unwrap();
                d
            })
            .collect();
        let merged = whole.with_extension("merged");
        let m = sweep::merge(&slices, &merged, &[]).unwrap();
        assert_eq!(sweep::table(&m, 40), t);
        assert_same_files(&whole, &merged);
    }
}
