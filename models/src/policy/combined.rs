//! Several policies on one fleet (`policy = "combined"`), combined by the
//! rules of the real controllers:
//!
//! - **AWS.** An Auto Scaling group may have several scaling policies. When
//!   they conflict, "Amazon EC2 Auto Scaling chooses the policy that
//!   provides the largest capacity for both scale out and scale in"
//!   (User Guide, *Multiple dynamic scaling policies*; the same words in
//!   Application Auto Scaling's `PutScalingPolicy`). Target tracking
//!   policies scale out when any of them wants to, and "scale in only if
//!   all of the target tracking policies ... are ready to scale in"
//!   (*Target tracking scaling policies*), while a step or simple scale-in
//!   "will not be blocked" by them. A scheduled action raises the group's
//!   minimum (`MinSize`) for its hours, and predictive scaling's forecast
//!   is applied the same way, as a minimum.
//! - **Kubernetes.** One HPA per workload (two would fight); a KEDA `cron`
//!   trigger or a CronJob patching `minReplicas` is a floor under it, as
//!   KEDA takes the largest of its scalers' replica counts. A `kubectl
//!   scale` sets the replicas once; the HPA goes on from them at its next
//!   sync.
//!
//! So the members play four roles: *trackers* (`target`, `hpa`), *alarms*
//! (`step`, `simple`), *floors* (`scheduled`, `predictive`) and *manual*
//! actions. Each member is evaluated on its own period; the combination
//! is evaluated at their greatest common divisor.

use crate::policy::{issue, unique, Controller, Decision, Observation, PolicyConfig};
use crate::traffic::calendar::Calendar;

/// `[autoscaler.<pool>]` with `policy = "combined"`: the member policies,
/// each a table as it would be written alone (`[[autoscaler.api.policies]]`).
#[derive(Clone, Debug, PartialEq)]
pub struct CombinedConfig {
    /// The members, in file order.
    pub policies: Vec<PolicyConfig>,
}

/// How a member takes part (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    Tracker,
    Alarm,
    Floor,
    Manual,
}

struct Member {
    role: Role,
    name: &'static str,
    ctrl: Box<dyn Controller>,
    period: f64,
    /// Simulated second of the next evaluation.
    next: f64,
    /// The member's last proposal, and why.
    last: Option<Decision>,
}

/// The running combination.
pub struct Combined {
    members: Vec<Member>,
    period: f64,
}

impl CombinedConfig {
    /// The role and policy name of each member; `Err((field, message))`
    /// for a member that cannot take part.
    fn roles(&self) -> Result<Vec<(Role, &'static str)>, (String, String)> {
        if self.policies.len() < 2 {
            return issue(
                "policies",
                "a combined policy needs two or more [[autoscaler.<pool>.policies]] tables; with one, write it as the autoscaler itself",
            );
        }
        let mut out = Vec::new();
        for (i, p) in self.policies.iter().enumerate() {
            let at = format!("policies.{i}.policy");
            out.push(match p {
                PolicyConfig::Target(_) => (Role::Tracker, "target"),
                PolicyConfig::Hpa(_) => (Role::Tracker, "hpa"),
                PolicyConfig::Step(_) => (Role::Alarm, "step"),
                PolicyConfig::Simple(_) => (Role::Alarm, "simple"),
                PolicyConfig::Scheduled(_) => (Role::Floor, "scheduled"),
                PolicyConfig::Predictive(_) => (Role::Floor, "predictive"),
                PolicyConfig::Manual(_) => (Role::Manual, "manual"),
                PolicyConfig::Vpa(_) => {
                    return issue(at, "a VPA changes the pods' size, not their number: give it its own pool (a VPA and an HPA on the same CPU fight, Kubernetes warns)");
                }
                PolicyConfig::Static(_) => {
                    return issue(at, "a static member never acts: leave it out");
                }
                PolicyConfig::Combined(_) => {
                    return issue(
                        at,
                        "members cannot be combined policies themselves: list their members here",
                    );
                }
                PolicyConfig::HpaManifest(..) => {
                    return issue(
                        format!("policies.{i}.manifest"),
                        "the manifest was not loaded",
                    );
                }
            });
        }
        if out.iter().filter(|r| r.1 == "hpa").count() > 1 {
            return issue(
                "policies",
                "two HPAs on one workload fight each other (Kubernetes warns of it, AmbiguousSelector); put every metric in one hpa member",
            );
        }
        Ok(out)
    }
}

