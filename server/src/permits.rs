//! Permit requests over HTTP: the citizen's forms and pages, and the
//! revisor's queue and decisions.
//!
//! | route | who |
//! |-------|-----|
//! | `GET`/`POST /tramites/{slug}/solicitar` | anyone (CSRF; multipart with the documents) |
//! | `GET /tramites/solicitud/{token}` | the applicant: the link, then their e-mail or RFC once per browser session |
//! | `POST /tramites/solicitud/{token}/acceso` | anyone with the link (rate-limited like logins) |
//! | `GET /tramites/solicitud/{token}/documento?id=N` | the applicant |
//! | `POST /tramites/solicitud/{token}/corregir`, `…/cancelar` | the applicant (CSRF) |
//! | `GET /personal/revision`, `GET /personal/revision/{token}`, `…/documento?id=N` | revisor (`may::REVIEW_PERMITS`) |
//! | `POST /personal/revision/{token}/tomar`, `…/corregir`, `…/aprobar`, `…/rechazar` | revisor |
//!
//! A request is reached only by its token (random, 128 bits) and the
//! applicant's proof; its number (SOL-2026-000123) is for people, never a
//! key. Documents are judged by their content, kept in the database and
//! served only as attachments with `nosniff` and a sandboxing CSP.

use app::domain::licences::CabildoApproval;
use app::domain::permits::{RequestAction, RequestLine, RequestStatus};
use app::domain::procedures::Procedure;
use app::domain::staff::may;
use app::domain::tariffs::{self, Rate};
use app::error::AppError;
use app::i18n::Lang;
use app::permits::{
    applicant_proof_matches, check_upload, clean_file_name, prepare_request, requestable_tariffs, review_clock,
    sales_tariff, FieldError, RequestForm, MAX_DOCUMENTS, PAYMENT_DAYS,
};
use app::state::AppState;
use app::store::{ApprovedLine, Mover, NewDocument, PermitDocument, PermitRefusal, PermitRequest};
use app::ui::permit_pages::{self, FormState, LicenceSummary, QueueRow, RangeInput, RequestView, ReviewView};
use app::ui::PageContext;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::caja::{form_refused, see_other, text, unavailable, NoticeQuery};
use crate::http::extract::{First, Form, MultipartBody, PathParam, Query};
use crate::receipt_pdf::report::{render_report, Block, Report};
use crate::staff::{ctx, page, Staff};

/// The largest request body with documents (every file is also limited
/// to `app::permits::MAX_DOCUMENT_BYTES`).
pub const MAX_REQUEST_BODY_BYTES: usize = 24 * 1024 * 1024;

/// The cookie that remembers the applicant's proof for one request, bound
/// to the browser's session.
const ACCESS_COOKIE: &str = "recauda_solicitud";

