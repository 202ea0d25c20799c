//! The `scalesim` command line (CONTRACT.md §1).

use clap::{Args, Parser, Subcommand};
use scalesim::output::{self, report};
use scalesim::study::Failure;
use scalesim::study::{capacity, compare, objective, sweep};
use scalesim::{replay, run, scenario};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const ABOUT: &str = "Deterministic discrete-event load and scaling simulator.

Describe your system in a TOML scenario (traffic with daily, weekly,
event and growth patterns or a recorded trace; server pools; caches;
databases, shards and job queues; GPU pools serving LLMs and batched
models; autoscalers; instance types and prices; SLOs); scalesim replays
days or weeks of simulated traffic in seconds and reports latency
percentiles, utilization, queueing, cache hit ratios, time to first
token and per output token, cost (per month, per 1M tokens) and the SLO
verdict, with charts. The same scenario and seed
always give byte-identical results.";

const AFTER: &str = "Examples:
  scalesim run scenarios/quickstart.toml
  scalesim run scenarios/quickstart.toml --set components.api.instances=6 --seed 42
  scalesim run scenarios/quickstart.toml --json --quiet > summary.json
  scalesim validate scenarios/quickstart.toml
  scalesim sweep scenarios/quickstart-sweep.toml --threads 2
  scalesim run scenarios/llm-h100-knee.toml --set traffic.chat.rate=20
  scalesim compare scenarios/hpa-week.toml scenarios/target-week.toml --replications 10
  scalesim capacity scenarios/api-capacity.toml     (flags from its [capacity] table)
  scalesim capacity scenarios/api-capacity.toml --slo \"p99<300ms\" --per components.api.instances=2..12:2

Exit codes: 0 success; 1 the run finished but an SLO failed;
            2 bad usage or bad scenario; 3 internal error.
Scenario reference: docs/scenario-reference.md (the book: docs/SUMMARY.md),
and the commented files in scenarios/.";

#[derive(Parser)]
#[command(name = "scalesim", version, about = ABOUT, after_help = AFTER)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate a scenario; write the summary, time series, charts and report.
    #[command(
        after_help = "The summary table goes to stdout (or stderr with --json); files go to \
--out (default output/<scenario name>/):
  summary.json     the JSON summary (requests, latency_s, components, cost_usd, slo, ...)
  timeseries.csv   one row per sampling window (scenario `sample`, default 60s)
                   per component, plus `_system` rows with end-to-end figures
  load, latency, utilization, instances, cost  (.png and .svg)
                   offered load and throughput; p50/p95/p99 with SLO lines;
                   utilization and queue length; instances desired vs
                   ready; cost per hour and cumulative
  llm              with LLM or batch components: p99 time to first token
                   and per output token, tokens/s, KV-cache use, batch size
  scaling_events.csv  each autoscaler decision and its reason
  incidents.csv       each instance failure and repair, each outage start and end
  report.html      one self-contained page: the summary, the objectives, the
                   peak, the bill, every chart and the assumptions modelled

Exits 1 when an SLO in the scenario's [slo] table fails (or the run was
stopped as a runaway), so CI can gate a rollout on it."
    )]
    Run(RunArgs),
    /// Parse and check a scenario without running it.
    #[command(
        after_help = "Reports every problem with file, line and column: TOML syntax, \
wrong types, unknown fields (with the nearest valid name), unknown component names, call \
cycles, zero instances, negative rates, impossible distributions. Exits 0 when the scenario \
is valid, 2 otherwise."
    )]
    Validate(ValidateArgs),
    /// Run a scaling policy alone over recorded metrics; print each decision and why.
    #[command(
        name = "replay-policy",
        after_help = "The policy file is one TOML table like a scenario's \
[autoscaler.<pool>] (policy = \"hpa\" | \"simple\" | \"step\" | \"target\" | \"scheduled\"; or \
policy = \"hpa\" with manifest = \"hpa.yaml\" and metric_names = { http_requests_per_second = \"rps\" }, \
the manifest relative to the policy file) or a Kubernetes HorizontalPodAutoscaler YAML manifest \
(.yaml). The metrics CSV has a header and one row per \
evaluation: time (seconds), replicas, optional ready, one column per metric (cpu as a 0..1 \
fraction, rps, queue, ...; empty = missing), and optional per-pod columns pod<N>_ready, \
pod<N>_age, pod<N>_<metric>.

