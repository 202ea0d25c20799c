//! Engine benchmarks (divan): `cargo bench --bench engine`.
//!
//! - `bare_heap_mm1` / `engine_mm1`: the same M/M/1 queue, once as a
//!   hand-written loop over `std::collections::BinaryHeap`, once as a
//!   [`Model`] driven by [`Scheduler::run_until`]. Both make the same draws
//!   and the same per-event bookkeeping, so the ratio of their times is the
//!   cost of the engine's abstraction. Counter: events handled.
//! - `system_full_topology`: the data tier of the reference platform at
//!   the same rate (least_conn balancer, per-instance L1, shared Redis with
//!   coalescing, primary + replicas with lag, a job queue and workers).
//!   Counter: requests; goal: within 2x of `system_pool_cache_pool` per
//!   request.
//! - `system_pool_cache_pool`: a pool -> cache -> pool scenario with Zipf
//!   keys through the whole stack (`scenario::load_str` once, then
//!   `run::run` per iteration). Counter: requests.
//! - `event_queue_large`: the hold model (pop the earliest event, push one a
//!   random delay later) on an [`EventQueue`] holding 1k / 100k / 1M pending
//!   events, to show how the binary heap behaves with many requests in
//!   flight. Counter: pop+push pairs.
//!
//! - `system_llm`: one H100 serving Llama-3-8B near its knee through the
//!   whole stack. Counter: requests. `llm_replica_steps`: one replica's
//!   engine steps alone (256 requests decoding 2,000 tokens). Counter:
//!   steps.
//! - `source_constant` / `source_patterned`: arrivals drawn from a
//!   constant-rate Poisson source and from one with business hours, a
//!   weekend dip and a Black-Friday event (thinning against the per-block
//!   maximum). Counter: arrivals. The goal: patterned within 1.3x of
//!   constant per arrival.
//!
//! `main` first checks, once, that both M/M/1 loops give bit-identical
//! results for the same seed and that the mean wait is near the
//! M/M/1 value 1/(mu - lambda) - 1/mu.

use divan::counter::ItemsCount;
use divan::{black_box, Bencher};
use rand::{Rng, SeedableRng};
use rand_distr::Exp1;
use rand_xoshiro::Xoshiro256PlusPlus;
use scalesim_sim::{EventQueue, Model, RunOutcome, Scheduler, Time};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::OnceLock;

// ---------------------------------------------------------------- M/M/1 ---

/// Customers per M/M/1 run.
const CUSTOMERS: u64 = 1_000_000;
/// Every customer arrives once and departs once.
const MM1_EVENTS: u64 = 2 * CUSTOMERS;
/// Mean service time: 1 ms in ns (mu = 1000/s).
const MEAN_SERVICE_NS: f64 = 1_000_000.0;
/// Mean inter-arrival time: 1.25 ms in ns (lambda = 800/s, rho = 0.8).
const MEAN_GAP_NS: f64 = 1_250_000.0;
const SEED: u64 = 42;

/// The two random streams of an M/M/1 run: inter-arrival gaps and service
/// times. Separate streams make the draws independent of event order.
struct Draws {
    arrivals: Xoshiro256PlusPlus,
    service: Xoshiro256PlusPlus,
}

impl Draws {
    fn new(seed: u64) -> Self {
        Draws {
            arrivals: Xoshiro256PlusPlus::seed_from_u64(seed),
            service: Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15),
        }
    }

    #[inline]
    fn gap(&mut self) -> Time {
        let x: f64 = self.arrivals.sample(Exp1);
        (x * MEAN_GAP_NS) as Time
    }

    #[inline]
    fn service(&mut self) -> Time {
        let x: f64 = self.service.sample(Exp1);
        (x * MEAN_SERVICE_NS) as Time
    }
}

/// What an M/M/1 run measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mm1Result {
    events: u64,
    served: u64,
    /// Integral of the number waiting (not in service) over time, in
    /// customer-ns: the sum of all waiting times (Little's law).
    wait_area: u64,
}

impl Mm1Result {
    fn mean_wait_s(&self) -> f64 {
        self.wait_area as f64 / self.served as f64 / 1e9
    }
}

/// M/M/1 state shared by both loops: a FIFO queue as a counter and the
/// time-weighted area under the number waiting.
struct Mm1State {
    draws: Draws,
    arrived: u64,
    served: u64,
    waiting: u64,
    busy: bool,
    last: Time,
    wait_area: u64,
}

