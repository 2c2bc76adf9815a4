//! Receipts over HTTP: the PDF (`/recibo/{folio}/pdf?s=…&papel=carta|ticket`),
//! the verdict as JSON (`/api/v1/receipts/{folio}/verify?s=…`) and the
//! published keyring (`/api/v1/receipts/keys`). The pages (`/v/{folio}`,
//! `/recibo/{folio}`, `/recibos`) are Leptos routes (`app::ui::receipt_page`).

use std::path::PathBuf;

use app::domain::folio::Folio;
use app::domain::payment::{Method, Provider};
use app::domain::words::amount_in_words;
use app::error::{ApiErrorBody, AppError};
use app::i18n::Lang;
use app::receipts::{self as service, PublicReceipt, VerdictKind};
use app::state::AppState;
use app::store::{Receipt, ReceiptStatus};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::extract::{ClientIp, First, Json as JsonBody, PathParam, Query};
use crate::receipt_pdf::{render_pdf, Labels, Paper, ReceiptLine, ReceiptView};

/// The verdict as JSON.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Verification)]
pub struct ApiVerification {
    pub folio: String,
    pub verdict: VerdictKind,
    pub message: String,
    pub cancel_reason: Option<String>,
    /// The facts to compare with the paper (authentic or cancelled only); the name masked.
    pub receipt: Option<PublicReceipt>,
}

/// The verdict in one Spanish sentence (the API's `message`).
pub fn verdict_message(kind: VerdictKind) -> String {
    format!("{}: {}", kind.title(Lang::Es), kind.explanation(Lang::Es))
}

/// The code of a receipt's QR: `?s=<kid>.<signature>`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SignatureQuery {
    /// El código del QR: `<kid>.<firma Ed25519 en base64url>`.
    #[param(value_type = Option<String>)]
    #[serde(default)]
    pub s: First<String>,
}

/// The verdict on a receipt: 200 (authentic, forged or cancelled), 404 for
/// an unknown folio, 400 without `s`.
#[utoipa::path(
    get,
    path = "/api/v1/receipts/{folio}/verify",
    operation_id = "verifyReceipt",
    tag = "recibos",
    summary = "Verifica un recibo oficial con el código de su QR: auténtico, alterado o falso, cancelado o desconocido",
    params(("folio" = String, Path, example = "A-2026-000123"), SignatureQuery),
    responses(
        (status = 200, description = "Veredicto (authentic, forged o cancelled)", body = ApiVerification),
        (status = 400, description = "Falta el código (missing_signature)", body = ApiErrorBody),
        (status = 404, description = "Folio desconocido (verdict unknown)", body = ApiVerification),
        (status = 429, description = "Demasiadas consultas (rate_limited)", body = ApiErrorBody),
        (status = 503, description = "Base de datos no disponible (unavailable)", body = ApiErrorBody),
    )
)]
#[tracing::instrument(name = "api.verify_receipt", skip_all)]
pub async fn verify(
    State(state): State<AppState>,
    PathParam(folio): PathParam,
    Query(q): Query<SignatureQuery>,
) -> Result<Response, AppError> {
    let Some(s) = q.s.into_inner().filter(|s| !s.trim().is_empty()) else {
        return Err(AppError::new(
            400,
            "missing_signature",
            "Falta el código de verificación (parámetro «s» del enlace del código QR).",
            "The verification code is missing (the «s» parameter of the QR code's link).",
        ));
    };
    let v = service::check(&state, &folio, &s).await.map_err(unavailable)?;
    let status = if v.kind == VerdictKind::Unknown { StatusCode::NOT_FOUND } else { StatusCode::OK };
    let body = ApiVerification {
        folio: folio.trim().to_uppercase(),
        verdict: v.kind,
        message: verdict_message(v.kind),
        cancel_reason: v.cancel_reason,
        receipt: v.receipt,
    };
    Ok((status, Json(body)).into_response())
}

