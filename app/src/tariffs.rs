//! The municipality's tariffs as a service: the catalogue in force on a day
//! and the quote of one fee, from the request's text (tariff code, quantity,
//! optional date; today in the municipality's time zone when it is absent).
//!
//! The JSON API (`GET /api/v1/tariffs`, `POST /api/v1/quotes`) answers
//! through here, so a page that shows the same catalogue or quotes the same
//! fee can never disagree with it. The rules themselves (units, rates, the
//! fee's arithmetic, the schedule and UMA of a day) are
//! [`crate::domain::tariffs`]; every refusal is a [`QuoteError`], which
//! becomes the one [`crate::error::AppError`] in one place.

use chrono::NaiveDate;

use crate::domain::municipality::{Giro, Municipality};
use crate::domain::tariffs::{self, QuoteError, Tariff, TariffGroup, TariffQuote, TariffSchedule, UmaApplied};

/// The tariffs in force on a day, each with its group and giro, and the UMA
/// of that day.
#[derive(Clone, Debug)]
pub struct Catalogue<'m> {
    pub date: NaiveDate,
    /// The schedule in force that day (its law and first day).
    pub schedule: &'m TariffSchedule,
    /// `None` only before the first UMA value of the file.
    pub uma: Option<UmaApplied>,
    /// In the schedule's order (the law's).
    pub entries: Vec<CatalogueEntry<'m>>,
}

/// One tariff of a [`Catalogue`].
#[derive(Clone, Debug)]
pub struct CatalogueEntry<'m> {
    pub tariff: &'m Tariff,
    pub group: &'m TariffGroup,
    pub giro: Option<&'m Giro>,
}

/// A date as the API takes it, or today when there is none: exactly
/// `YYYY-MM-DD`, a day of the calendar.
pub fn date_or_today(text: Option<&str>, today: NaiveDate) -> Result<NaiveDate, QuoteError> {
    match text {
        None => Ok(today),
        Some(text) => parse_date(text).ok_or(QuoteError::InvalidDate),
    }
}

/// Strict `YYYY-MM-DD` (ten characters: no sign, no missing zeros, no time)
/// naming a real day.
fn parse_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    let shaped = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() });
    if !shaped {
        return None;
    }
    NaiveDate::from_ymd_opt(text[0..4].parse().ok()?, text[5..7].parse().ok()?, text[8..10].parse().ok()?)
}

/// The catalogue in force on `date` (text as the API takes it; today
/// without it).
pub fn catalogue<'m>(m: &'m Municipality, date: Option<&str>, today: NaiveDate) -> Result<Catalogue<'m>, QuoteError> {
    let date = date_or_today(date, today)?;
    let schedule = tariffs::schedule_on(&m.tariff_schedules, date).ok_or(QuoteError::NoSchedule(date))?;
    let uma = m.uma_table().ok().and_then(|table| tariffs::uma_applied(&table, date));
    let entries = schedule
        .tariffs
        .iter()
        .filter_map(|tariff| {
            // The file's validation guarantees the group; a tariff without
            // one would be an operator's error, not the citizen's.
            let Some(group) = m.tariff_group(&tariff.group) else {
                tracing::error!(tariff = %tariff.code, group = %tariff.group, "tariff without its group");
                return None;
            };
            Some(CatalogueEntry { tariff, group, giro: tariff.giro.as_deref().and_then(|g| m.giro(g)) })
        })
        .collect();
    Ok(Catalogue { date, schedule, uma, entries })
}

