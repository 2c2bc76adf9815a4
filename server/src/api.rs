//! The JSON API (`/api/v1`): debts, payment orders, receipts, tariffs and
//! fee quotes, Stripe's webhook. Amounts are decimal strings ("1234.50"); errors are the one
//! [`AppError`] in its JSON shape `{"error": {"code", "message"}}` with the
//! matching HTTP status.
//!
//! Every route of `/api/v1` is declared in [`routes`], through
//! `utoipa_axum::routes!`, which registers the handler and its documented
//! operation together: the OpenAPI document (`/api/v1/openapi.json`) is
//! generated from these handlers and their types, and cannot drift from them.

use std::sync::OnceLock;

use app::domain::money::Centavos;
use app::domain::order_token::OrderToken;
use app::domain::payment::{OrderStatus, Provider};
use app::domain::tariffs::{Rate, TariffQuote, UmaApplied, Unit};
use app::error::{ApiErrorBody, AppError};
use app::lookup::{run_lookup, DebtDocument, LookupQuery};
use app::orders::{self, OrderError};
use app::state::AppState;
use app::store::{Order, OrderItem, OrderTransition};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::extract::{ApiBody, First, Json, PathParam, Query};

/// The document's frame: title, description, tags. Paths and schemas come
/// from the handlers registered in [`routes`].
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Recauda API",
        description = "Consulta de adeudos municipales, órdenes de pago y recibos oficiales. Los importes son cadenas \
                       decimales en pesos (MXN) con dos decimales; los mensajes de error están en español. Las rutas \
                       públicas tienen un límite de solicitudes por minuto y por dirección (429 con Retry-After)."
    ),
    tags(
        (name = "adeudos", description = "Lo que se debe, por número de cuenta o RFC"),
        (name = "órdenes", description = "Órdenes de pago: la cotización congelada y su pago en línea"),
        (name = "recibos", description = "Recibos oficiales: verificación del código QR y llaves públicas"),
        (name = "tarifas", description = "Tarifas vigentes de los trámites (en UMA, porcentaje o rango que fija el \
                                          personal) y cotización de un derecho: factor × cantidad × UMA del día"),
        (name = "stripe", description = "Eventos de Stripe"),
        (name = "tesorería", description = "Para el personal de la tesorería (sesión de /personal/entrar)"),
        (name = "servicio", description = "Estado del servicio y este documento"),
    )
)]
struct ApiDoc;

/// Every route of the API, each registered with its documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(debts))
        .routes(routes!(create_order))
        .routes(routes!(order))
        .routes(routes!(requote_order))
        .routes(routes!(checkout_order))
        .routes(routes!(crate::receipts::verify))
        .routes(routes!(crate::receipts::keys))
        .routes(routes!(crate::receipts::redeem))
        .routes(routes!(tariffs))
        .routes(routes!(create_quote))
        .routes(routes!(crate::caja::api_export))
        .routes(routes!(crate::stripe_webhook::webhook))
        .routes(routes!(openapi))
        .routes(routes!(healthz))
}

/// The OpenAPI document, generated once from [`routes`].
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| routes().split_for_parts().1)
}

/// The debts query: an account number or an RFC, not both.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DebtsQuery {
    /// Número de cuenta (use account o rfc, no ambos).
    #[param(value_type = Option<String>, max_length = 32)]
    #[serde(default)]
    pub account: First<String>,
    /// RFC de persona física (13) o moral (12).
    #[param(value_type = Option<String>, min_length = 12, max_length = 13)]
    #[serde(default)]
    pub rfc: First<String>,
}

/// What is owed by an account, or by every account of an RFC, quoted today.
#[utoipa::path(
    get,
    path = "/api/v1/debts",
    operation_id = "getDebts",
    tag = "adeudos",
    summary = "Adeudos por número de cuenta o por RFC",
    params(DebtsQuery),
    responses(
        (status = 200, description = "Adeudos cotizados al día de hoy", body = ApiDebts, content_type = "application/json"),
        (status = 400, description = "Consulta inválida (invalid_query, invalid_account, invalid_rfc, generic_rfc)", body = ApiErrorBody),
        (status = 404, description = "Cuenta o RFC sin registro (not_found)", body = ApiErrorBody),
        (status = 429, description = "Demasiadas consultas (rate_limited); ver Retry-After", body = ApiErrorBody,
            headers(("Retry-After" = u64, description = "Segundos por esperar"))),
        (status = 503, description = "Base de datos no disponible (unavailable)", body = ApiErrorBody),
    )
)]
#[tracing::instrument(name = "api.debts", skip_all)]
pub async fn debts(State(state): State<AppState>, Query(q): Query<DebtsQuery>) -> Result<Response, AppError> {
    let query = LookupQuery::from_params(q.account.as_deref(), q.rfc.as_deref())
        .unwrap_or(Err(app::lookup::LookupError::Missing))?;
    Ok(json_sized(&ApiDebts::from(run_lookup(&state, &query).await?), 8 * 1024))
}

