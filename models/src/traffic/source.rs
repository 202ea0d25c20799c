//! A request source as it runs: arrivals (Poisson, deterministic, on-off,
//! thinned by the rate pattern in 60 s blocks, or replayed from a trace),
//! each request's class, key (Zipf keys drawn from an alias table, or a
//! rejection sampler for huge key spaces) and token counts.

use super::*;

enum KeyLaw {
    None,
    Uniform(u64),
    /// Up to [`ALIAS_MAX_KEYS`] keys: Walker's alias table, O(1) per draw.
    Alias(AliasTable),
    /// More keys: rejection-inversion (Hörmann & Derflinger), no table.
    Zipf(Zipf<f64>),
}

impl KeyLaw {
    fn new(k: Option<KeysConfig>) -> KeyLaw {
        match k {
            None => KeyLaw::None,
            Some(k) if k.zipf == 0.0 || k.count == 1 => KeyLaw::Uniform(k.count),
            Some(k) if k.count <= ALIAS_MAX_KEYS => {
                KeyLaw::Alias(AliasTable::new(&k.probabilities()))
            }
            Some(k) => Zipf::new(k.count as f64, k.zipf)
                .map(KeyLaw::Zipf)
                .unwrap_or(KeyLaw::Uniform(k.count)),
        }
    }

    #[inline]
    fn sample(&self, rng: &mut SimRng) -> u64 {
        match self {
            KeyLaw::None => 0,
            KeyLaw::Uniform(n) => rng.random_range(1..=*n),
            KeyLaw::Alias(t) => t.sample(rng) as u64 + 1,
            KeyLaw::Zipf(z) => z.sample(rng) as u64,
        }
    }
}

/// Largest key count drawn through an alias table (12 bytes per key).
pub const ALIAS_MAX_KEYS: u64 = 1 << 21;

/// Walker's alias method (Vose's construction): draws from a discrete law
/// over `0..n` with one uniform index and one uniform fraction.
pub struct AliasTable {
    /// (acceptance probability, alias) side by side: one cache miss per
    /// draw on large tables instead of two.
    entries: Vec<(f64, u32)>,
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
        AliasTable {
            entries: prob.into_iter().zip(alias).collect(),
        }
    }

    /// Draws an index in `0..n`.
    #[inline]
    pub fn sample(&self, rng: &mut SimRng) -> usize {
        let i = rng.random_range(0..self.entries.len());
        let (p, alias) = self.entries[i];
        if rng.random::<f64>() < p {
            i
        } else {
            alias as usize
        }
    }
}

/// The modulating chain of an on/off source.
struct OnOff {
    cfg: OnOffConfig,
    on: bool,
    next_switch: f64,
    rng: SimRng,
}

impl OnOff {
    fn new(cfg: OnOffConfig, mut rng: SimRng) -> OnOff {
        // Start in the stationary law: on with probability on / (on + off).
        let p_on = cfg.on.secs() / (cfg.on.secs() + cfg.off.secs());
        let on = rng.random::<f64>() < p_on;
        let mut s = OnOff {
            cfg,
            on,
            next_switch: 0.0,
            rng,
        };
        s.next_switch = s.sojourn();
        s
    }

    fn sojourn(&mut self) -> f64 {
        let mean = if self.on {
            self.cfg.on.secs()
        } else {
            self.cfg.off.secs()
        };
        let e: f64 = Exp1.sample(&mut self.rng);
        e * mean
    }

    /// The factor at `t` (called with non-decreasing `t`).
    #[inline]
    fn factor(&mut self, t: f64) -> f64 {
        while self.next_switch <= t {
            self.on = !self.on;
            let d = self.sojourn();
            self.next_switch += d;
        }
        if self.on {
            self.cfg.on_factor
        } else {
            self.cfg.off_factor
        }
    }

    fn max(&self) -> f64 {
        self.cfg.on_factor.max(self.cfg.off_factor)
    }
}

/// A factor that varies within a thinning block.
#[derive(Clone, Copy)]
enum Varying {
    /// alpha + beta t (a ramp).
    Linear(f64, f64),
    /// Evaluate factor i.
    Eval(usize),
}

