//! The payment state machine: what an online payment (Stripe Checkout card
//! or OXXO, the embedded demo provider) may go through, as guarded
//! transitions. Pure: the caller loads the stored [`OrderStatus`], turns
//! what happened (a redirect, a provider webhook, a staff action) into a
//! [`PaymentEvent`], asks [`transition`] and persists the outcome.
//!
//! ```text
//!                      Redirected | AwaitingAsync
//!          ┌─────────┐ ─────────────────────────▶ ┌─────────┐ ──┐ AwaitingAsync
//!          │ created │                            │ pending │   │ (no-op:
//!          └─────────┘                            └─────────┘ ◀─┘  AlreadyThere)
//!               │                                      │
//!               └──────────────────┬───────────────────┘
//!                                  │ (from created or pending)
//!        ┌──────────────┬──────────┴───────┬──────────────────┐
//!        │ Paid         │ Declined |       │ Expired          │ Cancelled
//!        ▼              ▼ AsyncFailed      ▼                  ▼
//!   ┌───────────┐  ┌────────┐         ┌─────────┐       ┌───────────┐
//!   │ succeeded │  │ failed │         │ expired │       │ cancelled │
//!   └───────────┘  └────────┘         └─────────┘       └───────────┘
//!        ├─────────────────────────┐
//!        │ Refunded (provider)     │ Annulled (treasury: a bounced cheque,
//!        ▼                         ▼  an approved cancellation)
//!   ┌──────────┐              ┌──────────┐
//!   │ refunded │              │ annulled │
//!   └──────────┘              └──────────┘
//!
//!   Paid at failed | expired | cancelled → Err(PaidAfterFinal): an
//!   overpayment to refund, never applied to the charges. Any other event
//!   at a final status → Err(Final), except the same outcome again →
//!   Ok(AlreadyThere) (webhook retries).
//! ```
//!
//! * **Live** statuses ([`OrderStatus::is_live`]): `created`, `pending`.
//!   The order still holds its charges; no other order may take them.
//! * **Final** statuses ([`OrderStatus::is_final`]): `succeeded`,
//!   `failed`, `expired`, `cancelled`, `refunded`, `annulled`. The only
//!   moves out of a final status are `succeeded → refunded` and
//!   `succeeded → annulled`.
//! * **Idempotency.** Providers retry webhooks. An event whose outcome is
//!   the status already recorded (Paid at `succeeded`, Expired at `expired`,
//!   Declined or AsyncFailed at `failed`, Refunded at `refunded`, a second
//!   AwaitingAsync at `pending`) returns [`Transition::AlreadyThere`]: the
//!   caller applies nothing. Any other event at a final status is refused
//!   ([`TransitionError::Final`]); Paid at `failed`/`expired`/`cancelled` is
//!   refused distinctly ([`TransitionError::PaidAfterFinal`]): money arrived
//!   for an order that was closed, and the caller records it as an
//!   overpayment to refund, never as a payment of the charges.
//! * Redirected at `pending` is refused ([`TransitionError::NotAllowed`]):
//!   a pending payment already has a checkout (or an OXXO voucher); sending
//!   the citizen to a second one could charge them twice.
//! * Paid at `refunded` is refused as [`TransitionError::Final`]: this
//!   payment was already applied once. Whether it is a late retry of that
//!   notice or new money is for the caller to decide from the provider's
//!   payment id.
//! * Amounts: the state machine does not look at amounts. Before applying
//!   a Paid event the caller checks it with [`check_amount`]; a mismatch is
//!   not a payment of the order.

use serde::{Deserialize, Serialize};

use crate::domain::money::Centavos;

/// The currency of every payment order (ISO 4217, as Stripe writes it).
pub const CURRENCY_MXN: &str = "mxn";

string_enum! {
    /// Where a payment order stands (the order's state; each attempt to pay
    /// it has its own [`AttemptStatus`]).
    pub enum OrderStatus {
        /// The order exists; the citizen has not been sent to pay yet.
        Created = "created",
        /// The citizen was sent to a checkout, or an asynchronous method (OXXO
        /// voucher, SPEI) is waiting for the money.
        Pending = "pending",
        /// The money arrived and was applied to the charges.
        Succeeded = "succeeded",
        /// The provider declined the card or the asynchronous payment failed.
        Failed = "failed",
        /// The checkout or the voucher expired unpaid.
        Expired = "expired",
        /// The citizen or the staff cancelled the order before it was paid.
        Cancelled = "cancelled",
        /// A succeeded payment was refunded.
        Refunded = "refunded",
        /// A succeeded payment was annulled by the treasury: its receipt
        /// cancelled (a bounced cheque, a cancellation approved by a
        /// tesorero), its charges owed again. Never undone.
        Annulled = "annulled",
    }
}

