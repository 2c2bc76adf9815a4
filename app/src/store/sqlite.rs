//! SQLite backend. Dates are `YYYY-MM-DD` text. Lists of keys are bound as ONE
//! JSON array parameter and expanded with `json_each(?)`, so each statement has
//! a fixed text and is prepared once per connection (sqlx's statement cache).

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

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

/// The `payment_attempts` columns of [`AttemptRow`].
macro_rules! attempt_select {
    () => {
        "SELECT id, order_id, provider, provider_ref, idempotency_key, method, instructions, payment_intent, \
         next_check_at, status, amount_centavos, created_at, updated_at FROM payment_attempts"
    };
}

/// The live orders [`Store::expire_due_orders`] expires at `?1`: past
/// their expiry, and without a pending Stripe attempt (Stripe's word decides those).
macro_rules! due_orders_where {
    () => {
        " WHERE status IN ('created', 'pending') AND expires_at <= ?1 AND NOT EXISTS \
         (SELECT 1 FROM payment_attempts a WHERE a.order_id = payment_orders.id \
          AND a.status = 'pending' AND a.provider = 'stripe')"
    };
}

/// The `overpayments` columns of [`OverpaymentRow`] (joined with the attempt as `a`).
macro_rules! overpayment_select {
    () => {
        "SELECT o.id, o.order_id, o.attempt_id, a.provider, a.payment_intent, o.amount_centavos, o.reason, \
         o.created_at, o.refund_status, o.refund_ref, o.refund_error, o.refunded_at \
         FROM overpayments o JOIN payment_attempts a ON a.id = o.attempt_id"
    };
}

/// The `receipts` columns of [`ReceiptRow`].
macro_rules! receipt_select {
    () => {
        "SELECT id, folio, order_id, attempt_id, issued_at, issued_on, account, payer_name, total_centavos, \
         method, provider, provider_reference, status, cancel_reason, cancelled_at, signature FROM receipts"
    };
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

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

/// One order item as a JSON array, for `json_each`.
type ItemJson<'a> = (i64, &'a str, &'a str, &'a str, String, i64, i64, i64, i64);

fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).expect("plain strings and integers always serialise")
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The SQLite store. Cheap to clone (the pool is reference-counted).
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database and applies migrations.
    /// Accepts `sqlite:…` URLs (including `sqlite::memory:`) or a plain file path.
    pub async fn connect(url: &str) -> Result<SqliteStore, StoreError> {
        let connect_err = |source| StoreError::Connect { url: redact_url(url), source };
        let base = if url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url).map_err(connect_err)?
        } else {
            SqliteConnectOptions::new().filename(url)
        };
        let options = base
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let pool_options = if in_memory {
            // Every connection to a private in-memory database is a new, empty database.
            SqlitePoolOptions::new().max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None)
        } else {
            SqlitePoolOptions::new().max_connections(8)
        };
        let pool = pool_options.connect_with(options).await.map_err(connect_err)?;
        MIGRATOR.run(&pool).await.map_err(StoreError::Migrate)?;
        Ok(SqliteStore { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(query_err("ping the database"))?;
        Ok(())
    }

    async fn account_by_number(&self, number: &str) -> Result<Option<AccountView>, StoreError> {
        sqlx::query_as::<_, AccountViewRow>(concat!(account_view_select!(), " WHERE a.number = ?1"))
            .bind(number)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_err("look up an account by number"))?
            .map(account_view)
            .transpose()
    }

    async fn accounts_by_rfc(&self, rfc: &str) -> Result<Vec<AccountView>, StoreError> {
        sqlx::query_as::<_, AccountViewRow>(concat!(account_view_select!(), " WHERE t.rfc = ?1 ORDER BY a.number"))
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
        let rows = sqlx::query_as::<_, (i64, i64, String, String, String, String, i64, String)>(
            "SELECT c.id, c.account_id, a.number, c.concept, c.period, c.due_date, c.principal_centavos, c.status \
             FROM charges c JOIN accounts a ON a.id = c.account_id \
             WHERE c.status = 'open' AND c.account_id IN (SELECT value FROM json_each(?1)) \
             ORDER BY a.number, c.due_date, c.concept, c.period",
        )
        .bind(json(account_ids))
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
        // IMMEDIATE: take the write lock up front, so a concurrent writer waits
        // (busy_timeout) instead of failing half-way through the file.
        let mut tx =
            self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(query_err("start the import transaction"))?;
        let summary = import_rows(&mut SqliteImport { conn: &mut tx }, rows, progress).await?;
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(query_err("start the order transaction"))?;
        let held = Self::held_charges(&mut tx, &charge_ids).await?;
        if !held.is_empty() {
            return Err(StoreError::ChargesInLiveOrder(held));
        }
        let id = Self::insert_order(&mut tx, order, now).await?;
        // The database's own guard: a charge already held violates the key.
        sqlx::query(
            "INSERT INTO live_order_charges (charge_id, order_id) \
             SELECT value, ?1 FROM json_each(?2) ORDER BY key",
        )
        .bind(id)
        .bind(json(&charge_ids))
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::ChargesInLiveOrder(charge_ids.clone())
            } else {
                StoreError::Query { context: "hold the charges of a payment order", source: e }
            }
        })?;
        tx.commit().await.map_err(query_err("commit a payment order"))?;
        self.get_order(id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("payment order {id} vanished after its creation")))
    }

    async fn get_order(&self, id: i64) -> Result<Option<Order>, StoreError> {
        let Some(order) = sqlx::query_as::<_, OrderRow>(
            "SELECT id, reference, status, subtotal_centavos, rounding_centavos, total_centavos, currency, \
             method_hint, expires_at, created_at, updated_at, requoted_from FROM payment_orders WHERE id = ?1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_err("read a payment order"))?
        else {
            return Ok(None);
        };
        let items = sqlx::query_as::<_, OrderItemRow>(
            "SELECT charge_id, account, concept, period, due_date, principal_centavos, recargos_centavos, \
             discount_centavos, total_centavos FROM payment_order_items WHERE order_id = ?1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err("read the items of a payment order"))?;
        let transitions = sqlx::query_as::<_, TransitionRow>(
            "SELECT from_status, to_status, event, at FROM payment_transitions WHERE order_id = ?1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err("read the transitions of a payment order"))?;
        order_from_rows(order, items, transitions).map(Some)
    }

    async fn expire_due_orders(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let now = timestamp_to_db(now);
        // A read first: the common case (nothing due) takes no write lock.
        let due: i64 =
            sqlx::query_scalar(concat!("SELECT EXISTS (SELECT 1 FROM payment_orders", due_orders_where!(), ")"))
                .bind(&now)
                .fetch_one(&self.pool)
                .await
                .map_err(query_err("look for expired payment orders"))?;
        if due == 0 {
            return Ok(0);
        }
        let mut tx =
            self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(query_err("start the expiry transaction"))?;
        sqlx::query(concat!(
            "INSERT INTO payment_transitions (order_id, from_status, to_status, event, at) \
                 SELECT id, status, ?2, ?3, ?1 FROM payment_orders",
            due_orders_where!(),
            " ORDER BY id"
        ))
        .bind(&now)
        .bind(PaymentStatus::Expired.as_str())
        .bind(PaymentEventKind::Expired.as_str())
        .execute(&mut *tx)
        .await
        .map_err(query_err("record the expiry of payment orders"))?;
        sqlx::query(concat!(
            "DELETE FROM live_order_charges WHERE order_id IN (SELECT id FROM payment_orders",
            due_orders_where!(),
            ")"
        ))
        .bind(&now)
        .execute(&mut *tx)
        .await
        .map_err(query_err("release the charges of expired payment orders"))?;
        let expired =
            sqlx::query(concat!("UPDATE payment_orders SET status = ?2, updated_at = ?1", due_orders_where!()))
                .bind(&now)
                .bind(PaymentStatus::Expired.as_str())
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(query_err("start a payment transition"))?;
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
        sqlx::query_scalar("SELECT id FROM payment_orders WHERE reference = ?1")
            .bind(reference)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_err("find a payment order by reference"))
    }

    async fn start_attempt(&self, attempt: &NewAttempt, now: DateTime<Utc>) -> Result<PaymentAttempt, StoreError> {
        let now = timestamp_to_db(now);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(query_err("start a payment attempt"))?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO payment_attempts (order_id, provider, provider_ref, idempotency_key, status, \
             amount_centavos, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?6, ?6) RETURNING id",
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
        let order_id = attempt.order_id;
        Self::move_order(&mut tx, order_id, &PaymentEvent::Redirected, &now)
            .await?
            .map_err(|source| StoreError::Transition { order_id, source })?;
        tx.commit().await.map_err(query_err("commit a payment attempt"))?;
        self.get_attempt(id).await?.ok_or(StoreError::AttemptNotFound(id))
    }

    async fn get_attempt(&self, id: i64) -> Result<Option<PaymentAttempt>, StoreError> {
        sqlx::query_as::<_, AttemptRow>(concat!(attempt_select!(), " WHERE id = ?1"))
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
            "UPDATE payment_attempts SET provider_ref = ?2, updated_at = ?3 \
             WHERE id = ?1 AND status = 'pending' AND provider_ref IS NULL",
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
            " WHERE provider = ?1 AND status = 'pending' AND created_at <= ?2 \
              AND (next_check_at IS NULL OR next_check_at <= ?3) ORDER BY id"
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
        sqlx::query("UPDATE payment_attempts SET next_check_at = ?2 WHERE id = ?1")
            .bind(id)
            .bind(timestamp_to_db(at))
            .execute(&self.pool)
            .await
            .map_err(query_err("schedule the next check of a payment attempt"))?;
        Ok(())
    }

    async fn attempts_of_order(&self, order_id: i64) -> Result<Vec<PaymentAttempt>, StoreError> {
        sqlx::query_as::<_, AttemptRow>(concat!(attempt_select!(), " WHERE order_id = ?1 ORDER BY id"))
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(query_err("start a provider event"))?;
        let fresh = sqlx::query(
            "INSERT INTO provider_events (provider, event_id, received_at) VALUES (?1, ?2, ?3) \
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
        let attempt: Option<(i64, String, i64)> = sqlx::query_as(
            "SELECT order_id, status, amount_centavos FROM payment_attempts WHERE id = ?1 AND provider = ?2",
        )
        .bind(ev.attempt_id)
        .bind(&ev.provider)
        .fetch_optional(&mut *tx)
        .await
        .map_err(query_err("read a payment attempt"))?;
        let (order_id, attempt_status, amount) = attempt.ok_or(StoreError::AttemptNotFound(ev.attempt_id))?;
        let order_status: Option<String> = sqlx::query_scalar("SELECT status FROM payment_orders WHERE id = ?1")
            .bind(order_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(query_err("read the status of a payment order"))?;
        let order_status = payment_status_from_db(&order_status.ok_or(StoreError::OrderNotFound(order_id))?)?;
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
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (attempt_id) DO NOTHING",
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
        // An attempt that already failed, expired or was overpaid keeps its
        // status unless this event moved its order.
        let keep = matches!(outcome, EventOutcome::Applied(Transition::AlreadyThere(_))) && attempt_status != "pending";
        let (instructions, pay_before) = instructions_to_db(ev.instructions.as_ref());
        sqlx::query(
            "UPDATE payment_attempts SET status = CASE WHEN ?6 THEN status ELSE ?2 END, \
             method = COALESCE(?3, method), instructions = COALESCE(?4, instructions), \
             pay_before = COALESCE(?7, pay_before), payment_intent = COALESCE(?8, payment_intent), \
             updated_at = ?5 WHERE id = ?1",
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
                "UPDATE payment_orders SET expires_at = ?2, updated_at = ?3 \
                 WHERE id = ?1 AND status = 'pending' AND expires_at < ?2",
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
        sqlx::query_as::<_, OverpaymentRow>(concat!(overpayment_select!(), " WHERE o.order_id = ?1 ORDER BY o.id"))
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
            " WHERE a.provider = ?1 AND o.refund_status IN ('to_refund', 'refund_failed') ORDER BY o.id"
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
        sqlx::query_as::<_, ReceiptRow>(concat!(receipt_select!(), " WHERE folio = ?1"))
            .bind(folio)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_err("read a receipt"))?
            .map(receipt_from_row)
            .transpose()
    }

    async fn receipt_of_order(&self, order_id: i64) -> Result<Option<Receipt>, StoreError> {
        sqlx::query_as::<_, ReceiptRow>(concat!(receipt_select!(), " WHERE order_id = ?1"))
            .bind(order_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_err("read the receipt of a payment order"))?
            .map(receipt_from_row)
            .transpose()
    }

    async fn unsigned_receipts(&self, limit: i64) -> Result<Vec<Receipt>, StoreError> {
        sqlx::query_as::<_, ReceiptRow>(concat!(receipt_select!(), " WHERE signature IS NULL ORDER BY id LIMIT ?1"))
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(query_err("read the receipts to sign"))?
            .into_iter()
            .map(receipt_from_row)
            .collect()
    }

    async fn set_receipt_signature(&self, id: i64, key_id: &str, signature: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE receipts SET key_id = ?2, signature = ?3 WHERE id = ?1 AND signature IS NULL")
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
            "UPDATE receipts SET status = 'cancelled', cancel_reason = ?2, cancelled_at = ?3 \
             WHERE folio = ?1 AND status = 'valid'",
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
            " WHERE series = ?1 AND fiscal_year = ?2 ORDER BY number"
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
            "UPDATE overpayments SET refund_status = ?2, refund_ref = COALESCE(?3, refund_ref), \
             refund_error = ?4, refunded_at = CASE WHEN ?3 IS NULL THEN refunded_at ELSE ?5 END \
             WHERE id = ?1 AND refund_status <> 'refunded'",
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

impl SqliteStore {
    /// Issues the receipt of order `order_id`, which just succeeded, inside
    /// the caller's transaction: the next number of [`ONLINE_SERIES`] in
    /// `today`'s fiscal year (the counter row is written in this same
    /// transaction, so a rollback gives the number back: no gaps), the
    /// account and payer of the order's first item, the attempt's method and
    /// payment id. Unsigned: the service signs it after the commit.
    async fn issue_receipt(
        conn: &mut SqliteConnection,
        order_id: i64,
        attempt_id: Option<i64>,
        event_id: Option<&str>,
        now: &str,
        today: NaiveDate,
    ) -> Result<(), StoreError> {
        let year = chrono::Datelike::year(&today);
        let number: i64 = sqlx::query_scalar(
            "INSERT INTO folio_counters (series, fiscal_year, last_number) VALUES (?1, ?2, 1) \
             ON CONFLICT (series, fiscal_year) DO UPDATE SET last_number = last_number + 1 \
             RETURNING last_number",
        )
        .bind(ONLINE_SERIES)
        .bind(year)
        .fetch_one(&mut *conn)
        .await
        .map_err(query_err("take the next folio"))?;
        let folio = online_folio(year, number)?;
        let accounts: Vec<String> =
            sqlx::query_scalar("SELECT account FROM payment_order_items WHERE order_id = ?1 ORDER BY id")
                .bind(order_id)
                .fetch_all(&mut *conn)
                .await
                .map_err(query_err("read the accounts of a payment order"))?;
        let payer: Option<String> = sqlx::query_scalar(
            "SELECT t.name FROM accounts a JOIN taxpayers t ON t.id = a.taxpayer_id WHERE a.number = ?1",
        )
        .bind(accounts.first())
        .fetch_optional(&mut *conn)
        .await
        .map_err(query_err("read the payer of a payment order"))?;
        let (method, provider, reference): (Option<String>, Option<String>, Option<String>) = match attempt_id {
            None => (None, None, None),
            Some(id) => sqlx::query_as(
                "SELECT method, provider, COALESCE(payment_intent, provider_ref) FROM payment_attempts WHERE id = ?1",
            )
            .bind(id)
            .fetch_one(&mut *conn)
            .await
            .map_err(query_err("read the attempt of a receipt"))?,
        };
        sqlx::query(
            "INSERT INTO receipts (folio, series, fiscal_year, number, order_id, attempt_id, issued_at, issued_on, \
             account, payer_name, total_centavos, method, provider, provider_reference) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, total_centavos, ?11, ?12, ?13 \
             FROM payment_orders WHERE id = ?5",
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

    /// Applies `event` to order `order_id` inside the caller's transaction:
    /// the guarded transition; on a move, the new status, its transition
    /// row, the charges marked paid on `succeeded` and released when the
    /// order leaves the live statuses. The inner `Err` is the refused
    /// transition (nothing written).
    async fn move_order(
        conn: &mut SqliteConnection,
        order_id: i64,
        event: &PaymentEvent,
        now: &str,
    ) -> Result<Result<Transition, TransitionError>, StoreError> {
        let stored: Option<String> = sqlx::query_scalar("SELECT status FROM payment_orders WHERE id = ?1")
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
            sqlx::query("UPDATE payment_orders SET status = ?1, updated_at = ?2 WHERE id = ?3")
                .bind(to.as_str())
                .bind(now)
                .bind(order_id)
                .execute(&mut *conn)
                .await
                .map_err(query_err("update the status of a payment order"))?;
            sqlx::query(
                "INSERT INTO payment_transitions (order_id, from_status, to_status, event, at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
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
                    "UPDATE charges SET status = 'paid', updated_at = ?2 WHERE status = 'open' \
                     AND id IN (SELECT charge_id FROM payment_order_items WHERE order_id = ?1)",
                )
                .bind(order_id)
                .bind(now)
                .execute(&mut *conn)
                .await
                .map_err(query_err("mark the charges of a payment order paid"))?;
            }
            if !to.is_live() {
                sqlx::query("DELETE FROM live_order_charges WHERE order_id = ?1")
                    .bind(order_id)
                    .execute(&mut *conn)
                    .await
                    .map_err(query_err("release the charges of a payment order"))?;
            }
        }
        Ok(Ok(outcome))
    }
}

impl SqliteStore {
    /// Live orders of `charge_ids` (those already held), sorted.
    async fn held_charges(conn: &mut SqliteConnection, charge_ids: &[i64]) -> Result<Vec<i64>, StoreError> {
        sqlx::query_scalar(
            "SELECT charge_id FROM live_order_charges \
             WHERE charge_id IN (SELECT value FROM json_each(?1)) ORDER BY charge_id",
        )
        .bind(json(charge_ids))
        .fetch_all(conn)
        .await
        .map_err(query_err("read the charges held by live orders"))
    }

    async fn insert_order(
        conn: &mut SqliteConnection,
        order: &NewOrder,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        // BEGIN IMMEDIATE holds the write lock: nobody else can take this id.
        let id: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM payment_orders")
            .fetch_one(&mut *conn)
            .await
            .map_err(query_err("allocate an order id"))?;
        let reference = order_reference(order, id)?;
        let now = timestamp_to_db(now);
        sqlx::query(
            "INSERT INTO payment_orders (id, reference, status, subtotal_centavos, rounding_centavos, \
             total_centavos, currency, expires_at, created_at, updated_at, requoted_from) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'MXN', ?7, ?8, ?8, ?9)",
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
        let items: Vec<ItemJson<'_>> = order
            .items
            .iter()
            .map(|i| {
                (
                    i.charge_id,
                    i.account.as_str(),
                    i.concept.as_str(),
                    i.period.as_str(),
                    iso(i.due_date),
                    i.principal.0,
                    i.recargos.0,
                    i.discount.0,
                    i.total.0,
                )
            })
            .collect();
        sqlx::query(
            "INSERT INTO payment_order_items (order_id, charge_id, account, concept, period, due_date, \
             principal_centavos, recargos_centavos, discount_centavos, total_centavos) \
             SELECT ?1, json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), \
                    json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[5]'), \
                    json_extract(value, '$[6]'), json_extract(value, '$[7]'), json_extract(value, '$[8]') \
             FROM json_each(?2) ORDER BY key",
        )
        .bind(id)
        .bind(json(&items))
        .execute(&mut *conn)
        .await
        .map_err(query_err("insert the items of a payment order"))?;
        sqlx::query(
            "INSERT INTO payment_transitions (order_id, from_status, to_status, event, at) \
             VALUES (?1, NULL, ?2, ?3, ?4)",
        )
        .bind(id)
        .bind(PaymentStatus::Created.as_str())
        .bind(CREATED_EVENT)
        .bind(&now)
        .execute(&mut *conn)
        .await
        .map_err(query_err("record the creation of a payment order"))?;
        Ok(id)
    }
}

struct SqliteImport<'c> {
    conn: &'c mut SqliteConnection,
}

#[async_trait::async_trait]
impl ImportTx for SqliteImport<'_> {
    async fn accounts_by_numbers(&mut self, numbers: &[&str]) -> Result<Vec<ExistingAccount>, StoreError> {
        let rows = sqlx::query_as::<_, (i64, String, String, i64, String, Option<String>)>(
            "SELECT a.id, a.number, a.kind, a.taxpayer_id, t.name, t.colonia \
             FROM accounts a JOIN taxpayers t ON t.id = a.taxpayer_id \
             WHERE a.number IN (SELECT value FROM json_each(?1))",
        )
        .bind(json(numbers))
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
            "SELECT id, rfc, name, colonia FROM taxpayers WHERE rfc IN (SELECT value FROM json_each(?1))",
        )
        .bind(json(rfcs))
        .fetch_all(&mut *self.conn)
        .await
        .map_err(query_err("read existing taxpayers"))?;
        Ok(rows.into_iter().map(|r| ExistingTaxpayer { id: r.0, rfc: r.1, name: r.2, colonia: r.3 }).collect())
    }

    async fn allocate_ids(&mut self, table: IdTable, n: usize) -> Result<Vec<i64>, StoreError> {
        // BEGIN IMMEDIATE holds the write lock: nobody else can take these ids.
        let sql = match table {
            IdTable::Taxpayers => "SELECT COALESCE(MAX(id), 0) FROM taxpayers",
            IdTable::Accounts => "SELECT COALESCE(MAX(id), 0) FROM accounts",
        };
        let max: i64 = sqlx::query_scalar(sql).fetch_one(&mut *self.conn).await.map_err(query_err("allocate ids"))?;
        Ok((max + 1..=max + n as i64).collect())
    }

    async fn insert_taxpayers(&mut self, taxpayers: &[NewTaxpayer<'_>]) -> Result<(), StoreError> {
        let batch: Vec<(i64, &str, Option<&str>, &str, Option<&str>)> =
            taxpayers.iter().map(|t| (t.id, t.person_kind.as_str(), t.rfc, t.name, t.colonia)).collect();
        sqlx::query(
            "INSERT INTO taxpayers (id, person_kind, rfc, name, colonia) \
             SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), \
                    json_extract(value, '$[3]'), json_extract(value, '$[4]') \
             FROM json_each(?1) ORDER BY key",
        )
        .bind(json(&batch))
        .execute(&mut *self.conn)
        .await
        .map_err(query_err("insert taxpayers"))?;
        Ok(())
    }

    async fn update_taxpayer(&mut self, id: i64, name: &str, colonia: Option<&str>) -> Result<(), StoreError> {
        sqlx::query("UPDATE taxpayers SET name = ?1, colonia = ?2 WHERE id = ?3")
            .bind(name)
            .bind(colonia)
            .bind(id)
            .execute(&mut *self.conn)
            .await
            .map_err(query_err("update a taxpayer"))?;
        Ok(())
    }

    async fn insert_accounts(&mut self, accounts: &[NewAccount<'_>]) -> Result<(), StoreError> {
        let batch: Vec<(i64, &str, &str, i64)> =
            accounts.iter().map(|a| (a.id, a.number, a.kind, a.taxpayer_id)).collect();
        sqlx::query(
            "INSERT INTO accounts (id, number, kind, taxpayer_id) \
             SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), \
                    json_extract(value, '$[3]') \
             FROM json_each(?1) ORDER BY key",
        )
        .bind(json(&batch))
        .execute(&mut *self.conn)
        .await
        .map_err(query_err("insert accounts"))?;
        Ok(())
    }

    async fn update_account(&mut self, id: i64, kind: &str, taxpayer_id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE accounts SET kind = ?1, taxpayer_id = ?2 WHERE id = ?3")
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
            "SELECT id, account_id, concept, period, due_date, principal_centavos, status \
             FROM charges WHERE account_id IN (SELECT value FROM json_each(?1))",
        )
        .bind(json(account_ids))
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
            "UPDATE charges SET due_date = ?1, principal_centavos = ?2, \
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
             WHERE id = ?3 AND status = 'open'",
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
        let batch: Vec<(i64, &str, &str, String, i64)> =
            charges.iter().map(|c| (c.account_id, c.concept, c.period, iso(c.due_date), c.principal)).collect();
        sqlx::query(
            "INSERT INTO charges (account_id, concept, period, due_date, principal_centavos) \
             SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), \
                    json_extract(value, '$[3]'), json_extract(value, '$[4]') \
             FROM json_each(?1) ORDER BY key",
        )
        .bind(json(&batch))
        .execute(&mut *self.conn)
        .await
        .map_err(query_err("insert charges"))?;
        Ok(())
    }
}
