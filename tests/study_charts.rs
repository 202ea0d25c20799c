//! The charts of multi-run studies: every file is written, PNGs decode
//! at the size the SVG declares and are drawn (not blank), SVGs carry the
//! titles and labels, the same results give byte-identical files, and the
//! Pareto frontier is selected correctly.

use scalesim::chart::{capacity_charts, pareto_front, slug, sweep_charts};
use scalesim::study::{
    Acc, CapacityResult, CapacityRow, MetricStat, ParamValue, PointResult, Probe, SweepResults,
};
use std::path::{Path, PathBuf};

/// A fresh, empty directory under the system temp dir.
fn out_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "scalesim-study-charts-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Statistics of `reps` replications spread around `mean` by `rel`.
fn stat(mean: f64, rel: f64, reps: u32) -> MetricStat {
    let mut a = Acc::default();
    for k in 0..reps {
        let u = (k as f64 / (reps.max(2) - 1) as f64) - 0.5;
        a.add(mean * (1.0 + rel * u));
    }
    a.stat()
}

fn num(v: f64) -> ParamValue {
    ParamValue {
        text: format!("{v}"),
        number: Some(v),
    }
}

fn text_value(t: &str) -> ParamValue {
    ParamValue {
        text: format!("\"{t}\""),
        number: None,
    }
}

const METRICS: [&str; 6] = [
    "latency_s.p99",
    "latency_s.p50",
    "cost_usd.projected_month",
    "error_rate",
    "throughput_rps",
    "components.api.utilization",
];

/// The metrics of a configuration: more instances and a bigger cache
/// make it faster and dearer.
fn model(instances: f64, capacity: f64, reps: u32) -> Vec<MetricStat> {
    let hit = 1.0 - 30.0 / capacity.sqrt().max(31.0);
    let util = 2.4 * (1.0 - 0.5 * hit) / instances;
    let p99 = 0.08 / (1.0 - util.min(0.97)) + 0.02;
    let cost = 70.0 * instances + capacity * 0.05 + 120.0;
    let errors = if util > 0.8 { (util - 0.8) * 0.05 } else { 0.0 };
    vec![
        stat(p99, 0.2, reps),
        stat(p99 / 4.0, 0.1, reps),
        stat(cost, 0.01, reps),
        stat(errors, 0.3, reps),
        stat(50.0 * (1.0 - errors), 0.02, reps),
        stat(util, 0.05, reps),
    ]
}

/// Two parameters, three values each.
fn sweep() -> SweepResults {
    let mut points = Vec::new();
    for &capacity in &[100.0, 1000.0, 10000.0] {
        for &instances in &[2.0, 4.0, 8.0] {
            points.push(PointResult {
                index: points.len(),
                params: vec![num(instances), num(capacity)],
                stats: model(instances, capacity, 5),
            });
        }
    }
    SweepResults {
        scenario: "study-test".into(),
        params: vec![
            "components.api.instances".into(),
            "components.cache.capacity".into(),
        ],
        dims: vec![1, 1],
        slo: Vec::new(),
        metrics: METRICS.iter().map(|m| m.to_string()).collect(),
        replications: 5,
        points,
    }
}

fn plot_all() -> Vec<String> {
    METRICS.iter().map(|m| m.to_string()).collect()
}

fn capacity_per() -> CapacityResult {
    let rows = [2.0, 4.0, 8.0, 16.0]
        .iter()
        .map(|&n| {
            let cap = 95.0 * n * (1.0 - 0.02 * n);
            CapacityRow {
                per: Some(num(n)),
                capacity: cap,
                low: cap * 0.95,
                high: cap * 1.04,
                binding: if n < 10.0 {
                    "p99<500ms"
                } else {
                    "error_rate<0.001"
                }
                .into(),
                cost_per_month: 70.0 * n + 150.0,
                probes: Vec::new(),
                note: (n == 16.0).then(|| "the upper search limit still met the objectives".into()),
            }
        })
        .collect();
    CapacityResult {
        scenario: "study-test".into(),
        vary: "traffic.web.rate".into(),
        per: Some("components.api.instances".into()),
        objectives: vec!["p99<500ms".into(), "error_rate<0.001".into()],
        replications: 5,
        rows,
    }
}

