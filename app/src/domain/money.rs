//! Money: integer centavos at rest, `rust_decimal::Decimal` in arithmetic,
//! never floating point.
//!
//! * [`ROUNDING_RULE`] is the one rounding rule of the portal: half away from
//!   zero, to the centavo ([`round_to_centavo`]). Every computed amount
//!   (recargos, discounts, UMA-based tariffs) goes through it exactly once.
//! * [`round_to_peso_cff20`] rounds a total payable to the peso as the Código
//!   Fiscal de la Federación, art. 20, prescribes: amounts ending in 1 to 50
//!   centavos go down to the peso below, 51 to 99 centavos go up to the peso
//!   above. The difference is shown as a separate "ajuste por redondeo" line.
//! * In JSON (and any other serde format) amounts are decimal strings with
//!   exactly two decimals, e.g. `"1234.50"` or `"-0.40"`.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, Neg, Sub};

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// THE rounding rule: half away from zero (0.005 → 0.01, −0.005 → −0.01).
pub const ROUNDING_RULE: RoundingStrategy = RoundingStrategy::MidpointAwayFromZero;

/// Decimal places of a centavo-exact amount in pesos.
pub const CENTAVO_DECIMALS: u32 = 2;

/// The largest amount accepted from user input: 999,999,999,999.99 pesos.
pub const MAX_INPUT: Centavos = Centavos(99_999_999_999_999);

/// Integer digits accepted by [`Centavos::parse_pesos`] before the value is
/// even looked at (leading zeros included); bounds the work done on input.
const MAX_INTEGER_DIGITS: usize = 15;

/// Applies [`ROUNDING_RULE`] to the centavo. Every rounded amount in the
/// domain is produced by this function.
pub fn round_to_centavo(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(CENTAVO_DECIMALS, ROUNDING_RULE)
}

/// Rounds a total payable to the whole peso per CFF art. 20: 1–50 centavos
/// round down, 51–99 round up. Negative totals are mirrored (−10.50 → −10.00,
/// −10.51 → −11.00). Returns `(rounded, adjustment)` where
/// `adjustment = rounded − total` (the "ajuste por redondeo", possibly
/// negative).
pub fn round_to_peso_cff20(total: Centavos) -> (Centavos, Centavos) {
    let cents = total.0 % 100; // same sign as total
    let rounded = match cents {
        0 => total.0,
        1..=50 => total.0 - cents,
        51..=99 => total.0 + (100 - cents),
        -50..=-1 => total.0 - cents,
        _ => total.0 - (100 + cents), // -99..=-51
    };
    let rounded = Centavos(rounded);
    (rounded, rounded - total)
}

/// Whether the commas of `s` (digits, commas, an optional decimal part)
/// separate thousands as printed: 1 to 3 digits, not starting with 0, then
/// groups of exactly 3; none in the decimals.
fn thousands_grouped(s: &str) -> bool {
    let (int_part, decimals) = s.split_once('.').unwrap_or((s, ""));
    let mut groups = int_part.split(',');
    let first = groups.next().unwrap_or("");
    (1..=3).contains(&first.len()) && !first.starts_with('0') && groups.all(|g| g.len() == 3) && !decimals.contains(',')
}

/// An amount of Mexican pesos, counted in centavos.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Centavos(pub i64);

impl Centavos {
    pub const ZERO: Centavos = Centavos(0);

    /// Converts an amount in pesos to centavos, applying [`ROUNDING_RULE`].
    /// Values beyond the `i64` range saturate (unreachable with amounts that
    /// come through [`Centavos::parse_pesos`]).
    pub fn from_decimal(d: Decimal) -> Centavos {
        let saturated = if d.is_sign_negative() { i64::MIN } else { i64::MAX };
        let cents = round_to_centavo(d)
            .checked_mul(Decimal::ONE_HUNDRED)
            .and_then(|c| i64::try_from(c.trunc()).ok())
            .unwrap_or(saturated);
        Centavos(cents)
    }

