//! The JSON API (`/api/v1`): debts and payment orders. Amounts are decimal
//! strings ("1234.50"); errors are `{"error": {"code", "message"}}` with the
//! matching HTTP status, also for a malformed JSON body.

use std::net::SocketAddr;

use app::domain::money::Centavos;
use app::domain::payment::OrderStatus;
use app::i18n::Lang;
use app::lookup::{run_lookup, DebtDocument, LookupError, LookupQuery};
use app::orders::{self, OrderError};
use app::state::AppState;
use app::store::{Order, OrderItem, OrderTransition};
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::openapi;

/// `GET /api/v1/debts?account=…` or `?rfc=…`
pub async fn debts(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let ip = state.client_ip(Some(peer), &headers);
    if let Err(retry) = state.lookup_limiter.check(ip) {
        return error_response(&LookupError::RateLimited(retry.0));
    }
    let (mut account, mut rfc) = (None, None);
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "account" if account.is_none() => account = Some(value.into_owned()),
            "rfc" if rfc.is_none() => rfc = Some(value.into_owned()),
            _ => {}
        }
    }
    let query = match LookupQuery::from_params(account.as_deref(), rfc.as_deref()) {
        None => return error_response(&LookupError::Missing),
        Some(Err(e)) => return error_response(&e),
        Some(Ok(q)) => q,
    };
    match run_lookup(&state, &query).await {
        Ok(doc) => Json(ApiDebts::from(doc)).into_response(),
        Err(e) => error_response(&e),
    }
}

/// `GET /healthz`: does the database answer?
pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => Json(serde_json::json!({"status": "ok", "database": "ok"})).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "healthz: database did not answer");
            (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({"status": "unavailable", "database": "error"})))
                .into_response()
        }
    }
}

/// `GET /api/v1/openapi.json`
pub async fn openapi() -> Response {
    Json(openapi::document()).into_response()
}

#[derive(Serialize)]
struct ApiErrorBody<'a> {
    error: ApiError<'a>,
}

#[derive(Serialize)]
struct ApiError<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
}

/// The JSON error shape shared by every endpoint (messages in Spanish).
pub(crate) fn api_error(
    status: u16,
    code: &str,
    message: String,
    hint: Option<String>,
    retry_after: Option<u64>,
) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = ApiErrorBody { error: ApiError { code, message, hint } };
    let mut response = (status, Json(body)).into_response();
    if let Some(secs) = retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

pub fn error_response(e: &LookupError) -> Response {
    let lang = Lang::Es;
    api_error(e.status(), e.code(), e.message(lang), e.hint(lang), e.retry_after())
}

pub fn order_error_response(e: &OrderError) -> Response {
    let lang = Lang::Es;
    api_error(e.status(), e.code(), e.message(lang), e.hint(lang), e.retry_after())
}

/// A body that is not the JSON expected: the same Spanish error shape
/// instead of axum's plain-text answer.
fn json_rejection_response(rejection: &JsonRejection) -> Response {
    tracing::debug!(%rejection, "rejected JSON body");
    match rejection {
        JsonRejection::MissingJsonContentType(_) => api_error(
            415,
            "unsupported_media_type",
            "Envíe el cuerpo como JSON (Content-Type: application/json).".into(),
            None,
            None,
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            api_error(413, "payload_too_large", "El cuerpo de la solicitud es demasiado grande.".into(), None, None)
        }
        JsonRejection::JsonDataError(_) => api_error(
            400,
            "invalid_json",
            "La solicitud no tiene la forma esperada: envíe {\"account\": \"…\"} o {\"rfc\": \"…\"} \
             y, si quiere, \"charges\" con la lista de números de cargo."
                .into(),
            None,
            None,
        ),
        _ => api_error(400, "invalid_json", "El cuerpo de la solicitud no es un JSON válido.".into(), None, None),
    }
}

/// `POST /api/v1/orders` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOrderRequest {
    pub account: Option<String>,
    pub rfc: Option<String>,
    /// Charge ids to pay; all open charges when absent.
    pub charges: Option<Vec<i64>>,
}

/// `POST /api/v1/orders`: creates a payment order (201), shares the lookup's
/// rate limit.
pub async fn create_order(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<CreateOrderRequest>, JsonRejection>,
) -> Response {
    let ip = state.client_ip(Some(peer), &headers);
    if let Err(retry) = state.lookup_limiter.check(ip) {
        return error_response(&LookupError::RateLimited(retry.0));
    }
    let request = match body {
        Ok(Json(request)) => request,
        Err(rejection) => return json_rejection_response(&rejection),
    };
    let query = match LookupQuery::from_params(request.account.as_deref(), request.rfc.as_deref()) {
        None => return error_response(&LookupError::Missing),
        Some(Err(e)) => return error_response(&e),
        Some(Ok(q)) => q,
    };
    match orders::create_order(&state, &query, request.charges.as_deref()).await {
        Ok(order) => (StatusCode::CREATED, Json(ApiOrder::from(order))).into_response(),
        Err(e) => order_error_response(&e),
    }
}

