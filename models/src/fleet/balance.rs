//! Load balancing across the instances of a pool: which ready instance an
//! arriving request goes to when each instance keeps its own queue.
//!
//! - `fifo` (the default): no balancer decision; one shared FIFO queue
//!   feeds every free slot (the M/M/c model; see [`crate::fleet::pool`]).
//! - `round_robin`: ready instances in turn (nginx's default).
//! - `weighted`: smooth weighted round robin over per-instance weights
//!   (nginx's `weight=`; the weight of instance i is `weights[i % len]`,
//!   so `[3, 3, 2]` gives groups 3/3/2 as the pool grows).
//! - `random`: uniform over ready instances (each instance is then an
//!   M/M/k queue with a thinned Poisson input).
//! - `least_conn`: the instance with the fewest requests in service or
//!   queued, ties in rotation (join-the-shortest-queue; nginx `least_conn`).
//!   With `weights`, as nginx's `ngx_http_upstream_least_conn_module`:
//!   the fewest requests per unit of weight (`conns / weight`), ties
//!   broken by smooth weighted round robin among the tied instances.
//! - `power_of_two`: two distinct instances at random, the one with fewer
//!   requests (Mitzenmacher, "The Power of Two Choices in Randomized Load
//!   Balancing", IEEE TPDS 2001: the supermarket model, where the fraction
//!   of queues with at least i jobs tends to lambda^(2^i - 1)).
//! - `hash`: consistent hashing of the request key on a ring with
//!   `virtual_nodes` points per instance (Karger et al., STOC 1997): a key
//!   sticks to its instance while the pool does not change, and a change
//!   moves only the keys of the instances that came or went. With v points
//!   per instance the load share of an instance has a relative standard
//!   deviation near 1/sqrt(v).

use rand::Rng;
use scalesim_sim::SimRng;
use serde::Deserialize;

/// How a pool spreads requests over its instances.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// One shared FIFO queue (no per-instance queues).
    #[default]
    Fifo,
    /// Instances in turn.
    RoundRobin,
    /// Smooth weighted round robin.
    Weighted,
    /// Uniform at random.
    Random,
    /// Fewest requests (in service + queued).
    LeastConn,
    /// The less loaded of two random instances.
    PowerOfTwo,
    /// Consistent hashing of the request key.
    Hash,
}

impl Policy {
    /// The names accepted in scenarios.
    pub const NAMES: [&'static str; 7] = [
        "fifo",
        "round_robin",
        "weighted",
        "random",
        "least_conn",
        "power_of_two",
        "hash",
    ];

    /// True when instances keep their own queues (every policy but `fifo`).
    pub fn per_instance(self) -> bool {
        self != Policy::Fifo
    }
}

/// SplitMix64's finalizer (Steele, Lea & Flood, OOPSLA 2014): spreads keys
/// and ring points uniformly over 64 bits.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Default points per instance on the hash ring.
pub const DEFAULT_VNODES: u32 = 100;

/// Picks an instance among the ready ones.
#[derive(Clone, Debug)]
pub struct Balancer {
    policy: Policy,
    weights: Vec<u32>,
    vnodes: u32,
    next: usize,
    /// Smooth weighted round robin: current weight per instance index.
    current: Vec<i64>,
    /// (point, instance), sorted; rebuilt when the ready set changes.
    ring: Vec<(u64, u32)>,
}

impl Balancer {
    /// A balancer with `weights` (for `weighted`) and `vnodes` ring points
    /// per instance (for `hash`).
    pub fn new(policy: Policy, weights: Vec<u32>, vnodes: u32) -> Balancer {
        Balancer {
            policy,
            weights,
            vnodes: vnodes.max(1),
            next: 0,
            current: Vec::new(),
            ring: Vec::new(),
        }
    }

