//! The hot path allocates nothing per event in steady state: doubling the
//! simulated time (and so the number of events) must not add allocations
//! beyond a handful (histogram buckets for a new maximum, a rare growth of
//! a queue or slab to a new peak).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The counter sees every thread: tests measure one at a time.
static MEASURING: std::sync::Mutex<()> = std::sync::Mutex::new(());

const SCENARIO: &str = r#"
name = "alloc"
duration = "DURATION"
sample = "DURATION"
seed = 3

[traffic.web]
rate = 200
to = "api"
keys = { count = 100000, zipf = 0.9 }

[components.api]
kind = "pool"
instances = 4
concurrency = 2
service = { dist = "lognormal", mean = "20ms", cv = 1.0 }
calls = ["cache"]

[components.cache]
kind = "cache"
capacity = 5000
policy = "POLICY"
ttl = "5m"
hit = { dist = "const", value = "1ms" }
miss = "db"

[components.db]
kind = "pool"
instances = 2
concurrency = 4
service = { dist = "exp", mean = "10ms" }
"#;

/// Allocations and events of one run of `secs` simulated seconds.
fn run(secs: u32, policy: &str) -> (u64, u64) {
    let text = SCENARIO
        .replace("DURATION", &format!("{secs}s"))
        .replace("POLICY", policy);
    let loaded = scalesim::scenario::load_str("alloc.toml", &text, &[], "alloc").unwrap();
    let before = ALLOCS.load(Ordering::Relaxed);
    let r = scalesim::run::run(&loaded, 0).unwrap();
    let allocs = ALLOCS.load(Ordering::Relaxed) - before;
    (allocs, r.summary.engine.events)
}

#[test]
fn steady_state_allocates_nothing_per_event() {
    let _one_at_a_time = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    for policy in ["lru", "fifo", "lfu", "random"] {
        let (a1, e1) = run(2_000, policy);
        let (a2, e2) = run(4_000, policy);
        let extra_events = e2 - e1;
        let extra_allocs = a2.saturating_sub(a1);
        eprintln!("{policy}: {e1} events: {a1} allocations; {e2} events: {a2} allocations");
        assert!(extra_events > 1_000_000, "{extra_events}");
        // One allocation per 10,000 events would already be 100+; per-event
        // allocation would be millions.
        assert!(
            extra_allocs < 100,
            "{policy}: {extra_allocs} allocations for {extra_events} more events"
        );
    }
}

/// An LLM replica at a steady load: engine steps, KV blocks, preemptions
/// and token measurements reuse their memory.
const LLM: &str = r#"
name = "alloc-llm"
duration = "DURATION"
sample = "DURATION"
seed = 3

[traffic.chat]
rate = 16
to = "llm"
prompt_tokens = { dist = "lognormal", mean = 800, cv = 1.0, max = 4000 }
output_tokens = { dist = "lognormal", mean = 200, cv = 1.0, max = 1000 }

[components.llm]
kind = "llm"
replicas = 2
gpu = "H100-SXM"
model = "Llama-3-8B"
kv_blocks = 1200
"#;

#[test]
fn llm_steps_allocate_nothing_in_steady_state() {
    let _one_at_a_time = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let run = |secs: u32| {
        let text = LLM.replace("DURATION", &format!("{secs}s"));
        let loaded = scalesim::scenario::load_str("alloc.toml", &text, &[], "alloc").unwrap();
        let before = ALLOCS.load(Ordering::Relaxed);
        let r = scalesim::run::run(&loaded, 0).unwrap();
        let allocs = ALLOCS.load(Ordering::Relaxed) - before;
        let pre = r.report.components[0].serving.as_ref().unwrap().preemptions;
        (allocs, r.summary.engine.events, pre)
    };
    let (a1, e1, p1) = run(3_000);
    let (a2, e2, p2) = run(6_000);
    eprintln!("llm: {e1} events, {a1} allocations ({p1} preemptions); {e2} events, {a2} allocations ({p2})");
    assert!(e2 - e1 > 300_000, "{e1} {e2}");
    assert!(p2 > p1, "the small KV pool makes the run preempt");
    assert!(
        a2.saturating_sub(a1) < 100,
        "{} allocations for {} more events",
        a2.saturating_sub(a1),
        e2 - e1
    );
}
