//! Garbage collection for businesses (the municipality's procedure
//! `basura`: "por aseo, limpieza, recolección, traslado, tratamiento y
//! disposición final de la basura").
//!
//! * **The monthly service**: a registered business receives collection
//!   under one monthly tariff of the procedure (its category, incisos a–f,
//!   and frequency: twice a week or daily). Each month it owes that
//!   tariff's fee for one month, quoted on the month's FIRST day (the UMA
//!   in force that day), due on [`DUE_DAY_OF_MONTH`] of the month.
//! * **Amounts set by staff**: the procedure's one-off range tariffs (the
//!   fines of incisos k and l, and the services of incisos h and j), whose
//!   factor in UMA the treasury sets within the range the law gives; due
//!   [`STAFF_CHARGE_DUE_DAYS`] days after the day they are set.
//!
//! Which tariffs are which is read from the municipality file, never from
//! their codes: a monthly tariff is one of the procedure [`PROCEDURE`] with
//! unit `month` and a fixed factor; a staff-set one is one of the same
//! procedure with unit `item` and a range. (The monthly range tariff of
//! inciso i, private collectors using the landfill, is neither: it is not
//! generated nor set here.)
//!
//! Pure: no I/O, no clock; the store applies what these functions decide.

use chrono::{Datelike, Days, NaiveDate};
use rust_decimal::Decimal;

use crate::domain::discounts::Component;
use crate::domain::money::Centavos;
use crate::domain::municipality::Municipality;
use crate::domain::tariffs::{self, QuoteError, Rate, Tariff, Unit};

/// The procedure (trámite) whose tariff groups hold the garbage tariffs.
pub const PROCEDURE: &str = "basura";

/// The day of the month a monthly charge falls due; a month shorter than
/// that falls due on its last day. At 31 every monthly charge falls due on
/// the LAST day of its month.
pub const DUE_DAY_OF_MONTH: u32 = 31;

/// Days between the day staff set an amount (a fine, a special service)
/// and the day it falls due.
pub const STAFF_CHARGE_DUE_DAYS: u64 = 15;

/// The period prefix of a fine's charge (`MULTA-20261121-1`).
pub const FINE_PERIOD_PREFIX: &str = "MULTA";

/// The period prefix of a special service's charge (`SERV-20261121-1`).
pub const SERVICE_PERIOD_PREFIX: &str = "SERV";

/// The longest reason accepted for an amount set by staff.
pub const MAX_REASON_CHARS: usize = 500;

/// The shortest reason accepted (a few words, not a letter).
pub const MIN_REASON_CHARS: usize = 10;

/// A calendar month (`2026-03`): what `recauda cargos generar basura --mes`
/// takes and the period of its charges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    first: NaiveDate,
}

impl Month {
    /// Reads `YYYY-MM` exactly (a four-digit year from 2000, a two-digit month).
    pub fn parse(s: &str) -> Result<Month, GarbageError> {
        let bad = || GarbageError::BadMonth(s.to_string());
        let b = s.as_bytes();
        let shaped = b.len() == 7 && b[4] == b'-' && b.iter().enumerate().all(|(i, c)| i == 4 || c.is_ascii_digit());
        if !shaped {
            return Err(bad());
        }
        let year: i32 = s[..4].parse().map_err(|_| bad())?;
        let month: u32 = s[5..].parse().map_err(|_| bad())?;
        if year < 2000 {
            return Err(bad());
        }
        NaiveDate::from_ymd_opt(year, month, 1).map(|first| Month { first }).ok_or_else(bad)
    }

    /// The month a day falls in.
    pub fn of(day: NaiveDate) -> Month {
        Month { first: day.with_day(1).expect("every month has a first day") }
    }

    pub fn first_day(self) -> NaiveDate {
        self.first
    }

    pub fn last_day(self) -> NaiveDate {
        let next = self.first.checked_add_months(chrono::Months::new(1)).expect("a date within chrono's range");
        next.pred_opt().expect("a day before the next month's first")
    }

