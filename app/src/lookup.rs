//! Looking up what a taxpayer owes, by account number or by RFC.
//!
//! One service ([`run_lookup`]) answers both the HTML page (through the
//! [`lookup_debts`] server function) and the JSON API (`GET /api/v1/debts`),
//! so the two can never disagree on a figure.

use chrono::NaiveDate;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::account::{AccountNumber, AccountNumberError, MAX_ACCOUNT_LEN};
use crate::domain::money::Centavos;
use crate::domain::quote::QuoteItem;
use crate::domain::rfc::{PersonKind, Rfc, RfcError};
use crate::error::AppError;
use crate::i18n::Lang;

/// A parsed, valid lookup request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LookupQuery {
    Account(AccountNumber),
    Rfc(Rfc),
}

impl LookupQuery {
    /// Parses the two optional form fields; `None` when neither was sent
    /// (the page then just shows the forms).
    pub fn from_params(cuenta: Option<&str>, rfc: Option<&str>) -> Option<Result<Self, LookupError>> {
        fn filled(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|v| !v.is_empty())
        }
        match (filled(cuenta), filled(rfc)) {
            (Some(_), Some(_)) => Some(Err(LookupError::BothGiven)),
            (Some(c), None) => Some(Self::parse_account(c)),
            (None, Some(r)) => Some(Rfc::parse(r).map(LookupQuery::Rfc).map_err(LookupError::from)),
            // Submitted with nothing typed: point at the field that was sent.
            (None, None) => match (cuenta, rfc) {
                (None, None) => None,
                (None, Some(_)) => Some(Err(LookupError::Rfc(RfcError::Empty))),
                (Some(_), _) => Some(Err(LookupError::EmptyAccount)),
            },
        }
    }

    /// An account number as typed ([`AccountNumber::parse`]).
    pub fn parse_account(raw: &str) -> Result<Self, LookupError> {
        AccountNumber::parse(raw).map(LookupQuery::Account).map_err(|e| match e {
            AccountNumberError::Empty => LookupError::EmptyAccount,
            AccountNumberError::TooLong => LookupError::AccountTooLong,
            AccountNumberError::Shape => LookupError::AccountShape,
        })
    }
}

/// Everything that can go wrong in a lookup, with its HTTP status and the
/// messages the citizen reads.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum LookupError {
    #[error("no account or RFC given")]
    Missing,
    #[error("both an account and an RFC given")]
    BothGiven,
    #[error("empty account number")]
    EmptyAccount,
    #[error("account number too long")]
    AccountTooLong,
    #[error("account number with invalid characters")]
    AccountShape,
    #[error("invalid RFC")]
    Rfc(#[from] RfcError),
    #[error("unknown account {0}")]
    AccountNotFound(String),
    #[error("no accounts for RFC {rfc}")]
    RfcNotFound { rfc: String, check_digit_failed: bool },
    #[error("the database did not answer")]
    Unavailable,
}

impl LookupError {
    pub fn code(&self) -> &'static str {
        match self {
            LookupError::Missing | LookupError::BothGiven => "invalid_query",
            LookupError::EmptyAccount | LookupError::AccountTooLong | LookupError::AccountShape => "invalid_account",
            LookupError::Rfc(e) => e.code(),
            LookupError::AccountNotFound(_) | LookupError::RfcNotFound { .. } => "not_found",
            LookupError::Unavailable => "unavailable",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            LookupError::AccountNotFound(_) | LookupError::RfcNotFound { .. } => 404,
            LookupError::Unavailable => 503,
            _ => 400,
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        match self {
            LookupError::Missing => {
                lang.pick("Escriba un número de cuenta o un RFC.", "Type an account number or an RFC.").into()
            }
            LookupError::BothGiven => lang
                .pick(
                    "Busque por número de cuenta o por RFC, no por ambos a la vez.",
                    "Search by account number or by RFC, not both at once.",
                )
                .into(),
            LookupError::EmptyAccount => lang.pick("Escriba su número de cuenta.", "Type your account number.").into(),
            LookupError::AccountTooLong => match lang {
                Lang::Es => format!("El número de cuenta no puede pasar de {MAX_ACCOUNT_LEN} caracteres."),
                Lang::En => format!("An account number has at most {MAX_ACCOUNT_LEN} characters."),
            },
            LookupError::AccountShape => lang
                .pick(
                    "El número de cuenta solo lleva letras, números y guiones (por ejemplo P-000123).",
                    "An account number has only letters, digits and hyphens (for example P-000123).",
                )
                .into(),
            LookupError::Rfc(e) => match lang {
                Lang::Es => e.message_es().to_string(),
                Lang::En => e.message_en().to_string(),
            },
            LookupError::AccountNotFound(account) => match lang {
                Lang::Es => format!("No encontramos la cuenta «{account}». Revise el número en su último recibo."),
                Lang::En => format!("We could not find account “{account}”. Check the number on your last receipt."),
            },
            LookupError::RfcNotFound { rfc, .. } => match lang {
                Lang::Es => format!("No encontramos cuentas a nombre del RFC {rfc}."),
                Lang::En => format!("We found no accounts for RFC {rfc}."),
            },
            LookupError::Unavailable => lang
                .pick(
                    "El servicio no está disponible en este momento. Intente de nuevo en unos minutos.",
                    "The service is unavailable right now. Please try again in a few minutes.",
                )
                .into(),
        }
    }

