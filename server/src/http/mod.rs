//! The HTTP boundary, written once for every route:
//!
//! * [`extract`]: typed extractors (`Form` that keeps repeated fields,
//!   `Query`, `Json`, the cookie jar, the CSRF-checked form, the client's
//!   address) whose refusals are [`app::error::AppError`]s;
//! * [`boundary`]: the one layer every request crosses: its id and span,
//!   the rate limit of its route class ([`rate_limit`]), the rendering of an
//!   `AppError` ([`render`]: the JSON shape under `/api`, a page inside the
//!   site layout elsewhere), the security headers.
//!
//! Compression and the size and time limits are tower layers
//! ([`crate::security::protect`]).

pub mod boundary;
pub mod extract;
pub mod rate_limit;
pub mod render;
