//! `queue_timeout`: how long a visit waits in a pool's queue before it
//! gives up and leaves unserved (load shedding of stale work, or a client
//! that stops waiting). Each queued visit draws its patience from the law
//! (`"2s"` for a fixed deadline, `{ dist = "exp", mean = "2s" }` for the
//! exponential patience of Palm's M/M/c+M, "Erlang-A"; Garnett, Mandelbaum
//! and Reiman, "Designing a call center with impatient customers", MSOM
//! 2002). A visit that starts service before its deadline is served in
//! full.
//!
//! A visit that gives up leaves at once, while its entry stays in the
//! FIFO as a tombstone, skipped when it reaches the head: removal is O(1)
//! however long the queue. A visit slot can be reused by a later visit
//! that queues again, but in one FIFO the stale entry of a slot always
//! comes before a live one (it was enqueued first), so a count of stale
//! entries per slot tells them apart.

use crate::dist::{Dist, DistConfig};
use scalesim_sim::{SimRng, Time};

/// The deadlines of one pool's queued visits.
pub struct Patience {
    law: Dist,
    rng: SimRng,
    /// Per visit slot: the ticket of its current wait here (0: not
    /// waiting here).
    ticket: Vec<u32>,
    /// Per visit slot: stale entries of it in the FIFO.
    stale: Vec<u32>,
    /// Stale entries in the FIFO.
    stale_total: usize,
    /// The last ticket handed out.
    last: u32,
}

impl Patience {
    /// Deadlines drawn from `law` with `rng`.
    pub fn new(law: &DistConfig, rng: SimRng) -> Patience {
        Patience {
            law: law.sampler(),
            rng,
            ticket: Vec::new(),
            stale: Vec::new(),
            stale_total: 0,
            last: 0,
        }
    }

    fn grow(&mut self, slot: usize) {
        if self.ticket.len() <= slot {
            let n = (slot + 1).next_power_of_two();
            self.ticket.resize(n, 0);
            self.stale.resize(n, 0);
        }
    }

    /// Visit `slot` joins the queue: its ticket and how long it will wait.
    pub fn wait(&mut self, slot: u32) -> (u32, Time) {
        self.grow(slot as usize);
        // Tickets wrap past u32::MAX, skipping 0 (not waiting).
        self.last = self.last.checked_add(1).unwrap_or(1);
        self.ticket[slot as usize] = self.last;
        (self.last, self.law.sample(&mut self.rng))
    }

    /// The deadline of ticket `ticket` of visit `slot` passed: true when
    /// the visit is still waiting (it gives up now; its entry goes stale).
    pub fn expire(&mut self, slot: u32, ticket: u32) -> bool {
        let s = slot as usize;
        if self.ticket.get(s) != Some(&ticket) {
            return false;
        }
        self.ticket[s] = 0;
        self.stale[s] += 1;
        self.stale_total += 1;
        true
    }

    /// The same for a visit whose entry the caller removes from its queue
    /// at once (a balanced pool's per-instance queues, where a slot's
    /// entries may sit in different queues, so tombstones could not be
    /// told apart): no tombstone is left.
    pub fn withdraw(&mut self, slot: u32, ticket: u32) -> bool {
        let s = slot as usize;
        if self.ticket.get(s) != Some(&ticket) {
            return false;
        }
        self.ticket[s] = 0;
        true
    }

    /// Visit `slot` left a queue without tombstones (served, or lost with
    /// its instance): its deadline no longer applies.
    pub fn left(&mut self, slot: u32) {
        if let Some(t) = self.ticket.get_mut(slot as usize) {
            *t = 0;
        }
    }

    /// Visit `slot` reached the head of the queue: true when the entry is
    /// live (the visit starts service and stops waiting), false when it is
    /// a stale entry (dropped).
    pub fn reach_head(&mut self, slot: u32) -> bool {
        let s = slot as usize;
        if self.stale.get(s).is_some_and(|&n| n > 0) {
            self.stale[s] -= 1;
            self.stale_total -= 1;
            return false;
        }
        if let Some(t) = self.ticket.get_mut(s) {
            *t = 0;
        }
        true
    }

    /// Stale entries still in the FIFO.
    pub fn stale(&self) -> usize {
        self.stale_total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Duration;

    fn patience() -> Patience {
        let law = DistConfig::Const {
            value: Duration(2.0),
        };
        Patience::new(&law, scalesim_sim::stream(0, 0, "p", "t"))
    }

    #[test]
    fn a_slot_reused_after_giving_up_is_told_from_its_stale_entry() {
        let mut p = patience();
        // Visit in slot 3 queues (entry 1), gives up, and a later visit in
        // the same slot queues again (entry 2) behind the stale one.
        let (t1, dt) = p.wait(3);
        assert_eq!(dt, 2_000_000_000);
        assert!(p.expire(3, t1));
        assert!(!p.expire(3, t1), "a deadline fires once");
        let (t2, _) = p.wait(3);
        assert_ne!(t1, t2);
        assert_eq!(p.stale(), 1);
        // The FIFO reaches entry 1 first: stale, dropped; then entry 2:
        // live, and its deadline no longer applies.
        assert!(!p.reach_head(3));
        assert!(p.reach_head(3));
        assert!(!p.expire(3, t2));
        assert_eq!(p.stale(), 0);
    }
}
