//! A deterministic mutation fuzz over every input the loaders read: each
//! example scenario, its trace, the HPA manifest, the policy table, the
//! metrics CSV and the slices of a sharded sweep. Each input is mutated
//! with seeded edits (byte flips, truncations, deletions and repeats,
//! numbers replaced by 0, -1, 1e9, 4294967295, 1e-9, 2^64 - 1, NaN, huge
//! strings, deep nesting, NUL and invalid UTF-8 bytes) and loaded; what
//! loads is run briefly. Asserted: no panic, no case slower than its
//! watchdog, and every refusal carries a message. A failing case is
//! written to `target/fuzz-failures/` to reproduce it.

mod common;

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use scalesim::models::units::Duration;
use scalesim::study::sweep;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

/// Numbers that sit on or past a bound, or break arithmetic.
const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1e9",
    "4294967295",
    "4294967296",
    "1e-9",
    "18446744073709551615",
    "99999999999999999999999",
    "nan",
    "inf",
    "1e308",
    "-0.0",
    "\"1ns\"",
    "\"0s\"",
    "\"1000000d\"",
];

/// Applies one to three seeded edits to `input`.
fn mutate(rng: &mut Xoshiro256PlusPlus, input: &[u8]) -> Vec<u8> {
    let mut b = input.to_vec();
    for _ in 0..rng.random_range(1..=3) {
        let len = b.len().max(1);
        let at = rng.random_range(0..len).min(b.len());
        match rng.random_range(0..12) {
            // Numbers, the most likely to cross a bound: twice as often.
            0..=3 => {
                let digits: Vec<usize> = (0..b.len()).filter(|&i| b[i].is_ascii_digit()).collect();
                if digits.is_empty() {
                    continue;
                }
                let i = digits[rng.random_range(0..digits.len())];
                let num =
                    |c: u8| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'-' | b'+');
                let mut s = i;
                while s > 0 && num(b[s - 1]) {
                    s -= 1;
                }
                let mut e = i;
                while e < b.len() && num(b[e]) {
                    e += 1;
                }
                let with = NUMBERS[rng.random_range(0..NUMBERS.len())].as_bytes();
                b.splice(s..e, with.iter().copied());
            }
            4 => {
                if !b.is_empty() {
                    let i = at.min(b.len() - 1);
                    b[i] ^= 1 << rng.random_range(0..8);
                }
            }
            5 => b.truncate(at),
            6 => {
                let end = (at + rng.random_range(1..64)).min(b.len());
                b.drain(at..end);
            }
            7 => {
                // Repeat a line many times (many rows, many keys).
                let s = b[..at]
                    .iter()
                    .rposition(|&c| c == b'\n')
                    .map_or(0, |i| i + 1);
                let e = b[at..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(b.len(), |i| at + i + 1);
                let line = b[s..e].to_vec();
                let times = [2, 10, 1000][rng.random_range(0..3)];
                for _ in 0..times {
                    b.splice(e..e, line.iter().copied());
                }
            }
            8 => {
                let huge = vec![b'x'; 200_000];
                b.splice(at..at, huge);
            }
            9 => {
                let depth = [10, 100, 300][rng.random_range(0..3)];
                let open = if rng.random_bool(0.5) { b"[" } else { b"{" };
                let nest: Vec<u8> = std::iter::repeat_n(open[0], depth).collect();
                b.splice(at..at, nest);
            }
            10 => {
                let byte = [0u8, 0xff, 0xe9, b'"', b'\n'][rng.random_range(0..5)];
                b.insert(at, byte);
            }
            _ => {
                // Swap two lines.
                let mut lines: Vec<Vec<u8>> =
                    b.split(|&c| c == b'\n').map(<[u8]>::to_vec).collect();
                if lines.len() > 2 {
                    let (i, j) = (
                        rng.random_range(0..lines.len()),
                        rng.random_range(0..lines.len()),
                    );
                    lines.swap(i, j);
                }
                b = lines.join(&b'\n');
            }
        }
    }
    b
}

/// Failures so far: (what, why).
type Failures = Vec<(String, String)>;

