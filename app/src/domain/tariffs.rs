//! Tariffs of the municipality's procedures (permits, licences, services),
//! written in the municipality file as data, in dated schedules.
//!
//! The Ley de Ingresos / Ley de Hacienda writes fees in "salarios mínimos",
//! applied today in UMA. A tariff says what it charges for (its [`Unit`])
//! and how much per unit (its [`Rate`]): a factor in UMA, a range in UMA
//! within which staff set the amount, a percentage of declared ticket
//! sales, or "no se autoriza".
//!
//! **The fee** = factor × quantity charged × the UMA in force on the quote's
//! date, rounded once by the project's
//! [`ROUNDING_RULE`](crate::domain::money::ROUNDING_RULE). A fraction of a
//! square or linear metre is charged as a whole one; days, months, hours and
//! items are whole numbers.
//!
//! **Versions**: each [`TariffSchedule`] has the day it takes effect. A new
//! law adds a schedule; an old one is never edited. A quote on a day uses
//! the latest schedule in force that day, and the UMA of that day.

use std::collections::HashSet;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::licences::LicenceUse;
use crate::domain::money::Centavos;
use crate::domain::uma::UmaTable;

/// Largest quantity accepted in a quote (a million units, or a hundred
/// million pesos of declared ticket sales).
const MAX_QUANTITY: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);
const MAX_SALES: Decimal = Decimal::from_parts(100_000_000, 0, 0, false, 0);

/// Longest quantity text [`parse_quantity`] reads: at most 20 characters
/// always fit a [`Decimal`] exactly (28 significant digits), so a long input
/// is refused before it is parsed, never rounded.
pub const MAX_QUANTITY_CHARS: usize = 20;

/// A quantity as the API takes it, a decimal string: ASCII digits with an
/// optional point followed by more digits (`"12"`, `"12.3"`, `"0.25"`). No
/// sign, exponent, spaces, separators or other digits; at most
/// [`MAX_QUANTITY_CHARS`] characters. Whether the value suits the tariff's
/// unit is [`Unit::charged`]'s business.
pub fn parse_quantity(text: &str) -> Result<Decimal, QuantityError> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let shaped = match text.split_once('.') {
        Some((whole, fraction)) => digits(whole) && digits(fraction),
        None => digits(text),
    };
    if !shaped || text.len() > MAX_QUANTITY_CHARS {
        return Err(QuantityError::NotANumber);
    }
    text.parse::<Decimal>().map_err(|_| QuantityError::NotANumber)
}

string_enum! {
    /// What a tariff's quantity counts.
    pub enum Unit {
        /// Per day of an event.
        EventDay = "event_day",
        /// Per square metre or fraction (eventual adverts).
        SquareMetre = "square_metre",
        /// Per square metre or fraction, a year (permanent adverts).
        SquareMetreYear = "square_metre_year",
        /// Per linear metre, a year (exclusive parking, taxi stands).
        LinearMetreYear = "linear_metre_year",
        /// Per month.
        Month = "month",
        /// Per day.
        Day = "day",
        /// Per item: a party, a promotion, an inflatable, a device, a service.
        Item = "item",
        /// Per item, a year (an advert on a phone booth).
        ItemYear = "item_year",
        /// Per hour (extra hours of an alcohol licence).
        Hour = "hour",
        /// A percentage of the declared ticket sales, in pesos.
        PercentOfSales = "percent_of_sales",
    }
}

