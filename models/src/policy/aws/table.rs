//! The tables of the AWS policies, with the fields they share written
//! once: the group's bounds and alarm period (checked by `check_bounds`),
//! the CloudWatch alarm of a simple or step policy (checked by
//! `AlarmConfig::check`), and the `scale_out` / `scale_in` pair.

/// Declares the `[autoscaler.<pool>]` table of an AWS policy, or one of its
/// `scale_out` / `scale_in` tables, with markers where shared fields stand:
///
/// - `@group,`: `min` (default 1), `max`, `period` (the alarm period,
///   default 60 s);
/// - `@alarm Required,` (a `scale_out` / `scale_in` table: `metric`,
///   `comparison` and `threshold` required) or `@alarm Optional,` (the flat
///   single alarm): the alarm fields, and a method `alarm_given` that hands
///   them to `AlarmGiven`;
/// - `@pair Type,`: `scale_out` and `scale_in`, optional tables of `Type`.
///
/// The fields stay in the one table, in the order written, rather than in
/// a `#[serde(flatten)]` block (which `deny_unknown_fields` refuses), so
/// unknown fields are reported, and suggested, as for any table.
macro_rules! aws_table {
    (
        $(#[$attr:meta])*
        pub struct $name:ident { $($body:tt)* }
    ) => {
        $crate::policy::aws::table::aws_table!(@fields [$(#[$attr])*] $name [] $($body)*);
    };
    (@fields [$($attr:tt)*] $name:ident [$($done:tt)*]) => {
        $($attr)*
        pub struct $name { $($done)* }
    };
    (@fields $attr:tt $name:ident [$($done:tt)*] @group, $($rest:tt)*) => {
        $crate::policy::aws::table::aws_table!(@fields $attr $name [$($done)*
            /// Minimum capacity (default 1).
            #[serde(default = "one")]
            pub min: u32,
            /// Maximum capacity.
            pub max: u32,
            /// Alarm period: one datapoint, and one evaluation, per period
            /// (default 60 s).
            #[serde(default = "minute")]
            pub period: $crate::units::Duration,
        ] $($rest)*);
    };
    (@fields $attr:tt $name:ident [$($done:tt)*] @alarm $form:ident, $($rest:tt)*) => {
        $crate::policy::aws::table::aws_table!(@fields $attr $name [$($done)*
            /// The alarm's metric (see [`crate::policy::metric`]).
            pub metric: $crate::policy::aws::alarm::$form<String>,
            /// The alarm's comparison operator.
            pub comparison: $crate::policy::aws::alarm::$form<$crate::policy::aws::Comparison>,
            /// The alarm threshold, in the metric's unit: a fraction or
            /// percent for shares (0.7, "70%"), a duration for latencies
            /// ("300ms"), a number for counts and rates. Step bounds are
            /// relative to it, in the same unit.
            pub threshold: $crate::policy::aws::alarm::$form<$crate::units::Level>,
            /// N: datapoints evaluated (default 1).
            #[serde(default)]
            pub evaluation_periods: Option<u32>,
            /// M: breaching datapoints needed (default N).
            #[serde(default)]
            pub datapoints_to_alarm: Option<u32>,
            /// Treatment of missing datapoints (default `missing`).
            #[serde(default)]
            pub treat_missing_data: Option<$crate::policy::aws::MissingData>,
        ] $($rest)*);

        impl $name {
            /// The alarm's fields as the table gives them.
            #[allow(clippy::useless_conversion)]
            fn alarm_given(&self) -> $crate::policy::aws::alarm::AlarmGiven {
                $crate::policy::aws::alarm::AlarmGiven {
                    metric: self.metric.clone().into(),
                    comparison: self.comparison.into(),
                    threshold: self.threshold.into(),
                    evaluation_periods: self.evaluation_periods,
                    datapoints_to_alarm: self.datapoints_to_alarm,
                    treat_missing_data: self.treat_missing_data,
                }
            }
        }
    };
    (@fields $attr:tt $name:ident [$($done:tt)*] @pair $pair:ty, $($rest:tt)*) => {
        $crate::policy::aws::table::aws_table!(@fields $attr $name [$($done)*
            /// The scale-out alarm and policy of a pair.
            #[serde(default)]
            pub scale_out: Option<$pair>,
            /// The scale-in alarm and policy of a pair.
            #[serde(default)]
            pub scale_in: Option<$pair>,
        ] $($rest)*);
    };
    (@fields $attr:tt $name:ident [$($done:tt)*]
        $(#[$fa:meta])* pub $f:ident: $ft:ty, $($rest:tt)*) => {
        $crate::policy::aws::table::aws_table!(@fields $attr $name [$($done)*
            $(#[$fa])* pub $f: $ft,
        ] $($rest)*);
    };
}
pub(super) use aws_table;
