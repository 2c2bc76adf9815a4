//! The boundary every request crosses, in one pass (one layer, so the cost
//! is paid once per request):
//!
//! 1. its **id** (`x-request-id`: kept when a proxy in front set one, made
//!    otherwise) and its **span** — method, path (never the query: it
//!    carries accounts, RFCs and receipts' codes), status, latency — inside
//!    which the services' and the store's spans nest;
//! 2. the **rate limit** of its route class ([`super::rate_limit`]);
//! 3. the handler;
//! 4. an [`AppError`] met on the way becomes the answer it should be: the
//!    JSON shape under `/api`, a page inside the site layout elsewhere
//!    ([`super::render`]);
//! 5. the **security headers** a response did not set itself (and HSTS
//!    when the portal is served over https), and the id.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use app::error::AppError;
use app::state::AppState;
use app::ui::PageContext;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use super::rate_limit::classify;
use super::render::{error_page, is_api};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Content-Security-Policy for responses that did not set their own. Pages
/// set a stricter one with the request's nonce (see `app::ui::shell`).
pub const DEFAULT_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
    frame-ancestors 'none'; form-action 'self'";

/// The headers every response carries unless it set its own.
const SECURITY_HEADERS: [(HeaderName, &str); 5] = [
    (header::CONTENT_SECURITY_POLICY, DEFAULT_CSP),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
    (HeaderName::from_static("permissions-policy"), "camera=(), microphone=(), geolocation=(), payment=()"),
];

/// Under https (the public URL says so): browsers must never use plain
/// http for this host again, for a year.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// A request id: 24 hex digits, a random prefix per process (48 bits, so
/// the ids of several processes do not collide) and a counter.
fn new_request_id() -> HeaderValue {
    static PREFIX: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = *PREFIX.get_or_init(|| {
        let b = app::tokens::random_bytes::<6>();
        b.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x))
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed) & 0xffff_ffff_ffff;
    HeaderValue::from_str(&format!("{prefix:012x}{n:012x}")).expect("hex digits")
}

/// What the error page needs of the request, kept before the request goes
/// to its handler (pages only).
struct PageRequest {
    uri: Uri,
    cookies: HeaderMap,
}

pub async fn boundary(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let id = match req.headers().get(&REQUEST_ID) {
        Some(id) if id.len() <= 128 => id.clone(),
        _ => {
            let id = new_request_id();
            req.headers_mut().insert(REQUEST_ID, id.clone());
            id
        }
    };
    let span = tracing::info_span!(
        "request",
        id = id.to_str().unwrap_or("-"),
        method = %req.method(),
        path = %req.uri().path(),
        status = tracing::field::Empty,
    );
    async move {
        let started = Instant::now();
        let page = (!is_api(req.uri().path())).then(|| {
            let mut cookies = HeaderMap::new();
            for c in req.headers().get_all(header::COOKIE) {
                cookies.append(header::COOKIE, c.clone());
            }
            PageRequest { uri: req.uri().clone(), cookies }
        });
        let mut response = match limited(&state, &req) {
            Some(refused) => refused,
            None => next.run(req).await,
        };
        if let Some(err) = bare_refusal(&response) {
            response = err.into_response();
        }
        if let Some(page) = page {
            if let Some(err) = response.extensions_mut().remove::<AppError>() {
                response = error_page(PageContext::for_request(&state, &page.uri, &page.cookies), &err);
            }
        }
        let headers = response.headers_mut();
        for (name, value) in &SECURITY_HEADERS {
            if !headers.contains_key(name) {
                headers.insert(name.clone(), HeaderValue::from_static(value));
            }
        }
        if state.cookies.secure && !headers.contains_key(header::STRICT_TRANSPORT_SECURITY) {
            headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
        }
        headers.insert(REQUEST_ID, id);
        let status = response.status().as_u16();
        tracing::Span::current().record("status", status);
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        if status >= 500 {
            tracing::warn!(status, latency_ms, "response");
        } else {
            tracing::info!(status, latency_ms, "response");
        }
        response
    }
    .instrument(span)
    .await
}

/// The answers of the layers below (`security::protect`) that carry no
/// body of ours: the body limit's 413 and the time limit's 503. They
/// become the same errors as the rest, in the JSON shape or as a page.
fn bare_refusal(response: &Response) -> Option<AppError> {
    use axum::http::StatusCode;
    if response.extensions().get::<AppError>().is_some() {
        return None;
    }
    let content_type = response.headers().get(header::CONTENT_TYPE);
    match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE
            if !content_type.is_some_and(|t| t.as_bytes().starts_with(b"application/json")) =>
        {
            Some(AppError::payload_too_large())
        }
        StatusCode::SERVICE_UNAVAILABLE if content_type.is_none() => Some(AppError::timed_out()),
        _ => None,
    }
}

/// The 429 answer when the request's route class is over its budget.
fn limited(state: &AppState, req: &Request) -> Option<Response> {
    let class = classify(req.method(), req.uri().path(), req.uri().query())?;
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let ip = state.client_ip(peer, req.headers());
    let retry = state.rate_limiter.check(class, ip).err()?;
    tracing::info!(class = class.as_str(), retry_after = retry.0, "rate limited");
    let mut err = AppError::rate_limited(retry.0);
    err.back = Some(if class == app::rate_limit::RouteClass::Lookup { "/consulta".into() } else { "/".into() });
    Some(err.into_response())
}
