//! The public trámites catalogue (`/tramites`): finding a procedure, the
//! tariffs it charges in the schedule in force, a worked example of each at
//! today's UMA, and the calculator behind a procedure page's form.
//!
//! Every figure comes from [`tariffs::quote`], the rule the fees are charged
//! by; the pages only format what it answers.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::domain::money::{Centavos, MoneyError};
use crate::domain::municipality::Municipality;
use crate::domain::procedures::{self, Procedure};
use crate::domain::tariffs::{self, QuoteError, Rate, Tariff, TariffGroup, TariffQuote, Unit};
use crate::domain::uma::UmaTable;
use crate::error::AppError;
use crate::i18n::Lang;

/// The longest search query read, in characters (the rest is dropped).
pub const MAX_QUERY_CHARS: usize = 100;
/// The longest quantity read by the calculator, in characters.
pub const MAX_QUANTITY_CHARS: usize = 24;
/// The longest one-line summary of a procedure in the list, in characters.
const SUMMARY_CHARS: usize = 160;
/// The longest tariff code echoed back in an error message.
const MAX_CODE_CHARS: usize = 40;

/// The search query as searched and shown: trimmed, at most
/// [`MAX_QUERY_CHARS`] characters.
pub fn clean_query(raw: &str) -> String {
    raw.trim().chars().take(MAX_QUERY_CHARS).collect::<String>().trim_end().to_string()
}

/// A tariff group of a procedure with its tariffs in one schedule.
#[derive(Clone, Debug)]
pub struct GroupTariffs<'a> {
    pub group: &'a TariffGroup,
    pub tariffs: Vec<&'a Tariff>,
}

/// The tariffs of procedure `slug` in the schedule in force on `on`, by
/// group, in the order of the municipality file (groups without tariffs in
/// that schedule are left out).
pub fn tariffs_of<'a>(m: &'a Municipality, slug: &str, on: NaiveDate) -> Vec<GroupTariffs<'a>> {
    let Some(schedule) = tariffs::schedule_on(&m.tariff_schedules, on) else {
        return Vec::new();
    };
    m.tariff_groups
        .iter()
        .filter(|g| g.procedure == slug)
        .map(|group| GroupTariffs {
            group,
            tariffs: schedule.tariffs.iter().filter(|t| t.group == group.code).collect(),
        })
        .filter(|g| !g.tariffs.is_empty())
        .collect()
}

/// The procedures `query` finds, in the file's order: every word of the
/// query (case and accents ignored) is in the procedure's name,
/// description, who needs it, keywords or the names of its tariffs in
/// force on `on` ("taxi" finds the public road, "cantina" the alcohol
/// licences). An empty query finds them all.
pub fn search<'a>(m: &'a Municipality, query: &str, on: NaiveDate) -> Vec<&'a Procedure> {
    m.procedures.iter().filter(|p| procedures::matches(query, &haystack(m, p, on))).collect()
}

fn haystack(m: &Municipality, p: &Procedure, on: NaiveDate) -> String {
    let groups = tariffs_of(m, &p.slug, on);
    let mut parts: Vec<&str> = vec![&p.name, &p.description, &p.who];
    parts.extend(p.keywords.iter().map(String::as_str));
    parts.extend(groups.iter().flat_map(|g| g.tariffs.iter().map(|t| t.name.as_str())));
    parts.join(" ")
}

/// One line about a procedure for the list: the first sentence of its
/// description, cut (with "…") at a comma or a word when longer than
/// [`SUMMARY_CHARS`].
pub fn summary(description: &str) -> String {
    let text = description.split_whitespace().collect::<Vec<_>>().join(" ");
    let first = match text.find(". ") {
        Some(i) => &text[..=i],
        None => text.as_str(),
    };
    if first.chars().count() <= SUMMARY_CHARS {
        return first.to_string();
    }
    // Cut at the last comma or colon of the second half, else at a word.
    let cut: String = first.chars().take(SUMMARY_CHARS).collect();
    let at = cut.rfind([',', ';', ':']).filter(|i| *i >= cut.len() / 2).or_else(|| cut.rfind(' '));
    let cut = at.map_or(cut.as_str(), |i| &cut[..i]);
    format!("{}…", cut.trim_end_matches([',', ';', ':', ' ']))
}

/// The quantity a worked example uses: one unit of what is counted, 2.5
/// metres (so the example shows a fraction charged whole), $10,000.00 of
/// ticket sales.
pub fn sample_quantity(unit: Unit) -> Decimal {
    match unit {
        Unit::PercentOfSales => Decimal::new(10_000, 0),
        u if u.rounds_fractions_up() => Decimal::new(25, 1),
        _ => Decimal::ONE,
    }
}

