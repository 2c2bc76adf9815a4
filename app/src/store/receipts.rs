//! Official receipts: issued and signed in the transaction that marks their
//! payment succeeded, with the next folio of their series (gapless: the
//! counter row is written in that same transaction, so a rollback gives
//! the number back; never reused: a cancelled receipt keeps its folio).

use std::ops::DerefMut;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sqlx::AnyConnection;

use super::audit::AuditAction;
use super::dialect::Stmt;
use super::records::{date_to_db, receipt_account, timestamp_to_db, Receipt, ReceiptRow};
use super::{query_err, Conn, Store, StoreError, Tx};
use crate::domain::folio::{Folio, DEMO_SERIES, ONLINE_SERIES};
use crate::domain::money::Centavos;
use crate::domain::payment::{Method, PaymentEvent, Provider, Transition};
use crate::domain::receipt_sig::ReceiptFacts;
use crate::receipt_keys::ReceiptKeys;

static NEXT_FOLIO: Stmt = Stmt::new(
    "INSERT INTO folio_counters (series, fiscal_year, last_number) VALUES ($1, $2, 1) \
     ON CONFLICT (series, fiscal_year) DO UPDATE SET last_number = folio_counters.last_number + 1 \
     RETURNING last_number",
);
/// The accounts of an order's items and their taxpayers, in order.
static ORDER_LINES: Stmt = Stmt::new(
    "SELECT i.account, t.name FROM payment_order_items i JOIN charges c ON c.id = i.charge_id \
     JOIN accounts a ON a.id = c.account_id JOIN taxpayers t ON t.id = a.taxpayer_id \
     WHERE i.order_id = $1 ORDER BY i.id",
);
static INSERT_RECEIPT: Stmt = Stmt::new(
    "INSERT INTO receipts (folio, series, fiscal_year, number, order_id, attempt_id, issued_at, issued_on, \
     account, payer_name, total_centavos, method, provider, provider_reference, key_id, signature) \
     VALUES ($1, $2, $3, $4, $5, $6, {ts:$7}, {date:$8}, $9, $10, $11, $12, $13, $14, $15, $16)",
);

macro_rules! receipt_select {
    () => {
        "SELECT id, folio, order_id, attempt_id, {ts_text:issued_at} AS issued_at, \
                {date_text:issued_on} AS issued_on, account, payer_name, total_centavos, method, provider, \
                provider_reference, status, cancel_reason, {ts_text:cancelled_at} AS cancelled_at, signature \
         FROM receipts"
    };
}
static RECEIPT_BY_FOLIO: Stmt = Stmt::new(concat!(receipt_select!(), " WHERE folio = $1"));
static RECEIPT_OF_ORDER: Stmt = Stmt::new(concat!(receipt_select!(), " WHERE order_id = $1"));
static UNSIGNED_RECEIPTS: Stmt = Stmt::new(concat!(receipt_select!(), " WHERE signature IS NULL ORDER BY id LIMIT $1"));
static RECEIPTS_OF_SERIES: Stmt =
    Stmt::new(concat!(receipt_select!(), " WHERE series = $1 AND fiscal_year = $2 ORDER BY number"));
static SET_SIGNATURE: Stmt =
    Stmt::new("UPDATE receipts SET key_id = $2, signature = $3 WHERE id = $1 AND signature IS NULL");
static COUNT_SIGNED: Stmt = Stmt::new("SELECT count(*) FROM receipts WHERE signature IS NOT NULL");
static CANCEL_RECEIPT: Stmt = Stmt::new(
    "UPDATE receipts SET status = 'cancelled', cancel_reason = $2, cancelled_at = {ts:$3} \
     WHERE folio = $1 AND status = 'valid'",
);

