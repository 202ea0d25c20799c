//! A key-value cache in front of a slower component: LRU, FIFO, LFU or
//! RANDOM replacement over `capacity` entries, an optional TTL, a lookup
//! latency paid by hits and misses alike, and miss forwarding — the
//! answer to a miss fills the cache.
//!
//! Validated against Che's approximation for LRU and its FIFO/RANDOM
//! variant under the independent reference model (Che, Tung, Wang 2002;
//! Fricker, Robert, Roberts 2012; Martina, Garetto, Leonardi 2014).
//!
//! TTL expiry is lazy: an expired entry is a miss when looked up and is
//! refreshed in place by the fill; until then it still takes a slot (as
//! with a cache that only expires on access). A write invalidates its key
//! the same lazy way.
//!
//! Layers: `scope = "shared"` (the default) is one store, like Redis or a
//! CDN edge; `scope = "per_instance"` gives every instance of the calling
//! pool its own store (an in-process L1), empty when the instance starts.
//! Spread over n instances, each L1 sees 1/n of the requests, so with a
//! TTL its hit ratio falls as the pool scales out: for a TTL cache that
//! never evicts, key i with rate lambda_i hits with probability
//! lambda_i T / (1 + lambda_i T) (Fofack, Nain, Neglia & Towsley,
//! "Performance evaluation of hierarchical TTL-based cache networks",
//! Computer Networks 2014), with lambda_i divided by n per instance.
//!
//! Miss coalescing (`coalesce = true`): while a key's miss is on its way
//! to the backend, later misses for it wait for that answer instead of
//! sending their own (request collapsing, as in Varnish or a singleflight
//! group); without it a popular key that expires sends a stampede.

use crate::dist::DistConfig;
use crate::fleet::cost::Pricing;
use crate::units::Duration;
use rand::Rng;
use rustc_hash::FxHashMap;
use scalesim_sim::{SimRng, Time};
use serde::Deserialize;

/// Replacement policy.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Evict the least recently used entry.
    #[default]
    Lru,
    /// Evict the oldest inserted entry (hits do not refresh).
    Fifo,
    /// Evict the least frequently used entry (ties: least recently used).
    Lfu,
    /// Evict a uniformly random entry.
    Random,
}

/// `[components.<name>]` with `kind = "cache"`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CacheConfig {
    /// Always "cache" (read by the scenario loader to pick this type).
    #[serde(default)]
    pub kind: Option<String>,
    /// Number of entries.
    pub capacity: u64,
    /// Replacement policy.
    #[serde(default)]
    pub policy: Policy,
    /// Optional time to live of an entry.
    #[serde(default)]
    pub ttl: Option<Duration>,
    /// Lookup latency, paid by hits and misses.
    #[serde(default = "default_hit")]
    pub hit: DistConfig,
    /// Component a miss is forwarded to; its answer fills the cache. Absent:
    /// a miss answers after the lookup (and fills the key).
    #[serde(default)]
    pub miss: Option<String>,
    /// Cache nodes, for cost (the store is modelled as one).
    #[serde(default = "one_node")]
    pub nodes: u32,
    /// Catalog instance type of a node, for cost (see [`crate::fleet::cost`]).
    #[serde(default)]
    pub instance_type: Option<String>,
    /// Price per node-hour, USD (wins over the catalog).
    #[serde(default)]
    pub price_per_hour: Option<f64>,
    /// One shared store, or one per instance of the calling pool.
    #[serde(default)]
    pub scope: Scope,
    /// Keys 1..=warm (the most popular under a Zipf law) are stored at the
    /// start (in every store).
    #[serde(default)]
    pub warm: u64,
    /// Concurrent misses for one key wait for the first one's answer.
    #[serde(default)]
    pub coalesce: bool,
    /// A `per_instance` cache: the memory one entry takes (key, value and
    /// the cache's own overhead), counted in the memory of the instance it
    /// lives in (its pool's `memory`), so a growing L1 can OOM-kill it.
    #[serde(default)]
    pub entry_size: Option<crate::fleet::memory::Bytes>,
}

/// Where a cache's store lives.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// One store for every caller (Redis, Memcached, a CDN edge).
    #[default]
    Shared,
    /// One store per instance of the calling pool (an in-process cache).
    PerInstance,
}

fn one_node() -> u32 {
    1
}

impl CacheConfig {
    /// What a node costs.
    pub fn pricing(&self) -> Pricing {
        Pricing {
            instance_type: self.instance_type.clone(),
            price_per_hour: self.price_per_hour,
            spot: None,
        }
    }
}

fn default_hit() -> DistConfig {
    DistConfig::Const {
        value: Duration(0.0),
    }
}

