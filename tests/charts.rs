//! The charts and the HTML report of a run: every file is produced and
//! non-empty, PNGs decode and carry drawn text and data, SVGs name the
//! scenario and the SLO, calendar axes, long runs, unpriced scenarios,
//! and byte-identical output for the same run.

use scalesim::chart::{self, CHARTS};
use scalesim::output::report;
use scalesim::scenario::{load_str, Loaded};
use std::path::{Path, PathBuf};
use std::time::Instant;

const SMALL: &str = r#"
name = "chart-test"
duration = "2h"
warmup = "10m"
sample = "2m"
seed = 5

[traffic.web]
rate = 20
to = "api"
keys = { count = 5000, zipf = 0.9 }

[components.api]
kind = "pool"
instances = 2
service = { dist = "exp", mean = "30ms" }
queue_capacity = 4
instance_type = "c5.large"
calls = ["cache"]

[components.cache]
kind = "cache"
capacity = 1000
miss = "db"

[components.db]
kind = "pool"
instances = 1
concurrency = 2
service = { dist = "exp", mean = "20ms" }
instance_type = "db.r5.large"

[slo]
p99 = "250ms"
p95 = "120ms"
error_rate = 0.01
"#;

fn loaded(text: &str, sets: &[&str]) -> Loaded {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    load_str("test.toml", text, &sets, "test").expect("the test scenario is valid")
}