The metrics may also be the timeseries.csv that `scalesim run --out DIR` writes: each sampling \
window of one pool (--component NAME, needed when there are several) is one evaluation, its \
cpu column the cpu metric, utilization the busy metric, completions per second per instance rps, queue_len the queue, \
latency_mean_s and latency_p99_s the latency and p99, memory (pools with memory) the memory \
metric. The replay is open loop: the recorded \
metrics do not answer the replayed policy.

Printed: the evaluations where the recorded capacity (current) or the policy's decision \
(desired) changed, every one with --all; a + marks a scale-out (desired above current), a - a \
scale-in. Examples:

  scalesim replay-policy --policy scenarios/policies/hpa-cpu.yaml --metrics scenarios/policies/cpu-spike.csv
  scalesim run scenarios/hpa-week.toml --out o
  scalesim replay-policy --policy scenarios/policies/step-cpu.toml --metrics o/timeseries.csv --component api"
    )]
    ReplayPolicy(ReplayArgs),
    /// Run every point of the scenario's [sweep] grid, R replications each, in parallel.
    #[command(after_help = SWEEP_HELP)]
    Sweep(SweepArgs),
    /// Join the slices of a sharded sweep (`sweep --shard I/N`) into the whole sweep's files.
    #[command(
        after_help = "Reads each DIR's sweep.json and runs.csv (written by `scalesim sweep --shard I/N --out DIR`), checks that every slice of one sweep is there exactly once, and writes runs.csv, points.csv, sweep.json and the charts: byte-identical to the sweep run on one machine.

  scalesim merge out/shard-0 out/shard-1 out/shard-2 --out out/merged"
    )]
    Merge(MergeArgs),
    /// Is B better than A? Paired replications with common random numbers, a rollout gate.
    #[command(after_help = COMPARE_HELP)]
    Compare(CompareArgs),
    /// Find the largest load (or any parameter) that meets the SLO; a capacity chart with --per.
    #[command(after_help = CAPACITY_HELP)]
    Capacity(CapacityArgs),
}