    /// When the month's charge falls due: day [`DUE_DAY_OF_MONTH`], or the
    /// month's last day when it is shorter (the last day, at 31).
    pub fn due_date(self) -> NaiveDate {
        let last = self.last_day();
        last.with_day(DUE_DAY_OF_MONTH.min(last.day())).unwrap_or(last)
    }

    /// The charge's period: `YYYY-MM`.
    pub fn period(self) -> String {
        self.first.format("%Y-%m").to_string()
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.period())
    }
}

/// Why a garbage action was refused (nothing was written).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GarbageError {
    #[error("{0:?} is not a month written YYYY-MM")]
    BadMonth(String),
    #[error("{0:?} is not a date written YYYY-MM-DD")]
    BadDate(String),
    #[error("tariff {code} is not a monthly garbage tariff in force on {on}")]
    NotMonthly { code: String, on: NaiveDate, known: Vec<String> },
    #[error("tariff {code} is not a garbage tariff whose amount staff set, in force on {on}")]
    NotStaffSet { code: String, on: NaiveDate, known: Vec<String> },
    #[error("the factor {0:?} is not a number of UMA")]
    BadFactor(String),
    #[error("the reason must be {MIN_REASON_CHARS} to {MAX_REASON_CHARS} characters")]
    BadReason,
    #[error("tariff {code}: {source}")]
    Quote {
        code: String,
        #[source]
        source: QuoteError,
    },
    #[error("tariff {0}: its group is not in the municipality file")]
    NoGroup(String),
}

impl GarbageError {
    /// The message for the treasury's staff (Spanish).
    pub fn message_es(&self) -> String {
        match self {
            GarbageError::BadMonth(s) => {
                format!("«{s}» no es un mes: escríbalo como AAAA-MM, por ejemplo 2026-03.")
            }
            GarbageError::BadDate(s) => {
                format!("«{s}» no es una fecha: escríbala como AAAA-MM-DD, por ejemplo 2026-03-01.")
            }
            GarbageError::NotMonthly { code, on, known } => format!(
                "«{code}» no es una tarifa mensual de recolección de basura vigente el {}. Tarifas mensuales: {}.",
                on.format("%d/%m/%Y"),
                known.join(", ")
            ),
            GarbageError::NotStaffSet { code, on, known } => format!(
                "«{code}» no es una tarifa de basura con importe que fija el personal vigente el {}. Tarifas: {}.",
                on.format("%d/%m/%Y"),
                known.join(", ")
            ),
            GarbageError::BadFactor(s) => {
                format!("«{s}» no es un número de UMA: escríbalo como 60 o 12.5.")
            }
            GarbageError::BadReason => format!(
                "Escriba el motivo (de {MIN_REASON_CHARS} a {MAX_REASON_CHARS} caracteres): quedará en la bitácora."
            ),
            GarbageError::Quote { source, .. } => source.message_es(),
            GarbageError::NoGroup(code) => format!("La tarifa {code} no tiene grupo en el archivo del municipio."),
        }
    }

    /// The HTTP status a page answers with.
    pub fn status(&self) -> u16 {
        match self {
            GarbageError::NoGroup(_) => 500,
            GarbageError::BadMonth(_) | GarbageError::BadDate(_) | GarbageError::BadFactor(_) => 400,
            _ => 422,
        }
    }
}

/// Reads a date written `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<NaiveDate, GarbageError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| GarbageError::BadDate(s.trim().to_string()))
}

/// Whether `t` belongs to the garbage procedure.
fn of_procedure(m: &Municipality, t: &Tariff) -> bool {
    m.tariff_group(&t.group).is_some_and(|g| g.procedure == PROCEDURE)
}

fn is_monthly(m: &Municipality, t: &Tariff) -> bool {
    of_procedure(m, t) && t.unit == Unit::Month && matches!(t.rate, Rate::Uma(_))
}

fn is_staff_set(m: &Municipality, t: &Tariff) -> bool {
    of_procedure(m, t) && t.unit == Unit::Item && matches!(t.rate, Rate::UmaRange { .. })
}

fn in_force(m: &Municipality, on: NaiveDate, keep: impl Fn(&Municipality, &Tariff) -> bool) -> Vec<&Tariff> {
    tariffs::schedule_on(&m.tariff_schedules, on)
        .map(|s| s.tariffs.iter().filter(|t| keep(m, t)).collect())
        .unwrap_or_default()
}

