//! The CloudWatch metric alarm that invokes the simple and step policies
//! and that target tracking manages: comparison operators, the evaluation
//! of M out of N datapoints, the four treatments of missing data (Amazon
//! CloudWatch User Guide, "Using Amazon CloudWatch alarms"), and the checks
//! of an alarm's fields.

use super::{join, num};
use crate::policy::issue;
use crate::units::Duration;
use serde::Deserialize;
use std::collections::VecDeque;
use std::fmt;

/// The comparison operator of a CloudWatch alarm (`ComparisonOperator`):
/// `">"`, `">="`, `"<"`, `"<="`, or the AWS names
/// (`GreaterThanOrEqualToThreshold`, ...). A datapoint *breaches* when
/// `value <op> threshold`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum Comparison {
    /// `>`: `GreaterThanThreshold`.
    #[serde(rename = ">", alias = "GreaterThanThreshold")]
    Greater,
    /// `>=`: `GreaterThanOrEqualToThreshold`.
    #[serde(rename = ">=", alias = "GreaterThanOrEqualToThreshold")]
    GreaterOrEqual,
    /// `<`: `LessThanThreshold`.
    #[serde(rename = "<", alias = "LessThanThreshold")]
    Less,
    /// `<=`: `LessThanOrEqualToThreshold`.
    #[serde(rename = "<=", alias = "LessThanOrEqualToThreshold")]
    LessOrEqual,
}

impl Comparison {
    /// Whether `value` breaches `threshold`.
    pub fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::Greater => value > threshold,
            Comparison::GreaterOrEqual => value >= threshold,
            Comparison::Less => value < threshold,
            Comparison::LessOrEqual => value <= threshold,
        }
    }

    /// True for `>` and `>=` (the alarm watches for high values).
    pub fn is_high(self) -> bool {
        matches!(self, Comparison::Greater | Comparison::GreaterOrEqual)
    }

    /// The operator as written in a scenario.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Greater => ">",
            Comparison::GreaterOrEqual => ">=",
            Comparison::Less => "<",
            Comparison::LessOrEqual => "<=",
        }
    }
}

/// How an alarm treats missing datapoints (`TreatMissingData`), CloudWatch
/// User Guide, "Configuring how CloudWatch alarms treat missing data".
/// The default is `missing`.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MissingData {
    /// "The alarm does not consider missing data points when evaluating
    /// whether to change state" (the default).
    #[default]
    Missing,
    /// Missing datapoints are treated as breaching the threshold.
    Breaching,
    /// Missing datapoints are treated as within the threshold.
    #[serde(alias = "notBreaching")]
    NotBreaching,
    /// The current alarm state is maintained.
    Ignore,
}

/// How a step policy aggregates the alarm's datapoints into the one value
/// it matches against the step intervals (`MetricAggregationType`; API
/// default `Average`).
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Aggregation {
    /// Mean of the datapoints.
    #[default]
    #[serde(alias = "Average")]
    Average,
    /// Smallest datapoint.
    #[serde(alias = "Minimum")]
    Minimum,
    /// Largest datapoint.
    #[serde(alias = "Maximum")]
    Maximum,
}

/// The state of a CloudWatch metric alarm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlarmState {
    /// Within the threshold.
    Ok,
    /// Outside the threshold: the scaling policy is invoked, once per
    /// period for as long as the state lasts.
    Alarm,
    /// The alarm has just started or has too few datapoints.
    InsufficientData,
}

impl fmt::Display for AlarmState {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
        })
    }
}

