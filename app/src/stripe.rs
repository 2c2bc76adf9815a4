//! Stripe: its configuration (secrets that never print), the three API
//! calls used (create and retrieve a Checkout Session with its
//! PaymentIntent, refund a payment; async-stripe 1.0 over rustls), the
//! `Stripe-Signature` check, and the mapping of `checkout.session.*` events
//! onto [`ProviderEvent`]s, which `crate::payments` applies through its one
//! shared path. This module knows nothing of the services above it.

use std::collections::HashMap;
use std::fmt;

use ::stripe::{IdempotencyKey, RequestStrategy, StripeRequest};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionAllowedPaymentMethodTypes as Pm, CreateCheckoutSessionCustomerCreation,
    CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData, CreateCheckoutSessionPaymentIntentData,
    CreateCheckoutSessionPaymentMethodOptions,
    CreateCheckoutSessionPaymentMethodOptionsCustomerBalance as CustomerBalance,
    CreateCheckoutSessionPaymentMethodOptionsCustomerBalanceBankTransfer as BankTransfer,
    CreateCheckoutSessionPaymentMethodOptionsCustomerBalanceBankTransferType as BankTransferType,
    CreateCheckoutSessionPaymentMethodOptionsCustomerBalanceFundingType as FundingType, ProductData,
    RetrieveCheckoutSession,
};
use stripe_checkout::{CheckoutSession, CheckoutSessionMode};
use stripe_core::refund::{CreateRefund, CreateRefundReason};

use crate::domain::money::Centavos;
use crate::domain::payment::{AdjustmentKind, Instructions, Method, PaymentEvent, Provider};
use crate::store::{AdjustmentEvent, Order, PaymentAttempt, ProviderEvent};

/// Requests to ask Stripe, in the background, about attempts whose
/// citizen just came back from Checkout (the order page never calls
/// Stripe while it renders). Cheap to clone; a request never waits: when
/// the queue is full it is dropped, and the page's next refresh asks again.
#[derive(Clone, Default)]
pub struct StripeRefresh {
    tx: Option<tokio::sync::mpsc::Sender<i64>>,
    rx: std::sync::Arc<std::sync::Mutex<Option<tokio::sync::mpsc::Receiver<i64>>>>,
}

impl StripeRefresh {
    /// A queue for [`crate::payments::stripe_refresh_worker`] (with Stripe configured).
    pub fn new() -> StripeRefresh {
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        StripeRefresh { tx: Some(tx), rx: std::sync::Arc::new(std::sync::Mutex::new(Some(rx))) }
    }

    /// No Stripe: requests go nowhere.
    pub fn disabled() -> StripeRefresh {
        StripeRefresh::default()
    }

    pub fn request(&self, attempt_id: i64) {
        if let Some(tx) = &self.tx {
            let _ = tx.try_send(attempt_id);
        }
    }

    /// The receiving end, for the one worker that serves it.
    pub fn take_receiver(&self) -> Option<tokio::sync::mpsc::Receiver<i64>> {
        self.rx.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// How old (or how far ahead) a signed webhook may be: 5 minutes, as Stripe's libraries.
pub const SIGNATURE_TOLERANCE_SECS: i64 = 300;

/// A secret (API key, webhook secret): its `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself: only for the Stripe client and the HMAC.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Stripe's settings (`RECAUDA_STRIPE_*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StripeConfig {
    pub secret_key: Secret,
    /// `whsec_…` (`RECAUDA_STRIPE_WEBHOOK_SECRET`): without it every
    /// webhook is refused.
    pub webhook_secret: Option<Secret>,
    /// The endpoint's previous secret while Stripe rolls it
    /// (`RECAUDA_STRIPE_WEBHOOK_SECRET_PREVIOUS`): during a rotation Stripe
    /// signs with both for up to 24 h, and either is accepted.
    pub webhook_secret_previous: Option<Secret>,
    /// Another API base URL (tests: the in-process fake); default Stripe's.
    pub api_base: Option<String>,
    /// The portal's public URL, for Checkout's success and cancel URLs.
    pub public_url: String,
    /// Offer SPEI bank transfers (Stripe's `customer_balance`, `mx_bank_transfer`)
    /// besides card and OXXO (`RECAUDA_STRIPE_SPEI`).
    pub spei: bool,
    /// Refund overpayments through Stripe as soon as they are recorded
    /// (`RECAUDA_STRIPE_REFUND_OVERPAYMENTS`); otherwise they wait for the
    /// treasury to refund them by hand.
    pub refund_overpayments: bool,
}

impl StripeConfig {
    /// The webhook secrets a signature may match: the current one, then the
    /// previous one during a rotation.
    pub fn webhook_secrets(&self) -> Vec<&str> {
        self.webhook_secret.iter().chain(self.webhook_secret_previous.iter()).map(Secret::expose).collect()
    }

