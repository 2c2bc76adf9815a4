//! The payment order reference ("referencia de pago") printed on the
//! formato de pago and typed at a bank window or at the municipal cashier.
//!
//! 16 digits, always:
//!
//! ```text
//!   PP  YY  SSSSSSSSSS  CC
//!   │   │   │           └─ check digits, ISO 7064 MOD 97-10
//!   │   │   └───────────── serial: 10 random digits, drawn by the store
//!   │   │                  (unique among the municipality's orders)
//!   │   └───────────────── last two digits of the year the order was issued
//!   └───────────────────── municipality prefix (00–99)
//! ```
//!
//! The serial is random, not the order's id: a reference is printed and
//! handed to bank windows, so it must not tell how many orders there are nor
//! lead to the next one. A reference opens nothing by itself either: orders
//! are reached online only through their token ([`super::order_token`]).
//!
//! The check digits follow ISO 7064 MOD 97-10 (the scheme of the IBAN, also
//! known to Mexican banks as "base 97"): with `P` the 14-digit payload,
//! `CC = 98 − (P × 100 mod 97)`, so the whole 16-digit number is `≡ 1 (mod
//! 97)`. Because 97 is a prime larger than any single-digit change
//! (`d × 10^k`, `|d| ≤ 9`) or adjacent transposition (`(a − b) × 9 × 10^k`),
//! every single-digit substitution and every transposition of two adjacent
//! different digits is detected — the check digits included.
//!
//! Worked example (by hand): prefix 12, issued in 2026, serial 12345.
//! Payload `12 26 0000012345`; append `00`: `1226000001234500`.
//! Mod 97 in 9-digit chunks, carrying the remainder:
//! `122600000 mod 97 = 51` (97 × 1,263,917 = 122,599,949);
//! `51` + `1234500` → `511234500 mod 97 = 74` (97 × 5,270,458 = 511,234,426);
//! `CC = 98 − 74 = 24`. Reference `1226000001234524`, shown as
//! `1226 0000 0123 4524`.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// Digits of every reference.
pub const REFERENCE_LEN: usize = 16;

/// Largest serial (10 digits).
pub const MAX_SERIAL: u64 = 9_999_999_999;

/// Largest municipality prefix (2 digits).
pub const MAX_PREFIX: u8 = 99;

/// Digits before the check digits.
const PAYLOAD_LEN: usize = REFERENCE_LEN - 2;

/// Longest input looked at by [`OrderReference::parse`] (people type spaces
/// and hyphens between groups).
const MAX_INPUT_CHARS: usize = 40;

/// A valid payment order reference: 16 ASCII digits with correct check
/// digits. Deserialising goes through [`OrderReference::parse`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrderReference(String);

impl OrderReference {
    /// The reference with `serial` of the municipality with
    /// `municipality_prefix`, issued on `issued_on`.
    ///
    /// # Panics
    /// If `municipality_prefix > 99` or `serial > 9_999_999_999`
    /// ([`OrderReference::try_new`] returns an error instead).
    pub fn new(municipality_prefix: u8, serial: u64, issued_on: NaiveDate) -> OrderReference {
        match OrderReference::try_new(municipality_prefix, serial, issued_on) {
            Ok(r) => r,
            Err(e) => panic!("OrderReference::new: {e}"),
        }
    }

    /// Like [`OrderReference::new`], refusing a prefix above 99 or a serial
    /// above [`MAX_SERIAL`].
    pub fn try_new(
        municipality_prefix: u8,
        serial: u64,
        issued_on: NaiveDate,
    ) -> Result<OrderReference, ReferenceError> {
        if municipality_prefix > MAX_PREFIX {
            return Err(ReferenceError::PrefixOutOfRange);
        }
        if serial > MAX_SERIAL {
            return Err(ReferenceError::SerialOutOfRange);
        }
        let year = issued_on.year().rem_euclid(100);
        let mut s = format!("{municipality_prefix:02}{year:02}{serial:010}");
        debug_assert_eq!(s.len(), PAYLOAD_LEN);
        let check = check_digits(s.as_bytes());
        s.push_str(&format!("{check:02}"));
        Ok(OrderReference(s))
    }

