//! Alcohol licences over HTTP: a business finds its licence by number and
//! RFC and, from its page, renews it or asks for a change of address or
//! extra hours. Each of these is a permit request (`server::permits` shows
//! it, the revisor's queue reviews it, the order pays it, the permit is its
//! certificate).
//!
//! | route | who |
//! |-------|-----|
//! | `GET /licencias` | anyone; with `licencia` and `rfc` it is rate-limited like a lookup |
//! | `POST /licencias/refrendo`, `…/domicilio`, `…/horas-extra` | anyone with the number and the RFC (CSRF; rate-limited like orders) |
//!
//! A wrong RFC and an unknown number get the same answer: the page never
//! tells whether a licence exists. A request filed here opens at once in
//! the browser that filed it (the access cookie of `server::permits`).

use app::domain::licences::parse_licence_number;
use app::domain::rfc::Rfc;
use app::error::AppError;
use app::i18n::Lang;
use app::licences::{
    extra_hours_offered, find_licence, giro_name, prepare_address_change, prepare_extra_hours, prepare_renewal,
    renewal_debts, renewal_quote, Contact, ExtraHoursForm, PreparedLicenceRequest, RenewalForm,
};
use app::permits::FieldError;
use app::state::AppState;
use app::store::{Licence, LicenceDebt, LicenceRefusal};
use app::ui::licence_pages::{self, DebtRow, LicenceView, Typed};
use app::ui::permit_pages::rate_text;
use app::ui::PageContext;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::Datelike;
use serde::Deserialize;

use crate::caja::{see_other, text, unavailable};
use crate::http::extract::{CsrfForm, First, Query};
use crate::permits::{access_cookie, html, session};
use crate::staff::ctx;

/// The answer to an unknown number and to a wrong RFC alike.
const NOT_FOUND_ES: &str = "No encontramos una licencia con ese número y ese RFC. Revise los dos datos tal como \
                            aparecen en su licencia.";
const NOT_FOUND_EN: &str = "We could not find a licence with that number and that RFC. Check both as they are \
                            printed on your licence.";

/// How many of a licence's requests its page lists.
const HISTORY: i64 = 20;

#[derive(Debug, Deserialize)]
pub struct LicenceQuery {
    #[serde(default)]
    pub licencia: First<String>,
    #[serde(default)]
    pub rfc: First<String>,
}

/// The licence asked for, or the lookup page that refuses (400 for what
/// was not typed right, 404 for a number and RFC that do not match).
async fn licence_of(state: &AppState, c: PageContext, number: &str, rfc: &str) -> Result<(Licence, Rfc), Response> {
    let lang = c.lang;
    let refuse = |status: StatusCode, es: &str, en: &str| {
        let why = lang.pick(es, en).to_string();
        html(status, licence_pages::lookup_document(c.clone(), number, rfc, Some(why)), &[])
    };
    if parse_licence_number(number).is_none() {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "Escriba el número de licencia como aparece impreso: letras, números y guiones.",
            "Type the licence number as it is printed: letters, digits and hyphens.",
        ));
    }
    let rfc = match Rfc::parse(rfc) {
        Ok(r) => r,
        Err(e) => return Err(refuse(StatusCode::BAD_REQUEST, e.message_es(), e.message_en())),
    };
    match find_licence(&state.store, number, &rfc).await {
        Ok(Some(l)) => Ok((l, rfc)),
        Ok(None) => {
            tracing::info!("licence lookup: no licence with that number and RFC");
            Err(refuse(StatusCode::NOT_FOUND, NOT_FOUND_ES, NOT_FOUND_EN))
        }
        Err(e) => Err(unavailable(e)),
    }
}

fn debt_rows(state: &AppState, debts: &[LicenceDebt], lang: Lang) -> Vec<DebtRow> {
    let m = &state.municipality;
    debts
        .iter()
        .map(|d| DebtRow {
            account: d.charge.account.clone(),
            concept: m
                .concept(&d.charge.concept)
                .map_or_else(|| d.charge.concept.clone(), |c| lang.pick(&c.name_es, &c.name_en).into()),
            period: d.charge.period.clone(),
            due_date: d.charge.due_date,
            principal: d.charge.principal.display_mxn(),
            earlier_renewal: d.earlier_renewal,
        })
        .collect()
}

