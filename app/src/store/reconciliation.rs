//! Stripe's payouts and their items as the treasury fetched them
//! ([`crate::reconciliation`]): stored whole per payout, upserted by
//! Stripe's ids (fetching again changes nothing), each item matched to a
//! payment order; read back with what Recauda knows of each order now; the
//! Stripe receipts that no stored payout carries; Stripe's fees of a range
//! for the accounting export.

use chrono::{DateTime, NaiveDate, Utc};

use super::audit::AuditAction;
use super::dialect::{json, Stmt};
use super::records::{date_to_db, timestamp_to_db, DbDate, DbTime};
use super::{query_err, Store, StoreError, Tx};
use crate::domain::money::Centavos;
use crate::domain::payment::{Method, OrderStatus, Provider};
use crate::domain::reconciliation::{
    FetchedItem, FetchedPayout, ItemKind, MatchedOrder, PayoutReport, StoredItem, StoredPayout, StripeReceipt,
};

/// Who heals what, from the reconciliation: audited
/// (`reconciliation.healed`) in the provider event's own transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealNote {
    /// `staff:<username>`.
    pub actor: String,
    pub payout_id: String,
    pub item_id: String,
}

/// A Stripe fee of the accounting export's range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StripeFee {
    pub payout_id: String,
    pub item_id: String,
    pub created: DateTime<Utc>,
    /// What Stripe kept (positive).
    pub amount: Centavos,
    /// The item's type and description.
    pub detail: String,
}

static PAYOUT_STATE: Stmt = Stmt::new(
    "SELECT amount_centavos, status, {date_text:arrival_date} AS arrival_date, description \
     FROM stripe_payouts WHERE id = $1",
);
static UPSERT_PAYOUT: Stmt = Stmt::new(
    "INSERT INTO stripe_payouts (id, amount_centavos, currency, status, created_at, arrival_date, description, \
                                 fetched_at, fetched_by) \
     VALUES ($1, $2, $3, $4, {ts:$5}, {date:$6}, $7, {ts:$8}, $9) \
     ON CONFLICT (id) DO UPDATE SET amount_centavos = excluded.amount_centavos, status = excluded.status, \
            arrival_date = excluded.arrival_date, description = excluded.description",
);
static ITEMS_STATE: Stmt = Stmt::new("SELECT id, order_id FROM stripe_payout_items WHERE payout_id = $1");
static ORDER_BY_TOKEN: Stmt = Stmt::new("SELECT id FROM payment_orders WHERE token = $1");
static ORDER_BY_INTENT: Stmt = Stmt::new(
    "SELECT order_id FROM payment_attempts WHERE provider = $1 AND payment_intent = $2 ORDER BY id DESC LIMIT 1",
);
static ORDER_BY_ITEM: Stmt = Stmt::new(
    "SELECT order_id FROM stripe_payout_items \
     WHERE order_id IS NOT NULL AND (payment_intent = $1 OR source_id = $2) ORDER BY created_at LIMIT 1",
);
static UPSERT_ITEM: Stmt = Stmt::new(
    "INSERT INTO stripe_payout_items (id, payout_id, kind, category, amount_centavos, fee_centavos, net_centavos, \
                                      currency, created_at, source_id, payment_intent, order_token, order_id, \
                                      description) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, {ts:$9}, $10, $11, $12, $13, $14) \
     ON CONFLICT (id) DO UPDATE SET order_id = COALESCE(stripe_payout_items.order_id, excluded.order_id)",
);