fn out_dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("charts-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `l` and writes its charts and report into `dir`.
fn run_into(l: &Loaded, dir: &Path, start: Option<chrono::NaiveDateTime>) -> (Vec<PathBuf>, f64) {
    let r = scalesim::run::run(l, 0).unwrap();
    let t0 = Instant::now();
    let paths = report::write_all(dir, &r.report, &r.summary, &l.scenario.slo, start).unwrap();
    (paths, t0.elapsed().as_secs_f64())
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn text(p: &Path) -> String {
    String::from_utf8(read(p)).unwrap()
}

/// Pixels that are not the white background.
fn ink(img: &image::RgbImage) -> usize {
    img.pixels().filter(|p| p.0 != [255, 255, 255]).count()
}

#[test]
fn every_chart_and_the_report_are_written() {
    let dir = out_dir("small");
    let (paths, _) = run_into(&loaded(SMALL, &[]), &dir, None);
    assert_eq!(paths.len(), 2 * CHARTS.len() + 1);
    for (name, _) in CHARTS {
        for ext in ["svg", "png"] {
            let p = dir.join(format!("{name}.{ext}"));
            assert!(paths.contains(&p), "{} not reported", p.display());
            assert!(read(&p).len() > 1000, "{} is (nearly) empty", p.display());
        }
        let svg = text(&dir.join(format!("{name}.svg")));
        assert!(svg.starts_with("<svg"), "{name}.svg is not an SVG");
        assert!(
            svg.contains("chart-test"),
            "{name}.svg lacks the scenario name"
        );
    }
    let html = text(&dir.join("report.html"));
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("chart-test"));
    // Self-contained: every chart inline, nothing loaded from elsewhere.
    assert_eq!(html.matches("<svg").count(), CHARTS.len());
    for bad in ["<script", "<link", "<img", "http://", "https://", "@import"] {
        let outside_svg_ns = html.replace("http://www.w3.org/2000/svg", "");
        assert!(!outside_svg_ns.contains(bad), "report.html contains {bad}");
    }
    for needle in ["p99", "error_rate", "api", "cache", "db", "hit ratio"] {
        assert!(html.contains(needle), "report.html lacks {needle}");
    }
}

#[test]
fn svgs_show_the_slo_and_the_data() {
    let dir = out_dir("slo");
    run_into(&loaded(SMALL, &[]), &dir, None);
    let latency = text(&dir.join("latency.svg"));
    assert!(latency.contains("SLO p99 ≤ 250 ms"), "no p99 SLO label");
    assert!(latency.contains("SLO p95 ≤ 120 ms"), "no p95 SLO label");
    assert!(
        latency.contains("latency (ms)"),
        "no unit on the latency axis"
    );
    // queue_capacity = 4 makes the api reject some requests.
    let load = text(&dir.join("load.svg"));
    assert!(load.contains("rejections/s"));
    // The warm-up is shaded and labelled.
    assert!(load.contains("\nwarm-up\n"));
    let util = text(&dir.join("utilization.svg"));
    assert!(util.contains("utilization (% of slots busy)") && util.contains("queue length"));
    let cost = text(&dir.join("cost.svg"));
    assert!(cost.contains("USD per hour") && cost.contains("total: $"));
    assert!(cost.contains("cumulative cost since the start"));
    // No autoscaler: no fleet changes size, and the chart says so.
    let inst = text(&dir.join("instances.svg"));
    assert!(inst.contains("No fleet changes size"), "{inst}");
    assert!(inst.contains("api 2") && inst.contains("db 1"));
}

#[test]
fn pngs_decode_and_are_drawn() {
    let dir = out_dir("png");
    run_into(&loaded(SMALL, &[]), &dir, None);
    for (name, _) in CHARTS {
        let p = dir.join(format!("{name}.png"));
        let bytes = read(&p);
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{name}.png signature");
        let img = image::load_from_memory(&bytes).unwrap().to_rgb8();
        assert_eq!(img.width(), 1200, "{name}.png width");
        // A chart (at least one 400 px panel) or a message (no fleet
        // changes size in the instances chart of SMALL).
        assert!(img.height() >= 300, "{name}.png height");
        let total = (img.width() * img.height()) as usize;
        assert!(
            ink(&img) * 20 > total,
            "{name}.png is almost blank: {} of {total} pixels drawn",
            ink(&img)
        );
        // The title is drawn with the bundled font: dark glyph pixels in
        // the top band, whatever fonts the machine has.
        let title_ink = (0..40)
            .flat_map(|y| (0..img.width()).map(move |x| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0.iter().all(|&c| c < 100))
            .count();
        assert!(
            title_ink > 300,
            "{name}.png title has no text ({title_ink} dark pixels)"
        );
    }
    // The SLO line is drawn in red on the latency chart.
    let img = image::open(dir.join("latency.png")).unwrap().to_rgb8();
    let red = img
        .pixels()
        .filter(|p| p.0[0] > 180 && p.0[1] < 80 && p.0[2] < 80)
        .count();
    assert!(red > 200, "no SLO line in latency.png ({red} red pixels)");
}

#[test]
fn same_run_gives_identical_files() {
    let l = loaded(SMALL, &[]);
    let (a, b) = (out_dir("det-a"), out_dir("det-b"));
    run_into(&l, &a, None);
    run_into(&l, &b, None);
    for (name, _) in CHARTS {
        for ext in ["svg", "png"] {
            let f = format!("{name}.{ext}");
            assert!(
                read(&a.join(&f)) == read(&b.join(&f)),
                "{f} differs between runs"
            );
        }
    }
    assert!(read(&a.join("report.html")) == read(&b.join("report.html")));
    // Another seed draws something else.
    let c = out_dir("det-c");
    run_into(&loaded(SMALL, &["seed=6"]), &c, None);
    assert!(read(&a.join("latency.svg")) != read(&c.join("latency.svg")));
}

#[test]
fn calendar_axis_when_a_start_is_given() {
    let dir = out_dir("calendar");
    let start = chrono::NaiveDate::from_ymd_opt(2026, 11, 23)
        .unwrap()
        .and_hms_opt(23, 0, 0)
        .unwrap();
    run_into(&loaded(SMALL, &[]), &dir, Some(start));
    let svg = text(&dir.join("load.svg"));
    // 23:00 + 2 h crosses midnight: the day is named at 00:00.
    assert!(svg.contains("Tue 24 Nov"), "no date label");
    assert!(svg.contains("local time (run starts Mon 2026-11-23 23:00)"));
    assert!(!svg.contains("since start"));
}

#[test]
fn unpriced_scenario_explains_the_empty_cost_chart() {
    let dir = out_dir("unpriced");
    let text_ = SMALL
        .replace("instance_type = \"c5.large\"", "")
        .replace("instance_type = \"db.r5.large\"", "");
    run_into(&loaded(&text_, &[]), &dir, None);
    let svg = text(&dir.join("cost.svg"));
    assert!(svg.contains("No priced components"));
    let img = image::open(dir.join("cost.png")).unwrap().to_rgb8();
    assert!(ink(&img) > 10_000);
}

#[test]
fn a_long_run_is_summarised_quickly() {
    // Two simulated days at 1-minute windows: 2,880 windows x 4 rows.
    let dir = out_dir("long");
    let l = loaded(
        SMALL,
        &[
            "duration=2d",
            "sample=1m",
            "traffic.web.rate=0.5",
            "components.api.queue_capacity=100",
        ],
    );
    let (_, secs) = run_into(&l, &dir, None);
    let svg = text(&dir.join("latency.svg"));
    // How windows were grouped, under the time axis; the subtitle stays
    // one line (one text element, ending with the last SLO check).
    assert!(
        svg.contains("each point: 5 windows of 1m, band: their range"),
        "no bucket note"
    );
    let subtitle = svg
        .split('<')
        .find(|t| t.contains("After warm-up"))
        .unwrap();
    assert!(
        subtitle.trim_end().ends_with("error_rate 0% ≤ 1% pass."),
        "{subtitle}"
    );
    // Bounded size whatever the run length: about 600 points per line.
    assert!(svg.len() < 400_000, "latency.svg is {} bytes", svg.len());
    assert!(secs < 5.0, "charts and report took {secs:.2} s");
}

#[test]
fn write_charts_lists_svg_and_png_of_each_chart() {
    let dir = out_dir("api");
    let l = loaded(SMALL, &["duration=30m", "warmup=0"]);
    let r = scalesim::run::run(&l, 0).unwrap();
    let paths = chart::write_charts(&dir, &r.report, &r.summary, &l.scenario.slo, None).unwrap();
    let names: Vec<String> = paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "load.svg",
            "load.png",
            "latency.svg",
            "latency.png",
            "utilization.svg",
            "utilization.png",
            "instances.svg",
            "instances.png",
            "cost.svg",
            "cost.png"
        ]
    );
    // No warm-up: nothing shaded, nothing labelled.
    assert!(!text(&dir.join("load.svg")).contains("\nwarm-up\n"));
}

