//! Amounts in words ("importe con letra"), the way Mexican receipts and
//! cheques write them:
//!
//! ```text
//! $1,234.50      UN MIL DOSCIENTOS TREINTA Y CUATRO PESOS 50/100 M.N.
//! $1.00          UN PESO 00/100 M.N.
//! $0.01          CERO PESOS 01/100 M.N.
//! $1,000,000.00  UN MILLÓN DE PESOS 00/100 M.N.
//! ```
//!
//! Conventions (all uppercase, with accents):
//! * "UN" (never "UNO") before the noun: "VEINTIÚN PESOS", "TREINTA Y UN
//!   MIL", "CIENTO UN MILLONES".
//! * "UN MIL" for 1,000 (receipt style), also inside larger numbers:
//!   "UN MILLÓN UN MIL PESOS" (1,001,000), "UN MIL MILLONES" (10^9).
//! * "CIEN" for exactly 100 of a group, "CIENTO" otherwise.
//! * Long scale: MILLÓN = 10^6, MIL MILLONES = 10^9, BILLÓN = 10^12,
//!   MIL BILLONES = 10^15. "DE PESOS" when the pesos are a non-zero exact
//!   multiple of one million ("DOS MILLONES DE PESOS").
//! * "PESO" singular only for exactly one peso (any centavos).
//! * Centavos as two digits over 100, then "M.N." (moneda nacional).
//!
//! Range: the whole `i64` range of [`Centavos`] is written (the largest,
//! 92,233,720,368,547,758.07, is "NOVENTA Y DOS MIL DOSCIENTOS TREINTA Y TRES
//! BILLONES ..."), so there is no ceiling and no error case.
//!
//! Negative amounts (never printed on a receipt, but the function is total):
//! the words of the absolute value preceded by "MENOS ", e.g.
//! "MENOS CINCO PESOS 00/100 M.N.". Callers that must refuse negative
//! amounts check the sign themselves.

use crate::domain::money::Centavos;

const UNITS: [&str; 10] = ["", "UN", "DOS", "TRES", "CUATRO", "CINCO", "SEIS", "SIETE", "OCHO", "NUEVE"];

/// 10..=29, written as one word.
const TEENS_AND_TWENTIES: [&str; 20] = [
    "DIEZ",
    "ONCE",
    "DOCE",
    "TRECE",
    "CATORCE",
    "QUINCE",
    "DIECISÉIS",
    "DIECISIETE",
    "DIECIOCHO",
    "DIECINUEVE",
    "VEINTE",
    "VEINTIÚN",
    "VEINTIDÓS",
    "VEINTITRÉS",
    "VEINTICUATRO",
    "VEINTICINCO",
    "VEINTISÉIS",
    "VEINTISIETE",
    "VEINTIOCHO",
    "VEINTINUEVE",
];

/// Tens from 30 on (index = tens digit).
const TENS: [&str; 10] = ["", "", "", "TREINTA", "CUARENTA", "CINCUENTA", "SESENTA", "SETENTA", "OCHENTA", "NOVENTA"];

/// Hundreds (index = hundreds digit); 100 alone is "CIEN", see [`below_thousand`].
const HUNDREDS: [&str; 10] = [
    "",
    "CIENTO",
    "DOSCIENTOS",
    "TRESCIENTOS",
    "CUATROCIENTOS",
    "QUINIENTOS",
    "SEISCIENTOS",
    "SETECIENTOS",
    "OCHOCIENTOS",
    "NOVECIENTOS",
];

const MILLION: u64 = 1_000_000;
const BILLION: u64 = MILLION * MILLION; // 10^12, "billón" (long scale)

/// Writes `amount` in words; see the module documentation for the rules.
pub fn amount_in_words(amount: Centavos) -> String {
    let abs = amount.0.unsigned_abs();
    let pesos = abs / 100;
    let cents = abs % 100;

    let mut words: Vec<&str> = Vec::new();
    if amount.0 < 0 {
        words.push("MENOS");
    }
    if pesos == 0 {
        words.push("CERO");
    } else {
        push_integer(pesos, &mut words);
    }
    if pesos != 0 && pesos.is_multiple_of(MILLION) {
        words.push("DE");
    }
    words.push(if pesos == 1 { "PESO" } else { "PESOS" });

    let mut out = words.join(" ");
    out.push_str(&format!(" {cents:02}/100 M.N."));
    out
}

