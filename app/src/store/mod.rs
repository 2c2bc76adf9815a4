//! Storage layer (server side only): the [`Store`] trait, its record types and
//! the two backends, [`SqliteStore`] and [`PgStore`].
//!
//! Every query is a runtime query with bound parameters (`sqlx::query(..).bind(..)`);
//! no SQL text is ever built from values. Money is integer centavos at rest.
//!
//! The padrón import algorithm lives here, once, and talks to the backends
//! through the small private `ImportTx` trait, so both databases apply
//! exactly the same rules.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::Serialize;

use crate::domain::folio::Folio;
use crate::domain::money::Centavos;
use crate::domain::payment::{PaymentEvent, PaymentStatus, Transition, TransitionError};
use crate::domain::reference::ReferenceError;
use crate::domain::rfc::{PersonKind, Rfc};
use crate::payments::Instructions;

pub mod postgres;
pub mod sqlite;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// One account as the lookup shows it, with its taxpayer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccountView {
    pub id: i64,
    pub number: String,
    pub kind: String,
    pub taxpayer_id: i64,
    pub person_kind: PersonKind,
    pub rfc: Option<String>,
    pub name: String,
    pub colonia: Option<String>,
}

/// Lifecycle of a charge. Stored as "open" / "paid" / "cancelled".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChargeStatus {
    Open,
    Paid,
    Cancelled,
}

impl ChargeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ChargeStatus::Open => "open",
            ChargeStatus::Paid => "paid",
            ChargeStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<ChargeStatus> {
        match s {
            "open" => Some(ChargeStatus::Open),
            "paid" => Some(ChargeStatus::Paid),
            "cancelled" => Some(ChargeStatus::Cancelled),
            _ => None,
        }
    }

    /// Spanish name, for messages.
    pub fn name_es(self) -> &'static str {
        match self {
            ChargeStatus::Open => "pendiente",
            ChargeStatus::Paid => "pagado",
            ChargeStatus::Cancelled => "cancelado",
        }
    }
}

impl std::fmt::Display for ChargeStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One charge (an amount owed for a concept and period on an account).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChargeRecord {
    pub id: i64,
    pub account_id: i64,
    /// The account number.
    pub account: String,
    pub concept: String,
    pub period: String,
    pub due_date: NaiveDate,
    pub principal: Centavos,
    pub status: ChargeStatus,
}

/// One validated padrón line (see `server::import::parse_padron`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PadronRow {
    /// Line in the source file (1-based, the header is line 1), for messages.
    pub line: usize,
    pub account: String,
    pub kind: String,
    pub rfc: Option<Rfc>,
    pub name: String,
    pub colonia: Option<String>,
    pub concept: String,
    pub period: String,
    pub due_date: NaiveDate,
    pub amount: Centavos,
}

/// What an import did. Re-importing the same file gives only `charges_unchanged`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub taxpayers_created: u64,
    pub accounts_created: u64,
    pub charges_created: u64,
    pub charges_updated: u64,
    pub charges_unchanged: u64,
}

/// Spanish, for the operator: "3 contribuyentes nuevos, 4 cuentas nuevas, …".
impl std::fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} contribuyentes nuevos, {} cuentas nuevas, {} cargos nuevos, {} cargos actualizados, {} cargos sin cambios",
            self.taxpayers_created, self.accounts_created, self.charges_created, self.charges_updated, self.charges_unchanged
        )
    }
}

/// Row counts, for the health page, the CLI and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub taxpayers: u64,
    pub accounts: u64,
    pub charges: u64,
    pub open_charges: u64,
}

/// One charge of a payment order, as quoted when the order was created
/// (the frozen quote).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderItem {
    pub charge_id: i64,
    /// The account number.
    pub account: String,
    pub concept: String,
    pub period: String,
    pub due_date: NaiveDate,
    pub principal: Centavos,
    pub recargos: Centavos,
    pub discount: Centavos,
    pub total: Centavos,
}

/// What [`Store::create_order`] needs: the frozen quote and its expiry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOrder {
    pub items: Vec<OrderItem>,
    pub subtotal: Centavos,
    pub rounding: Centavos,
    pub total: Centavos,
    pub expires_at: DateTime<Utc>,
    /// The expired order this one re-quotes.
    pub requoted_from: Option<i64>,
    /// Municipality prefix and issue date of the reference
    /// ([`crate::domain::reference::OrderReference`]), built from the new id.
    pub reference_prefix: u8,
    pub issued_on: NaiveDate,
}

/// One stored status change of an order (`from` is `None` for the creation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderTransition {
    pub from: Option<PaymentStatus>,
    pub to: PaymentStatus,
    /// [`crate::domain::payment::PaymentEventKind::as_str`], or `"created"`.
    pub event: String,
    pub at: DateTime<Utc>,
}

/// A payment order with its frozen items and its history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Order {
    pub id: i64,
    pub reference: String,
    pub status: PaymentStatus,
    pub subtotal: Centavos,
    pub rounding: Centavos,
    pub total: Centavos,
    pub currency: String,
    pub method_hint: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub requoted_from: Option<i64>,
    pub items: Vec<OrderItem>,
    pub transitions: Vec<OrderTransition>,
}

/// One attempt to pay an order through a provider (a checkout started).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PaymentAttempt {
    pub id: i64,
    pub order_id: i64,
    /// `"demo"` or `"stripe"`.
    pub provider: String,
    /// The provider's id (Stripe's Checkout Session id); `None` for the demo.
    pub provider_ref: Option<String>,
    pub idempotency_key: String,
    /// `"card"`, `"oxxo"` or `"spei"`, once known.
    pub method: Option<String>,
    /// The OXXO voucher or the SPEI transfer details, once issued.
    pub instructions: Option<Instructions>,
    /// The provider's payment id (Stripe's PaymentIntent), once known.
    pub payment_intent: Option<String>,
    /// When the healing sweep asks the provider about it next.
    pub next_check_at: Option<DateTime<Utc>>,
    /// `pending`, `succeeded`, `failed`, `expired`, `cancelled`, `refunded`
    /// or `overpaid` (money arrived for an order already closed or paid).
    pub status: String,
    pub amount: Centavos,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What [`Store::start_attempt`] needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAttempt {
    pub order_id: i64,
    pub provider: String,
    pub provider_ref: Option<String>,
    pub idempotency_key: String,
    pub amount: Centavos,
}

