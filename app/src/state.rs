//! What every request handler and server function can reach.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::FromRef;
use axum::http::HeaderMap;
use chrono::NaiveDate;
use leptos::config::LeptosOptions;

use crate::domain::municipality::Municipality;
use crate::rate_limit::RateLimiter;
use crate::store::Store;

/// Shared application state, provided to axum handlers (via `FromRef`) and to
/// Leptos server functions (via context).
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: Arc<dyn Store>,
    pub municipality: Arc<Municipality>,
    pub clock: Clock,
    pub lookup_limiter: Arc<RateLimiter>,
    /// Take the client address from `X-Forwarded-For` (behind a reverse proxy).
    pub trust_forwarded_for: bool,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl AppState {
    /// The address a request comes from, for rate limiting.
    ///
    /// Behind a proxy the last `X-Forwarded-For` entry is the one our own proxy
    /// appended; earlier entries are whatever the client claimed.
    pub fn client_ip(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> IpAddr {
        if self.trust_forwarded_for {
            if let Some(ip) = headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|v| v.trim().parse().ok())
            {
                return ip;
            }
        }
        peer.map(|p| p.ip()).unwrap_or(IpAddr::from([127, 0, 0, 1]))
    }
}

/// Today's date in the municipality's time zone, or a fixed date
/// (`RECAUDA_TODAY`) for tests and demos.
#[derive(Clone, Debug)]
pub struct Clock {
    fixed: Option<NaiveDate>,
    tz: chrono_tz::Tz,
}

impl Clock {
    pub fn new(tz: chrono_tz::Tz, fixed: Option<NaiveDate>) -> Self {
        Self { fixed, tz }
    }

    pub fn today(&self) -> NaiveDate {
        self.fixed.unwrap_or_else(|| chrono::Utc::now().with_timezone(&self.tz).date_naive())
    }

    pub fn timezone(&self) -> chrono_tz::Tz {
        self.tz
    }
}
