//! The accounting export (tesorero): what was collected in a range of
//! days, grouped the way the treasury's accounts need it.
//!
//! * **Revenue lines** by CONAC CRI code and concept: each item's principal
//!   under its concept's code, its recargos under the recargos code, its
//!   discount as a negative line under the concept's code; and the CFF
//!   art. 20 rounding under its own code. By channel (en línea,
//!   ventanilla).
//! * **By method and channel**: the receipts' totals.
//! * **Folio ranges** per series and year, and every **cancelled folio**
//!   with its reason (cancelled receipts count for nothing).
//!
//! Balance: the revenue lines plus the rounding equal the sum of the
//! valid receipts to the centavo ([`Collections::balanced`]), and so do the
//! totals by method.
//!
//! * **Stripe's fees** ([`Collections::stripe_fees`], `comision_stripe`
//!   rows): what Stripe kept from the stored payouts' balance transactions
//!   created in the range (see [`crate::reconciliation`]). A cost of
//!   collecting, not revenue: they are outside the balance below.
//!
//! The CSV ([`Collections::to_csv`]) neutralises every cell that a
//! spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab, CR at the
//! start) with a leading apostrophe, except plain amounts (`-120.00`).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::domain::money::Centavos;
use crate::domain::municipality::Municipality;
use crate::domain::payment::{Method, Provider};
use crate::store::collections::{CollectedItem, CollectedReceipt};

/// Where a payment was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Channel {
    Online,
    Window,
}

impl Channel {
    pub fn of(provider: Option<Provider>) -> Channel {
        match provider {
            Some(Provider::Window) => Channel::Window,
            _ => Channel::Online,
        }
    }

    pub fn label_es(self) -> &'static str {
        match self {
            Channel::Online => "en línea",
            Channel::Window => "ventanilla",
        }
    }
}

/// Which part of an item a revenue line carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Component {
    Principal,
    Recargos,
    Discount,
}

impl Component {
    pub fn label_es(self) -> &'static str {
        match self {
            Component::Principal => "principal",
            Component::Recargos => "recargos",
            Component::Discount => "descuento",
        }
    }
}

/// One revenue line: a CRI code, a concept, a component, a channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevenueLine {
    /// The CRI code; empty when the municipality file gives none.
    pub cri: String,
    pub concept: String,
    pub concept_name: String,
    pub component: Component,
    pub channel: Channel,
    pub amount: Centavos,
}

/// The folios one series used in the range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FolioRange {
    pub series: String,
    pub year: u16,
    pub first: String,
    pub last: String,
    pub issued: usize,
    pub cancelled: usize,
}

/// A cancelled receipt of the range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CancelledFolio {
    pub folio: String,
    pub issued_on: NaiveDate,
    pub total: Centavos,
    pub reason: String,
}

/// The export of a range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Collections {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub lines: Vec<RevenueLine>,
    /// The rounding adjustments, by channel, under `rounding_cri`.
    pub rounding: Vec<(Channel, Centavos)>,
    pub rounding_cri: String,
    pub by_method: Vec<(Channel, Option<Method>, Centavos, usize)>,
    pub folio_ranges: Vec<FolioRange>,
    pub cancelled: Vec<CancelledFolio>,
    /// The sum of the valid receipts' totals.
    pub receipts_total: Centavos,
    pub receipts: usize,
    /// Stripe's fees of the range (never part of [`Collections::balanced`]).
    pub stripe_fees: Vec<StripeFeeLine>,
}

/// One Stripe fee: a balance transaction's fee, or a fee of Stripe's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StripeFeeLine {
    /// The day (in the municipality's time zone) Stripe recorded it.
    pub day: NaiveDate,
    pub payout_id: String,
    pub item_id: String,
    /// What Stripe kept (positive).
    pub amount: Centavos,
    pub detail: String,
}

