//! Garbage collection for businesses (`app::domain::garbage`): the
//! treasury's page and the operator's commands.
//!
//! | route | who |
//! |-------|-----|
//! | `GET /personal/tesoreria/basura` | tesorero (`may::TREASURY`) |
//! | `POST /personal/tesoreria/basura/alta` (register a business's service) | tesorero |
//! | `POST /personal/tesoreria/basura/multa` (an amount within a range tariff) | tesorero |
//! | `POST /personal/tesoreria/basura/servicio` (N services at a fixed factor) | tesorero |
//!
//! ```text
//! recauda basura alta CUENTA TARIFA --desde AAAA-MM-DD [--factor UMA] [--motivo TEXTO]
//! recauda basura baja CUENTA --hasta AAAA-MM-DD
//! recauda cargos generar basura --mes AAAA-MM
//! ```
//!
//! Every form carries the session's CSRF token; every refusal is a page in
//! Spanish with the right status and an error summary linking to the field
//! (a command: a Spanish message and a non-zero exit), and changes nothing.
//! After a service is registered or a charge set, the page shows it back
//! with its quote (read again from the store by the id in the redirect).

use std::process::ExitCode;

use app::domain::account::AccountNumber;
use app::domain::garbage::{self, Month};
use app::domain::municipality::Municipality;
use app::domain::staff::may;
use app::state::AppState;
use app::ui::caja_pages::Notice;
use app::ui::garbage_pages::{self, GarbageDone, GarbagePage, GarbageTyped};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use chrono::{NaiveDate, Utc};
use serde::Deserialize;

use crate::caja::{form_refused, see_other, text, unavailable};
use crate::config::Settings;
use crate::http::extract::{First, Form, Query};
use crate::staff::{ctx, page, Staff};

const HOME: &str = "/personal/tesoreria/basura";

/// How many services the page lists.
const LISTED_SERVICES: i64 = 500;

/// How many amounts set by staff the page lists.
const LISTED_STAFF_CHARGES: i64 = 50;

/// The fixed notices a redirect may ask for (`?aviso=…`): never text from
/// the query itself.
fn notice_of(aviso: Option<&str>) -> Notice {
    let text = match aviso? {
        "alta" => "Servicio registrado: la cuenta recibirá su cargo cada mes desde la fecha indicada.",
        "multa" => "Adeudo registrado en la cuenta: aparece en su consulta de adeudos y se paga como cualquier otro.",
        "servicio" => {
            "Servicios cobrados a la cuenta: el adeudo aparece en su consulta de adeudos y se paga como cualquier otro."
        }
        _ => return None,
    };
    Some((true, text.to_string()))
}

fn status_of(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY)
}

#[allow(clippy::too_many_arguments)]
async fn home_page(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    staff: &Staff,
    typed: GarbageTyped,
    notice: Notice,
    done: Option<GarbageDone>,
    status: StatusCode,
) -> Response {
    let today = state.clock.today();
    let (mut services, staff_charges) = match (
        state.store.garbage_services_from(today, LISTED_SERVICES + 1).await,
        state.store.latest_garbage_staff_charges(LISTED_STAFF_CHARGES).await,
    ) {
        (Ok(s), Ok(c)) => (s, c),
        (Err(e), _) | (_, Err(e)) => return unavailable(e),
    };
    let services_truncated = services.len() as i64 > LISTED_SERVICES;
    services.truncate(LISTED_SERVICES as usize);
    let m = &state.municipality;
    let data = GarbagePage {
        services,
        services_truncated,
        monthly: garbage::monthly_tariffs(m, today).into_iter().cloned().collect(),
        staff_set: garbage::staff_set_tariffs(m, today).into_iter().cloned().collect(),
        per_service: garbage::per_service_tariffs(m, today).into_iter().cloned().collect(),
        staff_charges,
        typed,
        done,
    };
    page(status, garbage_pages::garbage_document(ctx(state, uri, headers), &staff.csrf_token(state), data, notice))
}