/// The tariffs query: the day, today by default.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TariffsQuery {
    /// Día de la consulta (AAAA-MM-DD); hoy, en la zona horaria del municipio, si se omite.
    #[param(value_type = Option<String>, format = Date, example = "2026-03-01")]
    #[serde(default)]
    pub date: First<String>,
}

/// The tariffs in force on a day, with the day's UMA.
#[utoipa::path(
    get,
    path = "/api/v1/tariffs",
    operation_id = "getTariffs",
    tag = "tarifas",
    summary = "Tarifas vigentes en un día (hoy si se omite), con la UMA de ese día",
    params(TariffsQuery),
    responses(
        (status = 200, description = "Las tarifas vigentes, en el orden de la ley", body = ApiTariffs, content_type = "application/json"),
        (status = 400, description = "Fecha inválida (invalid_query, invalid_date) o sin tarifas vigentes ese día (no_schedule)", body = ApiErrorBody),
        (status = 429, description = "Demasiadas consultas (rate_limited); ver Retry-After", body = ApiErrorBody,
            headers(("Retry-After" = u64, description = "Segundos por esperar"))),
    )
)]
#[tracing::instrument(name = "api.tariffs", skip_all)]
pub async fn tariffs(State(state): State<AppState>, Query(q): Query<TariffsQuery>) -> Result<Response, AppError> {
    let catalogue = app::tariffs::catalogue(&state.municipality, q.date.as_deref(), state.clock.today())?;
    Ok(json_sized(&ApiTariffs::from(catalogue), 96 * 1024))
}

/// `POST /api/v1/quotes` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = QuoteRequest, description = "La tarifa, la cantidad y, si se quiere, el día de la cotización")]
pub struct QuoteRequest {
    /// Clave de la tarifa, como la da `GET /api/v1/tariffs`.
    #[schema(example = "ANU-I-E", min_length = 2, max_length = 40, pattern = "^[A-Z0-9-]+$")]
    pub tariff: String,
    /// Cantidad en la unidad de la tarifa, como cadena decimal (no como número JSON): metros cuadrados o
    /// lineales (una fracción se cobra como metro completo), días, meses, horas o piezas (enteros) o, en
    /// `percent_of_sales`, el boletaje vendido en pesos (hasta dos decimales).
    #[schema(example = "12.3", min_length = 1, max_length = 20, pattern = "^[0-9]+(\\.[0-9]+)?$")]
    pub quantity: String,
    /// Día de la cotización (AAAA-MM-DD); hoy, en la zona horaria del municipio, si se omite.
    #[schema(value_type = Option<String>, format = Date, example = "2026-03-01")]
    pub date: Option<String>,
}

impl ApiBody for QuoteRequest {
    const SHAPE_ES: &'static str = "envíe {\"tariff\": \"ANU-I-E\", \"quantity\": \"12.3\"} y, si quiere, \"date\" \
                                    (\"AAAA-MM-DD\"), sin otros campos. La cantidad va como cadena entre comillas, \
                                    no como número, igual que todo importe de esta API.";
    const SHAPE_EN: &'static str = "send {\"tariff\": \"ANU-I-E\", \"quantity\": \"12.3\"} and, optionally, \
                                    \"date\" (\"YYYY-MM-DD\"), no other fields. The quantity is a quoted string, \
                                    not a number, like every amount of this API.";
}

/// A fee's quote, broken down (200: nothing is created).
#[utoipa::path(
    post,
    path = "/api/v1/quotes",
    operation_id = "createQuote",
    tag = "tarifas",
    summary = "Cotiza un derecho: factor × cantidad cobrada × UMA del día, redondeado al centavo",
    description = "Con la tarifa vigente en la fecha (hoy si se omite) y la UMA de ese día. Una fracción de metro \
                   se cobra como metro completo; días, meses, horas y piezas son enteros; el porcentaje del \
                   boletaje no usa UMA. Las tarifas con rango las fija el personal (422 staff_sets_amount) y las \
                   que la ley no autoriza no se cotizan (422 not_authorized).",
    request_body = QuoteRequest,
    responses(
        (status = 200, description = "La cotización desglosada", body = ApiQuote),
        (status = 400, description = "Solicitud inválida (invalid_json, invalid_date, unknown_tariff, invalid_quantity, no_schedule, no_uma)", body = ApiErrorBody),
        (status = 413, description = "Cuerpo demasiado grande (payload_too_large)", body = ApiErrorBody),
        (status = 415, description = "El cuerpo no es JSON (unsupported_media_type)", body = ApiErrorBody),
        (status = 422, description = "La ley no lo autoriza (not_authorized) o el importe lo fija el personal dentro de un rango de UMA (staff_sets_amount)", body = ApiErrorBody),
        (status = 429, description = "Demasiadas solicitudes (rate_limited); ver Retry-After", body = ApiErrorBody,
            headers(("Retry-After" = u64, description = "Segundos por esperar"))),
    )
)]
#[tracing::instrument(name = "api.create_quote", skip_all)]
pub async fn create_quote(
    State(state): State<AppState>,
    Json(request): Json<QuoteRequest>,
) -> Result<axum::Json<ApiQuote>, AppError> {
    let quote = app::tariffs::quote(
        &state.municipality,
        &request.tariff,
        &request.quantity,
        request.date.as_deref(),
        state.clock.today(),
    )?;
    Ok(axum::Json(ApiQuote::from(quote)))
}