impl OrderStatus {
    /// Spanish label for people (staff pages, logs).
    pub fn label_es(self) -> &'static str {
        match self {
            OrderStatus::Created => "creado",
            OrderStatus::Pending => "pendiente",
            OrderStatus::Succeeded => "pagado",
            OrderStatus::Failed => "fallido",
            OrderStatus::Expired => "vencido",
            OrderStatus::Cancelled => "cancelado",
            OrderStatus::Refunded => "reembolsado",
            OrderStatus::Annulled => "anulado",
        }
    }

    /// The outcome is decided: succeeded, failed, expired, cancelled,
    /// refunded. (Succeeded may still become refunded.)
    pub fn is_final(self) -> bool {
        !self.is_live()
    }

    /// Created or pending: the order still holds its charges.
    pub fn is_live(self) -> bool {
        matches!(self, OrderStatus::Created | OrderStatus::Pending)
    }
}

/// Something that happened to a payment order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PaymentEvent {
    /// The citizen was sent to the provider's checkout.
    Redirected,
    /// An asynchronous method is waiting for the money (OXXO voucher
    /// issued, SPEI transfer pending).
    AwaitingAsync,
    /// The provider reports the money as received.
    Paid { amount: Centavos, currency: String },
    /// The provider declined the payment (card refused, fraud rules…).
    Declined { reason: String },
    /// An asynchronous payment failed (e.g. the provider reports the OXXO
    /// payment as failed).
    AsyncFailed,
    /// The checkout session or the voucher expired unpaid.
    Expired,
    /// The order was cancelled by the citizen or the staff.
    Cancelled,
    /// The provider refunded (part of) a succeeded payment.
    Refunded { amount: Centavos },
    /// The treasury annulled a succeeded payment (its receipt cancelled).
    Annulled { reason: String },
}

impl PaymentEvent {
    /// The kind of event, without its data (for errors and logs).
    pub fn kind(&self) -> PaymentEventKind {
        match self {
            PaymentEvent::Redirected => PaymentEventKind::Redirected,
            PaymentEvent::AwaitingAsync => PaymentEventKind::AwaitingAsync,
            PaymentEvent::Paid { .. } => PaymentEventKind::Paid,
            PaymentEvent::Declined { .. } => PaymentEventKind::Declined,
            PaymentEvent::AsyncFailed => PaymentEventKind::AsyncFailed,
            PaymentEvent::Expired => PaymentEventKind::Expired,
            PaymentEvent::Cancelled => PaymentEventKind::Cancelled,
            PaymentEvent::Refunded { .. } => PaymentEventKind::Refunded,
            PaymentEvent::Annulled { .. } => PaymentEventKind::Annulled,
        }
    }
}

string_enum! {
    /// The kind of a [`PaymentEvent`], without its data (what an order's
    /// transition row records).
    pub enum PaymentEventKind {
        Redirected = "redirected",
        AwaitingAsync = "awaiting_async",
        Paid = "paid",
        Declined = "declined",
        AsyncFailed = "async_failed",
        Expired = "expired",
        Cancelled = "cancelled",
        Refunded = "refunded",
        Annulled = "annulled",
    }
}

impl PaymentEventKind {
    /// Spanish label for people (staff pages, logs).
    pub fn label_es(self) -> &'static str {
        match self {
            PaymentEventKind::Redirected => "envío al pago en línea",
            PaymentEventKind::AwaitingAsync => "pago en espera (OXXO / SPEI)",
            PaymentEventKind::Paid => "pago recibido",
            PaymentEventKind::Declined => "pago rechazado",
            PaymentEventKind::AsyncFailed => "pago en espera fallido",
            PaymentEventKind::Expired => "vencimiento",
            PaymentEventKind::Cancelled => "cancelación",
            PaymentEventKind::Refunded => "reembolso",
            PaymentEventKind::Annulled => "anulación del recibo",
        }
    }

    /// The status this kind of event leads to when it is allowed.
    pub fn target(self) -> OrderStatus {
        match self {
            PaymentEventKind::Redirected | PaymentEventKind::AwaitingAsync => OrderStatus::Pending,
            PaymentEventKind::Paid => OrderStatus::Succeeded,
            PaymentEventKind::Declined | PaymentEventKind::AsyncFailed => OrderStatus::Failed,
            PaymentEventKind::Expired => OrderStatus::Expired,
            PaymentEventKind::Cancelled => OrderStatus::Cancelled,
            PaymentEventKind::Refunded => OrderStatus::Refunded,
            PaymentEventKind::Annulled => OrderStatus::Annulled,
        }
    }
}

string_enum! {
    /// Who takes the money of an online payment.
    pub enum Provider {
        /// The embedded demo provider (`recauda demo`): no money moves.
        Demo = "demo",
        /// Stripe Checkout (card, OXXO, SPEI).
        Stripe = "stripe",
        /// The treasury's own window (caja): a cajero took the money.
        Window = "window",
    }
}

string_enum! {
    /// How the citizen pays at the provider.
    pub enum Method {
        Card = "card",
        /// Cash at an OXXO store, with a voucher (asynchronous).
        Oxxo = "oxxo",
        /// A bank transfer through SPEI to a CLABE the provider assigns
        /// (Stripe's `customer_balance`; asynchronous).
        Spei = "spei",
        /// Cash at the window.
        Cash = "cash",
        /// A cheque at the window (bank and number recorded; it may bounce).
        Cheque = "cheque",
        /// A bank transfer reported at the window (its tracking key).
        Transfer = "transfer",
    }
}

