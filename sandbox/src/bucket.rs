//! Token buckets: the gateway's per-key limit and the per-host pacing.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::Rate;

#[derive(Debug)]
struct Bucket {
    rate: Rate,
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    fn new(rate: Rate, now: Instant) -> Self {
        Self {
            rate,
            tokens: rate.burst,
            updated: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate.per_second).min(self.rate.burst);
        self.updated = now;
    }

    /// Take a token now, or say how long until one is there.
    fn take(&mut self, now: Instant) -> Result<(), Duration> {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - self.tokens) / self.rate.per_second;
            Err(Duration::try_from_secs_f64(wait).map_or(MAX_WAIT, |w| w.min(MAX_WAIT)))
        }
    }
}

/// Buckets by key, all with the same default rate unless one is adjusted.
/// Bounded: idle buckets are dropped when there are too many.
#[derive(Debug)]
pub struct Buckets {
    default: Rate,
    buckets: Mutex<HashMap<String, Bucket>>,
}

const MAX_BUCKETS: usize = 10_000;
/// The slowest rate an upstream's `X-EZTHROTTLE-RPS` can set: one request a
/// minute. Slower ones (`1e-30`) would ask for waits no clock can hold.
const MIN_RATE: f64 = 1.0 / 60.0;
/// The longest a bucket makes anyone wait.
const MAX_WAIT: Duration = Duration::from_secs(60);

impl Buckets {
    pub fn new(default: Rate) -> Self {
        Self {
            default,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Take a token for `key`, or the wait until one is available.
    pub fn try_take(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(key) {
            buckets
                .retain(|_, b| now.saturating_duration_since(b.updated) < Duration::from_secs(60));
        }
        buckets
            .entry(key.to_owned())
            .or_insert_with(|| Bucket::new(self.default, now))
            .take(now)
    }

    /// Wait for a token for `key`.
    pub async fn take(&self, key: &str) {
        while let Err(wait) = self.try_take(key) {
            tokio::time::sleep(wait).await;
        }
    }

    /// Change the rate of `key` (an upstream's `X-EZTHROTTLE-RPS`).
    pub fn set_rate(&self, key: &str, per_second: f64) {
        if !(per_second.is_finite() && per_second > 0.0) {
            return;
        }
        let per_second = per_second.max(MIN_RATE);
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets
            .entry(key.to_owned())
            .or_insert_with(|| Bucket::new(self.default, now));
        bucket.refill(now);
        bucket.rate = Rate {
            per_second,
            burst: per_second.max(1.0),
        };
        bucket.tokens = bucket.tokens.min(bucket.rate.burst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_gives_its_burst_then_waits() {
        let buckets = Buckets::new(Rate {
            per_second: 10.0,
            burst: 2.0,
        });
        assert!(buckets.try_take("a").is_ok());
        assert!(buckets.try_take("a").is_ok());
        let wait = buckets.try_take("a").unwrap_err();
        assert!(
            wait <= Duration::from_millis(100) && wait > Duration::ZERO,
            "{wait:?}"
        );
        assert!(buckets.try_take("b").is_ok(), "keys are independent");
        buckets.set_rate("a", 1000.0);
        std::thread::sleep(Duration::from_millis(5));
        assert!(
            buckets.try_take("a").is_ok(),
            "a faster rate refills sooner"
        );
    }

    /// An upstream answering `X-EZTHROTTLE-RPS: 1e-30` made the next take
    /// panic in `Duration::from_secs_f64` (a wait of 1e30 s).
    #[test]
    fn an_absurdly_slow_rate_is_clamped_not_a_panic() {
        let buckets = Buckets::new(Rate {
            per_second: 10.0,
            burst: 1.0,
        });
        buckets.set_rate("h", 1e-30);
        let _ = buckets.try_take("h");
        let wait = buckets.try_take("h").unwrap_err();
        assert!(wait <= MAX_WAIT, "{wait:?}");
    }
}