impl Unit {
    /// How the unit reads after a quantity ("por m² o fracción, al año").
    pub fn label_es(self) -> &'static str {
        match self {
            Unit::EventDay => "por día de evento",
            Unit::SquareMetre => "por m² o fracción",
            Unit::SquareMetreYear => "por m² o fracción, al año",
            Unit::LinearMetreYear => "por metro lineal, al año",
            Unit::Month => "por mes",
            Unit::Day => "por día",
            Unit::Item => "por cada uno",
            Unit::ItemYear => "por cada uno, al año",
            Unit::Hour => "por hora",
            Unit::PercentOfSales => "del boletaje vendido",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Unit::EventDay => "per event day",
            Unit::SquareMetre => "per m² or fraction",
            Unit::SquareMetreYear => "per m² or fraction, a year",
            Unit::LinearMetreYear => "per linear metre, a year",
            Unit::Month => "per month",
            Unit::Day => "per day",
            Unit::Item => "each",
            Unit::ItemYear => "each, a year",
            Unit::Hour => "per hour",
            Unit::PercentOfSales => "of ticket sales",
        }
    }

    /// What the quantity is, as a form label ("Metros cuadrados").
    pub fn quantity_es(self) -> &'static str {
        match self {
            Unit::EventDay => "Días de evento",
            Unit::SquareMetre | Unit::SquareMetreYear => "Metros cuadrados",
            Unit::LinearMetreYear => "Metros lineales",
            Unit::Month => "Meses",
            Unit::Day => "Días",
            Unit::Item | Unit::ItemYear => "Cantidad",
            Unit::Hour => "Horas",
            Unit::PercentOfSales => "Boletaje vendido (pesos)",
        }
    }

    pub fn quantity_en(self) -> &'static str {
        match self {
            Unit::EventDay => "Event days",
            Unit::SquareMetre | Unit::SquareMetreYear => "Square metres",
            Unit::LinearMetreYear => "Linear metres",
            Unit::Month => "Months",
            Unit::Day => "Days",
            Unit::Item | Unit::ItemYear => "Quantity",
            Unit::Hour => "Hours",
            Unit::PercentOfSales => "Ticket sales (pesos)",
        }
    }

    /// Whether a fraction is charged as a whole unit (metres).
    pub fn rounds_fractions_up(self) -> bool {
        matches!(self, Unit::SquareMetre | Unit::SquareMetreYear | Unit::LinearMetreYear)
    }

    /// Whether the quantity must be a whole number (days, items, hours).
    pub fn is_counted(self) -> bool {
        !self.rounds_fractions_up() && self != Unit::PercentOfSales
    }

    /// The quantity charged for the quantity given, or why it is refused.
    pub fn charged(self, given: Decimal) -> Result<Decimal, QuantityError> {
        if given <= Decimal::ZERO {
            return Err(QuantityError::NotPositive);
        }
        let max = if self == Unit::PercentOfSales { MAX_SALES } else { MAX_QUANTITY };
        if given > max {
            return Err(QuantityError::TooLarge(max));
        }
        if self == Unit::PercentOfSales {
            if given.normalize().scale() > 2 {
                return Err(QuantityError::Centavos);
            }
            Ok(given)
        } else if self.rounds_fractions_up() {
            if given.normalize().scale() > 4 {
                return Err(QuantityError::TooPrecise);
            }
            Ok(given.ceil())
        } else if given.fract().is_zero() {
            Ok(given.trunc())
        } else {
            Err(QuantityError::Whole)
        }
    }
}

/// Why a quantity was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone, Copy)]
pub enum QuantityError {
    #[error("the quantity is not a decimal string such as \"12.5\"")]
    NotANumber,
    #[error("the quantity must be greater than zero")]
    NotPositive,
    #[error("the quantity must be at most {0}")]
    TooLarge(Decimal),
    #[error("the quantity must be a whole number")]
    Whole,
    #[error("an amount in pesos has at most two decimals")]
    Centavos,
    #[error("a measure has at most four decimals")]
    TooPrecise,
}

impl QuantityError {
    pub fn message_es(&self) -> String {
        match self {
            QuantityError::NotANumber => format!(
                "Escriba la cantidad como texto entre comillas, con dígitos y, si lleva decimales, un punto \
                 (por ejemplo \"12.5\"), sin signo, espacios ni exponente y de hasta {MAX_QUANTITY_CHARS} caracteres."
            ),
            QuantityError::NotPositive => "La cantidad debe ser mayor que cero.".into(),
            QuantityError::TooLarge(max) => format!("La cantidad no puede ser mayor que {max}."),
            QuantityError::Whole => "La cantidad debe ser un número entero (días, meses, horas o piezas).".into(),
            QuantityError::Centavos => "Un importe en pesos lleva como máximo dos decimales.".into(),
            QuantityError::TooPrecise => "Una medida lleva como máximo cuatro decimales.".into(),
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            QuantityError::NotANumber => format!(
                "Write the quantity as a quoted string of digits with an optional decimal point (for example \
                 \"12.5\"), without sign, spaces or exponent, of at most {MAX_QUANTITY_CHARS} characters."
            ),
            QuantityError::NotPositive => "The quantity must be greater than zero.".into(),
            QuantityError::TooLarge(max) => format!("The quantity must be at most {max}."),
            QuantityError::Whole => "The quantity must be a whole number (days, months, hours or items).".into(),
            QuantityError::Centavos => "An amount in pesos has at most two decimals.".into(),
            QuantityError::TooPrecise => "A measure has at most four decimals.".into(),
        }
    }
}

/// How much a tariff charges per unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rate {
    /// A fixed factor in UMA per unit.
    Uma(Decimal),
    /// Staff set the factor within this range of UMA per unit.
    UmaRange { min: Decimal, max: Decimal },
    /// A percentage of the declared sales (the quantity, in pesos).
    Percent(Decimal),
    /// The law does not authorise it ("no se autoriza"); the text says so.
    NotAuthorized(String),
}