static VALID_ORDER_OF_FOLIO: Stmt = Stmt::new("SELECT order_id FROM receipts WHERE folio = $1 AND status = 'valid'");
static CANCEL_ORDER_RECEIPT: Stmt = Stmt::new(
    "UPDATE receipts SET status = 'cancelled', cancel_reason = $2, cancelled_at = {ts:$3} \
     WHERE order_id = $1 AND status = 'valid' RETURNING folio",
);
static REOPEN_CHARGES: Stmt = Stmt::new(
    "UPDATE charges SET status = 'open', updated_at = {ts:$2} WHERE status = 'paid' \
     AND id IN (SELECT charge_id FROM payment_order_items WHERE order_id = $1)",
);

static REDEEM: Stmt = Stmt::new(
    "UPDATE receipts SET redeemed_at = {ts:$2}, redeemed_by = $3, redeemed_where = $4 \
     WHERE folio = $1 AND status = 'valid' AND series <> $5 AND redeemed_at IS NULL",
);
static REDEMPTION: Stmt = Stmt::new(
    "SELECT {ts_text:redeemed_at} AS redeemed_at, redeemed_by, redeemed_where FROM receipts WHERE folio = $1",
);

/// When, by whom and where a receipt was redeemed ("entregado / canjeado").
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Redemption {
    pub at: DateTime<Utc>,
    pub by: String,
    pub place: String,
}

/// What a redemption came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RedeemOutcome {
    /// Redeemed now.
    Redeemed(Redemption),
    /// Redeemed before: the first one stands.
    AlreadyRedeemed(Redemption),
    /// No valid receipt of value with this folio (unknown, cancelled, or
    /// the demonstration's).
    NotRedeemable,
}

#[derive(sqlx::FromRow)]
struct RedemptionRow {
    redeemed_at: Option<super::records::DbTime>,
    redeemed_by: Option<String>,
    redeemed_where: Option<String>,
}

/// How a receipt's money came: what it prints besides the order.
#[derive(Clone, Debug)]
pub(crate) struct PaidBy {
    /// The online attempt that brought it (none at the window).
    pub attempt_id: Option<i64>,
    pub provider: Provider,
    pub method: Option<Method>,
    /// The provider's payment id (Stripe's PaymentIntent), else the event's
    /// id; at the window, the card authorisation, cheque number or
    /// transfer tracking key.
    pub reference: Option<String>,
    /// The till that took it (its code is the receipt's series).
    pub till: Option<String>,
    /// Who issues the receipt, for the audit trail (the provider when none).
    pub actor: Option<String>,
}

impl PaidBy {
    /// The folio series of the receipt: the till's at the window, the
    /// demonstration's for the demo provider, else the online one.
    fn series(&self) -> &str {
        match (self.provider, &self.till) {
            (Provider::Window, Some(till)) => till,
            (Provider::Demo, _) => DEMO_SERIES,
            _ => ONLINE_SERIES,
        }
    }
}

/// The folio of the `number`th receipt of `series` in `year`.
fn folio(series: &str, year: i32, number: i64) -> Result<Folio, StoreError> {
    let (y, n) = (u16::try_from(year).unwrap_or(0), u32::try_from(number).unwrap_or(0));
    Folio::new(series, y, n)
        .map_err(|e| StoreError::Corrupt(format!("folio {series}-{year}-{number}: {}", e.message_en())))
}

/// The receipts' one-statement primitives.
impl<C: DerefMut<Target = AnyConnection> + Send> Conn<C> {
    /// The next number of `series` in `fiscal_year` (the counter row is
    /// locked until this transaction ends, so concurrent payments queue on it).
    async fn next_folio_number(&mut self, series: &str, fiscal_year: i32) -> Result<i64, StoreError> {
        sqlx::query_scalar(self.sql(&NEXT_FOLIO))
            .bind(series)
            .bind(fiscal_year)
            .fetch_one(self.c())
            .await
            .map_err(query_err("take the next folio"))
    }

    async fn receipts_where(
        &mut self,
        stmt: &'static Stmt,
        bind: impl FnOnce(
            sqlx::query::QueryAs<'static, sqlx::Any, ReceiptRow, sqlx::any::AnyArguments<'static>>,
        ) -> sqlx::query::QueryAs<'static, sqlx::Any, ReceiptRow, sqlx::any::AnyArguments<'static>>,
        context: &'static str,
    ) -> Result<Vec<Receipt>, StoreError> {
        let rows = bind(sqlx::query_as(self.sql(stmt))).fetch_all(self.c()).await.map_err(query_err(context))?;
        rows.into_iter().map(Receipt::try_from).collect()
    }
}

