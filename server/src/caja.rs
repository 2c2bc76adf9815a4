//! The caja's routes, each naming the roles it admits
//! (`app::domain::staff::may`):
//!
//! | route | who |
//! |-------|-----|
//! | `GET /personal/caja`, `POST /personal/caja/abrir` | cajero (`may::WORK_TILL`) |
//! | `GET /personal/caja/cobrar`, `POST /personal/caja/orden` | cajero |
//! | `GET /personal/caja/orden/{token}`, `POST /personal/caja/orden/{token}/cobrar` | cajero |
//! | `GET /personal/caja/recibo/{folio}`, `GET /personal/caja/recibo/{folio}/ticket` | cajero, tesorero (`may::SEE_CORTES`) |
//! | `GET`/`POST /personal/caja/corte`, `POST /personal/caja/corte/{id}/explicacion` | cajero (their own till) |
//! | `GET /personal/caja/corte/{id}`, `GET /personal/caja/corte/{id}/pdf` | the till's cajero, or a tesorero |
//! | `GET /personal/tesoreria/cortes`, `POST /personal/tesoreria/cortes/{id}/aprobar` | tesorero (`may::TREASURY`) |
//! | `GET`/`POST /personal/tesoreria/cheques` | tesorero |
//! | `GET`/`POST /personal/cancelaciones` | cajero, tesorero (`may::REQUEST_CANCELLATION`) |
//! | `POST /personal/cancelaciones/{id}/aprobar`, `…/rechazar` | tesorero, not the person who asked |
//! | `GET /personal/tesoreria/exportar`, `GET /personal/tesoreria/exportar.csv` | tesorero |
//! | `GET /api/v1/exports/collections.csv` | tesorero (staff session; 401/403 in JSON) |
//!
//! The reconciliation with Stripe (`/personal/tesoreria/conciliacion…`,
//! tesorero) has its own table in `server::reconciliation`.
//!
//! Every form carries the session's CSRF token; every refusal is a page in
//! Spanish with the right status, and changes nothing.

use app::domain::caja::{parse_counted_amount, CancelReason, CashCount, TillCount, TillStatus, WindowTender};
use app::domain::folio::Folio;
use app::domain::money::Centavos;
use app::domain::order_token::OrderToken;
use app::domain::reference::OrderReference;
use app::domain::rfc::Rfc;
use app::domain::staff::may;
use app::error::AppError;
use app::lookup::LookupQuery;
use app::state::AppState;
use app::store::{CajaRefusal, TillSession, WindowPaymentRequest};
use app::ui::caja_pages::{self, CorteActions, Notice, TenderForm};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;

use crate::http::extract::{First, Form, PathParam, Query};
use crate::receipt_pdf::report::{render_report, Block, Report};
use crate::staff::Staff;

use crate::staff::{ctx, page};

pub(crate) fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response()
}

pub(crate) fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "caja: store failed");
    AppError::unavailable().into_response()
}

fn refusal_status(r: &CajaRefusal) -> StatusCode {
    StatusCode::from_u16(r.status()).unwrap_or(StatusCode::CONFLICT)
}

/// The refusal of a staff form: the person's roles are none of `roles`
/// (403), or the form's token is not this session's (403, back to `back`).
pub(crate) fn form_refused(
    state: &AppState,
    staff: &Staff,
    roles: &[app::domain::staff::Role],
    sent: &First<String>,
    back: &str,
) -> Option<Response> {
    staff.refuse_unless(roles).or_else(|| csrf_refused(state, staff, sent, back))
}

/// The refusal of a form whose token is not this session's.
pub(crate) fn csrf_refused(state: &AppState, staff: &Staff, sent: &First<String>, back: &str) -> Option<Response> {
    (!state.csrf_key.accepts(&staff.session_id, sent.as_deref().unwrap_or("")))
        .then(|| AppError::csrf().with_back(back.to_string()).into_response())
}

pub(crate) fn text(v: &First<String>) -> String {
    v.as_deref().unwrap_or("").to_string()
}

/// The fixed notices a redirect may ask for (`?aviso=…`): never text from
/// the query itself.
fn notice_of(aviso: Option<&str>) -> Notice {
    let text = match aviso? {
        "abierta" => "Caja abierta. Ya puede cobrar.",
        "solicitada" => "Solicitud registrada: espera la aprobación de otra persona con rol de tesorero.",
        "aprobada" => "Cancelación aprobada: el recibo quedó cancelado y los adeudos vuelven a estar pendientes.",
        "rechazada" => "Solicitud rechazada: el recibo sigue vigente.",
        "explicada" => "Explicación guardada. El corte espera la aprobación de un tesorero.",
        "aprobado" => "Corte aprobado: la caja quedó cerrada.",
        "devuelto" => "Cheque devuelto registrado: el recibo quedó cancelado y los adeudos vuelven a estar pendientes.",
        _ => return None,
    };
    Some((true, text.to_string()))
}

#[derive(Debug, Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    pub aviso: First<String>,
}

/// `GET /personal/caja` (cajero): open a till, or work the open one.
pub async fn home(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    Query(q): Query<NoticeQuery>,
) -> Response {
    if let Some(refused) = staff.refuse_unless(may::WORK_TILL) {
        return refused;
    }
    home_page(&state, &uri, &headers, &staff, notice_of(q.aviso.as_deref()), StatusCode::OK).await
}