impl Mm1State {
    fn new(seed: u64) -> Self {
        Mm1State {
            draws: Draws::new(seed),
            arrived: 0,
            served: 0,
            waiting: 0,
            busy: false,
            last: 0,
            wait_area: 0,
        }
    }

    #[inline]
    fn advance(&mut self, now: Time) {
        self.wait_area += self.waiting * (now - self.last);
        self.last = now;
    }

    /// An arrival at `now`. Returns (delay of this customer's departure if
    /// it starts service at once, delay of the next arrival if any).
    #[inline]
    fn arrive(&mut self, now: Time) -> (Option<Time>, Option<Time>) {
        self.advance(now);
        self.arrived += 1;
        let depart = if self.busy {
            self.waiting += 1;
            None
        } else {
            self.busy = true;
            Some(self.draws.service())
        };
        let next = (self.arrived < CUSTOMERS).then(|| self.draws.gap());
        (depart, next)
    }

    /// A departure at `now`. Returns the delay of the next departure if a
    /// waiting customer starts service.
    #[inline]
    fn depart(&mut self, now: Time) -> Option<Time> {
        self.advance(now);
        self.served += 1;
        if self.waiting > 0 {
            self.waiting -= 1;
            Some(self.draws.service())
        } else {
            self.busy = false;
            None
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Mm1Ev {
    Arrival,
    Departure,
}

/// The baseline: M/M/1 over a bare `BinaryHeap<Reverse<u128>>`, the
/// tightest hand-written form: each entry is one 16-byte key,
/// `time << 64 | seq << 1 | is_departure`. `seq` breaks ties in scheduling
/// order, as the engine's queue does, and the event bit below it never
/// changes the order.
fn run_bare_mm1(seed: u64) -> Mm1Result {
    #[inline]
    fn key(t: Time, seq: u64, departure: bool) -> Reverse<u128> {
        Reverse(((t as u128) << 64) | ((seq as u128) << 1) | departure as u128)
    }
    let mut st = Mm1State::new(seed);
    let mut heap: BinaryHeap<Reverse<u128>> = BinaryHeap::with_capacity(1024);
    let mut seq = 0u64;
    let mut events = 0u64;
    let first = st.draws.gap();
    heap.push(key(first, seq, false));
    seq += 1;
    while let Some(Reverse(k)) = heap.pop() {
        events += 1;
        let now = (k >> 64) as Time;
        if k & 1 == 0 {
            let (depart, next) = st.arrive(now);
            if let Some(d) = depart {
                heap.push(key(now + d, seq, true));
                seq += 1;
            }
            if let Some(g) = next {
                heap.push(key(now + g, seq, false));
                seq += 1;
            }
        } else if let Some(d) = st.depart(now) {
            heap.push(key(now + d, seq, true));
            seq += 1;
        }
    }
    Mm1Result {
        events,
        served: st.served,
        wait_area: st.wait_area,
    }
}

/// The same model as a [`Model`]. Events are scheduled in the same order
/// as in [`run_bare_mm1`], so the two runs are bit-identical. The event
/// is a one-byte enum; the engine stores it next to its u128 key.
struct Mm1Model(Mm1State);

impl Model for Mm1Model {
    type Event = Mm1Ev;

    #[inline]
    fn handle(&mut self, ev: Mm1Ev, s: &mut Scheduler<Mm1Ev>) {
        let now = s.now();
        match ev {
            Mm1Ev::Arrival => {
                let (depart, next) = self.0.arrive(now);
                if let Some(d) = depart {
                    s.after(d, Mm1Ev::Departure);
                }
                if let Some(g) = next {
                    s.after(g, Mm1Ev::Arrival);
                }
            }
            Mm1Ev::Departure => {
                if let Some(d) = self.0.depart(now) {
                    s.after(d, Mm1Ev::Departure);
                }
            }
        }
    }
}

fn run_engine_mm1(seed: u64) -> Mm1Result {
    let mut model = Mm1Model(Mm1State::new(seed));
    let mut s: Scheduler<Mm1Ev> = Scheduler::new();
    let first = model.0.draws.gap();
    s.at(first, Mm1Ev::Arrival);
    let outcome = s.run_until(&mut model, Time::MAX);
    debug_assert_eq!(outcome, RunOutcome::Horizon);
    Mm1Result {
        events: s.events(),
        served: model.0.served,
        wait_area: model.0.wait_area,
    }
}

/// Runs once before the benchmarks: both loops agree exactly, and agree
/// with queueing theory.
fn check_mm1() {
    let bare = run_bare_mm1(SEED);
    let engine = run_engine_mm1(SEED);
    assert_eq!(bare, engine, "bare and engine M/M/1 runs differ");
    assert_eq!(bare.events, MM1_EVENTS);
    assert_eq!(bare.served, CUSTOMERS);
    let mu = 1e9 / MEAN_SERVICE_NS;
    let lambda = 1e9 / MEAN_GAP_NS;
    let theory = 1.0 / (mu - lambda) - 1.0 / mu;
    let got = bare.mean_wait_s();
    assert!(
        (got / theory - 1.0).abs() < 0.10,
        "M/M/1 mean wait {got:.6} s, theory {theory:.6} s"
    );
    eprintln!(
        "check: M/M/1 rho=0.8, {CUSTOMERS} customers, {MM1_EVENTS} events: mean wait {:.4} ms \
         (theory {:.4} ms), bare == engine",
        got * 1e3,
        theory * 1e3
    );
}

#[divan::bench(sample_count = 30, sample_size = 1)]
fn bare_heap_mm1(bencher: Bencher) {
    bencher
        .counter(ItemsCount::new(MM1_EVENTS))
        .bench(|| black_box(run_bare_mm1(black_box(SEED))));
}

#[divan::bench(sample_count = 30, sample_size = 1)]
fn engine_mm1(bencher: Bencher) {
    bencher
        .counter(ItemsCount::new(MM1_EVENTS))
        .bench(|| black_box(run_engine_mm1(black_box(SEED))));
}

// ------------------------------------------------------ full system ---

/// pool -> cache -> pool with Zipf keys, shaped like quickstart.toml but
/// at 2,000 requests/s for 2 simulated minutes (240k requests). No warm-up,
/// so `requests.arrived` counts every request.
const SYSTEM_SCENARIO: &str = r#"
name = "bench-pool-cache-pool"
duration = "2m"
seed = 7
sample = "10s"

[traffic.web]
rate = 2000
arrivals = "poisson"
to = "api"
keys = { count = 200000, zipf = 0.9 }

[components.api]
kind = "pool"
instances = 8
concurrency = 8
service = { dist = "lognormal", mean = "20ms", cv = 1.0 }
queue_capacity = 5000
calls = ["cache"]

[components.cache]
kind = "cache"
capacity = 20000
policy = "lru"
ttl = "10m"
hit = { dist = "const", value = "0.5ms" }
miss = "db"

[components.db]
kind = "pool"
instances = 4
concurrency = 8
service = { dist = "lognormal", mean = "30ms", cv = 1.5 }
"#;

/// The loaded bench scenario and its request count (the run is
/// deterministic, so every iteration handles the same requests).
struct SystemBench {
    loaded: scalesim::scenario::Loaded,
    requests: u64,
}

/// The data tier of the reference platform, the same 2,000 requests/s:
/// a least_conn balancer over the API pool, an L1 in every API instance,
/// a shared Redis with miss coalescing, a primary and a read replica with
/// replication lag (reads and 10% writes), and 2% of requests enqueueing a
/// job for a worker pool that writes to the database.
const FULL_SCENARIO: &str = r#"
name = "bench-full-topology"
duration = "2m"
seed = 7
sample = "10s"

[traffic.web]
rate = 2000
keys = { count = 200000, zipf = 0.9 }
mix = [
  { name = "read", weight = 88, op = "read", to = "api" },
  { name = "write", weight = 10, op = "write", to = "api" },
  { name = "upload", weight = 2, op = "write", to = "uploads" },
]

[components.api]
kind = "pool"
instances = 12
concurrency = 8
balance = "least_conn"
service = { dist = "lognormal", mean = "20ms", cv = 1.0 }
queue_capacity = 5000
calls = ["l1"]

[components.l1]
kind = "cache"
scope = "per_instance"
capacity = 5000
ttl = "1m"
hit = { dist = "const", value = "50us" }
miss = "redis"

[components.redis]
kind = "cache"
capacity = 20000
ttl = "10m"
hit = { dist = "const", value = "0.5ms" }
miss = "db"
coalesce = true

[components.db]
kind = "database"
primary = { instances = 4, concurrency = 8, service = { dist = "lognormal", mean = "30ms", cv = 1.5 } }
replicas = 2
replica = { instances = 4, concurrency = 8, service = { dist = "lognormal", mean = "30ms", cv = 1.5 } }
replication_lag = { dist = "exp", mean = "50ms" }
read_your_writes = true

[components.uploads]
kind = "pool"
instances = 2
concurrency = 8
service = { dist = "lognormal", mean = "20ms", cv = 1.0 }
calls = ["jobs"]

[components.jobs]
kind = "queue"
workers = "workers"

[components.workers]
kind = "pool"
instances = 16
service = { dist = "gamma", mean = "300ms", cv = 0.7 }
calls = ["db"]
"#;

fn system_bench() -> &'static SystemBench {
    static CELL: OnceLock<SystemBench> = OnceLock::new();
    CELL.get_or_init(|| load_bench(SYSTEM_SCENARIO, "pool->cache->pool"))
}

fn full_bench() -> &'static SystemBench {
    static CELL: OnceLock<SystemBench> = OnceLock::new();
    CELL.get_or_init(|| load_bench(FULL_SCENARIO, "full topology"))
}

fn load_bench(text: &str, what: &str) -> SystemBench {
    {
        let loaded = scalesim::scenario::load_str("bench.toml", text, &[], "bench")
            .unwrap_or_else(|d| panic!("bench scenario does not load: {d:?}"));
        let first = scalesim::run::run(&loaded, 0).expect("bench scenario runs");
        let s = &first.summary;
        let requests = s.requests.arrived;
        assert!(requests > 0 && s.runaway.is_none());
        eprintln!(
            "check: {what}: {requests} requests, {} events ({:.2} events/request), \
             {} completed, {} rejected, cache hit ratio {:.3}",
            s.engine.events,
            s.engine.events as f64 / requests as f64,
            s.requests.completed,
            s.requests.rejected,
            first
                .report
                .components
                .iter()
                .find(|c| c.name == "cache" || c.name == "redis")
                .and_then(|c| Some(c.hits? as f64 / (c.hits? + c.misses?) as f64))
                .unwrap_or(f64::NAN),
        );
        SystemBench { loaded, requests }
    }
}

#[divan::bench(sample_count = 30, sample_size = 1)]
fn system_pool_cache_pool(bencher: Bencher) {
    let sb = system_bench();
    bencher.counter(ItemsCount::new(sb.requests)).bench(|| {
        let run = scalesim::run::run(black_box(&sb.loaded), 0).expect("runs");
        black_box(run.summary.requests.arrived)
    });
}

/// The whole data tier (see [`FULL_SCENARIO`]); goal: within 2x of
/// `system_pool_cache_pool` per request.
#[divan::bench(sample_count = 30, sample_size = 1)]
fn system_full_topology(bencher: Bencher) {
    let sb = full_bench();
    bencher.counter(ItemsCount::new(sb.requests)).bench(|| {
        let run = scalesim::run::run(black_box(&sb.loaded), 0).expect("runs");
        black_box(run.summary.requests.arrived)
    });
}

// ------------------------------------------------- large event queue ---

/// Pop+push pairs per iteration of the hold model.
const HOLD_OPS: u64 = 1_000_000;
/// Mean hold delay: 1 ms in ns.
const HOLD_MEAN_NS: f64 = 1_000_000.0;

fn filled_queue(pending: usize) -> (EventQueue<u32>, Xoshiro256PlusPlus) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(SEED);
    let mut q = EventQueue::with_capacity(pending + 1);
    for i in 0..pending {
        // Spread the initial events over `pending` mean delays, as a
        // steady state with that many in flight would.
        let x: f64 = rng.sample(Exp1);
        let t = (x * HOLD_MEAN_NS * pending as f64 / 4.0) as Time;
        q.push(t, i as u32);
    }
    (q, rng)
}

