//! Tagged tables: entries whose type is picked by a field (`kind` of a
//! component, `policy` of an autoscaler and of each member of a combined
//! policy). A first pass reads only the tags ([`with_tags`]); the second
//! deserializes each entry straight into its own type, so type errors and
//! unknown fields keep their exact position (serde's tagged enums would
//! lose it).

use scalesim_models::policy::aws::{SimpleConfig, StepConfig, TargetConfig};
use scalesim_models::policy::combined::CombinedConfig;
use scalesim_models::policy::hpa::HpaConfig;
use scalesim_models::policy::predictive::PredictiveConfig;
use scalesim_models::policy::schedule::{ManualConfig, ScheduledConfig, StaticConfig};
use scalesim_models::policy::vpa::VpaConfig;
use scalesim_models::policy::{PolicyConfig, POLICIES};
use scalesim_models::ComponentConfig;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

/// The component kinds this version knows (the models' registry).
use scalesim_models::kinds::KINDS;

/// Entries of a table whose type is picked by a tag field (`kind` of a
/// component, `policy` of an autoscaler), in file order. The tags come from
/// a first pass (see the module doc), so each entry is deserialized straight
/// into its own type and keeps exact error positions.
#[derive(Clone, Debug)]
pub struct TaggedList<T>(pub Vec<(String, T)>);

impl<T> Default for TaggedList<T> {
    fn default() -> Self {
        TaggedList(Vec::new())
    }
}

/// Components in file order.
pub type Components = TaggedList<ComponentConfig>;
/// Autoscalers in file order, keyed by pool name.
pub type Autoscalers = TaggedList<PolicyConfig>;

/// A type chosen by a tag field.
pub trait Tagged: Sized {
    /// The table holding entries (`components`, `autoscaler`).
    const SECTION: &'static str;
    /// The tag field (`kind`, `policy`).
    const TAG: &'static str;
    /// Deserializes the entry of type `tag`.
    fn from_tag<'de, D: Deserializer<'de>>(tag: &str, d: D) -> Result<Self, D::Error>;
}

impl Tagged for ComponentConfig {
    const SECTION: &'static str = "components";
    const TAG: &'static str = "kind";
    fn from_tag<'de, D: Deserializer<'de>>(tag: &str, d: D) -> Result<Self, D::Error> {
        ComponentConfig::deserialize_kind(tag, d)
    }
}

impl Tagged for PolicyConfig {
    const SECTION: &'static str = "autoscaler";
    const TAG: &'static str = "policy";
    fn from_tag<'de, D: Deserializer<'de>>(tag: &str, d: D) -> Result<Self, D::Error> {
        match tag {
            "static" => StaticConfig::deserialize(d).map(PolicyConfig::Static),
            "scheduled" => ScheduledConfig::deserialize(d).map(PolicyConfig::Scheduled),
            "hpa" => HpaConfig::deserialize(d).map(PolicyConfig::Hpa),
            "simple" => SimpleConfig::deserialize(d).map(PolicyConfig::Simple),
            "step" => StepConfig::deserialize(d).map(PolicyConfig::Step),
            "target" => TargetConfig::deserialize(d).map(PolicyConfig::Target),
            "predictive" => PredictiveConfig::deserialize(d).map(PolicyConfig::Predictive),
            "manual" => ManualConfig::deserialize(d).map(PolicyConfig::Manual),
            "vpa" => VpaConfig::deserialize(d).map(PolicyConfig::Vpa),
            "combined" => CombinedTable::deserialize(d).map(|c| {
                PolicyConfig::Combined(CombinedConfig {
                    policies: c.policies.0,
                })
            }),
            "hpa-manifest" => ManifestRef::deserialize(d)
                .map(|m| PolicyConfig::HpaManifest(m.manifest, m.metric_names)),
            other => Err(de::Error::unknown_variant(other, POLICIES)),
        }
    }
}

thread_local! {
    /// (section, entry name) -> tag, from the first pass; a combined
    /// policy's members are entries `<pool>.policies.<i>`.
    static TAGS: RefCell<BTreeMap<(String, String), String>> = const { RefCell::new(BTreeMap::new()) };
    /// The entry being deserialized (for its members' tags).
    static CURRENT: RefCell<String> = const { RefCell::new(String::new()) };
}

/// `policy = "combined"`: its members, each deserialized by its own tag.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CombinedTable {
    #[serde(default, rename = "policy")]
    _policy: Option<String>,
    policies: Members,
}

struct Members(Vec<PolicyConfig>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("[[autoscaler.<pool>.policies]] tables, each with its own policy")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Members, A::Error> {
                let owner = CURRENT.with(|c| c.borrow().clone());
                let mut out = Vec::new();
                loop {
                    let key = (
                        "autoscaler".to_string(),
                        format!("{owner}.policies.{}", out.len()),
                    );
                    let Some(tag) = TAGS.with(|k| k.borrow().get(&key).cloned()) else {
                        return match seq.next_element::<de::IgnoredAny>()? {
                            Some(_) => Err(de::Error::missing_field("policy")),
                            None => Ok(Members(out)),
                        };
                    };
                    match seq.next_element_seed(TagSeed::<PolicyConfig>(tag, PhantomData))? {
                        Some(p) => out.push(p),
                        None => return Ok(Members(out)),
                    }
                }
            }
        }
        d.deserialize_seq(V)
    }
}