    /// An async-stripe client for these settings.
    pub fn client(&self) -> Result<::stripe::Client, ::stripe::StripeError> {
        let mut builder = ::stripe::ClientBuilder::new(self.secret_key.expose()).timeout(REQUEST_TIMEOUT);
        if let Some(base) = &self.api_base {
            let base = if base.ends_with('/') { base.clone() } else { format!("{base}/") };
            builder = builder.url(base);
        }
        builder.build()
    }
}

/// Why a `Stripe-Signature` was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing or malformed Stripe-Signature header")]
    Malformed,
    #[error("no v1 signature matches the payload")]
    Mismatch,
    #[error("the signature's timestamp is outside the 5-minute tolerance")]
    Stale,
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// The `Stripe-Signature` header Stripe would send: `t=…,v1=…`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", hex(&mac(secret, timestamp, body).finalize().into_bytes()))
}

/// At most this many `v1` signatures are tried (Stripe sends one per
/// secret in force, so two during a rotation); a header with more is refused.
pub const MAX_SIGNATURES: usize = 8;
/// A `Stripe-Signature` longer than this is refused unread.
pub const MAX_SIGNATURE_HEADER: usize = 2048;

/// Verifies a `Stripe-Signature` header over the raw body as Stripe
/// specifies: `t` is the timestamp, any `v1` may match the HMAC-SHA256 of
/// `"{t}.{body}"` under any of `secrets` (compared in constant time), and
/// `t` must be within 5 minutes of `now`. Returns the timestamp.
///
/// The header is untrusted input: more than one `t`, a `t` that is not a
/// decimal i64, more than [`MAX_SIGNATURES`] `v1`s or a header longer than
/// [`MAX_SIGNATURE_HEADER`] are malformed; a `v1` that is not 64 hex
/// digits simply matches nothing; i64 extremes are merely stale.
pub fn verify_signature(
    header: &str,
    body: &[u8],
    secrets: &[&str],
    now: DateTime<Utc>,
) -> Result<i64, SignatureError> {
    if header.len() > MAX_SIGNATURE_HEADER {
        return Err(SignatureError::Malformed);
    }
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => {
                if timestamp.is_some() {
                    return Err(SignatureError::Malformed);
                }
                let digits = v.strip_prefix('-').unwrap_or(v);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(SignatureError::Malformed);
                }
                timestamp = Some(v.parse::<i64>().map_err(|_| SignatureError::Malformed)?);
            }
            Some(("v1", v)) => {
                if candidates.len() == MAX_SIGNATURES {
                    return Err(SignatureError::Malformed);
                }
                candidates.push(v);
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if candidates.is_empty() || secrets.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let signatures: Vec<Vec<u8>> = candidates.iter().filter(|c| c.len() == 64).filter_map(|c| unhex(c)).collect();
    let matches = secrets.iter().any(|secret| {
        let expected = mac(secret, timestamp, body);
        signatures.iter().any(|sig| expected.clone().verify_slice(sig).is_ok())
    });
    if !matches {
        return Err(SignatureError::Mismatch);
    }
    if now.timestamp().abs_diff(timestamp) > SIGNATURE_TOLERANCE_SECS.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    Ok(timestamp)
}

