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
    /// Cash at an OXXO store, with a voucher (asynchronous).
    Oxxo,
    /// A bank transfer through SPEI to a CLABE the provider assigns
    /// (Stripe's `customer_balance`; asynchronous).
    Spei,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Card => "card",
            Method::Oxxo => "oxxo",
            Method::Spei => "spei",
        }
    }

    pub fn parse(s: &str) -> Option<Method> {
        [Method::Card, Method::Oxxo, Method::Spei].into_iter().find(|m| m.as_str() == s)
    }
}

/// What the citizen needs to finish an asynchronous payment: the OXXO
/// voucher, or the SPEI transfer details. Stored with the attempt (JSON)
/// and shown on the order page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum Instructions {
    Oxxo {
        /// The voucher's number (the barcode's digits) the cashier types.
        number: String,
        /// Pay before this instant; afterwards the voucher is void.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
        /// The provider's printable voucher.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
    },
    Spei {
        /// The 18-digit CLABE to transfer to.
        clabe: String,
        bank: String,
        /// The transfer's reference (concepto).
        reference: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
        /// The provider's page with the instructions.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
    },
}

impl Instructions {
    pub fn method(&self) -> Method {
        match self {
            Instructions::Oxxo { .. } => Method::Oxxo,
            Instructions::Spei { .. } => Method::Spei,
        }
    }

