//! Every ```toml block of README.md and docs/**/*.md goes through the real
//! scenario loader, so the documentation cannot drift from the code.
//!
//! What a block is, is said by an HTML comment on the line just before its
//! fence (invisible on GitHub and in mdBook):
//!
//! - no comment (or `<!-- snippet: whole -->`): the block is a whole
//!   scenario and must load as it stands;
//! - `<!-- snippet: fragment of scenarios/X.toml -->`: the block is laid
//!   over that scenario and the result must load. Each top-level key of the
//!   block replaces the scenario's, except in the tables of named entries
//!   (`traffic`, `components`, `autoscaler`, `variants`, `regions`), where each entry
//!   the block names replaces the scenario's entry of that name and the
//!   other entries stay. So a fragment is checked in a real scenario that
//!   supplies what it leaves out (traffic, the components it calls), and
//!   every entry it shows is checked whole;
//! - `<!-- snippet: each in TABLE of scenarios/X.toml -->`: the block lists
//!   alternatives, one `key = value` each (a value may span lines; comment
//!   lines are skipped); each alternative alone is set in the table TABLE
//!   (a dotted path, e.g. `traffic.users`) of that scenario and the result
//!   must load;
//! - any of the above followed by `fails with "TEXT"` (or `"A" and "B"`),
//!   e.g. `<!-- snippet: fragment of scenarios/quickstart.toml fails with "unknown field" -->`:
//!   the block shows a mistake, so it must NOT load, and the loader's
//!   message must contain each TEXT.
//!
//! A scenario that loads is checked further as its study commands check
//! it before running: every point of its `[sweep]` loads, and each of its
//! `[variants.<name>]` applies.
//!
//! A comment that starts with `<!-- snippet:` but does not read as one of
//! these is an error, so a typo cannot turn a check off. A failure names
//! the Markdown file and the line of the snippet (or of the alternative).

use scalesim::scenario::{load_str, Loaded};
use scalesim::study::sweep::Sweep;
use std::path::{Path, PathBuf};
use toml_edit::{DocumentMut, Item};

/// Tables whose entries are named (`[components.<name>]`): a fragment
/// replaces the entries it names and keeps the others.
const ENTRY_TABLES: [&str; 5] = ["traffic", "components", "autoscaler", "variants", "regions"];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// How a block is checked.
#[derive(Debug, Clone, PartialEq)]
enum Mode {
    Whole,
    Fragment { base: String },
    Each { table: String, base: String },
}

#[derive(Debug)]
struct Snippet {
    /// The Markdown file, relative to the repository.
    file: String,
    /// 1-based line of the first line inside the fence.
    line: usize,
    text: String,
    mode: Mode,
    /// `Some(texts)`: the block must fail to load with a message containing
    /// each of them.
    fails_with: Option<Vec<String>>,
}

/// The texts of `"A" and "B" ...`.
fn quoted(t: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut rest = t.trim();
    loop {
        let body = rest
            .strip_prefix('"')
            .ok_or("`fails with` needs quoted texts: \"A\" and \"B\"")?;
        let end = body.find('"').ok_or("unclosed quote after `fails with`")?;
        out.push(body[..end].to_string());
        rest = body[end + 1..].trim();
        if rest.is_empty() {
            return Ok(out);
        }
        rest = rest
            .strip_prefix("and")
            .ok_or("quoted texts after `fails with` are joined by `and`")?
            .trim();
    }
}

/// Reads a `<!-- snippet: ... -->` comment.
fn parse_marker(comment: &str) -> Result<(Mode, Option<Vec<String>>), String> {
    let body = comment
        .trim()
        .strip_prefix("<!--")
        .and_then(|s| s.strip_suffix("-->"))
        .ok_or("not an HTML comment on one line")?
        .trim()
        .strip_prefix("snippet:")
        .ok_or("no `snippet:`")?
        .trim();
    let (body, fails_with) = match body.split_once(" fails with ") {
        Some((b, t)) => (b.trim(), Some(quoted(t)?)),
        None => (body, None),
    };
    let mode = if body == "whole" {
        Mode::Whole
    } else if let Some(base) = body.strip_prefix("fragment of ") {
        Mode::Fragment {
            base: base.trim().to_string(),
        }
    } else if let Some(rest) = body.strip_prefix("each in ") {
        let (table, base) = rest
            .split_once(" of ")
            .ok_or("`each in TABLE of scenarios/X.toml`")?;
        Mode::Each {
            table: table.trim().to_string(),
            base: base.trim().to_string(),
        }
    } else {
        return Err(format!(
            "unknown snippet kind `{body}`: expected `whole`, `fragment of FILE` or `each in TABLE of FILE`"
        ));
    };
    Ok((mode, fails_with))
}

