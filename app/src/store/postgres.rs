//! PostgreSQL backend. Lists of keys are bound as arrays (`= ANY($1)`,
//! `UNNEST($1::bigint[], …)`), so each statement has a fixed text, is prepared
//! once per connection, and a chunk of 1000 charges is one round trip.
//! Dates cross the wire as `YYYY-MM-DD` text (`$n::date`, `to_char(..)`), so the
//! sqlx `chrono` feature is not needed.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};

use super::{
    attempt_from_row, attempt_status_for, instructions_to_db, online_folio, overpayment_from_row, receipt_account,
    receipt_from_row, AttemptRow, EventOutcome, NewAttempt, Overpayment, OverpaymentRow, PaymentAttempt, ProviderEvent,
    Receipt, ReceiptRow, RefundStatus, ONLINE_SERIES,
};
use super::{
    date_from_db, import_rows, is_unique_violation, normalize_rfc, order_charge_ids, order_from_rows, order_reference,
    payment_status_from_db, person_kind_from_db, query_err, redact_url, status_from_db, timestamp_to_db, AccountView,
    ChargeRecord, Counts, ExistingAccount, ExistingCharge, ExistingTaxpayer, IdTable, ImportSummary, ImportTx,
    NewAccount, NewCharge, NewOrder, NewTaxpayer, Order, OrderItemRow, OrderRow, PadronRow, Store, StoreError,
    TransitionRow, CREATED_EVENT,
};
use crate::domain::money::Centavos;
use crate::domain::payment::{transition, PaymentEvent, PaymentEventKind, PaymentStatus, Transition, TransitionError};

/// The `payment_attempts` columns of [`AttemptRow`] (timestamps as UTC text).
macro_rules! attempt_select {
    () => {
        concat!(
            "SELECT id, order_id, provider, provider_ref, idempotency_key, method, instructions, payment_intent, ",
            utc_text!("next_check_at"),
            ", status, amount_centavos, ",
            utc_text!("created_at"),
            ", ",
            utc_text!("updated_at"),
            " FROM payment_attempts"
        )
    };
}

/// The `overpayments` columns of [`OverpaymentRow`] (joined with the attempt as `a`).
macro_rules! overpayment_select {
    () => {
        concat!(
            "SELECT o.id, o.order_id, o.attempt_id, a.provider, a.payment_intent, o.amount_centavos, o.reason, ",
            utc_text!("o.created_at"),
            ", o.refund_status, o.refund_ref, o.refund_error, ",
            utc_text!("o.refunded_at"),
            " FROM overpayments o JOIN payment_attempts a ON a.id = o.attempt_id"
        )
    };
}

