//! Payment attempts, the provider events that move them (THE one path every
//! webhook, demo button and sweep takes), and overpayments to refund.

use chrono::{DateTime, NaiveDate, Utc};

use super::audit::AuditAction;
use super::dialect::Stmt;
use super::orders::{move_order, persist_transition};
use super::receipts::{undo_payment, PaidBy};
use super::records::{
    timestamp_to_db, Adjustment, AdjustmentEvent, AdjustmentOutcome, AdjustmentRow, AttemptRow, NewAttempt,
    Overpayment, OverpaymentRow, PaymentAttempt, ProviderEvent, RefundStatus,
};
use super::{query_err, HealNote, Store, StoreError};
use crate::domain::money::Centavos;
use crate::domain::payment::{
    adjustment_refunds_order, check_amount, on_mismatched_payment, on_provider_event, on_unappliable_payment,
    transition, AttemptStatus, EventOutcome, Method, OrderStatus, OverpaymentReason, PaymentEvent, PaymentEventKind,
    Provider, Transition, CURRENCY_MXN,
};
use crate::receipt_keys::ReceiptKeys;

macro_rules! attempt_select {
    () => {
        "SELECT id, order_id, provider, provider_ref, idempotency_key, method, instructions, payment_intent, \
                {ts_text:next_check_at} AS next_check_at, status, amount_centavos, \
                {ts_text:created_at} AS created_at, {ts_text:updated_at} AS updated_at \
         FROM payment_attempts"
    };
}

static INSERT_ATTEMPT: Stmt = Stmt::new(
    "INSERT INTO payment_attempts (order_id, provider, provider_ref, idempotency_key, status, amount_centavos, \
     created_at, updated_at) VALUES ($1, $2, $3, $4, 'pending', $5, {ts:$6}, {ts:$6}) RETURNING id",
);
static ATTEMPT_BY_ID: Stmt = Stmt::new(concat!(attempt_select!(), " WHERE id = $1"));
static ATTEMPTS_OF_ORDER: Stmt = Stmt::new(concat!(attempt_select!(), " WHERE order_id = $1 ORDER BY id"));
static ATTEMPTS_TO_CHECK: Stmt = Stmt::new(concat!(
    attempt_select!(),
    " WHERE provider = $1 AND status = 'pending' AND created_at <= {ts:$2} \
      AND (next_check_at IS NULL OR next_check_at <= {ts:$3}) ORDER BY COALESCE(next_check_at, created_at), id"
));
static SET_PROVIDER_REF: Stmt = Stmt::new(
    "UPDATE payment_attempts SET provider_ref = $2, updated_at = {ts:$3} \
     WHERE id = $1 AND status = 'pending' AND provider_ref IS NULL",
);
static SET_NEXT_CHECK: Stmt = Stmt::new("UPDATE payment_attempts SET next_check_at = {ts:$2} WHERE id = $1");
static RECORD_EVENT: Stmt = Stmt::new(
    "INSERT INTO provider_events (provider, event_id, received_at) VALUES ($1, $2, {ts:$3}) \
     ON CONFLICT (provider, event_id) DO NOTHING",
);
static EVENT_ATTEMPT: Stmt =
    Stmt::new("SELECT order_id, amount_centavos FROM payment_attempts WHERE id = $1 AND provider = $2");
static ATTEMPT_STATE: Stmt = Stmt::new(
    "SELECT status, method, COALESCE(payment_intent, provider_ref) AS reference FROM payment_attempts WHERE id = $1",
);

