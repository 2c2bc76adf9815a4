//! Typed extractors whose every refusal is an [`AppError`] (rendered by
//! [`super::render`]): handlers never parse a body, a query or a cookie by
//! hand.

use std::net::{IpAddr, SocketAddr};

use app::csrf::CSRF_FIELD;
use app::error::AppError;
use app::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, MatchedPath, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

/// A single-valued parameter of a form or query: present (even empty) or
/// absent, and when a request repeats it, the first value counts (a
/// repeated `cargo` fills a `Vec` instead).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct First<T>(pub Option<T>);

impl<T> First<T> {
    pub fn as_deref(&self) -> Option<&T::Target>
    where
        T: std::ops::Deref,
    {
        self.0.as_deref()
    }

    pub fn into_inner(self) -> Option<T> {
        self.0
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for First<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // The form deserializer hands one value or several as a sequence.
        let values: Vec<T> = Vec::deserialize(d)?;
        Ok(First(values.into_iter().next()))
    }
}

/// A form body (`application/x-www-form-urlencoded`) as `T`: repeated
/// fields (`cargo=1&cargo=2`) fill a `Vec`.
pub struct Form<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        match axum_extra::extract::Form::<T>::from_request(req, state).await {
            Ok(axum_extra::extract::Form(value)) => Ok(Form(value)),
            Err(e) => {
                tracing::debug!(rejection = %e, "form refused");
                Err(AppError::bad_form(&e.body_text()))
            }
        }
    }
}

/// The query string as `T` (repeated parameters fill a `Vec`).
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        match axum_extra::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum_extra::extract::Query(value)) => Ok(Query(value)),
            Err(e) => {
                tracing::debug!(rejection = %e, "query refused");
                Err(AppError::new(
                    400,
                    "invalid_query",
                    "Los parámetros de la dirección no tienen la forma esperada.",
                    "The address's parameters are not what was expected.",
                ))
            }
        }
    }
}

/// The one parameter of a route's path (`/api/v1/orders/{token}`,
/// `/recibo/{folio}/pdf`), percent-decoded. One that is not UTF-8 once
/// decoded (`/api/v1/orders/%FF`) is read with U+FFFD in place of the
/// invalid bytes: it names nothing, so its handler answers as for any
/// unknown token or folio (404, in the JSON shape under `/api`), where
/// axum's `Path` would answer a plain-text 400.
pub struct PathParam(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathParam {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        match axum::extract::Path::<String>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(PathParam(value)),
            Err(rejection) => {
                tracing::debug!(%rejection, "path parameter read lossily");
                lossy_param(parts).map(PathParam).ok_or_else(AppError::no_route)
            }
        }
    }
}

/// The segment of the request's path where its route has its one
/// `{parameter}`, percent-decoded, invalid UTF-8 replaced.
fn lossy_param(parts: &Parts) -> Option<String> {
    let route = parts.extensions.get::<MatchedPath>()?.as_str();
    let index = route.split('/').position(|s| s.starts_with('{'))?;
    let raw = parts.uri.path().split('/').nth(index)?.as_bytes();
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match (raw[i], raw.get(i + 1).copied().and_then(hex), raw.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(hi), Some(lo)) => {
                bytes.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                bytes.push(b);
                i += 1;
            }
        }
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// A JSON body as `T`. A body that is not JSON, not the JSON expected, or
/// too large gets the API's error shape with the right status.
pub struct Json<T>(pub T);

/// A request body of the API, a JSON object: what to tell a client whose
/// JSON does not have its shape (a missing or unknown field, a number for a
/// string, an array).
pub trait ApiBody: DeserializeOwned {
    /// What to send, in Spanish ("envíe {\"account\": \"…\"} …").
    const SHAPE_ES: &'static str;
    const SHAPE_EN: &'static str;
}

impl<T: ApiBody, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        // Read as any JSON first, then as `T` only when it is an object:
        // serde also reads a struct from an array of its fields in order
        // (`["ANU-I-E", "1", null]`), which the document does not allow.
        let value = match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(value)) => value,
            Err(rejection) => return Err(json_rejection(&rejection)),
        };
        let body = value.is_object().then(|| serde_json::from_value::<T>(value));
        match body {
            Some(Ok(body)) => Ok(Json(body)),
            Some(Err(e)) => {
                tracing::debug!(error = %e, "JSON body of another shape");
                Err(shape_error::<T>())
            }
            None => Err(shape_error::<T>()),
        }
    }
}

