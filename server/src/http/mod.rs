//! The HTTP boundary, written once for every route:
//!
//! * [`extract`]: typed extractors (`Form` that keeps repeated fields,
//!   `Query`, `Json`, the cookie jar, the CSRF-checked form, the client's
//!   address) whose refusals are [`app::error::AppError`]s;
//! * [`rate_limit`]: the per-address limits, as one layer over every
//!   public route class (lookup, orders, order reads, checkout, receipts,
//!   verify);
//! * [`render`]: the one place an `AppError` becomes a response: the JSON
//!   error shape under `/api`, a page inside the site layout elsewhere;
//! * [`trace`]: a request id on every request and response, and a span per
//!   request (method, route, status, latency: never a query string, which
//!   carries accounts and RFCs).
//!
//! Security headers, compression and the size and time limits are in
//! [`crate::security`].

pub mod extract;
pub mod rate_limit;
pub mod render;
pub mod trace;
