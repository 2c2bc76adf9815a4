//! Per-address rate limits of the public routes, by class of route.
//!
//! A fixed one-minute window per (class, client address): simple,
//! predictable for the `Retry-After` header, and cheap (one map entry per
//! active address and class). Which route belongs to which class is the
//! HTTP layer's business (`server::http::rate_limit`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The window over which a class's requests are counted.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Above this many tracked (class, address) pairs, expired windows are swept.
const SWEEP_ABOVE: usize = 10_000;

/// The public routes that cost something to answer or reveal something
/// when guessed, each with its own budget per address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RouteClass {
    /// What is owed, by account or RFC (page, API, server function).
    Lookup,
    /// Creating or re-quoting a payment order.
    Orders,
    /// Reading an order (its page refreshes itself while a payment is in
    /// process): four times the base budget.
    OrderReads,
    /// Starting a payment.
    Checkout,
    /// A receipt's page or PDF, "mis recibos".
    Receipts,
    /// Verifying a receipt's QR code.
    Verify,
}

impl RouteClass {
    pub fn as_str(self) -> &'static str {
        match self {
            RouteClass::Lookup => "lookup",
            RouteClass::Orders => "orders",
            RouteClass::OrderReads => "order_reads",
            RouteClass::Checkout => "checkout",
            RouteClass::Receipts => "receipts",
            RouteClass::Verify => "verify",
        }
    }
}

pub struct RateLimiter {
    /// Requests per minute per address of most classes; 0: no limit.
    base: u32,
    windows: Mutex<HashMap<(RouteClass, IpAddr), Window>>,
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
    /// `base` requests per minute per address (four times that for order
    /// reads); 0 disables every limit.
    pub fn per_minute(base: u32) -> Self {
        Self { base, windows: Mutex::new(HashMap::new()) }
    }

    /// The budget of `class` per minute and address (0: unlimited).
    pub fn limit(&self, class: RouteClass) -> u32 {
        match class {
            RouteClass::OrderReads => self.base.saturating_mul(4),
            _ => self.base,
        }
    }

    pub fn check(&self, class: RouteClass, ip: IpAddr) -> Result<(), RetryAfter> {
        self.check_at(class, ip, Instant::now())
    }

    fn check_at(&self, class: RouteClass, ip: IpAddr, now: Instant) -> Result<(), RetryAfter> {
        let limit = self.limit(class);
        if limit == 0 {
            return Ok(());
        }
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > SWEEP_ABOVE {
            windows.retain(|_, w| now.duration_since(w.started) < WINDOW);
        }
        let window = windows.entry((class, ip)).or_insert(Window { started: now, used: 0 });
        if now.duration_since(window.started) >= WINDOW {
            *window = Window { started: now, used: 0 };
        }
        if window.used >= limit {
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
            assert_eq!(limiter.check_at(RouteClass::Lookup, ip, t0), Ok(()));
        }
        let refused = limiter.check_at(RouteClass::Lookup, ip, t0 + Duration::from_secs(20)).unwrap_err();
        assert_eq!(refused, RetryAfter(40));
        assert_eq!(limiter.check_at(RouteClass::Lookup, other, t0), Ok(()), "limits are per address");
        assert_eq!(limiter.check_at(RouteClass::Verify, ip, t0), Ok(()), "and per class");
        assert_eq!(limiter.check_at(RouteClass::Lookup, ip, t0 + WINDOW), Ok(()));
    }

    #[test]
    fn order_reads_have_four_times_the_budget() {
        let limiter = RateLimiter::per_minute(2);
        let ip: IpAddr = "203.0.113.9".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..8 {
            assert_eq!(limiter.check_at(RouteClass::OrderReads, ip, t0), Ok(()));
        }
        assert!(limiter.check_at(RouteClass::OrderReads, ip, t0).is_err());
    }

    #[test]
    fn zero_means_unlimited() {
        let limiter = RateLimiter::per_minute(0);
        let ip: IpAddr = "::1".parse().unwrap();
        for _ in 0..1000 {
            assert!(limiter.check(RouteClass::Lookup, ip).is_ok());
        }
    }
}
