//! Collecting a run's figures: the end of warm-up, every sampling window's
//! time-series rows, the bills, and the final report. What is common to
//! every component is filled here; a kind fills its own fields
//! ([`Component::report`], [`Component::window`]).

use super::{AttemptCounts, ComponentReport, Counters, TsRow};
use crate::fleet::bill;
use crate::fleet::pool::{Phase, LEVELS};
use crate::flow::{CompId, Component, System};
use crate::measure::{ClassReport, RunReport, UsersReport};
use scalesim_sim::stats::{LatencyHist, Tally};
use scalesim_sim::{to_secs, Time};

impl System {
    /// The end of warm-up: what later figures are measured from.
    pub(crate) fn warmed_up(&mut self, now: Time) {
        self.cost_at_warmup = (0..self.comps.len())
            .map(|i| self.accrued(i, now))
            .collect();
        self.load_at_warmup = self
            .comps
            .iter()
            .map(|c| c.fleet().and_then(|p| p.load_integrals(now)))
            .collect();
        for i in 0..self.stats.len() {
            self.stats[i].at_warmup = self.counters(i, now);
        }
        self.sys.at_warmup = self.sys.counters(now);
        for f in self.failures.iter_mut().flatten() {
            f.at_warmup = f.count;
        }
        for f in self.spot.iter_mut().flatten() {
            f.at_warmup = f.count;
        }
        self.att.warmed_up();
        self.users_at_warmup = self.user_marks(now);
    }

    /// Ready instances of component `i` now (its configured count for
    /// components without a fleet).
    fn instances(&self, i: usize) -> u32 {
        match self.comps[i].fleet() {
            Some(pool) => pool.ready(),
            None => self.cfg.components[i].1.instances(),
        }
    }

    /// Cost of component `i` accrued from the start to `t` (None: unpriced):
    /// the bills of gone instances plus what live ones have run so far.
    fn accrued(&self, i: usize, t: Time) -> Option<f64> {
        self.cost_of(i, t, |h, secs| self.cfg.cost.accrued(h, secs))
    }

    /// The bill of component `i` for a run ending at `end` (minimums
    /// applied to every instance run).
    fn bill(&self, i: usize, end: Time) -> Option<f64> {
        self.cost_of(i, end, |h, secs| self.cfg.cost.bill(h, secs))
    }

    fn cost_of(&self, i: usize, t: Time, run: impl Fn(f64, f64) -> f64) -> Option<f64> {
        let h = self.flow.hourly[i]?;
        Some(match self.comps[i].fleet() {
            Some(pool) => {
                self.stats[i].closed_cost
                    + self.comps[i].extra_cost_usd()
                    + pool
                        .instances()
                        .iter()
                        .filter(|x| !matches!(x.phase, Phase::Gone | Phase::Failed))
                        .map(|x| {
                            let h = self.flow.price(CompId(i as u16), x).unwrap_or(h);
                            run(h, to_secs(t.saturating_sub(x.requested_at)))
                        })
                        .sum::<f64>()
            }
            None => self.cfg.components[i].1.instances() as f64 * run(h, to_secs(t)),
        })
    }