fn unavailable(e: service::ReceiptError) -> AppError {
    tracing::error!(error = %e, "receipts unavailable");
    AppError::unavailable()
}

/// The published keyring.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Keyring)]
pub struct ApiKeyring {
    pub keys: Vec<ApiPublicKey>,
}

/// One public key that signs (or signed) receipts.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PublicKey)]
pub struct ApiPublicKey {
    /// Its id: the first characters of a receipt's code name it.
    pub kid: String,
    /// The Ed25519 public key, base64url.
    pub public_key_b64url: String,
    /// Receipts issued on these dates (inclusive) verify with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<chrono::NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<chrono::NaiveDate>,
}

/// Every public key that ever signed a receipt.
#[utoipa::path(
    get,
    path = "/api/v1/receipts/keys",
    operation_id = "receiptKeys",
    tag = "recibos",
    summary = "Las llaves públicas (Ed25519) que firman los recibos, vigentes y retiradas, con su identificador",
    responses((status = 200, description = "Las llaves", body = ApiKeyring))
)]
pub async fn keys(State(state): State<AppState>) -> Response {
    let keys = state
        .receipt_keys
        .keyring()
        .iter()
        .map(|k| ApiPublicKey {
            kid: k.kid().to_string(),
            public_key_b64url: k.public_key_b64url(),
            valid_from: k.valid_from(),
            valid_until: k.valid_until(),
        })
        .collect();
    let mut response = Json(ApiKeyring { keys }).into_response();
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

/// The PDF's query: the receipt's code and the paper.
#[derive(Debug, Deserialize)]
pub struct PdfQuery {
    #[serde(default)]
    pub s: First<String>,
    #[serde(default)]
    pub papel: First<String>,
}

fn receipt_not_found() -> AppError {
    AppError::new(404, "not_found", "No encontramos ese recibo.", "We could not find that receipt.")
        .with_back("/recibos")
}

/// `GET /recibo/{folio}/pdf?s=…&papel=carta|ticket`: the receipt as PDF.
#[tracing::instrument(name = "receipt.pdf", skip_all)]
pub async fn pdf(
    State(state): State<AppState>,
    PathParam(folio): PathParam,
    Query(q): Query<PdfQuery>,
) -> Result<Response, AppError> {
    let paper = match q.papel.as_deref() {
        None | Some("carta") => Paper::Letter,
        Some("ticket") => Paper::Ticket80mm,
        Some(_) => {
            return Err(AppError::new(
                400,
                "invalid_query",
                "Papel desconocido: use papel=carta o papel=ticket.",
                "Unknown paper: use papel=carta or papel=ticket.",
            ));
        }
    };
    let receipt = opened(&state, &folio, q.s.as_deref()).await.map_err(unavailable)?.ok_or_else(receipt_not_found)?;
    let view = receipt_view(&state, &receipt).await.map_err(unavailable)?;
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
            Ok(response)
        }
        other => {
            tracing::error!(folio = %receipt.folio, outcome = ?other.map(|r| r.err()), "receipt PDF failed");
            Err(AppError::new(
                500,
                "unavailable",
                "No se pudo generar el PDF del recibo.",
                "The receipt's PDF could not be made.",
            ))
        }
    }
}

