//! Folio: the number printed on a recibo, e.g. `A-2026-000123`.
//!
//! Canonical form `SERIE-AAAA-NNNNNN`:
//! * serie: 1 to 4 characters `[A-Z0-9]`, the first a letter (`A` for
//!   online payments, `DEMO` for the demonstration provider's receipts,
//!   which have no legal value, e.g. `C1` for a cashier box);
//! * fiscal year: 4 digits, 1000–9999 (no leading zero);
//! * sequence number: ≥ 1, zero-padded to 6 digits; numbers above 999,999
//!   print with as many digits as they need (`A-2026-1234567`), never with
//!   leading zeros.
//!
//! [`Folio::parse`] is strict: it accepts exactly the canonical form, except
//! that surrounding whitespace is ignored and lowercase letters are
//! normalised to uppercase. So every folio has exactly one canonical text,
//! which is what the receipt signature signs (see `receipt_sig`).
//!
//! Serde reads and writes the canonical string.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Maximum length of a serie.
pub const MAX_SERIES_LEN: usize = 4;
/// Digits the sequence number is zero-padded to.
pub const NUMBER_PAD: usize = 6;

/// The series of receipts of online payments.
pub const ONLINE_SERIES: &str = "A";

/// The series of receipts of the demonstration provider (`recauda demo`):
/// no money moved, so they have no value, and every verdict says so. The
/// series is part of the signed folio, so a demo receipt cannot pass for
/// an online one.
pub const DEMO_SERIES: &str = "DEMO";

/// The series of permit requests' numbers (SOL-2026-000123): counted like
/// folios, but a number, not a receipt.
pub const REQUEST_SERIES: &str = "SOL";

/// The series of permits (PER-2026-000001), gapless like receipts'.
pub const PERMIT_SERIES: &str = "PER";

/// The series of permits paid through the demonstration provider: no
/// money moved, so they have no value.
pub const DEMO_PERMIT_SERIES: &str = "PDEM";

#[cfg(test)]
mod series_tests {
    use super::*;

    /// Every series the portal itself numbers is a valid folio series.
    #[test]
    fn the_portals_own_series_are_folio_series() {
        for series in [ONLINE_SERIES, DEMO_SERIES, REQUEST_SERIES, PERMIT_SERIES, DEMO_PERMIT_SERIES] {
            assert_eq!(Folio::new(series, 2026, 1).map(|f| f.series().to_string()), Ok(series.to_string()));
        }
    }
}

/// A recibo's folio. Construct with [`Folio::new`] or [`Folio::parse`];
/// every value is valid.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Folio {
    series: String,
    year: u16,
    number: u32,
}

impl Folio {
    /// Builds a folio from its parts. The serie is normalised to uppercase.
    pub fn new(series: &str, year: u16, number: u32) -> Result<Folio, FolioError> {
        let series = parse_series(series)?;
        if !(1000..=9999).contains(&year) {
            return Err(FolioError::Year);
        }
        if number == 0 {
            return Err(FolioError::NumberZero);
        }
        Ok(Folio { series, year, number })
    }

    /// Parses the canonical form (see the module documentation).
    pub fn parse(s: &str) -> Result<Folio, FolioError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(FolioError::Empty);
        }
        let mut parts = s.split('-');
        let (Some(series), Some(year), Some(number), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(FolioError::Format);
        };
        let series = parse_series(series)?;

        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) || year.starts_with('0') {
            return Err(FolioError::Year);
        }
        let year: u16 = year.parse().map_err(|_| FolioError::Year)?;

        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FolioError::Number);
        }
        if number.bytes().all(|b| b == b'0') {
            return Err(FolioError::NumberZero);
        }
        // Canonical padding: exactly 6 digits, or more digits without a
        // leading zero.
        if number.len() < NUMBER_PAD || (number.len() > NUMBER_PAD && number.starts_with('0')) {
            return Err(FolioError::Number);
        }
        // At most 10 digits fit in u32 (4,294,967,295); longer is too large.
        if number.len() > 10 {
            return Err(FolioError::NumberTooLarge);
        }
        let number: u32 = number.parse().map_err(|_| FolioError::NumberTooLarge)?;

        Ok(Folio { series, year, number })
    }

    /// The serie, e.g. `"A"` or `"C1"`.
    pub fn series(&self) -> &str {
        &self.series
    }

    /// A receipt of the demonstration provider ([`DEMO_SERIES`]): no value.
    pub fn is_demo(&self) -> bool {
        self.series == DEMO_SERIES
    }

    /// The fiscal year.
    pub fn year(&self) -> u16 {
        self.year
    }

    /// The sequence number (≥ 1).
    pub fn number(&self) -> u32 {
        self.number
    }
}