/// A tariff of a schedule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "TariffRow", into = "TariffRow")]
pub struct Tariff {
    /// Stable code (`ANU-I-A`): capital letters, digits and hyphens.
    pub code: String,
    /// In Spanish, as the law words it.
    pub name: String,
    /// The code of its [`TariffGroup`].
    pub group: String,
    /// The legal basis: law, article and fraction.
    pub legal_basis: String,
    pub unit: Unit,
    pub rate: Rate,
    /// The giro of an alcohol-licence tariff.
    pub giro: Option<String>,
    /// At most this many days per permit (eventual adverts: 30).
    pub max_days: Option<u32>,
    /// At most this many square metres (semi-fixed stalls: 10).
    pub max_area_m2: Option<Decimal>,
    /// Anything else the law says of it, in Spanish.
    pub note: Option<String>,
}

/// The file's shape of a [`Tariff`]: exactly one of `factor`, `range`,
/// `percent` and `not_authorized`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TariffRow {
    code: String,
    name: String,
    group: String,
    legal_basis: String,
    unit: Unit,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    factor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    range: Option<[String; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    percent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    not_authorized: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    giro: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_area_m2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

/// A decimal written plainly ("10", "0.25"): digits and one point.
fn exact(field: &str, code: &str, s: &str) -> Result<Decimal, String> {
    let plain = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    plain
        .then(|| s.parse::<Decimal>().ok())
        .flatten()
        .ok_or_else(|| format!("tariff {code}: {field} {s:?} is not a decimal such as \"10\" or \"0.25\""))
}

impl TryFrom<TariffRow> for Tariff {
    type Error = String;

    fn try_from(r: TariffRow) -> Result<Tariff, String> {
        let code = r.code.clone();
        let rate = match (&r.factor, &r.range, &r.percent, &r.not_authorized) {
            (Some(f), None, None, None) => Rate::Uma(exact("factor", &code, f)?),
            (None, Some([min, max]), None, None) => {
                Rate::UmaRange { min: exact("range", &code, min)?, max: exact("range", &code, max)? }
            }
            (None, None, Some(p), None) => Rate::Percent(exact("percent", &code, p)?),
            (None, None, None, Some(why)) => Rate::NotAuthorized(why.clone()),
            _ => return Err(format!("tariff {code}: write exactly one of factor, range, percent or not_authorized")),
        };
        let max_area_m2 = r.max_area_m2.as_deref().map(|a| exact("max_area_m2", &code, a)).transpose()?;
        Ok(Tariff {
            code: r.code,
            name: r.name,
            group: r.group,
            legal_basis: r.legal_basis,
            unit: r.unit,
            rate,
            giro: r.giro,
            max_days: r.max_days,
            max_area_m2,
            note: r.note,
        })
    }
}

impl From<Tariff> for TariffRow {
    fn from(t: Tariff) -> TariffRow {
        let (mut factor, mut range, mut percent, mut not_authorized) = (None, None, None, None);
        match t.rate {
            Rate::Uma(f) => factor = Some(f.to_string()),
            Rate::UmaRange { min, max } => range = Some([min.to_string(), max.to_string()]),
            Rate::Percent(p) => percent = Some(p.to_string()),
            Rate::NotAuthorized(why) => not_authorized = Some(why),
        }
        TariffRow {
            code: t.code,
            name: t.name,
            group: t.group,
            legal_basis: t.legal_basis,
            unit: t.unit,
            factor,
            range,
            percent,
            not_authorized,
            giro: t.giro,
            max_days: t.max_days,
            max_area_m2: t.max_area_m2.map(|a| a.to_string()),
            note: t.note,
        }
    }
}

impl Tariff {
    /// Whether the code is written as codes are: `ANU-I-A`, `ALC-REF-BAR`.
    pub fn code_is_valid(code: &str) -> bool {
        (2..=40).contains(&code.len())
            && code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
            && !code.starts_with('-')
            && !code.ends_with('-')
    }

    /// Whether staff set the amount (a range tariff).
    pub fn staff_sets_amount(&self) -> bool {
        matches!(self.rate, Rate::UmaRange { .. })
    }

    /// The rules to show next to it, in Spanish ("Plazo máximo: 30 días").
    pub fn rules_es(&self) -> Vec<String> {
        let mut rules = Vec::new();
        if let Rate::NotAuthorized(why) = &self.rate {
            rules.push(why.clone());
        }
        if let Rate::UmaRange { min, max } = &self.rate {
            rules.push(format!("El personal fija el importe entre {} y {} UMA.", min.normalize(), max.normalize()));
        }
        if let Some(days) = self.max_days {
            rules.push(format!("Plazo máximo: {days} días."));
        }
        if let Some(area) = self.max_area_m2 {
            rules.push(format!("Superficie máxima: {} m².", area.normalize()));
        }
        if let Some(note) = &self.note {
            rules.push(note.clone());
        }
        rules
    }

    fn validate(&self, groups: &HashSet<&str>) -> Result<(), TariffError> {
        let err = |what: &str| TariffError::Tariff { code: self.code.clone(), what: what.to_string() };
        if !Tariff::code_is_valid(&self.code) {
            return Err(err("the code must be 2 to 40 capital letters, digits or hyphens"));
        }
        if self.name.trim().is_empty() || self.legal_basis.trim().is_empty() {
            return Err(err("name and legal_basis must not be empty"));
        }
        if !groups.contains(self.group.as_str()) {
            return Err(err("its group is not declared in [[tariff_groups]]"));
        }
        let percent_unit = self.unit == Unit::PercentOfSales;
        match &self.rate {
            Rate::Uma(f) if *f <= Decimal::ZERO => return Err(err("the factor must be positive")),
            Rate::Uma(_) | Rate::UmaRange { .. } if percent_unit => {
                return Err(err("a percent_of_sales tariff is written as percent = \"10\""))
            }
            Rate::UmaRange { min, max } if *min <= Decimal::ZERO || min >= max => {
                return Err(err("the range must be two positive factors, the smaller first"))
            }
            Rate::Percent(p) if *p <= Decimal::ZERO || *p > Decimal::ONE_HUNDRED => {
                return Err(err("the percent must be above 0 and at most 100"))
            }
            Rate::Percent(_) if !percent_unit => return Err(err("a percent is charged on unit percent_of_sales")),
            Rate::NotAuthorized(why) if why.trim().is_empty() => {
                return Err(err("not_authorized must say why, in Spanish"))
            }
            _ => {}
        }
        if self.max_area_m2.is_some_and(|a| a <= Decimal::ZERO) || self.max_days == Some(0) {
            return Err(err("max_days and max_area_m2 must be positive"));
        }
        Ok(())
    }
}

/// A group of tariffs as the law orders them ("Anuncios permanentes"): the
/// concept its charges are collected under and the procedure it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TariffGroup {
    pub code: String,
    pub name: String,
    /// The concept code of the charges (the catalogue's `[[concepts]]`).
    pub concept: String,
    /// The procedure (trámite) it belongs to.
    pub procedure: String,
    /// The step of an alcohol licence's life its tariffs charge for (each
    /// of them names a giro). The licence's own steps (renewal, change of
    /// address, extra hours) are requested only from the licence's page,
    /// never with the procedure's generic form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence: Option<LicenceUse>,
    /// A request of its tariffs is approved only once the revisor records
    /// the H. Cabildo's approval (the session's date and the agreement).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub requires_cabildo: bool,
}

