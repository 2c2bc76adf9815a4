//! What the store reads and writes: the public records (typed: money in
//! [`Centavos`], states as enums, instants as `DateTime<Utc>`) and the rows
//! they are decoded from ([`sqlx::FromRow`] structs, one per query shape;
//! names, never positions).

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::Serialize;
use sqlx::any::{Any, AnyTypeInfo, AnyTypeInfoKind, AnyValueRef};
use sqlx::{Decode, Type};

use crate::domain::account::AccountNumber;
use crate::domain::folio::Folio;
use crate::domain::money::Centavos;
use crate::domain::order_token::OrderToken;
use crate::domain::payment::{
    AdjustmentKind, AttemptStatus, Instructions, Method, OrderStatus, OverpaymentReason, PaymentEvent,
    PaymentEventKind, Provider,
};
use crate::domain::rfc::{PersonKind, Rfc};
use crate::domain::string_enum;

// ---------------------------------------------------------------- values

/// An instant at rest: RFC 3339 UTC with microseconds (fixed width, so
/// SQLite compares it as text; PostgreSQL's `{ts_text:…}` writes the same).
pub(crate) fn timestamp_to_db(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A date at rest: `YYYY-MM-DD`.
pub(crate) fn date_to_db(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A stored instant, decoded from its text.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DbTime(pub DateTime<Utc>);

/// A stored date, decoded from its text.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DbDate(pub NaiveDate);

fn text_type() -> AnyTypeInfo {
    <String as Type<Any>>::type_info()
}

impl Type<Any> for DbTime {
    fn type_info() -> AnyTypeInfo {
        text_type()
    }
    fn compatible(ty: &AnyTypeInfo) -> bool {
        matches!(ty.kind(), AnyTypeInfoKind::Text)
    }
}

impl<'r> Decode<'r, Any> for DbTime {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let text = <&str as Decode<Any>>::decode(value)?;
        let t = DateTime::parse_from_rfc3339(text).map_err(|e| format!("timestamp {text:?}: {e}"))?;
        Ok(DbTime(t.with_timezone(&Utc)))
    }
}

impl Type<Any> for DbDate {
    fn type_info() -> AnyTypeInfo {
        text_type()
    }
    fn compatible(ty: &AnyTypeInfo) -> bool {
        matches!(ty.kind(), AnyTypeInfoKind::Text)
    }
}

impl<'r> Decode<'r, Any> for DbDate {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let text = <&str as Decode<Any>>::decode(value)?;
        let d = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|e| format!("date {text:?}: {e}"))?;
        Ok(DbDate(d))
    }
}

// ---------------------------------------------------------------- padrón

string_enum! {
    /// Lifecycle of a charge.
    pub enum ChargeStatus {
        Open = "open",
        Paid = "paid",
        Cancelled = "cancelled",
    }
}

impl ChargeStatus {
    /// Spanish name, for messages.
    pub fn name_es(self) -> &'static str {
        match self {
            ChargeStatus::Open => "pendiente",
            ChargeStatus::Paid => "pagado",
            ChargeStatus::Cancelled => "cancelado",
        }
    }
}

/// One account as the lookup shows it, with its taxpayer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AccountView {
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub number: AccountNumber,
    pub kind: String,
    pub taxpayer_id: i64,
    #[sqlx(try_from = "String")]
    pub person_kind: PersonKind,
    pub rfc: Option<String>,
    pub name: String,
    pub colonia: Option<String>,
}

/// One charge (an amount owed for a concept and period on an account).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChargeRecord {
    pub id: i64,
    pub account_id: i64,
    /// The account number.
    pub account: AccountNumber,
    pub concept: String,
    pub period: String,
    pub due_date: NaiveDate,
    pub principal: Centavos,
    pub status: ChargeStatus,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ChargeRow {
    id: i64,
    account_id: i64,
    #[sqlx(try_from = "String")]
    account: AccountNumber,
    concept: String,
    period: String,
    due_date: DbDate,
    principal_centavos: i64,
    #[sqlx(try_from = "String")]
    status: ChargeStatus,
}

impl From<ChargeRow> for ChargeRecord {
    fn from(r: ChargeRow) -> Self {
        ChargeRecord {
            id: r.id,
            account_id: r.account_id,
            account: r.account,
            concept: r.concept,
            period: r.period,
            due_date: r.due_date.0,
            principal: Centavos(r.principal_centavos),
            status: r.status,
        }
    }
}

