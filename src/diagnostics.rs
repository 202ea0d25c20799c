//! Error messages for scenario files: file, line and column, the field's
//! dotted path, what was expected, the offending line with a caret under
//! it, and a "did you mean" for misspelt names.

use std::fmt;
use std::ops::Range;
use toml_edit::{ImDocument, Item, TableLike};

/// A value quoted in a message, cut to its first 80 characters (a 5 MB
/// cell is not echoed whole).
pub fn echo(s: &str) -> String {
    const MAX: usize = 80;
    match s.char_indices().nth(MAX) {
        None => format!("{s:?}"),
        Some((i, _)) => format!("{:?}… ({} bytes)", &s[..i], s.len()),
    }
}

/// A message cut to about 1000 characters: its start and its end (what
/// was expected), with how much was left out (a parser may quote a whole
/// 5 MB value).
pub fn shorten(m: &str) -> std::borrow::Cow<'_, str> {
    const HEAD: usize = 600;
    const TAIL: usize = 200;
    let n = m.chars().count();
    if n <= HEAD + TAIL + 200 {
        return m.into();
    }
    let head: String = m.chars().take(HEAD).collect();
    let tail: String = m.chars().skip(n - TAIL).collect();
    format!("{head}… ({} characters cut) …{tail}", n - HEAD - TAIL).into()
}

/// One problem found in a scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The scenario file.
    pub file: String,
    /// 1-based line and column, when the problem has a place in the file.
    pub line_col: Option<(usize, usize)>,
    /// Dotted path of the field, e.g. `components.api.instances`.
    pub field: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
    /// The offending line and a caret line under it.
    pub snippet: Option<String>,
    /// The `--set` override that produced the value, if one did.
    pub from_override: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.file)?;
        if let Some((l, c)) = self.line_col {
            write!(f, ":{l}:{c}")?;
        }
        write!(f, ": ")?;
        if let Some(field) = &self.field {
            write!(f, "`{field}`: ")?;
        }
        write!(f, "{}", shorten(&self.message))?;
        if let Some(o) = &self.from_override {
            write!(f, " (value given by --set {o})")?;
        }
        if let Some(s) = &self.snippet {
            write!(f, "\n{s}")?;
        }
        Ok(())
    }
}

/// Several diagnostics, printed one after the other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// A scenario text with what is needed to point into it.
pub struct Source<'a> {
    /// File name shown in messages.
    pub file: &'a str,
    /// The text (after `--set` overrides).
    pub text: &'a str,
    /// `(dotted path, PATH=VALUE)` of each override applied.
    pub overrides: &'a [(String, String)],
}

impl Source<'_> {
    /// 1-based (line, column) of byte offset `at`.
    pub fn line_col(&self, at: usize) -> (usize, usize) {
        let at = at.min(self.text.len());
        let at = (0..=at)
            .rev()
            .find(|&i| self.text.is_char_boundary(i))
            .unwrap_or(0);
        let before = &self.text[..at];
        let line = before.matches('\n').count() + 1;
        let start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        (line, before[start..].chars().count() + 1)
    }

    /// The line holding `span` with carets under the span; a long line is
    /// cut to about 80 characters around the caret (`…` where cut), and
    /// control characters are shown as `�`.
    pub fn snippet(&self, span: &Range<usize>) -> String {
        const WIDTH: usize = 80;
        let (line, col) = self.line_col(span.start);
        let full = self.text.lines().nth(line - 1).unwrap_or("");
        let chars: Vec<char> = full
            .chars()
            .map(|c| {
                if c.is_control() && c != '\t' {
                    '\u{fffd}'
                } else {
                    c
                }
            })
            .collect();
        let width = self
            .text
            .get(span.start.min(self.text.len())..span.end.min(self.text.len()))
            .and_then(|t| t.lines().next())
            .map(|l| l.chars().count())
            .unwrap_or(1)
            .clamp(1, WIDTH / 2);
        let from = (col - 1).saturating_sub(WIDTH / 2).min(chars.len());
        let to = (from + WIDTH).min(chars.len());
        let mut text: String = chars[from..to].iter().collect();
        let mut col = col - from;
        if from > 0 {
            text.insert(0, '…');
            col += 1;
        }
        if to < chars.len() {
            text.push('…');
        }
        let gutter = line.to_string().len();
        format!(
            "{:gutter$} |\n{line} | {text}\n{:gutter$} | {}{}",
            "",
            "",
            " ".repeat(col - 1),
            "^".repeat(width)
        )
    }

    /// A diagnostic at `span` (if any) about `field` (if known).
    pub fn diagnostic(
        &self,
        span: Option<Range<usize>>,
        field: Option<String>,
        message: String,
    ) -> Diagnostic {
        let from_override = field.as_ref().and_then(|f| {
            self.overrides
                .iter()
                .find(|(p, _)| f == p || f.starts_with(&format!("{p}.")))
                .map(|(_, o)| o.clone())
        });
        Diagnostic {
            file: self.file.to_string(),
            line_col: span.as_ref().map(|s| self.line_col(s.start)),
            field,
            message,
            snippet: span.as_ref().map(|s| self.snippet(s)),
            from_override,
        }
    }
}

