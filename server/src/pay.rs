//! The citizen's payment forms (no JavaScript needed): plain
//! `application/x-www-form-urlencoded` POSTs that answer 303 to the page to
//! show next, or an HTML error page with the right status.
//!
//! * `POST /orden` — "Pagar estos adeudos" on the lookup result: creates the
//!   order for the checked charges → `/orden/{reference}`.
//! * `POST /orden/{reference}/pagar` — starts (or resumes) the checkout →
//!   the provider's page (the demo checkout when no Stripe key is set).
//! * `POST /orden/{reference}/cotizar` — re-quotes an expired order.
//! * `POST /prueba/pago/{attempt}/accion` — a demo checkout button, through
//!   the same `app::payments::apply_provider_event` the Stripe webhook uses.
//!
//! Every form carries the CSRF token of its page ([`app::csrf`]); a missing or
//! different token is answered 403 and changes nothing.

use std::net::SocketAddr;

use app::csrf::{self, CSRF_FIELD};
use app::i18n::Lang;
use app::lookup::{LookupError, LookupQuery};
use app::orders::{self, OrderError};
use app::payments::{self, DemoAction, PaymentError};
use app::state::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

/// The fields of a form body, in order.
fn fields(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn lang_of(headers: &HeaderMap) -> Lang {
    headers.get(header::COOKIE).and_then(|c| c.to_str().ok()).and_then(Lang::from_cookie_header).unwrap_or_default()
}

/// Does the form's token match the cookie's?
fn csrf_ok(headers: &HeaderMap, fields: &[(String, String)]) -> bool {
    let cookie =
        headers.get_all(header::COOKIE).iter().filter_map(|c| c.to_str().ok()).find_map(csrf::from_cookie_header);
    match (cookie, field(fields, CSRF_FIELD)) {
        (Some(cookie), Some(sent)) => csrf::tokens_match(cookie, sent),
        _ => false,
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A small HTML page with an error summary.
fn error_page(status: u16, lang: Lang, code: &str, title: &str, message: &str, back: &str) -> Response {
    let back_label = lang.pick("Volver a consultar sus adeudos", "Look up your debts again");
    let html = format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"/>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\
         <link rel=\"stylesheet\" href=\"/pkg/recauda.css\"/><title>{} — Recauda</title></head><body>\
         <main id=\"contenido\"><div class=\"error-summary\" role=\"alert\" data-testid=\"error-summary\" data-code=\"{}\">\
         <h1>{}</h1><ul><li>{}</li></ul></div><p><a class=\"button secondary\" href=\"{}\">{}</a></p></main></body></html>",
        lang.html_lang(),
        escape(title),
        escape(code),
        escape(title),
        escape(message),
        escape(back),
        back_label,
    );
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))], Html(html)).into_response()
}

fn forbidden(lang: Lang) -> Response {
    error_page(
        403,
        Lang::Es,
        "csrf",
        "Solicitud rechazada",
        lang.pick(
            "No pudimos verificar que este formulario salió de este portal (la sesión del navegador \
             pudo haber cambiado). Vuelva a abrir la página y envíelo de nuevo.",
            "We could not verify that this form came from this portal. Open the page again and resubmit it. \
             (No pudimos verificar que este formulario salió de este portal.)",
        ),
        "/consulta",
    )
}

fn see_other(location: &str) -> Response {
    let value = HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response()
}

fn error_title(lang: Lang) -> &'static str {
    lang.pick("Hay un problema con su solicitud", "There is a problem with your request")
}

