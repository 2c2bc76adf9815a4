//! What every request handler and server function can reach.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::FromRef;
use axum::http::HeaderMap;
use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use leptos::config::LeptosOptions;

use crate::domain::municipality::Municipality;
use crate::rate_limit::RateLimiter;
use crate::store::Store;

/// Shared application state, provided to axum handlers (via `FromRef`) and to
/// Leptos server functions (via context). One allocation shared by every
/// request: cloning it (every extractor and layer does) is one reference count.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> AppState {
        AppState(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0
    }
}

/// What [`AppState`] holds.
pub struct Services {
    pub leptos_options: LeptosOptions,
    pub store: Store,
    pub municipality: Arc<Municipality>,
    pub clock: Clock,
    /// The per-address limits of the public routes (`server::http::rate_limit`).
    pub rate_limiter: Arc<RateLimiter>,
    /// Take the client address from `X-Forwarded-For` (behind a reverse proxy).
    pub trust_forwarded_for: bool,
    /// Stripe, when a secret key is configured.
    pub stripe: Option<Arc<crate::stripe::StripeConfig>>,
    /// The demonstration provider, only when explicitly enabled (never
    /// together with Stripe). See [`Services::online_provider`].
    pub demo_payments: bool,
    /// Asks Stripe in the background about attempts whose citizen came back
    /// from Checkout.
    pub stripe_refresh: crate::stripe::StripeRefresh,
    /// The portal's public URL (`RECAUDA_PUBLIC_URL`): receipts' QR codes point here.
    pub public_url: String,
    /// The receipts' signing key and published keyring.
    pub receipt_keys: Arc<crate::receipt_keys::ReceiptKeys>,
    /// The key that binds a form's CSRF token to the browser's session
    /// (the installation's secret, shared by every server).
    pub csrf_key: crate::csrf::CsrfKey,
    /// How cookies are named and flagged (`__Host-` and `Secure` under https).
    pub cookies: crate::csrf::Cookies,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl Services {
    /// Who takes online payments: Stripe when configured, the demonstration
    /// provider when enabled, otherwise nobody (the formato de pago is then
    /// paid at the cashier's window).
    pub fn online_provider(&self) -> Option<crate::domain::payment::Provider> {
        use crate::domain::payment::Provider;
        if self.stripe.is_some() {
            Some(Provider::Stripe)
        } else if self.demo_payments {
            Some(Provider::Demo)
        } else {
            None
        }
    }

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

    /// The real current instant, whatever the fixed date: for checks
    /// against other parties' clocks (the Stripe-Signature timestamp).
    pub fn real_now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    pub fn timezone(&self) -> chrono_tz::Tz {
        self.tz
    }

    /// The current instant. With a fixed date it is that date at the current
    /// local time of day, so "now" always falls on [`Clock::today`] (an
    /// order created "today" is not already past its end of day).
    pub fn now(&self) -> DateTime<Utc> {
        let real = Utc::now();
        match self.fixed {
            None => real,
            Some(day) => {
                let time = real.with_timezone(&self.tz).time();
                self.tz
                    .from_local_datetime(&day.and_time(time))
                    .earliest()
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or(real)
            }
        }
    }

    /// The end of `day` in the municipality's zone: the first instant of the
    /// next local day (the first valid hour, should a DST change skip
    /// midnight).
    pub fn end_of_day(&self, day: NaiveDate) -> DateTime<Utc> {
        let next = day.succ_opt().unwrap_or(day);
        (0..3)
            .filter_map(|h| NaiveTime::from_hms_opt(h, 0, 0))
            .find_map(|t| self.tz.from_local_datetime(&next.and_time(t)).earliest())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| next.and_time(NaiveTime::MIN).and_utc())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_of_the_day_is_local_midnight() {
        let tz: chrono_tz::Tz = "America/Mazatlan".parse().unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        let clock = Clock::new(tz, Some(day));
        // Mazatlán is UTC−7 all year.
        assert_eq!(clock.end_of_day(day).to_rfc3339(), "2026-11-22T07:00:00+00:00");
        let now = clock.now();
        assert_eq!(now.with_timezone(&tz).date_naive(), day);
        assert!(now < clock.end_of_day(day));
    }
}