/// Finds the span of the key at a dotted path (or of the nearest existing
/// table above it).
pub fn locate(doc: &ImDocument<&str>, path: &str) -> Option<Range<usize>> {
    let mut table: &dyn TableLike = doc.as_table();
    let mut best = None;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let Some((key, item)) = table.get_key_value(part) else {
            break;
        };
        best = key.span().or_else(|| item.span()).or(best);
        if i + 1 == parts.len() {
            break;
        }
        match item.as_table_like() {
            Some(t) => table = t,
            None => break,
        }
    }
    best
}

/// The dotted path of the innermost key whose key or value span holds `at`.
pub fn path_at(doc: &ImDocument<&str>, at: usize) -> Option<String> {
    fn walk(t: &dyn TableLike, at: usize, prefix: &str, best: &mut Option<(usize, String)>) {
        for (k, item) in t.iter() {
            let path = if prefix.is_empty() {
                k.to_string()
            } else {
                format!("{prefix}.{k}")
            };
            let key_span = t.get_key_value(k).and_then(|(key, _)| key.span());
            let spans = [key_span, item.span()];
            for s in spans.iter().flatten() {
                if s.contains(&at) || s.start == at {
                    let width = s.end - s.start;
                    if best.as_ref().is_none_or(|(w, _)| width <= *w) {
                        *best = Some((width, path.clone()));
                    }
                }
            }
            if let Some(sub) = item.as_table_like() {
                walk(sub, at, &path, best);
            } else if let Item::Value(toml_edit::Value::Array(a)) = item {
                for (i, v) in a.iter().enumerate() {
                    if let Some(it) = v.as_inline_table() {
                        walk(it, at, &format!("{path}[{i}]"), best);
                    }
                }
            } else if let Item::ArrayOfTables(a) = item {
                for (i, t) in a.iter().enumerate() {
                    walk(t, at, &format!("{path}[{i}]"), best);
                }
            }
        }
    }
    let mut best = None;
    walk(doc.as_table(), at, "", &mut best);
    best.map(|(_, p)| p)
}