#[divan::bench(args = [1_000, 100_000, 1_000_000], sample_count = 10, sample_size = 1)]
fn event_queue_large(bencher: Bencher, pending: usize) {
    bencher
        .counter(ItemsCount::new(HOLD_OPS))
        .with_inputs(|| filled_queue(pending))
        .bench_local_refs(|(q, rng)| {
            let mut sum = 0u64;
            for _ in 0..HOLD_OPS {
                let (t, ev) = q.pop().expect("queue is never empty");
                let x: f64 = rng.sample(Exp1);
                q.push(t + (x * HOLD_MEAN_NS) as Time, ev);
                sum = sum.wrapping_add(ev as u64);
            }
            black_box(sum)
        });
}

// ------------------------------------------------------------ sources ---

const SOURCE_HORIZON_S: f64 = 7.0 * 86400.0;

fn source_config(patterned: bool) -> scalesim_models::traffic::SourceConfig {
    let mut text = String::from("rate = 10\nto = \"x\"\n");
    if patterned {
        text.push_str(
            "daily = { peak_hours = \"07:00-20:00\", peak = 1.0, off_peak = 0.3, ramp = \"2h\" }\n\
             weekly = { weekend = 0.5 }\n\
             events = [{ start = \"4d\", duration = \"1d\", factor = 5.0, ramp_up = \"6h\" }]\n",
        );
    }
    toml::from_str(&text).expect("a valid source")
}

