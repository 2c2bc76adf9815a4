//! `POST /api/v1/stripe/webhook`: Stripe's events about Checkout Sessions.
//!
//! The RAW body is verified against `Stripe-Signature` (HMAC-SHA256 with the
//! webhook secret, any matching `v1`, constant-time, 5 minutes of tolerance
//! against the real clock) before anything is parsed. Then:
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

use app::payments::{self, PaymentError};
use app::state::AppState;
use app::stripe::{self as stripe_mod, WebhookEvent};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::api::api_error;

fn refused(code: &str, message: &str) -> Response {
    api_error(400, code, message.to_string(), None, None)
}

fn ok(status: &str) -> Response {
    (StatusCode::OK, Json(json!({ "received": true, "status": status }))).into_response()
}

/// `POST /api/v1/stripe/webhook`
pub async fn webhook(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(secret) = state.stripe.as_ref().and_then(|s| s.webhook_secret.clone()) else {
        return api_error(
            404,
            "stripe_not_configured",
            "Stripe no está configurado en este portal.".into(),
            None,
            None,
        );
    };
    let Some(signature) = headers.get("stripe-signature").and_then(|v| v.to_str().ok()) else {
        return refused("bad_signature", "Falta la firma Stripe-Signature.");
    };
    if let Err(e) = stripe_mod::verify_signature(signature, &body, secret.expose(), state.clock.real_now()) {
        tracing::warn!(error = %e, "Stripe webhook refused");
        return refused("bad_signature", "La firma Stripe-Signature no es válida o está vencida.");
    }
    let event = match stripe_mod::parse_event(&body) {
        Ok(event) => event,
        Err(e) => {
            tracing::warn!(error = %e, "Stripe webhook: a signed body that is not an event");
            return refused("bad_event", "El evento no tiene la forma esperada.");
        }
    };
    match event {
        WebhookEvent::Ignored { event_id, event_type } => {
            tracing::debug!(%event_id, %event_type, "Stripe webhook: event type not handled, ignored");
            ok("ignored")
        }
        WebhookEvent::Session { event_id, kind, session } => {
            match payments::apply_stripe_session_event(&state, &event_id, kind, &session).await {
                Ok(outcome) => ok(match outcome {
                    app::store::EventOutcome::Duplicate => "duplicate",
                    app::store::EventOutcome::Applied(_) => "applied",
                    app::store::EventOutcome::Overpayment { .. } => "overpayment",
                }),
                Err(PaymentError::Unavailable) => {
                    // Stripe retries: the event is applied later.
                    api_error(503, "unavailable", PaymentError::Unavailable.message(app::i18n::Lang::Es), None, None)
                }
                Err(e @ (PaymentError::AttemptNotFound | PaymentError::OrderNotFound)) => {
                    tracing::warn!(%event_id, session = %session.id, error = %e, "Stripe webhook: not one of our sessions, ignored");
                    ok("ignored")
                }
                Err(e) => {
                    tracing::warn!(%event_id, session = %session.id, error = %e, "Stripe webhook: event refused, nothing changed");
                    ok("refused")
                }
            }
        }
    }
}