/// The `receipts` columns of [`ReceiptRow`] (timestamps as UTC text, the date as `YYYY-MM-DD`).
macro_rules! receipt_select {
    () => {
        concat!(
            "SELECT id, folio, order_id, attempt_id, ",
            utc_text!("issued_at"),
            ", to_char(issued_on, 'YYYY-MM-DD'), account, payer_name, total_centavos, \
             method, provider, provider_reference, status, cancel_reason, ",
            utc_text!("cancelled_at"),
            ", signature FROM receipts"
        )
    };
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// Key of the transaction-scoped advisory lock that serialises padrón imports.
const IMPORT_LOCK_KEY: i64 = 0x5245_4341_5544_4131; // "RECAUDA1"

/// SQL text shared by the lookups (a macro so queries are built with `concat!`, never `format!`).
macro_rules! account_view_select {
    () => {
        "SELECT a.id, a.number, a.kind, a.taxpayer_id, t.person_kind, t.rfc, t.name, t.colonia \
         FROM accounts a JOIN taxpayers t ON t.id = a.taxpayer_id"
    };
}

type AccountViewRow = (i64, String, String, i64, String, Option<String>, String, Option<String>);

fn account_view(r: AccountViewRow) -> Result<AccountView, StoreError> {
    Ok(AccountView {
        id: r.0,
        number: r.1,
        kind: r.2,
        taxpayer_id: r.3,
        person_kind: person_kind_from_db(&r.4)?,
        rfc: r.5,
        name: r.6,
        colonia: r.7,
    })
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A TIMESTAMPTZ column as RFC 3339 UTC text with microseconds (the format
/// of `timestamp_to_db`), so the sqlx `chrono` feature is not needed.
macro_rules! utc_text {
    ($col:literal) => {
        concat!("to_char(", $col, " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
    };
}

/// The PostgreSQL store. Cheap to clone (the pool is reference-counted).
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects (`postgres://…` / `postgresql://…`) and applies migrations.
    pub async fn connect(url: &str) -> Result<PgStore, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|source| StoreError::Connect { url: redact_url(url), source })?;
        MIGRATOR.run(&pool).await.map_err(StoreError::Migrate)?;
        Ok(PgStore { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait::async_trait]
impl Store for PgStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(query_err("ping the database"))?;
        Ok(())
    }

    async fn account_by_number(&self, number: &str) -> Result<Option<AccountView>, StoreError> {
        sqlx::query_as::<_, AccountViewRow>(concat!(account_view_select!(), " WHERE a.number = $1"))
            .bind(number)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_err("look up an account by number"))?
            .map(account_view)
            .transpose()
    }

    async fn accounts_by_rfc(&self, rfc: &str) -> Result<Vec<AccountView>, StoreError> {
        sqlx::query_as::<_, AccountViewRow>(concat!(
            account_view_select!(),
            " WHERE t.rfc = $1 ORDER BY a.number COLLATE \"C\""
        ))
        .bind(normalize_rfc(rfc))
        .fetch_all(&self.pool)
        .await
        .map_err(query_err("look up accounts by RFC"))?
        .into_iter()
        .map(account_view)
        .collect()
    }

    async fn open_charges(&self, account_ids: &[i64]) -> Result<Vec<ChargeRecord>, StoreError> {
        if account_ids.is_empty() {
            return Ok(Vec::new());
        }
        // COLLATE "C": byte order, the same as SQLite, whatever the database locale.
        let rows = sqlx::query_as::<_, (i64, i64, String, String, String, String, i64, String)>(
            "SELECT c.id, c.account_id, a.number, c.concept, c.period, to_char(c.due_date, 'YYYY-MM-DD'), \
                    c.principal_centavos, c.status \
             FROM charges c JOIN accounts a ON a.id = c.account_id \
             WHERE c.status = 'open' AND c.account_id = ANY($1) \
             ORDER BY a.number COLLATE \"C\", c.due_date, c.concept COLLATE \"C\", c.period COLLATE \"C\"",
        )
        .bind(account_ids)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err("read open charges"))?;
        rows.into_iter()
            .map(|r| {
                Ok(ChargeRecord {
                    id: r.0,
                    account_id: r.1,
                    account: r.2,
                    concept: r.3,
                    period: r.4,
                    due_date: date_from_db(&r.5)?,
                    principal: Centavos(r.6),
                    status: status_from_db(&r.7)?,
                })
            })
            .collect()
    }

    async fn import_padron(
        &self,
        rows: &[PadronRow],
        progress: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<ImportSummary, StoreError> {
        let mut tx = self.pool.begin().await.map_err(query_err("start the import transaction"))?;
        // One import at a time; released automatically at commit/rollback.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(IMPORT_LOCK_KEY)
            .execute(&mut *tx)
            .await
            .map_err(query_err("take the import lock"))?;
        // Every import statement is a key lookup, and the tables may grow by
        // millions of rows inside this transaction, which no statistics have seen:
        // plan each statement afresh and never with a sequential scan (a plan made
        // for an empty, unanalysed table would otherwise make the import quadratic).
        for setting in ["SET LOCAL plan_cache_mode = force_custom_plan", "SET LOCAL enable_seqscan = off"] {
            sqlx::query(setting).execute(&mut *tx).await.map_err(query_err("configure the import transaction"))?;
        }
        let summary = import_rows(&mut PgImport { conn: &mut tx }, rows, progress).await?;
        tx.commit().await.map_err(query_err("commit the import"))?;
        Ok(summary)
    }

    async fn counts(&self) -> Result<Counts, StoreError> {
        let (taxpayers, accounts, charges, open): (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM taxpayers), (SELECT count(*) FROM accounts), \
             (SELECT count(*) FROM charges), (SELECT count(*) FROM charges WHERE status = 'open')",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(query_err("count rows"))?;
        Ok(Counts {
            taxpayers: taxpayers as u64,
            accounts: accounts as u64,
            charges: charges as u64,
            open_charges: open as u64,
        })
    }

    async fn create_order(&self, order: &NewOrder, now: DateTime<Utc>) -> Result<Order, StoreError> {
        let charge_ids = order_charge_ids(order);
        let mut tx = self.pool.begin().await.map_err(query_err("start the order transaction"))?;
        let held = Self::held_charges(&mut tx, &charge_ids).await?;
        if !held.is_empty() {
            return Err(StoreError::ChargesInLiveOrder(held));
        }
        let id = match Self::insert_order(&mut tx, order, &charge_ids, now).await {
            Ok(id) => id,
            Err(StoreError::ChargesInLiveOrder(_)) => {
                // Lost the race to a concurrent order: say which charges it holds.
                drop(tx);
                let mut conn = self.pool.acquire().await.map_err(query_err("read the charges held by live orders"))?;
                let held = Self::held_charges(&mut conn, &charge_ids).await?;
                return Err(StoreError::ChargesInLiveOrder(if held.is_empty() { charge_ids } else { held }));
            }
            Err(e) => return Err(e),
        };
        tx.commit().await.map_err(query_err("commit a payment order"))?;
        self.get_order(id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("payment order {id} vanished after its creation")))
    }

    async fn get_order(&self, id: i64) -> Result<Option<Order>, StoreError> {
        let Some(order) = sqlx::query_as::<_, OrderRow>(concat!(
            "SELECT id, reference, status, subtotal_centavos, rounding_centavos, total_centavos, currency, method_hint, ",
            utc_text!("expires_at"), ", ", utc_text!("created_at"), ", ", utc_text!("updated_at"),
            ", requoted_from FROM payment_orders WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_err("read a payment order"))?
        else {
            return Ok(None);
        };
        let items = sqlx::query_as::<_, OrderItemRow>(
            "SELECT charge_id, account, concept, period, to_char(due_date, 'YYYY-MM-DD'), principal_centavos, \
             recargos_centavos, discount_centavos, total_centavos FROM payment_order_items WHERE order_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err("read the items of a payment order"))?;
        let transitions = sqlx::query_as::<_, TransitionRow>(concat!(
            "SELECT from_status, to_status, event, ",
            utc_text!("at"),
            " FROM payment_transitions WHERE order_id = $1 ORDER BY id"
        ))
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err("read the transitions of a payment order"))?;
        order_from_rows(order, items, transitions).map(Some)
    }

    async fn expire_due_orders(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let now = timestamp_to_db(now);
        let mut tx = self.pool.begin().await.map_err(query_err("start the expiry transaction"))?;
        // Lock the due orders (skipping those another transaction is moving),
        // then expire exactly those.
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM payment_orders o WHERE status IN ('created', 'pending') \
             AND expires_at <= $1::timestamptz AND NOT EXISTS (SELECT 1 FROM payment_attempts a \
             WHERE a.order_id = o.id AND a.status = 'pending' AND a.provider = 'stripe') \
             ORDER BY id FOR UPDATE SKIP LOCKED",
        )
        .bind(&now)
        .fetch_all(&mut *tx)
        .await
        .map_err(query_err("look for expired payment orders"))?;
        if ids.is_empty() {
            return Ok(0);
        }
        sqlx::query(
            "INSERT INTO payment_transitions (order_id, from_status, to_status, event, at) \
             SELECT id, status, $2, $3, $4::timestamptz FROM payment_orders WHERE id = ANY($1) ORDER BY id",
        )
        .bind(&ids)
        .bind(PaymentStatus::Expired.as_str())
        .bind(PaymentEventKind::Expired.as_str())
        .bind(&now)
        .execute(&mut *tx)
        .await
        .map_err(query_err("record the expiry of payment orders"))?;
        sqlx::query("DELETE FROM live_order_charges WHERE order_id = ANY($1)")
            .bind(&ids)
            .execute(&mut *tx)
            .await
            .map_err(query_err("release the charges of expired payment orders"))?;
        let expired =
            sqlx::query("UPDATE payment_orders SET status = $2, updated_at = $3::timestamptz WHERE id = ANY($1)")
                .bind(&ids)
                .bind(PaymentStatus::Expired.as_str())
                .bind(&now)
                .execute(&mut *tx)
                .await
                .map_err(query_err("expire payment orders"))?
                .rows_affected();
        tx.commit().await.map_err(query_err("commit the expiry of payment orders"))?;
        Ok(expired)
    }

    async fn apply_transition(
        &self,
        order_id: i64,
        event: &PaymentEvent,
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<Transition, StoreError> {
        let now = timestamp_to_db(now);
        let mut tx = self.pool.begin().await.map_err(query_err("start a payment transition"))?;
        let outcome = Self::move_order(&mut tx, order_id, event, &now)
            .await?
            .map_err(|source| StoreError::Transition { order_id, source })?;
        if let Transition::Moved { to: PaymentStatus::Succeeded, .. } = outcome {
            Self::issue_receipt(&mut tx, order_id, None, None, &now, today).await?;
        }
        tx.commit().await.map_err(query_err("commit a payment transition"))?;
        Ok(outcome)
    }

    async fn order_id_by_reference(&self, reference: &str) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar("SELECT id FROM payment_orders WHERE reference = $1")
            .bind(reference)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_err("find a payment order by reference"))
    }

    async fn start_attempt(&self, attempt: &NewAttempt, now: DateTime<Utc>) -> Result<PaymentAttempt, StoreError> {
        let now = timestamp_to_db(now);
        let mut tx = self.pool.begin().await.map_err(query_err("start a payment attempt"))?;
        let order_id = attempt.order_id;
        // Lock the order first, then write the attempt.
        Self::move_order(&mut tx, order_id, &PaymentEvent::Redirected, &now)
            .await?
            .map_err(|source| StoreError::Transition { order_id, source })?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO payment_attempts (order_id, provider, provider_ref, idempotency_key, status, \
             amount_centavos, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'pending', $5, $6::timestamptz, $6::timestamptz) RETURNING id",
        )
        .bind(attempt.order_id)
        .bind(&attempt.provider)
        .bind(&attempt.provider_ref)
        .bind(&attempt.idempotency_key)
        .bind(attempt.amount.0)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await
        .map_err(query_err("insert a payment attempt"))?;
        tx.commit().await.map_err(query_err("commit a payment attempt"))?;
        self.get_attempt(id).await?.ok_or(StoreError::AttemptNotFound(id))
    }

    async fn get_attempt(&self, id: i64) -> Result<Option<PaymentAttempt>, StoreError> {
        sqlx::query_as::<_, AttemptRow>(concat!(attempt_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_err("read a payment attempt"))?
            .map(attempt_from_row)
            .transpose()
    }

    async fn set_attempt_provider_ref(
        &self,
        id: i64,
        provider_ref: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE payment_attempts SET provider_ref = $2, updated_at = $3::timestamptz \
             WHERE id = $1 AND status = 'pending' AND provider_ref IS NULL",
        )
        .bind(id)
        .bind(provider_ref)
        .bind(timestamp_to_db(now))
        .execute(&self.pool)
        .await
        .map_err(query_err("record a payment attempt's provider id"))?;
        Ok(done.rows_affected() == 1)
    }

    async fn attempts_to_check(
        &self,
        provider: &str,
        created_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<PaymentAttempt>, StoreError> {
        sqlx::query_as::<_, AttemptRow>(concat!(
            attempt_select!(),
            " WHERE provider = $1 AND status = 'pending' AND created_at <= $2::timestamptz \
              AND (next_check_at IS NULL OR next_check_at <= $3::timestamptz) ORDER BY id"
        ))
        .bind(provider)
        .bind(timestamp_to_db(created_before))
        .bind(timestamp_to_db(now))
        .fetch_all(&self.pool)
        .await
        .map_err(query_err("read the payment attempts to check"))?
        .into_iter()
        .map(attempt_from_row)
        .collect()
    }

    async fn set_attempt_next_check(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("UPDATE payment_attempts SET next_check_at = $2::timestamptz WHERE id = $1")
            .bind(id)
            .bind(timestamp_to_db(at))
            .execute(&self.pool)
            .await
            .map_err(query_err("schedule the next check of a payment attempt"))?;
        Ok(())
    }

    async fn attempts_of_order(&self, order_id: i64) -> Result<Vec<PaymentAttempt>, StoreError> {
        sqlx::query_as::<_, AttemptRow>(concat!(attempt_select!(), " WHERE order_id = $1 ORDER BY id"))
            .bind(order_id)
            .fetch_all(&self.pool)
            .await
            .map_err(query_err("read the attempts of a payment order"))?
            .into_iter()
            .map(attempt_from_row)
            .collect()
    }

    async fn apply_provider_event(
        &self,
        ev: &ProviderEvent,
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<EventOutcome, StoreError> {
        let now = timestamp_to_db(now);
        let mut tx = self.pool.begin().await.map_err(query_err("start a provider event"))?;
        // A concurrent delivery of the same event waits here on the key.
        let fresh = sqlx::query(
            "INSERT INTO provider_events (provider, event_id, received_at) VALUES ($1, $2, $3::timestamptz) \
             ON CONFLICT (provider, event_id) DO NOTHING",
        )
        .bind(&ev.provider)
        .bind(&ev.event_id)
        .bind(&now)
        .execute(&mut *tx)
        .await
        .map_err(query_err("record a provider event"))?
        .rows_affected();
        if fresh == 0 {
            return Ok(EventOutcome::Duplicate);
        }
        let attempt: Option<(i64, i64)> =
            sqlx::query_as("SELECT order_id, amount_centavos FROM payment_attempts WHERE id = $1 AND provider = $2")
                .bind(ev.attempt_id)
                .bind(&ev.provider)
                .fetch_optional(&mut *tx)
                .await
                .map_err(query_err("read a payment attempt"))?;
        let (order_id, amount) = attempt.ok_or(StoreError::AttemptNotFound(ev.attempt_id))?;
        // The order's row lock serialises every event of the order.
        let order_status: Option<String> =
            sqlx::query_scalar("SELECT status FROM payment_orders WHERE id = $1 FOR UPDATE")
                .bind(order_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(query_err("read the status of a payment order"))?;
        let order_status = payment_status_from_db(&order_status.ok_or(StoreError::OrderNotFound(order_id))?)?;
        let attempt_status: String = sqlx::query_scalar("SELECT status FROM payment_attempts WHERE id = $1")
            .bind(ev.attempt_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(query_err("read a payment attempt"))?;
        let paid = matches!(ev.event, PaymentEvent::Paid { .. });
        let overpaid_reason = if paid && order_status == PaymentStatus::Succeeded && attempt_status != "succeeded" {
            Some("second_payment".to_string())
        } else {
            None
        };
        let (outcome, new_status) = match overpaid_reason {
            Some(reason) => (EventOutcome::Overpayment { reason }, "overpaid"),
            None => match Self::move_order(&mut tx, order_id, &ev.event, &now).await? {
                Ok(t) => (EventOutcome::Applied(t), attempt_status_for(t.status())),
                Err(TransitionError::PaidAfterFinal(from)) => {
                    (EventOutcome::Overpayment { reason: format!("paid_after_{from}") }, "overpaid")
                }
                Err(source) => return Err(StoreError::Transition { order_id, source }),
            },
        };
        if let EventOutcome::Overpayment { reason } = &outcome {
            sqlx::query(
                "INSERT INTO overpayments (order_id, attempt_id, amount_centavos, reason, created_at) \
                 VALUES ($1, $2, $3, $4, $5::timestamptz) ON CONFLICT (attempt_id) DO NOTHING",
            )
            .bind(order_id)
            .bind(ev.attempt_id)
            .bind(amount)
            .bind(reason)
            .bind(&now)
            .execute(&mut *tx)
            .await
            .map_err(query_err("record an overpayment"))?;
        }
        let keep = matches!(outcome, EventOutcome::Applied(Transition::AlreadyThere(_))) && attempt_status != "pending";
        let (instructions, pay_before) = instructions_to_db(ev.instructions.as_ref());
        sqlx::query(
            "UPDATE payment_attempts SET status = CASE WHEN $6 THEN status ELSE $2 END, \
             method = COALESCE($3, method), instructions = COALESCE($4, instructions), \
             pay_before = COALESCE($7::timestamptz, pay_before), \
             payment_intent = COALESCE($8, payment_intent), updated_at = $5::timestamptz WHERE id = $1",
        )
        .bind(ev.attempt_id)
        .bind(new_status)
        .bind(&ev.method)
        .bind(&instructions)
        .bind(&now)
        .bind(keep)
        .bind(&pay_before)
        .bind(&ev.payment_intent)
        .execute(&mut *tx)
        .await
        .map_err(query_err("update a payment attempt"))?;
        // A voucher (or transfer) with a deadline: the order lives as long
        // as it, so the charges stay held while the money may still come.
        if let (PaymentEvent::AwaitingAsync, Some(deadline)) = (&ev.event, &pay_before) {
            sqlx::query(
                "UPDATE payment_orders SET expires_at = $2::timestamptz, updated_at = $3::timestamptz \
                 WHERE id = $1 AND status = 'pending' AND expires_at < $2::timestamptz",
            )
            .bind(order_id)
            .bind(deadline)
            .bind(&now)
            .execute(&mut *tx)
            .await
            .map_err(query_err("extend a payment order to its voucher's deadline"))?;
        }
        if let EventOutcome::Applied(Transition::Moved { to: PaymentStatus::Succeeded, .. }) = outcome {
            Self::issue_receipt(&mut tx, order_id, Some(ev.attempt_id), Some(&ev.event_id), &now, today).await?;
        }
        tx.commit().await.map_err(query_err("commit a provider event"))?;
        Ok(outcome)
    }

    async fn overpayments_of_order(&self, order_id: i64) -> Result<Vec<Overpayment>, StoreError> {
        sqlx::query_as::<_, OverpaymentRow>(concat!(overpayment_select!(), " WHERE o.order_id = $1 ORDER BY o.id"))
            .bind(order_id)
            .fetch_all(&self.pool)
            .await
            .map_err(query_err("read the overpayments of a payment order"))?
            .into_iter()
            .map(overpayment_from_row)
            .collect()
    }

    async fn overpayments_to_refund(&self, provider: &str) -> Result<Vec<Overpayment>, StoreError> {
        sqlx::query_as::<_, OverpaymentRow>(concat!(
            overpayment_select!(),
            " WHERE a.provider = $1 AND o.refund_status IN ('to_refund', 'refund_failed') ORDER BY o.id"
        ))
        .bind(provider)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err("read the overpayments to refund"))?
        .into_iter()
        .map(overpayment_from_row)
        .collect()
    }

    async fn receipt_by_folio(&self, folio: &str) -> Result<Option<Receipt>, StoreError> {
        sqlx::query_as::<_, ReceiptRow>(concat!(receipt_select!(), " WHERE folio = $1"))
            .bind(folio)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_err("read a receipt"))?
            .map(receipt_from_row)
            .transpose()
    }

    async fn receipt_of_order(&self, order_id: i64) -> Result<Option<Receipt>, StoreError> {
        sqlx::query_as::<_, ReceiptRow>(concat!(receipt_select!(), " WHERE order_id = $1"))
            .bind(order_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_err("read the receipt of a payment order"))?
            .map(receipt_from_row)
            .transpose()
    }

    async fn unsigned_receipts(&self, limit: i64) -> Result<Vec<Receipt>, StoreError> {
        sqlx::query_as::<_, ReceiptRow>(concat!(receipt_select!(), " WHERE signature IS NULL ORDER BY id LIMIT $1"))
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(query_err("read the receipts to sign"))?
            .into_iter()
            .map(receipt_from_row)
            .collect()
    }

    async fn set_receipt_signature(&self, id: i64, key_id: &str, signature: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE receipts SET key_id = $2, signature = $3 WHERE id = $1 AND signature IS NULL")
            .bind(id)
            .bind(key_id)
            .bind(signature)
            .execute(&self.pool)
            .await
            .map_err(query_err("record a receipt's signature"))?;
        Ok(())
    }

    async fn cancel_receipt(&self, folio: &str, reason: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE receipts SET status = 'cancelled', cancel_reason = $2, cancelled_at = $3::timestamptz \
             WHERE folio = $1 AND status = 'valid'",
        )
        .bind(folio)
        .bind(reason)
        .bind(timestamp_to_db(now))
        .execute(&self.pool)
        .await
        .map_err(query_err("cancel a receipt"))?;
        Ok(done.rows_affected() == 1)
    }

    async fn receipts_of_series(&self, series: &str, fiscal_year: i32) -> Result<Vec<Receipt>, StoreError> {
        sqlx::query_as::<_, ReceiptRow>(concat!(
            receipt_select!(),
            " WHERE series = $1 AND fiscal_year = $2 ORDER BY number"
        ))
        .bind(series)
        .bind(fiscal_year)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err("read the receipts of a series"))?
        .into_iter()
        .map(receipt_from_row)
        .collect()
    }

    async fn record_refund(&self, id: i64, outcome: Result<&str, &str>, now: DateTime<Utc>) -> Result<(), StoreError> {
        let (status, refund_ref, error) = match outcome {
            Ok(r) => (RefundStatus::Refunded, Some(r), None),
            Err(e) => (RefundStatus::RefundFailed, None, Some(e)),
        };
        sqlx::query(
            "UPDATE overpayments SET refund_status = $2, refund_ref = COALESCE($3, refund_ref), \
             refund_error = $4, \
             refunded_at = CASE WHEN $3::text IS NULL THEN refunded_at ELSE $5::timestamptz END \
             WHERE id = $1 AND refund_status <> 'refunded'",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(refund_ref)
        .bind(error)
        .bind(timestamp_to_db(now))
        .execute(&self.pool)
        .await
        .map_err(query_err("record the refund of an overpayment"))?;
        Ok(())
    }
}