    /// The ready set changed (scaling): rebuild what depends on it.
    /// Allocates; called on scaling decisions only, not per request.
    pub fn ready_changed(&mut self, ready: &[u32]) {
        if self.policy == Policy::Hash {
            self.ring.clear();
            for &inst in ready {
                for v in 0..self.vnodes {
                    let point = splitmix64(((inst as u64) << 32) | v as u64);
                    self.ring.push((point, inst));
                }
            }
            self.ring.sort_unstable();
        }
        let top = ready.iter().max().map_or(0, |&m| m as usize + 1);
        if self.current.len() < top {
            self.current.resize(top, 0);
        }
    }

    fn weight(&self, inst: u32) -> i64 {
        if self.weights.is_empty() {
            1
        } else {
            self.weights[inst as usize % self.weights.len()] as i64
        }
    }

    /// Weighted least connections (nginx): the lowest `load / weight`
    /// (compared as `load[i] x w_best < load[best] x w_i`), then smooth
    /// weighted round robin among the instances tied at it.
    fn least_weighted(&mut self, ready: &[u32], load: &[u32]) -> u32 {
        let ratio_below = |a: u32, wa: i64, b: u32, wb: i64| (a as i64) * wb < (b as i64) * wa;
        let mut low = ready[0];
        for &i in &ready[1..] {
            if ratio_below(
                load[i as usize],
                self.weight(i),
                load[low as usize],
                self.weight(low),
            ) {
                low = i;
            }
        }
        let (l, w) = (load[low as usize] as i64, self.weight(low));
        self.smooth(ready, low, |i, wi| load[i as usize] as i64 * w == l * wi)
    }

    /// nginx's smooth weighted round robin among the instances of `ready`
    /// that `among` (given an instance and its weight) keeps, `first` one
    /// of them: each gains its weight, the highest is picked and loses the
    /// total.
    fn smooth(&mut self, ready: &[u32], first: u32, among: impl Fn(u32, i64) -> bool) -> u32 {
        let mut total = 0;
        let mut best = first;
        for &i in ready {
            let w = self.weight(i);
            if !among(i, w) {
                continue;
            }
            total += w;
            self.current[i as usize] += w;
            if self.current[i as usize] > self.current[best as usize] {
                best = i;
            }
        }
        self.current[best as usize] -= total;
        best
    }

    /// Moves the rotating start to the next of `n` ready instances and
    /// returns it (one division only when the ready set shrank).
    #[inline]
    fn advance(&mut self, n: usize) -> usize {
        let s = self.next + 1;
        self.next = if s < n { s } else { s % n };
        self.next
    }