/// A decimal of a tariff as the API writes it: a string, without trailing
/// zeros ("10", "0.5").
fn decimal(d: Decimal) -> String {
    d.normalize().to_string()
}

/// The tariffs in force on a day.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Tariffs, description = "Las tarifas vigentes en un día, con la ley que las fija y la UMA de ese día")]
pub struct ApiTariffs {
    /// El día consultado.
    pub date: NaiveDate,
    /// La ley que fija las tarifas vigentes ese día.
    pub law: String,
    /// Primer día de vigencia de esas tarifas.
    pub valid_from: NaiveDate,
    /// La UMA de ese día (null antes del primer valor conocido).
    pub uma: Option<ApiUma>,
    pub tariffs: Vec<ApiTariff>,
}

/// The UMA a fee is computed with, and when it is in force.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Uma, description = "La UMA (Unidad de Medida y Actualización) de un día y su vigencia")]
pub struct ApiUma {
    /// Valor diario en pesos.
    #[schema(example = "117.31", pattern = "^[0-9]+(\\.[0-9]+)?$")]
    pub daily_value: String,
    /// Primer día de vigencia.
    pub valid_from: NaiveDate,
    /// Último día de vigencia; null mientras no se conozca el valor siguiente.
    pub valid_until: Option<NaiveDate>,
}

impl From<UmaApplied> for ApiUma {
    fn from(u: UmaApplied) -> Self {
        ApiUma { daily_value: u.daily_value.to_string(), valid_from: u.valid_from, valid_until: u.valid_until }
    }
}

/// A tariff of the schedule in force.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Tariff, description = "Una tarifa vigente: qué cobra, por qué unidad, cuánto y con qué fundamento")]
pub struct ApiTariff {
    /// Clave estable, la que se cotiza en `POST /api/v1/quotes`.
    #[schema(example = "ANU-I-E")]
    pub code: String,
    /// Como la nombra la ley.
    pub name: String,
    pub group: ApiTariffGroup,
    /// Concepto del catálogo bajo el que se cobra.
    #[schema(example = "anuncios")]
    pub concept: String,
    /// Trámite al que pertenece (su clave en el catálogo de trámites).
    #[schema(example = "anuncios")]
    pub procedure: String,
    pub unit: Unit,
    /// La unidad en palabras.
    #[schema(example = "por m² o fracción, al año")]
    pub unit_label: String,
    /// Qué mide la cantidad (la etiqueta de su campo).
    #[schema(example = "Metros cuadrados")]
    pub quantity_label: String,
    pub rate: ApiRate,
    /// Ley, artículo y fracción o inciso.
    pub legal_basis: String,
    /// Lo que la ley dice además, en español (rango, plazo, superficie, notas).
    pub rules: Vec<String>,
    /// Plazo máximo en días por permiso.
    #[schema(minimum = 1)]
    pub max_days: Option<u32>,
    /// Superficie máxima en m², como cadena decimal.
    #[schema(example = "10", pattern = "^[0-9]+(\\.[0-9]+)?$")]
    pub max_area_m2: Option<String>,
    /// El giro de una tarifa de bebidas alcohólicas.
    pub giro: Option<ApiGiro>,
}

/// How the law groups a tariff.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TariffGroup, description = "El grupo de tarifas de la ley al que pertenece")]
pub struct ApiTariffGroup {
    #[schema(example = "anuncios-permanentes")]
    pub code: String,
    #[schema(example = "Anuncios permanentes (anual)")]
    pub name: String,
}

/// The giro (line of business) of an alcohol licence's tariff.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Giro, description = "El giro de una licencia de bebidas alcohólicas")]
pub struct ApiGiro {
    #[schema(example = "BAR-DISCO")]
    pub code: String,
    #[schema(example = "Bar y/o discoteca")]
    pub name: String,
}

/// How much a tariff charges per unit; decimals are strings.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[schema(as = Rate, description = "Cuánto cobra la tarifa por unidad, según su clase (kind); los decimales son cadenas")]
pub enum ApiRate {
    /// Un factor fijo en UMA por unidad.
    Uma {
        #[schema(example = "4", pattern = "^[0-9]+(\\.[0-9]+)?$")]
        factor: String,
    },
    /// El personal fija el factor dentro de este rango de UMA por unidad (no se cotiza en línea).
    UmaRange {
        #[schema(example = "20", pattern = "^[0-9]+(\\.[0-9]+)?$")]
        min: String,
        #[schema(example = "50", pattern = "^[0-9]+(\\.[0-9]+)?$")]
        max: String,
    },
    /// Un porcentaje del boletaje vendido (la cantidad, en pesos).
    Percent {
        #[schema(example = "10", pattern = "^[0-9]+(\\.[0-9]+)?$")]
        percent: String,
    },
    /// La ley no lo autoriza; el motivo, en español.
    NotAuthorized { reason: String },
}