/// An event reported by a provider about one attempt (a webhook, a demo
/// button), as [`Store::apply_provider_event`] applies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderEvent {
    pub provider: String,
    /// The provider's event id: the dedupe key with `provider`.
    pub event_id: String,
    pub attempt_id: i64,
    pub event: PaymentEvent,
    /// The payment method, when the event tells it (`"card"`, `"oxxo"`, `"spei"`).
    pub method: Option<String>,
    /// The OXXO voucher or SPEI transfer details, when the event issues
    /// them. With a deadline, an `AwaitingAsync` event moves the order's
    /// expiry to it (an OXXO order lives as long as its voucher).
    pub instructions: Option<Instructions>,
    /// The provider's payment id, when the event tells it.
    pub payment_intent: Option<String>,
}

/// What applying a provider event did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventOutcome {
    /// This (provider, event id) was seen before: nothing changed.
    Duplicate,
    /// The order's guarded transition (Moved, or AlreadyThere for a repeat).
    Applied(Transition),
    /// Money for an order already closed, or already paid by another
    /// attempt: recorded once as an overpayment to refund, never applied.
    Overpayment { reason: String },
}

/// Money to refund: it arrived for an order that could not take it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Overpayment {
    pub id: i64,
    pub order_id: i64,
    pub attempt_id: i64,
    /// The attempt's provider and payment id (what a refund needs).
    pub provider: String,
    pub payment_intent: Option<String>,
    pub amount: Centavos,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub refund: RefundStatus,
    /// The provider's refund id, once refunded.
    pub refund_ref: Option<String>,
    /// The provider's answer to the last failed refund.
    pub refund_error: Option<String>,
    pub refunded_at: Option<DateTime<Utc>>,
}

/// Where the refund of an overpayment stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    /// Recorded; refunded by hand, or automatically when configured.
    ToRefund,
    Refunded,
    /// The provider refused or could not be reached; retried.
    RefundFailed,
}

impl RefundStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::ToRefund => "to_refund",
            RefundStatus::Refunded => "refunded",
            RefundStatus::RefundFailed => "refund_failed",
        }
    }

    pub fn parse(s: &str) -> Option<RefundStatus> {
        [RefundStatus::ToRefund, RefundStatus::Refunded, RefundStatus::RefundFailed]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// The folio series of receipts issued online (each channel has its own:
/// cashier boxes get theirs).
pub const ONLINE_SERIES: &str = "A";

/// An official receipt (recibo oficial), as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub id: i64,
    pub folio: Folio,
    pub order_id: i64,
    pub attempt_id: Option<i64>,
    pub issued_at: DateTime<Utc>,
    /// The date in the municipality's time zone (signed; its year is the fiscal year).
    pub issued_on: NaiveDate,
    /// The account paid: the first one, with `+N` when the order covers more.
    pub account: String,
    pub payer_name: String,
    pub total: Centavos,
    /// `card`, `oxxo`, `spei` (online), when known.
    pub method: Option<String>,
    pub provider: Option<String>,
    /// The provider's payment id (Stripe's PaymentIntent), or the event's.
    pub provider_reference: Option<String>,
    pub status: ReceiptStatus,
    /// The signature token (`<key id>.<signature>`, the QR's `s`) once signed.
    pub signature: Option<String>,
}

/// A receipt is valid, or cancelled by the treasury (its folio stays).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ReceiptStatus {
    Valid,
    Cancelled { reason: String, at: DateTime<Utc> },
}