/// What the quote needs of a charge.
impl From<&ChargeRecord> for crate::domain::quote::OpenCharge {
    fn from(c: &ChargeRecord) -> Self {
        crate::domain::quote::OpenCharge {
            charge_id: c.id,
            account: c.account.to_string(),
            concept: c.concept.clone(),
            period: c.period.clone(),
            due_date: c.due_date,
            principal: c.principal,
        }
    }
}

/// An account with its open charges: what one lookup reads, in one query.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccountDebts {
    pub account: AccountView,
    /// Ordered by due date, concept, period.
    pub charges: Vec<ChargeRecord>,
}

/// One row of a lookup: the account, and its open charges as one JSON
/// array of `[id, concept, period, due date, principal]` (NULL or `[]`
/// when it has none).
#[derive(sqlx::FromRow)]
pub(crate) struct AccountDebtsRow {
    #[sqlx(flatten)]
    account: AccountView,
    charges: Option<String>,
}

impl TryFrom<AccountDebtsRow> for AccountDebts {
    type Error = super::StoreError;
    fn try_from(r: AccountDebtsRow) -> Result<Self, Self::Error> {
        let corrupt =
            |e: &dyn std::fmt::Display| super::StoreError::Corrupt(format!("open charges of an account: {e}"));
        let listed: Vec<(i64, String, String, String, i64)> = match r.charges.as_deref() {
            None => Vec::new(),
            Some(json) => serde_json::from_str(json).map_err(|e| corrupt(&e))?,
        };
        let charges = listed
            .into_iter()
            .map(|(id, concept, period, due, principal)| {
                Ok(ChargeRecord {
                    id,
                    account_id: r.account.id,
                    account: r.account.number.clone(),
                    concept,
                    period,
                    due_date: NaiveDate::parse_from_str(&due, "%Y-%m-%d").map_err(|e| corrupt(&e))?,
                    principal: Centavos(principal),
                    status: ChargeStatus::Open,
                })
            })
            .collect::<Result<Vec<_>, super::StoreError>>()?;
        Ok(AccountDebts { account: r.account, charges })
    }
}

/// One validated padrón line (see `server::import::parse_padron`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PadronRow {
    /// Line in the source file (1-based, the header is line 1), for messages.
    pub line: usize,
    pub account: AccountNumber,
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
            self.taxpayers_created,
            self.accounts_created,
            self.charges_created,
            self.charges_updated,
            self.charges_unchanged
        )
    }
}

/// Row counts, for the health page, the CLI and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Counts {
    #[sqlx(try_from = "i64")]
    pub taxpayers: u64,
    #[sqlx(try_from = "i64")]
    pub accounts: u64,
    #[sqlx(try_from = "i64")]
    pub charges: u64,
    #[sqlx(try_from = "i64")]
    pub open_charges: u64,
}

// ---------------------------------------------------------------- orders

/// One charge of a payment order, as quoted when the order was created
/// (the frozen quote).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderItem {
    pub charge_id: i64,
    /// The account number, as it was when the order was made.
    pub account: String,
    pub concept: String,
    pub period: String,
    pub due_date: NaiveDate,
    pub principal: Centavos,
    pub recargos: Centavos,
    pub discount: Centavos,
    pub total: Centavos,
}

#[derive(sqlx::FromRow)]
pub(crate) struct OrderItemRow {
    charge_id: i64,
    account: String,
    concept: String,
    period: String,
    due_date: DbDate,
    principal_centavos: i64,
    recargos_centavos: i64,
    discount_centavos: i64,
    total_centavos: i64,
}

impl From<OrderItemRow> for OrderItem {
    fn from(r: OrderItemRow) -> Self {
        OrderItem {
            charge_id: r.charge_id,
            account: r.account,
            concept: r.concept,
            period: r.period,
            due_date: r.due_date.0,
            principal: Centavos(r.principal_centavos),
            recargos: Centavos(r.recargos_centavos),
            discount: Centavos(r.discount_centavos),
            total: Centavos(r.total_centavos),
        }
    }
}

/// What [`super::Store::create_order`] needs: the frozen quote and its expiry.
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
    /// ([`crate::domain::reference::OrderReference`]; the store draws its serial).
    pub reference_prefix: u8,
    pub issued_on: NaiveDate,
}

/// One stored status change of an order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderTransition {
    /// `None` for the order's creation.
    pub from: Option<OrderStatus>,
    pub to: OrderStatus,
    /// What moved it; `None` for the creation.
    pub event: Option<PaymentEventKind>,
    pub at: DateTime<Utc>,
}

