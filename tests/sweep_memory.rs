//! A sweep's memory is bounded by the work in flight, not by the number
//! of runs: ten times the replications of one point must not raise the
//! peak of live heap bytes (runs are streamed to the sink in order and
//! folded into per-point statistics as they finish).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Peak;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(n: usize) {
    let now = LIVE.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Peak {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        grew(l.size());
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        if n >= l.size() {
            grew(n - l.size());
        } else {
            LIVE.fetch_sub(l.size() - n, Ordering::Relaxed);
        }
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Peak = Peak;

const SCENARIO: &str = r#"
name = "memory"
duration = "3000s"
warmup = "100s"
sample = "60s"
seed = 2

[traffic.web]
rate = 20
to = "api"
keys = { count = 10000, zipf = 0.8 }

[components.api]
kind = "pool"
instances = 2
service = { dist = "exp", mean = "50ms" }
calls = ["cache"]

[components.cache]
kind = "cache"
capacity = 1000
hit = { dist = "const", value = "1ms" }
miss = "db"

[components.db]
kind = "pool"
instances = 2
service = { dist = "exp", mean = "20ms" }

[sweep]
replications = REPS
grid = { "components.api.instances" = [2] }
"#;

/// Peak live heap bytes above the start while a sweep of `reps` runs
/// executes on 2 threads.
fn peak(reps: u32) -> usize {
    let text = SCENARIO.replace("REPS", &reps.to_string());
    let loaded = scalesim::scenario::load_str("memory.toml", &text, &[], "memory").unwrap();
    let sweep = scalesim::study::sweep::Sweep::new(loaded).unwrap();
    let opts = scalesim::study::sweep::Options {
        threads: Some(2),
        ..Default::default()
    };
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let mut rows = 0;
    let out = sweep
        .execute(&opts, &mut |_, _| {
            rows += 1;
            Ok(())
        })
        .unwrap();
    assert_eq!(out.runs, reps as usize);
    assert_eq!(rows, reps as usize);
    PEAK.load(Ordering::Relaxed) - base
}

#[test]
fn sweep_memory_does_not_grow_with_runs() {
    let small = peak(16);
    let large = peak(160);
    eprintln!("peak live bytes: 16 runs {small}, 160 runs {large}");
    // Ten times the runs; the peak may differ by which runs happen to be
    // in flight together, not by a factor.
    assert!(
        (large as f64) < 1.25 * small as f64,
        "peak grew from {small} to {large} bytes for 10x the runs"
    );
}
