//! Receipts over HTTP: the PDF (`/recibo/{folio}/pdf?s=…&papel=carta|ticket`),
//! the verdict as JSON (`/api/v1/receipts/{folio}/verify?s=…`) and the
//! published keyring (`/api/v1/receipts/keys`). The pages (`/v/{folio}`,
//! `/recibo/{folio}`, `/recibos`) are Leptos routes (`app::ui::receipt_page`).

use std::net::SocketAddr;
use std::path::PathBuf;

use app::domain::folio::Folio;
use app::domain::payment::{Method, Provider};
use app::domain::words::amount_in_words;
use app::lookup::LookupError;
use app::receipts::{self as service, PublicReceipt, VerdictKind};
use app::state::AppState;
use app::store::{Receipt, ReceiptStatus};
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::api::{api_error, error_response};
use crate::receipt_pdf::{render_pdf, Labels, Paper, ReceiptLine, ReceiptView};

fn query_param(query: &Option<String>, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The verdict as JSON.
#[derive(Debug, Serialize)]
pub struct ApiVerification {
    pub folio: String,
    /// `authentic`, `forged`, `cancelled` or `unknown`.
    pub verdict: VerdictKind,
    pub message: String,
    pub cancel_reason: Option<String>,
    /// The facts to compare with the paper (authentic or cancelled only).
    pub receipt: Option<PublicReceipt>,
}

pub fn verdict_message(kind: VerdictKind) -> &'static str {
    match kind {
        VerdictKind::Authentic => "Recibo auténtico: emitido por la tesorería con estos datos.",
        VerdictKind::Forged => "Recibo alterado o falso: el código no corresponde a un recibo emitido.",
        VerdictKind::Cancelled => "Recibo cancelado por la tesorería.",
        VerdictKind::Unknown => "No existe un recibo con ese folio.",
    }
}

/// `GET /api/v1/receipts/{folio}/verify?s=…`: 200 with the verdict
/// (authentic, forged or cancelled), 404 for an unknown folio, 400 without
/// `s`. Rate-limited as the lookups.
pub async fn verify(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(folio): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(retry) = state.lookup_limiter.check(state.client_ip(Some(peer), &headers)) {
        return error_response(&LookupError::RateLimited(retry.0));
    }
    let Some(s) = query_param(&query, "s").filter(|s| !s.trim().is_empty()) else {
        return api_error(
            400,
            "missing_signature",
            "Falta el código de verificación (parámetro «s» del enlace del código QR).".into(),
            None,
            None,
        );
    };
    match service::check(&state, &folio, &s).await {
        Ok(v) => {
            let status = if v.kind == VerdictKind::Unknown { StatusCode::NOT_FOUND } else { StatusCode::OK };
            let body = ApiVerification {
                folio: folio.trim().to_uppercase(),
                verdict: v.kind,
                message: verdict_message(v.kind).into(),
                cancel_reason: v.cancel_reason,
                receipt: v.receipt,
            };
            (status, Json(body)).into_response()
        }
        Err(e) => unavailable(e),
    }
}

fn unavailable(e: service::ReceiptError) -> Response {
    tracing::error!(error = %e, "receipts unavailable");
    api_error(
        503,
        "unavailable",
        "El servicio no está disponible por el momento. Intente más tarde.".into(),
        None,
        None,
    )
}

/// `GET /api/v1/receipts/keys`: every public key that ever signed a receipt.
pub async fn keys(State(state): State<AppState>) -> Response {
    let mut response = Json(serde_json::json!({ "keys": state.receipt_keys.keyring() })).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    response
}

/// The receipt named by the path whose signature is `s` (the link of the
/// success page, "mis recibos" or the QR): nobody else sees the payer's
/// full name. Anything else is "not found", revealing nothing.
pub async fn opened(state: &AppState, folio: &str, s: Option<&str>) -> Result<Option<Receipt>, service::ReceiptError> {
    let (Ok(folio), Some(s)) = (Folio::parse(folio), s) else { return Ok(None) };
    Ok(service::receipt_by_folio(state, &folio).await?.filter(|r| service::opens(r, s)))
}

