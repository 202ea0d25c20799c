//! What a pool's request does, step by step: `steps = [{ cpu = law },
//! { call = "cache" }, { cpu = law }, { enqueue = "jobs", share = 0.1 }]`.
//! A CPU step computes (on a thread, or on a core it takes again when
//! `io = "async"`); a call step waits for the callee's answer; a step with
//! `share` is taken by that share of requests, one with `classes` only by
//! requests of those classes, one with `if = "miss"` (or `"hit"`) only
//! when the request's last cache lookup missed (or hit): cache-aside, where
//! the application reads the cache and, on a miss, the database itself.
//! `service` + `calls` is the short form: one CPU step, then each call.

use crate::dist::{Dist, DistConfig};
use crate::flow::CompId;
use serde::Deserialize;

/// One step as written.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StepConfig {
    /// Compute for a time of this law.
    #[serde(default)]
    pub cpu: Option<DistConfig>,
    /// Call this component and wait for its answer.
    #[serde(default)]
    pub call: Option<String>,
    /// Hand a job to this queue (a call to a `kind = "queue"`, answered
    /// once it is accepted).
    #[serde(default)]
    pub enqueue: Option<String>,
    /// Share of requests that take the step (drawn per request).
    #[serde(default)]
    pub share: Option<f64>,
    /// Only requests of these classes take it (`source` or
    /// `source.class`, or the class name alone).
    #[serde(default)]
    pub classes: Vec<String>,
    /// `"miss"`: taken only when the request's last cache lookup missed;
    /// `"hit"`: only when it hit.
    #[serde(default, rename = "if")]
    pub when: Option<String>,
}

impl StepConfig {
    /// The component it calls (a call or an enqueue).
    pub fn callee(&self) -> Option<&str> {
        self.call.as_deref().or(self.enqueue.as_deref())
    }

    /// Checks one step; `Err((field, message))` relative to the step.
    pub fn check(&self) -> Result<(), (String, String)> {
        let given = [
            self.cpu.is_some(),
            self.call.is_some(),
            self.enqueue.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err((
                String::new(),
                "a step is one of { cpu = law }, { call = \"component\" } or { enqueue = \"queue\" }".into(),
            ));
        }
        if let Some(c) = &self.cpu {
            c.check().map_err(|(f, m)| (format!("cpu.{f}"), m))?;
        }
        if let Some(w) = self
            .when
            .as_deref()
            .filter(|w| !matches!(*w, "miss" | "hit"))
        {
            return Err((
                "if".into(),
                format!("expected if = \"miss\" (taken after a cache miss: cache-aside) or if = \"hit\"; got {w:?}"),
            ));
        }
        if let Some(s) = self.share {
            if !(s > 0.0 && s <= 1.0) {
                return Err((
                    "share".into(),
                    format!(
                        "expected a share of requests above 0 and at most 1, such as 0.1; got {s}"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Whether class `name` (`source` or `source.class`) is one that `wanted`
/// names (in full, or by the part after the source).
pub fn class_matches(wanted: &str, name: &str) -> bool {
    wanted == name || name.split_once('.').is_some_and(|(_, c)| c == wanted)
}

/// A step as it runs.
pub(super) struct Step {
    pub(super) what: What,
    /// Share of requests that take it (None: all).
    pub(super) share: Option<f64>,
    /// Per global class index: whether its requests take it (empty: all).
    pub(super) classes: Vec<bool>,
    /// Some(true): only after a cache miss; Some(false): only after a hit.
    pub(super) after_miss: Option<bool>,
}

/// What a step does.
pub(super) enum What {
    Cpu(Dist),
    Call {
        to: CompId,
        /// Index of its connection pool (limited calls), if any.
        conns: Option<usize>,
    },
}

impl Step {
    /// The steps of a pool: `steps`, or `service` then each of `calls`.
    /// `conn` gives a callee's connection-pool index; `classes` every
    /// class name by global index.
    pub(super) fn program(
        service: Option<&DistConfig>,
        calls: &[String],
        steps: &[StepConfig],
        idx: &dyn Fn(&str) -> CompId,
        conn: &dyn Fn(&str) -> Option<usize>,
        classes: &[String],
    ) -> Vec<Step> {
        let step = |what: What, share: Option<f64>, only: &[String], when: Option<&str>| Step {
            what,
            share,
            after_miss: when.map(|w| w == "miss"),
            classes: if only.is_empty() {
                Vec::new()
            } else {
                classes
                    .iter()
                    .map(|n| only.iter().any(|w| class_matches(w, n)))
                    .collect()
            },
        };
        let call = |c: &str| What::Call {
            to: idx(c),
            conns: conn(c),
        };
        if steps.is_empty() {
            let mut p = vec![step(
                What::Cpu(service.expect("checked").sampler()),
                None,
                &[],
                None,
            )];
            p.extend(calls.iter().map(|c| step(call(c), None, &[], None)));
            return p;
        }
        steps
            .iter()
            .map(|s| {
                let what = match (&s.cpu, s.callee()) {
                    (Some(law), _) => What::Cpu(law.sampler()),
                    (None, Some(c)) => call(c),
                    (None, None) => unreachable!("checked"),
                };
                step(what, s.share, &s.classes, s.when.as_deref())
            })
            .collect()
    }

    /// Whether a request of class `class` whose last cache lookup
    /// `missed` takes it (`draw`: a uniform draw in [0, 1), taken only for
    /// steps with a share).
    #[inline]
    pub(super) fn taken(&self, class: u16, missed: bool, draw: impl FnOnce() -> f64) -> bool {
        (self.classes.is_empty() || self.classes.get(class as usize).copied().unwrap_or(false))
            && self.after_miss.is_none_or(|m| m == missed)
            && self.share.is_none_or(|s| draw() < s)
    }
}