    /// An extra hint shown under the message, when there is one.
    pub fn hint(&self, lang: Lang) -> Option<String> {
        match self {
            LookupError::RfcNotFound { check_digit_failed: true, .. } => Some(
                lang.pick(
                    "Verifique su RFC: su dígito verificador no coincide; puede haber un carácter mal escrito.",
                    "Check your RFC: its check digit does not match; a character may be mistyped.",
                )
                .into(),
            ),
            _ => None,
        }
    }

    /// Which form field the error belongs to, for the error summary links.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            LookupError::EmptyAccount
            | LookupError::AccountTooLong
            | LookupError::AccountShape
            | LookupError::AccountNotFound(_) => Some("cuenta"),
            LookupError::Rfc(_) | LookupError::RfcNotFound { .. } => Some("rfc"),
            _ => None,
        }
    }
}

impl From<LookupError> for AppError {
    fn from(e: LookupError) -> AppError {
        AppError {
            code: e.code().into(),
            status: e.status(),
            field: e.field().map(Into::into),
            message_es: e.message(Lang::Es),
            message_en: e.message(Lang::En),
            hint_es: e.hint(Lang::Es),
            hint_en: e.hint(Lang::En),
            retry_after: None,
            back: Some("/consulta".into()),
        }
    }
}

/// What a lookup found: every account with its open charges, quoted today.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DebtDocument {
    pub computed_on: NaiveDate,
    pub currency: String,
    pub accounts: Vec<AccountDebt>,
    pub subtotal: Centavos,
    /// "Ajuste por redondeo" (CFF art. 20); zero when the municipality turns it off.
    pub rounding: Centavos,
    pub total: Centavos,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountDebt {
    pub account: String,
    pub kind: String,
    pub person_kind: PersonKind,
    /// The owner's name, masked ("J*** P****").
    pub owner: String,
    pub colonia: Option<String>,
    pub items: Vec<QuoteItem>,
    pub total: Centavos,
}

/// What the lookup page receives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum LookupOutcome {
    Found(DebtDocument),
    Problem(AppError),
}

/// The accounts a query names, each with its open charges: the account
/// itself, or every account of the RFC's taxpayer (one query either way).
/// None found is an error ([`LookupError::AccountNotFound`],
/// [`LookupError::RfcNotFound`]).
#[cfg(feature = "ssr")]
#[tracing::instrument(name = "lookup.find_debts", skip_all)]
pub async fn find_debts(
    state: &crate::state::AppState,
    query: &LookupQuery,
) -> Result<Vec<crate::store::AccountDebts>, LookupError> {
    let unavailable = |e: crate::store::StoreError| {
        tracing::error!(error = %e, "lookup: store failed");
        LookupError::Unavailable
    };
    let found = match query {
        LookupQuery::Account(number) => {
            state.store.debts_of_account(number).await.map_err(unavailable)?.into_iter().collect()
        }
        LookupQuery::Rfc(rfc) => state.store.debts_of_rfc(rfc).await.map_err(unavailable)?,
    };
    if found.is_empty() {
        return Err(match query {
            LookupQuery::Account(number) => LookupError::AccountNotFound(number.to_string()),
            LookupQuery::Rfc(rfc) => {
                LookupError::RfcNotFound { rfc: rfc.as_str().to_string(), check_digit_failed: !rfc.check_digit_ok() }
            }
        });
    }
    Ok(found)
}