/// The fields of a Checkout Session this portal reads.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct SessionObject {
    pub id: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub payment_status: Option<String>,
    #[serde(default)]
    pub amount_total: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub metadata: Option<HashMap<String, String>>,
    #[serde(default)]
    pub payment_method_types: Vec<String>,
    #[serde(default)]
    pub url: Option<String>,
    /// The PaymentIntent's id: a string in webhook payloads (an object when
    /// expanded, read into [`SessionObject::intent`] by the client).
    #[serde(default, deserialize_with = "id_or_object")]
    pub payment_intent: Option<String>,
    /// What the expanded PaymentIntent tells (a retrieved session only).
    #[serde(skip)]
    pub intent: Option<IntentDetails>,
}

/// The parts of a PaymentIntent this portal reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntentDetails {
    /// `requires_action` (voucher issued, transfer awaited), `succeeded`,
    /// `requires_payment_method` / `canceled` (voucher expired), …
    pub status: String,
    /// The OXXO voucher or the SPEI transfer details (`next_action`).
    pub instructions: Option<Instructions>,
    /// When its charge was made (`latest_charge.created`, expanded): when
    /// the money was taken.
    pub paid_at: Option<DateTime<Utc>>,
}

fn id_or_object<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum IdOrObject {
        Id(String),
        Object { id: String },
    }
    Ok(Option::<IdOrObject>::deserialize(d)?.map(|v| match v {
        IdOrObject::Id(id) | IdOrObject::Object { id } => id,
    }))
}

impl SessionObject {
    /// The asynchronous method this session waits on or was paid by: what
    /// the PaymentIntent's instructions say, else the only asynchronous
    /// method the session offered.
    pub fn async_method(&self) -> Option<Method> {
        if let Some(i) = self.intent.as_ref().and_then(|i| i.instructions.as_ref()) {
            return Some(i.method());
        }
        let offered: Vec<Method> = self
            .payment_method_types
            .iter()
            .filter_map(|t| match t.as_str() {
                "oxxo" => Some(Method::Oxxo),
                "customer_balance" => Some(Method::Spei),
                _ => None,
            })
            .collect();
        match offered.as_slice() {
            [only] => Some(*only),
            _ => None,
        }
    }

    /// The attempt id this portal put in the session's metadata.
    pub fn attempt_id(&self) -> Option<i64> {
        self.metadata.as_ref()?.get("attempt_id")?.parse().ok()
    }

    pub fn order_id(&self) -> Option<i64> {
        self.metadata.as_ref()?.get("order_id")?.parse().ok()
    }
}

/// The `checkout.session.*` events handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEventKind {
    Completed,
    AsyncPaymentSucceeded,
    AsyncPaymentFailed,
    Expired,
}

impl SessionEventKind {
    pub fn parse(event_type: &str) -> Option<Self> {
        match event_type {
            "checkout.session.completed" => Some(Self::Completed),
            "checkout.session.async_payment_succeeded" => Some(Self::AsyncPaymentSucceeded),
            "checkout.session.async_payment_failed" => Some(Self::AsyncPaymentFailed),
            "checkout.session.expired" => Some(Self::Expired),
            _ => None,
        }
    }
}

/// A webhook body, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebhookEvent {
    Session {
        event_id: String,
        kind: SessionEventKind,
        session: Box<SessionObject>,
        /// When Stripe created the event (when it learnt of the payment).
        created: Option<DateTime<Utc>>,
    },
    /// `charge.refunded`, `charge.dispute.created`, `charge.dispute.closed`:
    /// money already taken, refunded or disputed.
    Adjustment(Box<AdjustmentEvent>),
    /// Any other event type (or a charge without a payment id): answered
    /// 200 and ignored.
    Ignored { event_id: String, event_type: String },
}

/// A Stripe object's id where it may be a string or an expanded object.
fn id_of(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Object(o) => o.get("id").and_then(|i| i.as_str()).map(str::to_string),
        _ => None,
    }
}