/// The order id of a path; anything else is an unknown order.
fn order_id(path: Result<Path<String>, PathRejection>) -> Result<i64, OrderError> {
    let raw = path.map(|Path(raw)| raw).unwrap_or_default();
    raw.parse::<i64>().map_err(|_| OrderError::NotFound(raw.chars().take(20).collect()))
}

/// `GET /api/v1/orders/{id}`: the order with its status and transitions.
pub async fn order(State(state): State<AppState>, path: Result<Path<String>, PathRejection>) -> Response {
    let result = match order_id(path) {
        Ok(id) => orders::get_order(&state, id).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(order) => {
            let id = order.id;
            let mut body = ApiOrder::from(order);
            if matches!(body.status, OrderStatus::Succeeded | OrderStatus::Refunded) {
                match app::receipts::receipt_of_order(&state, id).await {
                    Ok(r) => body.receipt = r.as_ref().and_then(|r| ApiReceiptLinks::of(&state, r)),
                    Err(e) => tracing::warn!(order_id = id, error = %e, "order's receipt unavailable"),
                }
            }
            Json(body).into_response()
        }
        Err(e) => order_error_response(&e),
    }
}

/// `POST /api/v1/orders/{id}/requote`: a new order (201) for the charges of
/// an expired one, at today's figures.
pub async fn requote_order(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let ip = state.client_ip(Some(peer), &headers);
    if let Err(retry) = state.lookup_limiter.check(ip) {
        return error_response(&LookupError::RateLimited(retry.0));
    }
    let result = match order_id(path) {
        Ok(id) => orders::requote(&state, id).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(order) => (StatusCode::CREATED, Json(ApiOrder::from(order))).into_response(),
        Err(e) => order_error_response(&e),
    }
}

/// `POST /api/v1/orders/{id}/checkout`: starts (or resumes) the online
/// payment of a live order; 201 with the attempt and the URL to send the
/// citizen to.
pub async fn checkout_order(State(state): State<AppState>, path: Result<Path<String>, PathRejection>) -> Response {
    let id = match order_id(path) {
        Ok(id) => id,
        Err(e) => return order_error_response(&e),
    };
    match app::payments::start_checkout(&state, id).await {
        Ok(c) => (
            StatusCode::CREATED,
            Json(serde_json::json!({
                "order_id": id,
                "attempt_id": c.attempt.id,
                "provider": c.attempt.provider,
                "redirect_url": c.redirect_url,
            })),
        )
            .into_response(),
        Err(e) => api_error(e.status(), e.code(), e.message(Lang::Es), None, None),
    }
}

/// A payment order as the API shows it.
#[derive(Debug, Serialize)]
pub struct ApiOrder {
    pub id: i64,
    pub reference: String,
    pub status: OrderStatus,
    pub items: Vec<ApiOrderItem>,
    pub subtotal: Centavos,
    pub rounding: Centavos,
    pub total: Centavos,
    pub currency: String,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub requoted_from: Option<i64>,
    pub transitions: Vec<ApiTransition>,
    /// The official receipt, once the order is paid.
    pub receipt: Option<ApiReceiptLinks>,
}

/// Where a paid order's receipt is.
#[derive(Debug, Serialize)]
pub struct ApiReceiptLinks {
    pub folio: String,
    /// What its QR code holds: anyone can check it there.
    pub verify_url: String,
    /// The printable page and the PDFs (letter, 80 mm ticket).
    pub html_url: String,
    pub pdf_letter_url: String,
    pub pdf_ticket_url: String,
}

impl ApiReceiptLinks {
    pub fn of(state: &AppState, r: &app::store::Receipt) -> Option<ApiReceiptLinks> {
        let s = r.signature.as_deref()?;
        let base = state.public_url.trim_end_matches('/');
        let folio = r.folio.to_string();
        Some(ApiReceiptLinks {
            verify_url: app::receipts::verify_url(state, r)?,
            html_url: format!("{base}/recibo/{folio}?s={s}"),
            pdf_letter_url: format!("{base}/recibo/{folio}/pdf?papel=carta&s={s}"),
            pdf_ticket_url: format!("{base}/recibo/{folio}/pdf?papel=ticket&s={s}"),
            folio,
        })
    }
}