/// The ```toml blocks of one Markdown file.
fn snippets_of(file: &str, text: &str, errors: &mut Vec<String>) -> Vec<Snippet> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            let indent = line.len() - trimmed.len();
            let start = i + 1;
            let mut end = start;
            while end < lines.len() && lines[end].trim() != "```" {
                end += 1;
            }
            if end == lines.len() {
                errors.push(format!("{file}:{}: unclosed code fence", i + 1));
            }
            if info.trim() == "toml" {
                let body: Vec<&str> = lines[start..end.min(lines.len())]
                    .iter()
                    .map(|l| l.get(indent..).unwrap_or(l.trim_start()))
                    .collect();
                let marker = i
                    .checked_sub(1)
                    .map(|p| lines[p].trim())
                    .filter(|p| p.starts_with("<!-- snippet:"));
                let (mode, fails_with) = match marker.map(parse_marker) {
                    None => (Mode::Whole, None),
                    Some(Ok(m)) => m,
                    Some(Err(e)) => {
                        errors.push(format!("{file}:{i}: bad snippet comment: {e}"));
                        i = end + 1;
                        continue;
                    }
                };
                out.push(Snippet {
                    file: file.to_string(),
                    line: start + 1,
                    text: body.join("\n") + "\n",
                    mode,
                    fails_with,
                });
            }
            i = end + 1;
            continue;
        }
        if trimmed.starts_with("<!-- snippet:") {
            let next = lines.get(i + 1).map(|l| l.trim_start()).unwrap_or("");
            if !next.starts_with("```toml") {
                errors.push(format!(
                    "{file}:{}: a snippet comment must be on the line just before a ```toml fence",
                    i + 1
                ));
            }
        }
        i += 1;
    }
    out
}

fn markdown_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "md") {
                out.push(p);
            }
        }
    }
    let mut files = vec![repo().join("README.md")];
    walk(&repo().join("docs"), &mut files);
    files
}

fn all_snippets(errors: &mut Vec<String>) -> Vec<Snippet> {
    let mut out = Vec::new();
    for path in markdown_files() {
        let rel = path
            .strip_prefix(repo())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        out.extend(snippets_of(&rel, &text, errors));
    }
    out
}

fn parse(text: &str) -> Result<DocumentMut, String> {
    text.parse::<DocumentMut>()
        .map_err(|e| format!("not valid TOML: {e}"))
}

/// The base scenario's text and its absolute path (relative files such as
/// traces and HPA manifests resolve from it).
fn base_of(name: &str) -> Result<(DocumentMut, String), String> {
    if !name.starts_with("scenarios/") || !name.ends_with(".toml") {
        return Err(format!(
            "the base must be a file scenarios/*.toml, not `{name}`"
        ));
    }
    let path = repo().join(name);
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("cannot read the base {name}: {e}"))?;
    Ok((parse(&text)?, path.to_string_lossy().into_owned()))
}

/// Lays `fragment` over `base` (see the module comment).
fn lay_over(base: &mut DocumentMut, fragment: &DocumentMut) {
    for (key, item) in fragment.iter() {
        let entries = ENTRY_TABLES.contains(&key)
            && item.is_table_like()
            && base.get(key).is_some_and(|b| b.is_table_like());
        if entries {
            let target = base[key].as_table_like_mut().unwrap();
            for (name, entry) in item.as_table_like().unwrap().iter() {
                target.insert(name, entry.clone());
            }
        } else {
            base[key] = item.clone();
        }
    }
}

/// The table at the dotted `path` of `doc`.
fn table_at<'a>(
    doc: &'a mut DocumentMut,
    path: &str,
) -> Result<&'a mut dyn toml_edit::TableLike, String> {
    let mut item: &mut Item = doc.as_item_mut();
    for part in path.split('.') {
        item = item
            .as_table_like_mut()
            .and_then(|t| t.get_mut(part))
            .ok_or_else(|| format!("the base has no table `{path}`"))?;
    }
    item.as_table_like_mut()
        .ok_or_else(|| format!("`{path}` is not a table in the base"))
}

/// Splits an `each` block into its alternatives: (offset of the first
/// line in the block, text). An alternative ends at the first line where
/// the text so far is valid TOML.
fn alternatives(text: &str) -> Result<Vec<(usize, String)>, (usize, String)> {
    let mut out = Vec::new();
    let mut acc = String::new();
    let mut first = 0;
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if acc.is_empty() {
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            first = n;
        }
        acc.push_str(line);
        acc.push('\n');
        if acc.parse::<DocumentMut>().is_ok() {
            out.push((first, std::mem::take(&mut acc)));
        }
    }
    if !acc.is_empty() {
        return Err((first, parse(&acc).err().unwrap_or_default()));
    }
    Ok(out)
}