/// The event name stored for an order's creation.
pub(crate) const CREATED_EVENT: &str = "created";

#[derive(sqlx::FromRow)]
pub(crate) struct TransitionRow {
    from_status: Option<String>,
    #[sqlx(try_from = "String")]
    to_status: OrderStatus,
    event: String,
    at: DbTime,
}

impl TryFrom<TransitionRow> for OrderTransition {
    type Error = super::StoreError;
    fn try_from(r: TransitionRow) -> Result<Self, Self::Error> {
        let corrupt = |e: crate::domain::UnknownName| super::StoreError::Corrupt(e.to_string());
        Ok(OrderTransition {
            from: r.from_status.map(|s| s.parse()).transpose().map_err(corrupt)?,
            to: r.to_status,
            event: if r.event == CREATED_EVENT { None } else { Some(r.event.parse().map_err(corrupt)?) },
            at: r.at.0,
        })
    }
}

/// A payment order with its frozen items and its history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Order {
    pub id: i64,
    /// The order's only public address (`/orden/{token}`).
    pub token: OrderToken,
    pub reference: String,
    pub status: OrderStatus,
    pub subtotal: Centavos,
    pub rounding: Centavos,
    pub total: Centavos,
    pub currency: String,
    pub method_hint: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub requoted_from: Option<i64>,
    /// The token of the order `requoted_from` names.
    pub requoted_from_token: Option<OrderToken>,
    pub items: Vec<OrderItem>,
    pub transitions: Vec<OrderTransition>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct OrderRow {
    pub id: i64,
    #[sqlx(try_from = "String")]
    token: OrderToken,
    reference: String,
    #[sqlx(try_from = "String")]
    status: OrderStatus,
    subtotal_centavos: i64,
    rounding_centavos: i64,
    total_centavos: i64,
    currency: String,
    method_hint: Option<String>,
    expires_at: DbTime,
    created_at: DbTime,
    updated_at: DbTime,
    requoted_from: Option<i64>,
    requoted_from_token: Option<String>,
}

impl OrderRow {
    pub(crate) fn into_order(self, items: Vec<OrderItem>, transitions: Vec<OrderTransition>) -> Order {
        Order {
            id: self.id,
            token: self.token,
            reference: self.reference,
            status: self.status,
            subtotal: Centavos(self.subtotal_centavos),
            rounding: Centavos(self.rounding_centavos),
            total: Centavos(self.total_centavos),
            currency: self.currency,
            method_hint: self.method_hint,
            expires_at: self.expires_at.0,
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
            requoted_from: self.requoted_from,
            requoted_from_token: self.requoted_from_token.as_deref().and_then(OrderToken::parse),
            items,
            transitions,
        }
    }
}

// ---------------------------------------------------------------- payments

/// One attempt to pay an order through a provider (a checkout started).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PaymentAttempt {
    pub id: i64,
    pub order_id: i64,
    pub provider: Provider,
    /// The provider's id (Stripe's Checkout Session id); `None` for the demo.
    pub provider_ref: Option<String>,
    pub idempotency_key: String,
    /// Once known.
    pub method: Option<Method>,
    /// The OXXO voucher or the SPEI transfer details, once issued.
    pub instructions: Option<Instructions>,
    /// The provider's payment id (Stripe's PaymentIntent), once known.
    pub payment_intent: Option<String>,
    /// When the healing sweep asks the provider about it next.
    pub next_check_at: Option<DateTime<Utc>>,
    pub status: AttemptStatus,
    pub amount: Centavos,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct AttemptRow {
    id: i64,
    order_id: i64,
    #[sqlx(try_from = "String")]
    provider: Provider,
    provider_ref: Option<String>,
    idempotency_key: String,
    method: Option<String>,
    instructions: Option<String>,
    payment_intent: Option<String>,
    next_check_at: Option<DbTime>,
    #[sqlx(try_from = "String")]
    status: AttemptStatus,
    amount_centavos: i64,
    created_at: DbTime,
    updated_at: DbTime,
}

