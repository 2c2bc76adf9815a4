//! Garbage collection for businesses (the municipality's procedure
//! `basura`: "por aseo, limpieza, recolección, traslado, tratamiento y
//! disposición final de la basura").
//!
//! * **The monthly service**: a registered business receives collection
//!   under one monthly tariff of the procedure. Each month it owes that
//!   tariff's fee for one month, quoted on the month's FIRST day (the UMA
//!   in force that day), due on [`DUE_DAY_OF_MONTH`] of the month. A
//!   monthly tariff either has a fixed factor (its category, incisos a–f,
//!   and frequency: twice a week or daily), or a range (inciso i: private
//!   companies that collect garbage for profit and use the municipal
//!   landfill, 15–100 UMA a month): then the treasury sets the service's
//!   monthly factor within the range when it registers the service
//!   ([`service_terms`]), and every month charges that factor × one month
//!   × the UMA of the month's first day, rounded once.
//! * **Services charged per service** (inciso g: dance and party halls, by
//!   their size): a fixed factor per service; the treasury charges N
//!   services at once ([`per_service_charge`]), at the UMA of the day.
//! * **Amounts set by staff**: the procedure's one-off range tariffs (the
//!   fines of incisos k and l, and the services of incisos h and j), whose
//!   factor in UMA the treasury sets within the range the law gives.
//!
//! Per-service charges and amounts set by staff are due
//! [`STAFF_CHARGE_DUE_DAYS`] days after the day they are set.
//!
//! Which tariffs are which is read from the municipality file, never from
//! their codes. Of the procedure [`PROCEDURE`]'s tariffs:
//!
//! | unit    | rate            | kind                                        |
//! |---------|-----------------|---------------------------------------------|
//! | `month` | fixed factor    | monthly service                             |
//! | `month` | range           | monthly service, factor set at registration |
//! | `item`  | fixed factor    | charged per service, N at a time            |
//! | `item`  | range           | amount set by staff (fine, special service) |
//!
//! Registering a service under a range tariff without a factor, or under a
//! fixed one with a factor, is refused.
//!
//! Pure: no I/O, no clock; the store applies what these functions decide.

use chrono::{Datelike, Days, NaiveDate};
use rust_decimal::Decimal;

use crate::domain::discounts::Component;
use crate::domain::money::Centavos;
use crate::domain::municipality::Municipality;
use crate::domain::tariffs::{self, QuoteError, Rate, Tariff, TariffQuote, TariffSchedule, Unit};
use crate::domain::uma::UmaTable;

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

/// The most services charged at once ([`per_service_charge`]).
pub const MAX_SERVICES: u32 = 9_999;

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
    #[error("tariff {code} is not a garbage tariff charged per service, in force on {on}")]
    NotPerService { code: String, on: NaiveDate, known: Vec<String> },
    #[error("the factor {0:?} is not a number of UMA")]
    BadFactor(String),
    #[error("tariff {code} is a range: its service needs a monthly factor between {min} and {max} UMA")]
    FactorRequired { code: String, min: Decimal, max: Decimal },
    #[error("tariff {code} has a fixed factor: its service takes none")]
    FactorNotTaken { code: String, fixed: Decimal },
    #[error("tariff {code}: the monthly factor must be between {min} and {max} UMA")]
    FactorOutOfRange { code: String, min: Decimal, max: Decimal },
    #[error("{0:?} is not a whole number of services from 1 to {MAX_SERVICES}")]
    BadQuantity(String),
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
            GarbageError::NotPerService { code, on, known } => format!(
                "«{code}» no es una tarifa de basura que se cobre por servicio vigente el {}. Tarifas: {}.",
                on.format("%d/%m/%Y"),
                known.join(", ")
            ),
            GarbageError::BadFactor(s) => {
                format!("«{s}» no es un número de UMA: escríbalo como 60 o 12.5.")
            }
            GarbageError::FactorRequired { code, min, max } => format!(
                "La tarifa {code} tiene un rango: escriba el factor mensual del servicio, entre {} y {} UMA.",
                min.normalize(),
                max.normalize()
            ),
            GarbageError::FactorNotTaken { code, fixed } => format!(
                "La tarifa {code} tiene un factor fijo de {} UMA al mes: deje vacío el factor.",
                fixed.normalize()
            ),
            GarbageError::FactorOutOfRange { code, min, max } => format!(
                "El factor mensual de la tarifa {code} debe estar entre {} y {} UMA.",
                min.normalize(),
                max.normalize()
            ),
            GarbageError::BadQuantity(s) => format!(
                "«{s}» no es un número de servicios: escriba un número entero de 1 a {MAX_SERVICES}, por ejemplo 2."
            ),
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
            GarbageError::BadMonth(_)
            | GarbageError::BadDate(_)
            | GarbageError::BadFactor(_)
            | GarbageError::BadQuantity(_) => 400,
            _ => 422,
        }
    }

    /// The form field the refusal is about (`tarifa`, `factor`,
    /// `cantidad`, `motivo`, `desde`), for the page's error summary to
    /// link to; `None` when it is about no one field.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            GarbageError::BadMonth(_) | GarbageError::NoGroup(_) => None,
            GarbageError::BadDate(_) => Some("desde"),
            GarbageError::NotMonthly { .. } | GarbageError::NotStaffSet { .. } | GarbageError::NotPerService { .. } => {
                Some("tarifa")
            }
            GarbageError::BadFactor(_)
            | GarbageError::FactorRequired { .. }
            | GarbageError::FactorNotTaken { .. }
            | GarbageError::FactorOutOfRange { .. } => Some("factor"),
            GarbageError::BadQuantity(_) => Some("cantidad"),
            GarbageError::BadReason => Some("motivo"),
            GarbageError::Quote { source, .. } => match source {
                QuoteError::OutOfRange { .. } | QuoteError::NotARange | QuoteError::StaffSetsAmount { .. } => {
                    Some("factor")
                }
                QuoteError::Quantity(_) => Some("cantidad"),
                _ => None,
            },
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