/// Loads one scenario text; `Ok(())` when the outcome is the expected one.
fn check_load(file: &str, text: &str, fails_with: &Option<Vec<String>>) -> Result<(), String> {
    let loaded = load_str(file, text, &[], "snippet");
    match (loaded, fails_with) {
        (Ok(l), None) => check_studies(&l),
        (Err(d), None) => Err(format!("does not load:\n{d}")),
        (Ok(_), Some(want)) => Err(format!(
            "is marked to fail with {want:?} but loads without error"
        )),
        (Err(d), Some(want)) => {
            let got = d.to_string();
            match want.iter().find(|w| !got.contains(w.as_str())) {
                None => Ok(()),
                Some(w) => Err(format!(
                    "fails, but its message lacks \"{w}\"; the loader says:\n{got}"
                )),
            }
        }
    }
}

/// The studies a loaded scenario declares are checked as their commands
/// check them before running: every `[sweep]` point loads, and every
/// `[variants.<name>]` applies (its dotted paths, as `--set`).
fn check_studies(l: &Loaded) -> Result<(), String> {
    if l.scenario.sweep.is_some() {
        let copy = load_str(&l.file, &l.text, &[], &l.scenario.name).map_err(|d| d.to_string())?;
        Sweep::new(copy).map_err(|e| format!("its [sweep] does not check: {e}"))?;
    }
    for (name, v) in &l.scenario.variants {
        let table = v
            .as_table()
            .ok_or_else(|| format!("[variants.{name}] is not a table"))?;
        let edits: Vec<String> = table.iter().map(|(k, v)| format!("{k}={v}")).collect();
        load_str(&l.file, &l.text, &edits, &l.scenario.name)
            .map_err(|d| format!("[variants.{name}] does not apply:\n{d}"))?;
    }
    Ok(())
}

/// The file name the loader reports for a base with a snippet laid over
/// it: the base's path (relative files resolve from its folder) marked
/// with the snippet's page and line, e.g.
/// `.../scenarios/quickstart.toml+README.md@L73`. Lines in its messages are
/// lines of the merged text; the snippet's own line is in the failure.
fn merged_name(base: &str, s: &Snippet, line: usize) -> String {
    let page = s.file.replace('/', "_");
    format!("{base}+{page}@L{line}")
}

/// Checks one snippet; returns the number of scenarios it loaded and the
/// failures, each as `file:line: message`.
fn check(s: &Snippet) -> (usize, Vec<String>) {
    let at = |line: usize, m: String| format!("{}:{}: snippet {m}", s.file, line);
    match &s.mode {
        Mode::Whole => {
            if let Err(e) = parse(&s.text) {
                if s.fails_with.is_none() {
                    return (0, vec![at(s.line, e)]);
                }
            }
            let file = repo().join(&s.file).to_string_lossy().into_owned();
            match check_load(&file, &s.text, &s.fails_with) {
                Ok(()) => (1, vec![]),
                Err(e) => (1, vec![at(s.line, format!("(whole scenario) {e}"))]),
            }
        }
        Mode::Fragment { base } => {
            let what = format!("(fragment of {base})");
            let fragment = match parse(&s.text) {
                Ok(f) => f,
                Err(e) => return (0, vec![at(s.line, format!("{what} {e}"))]),
            };
            let (mut doc, path) = match base_of(base) {
                Ok(b) => b,
                Err(e) => return (0, vec![at(s.line, e)]),
            };
            lay_over(&mut doc, &fragment);
            let file = merged_name(&path, s, s.line);
            match check_load(&file, &doc.to_string(), &s.fails_with) {
                Ok(()) => (1, vec![]),
                Err(e) => (1, vec![at(s.line, format!("{what} {e}"))]),
            }
        }
        Mode::Each { table, base } => {
            let what = format!("(alternative in {table} of {base})");
            let alts = match alternatives(&s.text) {
                Ok(a) if a.is_empty() => {
                    return (0, vec![at(s.line, format!("{what} has no alternatives"))])
                }
                Ok(a) => a,
                Err((n, e)) => return (0, vec![at(s.line + n, format!("{what} {e}"))]),
            };
            let mut failures = Vec::new();
            for (n, alt) in &alts {
                let line = s.line + n;
                let (mut doc, path) = match base_of(base) {
                    Ok(b) => b,
                    Err(e) => return (0, vec![at(line, e)]),
                };
                let item = parse(alt).unwrap();
                match table_at(&mut doc, table) {
                    Ok(t) => {
                        for (k, v) in item.iter() {
                            t.insert(k, v.clone());
                        }
                    }
                    Err(e) => {
                        failures.push(at(line, e));
                        continue;
                    }
                }
                let file = merged_name(&path, s, line);
                if let Err(e) = check_load(&file, &doc.to_string(), &s.fails_with) {
                    failures.push(at(line, format!("{what} {e}")));
                }
            }
            (alts.len(), failures)
        }
    }
}

