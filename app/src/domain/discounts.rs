//! Authorized discount programs ("descuentos autorizados").
//!
//! A treasury may only forgive what its Cabildo (or the state congress)
//! authorised: each program names its legal basis, the concepts it covers,
//! which component of the debt it reduces (principal, recargos or multas),
//! a percentage and a validity window. The portal shows every applied
//! discount with its legal basis and expiry so that the taxpayer can see
//! why the amount is lower.
//!
//! Application rule for one concept and component on one day:
//! * among the applicable programs that do not stack, the one with the
//!   highest percentage wins (ties: the first one in the file);
//! * programs marked `stacks = true` are added on top, each shown;
//! * each amount is `base × percent / 100`, rounded by the
//!   [`ROUNDING_RULE`](crate::domain::money::ROUNDING_RULE); the sum never
//!   exceeds the base (the last amount is clipped); zero amounts are not
//!   listed.

use std::collections::HashSet;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::money::Centavos;

/// Concept code that makes a program cover every concept.
pub const ALL_CONCEPTS: &str = "*";

/// The part of a debt an amount belongs to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Component {
    /// The tax, fee or right itself (predial, agua, licencias…).
    #[default]
    Principal,
    /// Surcharges for late payment.
    Recargos,
    /// Fines (multas administrativas).
    Multas,
}

impl Component {
    pub fn as_str(self) -> &'static str {
        match self {
            Component::Principal => "principal",
            Component::Recargos => "recargos",
            Component::Multas => "multas",
        }
    }

    pub fn label_es(self) -> &'static str {
        match self {
            Component::Principal => "Principal",
            Component::Recargos => "Recargos",
            Component::Multas => "Multas",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Component::Principal => "Principal",
            Component::Recargos => "Late-payment surcharges",
            Component::Multas => "Fines",
        }
    }
}

/// A discount program authorised for the municipality.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscountProgram {
    pub id: String,
    pub name: String,
    /// The agreement or law that authorises it (shown to the taxpayer).
    pub legal_basis: String,
    #[serde(with = "crate::domain::config_date")]
    pub valid_from: NaiveDate,
    /// Last day on which the program applies (inclusive).
    #[serde(with = "crate::domain::config_date")]
    pub valid_until: NaiveDate,
    /// Concept codes; `"*"` covers every concept.
    pub concepts: Vec<String>,
    pub component: Component,
    /// `0 < percent <= 100`.
    #[serde(with = "crate::domain::money::decimal_exact")]
    pub percent: Decimal,
    /// Whether it adds to the best non-stacking program instead of competing
    /// with it.
    #[serde(default)]
    pub stacks: bool,
}

impl DiscountProgram {
    /// Whether `date` falls in `valid_from..=valid_until`.
    pub fn applies_on(&self, date: NaiveDate) -> bool {
        self.valid_from <= date && date <= self.valid_until
    }

    /// Whether the program lists `concept` (or `"*"`).
    pub fn covers(&self, concept: &str) -> bool {
        self.concepts.iter().any(|c| c == ALL_CONCEPTS || c == concept)
    }
}

/// A discount applied to one item of a quote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedDiscount {
    pub program_id: String,
    pub name: String,
    pub legal_basis: String,
    pub valid_until: NaiveDate,
    pub component: Component,
    #[serde(with = "crate::domain::money::decimal_exact")]
    pub percent: Decimal,
    pub amount: Centavos,
}

/// The discounts that reduce `base` (the amount of `component` of a charge
/// of `concept`) on day `on`, per the rule in the module documentation.
pub fn apply_discounts(
    programs: &[DiscountProgram],
    concept: &str,
    component: Component,
    base: Centavos,
    on: NaiveDate,
) -> Vec<AppliedDiscount> {
    if base <= Centavos::ZERO {
        return Vec::new();
    }
    let applicable: Vec<&DiscountProgram> =
        programs.iter().filter(|p| p.component == component && p.covers(concept) && p.applies_on(on)).collect();
    let best = applicable.iter().copied().filter(|p| !p.stacks).fold(None::<&DiscountProgram>, |best, p| match best {
        Some(b) if b.percent >= p.percent => Some(b),
        _ => Some(p),
    });
    let stacking = applicable.iter().copied().filter(|p| p.stacks);

    let mut remaining = base;
    let mut applied = Vec::new();
    for p in best.into_iter().chain(stacking) {
        let amount = base
            .to_decimal()
            .checked_mul(p.percent)
            .map(|x| Centavos::from_decimal(x / Decimal::ONE_HUNDRED))
            .unwrap_or(remaining)
            .min(remaining);
        if amount <= Centavos::ZERO {
            continue;
        }
        remaining = remaining - amount;
        applied.push(AppliedDiscount {
            program_id: p.id.clone(),
            name: p.name.clone(),
            legal_basis: p.legal_basis.clone(),
            valid_until: p.valid_until,
            component: p.component,
            percent: p.percent,
            amount,
        });
    }
    applied
}