const NIL: u32 = u32::MAX;

/// `Entry::stored_at` of an invalidated entry.
const INVALID: Time = Time::MAX;

#[derive(Clone, Copy)]
struct Entry {
    key: u64,
    stored_at: Time,
    /// Neighbours in the entry's list (LRU/FIFO order, or its LFU bucket).
    prev: u32,
    next: u32,
    /// LFU: the frequency bucket holding this entry.
    bucket: u32,
}

/// Ends of an intrusive doubly linked list threaded through `Entry`
/// (head = most recent).
#[derive(Clone, Copy)]
struct List {
    head: u32,
    tail: u32,
}

const EMPTY: List = List {
    head: NIL,
    tail: NIL,
};

/// LFU: all entries used `freq` times, most recent first. Buckets form a
/// list in increasing frequency (Shah, Mitra & Matani's O(1) LFU).
#[derive(Clone, Copy)]
struct Bucket {
    freq: u64,
    entries: List,
    prev: u32,
    next: u32,
}

/// The cache's store: which keys are present, under a replacement policy.
/// Entries live in a dense vector; LRU and FIFO keep one list through it,
/// LFU one list per frequency. Every operation is O(1) and, once the store
/// is full, allocation-free.
pub struct Store {
    policy: Policy,
    capacity: usize,
    ttl: Option<Time>,
    entries: Vec<Entry>,
    index: FxHashMap<u64, u32>,
    order: List,
    buckets: Vec<Bucket>,
    free_buckets: Vec<u32>,
    /// LFU: the lowest-frequency bucket.
    min_bucket: u32,
    rng: SimRng,
}

impl Store {
    /// An empty store; `rng` is used by RANDOM eviction only.
    pub fn new(policy: Policy, capacity: u64, ttl: Option<Time>, rng: SimRng) -> Self {
        let capacity = capacity.min(u32::MAX as u64 - 1) as usize;
        let mut index = FxHashMap::default();
        index.reserve(capacity.min(1 << 20));
        Store {
            policy,
            capacity,
            ttl,
            entries: Vec::with_capacity(capacity.min(1 << 20)),
            index,
            order: EMPTY,
            buckets: Vec::new(),
            free_buckets: Vec::new(),
            min_bucket: NIL,
            rng,
        }
    }

    /// Number of stored entries (expired ones included until replaced).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Looks `key` up at `now`: true for a fresh hit (which counts as a use).
    pub fn lookup(&mut self, key: u64, now: Time) -> bool {
        let Some(&i) = self.index.get(&key) else {
            return false;
        };
        if self.entries[i as usize].stored_at == INVALID {
            return false;
        }
        if let Some(ttl) = self.ttl {
            if now.saturating_sub(self.entries[i as usize].stored_at) >= ttl {
                return false;
            }
        }
        self.touch(i);
        true
    }

    /// Marks `key` stale (a write): the next lookup misses, the next fill
    /// refreshes it. It keeps its slot until then.
    pub fn invalidate(&mut self, key: u64) {
        if let Some(&i) = self.index.get(&key) {
            self.entries[i as usize].stored_at = INVALID;
        }
    }

