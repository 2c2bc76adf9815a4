//! Alcohol licences (licencias de funcionamiento de establecimientos con
//! venta de bebidas alcohólicas): what the registry holds, which tariff of
//! the municipality file charges each step of a licence's life, and the
//! rules of the requests a business makes from its licence's page.
//!
//! * A licence has a number, a holder (RFC and name), a giro of the file's
//!   `[[giros]]`, an address and opening hours.
//! * Each fiscal year is renewed (refrendo) under the same number: one live
//!   renewal per licence and year. Unchanged, it is approved as it is filed
//!   and goes straight to payment; a change of giro, address or hours goes
//!   to review first.
//! * Which tariff charges a step is data: the tariff group's `licence`
//!   ([`LicenceUse`]) and the tariff's `giro`. Groups of a licence's own
//!   steps (renewal, change of address, extra hours) are reached only from
//!   its page; new licences are requested with the procedure's form and,
//!   where the group says `requires_cabildo`, approved only once the
//!   Cabildo's agreement is recorded ([`CabildoApproval`]).
//! * A new licence enters the registry when its request is paid (a real
//!   payment: a demonstration one moves no money and registers nothing),
//!   in the transaction that issues its permit: the request's holder (RFC
//!   and name), its tariff's giro, the establishment's address and opening
//!   hours, active. The request then names its licence, and the year of
//!   issue counts as that year's renewal (the request is the licence's
//!   request of that year, like a paid refrendo): the first refrendo due is
//!   the next year's.
//!
//! # Numbering of new licences
//!
//! `ALC-AAAA-NNNN` ([`new_licence_number`]): the series [`LICENCE_SERIES`],
//! the year of issue and the next number of that series and year from the
//! store's counters (the same per-series, per-year counters as folios, so a
//! rolled-back payment takes no number), four digits at least (`ALC-2026-0001`;
//! past 9999 it grows: `ALC-2026-10000`). Imported licences keep their own
//! numbers: when one already holds the next number, the counter moves on to
//! the following one, so the payment never fails and no number is used
//! twice.

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::domain::municipality::Municipality;
use crate::domain::tariffs::{self, Tariff};

string_enum! {
    /// The step of a licence's life a tariff group charges for.
    pub enum LicenceUse {
        /// A new licence (expedición), requested with the procedure's form.
        New = "new",
        /// The yearly renewal (refrendo), from the licence's page.
        Renewal = "renewal",
        /// A change of the establishment's address, from the licence's page.
        AddressChange = "address_change",
        /// Extra hours, Monday to Saturday, per hour, from the licence's page.
        ExtraHours = "extra_hours",
    }
}

impl LicenceUse {
    /// Whether its tariffs are requested only from an existing licence's
    /// page (never from the procedure's generic form).
    pub fn requires_licence(self) -> bool {
        self != LicenceUse::New
    }
}

string_enum! {
    /// Whether a licence may be used.
    pub enum LicenceStatus {
        Active = "active",
        Suspended = "suspended",
        Revoked = "revoked",
    }
}

impl LicenceStatus {
    pub fn label_es(self) -> &'static str {
        match self {
            LicenceStatus::Active => "Vigente",
            LicenceStatus::Suspended => "Suspendida",
            LicenceStatus::Revoked => "Revocada",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            LicenceStatus::Active => "In force",
            LicenceStatus::Suspended => "Suspended",
            LicenceStatus::Revoked => "Revoked",
        }
    }
}

/// Longest licence number.
pub const MAX_LICENCE_NUMBER_LEN: usize = 30;

/// The counter series of the licences the portal registers (`ALC-2026-0001`).
/// A valid folio series, reserved: no till may take it.
pub const LICENCE_SERIES: &str = "ALC";

/// The number of the `n`th licence registered in `year`: `ALC-2026-0001`.
pub fn new_licence_number(year: i32, n: i64) -> String {
    format!("{LICENCE_SERIES}-{year}-{n:04}")
}

/// A licence number as typed: trimmed, uppercased; 1 to
/// [`MAX_LICENCE_NUMBER_LEN`] ASCII letters, digits, `-` or `/`, starting
/// with a letter or digit.
pub fn parse_licence_number(s: &str) -> Option<String> {
    let n = s.trim().to_ascii_uppercase();
    let ok = (1..=MAX_LICENCE_NUMBER_LEN).contains(&n.len())
        && n.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'/')
        && n.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
    ok.then_some(n)
}

/// What a request changes in its licence once its permit is issued.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenceChange {
    /// The new giro's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub giro: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<String>,
}

impl LicenceChange {
    pub fn is_empty(&self) -> bool {
        self.giro.is_none() && self.address.is_none() && self.hours.is_none()
    }
}

/// The tariff in force on `on` that charges `step` for a licence of `giro`:
/// the one whose group's `licence` is `step` and whose `giro` is `giro`.
pub fn licence_tariff<'a>(m: &'a Municipality, step: LicenceUse, giro: &str, on: NaiveDate) -> Option<&'a Tariff> {
    let schedule = tariffs::schedule_on(&m.tariff_schedules, on)?;
    schedule
        .tariffs
        .iter()
        .find(|t| t.giro.as_deref() == Some(giro) && m.tariff_group(&t.group).and_then(|g| g.licence) == Some(step))
}

