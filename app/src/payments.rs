//! Online payment: checkout attempts and the ONE path every provider event
//! takes ([`apply_provider_event`]), whether it comes from the embedded demo
//! provider's buttons or, later, from a Stripe webhook or the healing sweep.
//!
//! * [`start_checkout`] opens an attempt for a live order (created →
//!   pending, `Redirected`) and answers where to send the citizen: with no
//!   Stripe key configured, the demo checkout `/prueba/pago/{attempt_id}`.
//! * [`apply_provider_event`] checks a `Paid` amount and currency against
//!   the order ([`crate::domain::payment::check_amount`]), then hands the
//!   event to [`crate::store::Store::apply_provider_event`], which in one
//!   transaction dedupes by (provider, event id), applies the guarded
//!   transition (charges marked paid on success), and records money that
//!   cannot be applied as one overpayment per attempt.

use serde::{Deserialize, Serialize};

use crate::domain::payment::TransitionError;
use crate::i18n::Lang;

/// The embedded demo provider's name (in `payment_attempts.provider`).
pub const DEMO_PROVIDER: &str = "demo";

/// How the citizen pays at the provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Card,
    Oxxo,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Card => "card",
            Method::Oxxo => "oxxo",
        }
    }
}

/// What a demo checkout button does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DemoAction {
    /// Card payment accepted.
    PayCard,
    /// Card declined.
    Fail,
    /// OXXO voucher issued: waiting for the cash.
    OxxoPending,
    /// The cash of a pending OXXO voucher arrived.
    OxxoPaid,
}

impl DemoAction {
    /// The action named in the demo form (`pagar`, `rechazar`, `oxxo`, `oxxo-pagado`).
    pub fn parse(s: &str) -> Option<DemoAction> {
        match s {
            "pagar" => Some(DemoAction::PayCard),
            "rechazar" => Some(DemoAction::Fail),
            "oxxo" => Some(DemoAction::OxxoPending),
            "oxxo-pagado" => Some(DemoAction::OxxoPaid),
            _ => None,
        }
    }
}

/// Why a checkout or a provider event failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PaymentError {
    #[error("payment order not found")]
    OrderNotFound,
    #[error("payment attempt not found")]
    AttemptNotFound,
    #[error("the order cannot be paid in its status: {0}")]
    NotPayable(String),
    #[error("event refused: {0}")]
    Refused(TransitionError),
    #[error("the database is unavailable")]
    Unavailable,
}

impl PaymentError {
    pub fn status(&self) -> u16 {
        match self {
            PaymentError::OrderNotFound | PaymentError::AttemptNotFound => 404,
            PaymentError::NotPayable(_) | PaymentError::Refused(_) => 409,
            PaymentError::Unavailable => 503,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            PaymentError::OrderNotFound => "order_not_found",
            PaymentError::AttemptNotFound => "attempt_not_found",
            PaymentError::NotPayable(_) => "order_not_payable",
            PaymentError::Refused(_) => "event_refused",
            PaymentError::Unavailable => "unavailable",
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        match self {
            PaymentError::OrderNotFound => {
                lang.pick("No encontramos la orden de pago.", "We could not find the payment order.").into()
            }
            PaymentError::AttemptNotFound => {
                lang.pick("No encontramos el intento de pago.", "We could not find the payment attempt.").into()
            }
            PaymentError::NotPayable(status) => match lang {
                Lang::Es => format!("La orden de pago está en estado «{status}» y ya no se puede pagar en línea."),
                Lang::En => format!("The payment order is {status} and can no longer be paid online."),
            },
            PaymentError::Refused(e) => match lang {
                Lang::Es => e.message_es(),
                Lang::En => e.to_string(),
            },
            PaymentError::Unavailable => lang
                .pick(
                    "El servicio no está disponible por el momento. Intente más tarde.",
                    "The service is unavailable right now. Please try again later.",
                )
                .into(),
        }
    }
}

#[cfg(feature = "ssr")]
pub use service::{
    apply_provider_event, apply_stripe_session_event, demo_action, heal_stripe_attempts, random_token, start_checkout,
    Checkout, HEAL_AFTER_MINUTES,
};

#[cfg(feature = "ssr")]
mod service {
    use super::stripe_api as stripe_checkout;
    use super::{DemoAction, Method, PaymentError, DEMO_PROVIDER};
    use crate::domain::payment::{check_amount, PaymentEvent, PaymentStatus, CURRENCY_MXN};
    use crate::state::AppState;
    use crate::store::{EventOutcome, NewAttempt, PaymentAttempt, ProviderEvent, StoreError};
    use crate::stripe::{self, SessionEventKind, SessionObject, STRIPE_PROVIDER};