/// Pushes the words of `n` (1 ≤ n < 10^18), with "UN" for a trailing one.
/// `amount_in_words` passes at most `i64::MAX / 100` (< 10^17) pesos, so the
/// count of billones is below 10^5 and never needs "trillones".
fn push_integer(n: u64, words: &mut Vec<&'static str>) {
    debug_assert!((1..MILLION * BILLION).contains(&n));
    let billions = (n / BILLION) as u32; // < 10^6
    let millions = ((n % BILLION) / MILLION) as u32;
    let rest = (n % MILLION) as u32;

    if billions > 0 {
        push_scaled(billions, "BILLÓN", "BILLONES", words);
    }
    if millions > 0 {
        push_scaled(millions, "MILLÓN", "MILLONES", words);
    }
    if rest > 0 {
        push_below_million(rest, words);
    }
}

/// `count` (1..=999_999) times a long-scale unit: "UN MILLÓN", "DOS MIL
/// MILLONES".
fn push_scaled(count: u32, singular: &'static str, plural: &'static str, words: &mut Vec<&'static str>) {
    if count == 1 {
        words.push("UN");
        words.push(singular);
    } else {
        push_below_million(count, words);
        words.push(plural);
    }
}

/// 1..=999_999.
fn push_below_million(n: u32, words: &mut Vec<&'static str>) {
    debug_assert!((1..1_000_000).contains(&n));
    let thousands = n / 1000;
    let rest = n % 1000;
    if thousands > 0 {
        // Receipt style: "UN MIL", also "UN MIL MILLONES".
        push_below_thousand(thousands, words);
        words.push("MIL");
    }
    if rest > 0 {
        push_below_thousand(rest, words);
    }
}