impl TariffGroup {
    /// Whether its tariffs are reached only from an existing licence.
    pub fn requires_licence(&self) -> bool {
        self.licence.is_some_and(LicenceUse::requires_licence)
    }
}

/// The tariffs in force from one day until the next schedule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TariffSchedule {
    #[serde(with = "crate::domain::config_date")]
    pub valid_from: NaiveDate,
    /// The law that set them (e.g. "Ley de Hacienda para el Municipio de
    /// Loreto, B.C.S.").
    pub law: String,
    pub tariffs: Vec<Tariff>,
}

impl TariffSchedule {
    pub fn tariff(&self, code: &str) -> Option<&Tariff> {
        self.tariffs.iter().find(|t| t.code == code)
    }
}

/// Why the tariffs of a municipality file were refused (operator-facing).
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum TariffError {
    #[error("tariff group {0:?}: code, name, concept and procedure must be set, the code once")]
    Group(String),
    #[error("tariff group {group}: concept {concept} is not in the catalogue")]
    GroupConcept { group: String, concept: String },
    #[error("two tariff schedules start on {0}")]
    DuplicateSchedule(NaiveDate),
    #[error("tariff schedule from {0}: the law must be named")]
    ScheduleLaw(NaiveDate),
    #[error("tariff {0} is declared twice in one schedule")]
    DuplicateTariff(String),
    #[error("tariff {code}: {what}")]
    Tariff { code: String, what: String },
}

/// Checks the groups and the schedules against the concept catalogue.
pub fn validate(
    groups: &[TariffGroup],
    schedules: &[TariffSchedule],
    concepts: &HashSet<&str>,
) -> Result<(), TariffError> {
    let mut group_codes = HashSet::new();
    let licence_groups: HashSet<&str> =
        groups.iter().filter(|g| g.licence.is_some()).map(|g| g.code.as_str()).collect();
    for g in groups {
        let blank = [&g.code, &g.name, &g.concept, &g.procedure].iter().any(|s| s.trim().is_empty());
        if blank || !group_codes.insert(g.code.as_str()) {
            return Err(TariffError::Group(g.code.clone()));
        }
        if !concepts.contains(g.concept.as_str()) {
            return Err(TariffError::GroupConcept { group: g.code.clone(), concept: g.concept.clone() });
        }
    }
    let mut days = HashSet::new();
    for s in schedules {
        if !days.insert(s.valid_from) {
            return Err(TariffError::DuplicateSchedule(s.valid_from));
        }
        if s.law.trim().is_empty() {
            return Err(TariffError::ScheduleLaw(s.valid_from));
        }
        let mut codes = HashSet::new();
        for t in &s.tariffs {
            t.validate(&group_codes)?;
            if licence_groups.contains(t.group.as_str()) && t.giro.is_none() {
                return Err(TariffError::Tariff {
                    code: t.code.clone(),
                    what: "a tariff of a licence's group must name its giro".into(),
                });
            }
            if !codes.insert(t.code.as_str()) {
                return Err(TariffError::DuplicateTariff(t.code.clone()));
            }
        }
    }
    Ok(())
}

