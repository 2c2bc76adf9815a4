//! The debt quote ("estado de adeudo"): what the lookup shows a taxpayer.
//!
//! For every open charge, on `today` (the treasury's local date):
//! 1. months of delay from its due date (capped) and recargos on the
//!    principal;
//! 2. authorised discounts: on the principal, for the charge's component
//!    (`principal`, or `multas` if the catalogue says the concept is a
//!    fine), and on the recargos;
//! 3. `total = principal + recargos − discounts`.
//!
//! Items are grouped by account in the order the accounts first appear.
//! The subtotal is the sum of the items; when the municipality applies CFF
//! art. 20, the total payable is rounded to the peso and the difference is
//! reported as `rounding` ("ajuste por redondeo").

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::discounts::{apply_discounts, AppliedDiscount, Component};
use crate::domain::money::{round_to_peso_cff20, Centavos};
use crate::domain::municipality::Municipality;
use crate::domain::recargos::{months_of_delay, recargos};

/// An unpaid charge, as stored in the padrón.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenCharge {
    pub charge_id: i64,
    /// Account number (cuenta predial, contrato de agua, licencia…).
    pub account: String,
    /// Concept code from the municipality's catalogue.
    pub concept: String,
    /// The period charged, e.g. `2026` or `2026-03`.
    pub period: String,
    pub due_date: NaiveDate,
    pub principal: Centavos,
}

/// The itemised debt of one or more accounts on one day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DebtQuote {
    pub accounts: Vec<AccountQuote>,
    /// Σ of the account totals.
    pub subtotal: Centavos,
    /// "Ajuste por redondeo" (CFF art. 20); zero when rounding is off.
    pub rounding: Centavos,
    /// Total payable: `subtotal + rounding`.
    pub total: Centavos,
    pub computed_on: NaiveDate,
}

/// The items of one account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountQuote {
    pub account: String,
    pub items: Vec<QuoteItem>,
    /// Σ of the item totals (not rounded to the peso).
    pub total: Centavos,
}

/// One charge with its recargos and discounts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteItem {
    pub charge_id: i64,
    pub concept: String,
    /// Catalogue name; the code itself if the concept is not in the catalogue.
    pub concept_name_es: String,
    pub concept_name_en: String,
    pub period: String,
    pub due_date: NaiveDate,
    pub principal: Centavos,
    pub months_late: u32,
    pub recargos: Centavos,
    /// Σ of `discounts`.
    pub discount: Centavos,
    pub discounts: Vec<AppliedDiscount>,
    /// `principal + recargos − discount`.
    pub total: Centavos,
}

/// Quotes `charges` for municipality `m` on `today`.
pub fn quote(charges: &[OpenCharge], m: &Municipality, today: NaiveDate) -> DebtQuote {
    let mut accounts: Vec<AccountQuote> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for charge in charges {
        let item = quote_item(charge, m, today);
        let i = *index.entry(charge.account.as_str()).or_insert_with(|| {
            accounts.push(AccountQuote { account: charge.account.clone(), items: Vec::new(), total: Centavos::ZERO });
            accounts.len() - 1
        });
        accounts[i].total = accounts[i].total + item.total;
        accounts[i].items.push(item);
    }
    let subtotal: Centavos = accounts.iter().map(|a| a.total).sum();
    let (total, rounding) =
        if m.rounding.cff_art20 { round_to_peso_cff20(subtotal) } else { (subtotal, Centavos::ZERO) };
    DebtQuote { accounts, subtotal, rounding, total, computed_on: today }
}

