//! How amounts and dates read on a page.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::domain::discounts::Component;
use crate::domain::money::Centavos;
use crate::i18n::Lang;

/// 21/11/2026 in Spanish, 2026-11-21 in English.
pub fn date(d: NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::Es => d.format("%d/%m/%Y").to_string(),
        Lang::En => d.format("%Y-%m-%d").to_string(),
    }
}

/// An exact amount in pesos that is not a fee (a UMA value, declared ticket
/// sales) as money reads: `$117.31`, `$10,000.00`.
pub fn pesos(d: Decimal) -> String {
    Centavos::from_decimal(d).display_mxn()
}

pub fn component(c: &Component, lang: Lang) -> &'static str {
    match (c, lang) {
        (Component::Principal, Lang::Es) => "importe",
        (Component::Principal, Lang::En) => "amount",
        (Component::Recargos, Lang::Es) => "recargos",
        (Component::Recargos, Lang::En) => "surcharges",
        (Component::Multas, Lang::Es) => "multas",
        (Component::Multas, Lang::En) => "fines",
    }
}

/// Percent-encodes a URL component (for the language switch's return path).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pesos_read_as_money() {
        assert_eq!(pesos(Decimal::new(11731, 2)), "$117.31");
        assert_eq!(pesos(Decimal::new(10_000, 0)), "$10,000.00");
    }

    #[test]
    fn encodes_a_return_path() {
        assert_eq!(url_encode("/consulta?cuenta=P-1&x=ñ"), "/consulta%3Fcuenta%3DP-1%26x%3D%C3%B1");
    }
}
