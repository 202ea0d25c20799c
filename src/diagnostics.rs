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
        write!(f, "{}", self.message)?;
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
        let before = &self.text[..at];
        let line = before.matches('\n').count() + 1;
        let start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        (line, before[start..].chars().count() + 1)
    }

    /// The line holding `span` with carets under the span.
    pub fn snippet(&self, span: &Range<usize>) -> String {
        let (line, col) = self.line_col(span.start);
        let text = self.text.lines().nth(line - 1).unwrap_or("");
        let width = self.text[span.start.min(self.text.len())..span.end.min(self.text.len())]
            .lines()
            .next()
            .map(|l| l.chars().count())
            .unwrap_or(1)
            .max(1);
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
                for v in a.iter() {
                    if let Some(it) = v.as_inline_table() {
                        walk(it, at, &path, best);
                    }
                }
            }
        }
    }
    let mut best = None;
    walk(doc.as_table(), at, "", &mut best);
    best.map(|(_, p)| p)
}

/// Adds "did you mean `x`?" to serde's "unknown field `y`, expected one of
/// ..." and "unknown variant" messages when a candidate is close.
pub fn suggest(message: &str) -> String {
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