/// How a source produces arrival instants.
enum Process {
    /// Constant-rate Poisson: exponential gaps of this mean (s).
    Poisson(f64),
    /// Constant rate, evenly spaced.
    Fixed(Time),
    /// Thinning against the per-block maximum of the rate.
    Thinned {
        profile: RateProfile,
        onoff: Option<OnOff>,
        t: f64,
        block_end: f64,
        majorant: f64,
        /// Product of the base and the factors constant over this block.
        fixed: f64,
        /// The factors that vary within this block.
        varying: Vec<Varying>,
    },
    /// Recorded instants, replayed exactly.
    Timestamps { times: Vec<f64>, next: usize },
    /// Virtual users in a closed loop: arrivals come from their answers.
    Closed,
    /// Each interval's count, evenly spaced within the interval.
    ExactCounts {
        start: f64,
        interval: f64,
        counts: Vec<u64>,
        i: usize,
        j: u64,
    },
}

/// A running source: arrival instants, classes and keys.
pub struct Source {
    process: Process,
    /// Its users: a closed loop's, or those its sessions bring.
    users: Option<Box<super::closed::Users>>,
    horizon_s: f64,
    rng: SimRng,
    class_rng: SimRng,
    key_rng: SimRng,
    /// Cumulative class weights, normalised to end at 1.
    class_cum: Vec<f64>,
    keys: Vec<KeyLaw>,
    /// Per class: (prompt, output) token laws.
    tokens: Vec<Option<(TokenLaw, TokenLaw)>>,
    token_rng: SimRng,
    /// Token counts of a timestamps trace, and the next row.
    trace_tokens: Option<(Vec<(u32, u32)>, usize)>,
}

impl Source {
    /// Builds a source from its (checked) configuration. `stream(purpose)`
    /// gives the RNG stream of each purpose ("arrivals", "class", "keys",
    /// "onoff").
    pub fn new(
        cfg: &SourceConfig,
        cal: &Calendar,
        horizon_s: f64,
        mut stream: impl FnMut(&str) -> SimRng,
    ) -> Result<Source, SourceIssue> {
        let profile = cfg.profile(cal, horizon_s)?;
        let onoff = cfg.onoff.map(|o| OnOff::new(o, stream("onoff")));
        let process = match (&cfg.trace_data, cfg.arrivals) {
            _ if cfg.is_closed() => Process::Closed,
            (Some(TraceData::Timestamps(ts)), _) => Process::Timestamps {
                times: ts.clone(),
                next: 0,
            },
            (
                Some(TraceData::Counts {
                    start,
                    interval,
                    counts,
                }),
                Arrivals::Deterministic,
            ) => Process::ExactCounts {
                start: *start,
                interval: *interval,
                counts: counts.iter().map(|c| c.round().max(0.0) as u64).collect(),
                i: 0,
                j: 0,
            },
            (None, Arrivals::Deterministic) => Process::Fixed(from_secs(1.0 / profile.base).max(1)),
            (None, Arrivals::Poisson) if profile.is_constant() && onoff.is_none() => {
                Process::Poisson(1.0 / profile.base)
            }
            _ => {
                let varying = Vec::with_capacity(profile.factors.len());
                let mut p = Process::Thinned {
                    profile,
                    onoff,
                    t: 0.0,
                    block_end: 0.0,
                    majorant: 0.0,
                    fixed: 0.0,
                    varying,
                };
                p.next_block();
                p
            }
        };
        let classes = cfg.classes();
        let total: f64 = classes.iter().map(|c| c.weight).sum();
        let mut acc = 0.0;
        let class_cum = classes
            .iter()
            .map(|c| {
                acc += c.weight / total;
                acc
            })
            .collect();
        let users = if cfg.is_closed() {
            Some(super::closed::Users::closed(
                cfg.virtual_users.unwrap_or(0),
                cfg.think.as_ref(),
                &cfg.stages,
                cfg.session,
                horizon_s,
                stream("think"),
            ))
        } else {
            cfg.session.map(|s| {
                super::closed::Users::open(cfg.think.as_ref(), Some(s), horizon_s, stream("think"))
            })
        };
        Ok(Source {
            process,
            users: users.map(Box::new),
            horizon_s,
            rng: stream("arrivals"),
            class_rng: stream("class"),
            key_rng: stream("keys"),
            class_cum,
            keys: classes.iter().map(|c| KeyLaw::new(c.keys)).collect(),
            tokens: classes
                .iter()
                .map(|c| match (c.prompt_tokens, c.output_tokens) {
                    (Some(p), Some(o)) => Some((p.sampler(), o.sampler())),
                    _ => None,
                })
                .collect(),
            token_rng: stream("tokens"),
            trace_tokens: cfg.trace_tokens.clone().map(|t| (t, 0)),
        })
    }