/// A monthly tariff: unit `month`, a fixed factor or a range (whose
/// factor each service's registration sets).
fn is_monthly(m: &Municipality, t: &Tariff) -> bool {
    of_procedure(m, t) && t.unit == Unit::Month && matches!(t.rate, Rate::Uma(_) | Rate::UmaRange { .. })
}

fn is_staff_set(m: &Municipality, t: &Tariff) -> bool {
    of_procedure(m, t) && t.unit == Unit::Item && matches!(t.rate, Rate::UmaRange { .. })
}

fn is_per_service(m: &Municipality, t: &Tariff) -> bool {
    of_procedure(m, t) && t.unit == Unit::Item && matches!(t.rate, Rate::Uma(_))
}

fn in_force(m: &Municipality, on: NaiveDate, keep: impl Fn(&Municipality, &Tariff) -> bool) -> Vec<&Tariff> {
    tariffs::schedule_on(&m.tariff_schedules, on)
        .map(|s| s.tariffs.iter().filter(|t| keep(m, t)).collect())
        .unwrap_or_default()
}

/// The monthly garbage tariffs in force on `on` (fixed and range), in the
/// file's order.
pub fn monthly_tariffs(m: &Municipality, on: NaiveDate) -> Vec<&Tariff> {
    in_force(m, on, is_monthly)
}

/// The garbage tariffs whose amount staff set (one-off ranges) in force on
/// `on`, in the file's order.
pub fn staff_set_tariffs(m: &Municipality, on: NaiveDate) -> Vec<&Tariff> {
    in_force(m, on, is_staff_set)
}

/// The garbage tariffs charged per service at a fixed factor (inciso g),
/// in force on `on`, in the file's order.
pub fn per_service_tariffs(m: &Municipality, on: NaiveDate) -> Vec<&Tariff> {
    in_force(m, on, is_per_service)
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

/// A service's registration, decided: its monthly tariff and, for a range
/// tariff, the monthly factor the treasury set within the range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceTerms {
    pub tariff: String,
    pub tariff_name: String,
    /// The monthly factor in UMA of a range tariff; `None` under a fixed one.
    pub factor: Option<Decimal>,
    /// Why (optional; e.g. what sets the factor): kept with the service and
    /// in the audit trail.
    pub reason: Option<String>,
}

