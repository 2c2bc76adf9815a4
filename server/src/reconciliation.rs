//! The reconciliation with Stripe's routes (`app::reconciliation`), each
//! naming the roles it admits (`app::domain::staff::may`):
//!
//! | route | who |
//! |-------|-----|
//! | `GET /personal/tesoreria/conciliacion` | tesorero (`may::TREASURY`) |
//! | `POST /personal/tesoreria/conciliacion` (fetch the payouts from Stripe) | tesorero |
//! | `GET /personal/tesoreria/conciliacion/{payout_id}` | tesorero |
//! | `GET /personal/tesoreria/conciliacion/{payout_id}.csv` | tesorero |
//! | `POST /personal/tesoreria/conciliacion/{payout_id}/aplicar` | tesorero |
//!
//! Fetching asks Stripe, so it is a POST (never a GET); every form carries
//! the session's CSRF token; every refusal is a page in Spanish with the
//! right status, and changes nothing.

use app::domain::staff::may;
use app::error::AppError;
use app::reconciliation::{self, HealOutcome, ReconciliationError};
use app::state::AppState;
use app::ui::caja_pages::Notice;
use app::ui::reconciliation_pages;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{Days, NaiveDate};
use serde::Deserialize;

use crate::caja::{form_refused, see_other, text, unavailable, NoticeQuery};
use crate::http::extract::{First, Form, PathParam, Query};
use crate::staff::Staff;
use crate::staff::{ctx, page};

const HOME: &str = "/personal/tesoreria/conciliacion";

/// How many stored payouts the list shows.
const LISTED_PAYOUTS: i64 = 100;

/// The fixed notices a redirect may ask for (`?aviso=…`): never text from
/// the query itself.
fn notice_of(aviso: Option<&str>) -> Notice {
    let (ok, text) = match aviso? {
        "aplicado" => (true, "Pago aplicado: la orden quedó pagada y se emitió su recibo."),
        "ya-aplicado" => (true, "Ese pago ya estaba aplicado: no cambió nada."),
        "no-aplicable" => (
            false,
            "Stripe cobró ese pago, pero la orden ya no podía recibirlo: quedó registrado como pago no aplicable, por reembolsar.",
        ),
        _ => return None,
    };
    Some((ok, text.to_string()))
}

fn default_since(state: &AppState) -> NaiveDate {
    state.clock.today() - Days::new(reconciliation::DEFAULT_FETCH_DAYS)
}

async fn index_page(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    staff: &Staff,
    since: &str,
    notice: Notice,
    status: StatusCode,
) -> Response {
    let reports = match state.store.payout_reports(LISTED_PAYOUTS).await {
        Ok(r) => r,
        Err(e) => return unavailable(e),
    };
    // The shortest delay is 3 business days: nothing newer can be late.
    let today = state.clock.today();
    let missing = match state.store.stripe_receipts_without_payout(today - Days::new(3)).await {
        Ok(m) => reconciliation::overdue(m, today),
        Err(e) => return unavailable(e),
    };
    let html = reconciliation_pages::reconciliation_document(
        ctx(state, uri, headers),
        &staff.csrf_token(state),
        since,
        state.stripe.is_some(),
        reports,
        missing,
        notice,
    );
    page(status, html)
}

