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

use crate::domain::payment::{TransitionError, ONLINE_MINIMUM};
use crate::error::AppError;
use crate::i18n::Lang;

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
    #[error("no online payment provider is configured")]
    NoProvider,
    #[error("the total is under the online minimum")]
    BelowMinimum,
    #[error("the payment provider refused the checkout: {0}")]
    ProviderRefused(String),
    #[error("the payment provider did not answer")]
    ProviderUnavailable,
    #[error("the database is unavailable")]
    Unavailable,
}

impl PaymentError {
    pub fn status(&self) -> u16 {
        match self {
            PaymentError::OrderNotFound | PaymentError::AttemptNotFound => 404,
            PaymentError::NotPayable(_) | PaymentError::Refused(_) => 409,
            PaymentError::BelowMinimum => 422,
            PaymentError::ProviderRefused(_) => 502,
            PaymentError::NoProvider | PaymentError::ProviderUnavailable | PaymentError::Unavailable => 503,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            PaymentError::OrderNotFound => "order_not_found",
            PaymentError::AttemptNotFound => "attempt_not_found",
            PaymentError::NotPayable(_) => "order_not_payable",
            PaymentError::Refused(_) => "event_refused",
            PaymentError::NoProvider => "payments_unavailable",
            PaymentError::BelowMinimum => "below_online_minimum",
            PaymentError::ProviderRefused(_) => "provider_refused",
            PaymentError::ProviderUnavailable => "provider_unavailable",
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
            PaymentError::NoProvider => lang
                .pick(
                    "El pago en línea no está disponible por ahora. Puede pagar este formato de pago en las cajas de la tesorería.",
                    "Online payment is not available right now. You can pay this payment slip at the treasury's cashier windows.",
                )
                .into(),
            PaymentError::BelowMinimum => match lang {
                Lang::Es => format!(
                    "El pago en línea requiere un total de al menos {}. Pague esta orden en las cajas de la tesorería con su formato de pago.",
                    ONLINE_MINIMUM.display_mxn()
                ),
                Lang::En => format!(
                    "Online payment needs a total of at least {}. Pay this order at the treasury's cashier windows with its payment slip.",
                    ONLINE_MINIMUM.display_mxn()
                ),
            },
            PaymentError::ProviderRefused(_) => lang
                .pick(
                    "El procesador de pagos no aceptó iniciar el pago en línea de esta orden. No se cobró nada y sus adeudos quedaron libres: consúltelos de nuevo para generar otra orden, o pague en las cajas de la tesorería.",
                    "The payment processor did not accept to start the online payment of this order. Nothing was charged and your debts are free again: look them up again to make a new order, or pay at the treasury's cashier windows.",
                )
                .into(),
            PaymentError::ProviderUnavailable => lang
                .pick(
                    "El procesador de pagos no respondió. No se cobró nada; su orden sigue vigente: intente «Pagar en línea» de nuevo en unos minutos.",
                    "The payment processor did not answer. Nothing was charged and your order is still valid: try «Pay online» again in a few minutes.",
                )
                .into(),
            PaymentError::Unavailable => lang
                .pick(
                    "El servicio no está disponible por el momento. Intente más tarde.",
                    "The service is unavailable right now. Please try again later.",
                )
                .into(),
        }
    }
}

impl From<PaymentError> for AppError {
    fn from(e: PaymentError) -> AppError {
        AppError::new(e.status(), e.code(), e.message(Lang::Es), e.message(Lang::En))
    }
}

#[cfg(feature = "ssr")]
pub use service::{
    apply_adjustment, apply_provider_event, apply_provider_event_noting, apply_stripe_session_event,
    apply_stripe_session_event_noting, demo_action, heal_event, heal_stripe_attempts, heal_stripe_attempts_within,
    reconcile_stripe_attempt, refund_overpayments, start_checkout, stripe_refresh_worker, Checkout,
    ABANDON_AFTER_MINUTES, DEMO_OXXO_DAYS, HEAL_AFTER_MINUTES, RETRY_CHECK_AFTER_MINUTES, SWEEP_BUDGET,
};

#[cfg(feature = "ssr")]
mod service {
    use chrono::{DateTime, Duration, Utc};

