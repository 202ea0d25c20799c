//! The run loop: pop the earliest event, advance the clock, let the model
//! handle it. A model is any type implementing [`Model`]; its events are a
//! small `Copy` type of its own choosing (usually an enum).

use crate::queue::EventQueue;
use crate::time::Time;

/// The clock and the future-event list, handed to a model's handler so it
/// can schedule further events.
pub struct Scheduler<E> {
    now: Time,
    queue: EventQueue<E>,
    events: u64,
    stop: bool,
}

impl<E: Copy> Default for Scheduler<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> Scheduler<E> {
    /// A scheduler at time 0 with no pending event.
    pub fn new() -> Self {
        Scheduler {
            now: 0,
            queue: EventQueue::new(),
            events: 0,
            stop: false,
        }
    }

    /// Current simulated time.
    #[inline]
    pub fn now(&self) -> Time {
        self.now
    }

    /// Schedules `event` at absolute time `t` (clamped to now: the past
    /// cannot be scheduled).
    #[inline]
    pub fn at(&mut self, t: Time, event: E) {
        self.queue.push(t.max(self.now), event);
    }

    /// Schedules `event` after a delay of `dt` nanoseconds.
    #[inline]
    pub fn after(&mut self, dt: Time, event: E) {
        self.queue.push(self.now.saturating_add(dt), event);
    }

    /// Asks the run loop to stop after the current event.
    pub fn stop(&mut self) {
        self.stop = true;
    }

    /// Events handled so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Events still pending.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// Runs `model` until the next event would be later than `horizon`, the
    /// queue is empty, or the model calls [`Scheduler::stop`]. The clock ends
    /// at `horizon` unless the model stopped the run earlier.
    pub fn run_until<M: Model<Event = E>>(&mut self, model: &mut M, horizon: Time) -> RunOutcome {
        self.stop = false;
        while let Some(t) = self.queue.peek_time() {
            if t > horizon {
                break;
            }
            let (t, ev) = self.queue.pop().expect("peeked");
            self.now = t;
            self.events += 1;
            model.handle(ev, self);
            if self.stop {
                return RunOutcome::Stopped { at: self.now };
            }
        }
        self.now = self.now.max(horizon);
        RunOutcome::Horizon
    }
}

/// Why [`Scheduler::run_until`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// The horizon was reached (or no event was left before it).
    Horizon,
    /// The model asked to stop at this time.
    Stopped {
        /// Simulated time of the stop.
        at: Time,
    },
}

/// A discrete-event model: it reacts to its own events and schedules more.
pub trait Model {
    /// The model's event type: small and `Copy` so the queue never allocates
    /// per event. Per-request state belongs in a [`crate::Slab`] and events
    /// carry its index.
    type Event: Copy;

    /// Handles one event at `sched.now()`.
    fn handle(&mut self, event: Self::Event, sched: &mut Scheduler<Self::Event>);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A periodic tick and a one-shot event: periodic control is just an
    /// event that reschedules itself.
    struct Ticker {
        ticks: Vec<Time>,
        fired: Option<Time>,
    }
    #[derive(Clone, Copy)]
    enum Ev {
        Tick,
        Once,
    }
    impl Model for Ticker {
        type Event = Ev;
        fn handle(&mut self, ev: Ev, s: &mut Scheduler<Ev>) {
            match ev {
                Ev::Tick => {
                    self.ticks.push(s.now());
                    s.after(10, Ev::Tick);
                }
                Ev::Once => self.fired = Some(s.now()),
            }
        }
    }

    #[test]
    fn periodic_events_and_horizon() {
        let mut m = Ticker {
            ticks: vec![],
            fired: None,
        };
        let mut s = Scheduler::new();
        s.at(0, Ev::Tick);
        s.at(25, Ev::Once);
        assert_eq!(s.run_until(&mut m, 40), RunOutcome::Horizon);
        assert_eq!(m.ticks, vec![0, 10, 20, 30, 40]);
        assert_eq!(m.fired, Some(25));
        assert_eq!(s.now(), 40);
        // A second call continues where the first stopped.
        s.run_until(&mut m, 55);
        assert_eq!(m.ticks.last(), Some(&50));
    }
}
