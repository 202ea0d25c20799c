//! Reproducers of issue 13, items 12 and 13: inputs that crashed, exhausted
//! memory or hung are refused at load time with the file, line, field, the
//! bound and why; every error says where and what. Each case runs under a
//! watchdog, so a hang fails the test instead of blocking it.

mod common;

use scalesim::diagnostics::Diagnostics;
use scalesim::study::sweep;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

const BASE: &str = r#"
name = "base"
duration = "1h"
sample = "1m"
[traffic.web]
rate = 10
to = "api"
[components.api]
kind = "pool"
instances = 2
service = { dist = "exp", mean = "10ms" }
"#;

/// Runs `f` on its own thread; fails if it takes longer than `secs`.
fn within<T: Send + 'static>(secs: u64, what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(v) => v,
        Err(_) => panic!("{what}: did not finish within {secs} s (a hang)"),
    }
}

/// The error of loading BASE (or `text`) with `sets`, as printed.
fn refused(text: &str, sets: &[&str]) -> String {
    let text = text.to_string();
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let what = format!("{sets:?}");
    within(20, &what, move || {
        match scalesim::scenario::load_str("s.toml", &text, &sets, "s") {
            Ok(_) => panic!("{sets:?} must be refused"),
            Err(d) => d.to_string(),
        }
    })
}

