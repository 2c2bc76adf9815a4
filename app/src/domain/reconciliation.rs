//! Reconciliation with Stripe, the rules (pure): what a payout's balance
//! transactions are ([`ItemKind`]), how each stands against Recauda
//! ([`Verdict`]), a payout's sums and status ([`PayoutReport::build`]: a
//! payout with nothing matched "requiere investigación"), and when a Stripe
//! payment should be in a payout ([`payout_due`], [`overdue`]). The fetch,
//! the store and the pages are [`crate::reconciliation`]'s,
//! `crate::store::reconciliation`'s and `crate::ui::reconciliation_pages`'.

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc, Weekday};

use super::money::Centavos;
use super::payment::{Method, OrderStatus};

/// Business days (Monday to Friday) after a card payment by which Stripe
/// pays it out in Mexico.
pub const CARD_PAYOUT_BUSINESS_DAYS: u64 = 3;
/// Calendar days after an OXXO payment by which Stripe pays it out.
pub const OXXO_PAYOUT_DAYS: u64 = 10;
/// How far back the reconciliation page offers to fetch by default.
pub const DEFAULT_FETCH_DAYS: u64 = 30;

/// A payout as Stripe reports it, with its balance transactions (the
/// payout's own transaction left out).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchedPayout {
    pub id: String,
    pub amount: Centavos,
    pub currency: String,
    pub status: String,
    pub created: DateTime<Utc>,
    pub arrival_date: NaiveDate,
    pub description: Option<String>,
    pub items: Vec<FetchedItem>,
}

/// One balance transaction of a payout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchedItem {
    /// `txn_…`
    pub id: String,
    /// Stripe's `type` (`charge`, `payment`, `refund`, `adjustment`, `stripe_fee`, …).
    pub kind: String,
    /// Stripe's `reporting_category` (`charge`, `refund`, `dispute`, `fee`, …).
    pub category: String,
    pub amount: Centavos,
    pub fee: Centavos,
    pub net: Centavos,
    pub currency: String,
    pub created: DateTime<Utc>,
    /// The object that moved the money (`ch_…`, `re_…`, `du_…`).
    pub source_id: Option<String>,
    pub payment_intent: Option<String>,
    /// The charge a refund or a dispute is about (for matching only).
    pub charge_id: Option<String>,
    /// The order token in the source's metadata, as Stripe gave it.
    pub order_token: Option<String>,
    pub description: Option<String>,
}

/// What an item is, from its type and reporting category.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemKind {
    /// Money taken from a citizen.
    Charge,
    /// Money given back.
    Refund,
    /// A dispute (chargeback) withdrawn, or its reversal.
    Dispute,
    /// Stripe's own fees.
    Fee,
    /// Anything else (an adjustment, a transfer…).
    Other,
}

impl ItemKind {
    pub fn of(kind: &str, category: &str) -> ItemKind {
        match (kind, category) {
            (_, "dispute" | "dispute_reversal") => ItemKind::Dispute,
            ("charge" | "payment", _) => ItemKind::Charge,
            ("refund" | "payment_refund" | "refund_failure" | "payment_failure_refund", _) => ItemKind::Refund,
            (_, "refund" | "refund_failure") => ItemKind::Refund,
            ("stripe_fee" | "stripe_fx_fee" | "tax_fee" | "application_fee", _) => ItemKind::Fee,
            (_, "fee") => ItemKind::Fee,
            _ => ItemKind::Other,
        }
    }

    pub fn label_es(self) -> &'static str {
        match self {
            ItemKind::Charge => "cobro",
            ItemKind::Refund => "reembolso",
            ItemKind::Dispute => "contracargo",
            ItemKind::Fee => "comisión",
            ItemKind::Other => "otro",
        }
    }
}

/// A stored payout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPayout {
    pub id: String,
    pub amount: Centavos,
    pub currency: String,
    pub status: String,
    pub created: DateTime<Utc>,
    pub arrival_date: NaiveDate,
    pub description: Option<String>,
    pub fetched_at: DateTime<Utc>,
    pub fetched_by: String,
}