fn parse_series(s: &str) -> Result<String, FolioError> {
    let bytes = s.as_bytes();
    let ok = !bytes.is_empty()
        && bytes.len() <= MAX_SERIES_LEN
        && bytes[0].is_ascii_alphabetic()
        && bytes.iter().all(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(s.to_ascii_uppercase())
    } else {
        Err(FolioError::Series)
    }
}

impl fmt::Display for Folio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{:0width$}", self.series, self.year, self.number, width = NUMBER_PAD)
    }
}

impl FromStr for Folio {
    type Err = FolioError;
    fn from_str(s: &str) -> Result<Folio, FolioError> {
        Folio::parse(s)
    }
}

impl Serialize for Folio {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Folio {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Folio;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a folio such as \"A-2026-000123\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Folio, E> {
                Folio::parse(v).map_err(|e| E::custom(e.message_en()))
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// Why a folio could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone, Copy)]
pub enum FolioError {
    #[error("the folio is empty")]
    Empty,
    #[error("the folio must have the form SERIES-YEAR-NUMBER")]
    Format,
    #[error("the folio series must be 1 to 4 letters or digits, starting with a letter")]
    Series,
    #[error("the folio year must have 4 digits")]
    Year,
    #[error("the folio number must have 6 digits")]
    Number,
    #[error("the folio number must not be zero")]
    NumberZero,
    #[error("the folio number is too large")]
    NumberTooLarge,
}

impl FolioError {
    pub fn message_es(&self) -> &'static str {
        match self {
            FolioError::Empty => "Escriba el folio.",
            FolioError::Format => "El folio debe tener la forma SERIE-AÑO-NÚMERO (por ejemplo A-2026-000123).",
            FolioError::Series => "La serie del folio debe tener de 1 a 4 letras o dígitos y empezar con una letra.",
            FolioError::Year => "El año del folio debe tener 4 dígitos (por ejemplo 2026).",
            FolioError::Number => {
                "El número del folio debe tener 6 dígitos, con ceros a la izquierda (por ejemplo 000123)."
            }
            FolioError::NumberZero => "El número del folio no puede ser cero.",
            FolioError::NumberTooLarge => "El número del folio es demasiado grande.",
        }
    }