/// Decides a service's registration on `on` under `code` (one of
/// [`monthly_tariffs`]): a range tariff needs a factor within its range,
/// a fixed one takes none (`factor` empty). The reason is optional; when
/// given, it is [`MIN_REASON_CHARS`] to [`MAX_REASON_CHARS`] characters.
pub fn service_terms(
    m: &Municipality,
    code: &str,
    factor: &str,
    reason: &str,
    on: NaiveDate,
) -> Result<ServiceTerms, GarbageError> {
    let t = monthly_tariff(m, code, on)?;
    let typed = factor.trim();
    let factor = match &t.rate {
        Rate::UmaRange { min, max } if typed.is_empty() => {
            return Err(GarbageError::FactorRequired { code: t.code.clone(), min: *min, max: *max })
        }
        Rate::UmaRange { min, max } => {
            let f = parse_factor(typed)?;
            if f < *min || f > *max {
                return Err(GarbageError::FactorOutOfRange { code: t.code.clone(), min: *min, max: *max });
            }
            Some(f.normalize())
        }
        Rate::Uma(fixed) if !typed.is_empty() => {
            return Err(GarbageError::FactorNotTaken { code: t.code.clone(), fixed: *fixed })
        }
        _ => None,
    };
    let reason = reason.trim();
    if !reason.is_empty() && !(MIN_REASON_CHARS..=MAX_REASON_CHARS).contains(&reason.chars().count()) {
        return Err(GarbageError::BadReason);
    }
    Ok(ServiceTerms {
        tariff: t.code.clone(),
        tariff_name: t.name.clone(),
        factor,
        reason: (!reason.is_empty()).then(|| reason.to_string()),
    })
}

/// One month of a service under `tariff` (with its factor, for a range
/// tariff) quoted on `on`: what it would owe a month at that day's UMA.
pub fn service_quote(
    m: &Municipality,
    tariff: &str,
    factor: Option<Decimal>,
    on: NaiveDate,
) -> Result<TariffQuote, GarbageError> {
    let quote_err = |source| GarbageError::Quote { code: tariff.to_string(), source };
    let uma_table = m.uma_table().map_err(|_| quote_err(QuoteError::NoUma(on)))?;
    tariffs::quote(&m.tariff_schedules, &uma_table, tariff, Decimal::ONE, on, factor).map_err(quote_err)
}

/// What one monthly tariff charges for a month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonthlyFee {
    pub tariff: String,
    /// The concept of its group (`basura`).
    pub concept: String,
    pub fee: Centavos,
}

/// A monthly range tariff: each service's fee is its own factor's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonthlyRange {
    pub tariff: String,
    /// The concept of its group (`basura`).
    pub concept: String,
    pub min: Decimal,
    pub max: Decimal,
}

/// Every monthly tariff's fee for a month: what the generation charges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonthlyFees {
    pub month: Month,
    /// The UMA the fees were quoted with (that of the month's first day).
    pub uma: Decimal,
    /// The fixed monthly tariffs' fees.
    pub fees: Vec<MonthlyFee>,
    /// The range monthly tariffs, whose fee is quoted with each service's
    /// factor ([`MonthlyFees::fee_for`]).
    pub ranges: Vec<MonthlyRange>,
    /// The schedule in force on the month's first day (none or one) and
    /// the UMA table, to quote a range tariff with a service's factor.
    schedule: Vec<TariffSchedule>,
    uma_table: UmaTable,
}

impl MonthlyFees {
    /// The fee of a FIXED monthly tariff.
    pub fn of(&self, tariff: &str) -> Option<&MonthlyFee> {
        self.fees.iter().find(|f| f.tariff == tariff)
    }

    /// What a service under `tariff` owes for the month: a fixed tariff's
    /// fee (`factor` `None`), or `factor` × one month × the UMA of the
    /// month's first day for a range tariff, through [`tariffs::quote`]
    /// (one rounding). `None` when the pair does not fit the month's
    /// tariffs: not a monthly tariff, a range without a factor, a fixed
    /// tariff with one, or a factor outside the range.
    pub fn fee_for(&self, tariff: &str, factor: Option<Decimal>) -> Option<MonthlyFee> {
        let Some(factor) = factor else { return self.of(tariff).cloned() };
        let range = self.ranges.iter().find(|r| r.tariff == tariff)?;
        let on = self.month.first_day();
        let q = tariffs::quote(&self.schedule, &self.uma_table, tariff, Decimal::ONE, on, Some(factor)).ok()?;
        Some(MonthlyFee { tariff: range.tariff.clone(), concept: range.concept.clone(), fee: q.fee })
    }
}