#[derive(Debug, Deserialize)]
pub struct HomeQuery {
    #[serde(default)]
    pub aviso: First<String>,
    /// The service just registered: shown back with its monthly quote.
    #[serde(default)]
    pub servicio: First<String>,
    /// The charge just set (garbage_staff_charges' id): shown back with
    /// its quote.
    #[serde(default)]
    pub cargo: First<String>,
}

/// What was just done, read again from the store by the ids of the
/// redirect (never text from the query): the service with what it owes a
/// month at today's UMA, or the charge with its quote.
async fn done_of(state: &AppState, q: &HomeQuery) -> Result<Option<GarbageDone>, app::store::StoreError> {
    let id = |v: &First<String>| v.as_deref().and_then(|s| s.parse::<i64>().ok());
    if let Some(id) = id(&q.cargo) {
        return Ok(state.store.garbage_staff_charge(id).await?.map(GarbageDone::Charge));
    }
    if let Some(id) = id(&q.servicio) {
        let Some(service) = state.store.garbage_service(id).await? else { return Ok(None) };
        let quote =
            garbage::service_quote(&state.municipality, &service.tariff, service.factor, state.clock.today()).ok();
        return Ok(Some(GarbageDone::Service { service, quote }));
    }
    Ok(None)
}

/// `GET /personal/tesoreria/basura` (tesorero): the services, the forms.
#[tracing::instrument(name = "garbage.home", skip_all)]
pub async fn home(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    Query(q): Query<HomeQuery>,
) -> Response {
    if let Some(refused) = staff.refuse_unless(may::TREASURY) {
        return refused;
    }
    let done = match done_of(&state, &q).await {
        Ok(d) => d,
        Err(e) => return unavailable(e),
    };
    let typed = GarbageTyped { service_from: state.clock.today().to_string(), ..GarbageTyped::default() };
    let notice = notice_of(q.aviso.as_deref());
    home_page(&state, &uri, &headers, &staff, typed, notice, done, StatusCode::OK).await
}

/// The page again after a refusal: the message in the error summary,
/// linked to the field of `form` it is about (`{form}-{field}`).
#[allow(clippy::too_many_arguments)]
async fn refused_page(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    staff: &Staff,
    mut typed: GarbageTyped,
    form: &str,
    field: Option<&str>,
    message: String,
    status: StatusCode,
) -> Response {
    typed.error_field = field.map(|f| format!("{form}-{f}"));
    home_page(state, uri, headers, staff, typed, Some((false, message)), None, status).await
}

#[derive(Debug, Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    pub csrf: First<String>,
    #[serde(default)]
    pub cuenta: First<String>,
    #[serde(default)]
    pub tarifa: First<String>,
    #[serde(default)]
    pub desde: First<String>,
    /// The monthly factor in UMA, only under a range tariff.
    #[serde(default)]
    pub factor: First<String>,
    /// Why (optional).
    #[serde(default)]
    pub motivo: First<String>,
}