    /// Its virtual users: a closed loop's, or its sessions' users.
    #[inline]
    pub fn users(&mut self) -> Option<&mut super::closed::Users> {
        self.users.as_deref_mut()
    }

    /// Its users, to read.
    pub fn users_ref(&self) -> Option<&super::closed::Users> {
        self.users.as_deref()
    }

    /// A closed loop (its users ramp; no arrivals of its own).
    pub fn is_closed(&self) -> bool {
        matches!(self.process, Process::Closed)
    }

    /// The next arrival after `now`, or None when the source is exhausted
    /// or past the horizon (always, for a closed loop: its users send).
    #[inline]
    pub fn next_arrival(&mut self, now: Time) -> Option<Time> {
        let t = match &mut self.process {
            Process::Closed => return None,
            Process::Poisson(mean) => {
                let e: f64 = Exp1.sample(&mut self.rng);
                return Some(now + from_secs(e * *mean))
                    .filter(|t| (*t as f64) <= self.horizon_s * NS_PER_SEC as f64);
            }
            Process::Fixed(gap) => {
                return Some(now + *gap)
                    .filter(|t| (*t as f64) <= self.horizon_s * NS_PER_SEC as f64)
            }
            Process::Timestamps { times, next } => {
                let t = *times.get(*next)?;
                *next += 1;
                t
            }
            Process::ExactCounts {
                start,
                interval,
                counts,
                i,
                j,
            } => loop {
                let c = *counts.get(*i)?;
                if *j < c {
                    let t = *start + (*i as f64 + (*j as f64 + 0.5) / c as f64) * *interval;
                    *j += 1;
                    break t;
                }
                *i += 1;
                *j = 0;
            },
            Process::Thinned { .. } => self.process.thinned(&mut self.rng, self.horizon_s)?,
        };
        if t > self.horizon_s {
            return None;
        }
        Some(from_secs(t).max(now))
    }

    /// The class of the next request (index into the source's classes).
    #[inline]
    pub fn next_class(&mut self) -> usize {
        if self.class_cum.len() == 1 {
            return 0;
        }
        let u: f64 = self.class_rng.random();
        self.class_cum
            .iter()
            .position(|&c| u < c)
            .unwrap_or(self.class_cum.len() - 1)
    }

    /// The (prompt, output) tokens of the next request of class `class`:
    /// the trace's row when the trace has token columns, else draws from
    /// the class's laws; (0, 0) for a class without tokens.
    #[inline]
    pub fn next_tokens(&mut self, class: usize) -> (u32, u32) {
        if let Some((rows, next)) = &mut self.trace_tokens {
            let t = rows.get(*next).copied().unwrap_or((0, 0));
            *next += 1;
            return t;
        }
        match &self.tokens[class] {
            Some((p, o)) => (p.sample(&mut self.token_rng), o.sample(&mut self.token_rng)),
            None => (0, 0),
        }
    }

    /// The key of the next request of class `class` (0 = no key).
    #[inline]
    pub fn next_key(&mut self, class: usize) -> u64 {
        self.keys[class].sample(&mut self.key_rng)
    }
}

impl Process {
    fn next_block(&mut self) {
        if let Process::Thinned {
            profile,
            onoff,
            t,
            block_end,
            majorant,
            fixed,
            varying,
        } = self
        {
            let (a, b) = (*t, *t + BLOCK);
            *block_end = b;
            *majorant = profile.max_over(a, b) * onoff.as_ref().map(OnOff::max).unwrap_or(1.0);
            // Factors constant over the block are multiplied once here, so
            // candidates only evaluate the ones that vary (often none).
            *fixed = if a >= profile.end { 0.0 } else { profile.base };
            varying.clear();
            for (i, f) in profile.factors.iter().enumerate() {
                let cal = &profile.calendar;
                match f.constant_over(a, b, cal) {
                    Some(v) => *fixed *= v,
                    None => varying.push(match f.linear_over(a, b, cal) {
                        Some((alpha, beta)) => Varying::Linear(alpha, beta),
                        None => Varying::Eval(i),
                    }),
                }
            }
        }
    }

