//! Time as a seam: the wall clock (token and claim expiry, `Retry-After` dates) and waiting
//! (backoff between retries), so both can be tested without waiting.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

/// The current wall-clock time and a way to wait.
#[async_trait]
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> SystemTime;
    /// Waits `delay` (a backoff between retries).
    async fn sleep(&self, delay: Duration);
}

/// The operating system's clock; waits on the tokio timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

#[async_trait]
impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    async fn sleep(&self, delay: Duration) {
        tokio::time::sleep(delay).await;
    }
}

/// A clock that stands still until told to move: for tests and simulations that share one
/// notion of time between a client and a simulated server. Waiting on it moves it forward at
/// once, and each wait is recorded, so a retry schedule runs instantly and can be asserted.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<SystemTime>,
    sleeps: Mutex<Vec<Duration>>,
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: SystemTime) -> Self {
        Self { now: Mutex::new(start), sleeps: Mutex::new(Vec::new()) }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
    }

    /// Every wait asked of this clock so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.sleeps.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

#[async_trait]
impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn sleep(&self, delay: Duration) {
        self.sleeps.lock().unwrap_or_else(PoisonError::into_inner).push(delay);
        self.advance(delay);
        tokio::task::yield_now().await;
    }
}

/// Seconds since the Unix epoch, saturating at zero for times before it.
pub(crate) fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let clock = ManualClock::new(start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::from_secs(90));
        assert_eq!(clock.now(), start + Duration::from_secs(90));
        assert_eq!(unix_seconds(clock.now()), 1_700_000_090);
    }

    #[tokio::test]
    async fn waiting_on_a_manual_clock_moves_it_at_once_and_is_recorded() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let clock = ManualClock::new(start);
        clock.sleep(Duration::from_millis(100)).await;
        clock.sleep(Duration::from_millis(200)).await;
        assert_eq!(clock.sleeps(), vec![Duration::from_millis(100), Duration::from_millis(200)]);
        assert_eq!(clock.now(), start + Duration::from_millis(300));
    }
}