string_enum! {
    /// Where one attempt to pay an order stands. It follows its order's
    /// status ([`attempt_status_for`]) while it is the attempt that moves
    /// the order; money it brought for an order that could not take it
    /// makes it `overpaid` ([`on_provider_event`]).
    pub enum AttemptStatus {
        Pending = "pending",
        Succeeded = "succeeded",
        Failed = "failed",
        Expired = "expired",
        Cancelled = "cancelled",
        Refunded = "refunded",
        /// Its money arrived for an order already closed, or already paid
        /// by another attempt: an overpayment to refund.
        Overpaid = "overpaid",
    }
}

/// The attempt status written after an event moved (or kept) its order at
/// `order`.
pub fn attempt_status_for(order: OrderStatus) -> AttemptStatus {
    match order {
        OrderStatus::Created | OrderStatus::Pending => AttemptStatus::Pending,
        OrderStatus::Succeeded => AttemptStatus::Succeeded,
        OrderStatus::Failed => AttemptStatus::Failed,
        OrderStatus::Expired => AttemptStatus::Expired,
        OrderStatus::Cancelled => AttemptStatus::Cancelled,
        OrderStatus::Refunded => AttemptStatus::Refunded,
        // The attempt did bring the money; the treasury annulled the receipt.
        OrderStatus::Annulled => AttemptStatus::Succeeded,
    }
}

string_enum! {
    /// Why money could not be applied to its order (an overpayment).
    pub enum OverpaymentReason {
        /// The order was already paid by another attempt.
        SecondPayment = "second_payment",
        PaidAfterFailed = "paid_after_failed",
        PaidAfterExpired = "paid_after_expired",
        PaidAfterCancelled = "paid_after_cancelled",
        /// The provider reported another amount than the order's: a
        /// discrepancy for the treasury, never applied.
        AmountMismatch = "amount_mismatch",
        /// The provider reported another currency than the order's.
        CurrencyMismatch = "currency_mismatch",
        /// A charge of the order was already paid some other way (at the
        /// window, by an order that raced it): nothing may be paid twice.
        ChargesAlreadyPaid = "charges_already_paid",
    }
}

impl OverpaymentReason {
    /// The reason for money that arrived at an order closed as `status`.
    pub fn paid_after(status: OrderStatus) -> Option<OverpaymentReason> {
        match status {
            OrderStatus::Failed => Some(OverpaymentReason::PaidAfterFailed),
            OrderStatus::Expired => Some(OverpaymentReason::PaidAfterExpired),
            OrderStatus::Cancelled => Some(OverpaymentReason::PaidAfterCancelled),
            _ => None,
        }
    }
}

/// What a provider event does, decided by [`on_provider_event`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventEffect {
    pub outcome: EventOutcome,
    /// The attempt's status afterwards.
    pub attempt: AttemptStatus,
}

/// The outcome of a provider event for its order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventOutcome {
    /// This (provider, event id) was seen before: nothing changed.
    Duplicate,
    /// The order's guarded transition (Moved, or AlreadyThere for a repeat).
    Applied(Transition),
    /// Money for an order already closed, or already paid by another
    /// attempt: recorded once as an overpayment to refund, never applied.
    Overpayment { reason: OverpaymentReason },
    /// Money in another amount or currency than the order's: recorded as a
    /// discrepancy for the treasury (an overpayment row with the reason, to
    /// refund), never applied; a live order is closed as failed
    /// (`transition`), so its charges are free again instead of held by an
    /// order that can never be paid.
    Discrepancy { reason: OverpaymentReason, transition: Option<Transition> },
}

/// Decides what a provider event about one attempt does, given where the
/// order and the attempt stand (both read under the order's lock):
///
/// * money (`Paid`) for an order already succeeded through another attempt
///   is an overpayment (`second_payment`);
/// * otherwise the order's guarded [`transition`]: money for an order
///   closed as failed, expired or cancelled is an overpayment
///   (`paid_after_…`); any other refused event is an error (nothing
///   written);
/// * the attempt follows its order ([`attempt_status_for`]), or becomes
///   `overpaid`; an attempt that already failed, expired or was overpaid
///   keeps its status when the event changes nothing (a retried webhook);
/// * an attempt still pending when its order was settled another way (paid
///   at the window) and that ends without money (expired, declined,
///   failed, cancelled) closes alone: the order is already there.
pub fn on_provider_event(
    order: OrderStatus,
    attempt: AttemptStatus,
    event: &PaymentEvent,
) -> Result<EventEffect, TransitionError> {
    let overpaid =
        |reason| Ok(EventEffect { outcome: EventOutcome::Overpayment { reason }, attempt: AttemptStatus::Overpaid });
    if matches!(event, PaymentEvent::Paid { .. })
        && order == OrderStatus::Succeeded
        && attempt != AttemptStatus::Succeeded
    {
        return overpaid(OverpaymentReason::SecondPayment);
    }
    // An attempt still open when its order was settled another way (paid at
    // the window while an OXXO voucher was out) ends without money: the
    // attempt closes, the order keeps its status.
    let closes_without_money = matches!(
        event,
        PaymentEvent::Expired | PaymentEvent::Declined { .. } | PaymentEvent::AsyncFailed | PaymentEvent::Cancelled
    );
    if order.is_final() && attempt == AttemptStatus::Pending && closes_without_money {
        return Ok(EventEffect {
            outcome: EventOutcome::Applied(Transition::AlreadyThere(order)),
            attempt: attempt_status_for(event.kind().target()),
        });
    }
    match transition(order, event) {
        Ok(t) => {
            let keep = matches!(t, Transition::AlreadyThere(_)) && attempt != AttemptStatus::Pending;
            let next = if keep { attempt } else { attempt_status_for(t.status()) };
            Ok(EventEffect { outcome: EventOutcome::Applied(t), attempt: next })
        }
        Err(TransitionError::PaidAfterFinal(from)) => match OverpaymentReason::paid_after(from) {
            Some(reason) => overpaid(reason),
            None => Err(TransitionError::PaidAfterFinal(from)),
        },
        Err(e) => Err(e),
    }
}