impl Combined {
    /// Builds the members; `Err((field, message))` with the member's index.
    pub fn new(cfg: &CombinedConfig, cal: &Calendar) -> Result<Combined, (String, String)> {
        let roles = cfg.roles()?;
        let mut members = Vec::new();
        for (i, (p, (role, name))) in cfg.policies.iter().zip(roles).enumerate() {
            let ctrl = p
                .build(cal)
                .map_err(|(f, m)| (format!("policies.{i}.{f}"), m))?
                .expect("only static builds no controller, and it was refused");
            let period = ctrl.period_s();
            members.push(Member {
                role,
                name,
                ctrl,
                period,
                next: 0.0,
                last: None,
            });
        }
        let period = shared_period(members.iter().map(|m| m.period));
        Ok(Combined { members, period })
    }
}

/// The period that meets every member's evaluations: the greatest common
/// divisor of the periods in whole milliseconds (15 s and 10 s: 5 s), or
/// the shortest period when that divisor is below a second (a member then
/// runs at the first combined evaluation after it is due).
fn shared_period(periods: impl Iterator<Item = f64>) -> f64 {
    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }
    let periods: Vec<f64> = periods.collect();
    let shortest = periods.iter().copied().fold(f64::INFINITY, f64::min);
    let whole = periods
        .iter()
        .all(|p| (p * 1000.0 - (p * 1000.0).round()).abs() < 1e-6);
    let ms = periods
        .iter()
        .map(|p| (p * 1000.0).round() as u64)
        .fold(0, gcd);
    if whole && ms >= 1000 {
        ms as f64 / 1000.0
    } else {
        shortest
    }
}

/// The largest proposal among `it`: (capacity, member index).
fn largest(it: impl Iterator<Item = (u32, usize)>) -> Option<(u32, usize)> {
    it.fold(None, |best, x| match best {
        Some(b) if b.0 >= x.0 => Some(b),
        _ => Some(x),
    })
}

impl Controller for Combined {
    fn period_s(&self) -> f64 {
        self.period
    }

    fn metrics(&self) -> Vec<String> {
        unique(self.members.iter().flat_map(|m| m.ctrl.metrics()))
    }

    fn evaluate(&mut self, obs: &Observation) -> Decision {
        let cur = obs.current;
        // Members due now propose; the others keep their last proposal.
        let mut due = vec![false; self.members.len()];
        for (i, m) in self.members.iter_mut().enumerate() {
            if obs.now_s + 1e-9 >= m.next {
                m.last = Some(m.ctrl.evaluate(obs));
                while m.next <= obs.now_s + 1e-9 {
                    m.next += m.period;
                }
                due[i] = true;
            }
        }
        let proposal = |i: usize| self.members[i].last.as_ref().map(|d| d.desired);
        let acting = |role: Role| {
            let due = &due;
            self.members
                .iter()
                .enumerate()
                .filter(move |(i, m)| m.role == role && due[*i])
                .filter_map(move |(i, _)| proposal(i).map(|d| (d, i)))
        };
        // A manual action applies as given.
        let manual = acting(Role::Manual).find(|x| x.0 != cur);
        let pick = manual.or_else(|| {
            let out = largest(
                acting(Role::Tracker)
                    .chain(acting(Role::Alarm))
                    .filter(|x| x.0 > cur),
            );
            out.or_else(|| {
                // Trackers scale in only if all of them want to.
                let trackers: Vec<usize> = (0..self.members.len())
                    .filter(|&i| self.members[i].role == Role::Tracker)
                    .collect();
                let all_in = !trackers.is_empty()
                    && trackers.iter().any(|&i| due[i])
                    && trackers
                        .iter()
                        .all(|&i| proposal(i).is_some_and(|d| d < cur));
                let tracked = all_in
                    .then(|| largest(trackers.iter().filter_map(|&i| proposal(i).map(|d| (d, i)))))
                    .flatten();
                largest(acting(Role::Alarm).filter(|x| x.0 < cur).chain(tracked))
            })
        });
        let floor = largest(
            (0..self.members.len())
                .filter(|&i| self.members[i].role == Role::Floor)
                .filter_map(|i| proposal(i).map(|d| (d, i))),
        );
        let manual = manual.is_some();
        let (mut desired, mut by) = pick.unwrap_or((cur, usize::MAX));
        if let Some(f) = floor.filter(|f| f.0 > desired && !manual) {
            (desired, by) = f;
        }
        if desired == cur || by == usize::MAX {
            return Decision {
                desired: cur,
                reason: String::new(),
            };
        }
        let m = &self.members[by];
        let why = m.last.as_ref().map(|d| d.reason.as_str()).unwrap_or("");
        let trackers = self
            .members
            .iter()
            .filter(|m| m.role == Role::Tracker)
            .count();
        let rule = match (m.role, desired > cur) {
            (Role::Manual, _) => "",
            (Role::Floor, _) => " (the floor it sets)",
            (_, true) => " (the largest scale-out wins)",
            (Role::Tracker, false) if trackers > 1 => " (every tracking policy agreed to scale in)",
            (Role::Tracker, false) => "",
            (_, false) => " (a step or simple scale-in is not blocked by tracking policies)",
        };
        Decision {
            desired,
            reason: format!("{} #{by}: {why}{rule}", m.name),
        }
    }