/// Issues the receipt of order `order_id`, which just succeeded, inside the
/// caller's transaction: the next folio of its series (online, or the
/// demonstration provider's, which has no value) in `today`'s
/// fiscal year, the order's accounts (`+N`), its payer (the first item's
/// taxpayer), how it was paid, and the signature over folio, total, date
/// and account (a receipt whose facts cannot be signed stays unsigned, and
/// the start-up pass reports it).
pub(crate) async fn issue_receipt(
    tx: &mut Tx,
    order_id: i64,
    total: Centavos,
    paid_by: Option<PaidBy>,
    now: &str,
    today: NaiveDate,
    keys: &ReceiptKeys,
) -> Result<Folio, StoreError> {
    let year = today.year();
    let series = paid_by.as_ref().map_or(ONLINE_SERIES, PaidBy::series).to_string();
    let number = tx.next_folio_number(&series, year).await?;
    let folio = folio(&series, year, number)?;
    let lines: Vec<(String, String)> = sqlx::query_as(tx.sql(&ORDER_LINES))
        .bind(order_id)
        .fetch_all(tx.c())
        .await
        .map_err(query_err("read the accounts of a payment order"))?;
    let payer = lines.first().map(|(_, name)| name.clone());
    let accounts: Vec<String> = lines.into_iter().map(|(account, _)| account).collect();
    let account = receipt_account(&accounts);
    let signature = match ReceiptFacts::new(folio.clone(), total, today, &account) {
        Ok(facts) => Some(keys.sign(&facts)),
        Err(e) => {
            tracing::error!(%folio, error = %e, "receipt issued unsigned: its facts cannot be signed");
            None
        }
    };
    let (key_id, token) = signature.unzip();
    let actor = paid_by
        .as_ref()
        .map_or_else(|| "system".to_string(), |p| p.actor.clone().unwrap_or_else(|| p.provider.as_str().into()));
    sqlx::query(tx.sql(&INSERT_RECEIPT))
        .bind(folio.to_string())
        .bind(series)
        .bind(year)
        .bind(number)
        .bind(order_id)
        .bind(paid_by.as_ref().and_then(|p| p.attempt_id))
        .bind(now)
        .bind(date_to_db(today))
        .bind(account)
        .bind(payer.unwrap_or_default())
        .bind(total.0)
        .bind(paid_by.as_ref().and_then(|p| p.method).map(Method::as_str))
        .bind(paid_by.as_ref().map(|p| p.provider.as_str()))
        .bind(paid_by.and_then(|p| p.reference))
        .bind(key_id)
        .bind(token)
        .execute(tx.c())
        .await
        .map_err(query_err("issue a receipt"))?;
    let details = serde_json::json!({ "folio": folio.to_string(), "order_id": order_id, "total_centavos": total.0 });
    tx.audit(&actor, AuditAction::ReceiptIssued, details, now).await?;
    super::permits::issue_permits_paid_by(tx, order_id, folio.is_demo(), now, today, keys).await?;
    Ok(folio)
}

