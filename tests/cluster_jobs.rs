//! The cluster job files of `docs/jobs/`, run for real on this machine.
//!
//! - `slurm-sweep.sh` run by `bash` as array tasks 0, 1 and 2 of 3 (the
//!   `#SBATCH` lines are comments then), each slice holding exactly the
//!   runs k with k % 3 == its index, then `slurm-merge.sh`: the merged
//!   `runs.csv`, `points.csv`, `sweep.json` and charts are byte-identical
//!   to `scalesim sweep` of the same scenario on one machine; again after
//!   a slice is re-run alone (`SHARDS=3`, an array of one task). Outside
//!   an array job the sweep script stops; the merge script fails when a
//!   slice is missing.
//! - `k8s-sweep-job.yaml`: an Indexed Job whose `completions` equal its
//!   `SHARDS`; its `sh -c` script, run with `sh` for every
//!   `JOB_COMPLETION_INDEX` with the pod's environment (paths pointed at a
//!   temporary folder, `scalesim` on PATH being the binary under test),
//!   then `k8s-merge-job.yaml`'s script: byte-identical again. The charts
//!   follow the scenario's `plot` list, which the slices carry.

#![cfg(unix)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{assert_same_files, files};

/// M/M/1 and M/M/2 at two loads: 2 x 2 points x 2 replications = 8 runs
/// of 600 s (the one hour is cut by `--set`, as SCALESIM_ARGS would).
const SCENARIO: &str = r#"
name = "cluster-jobs"
duration = "1h"
warmup = "60s"
sample = "60s"
seed = 5

[traffic.web]
rate = 0.5
to = "api"

[components.api]
kind = "pool"
instances = 1
service = { dist = "exp", mean = "1s" }

[slo]
p99 = "10s"

[sweep]
replications = 2
grid = { "traffic.web.rate" = [0.4, 0.8], "components.api.instances" = [1, 2] }
plot = ["latency_s.p99", "components.api.utilization"]
"#;

/// Extra `sweep` arguments, passed as SCALESIM_ARGS.
const SWEEP_ARGS: &str = "--set duration=600s";
/// The scenario's own plot list given again to `merge` as MERGE_ARGS (on
/// two lines: the scripts split on newlines too): the same charts.
const MERGE_ARGS: &str = "--plot latency_s.p99\n  --plot components.api.utilization";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "scalesim-cluster-jobs-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn describe(o: &Output) -> String {
    format!(
        "{}\n--- stdout\n{}\n--- stderr\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn run(what: &str, cmd: &mut Command) -> Output {
    let o = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(o.status.success(), "{what} failed: {}", describe(&o));
    o
}

/// Writes the scenario into `dir` and runs the whole sweep on one machine
/// into `dir/one-machine`.
fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    let scenario = dir.join("sweep.toml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let whole = dir.join("one-machine");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scalesim"));
    cmd.arg("sweep")
        .arg(&scenario)
        .args(SWEEP_ARGS.split_whitespace())
        .arg("--out")
        .arg(&whole)
        .arg("--quiet");
    run("scalesim sweep on one machine", &mut cmd);
    let names: Vec<String> = files(&whole).into_iter().map(|(n, _)| n).collect();
    for f in [
        "runs.csv",
        "points.csv",
        "sweep.json",
        "heatmap.png",
        "pareto.png",
    ] {
        assert!(names.iter().any(|n| n == f), "{f} not in {names:?}");
    }
    (scenario, whole)
}