const QUEUE: &str = r#"
name = "queue-chart-test"
duration = "1h"
warmup = "5m"
sample = "1m"
seed = 3

[traffic.web]
rate = 3.2
to = "api"

[components.api]
kind = "pool"
instances = 2
service = { dist = "exp", mean = "100ms" }
calls = ["jobs"]

[components.jobs]
kind = "queue"
workers = "workers"
ack = { dist = "const", value = "2ms" }

[components.workers]
kind = "pool"
instances = 4
service = { dist = "exp", mean = "1s" }

[slo]
p99 = "300ms"
"#;

#[test]
fn a_queue_draws_its_depth_and_job_latency() {
    let dir = out_dir("queue");
    let l = loaded(QUEUE, &[]);
    let r = scalesim::run::run(&l, 0).unwrap();
    report::write_all(&dir, &r.report, &r.summary, &l.scenario.slo, None).unwrap();
    // Depth next to the pools' queues, with the mean depth and job wait.
    let util = text(&dir.join("utilization.svg"));
    assert!(util.contains("jobs (queue depth"), "no depth legend");
    assert!(util.contains("mean depth") && util.contains("mean job wait"));
    // Job latency in its own panel, under the request latency and its SLO.
    let lat = text(&dir.join("latency.svg"));
    for needle in [
        "jobs: job latency p99",
        "jobs: job latency mean",
        "job latency (s)",
        "request latency (ms)",
        "SLO p99 ≤ 300 ms",
    ] {
        assert!(lat.contains(needle), "latency.svg lacks {needle}");
    }
    // The queue's colour (orange, second in the palette) is drawn in the
    // lower half of latency.png, where the job panel is.
    let img = image::open(dir.join("latency.png")).unwrap().to_rgb8();
    let orange = (img.height() / 2..img.height())
        .flat_map(|y| (0..img.width()).map(move |x| (x, y)))
        .filter(|&(x, y)| img.get_pixel(x, y).0 == [0xf2, 0x8e, 0x2b])
        .count();
    assert!(orange > 500, "no job latency line ({orange} orange pixels)");
    // A queue runs no instances of its own.
    let inst = text(&dir.join("instances.svg"));
    assert!(inst.contains("workers 4") && !inst.contains("jobs"));
    // The report and the table say what became of the jobs.
    let html = text(&dir.join("report.html"));
    assert!(html.contains("Job queues") && html.contains("jobs completed"));
    // The peak of the workers, in the report and in the table.
    assert!(html.contains("At the peak") && html.contains("<td>workers</td>"));
    let table = scalesim::output::table(&r.summary);
    assert!(table.contains("peak      workers: "), "{table}");
    let line = table
        .lines()
        .find(|l| l.starts_with("jobs      jobs:"))
        .expect("a job line in the table");
    assert!(line.contains(" p99 ") && line.contains("done"), "{line}");
}