    /// The deadline to pay, when known.
    pub fn expires_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        match self {
            Instructions::Oxxo { expires_at, .. } | Instructions::Spei { expires_at, .. } => *expires_at,
        }
    }

    pub fn url(&self) -> Option<&str> {
        match self {
            Instructions::Oxxo { url, .. } | Instructions::Spei { url, .. } => url.as_deref(),
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
    apply_provider_event, apply_stripe_session_event, demo_action, heal_stripe_attempts, random_token,
    reconcile_stripe_attempt, refund_overpayments, start_checkout, Checkout, DEMO_OXXO_DAYS, HEAL_AFTER_MINUTES,
};

#[cfg(feature = "ssr")]
mod service {
    use chrono::{DateTime, Duration, Utc};

    use super::stripe_api as stripe_checkout;
    use super::{DemoAction, Instructions, Method, PaymentError, DEMO_PROVIDER};
    use crate::domain::payment::{check_amount, PaymentEvent, PaymentStatus, Transition, CURRENCY_MXN};
    use crate::state::AppState;
    use crate::store::{EventOutcome, NewAttempt, PaymentAttempt, ProviderEvent, StoreError};
    use crate::stripe::{self, SessionEventKind, SessionObject, StripeConfig, STRIPE_PROVIDER};

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
    /// (`provider_ref`); `event_id` is the dedupe key. A completed but
    /// unpaid session (an OXXO voucher, a SPEI transfer awaited) is first
    /// retrieved with its PaymentIntent, for the voucher's number and
    /// deadline (webhook payloads do not carry them).
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
            state
                .store
                .set_attempt_provider_ref(attempt.id, &session.id, state.clock.now())
                .await
                .map_err(store_err)?;
        }
        let awaiting = kind == SessionEventKind::Completed
            && !matches!(session.payment_status.as_deref(), Some("paid" | "no_payment_required"));
        let detailed;
        let session = match (&state.stripe, awaiting && session.intent.is_none()) {
            (Some(config), true) => match stripe_checkout::retrieve_session(config, &session.id).await {
                Ok(s) => {
                    detailed = s;
                    &detailed
                }
                // Applied without the voucher; the sweep fills it in later.
                Err(_) => session,
            },
            _ => session,
        };
        apply_provider_event(state, &stripe::provider_event(event_id, kind, session, attempt.id)).await
    }

    /// Pending Stripe attempts younger than this are left to the webhook.
    pub const HEAL_AFTER_MINUTES: i64 = 15;

    /// Days an OXXO voucher of the demo provider lives after the day it is
    /// issued (Stripe's default for OXXO is 3).
    pub const DEMO_OXXO_DAYS: u64 = 3;

    /// Asks Stripe where an attempt stands and applies what it says through
    /// [`apply_stripe_session_event`]: the healing sweep's step, and what
    /// the order page does when the citizen comes back from Checkout (so the
    /// answer does not depend on which of redirect and webhook comes first).
    ///
    /// * An attempt without a session id (we crashed between Stripe's
    ///   answer and recording it) repeats the create request with the
    ///   attempt's idempotency key: Stripe answers with the same session.
    /// * The event id is derived from what Stripe reports, so asking again
    ///   about an unchanged session is a duplicate.
    /// * Returns what applying did (`None`: nothing to apply yet) and
    ///   schedules the sweep's next question: every 15 minutes while the
    ///   session is open (and right after its expiry), hourly while cash or
    ///   a transfer is awaited (and right after the voucher's deadline).
    pub async fn reconcile_stripe_attempt(
        state: &AppState,
        attempt: &PaymentAttempt,
        now: DateTime<Utc>,
    ) -> Result<Option<EventOutcome>, PaymentError> {
        let Some(config) = state.stripe.clone() else { return Ok(None) };
        let session_id = match attempt.provider_ref.clone() {
            Some(id) => id,
            None => {
                let order = state
                    .store
                    .get_order(attempt.order_id)
                    .await
                    .map_err(store_err)?
                    .ok_or(PaymentError::OrderNotFound)?;
                let created = stripe_checkout::create_session(&config, &order, attempt).await?;
                state.store.set_attempt_provider_ref(attempt.id, &created.id, now).await.map_err(store_err)?;
                tracing::info!(attempt_id = attempt.id, session = %created.id, "healing: recovered the session id of an attempt");
                created.id
            }
        };
        let session = stripe_checkout::retrieve_session(&config, &session_id).await?;
        let intent_status = session.intent.as_ref().map(|i| i.status.as_str()).unwrap_or("");
        let is_async = session.async_method().is_some()
            || attempt.method.as_deref().and_then(Method::parse).is_some_and(|m| m != Method::Card);
        let kind = match (session.status.as_deref(), session.payment_status.as_deref()) {
            (Some("complete"), Some("paid")) if is_async => Some(SessionEventKind::AsyncPaymentSucceeded),
            (Some("complete"), Some("paid" | "no_payment_required")) => Some(SessionEventKind::Completed),
            // The voucher (or transfer) ran out unpaid: Stripe cancels the
            // PaymentIntent or asks for another payment method.
            (Some("complete"), _) if matches!(intent_status, "canceled" | "requires_payment_method") => {
                Some(SessionEventKind::AsyncPaymentFailed)
            }
            (Some("complete"), _) => Some(SessionEventKind::Completed),
            (Some("expired"), _) => Some(SessionEventKind::Expired),
            _ => None,
        };
        let next_check = match (&kind, session.intent.as_ref().and_then(|i| i.instructions.as_ref())) {
            (None, _) => {
                // Still open: again in 15 minutes, and just after the
                // session's expiry at the latest (Stripe then says "expired").
                let order = state.store.get_order(attempt.order_id).await.map_err(store_err)?;
                let expiry = order.map_or(now, |o| o.expires_at).max(now) + Duration::minutes(1);
                (now + Duration::minutes(HEAL_AFTER_MINUTES)).min(expiry)
            }
            // Cash or a transfer awaited: hourly, and just after the deadline.
            (Some(SessionEventKind::Completed), Some(i)) => {
                let hourly = now + Duration::hours(1);
                i.expires_at().map_or(hourly, |t| hourly.min(t.max(now) + Duration::minutes(5)))
            }
            _ => now + Duration::hours(1),
        };
        state.store.set_attempt_next_check(attempt.id, next_check).await.map_err(store_err)?;
        let Some(kind) = kind else { return Ok(None) };
        let event_id = format!(
            "heal_{session_id}_{}_{}_{intent_status}",
            session.status.as_deref().unwrap_or(""),
            session.payment_status.as_deref().unwrap_or("")
        );
        apply_stripe_session_event(state, &event_id, kind, &session).await.map(Some)
    }

    /// The healing sweep: [`reconcile_stripe_attempt`] for every pending
    /// Stripe attempt created at least [`HEAL_AFTER_MINUTES`] before `now`
    /// that is due (a lost webhook, or a crash between Stripe's success and
    /// our commit, heals here); then [`refund_overpayments`] when
    /// configured. Returns how many attempts changed something.
    pub async fn heal_stripe_attempts(state: &AppState, now: DateTime<Utc>) -> Result<usize, PaymentError> {
        let Some(config) = state.stripe.clone() else { return Ok(0) };
        let before = now - Duration::minutes(HEAL_AFTER_MINUTES);
        let attempts = state.store.attempts_to_check(STRIPE_PROVIDER, before, now).await.map_err(store_err)?;
        let mut healed = 0;
        for attempt in attempts {
            match reconcile_stripe_attempt(state, &attempt, now).await {
                Ok(None | Some(EventOutcome::Duplicate | EventOutcome::Applied(Transition::AlreadyThere(_)))) => {}
                Ok(Some(outcome)) => {
                    tracing::info!(attempt_id = attempt.id, ?outcome, "healing: applied what Stripe reports");
                    healed += 1;
                }
                Err(e) => tracing::warn!(attempt_id = attempt.id, error = %e, "healing: not settled this time"),
            }
        }
        if config.refund_overpayments {
            refund_overpayments(state, &config).await?;
        }
        Ok(healed)
    }

    /// Refunds through Stripe every overpayment not refunded yet (one
    /// refund per overpayment, its idempotency key derived from the
    /// overpayment, so a retry never refunds twice) and records each
    /// outcome. Returns how many were refunded.
    pub async fn refund_overpayments(state: &AppState, config: &StripeConfig) -> Result<usize, PaymentError> {
        let due = state.store.overpayments_to_refund(STRIPE_PROVIDER).await.map_err(store_err)?;
        let mut refunded = 0;
        for over in due {
            let intent = match over.payment_intent.clone() {
                Some(pi) => Some(pi),
                None => {
                    // Not in the event: ask the session.
                    let attempt = state.store.get_attempt(over.attempt_id).await.map_err(store_err)?;
                    match attempt.and_then(|a| a.provider_ref) {
                        Some(id) => {
                            stripe_checkout::retrieve_session(config, &id).await.ok().and_then(|s| s.payment_intent)
                        }
                        None => None,
                    }
                }
            };
            let outcome = match intent {
                None => Err("Stripe no informó el pago (PaymentIntent) que hay que reembolsar".to_string()),
                Some(pi) => stripe_checkout::create_refund(config, &pi, over.amount, over.id).await,
            };
            let now = state.clock.now();
            match &outcome {
                Ok(refund_id) => {
                    tracing::info!(overpayment = over.id, order_id = over.order_id, refund = %refund_id, "overpayment refunded");
                    refunded += 1;
                }
                Err(e) => {
                    tracing::warn!(overpayment = over.id, order_id = over.order_id, error = %e, "overpayment refund failed")
                }
            }
            state
                .store
                .record_refund(over.id, outcome.as_deref().map_err(String::as_str), now)
                .await
                .map_err(store_err)?;
        }
        Ok(refunded)
    }

    /// THE shared path for provider events (demo buttons, Stripe webhooks,
    /// the sweep, the return from Checkout): a `Paid` event must match the
    /// order's amount and currency; then the store dedupes, transitions and
    /// records overpayments in one transaction. A Stripe overpayment is
    /// refunded at once when configured.
    pub async fn apply_provider_event(state: &AppState, event: &ProviderEvent) -> Result<EventOutcome, PaymentError> {
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
        let outcome =
            state.store.apply_provider_event(event, state.clock.now(), state.clock.today()).await.map_err(store_err)?;
        if let EventOutcome::Applied(Transition::Moved { to: PaymentStatus::Succeeded, .. }) = outcome {
            // The receipt was issued with the payment; sign it now (a crash
            // here leaves it to the next reader or the start-up pass).
            if let Err(e) = crate::receipts::receipt_of_order(state, attempt.order_id).await {
                tracing::warn!(order_id = attempt.order_id, error = %e, "receipt not signed yet");
            }
        }
        match &outcome {
            EventOutcome::Overpayment { reason } => {
                tracing::warn!(
                    order_id = attempt.order_id,
                    attempt_id = attempt.id,
                    event_id = %event.event_id,
                    reason = %reason,
                    "payment received for an order that cannot take it: recorded as an overpayment to refund"
                );
                if let Some(config) = state.stripe.as_deref().filter(|c| c.refund_overpayments) {
                    if event.provider == STRIPE_PROVIDER {
                        // Failures are recorded and retried by the sweep.
                        let _ = refund_overpayments(state, config).await;
                    }
                }
            }
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
        let (event, method, instructions) = match action {
            DemoAction::PayCard => (paid, Some(Method::Card), None),
            DemoAction::Fail => (PaymentEvent::Declined { reason: "card_declined".into() }, Some(Method::Card), None),
            DemoAction::OxxoPending => {
                let digits: String =
                    random_token().bytes().filter(u8::is_ascii_digit).take(8).map(char::from).collect();
                let number = format!("9300{attempt_id:06}{digits:0<8}");
                // As Stripe's OXXO vouchers: valid until the end of the
                // third day after issue (the order lives as long).
                let expires_at = state.clock.end_of_day(
                    state.clock.now().with_timezone(&state.clock.timezone()).date_naive()
                        + chrono::Days::new(DEMO_OXXO_DAYS),
                );
                let voucher = Instructions::Oxxo { number, expires_at: Some(expires_at), url: None };
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
            instructions,
            payment_intent: None,
        };
        apply_provider_event(state, &event).await?;
        Ok(attempt.order_id)
    }
}

/// The Stripe API calls (async-stripe 1.0): create and retrieve a Checkout
/// Session (with its PaymentIntent), refund a payment.
#[cfg(feature = "ssr")]
mod stripe_api {
    use std::collections::HashMap;

    use ::stripe::{IdempotencyKey, RequestStrategy, StripeRequest};
    use chrono::{DateTime, Utc};
    use stripe_checkout::checkout_session::{
        CreateCheckoutSession, CreateCheckoutSessionAllowedPaymentMethodTypes as Pm,
        CreateCheckoutSessionCustomerCreation, CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData,
        CreateCheckoutSessionPaymentMethodOptions,
        CreateCheckoutSessionPaymentMethodOptionsCustomerBalance as CustomerBalance,
        CreateCheckoutSessionPaymentMethodOptionsCustomerBalanceBankTransfer as BankTransfer,
        CreateCheckoutSessionPaymentMethodOptionsCustomerBalanceBankTransferType as BankTransferType,
        CreateCheckoutSessionPaymentMethodOptionsCustomerBalanceFundingType as FundingType, ProductData,
        RetrieveCheckoutSession,
    };
    use stripe_checkout::{CheckoutSession, CheckoutSessionMode};
    use stripe_core::refund::{CreateRefund, CreateRefundReason};

    use super::{Instructions, PaymentError};
    use crate::domain::money::Centavos;
    use crate::store::{Order, PaymentAttempt};
    use crate::stripe::{IntentDetails, SessionObject, StripeConfig};

    /// What start_checkout needs of a created session.
    pub struct Created {
        pub id: String,
        pub url: String,
    }

    fn unavailable(what: &str, e: impl std::fmt::Display) -> PaymentError {
        tracing::error!(error = %e, "Stripe: {what} failed");
        PaymentError::Unavailable
    }

    /// Creates the attempt's Checkout Session: payment mode, MXN, the
    /// order's total (centavos) as one line, card and OXXO (and SPEI when
    /// configured), the order and attempt ids in metadata, back to the order
    /// page, expiring with the order, with the attempt's idempotency key (so
    /// repeating the request — the healing sweep after a crash — answers the
    /// same session).
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
        let mut request = CreateCheckoutSession::new();
        let mut methods = vec![Pm::Card, Pm::Oxxo];
        if config.spei {
            // SPEI through Stripe's customer balance: a CLABE per customer,
            // so Checkout always creates the customer.
            methods.push(Pm::CustomerBalance);
            let mut balance = CustomerBalance::new();
            balance.funding_type = Some(FundingType::BankTransfer);
            balance.bank_transfer = Some(BankTransfer::new(BankTransferType::MxBankTransfer));
            let mut options = CreateCheckoutSessionPaymentMethodOptions::new();
            options.customer_balance = Some(balance);
            request = request
                .payment_method_options(options)
                .customer_creation(CreateCheckoutSessionCustomerCreation::Always);
        }
        let session: CheckoutSession = request
            .mode(CheckoutSessionMode::Payment)
            .currency(::stripe_types::Currency::MXN)
            .line_items(vec![line])
            .allowed_payment_method_types(methods)
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

    /// Asks Stripe for a Checkout Session with its PaymentIntent expanded
    /// (to resume a checkout, to heal, to show an OXXO voucher).
    pub async fn retrieve_session(config: &StripeConfig, id: &str) -> Result<SessionObject, PaymentError> {
        let client = config.client().map_err(|e| unavailable("building the client", e))?;
        let s: CheckoutSession = RetrieveCheckoutSession::new(id.to_string())
            .expand(vec!["payment_intent".to_string()])
            .send(&client)
            .await
            .map_err(|e| unavailable("retrieving a Checkout Session", e))?;
        let intent = s.payment_intent.as_ref().and_then(|pi| pi.as_object()).map(|pi| IntentDetails {
            status: pi.status.as_str().to_string(),
            instructions: pi.next_action.as_ref().and_then(instructions_of),
        });
        Ok(SessionObject {
            id: s.id.to_string(),
            status: s.status.map(|v| v.as_str().to_string()),
            payment_status: Some(s.payment_status.as_str().to_string()),
            amount_total: s.amount_total,
            currency: s.currency.map(|c| c.to_string().to_ascii_lowercase()),
            metadata: s.metadata,
            payment_method_types: s.payment_method_types,
            url: s.url,
            payment_intent: s.payment_intent.as_ref().map(|pi| pi.id().to_string()),
            intent,
        })
    }

    fn timestamp(t: Option<i64>) -> Option<DateTime<Utc>> {
        t.and_then(|t| DateTime::from_timestamp(t, 0))
    }

    /// The OXXO voucher or the SPEI transfer details of a PaymentIntent's `next_action`.
    fn instructions_of(next: &stripe_shared::PaymentIntentNextAction) -> Option<Instructions> {
        if let Some(oxxo) = &next.oxxo_display_details {
            return Some(Instructions::Oxxo {
                number: oxxo.number.clone()?,
                expires_at: timestamp(oxxo.expires_after),
                url: oxxo.hosted_voucher_url.clone(),
            });
        }
        let transfer = next.display_bank_transfer_instructions.as_ref()?;
        let spei = transfer.financial_addresses.as_ref()?.iter().find_map(|a| a.spei.as_ref())?;
        Some(Instructions::Spei {
            clabe: spei.clabe.clone(),
            bank: spei.bank_name.clone(),
            reference: transfer.reference.clone().unwrap_or_default(),
            expires_at: None,
            url: transfer.hosted_instructions_url.clone(),
        })
    }

    /// Refunds `amount` of PaymentIntent `payment_intent` (an overpayment,
    /// reason `duplicate`). The idempotency key is derived from the
    /// overpayment, so retrying after a crash or a timeout never refunds
    /// twice. `Ok(refund id)`, or the reason it failed (for the record).
    pub async fn create_refund(
        config: &StripeConfig,
        payment_intent: &str,
        amount: Centavos,
        overpayment_id: i64,
    ) -> Result<String, String> {
        let client = config.client().map_err(|e| format!("cliente de Stripe: {e}"))?;
        let key = IdempotencyKey::new(format!("recauda-refund-overpayment-{overpayment_id}"))
            .map_err(|e| format!("llave de idempotencia: {e}"))?;
        let metadata: HashMap<String, String> =
            [("overpayment_id".to_string(), overpayment_id.to_string())].into_iter().collect();
        let refund = CreateRefund::new()
            .payment_intent(payment_intent)
            .amount(amount.0)
            .reason(CreateRefundReason::Duplicate)
            .metadata(metadata)
            .customize()
            .request_strategy(RequestStrategy::Idempotent(key))
            .send(&client)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "Stripe: creating a refund failed");
                format!("Stripe rechazó el reembolso o no respondió: {e}")
            })?;
        match refund.status.as_deref() {
            Some("failed" | "canceled") => {
                Err(format!("Stripe informa el reembolso {} como {:?}", refund.id, refund.status))
            }
            _ => Ok(refund.id.to_string()),
        }
    }
}