impl StoredPayout {
    /// Stripe's status in Spanish.
    pub fn status_es(&self) -> &str {
        match self.status.as_str() {
            "paid" => "depositado",
            "in_transit" => "en tránsito",
            "pending" => "pendiente",
            "canceled" => "cancelado",
            "failed" => "fallido",
            other => other,
        }
    }
}

/// The order an item was matched to, as Recauda has it now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchedOrder {
    pub id: i64,
    pub reference: String,
    pub token: String,
    pub status: OrderStatus,
    pub total: Centavos,
    /// Money for this order was recorded as not applicable (to refund).
    pub overpaid: bool,
}

/// A stored item, with its order when it was matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredItem {
    pub id: String,
    pub payout_id: String,
    pub kind: String,
    pub category: String,
    pub amount: Centavos,
    pub fee: Centavos,
    pub net: Centavos,
    pub currency: String,
    pub created: DateTime<Utc>,
    pub source_id: Option<String>,
    pub payment_intent: Option<String>,
    pub order_token: Option<String>,
    pub order: Option<MatchedOrder>,
    pub description: Option<String>,
}

impl StoredItem {
    pub fn item_kind(&self) -> ItemKind {
        ItemKind::of(&self.kind, &self.category)
    }
}

/// How an item stands against Recauda.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The order has it (paid, or refunded or annulled since).
    Matched,
    /// Stripe's fee: nothing to match.
    Fee,
    /// Stripe took the money but the order never became paid: "Aplicar"
    /// heals it through the provider-event path.
    NotApplied,
    /// The charge is not the order's total.
    AmountMismatch { expected: Centavos },
    /// The money was recorded as not applicable to its order (to refund).
    Overpaid,
    /// In Stripe but in no Recauda order.
    Unknown,
}

impl Verdict {
    /// Judges one item.
    pub fn of(item: &StoredItem) -> Verdict {
        let kind = item.item_kind();
        if kind == ItemKind::Fee {
            return Verdict::Fee;
        }
        let Some(order) = &item.order else { return Verdict::Unknown };
        if kind != ItemKind::Charge {
            return Verdict::Matched;
        }
        match order.status {
            OrderStatus::Succeeded | OrderStatus::Refunded | OrderStatus::Annulled => {
                if item.amount == order.total {
                    Verdict::Matched
                } else {
                    Verdict::AmountMismatch { expected: order.total }
                }
            }
            _ if order.overpaid => Verdict::Overpaid,
            _ => Verdict::NotApplied,
        }
    }

    /// A stable code (pages' `data-verdict`, the CSV).
    pub fn code(self) -> &'static str {
        match self {
            Verdict::Matched => "conciliado",
            Verdict::Fee => "comision",
            Verdict::NotApplied => "no_aplicado",
            Verdict::AmountMismatch { .. } => "importe_distinto",
            Verdict::Overpaid => "por_reembolsar",
            Verdict::Unknown => "no_en_recauda",
        }
    }

    pub fn label_es(self) -> String {
        match self {
            Verdict::Matched => "Conciliado".into(),
            Verdict::Fee => "Comisión de Stripe".into(),
            Verdict::NotApplied => "Cobrado en Stripe, no aplicado en Recauda".into(),
            Verdict::AmountMismatch { expected } => {
                format!("Importe distinto al de la orden ({})", expected.display_mxn())
            }
            Verdict::Overpaid => "Registrado como pago no aplicable (por reembolsar)".into(),
            Verdict::Unknown => "En Stripe pero no en Recauda".into(),
        }
    }

    /// Whether the item needs the treasury's attention.
    pub fn is_difference(self) -> bool {
        !matches!(self, Verdict::Matched | Verdict::Fee)
    }
}

/// Where a payout stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayoutStatus {
    /// Every item matched and the items add up to the deposit.
    Reconciled,
    /// Something matched, something did not.
    WithDifferences,
    /// Nothing in it matched a Recauda order.
    NeedsInvestigation,
}