/// Numbers written in seconds (`75.2 s`, `10464.4 s`) in the text of an
/// SVG, outside its tick labels.
fn raw_seconds(svg: &str) -> Vec<f64> {
    let mut out = Vec::new();
    for (at, _) in svg.match_indices(" s") {
        let head = &svg[..at];
        let start = head
            .rfind(|c: char| !(c.is_ascii_digit() || c == '.'))
            .map_or(0, |k| k + 1);
        let next = svg[at + 2..].chars().next();
        if next.is_some_and(char::is_alphanumeric) {
            continue;
        }
        if let Ok(v) = head[start..].parse::<f64>() {
            out.push(v);
        }
    }
    out
}

#[test]
fn a_long_queue_draws_on_a_log_scale_and_durations_read_in_minutes() {
    // One worker for 3.2 jobs/s: the job queue grows to thousands while
    // the api's queue stays at a few requests.
    let dir = out_dir("long-queue");
    let l = loaded(
        QUEUE,
        &[
            "components.workers.instances=1",
            "components.api.instances=1",
            "components.api.service.mean=250ms",
        ],
    );
    run_into(&l, &dir, None);
    let util = text(&dir.join("utilization.svg"));
    assert!(
        util.contains("mean queue length / depth (log scale)"),
        "the queue panel is linear"
    );
    // Job waits of many minutes read in minutes, not as thousands of seconds.
    assert!(util.contains(" min"), "no minutes in utilization.svg");
    let lat = text(&dir.join("latency.svg"));
    assert!(
        lat.contains("job latency (min)"),
        "job latency axis not in minutes"
    );
    for (name, _) in CHARTS {
        let svg = text(&dir.join(format!("{name}.svg")));
        let raw: Vec<f64> = raw_seconds(&svg)
            .into_iter()
            .filter(|v| *v >= 60.0)
            .collect();
        assert!(raw.is_empty(), "{name}.svg writes {raw:?} s");
    }
}

