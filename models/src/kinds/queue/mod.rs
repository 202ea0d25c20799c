//! `kind = "queue"`: an asynchronous job queue. A visit is answered at the
//! acknowledgement (`ack` latency, or at once); the job it carries is a
//! request of its own that enters the `workers` pool with no caller. A
//! bounded queue refuses visits while `capacity` jobs wait for a worker.
//! The queue measures its depth, each job's wait for a worker and its
//! enqueue-to-done latency.

use crate::dist::Dist;
use crate::fleet::bill::Purchases;
use crate::fleet::cost::CostConfig;
use crate::flow::{Caller, CompId, Component, Cx, Outcome, Request, VisitId, Wake};
use crate::kinds::{BuildCx, CheckCx, Kind, KindConfig};
use crate::measure::{ComponentReport, Counters, JobReport, Stats, TsRow};
mod config;

pub use config::QueueConfig;

use scalesim_sim::stats::LatencyHist;
use scalesim_sim::{stream, to_secs, SimRng};

/// The acknowledgement of a visit is sent.
const ACKED: u8 = 0;

/// A queue as it runs.
pub struct QueueKind {
    workers: CompId,
    capacity: Option<u64>,
    ack: Option<Dist>,
    rng: SimRng,
    /// Accepted jobs no worker has started.
    depth: u64,
    /// Jobs accepted after warm-up and done.
    jobs_done: u64,
    /// Jobs accepted after warm-up that their workers refused.
    jobs_failed: u64,
    /// Enqueue-to-done times of jobs accepted after warm-up.
    job_latency: LatencyHist,
    /// The same in the current sampling window.
    job_window: LatencyHist,
}

impl QueueKind {
    /// Builds a queue (`label`: the name its RNG streams take).
    pub fn new(
        q: &QueueConfig,
        label: &str,
        seed: u64,
        rep: u32,
        idx: &dyn Fn(&str) -> CompId,
    ) -> QueueKind {
        QueueKind {
            workers: idx(&q.workers),
            capacity: q.capacity,
            ack: q.ack.as_ref().map(|a| a.sampler()),
            rng: stream(seed, rep, label, "ack"),
            depth: 0,
            jobs_done: 0,
            jobs_failed: 0,
            job_latency: LatencyHist::new(),
            job_window: LatencyHist::new(),
        }
    }
}

impl Component for QueueKind {
    fn releases_on_leave(&self) -> bool {
        false
    }

    fn enter(&mut self, cx: &mut Cx, v: VisitId, _caller: Caller) {
        if self.capacity.is_some_and(|c| self.depth >= c) {
            cx.refuse(v);
            return;
        }
        self.depth += 1;
        cx.stats.queue.add(cx.now, 1.0);
        let delay = self.ack.as_ref().map(|a| a.sample(&mut self.rng));
        let r = cx.request_of(v);
        let job = cx.new_request(Request {
            arrival: cx.now,
            origin: Some(cx.me),
            started: false,
            detached: 0,
            done: false,
            missed: false,
            left: 0,
            ..r
        });
        match delay {
            Some(d) => cx.after(d, ACKED, v.slot(), 0),
            None => cx.leave(v, Outcome::Ok),
        }
        cx.spawn(self.workers, job);
    }

    fn on_wake(&mut self, cx: &mut Cx, w: Wake) {
        debug_assert_eq!(w.tag, ACKED);
        cx.leave(VisitId::from_slot(w.a), Outcome::Ok);
    }

    fn on_job_started(&mut self, cx: &mut Cx, job: &Request) {
        self.depth -= 1;
        cx.stats.queue.add(cx.now, -1.0);
        let wait = to_secs(cx.now - job.arrival);
        cx.stats.window_wait.add(wait);
        if job.arrival >= cx.warmup() {
            cx.stats.wait.add(wait);
        }
    }

    fn on_job_done(&mut self, cx: &mut Cx, job: &Request, outcome: Outcome) {
        if !job.started {
            // Refused before any worker took it: it leaves the queue.
            self.depth -= 1;
            cx.stats.queue.add(cx.now, -1.0);
        }
        match outcome {
            Outcome::Ok => {
                let lat = cx.now - job.arrival;
                self.job_window.record(lat);
                if job.arrival >= cx.warmup() {
                    self.jobs_done += 1;
                    self.job_latency.record(lat);
                }
            }
            Outcome::Rejected | Outcome::TimedOut | Outcome::Failed => {
                self.jobs_failed += (job.arrival >= cx.warmup()) as u64
            }
        }
    }

    fn report(&self, d: &Counters, st: &Stats, span: f64, r: &mut ComponentReport) {
        r.mean_wait_s = Some(st.wait.mean());
        r.mean_queue_len = Some(d.queue / span);
        r.jobs = Some(JobReport {
            done: self.jobs_done,
            failed: self.jobs_failed,
            latency: self.job_latency.clone(),
            // The unfinished jobs' ages are filled by the collector, which
            // sees every request in flight.
            unfinished: Vec::new(),
            backlog_at_end: self.depth,
        });
    }

    fn window(&mut self, d: &Counters, st: &Stats, dt: f64, row: &mut TsRow) {
        row.queue_len = Some(d.queue / dt);
        row.wait_mean_s = Some(st.window_wait.mean());
        let done = self.job_window.count() > 0;
        row.job_mean_s = done.then(|| self.job_window.mean_s());
        row.job_p99_s = done.then(|| self.job_window.quantile_s(0.99));
        self.job_window.clear();
    }
}

impl KindConfig for QueueConfig {
    fn kind(&self) -> &'static str {
        "queue"
    }

    fn check(&self, cx: &CheckCx) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = QueueConfig::check(self).err().into_iter().collect();
        if let Some(w) = cx.component(&self.workers) {
            if w.kind() != "pool" {
                out.push((
                    "workers".into(),
                    format!(
                        "workers must name a pool; {:?} is a {}",
                        self.workers,
                        w.kind()
                    ),
                ));
            }
        }
        out
    }

    fn downstream(&self) -> Vec<(&'static str, &str)> {
        vec![("workers", self.workers.as_str())]
    }

    fn retarget(&mut self, to: &mut dyn FnMut(&str) -> String) {
        self.workers = to(&self.workers);
    }

    /// A managed queue's requests; a broker of one's own is not priced.
    fn usage(&self, _cost: &CostConfig) -> Purchases {
        let mut p = Purchases::default();
        match self.managed {
            Some(m) => m.purchases(self.message_kb, &mut p),
            None => p.unpriced.push(
                "the broker (managed = \"sqs\" prices it as SQS; a broker of your own is a pool with an instance_type)".into(),
            ),
        }
        p
    }

    fn build(&self, b: &BuildCx) -> Kind {
        Kind::Queue(Box::new(QueueKind::new(self, b.label, b.seed, b.rep, b.id)))
    }
}