    /// The amount in pesos, with scale 2 (e.g. `1234.50`).
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, CENTAVO_DECIMALS)
    }

    /// An amount as a person copies it from a printed receipt:
    /// `$1,234.50`, `1,234.50` or `1234.50` (one leading `$` and the
    /// thousands commas are dropped), then [`Centavos::parse_pesos`].
    /// Commas must separate thousands as printed (`1,234,567.50`): a
    /// decimal comma (`1234,50`) or a stray one (`1,2`) is refused with
    /// [`MoneyError::ThousandsSeparator`], never read as another amount.
    pub fn parse_printed(s: &str) -> Result<Centavos, MoneyError> {
        let s = s.trim();
        let s = s.strip_prefix('$').unwrap_or(s);
        let value = Centavos::parse_pesos(&s.replace(',', ""))?;
        if s.contains(',') && !thousands_grouped(s.trim()) {
            return Err(MoneyError::ThousandsSeparator);
        }
        Ok(value)
    }

    /// Parses an amount typed by a person or read from a file: `"1234"`,
    /// `"1234.5"`, `"1234.50"`, `"0.5"`. Surrounding whitespace is ignored.
    /// Refused: empty input, signs, exponents, thousands separators, more
    /// than two decimals, non-ASCII digits and amounts above [`MAX_INPUT`].
    pub fn parse_pesos(s: &str) -> Result<Centavos, MoneyError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(MoneyError::Empty);
        }
        if s.starts_with(['-', '+']) {
            return Err(MoneyError::Signed);
        }
        if s.contains(',') {
            return Err(MoneyError::ThousandsSeparator);
        }
        let (int_part, frac_part) = match s.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (s, None),
        };
        let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if int_part.is_empty() || !all_digits(int_part) {
            return Err(MoneyError::Invalid);
        }
        if int_part.len() > MAX_INTEGER_DIGITS {
            return Err(MoneyError::TooLarge);
        }
        let frac_cents = match frac_part {
            None => 0,
            Some(f) if f.is_empty() || !all_digits(f) => return Err(MoneyError::Invalid),
            Some(f) if f.len() > 2 => return Err(MoneyError::TooManyDecimals),
            Some(f) => {
                let v: i64 = f.parse().map_err(|_| MoneyError::Invalid)?;
                if f.len() == 1 {
                    v * 10
                } else {
                    v
                }
            }
        };
        // At most 15 ASCII digits: fits in i64 comfortably (even × 100).
        let pesos: i64 = int_part.parse().map_err(|_| MoneyError::Invalid)?;
        let total = Centavos(pesos * 100 + frac_cents);
        if total > MAX_INPUT {
            return Err(MoneyError::TooLarge);
        }
        Ok(total)
    }

    /// The API representation: `"1234.50"`, `"-0.40"` (always 2 decimals).
    pub fn to_api_string(self) -> String {
        let mut buf = [0u8; 24];
        self.api_str(&mut buf).to_string()
    }

    /// [`Self::to_api_string`] written into `buf` (no allocation: every
    /// amount of every JSON answer goes through here).
    pub fn api_str(self, buf: &mut [u8; 24]) -> &str {
        let mut abs = self.0.unsigned_abs();
        let mut i = buf.len();
        for _ in 0..2 {
            i -= 1;
            buf[i] = b'0' + (abs % 10) as u8;
            abs /= 10;
        }
        i -= 1;
        buf[i] = b'.';
        loop {
            i -= 1;
            buf[i] = b'0' + (abs % 10) as u8;
            abs /= 10;
            if abs == 0 {
                break;
            }
        }
        if self.0 < 0 {
            i -= 1;
            buf[i] = b'-';
        }
        std::str::from_utf8(&buf[i..]).expect("ASCII digits")
    }

    /// Display for people (es-MX): `"$1,234.50"`, `"-$0.40"`.
    pub fn display_mxn(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let digits = (abs / 100).to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        format!("{sign}${grouped}.{:02}", abs % 100)
    }

    pub fn checked_add(self, o: Centavos) -> Option<Centavos> {
        self.0.checked_add(o.0).map(Centavos)
    }

    /// Parses the API representation (what [`Centavos::to_api_string`]
    /// produces): [`Centavos::parse_pesos`] plus an optional leading `-`.
    fn parse_api(s: &str) -> Result<Centavos, MoneyError> {
        match s.strip_prefix('-') {
            Some(rest) if !rest.starts_with(['-', '+']) => Centavos::parse_pesos(rest).map(|c| -c),
            _ => Centavos::parse_pesos(s),
        }
    }
}