#[test]
fn the_palette_keeps_twelve_components_apart() {
    // Twelve pools in a chain, each with its own colour in every chart.
    let mut text_ = String::from(
        "name = \"many\"\nduration = \"20m\"\nwarmup = \"2m\"\nsample = \"1m\"\nseed = 1\n\
         [traffic.web]\nrate = 20\nto = \"p0\"\n",
    );
    for k in 0..12 {
        text_.push_str(&format!(
            "[components.p{k}]\nkind = \"pool\"\ninstances = 2\nservice = {{ dist = \"exp\", mean = \"5ms\" }}\n"
        ));
        if k < 11 {
            text_.push_str(&format!("calls = [\"p{}\"]\n", k + 1));
        }
    }
    let dir = out_dir("many");
    run_into(&loaded(&text_, &[]), &dir, None);
    let util = text(&dir.join("utilization.svg"));
    let colours: std::collections::BTreeSet<_> =
        chart::PALETTE.iter().map(|c| (c.0, c.1, c.2)).collect();
    assert!(colours.len() >= 12, "{} distinct colours", colours.len());
    for (k, c) in chart::PALETTE.iter().enumerate().take(12) {
        let hex = format!("stroke=\"#{:02X}{:02X}{:02X}\"", c.0, c.1, c.2);
        assert!(util.contains(&hex), "p{k}'s colour {hex} is not drawn");
    }
    // None of them is the red of SLO lines.
    assert!(chart::PALETTE
        .iter()
        .all(|c| !(c.0 > 180 && c.1 < 80 && c.2 < 80)));
}

/// SMALL with an HPA on the api and a flash crowd at 20 minutes.
fn scaled() -> Loaded {
    let text_ = SMALL
        .replace(
            "keys = { count = 5000, zipf = 0.9 }",
            "keys = { count = 5000, zipf = 0.9 }\nbursts = [{ at = \"20m\", factor = 6.0, decay = \"8m\" }]",
        )
        .replace(
            "queue_capacity = 4",
            "queue_capacity = 100000\nprovision_time = { dist = \"const\", value = \"2m\" }",
        )
        + "[autoscaler.api]\npolicy = \"hpa\"\nmin = 2\nmax = 20\nmetrics = [{ name = \"cpu\", utilization = 60 }]\n";
    loaded(
        &text_,
        &[
            "duration=1h",
            "warmup=5m",
            "sample=1m",
            "traffic.web.rate=40",
        ],
    )
}

#[test]
fn the_instances_chart_draws_only_the_autoscaled_pool() {
    let dir = out_dir("scaled");
    run_into(&scaled(), &dir, None);
    let inst = text(&dir.join("instances.svg"));
    assert!(inst.contains("api ready"), "the scaled pool is not drawn");
    assert!(inst.contains("desired (ready + provisioning, warming or down)"));
    assert!(!inst.contains("db ready") && !inst.contains("cache ready"));
    assert!(
        inst.contains("Fixed size, not drawn: ") && inst.contains("db 1"),
        "the fixed fleets are not named"
    );
    // The flash crowd's p99 is many times the usual one: a log axis.
    let lat = text(&dir.join("latency.svg"));
    assert!(lat.contains("latency (log scale)"), "linear latency axis");
    // Cost per hour first, then the cumulative cost.
    let cost = text(&dir.join("cost.svg"));
    let (rate, cum) = (
        cost.find("USD per hour").unwrap(),
        cost.find("cumulative cost since the start").unwrap(),
    );
    assert!(rate < cum, "the cumulative cost comes first");
}

#[test]
fn ttft_and_tpot_have_their_own_axes() {
    let scenario = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/llm-h100-knee.toml"),
    )
    .unwrap();
    let l = loaded(&scenario, &["duration=15m", "warmup=2m"]);
    let dir = out_dir("llm");
    run_into(&l, &dir, None);
    let svg = text(&dir.join("llm.svg"));
    for needle in ["TTFT p99 (", "TPOT p99 (", "TTFT ≤ 2 s", "TPOT ≤ 60 ms"] {
        assert!(svg.contains(needle), "llm.svg lacks {needle}");
    }
    assert!(!svg.contains("p99 per window"), "one axis for both");
}