/// A CloudWatch metric alarm fed one datapoint per period.
///
/// Evaluation follows the CloudWatch User Guide, "Evaluating an alarm" and
/// "How alarm state is evaluated when data is missing": the alarm looks at
/// an *evaluation range* of recent periods, larger than the `N` evaluation
/// periods (this model uses `N + 2`, the 5 periods of the guide's tables
/// for `N = 3`). When the range holds at least `N` real datapoints, the
/// `N` most recent are evaluated and the alarm is in ALARM when at least
/// `M` of them breach ("the breaching data points do not have to be
/// consecutive"). With fewer, missing datapoints are filled "as few times
/// as possible" according to [`MissingData`]; with `missing` and `ignore`,
/// the guide's tables are reproduced by: ALARM if `M` real datapoints
/// breach, OK if a real datapoint does not breach, otherwise
/// INSUFFICIENT_DATA (`missing`; or ALARM when "the oldest evaluated data
/// point is breaching and there aren't any non-breaching data points") or
/// the previous state (`ignore`).
#[derive(Clone, Debug)]
pub struct Alarm {
    metric: String,
    comparison: Comparison,
    threshold: f64,
    evaluation_periods: usize,
    datapoints_to_alarm: usize,
    missing: MissingData,
    range: VecDeque<Option<f64>>,
    state: AlarmState,
    evaluated: Vec<f64>,
    breaching: usize,
}

impl Alarm {
    /// An alarm on `metric` breaching when `value <comparison> threshold`
    /// in `datapoints_to_alarm` (M) of `evaluation_periods` (N) datapoints.
    /// It starts in INSUFFICIENT_DATA, like a new CloudWatch alarm.
    pub fn new(
        metric: &str,
        comparison: Comparison,
        threshold: f64,
        evaluation_periods: u32,
        datapoints_to_alarm: u32,
        missing: MissingData,
    ) -> Self {
        let n = evaluation_periods.max(1) as usize;
        Alarm {
            metric: metric.to_string(),
            comparison,
            threshold,
            evaluation_periods: n,
            datapoints_to_alarm: (datapoints_to_alarm.max(1) as usize).min(n),
            missing,
            range: VecDeque::with_capacity(n + 2),
            state: AlarmState::InsufficientData,
            evaluated: Vec::with_capacity(n),
            breaching: 0,
        }
    }

    /// The metric the alarm watches.
    pub fn metric(&self) -> &str {
        &self.metric
    }

    /// The alarm threshold.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The comparison operator.
    pub fn comparison(&self) -> Comparison {
        self.comparison
    }

    /// Periods of the evaluation range (`N + 2`).
    fn range_len(&self) -> usize {
        self.evaluation_periods + 2
    }

    /// Takes the datapoint of one more period (None or a non-finite value:
    /// missing) and returns the new state.
    pub fn observe(&mut self, value: Option<f64>) -> AlarmState {
        let value = value.filter(|v| v.is_finite());
        if self.range.len() == self.range_len() {
            self.range.pop_front();
        }
        self.range.push_back(value);
        let (n, m) = (self.evaluation_periods, self.datapoints_to_alarm);
        let existing: Vec<f64> = self.range.iter().flatten().copied().collect();
        let skip = existing.len().saturating_sub(n);
        self.evaluated.clear();
        self.evaluated.extend_from_slice(&existing[skip..]);
        let breaching = |v: &f64| self.comparison.breaches(*v, self.threshold);
        let b = self.evaluated.iter().filter(|v| breaching(v)).count();
        let some_ok = self.evaluated.iter().any(|v| !breaching(v));
        self.breaching = b;
        self.state = if self.evaluated.len() >= n {
            // Enough real datapoints: "CloudWatch evaluates the alarm state
            // based on the most recent existing data points".
            if b >= m {
                AlarmState::Alarm
            } else {
                AlarmState::Ok
            }
        } else {
            let fill = n - self.evaluated.len();
            match self.missing {
                MissingData::Breaching => {
                    self.breaching = b + fill;
                    if b + fill >= m {
                        AlarmState::Alarm
                    } else {
                        AlarmState::Ok
                    }
                }
                MissingData::NotBreaching => {
                    if b >= m {
                        AlarmState::Alarm
                    } else {
                        AlarmState::Ok
                    }
                }
                MissingData::Missing | MissingData::Ignore => {
                    if b >= m {
                        AlarmState::Alarm
                    } else if some_ok {
                        AlarmState::Ok
                    } else if self.missing == MissingData::Ignore {
                        self.state
                    } else {
                        let oldest_breaching = self.range.len() == self.range_len()
                            && self.range[0].is_some_and(|v| breaching(&v));
                        if oldest_breaching {
                            AlarmState::Alarm
                        } else {
                            AlarmState::InsufficientData
                        }
                    }
                }
            }
        };
        self.state
    }

