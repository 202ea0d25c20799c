//! The CPU credit balance of each instance of a burstable pool (t3, t3a,
//! t4g), as a fluid (see [`super::cpu`] for the figures and AWS's rules).
//!
//! Every [`TICK`] each instance earns `earned_per_hour x hours` and spends
//! the vCPU-minutes it computed (its CPU integral, at the speed it ran).
//! In standard mode an empty balance lowers its CPU to the baseline: CPU
//! steps started then take `1 / baseline` times longer, so the instance
//! spends what it earns. It computes at full speed again once its balance
//! holds one tick of full-speed use of every vCPU (AWS lowers and raises
//! the CPU gradually and gives no ramp; this hysteresis keeps a balance
//! near zero from buying bursts it cannot pay for). In unlimited mode it
//! keeps full speed and runs a surplus, which its earnings pay down first;
//! surplus beyond 24 hours of earnings is billed at once, and what is left
//! when the instance stops (or the run ends) is owed.

use super::cpu::{Burstable, CreditMode, CreditsConfig};
use super::pool::Pool;
use scalesim_sim::{Time, NS_PER_SEC};

/// How often balances are brought up to date.
pub const TICK: Time = 10 * NS_PER_SEC;

/// One instance's account.
#[derive(Clone, Copy, Debug)]
struct Account {
    /// Which instance it is (an index is reused by later instances).
    requested_at: Time,
    balance: f64,
    surplus: f64,
    /// Its CPU integral (request-nanoseconds computing) at the last tick.
    seen_cpu: f64,
    /// The speed it has run at since the last tick (1, or the baseline).
    speed: f64,
    /// Stopped: its surplus was billed.
    closed: bool,
}

/// The credit accounts of one pool's instances.
#[derive(Clone, Debug)]
pub struct Credits {
    spec: Burstable,
    mode: CreditMode,
    initial: f64,
    accounts: Vec<Account>,
    last: Time,
    /// Surplus billed so far, USD.
    billed_usd: f64,
    /// Instance-nanoseconds spent at the baseline (standard mode).
    throttled_ns: f64,
    /// Instance-nanoseconds up to date (the denominator).
    alive_ns: f64,
    /// The first time an instance's balance was empty under load.
    first_empty: Option<Time>,
    /// The lowest balance an instance had at a tick.
    min_balance: f64,
}

/// What the run's report says of a pool's credits.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct CreditsReport {
    /// `standard` or `unlimited`.
    pub mode: &'static str,
    /// Credits earned per instance-hour.
    pub earned_per_hour: f64,
    /// The baseline share of each vCPU.
    pub baseline: f64,
    /// The lowest balance of any instance at a tick.
    pub balance_min: f64,
    /// The mean balance of the running instances at the end.
    pub balance_end: f64,
    /// Seconds into the run when an instance first ran out (absent: never).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_empty_s: Option<f64>,
    /// Share of instance-time spent at the baseline (standard mode).
    pub throttled_share: f64,
    /// Surplus credits billed or owed at the end, USD (unlimited mode).
    pub surplus_usd: f64,
}

impl Credits {
    /// The accounts of a pool of `instance_type`, if it is burstable.
    pub fn new(instance_type: Option<&str>, cfg: Option<&CreditsConfig>) -> Option<Credits> {
        let spec = super::cpu::burstable(instance_type?)?;
        let cfg = cfg.copied().unwrap_or_default();
        Some(Credits {
            spec,
            mode: cfg.mode.unwrap_or(spec.default_mode),
            initial: cfg.initial.unwrap_or(0.0),
            accounts: Vec::new(),
            last: 0,
            billed_usd: 0.0,
            throttled_ns: 0.0,
            alive_ns: 0.0,
            first_empty: None,
            min_balance: f64::INFINITY,
        })
    }

    fn usd_per_credit(&self) -> f64 {
        self.spec.surplus_usd_per_vcpu_hour / 60.0
    }

