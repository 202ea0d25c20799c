//! Scenario files: loading, `--set` overrides, and validation with errors
//! that point at the file, line and column.
//!
//! Loading runs in four steps:
//! 1. the TOML is parsed (syntax errors carry their position);
//! 2. `--set PATH=VALUE` overrides edit the parsed document in place, so
//!    the rest of the file keeps its line numbers;
//! 3. a first pass reads each component's `kind`, a second deserializes
//!    each component straight into its model's configuration type, so type
//!    errors and unknown fields keep their exact position (serde's tagged
//!    enums would lose it);
//! 4. [`SystemConfig::check`] finds what types cannot: unknown names, call
//!    cycles, zero instances, negative rates; each issue is located by its
//!    dotted path.

use crate::diagnostics::{locate, path_at, path_in_text, suggest, Diagnostic, Diagnostics, Source};
use crate::study::sweep::SweepConfig;
use scalesim_models::fleet::cost::CostConfig;
use scalesim_models::policy::hpa::Hpa;
use scalesim_models::policy::PolicyConfig;
use scalesim_models::traffic::calendar::{parse_local, parse_offset, Calendar, Zone};
use scalesim_models::traffic::SourceConfig;
use scalesim_models::units::Duration;
use scalesim_models::SystemConfig;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use toml_edit::{DocumentMut, ImDocument};

/// The component kinds this version knows (the models' registry).
pub use scalesim_models::kinds::KINDS;

pub use crate::slo::SloConfig;

mod regions;
mod tags;
pub(crate) use tags::ordered;
pub use tags::{Autoscalers, Components, Tagged, TaggedList};

/// A scenario file as written (see CONTRACT.md §2 and the README).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Scenario name; default: the file name without extension.
    #[serde(default)]
    pub name: String,
    /// Simulated time.
    pub duration: Duration,
    /// Requests arriving before this are not counted.
    #[serde(default)]
    pub warmup: Duration,
    /// Base seed (default 1).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Time-series sampling interval (default 60 s).
    #[serde(default = "default_sample")]
    pub sample: Duration,
    /// Safety cap: the run stops and reports a runaway past this many
    /// requests in flight (default 1,000,000).
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: usize,
    /// Named request sources, in file order.
    #[serde(default, deserialize_with = "ordered")]
    pub traffic: Vec<(String, SourceConfig)>,
    /// Named components, in file order.
    #[serde(default)]
    pub components: Components,
    /// Service-level objectives.
    #[serde(default)]
    pub slo: SloConfig,
    /// Billing rules and price overrides.
    #[serde(default)]
    pub cost: CostConfig,
    /// Autoscaling policies, by pool name.
    #[serde(default)]
    pub autoscaler: Autoscalers,
    /// Scheduled outages of zones and components, and slowdowns.
    #[serde(default)]
    pub outages: Vec<scalesim_models::fleet::outage::OutageConfig>,
    /// Local date-time at t = 0, e.g. "2026-11-23T00:00:00" (default: an
    /// undated Monday 00:00).
    #[serde(default, deserialize_with = "scalesim_models::units::de_opt_date")]
    pub start: Option<String>,
    /// IANA time zone of the calendar, e.g. "Europe/Paris".
    #[serde(default)]
    pub timezone: Option<String>,
    /// Fixed UTC offset of the calendar, e.g. "-05:00" (default UTC).
    #[serde(default)]
    pub utc_offset: Option<String>,
    /// Parameter grid for `scalesim sweep` (ignored by `run`).
    #[serde(default)]
    pub sweep: Option<SweepConfig>,
    /// Defaults for `scalesim capacity` (ignored by `run`).
    #[serde(default)]
    pub capacity: Option<crate::study::capacity::CapacityConfig>,
    /// Regions the system runs in (`[regions.<name>]`), in file order.
    #[serde(default, deserialize_with = "ordered")]
    pub regions: Vec<(String, scalesim_models::regions::RegionConfig)>,
    /// Where the components run (their `region` / `regions`, read by the
    /// loader before the components are).
    #[serde(skip)]
    pub placed: scalesim_models::regions::Regions,
    /// Named sets of `--set` edits for `scalesim compare`: each variant is
    /// a table of dotted paths to values (ignored by `run`).
    #[serde(default)]
    pub variants: toml::Table,
}