/// What taking a payment back leaves (a refund, a lost dispute, an
/// annulment), inside the caller's transaction once the order has moved:
/// its receipt "cancelado" with `reason` (the folio kept, never reused)
/// and its charges owed again. The folio cancelled, if the order had a
/// valid receipt.
pub(crate) async fn undo_payment(
    tx: &mut Tx,
    order_id: i64,
    reason: &str,
    now: &str,
) -> Result<Option<Folio>, StoreError> {
    let folio: Option<String> = sqlx::query_scalar(tx.sql(&CANCEL_ORDER_RECEIPT))
        .bind(order_id)
        .bind(reason)
        .bind(now)
        .fetch_optional(tx.c())
        .await
        .map_err(query_err("cancel the receipt of a payment taken back"))?;
    sqlx::query(tx.sql(&REOPEN_CHARGES))
        .bind(order_id)
        .bind(now)
        .execute(tx.c())
        .await
        .map_err(query_err("reopen the charges of a payment taken back"))?;
    folio.map(|f| Folio::parse(&f)).transpose().map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Annuls the payment of order `order_id` (succeeded) inside the caller's
/// transaction: the order moves to `annulled`, its receipt becomes
/// "cancelado" with `reason` and the date (the folio kept, never reused),
/// and its charges are owed again. In the audit trail as `actor`. Returns
/// the cancelled folio, or `None` when the order is not succeeded (nothing
/// written).
pub(crate) async fn annul_payment(
    tx: &mut Tx,
    order_id: i64,
    reason: &str,
    actor: &str,
    now: &str,
) -> Result<Option<Folio>, StoreError> {
    let event = PaymentEvent::Annulled { reason: reason.into() };
    let (_, moved) = super::orders::move_order(tx, order_id, &event, now).await?;
    if !matches!(moved, Ok(Transition::Moved { .. })) {
        return Ok(None);
    }
    let folio = undo_payment(tx, order_id, reason, now).await?;
    let details =
        serde_json::json!({ "order_id": order_id, "folio": folio.as_ref().map(Folio::to_string), "reason": reason });
    tx.audit(actor, AuditAction::PaymentAnnulled, details, now).await?;
    if let Some(f) = &folio {
        let details = serde_json::json!({ "folio": f.to_string(), "order_id": order_id, "reason": reason });
        tx.audit(actor, AuditAction::ReceiptCancelled, details, now).await?;
    }
    Ok(folio)
}

impl Store {
    pub async fn receipt_by_folio(&self, folio: &Folio) -> Result<Option<Receipt>, StoreError> {
        let folio = folio.to_string();
        let mut r = self.read().await?;
        Ok(r.receipts_where(&RECEIPT_BY_FOLIO, |q| q.bind(folio), "read a receipt").await?.pop())
    }

    pub async fn receipt_of_order(&self, order_id: i64) -> Result<Option<Receipt>, StoreError> {
        let mut r = self.read().await?;
        Ok(r.receipts_where(&RECEIPT_OF_ORDER, |q| q.bind(order_id), "read the receipt of a payment order")
            .await?
            .pop())
    }

    /// Receipts without a signature, oldest first (issued before receipts
    /// were signed at issue, or whose facts could not be signed).
    pub async fn unsigned_receipts(&self, limit: i64) -> Result<Vec<Receipt>, StoreError> {
        let mut r = self.read().await?;
        r.receipts_where(&UNSIGNED_RECEIPTS, |q| q.bind(limit), "read the receipts to sign").await
    }

    /// Every receipt of a series and fiscal year, by number (audits, tests).
    pub async fn receipts_of_series(&self, series: &str, fiscal_year: i32) -> Result<Vec<Receipt>, StoreError> {
        let series = series.to_string();
        let mut r = self.read().await?;
        r.receipts_where(&RECEIPTS_OF_SERIES, |q| q.bind(series).bind(fiscal_year), "read the receipts of a series")
            .await
    }

    /// Records a receipt's signature, once (a signature already there stays).
    pub async fn set_receipt_signature(&self, id: i64, key_id: &str, signature: &str) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(tx.sql(&SET_SIGNATURE))
            .bind(id)
            .bind(key_id)
            .bind(signature)
            .execute(tx.c())
            .await
            .map_err(query_err("record a receipt's signature"))?;
        tx.commit().await
    }

    /// How many receipts carry a signature (the key file that made them
    /// must not be replaced by a new one).
    pub async fn count_signed_receipts(&self) -> Result<u64, StoreError> {
        let mut r = self.read().await?;
        let n: i64 = sqlx::query_scalar(r.sql(&COUNT_SIGNED))
            .fetch_one(r.c())
            .await
            .map_err(query_err("count the signed receipts"))?;
        Ok(n as u64)
    }

    /// Cancels a valid receipt with a reason at once, without the
    /// two-person workflow: the emergency path of `recauda recibo
    /// cancelar`, under an admin's name. Like an approved cancellation,
    /// its payment is annulled and its charges are owed again; the folio
    /// stays, never reused. Returns false when there is no such valid
    /// receipt. `actor` is who cancels it (for the audit trail).
    pub async fn cancel_receipt(
        &self,
        folio: &Folio,
        reason: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let now = timestamp_to_db(now);
        let mut tx = self.write().await?;
        let order_id: Option<i64> = sqlx::query_scalar(tx.sql(&VALID_ORDER_OF_FOLIO))
            .bind(folio.to_string())
            .fetch_optional(tx.c())
            .await
            .map_err(query_err("read a receipt"))?;
        let Some(order_id) = order_id else {
            return Ok(false);
        };
        if annul_payment(&mut tx, order_id, reason, actor, &now).await?.is_none() {
            // Its order is not a standing payment (refunded already):
            // only the receipt is cancelled.
            let done = sqlx::query(tx.sql(&CANCEL_RECEIPT))
                .bind(folio.to_string())
                .bind(reason)
                .bind(&now)
                .execute(tx.c())
                .await
                .map_err(query_err("cancel a receipt"))?;
            if done.rows_affected() == 0 {
                return Ok(false);
            }
            let details = serde_json::json!({ "folio": folio.to_string(), "reason": reason });
            tx.audit(actor, AuditAction::ReceiptCancelled, details, &now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Marks a valid receipt redeemed by `by` at `place`, once: of two
    /// simultaneous redemptions exactly one wins (one guarded update), and
    /// every later one gets the first. In the audit trail.
    /// `actor` is who for the audit trail (`staff:<user>`), `by` the name
    /// shown to whoever tries again.
    pub async fn redeem_receipt(
        &self,
        folio: &Folio,
        actor: &str,
        by: &str,
        place: &str,
        now: DateTime<Utc>,
    ) -> Result<RedeemOutcome, StoreError> {
        let at = timestamp_to_db(now);
        let mut tx = self.write().await?;
        let done = sqlx::query(tx.sql(&REDEEM))
            .bind(folio.to_string())
            .bind(&at)
            .bind(by)
            .bind(place)
            .bind(DEMO_SERIES)
            .execute(tx.c())
            .await
            .map_err(query_err("redeem a receipt"))?;
        if done.rows_affected() == 1 {
            let details = serde_json::json!({ "folio": folio.to_string(), "place": place });
            tx.audit(actor, AuditAction::ReceiptRedeemed, details, &at).await?;
            tx.commit().await?;
            return Ok(RedeemOutcome::Redeemed(Redemption { at: now, by: by.into(), place: place.into() }));
        }
        let row: Option<RedemptionRow> = sqlx::query_as(tx.sql(&REDEMPTION))
            .bind(folio.to_string())
            .fetch_optional(tx.c())
            .await
            .map_err(query_err("read a receipt's redemption"))?;
        tx.commit().await?;
        Ok(match row {
            Some(RedemptionRow { redeemed_at: Some(at), redeemed_by, redeemed_where, .. }) => {
                RedeemOutcome::AlreadyRedeemed(Redemption {
                    at: at.0,
                    by: redeemed_by.unwrap_or_default(),
                    place: redeemed_where.unwrap_or_default(),
                })
            }
            _ => RedeemOutcome::NotRedeemable,
        })
    }

    /// The redemption of a receipt, if it was redeemed.
    pub async fn redemption_of(&self, folio: &Folio) -> Result<Option<Redemption>, StoreError> {
        let mut r = self.read().await?;
        let row: Option<RedemptionRow> = sqlx::query_as(r.sql(&REDEMPTION))
            .bind(folio.to_string())
            .fetch_optional(r.c())
            .await
            .map_err(query_err("read a receipt's redemption"))?;
        Ok(row.and_then(|r| {
            Some(Redemption {
                at: r.redeemed_at?.0,
                by: r.redeemed_by.unwrap_or_default(),
                place: r.redeemed_where.unwrap_or_default(),
            })
        }))
    }
}
