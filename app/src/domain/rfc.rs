//! The RFC (Registro Federal de Contribuyentes), the Mexican tax id that
//! taxpayers type to find their accounts.
//!
//! Shape, as issued by the SAT:
//! * persona moral (companies): 12 characters — 3 letters `[A-Z&Ñ]`,
//!   the date of incorporation `YYMMDD`, a 3-character homoclave;
//! * persona física (people): 13 characters — 4 letters `[A-Z&Ñ]`,
//!   the date of birth `YYMMDD`, a 3-character homoclave.
//!
//! The homoclave is two characters `[A-Z0-9]` plus a check digit `[0-9A]`
//! computed with the SAT mod-11 algorithm ([`rfc_check_digit`]). About 1.5 %
//! of RFCs actually issued do not satisfy their check digit, so a wrong digit
//! does not make [`Rfc::parse`] fail: callers use [`Rfc::check_digit_ok`] to
//! add a "verifique su RFC" hint when a search finds nothing.
//!
//! The generic RFCs `XAXX010101000` (público en general) and `XEXX010101000`
//! (foreign residents) are shared by many people and are refused as search
//! keys ([`RfcError::Generic`]).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Longest input processed at all (people type spaces and hyphens, so this
/// is more than 13).
const MAX_INPUT_CHARS: usize = 20;

/// Generic RFC for domestic "público en general" operations.
pub const GENERIC_RFC_NATIONAL: &str = "XAXX010101000";
/// Generic RFC for operations with foreign residents.
pub const GENERIC_RFC_FOREIGN: &str = "XEXX010101000";

/// Values of the SAT check-digit table: the position of each character in
/// this string is its value (`'0'` = 0 … `'&'` = 24 … `' '` = 37, `'Ñ'` = 38).
const CHECK_DIGIT_TABLE: &str = "0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ Ñ";

/// A syntactically valid, non-generic RFC, normalised (no surrounding or
/// inner spaces, no hyphens, uppercase). Deserialising goes through
/// [`Rfc::parse`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Rfc(String);

string_enum! {
    /// Persona física or persona moral.
    pub enum PersonKind {
        /// Persona física (13-character RFC).
        Fisica = "fisica",
        /// Persona moral (12-character RFC).
        Moral = "moral",
    }
}