fn capacity_single() -> CapacityResult {
    let probes = [50.0f64, 100.0, 200.0, 300.0, 350.0, 400.0, 600.0]
        .iter()
        .map(|&x| {
            let util = x / 420.0;
            let p99 = 0.06 / (1.0 - util.min(0.985));
            let err = if util > 0.9 { (util - 0.9) * 0.02 } else { 0.0 };
            Probe {
                x,
                values: vec![stat(p99, 0.25, 5), stat(err, 0.3, 5)],
                cost_per_month: stat(420.0, 0.0, 5),
                passed: p99 < 0.5 && err < 0.001,
            }
        })
        .collect();
    CapacityResult {
        scenario: "study-test".into(),
        vary: "traffic.web.rate".into(),
        per: None,
        objectives: vec!["p99<500ms".into(), "error_rate<0.001".into()],
        replications: 5,
        rows: vec![CapacityRow {
            per: None,
            capacity: 371.0,
            low: 352.0,
            high: 389.0,
            binding: "p99<500ms".into(),
            cost_per_month: 420.0,
            probes,
            note: None,
        }],
    }
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn svg_text(dir: &Path, stem: &str) -> String {
    String::from_utf8(read(&dir.join(format!("{stem}.svg")))).unwrap()
}

/// The height an SVG declares.
fn svg_height(svg: &str) -> u32 {
    let at = svg.find("height=\"").expect("an SVG height") + 8;
    let end = at + svg[at..].find('"').unwrap();
    svg[at..end].parse().unwrap()
}

/// Checks that `stems` were written (SVG then PNG each, in order), that
/// each PNG decodes at the SVG's size and is drawn, and returns the SVGs.
fn check_files(dir: &Path, paths: &[PathBuf], stems: &[&str]) -> Vec<String> {
    let expected: Vec<PathBuf> = stems
        .iter()
        .flat_map(|s| [dir.join(format!("{s}.svg")), dir.join(format!("{s}.png"))])
        .collect();
    assert_eq!(paths, expected.as_slice());
    let mut svgs = Vec::new();
    for stem in stems {
        let svg = svg_text(dir, stem);
        assert!(svg.starts_with("<svg"), "{stem}.svg");
        let png = dir.join(format!("{stem}.png"));
        let img = image::open(&png)
            .unwrap_or_else(|e| panic!("{}: {e}", png.display()))
            .to_rgb8();
        assert_eq!(img.width(), 1200, "{stem}.png width");
        assert_eq!(img.height(), svg_height(&svg), "{stem}.png height");
        assert!(img.height() >= 400, "{stem}.png height {}", img.height());
        let mut colours: Vec<[u8; 3]> = img.pixels().map(|p| p.0).collect();
        colours.sort_unstable();
        colours.dedup();
        assert!(
            colours.len() > 60,
            "{stem}.png has {} colours",
            colours.len()
        );
        let ink = img.pixels().filter(|p| p.0 != [255, 255, 255]).count();
        let share = ink as f64 / (img.width() * img.height()) as f64;
        assert!(share > 0.02, "{stem}.png is nearly blank ({share:.3})");
        svgs.push(svg);
    }
    svgs
}

fn assert_contains(svg: &str, what: &[&str], name: &str) {
    for w in what {
        assert!(svg.contains(w), "{name}.svg lacks {w:?}");
    }
}

#[test]
fn sweep_charts_write_every_chart() {
    let dir = out_dir("sweep");
    let r = sweep();
    let paths = sweep_charts(&dir, &r, &plot_all()).unwrap();
    let stems = [
        "sweep-components-api-instances",
        "sweep-components-cache-capacity",
        "pareto",
        "heatmap",
    ];
    let svgs = check_files(&dir, &paths, &stems);
    assert_contains(
        &svgs[0],
        &[
            "study-test: metrics against components.api.instances",
            "p99 latency",
            "cost per month",
            "error rate",
            "api utilization",
            "components.cache.capacity=1000",
            "components.cache.capacity=10000",
            "95% confidence interval",
        ],
        stems[0],
    );
    assert_contains(
        &svgs[1],
        &["components.api.instances=8", "components.cache.capacity"],
        stems[1],
    );
    assert_contains(
        &svgs[2],
        &[
            "study-test: cost against p99 latency",
            "Pareto frontier",
            "instances=8, capacity=10000",
        ],
        stems[2],
    );
    assert_contains(
        &svgs[3],
        &[
            "instances × capacity",
            "p99 latency",
            "cost per month",
            "error rate",
            "components.cache.capacity",
        ],
        stems[3],
    );
}

#[test]
fn sweep_charts_handle_text_values_gaps_and_one_replication() {
    let dir = out_dir("sweep-text");
    let mut r = sweep();
    r.replications = 1;
    r.params[1] = "components.cache.policy".into();
    let policies = ["lru", "lfu", "fifo"];
    for (i, p) in r.points.iter_mut().enumerate() {
        p.params[1] = text_value(policies[i / 3]);
        for s in &mut p.stats {
            *s = stat(s.mean, 0.0, 1);
            assert!(s.ci95.is_nan());
        }
    }
    // A missing cell of the grid, and a point that measured nothing.
    r.points.remove(4);
    r.points[0].stats[0].mean = f64::NAN;
    // Unknown metric names are ignored.
    let plot = vec!["latency_s.p99".to_string(), "nonsense".to_string()];
    let paths = sweep_charts(&dir, &r, &plot).unwrap();
    let svgs = check_files(
        &dir,
        &paths,
        &[
            "sweep-components-api-instances",
            "sweep-components-cache-policy",
            "pareto",
            "heatmap",
        ],
    );
    assert_contains(&svgs[0], &["components.cache.policy=lfu"], "sweep");
    assert_contains(&svgs[1], &["\nlfu\n", "one replication"], "sweep");
    assert_contains(&svgs[3], &["no data", "fifo"], "heatmap");
}

/// The (x, y) of every SVG text element that reads exactly `text`.
fn text_at(svg: &str, text: &str) -> Vec<(i32, i32)> {
    let attr = |tag: &str, name: &str| -> i32 {
        let at = tag.find(&format!(" {name}=\"")).expect("an attribute") + name.len() + 3;
        let end = at + tag[at..].find('"').unwrap();
        tag[at..end].parse().unwrap()
    };
    svg.match_indices(&format!(">\n{text}\n</text>"))
        .map(|(i, _)| {
            let tag = &svg[svg[..i].rfind("<text").unwrap()..i];
            (attr(tag, "x"), attr(tag, "y"))
        })
        .collect()
}

/// A sweep of one text parameter, the balancing policies, with the load
/// distribution of the pool among its metrics.
fn balancing_sweep(policies: &[&str], metrics: &[&str]) -> SweepResults {
    let points = policies
        .iter()
        .enumerate()
        .map(|(i, p)| PointResult {
            index: i,
            params: vec![text_value(p)],
            stats: metrics
                .iter()
                .enumerate()
                .map(|(k, _)| stat(0.1 + 0.1 * i as f64 / (k + 1) as f64, 0.2, 3))
                .collect(),
        })
        .collect();
    SweepResults {
        scenario: "balancing".into(),
        params: vec!["components.api.balance".into()],
        dims: vec![1],
        slo: Vec::new(),
        metrics: metrics.iter().map(|m| m.to_string()).collect(),
        replications: 3,
        points,
    }
}

#[test]
fn sweep_charts_stagger_category_labels_that_would_overlap() {
    let dir = out_dir("sweep-balance");
    let policies = [
        "fifo",
        "least_conn",
        "power_of_two",
        "round_robin",
        "random",
        "hash",
    ];
    let metrics = [
        "latency_s.p50",
        "latency_s.p99",
        "components.api.mean_wait_s",
        "components.api.load_at_least.2",
        "components.api.load_at_least.4",
    ];
    let r = balancing_sweep(&policies, &metrics);
    let plot: Vec<String> = metrics.iter().map(|m| m.to_string()).collect();
    let paths = sweep_charts(&dir, &r, &plot).unwrap();
    let svgs = check_files(&dir, &paths, &["sweep-components-api-balance"]);
    let svg = &svgs[0];
    assert_contains(
        svg,
        &[
            "api: instances with ≥ 2 requests",
            "api: instances with ≥ 4 requests",
            "% of instances",
            "20%",
        ],
        "sweep",
    );
    assert!(!svg.contains("api load at least"), "old title");
    // Five panels, each with every policy, every other one a row lower.
    let at: Vec<Vec<(i32, i32)>> = policies.iter().map(|p| text_at(svg, p)).collect();
    for (p, a) in policies.iter().zip(&at) {
        assert_eq!(a.len(), 5, "{p}: {a:?}");
    }
    for panel in 0..5 {
        let ys: Vec<i32> = at.iter().map(|a| a[panel].1).collect();
        let xs: Vec<i32> = at.iter().map(|a| a[panel].0).collect();
        assert!(xs.windows(2).all(|w| w[0] < w[1]), "{xs:?}");
        for (k, y) in ys.iter().enumerate() {
            assert_eq!(*y, ys[k % 2], "{ys:?}");
        }
        assert!(ys[1] > ys[0], "{ys:?}");
    }
    // One panel, the whole width: one row.
    let paths = sweep_charts(&dir, &r, &plot[..1]).unwrap();
    let svg = &check_files(&dir, &paths, &["sweep-components-api-balance"])[0];
    let ys: Vec<i32> = policies.iter().map(|p| text_at(svg, p)[0].1).collect();
    assert!(ys.iter().all(|&y| y == ys[0]), "{ys:?}");
}

#[test]
fn sweep_charts_fit_many_long_category_labels() {
    let dir = out_dir("sweep-long");
    let policies = [
        "weighted_least_connections",
        "consistent_hash_with_bounded_loads",
        "power_of_two_choices",
        "weighted_round_robin",
        "random",
        "hash",
        "least_response_time",
        "peak_ewma",
        "maglev",
        "ring_hash",
        "least_request",
        "fifo",
    ];
    let metrics = ["latency_s.p99", "components.api.load_at_least.1"];
    let r = balancing_sweep(&policies, &metrics);
    let plot: Vec<String> = metrics.iter().map(|m| m.to_string()).collect();
    let paths = sweep_charts(&dir, &r, &plot).unwrap();
    let svg = &check_files(&dir, &paths, &["sweep-components-api-balance"])[0];
    assert_contains(
        svg,
        &[
            "api: instances with ≥ 1 request",
            "\nfifo\n",
            "\nmaglev\n",
            "…",
        ],
        "sweep",
    );
}

#[test]
fn sweep_charts_skip_what_does_not_apply() {
    let dir = out_dir("sweep-one");
    let mut r = sweep();
    // One parameter: no heatmap; no cost: no Pareto chart.
    r.params.truncate(1);
    r.points.truncate(3);
    for p in &mut r.points {
        p.params.truncate(1);
    }
    r.metrics[2] = "cost_usd.per_hour".into();
    let paths = sweep_charts(&dir, &r, &["latency_s.p99".to_string()]).unwrap();
    check_files(&dir, &paths, &["sweep-components-api-instances"]);
    assert!(sweep_charts(&dir, &r, &[]).unwrap().is_empty());
}

#[test]
fn sweep_charts_with_three_parameters() {
    let dir = out_dir("sweep-three");
    let mut points = Vec::new();
    for &zone in &[1.0f64, 2.0, 3.0] {
        for &capacity in &[100.0, 1000.0, 10000.0, 100000.0] {
            for &instances in &[2.0, 3.0, 4.0, 6.0, 8.0, 12.0] {
                let mut stats = model(instances * zone.sqrt(), capacity, 3);
                stats[2] = stat(stats[2].mean * (0.8 + 0.2 * zone), 0.01, 3);
                points.push(PointResult {
                    index: points.len(),
                    params: vec![num(instances), num(capacity), num(zone)],
                    stats,
                });
            }
        }
    }
    let r = SweepResults {
        scenario: "study-test".into(),
        params: vec![
            "components.api.instances".into(),
            "components.cache.capacity".into(),
            "topology.zones".into(),
        ],
        dims: vec![1, 1, 1],
        slo: Vec::new(),
        metrics: METRICS.iter().map(|m| m.to_string()).collect(),
        replications: 3,
        points,
    };
    let plot = vec![
        "latency_s.p99".to_string(),
        "cost_usd.projected_month".to_string(),
    ];
    let paths = sweep_charts(&dir, &r, &plot).unwrap();
    // Three parameters: no heatmap.
    let svgs = check_files(
        &dir,
        &paths,
        &[
            "sweep-components-api-instances",
            "sweep-components-cache-capacity",
            "sweep-topology-zones",
            "pareto",
        ],
    );
    assert_contains(
        &svgs[0],
        &["components.cache.capacity=100000, topology.zones=3"],
        "sweep",
    );
}

#[test]
fn capacity_charts_per_value() {
    let dir = out_dir("capacity-per");
    let r = capacity_per();
    let paths = capacity_charts(&dir, &r).unwrap();
    let svgs = check_files(&dir, &paths, &["capacity", "capacity-inverse"]);
    assert_contains(
        &svgs[0],
        &[
            "traffic.web.rate",
            "components.api.instances",
            "p99&lt;500ms",
            "error_rate&lt;0.001",
            "5 replications",
            "cost per month at capacity",
            "the upper search limit still met the objectives",
        ],
        "capacity",
    );
    assert_contains(
        &svgs[1],
        &[
            "components.api.instances needed for a given traffic.web.rate",
            "instances=4: up to",
            "beyond every tested instances",
        ],
        "capacity-inverse",
    );
}

#[test]
fn capacity_charts_skip_a_row_without_capacity() {
    let dir = out_dir("capacity-nan");
    let mut r = capacity_per();
    r.rows[0].capacity = f64::NAN;
    r.rows[0].low = f64::NAN;
    r.rows[0].high = f64::NAN;
    r.rows[0].cost_per_month = f64::NAN;
    let paths = capacity_charts(&dir, &r).unwrap();
    let svgs = check_files(&dir, &paths, &["capacity", "capacity-inverse"]);
    assert_contains(
        &svgs[0],
        &["no tested load meets the objectives"],
        "capacity",
    );
    assert!(!svgs[1].contains("instances=2: up to"));
}

#[test]
fn capacity_charts_with_text_per_values() {
    let dir = out_dir("capacity-text");
    let mut r = capacity_per();
    r.per = Some("components.api.instance_type".into());
    for (row, t) in r
        .rows
        .iter_mut()
        .zip(["c5.large", "c5.xlarge", "c5.2xlarge", "c5.4xlarge"])
    {
        row.per = Some(text_value(t));
    }
    let paths = capacity_charts(&dir, &r).unwrap();
    let svgs = check_files(&dir, &paths, &["capacity", "capacity-inverse"]);
    assert_contains(
        &svgs[0],
        &["c5.2xlarge", "components.api.instance_type"],
        "capacity",
    );
    assert_contains(
        &svgs[1],
        &["instance_type=c5.xlarge: up to"],
        "capacity-inverse",
    );
}

#[test]
fn capacity_charts_probes() {
    let dir = out_dir("capacity-probes");
    let r = capacity_single();
    let paths = capacity_charts(&dir, &r).unwrap();
    let svgs = check_files(&dir, &paths, &["capacity-probes"]);
    assert_contains(
        &svgs[0],
        &[
            "study-test: capacity of traffic.web.rate",
            "objective p99&lt;500ms",
            "objective error_rate&lt;0.001",
            "bound 500 ms",
            "capacity 371",
            "probe fails",
        ],
        "capacity-probes",
    );
    let empty = CapacityResult {
        rows: Vec::new(),
        ..capacity_single()
    };
    assert!(capacity_charts(&dir, &empty).unwrap().is_empty());
}

#[test]
fn same_results_give_identical_files() {
    let (a, b) = (out_dir("same-a"), out_dir("same-b"));
    let r = sweep();
    let c = capacity_per();
    let s = capacity_single();
    let mut pa = sweep_charts(&a, &r, &plot_all()).unwrap();
    pa.extend(capacity_charts(&a, &c).unwrap());
    pa.extend(capacity_charts(&a, &s).unwrap());
    let mut pb = sweep_charts(&b, &r, &plot_all()).unwrap();
    pb.extend(capacity_charts(&b, &c).unwrap());
    pb.extend(capacity_charts(&b, &s).unwrap());
    assert_eq!(pa.len(), 14);
    assert_eq!(pa.len(), pb.len());
    for (x, y) in pa.iter().zip(&pb) {
        assert_eq!(x.file_name(), y.file_name());
        assert!(read(x) == read(y), "{} differs", x.display());
    }
}

#[test]
fn pareto_front_keeps_the_undominated_points() {
    let pts = [
        (0.30, 400.0), // 0: front
        (0.20, 600.0), // 1: front
        (0.35, 450.0), // 2: dominated by 0
        (0.50, 300.0), // 3: front
        (0.20, 650.0), // 4: dominated by 1 (same p99, dearer)
        (0.60, 300.0), // 5: dominated by 3 (same cost, slower)
        (f64::NAN, 1.0),
        (0.10, 900.0), // 7: front
        (0.50, 300.0), // 8: equal to 3: kept
    ];
    assert_eq!(pareto_front(&pts), vec![7, 1, 0, 3, 8]);
    assert!(pareto_front(&[]).is_empty());
    assert_eq!(pareto_front(&[(1.0, 1.0)]), vec![0]);
    // Sorted by x whatever the input order.
    assert_eq!(
        pareto_front(&[(3.0, 1.0), (1.0, 3.0), (2.0, 2.0)]),
        vec![1, 2, 0]
    );
}

#[test]
fn slugs_are_file_names() {
    assert_eq!(slug("components.api.instances"), "components-api-instances");
    assert_eq!(slug("traffic.web[0].rate"), "traffic-web-0--rate");
}

#[test]
fn a_zip_of_two_parameters_gets_lines_not_a_heatmap() {
    let dir = out_dir("sweep-zip");
    let points: Vec<PointResult> = [(2.0, 1000.0), (4.0, 4000.0), (8.0, 16000.0)]
        .iter()
        .enumerate()
        .map(|(i, &(instances, capacity))| PointResult {
            index: i,
            params: vec![num(instances), num(capacity)],
            stats: model(instances, capacity, 3),
        })
        .collect();
    let r = SweepResults {
        scenario: "study-zip".into(),
        params: vec![
            "components.api.instances".into(),
            "components.cache.capacity".into(),
        ],
        dims: vec![2],
        slo: Vec::new(),
        metrics: METRICS.iter().map(|m| m.to_string()).collect(),
        replications: 3,
        points,
    };
    let paths = sweep_charts(&dir, &r, &["latency_s.p99".to_string()]).unwrap();
    let svgs = check_files(
        &dir,
        &paths,
        &[
            "sweep-components-api-instances",
            "sweep-components-cache-capacity",
            "pareto",
        ],
    );
    // One line against each parameter, its partner named, not a line each.
    assert_contains(
        &svgs[0],
        &["components.cache.capacity varies with it (a zip group)"],
        "sweep",
    );
    assert!(!svgs[0].contains("components.cache.capacity=1000"), "sweep");
}

#[test]
fn pareto_names_every_configuration() {
    let dir = out_dir("pareto-labels");
    let r = sweep();
    sweep_charts(&dir, &r, &[]).unwrap();
    let svg = svg_text(&dir, "pareto");
    // The frontier by its parameters, every other point by a number
    // whose key lists its parameters.
    assert_contains(&svg, &["Other configurations (grey numbers):"], "pareto");
    for p in &r.points {
        let label = format!(
            "instances={}, capacity={}",
            p.params[0].text, p.params[1].text
        );
        assert_contains(&svg, &[&label], "pareto");
    }
    // Past 40 dominated points, numbers would crowd the plot: points.csv.
    let mut many = sweep();
    // One point better than 50 others on both.
    many.points = (0..51)
        .map(|i| {
            let mut stats = model(8.0, 10000.0, 5);
            stats[0] = stat(1.0 + i as f64, 0.1, 5);
            stats[2] = stat(1000.0 + i as f64, 0.01, 5);
            PointResult {
                index: i,
                params: vec![num(2.0 + i as f64), num(1000.0)],
                stats,
            }
        })
        .collect();
    sweep_charts(&dir, &many, &[]).unwrap();
    let svg = svg_text(&dir, "pareto");
    assert_contains(&svg, &["are not numbered: points.csv lists them"], "pareto");
    assert!(!svg.contains("Other configurations"), "pareto");
}