fn access_value(state: &AppState, session: &str, token: &str) -> String {
    let mac = state.csrf_key.derive("permit-request-access", &format!("{session}:{token}"));
    mac[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether this browser proved it is the applicant of request `token`.
fn has_access(state: &AppState, headers: &HeaderMap, token: &str) -> bool {
    let Some(session) = state.cookies.session_of(headers) else { return false };
    let expected = access_value(state, &session, token);
    let wanted = state.cookies.name(ACCESS_COOKIE);
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).any(|h| {
        h.split(';').filter_map(|pair| pair.trim().split_once('=')).any(|(name, value)| {
            name == wanted
                && value.len() == expected.len()
                && value.bytes().zip(expected.bytes()).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0
        })
    })
}

/// The cookie that opens request `token` in this browser's session
/// without asking for the proof again (set when the browser files it).
pub(crate) fn access_cookie(state: &AppState, session: &str, token: &str) -> String {
    state.cookies.set_cookie(ACCESS_COOKIE, &access_value(state, session, token), "Strict", Some(2 * 60 * 60))
}

/// The browser's session, or a new one to set on the response.
pub(crate) fn session(state: &AppState, headers: &HeaderMap) -> (String, Option<String>) {
    match state.cookies.session_of(headers) {
        Some(s) => (s, None),
        None => {
            let (s, set) = state.cookies.new_session();
            (s, Some(set))
        }
    }
}

pub(crate) fn html(status: StatusCode, body: String, cookies: &[String]) -> Response {
    let mut response = page(status, body);
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

fn not_found(es: &str, en: &str) -> Response {
    AppError::new(404, "not_found", es, en).into_response()
}

fn request_not_found() -> Response {
    not_found("No encontramos esa solicitud. Revise el enlace completo.", "We could not find that request.")
}

fn procedure_online(state: &AppState, slug: &str) -> Option<Procedure> {
    state.municipality.procedure(slug).filter(|p| p.online).cloned()
}

/// Tokens are 32 lowercase hex digits: anything else is not looked up.
fn token_shape(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[derive(Debug, Deserialize)]
pub struct FormQuery {
    #[serde(default)]
    pub tarifa: First<String>,
}

fn render_form(state: &AppState, ctx: PageContext, csrf: &str, procedure: &Procedure, form: FormState) -> String {
    let today = state.clock.today();
    let tariffs = requestable_tariffs(&state.municipality, &procedure.slug, today).into_iter().cloned().collect();
    let has_sales = sales_tariff(&state.municipality, &procedure.slug, today).is_some();
    permit_pages::request_form_document(ctx, csrf, procedure, tariffs, has_sales, form)
}

/// `GET /tramites/{slug}/solicitar`: the request form.
#[tracing::instrument(name = "permits.form", skip_all)]
pub async fn request_form(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    PathParam(slug): PathParam,
    Query(q): Query<FormQuery>,
) -> Response {
    let Some(procedure) = procedure_online(&state, &slug) else {
        return not_found("Ese trámite no existe o no se puede solicitar en línea.", "No such online procedure.");
    };
    let (session, set) = session(&state, &headers);
    let csrf = state.csrf_key.token_for(&session);
    let values = RequestForm { tariff: text(&q.tarifa), ..RequestForm::default() };
    let form = FormState { values, errors: vec![], quotes: vec![], staff_sets: false };
    let body = render_form(&state, ctx(&state, &uri, &headers), &csrf, &procedure, form);
    html(StatusCode::OK, body, &set.into_iter().collect::<Vec<_>>())
}

/// What a multipart request form carried.
#[derive(Default)]
struct Upload {
    csrf: Option<String>,
    fields: Vec<(String, String)>,
    files: Vec<(String, String, Vec<u8>)>,
}

impl Upload {
    fn field(&self, name: &str) -> String {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    fn request_form(&self) -> RequestForm {
        RequestForm {
            tariff: self.field("tarifa"),
            renewal: self.field("tipo") == "refrendo",
            name: self.field("nombre"),
            email: self.field("correo"),
            rfc: self.field("rfc"),
            phone: self.field("telefono"),
            location: self.field("ubicacion"),
            starts_on: self.field("inicio"),
            ends_on: self.field("fin"),
            hours: self.field("horario"),
            description: self.field("descripcion"),
            width: self.field("ancho"),
            height: self.field("alto"),
            metres: self.field("metros"),
            quantity: self.field("cantidad"),
            sales: self.field("boletaje"),
            attendance: self.field("asistentes"),
        }
    }
}

fn multipart_refusal(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::payload_too_large()
    } else {
        AppError::bad_form(&e.body_text())
    }
}

/// Reads the form's parts: short text fields, and files `doc-<code>` up to
/// the per-file limit (an empty file input is no file).
async fn read_upload(body: MultipartBody) -> Result<Upload, AppError> {
    let Some(mut multipart) = body.open() else { return Err(MultipartBody::refusal()) };
    let mut upload = Upload::default();
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_refusal)? {
        let name = field.name().unwrap_or("").to_string();
        if let Some(code) = name.strip_prefix("doc-") {
            let file_name = clean_file_name(field.file_name().unwrap_or(""));
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(multipart_refusal)? {
                if bytes.len() + chunk.len() > app::permits::MAX_DOCUMENT_BYTES {
                    // Keep what shows it is too large; the check says so.
                    bytes.extend_from_slice(&chunk[..chunk.len().min(1)]);
                    bytes.resize(app::permits::MAX_DOCUMENT_BYTES + 1, 0);
                    while field.chunk().await.map_err(multipart_refusal)?.is_some() {}
                    break;
                }
                bytes.extend_from_slice(&chunk);
            }
            if !bytes.is_empty() {
                if upload.files.len() >= MAX_DOCUMENTS {
                    return Err(AppError::bad_form("demasiados archivos"));
                }
                upload.files.push((code.to_string(), file_name, bytes));
            }
        } else {
            let value = field.text().await.map_err(multipart_refusal)?;
            if name == "csrf" {
                upload.csrf.get_or_insert(value);
            } else if value.len() <= 2000 && upload.fields.len() < 40 {
                upload.fields.push((name, value));
            }
        }
    }
    Ok(upload)
}

/// Checks the uploads of `procedure` (new or renewal): each file by its
/// content and size, each required document present unless `optional_all`
/// (corrections: only what is corrected).
fn documents(
    procedure: &Procedure,
    renewal: bool,
    files: Vec<(String, String, Vec<u8>)>,
    optional_all: bool,
) -> Result<Vec<NewDocument>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut docs = Vec::new();
    let field = |code: &str| format!("doc-{code}");
    for (code, name, bytes) in files {
        let Some(d) = procedure.documents_for(renewal).find(|d| d.code == code) else { continue };
        match check_upload(&bytes) {
            Ok(content_type) => {
                docs.push(NewDocument { doc_code: d.code.clone(), file_name: name, content_type, bytes })
            }
            Err(e) => errors.push(FieldError {
                field: field(&d.code),
                message_es: e.message_es(&name),
                message_en: e.message_en(&name),
            }),
        }
    }
    if !optional_all {
        for d in procedure.documents_for(renewal).filter(|d| d.required) {
            if !docs.iter().any(|x| x.doc_code == d.code) && !errors.iter().any(|e| e.field == field(&d.code)) {
                errors.push(FieldError {
                    field: field(&d.code),
                    message_es: format!("Adjunte: {}.", d.name),
                    message_en: format!("Attach: {}.", d.name),
                });
            }
        }
    }
    if errors.is_empty() {
        Ok(docs)
    } else {
        Err(errors)
    }
}

/// `POST /tramites/{slug}/solicitar`: "Calcular costo" re-renders the form
/// with the quote; "Enviar solicitud" files the request with its documents
/// and opens its page.
#[tracing::instrument(name = "permits.file", skip_all)]
pub async fn file_request(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    PathParam(slug): PathParam,
    body: MultipartBody,
) -> Response {
    let Some(procedure) = procedure_online(&state, &slug) else {
        return not_found("Ese trámite no existe o no se puede solicitar en línea.", "No such online procedure.");
    };
    let upload = match read_upload(body).await {
        Ok(u) => u,
        Err(e) => return e.with_back(format!("/tramites/{slug}/solicitar")).into_response(),
    };
    let Some(session) = state.cookies.session_of(&headers) else {
        return AppError::csrf().with_back(format!("/tramites/{slug}/solicitar")).into_response();
    };
    if !state.csrf_key.accepts(&session, upload.csrf.as_deref().unwrap_or("")) {
        return AppError::csrf().with_back(format!("/tramites/{slug}/solicitar")).into_response();
    }
    let csrf = state.csrf_key.token_for(&session);
    let today = state.clock.today();
    let uma = match state.municipality.uma_table() {
        Ok(u) => u,
        Err(e) => return unavailable(e),
    };
    let values = upload.request_form();
    let quoting = upload.field("accion") == "cotizar";
    let prepared = prepare_request(&state.municipality, &uma, &procedure, &values, today);
    let staff_sets = |p: &app::permits::PreparedRequest| p.request.lines.iter().any(|l| l.fee.is_none());
    let refuse = |values: RequestForm, errors: Vec<FieldError>| {
        let form = FormState { values, errors, quotes: vec![], staff_sets: false };
        html(
            StatusCode::UNPROCESSABLE_ENTITY,
            render_form(&state, ctx(&state, &uri, &headers), &csrf, &procedure, form),
            &[],
        )
    };
    if quoting {
        return match prepared {
            Ok(p) => {
                let form = FormState { staff_sets: staff_sets(&p), quotes: p.quotes, values, errors: vec![] };
                html(StatusCode::OK, render_form(&state, ctx(&state, &uri, &headers), &csrf, &procedure, form), &[])
            }
            Err(errors) => refuse(values, errors),
        };
    }
    let docs = documents(&procedure, values.renewal, upload.files, false);
    let (prepared, docs) = match (prepared, docs) {
        (Ok(p), Ok(d)) => (p, d),
        (p, d) => {
            let mut errors = p.err().unwrap_or_default();
            errors.extend(d.err().unwrap_or_default());
            return refuse(values, errors);
        }
    };
    let request = match state.store.file_permit_request(&prepared.request, &docs, state.clock.now(), today).await {
        Ok(r) => r,
        Err(e) => return unavailable(e),
    };
    tracing::info!(number = %request.number, procedure = %slug, "permit request filed");
    let mut response = see_other(&format!("/tramites/solicitud/{}?aviso=enviada", request.token));
    if let Ok(v) = HeaderValue::from_str(&access_cookie(&state, &session, &request.token)) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

fn tariff_names(state: &AppState, r: &PermitRequest) -> Vec<(String, String)> {
    let today = state.clock.today();
    let schedule = tariffs::schedule_on(&state.municipality.tariff_schedules, r.filed_on.min(today))
        .or_else(|| tariffs::schedule_on(&state.municipality.tariff_schedules, today));
    r.lines
        .iter()
        .map(|l| {
            let name = schedule.and_then(|s| s.tariff(&l.tariff)).map_or_else(|| l.tariff.clone(), |t| t.name.clone());
            (l.tariff.clone(), name)
        })
        .collect()
}

fn citizen_notice(aviso: Option<&str>, lang: Lang) -> Option<String> {
    let (es, en) = match aviso? {
        "enviada" => (
            "Solicitud enviada. Guarde el enlace de esta página: con él y su correo o RFC puede consultarla.",
            "Request sent. Keep this page's link: with it and your e-mail or RFC you can look the request up.",
        ),
        "corregida" => (
            "Correcciones enviadas. La Dirección de Ingresos revisará de nuevo su solicitud.",
            "Corrections sent. The revenue office (Dirección de Ingresos) will review your request again.",
        ),
        "cancelada" => ("La solicitud se canceló.", "The request was cancelled."),
        "refrendo" => (
            "Refrendo registrado sin cambios: pague el derecho para que se expida su licencia refrendada. \
                       Guarde el enlace de esta página.",
            "Renewal (refrendo) recorded with no changes: pay the fee to have your renewed licence issued. Keep \
             this page's link.",
        ),
        _ => return None,
    };
    Some(lang.pick(es, en).into())
}

async fn load(state: &AppState, token: &str) -> Result<Option<PermitRequest>, Response> {
    if !token_shape(token) {
        return Ok(None);
    }
    state.store.permit_request_by_token(token).await.map_err(unavailable)
}

/// `GET /tramites/solicitud/{token}`: the request, once the browser has
/// shown the applicant's proof; else the form asking for it.
#[tracing::instrument(name = "permits.page", skip_all)]
pub async fn request_page(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    PathParam(token): PathParam,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let request = match load(&state, &token).await {
        Ok(Some(r)) => r,
        Ok(None) => return request_not_found(),
        Err(r) => return r,
    };
    let (session, set) = session(&state, &headers);
    let csrf = state.csrf_key.token_for(&session);
    if set.is_some() || !has_access(&state, &headers, &token) {
        let body = permit_pages::proof_document(ctx(&state, &uri, &headers), &csrf, &token, false);
        return html(StatusCode::OK, body, &set.into_iter().collect::<Vec<_>>());
    }
    let (events, documents, permit, charges) = match tokio::try_join!(
        state.store.permit_request_events(request.id),
        state.store.permit_documents(request.id),
        state.store.permit_of_request(request.id),
        state.store.permit_request_open_charges(&request),
    ) {
        Ok(x) => x,
        Err(e) => return unavailable(e),
    };
    let permit_url = permit.as_ref().and_then(|p| app::permits::permit_url(&state.public_url, p));
    let c = ctx(&state, &uri, &headers);
    let view = RequestView {
        tariff_names: tariff_names(&state, &request),
        procedure: state.municipality.procedure(&request.procedure).cloned(),
        request,
        events,
        documents,
        permit,
        permit_url,
        charges,
        notice: citizen_notice(q.aviso.as_deref(), c.lang),
    };
    html(StatusCode::OK, permit_pages::request_document(c, &csrf, view), &[])
}

#[derive(Debug, Deserialize)]
pub struct ProofForm {
    #[serde(default)]
    pub csrf: First<String>,
    #[serde(default)]
    pub prueba: First<String>,
}

/// `POST /tramites/solicitud/{token}/acceso`: the applicant's e-mail or RFC.
#[tracing::instrument(name = "permits.proof", skip_all)]
pub async fn proof(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    PathParam(token): PathParam,
    Form(form): Form<ProofForm>,
) -> Response {
    let back = format!("/tramites/solicitud/{token}");
    let Some(session) = state.cookies.session_of(&headers) else {
        return AppError::csrf().with_back(back).into_response();
    };
    if !state.csrf_key.accepts(&session, form.csrf.as_deref().unwrap_or("")) {
        return AppError::csrf().with_back(back).into_response();
    }
    let request = match load(&state, &token).await {
        Ok(Some(r)) => r,
        Ok(None) => return request_not_found(),
        Err(r) => return r,
    };
    if !applicant_proof_matches(&request.applicant_email, request.applicant_rfc.as_deref(), &text(&form.prueba)) {
        tracing::warn!(number = %request.number, "permit request: wrong applicant proof");
        let csrf = state.csrf_key.token_for(&session);
        let body = permit_pages::proof_document(ctx(&state, &uri, &headers), &csrf, &token, true);
        return html(StatusCode::FORBIDDEN, body, &[]);
    }
    let mut response = see_other(&back);
    if let Ok(v) = HeaderValue::from_str(&access_cookie(&state, &session, &token)) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// A stored document, as an attachment that no browser renders inline.
fn attachment(doc: &PermitDocument, bytes: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename=\"{}\"", doc.file_name.replace('"', "_"));
    let mut response = (StatusCode::OK, bytes).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&doc.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    response
}

async fn document_response(state: &AppState, request: &PermitRequest, raw_id: &str) -> Response {
    let Ok(id) = raw_id.parse::<i64>() else {
        return not_found("No existe ese documento.", "No such document.");
    };
    match state.store.permit_document_file(request.id, id).await {
        Ok(Some((doc, bytes))) => attachment(&doc, bytes),
        Ok(None) => not_found("No existe ese documento.", "No such document."),
        Err(e) => unavailable(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct DocumentQuery {
    #[serde(default)]
    pub id: First<String>,
}

/// `GET /tramites/solicitud/{token}/documento?id=N` (the applicant).
pub async fn applicant_document(
    State(state): State<AppState>,
    headers: HeaderMap,
    PathParam(token): PathParam,
    Query(q): Query<DocumentQuery>,
) -> Response {
    let id = text(&q.id);
    let request = match load(&state, &token).await {
        Ok(Some(r)) => r,
        Ok(None) => return request_not_found(),
        Err(r) => return r,
    };
    if !has_access(&state, &headers, &token) {
        return AppError::forbidden().with_back(format!("/tramites/solicitud/{token}")).into_response();
    }
    document_response(&state, &request, &id).await
}

/// The applicant's own forms: the browser's session must be the one that
/// showed the proof, and the form's token that session's.
fn applicant_refused(state: &AppState, headers: &HeaderMap, token: &str, sent: Option<&str>) -> Option<Response> {
    let back = format!("/tramites/solicitud/{token}");
    let session = state.cookies.session_of(headers);
    if !session.as_deref().is_some_and(|s| state.csrf_key.accepts(s, sent.unwrap_or(""))) {
        return Some(AppError::csrf().with_back(back).into_response());
    }
    (!has_access(state, headers, token)).then(|| AppError::forbidden().with_back(back).into_response())
}

fn refusal_response(r: &PermitRefusal, back: &str) -> Response {
    let en = app::permits::refusal_message(r, Lang::En);
    AppError::new(r.status(), "permit_refused", r.message_es(), en).with_back(back.to_string()).into_response()
}

/// `POST /tramites/solicitud/{token}/corregir` (multipart): the corrected
/// documents and a comment; the request goes back to the queue.
#[tracing::instrument(name = "permits.resubmit", skip_all)]
pub async fn resubmit(
    State(state): State<AppState>,
    headers: HeaderMap,
    PathParam(token): PathParam,
    body: MultipartBody,
) -> Response {
    let back = format!("/tramites/solicitud/{token}");
    let upload = match read_upload(body).await {
        Ok(u) => u,
        Err(e) => return e.with_back(back).into_response(),
    };
    if let Some(refused) = applicant_refused(&state, &headers, &token, upload.csrf.as_deref()) {
        return refused;
    }
    let request = match load(&state, &token).await {
        Ok(Some(r)) => r,
        Ok(None) => return request_not_found(),
        Err(r) => return r,
    };
    let Some(procedure) = state.municipality.procedure(&request.procedure) else { return request_not_found() };
    let comment = upload.field("comentario").chars().take(500).collect::<String>();
    let docs = match documents(procedure, request.renewal, upload.files, true) {
        Ok(d) => d,
        Err(errors) => {
            let es = errors.iter().map(|e| e.message_es.as_str()).collect::<Vec<_>>().join(" ");
            let en = errors.iter().map(|e| e.message_en.as_str()).collect::<Vec<_>>().join(" ");
            return AppError::new(422, "invalid_document", es, en).with_back(back).into_response();
        }
    };
    let moved = (RequestStatus::NeedsCorrection, RequestAction::Resubmit);
    applicant_move(&state, &request, moved, &comment, &docs, &back, "corregida").await
}

/// The applicant moves `request` by `action` if it is still in `expected`
/// (with a comment and documents), then back to its page with `aviso`.
async fn applicant_move(
    state: &AppState,
    request: &PermitRequest,
    (expected, action): (RequestStatus, RequestAction),
    comment: &str,
    docs: &[NewDocument],
    back: &str,
    aviso: &str,
) -> Response {
    let now = state.clock.now();
    let moved = state
        .store
        .move_permit_request(
            request.id,
            expected,
            action,
            &Mover::Applicant,
            comment,
            &[],
            docs,
            now,
            state.clock.today(),
        )
        .await;
    match moved {
        Ok(Ok(_)) => see_other(&format!("{back}?aviso={aviso}")),
        Ok(Err(r)) => refusal_response(&r, back),
        Err(e) => unavailable(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf: First<String>,
}

/// `POST /tramites/solicitud/{token}/cancelar`: the applicant withdraws it.
#[tracing::instrument(name = "permits.cancel", skip_all)]
pub async fn cancel(
    State(state): State<AppState>,
    headers: HeaderMap,
    PathParam(token): PathParam,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let back = format!("/tramites/solicitud/{token}");
    if let Some(refused) = applicant_refused(&state, &headers, &token, form.csrf.as_deref()) {
        return refused;
    }
    let request = match load(&state, &token).await {
        Ok(Some(r)) => r,
        Ok(None) => return request_not_found(),
        Err(r) => return r,
    };
    applicant_move(&state, &request, (request.status, RequestAction::Cancel), "", &[], &back, "cancelada").await
}

#[derive(Debug, Deserialize)]
pub struct SignatureQuery {
    #[serde(default)]
    pub s: First<String>,
}

/// `GET /p/{folio}?s=…`: a permit's QR code, checked (anyone; rate-limited
/// like receipts' checks).
#[tracing::instrument(name = "permits.verify", skip_all)]
pub async fn verify(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    PathParam(folio): PathParam,
    Query(q): Query<SignatureQuery>,
) -> Response {
    let check = match app::permits::check_permit(&state, &folio, q.s.as_deref().unwrap_or("")).await {
        Ok(c) => c,
        Err(e) => return unavailable(e),
    };
    let status = if check.permit.is_none() { StatusCode::NOT_FOUND } else { StatusCode::OK };
    page(status, permit_pages::verify_document(ctx(&state, &uri, &headers), check))
}

/// `GET /tramites/solicitud/{token}/permiso.pdf` (the applicant): the
/// permit, printable, with its QR code.
#[tracing::instrument(name = "permits.pdf", skip_all)]
pub async fn permit_pdf(State(state): State<AppState>, headers: HeaderMap, PathParam(token): PathParam) -> Response {
    let request = match load(&state, &token).await {
        Ok(Some(r)) => r,
        Ok(None) => return request_not_found(),
        Err(r) => return r,
    };
    if !has_access(&state, &headers, &token) {
        return AppError::forbidden().with_back(format!("/tramites/solicitud/{token}")).into_response();
    }
    let permit = match state.store.permit_of_request(request.id).await {
        Ok(Some(p)) => p,
        Ok(None) => return not_found("Este trámite aún no tiene permiso expedido.", "No permit issued yet."),
        Err(e) => return unavailable(e),
    };
    let Some(url) = app::permits::permit_url(&state.public_url, &permit) else {
        return AppError::unavailable().into_response();
    };
    let m = &state.municipality;
    let s = &permit.scope;
    let names = tariff_names(&state, &request);
    let licence = match request.licence.as_ref() {
        Some(link) => match state.store.licence(link.licence_id).await {
            Ok(l) => l.map(|l| (l, link.year)),
            Err(e) => return unavailable(e),
        },
        None => None,
    };
    let fees: Vec<Vec<String>> = request
        .lines
        .iter()
        .map(|l| {
            let name = names.iter().find(|(c, _)| *c == l.tariff).map_or(l.tariff.clone(), |(_, n)| n.clone());
            vec![name, l.quantity.normalize().to_string(), l.fee.map(|f| f.display_mxn()).unwrap_or_default()]
        })
        .collect();
    let mut facts: Vec<(String, String)> = vec![
        ("Folio".into(), permit.folio.to_string()),
        ("Solicitud".into(), request.number.clone()),
        ("Trámite".into(), procedure_name(&state, &request.procedure)),
    ];
    // A new licence's permit names its licence from the signed scope.
    let new_licence = request.is_new_licence().then(|| s.licence.clone()).flatten();
    if let Some((l, year)) = &licence {
        facts.push(("Licencia".into(), l.number.clone()));
        facts.push(("RFC del titular".into(), l.holder_rfc.clone()));
        if let Some(year) = year.filter(|_| new_licence.is_none()) {
            facts.push(("Ejercicio".into(), year.to_string()));
        }
    }
    facts.extend([
        ("Titular".into(), s.holder.clone()),
        ("Ubicación".into(), s.location.clone()),
        ("Vigencia".into(), format!("{} al {}", s.starts_on.format("%d/%m/%Y"), s.ends_on.format("%d/%m/%Y"))),
        ("Horario".into(), if s.hours.is_empty() { "—".into() } else { s.hours.clone() }),
        ("Medida".into(), s.measure.clone()),
    ]);
    if let Some(n) = s.attendance {
        facts.push(("Asistentes esperados".into(), n.to_string()));
    }
    facts.extend([
        ("Descripción".into(), if s.description.is_empty() { "—".into() } else { s.description.clone() }),
        ("Condiciones".into(), if s.conditions.is_empty() { "—".into() } else { s.conditions.clone() }),
        ("Expedido".into(), permit.issued_on.format("%d/%m/%Y").to_string()),
    ]);
    let mut blocks = vec![
        Block::Facts(facts),
        Block::Heading("Derechos pagados".into()),
        Block::Table { header: vec!["Concepto".into(), "Cantidad".into(), "Importe".into()], rows: fees },
        Block::Qr {
            data: url,
            caption: "Escanee el código para verificar este permiso en el portal de la tesorería. Solo vale lo que \
                      la verificación muestra: un papel con otras fechas, otra medida u otro lugar fue alterado."
                .into(),
        },
    ];
    if permit.folio.series() == app::domain::folio::DEMO_PERMIT_SERIES {
        blocks.insert(0, Block::Text("PERMISO DE DEMOSTRACIÓN — SIN VALIDEZ: no se pagó dinero real.".into()));
    }
    if let Some(why) = &permit.cancelled {
        blocks.insert(0, Block::Text(format!("PERMISO CANCELADO: {why}")));
    }
    // A renewal's permit is the renewed licence's certificate; a new
    // licence's, the licence itself.
    let title = match (&licence, &new_licence) {
        (_, Some(number)) => format!("Licencia de funcionamiento {number}"),
        (Some((l, Some(year))), None) => format!("Refrendo de licencia {} — ejercicio {year}", l.number),
        (Some((l, None)), None) => format!("Permiso {} — licencia {}", permit.folio, l.number),
        (None, None) => format!("Permiso {}", permit.folio),
    };
    if let Some(number) = &new_licence {
        blocks.insert(
            0,
            Block::Text(format!(
                "Licencia de funcionamiento {number} para la venta de bebidas alcohólicas, inscrita en el padrón \
                 de licencias del municipio: vigente del {} al {}. Se refrenda cada año a partir del siguiente \
                 ejercicio.",
                s.starts_on.format("%d/%m/%Y"),
                s.ends_on.format("%d/%m/%Y")
            )),
        );
    } else if let Some((l, Some(year))) = &licence {
        blocks.insert(
            0,
            Block::Text(format!(
                "Refrendo de la licencia de funcionamiento {} para la venta de bebidas alcohólicas, ejercicio \
                 fiscal {year}: vigente del {} al {}.",
                l.number,
                s.starts_on.format("%d/%m/%Y"),
                s.ends_on.format("%d/%m/%Y")
            )),
        );
    }
    let report = Report {
        municipality: format!("Municipio de {}, {}", m.name, m.state),
        office: "Dirección de Ingresos — Tesorería Municipal".into(),
        title,
        blocks,
    };
    match render_report(&report) {
        Ok(bytes) => {
            let name = match (&licence, &new_licence) {
                (_, Some(_)) => "licencia",
                (Some((_, Some(_))), None) => "refrendo",
                _ => "permiso",
            };
            let disposition = format!("inline; filename=\"{name}-{}.pdf\"", permit.folio);
            let mut response = (StatusCode::OK, bytes).into_response();
            let h = response.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
            response
        }
        Err(e) => unavailable(e),
    }
}

/// What the revisor sees of the licence a request renews, changes or
/// registered.
fn licence_summary(state: &AppState, l: &app::store::Licence, r: &PermitRequest) -> LicenceSummary {
    LicenceSummary {
        year: r.licence.as_ref().and_then(|k| k.year),
        registered: r.is_new_licence(),
        number: l.number.clone(),
        holder_rfc: l.holder_rfc.clone(),
        giro: app::licences::giro_name(&state.municipality, &l.giro),
        address: l.address.clone(),
        hours: l.hours.clone(),
    }
}

// ---------------------------------------------------------------------------
// The revisor's side.

const QUEUE: &str = "/personal/revision";

fn procedure_name(state: &AppState, slug: &str) -> String {
    state.municipality.procedure(slug).map_or_else(|| slug.to_string(), |p| p.name.clone())
}

async fn clock_of(state: &AppState, r: &PermitRequest) -> Result<Option<app::permits::ReviewClock>, Response> {
    let events = state.store.permit_request_events(r.id).await.map_err(unavailable)?;
    let limit = state.municipality.procedure(&r.procedure).and_then(|p| p.response_days);
    Ok(review_clock(&state.municipality.calendar(), &events, limit, state.clock.today()))
}

/// `GET /personal/revision` (revisor): the queue, oldest first.
#[tracing::instrument(name = "permits.queue", skip_all)]
pub async fn queue(State(state): State<AppState>, uri: Uri, headers: HeaderMap, staff: Staff) -> Response {
    if let Some(refused) = staff.refuse_unless(may::REVIEW_PERMITS) {
        return refused;
    }
    let lists = tokio::try_join!(
        state.store.permit_requests_in(&[RequestStatus::Submitted, RequestStatus::InReview], 500),
        state.store.permit_requests_in(&[RequestStatus::NeedsCorrection], 500),
    );
    let (queue, waiting) = match lists {
        Ok(x) => x,
        Err(e) => return unavailable(e),
    };
    let rows = |list: Vec<PermitRequest>| async {
        let mut out = Vec::new();
        for r in list {
            let clock = clock_of(&state, &r).await?;
            out.push(QueueRow { procedure: procedure_name(&state, &r.procedure), request: r, clock });
        }
        Ok::<_, Response>(out)
    };
    let queue = match rows(queue).await {
        Ok(q) => q,
        Err(r) => return r,
    };
    let waiting = match rows(waiting).await {
        Ok(q) => q,
        Err(r) => return r,
    };
    page(StatusCode::OK, permit_pages::queue_document(ctx(&state, &uri, &headers), queue, waiting))
}

fn review_notice(aviso: Option<&str>) -> Option<(bool, String)> {
    let text = match aviso? {
        "tomada" => "Solicitud tomada para revisión.",
        "correccion" => "Se pidió la corrección: el plazo se detiene hasta que el solicitante responda.",
        "aprobada" => "Solicitud aprobada: el derecho quedó por pagar.",
        "rechazada" => "Solicitud rechazada.",
        _ => return None,
    };
    Some((true, text.into()))
}

fn ranges_of(state: &AppState, r: &PermitRequest) -> Vec<RangeInput> {
    let today = state.clock.today();
    let Some(schedule) = tariffs::schedule_on(&state.municipality.tariff_schedules, today) else { return vec![] };
    r.lines
        .iter()
        .enumerate()
        .filter_map(|(index, l)| {
            let t = schedule.tariff(&l.tariff)?;
            match t.rate {
                Rate::UmaRange { min, max } => Some(RangeInput {
                    index,
                    name: t.name.clone(),
                    min: min.normalize().to_string(),
                    max: max.normalize().to_string(),
                }),
                _ => None,
            }
        })
        .collect()
}

async fn review_page(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    staff: &Staff,
    request: PermitRequest,
    notice: Option<(bool, String)>,
    status: StatusCode,
) -> Response {
    let (events, documents) = match tokio::try_join!(
        state.store.permit_request_events(request.id),
        state.store.permit_documents(request.id),
    ) {
        Ok(x) => x,
        Err(e) => return unavailable(e),
    };
    let limit = state.municipality.procedure(&request.procedure).and_then(|p| p.response_days);
    let clock = review_clock(&state.municipality.calendar(), &events, limit, state.clock.today());
    let licence = match request.licence.as_ref() {
        Some(link) => match state.store.licence(link.licence_id).await {
            Ok(l) => l,
            Err(e) => return unavailable(e),
        },
        None => None,
    };
    let view = ReviewView {
        needs_cabildo: needs_cabildo(state, &request),
        licence: licence.map(|l| licence_summary(state, &l, &request)),
        procedure: procedure_name(state, &request.procedure),
        tariff_names: tariff_names(state, &request),
        ranges: ranges_of(state, &request),
        request,
        events,
        documents,
        clock,
        notice,
    };
    page(status, permit_pages::review_document(ctx(state, uri, headers), &staff.csrf_token(state), view))
}

/// `GET /personal/revision/{token}` (revisor).
#[tracing::instrument(name = "permits.review", skip_all)]
pub async fn review(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    PathParam(token): PathParam,
    Query(q): Query<NoticeQuery>,
) -> Response {
    if let Some(refused) = staff.refuse_unless(may::REVIEW_PERMITS) {
        return refused;
    }
    match load(&state, &token).await {
        Ok(Some(r)) => {
            review_page(&state, &uri, &headers, &staff, r, review_notice(q.aviso.as_deref()), StatusCode::OK).await
        }
        Ok(None) => request_not_found(),
        Err(r) => r,
    }
}

/// `GET /personal/revision/{token}/documento?id=N` (revisor).
pub async fn staff_document(
    State(state): State<AppState>,
    staff: Staff,
    PathParam(token): PathParam,
    Query(q): Query<DocumentQuery>,
) -> Response {
    let id = text(&q.id);
    if let Some(refused) = staff.refuse_unless(may::REVIEW_PERMITS) {
        return refused;
    }
    match load(&state, &token).await {
        Ok(Some(r)) => document_response(&state, &r, &id).await,
        Ok(None) => request_not_found(),
        Err(r) => r,
    }
}

/// A revisor's decision form, as its pairs: `csrf`, the comment or
/// reason (`comentario`, `motivo`), the per-document comments
/// (`doc-<id>`), the range factors (`factor-<i>`) and the conditions. A
/// repeated field counts once (its first value).
pub struct DecisionForm(Vec<(String, String)>);

impl DecisionForm {
    fn get(&self, name: &str) -> String {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).unwrap_or_default()
    }

    fn csrf(&self) -> First<String> {
        First(self.0.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.clone()))
    }

    fn document_comments(&self) -> Vec<(i64, String)> {
        let mut seen = std::collections::HashSet::new();
        self.0
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("doc-")?.parse::<i64>().ok()?, v)))
            .filter(|(id, _)| seen.insert(*id))
            .map(|(id, v)| (id, v.trim().chars().take(300).collect()))
            .collect()
    }
}

async fn decide(state: AppState, staff: Staff, token: String, form: DecisionForm, action: RequestAction) -> Response {
    let base = format!("{QUEUE}/{token}");
    if let Some(refused) = form_refused(&state, &staff, may::REVIEW_PERMITS, &form.csrf(), &base) {
        return refused;
    }
    let request = match load(&state, &token).await {
        Ok(Some(r)) => r,
        Ok(None) => return request_not_found(),
        Err(r) => return r,
    };
    let now = state.clock.now();
    let today = state.clock.today();
    let mover = Mover::Staff(staff.user.username.to_string());
    let moved = match action {
        RequestAction::Approve => {
            let lines = match approved_lines(&state, &request, &form) {
                Ok(l) => l,
                Err(message) => {
                    return AppError::new(422, "invalid_amount", message.clone(), message)
                        .with_back(base)
                        .into_response()
                }
            };
            let conditions: String = form.get("condiciones").chars().take(500).collect();
            // A new licence: the H. Cabildo's approval first, recorded in
            // the timeline and in the permit's conditions.
            let (conditions, comment) = if needs_cabildo(&state, &request) {
                match CabildoApproval::parse(&form.get("cabildo_fecha"), &form.get("cabildo_acuerdo"), today) {
                    Ok(a) => {
                        let text = a.text_es();
                        let conditions =
                            if conditions.is_empty() { text.clone() } else { format!("{text} {conditions}") };
                        (conditions, text)
                    }
                    Err(message) => {
                        return AppError::new(422, "cabildo_required", message.clone(), message)
                            .with_back(base)
                            .into_response()
                    }
                }
            } else {
                (conditions, String::new())
            };
            let due = today + chrono::Duration::days(PAYMENT_DAYS);
            state
                .store
                .approve_permit_request(
                    request.id,
                    request.status,
                    &staff.user.username.to_string(),
                    &lines,
                    &conditions,
                    due,
                    &comment,
                    now,
                    today,
                )
                .await
        }
        _ => {
            let comment = form.get(if action == RequestAction::Reject { "motivo" } else { "comentario" });
            let comment: String = comment.chars().take(1000).collect();
            let doc_comments = form.document_comments();
            state
                .store
                .move_permit_request(
                    request.id,
                    request.status,
                    action,
                    &mover,
                    &comment,
                    &doc_comments,
                    &[],
                    now,
                    today,
                )
                .await
        }
    };
    let aviso = match action {
        RequestAction::Take => "tomada",
        RequestAction::AskCorrection => "correccion",
        RequestAction::Approve => "aprobada",
        _ => "rechazada",
    };
    match moved {
        Ok(Ok(_)) => see_other(&format!("{base}?aviso={aviso}")),
        Ok(Err(r)) => refusal_response(&r, &base),
        Err(e) => unavailable(e),
    }
}

/// Whether approving `r` needs the H. Cabildo's approval recorded: one of
/// its tariffs is of a group that says `requires_cabildo` (new alcohol
/// licences).
fn needs_cabildo(state: &AppState, r: &PermitRequest) -> bool {
    let m = &state.municipality;
    let today = state.clock.today();
    let schedule = tariffs::schedule_on(&m.tariff_schedules, today);
    r.lines.iter().any(|l| {
        schedule
            .and_then(|s| s.tariff(&l.tariff))
            .and_then(|t| m.tariff_group(&t.group))
            .is_some_and(|g| g.requires_cabildo)
    })
}

/// The request's fees re-quoted on the day of approval (the UMA of that
/// day), the range ones with the factor the revisor set.
fn approved_lines(state: &AppState, r: &PermitRequest, form: &DecisionForm) -> Result<Vec<ApprovedLine>, String> {
    let today = state.clock.today();
    let m = &state.municipality;
    let uma = m.uma_table().map_err(|e| e.to_string())?;
    let schedule = tariffs::schedule_on(&m.tariff_schedules, today).ok_or("No hay tarifas vigentes hoy.")?;
    r.lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let t = schedule.tariff(&l.tariff).ok_or_else(|| format!("La tarifa {} ya no está vigente.", l.tariff))?;
            let concept = m.tariff_group(&t.group).map(|g| g.concept.clone()).ok_or("Tarifa sin grupo.")?;
            let factor = match t.rate {
                Rate::UmaRange { .. } => {
                    let raw = form.get(&format!("factor-{i}"));
                    let f = raw
                        .replace(',', ".")
                        .parse::<Decimal>()
                        .map_err(|_| format!("Escriba el importe de «{}» en UMA, por ejemplo 20.", t.name))?;
                    Some(f)
                }
                _ => None,
            };
            let q = tariffs::quote(&m.tariff_schedules, &uma, &l.tariff, l.quantity, today, factor)
                .map_err(|e| e.message_es())?;
            Ok(ApprovedLine {
                concept,
                line: RequestLine {
                    tariff: l.tariff.clone(),
                    quantity: l.quantity,
                    staff_factor: factor,
                    fee: Some(q.fee),
                },
            })
        })
        .collect()
}

macro_rules! decision {
    ($name:ident, $action:expr) => {
        #[tracing::instrument(name = "permits.decide", skip_all)]
        pub async fn $name(
            State(state): State<AppState>,
            staff: Staff,
            PathParam(token): PathParam,
            Form(pairs): Form<Vec<(String, String)>>,
        ) -> Response {
            decide(state, staff, token, DecisionForm(pairs), $action).await
        }
    };
}

decision!(take, RequestAction::Take);
decision!(ask_correction, RequestAction::AskCorrection);
decision!(approve, RequestAction::Approve);
decision!(reject, RequestAction::Reject);