impl Scenario {
    /// The calendar of this scenario; `Err((field, message))`.
    pub fn calendar(&self) -> Result<Calendar, (&'static str, String)> {
        let start = match &self.start {
            Some(s) => Some(parse_local(s).map_err(|m| ("start", m))?),
            None => None,
        };
        let zone = match (&self.timezone, &self.utc_offset) {
            (Some(_), Some(_)) => return Err(("utc_offset", "give either timezone or utc_offset, not both".into())),
            (Some(tz), None) => Zone::Named(tz.parse().map_err(|_| {
                ("timezone", format!("unknown time zone {tz:?}: expected an IANA name like \"Europe/Paris\" or \"America/New_York\""))
            })?),
            (None, Some(o)) => Zone::Fixed(parse_offset(o).map_err(|m| ("utc_offset", m))?),
            (None, None) => Zone::Fixed(0),
        };
        Calendar::new(start, zone, self.duration.secs()).map_err(|m| ("start", m))
    }
}

fn default_seed() -> u64 {
    1
}
fn default_sample() -> Duration {
    Duration(60.0)
}
fn default_max_in_flight() -> usize {
    1_000_000
}

/// A loaded, checked scenario.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The scenario as written (after overrides).
    pub scenario: Scenario,
    /// The text after overrides (for locating later messages).
    pub text: String,
    /// The file it came from.
    pub file: String,
    /// Local dates and time zone of simulated time.
    pub calendar: Calendar,
}

impl Loaded {
    /// The engine-level configuration of replication `replication`.
    pub fn system_config(&self, replication: u32) -> SystemConfig {
        to_system(&self.scenario, &self.calendar, replication)
    }
}

fn to_system(s: &Scenario, calendar: &Calendar, replication: u32) -> SystemConfig {
    SystemConfig {
        name: s.name.clone(),
        seed: s.seed,
        replication,
        duration: s.duration.time(),
        warmup: s.warmup.time(),
        sample: s.sample.time(),
        max_in_flight: s.max_in_flight,
        sources: s.traffic.clone(),
        components: s.components.0.clone(),
        cost: s.cost.clone(),
        calendar: calendar.clone(),
        autoscalers: s.autoscaler.0.clone(),
        outages: s.outages.clone(),
        regions: s.placed.clone(),
    }
}

/// Reads, overrides, parses and checks a scenario file.
///
/// `overrides` are `PATH=VALUE` strings; VALUE is read as a TOML value
/// (`12`, `0.5`, `true`, `["a", "b"]`, `{ dist = "exp", mean = 1 }`) or,
/// failing that, as a string (`5m`, `lru`).
pub fn load(path: &Path, overrides: &[String]) -> Result<Loaded, Diagnostics> {
    let file = path.display().to_string();
    let text = read_text(path).map_err(|(line_col, m)| {
        Diagnostics(vec![Diagnostic {
            file: file.clone(),
            line_col,
            field: None,
            message: format!("cannot read the scenario file: {m}"),
            snippet: None,
            from_override: None,
        }])
    })?;
    let default_name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario".into());
    load_str(&file, &text, overrides, &default_name)
}

