//! A kind of component plugs in through the public interface alone: a
//! fixed-delay component (an infinite-server delay station, M/D/inf)
//! defined here, in a test file, replaces a pool of a loaded scenario and
//! runs with everything the framework provides — routing, counting,
//! response times, the time series — checked against Little's law.

use scalesim::scenario::load_str;
use scalesim_models::flow::{Caller, Component, Cx, Outcome, VisitId, Wake};
use scalesim_models::kinds::{BuildCx, CheckCx, ComponentConfig, Kind, KindConfig};
use scalesim_models::System;
use scalesim_sim::{from_secs, Time};
use std::sync::Arc;

/// The configuration: every visit takes exactly `delay`.
#[derive(Debug)]
struct FixedDelayConfig {
    delay: Time,
}

impl KindConfig for FixedDelayConfig {
    fn kind(&self) -> &'static str {
        "fixed-delay"
    }

    fn check(&self, _cx: &CheckCx) -> Vec<(String, String)> {
        if self.delay == 0 {
            vec![("delay".into(), "expected a delay > 0".into())]
        } else {
            Vec::new()
        }
    }

    fn build(&self, _b: &BuildCx) -> Kind {
        Kind::Plugin(Box::new(FixedDelay { delay: self.delay }))
    }
}

/// The running component: no state but the delay.
struct FixedDelay {
    delay: Time,
}

impl Component for FixedDelay {
    fn enter(&mut self, cx: &mut Cx, v: VisitId, _caller: Caller) {
        cx.after(self.delay, 0, v.slot(), 0);
    }

    fn on_wake(&mut self, cx: &mut Cx, w: Wake) {
        cx.leave(VisitId::from_slot(w.a), Outcome::Ok);
    }
}

const SCENARIO: &str = r#"
name = "plugin"
duration = "1000s"
warmup = "50s"
sample = "50s"
seed = 3

[traffic.web]
rate = 100
to = "api"

[components.api]
kind = "pool"
instances = 4
concurrency = 8
service = { dist = "const", value = "10ms" }
calls = ["backend"]

[components.backend]
kind = "pool"
instances = 1
concurrency = 1
service = { dist = "exp", mean = "1ms" }
"#;

fn system_with(delay: ComponentConfig) -> scalesim_models::SystemConfig {
    let loaded = load_str("plugin.toml", SCENARIO, &[], "plugin").expect("loads");
    let mut cfg = loaded.system_config(0);
    let slot = cfg
        .components
        .iter_mut()
        .find(|(n, _)| n == "backend")
        .expect("backend component");
    slot.1 = delay;
    cfg
}

#[test]
fn a_fixed_delay_kind_plugs_in_through_the_public_interface() {
    let delay = 0.025;
    let cfg = system_with(ComponentConfig::Plugin(Arc::new(FixedDelayConfig {
        delay: from_secs(delay),
    })));
    let report = System::new(cfg).expect("builds").run();
    let backend = report
        .components
        .iter()
        .find(|c| c.name == "backend")
        .expect("backend report");
    assert_eq!(backend.kind, "fixed-delay");
    assert_eq!(backend.rejections, 0);
    assert!(backend.arrivals > 90_000, "{} arrivals", backend.arrivals);
    // Every visit completes in exactly the delay (the histogram quantises
    // to 1%).
    assert!((backend.p99_response_s - delay).abs() < delay * 0.01);
    assert!((backend.mean_response_s - delay).abs() < delay * 0.01);
    // Little's law: L = lambda W. The time-averaged number in an M/D/inf
    // station is Poisson(2.5) with correlation time ~ the delay, so over
    // 950 s its standard error is about sqrt(2 * 2.5 * 0.025 / 950) = 0.011;
    // five of them bound the check.
    let lambda = backend.throughput_rps;
    let little = lambda * delay;
    assert!(
        (backend.mean_in_system - little).abs() < 0.06,
        "L = {} vs lambda W = {little}",
        backend.mean_in_system
    );
    // End to end: the API's 10 ms plus the delay, and nothing waits (32
    // slots for 100 requests/s x 35 ms).
    assert!((report.latency.quantile_s(0.99) - 0.035).abs() < 0.035 * 0.01);
    // The framework's time series carries the new kind too.
    let rows: Vec<_> = report
        .timeseries
        .iter()
        .filter(|r| r.component == "backend")
        .collect();
    assert_eq!(rows.len(), 20);
    assert!(rows.iter().all(|r| r.utilization.is_none()));
}

#[test]
fn a_plugin_kinds_own_checks_are_located_under_its_component() {
    let cfg = system_with(ComponentConfig::Plugin(Arc::new(FixedDelayConfig {
        delay: 0,
    })));
    let issues = match System::new(cfg) {
        Ok(_) => panic!("a zero delay must be refused"),
        Err(i) => i,
    };
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].path, "components.backend.delay");
    assert_eq!(issues[0].message, "expected a delay > 0");
}