/// The monthly garbage tariffs in force on `on`, in the file's order.
pub fn monthly_tariffs(m: &Municipality, on: NaiveDate) -> Vec<&Tariff> {
    in_force(m, on, is_monthly)
}

/// The garbage tariffs whose amount staff set (one-off ranges) in force on
/// `on`, in the file's order.
pub fn staff_set_tariffs(m: &Municipality, on: NaiveDate) -> Vec<&Tariff> {
    in_force(m, on, is_staff_set)
}

/// The monthly tariff `code` in force on `on`, or why it is not one.
pub fn monthly_tariff<'m>(m: &'m Municipality, code: &str, on: NaiveDate) -> Result<&'m Tariff, GarbageError> {
    let found = monthly_tariffs(m, on);
    let code = code.trim().to_ascii_uppercase();
    found.iter().find(|t| t.code == code).copied().ok_or_else(|| GarbageError::NotMonthly {
        code,
        on,
        known: found.iter().map(|t| t.code.clone()).collect(),
    })
}

/// What one monthly tariff charges for a month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonthlyFee {
    pub tariff: String,
    /// The concept of its group (`basura`).
    pub concept: String,
    pub fee: Centavos,
}

/// Every monthly tariff's fee for a month: what the generation charges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonthlyFees {
    pub month: Month,
    /// The UMA the fees were quoted with (that of the month's first day).
    pub uma: Decimal,
    pub fees: Vec<MonthlyFee>,
}

impl MonthlyFees {
    pub fn of(&self, tariff: &str) -> Option<&MonthlyFee> {
        self.fees.iter().find(|f| f.tariff == tariff)
    }
}

/// The fee of each monthly tariff for `month`: one month of the tariff,
/// quoted on the month's first day (the schedule and the UMA in force that
/// day) through [`tariffs::quote`].
pub fn monthly_fees(m: &Municipality, month: Month) -> Result<MonthlyFees, GarbageError> {
    let on = month.first_day();
    let no_uma = || GarbageError::Quote { code: String::new(), source: QuoteError::NoUma(on) };
    let uma_table = m.uma_table().map_err(|_| no_uma())?;
    let uma = uma_table.value_on(on).ok_or_else(no_uma)?;
    let mut fees = Vec::new();
    for t in monthly_tariffs(m, on) {
        let q = tariffs::quote(&m.tariff_schedules, &uma_table, &t.code, Decimal::ONE, on, None)
            .map_err(|source| GarbageError::Quote { code: t.code.clone(), source })?;
        let concept = m.tariff_group(&t.group).ok_or_else(|| GarbageError::NoGroup(t.code.clone()))?.concept.clone();
        fees.push(MonthlyFee { tariff: t.code.clone(), concept, fee: q.fee });
    }
    Ok(MonthlyFees { month, uma, fees })
}

/// An amount set by staff, decided: the charge to put on the account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffCharge {
    pub tariff: String,
    pub tariff_name: String,
    /// The concept of its group (`multa_basura` for fines, `basura` for
    /// special services).
    pub concept: String,
    /// Whether the concept is a fine (component `multas`).
    pub fine: bool,
    /// The factor staff set, in UMA (within the tariff's range).
    pub factor: Decimal,
    /// The UMA it was quoted with.
    pub uma: Decimal,
    pub fee: Centavos,
    /// The day it was set, and the day it falls due.
    pub set_on: NaiveDate,
    pub due_date: NaiveDate,
    pub reason: String,
}

impl StaffCharge {
    /// The start of its charge's period (`MULTA-20261121-`); the store
    /// adds the number of that account's day (`…-1`, `…-2`).
    pub fn period_prefix(&self) -> String {
        let prefix = if self.fine { FINE_PERIOD_PREFIX } else { SERVICE_PERIOD_PREFIX };
        format!("{prefix}-{}-", self.set_on.format("%Y%m%d"))
    }
}