/// 1..=999.
fn push_below_thousand(n: u32, words: &mut Vec<&'static str>) {
    debug_assert!((1..1000).contains(&n));
    let hundreds = n / 100;
    let rest = n % 100;
    if hundreds == 1 && rest == 0 {
        words.push("CIEN");
        return;
    }
    if hundreds > 0 {
        words.push(HUNDREDS[hundreds as usize]);
    }
    match rest {
        0 => {}
        1..=9 => words.push(UNITS[rest as usize]),
        10..=29 => words.push(TEENS_AND_TWENTIES[(rest - 10) as usize]),
        _ => {
            words.push(TENS[(rest / 10) as usize]);
            if !rest.is_multiple_of(10) {
                words.push("Y");
                words.push(UNITS[(rest % 10) as usize]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn w(c: i64) -> String {
        amount_in_words(Centavos(c))
    }

    /// Pesos (whole) in words, without the centavos part.
    fn p(pesos: i64) -> String {
        let s = w(pesos * 100);
        s.strip_suffix(" 00/100 M.N.").unwrap().to_string()
    }

    #[test]
    fn required_vectors() {
        assert_eq!(w(1), "CERO PESOS 01/100 M.N.");
        assert_eq!(w(100), "UN PESO 00/100 M.N.");
        assert_eq!(w(2_100), "VEINTIÚN PESOS 00/100 M.N.");
        assert_eq!(w(10_000), "CIEN PESOS 00/100 M.N.");
        assert_eq!(w(10_100), "CIENTO UN PESOS 00/100 M.N.");
        assert_eq!(w(100_000), "UN MIL PESOS 00/100 M.N.");
        assert_eq!(w(100_100), "UN MIL UN PESOS 00/100 M.N.");
        assert_eq!(w(100_000_000), "UN MILLÓN DE PESOS 00/100 M.N.");
        assert_eq!(
            w(123_456_789),
            "UN MILLÓN DOSCIENTOS TREINTA Y CUATRO MIL QUINIENTOS SESENTA Y SIETE PESOS 89/100 M.N."
        );
        assert_eq!(w(123_450), "UN MIL DOSCIENTOS TREINTA Y CUATRO PESOS 50/100 M.N.");
    }

    #[test]
    fn other_vectors_from_the_brief() {
        assert_eq!(p(2_000_000), "DOS MILLONES DE PESOS");
        assert_eq!(p(21_000), "VEINTIÚN MIL PESOS");
        assert_eq!(p(31), "TREINTA Y UN PESOS");
        assert_eq!(p(16), "DIECISÉIS PESOS");
        assert_eq!(p(22), "VEINTIDÓS PESOS");
        assert_eq!(p(23), "VEINTITRÉS PESOS");
        assert_eq!(p(26), "VEINTISÉIS PESOS");
        assert_eq!(p(500), "QUINIENTOS PESOS");
        assert_eq!(p(700), "SETECIENTOS PESOS");
        assert_eq!(p(900), "NOVECIENTOS PESOS");
        assert_eq!(p(1_000_001), "UN MILLÓN UN PESOS");
    }

    #[test]
    fn zero_and_centavos() {
        assert_eq!(w(0), "CERO PESOS 00/100 M.N.");
        assert_eq!(w(99), "CERO PESOS 99/100 M.N.");
        assert_eq!(w(10), "CERO PESOS 10/100 M.N.");
        // Singular peso keeps its centavos.
        assert_eq!(w(150), "UN PESO 50/100 M.N.");
        assert_eq!(w(201), "DOS PESOS 01/100 M.N.");
        // "DE" is only for whole millions, centavos do not change that.
        assert_eq!(w(100_000_099), "UN MILLÓN DE PESOS 99/100 M.N.");
    }

    #[test]
    fn every_number_below_thirty() {
        let expected = [
            "CERO",
            "UN",
            "DOS",
            "TRES",
            "CUATRO",
            "CINCO",
            "SEIS",
            "SIETE",
            "OCHO",
            "NUEVE",
            "DIEZ",
            "ONCE",
            "DOCE",
            "TRECE",
            "CATORCE",
            "QUINCE",
            "DIECISÉIS",
            "DIECISIETE",
            "DIECIOCHO",
            "DIECINUEVE",
            "VEINTE",
            "VEINTIÚN",
            "VEINTIDÓS",
            "VEINTITRÉS",
            "VEINTICUATRO",
            "VEINTICINCO",
            "VEINTISÉIS",
            "VEINTISIETE",
            "VEINTIOCHO",
            "VEINTINUEVE",
        ];
        for (n, word) in expected.iter().enumerate() {
            let noun = if n == 1 { "PESO" } else { "PESOS" };
            assert_eq!(p(n as i64), format!("{word} {noun}"), "n = {n}");
        }
    }

    #[test]
    fn tens_and_hundreds() {
        assert_eq!(p(30), "TREINTA PESOS");
        assert_eq!(p(40), "CUARENTA PESOS");
        assert_eq!(p(45), "CUARENTA Y CINCO PESOS");
        assert_eq!(p(50), "CINCUENTA PESOS");
        assert_eq!(p(60), "SESENTA PESOS");
        assert_eq!(p(77), "SETENTA Y SIETE PESOS");
        assert_eq!(p(80), "OCHENTA PESOS");
        assert_eq!(p(99), "NOVENTA Y NUEVE PESOS");
        assert_eq!(p(110), "CIENTO DIEZ PESOS");
        assert_eq!(p(116), "CIENTO DIECISÉIS PESOS");
        assert_eq!(p(121), "CIENTO VEINTIÚN PESOS");
        assert_eq!(p(200), "DOSCIENTOS PESOS");
        assert_eq!(p(300), "TRESCIENTOS PESOS");
        assert_eq!(p(400), "CUATROCIENTOS PESOS");
        assert_eq!(p(600), "SEISCIENTOS PESOS");
        assert_eq!(p(800), "OCHOCIENTOS PESOS");
        assert_eq!(p(999), "NOVECIENTOS NOVENTA Y NUEVE PESOS");
    }

    #[test]
    fn thousands() {
        assert_eq!(p(1_100), "UN MIL CIEN PESOS");
        assert_eq!(p(2_000), "DOS MIL PESOS");
        assert_eq!(p(10_000), "DIEZ MIL PESOS");
        assert_eq!(p(31_000), "TREINTA Y UN MIL PESOS");
        assert_eq!(p(100_000), "CIEN MIL PESOS");
        assert_eq!(p(101_000), "CIENTO UN MIL PESOS");
        assert_eq!(p(121_121), "CIENTO VEINTIÚN MIL CIENTO VEINTIÚN PESOS");
        assert_eq!(p(500_500), "QUINIENTOS MIL QUINIENTOS PESOS");
        assert_eq!(p(999_999), "NOVECIENTOS NOVENTA Y NUEVE MIL NOVECIENTOS NOVENTA Y NUEVE PESOS");
    }

    #[test]
    fn millions_and_beyond() {
        assert_eq!(p(1_001_000), "UN MILLÓN UN MIL PESOS");
        assert_eq!(p(1_100_000), "UN MILLÓN CIEN MIL PESOS");
        assert_eq!(p(21_000_000), "VEINTIÚN MILLONES DE PESOS");
        assert_eq!(p(100_000_000), "CIEN MILLONES DE PESOS");
        assert_eq!(p(1_000_000_000), "UN MIL MILLONES DE PESOS");
        assert_eq!(p(2_000_000_000), "DOS MIL MILLONES DE PESOS");
        assert_eq!(p(2_500_000_001), "DOS MIL QUINIENTOS MILLONES UN PESOS");
        assert_eq!(p(1_000_000_000_000), "UN BILLÓN DE PESOS");
        assert_eq!(p(3_000_001_000_000), "TRES BILLONES UN MILLÓN DE PESOS");
        assert_eq!(p(1_000_000_001_000), "UN BILLÓN UN MIL PESOS");
        assert_eq!(p(1_000_000_000_001), "UN BILLÓN UN PESOS");
        // Largest accepted user input (money::MAX_INPUT).
        assert_eq!(
            w(crate::domain::money::MAX_INPUT.0),
            "NOVECIENTOS NOVENTA Y NUEVE MIL NOVECIENTOS NOVENTA Y NUEVE MILLONES \
             NOVECIENTOS NOVENTA Y NUEVE MIL NOVECIENTOS NOVENTA Y NUEVE PESOS 99/100 M.N."
        );
    }

    #[test]
    fn extremes_of_i64_do_not_panic() {
        assert_eq!(
            w(i64::MAX),
            "NOVENTA Y DOS MIL DOSCIENTOS TREINTA Y TRES BILLONES SETECIENTOS VEINTE MIL \
             TRESCIENTOS SESENTA Y OCHO MILLONES QUINIENTOS CUARENTA Y SIETE MIL \
             SETECIENTOS CINCUENTA Y OCHO PESOS 07/100 M.N."
        );
        assert_eq!(
            w(i64::MIN),
            "MENOS NOVENTA Y DOS MIL DOSCIENTOS TREINTA Y TRES BILLONES SETECIENTOS VEINTE MIL \
             TRESCIENTOS SESENTA Y OCHO MILLONES QUINIENTOS CUARENTA Y SIETE MIL \
             SETECIENTOS CINCUENTA Y OCHO PESOS 08/100 M.N."
        );
    }

    #[test]
    fn negative_amounts_say_menos() {
        assert_eq!(w(-500), "MENOS CINCO PESOS 00/100 M.N.");
        assert_eq!(w(-1), "MENOS CERO PESOS 01/100 M.N.");
        assert_eq!(w(-100), "MENOS UN PESO 00/100 M.N.");
    }

    /// An independent reader of the words, strict about the style rules, to
    /// check the writer over whole ranges: it returns `None` for any text
    /// that breaks a rule (UNO, CIENTO alone, "VEINTE Y ...", missing or
    /// spurious DE, PESO/PESOS agreement, ...).
    fn read_words(s: &str) -> Option<i64> {
        let (body, cents) = s.strip_suffix(" M.N.")?.rsplit_once(' ')?;
        let cents = cents.strip_suffix("/100")?;
        if cents.len() != 2 || !cents.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let cents: u64 = cents.parse().ok()?;
        let mut tokens: Vec<&str> = body.split(' ').collect();
        let negative = tokens.first() == Some(&"MENOS");
        if negative {
            tokens.remove(0);
        }
        let noun = tokens.pop()?;
        let has_de = tokens.last() == Some(&"DE");
        if has_de {
            tokens.pop();
        }
        let pesos: u64 = if tokens == ["CERO"] { 0 } else { read_integer(&tokens)? };
        if (noun == "PESO") != (pesos == 1) || !(noun == "PESO" || noun == "PESOS") {
            return None;
        }
        if has_de != (pesos != 0 && pesos.is_multiple_of(MILLION)) {
            return None;
        }
        let abs = i128::from(pesos) * 100 + i128::from(cents);
        i64::try_from(if negative { -abs } else { abs }).ok()
    }

    fn read_integer(tokens: &[&str]) -> Option<u64> {
        let (mut total, mut group, mut small) = (0u64, 0u64, 0u64);
        let mut last_scale = u64::MAX; // scales must come in decreasing order
        let mut prev = "";
        for &t in tokens {
            let unit = UNITS.iter().position(|&u| u == t && !u.is_empty());
            let teen = TEENS_AND_TWENTIES.iter().position(|&u| u == t);
            let ten = TENS.iter().position(|&u| u == t && !u.is_empty());
            let hundred = HUNDREDS.iter().position(|&u| u == t && !u.is_empty());
            let below_hundred = unit.is_some() || teen.is_some() || ten.is_some();
            if prev == "Y" && unit.is_none() {
                return None;
            }
            if prev == "CIENTO" && !below_hundred {
                return None;
            }
            if prev == "CIEN" && below_hundred {
                return None;
            }
            if let Some(u) = unit {
                // Either "<tens> Y <unit>" or a unit with no tens before it.
                if prev != "Y" && small % 100 != 0 {
                    return None;
                }
                small += u as u64;
            } else if let Some(x) = teen {
                if small % 100 != 0 {
                    return None;
                }
                small += 10 + x as u64;
            } else if let Some(x) = ten {
                if small % 100 != 0 {
                    return None;
                }
                small += 10 * x as u64;
            } else if t == "Y" {
                if !TENS.contains(&prev) || prev.is_empty() {
                    return None;
                }
            } else if let Some(h) = hundred {
                if small != 0 {
                    return None;
                }
                small = 100 * h as u64;
            } else if t == "CIEN" {
                if small != 0 {
                    return None;
                }
                small = 100;
            } else if t == "MIL" {
                // "UN MIL" is required, a bare "MIL" is refused.
                if small == 0 || group != 0 {
                    return None;
                }
                group = small * 1000;
                small = 0;
            } else if matches!(t, "MILLÓN" | "MILLONES" | "BILLÓN" | "BILLONES") {
                let count = group + small;
                let singular = t.ends_with("ÓN");
                let scale = if t.starts_with('B') { BILLION } else { MILLION };
                if count == 0 || singular != (count == 1) || scale >= last_scale {
                    return None;
                }
                total += count * scale;
                last_scale = scale;
                group = 0;
                small = 0;
            } else {
                return None;
            }
            prev = t;
        }
        if prev == "CIENTO" || prev == "Y" {
            return None;
        }
        let n = total + group + small;
        (n > 0).then_some(n)
    }

    #[test]
    fn reader_refuses_broken_style() {
        // The checker itself must reject what the writer must never produce.
        for bad in [
            "UNO PESOS 00/100 M.N.",
            "CIENTO PESOS 00/100 M.N.",
            "CIEN UN PESOS 00/100 M.N.",
            "VEINTE Y UN PESOS 00/100 M.N.",
            "TREINTA UN PESOS 00/100 M.N.",
            "UN PESOS 00/100 M.N.",
            "DOS PESO 00/100 M.N.",
            "UN MILLÓN PESOS 00/100 M.N.",
            "UN MIL DE PESOS 00/100 M.N.",
            "DOS MILLÓN DE PESOS 00/100 M.N.",
            "UN MILLONES DE PESOS 00/100 M.N.",
            "CINCO PESOS 5/100 M.N.",
        ] {
            assert_eq!(read_words(bad), None, "{bad}");
        }
        assert_eq!(read_words("TREINTA Y UN PESOS 00/100 M.N."), Some(3_100));
    }

    #[test]
    fn every_amount_up_to_a_hundred_thousand_pesos_reads_back() {
        for pesos in 0..=100_000i64 {
            let c = pesos * 100 + pesos % 100;
            let s = w(c);
            assert_eq!(read_words(&s), Some(c), "{c}: {s}");
        }
    }

    proptest! {
        #[test]
        fn any_amount_reads_back(c in any::<i64>()) {
            let s = w(c);
            prop_assert_eq!(read_words(&s), Some(c), "{}", s);
            prop_assert!(!s.contains("  "));
            prop_assert!(s.chars().all(|ch| !ch.is_lowercase()));
        }

        #[test]
        fn any_amount_below_ten_billion_reads_back(c in 0i64..1_000_000_000_000) {
            let s = w(c);
            prop_assert_eq!(read_words(&s), Some(c), "{}", s);
        }
    }
}