#[derive(Deserialize)]
struct ChargeObject {
    id: String,
    amount: i64,
    amount_refunded: i64,
    #[serde(default)]
    refunded: bool,
    #[serde(default)]
    payment_intent: serde_json::Value,
}

#[derive(Deserialize)]
struct DisputeObject {
    id: String,
    amount: i64,
    status: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    payment_intent: serde_json::Value,
}

/// A refund or dispute event as an [`AdjustmentEvent`]; `None` for a
/// charge or dispute without a payment id (not a Checkout payment).
fn adjustment(
    event_id: &str,
    event_type: &str,
    object: serde_json::Value,
) -> Result<Option<AdjustmentEvent>, serde_json::Error> {
    let event = |payment_intent: Option<String>, kind, amount: i64, provider_ref: String, detail| {
        payment_intent.map(|payment_intent| AdjustmentEvent {
            provider: Provider::Stripe,
            event_id: event_id.to_string(),
            payment_intent,
            kind,
            amount: Centavos(amount.max(0)),
            provider_ref,
            detail,
        })
    };
    Ok(match event_type {
        "charge.refunded" => {
            let c: ChargeObject = serde_json::from_value(object)?;
            // Stripe marks a charge `refunded` once all of it is.
            let kind = if c.refunded || c.amount_refunded >= c.amount {
                AdjustmentKind::Refund
            } else {
                AdjustmentKind::PartialRefund
            };
            event(id_of(&c.payment_intent), kind, c.amount_refunded, c.id, None)
        }
        "charge.dispute.created" | "charge.dispute.closed" => {
            let d: DisputeObject = serde_json::from_value(object)?;
            let kind = match (event_type, d.status.as_str()) {
                ("charge.dispute.created", _) => AdjustmentKind::DisputeOpened,
                (_, "lost") => AdjustmentKind::DisputeLost,
                // won, warning_closed (an inquiry that never became a
                // dispute), charge_refunded (the refund event says it).
                _ => AdjustmentKind::DisputeWon,
            };
            let detail = Some(format!("{} ({})", d.reason.unwrap_or_else(|| "sin motivo".into()), d.status));
            event(id_of(&d.payment_intent), kind, d.amount, d.id, detail)
        }
        _ => None,
    })
}

#[derive(Deserialize)]
struct RawEvent {
    id: String,
    #[serde(rename = "type")]
    event_type: String,
    #[serde(default)]
    created: Option<i64>,
    data: RawData,
}

#[derive(Deserialize)]
struct RawData {
    object: serde_json::Value,
}

/// Parses a (verified) webhook body.
pub fn parse_event(body: &[u8]) -> Result<WebhookEvent, serde_json::Error> {
    let raw: RawEvent = serde_json::from_slice(body)?;
    if raw.event_type.starts_with("charge.") {
        return Ok(match adjustment(&raw.id, &raw.event_type, raw.data.object)? {
            Some(a) => WebhookEvent::Adjustment(Box::new(a)),
            None => WebhookEvent::Ignored { event_id: raw.id, event_type: raw.event_type },
        });
    }
    match SessionEventKind::parse(&raw.event_type) {
        None => Ok(WebhookEvent::Ignored { event_id: raw.id, event_type: raw.event_type }),
        Some(kind) => {
            let session: Box<SessionObject> = serde_json::from_value(raw.data.object)?;
            Ok(WebhookEvent::Session { event_id: raw.id, kind, session, created: timestamp(raw.created) })
        }
    }
}