/// In the OpenAPI document: `Money`, a decimal string of pesos with two
/// decimals (`"1234.50"`), never a float.
#[cfg(feature = "ssr")]
impl utoipa::PartialSchema for Centavos {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(r"^-?[0-9]+\.[0-9]{2}$"))
            .examples(["1234.50"])
            .description(Some("Pesos mexicanos (MXN) con dos decimales, como cadena"))
            .into()
    }
}

#[cfg(feature = "ssr")]
impl utoipa::ToSchema for Centavos {
    fn name() -> std::borrow::Cow<'static, str> {
        "Money".into()
    }
}

impl From<i64> for Centavos {
    fn from(c: i64) -> Centavos {
        Centavos(c)
    }
}

impl fmt::Display for Centavos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_mxn())
    }
}

impl Add for Centavos {
    type Output = Centavos;
    fn add(self, o: Centavos) -> Centavos {
        Centavos(self.0 + o.0)
    }
}

impl Sub for Centavos {
    type Output = Centavos;
    fn sub(self, o: Centavos) -> Centavos {
        Centavos(self.0 - o.0)
    }
}

impl Neg for Centavos {
    type Output = Centavos;
    fn neg(self) -> Centavos {
        Centavos(-self.0)
    }
}

impl Sum for Centavos {
    fn sum<I: Iterator<Item = Centavos>>(iter: I) -> Centavos {
        iter.fold(Centavos::ZERO, Add::add)
    }
}

impl<'a> Sum<&'a Centavos> for Centavos {
    fn sum<I: Iterator<Item = &'a Centavos>>(iter: I) -> Centavos {
        iter.copied().sum()
    }
}

impl Serialize for Centavos {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 24];
        serializer.serialize_str(self.api_str(&mut buf))
    }
}

impl<'de> Deserialize<'de> for Centavos {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Centavos;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount in pesos as a decimal string, e.g. \"1234.50\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Centavos, E> {
                Centavos::parse_api(v).map_err(|e| E::custom(e.message_en()))
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// Serde helper for exact decimals in configuration (`#[serde(with = ...)]`):
/// reads a string (`"0.0147"`) or an integer (`50`) and refuses floating
/// point numbers, which would pass through `f64`; writes a string.
pub mod decimal_exact {
    use std::fmt;