/// The schedule in force on `on`: the latest whose `valid_from` is on or
/// before it.
pub fn schedule_on(schedules: &[TariffSchedule], on: NaiveDate) -> Option<&TariffSchedule> {
    schedules.iter().filter(|s| s.valid_from <= on).max_by_key(|s| s.valid_from)
}

/// A fee, broken down: what the citizen and the API see.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TariffQuote {
    pub tariff: String,
    pub name: String,
    pub legal_basis: String,
    pub unit: Unit,
    pub date: NaiveDate,
    /// The schedule's law and first day.
    pub law: String,
    pub schedule_from: NaiveDate,
    /// The UMA applied and its period (`None` for a percentage of sales).
    pub uma: Option<UmaApplied>,
    /// UMA per unit, or the percentage of sales.
    pub factor: Decimal,
    pub quantity_given: Decimal,
    pub quantity_charged: Decimal,
    pub fee: Centavos,
}

/// The UMA value a fee was computed with, and when it is in force.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UmaApplied {
    pub daily_value: Decimal,
    pub valid_from: NaiveDate,
    /// The last day it is in force; `None` while no later value is known.
    pub valid_until: Option<NaiveDate>,
}

/// Why a fee cannot be quoted.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum QuoteError {
    #[error("the date is not a calendar day written YYYY-MM-DD")]
    InvalidDate,
    #[error("no tariff {0} is in force on that day")]
    UnknownTariff(String),
    #[error("no tariff schedule is in force on {0}")]
    NoSchedule(NaiveDate),
    #[error("no UMA value is known for {0}")]
    NoUma(NaiveDate),
    #[error(transparent)]
    Quantity(#[from] QuantityError),
    #[error("not authorised: {0}")]
    NotAuthorized(String),
    #[error("staff set this amount between {min} and {max} UMA")]
    StaffSetsAmount { min: Decimal, max: Decimal },
    #[error("the amount must be between {min} and {max} UMA")]
    OutOfRange { min: Decimal, max: Decimal },
    #[error("only a range tariff takes an amount set by staff")]
    NotARange,
    #[error("the fee is too large")]
    Overflow,
}

impl QuoteError {
    /// The stable code for programs (`not_authorized`, `staff_sets_amount`…).
    pub fn code(&self) -> &'static str {
        match self {
            QuoteError::InvalidDate => "invalid_date",
            QuoteError::UnknownTariff(_) => "unknown_tariff",
            QuoteError::NoSchedule(_) => "no_schedule",
            QuoteError::NoUma(_) => "no_uma",
            QuoteError::Quantity(_) => "invalid_quantity",
            QuoteError::NotAuthorized(_) => "not_authorized",
            QuoteError::StaffSetsAmount { .. } => "staff_sets_amount",
            QuoteError::OutOfRange { .. } => "out_of_range",
            QuoteError::NotARange => "not_a_range",
            QuoteError::Overflow => "invalid_quantity",
        }
    }

    /// 400 for what the request got wrong, 422 for what the law refuses.
    pub fn status(&self) -> u16 {
        match self {
            QuoteError::NotAuthorized(_) | QuoteError::StaffSetsAmount { .. } => 422,
            _ => 400,
        }
    }

    pub fn message_es(&self) -> String {
        match self {
            QuoteError::InvalidDate => {
                "La fecha debe ser un día del calendario escrito como AAAA-MM-DD (por ejemplo 2026-03-01).".into()
            }
            QuoteError::UnknownTariff(code) => {
                format!("No existe la tarifa {code} en la fecha indicada. Consulte el catálogo de trámites.")
            }
            QuoteError::NoSchedule(d) => format!("No hay tarifas vigentes el {d}."),
            QuoteError::NoUma(d) => format!("No se conoce el valor de la UMA para el {d}."),
            QuoteError::Quantity(q) => q.message_es(),
            QuoteError::NotAuthorized(why) => format!("No se autoriza: {why}"),
            QuoteError::StaffSetsAmount { min, max } => format!(
                "El importe de esta tarifa lo fija el personal de la Dirección de Ingresos entre {} y {} UMA; \
                 solicite el trámite para que se lo determinen.",
                min.normalize(),
                max.normalize()
            ),
            QuoteError::OutOfRange { min, max } => {
                format!("El importe debe estar entre {} y {} UMA.", min.normalize(), max.normalize())
            }
            QuoteError::NotARange => "Esta tarifa tiene un importe fijo; no se puede modificar.".into(),
            QuoteError::Overflow => "El importe resultante es demasiado grande.".into(),
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            QuoteError::InvalidDate => "The date must be a calendar day written YYYY-MM-DD (e.g. 2026-03-01).".into(),
            QuoteError::UnknownTariff(code) => format!("There is no tariff {code} on that date. See the catalogue."),
            QuoteError::NoSchedule(d) => format!("No tariffs are in force on {d}."),
            QuoteError::NoUma(d) => format!("The UMA value for {d} is not known."),
            QuoteError::Quantity(q) => q.message_en(),
            QuoteError::NotAuthorized(why) => format!("Not authorised: {why}"),
            QuoteError::StaffSetsAmount { min, max } => format!(
                "The treasury's staff set this amount between {} and {} UMA; file the request to have it set.",
                min.normalize(),
                max.normalize()
            ),
            QuoteError::OutOfRange { min, max } => {
                format!("The amount must be between {} and {} UMA.", min.normalize(), max.normalize())
            }
            QuoteError::NotARange => "This tariff has a fixed amount; it cannot be changed.".into(),
            QuoteError::Overflow => "The resulting amount is too large.".into(),
        }
    }
}