/// Reads a factor in UMA as staff type it (`60`, `12.5`, `12,5`).
pub fn parse_factor(s: &str) -> Result<Decimal, GarbageError> {
    let typed = s.trim().replace(',', ".");
    let plain = !typed.is_empty() && typed.len() <= 12 && typed.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    plain.then(|| typed.parse::<Decimal>().ok()).flatten().ok_or_else(|| GarbageError::BadFactor(s.trim().to_string()))
}

/// Decides an amount set by staff on `on`: the tariff must be one of
/// [`staff_set_tariffs`], the factor within its range
/// ([`tariffs::quote`] refuses it outside), the reason given.
pub fn staff_charge(
    m: &Municipality,
    code: &str,
    factor: &str,
    reason: &str,
    on: NaiveDate,
) -> Result<StaffCharge, GarbageError> {
    let code = code.trim().to_ascii_uppercase();
    let allowed = staff_set_tariffs(m, on);
    let Some(t) = allowed.iter().find(|t| t.code == code) else {
        return Err(GarbageError::NotStaffSet { code, on, known: allowed.iter().map(|t| t.code.clone()).collect() });
    };
    let factor = parse_factor(factor)?;
    let reason = reason.trim();
    if !(MIN_REASON_CHARS..=MAX_REASON_CHARS).contains(&reason.chars().count()) {
        return Err(GarbageError::BadReason);
    }
    let uma_table =
        m.uma_table().map_err(|_| GarbageError::Quote { code: code.clone(), source: QuoteError::NoUma(on) })?;
    let q = tariffs::quote(&m.tariff_schedules, &uma_table, &t.code, Decimal::ONE, on, Some(factor))
        .map_err(|source| GarbageError::Quote { code: code.clone(), source })?;
    let concept = m.tariff_group(&t.group).ok_or_else(|| GarbageError::NoGroup(code.clone()))?.concept.clone();
    Ok(StaffCharge {
        tariff: t.code.clone(),
        tariff_name: t.name.clone(),
        fine: m.component_of(&concept) == Component::Multas,
        concept,
        factor: q.factor,
        uma: q.uma.map(|u| u.daily_value).unwrap_or_default(),
        fee: q.fee,
        set_on: on,
        due_date: on + Days::new(STAFF_CHARGE_DUE_DAYS),
        reason: reason.to_string(),
    })
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn loreto() -> Municipality {
        let text = include_str!("../../../config/municipalities/loreto.toml");
        Municipality::from_toml_str(text).unwrap()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn months_are_read_exactly_and_fall_due_on_their_last_day() {
        let march = Month::parse("2026-03").unwrap();
        assert_eq!(
            (march.first_day(), march.last_day(), march.due_date()),
            (d(2026, 3, 1), d(2026, 3, 31), d(2026, 3, 31))
        );
        assert_eq!(Month::parse("2028-02").unwrap().due_date(), d(2028, 2, 29));
        assert_eq!(Month::parse("2026-04").unwrap().due_date(), d(2026, 4, 30));
        assert_eq!(Month::parse("2026-12").unwrap().last_day(), d(2026, 12, 31));
        assert_eq!(march.period(), "2026-03");
        assert_eq!(Month::of(d(2026, 11, 21)).period(), "2026-11");
        for bad in
            ["2026-3", "2026-13", "2026-00", "26-03", "2026/03", "2026-03-01", "", "abcd-ef", "1999-12", "+202-03"]
        {
            assert_eq!(Month::parse(bad), Err(GarbageError::BadMonth(bad.into())), "{bad}");
        }
        assert!(GarbageError::BadMonth("x".into()).message_es().contains("AAAA-MM"));
    }

    #[test]
    fn the_monthly_tariffs_are_the_procedures_fixed_monthly_ones() {
        let m = loreto();
        let codes: Vec<&str> = monthly_tariffs(&m, d(2026, 3, 1)).iter().map(|t| t.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "BAS-A-2S",
                "BAS-A-DIARIO",
                "BAS-B-2S",
                "BAS-B-DIARIO",
                "BAS-C-2S",
                "BAS-C-DIARIO",
                "BAS-D-2S",
                "BAS-D-DIARIO",
                "BAS-E-2S",
                "BAS-E-DIARIO",
                "BAS-F-2S"
            ]
        );
        let staff: Vec<&str> = staff_set_tariffs(&m, d(2026, 3, 1)).iter().map(|t| t.code.as_str()).collect();
        assert_eq!(staff, ["BAS-H", "BAS-J", "BAS-K", "BAS-L"]);
        assert_eq!(monthly_tariff(&m, "bas-c-2s", d(2026, 3, 1)).unwrap().code, "BAS-C-2S");
        for not in ["BAS-I", "BAS-K", "BAS-G-200", "ANU-I-A", "NADA"] {
            let e = monthly_tariff(&m, not, d(2026, 3, 1)).unwrap_err();
            assert!(matches!(&e, GarbageError::NotMonthly { code, .. } if code == not), "{e:?}");
            assert!(e.message_es().contains("BAS-A-2S"), "{}", e.message_es());
        }
    }

    #[test]
    fn a_months_fees_are_quoted_on_its_first_day() {
        let m = loreto();
        // BAS-C-2S = 16 UMA a month: 16 × 117.31 = 1,876.96 (March 2026),
        // 16 × 113.14 = 1,810.24 (January 2026, before February's UMA).
        let march = monthly_fees(&m, Month::parse("2026-03").unwrap()).unwrap();
        assert_eq!((march.uma, march.of("BAS-C-2S").unwrap().fee), (dec!(117.31), Centavos(187_696)));
        assert_eq!(march.of("BAS-C-2S").unwrap().concept, "basura");
        assert_eq!(march.fees.len(), 11);
        let january = monthly_fees(&m, Month::parse("2026-01").unwrap()).unwrap();
        assert_eq!(january.of("BAS-C-2S").unwrap().fee, Centavos(181_024));
        // BAS-E-DIARIO = 70 UMA: 70 × 117.31 = 8,211.70.
        assert_eq!(march.of("BAS-E-DIARIO").unwrap().fee, Centavos(821_170));
    }

    #[test]
    fn staff_set_amounts_stay_within_the_range() {
        let m = loreto();
        let on = d(2026, 11, 21);
        let fine = staff_charge(&m, "BAS-K", "60", "Tiró escombro en el arroyo", on).unwrap();
        // 60 × 117.31 = 7,038.60
        assert_eq!((fine.fee, fine.concept.as_str(), fine.fine), (Centavos(703_860), "multa_basura", true));
        assert_eq!((fine.due_date, fine.period_prefix()), (d(2026, 12, 6), "MULTA-20261121-".to_string()));
        let service = staff_charge(&m, "bas-j", "15,5", "Recolección especial en la marina", on).unwrap();
        // 15.5 × 117.31 = 1,818.305 → 1,818.31
        assert_eq!((service.fee, service.concept.as_str(), service.fine), (Centavos(181_831), "basura", false));
        assert_eq!(service.period_prefix(), "SERV-20261121-");

        let out = staff_charge(&m, "BAS-K", "49.99", "Tiró escombro en el arroyo", on).unwrap_err();
        assert_eq!(out.message_es(), "El importe debe estar entre 50 y 100 UMA.");
        assert_eq!(out.status(), 422);
        assert!(matches!(staff_charge(&m, "BAS-L", "51", "Sacó la basura tarde", on), Err(GarbageError::Quote { .. })));
        assert!(matches!(
            staff_charge(&m, "BAS-C-2S", "10", "No es un rango aquí", on),
            Err(GarbageError::NotStaffSet { .. })
        ));
        assert!(matches!(
            staff_charge(&m, "BAS-I", "20", "Un rango mensual", on),
            Err(GarbageError::NotStaffSet { .. })
        ));
        assert_eq!(
            staff_charge(&m, "BAS-K", "sesenta", "Tiró escombro", on),
            Err(GarbageError::BadFactor("sesenta".into()))
        );
        assert_eq!(staff_charge(&m, "BAS-K", "-60", "Tiró escombro", on), Err(GarbageError::BadFactor("-60".into())));
        assert_eq!(staff_charge(&m, "BAS-K", "60", "corto", on), Err(GarbageError::BadReason));
    }
}