/// A tariff's worked example on a day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Example {
    /// The fee for [`sample_quantity`].
    Fee(TariffQuote),
    /// A range staff set the amount within: one unit at its lowest and at
    /// its highest factor.
    Range { min: TariffQuote, max: TariffQuote },
    /// The law does not authorise it; why, in Spanish.
    Refused(String),
    /// No figure can be given on that day (no UMA known, no schedule).
    Unavailable(QuoteError),
}

/// The worked example of `tariff` on `on`, quoted by [`tariffs::quote`].
/// `uma` is `None` when the municipality's table cannot be read.
pub fn example(m: &Municipality, uma: Option<&UmaTable>, tariff: &Tariff, on: NaiveDate) -> Example {
    let Some(uma) = uma else {
        return Example::Unavailable(QuoteError::NoUma(on));
    };
    let quote =
        |quantity, staff_factor| tariffs::quote(&m.tariff_schedules, uma, &tariff.code, quantity, on, staff_factor);
    match &tariff.rate {
        Rate::NotAuthorized(why) => Example::Refused(why.clone()),
        Rate::UmaRange { min, max } => match (quote(Decimal::ONE, Some(*min)), quote(Decimal::ONE, Some(*max))) {
            (Ok(min), Ok(max)) => Example::Range { min, max },
            (Err(e), _) | (_, Err(e)) => Example::Unavailable(e),
        },
        Rate::Uma(_) | Rate::Percent(_) => match quote(sample_quantity(tariff.unit), None) {
            Ok(q) => Example::Fee(q),
            Err(e) => Example::Unavailable(e),
        },
    }
}

/// The tariffs of a procedure its calculator offers: those with a fixed
/// rate (a factor or a percentage), in force on `on`, by group.
pub fn calculable<'a>(m: &'a Municipality, slug: &str, on: NaiveDate) -> Vec<GroupTariffs<'a>> {
    tariffs_of(m, slug, on)
        .into_iter()
        .map(|g| GroupTariffs {
            group: g.group,
            tariffs: g.tariffs.into_iter().filter(|t| matches!(t.rate, Rate::Uma(_) | Rate::Percent(_))).collect(),
        })
        .filter(|g| !g.tariffs.is_empty())
        .collect()
}

/// Why the calculator could not answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CalcError {
    /// No tariff chosen.
    NoTariff,
    /// The code is not a tariff of this procedure in force today (cut to
    /// 40 characters).
    UnknownTariff(String),
    /// No quantity typed.
    NoQuantity,
    /// Longer than [`MAX_QUANTITY_CHARS`].
    QuantityTooLong,
    /// Not digits with an optional decimal point.
    NotANumber,
    /// Ticket sales that are not an amount in pesos.
    Amount(MoneyError),
    /// What the tariff's rule refused.
    Quote(QuoteError),
}

impl CalcError {
    pub fn code(&self) -> &'static str {
        match self {
            CalcError::NoTariff | CalcError::UnknownTariff(_) => "unknown_tariff",
            CalcError::NoQuantity | CalcError::QuantityTooLong | CalcError::NotANumber | CalcError::Amount(_) => {
                "invalid_quantity"
            }
            CalcError::Quote(e) => e.code(),
        }
    }

    /// 400 for what the request got wrong, 422 for what the law refuses
    /// (as [`QuoteError::status`]).
    pub fn status(&self) -> u16 {
        match self {
            CalcError::Quote(e) => e.status(),
            _ => 400,
        }
    }

    /// The form field it is about: `tarifa` or `cantidad`.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            CalcError::NoTariff | CalcError::UnknownTariff(_) => Some("tarifa"),
            CalcError::NoQuantity | CalcError::QuantityTooLong | CalcError::NotANumber | CalcError::Amount(_) => {
                Some("cantidad")
            }
            CalcError::Quote(QuoteError::Quantity(_) | QuoteError::Overflow) => Some("cantidad"),
            CalcError::Quote(QuoteError::NoSchedule(_) | QuoteError::NoUma(_)) => None,
            CalcError::Quote(_) => Some("tarifa"),
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        match self {
            CalcError::NoTariff => lang.pick("Elija una tarifa de la lista.", "Choose a tariff from the list.").into(),
            CalcError::UnknownTariff(code) => {
                let e = QuoteError::UnknownTariff(code.clone());
                match lang {
                    Lang::Es => e.message_es(),
                    Lang::En => e.message_en(),
                }
            }
            CalcError::NoQuantity => lang.pick("Escriba la cantidad.", "Type the quantity.").into(),
            CalcError::QuantityTooLong => match lang {
                Lang::Es => format!("La cantidad lleva como máximo {MAX_QUANTITY_CHARS} caracteres."),
                Lang::En => format!("The quantity has at most {MAX_QUANTITY_CHARS} characters."),
            },
            CalcError::NotANumber => lang
                .pick(
                    "Escriba la cantidad solo con dígitos y, si hace falta, un punto decimal (por ejemplo 12.5).",
                    "Type the quantity with digits only and, if needed, a decimal point (for example 12.5).",
                )
                .into(),
            CalcError::Amount(e) => lang.pick(e.message_es(), e.message_en()).into(),
            CalcError::Quote(e) => match lang {
                Lang::Es => e.message_es(),
                Lang::En => e.message_en(),
            },
        }
    }
}

