//! The order token: the one public address of a payment order.
//!
//! A citizen reaches an order — its page `/orden/{token}`, its forms and the
//! API's `/api/v1/orders/{token}` — only through this token: 128 random bits
//! written as 32 lowercase hex digits, drawn by the store when it creates the
//! order. Nothing about it can be computed from the order's id, its
//! reference, its date or another token, so knowing one order (or the
//! printed reference of any) opens no other.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Hex digits of every token (16 bytes, 128 bits).
pub const TOKEN_LEN: usize = 32;

/// A well-formed order token. Parsing accepts upper-case hex (a person may
/// retype it) and keeps the lower-case form.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrderToken(String);

impl OrderToken {
    /// The token of 16 random bytes (the caller draws them).
    pub fn from_bytes(bytes: [u8; 16]) -> OrderToken {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(TOKEN_LEN);
        for b in bytes {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        OrderToken(s)
    }

    /// Reads a token from a URL or a JSON body: exactly 32 hex digits.
    pub fn parse(s: &str) -> Option<OrderToken> {
        (s.len() == TOKEN_LEN && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| OrderToken(s.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Tokens are capabilities: debug output shows only their first digits.
impl fmt::Debug for OrderToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OrderToken({}…)", &self.0[..6])
    }
}

impl fmt::Display for OrderToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for OrderToken {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        OrderToken::parse(&s).ok_or_else(|| "not an order token".to_string())
    }
}

impl From<OrderToken> for String {
    fn from(t: OrderToken) -> String {
        t.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn from_bytes_is_lower_case_hex() {
        let t = OrderToken::from_bytes([0x00, 0x01, 0xab, 0xff, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x7e]);
        assert_eq!(t.as_str(), "0001abff10000000000000000000007e");
        assert_eq!(t.to_string().len(), TOKEN_LEN);
        assert_eq!(format!("{t:?}"), "OrderToken(0001ab…)");
    }

    #[test]
    fn parse_accepts_exactly_32_hex_digits() {
        let t = "0123456789abcdef0123456789ABCDEF";
        assert_eq!(OrderToken::parse(t).unwrap().as_str(), t.to_ascii_lowercase());
        for bad in [
            "",
            "1",
            "0123456789abcdef0123456789abcde",
            "0123456789abcdef0123456789abcdef0",
            "0123456789abcdef0123456789abcdeg",
            "0123456789abcdef 123456789abcdef",
            "1226000001234524",
            "ÿ123456789abcdef0123456789abcde",
        ] {
            assert!(OrderToken::parse(bad).is_none(), "{bad:?}");
        }
        assert!(serde_json::from_str::<OrderToken>("\"0123456789abcdef0123456789abcdef\"").is_ok());
        assert!(serde_json::from_str::<OrderToken>("\"12\"").is_err());
    }

    proptest! {
        #[test]
        fn round_trip(bytes in any::<[u8; 16]>()) {
            let t = OrderToken::from_bytes(bytes);
            prop_assert_eq!(OrderToken::parse(t.as_str()), Some(t.clone()));
            prop_assert_eq!(OrderToken::parse(&t.as_str().to_uppercase()), Some(t));
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = OrderToken::parse(&s);
        }
    }
}