impl Rfc {
    /// Normalises and validates an RFC as typed by a person.
    pub fn parse(s: &str) -> Result<Rfc, RfcError> {
        let trimmed = s.trim();
        if trimmed.is_empty() {
            return Err(RfcError::Empty);
        }
        // Bounded before any allocation: `nth` stops after 21 characters.
        if trimmed.len() > 4 * MAX_INPUT_CHARS || trimmed.chars().nth(MAX_INPUT_CHARS).is_some() {
            return Err(RfcError::TooLong);
        }
        // Uppercase of ASCII letters and ñ only: a full Unicode uppercase
        // would turn one typed character into an RFC's two ('ß' → "SS",
        // 'ﬀ' → "FF") or a foreign letter into an ASCII one ('ı' → 'I').
        let normalised: String = trimmed
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| if c == 'ñ' { 'Ñ' } else { c.to_ascii_uppercase() })
            .collect();
        if normalised.is_empty() {
            return Err(RfcError::Empty);
        }
        if normalised == GENERIC_RFC_NATIONAL || normalised == GENERIC_RFC_FOREIGN {
            return Err(RfcError::Generic);
        }
        let chars: Vec<char> = normalised.chars().collect();
        let letters = match chars.len() {
            12 => 3,
            13 => 4,
            _ => return Err(RfcError::Length),
        };
        let (name, rest) = chars.split_at(letters);
        let (date, homoclave) = rest.split_at(6);
        let shape_ok = name.iter().all(|&c| is_rfc_letter(c))
            && date.iter().all(char::is_ascii_digit)
            && homoclave[..2].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            && (homoclave[2].is_ascii_digit() || homoclave[2] == 'A');
        if !shape_ok {
            return Err(RfcError::Shape);
        }
        let digits: String = date.iter().collect();
        if !is_real_date(&digits) {
            return Err(RfcError::Date);
        }
        Ok(Rfc(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Moral for 12 characters, física for 13.
    pub fn person_kind(&self) -> PersonKind {
        if self.0.chars().count() == 12 {
            PersonKind::Moral
        } else {
            PersonKind::Fisica
        }
    }

    /// Whether the last character matches the SAT check digit. A `false`
    /// here is a hint for the user, never a rejection.
    pub fn check_digit_ok(&self) -> bool {
        let mut chars = self.0.chars();
        match chars.next_back() {
            Some(last) => rfc_check_digit(chars.as_str()) == Some(last),
            None => false,
        }
    }
}

impl std::fmt::Display for Rfc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Rfc {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Rfc {
    type Error = RfcError;
    fn try_from(s: String) -> Result<Rfc, RfcError> {
        Rfc::parse(&s)
    }
}

impl From<Rfc> for String {
    fn from(r: Rfc) -> String {
        r.0
    }
}

fn is_rfc_letter(c: char) -> bool {
    c.is_ascii_uppercase() || c == '&' || c == 'Ñ'
}

/// `YYMMDD` is a real calendar date in 19YY or in 20YY (the RFC does not say
/// which century; 29 February is valid when either century makes it a leap
/// year).
fn is_real_date(yymmdd: &str) -> bool {
    let field = |r: std::ops::Range<usize>| yymmdd.get(r).and_then(|s| s.parse::<u32>().ok());
    let (Some(yy), Some(mm), Some(dd)) = (field(0..2), field(2..4), field(4..6)) else {
        return false;
    };
    let yy = yy as i32; // two digits: lossless
    [1900, 2000].iter().any(|century| NaiveDate::from_ymd_opt(century + yy, mm, dd).is_some())
}

/// The SAT check digit for the characters that precede it: 11 for a persona
/// moral, 12 for a persona física. `None` if the length is wrong or a
/// character is outside the SAT table.
///
/// Algorithm (SAT): left-pad to 12 characters with a space; give each
/// character its position in `0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ Ñ`;
/// `sum = Σ value(cᵢ)·(13 − i)` for `i = 0..12`; `r = 11 − sum mod 11`;
/// the digit is `'0'` when `r = 11`, `'A'` when `r = 10`, else `r`.
pub fn rfc_check_digit(first_chars: &str) -> Option<char> {
    let chars: Vec<char> = first_chars.chars().take(13).collect();
    let padded: Vec<char> = match chars.len() {
        11 => std::iter::once(' ').chain(chars).collect(),
        12 => chars,
        _ => return None,
    };
    let mut sum: u32 = 0;
    for (i, c) in padded.iter().enumerate() {
        let value = CHECK_DIGIT_TABLE.chars().position(|t| t == *c)?;
        sum += (value as u32) * (13 - i as u32);
    }
    match 11 - sum % 11 {
        11 => Some('0'),
        10 => Some('A'),
        r => char::from_digit(r, 10),
    }
}

/// Why an RFC was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone, Copy)]
pub enum RfcError {
    #[error("the RFC is empty")]
    Empty,
    #[error("the RFC is too long")]
    TooLong,
    #[error("an RFC has 12 (company) or 13 (person) characters")]
    Length,
    #[error("the RFC does not have the shape letters + date + homoclave")]
    Shape,
    #[error("the date in the RFC is not a real date")]
    Date,
    #[error("generic RFC; search by account number")]
    Generic,
}

impl RfcError {
    /// Machine-readable code for the JSON API.
    pub fn code(&self) -> &'static str {
        match self {
            RfcError::Generic => "generic_rfc",
            _ => "invalid_rfc",
        }
    }

    pub fn message_es(&self) -> &'static str {
        match self {
            RfcError::Empty => "Escriba su RFC.",
            RfcError::TooLong => "RFC inválido: es demasiado largo; un RFC tiene 12 o 13 caracteres.",
            RfcError::Length => "RFC inválido: tiene 12 caracteres (persona moral) o 13 (persona física).",
            RfcError::Shape => {
                "RFC inválido: no tiene el formato esperado: letras iniciales, fecha (AAMMDD) y homoclave."
            }
            RfcError::Date => "RFC inválido: la fecha que contiene (AAMMDD) no existe.",
            RfcError::Generic => {
                "El RFC genérico XAXX010101000 lo comparten muchas personas; búsquelo por número de cuenta."
            }
        }
    }

    pub fn message_en(&self) -> &'static str {
        match self {
            RfcError::Empty => "Enter your RFC.",
            RfcError::TooLong => "Invalid RFC: too long; an RFC has 12 or 13 characters.",
            RfcError::Length => "Invalid RFC: it has 12 characters (company) or 13 (individual).",
            RfcError::Shape => {
                "Invalid RFC: it does not have the expected format: initial letters, date (YYMMDD) and homoclave."
            }
            RfcError::Date => "Invalid RFC: the date inside it (YYMMDD) does not exist.",
            RfcError::Generic => {
                "The generic RFC XAXX010101000 is shared by many people; search by account number instead."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_published_rfcs_have_valid_digits() {
        // GODE561231GR8: the SAT's worked example; SAT970701NN3: the SAT itself.
        for s in ["GODE561231GR8", "SAT970701NN3"] {
            let rfc = Rfc::parse(s).unwrap();
            assert!(rfc.check_digit_ok(), "{s}");
        }
        assert_eq!(rfc_check_digit("GODE561231GR"), Some('8'));
        assert_eq!(rfc_check_digit("SAT970701NN"), Some('3'));
    }

    #[test]
    fn check_digit_hand_computed() {
        // " ABC680524P7" (space = 37, A = 10, B = 11, C = 12, P = 26):
        //   37·13 + 10·12 + 11·11 + 12·10 + 6·9 + 8·8 + 0·7 + 5·6 + 2·5 + 4·4 + 26·3 + 7·2
        //   = 481 + 120 + 121 + 120 + 54 + 64 + 0 + 30 + 10 + 16 + 78 + 14 = 1108;
        //   1108 mod 11 = 8; r = 11 − 8 = 3.
        assert_eq!(rfc_check_digit("ABC680524P7"), Some('3'));
        // r == 10 → 'A' (Ñ = 38 counts): "ÑAÑ010101AB" → 'A'.
        assert_eq!(rfc_check_digit("ÑAÑ010101AB"), Some('A'));
        // r == 11 → '0' ('&' = 24): "A&B010101AB" → '0'.
        assert_eq!(rfc_check_digit("A&B010101AB"), Some('0'));
        assert_eq!(rfc_check_digit("SHORT"), None);
        assert_eq!(rfc_check_digit("ABC680524P7?"), None);
        assert_eq!(rfc_check_digit(&"A".repeat(1000)), None);
    }

    #[test]
    fn parse_normalises() {
        let rfc = Rfc::parse("  gode-561231 gr8 ").unwrap();
        assert_eq!(rfc.as_str(), "GODE561231GR8");
        assert_eq!(rfc.person_kind(), PersonKind::Fisica);
        let moral = Rfc::parse("abc680524p73").unwrap();
        assert_eq!(moral.person_kind(), PersonKind::Moral);
        assert!(moral.check_digit_ok());
        let enie = Rfc::parse("ñaÑ010101aba").unwrap();
        assert_eq!(enie.as_str(), "ÑAÑ010101ABA");
        assert!(enie.check_digit_ok());
        assert_eq!(enie.person_kind(), PersonKind::Moral);
        assert!(Rfc::parse("A&B010101AB0").unwrap().check_digit_ok());
    }

    #[test]
    fn wrong_check_digit_still_parses() {
        // A sample RFC seen in SAT documentation whose digit does not verify (it should be 8).
        let rfc = Rfc::parse("CUPU800825569").unwrap();
        assert!(!rfc.check_digit_ok());
        assert!(!Rfc::parse("GODE561231GR9").unwrap().check_digit_ok());
    }

    #[test]
    fn errors() {
        use RfcError::*;
        let cases = [
            ("", Empty),
            ("   ", Empty),
            ("- -", Empty),
            ("GODE561231GR8GODE561231GR8", TooLong),
            ("GODE561231G", Length),
            ("GODE561231GR", Shape), // 12 characters: read as moral, "E" in the date
            ("GODE561231GR8X", Length),
            ("G0DE561231GR8", Shape), // digit among the letters
            ("GODE56123AGR8", Shape), // letter in the date
            ("GODE561231G_8", Shape), // bad homoclave character
            ("GODE561231GRB", Shape), // check digit must be [0-9A]
            ("GODE561231ÑR8", Shape), // Ñ not allowed in the homoclave
            ("GODE561331GR8", Date),  // month 13
            ("GODE560230GR8", Date),  // 30 February
            ("GODE010229GR8", Date),  // 2001 and 1901 are not leap years
            ("GODE000000GR8", Date),
            ("XAXX010101000", Generic),
            ("xexx-010101-000", Generic),
        ];
        for (input, err) in cases {
            assert_eq!(Rfc::parse(input), Err(err), "input {input:?}");
        }
        let huge = "A".repeat(1_000_000);
        assert_eq!(Rfc::parse(&huge), Err(TooLong));
    }

    #[test]
    fn leap_days() {
        assert!(Rfc::parse("GODE000229GR8").is_ok()); // 2000 is a leap year (1900 is not)
        assert!(Rfc::parse("GODE960229GR8").is_ok());
        assert!(Rfc::parse("GODE240229GR8").is_ok());
        assert_eq!(Rfc::parse("GODE230229GR8"), Err(RfcError::Date));
    }

    #[test]
    fn error_codes_and_messages() {
        assert_eq!(RfcError::Generic.code(), "generic_rfc");
        for e in [RfcError::Empty, RfcError::TooLong, RfcError::Length, RfcError::Shape, RfcError::Date] {
            assert_eq!(e.code(), "invalid_rfc");
            assert!(!e.message_es().is_empty() && !e.message_en().is_empty());
        }
        assert_eq!(
            RfcError::Generic.message_es(),
            "El RFC genérico XAXX010101000 lo comparten muchas personas; búsquelo por número de cuenta."
        );
    }

    #[test]
    fn serde_goes_through_parse() {
        let rfc: Rfc = serde_json::from_str("\"gode561231gr8\"").unwrap();
        assert_eq!(rfc.as_str(), "GODE561231GR8");
        assert_eq!(serde_json::to_string(&rfc).unwrap(), "\"GODE561231GR8\"");
        assert!(serde_json::from_str::<Rfc>("\"XAXX010101000\"").is_err());
        assert_eq!(serde_json::to_string(&PersonKind::Fisica).unwrap(), "\"fisica\"");
        assert_eq!(serde_json::from_str::<PersonKind>("\"moral\"").unwrap(), PersonKind::Moral);
        assert_eq!(PersonKind::parse(PersonKind::Moral.as_str()), Some(PersonKind::Moral));
        assert_eq!(PersonKind::parse(PersonKind::Fisica.as_str()), Some(PersonKind::Fisica));
        assert_eq!(PersonKind::parse("otra"), None);
    }

    fn letter() -> impl Strategy<Value = char> {
        prop::sample::select("ABCDEFGHIJKLMNOPQRSTUVWXYZ&Ñ".chars().collect::<Vec<_>>())
    }
    fn homo() -> impl Strategy<Value = char> {
        prop::sample::select("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".chars().collect::<Vec<_>>())
    }

    proptest! {
        #[test]
        fn generated_rfcs_with_their_digit_verify(
            name in prop::collection::vec(letter(), 3..=4),
            date in (0u32..100, 1u32..=12, 1u32..=28),
            h in prop::collection::vec(homo(), 2),
        ) {
            let first = format!(
                "{}{:02}{:02}{:02}{}",
                name.iter().collect::<String>(), date.0, date.1, date.2, h.iter().collect::<String>()
            );
            let digit = rfc_check_digit(&first).unwrap();
            let full = format!("{first}{digit}");
            prop_assume!(full != GENERIC_RFC_NATIONAL && full != GENERIC_RFC_FOREIGN);
            let rfc = Rfc::parse(&full.to_lowercase()).unwrap();
            prop_assert!(rfc.check_digit_ok());
            prop_assert_eq!(rfc.as_str(), full.as_str());
            let expected = if name.len() == 3 { PersonKind::Moral } else { PersonKind::Fisica };
            prop_assert_eq!(rfc.person_kind(), expected);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,30}") {
            let _ = Rfc::parse(&s);
        }
    }
}

/// Property-based fuzzing of [`Rfc::parse`]: `cargo test -p app --features
/// ssr --lib fuzz::` (the CI stage `fuzz` runs it with `PROPTEST_CASES`).
#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::domain::fuzz::{any_text, config};
    use proptest::prelude::*;

    const ALL_ERRORS: [RfcError; 6] =
        [RfcError::Empty, RfcError::TooLong, RfcError::Length, RfcError::Shape, RfcError::Date, RfcError::Generic];

    /// Characters an RFC is made of, and the ones people and keyboards add.
    fn rfc_like(max: usize) -> impl Strategy<Value = String> {
        let chars: Vec<char> = "ABCDEGHJXYZ&Ññabcxz0123456789 --\t\u{a0}ßﬀıÉé_.".chars().collect();
        prop::collection::vec(prop::sample::select(chars), 0..max).prop_map(|c| c.into_iter().collect())
    }

    /// A valid RFC in canonical form (its check digit right or not).
    fn valid_rfc() -> impl Strategy<Value = String> {
        let letter = prop::sample::select("ABCDEFGHIJKLMNOPQRSTUVWXYZ&Ñ".chars().collect::<Vec<_>>());
        let homo = prop::sample::select("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".chars().collect::<Vec<_>>());
        let digit = prop::sample::select("0123456789A".chars().collect::<Vec<_>>());
        let date = (0u32..100, 1u32..=12, 1u32..=28);
        (prop::collection::vec(letter, 3..=4), date, prop::collection::vec(homo, 2), digit)
            .prop_map(|(name, (yy, mm, dd), h, d)| {
                format!("{}{yy:02}{mm:02}{dd:02}{}{d}", name.iter().collect::<String>(), h.iter().collect::<String>())
            })
            .prop_filter("not generic", |s| s != GENERIC_RFC_NATIONAL && s != GENERIC_RFC_FOREIGN)
    }

    /// Checks what every answer of [`Rfc::parse`] must satisfy.
    fn check(input: &str) -> Result<(), TestCaseError> {
        match Rfc::parse(input) {
            Ok(rfc) => {
                let s = rfc.as_str();
                let n = s.chars().count();
                prop_assert!(n == 12 || n == 13, "{s}");
                prop_assert!(s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '&' || c == 'Ñ'));
                prop_assert_eq!(rfc.person_kind() == PersonKind::Moral, n == 12);
                // One character typed (beyond spaces and hyphens), one kept.
                let typed = input.chars().filter(|c| !c.is_whitespace() && *c != '-').count();
                prop_assert_eq!(typed, n);
                let _ = rfc.check_digit_ok();
                // Accepted values round-trip, through text and through serde.
                prop_assert_eq!(Rfc::parse(s), Ok(rfc.clone()));
                let shown = format!("{rfc}");
                prop_assert_eq!(Rfc::parse(&shown), Ok(rfc.clone()));
                let json = serde_json::to_string(&rfc).unwrap();
                prop_assert_eq!(serde_json::from_str::<Rfc>(&json).unwrap(), rfc);
            }
            Err(e) => {
                prop_assert!(ALL_ERRORS.contains(&e));
                prop_assert!(
                    e.message_es().starts_with("RFC inválido") || e == RfcError::Empty || e == RfcError::Generic
                );
                prop_assert!(!e.message_en().is_empty());
                prop_assert_eq!(e.code(), if e == RfcError::Generic { "generic_rfc" } else { "invalid_rfc" });
                let trimmed = input.trim();
                if trimmed.is_empty() {
                    prop_assert_eq!(e, RfcError::Empty);
                } else if trimmed.chars().count() > MAX_INPUT_CHARS {
                    prop_assert_eq!(e, RfcError::TooLong);
                } else {
                    let typed = trimmed.chars().filter(|c| !c.is_whitespace() && *c != '-').count();
                    match typed {
                        0 => prop_assert_eq!(e, RfcError::Empty),
                        12 | 13 => prop_assert!(matches!(e, RfcError::Shape | RfcError::Date | RfcError::Generic)),
                        _ => prop_assert_eq!(e, RfcError::Length),
                    }
                }
                // Serde refuses what parse refuses.
                prop_assert!(serde_json::from_str::<Rfc>(&serde_json::to_string(input).unwrap()).is_err());
            }
        }
        Ok(())
    }

