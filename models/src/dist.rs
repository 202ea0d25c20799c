//! Service-time laws: `exp` (mean), `const` (value), `lognormal` (mean, cv),
//! `gamma` (mean, cv) and `uniform` (min, max), all in seconds.
//!
//! Log-normal and gamma are parameterised by mean and coefficient of
//! variation (cv = standard deviation / mean), the figures capacity planners
//! measure; they are converted to the textbook parameters here:
//! lognormal sigma^2 = ln(1 + cv^2), mu = ln(mean) - sigma^2 / 2;
//! gamma shape k = 1 / cv^2, scale theta = mean * cv^2.
//!
//! Where a law is expected a duration is a constant: `service = "20ms"` is
//! `service = { dist = "const", value = "20ms" }`.

use crate::units::Duration;
use rand::Rng;
use rand_distr::{Distribution, Exp1, Gamma, LogNormal};
use scalesim_sim::{from_secs, SimRng, Time};
use serde::Deserialize;

/// A service-time law as written in a scenario, e.g.
/// `{ dist = "lognormal", mean = "20ms", cv = 1.5 }`, or a duration for a
/// constant.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(
    remote = "Self",
    tag = "dist",
    rename_all = "lowercase",
    deny_unknown_fields
)]
pub enum DistConfig {
    /// Exponential with the given mean.
    Exp {
        /// Mean.
        mean: Duration,
    },
    /// Always the same value.
    Const {
        /// The value.
        value: Duration,
    },
    /// Log-normal with the given mean and coefficient of variation.
    Lognormal {
        /// Mean.
        mean: Duration,
        /// Standard deviation / mean.
        cv: f64,
    },
    /// Gamma with the given mean and coefficient of variation.
    Gamma {
        /// Mean.
        mean: Duration,
        /// Standard deviation / mean.
        cv: f64,
    },
    /// Uniform between `min` and `max`.
    Uniform {
        /// Lower bound.
        min: Duration,
        /// Upper bound.
        max: Duration,
    },
}

impl<'de> Deserialize<'de> for DistConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{self, value::MapAccessDeserializer, MapAccess, Visitor};
        use std::fmt;
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DistConfig;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a law: a duration for a constant (\"20ms\") or a table such as { dist = \"exp\", mean = \"20ms\" } (dist: exp, const, lognormal, gamma, uniform)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DistConfig, E> {
                crate::units::parse_duration(v)
                    .map(|s| DistConfig::Const { value: Duration(s) })
                    .map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<DistConfig, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DistConfig, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<DistConfig, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<DistConfig, A::Error> {
                DistConfig::deserialize(MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_any(V)
    }
}

impl DistConfig {
    /// The least value the law can take, seconds.
    pub fn least(&self) -> f64 {
        match self {
            DistConfig::Const { value } => value.secs(),
            DistConfig::Uniform { min, .. } => min.secs(),
            _ => 0.0,
        }
    }

    /// Mean of the law in seconds.
    pub fn mean(&self) -> f64 {
        match self {
            DistConfig::Exp { mean }
            | DistConfig::Lognormal { mean, .. }
            | DistConfig::Gamma { mean, .. } => mean.secs(),
            DistConfig::Const { value } => value.secs(),
            DistConfig::Uniform { min, max } => (min.secs() + max.secs()) / 2.0,
        }
    }

    /// Second moment E[S^2] in seconds^2 (for Pollaczek-Khinchine checks).
    pub fn second_moment(&self) -> f64 {
        let m = self.mean();
        match self {
            DistConfig::Exp { .. } => 2.0 * m * m,
            DistConfig::Const { .. } => m * m,
            DistConfig::Lognormal { cv, .. } | DistConfig::Gamma { cv, .. } => {
                m * m * (1.0 + cv * cv)
            }
            DistConfig::Uniform { min, max } => {
                let (a, b) = (min.secs(), max.secs());
                (a * a + a * b + b * b) / 3.0
            }
        }
    }

    /// Checks the parameters; `Err((field, message))` names the offending
    /// parameter and what is expected.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        match self {
            DistConfig::Exp { mean } if mean.secs() <= 0.0 => {
                Err(("mean", "an exponential law needs mean > 0".into()))
            }
            DistConfig::Lognormal { mean, cv } | DistConfig::Gamma { mean, cv } => {
                if mean.secs() <= 0.0 {
                    Err(("mean", "needs mean > 0".into()))
                } else if !(cv.is_finite() && *cv > 0.0) {
                    Err((
                        "cv",
                        format!("needs cv > 0 (got {cv}); use dist = \"const\" for no variation"),
                    ))
                } else {
                    Ok(())
                }
            }
            DistConfig::Uniform { min, max } if min.secs() > max.secs() => Err((
                "min",
                format!(
                    "uniform needs min <= max (got min {}s > max {}s)",
                    min.secs(),
                    max.secs()
                ),
            )),
            _ => Ok(()),
        }
    }

    /// A sampler for this law. Call [`DistConfig::check`] first: invalid
    /// parameters fall back to the mean.
    pub fn sampler(&self) -> Dist {
        let m = self.mean();
        match *self {
            DistConfig::Exp { .. } => Dist::Exp(m),
            DistConfig::Const { .. } => Dist::Const(from_secs(m)),
            DistConfig::Lognormal { cv, .. } => {
                let s2 = (1.0 + cv * cv).ln();
                LogNormal::new(m.ln() - s2 / 2.0, s2.sqrt())
                    .map(Dist::LogNormal)
                    .unwrap_or(Dist::Const(from_secs(m)))
            }
            DistConfig::Gamma { cv, .. } => {
                let k = 1.0 / (cv * cv);
                Gamma::new(k, m / k)
                    .map(Dist::Gamma)
                    .unwrap_or(Dist::Const(from_secs(m)))
            }
            DistConfig::Uniform { min, max } => Dist::Uniform(min.secs(), max.secs()),
        }
    }
}

