//! Payment orders: creating one (the frozen quote, its charges held),
//! reading it, moving it through the state machine, expiring it.

use std::ops::DerefMut;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::AnyConnection;

use super::dialect::{json, Stmt};
use super::records::{
    date_to_db, timestamp_to_db, NewOrder, Order, OrderItem, OrderItemRow, OrderRow, OrderTransition, TransitionRow,
    CREATED_EVENT,
};
use super::{is_unique_violation, query_err, Conn, IdTable, Store, StoreError, Tx};
use crate::domain::money::Centavos;
use crate::domain::order_token::OrderToken;
use crate::domain::payment::{transition, OrderStatus, PaymentEvent, PaymentEventKind, Transition, TransitionError};
use crate::domain::reference::OrderReference;
use crate::receipt_keys::ReceiptKeys;
use crate::tokens::{random_bytes, random_digits};

static HELD_CHARGES: Stmt =
    Stmt::new("SELECT charge_id FROM live_order_charges WHERE charge_id IN {ids:$1} ORDER BY charge_id");
static INSERT_ORDER: Stmt = Stmt::new(
    "INSERT INTO payment_orders (id, token, reference, status, subtotal_centavos, rounding_centavos, \
     total_centavos, currency, expires_at, created_at, updated_at, requoted_from) {override} \
     VALUES ($1, $10, $2, $3, $4, $5, $6, 'MXN', {ts:$7}, {ts:$8}, {ts:$8}, $9)",
);
static INSERT_ITEMS: Stmt = Stmt::new(
    "INSERT INTO payment_order_items (order_id, charge_id, account, concept, period, due_date, \
     principal_centavos, recargos_centavos, discount_centavos, total_centavos) \
     SELECT $1, CAST(value ->> 0 AS BIGINT), value ->> 1, value ->> 2, value ->> 3, {date:value ->> 4}, \
            CAST(value ->> 5 AS BIGINT), CAST(value ->> 6 AS BIGINT), CAST(value ->> 7 AS BIGINT), \
            CAST(value ->> 8 AS BIGINT) \
     FROM {rows:$2} ORDER BY key",
);
static HOLD_CHARGES: Stmt = Stmt::new(
    "INSERT INTO live_order_charges (charge_id, order_id) SELECT CAST(value AS BIGINT), $2 FROM {rows:$1} ORDER BY key",
);
static LOCK_QUOTED_CHARGES: Stmt = Stmt::new(
    "SELECT id, principal_centavos, {date_text:due_date} AS due_date FROM charges \
     WHERE id IN {ids:$1} AND status = 'open' ORDER BY id {for_no_key_update}",
);
static INSERT_TRANSITION: Stmt = Stmt::new(
    "INSERT INTO payment_transitions (order_id, from_status, to_status, event, at) VALUES ($1, $2, $3, $4, {ts:$5})",
);
static ORDER_BY_ID: Stmt = Stmt::new(
    "SELECT id, token, reference, status, subtotal_centavos, rounding_centavos, total_centavos, currency, method_hint, \
            {ts_text:expires_at} AS expires_at, {ts_text:created_at} AS created_at, \
            {ts_text:updated_at} AS updated_at, requoted_from, \
            (SELECT p.token FROM payment_orders p WHERE p.id = o.requoted_from) AS requoted_from_token \
     FROM payment_orders o WHERE id = $1",
);
static ORDER_ITEMS: Stmt = Stmt::new(
    "SELECT charge_id, account, concept, period, {date_text:due_date} AS due_date, principal_centavos, \
            recargos_centavos, discount_centavos, total_centavos \
     FROM payment_order_items WHERE order_id = $1 ORDER BY id",
);
static ORDER_TRANSITIONS: Stmt = Stmt::new(
    "SELECT from_status, to_status, event, {ts_text:at} AS at FROM payment_transitions WHERE order_id = $1 ORDER BY id",
);
static ORDER_ID_BY_TOKEN: Stmt = Stmt::new("SELECT id FROM payment_orders WHERE token = $1");
static ORDER_ID_BY_REFERENCE: Stmt = Stmt::new("SELECT id FROM payment_orders WHERE reference = $1");
static REFERENCE_TAKEN: Stmt = Stmt::new("SELECT count(*) FROM payment_orders WHERE reference = $1");
static LOCK_ORDER: Stmt = Stmt::new("SELECT status, total_centavos FROM payment_orders WHERE id = $1 {for_update}");
static SET_ORDER_STATUS: Stmt = Stmt::new("UPDATE payment_orders SET status = $2, updated_at = {ts:$3} WHERE id = $1");
static MARK_CHARGES_PAID: Stmt = Stmt::new(
    "UPDATE charges SET status = 'paid', updated_at = {ts:$2} WHERE status = 'open' \
     AND id IN (SELECT charge_id FROM payment_order_items WHERE order_id = $1)",
);
static ORDER_ITEM_COUNT: Stmt = Stmt::new("SELECT count(*) FROM payment_order_items WHERE order_id = $1");
static LOCK_OPEN_CHARGES: Stmt = Stmt::new(
    "SELECT id FROM charges WHERE status = 'open' \
     AND id IN (SELECT charge_id FROM payment_order_items WHERE order_id = $1) ORDER BY id {for_no_key_update}",
);
static RELEASE_CHARGES: Stmt = Stmt::new("DELETE FROM live_order_charges WHERE order_id = $1");
static EXTEND_EXPIRY: Stmt = Stmt::new(
    "UPDATE payment_orders SET expires_at = {ts:$2}, updated_at = {ts:$3} \
     WHERE id = $1 AND status = 'pending' AND expires_at < {ts:$2}",
);