    /// The state after the last datapoint.
    pub fn state(&self) -> AlarmState {
        self.state
    }

    /// The real datapoints of the last evaluation, oldest first (at most N).
    pub fn evaluated(&self) -> &[f64] {
        &self.evaluated
    }

    /// How many evaluated datapoints breached (missing ones filled as
    /// breaching included).
    pub fn breaching(&self) -> usize {
        self.breaching
    }

    /// The most recent real datapoint of the evaluation range.
    pub fn latest(&self) -> Option<f64> {
        self.range.iter().rev().flatten().next().copied()
    }

    /// The evaluated datapoints aggregated (None when there are none).
    pub fn aggregate(&self, how: Aggregation) -> Option<f64> {
        let d = &self.evaluated;
        if d.is_empty() {
            return None;
        }
        Some(match how {
            Aggregation::Average => d.iter().sum::<f64>() / d.len() as f64,
            Aggregation::Minimum => d.iter().copied().fold(f64::INFINITY, f64::min),
            Aggregation::Maximum => d.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        })
    }

    /// "cpu 0.82 >= 0.7 (3 of 3)": the value that drove a decision.
    pub(super) fn describe(&self, value: f64, aggregated: bool) -> String {
        let agg = if aggregated && self.evaluated.len() > 1 {
            "avg "
        } else {
            ""
        };
        format!(
            "{} {}{} {} {} ({} of {})",
            self.metric,
            agg,
            num(value),
            self.comparison.symbol(),
            num(self.threshold),
            self.breaching,
            self.evaluation_periods
        )
    }

    /// "scale_out alarm OK (0 of 3 >= 0.7)": why an alarm did not act.
    pub(super) fn status(&self, name: &str) -> String {
        format!(
            "{name} alarm {} ({} of {} {} {}, {} needed)",
            self.state,
            self.breaching,
            self.evaluation_periods,
            self.comparison.symbol(),
            num(self.threshold),
            self.datapoints_to_alarm
        )
    }
}

// ---------------------------------------------------------------------------
// The alarm as configured
// ---------------------------------------------------------------------------

/// One CloudWatch alarm as configured: the metric, the comparison with the
/// threshold, N evaluation periods, M datapoints to alarm, the treatment of
/// missing data. Simple and step policies give it in their tables (the
/// fields declared by `aws_table!`); target tracking derives its two
/// alarms from the target.
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmConfig {
    /// Metric the alarm watches.
    pub metric: String,
    /// Comparison operator.
    pub comparison: Comparison,
    /// Threshold, in the metric's unit.
    pub threshold: crate::units::Level,
    /// N: datapoints evaluated.
    pub evaluation_periods: u32,
    /// M: breaching datapoints needed (None: N).
    pub datapoints_to_alarm: Option<u32>,
    /// Treatment of missing datapoints.
    pub treat_missing_data: MissingData,
}

impl AlarmConfig {
    /// Checks the fields, at field paths below `prefix`; CloudWatch: "The
    /// number of evaluation periods for an alarm multiplied by the length
    /// of each evaluation period cannot exceed one day", and datapoints to
    /// alarm is between 1 and N.
    pub(super) fn check(&self, prefix: &str, period: Duration) -> Result<(), (String, String)> {
        let (n, m) = (self.evaluation_periods, self.datapoints_to_alarm);
        if self.metric.trim().is_empty() {
            return issue(join(prefix, "metric"), "expected a metric name");
        }
        crate::policy::metric::check_level(&self.metric, "threshold", self.threshold)
            .map_err(|m| (join(prefix, "threshold"), m))?;
        if n == 0 {
            return issue(
                join(prefix, "evaluation_periods"),
                "expected at least 1 evaluation period",
            );
        }
        if n as u64 > crate::limits::MAX_HISTORY {
            return issue(
                join(prefix, "evaluation_periods"),
                format!(
                    "{n} evaluation periods is above {} (memory: the alarm keeps every datapoint of its range)",
                    crate::limits::MAX_HISTORY
                ),
            );
        }
        if let Some(m) = m {
            if m == 0 || m > n {
                return issue(join(prefix, "datapoints_to_alarm"), format!(
                        "datapoints_to_alarm must be between 1 and evaluation_periods ({n}), got {m}"
                    ));
            }
        }
        if n as f64 * period.secs() > 86400.0 {
            return issue(
                join(prefix, "evaluation_periods"),
                format!(
                    "evaluation_periods x period = {} s exceeds one day (CloudWatch limit)",
                    num(n as f64 * period.secs())
                ),
            );
        }
        Ok(())
    }