impl From<CalcError> for AppError {
    fn from(e: CalcError) -> AppError {
        AppError {
            field: e.field().map(Into::into),
            ..AppError::new(e.status(), e.code(), e.message(Lang::Es), e.message(Lang::En))
        }
    }
}

/// Reads the quantity typed for a tariff of `unit`: ticket sales as an
/// amount in pesos (`$10,000.00`, `10000`), anything else as digits with an
/// optional decimal point. Whether it is positive, whole or too large is
/// the tariff rule's to say ([`Unit::charged`]).
pub fn parse_quantity(unit: Unit, raw: &str) -> Result<Decimal, CalcError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(CalcError::NoQuantity);
    }
    if s.chars().count() > MAX_QUANTITY_CHARS {
        return Err(CalcError::QuantityTooLong);
    }
    if unit == Unit::PercentOfSales {
        return Centavos::parse_printed(s).map(Centavos::to_decimal).map_err(CalcError::Amount);
    }
    let plain = s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && s.bytes().filter(|b| *b == b'.').count() <= 1
        && s.bytes().any(|b| b.is_ascii_digit());
    if !plain {
        return Err(CalcError::NotANumber);
    }
    s.parse::<Decimal>().map_err(|_| CalcError::NotANumber)
}

/// The calculator: the fee of tariff `code` of `procedure` for the quantity
/// typed, on `on`.
pub fn calculate(
    m: &Municipality,
    uma: Option<&UmaTable>,
    procedure: &Procedure,
    code: &str,
    quantity: &str,
    on: NaiveDate,
) -> Result<TariffQuote, CalcError> {
    let code = code.trim();
    if code.is_empty() {
        return Err(CalcError::NoTariff);
    }
    let groups = tariffs_of(m, &procedure.slug, on);
    let tariff = groups
        .iter()
        .flat_map(|g| g.tariffs.iter())
        .find(|t| t.code == code)
        .ok_or_else(|| CalcError::UnknownTariff(code.chars().take(MAX_CODE_CHARS).collect()))?;
    let quantity = parse_quantity(tariff.unit, quantity)?;
    let uma = uma.ok_or(CalcError::Quote(QuoteError::NoUma(on)))?;
    tariffs::quote(&m.tariff_schedules, uma, &tariff.code, quantity, on, None).map_err(CalcError::Quote)
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::domain::tariffs::QuantityError;
    use rust_decimal_macros::dec;

    fn loreto() -> Municipality {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../config/municipalities/loreto.toml");
        Municipality::from_toml_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
    }

    fn slugs(found: Vec<&Procedure>) -> Vec<&str> {
        found.into_iter().map(|p| p.slug.as_str()).collect()
    }

    #[test]
    fn search_reads_names_keywords_and_tariffs() {
        let m = loreto();
        assert_eq!(search(&m, "", day()).len(), 6);
        assert_eq!(slugs(search(&m, "taxi", day())), ["via-publica"]);
        assert_eq!(slugs(search(&m, "cantina", day())), ["alcoholes"]);
        // "Restaurante bar y/o bar con pista de baile y/o espectáculos" is an
        // alcohol tariff.
        assert_eq!(slugs(search(&m, "ESPECTÁCULOS", day())), ["espectaculos", "alcoholes"]);
        assert!(search(&m, "zzz", day()).is_empty());
    }

    #[test]
    fn queries_are_trimmed_and_cut() {
        assert_eq!(clean_query("  taxi  "), "taxi");
        assert_eq!(clean_query(&"ñ".repeat(500)).chars().count(), MAX_QUERY_CHARS);
    }

    #[test]
    fn a_summary_is_one_sentence_of_at_most_a_line() {
        assert_eq!(summary("Uno dos.  Tres."), "Uno dos.");
        let long = format!("{} fin. Otra.", "palabra ".repeat(40));
        let s = summary(&long);
        assert!(s.ends_with('…') && s.chars().count() <= SUMMARY_CHARS + 1, "{s}");
        assert!(!s.contains("palab…"), "cut at a word: {s}");
        let listed = format!("{}final, {}fin.", "palabra ".repeat(12), "otra ".repeat(20));
        assert_eq!(summary(&listed), format!("{}final…", "palabra ".repeat(12)), "cut at the comma");
    }

    #[test]
    fn examples_are_quoted_by_the_tariff_rule() {
        let m = loreto();
        let uma = m.uma_table().unwrap();
        let tariff =
            |code: &str| tariffs::schedule_on(&m.tariff_schedules, day()).unwrap().tariff(code).unwrap().clone();
        // 2.5 m² charged as 3: 4 × 3 × 117.31 = 1,407.72
        let Example::Fee(q) = example(&m, Some(&uma), &tariff("ANU-I-E"), day()) else { panic!() };
        assert_eq!((q.quantity_charged, q.fee), (dec!(3), Centavos(140_772)));
        // 10 % of $10,000.00
        let Example::Fee(q) = example(&m, Some(&uma), &tariff("ESP-BOLETAJE"), day()) else { panic!() };
        assert_eq!(q.fee, Centavos(100_000));
        // 0.50 × 117.31 = 58.655 → 58.66; 10 × 117.31 = 1,173.10
        let Example::Range { min, max } = example(&m, Some(&uma), &tariff("BAS-H"), day()) else { panic!() };
        assert_eq!((min.fee, max.fee), (Centavos(5_866), Centavos(117_310)));
        assert!(matches!(example(&m, Some(&uma), &tariff("ALC-HEX-AGENCIA"), day()), Example::Refused(_)));
        assert_eq!(example(&m, None, &tariff("ANU-I-E"), day()), Example::Unavailable(QuoteError::NoUma(day())));
    }

    #[test]
    fn the_calculator_reads_the_form() {
        let m = loreto();
        let uma = m.uma_table().unwrap();
        let anuncios = m.procedure("anuncios").unwrap();
        let calc = |code: &str, qty: &str| calculate(&m, Some(&uma), anuncios, code, qty, day());
        let q = calc("ANU-I-E", " 12.3 ").unwrap();
        assert_eq!((q.quantity_charged, q.fee), (dec!(13), Centavos(610_012)));
        assert_eq!(calc("ANU-I-E", "abc"), Err(CalcError::NotANumber));
        assert_eq!(calc("ANU-I-E", "-1"), Err(CalcError::NotANumber));
        assert_eq!(calc("ANU-I-E", ""), Err(CalcError::NoQuantity));
        assert_eq!(calc("ANU-I-E", &"9".repeat(25)), Err(CalcError::QuantityTooLong));
        assert_eq!(calc("ANU-I-E", "0"), Err(CalcError::Quote(QuoteError::Quantity(QuantityError::NotPositive))));
        assert_eq!(
            calc("ANU-V-A", "1.5"),
            Err(CalcError::Quote(QuoteError::Quantity(QuantityError::Whole))),
            "inflatables are counted"
        );
        assert_eq!(calc("NOPE", "1"), Err(CalcError::UnknownTariff("NOPE".into())));
        assert_eq!(calc("VP-TAXI", "1"), Err(CalcError::UnknownTariff("VP-TAXI".into())), "another procedure's");
        assert_eq!(calc(" ", "1"), Err(CalcError::NoTariff));
        assert!(matches!(calc("ANU-IV", "1"), Err(CalcError::Quote(QuoteError::StaffSetsAmount { .. }))));

        let espectaculos = m.procedure("espectaculos").unwrap();
        let sales = calculate(&m, Some(&uma), espectaculos, "ESP-BOLETAJE", "$12,345.67", day()).unwrap();
        assert_eq!(sales.fee, Centavos(123_457));
        assert_eq!(
            calculate(&m, Some(&uma), espectaculos, "ESP-BOLETAJE", "1,2", day()),
            Err(CalcError::Amount(MoneyError::ThousandsSeparator))
        );

        let e = AppError::from(calc("ANU-I-E", "abc").unwrap_err());
        assert_eq!((e.status, e.field.as_deref(), e.code.as_str()), (400, Some("cantidad"), "invalid_quantity"));
        assert!(e.message_es.starts_with("Escriba la cantidad"));
        let alcoholes = m.procedure("alcoholes").unwrap();
        let refused = calculate(&m, Some(&uma), alcoholes, "ALC-HEX-AGENCIA", "1", day()).unwrap_err();
        assert!(matches!(refused, CalcError::Quote(QuoteError::NotAuthorized(_))));
        let e = AppError::from(refused);
        assert_eq!((e.status, e.field.as_deref()), (422, Some("tarifa")));
    }

    #[test]
    fn the_calculator_offers_fixed_rates_only() {
        let m = loreto();
        let codes: Vec<&str> =
            calculable(&m, "anuncios", day()).iter().flat_map(|g| g.tariffs.iter().map(|t| t.code.as_str())).collect();
        assert!(codes.contains(&"ANU-I-E") && !codes.contains(&"ANU-IV") && !codes.contains(&"ANU-V-C"));
        assert!(calculable(&m, "licencia-comercial", day()).is_empty());
    }
}
