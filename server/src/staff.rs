//! The staff's routes, each naming the roles it admits
//! (`app::domain::staff::may`):
//!
//! | route | who |
//! |-------|-----|
//! | `GET /personal/entrar`, `POST /personal/entrar` | anyone (the login; `POST` rate-limited per address, accounts locked after 5 failures) |
//! | `POST /personal/entrar/codigo` | anyone holding a pending login (the TOTP code after a right password; rate-limited, wrong codes count towards the lockout) |
//! | `GET /personal` | any staff member (`may::ENTER`) |
//! | `POST /personal/salir`, `POST /personal/salir-todas` | any staff member |
//! | `GET`/`POST /personal/cuenta/2fa`, `POST /personal/cuenta/2fa/desactivar` | any staff member (their own second factor: enrol, confirm, turn off) |
//! | `GET /personal/bitacora` | tesorero, revisor (`may::READ_AUDIT`) |
//! | `GET /personal/caja/verificar` | cajero, tesorero (`may::VERIFY_RECEIPTS`) |
//! | `POST /personal/caja/verificar/foto` (multipart: a photo of the QR code) | cajero, tesorero (`may::VERIFY_RECEIPTS`) |
//! | `POST /personal/caja/canjear`, `POST /api/v1/receipts/{folio}/redeem` | cajero (`may::REDEEM`) |
//! | `GET`/`POST /personal/admin/personal`, `POST /personal/admin/personal/{usuario}/{roles,estado,contrasena,2fa}` | admin (`may::MANAGE_STAFF`) |
//!
//! A staff page without a live session answers 303 to the login (which
//! returns there afterwards), a staff API route 401; with a session but
//! without the role, 403. A person whose role the municipality file makes
//! use TOTP (`[staff] require_totp_for`) and who has not enrolled yet gets
//! 303 to `/personal/cuenta/2fa` from every other staff page (a staff API
//! route 403 `totp_required`) until they do; only enrolling and logging out
//! stay open. The
//! session cookie (`recauda_personal`, `__Host-` and `Secure` under https,
//! HttpOnly, SameSite=Strict, no Max-Age) holds a random id minted at each
//! login; the server keeps only its hash. Forms of a logged-in page carry
//! a CSRF token bound to that session.

use app::domain::staff::{may, Role};
use app::error::AppError;
use app::state::AppState;
use app::store::StaffUser;
use app::ui::staff_pages;
use app::ui::PageContext;
use axum::extract::{FromRef, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::desk_photo::{self, PhotoError};
use crate::http::extract::{ClientIp, CsrfForm, First, Form, MultipartBody, Query};
use crate::security::{MAX_PHOTO_BODY_BYTES, MAX_PHOTO_BYTES};

/// The staff session cookie's name over plain http.
pub const SESSION_COOKIE: &str = "recauda_personal";

/// The value of cookie `name` in any of the request's `Cookie` headers.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get_all(header::COOKIE).iter().filter_map(|c| c.to_str().ok()).find_map(|c| {
        c.split(';').find_map(|pair| {
            let (n, v) = pair.split_once('=')?;
            (n.trim() == name).then_some(v.trim())
        })
    })
}

/// A logged-in staff member (a live session), or the answer for a request
/// without one: 303 to the login page (or to the enrolment, for a person
/// who must use TOTP and has not enrolled).
pub struct Staff {
    pub user: StaffUser,
    pub session_id: String,
}

impl Staff {
    /// The refusal (403, the error page) of a person whose roles are none
    /// of `allowed`; `None` when one is held.
    pub fn refuse_unless(&self, allowed: &[Role]) -> Option<Response> {
        if self.user.roles.any_of(allowed) {
            None
        } else {
            tracing::warn!(user = %self.user.username, "staff: refused, role not allowed");
            Some(AppError::forbidden().into_response())
        }
    }

    /// The token the forms of this session's pages carry.
    pub fn csrf_token(&self, state: &AppState) -> String {
        state.csrf_key.token_for(&self.session_id)
    }

    /// How a redemption names who made it.
    pub fn display(&self) -> String {
        format!("{} ({})", self.user.display_name, self.user.username)
    }

    pub fn actor(&self) -> String {
        format!("staff:{}", self.user.username)
    }
}

/// The enrolment page of the second factor.
pub const TOTP_PAGE: &str = "/personal/cuenta/2fa";

/// What a person who must enrol TOTP may still reach before they do.
const OPEN_BEFORE_ENROLMENT: [&str; 3] = [TOTP_PAGE, "/personal/salir", "/personal/salir-todas"];

/// Whether the municipality file makes `user` use TOTP.
fn totp_required(state: &AppState, user: &StaffUser) -> bool {
    state.municipality.staff.requires_totp(&user.roles)
}

fn to_enrolment(uri: &Uri) -> Response {
    if crate::http::render::is_api(uri.path()) {
        return AppError::new(
            403,
            "totp_required",
            "Active primero la verificación en dos pasos en /personal/cuenta/2fa.",
            "Enable two-step verification first at /personal/cuenta/2fa.",
        )
        .into_response();
    }
    (StatusCode::SEE_OTHER, [(header::LOCATION, TOTP_PAGE)]).into_response()
}

