//! The citizen's payment forms (no JavaScript needed): plain
//! `application/x-www-form-urlencoded` POSTs that answer 303 to the page to
//! show next, or the error page (inside the site layout) with the right status.
//!
//! * `POST /orden` — "Pagar estos adeudos" on the lookup result: creates the
//!   order for the checked charges → `/orden/{reference}`.
//! * `POST /orden/{reference}/pagar` — starts (or resumes) the checkout →
//!   the provider's page (the demo checkout when no Stripe key is set).
//! * `POST /orden/{reference}/cotizar` — re-quotes an expired order.
//! * `POST /prueba/pago/{attempt}/accion` — a demo checkout button, through
//!   the same `app::payments::apply_provider_event` the Stripe webhook uses.
//!
//! Every form is a [`CsrfForm`]: a missing or different token is answered
//! 403 and changes nothing. Rate limits are the boundary's layer.

use app::error::AppError;
use app::lookup::{LookupError, LookupQuery};
use app::orders::{self, OrderError};
use app::payments::{self, DemoAction, PaymentError};
use app::state::AppState;
use axum::extract::{Path, State};
use axum::response::Redirect;
use serde::Deserialize;

use crate::http::extract::{CsrfForm, First};

/// "Pagar estos adeudos": the lookup that was shown, and the checked charges.
#[derive(Debug, Deserialize)]
pub struct OrderForm {
    #[serde(default)]
    pub cuenta: First<String>,
    #[serde(default)]
    pub rfc: First<String>,
    /// Every checked charge (`cargo=1&cargo=2`).
    #[serde(default)]
    pub cargo: Vec<String>,
}

/// A form with nothing but its CSRF token.
#[derive(Debug, Deserialize)]
pub struct EmptyForm {}

/// A demo checkout button.
#[derive(Debug, Deserialize)]
pub struct DemoForm {
    #[serde(default)]
    pub accion: First<String>,
}

fn encoded(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `POST /orden`
#[tracing::instrument(name = "form.create_order", skip_all)]
pub async fn create_order(
    State(state): State<AppState>,
    CsrfForm(form): CsrfForm<OrderForm>,
) -> Result<Redirect, AppError> {
    let filled = |v: &First<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let back = match (filled(&form.cuenta), filled(&form.rfc)) {
        (Some(c), _) => format!("/consulta?cuenta={}", encoded(&c)),
        (None, Some(r)) => format!("/consulta?rfc={}", encoded(&r)),
        _ => "/consulta".into(),
    };
    let refused = |e: AppError| e.with_back(back.clone());
    let query = LookupQuery::from_params(form.cuenta.as_deref(), form.rfc.as_deref())
        .unwrap_or(Err(LookupError::Missing))
        .map_err(|e| refused(e.into()))?;
    let charges = form
        .cargo
        .iter()
        .map(|c| c.parse::<i64>())
        .collect::<Result<Vec<i64>, _>>()
        .map_err(|_| refused(OrderError::UnknownCharge(0).into()))?;
    let order = orders::create_order(&state, &query, Some(&charges)).await.map_err(|e| refused(e.into()))?;
    Ok(Redirect::to(&format!("/orden/{}", order.reference)))
}

/// The order behind a public reference.
async fn order_by_reference(state: &AppState, reference: &str) -> Result<i64, AppError> {
    match state.store.order_id_by_reference(reference).await {
        Ok(Some(id)) => Ok(id),
        Ok(None) => {
            Err(AppError::from(OrderError::NotFound(reference.chars().take(20).collect())).with_back("/consulta"))
        }
        Err(e) => {
            tracing::error!(error = %e, "pay: store failed");
            Err(AppError::unavailable())
        }
    }
}

/// `POST /orden/{reference}/pagar`
#[tracing::instrument(name = "form.pay_order", skip_all)]
pub async fn pay_order(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    CsrfForm(EmptyForm {}): CsrfForm<EmptyForm>,
) -> Result<Redirect, AppError> {
    let id = order_by_reference(&state, &reference).await?;
    let checkout = payments::start_checkout(&state, id)
        .await
        .map_err(|e| AppError::from(e).with_back(format!("/orden/{reference}")))?;
    Ok(Redirect::to(&checkout.redirect_url))
}

/// `POST /orden/{reference}/cotizar`
#[tracing::instrument(name = "form.requote_order", skip_all)]
pub async fn requote_order(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    CsrfForm(EmptyForm {}): CsrfForm<EmptyForm>,
) -> Result<Redirect, AppError> {
    let id = order_by_reference(&state, &reference).await?;
    let order =
        orders::requote(&state, id).await.map_err(|e| AppError::from(e).with_back(format!("/orden/{reference}")))?;
    Ok(Redirect::to(&format!("/orden/{}", order.reference)))
}

/// `POST /prueba/pago/{attempt}/accion` (demo provider only).
#[tracing::instrument(name = "form.demo_action", skip_all)]
pub async fn demo_action(
    State(state): State<AppState>,
    Path(attempt): Path<String>,
    CsrfForm(form): CsrfForm<DemoForm>,
) -> Result<Redirect, AppError> {
    let not_found = || AppError::from(PaymentError::AttemptNotFound).with_back("/consulta");
    let (Ok(attempt_id), Some(action)) = (attempt.parse::<i64>(), form.accion.as_deref().and_then(DemoAction::parse))
    else {
        return Err(not_found());
    };
    let order_id = payments::demo_action(&state, attempt_id, action)
        .await
        .map_err(|e| AppError::from(e).with_back(format!("/prueba/pago/{attempt}")))?;
    match state.store.get_order(order_id).await {
        Ok(Some(order)) => Ok(Redirect::to(&format!("/orden/{}", order.reference))),
        _ => Err(AppError::from(PaymentError::OrderNotFound).with_back("/consulta")),
    }
}