    use super::{DemoAction, PaymentError, ONLINE_MINIMUM};
    use crate::domain::payment::{
        AttemptStatus, EventOutcome, Instructions, Method, OrderStatus, PaymentEvent, Provider, Transition,
        CURRENCY_MXN,
    };
    use crate::state::AppState;
    use crate::store::{
        AdjustmentEvent, AdjustmentOutcome, HealNote, NewAttempt, Order, PaymentAttempt, ProviderEvent, StoreError,
    };
    use crate::stripe::{self, SessionEventKind, SessionObject, StripeConfig, StripeError};
    use crate::tokens::{random_digits, random_token};

    fn stripe_err(e: StripeError) -> PaymentError {
        tracing::error!(error = %e, refused = e.refused, "Stripe call failed");
        PaymentError::ProviderUnavailable
    }

    /// Waits before each repeated "create the session" (the same request,
    /// the same idempotency key): a timeout, a network error or a 5xx is
    /// often gone a moment later.
    const CREATE_BACKOFF_MS: [u64; 2] = [300, 1_200];

    /// An attempt whose Stripe session could not be created for this long
    /// (Stripe unreachable) is abandoned by the sweep: the attempt and its
    /// order fail and the charges are free again. A session Stripe did
    /// create meanwhile and the citizen paid is then an overpayment, to
    /// refund: never applied twice, never lost.
    pub const ABANDON_AFTER_MINUTES: i64 = 60;

    /// Creates the attempt's Checkout Session, repeating the request with
    /// backoff while the failure is transient; a refusal is final at once.
    async fn create_session_retrying(
        config: &StripeConfig,
        order: &Order,
        attempt: &PaymentAttempt,
    ) -> Result<stripe::Created, StripeError> {
        let mut waits = CREATE_BACKOFF_MS.iter();
        loop {
            match stripe::create_session(config, order, attempt).await {
                Err(e) if !e.refused => match waits.next() {
                    Some(ms) => {
                        tracing::warn!(attempt_id = attempt.id, error = %e, "Stripe: creating the session failed; trying again");
                        tokio::time::sleep(std::time::Duration::from_millis(*ms)).await;
                    }
                    None => return Err(e),
                },
                other => return other,
            }
        }
    }

    /// Closes an attempt that can never get its session (Stripe refused
    /// it, or could not be reached for [`ABANDON_AFTER_MINUTES`]): a
    /// `Declined` event through the one provider-event path, so the order
    /// fails and its charges are released at once. `why` names the event
    /// (one per attempt: a repeat is a duplicate).
    async fn close_sessionless_attempt(
        state: &AppState,
        attempt: &PaymentAttempt,
        why: &str,
    ) -> Result<EventOutcome, PaymentError> {
        let event = ProviderEvent {
            provider: Provider::Stripe,
            event_id: format!("{why}_{}", attempt.id),
            attempt_id: attempt.id,
            event: PaymentEvent::Declined { reason: why.to_string() },
            method: None,
            instructions: None,
            payment_intent: None,
            paid_on: None,
        };
        apply_provider_event(state, &event).await
    }

    /// What asking Stripe for an attempt's session came to.
    enum Opening {
        /// The session, recorded as the attempt's `provider_ref`.
        Opened(stripe::Created),
        /// Stripe refused it: the attempt and its order are closed
        /// (`closed`), the charges free; `detail` is Stripe's word.
        Refused { closed: EventOutcome, detail: String },
    }

    /// Gives a pending Stripe attempt without a session its session (the
    /// first try, a "Pagar en línea" pressed again, or the sweep): records
    /// it, or closes the attempt when Stripe refuses. A transient failure
    /// after the retries is an error (nothing changed).
    async fn open_session(
        state: &AppState,
        config: &StripeConfig,
        order: &Order,
        attempt: &PaymentAttempt,
        now: DateTime<Utc>,
    ) -> Result<Opening, PaymentError> {
        match create_session_retrying(config, order, attempt).await {
            Ok(created) => {
                state.store.set_attempt_provider_ref(attempt.id, &created.id, now).await.map_err(store_err)?;
                Ok(Opening::Opened(created))
            }
            Err(e) if e.refused => {
                tracing::warn!(order_id = order.id, attempt_id = attempt.id, error = %e, "Stripe refused the Checkout Session: attempt and order closed, charges released");
                let closed = close_sessionless_attempt(state, attempt, "stripe_refused").await?;
                Ok(Opening::Refused { closed, detail: e.detail })
            }
            Err(e) => Err(stripe_err(e)),
        }
    }