/// `GET /recibo/{folio}/pdf?s=…&papel=carta|ticket`: the receipt as PDF.
pub async fn pdf(State(state): State<AppState>, Path(folio): Path<String>, RawQuery(query): RawQuery) -> Response {
    let paper = match query_param(&query, "papel").as_deref() {
        None | Some("carta") => Paper::Letter,
        Some("ticket") => Paper::Ticket80mm,
        Some(_) => {
            return (StatusCode::BAD_REQUEST, "Papel desconocido: use papel=carta o papel=ticket.").into_response();
        }
    };
    let s = query_param(&query, "s");
    let receipt = match opened(&state, &folio, s.as_deref()).await {
        Ok(Some(r)) => r,
        Ok(None) => return (StatusCode::NOT_FOUND, "No encontramos ese recibo.").into_response(),
        Err(e) => return unavailable(e),
    };
    let view = match receipt_view(&state, &receipt).await {
        Ok(v) => v,
        Err(e) => return unavailable(e),
    };
    let rendered = tokio::task::spawn_blocking(move || render_pdf(&view, paper)).await;
    match rendered {
        Ok(Ok(bytes)) => {
            let name = match paper {
                Paper::Letter => format!("recibo-{}.pdf", receipt.folio),
                Paper::Ticket80mm => format!("recibo-{}-ticket.pdf", receipt.folio),
            };
            let mut response = bytes.into_response();
            let h = response.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
            if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{name}\"")) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
            response
        }
        other => {
            tracing::error!(folio = %receipt.folio, outcome = ?other.map(|r| r.err()), "receipt PDF failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "No se pudo generar el PDF del recibo.").into_response()
        }
    }
}

/// How the payment method is written on the PDF: the method, and who took it.
fn method_with_provider(method: Option<Method>, provider: Option<Provider>) -> String {
    let method = service::method_label(method, app::i18n::Lang::Es);
    match provider {
        Some(Provider::Stripe) => format!("{method} (Stripe)"),
        Some(Provider::Demo) => format!("{method} (modo de prueba)"),
        None => method.to_string(),
    }
}

/// The municipality's logo as PNG (the `.png` next to its configured
/// logo under the site root), when there is one.
fn logo_png(state: &AppState) -> Option<Vec<u8>> {
    let logo = state.municipality.logo.trim_start_matches('/');
    let png = PathBuf::from(&state.leptos_options.site_root.to_string()).join(logo).with_extension("png");
    std::fs::read(png).ok()
}

/// Everything the PDF prints, formatted (Spanish, the municipality's time zone).
pub async fn receipt_view(state: &AppState, r: &Receipt) -> Result<ReceiptView, service::ReceiptError> {
    let order = state.store.get_order(r.order_id).await.map_err(|e| {
        tracing::error!(error = %e, "receipt's order unreadable");
        service::ReceiptError::Unavailable
    })?;
    let m = &state.municipality;
    let tz = state.clock.timezone();
    let local = r.issued_at.with_timezone(&tz);
    let minus =
        |c: app::domain::money::Centavos| if c.0 == 0 { String::new() } else { format!("-{}", c.display_mxn()) };
    let items = order
        .as_ref()
        .map(|o| {
            o.items
                .iter()
                .map(|i| ReceiptLine {
                    concept: m.concept(&i.concept).map(|c| c.name_es.clone()).unwrap_or_else(|| i.concept.clone()),
                    period: format!("{} · {}", i.period, i.account),
                    principal: i.principal.display_mxn(),
                    surcharges: if i.recargos.0 == 0 { String::new() } else { i.recargos.display_mxn() },
                    discount: minus(i.discount),
                    amount: i.total.display_mxn(),
                })
                .collect()
        })
        .unwrap_or_default();
    let rounding = order.as_ref().map(|o| o.rounding).filter(|c| c.0 != 0).map(|c| c.display_mxn());
    let mut labels = Labels::default();
    if r.provider == Some(Provider::Demo) {
        labels.footer_note = "MODO DE PRUEBA: recibo de demostración, sin validez oficial.".into();
    }
    Ok(ReceiptView {
        municipality: format!("Municipio de {}", m.name),
        state: m.state.clone(),
        office: m.address.clone(),
        logo_png: logo_png(state),
        title: "RECIBO OFICIAL DE PAGO".into(),
        folio: r.folio.to_string(),
        issued_at: format!("{} ({})", local.format("%d/%m/%Y %H:%M"), tz.name()),
        payer_name: r.payer_name.clone(),
        account: r.account.clone(),
        items,
        rounding,
        total: r.total.display_mxn(),
        total_in_words: amount_in_words(r.total),
        payment_method: method_with_provider(r.method, r.provider),
        provider_reference: r.provider_reference.clone().unwrap_or_default(),
        verify_url: service::verify_url(state, r).unwrap_or_default(),
        cancelled: match &r.status {
            ReceiptStatus::Valid => None,
            ReceiptStatus::Cancelled { reason, .. } => Some(reason.clone()),
        },
        labels,
    })
}
