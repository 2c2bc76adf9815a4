//! Per-IP rate limiting of public lookups.
//!
//! A fixed one-minute window per client address: simple, predictable for the
//! "Retry-After" header, and cheap (one map entry per active address).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The window over which `limit` lookups are allowed.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Above this many tracked addresses, expired windows are swept.
const SWEEP_ABOVE: usize = 10_000;

pub struct RateLimiter {
    limit: u32,
    windows: Mutex<HashMap<IpAddr, Window>>,
}

#[derive(Clone, Copy)]
struct Window {
    started: Instant,
    used: u32,
}

/// A refused request: how many whole seconds until the window reopens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

impl RateLimiter {
    /// `limit` lookups per minute per address; 0 disables the limit.
    pub fn per_minute(limit: u32) -> Self {
        Self { limit, windows: Mutex::new(HashMap::new()) }
    }

    pub fn check(&self, ip: IpAddr) -> Result<(), RetryAfter> {
        self.check_at(ip, Instant::now())
    }

    fn check_at(&self, ip: IpAddr, now: Instant) -> Result<(), RetryAfter> {
        if self.limit == 0 {
            return Ok(());
        }
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > SWEEP_ABOVE {
            windows.retain(|_, w| now.duration_since(w.started) < WINDOW);
        }
        let window = windows.entry(ip).or_insert(Window { started: now, used: 0 });
        if now.duration_since(window.started) >= WINDOW {
            *window = Window { started: now, used: 0 };
        }
        if window.used >= self.limit {
            let left = WINDOW.saturating_sub(now.duration_since(window.started));
            return Err(RetryAfter(left.as_secs().max(1) + u64::from(left.subsec_nanos() > 0)));
        }
        window.used += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_the_limit_and_reopens_after_the_window() {
        let limiter = RateLimiter::per_minute(3);
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        let other: IpAddr = "203.0.113.8".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check_at(ip, t0), Ok(()));
        }
        let refused = limiter.check_at(ip, t0 + Duration::from_secs(20)).unwrap_err();
        assert_eq!(refused, RetryAfter(40));
        assert_eq!(limiter.check_at(other, t0), Ok(()), "limits are per address");
        assert_eq!(limiter.check_at(ip, t0 + WINDOW), Ok(()));
    }

    #[test]
    fn zero_means_unlimited() {
        let limiter = RateLimiter::per_minute(0);
        let ip: IpAddr = "::1".parse().unwrap();
        for _ in 0..1000 {
            assert!(limiter.check(ip).is_ok());
        }
    }
}