/// The live orders the clock expires at `$1`: past their expiry, and
/// without a pending Stripe attempt (Stripe may still take their money: a
/// card at the last second, OXXO cash reported the next day; its word
/// decides, through its webhooks or the healing sweep asking).
macro_rules! due_orders_where {
    () => {
        " WHERE o.status IN ('created', 'pending') AND o.expires_at <= {ts:$1} AND NOT EXISTS \
          (SELECT 1 FROM payment_attempts a WHERE a.order_id = o.id AND a.status = 'pending' \
           AND a.provider = 'stripe')"
    };
}
static ANY_DUE: Stmt = Stmt::new(concat!("SELECT o.id FROM payment_orders o", due_orders_where!(), " LIMIT 1"));
static LOCK_DUE: Stmt =
    Stmt::new(concat!("SELECT o.id FROM payment_orders o", due_orders_where!(), " ORDER BY o.id {skip_locked}"));
static EXPIRE_TRANSITIONS: Stmt = Stmt::new(
    "INSERT INTO payment_transitions (order_id, from_status, to_status, event, at) \
     SELECT id, status, $2, $3, {ts:$4} FROM payment_orders WHERE id IN {ids:$1} ORDER BY id",
);
static EXPIRE_RELEASE: Stmt = Stmt::new("DELETE FROM live_order_charges WHERE order_id IN {ids:$1}");
static EXPIRE_ORDERS: Stmt =
    Stmt::new("UPDATE payment_orders SET status = $2, updated_at = {ts:$3} WHERE id IN {ids:$1}");

/// One order item as a JSON array (`{rows:…}`): charge id, account,
/// concept, period, due date, principal, recargos, discount, total.
type ItemJson<'a> = (i64, &'a str, &'a str, &'a str, String, i64, i64, i64, i64);

/// An order's row, locked for the rest of the transaction (PostgreSQL;
/// SQLite's write transaction already runs alone).
#[derive(Clone, Copy, Debug, sqlx::FromRow)]
pub(crate) struct LockedOrder {
    #[sqlx(try_from = "String")]
    pub status: OrderStatus,
    #[sqlx(rename = "total_centavos", try_from = "i64")]
    pub total: Centavos,
}

/// The orders' one-statement primitives.
impl<C: DerefMut<Target = AnyConnection> + Send> Conn<C> {
    /// Which of `charge_ids` live orders hold, sorted.
    pub(crate) async fn held_charges(&mut self, charge_ids: &[i64]) -> Result<Vec<i64>, StoreError> {
        sqlx::query_scalar(self.sql(&HELD_CHARGES))
            .bind(json(charge_ids))
            .fetch_all(self.c())
            .await
            .map_err(query_err("read the charges held by live orders"))
    }