impl From<&Rate> for ApiRate {
    fn from(rate: &Rate) -> Self {
        match rate {
            Rate::Uma(f) => ApiRate::Uma { factor: decimal(*f) },
            Rate::UmaRange { min, max } => ApiRate::UmaRange { min: decimal(*min), max: decimal(*max) },
            Rate::Percent(p) => ApiRate::Percent { percent: decimal(*p) },
            Rate::NotAuthorized(why) => ApiRate::NotAuthorized { reason: why.clone() },
        }
    }
}

impl From<app::tariffs::Catalogue<'_>> for ApiTariffs {
    fn from(c: app::tariffs::Catalogue<'_>) -> Self {
        ApiTariffs {
            date: c.date,
            law: c.schedule.law.clone(),
            valid_from: c.schedule.valid_from,
            uma: c.uma.map(ApiUma::from),
            tariffs: c
                .entries
                .into_iter()
                .map(|e| ApiTariff {
                    code: e.tariff.code.clone(),
                    name: e.tariff.name.clone(),
                    group: ApiTariffGroup { code: e.group.code.clone(), name: e.group.name.clone() },
                    concept: e.group.concept.clone(),
                    procedure: e.group.procedure.clone(),
                    unit: e.tariff.unit,
                    unit_label: e.tariff.unit.label_es().into(),
                    quantity_label: e.tariff.unit.quantity_es().into(),
                    rate: ApiRate::from(&e.tariff.rate),
                    legal_basis: e.tariff.legal_basis.clone(),
                    rules: e.tariff.rules_es(),
                    max_days: e.tariff.max_days,
                    max_area_m2: e.tariff.max_area_m2.map(decimal),
                    giro: e.giro.map(|g| ApiGiro { code: g.code.clone(), name: g.name.clone() }),
                })
                .collect(),
        }
    }
}

/// A fee's quote, broken down: every figure it was computed from.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Quote, description = "La cotización de un derecho, desglosada: todas las cifras con que se calculó")]
pub struct ApiQuote {
    /// La clave de la tarifa.
    #[schema(example = "ANU-I-E")]
    pub tariff: String,
    pub name: String,
    pub legal_basis: String,
    /// La ley de las tarifas vigentes ese día.
    pub law: String,
    pub unit: Unit,
    /// La unidad en palabras.
    #[schema(example = "por m² o fracción, al año")]
    pub unit_label: String,
    /// El día de la cotización.
    pub date: NaiveDate,
    /// La UMA aplicada y su vigencia; null en `percent_of_sales`, que no usa UMA.
    pub uma: Option<ApiUma>,
    /// UMA por unidad; en `percent_of_sales`, el porcentaje del boletaje.
    #[schema(example = "4", pattern = "^[0-9]+(\\.[0-9]+)?$")]
    pub factor: String,
    /// La cantidad recibida.
    #[schema(example = "12.3", pattern = "^[0-9]+(\\.[0-9]+)?$")]
    pub quantity_given: String,
    /// La cantidad cobrada (una fracción de metro cuenta como metro completo).
    #[schema(example = "13", pattern = "^[0-9]+(\\.[0-9]+)?$")]
    pub quantity_charged: String,
    /// factor × cantidad cobrada × UMA (o porcentaje × boletaje), redondeado al centavo (mitad hacia arriba).
    pub fee: Centavos,
    /// Siempre `MXN`.
    pub currency: String,
}

impl From<TariffQuote> for ApiQuote {
    fn from(q: TariffQuote) -> Self {
        ApiQuote {
            tariff: q.tariff,
            name: q.name,
            legal_basis: q.legal_basis,
            law: q.law,
            unit: q.unit,
            unit_label: q.unit.label_es().into(),
            date: q.date,
            uma: q.uma.map(ApiUma::from),
            factor: decimal(q.factor),
            quantity_given: decimal(q.quantity_given),
            quantity_charged: decimal(q.quantity_charged),
            fee: q.fee,
            currency: "MXN".into(),
        }
    }
}

/// A JSON answer serialised into a buffer of `capacity` bytes up front (a
/// debts document is a few kilobytes: no growing and copying on the way).
fn json_sized<T: Serialize>(value: &T, capacity: usize) -> Response {
    let mut body = Vec::with_capacity(capacity);
    match serde_json::to_writer(&mut body, value) {
        Ok(()) => ([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "JSON answer not serialisable");
            AppError::unavailable().into_response()
        }
    }
}

