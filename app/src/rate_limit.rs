//! Per-client rate limits of the public routes, by class of route.
//!
//! A fixed one-minute window per (class, client): simple, predictable for
//! the `Retry-After` header, and cheap. A client is an IPv4 address or an
//! IPv6 /64 (one subscriber line gets a whole /64, so counting single IPv6
//! addresses would give each household 2^64 budgets).
//!
//! The table is bounded: [`SHARDS`] maps of at most [`SHARD_CAPACITY`]
//! clients each, every one behind its own mutex, so one request never waits
//! on more than a shard and never scans more than one. A full shard first
//! drops its expired windows and, if still full, the window that started
//! first (a client flooding us with new addresses can only push out other
//! clients' oldest windows, never grow the table). Which route belongs to
//! which class is the HTTP layer's business (`server::http::rate_limit`).

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The window over which a class's requests are counted.
pub const WINDOW: Duration = Duration::from_secs(60);
/// How many independent maps the table is split into.
pub const SHARDS: usize = 64;
/// The most (class, client) windows one shard keeps.
pub const SHARD_CAPACITY: usize = 1024;

/// Who a budget belongs to: an IPv4 address, or the /64 of an IPv6 one
/// (an IPv4-mapped IPv6 address counts as its IPv4 address).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Client {
    V4([u8; 4]),
    V6Prefix64([u8; 8]),
}

impl Client {
    pub fn of(ip: IpAddr) -> Client {
        match ip {
            IpAddr::V4(v4) => Client::V4(v4.octets()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Client::V4(v4.octets()),
                None => {
                    let o = v6.octets();
                    Client::V6Prefix64([o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7]])
                }
            },
        }
    }
}

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
    /// A staff login attempt: a third of the base budget (a person types
    /// a password a few times a minute at most; a guesser does not).
    Login,
    /// The tariffs in force and a fee's quote: answered from the
    /// municipality file, without the database, and nothing to guess (a
    /// form may quote as the citizen types): four times the base budget.
    Tariffs,
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
            RouteClass::Login => "login",
            RouteClass::Tariffs => "tariffs",
        }
    }
}

pub struct RateLimiter {
    /// Requests per minute per client of most classes; 0: no limit.
    base: u32,
    shards: Vec<Mutex<HashMap<(RouteClass, Client), Window>>>,
    hasher: std::collections::hash_map::RandomState,
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
    /// `base` requests per minute per client (four times that for order
    /// reads and tariffs, a third for logins); 0 disables every limit.
    pub fn per_minute(base: u32) -> Self {
        Self {
            base,
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }

    /// The budget of `class` per minute and client (0: unlimited).
    pub fn limit(&self, class: RouteClass) -> u32 {
        match class {
            RouteClass::OrderReads | RouteClass::Tariffs => self.base.saturating_mul(4),
            RouteClass::Login if self.base > 0 => (self.base / 3).max(1),
            _ => self.base,
        }
    }

    pub fn check(&self, class: RouteClass, ip: IpAddr) -> Result<(), RetryAfter> {
        self.check_at(class, ip, Instant::now())
    }

    /// How many windows the table holds (at most `SHARDS * SHARD_CAPACITY`).
    pub fn tracked(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len()).sum()
    }

    fn check_at(&self, class: RouteClass, ip: IpAddr, now: Instant) -> Result<(), RetryAfter> {
        let limit = self.limit(class);
        if limit == 0 {
            return Ok(());
        }
        let key = (class, Client::of(ip));
        let shard = &self.shards[(self.hasher.hash_one(key) as usize) % SHARDS];
        let mut windows = shard.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() >= SHARD_CAPACITY && !windows.contains_key(&key) {
            windows.retain(|_, w| now.duration_since(w.started) < WINDOW);
            if windows.len() >= SHARD_CAPACITY {
                let oldest = windows.iter().min_by_key(|(_, w)| w.started).map(|(k, _)| *k);
                if let Some(oldest) = oldest {
                    windows.remove(&oldest);
                }
            }
        }
        let window = windows.entry(key).or_insert(Window { started: now, used: 0 });
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
    fn order_reads_and_tariffs_have_four_times_the_budget() {
        let limiter = RateLimiter::per_minute(2);
        let ip: IpAddr = "203.0.113.9".parse().unwrap();
        let t0 = Instant::now();
        for class in [RouteClass::OrderReads, RouteClass::Tariffs] {
            for _ in 0..8 {
                assert_eq!(limiter.check_at(class, ip, t0), Ok(()), "{class:?}");
            }
            assert!(limiter.check_at(class, ip, t0).is_err(), "{class:?}");
        }
    }

    #[test]
    fn zero_means_unlimited() {
        let limiter = RateLimiter::per_minute(0);
        let ip: IpAddr = "::1".parse().unwrap();
        for _ in 0..1000 {
            assert!(limiter.check(RouteClass::Lookup, ip).is_ok());
        }
    }

    #[test]
    fn an_ipv6_client_is_its_slash_64() {
        let limiter = RateLimiter::per_minute(2);
        let t0 = Instant::now();
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:fffe".parse().unwrap();
        let other_line: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(limiter.check_at(RouteClass::Lookup, a, t0), Ok(()));
        assert_eq!(limiter.check_at(RouteClass::Lookup, b, t0), Ok(()));
        assert!(
            limiter.check_at(RouteClass::Lookup, a, t0).is_err(),
            "another address of the same /64 shares the budget"
        );
        assert_eq!(limiter.check_at(RouteClass::Lookup, other_line, t0), Ok(()));
        // An IPv4-mapped address is its IPv4 address.
        let v4: IpAddr = "198.51.100.4".parse().unwrap();
        let mapped: IpAddr = "::ffff:198.51.100.4".parse().unwrap();
        assert_eq!(Client::of(v4), Client::of(mapped));
    }

    #[test]
    fn the_table_stays_bounded_under_a_flood_of_addresses() {
        let limiter = RateLimiter::per_minute(1);
        let t0 = Instant::now();
        let victim: IpAddr = "203.0.113.1".parse().unwrap();
        assert_eq!(limiter.check_at(RouteClass::Lookup, victim, t0), Ok(()));
        let flood = SHARDS * SHARD_CAPACITY * 5 / 4;
        for i in 0..flood as u32 {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            let _ = limiter.check_at(RouteClass::Lookup, ip, t0 + Duration::from_millis(1));
        }
        assert!(limiter.tracked() <= SHARDS * SHARD_CAPACITY, "{} windows", limiter.tracked());
        // Expired windows make room before anything live is pushed out.
        let later = t0 + WINDOW + Duration::from_secs(1);
        assert_eq!(limiter.check_at(RouteClass::Lookup, victim, later), Ok(()));
        assert!(limiter.check_at(RouteClass::Lookup, victim, later).is_err(), "a fresh window still counts");
    }
}
