//! The pure domain of Recauda: money, RFC, UMA, recargos, authorized
//! discounts, the municipality file, the debt quote, the payment state
//! machine, payment references, and the official receipt's folio, amount in
//! words and signature.
//!
//! No I/O, no clock, no feature-gated dependencies except the TOML reader
//! (`Municipality::from_toml_str`, feature `ssr`), so the same code runs on
//! the server and in the browser (wasm).

pub mod discounts;
pub mod folio;
pub mod money;
pub mod municipality;
pub mod payment;
pub mod quote;
pub mod recargos;
pub mod receipt_sig;
pub mod reference;
pub mod rfc;
pub mod uma;
pub mod words;

/// Serde helper for calendar dates in configuration
/// (`#[serde(with = "crate::domain::config_date")]`): accepts `"2026-01-01"`
/// strings and native TOML dates (which the `toml` crate hands over as a
/// one-entry map holding the same text); writes `"2026-01-01"`.
pub mod config_date {
    use std::fmt;

    use chrono::NaiveDate;
    use serde::{de, Deserializer, Serializer};

    const FORMAT: &str = "%Y-%m-%d";

    pub fn serialize<S: Serializer>(d: &NaiveDate, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&d.format(FORMAT))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = NaiveDate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a date such as 2026-01-01")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<NaiveDate, E> {
                NaiveDate::parse_from_str(v, FORMAT)
                    .map_err(|_| E::custom(format!("invalid date {v:?}; write it as 2026-01-01")))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<NaiveDate, A::Error> {
                match map.next_entry::<String, String>()? {
                    Some((_, text)) if map.next_key::<String>()?.is_none() => self.visit_str(&text),
                    _ => Err(de::Error::custom("expected a date such as 2026-01-01")),
                }
            }
        }
        deserializer.deserialize_any(V)
    }
}