/// `YYYY-MM-DD`, written without the formatting machinery (every date of
/// every debts document goes through here).
fn iso_date<S: serde::Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    use chrono::Datelike;
    let (y, m, day) = (d.year(), d.month(), d.day());
    if !(0..=9999).contains(&y) {
        return s.collect_str(&d.format("%Y-%m-%d"));
    }
    let digit = |n: u32| b'0' + (n % 10) as u8;
    let y = y as u32;
    let buf = [
        digit(y / 1000),
        digit(y / 100),
        digit(y / 10),
        digit(y),
        b'-',
        digit(m / 10),
        digit(m),
        b'-',
        digit(day / 10),
        digit(day),
    ];
    s.serialize_str(std::str::from_utf8(&buf).expect("ASCII digits"))
}

/// `GET /healthz`: does the database answer?
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "health",
    tag = "servicio",
    summary = "¿Responde la base de datos?",
    responses((status = 200, description = "Todo bien", body = Health), (status = 503, description = "La base de datos no responde", body = Health))
)]
pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => axum::Json(Health { status: "ok".into(), database: "ok".into() }).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "healthz: database did not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(Health { status: "unavailable".into(), database: "error".into() }),
            )
                .into_response()
        }
    }
}

/// The answer of `/healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `unavailable`.
    pub status: String,
    /// `ok` or `error`.
    pub database: String,
}

/// `GET /api/v1/openapi.json`
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    operation_id = "openapi",
    tag = "servicio",
    summary = "Este documento (OpenAPI 3.1)",
    responses((status = 200, description = "El documento OpenAPI", content_type = "application/json"))
)]
pub async fn openapi() -> Response {
    static JSON: OnceLock<Vec<u8>> = OnceLock::new();
    let body = JSON.get_or_init(|| {
        let mut doc = serde_json::to_value(document()).expect("the OpenAPI document is JSON");
        link_keys_in_camel_case(&mut doc);
        serde_json::to_vec(&doc).expect("the OpenAPI document is JSON")
    });
    ([(axum::http::header::CONTENT_TYPE, "application/json")], body.as_slice()).into_response()
}

/// utoipa 5 writes a response's link objects with its Rust field names
/// (`operation_id`); OpenAPI's are `operationId`, `operationRef` and
/// `requestBody` (without them a client cannot follow the links).
fn link_keys_in_camel_case(doc: &mut serde_json::Value) {
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else { return };
    let links = paths
        .values_mut()
        .filter_map(|item| item.as_object_mut())
        .flat_map(|item| item.values_mut())
        .filter_map(|op| op.get_mut("responses").and_then(|r| r.as_object_mut()))
        .flat_map(|responses| responses.values_mut())
        .filter_map(|response| response.get_mut("links").and_then(|l| l.as_object_mut()))
        .flat_map(|links| links.values_mut())
        .filter_map(|link| link.as_object_mut());
    for link in links {
        for (from, to) in
            [("operation_id", "operationId"), ("operation_ref", "operationRef"), ("request_body", "requestBody")]
        {
            if let Some(value) = link.remove(from) {
                link.insert(to.to_string(), value);
            }
        }
    }
}

/// `POST /api/v1/orders` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateOrder, description = "account o rfc, no ambos")]
pub struct CreateOrderRequest {
    #[schema(max_length = 32)]
    pub account: Option<String>,
    #[schema(min_length = 12, max_length = 13)]
    pub rfc: Option<String>,
    /// `charge_id` de los adeudos a pagar; todos si se omite.
    #[schema(min_items = 1)]
    pub charges: Option<Vec<i64>>,
}

impl ApiBody for CreateOrderRequest {
    const SHAPE_ES: &'static str = "envíe {\"account\": \"…\"} o {\"rfc\": \"…\"} y, si quiere, \"charges\" con la \
                                    lista de números de cargo.";
    const SHAPE_EN: &'static str =
        "send {\"account\": \"…\"} or {\"rfc\": \"…\"} and, optionally, \"charges\" with the list of charge ids.";
}