    fn forecast(&self) -> Option<f64> {
        self.members.iter().find_map(|m| m.ctrl.forecast())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A member that proposes what its script says at each evaluation.
    struct Scripted(Vec<u32>, usize, f64);
    impl Controller for Scripted {
        fn period_s(&self) -> f64 {
            self.2
        }
        fn metrics(&self) -> Vec<String> {
            Vec::new()
        }
        fn evaluate(&mut self, obs: &Observation) -> Decision {
            let d = self.0.get(self.1).copied().unwrap_or(obs.current);
            self.1 += 1;
            Decision {
                desired: d,
                reason: format!("wants {d}"),
            }
        }
    }

    fn combo(members: Vec<(Role, Vec<u32>, f64)>) -> Combined {
        let members: Vec<Member> = members
            .into_iter()
            .map(|(role, script, period)| Member {
                role,
                name: "x",
                ctrl: Box::new(Scripted(script, 0, period)),
                period,
                next: 0.0,
                last: None,
            })
            .collect();
        let period = shared_period(members.iter().map(|m| m.period));
        Combined { members, period }
    }

    fn step(c: &mut Combined, t: f64, current: u32) -> u32 {
        c.evaluate(&Observation {
            now_s: t,
            current,
            ready: current,
            metrics: &[],
            pods: &[],
        })
        .desired
    }

    #[test]
    fn the_largest_scale_out_wins() {
        use Role::*;
        let mut c = combo(vec![(Tracker, vec![12], 60.0), (Alarm, vec![15], 60.0)]);
        assert_eq!(step(&mut c, 0.0, 10), 15);
        // A scale-out beats a scale-in at the same evaluation.
        let mut c = combo(vec![(Tracker, vec![6], 60.0), (Alarm, vec![11], 60.0)]);
        assert_eq!(step(&mut c, 0.0, 10), 11);
    }

    #[test]
    fn trackers_scale_in_only_together_alarms_are_not_blocked() {
        use Role::*;
        let mut c = combo(vec![
            (Tracker, vec![6, 6], 60.0),
            (Tracker, vec![10, 8], 60.0),
        ]);
        assert_eq!(step(&mut c, 0.0, 10), 10, "one tracker holds");
        assert_eq!(step(&mut c, 60.0, 10), 8, "both agree: the larger");
        let mut c = combo(vec![(Tracker, vec![10], 60.0), (Alarm, vec![7], 60.0)]);
        assert_eq!(step(&mut c, 0.0, 10), 7, "a step scale-in goes through");
    }

    #[test]
    fn floors_hold_manual_actions_apply_and_periods_are_kept() {
        use Role::*;
        // A scheduled floor of 5 under a tracker that wants 2.
        let mut c = combo(vec![
            (Tracker, vec![2, 2, 2, 2, 2], 15.0),
            (Floor, vec![5, 3], 60.0),
        ]);
        assert_eq!(c.period_s(), 15.0);
        assert_eq!(shared_period([15.0, 10.0].into_iter()), 5.0);
        assert_eq!(shared_period([15.0, 0.3].into_iter()), 0.3);
        assert_eq!(step(&mut c, 0.0, 8), 5);
        // The floor is kept between its own evaluations...
        assert_eq!(step(&mut c, 15.0, 5), 5);
        assert_eq!(step(&mut c, 30.0, 5), 5);
        assert_eq!(step(&mut c, 45.0, 5), 5);
        // ...and lowered at its next one.
        assert_eq!(step(&mut c, 60.0, 5), 3);
        // A manual action applies as given, below the floor too; the others
        // act again at their next evaluation.
        let mut c = combo(vec![(Floor, vec![5, 5], 60.0), (Manual, vec![2], 60.0)]);
        assert_eq!(step(&mut c, 0.0, 8), 2);
        assert_eq!(step(&mut c, 60.0, 2), 5);
    }

    #[test]
    fn members_that_cannot_combine_are_refused() {
        use crate::policy::schedule::StaticConfig;
        let one = CombinedConfig {
            policies: vec![PolicyConfig::Static(StaticConfig::default())],
        };
        assert_eq!(one.roles().err().unwrap().0, "policies");
        let two = CombinedConfig {
            policies: vec![
                PolicyConfig::Static(StaticConfig::default()),
                PolicyConfig::Static(StaticConfig::default()),
            ],
        };
        assert_eq!(two.roles().err().unwrap().0, "policies.0.policy");
    }
}