    /// Empties the store (a new instance's cold cache).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.index.clear();
        self.order = EMPTY;
        self.buckets.clear();
        self.free_buckets.clear();
        self.min_bucket = NIL;
    }

    /// Stores keys `1..=n` at `now`, key 1 last (the most recent).
    pub fn warm(&mut self, n: u64, now: Time) {
        for key in (1..=n.min(self.capacity as u64)).rev() {
            self.fill(key, now);
        }
    }

    /// Stores `key` at `now` (the answer to a miss), evicting if full.
    pub fn fill(&mut self, key: u64, now: Time) {
        if self.capacity == 0 {
            return;
        }
        if let Some(&i) = self.index.get(&key) {
            self.entries[i as usize].stored_at = now;
            if self.policy == Policy::Fifo {
                // A refreshed entry is a new insertion.
                let mut order = self.order;
                self.unlink(&mut order, i);
                self.push_front(&mut order, i);
                self.order = order;
            } else {
                self.touch(i);
            }
            return;
        }
        let e = Entry {
            key,
            stored_at: now,
            prev: NIL,
            next: NIL,
            bucket: NIL,
        };
        let i = if self.entries.len() < self.capacity {
            self.entries.push(e);
            (self.entries.len() - 1) as u32
        } else {
            let v = self.evict();
            self.entries[v as usize] = e;
            v
        };
        self.index.insert(key, i);
        match self.policy {
            Policy::Lru | Policy::Fifo => {
                let mut order = self.order;
                self.push_front(&mut order, i);
                self.order = order;
            }
            Policy::Lfu => self.lfu_insert_new(i),
            Policy::Random => {}
        }
    }

    /// Removes the victim from every structure and returns its slot.
    fn evict(&mut self) -> u32 {
        let v = match self.policy {
            Policy::Lru | Policy::Fifo => {
                let mut order = self.order;
                let v = order.tail;
                self.unlink(&mut order, v);
                self.order = order;
                v
            }
            Policy::Lfu => {
                let b = self.min_bucket;
                let v = self.buckets[b as usize].entries.tail;
                self.lfu_detach(v);
                v
            }
            Policy::Random => self.rng.random_range(0..self.entries.len() as u32),
        };
        let old = self.entries[v as usize].key;
        self.index.remove(&old);
        v
    }

    fn touch(&mut self, i: u32) {
        match self.policy {
            Policy::Lru => {
                if self.order.head != i {
                    let mut order = self.order;
                    self.unlink(&mut order, i);
                    self.push_front(&mut order, i);
                    self.order = order;
                }
            }
            Policy::Lfu => self.lfu_promote(i),
            Policy::Fifo | Policy::Random => {}
        }
    }

    fn unlink(&mut self, list: &mut List, i: u32) {
        let Entry { prev, next, .. } = self.entries[i as usize];
        if prev != NIL {
            self.entries[prev as usize].next = next;
        } else {
            list.head = next;
        }
        if next != NIL {
            self.entries[next as usize].prev = prev;
        } else {
            list.tail = prev;
        }
    }

    fn push_front(&mut self, list: &mut List, i: u32) {
        let old = list.head;
        let e = &mut self.entries[i as usize];
        e.prev = NIL;
        e.next = old;
        if old != NIL {
            self.entries[old as usize].prev = i;
        } else {
            list.tail = i;
        }
        list.head = i;
    }

    /// LFU: a new bucket of frequency `freq` linked after bucket `after`
    /// (NIL: at the front).
    fn new_bucket(&mut self, freq: u64, after: u32) -> u32 {
        let next = if after == NIL {
            self.min_bucket
        } else {
            self.buckets[after as usize].next
        };
        let b = Bucket {
            freq,
            entries: EMPTY,
            prev: after,
            next,
        };
        let id = match self.free_buckets.pop() {
            Some(id) => {
                self.buckets[id as usize] = b;
                id
            }
            None => {
                self.buckets.push(b);
                (self.buckets.len() - 1) as u32
            }
        };
        if after == NIL {
            self.min_bucket = id;
        } else {
            self.buckets[after as usize].next = id;
        }
        if next != NIL {
            self.buckets[next as usize].prev = id;
        }
        id
    }

    /// LFU: takes entry `i` out of its bucket, freeing the bucket if empty.
    fn lfu_detach(&mut self, i: u32) {
        let b = self.entries[i as usize].bucket;
        let mut list = self.buckets[b as usize].entries;
        self.unlink(&mut list, i);
        self.buckets[b as usize].entries = list;
        if list.head == NIL {
            let Bucket { prev, next, .. } = self.buckets[b as usize];
            if prev != NIL {
                self.buckets[prev as usize].next = next;
            } else {
                self.min_bucket = next;
            }
            if next != NIL {
                self.buckets[next as usize].prev = prev;
            }
            self.free_buckets.push(b);
        }
    }

    fn lfu_attach(&mut self, i: u32, b: u32) {
        let mut list = self.buckets[b as usize].entries;
        self.push_front(&mut list, i);
        self.buckets[b as usize].entries = list;
        self.entries[i as usize].bucket = b;
    }

    fn lfu_insert_new(&mut self, i: u32) {
        let m = self.min_bucket;
        let b = if m != NIL && self.buckets[m as usize].freq == 1 {
            m
        } else {
            self.new_bucket(1, NIL)
        };
        self.lfu_attach(i, b);
    }

    fn lfu_promote(&mut self, i: u32) {
        let b = self.entries[i as usize].bucket;
        let Bucket { freq, next, .. } = self.buckets[b as usize];
        let target = if next != NIL && self.buckets[next as usize].freq == freq + 1 {
            next
        } else {
            self.new_bucket(freq + 1, b)
        };
        self.lfu_detach(i);
        self.lfu_attach(i, target);
    }
}