    pub fn message_en(&self) -> &'static str {
        match self {
            FolioError::Empty => "Enter the folio.",
            FolioError::Format => "The folio must have the form SERIES-YEAR-NUMBER (e.g. A-2026-000123).",
            FolioError::Series => "The folio series must be 1 to 4 letters or digits, starting with a letter.",
            FolioError::Year => "The folio year must have 4 digits (e.g. 2026).",
            FolioError::Number => "The folio number must have 6 digits, zero-padded (e.g. 000123).",
            FolioError::NumberZero => "The folio number must not be zero.",
            FolioError::NumberTooLarge => "The folio number is too large.",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn f(series: &str, year: u16, number: u32) -> Folio {
        Folio::new(series, year, number).unwrap()
    }

    #[test]
    fn display_pads_to_six_digits() {
        assert_eq!(f("A", 2026, 123).to_string(), "A-2026-000123");
        assert_eq!(f("A", 2026, 1).to_string(), "A-2026-000001");
        assert_eq!(f("C1", 2027, 999_999).to_string(), "C1-2027-999999");
        assert_eq!(f("ZZ99", 2026, 1_000_000).to_string(), "ZZ99-2026-1000000");
        assert_eq!(f("B", 2026, u32::MAX).to_string(), "B-2026-4294967295");
    }

    #[test]
    fn parse_accepts_canonical_and_normalises() {
        let a = Folio::parse("A-2026-000123").unwrap();
        assert_eq!((a.series(), a.year(), a.number()), ("A", 2026, 123));
        assert_eq!(Folio::parse("  a-2026-000123\n").unwrap(), a);
        assert_eq!(Folio::parse("c1-2026-000007").unwrap().series(), "C1");
        assert_eq!(Folio::parse("Ab3z-2026-000007").unwrap().series(), "AB3Z");
        assert_eq!(Folio::parse("A-2026-1234567").unwrap().number(), 1_234_567);
        assert_eq!(Folio::parse("A-2026-4294967295").unwrap().number(), u32::MAX);
        assert_eq!(Folio::new("c1", 2026, 5).unwrap().series(), "C1");
    }

    #[test]
    fn parse_rejects() {
        use FolioError::*;
        let cases = [
            ("", Empty),
            ("   ", Empty),
            ("A2026000123", Format),
            ("A-2026", Format),
            ("A-2026-000123-1", Format),
            ("A–2026–000123", Format), // en dashes
            ("A 2026 000123", Format),
            ("-2026-000123", Series),
            ("1A-2026-000123", Series),
            ("ABCDE-2026-000123", Series),
            ("Ñ-2026-000123", Series),
            ("A_-2026-000123", Series),
            ("A -2026-000123", Series),
            ("A-26-000123", Year),
            ("A-02026-000123", Year),
            ("A-0999-000123", Year),
            ("A-20X6-000123", Year),
            ("A-２０２６-000123", Year), // full-width digits
            ("A-2026-", Number),
            ("A-2026-123", Number),     // not padded
            ("A-2026-00123", Number),   // not padded enough
            ("A-2026-0001234", Number), // over-padded
            ("A-2026-+00123", Number),
            ("A-2026-00012a", Number),
            ("A-2026- 000123", Number),
            ("A-2026-000000", NumberZero),
            ("A-2026-0000000", NumberZero),
            ("A-2026-4294967296", NumberTooLarge),
            ("A-2026-99999999999", NumberTooLarge),
        ];
        for (input, err) in cases {
            assert_eq!(Folio::parse(input), Err(err), "input {input:?}");
        }
    }

    #[test]
    fn new_rejects() {
        assert_eq!(Folio::new("", 2026, 1), Err(FolioError::Series));
        assert_eq!(Folio::new("9A", 2026, 1), Err(FolioError::Series));
        assert_eq!(Folio::new("A-1", 2026, 1), Err(FolioError::Series));
        assert_eq!(Folio::new("A", 999, 1), Err(FolioError::Year));
        assert_eq!(Folio::new("A", 10_000, 1), Err(FolioError::Year));
        assert_eq!(Folio::new("A", 2026, 0), Err(FolioError::NumberZero));
    }

    #[test]
    fn messages() {
        assert_eq!(
            FolioError::Number.message_es(),
            "El número del folio debe tener 6 dígitos, con ceros a la izquierda (por ejemplo 000123)."
        );
        assert_eq!(
            FolioError::Series.message_en(),
            "The folio series must be 1 to 4 letters or digits, starting with a letter."
        );
        // Every variant has distinct, non-empty messages in both languages.
        use FolioError::*;
        let all = [Empty, Format, Series, Year, Number, NumberZero, NumberTooLarge];
        let es: std::collections::HashSet<_> = all.iter().map(|e| e.message_es()).collect();
        let en: std::collections::HashSet<_> = all.iter().map(|e| e.message_en()).collect();
        assert_eq!((es.len(), en.len()), (all.len(), all.len()));
    }

    #[test]
    fn serde_is_the_canonical_string() {
        let a = f("C1", 2026, 42);
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"C1-2026-000042\"");
        let back: Folio = serde_json::from_str("\"c1-2026-000042\"").unwrap();
        assert_eq!(back, a);
        let err = serde_json::from_str::<Folio>("\"C1-2026-42\"").unwrap_err();
        assert!(err.to_string().contains("6 digits"), "{err}");
        assert!(serde_json::from_str::<Folio>("42").is_err());
    }

