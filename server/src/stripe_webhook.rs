//! `POST /api/v1/stripe/webhook`: Stripe's events about Checkout Sessions.
//!
//! The RAW body is verified against `Stripe-Signature` (HMAC-SHA256 with the
//! webhook secret, or the previous one while Stripe rolls it; any matching
//! `v1`, constant-time, 5 minutes of tolerance against the real clock)
//! before anything is parsed. Then:
//!
//! * `checkout.session.completed` (paid → succeeded; unpaid → pending,
//!   awaiting the OXXO cash), `checkout.session.async_payment_succeeded`,
//!   `checkout.session.async_payment_failed` and `checkout.session.expired`
//!   go through the same `app::payments::apply_provider_event` as the demo
//!   provider, deduped by Stripe's event id;
//! * any other event type is answered 200 and ignored;
//! * a bad signature is answered 400 and changes nothing;
//! * an event refused by the state machine (an amount or currency that does
//!   not match the order, a transition not allowed) is answered 200, so that
//!   Stripe stops retrying, and changes nothing.

use app::error::{ApiErrorBody, AppError};
use app::payments::{self, PaymentError};
use app::state::AppState;
use app::stripe::{self as stripe_mod, WebhookEvent};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

fn refused(code: &str, es: &str, en: &str) -> AppError {
    AppError::new(400, code, es, en)
}

/// What the portal answers Stripe.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WebhookAck)]
pub struct WebhookAck {
    pub received: bool,
    /// `applied`, `duplicate`, `overpayment`, `refused` or `ignored`.
    pub status: &'static str,
}

fn ok(status: &'static str) -> Json<WebhookAck> {
    Json(WebhookAck { received: true, status })
}

/// Stripe's events about Checkout Sessions.
#[utoipa::path(
    post,
    path = "/api/v1/stripe/webhook",
    operation_id = "stripeWebhook",
    tag = "stripe",
    summary = "Eventos de Stripe (checkout.session.completed, .async_payment_succeeded, .async_payment_failed, .expired), \
               firmados con Stripe-Signature sobre el cuerpo sin modificar (tolerancia de 5 minutos); otros tipos se \
               aceptan y se ignoran",
    params(("Stripe-Signature" = String, Header, description = "t=…,v1=… (HMAC-SHA256 del cuerpo)")),
    request_body(content = serde_json::Value, content_type = "application/json", description = "Un evento de Stripe"),
    responses(
        (status = 200, description = "Recibido (status: applied, duplicate, overpayment, refused o ignored)", body = WebhookAck),
        (status = 400, description = "Firma ausente, inválida o vencida (bad_signature), o cuerpo que no es un evento (bad_event)", body = ApiErrorBody),
        (status = 404, description = "Stripe no está configurado (stripe_not_configured)", body = ApiErrorBody),
        (status = 503, description = "Base de datos no disponible (unavailable): Stripe reintenta", body = ApiErrorBody),
    )
)]
#[tracing::instrument(name = "api.stripe_webhook", skip_all)]
pub async fn webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WebhookAck>, AppError> {
    let secrets = state.stripe.as_ref().map(|s| s.webhook_secrets()).unwrap_or_default();
    if secrets.is_empty() {
        return Err(AppError::new(
            404,
            "stripe_not_configured",
            "Stripe no está configurado en este portal.",
            "Stripe is not configured on this portal.",
        ));
    }
    let Some(signature) = headers.get("stripe-signature").and_then(|v| v.to_str().ok()) else {
        return Err(refused("bad_signature", "Falta la firma Stripe-Signature.", "The Stripe-Signature is missing."));
    };
    if let Err(e) = stripe_mod::verify_signature(signature, &body, &secrets, state.clock.real_now()) {
        tracing::warn!(error = %e, "Stripe webhook refused");
        return Err(refused(
            "bad_signature",
            "La firma Stripe-Signature no es válida o está vencida.",
            "The Stripe-Signature is not valid or has expired.",
        ));
    }
    let event = match stripe_mod::parse_event(&body) {
        Ok(event) => event,
        Err(e) => {
            tracing::warn!(error = %e, "Stripe webhook: a signed body that is not an event");
            return Err(refused(
                "bad_event",
                "El evento no tiene la forma esperada.",
                "The event is not what was expected.",
            ));
        }
    };
    match event {
        WebhookEvent::Ignored { event_id, event_type } => {
            tracing::debug!(%event_id, %event_type, "Stripe webhook: event type not handled, ignored");
            Ok(ok("ignored"))
        }
        WebhookEvent::Adjustment(adjustment) => match payments::apply_adjustment(&state, &adjustment).await {
            Ok(app::store::AdjustmentOutcome::Duplicate) => Ok(ok("duplicate")),
            Ok(app::store::AdjustmentOutcome::NotOurs) => Ok(ok("ignored")),
            Ok(app::store::AdjustmentOutcome::Recorded { .. }) => Ok(ok("applied")),
            // Stripe retries: recorded later.
            Err(e) => Err(e.into()),
        },
        WebhookEvent::Session { event_id, kind, session, created } => {
            match payments::apply_stripe_session_event(&state, &event_id, kind, &session, created).await {
                Ok(outcome) => Ok(ok(match outcome {
                    app::store::EventOutcome::Duplicate => "duplicate",
                    app::store::EventOutcome::Applied(_) => "applied",
                    app::store::EventOutcome::Overpayment { .. } => "overpayment",
                    app::store::EventOutcome::Discrepancy { .. } => "discrepancy",
                })),
                // Stripe retries: the event is applied later.
                Err(e @ PaymentError::Unavailable) => Err(e.into()),
                Err(e @ (PaymentError::AttemptNotFound | PaymentError::OrderNotFound)) => {
                    tracing::warn!(%event_id, session = %session.id, error = %e, "Stripe webhook: not one of our sessions, ignored");
                    Ok(ok("ignored"))
                }
                Err(e) => {
                    tracing::warn!(%event_id, session = %session.id, error = %e, "Stripe webhook: event refused, nothing changed");
                    Ok(ok("refused"))
                }
            }
        }
    }
}