/// Reads a text file; on invalid UTF-8, the line and column of the first
/// bad byte. At most 256 MiB (an input file, not a data set).
pub fn read_text(path: &Path) -> Result<String, (Option<(usize, usize)>, String)> {
    const MAX: u64 = 256 << 20;
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if len > MAX {
        return Err((
            None,
            format!("the file is {len} bytes, above the {MAX} an input file may have"),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| (None, e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| {
        let ok = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let before = String::from_utf8_lossy(&bytes[..ok]);
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (
            Some((line, col)),
            format!(
                "invalid UTF-8 (byte 0x{:02X}): save the file as UTF-8",
                bytes[ok]
            ),
        )
    })
}

/// [`load`] from a string (`file` is only used in messages).
pub fn load_str(
    file: &str,
    text: &str,
    overrides: &[String],
    default_name: &str,
) -> Result<Loaded, Diagnostics> {
    let plain = Source {
        file,
        text,
        overrides: &[],
    };
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| syntax_diagnostic(&plain, &e))?;
    let mut applied = Vec::new();
    for o in overrides {
        let pin = pin_measured_on(&doc, o);
        let (path, value) = apply_override(&mut doc, o).map_err(|m| {
            Diagnostics(vec![Diagnostic {
                file: file.to_string(),
                line_col: None,
                field: None,
                message: format!("--set {o}: {m}"),
                snippet: None,
                from_override: None,
            }])
        })?;
        let _ = value;
        applied.push((path, o.clone()));
        if let Some(p) = pin {
            // Cannot fail: the component's table exists.
            if let Ok((path, _)) = apply_override(&mut doc, &p) {
                applied.push((path, p));
            }
        }
    }
    let text = if overrides.is_empty() {
        text.to_string()
    } else {
        doc.to_string()
    };
    let src = Source {
        file,
        text: &text,
        overrides: &applied,
    };
    let spanned = parse_spanned(&src)?;
    // Regional copies are read from an expanded text; every message is
    // located in the text as written (see regions.rs).
    let mut expanded = doc.clone();
    let copies = regions::expand(&mut expanded).map_err(|errs| {
        Diagnostics(
            errs.into_iter()
                .map(|(p, m)| src.diagnostic(locate(&spanned, &p), Some(p), m))
                .collect(),
        )
    })?;
    let read = if copies.is_empty() {
        text.clone()
    } else {
        expanded.to_string()
    };
    let read_spanned = ImDocument::parse(read.as_str()).ok();
    let written = |p: &str| copies.written(&spanned, p);
    let serde_err = |e: toml::de::Error| match (&read_spanned, copies.is_empty()) {
        (Some(rs), false) => {
            let field = e
                .span()
                .and_then(|s| path_at(rs, s.start))
                .map(|p| written(&p));
            let span = field.as_deref().and_then(|f| locate(&spanned, f));
            Diagnostics(vec![src.diagnostic(span, field, suggest(e.message()))])
        }
        _ => serde_diagnostic(&src, &spanned, e),
    };
    let parsed =
        tags::with_tags(&read, false, || toml::from_str::<Scenario>(&read)).map_err(serde_err)?;
    let mut scenario = parsed.map_err(serde_err)?;
    if scenario.name.is_empty() {
        scenario.name = default_name.to_string();
    }
    let located = |path: &str, message: String| {
        let path = written(path);
        Diagnostics(vec![src.diagnostic(
            locate(&spanned, &path),
            Some(path),
            message,
        )])
    };
    let mut placed = copies.placed.clone();
    placed.declared = scenario.regions.clone();
    let wiring =
        scalesim_models::regions::place(&mut scenario.components.0, &mut scenario.traffic, &placed);
    scenario.placed = placed;
    let calendar = scenario.calendar().map_err(|(f, m)| located(f, m))?;
    let dir = Path::new(file).parent().unwrap_or(Path::new(""));
    for (name, source) in &mut scenario.traffic {
        if let Some(t) = &source.trace {
            let horizon = scenario.duration.secs();
            let (data, tokens) = crate::trace::load(t, dir, &calendar, name, horizon)?;
            source.trace_data = Some(data);
            source.trace_tokens = tokens;
        }
    }
    for (name, policy) in &mut scenario.autoscaler.0 {
        let mut at = vec![(format!("autoscaler.{name}"), policy)];
        while let Some((base, policy)) = at.pop() {
            if let PolicyConfig::Combined(c) = policy {
                let members = c.policies.iter_mut().enumerate();
                at.extend(members.map(|(i, p)| (format!("{base}.policies.{i}"), p)));
                continue;
            }
            if let PolicyConfig::HpaManifest(m, names) = policy {
                *policy = PolicyConfig::Hpa(load_manifest(dir, m, names, &base, &located)?);
            }
        }
    }
    let system = to_system(&scenario, &calendar, 0);
    let mut issues = wiring;
    if issues.is_empty() {
        issues = system.check();
    }
    if issues.is_empty() {
        issues.extend(check_slo(&scenario, &system, &doc));
    }
    issues.extend(check_studies(&scenario));
    if !issues.is_empty() {
        return Err(Diagnostics(
            issues
                .into_iter()
                .map(|i| {
                    let path = written(&i.path);
                    src.diagnostic(locate(&spanned, &path), Some(path), i.message)
                })
                .collect(),
        ));
    }
    Ok(Loaded {
        scenario,
        text,
        file: file.to_string(),
        calendar,
    })
}

/// The HPA of the manifest `m` (relative to `dir`) named by the autoscaler
/// at `base`, its metrics renamed by `names`.
fn load_manifest(
    dir: &Path,
    m: &str,
    names: &BTreeMap<String, String>,
    base: &str,
    located: &dyn Fn(&str, String) -> Diagnostics,
) -> Result<scalesim_models::policy::hpa::HpaConfig, Diagnostics> {
    let path = dir.join(m);
    // A field of the autoscaler table (`base` empty: a policy file's).
    let at = |f: &str| match base {
        "" => f.to_string(),
        b => format!("{b}.{f}"),
    };
    let field = at("manifest");
    let yaml = read_text(&path).map_err(|(lc, e)| {
        let at = lc.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default();
        located(
            &field,
            format!("cannot read the manifest {}{at}: {e}", path.display()),
        )
    })?;
    let mut cfg = Hpa::from_manifest(&yaml).map_err(|e| {
        let sep = if e.line_col.is_some() { ":" } else { ": " };
        located(&field, format!("{}{sep}{e}", path.display()))
    })?;
    for (from, to) in names.iter() {
        let used = cfg.metrics.iter_mut().filter(|x| &x.name == from);
        let mut n = 0;
        for x in used {
            x.name = to.clone();
            n += 1;
        }
        if n == 0 {
            let read: Vec<&str> = cfg.metrics.iter().map(|x| x.name.as_str()).collect();
            return Err(located(
                &at(&format!("metric_names.{from}")),
                format!(
                    "the manifest {} reads no metric {from:?}; it reads {read:?}",
                    path.display()
                ),
            ));
        }
    }
    Ok(cfg)
}

/// A policy from a TOML file holding one `[autoscaler.<pool>]`-style table
/// (`policy = "hpa"`, ...), for `replay-policy`.
pub fn policy_from_toml(file: &str, text: &str) -> Result<PolicyConfig, Diagnostics> {
    let src = Source {
        file,
        text,
        overrides: &[],
    };
    let spanned = parse_spanned(&src)?;
    let serde_err = |e: toml::de::Error| serde_diagnostic(&src, &spanned, e);
    #[derive(Deserialize)]
    struct Only {
        policy: String,
        #[serde(default)]
        manifest: Option<toml::Value>,
    }
    let only: Only = toml::from_str(text).map_err(serde_err)?;
    // policy = "hpa" with a manifest file, as in a scenario.
    let tag = match (only.policy.as_str(), &only.manifest) {
        ("hpa", Some(_)) => "hpa-manifest",
        (p, _) => p,
    };
    let mut policy = tags::with_tags(text, true, || {
        PolicyConfig::from_tag(tag, toml::Deserializer::new(text))
    })
    .map_err(serde_err)?
    .map_err(serde_err)?;
    if let PolicyConfig::HpaManifest(m, names) = &policy {
        let dir = Path::new(file).parent().unwrap_or(Path::new("."));
        let located = |f: &str, m: String| {
            Diagnostics(vec![src.diagnostic(locate(&spanned, f), Some(f.into()), m)])
        };
        policy = PolicyConfig::Hpa(load_manifest(dir, m, names, "", &located)?);
    }
    if matches!(policy, PolicyConfig::Vpa(_)) {
        let f = "policy".to_string();
        let m = "replay-policy replays replica counts; a VPA resizes pods by evicting them, which needs a simulation: run a scenario with it".to_string();
        return Err(Diagnostics(vec![src.diagnostic(
            locate(&spanned, &f),
            Some(f),
            m,
        )]));
    }
    policy
        .build(&Calendar::undated())
        .map_err(|(f, m)| Diagnostics(vec![src.diagnostic(locate(&spanned, &f), Some(f), m)]))?;
    Ok(policy)
}

/// A policy from a Kubernetes HorizontalPodAutoscaler YAML manifest.
pub fn policy_from_manifest(
    yaml: &str,
) -> Result<PolicyConfig, scalesim_models::policy::hpa::ManifestError> {
    let cfg = Hpa::from_manifest(yaml)?;
    Hpa::new(&cfg).map_err(|(f, m)| scalesim_models::policy::hpa::ManifestError {
        line_col: None,
        path: Some(f),
        message: m,
    })?;
    Ok(PolicyConfig::Hpa(cfg))
}

/// The study tables: a sweep that spells out, capacity defaults that
/// parse, variants that are tables.
fn check_studies(s: &Scenario) -> Vec<scalesim_models::system::ConfigIssue> {
    use scalesim_models::system::ConfigIssue;
    let mut out = Vec::new();
    if let Some(cfg) = &s.sweep {
        if let Err(message) = crate::study::sweep::Plan::new(cfg) {
            out.push(ConfigIssue {
                path: "sweep".into(),
                message,
            });
        }
    }
    if let Some(c) = &s.capacity {
        if let Some(Err(message)) = c.slo.as_deref().map(crate::study::objective::parse_list) {
            out.push(ConfigIssue {
                path: "capacity.slo".into(),
                message,
            });
        }
        if let Some(Err(message)) = c.per.as_deref().map(crate::study::capacity::parse_per) {
            out.push(ConfigIssue {
                path: "capacity.per".into(),
                message,
            });
        }
    }
    for (name, v) in &s.variants {
        if !v.is_table() {
            out.push(ConfigIssue {
                path: format!("variants.{name}"),
                message: "a variant is a table of dotted paths to values, e.g. [variants.big] with \"components.api.instances\" = 8".into(),
            });
        }
    }
    out
}

/// The `[slo]` table against the system it judges: names that exist,
/// objectives each scope measures, shares as fractions, latency bounds
/// that do not read as milliseconds written as seconds.
fn check_slo(
    s: &Scenario,
    system: &SystemConfig,
    doc: &DocumentMut,
) -> Vec<scalesim_models::system::ConfigIssue> {
    let classes: Vec<String> = s
        .traffic
        .iter()
        .flat_map(|(n, src)| {
            src.classes().into_iter().map(move |c| {
                if c.name.is_empty() {
                    n.clone()
                } else {
                    format!("{n}.{}", c.name)
                }
            })
        })
        .collect();
    let components: Vec<(String, &'static str, bool)> = system
        .expanded()
        .components
        .iter()
        .map(|(n, c)| (n.clone(), c.kind(), c.lifecycle().is_some()))
        .collect();
    let areas = scalesim_models::traffic::areas(&s.traffic);
    let names = crate::slo::Names {
        classes: &classes,
        components: &components,
        areas: &areas,
    };
    let mut out = crate::slo::check(&s.slo, &names);
    if let Some(t) = doc.get("slo").and_then(|t| t.as_table()) {
        for (path, v) in crate::slo::bare_seconds(t) {
            out.push(scalesim_models::system::ConfigIssue {
                message: crate::slo::bare_seconds_message(&path, v),
                path,
            });
        }
    }
    out
}

/// The text of `src` parsed with spans, for locating later messages.
fn parse_spanned<'a>(src: &Source<'a>) -> Result<ImDocument<&'a str>, Diagnostics> {
    ImDocument::parse(src.text).map_err(|e| syntax_diagnostic(src, &e))
}

/// A TOML syntax error of `src`: its place, the key being written there
/// (read from the text, as the document does not parse) and a message
/// that is never empty.
fn syntax_diagnostic(src: &Source, e: &toml_edit::TomlError) -> Diagnostics {
    let span = e.span();
    let at = span.as_ref().map_or(0, |s| s.start);
    let field = span.as_ref().and_then(|_| path_in_text(src.text, at));
    let mut message = first_line(e.message());
    let here = src.text.get(at..).and_then(|t| t.chars().next());
    if let Some(c) = here.filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        let what = format!(
            "control character U+{:04X} is not allowed in TOML, even in a comment or a string (write it as an escape such as \\u{:04X} inside a string, or remove it)",
            c as u32, c as u32
        );
        message = if message.is_empty() {
            what
        } else {
            format!("{message}; {what}")
        };
    } else if message.is_empty() {
        message = match here {
            Some(c) => format!("unexpected {c:?} here"),
            None => "unexpected end of file: a table, array or string is not closed".into(),
        };
    }
    if message.contains("recursion limit") {
        message.push_str(": arrays and inline tables are nested too deeply");
    }
    if message.contains("number too large") {
        message.push_str(
            ": integers are at most 9223372036854775807 (and each field has its own range)",
        );
    }
    Diagnostics(vec![src.diagnostic(span, field, message)])
}

