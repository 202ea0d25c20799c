//! The assumptions of a run, for the reviewer of `report.html`: the
//! scenario as it ran (after `--set`), table by table — the run, each
//! traffic source with its patterns, each component with its laws and
//! instance type (and the price it was billed at), each autoscaling
//! policy, the cost settings — then what is priced, what is not, and what
//! scalesim does not model at all. Rendered from the scenario text, so
//! every field a user wrote is shown the way they wrote it.

use crate::scenario::Loaded;
use std::fmt::Write as _;

/// One table of the scenario: its heading and its fields as written.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// `traffic.users`, `components.api`, ...
    pub name: String,
    /// `(key, value as TOML)`, in the file's order.
    pub fields: Vec<(String, String)>,
}

/// What a run assumed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Assumptions {
    /// Groups of tables: ("Run", ...), ("Traffic", ...), ("Components", ...),
    /// ("Autoscaling", ...), ("Cost", ...).
    pub groups: Vec<(&'static str, Vec<Table>)>,
    /// Price per instance-hour each priced component was billed at.
    pub prices: Vec<(String, f64)>,
}

/// What scalesim leaves out of every run (the failure and resilience
/// issue adds them): a reviewer should know the run assumed them away.
pub const NOT_MODELLED: &[&str] = &[
    "instance, zone and spot failures: every instance stays up",
    "client timeouts and retries, rate limits: a request waits as long as it takes",
    "network round trips between components, unless written as a component",
];

/// Longest value shown; longer ones are cut (a 10,000-entry trace list).
const MAX_VALUE: usize = 400;