/// A JSON body that is not the object `T` is.
fn shape_error<T: ApiBody>() -> AppError {
    AppError::bad_json(
        &format!("La solicitud no tiene la forma esperada: {}", T::SHAPE_ES),
        &format!("The request is not what was expected: {}", T::SHAPE_EN),
    )
}

fn json_rejection(rejection: &JsonRejection) -> AppError {
    tracing::debug!(%rejection, "rejected JSON body");
    match rejection {
        JsonRejection::MissingJsonContentType(_) => AppError::new(
            415,
            "unsupported_media_type",
            "Envíe el cuerpo como JSON (Content-Type: application/json).",
            "Send the body as JSON (Content-Type: application/json).",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => AppError::payload_too_large(),
        _ => {
            AppError::bad_json("El cuerpo de la solicitud no es un JSON válido.", "The request body is not valid JSON.")
        }
    }
}

/// A state-changing form, checked against CSRF before anything else: the
/// hidden field [`CSRF_FIELD`] must be the token of the session in the
/// CSRF cookie (any of the request's `Cookie` headers; see `app::csrf`),
/// compared in constant time. A missing or wrong token is refused with 403
/// and changes nothing. Then the body is read as `T`, like [`Form`].
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for CsrfForm<T>
where
    AppState: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let app = AppState::from_ref(state);
        let session = app.cookies.session_of(req.headers());
        let body = Bytes::from_request(req, state).await.map_err(|e| match e.status() {
            StatusCode::PAYLOAD_TOO_LARGE => AppError::payload_too_large(),
            _ => AppError::bad_form(&e.body_text()),
        })?;
        let sent = form_urlencoded::parse(&body).find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v.into_owned());
        match (session, sent) {
            (Some(session), Some(sent)) if app.csrf_key.accepts(&session, &sent) => {}
            _ => return Err(AppError::csrf()),
        }
        serde_html_form::from_bytes::<T>(&body).map(CsrfForm).map_err(|e| AppError::bad_form(&e.to_string()))
    }
}

/// A `multipart/form-data` body (the desk's photo), opened by its handler
/// after its own checks (session, role), so that who may not post there
/// learns only that: a body that is not multipart is refused then
/// ([`MultipartBody::refusal`], 400 in the error shape). Its size limit is
/// the route's (`DefaultBodyLimit`).
pub struct MultipartBody(Option<axum::extract::Multipart>);

impl MultipartBody {
    /// The body's parts; `None` when it is not `multipart/form-data`.
    pub fn open(self) -> Option<axum::extract::Multipart> {
        self.0
    }

    /// The answer to a body that is not `multipart/form-data`.
    pub fn refusal() -> AppError {
        AppError::bad_form("no es multipart/form-data")
    }
}

impl<S: Send + Sync> FromRequest<S> for MultipartBody {
    type Rejection = std::convert::Infallible;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Multipart::from_request(req, state).await {
            Ok(multipart) => Ok(MultipartBody(Some(multipart))),
            Err(rejection) => {
                tracing::debug!(%rejection, "multipart body refused");
                Ok(MultipartBody(None))
            }
        }
    }
}

/// The client's address: the peer's, or behind our own reverse proxy
/// (`trust_forwarded_for`) the last `X-Forwarded-For` entry.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    pub fn of(state: &AppState, peer: Option<SocketAddr>, headers: &HeaderMap) -> ClientIp {
        ClientIp(state.client_ip(peer, headers))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp
where
    AppState: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
        Ok(ClientIp::of(&state, peer, &parts.headers))
    }
}

/// The visitor's language (`recauda_lang` cookie, any `Cookie` header).
pub fn lang_of(headers: &HeaderMap) -> app::i18n::Lang {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|c| c.to_str().ok())
        .find_map(app::i18n::Lang::from_cookie_header)
        .unwrap_or_default()
}