/// Decides what a `Paid` event that failed [`check_amount`] does: the
/// money is recorded as a discrepancy (reason from the mismatch), the
/// attempt becomes `overpaid`, and a live order fails (a `Declined`
/// transition, releasing its charges). An order already closed keeps its
/// status.
pub fn on_mismatched_payment(order: OrderStatus, mismatch: &TransitionError) -> EventEffect {
    let reason = match mismatch {
        TransitionError::CurrencyMismatch { .. } => OverpaymentReason::CurrencyMismatch,
        _ => OverpaymentReason::AmountMismatch,
    };
    on_unappliable_payment(order, reason)
}

/// Money that must not be applied to its order (`reason`): recorded as a
/// discrepancy, the attempt `overpaid`, a live order failed (its charges
/// released); an order already closed keeps its status.
pub fn on_unappliable_payment(order: OrderStatus, reason: OverpaymentReason) -> EventEffect {
    let closed = transition(order, &PaymentEvent::Declined { reason: reason.as_str().into() })
        .ok()
        .filter(|t| matches!(t, Transition::Moved { .. }));
    EventEffect { outcome: EventOutcome::Discrepancy { reason, transition: closed }, attempt: AttemptStatus::Overpaid }
}

string_enum! {
    /// What a provider reported about money already taken: a refund (full
    /// or partial) or a dispute (a chargeback) opened, won or lost.
    pub enum AdjustmentKind {
        Refund = "refund",
        PartialRefund = "partial_refund",
        DisputeOpened = "dispute_opened",
        DisputeWon = "dispute_won",
        DisputeLost = "dispute_lost",
    }
}

impl AdjustmentKind {
    /// Whether the money is gone for good: the receipt no longer covers
    /// anything and the charges are owed again.
    pub fn takes_the_money_back(self) -> bool {
        matches!(self, AdjustmentKind::Refund | AdjustmentKind::DisputeLost)
    }

    pub fn label_es(self) -> &'static str {
        match self {
            AdjustmentKind::Refund => "reembolso total",
            AdjustmentKind::PartialRefund => "reembolso parcial",
            AdjustmentKind::DisputeOpened => "contracargo abierto",
            AdjustmentKind::DisputeWon => "contracargo ganado",
            AdjustmentKind::DisputeLost => "contracargo perdido",
        }
    }

    /// The cancellation reason a receipt gets when this takes the money
    /// back (`provider_ref`: the provider's charge or dispute id).
    pub fn cancel_reason_es(self, provider_ref: &str) -> String {
        match self {
            AdjustmentKind::DisputeLost => {
                format!("Contracargo perdido: el banco del pagador retiró el pago ({provider_ref})")
            }
            _ => format!("Pago reembolsado al pagador ({provider_ref})"),
        }
    }
}

/// Whether an adjustment cancels the order's receipt and reopens its
/// charges: only money taken back for good, from the attempt that paid an
/// order that is (still) succeeded. A refund of money that was never
/// applied (an overpayment refunded) or a second report changes nothing
/// but the record.
pub fn adjustment_refunds_order(kind: AdjustmentKind, order: OrderStatus, attempt: AttemptStatus) -> bool {
    kind.takes_the_money_back() && order == OrderStatus::Succeeded && attempt == AttemptStatus::Succeeded
}

/// The smallest total Stripe charges in MXN ($10.00): a Checkout Session
/// for less is refused, so such an order is never sent online (the
/// formato de pago still works at the window). The demo provider keeps the
/// same rule.
pub const ONLINE_MINIMUM: Centavos = Centavos(1_000);

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

/// An allowed outcome of [`transition`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// The status changes from `from` to `to`: persist it and apply its
    /// effect (e.g. mark the charges paid on `succeeded`, release them on
    /// `failed`/`expired`/`cancelled`).
    Moved { from: OrderStatus, to: OrderStatus },
    /// Nothing changes: the event repeats the outcome already recorded
    /// (a retried webhook, a second OXXO voucher notice). Record the event
    /// if useful, apply nothing.
    AlreadyThere(OrderStatus),
}

