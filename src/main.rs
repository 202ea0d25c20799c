//! The `scalesim` command line (CONTRACT.md §1).

use clap::{Args, Parser, Subcommand};
use scalesim::{output, replay, report, run, scenario};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const ABOUT: &str = "Deterministic discrete-event load and scaling simulator.

Describe your system in a TOML scenario (traffic with daily, weekly,
event and growth patterns or a recorded trace; server pools; caches;
service-time laws; instance types and prices; SLOs); scalesim replays
days or weeks of simulated traffic in seconds and reports latency
percentiles, utilization, queueing, cache hit ratios, cost and the SLO
verdict, with charts. The same scenario and seed
always give byte-identical results.";

const AFTER: &str = "Examples:
  scalesim run scenarios/quickstart.toml
  scalesim run scenarios/quickstart.toml --set components.api.instances=6 --seed 42
  scalesim run scenarios/quickstart.toml --json --quiet > summary.json
  scalesim validate scenarios/quickstart.toml

Exit codes: 0 success; 1 the run finished but an SLO failed;
            2 bad usage or bad scenario; 3 internal error.
Scenario reference: README.md, and the commented files in scenarios/.";

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
                   utilization and queue length; instances; cumulative cost
  report.html      one self-contained page: summary table and every chart

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
[autoscaler.<pool>] (policy = \"hpa\" | \"simple\" | \"step\" | \"target\" | \"scheduled\") or a Kubernetes \
HorizontalPodAutoscaler YAML manifest (.yaml). The metrics CSV has a header and one row per \
evaluation: time (seconds), replicas, optional ready, one column per metric (cpu as a 0..1 \
fraction, rps, queue, ...; empty = missing), and optional per-pod columns pod<N>_ready, \
pod<N>_age, pod<N>_<metric>. Example:

  scalesim replay-policy --policy scenarios/policies/hpa-cpu.yaml --metrics scenarios/policies/cpu-spike.csv"
    )]
    ReplayPolicy(ReplayArgs),
}

#[derive(Args)]
struct ReplayArgs {
    /// Policy: a TOML policy table or an HPA YAML manifest.
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
    /// Recorded metrics, CSV.
    #[arg(long, value_name = "FILE.csv")]
    metrics: PathBuf,
    /// Print the decisions as one JSON array on stdout.
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
        .and_then(|p| replay::load_metrics(&a.metrics).map(|m| (p, m)));
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
        Ok(steps) => say(format_args!("{}", replay::table(&steps))),
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
        .and_then(|_| {
            let slo = &loaded.scenario.slo;
            let cal = &loaded.calendar;
            let start = cal.is_dated().then(|| cal.start_local());
            report::write_all(&out, &r.report, &r.summary, slo, start).map(|_| ())
        })
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
