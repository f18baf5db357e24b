//! Latency settings of the simulated world: how long each BLE or SoftAP exchange, each backend
//! round trip and each device's join take, so a benchmark runs the same onboarding at loopback
//! speed and at a phone's (BLE 30-60 ms per exchange, backend 80 ms, joins of 1-5 s).

use std::str::FromStr;
use std::time::Duration;

use rand::Rng;

/// A delay drawn anew, uniformly between `min` and `max`, each time it is used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LatencyRange {
    /// Shortest delay.
    pub min: Duration,
    /// Longest delay (at least `min`).
    pub max: Duration,
}

impl LatencyRange {
    /// No delay.
    pub const ZERO: Self = Self { min: Duration::ZERO, max: Duration::ZERO };

    /// Always `delay`.
    pub const fn fixed(delay: Duration) -> Self {
        Self { min: delay, max: delay }
    }

    /// Between `min` and `max` (swapped when given the other way round).
    pub fn between(min: Duration, max: Duration) -> Self {
        Self { min: min.min(max), max: max.max(min) }
    }

    /// One delay.
    pub fn sample(&self) -> Duration {
        if self.max <= self.min {
            return self.min;
        }
        let span = (self.max - self.min).as_micros() as u64;
        self.min + Duration::from_micros(rand::rng().random_range(0..=span))
    }

    /// Whether it never delays.
    pub fn is_zero(&self) -> bool {
        self.max.is_zero()
    }
}

impl From<Duration> for LatencyRange {
    fn from(delay: Duration) -> Self {
        Self::fixed(delay)
    }
}

/// Milliseconds as the command line writes them: `40` or `30-60`.
impl FromStr for LatencyRange {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let millis = |part: &str| {
            part.trim().parse::<u64>().map(Duration::from_millis).map_err(|_| {
                format!("`{text}` is not a time in milliseconds: write MS or MIN-MAX, e.g. 40 or 30-60")
            })
        };
        match text.split_once('-') {
            Some((min, max)) => {
                let (min, max) = (millis(min)?, millis(max)?);
                if min > max {
                    return Err(format!("`{text}`: the shorter time comes first"));
                }
                Ok(Self::between(min, max))
            }
            None => millis(text).map(Self::fixed),
        }
    }
}

/// The latencies of the phone's links and of the backend in a simulated world.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimLatency {
    /// Each BLE exchange (a write and its read), drawn per exchange.
    pub ble_exchange: LatencyRange,
    /// Each SoftAP exchange (an HTTP request and its reply), drawn per exchange.
    pub softap_exchange: LatencyRange,
    /// Each round trip to the backend (half before the request is handled, half after).
    pub backend_round_trip: Duration,
}

impl SimLatency {
    /// A phone's: BLE 30-60 ms per exchange, SoftAP 5-15 ms, backend 80 ms.
    pub fn phone_like() -> Self {
        Self {
            ble_exchange: LatencyRange::between(Duration::from_millis(30), Duration::from_millis(60)),
            softap_exchange: LatencyRange::between(Duration::from_millis(5), Duration::from_millis(15)),
            backend_round_trip: Duration::from_millis(80),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_milliseconds_and_ranges() {
        assert_eq!("40".parse(), Ok(LatencyRange::fixed(Duration::from_millis(40))));
        assert_eq!(
            "30-60".parse(),
            Ok(LatencyRange::between(Duration::from_millis(30), Duration::from_millis(60)))
        );
        assert!("60-30".parse::<LatencyRange>().is_err());
        assert!("fast".parse::<LatencyRange>().is_err());
    }

    #[test]
    fn samples_stay_within_the_range() {
        let range = LatencyRange::between(Duration::from_millis(30), Duration::from_millis(60));
        for _ in 0..200 {
            let delay = range.sample();
            assert!(range.min <= delay && delay <= range.max, "{delay:?}");
        }
        assert_eq!(LatencyRange::ZERO.sample(), Duration::ZERO);
    }
}