    /// [`open_session`] for a citizen waiting at the checkout: a refusal is
    /// the error page.
    async fn open_session_now(
        state: &AppState,
        config: &StripeConfig,
        order: &Order,
        attempt: &PaymentAttempt,
        now: DateTime<Utc>,
    ) -> Result<stripe::Created, PaymentError> {
        match open_session(state, config, order, attempt, now).await? {
            Opening::Opened(created) => Ok(created),
            Opening::Refused { detail, .. } => Err(PaymentError::ProviderRefused(detail)),
        }
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

    /// The worker behind [`crate::stripe::StripeRefresh`]: asks Stripe about each requested
    /// attempt ([`reconcile_stripe_attempt`]), at most once a second per
    /// attempt (a page refreshing itself every few seconds, a citizen
    /// pressing reload), until the queue closes.
    pub async fn stripe_refresh_worker(state: AppState, mut rx: tokio::sync::mpsc::Receiver<i64>) {
        let mut last_asked: std::collections::HashMap<i64, std::time::Instant> = std::collections::HashMap::new();
        while let Some(attempt_id) = rx.recv().await {
            let now = std::time::Instant::now();
            last_asked.retain(|_, at| now.duration_since(*at) < std::time::Duration::from_secs(60));
            if last_asked.get(&attempt_id).is_some_and(|at| now.duration_since(*at) < std::time::Duration::from_secs(1))
            {
                continue;
            }
            last_asked.insert(attempt_id, now);
            let attempt = match state.store.get_attempt(attempt_id).await {
                Ok(Some(a)) if a.status == AttemptStatus::Pending && a.provider == Provider::Stripe => a,
                Ok(_) => continue,
                Err(e) => {
                    tracing::warn!(attempt_id, error = %e, "Stripe refresh: attempt unreadable");
                    continue;
                }
            };
            let asked = reconcile_stripe_attempt(&state, &attempt, state.clock.now());
            match tokio::time::timeout(std::time::Duration::from_secs(20), asked).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(attempt_id, error = %e, "Stripe refresh: not settled"),
                Err(_) => tracing::warn!(attempt_id, "Stripe refresh: Stripe did not answer in time"),
            }
        }
    }

    /// A started checkout: the attempt and where to send the citizen.
    #[derive(Clone, Debug)]
    pub struct Checkout {
        pub attempt: PaymentAttempt,
        pub redirect_url: String,
    }

    /// The demo checkout of an order: addressed, like the order, by its token.
    fn demo_url(order: &Order) -> String {
        format!("/prueba/pago/{}", order.token)
    }

