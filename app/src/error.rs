//! The ONE error the portal shows: a code, an HTTP status, a message in
//! Spanish and in English (an optional hint, the form field it belongs to,
//! an optional `Retry-After`, an optional way back).
//!
//! Every service error converts into it ([`crate::lookup::LookupError`],
//! [`crate::orders::OrderError`], [`crate::payments::PaymentError`], the
//! tariffs' [`QuoteError`] here below), and so
//! do the HTTP boundary's own refusals (a form that fails its CSRF check, a
//! malformed body, too many requests). It is rendered in one place: as the
//! JSON error shape `{"error": {"code", "message", "hint"}}` under `/api`,
//! and as a page inside the site layout everywhere else (`server::http`).
//! Pages that keep their form on screen (the lookup) render the same value
//! as their error summary.

use serde::{Deserialize, Serialize};

use crate::domain::tariffs::QuoteError;
use crate::i18n::Lang;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppError {
    /// Stable, for programs (`rate_limited`, `not_found`, `csrf`…).
    pub code: String,
    pub status: u16,
    pub message_es: String,
    pub message_en: String,
    pub hint_es: Option<String>,
    pub hint_en: Option<String>,
    /// The form field the error belongs to (the error summary links to it).
    pub field: Option<String>,
    /// Seconds until a refused request may be made again.
    pub retry_after: Option<u64>,
    /// A path on this site to go back to from the error page.
    pub back: Option<String>,
}

impl AppError {
    pub fn new(status: u16, code: &str, message_es: impl Into<String>, message_en: impl Into<String>) -> AppError {
        AppError {
            code: code.into(),
            status,
            message_es: message_es.into(),
            message_en: message_en.into(),
            hint_es: None,
            hint_en: None,
            field: None,
            retry_after: None,
            back: None,
        }
    }

    pub fn with_back(mut self, path: impl Into<String>) -> AppError {
        self.back = Some(path.into());
        self
    }

    pub fn with_hint(mut self, es: impl Into<String>, en: impl Into<String>) -> AppError {
        self.hint_es = Some(es.into());
        self.hint_en = Some(en.into());
        self
    }

    pub fn message(&self, lang: Lang) -> &str {
        lang.pick(&self.message_es, &self.message_en)
    }

    pub fn hint(&self, lang: Lang) -> Option<&str> {
        match lang {
            Lang::Es => self.hint_es.as_deref(),
            Lang::En => self.hint_en.as_deref(),
        }
    }

    pub fn is_rate_limited(&self) -> bool {
        self.code == "rate_limited"
    }

    /// Too many requests from one address: wait `secs`.
    pub fn rate_limited(secs: u64) -> AppError {
        AppError {
            retry_after: Some(secs),
            ..AppError::new(
                429,
                "rate_limited",
                format!("Ha hecho muchas consultas seguidas. Espere {secs} segundos y vuelva a intentarlo."),
                format!("You have made many requests in a row. Wait {secs} seconds and try again."),
            )
        }
    }

    /// A state-changing form whose CSRF token does not match its cookie.
    pub fn csrf() -> AppError {
        AppError::new(
            403,
            "csrf",
            "No pudimos verificar que este formulario salió de este portal (la sesión del navegador pudo haber \
             cambiado). Vuelva a abrir la página y envíelo de nuevo.",
            "We could not verify that this form came from this portal. Open the page again and resubmit it.",
        )
        .with_back("/consulta")
    }

    /// A staff API route called without a live staff session.
    pub fn unauthorized() -> AppError {
        AppError::new(
            401,
            "unauthorized",
            "Esta operación es solo para el personal de la tesorería: inicie sesión en /personal/entrar.",
            "This operation is for the treasury's staff only: log in at /personal/entrar.",
        )
    }

    /// A staff page or action the person's roles do not allow.
    pub fn forbidden() -> AppError {
        AppError::new(
            403,
            "forbidden",
            "Su cuenta no tiene permiso para esta página o acción. Si lo necesita, pídalo a quien administra el personal.",
            "Your account is not allowed this page or action.",
        )
        .with_back("/personal")
    }

    /// A form or query whose fields are not what the page sends.
    pub fn bad_form(detail: &str) -> AppError {
        AppError::new(
            400,
            "invalid_form",
            format!("El formulario no tiene la forma esperada ({detail}). Vuelva a abrir la página."),
            format!("The form is not what was expected ({detail}). Open the page again."),
        )
    }