impl TryFrom<AttemptRow> for PaymentAttempt {
    type Error = super::StoreError;
    fn try_from(r: AttemptRow) -> Result<Self, Self::Error> {
        let instructions = r
            .instructions
            .as_deref()
            .map(|json| {
                serde_json::from_str::<Instructions>(json)
                    .map_err(|e| super::StoreError::Corrupt(format!("payment instructions {json:?}: {e}")))
            })
            .transpose()?;
        Ok(PaymentAttempt {
            id: r.id,
            order_id: r.order_id,
            provider: r.provider,
            provider_ref: r.provider_ref,
            idempotency_key: r.idempotency_key,
            method: r.method.map(|m| m.parse()).transpose().map_err(|e| super::StoreError::Corrupt(format!("{e}")))?,
            instructions,
            payment_intent: r.payment_intent,
            next_check_at: r.next_check_at.map(|t| t.0),
            status: r.status,
            amount: Centavos(r.amount_centavos),
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
        })
    }
}

/// What [`super::Store::start_attempt`] needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAttempt {
    pub order_id: i64,
    pub provider: Provider,
    pub provider_ref: Option<String>,
    pub idempotency_key: String,
    pub amount: Centavos,
}

/// An event reported by a provider about one attempt (a webhook, a demo
/// button), as [`super::Store::apply_provider_event`] applies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderEvent {
    pub provider: Provider,
    /// The provider's event id: the dedupe key with `provider`.
    pub event_id: String,
    pub attempt_id: i64,
    pub event: PaymentEvent,
    /// The payment method, when the event tells it.
    pub method: Option<Method>,
    /// The OXXO voucher or SPEI transfer details, when the event issues
    /// them. With a deadline, an `AwaitingAsync` event moves the order's
    /// expiry to it (an OXXO order lives as long as its voucher).
    pub instructions: Option<Instructions>,
    /// The provider's payment id, when the event tells it.
    pub payment_intent: Option<String>,
    /// The day (in the municipality's zone) the provider says the money
    /// was taken: the receipt's date and fiscal year, whenever the event is
    /// processed (an OXXO voucher paid on 31 December and reported on
    /// 1 January is December's). `None`: the day it is applied.
    pub paid_on: Option<NaiveDate>,
}

string_enum! {
    /// Where the refund of an overpayment stands.
    pub enum RefundStatus {
        /// Recorded; refunded by hand, or automatically when configured.
        ToRefund = "to_refund",
        Refunded = "refunded",
        /// The provider refused or could not be reached; retried.
        RefundFailed = "refund_failed",
    }
}

/// Money to refund: it arrived for an order that could not take it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Overpayment {
    pub id: i64,
    pub order_id: i64,
    pub attempt_id: i64,
    /// The attempt's provider and payment id (what a refund needs).
    pub provider: Provider,
    pub payment_intent: Option<String>,
    pub amount: Centavos,
    pub reason: OverpaymentReason,
    pub created_at: DateTime<Utc>,
    pub refund: RefundStatus,
    /// The provider's refund id, once refunded.
    pub refund_ref: Option<String>,
    /// The provider's answer to the last failed refund.
    pub refund_error: Option<String>,
    pub refunded_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct OverpaymentRow {
    id: i64,
    order_id: i64,
    attempt_id: i64,
    #[sqlx(try_from = "String")]
    provider: Provider,
    payment_intent: Option<String>,
    amount_centavos: i64,
    #[sqlx(try_from = "String")]
    reason: OverpaymentReason,
    created_at: DbTime,
    #[sqlx(try_from = "String")]
    refund_status: RefundStatus,
    refund_ref: Option<String>,
    refund_error: Option<String>,
    refunded_at: Option<DbTime>,
}

impl From<OverpaymentRow> for Overpayment {
    fn from(r: OverpaymentRow) -> Self {
        Overpayment {
            id: r.id,
            order_id: r.order_id,
            attempt_id: r.attempt_id,
            provider: r.provider,
            payment_intent: r.payment_intent,
            amount: Centavos(r.amount_centavos),
            reason: r.reason,
            created_at: r.created_at.0,
            refund: r.refund_status,
            refund_ref: r.refund_ref,
            refund_error: r.refund_error,
            refunded_at: r.refunded_at.map(|t| t.0),
        }
    }
}

/// A refund or a dispute reported by the provider about a payment
/// (`charge.refunded`, `charge.dispute.*`), found by its payment id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdjustmentEvent {
    pub provider: Provider,
    /// The provider's event id: the dedupe key.
    pub event_id: String,
    /// The payment (Stripe's PaymentIntent) it is about.
    pub payment_intent: String,
    pub kind: AdjustmentKind,
    /// The amount refunded so far, or disputed.
    pub amount: Centavos,
    /// The provider's charge or dispute id.
    pub provider_ref: String,
    /// The provider's reason, when it gives one.
    pub detail: Option<String>,
}

