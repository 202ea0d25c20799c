//! The peak of a component: its busiest sampling window after warm-up,
//! found one way for the summary, the report and the SLO verdict. A
//! whole-run mean hides the hour a database spends at 98% busy; this is
//! that window.

use super::TsRow;

/// One sampling window of one component: when it started and its row
/// (whose `t_s` is when it ended).
#[derive(Clone, Copy, Debug)]
pub struct Window<'a> {
    /// Start of the window, seconds.
    pub from_s: f64,
    /// The window's figures.
    pub row: &'a TsRow,
}

impl Window<'_> {
    /// Length of the window, seconds (never 0).
    pub fn len_s(&self) -> f64 {
        (self.row.t_s - self.from_s).max(1e-9)
    }

    /// Rejected and timed-out arrivals over arrivals in the window (0
    /// without arrivals).
    pub fn error_rate(&self) -> f64 {
        if self.row.arrivals == 0 {
            0.0
        } else {
            self.row.errors() as f64 / self.row.arrivals as f64
        }
    }
}

/// The windows of component `name` (or `_system`) that start at or after
/// `warmup_s`, in time order.
pub fn windows<'a>(rows: &'a [TsRow], name: &str, warmup_s: f64) -> Vec<Window<'a>> {
    let mut start = 0.0;
    let mut out = Vec::new();
    for r in rows.iter().filter(|r| r.component == name) {
        if start + 1e-9 >= warmup_s {
            out.push(Window {
                from_s: start,
                row: r,
            });
        }
        start = r.t_s;
    }
    out
}

/// What ranks the windows of a component, and the value that ranks one:
/// utilization where the component has one (a fleet), else queue length
/// (a queue), else arrivals.
pub fn rank(row: &TsRow) -> (&'static str, f64) {
    match (row.utilization, row.queue_len) {
        (Some(u), _) => ("utilization", u),
        (None, Some(q)) => ("queue length", q),
        (None, None) => ("arrivals", row.arrivals as f64),
    }
}

/// The busiest of `windows` by [`rank`]; the first of equals.
pub fn busiest<'a>(windows: &[Window<'a>]) -> Option<Window<'a>> {
    windows
        .iter()
        .copied()
        .reduce(|a, b| if rank(b.row).1 > rank(a.row).1 { b } else { a })
}

/// The busiest hour of `windows` (consecutive windows covering an hour):
/// its start and arrivals per second; the whole span and its rate when
/// the windows cover less than an hour.
pub fn busiest_hour(windows: &[Window]) -> Option<(f64, f64)> {
    let (first, last) = (windows.first()?, windows.last()?);
    let total: u64 = windows.iter().map(|w| w.row.arrivals).sum();
    let whole = (last.row.t_s - first.from_s).max(1e-9);
    let (mut best, mut best_rate) = (first.from_s, total as f64 / whole);
    let (mut found, mut j, mut sum) = (false, 0, 0u64);
    for i in 0..windows.len() {
        sum += windows[i].row.arrivals;
        while j < i && windows[i].row.t_s - windows[j].from_s > 3600.0 + 1e-9 {
            sum -= windows[j].row.arrivals;
            j += 1;
        }
        let span = windows[i].row.t_s - windows[j].from_s;
        let rate = sum as f64 / span.max(1e-9);
        if span >= 3600.0 - 1e-9 && (!found || rate > best_rate) {
            (best, best_rate, found) = (windows[j].from_s, rate, true);
        }
    }
    Some((best, best_rate))
}