    /// Reads a reference typed by a person: surrounding whitespace, spaces
    /// and hyphens are ignored; then exactly 16 ASCII digits with correct
    /// check digits are required.
    pub fn parse(s: &str) -> Result<OrderReference, ReferenceError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ReferenceError::Empty);
        }
        if s.chars().count() > MAX_INPUT_CHARS {
            return Err(ReferenceError::Length);
        }
        let mut digits = String::with_capacity(REFERENCE_LEN);
        for c in s.chars() {
            match c {
                ' ' | '-' => {}
                '0'..='9' => digits.push(c),
                _ => return Err(ReferenceError::NotDigits),
            }
        }
        if digits.len() != REFERENCE_LEN {
            return Err(ReferenceError::Length);
        }
        let (payload, check) = digits.as_bytes().split_at(PAYLOAD_LEN);
        let typed = u32::from(check[0] - b'0') * 10 + u32::from(check[1] - b'0');
        if typed != check_digits(payload) {
            return Err(ReferenceError::CheckDigits);
        }
        Ok(OrderReference(digits))
    }

    /// The 16 digits, without separators.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 16 digits in groups of four: `"1226 0000 0123 4524"`.
    pub fn display_grouped(&self) -> String {
        let mut out = String::with_capacity(REFERENCE_LEN + 3);
        for (i, c) in self.0.chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push(' ');
            }
            out.push(c);
        }
        out
    }

    /// The serial (digits 5–14).
    pub fn serial(&self) -> u64 {
        digits_value(&self.0[4..PAYLOAD_LEN])
    }

    /// The municipality prefix (digits 1–2).
    pub fn municipality_prefix(&self) -> u8 {
        digits_value(&self.0[..2]) as u8
    }

    /// The last two digits of the year the order was issued (digits 3–4).
    pub fn year_suffix(&self) -> u8 {
        digits_value(&self.0[2..4]) as u8
    }
}

/// Value of a string of ASCII digits (at most 10 here: no overflow).
fn digits_value(s: &str) -> u64 {
    s.bytes().fold(0, |acc, b| acc * 10 + u64::from(b - b'0'))
}

/// ISO 7064 MOD 97-10 check digits (2..=98) for a string of ASCII digits:
/// `98 − (payload × 100 mod 97)`.
fn check_digits(payload: &[u8]) -> u32 {
    let r = payload.iter().chain(b"00").fold(0u32, |r, &b| (r * 10 + u32::from(b - b'0')) % 97);
    98 - r
}

impl fmt::Display for OrderReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for OrderReference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrderReference::parse(s)
    }
}

impl TryFrom<String> for OrderReference {
    type Error = ReferenceError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        OrderReference::parse(&s)
    }
}

impl From<OrderReference> for String {
    fn from(r: OrderReference) -> String {
        r.0
    }
}

/// Why a reference could not be read or built.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone, Copy)]
pub enum ReferenceError {
    #[error("the reference is empty")]
    Empty,
    #[error("the reference must have 16 digits")]
    Length,
    #[error("the reference may only contain digits")]
    NotDigits,
    #[error("the reference is not valid: its check digits do not match")]
    CheckDigits,
    #[error("the municipality prefix must be between 0 and 99")]
    PrefixOutOfRange,
    #[error("the serial does not fit in a reference (at most 10 digits)")]
    SerialOutOfRange,
}

