//! Sweep throughput (divan): `cargo bench --bench sweep`.
//!
//! `sweep_runs` executes one sweep of 32 runs (8 points x 4 replications of
//! an M/M/4 pool, 20k requests each) on a pool of 1 thread and on one of
//! every core. The scenario text is parsed once per point when the sweep
//! is prepared (outside the timed part) and once per point while running;
//! runs themselves only build and run their system. Counter: runs. The
//! ratio of the two timings is the parallel speed-up; the goal is
//! near-linear (2 cores: close to 2x).

use divan::counter::ItemsCount;
use divan::{black_box, Bencher};
use scalesim::scenario::load_str;
use scalesim::study::sweep::{Options, Sweep};

const SCENARIO: &str = r#"
name = "bench-sweep"
duration = "2000s"
warmup = "100s"
sample = "100s"
seed = 1

[traffic.web]
rate = 10
to = "api"

[components.api]
kind = "pool"
instances = 4
service = { dist = "exp", mean = "300ms" }

[sweep]
replications = 4
grid = { "traffic.web.rate" = [8, 8.5, 9, 9.5, 10, 10.5, 11, 11.5] }
"#;

fn main() {
    divan::main();
}

fn threads() -> Vec<usize> {
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    if all > 1 {
        vec![1, all]
    } else {
        vec![1]
    }
}

#[divan::bench(args = threads(), sample_count = 10)]
fn sweep_runs(b: Bencher, threads: usize) {
    let loaded = load_str("bench.toml", SCENARIO, &[], "bench").expect("bench scenario loads");
    let sweep = Sweep::new(loaded).expect("bench sweep is valid");
    let opts = Options {
        threads: Some(threads),
        ..Options::default()
    };
    b.counter(ItemsCount::new(sweep.plan.runs())).bench(|| {
        let out = sweep
            .execute(&opts, &mut |_, row| {
                black_box(row);
                Ok(())
            })
            .expect("bench sweep runs");
        black_box(out.runs)
    });
}