/// Everything the licence's page shows, in `lang`; `debts` when already
/// known (a refusal that found them in its own transaction).
#[allow(clippy::too_many_arguments)]
async fn view_of(
    state: &AppState,
    lang: Lang,
    licence: Licence,
    rfc: &Rfc,
    errors: Vec<FieldError>,
    typed: Typed,
    refusal: Option<String>,
    debts: Option<Vec<LicenceDebt>>,
) -> Result<LicenceView, Response> {
    let m = &state.municipality;
    let today = state.clock.today();
    let year = today.year();
    let uma = m.uma_table().map_err(unavailable)?;
    let requests = state.store.licence_requests(licence.id, HISTORY).await.map_err(unavailable)?;
    let live = |r: &&app::store::PermitRequest| {
        r.licence.as_ref().and_then(|k| k.year) == Some(year) && !r.status.ended_without_permit()
    };
    let renewal = requests.iter().find(live).cloned();
    // This year's renewal's own fee is not a debt to pay before it.
    let leave_out: Vec<i64> = renewal.iter().filter_map(|r| r.account_id).collect();
    let debts = match debts {
        Some(d) => d,
        None => renewal_debts(&state.store, m, &licence, today, &leave_out).await.map_err(unavailable)?,
    };
    let address_quote = app::domain::licences::licence_tariff(
        m,
        app::domain::licences::LicenceUse::AddressChange,
        &licence.giro,
        today,
    )
    .and_then(|t| {
        app::domain::tariffs::quote(&m.tariff_schedules, &uma, &t.code, rust_decimal::Decimal::ONE, today, None).ok()
    });
    let extra_hours = extra_hours_offered(m, &licence.giro, today)
        .map(|t| rate_text(t, lang))
        .map_err(|e| lang.pick(&e.message_es(), &e.message_en()).to_string());
    Ok(LicenceView {
        rfc: rfc.as_str().to_string(),
        giro_name: giro_name(m, &licence.giro),
        status_label: lang.pick(licence.status.label_es(), licence.status.label_en()).to_string(),
        year,
        renewal_quote: renewal_quote(m, &uma, &licence.giro, today)
            .map_err(|e| lang.pick(&e.message_es(), &e.message_en()).to_string()),
        debts: debt_rows(state, &debts, lang),
        renewal,
        history: requests,
        giros: m.giros.iter().map(|g| (g.code.clone(), g.name.clone())).collect(),
        address_quote,
        extra_hours,
        errors,
        typed,
        refusal,
        licence,
    })
}

/// `GET /licencias`: the lookup form, or (with `licencia` and `rfc`) the
/// licence's page.
#[tracing::instrument(name = "licences.page", skip_all)]
pub async fn page(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<LicenceQuery>,
) -> Response {
    let (session_id, set) = session(&state, &headers);
    let cookies: Vec<String> = set.into_iter().collect();
    let c = ctx(&state, &uri, &headers);
    let (number, rfc) = (text(&q.licencia), text(&q.rfc));
    if number.trim().is_empty() && rfc.trim().is_empty() {
        return html(StatusCode::OK, licence_pages::lookup_document(c, "", "", None), &cookies);
    }
    let (licence, rfc) = match licence_of(&state, c.clone(), &number, &rfc).await {
        Ok(x) => x,
        Err(r) => return with_cookies(r, &cookies),
    };
    let csrf = state.csrf_key.token_for(&session_id);
    match view_of(&state, c.lang, licence, &rfc, vec![], Typed::None, None, None).await {
        Ok(view) => html(StatusCode::OK, licence_pages::licence_document(c, &csrf, view), &cookies),
        Err(r) => r,
    }
}

fn with_cookies(mut response: Response, cookies: &[String]) -> Response {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

/// The fields every form of the licence's page sends.
#[derive(Debug, Deserialize)]
pub struct LicenceFormBody {
    #[serde(default)]
    pub licencia: First<String>,
    #[serde(default)]
    pub rfc: First<String>,
    #[serde(default)]
    pub correo: First<String>,
    #[serde(default)]
    pub telefono: First<String>,
    #[serde(default)]
    pub giro: First<String>,
    #[serde(default)]
    pub domicilio: First<String>,
    #[serde(default)]
    pub horario: First<String>,
    #[serde(default)]
    pub fecha: First<String>,
    #[serde(default)]
    pub horas: First<String>,
}

impl LicenceFormBody {
    fn contact(&self) -> Contact {
        Contact { email: text(&self.correo), phone: text(&self.telefono) }
    }
}

/// What a form of the licence's page asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ask {
    Renewal,
    Address,
    ExtraHours,
}