/// Che's approximation of the hit ratio of a cache of `capacity` entries
/// under popularities `p` (IRM): solve sum_i a_i(T) = capacity for the
/// characteristic time T, then hit = sum_i p_i a_i(T), with
/// a_i = 1 - exp(-p_i T) for LRU and p_i T / (1 + p_i T) for FIFO/RANDOM.
pub fn che_hit_ratio(p: &[f64], capacity: f64, policy: Policy) -> f64 {
    let occ = |t: f64, pi: f64| match policy {
        Policy::Fifo | Policy::Random => pi * t / (1.0 + pi * t),
        _ => 1.0 - (-pi * t).exp(),
    };
    if capacity >= p.len() as f64 {
        return 1.0;
    }
    let fill = |t: f64| p.iter().map(|&pi| occ(t, pi)).sum::<f64>();
    let (mut lo, mut hi) = (0.0, 1.0);
    while fill(hi) < capacity {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if fill(mid) < capacity {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let t = 0.5 * (lo + hi);
    p.iter().map(|&pi| pi * occ(t, pi)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(policy: Policy, cap: u64) -> Store {
        Store::new(policy, cap, None, scalesim_sim::stream(0, 0, "c", "evict"))
    }

    #[test]
    fn lru_evicts_least_recently_used() {
        let mut s = store(Policy::Lru, 2);
        s.fill(1, 0);
        s.fill(2, 0);
        assert!(s.lookup(1, 0)); // 1 is now most recent
        s.fill(3, 0); // evicts 2
        assert!(s.lookup(1, 0));
        assert!(!s.lookup(2, 0));
        assert!(s.lookup(3, 0));
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn fifo_ignores_hits() {
        let mut s = store(Policy::Fifo, 2);
        s.fill(1, 0);
        s.fill(2, 0);
        assert!(s.lookup(1, 0));
        s.fill(3, 0); // evicts 1, the oldest insertion
        assert!(!s.lookup(1, 0));
        assert!(s.lookup(2, 0));
    }

    #[test]
    fn lfu_breaks_ties_by_recency_and_reuses_buckets() {
        let mut s = store(Policy::Lfu, 3);
        for k in 1..=3 {
            s.fill(k, 0);
        }
        assert!(s.lookup(2, 0)); // 2: freq 2; 1 and 3: freq 1, 1 older
        s.fill(4, 0); // evicts 1
        assert!(!s.lookup(1, 0));
        assert!(s.lookup(3, 0) && s.lookup(4, 0)); // all at freq 2 now, 2 oldest
        s.fill(5, 0); // evicts 2
        assert!(!s.lookup(2, 0));
        for k in 100..10_000 {
            s.fill(k, 0);
            s.lookup(k, 0);
        }
        assert_eq!(s.len(), 3);
        assert!(
            s.buckets.len() <= 8,
            "buckets are recycled: {}",
            s.buckets.len()
        );
    }

    #[test]
    fn lfu_evicts_least_frequent() {
        let mut s = store(Policy::Lfu, 2);
        s.fill(1, 0);
        s.fill(2, 0);
        assert!(s.lookup(1, 0));
        assert!(s.lookup(1, 0));
        assert!(s.lookup(2, 0));
        s.fill(3, 0); // 2 has freq 2 < 3
        assert!(s.lookup(1, 0));
        assert!(!s.lookup(2, 0));
    }

    #[test]
    fn random_keeps_capacity_and_index_consistent() {
        let mut s = store(Policy::Random, 10);
        for k in 0..1000 {
            s.fill(k, 0);
        }
        assert_eq!(s.len(), 10);
        assert_eq!(s.index.len(), 10);
        let present = (0..1000).filter(|&k| s.lookup(k, 0)).count();
        assert_eq!(present, 10);
    }

    #[test]
    fn ttl_expires_entries() {
        let mut s = Store::new(
            Policy::Lru,
            4,
            Some(100),
            scalesim_sim::stream(0, 0, "c", "e"),
        );
        s.fill(7, 0);
        assert!(s.lookup(7, 99));
        assert!(!s.lookup(7, 100));
        s.fill(7, 150);
        assert!(s.lookup(7, 200));
    }

    #[test]
    fn zero_capacity_never_hits() {
        let mut s = store(Policy::Lru, 0);
        s.fill(1, 0);
        assert!(!s.lookup(1, 0));
    }

    #[test]
    fn che_matches_reference_table() {
        // ../shared/reference/queueing.md
        let p = crate::traffic::KeysConfig {
            count: 10_000,
            zipf: 0.8,
        }
        .probabilities();
        assert!((che_hit_ratio(&p, 100.0, Policy::Lru) - 0.1566).abs() < 5e-4);
        assert!((che_hit_ratio(&p, 100.0, Policy::Fifo) - 0.1336).abs() < 5e-4);
        let p = crate::traffic::KeysConfig {
            count: 10_000,
            zipf: 1.2,
        }
        .probabilities();
        assert!((che_hit_ratio(&p, 50.0, Policy::Lru) - 0.5755).abs() < 5e-4);
    }
}