/// The provider event a session event means for `attempt_id`: completed and
/// paid → `Paid` (card); completed and unpaid → `AwaitingAsync` (OXXO or
/// SPEI, with the voucher or transfer details when the session was
/// retrieved with its PaymentIntent); async succeeded → `Paid`; async
/// failed → `AsyncFailed`; expired → `Expired`.
pub fn provider_event(
    event_id: &str,
    kind: SessionEventKind,
    session: &SessionObject,
    attempt_id: i64,
    paid_on: Option<chrono::NaiveDate>,
) -> ProviderEvent {
    let paid = || PaymentEvent::Paid {
        amount: Centavos(session.amount_total.unwrap_or(0)),
        currency: session.currency.clone().unwrap_or_default().to_ascii_lowercase(),
    };
    let async_method = session.async_method();
    let (event, method) = match kind {
        SessionEventKind::Completed if session.payment_status.as_deref() == Some("paid") => {
            (paid(), Some(Method::Card))
        }
        SessionEventKind::Completed if session.payment_status.as_deref() == Some("no_payment_required") => {
            (paid(), None)
        }
        SessionEventKind::Completed => (PaymentEvent::AwaitingAsync, async_method),
        SessionEventKind::AsyncPaymentSucceeded => (paid(), async_method),
        SessionEventKind::AsyncPaymentFailed => (PaymentEvent::AsyncFailed, async_method),
        SessionEventKind::Expired => (PaymentEvent::Expired, None),
    };
    ProviderEvent {
        provider: Provider::Stripe,
        event_id: event_id.to_string(),
        attempt_id,
        event,
        method,
        instructions: session.intent.as_ref().and_then(|i| i.instructions.clone()),
        payment_intent: session.payment_intent.clone(),
        paid_on,
    }
}

// ---------------------------------------------------------------- the API calls

/// What start_checkout needs of a created session.
pub struct Created {
    pub id: String,
    pub url: String,
}

/// A call to Stripe that did not give what was asked: what was being done,
/// and Stripe's answer (or why there was none).
#[derive(Debug, thiserror::Error)]
#[error("Stripe: {what} failed: {detail}")]
pub struct StripeError {
    pub what: &'static str,
    pub detail: String,
    /// Stripe answered and refused the request (a 4xx other than 409 and
    /// 429): sending it again gets the same answer. Otherwise the failure
    /// is transient (a timeout, a network error, a 5xx, 409 or 429) and the
    /// request may be retried with the same idempotency key.
    pub refused: bool,
}

pub(crate) fn unavailable(what: &'static str, e: impl std::fmt::Display) -> StripeError {
    StripeError { what, detail: e.to_string(), refused: false }
}

/// An error of async-stripe, classified: refused or transient.
pub(crate) fn failed(what: &'static str, e: ::stripe::StripeError) -> StripeError {
    let refused = match &e {
        ::stripe::StripeError::Stripe(_, status) => (400..500).contains(status) && !matches!(status, 409 | 429),
        _ => false,
    };
    StripeError { what, detail: e.to_string(), refused }
}

/// How long one HTTP request to Stripe may take before it counts as a
/// transient failure (async-stripe's client has no timeout by default).
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The shortest life Stripe accepts for a Checkout Session is 30 minutes
/// from its creation; one more minute covers the clocks' skew and the trip.
pub const SESSION_MIN_MINUTES: i64 = 31;

/// When the attempt's session expires: with its order, but never sooner
/// than [`SESSION_MIN_MINUTES`] after the attempt started (a checkout at
/// 23:45 would otherwise ask for 15 minutes and be refused), nor later than
/// Stripe's 24 hours. Derived from the attempt, not from the clock, so
/// repeating the request (the same idempotency key) sends the same
/// parameters.
pub fn session_expires_at(order: &Order, attempt: &PaymentAttempt) -> DateTime<Utc> {
    let earliest = attempt.created_at + chrono::Duration::minutes(SESSION_MIN_MINUTES);
    let latest = attempt.created_at + chrono::Duration::hours(24) - chrono::Duration::minutes(1);
    order.expires_at.max(earliest).min(latest)
}