impl PgStore {
    /// Issues the receipt of order `order_id`, which just succeeded, inside
    /// the caller's transaction: the next number of [`ONLINE_SERIES`] in
    /// `today`'s fiscal year (the counter row is locked and written in this
    /// same transaction, so concurrent payments queue on it and a rollback
    /// gives the number back: no gaps), the account and payer of the order's
    /// first item, the attempt's method and payment id. Unsigned: the
    /// service signs it after the commit.
    async fn issue_receipt(
        conn: &mut PgConnection,
        order_id: i64,
        attempt_id: Option<i64>,
        event_id: Option<&str>,
        now: &str,
        today: NaiveDate,
    ) -> Result<(), StoreError> {
        let year = chrono::Datelike::year(&today);
        let number: i32 = sqlx::query_scalar(
            "INSERT INTO folio_counters (series, fiscal_year, last_number) VALUES ($1, $2, 1) \
             ON CONFLICT (series, fiscal_year) DO UPDATE SET last_number = folio_counters.last_number + 1 \
             RETURNING last_number",
        )
        .bind(ONLINE_SERIES)
        .bind(year)
        .fetch_one(&mut *conn)
        .await
        .map_err(query_err("take the next folio"))?;
        let folio = online_folio(year, i64::from(number))?;
        let accounts: Vec<String> =
            sqlx::query_scalar("SELECT account FROM payment_order_items WHERE order_id = $1 ORDER BY id")
                .bind(order_id)
                .fetch_all(&mut *conn)
                .await
                .map_err(query_err("read the accounts of a payment order"))?;
        let payer: Option<String> = sqlx::query_scalar(
            "SELECT t.name FROM accounts a JOIN taxpayers t ON t.id = a.taxpayer_id WHERE a.number = $1",
        )
        .bind(accounts.first())
        .fetch_optional(&mut *conn)
        .await
        .map_err(query_err("read the payer of a payment order"))?;
        let (method, provider, reference): (Option<String>, Option<String>, Option<String>) = match attempt_id {
            None => (None, None, None),
            Some(id) => sqlx::query_as(
                "SELECT method, provider, COALESCE(payment_intent, provider_ref) FROM payment_attempts WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&mut *conn)
            .await
            .map_err(query_err("read the attempt of a receipt"))?,
        };
        sqlx::query(
            "INSERT INTO receipts (folio, series, fiscal_year, number, order_id, attempt_id, issued_at, issued_on, \
             account, payer_name, total_centavos, method, provider, provider_reference) \
             SELECT $1, $2, $3, $4, $5, $6, $7::timestamptz, $8::date, $9, $10, total_centavos, $11, $12, $13 \
             FROM payment_orders WHERE id = $5",
        )
        .bind(folio.to_string())
        .bind(ONLINE_SERIES)
        .bind(year)
        .bind(number)
        .bind(order_id)
        .bind(attempt_id)
        .bind(now)
        .bind(today.format("%Y-%m-%d").to_string())
        .bind(receipt_account(&accounts))
        .bind(payer.unwrap_or_default())
        .bind(method)
        .bind(provider)
        .bind(reference.or(event_id.map(str::to_string)))
        .execute(&mut *conn)
        .await
        .map_err(query_err("issue a receipt"))?;
        Ok(())
    }

    /// Applies `event` to order `order_id` inside the caller's transaction
    /// (locking the order's row): the guarded transition; on a move, the new
    /// status, its transition row, the charges marked paid on `succeeded`
    /// and released when the order leaves the live statuses. The inner
    /// `Err` is the refused transition (nothing written).
    async fn move_order(
        conn: &mut PgConnection,
        order_id: i64,
        event: &PaymentEvent,
        now: &str,
    ) -> Result<Result<Transition, TransitionError>, StoreError> {
        let stored: Option<String> = sqlx::query_scalar("SELECT status FROM payment_orders WHERE id = $1 FOR UPDATE")
            .bind(order_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(query_err("read the status of a payment order"))?;
        let from = payment_status_from_db(&stored.ok_or(StoreError::OrderNotFound(order_id))?)?;
        let outcome = match transition(from, event) {
            Ok(t) => t,
            Err(e) => return Ok(Err(e)),
        };
        if let Transition::Moved { from, to } = outcome {
            sqlx::query("UPDATE payment_orders SET status = $1, updated_at = $2::timestamptz WHERE id = $3")
                .bind(to.as_str())
                .bind(now)
                .bind(order_id)
                .execute(&mut *conn)
                .await
                .map_err(query_err("update the status of a payment order"))?;
            sqlx::query(
                "INSERT INTO payment_transitions (order_id, from_status, to_status, event, at) \
                 VALUES ($1, $2, $3, $4, $5::timestamptz)",
            )
            .bind(order_id)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(event.kind().as_str())
            .bind(now)
            .execute(&mut *conn)
            .await
            .map_err(query_err("record a payment transition"))?;
            if to == PaymentStatus::Succeeded {
                sqlx::query(
                    "UPDATE charges SET status = 'paid', updated_at = $2::timestamptz WHERE status = 'open' \
                     AND id IN (SELECT charge_id FROM payment_order_items WHERE order_id = $1)",
                )
                .bind(order_id)
                .bind(now)
                .execute(&mut *conn)
                .await
                .map_err(query_err("mark the charges of a payment order paid"))?;
            }
            if !to.is_live() {
                sqlx::query("DELETE FROM live_order_charges WHERE order_id = $1")
                    .bind(order_id)
                    .execute(&mut *conn)
                    .await
                    .map_err(query_err("release the charges of a payment order"))?;
            }
        }
        Ok(Ok(outcome))
    }
}

impl PgStore {
    /// Which of `charge_ids` live orders hold, sorted.
    async fn held_charges(conn: &mut PgConnection, charge_ids: &[i64]) -> Result<Vec<i64>, StoreError> {
        sqlx::query_scalar("SELECT charge_id FROM live_order_charges WHERE charge_id = ANY($1) ORDER BY charge_id")
            .bind(charge_ids)
            .fetch_all(conn)
            .await
            .map_err(query_err("read the charges held by live orders"))
    }

    /// Inserts the order, its items, its first transition and the
    /// live-order rows of its charges.
    async fn insert_order(
        conn: &mut PgConnection,
        order: &NewOrder,
        charge_ids: &[i64],
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let id: i64 = sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('payment_orders', 'id'))")
            .fetch_one(&mut *conn)
            .await
            .map_err(query_err("allocate an order id"))?;
        let reference = order_reference(order, id)?;
        let now = timestamp_to_db(now);
        sqlx::query(
            "INSERT INTO payment_orders (id, reference, status, subtotal_centavos, rounding_centavos, \
             total_centavos, currency, expires_at, created_at, updated_at, requoted_from) OVERRIDING SYSTEM VALUE \
             VALUES ($1, $2, $3, $4, $5, $6, 'MXN', $7::timestamptz, $8::timestamptz, $8::timestamptz, $9)",
        )
        .bind(id)
        .bind(reference)
        .bind(PaymentStatus::Created.as_str())
        .bind(order.subtotal.0)
        .bind(order.rounding.0)
        .bind(order.total.0)
        .bind(timestamp_to_db(order.expires_at))
        .bind(&now)
        .bind(order.requoted_from)
        .execute(&mut *conn)
        .await
        .map_err(query_err("insert a payment order"))?;
        let items = &order.items;
        sqlx::query(
            "INSERT INTO payment_order_items (order_id, charge_id, account, concept, period, due_date, \
             principal_centavos, recargos_centavos, discount_centavos, total_centavos) \
             SELECT $1, u.c, u.a, u.k, u.p, u.d, u.pr, u.r, u.di, u.t \
             FROM UNNEST($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[]::date[], \
                    $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[]) \
                  WITH ORDINALITY AS u (c, a, k, p, d, pr, r, di, t, n) \
             ORDER BY u.n",
        )
        .bind(id)
        .bind(charge_ids)
        .bind(items.iter().map(|i| i.account.as_str()).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.concept.as_str()).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.period.as_str()).collect::<Vec<_>>())
        .bind(items.iter().map(|i| iso(i.due_date)).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.principal.0).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.recargos.0).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.discount.0).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.total.0).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await
        .map_err(query_err("insert the items of a payment order"))?;
        sqlx::query(
            "INSERT INTO payment_transitions (order_id, from_status, to_status, event, at) \
             VALUES ($1, NULL, $2, $3, $4::timestamptz)",
        )
        .bind(id)
        .bind(PaymentStatus::Created.as_str())
        .bind(CREATED_EVENT)
        .bind(&now)
        .execute(&mut *conn)
        .await
        .map_err(query_err("record the creation of a payment order"))?;
        // The database's own guard: a charge already held violates the key
        // (a concurrent order waits for the other transaction, then fails).
        sqlx::query("INSERT INTO live_order_charges (charge_id, order_id) SELECT UNNEST($1::bigint[]), $2")
            .bind(charge_ids)
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::ChargesInLiveOrder(charge_ids.to_vec())
                } else {
                    StoreError::Query { context: "hold the charges of a payment order", source: e }
                }
            })?;
        Ok(id)
    }
}