/// Quotes `tariff` for `quantity` on `date`. `staff_factor` is the factor
/// staff set for a range tariff (refused for any other); without it a range
/// tariff is [`QuoteError::StaffSetsAmount`].
pub fn quote(
    schedules: &[TariffSchedule],
    uma: &UmaTable,
    code: &str,
    quantity: Decimal,
    date: NaiveDate,
    staff_factor: Option<Decimal>,
) -> Result<TariffQuote, QuoteError> {
    let schedule = schedule_on(schedules, date).ok_or(QuoteError::NoSchedule(date))?;
    let tariff = schedule.tariff(code).ok_or_else(|| QuoteError::UnknownTariff(code.to_string()))?;
    let factor = match (&tariff.rate, staff_factor) {
        (Rate::NotAuthorized(why), _) => return Err(QuoteError::NotAuthorized(why.clone())),
        (Rate::UmaRange { min, max }, None) => return Err(QuoteError::StaffSetsAmount { min: *min, max: *max }),
        (Rate::UmaRange { min, max }, Some(f)) if f < *min || f > *max => {
            return Err(QuoteError::OutOfRange { min: *min, max: *max })
        }
        (Rate::UmaRange { .. }, Some(f)) => f,
        (_, Some(_)) => return Err(QuoteError::NotARange),
        (Rate::Uma(f), None) | (Rate::Percent(f), None) => *f,
    };
    let charged = tariff.unit.charged(quantity)?;
    let (fee, uma_applied) = match tariff.rate {
        Rate::Percent(_) => {
            let fee = charged
                .checked_mul(factor)
                .and_then(|x| x.checked_div(Decimal::ONE_HUNDRED))
                .ok_or(QuoteError::Overflow)?;
            (Centavos::from_decimal(fee), None)
        }
        _ => {
            let applied = uma_applied(uma, date).ok_or(QuoteError::NoUma(date))?;
            let fee = factor
                .checked_mul(charged)
                .and_then(|x| x.checked_mul(applied.daily_value))
                .ok_or(QuoteError::Overflow)?;
            (Centavos::from_decimal(fee), Some(applied))
        }
    };
    Ok(TariffQuote {
        tariff: tariff.code.clone(),
        name: tariff.name.clone(),
        legal_basis: tariff.legal_basis.clone(),
        unit: tariff.unit,
        date,
        law: schedule.law.clone(),
        schedule_from: schedule.valid_from,
        uma: uma_applied,
        factor,
        quantity_given: quantity,
        quantity_charged: charged,
        fee,
    })
}

