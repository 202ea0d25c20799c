//! Traffic sources: a stream of requests entering one component, with
//! Poisson (exponential inter-arrival times) or deterministic (evenly
//! spaced) arrivals, and optionally a key per request drawn from a Zipf(s)
//! law over `1..=count` (rank 1 most popular; s = 0 is uniform), the
//! independent reference model (IRM) used by cache theory.

use rand::Rng;
use rand_distr::{Distribution, Exp1, Zipf};
use scalesim_sim::{from_secs, SimRng, Time};
use serde::Deserialize;

/// Highest accepted rate: one request per nanosecond of simulated time.
pub const MAX_RATE: f64 = 1e9;

/// How inter-arrival times are drawn.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Arrivals {
    /// Exponential inter-arrival times (a Poisson process).
    #[default]
    Poisson,
    /// Exactly 1/rate apart.
    Deterministic,
}

/// The key law of a source: `{ count = 100000, zipf = 0.8 }`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct KeysConfig {
    /// Number of distinct keys.
    pub count: u64,
    /// Zipf exponent s >= 0 (0 = uniform).
    #[serde(default)]
    pub zipf: f64,
}

impl KeysConfig {
    /// Popularity of each key rank 1..=count under this law (sums to 1).
    pub fn probabilities(&self) -> Vec<f64> {
        let w: Vec<f64> = (1..=self.count)
            .map(|i| (i as f64).powf(-self.zipf))
            .collect();
        let total: f64 = w.iter().sum();
        w.into_iter().map(|x| x / total).collect()
    }
}

/// A named request source as written under `[traffic.<name>]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Mean arrival rate, requests per second.
    pub rate: f64,
    /// Arrival process.
    #[serde(default)]
    pub arrivals: Arrivals,
    /// The component requests enter.
    pub to: String,
    /// Optional key law.
    #[serde(default)]
    pub keys: Option<KeysConfig>,
}

impl SourceConfig {
    /// Checks the numbers; `Err((field, message))`.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if !(self.rate.is_finite() && self.rate > 0.0) {
            return Err((
                "rate",
                format!("expected a rate > 0 requests/s, got {}", self.rate),
            ));
        }
        if let Some(k) = &self.keys {
            if k.count == 0 {
                return Err(("keys", "keys.count must be at least 1".into()));
            }
            if !(k.zipf.is_finite() && k.zipf >= 0.0) {
                return Err(("keys", format!("keys.zipf must be >= 0 (got {})", k.zipf)));
            }
        }
        Ok(())
    }
}

/// A running source: draws inter-arrival times and keys.
pub struct Source {
    mean_gap_s: f64,
    gap: Time,
    arrivals: Arrivals,
    keys: KeyLaw,
    rng: SimRng,
    key_rng: SimRng,
}

enum KeyLaw {
    None,
    Uniform(u64),
    /// Up to [`ALIAS_MAX_KEYS`] keys: Walker's alias table, O(1) per draw.
    Alias(AliasTable),
    /// More keys: rejection-inversion (Hörmann & Derflinger), no table.
    Zipf(Zipf<f64>),
}

/// Largest key count drawn through an alias table (12 bytes per key).
pub const ALIAS_MAX_KEYS: u64 = 1 << 21;

/// Walker's alias method (Vose's construction): draws from a discrete law
/// over `0..n` with one uniform index and one uniform fraction.
pub struct AliasTable {
    prob: Vec<f64>,
    alias: Vec<u32>,
}

impl AliasTable {
    /// A table for weights `w` (not necessarily normalised; all >= 0 and
    /// not all 0).
    pub fn new(w: &[f64]) -> Self {
        let n = w.len();
        let total: f64 = w.iter().sum();
        let mut prob: Vec<f64> = w.iter().map(|x| x * n as f64 / total).collect();
        let mut alias = vec![0u32; n];
        let (mut small, mut large): (Vec<u32>, Vec<u32>) =
            (0..n as u32).partition(|&i| prob[i as usize] < 1.0);
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            alias[s as usize] = l;
            prob[l as usize] -= 1.0 - prob[s as usize];
            if prob[l as usize] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // Leftovers are 1 up to rounding.
        for i in small.into_iter().chain(large) {
            prob[i as usize] = 1.0;
        }
        AliasTable { prob, alias }
    }

