//! Shared helpers of the validation suites: run a scenario given as TOML
//! text, cut its time series into batches (one per sampling window after
//! warm-up), and compare batch means with closed forms using Student-t
//! confidence intervals.
//!
//! Method (Law & Kelton, *Simulation Modeling and Analysis*, §9.5.3): each
//! scenario sets `sample` to a window much longer than the relaxation time
//! of the system, so the per-window means are nearly independent and
//! nearly normal; the t interval of those means is the confidence
//! interval of the long-run mean. A check passes when the theoretical
//! value lies inside the 99.9% interval AND that interval is narrow
//! (relative half-width below a stated bound), so a noisy run cannot pass
//! by being vague. Seeds are fixed, so every run is reproducible.

#![allow(dead_code)]

use scalesim::run::{run, Run};
use scalesim::scenario::{load_str, Loaded};
use scalesim::sim::stats::{student_t_ci, MeanCi};
use scalesim_models::system::TsRow;

/// Confidence level of every interval in the suite.
pub const LEVEL: f64 = 0.999;

/// Loads a scenario from TOML text; panics with the diagnostics.
pub fn load(text: &str) -> Loaded {
    match load_str("validation.toml", text, &[], "validation") {
        Ok(l) => l,
        Err(d) => panic!("scenario does not load: {d:?}\n{text}"),
    }
}

/// The summary of replication 0 of a scenario given as TOML text, even
/// of a run the runaway guard stopped.
pub fn summary(text: &str) -> scalesim::output::summary::Summary {
    run(&load(text), 0).expect("runs").summary
}

/// The diagnostics of a scenario given as TOML text that must not load
/// (its file is `validation.toml`); panics if it loads.
pub fn load_error(text: &str) -> String {
    match load_str("validation.toml", text, &[], "validation") {
        Ok(_) => panic!("expected a load error:\n{text}"),
        Err(d) => d.to_string(),
    }
}

/// Runs replication `rep` of a scenario given as TOML text.
pub fn run_text(text: &str, rep: u32) -> Run {
    let loaded = load(text);
    let r = run(&loaded, rep).expect("scenario runs");
    assert!(
        r.report.runaway.is_none(),
        "the run stopped early: {:?}",
        r.report.runaway
    );
    r
}

/// The post-warm-up windows of `component` (`_system` for end-to-end
/// rows): windows that end after `warmup_s + sample_s`, so none contains
/// warm-up time.
pub fn windows<'a>(r: &'a Run, component: &str, warmup_s: f64, sample_s: f64) -> Vec<&'a TsRow> {
    let rows: Vec<&TsRow> = r
        .report
        .timeseries
        .iter()
        .filter(|w| w.component == component && w.t_s >= warmup_s + sample_s - 1e-9)
        .collect();
    assert!(
        rows.len() >= 10,
        "too few batches for {component}: {}",
        rows.len()
    );
    rows
}

/// Student-t interval at [`LEVEL`] of the batch means `xs`.
pub fn ci(xs: &[f64]) -> MeanCi {
    student_t_ci(xs, LEVEL).expect("at least 2 batches")
}

/// Asserts that `theory` lies in the 99.9% interval of the batch means
/// `xs` and that the interval is narrower than `max_rel_hw` x |theory|.
/// Returns the interval (and prints it, for `--nocapture` reports).
pub fn check_mean(label: &str, xs: &[f64], theory: f64, max_rel_hw: f64) -> MeanCi {
    let c = ci(xs);
    println!(
        "{label}: measured {:.6} +- {:.6} (99.9%, {} batches), theory {:.6}, rel.err {:+.3}%",
        c.mean,
        c.half_width,
        c.n,
        theory,
        100.0 * (c.mean - theory) / theory
    );
    assert!(
        c.half_width <= max_rel_hw * theory.abs(),
        "{label}: interval too wide to be a test: half-width {} > {} x {}",
        c.half_width,
        max_rel_hw,
        theory
    );
    assert!(
        c.contains(theory),
        "{label}: theory {theory} outside the 99.9% interval {} +- {}",
        c.mean,
        c.half_width
    );
    c
}

/// Erlang B blocking probability of `c` servers under offered load `a`
/// (recursion B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1))).
pub fn erlang_b(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    b
}

/// Erlang C probability of waiting, c servers, offered load a = lambda/mu.
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let rho = a / c as f64;
    let b = erlang_b(c, a);
    b / (1.0 - rho + rho * b)
}

/// Mean wait in queue of M/M/c.
pub fn mmc_wq(c: u32, lambda: f64, mu: f64) -> f64 {
    erlang_c(c, lambda / mu) / (c as f64 * mu - lambda)
}

/// Pollaczek-Khinchine mean wait of M/G/1: lambda E[S^2] / (2 (1 - rho)).
pub fn pk_wq(lambda: f64, mean: f64, second_moment: f64) -> f64 {
    lambda * second_moment / (2.0 * (1.0 - lambda * mean))
}

/// Asserts that a whole-run figure from the summary (computed over the
/// same post-warm-up period as the batches) is within the batch interval
/// `c` of the theoretical value.
pub fn check_summary(label: &str, value: f64, c: &MeanCi, theory: f64) {
    println!(
        "{label}: summary {value:.6}, theory {theory:.6}, allowed +- {:.6}",
        c.half_width
    );
    assert!(
        (value - theory).abs() <= c.half_width,
        "{label}: summary figure {value} differs from theory {theory} by more than the 99.9% half-width {}",
        c.half_width
    );
}

/// One field of every row, unwrapping pool-only fields.
pub fn col(rows: &[&TsRow], f: impl Fn(&TsRow) -> Option<f64>) -> Vec<f64> {
    rows.iter()
        .map(|r| f(r).expect("field present on this component"))
        .collect()
}

/// Every file of `dir` (name, bytes), sorted by name.
pub fn files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Asserts that two folders hold the same files, byte for byte.
pub fn assert_same_files(a: &std::path::Path, b: &std::path::Path) {
    let (fa, fb) = (files(a), files(b));
    let names = |f: &[(String, Vec<u8>)]| f.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&fa), names(&fb), "{} vs {}", a.display(), b.display());
    for ((n, x), (_, y)) in fa.iter().zip(&fb) {
        assert!(
            x == y,
            "{n} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

/// Runs the `[sweep]` of scenario `text` cut into two slices (shards 0
/// and 1 of 2, one thread each), into `dir/s0` and `dir/s1`.
pub fn sweep_slices(text: &str, dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    use scalesim::study::sweep;
    let loaded = load_str("sw.toml", text, &[], "sw").unwrap();
    let sw = sweep::Sweep::new(loaded).unwrap();
    (0..2)
        .map(|i| {
            let out = dir.join(format!("s{i}"));
            let opts = sweep::Options {
                threads: Some(1),
                shard: Some(sweep::Shard { index: i, count: 2 }),
                progress: false,
            };
            sweep::run_to_dir(&sw, &opts, &out).unwrap();
            out
        })
        .collect()
}