fn quote_item(charge: &OpenCharge, m: &Municipality, today: NaiveDate) -> QuoteItem {
    let months_late = months_of_delay(charge.due_date, today, m.recargos.cap_months);
    let recargos = recargos(charge.principal, m.recargos.monthly_rate, months_late);
    let component = m.component_of(&charge.concept);
    let mut discounts = apply_discounts(&m.discounts, &charge.concept, component, charge.principal, today);
    discounts.extend(apply_discounts(&m.discounts, &charge.concept, Component::Recargos, recargos, today));
    let discount: Centavos = discounts.iter().map(|d| d.amount).sum();
    let (concept_name_es, concept_name_en) = match m.concept(&charge.concept) {
        Some(c) => (c.name_es.clone(), c.name_en.clone()),
        None => (charge.concept.clone(), charge.concept.clone()),
    };
    QuoteItem {
        charge_id: charge.charge_id,
        concept: charge.concept.clone(),
        concept_name_es,
        concept_name_en,
        period: charge.period.clone(),
        due_date: charge.due_date,
        principal: charge.principal,
        months_late,
        recargos,
        discount,
        discounts,
        total: charge.principal + recargos - discount,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::municipality::tests::sample;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn charge(id: i64, account: &str, concept: &str, due: NaiveDate, principal: i64) -> OpenCharge {
        OpenCharge {
            charge_id: id,
            account: account.into(),
            concept: concept.into(),
            period: due.format("%Y").to_string(),
            due_date: due,
            principal: Centavos(principal),
        }
    }

    /// Worked example, every figure computed by hand. Today: 2026-11-21,
    /// rate 1.47 % a month, cap 60, CFF art. 20 rounding on.
    #[test]
    fn worked_example() {
        let m = sample();
        let today = d(2026, 11, 21);
        let charges = [
            // 1. predial 1,234.56 due 2026-01-31. Jan 31 + 10 months = Nov 30 ≥ Nov 21
            //    (+9 = Oct 31 < Nov 21) → 10 months.
            //    recargos = 1,234.56 × 0.0147 × 10 = 181.48032 → 181.48
            //    "predial-recargos-2026" 50 % of 181.48 = 90.74
            //    total = 1,234.56 + 181.48 − 90.74 = 1,325.30
            charge(1, "P-001", "predial", d(2026, 1, 31), 123_456),
            // 2. licencia_comercial 2,345.67 due 2026-03-15. Mar 15 + 8 = Nov 15 < Nov 21,
            //    + 9 = Dec 15 → 9 months.
            //    recargos = 2,345.67 × 0.0147 × 9 = 2,345.67 × 0.1323 = 310.332141 → 310.33
            //    no program covers licencia_comercial.
            //    total = 2,345.67 + 310.33 = 2,656.00
            charge(2, "L-77", "licencia_comercial", d(2026, 3, 15), 234_567),
            // 3. predial 800.00 due 2021-01-31: 70 calendar months → capped at 60.
            //    recargos = 800.00 × 0.0147 × 60 = 705.60; 50 % = 352.80
            //    total = 800.00 + 705.60 − 352.80 = 1,152.80
            charge(3, "P-001", "predial", d(2021, 1, 31), 80_000),
            // 4. multa_basura 1,173.10 (10 UMA of 117.31) due 2026-10-21: Oct 21 + 1 = Nov 21 → 1.
            //    recargos = 1,173.10 × 0.0147 = 17.24457 → 17.24
            //    "multas-regularizacion-2026" 30 % of the fine: 351.93 (no recargos program).
            //    total = 1,173.10 + 17.24 − 351.93 = 838.41
            charge(4, "L-77", "multa_basura", d(2026, 10, 21), 117_310),
            // 5. agua 350.00 due 2026-11-30: not yet due → 0 months, 0 recargos; the
            //    November 100 % recargos program has nothing to forgive → no line.
            //    total = 350.00
            charge(5, "P-001", "agua", d(2026, 11, 30), 35_000),
            // 6. unknown concept, 0.99 due 2026-11-20 → 1 month.
            //    recargos = 0.99 × 0.0147 = 0.014553 → 0.01; total = 1.00
            charge(6, "L-77", "derecho_x", d(2026, 11, 20), 99),
        ];
        let q = quote(&charges, &m, today);

        assert_eq!(q.computed_on, today);
        assert_eq!(q.accounts.len(), 2);
        let (p, l) = (&q.accounts[0], &q.accounts[1]);
        assert_eq!(p.account, "P-001"); // order of first appearance
        assert_eq!(l.account, "L-77");
        assert_eq!(p.items.iter().map(|i| i.charge_id).collect::<Vec<_>>(), [1, 3, 5]);
        assert_eq!(l.items.iter().map(|i| i.charge_id).collect::<Vec<_>>(), [2, 4, 6]);

        let i1 = &p.items[0];
        assert_eq!(
            (i1.months_late, i1.recargos, i1.discount, i1.total),
            (10, Centavos(18_148), Centavos(9_074), Centavos(132_530))
        );
        assert_eq!(i1.discounts.len(), 1);
        assert_eq!(i1.discounts[0].program_id, "predial-recargos-2026");
        assert_eq!(i1.discounts[0].component, Component::Recargos);
        assert_eq!(i1.discounts[0].valid_until, d(2026, 12, 31));
        assert_eq!(i1.concept_name_es, "predial (es)");

        let i3 = &p.items[1];
        assert_eq!(
            (i3.months_late, i3.recargos, i3.discount, i3.total),
            (60, Centavos(70_560), Centavos(35_280), Centavos(115_280))
        );

        let i5 = &p.items[2];
        assert_eq!(
            (i5.months_late, i5.recargos, i5.discount, i5.total),
            (0, Centavos::ZERO, Centavos::ZERO, Centavos(35_000))
        );
        assert!(i5.discounts.is_empty());

        let i2 = &l.items[0];
        assert_eq!(
            (i2.months_late, i2.recargos, i2.discount, i2.total),
            (9, Centavos(31_033), Centavos::ZERO, Centavos(265_600))
        );
        assert!(i2.discounts.is_empty());

        let i4 = &l.items[1];
        assert_eq!(
            (i4.months_late, i4.recargos, i4.discount, i4.total),
            (1, Centavos(1_724), Centavos(35_193), Centavos(83_841))
        );
        assert_eq!(i4.discounts[0].program_id, "multas-regularizacion-2026");
        assert_eq!(i4.discounts[0].component, Component::Multas);

        let i6 = &l.items[2];
        assert_eq!((i6.months_late, i6.recargos, i6.total), (1, Centavos(1), Centavos(100)));
        assert_eq!((i6.concept_name_es.as_str(), i6.concept_name_en.as_str()), ("derecho_x", "derecho_x"));

        // P-001: 1,325.30 + 1,152.80 + 350.00 = 2,828.10
        // L-77:  2,656.00 + 838.41 + 1.00 = 3,495.41
        assert_eq!(p.total, Centavos(282_810));
        assert_eq!(l.total, Centavos(349_541));
        // subtotal 6,323.51 → CFF art. 20: 51 centavos round up → 6,324.00, ajuste +0.49
        assert_eq!(q.subtotal, Centavos(632_351));
        assert_eq!(q.rounding, Centavos(49));
        assert_eq!(q.total, Centavos(632_400));

        // Same charges without CFF art. 20 rounding.
        let mut no_rounding = m.clone();
        no_rounding.rounding.cff_art20 = false;
        let q2 = quote(&charges, &no_rounding, today);
        assert_eq!((q2.subtotal, q2.rounding, q2.total), (Centavos(632_351), Centavos::ZERO, Centavos(632_351)));
    }

    #[test]
    fn agua_recargos_forgiven_in_november_only() {
        let m = sample();
        // agua 200.00 due 2026-09-30: Sep 30 + 2 = Nov 30 ≥ Nov 21 → 2 months.
        // recargos = 200.00 × 0.0147 × 2 = 5.88, 100 % forgiven → total 200.00,
        // subtotal 200.00 → no rounding.
        let charges = [charge(9, "A-1", "agua", d(2026, 9, 30), 20_000)];
        let q = quote(&charges, &m, d(2026, 11, 21));
        let item = &q.accounts[0].items[0];
        assert_eq!(
            (item.months_late, item.recargos, item.discount, item.total),
            (2, Centavos(588), Centavos(588), Centavos(20_000))
        );
        assert_eq!((q.subtotal, q.rounding, q.total), (Centavos(20_000), Centavos::ZERO, Centavos(20_000)));
        // 2026-12-01: Sep 30 + 3 = Dec 30 → 3 months; 200 × 0.0147 × 3 = 8.82, no discount.
        // total 208.82 → CFF art. 20 rounds 82 centavos up: 209.00 (+0.18).
        let q = quote(&charges, &m, d(2026, 12, 1));
        let item = &q.accounts[0].items[0];
        assert_eq!((item.months_late, item.recargos, item.discount), (3, Centavos(882), Centavos::ZERO));
        assert_eq!((q.subtotal, q.rounding, q.total), (Centavos(20_882), Centavos(18), Centavos(20_900)));
    }

    #[test]
    fn empty_quote() {
        let q = quote(&[], &sample(), d(2026, 1, 1));
        assert!(q.accounts.is_empty());
        assert_eq!((q.subtotal, q.rounding, q.total), (Centavos::ZERO, Centavos::ZERO, Centavos::ZERO));
    }

    #[test]
    fn serde_round_trip() {
        let charges = [charge(1, "P-001", "predial", d(2026, 1, 31), 123_456)];
        let q = quote(&charges, &sample(), d(2026, 11, 21));
        let json = serde_json::to_string(&q).unwrap();
        assert!(json.contains("\"principal\":\"1234.56\""));
        assert!(json.contains("\"recargos\":\"181.48\""));
        assert!(json.contains("\"percent\":\"50\""));
        let back: DebtQuote = serde_json::from_str(&json).unwrap();
        assert_eq!(back, q);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn shipped_loreto_file_quotes_the_e2e_concepts_without_discounts() {
        let m = Municipality::from_toml_str(include_str!("../../../config/municipalities/loreto.toml")).unwrap();
        // basura 500.00 due 2026-06-30 quoted 2026-11-21: Jun 30 + 5 = Nov 30 → 5 months;
        // recargos = 500 × 0.0147 × 5 = 36.75; no discount; total 536.75 → 537.00 (+0.25).
        let charges = [
            charge(1, "C-1", "basura", d(2026, 6, 30), 50_000),
            charge(2, "C-1", "licencia_comercial", d(2026, 11, 30), 100_000),
        ];
        let q = quote(&charges, &m, d(2026, 11, 21));
        assert!(q.accounts[0].items.iter().all(|i| i.discounts.is_empty()));
        assert_eq!(q.accounts[0].items[0].recargos, Centavos(3_675));
        assert_eq!(q.subtotal, Centavos(153_675));
        assert_eq!((q.rounding, q.total), (Centavos(25), Centavos(153_700)));
    }
}