fn order_error_page(e: &OrderError, lang: Lang, back: &str) -> Response {
    let mut response = error_page(e.status(), lang, e.code(), error_title(lang), &e.message(lang), back);
    if let Some(secs) = e.retry_after() {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

fn payment_error_page(e: &PaymentError, lang: Lang, back: &str) -> Response {
    error_page(e.status(), lang, e.code(), error_title(lang), &e.message(lang), back)
}

/// `POST /orden`
pub async fn create_order(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = lang_of(&headers);
    let form = fields(&body);
    if !csrf_ok(&headers, &form) {
        return forbidden(lang);
    }
    let cuenta = field(&form, "cuenta");
    let rfc = field(&form, "rfc");
    let back = match (cuenta.filter(|c| !c.trim().is_empty()), rfc.filter(|r| !r.trim().is_empty())) {
        (Some(c), _) => {
            format!("/consulta?cuenta={}", form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>())
        }
        (None, Some(r)) => {
            format!("/consulta?rfc={}", form_urlencoded::byte_serialize(r.as_bytes()).collect::<String>())
        }
        _ => "/consulta".into(),
    };
    let ip = state.client_ip(Some(peer), &headers);
    if let Err(retry) = state.lookup_limiter.check(ip) {
        return order_error_page(&OrderError::Lookup(LookupError::RateLimited(retry.0)), lang, &back);
    }
    let query = match LookupQuery::from_params(cuenta, rfc) {
        None => return order_error_page(&OrderError::Lookup(LookupError::Missing), lang, &back),
        Some(Err(e)) => return order_error_page(&OrderError::Lookup(e), lang, &back),
        Some(Ok(q)) => q,
    };
    let mut charges = Vec::new();
    for (k, v) in &form {
        if k == "cargo" {
            match v.parse::<i64>() {
                Ok(id) => charges.push(id),
                Err(_) => return order_error_page(&OrderError::UnknownCharge(0), lang, &back),
            }
        }
    }
    match orders::create_order(&state, &query, Some(&charges)).await {
        Ok(order) => see_other(&format!("/orden/{}", order.reference)),
        Err(e) => order_error_page(&e, lang, &back),
    }
}

async fn order_by_reference(state: &AppState, reference: &str) -> Result<i64, OrderError> {
    match state.store.order_id_by_reference(reference).await {
        Ok(Some(id)) => Ok(id),
        Ok(None) => Err(OrderError::NotFound(reference.chars().take(20).collect())),
        Err(e) => {
            tracing::error!(error = %e, "pay: store failed");
            Err(OrderError::Lookup(LookupError::Unavailable))
        }
    }
}

/// The common start of the order page's forms: CSRF check, then the order
/// behind the public reference. `Err` is the page to answer with.
async fn order_form(
    state: &AppState,
    reference: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(i64, Lang), Response> {
    let lang = lang_of(headers);
    if !csrf_ok(headers, &fields(body)) {
        return Err(forbidden(lang));
    }
    match order_by_reference(state, reference).await {
        Ok(id) => Ok((id, lang)),
        Err(e) => Err(order_error_page(&e, lang, "/consulta")),
    }
}

/// `POST /orden/{reference}/pagar`
pub async fn pay_order(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (id, lang) = match order_form(&state, &reference, &headers, &body).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let back = format!("/orden/{reference}");
    match payments::start_checkout(&state, id).await {
        Ok(checkout) => see_other(&checkout.redirect_url),
        Err(e) => payment_error_page(&e, lang, &back),
    }
}

/// `POST /orden/{reference}/cotizar`
pub async fn requote_order(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (id, lang) = match order_form(&state, &reference, &headers, &body).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let back = format!("/orden/{reference}");
    match orders::requote(&state, id).await {
        Ok(order) => see_other(&format!("/orden/{}", order.reference)),
        Err(e) => order_error_page(&e, lang, &back),
    }
}

/// `POST /prueba/pago/{attempt}/accion` (demo provider only).
pub async fn demo_action(
    State(state): State<AppState>,
    Path(attempt): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = lang_of(&headers);
    let form = fields(&body);
    if !csrf_ok(&headers, &form) {
        return forbidden(lang);
    }
    let back = format!("/prueba/pago/{attempt}");
    let (Ok(attempt_id), Some(action)) = (attempt.parse::<i64>(), field(&form, "accion").and_then(DemoAction::parse))
    else {
        return payment_error_page(&PaymentError::AttemptNotFound, lang, "/consulta");
    };
    let order_id = match payments::demo_action(&state, attempt_id, action).await {
        Ok(order_id) => order_id,
        Err(e) => return payment_error_page(&e, lang, &back),
    };
    match state.store.get_order(order_id).await {
        Ok(Some(order)) => see_other(&format!("/orden/{}", order.reference)),
        _ => payment_error_page(&PaymentError::OrderNotFound, lang, "/consulta"),
    }
}
