//! Bounded exponential backoff with jitter for binding calls. The jitter and the clock it waits
//! on are replaceable, so tests can make retries deterministic and instant.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rand::TryRngCore;
use rand::rngs::OsRng;

use crate::platform::clock::{Clock, SystemClock};

/// Spreads retry delays so that many phones do not retry in lockstep.
pub trait Jitter: Send + Sync {
    /// The delay to actually wait, given the nominal backoff `delay`.
    fn apply(&self, delay: Duration) -> Duration;
}

/// "Equal jitter": half the nominal delay plus a random part of the other half.
#[derive(Debug, Clone, Copy, Default)]
pub struct EqualJitter;

impl Jitter for EqualJitter {
    fn apply(&self, delay: Duration) -> Duration {
        let half = delay / 2;
        let spread = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        // Without randomness from the OS (never seen in practice) the delay is just not spread.
        let random = OsRng.try_next_u64().unwrap_or(0);
        half + Duration::from_nanos(random % spread.saturating_add(1))
    }
}

/// No jitter: the nominal delay as is (deterministic tests).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoJitter;

impl Jitter for NoJitter {
    fn apply(&self, delay: Duration) -> Duration {
        delay
    }
}

/// How often and how patiently a binding call is retried on network errors, 5xx and 429.
///
/// Retry *n* (1-based) waits `jitter(min(initial_delay · 2^(n-1), max_delay))`, or the server's
/// `Retry-After` when that is longer, never more than `max_delay`.
#[derive(Clone)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_delay: Duration,
    max_delay: Duration,
    jitter: Arc<dyn Jitter>,
    clock: Arc<dyn Clock>,
}

impl RetryPolicy {
    /// A policy of at most `max_attempts` attempts (at least 1) with the given delay bounds,
    /// equal jitter and the system clock.
    pub fn new(max_attempts: u32, initial_delay: Duration, max_delay: Duration) -> Self {
        Self {
            max_attempts: max_attempts.max(1),
            initial_delay,
            max_delay: max_delay.max(initial_delay),
            jitter: Arc::new(EqualJitter),
            clock: Arc::new(SystemClock),
        }
    }

    /// Replaces the jitter (e.g. [`NoJitter`] in tests).
    pub fn with_jitter(mut self, jitter: Arc<dyn Jitter>) -> Self {
        self.jitter = jitter;
        self
    }

    /// Replaces the clock the policy waits on and reads `Retry-After` dates against (e.g. a
    /// [`ManualClock`](crate::platform::clock::ManualClock) in tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The clock the policy waits on.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Most attempts per logical call, the first one included.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The wait before retry number `retry` (1-based), given the server's `Retry-After`.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let factor = 1u32.checked_shl(retry.saturating_sub(1)).unwrap_or(u32::MAX);
        let nominal = self.initial_delay.saturating_mul(factor).min(self.max_delay);
        let jittered = self.jitter.apply(nominal);
        retry_after.map_or(jittered, |server| server.max(jittered)).min(self.max_delay)
    }

    /// Waits before retry number `retry`.
    pub(crate) async fn pause(&self, retry: u32, retry_after: Option<Duration>) {
        self.clock.sleep(self.delay(retry, retry_after)).await;
    }
}

impl Default for RetryPolicy {
    /// 5 attempts, 500 ms doubling up to 8 s, equal jitter.
    fn default() -> Self {
        Self::new(5, Duration::from_millis(500), Duration::from_secs(8))
    }
}

impl fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("max_attempts", &self.max_attempts)
            .field("initial_delay", &self.initial_delay)
            .field("max_delay", &self.max_delay)
            .finish_non_exhaustive()
    }
}

/// Reads a `Retry-After` value: delay-seconds or an HTTP date (relative to `now`).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy::new(6, Duration::from_millis(100), Duration::from_secs(1))
            .with_jitter(Arc::new(NoJitter))
    }

    #[test]
    fn delays_double_up_to_the_cap() {
        let delays: Vec<_> = (1..=6).map(|n| policy().delay(n, None).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(policy().delay(u32::MAX, None), Duration::from_secs(1));
    }

    #[test]
    fn retry_after_lengthens_but_never_past_the_cap() {
        assert_eq!(policy().delay(1, Some(Duration::from_millis(700))), Duration::from_millis(700));
        assert_eq!(policy().delay(3, Some(Duration::from_millis(10))), Duration::from_millis(400));
        assert_eq!(policy().delay(1, Some(Duration::from_secs(3600))), Duration::from_secs(1));
    }

    #[test]
    fn equal_jitter_stays_within_half_and_full() {
        for _ in 0..200 {
            let d = EqualJitter.apply(Duration::from_millis(1000));
            assert!(d >= Duration::from_millis(500) && d <= Duration::from_millis(1000), "{d:?}");
        }
    }

    #[test]
    fn at_least_one_attempt() {
        assert_eq!(RetryPolicy::new(0, Duration::ZERO, Duration::ZERO).max_attempts(), 1);
    }

    #[test]
    fn retry_after_forms() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").expect("valid date");
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }
}