    /// The instance for a request with `key`, among `ready` (not empty),
    /// where `load[i]` is instance i's requests in service or queued.
    #[inline]
    pub fn pick(&mut self, ready: &[u32], load: &[u32], key: u64, rng: &mut SimRng) -> u32 {
        let n = ready.len();
        match self.policy {
            Policy::Fifo | Policy::RoundRobin => ready[self.advance(n)],
            Policy::Random => ready[rng.random_range(0..n)],
            Policy::PowerOfTwo => {
                if n == 1 {
                    return ready[0];
                }
                let a = rng.random_range(0..n);
                let mut b = rng.random_range(0..n - 1);
                if b >= a {
                    b += 1;
                }
                let (x, y) = (ready[a], ready[b]);
                if load[y as usize] < load[x as usize] {
                    y
                } else {
                    x
                }
            }
            Policy::LeastConn if !self.weights.is_empty() => self.least_weighted(ready, load),
            Policy::LeastConn => {
                // Scan from a rotating start so ties take turns: the
                // instances after the start, then those before it.
                let start = self.advance(n);
                let mut best = ready[start];
                let mut lowest = load[best as usize];
                for &i in ready[start + 1..].iter().chain(&ready[..start]) {
                    let l = load[i as usize];
                    if l < lowest {
                        (best, lowest) = (i, l);
                    }
                }
                best
            }
            Policy::Weighted => self.smooth(ready, ready[0], |_, _| true),
            Policy::Hash => {
                let h = splitmix64(key);
                let at = self.ring.partition_point(|&(p, _)| p < h);
                self.ring
                    .get(at)
                    .or(self.ring.first())
                    .map_or(ready[0], |&(_, i)| i)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn picks(b: &mut Balancer, ready: &[u32], n: usize) -> Vec<u32> {
        let load = vec![0; 16];
        let mut rng = SimRng::seed_from_u64(1);
        (0..n)
            .map(|k| b.pick(ready, &load, k as u64, &mut rng))
            .collect()
    }

    #[test]
    fn weighted_least_conn_divides_connections_by_weight() {
        let mut b = Balancer::new(Policy::LeastConn, vec![3, 1], 1);
        b.ready_changed(&[0, 1]);
        let mut rng = SimRng::seed_from_u64(1);
        // 5 / 3 < 2 / 1: the heavier server, though it holds more.
        assert_eq!(b.pick(&[0, 1], &[5, 2], 0, &mut rng), 0);
        // 7 / 3 > 2 / 1.
        assert_eq!(b.pick(&[0, 1], &[7, 2], 0, &mut rng), 1);
        // Ties (6 / 3 = 2 / 1, and all idle) go 3:1 by weight.
        for load in [[6, 2], [0, 0]] {
            let mut b = Balancer::new(Policy::LeastConn, vec![3, 1], 1);
            b.ready_changed(&[0, 1]);
            let got: Vec<u32> = (0..8)
                .map(|_| b.pick(&[0, 1], &load, 0, &mut rng))
                .collect();
            assert_eq!(
                got.iter().filter(|&&i| i == 0).count(),
                6,
                "{load:?}: {got:?}"
            );
        }
    }

    #[test]
    fn round_robin_takes_turns() {
        let mut b = Balancer::new(Policy::RoundRobin, vec![], 1);
        assert_eq!(picks(&mut b, &[0, 1, 2], 6), [1, 2, 0, 1, 2, 0]);
    }

    #[test]
    fn smooth_weighted_round_robin_spreads_3_3_2() {
        let mut b = Balancer::new(Policy::Weighted, vec![3, 3, 2], 1);
        b.ready_changed(&[0, 1, 2]);
        let p = picks(&mut b, &[0, 1, 2], 80);
        let count = |i| p.iter().filter(|&&x| x == i).count();
        assert_eq!((count(0), count(1), count(2)), (30, 30, 20));
        // Smooth: never the same instance three times in a row.
        assert!(p.windows(3).all(|w| !(w[0] == w[1] && w[1] == w[2])));
    }

    #[test]
    fn least_conn_and_two_choices_prefer_the_shorter_queue() {
        let load = [5, 0, 7, 9];
        let mut rng = SimRng::seed_from_u64(2);
        let mut b = Balancer::new(Policy::LeastConn, vec![], 1);
        assert_eq!(b.pick(&[0, 1, 2, 3], &load, 0, &mut rng), 1);
        let mut b = Balancer::new(Policy::PowerOfTwo, vec![], 1);
        // Instance 3 (the longest) is never chosen: it loses every pair.
        for _ in 0..200 {
            assert_ne!(b.pick(&[0, 1, 2, 3], &load, 0, &mut rng), 3);
        }
    }

    #[test]
    fn hashing_is_sticky_and_moves_few_keys() {
        let mut b = Balancer::new(Policy::Hash, vec![], 100);
        let all = [0, 1, 2, 3, 4];
        b.ready_changed(&all);
        let mut rng = SimRng::seed_from_u64(3);
        let before: Vec<u32> = (0..10_000u64)
            .map(|k| b.pick(&all, &[0; 5], k, &mut rng))
            .collect();
        let again: Vec<u32> = (0..10_000u64)
            .map(|k| b.pick(&all, &[0; 5], k, &mut rng))
            .collect();
        assert_eq!(before, again);
        // Instance 4 leaves: only its keys move.
        let four = [0, 1, 2, 3];
        b.ready_changed(&four);
        for k in 0..10_000u64 {
            let now = b.pick(&four, &[0; 5], k, &mut rng);
            if before[k as usize] != 4 {
                assert_eq!(now, before[k as usize], "key {k} moved");
            }
        }
    }
}