fn contains_all(text: &str, parts: &[&str]) {
    for p in parts {
        assert!(text.contains(p), "expected {p:?} in:\n{text}");
    }
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("scalesim-bounds-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn absurd_capacities_are_refused_with_their_bound() {
    let e = refused(
        BASE,
        &["autoscaler.api={policy=\"scheduled\",hours=\"07:00-20:00\",capacity=4000000000,off_hours=2}"],
    );
    contains_all(
        &e,
        &[
            "s.toml:",
            "`autoscaler.api.capacity`",
            "4000000000",
            "100000 instances one pool may have",
            "memory",
        ],
    );
    let e = refused(
        BASE,
        &["autoscaler.api={policy=\"hpa\",min=1000000,max=2000000,metrics=[{name=\"cpu\",utilization=60}]}"],
    );
    contains_all(&e, &["`autoscaler.api.min`", "1000000", "100000 instances"]);
    let e = refused(BASE, &["components.api.instances=4000000000"]);
    contains_all(&e, &["`components.api.instances`", "100000"]);
}

#[test]
fn too_many_arrivals_are_refused_before_the_run() {
    let e = refused(BASE, &["traffic.web.rate=1e9"]);
    contains_all(&e, &["`traffic.web.rate`", "arrivals", "2e9", "time"]);
    let e = refused(BASE, &["traffic.web.rate=1e6"]);
    contains_all(&e, &["`traffic.web.rate`", "3.600e9 arrivals"]);
    // Two sources under the bound each, over it together.
    let two = format!("{BASE}\n[traffic.other]\nrate = 3e5\nto = \"api\"\n");
    let e = refused(&two, &["traffic.web.rate=3e5", "duration=1h50m"]);
    contains_all(&e, &["`traffic`", "sources together"]);
}

#[test]
fn short_spikes_and_fast_switching_are_refused() {
    // A zero-length event changes nothing but raised the thinning bound.
    let e = refused(
        BASE,
        &[
            "duration=1d",
            "traffic.web.rate=100",
            "traffic.web.events=[{start=\"10s\",duration=\"0s\",factor=1e6}]",
        ],
    );
    contains_all(&e, &["`traffic.web.events", "lasts 0 s"]);
    let e = refused(
        BASE,
        &[
            "duration=1d",
            "traffic.web.rate=100",
            "traffic.web.events=[{start=\"10s\",duration=\"1ns\",factor=1e6}]",
        ],
    );
    contains_all(&e, &["`traffic.web.events`", "short spike", "discarded"]);
    let e = refused(
        BASE,
        &["traffic.web.onoff={on=\"1ns\",off=\"1ns\",on_factor=3}"],
    );
    contains_all(&e, &["`traffic.web.onoff`", "switches", "1e8"]);
}

#[test]
fn autoscaler_periods_of_a_nanosecond_are_refused() {
    let e = refused(
        BASE,
        &["autoscaler.api={policy=\"hpa\",min=1,max=20,sync_period=\"1ns\",metrics=[{name=\"cpu\",utilization=60}]}"],
    );
    contains_all(
        &e,
        &["`autoscaler.api.sync_period`", "evaluations", "1000000"],
    );
    let e = refused(
        BASE,
        &["autoscaler.api={policy=\"target\",metric=\"cpu\",target=0.5,max=50,period=\"1ns\"}"],
    );
    contains_all(&e, &["`autoscaler.api.period`", "evaluations"]);
    let e = refused(
        BASE,
        &[
            "components.api.metric_period=\"1ns\"",
            "autoscaler.api={policy=\"target\",metric=\"cpu\",target=0.5,max=50}",
        ],
    );
    contains_all(&e, &["`components.api.metric_period`", "metric window"]);
    let e = refused(
        BASE,
        &[
            "components.api.metric_delay=\"30d\"",
            "autoscaler.api={policy=\"target\",metric=\"cpu\",target=0.5,max=50}",
        ],
    );
    contains_all(&e, &["`components.api.metric_delay`", "windows"]);
    let e = refused(
        BASE,
        &["autoscaler.api={policy=\"step\",max=50,metric=\"cpu\",comparison=\">=\",threshold=0.5,period=\"1ns\",evaluation_periods=4000000000,steps=[{lower=0.0,change=1}]}"],
    );
    assert!(e.contains("evaluation"), "{e}");
}

#[test]
fn time_series_rows_count_every_component() {
    let mut s = String::from(
        "name = \"many\"\nduration = \"1h\"\nsample = \"4ms\"\n[traffic.web]\nrate = 10\nto = \"c0\"\n",
    );
    for i in 0..200 {
        s.push_str(&format!(
            "[components.c{i}]\nkind = \"pool\"\ninstances = 1\nservice = {{ dist = \"exp\", mean = \"1ms\" }}\n"
        ));
    }
    let e = refused(&s, &[]);
    contains_all(
        &e,
        &["`sample`", "201 components", "time-series rows", "4000000"],
    );
}

#[test]
fn a_sweep_of_four_billion_replications_is_refused() {
    let s = format!(
        "{BASE}\n[sweep]\nreplications = 2\ngrid = {{ \"components.api.instances\" = [1, 2] }}\n"
    );
    let e = refused(&s, &["sweep.replications=4294967295"]);
    contains_all(&e, &["`sweep`", "4294967295 replications", "1000000 runs"]);
}

#[test]
fn syntax_errors_say_what_and_where() {
    let e = refused("name = \"x\"\n# a \0 nul\nduration = \"1h\"\n", &[]);
    contains_all(&e, &["s.toml:2:5:", "control character U+0000"]);
    let e = refused(
        "name = \"x\"\nduration = \"1h\"\n[traffic.web]\nrate = 10\nkeys = { count = 10, \n",
        &[],
    );
    contains_all(&e, &["s.toml:5:", "`traffic.web.keys", "inline table"]);
    let e = refused(
        &BASE.replace("instances = 2", "instances = 99999999999999999999999"),
        &[],
    );
    contains_all(&e, &["`components.api.instances`", "number too large"]);
    let deep = format!(
        "name = \"x\"\nduration = \"1h\"\nv = {}1{}\n",
        "[".repeat(300),
        "]".repeat(300)
    );
    let e = refused(&deep, &[]);
    contains_all(&e, &["s.toml:3:", "`v`", "nested too deeply"]);
    // The snippet of a long line is cut around the caret.
    let line = e.lines().nth(2).unwrap_or("");
    assert!(line.chars().count() < 100, "{line}");
    // A parser quoting a 5 MB value is cut.
    let e = refused(
        &BASE.replace(
            "instances = 2",
            &format!("instances = \"{}\"", "x".repeat(5_000_000)),
        ),
        &[],
    );
    contains_all(
        &e,
        &[
            "`components.api.instances`",
            "characters cut",
            "expected a whole number from 0 to 4294967295",
        ],
    );
    assert!(e.len() < 2000, "{} bytes", e.len());
    // Counts of hidden components (shards) are bounded before expansion.
    let shards = "name = \"x\"\nduration = \"1h\"\n[traffic.web]\nrate = 1\nto = \"db\"\nkeys = { count = 10, zipf = 0 }\n[components.db]\nkind = \"shards\"\nshards = 4000000000\nshard = { instances = 1, service = { dist = \"exp\", mean = \"1ms\" } }\n";
    let e = refused(shards, &[]);
    contains_all(&e, &["`components.db.shards`"]);
    let e = refused(
        shards,
        &[
            "components.db.shards=4096",
            "components.db.shard.instances=1000",
        ],
    );
    contains_all(&e, &["`components`", "instances together", "1000000"]);
    // Invalid UTF-8 is located.
    let dir = temp("utf8");
    let f = dir.join("bad.toml");
    std::fs::write(&f, b"name = \"x\"\nduration = \"1h\"\n# caf\xe9\n").unwrap();
    let e = scalesim::scenario::load(&f, &[]).unwrap_err().to_string();
    contains_all(&e, &["bad.toml:3:6:", "invalid UTF-8"]);
}

const MANIFEST: &str = include_str!("../scenarios/policies/hpa-cpu.yaml");

fn policy_error(dir: &Path, name: &str, text: &str) -> Diagnostics {
    let f = dir.join(name);
    std::fs::write(&f, text).unwrap();
    let what = name.to_string();
    within(20, &what, move || scalesim::replay::load_policy(&f))
        .err()
        .unwrap_or_else(|| panic!("{name} must be refused"))
}

#[test]
fn hpa_manifest_errors_have_line_and_field_path() {
    let dir = temp("yaml");
    let e = policy_error(&dir, "a.yaml", &MANIFEST.replace("name: cpu", "nam: cpu")).to_string();
    contains_all(
        &e,
        &[
            "a.yaml:18:9:",
            "`spec.metrics[0].resource`",
            "missing field `name`",
        ],
    );
    let e = policy_error(
        &dir,
        "b.yaml",
        &MANIFEST.replace("averageUtilization: 60", "averageUtilization: sixty"),
    )
    .to_string();
    contains_all(
        &e,
        &[
            "b.yaml:21:",
            "`spec.metrics[0].resource.target.averageUtilization`",
        ],
    );
    let e = policy_error(&dir, "c.yaml", &MANIFEST.replace("value: 100", "value: 0")).to_string();
    contains_all(
        &e,
        &["c.yaml:37:", "`spec.behavior.scaleUp.policies[1].value`"],
    );
    let deep = format!(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let e = policy_error(&dir, "d.yaml", &deep).to_string();
    contains_all(&e, &["d.yaml:3:", "nested deeper than 64"]);
}

fn metrics_error(dir: &Path, name: &str, text: String) -> String {
    let f = dir.join(name);
    std::fs::write(&f, text).unwrap();
    let what = name.to_string();
    within(20, &what, move || {
        scalesim::replay::load_metrics(&f, ("stabilization windows", 3600.0))
    })
    .err()
    .unwrap_or_else(|| panic!("{name} must be refused"))
    .to_string()
}

#[test]
fn replay_metrics_are_bounded() {
    let dir = temp("replay");
    for col in ["pod18446744073709551615_cpu", "pod100000000_cpu"] {
        let e = metrics_error(
            &dir,
            "pods.csv",
            format!("time,replicas,cpu,{col}\n0,4,0.5,0.5\n"),
        );
        contains_all(&e, &["pods.csv:1:", col, "100000 instances", "memory"]);
    }
    let mut same = String::from("time,replicas,cpu\n");
    for _ in 0..1_000 {
        same.push_str("0,4,0.5\n");
    }
    let e = metrics_error(&dir, "same.csv", same);
    contains_all(&e, &["same.csv:3:", "`time`", "must increase"]);
    let mut dense = String::from("time,replicas,cpu\n");
    for i in 0..100_002 {
        dense.push_str(&format!("{},4,0.5\n", i as f64 * 0.001));
    }
    let e = metrics_error(&dir, "dense.csv", dense);
    contains_all(&e, &["dense.csv:100002:", "100000 rows within 3600 s"]);
    let e = metrics_error(
        &dir,
        "cell.csv",
        format!("time,replicas,cpu\n0,4,{}\n", "x".repeat(5_000_000)),
    );
    contains_all(&e, &["cell.csv:2:", "`cpu`", "… (5000000 bytes)"]);
    assert!(
        e.len() < 400,
        "a 5 MB cell is not echoed whole: {} bytes",
        e.len()
    );
}

const TRACE_SCENARIO: &str = r#"
name = "tr"
duration = "1h"
[traffic.t]
trace = { file = "t.csv", format = "counts" }
arrivals = "deterministic"
to = "api"
[components.api]
kind = "pool"
instances = 2
service = { dist = "exp", mean = "10ms" }
"#;

fn trace_load(dir: &Path, csv: &str) -> Result<(), String> {
    std::fs::write(dir.join("t.csv"), csv).unwrap();
    let f = dir.join("tr.toml");
    std::fs::write(&f, TRACE_SCENARIO).unwrap();
    within(20, "trace", move || {
        scalesim::scenario::load(&f, &[])
            .map(|_| ())
            .map_err(|d| d.to_string())
    })
}

#[test]
fn trace_errors_point_at_the_csv_row() {
    let dir = temp("trace");
    let e = trace_load(&dir, "time,count\n0,100\n60,100000000000000\n").unwrap_err();
    contains_all(
        &e,
        &[
            "t.csv:3:1:",
            "`traffic.t.trace`",
            "column `count`",
            "resolution",
        ],
    );
    assert!(!e.contains("traffic.t.rate"), "{e}");
    let e = trace_load(&dir, "time,count\n0,1e9\n60,1e9\n120,1e9\n").unwrap_err();
    contains_all(&e, &["t.csv:4:1:", "2e9"]);
    // A counts trace starting at 60 s replays deterministically.
    trace_load(&dir, "time,count\n60,100\n120,100\n180,100\n").unwrap();
    let e = trace_load(&dir, &format!("time,count\n0,{}\n", "9".repeat(5_000_000))).unwrap_err();
    assert!(e.len() < 400, "{} bytes", e.len());
}

/// A sweep cut into two slices, in `dir/s0` and `dir/s1`.
fn slices(dir: &Path) -> Vec<PathBuf> {
    let text = format!(
        "{}\n[sweep]\nreplications = 2\ngrid = {{ \"components.api.instances\" = [1, 2, 3] }}\n",
        BASE.replace("duration = \"1h\"", "duration = \"20s\"")
            .replace("sample = \"1m\"", "sample = \"10s\"")
    );
    common::sweep_slices(&text, dir)
}

fn merge_error(dirs: &[PathBuf], out: &Path) -> String {
    let (dirs, out) = (dirs.to_vec(), out.to_path_buf());
    match within(20, "merge", move || sweep::merge(&dirs, &out, &[])) {
        Ok(_) => panic!("the merge must be refused"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn tampered_slices_are_refused_by_name() {
    let dir = temp("merge");
    let s = slices(&dir);
    let manifest = std::fs::read_to_string(s[0].join("sweep.json")).unwrap();
    let other = std::fs::read_to_string(s[1].join("sweep.json")).unwrap();
    let tamper = |from: &str, to: &str| {
        std::fs::write(s[0].join("sweep.json"), manifest.replace(from, to)).unwrap();
        std::fs::write(s[1].join("sweep.json"), other.replace(from, to)).unwrap();
    };
    let out = dir.join("merged");
    for (from, to, says) in [
        ("\"count\": 2", "\"count\": 100000000000", "`shard`"),
        (
            "\"replications\": 2",
            "\"replications\": 0",
            "`replications` is 0",
        ),
        (
            "\"replications\": 2",
            "\"replications\": 4294967295",
            "1000000 runs",
        ),
        ("\"runs\": 6", "\"runs\": 7", "`runs` is 7"),
        ("[\n      \"1\"\n    ]", "[]", "`plan` point 0"),
    ] {
        tamper(from, to);
        let e = merge_error(&s, &out);
        contains_all(&e, &["error: ", "sweep.json: ", says]);
    }
    tamper("", "");
    // --out on an input slice would overwrite it.
    let e = merge_error(&s, &s[1]);
    contains_all(&e, &["error: --out", "input slice", "overwrite"]);
    assert!(s[1].join("runs.csv").exists());
    // A 5 MB cell in runs.csv is cut.
    let runs = std::fs::read_to_string(s[0].join("runs.csv")).unwrap();
    let mut lines: Vec<String> = runs.lines().map(str::to_string).collect();
    let rest = lines[1]
        .split_once(',')
        .map(|x| x.1.to_string())
        .unwrap_or_default();
    lines[1] = format!("{},{rest}", "x".repeat(5_000_000));
    std::fs::write(s[0].join("runs.csv"), lines.join("\n")).unwrap();
    let e = merge_error(&s, &out);
    contains_all(&e, &["error: ", "runs.csv: line 2"]);
    assert!(e.len() < 400, "{} bytes", e.len());
}