/// `POST /personal/tesoreria/basura/alta` (tesorero): an account starts
/// receiving the monthly service under a monthly tariff (with its monthly
/// factor, under a range tariff).
#[tracing::instrument(name = "garbage.register", skip_all)]
pub async fn register(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    Form(form): Form<RegisterForm>,
) -> Response {
    if let Some(refused) = form_refused(&state, &staff, may::TREASURY, &form.csrf, HOME) {
        return refused;
    }
    let typed = GarbageTyped {
        service_account: text(&form.cuenta).trim().to_string(),
        service_tariff: text(&form.tarifa).trim().to_string(),
        service_from: text(&form.desde).trim().to_string(),
        service_factor: text(&form.factor).trim().to_string(),
        service_reason: text(&form.motivo).trim().to_string(),
        ..GarbageTyped::default()
    };
    let refuse = |message: String, field: Option<&'static str>, status: StatusCode, typed: GarbageTyped| {
        let (state, uri, headers, staff) = (&state, &uri, &headers, &staff);
        async move { refused_page(state, uri, headers, staff, typed, "alta", field, message, status).await }
    };
    let account = match AccountNumber::parse(&typed.service_account) {
        Ok(a) => a,
        Err(e) => return refuse(e.message_es(), Some("cuenta"), StatusCode::BAD_REQUEST, typed).await,
    };
    let decided = garbage::parse_date(&typed.service_from).and_then(|from| {
        let terms = garbage::service_terms(
            &state.municipality,
            &typed.service_tariff,
            &typed.service_factor,
            &typed.service_reason,
            from,
        )?;
        Ok((from, terms))
    });
    let (from, terms) = match decided {
        Ok(d) => d,
        Err(e) => return refuse(e.message_es(), e.field(), status_of(e.status()), typed).await,
    };
    match state.store.start_garbage_service(&account, &terms, from, &staff.actor(), state.clock.now()).await {
        Ok(Ok(s)) => see_other(&format!("{HOME}?aviso=alta&servicio={}", s.id)),
        Ok(Err(r)) => refuse(r.message_es(), Some("cuenta"), status_of(r.status()), typed).await,
        Err(e) => unavailable(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct FineForm {
    #[serde(default)]
    pub csrf: First<String>,
    #[serde(default)]
    pub cuenta: First<String>,
    #[serde(default)]
    pub tarifa: First<String>,
    #[serde(default)]
    pub factor: First<String>,
    #[serde(default)]
    pub motivo: First<String>,
}

/// `POST /personal/tesoreria/basura/multa` (tesorero): an amount set
/// within a range tariff of the procedure (a fine, a special service),
/// quoted with today's UMA, becomes a charge of the account.
#[tracing::instrument(name = "garbage.fine", skip_all)]
pub async fn fine(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    Form(form): Form<FineForm>,
) -> Response {
    if let Some(refused) = form_refused(&state, &staff, may::TREASURY, &form.csrf, HOME) {
        return refused;
    }
    let typed = GarbageTyped {
        charge_account: text(&form.cuenta).trim().to_string(),
        charge_tariff: text(&form.tarifa).trim().to_string(),
        charge_factor: text(&form.factor).trim().to_string(),
        charge_reason: text(&form.motivo).trim().to_string(),
        service_from: state.clock.today().to_string(),
        ..GarbageTyped::default()
    };
    let decided = garbage::staff_charge(
        &state.municipality,
        &typed.charge_tariff,
        &typed.charge_factor,
        &typed.charge_reason,
        state.clock.today(),
    );
    let account = typed.charge_account.clone();
    charge_account(&state, &uri, &headers, &staff, typed, "multa", &account, decided).await
}

#[derive(Debug, Deserialize)]
pub struct PerServiceForm {
    #[serde(default)]
    pub csrf: First<String>,
    #[serde(default)]
    pub cuenta: First<String>,
    #[serde(default)]
    pub tarifa: First<String>,
    #[serde(default)]
    pub cantidad: First<String>,
    #[serde(default)]
    pub motivo: First<String>,
}

/// `POST /personal/tesoreria/basura/servicio` (tesorero): N services of a
/// tariff charged per service at its fixed factor (a party hall's
/// collections), quoted with today's UMA, become a charge of the account.
#[tracing::instrument(name = "garbage.per_service", skip_all)]
pub async fn per_service(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    Form(form): Form<PerServiceForm>,
) -> Response {
    if let Some(refused) = form_refused(&state, &staff, may::TREASURY, &form.csrf, HOME) {
        return refused;
    }
    let typed = GarbageTyped {
        per_service_account: text(&form.cuenta).trim().to_string(),
        per_service_tariff: text(&form.tarifa).trim().to_string(),
        per_service_quantity: text(&form.cantidad).trim().to_string(),
        per_service_reason: text(&form.motivo).trim().to_string(),
        service_from: state.clock.today().to_string(),
        ..GarbageTyped::default()
    };
    let decided = garbage::per_service_charge(
        &state.municipality,
        &typed.per_service_tariff,
        &typed.per_service_quantity,
        &typed.per_service_reason,
        state.clock.today(),
    );
    let account = typed.per_service_account.clone();
    charge_account(&state, &uri, &headers, &staff, typed, "servicio", &account, decided).await
}

/// The end of both ways staff put an amount on an account (a fine or
/// special service set within its range, `form` "multa"; services charged
/// at a fixed factor, "servicio"): the account is checked first, then
/// what the domain decided; a charge becomes the account's debt and the
/// page shows it back (`?aviso={form}&cargo=ID`). Any refusal re-renders
/// the page with the typed values and the field at fault.
#[allow(clippy::too_many_arguments)]
async fn charge_account(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    staff: &Staff,
    typed: GarbageTyped,
    form: &'static str,
    account: &str,
    decided: Result<garbage::StaffCharge, garbage::GarbageError>,
) -> Response {
    let refuse = |message: String, field: Option<&'static str>, status: StatusCode, typed: GarbageTyped| async move {
        refused_page(state, uri, headers, staff, typed, form, field, message, status).await
    };
    let account = match AccountNumber::parse(account) {
        Ok(a) => a,
        Err(e) => return refuse(e.message_es(), Some("cuenta"), StatusCode::BAD_REQUEST, typed).await,
    };
    let charge = match decided {
        Ok(c) => c,
        Err(e) => return refuse(e.message_es(), e.field(), status_of(e.status()), typed).await,
    };
    match state.store.set_garbage_charge(&account, &charge, &staff.actor(), state.clock.now()).await {
        Ok(Ok(set)) => {
            tracing::info!(
                account = %set.account, period = %set.period, quantity = set.quantity, fee = set.fee.0, form,
                "garbage: amount charged"
            );
            see_other(&format!("{HOME}?aviso={form}&cargo={}", set.id))
        }
        Ok(Err(r)) => refuse(r.message_es(), Some("cuenta"), status_of(r.status()), typed).await,
        Err(e) => unavailable(e),
    }
}

/// An operator command's failure: the message (Spanish) is printed, the
/// exit code is non-zero.
pub type CliError = Box<dyn std::error::Error + Send + Sync>;

/// The value after `flag` in `args`, and what else is there.
fn flag<'a>(args: &[&'a str], flag: &str) -> Result<(&'a str, Vec<&'a str>), CliError> {
    match optional_flag(args, flag)? {
        (Some(value), rest) => Ok((value, rest)),
        (None, _) => Err(format!("falta {flag}").into()),
    }
}