/// Creates the attempt's Checkout Session: payment mode, MXN, the
/// order's total (centavos) as one line, card and OXXO (and SPEI when
/// configured), the order and attempt ids in metadata, back to the order
/// page, expiring with the order, with the attempt's idempotency key (so
/// repeating the request — the healing sweep after a crash — answers the
/// same session).
#[tracing::instrument(name = "stripe.create_session", skip_all)]
pub async fn create_session(
    config: &StripeConfig,
    order: &Order,
    attempt: &PaymentAttempt,
) -> Result<Created, StripeError> {
    let client = config.client().map_err(|e| unavailable("building the client", e))?;
    let back = format!("{}/orden/{}", config.public_url.trim_end_matches('/'), order.token);
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
        // What the treasury's reconciliation matches Stripe's items by.
        ("order_token".to_string(), order.token.to_string()),
    ]
    .into_iter()
    .collect();
    // The PaymentIntent carries the same metadata, and Stripe copies it onto
    // the charge it makes: a payout's balance transactions name the order.
    let mut intent_data = CreateCheckoutSessionPaymentIntentData::new();
    intent_data.metadata = Some(metadata.clone());
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
        request =
            request.payment_method_options(options).customer_creation(CreateCheckoutSessionCustomerCreation::Always);
    }
    let session: CheckoutSession = request
        .mode(CheckoutSessionMode::Payment)
        .currency(::stripe_types::Currency::MXN)
        .line_items(vec![line])
        .allowed_payment_method_types(methods)
        .metadata(metadata)
        .payment_intent_data(intent_data)
        .client_reference_id(order.reference.clone())
        .success_url(format!("{back}?pago=stripe"))
        .cancel_url(back)
        .expires_at(session_expires_at(order, attempt).timestamp())
        .build()
        .customize::<CheckoutSession>()
        .request_strategy(RequestStrategy::Idempotent(key))
        .send(&client)
        .await
        .map_err(|e| failed("creating a Checkout Session", e))?;
    let url = session.url.clone().ok_or_else(|| unavailable("creating a Checkout Session", "no url"))?;
    Ok(Created { id: session.id.to_string(), url })
}