const SWEEP_HELP: &str = "The scenario's [sweep] table names what varies:

  [sweep]
  replications = 5                      # runs per point (seeds: scenario seed x replication)
  grid = { \"components.api.instances\" = [4, 6, 8], \"components.cache.capacity\" = [1000, 10000] }
  zip = [{ \"traffic.web.rate\" = [100, 200], \"components.db.instances\" = [2, 4] }]   # vary together
  plot = [\"latency_s.p99\", \"cost_usd.projected_month\"]   # optional: metrics to chart

Every (point, replication) is an independent run; replication r of every point uses the same
random streams (common random numbers). Results are identical for any --threads.

Files in --out (default output/<scenario>/sweep/):
  runs.csv      one row per run: parameters and every summary metric (dotted names)
  points.csv    per point: <metric>.mean and <metric>.ci95 (95% Student-t half-width)
  sweep.json    the plan and every point's statistics (also printed by --json)
  sweep-<param>.png/.svg   each metric against each varied parameter, with CI bars
  pareto.png/.svg          cost per month against p99, the Pareto frontier marked, every point
                           labelled (the others numbered, with a key)
  heatmap.png/.svg         when the grid has exactly two parameters (not for a zip)

The table: per point, each metric the [slo] table bounds (its bound in the header), cost per
month and the share of replications meeting the SLO.

Across machines: run slice I of N anywhere (Slurm array, Kubernetes Indexed Job) with
  scalesim sweep S.toml --shard $I/$N --out results/shard-$I
then join the slices with `scalesim merge results/shard-* --out results/all`.";

const COMPARE_HELP: &str = "Give two scenarios, or one scenario with two variants:

  [variants.baseline]                  # no edits: the scenario as written
  [variants.bigger-cache]
  \"components.cache.capacity\" = 50000   # dotted path = value, as with --set

Replication r of A and of B use the same random streams, so the paired differences B - A
remove shared noise. Reported: mean and p95/p99 latency, error rate, SLO violation minutes,
mean instances, cost per month, each with a 95% interval of B - A and a verdict (better /
worse / no significant difference). The SLOs of both [slo] tables are judged on the mean
over replications.

Exits 1 when B breaks an SLO that A meets: a rollout gate for CI pipelines.";

const CAPACITY_HELP: &str =
    "Bracketing (doubling or halving from the scenario's value) then bisection,
with --replications runs at every probe. The answer is where the mean of the first objective to
fail crosses its bound; the interval is where the 95% bands cross. Objectives: comma-separated
METRIC<BOUND (or <=, >, >=); METRIC is p50..p999, mean, max, error_rate, or any dotted summary
name such as components.api.utilization; latency bounds take units (500ms, 2s). Without --slo,
the scenario's [slo] table is used. Assumes the objectives get harder as the value grows.
Defaults for every flag may sit in the scenario's [capacity] table (vary, slo, per,
replications, tolerance, lo, hi).

--per PATH=LIST repeats the search for each value (2,4,8 or 2..40 or 2..40:2) and draws
capacity.png (max load against it, cost per month on the right axis) and capacity-inverse.png
(what is needed for a given load). Files in --out (default output/<scenario>/capacity/):
capacity.csv, probes.csv, capacity.json and the charts.

  scalesim capacity scenarios/mmc.toml --vary traffic.web.rate --slo \"p99<5s\"";

#[derive(Args)]
struct SweepArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// Worker threads [default: one per core].
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Run only slice I of N (0-based): runs whose number k has k % N == I.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Replications per point (overrides sweep.replications).
    #[arg(long, short = 'r', value_name = "R")]
    replications: Option<u32>,
    /// Output folder [default: output/<scenario>/sweep/, or output/<scenario>/shard-I-of-N/].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print sweep.json on stdout; the table goes to stderr.
    #[arg(long)]
    json: bool,
    /// No progress bar and no table.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args)]
struct MergeArgs {
    /// Slice folders written by `sweep --shard I/N`.
    #[arg(required = true, value_name = "DIR")]
    dirs: Vec<PathBuf>,
    /// Output folder for the joined sweep.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Print sweep.json on stdout.
    #[arg(long)]
    json: bool,
    /// Metrics to chart instead of the sweep's own `plot` list; repeatable.
    #[arg(long, value_name = "METRIC")]
    plot: Vec<String>,
}

#[derive(Args)]
struct CompareArgs {
    /// Scenario A (the baseline); alone, it must hold two [variants.<name>].
    a: PathBuf,
    /// Scenario B (the candidate).
    b: Option<PathBuf>,
    /// The two variants of A to compare, as A,B.
    #[arg(long, value_name = "A,B")]
    variants: Option<String>,
    /// Paired replications.
    #[arg(long, short = 'r', default_value_t = 10)]
    replications: u32,
    /// Worker threads [default: one per core].
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Override a field on both sides; repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Print the comparison as one JSON document on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct CapacityArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// The parameter to push up, by dotted path (e.g. traffic.web.rate)
    /// [default: `vary` in the scenario's [capacity] table].
    #[arg(long, value_name = "PATH")]
    vary: Option<String>,
    /// Objectives, e.g. "p99<500ms,error_rate<0.001" [default: the scenario's [slo]].
    #[arg(long, value_name = "EXPR")]
    slo: Option<String>,
    /// Repeat the search for each value of a second parameter: PATH=2,4,8 or PATH=2..40:2
    /// [default: `per` in the [capacity] table; --per "" searches once, without it].
    #[arg(long, value_name = "PATH=LIST")]
    per: Option<String>,
    /// Replications per probe [default: 5].
    #[arg(long, short = 'r')]
    replications: Option<u32>,
    /// Start of the bracket from below (must meet the objectives).
    #[arg(long)]
    lo: Option<f64>,
    /// Start of the bracket from above (must fail them).
    #[arg(long)]
    hi: Option<f64>,
    /// Stop when the bracket is narrower than this fraction of its lower end [default: 0.01].
    #[arg(long)]
    tolerance: Option<f64>,
    /// Most probes per search.
    #[arg(long, default_value_t = 30)]
    max_probes: usize,
    /// Worker threads [default: one per core].
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Output folder [default: output/<scenario>/capacity/].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print capacity.json on stdout; the table goes to stderr.
    #[arg(long)]
    json: bool,
    /// No progress indicator and no table.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args)]
struct ReplayArgs {
    /// Policy: a TOML policy table or an HPA YAML manifest.
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
    /// Recorded metrics, CSV, or the timeseries.csv of `scalesim run`.
    #[arg(long, value_name = "FILE.csv")]
    metrics: PathBuf,
    /// With a timeseries.csv: the pool whose rows to replay [default: its only pool].
    #[arg(long, value_name = "NAME")]
    component: Option<String>,
    /// Print every evaluation, not only those where the capacity or the decision changed.
    #[arg(long)]
    all: bool,
    /// Print every decision as one JSON array on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ScenarioArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// Override a field by its dotted path; repeatable.
    /// Example: --set components.api.instances=12 --set traffic.web.rate=300
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// Seed for the random streams (overrides the scenario's `seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// Output folder [default: output/<scenario name>/].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print exactly one JSON document (the summary) on stdout; human text goes to stderr.
    #[arg(long)]
    json: bool,
    /// Print no summary table.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args)]
struct ValidateArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A bug must not look like bad input: report it as an internal error.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("scalesim: internal error (a bug; please report it with the scenario): {info}");
    }));
    let result = std::panic::catch_unwind(|| match cli.command {
        Command::Run(a) => cmd_run(a),
        Command::Validate(a) => cmd_validate(a),
        Command::ReplayPolicy(a) => cmd_replay(a),
        Command::Sweep(a) => finish(cmd_sweep(a)),
        Command::Merge(a) => finish(cmd_merge(a)),
        Command::Compare(a) => finish(cmd_compare(a)),
        Command::Capacity(a) => finish(cmd_capacity(a)),
    });
    match result {
        Ok(code) => code,
        Err(_) => ExitCode::from(3),
    }
}

fn load(a: &ScenarioArgs) -> Result<scenario::Loaded, ExitCode> {
    scenario::load(&a.scenario, &a.set).map_err(|d| {
        eprintln!("{d}");
        ExitCode::from(2)
    })
}

fn cmd_replay(a: ReplayArgs) -> ExitCode {
    let loaded = replay::load_policy(&a.policy)
        .and_then(|p| replay::load(&a.metrics, &p, a.component.as_deref()).map(|m| (p, m)));
    let (policy, rows) = match loaded {
        Ok(x) => x,
        Err(d) => {
            eprintln!("{d}");
            return ExitCode::from(2);
        }
    };
    match replay::replay(&policy, &rows) {
        Ok(steps) if a.json => match serde_json::to_string_pretty(&steps) {
            Ok(j) => say(format_args!("{j}\n")),
            Err(e) => {
                eprintln!("scalesim: internal error: {e}");
                return ExitCode::from(3);
            }
        },
        Ok(steps) => say(format_args!("{}", replay::table(&steps, a.all))),
        Err(e) => {
            eprintln!("error: {}: {e}", a.policy.display());
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

fn cmd_validate(a: ValidateArgs) -> ExitCode {
    match load(&a.scenario) {
        Ok(l) => {
            let s = &l.scenario;
            say(format_args!(
                "{}: valid ({} traffic source{}, {} component{}, {} simulated)\n",
                l.file,
                s.traffic.len(),
                plural(s.traffic.len()),
                s.components.0.len(),
                plural(s.components.0.len()),
                output::human_secs(s.duration.secs())
            ));
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

/// Writes to stdout, ignoring a closed pipe (`scalesim run ... | head`).
fn say(args: std::fmt::Arguments) {
    let _ = std::io::stdout().lock().write_fmt(args);
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn cmd_run(a: RunArgs) -> ExitCode {
    let mut loaded = match load(&a.scenario) {
        Ok(l) => l,
        Err(code) => return code,
    };
    if let Some(seed) = a.seed {
        loaded.scenario.seed = seed;
    }
    let out = a
        .out
        .unwrap_or_else(|| Path::new("output").join(&loaded.scenario.name));
    let r = match run::run(&loaded, 0) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("scalesim: internal error: a checked scenario failed to build: {e}");
            return ExitCode::from(3);
        }
    };
    if let Err(e) = std::fs::create_dir_all(&out)
        .and_then(|_| output::write_summary(&out, &r.summary))
        .and_then(|_| output::write_timeseries(&out, &r.report.timeseries))
        .and_then(|_| output::write_scaling_events(&out, &r.report.scaling_events))
        .and_then(|_| output::write_incidents(&out, &r.report.incidents))
        .and_then(|_| report::write_run(&out, &loaded, &r.report, &r.summary).map(|_| ()))
    {
        eprintln!("error: cannot write results to {}: {e}", out.display());
        return ExitCode::from(2);
    }
    let table = output::table(&r.summary);
    if a.json {
        match serde_json::to_string_pretty(&r.summary) {
            Ok(j) => say(format_args!("{j}\n")),
            Err(e) => {
                eprintln!("scalesim: internal error: {e}");
                return ExitCode::from(3);
            }
        }
        if !a.quiet {
            eprint!("{table}");
        }
    } else if !a.quiet {
        say(format_args!("{table}results   {}\n", out.display()));
    }
    if let Some(w) = &r.summary.runaway {
        eprintln!("warning: {}", w.message);
    }
    if r.summary.slo.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Maps a study's result to the exit code, printing the failure.
fn finish(r: Result<ExitCode, Failure>) -> ExitCode {
    r.unwrap_or_else(|f| {
        match &f {
            Failure::Usage(m) if m.starts_with("error:") => eprintln!("{m}"),
            Failure::Usage(m) => eprintln!("error: {m}"),
            Failure::Internal(_) => eprintln!("scalesim: {f}"),
        }
        ExitCode::from(f.exit_code())
    })
}

fn load_study(a: &ScenarioArgs, extra: &[String]) -> Result<scenario::Loaded, Failure> {
    let mut edits = a.set.clone();
    edits.extend_from_slice(extra);
    scenario::load(&a.scenario, &edits).map_err(|d| Failure::Usage(d.to_string()))
}

fn print_json(json: &str) {
    say(format_args!("{json}"));
}

fn cmd_sweep(a: SweepArgs) -> Result<ExitCode, Failure> {
    let shard = a
        .shard
        .as_deref()
        .map(sweep::Shard::parse)
        .transpose()
        .map_err(Failure::Usage)?;
    let extra: Vec<String> = a
        .replications
        .map(|r| vec![format!("sweep.replications={r}")])
        .unwrap_or_default();
    let loaded = load_study(&a.scenario, &extra)?;
    let name = loaded.scenario.name.clone();
    let sw = sweep::Sweep::new(loaded)?;
    let out = a.out.unwrap_or_else(|| {
        let dir = Path::new("output").join(&name);
        match shard {
            Some(s) => dir.join(format!("shard-{}-of-{}", s.index, s.count)),
            None => dir.join("sweep"),
        }
    });
    let opts = sweep::Options {
        threads: a.threads,
        shard,
        progress: !a.quiet,
    };
    if !a.quiet {
        let owned = match shard {
            Some(s) => (0..sw.plan.runs()).filter(|&k| s.owns(k)).count(),
            None => sw.plan.runs(),
        };
        eprintln!(
            "sweep {name}: {} points x {} replications = {} runs{}",
            sw.plan.points.len(),
            sw.plan.replications,
            sw.plan.runs(),
            shard
                .map(|s| format!("; slice {}/{} runs {owned}", s.index, s.count))
                .unwrap_or_default()
        );
    }
    let t0 = std::time::Instant::now();
    let (results, json) = sweep::run_to_dir(&sw, &opts, &out)?;
    if a.json {
        print_json(&json);
    }
    if !a.quiet {
        let secs = t0.elapsed().as_secs_f64();
        let done = results
            .points
            .iter()
            .map(|p| p.stats.first().map_or(0, |s| s.n))
            .sum::<u64>();
        let table = if shard.is_some() {
            "slice written; join every slice with `scalesim merge`\n".to_string()
        } else {
            sweep::table(&results, 40)
        };
        let text = format!(
            "{table}{done} runs in {secs:.1} s ({:.1} runs/s)\nresults   {}\n",
            done as f64 / secs.max(1e-9),
            out.display()
        );
        if a.json {
            eprint!("{text}");
        } else {
            say(format_args!("{text}"));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_merge(a: MergeArgs) -> Result<ExitCode, Failure> {
    let plot: Vec<String> = a
        .plot
        .iter()
        .map(|m| scalesim::study::metrics::resolve(m))
        .collect();
    let r = sweep::merge(&a.dirs, &a.out, &plot)?;
    if a.json {
        let json = std::fs::read_to_string(a.out.join("sweep.json"))
            .map_err(|e| Failure::Usage(format!("cannot read back sweep.json: {e}")))?;
        print_json(&json);
    } else {
        say(format_args!(
            "{}merged {} slices\nresults   {}\n",
            sweep::table(&r, 40),
            a.dirs.len(),
            a.out.display()
        ));
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_compare(a: CompareArgs) -> Result<ExitCode, Failure> {
    let variants = match a.variants.as_deref() {
        None => None,
        Some(v) => Some(
            v.split_once(',')
                .map(|(x, y)| (x.trim(), y.trim()))
                .ok_or_else(|| {
                    Failure::Usage(format!("--variants {v}: expected two names, A,B"))
                })?,
        ),
    };
    let (sa, sb) = compare::sides(&a.a, a.b.as_deref(), variants, &a.set)?;
    let c = compare::compare(&sa, &sb, a.replications, a.threads)?;
    if a.json {
        let j = serde_json::to_string_pretty(&c).map_err(|e| Failure::Internal(e.to_string()))?;
        print_json(&format!("{j}\n"));
    } else {
        say(format_args!("{}", compare::table(&c)));
    }
    Ok(if c.gate_passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn cmd_capacity(a: CapacityArgs) -> Result<ExitCode, Failure> {
    let loaded = load_study(&a.scenario, &[])?;
    let cfg = loaded.scenario.capacity.clone().unwrap_or_default();
    let vary = a.vary.or(cfg.vary).ok_or_else(|| {
        Failure::Usage(
            "capacity needs --vary PATH (e.g. --vary traffic.web.rate), or `vary` in a [capacity] table"
                .into(),
        )
    })?;
    let slo = a.slo.or(cfg.slo);
    let objectives = match &slo {
        Some(e) => objective::parse_list(e).map_err(|m| Failure::Usage(format!("--slo: {m}")))?,
        None => objective::from_slo(&loaded.scenario.slo),
    };
    if objectives.is_empty() {
        return Err(Failure::Usage(format!(
            "{}: no objective: give --slo \"p99<500ms,error_rate<0.001\" or an [slo] table",
            loaded.file
        )));
    }
    // `--per ""` unsets the table's `per`: one search.
    let per = a
        .per
        .or(cfg.per)
        .filter(|p| !p.trim().is_empty())
        .as_deref()
        .map(capacity::parse_per)
        .transpose()
        .map_err(Failure::Usage)?;
    let search = capacity::Search {
        vary,
        objectives,
        replications: a.replications.or(cfg.replications).unwrap_or(5),
        lo: a.lo.or(cfg.lo),
        hi: a.hi.or(cfg.hi),
        tolerance: a.tolerance.or(cfg.tolerance).unwrap_or(0.01),
        max_probes: a.max_probes,
        threads: a.threads,
        progress: !a.quiet,
    };
    let r = capacity::capacity(&loaded, per.as_ref(), &search)?;
    let out = a.out.unwrap_or_else(|| {
        Path::new("output")
            .join(&loaded.scenario.name)
            .join("capacity")
    });
    capacity::write(&out, &r)
        .map_err(|e| Failure::Usage(format!("cannot write to {}: {e}", out.display())))?;
    let table = format!("{}results   {}\n", capacity::table(&r), out.display());
    if a.json {
        print_json(&capacity::json(&r));
        if !a.quiet {
            eprint!("{table}");
        }
    } else if !a.quiet {
        say(format_args!("{table}"));
    }
    Ok(ExitCode::SUCCESS)
}
