//! The account number (número de cuenta) of the padrón: predial, agua,
//! licencias… Normalised ONCE, where it enters the system (the padrón
//! import, the lookup forms, "mis recibos", the API): trimmed and upper
//! case, so `p-000123` and ` P-000123 ` name the same account everywhere.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest account number accepted.
pub const MAX_ACCOUNT_LEN: usize = 32;

/// A well-formed account number: 1 to [`MAX_ACCOUNT_LEN`] ASCII letters,
/// digits, `-` or `/`, upper case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct AccountNumber(String);

/// Why a text is not an account number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccountNumberError {
    #[error("empty account number")]
    Empty,
    #[error("account number longer than {MAX_ACCOUNT_LEN} characters")]
    TooLong,
    #[error("account number with characters other than letters, digits, '-' and '/'")]
    Shape,
}

impl AccountNumberError {
    pub fn message_es(self) -> String {
        match self {
            AccountNumberError::Empty => "Escriba su número de cuenta.".into(),
            AccountNumberError::TooLong => {
                format!("El número de cuenta no puede pasar de {MAX_ACCOUNT_LEN} caracteres.")
            }
            AccountNumberError::Shape => {
                "El número de cuenta solo lleva letras, números y guiones (por ejemplo P-000123).".into()
            }
        }
    }

    pub fn message_en(self) -> String {
        match self {
            AccountNumberError::Empty => "Type your account number.".into(),
            AccountNumberError::TooLong => format!("An account number has at most {MAX_ACCOUNT_LEN} characters."),
            AccountNumberError::Shape => {
                "An account number has only letters, digits and hyphens (for example P-000123).".into()
            }
        }
    }
}

impl AccountNumber {
    /// Trims, upper-cases and checks a typed or imported account number.
    pub fn parse(input: &str) -> Result<AccountNumber, AccountNumberError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(AccountNumberError::Empty);
        }
        if trimmed.chars().count() > MAX_ACCOUNT_LEN {
            return Err(AccountNumberError::TooLong);
        }
        if !trimmed.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '/') {
            return Err(AccountNumberError::Shape);
        }
        Ok(AccountNumber(trimmed.to_ascii_uppercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for AccountNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for AccountNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for AccountNumber {
    type Err = AccountNumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AccountNumber::parse(s)
    }
}

/// The store's rows decode through this: what the database holds was
/// parsed on its way in, and is parsed again on its way out.
impl TryFrom<String> for AccountNumber {
    type Error = AccountNumberError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        AccountNumber::parse(&s)
    }
}

impl<'de> Deserialize<'de> for AccountNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        AccountNumber::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_once() {
        assert_eq!(AccountNumber::parse(" p-000123 ").unwrap().as_str(), "P-000123");
        assert_eq!(AccountNumber::parse("lc/2026/7").unwrap().as_str(), "LC/2026/7");
        assert_eq!(AccountNumber::parse("P-000123"), AccountNumber::parse("p-000123"));
    }

    #[test]
    fn refuses_what_is_not_an_account() {
        assert_eq!(AccountNumber::parse("  "), Err(AccountNumberError::Empty));
        assert_eq!(AccountNumber::parse(&"9".repeat(33)), Err(AccountNumberError::TooLong));
        assert!(AccountNumber::parse(&"9".repeat(32)).is_ok());
        assert_eq!(AccountNumber::parse("P-1'; DROP TABLE"), Err(AccountNumberError::Shape));
        assert_eq!(AccountNumber::parse("Ñ-1"), Err(AccountNumberError::Shape));
        assert!(AccountNumberError::Shape.message_es().contains("P-000123"));
    }

    #[test]
    fn serde_is_the_plain_text_and_checks_it() {
        let a = AccountNumber::parse("p-1").unwrap();
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"P-1\"");
        assert_eq!(serde_json::from_str::<AccountNumber>("\" p-1\"").unwrap(), a);
        assert!(serde_json::from_str::<AccountNumber>("\"a b\"").is_err());
    }
}
