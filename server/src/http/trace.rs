//! Tracing of requests: every request gets an id (`x-request-id`, kept when
//! a proxy in front already set one, and returned on the response), and a
//! span with the method, the path (never the query string: it carries
//! accounts, RFCs and receipts' signatures), the status and the latency.
//! The services' and the store's spans (`#[tracing::instrument]`) nest
//! inside it, so one request can be followed from the page to the database.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use axum::http::{HeaderName, Request, Response};
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::{MakeSpan, OnResponse, TraceLayer};
use tracing::Span;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Request ids: 24 hex digits, a random prefix per process (48 bits, so
/// the ids of several processes do not collide) and a counter.
#[derive(Clone, Copy, Default)]
pub struct RandomId;

impl MakeRequestId for RandomId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        static PREFIX: OnceLock<u64> = OnceLock::new();
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let prefix = *PREFIX.get_or_init(|| {
            let b = app::tokens::random_bytes::<6>();
            b.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x))
        });
        let n = COUNTER.fetch_add(1, Ordering::Relaxed) & 0xffff_ffff_ffff;
        axum::http::HeaderValue::from_str(&format!("{prefix:012x}{n:012x}")).ok().map(RequestId::new)
    }
}

/// The request's span: `request{id, method, path}`.
#[derive(Clone, Copy, Default)]
pub struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, req: &Request<B>) -> Span {
        let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
        tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path(), status = tracing::field::Empty)
    }
}

/// One line per response: status and latency.
#[derive(Clone, Copy, Default)]
pub struct LogResponse;

impl<B> OnResponse<B> for LogResponse {
    fn on_response(self, response: &Response<B>, latency: Duration, span: &Span) {
        let status = response.status().as_u16();
        span.record("status", status);
        let ms = latency.as_secs_f64() * 1000.0;
        if status >= 500 {
            tracing::warn!(status, latency_ms = ms, "response");
        } else {
            tracing::info!(status, latency_ms = ms, "response");
        }
    }
}

/// Sets the request id (outermost), traces, and copies the id onto the response.
pub fn layers<S>(router: axum::Router<S>) -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(RequestSpan).on_response(LogResponse))
        .layer(SetRequestIdLayer::new(REQUEST_ID, RandomId))
}