async fn file(state: AppState, uri: Uri, headers: HeaderMap, form: LicenceFormBody, ask: Ask) -> Response {
    let c = ctx(&state, &uri, &headers);
    let (licence, rfc) = match licence_of(&state, c.clone(), &text(&form.licencia), &text(&form.rfc)).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    // CsrfForm accepted the token: the browser has its session.
    let Some(session_id) = state.cookies.session_of(&headers) else { return AppError::csrf().into_response() };
    let csrf = state.csrf_key.token_for(&session_id);
    let today = state.clock.today();
    let m = &state.municipality;
    let uma = match m.uma_table() {
        Ok(u) => u,
        Err(e) => return unavailable(e),
    };
    let typed = match ask {
        Ask::Renewal => Typed::Renewal {
            email: text(&form.correo),
            phone: text(&form.telefono),
            giro: text(&form.giro),
            address: text(&form.domicilio),
            hours: text(&form.horario),
        },
        Ask::Address => {
            Typed::Address { email: text(&form.correo), phone: text(&form.telefono), address: text(&form.domicilio) }
        }
        Ask::ExtraHours => Typed::ExtraHours {
            email: text(&form.correo),
            phone: text(&form.telefono),
            day: text(&form.fecha),
            hours: text(&form.horas),
            schedule: text(&form.horario),
        },
    };
    let prepared: Result<PreparedLicenceRequest, Vec<FieldError>> = match ask {
        Ask::Renewal => {
            let f = RenewalForm {
                contact: form.contact(),
                giro: text(&form.giro),
                address: text(&form.domicilio),
                hours: text(&form.horario),
            };
            prepare_renewal(m, &uma, &licence, &f, today)
        }
        Ask::Address => prepare_address_change(m, &uma, &licence, &form.contact(), &text(&form.domicilio), today),
        Ask::ExtraHours => {
            let f = ExtraHoursForm {
                contact: form.contact(),
                day: text(&form.fecha),
                hours: text(&form.horas),
                schedule: text(&form.horario),
            };
            prepare_extra_hours(m, &uma, &licence, &f, today)
        }
    };
    let refuse = |status: StatusCode, view: Result<LicenceView, Response>| match view {
        Ok(view) => html(status, licence_pages::licence_document(c.clone(), &csrf, view), &[]),
        Err(r) => r,
    };
    let prepared = match prepared {
        Ok(p) => p,
        Err(errors) => {
            let view = view_of(&state, c.lang, licence, &rfc, errors, typed, None, None).await;
            return refuse(StatusCode::UNPROCESSABLE_ENTITY, view);
        }
    };
    let check = prepared.renewal.then(|| app::licences::paid_up_check(m, &licence, today));
    let filed = state
        .store
        .file_licence_request(&prepared.request, check.as_ref(), prepared.approval.as_ref(), state.clock.now(), today)
        .await;
    let request = match filed {
        Ok(Ok(r)) => r,
        Ok(Err(refusal)) => {
            tracing::info!(licence = %licence.number, refusal = %refusal, "licence request refused");
            let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::CONFLICT);
            let debts = match &refusal {
                LicenceRefusal::Debts(d) => Some(d.clone()),
                _ => None,
            };
            let why = app::licences::refusal_message(&refusal, c.lang);
            let view = view_of(&state, c.lang, licence, &rfc, vec![], Typed::None, Some(why), debts).await;
            return refuse(status, view);
        }
        Err(e) => return unavailable(e),
    };
    tracing::info!(number = %request.number, licence = %licence.number, "licence request filed");
    let aviso = if request.status == app::domain::permits::RequestStatus::Approved { "refrendo" } else { "enviada" };
    let mut response = see_other(&format!("/tramites/solicitud/{}?aviso={aviso}", request.token));
    if let Ok(v) = HeaderValue::from_str(&access_cookie(&state, &session_id, &request.token)) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// `POST /licencias/refrendo`: this year's renewal (unchanged: straight to
/// payment; with changes: to review).
#[tracing::instrument(name = "licences.renew", skip_all)]
pub async fn renew(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<LicenceFormBody>,
) -> Response {
    file(state, uri, headers, form, Ask::Renewal).await
}

/// `POST /licencias/domicilio`: a change of address, to review.
#[tracing::instrument(name = "licences.address", skip_all)]
pub async fn change_address(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<LicenceFormBody>,
) -> Response {
    file(state, uri, headers, form, Ask::Address).await
}

/// `POST /licencias/horas-extra`: extra hours on a day, Monday to
/// Saturday, to review.
#[tracing::instrument(name = "licences.extra_hours", skip_all)]
pub async fn extra_hours(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<LicenceFormBody>,
) -> Response {
    file(state, uri, headers, form, Ask::ExtraHours).await
}