/// `receipts` columns as both backends read them: id, folio, order_id,
/// attempt_id, issued_at, issued_on, account, payer_name, total_centavos,
/// method, provider, provider_reference, status, cancel_reason,
/// cancelled_at, signature.
pub(crate) type ReceiptRow = (
    i64,
    String,
    i64,
    Option<i64>,
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

pub(crate) fn receipt_from_row(r: ReceiptRow) -> Result<Receipt, StoreError> {
    let status = match (r.12.as_str(), r.13, r.14) {
        ("valid", _, _) => ReceiptStatus::Valid,
        ("cancelled", Some(reason), Some(at)) => ReceiptStatus::Cancelled { reason, at: timestamp_from_db(&at)? },
        (other, _, _) => return Err(StoreError::Corrupt(format!("receipt status {other:?}"))),
    };
    Ok(Receipt {
        id: r.0,
        folio: Folio::parse(&r.1).map_err(|_| StoreError::Corrupt(format!("folio {:?}", r.1)))?,
        order_id: r.2,
        attempt_id: r.3,
        issued_at: timestamp_from_db(&r.4)?,
        issued_on: NaiveDate::parse_from_str(&r.5, "%Y-%m-%d")
            .map_err(|_| StoreError::Corrupt(format!("receipt date {:?}", r.5)))?,
        account: r.6,
        payer_name: r.7,
        total: Centavos(r.8),
        method: r.9,
        provider: r.10,
        provider_reference: r.11,
        status,
        signature: r.15,
    })
}

/// The folio of the `number`th online receipt of `year`.
pub(crate) fn online_folio(year: i32, number: i64) -> Result<Folio, StoreError> {
    let (y, n) = (u16::try_from(year).unwrap_or(0), u32::try_from(number).unwrap_or(0));
    Folio::new(ONLINE_SERIES, y, n)
        .map_err(|e| StoreError::Corrupt(format!("folio {ONLINE_SERIES}-{year}-{number}: {}", e.message_en())))
}

/// The account label of a receipt: the order's first account, `+N` when it
/// covers N more.
pub(crate) fn receipt_account(accounts: &[String]) -> String {
    let mut distinct: Vec<&String> = Vec::new();
    for a in accounts {
        if !distinct.contains(&a) {
            distinct.push(a);
        }
    }
    match distinct.as_slice() {
        [] => String::new(),
        [one] => (*one).clone(),
        [first, rest @ ..] => format!("{first} +{}", rest.len()),
    }
}

/// `overpayments` columns (joined with the attempt) as both backends read
/// them: id, order_id, attempt_id, provider, payment_intent,
/// amount_centavos, reason, created_at, refund_status, refund_ref,
/// refund_error, refunded_at.
pub(crate) type OverpaymentRow = (
    i64,
    i64,
    i64,
    String,
    Option<String>,
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

pub(crate) fn overpayment_from_row(r: OverpaymentRow) -> Result<Overpayment, StoreError> {
    Ok(Overpayment {
        id: r.0,
        order_id: r.1,
        attempt_id: r.2,
        provider: r.3,
        payment_intent: r.4,
        amount: Centavos(r.5),
        reason: r.6,
        created_at: timestamp_from_db(&r.7)?,
        refund: RefundStatus::parse(&r.8).ok_or_else(|| StoreError::Corrupt(format!("refund status {:?}", r.8)))?,
        refund_ref: r.9,
        refund_error: r.10,
        refunded_at: r.11.as_deref().map(timestamp_from_db).transpose()?,
    })
}

/// `payment_attempts` columns as both backends read them: id, order_id,
/// provider, provider_ref, idempotency_key, method, instructions,
/// payment_intent, next_check_at, status, amount_centavos, created_at,
/// updated_at.
pub(crate) type AttemptRow = (
    i64,
    i64,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    i64,
    String,
    String,
);

pub(crate) fn attempt_from_row(r: AttemptRow) -> Result<PaymentAttempt, StoreError> {
    let instructions =
        r.6.as_deref()
            .map(|json| {
                serde_json::from_str::<Instructions>(json)
                    .map_err(|e| StoreError::Corrupt(format!("payment instructions {json:?}: {e}")))
            })
            .transpose()?;
    Ok(PaymentAttempt {
        id: r.0,
        order_id: r.1,
        provider: r.2,
        provider_ref: r.3,
        idempotency_key: r.4,
        method: r.5,
        instructions,
        payment_intent: r.7,
        next_check_at: r.8.as_deref().map(timestamp_from_db).transpose()?,
        status: r.9,
        amount: Centavos(r.10),
        created_at: timestamp_from_db(&r.11)?,
        updated_at: timestamp_from_db(&r.12)?,
    })
}

/// The stored form of an event's instructions: JSON and the deadline.
pub(crate) fn instructions_to_db(i: Option<&Instructions>) -> (Option<String>, Option<String>) {
    match i {
        None => (None, None),
        Some(i) => {
            (Some(serde_json::to_string(i).expect("instructions serialise")), i.expires_at().map(timestamp_to_db))
        }
    }
}

/// The attempt status written after an event moved (or kept) its order at
/// `order_status`.
pub(crate) fn attempt_status_for(order_status: PaymentStatus) -> &'static str {
    match order_status {
        PaymentStatus::Created | PaymentStatus::Pending => "pending",
        other => other.as_str(),
    }
}

/// The event name stored for an order's creation.
pub const CREATED_EVENT: &str = "created";

/// Storage errors. Display is English (for logs) and the underlying sqlx error
/// is kept as `source()`, so cause chains are complete; `message_es()` is the
/// self-contained Spanish message for operators (it includes the cause).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {url}")]
    Connect {
        /// The URL with any password masked.
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot apply database migrations")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    #[error("database error while trying to {context}")]
    Query {
        context: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error(
        "padrón line {line}: account {account}, concept {concept}, period {period}: \
         the stored charge is {status} for {stored:?} centavos but the file says {incoming:?} centavos"
    )]
    ImportConflict {
        line: usize,
        account: String,
        concept: String,
        period: String,
        status: ChargeStatus,
        stored: Centavos,
        incoming: Centavos,
    },
    #[error("padrón line {line} repeats account {account}, concept {concept}, period {period} of line {first_line}")]
    DuplicateRow { line: usize, first_line: usize, account: String, concept: String, period: String },
    #[error("unexpected value in the database: {0}")]
    Corrupt(String),
    /// Some of the charges already sit in a live (created or pending) order.
    #[error("charges {0:?} are already in a live payment order")]
    ChargesInLiveOrder(Vec<i64>),
    #[error("payment order {0} does not exist")]
    OrderNotFound(i64),
    #[error("payment attempt {0} does not exist")]
    AttemptNotFound(i64),
    #[error("payment order {order_id}: transition refused")]
    Transition {
        order_id: i64,
        #[source]
        source: TransitionError,
    },
    #[error("cannot build the reference of payment order {order_id}")]
    Reference {
        order_id: i64,
        #[source]
        source: ReferenceError,
    },
}

impl StoreError {
    /// Spanish message for operators (CLI, admin pages).
    pub fn message_es(&self) -> String {
        match self {
            StoreError::Connect { url, source } => {
                format!("no se pudo abrir la base de datos {url}: {source}")
            }
            StoreError::Migrate(source) => {
                format!("no se pudieron aplicar las migraciones de la base de datos: {source}")
            }
            StoreError::Query { context, source } => {
                format!("error de la base de datos ({context}): {source}")
            }
            StoreError::ImportConflict { line, account, concept, period, status, stored, incoming } => format!(
                "línea {line}: la cuenta «{account}» ya tiene el cargo {concept} {period} {} por {} \
                 y el archivo indica {}; no se importó nada",
                status.name_es(),
                stored.display_mxn(),
                incoming.display_mxn()
            ),
            StoreError::DuplicateRow { line, first_line, account, concept, period } => format!(
                "línea {line}: el cargo {concept} {period} de la cuenta «{account}» ya aparece en la línea {first_line}"
            ),
            StoreError::Corrupt(what) => format!("dato inesperado en la base de datos: {what}"),
            StoreError::ChargesInLiveOrder(ids) => format!("los cargos {ids:?} ya están en una orden de pago vigente"),
            StoreError::OrderNotFound(id) => format!("no existe la orden de pago {id}"),
            StoreError::AttemptNotFound(id) => format!("no existe el intento de pago {id}"),
            StoreError::Transition { order_id, source } => {
                format!("orden de pago {order_id}: {}", source.message_es())
            }
            StoreError::Reference { order_id, source } => {
                format!("no se pudo formar la referencia de la orden {order_id}: {}", source.message_es())
            }
        }
    }
}

/// Maps a sqlx error to [`StoreError::Query`] with what we were doing.
pub(crate) fn query_err(context: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Query { context, source }
}

#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    async fn ping(&self) -> Result<(), StoreError>;
    /// Exact match on the account number.
    async fn account_by_number(&self, number: &str) -> Result<Option<AccountView>, StoreError>;
    /// Accounts of the taxpayer with this RFC (trimmed, case-insensitive), ordered by number.
    async fn accounts_by_rfc(&self, rfc: &str) -> Result<Vec<AccountView>, StoreError>;
    /// Open charges of these accounts, ordered by account number, due_date, concept, period.
    async fn open_charges(&self, account_ids: &[i64]) -> Result<Vec<ChargeRecord>, StoreError>;
    /// Imports a validated padrón in ONE transaction: all or nothing.
    /// `progress(rows_done)` is called every 1000 rows and once at the end.
    async fn import_padron(
        &self,
        rows: &[PadronRow],
        progress: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<ImportSummary, StoreError>;
    async fn counts(&self) -> Result<Counts, StoreError>;

    /// Creates a payment order in ONE transaction: the order (status
    /// `created`, reference built from its id), its items, its first
    /// transition, and a `live_order_charges` row per charge. Fails with
    /// [`StoreError::ChargesInLiveOrder`] (nothing written) when any charge
    /// already sits in a live order, including one created concurrently.
    async fn create_order(&self, order: &NewOrder, now: DateTime<Utc>) -> Result<Order, StoreError>;
    /// The order with its items and transitions (oldest first).
    async fn get_order(&self, id: i64) -> Result<Option<Order>, StoreError>;
    /// Moves every live order whose expiry is at or before `now` to
    /// `expired`, records the transition and releases its charges —
    /// except an order with a pending Stripe attempt: Stripe may still take
    /// its money (a card at the last second, OXXO cash reported the next
    /// day), so Stripe's word decides (the `expired` and
    /// `async_payment_failed` webhooks, or the healing sweep asking).
    /// Returns how many orders expired.
    async fn expire_due_orders(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;
    /// Applies `event` to the order through
    /// [`crate::domain::payment::transition`], in one transaction: the new
    /// status and its transition row; when the order leaves the live
    /// statuses its charges are released, and on `succeeded` they are marked
    /// paid and its receipt is issued (folio of [`ONLINE_SERIES`] and
    /// `today`'s fiscal year). An event that changes nothing
    /// (`AlreadyThere`) writes nothing.
    async fn apply_transition(
        &self,
        order_id: i64,
        event: &PaymentEvent,
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<Transition, StoreError>;

    /// The id of the order with this reference.
    async fn order_id_by_reference(&self, reference: &str) -> Result<Option<i64>, StoreError>;
    /// Starts a payment attempt in ONE transaction: the attempt (status
    /// `pending`) and the order's `Redirected` transition (created →
    /// pending). A refused transition writes nothing.
    async fn start_attempt(&self, attempt: &NewAttempt, now: DateTime<Utc>) -> Result<PaymentAttempt, StoreError>;
    async fn get_attempt(&self, id: i64) -> Result<Option<PaymentAttempt>, StoreError>;
    /// Records the provider's id of an attempt (Stripe's Checkout Session
    /// id), once the provider answered. Only a pending attempt without one
    /// is updated; returns whether it was.
    async fn set_attempt_provider_ref(
        &self,
        id: i64,
        provider_ref: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// The healing sweep's work list, oldest first: the pending attempts of
    /// `provider` created at or before `created_before` that are due to be
    /// asked about (`next_check_at` unset or at or before `now`).
    async fn attempts_to_check(
        &self,
        provider: &str,
        created_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<PaymentAttempt>, StoreError>;
    /// When the sweep asks about this attempt next.
    async fn set_attempt_next_check(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError>;
    /// The attempts of an order, oldest first.
    async fn attempts_of_order(&self, order_id: i64) -> Result<Vec<PaymentAttempt>, StoreError>;
    /// THE path every provider event takes, in ONE transaction:
    /// records (provider, event id) — a repeat changes nothing
    /// ([`EventOutcome::Duplicate`]) —, applies the order's guarded
    /// transition as [`Store::apply_transition`] does (charges paid on
    /// success), updates the attempt, and records a payment that cannot be
    /// applied (order closed, or paid by another attempt) as one
    /// overpayment per attempt. When the order succeeds, its receipt is
    /// issued in the same transaction (the next folio of [`ONLINE_SERIES`]
    /// in `today`'s fiscal year: gapless, never reused). Amounts are checked
    /// by the caller.
    async fn apply_provider_event(
        &self,
        event: &ProviderEvent,
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<EventOutcome, StoreError>;
    async fn overpayments_of_order(&self, order_id: i64) -> Result<Vec<Overpayment>, StoreError>;
    /// The overpayments of `provider` not refunded yet (`to_refund`,
    /// `refund_failed`), oldest first.
    async fn overpayments_to_refund(&self, provider: &str) -> Result<Vec<Overpayment>, StoreError>;
    /// Records the outcome of refunding overpayment `id`: `Ok(refund id)`
    /// → `refunded`; `Err(the provider's answer)` → `refund_failed`. A
    /// refunded overpayment stays refunded.
    async fn record_refund(&self, id: i64, outcome: Result<&str, &str>, now: DateTime<Utc>) -> Result<(), StoreError>;

    async fn receipt_by_folio(&self, folio: &str) -> Result<Option<Receipt>, StoreError>;
    async fn receipt_of_order(&self, order_id: i64) -> Result<Option<Receipt>, StoreError>;
    /// Receipts without a signature yet, oldest first (normally none).
    async fn unsigned_receipts(&self, limit: i64) -> Result<Vec<Receipt>, StoreError>;
    /// Records a receipt's signature, once (a signature already there stays).
    async fn set_receipt_signature(&self, id: i64, key_id: &str, signature: &str) -> Result<(), StoreError>;
    /// Cancels a valid receipt with a reason (its folio stays, never reused).
    /// Returns false when there is no such valid receipt.
    async fn cancel_receipt(&self, folio: &str, reason: &str, now: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Every receipt of a series and fiscal year, by number (audits, tests).
    async fn receipts_of_series(&self, series: &str, fiscal_year: i32) -> Result<Vec<Receipt>, StoreError>;
}

/// Opens the database named by `database_url` and applies pending migrations.
///
/// * `postgres://…` or `postgresql://…` → [`PgStore`];
/// * anything else is SQLite: `sqlite:path.db`, `sqlite://path.db`, `sqlite::memory:`
///   or a plain file path. The file is created if missing; WAL journal,
///   foreign keys on, busy timeout.
pub async fn connect(database_url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if is_postgres_url(database_url) {
        Ok(Arc::new(PgStore::connect(database_url).await?))
    } else {
        Ok(Arc::new(SqliteStore::connect(database_url).await?))
    }
}

pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The URL with the password (if any) replaced by `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match (authority.rfind('@'), authority.find(':')) {
        (Some(at), Some(colon)) if colon < at => {
            format!("{}{}:***{}", &url[..scheme_end + 3], &authority[..colon], &rest[at..])
        }
        _ => url.to_string(),
    }
}

/// Person kind of a taxpayer the padrón gives without RFC: "moral" when the
/// name carries a company-type suffix (S.A., S. de R.L., A.C., S.C., …), else "fisica".
pub fn guess_person_kind(name: &str) -> PersonKind {
    let tokens: Vec<String> = name
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(|t| t.chars().filter(|c| *c != '.').collect::<String>().to_uppercase())
        .filter(|t| !t.is_empty())
        .collect();
    const SUFFIXES: [&[&str]; 12] = [
        &["SA"],
        &["SA", "DE", "CV"],
        &["SAB", "DE", "CV"],
        &["SAPI", "DE", "CV"],
        &["S", "DE", "RL"],
        &["S", "DE", "RL", "DE", "CV"],
        &["SRL"],
        &["AC"],
        &["SC"],
        &["SC", "DE", "RL"],
        &["SPR", "DE", "RL"],
        &["IAP"],
    ];
    if SUFFIXES.iter().any(|s| tokens.ends_with(&s.iter().map(|x| x.to_string()).collect::<Vec<_>>())) {
        PersonKind::Moral
    } else {
        PersonKind::Fisica
    }
}

pub(crate) fn person_kind_from_db(s: &str) -> Result<PersonKind, StoreError> {
    match s {
        "fisica" => Ok(PersonKind::Fisica),
        "moral" => Ok(PersonKind::Moral),
        other => Err(StoreError::Corrupt(format!("person_kind {other:?}"))),
    }
}

pub(crate) fn status_from_db(s: &str) -> Result<ChargeStatus, StoreError> {
    ChargeStatus::parse(s).ok_or_else(|| StoreError::Corrupt(format!("charge status {s:?}")))
}

pub(crate) fn date_from_db(s: &str) -> Result<NaiveDate, StoreError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| StoreError::Corrupt(format!("due_date {s:?}")))
}

/// Timestamps at rest: RFC 3339 UTC with microseconds (fixed width, so
/// SQLite compares them as text).
pub(crate) fn timestamp_to_db(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn timestamp_from_db(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| StoreError::Corrupt(format!("timestamp {s:?}")))
}

pub(crate) fn payment_status_from_db(s: &str) -> Result<PaymentStatus, StoreError> {
    PaymentStatus::parse(s).ok_or_else(|| StoreError::Corrupt(format!("payment status {s:?}")))
}

/// `payment_orders` columns as both backends read them (dates and
/// timestamps as text): id, reference, status, subtotal, rounding, total,
/// currency, method_hint, expires_at, created_at, updated_at, requoted_from.
pub(crate) type OrderRow =
    (i64, String, String, i64, i64, i64, String, Option<String>, String, String, String, Option<i64>);

/// `payment_order_items`: charge_id, account, concept, period, due_date,
/// principal, recargos, discount, total.
pub(crate) type OrderItemRow = (i64, String, String, String, String, i64, i64, i64, i64);

/// `payment_transitions`: from_status, to_status, event, at.
pub(crate) type TransitionRow = (Option<String>, String, String, String);

pub(crate) fn order_from_rows(
    o: OrderRow,
    items: Vec<OrderItemRow>,
    transitions: Vec<TransitionRow>,
) -> Result<Order, StoreError> {
    Ok(Order {
        id: o.0,
        reference: o.1,
        status: payment_status_from_db(&o.2)?,
        subtotal: Centavos(o.3),
        rounding: Centavos(o.4),
        total: Centavos(o.5),
        currency: o.6,
        method_hint: o.7,
        expires_at: timestamp_from_db(&o.8)?,
        created_at: timestamp_from_db(&o.9)?,
        updated_at: timestamp_from_db(&o.10)?,
        requoted_from: o.11,
        items: items
            .into_iter()
            .map(|i| {
                Ok(OrderItem {
                    charge_id: i.0,
                    account: i.1,
                    concept: i.2,
                    period: i.3,
                    due_date: date_from_db(&i.4)?,
                    principal: Centavos(i.5),
                    recargos: Centavos(i.6),
                    discount: Centavos(i.7),
                    total: Centavos(i.8),
                })
            })
            .collect::<Result<_, StoreError>>()?,
        transitions: transitions
            .into_iter()
            .map(|t| {
                Ok(OrderTransition {
                    from: t.0.as_deref().map(payment_status_from_db).transpose()?,
                    to: payment_status_from_db(&t.1)?,
                    event: t.2,
                    at: timestamp_from_db(&t.3)?,
                })
            })
            .collect::<Result<_, StoreError>>()?,
    })
}

/// The charge ids of a new order, for the live-order guard.
pub(crate) fn order_charge_ids(order: &NewOrder) -> Vec<i64> {
    order.items.iter().map(|i| i.charge_id).collect()
}

/// Whether a database error is a unique / primary key violation.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// The reference of a new order with id `id`.
pub(crate) fn order_reference(order: &NewOrder, id: i64) -> Result<String, StoreError> {
    let reference_err = |source| StoreError::Reference { order_id: id, source };
    let id_u64 = u64::try_from(id).map_err(|_| reference_err(ReferenceError::OrderIdOutOfRange))?;
    crate::domain::reference::OrderReference::try_new(order.reference_prefix, id_u64, order.issued_on)
        .map(|r| r.as_str().to_string())
        .map_err(reference_err)
}

/// Uppercase/trim an RFC the way `Rfc::parse` normalises it, for lookups.
pub(crate) fn normalize_rfc(rfc: &str) -> String {
    rfc.trim().to_uppercase()
}

// ---------------------------------------------------------------------------
// Padrón import, shared by both backends.
// ---------------------------------------------------------------------------

/// Rows handled between two progress calls, and the unit of batching.
pub(crate) const IMPORT_CHUNK: usize = 1000;

pub(crate) struct ExistingAccount {
    pub id: i64,
    pub number: String,
    pub kind: String,
    pub taxpayer_id: i64,
    pub taxpayer_name: String,
    pub taxpayer_colonia: Option<String>,
}

pub(crate) struct ExistingTaxpayer {
    pub id: i64,
    pub rfc: String,
    pub name: String,
    pub colonia: Option<String>,
}

pub(crate) struct ExistingCharge {
    pub id: i64,
    pub account_id: i64,
    pub concept: String,
    pub period: String,
    pub due_date: NaiveDate,
    pub principal: i64,
    pub status: ChargeStatus,
}

pub(crate) struct NewCharge<'a> {
    pub account_id: i64,
    pub concept: &'a str,
    pub period: &'a str,
    pub due_date: NaiveDate,
    pub principal: i64,
}

pub(crate) struct NewTaxpayer<'a> {
    pub id: i64,
    pub person_kind: PersonKind,
    pub rfc: Option<&'a str>,
    pub name: &'a str,
    pub colonia: Option<&'a str>,
}

pub(crate) struct NewAccount<'a> {
    pub id: i64,
    pub number: &'a str,
    pub kind: &'a str,
    pub taxpayer_id: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IdTable {
    Taxpayers,
    Accounts,
}

/// The primitive operations of an import, inside one open transaction.
/// Lists are passed whole so a backend can do each in one round trip.
#[async_trait::async_trait]
pub(crate) trait ImportTx: Send {
    async fn accounts_by_numbers(&mut self, numbers: &[&str]) -> Result<Vec<ExistingAccount>, StoreError>;
    async fn taxpayers_by_rfcs(&mut self, rfcs: &[&str]) -> Result<Vec<ExistingTaxpayer>, StoreError>;
    /// `n` fresh ids for `table`, which the caller inserts right away (in this transaction).
    async fn allocate_ids(&mut self, table: IdTable, n: usize) -> Result<Vec<i64>, StoreError>;
    async fn insert_taxpayers(&mut self, taxpayers: &[NewTaxpayer<'_>]) -> Result<(), StoreError>;
    async fn update_taxpayer(&mut self, id: i64, name: &str, colonia: Option<&str>) -> Result<(), StoreError>;
    async fn insert_accounts(&mut self, accounts: &[NewAccount<'_>]) -> Result<(), StoreError>;
    async fn update_account(&mut self, id: i64, kind: &str, taxpayer_id: i64) -> Result<(), StoreError>;
    async fn charges_of_accounts(&mut self, account_ids: &[i64]) -> Result<Vec<ExistingCharge>, StoreError>;
    async fn update_charge(&mut self, id: i64, due_date: NaiveDate, principal: i64) -> Result<(), StoreError>;
    async fn insert_charges(&mut self, charges: &[NewCharge<'_>]) -> Result<(), StoreError>;
}

struct TaxpayerState {
    id: i64,
    name: String,
    colonia: Option<String>,
}

/// Who owns an account being upserted in the current chunk.
#[derive(Clone, Copy)]
enum Owner {
    Existing(i64),
    /// Index into the chunk's new taxpayers.
    New(usize),
}

/// Refuses a file that repeats (account, concept, period): sorting indices
/// keeps memory small even for a million rows.
fn check_no_duplicates(rows: &[PadronRow]) -> Result<(), StoreError> {
    let mut idx: Vec<u32> = (0..rows.len() as u32).collect();
    let key = |i: &u32| {
        let r = &rows[*i as usize];
        (r.account.as_str(), r.concept.as_str(), r.period.as_str())
    };
    idx.sort_by(|a, b| key(a).cmp(&key(b)).then(a.cmp(b)));
    for pair in idx.windows(2) {
        if key(&pair[0]) == key(&pair[1]) {
            let first = &rows[pair[0] as usize];
            let dup = &rows[pair[1] as usize];
            return Err(StoreError::DuplicateRow {
                line: dup.line,
                first_line: first.line,
                account: dup.account.clone(),
                concept: dup.concept.clone(),
                period: dup.period.clone(),
            });
        }
    }
    Ok(())
}

/// The import rules (see `Store::import_padron`), backend-independent:
///
/// * taxpayer: by RFC when the row has one; otherwise the account's current
///   taxpayer; otherwise a new one (name and colonia follow the file);
/// * account: by number (kind and owner follow the file);
/// * charge, by (account, concept, period): new → inserted; open and different
///   amount or due date → updated; identical → unchanged; paid/cancelled with a
///   different amount → [`StoreError::ImportConflict`] for the whole import.
///
/// Rows are handled in chunks of [`IMPORT_CHUNK`]: a few batched statements per
/// chunk, then `progress(rows_done)`. The caller owns the transaction: it
/// commits on `Ok` and rolls back otherwise.
pub(crate) async fn import_rows(
    tx: &mut dyn ImportTx,
    rows: &[PadronRow],
    progress: &(dyn Fn(usize) + Send + Sync),
) -> Result<ImportSummary, StoreError> {
    check_no_duplicates(rows)?;
    let mut summary = ImportSummary::default();
    // account number -> id, for accounts already upserted by this import
    let mut accounts_done: HashMap<String, i64> = HashMap::new();
    let mut taxpayers_by_rfc: HashMap<String, TaxpayerState> = HashMap::new();
    let mut rows_done = 0usize;

    for chunk in rows.chunks(IMPORT_CHUNK) {
        // 1. Taxpayers and accounts met for the first time in this chunk.
        let mut seen_here: HashSet<&str> = HashSet::new();
        let pending: Vec<&PadronRow> = chunk
            .iter()
            .filter(|r| !accounts_done.contains_key(&r.account) && seen_here.insert(r.account.as_str()))
            .collect();
        let mut created_here: HashSet<i64> = HashSet::new();
        if !pending.is_empty() {
            let numbers: Vec<&str> = pending.iter().map(|r| r.account.as_str()).collect();
            let mut existing: HashMap<String, ExistingAccount> =
                tx.accounts_by_numbers(&numbers).await?.into_iter().map(|a| (a.number.clone(), a)).collect();
            let mut rfcs: Vec<&str> = pending
                .iter()
                .filter_map(|r| r.rfc.as_ref().map(|x| x.as_str()))
                .filter(|x| !taxpayers_by_rfc.contains_key(*x))
                .collect();
            rfcs.sort_unstable();
            rfcs.dedup();
            if !rfcs.is_empty() {
                for t in tx.taxpayers_by_rfcs(&rfcs).await? {
                    taxpayers_by_rfc.insert(t.rfc, TaxpayerState { id: t.id, name: t.name, colonia: t.colonia });
                }
            }

            // Decide every owner; updates of existing rows go out one by one (rare),
            // inserts are collected and sent in batches below.
            let mut new_taxpayers: Vec<NewTaxpayer<'_>> = Vec::new();
            let mut new_by_rfc: HashMap<&str, usize> = HashMap::new();
            let mut plans: Vec<(&PadronRow, Owner, Option<ExistingAccount>)> = Vec::with_capacity(pending.len());
            for row in pending {
                let colonia = row.colonia.as_deref();
                let known = existing.remove(&row.account);
                let owner = match &row.rfc {
                    Some(rfc) => {
                        if let Some(t) = taxpayers_by_rfc.get_mut(rfc.as_str()) {
                            if t.name != row.name || t.colonia.as_deref() != colonia {
                                tx.update_taxpayer(t.id, &row.name, colonia).await?;
                                t.name.clone_from(&row.name);
                                t.colonia.clone_from(&row.colonia);
                            }
                            Owner::Existing(t.id)
                        } else if let Some(&i) = new_by_rfc.get(rfc.as_str()) {
                            new_taxpayers[i].name = &row.name;
                            new_taxpayers[i].colonia = colonia;
                            Owner::New(i)
                        } else {
                            new_by_rfc.insert(rfc.as_str(), new_taxpayers.len());
                            new_taxpayers.push(NewTaxpayer {
                                id: 0,
                                person_kind: rfc.person_kind(),
                                rfc: Some(rfc.as_str()),
                                name: &row.name,
                                colonia,
                            });
                            Owner::New(new_taxpayers.len() - 1)
                        }
                    }
                    None => match &known {
                        Some(a) => {
                            if a.taxpayer_name != row.name || a.taxpayer_colonia.as_deref() != colonia {
                                tx.update_taxpayer(a.taxpayer_id, &row.name, colonia).await?;
                            }
                            Owner::Existing(a.taxpayer_id)
                        }
                        None => {
                            new_taxpayers.push(NewTaxpayer {
                                id: 0,
                                person_kind: guess_person_kind(&row.name),
                                rfc: None,
                                name: &row.name,
                                colonia,
                            });
                            Owner::New(new_taxpayers.len() - 1)
                        }
                    },
                };
                plans.push((row, owner, known));
            }

            if !new_taxpayers.is_empty() {
                let ids = tx.allocate_ids(IdTable::Taxpayers, new_taxpayers.len()).await?;
                for (t, id) in new_taxpayers.iter_mut().zip(ids) {
                    t.id = id;
                }
                tx.insert_taxpayers(&new_taxpayers).await?;
                summary.taxpayers_created += new_taxpayers.len() as u64;
                for t in &new_taxpayers {
                    if let Some(rfc) = t.rfc {
                        taxpayers_by_rfc.insert(
                            rfc.to_string(),
                            TaxpayerState {
                                id: t.id,
                                name: t.name.to_string(),
                                colonia: t.colonia.map(str::to_string),
                            },
                        );
                    }
                }
            }

            let mut new_accounts: Vec<NewAccount<'_>> = Vec::new();
            for (row, owner, known) in plans {
                let taxpayer_id = match owner {
                    Owner::Existing(id) => id,
                    Owner::New(i) => new_taxpayers[i].id,
                };
                match known {
                    Some(a) => {
                        if a.kind != row.kind || a.taxpayer_id != taxpayer_id {
                            tx.update_account(a.id, &row.kind, taxpayer_id).await?;
                        }
                        accounts_done.insert(row.account.clone(), a.id);
                    }
                    None => new_accounts.push(NewAccount { id: 0, number: &row.account, kind: &row.kind, taxpayer_id }),
                }
            }
            if !new_accounts.is_empty() {
                let ids = tx.allocate_ids(IdTable::Accounts, new_accounts.len()).await?;
                for (a, id) in new_accounts.iter_mut().zip(ids) {
                    a.id = id;
                    created_here.insert(id);
                    accounts_done.insert(a.number.to_string(), id);
                }
                tx.insert_accounts(&new_accounts).await?;
                summary.accounts_created += new_accounts.len() as u64;
            }
        }

        // 2. Charges: load what the touched accounts already have (accounts
        //    created in this very chunk have nothing yet), then classify.
        let mut to_load: Vec<i64> =
            chunk.iter().map(|r| accounts_done[&r.account]).filter(|id| !created_here.contains(id)).collect();
        to_load.sort_unstable();
        to_load.dedup();
        let mut stored: HashMap<i64, Vec<ExistingCharge>> = HashMap::new();
        if !to_load.is_empty() {
            for c in tx.charges_of_accounts(&to_load).await? {
                stored.entry(c.account_id).or_default().push(c);
            }
        }

        let mut inserts: Vec<NewCharge<'_>> = Vec::with_capacity(chunk.len());
        for row in chunk {
            let account_id = accounts_done[&row.account];
            let existing = stored
                .get(&account_id)
                .and_then(|list| list.iter().find(|c| c.concept == row.concept && c.period == row.period));
            match existing {
                None => inserts.push(NewCharge {
                    account_id,
                    concept: &row.concept,
                    period: &row.period,
                    due_date: row.due_date,
                    principal: row.amount.0,
                }),
                Some(c) => match c.status {
                    ChargeStatus::Open => {
                        if c.principal != row.amount.0 || c.due_date != row.due_date {
                            tx.update_charge(c.id, row.due_date, row.amount.0).await?;
                            summary.charges_updated += 1;
                        } else {
                            summary.charges_unchanged += 1;
                        }
                    }
                    ChargeStatus::Paid | ChargeStatus::Cancelled => {
                        if c.principal != row.amount.0 {
                            return Err(StoreError::ImportConflict {
                                line: row.line,
                                account: row.account.clone(),
                                concept: row.concept.clone(),
                                period: row.period.clone(),
                                status: c.status,
                                stored: Centavos(c.principal),
                                incoming: row.amount,
                            });
                        }
                        summary.charges_unchanged += 1;
                    }
                },
            }
        }
        if !inserts.is_empty() {
            tx.insert_charges(&inserts).await?;
            summary.charges_created += inserts.len() as u64;
        }

        rows_done += chunk.len();
        progress(rows_done);
    }
    if rows.is_empty() {
        progress(0);
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db.example:5432/recauda?sslmode=require"),
            "postgres://app:***@db.example:5432/recauda?sslmode=require"
        );
        assert_eq!(redact_url("postgres://app@db/recauda"), "postgres://app@db/recauda");
        assert_eq!(redact_url("sqlite:recauda.db"), "sqlite:recauda.db");
    }

    #[test]
    fn guesses_person_kind_without_rfc() {
        assert_eq!(guess_person_kind("Hotel Misión Loreto, S.A. de C.V."), PersonKind::Moral);
        assert_eq!(guess_person_kind("Buceo Coronado S. de R.L. de C.V."), PersonKind::Moral);
        assert_eq!(guess_person_kind("Amigos de Loreto, A.C."), PersonKind::Moral);
        assert_eq!(guess_person_kind("José Luis Peña Cota"), PersonKind::Fisica);
        assert_eq!(guess_person_kind("Sacarías Núñez"), PersonKind::Fisica);
        assert_eq!(guess_person_kind("J. Luis Sosa"), PersonKind::Fisica);
        assert_eq!(guess_person_kind("Pescadería La Sirena SA"), PersonKind::Moral);
    }

    #[test]
    fn summary_display_is_spanish() {
        let s = ImportSummary {
            taxpayers_created: 3,
            accounts_created: 4,
            charges_created: 8,
            charges_updated: 1,
            charges_unchanged: 0,
        };
        assert_eq!(
            s.to_string(),
            "3 contribuyentes nuevos, 4 cuentas nuevas, 8 cargos nuevos, 1 cargos actualizados, 0 cargos sin cambios"
        );
    }

    #[test]
    fn statuses_round_trip() {
        for s in [ChargeStatus::Open, ChargeStatus::Paid, ChargeStatus::Cancelled] {
            assert_eq!(ChargeStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(ChargeStatus::parse("OPEN"), None);
    }
}