/// Quotes tariff `code` for `quantity` on `date` (texts as the API takes
/// them; today without a date). The refusals come in the order a person
/// fixes them: the date, the tariff, the quantity, then what the law says
/// of the tariff and of that quantity.
pub fn quote(
    m: &Municipality,
    code: &str,
    quantity: &str,
    date: Option<&str>,
    today: NaiveDate,
) -> Result<TariffQuote, QuoteError> {
    let date = date_or_today(date, today)?;
    let schedule = tariffs::schedule_on(&m.tariff_schedules, date).ok_or(QuoteError::NoSchedule(date))?;
    if !Tariff::code_is_valid(code) || schedule.tariff(code).is_none() {
        // Echo at most a code's length of what was sent.
        return Err(QuoteError::UnknownTariff(code.chars().take(40).collect()));
    }
    let quantity = tariffs::parse_quantity(quantity)?;
    let uma = m.uma_table().map_err(|_| QuoteError::NoUma(date))?;
    tariffs::quote(&m.tariff_schedules, &uma, code, quantity, date, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Centavos;
    use crate::domain::tariffs::{QuantityError, Rate};
    use rust_decimal_macros::dec;

    fn loreto() -> Municipality {
        Municipality::from_toml_str(include_str!("../../config/municipalities/loreto.toml")).unwrap()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn dates_are_strict_and_default_to_today() {
        let today = d(2026, 11, 21);
        assert_eq!(date_or_today(None, today), Ok(today));
        assert_eq!(date_or_today(Some("2026-02-28"), today), Ok(d(2026, 2, 28)));
        for bad in ["", "2026-02-30", "2026-2-1", "20260201", "2026-02-01T00:00", " 2026-02-01", "+2026-02-01", "nope"]
        {
            assert_eq!(date_or_today(Some(bad), today), Err(QuoteError::InvalidDate), "{bad:?}");
        }
    }

    #[test]
    fn the_catalogue_of_a_day() {
        let m = loreto();
        let c = catalogue(&m, Some("2026-03-01"), d(2026, 11, 21)).unwrap();
        assert_eq!(c.entries.len(), 114);
        assert_eq!(c.schedule.valid_from, d(2026, 1, 1));
        assert_eq!(c.uma.as_ref().map(|u| u.daily_value), Some(dec!(117.31)));
        let hex = c.entries.iter().find(|e| e.tariff.code == "ALC-HEX-AGENCIA").unwrap();
        assert!(matches!(hex.tariff.rate, Rate::NotAuthorized(_)));
        assert_eq!(
            (hex.group.code.as_str(), hex.giro.map(|g| g.code.as_str())),
            ("alcoholes-horas-extra", Some("AGENCIA"))
        );
        let jan = catalogue(&m, None, d(2026, 1, 31)).unwrap();
        assert_eq!(jan.uma.map(|u| (u.daily_value, u.valid_until)), Some((dec!(113.14), Some(d(2026, 1, 31)))));
        assert_eq!(
            catalogue(&m, Some("2025-12-31"), d(2026, 1, 1)).unwrap_err(),
            QuoteError::NoSchedule(d(2025, 12, 31))
        );
        assert_eq!(catalogue(&m, Some("31/12/2026"), d(2026, 1, 1)).unwrap_err(), QuoteError::InvalidDate);
    }

    #[test]
    fn a_quote_from_the_request_text() {
        let m = loreto();
        let today = d(2026, 3, 1);
        // 4 UMA × 13 m² (12.3 charged whole) × 117.31 = 6,100.12
        let q = quote(&m, "ANU-I-E", "12.3", None, today).unwrap();
        assert_eq!((q.quantity_charged, q.fee, q.date), (dec!(13), Centavos(610_012), today));
        let refused =
            |code: &str, quantity: &str, date: Option<&str>| quote(&m, code, quantity, date, today).unwrap_err();
        assert_eq!(refused("ANU-I-E", "12.3", Some("2026-02-30")), QuoteError::InvalidDate);
        assert_eq!(refused("anu-i-e", "1", None), QuoteError::UnknownTariff("anu-i-e".into()));
        assert_eq!(refused(&"X".repeat(5000), "1", None), QuoteError::UnknownTariff("X".repeat(40)));
        assert_eq!(refused("ANU-I-E", "1e5", None), QuoteError::Quantity(QuantityError::NotANumber));
        assert_eq!(refused("ANU-I-E", "0", None), QuoteError::Quantity(QuantityError::NotPositive));
        assert_eq!(refused("VP-CARGA", "1.5", None), QuoteError::Quantity(QuantityError::Whole));
        // The tariff before the quantity; the quantity before what the law says.
        assert_eq!(refused("NOPE", "abc", None), QuoteError::UnknownTariff("NOPE".into()));
        assert_eq!(refused("BAS-K", "abc", None), QuoteError::Quantity(QuantityError::NotANumber));
        assert_eq!(refused("BAS-K", "1", None), QuoteError::StaffSetsAmount { min: dec!(50), max: dec!(100) });
        assert!(matches!(refused("ALC-HEX-DEPOSITO", "1", None), QuoteError::NotAuthorized(_)));
    }
}