/// The UMA in force on `on` with its period.
pub fn uma_applied(uma: &UmaTable, on: NaiveDate) -> Option<UmaApplied> {
    let entries = uma.entries();
    let i = entries.partition_point(|e| e.valid_from <= on).checked_sub(1)?;
    Some(UmaApplied {
        daily_value: entries[i].daily_value,
        valid_from: entries[i].valid_from,
        valid_until: entries.get(i + 1).and_then(|next| next.valid_from.pred_opt()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::uma::UmaEntry;
    use rust_decimal_macros::dec;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn uma() -> UmaTable {
        UmaTable::new(vec![
            UmaEntry { valid_from: d(2025, 2, 1), daily_value: dec!(113.14) },
            UmaEntry { valid_from: d(2026, 2, 1), daily_value: dec!(117.31) },
        ])
        .unwrap()
    }

    fn tariff(code: &str, unit: Unit, rate: Rate) -> Tariff {
        Tariff {
            code: code.into(),
            name: format!("{code} name"),
            group: "g".into(),
            legal_basis: "Ley, fr. I".into(),
            unit,
            rate,
            giro: None,
            max_days: None,
            max_area_m2: None,
            note: None,
        }
    }

    fn schedules() -> Vec<TariffSchedule> {
        vec![TariffSchedule {
            valid_from: d(2025, 1, 1),
            law: "Ley".into(),
            tariffs: vec![
                tariff("M2", Unit::SquareMetreYear, Rate::Uma(dec!(4))),
                tariff("DAY", Unit::Day, Rate::Uma(dec!(0.5))),
                tariff("PCT", Unit::PercentOfSales, Rate::Percent(dec!(10))),
                tariff("RANGE", Unit::Item, Rate::UmaRange { min: dec!(20), max: dec!(50) }),
                tariff("NO", Unit::Hour, Rate::NotAuthorized("No se autoriza horas.".into())),
            ],
        }]
    }

    fn q(code: &str, qty: Decimal, on: NaiveDate) -> Result<TariffQuote, QuoteError> {
        quote(&schedules(), &uma(), code, qty, on, None)
    }

    #[test]
    fn a_fraction_of_a_square_metre_is_a_whole_one() {
        let r = q("M2", dec!(12.3), d(2026, 3, 1)).unwrap();
        assert_eq!(r.quantity_charged, dec!(13));
        // 4 × 13 × 117.31 = 6,100.12
        assert_eq!(r.fee, Centavos(610_012));
        let r = q("M2", dec!(13), d(2026, 3, 1)).unwrap();
        assert_eq!(r.fee, Centavos(610_012));
        let r = q("M2", dec!(0.01), d(2026, 3, 1)).unwrap();
        assert_eq!((r.quantity_charged, r.fee), (dec!(1), Centavos(46_924)));
    }

    #[test]
    fn the_uma_changes_on_the_first_of_february() {
        // 0.5 × 3 × 113.14 = 169.71; 0.5 × 3 × 117.31 = 175.965 → 175.97
        let jan = q("DAY", dec!(3), d(2026, 1, 31)).unwrap();
        let feb = q("DAY", dec!(3), d(2026, 2, 1)).unwrap();
        assert_eq!(jan.fee, Centavos(16_971));
        assert_eq!(feb.fee, Centavos(17_597));
        let applied = jan.uma.unwrap();
        assert_eq!((applied.valid_from, applied.valid_until), (d(2025, 2, 1), Some(d(2026, 1, 31))));
        assert_eq!(feb.uma.unwrap().valid_until, None);
    }

    #[test]
    fn percent_of_sales_needs_no_uma() {
        // 10 % of 12,345.67 = 1,234.567 → 1,234.57
        let r = q("PCT", dec!(12345.67), d(2026, 3, 1)).unwrap();
        assert_eq!((r.fee, r.uma), (Centavos(123_457), None));
        assert_eq!(q("PCT", dec!(1.005), d(2026, 3, 1)), Err(QuoteError::Quantity(QuantityError::Centavos)));
    }

    #[test]
    fn ranges_are_set_by_staff_within_them() {
        assert_eq!(
            q("RANGE", dec!(1), d(2026, 3, 1)),
            Err(QuoteError::StaffSetsAmount { min: dec!(20), max: dec!(50) })
        );
        let s = schedules();
        let set = |f| quote(&s, &uma(), "RANGE", dec!(1), d(2026, 3, 1), Some(f));
        assert_eq!(set(dec!(19.99)), Err(QuoteError::OutOfRange { min: dec!(20), max: dec!(50) }));
        assert_eq!(set(dec!(50.01)), Err(QuoteError::OutOfRange { min: dec!(20), max: dec!(50) }));
        assert_eq!(set(dec!(20)).unwrap().fee, Centavos(234_620));
        assert_eq!(set(dec!(50)).unwrap().fee, Centavos(586_550));
        assert_eq!(quote(&s, &uma(), "DAY", dec!(1), d(2026, 3, 1), Some(dec!(1))), Err(QuoteError::NotARange));
    }

    #[test]
    fn refusals() {
        let on = d(2026, 3, 1);
        assert!(matches!(q("NO", dec!(1), on), Err(QuoteError::NotAuthorized(_))));
        assert_eq!(q("NO", dec!(1), on).unwrap_err().status(), 422);
        assert_eq!(q("XX", dec!(1), on), Err(QuoteError::UnknownTariff("XX".into())));
        assert_eq!(q("DAY", dec!(1.5), on), Err(QuoteError::Quantity(QuantityError::Whole)));
        assert_eq!(q("DAY", dec!(0), on), Err(QuoteError::Quantity(QuantityError::NotPositive)));
        assert_eq!(q("DAY", dec!(-1), on), Err(QuoteError::Quantity(QuantityError::NotPositive)));
        assert!(matches!(q("DAY", dec!(1000001), on), Err(QuoteError::Quantity(QuantityError::TooLarge(_)))));
        assert_eq!(q("DAY", dec!(1), d(2024, 12, 31)), Err(QuoteError::NoSchedule(d(2024, 12, 31))));
        assert_eq!(q("DAY", dec!(1), d(2025, 1, 15)), Err(QuoteError::NoUma(d(2025, 1, 15))));
        assert_eq!(q("DAY", dec!(1), on).map(|r| r.fee), Ok(Centavos(5_866)));
    }

    #[test]
    fn a_quantity_is_a_plain_decimal_string() {
        assert_eq!(parse_quantity("12"), Ok(dec!(12)));
        assert_eq!(parse_quantity("12.3"), Ok(dec!(12.3)));
        assert_eq!(parse_quantity("0012.30"), Ok(dec!(12.30)));
        assert_eq!(parse_quantity("0"), Ok(dec!(0)), "zero is Unit::charged's refusal");
        assert_eq!(parse_quantity("99999999999999999999"), Ok(dec!(99999999999999999999)));
        assert_eq!(parse_quantity("0.000000000000000001"), Ok(dec!(0.000000000000000001)));
        for bad in [
            "",
            " 12",
            "12 ",
            "-3",
            "-0",
            "+1",
            "1e5",
            "1E5",
            "12.",
            ".5",
            "1.2.3",
            "1,5",
            "1_000",
            "abc",
            "١٢",
            "NaN",
            "inf",
            "123456789012345678901",
            "0.0000000000000000001",
        ] {
            assert_eq!(parse_quantity(bad), Err(QuantityError::NotANumber), "{bad:?}");
        }
    }

    #[test]
    fn a_later_schedule_replaces_the_earlier_from_its_day() {
        let mut s = schedules();
        let mut next = s[0].clone();
        next.valid_from = d(2027, 1, 1);
        next.tariffs[1].rate = Rate::Uma(dec!(1));
        s.push(next);
        let on = |day| quote(&s, &uma(), "DAY", dec!(1), day, None).unwrap();
        assert_eq!(on(d(2026, 12, 31)).factor, dec!(0.5));
        assert_eq!(on(d(2027, 1, 1)).factor, dec!(1));
        assert_eq!(on(d(2027, 1, 1)).schedule_from, d(2027, 1, 1));
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_file_shape_reads_exactly_one_rate() {
        let row = |extra: &str| {
            format!("code = \"X-1\"\nname = \"n\"\ngroup = \"g\"\nlegal_basis = \"b\"\nunit = \"day\"\n{extra}")
        };
        let t: Tariff = toml::from_str(&row("range = [\"15\", \"100\"]")).unwrap();
        assert_eq!(t.rate, Rate::UmaRange { min: dec!(15), max: dec!(100) });
        assert!(toml::from_str::<Tariff>(&row("factor = \"1\"\npercent = \"10\"")).is_err());
        assert!(toml::from_str::<Tariff>(&row("")).is_err());
        assert!(toml::from_str::<Tariff>(&row("factor = \"1e3\"")).is_err());
        let back = toml::to_string(&t).unwrap();
        assert_eq!(toml::from_str::<Tariff>(&back).unwrap(), t);
    }

    #[test]
    fn validation() {
        let groups = vec![TariffGroup {
            code: "g".into(),
            name: "G".into(),
            concept: "c".into(),
            procedure: "p".into(),
            licence: None,
            requires_cabildo: false,
        }];
        let concepts: HashSet<&str> = ["c"].into();
        assert_eq!(validate(&groups, &schedules(), &concepts), Ok(()));
        let mut bad = schedules();
        bad[0].tariffs[0].rate = Rate::UmaRange { min: dec!(5), max: dec!(5) };
        assert!(validate(&groups, &bad, &concepts).is_err());
        let mut bad = schedules();
        let first = bad[0].tariffs[0].clone();
        bad[0].tariffs.push(first);
        assert_eq!(validate(&groups, &bad, &concepts), Err(TariffError::DuplicateTariff("M2".into())));
        let mut bad = schedules();
        bad[0].tariffs[0].group = "other".into();
        assert!(validate(&groups, &bad, &concepts).is_err());
        let mut bad = schedules();
        bad[0].tariffs[0].rate = Rate::Percent(dec!(10));
        assert!(validate(&groups, &bad, &concepts).is_err());
        assert!(validate(&groups, &schedules(), &HashSet::new()).is_err());
        let mut bad = schedules();
        bad[0].tariffs[0].code = "m2".into();
        assert!(validate(&groups, &bad, &concepts).is_err());
        // A licence's group: every tariff names its giro.
        let mut licence = groups.clone();
        licence[0].licence = Some(LicenceUse::Renewal);
        assert!(matches!(validate(&licence, &schedules(), &concepts), Err(TariffError::Tariff { .. })));
        let mut with_giros = schedules();
        for t in &mut with_giros[0].tariffs {
            t.giro = Some("BAR".into());
        }
        assert_eq!(validate(&licence, &with_giros, &concepts), Ok(()));
    }
}