/// Where an attempt stands, read under its order's lock.
#[derive(sqlx::FromRow)]
struct AttemptState {
    #[sqlx(try_from = "String")]
    status: AttemptStatus,
    method: Option<String>,
    /// Its payment id, or the provider's session id.
    reference: Option<String>,
}
static INSERT_OVERPAYMENT: Stmt = Stmt::new(
    "INSERT INTO overpayments (order_id, attempt_id, amount_centavos, reason, created_at) \
     VALUES ($1, $2, $3, $4, {ts:$5}) ON CONFLICT (attempt_id) DO NOTHING",
);
static UPDATE_ATTEMPT: Stmt = Stmt::new(
    "UPDATE payment_attempts SET status = $2, method = COALESCE($3, method), \
            instructions = COALESCE($4, instructions), pay_before = COALESCE({ts:$5}, pay_before), \
            payment_intent = COALESCE($6, payment_intent), updated_at = {ts:$7} \
     WHERE id = $1",
);

macro_rules! overpayment_select {
    () => {
        "SELECT o.id, o.order_id, o.attempt_id, a.provider, a.payment_intent, o.amount_centavos, o.reason, \
                {ts_text:o.created_at} AS created_at, o.refund_status, o.refund_ref, o.refund_error, \
                {ts_text:o.refunded_at} AS refunded_at \
         FROM overpayments o JOIN payment_attempts a ON a.id = o.attempt_id"
    };
}
static OVERPAYMENTS_OF_ORDER: Stmt = Stmt::new(concat!(overpayment_select!(), " WHERE o.order_id = $1 ORDER BY o.id"));
static OVERPAYMENTS_TO_REFUND: Stmt = Stmt::new(concat!(
    overpayment_select!(),
    " WHERE a.provider = $1 AND o.refund_status IN ('to_refund', 'refund_failed') ORDER BY o.id"
));
static ATTEMPT_BY_PAYMENT: Stmt = Stmt::new(
    "SELECT id, order_id, status FROM payment_attempts WHERE provider = $1 AND payment_intent = $2 \
     ORDER BY id DESC LIMIT 1",
);
static INSERT_ADJUSTMENT: Stmt = Stmt::new(
    "INSERT INTO payment_adjustments (order_id, attempt_id, kind, amount_centavos, provider_ref, detail, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, {ts:$7})",
);
static SET_ATTEMPT_STATUS: Stmt =
    Stmt::new("UPDATE payment_attempts SET status = $2, updated_at = {ts:$3} WHERE id = $1");
static ADJUSTMENTS: Stmt = Stmt::new(
    "SELECT j.id, j.order_id, o.reference, j.kind, j.amount_centavos, j.provider_ref, j.detail, \
            {ts_text:j.created_at} AS created_at, r.folio, r.status AS receipt_status \
     FROM payment_adjustments j JOIN payment_orders o ON o.id = j.order_id \
     LEFT JOIN receipts r ON r.order_id = j.order_id ORDER BY j.id",
);
static RECORD_REFUND: Stmt = Stmt::new(
    "UPDATE overpayments SET refund_status = $2, refund_ref = COALESCE($3, refund_ref), refund_error = $4, \
            refunded_at = CASE WHEN $3 IS NULL THEN refunded_at ELSE {ts:$5} END \
     WHERE id = $1 AND refund_status <> 'refunded'",
);

/// The attempt a provider's payment id names.
#[derive(sqlx::FromRow)]
struct PaidAttempt {
    id: i64,
    order_id: i64,
    #[sqlx(try_from = "String")]
    status: AttemptStatus,
}