    /// A random token: 32 hex digits (128 bits) from the operating system.
    pub fn random_token() -> String {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the operating system's random source");
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn store_err(e: StoreError) -> PaymentError {
        match e {
            StoreError::OrderNotFound(_) => PaymentError::OrderNotFound,
            StoreError::AttemptNotFound(_) => PaymentError::AttemptNotFound,
            StoreError::Transition { source, .. } => PaymentError::Refused(source),
            other => {
                tracing::error!(error = %other, cause = ?std::error::Error::source(&other), "payments: store failed");
                PaymentError::Unavailable
            }
        }
    }

    /// A started checkout: the attempt and where to send the citizen.
    #[derive(Clone, Debug)]
    pub struct Checkout {
        pub attempt: PaymentAttempt,
        pub redirect_url: String,
    }

    fn demo_url(attempt_id: i64) -> String {
        format!("/prueba/pago/{attempt_id}")
    }

    /// Starts (or resumes) the online payment of a live order. A created
    /// order gets a new attempt and becomes pending; a pending order whose
    /// last attempt is still pending resumes it (the citizen came back and
    /// pressed "Pagar en línea" again): never two open checkouts.
    pub async fn start_checkout(state: &AppState, order_id: i64) -> Result<Checkout, PaymentError> {
        let now = state.clock.now();
        state.store.expire_due_orders(now).await.map_err(store_err)?;
        let order = state.store.get_order(order_id).await.map_err(store_err)?.ok_or(PaymentError::OrderNotFound)?;
        match order.status {
            PaymentStatus::Created => {
                let stripe = state.stripe.clone();
                let provider = if stripe.is_some() { STRIPE_PROVIDER } else { DEMO_PROVIDER };
                let attempt = state
                    .store
                    .start_attempt(
                        &NewAttempt {
                            order_id,
                            provider: provider.into(),
                            provider_ref: None,
                            idempotency_key: format!("order-{order_id}-{}", random_token()),
                            amount: order.total,
                        },
                        now,
                    )
                    .await
                    .map_err(store_err)?;
                let Some(stripe) = stripe else {
                    tracing::info!(order_id, attempt_id = attempt.id, "payment attempt started (demo provider)");
                    return Ok(Checkout { redirect_url: demo_url(attempt.id), attempt });
                };
                let session = stripe_checkout::create_session(&stripe, &order, &attempt).await?;
                state.store.set_attempt_provider_ref(attempt.id, &session.id, now).await.map_err(store_err)?;
                tracing::info!(order_id, attempt_id = attempt.id, session = %session.id, "payment attempt started (Stripe Checkout)");
                let attempt = PaymentAttempt { provider_ref: Some(session.id), ..attempt };
                Ok(Checkout { redirect_url: session.url, attempt })
            }
            PaymentStatus::Pending => {
                let attempts = state.store.attempts_of_order(order_id).await.map_err(store_err)?;
                match attempts.into_iter().rev().find(|a| a.status == "pending") {
                    Some(attempt) if attempt.provider == DEMO_PROVIDER => {
                        Ok(Checkout { redirect_url: demo_url(attempt.id), attempt })
                    }
                    Some(attempt) => {
                        let (Some(stripe), Some(session_id)) = (state.stripe.clone(), attempt.provider_ref.clone())
                        else {
                            return Err(PaymentError::NotPayable(order.status.label_es().into()));
                        };
                        let session = stripe_checkout::retrieve_session(&stripe, &session_id).await?;
                        match session.url {
                            Some(url) if session.status.as_deref() == Some("open") => {
                                Ok(Checkout { redirect_url: url, attempt })
                            }
                            _ => Err(PaymentError::NotPayable(order.status.label_es().into())),
                        }
                    }
                    None => Err(PaymentError::NotPayable(order.status.label_es().into())),
                }
            }
            other => Err(PaymentError::NotPayable(other.label_es().into())),
        }
    }

    /// A Stripe `checkout.session.*` event (from the webhook or the healing
    /// sweep) through the same [`apply_provider_event`]: the attempt comes
    /// from the session's metadata and must be this session's
    /// (`provider_ref`); `event_id` is the dedupe key.
    pub async fn apply_stripe_session_event(
        state: &AppState,
        event_id: &str,
        kind: SessionEventKind,
        session: &SessionObject,
    ) -> Result<EventOutcome, PaymentError> {
        let attempt_id = session.attempt_id().ok_or(PaymentError::AttemptNotFound)?;
        let attempt =
            state.store.get_attempt(attempt_id).await.map_err(store_err)?.ok_or(PaymentError::AttemptNotFound)?;
        if attempt.provider != STRIPE_PROVIDER
            || session.order_id().is_some_and(|o| o != attempt.order_id)
            || attempt.provider_ref.as_deref().is_some_and(|r| r != session.id)
        {
            return Err(PaymentError::AttemptNotFound);
        }
        if attempt.provider_ref.is_none() {
            // The session was created but we crashed before recording it.
            state.store.set_attempt_provider_ref(attempt.id, &session.id, state.clock.now()).await.map_err(store_err)?;
        }
        apply_provider_event(state, &stripe::provider_event(event_id, kind, session, attempt.id)).await
    }

    /// Pending Stripe attempts older than this are asked about by the sweep.
    pub const HEAL_AFTER_MINUTES: i64 = 15;

    /// The healing sweep: asks Stripe (`GET /v1/checkout/sessions/{id}`)
    /// about every pending Stripe attempt created at least
    /// [`HEAL_AFTER_MINUTES`] before `now`, and feeds what it finds through
    /// [`apply_stripe_session_event`] (a lost webhook, or a crash between
    /// Stripe's success and our commit, heals here). The event id is derived
    /// from the session's state, so repeated sweeps dedupe. Returns how many
    /// attempts changed something.
    pub async fn heal_stripe_attempts(
        state: &AppState,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<usize, PaymentError> {
        let Some(stripe) = state.stripe.clone() else { return Ok(0) };
        let before = now - chrono::Duration::minutes(HEAL_AFTER_MINUTES);
        let attempts = state.store.pending_attempts_before(STRIPE_PROVIDER, before).await.map_err(store_err)?;
        let mut healed = 0;
        for attempt in attempts {
            let Some(session_id) = attempt.provider_ref.clone() else {
                tracing::warn!(attempt_id = attempt.id, "healing: a Stripe attempt without a session id, skipped");
                continue;
            };
            let session = match stripe_checkout::retrieve_session(&stripe, &session_id).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(attempt_id = attempt.id, session = %session_id, error = %e, "healing: Stripe not reachable");
                    continue;
                }
            };
            let oxxo = attempt.method.as_deref() == Some(Method::Oxxo.as_str());
            let kind = match (session.status.as_deref(), session.payment_status.as_deref()) {
                (Some("complete"), Some("paid")) if oxxo => SessionEventKind::AsyncPaymentSucceeded,
                (Some("complete"), Some("paid" | "no_payment_required")) => SessionEventKind::Completed,
                (Some("complete"), _) if !oxxo => SessionEventKind::Completed,
                (Some("expired"), _) => SessionEventKind::Expired,
                _ => continue,
            };
            let event_id = format!(
                "heal_{session_id}_{}_{}",
                session.status.as_deref().unwrap_or(""),
                session.payment_status.as_deref().unwrap_or("")
            );
            match apply_stripe_session_event(state, &event_id, kind, &session).await {
                Ok(EventOutcome::Duplicate) => {}
                Ok(outcome) => {
                    tracing::info!(attempt_id = attempt.id, session = %session_id, ?outcome, "healing: applied what Stripe reports");
                    healed += 1;
                }
                Err(e) => tracing::warn!(attempt_id = attempt.id, session = %session_id, error = %e, "healing: refused"),
            }
        }
        Ok(healed)
    }