    /// The alarm, in INSUFFICIENT_DATA like a new CloudWatch alarm.
    pub fn alarm(&self) -> Alarm {
        Alarm::new(
            &self.metric,
            self.comparison,
            self.threshold.value,
            self.evaluation_periods,
            self.datapoints_to_alarm.unwrap_or(self.evaluation_periods),
            self.treat_missing_data,
        )
    }
}

/// An alarm field that a `scale_out` / `scale_in` table requires.
pub(super) type Required<T> = T;
/// An alarm field of the flat single alarm, which may be left out.
pub(super) type Optional<T> = Option<T>;

/// The alarm fields of a policy table as given (None: left out).
pub(super) struct AlarmGiven {
    pub(super) metric: Option<String>,
    pub(super) comparison: Option<Comparison>,
    pub(super) threshold: Option<crate::units::Level>,
    pub(super) evaluation_periods: Option<u32>,
    pub(super) datapoints_to_alarm: Option<u32>,
    pub(super) treat_missing_data: Option<MissingData>,
}

impl AlarmGiven {
    /// Whether any field is given.
    pub(super) fn any(&self) -> bool {
        self.metric.is_some()
            || self.comparison.is_some()
            || self.threshold.is_some()
            || self.evaluation_periods.is_some()
            || self.datapoints_to_alarm.is_some()
            || self.treat_missing_data.is_some()
    }

    /// The alarm, N defaulting to 1 and missing data to `missing`;
    /// `need(field)` is the error for a metric, comparison or threshold
    /// left out.
    pub(super) fn resolve(self, need: &Need) -> Result<AlarmConfig, (String, String)> {
        Ok(AlarmConfig {
            metric: self.metric.ok_or_else(|| need("metric"))?,
            comparison: self.comparison.ok_or_else(|| need("comparison"))?,
            threshold: self.threshold.ok_or_else(|| need("threshold"))?,
            evaluation_periods: self.evaluation_periods.unwrap_or(1),
            datapoints_to_alarm: self.datapoints_to_alarm,
            treat_missing_data: self.treat_missing_data.unwrap_or_default(),
        })
    }
}

/// The error for a required field left out of the flat single alarm.
pub(super) type Need = dyn Fn(&str) -> (String, String);

/// The alarms of a simple or step policy, each with its field path prefix:
/// the flat single alarm (`flat`: some of its fields are given; prefix "")
/// or the pair `scale_out` / `scale_in`, never both. `kind` ("simple",
/// "step") and `last` (the field that says what the policy does) word the
/// errors.
pub(super) fn one_or_pair<P, R>(
    kind: &'static str,
    last: &'static str,
    flat: bool,
    pair: [(&'static str, Option<&P>); 2],
    each: impl Fn(&P, &Need) -> Result<R, (String, String)>,
    single: impl FnOnce(&Need) -> Result<R, (String, String)>,
) -> Result<Vec<(&'static str, R)>, (String, String)> {
    let paired = pair.iter().any(|(_, p)| p.is_some());
    if flat && paired {
        return issue("scale_out", format!("give either one alarm (metric, comparison, threshold, {last}) or scale_out / scale_in, not both"));
    }
    let need = move |name: &str| {
        (
            name.to_string(),
            format!("missing `{name}`: a {kind} policy needs metric, comparison, threshold and {last} (or scale_out / scale_in tables)"),
        )
    };
    if paired {
        return pair
            .into_iter()
            .filter_map(|(prefix, p)| p.map(|p| each(p, &need).map(|r| (prefix, r))))
            .collect();
    }
    Ok(vec![("", single(&need)?)])
}