async fn home_page(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    staff: &Staff,
    notice: Notice,
    status: StatusCode,
) -> Response {
    let cashier = staff.user.username.to_string();
    let (session, busy) = match (state.store.open_session_of(&cashier).await, state.store.sessions_not_closed().await) {
        (Ok(s), Ok(b)) => (s, b),
        (Err(e), _) | (_, Err(e)) => return unavailable(e),
    };
    let payments = match &session {
        Some(s) => match state.store.session_payments(s.id).await {
            Ok(p) => p,
            Err(e) => return unavailable(e),
        },
        None => Vec::new(),
    };
    let tills = state
        .municipality
        .tills
        .iter()
        .map(|t| (t.clone(), busy.iter().find(|s| s.till == t.code).map(|s| s.cashier.clone())))
        .collect();
    let html = caja_pages::till_home_document(
        ctx(state, uri, headers),
        &staff.csrf_token(state),
        tills,
        session,
        payments,
        notice,
    );
    page(status, html)
}

#[derive(Debug, Deserialize)]
pub struct OpenForm {
    #[serde(default)]
    pub csrf: First<String>,
    #[serde(default)]
    pub caja: First<String>,
    #[serde(default)]
    pub fondo: First<String>,
}

/// `POST /personal/caja/abrir` (cajero): a till session with its float.
#[tracing::instrument(name = "caja.open", skip_all)]
pub async fn open(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    Form(form): Form<OpenForm>,
) -> Response {
    if let Some(refused) = form_refused(&state, &staff, may::WORK_TILL, &form.csrf, "/personal/caja") {
        return refused;
    }
    let till = text(&form.caja).trim().to_string();
    if !state.municipality.tills.iter().any(|t| t.code == till) {
        let refusal = CajaRefusal::UnknownTill(till);
        return home_page(
            &state,
            &uri,
            &headers,
            &staff,
            Some((false, refusal.message_es())),
            refusal_status(&refusal),
        )
        .await;
    }
    let float = match Centavos::parse_printed(&text(&form.fondo)) {
        Ok(c) if c.0 >= 0 && c <= app::domain::money::MAX_INPUT => c,
        _ => {
            let message = "Escriba el fondo inicial en pesos, por ejemplo 1000 o 1,500.50 (0 si no hay fondo).";
            return home_page(
                &state,
                &uri,
                &headers,
                &staff,
                Some((false, message.into())),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let now = state.clock.real_now();
    match state.store.open_till(&till, staff.user.username.as_str(), float, now).await {
        Ok(Ok(_)) => see_other("/personal/caja?aviso=abierta"),
        Ok(Err(refusal)) => {
            home_page(&state, &uri, &headers, &staff, Some((false, refusal.message_es())), refusal_status(&refusal))
                .await
        }
        Err(e) => unavailable(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    pub q: First<String>,
}

/// What a cajero typed to find a debt: an order's payment reference, an
/// RFC or an account number.
enum WindowSearch {
    Reference(OrderReference),
    Lookup(LookupQuery),
}

fn parse_search(q: &str) -> Result<WindowSearch, String> {
    let compact: String = q.chars().filter(|c| !c.is_whitespace()).collect();
    if !compact.is_empty() && compact.bytes().all(|b| b.is_ascii_digit()) && compact.len() == 16 {
        return OrderReference::parse(&compact).map(WindowSearch::Reference).map_err(|e| e.message_es().to_string());
    }
    if let Ok(rfc) = Rfc::parse(q) {
        return Ok(WindowSearch::Lookup(LookupQuery::Rfc(rfc)));
    }
    LookupQuery::parse_account(q).map(WindowSearch::Lookup).map_err(|e| e.message(app::i18n::Lang::Es))
}

/// `GET /personal/caja/cobrar?q=…` (cajero): the debts of an account or
/// an RFC, quoted as online; an order's reference goes to its payment.
#[tracing::instrument(name = "caja.search", skip_all)]
pub async fn search(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    Query(q): Query<SearchQuery>,
) -> Response {
    if let Some(refused) = staff.refuse_unless(may::WORK_TILL) {
        return refused;
    }
    let typed = text(&q.q).trim().to_string();
    let found = match parse_search(&typed) {
        Err(message) => Err((StatusCode::BAD_REQUEST, message)),
        Ok(WindowSearch::Reference(reference)) => match state.store.order_id_by_reference(reference.as_str()).await {
            Err(e) => return unavailable(e),
            Ok(None) => Err((StatusCode::NOT_FOUND, format!("No existe una orden de pago con la referencia {typed}."))),
            Ok(Some(id)) => match state.store.get_order(id).await {
                Ok(Some(order)) => return see_other(&format!("/personal/caja/orden/{}", order.token.as_str())),
                Ok(None) => {
                    Err((StatusCode::NOT_FOUND, format!("No existe una orden de pago con la referencia {typed}.")))
                }
                Err(e) => return unavailable(e),
            },
        },
        Ok(WindowSearch::Lookup(query)) => match app::lookup::run_lookup(&state, &query).await {
            Ok(doc) => Ok(doc),
            Err(app::lookup::LookupError::Unavailable) => return AppError::unavailable().into_response(),
            Err(e) => Err((
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
                e.message(app::i18n::Lang::Es),
            )),
        },
    };
    let status = found.as_ref().err().map_or(StatusCode::OK, |(s, _)| *s);
    let html = caja_pages::window_search_document(
        ctx(&state, &uri, &headers),
        &staff.csrf_token(&state),
        &typed,
        found.map_err(|(_, m)| m),
    );
    page(status, html)
}

#[derive(Debug, Deserialize)]
pub struct WindowOrderForm {
    #[serde(default)]
    pub csrf: First<String>,
    #[serde(default)]
    pub q: First<String>,
    #[serde(default)]
    pub cargo: Vec<String>,
}

/// `POST /personal/caja/orden` (cajero): an order for the charges checked
/// (the same rule as online: oldest first, none held by a live order).
#[tracing::instrument(name = "caja.make_order", skip_all)]
pub async fn make_order(State(state): State<AppState>, staff: Staff, Form(form): Form<WindowOrderForm>) -> Response {
    if let Some(refused) = staff.refuse_unless(may::WORK_TILL) {
        return refused;
    }
    let typed = text(&form.q).trim().to_string();
    let back =
        format!("/personal/caja/cobrar?q={}", form_urlencoded::byte_serialize(typed.as_bytes()).collect::<String>());
    if let Some(refused) = csrf_refused(&state, &staff, &form.csrf, &back) {
        return refused;
    }
    let query = match parse_search(&typed) {
        Ok(WindowSearch::Lookup(q)) => q,
        _ => return AppError::bad_form("q").with_back(back).into_response(),
    };
    let charges: Vec<i64> = match form.cargo.iter().map(|c| c.trim().parse::<i64>()).collect() {
        Ok(c) => c,
        Err(_) => return AppError::from(app::orders::OrderError::UnknownCharge(0)).with_back(back).into_response(),
    };
    match app::orders::create_order(&state, &query, Some(&charges)).await {
        Ok(order) => see_other(&format!("/personal/caja/orden/{}", order.token.as_str())),
        Err(e) => AppError::from(e).with_back(back).into_response(),
    }
}

async fn order_of_token(state: &AppState, token: &str) -> Result<app::store::Order, Response> {
    let not_found = || {
        AppError::new(404, "order_not_found", "No encontramos esa orden de pago.", "We could not find that order.")
            .with_back("/personal/caja")
            .into_response()
    };
    let token = OrderToken::parse(token).ok_or_else(not_found)?;
    let id = state.store.order_id_by_token(&token).await.map_err(unavailable)?.ok_or_else(not_found)?;
    state.store.get_order(id).await.map_err(unavailable)?.ok_or_else(not_found)
}

/// `GET /personal/caja/orden/{token}` (cajero): the order and the payment form.
pub async fn order_page(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    PathParam(token): PathParam,
) -> Response {
    if let Some(refused) = staff.refuse_unless(may::WORK_TILL) {
        return refused;
    }
    let order = match order_of_token(&state, &token).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let html = caja_pages::window_order_document(
        ctx(&state, &uri, &headers),
        &staff.csrf_token(&state),
        order,
        TenderForm::default(),
        None,
    );
    page(StatusCode::OK, html)
}

#[derive(Debug, Deserialize)]
pub struct TakeForm {
    #[serde(default)]
    pub csrf: First<String>,
    #[serde(default)]
    pub forma: First<String>,
    #[serde(default)]
    pub recibido: First<String>,
    #[serde(default)]
    pub autorizacion: First<String>,
    #[serde(default)]
    pub banco: First<String>,
    #[serde(default)]
    pub cheque: First<String>,
    #[serde(default)]
    pub rastreo: First<String>,
}

/// `POST /personal/caja/orden/{token}/cobrar` (cajero): takes the payment
/// at the cajero's open till; then the change and the ticket.
#[tracing::instrument(name = "caja.take_payment", skip_all)]
pub async fn take_payment(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    PathParam(token): PathParam,
    Form(form): Form<TakeForm>,
) -> Response {
    let back = format!("/personal/caja/orden/{token}");
    if let Some(refused) = form_refused(&state, &staff, may::WORK_TILL, &form.csrf, &back) {
        return refused;
    }
    let order = match order_of_token(&state, &token).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let entered = TenderForm {
        forma: text(&form.forma),
        recibido: text(&form.recibido),
        autorizacion: text(&form.autorizacion),
        banco: text(&form.banco),
        cheque: text(&form.cheque),
        rastreo: text(&form.rastreo),
    };
    let refuse = |order: app::store::Order, refusal: CajaRefusal, entered: TenderForm| {
        let html = caja_pages::window_order_document(
            ctx(&state, &uri, &headers),
            &staff.csrf_token(&state),
            order,
            entered,
            Some(refusal.message_es()),
        );
        page(refusal_status(&refusal), html)
    };
    let tender = match WindowTender::parse(
        &entered.forma,
        &entered.recibido,
        &entered.autorizacion,
        &entered.banco,
        &entered.cheque,
        &entered.rastreo,
    ) {
        Ok(t) => t,
        Err(e) => return refuse(order, e.into(), entered),
    };
    let cashier = staff.user.username.to_string();
    let session = match state.store.open_session_of(&cashier).await {
        Ok(Some(s)) if s.status == TillStatus::Open => s,
        Ok(Some(_)) => return refuse(order, CajaRefusal::TillNotOpen, entered),
        Ok(None) => return refuse(order, CajaRefusal::NoOpenTill, entered),
        Err(e) => return unavailable(e),
    };
    let request = WindowPaymentRequest { session_id: session.id, cashier: &cashier, order_id: order.id, tender };
    let taken =
        state.store.take_window_payment(&request, state.clock.now(), state.clock.today(), &state.receipt_keys).await;
    match taken {
        Ok(Ok(paid)) => {
            tracing::info!(folio = %paid.folio, actor = %staff.actor(), "window payment taken");
            see_other(&format!("/personal/caja/recibo/{}", paid.folio))
        }
        Ok(Err(refusal)) => refuse(order, refusal, entered),
        Err(e) => unavailable(e),
    }
}

fn receipt_not_found() -> Response {
    AppError::new(404, "not_found", "No encontramos ese recibo.", "We could not find that receipt.")
        .with_back("/personal/caja")
        .into_response()
}

/// `GET /personal/caja/recibo/{folio}` (cajero, tesorero): a window
/// payment — the change, the ticket, the receipt.
pub async fn window_receipt(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    PathParam(folio): PathParam,
) -> Response {
    if let Some(refused) = staff.refuse_unless(may::SEE_CORTES) {
        return refused;
    }
    let Ok(folio) = Folio::parse(&folio) else {
        return receipt_not_found();
    };
    let (payment, receipt) =
        match (state.store.window_payment_of(&folio).await, state.store.receipt_by_folio(&folio).await) {
            (Ok(Some(p)), Ok(Some(r))) => (p, r),
            (Ok(_), Ok(_)) => return receipt_not_found(),
            (Err(e), _) | (_, Err(e)) => return unavailable(e),
        };
    let url = app::receipts::verify_path(&receipt).map(|p| p.replacen("/v/", "/recibo/", 1));
    let html = caja_pages::window_receipt_document(ctx(&state, &uri, &headers), payment, url, receipt.total);
    page(StatusCode::OK, html)
}

/// `GET /personal/caja/recibo/{folio}/ticket` (cajero, tesorero): the
/// receipt as the 80 mm ticket PDF.
pub async fn ticket(State(state): State<AppState>, staff: Staff, PathParam(folio): PathParam) -> Response {
    if let Some(refused) = staff.refuse_unless(may::SEE_CORTES) {
        return refused;
    }
    let Ok(folio) = Folio::parse(&folio) else {
        return receipt_not_found();
    };
    let receipt = match state.store.receipt_by_folio(&folio).await {
        Ok(Some(r)) => r,
        Ok(None) => return receipt_not_found(),
        Err(e) => return unavailable(e),
    };
    let view = match crate::receipts::receipt_view(&state, &receipt).await {
        Ok(v) => v,
        Err(_) => return AppError::unavailable().into_response(),
    };
    let rendered = tokio::task::spawn_blocking(move || {
        crate::receipt_pdf::render_pdf(&view, crate::receipt_pdf::Paper::Ticket80mm)
    })
    .await;
    match rendered {
        Ok(Ok(bytes)) => pdf_response(bytes, &format!("recibo-{folio}-ticket.pdf")),
        other => {
            tracing::error!(%folio, outcome = ?other.map(|r| r.err()), "ticket PDF failed");
            AppError::unavailable().into_response()
        }
    }
}

fn pdf_response(bytes: Vec<u8>, name: &str) -> Response {
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    response
}

/// `GET /personal/caja/corte` (cajero): the blind count of their open till.
pub async fn count_form(State(state): State<AppState>, uri: Uri, headers: HeaderMap, staff: Staff) -> Response {
    if let Some(refused) = staff.refuse_unless(may::WORK_TILL) {
        return refused;
    }
    match state.store.open_session_of(staff.user.username.as_str()).await {
        Ok(Some(s)) if s.status == TillStatus::Open => {
            let html = caja_pages::count_document(ctx(&state, &uri, &headers), &staff.csrf_token(&state), s, None);
            page(StatusCode::OK, html)
        }
        Ok(Some(s)) => see_other(&format!("/personal/caja/corte/{}", s.id)),
        Ok(None) => see_other("/personal/caja"),
        Err(e) => unavailable(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct CountForm {
    #[serde(default)]
    pub csrf: First<String>,
    #[serde(default)]
    pub sesion: First<String>,
    #[serde(default)]
    pub tarjeta: First<String>,
    #[serde(default)]
    pub cheques: First<String>,
    #[serde(default)]
    pub transferencias: First<String>,
    /// `d<centavos>` → pieces, one per denomination.
    #[serde(flatten)]
    pub pieces: std::collections::HashMap<String, String>,
}

/// `POST /personal/caja/corte` (cajero): records the blind count; then the
/// corte with what was expected.
#[tracing::instrument(name = "caja.count", skip_all)]
pub async fn count(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    Form(form): Form<CountForm>,
) -> Response {
    if let Some(refused) = form_refused(&state, &staff, may::WORK_TILL, &form.csrf, "/personal/caja/corte") {
        return refused;
    }
    let cashier = staff.user.username.to_string();
    let session = match state.store.open_session_of(&cashier).await {
        Ok(Some(s)) if s.status == TillStatus::Open => s,
        Ok(Some(s)) => return see_other(&format!("/personal/caja/corte/{}", s.id)),
        Ok(None) => return see_other("/personal/caja"),
        Err(e) => return unavailable(e),
    };
    if text(&form.sesion).trim() != session.id.to_string() {
        return AppError::bad_form("sesion").with_back("/personal/caja/corte").into_response();
    }
    let entered = (|| {
        let cash = CashCount::parse(|d| form.pieces.get(&format!("d{d}")).cloned().unwrap_or_default())?;
        let card = parse_counted_amount(&text(&form.tarjeta), "tarjeta", "Total de comprobantes de tarjeta")?;
        let cheque = parse_counted_amount(&text(&form.cheques), "cheques", "Total de cheques")?;
        let transfer = parse_counted_amount(&text(&form.transferencias), "transferencias", "Total de transferencias")?;
        Ok::<_, app::domain::caja::CountError>(TillCount { cash, card, cheque, transfer })
    })();
    let count = match entered {
        Ok(e) => e,
        Err(e) => {
            let html = caja_pages::count_document(
                ctx(&state, &uri, &headers),
                &staff.csrf_token(&state),
                session,
                Some(e.message_es()),
            );
            return page(StatusCode::UNPROCESSABLE_ENTITY, html);
        }
    };
    match state.store.count_till(session.id, &cashier, &count, state.clock.real_now()).await {
        Ok(Ok(s)) => see_other(&format!("/personal/caja/corte/{}", s.id)),
        Ok(Err(refusal)) => {
            home_page(&state, &uri, &headers, &staff, Some((false, refusal.message_es())), refusal_status(&refusal))
                .await
        }
        Err(e) => unavailable(e),
    }
}

fn parse_id(id: &str) -> Option<i64> {
    id.parse::<i64>().ok().filter(|n| *n > 0)
}

/// The session of a corte the viewer may see: a tesorero any, a cajero
/// only their own (anyone else: not found, revealing nothing).
async fn visible_session(state: &AppState, staff: &Staff, id: &str) -> Result<TillSession, Response> {
    let not_found = || {
        AppError::new(404, "not_found", "No encontramos ese corte.", "We could not find that corte.")
            .with_back("/personal")
            .into_response()
    };
    let id = parse_id(id).ok_or_else(not_found)?;
    let session = state.store.till_session(id).await.map_err(unavailable)?.ok_or_else(not_found)?;
    let tesorero = staff.user.roles.any_of(may::TREASURY);
    if tesorero || session.cashier == staff.user.username.as_str() {
        Ok(session)
    } else {
        Err(not_found())
    }
}

/// `GET /personal/caja/corte/{id}` (the till's cajero, or a tesorero).
pub async fn corte(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    PathParam(id): PathParam,
    Query(q): Query<NoticeQuery>,
) -> Response {
    if let Some(refused) = staff.refuse_unless(may::SEE_CORTES) {
        return refused;
    }
    corte_page(&state, &uri, &headers, &staff, &id, notice_of(q.aviso.as_deref()), StatusCode::OK).await
}

async fn corte_page(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    staff: &Staff,
    id: &str,
    notice: Notice,
    status: StatusCode,
) -> Response {
    let session = match visible_session(state, staff, id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let payments = match state.store.session_payments(session.id).await {
        Ok(p) => p,
        Err(e) => return unavailable(e),
    };
    let me = staff.user.username.as_str();
    let actions = CorteActions {
        explain: session.cashier == me && staff.user.roles.any_of(may::WORK_TILL),
        approve: session.cashier != me && staff.user.roles.any_of(may::TREASURY),
    };
    let html = caja_pages::corte_document(
        ctx(state, uri, headers),
        &staff.csrf_token(state),
        session,
        payments,
        actions,
        notice,
    );
    page(status, html)
}

/// The corte's page again, saying why an action on it was refused.
async fn corte_refused(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    staff: &Staff,
    id: &str,
    refusal: &CajaRefusal,
) -> Response {
    corte_page(state, uri, headers, staff, id, Some((false, refusal.message_es())), refusal_status(refusal)).await
}

#[derive(Debug, Deserialize)]
pub struct ExplainForm {
    #[serde(default)]
    pub csrf: First<String>,
    #[serde(default)]
    pub explicacion: First<String>,
}

/// `POST /personal/caja/corte/{id}/explicacion` (the till's cajero).
#[tracing::instrument(name = "caja.explain", skip_all)]
pub async fn explain(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    PathParam(id): PathParam,
    Form(form): Form<ExplainForm>,
) -> Response {
    let back = format!("/personal/caja/corte/{id}");
    if let Some(refused) = form_refused(&state, &staff, may::WORK_TILL, &form.csrf, &back) {
        return refused;
    }
    let session = match visible_session(&state, &staff, &id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let done = state
        .store
        .explain_corte(session.id, staff.user.username.as_str(), &text(&form.explicacion), state.clock.real_now())
        .await;
    match done {
        Ok(Ok(())) => see_other(&format!("{back}?aviso=explicada")),
        Ok(Err(refusal)) => corte_refused(&state, &uri, &headers, &staff, &id, &refusal).await,
        Err(e) => unavailable(e),
    }
}

/// `GET /personal/tesoreria/cortes` (tesorero).
pub async fn cortes(State(state): State<AppState>, uri: Uri, headers: HeaderMap, staff: Staff) -> Response {
    if let Some(refused) = staff.refuse_unless(may::TREASURY) {
        return refused;
    }
    match (state.store.sessions_not_closed().await, state.store.recent_sessions(50).await) {
        (Ok(pending), Ok(recent)) => {
            page(StatusCode::OK, caja_pages::cortes_document(ctx(&state, &uri, &headers), pending, recent))
        }
        (Err(e), _) | (_, Err(e)) => unavailable(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    pub csrf: First<String>,
    #[serde(default)]
    pub nota: First<String>,
}

/// `POST /personal/tesoreria/cortes/{id}/aprobar` (tesorero, not the cajero).
#[tracing::instrument(name = "caja.approve_corte", skip_all)]
pub async fn approve_corte(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    PathParam(id): PathParam,
    Form(form): Form<NoteForm>,
) -> Response {
    let back = format!("/personal/caja/corte/{id}");
    if let Some(refused) = form_refused(&state, &staff, may::TREASURY, &form.csrf, &back) {
        return refused;
    }
    let Some(session_id) = parse_id(&id) else {
        return see_other("/personal/tesoreria/cortes");
    };
    let note = text(&form.nota);
    if note.chars().count() > 500 {
        return corte_page(
            &state,
            &uri,
            &headers,
            &staff,
            &id,
            Some((false, CajaRefusal::BadText.message_es())),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match state.store.approve_corte(session_id, staff.user.username.as_str(), &note, state.clock.real_now()).await {
        Ok(Ok(())) => see_other(&format!("{back}?aviso=aprobado")),
        Ok(Err(refusal)) => corte_refused(&state, &uri, &headers, &staff, &id, &refusal).await,
        Err(e) => unavailable(e),
    }
}

/// `GET /personal/caja/corte/{id}/pdf` (the till's cajero, or a tesorero):
/// the closed corte as a PDF to sign and file.
pub async fn corte_pdf(State(state): State<AppState>, staff: Staff, PathParam(id): PathParam) -> Response {
    if let Some(refused) = staff.refuse_unless(may::SEE_CORTES) {
        return refused;
    }
    let session = match visible_session(&state, &staff, &id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some(record) = session.corte.clone().filter(|_| session.status == TillStatus::Closed) else {
        return AppError::new(
            409,
            "corte_not_closed",
            "El corte aún no está cerrado: se imprime cuando cuadra o cuando un tesorero lo aprueba.",
            "The corte is not closed yet.",
        )
        .with_back(format!("/personal/caja/corte/{id}"))
        .into_response();
    };
    let payments = match state.store.session_payments(session.id).await {
        Ok(p) => p,
        Err(e) => return unavailable(e),
    };
    let tz = state.clock.timezone();
    let when = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&tz).format("%d/%m/%Y %H:%M").to_string();
    let corte = record.corte;
    let diffs = corte.differences();
    let method = |m| app::receipts::method_label(Some(m), app::i18n::Lang::Es).to_string();
    let mut rows: Vec<Vec<String>> = corte
        .expected
        .rows()
        .into_iter()
        .zip(corte.counted.rows())
        .zip(diffs.rows())
        .map(|(((m, e), (_, c)), (_, d))| vec![method(m), e.display_mxn(), c.display_mxn(), d.display_mxn()])
        .collect();
    rows.push(vec![
        "Total".into(),
        corte.expected.total().display_mxn(),
        corte.counted.total().display_mxn(),
        corte.difference().display_mxn(),
    ]);
    let denominations: Vec<Vec<String>> = record
        .denominations
        .0
        .iter()
        .rev()
        .map(|(d, n)| {
            vec![app::domain::caja::denomination_label(*d), n.to_string(), Centavos(d * i64::from(*n)).display_mxn()]
        })
        .collect();
    let receipts: Vec<Vec<String>> = payments
        .iter()
        .map(|p| {
            vec![
                p.folio.as_ref().map(|f| f.to_string()).unwrap_or_default(),
                method(p.method),
                p.amount.display_mxn(),
                match &p.cancel_reason {
                    Some(r) => format!("cancelado: {r}"),
                    None => "vigente".into(),
                },
            ]
        })
        .collect();
    let folio_range = match (payments.first(), payments.last()) {
        (Some(a), Some(b)) => format!(
            "{} a {}",
            a.folio.as_ref().map(|f| f.to_string()).unwrap_or_default(),
            b.folio.as_ref().map(|f| f.to_string()).unwrap_or_default()
        ),
        _ => "ninguno".into(),
    };
    let mut facts = vec![
        ("Caja".to_string(), session.till.clone()),
        ("Cajero(a)".into(), session.cashier.clone()),
        (
            "Apertura".into(),
            format!("{} con fondo de {}", when(session.opened_at), session.opening_float.display_mxn()),
        ),
        ("Conteo".into(), when(record.counted_at)),
        ("Folios".into(), folio_range),
        ("Resultado".into(), app::domain::caja::difference_words(corte.difference())),
    ];
    if let Some(e) = &session.explanation {
        facts.push(("Explicación".into(), e.clone()));
    }
    if let (Some(by), Some(at)) = (&session.approved_by, session.approved_at) {
        facts.push(("Aprobó".into(), format!("{by}, {}", when(at))));
        if let Some(n) = session.approval_note.as_ref().filter(|n| !n.is_empty()) {
            facts.push(("Nota".into(), n.clone()));
        }
    }
    let mut signatures = vec![format!("Cajero(a): {}", session.cashier)];
    signatures.push(match &session.approved_by {
        Some(by) => format!("Tesorero(a): {by}"),
        None => "Revisó".into(),
    });
    let report = Report {
        municipality: format!("Municipio de {}", state.municipality.name),
        office: state.municipality.address.clone(),
        title: format!("Corte de caja {} — {}", session.till, when(record.counted_at)),
        blocks: vec![
            Block::Facts(facts),
            Block::Heading("Esperado contra contado".into()),
            Block::Table {
                header: vec!["Forma de pago".into(), "Esperado".into(), "Contado".into(), "Diferencia".into()],
                rows,
            },
            Block::Heading("Efectivo por denominación".into()),
            Block::Table {
                header: vec!["Denominación".into(), "Piezas".into(), "Importe".into()],
                rows: denominations,
            },
            Block::Heading("Recibos expedidos".into()),
            Block::Table {
                header: vec!["Folio".into(), "Forma de pago".into(), "Importe".into(), "Estado".into()],
                rows: receipts,
            },
            Block::Signatures(signatures),
        ],
    };
    match tokio::task::spawn_blocking(move || render_report(&report)).await {
        Ok(Ok(bytes)) => pdf_response(bytes, &format!("corte-{}-{}.pdf", session.till, session.id)),
        other => {
            tracing::error!(outcome = ?other.map(|r| r.err()), "corte PDF failed");
            AppError::unavailable().into_response()
        }
    }
}

/// `GET /personal/tesoreria/cheques` (tesorero).
pub async fn cheques(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    Query(q): Query<NoticeQuery>,
) -> Response {
    if let Some(refused) = staff.refuse_unless(may::TREASURY) {
        return refused;
    }
    let html = caja_pages::cheques_document(
        ctx(&state, &uri, &headers),
        &staff.csrf_token(&state),
        notice_of(q.aviso.as_deref()),
    );
    page(StatusCode::OK, html)
}

#[derive(Debug, Deserialize)]
pub struct BounceForm {
    #[serde(default)]
    pub csrf: First<String>,
    #[serde(default)]
    pub folio: First<String>,
    #[serde(default)]
    pub nota: First<String>,
}

/// `POST /personal/tesoreria/cheques` (tesorero): a bounced cheque.
#[tracing::instrument(name = "caja.bounce_cheque", skip_all)]
pub async fn bounce(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    Form(form): Form<BounceForm>,
) -> Response {
    if let Some(refused) = form_refused(&state, &staff, may::TREASURY, &form.csrf, "/personal/tesoreria/cheques") {
        return refused;
    }
    let refuse = |status: StatusCode, message: String| {
        let html = caja_pages::cheques_document(
            ctx(&state, &uri, &headers),
            &staff.csrf_token(&state),
            Some((false, message)),
        );
        page(status, html)
    };
    let note = text(&form.nota).trim().to_string();
    if note.chars().count() < 3 || note.chars().count() > 200 {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, "Escriba el motivo de devolución que indicó el banco.".into());
    }
    let Ok(folio) = Folio::parse(&text(&form.folio)) else {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Escriba el folio del recibo, por ejemplo C1-2026-000012.".into(),
        );
    };
    match state.store.bounce_cheque(&folio, staff.user.username.as_str(), &note, state.clock.real_now()).await {
        Ok(Ok(())) => see_other("/personal/tesoreria/cheques?aviso=devuelto"),
        Ok(Err(refusal)) => refuse(refusal_status(&refusal), refusal.message_es()),
        Err(e) => unavailable(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct CancellationsQuery {
    #[serde(default)]
    pub aviso: First<String>,
    #[serde(default)]
    pub folio: First<String>,
}

/// `GET /personal/cancelaciones` (cajero, tesorero).
pub async fn cancellations(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    Query(q): Query<CancellationsQuery>,
) -> Response {
    if let Some(refused) = staff.refuse_unless(may::REQUEST_CANCELLATION) {
        return refused;
    }
    let folio = q.folio.as_deref().and_then(|f| Folio::parse(f).ok()).map(|f| f.to_string()).unwrap_or_default();
    cancellations_page(&state, &uri, &headers, &staff, &folio, notice_of(q.aviso.as_deref()), StatusCode::OK).await
}

async fn cancellations_page(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    staff: &Staff,
    folio: &str,
    notice: Notice,
    status: StatusCode,
) -> Response {
    let requests = match state.store.cancellation_requests("", 100).await {
        Ok(r) => r,
        Err(e) => return unavailable(e),
    };
    let html = caja_pages::cancellations_document(
        ctx(state, uri, headers),
        &staff.csrf_token(state),
        staff.user.username.as_str(),
        staff.user.roles.any_of(may::TREASURY),
        requests,
        folio,
        notice,
    );
    page(status, html)
}

#[derive(Debug, Deserialize)]
pub struct CancelForm {
    #[serde(default)]
    pub csrf: First<String>,
    #[serde(default)]
    pub folio: First<String>,
    #[serde(default)]
    pub motivo: First<String>,
    #[serde(default)]
    pub detalle: First<String>,
}

/// `POST /personal/cancelaciones` (cajero, tesorero): asks for a receipt's
/// cancellation.
#[tracing::instrument(name = "caja.request_cancellation", skip_all)]
pub async fn request_cancellation(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    Form(form): Form<CancelForm>,
) -> Response {
    if let Some(refused) =
        form_refused(&state, &staff, may::REQUEST_CANCELLATION, &form.csrf, "/personal/cancelaciones")
    {
        return refused;
    }
    let typed = text(&form.folio);
    let refuse = |status: StatusCode, message: String| {
        cancellations_page(&state, &uri, &headers, &staff, typed.trim(), Some((false, message)), status)
    };
    let Ok(folio) = Folio::parse(&typed) else {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Escriba el folio del recibo, por ejemplo C1-2026-000012.".into(),
        )
        .await;
    };
    let Some(reason) = CancelReason::parse(text(&form.motivo).trim()) else {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, "Elija un motivo de la lista.".into()).await;
    };
    let done = state
        .store
        .request_cancellation(
            &folio,
            reason,
            &text(&form.detalle),
            staff.user.username.as_str(),
            state.clock.real_now(),
        )
        .await;
    match done {
        Ok(Ok(_)) => see_other("/personal/cancelaciones?aviso=solicitada"),
        Ok(Err(refusal)) => refuse(refusal_status(&refusal), refusal.message_es()).await,
        Err(e) => unavailable(e),
    }
}

async fn decide(
    state: AppState,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    id: String,
    form: NoteForm,
    approve: bool,
) -> Response {
    if let Some(refused) = form_refused(&state, &staff, may::TREASURY, &form.csrf, "/personal/cancelaciones") {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return see_other("/personal/cancelaciones");
    };
    let note = text(&form.nota);
    if note.chars().count() > 500 {
        return cancellations_page(
            &state,
            &uri,
            &headers,
            &staff,
            "",
            Some((false, CajaRefusal::BadText.message_es())),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let done =
        state.store.decide_cancellation(id, staff.user.username.as_str(), approve, &note, state.clock.real_now()).await;
    match done {
        Ok(Ok(())) => see_other(if approve {
            "/personal/cancelaciones?aviso=aprobada"
        } else {
            "/personal/cancelaciones?aviso=rechazada"
        }),
        Ok(Err(refusal)) => {
            cancellations_page(
                &state,
                &uri,
                &headers,
                &staff,
                "",
                Some((false, refusal.message_es())),
                refusal_status(&refusal),
            )
            .await
        }
        Err(e) => unavailable(e),
    }
}

/// `POST /personal/cancelaciones/{id}/aprobar` (tesorero, not who asked).
#[tracing::instrument(name = "caja.approve_cancellation", skip_all)]
pub async fn approve_cancellation(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    PathParam(id): PathParam,
    Form(form): Form<NoteForm>,
) -> Response {
    decide(state, uri, headers, staff, id, form, true).await
}

/// `POST /personal/cancelaciones/{id}/rechazar` (tesorero, not who asked).
#[tracing::instrument(name = "caja.reject_cancellation", skip_all)]
pub async fn reject_cancellation(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    PathParam(id): PathParam,
    Form(form): Form<NoteForm>,
) -> Response {
    decide(state, uri, headers, staff, id, form, false).await
}

#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    #[serde(default)]
    pub desde: First<String>,
    #[serde(default)]
    pub hasta: First<String>,
}

/// The longest range one export covers (a fiscal year and a bit).
const MAX_EXPORT_DAYS: i64 = 400;

/// A range of days as typed: both dates, `from` ≤ `to`, at most
/// [`MAX_EXPORT_DAYS`].
fn parse_range(from: &str, to: &str) -> Result<(NaiveDate, NaiveDate), String> {
    let day = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok();
    match (day(from), day(to)) {
        (Some(f), Some(t)) if f <= t && (t - f).num_days() < MAX_EXPORT_DAYS => Ok((f, t)),
        (Some(f), Some(t)) if f > t => Err("La fecha inicial es posterior a la final.".into()),
        (Some(_), Some(_)) => Err(format!("El periodo no puede pasar de {MAX_EXPORT_DAYS} días.")),
        _ => Err("Escriba las fechas como AAAA-MM-DD, por ejemplo 2026-11-25.".into()),
    }
}

async fn collections(
    state: &AppState,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<app::collections::Collections, Response> {
    let (receipts, items) = state.store.collections(from, to).await.map_err(unavailable)?;
    // Stripe's fees recorded in the range's days (the municipality's).
    let tz = state.clock.timezone();
    let start = app::stripe_payouts::start_of_day(from, tz);
    let end = app::stripe_payouts::start_of_day(to + chrono::Days::new(1), tz);
    let fees = state.store.stripe_fees(start, end).await.map_err(unavailable)?;
    let fees = fees
        .into_iter()
        .map(|f| app::collections::StripeFeeLine {
            day: f.created.with_timezone(&tz).date_naive(),
            payout_id: f.payout_id,
            item_id: f.item_id,
            amount: f.amount,
            detail: f.detail,
        })
        .collect();
    Ok(app::collections::Collections::build(&state.municipality, from, to, &receipts, &items).with_stripe_fees(fees))
}

/// `GET /personal/tesoreria/exportar?desde=…&hasta=…` (tesorero).
pub async fn export_page(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    Query(q): Query<ExportQuery>,
) -> Response {
    if let Some(refused) = staff.refuse_unless(may::TREASURY) {
        return refused;
    }
    let today = state.clock.today().to_string();
    let from = q.desde.as_deref().filter(|s| !s.trim().is_empty()).unwrap_or(&today).to_string();
    let to = q.hasta.as_deref().filter(|s| !s.trim().is_empty()).unwrap_or(&today).to_string();
    let (shown, status) = match parse_range(&from, &to) {
        Ok((f, t)) => match collections(&state, f, t).await {
            Ok(c) => (Ok(c), StatusCode::OK),
            Err(r) => return r,
        },
        Err(e) => (Err(e), StatusCode::BAD_REQUEST),
    };
    page(status, caja_pages::export_document(ctx(&state, &uri, &headers), &from, &to, shown))
}

fn csv_response(c: &app::collections::Collections) -> Response {
    let name = format!("recaudacion-{}-{}.csv", c.from, c.to);
    let mut response = c.to_csv().into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    response
}

/// `GET /personal/tesoreria/exportar.csv?desde=…&hasta=…` (tesorero).
pub async fn export_csv(State(state): State<AppState>, staff: Staff, Query(q): Query<ExportQuery>) -> Response {
    if let Some(refused) = staff.refuse_unless(may::TREASURY) {
        return refused;
    }
    match parse_range(q.desde.as_deref().unwrap_or(""), q.hasta.as_deref().unwrap_or("")) {
        Ok((f, t)) => match collections(&state, f, t).await {
            Ok(c) => csv_response(&c),
            Err(r) => r,
        },
        Err(e) => AppError::new(400, "invalid_query", e, "Give both dates as YYYY-MM-DD, from ≤ to.")
            .with_back("/personal/tesoreria/exportar")
            .into_response(),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApiExportQuery {
    /// First day (YYYY-MM-DD), by the receipts' date.
    #[param(value_type = String, example = "2026-11-01")]
    #[serde(default)]
    pub from: First<String>,
    /// Last day (YYYY-MM-DD), included; at most 400 days after `from`.
    #[param(value_type = String, example = "2026-11-30")]
    #[serde(default)]
    pub to: First<String>,
}

/// The accounting export of a range as CSV (tesorero).
#[utoipa::path(
    get,
    path = "/api/v1/exports/collections.csv",
    operation_id = "exportCollections",
    tag = "tesorería",
    summary = "Recaudación de un periodo agrupada por CRI y concepto, forma de pago y canal, con folios y \
               cancelaciones, en CSV; solo personal con rol tesorero (sesión de /personal/entrar)",
    params(ApiExportQuery),
    responses(
        (status = 200, description = "El CSV (UTF-8 con BOM)", content_type = "text/csv", body = String),
        (status = 400, description = "Fechas inválidas (invalid_query)", body = app::error::ApiErrorBody),
        (status = 401, description = "Sin sesión del personal (unauthorized)", body = app::error::ApiErrorBody),
        (status = 403, description = "El rol no lo permite (forbidden)", body = app::error::ApiErrorBody),
        (status = 503, description = "Base de datos no disponible (unavailable)", body = app::error::ApiErrorBody),
    )
)]
#[tracing::instrument(name = "api.export_collections", skip_all)]
pub async fn api_export(State(state): State<AppState>, staff: Staff, Query(q): Query<ApiExportQuery>) -> Response {
    if let Some(refused) = staff.refuse_unless(may::TREASURY) {
        return refused;
    }
    match parse_range(q.from.as_deref().unwrap_or(""), q.to.as_deref().unwrap_or("")) {
        Ok((f, t)) => match collections(&state, f, t).await {
            Ok(c) => csv_response(&c),
            Err(r) => r,
        },
        Err(e) => {
            AppError::new(400, "invalid_query", e, "Give from and to as YYYY-MM-DD, from ≤ to, at most 400 days.")
                .into_response()
        }
    }
}