/// The days a renewal for `year` covers: 1 January to 31 December.
pub fn fiscal_year(year: i32) -> Option<(NaiveDate, NaiveDate)> {
    Some((NaiveDate::from_ymd_opt(year, 1, 1)?, NaiveDate::from_ymd_opt(year, 12, 31)?))
}

/// Extra hours are authorised Monday to Saturday only.
pub fn extra_hours_allowed_on(day: NaiveDate) -> bool {
    day.weekday() != Weekday::Sun
}

/// The Cabildo's approval of a new licence, as the revisor records it:
/// the session's date and the agreement's number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CabildoApproval {
    pub session_on: NaiveDate,
    pub agreement: String,
}

/// Longest agreement number.
pub const MAX_AGREEMENT_LEN: usize = 60;

impl CabildoApproval {
    /// Reads the approve form's two fields (`session` as AAAA-MM-DD, not
    /// after `today`); the error is the Spanish message for the revisor.
    pub fn parse(session: &str, agreement: &str, today: NaiveDate) -> Result<CabildoApproval, String> {
        let (session, agreement) = (session.trim(), agreement.trim());
        if session.is_empty() || agreement.is_empty() {
            return Err("Una licencia nueva requiere la aprobación del H. Cabildo: registre la fecha de la sesión y \
                        el número de acuerdo antes de aprobar."
                .into());
        }
        let session_on = NaiveDate::parse_from_str(session, "%Y-%m-%d")
            .map_err(|_| "Escriba la fecha de la sesión de Cabildo como AAAA-MM-DD.".to_string())?;
        if session_on > today {
            return Err("La fecha de la sesión de Cabildo no puede ser posterior a hoy.".into());
        }
        let bad = agreement.chars().count() > MAX_AGREEMENT_LEN || agreement.chars().any(char::is_control);
        if bad {
            return Err(format!("El número de acuerdo de Cabildo lleva a lo más {MAX_AGREEMENT_LEN} caracteres."));
        }
        Ok(CabildoApproval { session_on, agreement: agreement.to_string() })
    }

    /// How the approval reads in the timeline and the permit's conditions.
    pub fn text_es(&self) -> String {
        format!(
            "Aprobada por el H. Cabildo en sesión del {}, acuerdo {}.",
            self.session_on.format("%d/%m/%Y"),
            self.agreement
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn licence_numbers() {
        assert_eq!(parse_licence_number(" alc-2019-0042 "), Some("ALC-2019-0042".into()));
        assert_eq!(parse_licence_number("123/2020"), Some("123/2020".into()));
        for bad in ["", "-12", "ALC 12", "ALC-ñ", &"A".repeat(31)] {
            assert_eq!(parse_licence_number(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn new_licences_are_numbered_by_year() {
        assert_eq!(new_licence_number(2026, 1), "ALC-2026-0001");
        assert_eq!(new_licence_number(2026, 42), "ALC-2026-0042");
        assert_eq!(new_licence_number(2027, 10_000), "ALC-2027-10000");
        // Every number it makes is one a business can type at /licencias.
        let n = new_licence_number(2026, 7);
        assert_eq!(parse_licence_number(&n.to_lowercase()), Some(n));
    }

    #[test]
    fn extra_hours_are_monday_to_saturday() {
        // 2026-11-22 is a Sunday.
        assert!(!extra_hours_allowed_on(d(2026, 11, 22)));
        assert!(extra_hours_allowed_on(d(2026, 11, 23)));
        assert!(extra_hours_allowed_on(d(2026, 11, 28)));
        assert_eq!(fiscal_year(2026), Some((d(2026, 1, 1), d(2026, 12, 31))));
    }

    #[test]
    fn the_cabildo_approval_needs_both_fields() {
        let today = d(2026, 11, 21);
        assert!(CabildoApproval::parse("", "45/2026", today).unwrap_err().contains("H. Cabildo"));
        assert!(CabildoApproval::parse("2026-11-12", " ", today).is_err());
        assert!(CabildoApproval::parse("12/11/2026", "45/2026", today).unwrap_err().contains("AAAA-MM-DD"));
        assert!(CabildoApproval::parse("2026-11-22", "45/2026", today).unwrap_err().contains("posterior"));
        let a = CabildoApproval::parse("2026-11-12", " 45/2026 ", today).unwrap();
        assert_eq!(a.text_es(), "Aprobada por el H. Cabildo en sesión del 12/11/2026, acuerdo 45/2026.");
    }

    #[test]
    fn a_change_is_empty_until_something_changes() {
        assert!(LicenceChange::default().is_empty());
        let c = LicenceChange { address: Some("Calle Madero 5".into()), ..LicenceChange::default() };
        assert!(!c.is_empty());
        assert_eq!(serde_json::to_string(&c).unwrap(), r#"{"address":"Calle Madero 5"}"#);
    }
}