    /// Brings every instance's balance up to `now` and sets the speed its
    /// next CPU steps run at.
    pub fn tick(&mut self, pool: &mut Pool, now: Time) {
        let n = pool.instances().len();
        let max = self.spec.max_balance();
        let baseline = self.spec.baseline();
        let vcpus = self.spec.vcpus as f64;
        // The balance that buys one tick of every vCPU at full speed.
        let resume = vcpus * (TICK as f64 / 60e9);
        for k in 0..n {
            let x = pool.instances()[k];
            if self.accounts.len() <= k {
                self.accounts.push(self.open(x.requested_at));
            }
            if self.accounts[k].requested_at != x.requested_at {
                self.close(k);
                self.accounts[k] = self.open(x.requested_at);
            }
            if !x.billed() {
                self.close(k);
                continue;
            }
            let from = self.last.max(x.requested_at);
            let dt = now.saturating_sub(from) as f64;
            let a = &mut self.accounts[k];
            let cpu = x.cpu_integral(now);
            // No more than its vCPUs can burn (a blocking pool may run more
            // threads than it has cores).
            let spent = ((cpu - a.seen_cpu) * a.speed).min(vcpus * dt) / 60e9;
            a.seen_cpu = cpu;
            let earned = self.spec.earned_per_hour * dt / 3600e9;
            self.alive_ns += dt;
            if a.speed < 1.0 {
                self.throttled_ns += dt;
            }
            let position = a.balance - a.surplus + earned - spent;
            match self.mode {
                CreditMode::Standard => {
                    a.balance = position.clamp(0.0, max);
                    a.speed = if a.balance >= resume || (a.speed == 1.0 && a.balance > 0.0) {
                        1.0
                    } else {
                        baseline
                    };
                }
                CreditMode::Unlimited => {
                    a.balance = position.clamp(0.0, max);
                    a.surplus = (-position).max(0.0);
                    if a.surplus > max {
                        self.billed_usd +=
                            (a.surplus - max) * self.spec.surplus_usd_per_vcpu_hour / 60.0;
                        a.surplus = max;
                    }
                }
            }
            if a.balance <= 0.0 && spent > 0.0 && self.first_empty.is_none() {
                self.first_empty = Some(now);
            }
            self.min_balance = self.min_balance.min(a.balance - a.surplus);
            pool.set_speed(k as u32, a.speed);
        }
        self.last = now;
    }

    fn open(&self, requested_at: Time) -> Account {
        Account {
            requested_at,
            balance: self.initial,
            surplus: 0.0,
            seen_cpu: 0.0,
            speed: 1.0,
            closed: false,
        }
    }

    /// Instance `k` stopped: its surplus is billed.
    fn close(&mut self, k: usize) {
        let a = &mut self.accounts[k];
        if !a.closed {
            a.closed = true;
            self.billed_usd += a.surplus * self.spec.surplus_usd_per_vcpu_hour / 60.0;
            a.surplus = 0.0;
        }
    }

    /// Surplus billed so far plus what the running instances owe, USD.
    pub fn usd(&self) -> f64 {
        self.billed_usd
            + self
                .accounts
                .iter()
                .filter(|a| !a.closed)
                .map(|a| a.surplus)
                .sum::<f64>()
                * self.usd_per_credit()
    }

    /// The report's figures.
    pub fn report(&self) -> CreditsReport {
        let open: Vec<&Account> = self.accounts.iter().filter(|a| !a.closed).collect();
        CreditsReport {
            mode: match self.mode {
                CreditMode::Standard => "standard",
                CreditMode::Unlimited => "unlimited",
            },
            earned_per_hour: self.spec.earned_per_hour,
            baseline: self.spec.baseline(),
            balance_min: if self.min_balance.is_finite() {
                self.min_balance
            } else {
                self.initial
            },
            balance_end: if open.is_empty() {
                self.initial
            } else {
                open.iter().map(|a| a.balance - a.surplus).sum::<f64>() / open.len() as f64
            },
            first_empty_s: self.first_empty.map(scalesim_sim::to_secs),
            throttled_share: if self.alive_ns > 0.0 {
                self.throttled_ns / self.alive_ns
            } else {
                0.0
            },
            surplus_usd: self.usd(),
        }
    }
}