struct TagSeed<T>(String, PhantomData<T>);

impl<'de, T: Tagged> DeserializeSeed<'de> for TagSeed<T> {
    type Value = T;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        T::from_tag(&self.0, d)
    }
}

impl<'de, T: Tagged> Deserialize<'de> for TaggedList<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Tagged> Visitor<'de> for V<T> {
            type Value = TaggedList<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a table of [{}.<name>] entries", T::SECTION)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TaggedList<T>, A::Error> {
                let mut out = Vec::new();
                while let Some(name) = map.next_key::<String>()? {
                    let key = (T::SECTION.to_string(), name.clone());
                    let tag = TAGS.with(|k| k.borrow().get(&key).cloned());
                    let tag = tag.ok_or_else(|| de::Error::missing_field(T::TAG))?;
                    CURRENT.with(|c| *c.borrow_mut() = name.clone());
                    out.push((name, map.next_value_seed(TagSeed::<T>(tag, PhantomData))?));
                }
                Ok(TaggedList(out))
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

/// Deserializes a table of named entries into a vector in file order.
pub(crate) fn ordered<'de, D, T>(d: D) -> Result<Vec<(String, T)>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct V<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = Vec<(String, T)>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a table of named entries")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some((k, v)) = map.next_entry::<String, T>()? {
                out.push((k, v));
            }
            Ok(out)
        }
    }
    d.deserialize_map(V(PhantomData))
}

/// First pass: only each component's kind.
#[derive(Deserialize)]
struct KindsPass {
    #[serde(default)]
    components: BTreeMap<String, KindOnly>,
    #[serde(default)]
    autoscaler: BTreeMap<String, PolicyOnly>,
}

#[derive(Deserialize)]
pub(super) struct PolicyOnly {
    policy: PolicyName,
    #[serde(default)]
    manifest: Option<toml::Value>,
    /// A combined policy's members.
    #[serde(default)]
    policies: Vec<PolicyOnly>,
}

impl PolicyOnly {
    /// Records the tags of autoscaler `name` (and of its members).
    fn record(&self, name: &str, k: &mut BTreeMap<(String, String), String>) {
        let tag = match (&self.policy, &self.manifest) {
            (PolicyName::Hpa, Some(_)) => "hpa-manifest",
            (p, _) => p.as_str(),
        };
        k.insert(("autoscaler".into(), name.to_string()), tag.into());
        for (i, m) in self.policies.iter().enumerate() {
            m.record(&format!("{name}.policies.{i}"), k);
        }
    }
}

/// Runs `parse` (the second pass over `text`) with the tags of `text`'s
/// entries known; `only` reads a lone policy table (`replay-policy`'s
/// file) instead of a scenario.
pub(super) fn with_tags<R>(
    text: &str,
    only: bool,
    parse: impl FnOnce() -> R,
) -> Result<R, toml::de::Error> {
    let mut tags = BTreeMap::new();
    if only {
        toml::from_str::<PolicyOnly>(text)?.record("", &mut tags);
    } else {
        let kinds: KindsPass = toml::from_str(text)?;
        for (n, c) in &kinds.components {
            tags.insert(("components".into(), n.clone()), c.kind.as_str().into());
        }
        for (n, a) in &kinds.autoscaler {
            a.record(n, &mut tags);
        }
    }
    TAGS.with(|k| *k.borrow_mut() = tags);
    CURRENT.with(|c| c.borrow_mut().clear());
    let out = parse();
    TAGS.with(|k| k.borrow_mut().clear());
    Ok(out)
}

/// `policy = "hpa"` given as a Kubernetes manifest file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestRef {
    #[serde(default, rename = "policy")]
    _policy: Option<String>,
    /// HorizontalPodAutoscaler YAML, relative to the scenario file.
    manifest: String,
    /// The scalesim metric each of the manifest's metric names stands for:
    /// `{ http_requests_per_second = "rps" }`.
    #[serde(default)]
    metric_names: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum PolicyName {
    Static,
    Scheduled,
    Hpa,
    Simple,
    Step,
    Target,
    Predictive,
    Manual,
    Combined,
    Vpa,
}

impl PolicyName {
    fn as_str(&self) -> &'static str {
        match self {
            PolicyName::Static => "static",
            PolicyName::Scheduled => "scheduled",
            PolicyName::Hpa => "hpa",
            PolicyName::Simple => "simple",
            PolicyName::Step => "step",
            PolicyName::Target => "target",
            PolicyName::Predictive => "predictive",
            PolicyName::Manual => "manual",
            PolicyName::Combined => "combined",
            PolicyName::Vpa => "vpa",
        }
    }
}

#[derive(Deserialize)]
struct KindOnly {
    kind: KindName,
}

/// A `kind` string, checked against the registry ([`KINDS`]).
struct KindName(&'static str);

impl<'de> Deserialize<'de> for KindName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        KINDS
            .iter()
            .find(|k| **k == s)
            .map(|k| KindName(k))
            .ok_or_else(|| de::Error::unknown_variant(&s, KINDS))
    }
}

impl KindName {
    fn as_str(&self) -> &'static str {
        self.0
    }
}