/// What an [`AdjustmentEvent`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdjustmentOutcome {
    /// This event was seen before: nothing changed.
    Duplicate,
    /// No attempt of ours has this payment id.
    NotOurs,
    /// Recorded for the treasury; `cancelled` is the receipt it cancelled
    /// (the order refunded, its charges owed again).
    Recorded { order_id: i64, cancelled: Option<Folio> },
}

/// A stored refund or dispute, as the treasury's list shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Adjustment {
    pub id: i64,
    pub order_id: i64,
    pub reference: String,
    pub kind: AdjustmentKind,
    pub amount: Centavos,
    pub provider_ref: String,
    pub detail: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The order's receipt and whether it is still valid.
    pub folio: Option<String>,
    pub receipt_status: Option<String>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct AdjustmentRow {
    id: i64,
    order_id: i64,
    reference: String,
    #[sqlx(try_from = "String")]
    kind: AdjustmentKind,
    amount_centavos: i64,
    provider_ref: String,
    detail: Option<String>,
    created_at: DbTime,
    folio: Option<String>,
    receipt_status: Option<String>,
}

impl From<AdjustmentRow> for Adjustment {
    fn from(r: AdjustmentRow) -> Self {
        Adjustment {
            id: r.id,
            order_id: r.order_id,
            reference: r.reference,
            kind: r.kind,
            amount: Centavos(r.amount_centavos),
            provider_ref: r.provider_ref,
            detail: r.detail,
            created_at: r.created_at.0,
            folio: r.folio,
            receipt_status: r.receipt_status,
        }
    }
}

// ---------------------------------------------------------------- receipts

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
    /// Online: how it was paid, when known.
    pub method: Option<Method>,
    pub provider: Option<Provider>,
    /// The provider's payment id (Stripe's PaymentIntent), or the event's.
    pub provider_reference: Option<String>,
    pub status: ReceiptStatus,
    /// The signature token (`<key id>.<signature>`, the QR's `s`), made
    /// when the receipt is issued.
    pub signature: Option<String>,
}

impl Receipt {
    /// A receipt of the demonstration provider: no money moved, no value.
    /// Its series says so ([`crate::domain::folio::DEMO_SERIES`], signed);
    /// receipts of versions before that series are known by their provider.
    pub fn is_demo(&self) -> bool {
        self.folio.is_demo() || self.provider == Some(Provider::Demo)
    }
}

/// A receipt is valid, or cancelled by the treasury (its folio stays).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ReceiptStatus {
    Valid,
    Cancelled { reason: String, at: DateTime<Utc> },
}

#[derive(sqlx::FromRow)]
pub(crate) struct ReceiptRow {
    id: i64,
    folio: String,
    order_id: i64,
    attempt_id: Option<i64>,
    issued_at: DbTime,
    issued_on: DbDate,
    account: String,
    payer_name: String,
    total_centavos: i64,
    method: Option<String>,
    provider: Option<String>,
    provider_reference: Option<String>,
    status: String,
    cancel_reason: Option<String>,
    cancelled_at: Option<DbTime>,
    signature: Option<String>,
}

impl TryFrom<ReceiptRow> for Receipt {
    type Error = super::StoreError;
    fn try_from(r: ReceiptRow) -> Result<Self, Self::Error> {
        use super::StoreError::Corrupt;
        let status = match (r.status.as_str(), r.cancel_reason, r.cancelled_at) {
            ("valid", _, _) => ReceiptStatus::Valid,
            ("cancelled", Some(reason), Some(at)) => ReceiptStatus::Cancelled { reason, at: at.0 },
            (other, _, _) => return Err(Corrupt(format!("receipt status {other:?}"))),
        };
        Ok(Receipt {
            id: r.id,
            folio: Folio::parse(&r.folio).map_err(|_| Corrupt(format!("folio {:?}", r.folio)))?,
            order_id: r.order_id,
            attempt_id: r.attempt_id,
            issued_at: r.issued_at.0,
            issued_on: r.issued_on.0,
            account: r.account,
            payer_name: r.payer_name,
            total: Centavos(r.total_centavos),
            method: r.method.map(|m| m.parse()).transpose().map_err(|e| Corrupt(format!("{e}")))?,
            provider: r.provider.map(|p| p.parse()).transpose().map_err(|e| Corrupt(format!("{e}")))?,
            provider_reference: r.provider_reference,
            status,
            signature: r.signature,
        })
    }
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
