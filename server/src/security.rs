//! The request size and time limits, compression, and the language switch.
//! (The security headers are set by `http::boundary`.)

use std::time::Duration;

use app::i18n::{Lang, LANG_COOKIE};
use app::state::AppState;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tower::ServiceBuilder;
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::http::extract::{First, Query};

/// Largest request body accepted anywhere but on the desk's photo (the
/// lookup forms are GETs; the server functions post a few hundred bytes).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Largest photo the verify desk reads (`POST /personal/caja/verificar/foto`).
pub const MAX_PHOTO_BYTES: usize = 8 * 1024 * 1024;

/// Largest body of that route: the photo and its form (the CSRF token, the
/// multipart boundaries and headers).
pub const MAX_PHOTO_BODY_BYTES: usize = MAX_PHOTO_BYTES + 16 * 1024;

/// Every route's body limit, [`MAX_BODY_BYTES`]: a body declared larger is
/// refused before its handler, one found larger while read is cut there.
pub fn limit_bodies<S: Clone + Send + Sync + 'static>(router: axum::Router<S>) -> axum::Router<S> {
    router.layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
}

/// The desk's photo route's limit, [`MAX_PHOTO_BODY_BYTES`], in place of
/// [`limit_bodies`]: its handler refuses a larger declared size once it
/// knows who is asking, and the multipart reader stops at the limit.
pub fn limit_photo_bodies<S: Clone + Send + Sync + 'static>(router: axum::Router<S>) -> axum::Router<S> {
    router.layer(DefaultBodyLimit::max(MAX_PHOTO_BODY_BYTES))
}

/// The routes that take documents (permit requests and their
/// corrections): `max` bytes in place of [`limit_bodies`]; each file is
/// also limited by its reader.
pub fn limit_upload_bodies<S: Clone + Send + Sync + 'static>(router: axum::Router<S>, max: usize) -> axum::Router<S> {
    router.layer(DefaultBodyLimit::max(max))
}

/// Wraps the router in the middleware every response goes through.
pub fn protect<S: Clone + Send + Sync + 'static>(router: axum::Router<S>) -> axum::Router<S> {
    router.layer(
        ServiceBuilder::new()
            // Pages and JSON are compressed on the fly (static assets are
            // served precompressed, see `precompress`).
            .layer(CompressionLayer::new().quality(CompressionLevel::Precise(5)))
            .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(30))),
    )
}

/// The language switch's query.
#[derive(Debug, serde::Deserialize)]
pub struct LangSwitch {
    #[serde(default)]
    pub lang: First<String>,
    /// The page to return to.
    #[serde(default)]
    pub volver: First<String>,
}

/// `GET /idioma?lang=en&volver=/consulta%3Fcuenta%3DP-1`: remembers the
/// language in a cookie and returns to the page the citizen was on.
pub async fn switch_language(State(state): State<AppState>, Query(q): Query<LangSwitch>) -> Response {
    let lang = q.lang.as_deref().and_then(Lang::parse).unwrap_or_default();
    let back = q.volver.into_inner().unwrap_or_else(|| "/".into());
    let cookie = state.cookies.set_cookie(LANG_COOKIE, lang.code(), "Lax", Some(31_536_000));
    let location = location_header(&safe_return_path(&back));
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, HeaderValue::from_str(&location).unwrap_or(HeaderValue::from_static("/"))),
            (header::SET_COOKIE, HeaderValue::from_str(&cookie).unwrap_or(HeaderValue::from_static(""))),
        ],
    )
        .into_response()
}

/// A path as a `Location` header: bytes outside visible ASCII (spaces,
/// letters with accents, any other script) percent-encoded, as a URL
/// carries them; `%` sequences already there are kept.
fn location_header(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_graphic() {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Only paths on this site: no open redirect to another host.
fn safe_return_path(path: &str) -> String {
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && path.len() <= 512
        && !path.chars().any(char::is_control);
    // Drop a `lang=` override so the cookie decides from now on.
    if !ok {
        return "/".into();
    }
    match path.split_once('?') {
        Some((base, q)) => {
            let kept: Vec<&str> = q.split('&').filter(|kv| !kv.starts_with("lang=")).collect();
            if kept.is_empty() {
                base.into()
            } else {
                format!("{base}?{}", kept.join("&"))
            }
        }
        None => path.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_return_path_in_another_script_is_percent_encoded() {
        assert_eq!(location_header("/consulta?cuenta=P-1"), "/consulta?cuenta=P-1");
        assert_eq!(location_header("/\u{11F00}"), "/%F0%91%BC%80");
        assert_eq!(location_header("/recibos?nombre=José Pérez"), "/recibos?nombre=Jos%C3%A9%20P%C3%A9rez");
        assert!(HeaderValue::from_str(&location_header("/ñ\u{7f}")).unwrap().to_str().is_ok());
    }

    #[test]
    fn return_path_stays_on_this_site() {
        assert_eq!(safe_return_path("/consulta?cuenta=P-1"), "/consulta?cuenta=P-1");
        assert_eq!(safe_return_path("//evil.example/"), "/");
        assert_eq!(safe_return_path("https://evil.example/"), "/");
        assert_eq!(safe_return_path("/\\evil.example"), "/");
        assert_eq!(safe_return_path("/consulta?lang=en&cuenta=P-1"), "/consulta?cuenta=P-1");
    }
}