/// Draws every arrival of a week; returns how many.
fn drain(cfg: &scalesim_models::traffic::SourceConfig) -> u64 {
    let cal = scalesim_models::traffic::calendar::Calendar::undated();
    let mut src = scalesim_models::traffic::Source::new(cfg, &cal, SOURCE_HORIZON_S, |p| {
        scalesim_sim::stream(1, 0, "bench", p)
    })
    .expect("a valid source");
    let (mut n, mut now) = (0u64, 0);
    while let Some(t) = src.next_arrival(now) {
        now = t;
        n += 1;
    }
    n
}

#[divan::bench(sample_count = 20, sample_size = 1)]
fn source_constant(bencher: Bencher) {
    let cfg = source_config(false);
    let n = drain(&cfg);
    bencher
        .counter(ItemsCount::new(n))
        .bench(|| black_box(drain(black_box(&cfg))));
}

#[divan::bench(sample_count = 20, sample_size = 1)]
fn source_patterned(bencher: Bencher) {
    let cfg = source_config(true);
    let n = drain(&cfg);
    bencher
        .counter(ItemsCount::new(n))
        .bench(|| black_box(drain(black_box(&cfg))));
}

// ---------------------------------------------------------------- GPU ---

/// One H100 serving Llama-3-8B near its knee (18 chat requests/s, ~190
/// requests in each step) for two simulated hours.
const LLM_SCENARIO: &str = r#"
name = "llm-bench"
duration = "2h"
warmup = "5m"
sample = "1m"
seed = 5