impl Collections {
    /// Groups the receipts of a range (and the items of the valid ones).
    pub fn build(
        m: &Municipality,
        from: NaiveDate,
        to: NaiveDate,
        receipts: &[CollectedReceipt],
        items: &[CollectedItem],
    ) -> Collections {
        let channel_of: BTreeMap<i64, Channel> = receipts
            .iter()
            .filter(|r| r.cancel_reason.is_none())
            .map(|r| (r.order_id, Channel::of(r.provider)))
            .collect();
        let recargos_cri = m.accounting.recargos_cri.clone().unwrap_or_default();
        let mut lines: BTreeMap<(String, String, Component, Channel), Centavos> = BTreeMap::new();
        for item in items {
            let Some(channel) = channel_of.get(&item.order_id).copied() else { continue };
            let cri = m.concept(&item.concept).and_then(|c| c.cri.clone()).unwrap_or_default();
            let mut add = |cri: &str, component, amount: Centavos| {
                if amount.0 != 0 {
                    let key = (cri.to_string(), item.concept.clone(), component, channel);
                    let sum = lines.entry(key).or_insert(Centavos(0));
                    *sum = *sum + amount;
                }
            };
            add(&cri, Component::Principal, item.principal);
            add(&recargos_cri, Component::Recargos, item.recargos);
            add(&cri, Component::Discount, -item.discount);
        }
        let lines = lines
            .into_iter()
            .map(|((cri, concept, component, channel), amount)| RevenueLine {
                cri,
                concept_name: m.concept(&concept).map(|c| c.name_es.clone()).unwrap_or_else(|| concept.clone()),
                concept,
                component,
                channel,
                amount,
            })
            .collect();
        let mut rounding: BTreeMap<Channel, Centavos> = BTreeMap::new();
        let mut by_method: BTreeMap<(Channel, Option<Method>), (Centavos, usize)> = BTreeMap::new();
        let mut ranges: Vec<FolioRange> = Vec::new();
        let mut cancelled = Vec::new();
        let (mut receipts_total, mut valid) = (Centavos(0), 0);
        for r in receipts {
            let (series, year) = (r.folio.series().to_string(), r.folio.year());
            match ranges.last_mut() {
                Some(range) if range.series == series && range.year == year => {
                    range.last = r.folio.to_string();
                    range.issued += 1;
                    range.cancelled += usize::from(r.cancel_reason.is_some());
                }
                _ => ranges.push(FolioRange {
                    series,
                    year,
                    first: r.folio.to_string(),
                    last: r.folio.to_string(),
                    issued: 1,
                    cancelled: usize::from(r.cancel_reason.is_some()),
                }),
            }
            if let Some(reason) = &r.cancel_reason {
                cancelled.push(CancelledFolio {
                    folio: r.folio.to_string(),
                    issued_on: r.issued_on,
                    total: r.total,
                    reason: reason.clone(),
                });
                continue;
            }
            let channel = Channel::of(r.provider);
            let sum = rounding.entry(channel).or_insert(Centavos(0));
            *sum = *sum + r.rounding;
            let entry = by_method.entry((channel, r.method)).or_insert((Centavos(0), 0));
            entry.0 = entry.0 + r.total;
            entry.1 += 1;
            receipts_total = receipts_total + r.total;
            valid += 1;
        }
        Collections {
            from,
            to,
            lines,
            rounding: rounding.into_iter().filter(|(_, c)| c.0 != 0).collect(),
            rounding_cri: m.accounting.rounding_cri.clone().unwrap_or_default(),
            by_method: by_method.into_iter().map(|((ch, m), (total, n))| (ch, m, total, n)).collect(),
            folio_ranges: ranges,
            cancelled,
            receipts_total,
            receipts: valid,
            stripe_fees: Vec::new(),
        }
    }

    /// The export with Stripe's fees of its range (a separate section).
    pub fn with_stripe_fees(self, stripe_fees: Vec<StripeFeeLine>) -> Collections {
        Collections { stripe_fees, ..self }
    }

    /// The sum of Stripe's fees.
    pub fn stripe_fees_total(&self) -> Centavos {
        self.stripe_fees.iter().map(|f| f.amount).sum()
    }

    /// The revenue lines plus the rounding.
    pub fn lines_total(&self) -> Centavos {
        self.lines.iter().map(|l| l.amount).sum::<Centavos>() + self.rounding.iter().map(|(_, c)| *c).sum::<Centavos>()
    }

    /// Both ways of adding up equal the receipts, to the centavo.
    pub fn balanced(&self) -> bool {
        self.lines_total() == self.receipts_total
            && self.by_method.iter().map(|(_, _, c, _)| *c).sum::<Centavos>() == self.receipts_total
    }