    /// A JSON body that is not the JSON expected.
    pub fn bad_json(expected_es: &str, expected_en: &str) -> AppError {
        AppError::new(400, "invalid_json", expected_es, expected_en)
    }

    /// No such route (under `/api`).
    pub fn no_route() -> AppError {
        AppError::new(404, "not_found", "No existe esa dirección de la API.", "There is no such API address.")
    }

    /// A method the address does not answer (405; the response's `Allow`
    /// header lists the ones it does).
    pub fn method_not_allowed() -> AppError {
        AppError::new(
            405,
            "method_not_allowed",
            "Esta dirección no acepta ese método HTTP (vea el encabezado Allow).",
            "This address does not accept that HTTP method (see the Allow header).",
        )
    }

    /// A request body over the limit (`server::security::MAX_BODY_BYTES`).
    pub fn payload_too_large() -> AppError {
        AppError::new(
            413,
            "payload_too_large",
            "El cuerpo de la solicitud es demasiado grande.",
            "The request body is too large.",
        )
    }

    /// The request took longer than the server's time limit.
    pub fn timed_out() -> AppError {
        AppError::new(
            503,
            "timeout",
            "La solicitud tardó demasiado. Intente de nuevo en unos minutos.",
            "The request took too long. Please try again in a few minutes.",
        )
    }

    /// The database (or another part the request needs) did not answer.
    pub fn unavailable() -> AppError {
        AppError::new(
            503,
            "unavailable",
            "El servicio no está disponible en este momento. Intente de nuevo en unos minutos.",
            "The service is unavailable right now. Please try again in a few minutes.",
        )
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message_en)
    }
}

impl std::error::Error for AppError {}

/// A fee that cannot be quoted: 400 for what the request got wrong (date,
/// tariff, quantity), 422 for what the law refuses (not authorised, an
/// amount staff set), with [`QuoteError`]'s own code and messages.
impl From<QuoteError> for AppError {
    fn from(e: QuoteError) -> AppError {
        AppError::new(e.status(), e.code(), e.message_es(), e.message_en())
    }
}

/// Every code an error may carry (the OpenAPI document lists them).
pub const ERROR_CODES: &[&str] = &[
    "invalid_query",
    "invalid_account",
    "invalid_rfc",
    "generic_rfc",
    "not_found",
    "method_not_allowed",
    "rate_limited",
    "unavailable",
    "invalid_json",
    "unsupported_media_type",
    "payload_too_large",
    "timeout",
    "invalid_form",
    "csrf",
    "forbidden",
    "unauthorized",
    "already_redeemed",
    "not_redeemable",
    "invalid_charges",
    "older_charge_unpaid",
    "charges_in_live_order",
    "order_not_found",
    "order_still_live",
    "order_not_requotable",
    "charges_not_open",
    "charges_changed",
    "attempt_not_found",
    "order_not_payable",
    "payments_unavailable",
    "below_online_minimum",
    "provider_refused",
    "provider_unavailable",
    "event_refused",
    "missing_signature",
    "stripe_not_configured",
    "bad_signature",
    "bad_event",
    "invalid_date",
    "unknown_tariff",
    "no_schedule",
    "no_uma",
    "invalid_quantity",
    "not_authorized",
    "staff_sets_amount",
    "out_of_range",
    "not_a_range",
];

#[cfg(feature = "ssr")]
fn code_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(ERROR_CODES.iter().copied()))
        .build()
}

/// The JSON error shape of the API.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ssr", schema(as = Error))]
pub struct ApiErrorBody {
    #[cfg_attr(feature = "ssr", schema(inline))]
    pub error: ApiErrorDetail,
}

/// An API error: a stable code and a message in Spanish.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiErrorDetail {
    #[cfg_attr(feature = "ssr", schema(schema_with = code_schema))]
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl From<&AppError> for ApiErrorBody {
    fn from(e: &AppError) -> Self {
        ApiErrorBody {
            error: ApiErrorDetail { code: e.code.clone(), message: e.message_es.clone(), hint: e.hint_es.clone() },
        }
    }
}