fn to_login(uri: &Uri) -> Response {
    if crate::http::render::is_api(uri.path()) {
        return AppError::unauthorized().into_response();
    }
    let back: String = form_urlencoded::byte_serialize(uri.path().as_bytes()).collect();
    (StatusCode::SEE_OTHER, [(header::LOCATION, format!("/personal/entrar?volver={back}"))]).into_response()
}

impl<S: Send + Sync> FromRequestParts<S> for Staff
where
    AppState: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let state = AppState::from_ref(state);
        let Some(session_id) = cookie(&parts.headers, &state.cookies.name(SESSION_COOKIE)).map(str::to_string) else {
            return Err(to_login(&parts.uri));
        };
        match app::staff::session_user(&state.store, &session_id, state.clock.real_now()).await {
            Ok(Some(user))
                if totp_required(&state, &user)
                    && !user.totp_enabled()
                    && !OPEN_BEFORE_ENROLMENT.contains(&parts.uri.path()) =>
            {
                tracing::info!(user = %user.username, "staff: to the enrolment, TOTP required");
                Err(to_enrolment(&parts.uri))
            }
            Ok(Some(user)) => Ok(Staff { user, session_id }),
            Ok(None) => Err(to_login(&parts.uri)),
            Err(e) => {
                tracing::error!(error = %e, "staff session not read");
                Err(AppError::unavailable().into_response())
            }
        }
    }
}

/// A staff page: HTML, never cached (every staff module's pages).
pub(crate) fn page(status: StatusCode, html: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        html,
    )
        .into_response()
}

/// The page context of a staff request.
pub(crate) fn ctx(state: &AppState, uri: &Uri, headers: &HeaderMap) -> PageContext {
    PageContext::for_request(state, uri, headers)
}

/// Where to go after the login: a staff page only (no open redirect).
fn safe_back(back: Option<&str>) -> String {
    match back {
        Some(b)
            if b.starts_with("/personal")
                && !b.contains("//")
                && !b.contains('\\')
                && b.len() <= 200
                && b.bytes().all(|c| c.is_ascii_graphic()) =>
        {
            b.to_string()
        }
        _ => "/personal".into(),
    }
}