[traffic.chat]
rate = 18
to = "llm"
prompt_tokens = { dist = "lognormal", mean = 1000, cv = 1.0, max = 6000 }
output_tokens = { dist = "lognormal", mean = 250, cv = 1.0, max = 2000 }

[components.llm]
kind = "llm"
replicas = 1
gpu = "H100-SXM"
model = "Llama-3-8B"
"#;

fn llm_bench() -> &'static SystemBench {
    static CELL: OnceLock<SystemBench> = OnceLock::new();
    CELL.get_or_init(|| load_bench(LLM_SCENARIO, "one H100 near its knee"))
}

/// The whole stack around one LLM replica: arrivals, routing, engine
/// steps (each a roofline evaluation and the batch's bookkeeping), token
/// metrics. Counter: requests (about 1,000 engine steps per 60 requests).
#[divan::bench(sample_count = 20, sample_size = 1)]
fn system_llm(bencher: Bencher) {
    let sb = llm_bench();
    bencher.counter(ItemsCount::new(sb.requests)).bench(|| {
        let run = scalesim::run::run(black_box(&sb.loaded), 0).expect("runs");
        black_box(run.summary.requests.arrived)
    });
}

/// Engine steps of one replica decoding 256 requests of 2,000 output
/// tokens (prefill, then ~2,000 decode steps of a full batch, with
/// block-boundary and completion bookkeeping). Counter: steps.
#[divan::bench(sample_count = 20, sample_size = 1)]
fn llm_replica_steps(bencher: Bencher) {
    use scalesim_models::kinds::serving::llm::LlmConfig;
    use scalesim_models::kinds::serving::replica::{Job, Replica};
    let cfg: LlmConfig = toml::from_str(
        "replicas = 1\ngpu = \"H100-SXM\"\nmodel = \"Llama-3-8B\"\nmax_num_seqs = 256",
    )
    .expect("a valid LLM config");
    let plan = cfg.plan().expect("a valid plan");
    let drain = |plan: &scalesim_models::kinds::serving::llm::LlmPlan| {
        let mut r = Replica::new(plan.clone());
        for visit in 0..256 {
            r.push(Job {
                visit,
                prompt: 500,
                output: 2000,
                arrived: 0,
            });
        }
        let mut out = Vec::new();
        let (_, steps) = r.drain(0, &mut out);
        assert_eq!(out.len(), 256);
        steps
    };
    let steps = drain(&plan);
    bencher
        .counter(ItemsCount::new(steps))
        .bench(|| black_box(drain(black_box(&plan))));
}

fn main() {
    check_mm1();
    llm_bench();
    system_bench();
    divan::main();
}