    pub(crate) async fn lock_order(&mut self, id: i64) -> Result<Option<LockedOrder>, StoreError> {
        sqlx::query_as(self.sql(&LOCK_ORDER))
            .bind(id)
            .fetch_optional(self.c())
            .await
            .map_err(query_err("lock a payment order"))
    }

    pub(crate) async fn insert_transition(
        &mut self,
        order_id: i64,
        from: Option<OrderStatus>,
        to: OrderStatus,
        event: &str,
        now: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(self.sql(&INSERT_TRANSITION))
            .bind(order_id)
            .bind(from.map(OrderStatus::as_str))
            .bind(to.as_str())
            .bind(event)
            .bind(now)
            .execute(self.c())
            .await
            .map_err(query_err("record a payment transition"))?;
        Ok(())
    }

    async fn set_order_status(&mut self, order_id: i64, to: OrderStatus, now: &str) -> Result<(), StoreError> {
        sqlx::query(self.sql(&SET_ORDER_STATUS))
            .bind(order_id)
            .bind(to.as_str())
            .bind(now)
            .execute(self.c())
            .await
            .map_err(query_err("update the status of a payment order"))?;
        Ok(())
    }

    /// Whether every charge of the order is still open, locking them for the
    /// rest of the transaction (PostgreSQL; SQLite's write transaction
    /// already runs alone): what money for the order may be applied to.
    pub(crate) async fn charges_all_open(&mut self, order_id: i64) -> Result<bool, StoreError> {
        let items: i64 = sqlx::query_scalar(self.sql(&ORDER_ITEM_COUNT))
            .bind(order_id)
            .fetch_one(self.c())
            .await
            .map_err(query_err("count the items of a payment order"))?;
        let open: Vec<i64> = sqlx::query_scalar(self.sql(&LOCK_OPEN_CHARGES))
            .bind(order_id)
            .fetch_all(self.c())
            .await
            .map_err(query_err("lock the open charges of a payment order"))?;
        Ok(open.len() as i64 == items)
    }

    /// Marks the order's charges paid; how many were still open.
    async fn mark_charges_paid(&mut self, order_id: i64, now: &str) -> Result<u64, StoreError> {
        Ok(sqlx::query(self.sql(&MARK_CHARGES_PAID))
            .bind(order_id)
            .bind(now)
            .execute(self.c())
            .await
            .map_err(query_err("mark the charges of a payment order paid"))?
            .rows_affected())
    }

    async fn release_charges(&mut self, order_id: i64) -> Result<(), StoreError> {
        sqlx::query(self.sql(&RELEASE_CHARGES))
            .bind(order_id)
            .execute(self.c())
            .await
            .map_err(query_err("release the charges of a payment order"))?;
        Ok(())
    }

    /// A pending order lives until `deadline` (its voucher's) when that is later.
    pub(crate) async fn extend_expiry(&mut self, order_id: i64, deadline: &str, now: &str) -> Result<(), StoreError> {
        sqlx::query(self.sql(&EXTEND_EXPIRY))
            .bind(order_id)
            .bind(deadline)
            .bind(now)
            .execute(self.c())
            .await
            .map_err(query_err("extend a payment order to its voucher's deadline"))?;
        Ok(())
    }
}