    /// Thinning: candidates at the block's maximum rate, each kept with
    /// probability rate(t) / maximum (Lewis & Shedler).
    #[inline]
    fn thinned(&mut self, rng: &mut SimRng, horizon_s: f64) -> Option<f64> {
        loop {
            let Process::Thinned {
                profile,
                onoff,
                t,
                block_end,
                majorant,
                fixed,
                varying,
            } = self
            else {
                return None;
            };
            if *t > horizon_s || *t >= profile.end {
                return None;
            }
            let cand = if *majorant > 0.0 {
                let e: f64 = Exp1.sample(rng);
                *t + e / *majorant
            } else {
                f64::INFINITY
            };
            if cand >= *block_end {
                // Memoryless: restart at the block boundary with its maximum.
                *t = *block_end;
                self.next_block();
                continue;
            }
            *t = cand;
            if varying.is_empty() && onoff.is_none() && cand < profile.end {
                // The rate is constant over the block and equals the
                // majorant: every candidate is accepted.
                return Some(cand);
            }
            let mut r = *fixed;
            for v in varying.iter() {
                r *= match *v {
                    Varying::Linear(alpha, beta) => alpha + beta * cand,
                    Varying::Eval(i) => profile.factors[i].at(cand, &profile.calendar),
                };
            }
            if cand >= profile.end {
                r = 0.0;
            }
            if let Some(o) = onoff {
                r *= o.factor(cand);
            }
            if rng.random::<f64>() * *majorant < r {
                return Some(cand);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::pattern::TimeRef;

    fn cfg(rate: f64, zipf: f64) -> SourceConfig {
        SourceConfig {
            rate: Some(rate),
            to: Some("x".into()),
            keys: Some(KeysConfig { count: 100, zipf }),
            ..SourceConfig::default()
        }
    }

    fn source(c: &SourceConfig, horizon: f64) -> Source {
        Source::new(c, &Calendar::undated(), horizon, |p| {
            scalesim_sim::stream(3, 0, "s", p)
        })
        .unwrap()
    }

    /// All arrival instants (s) of a source up to its horizon.
    fn arrivals(src: &mut Source) -> Vec<f64> {
        let mut out = Vec::new();
        let mut now = 0;
        while let Some(t) = src.next_arrival(now) {
            out.push(t as f64 / 1e9);
            now = t;
        }
        out
    }

    #[test]
    fn poisson_gaps_have_the_right_mean() {
        let mut s = source(&cfg(10.0, 0.0), 20_000.0);
        let a = arrivals(&mut s);
        // 200,000 expected; Poisson sd 447: 5 sd = 2,236.
        assert!((a.len() as f64 - 200_000.0).abs() < 2_236.0, "{}", a.len());
    }

    #[test]
    fn deterministic_arrivals_are_evenly_spaced() {
        let c = SourceConfig {
            arrivals: Arrivals::Deterministic,
            ..cfg(4.0, 0.0)
        };
        let a = arrivals(&mut source(&c, 10.0));
        assert_eq!(a.len(), 40);
        assert_eq!(a[0], 0.25);
        assert_eq!(a[39], 10.0);
    }

    #[test]
    fn zipf_key_frequencies_follow_the_law() {
        let mut s = source(&cfg(10.0, 0.8), 1.0);
        let p = KeysConfig {
            count: 100,
            zipf: 0.8,
        }
        .probabilities();
        let n = 400_000;
        let mut counts = vec![0u64; 101];
        for _ in 0..n {
            counts[s.next_key(0) as usize] += 1;
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

    #[test]
    fn alias_table_reproduces_weights() {
        let w = [5.0, 1.0, 0.0, 2.0, 2.0];
        let t = AliasTable::new(&w);
        let mut rng = scalesim_sim::stream(9, 0, "alias", "t");
        let n = 500_000;
        let mut c = [0u64; 5];
        for _ in 0..n {
            c[t.sample(&mut rng)] += 1;
        }
        assert_eq!(c[2], 0);
        for i in 0..5 {
            let p = w[i] / 10.0;
            let se = (p * (1.0 - p) / n as f64).sqrt();
            assert!(
                (c[i] as f64 / n as f64 - p).abs() <= 5.0 * se + 1e-12,
                "{i}: {c:?}"
            );
        }
    }

    #[test]
    fn large_key_spaces_use_rejection_inversion() {
        let mut c = cfg(1.0, 1.0);
        c.keys = Some(KeysConfig {
            count: ALIAS_MAX_KEYS * 4,
            zipf: 1.0,
        });
        let mut s = source(&c, 1.0);
        assert!(matches!(s.keys[0], KeyLaw::Zipf(_)));
        // P(key 1) = 1 / H(n), H(n) ~ ln n + 0.5772.
        let n = 200_000;
        let ones = (0..n).filter(|_| s.next_key(0) == 1).count() as f64 / n as f64;
        let p = 1.0 / (((ALIAS_MAX_KEYS * 4) as f64).ln() + 0.5772);
        let se = (p * (1.0 - p) / n as f64).sqrt();
        assert!((ones - p).abs() < 5.0 * se, "{ones} vs {p}");
    }

    #[test]
    fn classes_are_drawn_by_weight() {
        let mut c = cfg(1.0, 0.0);
        c.mix = vec![
            ClassConfig {
                name: "read".into(),
                weight: 9.0,
                to: None,
                op: Op::Read,
                keys: None,
                prompt_tokens: None,
                output_tokens: None,
                ..Default::default()
            },
            ClassConfig {
                name: "write".into(),
                weight: 1.0,
                to: Some("db".into()),
                op: Op::Write,
                keys: None,
                prompt_tokens: None,
                output_tokens: None,
                ..Default::default()
            },
        ];
        assert!(c.check_classes().is_ok());
        assert_eq!(c.classes()[1].to.as_deref(), Some("db"));
        assert_eq!(c.classes()[0].to.as_deref(), Some("x"));
        let mut s = source(&c, 1.0);
        let n = 100_000;
        let writes = (0..n).filter(|_| s.next_class() == 1).count() as f64 / n as f64;
        // sd = sqrt(0.09 / 1e5) = 0.00095
        assert!((writes - 0.1).abs() < 0.005, "{writes}");
    }

    #[test]
    fn thinned_counts_match_the_integrated_rate() {
        // A burst: 10 x at 1000 s decaying over 300 s, on a base of 5/s.
        let mut c = cfg(5.0, 0.0);
        c.bursts = vec![crate::traffic::pattern::BurstConfig {
            at: TimeRef::Secs(1000.0),
            factor: 10.0,
            decay: Duration(300.0),
        }];
        let cal = Calendar::undated();
        let profile = c.profile(&cal, 4000.0).unwrap();
        let mut total = [0.0; 8];
        let reps = 40;
        for r in 0..reps {
            let mut s =
                Source::new(&c, &cal, 4000.0, |p| scalesim_sim::stream(r, 0, "s", p)).unwrap();
            for t in arrivals(&mut s) {
                total[((t / 500.0) as usize).min(7)] += 1.0;
            }
        }
        for (b, n) in total.iter().enumerate() {
            let expect =
                profile.integral(b as f64 * 500.0, (b + 1) as f64 * 500.0, 0.5) * reps as f64;
            // Poisson: sd = sqrt(expect); 5 sd.
            assert!(
                (n - expect).abs() < 5.0 * expect.sqrt(),
                "bucket {b}: {n} vs {expect}"
            );
        }
    }

    #[test]
    fn onoff_source_has_the_stationary_mean_rate() {
        let mut c = cfg(10.0, 0.0);
        c.onoff = Some(OnOffConfig {
            on: Duration(10.0),
            off: Duration(30.0),
            on_factor: 4.0,
            off_factor: 0.0,
        });
        let t = 400_000.0;
        let n = arrivals(&mut source(&c, t)).len() as f64;
        // Mean rate: 10 x 4 x P(on) = 10 x 4 x 0.25 = 10/s. For a two-state
        // MMPP, Var N(T) ~ (mean + 2 Var(rate) tau) T with Var(rate) =
        // 40^2 x 0.25 x 0.75 = 300 and correlation time tau = 1/(1/10 +
        // 1/30) = 7.5 s: sd = sqrt(4510 T) = 42,500 (1.06%). Allow 4 sd.
        let sd = (4510.0 * t).sqrt();
        assert!((n - 10.0 * t).abs() < 4.0 * sd, "{n}");
    }
}
