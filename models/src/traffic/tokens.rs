//! Token-count laws of LLM request classes: `prompt_tokens` and
//! `output_tokens` on a source or a `mix` class.
//!
//! Written as a plain number (`prompt_tokens = 512`, always that many) or
//! a law: `{ dist = "uniform", min, max }`, `{ dist = "exp", mean }`,
//! `{ dist = "lognormal", mean, cv }` (the shape of chat prompt and answer
//! lengths in ShareGPT-like traces), each with an optional `max` that caps
//! the draw. Draws are rounded to whole tokens, at least 1.

use rand::Rng;
use rand_distr::{Distribution, Exp1, LogNormal};
use scalesim_sim::SimRng;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::fmt;

/// A token-count law as written in a scenario.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TokensConfig {
    /// Always this many.
    Const(u32),
    /// Uniform on `min..=max`.
    Uniform {
        /// Fewest.
        min: u32,
        /// Most.
        max: u32,
    },
    /// Exponential with this mean, capped at `max`.
    Exp {
        /// Mean.
        mean: f64,
        /// Cap.
        max: Option<u32>,
    },
    /// Log-normal with this mean and coefficient of variation, capped.
    Lognormal {
        /// Mean.
        mean: f64,
        /// Standard deviation / mean.
        cv: f64,
        /// Cap.
        max: Option<u32>,
    },
}

#[derive(Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
enum Law {
    Const {
        value: u32,
    },
    Uniform {
        min: u32,
        max: u32,
    },
    Exp {
        mean: f64,
        #[serde(default)]
        max: Option<u32>,
    },
    Lognormal {
        mean: f64,
        cv: f64,
        #[serde(default)]
        max: Option<u32>,
    },
}

impl<'de> Deserialize<'de> for TokensConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TokensConfig;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a token count (e.g. 512) or a law such as { dist = \"lognormal\", mean = 512, cv = 1.0 }",
                )
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<TokensConfig, E> {
                u32::try_from(v)
                    .map(TokensConfig::Const)
                    .map_err(|_| E::custom(format!("expected a token count >= 0, got {v}")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<TokensConfig, E> {
                u32::try_from(v)
                    .map(TokensConfig::Const)
                    .map_err(|_| E::custom(format!("token count {v} is too large")))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<TokensConfig, A::Error> {
                let law = Law::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(match law {
                    Law::Const { value } => TokensConfig::Const(value),
                    Law::Uniform { min, max } => TokensConfig::Uniform { min, max },
                    Law::Exp { mean, max } => TokensConfig::Exp { mean, max },
                    Law::Lognormal { mean, cv, max } => TokensConfig::Lognormal { mean, cv, max },
                })
            }
        }
        d.deserialize_any(V)
    }
}

impl TokensConfig {
    /// Mean of the law (before the cap).
    pub fn mean(&self) -> f64 {
        match *self {
            TokensConfig::Const(v) => v as f64,
            TokensConfig::Uniform { min, max } => (min as f64 + max as f64) / 2.0,
            TokensConfig::Exp { mean, .. } | TokensConfig::Lognormal { mean, .. } => mean,
        }
    }

    /// Checks the parameters; `Err(message)`.
    pub fn check(&self) -> Result<(), String> {
        match *self {
            TokensConfig::Const(0) => Err("expected at least 1 token".into()),
            TokensConfig::Uniform { min, max } if min == 0 || min > max => Err(format!(
                "uniform needs 1 <= min <= max (got min {min}, max {max})"
            )),
            TokensConfig::Exp { mean, max } | TokensConfig::Lognormal { mean, max, .. }
                if !(mean.is_finite() && mean >= 1.0) || max == Some(0) =>
            {
                Err(format!(
                    "needs a mean of at least 1 token and a max >= 1 (got mean {mean})"
                ))
            }
            TokensConfig::Lognormal { cv, .. } if !(cv.is_finite() && cv > 0.0) => Err(format!(
                "lognormal needs cv > 0 (got {cv}); use a plain count for no variation"
            )),
            _ => Ok(()),
        }
    }

    /// A sampler (call [`TokensConfig::check`] first).
    pub fn sampler(&self) -> TokenLaw {
        match *self {
            TokensConfig::Const(v) => TokenLaw::Const(v.max(1)),
            TokensConfig::Uniform { min, max } => TokenLaw::Uniform(min.max(1), max.max(1)),
            TokensConfig::Exp { mean, max } => TokenLaw::Exp(mean, max.unwrap_or(u32::MAX)),
            TokensConfig::Lognormal { mean, cv, max } => {
                let s2 = (1.0 + cv * cv).ln();
                match LogNormal::new(mean.ln() - s2 / 2.0, s2.sqrt()) {
                    Ok(d) => TokenLaw::LogNormal(d, max.unwrap_or(u32::MAX)),
                    Err(_) => TokenLaw::Const(mean.round().max(1.0) as u32),
                }
            }
        }
    }
}

/// A ready-to-draw token law.
#[derive(Clone, Debug)]
pub enum TokenLaw {
    /// Always this many.
    Const(u32),
    /// Uniform on min..=max.
    Uniform(u32, u32),
    /// Exponential (mean), capped.
    Exp(f64, u32),
    /// Log-normal, capped.
    LogNormal(LogNormal<f64>, u32),
}

impl TokenLaw {
    /// Draws a count (at least 1).
    #[inline]
    pub fn sample(&self, rng: &mut SimRng) -> u32 {
        let round = |x: f64, max: u32| (x.round().max(1.0).min(max as f64)) as u32;
        match self {
            TokenLaw::Const(v) => *v,
            TokenLaw::Uniform(a, b) => rng.random_range(*a..=*b),
            TokenLaw::Exp(mean, max) => {
                let e: f64 = Exp1.sample(rng);
                round(e * mean, *max)
            }
            TokenLaw::LogNormal(d, max) => round(d.sample(rng), *max),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct T {
        t: TokensConfig,
    }

    fn parse(s: &str) -> Result<TokensConfig, String> {
        serde_yaml_ng::from_str::<T>(&format!("t: {s}"))
            .map(|t| t.t)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn numbers_and_laws_parse() {
        assert_eq!(parse("512").unwrap(), TokensConfig::Const(512));
        assert_eq!(
            parse("{ dist: lognormal, mean: 300, cv: 1.2, max: 4096 }").unwrap(),
            TokensConfig::Lognormal {
                mean: 300.0,
                cv: 1.2,
                max: Some(4096)
            }
        );
        assert!(parse("-3").unwrap_err().contains(">= 0"));
        assert!(parse("{ dist: normal, mean: 3 }")
            .unwrap_err()
            .contains("unknown variant"));
        assert!(TokensConfig::Const(0).check().is_err());
    }

    #[test]
    fn lognormal_mean_and_cap() {
        let law = TokensConfig::Lognormal {
            mean: 200.0,
            cv: 1.0,
            max: None,
        }
        .sampler();
        let mut rng = scalesim_sim::stream(1, 0, "t", "tokens");
        let n = 200_000;
        let mean = (0..n).map(|_| law.sample(&mut rng) as f64).sum::<f64>() / n as f64;
        // sd/sqrt(n) = 200/447 = 0.45 tokens; rounding adds < 0.5.
        assert!((mean - 200.0).abs() < 2.5, "{mean}");
        let capped = TokensConfig::Exp {
            mean: 100.0,
            max: Some(50),
        }
        .sampler();
        assert!((0..1000).all(|_| capped.sample(&mut rng) <= 50));
    }
}
