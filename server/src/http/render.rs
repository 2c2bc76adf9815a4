//! Renders an [`AppError`] for the request that met it.
//!
//! Handlers, extractors and the boundary answer with an `AppError` (its
//! `IntoResponse` writes the JSON shape and keeps the error in the
//! response's extensions). The boundary ([`super::boundary`]) looks at the
//! request: under `/api` the JSON stays; anywhere else the error becomes a
//! page inside the site layout, in the visitor's language, with the same
//! status and `Retry-After`.

use app::error::AppError;
use app::ui::PageContext;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

/// Whether a path answers in JSON: the API, and `/healthz` (which the API's
/// document describes).
pub fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/") || path == "/healthz"
}

/// The error as a page inside the site layout.
pub fn error_page(ctx: PageContext, err: &AppError) -> Response {
    let status = StatusCode::from_u16(err.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut page = (status, Html(app::ui::error_page::error_document(ctx, err))).into_response();
    let headers = page.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(secs) = err.retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    page
}

/// Any `/api/…` address that is not a route: the JSON 404.
pub async fn api_not_found() -> AppError {
    AppError::no_route()
}

/// A method a route does not have (`DELETE /api/v1/debts`, `GET
/// /api/v1/orders`): 405 in the error shape (axum adds the `Allow` header
/// listing the methods the route has).
pub async fn method_not_allowed() -> AppError {
    AppError::method_not_allowed()
}