/// Runs `f` on its own thread with a watchdog of `secs`; a panic, an
/// error from `f` or a timeout is recorded with `input` saved.
fn case(
    failures: &mut Failures,
    what: &str,
    input: &[u8],
    secs: u64,
    f: impl FnOnce() -> Result<(), String> + Send + 'static,
) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let _ = tx.send(r);
    });
    let why = match rx.recv_timeout(std::time::Duration::from_secs(secs)) {
        Ok(Ok(Ok(()))) => return,
        Ok(Ok(Err(e))) => e,
        Ok(Err(p)) => format!(
            "panicked: {}",
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        ),
        Err(_) => format!("no answer within {secs} s (a hang)"),
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
    let _ = std::fs::create_dir_all(&dir);
    let name = what.replace(['/', ' '], "_");
    let _ = std::fs::write(dir.join(name), input);
    failures.push((what.to_string(), why));
}

/// Mutants per input: `n`, times `SCALESIM_FUZZ_SCALE` (default 1) for a
/// longer local run.
fn mutants(n: usize) -> usize {
    let scale = std::env::var("SCALESIM_FUZZ_SCALE")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(1);
    n * scale.max(1)
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("scalesim-fuzz-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("traces")).unwrap();
    std::fs::create_dir_all(d.join("policies")).unwrap();
    for sub in ["traces", "policies"] {
        for e in std::fs::read_dir(root().join("scenarios").join(sub)).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, d.join(sub).join(p.file_name().unwrap())).unwrap();
        }
    }
    d
}

fn seeded(name: &str, salt: u64) -> Xoshiro256PlusPlus {
    // FNV-1a of the name: a fixed seed per input.
    let h = name.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    });
    Xoshiro256PlusPlus::seed_from_u64(h ^ salt)
}

/// Loads a scenario file; what loads runs for two simulated seconds (if
/// its sources would draw few enough arrivals in them).
fn load_and_run(path: &Path) -> Result<(), String> {
    let mut l = match scalesim::scenario::load(path, &[]) {
        Ok(l) => l,
        Err(d) => {
            if d.0.is_empty() || d.0.iter().any(|x| x.message.trim().is_empty()) {
                return Err(format!("a refusal without a message: {d:?}"));
            }
            let text = d.to_string();
            if !text.starts_with("error: ") {
                return Err(format!("a refusal without `error:`: {text}"));
            }
            return Ok(());
        }
    };
    let s = &mut l.scenario;
    s.warmup = Duration(s.warmup.secs().min(0.5));
    s.duration = Duration(s.duration.secs().clamp(1.0, 2.0));
    s.sample = Duration(s.sample.secs().max(0.5));
    s.max_in_flight = s.max_in_flight.min(10_000);
    let horizon = s.duration.secs();
    for (_, src) in &s.traffic {
        match src.profile(&l.calendar, horizon) {
            Ok(p) if p.candidates(horizon, 60.0) <= 2e5 => {}
            _ => return Ok(()),
        }
    }
    scalesim::run::run(&l, 0)
        .map(|_| ())
        .map_err(|e| format!("a checked scenario failed to build: {e}"))
}