impl Transition {
    /// The status after the event.
    pub fn status(self) -> OrderStatus {
        match self {
            Transition::Moved { to, .. } => to,
            Transition::AlreadyThere(s) => s,
        }
    }

    /// Whether the status changed (something must be persisted/applied).
    pub fn is_change(self) -> bool {
        matches!(self, Transition::Moved { .. })
    }
}

/// Why an event was refused, or why a payment does not match its order.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The event does not apply to a live payment in this status (a refund
    /// of an unpaid order, a second redirect of a pending one).
    #[error("event {event} is not allowed for a {from} payment")]
    NotAllowed { from: OrderStatus, event: PaymentEventKind },
    /// The payment already has a final status and the event would change it.
    #[error("the payment is already {from}; event {event} refused")]
    Final { from: OrderStatus, event: PaymentEventKind },
    /// Money arrived for an order already failed, expired or cancelled: an
    /// overpayment to refund, never to be applied to the charges.
    #[error("payment received for an order already {0}: record it as an overpayment to refund")]
    PaidAfterFinal(OrderStatus),
    /// The amount paid differs from the order's amount.
    #[error("amount paid {got} does not match the order amount {expected}")]
    AmountMismatch { expected: Centavos, got: Centavos },
    /// The currency paid differs from the order's currency.
    #[error("currency paid {got:?} does not match the order currency {expected:?}")]
    CurrencyMismatch { expected: String, got: String },
}

impl TransitionError {
    /// Spanish message for logs and staff pages.
    pub fn message_es(&self) -> String {
        match self {
            TransitionError::NotAllowed { from, event } => {
                format!("El evento «{}» no procede para un pago en estado «{}».", event.label_es(), from.label_es())
            }
            TransitionError::Final { from, event } => {
                format!("El pago ya está en estado «{}»; se rechaza el evento «{}».", from.label_es(), event.label_es())
            }
            TransitionError::PaidAfterFinal(from) => format!(
                "Se recibió un pago para una orden en estado «{}»: regístrelo como pago en exceso \
                 por devolver; no se aplica a los adeudos.",
                from.label_es()
            ),
            TransitionError::AmountMismatch { expected, got } => {
                format!("El importe recibido ({got}) no coincide con el de la orden ({expected}).")
            }
            TransitionError::CurrencyMismatch { expected, got } => format!(
                "La moneda recibida ({}) no es la de la orden ({}).",
                got.to_uppercase(),
                expected.to_uppercase()
            ),
        }
    }

    /// English message (the same as `Display`).
    pub fn message_en(&self) -> String {
        self.to_string()
    }
}

/// Applies `event` to a payment in status `from`. See the module
/// documentation for the diagram and the rules.
pub fn transition(from: OrderStatus, event: &PaymentEvent) -> Result<Transition, TransitionError> {
    use OrderStatus as S;
    use PaymentEventKind as E;

    let kind = event.kind();
    let to = kind.target();
    let moved = Ok(Transition::Moved { from, to });
    match (from, kind) {
        // A refund needs a succeeded payment.
        (S::Created | S::Pending, E::Refunded | E::Annulled) => Err(TransitionError::NotAllowed { from, event: kind }),
        // A pending payment already has its checkout or voucher.
        (S::Pending, E::Redirected) => Err(TransitionError::NotAllowed { from, event: kind }),
        (S::Pending, E::AwaitingAsync) => Ok(Transition::AlreadyThere(S::Pending)),
        (S::Created | S::Pending, _) => moved,
        (S::Succeeded, E::Refunded | E::Annulled) => moved,
        // Final statuses from here on: identical outcomes are harmless.
        (_, _) if to == from => Ok(Transition::AlreadyThere(from)),
        (S::Failed | S::Expired | S::Cancelled, E::Paid) => Err(TransitionError::PaidAfterFinal(from)),
        (_, _) => Err(TransitionError::Final { from, event: kind }),
    }
}

