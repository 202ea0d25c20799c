//! Unit tests of the running pool.

use super::*;
use crate::dist::DistConfig;
use crate::fleet::balance::Policy;
use crate::units::Duration;

fn pool(slots: u32, cap: Option<u64>) -> Pool {
    balanced(slots, cap, Policy::Fifo)
}

fn balanced(slots: u32, cap: Option<u64>, balance: Policy) -> Pool {
    let cfg = PoolConfig {
        service: Some(DistConfig::Const {
            value: Duration(1.0),
        }),
        queue_capacity: cap,
        ..PoolConfig::engine_slots(slots, balance)
    };
    Pool::new(
        &cfg,
        scalesim_sim::stream(0, 0, "p", "s"),
        scalesim_sim::stream(0, 0, "p", "b"),
        scalesim_sim::stream(0, 0, "p", "t"),
    )
}

#[test]
fn balanced_instances_keep_their_own_queues() {
    // Two instances in turn, one slot each, one waiting place each.
    let mut p = balanced(2, Some(1), Policy::RoundRobin);
    assert_eq!(p.admit(1, 0, 0), Admission::Start(1));
    assert_eq!(p.admit(2, 0, 0), Admission::Start(0));
    assert_eq!(p.admit(3, 0, 0), Admission::Queued); // instance 1
    assert_eq!(p.admit(4, 0, 0), Admission::Queued); // instance 0
    assert_eq!(p.admit(5, 0, 0), Admission::Rejected); // 1 is full
    assert_eq!(p.queue_len(), 2);
    // Instance 0 finishes: its own waiting visit starts there.
    assert_eq!(p.release(0, 5).next, Some((4, 0)));
    assert_eq!(p.release(0, 6).next, None);
    assert_eq!(p.next_waiting(6), None, "no work stealing");
    assert_eq!(p.queue_len(), 1);
    assert_eq!(p.busy(), 1);
    // Scale-in drains instance 1 with its queue, then it is gone.
    let gone = p.remove(1, 7);
    assert!(gone.is_empty());
    assert_eq!(p.release(1, 8).next, Some((3, 1)));
    assert!(p.release(1, 9).gone);
    // Everything now goes to instance 0.
    assert_eq!(p.admit(6, 0, 10), Admission::Start(0));
    assert_eq!(p.admit(7, 0, 10), Admission::Queued);
    let l = p.load_integrals(10).unwrap();
    assert!(l[0] > 0.0 && l[2] == 0.0, "{l:?}");
}

#[test]
fn fifo_admission_and_release() {
    let mut p = pool(1, Some(1));
    assert_eq!(p.admit(10, 0, 0), Admission::Start(0));
    assert_eq!(p.admit(11, 0, 0), Admission::Queued);
    assert_eq!(p.admit(12, 0, 0), Admission::Rejected);
    assert_eq!(p.release(0, 1).next, Some((11, 0)));
    assert_eq!(p.busy(), 1);
    assert_eq!(p.release(0, 2).next, None);
    assert_eq!(p.busy(), 0);
}

#[test]
fn lifecycle_scale_out_and_drain() {
    let mut p = pool(1, None);
    assert_eq!(p.admit(1, 0, 0), Admission::Start(0));
    assert_eq!(p.admit(2, 0, 0), Admission::Queued);
    let n = p.request(5);
    assert_eq!((p.desired(), p.ready(), p.billed()), (2, 1, 2));
    assert!(p.set_phase(n, Phase::Warming, 10));
    assert_eq!(p.next_waiting(10), None, "warming instances take no work");
    assert!(p.set_phase(n, Phase::Ready, 20));
    assert_eq!(p.next_waiting(20), Some((2, n)));
    assert_eq!(p.slots(), 2);
    // Scale in by one: the newest ready instance drains.
    assert_eq!(p.remove(1, 30), Vec::<u32>::new());
    assert_eq!((p.desired(), p.ready(), p.billed()), (1, 1, 2));
    assert_eq!(p.instances()[n as usize].phase, Phase::Draining);
    let r = p.release(n, 40);
    assert!(r.gone && r.next.is_none());
    assert_eq!(p.billed(), 1);
    // The old instance still serves; a new request reuses the slot index.
    assert_eq!(p.request(50), n);
    assert_eq!(p.instances()[0].busy_integral(40), 40.0);
}

#[test]
fn removing_pending_instances_is_immediate() {
    let mut p = pool(1, None);
    let a = p.request(0);
    assert_eq!(p.remove(1, 1), vec![a]);
    assert!(
        !p.set_phase(a, Phase::Ready, 2),
        "a stale boot event is ignored"
    );
    assert_eq!(p.ready(), 1);
}

#[test]
fn loss_system_has_no_waiting_room() {
    let mut p = pool(2, Some(0));
    assert!(matches!(p.admit(1, 0, 0), Admission::Start(_)));
    assert!(matches!(p.admit(2, 0, 0), Admission::Start(_)));
    assert_eq!(p.admit(3, 0, 0), Admission::Rejected);
}