macro_rules! payout_select {
    () => {
        "SELECT id, amount_centavos, currency, status, {ts_text:created_at} AS created_at, \
                {date_text:arrival_date} AS arrival_date, description, {ts_text:fetched_at} AS fetched_at, fetched_by \
         FROM stripe_payouts"
    };
}
macro_rules! item_select {
    () => {
        "SELECT i.id, i.payout_id, i.kind, i.category, i.amount_centavos, i.fee_centavos, i.net_centavos, i.currency, \
                {ts_text:i.created_at} AS created_at, i.source_id, i.payment_intent, i.order_token, i.order_id, \
                i.description, o.reference AS order_reference, o.token AS order_token_now, o.status AS order_status, \
                o.total_centavos AS order_total, \
                (SELECT COUNT(*) FROM overpayments v WHERE v.order_id = i.order_id) AS overpayments \
         FROM stripe_payout_items i LEFT JOIN payment_orders o ON o.id = i.order_id"
    };
}
static PAYOUTS: Stmt = Stmt::new(concat!(payout_select!(), " ORDER BY created_at DESC, id LIMIT $1"));
static PAYOUT: Stmt = Stmt::new(concat!(payout_select!(), " WHERE id = $1"));
static ITEMS_OF_PAYOUTS: Stmt =
    Stmt::new(concat!(item_select!(), " WHERE i.payout_id IN {texts:$1} ORDER BY i.payout_id, i.created_at, i.id"));
static ITEM: Stmt = Stmt::new(concat!(item_select!(), " WHERE i.payout_id = $1 AND i.id = $2"));
static RECEIPTS_WITHOUT_PAYOUT: Stmt = Stmt::new(
    "SELECT r.folio, r.order_id, o.reference, r.method, {date_text:r.issued_on} AS issued_on, r.total_centavos, \
            a.payment_intent \
     FROM receipts r JOIN payment_orders o ON o.id = r.order_id \
     LEFT JOIN payment_attempts a ON a.id = r.attempt_id \
     WHERE r.provider = $1 AND r.status = 'valid' AND r.series <> $2 AND r.issued_on <= {date:$3} \
       AND NOT EXISTS (SELECT 1 FROM stripe_payout_items i \
                       WHERE i.order_id = r.order_id AND i.kind IN ('charge', 'payment')) \
       AND NOT EXISTS (SELECT 1 FROM stripe_payout_items i \
                       WHERE a.payment_intent IS NOT NULL AND i.payment_intent = a.payment_intent) \
     ORDER BY r.issued_on, r.folio",
);
static FEES_IN_RANGE: Stmt = Stmt::new(
    "SELECT id, payout_id, kind, category, amount_centavos, fee_centavos, {ts_text:created_at} AS created_at, \
            description \
     FROM stripe_payout_items \
     WHERE created_at >= {ts:$1} AND created_at < {ts:$2} \
       AND (fee_centavos <> 0 OR category = 'fee' \
            OR kind IN ('stripe_fee', 'stripe_fx_fee', 'tax_fee', 'application_fee')) \
     ORDER BY created_at, id",
);