/// The dotted path of the key being written at byte `at`, read from the
/// raw text (for syntax errors, when the document does not parse): the
/// last `[table]` header above, then the keys of the inline tables open on
/// the line before `at`, then the key of the value there.
pub fn path_in_text(text: &str, at: usize) -> Option<String> {
    let at = at.min(text.len());
    let at = (0..=at).rev().find(|&i| text.is_char_boundary(i))?;
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let key = |k: &str| -> String {
        k.split('.')
            .map(|p| p.trim().trim_matches('"').trim_matches('\''))
            .collect::<Vec<_>>()
            .join(".")
    };
    let mut parts: Vec<String> = Vec::new();
    if let Some(h) = text[..start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
    {
        let h = h.trim_start_matches('[');
        if let Some(end) = h.find(']') {
            parts.push(key(&h[..end]));
        }
    }
    // Keys of the inline tables open before `at` on its line, and the key
    // whose value holds `at`.
    let line = &text[start..at];
    let mut stack: Vec<String> = Vec::new();
    let mut pending: Option<String> = None;
    let mut last_key_start = 0;
    let mut in_str = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_str = !in_str,
            _ if in_str => {}
            '=' => {
                let k = key(&line[last_key_start..i]);
                if !k.is_empty() && !k.contains(['[', ']', '{', '}', ',']) {
                    pending = Some(k);
                }
            }
            '{' => {
                stack.push(pending.take().unwrap_or_default());
                last_key_start = i + 1;
            }
            '}' => {
                stack.pop();
                pending = None;
                last_key_start = i + 1;
            }
            ',' => {
                pending = None;
                last_key_start = i + 1;
            }
            _ => {}
        }
    }
    parts.extend(stack.into_iter().filter(|k| !k.is_empty()));
    parts.extend(pending);
    if parts.len() > 8 {
        // A deeply nested value: its first keys say where it is.
        parts.truncate(8);
        parts.push("…".into());
    }
    let path = parts.join(".");
    (!path.is_empty()).then_some(path)
}

/// Serde's message in plain words ([`scalesim_models::plain`]), with "did
/// you mean `x`?" added to its "unknown field `y`, expected one of ..."
/// and "unknown variant" messages when a candidate is close.
pub fn suggest(message: &str) -> String {
    let message = &scalesim_models::plain::plain(message);
    let Some(rest) = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("unknown variant `"))
    else {
        return message.to_string();
    };
    let Some(end) = rest.find('`') else {
        return message.to_string();
    };
    let wrong = &rest[..end];
    let candidates: Vec<&str> = rest[end + 1..].split('`').skip(1).step_by(2).collect();
    let message = message.replacen("unknown variant", "unknown value", 1);
    let best = candidates
        .iter()
        .map(|c| (strsim::normalized_damerau_levenshtein(wrong, c), *c))
        .filter(|(score, c)| *score >= 0.5 || c.starts_with(wrong) || wrong.starts_with(c))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((_, c)) => format!("{message}; did you mean `{c}`?"),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_nearest_field() {
        let m =
            suggest("unknown field `instnces`, expected one of `kind`, `instances`, `concurrency`");
        assert!(m.ends_with("did you mean `instances`?"), "{m}");
        let m = suggest("unknown variant `lur`, expected one of `lru`, `fifo`, `lfu`, `random`");
        assert!(m.ends_with("did you mean `lru`?"), "{m}");
        let m = suggest("unknown field `zzzzzz`, expected `rate` or `to`");
        assert!(!m.contains("did you mean"), "{m}");
    }

    #[test]
    fn locates_keys_and_finds_paths() {
        let text = "name = \"x\"\n[components.api]\nkind = \"pool\"\ninstances = 0\nservice = { dist = \"exp\", mean = 1 }\n";
        let doc = ImDocument::parse(text).unwrap();
        let src = Source {
            file: "f.toml",
            text,
            overrides: &[],
        };
        let span = locate(&doc, "components.api.instances").unwrap();
        assert_eq!(src.line_col(span.start), (4, 1));
        // A field left at its default: the table that would hold it.
        let table = locate(&doc, "components.api.queue_capacity").unwrap();
        assert_eq!(src.line_col(table.start).0, 2);
        let at = text.find("mean").unwrap();
        assert_eq!(
            path_at(&doc, at).as_deref(),
            Some("components.api.service.mean")
        );
        let d = src.diagnostic(
            Some(span),
            Some("components.api.instances".into()),
            "bad".into(),
        );
        assert_eq!(d.line_col, Some((4, 1)));
        assert!(d.to_string().contains("4 | instances = 0"), "{d}");
    }
}
