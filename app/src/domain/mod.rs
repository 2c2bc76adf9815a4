//! The pure domain of Recauda: money, RFC, UMA, recargos, authorized
//! discounts, the municipality file, the debt quote, the payment state
//! machine, payment references, and the official receipt's folio, amount in
//! words and signature.
//!
//! No I/O, no clock, no feature-gated dependencies except the TOML reader
//! (`Municipality::from_toml_str`, feature `ssr`), so the same code runs on
//! the server and in the browser (wasm).

/// Declares a plain enum whose variants are stored and serialised under
/// fixed names (`"pending"`, `"card"`, …), and derives from that one table:
/// `ALL`, `as_str`, `parse`, `Display`, `FromStr`, `TryFrom<String>` (what
/// the store's row types decode through) and serde.
///
/// ```ignore
/// string_enum! {
///     /// How the citizen pays.
///     pub enum Method { Card = "card", Oxxo = "oxxo" }
/// }
/// ```
macro_rules! string_enum {
    (@count) => { 0usize };
    (@count $head:ident $($tail:ident)*) => { 1usize + string_enum!(@count $($tail)*) };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: [$name; string_enum!(@count $($variant)+)] = [$($name::$variant),+];

            /// The stored and serialised name.
            pub const fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $text ),+ }
            }

            /// Reads a name written by [`Self::as_str`] (exactly).
            pub fn parse(s: &str) -> Option<$name> {
                match s { $( $text => Some($name::$variant), )+ _ => None }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::domain::UnknownName;
            fn from_str(s: &str) -> Result<$name, Self::Err> {
                $name::parse(s).ok_or_else(|| $crate::domain::UnknownName::new(stringify!($name), s))
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::domain::UnknownName;
            fn try_from(s: String) -> Result<$name, Self::Error> {
                s.parse()
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(::serde::de::Error::custom)
            }
        }

        /// In the OpenAPI document: a string, one of the names.
        #[cfg(feature = "ssr")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        #[cfg(feature = "ssr")]
        impl utoipa::ToSchema for $name {}
    };
}
#[allow(unused_imports)] // used by the store (ssr); the wasm build has none
pub(crate) use string_enum;

/// A name that is none of an enum's names (a corrupt row, a bad request).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?}")]
pub struct UnknownName {
    pub kind: &'static str,
    pub value: String,
}

impl UnknownName {
    pub fn new(kind: &'static str, value: &str) -> Self {
        UnknownName { kind, value: value.chars().take(40).collect() }
    }
}

pub mod account;
pub mod caja;
pub mod discounts;
pub mod folio;
#[cfg(test)]
mod fuzz;
pub mod garbage;
pub mod licences;
pub mod money;
pub mod municipality;
pub mod order_token;
pub mod payment;
pub mod permits;
pub mod procedures;
pub mod quote;
pub mod recargos;
pub mod receipt_sig;
pub mod reconciliation;
pub mod reference;
pub mod rfc;
pub mod staff;
pub mod tariffs;
pub mod uma;
pub mod words;
pub mod working_days;

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