impl PayoutStatus {
    pub fn code(self) -> &'static str {
        match self {
            PayoutStatus::Reconciled => "conciliado",
            PayoutStatus::WithDifferences => "con_diferencias",
            PayoutStatus::NeedsInvestigation => "requiere_investigacion",
        }
    }

    pub fn label_es(self) -> &'static str {
        match self {
            PayoutStatus::Reconciled => "conciliado",
            PayoutStatus::WithDifferences => "con diferencias",
            PayoutStatus::NeedsInvestigation => "requiere investigación",
        }
    }
}

/// One item of a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportLine {
    pub item: StoredItem,
    pub kind: ItemKind,
    pub verdict: Verdict,
}

/// A payout set against Recauda.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayoutReport {
    pub payout: StoredPayout,
    pub lines: Vec<ReportLine>,
    /// The charges.
    pub gross: Centavos,
    /// Stripe's fees (a positive amount: what Stripe kept).
    pub fees: Centavos,
    /// The refunds (negative).
    pub refunds: Centavos,
    /// The disputes (negative; a reversal positive).
    pub disputes: Centavos,
    /// Anything else.
    pub other: Centavos,
    /// The items' net, which should be the deposit.
    pub net: Centavos,
    /// Items (fees aside) matched to a Recauda order.
    pub matched: usize,
    pub status: PayoutStatus,
}

impl PayoutReport {
    pub fn build(payout: StoredPayout, items: Vec<StoredItem>) -> PayoutReport {
        let (mut gross, mut fees, mut refunds, mut disputes, mut other, mut net) =
            (Centavos(0), Centavos(0), Centavos(0), Centavos(0), Centavos(0), Centavos(0));
        let mut matched = 0;
        let mut differences = false;
        let lines: Vec<ReportLine> = items
            .into_iter()
            .map(|item| {
                let kind = item.item_kind();
                let verdict = Verdict::of(&item);
                match kind {
                    ItemKind::Charge => gross = gross + item.amount,
                    ItemKind::Refund => refunds = refunds + item.amount,
                    ItemKind::Dispute => disputes = disputes + item.amount,
                    ItemKind::Fee => fees = fees - item.amount,
                    ItemKind::Other => other = other + item.amount,
                }
                fees = fees + item.fee;
                net = net + item.net;
                if kind != ItemKind::Fee && item.order.is_some() {
                    matched += 1;
                }
                differences |= verdict.is_difference();
                ReportLine { item, kind, verdict }
            })
            .collect();
        let status = if matched == 0 {
            PayoutStatus::NeedsInvestigation
        } else if differences || net != payout.amount {
            PayoutStatus::WithDifferences
        } else {
            PayoutStatus::Reconciled
        };
        PayoutReport { payout, lines, gross, fees, refunds, disputes, other, net, matched, status }
    }

    /// Whether the items add up to the deposit.
    pub fn net_matches(&self) -> bool {
        self.net == self.payout.amount
    }
}

/// A valid Stripe receipt, and whether some stored payout carries its charge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StripeReceipt {
    pub folio: String,
    pub order_id: i64,
    pub order_reference: String,
    pub method: Option<Method>,
    /// The day the money was taken (the receipt's date).
    pub paid_on: NaiveDate,
    pub total: Centavos,
    pub payment_intent: Option<String>,
}