    #[test]
    fn ordering_is_series_then_year_then_number() {
        let mut v = [f("B", 2026, 1), f("A", 2027, 1), f("A", 2026, 10), f("A", 2026, 9)];
        v.sort();
        let s: Vec<String> = v.iter().map(|x| x.to_string()).collect();
        assert_eq!(s, ["A-2026-000009", "A-2026-000010", "A-2027-000001", "B-2026-000001"]);
    }

    proptest! {
        #[test]
        fn display_parse_roundtrip(
            series in "[A-Z][A-Z0-9]{0,3}",
            year in 1000u16..=9999,
            number in 1u32..,
        ) {
            let a = Folio::new(&series, year, number).unwrap();
            let s = a.to_string();
            prop_assert_eq!(Folio::parse(&s), Ok(a.clone()));
            prop_assert_eq!(Folio::parse(&s.to_lowercase()), Ok(a));
        }

        #[test]
        fn parse_is_canonical(s in "[A-Za-z0-9]{1,5}-[0-9]{3,5}-[0-9]{1,11}") {
            // Whatever parses prints back to the same text (up to case):
            // one folio, one string.
            if let Ok(a) = Folio::parse(&s) {
                prop_assert_eq!(a.to_string(), s.to_ascii_uppercase());
            }
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,30}") {
            let _ = Folio::parse(&s);
        }
    }
}