    /// The export as CSV (UTF-8 with BOM, so spreadsheets read the accents;
    /// CRLF line ends; amounts as plain decimals).
    pub fn to_csv(&self) -> String {
        let mut out = String::from("\u{feff}");
        let mut row = |cells: &[&str]| {
            let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        };
        row(&[
            "seccion",
            "cri",
            "concepto",
            "componente",
            "canal",
            "forma_de_pago",
            "folio_inicial",
            "folio_final",
            "recibos",
            "importe",
            "detalle",
        ]);
        let range = format!("{} a {}", self.from, self.to);
        for l in &self.lines {
            row(&[
                "ingreso",
                &l.cri,
                &l.concept_name,
                l.component.label_es(),
                l.channel.label_es(),
                "",
                "",
                "",
                "",
                &l.amount.to_api_string(),
                &l.concept,
            ]);
        }
        for (channel, amount) in &self.rounding {
            row(&[
                "redondeo",
                &self.rounding_cri,
                "Ajuste por redondeo (CFF art. 20)",
                "",
                channel.label_es(),
                "",
                "",
                "",
                "",
                &amount.to_api_string(),
                "",
            ]);
        }
        for (channel, method, amount, n) in &self.by_method {
            row(&[
                "forma_de_pago",
                "",
                "",
                "",
                channel.label_es(),
                crate::receipts::method_label(*method, crate::i18n::Lang::Es),
                "",
                "",
                &n.to_string(),
                &amount.to_api_string(),
                "",
            ]);
        }
        for r in &self.folio_ranges {
            row(&[
                "folios",
                "",
                "",
                "",
                "",
                "",
                &r.first,
                &r.last,
                &r.issued.to_string(),
                "",
                &format!("serie {} {}: {} cancelados", r.series, r.year, r.cancelled),
            ]);
        }
        for c in &self.cancelled {
            row(&["cancelado", "", "", "", "", "", &c.folio, &c.folio, "1", &c.total.to_api_string(), &c.reason]);
        }
        for f in &self.stripe_fees {
            row(&[
                "comision_stripe",
                "",
                "Comisión de Stripe",
                "",
                Channel::Online.label_es(),
                "",
                "",
                "",
                "",
                &f.amount.to_api_string(),
                &format!("{} {} {}: {}", f.day, f.payout_id, f.item_id, f.detail),
            ]);
        }
        row(&[
            "total",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            &self.receipts.to_string(),
            &self.receipts_total.to_api_string(),
            &format!("recibos vigentes del {range}"),
        ]);
        out
    }
}

/// Whether a cell is a plain amount (`-120.00`, `35`), which a spreadsheet
/// reads as a number and never as a formula.
fn is_plain_amount(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && (frac.is_empty() != digits.contains('.'))
}

/// One CSV cell: neutralised against formula injection (a leading `=`,
/// `+`, `-`, `@`, tab or carriage return gets an apostrophe in front,
/// unless the cell is a plain amount), then quoted when it holds a comma,
/// a quote or a line break.
pub fn csv_cell(value: &str) -> String {
    let risky = value.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_plain_amount(value);
    let value = if risky { format!("'{value}") } else { value.to_string() };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripe_fees_are_a_separate_section_outside_the_balance() {
        let m = crate::domain::municipality::Municipality::from_toml_str(include_str!(
            "../../config/municipalities/loreto.toml"
        ))
        .expect("loreto.toml");
        let day = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        let c = Collections::build(&m, day, day, &[], &[]);
        assert!(c.balanced());
        let fee = |id: &str, amount| StripeFeeLine {
            day,
            payout_id: "po_1".into(),
            item_id: id.into(),
            amount: Centavos(amount),
            detail: "=cmd|' /C calc'!A0".into(),
        };
        let c = c.with_stripe_fees(vec![fee("txn_1", 1_900), fee("txn_2", 300)]);
        assert!(c.balanced(), "fees are not receipts: the balance is unchanged");
        assert_eq!(c.receipts_total, Centavos(0));
        assert_eq!(c.stripe_fees_total(), Centavos(2_200));
        let csv = c.to_csv();
        assert_eq!(csv.matches("\r\ncomision_stripe,").count(), 2, "{csv}");
        assert!(csv.contains(",19.00,2026-11-21 po_1 txn_1: =cmd|' /C calc'!A0\r\n"), "{csv}");
    }

    #[test]
    fn cells_that_a_spreadsheet_would_run_are_neutralised() {
        assert_eq!(csv_cell("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
        assert_eq!(csv_cell("+52 613"), "'+52 613");
        assert_eq!(csv_cell("-1+2"), "'-1+2");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("\tx"), "'\tx");
        assert_eq!(csv_cell("-120.00"), "-120.00");
        assert_eq!(csv_cell("35"), "35");
        assert_eq!(csv_cell("-"), "'-");
        assert_eq!(csv_cell("-.5"), "'-.5");
        assert_eq!(csv_cell("Impuesto predial"), "Impuesto predial");
        assert_eq!(csv_cell("a, b"), "\"a, b\"");
        assert_eq!(csv_cell("línea\nnueva"), "\"línea\nnueva\"");
    }
}