/// The value after `flag` in `args` if the flag is there, and what else is
/// there.
fn optional_flag<'a>(args: &[&'a str], flag: &str) -> Result<(Option<&'a str>, Vec<&'a str>), CliError> {
    let Some(at) = args.iter().position(|a| *a == flag) else { return Ok((None, args.to_vec())) };
    let value = args.get(at + 1).copied().ok_or_else(|| format!("falta el valor de {flag}"))?;
    let rest = args.iter().enumerate().filter(|(i, _)| *i != at && *i != at + 1).map(|(_, a)| *a).collect();
    Ok((Some(value), rest))
}

async fn open(settings: &Settings) -> Result<(Municipality, app::store::Store), CliError> {
    let m = crate::startup::load_municipality(settings)?;
    let store = app::store::Store::connect(&settings.database_url).await?;
    Ok((m, store))
}

fn refused(message: String) -> Result<ExitCode, CliError> {
    eprintln!("{message}");
    eprintln!("No se registró nada.");
    Ok(ExitCode::FAILURE)
}

/// `recauda basura alta CUENTA TARIFA --desde AAAA-MM-DD [--factor UMA]
/// [--motivo TEXTO]` (the factor: the monthly factor of a range tariff,
/// within its range; refused under a fixed one) and `recauda basura baja
/// CUENTA --hasta AAAA-MM-DD`.
pub async fn cli_service(args: &[&str], actor: &str) -> Result<ExitCode, CliError> {
    const USAGE: &str = "uso: recauda basura alta CUENTA TARIFA --desde AAAA-MM-DD [--factor UMA] \
                         [--motivo TEXTO] | recauda basura baja CUENTA --hasta AAAA-MM-DD";
    match args {
        ["alta", rest @ ..] => {
            let (desde, rest) = flag(rest, "--desde").map_err(|e| format!("{e}; {USAGE}"))?;
            let (factor, rest) = optional_flag(&rest, "--factor").map_err(|e| format!("{e}; {USAGE}"))?;
            let (reason, rest) = optional_flag(&rest, "--motivo").map_err(|e| format!("{e}; {USAGE}"))?;
            let [account, tariff] = rest[..] else { return Err(USAGE.into()) };
            let account = match AccountNumber::parse(account) {
                Ok(a) => a,
                Err(e) => return refused(e.message_es()),
            };
            let from = match garbage::parse_date(desde) {
                Ok(d) => d,
                Err(e) => return refused(e.message_es()),
            };
            let settings = Settings::load()?;
            let (m, store) = open(&settings).await?;
            let terms = match garbage::service_terms(&m, tariff, factor.unwrap_or(""), reason.unwrap_or(""), from) {
                Ok(t) => t,
                Err(e) => return refused(e.message_es()),
            };
            match store.start_garbage_service(&account, &terms, from, actor, Utc::now()).await? {
                Ok(s) => {
                    let factor = s.factor.map(|f| format!(", factor {} UMA al mes", f.normalize())).unwrap_or_default();
                    println!(
                        "Servicio de recolección registrado: cuenta {} ({}), tarifa {} — {}{factor}, desde el {}.",
                        s.account,
                        s.taxpayer,
                        terms.tariff,
                        terms.tariff_name,
                        s.starts_on.format("%d/%m/%Y")
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(r) => refused(r.message_es()),
            }
        }
        ["baja", rest @ ..] => {
            let (hasta, rest) = flag(rest, "--hasta").map_err(|e| format!("{e}; {USAGE}"))?;
            let [account] = rest[..] else { return Err(USAGE.into()) };
            let account = match AccountNumber::parse(account) {
                Ok(a) => a,
                Err(e) => return refused(e.message_es()),
            };
            let until: NaiveDate = match garbage::parse_date(hasta) {
                Ok(d) => d,
                Err(e) => return refused(e.message_es()),
            };
            let settings = Settings::load()?;
            let store = app::store::Store::connect(&settings.database_url).await?;
            match store.end_garbage_service(&account, until, actor, Utc::now()).await? {
                Ok(s) => {
                    println!(
                        "Servicio de recolección de la cuenta {} (tarifa {}) dado de baja: último día {}.",
                        s.account,
                        s.tariff,
                        until.format("%d/%m/%Y")
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(r) => refused(r.message_es()),
            }
        }
        _ => Err(USAGE.into()),
    }
}

/// `recauda cargos generar basura --mes AAAA-MM`: the month's charges of
/// every active service, in one transaction; a second run creates nothing.
pub async fn cli_generate(args: &[&str], actor: &str) -> Result<ExitCode, CliError> {
    const USAGE: &str = "uso: recauda cargos generar basura --mes AAAA-MM";
    let (mes, rest) = flag(args, "--mes").map_err(|e| format!("{e}; {USAGE}"))?;
    if !rest.is_empty() {
        return Err(USAGE.into());
    }
    let month = match Month::parse(mes) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{}", e.message_es());
            eprintln!("No se generó ningún cargo.");
            return Ok(ExitCode::FAILURE);
        }
    };
    let settings = Settings::load()?;
    let (m, store) = open(&settings).await?;
    let fees = match garbage::monthly_fees(&m, month) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{}", e.message_es());
            eprintln!("No se generó ningún cargo.");
            return Ok(ExitCode::FAILURE);
        }
    };
    match store.generate_garbage_charges(&fees, actor, Utc::now()).await? {
        Ok(run) => {
            println!("{run}.");
            println!(
                "Periodo {}, vencimiento {}, UMA del {}: ${}.",
                month.period(),
                month.due_date().format("%d/%m/%Y"),
                month.first_day().format("%d/%m/%Y"),
                fees.uma.normalize()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(r) => {
            eprintln!("{}", r.message_es());
            Ok(ExitCode::FAILURE)
        }
    }
}
