//! The engine serves batches and runs periodic control without special
//! cases: a batch is one event whose payload indexes a slab entry holding
//! the batch, and a periodic controller is an event that reschedules itself.

use scalesim_sim::{Model, Scheduler, Slab, Time};
use std::collections::VecDeque;

const MAX_BATCH: usize = 4;
const STEP: Time = 10;

#[derive(Clone, Copy)]
struct Batch {
    jobs: [u32; MAX_BATCH],
    n: usize,
}

#[derive(Clone, Copy)]
enum Ev {
    Arrive(u32),
    BatchDone(u32),
    Tick,
}

/// A bulk server: takes up to MAX_BATCH waiting jobs per step of fixed
/// length; a controller samples the queue length every 5 time units.
#[derive(Default)]
struct BulkServer {
    waiting: VecDeque<u32>,
    busy: bool,
    batches: Slab<Batch>,
    done: Vec<(u32, Time)>,
    batch_sizes: Vec<usize>,
    samples: Vec<(Time, usize)>,
}

impl BulkServer {
    fn start_batch(&mut self, s: &mut Scheduler<Ev>) {
        if self.busy || self.waiting.is_empty() {
            return;
        }
        let mut b = Batch {
            jobs: [0; MAX_BATCH],
            n: 0,
        };
        while b.n < MAX_BATCH {
            let Some(j) = self.waiting.pop_front() else {
                break;
            };
            b.jobs[b.n] = j;
            b.n += 1;
        }
        self.batch_sizes.push(b.n);
        self.busy = true;
        let id = self.batches.insert(b);
        s.after(STEP, Ev::BatchDone(id));
    }
}

impl Model for BulkServer {
    type Event = Ev;
    fn handle(&mut self, ev: Ev, s: &mut Scheduler<Ev>) {
        match ev {
            Ev::Arrive(j) => {
                self.waiting.push_back(j);
                self.start_batch(s);
            }
            Ev::BatchDone(id) => {
                let b = self.batches[id];
                self.batches.remove(id);
                for &j in &b.jobs[..b.n] {
                    self.done.push((j, s.now()));
                }
                self.busy = false;
                self.start_batch(s);
            }
            Ev::Tick => {
                self.samples.push((s.now(), self.waiting.len()));
                s.after(5, Ev::Tick);
            }
        }
    }
}

#[test]
fn batches_of_waiting_jobs_are_served_in_one_step() {
    let mut m = BulkServer::default();
    let mut s = Scheduler::new();
    for j in 0..10u32 {
        s.at(j as Time, Ev::Arrive(j));
    }
    s.at(0, Ev::Tick);
    s.run_until(&mut m, 45);
    // Job 0 finds the server idle and goes alone; then batches of 4, 4, 1.
    assert_eq!(m.batch_sizes, vec![1, 4, 4, 1]);
    let finish: Vec<Time> = m.done.iter().map(|d| d.1).collect();
    assert_eq!(finish, vec![10, 20, 20, 20, 20, 30, 30, 30, 30, 40]);
    // The controller saw the queue at every 5 units, ties after arrivals
    // scheduled earlier at the same instant.
    assert_eq!(&m.samples[..4], &[(0, 0), (5, 5), (10, 5), (15, 5)]);
    assert_eq!(m.batches.len(), 0);
}