/// Persists a transition the domain decided for order `order_id`: on a
/// move, the new status and its transition row; the charges marked paid
/// on `succeeded`, released when the order leaves the live statuses.
/// `AlreadyThere` writes nothing.
pub(crate) async fn persist_transition(
    tx: &mut Tx,
    order_id: i64,
    t: Transition,
    event: PaymentEventKind,
    now: &str,
) -> Result<(), StoreError> {
    if let Transition::Moved { from, to } = t {
        tx.set_order_status(order_id, to, now).await?;
        tx.insert_transition(order_id, Some(from), to, event.as_str(), now).await?;
        if to == OrderStatus::Succeeded {
            // Every charge, exactly once: the callers checked
            // (`charges_all_open`) under the same lock, so a shortfall is a
            // broken invariant and the whole transaction is undone.
            let paid = tx.mark_charges_paid(order_id, now).await?;
            let items: i64 = sqlx::query_scalar(tx.sql(&ORDER_ITEM_COUNT))
                .bind(order_id)
                .fetch_one(tx.c())
                .await
                .map_err(query_err("count the items of a payment order"))?;
            if paid != items as u64 {
                return Err(StoreError::Corrupt(format!(
                    "payment order {order_id}: {paid} of its {items} charges were open when it was paid"
                )));
            }
        }
        if !to.is_live() {
            tx.release_charges(order_id).await?;
        }
    }
    Ok(())
}

/// Locks order `order_id`, asks the state machine about `event` and
/// persists the outcome. The inner `Err` is the refused transition
/// (nothing written).
pub(crate) async fn move_order(
    tx: &mut Tx,
    order_id: i64,
    event: &PaymentEvent,
    now: &str,
) -> Result<(LockedOrder, Result<Transition, TransitionError>), StoreError> {
    let order = tx.lock_order(order_id).await?.ok_or(StoreError::OrderNotFound(order_id))?;
    let outcome = transition(order.status, event);
    if let Ok(t) = outcome {
        persist_transition(tx, order_id, t, event.kind(), now).await?;
    }
    Ok((order, outcome))
}

/// A reference for the new order `id` with a random serial that no order
/// has (drawn again on the rare collision: 10 digits, so one in ten
/// thousand million per order already made). Inside the order's write
/// transaction; on PostgreSQL two concurrent orders drawing the same serial
/// are still kept apart by the column's unique key.
async fn new_reference<C: DerefMut<Target = AnyConnection> + Send>(
    tx: &mut Conn<C>,
    order: &NewOrder,
    id: i64,
) -> Result<String, StoreError> {
    let reference_err = |source| StoreError::Reference { order_id: id, source };
    loop {
        let serial: u64 = random_digits(10).parse().expect("ten decimal digits");
        let reference = OrderReference::try_new(order.reference_prefix, serial, order.issued_on)
            .map(|r| r.as_str().to_string())
            .map_err(reference_err)?;
        let taken: i64 = sqlx::query_scalar(tx.sql(&REFERENCE_TAKEN))
            .bind(&reference)
            .fetch_one(tx.c())
            .await
            .map_err(query_err("check that a reference is new"))?;
        if taken == 0 {
            return Ok(reference);
        }
    }
}