    /// Starts (or resumes) the online payment of a live order. A created
    /// order gets a new attempt and becomes pending; a pending order whose
    /// last attempt is still pending resumes it (the citizen came back and
    /// pressed "Pagar en línea" again): never two open checkouts.
    #[tracing::instrument(name = "payments.start_checkout", skip(state))]
    pub async fn start_checkout(state: &AppState, order_id: i64) -> Result<Checkout, PaymentError> {
        let now = state.clock.now();
        state.store.expire_due_orders(now).await.map_err(store_err)?;
        let order = state.store.get_order(order_id).await.map_err(store_err)?.ok_or(PaymentError::OrderNotFound)?;
        match order.status {
            OrderStatus::Created => {
                let provider = state.online_provider().ok_or(PaymentError::NoProvider)?;
                // Stripe refuses less than its minimum: say so before any attempt.
                if order.total < ONLINE_MINIMUM {
                    return Err(PaymentError::BelowMinimum);
                }
                let attempt = state
                    .store
                    .start_attempt(
                        &NewAttempt {
                            order_id,
                            provider,
                            provider_ref: None,
                            idempotency_key: format!("order-{order_id}-{}", random_token()),
                            amount: order.total,
                        },
                        now,
                    )
                    .await
                    .map_err(store_err)?;
                let stripe = match (provider, state.stripe.clone()) {
                    (Provider::Stripe, Some(stripe)) => stripe,
                    _ => {
                        tracing::info!(order_id, attempt_id = attempt.id, "payment attempt started (demo provider)");
                        return Ok(Checkout { redirect_url: demo_url(&order), attempt });
                    }
                };
                let session = open_session_now(state, &stripe, &order, &attempt, now).await?;
                tracing::info!(order_id, attempt_id = attempt.id, session = %session.id, "payment attempt started (Stripe Checkout)");
                let attempt = PaymentAttempt { provider_ref: Some(session.id), ..attempt };
                Ok(Checkout { redirect_url: session.url, attempt })
            }
            OrderStatus::Pending => {
                let attempts = state.store.attempts_of_order(order_id).await.map_err(store_err)?;
                match attempts.into_iter().rev().find(|a| a.status == AttemptStatus::Pending) {
                    Some(attempt) if attempt.provider == Provider::Demo => {
                        if !state.demo_payments {
                            return Err(PaymentError::NoProvider);
                        }
                        Ok(Checkout { redirect_url: demo_url(&order), attempt })
                    }
                    Some(attempt) if attempt.provider_ref.is_none() && state.stripe.is_some() => {
                        // The first try never got its session (Stripe did not
                        // answer): the same request again, the same key.
                        let stripe = state.stripe.clone().expect("checked");
                        let session = open_session_now(state, &stripe, &order, &attempt, now).await?;
                        let attempt = PaymentAttempt { provider_ref: Some(session.id), ..attempt };
                        Ok(Checkout { redirect_url: session.url, attempt })
                    }
                    Some(attempt) => {
                        let (Some(stripe), Some(session_id)) = (state.stripe.clone(), attempt.provider_ref.clone())
                        else {
                            return Err(PaymentError::NotPayable(order.status.label_es().into()));
                        };
                        let session = stripe::retrieve_session(&stripe, &session_id).await.map_err(stripe_err)?;
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
    /// deadline (webhook payloads do not carry them). `reported_at` is the
    /// event's time (a webhook's `created`): the payment's date when the
    /// session does not tell when its charge was made.
    #[tracing::instrument(name = "payments.apply_stripe_session_event", skip(state, session), fields(session = %session.id))]
    pub async fn apply_stripe_session_event(
        state: &AppState,
        event_id: &str,
        kind: SessionEventKind,
        session: &SessionObject,
        reported_at: Option<DateTime<Utc>>,
    ) -> Result<EventOutcome, PaymentError> {
        apply_stripe_session_event_noting(state, event_id, kind, session, reported_at, None).await
    }

    /// [`apply_stripe_session_event`], with the treasury's reconciliation
    /// noted in the event's transaction when it heals (`note`).
    #[tracing::instrument(name = "payments.apply_stripe_session_event_noting", skip_all, fields(session = %session.id))]
    pub async fn apply_stripe_session_event_noting(
        state: &AppState,
        event_id: &str,
        kind: SessionEventKind,
        session: &SessionObject,
        reported_at: Option<DateTime<Utc>>,
        note: Option<&HealNote>,
    ) -> Result<EventOutcome, PaymentError> {
        let attempt_id = session.attempt_id().ok_or(PaymentError::AttemptNotFound)?;
        let attempt =
            state.store.get_attempt(attempt_id).await.map_err(store_err)?.ok_or(PaymentError::AttemptNotFound)?;
        if attempt.provider != Provider::Stripe
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
        let paid = matches!(session.payment_status.as_deref(), Some("paid" | "no_payment_required"));
        let awaiting = kind == SessionEventKind::Completed && !paid;
        // A payment whose amount or currency the event leaves out is never
        // judged on the event: Stripe's own session decides.
        let incomplete = (paid || kind == SessionEventKind::AsyncPaymentSucceeded)
            && (session.amount_total.is_none() || session.currency.is_none());
        let detailed;
        let session = match (&state.stripe, (awaiting && session.intent.is_none()) || incomplete) {
            (Some(config), true) => match stripe::retrieve_session(config, &session.id).await {
                Ok(s) => {
                    detailed = s;
                    &detailed
                }
                // Not applied: Stripe retries the webhook, the sweep asks again.
                Err(e) if incomplete => {
                    tracing::warn!(error = %e, "a payment event without its amount, and Stripe could not be asked");
                    return Err(PaymentError::Unavailable);
                }
                // Applied without the voucher; the sweep fills it in later.
                Err(_) => session,
            },
            _ => session,
        };
        // When the money was taken: the charge's time when Stripe told it,
        // else when Stripe learnt of the payment (the event's time).
        // Never before the attempt began nor after now, whatever the clocks.
        let paid_at = session.intent.as_ref().and_then(|i| i.paid_at).or(reported_at);
        let paid_on = paid_at
            .map(|t| t.max(attempt.created_at).min(state.clock.now()))
            .map(|t| t.with_timezone(&state.clock.timezone()).date_naive());
        let event = stripe::provider_event(event_id, kind, session, attempt.id, paid_on);
        apply_provider_event_noting(state, &event, note).await
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
    #[tracing::instrument(name = "payments.reconcile_stripe_attempt", skip_all, fields(attempt_id = attempt.id))]
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
                match open_session(state, &config, &order, attempt, now).await {
                    Ok(Opening::Opened(created)) => {
                        tracing::info!(attempt_id = attempt.id, session = %created.id, "healing: recovered the session id of an attempt");
                        created.id
                    }
                    // Refused: the attempt and its order are closed now.
                    Ok(Opening::Refused { closed, .. }) => return Ok(Some(closed)),
                    Err(e) if now - attempt.created_at >= Duration::minutes(ABANDON_AFTER_MINUTES) => {
                        tracing::warn!(attempt_id = attempt.id, error = %e, "healing: no session after the grace period; attempt abandoned, charges released");
                        return close_sessionless_attempt(state, attempt, "no_session").await.map(Some);
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        let session = stripe::retrieve_session(&config, &session_id).await.map_err(stripe_err)?;
        let healing = heal_event(&session, attempt);
        let kind = healing.as_ref().map(|(_, kind)| *kind);
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
        let Some((event_id, kind)) = healing else { return Ok(None) };
        apply_stripe_session_event(state, &event_id, kind, &session, None).await.map(Some)
    }

    /// What a retrieved session of `attempt` means, as the healing sweep
    /// applies it: the session event and its id, derived from what Stripe
    /// reports (asking again about an unchanged session gives the same id,
    /// a duplicate); `None` while the session is open. The treasury's
    /// reconciliation heals with the same event.
    pub fn heal_event(session: &SessionObject, attempt: &PaymentAttempt) -> Option<(String, SessionEventKind)> {
        let intent_status = session.intent.as_ref().map(|i| i.status.as_str()).unwrap_or("");
        let is_async = session.async_method().is_some() || attempt.method.is_some_and(|m| m != Method::Card);
        let kind = match (session.status.as_deref(), session.payment_status.as_deref()) {
            (Some("complete"), Some("paid")) if is_async => SessionEventKind::AsyncPaymentSucceeded,
            (Some("complete"), Some("paid" | "no_payment_required")) => SessionEventKind::Completed,
            // The voucher (or transfer) ran out unpaid: Stripe cancels the
            // PaymentIntent or asks for another payment method.
            (Some("complete"), _) if matches!(intent_status, "canceled" | "requires_payment_method") => {
                SessionEventKind::AsyncPaymentFailed
            }
            (Some("complete"), _) => SessionEventKind::Completed,
            (Some("expired"), _) => SessionEventKind::Expired,
            _ => return None,
        };
        let event_id = format!(
            "heal_{}_{}_{}_{intent_status}",
            session.id,
            session.status.as_deref().unwrap_or(""),
            session.payment_status.as_deref().unwrap_or("")
        );
        Some((event_id, kind))
    }

    /// The longest one healing sweep keeps asking Stripe: what is left
    /// waits for the next run (every request to Stripe has its own time
    /// limit too), so a slow Stripe never makes a sweep outlive its lease.
    pub const SWEEP_BUDGET: std::time::Duration = std::time::Duration::from_secs(120);
    /// When an attempt could not be settled by a sweep, the next one asks
    /// about it after the attempts that were not asked yet.
    pub const RETRY_CHECK_AFTER_MINUTES: i64 = 5;

    /// The healing sweep: [`reconcile_stripe_attempt`] for every pending
    /// Stripe attempt created at least [`HEAL_AFTER_MINUTES`] before `now`
    /// that is due (a lost webhook, or a crash between Stripe's success and
    /// our commit, heals here), longest-waiting first, for at most
    /// [`SWEEP_BUDGET`]; then [`refund_overpayments`] when configured.
    /// Returns how many attempts changed something.
    pub async fn heal_stripe_attempts(state: &AppState, now: DateTime<Utc>) -> Result<usize, PaymentError> {
        heal_stripe_attempts_within(state, now, SWEEP_BUDGET).await
    }

    /// [`heal_stripe_attempts`] with another time budget.
    #[tracing::instrument(name = "payments.heal_stripe_attempts", skip_all)]
    pub async fn heal_stripe_attempts_within(
        state: &AppState,
        now: DateTime<Utc>,
        budget: std::time::Duration,
    ) -> Result<usize, PaymentError> {
        let Some(config) = state.stripe.clone() else { return Ok(0) };
        let started = std::time::Instant::now();
        let before = now - Duration::minutes(HEAL_AFTER_MINUTES);
        let attempts = state.store.attempts_to_check(Provider::Stripe, before, now).await.map_err(store_err)?;
        let total = attempts.len();
        let mut healed = 0;
        for (asked, attempt) in attempts.into_iter().enumerate() {
            if started.elapsed() >= budget {
                tracing::warn!(
                    left = total - asked,
                    "healing sweep: time budget spent, the rest waits for the next run"
                );
                break;
            }
            match reconcile_stripe_attempt(state, &attempt, now).await {
                Ok(None | Some(EventOutcome::Duplicate | EventOutcome::Applied(Transition::AlreadyThere(_)))) => {}
                Ok(Some(outcome)) => {
                    tracing::info!(attempt_id = attempt.id, ?outcome, "healing: applied what Stripe reports");
                    healed += 1;
                }
                Err(e) => {
                    tracing::warn!(attempt_id = attempt.id, error = %e, "healing: not settled this time");
                    let next = now + Duration::minutes(RETRY_CHECK_AFTER_MINUTES);
                    state.store.set_attempt_next_check(attempt.id, next).await.map_err(store_err)?;
                }
            }
        }
        if config.refund_overpayments && started.elapsed() < budget {
            refund_overpayments(state, &config).await?;
        }
        Ok(healed)
    }

    /// Refunds through Stripe every overpayment not refunded yet (one
    /// refund per overpayment, its idempotency key derived from the
    /// overpayment, so a retry never refunds twice) and records each
    /// outcome. Returns how many were refunded.
    #[tracing::instrument(name = "payments.refund_overpayments", skip_all)]
    pub async fn refund_overpayments(state: &AppState, config: &StripeConfig) -> Result<usize, PaymentError> {
        let due = state.store.overpayments_to_refund(Provider::Stripe).await.map_err(store_err)?;
        let mut refunded = 0;
        for over in due {
            let intent = match over.payment_intent.clone() {
                Some(pi) => Some(pi),
                None => {
                    // Not in the event: ask the session.
                    let attempt = state.store.get_attempt(over.attempt_id).await.map_err(store_err)?;
                    match attempt.and_then(|a| a.provider_ref) {
                        Some(id) => stripe::retrieve_session(config, &id).await.ok().and_then(|s| s.payment_intent),
                        None => None,
                    }
                }
            };
            let outcome = match intent {
                None => Err("Stripe no informó el pago (PaymentIntent) que hay que reembolsar".to_string()),
                Some(pi) => stripe::create_refund(config, &pi, over.amount, over.id).await,
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
    /// the sweep, the return from Checkout): in one transaction the store
    /// dedupes, checks that money is the order's amount and currency,
    /// transitions, records overpayments and issues the receipt
    /// ([`crate::store::Store::apply_provider_event`]). A Stripe
    /// overpayment is refunded at once when configured.
    #[tracing::instrument(name = "payments.apply_provider_event", skip_all, fields(provider = %event.provider, attempt_id = event.attempt_id))]
    pub async fn apply_provider_event(state: &AppState, event: &ProviderEvent) -> Result<EventOutcome, PaymentError> {
        apply_provider_event_noting(state, event, None).await
    }

    /// [`apply_provider_event`], with the treasury's reconciliation noted
    /// (audited `reconciliation.healed`) in the event's own transaction.
    pub async fn apply_provider_event_noting(
        state: &AppState,
        event: &ProviderEvent,
        note: Option<&HealNote>,
    ) -> Result<EventOutcome, PaymentError> {
        let outcome = state
            .store
            .apply_provider_event_noting(event, state.clock.now(), state.clock.today(), &state.receipt_keys, note)
            .await
            .map_err(store_err)?;
        match &outcome {
            EventOutcome::Discrepancy { reason, .. } => {
                tracing::warn!(
                    attempt_id = event.attempt_id,
                    event_id = %event.event_id,
                    reason = %reason,
                    "payment reported in another amount or currency than its order's: recorded as a discrepancy for the treasury, order closed"
                );
                if let Some(config) = state.stripe.as_deref().filter(|c| c.refund_overpayments) {
                    if event.provider == Provider::Stripe {
                        let _ = refund_overpayments(state, config).await;
                    }
                }
            }
            EventOutcome::Overpayment { reason } => {
                tracing::warn!(
                    attempt_id = event.attempt_id,
                    event_id = %event.event_id,
                    reason = %reason,
                    "payment received for an order that cannot take it: recorded as an overpayment to refund"
                );
                if let Some(config) = state.stripe.as_deref().filter(|c| c.refund_overpayments) {
                    if event.provider == Provider::Stripe {
                        // Failures are recorded and retried by the sweep.
                        let _ = refund_overpayments(state, config).await;
                    }
                }
            }
            other => tracing::info!(
                attempt_id = event.attempt_id,
                event_id = %event.event_id,
                outcome = ?other,
                "provider event"
            ),
        }
        Ok(outcome)
    }

    /// A refund or a dispute the provider reported
    /// ([`crate::store::Store::apply_adjustment`]): recorded for the
    /// treasury; money gone for good cancels the receipt and reopens the
    /// charges.
    #[tracing::instrument(name = "payments.apply_adjustment", skip_all, fields(kind = %event.kind, event_id = %event.event_id))]
    pub async fn apply_adjustment(
        state: &AppState,
        event: &AdjustmentEvent,
    ) -> Result<AdjustmentOutcome, PaymentError> {
        let outcome = state.store.apply_adjustment(event, state.clock.now()).await.map_err(store_err)?;
        match &outcome {
            AdjustmentOutcome::Recorded { order_id, cancelled: Some(folio) } => tracing::warn!(
                order_id,
                %folio,
                kind = %event.kind,
                provider_ref = %event.provider_ref,
                "money taken back: receipt cancelled, charges owed again"
            ),
            AdjustmentOutcome::Recorded { order_id, cancelled: None } => tracing::warn!(
                order_id,
                kind = %event.kind,
                amount = %event.amount,
                provider_ref = %event.provider_ref,
                "refund or dispute recorded for the treasury"
            ),
            AdjustmentOutcome::NotOurs => {
                tracing::info!(payment_intent = %event.payment_intent, "refund or dispute of a payment that is not ours")
            }
            AdjustmentOutcome::Duplicate => {}
        }
        Ok(outcome)
    }

    /// One demo checkout button on the order `order_id`'s open demo
    /// attempt: builds the event (a fresh event id, the attempt's own
    /// amount) and applies it through [`apply_provider_event`].
    #[tracing::instrument(name = "payments.demo_action", skip(state))]
    pub async fn demo_action(state: &AppState, order_id: i64, action: DemoAction) -> Result<(), PaymentError> {
        let attempts = state.store.attempts_of_order(order_id).await.map_err(store_err)?;
        let attempt = attempts
            .into_iter()
            .rev()
            .find(|a| a.status == AttemptStatus::Pending && a.provider == Provider::Demo)
            .ok_or(PaymentError::AttemptNotFound)?;
        let attempt_id = attempt.id;
        if !state.demo_payments {
            // An attempt left from a demonstration: nothing may "pay" it now.
            return Err(PaymentError::NoProvider);
        }
        let paid = PaymentEvent::Paid { amount: attempt.amount, currency: CURRENCY_MXN.into() };
        let (event, method, instructions) = match action {
            DemoAction::PayCard => (paid, Some(Method::Card), None),
            DemoAction::Fail => (PaymentEvent::Declined { reason: "card_declined".into() }, Some(Method::Card), None),
            DemoAction::OxxoPending => {
                let number = format!("9300{attempt_id:06}{}", random_digits(8));
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
                if attempt.method != Some(Method::Oxxo) {
                    return Err(PaymentError::NotPayable("sin ficha OXXO".into()));
                }
                (paid, Some(Method::Oxxo), None)
            }
        };
        let event = ProviderEvent {
            provider: Provider::Demo,
            event_id: format!("demo_evt_{}", random_token()),
            attempt_id,
            event,
            method,
            instructions,
            payment_intent: None,
            paid_on: None,
        };
        apply_provider_event(state, &event).await?;
        Ok(())
    }
}