/// The fee of each fixed monthly tariff for `month`: one month of the
/// tariff, quoted on the month's first day (the schedule and the UMA in
/// force that day) through [`tariffs::quote`]; and the range monthly
/// tariffs of that day, quoted per service by [`MonthlyFees::fee_for`].
pub fn monthly_fees(m: &Municipality, month: Month) -> Result<MonthlyFees, GarbageError> {
    let on = month.first_day();
    let no_uma = || GarbageError::Quote { code: String::new(), source: QuoteError::NoUma(on) };
    let uma_table = m.uma_table().map_err(|_| no_uma())?;
    let uma = uma_table.value_on(on).ok_or_else(no_uma)?;
    let (mut fees, mut ranges) = (Vec::new(), Vec::new());
    for t in monthly_tariffs(m, on) {
        let concept = m.tariff_group(&t.group).ok_or_else(|| GarbageError::NoGroup(t.code.clone()))?.concept.clone();
        if let Rate::UmaRange { min, max } = t.rate {
            ranges.push(MonthlyRange { tariff: t.code.clone(), concept, min, max });
            continue;
        }
        let q = tariffs::quote(&m.tariff_schedules, &uma_table, &t.code, Decimal::ONE, on, None)
            .map_err(|source| GarbageError::Quote { code: t.code.clone(), source })?;
        fees.push(MonthlyFee { tariff: t.code.clone(), concept, fee: q.fee });
    }
    let schedule = tariffs::schedule_on(&m.tariff_schedules, on).cloned().into_iter().collect();
    Ok(MonthlyFees { month, uma, fees, ranges, schedule, uma_table })
}

/// A charge staff put on an account, decided: an amount set within a range
/// tariff ([`staff_charge`]) or N services charged per service
/// ([`per_service_charge`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffCharge {
    pub tariff: String,
    pub tariff_name: String,
    /// The concept of its group (`multa_basura` for fines, `basura` for
    /// special services and services charged per service).
    pub concept: String,
    /// Whether the concept is a fine (component `multas`).
    pub fine: bool,
    /// The factor in UMA per unit: the one staff set within the tariff's
    /// range, or the fixed one of a tariff charged per service.
    pub factor: Decimal,
    /// How many services (1 for an amount set within a range).
    pub quantity: u32,
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

/// Reads a number of services as staff type it: a whole number from 1 to
/// [`MAX_SERVICES`] (`2`, not `2.0`, `0` or `dos`).
pub fn parse_services(s: &str) -> Result<u32, GarbageError> {
    let typed = s.trim();
    let digits = !typed.is_empty() && typed.len() <= 4 && typed.bytes().all(|b| b.is_ascii_digit());
    digits
        .then(|| typed.parse::<u32>().ok())
        .flatten()
        .filter(|n| (1..=MAX_SERVICES).contains(n))
        .ok_or_else(|| GarbageError::BadQuantity(typed.to_string()))
}

fn checked_reason(reason: &str) -> Result<&str, GarbageError> {
    let reason = reason.trim();
    if !(MIN_REASON_CHARS..=MAX_REASON_CHARS).contains(&reason.chars().count()) {
        return Err(GarbageError::BadReason);
    }
    Ok(reason)
}

/// Quotes `quantity` of `t` on `on` (with `factor` for a range) through
/// [`tariffs::quote`]: the charge to put on the account.
fn decided_charge(
    m: &Municipality,
    t: &Tariff,
    quantity: u32,
    factor: Option<Decimal>,
    reason: &str,
    on: NaiveDate,
) -> Result<StaffCharge, GarbageError> {
    let code = &t.code;
    let uma_table =
        m.uma_table().map_err(|_| GarbageError::Quote { code: code.clone(), source: QuoteError::NoUma(on) })?;
    let q = tariffs::quote(&m.tariff_schedules, &uma_table, code, Decimal::from(quantity), on, factor)
        .map_err(|source| GarbageError::Quote { code: code.clone(), source })?;
    let concept = m.tariff_group(&t.group).ok_or_else(|| GarbageError::NoGroup(code.clone()))?.concept.clone();
    Ok(StaffCharge {
        tariff: code.clone(),
        tariff_name: t.name.clone(),
        fine: m.component_of(&concept) == Component::Multas,
        concept,
        factor: q.factor,
        quantity,
        uma: q.uma.map(|u| u.daily_value).unwrap_or_default(),
        fee: q.fee,
        set_on: on,
        due_date: on + Days::new(STAFF_CHARGE_DUE_DAYS),
        reason: reason.to_string(),
    })
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
    let reason = checked_reason(reason)?;
    decided_charge(m, t, 1, Some(factor), reason, on)
}