impl Store {
    /// Creates a payment order in ONE transaction: the order (status
    /// `created`, a random token and a reference with a random serial), its items, its first
    /// transition, and a `live_order_charges` row per charge. Fails, with
    /// nothing written, when any charge already sits in a live order
    /// ([`StoreError::ChargesInLiveOrder`], also for one created
    /// concurrently) or is no longer open ([`StoreError::ChargesNotOpen`]:
    /// paid by an order that succeeded since the quote was read).
    #[tracing::instrument(name = "store.create_order", skip_all, fields(items = order.items.len()))]
    pub async fn create_order(&self, order: &NewOrder, now: DateTime<Utc>) -> Result<Order, StoreError> {
        let charge_ids: Vec<i64> = order.items.iter().map(|i| i.charge_id).collect();
        let now = timestamp_to_db(now);
        let mut tx = self.write().await?;
        let held = tx.held_charges(&charge_ids).await?;
        if !held.is_empty() {
            return Err(StoreError::ChargesInLiveOrder(held));
        }
        let id = tx.allocate_ids(IdTable::PaymentOrders, 1).await?[0];
        let reference = new_reference(&mut tx, order, id).await?;
        let token = OrderToken::from_bytes(random_bytes());
        sqlx::query(tx.sql(&INSERT_ORDER))
            .bind(id)
            .bind(&reference)
            .bind(OrderStatus::Created.as_str())
            .bind(order.subtotal.0)
            .bind(order.rounding.0)
            .bind(order.total.0)
            .bind(timestamp_to_db(order.expires_at))
            .bind(&now)
            .bind(order.requoted_from)
            .bind(token.as_str())
            .execute(tx.c())
            .await
            .map_err(query_err("insert a payment order"))?;
        let items: Vec<ItemJson<'_>> = order
            .items
            .iter()
            .map(|i| {
                let OrderItem { charge_id, account, concept, period, due_date, principal, recargos, discount, total } =
                    i;
                (
                    *charge_id,
                    account.as_str(),
                    concept.as_str(),
                    period.as_str(),
                    date_to_db(*due_date),
                    principal.0,
                    recargos.0,
                    discount.0,
                    total.0,
                )
            })
            .collect();
        sqlx::query(tx.sql(&INSERT_ITEMS))
            .bind(id)
            .bind(json(&items))
            .execute(tx.c())
            .await
            .map_err(query_err("insert the items of a payment order"))?;
        tx.insert_transition(id, None, OrderStatus::Created, CREATED_EVENT, &now).await?;
        // The database's own guard: a charge already held violates the key
        // (on PostgreSQL a concurrent order waits for the other transaction,
        // then fails).
        let hold = sqlx::query(tx.sql(&HOLD_CHARGES)).bind(json(&charge_ids)).bind(id).execute(tx.c()).await;
        match hold {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                // Lost the race to a concurrent order: say which charges it holds.
                drop(tx);
                let held = self.read().await?.held_charges(&charge_ids).await?;
                return Err(StoreError::ChargesInLiveOrder(if held.is_empty() { charge_ids } else { held }));
            }
            Err(e) => return Err(query_err("hold the charges of a payment order")(e)),
        }
        // Held now, so no order can pay them any more: are they all still
        // open, and as quoted (a padrón import may have changed one since
        // the quote was read; it locks the same rows)?
        let current: Vec<(i64, i64, String)> = sqlx::query_as(tx.sql(&LOCK_QUOTED_CHARGES))
            .bind(json(&charge_ids))
            .fetch_all(tx.c())
            .await
            .map_err(query_err("check that the charges are still open"))?;
        if current.len() != charge_ids.len() {
            return Err(StoreError::ChargesNotOpen);
        }
        let as_quoted = order.items.iter().all(|i| {
            current.iter().any(|(id, principal, due)| {
                *id == i.charge_id && *principal == i.principal.0 && *due == date_to_db(i.due_date)
            })
        });
        if !as_quoted {
            return Err(StoreError::ChargesChanged);
        }
        tx.commit().await?;
        self.get_order(id).await?.ok_or_else(|| StoreError::Corrupt(format!("payment order {id} vanished")))
    }

    /// The order with its items and transitions (oldest first).
    #[tracing::instrument(name = "store.get_order", skip(self))]
    pub async fn get_order(&self, id: i64) -> Result<Option<Order>, StoreError> {
        let mut r = self.read().await?;
        let Some(row) = sqlx::query_as::<_, OrderRow>(r.sql(&ORDER_BY_ID))
            .bind(id)
            .fetch_optional(r.c())
            .await
            .map_err(query_err("read a payment order"))?
        else {
            return Ok(None);
        };
        let items: Vec<OrderItemRow> = sqlx::query_as(r.sql(&ORDER_ITEMS))
            .bind(id)
            .fetch_all(r.c())
            .await
            .map_err(query_err("read the items of a payment order"))?;
        let transitions: Vec<TransitionRow> = sqlx::query_as(r.sql(&ORDER_TRANSITIONS))
            .bind(id)
            .fetch_all(r.c())
            .await
            .map_err(query_err("read the transitions of a payment order"))?;
        let transitions = transitions.into_iter().map(OrderTransition::try_from).collect::<Result<_, _>>()?;
        Ok(Some(row.into_order(items.into_iter().map(OrderItem::from).collect(), transitions)))
    }

    /// The id of the order with this token (its only public address).
    #[tracing::instrument(name = "store.order_id_by_token", skip_all)]
    pub async fn order_id_by_token(&self, token: &OrderToken) -> Result<Option<i64>, StoreError> {
        let mut r = self.read().await?;
        sqlx::query_scalar(r.sql(&ORDER_ID_BY_TOKEN))
            .bind(token.as_str())
            .fetch_optional(r.c())
            .await
            .map_err(query_err("find a payment order by token"))
    }

    /// The id of the order with this payment reference (what the citizen
    /// reads out at the window, printed on the formato de pago; staff only).
    pub async fn order_id_by_reference(&self, reference: &str) -> Result<Option<i64>, StoreError> {
        let mut r = self.read().await?;
        sqlx::query_scalar(r.sql(&ORDER_ID_BY_REFERENCE))
            .bind(reference)
            .fetch_optional(r.c())
            .await
            .map_err(query_err("find a payment order by reference"))
    }

    /// Moves every live order whose expiry is at or before `now` to
    /// `expired`, records the transition and releases its charges — except
    /// an order with a pending Stripe attempt (see `due_orders_where!`).
    /// Returns how many orders expired. A first read takes no lock, so the
    /// common case (nothing due) costs one query.
    #[tracing::instrument(name = "store.expire_due_orders", skip(self))]
    pub async fn expire_due_orders(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let now = timestamp_to_db(now);
        let any: Option<i64> = {
            let mut r = self.read().await?;
            sqlx::query_scalar(r.sql(&ANY_DUE))
                .bind(&now)
                .fetch_optional(r.c())
                .await
                .map_err(query_err("look for expired payment orders"))?
        };
        if any.is_none() {
            return Ok(0);
        }
        let mut tx = self.write().await?;
        let ids: Vec<i64> = sqlx::query_scalar(tx.sql(&LOCK_DUE))
            .bind(&now)
            .fetch_all(tx.c())
            .await
            .map_err(query_err("lock the expired payment orders"))?;
        if ids.is_empty() {
            return Ok(0);
        }
        let ids_json = json(&ids);
        sqlx::query(tx.sql(&EXPIRE_TRANSITIONS))
            .bind(&ids_json)
            .bind(OrderStatus::Expired.as_str())
            .bind(PaymentEventKind::Expired.as_str())
            .bind(&now)
            .execute(tx.c())
            .await
            .map_err(query_err("record the expiry of payment orders"))?;
        sqlx::query(tx.sql(&EXPIRE_RELEASE))
            .bind(&ids_json)
            .execute(tx.c())
            .await
            .map_err(query_err("release the charges of expired payment orders"))?;
        let expired = sqlx::query(tx.sql(&EXPIRE_ORDERS))
            .bind(&ids_json)
            .bind(OrderStatus::Expired.as_str())
            .bind(&now)
            .execute(tx.c())
            .await
            .map_err(query_err("expire payment orders"))?
            .rows_affected();
        tx.commit().await?;
        Ok(expired)
    }

    /// Applies `event` to the order through
    /// [`crate::domain::payment::transition`], in one transaction: the new
    /// status and its transition row; when the order leaves the live
    /// statuses its charges are released, and on `succeeded` they are
    /// marked paid and its receipt is issued and signed (the next folio of
    /// [`crate::domain::folio::ONLINE_SERIES`] in `today`'s fiscal year). An event that
    /// changes nothing (`AlreadyThere`) writes nothing.
    #[tracing::instrument(name = "store.apply_transition", skip(self, event, keys), fields(event = %event.kind()))]
    pub async fn apply_transition(
        &self,
        order_id: i64,
        event: &PaymentEvent,
        now: DateTime<Utc>,
        today: NaiveDate,
        keys: &ReceiptKeys,
    ) -> Result<Transition, StoreError> {
        let now = timestamp_to_db(now);
        let mut tx = self.write().await?;
        let (order, outcome) = move_order(&mut tx, order_id, event, &now).await?;
        let outcome = outcome.map_err(|source| StoreError::Transition { order_id, source })?;
        if let Transition::Moved { to: OrderStatus::Succeeded, .. } = outcome {
            super::receipts::issue_receipt(&mut tx, order_id, order.total, None, &now, today, keys).await?;
        }
        tx.commit().await?;
        Ok(outcome)
    }
}