/// The error as a response: its status, `Retry-After`, the JSON shape as
/// body, and the error itself in the response's extensions, where the
/// boundary's renderer turns it into a page for anything but `/api`.
#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        use axum::http::{header, HeaderValue, StatusCode};
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(ApiErrorBody::from(&self))).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response.extensions_mut().insert(self);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::payment::{OrderStatus, TransitionError};
    use crate::domain::tariffs::QuantityError;
    use crate::lookup::LookupError;
    use crate::orders::OrderError;
    use crate::payments::PaymentError;

    #[test]
    fn every_code_is_listed() {
        let mut errors: Vec<AppError> = vec![
            AppError::rate_limited(1),
            AppError::csrf(),
            AppError::bad_form("x"),
            AppError::bad_json("cuerpo inválido", "invalid body"),
            AppError::no_route(),
            AppError::method_not_allowed(),
            AppError::unavailable(),
        ];
        for e in [
            LookupError::Missing,
            LookupError::AccountShape,
            LookupError::Rfc(crate::domain::rfc::RfcError::Generic),
            LookupError::Rfc(crate::domain::rfc::RfcError::Shape),
            LookupError::AccountNotFound("P-1".into()),
            LookupError::Unavailable,
        ] {
            errors.push(e.into());
        }
        for e in [
            OrderError::NothingToPay,
            OrderError::ChargesInLiveOrder(vec![1]),
            OrderError::NotFound("1".into()),
            OrderError::StillLive(1),
            OrderError::NotRequotable { id: 1, status: OrderStatus::Failed },
            OrderError::ChargesNoLongerOpen(1),
            OrderError::ChargesJustPaid,
            OrderError::ChargesChanged,
        ] {
            errors.push(e.into());
        }
        for e in [
            PaymentError::OrderNotFound,
            PaymentError::AttemptNotFound,
            PaymentError::NotPayable("x".into()),
            PaymentError::Refused(TransitionError::PaidAfterFinal(OrderStatus::Expired)),
            PaymentError::NoProvider,
            PaymentError::BelowMinimum,
            PaymentError::ProviderRefused("x".into()),
            PaymentError::ProviderUnavailable,
            PaymentError::Unavailable,
        ] {
            errors.push(e.into());
        }
        let d = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let (min, max) = (rust_decimal::Decimal::ONE, rust_decimal::Decimal::TEN);
        for e in [
            QuoteError::InvalidDate,
            QuoteError::UnknownTariff("X-1".into()),
            QuoteError::NoSchedule(d),
            QuoteError::NoUma(d),
            QuoteError::Quantity(QuantityError::NotANumber),
            QuoteError::Quantity(QuantityError::NotPositive),
            QuoteError::Quantity(QuantityError::TooLarge(max)),
            QuoteError::Quantity(QuantityError::Whole),
            QuoteError::Quantity(QuantityError::Centavos),
            QuoteError::Quantity(QuantityError::TooPrecise),
            QuoteError::NotAuthorized("No se autoriza.".into()),
            QuoteError::StaffSetsAmount { min, max },
            QuoteError::OutOfRange { min, max },
            QuoteError::NotARange,
            QuoteError::Overflow,
        ] {
            let app: AppError = e.clone().into();
            assert_eq!((app.status, app.code.as_str()), (e.status(), e.code()), "{e:?}");
            errors.push(app);
        }
        for e in errors {
            assert!(ERROR_CODES.contains(&e.code.as_str()), "{} is not in ERROR_CODES", e.code);
            assert!(!e.message_es.is_empty() && e.message_es != e.message_en, "{e:?}");
        }
    }

    #[test]
    fn both_languages_and_the_json_shape() {
        let e = AppError::rate_limited(12);
        assert_eq!((e.status, e.code.as_str(), e.retry_after), (429, "rate_limited", Some(12)));
        assert!(e.message(Lang::Es).contains("Espere 12 segundos"));
        assert!(e.message(Lang::En).contains("Wait 12 seconds"));
        let json = serde_json::to_value(ApiErrorBody::from(&e)).unwrap();
        assert_eq!(json["error"]["code"], "rate_limited");
        assert!(json["error"].get("hint").is_none());
        let e = AppError::no_route().with_hint("pista", "hint");
        assert_eq!(serde_json::to_value(ApiErrorBody::from(&e)).unwrap()["error"]["hint"], "pista");
    }
}