/// Decides `quantity` services of a tariff charged per service (one of
/// [`per_service_tariffs`]) on `on`: its fixed factor × the number of
/// services × the UMA of the day, rounded once; the reason (e.g. the
/// event's date) given.
pub fn per_service_charge(
    m: &Municipality,
    code: &str,
    quantity: &str,
    reason: &str,
    on: NaiveDate,
) -> Result<StaffCharge, GarbageError> {
    let code = code.trim().to_ascii_uppercase();
    let allowed = per_service_tariffs(m, on);
    let Some(t) = allowed.iter().find(|t| t.code == code) else {
        return Err(GarbageError::NotPerService { code, on, known: allowed.iter().map(|t| t.code.clone()).collect() });
    };
    let quantity = parse_services(quantity)?;
    let reason = checked_reason(reason)?;
    decided_charge(m, t, quantity, None, reason, on)
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
    fn the_monthly_tariffs_are_the_procedures_monthly_ones_fixed_or_ranged() {
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
                "BAS-F-2S",
                "BAS-I"
            ]
        );
        let staff: Vec<&str> = staff_set_tariffs(&m, d(2026, 3, 1)).iter().map(|t| t.code.as_str()).collect();
        assert_eq!(staff, ["BAS-H", "BAS-J", "BAS-K", "BAS-L"]);
        let per_service: Vec<&str> = per_service_tariffs(&m, d(2026, 3, 1)).iter().map(|t| t.code.as_str()).collect();
        assert_eq!(per_service, ["BAS-G-200", "BAS-G-300", "BAS-G-500"]);
        assert_eq!(monthly_tariff(&m, "bas-c-2s", d(2026, 3, 1)).unwrap().code, "BAS-C-2S");
        assert_eq!(monthly_tariff(&m, "bas-i", d(2026, 3, 1)).unwrap().code, "BAS-I");
        for not in ["BAS-K", "BAS-G-200", "ANU-I-A", "NADA"] {
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
        assert_eq!(march.ranges.iter().map(|r| r.tariff.as_str()).collect::<Vec<_>>(), ["BAS-I"]);
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

    #[test]
    fn a_range_monthly_service_needs_its_factor_within_the_range() {
        let m = loreto();
        let on = d(2026, 3, 1);
        let terms = service_terms(&m, "bas-i", " 40 ", "Recolectora privada, 12 toneladas al mes", on).unwrap();
        assert_eq!(
            (terms.tariff.as_str(), terms.factor, terms.reason.as_deref()),
            ("BAS-I", Some(dec!(40)), Some("Recolectora privada, 12 toneladas al mes"))
        );
        assert_eq!(service_terms(&m, "BAS-I", "15", "", on).unwrap().factor, Some(dec!(15)));
        assert_eq!(
            service_terms(&m, "BAS-I", "100,0", " ", on).unwrap(),
            ServiceTerms {
                tariff: "BAS-I".into(),
                tariff_name: terms.tariff_name.clone(),
                factor: Some(dec!(100)),
                reason: None,
            }
        );
        let out = service_terms(&m, "BAS-I", "14.99", "", on).unwrap_err();
        assert_eq!(out.message_es(), "El factor mensual de la tarifa BAS-I debe estar entre 15 y 100 UMA.");
        assert_eq!((out.status(), out.field()), (422, Some("factor")));
        assert!(matches!(service_terms(&m, "BAS-I", "100.5", "", on), Err(GarbageError::FactorOutOfRange { .. })));
        let missing = service_terms(&m, "BAS-I", "", "", on).unwrap_err();
        assert!(matches!(missing, GarbageError::FactorRequired { .. }), "{missing:?}");
        assert!(missing.message_es().contains("entre 15 y 100 UMA"), "{}", missing.message_es());
        assert_eq!(service_terms(&m, "BAS-I", "cuarenta", "", on), Err(GarbageError::BadFactor("cuarenta".into())));
        // A fixed tariff takes no factor.
        assert_eq!(service_terms(&m, "BAS-C-2S", "", "", on).unwrap().factor, None);
        let fixed = service_terms(&m, "BAS-C-2S", "16", "", on).unwrap_err();
        assert_eq!(fixed, GarbageError::FactorNotTaken { code: "BAS-C-2S".into(), fixed: dec!(16) });
        assert!(fixed.message_es().contains("factor fijo de 16 UMA"), "{}", fixed.message_es());
        // A reason, when given, is a few words.
        assert_eq!(service_terms(&m, "BAS-I", "40", "corto", on), Err(GarbageError::BadReason));
        assert!(matches!(service_terms(&m, "BAS-K", "60", "", on), Err(GarbageError::NotMonthly { .. })));
    }

    #[test]
    fn a_range_monthly_service_is_charged_its_own_factor_at_the_first_days_uma() {
        let m = loreto();
        let march = monthly_fees(&m, Month::parse("2026-03").unwrap()).unwrap();
        // 40 × 1 month × 117.31 = 4,692.40
        let fee = march.fee_for("BAS-I", Some(dec!(40))).unwrap();
        assert_eq!((fee.tariff.as_str(), fee.concept.as_str(), fee.fee), ("BAS-I", "basura", Centavos(469_240)));
        // 15.5 × 117.31 = 1,818.305 → 1,818.31 (one rounding)
        assert_eq!(march.fee_for("BAS-I", Some(dec!(15.5))).unwrap().fee, Centavos(181_831));
        // January 2026, before February's UMA: 40 × 113.14 = 4,525.60
        let january = monthly_fees(&m, Month::parse("2026-01").unwrap()).unwrap();
        assert_eq!(january.fee_for("BAS-I", Some(dec!(40))).unwrap().fee, Centavos(452_560));
        // What does not fit the month's tariffs has no fee.
        assert_eq!(march.fee_for("BAS-I", None), None);
        assert_eq!(march.fee_for("BAS-I", Some(dec!(101))), None);
        assert_eq!(march.fee_for("BAS-C-2S", Some(dec!(16))), None);
        assert_eq!(march.fee_for("BAS-K", Some(dec!(60))), None);
        assert_eq!(march.fee_for("BAS-C-2S", None).unwrap().fee, Centavos(187_696));
        // What a service would owe a month at a day's UMA.
        assert_eq!(service_quote(&m, "BAS-I", Some(dec!(40)), d(2026, 11, 21)).unwrap().fee, Centavos(469_240));
    }

    #[test]
    fn services_charged_per_service_are_their_fixed_factor_times_the_count() {
        let m = loreto();
        let on = d(2026, 11, 21);
        let hall = per_service_charge(&m, "bas-g-300", " 2 ", "Fiestas del 28 y 29 de noviembre", on).unwrap();
        // 2 × 20 × 117.31 = 4,692.40
        assert_eq!((hall.fee, hall.factor, hall.quantity), (Centavos(469_240), dec!(20), 2));
        assert_eq!(
            (hall.concept.as_str(), hall.fine, hall.period_prefix()),
            ("basura", false, "SERV-20261121-".into())
        );
        assert_eq!(hall.due_date, d(2026, 12, 6));
        // 1 × 30 × 117.31 = 3,519.30
        assert_eq!(
            per_service_charge(&m, "BAS-G-500", "1", "Boda del 5 de diciembre", on).unwrap().fee,
            Centavos(351_930)
        );
        for bad in ["0", "1.5", "2.0", "dos", "", "-1", "10000", "+3"] {
            let e = per_service_charge(&m, "BAS-G-300", bad, "Fiesta del 28 de noviembre", on).unwrap_err();
            assert_eq!(e, GarbageError::BadQuantity(bad.into()), "{bad}");
            assert_eq!((e.status(), e.field()), (400, Some("cantidad")));
        }
        assert_eq!(per_service_charge(&m, "BAS-G-300", "9999", "Temporada de fiestas", on).unwrap().quantity, 9999);
        for not in ["BAS-K", "BAS-I", "BAS-C-2S", "NADA"] {
            let e = per_service_charge(&m, not, "1", "Fiesta del 28 de noviembre", on).unwrap_err();
            assert!(matches!(&e, GarbageError::NotPerService { code, .. } if code == not), "{e:?}");
            assert!(e.message_es().contains("BAS-G-200, BAS-G-300, BAS-G-500"), "{}", e.message_es());
        }
        assert_eq!(per_service_charge(&m, "BAS-G-200", "1", "corto", on), Err(GarbageError::BadReason));
    }
}