/// A ready-to-draw law (see [`DistConfig`]).
#[derive(Clone, Debug)]
pub enum Dist {
    /// Exponential with this mean (s).
    Exp(f64),
    /// Constant (ns).
    Const(Time),
    /// Log-normal.
    LogNormal(LogNormal<f64>),
    /// Gamma.
    Gamma(Gamma<f64>),
    /// Uniform on [min, max] (s).
    Uniform(f64, f64),
}

impl Dist {
    /// Draws one value in nanoseconds.
    #[inline]
    pub fn sample(&self, rng: &mut SimRng) -> Time {
        match self {
            Dist::Exp(mean) => {
                let e: f64 = Exp1.sample(rng);
                from_secs(e * mean)
            }
            Dist::Const(t) => *t,
            Dist::LogNormal(d) => from_secs(d.sample(rng)),
            Dist::Gamma(d) => from_secs(d.sample(rng)),
            Dist::Uniform(a, b) => from_secs(a + (b - a) * rng.random::<f64>()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments(c: &DistConfig) -> (f64, f64) {
        let d = c.sampler();
        let mut rng = scalesim_sim::stream(1, 0, "test", "dist");
        let n = 400_000;
        let (mut s, mut s2) = (0.0, 0.0);
        for _ in 0..n {
            let x = d.sample(&mut rng) as f64 / 1e9;
            s += x;
            s2 += x * x;
        }
        (s / n as f64, s2 / n as f64)
    }

    #[test]
    fn sample_moments_match_parameters() {
        let cases = [
            DistConfig::Exp {
                mean: Duration(2.0),
            },
            DistConfig::Const {
                value: Duration(0.5),
            },
            DistConfig::Lognormal {
                mean: Duration(1.0),
                cv: 0.5,
            },
            DistConfig::Gamma {
                mean: Duration(1.0),
                cv: 2.0,
            },
            DistConfig::Uniform {
                min: Duration(0.0),
                max: Duration(2.0),
            },
        ];
        for c in &cases {
            let (m, m2) = moments(c);
            // Standard error of the mean is sd/sqrt(n) < 0.35%·cv here;
            // 1% for the mean and 4% for the second moment are > 3 sigma.
            assert!((m - c.mean()).abs() / c.mean() < 0.01, "{c:?}: mean {m}");
            assert!(
                (m2 - c.second_moment()).abs() / c.second_moment() < 0.04,
                "{c:?}: E[S^2] {m2}"
            );
        }
    }

    #[test]
    fn rejects_impossible_parameters() {
        assert!(DistConfig::Exp {
            mean: Duration(0.0)
        }
        .check()
        .is_err());
        assert!(DistConfig::Gamma {
            mean: Duration(1.0),
            cv: 0.0
        }
        .check()
        .is_err());
        assert!(DistConfig::Uniform {
            min: Duration(2.0),
            max: Duration(1.0)
        }
        .check()
        .is_err());
        assert!(DistConfig::Const {
            value: Duration(0.0)
        }
        .check()
        .is_ok());
    }
}
