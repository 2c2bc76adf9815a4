//! What the accounting export reads: the receipts issued in a range of
//! days (of value: the demonstration's are left out) and the items of
//! their orders. The grouping is [`crate::collections`]'.

use chrono::NaiveDate;

use super::dialect::Stmt;
use super::records::{date_to_db, DbDate};
use super::{query_err, Store, StoreError};
use crate::domain::folio::Folio;
use crate::domain::money::Centavos;
use crate::domain::payment::{Method, Provider};

static RECEIPTS_IN_RANGE: Stmt = Stmt::new(
    "SELECT r.order_id, r.folio, {date_text:r.issued_on} AS issued_on, r.status, r.cancel_reason, \
            r.total_centavos, r.method, r.provider, o.rounding_centavos \
     FROM receipts r JOIN payment_orders o ON o.id = r.order_id \
     WHERE r.issued_on >= {date:$1} AND r.issued_on <= {date:$2} AND r.series <> $3 \
     ORDER BY r.series, r.fiscal_year, r.number",
);
static ITEMS_IN_RANGE: Stmt = Stmt::new(
    "SELECT i.order_id, i.concept, i.principal_centavos, i.recargos_centavos, i.discount_centavos, \
            i.total_centavos \
     FROM payment_order_items i JOIN receipts r ON r.order_id = i.order_id \
     WHERE r.issued_on >= {date:$1} AND r.issued_on <= {date:$2} AND r.series <> $3 AND r.status = 'valid' \
     ORDER BY i.order_id, i.id",
);

/// A receipt of the range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CollectedReceipt {
    pub order_id: i64,
    pub folio: Folio,
    pub issued_on: NaiveDate,
    /// `None` when valid; the reason when cancelled.
    pub cancel_reason: Option<String>,
    pub total: Centavos,
    pub method: Option<Method>,
    pub provider: Option<Provider>,
    /// The order's CFF art. 20 rounding adjustment.
    pub rounding: Centavos,
}

/// An item of a valid receipt's order.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CollectedItem {
    pub order_id: i64,
    pub concept: String,
    #[sqlx(rename = "principal_centavos", try_from = "i64")]
    pub principal: Centavos,
    #[sqlx(rename = "recargos_centavos", try_from = "i64")]
    pub recargos: Centavos,
    #[sqlx(rename = "discount_centavos", try_from = "i64")]
    pub discount: Centavos,
    #[sqlx(rename = "total_centavos", try_from = "i64")]
    pub total: Centavos,
}

#[derive(sqlx::FromRow)]
struct ReceiptRangeRow {
    order_id: i64,
    folio: String,
    issued_on: DbDate,
    status: String,
    cancel_reason: Option<String>,
    total_centavos: i64,
    method: Option<String>,
    provider: Option<String>,
    rounding_centavos: i64,
}

impl Store {
    /// The receipts issued from `from` to `to` (inclusive; the days of
    /// their folios) by series and number, and the items of the valid ones.
    pub async fn collections(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<(Vec<CollectedReceipt>, Vec<CollectedItem>), StoreError> {
        let demo = crate::domain::folio::DEMO_SERIES;
        let mut r = self.read().await?;
        let rows: Vec<ReceiptRangeRow> = sqlx::query_as(r.sql(&RECEIPTS_IN_RANGE))
            .bind(date_to_db(from))
            .bind(date_to_db(to))
            .bind(demo)
            .fetch_all(r.c())
            .await
            .map_err(query_err("read the receipts of a range"))?;
        let items: Vec<CollectedItem> = sqlx::query_as(r.sql(&ITEMS_IN_RANGE))
            .bind(date_to_db(from))
            .bind(date_to_db(to))
            .bind(demo)
            .fetch_all(r.c())
            .await
            .map_err(query_err("read the items of a range's receipts"))?;
        let corrupt = |what: String| StoreError::Corrupt(what);
        let receipts = rows
            .into_iter()
            .map(|row| {
                Ok(CollectedReceipt {
                    order_id: row.order_id,
                    folio: Folio::parse(&row.folio).map_err(|_| corrupt(format!("folio {:?}", row.folio)))?,
                    issued_on: row.issued_on.0,
                    cancel_reason: match row.status.as_str() {
                        "valid" => None,
                        _ => Some(row.cancel_reason.unwrap_or_default()),
                    },
                    total: Centavos(row.total_centavos),
                    method: row
                        .method
                        .as_deref()
                        .map(|m| m.parse())
                        .transpose()
                        .map_err(|e| corrupt(format!("{e}")))?,
                    provider: row
                        .provider
                        .as_deref()
                        .map(|p| p.parse())
                        .transpose()
                        .map_err(|e| corrupt(format!("{e}")))?,
                    rounding: Centavos(row.rounding_centavos),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok((receipts, items))
    }
}