    /// THE shared path for provider events (demo buttons today, Stripe
    /// webhooks and the sweep later): a `Paid` event must match the order's
    /// amount and currency; then the store dedupes, transitions and records
    /// overpayments in one transaction.
    pub async fn apply_provider_event(
        state: &AppState,
        event: &ProviderEvent,
    ) -> Result<EventOutcome, PaymentError> {
        let attempt =
            state.store.get_attempt(event.attempt_id).await.map_err(store_err)?.ok_or(PaymentError::AttemptNotFound)?;
        if attempt.provider != event.provider {
            return Err(PaymentError::AttemptNotFound);
        }
        if let PaymentEvent::Paid { amount, currency } = &event.event {
            let order =
                state.store.get_order(attempt.order_id).await.map_err(store_err)?.ok_or(PaymentError::OrderNotFound)?;
            check_amount(order.total, CURRENCY_MXN, *amount, currency).map_err(PaymentError::Refused)?;
        }
        let outcome = state.store.apply_provider_event(event, state.clock.now()).await.map_err(store_err)?;
        match &outcome {
            EventOutcome::Overpayment { reason } => tracing::warn!(
                order_id = attempt.order_id,
                attempt_id = attempt.id,
                event_id = %event.event_id,
                reason = %reason,
                "payment received for an order that cannot take it: recorded as an overpayment to refund"
            ),
            other => tracing::info!(
                order_id = attempt.order_id,
                attempt_id = attempt.id,
                event_id = %event.event_id,
                outcome = ?other,
                "provider event"
            ),
        }
        Ok(outcome)
    }