/// Creates a payment order (201).
#[utoipa::path(
    post,
    path = "/api/v1/orders",
    operation_id = "createOrder",
    tag = "órdenes",
    summary = "Crea una orden de pago con los adeudos de una cuenta o un RFC",
    description = "Congela la cotización (recargos, descuentos, redondeo) hasta el fin del día en la zona horaria \
                   del municipio. Sin \"charges\" toma todos los adeudos pendientes; con ellos, solo esos, del más \
                   antiguo al más reciente por cuenta y concepto.",
    request_body = CreateOrderRequest,
    responses(
        (status = 201, description = "Orden creada", body = ApiOrder,
            links(
                ("getOrder" = (operation_id = "getOrder", parameters(("token" = "$response.body#/id")),
                    description = "La orden creada")),
                ("checkoutOrder" = (operation_id = "checkoutOrder", parameters(("token" = "$response.body#/id")),
                    description = "Pagarla en línea")),
                ("requoteOrder" = (operation_id = "requoteOrder", parameters(("token" = "$response.body#/id")),
                    description = "Volver a cotizarla cuando venza")),
            )
        ),
        (status = 400, description = "Solicitud inválida (invalid_json, invalid_query, invalid_account, invalid_rfc, generic_rfc, invalid_charges, older_charge_unpaid)", body = ApiErrorBody),
        (status = 404, description = "Cuenta o RFC sin registro (not_found)", body = ApiErrorBody),
        (status = 409, description = "Algún adeudo ya está en otra orden vigente (charges_in_live_order) o se acaba de pagar (charges_not_open)", body = ApiErrorBody),
        (status = 413, description = "Cuerpo demasiado grande (payload_too_large)", body = ApiErrorBody),
        (status = 415, description = "El cuerpo no es JSON (unsupported_media_type)", body = ApiErrorBody),
        (status = 429, description = "Demasiadas solicitudes (rate_limited); ver Retry-After", body = ApiErrorBody),
        (status = 503, description = "Base de datos no disponible (unavailable)", body = ApiErrorBody),
    )
)]
#[tracing::instrument(name = "api.create_order", skip_all)]
pub async fn create_order(
    State(state): State<AppState>,
    Json(request): Json<CreateOrderRequest>,
) -> Result<(StatusCode, axum::Json<ApiOrder>), AppError> {
    let query = LookupQuery::from_params(request.account.as_deref(), request.rfc.as_deref())
        .unwrap_or(Err(app::lookup::LookupError::Missing))?;
    let order = orders::create_order(&state, &query, request.charges.as_deref()).await?;
    Ok((StatusCode::CREATED, axum::Json(ApiOrder::from(order))))
}

/// The order behind the token of a path; anything else is an unknown order
/// (the same answer for a malformed token and for one no order has).
async fn order_id(state: &AppState, raw: &str) -> Result<i64, AppError> {
    let not_found = || OrderError::NotFound(raw.chars().take(8).collect());
    let token = OrderToken::parse(raw).ok_or_else(not_found)?;
    match state.store.order_id_by_token(&token).await {
        Ok(Some(id)) => Ok(id),
        Ok(None) => Err(not_found().into()),
        Err(e) => {
            tracing::error!(error = %e, "api: store failed");
            Err(AppError::unavailable())
        }
    }
}

/// The order with its status, items and transitions.
#[utoipa::path(
    get,
    path = "/api/v1/orders/{token}",
    operation_id = "getOrder",
    tag = "órdenes",
    summary = "Una orden de pago: estado, partidas y transiciones",
    params(("token" = String, Path, description = "Token de la orden (32 dígitos hexadecimales), devuelto al crearla")),
    responses(
        (status = 200, description = "La orden", body = ApiOrder),
        (status = 404, description = "Orden inexistente (order_not_found)", body = ApiErrorBody),
        (status = 429, description = "Demasiadas solicitudes (rate_limited)", body = ApiErrorBody),
        (status = 503, description = "Base de datos no disponible (unavailable)", body = ApiErrorBody),
    )
)]
#[tracing::instrument(name = "api.order", skip_all)]
pub async fn order(
    State(state): State<AppState>,
    PathParam(token): PathParam,
) -> Result<axum::Json<ApiOrder>, AppError> {
    let order = orders::get_order(&state, order_id(&state, &token).await?).await?;
    let id = order.id;
    let mut body = ApiOrder::from(order);
    if matches!(body.status, OrderStatus::Succeeded | OrderStatus::Refunded | OrderStatus::Annulled) {
        match app::receipts::receipt_of_order(&state, id).await {
            Ok(r) => body.receipt = r.as_ref().and_then(|r| ApiReceiptLinks::of(&state, r)),
            Err(e) => tracing::warn!(order_id = id, error = %e, "order's receipt unavailable"),
        }
    }
    Ok(axum::Json(body))
}

/// A new order (201) for the charges of an expired one, at today's figures.
#[utoipa::path(
    post,
    path = "/api/v1/orders/{token}/requote",
    operation_id = "requoteOrder",
    tag = "órdenes",
    summary = "Vuelve a cotizar una orden vencida: nueva orden con las cifras de hoy",
    params(("token" = String, Path, description = "Token de la orden vencida")),
    responses(
        (status = 201, description = "Nueva orden (requoted_from apunta a la vencida)", body = ApiOrder,
            links(
                ("getOrder" = (operation_id = "getOrder", parameters(("token" = "$response.body#/id")),
                    description = "La orden creada")),
                ("checkoutOrder" = (operation_id = "checkoutOrder", parameters(("token" = "$response.body#/id")),
                    description = "Pagarla en línea")),
                ("requoteOrder" = (operation_id = "requoteOrder", parameters(("token" = "$response.body#/id")),
                    description = "Volver a cotizarla cuando venza")),
            )
        ),
        (status = 404, description = "Orden inexistente (order_not_found)", body = ApiErrorBody),
        (status = 409, description = "La orden sigue vigente (order_still_live), no está vencida (order_not_requotable), sus adeudos ya no están pendientes (charges_not_open) o están en otra orden vigente (charges_in_live_order)", body = ApiErrorBody),
        (status = 429, description = "Demasiadas solicitudes (rate_limited)", body = ApiErrorBody),
        (status = 503, description = "Base de datos no disponible (unavailable)", body = ApiErrorBody),
    )
)]
#[tracing::instrument(name = "api.requote_order", skip_all)]
pub async fn requote_order(
    State(state): State<AppState>,
    PathParam(token): PathParam,
) -> Result<(StatusCode, axum::Json<ApiOrder>), AppError> {
    let order = orders::requote(&state, order_id(&state, &token).await?).await?;
    Ok((StatusCode::CREATED, axum::Json(ApiOrder::from(order))))
}