/// The browser session of the login form (the CSRF cookie), minted when absent.
fn form_session(state: &AppState, headers: &HeaderMap) -> (String, Option<String>) {
    match state.cookies.session_of(headers) {
        Some(session) => (session, None),
        None => {
            let (session, set) = state.cookies.new_session();
            (session, Some(set))
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    pub volver: First<String>,
}

fn login_page(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    status: StatusCode,
    error: Option<&str>,
    username: &str,
    back: &str,
) -> Response {
    let (session, set) = form_session(state, headers);
    let token = state.csrf_key.token_for(&session);
    let mut response =
        page(status, staff_pages::login_document(ctx(state, uri, headers), &token, error, username, back));
    if let Some(set) = set.and_then(|s| HeaderValue::from_str(&s).ok()) {
        response.headers_mut().append(header::SET_COOKIE, set);
    }
    response
}

/// `GET /personal/entrar`
pub async fn login_form(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let back = safe_back(q.volver.as_deref());
    login_page(&state, &uri, &headers, StatusCode::OK, None, "", &back)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    pub usuario: First<String>,
    #[serde(default)]
    pub contrasena: First<String>,
    #[serde(default)]
    pub volver: First<String>,
}

/// A login completed: the session's cookie, then back to the page asked
/// for (or to the enrolment, for a person who must use TOTP and has not
/// enrolled).
fn logged_in(state: &AppState, logged: &app::staff::LoggedIn, back: String) -> Response {
    tracing::info!(user = %logged.user.username, "staff logged in");
    let to =
        if totp_required(state, &logged.user) && !logged.user.totp_enabled() { TOTP_PAGE.to_string() } else { back };
    let cookie = state.cookies.set_cookie(SESSION_COOKIE, &logged.session_id, "Strict", None);
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The login page after a lockout, saying until when.
fn locked_page(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    until: chrono::DateTime<chrono::Utc>,
    username: &str,
    back: &str,
) -> Response {
    let local = until.with_timezone(&state.clock.timezone()).format("%H:%M");
    let message = format!(
        "La cuenta quedó bloqueada por varios intentos fallidos seguidos. Podrá volver a intentarlo a las \
         {local}, o pida a quien administra el personal que la revise."
    );
    login_page(state, uri, headers, StatusCode::FORBIDDEN, Some(&message), username, back)
}

/// The second step's page: the code form of pending login `pending`
/// (200; 401 with the `error` of a refused code).
fn code_page(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    browser: &str,
    pending: &str,
    back: &str,
    error: Option<&str>,
) -> Response {
    let token = state.csrf_key.token_for(browser);
    let status = if error.is_some() { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
    page(status, staff_pages::login_code_document(ctx(state, uri, headers), &token, pending, back, error))
}

/// `POST /personal/entrar`: a new session (new id) and its cookie, then
/// back to the page asked for — or, for an account with TOTP on, the code
/// form of a pending login (no session yet).
#[tracing::instrument(name = "staff.login", skip_all)]
pub async fn login(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Response {
    let username = form.usuario.into_inner().unwrap_or_default();
    let password = form.contrasena.into_inner().unwrap_or_default();
    let back = safe_back(form.volver.as_deref());
    let now = state.clock.real_now();
    // The CSRF check passed: the browser has its session, the pending login is bound to it.
    let Some(browser) = state.cookies.session_of(&headers) else { return AppError::csrf().into_response() };
    match app::staff::log_in(&state.store, &username, password, &ip.to_string(), &browser, now).await {
        Ok(app::staff::LoginStep::Session(logged)) => logged_in(&state, &logged, back),
        Ok(app::staff::LoginStep::Code(pending)) => {
            tracing::info!(user = %pending.user.username, "staff password right, code due");
            code_page(&state, &uri, &headers, &browser, &pending.token, &back, None)
        }
        Err(app::staff::LoginError::Invalid) => login_page(
            &state,
            &uri,
            &headers,
            StatusCode::UNAUTHORIZED,
            Some("Usuario o contraseña incorrectos."),
            username.trim(),
            &back,
        ),
        Err(app::staff::LoginError::Locked { until }) => {
            locked_page(&state, &uri, &headers, until, username.trim(), &back)
        }
        Err(app::staff::LoginError::Unavailable) => AppError::unavailable().into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    /// The pending login's token.
    #[serde(default)]
    pub pendiente: First<String>,
    #[serde(default)]
    pub codigo: First<String>,
    #[serde(default)]
    pub volver: First<String>,
}

/// `POST /personal/entrar/codigo`: the TOTP code of a pending login (of
/// this browser, under 5 minutes old). Right: the session, as a password
/// login. Wrong or already used: 401 and the form again (the failure counts
/// towards the lockout). Expired, unknown or of another browser: the login
/// page again.
#[tracing::instrument(name = "staff.login_code", skip_all)]
pub async fn login_code(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Response {
    let pending = form.pendiente.into_inner().unwrap_or_default();
    let code = form.codigo.into_inner().unwrap_or_default();
    let back = safe_back(form.volver.as_deref());
    let now = state.clock.real_now();
    let Some(browser) = state.cookies.session_of(&headers) else { return AppError::csrf().into_response() };
    match app::staff::log_in_with_code(&state.store, pending.trim(), &browser, &code, &ip.to_string(), now).await {
        Ok(logged) => logged_in(&state, &logged, back),
        Err(app::staff::CodeError::Wrong) => {
            tracing::warn!("staff: TOTP code refused");
            let message = "El código no es correcto o ya se usó. Escriba el código que muestra ahora su aplicación \
                           (si acaba de usar uno, espere al siguiente).";
            code_page(&state, &uri, &headers, &browser, pending.trim(), &back, Some(message))
        }
        Err(app::staff::CodeError::Locked { until }) => locked_page(&state, &uri, &headers, until, "", &back),
        Err(app::staff::CodeError::Unavailable) => AppError::unavailable().into_response(),
        Err(_) => {
            let message = "La verificación venció (tiene 5 minutos) o no es de este navegador. Vuelva a escribir su \
                           usuario y contraseña.";
            login_page(&state, &uri, &headers, StatusCode::UNAUTHORIZED, Some(message), "", &back)
        }
    }
}

/// `GET /personal` (any staff member)
pub async fn home(State(state): State<AppState>, uri: Uri, headers: HeaderMap, staff: Staff) -> Response {
    if let Some(refused) = staff.refuse_unless(may::ENTER) {
        return refused;
    }
    let token = staff.csrf_token(&state);
    page(StatusCode::OK, staff_pages::home_document(ctx(&state, &uri, &headers), &staff.user, &token))
}

#[derive(Debug, Deserialize)]
pub struct SessionForm {
    #[serde(default)]
    pub csrf: First<String>,
}

async fn end_session(state: AppState, staff: Staff, form: SessionForm, everywhere: bool) -> Response {
    if let Some(refused) = staff.refuse_unless(may::ENTER) {
        return refused;
    }
    let sent = form.csrf.into_inner().unwrap_or_default();
    if !state.csrf_key.accepts(&staff.session_id, &sent) {
        return AppError::csrf().with_back("/personal").into_response();
    }
    let now = state.clock.real_now();
    if let Err(e) = app::staff::log_out(&state.store, &staff.user, &staff.session_id, everywhere, now).await {
        tracing::error!(error = %e, "staff logout not recorded");
        return AppError::unavailable().into_response();
    }
    tracing::info!(actor = %staff.actor(), everywhere, "staff logged out");
    let expired = format!("{}; Max-Age=0", state.cookies.set_cookie(SESSION_COOKIE, "", "Strict", None));
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, "/personal/entrar")]).into_response();
    if let Ok(v) = HeaderValue::from_str(&expired) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// `POST /personal/salir`: ends this session.
pub async fn logout(State(state): State<AppState>, staff: Staff, Form(form): Form<SessionForm>) -> Response {
    end_session(state, staff, form, false).await
}

/// `POST /personal/salir-todas`: ends every session of this person.
pub async fn logout_everywhere(State(state): State<AppState>, staff: Staff, Form(form): Form<SessionForm>) -> Response {
    end_session(state, staff, form, true).await
}

/// The issuer an authenticator app shows next to the code.
fn totp_issuer(state: &AppState) -> String {
    format!("Recauda {}", state.municipality.name)
}

/// The second factor's page for `staff`, with an optional notice.
async fn totp_page(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    staff: &Staff,
    user: &StaffUser,
    notice: Option<(bool, String)>,
    status: StatusCode,
) -> Response {
    let required = totp_required(state, user);
    let view = if user.totp_enabled() {
        staff_pages::TotpView::Enabled { required }
    } else {
        match app::staff::offer_totp(&state.csrf_key, user, &staff.session_id, &totp_issuer(state)) {
            Some(offer) => staff_pages::TotpView::Enrol { offer, required },
            None => staff_pages::TotpView::Enabled { required },
        }
    };
    page(status, staff_pages::totp_document(ctx(state, uri, headers), &staff.csrf_token(state), view, notice))
}

/// `GET /personal/cuenta/2fa` (any staff member): their own second
/// factor — the secret offered for enrolment (as a QR code and as text; the
/// same one until confirmed), or, when on, the form that turns it off.
#[tracing::instrument(name = "staff.totp_page", skip_all)]
pub async fn totp(State(state): State<AppState>, uri: Uri, headers: HeaderMap, staff: Staff) -> Response {
    if let Some(refused) = staff.refuse_unless(may::ENTER) {
        return refused;
    }
    totp_page(&state, &uri, &headers, &staff, &staff.user, None, StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
pub struct TotpForm {
    #[serde(default)]
    pub csrf: First<String>,
    /// The secret the enrolment page offered (base32).
    #[serde(default)]
    pub secreto: First<String>,
    #[serde(default)]
    pub codigo: First<String>,
}

/// The role, then the session's token, of a form of the TOTP page.
fn totp_guard(state: &AppState, staff: &Staff, form: &TotpForm) -> Option<Response> {
    if let Some(refused) = staff.refuse_unless(may::ENTER) {
        return Some(refused);
    }
    if !state.csrf_key.accepts(&staff.session_id, form.csrf.as_deref().unwrap_or("")) {
        return Some(AppError::csrf().with_back(TOTP_PAGE).into_response());
    }
    None
}

/// The account as it is now (after a change of its second factor).
async fn reread(state: &AppState, staff: &Staff) -> Result<StaffUser, Response> {
    match state.store.staff_by_id(staff.user.id).await {
        Ok(Some(user)) => Ok(user),
        Ok(None) | Err(_) => Err(AppError::unavailable().into_response()),
    }
}

/// `POST /personal/cuenta/2fa` (any staff member): confirms the secret
/// offered with a current code; only then is the second factor on
/// (`staff.totp_enabled` in the audit trail). A wrong code: 422, the same
/// secret offered again.
#[tracing::instrument(name = "staff.totp_enable", skip_all)]
pub async fn totp_enable(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    staff: Staff,
    Form(form): Form<TotpForm>,
) -> Response {
    if let Some(refused) = totp_guard(&state, &staff, &form) {
        return refused;
    }
    let secret = form.secreto.as_deref().unwrap_or("").trim().to_string();
    let code = form.codigo.as_deref().unwrap_or("").to_string();
    let now = state.clock.real_now();
    let (notice, status) = match app::staff::enable_totp(
        &state.store,
        &state.csrf_key,
        &staff.user,
        &staff.session_id,
        &secret,
        &code,
        &ip.to_string(),
        now,
    )
    .await
    {
        Ok(()) => {
            tracing::info!(actor = %staff.actor(), "staff TOTP enabled");
            (
                (
                    true,
                    "La verificación en dos pasos quedó activada. Desde ahora, al entrar se le pedirá el código."
                        .into(),
                ),
                StatusCode::OK,
            )
        }
        Err(app::staff::CodeError::Wrong) => (
            (
                false,
                "El código no es correcto. Revise que la hora de su teléfono sea la correcta y escriba el código \
                     que muestra ahora su aplicación."
                    .into(),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(app::staff::CodeError::Unavailable) => return AppError::unavailable().into_response(),
        Err(_) => (
            (
                false,
                "La clave ya no es la que se ofreció o la verificación ya estaba activada. Revise esta página \
                     y vuelva a intentarlo."
                    .into(),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    };
    let user = match reread(&state, &staff).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    totp_page(&state, &uri, &headers, &staff, &user, Some(notice), status).await
}

/// `POST /personal/cuenta/2fa/desactivar` (any staff member): turns their
/// own second factor off with a current code (`staff.totp_disabled`), unless
/// the municipality requires it for their role (422). A wrong code: 422,
/// and it counts towards the lockout; a locked account: 403.
#[tracing::instrument(name = "staff.totp_disable", skip_all)]
pub async fn totp_disable(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    staff: Staff,
    Form(form): Form<TotpForm>,
) -> Response {
    if let Some(refused) = totp_guard(&state, &staff, &form) {
        return refused;
    }
    let code = form.codigo.as_deref().unwrap_or("").to_string();
    let now = state.clock.real_now();
    let required = totp_required(&state, &staff.user);
    let refused = |text: String| ((false, text), StatusCode::UNPROCESSABLE_ENTITY);
    let (notice, status) =
        match app::staff::disable_totp(&state.store, &staff.user, &code, required, &ip.to_string(), now).await {
            Ok(()) => {
                tracing::info!(actor = %staff.actor(), "staff TOTP disabled");
                ((true, "La verificación en dos pasos quedó desactivada.".to_string()), StatusCode::OK)
            }
            Err(app::staff::CodeError::Wrong) => refused(
                "El código no es correcto o ya se usó. Escriba el código que muestra ahora su aplicación.".into(),
            ),
            Err(app::staff::CodeError::Required) => {
                refused("La tesorería exige la verificación en dos pasos para su rol: no se puede desactivar.".into())
            }
            Err(app::staff::CodeError::Locked { until }) => {
                let local = until.with_timezone(&state.clock.timezone()).format("%H:%M");
                (
                    (false, format!("Demasiados intentos fallidos seguidos. Podrá volver a intentarlo a las {local}.")),
                    StatusCode::FORBIDDEN,
                )
            }
            Err(app::staff::CodeError::Unavailable) => return AppError::unavailable().into_response(),
            Err(_) => refused("La verificación en dos pasos no está activada.".into()),
        };
    let user = match reread(&state, &staff).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    totp_page(&state, &uri, &headers, &staff, &user, Some(notice), status).await
}

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub accion: First<String>,
    #[serde(default)]
    pub actor: First<String>,
}

/// `GET /personal/bitacora` (tesorero, revisor): the latest 200 entries,
/// filtered by action and actor, and whether the chain is intact.
pub async fn audit(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    Query(q): Query<AuditQuery>,
) -> Response {
    if let Some(refused) = staff.refuse_unless(may::READ_AUDIT) {
        return refused;
    }
    let action = q.accion.as_deref().unwrap_or("").trim().to_string();
    let actor = q.actor.as_deref().unwrap_or("").trim().to_string();
    let entries = match state.store.audit_entries(&action, &actor, 200).await {
        Ok(e) => e,
        Err(_) => return AppError::unavailable().into_response(),
    };
    let chain = match state.store.verify_audit().await {
        Ok(check) => match check.first_bad {
            None => Ok(check.entries),
            Some(bad) => Err(bad),
        },
        Err(_) => return AppError::unavailable().into_response(),
    };
    page(StatusCode::OK, staff_pages::audit_document(ctx(&state, &uri, &headers), entries, &action, &actor, chain))
}

#[derive(Debug, Deserialize)]
pub struct DeskQuery {
    #[serde(default)]
    pub url: First<String>,
}

/// The desk's address.
const DESK: &str = "/personal/caja/verificar";

/// The desk's pages may use the camera (this origin only: `BarcodeDetector`
/// on the live picture); every other page keeps the boundary's
/// `camera=()`.
const DESK_PERMISSIONS: &str = "camera=(self), microphone=(), geolocation=(), payment=()";

/// The desk page showing `shown` under the field (which holds `scanned`).
fn desk_document(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    staff: &Staff,
    scanned: &str,
    shown: staff_pages::DeskShown,
    status: StatusCode,
) -> Response {
    let may_redeem = staff.user.roles.any_of(may::REDEEM);
    let html =
        staff_pages::desk_document(ctx(state, uri, headers), &staff.csrf_token(state), scanned, shown, may_redeem);
    let mut response = page(status, html);
    response
        .headers_mut()
        .insert(HeaderName::from_static("permissions-policy"), HeaderValue::from_static(DESK_PERMISSIONS));
    response
}

/// The desk page with the check of `scanned` (a receipt's verification
/// URL, as a scanner types it or as read from a photo).
async fn desk_page(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    staff: &Staff,
    scanned: &str,
    note: Option<staff_pages::DeskNote>,
    status: StatusCode,
) -> Response {
    let shown = if scanned.trim().is_empty() {
        staff_pages::DeskShown::Nothing
    } else if app::permits::is_permit_url(scanned) {
        match app::permits::desk_check_permit(state, scanned).await {
            Ok(Ok(check)) => {
                staff_pages::DeskShown::Permit { check: Box::new(check), note, demo_redeemable: state.demo_payments }
            }
            Ok(Err(why)) => staff_pages::DeskShown::Refused(why),
            Err(_) => return AppError::unavailable().into_response(),
        }
    } else {
        match app::receipts::desk_check(state, scanned).await {
            Ok(Ok(check)) => staff_pages::DeskShown::Checked { check: Box::new(check), note },
            Ok(Err(why)) => staff_pages::DeskShown::Refused(why),
            Err(_) => return AppError::unavailable().into_response(),
        }
    };
    desk_document(state, uri, headers, staff, scanned, shown, status)
}

/// `GET /personal/caja/verificar?url=…` (cajero, tesorero): what a scanner
/// typed, checked.
pub async fn desk(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    Query(q): Query<DeskQuery>,
) -> Response {
    if let Some(refused) = staff.refuse_unless(may::VERIFY_RECEIPTS) {
        return refused;
    }
    let scanned = q.url.into_inner().unwrap_or_default();
    desk_page(&state, &uri, &headers, &staff, &scanned, None, StatusCode::OK).await
}

/// A photo over [`MAX_PHOTO_BYTES`] (413, the error shape, back to the desk).
fn photo_too_large() -> AppError {
    AppError::new(
        413,
        "payload_too_large",
        format!("La foto pesa más de {} MB. Tómela de nuevo con menor resolución.", MAX_PHOTO_BYTES / (1024 * 1024)),
        format!(
            "The photo is larger than {} MB. Take it again at a lower resolution.",
            MAX_PHOTO_BYTES / (1024 * 1024)
        ),
    )
    .with_back(DESK)
}

/// What the photo form sent: its token and its file.
#[derive(Default)]
struct PhotoUpload {
    csrf: Option<String>,
    photo: Option<Vec<u8>>,
}

fn multipart_refusal(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        photo_too_large()
    } else {
        tracing::debug!(error = %e, "desk photo: multipart body refused");
        AppError::bad_form(&e.body_text()).with_back(DESK)
    }
}

/// Reads the form's `csrf` and `foto` fields (the first of each; any other
/// field is skipped), the photo up to [`MAX_PHOTO_BYTES`].
async fn read_photo_upload(multipart: &mut axum::extract::Multipart) -> Result<PhotoUpload, AppError> {
    let mut upload = PhotoUpload::default();
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_refusal)? {
        match field.name() {
            Some("csrf") if upload.csrf.is_none() => {
                upload.csrf = Some(field.text().await.map_err(multipart_refusal)?);
            }
            Some("foto") if upload.photo.is_none() => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(multipart_refusal)? {
                    if bytes.len() + chunk.len() > MAX_PHOTO_BYTES {
                        return Err(photo_too_large());
                    }
                    bytes.extend_from_slice(&chunk);
                }
                upload.photo = Some(bytes);
            }
            _ => {}
        }
    }
    Ok(upload)
}

/// The desk's words for a photo whose code could not be read, and the status.
fn photo_refusal(e: &PhotoError) -> (StatusCode, &'static str) {
    match e {
        PhotoError::NotAnImage => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "El archivo no es una foto JPEG o PNG. Tome la foto con la cámara del teléfono o de la tableta.",
        ),
        PhotoError::Unreadable => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "No pudimos abrir la foto: el archivo parece dañado o incompleto. Tome otra.",
        ),
        PhotoError::TooLarge => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "La foto tiene demasiados píxeles para revisarla. Tómela de nuevo con menor resolución.",
        ),
        PhotoError::NoCode => {
            (StatusCode::UNPROCESSABLE_ENTITY, "No encontramos un código QR en la foto. Acérquese y evite reflejos.")
        }
        PhotoError::TimedOut => (
            StatusCode::SERVICE_UNAVAILABLE,
            "La foto tardó demasiado en revisarse. Intente de nuevo con una foto más cercana al código.",
        ),
    }
}

/// `POST /personal/caja/verificar/foto` (cajero, tesorero): a photo of the
/// receipt's QR code (multipart: the file `foto` and the session's `csrf`
/// token), for a phone or tablet whose browser cannot read codes itself.
/// The code is read on the server (`desk_photo`), then the browser is sent
/// (303) to the desk with it, for the same verdict as the scanner's URL. A file that is not a JPEG or PNG
/// by its bytes: 415; over [`MAX_PHOTO_BYTES`]: 413 (the error shape); no
/// code found: 422; a code that is not a receipt's: the desk's message for
/// such a URL.
/// The longest code read from a photo that is passed on in the desk's URL
/// (a receipt's is about 150 characters).
const MAX_READ_CODE: usize = 1024;

#[tracing::instrument(name = "staff.desk_photo", skip_all)]
pub async fn desk_photo(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    body: MultipartBody,
) -> Response {
    if let Some(refused) = staff.refuse_unless(may::VERIFY_RECEIPTS) {
        return refused;
    }
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_PHOTO_BODY_BYTES as u64) {
        return photo_too_large().into_response();
    }
    let upload = match body.open() {
        Some(mut multipart) => read_photo_upload(&mut multipart).await,
        None => Err(MultipartBody::refusal().with_back(DESK)),
    };
    let upload = match upload {
        Ok(upload) => upload,
        Err(e) => return e.into_response(),
    };
    if !state.csrf_key.accepts(&staff.session_id, upload.csrf.as_deref().unwrap_or("")) {
        return AppError::csrf().with_back(DESK).into_response();
    }
    let refused = |status: StatusCode, why: &str| {
        desk_document(&state, &uri, &headers, &staff, "", staff_pages::DeskShown::Refused(why.into()), status)
    };
    let photo = match upload.photo {
        Some(photo) if !photo.is_empty() => photo,
        _ => return refused(StatusCode::UNPROCESSABLE_ENTITY, "Elija o tome una foto del código QR del recibo."),
    };
    let size = photo.len();
    match desk_photo::read_qr_in_background(photo).await {
        Ok(text) if text.len() <= MAX_READ_CODE => {
            // What was read, checked by the desk's own GET: reloading the
            // verdict never posts the photo again.
            tracing::info!(size, "desk photo: code read");
            let url: String = form_urlencoded::byte_serialize(text.as_bytes()).collect();
            (StatusCode::SEE_OTHER, [(header::LOCATION, format!("{DESK}?url={url}"))]).into_response()
        }
        Ok(text) => {
            tracing::info!(size, "desk photo: a long code read");
            desk_page(&state, &uri, &headers, &staff, &text, None, StatusCode::OK).await
        }
        Err(e) => {
            tracing::info!(size, error = %e, "desk photo: no code read");
            let (status, why) = photo_refusal(&e);
            refused(status, why)
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct RedeemForm {
    #[serde(default)]
    pub csrf: First<String>,
    #[serde(default)]
    pub folio: First<String>,
    #[serde(default)]
    pub s: First<String>,
    /// `permiso` for a permit; a receipt otherwise.
    #[serde(default)]
    pub tipo: First<String>,
}

/// Where a redemption happened: the desk's address.
fn place(ip: std::net::IpAddr) -> String {
    format!("ventanilla {ip}")
}

/// `POST /personal/caja/canjear` (cajero): "Entregar / canjear", once.
/// 200 redeemed now; 409 redeemed before (when, where, by whom); 422 not
/// an authentic receipt.
#[tracing::instrument(name = "staff.redeem", skip_all)]
pub async fn redeem(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    staff: Staff,
    Form(form): Form<RedeemForm>,
) -> Response {
    if let Some(refused) = staff.refuse_unless(may::REDEEM) {
        return refused;
    }
    if !state.csrf_key.accepts(&staff.session_id, form.csrf.as_deref().unwrap_or("")) {
        return AppError::csrf().with_back("/personal/caja/verificar").into_response();
    }
    let folio = form.folio.into_inner().unwrap_or_default();
    let s = form.s.into_inner().unwrap_or_default();
    if form.tipo.as_deref() == Some("permiso") {
        return redeem_permit(&state, &uri, &headers, &staff, &folio, &s).await;
    }
    let outcome = match app::receipts::redeem(&state, &folio, &s, &staff.actor(), &staff.display(), &place(ip)).await {
        Ok(o) => o,
        Err(_) => return AppError::unavailable().into_response(),
    };
    let (note, status) = match outcome {
        app::store::RedeemOutcome::Redeemed(_) => (staff_pages::DeskNote::RedeemedNow, StatusCode::OK),
        app::store::RedeemOutcome::AlreadyRedeemed(_) => (staff_pages::DeskNote::AlreadyRedeemed, StatusCode::CONFLICT),
        app::store::RedeemOutcome::NotRedeemable => {
            (staff_pages::DeskNote::NotRedeemable, StatusCode::UNPROCESSABLE_ENTITY)
        }
    };
    let scanned = format!("{}/v/{}?s={}", state.public_url.trim_end_matches('/'), folio.trim(), s.trim());
    desk_page(&state, &uri, &headers, &staff, &scanned, Some(note), status).await
}

/// "Entregar / canjear" of a permit: authentic (valid, not a
/// demonstration's), its code its own, handed over once.
async fn redeem_permit(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    staff: &Staff,
    folio: &str,
    s: &str,
) -> Response {
    let check = match app::permits::check_permit(state, folio, s).await {
        Ok(c) => c,
        Err(_) => return AppError::unavailable().into_response(),
    };
    let scanned = format!("{}/p/{}?s={}", state.public_url.trim_end_matches('/'), check.folio, s.trim());
    // A demonstration permit is handed over only on the demonstration
    // portal that issued it (its payments are demonstrations too).
    let redeemable = check.verdict == app::permits::PermitVerdict::Authentic
        || (state.demo_payments && check.verdict == app::permits::PermitVerdict::Demo);
    let (note, status) = match (redeemable, &check.permit) {
        (true, Some(p)) => {
            match state.store.redeem_permit(&p.folio, &staff.actor(), &staff.display(), state.clock.real_now()).await {
                Ok(true) => (staff_pages::DeskNote::RedeemedNow, StatusCode::OK),
                Ok(false) => (staff_pages::DeskNote::AlreadyRedeemed, StatusCode::CONFLICT),
                Err(_) => return AppError::unavailable().into_response(),
            }
        }
        _ => (staff_pages::DeskNote::NotRedeemable, StatusCode::UNPROCESSABLE_ENTITY),
    };
    desk_page(state, uri, headers, staff, &scanned, Some(note), status).await
}

/// The admin page, with an optional notice (`ok`, text) and status.
async fn admin_page(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    staff: &Staff,
    notice: Option<(bool, String)>,
    status: StatusCode,
) -> Response {
    let people = match state.store.all_staff().await {
        Ok(p) => p,
        Err(_) => return AppError::unavailable().into_response(),
    };
    page(status, staff_pages::admin_document(ctx(state, uri, headers), &staff.csrf_token(state), people, notice))
}

/// `GET /personal/admin/personal` (admin)
pub async fn admin(State(state): State<AppState>, uri: Uri, headers: HeaderMap, staff: Staff) -> Response {
    if let Some(refused) = staff.refuse_unless(may::MANAGE_STAFF) {
        return refused;
    }
    admin_page(&state, &uri, &headers, &staff, None, StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
pub struct StaffForm {
    #[serde(default)]
    pub csrf: First<String>,
    #[serde(default)]
    pub usuario: First<String>,
    #[serde(default)]
    pub nombre: First<String>,
    /// Every checked role (`rol=cajero&rol=tesorero`).
    #[serde(default)]
    pub rol: Vec<String>,
    #[serde(default)]
    pub contrasena: First<String>,
    /// "1" to enable, "0" to disable.
    #[serde(default)]
    pub activa: First<String>,
}

/// An admin's form: the role, then the session's token.
fn admin_guard(state: &AppState, staff: &Staff, form: &StaffForm) -> Option<Response> {
    if let Some(refused) = staff.refuse_unless(may::MANAGE_STAFF) {
        return Some(refused);
    }
    if !state.csrf_key.accepts(&staff.session_id, form.csrf.as_deref().unwrap_or("")) {
        return Some(AppError::csrf().with_back("/personal/admin/personal").into_response());
    }
    None
}

/// `POST /personal/admin/personal` (admin): a new account.
#[tracing::instrument(name = "staff.admin_create", skip_all)]
pub async fn admin_create(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    Form(form): Form<StaffForm>,
) -> Response {
    if let Some(refused) = admin_guard(&state, &staff, &form) {
        return refused;
    }
    let refused = |text: String| (Some((false, text)), StatusCode::UNPROCESSABLE_ENTITY);
    let (notice, status) = match (
        app::domain::staff::Username::parse(form.usuario.as_deref().unwrap_or("")),
        app::domain::staff::parse_roles(form.rol.iter().map(String::as_str)),
    ) {
        (Err(e), _) | (_, Err(e)) => refused(format!("No se creó la cuenta: {e}.")),
        (Ok(username), Ok(roles)) => {
            let name = form.nombre.as_deref().unwrap_or("").to_string();
            let password = form.contrasena.into_inner().unwrap_or_default();
            match app::staff::create_staff(
                &state.store,
                &username,
                &name,
                roles,
                password,
                &staff.actor(),
                state.clock.real_now(),
            )
            .await
            {
                Ok(_) => (Some((true, format!("Cuenta «{username}» creada."))), StatusCode::CREATED),
                Err(e) => refused(format!("No se creó la cuenta: {e}.")),
            }
        }
    };
    admin_page(&state, &uri, &headers, &staff, notice, status).await
}

/// `POST /personal/admin/personal/{usuario}/{roles|estado|contrasena|2fa}`
/// (admin): change an account (`2fa`: reset its second factor, a lost
/// phone). An admin cannot take away their own admin role nor disable
/// themselves (the treasury would be left without one).
#[tracing::instrument(name = "staff.admin_change", skip_all, fields(what))]
async fn admin_change(
    state: AppState,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    username: String,
    what: &str,
    form: StaffForm,
) -> Response {
    if let Some(refused) = admin_guard(&state, &staff, &form) {
        return refused;
    }
    let target = match app::domain::staff::Username::parse(&username) {
        Ok(u) => state.store.staff_by_username(&u).await,
        Err(_) => Ok(None),
    };
    let target = match target {
        Ok(Some(t)) => t,
        Ok(None) => {
            return AppError::new(404, "not_found", "No existe esa cuenta.", "No such account.").into_response()
        }
        Err(_) => return AppError::unavailable().into_response(),
    };
    let myself = target.id == staff.user.id;
    let change = match what {
        "roles" => match app::domain::staff::parse_roles(form.rol.iter().map(String::as_str)) {
            Ok(roles) if myself && !roles.contains(Role::Admin) => {
                Err("No puede quitarse a sí mismo el rol de administrador.".to_string())
            }
            Ok(roles) => Ok(app::store::StaffChange::Roles(roles)),
            Err(e) => Err(e.to_string()),
        },
        "estado" => match form.activa.as_deref() {
            Some("1") => Ok(app::store::StaffChange::Active(true)),
            Some("0") if myself => Err("No puede desactivar su propia cuenta.".to_string()),
            Some("0") => Ok(app::store::StaffChange::Active(false)),
            _ => Err("Indique si la cuenta queda activa o desactivada.".to_string()),
        },
        "contrasena" => {
            let password = form.contrasena.into_inner().unwrap_or_default();
            match app::domain::staff::check_new_password(&password, &target.username) {
                Ok(()) => Ok(app::store::StaffChange::Password(app::staff::hash_password(password).await)),
                Err(e) => Err(e.to_string()),
            }
        }
        "2fa" if !target.totp_enabled() => Err("esa cuenta no tiene activada la verificación en dos pasos".to_string()),
        "2fa" => Ok(app::store::StaffChange::ResetTotp),
        _ => return AppError::new(404, "not_found", "No existe esa acción.", "No such action.").into_response(),
    };
    let (notice, status) = match change {
        Err(why) => (Some((false, format!("No se hizo el cambio: {why}."))), StatusCode::UNPROCESSABLE_ENTITY),
        Ok(change) => {
            match state.store.change_staff(target.id, &change, &staff.actor(), state.clock.real_now()).await {
                Ok(()) => (Some((true, format!("Cuenta «{}» actualizada.", target.username))), StatusCode::OK),
                Err(_) => return AppError::unavailable().into_response(),
            }
        }
    };
    admin_page(&state, &uri, &headers, &staff, notice, status).await
}

/// `POST /personal/admin/personal/{usuario}/roles`
pub async fn admin_roles(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    crate::http::extract::PathParam(username): crate::http::extract::PathParam,
    Form(form): Form<StaffForm>,
) -> Response {
    admin_change(state, uri, headers, staff, username, "roles", form).await
}

/// `POST /personal/admin/personal/{usuario}/estado`
pub async fn admin_state(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    crate::http::extract::PathParam(username): crate::http::extract::PathParam,
    Form(form): Form<StaffForm>,
) -> Response {
    admin_change(state, uri, headers, staff, username, "estado", form).await
}

/// `POST /personal/admin/personal/{usuario}/contrasena`
pub async fn admin_password(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    crate::http::extract::PathParam(username): crate::http::extract::PathParam,
    Form(form): Form<StaffForm>,
) -> Response {
    admin_change(state, uri, headers, staff, username, "contrasena", form).await
}

/// `POST /personal/admin/personal/{usuario}/2fa`: resets the second factor
/// (`staff.totp_reset`; the account's sessions end).
pub async fn admin_totp(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    staff: Staff,
    crate::http::extract::PathParam(username): crate::http::extract::PathParam,
    Form(form): Form<StaffForm>,
) -> Response {
    admin_change(state, uri, headers, staff, username, "2fa", form).await
}