#[test]
fn every_toml_snippet_of_the_docs_loads() {
    let mut failures = Vec::new();
    let snippets = all_snippets(&mut failures);
    let mut loaded = 0;
    for s in &snippets {
        let (n, f) = check(s);
        loaded += n;
        failures.extend(f);
    }
    println!(
        "{} ```toml blocks, {loaded} scenarios loaded ({} marked to fail)",
        snippets.len(),
        snippets.iter().filter(|s| s.fails_with.is_some()).count()
    );
    assert!(
        failures.is_empty(),
        "{} snippet problem(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // The finder itself must not silently find nothing.
    assert!(
        snippets.len() >= 25,
        "only {} snippets found",
        snippets.len()
    );
    for kind in ["whole", "fragment", "each", "fails"] {
        let any = snippets.iter().any(|s| match kind {
            "whole" => s.mode == Mode::Whole,
            "fragment" => matches!(s.mode, Mode::Fragment { .. }),
            "each" => matches!(s.mode, Mode::Each { .. }),
            _ => s.fails_with.is_some(),
        });
        assert!(
            any,
            "no snippet of kind {kind}: the convention is not exercised"
        );
    }
}

#[test]
fn the_checker_catches_what_it_should() {
    let mut errors = Vec::new();
    let md = "text\n<!-- snippet: fragment of scenarios/quickstart.toml -->\n```toml\n[components.api]\nkind = \"pool\"\ninstanses = 3\n```\n";
    let s = snippets_of("x.md", md, &mut errors);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].line, 4);
    let (_, f) = check(&s[0]);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(
        f[0].starts_with("x.md:4: snippet (fragment of scenarios/quickstart.toml) does not load"),
        "{}",
        f[0]
    );
    assert!(f[0].contains("instanses"), "{}", f[0]);

    // The same mistake marked as such passes, and a wrong expectation fails.
    let marked = md.replace(
        ".toml -->",
        ".toml fails with \"unknown field `instanses`\" and \"did you mean `instances`\" -->",
    );
    let s = snippets_of("x.md", &marked, &mut errors);
    assert!(check(&s[0]).1.is_empty(), "{:?}", check(&s[0]).1);
    let wrong = md.replace(
        ".toml -->",
        ".toml fails with \"unknown field `instanses`\" and \"something else\" -->",
    );
    let s = snippets_of("x.md", &wrong, &mut errors);
    assert_eq!(check(&s[0]).1.len(), 1);

    // An alternative that does not load is reported at its own line.
    let each = "<!-- snippet: each in components.api of scenarios/quickstart.toml -->\n```toml\nservice = { dist = \"exp\", mean = \"20ms\" }\n# a comment\nservice = { dist = \"exp\", mean = \"-1ms\" }\n```\n";
    let s = snippets_of("y.md", each, &mut errors);
    let (n, f) = check(&s[0]);
    assert_eq!(n, 2);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].starts_with("y.md:5:"), "{}", f[0]);

    // A study declared by a snippet is checked as its command checks it.
    let sweep = "<!-- snippet: fragment of scenarios/quickstart.toml -->\n```toml\n[sweep]\ngrid = { \"components.api.instanses\" = [2, 4] }\n```\n";
    let s = snippets_of("s.md", sweep, &mut errors);
    let (_, f) = check(&s[0]);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].contains("[sweep] does not check"), "{}", f[0]);
    let variant = "<!-- snippet: fragment of scenarios/quickstart.toml -->\n```toml\n[variants.a]\n\"components.api.instances\" = 0\n```\n";
    let s = snippets_of("v.md", variant, &mut errors);
    let (_, f) = check(&s[0]);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].contains("[variants.a] does not apply"), "{}", f[0]);
    assert!(errors.is_empty(), "{errors:?}");

    // A misspelt marker is an error, not a silent skip.
    let bad = "<!-- snippet: fragmnt of scenarios/quickstart.toml -->\n```toml\nx = 1\n```\n";
    snippets_of("z.md", bad, &mut errors);
    assert_eq!(errors.len(), 1, "{errors:?}");
}

/// The docs take their kinds from the registry: every kind the loader
/// knows has its section (a heading naming `kind = "<kind>"`) on a page.
#[test]
fn every_registered_kind_has_its_reference_section() {
    let headings: Vec<String> = markdown_files()
        .iter()
        .flat_map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .filter(|l| l.starts_with('#'))
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect();
    let missing: Vec<&str> = scalesim::scenario::KINDS
        .iter()
        .copied()
        .filter(|k| {
            let tag = format!("kind = \"{k}\"");
            !headings.iter().any(|h| h.contains(&tag))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "kinds with no section in docs/: {missing:?}"
    );
}
