//! Goldens: every example scenario, run as CI runs it (one simulated hour
//! after a 5-minute warm-up), must produce exactly the outputs pinned in
//! `tests/golden/hashes.txt` — `summary.json` without its wall-clock
//! `engine` figures, `timeseries.csv`, `scaling_events.csv`, every SVG
//! chart, and the number of engine events — and every study a scenario
//! declares (`[sweep]`, `[capacity]`, `[variants.*]`), shortened as CI
//! shortens it, by its CSV and JSON files and SVG charts.
//!
//! The determinism tests compare two runs of the same build, so they
//! cannot see a change that moves every run the same way; this test can.
//! A change that moves results on purpose regenerates the file in the same
//! commit and says why:
//!
//! ```sh
//! SCALESIM_BLESS=1 cargo test --test golden
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const PINNED: &str = "tests/golden/hashes.txt";

/// 64-bit FNV-1a: a change detector (not a cryptographic hash).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The example scenarios, as paths relative to the repository (what
/// `compare` prints must not depend on where the checkout is).
fn scenarios() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| Path::new("scenarios").join(e.unwrap().file_name()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

/// Runs `scalesim ARGS`; returns its exit code (0 or 1) and stdout.
fn scalesim(args: &[&str]) -> (i32, Vec<u8>) {
    let o = Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the scalesim binary runs");
    let code = o.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "scalesim {} exited {code}: {}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
    (code, o.stdout)
}

/// (file, hash) of the files of `dir` whose names `keep` accepts, by name.
fn hash_files(dir: &Path, prefix: &str, keep: impl Fn(&str) -> bool) -> Vec<(String, String)> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| keep(n))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(dir.join(&f)).unwrap();
            (format!("{prefix}{f}"), format!("{:016x}", fnv1a(&bytes)))
        })
        .collect()
}

/// Runs one scenario as `.ci/run` does and returns (what, hash) lines.
fn fingerprint(scenario: &Path, out: &Path) -> Vec<(String, String)> {
    let _ = std::fs::remove_dir_all(out);
    let file = scenario.to_str().unwrap();
    let o = out.to_str().unwrap();
    let (code, _) = scalesim(&[
        "run",
        file,
        "--set",
        "duration=1h",
        "--set",
        "warmup=5m",
        "--quiet",
        "--out",
        o,
    ]);
    let mut lines = vec![("exit".to_string(), code.to_string())];
    let text = std::fs::read_to_string(out.join("summary.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let engine = v.as_object_mut().unwrap().remove("engine").unwrap();
    lines.push(("events".into(), engine["events"].to_string()));
    let summary = serde_json::to_vec(&v).unwrap();
    lines.push(("summary.json".into(), format!("{:016x}", fnv1a(&summary))));
    lines.extend(hash_files(out, "", |n| {
        n.ends_with(".svg") || n == "timeseries.csv" || n == "scaling_events.csv"
    }));
    lines.extend(studies(scenario, out));
    lines
}

/// The studies the scenario declares, shortened as `.ci/run` runs them.
fn studies(scenario: &Path, out: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root().join(scenario)).unwrap();
    let declares = |table: &str| text.lines().any(|l| l.starts_with(table));
    let file = scenario.to_str().unwrap();
    let short = [
        "--set",
        "duration=10m",
        "--set",
        "warmup=1m",
        "--quiet",
        "-r",
        "2",
    ];
    let studied = |n: &str| n.ends_with(".svg") || n.ends_with(".csv") || n.ends_with(".json");
    let mut lines = Vec::new();
    if declares("[sweep]") {
        let dir = out.join("sweep");
        let mut args = vec![
            "sweep",
            file,
            "--threads",
            "2",
            "--out",
            dir.to_str().unwrap(),
        ];
        args.extend(short);
        scalesim(&args);
        lines.extend(hash_files(&dir, "sweep/", studied));
    }
    if declares("[capacity]") {
        let dir = out.join("capacity");
        let mut args = vec!["capacity", file, "--out", dir.to_str().unwrap()];
        args.extend(short);
        scalesim(&args);
        lines.extend(hash_files(&dir, "capacity/", studied));
    }
    if declares("[variants.") {
        // compare prints no progress: it takes no --quiet.
        let mut args = vec!["compare", file, "--json"];
        args.extend(short.iter().filter(|a| **a != "--quiet"));
        let (code, stdout) = scalesim(&args);
        lines.push(("compare/exit".into(), code.to_string()));
        lines.push(("compare/json".into(), format!("{:016x}", fnv1a(&stdout))));
    }
    lines
}

fn pinned() -> BTreeMap<(String, String), String> {
    let text = std::fs::read_to_string(root().join(PINNED)).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut w = l.split_whitespace();
            let (s, f, h) = (w.next(), w.next(), w.next());
            let (Some(s), Some(f), Some(h)) = (s, f, h) else {
                panic!("{PINNED}: malformed line {l:?}");
            };
            ((s.to_string(), f.to_string()), h.to_string())
        })
        .collect()
}

#[test]
fn every_example_scenario_matches_its_golden() {
    let dir = std::env::temp_dir().join(format!("scalesim-golden-{}", std::process::id()));
    let list = scenarios();
    assert!(!list.is_empty(), "no scenarios found");
    // Two runs at a time: the machines this runs on have 2 cores.
    let results: Vec<(String, Vec<(String, String)>)> = std::thread::scope(|sc| {
        let chunks: Vec<&[PathBuf]> = list.chunks(list.len().div_ceil(2)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let dir = &dir;
                sc.spawn(move || {
                    chunk
                        .iter()
                        .map(|p| {
                            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
                            let fp = fingerprint(p, &dir.join(&name));
                            (name, fp)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let _ = std::fs::remove_dir_all(&dir);
    let mut text = String::from(
        "# Golden outputs of every example scenario (tests/golden.rs).\n\
         # Regenerate on purpose only: SCALESIM_BLESS=1 cargo test --test golden\n",
    );
    let mut got = BTreeMap::new();
    for (name, lines) in &results {
        for (what, h) in lines {
            text.push_str(&format!("{name} {what} {h}\n"));
            got.insert((name.clone(), what.clone()), h.clone());
        }
    }
    if std::env::var_os("SCALESIM_BLESS").is_some() {
        std::fs::create_dir_all(root().join("tests/golden")).unwrap();
        std::fs::write(root().join(PINNED), text).unwrap();
        return;
    }
    let want = pinned();
    let mut diffs = Vec::new();
    for (k, h) in &got {
        match want.get(k) {
            Some(w) if w == h => {}
            Some(w) => diffs.push(format!("{} {}: pinned {w}, now {h}", k.0, k.1)),
            None => diffs.push(format!("{} {}: new output (not pinned)", k.0, k.1)),
        }
    }
    for k in want.keys().filter(|k| !got.contains_key(*k)) {
        diffs.push(format!("{} {}: pinned but no longer produced", k.0, k.1));
    }
    assert!(
        diffs.is_empty(),
        "outputs differ from {PINNED} ({} of {}):\n{}\n\
         If the change is meant, regenerate with SCALESIM_BLESS=1 cargo test --test golden \
         and say why in the commit.",
        diffs.len(),
        got.len(),
        diffs.join("\n")
    );
}