fn report(failures: &Failures, cases: usize, t0: Instant) {
    eprintln!("{cases} cases in {:.1} s", t0.elapsed().as_secs_f64());
    assert!(
        failures.is_empty(),
        "{} of {cases} mutated inputs failed (saved in target/fuzz-failures/):\n{}",
        failures.len(),
        failures
            .iter()
            .map(|(w, y)| format!("  {w}: {y}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn mutated_scenarios_load_or_fail_cleanly() {
    let dir = temp("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let (mut failures, mut cases, t0) = (Vec::new(), 0, Instant::now());
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read(f).unwrap();
        let mut rng = seeded(&name, 1);
        for k in 0..mutants(24) {
            let input = mutate(&mut rng, &text);
            let path = dir.join(format!("m{k}-{name}"));
            std::fs::write(&path, &input).unwrap();
            cases += 1;
            case(
                &mut failures,
                &format!("{name}#{k}"),
                &input,
                20,
                move || load_and_run(&path),
            );
        }
    }
    report(&failures, cases, t0);
}

#[test]
fn mutated_traces_load_or_fail_cleanly() {
    let dir = temp("traces");
    let scenario = dir.join("trace-replay.toml");
    std::fs::copy(root().join("scenarios/trace-replay.toml"), &scenario).unwrap();
    let text = std::fs::read(root().join("scenarios/traces/shop-counts.csv")).unwrap();
    let mut rng = seeded("shop-counts.csv", 2);
    let (mut failures, mut cases, t0) = (Vec::new(), 0, Instant::now());
    for k in 0..mutants(40) {
        let input = mutate(&mut rng, &text);
        std::fs::write(dir.join("traces/shop-counts.csv"), &input).unwrap();
        cases += 1;
        let s = scenario.clone();
        case(
            &mut failures,
            &format!("shop-counts.csv#{k}"),
            &input,
            20,
            move || load_and_run(&s),
        );
    }
    report(&failures, cases, t0);
}

#[test]
fn mutated_policies_and_metrics_replay_or_fail_cleanly() {
    let dir = temp("policies");
    let (mut failures, mut cases, t0) = (Vec::new(), 0, Instant::now());
    let metrics = root().join("scenarios/policies/cpu-spike.csv");
    for name in ["hpa-cpu.yaml", "step-cpu.toml"] {
        let text = std::fs::read(root().join("scenarios/policies").join(name)).unwrap();
        let mut rng = seeded(name, 3);
        for k in 0..mutants(60) {
            let input = mutate(&mut rng, &text);
            let path = dir.join(format!("m{k}-{name}"));
            std::fs::write(&path, &input).unwrap();
            cases += 1;
            let m = metrics.clone();
            case(
                &mut failures,
                &format!("{name}#{k}"),
                &input,
                20,
                move || {
                    let Ok(p) = scalesim::replay::load_policy(&path) else {
                        return Ok(());
                    };
                    let rows = scalesim::replay::load_metrics(&m, p.history_s())
                        .map_err(|d| format!("the recorded metrics failed: {d}"))?;
                    let _ = scalesim::replay::replay(&p, &rows);
                    Ok(())
                },
            );
        }
    }
    let text = std::fs::read(&metrics).unwrap();
    let mut rng = seeded("cpu-spike.csv", 4);
    for k in 0..mutants(80) {
        let input = mutate(&mut rng, &text);
        let path = dir.join(format!("m{k}-cpu-spike.csv"));
        std::fs::write(&path, &input).unwrap();
        cases += 1;
        let policy = dir.join("policies/hpa-cpu.yaml");
        case(
            &mut failures,
            &format!("cpu-spike.csv#{k}"),
            &input,
            20,
            move || {
                let p = scalesim::replay::load_policy(&policy).map_err(|d| d.to_string())?;
                match scalesim::replay::load_metrics(&path, p.history_s()) {
                    Ok(rows) => {
                        let _ = scalesim::replay::replay(&p, &rows);
                    }
                    Err(d) if d.to_string().starts_with("error: ") => {}
                    Err(d) => return Err(format!("a refusal without `error:`: {d}")),
                }
                Ok(())
            },
        );
    }
    report(&failures, cases, t0);
}

#[test]
fn tampered_slices_merge_or_fail_cleanly() {
    let dir = temp("merge");
    let text = r#"
name = "sw"
duration = "20s"
sample = "10s"
[traffic.web]
rate = 10
to = "api"
[components.api]
kind = "pool"
instances = 2
service = { dist = "exp", mean = "10ms" }
[sweep]
replications = 2
grid = { "components.api.instances" = [1, 2, 3] }
"#;
    let slices: Vec<PathBuf> = common::sweep_slices(text, &dir);
    let (mut failures, mut cases, t0) = (Vec::new(), 0, Instant::now());
    for file in ["sweep.json", "runs.csv"] {
        let original = std::fs::read(slices[0].join(file)).unwrap();
        let mut rng = seeded(file, 5);
        for k in 0..mutants(30) {
            let input = mutate(&mut rng, &original);
            std::fs::write(slices[0].join(file), &input).unwrap();
            cases += 1;
            let (dirs, out) = (slices.clone(), dir.join("out"));
            case(
                &mut failures,
                &format!("{file}#{k}"),
                &input,
                20,
                move || match sweep::merge(&dirs, &out, &[]) {
                    Ok(_) => Ok(()),
                    Err(e) if e.to_string().starts_with("error: ") => Ok(()),
                    Err(e) => Err(format!("a refusal without `error:`: {e}")),
                },
            );
        }
        std::fs::write(slices[0].join(file), &original).unwrap();
    }
    report(&failures, cases, t0);
}