/// A serde error of `src`, with its place, field path and a suggestion.
fn serde_diagnostic(src: &Source, spanned: &ImDocument<&str>, e: toml::de::Error) -> Diagnostics {
    let field = e
        .span()
        .and_then(|s| path_at(spanned, s.start).or_else(|| path_in_text(src.text, s.start)));
    Diagnostics(vec![src.diagnostic(e.span(), field, suggest(e.message()))])
}

/// A TOML parser message on one line ("invalid string; expected ...").
fn first_line(m: &str) -> String {
    m.trim()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Applies one `PATH=VALUE` override to the document; returns the path.
/// An edit `o` that changes a component's `instance_type` (`--set`, a
/// variant, `capacity --per`) where the component does not say where its
/// CPU times were measured: they were measured on the type the scenario
/// names, so `measured_on` is pinned to it and the new type's speed factor
/// applies (see the scenario reference, "Instance types"). The edit that
/// pins it, if any.
fn pin_measured_on(doc: &DocumentMut, o: &str) -> Option<String> {
    let path = o.split_once('=')?.0.trim();
    let keys = toml_edit::Key::parse(path).ok()?;
    let (last, comp) = keys.split_last()?;
    if last.get() != "instance_type" || comp.first()?.get() != "components" {
        return None;
    }
    let mut item = doc.as_item();
    for k in comp {
        item = item.as_table_like()?.get(k.get())?;
    }
    let t = item.as_table_like()?;
    if t.contains_key("measured_on") {
        return None;
    }
    let orig = t.get("instance_type")?.as_str()?;
    let prefix = path.rsplit_once('.')?.0;
    Some(format!("{prefix}.measured_on=\"{orig}\""))
}

fn apply_override(doc: &mut DocumentMut, o: &str) -> Result<(String, String), String> {
    let (path, raw) = o
        .split_once('=')
        .ok_or_else(|| "expected PATH=VALUE, e.g. components.api.instances=12".to_string())?;
    let path = path.trim();
    // TOML key syntax, so quoted parts may hold dots: cost.catalog."c5.large".
    // A regional copy's name (`api@us-east-1`) is not a bare TOML key:
    // it may be written unquoted.
    let keys = toml_edit::Key::parse(path)
        .ok()
        .map(|k| k.iter().map(|k| k.get().to_string()).collect::<Vec<_>>())
        .or_else(|| {
            let ok = path.contains('@') && !path.contains(['"', '\'']);
            ok.then(|| path.split('.').map(str::to_string).collect())
        })
        .ok_or_else(|| format!("{path:?} is not a dotted path like traffic.web.rate"))?;
    let parts: Vec<&str> = keys.iter().map(String::as_str).collect();
    let regional = regions::Copies::override_path(doc, &parts);
    let parts: Vec<&str> = match &regional {
        Some(p) => p.iter().map(String::as_str).collect(),
        None => parts,
    };
    let shown = regional.as_ref().map_or(path.to_string(), |p| p.join("."));
    let raw = raw.trim();
    let value: toml_edit::Value = raw
        .parse()
        .unwrap_or_else(|_| toml_edit::Value::from(raw.to_string()));
    let mut item: &mut toml_edit::Item = doc.as_item_mut();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let table = item
            .as_table_like_mut()
            .ok_or_else(|| format!("`{}` is not a table", parts[..i].join(".")))?;
        if last {
            match table.get_mut(part) {
                Some(existing) if existing.is_value() => {
                    let decor = existing.as_value().map(|v| v.decor().clone());
                    let mut v = value.clone();
                    if let Some(d) = decor {
                        *v.decor_mut() = d;
                    }
                    *existing = toml_edit::Item::Value(v);
                }
                _ => {
                    table.insert(part, toml_edit::Item::Value(value.clone()));
                }
            }
            return Ok((shown, raw.to_string()));
        }
        if table.get(part).is_none() {
            let mut t = toml_edit::Table::new();
            t.set_implicit(true);
            table.insert(part, toml_edit::Item::Table(t));
        }
        item = table.get_mut(part).expect("inserted above");
    }
    unreachable!("the loop returns at the last part")
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "t"
duration = "1h"
warmup = "5m"

[traffic.web]
rate = 10
to = "api"
keys = { count = 1000, zipf = 0.9 }

[components.api]
kind = "pool"
instances = 4
service = { dist = "exp", mean = "50ms" }
calls = ["cache"]

[components.cache]
kind = "cache"
capacity = 100
miss = "db"

[components.db]
kind = "pool"
instances = 2
service = { dist = "const", value = "5ms" }
"#;

    fn err(text: &str) -> Diagnostic {
        load_str("s.toml", text, &[], "s").unwrap_err().0.remove(0)
    }

    #[test]
    fn loads_a_good_scenario_in_file_order() {
        let l = load_str("s.toml", GOOD, &[], "s").unwrap();
        let names: Vec<&str> = l
            .scenario
            .components
            .0
            .iter()
            .map(|c| c.0.as_str())
            .collect();
        assert_eq!(names, ["api", "cache", "db"]);
        assert_eq!(l.scenario.warmup.secs(), 300.0);
    }

    #[test]
    fn overrides_edit_values_in_place() {
        let sets = [
            "components.api.instances=12".to_string(),
            "traffic.web.rate=300".into(),
            "warmup=10m".into(),
        ];
        let l = load_str("s.toml", GOOD, &sets, "s").unwrap();
        match &l.scenario.components.0[0].1 {
            scalesim_models::ComponentConfig::Pool(p) => assert_eq!(p.instances, 12),
            _ => panic!("api is a pool"),
        }
        assert_eq!(l.scenario.traffic[0].1.rate, Some(300.0));
        assert_eq!(l.scenario.warmup.secs(), 600.0);
        assert_eq!(l.text.lines().count(), GOOD.lines().count());
    }

    #[test]
    fn type_errors_point_at_the_value() {
        let d = err(&GOOD.replace("instances = 4", "instances = \"four\""));
        assert_eq!(d.line_col, Some((13, 13)));
        assert_eq!(d.field.as_deref(), Some("components.api.instances"));
        assert!(
            d.message
                .contains("expected a whole number from 0 to 4294967295, got the string \"four\""),
            "{}",
            d.message
        );
    }

    #[test]
    fn unknown_fields_get_a_suggestion() {
        let d = err(&GOOD.replace("instances = 4", "instnces = 4"));
        assert_eq!(d.line_col.map(|l| l.0), Some(13));
        assert!(
            d.message.contains("did you mean `instances`"),
            "{}",
            d.message
        );
    }

    #[test]
    fn semantic_errors_are_located() {
        let d = err(&GOOD.replace("instances = 4", "instances = 0"));
        assert_eq!(d.line_col.map(|l| l.0), Some(13));
        assert_eq!(d.field.as_deref(), Some("components.api.instances"));
        let d = err(&GOOD.replace("miss = \"db\"", "miss = \"dbb\""));
        assert!(
            d.message.contains("unknown component \"dbb\""),
            "{}",
            d.message
        );
        assert_eq!(d.line_col.map(|l| l.0), Some(20));
        let d = err(&GOOD.replace("rate = 10", "rate = -10"));
        assert_eq!(d.field.as_deref(), Some("traffic.web.rate"));
        let d = err(&GOOD.replace(
            "kind = \"pool\"\ninstances = 2",
            "kind = \"pool\"\ncalls = [\"api\"]\ninstances = 2",
        ));
        assert!(d.message.contains("call cycle"), "{}", d.message);
    }

    /// The STABLE core example of CONTRACT.md §2, verbatim, plus the `db`
    /// its cache forwards misses to.
    #[test]
    fn contract_core_example_loads() {
        let text = r#"
name = "mmc-example"
duration = "10000s"     # simulated time
warmup = "500s"         # requests that ARRIVE before this are not counted
seed = 7

[traffic.web]           # one or more named request sources
rate = 7.2              # mean arrival rate, req/s
arrivals = "poisson"    # "poisson" | "deterministic"
to = "api"              # the component requests enter
keys = { count = 100000, zipf = 0.8 }   # optional: each request carries a key
                                         # drawn from a Zipf(s) law over 1..count
                                         # (zipf = 0 means uniform)

[components.api]
kind = "pool"           # c instances x concurrency slots, one FIFO queue
instances = 8
concurrency = 1         # requests one instance serves at once (default 1)
service = { dist = "exp", mean = "1s" }
# dist: "exp" | "const" (value) | "lognormal" (mean, cv) | "gamma" (mean, cv)
#       | "uniform" (min, max)
queue_capacity = 1000   # optional; absent = unbounded; 0 = no waiting room
                        # (an arrival finding all slots busy is rejected)
calls = ["cache"]       # optional: downstream components called in order
                        # after the local service, while holding the slot

[components.cache]
kind = "cache"
capacity = 1000         # entries
policy = "lru"          # "lru" | "fifo" | "lfu" | "random"
ttl = "300s"            # optional
hit = { dist = "const", value = "1ms" }
miss = "db"             # component a miss is forwarded to; its answer fills the cache

[slo]                   # optional; a failed SLO makes `run` exit 1
p99 = "500ms"
error_rate = 0.001

[components.db]
kind = "pool"
instances = 4
service = { dist = "lognormal", mean = "20ms", cv = 1.0 }
"#;
        let l = load_str("contract.toml", text, &[], "x").unwrap();
        assert_eq!(l.scenario.name, "mmc-example");
        assert_eq!(l.scenario.seed, 7);
        assert_eq!(l.scenario.slo.p99.map(|d| d.secs()), Some(0.5));
        assert_eq!(l.scenario.components.0.len(), 3);
    }

    #[test]
    fn syntax_errors_have_line_and_column() {
        let d = err("name = \"x\"\nduration = \n");
        assert_eq!(d.line_col.map(|l| l.0), Some(2));
    }

    #[test]
    fn unknown_kind_is_located_with_suggestion() {
        let d = err(&GOOD.replace("kind = \"cache\"", "kind = \"cahce\""));
        assert_eq!(d.line_col.map(|l| l.0), Some(18));
        assert!(d.message.contains("did you mean `cache`"), "{}", d.message);
    }
}