/// How the payment method is written on the PDF: the method, and who took it.
fn method_with_provider(method: Option<Method>, provider: Option<Provider>) -> String {
    let method = service::method_label(method, app::i18n::Lang::Es);
    match provider {
        Some(Provider::Stripe) => format!("{method} (Stripe)"),
        Some(Provider::Demo) => format!("{method} (modo de prueba)"),
        Some(Provider::Window) => format!("{method} (en ventanilla)"),
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
    if r.is_demo() {
        labels.footer_note = format!(
            "{}. {}",
            VerdictKind::Demo.title(Lang::Es).to_uppercase(),
            VerdictKind::Demo.explanation(Lang::Es)
        );
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

/// The body of `POST /api/v1/receipts/{folio}/redeem`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RedeemRequest {
    /// The code of the receipt's QR (its «s» parameter).
    pub s: String,
    /// Where it is handed over (a desk's name); the client's address when absent.
    #[serde(default, rename = "where")]
    pub place: Option<String>,
}

impl crate::http::extract::ApiBody for RedeemRequest {
    const SHAPE_ES: &'static str =
        "envíe {\"s\": \"…\"} con el código del QR del recibo y, si quiere, \"where\" con el lugar de entrega.";
    const SHAPE_EN: &'static str =
        "send {\"s\": \"…\"} with the code of the receipt's QR and, optionally, \"where\" with the place.";
}

/// A receipt handed over.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiRedemption {
    pub folio: String,
    pub redeemed_at: chrono::DateTime<chrono::Utc>,
    pub redeemed_by: String,
    pub redeemed_where: String,
}

/// "Entregar / canjear" a receipt at the desk (cajero).
#[utoipa::path(
    post,
    path = "/api/v1/receipts/{folio}/redeem",
    operation_id = "redeemReceipt",
    tag = "receipts",
    summary = "Marca un recibo auténtico como entregado (canjeado), una sola vez; solo personal con rol cajero \
               (sesión de /personal/entrar)",
    params(("folio" = String, Path, example = "A-2026-000123")),
    request_body(content = RedeemRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Canjeado ahora", body = ApiRedemption),
        (status = 400, description = "Cuerpo inválido (invalid_json)", body = ApiErrorBody),
        (status = 401, description = "Sin sesión del personal (unauthorized)", body = ApiErrorBody),
        (status = 403, description = "El rol no lo permite (forbidden)", body = ApiErrorBody),
        (status = 409, description = "Ya se había canjeado: cuándo, dónde y quién (already_redeemed)", body = ApiErrorBody),
        (status = 415, description = "El cuerpo no es JSON (unsupported_media_type)", body = ApiErrorBody),
        (status = 422, description = "No es un recibo auténtico y vigente (not_redeemable)", body = ApiErrorBody),
        (status = 503, description = "Base de datos no disponible (unavailable)", body = ApiErrorBody),
    )
)]
#[tracing::instrument(name = "api.redeem_receipt", skip_all)]
pub async fn redeem(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: crate::staff::Staff,
    PathParam(folio): PathParam,
    JsonBody(body): JsonBody<RedeemRequest>,
) -> Result<Response, AppError> {
    if let Some(refused) = staff.refuse_unless(app::domain::staff::may::REDEEM) {
        return Ok(refused);
    }
    let place = body.place.map(|p| p.trim().chars().take(60).collect::<String>()).filter(|p| !p.is_empty());
    let place = place.unwrap_or_else(|| format!("API {ip}"));
    let outcome = service::redeem(&state, folio.trim(), body.s.trim(), &staff.actor(), &staff.display(), &place)
        .await
        .map_err(unavailable)?;
    let tz = state.clock.timezone();
    match outcome {
        app::store::RedeemOutcome::Redeemed(r) => Ok(Json(ApiRedemption {
            folio: folio.trim().to_uppercase(),
            redeemed_at: r.at,
            redeemed_by: r.by,
            redeemed_where: r.place,
        })
        .into_response()),
        app::store::RedeemOutcome::AlreadyRedeemed(r) => {
            let at = r.at.with_timezone(&tz).format("%d/%m/%Y %H:%M");
            Err(AppError::new(
                409,
                "already_redeemed",
                format!("Este recibo ya se canjeó el {at} en «{}» por {}.", r.place, r.by),
                format!("This receipt was already redeemed on {at} at «{}» by {}.", r.place, r.by),
            ))
        }
        app::store::RedeemOutcome::NotRedeemable => Err(AppError::new(
            422,
            "not_redeemable",
            "Solo se canjea un recibo auténtico y vigente: verifique el código QR.",
            "Only an authentic, valid receipt can be redeemed: check the QR code.",
        )),
    }
}