    /// One demo checkout button: builds the event (a fresh event id, the
    /// attempt's own amount) and applies it through [`apply_provider_event`].
    /// Returns the order's id.
    pub async fn demo_action(state: &AppState, attempt_id: i64, action: DemoAction) -> Result<i64, PaymentError> {
        let attempt =
            state.store.get_attempt(attempt_id).await.map_err(store_err)?.ok_or(PaymentError::AttemptNotFound)?;
        if attempt.provider != DEMO_PROVIDER {
            return Err(PaymentError::AttemptNotFound);
        }
        let paid = PaymentEvent::Paid { amount: attempt.amount, currency: CURRENCY_MXN.into() };
        let (event, method, voucher) = match action {
            DemoAction::PayCard => (paid, Some(Method::Card), None),
            DemoAction::Fail => (PaymentEvent::Declined { reason: "card_declined".into() }, Some(Method::Card), None),
            DemoAction::OxxoPending => {
                let digits: String = random_token().bytes().filter(u8::is_ascii_digit).take(8).map(char::from).collect();
                let voucher = format!("9300{attempt_id:06}{digits:0<8}");
                (PaymentEvent::AwaitingAsync, Some(Method::Oxxo), Some(voucher))
            }
            DemoAction::OxxoPaid => {
                if attempt.method.as_deref() != Some(Method::Oxxo.as_str()) {
                    return Err(PaymentError::NotPayable("sin ficha OXXO".into()));
                }
                (paid, Some(Method::Oxxo), None)
            }
        };
        let event = ProviderEvent {
            provider: DEMO_PROVIDER.into(),
            event_id: format!("demo_evt_{}", random_token()),
            attempt_id,
            event,
            method: method.map(|m| m.as_str().to_string()),
            voucher_reference: voucher,
        };
        apply_provider_event(state, &event).await?;
        Ok(attempt.order_id)
    }
}

/// The Stripe API calls (async-stripe 1.0): create and retrieve a Checkout Session.
#[cfg(feature = "ssr")]
mod stripe_api {
    use std::collections::HashMap;