struct PgImport<'c> {
    conn: &'c mut PgConnection,
}

#[async_trait::async_trait]
impl ImportTx for PgImport<'_> {
    async fn accounts_by_numbers(&mut self, numbers: &[&str]) -> Result<Vec<ExistingAccount>, StoreError> {
        let rows = sqlx::query_as::<_, (i64, String, String, i64, String, Option<String>)>(
            "SELECT a.id, a.number, a.kind, a.taxpayer_id, t.name, t.colonia \
             FROM accounts a JOIN taxpayers t ON t.id = a.taxpayer_id \
             WHERE a.number = ANY($1)",
        )
        .bind(numbers)
        .fetch_all(&mut *self.conn)
        .await
        .map_err(query_err("read existing accounts"))?;
        Ok(rows
            .into_iter()
            .map(|r| ExistingAccount {
                id: r.0,
                number: r.1,
                kind: r.2,
                taxpayer_id: r.3,
                taxpayer_name: r.4,
                taxpayer_colonia: r.5,
            })
            .collect())
    }

    async fn taxpayers_by_rfcs(&mut self, rfcs: &[&str]) -> Result<Vec<ExistingTaxpayer>, StoreError> {
        let rows = sqlx::query_as::<_, (i64, String, String, Option<String>)>(
            "SELECT id, rfc, name, colonia FROM taxpayers WHERE rfc = ANY($1)",
        )
        .bind(rfcs)
        .fetch_all(&mut *self.conn)
        .await
        .map_err(query_err("read existing taxpayers"))?;
        Ok(rows.into_iter().map(|r| ExistingTaxpayer { id: r.0, rfc: r.1, name: r.2, colonia: r.3 }).collect())
    }

    async fn allocate_ids(&mut self, table: IdTable, n: usize) -> Result<Vec<i64>, StoreError> {
        let sql = match table {
            IdTable::Taxpayers => {
                "SELECT nextval(pg_get_serial_sequence('taxpayers', 'id')) FROM generate_series(1, $1)"
            }
            IdTable::Accounts => "SELECT nextval(pg_get_serial_sequence('accounts', 'id')) FROM generate_series(1, $1)",
        };
        sqlx::query_scalar(sql).bind(n as i64).fetch_all(&mut *self.conn).await.map_err(query_err("allocate ids"))
    }

    async fn insert_taxpayers(&mut self, taxpayers: &[NewTaxpayer<'_>]) -> Result<(), StoreError> {
        let ids: Vec<i64> = taxpayers.iter().map(|t| t.id).collect();
        let kinds: Vec<&str> = taxpayers.iter().map(|t| t.person_kind.as_str()).collect();
        let rfcs: Vec<Option<&str>> = taxpayers.iter().map(|t| t.rfc).collect();
        let names: Vec<&str> = taxpayers.iter().map(|t| t.name).collect();
        let colonias: Vec<Option<&str>> = taxpayers.iter().map(|t| t.colonia).collect();
        sqlx::query(
            "INSERT INTO taxpayers (id, person_kind, rfc, name, colonia) OVERRIDING SYSTEM VALUE \
             SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])",
        )
        .bind(ids)
        .bind(kinds)
        .bind(rfcs)
        .bind(names)
        .bind(colonias)
        .execute(&mut *self.conn)
        .await
        .map_err(query_err("insert taxpayers"))?;
        Ok(())
    }

    async fn update_taxpayer(&mut self, id: i64, name: &str, colonia: Option<&str>) -> Result<(), StoreError> {
        sqlx::query("UPDATE taxpayers SET name = $1, colonia = $2 WHERE id = $3")
            .bind(name)
            .bind(colonia)
            .bind(id)
            .execute(&mut *self.conn)
            .await
            .map_err(query_err("update a taxpayer"))?;
        Ok(())
    }

    async fn insert_accounts(&mut self, accounts: &[NewAccount<'_>]) -> Result<(), StoreError> {
        let ids: Vec<i64> = accounts.iter().map(|a| a.id).collect();
        let numbers: Vec<&str> = accounts.iter().map(|a| a.number).collect();
        let kinds: Vec<&str> = accounts.iter().map(|a| a.kind).collect();
        let owners: Vec<i64> = accounts.iter().map(|a| a.taxpayer_id).collect();
        sqlx::query(
            "INSERT INTO accounts (id, number, kind, taxpayer_id) OVERRIDING SYSTEM VALUE \
             SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::bigint[])",
        )
        .bind(ids)
        .bind(numbers)
        .bind(kinds)
        .bind(owners)
        .execute(&mut *self.conn)
        .await
        .map_err(query_err("insert accounts"))?;
        Ok(())
    }

    async fn update_account(&mut self, id: i64, kind: &str, taxpayer_id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE accounts SET kind = $1, taxpayer_id = $2 WHERE id = $3")
            .bind(kind)
            .bind(taxpayer_id)
            .bind(id)
            .execute(&mut *self.conn)
            .await
            .map_err(query_err("update an account"))?;
        Ok(())
    }

    async fn charges_of_accounts(&mut self, account_ids: &[i64]) -> Result<Vec<ExistingCharge>, StoreError> {
        let rows = sqlx::query_as::<_, (i64, i64, String, String, String, i64, String)>(
            "SELECT id, account_id, concept, period, to_char(due_date, 'YYYY-MM-DD'), principal_centavos, status \
             FROM charges WHERE account_id = ANY($1)",
        )
        .bind(account_ids)
        .fetch_all(&mut *self.conn)
        .await
        .map_err(query_err("read existing charges"))?;
        rows.into_iter()
            .map(|r| {
                Ok(ExistingCharge {
                    id: r.0,
                    account_id: r.1,
                    concept: r.2,
                    period: r.3,
                    due_date: date_from_db(&r.4)?,
                    principal: r.5,
                    status: status_from_db(&r.6)?,
                })
            })
            .collect()
    }

    async fn update_charge(&mut self, id: i64, due_date: NaiveDate, principal: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE charges SET due_date = $1::date, principal_centavos = $2, updated_at = now() \
             WHERE id = $3 AND status = 'open'",
        )
        .bind(iso(due_date))
        .bind(principal)
        .bind(id)
        .execute(&mut *self.conn)
        .await
        .map_err(query_err("update a charge"))?;
        Ok(())
    }

    async fn insert_charges(&mut self, charges: &[NewCharge<'_>]) -> Result<(), StoreError> {
        let account_ids: Vec<i64> = charges.iter().map(|c| c.account_id).collect();
        let concepts: Vec<&str> = charges.iter().map(|c| c.concept).collect();
        let periods: Vec<&str> = charges.iter().map(|c| c.period).collect();
        let due_dates: Vec<String> = charges.iter().map(|c| iso(c.due_date)).collect();
        let principals: Vec<i64> = charges.iter().map(|c| c.principal).collect();
        sqlx::query(
            "INSERT INTO charges (account_id, concept, period, due_date, principal_centavos) \
             SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[]::date[], $5::bigint[])",
        )
        .bind(account_ids)
        .bind(concepts)
        .bind(periods)
        .bind(due_dates)
        .bind(principals)
        .execute(&mut *self.conn)
        .await
        .map_err(query_err("insert charges"))?;
        Ok(())
    }
}