    /// The report of a run that ended at `end` after `events` events.
    pub(crate) fn report(mut self, end: Time, events: u64) -> RunReport {
        let warm = self.cfg.warmup.min(end);
        let span = (end - warm).max(1) as f64;
        let mut components: Vec<ComponentReport> = (0..self.comps.len())
            .map(|i| self.component_report(i, end, span))
            .collect();
        for (i, comp) in self.comps.iter().enumerate() {
            let mut me = std::mem::take(&mut components[i]);
            comp.finish_report(&mut me, &components);
            components[i] = me;
        }
        // What never finished: each request or job in flight at the end,
        // at its age then (a lower bound of its latency).
        let mut unfinished = Vec::new();
        let mut classes_unfinished = vec![Vec::new(); self.flow.classes.len()];
        // (A request answered while attempts nobody awaits still run is
        // finished: they are wasted work, not its.)
        for r in self.flow.requests.live().filter(|r| !r.done) {
            let age = end.saturating_sub(r.arrival);
            match r.origin {
                Some(q) if r.arrival >= warm => {
                    if let Some(j) = components[q.index()].jobs.as_mut() {
                        j.unfinished.push(age);
                    }
                }
                None if r.counted => {
                    unfinished.push(age);
                    classes_unfinished[r.class as usize].push(age);
                }
                _ => {}
            }
        }
        unfinished.sort_unstable();
        classes_unfinished
            .iter_mut()
            .for_each(|a| a.sort_unstable());
        for c in &mut components {
            if let Some(j) = c.jobs.as_mut() {
                j.unfinished.sort_unstable();
            }
        }
        let at_warm = |i: usize| self.users_at_warmup.get(i).copied().flatten();
        let users = self
            .user_marks(end)
            .into_iter()
            .zip(self.user_peaks())
            .enumerate()
            .filter_map(|(i, (m, p))| {
                let ((user_s, sessions), (max, in_sessions)) = (m?, p?);
                let (w_s, w_n) = at_warm(i).unwrap_or((0.0, 0));
                Some(UsersReport {
                    source: self.cfg.sources[i].0.clone(),
                    mean: (user_s - w_s) / (span / 1e9),
                    max,
                    sessions: in_sessions.then_some(sessions - w_n),
                })
            })
            .collect();
        let bill = bill::meter(
            &self.cfg.purchases(),
            &self.rows,
            to_secs(warm),
            to_secs(end),
        );
        let cost_usd = components.iter().filter_map(|c| c.cost_usd).sum::<f64>() + bill.usd();
        let cost_measured_usd = components
            .iter()
            .filter_map(|c| c.cost_measured_usd)
            .sum::<f64>()
            + bill.measured_usd();
        let mut run = RunReport {
            name: self.cfg.name.clone(),
            seed: self.cfg.seed,
            simulated_s: to_secs(end),
            measured_s: span / 1e9,
            arrived: self.counted_arrived,
            completed: self.counted_completed,
            rejected: self.counted_rejected,
            timed_out: self.counted_timed_out,
            failed: self.counted_failed,
            in_flight_at_end: self.counted_arrived
                - self.counted_completed
                - self.counted_rejected
                - self.counted_timed_out
                - self.counted_failed,
            latency: self.latency,
            unfinished,
            components,
            timeseries: self.rows,
            runaway: self.runaway,
            events,
            cost_usd,
            cost_measured_usd,
            bill,
            scaling_events: self.scaling_events,
            incidents: {
                let mut all = self.incidents;
                all.extend(std::mem::take(&mut self.flow.incidents));
                // Stable: same-time incidents keep the order they were noted.
                all.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
                all
            },
            minutes: self.minutes,
            users,
            classes: self
                .flow
                .classes
                .into_iter()
                .zip(classes_unfinished)
                .map(|(c, unfinished)| ClassReport {
                    name: c.name,
                    op: c.op,
                    arrived: c.arrived,
                    completed: c.completed,
                    rejected: c.rejected,
                    timed_out: c.timed_out,
                    failed: c.failed,
                    latency: c.latency,
                    unfinished,
                    tokens: c.tokens.map(|t| *t),
                })
                .collect(),
            regions: Vec::new(),
        };
        if !self.cfg.regions.is_empty() {
            run.regions = super::regions::places(&self.cfg, &run);
        }
        run
    }

    /// Component `i`'s figures after warm-up.
    fn component_report(&self, i: usize, end: Time, span: f64) -> ComponentReport {
        let (name, cfg) = &self.cfg.components[i];
        let st = &self.stats[i];
        let comp = &self.comps[i];
        let d = self.counters(i, end).minus(&st.at_warmup);
        let mut r = ComponentReport {
            name: name.clone(),
            kind: cfg.kind(),
            arrivals: d.arrivals,
            completions: d.completions,
            rejections: d.rejections,
            timed_out: d.timed_out,
            failed: d.failed,
            attempts: self.att.targets(CompId(i as u16)).then_some(AttemptCounts {
                retries: d.retries,
                hedges: d.hedges,
                wasted: d.wasted,
                cancelled: d.cancelled,
                short_circuited: d.short_circuited,
                breaker_opens: self.att.breaker_opens(CompId(i as u16)),
            }),
            throughput_rps: d.completions as f64 / span * 1e9,
            mean_in_system: d.in_system / span,
            mean_response_s: st.response.mean_s(),
            p99_response_s: st.response.quantile_s(0.99),
            response: st.response.clone(),
            instances: Some(cfg.instances()),
            instances_mean: cfg.instances() as f64,
            instances_max: cfg.instances(),
            scale_outs: st.scale_outs,
            scale_ins: st.scale_ins,
            evictions: st.evictions,
            cost_usd: self.bill(i, end),
            cost_measured_usd: self
                .accrued(i, end)
                .map(|a| a - self.cost_at_warmup[i].unwrap_or(0.0)),
            ..ComponentReport::default()
        };
        if let Some(pool) = comp.fleet() {
            r.utilization = Some(if d.slots > 0.0 { d.busy / d.slots } else { 0.0 });
            r.cpu = Some(if d.slots > 0.0 { d.cpu / d.slots } else { 0.0 });
            r.mean_queue_len = Some(d.queue / span);
            r.instances_mean = d.ready / span;
            r.instances_max = st.ready_max;
            r.ready_time_s = st.ready_time.until(end, self.cfg.warmup);
            r.failures = self.failures[i].as_ref().map(|f| f.count - f.at_warmup);
            r.spot_interruptions = self.spot[i].as_ref().map(|f| f.count - f.at_warmup);
            r.detection_s = self.health[i].as_ref().map(|h| h.detection.clone());
            r.load_at_least = pool.load_integrals(end).map(|l| {
                let w = self.load_at_warmup[i].unwrap_or([0.0; LEVELS]);
                std::array::from_fn(|k| {
                    if d.ready > 0.0 {
                        (l[k] - w[k]) / d.ready
                    } else {
                        0.0
                    }
                })
            });
        }
        comp.report(&d, st, span, &mut r);
        r
    }