#[derive(sqlx::FromRow)]
struct PayoutStateRow {
    amount_centavos: i64,
    status: String,
    arrival_date: DbDate,
    description: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ItemStateRow {
    id: String,
    order_id: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct PayoutRow {
    id: String,
    amount_centavos: i64,
    currency: String,
    status: String,
    created_at: DbTime,
    arrival_date: DbDate,
    description: Option<String>,
    fetched_at: DbTime,
    fetched_by: String,
}

impl From<PayoutRow> for StoredPayout {
    fn from(r: PayoutRow) -> StoredPayout {
        StoredPayout {
            id: r.id,
            amount: Centavos(r.amount_centavos),
            currency: r.currency,
            status: r.status,
            created: r.created_at.0,
            arrival_date: r.arrival_date.0,
            description: r.description,
            fetched_at: r.fetched_at.0,
            fetched_by: r.fetched_by,
        }
    }
}

#[derive(sqlx::FromRow)]
struct ItemRow {
    id: String,
    payout_id: String,
    kind: String,
    category: String,
    amount_centavos: i64,
    fee_centavos: i64,
    net_centavos: i64,
    currency: String,
    created_at: DbTime,
    source_id: Option<String>,
    payment_intent: Option<String>,
    order_token: Option<String>,
    order_id: Option<i64>,
    description: Option<String>,
    order_reference: Option<String>,
    order_token_now: Option<String>,
    order_status: Option<String>,
    order_total: Option<i64>,
    overpayments: i64,
}

impl TryFrom<ItemRow> for StoredItem {
    type Error = StoreError;
    fn try_from(r: ItemRow) -> Result<StoredItem, StoreError> {
        let order = match (r.order_id, r.order_status) {
            (Some(id), Some(status)) => Some(MatchedOrder {
                id,
                reference: r.order_reference.unwrap_or_default(),
                token: r.order_token_now.unwrap_or_default(),
                status: OrderStatus::parse(&status)
                    .ok_or_else(|| StoreError::Corrupt(format!("order status {status:?}")))?,
                total: Centavos(r.order_total.unwrap_or(0)),
                overpaid: r.overpayments > 0,
            }),
            _ => None,
        };
        Ok(StoredItem {
            id: r.id,
            payout_id: r.payout_id,
            kind: r.kind,
            category: r.category,
            amount: Centavos(r.amount_centavos),
            fee: Centavos(r.fee_centavos),
            net: Centavos(r.net_centavos),
            currency: r.currency,
            created: r.created_at.0,
            source_id: r.source_id,
            payment_intent: r.payment_intent,
            order_token: r.order_token,
            order,
            description: r.description,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ReceiptRow {
    folio: String,
    order_id: i64,
    reference: String,
    method: Option<String>,
    issued_on: DbDate,
    total_centavos: i64,
    payment_intent: Option<String>,
}

#[derive(sqlx::FromRow)]
struct FeeRow {
    id: String,
    payout_id: String,
    kind: String,
    category: String,
    amount_centavos: i64,
    fee_centavos: i64,
    created_at: DbTime,
    description: Option<String>,
}

/// The order an item is about: the token in its metadata, else a Recauda
/// attempt with its PaymentIntent, else an item already matched with the
/// same PaymentIntent or charge (a refund, a dispute).
async fn match_order(tx: &mut Tx, item: &FetchedItem) -> Result<Option<i64>, StoreError> {
    if let Some(token) = item.order_token.as_deref().filter(|t| !t.is_empty()) {
        let found: Option<i64> = sqlx::query_scalar(tx.sql(&ORDER_BY_TOKEN))
            .bind(token)
            .fetch_optional(tx.c())
            .await
            .map_err(query_err("find the order of a payout item by its token"))?;
        if found.is_some() {
            return Ok(found);
        }
    }
    if let Some(pi) = &item.payment_intent {
        let found: Option<i64> = sqlx::query_scalar(tx.sql(&ORDER_BY_INTENT))
            .bind(Provider::Stripe.as_str())
            .bind(pi)
            .fetch_optional(tx.c())
            .await
            .map_err(query_err("find the order of a payout item by its payment"))?;
        if found.is_some() {
            return Ok(found);
        }
    }
    if item.payment_intent.is_some() || item.charge_id.is_some() {
        let found: Option<i64> = sqlx::query_scalar(tx.sql(&ORDER_BY_ITEM))
            .bind(&item.payment_intent)
            .bind(&item.charge_id)
            .fetch_optional(tx.c())
            .await
            .map_err(query_err("find the order of a payout item by another item"))?;
        return Ok(found);
    }
    Ok(None)
}

impl Store {
    /// Stores a payout and all of its items in ONE transaction (a payout is
    /// never half stored), upserted by Stripe's ids, each item matched to
    /// an order ([`match_order`]; charges first, so a refund or a dispute
    /// in the same payout finds its charge's order). An item stored
    /// unmatched is matched when fetched again and its order is now known;
    /// nothing else of a stored item changes. A payout new or changed is
    /// audited (`reconciliation.fetched`); returns whether it was.
    #[tracing::instrument(name = "store.store_payout", skip_all, fields(payout = %payout.id, items = payout.items.len()))]
    pub async fn store_payout(
        &self,
        payout: &FetchedPayout,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let now = timestamp_to_db(now);
        let mut tx = self.write().await?;
        let before: Option<PayoutStateRow> = sqlx::query_as(tx.sql(&PAYOUT_STATE))
            .bind(&payout.id)
            .fetch_optional(tx.c())
            .await
            .map_err(query_err("read a stored payout"))?;
        let mut changed = match &before {
            None => true,
            Some(b) => {
                b.amount_centavos != payout.amount.0
                    || b.status != payout.status
                    || b.arrival_date.0 != payout.arrival_date
                    || b.description != payout.description
            }
        };
        sqlx::query(tx.sql(&UPSERT_PAYOUT))
            .bind(&payout.id)
            .bind(payout.amount.0)
            .bind(&payout.currency)
            .bind(&payout.status)
            .bind(timestamp_to_db(payout.created))
            .bind(date_to_db(payout.arrival_date))
            .bind(&payout.description)
            .bind(&now)
            .bind(actor)
            .execute(tx.c())
            .await
            .map_err(query_err("store a payout"))?;
        let stored: Vec<ItemStateRow> = sqlx::query_as(tx.sql(&ITEMS_STATE))
            .bind(&payout.id)
            .fetch_all(tx.c())
            .await
            .map_err(query_err("read a payout's stored items"))?;
        let stored: std::collections::HashMap<String, Option<i64>> =
            stored.into_iter().map(|r| (r.id, r.order_id)).collect();
        let mut ordered: Vec<&FetchedItem> = payout.items.iter().collect();
        ordered.sort_by_key(|i| ItemKind::of(&i.kind, &i.category) != ItemKind::Charge);
        let (mut new_items, mut matched) = (0, 0);
        for item in ordered {
            let order_id = match stored.get(&item.id) {
                Some(Some(known)) => Some(*known),
                _ => match_order(&mut tx, item).await?,
            };
            match stored.get(&item.id) {
                None => {
                    new_items += 1;
                    changed = true;
                }
                Some(None) if order_id.is_some() => changed = true,
                Some(_) => {}
            }
            matched += usize::from(order_id.is_some());
            sqlx::query(tx.sql(&UPSERT_ITEM))
                .bind(&item.id)
                .bind(&payout.id)
                .bind(&item.kind)
                .bind(&item.category)
                .bind(item.amount.0)
                .bind(item.fee.0)
                .bind(item.net.0)
                .bind(&item.currency)
                .bind(timestamp_to_db(item.created))
                .bind(&item.source_id)
                .bind(&item.payment_intent)
                .bind(&item.order_token)
                .bind(order_id)
                .bind(&item.description)
                .execute(tx.c())
                .await
                .map_err(query_err("store a payout item"))?;
        }
        if !changed {
            // Nothing new: leave no trace (the upserts changed nothing).
            return Ok(false);
        }
        let details = serde_json::json!({
            "payout_id": payout.id, "amount_centavos": payout.amount.0, "status": payout.status,
            "items": payout.items.len(), "new_items": new_items, "matched": matched,
        });
        tx.audit(actor, AuditAction::ReconciliationFetched, details, &now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The latest `limit` stored payouts, each set against Recauda.
    pub async fn payout_reports(&self, limit: i64) -> Result<Vec<PayoutReport>, StoreError> {
        let mut r = self.read().await?;
        let payouts: Vec<PayoutRow> = sqlx::query_as(r.sql(&PAYOUTS))
            .bind(limit)
            .fetch_all(r.c())
            .await
            .map_err(query_err("read the stored payouts"))?;
        let ids: Vec<&str> = payouts.iter().map(|p| p.id.as_str()).collect();
        let rows: Vec<ItemRow> = sqlx::query_as(r.sql(&ITEMS_OF_PAYOUTS))
            .bind(json(&ids))
            .fetch_all(r.c())
            .await
            .map_err(query_err("read the items of the stored payouts"))?;
        let mut items: std::collections::HashMap<String, Vec<StoredItem>> = std::collections::HashMap::new();
        for row in rows {
            let item = StoredItem::try_from(row)?;
            items.entry(item.payout_id.clone()).or_default().push(item);
        }
        Ok(payouts
            .into_iter()
            .map(|p| {
                let of = items.remove(&p.id).unwrap_or_default();
                PayoutReport::build(p.into(), of)
            })
            .collect())
    }

    /// One stored payout set against Recauda.
    pub async fn payout_report(&self, id: &str) -> Result<Option<PayoutReport>, StoreError> {
        let mut r = self.read().await?;
        let payout: Option<PayoutRow> = sqlx::query_as(r.sql(&PAYOUT))
            .bind(id)
            .fetch_optional(r.c())
            .await
            .map_err(query_err("read a stored payout"))?;
        let Some(payout) = payout else { return Ok(None) };
        let rows: Vec<ItemRow> = sqlx::query_as(r.sql(&ITEMS_OF_PAYOUTS))
            .bind(json(&[id]))
            .fetch_all(r.c())
            .await
            .map_err(query_err("read the items of a stored payout"))?;
        let items = rows.into_iter().map(StoredItem::try_from).collect::<Result<Vec<_>, _>>()?;
        Ok(Some(PayoutReport::build(payout.into(), items)))
    }

    /// One item of a stored payout.
    pub async fn payout_item(&self, payout_id: &str, item_id: &str) -> Result<Option<StoredItem>, StoreError> {
        let mut r = self.read().await?;
        let row: Option<ItemRow> = sqlx::query_as(r.sql(&ITEM))
            .bind(payout_id)
            .bind(item_id)
            .fetch_optional(r.c())
            .await
            .map_err(query_err("read a payout item"))?;
        row.map(StoredItem::try_from).transpose()
    }

    /// The valid Stripe receipts issued on or before `until` whose payment
    /// no stored payout carries (by order or by PaymentIntent), oldest first.
    pub async fn stripe_receipts_without_payout(&self, until: NaiveDate) -> Result<Vec<StripeReceipt>, StoreError> {
        let mut r = self.read().await?;
        let rows: Vec<ReceiptRow> = sqlx::query_as(r.sql(&RECEIPTS_WITHOUT_PAYOUT))
            .bind(Provider::Stripe.as_str())
            .bind(crate::domain::folio::DEMO_SERIES)
            .bind(date_to_db(until))
            .fetch_all(r.c())
            .await
            .map_err(query_err("read the Stripe receipts in no payout"))?;
        Ok(rows
            .into_iter()
            .map(|row| StripeReceipt {
                folio: row.folio,
                order_id: row.order_id,
                order_reference: row.reference,
                method: row.method.as_deref().and_then(Method::parse),
                paid_on: row.issued_on.0,
                total: Centavos(row.total_centavos),
                payment_intent: row.payment_intent,
            })
            .collect())
    }

    /// Stripe's fees in the stored payouts' items created from `from`
    /// (inclusive) to `to` (exclusive): an item's fee, and a fee item's
    /// amount (as what Stripe kept).
    pub async fn stripe_fees(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<StripeFee>, StoreError> {
        let mut r = self.read().await?;
        let rows: Vec<FeeRow> = sqlx::query_as(r.sql(&FEES_IN_RANGE))
            .bind(timestamp_to_db(from))
            .bind(timestamp_to_db(to))
            .fetch_all(r.c())
            .await
            .map_err(query_err("read Stripe's fees of a range"))?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let own =
                    if ItemKind::of(&row.kind, &row.category) == ItemKind::Fee { -row.amount_centavos } else { 0 };
                let detail = match &row.description {
                    Some(d) => format!("{}: {d}", row.kind),
                    None => row.kind.clone(),
                };
                StripeFee {
                    payout_id: row.payout_id,
                    item_id: row.id,
                    created: row.created_at.0,
                    amount: Centavos(row.fee_centavos + own),
                    detail,
                }
            })
            .filter(|f| f.amount.0 != 0)
            .collect())
    }
}
