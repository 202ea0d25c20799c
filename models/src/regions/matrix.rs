//! Default round-trip times between AWS regions and from client areas to
//! them, the laws a link draws from unless `[regions.<name>] rtt` says
//! otherwise.
//!
//! Between regions: the averages R. Imaoka measured with ICMP ping
//! between EC2 instances over inter-region VPC peering ("Using ping to test
//! AWS VPC network latency across different regions", 2019-06-10). The
//! backbone barely varies (his min-max spread is under 1% for most pairs,
//! about 13% at worst), so each draw is the average x lognormal(mean 1,
//! cv 0.03).
//!
//! From a client area: a last mile of 20 ms for fixed-line users to their
//! home region (Ookla's global median of 10 ms to the nearest test server,
//! Nov 2022, plus metro routing; Prisma's 2024 medians from a PoP to the
//! nearby AWS region, 11-16 ms), plus the backbone from the home region to
//! a remote one. The last mile varies (sd 10 ms, an assumption). Routes
//! change and any matrix is a snapshot, good to 10-20 ms: measure your own
//! and give it as `rtt`. Sources and the derivation:
//! `docs/design/regions-research.md` section 1.

use crate::dist::DistConfig;
use crate::units::Duration;

/// The regions of the measured table, in its order.
pub const REGIONS: [&str; 7] = [
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-northeast-1",
    "ap-southeast-1",
];

/// Average RTT between [`REGIONS`], ms (Imaoka 2019; symmetric).
const BETWEEN: [[f64; 7]; 7] = [
    [0.0, 12.3, 72.1, 76.0, 88.0, 152.7, 226.6],
    [12.3, 0.0, 68.1, 77.9, 97.0, 158.3, 222.8],
    [72.1, 68.1, 0.0, 131.7, 158.0, 99.5, 163.2],
    [76.0, 77.9, 131.7, 0.0, 24.9, 217.9, 175.2],
    [88.0, 97.0, 158.0, 24.9, 0.0, 231.1, 170.7],
    [152.7, 158.3, 99.5, 217.9, 231.1, 0.0, 72.1],
    [226.6, 222.8, 163.2, 175.2, 170.7, 72.1, 0.0],
];

/// The client areas with defaults, and the region each calls home.
pub const AREAS: [(&str, &str); 5] = [
    ("us-east", "us-east-1"),
    ("us-west", "us-west-2"),
    ("europe", "eu-west-1"),
    ("asia", "ap-northeast-1"),
    ("asia-southeast", "ap-southeast-1"),
];

/// A client's last mile to its home region, ms.
pub const LAST_MILE_MS: f64 = 20.0;

/// Its standard deviation, ms.
const LAST_MILE_SD_MS: f64 = 10.0;

/// Spread of the backbone: cv of the factor on its average.
const BACKBONE_CV: f64 = 0.03;

fn region(name: &str) -> Option<usize> {
    REGIONS.iter().position(|r| *r == name)
}

/// Whether `name` is a client area with default round trips.
pub fn is_area(name: &str) -> bool {
    AREAS.iter().any(|(a, _)| *a == name)
}

/// Average RTT between two places (regions or client areas), ms, when the
/// defaults know the pair. Europe is at home in both eu-west-1 and
/// eu-central-1 (25 ms apart).
pub fn rtt_ms(a: &str, b: &str) -> Option<f64> {
    if let (Some(i), Some(j)) = (region(a), region(b)) {
        return Some(BETWEEN[i][j]);
    }
    let (area, to) = match (
        AREAS.iter().find(|x| x.0 == a),
        AREAS.iter().find(|x| x.0 == b),
    ) {
        (Some(x), None) => (x, b),
        (None, Some(x)) => (x, a),
        _ => return None,
    };
    let j = region(to)?;
    let home = region(area.1)?;
    let mut backbone = BETWEEN[home][j];
    if area.0 == "europe" {
        backbone = backbone.min(BETWEEN[region("eu-central-1")?][j]);
    }
    Some(LAST_MILE_MS + backbone)
}

/// The default law of the RTT between `a` and `b` (see the module doc).
pub fn rtt(a: &str, b: &str) -> Option<DistConfig> {
    let ms = rtt_ms(a, b)?;
    let cv = if is_area(a) || is_area(b) {
        LAST_MILE_SD_MS / ms
    } else {
        BACKBONE_CV
    };
    Some(DistConfig::Lognormal {
        mean: Duration(ms / 1e3),
        cv,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_symmetric_and_areas_are_near_home() {
        for (i, row) in BETWEEN.iter().enumerate() {
            assert_eq!(row[i], 0.0);
            for (j, x) in row.iter().enumerate() {
                assert_eq!(*x, BETWEEN[j][i], "{i} {j}");
            }
        }
        assert_eq!(rtt_ms("us-east-1", "eu-west-1"), Some(76.0));
        assert_eq!(rtt_ms("europe", "eu-west-1"), Some(20.0));
        assert_eq!(rtt_ms("eu-central-1", "europe"), Some(20.0));
        assert_eq!(rtt_ms("europe", "us-east-1"), Some(96.0));
        assert_eq!(rtt_ms("us-west", "us-east-1"), Some(92.1));
        assert_eq!(rtt_ms("mars", "us-east-1"), None);
        assert_eq!(rtt_ms("europe", "asia"), None);
        // Every area is nearest its home region.
        for (a, home) in AREAS {
            let best = REGIONS
                .iter()
                .min_by(|x, y| rtt_ms(a, x).partial_cmp(&rtt_ms(a, y)).unwrap())
                .unwrap();
            assert_eq!(rtt_ms(a, best), rtt_ms(a, home), "{a}");
        }
    }
}
