//! Stripe's payouts and their balance transactions, for the treasury's
//! reconciliation ([`crate::reconciliation`]): `GET /v1/payouts` (created
//! since a day, paginated with `starting_after` while `has_more`) and, per
//! payout, `GET /v1/balance_transactions?payout=po_…&expand[]=data.source`
//! (paginated the same way), through async-stripe's generated requests and
//! the same client as every other call ([`StripeConfig::client`]).

use chrono::{DateTime, NaiveDate, Utc};
use stripe_core::balance_transaction::ListBalanceTransaction;
use stripe_core::payout::ListPayout;
use stripe_shared::{BalanceTransaction, BalanceTransactionSource, Payout};
use stripe_types::{Expandable, RangeBoundsTs, RangeQueryTs};

use crate::domain::money::Centavos;
use crate::domain::reconciliation::{FetchedItem, FetchedPayout};
use crate::stripe::{failed, unavailable, StripeConfig, StripeError};

/// Objects per page (Stripe's maximum).
pub const PAGE_SIZE: i64 = 100;
/// At most this many pages of one list are read (10 000 objects): a list
/// that never ends is Stripe misbehaving, not a treasury's month.
pub const MAX_PAGES: usize = 100;

/// The metadata key the Checkout Session and its PaymentIntent carry (see
/// [`crate::stripe::create_session`]).
pub const ORDER_TOKEN_KEY: &str = "order_token";

fn instant(t: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(t, 0).unwrap_or_default()
}

fn currency(c: &stripe_types::Currency) -> String {
    c.to_string().to_ascii_lowercase()
}

/// A payout's head, its items still to be read.
fn payout_head(p: &Payout) -> FetchedPayout {
    FetchedPayout {
        id: p.id.to_string(),
        amount: Centavos(p.amount),
        currency: currency(&p.currency),
        status: p.status.clone(),
        created: instant(p.created),
        arrival_date: instant(p.arrival_date).date_naive(),
        description: p.description.clone(),
        items: Vec::new(),
    }
}

/// The payouts created at or after `since`, newest first, without their items.
#[tracing::instrument(name = "stripe.list_payouts", skip(config))]
pub async fn list_payouts(config: &StripeConfig, since: DateTime<Utc>) -> Result<Vec<FetchedPayout>, StripeError> {
    let client = config.client().map_err(|e| unavailable("building the client", e))?;
    let created = RangeQueryTs::Bounds(RangeBoundsTs { gte: Some(since.timestamp()), ..RangeBoundsTs::default() });
    let mut payouts = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut request = ListPayout::new().created(created).limit(PAGE_SIZE);
        if let Some(last) = &after {
            request = request.starting_after(last.clone());
        }
        let page = request.send(&client).await.map_err(|e| failed("listing payouts", e))?;
        payouts.extend(page.data.iter().map(payout_head));
        match (page.has_more, page.data.last()) {
            (true, Some(last)) => after = Some(last.id.to_string()),
            _ => return Ok(payouts),
        }
    }
    Err(unavailable("listing payouts", format!("more than {MAX_PAGES} pages")))
}

/// Every balance transaction of payout `payout_id` (the payout's own
/// transaction left out), with its source read: a charge's PaymentIntent and
/// order token, a refund's or a dispute's PaymentIntent and charge. Either
/// all of them or an error.
#[tracing::instrument(name = "stripe.payout_items", skip(config))]
pub async fn payout_items(config: &StripeConfig, payout_id: &str) -> Result<Vec<FetchedItem>, StripeError> {
    let client = config.client().map_err(|e| unavailable("building the client", e))?;
    let mut items = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut request = ListBalanceTransaction::new()
            .payout(payout_id.to_string())
            .expand(vec!["data.source".to_string()])
            .limit(PAGE_SIZE);
        if let Some(last) = &after {
            request = request.starting_after(last.clone());
        }
        let page = request.send(&client).await.map_err(|e| failed("listing a payout's transactions", e))?;
        items.extend(page.data.iter().filter(|t| t.type_.as_str() != "payout").map(item_of));
        match (page.has_more, page.data.last()) {
            (true, Some(last)) => after = Some(last.id.to_string()),
            _ => return Ok(items),
        }
    }
    Err(unavailable("listing a payout's transactions", format!("more than {MAX_PAGES} pages")))
}

/// What the reconciliation keeps of a balance transaction.
pub fn item_of(t: &BalanceTransaction) -> FetchedItem {
    let mut item = FetchedItem {
        id: t.id.to_string(),
        kind: t.type_.as_str().to_string(),
        category: t.reporting_category.clone(),
        amount: Centavos(t.amount),
        fee: Centavos(t.fee),
        net: Centavos(t.net),
        currency: currency(&t.currency),
        created: instant(t.created),
        source_id: None,
        payment_intent: None,
        charge_id: None,
        order_token: None,
        description: t.description.clone(),
    };
    let Some(source) = &t.source else { return item };
    item.source_id = Some(source.id().to_string());
    let token = |m: Option<&std::collections::HashMap<String, String>>| {
        m.and_then(|m| m.get(ORDER_TOKEN_KEY)).map(|t| t.chars().take(64).collect::<String>())
    };
    let intent = |pi: &Option<Expandable<stripe_shared::PaymentIntent>>| pi.as_ref().map(|p| p.id().to_string());
    if let Expandable::Object(object) = source {
        match object.as_ref() {
            BalanceTransactionSource::Charge(c) => {
                item.payment_intent = intent(&c.payment_intent);
                item.charge_id = Some(c.id.to_string());
                item.order_token = token(Some(&c.metadata));
                if item.description.is_none() {
                    item.description = c.description.clone();
                }
            }
            BalanceTransactionSource::Refund(r) => {
                item.payment_intent = intent(&r.payment_intent);
                item.charge_id = r.charge.as_ref().map(|c| c.id().to_string());
                item.order_token = token(r.metadata.as_ref());
            }
            BalanceTransactionSource::Dispute(d) => {
                item.payment_intent = intent(&d.payment_intent);
                item.charge_id = Some(d.charge.id().to_string());
                item.order_token = token(Some(&d.metadata));
            }
            _ => {}
        }
    }
    item
}

/// The first instant of `day` in the municipality's time zone (what "since
/// this day" means to the treasury).
pub fn start_of_day(day: NaiveDate, tz: chrono_tz::Tz) -> DateTime<Utc> {
    use chrono::TimeZone;
    (0..3)
        .filter_map(|h| chrono::NaiveTime::from_hms_opt(h, 0, 0))
        .find_map(|t| tz.from_local_datetime(&day.and_time(t)).earliest())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| day.and_time(chrono::NaiveTime::MIN).and_utc())
}
