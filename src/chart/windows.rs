//! A run's time series regrouped by window, and the buckets drawn.

use super::axis::TimeAxis;
use super::figure::{Figure, Header};
use super::timeline::{RunFigure, TimePlot};
use super::MAX_POINTS;
use crate::output::summary::{ComponentJson, Summary};
use scalesim_models::system::{RunReport, TsRow};
use std::collections::BTreeMap;
use std::ops::Range;

/// The time series regrouped by window: `_system` rows and, per component
/// in scenario order, its row of each window.
pub(crate) struct Windows<'a> {
    /// End of each window (s).
    pub(crate) t: Vec<f64>,
    /// Length of each window (s).
    pub(crate) dt: Vec<f64>,
    pub(crate) system: Vec<&'a TsRow>,
    /// (name, kind, row per window).
    pub(crate) comps: Vec<(String, &'static str, Vec<Option<&'a TsRow>>)>,
}

impl<'a> Windows<'a> {
    pub(crate) fn new(run: &'a RunReport) -> Windows<'a> {
        let mut comps: Vec<(String, &'static str, Vec<Option<&TsRow>>)> = run
            .components
            .iter()
            .map(|c| (c.name.clone(), c.kind, Vec::new()))
            .collect();
        let mut index: BTreeMap<String, usize> = comps
            .iter()
            .enumerate()
            .map(|(i, c)| (c.0.clone(), i))
            .collect();
        let (mut t, mut dt, mut system) = (Vec::new(), Vec::new(), Vec::new());
        for row in &run.timeseries {
            if row.component == "_system" {
                let prev = t.last().copied().unwrap_or(0.0);
                t.push(row.t_s);
                dt.push((row.t_s - prev).max(1e-9));
                system.push(row);
                continue;
            }
            let i = *index.entry(row.component.clone()).or_insert_with(|| {
                comps.push((row.component.clone(), "", Vec::new()));
                comps.len() - 1
            });
            let w = system.len();
            let rows = &mut comps[i].2;
            if rows.len() <= w {
                rows.resize(w + 1, None);
            }
            rows[w] = Some(row);
        }
        for c in &mut comps {
            c.2.resize(system.len(), None);
        }
        Windows {
            t,
            dt,
            system,
            comps,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.t.len()
    }
}

/// Groups of consecutive windows drawn as one point.
pub(crate) struct Buckets {
    pub(crate) ranges: Vec<Range<usize>>,
    /// Windows per bucket.
    pub(crate) k: usize,
}

impl Buckets {
    pub(crate) fn new(n: usize) -> Buckets {
        let k = n.div_ceil(MAX_POINTS).max(1);
        let ranges = (0..n.div_ceil(k))
            .map(|i| i * k..((i + 1) * k).min(n))
            .collect();
        Buckets { ranges, k }
    }
}

/// One drawn point: the bucket's value and its windows' range.
#[derive(Clone, Copy)]
pub(crate) struct Pt {
    pub(crate) x: f64,
    pub(crate) v: f64,
    pub(crate) lo: f64,
    pub(crate) hi: f64,
}

/// Everything the figure builders need.
pub(crate) struct Ctx<'a> {
    pub(crate) data: &'a Windows<'a>,
    pub(crate) buckets: Buckets,
    pub(crate) x: TimeAxis,
    pub(crate) run: &'a RunReport,
    pub(crate) summary: &'a Summary,
}

impl Ctx<'_> {
    /// Per bucket: the weighted mean of `f`'s values (value, weight) and
    /// their min and max; `None` where no window has a value.
    pub(crate) fn series(&self, f: impl Fn(usize) -> Option<(f64, f64)>) -> Vec<Option<Pt>> {
        self.buckets
            .ranges
            .iter()
            .map(|r| {
                let (mut sum, mut wsum) = (0.0, 0.0);
                let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
                let mut any = false;
                for i in r.clone() {
                    if let Some((v, w)) = f(i) {
                        if !v.is_finite() {
                            continue;
                        }
                        any = true;
                        sum += v * w;
                        wsum += w;
                        lo = lo.min(v);
                        hi = hi.max(v);
                    }
                }
                any.then(|| Pt {
                    x: self.data.t[r.end - 1],
                    v: if wsum > 0.0 { sum / wsum } else { lo },
                    lo,
                    hi,
                })
            })
            .collect()
    }

    /// Per bucket: the last value of `f` in it (for cumulative figures).
    pub(crate) fn last(&self, f: impl Fn(usize) -> Option<f64>) -> Vec<Option<Pt>> {
        self.buckets
            .ranges
            .iter()
            .map(|r| {
                r.clone().rev().find_map(&f).map(|v| Pt {
                    x: self.data.t[r.end - 1],
                    v,
                    lo: v,
                    hi: v,
                })
            })
            .collect()
    }

    /// A rate series: count / window length, weighted by window length.
    pub(crate) fn rate(&self, count: impl Fn(&TsRow) -> u64) -> Vec<Option<Pt>> {
        self.series(|i| {
            let dt = self.data.dt[i];
            Some((count(self.data.system[i]) as f64 / dt, dt))
        })
    }

    /// Whether component `i` reports `f` in some window.
    pub(crate) fn reports(&self, i: usize, f: impl Fn(&TsRow) -> bool) -> bool {
        self.data.comps[i].2.iter().any(|r| r.is_some_and(&f))
    }

    /// The components that report `f` in some window, in scenario order.
    pub(crate) fn reporting(&self, f: impl Fn(&TsRow) -> bool + Copy) -> Vec<usize> {
        (0..self.data.comps.len())
            .filter(|&i| self.reports(i, f))
            .collect()
    }

    /// The job queues (`kind = "queue"`), in scenario order.
    pub(crate) fn queues(&self) -> Vec<usize> {
        (0..self.data.comps.len())
            .filter(|&i| {
                self.data.comps[i].1 == "queue" || self.reports(i, |r| r.job_p99_s.is_some())
            })
            .collect()
    }

    /// The LLM and batch components, in scenario order.
    pub(crate) fn serving(&self) -> Vec<usize> {
        self.reporting(|r| r.batch_mean.is_some())
    }

    /// Per bucket: figure `f` of component `i`'s rows, time-weighted.
    pub(crate) fn comp_series(
        &self,
        i: usize,
        f: impl Fn(&TsRow) -> Option<f64>,
    ) -> Vec<Option<Pt>> {
        self.series(|w| {
            self.data.comps[i].2[w]
                .and_then(&f)
                .map(|v| (v, self.data.dt[w]))
        })
    }

    /// The summary entry of component `name`.
    pub(crate) fn component(&self, name: &str) -> Option<&ComponentJson> {
        self.summary
            .components
            .0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, j)| j)
    }

    /// Per bucket: a job-latency figure of queue `i` (`f` of its rows),
    /// time-weighted; windows in which no job finished (0) are gaps.
    pub(crate) fn job_series(&self, i: usize, f: fn(&TsRow) -> Option<f64>) -> Vec<Option<Pt>> {
        self.comp_series(i, |r| f(r).filter(|v| *v > 0.0))
    }

    /// An empty chart `name` titled `<run>: <what>`.
    pub(crate) fn figure(&self, name: &'static str, what: &str) -> RunFigure<'_> {
        Figure {
            name,
            head: Header {
                title: format!("{}: {what}", self.run.name),
                subtitle: Vec::new(),
                legend: Vec::new(),
            },
            body: TimePlot {
                x: &self.x,
                panels: Vec::new(),
                message: None,
            },
        }
    }

    pub(crate) fn banded(&self) -> bool {
        self.buckets.k > 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_window_once() {
        for n in [0, 1, 599, 600, 601, 10080] {
            let b = Buckets::new(n);
            assert!(b.ranges.len() <= MAX_POINTS);
            let covered: usize = b.ranges.iter().map(|r| r.len()).sum();
            assert_eq!(covered, n);
            assert!(b.ranges.windows(2).all(|w| w[0].end == w[1].start));
        }
    }
}