/// A started (or resumed) online payment: where to send the citizen.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Checkout)]
pub struct ApiCheckout {
    /// The order's token.
    pub order: String,
    pub attempt_id: i64,
    pub provider: Provider,
    pub redirect_url: String,
}

/// Starts (or resumes) the online payment of a live order (201).
#[utoipa::path(
    post,
    path = "/api/v1/orders/{token}/checkout",
    operation_id = "checkoutOrder",
    tag = "órdenes",
    summary = "Inicia (o retoma) el pago en línea de una orden vigente: devuelve la URL a la que enviar al ciudadano",
    params(("token" = String, Path, description = "Token de la orden")),
    responses(
        (status = 201, description = "Intento de pago", body = ApiCheckout,
            links(
                ("getOrder" = (operation_id = "getOrder", parameters(("token" = "$response.body#/order")),
                    description = "La orden que se paga")),
            )
        ),
        (status = 404, description = "Orden inexistente (order_not_found)", body = ApiErrorBody),
        (status = 409, description = "La orden ya no se puede pagar en línea (order_not_payable, event_refused)", body = ApiErrorBody),
        (status = 429, description = "Demasiadas solicitudes (rate_limited)", body = ApiErrorBody),
        (status = 503, description = "Base de datos o proveedor no disponible (unavailable)", body = ApiErrorBody),
    )
)]
#[tracing::instrument(name = "api.checkout_order", skip_all)]
pub async fn checkout_order(
    State(state): State<AppState>,
    PathParam(token): PathParam,
) -> Result<(StatusCode, axum::Json<ApiCheckout>), AppError> {
    let id = order_id(&state, &token).await?;
    let c = app::payments::start_checkout(&state, id).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(ApiCheckout {
            order: token.to_ascii_lowercase(),
            attempt_id: c.attempt.id,
            provider: c.attempt.provider,
            redirect_url: c.redirect_url,
        }),
    ))
}

/// A payment order as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Order)]
pub struct ApiOrder {
    /// The order's token: 128 random bits, its only address
    /// (`/api/v1/orders/{id}`, the page `/orden/{id}`). Keep it private.
    #[schema(pattern = "^[0-9a-f]{32}$")]
    pub id: String,
    /// Referencia de pago con dígitos verificadores (ISO 7064 MOD 97-10).
    #[schema(pattern = "^[0-9]{16}$")]
    pub reference: String,
    pub status: OrderStatus,
    pub items: Vec<ApiOrderItem>,
    pub subtotal: Centavos,
    pub rounding: Centavos,
    pub total: Centavos,
    /// Siempre `MXN`.
    pub currency: String,
    /// Fin del día (zona horaria del municipio), en UTC; o el vencimiento de la ficha OXXO.
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// The token of the expired order this one re-quotes.
    pub requoted_from: Option<String>,
    pub transitions: Vec<ApiTransition>,
    /// The official receipt, once the order is paid.
    pub receipt: Option<ApiReceiptLinks>,
}

/// Where a paid order's receipt is.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ReceiptLinks)]
pub struct ApiReceiptLinks {
    #[schema(example = "A-2026-000123")]
    pub folio: String,
    /// What its QR code holds: anyone can check it there.
    pub verify_url: String,
    /// The printable page and the PDFs (letter, 80 mm ticket).
    pub html_url: String,
    pub pdf_letter_url: String,
    pub pdf_ticket_url: String,
}