/// Checks a list of programs: non-empty id, name, legal basis and concepts,
/// `0 < percent <= 100`, `valid_from <= valid_until`, unique ids.
pub fn validate_programs(programs: &[DiscountProgram]) -> Result<(), DiscountError> {
    let mut ids = HashSet::new();
    for p in programs {
        if p.id.trim().is_empty() {
            return Err(DiscountError::EmptyId);
        }
        let empty = |field: &'static str| DiscountError::EmptyField { id: p.id.clone(), field };
        if p.name.trim().is_empty() {
            return Err(empty("name"));
        }
        if p.legal_basis.trim().is_empty() {
            return Err(empty("legal_basis"));
        }
        if p.concepts.is_empty() || p.concepts.iter().any(|c| c.trim().is_empty()) {
            return Err(empty("concepts"));
        }
        if p.percent <= Decimal::ZERO || p.percent > Decimal::ONE_HUNDRED {
            return Err(DiscountError::Percent(p.id.clone()));
        }
        if p.valid_from > p.valid_until {
            return Err(DiscountError::Dates(p.id.clone()));
        }
        if !ids.insert(p.id.as_str()) {
            return Err(DiscountError::DuplicateId(p.id.clone()));
        }
    }
    Ok(())
}

/// Why a list of discount programs was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum DiscountError {
    #[error("a discount program has an empty id")]
    EmptyId,
    #[error("discount program {id}: {field} must not be empty")]
    EmptyField { id: String, field: &'static str },
    #[error("discount program {0}: percent must be greater than 0 and at most 100")]
    Percent(String),
    #[error("discount program {0}: valid_from is after valid_until")]
    Dates(String),
    #[error("discount program id {0} is used twice")]
    DuplicateId(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn program(id: &str, concepts: &[&str], component: Component, percent: Decimal, stacks: bool) -> DiscountProgram {
        DiscountProgram {
            id: id.into(),
            name: format!("Programa {id}"),
            legal_basis: "Acuerdo de Cabildo".into(),
            valid_from: d(2026, 1, 1),
            valid_until: d(2026, 12, 31),
            concepts: concepts.iter().map(|c| c.to_string()).collect(),
            component,
            percent,
            stacks,
        }
    }

    #[test]
    fn dates_are_inclusive() {
        let p = program("a", &["predial"], Component::Recargos, dec!(50), false);
        assert!(!p.applies_on(d(2025, 12, 31)));
        assert!(p.applies_on(d(2026, 1, 1)));
        assert!(p.applies_on(d(2026, 12, 31)));
        assert!(!p.applies_on(d(2027, 1, 1)));
    }

    #[test]
    fn covers_with_wildcard() {
        let p = program("a", &["predial", "agua"], Component::Recargos, dec!(50), false);
        assert!(p.covers("predial") && p.covers("agua") && !p.covers("basura"));
        let all = program("b", &["*"], Component::Recargos, dec!(50), false);
        assert!(all.covers("basura"));
    }

    #[test]
    fn best_non_stacking_wins_and_stacking_adds() {
        let programs = vec![
            program("p30", &["predial"], Component::Recargos, dec!(30), false),
            program("p50", &["*"], Component::Recargos, dec!(50), false),
            program("p50b", &["predial"], Component::Recargos, dec!(50), false), // tie: first wins
            program("s10", &["predial"], Component::Recargos, dec!(10), true),
            program("other", &["predial"], Component::Principal, dec!(90), false),
            program("agua", &["agua"], Component::Recargos, dec!(100), false),
        ];
        // base 181.48: 50 % = 90.74; 10 % = 18.148 → 18.15
        let applied = apply_discounts(&programs, "predial", Component::Recargos, Centavos(18_148), d(2026, 11, 21));
        let ids: Vec<&str> = applied.iter().map(|a| a.program_id.as_str()).collect();
        assert_eq!(ids, ["p50", "s10"]);
        assert_eq!(applied[0].amount, Centavos(9_074));
        assert_eq!(applied[1].amount, Centavos(1_815));
        assert_eq!(applied[0].valid_until, d(2026, 12, 31));
        assert_eq!(applied[0].component, Component::Recargos);
        // outside the window: nothing
        assert!(apply_discounts(&programs, "predial", Component::Recargos, Centavos(18_148), d(2027, 1, 1)).is_empty());
        // zero base: nothing listed
        assert!(apply_discounts(&programs, "predial", Component::Recargos, Centavos::ZERO, d(2026, 5, 1)).is_empty());
    }

    #[test]
    fn half_centavo_rounds_away_from_zero_and_sum_is_clipped() {
        // 0.05 × 30 % = 0.015 → 0.02
        let p = vec![program("m", &["multa_basura"], Component::Multas, dec!(30), false)];
        let a = apply_discounts(&p, "multa_basura", Component::Multas, Centavos(5), d(2026, 8, 1));
        assert_eq!(a[0].amount, Centavos(2));
        // 100 % + stacking 25 %: the stacking one is clipped to nothing left.
        let p = vec![
            program("full", &["agua"], Component::Recargos, dec!(100), false),
            program("extra", &["agua"], Component::Recargos, dec!(25), true),
        ];
        let a = apply_discounts(&p, "agua", Component::Recargos, Centavos(1_001), d(2026, 8, 1));
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].amount, Centavos(1_001));
        // 80 % + stacking 30 %: the second is clipped to the remaining 20 %.
        let p = vec![
            program("big", &["agua"], Component::Recargos, dec!(80), false),
            program("more", &["agua"], Component::Recargos, dec!(30), true),
        ];
        let a = apply_discounts(&p, "agua", Component::Recargos, Centavos(10_000), d(2026, 8, 1));
        assert_eq!(a.iter().map(|x| x.amount).collect::<Vec<_>>(), [Centavos(8_000), Centavos(2_000)]);
    }

    #[test]
    fn validation() {
        let ok = program("a", &["predial"], Component::Recargos, dec!(50), false);
        assert_eq!(validate_programs(std::slice::from_ref(&ok)), Ok(()));
        assert_eq!(validate_programs(&[ok.clone(), ok.clone()]), Err(DiscountError::DuplicateId("a".into())));
        let mut p = ok.clone();
        p.percent = dec!(0);
        assert_eq!(validate_programs(&[p]), Err(DiscountError::Percent("a".into())));
        let mut p = ok.clone();
        p.percent = dec!(100.01);
        assert_eq!(validate_programs(&[p]), Err(DiscountError::Percent("a".into())));
        let mut p = ok.clone();
        p.percent = dec!(100);
        assert_eq!(validate_programs(&[p]), Ok(()));
        let mut p = ok.clone();
        p.valid_until = d(2025, 12, 31);
        assert_eq!(validate_programs(&[p]), Err(DiscountError::Dates("a".into())));
        let mut p = ok.clone();
        p.legal_basis = " ".into();
        assert_eq!(validate_programs(&[p]), Err(DiscountError::EmptyField { id: "a".into(), field: "legal_basis" }));
        let mut p = ok.clone();
        p.name = String::new();
        assert_eq!(validate_programs(&[p]), Err(DiscountError::EmptyField { id: "a".into(), field: "name" }));
        let mut p = ok.clone();
        p.concepts.clear();
        assert_eq!(validate_programs(&[p]), Err(DiscountError::EmptyField { id: "a".into(), field: "concepts" }));
        let mut p = ok;
        p.id = String::new();
        assert_eq!(validate_programs(&[p]), Err(DiscountError::EmptyId));
    }

    #[test]
    fn serde_shape() {
        let json = r#"{"id":"x","name":"n","legal_basis":"l","valid_from":"2026-01-01","valid_until":"2026-03-31",
            "concepts":["*"],"component":"recargos","percent":"75"}"#;
        let p: DiscountProgram = serde_json::from_str(json).unwrap();
        assert_eq!(p.component, Component::Recargos);
        assert_eq!(p.percent, dec!(75));
        assert!(!p.stacks);
        assert_eq!(serde_json::to_string(&Component::Multas).unwrap(), "\"multas\"");
        assert_eq!(Component::Multas.as_str(), "multas");
        assert_eq!(Component::Recargos.label_es(), "Recargos");
        assert_eq!(Component::Principal.label_en(), "Principal");
    }

    fn arb_program() -> impl Strategy<Value = DiscountProgram> {
        (1i64..=10_000, any::<bool>(), prop::sample::select(vec!["predial", "agua", "*"]), 0u32..3).prop_map(
            |(bp, stacks, concept, comp)| {
                let component = [Component::Principal, Component::Recargos, Component::Multas][comp as usize];
                program("g", &[concept], component, Decimal::new(bp, 2), stacks)
            },
        )
    }

    proptest! {
        #[test]
        fn total_discount_is_between_zero_and_base(
            programs in prop::collection::vec(arb_program(), 0..6),
            base in 0i64..100_000_000,
        ) {
            let mut programs = programs;
            for (i, p) in programs.iter_mut().enumerate() {
                p.id = format!("g{i}");
            }
            let applied = apply_discounts(&programs, "predial", Component::Recargos, Centavos(base), d(2026, 6, 1));
            let total: Centavos = applied.iter().map(|a| a.amount).sum();
            prop_assert!(total >= Centavos::ZERO);
            prop_assert!(total <= Centavos(base));
            prop_assert!(applied.iter().all(|a| a.amount > Centavos::ZERO));
            let non_stacking = applied.iter().filter(|a| {
                programs.iter().any(|p| p.id == a.program_id && !p.stacks)
            });
            prop_assert!(non_stacking.count() <= 1);
        }
    }
}