/// Checks that a payment reported by a provider matches its order: same
/// currency (compared case-insensitively: Stripe writes `"mxn"`) and exactly
/// the same amount. The currency is checked first.
pub fn check_amount(
    expected: Centavos,
    expected_currency: &str,
    got: Centavos,
    got_currency: &str,
) -> Result<(), TransitionError> {
    if !expected_currency.eq_ignore_ascii_case(got_currency) {
        return Err(TransitionError::CurrencyMismatch {
            expected: expected_currency.to_string(),
            got: got_currency.to_string(),
        });
    }
    if expected != got {
        return Err(TransitionError::AmountMismatch { expected, got });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn only_money_taken_back_from_the_paying_attempt_refunds_the_order() {
        use AdjustmentKind::*;
        for kind in AdjustmentKind::ALL {
            let back = matches!(kind, Refund | DisputeLost);
            assert_eq!(kind.takes_the_money_back(), back, "{kind}");
            assert_eq!(
                adjustment_refunds_order(kind, OrderStatus::Succeeded, AttemptStatus::Succeeded),
                back,
                "{kind}"
            );
            // An overpayment refunded, an order already refunded: records only.
            assert!(!adjustment_refunds_order(kind, OrderStatus::Succeeded, AttemptStatus::Overpaid));
            assert!(!adjustment_refunds_order(kind, OrderStatus::Refunded, AttemptStatus::Refunded));
            assert!(!adjustment_refunds_order(kind, OrderStatus::Failed, AttemptStatus::Overpaid));
        }
        assert!(DisputeLost.cancel_reason_es("dp_1").contains("Contracargo perdido"));
        assert!(Refund.cancel_reason_es("ch_1").contains("reembolsado"));
    }

    #[test]
    fn an_attempt_left_open_by_a_payment_elsewhere_closes_alone() {
        // Paid at the window while the OXXO voucher was out: the voucher
        // expires (or fails) later; the order stays paid.
        for (event, attempt) in [
            (PaymentEvent::Expired, AttemptStatus::Expired),
            (PaymentEvent::AsyncFailed, AttemptStatus::Failed),
            (PaymentEvent::Declined { reason: "x".into() }, AttemptStatus::Failed),
        ] {
            let effect = on_provider_event(OrderStatus::Succeeded, AttemptStatus::Pending, &event).unwrap();
            assert_eq!(effect.outcome, EventOutcome::Applied(Transition::AlreadyThere(OrderStatus::Succeeded)));
            assert_eq!(effect.attempt, attempt);
        }
        // Its money, if it comes, is a second payment to refund.
        let paid = PaymentEvent::Paid { amount: Centavos(100), currency: CURRENCY_MXN.into() };
        let effect = on_provider_event(OrderStatus::Succeeded, AttemptStatus::Pending, &paid).unwrap();
        assert_eq!(effect.outcome, EventOutcome::Overpayment { reason: OverpaymentReason::SecondPayment });
        // The attempt that paid is not closed by a stray event.
        assert!(on_provider_event(OrderStatus::Succeeded, AttemptStatus::Succeeded, &PaymentEvent::Expired).is_err());
    }

    #[test]
    fn a_mismatched_payment_is_a_discrepancy_that_frees_a_live_order() {
        let amount = check_amount(Centavos(100_000), CURRENCY_MXN, Centavos(99_999), "mxn").unwrap_err();
        let currency = check_amount(Centavos(100_000), CURRENCY_MXN, Centavos(100_000), "usd").unwrap_err();
        let e = on_mismatched_payment(OrderStatus::Pending, &amount);
        assert_eq!(e.attempt, AttemptStatus::Overpaid);
        assert_eq!(
            e.outcome,
            EventOutcome::Discrepancy {
                reason: OverpaymentReason::AmountMismatch,
                transition: Some(Transition::Moved { from: OrderStatus::Pending, to: OrderStatus::Failed }),
            }
        );
        let e = on_mismatched_payment(OrderStatus::Pending, &currency);
        assert!(matches!(e.outcome, EventOutcome::Discrepancy { reason: OverpaymentReason::CurrencyMismatch, .. }));
        // Closed orders keep their status: paid by another attempt, failed, expired.
        for closed in [OrderStatus::Succeeded, OrderStatus::Failed, OrderStatus::Expired, OrderStatus::Cancelled] {
            let e = on_mismatched_payment(closed, &amount);
            assert_eq!(
                e.outcome,
                EventOutcome::Discrepancy { reason: OverpaymentReason::AmountMismatch, transition: None },
                "{closed}"
            );
        }
    }

    fn event(kind: PaymentEventKind) -> PaymentEvent {
        match kind {
            PaymentEventKind::Redirected => PaymentEvent::Redirected,
            PaymentEventKind::AwaitingAsync => PaymentEvent::AwaitingAsync,
            PaymentEventKind::Paid => {
                PaymentEvent::Paid { amount: Centavos(123_400), currency: CURRENCY_MXN.to_string() }
            }
            PaymentEventKind::Declined => PaymentEvent::Declined { reason: "card_declined".to_string() },
            PaymentEventKind::AsyncFailed => PaymentEvent::AsyncFailed,
            PaymentEventKind::Expired => PaymentEvent::Expired,
            PaymentEventKind::Cancelled => PaymentEvent::Cancelled,
            PaymentEventKind::Refunded => PaymentEvent::Refunded { amount: Centavos(123_400) },
            PaymentEventKind::Annulled => PaymentEvent::Annulled { reason: "cheque devuelto".to_string() },
        }
    }

    /// Expected outcome of one cell of the matrix.
    #[derive(Clone, Copy, Debug, PartialEq)]
    enum X {
        /// Moved to this status.
        To(OrderStatus),
        /// AlreadyThere (no-op).
        Same,
        /// NotAllowed.
        No,
        /// Final.
        Fin,
        /// PaidAfterFinal.
        Late,
    }

    #[test]
    fn every_status_event_pair_matches_the_matrix() {
        use OrderStatus::*;
        use X::*;
        // Columns: Redirected, AwaitingAsync, Paid, Declined, AsyncFailed,
        //          Expired, Cancelled, Refunded, Annulled.
        let matrix: [(OrderStatus, [X; 9]); 8] = [
            (
                Created,
                [To(Pending), To(Pending), To(Succeeded), To(Failed), To(Failed), To(Expired), To(Cancelled), No, No],
            ),
            (Pending, [No, Same, To(Succeeded), To(Failed), To(Failed), To(Expired), To(Cancelled), No, No]),
            (Succeeded, [Fin, Fin, Same, Fin, Fin, Fin, Fin, To(Refunded), To(Annulled)]),
            (Failed, [Fin, Fin, Late, Same, Same, Fin, Fin, Fin, Fin]),
            (Expired, [Fin, Fin, Late, Fin, Fin, Same, Fin, Fin, Fin]),
            (Cancelled, [Fin, Fin, Late, Fin, Fin, Fin, Same, Fin, Fin]),
            (Refunded, [Fin, Fin, Fin, Fin, Fin, Fin, Fin, Same, Fin]),
            (Annulled, [Fin, Fin, Fin, Fin, Fin, Fin, Fin, Fin, Same]),
        ];
        assert_eq!(matrix.map(|(s, _)| s), OrderStatus::ALL, "one row per status");
        let mut cells = 0;
        for (from, row) in matrix {
            for (kind, expected) in PaymentEventKind::ALL.into_iter().zip(row) {
                let got = transition(from, &event(kind));
                let want = match expected {
                    To(to) => Ok(Transition::Moved { from, to }),
                    Same => Ok(Transition::AlreadyThere(from)),
                    No => Err(TransitionError::NotAllowed { from, event: kind }),
                    Fin => Err(TransitionError::Final { from, event: kind }),
                    Late => Err(TransitionError::PaidAfterFinal(from)),
                };
                assert_eq!(got, want, "{from} × {kind}");
                cells += 1;
            }
        }
        assert_eq!(cells, 8 * 9);
    }

    #[test]
    fn final_statuses_only_leave_succeeded_to_refunded_or_annulled() {
        for from in OrderStatus::ALL.into_iter().filter(|s| s.is_final()) {
            for kind in PaymentEventKind::ALL {
                if let Ok(Transition::Moved { to, .. }) = transition(from, &event(kind)) {
                    assert_eq!(from, OrderStatus::Succeeded);
                    assert!(matches!(to, OrderStatus::Refunded | OrderStatus::Annulled), "{to}");
                }
            }
        }
    }

    #[test]
    fn event_data_does_not_change_the_outcome() {
        // A Paid with another amount at succeeded is still a retry: amounts
        // are the caller's business (check_amount), not the state machine's.
        let paid = PaymentEvent::Paid { amount: Centavos(1), currency: "usd".to_string() };
        assert_eq!(transition(OrderStatus::Succeeded, &paid), Ok(Transition::AlreadyThere(OrderStatus::Succeeded)));
        let declined = PaymentEvent::Declined { reason: String::new() };
        assert_eq!(
            transition(OrderStatus::Pending, &declined),
            Ok(Transition::Moved { from: OrderStatus::Pending, to: OrderStatus::Failed })
        );
    }

    #[test]
    fn status_names_round_trip() {
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
            assert_eq!(s.to_string(), s.as_str());
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(serde_json::from_str::<OrderStatus>(&json).unwrap(), s);
            assert_ne!(s.is_final(), s.is_live());
        }
        assert_eq!(OrderStatus::parse("Succeeded"), None);
        assert_eq!(OrderStatus::parse(" pending"), None);
        assert_eq!(OrderStatus::parse(""), None);
        for k in PaymentEventKind::ALL {
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
            assert_eq!(event(k).kind(), k);
        }
    }

    #[test]
    fn live_and_final() {
        use OrderStatus::*;
        let live: Vec<_> = OrderStatus::ALL.into_iter().filter(|s| s.is_live()).collect();
        assert_eq!(live, [Created, Pending]);
        let fin: Vec<_> = OrderStatus::ALL.into_iter().filter(|s| s.is_final()).collect();
        assert_eq!(fin, [Succeeded, Failed, Expired, Cancelled, Refunded, Annulled]);
    }

    #[test]
    fn transition_helpers() {
        let t = transition(OrderStatus::Created, &PaymentEvent::Redirected).unwrap();
        assert!(t.is_change());
        assert_eq!(t.status(), OrderStatus::Pending);
        let t = transition(OrderStatus::Pending, &PaymentEvent::AwaitingAsync).unwrap();
        assert!(!t.is_change());
        assert_eq!(t.status(), OrderStatus::Pending);
    }

    #[test]
    fn event_serde() {
        let e = PaymentEvent::Paid { amount: Centavos(123_450), currency: "mxn".to_string() };
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(json, r#"{"kind":"paid","amount":"1234.50","currency":"mxn"}"#);
        assert_eq!(serde_json::from_str::<PaymentEvent>(&json).unwrap(), e);
        let json = serde_json::to_string(&PaymentEvent::AwaitingAsync).unwrap();
        assert_eq!(json, r#"{"kind":"awaiting_async"}"#);
    }

    #[test]
    fn amounts_are_checked() {
        let m = Centavos(123_400);
        assert_eq!(check_amount(m, "mxn", m, "mxn"), Ok(()));
        assert_eq!(check_amount(m, "mxn", m, "MXN"), Ok(()));
        assert_eq!(check_amount(m, "MXN", m, "Mxn"), Ok(()));
        assert_eq!(
            check_amount(m, "mxn", Centavos(123_399), "mxn"),
            Err(TransitionError::AmountMismatch { expected: m, got: Centavos(123_399) })
        );
        assert_eq!(
            check_amount(m, "mxn", Centavos(123_500), "mxn"),
            Err(TransitionError::AmountMismatch { expected: m, got: Centavos(123_500) })
        );
        // Currency first, even when the amount also differs.
        assert_eq!(
            check_amount(m, "mxn", Centavos(1), "usd"),
            Err(TransitionError::CurrencyMismatch { expected: "mxn".to_string(), got: "usd".to_string() })
        );
        assert!(check_amount(m, "mxn", m, "mxn ").is_err());
        assert!(check_amount(m, "mxn", m, "").is_err());
    }

    #[test]
    fn messages() {
        let e = TransitionError::PaidAfterFinal(OrderStatus::Expired);
        assert_eq!(
            e.message_es(),
            "Se recibió un pago para una orden en estado «vencido»: regístrelo como pago en \
             exceso por devolver; no se aplica a los adeudos."
        );
        assert_eq!(
            e.to_string(),
            "payment received for an order already expired: record it as an overpayment to refund"
        );
        let e = TransitionError::Final { from: OrderStatus::Succeeded, event: PaymentEventKind::Declined };
        assert_eq!(e.message_es(), "El pago ya está en estado «pagado»; se rechaza el evento «pago rechazado».");
        assert_eq!(e.message_en(), "the payment is already succeeded; event declined refused");
        let e = TransitionError::NotAllowed { from: OrderStatus::Pending, event: PaymentEventKind::Redirected };
        assert_eq!(e.message_es(), "El evento «envío al pago en línea» no procede para un pago en estado «pendiente».");
        let e = TransitionError::AmountMismatch { expected: Centavos(123_400), got: Centavos(100) };
        assert_eq!(e.message_es(), "El importe recibido ($1.00) no coincide con el de la orden ($1,234.00).");
        assert_eq!(e.to_string(), "amount paid $1.00 does not match the order amount $1,234.00");
        let e = TransitionError::CurrencyMismatch { expected: "mxn".to_string(), got: "usd".to_string() };
        assert_eq!(e.message_es(), "La moneda recibida (USD) no es la de la orden (MXN).");
    }

    fn any_event() -> impl Strategy<Value = PaymentEvent> {
        prop_oneof![
            Just(PaymentEvent::Redirected),
            Just(PaymentEvent::AwaitingAsync),
            (0i64..1_000_000, prop_oneof![Just("mxn"), Just("MXN"), Just("usd")])
                .prop_map(|(c, cur)| PaymentEvent::Paid { amount: Centavos(c), currency: cur.to_string() }),
            "[a-z_]{0,12}".prop_map(|reason| PaymentEvent::Declined { reason }),
            Just(PaymentEvent::AsyncFailed),
            Just(PaymentEvent::Expired),
            Just(PaymentEvent::Cancelled),
            (0i64..1_000_000).prop_map(|c| PaymentEvent::Refunded { amount: Centavos(c) }),
        ]
    }

    proptest! {
        #[test]
        fn random_histories_respect_the_rules(events in prop::collection::vec(any_event(), 0..40)) {
            let mut status = OrderStatus::Created;
            let mut paid_applied = 0;
            for e in &events {
                match transition(status, e) {
                    Ok(Transition::Moved { from, to }) => {
                        prop_assert_eq!(from, status);
                        prop_assert_ne!(from, to);
                        prop_assert_eq!(to, e.kind().target());
                        if status.is_final() {
                            prop_assert_eq!(
                                (status, to),
                                (OrderStatus::Succeeded, OrderStatus::Refunded)
                            );
                        }
                        if to == OrderStatus::Succeeded {
                            paid_applied += 1;
                        }
                        status = to;
                    }
                    Ok(Transition::AlreadyThere(s)) => {
                        prop_assert_eq!(s, status);
                        prop_assert_eq!(s, e.kind().target());
                    }
                    Err(TransitionError::PaidAfterFinal(s)) => {
                        prop_assert_eq!(s, status);
                        prop_assert_eq!(e.kind(), PaymentEventKind::Paid);
                        prop_assert!(matches!(
                            s,
                            OrderStatus::Failed | OrderStatus::Expired | OrderStatus::Cancelled
                        ));
                    }
                    Err(TransitionError::Final { from, event }) => {
                        prop_assert_eq!(from, status);
                        prop_assert!(from.is_final());
                        prop_assert_eq!(event, e.kind());
                    }
                    Err(TransitionError::NotAllowed { from, event }) => {
                        prop_assert_eq!(from, status);
                        prop_assert!(from.is_live());
                        prop_assert_eq!(event, e.kind());
                    }
                    Err(other) => prop_assert!(false, "unexpected error {:?}", other),
                }
            }
            prop_assert!(paid_applied <= 1, "Paid applied {} times", paid_applied);
        }
    }
}