    use rust_decimal::Decimal;
    use serde::{de, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&d.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Decimal;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal written as a string (e.g. \"0.0147\") or an integer")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
                let v = v.trim();
                let plain = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-');
                if !plain {
                    return Err(E::custom(format!("invalid decimal {v:?}")));
                }
                v.parse::<Decimal>().map_err(|_| E::custom(format!("invalid decimal {v:?}")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
                Ok(Decimal::from(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
                Ok(Decimal::from(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
                Err(E::custom(format!("write the decimal {v} between quotes (\"{v}\") so that it is read exactly")))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// Why an amount could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone, Copy)]
pub enum MoneyError {
    #[error("the amount is empty")]
    Empty,
    #[error("the amount must not carry a sign")]
    Signed,
    #[error("the amount must not contain thousands separators")]
    ThousandsSeparator,
    #[error("the amount must have at most two decimals")]
    TooManyDecimals,
    #[error("the amount is too large")]
    TooLarge,
    #[error("the amount must be written with digits and an optional decimal point")]
    Invalid,
}

impl MoneyError {
    pub fn message_es(&self) -> &'static str {
        match self {
            MoneyError::Empty => "Escriba el importe.",
            MoneyError::Signed => "El importe no debe llevar signo.",
            MoneyError::ThousandsSeparator => "Escriba el importe sin comas (por ejemplo 1234.50).",
            MoneyError::TooManyDecimals => "El importe debe tener como máximo dos decimales.",
            MoneyError::TooLarge => "El importe es demasiado grande.",
            MoneyError::Invalid => "El importe solo puede contener dígitos y un punto decimal (por ejemplo 1234.50).",
        }
    }

    pub fn message_en(&self) -> &'static str {
        match self {
            MoneyError::Empty => "Enter the amount.",
            MoneyError::Signed => "The amount must not carry a sign.",
            MoneyError::ThousandsSeparator => "Write the amount without commas (e.g. 1234.50).",
            MoneyError::TooManyDecimals => "The amount must have at most two decimals.",
            MoneyError::TooLarge => "The amount is too large.",
            MoneyError::Invalid => "The amount may only contain digits and a decimal point (e.g. 1234.50).",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    #[test]
    fn rounding_rule_is_half_away_from_zero() {
        assert_eq!(round_to_centavo(dec!(0.005)), dec!(0.01));
        assert_eq!(round_to_centavo(dec!(-0.005)), dec!(-0.01));
        assert_eq!(round_to_centavo(dec!(0.015)), dec!(0.02));
        assert_eq!(round_to_centavo(dec!(0.025)), dec!(0.03)); // not banker's
        assert_eq!(round_to_centavo(dec!(181.48032)), dec!(181.48));
        assert_eq!(round_to_centavo(dec!(1.00499999)), dec!(1.00));
    }

    #[test]
    fn from_and_to_decimal() {
        assert_eq!(Centavos::from_decimal(dec!(1234.5)), Centavos(123_450));
        assert_eq!(Centavos::from_decimal(dec!(0.125)), Centavos(13));
        assert_eq!(Centavos::from_decimal(dec!(-0.125)), Centavos(-13));
        assert_eq!(Centavos(123_450).to_decimal().to_string(), "1234.50");
        assert_eq!(Centavos(123_450).to_decimal().scale(), 2);
        assert_eq!(Centavos::from_decimal(Decimal::MAX), Centavos(i64::MAX));
        assert_eq!(Centavos::from_decimal(Decimal::MIN), Centavos(i64::MIN));
    }

    #[test]
    fn parse_printed_takes_what_a_receipt_shows() {
        assert_eq!(Centavos::parse_printed("$1,234.50"), Ok(Centavos(123_450)));
        assert_eq!(Centavos::parse_printed(" 1,234.50 "), Ok(Centavos(123_450)));
        assert_eq!(Centavos::parse_printed("1234.5"), Ok(Centavos(123_450)));
        assert_eq!(Centavos::parse_printed(&Centavos(107_300).display_mxn()), Ok(Centavos(107_300)));
        assert_eq!(Centavos::parse_printed(""), Err(MoneyError::Empty));
        assert_eq!(Centavos::parse_printed("$-5"), Err(MoneyError::Signed));
        assert_eq!(Centavos::parse_printed("12.345"), Err(MoneyError::TooManyDecimals));
    }

    #[test]
    fn parse_pesos_accepts() {
        assert_eq!(Centavos::parse_pesos("1234"), Ok(Centavos(123_400)));
        assert_eq!(Centavos::parse_pesos("1234.5"), Ok(Centavos(123_450)));
        assert_eq!(Centavos::parse_pesos("1234.50"), Ok(Centavos(123_450)));
        assert_eq!(Centavos::parse_pesos("0.5"), Ok(Centavos(50)));
        assert_eq!(Centavos::parse_pesos("0.05"), Ok(Centavos(5)));
        assert_eq!(Centavos::parse_pesos(" 7 "), Ok(Centavos(700)));
        assert_eq!(Centavos::parse_pesos("000000000000001"), Ok(Centavos(100)));
        assert_eq!(Centavos::parse_pesos("999999999999.99"), Ok(MAX_INPUT));
    }

    #[test]
    fn parse_pesos_rejects() {
        use MoneyError::*;
        let cases = [
            ("", Empty),
            ("   ", Empty),
            ("-1", Signed),
            ("+1", Signed),
            ("1e3", Invalid),
            ("1E3", Invalid),
            ("1,234.50", ThousandsSeparator),
            ("1.234", TooManyDecimals),
            ("1.", Invalid),
            (".5", Invalid),
            ("1.2.3", Invalid),
            ("12 34", Invalid),
            ("١٢", Invalid),   // Arabic-Indic digits
            ("１２", Invalid), // full-width digits
            ("1.５", Invalid),
            ("NaN", Invalid),
            ("$12", Invalid),
            ("1000000000000", TooLarge),
            ("9999999999999999", TooLarge),
            ("99999999999999999999999999999999", TooLarge),
        ];
        for (input, err) in cases {
            assert_eq!(Centavos::parse_pesos(input), Err(err), "input {input:?}");
        }
    }

    #[test]
    fn messages() {
        assert_eq!(MoneyError::TooManyDecimals.message_es(), "El importe debe tener como máximo dos decimales.");
        assert_eq!(MoneyError::TooManyDecimals.message_en(), "The amount must have at most two decimals.");
    }

    #[test]
    fn api_string_and_display() {
        assert_eq!(Centavos(123_450).to_api_string(), "1234.50");
        assert_eq!(Centavos(5).to_api_string(), "0.05");
        assert_eq!(Centavos(-40).to_api_string(), "-0.40");
        assert_eq!(Centavos(0).to_api_string(), "0.00");
        assert_eq!(Centavos(i64::MIN).to_api_string(), "-92233720368547758.08");
        assert_eq!(Centavos(123_450).display_mxn(), "$1,234.50");
        assert_eq!(Centavos(99).display_mxn(), "$0.99");
        assert_eq!(Centavos(100_000_000).display_mxn(), "$1,000,000.00");
        assert_eq!(Centavos(-12_345_678).display_mxn(), "-$123,456.78");
        assert_eq!(Centavos(12_345).to_string(), "$123.45");
    }

    #[test]
    fn serde_is_a_decimal_string() {
        let json = serde_json::to_string(&Centavos(123_450)).unwrap();
        assert_eq!(json, "\"1234.50\"");
        assert_eq!(serde_json::to_string(&Centavos(-40)).unwrap(), "\"-0.40\"");
        let back: Centavos = serde_json::from_str("\"1234.50\"").unwrap();
        assert_eq!(back, Centavos(123_450));
        let neg: Centavos = serde_json::from_str("\"-0.40\"").unwrap();
        assert_eq!(neg, Centavos(-40));
        assert!(serde_json::from_str::<Centavos>("1234.5").is_err()); // numbers refused
        assert!(serde_json::from_str::<Centavos>("\"--1\"").is_err());
        assert!(serde_json::from_str::<Centavos>("\"-+1\"").is_err());
        assert!(serde_json::from_str::<Centavos>("\"1.234\"").is_err());
    }

    #[test]
    fn arithmetic() {
        let v = [Centavos(1), Centavos(2), Centavos(3)];
        assert_eq!(v.iter().sum::<Centavos>(), Centavos(6));
        assert_eq!(v.into_iter().sum::<Centavos>(), Centavos(6));
        assert_eq!(Centavos(5) - Centavos(7), Centavos(-2));
        assert_eq!(-Centavos(5), Centavos(-5));
        assert_eq!(Centavos(i64::MAX).checked_add(Centavos(1)), None);
        assert_eq!(Centavos(1).checked_add(Centavos(1)), Some(Centavos(2)));
    }

    #[test]
    fn cff_art20() {
        let r = |c: i64| {
            let (t, a) = round_to_peso_cff20(Centavos(c));
            (t.0, a.0)
        };
        assert_eq!(r(123_400), (123_400, 0));
        assert_eq!(r(123_401), (123_400, -1));
        assert_eq!(r(123_450), (123_400, -50));
        assert_eq!(r(123_451), (123_500, 49));
        assert_eq!(r(123_499), (123_500, 1));
        assert_eq!(r(0), (0, 0));
        assert_eq!(r(50), (0, -50));
        assert_eq!(r(51), (100, 49));
        assert_eq!(r(-1_050), (-1_000, 50));
        assert_eq!(r(-1_051), (-1_100, -49));
    }

    #[derive(Debug, serde::Deserialize, serde::Serialize, PartialEq)]
    struct Rate {
        #[serde(with = "decimal_exact")]
        r: Decimal,
    }

    #[test]
    fn decimal_exact_refuses_floats() {
        let r: Rate = serde_json::from_str(r#"{"r":"0.0147"}"#).unwrap();
        assert_eq!(r.r, dec!(0.0147));
        let r: Rate = serde_json::from_str(r#"{"r":50}"#).unwrap();
        assert_eq!(r.r, dec!(50));
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"r":"50"}"#);
        assert!(serde_json::from_str::<Rate>(r#"{"r":0.0147}"#).is_err());
        assert!(serde_json::from_str::<Rate>(r#"{"r":"1e3"}"#).is_err());
        assert!(serde_json::from_str::<Rate>(r#"{"r":""}"#).is_err());
    }

    proptest! {
        #[test]
        fn cff20_properties(c in -1_000_000_000_000i64..1_000_000_000_000) {
            let (rounded, adj) = round_to_peso_cff20(Centavos(c));
            prop_assert_eq!(rounded.0 % 100, 0);
            prop_assert_eq!(rounded - Centavos(c), adj);
            if c >= 0 {
                prop_assert!((-50..=49).contains(&adj.0));
            } else {
                prop_assert!((-49..=50).contains(&adj.0));
            }
            // mirrored for negatives
            let (neg_rounded, _) = round_to_peso_cff20(Centavos(-c));
            prop_assert_eq!(neg_rounded, -rounded);
        }

        #[test]
        fn api_string_roundtrips(c in -MAX_INPUT.0..=MAX_INPUT.0) {
            let s = Centavos(c).to_api_string();
            prop_assert_eq!(Centavos::parse_api(&s), Ok(Centavos(c)));
            prop_assert_eq!(Centavos::from_decimal(Centavos(c).to_decimal()), Centavos(c));
        }

        #[test]
        fn parse_pesos_never_panics(s in "\\PC{0,40}") {
            let _ = Centavos::parse_pesos(&s);
        }
    }
}

/// Property-based fuzzing of the amount parsers ([`Centavos::parse_pesos`],
/// [`Centavos::parse_printed`], the API's strings): `cargo test -p app
/// --features ssr --lib fuzz::` (the CI stage `fuzz` runs it with
/// `PROPTEST_CASES`).
#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::domain::fuzz::{any_text, config};
    use proptest::prelude::*;

    const ALL_ERRORS: [MoneyError; 6] = [
        MoneyError::Empty,
        MoneyError::Signed,
        MoneyError::ThousandsSeparator,
        MoneyError::TooManyDecimals,
        MoneyError::TooLarge,
        MoneyError::Invalid,
    ];

    /// Amount-shaped text: digits, separators, signs, currency, near misses.
    fn amount_like() -> impl Strategy<Value = String> {
        let chars: Vec<char> = "0123456789000.,.,$ -+eE\t١２\u{a0}".chars().collect();
        prop::collection::vec(prop::sample::select(chars), 0..24).prop_map(|c| c.into_iter().collect())
    }

    /// The amounts a person may type or copy.
    fn in_range() -> impl Strategy<Value = Centavos> {
        prop_oneof![0..=MAX_INPUT.0, 0i64..100_000, Just(MAX_INPUT.0)].prop_map(Centavos)
    }

    /// The exact value of a plain amount string (digits, an optional point
    /// and decimals), by a second road: `rust_decimal`.
    fn reference_value(s: &str) -> Option<Centavos> {
        let d: Decimal = s.trim().parse().ok()?;
        Some(Centavos(i64::try_from((d * Decimal::ONE_HUNDRED).trunc()).ok()?))
    }

    /// What `parse_printed` hands to `parse_pesos`.
    fn without_dollar_and_commas(s: &str) -> String {
        s.trim().strip_prefix('$').unwrap_or(s.trim()).replace(',', "")
    }

    fn check_pesos(input: &str) -> Result<(), TestCaseError> {
        check(input, Centavos::parse_pesos(input), input.trim().is_empty())
    }

    fn check_printed(input: &str) -> Result<(), TestCaseError> {
        check(input, Centavos::parse_printed(input), without_dollar_and_commas(input).trim().is_empty())
    }

    /// Checks what every answer of an amount parser must satisfy (`blank`:
    /// the parser has nothing left to read).
    fn check(input: &str, result: Result<Centavos, MoneyError>, blank: bool) -> Result<(), TestCaseError> {
        match result {
            Ok(c) => {
                prop_assert!(Centavos::ZERO <= c && c <= MAX_INPUT, "{input:?} → {c:?}");
                // Accepted values round-trip through both printed forms.
                prop_assert_eq!(Centavos::parse_pesos(&c.to_api_string()), Ok(c));
                prop_assert_eq!(Centavos::parse_printed(&c.display_mxn()), Ok(c));
            }
            Err(e) => {
                prop_assert!(ALL_ERRORS.contains(&e));
                prop_assert!(!e.message_es().is_empty() && !e.message_en().is_empty());
                prop_assert_eq!(e == MoneyError::Empty, blank, "{:?} → {:?}", input, e);
            }
        }
        Ok(())
    }

    #[test]
    fn printed_commas_must_group_thousands() {
        let ok = [("1,234.50", 123_450), ("$12,345,678.90", 1_234_567_890), ("999,999,999,999.99", MAX_INPUT.0)];
        for (input, cents) in ok {
            assert_eq!(Centavos::parse_printed(input), Ok(Centavos(cents)), "{input}");
        }
        // A decimal comma is not read as a hundred times the amount.
        for input in ["1234,50", "1,2", "1,23.50", "12,3456", ",123", "0,500", "1,234.5,0", "1,,234", "1234,"] {
            assert_eq!(Centavos::parse_printed(input), Err(MoneyError::ThousandsSeparator), "{input}");
        }
        assert_eq!(MoneyError::ThousandsSeparator.message_es(), "Escriba el importe sin comas (por ejemplo 1234.50).");
        assert_eq!(Centavos::parse_printed("$$5"), Err(MoneyError::Invalid));
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_text_never_panics(s in any_text(48)) {
            check_pesos(&s)?;
            check_printed(&s)?;
            let _ = serde_json::from_str::<Centavos>(&serde_json::to_string(&s).unwrap());
        }

        #[test]
        fn amount_like_text_is_exact_or_refused_as_documented(s in amount_like()) {
            check_pesos(&s)?;
            check_printed(&s)?;
            let pesos = Centavos::parse_pesos(&s);
            match pesos {
                // What parse_pesos accepts is the decimal the text says.
                Ok(c) => prop_assert_eq!(Some(c), reference_value(&s)),
                Err(MoneyError::Signed) => prop_assert!(s.trim().starts_with(['-', '+'])),
                Err(MoneyError::ThousandsSeparator) => prop_assert!(s.contains(',')),
                Err(_) => {}
            }
            // parse_printed reads no more than parse_pesos once `$` and commas are gone.
            if let Ok(c) = Centavos::parse_printed(&s) {
                prop_assert_eq!(Centavos::parse_pesos(&without_dollar_and_commas(&s)), Ok(c));
            }
        }

        #[test]
        fn arbitrary_bytes_read_lossily_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..48)) {
            let s = String::from_utf8_lossy(&bytes);
            check_pesos(&s)?;
            check_printed(&s)?;
        }

        #[test]
        fn every_amount_round_trips_through_every_form(c in in_range()) {
            prop_assert_eq!(Centavos::parse_pesos(&c.to_api_string()), Ok(c));
            prop_assert_eq!(Centavos::parse_printed(&c.display_mxn()), Ok(c));
            prop_assert_eq!(Centavos::parse_printed(&c.display_mxn().replace(',', "")), Ok(c));
            prop_assert_eq!(Centavos::parse_printed(&format!(" {} ", c.to_api_string())), Ok(c));
            let json = serde_json::to_string(&c).unwrap();
            prop_assert_eq!(serde_json::from_str::<Centavos>(&json).unwrap(), c);
            prop_assert_eq!(serde_json::from_str::<Centavos>(&serde_json::to_string(&-c).unwrap()).unwrap(), -c);
        }

        #[test]
        fn short_decimals_mean_tens_of_centavos(pesos in 0i64..=999_999_999_999, tenths in 0i64..10) {
            let expected = Centavos(pesos * 100 + tenths * 10);
            prop_assert_eq!(Centavos::parse_pesos(&format!("{pesos}.{tenths}")), Ok(expected));
            prop_assert_eq!(Centavos::parse_pesos(&format!("{pesos}")), Ok(Centavos(pesos * 100)));
        }

        #[test]
        fn amounts_above_the_maximum_are_too_large(c in MAX_INPUT.0 + 1..i64::MAX) {
            prop_assert_eq!(Centavos::parse_pesos(&Centavos(c).to_api_string()), Err(MoneyError::TooLarge));
            prop_assert_eq!(Centavos::parse_printed(&Centavos(c).display_mxn()), Err(MoneyError::TooLarge));
        }

        #[test]
        fn a_third_decimal_is_refused(c in in_range(), extra in 0u8..10) {
            let s = format!("{}{extra}", c.to_api_string());
            prop_assert_eq!(Centavos::parse_pesos(&s), Err(MoneyError::TooManyDecimals));
            prop_assert_eq!(
                Centavos::parse_pesos(&s).unwrap_err().message_es(),
                "El importe debe tener como máximo dos decimales."
            );
        }

        #[test]
        fn a_sign_is_refused(c in in_range(), sign in prop::sample::select(vec!["-", "+", " -", "$-"])) {
            let s = format!("{sign}{}", c.to_api_string());
            prop_assert_eq!(Centavos::parse_printed(&s), Err(MoneyError::Signed));
            if !sign.contains('$') {
                prop_assert_eq!(Centavos::parse_pesos(&s), Err(MoneyError::Signed));
            }
        }
    }
}
