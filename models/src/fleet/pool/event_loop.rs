//! `io = "async"`: an instance runs an event loop (Node.js, Python
//! asyncio, Netty, Go's scheduler). Its `concurrency` slots are cores: a
//! request holds a core only while it computes, then awaits its calls
//! holding none (counted in [`Instance::in_flight`]), so the core serves
//! the next request meanwhile. A request that awaits a call is *away*;
//! the instance is done with it when it answers.
//!
//! A request that computes again after a call (`steps`) takes a core of
//! its own instance again: at once if one is free, else it waits for the
//! instance's next free core, before new arrivals (the event loop finishes
//! what it holds before it accepts more).
//!
//! With `max_in_flight` an instance holds at most that many requests at
//! once (a server's connection limit, e.g. Node's `server.maxConnections`
//! or nginx's `worker_connections`): one more waits in the queue as for a
//! core, and is refused when the queue is full.
//!
//! With CPU `S` and a call of `D` per request on one core, arrivals meet
//! an M/G/1 queue of service `S` and the response time is its sojourn plus
//! `D` (Kleinrock, *Queueing Systems* vol. 1, §5.5: Pollaczek-Khinchine);
//! a blocking pool holding its slot through the call is M/G/1 with
//! service `S + D` (tested in `tests/validation_io.rs`).

use super::{pop_live, Phase, Pool, Release};
use scalesim_sim::Time;
use std::collections::VecDeque;

impl Pool {
    /// Whether slots are cores held only while computing (`io = "async"`).
    pub fn io_async(&self) -> bool {
        self.io_async
    }

    /// A request of instance `inst` ends its CPU step at `now` and awaits a
    /// call: its core goes to the next request waiting at the instance
    /// (or in the shared queue), if the in-flight limit allows.
    #[inline]
    pub fn suspend(&mut self, inst: u32, now: Time) -> Release {
        let i = &mut self.instances[inst as usize];
        i.away += 1;
        i.set_busy(now, i.busy - 1);
        if i.phase == Phase::Ready {
            self.busy_ready -= 1;
        }
        self.start_waiting(inst, now)
    }

    /// A request of instance `inst` that holds no core (it awaited a call)
    /// leaves at `now`: room for one more request in flight.
    #[inline]
    pub fn finish(&mut self, inst: u32, now: Time) -> Release {
        self.instances[inst as usize].away -= 1;
        if let Some(d) = self.dispatch.as_deref_mut() {
            d.dec(inst, now);
        }
        let mut r = self.start_waiting(inst, now);
        let i = &mut self.instances[inst as usize];
        r.gone = r.next.is_none() && i.phase != Phase::Ready && i.unready_release();
        r
    }

    /// A request of instance `inst` that awaited a call computes again at
    /// `now`: true when it took a free core of its instance; else it waits
    /// for one (handed to it as a `resumed` [`Release`]).
    pub fn resume(&mut self, inst: u32, visit: u32, now: Time) -> bool {
        let i = &mut self.instances[inst as usize];
        if i.busy < i.cores {
            i.away -= 1;
            i.set_busy(now, i.busy + 1);
            if i.phase == Phase::Ready {
                self.busy_ready += 1;
            }
            return true;
        }
        let k = inst as usize;
        if self.resuming.len() <= k {
            self.resuming.resize_with(k + 1, VecDeque::new);
        }
        self.resuming[k].push_back(visit);
        false
    }

    /// The requests of instance `inst` waiting for a core to compute again
    /// (it failed: they are lost).
    pub fn take_resuming(&mut self, inst: u32) -> Vec<u32> {
        self.resuming
            .get_mut(inst as usize)
            .map(|q| q.drain(..).collect())
            .unwrap_or_default()
    }

    /// Instance `inst` may have a free core: a request it holds waiting
    /// to compute again takes it; else, with room for one more request,
    /// the next waiting arrival, (visit, instance); or the core is offered
    /// to arrivals (the shared queue's free-slot stack).
    fn start_waiting(&mut self, inst: u32, now: Time) -> Release {
        let none = Release {
            next: None,
            resumed: false,
            gone: false,
        };
        let i = &mut self.instances[inst as usize];
        if i.busy >= i.cores {
            return none;
        }
        if let Some(v) = self
            .resuming
            .get_mut(inst as usize)
            .and_then(VecDeque::pop_front)
        {
            i.away -= 1;
            i.set_busy(now, i.busy + 1);
            if i.phase == Phase::Ready {
                self.busy_ready += 1;
            }
            return Release {
                next: Some((v, inst)),
                resumed: true,
                gone: false,
            };
        }
        if i.in_flight() >= self.max_in_flight {
            return none;
        }
        let v = match self.dispatch.as_deref_mut() {
            // Its own queue, draining or not (as a blocking pool's).
            Some(d) if matches!(i.phase, Phase::Ready | Phase::Draining) => {
                let Some(v) = d.queues[inst as usize].pop_front() else {
                    return none;
                };
                if let Some(p) = self.patience.as_deref_mut() {
                    p.left(v);
                }
                d.queued -= 1;
                v
            }
            None if i.phase == Phase::Ready => {
                match pop_live(&mut self.queue, &mut self.patience) {
                    Some(v) => v,
                    None => {
                        // Offer each free core once to the arrivals to come.
                        let gen = i.generation;
                        while i.offered < i.cores - i.busy {
                            i.offered += 1;
                            self.free.push((inst, gen));
                        }
                        return none;
                    }
                }
            }
            _ => return none,
        };
        i.set_busy(now, i.busy + 1);
        if i.phase == Phase::Ready {
            self.busy_ready += 1;
        }
        Release {
            next: Some((v, inst)),
            resumed: false,
            gone: false,
        }
    }
}