impl Assumptions {
    /// The assumptions of `loaded` (its text after overrides).
    pub fn of(loaded: &Loaded) -> Assumptions {
        let Ok(doc) = loaded.text.parse::<toml::Table>() else {
            return Assumptions::default();
        };
        let mut run = Table {
            name: "run".into(),
            fields: Vec::new(),
        };
        let mut groups: Vec<(&'static str, Vec<Table>)> = Vec::new();
        for (key, v) in &doc {
            match (key.as_str(), v) {
                ("traffic", toml::Value::Table(t)) => groups.push(("Traffic", tables(key, t))),
                ("components", toml::Value::Table(t)) => {
                    groups.push(("Components", tables(key, t)))
                }
                ("autoscaler", toml::Value::Table(t)) => {
                    groups.push(("Autoscaling", tables(key, t)))
                }
                ("cost", toml::Value::Table(t)) => groups.push(("Cost", vec![table(key, t)])),
                // The SLO has its own table in the report; studies do not
                // change what one run modelled.
                ("slo" | "sweep" | "capacity" | "variants", _) => {}
                (_, toml::Value::Table(t)) => groups.push(("Other", vec![table(key, t)])),
                _ => run.fields.push((key.clone(), inline(v))),
            }
        }
        groups.insert(0, ("Run", vec![run]));
        let system = loaded.system_config(0).expanded();
        let prices = system
            .components
            .iter()
            .filter_map(|(name, c)| {
                let h = c.pricing().hourly(&system.cost).ok().flatten()?;
                (c.instances() > 0).then(|| (name.clone(), h))
            })
            .collect();
        Assumptions { groups, prices }
    }

    /// The section as HTML (no outer heading level above `h2`).
    pub fn html(&self, o: &mut String, priced: &[String], not_priced: &[String]) {
        if self.groups.is_empty() {
            return;
        }
        o.push_str("<h2 id=\"assumptions\">Assumptions</h2>\n");
        o.push_str(
            "<p class=\"meta\">The scenario as it ran, after <code>--set</code>: every field as written.</p>\n",
        );
        for (group, tables) in &self.groups {
            let _ = writeln!(o, "<h3>{}</h3>", esc(group));
            o.push_str("<div class=\"scroll\"><table class=\"assume\">\n");
            for t in tables {
                let _ = write!(o, "<tr><th>{}</th><td>", esc(&t.name));
                let fields: Vec<String> = t
                    .fields
                    .iter()
                    .map(|(k, v)| format!("<code>{} = {}</code>", esc(k), esc(v)))
                    .collect();
                o.push_str(&fields.join("<br>"));
                if let Some((_, h)) = self
                    .prices
                    .iter()
                    .find(|(n, _)| t.name.strip_prefix("components.") == Some(n.as_str()))
                {
                    let _ = write!(o, "<br><em>billed at ${h:.4} per instance-hour</em>");
                }
                o.push_str("</td></tr>\n");
            }
            o.push_str("</table></div>\n");
        }
        o.push_str("<h3>Priced, not priced, not modelled</h3>\n<ul class=\"meta\">\n");
        let list = |o: &mut String, head: &str, items: &[String]| {
            if !items.is_empty() {
                let _ = writeln!(
                    o,
                    "<li><strong>{head}:</strong> {}</li>",
                    items.iter().map(|s| esc(s)).collect::<Vec<_>>().join("; ")
                );
            }
        };
        list(o, "Priced", priced);
        list(o, "Not priced", not_priced);
        let not_modelled: Vec<String> = NOT_MODELLED.iter().map(|s| s.to_string()).collect();
        list(o, "Not modelled", &not_modelled);
        o.push_str("</ul>\n");
    }
}

/// `[<prefix>.<name>]` sub-tables, one per entry.
fn tables(prefix: &str, t: &toml::Table) -> Vec<Table> {
    t.iter()
        .map(|(name, v)| match v {
            toml::Value::Table(inner) => table(&format!("{prefix}.{name}"), inner),
            other => Table {
                name: format!("{prefix}.{name}"),
                fields: vec![(String::new(), inline(other))],
            },
        })
        .collect()
}

fn table(name: &str, t: &toml::Table) -> Table {
    Table {
        name: name.to_string(),
        fields: t.iter().map(|(k, v)| (k.clone(), inline(v))).collect(),
    }
}

/// A value as inline TOML, cut to [`MAX_VALUE`] characters.
fn inline(v: &toml::Value) -> String {
    let mut s = String::new();
    write_inline(&mut s, v);
    if s.chars().count() > MAX_VALUE {
        let cut: String = s.chars().take(MAX_VALUE).collect();
        return format!("{cut} …");
    }
    s
}

fn write_inline(o: &mut String, v: &toml::Value) {
    match v {
        toml::Value::String(s) => {
            let _ = write!(o, "{s:?}");
        }
        toml::Value::Array(a) => {
            o.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    o.push_str(", ");
                }
                write_inline(o, x);
                if o.len() > MAX_VALUE * 4 {
                    o.push_str(", …");
                    break;
                }
            }
            o.push(']');
        }
        toml::Value::Table(t) => {
            o.push_str("{ ");
            for (i, (k, x)) in t.iter().enumerate() {
                if i > 0 {
                    o.push_str(", ");
                }
                let _ = write!(o, "{k} = ");
                write_inline(o, x);
            }
            o.push_str(" }");
        }
        other => {
            let _ = write!(o, "{other}");
        }
    }
}

fn esc(s: &str) -> String {
    super::report::esc(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_toml_and_long_ones_are_cut() {
        let t: toml::Table = r#"
a = { dist = "exp", mean = "20ms" }
b = [1, 2.5, "x"]
c = true
"#
        .parse()
        .unwrap();
        assert_eq!(inline(&t["a"]), r#"{ dist = "exp", mean = "20ms" }"#);
        assert_eq!(inline(&t["b"]), r#"[1, 2.5, "x"]"#);
        assert_eq!(inline(&t["c"]), "true");
        let long = toml::Value::Array((0..10_000).map(toml::Value::Integer).collect());
        let s = inline(&long);
        assert!(
            s.ends_with(" …") && s.chars().count() <= MAX_VALUE + 2,
            "{s}"
        );
    }
}
