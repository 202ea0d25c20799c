//! The command line as a user meets it: exit codes, output files, error
//! messages for bad scenarios, determinism, and runaway scenarios.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn scalesim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the scalesim binary runs")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("scalesim-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const SMALL: &str = r#"
name = "small"
duration = "2000s"
warmup = "100s"
sample = "100s"
seed = 11

[traffic.web]
rate = 20
to = "api"
keys = { count = 5000, zipf = 0.9 }

[components.api]
kind = "pool"
instances = 2
concurrency = 2
service = { dist = "exp", mean = "50ms" }
calls = ["cache"]

[components.cache]
kind = "cache"
capacity = 500
miss = "db"
hit = { dist = "const", value = "1ms" }

[components.db]
kind = "pool"
instances = 1
concurrency = 4
service = { dist = "lognormal", mean = "20ms", cv = 1.2 }

[slo]
p99 = "2s"
"#;

/// summary.json without the `engine` block, which holds wall-clock figures.
fn summary_without_engine(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v.as_object_mut().unwrap().remove("engine");
    v
}

#[test]
fn run_writes_summary_and_timeseries_with_contract_keys() {
    let d = tmp("keys");
    let sc = write(&d, "s.toml", SMALL);
    let out = d.join("out");
    let o = scalesim(&["run", &sc, "--out", out.to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = summary_without_engine(&out);
    for key in [
        "scenario",
        "seed",
        "simulated_s",
        "requests",
        "latency_s",
        "throughput_rps",
        "error_rate",
        "components",
        "cost_usd",
        "slo",
    ] {
        assert!(v.get(key).is_some(), "summary.json lacks {key}");
    }
    for key in ["arrived", "completed", "rejected", "timed_out", "failed"] {
        assert!(v["requests"].get(key).is_some(), "requests lacks {key}");
    }
    for key in ["mean", "p50", "p90", "p95", "p99", "p999", "max"] {
        assert!(
            v["latency_s"][key].as_f64().unwrap() > 0.0,
            "latency_s.{key}"
        );
    }
    for key in [
        "kind",
        "utilization",
        "mean_wait_s",
        "mean_queue_len",
        "mean_in_system",
        "instances_mean",
        "instances_max",
        "cost_usd",
    ] {
        assert!(
            v["components"]["api"].get(key).is_some(),
            "components.api lacks {key}"
        );
    }
    for key in ["hits", "misses", "hit_ratio"] {
        assert!(
            v["components"]["cache"].get(key).is_some(),
            "components.cache lacks {key}"
        );
    }
    assert_eq!(v["seed"], 11);
    assert_eq!(v["slo"]["passed"], true);
    let csv = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("t_s,component,arrivals,completions,rejections"),
        "{header}"
    );
    // 2000 s / 100 s = 20 windows x (3 components + _system).
    assert_eq!(lines.count(), 20 * 4);
}

#[test]
fn json_flag_prints_exactly_one_document() {
    let d = tmp("json");
    let sc = write(&d, "s.toml", SMALL);
    let o = scalesim(&["run", &sc, "--out", d.join("o").to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).expect("stdout is one JSON document");
    assert_eq!(v["scenario"], "small");
    assert!(stderr(&o).contains("latency"), "the table goes to stderr");
}

#[test]
fn same_seed_is_byte_identical_and_another_seed_differs() {
    let d = tmp("det");
    let sc = write(&d, "s.toml", SMALL);
    let run = |seed: &str, out: &str| {
        let o = scalesim(&[
            "run",
            &sc,
            "--seed",
            seed,
            "--out",
            d.join(out).to_str().unwrap(),
            "--quiet",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    };
    run("5", "a");
    run("5", "b");
    run("6", "c");
    let csv = |o: &str| std::fs::read(d.join(o).join("timeseries.csv")).unwrap();
    let json = |o: &str| serde_json::to_string(&summary_without_engine(&d.join(o))).unwrap();
    assert_eq!(csv("a"), csv("b"));
    assert_eq!(json("a"), json("b"));
    assert_ne!(csv("a"), csv("c"));
    assert_ne!(json("a"), json("c"));
}

#[test]
fn set_overrides_change_the_run() {
    let d = tmp("set");
    let sc = write(&d, "s.toml", SMALL);
    let out = d.join("o");
    let o = scalesim(&[
        "run",
        &sc,
        "--set",
        "components.api.instances=1",
        "--set",
        "traffic.web.rate=5",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = summary_without_engine(&out);
    assert_eq!(v["components"]["api"]["instances_max"], 1);
    let rate = v["throughput_rps"].as_f64().unwrap();
    assert!((rate - 5.0).abs() < 0.5, "{rate}");
}

#[test]
fn failed_slo_exits_1() {
    let d = tmp("slo");
    let sc = write(
        &d,
        "s.toml",
        &SMALL.replace("p99 = \"2s\"", "p99 = \"1ms\""),
    );
    let o = scalesim(&[
        "run",
        &sc,
        "--out",
        d.join("o").to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(1));
}

/// Each bad scenario must exit 2, name the file with line and column, say
/// what is wrong, and never panic.
#[test]
fn bad_scenarios_exit_2_with_located_messages() {
    let d = tmp("bad");
    let cases: &[(&str, &str, &str, &str)] = &[
        // (what to replace, replacement, expected location, expected words)
        (
            "instances = 2\nconcurrency = 2",
            "instances = 0\nconcurrency = 2",
            ":15:1",
            "at least 1 instance",
        ),
        ("rate = 20", "rate = -20", ":9:1", "rate > 0"),
        (
            "miss = \"db\"",
            "miss = \"dbx\"",
            ":23:1",
            "unknown component \"dbx\"",
        ),
        (
            "to = \"api\"",
            "to = \"apj\"",
            ":10:1",
            "unknown component \"apj\"",
        ),
        (
            "instances = 1\n",
            "instances = 1\ncalls = [\"api\"]\n",
            ":29:1",
            "call cycle",
        ),
        (
            "instances = 2\n",
            "instanses = 2\n",
            ":15:1",
            "did you mean `instances`",
        ),
        ("cv = 1.2", "cv = -1", ":30:48", "cv > 0"),
        (
            "mean = \"50ms\"",
            "mean = \"50 parsecs\"",
            ":17:11",
            "invalid duration",
        ),
        (
            "rate = 20",
            "rate = \"fast\"",
            ":9:8",
            "expected a number, got the string \"fast\"",
        ),
        (
            "kind = \"cache\"",
            "kind = \"cahce\"",
            ":21:8",
            "did you mean `cache`",
        ),
        (
            "duration = \"2000s\"",
            "duration = ",
            ":3:12",
            "invalid string",
        ),
        (
            "keys = { count = 5000, zipf = 0.9 }\n",
            "",
            "",
            "carry no key",
        ),
        (
            "dist = \"exp\"",
            "dist = \"weibull\"",
            ":17:20",
            "unknown value `weibull`",
        ),
    ];
    for (from, to, at, words) in cases {
        assert!(SMALL.contains(from), "test case does not apply: {from}");
        let sc = write(&d, "bad.toml", &SMALL.replacen(from, to, 1));
        for cmd in ["validate", "run"] {
            let out = d.join("o");
            let o = match cmd {
                "run" => scalesim(&[cmd, &sc, "--out", out.to_str().unwrap()]),
                _ => scalesim(&[cmd, &sc]),
            };
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{cmd} {from:?} -> {to:?}: {err}");
            assert!(!err.contains("panicked"), "{err}");
            assert!(
                err.contains(&format!("bad.toml{at}")),
                "{from:?} -> {to:?}: expected location bad.toml{at} in:\n{err}"
            );
            assert!(
                err.contains(words),
                "{from:?} -> {to:?}: expected {words:?} in:\n{err}"
            );
        }
    }
}

#[test]
fn usage_errors_exit_2() {
    let o = scalesim(&["run"]);
    assert_eq!(o.status.code(), Some(2));
    let o = scalesim(&["run", "no/such/file.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot read"), "{}", stderr(&o));
    let d = tmp("usage");
    let sc = write(&d, "s.toml", SMALL);
    let o = scalesim(&["validate", &sc, "--set", "nonsense"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("PATH=VALUE"), "{}", stderr(&o));
    let o = scalesim(&["validate", &sc, "--set", "components.api.instances=\"x\""]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--set components.api.instances"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn runaway_scenario_stops_and_reports() {
    let d = tmp("runaway");
    // 100 req/s into one slot serving 50 req/s: the queue grows without bound.
    let text = r#"
name = "runaway"
duration = "1d"
[traffic.t]
rate = 100
to = "p"
[components.p]
kind = "pool"
instances = 1
service = { dist = "exp", mean = "20ms" }
"#;
    let sc = write(&d, "r.toml", text);
    let out = d.join("o");
    let o = scalesim(&[
        "run",
        &sc,
        "--set",
        "max_in_flight=20000",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a runaway fails the run: {}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("max_in_flight"), "{}", stderr(&o));
    let v = summary_without_engine(&out);
    let at = v["runaway"]["at_s"].as_f64().unwrap();
    // In-flight grows by about 50/s: 20000 is reached near 400 s.
    assert!((300.0..600.0).contains(&at), "{at}");
    assert_eq!(v["slo"]["passed"], false);
}

#[test]
fn every_example_scenario_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            let o = scalesim(&["validate", p.to_str().unwrap()]);
            assert_eq!(o.status.code(), Some(0), "{}: {}", p.display(), stderr(&o));
            n += 1;
        }
    }
    assert!(n >= 1);
}

#[test]
fn replay_policy_prints_decisions_and_reasons() {
    let o = scalesim(&[
        "replay-policy",
        "--policy",
        "scenarios/policies/hpa-cpu.yaml",
        "--metrics",
        "scenarios/policies/cpu-spike.csv",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("scale-up limited by Pods policy 4 per 60s"),
        "{out}"
    );
    assert!(out.contains("scale-down stabilized"), "{out}");
    let o = scalesim(&[
        "replay-policy",
        "--policy",
        "scenarios/policies/step-cpu.toml",
        "--metrics",
        "scenarios/policies/cpu-spike.csv",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let steps = v.as_array().unwrap();
    assert_eq!(steps.len(), 50);
    // 0.95 CPU against a 0.5 threshold: the +30% step on 8 instances.
    assert_eq!(steps[8]["desired"], 10, "{}", steps[8]);
}

#[test]
fn replay_policy_rejects_bad_input_with_locations() {
    let d = tmp("replay");
    let csv = write(&d, "m.csv", "time,replicas,cpu\n0,4,0.5\n15,four,0.5\n");
    let o = scalesim(&[
        "replay-policy",
        "--policy",
        "scenarios/policies/hpa-cpu.yaml",
        "--metrics",
        &csv,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("m.csv:3:"), "{}", stderr(&o));
    let pol = write(
        &d,
        "p.toml",
        "policy = \"hpa\"\nmax = 10\nmetrics = [{ name = \"cpu\", utilisation = 60 }]\n",
    );
    let csv = write(&d, "ok.csv", "time,replicas,cpu\n0,4,0.5\n");
    let o = scalesim(&["replay-policy", "--policy", &pol, "--metrics", &csv]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("p.toml:3:"), "{}", stderr(&o));
}

#[test]
fn no_help_text_shows_a_backslash() {
    let top = scalesim(&["--help"]);
    let text = String::from_utf8_lossy(&top.stdout).into_owned();
    // The subcommands, read from the top-level help's "Commands:" list.
    let names: Vec<String> = text
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|n| n != "help")
        .collect();
    assert!(names.len() >= 7, "{names:?}");
    assert!(!text.contains('\\'), "scalesim --help:\n{text}");
    for n in &names {
        for flag in ["--help", "-h"] {
            let o = scalesim(&[n, flag]);
            let h = String::from_utf8_lossy(&o.stdout);
            assert_eq!(o.status.code(), Some(0), "{n} {flag}");
            assert!(!h.contains('\\'), "scalesim {n} {flag}:\n{h}");
        }
    }
}

#[test]
fn capacity_per_empty_unsets_the_tables_per() {
    let d = tmp("per-unset");
    let text = format!(
        "{SMALL}\n[capacity]\nvary = \"traffic.web.rate\"\nper = \"components.api.instances=2,3\"\nreplications = 2\ntolerance = 0.2\n"
    );
    let s = write(&d, "s.toml", &text);
    let short = ["--set", "duration=300s", "--set", "warmup=50s", "--quiet"];
    let run = |extra: &[&str], out: &str| {
        let out = d.join(out);
        let mut args = vec!["capacity", &s, "--json", "--out", out.to_str().unwrap()];
        args.extend(short);
        args.extend(extra);
        let o = scalesim(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        (v, out)
    };
    let (v, out) = run(&[], "with");
    assert_eq!(v["per"], "components.api.instances", "{v}");
    assert!(out.join("capacity.png").exists());
    let (v, out) = run(&["--per", ""], "without");
    assert!(v["per"].is_null(), "{v}");
    assert_eq!(v["rows"].as_array().map(Vec::len), Some(1), "{v}");
    assert!(out.join("capacity-probes.png").exists());
    assert!(!out.join("capacity.png").exists());
}

/// The data rows of a replay table (between the header and the legend).
fn replay_rows(out: &str) -> Vec<&str> {
    out.lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .collect()
}

#[test]
fn replay_policy_prints_changed_rows_and_all_with_all() {
    let args = [
        "replay-policy",
        "--policy",
        "scenarios/policies/hpa-cpu.yaml",
        "--metrics",
        "scenarios/policies/cpu-spike.csv",
    ];
    let o = scalesim(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let rows = replay_rows(&out);
    // Every shown row differs from the one before it in current or desired.
    let cells = |l: &str| -> (String, String) {
        let w: Vec<&str> = l.split_whitespace().collect();
        (
            w[1].to_string(),
            w[2].trim_end_matches(['+', '-']).to_string(),
        )
    };
    assert!(rows.len() > 5 && rows.len() < 50, "{out}");
    assert!(rows.windows(2).all(|w| cells(w[0]) != cells(w[1])), "{out}");
    assert!(rows[0].trim_start().starts_with("0 "), "{out}");
    assert!(out.contains("+  the policy scales out"), "{out}");
    assert!(out.contains("-  it scales in"), "{out}");
    assert!(
        out.contains(&format!("{} of 50 evaluations shown", rows.len())),
        "{out}"
    );
    let mut all = args.to_vec();
    all.push("--all");
    let o = scalesim(&all);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(replay_rows(&out).len(), 50, "{out}");
    assert!(!out.contains("evaluations shown"), "{out}");
}

#[test]
fn replay_policy_reads_the_timeseries_of_a_run() {
    let d = tmp("replay-ts");
    let text = SMALL.replace(
        "[components.cache]",
        "[autoscaler.api]\npolicy = \"hpa\"\nmin = 1\nmax = 8\nmetrics = [{ name = \"cpu\", utilization = 30 }]\n\n[components.cache]",
    );
    let s = write(&d, "s.toml", &text);
    let out = d.join("run");
    let o = scalesim(&["run", &s, "--out", out.to_str().unwrap(), "--quiet"]);
    assert!(o.status.code().unwrap() <= 1, "{}", stderr(&o));
    let ts = out.join("timeseries.csv");
    let ts = ts.to_str().unwrap();
    let replay = |extra: &[&str]| {
        let mut args = vec![
            "replay-policy",
            "--policy",
            "scenarios/policies/step-cpu.toml",
            "--metrics",
            ts,
        ];
        args.extend(extra);
        scalesim(&args)
    };
    // Two pools (api, db): one must be named.
    let o = replay(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("several pools (api, db)"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("--component"), "{}", stderr(&o));
    let o = replay(&["--component", "api", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let steps: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let steps = steps.as_array().unwrap();
    // One evaluation per 100 s sampling window of the 2000 s run.
    assert_eq!(steps.len(), 20, "{steps:?}");
    assert_eq!(steps[0]["t_s"], 100.0);
    assert!(
        steps
            .iter()
            .all(|s| s["reason"].as_str().unwrap().contains("cpu")),
        "{steps:?}"
    );
    // The recorded capacity is what the run's own HPA wanted.
    let csv = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    let column = |name: &str| {
        csv.lines()
            .next()
            .unwrap()
            .split(',')
            .position(|h| h == name)
            .unwrap()
    };
    let first_api = csv.lines().find(|l| l.contains(",api,")).unwrap();
    let desired = first_api
        .split(',')
        .nth(column("instances_desired"))
        .unwrap();
    assert_eq!(steps[0]["current"].to_string(), desired, "{first_api}");
    // A needed column missing (`cpu`, and `utilization` that older files
    // give it from): located on the header.
    let cut: String = csv
        .lines()
        .map(|l| {
            let mut c: Vec<&str> = l.split(',').collect();
            c.remove(column("cpu"));
            c.remove(column("utilization"));
            c.join(",") + "\n"
        })
        .collect();
    let bad = write(&d, "cut.csv", &cut);
    let o = scalesim(&[
        "replay-policy",
        "--policy",
        "scenarios/policies/step-cpu.toml",
        "--metrics",
        &bad,
        "--component",
        "api",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("cut.csv:1:"), "{e}");
    assert!(e.contains("`utilization`") && e.contains("`cpu`"), "{e}");
}

#[test]
fn replay_policy_runs_the_reference_manifest_on_a_runs_memory_and_rps() {
    // The reference platform's manifest (cpu, memory, and a Pods metric
    // mapped to rps by the policy file's metric_names), replayed on the
    // timeseries.csv of the scenario that runs it: every decision weighs
    // all three proposals, memory read from the run's `memory` column.
    let d = tmp("replay-reference");
    let out = d.join("run");
    let o = scalesim(&[
        "run",
        "scenarios/reference-hpa.toml",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--set",
        "duration=\"10h\"",
    ]);
    assert!(o.status.code().unwrap() <= 1, "{}", stderr(&o));
    let ts = out.join("timeseries.csv");
    let o = scalesim(&[
        "replay-policy",
        "--policy",
        "scenarios/policies/reference-hpa.toml",
        "--metrics",
        ts.to_str().unwrap(),
        "--component",
        "api",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    let rows: Vec<&str> = text
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .collect();
    assert!(rows.len() > 1, "{text}");
    assert!(
        rows.iter()
            .all(|r| r.contains("cpu") && r.contains("memory ->") && r.contains("rps ->")),
        "{text}"
    );
    // A name the manifest does not read is located in the policy file.
    let bad = write(
        &d,
        "p.toml",
        &std::fs::read_to_string("scenarios/policies/reference-hpa.toml")
            .unwrap()
            .replace("http_requests_per_second", "requests")
            .replace(
                "\"../",
                &format!("\"{}/scenarios/", env!("CARGO_MANIFEST_DIR")),
            ),
    );
    let o = scalesim(&[
        "replay-policy",
        "--policy",
        &bad,
        "--metrics",
        ts.to_str().unwrap(),
        "--component",
        "api",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("metric_names.requests") && stderr(&o).contains("reads no metric"),
        "{}",
        stderr(&o)
    );
}