/// The run numbers (first column) of a slice's `runs.csv`.
fn runs_of(slice: &Path) -> Vec<usize> {
    let text = std::fs::read_to_string(slice.join("runs.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect()
}

fn assert_slice(slice: &Path, index: usize, count: usize, total: usize) {
    let want: Vec<usize> = (0..total).filter(|k| k % count == index).collect();
    assert_eq!(runs_of(slice), want, "runs of {}", slice.display());
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The lines after `lines[at]` indented deeper than it (blank lines
/// included), up to the first one that is not.
fn nested<'a>(lines: &[&'a str], at: usize) -> Vec<&'a str> {
    let base = indent(lines[at]);
    let mut out: Vec<&str> = lines[at + 1..]
        .iter()
        .take_while(|l| l.trim().is_empty() || indent(l) > base)
        .copied()
        .collect();
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    out
}

/// The `sh -c` script of a Job: the literal block (`- |`) after the items
/// `- sh` and `- -c` of the container's `command`, as YAML reads it (the
/// block's indentation removed, one final newline).
fn sh_c_script(yaml: &str) -> String {
    let lines: Vec<&str> = yaml.lines().collect();
    let c = lines
        .iter()
        .position(|l| l.trim() == "- -c")
        .expect("a `- -c` item in the command list");
    assert_eq!(lines[c - 1].trim(), "- sh", "`- -c` follows `- sh`");
    assert_eq!(lines[c - 2].trim(), "command:");
    assert_eq!(lines[c + 1].trim(), "- |", "the script is a literal block");
    let body = nested(&lines, c + 1);
    let cut = body
        .iter()
        .find(|l| !l.trim().is_empty())
        .map(|l| indent(l))
        .expect("a non-empty script");
    let mut script = String::new();
    for l in body {
        script.push_str(l.get(cut..).unwrap_or(""));
        script.push('\n');
    }
    script
}

/// A `key: value` of the YAML (the first line with that key).
fn scalar(yaml: &str, key: &str) -> String {
    let prefix = format!("{key}:");
    yaml.lines()
        .find_map(|l| l.trim().strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no `{key}:` in the YAML"))
        .trim()
        .to_string()
}

/// The container's environment: each `- name: X` item followed by
/// `value: ...` (its text: plain, quoted or folded `>-`) or `valueFrom:`
/// (None: the cluster fills it in).
fn env_vars(yaml: &str) -> BTreeMap<String, Option<String>> {
    let lines: Vec<&str> = yaml.lines().collect();
    let mut env = BTreeMap::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(name) = l.trim().strip_prefix("- name: ") else {
            continue;
        };
        let Some(next) = lines.get(i + 1).map(|n| n.trim()) else {
            continue;
        };
        let value = if next.starts_with("valueFrom:") {
            None
        } else if let Some(v) = next.strip_prefix("value:") {
            let v = v.trim();
            Some(if v == ">-" {
                nested(&lines, i + 1)
                    .iter()
                    .map(|l| l.trim())
                    .collect::<Vec<_>>()
                    .join(" ")
            } else {
                v.trim_matches('"').to_string()
            })
        } else {
            continue; // a container, volume or mount
        };
        env.insert(name.trim().to_string(), value);
    }
    env
}

/// A folder holding `scalesim`, a link to the binary under test, for PATH.
fn bin_dir(dir: &Path) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_scalesim"), bin.join("scalesim")).unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Runs a Job's `sh -c` script with the pod's environment: the YAML's
/// values, and `local` (what Kubernetes adds, and this machine's paths)
/// over them. A `valueFrom` variable must be in `local`.
fn run_pod(what: &str, yaml: &str, path: &str, local: &[(&str, String)]) -> Output {
    let script = sh_c_script(yaml);
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(&script).env("PATH", path);
    for (name, value) in env_vars(yaml) {
        if !local.iter().any(|(n, _)| *n == name) {
            let v = value.unwrap_or_else(|| panic!("{what}: the test gives no value for {name}"));
            cmd.env(&name, v);
        }
    }
    for (name, v) in local {
        cmd.env(name, v);
    }
    let o = cmd.output().unwrap_or_else(|e| panic!("{what}: sh: {e}"));
    assert!(
        o.status.success(),
        "{what} failed: {}\n--- script\n{script}",
        describe(&o)
    );
    o
}

#[test]
fn slurm_array_job_slices_merge_into_the_one_machine_sweep() {
    let dir = tmp("slurm");
    let (scenario, whole) = setup(&dir);
    let results = dir.join("results");
    let script = |name: &str, task: Option<usize>| {
        let mut cmd = Command::new("bash");
        cmd.arg(repo().join("docs/jobs").join(name))
            .current_dir(&dir)
            .env("SCALESIM", env!("CARGO_BIN_EXE_scalesim"))
            .env("SCENARIO", &scenario)
            .env("RESULTS", &results)
            .env("SCALESIM_ARGS", SWEEP_ARGS)
            .env_remove("MERGE_ARGS")
            .env("SLURM_CPUS_PER_TASK", "1")
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env_remove("SLURM_ARRAY_TASK_COUNT")
            .env_remove("SHARDS");
        if let Some(t) = task {
            cmd.env("SLURM_ARRAY_TASK_ID", t.to_string())
                .env("SLURM_ARRAY_TASK_COUNT", "3");
        }
        cmd
    };
    for t in 0..3 {
        run(
            &format!("slurm-sweep.sh, task {t} of 3"),
            &mut script("slurm-sweep.sh", Some(t)),
        );
        assert_slice(&results.join(format!("shard-{t}")), t, 3, 8);
    }
    run("slurm-merge.sh", &mut script("slurm-merge.sh", None));
    assert_same_files(&whole, &results.join("all"));

    // A lost slice re-run alone (`SHARDS=3 sbatch --array=1`: an array of
    // one task), merged again: the same files.
    std::fs::remove_dir_all(results.join("shard-1")).unwrap();
    std::fs::remove_dir_all(results.join("all")).unwrap();
    let mut rerun = script("slurm-sweep.sh", Some(1));
    rerun.env("SLURM_ARRAY_TASK_COUNT", "1").env("SHARDS", "3");
    run("slurm-sweep.sh re-running task 1 of 3", &mut rerun);
    assert_slice(&results.join("shard-1"), 1, 3, 8);
    let mut merge = script("slurm-merge.sh", None);
    merge.env("MERGE_ARGS", MERGE_ARGS);
    run("slurm-merge.sh with MERGE_ARGS", &mut merge);
    assert_same_files(&whole, &results.join("all"));

    // Outside an array job the sweep script says so; without one of the
    // slices the merge script fails.
    let o = script("slurm-sweep.sh", None).output().unwrap();
    assert!(!o.status.success(), "{}", describe(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("SLURM_ARRAY_TASK_ID"),
        "{}",
        describe(&o)
    );
    std::fs::rename(results.join("shard-2"), dir.join("shard-2-aside")).unwrap();
    let o = script("slurm-merge.sh", None).output().unwrap();
    assert!(!o.status.success(), "{}", describe(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("slice 2/3 is missing"),
        "{}",
        describe(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn kubernetes_indexed_job_slices_merge_into_the_one_machine_sweep() {
    let read = |name: &str| {
        let p = repo().join("docs/jobs").join(name);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    };
    let sweep_yaml = read("k8s-sweep-job.yaml");
    let merge_yaml = read("k8s-merge-job.yaml");

    // The Job's shape: Indexed, N completions, N slices.
    assert_eq!(scalar(&sweep_yaml, "apiVersion"), "batch/v1");
    assert_eq!(scalar(&sweep_yaml, "kind"), "Job");
    assert_eq!(scalar(&sweep_yaml, "completionMode"), "Indexed");
    let sweep_env = env_vars(&sweep_yaml);
    let merge_env = env_vars(&merge_yaml);
    let shards = sweep_env["SHARDS"].clone().expect("SHARDS has a value");
    assert_eq!(scalar(&sweep_yaml, "completions"), shards);
    assert_eq!(merge_env["SHARDS"].as_deref(), Some(shards.as_str()));
    assert_eq!(merge_env["RESULTS"], sweep_env["RESULTS"]);
    let shards: usize = shards.parse().unwrap();
    assert!(scalar(&sweep_yaml, "parallelism").parse::<usize>().unwrap() <= shards);

    // Every pod's script, then the merge's, here.
    let dir = tmp("k8s");
    let (scenario, whole) = setup(&dir);
    let results = dir.join("results"); // the scripts create it
    let path = bin_dir(&dir);
    let local = |extra: &[(&'static str, String)]| {
        let mut v = vec![
            ("SCENARIO", scenario.display().to_string()),
            ("RESULTS", results.display().to_string()),
            ("SCALESIM_ARGS", SWEEP_ARGS.to_string()),
            ("THREADS", "2".to_string()),
        ];
        v.extend(extra.iter().cloned());
        v
    };
    for i in 0..shards {
        let index = [("JOB_COMPLETION_INDEX", i.to_string())];
        run_pod(
            &format!("k8s-sweep-job.yaml, index {i}"),
            &sweep_yaml,
            &path,
            &local(&index),
        );
        assert_slice(&results.join(format!("shard-{i}")), i, shards, 8);
    }
    run_pod("k8s-merge-job.yaml", &merge_yaml, &path, &local(&[]));
    assert_same_files(&whole, &results.join("all"));
    let _ = std::fs::remove_dir_all(&dir);
}