impl ApiReceiptLinks {
    pub fn of(state: &AppState, r: &app::store::Receipt) -> Option<ApiReceiptLinks> {
        let s = r.signature.as_deref()?;
        let base = state.public_url.trim_end_matches('/');
        let folio = r.folio.to_string();
        Some(ApiReceiptLinks {
            verify_url: app::receipts::verify_url(state, r)?,
            html_url: format!("{base}/recibo/{folio}?s={s}"),
            pdf_letter_url: format!("{base}/recibo/{folio}/pdf?papel=carta&s={s}"),
            pdf_ticket_url: format!("{base}/recibo/{folio}/pdf?papel=ticket&s={s}"),
            folio,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OrderItem)]
pub struct ApiOrderItem {
    pub charge_id: i64,
    pub account: String,
    pub concept: String,
    pub period: String,
    pub due_date: NaiveDate,
    pub principal: Centavos,
    pub recargos: Centavos,
    pub discount: Centavos,
    pub total: Centavos,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Transition)]
pub struct ApiTransition {
    pub from: Option<OrderStatus>,
    pub to: OrderStatus,
    /// `created`, or the event that moved the order (`redirected`, `paid`, `expired`…).
    #[schema(examples("created", "redirected", "paid", "expired"))]
    pub event: String,
    pub at: DateTime<Utc>,
}

impl From<Order> for ApiOrder {
    fn from(o: Order) -> Self {
        ApiOrder {
            id: o.token.to_string(),
            reference: o.reference,
            status: o.status,
            items: o.items.into_iter().map(ApiOrderItem::from).collect(),
            subtotal: o.subtotal,
            rounding: o.rounding,
            total: o.total,
            currency: o.currency,
            expires_at: o.expires_at,
            created_at: o.created_at,
            requoted_from: o.requoted_from_token.map(String::from),
            transitions: o.transitions.into_iter().map(ApiTransition::from).collect(),
            receipt: None,
        }
    }
}

impl From<OrderItem> for ApiOrderItem {
    fn from(i: OrderItem) -> Self {
        ApiOrderItem {
            charge_id: i.charge_id,
            account: i.account,
            concept: i.concept,
            period: i.period,
            due_date: i.due_date,
            principal: i.principal,
            recargos: i.recargos,
            discount: i.discount,
            total: i.total,
        }
    }
}

impl From<OrderTransition> for ApiTransition {
    fn from(t: OrderTransition) -> Self {
        ApiTransition { from: t.from, to: t.to, event: t.event.map_or("created", |e| e.as_str()).to_string(), at: t.at }
    }
}

/// The debts document of the API: a stable contract, decoupled from the
/// internal quote types.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Debts)]
pub struct ApiDebts {
    #[serde(serialize_with = "iso_date")]
    pub computed_on: NaiveDate,
    /// Siempre `MXN`.
    pub currency: String,
    pub accounts: Vec<ApiAccount>,
    pub subtotal: Centavos,
    /// Ajuste por redondeo al peso (CFF art. 20).
    pub rounding: Centavos,
    pub total: Centavos,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Account)]
pub struct ApiAccount {
    pub account: String,
    #[schema(examples("predial", "agua", "licencia_comercial"))]
    pub kind: String,
    pub person_kind: app::domain::rfc::PersonKind,
    /// Nombre enmascarado (iniciales).
    pub owner: String,
    pub colonia: Option<String>,
    pub items: Vec<ApiItem>,
    pub total: Centavos,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Item)]
pub struct ApiItem {
    pub charge_id: i64,
    pub concept: String,
    pub concept_name: String,
    pub period: String,
    #[serde(serialize_with = "iso_date")]
    pub due_date: NaiveDate,
    #[schema(minimum = 0)]
    pub months_late: u32,
    pub principal: Centavos,
    pub recargos: Centavos,
    pub discount: Centavos,
    pub discounts: Vec<ApiDiscount>,
    pub total: Centavos,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Discount)]
pub struct ApiDiscount {
    pub program: String,
    pub name: String,
    pub legal_basis: String,
    #[serde(serialize_with = "iso_date")]
    pub valid_until: NaiveDate,
    /// `principal`, `recargos` o `multas`.
    pub component: String,
    #[schema(examples("50"))]
    pub percent: String,
    pub amount: Centavos,
}

impl From<DebtDocument> for ApiDebts {
    fn from(doc: DebtDocument) -> Self {
        ApiDebts {
            computed_on: doc.computed_on,
            currency: doc.currency,
            subtotal: doc.subtotal,
            rounding: doc.rounding,
            total: doc.total,
            accounts: doc
                .accounts
                .into_iter()
                .map(|a| ApiAccount {
                    account: a.account,
                    kind: a.kind,
                    person_kind: a.person_kind,
                    owner: a.owner,
                    colonia: a.colonia,
                    total: a.total,
                    items: a
                        .items
                        .into_iter()
                        .map(|i| ApiItem {
                            charge_id: i.charge_id,
                            concept: i.concept,
                            concept_name: i.concept_name_es,
                            period: i.period,
                            due_date: i.due_date,
                            months_late: i.months_late,
                            principal: i.principal,
                            recargos: i.recargos,
                            discount: i.discount,
                            total: i.total,
                            discounts: i
                                .discounts
                                .into_iter()
                                .map(|d| ApiDiscount {
                                    program: d.program_id,
                                    name: d.name,
                                    legal_basis: d.legal_basis,
                                    valid_until: d.valid_until,
                                    component: component_name(&d.component).into(),
                                    percent: d.percent.normalize().to_string(),
                                    amount: d.amount,
                                })
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

fn component_name(c: &app::domain::discounts::Component) -> &'static str {
    use app::domain::discounts::Component;
    match c {
        Component::Principal => "principal",
        Component::Recargos => "recargos",
        Component::Multas => "multas",
    }
}