    #[test]
    fn one_typed_character_is_one_rfc_character() {
        // A full Unicode uppercase read these as valid RFCs ("GOSS561231GR8",
        // "FFAB561231GR8", "IBC680524P73").
        for input in ["GOß561231GR8", "ﬀAB561231GR8", "ıBC680524P73"] {
            assert_eq!(Rfc::parse(input), Err(RfcError::Shape), "{input}");
        }
        assert_eq!(Rfc::parse("ñaÑ010101aba").unwrap().as_str(), "ÑAÑ010101ABA");
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_text_never_panics(s in any_text(64)) {
            check(&s)?;
        }

        #[test]
        fn rfc_like_text_is_accepted_canonical_or_refused_as_documented(s in rfc_like(24)) {
            check(&s)?;
        }

        #[test]
        fn arbitrary_bytes_read_lossily_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            check(&String::from_utf8_lossy(&bytes))?;
        }

        #[test]
        fn a_valid_rfc_as_people_type_it_parses_to_itself(
            rfc in valid_rfc(),
            lower in prop::collection::vec(any::<bool>(), 13),
            seps in prop::collection::vec((0usize..14, prop::sample::select(vec![" ", "-", "\t", "\u{a0}"])), 0..=7),
            pad in prop::sample::select(vec!["", " ", "\n", "\t ", "\u{3000}"]),
        ) {
            let mut chars: Vec<String> = rfc
                .chars()
                .zip(&lower)
                .map(|(c, &l)| if l { c.to_lowercase().collect() } else { c.to_string() })
                .collect();
            for (at, sep) in seps {
                chars.insert(at.min(chars.len()), sep.to_string());
            }
            let typed = format!("{pad}{}{pad}", chars.concat());
            prop_assert_eq!(Rfc::parse(&typed).map(|r| r.as_str().to_string()), Ok(rfc));
            check(&typed)?;
        }

        #[test]
        fn a_wrong_character_in_a_valid_rfc_is_a_shape_error(
            rfc in valid_rfc(),
            at in any::<prop::sample::Index>(),
            bad in prop::sample::select("_.*/@#$%!?éÉüÜ0".chars().collect::<Vec<_>>()),
        ) {
            let mut chars: Vec<char> = rfc.chars().collect();
            let letters = chars.len() - 9;
            // A digit is only wrong among the initial letters.
            let at = if bad == '0' { at.index(letters) } else { at.index(chars.len()) };
            chars[at] = bad;
            let broken: String = chars.into_iter().collect();
            prop_assert_eq!(Rfc::parse(&broken), Err(RfcError::Shape));
            prop_assert_eq!(
                Rfc::parse(&broken).unwrap_err().message_es(),
                "RFC inválido: no tiene el formato esperado: letras iniciales, fecha (AAMMDD) y homoclave."
            );
        }
    }
}