/// `GET /personal/tesoreria/conciliacion` (tesorero): the stored payouts,
/// the receipts in no payout, and the form that fetches from Stripe.
#[tracing::instrument(name = "reconciliation.index", skip_all)]
pub async fn index(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    Query(q): Query<NoticeQuery>,
) -> Response {
    if let Some(refused) = staff.refuse_unless(may::TREASURY) {
        return refused;
    }
    let since = default_since(&state).to_string();
    index_page(&state, &uri, &headers, &staff, &since, notice_of(q.aviso.as_deref()), StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
pub struct FetchForm {
    #[serde(default)]
    pub csrf: First<String>,
    #[serde(default)]
    pub desde: First<String>,
}

/// `POST /personal/tesoreria/conciliacion` (tesorero): asks Stripe for the
/// payouts created since `desde` and stores each one whole.
#[tracing::instrument(name = "reconciliation.fetch", skip_all)]
pub async fn fetch(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    Form(form): Form<FetchForm>,
) -> Response {
    if let Some(refused) = form_refused(&state, &staff, may::TREASURY, &form.csrf, HOME) {
        return refused;
    }
    let typed = text(&form.desde).trim().to_string();
    let today = state.clock.today();
    let since = match NaiveDate::parse_from_str(&typed, "%Y-%m-%d") {
        Ok(d) if d <= today => d,
        Ok(_) => {
            let message = "La fecha «desde» no puede ser posterior a hoy.".to_string();
            return index_page(&state, &uri, &headers, &staff, &typed, Some((false, message)), StatusCode::BAD_REQUEST)
                .await;
        }
        Err(_) => {
            let message = "Escriba la fecha como AAAA-MM-DD, por ejemplo 2026-11-01.".to_string();
            return index_page(&state, &uri, &headers, &staff, &typed, Some((false, message)), StatusCode::BAD_REQUEST)
                .await;
        }
    };
    let start = app::stripe_payouts::start_of_day(since, state.clock.timezone());
    let (notice, status) = match reconciliation::fetch_payouts(&state, start, &staff.actor()).await {
        Ok(done) => {
            let mut message = format!(
                "Stripe informó {} depósitos desde el {}; {} nuevos o con cambios guardados.",
                done.listed,
                since.format("%d/%m/%Y"),
                done.changed
            );
            if done.left > 0 {
                message.push_str(&format!(
                    " Quedan {} depósitos por traer (Stripe tardó): pulse de nuevo «Traer depósitos de Stripe» o elija una fecha más reciente.",
                    done.left
                ));
            }
            match done.failed {
                None => (Some((true, message)), StatusCode::OK),
                Some((payout, why)) => {
                    message.push_str(&format!(
                        " El depósito {payout} no se pudo leer completo y no se guardó nada de él ni de los siguientes ({why}); intente de nuevo."
                    ));
                    (Some((false, message)), StatusCode::BAD_GATEWAY)
                }
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "reconciliation: fetch failed");
            (Some((false, e.message_es())), StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_GATEWAY))
        }
    };
    index_page(&state, &uri, &headers, &staff, &since.to_string(), notice, status).await
}

fn not_found() -> Response {
    AppError::new(404, "not_found", "No existe ese depósito.", "There is no such payout.")
        .with_back(HOME)
        .into_response()
}

async fn payout_page(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    staff: &Staff,
    id: &str,
    notice: Notice,
    status: StatusCode,
) -> Response {
    match state.store.payout_report(id).await {
        Ok(Some(report)) => page(
            status,
            reconciliation_pages::payout_document(ctx(state, uri, headers), &staff.csrf_token(state), report, notice),
        ),
        Ok(None) => not_found(),
        Err(e) => unavailable(e),
    }
}

/// `GET /personal/tesoreria/conciliacion/{payout_id}` (tesorero): the
/// payout's report; `…/{payout_id}.csv` downloads it (Stripe's ids never
/// hold a dot).
#[tracing::instrument(name = "reconciliation.payout", skip_all)]
pub async fn payout(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    PathParam(id): PathParam,
    Query(q): Query<NoticeQuery>,
) -> Response {
    if let Some(refused) = staff.refuse_unless(may::TREASURY) {
        return refused;
    }
    if let Some(id) = id.strip_suffix(".csv") {
        return match state.store.payout_report(id).await {
            Ok(Some(report)) => csv_response(&report),
            Ok(None) => not_found(),
            Err(e) => unavailable(e),
        };
    }
    payout_page(&state, &uri, &headers, &staff, &id, notice_of(q.aviso.as_deref()), StatusCode::OK).await
}

fn csv_response(report: &app::reconciliation::PayoutReport) -> Response {
    let safe: String = report.payout.id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    let mut response = app::reconciliation::report_csv(report).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"conciliacion-{safe}.csv\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    response
}

#[derive(Debug, Deserialize)]
pub struct HealForm {
    #[serde(default)]
    pub csrf: First<String>,
    /// The item's id (`txn_…`).
    #[serde(default)]
    pub movimiento: First<String>,
}

/// `POST /personal/tesoreria/conciliacion/{payout_id}/aplicar` (tesorero):
/// applies one payment Stripe took that Recauda missed, through the
/// provider-event path (once; a repeat changes nothing).
#[tracing::instrument(name = "reconciliation.heal", skip_all)]
pub async fn heal(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    PathParam(id): PathParam,
    Form(form): Form<HealForm>,
) -> Response {
    let back = format!("{HOME}/{id}");
    if let Some(refused) = form_refused(&state, &staff, may::TREASURY, &form.csrf, &back) {
        return refused;
    }
    let item = text(&form.movimiento).trim().to_string();
    match reconciliation::heal(&state, &id, &item, &staff.actor()).await {
        Ok(HealOutcome::Applied(app::store::EventOutcome::Applied(_))) => see_other(&format!("{back}?aviso=aplicado")),
        Ok(HealOutcome::Applied(_)) => see_other(&format!("{back}?aviso=no-aplicable")),
        Ok(HealOutcome::AlreadyApplied) => see_other(&format!("{back}?aviso=ya-aplicado")),
        Err(ReconciliationError::ItemNotFound) if matches!(state.store.payout_report(&id).await, Ok(None)) => {
            not_found()
        }
        Err(e) => {
            tracing::warn!(payout = %id, item = %item, error = %e, "reconciliation: heal refused or failed");
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::CONFLICT);
            payout_page(&state, &uri, &headers, &staff, &id, Some((false, e.message_es())), status).await
        }
    }
}