    use ::stripe::{IdempotencyKey, RequestStrategy, StripeRequest};
    use stripe_checkout::checkout_session::{
        CreateCheckoutSession, CreateCheckoutSessionAllowedPaymentMethodTypes as Pm, CreateCheckoutSessionLineItems,
        CreateCheckoutSessionLineItemsPriceData, ProductData, RetrieveCheckoutSession,
    };
    use stripe_checkout::{CheckoutSession, CheckoutSessionMode};

    use super::PaymentError;
    use crate::store::{Order, PaymentAttempt};
    use crate::stripe::{SessionObject, StripeConfig};

    /// What start_checkout needs of a created session.
    pub struct Created {
        pub id: String,
        pub url: String,
    }

    fn unavailable(what: &str, e: impl std::fmt::Display) -> PaymentError {
        tracing::error!(error = %e, "Stripe: {what} failed");
        PaymentError::Unavailable
    }

    /// Creates the attempt's Checkout Session: payment mode, MXN, one line
    /// per order item (centavos), card and OXXO, the order and attempt ids
    /// in metadata, back to the order page, expiring with the order, with
    /// the attempt's idempotency key.
    pub async fn create_session(
        config: &StripeConfig,
        order: &Order,
        attempt: &PaymentAttempt,
    ) -> Result<Created, PaymentError> {
        let client = config.client().map_err(|e| unavailable("building the client", e))?;
        let back = format!("{}/orden/{}", config.public_url.trim_end_matches('/'), order.reference);
        let mut price = CreateCheckoutSessionLineItemsPriceData::new(::stripe_types::Currency::MXN);
        price.unit_amount = Some(attempt.amount.0);
        price.product_data = Some(ProductData::new(format!("Orden de pago {}", order.reference)));
        let mut line = CreateCheckoutSessionLineItems::new();
        line.price_data = Some(price);
        line.quantity = Some(1);
        let metadata: HashMap<String, String> = [
            ("order_id".to_string(), order.id.to_string()),
            ("attempt_id".to_string(), attempt.id.to_string()),
            ("reference".to_string(), order.reference.clone()),
        ]
        .into_iter()
        .collect();
        let key = IdempotencyKey::new(&attempt.idempotency_key).map_err(|e| unavailable("the idempotency key", e))?;
        let session: CheckoutSession = CreateCheckoutSession::new()
            .mode(CheckoutSessionMode::Payment)
            .currency(::stripe_types::Currency::MXN)
            .line_items(vec![line])
            .allowed_payment_method_types(vec![Pm::Card, Pm::Oxxo])
            .metadata(metadata)
            .client_reference_id(order.reference.clone())
            .success_url(format!("{back}?pago=stripe"))
            .cancel_url(back)
            .expires_at(order.expires_at.timestamp())
            .build()
            .customize::<CheckoutSession>()
            .request_strategy(RequestStrategy::Idempotent(key))
            .send(&client)
            .await
            .map_err(|e| unavailable("creating a Checkout Session", e))?;
        let url = session.url.clone().ok_or_else(|| unavailable("creating a Checkout Session", "no url"))?;
        Ok(Created { id: session.id.to_string(), url })
    }

    /// Asks Stripe for a Checkout Session (to resume a checkout, or to heal).
    pub async fn retrieve_session(config: &StripeConfig, id: &str) -> Result<SessionObject, PaymentError> {
        let client = config.client().map_err(|e| unavailable("building the client", e))?;
        let s: CheckoutSession = RetrieveCheckoutSession::new(id.to_string())
            .send(&client)
            .await
            .map_err(|e| unavailable("retrieving a Checkout Session", e))?;
        Ok(SessionObject {
            id: s.id.to_string(),
            status: s.status.map(|v| v.as_str().to_string()),
            payment_status: Some(s.payment_status.as_str().to_string()),
            amount_total: s.amount_total,
            currency: s.currency.map(|c| c.to_string().to_ascii_lowercase()),
            metadata: s.metadata,
            payment_method_types: s.payment_method_types,
            url: s.url,
        })
    }
}
