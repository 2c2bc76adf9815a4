//! The JSON API (`/api/v1`). Amounts are decimal strings ("1234.50"); errors
//! are `{"error": {"code", "message"}}` with the matching HTTP status.

use std::net::SocketAddr;

use app::domain::money::Centavos;
use app::lookup::{run_lookup, DebtDocument, LookupError, LookupQuery};
use app::state::AppState;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use serde::Serialize;

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

pub fn error_response(e: &LookupError) -> Response {
    let lang = app::i18n::Lang::Es;
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let body = ApiErrorBody { error: ApiError { code: e.code(), message: e.message(lang), hint: e.hint(lang) } };
    let mut response = (status, Json(body)).into_response();
    if let Some(secs) = e.retry_after() {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
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