/// Looks up and quotes. Rate limiting is the HTTP layer's job.
#[cfg(feature = "ssr")]
#[tracing::instrument(name = "lookup.run_lookup", skip_all)]
pub async fn run_lookup(state: &crate::state::AppState, query: &LookupQuery) -> Result<DebtDocument, LookupError> {
    use crate::domain::quote::{quote, OpenCharge};

    let found = find_debts(state, query).await?;
    let open: Vec<OpenCharge> = found.iter().flat_map(|d| d.charges.iter()).map(OpenCharge::from).collect();
    let today = state.clock.today();
    let quoted = quote(&open, &state.municipality, today);
    let mut by_account: std::collections::HashMap<String, crate::domain::quote::AccountQuote> =
        quoted.accounts.into_iter().map(|a| (a.account.clone(), a)).collect();
    let accounts = found
        .into_iter()
        .map(|d| {
            let a = d.account;
            let (items, total) = match by_account.remove(a.number.as_str()) {
                Some(q) => (q.items, q.total),
                None => (Vec::new(), Centavos::ZERO),
            };
            AccountDebt {
                owner: crate::privacy::mask_name(&a.name),
                account: a.number.into_string(),
                kind: a.kind,
                person_kind: a.person_kind,
                colonia: a.colonia,
                items,
                total,
            }
        })
        .collect();
    Ok(DebtDocument {
        computed_on: today,
        currency: "MXN".into(),
        accounts,
        subtotal: quoted.subtotal,
        rounding: quoted.rounding,
        total: quoted.total,
    })
}

/// The lookup behind the page's forms. Problems are returned as data (not as
/// `Err`) so the page can render them, and the HTTP status is set to match.
#[server(prefix = "/api/sf", endpoint = "lookup")]
pub async fn lookup_debts(cuenta: Option<String>, rfc: Option<String>) -> Result<Option<LookupOutcome>, ServerFnError> {
    use axum::http::StatusCode;

    let Some(query) = LookupQuery::from_params(cuenta.as_deref(), rfc.as_deref()) else {
        return Ok(None);
    };
    let state =
        use_context::<crate::state::AppState>().ok_or_else(|| ServerFnError::new("application state missing"))?;
    let result = match query {
        Ok(query) => run_lookup(&state, &query).await,
        Err(e) => Err(e),
    };
    Ok(Some(match result {
        Ok(doc) => LookupOutcome::Found(doc),
        Err(e) => {
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST));
            }
            LookupOutcome::Problem(e.into())
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_form_fields() {
        assert_eq!(LookupQuery::from_params(None, None), None);
        assert_eq!(
            LookupQuery::from_params(Some(" p-000123 "), None),
            Some(Ok(LookupQuery::Account(AccountNumber::parse("P-000123").unwrap())))
        );
        assert_eq!(LookupQuery::from_params(Some(""), None), Some(Err(LookupError::EmptyAccount)));
        assert_eq!(LookupQuery::from_params(Some("P-1"), Some("GODE561231GR8")), Some(Err(LookupError::BothGiven)));
        assert!(matches!(LookupQuery::from_params(Some(""), Some("GODE561231GR8")), Some(Ok(LookupQuery::Rfc(_)))));
        assert!(matches!(
            LookupQuery::from_params(None, Some("XAXX010101000")),
            Some(Err(LookupError::Rfc(RfcError::Generic)))
        ));
        assert_eq!(LookupQuery::from_params(Some(&"9".repeat(10_000)), None), Some(Err(LookupError::AccountTooLong)));
        assert_eq!(LookupQuery::from_params(Some("P-1'; DROP TABLE"), None), Some(Err(LookupError::AccountShape)));
    }

    #[test]
    fn every_error_has_a_status_and_spanish_message() {
        let errors = [
            LookupError::Missing,
            LookupError::EmptyAccount,
            LookupError::AccountNotFound("P-9".into()),
            LookupError::RfcNotFound { rfc: "GODE561231GR9".into(), check_digit_failed: true },
            LookupError::Unavailable,
        ];
        let statuses: Vec<u16> = errors.iter().map(LookupError::status).collect();
        assert_eq!(statuses, [400, 400, 404, 404, 503]);
        for e in &errors {
            assert!(!e.message(Lang::Es).is_empty());
            assert_ne!(e.message(Lang::Es), e.message(Lang::En));
        }
        assert!(errors[3].hint(Lang::Es).unwrap().contains("Verifique su RFC"));
        assert_eq!(errors[2].hint(Lang::Es), None);
    }
}
