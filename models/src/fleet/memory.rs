//! What a pool's instances hold in memory, and what happens when it runs
//! out: a base footprint (the runtime, the code, caches warmed at start)
//! plus a share per request in flight (its buffers, its parsed body, its
//! promise chain), against a memory *request* (what a Kubernetes pod
//! asks for; the denominator of the `memory` metric, as the resource
//! metrics API computes a pod's memory utilization) and a *limit* (past
//! it the kernel's OOM killer ends the process: the instance fails, the
//! requests it holds are lost, and it restarts in place).
//!
//! A pod's working set is sampled, not averaged (cAdvisor reports it at
//! each scrape): the `memory` metric reads the usage at the evaluation.
//! The restart takes `restart` (default 10 s, the kubelet's first
//! CrashLoopBackOff delay; an ECS task or a systemd unit restarts in about
//! as long), doubled for each kill in a row up to 5 minutes
//! ([`crate::fleet::pool::Pool::restart_delay`]).

use crate::units::Duration;
use serde::de::{self, Deserializer};
use serde::Deserialize;

/// A size in memory, in bytes: `"512MiB"`, `"1.5GiB"`, `"512Mi"` (as in a
/// Kubernetes manifest), `"2GB"`.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Default)]
pub struct Bytes(pub f64);

impl Bytes {
    /// In MiB.
    pub fn mib(self) -> f64 {
        self.0 / (1u64 << 20) as f64
    }
}

/// Parses `"512MiB"`-style sizes into bytes.
pub fn parse_bytes(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let v: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size: write it as \"512MiB\" or \"2GiB\""))?;
    let k: f64 = match unit.trim() {
        "B" => 1.0,
        "KiB" | "Ki" => (1u64 << 10) as f64,
        "MiB" | "Mi" => (1u64 << 20) as f64,
        "GiB" | "Gi" => (1u64 << 30) as f64,
        "TiB" | "Ti" => (1u64 << 40) as f64,
        "kB" | "KB" | "k" => 1e3,
        "MB" | "M" => 1e6,
        "GB" | "G" => 1e9,
        "" => {
            return Err(format!(
                "{s:?} has no unit: write \"{v}MiB\" or \"{v}GiB\" (a bare number would be bytes)"
            ))
        }
        u => {
            return Err(format!(
                "unknown size unit {u:?} in {s:?}: use B, KiB, MiB, GiB (or Ki, Mi, Gi as in Kubernetes), kB, MB, GB"
            ))
        }
    };
    Ok(v * k)
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a size such as \"512MiB\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Bytes, E> {
                parse_bytes(v).map(Bytes).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Bytes, E> {
                Err(E::custom(format!(
                    "{v} has no unit: write \"{v}MiB\" or \"{v}GiB\""
                )))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Bytes, E> {
                Err(E::custom(format!(
                    "{v} has no unit: write \"{v}MiB\" or \"{v}GiB\""
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// `memory = { base = "300MiB", per_request = "2MiB", request = "512MiB",
/// limit = "1GiB" }` on a pool.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MemoryConfig {
    /// What an idle instance holds.
    pub base: Bytes,
    /// What each request in flight adds.
    #[serde(default)]
    pub per_request: Bytes,
    /// The memory request (the `memory` metric's 100 %). Default: the
    /// limit.
    #[serde(default)]
    pub request: Option<Bytes>,
    /// Past it the instance is killed. Default: the instance type's memory.
    #[serde(default)]
    pub limit: Option<Bytes>,
    /// How long a killed instance takes to restart.
    #[serde(default)]
    pub restart: Option<Duration>,
}

/// Default time to restart after an OOM kill.
pub const DEFAULT_RESTART_S: f64 = 10.0;

/// A pool's memory figures, resolved.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Memory {
    /// Bytes held idle.
    pub base: f64,
    /// Bytes per request in flight.
    pub per_request: f64,
    /// The request, bytes.
    pub request: f64,
    /// The limit, bytes.
    pub limit: f64,
    /// Seconds to restart.
    pub restart_s: f64,
}

impl MemoryConfig {
    /// Resolves the defaults against the instance type's memory (GiB), or
    /// says what is missing or wrong: `Err((field, message))`.
    pub fn resolve(&self, type_gib: Option<f64>) -> Result<Memory, (String, String)> {
        let limit = match (self.limit, type_gib) {
            (Some(l), _) => l.0,
            (None, Some(g)) => g * (1u64 << 30) as f64,
            (None, None) => {
                return Err((
                    "limit".into(),
                    "give the memory limit (limit = \"1GiB\"), or an instance_type whose memory is the limit".into(),
                ))
            }
        };
        let request = self.request.map_or(limit, |r| r.0);
        if !(request > 0.0 && request.is_finite()) {
            return Err(("request".into(), "expected a request above 0".into()));
        }
        if request > limit {
            return Err((
                "request".into(),
                format!(
                    "the request ({:.0} MiB) is above the limit ({:.0} MiB): Kubernetes refuses a pod whose memory request exceeds its limit",
                    request / (1u64 << 20) as f64,
                    limit / (1u64 << 20) as f64
                ),
            ));
        }
        if self.base.0 >= limit {
            return Err((
                "base".into(),
                format!(
                    "an idle instance ({:.0} MiB) would already be over its limit ({:.0} MiB)",
                    self.base.mib(),
                    limit / (1u64 << 20) as f64
                ),
            ));
        }
        let restart_s = self.restart.map_or(DEFAULT_RESTART_S, |d| d.secs());
        if restart_s <= 0.0 {
            return Err((
                "restart".into(),
                "expected a restart time above 0, e.g. \"10s\"".into(),
            ));
        }
        Ok(Memory {
            base: self.base.0,
            per_request: self.per_request.0,
            request,
            limit,
            restart_s,
        })
    }
}

impl Memory {
    /// Bytes held with `in_flight` requests.
    #[inline]
    pub fn usage(&self, in_flight: u32) -> f64 {
        self.base + self.per_request * in_flight as f64
    }

    /// The most requests an instance holds within its limit.
    pub fn most_in_flight(&self) -> f64 {
        if self.per_request > 0.0 {
            ((self.limit - self.base) / self.per_request).floor()
        } else {
            f64::INFINITY
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_with_their_units() {
        assert_eq!(parse_bytes("512MiB").unwrap(), 512.0 * 1048576.0);
        assert_eq!(parse_bytes("1.5Gi").unwrap(), 1.5 * 1073741824.0);
        assert_eq!(parse_bytes("2GB").unwrap(), 2e9);
        assert!(parse_bytes("512").unwrap_err().contains("\"512MiB\""));
        assert!(parse_bytes("5 parsecs").is_err());
    }

    #[test]
    fn defaults_and_limits() {
        let c = MemoryConfig {
            base: Bytes(300.0 * 1048576.0),
            per_request: Bytes(2.0 * 1048576.0),
            request: None,
            limit: None,
            restart: None,
        };
        let m = c.resolve(Some(4.0)).unwrap();
        assert_eq!(m.limit, 4.0 * 1073741824.0);
        assert_eq!(m.request, m.limit);
        // (4096 - 300) / 2 = 1898 requests fit.
        assert_eq!(m.most_in_flight(), 1898.0);
        assert_eq!(c.resolve(None).unwrap_err().0, "limit");
    }
}