    /// Closes the sampling window ending at `now`: one row per component
    /// and one for the whole system.
    pub(crate) fn sample(&mut self, now: Time) {
        let dt = (now - self.last_sample).max(1) as f64;
        let t_s = to_secs(now);
        let mut rows = Vec::with_capacity(self.stats.len() + 1);
        let costs: Vec<Option<f64>> = (0..self.stats.len())
            .map(|i| self.accrued(i, now))
            .collect();
        let instances: Vec<u32> = (0..self.stats.len()).map(|i| self.instances(i)).collect();
        for (i, cost) in costs.iter().enumerate() {
            let c = self.counters(i, now);
            let st = &mut self.stats[i];
            let d = c.minus(&st.at_sample);
            let mut row = window_row(t_s, &self.cfg.components[i].0, &d, &st.window, dt);
            let comp = &mut self.comps[i];
            if let Some(pool) = comp.fleet() {
                // Over the window's slot-time (capacity changes within it;
                // empty when nothing was ready all window).
                row.utilization = (d.slots > 0.0).then(|| d.busy / d.slots);
                row.cpu = (d.slots > 0.0).then(|| d.cpu / d.slots);
                row.queue_len = Some(d.queue / dt);
                row.wait_mean_s = Some(st.window_wait.mean());
                row.instances_desired = Some(pool.desired());
                row.instances_pending = Some(pool.desired() - pool.ready());
                row.forecast_rps = st.forecast;
            }
            row.instances = Some(instances[i]);
            comp.window(&d, st, dt, &mut row);
            row.cost_usd = *cost;
            rows.push(row);
            st.at_sample = c;
            st.window.clear();
            st.window_wait = Tally::default();
        }
        let c = self.sys.counters(now);
        let d = c.minus(&self.sys.at_sample);
        let mut row = window_row(t_s, "_system", &d, &self.sys.window, dt);
        row.cost_usd = costs.iter().flatten().copied().reduce(|a, b| a + b);
        let marks = self.user_marks(now);
        if marks.iter().any(Option::is_some) {
            let user_s: f64 = marks.iter().flatten().map(|m| m.0).sum();
            row.users = Some((user_s - self.users_at_sample) / (dt / 1e9));
            self.users_at_sample = user_s;
        }
        rows.push(row);
        self.sys.at_sample = c;
        self.sys.window.clear();
        self.rows.extend(rows);
        self.last_sample = now;
    }
}

/// The figures every component's window row has.
fn window_row(t_s: f64, name: &str, d: &Counters, h: &LatencyHist, dt: f64) -> TsRow {
    TsRow {
        t_s,
        component: name.to_string(),
        arrivals: d.arrivals,
        completions: d.completions,
        rejections: d.rejections,
        timed_out: d.timed_out,
        failed: d.failed,
        mean_s: h.mean_s(),
        p50_s: h.quantile_s(0.5),
        p95_s: h.quantile_s(0.95),
        p99_s: h.quantile_s(0.99),
        wait_mean_s: None,
        utilization: None,
        cpu: None,
        queue_len: None,
        in_flight: d.in_system / dt,
        hit_ratio: None,
        instances: None,
        instances_desired: None,
        instances_pending: None,
        forecast_rps: None,
        cost_usd: None,
        job_mean_s: None,
        job_p99_s: None,
        ttft_p99_s: None,
        tpot_p99_s: None,
        itl_p99_s: None,
        tokens_per_s: None,
        kv_use: None,
        batch_mean: None,
        preemptions: None,
        users: None,
        memory: None,
        transfer_gb: None,
    }
}