/// Asks Stripe for a Checkout Session with its PaymentIntent and that
/// one's latest charge expanded (to resume a checkout, to heal, to show an
/// OXXO voucher, to date the payment).
#[tracing::instrument(name = "stripe.retrieve_session", skip_all)]
pub async fn retrieve_session(config: &StripeConfig, id: &str) -> Result<SessionObject, StripeError> {
    let client = config.client().map_err(|e| unavailable("building the client", e))?;
    let s: CheckoutSession = RetrieveCheckoutSession::new(id.to_string())
        .expand(vec!["payment_intent".to_string(), "payment_intent.latest_charge".to_string()])
        .send(&client)
        .await
        .map_err(|e| failed("retrieving a Checkout Session", e))?;
    let intent = s.payment_intent.as_ref().and_then(|pi| pi.as_object()).map(|pi| IntentDetails {
        status: pi.status.as_str().to_string(),
        instructions: pi.next_action.as_ref().and_then(instructions_of),
        paid_at: pi.latest_charge.as_ref().and_then(|c| c.as_object()).and_then(|c| timestamp(Some(c.created))),
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
#[tracing::instrument(name = "stripe.create_refund", skip_all)]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let c = StripeConfig {
            secret_key: Secret::new("sk_test_123"),
            webhook_secret: Some(Secret::new("whsec_abc")),
            webhook_secret_previous: None,
            api_base: None,
            public_url: "http://localhost".into(),
            spei: false,
            refund_overpayments: false,
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("sk_test") && !shown.contains("whsec"), "{shown}");
    }

    #[test]
    fn a_session_names_its_payment_intent_as_an_id_or_an_object() {
        let as_id: SessionObject =
            serde_json::from_str(r#"{"id":"cs_1","payment_intent":"pi_1","payment_method_types":["card","oxxo"]}"#)
                .unwrap();
        let as_object: SessionObject =
            serde_json::from_str(r#"{"id":"cs_1","payment_intent":{"id":"pi_1","status":"requires_action"}}"#).unwrap();
        let none: SessionObject = serde_json::from_str(r#"{"id":"cs_1","payment_intent":null}"#).unwrap();
        assert_eq!(as_id.payment_intent.as_deref(), Some("pi_1"));
        assert_eq!(as_object.payment_intent.as_deref(), Some("pi_1"));
        assert_eq!(none.payment_intent, None);
    }

    #[test]
    fn the_async_method_comes_from_the_intent_or_the_only_one_offered() {
        let mut s: SessionObject =
            serde_json::from_str(r#"{"id":"cs_1","payment_method_types":["card","oxxo","customer_balance"]}"#).unwrap();
        assert_eq!(s.async_method(), None, "two asynchronous methods offered: unknown until Stripe says");
        s.intent = Some(IntentDetails {
            status: "requires_action".into(),
            instructions: Some(Instructions::Spei {
                clabe: "002180650612345670".into(),
                bank: "BANAMEX".into(),
                reference: "4M5HGS".into(),
                expires_at: None,
                url: None,
            }),
            paid_at: None,
        });
        assert_eq!(s.async_method(), Some(Method::Spei));
        let only_oxxo: SessionObject =
            serde_json::from_str(r#"{"id":"cs_1","payment_method_types":["card","oxxo"]}"#).unwrap();
        assert_eq!(only_oxxo.async_method(), Some(Method::Oxxo));
        let event = provider_event("evt_1", SessionEventKind::Completed, &s, 9, None);
        assert_eq!((event.event, event.method), (PaymentEvent::AwaitingAsync, Some(Method::Spei)));
        assert!(matches!(event.instructions, Some(Instructions::Spei { .. })));
    }

    /// A known answer, not computed by this code: Stripe documents the
    /// header as `t=<unix time>,v1=<hex HMAC-SHA256, keyed with the
    /// endpoint's secret, of "<t>.<raw body>">`; this value was computed
    /// from that description with Python's `hmac` and `hashlib`.
    #[test]
    fn the_signature_matches_a_known_answer() {
        let body = b"{\n  \"id\": \"evt_1NG8Du2eZvKYlo2CUI79vXWy\",\n  \"object\": \"event\",\n  \"type\": \"checkout.session.completed\"\n}";
        let header = "t=1764000000,v1=7815dca34eaa40fd185b85b1d8a17bdc1e414e2551b707f1ca524248119118cc";
        assert_eq!(sign("whsec_test_recauda_kat", 1_764_000_000, body), header);
        let at = DateTime::from_timestamp(1_764_000_060, 0).unwrap();
        assert_eq!(verify_signature(header, body, &["whsec_test_recauda_kat"], at), Ok(1_764_000_000));
        // One byte of the body, of the secret or of the signature: refused.
        let mut altered = body.to_vec();
        altered[10] ^= 1;
        assert_eq!(verify_signature(header, &altered, &["whsec_test_recauda_kat"], at), Err(SignatureError::Mismatch));
        assert_eq!(verify_signature(header, body, &["whsec_test_recauda_kaT"], at), Err(SignatureError::Mismatch));
        let flipped = header.replace("v1=7815", "v1=7825");
        assert_eq!(verify_signature(&flipped, body, &["whsec_test_recauda_kat"], at), Err(SignatureError::Mismatch));
    }

    #[test]
    fn signatures_are_checked_as_stripe_signs() {
        let now = Utc::now();
        let body = br#"{"id":"evt_1"}"#;
        let header = sign("whsec_x", now.timestamp(), body);
        assert_eq!(verify_signature(&header, body, &["whsec_x"], now), Ok(now.timestamp()));
        // Any matching v1 among several.
        let two = format!("t={},v1={},{}", now.timestamp(), "00".repeat(32), header.split_once(',').unwrap().1);
        assert!(verify_signature(&two, body, &["whsec_x"], now).is_ok());
        assert_eq!(verify_signature(&header, body, &["whsec_y"], now), Err(SignatureError::Mismatch));
        assert_eq!(verify_signature(&header, b"{}", &["whsec_x"], now), Err(SignatureError::Mismatch));
        let old = sign("whsec_x", now.timestamp() - 301, body);
        assert_eq!(verify_signature(&old, body, &["whsec_x"], now), Err(SignatureError::Stale));
        assert_eq!(verify_signature("v1=zz", body, &["whsec_x"], now), Err(SignatureError::Malformed));
    }

    #[test]
    fn either_webhook_secret_is_accepted_during_a_rotation() {
        let now = Utc::now();
        let body = br#"{"id":"evt_rot"}"#;
        let old = sign("whsec_old", now.timestamp(), body);
        let new = sign("whsec_new", now.timestamp(), body);
        let both = ["whsec_new", "whsec_old"];
        assert!(verify_signature(&old, body, &both, now).is_ok());
        assert!(verify_signature(&new, body, &both, now).is_ok());
        // Stripe's header during a rotation: one v1 per secret.
        let rolled = format!("{new},v1={}", old.split_once("v1=").unwrap().1);
        assert!(verify_signature(&rolled, body, &["whsec_new"], now).is_ok());
        assert!(verify_signature(&rolled, body, &["whsec_old"], now).is_ok());
        assert_eq!(verify_signature(&old, body, &["whsec_new"], now), Err(SignatureError::Mismatch));
        assert_eq!(verify_signature(&old, body, &[], now), Err(SignatureError::Malformed));
    }

    #[test]
    fn hostile_signature_headers_are_refused_without_panicking() {
        let now = Utc::now();
        let body = br#"{"id":"evt_h"}"#;
        let good = sign("whsec_x", now.timestamp(), body);
        let v1 = good.split_once("v1=").unwrap().1;
        let secrets = ["whsec_x"];
        // Two timestamps: which one was signed is ambiguous.
        let repeated = format!("t={},t={},v1={v1}", now.timestamp(), now.timestamp());
        assert_eq!(verify_signature(&repeated, body, &secrets, now), Err(SignatureError::Malformed));
        // i64 extremes: no overflow, merely wrong or stale.
        for t in [i64::MIN, i64::MAX, 0, -1] {
            let header = sign("whsec_x", t, body);
            assert_eq!(verify_signature(&header, body, &secrets, now), Err(SignatureError::Stale), "t={t}");
        }
        assert_eq!(
            verify_signature("t=99999999999999999999,v1=00", body, &secrets, now),
            Err(SignatureError::Malformed)
        );
        assert_eq!(verify_signature("t=+5,v1=00", body, &secrets, now), Err(SignatureError::Malformed));
        // A huge list of v1s, or a huge header.
        let many = format!("t={},{}v1={v1}", now.timestamp(), "v1=00,".repeat(MAX_SIGNATURES));
        assert_eq!(verify_signature(&many, body, &secrets, now), Err(SignatureError::Malformed));
        let long = format!("{good},{}", "x".repeat(MAX_SIGNATURE_HEADER));
        assert_eq!(verify_signature(&long, body, &secrets, now), Err(SignatureError::Malformed));
        // Non-hex, odd-length, multibyte and wrong-length signatures match nothing.
        for bad in ["zz", "0", "é0", &v1[..62], &format!("{v1}00"), "ｆ".repeat(32).as_str()] {
            let header = format!("t={},v1={bad}", now.timestamp());
            assert_eq!(verify_signature(&header, body, &secrets, now), Err(SignatureError::Mismatch), "{bad}");
        }
    }

    proptest::proptest! {
        /// Whatever the header, verification answers and never panics; only
        /// a header carrying the right HMAC is accepted.
        #[test]
        fn any_signature_header_is_answered(header in ".{0,300}", t in proptest::num::i64::ANY, raw in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let body = br#"{"id":"evt_p"}"#;
            let now = Utc::now();
            proptest::prop_assert!(verify_signature(&header, body, &["whsec_p"], now).is_err());
            let hexed: String = raw.iter().map(|b| format!("{b:02x}")).collect();
            let header = format!("t={t},v1={hexed}");
            proptest::prop_assert!(verify_signature(&header, body, &["whsec_p"], now).is_err());
        }
    }
}
