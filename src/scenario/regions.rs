//! Regional copies, made on the parsed document before it is read into
//! types: a component with `regions = ["us-east-1", "eu-west-1"]` becomes
//! `[components."api@us-east-1"]` and `[components."api@eu-west-1"]`, each
//! its table with that region's `per_region` entry merged over it, and so
//! does its `[autoscaler.api]`. `region = "us-east-1"` places a component
//! without copying it. Every kind is copied the same way and none knows
//! about regions; [`scalesim_models::regions::place`] then wires the calls.
//!
//! A message about a copy names what was written: a field of
//! `api@us-east-1` is `per_region.us-east-1.<field>` if that entry set it,
//! else the field of `api` ([`Copies::written`]).

use scalesim_models::regions::Regions;
use std::collections::BTreeMap;
use toml_edit::{DocumentMut, ImDocument, Item, TableLike};

/// The copies made, and where everything runs.
#[derive(Clone, Debug, Default)]
pub(crate) struct Copies {
    /// Copy name -> (written name, region).
    of: BTreeMap<String, (String, String)>,
    /// Placements and copies (the declared regions are read later).
    pub placed: Regions,
}

/// The sections whose entries are copied per region.
const SECTIONS: [&str; 2] = ["components", "autoscaler"];

impl Copies {
    /// Whether nothing was placed.
    pub fn is_empty(&self) -> bool {
        self.placed.placement.is_empty()
    }

    /// The path as written of `path` (a dotted path of the expanded
    /// document), looked up in `doc`, the document as written.
    pub fn written(&self, doc: &ImDocument<&str>, path: &str) -> String {
        for sec in SECTIONS {
            let Some(rest) = path.strip_prefix(sec).and_then(|r| r.strip_prefix('.')) else {
                continue;
            };
            let (comp, tail) = rest.split_once('.').unwrap_or((rest, ""));
            let Some((w, r)) = self.of.get(comp) else {
                continue;
            };
            if tail.is_empty() {
                return format!("{sec}.{w}");
            }
            // The override's own field, if it gave the first key.
            let first = tail.split('.').next().unwrap_or(tail);
            let set_there = doc
                .get(sec)
                .and_then(|t| t.get(w))
                .and_then(|t| t.get("per_region"))
                .and_then(|t| t.get(r))
                .and_then(|t| t.as_table_like())
                .is_some_and(|t| t.contains_key(first));
            return if set_there {
                format!("{sec}.{w}.per_region.{r}.{tail}")
            } else {
                format!("{sec}.{w}.{tail}")
            };
        }
        path.to_string()
    }

    /// `--set components.api@us-east-1.instances=12` edits what is
    /// written: `components.api.per_region.us-east-1.instances` when `api`
    /// runs in us-east-1 and no table `api@us-east-1` is written.
    pub fn override_path(doc: &DocumentMut, parts: &[&str]) -> Option<Vec<String>> {
        let (&sec, rest) = parts.split_first()?;
        if !SECTIONS.contains(&sec) || rest.len() < 2 {
            return None;
        }
        let table = doc.get(sec)?.as_table_like()?;
        if table.contains_key(rest[0]) {
            return None;
        }
        let (w, r) = rest[0].rsplit_once('@')?;
        let listed = |t: &dyn TableLike| {
            t.get("regions")
                .and_then(Item::as_array)
                .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(r)))
        };
        let comp = doc
            .get("components")?
            .as_table_like()?
            .get(w)?
            .as_table_like()?;
        if !listed(comp) {
            return None;
        }
        let mut out = vec![
            sec.to_string(),
            w.to_string(),
            "per_region".into(),
            r.into(),
        ];
        out.extend(rest[1..].iter().map(|s| s.to_string()));
        Some(out)
    }
}

