//! The citizen's payment forms (no JavaScript needed): plain
//! `application/x-www-form-urlencoded` POSTs that answer 303 to the page to
//! show next, or the error page (inside the site layout) with the right status.
//!
//! * `POST /orden` — "Pagar estos adeudos" on the lookup result: creates the
//!   order for the checked charges → `/orden/{token}` (orders are reached
//!   only through their unguessable token, never by id or reference).
//! * `POST /orden/{token}/pagar` — starts (or resumes) the checkout →
//!   the provider's page (Stripe, or the demo checkout when it is enabled).
//! * `POST /orden/{token}/cotizar` — re-quotes an expired order.
//! * `POST /prueba/pago/{token}/accion` — a demo checkout button, through
//!   the same `app::payments::apply_provider_event` the Stripe webhook uses.
//!
//! Every form is a [`CsrfForm`]: a missing or different token is answered
//! 403 and changes nothing. Rate limits are the boundary's layer.

use app::domain::order_token::OrderToken;
use app::error::AppError;
use app::lookup::{LookupError, LookupQuery};
use app::orders::{self, OrderError};
use app::payments::{self, DemoAction, PaymentError};
use app::state::AppState;
use axum::extract::State;
use axum::response::Redirect;
use serde::Deserialize;

use crate::http::extract::{CsrfForm, First, PathParam};

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
    Ok(Redirect::to(&format!("/orden/{}", order.token)))
}

/// The order behind the token of a path (its only public address); a
/// malformed token and one no order has get the same answer.
async fn order_by_token(state: &AppState, token: &str) -> Result<(i64, OrderToken), AppError> {
    let not_found = || AppError::from(OrderError::NotFound(token.chars().take(8).collect())).with_back("/consulta");
    let token = OrderToken::parse(token).ok_or_else(not_found)?;
    match state.store.order_id_by_token(&token).await {
        Ok(Some(id)) => Ok((id, token)),
        Ok(None) => Err(not_found()),
        Err(e) => {
            tracing::error!(error = %e, "pay: store failed");
            Err(AppError::unavailable())
        }
    }
}

/// `POST /orden/{token}/pagar`
#[tracing::instrument(name = "form.pay_order", skip_all)]
pub async fn pay_order(
    State(state): State<AppState>,
    PathParam(token): PathParam,
    CsrfForm(EmptyForm {}): CsrfForm<EmptyForm>,
) -> Result<Redirect, AppError> {
    let (id, token) = order_by_token(&state, &token).await?;
    let checkout = payments::start_checkout(&state, id)
        .await
        .map_err(|e| AppError::from(e).with_back(format!("/orden/{token}")))?;
    Ok(Redirect::to(&checkout.redirect_url))
}

/// `POST /orden/{token}/cotizar`
#[tracing::instrument(name = "form.requote_order", skip_all)]
pub async fn requote_order(
    State(state): State<AppState>,
    PathParam(token): PathParam,
    CsrfForm(EmptyForm {}): CsrfForm<EmptyForm>,
) -> Result<Redirect, AppError> {
    let (id, token) = order_by_token(&state, &token).await?;
    let order =
        orders::requote(&state, id).await.map_err(|e| AppError::from(e).with_back(format!("/orden/{token}")))?;
    Ok(Redirect::to(&format!("/orden/{}", order.token)))
}

/// `POST /prueba/pago/{token}/accion` (demo provider only): a button of
/// the order's open demo checkout.
#[tracing::instrument(name = "form.demo_action", skip_all)]
pub async fn demo_action(
    State(state): State<AppState>,
    PathParam(token): PathParam,
    CsrfForm(form): CsrfForm<DemoForm>,
) -> Result<Redirect, AppError> {
    let (id, token) = order_by_token(&state, &token).await?;
    let Some(action) = form.accion.as_deref().and_then(DemoAction::parse) else {
        return Err(AppError::from(PaymentError::AttemptNotFound).with_back(format!("/orden/{token}")));
    };
    match payments::demo_action(&state, id, action).await {
        // A button pressed again after the checkout closed (the back
        // button, a double click): the order page says how it ended.
        Ok(()) | Err(PaymentError::AttemptNotFound) => Ok(Redirect::to(&format!("/orden/{token}"))),
        Err(e) => Err(AppError::from(e).with_back(format!("/orden/{token}"))),
    }
}