    /// Draws an index in `0..n`.
    #[inline]
    pub fn sample(&self, rng: &mut SimRng) -> usize {
        let i = rng.random_range(0..self.prob.len());
        if rng.random::<f64>() < self.prob[i] {
            i
        } else {
            self.alias[i] as usize
        }
    }
}

impl Source {
    /// Builds a source from its (checked) configuration and two RNG streams.
    pub fn new(cfg: &SourceConfig, rng: SimRng, key_rng: SimRng) -> Self {
        let keys = match cfg.keys {
            None => KeyLaw::None,
            Some(k) if k.zipf == 0.0 || k.count == 1 => KeyLaw::Uniform(k.count),
            Some(k) if k.count <= ALIAS_MAX_KEYS => {
                KeyLaw::Alias(AliasTable::new(&k.probabilities()))
            }
            Some(k) => Zipf::new(k.count as f64, k.zipf)
                .map(KeyLaw::Zipf)
                .unwrap_or(KeyLaw::Uniform(k.count)),
        };
        Source {
            mean_gap_s: 1.0 / cfg.rate,
            gap: from_secs(1.0 / cfg.rate).max(1),
            arrivals: cfg.arrivals,
            keys,
            rng,
            key_rng,
        }
    }

    /// Time until the next arrival.
    #[inline]
    pub fn next_gap(&mut self) -> Time {
        match self.arrivals {
            Arrivals::Deterministic => self.gap,
            Arrivals::Poisson => {
                let e: f64 = Exp1.sample(&mut self.rng);
                from_secs(e * self.mean_gap_s)
            }
        }
    }

    /// The key of the next request (rank 1 = most popular; 0 = no key).
    #[inline]
    pub fn next_key(&mut self) -> u64 {
        match &self.keys {
            KeyLaw::None => 0,
            KeyLaw::Uniform(n) => self.key_rng.random_range(1..=*n),
            KeyLaw::Alias(t) => t.sample(&mut self.key_rng) as u64 + 1,
            KeyLaw::Zipf(z) => z.sample(&mut self.key_rng) as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(zipf: f64) -> Source {
        let cfg = SourceConfig {
            rate: 10.0,
            arrivals: Arrivals::Poisson,
            to: "x".into(),
            keys: Some(KeysConfig { count: 100, zipf }),
        };
        Source::new(
            &cfg,
            scalesim_sim::stream(3, 0, "s", "a"),
            scalesim_sim::stream(3, 0, "s", "k"),
        )
    }

    #[test]
    fn poisson_gaps_have_the_right_mean() {
        let mut s = src(0.0);
        let n = 200_000;
        let total: u64 = (0..n).map(|_| s.next_gap()).sum();
        let mean = total as f64 / n as f64 / 1e9;
        // SE = 0.1/sqrt(2e5) = 0.00022; 1% is 4.5 sigma.
        assert!((mean - 0.1).abs() < 0.001, "{mean}");
    }

    #[test]
    fn zipf_key_frequencies_follow_the_law() {
        let mut s = src(0.8);
        let p = KeysConfig {
            count: 100,
            zipf: 0.8,
        }
        .probabilities();
        let n = 400_000;
        let mut counts = vec![0u64; 101];
        for _ in 0..n {
            counts[s.next_key() as usize] += 1;
        }
        assert_eq!(counts[0], 0);
        for rank in [1usize, 2, 10, 100] {
            let f = counts[rank] as f64 / n as f64;
            let se = (p[rank - 1] * (1.0 - p[rank - 1]) / n as f64).sqrt();
            assert!(
                (f - p[rank - 1]).abs() < 5.0 * se,
                "rank {rank}: {f} vs {}",
                p[rank - 1]
            );
        }
    }
}