impl ReferenceError {
    /// Stable code for APIs.
    pub fn code(&self) -> &'static str {
        "invalid_reference"
    }

    pub fn message_es(&self) -> &'static str {
        match self {
            ReferenceError::Empty => "Escriba la referencia de pago.",
            ReferenceError::Length => "La referencia debe tener 16 dígitos.",
            ReferenceError::NotDigits => "La referencia solo puede contener dígitos.",
            ReferenceError::CheckDigits => "La referencia no es válida: revise los dígitos.",
            ReferenceError::PrefixOutOfRange => "El prefijo del municipio debe estar entre 0 y 99.",
            ReferenceError::SerialOutOfRange => "El número de orden no cabe en la referencia (máximo 10 dígitos).",
        }
    }

    pub fn message_en(&self) -> &'static str {
        match self {
            ReferenceError::Empty => "Enter the payment reference.",
            ReferenceError::Length => "The reference must have 16 digits.",
            ReferenceError::NotDigits => "The reference may only contain digits.",
            ReferenceError::CheckDigits => "The reference is not valid: check the digits.",
            ReferenceError::PrefixOutOfRange => "The municipality prefix must be between 0 and 99.",
            ReferenceError::SerialOutOfRange => "The order number does not fit in the reference (at most 10 digits).",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// Every variant of `r` with one digit replaced by another digit.
    fn substitutions(r: &str) -> Vec<String> {
        let mut out = Vec::new();
        for i in 0..r.len() {
            for d in b'0'..=b'9' {
                if r.as_bytes()[i] != d {
                    let mut b = r.as_bytes().to_vec();
                    b[i] = d;
                    out.push(String::from_utf8(b).unwrap());
                }
            }
        }
        out
    }

    /// Every variant of `r` with two adjacent different digits swapped.
    fn transpositions(r: &str) -> Vec<String> {
        let mut out = Vec::new();
        for i in 0..r.len() - 1 {
            let mut b = r.as_bytes().to_vec();
            if b[i] != b[i + 1] {
                b.swap(i, i + 1);
                out.push(String::from_utf8(b).unwrap());
            }
        }
        out
    }

    #[test]
    fn worked_example_from_the_module_doc() {
        let r = OrderReference::new(12, 12_345, date(2026, 3, 15));
        assert_eq!(r.as_str(), "1226000001234524");
        assert_eq!(r.display_grouped(), "1226 0000 0123 4524");
        assert_eq!(r.to_string(), "1226000001234524");
        assert_eq!(r.serial(), 12_345);
        assert_eq!(r.municipality_prefix(), 12);
        assert_eq!(r.year_suffix(), 26);
        // The whole number is ≡ 1 (mod 97), as ISO 7064 MOD 97-10 requires.
        assert_eq!(1_226_000_001_234_524u64 % 97, 1);
    }

    #[test]
    fn edges() {
        let r = OrderReference::new(0, 0, date(2000, 1, 1));
        assert_eq!(&r.as_str()[..14], "00000000000000");
        assert_eq!(r.as_str(), "0000000000000098"); // 0 mod 97 = 0 → 98
        let r = OrderReference::new(99, MAX_SERIAL, date(2099, 12, 31));
        assert_eq!(&r.as_str()[..14], "99999999999999");
        assert_eq!(r.serial(), MAX_SERIAL);
        assert_eq!(r.municipality_prefix(), 99);
        assert_eq!(OrderReference::parse(r.as_str()), Ok(r));
        assert_eq!(OrderReference::try_new(100, 1, date(2026, 1, 1)), Err(ReferenceError::PrefixOutOfRange));
        assert_eq!(OrderReference::try_new(1, MAX_SERIAL + 1, date(2026, 1, 1)), Err(ReferenceError::SerialOutOfRange));
        assert_eq!(OrderReference::try_new(1, u64::MAX, date(2026, 1, 1)), Err(ReferenceError::SerialOutOfRange));
        // Years outside 2000–2099 keep their last two digits.
        assert_eq!(OrderReference::new(1, 1, date(1999, 6, 1)).year_suffix(), 99);
        assert_eq!(OrderReference::new(1, 1, date(2100, 6, 1)).year_suffix(), 0);
    }

    #[test]
    #[should_panic(expected = "municipality prefix")]
    fn new_panics_on_a_bad_prefix() {
        let _ = OrderReference::new(100, 1, date(2026, 1, 1));
    }

    #[test]
    fn parse_accepts_separators() {
        let want = OrderReference::new(12, 12_345, date(2026, 3, 15));
        for input in [
            "1226000001234524",
            "1226 0000 0123 4524",
            "1226-0000-0123-4524",
            "  1226 - 0000 - 0123 - 4524  ",
            "12 26 0000012345 24",
        ] {
            assert_eq!(OrderReference::parse(input), Ok(want.clone()), "{input:?}");
            assert_eq!(input.parse::<OrderReference>(), Ok(want.clone()));
        }
    }

    #[test]
    fn parse_rejects() {
        use ReferenceError::*;
        let cases = [
            ("", Empty),
            ("   ", Empty),
            ("122600000123452", Length),
            ("12260000012345240", Length),
            ("1226 0000 0123 45", Length),
            ("- - -", Length),
            ("1226000001234525", CheckDigits),
            ("1226000001234500", CheckDigits),
            // 00 and 01 are ≡ 97 and 98 mod 97 but never produced: refused.
            ("0000000000000001", CheckDigits),
            ("1226.0000.0123.4524", NotDigits),
            ("1226_0000_0123_4524", NotDigits),
            ("1226000001234S24", NotDigits),
            ("１２２６000001234524", NotDigits), // full-width digits
            ("١٢26000001234524", NotDigits),     // Arabic-Indic digits
            ("+1226000001234524", NotDigits),
            ("1226\t0000\t0123\t4524", NotDigits),
        ];
        for (input, err) in cases {
            assert_eq!(OrderReference::parse(input), Err(err), "input {input:?}");
        }
        let long = "1".repeat(MAX_INPUT_CHARS + 1);
        assert_eq!(OrderReference::parse(&long), Err(Length));
        let spaced = format!("{}1226000001234524", " - ".repeat(20));
        assert_eq!(OrderReference::parse(&spaced), Err(Length));
    }

    #[test]
    fn messages() {
        assert_eq!(ReferenceError::Length.message_es(), "La referencia debe tener 16 dígitos.");
        assert_eq!(ReferenceError::CheckDigits.message_es(), "La referencia no es válida: revise los dígitos.");
        assert_eq!(ReferenceError::Length.message_en(), "The reference must have 16 digits.");
        assert_eq!(ReferenceError::CheckDigits.code(), "invalid_reference");
        assert_eq!(
            ReferenceError::CheckDigits.to_string(),
            "the reference is not valid: its check digits do not match"
        );
    }

    #[test]
    fn serde_is_the_digit_string() {
        let r = OrderReference::new(12, 12_345, date(2026, 3, 15));
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, "\"1226000001234524\"");
        assert_eq!(serde_json::from_str::<OrderReference>(&json).unwrap(), r);
        assert_eq!(serde_json::from_str::<OrderReference>("\"1226 0000 0123 4524\"").unwrap(), r);
        assert!(serde_json::from_str::<OrderReference>("\"1226000001234525\"").is_err());
        assert!(serde_json::from_str::<OrderReference>("1226000001234524").is_err());
    }

    #[test]
    fn every_single_error_of_a_fixed_sample_is_detected() {
        let sample = [
            OrderReference::new(12, 12_345, date(2026, 3, 15)),
            OrderReference::new(0, 0, date(2000, 1, 1)),
            OrderReference::new(99, MAX_SERIAL, date(2099, 12, 31)),
            OrderReference::new(7, 1_000_000_001, date(2031, 7, 4)),
        ];
        let mut checked = 0;
        for r in &sample {
            for bad in substitutions(r.as_str()).into_iter().chain(transpositions(r.as_str())) {
                assert_eq!(OrderReference::parse(&bad), Err(ReferenceError::CheckDigits), "{bad} (from {r})");
                checked += 1;
            }
        }
        assert!(checked >= sample.len() * 16 * 9);
    }

    fn any_reference() -> impl Strategy<Value = OrderReference> {
        (0u8..=MAX_PREFIX, 0u64..=MAX_SERIAL, 1950i32..2150, 1u32..=365).prop_map(|(p, id, y, day)| {
            let d = NaiveDate::from_yo_opt(y, day).unwrap();
            OrderReference::new(p, id, d)
        })
    }

    proptest! {
        #[test]
        fn round_trip(p in 0u8..=MAX_PREFIX, id in 0u64..=MAX_SERIAL, y in 1950i32..2150, day in 1u32..=365) {
            let issued = NaiveDate::from_yo_opt(y, day).unwrap();
            let r = OrderReference::new(p, id, issued);
            prop_assert_eq!(r.as_str().len(), REFERENCE_LEN);
            prop_assert!(r.as_str().bytes().all(|b| b.is_ascii_digit()));
            prop_assert_eq!(r.serial(), id);
            prop_assert_eq!(r.municipality_prefix(), p);
            prop_assert_eq!(i32::from(r.year_suffix()), y % 100);
            prop_assert_eq!(r.as_str().parse::<u64>().unwrap() % 97, 1);
            prop_assert_eq!(OrderReference::parse(r.as_str()), Ok(r.clone()));
            prop_assert_eq!(OrderReference::parse(&r.display_grouped()), Ok(r.clone()));
            prop_assert_eq!(OrderReference::parse(&r.display_grouped().replace(' ', "-")), Ok(r.clone()));
        }

        #[test]
        fn single_substitutions_and_adjacent_transpositions_are_detected(r in any_reference()) {
            for bad in substitutions(r.as_str()) {
                prop_assert_eq!(OrderReference::parse(&bad), Err(ReferenceError::CheckDigits), "{}", bad);
            }
            for bad in transpositions(r.as_str()) {
                prop_assert_eq!(OrderReference::parse(&bad), Err(ReferenceError::CheckDigits), "{}", bad);
            }
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,50}") {
            let _ = OrderReference::parse(&s);
        }

        #[test]
        fn parse_never_panics_on_digit_soup(s in "[0-9 -]{0,45}") {
            if let Ok(r) = OrderReference::parse(&s) {
                prop_assert_eq!(r.as_str().parse::<u64>().unwrap() % 97, 1);
            }
        }
    }
}