/// `n` business days (Monday to Friday) after `day`.
pub fn add_business_days(day: NaiveDate, n: u64) -> NaiveDate {
    let mut d = day;
    let mut left = n;
    while left > 0 {
        d = d + Days::new(1);
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    d
}

/// The last day by which a payment taken on `paid_on` should be in a
/// payout: [`OXXO_PAYOUT_DAYS`] days for OXXO, [`CARD_PAYOUT_BUSINESS_DAYS`]
/// business days for a card (and anything else).
pub fn payout_due(method: Option<Method>, paid_on: NaiveDate) -> NaiveDate {
    match method {
        Some(Method::Oxxo) => paid_on + Days::new(OXXO_PAYOUT_DAYS),
        _ => add_business_days(paid_on, CARD_PAYOUT_BUSINESS_DAYS),
    }
}

/// The receipts (in no stored payout) whose payout is overdue on `today`.
pub fn overdue(receipts: Vec<StripeReceipt>, today: NaiveDate) -> Vec<StripeReceipt> {
    receipts.into_iter().filter(|r| payout_due(r.method, r.paid_on) < today).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn at(day: u32) -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(2026, 11, day).unwrap().and_hms_opt(18, 0, 0).unwrap().and_utc()
    }

    pub(crate) fn payout(amount: i64) -> StoredPayout {
        StoredPayout {
            id: "po_1".into(),
            amount: Centavos(amount),
            currency: "mxn".into(),
            status: "paid".into(),
            created: at(24),
            arrival_date: NaiveDate::from_ymd_opt(2026, 11, 25).unwrap(),
            description: None,
            fetched_at: at(25),
            fetched_by: "staff:tesorera".into(),
        }
    }

    fn order(status: OrderStatus, total: i64) -> Option<MatchedOrder> {
        Some(MatchedOrder {
            id: 1,
            reference: "0001202611210001".into(),
            token: "t".into(),
            status,
            total: Centavos(total),
            overpaid: false,
        })
    }

    pub(crate) fn item(
        id: &str,
        kind: &str,
        category: &str,
        amount: i64,
        fee: i64,
        order: Option<MatchedOrder>,
    ) -> StoredItem {
        StoredItem {
            id: id.into(),
            payout_id: "po_1".into(),
            kind: kind.into(),
            category: category.into(),
            amount: Centavos(amount),
            fee: Centavos(fee),
            net: Centavos(amount - fee),
            currency: "mxn".into(),
            created: at(21),
            source_id: Some(format!("src_{id}")),
            payment_intent: Some(format!("pi_{id}")),
            order_token: None,
            order,
            description: None,
        }
    }

    #[test]
    fn kinds_come_from_the_type_and_the_reporting_category() {
        assert_eq!(ItemKind::of("charge", "charge"), ItemKind::Charge);
        assert_eq!(ItemKind::of("payment", "charge"), ItemKind::Charge);
        assert_eq!(ItemKind::of("refund", "refund"), ItemKind::Refund);
        assert_eq!(ItemKind::of("payment_refund", "refund"), ItemKind::Refund);
        assert_eq!(ItemKind::of("adjustment", "dispute"), ItemKind::Dispute);
        assert_eq!(ItemKind::of("adjustment", "dispute_reversal"), ItemKind::Dispute);
        assert_eq!(ItemKind::of("stripe_fee", "fee"), ItemKind::Fee);
        assert_eq!(ItemKind::of("adjustment", "other_adjustment"), ItemKind::Other);
    }

    #[test]
    fn a_report_adds_up_gross_fees_refunds_disputes_and_net() {
        let items = vec![
            item("a", "charge", "charge", 64_000, 1_900, order(OrderStatus::Succeeded, 64_000)),
            item("b", "charge", "charge", 36_000, 1_100, order(OrderStatus::Refunded, 36_000)),
            item("c", "refund", "refund", -36_000, 0, order(OrderStatus::Refunded, 36_000)),
            item("d", "adjustment", "dispute", -10_000, 1_500, order(OrderStatus::Succeeded, 10_000)),
            item("e", "stripe_fee", "fee", -300, 0, None),
        ];
        let net: i64 = items.iter().map(|i| i.net.0).sum();
        let r = PayoutReport::build(payout(net), items);
        assert_eq!(r.gross, Centavos(100_000));
        assert_eq!(r.fees, Centavos(1_900 + 1_100 + 1_500 + 300));
        assert_eq!(r.refunds, Centavos(-36_000));
        assert_eq!(r.disputes, Centavos(-10_000));
        assert_eq!(r.net, Centavos(net));
        assert_eq!(r.gross + r.refunds + r.disputes + r.other - r.fees, r.net, "the parts add up to the net");
        assert!(r.net_matches());
        assert_eq!(r.matched, 4);
        assert_eq!(r.status, PayoutStatus::Reconciled);
        assert_eq!(r.lines[4].verdict, Verdict::Fee);
    }

    #[test]
    fn each_difference_has_its_verdict() {
        let mut overpaid = order(OrderStatus::Failed, 50_000);
        overpaid.as_mut().unwrap().overpaid = true;
        let items = vec![
            item("ok", "charge", "charge", 64_000, 0, order(OrderStatus::Succeeded, 64_000)),
            item("late", "charge", "charge", 64_000, 0, order(OrderStatus::Pending, 64_000)),
            item("expired", "charge", "charge", 64_000, 0, order(OrderStatus::Expired, 64_000)),
            item("diff", "charge", "charge", 63_000, 0, order(OrderStatus::Succeeded, 64_000)),
            item("over", "charge", "charge", 70_000, 0, overpaid),
            item("stranger", "charge", "charge", 5_000, 0, None),
            item("stranger_refund", "refund", "refund", -5_000, 0, None),
        ];
        let r = PayoutReport::build(payout(0), items);
        let verdicts: Vec<Verdict> = r.lines.iter().map(|l| l.verdict).collect();
        assert_eq!(
            verdicts,
            [
                Verdict::Matched,
                Verdict::NotApplied,
                Verdict::NotApplied,
                Verdict::AmountMismatch { expected: Centavos(64_000) },
                Verdict::Overpaid,
                Verdict::Unknown,
                Verdict::Unknown,
            ]
        );
        assert_eq!(r.status, PayoutStatus::WithDifferences);
        assert_eq!(r.matched, 5);
    }

    #[test]
    fn a_payout_with_nothing_matched_needs_investigation() {
        let items =
            vec![item("x", "charge", "charge", 5_000, 200, None), item("f", "stripe_fee", "fee", -100, 0, None)];
        let r = PayoutReport::build(payout(4_700), items);
        assert_eq!((r.matched, r.status), (0, PayoutStatus::NeedsInvestigation));
        assert_eq!(PayoutReport::build(payout(0), vec![]).status, PayoutStatus::NeedsInvestigation);
        // Everything matched but the items do not add up to the deposit.
        let ok = vec![item("a", "charge", "charge", 64_000, 0, order(OrderStatus::Succeeded, 64_000))];
        assert_eq!(PayoutReport::build(payout(1), ok).status, PayoutStatus::WithDifferences);
    }

    #[test]
    fn payouts_are_due_three_business_days_after_a_card_and_ten_days_after_oxxo() {
        let friday = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        assert_eq!(friday.weekday(), Weekday::Fri);
        assert_eq!(add_business_days(friday, 3), NaiveDate::from_ymd_opt(2026, 11, 25).unwrap());
        assert_eq!(payout_due(Some(Method::Card), friday), NaiveDate::from_ymd_opt(2026, 11, 25).unwrap());
        assert_eq!(payout_due(Some(Method::Oxxo), friday), NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        let receipt = |folio: &str, method| StripeReceipt {
            folio: folio.into(),
            order_id: 1,
            order_reference: "r".into(),
            method: Some(method),
            paid_on: friday,
            total: Centavos(100),
            payment_intent: None,
        };
        let all = vec![receipt("card", Method::Card), receipt("oxxo", Method::Oxxo)];
        let on = |d| overdue(all.clone(), NaiveDate::from_ymd_opt(2026, 11, d).unwrap());
        assert!(on(25).is_empty(), "due that day: not late yet");
        assert_eq!(on(26).iter().map(|r| r.folio.as_str()).collect::<Vec<_>>(), ["card"]);
        assert_eq!(on(30).len(), 1);
        assert_eq!(overdue(all, NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()).len(), 2);
    }
}