/// Makes the regional copies in `doc`; `Err` holds (path, message) of
/// what cannot be read.
pub(crate) fn expand(doc: &mut DocumentMut) -> Result<Copies, Vec<(String, String)>> {
    let mut copies = Copies::default();
    let mut errors = Vec::new();
    let Some(comps) = doc.get("components").and_then(Item::as_table_like) else {
        return Ok(copies);
    };
    let names: Vec<String> = comps.iter().map(|(k, _)| k.to_string()).collect();
    // Component -> its regions (copies only).
    let mut plan: Vec<(String, Vec<String>)> = Vec::new();
    for name in names {
        let Some(t) = doc["components"][&name].as_table_like_mut() else {
            continue;
        };
        let at = |f: &str| format!("components.{name}.{f}");
        let one = t.remove("region");
        let many = t.remove("regions");
        let per = t.get("per_region").is_some();
        match (one, many) {
            (Some(_), Some(_)) => errors.push((
                at("region"),
                "give region = \"us-east-1\" (it runs in one region) or regions = [...] (a copy in each), not both".into(),
            )),
            (Some(r), None) => match r.as_str() {
                Some(r) => {
                    copies.placed.placement.insert(name.clone(), r.to_string());
                }
                None => errors.push((
                    at("region"),
                    "expected a region's name, such as region = \"us-east-1\"".into(),
                )),
            },
            (None, Some(rs)) => {
                let list: Option<Vec<String>> = rs
                    .as_array()
                    .map(|a| a.iter().map(|v| v.as_str().map(str::to_string)).collect())
                    .unwrap_or(None);
                match list {
                    Some(l) if !l.is_empty() => {
                        let mut sorted = l.clone();
                        sorted.sort();
                        sorted.dedup();
                        if sorted.len() < l.len() {
                            errors.push((at("regions"), "a region is listed twice".into()));
                        } else {
                            plan.push((name.clone(), l));
                        }
                    }
                    _ => errors.push((
                        at("regions"),
                        "expected a list of region names, such as regions = [\"us-east-1\", \"eu-west-1\"]".into(),
                    )),
                }
            }
            (None, None) if per => errors.push((
                at("per_region"),
                "per_region overrides the copies of a component that runs in several regions: give it regions = [...]".into(),
            )),
            (None, None) => {}
        }
    }
    for (name, regions) in &plan {
        for sec in SECTIONS {
            if let Err(e) = copy(doc, sec, name, regions, &mut copies) {
                errors.push(e);
            }
        }
        copies.placed.copies.insert(name.clone(), regions.clone());
    }
    if errors.is_empty() {
        Ok(copies)
    } else {
        Err(errors)
    }
}

/// Replaces `[<sec>.<name>]` by one copy per region (nothing when the
/// section has no such entry).
fn copy(
    doc: &mut DocumentMut,
    sec: &str,
    name: &str,
    regions: &[String],
    copies: &mut Copies,
) -> Result<(), (String, String)> {
    let Some(table) = doc.get_mut(sec).and_then(Item::as_table_like_mut) else {
        return Ok(());
    };
    let Some(mut item) = table.remove(name) else {
        return Ok(());
    };
    if let Some(t) = item.as_inline_table().cloned() {
        item = Item::Table(t.into_table());
    }
    let Some(t) = item.as_table_like_mut() else {
        return Ok(());
    };
    t.remove("regions");
    let per = t.remove("per_region");
    if let Some(per) = &per {
        let Some(p) = per.as_table_like() else {
            return Err((
                format!("{sec}.{name}.per_region"),
                "expected a table of regions, such as per_region = { \"us-east-1\" = { instances = 10 } }".into(),
            ));
        };
        for (r, v) in p.iter() {
            if !regions.iter().any(|x| x == r) {
                return Err((
                    format!("{sec}.{name}.per_region.{r}"),
                    format!(
                        "{r:?} is not one of the regions it runs in ({}); add it to regions = [...]",
                        regions.join(", ")
                    ),
                ));
            }
            if !v.is_table_like() {
                return Err((
                    format!("{sec}.{name}.per_region.{r}"),
                    "expected the fields that differ there, such as { instances = 10 }".into(),
                ));
            }
        }
    }
    for r in regions {
        let mut c = item.clone();
        if let (Some(dst), Some(src)) = (
            c.as_table_like_mut(),
            per.as_ref()
                .and_then(|p| p.as_table_like())
                .and_then(|p| p.get(r))
                .and_then(Item::as_table_like),
        ) {
            merge(dst, src);
        }
        let copy = format!("{name}@{r}");
        if sec == "components" {
            copies.placed.placement.insert(copy.clone(), r.clone());
        }
        copies
            .of
            .insert(copy.clone(), (name.to_string(), r.clone()));
        if let Some(t) = doc.get_mut(sec).and_then(Item::as_table_like_mut) {
            t.insert(&copy, c);
        }
    }
    Ok(())
}

/// `src`'s fields over `dst`'s: tables merge, other values replace.
fn merge(dst: &mut dyn TableLike, src: &dyn TableLike) {
    for (k, v) in src.iter() {
        match (
            dst.get_mut(k).and_then(Item::as_table_like_mut),
            v.as_table_like(),
        ) {
            (Some(d), Some(s)) => merge(d, s),
            _ => {
                let v = match v {
                    Item::Table(t) if dst.get(k).is_some_and(Item::is_value) => {
                        Item::Value(toml_edit::Value::InlineTable(t.clone().into_inline_table()))
                    }
                    v => v.clone(),
                };
                dst.insert(k, v);
            }
        }
    }
}
