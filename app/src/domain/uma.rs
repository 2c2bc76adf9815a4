//! UMA (Unidad de Medida y Actualización), the unit in which municipal
//! tariffs written as "salarios mínimos" are applied today.
//!
//! INEGI publishes the daily value each January; it is in force from
//! 1 February to 31 January of the following year. The table is dated: the
//! value on a day is the one of the latest entry whose `valid_from` is on or
//! before that day.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::money::Centavos;

/// One published daily UMA value and the day it takes effect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UmaEntry {
    #[serde(with = "crate::domain::config_date")]
    pub valid_from: NaiveDate,
    /// Pesos per day, e.g. `"117.31"` (a string in the TOML file, so that
    /// it is read exactly).
    #[serde(with = "crate::domain::money::decimal_exact")]
    pub daily_value: Decimal,
}

/// The UMA values by date, sorted by `valid_from`, never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UmaTable {
    entries: Vec<UmaEntry>,
}

impl UmaTable {
    /// Sorts the entries and checks that the table is usable: at least one
    /// entry, positive values, no two entries on the same day.
    pub fn new(mut entries: Vec<UmaEntry>) -> Result<UmaTable, UmaError> {
        if entries.is_empty() {
            return Err(UmaError::Empty);
        }
        entries.sort_by_key(|e| e.valid_from);
        if let Some(e) = entries.iter().find(|e| e.daily_value <= Decimal::ZERO) {
            return Err(UmaError::NotPositive(e.valid_from));
        }
        if let Some(w) = entries.windows(2).find(|w| w[0].valid_from == w[1].valid_from) {
            return Err(UmaError::DuplicateDate(w[0].valid_from));
        }
        Ok(UmaTable { entries })
    }

    /// The entries, oldest first.
    pub fn entries(&self) -> &[UmaEntry] {
        &self.entries
    }

    /// The daily value in force on `d`; `None` before the first entry.
    pub fn value_on(&self, d: NaiveDate) -> Option<Decimal> {
        let after = self.entries.partition_point(|e| e.valid_from <= d);
        after.checked_sub(1).map(|i| self.entries[i].daily_value)
    }

    /// `umas × daily value on the day`, rounded by the
    /// [`ROUNDING_RULE`](crate::domain::money::ROUNDING_RULE).
    pub fn amount(&self, umas: Decimal, on: NaiveDate) -> Option<Centavos> {
        let value = self.value_on(on)?;
        umas.checked_mul(value).map(Centavos::from_decimal)
    }
}

/// Why a UMA table was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum UmaError {
    #[error("the UMA table is empty")]
    Empty,
    #[error("the UMA value from {0} must be positive")]
    NotPositive(NaiveDate),
    #[error("two UMA values start on {0}")]
    DuplicateDate(NaiveDate),
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn table() -> UmaTable {
        // Deliberately out of order: `new` sorts.
        UmaTable::new(vec![
            UmaEntry { valid_from: d(2026, 2, 1), daily_value: dec!(117.31) },
            UmaEntry { valid_from: d(2024, 2, 1), daily_value: dec!(108.57) },
            UmaEntry { valid_from: d(2025, 2, 1), daily_value: dec!(113.14) },
        ])
        .unwrap()
    }

    #[test]
    fn value_on_dates() {
        let t = table();
        assert_eq!(t.value_on(d(2024, 1, 31)), None);
        assert_eq!(t.value_on(d(2024, 2, 1)), Some(dec!(108.57)));
        assert_eq!(t.value_on(d(2025, 1, 31)), Some(dec!(108.57)));
        assert_eq!(t.value_on(d(2025, 2, 1)), Some(dec!(113.14)));
        assert_eq!(t.value_on(d(2026, 1, 31)), Some(dec!(113.14)));
        assert_eq!(t.value_on(d(2026, 2, 1)), Some(dec!(117.31)));
        assert_eq!(t.value_on(d(2027, 1, 31)), Some(dec!(117.31)));
        assert_eq!(t.entries()[0].valid_from, d(2024, 2, 1));
    }

    #[test]
    fn amounts_round_to_the_centavo() {
        let t = table();
        // 10 UMA on 2026-03-01: 10 × 117.31 = 1,173.10
        assert_eq!(t.amount(dec!(10), d(2026, 3, 1)), Some(Centavos(117_310)));
        // 0.25 UMA (coin machines): 0.25 × 117.31 = 29.3275 → 29.33
        assert_eq!(t.amount(dec!(0.25), d(2026, 3, 1)), Some(Centavos(2_933)));
        // 0.10 UMA in 2025: 0.1 × 113.14 = 11.314 → 11.31
        assert_eq!(t.amount(dec!(0.10), d(2025, 6, 1)), Some(Centavos(1_131)));
        // 0.5 UMA in 2024: 0.5 × 108.57 = 54.285 → 54.29 (half away from zero)
        assert_eq!(t.amount(dec!(0.5), d(2024, 6, 1)), Some(Centavos(5_429)));
        assert_eq!(t.amount(dec!(1), d(2020, 1, 1)), None);
    }

    #[test]
    fn invalid_tables() {
        assert_eq!(UmaTable::new(vec![]), Err(UmaError::Empty));
        assert_eq!(
            UmaTable::new(vec![UmaEntry { valid_from: d(2024, 2, 1), daily_value: dec!(0) }]),
            Err(UmaError::NotPositive(d(2024, 2, 1)))
        );
        assert_eq!(
            UmaTable::new(vec![
                UmaEntry { valid_from: d(2024, 2, 1), daily_value: dec!(1) },
                UmaEntry { valid_from: d(2024, 2, 1), daily_value: dec!(2) },
            ]),
            Err(UmaError::DuplicateDate(d(2024, 2, 1)))
        );
    }
}