impl Store {
    /// A refund or a dispute reported by the provider, in ONE transaction:
    /// the event is recorded (a repeat changes nothing), the attempt is
    /// found by its payment id, the adjustment is stored for the treasury,
    /// and when the money is gone for good from the attempt that paid the
    /// order ([`adjustment_refunds_order`]) the order moves to `refunded`,
    /// the attempt too, its receipt is cancelled with the reason (the folio
    /// kept, never reused) and its charges are owed again.
    #[tracing::instrument(
        name = "store.apply_adjustment",
        skip_all,
        fields(provider = %ev.provider, event_id = %ev.event_id, kind = %ev.kind)
    )]
    pub async fn apply_adjustment(
        &self,
        ev: &AdjustmentEvent,
        now: DateTime<Utc>,
    ) -> Result<AdjustmentOutcome, StoreError> {
        let now = timestamp_to_db(now);
        let mut tx = self.write().await?;
        let fresh = sqlx::query(tx.sql(&RECORD_EVENT))
            .bind(ev.provider.as_str())
            .bind(&ev.event_id)
            .bind(&now)
            .execute(tx.c())
            .await
            .map_err(query_err("record a provider event"))?
            .rows_affected();
        if fresh == 0 {
            return Ok(AdjustmentOutcome::Duplicate);
        }
        let attempt: Option<PaidAttempt> = sqlx::query_as(tx.sql(&ATTEMPT_BY_PAYMENT))
            .bind(ev.provider.as_str())
            .bind(&ev.payment_intent)
            .fetch_optional(tx.c())
            .await
            .map_err(query_err("find the attempt of a payment"))?;
        let Some(attempt) = attempt else {
            tx.commit().await?;
            return Ok(AdjustmentOutcome::NotOurs);
        };
        let order = tx.lock_order(attempt.order_id).await?.ok_or(StoreError::OrderNotFound(attempt.order_id))?;
        sqlx::query(tx.sql(&INSERT_ADJUSTMENT))
            .bind(attempt.order_id)
            .bind(attempt.id)
            .bind(ev.kind.as_str())
            .bind(ev.amount.0)
            .bind(&ev.provider_ref)
            .bind(&ev.detail)
            .bind(&now)
            .execute(tx.c())
            .await
            .map_err(query_err("record a refund or dispute"))?;
        let mut cancelled = None;
        if adjustment_refunds_order(ev.kind, order.status, attempt.status) {
            let refunded = PaymentEvent::Refunded { amount: ev.amount };
            let t = transition(order.status, &refunded)
                .map_err(|source| StoreError::Transition { order_id: attempt.order_id, source })?;
            persist_transition(&mut tx, attempt.order_id, t, PaymentEventKind::Refunded, &now).await?;
            sqlx::query(tx.sql(&SET_ATTEMPT_STATUS))
                .bind(attempt.id)
                .bind(AttemptStatus::Refunded.as_str())
                .bind(&now)
                .execute(tx.c())
                .await
                .map_err(query_err("mark a payment attempt refunded"))?;
            cancelled =
                undo_payment(&mut tx, attempt.order_id, &ev.kind.cancel_reason_es(&ev.provider_ref), &now).await?;
        }
        let actor = ev.provider.as_str();
        let details = serde_json::json!({
            "order_id": attempt.order_id, "attempt_id": attempt.id, "kind": ev.kind.as_str(),
            "amount_centavos": ev.amount.0, "provider_ref": ev.provider_ref, "event_id": ev.event_id,
        });
        tx.audit(actor, AuditAction::PaymentAdjusted, details, &now).await?;
        if let Some(folio) = &cancelled {
            let details = serde_json::json!({
                "folio": folio.to_string(), "order_id": attempt.order_id,
                "reason": ev.kind.cancel_reason_es(&ev.provider_ref),
            });
            tx.audit(actor, AuditAction::ReceiptCancelled, details, &now).await?;
        }
        tx.commit().await?;
        Ok(AdjustmentOutcome::Recorded { order_id: attempt.order_id, cancelled })
    }

    /// Every refund and dispute reported, oldest first, with the order's
    /// reference and its receipt (the treasury's list).
    pub async fn adjustments(&self) -> Result<Vec<Adjustment>, StoreError> {
        let mut r = self.read().await?;
        let rows: Vec<AdjustmentRow> = sqlx::query_as(r.sql(&ADJUSTMENTS))
            .fetch_all(r.c())
            .await
            .map_err(query_err("read the refunds and disputes"))?;
        Ok(rows.into_iter().map(Adjustment::from).collect())
    }

    /// Starts a payment attempt in ONE transaction: the order's
    /// `Redirected` transition (created → pending; the order is locked
    /// first) and the attempt (status `pending`). A refused transition
    /// writes nothing.
    #[tracing::instrument(name = "store.start_attempt", skip_all, fields(order_id = attempt.order_id, provider = %attempt.provider))]
    pub async fn start_attempt(&self, attempt: &NewAttempt, now: DateTime<Utc>) -> Result<PaymentAttempt, StoreError> {
        let now = timestamp_to_db(now);
        let order_id = attempt.order_id;
        let mut tx = self.write().await?;
        let (_, moved) = move_order(&mut tx, order_id, &PaymentEvent::Redirected, &now).await?;
        moved.map_err(|source| StoreError::Transition { order_id, source })?;
        let id: i64 = sqlx::query_scalar(tx.sql(&INSERT_ATTEMPT))
            .bind(order_id)
            .bind(attempt.provider.as_str())
            .bind(&attempt.provider_ref)
            .bind(&attempt.idempotency_key)
            .bind(attempt.amount.0)
            .bind(&now)
            .fetch_one(tx.c())
            .await
            .map_err(query_err("insert a payment attempt"))?;
        tx.commit().await?;
        self.get_attempt(id).await?.ok_or(StoreError::AttemptNotFound(id))
    }

    pub async fn get_attempt(&self, id: i64) -> Result<Option<PaymentAttempt>, StoreError> {
        let mut r = self.read().await?;
        let row: Option<AttemptRow> = sqlx::query_as(r.sql(&ATTEMPT_BY_ID))
            .bind(id)
            .fetch_optional(r.c())
            .await
            .map_err(query_err("read a payment attempt"))?;
        row.map(PaymentAttempt::try_from).transpose()
    }

    /// The attempts of an order, oldest first.
    pub async fn attempts_of_order(&self, order_id: i64) -> Result<Vec<PaymentAttempt>, StoreError> {
        let mut r = self.read().await?;
        let rows: Vec<AttemptRow> = sqlx::query_as(r.sql(&ATTEMPTS_OF_ORDER))
            .bind(order_id)
            .fetch_all(r.c())
            .await
            .map_err(query_err("read the attempts of a payment order"))?;
        rows.into_iter().map(PaymentAttempt::try_from).collect()
    }

    /// The healing sweep's work list, oldest first: the pending attempts of
    /// `provider` created at or before `created_before` that are due to be
    /// asked about (`next_check_at` unset or at or before `now`).
    pub async fn attempts_to_check(
        &self,
        provider: Provider,
        created_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<PaymentAttempt>, StoreError> {
        let mut r = self.read().await?;
        let rows: Vec<AttemptRow> = sqlx::query_as(r.sql(&ATTEMPTS_TO_CHECK))
            .bind(provider.as_str())
            .bind(timestamp_to_db(created_before))
            .bind(timestamp_to_db(now))
            .fetch_all(r.c())
            .await
            .map_err(query_err("read the payment attempts to check"))?;
        rows.into_iter().map(PaymentAttempt::try_from).collect()
    }

    /// Records the provider's id of an attempt (Stripe's Checkout Session
    /// id), once the provider answered. Only a pending attempt without one
    /// is updated; returns whether it was.
    pub async fn set_attempt_provider_ref(
        &self,
        id: i64,
        provider_ref: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut r = self.read().await?;
        let done = sqlx::query(r.sql(&SET_PROVIDER_REF))
            .bind(id)
            .bind(provider_ref)
            .bind(timestamp_to_db(now))
            .execute(r.c())
            .await
            .map_err(query_err("record a payment attempt's provider id"))?;
        Ok(done.rows_affected() == 1)
    }

    /// When the sweep asks about this attempt next.
    pub async fn set_attempt_next_check(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        let mut r = self.read().await?;
        sqlx::query(r.sql(&SET_NEXT_CHECK))
            .bind(id)
            .bind(timestamp_to_db(at))
            .execute(r.c())
            .await
            .map_err(query_err("schedule the next check of a payment attempt"))?;
        Ok(())
    }

    /// THE path every provider event takes, in ONE transaction:
    ///
    /// 1. records (provider, event id): a repeat changes nothing
    ///    ([`EventOutcome::Duplicate`]);
    /// 2. locks the attempt's order, checks that money is the order's
    ///    amount and currency, reads where the order and the attempt
    ///    stand, and lets the domain decide
    ///    ([`crate::domain::payment::on_provider_event`]): the order's
    ///    guarded transition (charges paid on success, released when it
    ///    closes), or an overpayment recorded once per attempt;
    /// 3. updates the attempt (status, method, voucher, payment id) and,
    ///    for a voucher with a deadline, keeps the order alive until then;
    /// 4. when the order succeeds, issues its receipt, signed (the next
    ///    folio of the online series in `today`'s fiscal year: gapless,
    ///    never reused).
    ///
    /// A `Paid` event whose amount or currency is not the order's is a
    /// discrepancy ([`EventOutcome::Discrepancy`]): the money received is
    /// recorded for the treasury (an overpayment row, reason
    /// `amount_mismatch` / `currency_mismatch`), the attempt becomes
    /// `overpaid`, and a live order fails, releasing its charges.
    #[tracing::instrument(
        name = "store.apply_provider_event",
        skip_all,
        fields(provider = %ev.provider, event_id = %ev.event_id, attempt_id = ev.attempt_id, event = %ev.event.kind())
    )]
    pub async fn apply_provider_event(
        &self,
        ev: &ProviderEvent,
        now: DateTime<Utc>,
        today: NaiveDate,
        keys: &ReceiptKeys,
    ) -> Result<EventOutcome, StoreError> {
        self.apply_provider_event_noting(ev, now, today, keys, None).await
    }

    /// [`Store::apply_provider_event`], the same path, with the treasury's
    /// reconciliation noted: when the event is fresh, `note` is audited
    /// (`reconciliation.healed`, with the payout, the item and the outcome)
    /// in the event's own transaction; a duplicate writes nothing.
    #[tracing::instrument(
        name = "store.apply_provider_event_noting",
        skip_all,
        fields(provider = %ev.provider, event_id = %ev.event_id, attempt_id = ev.attempt_id, healing = note.is_some())
    )]
    pub async fn apply_provider_event_noting(
        &self,
        ev: &ProviderEvent,
        now: DateTime<Utc>,
        today: NaiveDate,
        keys: &ReceiptKeys,
        note: Option<&HealNote>,
    ) -> Result<EventOutcome, StoreError> {
        let now = timestamp_to_db(now);
        let mut tx = self.write().await?;
        // A concurrent delivery of the same event waits here on the key.
        let fresh = sqlx::query(tx.sql(&RECORD_EVENT))
            .bind(ev.provider.as_str())
            .bind(&ev.event_id)
            .bind(&now)
            .execute(tx.c())
            .await
            .map_err(query_err("record a provider event"))?
            .rows_affected();
        if fresh == 0 {
            return Ok(EventOutcome::Duplicate);
        }
        let (order_id, amount): (i64, i64) = sqlx::query_as(tx.sql(&EVENT_ATTEMPT))
            .bind(ev.attempt_id)
            .bind(ev.provider.as_str())
            .fetch_optional(tx.c())
            .await
            .map_err(query_err("read a payment attempt"))?
            .ok_or(StoreError::AttemptNotFound(ev.attempt_id))?;
        // The order's lock serialises every event of the order.
        let order = tx.lock_order(order_id).await?.ok_or(StoreError::OrderNotFound(order_id))?;
        // Money must be the order's, to the centavo, in its currency;
        // otherwise it is a discrepancy, never applied.
        let mismatch = match &ev.event {
            PaymentEvent::Paid { amount, currency } => {
                check_amount(order.total, CURRENCY_MXN, *amount, currency).err().map(|m| (m, *amount))
            }
            _ => None,
        };
        let attempt: AttemptState = sqlx::query_as(tx.sql(&ATTEMPT_STATE))
            .bind(ev.attempt_id)
            .fetch_one(tx.c())
            .await
            .map_err(query_err("read a payment attempt"))?;
        let mut effect = match &mismatch {
            Some((m, _)) => on_mismatched_payment(order.status, m),
            None => on_provider_event(order.status, attempt.status, &ev.event)
                .map_err(|source| StoreError::Transition { order_id, source })?,
        };
        // Money about to pay the charges: every one must still be open
        // (locked now); otherwise it is never applied twice.
        if let EventOutcome::Applied(Transition::Moved { to: OrderStatus::Succeeded, .. }) = effect.outcome {
            if !tx.charges_all_open(order_id).await? {
                effect = on_unappliable_payment(order.status, OverpaymentReason::ChargesAlreadyPaid);
            }
        }
        match &effect.outcome {
            EventOutcome::Applied(t) => persist_transition(&mut tx, order_id, *t, ev.event.kind(), &now).await?,
            EventOutcome::Discrepancy { reason, transition } => {
                let received = mismatch.as_ref().map_or(Centavos(amount), |(_, got)| *got);
                sqlx::query(tx.sql(&INSERT_OVERPAYMENT))
                    .bind(order_id)
                    .bind(ev.attempt_id)
                    .bind(received.0)
                    .bind(reason.as_str())
                    .bind(&now)
                    .execute(tx.c())
                    .await
                    .map_err(query_err("record a payment discrepancy"))?;
                if let Some(t) = transition {
                    persist_transition(&mut tx, order_id, *t, PaymentEventKind::Declined, &now).await?;
                }
            }
            EventOutcome::Overpayment { reason } => {
                sqlx::query(tx.sql(&INSERT_OVERPAYMENT))
                    .bind(order_id)
                    .bind(ev.attempt_id)
                    .bind(amount)
                    .bind(reason.as_str())
                    .bind(&now)
                    .execute(tx.c())
                    .await
                    .map_err(query_err("record an overpayment"))?;
            }
            EventOutcome::Duplicate => {}
        }
        let paid_amount = match &ev.event {
            PaymentEvent::Paid { amount, .. } => Some(amount.0),
            _ => None,
        };
        let money = serde_json::json!({
            "order_id": order_id, "attempt_id": ev.attempt_id, "event_id": ev.event_id,
            "amount_centavos": paid_amount,
        });
        match &effect.outcome {
            EventOutcome::Applied(Transition::Moved { to: OrderStatus::Succeeded, .. }) => {
                tx.audit(ev.provider.as_str(), AuditAction::PaymentApplied, money, &now).await?;
            }
            EventOutcome::Discrepancy { reason, .. } | EventOutcome::Overpayment { reason } => {
                let mut details = money;
                details["reason"] = serde_json::Value::from(reason.as_str());
                tx.audit(ev.provider.as_str(), AuditAction::PaymentNotApplied, details, &now).await?;
            }
            _ => {}
        }
        let instructions = ev.instructions.as_ref().map(|i| serde_json::to_string(i).expect("instructions serialise"));
        let pay_before = ev.instructions.as_ref().and_then(|i| i.expires_at()).map(timestamp_to_db);
        sqlx::query(tx.sql(&UPDATE_ATTEMPT))
            .bind(ev.attempt_id)
            .bind(effect.attempt.as_str())
            .bind(ev.method.map(|m| m.as_str()))
            .bind(instructions)
            .bind(&pay_before)
            .bind(&ev.payment_intent)
            .bind(&now)
            .execute(tx.c())
            .await
            .map_err(query_err("update a payment attempt"))?;
        // A voucher (or transfer) with a deadline: the order lives as long
        // as it, so the charges stay held while the money may still come.
        if let (PaymentEvent::AwaitingAsync, Some(deadline)) = (&ev.event, &pay_before) {
            tx.extend_expiry(order_id, deadline, &now).await?;
        }
        if let EventOutcome::Applied(Transition::Moved { to: OrderStatus::Succeeded, .. }) = effect.outcome {
            let paid_by = PaidBy {
                attempt_id: Some(ev.attempt_id),
                till: None,
                actor: None,
                provider: ev.provider,
                method: ev.method.or(attempt.method.as_deref().and_then(Method::parse)),
                reference: ev.payment_intent.clone().or(attempt.reference).or(Some(ev.event_id.clone())),
            };
            // The day the money was taken, never after today.
            let day = ev.paid_on.map_or(today, |paid| paid.min(today));
            super::receipts::issue_receipt(&mut tx, order_id, order.total, Some(paid_by), &now, day, keys).await?;
        }
        if let Some(note) = note {
            let outcome = match &effect.outcome {
                EventOutcome::Applied(Transition::Moved { to, .. }) => format!("applied:{to}"),
                EventOutcome::Applied(Transition::AlreadyThere(s)) => format!("already:{s}"),
                EventOutcome::Discrepancy { reason, .. } | EventOutcome::Overpayment { reason } => {
                    format!("not_applied:{reason}")
                }
                EventOutcome::Duplicate => "duplicate".to_string(),
            };
            let details = serde_json::json!({
                "payout_id": note.payout_id, "item_id": note.item_id, "order_id": order_id,
                "attempt_id": ev.attempt_id, "event_id": ev.event_id, "amount_centavos": paid_amount,
                "outcome": outcome,
            });
            tx.audit(&note.actor, AuditAction::ReconciliationHealed, details, &now).await?;
        }
        tx.commit().await?;
        Ok(effect.outcome)
    }

    pub async fn overpayments_of_order(&self, order_id: i64) -> Result<Vec<Overpayment>, StoreError> {
        let mut r = self.read().await?;
        let rows: Vec<OverpaymentRow> = sqlx::query_as(r.sql(&OVERPAYMENTS_OF_ORDER))
            .bind(order_id)
            .fetch_all(r.c())
            .await
            .map_err(query_err("read the overpayments of a payment order"))?;
        Ok(rows.into_iter().map(Overpayment::from).collect())
    }

    /// The overpayments of `provider` not refunded yet (`to_refund`,
    /// `refund_failed`), oldest first.
    pub async fn overpayments_to_refund(&self, provider: Provider) -> Result<Vec<Overpayment>, StoreError> {
        let mut r = self.read().await?;
        let rows: Vec<OverpaymentRow> = sqlx::query_as(r.sql(&OVERPAYMENTS_TO_REFUND))
            .bind(provider.as_str())
            .fetch_all(r.c())
            .await
            .map_err(query_err("read the overpayments to refund"))?;
        Ok(rows.into_iter().map(Overpayment::from).collect())
    }

    /// Records the outcome of refunding overpayment `id`: `Ok(refund id)`
    /// → `refunded`; `Err(the provider's answer)` → `refund_failed`. A
    /// refunded overpayment stays refunded.
    pub async fn record_refund(
        &self,
        id: i64,
        outcome: Result<&str, &str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (status, refund_ref, error) = match outcome {
            Ok(r) => (RefundStatus::Refunded, Some(r), None),
            Err(e) => (RefundStatus::RefundFailed, None, Some(e)),
        };
        let mut r = self.read().await?;
        sqlx::query(r.sql(&RECORD_REFUND))
            .bind(id)
            .bind(status.as_str())
            .bind(refund_ref)
            .bind(error)
            .bind(timestamp_to_db(now))
            .execute(r.c())
            .await
            .map_err(query_err("record the refund of an overpayment"))?;
        Ok(())
    }
}