#[derive(Debug, Serialize)]
pub struct ApiOrderItem {
    pub charge_id: i64,
    pub account: String,
    pub concept: String,
    pub period: String,
    pub due_date: NaiveDate,
    pub principal: Centavos,
    pub recargos: Centavos,
    pub discount: Centavos,
    pub total: Centavos,
}

#[derive(Debug, Serialize)]
pub struct ApiTransition {
    pub from: Option<OrderStatus>,
    pub to: OrderStatus,
    pub event: String,
    pub at: DateTime<Utc>,
}

impl From<Order> for ApiOrder {
    fn from(o: Order) -> Self {
        ApiOrder {
            id: o.id,
            reference: o.reference,
            status: o.status,
            items: o.items.into_iter().map(ApiOrderItem::from).collect(),
            subtotal: o.subtotal,
            rounding: o.rounding,
            total: o.total,
            currency: o.currency,
            expires_at: o.expires_at,
            created_at: o.created_at,
            requoted_from: o.requoted_from,
            transitions: o.transitions.into_iter().map(ApiTransition::from).collect(),
            receipt: None,
        }
    }
}

impl From<OrderItem> for ApiOrderItem {
    fn from(i: OrderItem) -> Self {
        ApiOrderItem {
            charge_id: i.charge_id,
            account: i.account,
            concept: i.concept,
            period: i.period,
            due_date: i.due_date,
            principal: i.principal,
            recargos: i.recargos,
            discount: i.discount,
            total: i.total,
        }
    }
}

impl From<OrderTransition> for ApiTransition {
    fn from(t: OrderTransition) -> Self {
        ApiTransition { from: t.from, to: t.to, event: t.event.map_or("created", |e| e.as_str()).to_string(), at: t.at }
    }
}

/// The debts document of the API: a stable contract, decoupled from the
/// internal quote types.
#[derive(Debug, Serialize)]
pub struct ApiDebts {
    pub computed_on: NaiveDate,
    pub currency: String,
    pub accounts: Vec<ApiAccount>,
    pub subtotal: Centavos,
    pub rounding: Centavos,
    pub total: Centavos,
}

#[derive(Debug, Serialize)]
pub struct ApiAccount {
    pub account: String,
    pub kind: String,
    pub person_kind: String,
    pub owner: String,
    pub colonia: Option<String>,
    pub items: Vec<ApiItem>,
    pub total: Centavos,
}

#[derive(Debug, Serialize)]
pub struct ApiItem {
    pub charge_id: i64,
    pub concept: String,
    pub concept_name: String,
    pub period: String,
    pub due_date: NaiveDate,
    pub months_late: u32,
    pub principal: Centavos,
    pub recargos: Centavos,
    pub discount: Centavos,
    pub discounts: Vec<ApiDiscount>,
    pub total: Centavos,
}

#[derive(Debug, Serialize)]
pub struct ApiDiscount {
    pub program: String,
    pub name: String,
    pub legal_basis: String,
    pub valid_until: NaiveDate,
    pub component: String,
    pub percent: String,
    pub amount: Centavos,
}

impl From<DebtDocument> for ApiDebts {
    fn from(doc: DebtDocument) -> Self {
        ApiDebts {
            computed_on: doc.computed_on,
            currency: doc.currency,
            subtotal: doc.subtotal,
            rounding: doc.rounding,
            total: doc.total,
            accounts: doc
                .accounts
                .into_iter()
                .map(|a| ApiAccount {
                    account: a.account,
                    kind: a.kind,
                    person_kind: a.person_kind.as_str().to_string(),
                    owner: a.owner,
                    colonia: a.colonia,
                    total: a.total,
                    items: a
                        .items
                        .into_iter()
                        .map(|i| ApiItem {
                            charge_id: i.charge_id,
                            concept: i.concept,
                            concept_name: i.concept_name_es,
                            period: i.period,
                            due_date: i.due_date,
                            months_late: i.months_late,
                            principal: i.principal,
                            recargos: i.recargos,
                            discount: i.discount,
                            total: i.total,
                            discounts: i
                                .discounts
                                .into_iter()
                                .map(|d| ApiDiscount {
                                    program: d.program_id,
                                    name: d.name,
                                    legal_basis: d.legal_basis,
                                    valid_until: d.valid_until,
                                    component: component_name(&d.component).into(),
                                    percent: d.percent.normalize().to_string(),
                                    amount: d.amount,
                                })
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

fn component_name(c: &app::domain::discounts::Component) -> &'static str {
    use app::domain::discounts::Component;
    match c {
        Component::Principal => "principal",
        Component::Recargos => "recargos",
        Component::Multas => "multas",
    }
}