/// Property-based fuzzing of [`Folio::parse`]: `cargo test -p app --features
/// ssr --lib fuzz::` (the CI stage `fuzz` runs it with `PROPTEST_CASES`).
#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::domain::fuzz::{any_text, config};
    use proptest::prelude::*;

    /// Folio-shaped text: the right alphabet and separators, and near misses.
    fn folio_like() -> impl Strategy<Value = String> {
        let chars: Vec<char> = "Aa1Zz90--– _ÑⅫ２\n".chars().collect();
        prop::collection::vec(prop::sample::select(chars), 0..24).prop_map(|c| c.into_iter().collect())
    }

    /// A part of a folio: valid, or wrong in a way that names the error.
    #[derive(Clone, Debug)]
    enum Part {
        Good(String),
        Bad(String, FolioError),
    }

    fn series_part() -> impl Strategy<Value = Part> {
        prop_oneof![
            3 => "[A-Za-z][A-Za-z0-9]{0,3}".prop_map(Part::Good),
            1 => prop_oneof![
                Just(String::new()),
                "[0-9][A-Za-z0-9]{0,3}",
                "[A-Z][A-Z0-9]{4,8}",
                "[A-Z][_.Ñé/ ][A-Z]?",
            ]
            .prop_map(|s| Part::Bad(s, FolioError::Series)),
        ]
    }

    fn year_part() -> impl Strategy<Value = Part> {
        prop_oneof![
            3 => (1000u16..=9999).prop_map(|y| Part::Good(y.to_string())),
            1 => prop_oneof![
                "[0-9]{0,3}",
                "[0-9]{5,7}",
                "0[0-9]{3}",
                "[0-9]{1,3}[A-Za-z ]",
                Just("２０２６".to_string()),
            ]
            .prop_map(|s| Part::Bad(s, FolioError::Year)),
        ]
    }

    fn number_part() -> impl Strategy<Value = Part> {
        prop_oneof![
            3 => (1u32..).prop_map(|n| Part::Good(format!("{n:06}"))),
            1 => prop_oneof![
                "[1-9][0-9]{0,4}".prop_map(|s| Part::Bad(s, FolioError::Number)),
                "0[0-9]{6,9}"
                    .prop_filter("not zero", |s| s.bytes().any(|b| b != b'0'))
                    .prop_map(|s| Part::Bad(s, FolioError::Number)),
                "[0-9]{0,5}[a-z+][0-9]{0,3}".prop_map(|s| Part::Bad(s, FolioError::Number)),
                "[0-9]{1,3} [0-9]{1,3}".prop_map(|s| Part::Bad(s, FolioError::Number)),
                "0{1,12}".prop_map(|s| Part::Bad(s, FolioError::NumberZero)),
                (4_294_967_296u64..100_000_000_000).prop_map(|n| Part::Bad(n.to_string(), FolioError::NumberTooLarge)),
                "[1-9][0-9]{10,20}".prop_map(|s| Part::Bad(s, FolioError::NumberTooLarge)),
            ],
        ]
    }

    /// Checks what every answer of [`Folio::parse`] must satisfy.
    fn check(input: &str) -> Result<(), TestCaseError> {
        match Folio::parse(input) {
            Ok(folio) => {
                // One folio, one text: what parses prints back as it was
                // written, up to surrounding whitespace and case.
                prop_assert_eq!(folio.to_string(), input.trim().to_ascii_uppercase());
                prop_assert_eq!(Folio::parse(&folio.to_string()), Ok(folio.clone()));
                let json = serde_json::to_string(&folio).unwrap();
                prop_assert_eq!(serde_json::from_str::<Folio>(&json).unwrap(), folio);
            }
            Err(e) => {
                prop_assert!(!e.message_es().is_empty() && !e.message_en().is_empty());
                prop_assert_eq!(e == FolioError::Empty, input.trim().is_empty());
                prop_assert!(serde_json::from_str::<Folio>(&serde_json::to_string(input).unwrap()).is_err());
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_text_never_panics(s in any_text(40)) {
            check(&s)?;
        }

        #[test]
        fn folio_like_text_is_canonical_or_refused(s in folio_like()) {
            check(&s)?;
        }

        #[test]
        fn arbitrary_bytes_read_lossily_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..40)) {
            check(&String::from_utf8_lossy(&bytes))?;
        }

        #[test]
        fn every_folio_round_trips(series in "[A-Za-z][A-Za-z0-9]{0,3}", year in 1000u16..=9999, number in 1u32..) {
            let folio = Folio::new(&series, year, number).unwrap();
            let text = folio.to_string();
            prop_assert_eq!(Folio::parse(&text), Ok(folio.clone()));
            prop_assert_eq!(Folio::parse(&format!(" \t{}\n", text.to_lowercase())), Ok(folio.clone()));
            let upper = series.to_ascii_uppercase();
            prop_assert_eq!((folio.series(), folio.year(), folio.number()), (upper.as_str(), year, number));
        }

        #[test]
        fn the_first_wrong_part_names_the_error(series in series_part(), year in year_part(), number in number_part()) {
            let text = |p: &Part| match p {
                Part::Good(s) | Part::Bad(s, _) => s.clone(),
            };
            let input = format!("{}-{}-{}", text(&series), text(&year), text(&number));
            let expected = [&series, &year, &number].into_iter().find_map(|p| match p {
                Part::Bad(_, e) => Some(*e),
                Part::Good(_) => None,
            });
            match expected {
                None => prop_assert_eq!(Folio::parse(&input).map(|f| f.to_string()), Ok(input.to_ascii_uppercase())),
                Some(e) => {
                    prop_assert_eq!(Folio::parse(&input), Err(e));
                    prop_assert_eq!(Folio::parse(&input).unwrap_err().message_es(), e.message_es());
                }
            }
        }

        #[test]
        fn a_wrong_number_of_dashes_is_a_format_error(
            parts in prop_oneof![
                prop::collection::vec("[A-Z0-9]{1,6}", 1..3),
                prop::collection::vec("[A-Z0-9]{0,6}", 4..8),
            ],
        ) {
            prop_assert_eq!(Folio::parse(&parts.join("-")), Err(FolioError::Format));
        }
    }
}
