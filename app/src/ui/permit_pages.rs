//! Permit requests' pages, rendered on the server as whole documents by
//! `server::permits` (no WebAssembly; every form is a plain form that works
//! without JavaScript):
//!
//! * the citizen's, in the visitor's language (`PageContext::lang`): the
//!   request form of a procedure (with its live quote), the proof asked
//!   before a request opens (e-mail or RFC), the request's page (state
//!   explained, timeline, documents, fees, the correction form, the payment
//!   button, the permit) and the permit's check (`/p/{folio}`);
//! * the revisor's, in Spanish like every staff page: the review queue
//!   (oldest first, working days left) and a request's review (documents,
//!   quote, the decisions).
//!
//! What the law and the treasury's file say (tariff, procedure and giro
//! names, a permit's measure and description) stays in Spanish.

#![cfg(feature = "ssr")]

use leptos::prelude::*;

use super::caja_pages::hidden_csrf;
use super::{format, PageContext};
use crate::domain::money::Centavos;
use crate::domain::permits::{RequestAction, RequestLine, RequestStatus};
use crate::domain::procedures::Procedure;
use crate::domain::tariffs::{Rate, Tariff, TariffQuote};
use crate::i18n::Lang;
use crate::permits::{FieldError, RequestForm, ReviewClock};
use crate::store::{Permit, PermitDocument, PermitRequest, RequestEvent};

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A whole document: `body` inside the site layout, in the visitor's language.
pub(crate) fn document(ctx: PageContext, title: &str, body: impl FnOnce() -> AnyView + Send + 'static) -> String {
    let lang = ctx.lang.html_lang();
    let owner = Owner::new();
    let html = owner.with(|| {
        provide_context(ctx);
        view! { <super::layout::Layout>{body()}</super::layout::Layout> }.to_html()
    });
    format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"/>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\
         <meta name=\"color-scheme\" content=\"light\"/><meta name=\"robots\" content=\"noindex\"/>\
         <link rel=\"stylesheet\" href=\"/pkg/recauda.css\"/><link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\"/>\
         <title>{} — Recauda</title></head><body>{html}</body></html>",
        escape(title)
    )
}

/// How a tariff's rate reads ("4 UMA por m² o fracción, al año").
pub fn rate_text(t: &Tariff, lang: Lang) -> String {
    let unit = crate::i18n::unit_label(lang, t.unit);
    match (&t.rate, lang) {
        (Rate::Uma(f), _) => format!("{} UMA {unit}", f.normalize()),
        (Rate::UmaRange { min, max }, Lang::Es) => {
            format!("de {} a {} UMA {unit} (lo fija el personal)", min.normalize(), max.normalize())
        }
        (Rate::UmaRange { min, max }, Lang::En) => {
            format!("from {} to {} UMA {unit} (set by the staff)", min.normalize(), max.normalize())
        }
        (Rate::Percent(p), _) => format!("{} % {unit}", p.normalize()),
        (Rate::NotAuthorized(_), _) => lang.pick("No se autoriza", "Not authorised").into(),
    }
}

/// The form a field belongs to: the page's language and the prefix of its
/// ids. A page with one form gives its fields their names as ids (no
/// prefix); a page with several (the licence's) prefixes each form's ids,
/// so no id repeats and every label and error link finds its own input.
/// The fields' names, which the server reads, never change.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FormIds {
    pub lang: Lang,
    pub prefix: &'static str,
}

impl FormIds {
    /// The form of a page that has only one.
    pub(crate) fn single(lang: Lang) -> FormIds {
        FormIds { lang, prefix: "" }
    }

    /// The id of the field named `name` in this form.
    pub(crate) fn id(self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}-{name}", self.prefix)
        }
    }
}

/// The error summary of a form: each problem links to its field.
pub(crate) fn summary(errors: &[FieldError], form: FormIds) -> impl IntoView {
    (!errors.is_empty()).then(|| {
        let items = errors
            .iter()
            .map(|e| {
                let href = format!("#{}", form.id(&e.field));
                view! { <li><a href=href>{e.message(form.lang).to_string()}</a></li> }
            })
            .collect_view();
        view! {
            <div class="error-summary" role="alert" tabindex="-1" autofocus data-testid="error-summary"
                aria-labelledby="error-summary-title">
                <h2 id="error-summary-title">{form.lang.pick("Revise lo siguiente", "Please check the following")}</h2>
                <ul>{items}</ul>
            </div>
        }
    })
}

pub(crate) fn field_error(errors: &[FieldError], field: &str, lang: Lang) -> Option<String> {
    errors.iter().find(|e| e.field == field).map(|e| e.message(lang).to_string())
}

/// A labelled text input with its help and error: named `name`, its id
/// the form's (see [`FormIds`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn input(
    errors: &[FieldError],
    form: FormIds,
    name: &'static str,
    label: &'static str,
    help: &'static str,
    kind: &'static str,
    value: &str,
    required: bool,
    mode: &'static str,
) -> impl IntoView {
    let id = form.id(name);
    let error = field_error(errors, name, form.lang);
    let described = match (help.is_empty(), error.is_some()) {
        (false, true) => format!("{id}-help {id}-error"),
        (false, false) => format!("{id}-help"),
        (true, true) => format!("{id}-error"),
        (true, false) => String::new(),
    };
    let optional = form.lang.pick(" (opcional)", " (optional)");
    view! {
        <label for=id.clone()>{label}{(!required).then(|| view! { <span class="muted">{optional}</span> })}</label>
        {(!help.is_empty()).then(|| view! { <p id=format!("{id}-help") class="help">{help}</p> })}
        {error.clone().map(|e| view! { <p id=format!("{id}-error") class="field-error">{e}</p> })}
        <input id=id name=name type=kind value=value.to_string() required=required inputmode=mode
            aria-invalid=error.is_some().to_string() aria-describedby=described
            data-testid=format!("field-{name}")/>
    }
}

pub(crate) fn quote_breakdown(quotes: &[TariffQuote], lang: Lang) -> impl IntoView {
    let total: Centavos = quotes.iter().map(|q| q.fee).sum();
    let rows = quotes
        .iter()
        .map(|q| {
            let (factor, charged, given) =
                (q.factor.normalize(), q.quantity_charged.normalize(), q.quantity_given.normalize());
            let formula = match (&q.uma, lang) {
                (Some(u), Lang::Es) => format!(
                    "{factor} UMA × {charged} × ${} (UMA del {} al {})",
                    u.daily_value,
                    u.valid_from.format("%d/%m/%Y"),
                    u.valid_until
                        .map_or_else(|| "día de hoy en adelante".to_string(), |d| d.format("%d/%m/%Y").to_string()),
                ),
                (Some(u), Lang::En) => match u.valid_until {
                    Some(d) => format!(
                        "{factor} UMA × {charged} × ${} (UMA of {} to {})",
                        u.daily_value,
                        format::date(u.valid_from, lang),
                        format::date(d, lang)
                    ),
                    None => format!(
                        "{factor} UMA × {charged} × ${} (UMA since {})",
                        u.daily_value,
                        format::date(u.valid_from, lang)
                    ),
                },
                (None, _) => format!("{factor} % × ${}", q.quantity_charged),
            };
            let given = (q.quantity_given != q.quantity_charged).then(|| match lang {
                Lang::Es => {
                    format!("Cantidad indicada: {given}; se cobra {charged} (la fracción cuenta como unidad completa).")
                }
                Lang::En => {
                    format!("Quantity given: {given}; {charged} is charged (a fraction counts as a whole unit).")
                }
            });
            view! {
                <div class="quote-line" data-testid="quote-line" data-tariff=q.tariff.clone()>
                    <dt>{q.name.clone()}<br/><small class="muted">{q.legal_basis.clone()}</small></dt>
                    <dd>
                        <span data-testid="quote-fee">{q.fee.display_mxn()}</span><br/>
                        <small data-testid="quote-formula">{formula}</small>
                        {given.map(|g| view! { <br/><small data-testid="quote-quantity">{g}</small> })}
                    </dd>
                </div>
            }
        })
        .collect_view();
    view! {
        <dl class="totals quote" data-testid="quote">
            {rows}
            <div class="grand"><dt>"Total"</dt><dd data-testid="quote-total">{total.display_mxn()}</dd></div>
        </dl>
    }
}

/// What the request form shows after "Calcular costo" or a refusal.
pub struct FormState {
    pub values: RequestForm,
    pub errors: Vec<FieldError>,
    /// The quote computed ("Calcular costo"), if any.
    pub quotes: Vec<TariffQuote>,
    /// A range tariff was chosen: its fee is set at review.
    pub staff_sets: bool,
}

/// `GET /tramites/{slug}/solicitar`: the request form.
pub fn request_form_document(
    ctx: PageContext,
    csrf: &str,
    procedure: &Procedure,
    tariffs: Vec<Tariff>,
    has_sales: bool,
    state: FormState,
) -> String {
    let csrf = csrf.to_string();
    let p = procedure.clone();
    let lang = ctx.lang;
    let form = FormIds::single(lang);
    let title = format!("{}: {}", lang.pick("Solicitar", "Apply"), p.name);
    let heading = title.clone();
    document(ctx, &title, move || {
        let FormState { values: v, errors, quotes, staff_sets } = state;
        let options = tariffs
            .iter()
            .map(|t| {
                let label = format!("{} — {}", t.name, rate_text(t, lang));
                let selected = v.tariff == t.code;
                view! { <option value=t.code.clone() selected=selected>{label}</option> }
            })
            .collect_view();
        let docs = p
            .documents
            .iter()
            .map(|d| {
                let id = format!("doc-{}", d.code);
                let when = match d.when {
                    crate::domain::procedures::DocumentWhen::Always => "",
                    crate::domain::procedures::DocumentWhen::New => {
                        lang.pick(" (solo trámite nuevo)", " (new applications only)")
                    }
                    crate::domain::procedures::DocumentWhen::Renewal => {
                        lang.pick(" (solo refrendo)", " (renewals (refrendo) only)")
                    }
                };
                let optional = if d.required { "" } else { lang.pick(" (si aplica)", " (if applicable)") };
                let error = field_error(&errors, &id, lang);
                view! {
                    <label for=id.clone()>{d.name.clone()}{when}{optional}</label>
                    {error.clone().map(|e| view! { <p id=format!("{id}-error") class="field-error">{e}</p> })}
                    <input id=id.clone() name=id.clone() type="file"
                        accept="application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"
                        aria-invalid=error.is_some().to_string() data-testid=format!("upload-{}", d.code)/>
                }
            })
            .collect_view();
        let quote = (!quotes.is_empty() || staff_sets).then(|| {
            view! {
                <section class="card" aria-labelledby="quote-title" data-testid="form-quote">
                    <h2 id="quote-title">{lang.pick("Costo calculado", "Fee worked out")}</h2>
                    {(!quotes.is_empty()).then(|| quote_breakdown(&quotes, lang))}
                    {staff_sets.then(|| view! {
                        <p data-testid="staff-sets">{lang.pick(
                            "El importe de este concepto lo fija la Dirección de Ingresos dentro del rango de la ley \
                             al revisar su solicitud.",
                            "The revenue office (Dirección de Ingresos) sets this item's amount, within the range the \
                             law allows, when it reviews your request.",
                        )}</p>
                    })}
                    <p class="muted small">{lang.pick(
                        "Los archivos se adjuntan al enviar la solicitud: si calculó el costo, vuelva a elegirlos.",
                        "Files are attached when you send the request: if you worked out the fee, choose them again.",
                    )}</p>
                </section>
            }
        });
        let action = format!("/tramites/{}/enviar", p.slug);
        view! {
            <h1>{heading}</h1>
            <p class="lead">{p.description.clone()}</p>
            {summary(&errors, form)}
            {quote}
            <form method="post" action=action enctype="multipart/form-data" class="card request-form"
                data-testid="request-form">
                {hidden_csrf(&csrf)}
                <fieldset>
                    <legend>{lang.pick("Lo que solicita", "What you are requesting")}</legend>
                    <label for="tarifa">{lang.pick("Concepto", "Item")}</label>
                    {field_error(&errors, "tarifa", lang).map(|e| view! { <p id="tarifa-error" class="field-error">{e}</p> })}
                    <select id="tarifa" name="tarifa" required data-testid="field-tarifa">{options}</select>
                    <fieldset class="inline" id="tipo">
                        <legend>{lang.pick("Tipo de trámite", "Type of application")}</legend>
                        {field_error(&errors, "tipo", lang).map(|e| view! { <p id="tipo-error" class="field-error">{e}</p> })}
                        <label><input type="radio" name="tipo" value="nuevo" checked=!v.renewal/>{lang.pick(" Nuevo", " New")}</label>
                        <label><input type="radio" name="tipo" value="refrendo" checked=v.renewal/>{lang.pick(" Refrendo", " Renewal (refrendo)")}</label>
                    </fieldset>
                    {input(&errors, form, "inicio", lang.pick("Fecha de inicio", "Start date"), lang.pick("AAAA-MM-DD. Los permisos anuales terminan el 31 de diciembre.", "YYYY-MM-DD. Yearly permits end on 31 December."), "date", &v.starts_on, true, "")}
                    {input(&errors, form, "fin", lang.pick("Fecha de término", "End date"), lang.pick("Para eventos y permisos por día; si es un solo día, déjela vacía.", "For events and permits by the day; leave it empty for a single day."), "date", &v.ends_on, false, "")}
                    {input(&errors, form, "horario", lang.pick("Horario", "Hours"), lang.pick("Por ejemplo: 20:00 a 02:00. Para una licencia de alcoholes nueva, el horario de funcionamiento del establecimiento (obligatorio).", "For example: 20:00 to 02:00. For a new alcohol licence, the establishment's opening hours (required)."), "text", &v.hours, false, "")}
                    {input(&errors, form, "ancho", lang.pick("Ancho en metros", "Width in metres"), lang.pick("Para anuncios por metro cuadrado y puestos semifijos.", "For adverts charged by the square metre and semi-fixed stalls."), "text", &v.width, false, "decimal")}
                    {input(&errors, form, "alto", lang.pick("Alto en metros", "Height in metres"), lang.pick("La superficie es ancho × alto; la fracción de metro cuadrado se cobra completa.", "The area is width × height; part of a square metre is charged as a whole one."), "text", &v.height, false, "decimal")}
                    {input(&errors, form, "metros", lang.pick("Metros lineales", "Linear metres"), lang.pick("Para estacionamientos exclusivos y sitios de taxi.", "For reserved parking and taxi stands."), "text", &v.metres, false, "decimal")}
                    {input(&errors, form, "cantidad", lang.pick("Cantidad", "Quantity"), lang.pick("Piezas, meses u horas, según el concepto.", "Items, months or hours, depending on the item requested."), "text", &v.quantity, false, "numeric")}
                    {p.asks_attendance.then(|| input(&errors, form, "asistentes", lang.pick("Asistentes esperados", "Expected attendance"), lang.pick("Cuántas personas espera, aproximadamente.", "About how many people you expect."), "text", &v.attendance, true, "numeric"))}
                    {has_sales.then(|| input(&errors, form, "boletaje", lang.pick("Boletaje vendido (pesos)", "Ticket sales (pesos)"), lang.pick("Si cobra entrada: el impuesto es el 10 % del boletaje.", "If you charge admission: the tax is 10 % of ticket sales."), "text", &v.sales, false, "decimal"))}
                    {input(&errors, form, "ubicacion", lang.pick("Domicilio o ubicación", "Address or place"), lang.pick("Calle, número, colonia o el lugar exacto.", "Street, number, neighbourhood (colonia) or the exact place."), "text", &v.location, true, "")}
                    <label for="descripcion">{lang.pick("Descripción", "Description")}<span class="muted">{lang.pick(" (opcional)", " (optional)")}</span></label>
                    <p id="descripcion-help" class="help">{lang.pick("Qué anuncia, qué evento realiza o qué uso dará al espacio.", "What the advert says, what event you hold or how you will use the space.")}</p>
                    <textarea id="descripcion" name="descripcion" rows="3" maxlength="500"
                        aria-describedby="descripcion-help" data-testid="field-descripcion">{v.description.clone()}</textarea>
                </fieldset>
                <fieldset>
                    <legend>{lang.pick("Solicitante", "Applicant")}</legend>
                    {input(&errors, form, "nombre", lang.pick("Nombre o razón social", "Name or business name"), "", "text", &v.name, true, "")}
                    {input(&errors, form, "correo", lang.pick("Correo electrónico", "E-mail"), lang.pick("Con su correo (o su RFC) y el enlace de la solicitud podrá consultarla.", "With your e-mail (or your RFC) and the request's link you can look it up."), "email", &v.email, true, "email")}
                    {input(&errors, form, "rfc", "RFC", lang.pick("Obligatorio para una licencia de alcoholes nueva: la licencia queda a nombre de este RFC.", "Required for a new alcohol licence: the licence is issued to this RFC."), "text", &v.rfc, false, "")}
                    {input(&errors, form, "telefono", lang.pick("Teléfono", "Phone"), lang.pick("10 dígitos.", "10 digits."), "tel", &v.phone, false, "tel")}
                </fieldset>
                <fieldset>
                    <legend>{lang.pick("Documentos", "Documents")}</legend>
                    <p class="help">{lang.pick("PDF, JPEG o PNG de hasta 5 MB cada uno. Se revisa el contenido del archivo, no su nombre.", "PDF, JPEG or PNG of up to 5 MB each. The file's content is checked, not its name.")}</p>
                    {docs}
                </fieldset>
                <div class="actions">
                    <button type="submit" name="accion" value="cotizar" class="button secondary"
                        data-testid="request-quote" formnovalidate>{lang.pick("Calcular costo", "Work out the fee")}</button>
                    <button type="submit" name="accion" value="enviar" class="button"
                        data-testid="request-submit">{lang.pick("Enviar solicitud", "Send request")}</button>
                </div>
            </form>
        }
        .into_any()
    })
}

/// The proof asked before a request reached by its link opens.
pub fn proof_document(ctx: PageContext, csrf: &str, token: &str, error: bool) -> String {
    let csrf = csrf.to_string();
    let action = format!("/tramites/solicitud/{token}/acceso");
    let lang = ctx.lang;
    document(ctx, lang.pick("Consultar solicitud", "Open a request"), move || {
        view! {
            <h1>{lang.pick("Consultar su solicitud", "Open your request")}</h1>
            {error.then(|| view! {
                <div class="error-summary" role="alert" tabindex="-1" autofocus data-testid="error-summary">
                    <h2>{lang.pick("No coincide", "It does not match")}</h2>
                    <ul><li><a href="#prueba">{lang.pick(
                        "El correo o RFC no es el de esta solicitud.",
                        "That e-mail or RFC is not this request's.",
                    )}</a></li></ul>
                </div>
            })}
            <form method="post" action=action class="card" data-testid="proof-form">
                {hidden_csrf(&csrf)}
                <label for="prueba">{lang.pick("Correo electrónico o RFC del solicitante", "The applicant's e-mail or RFC")}</label>
                <p id="prueba-help" class="help">{lang.pick(
                    "Para proteger sus datos, la solicitud solo se abre con el enlace y el correo o RFC con que se \
                     presentó.",
                    "To protect your data, the request opens only with its link and the e-mail or RFC it was filed \
                     with.",
                )}</p>
                <input id="prueba" name="prueba" type="text" required autocomplete="email"
                    aria-describedby="prueba-help" aria-invalid=error.to_string() data-testid="proof-input"/>
                <button type="submit" class="button" data-testid="proof-submit">{lang.pick("Abrir solicitud", "Open request")}</button>
            </form>
        }
        .into_any()
    })
}

pub(crate) fn status_badge(s: RequestStatus, lang: Lang) -> impl IntoView {
    let class = format!("tag status-{}", s.as_str());
    view! { <span class=class data-testid="request-status" data-status=s.as_str()>{crate::permits::status_label(s, lang)}</span> }
}

fn action_label(action: &str, lang: Lang) -> &'static str {
    match RequestAction::parse(action) {
        Some(a) => lang.pick(a.label_es(), a.label_en()),
        None => lang.pick("Solicitud enviada", "Request sent"),
    }
}

fn timeline(events: &[RequestEvent], tz: chrono_tz::Tz, lang: Lang) -> impl IntoView {
    let items = events
        .iter()
        .map(|e| {
            let when = e.at.with_timezone(&tz).format(lang.pick("%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M")).to_string();
            view! {
                <li data-testid="timeline-step" data-action=e.action.clone()>
                    <strong>{action_label(&e.action, lang)}</strong>" — "<time>{when}</time>
                    {e.comment.clone().map(|c| view! { <p class="comment">{c}</p> })}
                </li>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="timeline-title">
            <h2 id="timeline-title">{lang.pick("Historial", "History")}</h2>
            <ol class="timeline" data-testid="timeline">{items}</ol>
        </section>
    }
}

fn lines_view(lines: &[RequestLine], tariff_name: impl Fn(&str) -> String, lang: Lang) -> impl IntoView {
    let rows = lines
        .iter()
        .map(|l| {
            let fee = l.fee.map_or_else(
                || lang.pick("Lo fija la Dirección al revisar", "Set by the revenue office at review").to_string(),
                Centavos::display_mxn,
            );
            view! {
                <div data-testid="request-line" data-tariff=l.tariff.clone()>
                    <dt>{tariff_name(&l.tariff)}" ("{l.quantity.normalize().to_string()}")"</dt>
                    <dd>{fee}</dd>
                </div>
            }
        })
        .collect_view();
    view! { <dl class="totals">{rows}</dl> }
}

/// What the citizen's request page needs.
pub struct RequestView {
    pub request: PermitRequest,
    pub events: Vec<RequestEvent>,
    pub documents: Vec<PermitDocument>,
    pub procedure: Option<Procedure>,
    pub permit: Option<Permit>,
    /// Names of the tariffs, by code.
    pub tariff_names: Vec<(String, String)>,
    /// The permit's verification URL, once issued.
    pub permit_url: Option<String>,
    pub notice: Option<String>,
    /// The open charges its payment puts on an order (approved requests).
    pub charges: Vec<i64>,
}

/// When a permit is valid ("23/11/2026 al 07/12/2026").
fn validity(starts_on: chrono::NaiveDate, ends_on: chrono::NaiveDate, lang: Lang) -> String {
    format!("{} {} {}", format::date(starts_on, lang), lang.pick("al", "to"), format::date(ends_on, lang))
}

fn scope_view(r: &PermitRequest, lang: Lang) -> impl IntoView {
    let s = &r.scope;
    view! {
        <dl class="owner" data-testid="request-scope">
            {s.licence.clone().map(|n| view! { <div><dt>{lang.pick("Licencia", "Licence")}</dt><dd data-testid="scope-licence">{n}</dd></div> })}
            <div><dt>{lang.pick("Titular", "Holder")}</dt><dd>{s.holder.clone()}</dd></div>
            <div><dt>{lang.pick("Ubicación", "Place")}</dt><dd>{s.location.clone()}</dd></div>
            <div><dt>{lang.pick("Vigencia", "Valid")}</dt><dd data-testid="scope-dates">{validity(s.starts_on, s.ends_on, lang)}</dd></div>
            {(!s.hours.is_empty()).then(|| view! { <div><dt>{lang.pick("Horario", "Hours")}</dt><dd>{s.hours.clone()}</dd></div> })}
            <div><dt>{lang.pick("Medida", "Measure")}</dt><dd data-testid="scope-measure">{s.measure.clone()}</dd></div>
            {s.attendance.map(|n| view! { <div><dt>{lang.pick("Asistentes esperados", "Expected attendance")}</dt><dd data-testid="scope-attendance">{n.to_string()}</dd></div> })}
            {(!s.description.is_empty()).then(|| view! { <div><dt>{lang.pick("Descripción", "Description")}</dt><dd>{s.description.clone()}</dd></div> })}
            {(!s.conditions.is_empty()).then(|| view! { <div><dt>{lang.pick("Condiciones", "Conditions")}</dt><dd>{s.conditions.clone()}</dd></div> })}
        </dl>
    }
}

fn documents_view(docs: &[PermitDocument], href: impl Fn(&PermitDocument) -> String, lang: Lang) -> impl IntoView {
    let items = docs
        .iter()
        .filter(|d| !d.replaced)
        .map(|d| {
            let size = format!("{} KB", (d.size_bytes + 1023) / 1024);
            view! {
                <li data-testid="document" data-code=d.doc_code.clone()>
                    <a href=href(d) download>{d.file_name.clone()}</a>" "<small class="muted">{size}</small>
                    {d.review_comment.clone().map(|c| view! {
                        <p class="field-error" data-testid="document-comment">{format!("{}: {c}", lang.pick("Por corregir", "To correct"))}</p>
                    })}
                </li>
            }
        })
        .collect_view();
    view! { <ul class="documents" data-testid="documents">{items}</ul> }
}

/// `GET /tramites/solicitud/{token}`: the request, for its applicant.
pub fn request_document(ctx: PageContext, csrf: &str, v: RequestView) -> String {
    let csrf = csrf.to_string();
    let tz = super::caja_pages::tz(&ctx);
    let lang = ctx.lang;
    let r = v.request.clone();
    let title = format!("{} {}", lang.pick("Solicitud", "Request"), r.number);
    document(ctx, &title, move || {
        let token = r.token.clone();
        let names = v.tariff_names.clone();
        let name_of = move |code: &str| {
            names.iter().find(|(c, _)| c == code).map_or_else(|| code.to_string(), |(_, n)| n.clone())
        };
        let procedure_name = v.procedure.as_ref().map_or_else(|| r.procedure.clone(), |p| p.name.clone());
        let doc_href = {
            let token = token.clone();
            move |d: &PermitDocument| format!("/tramites/solicitud/{token}/documento?id={}", d.id)
        };
        let correction = (r.status == RequestStatus::NeedsCorrection).then(|| {
            let action = format!("/tramites/solicitud/{token}/corregir");
            let inputs = v
                .procedure
                .as_ref()
                .map(|p| {
                    p.documents_for(r.renewal)
                        .map(|d| {
                            let id = format!("doc-{}", d.code);
                            view! {
                                <label for=id.clone()>{d.name.clone()}</label>
                                <input id=id.clone() name=id type="file"
                                    accept="application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"
                                    data-testid=format!("upload-{}", d.code)/>
                            }
                        })
                        .collect_view()
                })
                .unwrap_or_default();
            view! {
                <section class="card" aria-labelledby="fix-title" data-testid="correction-form">
                    <h2 id="fix-title">{lang.pick("Corregir y volver a enviar", "Correct and send again")}</h2>
                    <form method="post" action=action enctype="multipart/form-data">
                        {hidden_csrf(&csrf)}
                        <p class="help">{lang.pick(
                            "Adjunte solo los documentos que corrige; los demás se conservan.",
                            "Attach only the documents you correct; the others are kept.",
                        )}</p>
                        {inputs}
                        <label for="comentario">{lang.pick("Comentario para la Dirección", "Comment for the revenue office")}<span class="muted">{lang.pick(" (opcional)", " (optional)")}</span></label>
                        <textarea id="comentario" name="comentario" rows="3" maxlength="500"></textarea>
                        <button type="submit" class="button" data-testid="resubmit">{lang.pick("Enviar correcciones", "Send corrections")}</button>
                    </form>
                </section>
            }
        });
        let charges = v.charges.clone();
        let pay = (r.status == RequestStatus::Approved && !charges.is_empty()).then(|| {
            let charges = charges
                .iter()
                .map(|c| view! { <input type="hidden" name="cargo" value=c.to_string()/> })
                .collect_view();
            view! {
                <form method="post" action="/orden" class="pay-form" data-testid="request-pay">
                    {hidden_csrf(&csrf).into_any()}
                    <input type="hidden" name="cuenta" value=r.number.clone()/>
                    {charges}
                    <button type="submit" class="button" data-testid="request-pay-button">{lang.pick("Pagar el derecho", "Pay the fee")}</button>
                </form>
            }
        });
        let cancel = matches!(
            r.status,
            RequestStatus::Submitted
                | RequestStatus::InReview
                | RequestStatus::NeedsCorrection
                | RequestStatus::Approved
        )
        .then(|| {
            let action = format!("/tramites/solicitud/{token}/cancelar");
            view! {
                <form method="post" action=action class="inline-form" data-testid="request-cancel">
                    {hidden_csrf(&csrf)}
                    <button type="submit" class="button secondary">{lang.pick("Cancelar la solicitud", "Cancel the request")}</button>
                </form>
            }
        });
        let permit = v.permit.clone().map(|p| {
            let pdf = format!("/tramites/solicitud/{token}/permiso.pdf");
            let demo = p.folio.series() == crate::domain::folio::DEMO_PERMIT_SERIES;
            view! {
                <section class="card" aria-labelledby="permit-title" data-testid="permit">
                    <h2 id="permit-title">{lang.pick("Permiso ", "Permit ")}<span data-testid="permit-folio">{p.folio.to_string()}</span></h2>
                    {demo.then(|| view! { <p class="field-error">{crate::permits::PermitVerdict::Demo.message(lang)}</p> })}
                    {p.scope.licence.clone().map(|n| {
                        let rfc = r.applicant_rfc.clone().unwrap_or_default();
                        let href = format!(
                            "/licencias?licencia={}&rfc={}",
                            form_urlencoded::byte_serialize(n.as_bytes()).collect::<String>(),
                            form_urlencoded::byte_serialize(rfc.as_bytes()).collect::<String>()
                        );
                        let (before, link, after) = match lang {
                            Lang::Es => (
                                "Licencia ",
                                "su página",
                                " inscrita en el padrón de licencias. Con este número y el RFC del titular la \
                                 refrendará cada año desde ",
                            ),
                            Lang::En => (
                                "Licence ",
                                "its page",
                                " entered in the licence registry. With this number and the holder's RFC you renew it \
                                 (refrendo) every year from ",
                            ),
                        };
                        let covered = lang.pick(
                            " (la expedición cubre el refrendo de este año).",
                            " (the expedition covers this year's renewal).",
                        );
                        view! {
                            <p data-testid="permit-licence">{before}<strong>{n.clone()}</strong>{after}
                                <a href=href>{link}</a>{covered}</p>
                        }
                    })}
                    {p.cancelled.clone().map(|why| view! { <p class="field-error">{lang.pick("Cancelado: ", "Cancelled: ")}{why}</p> })}
                    <p><a class="button" href=pdf data-testid="permit-pdf">{lang.pick("Descargar permiso (PDF)", "Download the permit (PDF, in Spanish)")}</a></p>
                    {v.permit_url.clone().map(|u| view! { <p class="muted small">{lang.pick("Verificación: ", "Verification: ")}<a href=u.clone()>{u.clone()}</a></p> })}
                </section>
            }
        });
        view! {
            <h1>{lang.pick("Solicitud ", "Request ")}<span data-testid="request-number">{r.number.clone()}</span></h1>
            {v.notice.clone().map(|n| view! { <p class="notice ok" role="status" data-testid="notice">{n}</p> })}
            <p>{status_badge(r.status, lang)}</p>
            <p class="lead" data-testid="request-explanation">{crate::permits::explanation(r.status, lang)}</p>
            {r.reason.clone().filter(|_| r.status == RequestStatus::Rejected).map(|why| view! {
                <p class="field-error" data-testid="request-reason">{format!("{}: {why}", lang.pick("Motivo", "Reason"))}</p>
            })}
            {permit}
            {pay}
            {correction}
            <section aria-labelledby="what-title">
                <h2 id="what-title">{procedure_name}</h2>
                {scope_view(&r, lang)}
                {lines_view(&r.lines, &name_of, lang)}
                {r.fee.map(|f| view! { <p><strong>"Total: "</strong><span data-testid="request-total">{f.display_mxn()}</span></p> })}
            </section>
            <section aria-labelledby="docs-title">
                <h2 id="docs-title">{lang.pick("Documentos", "Documents")}</h2>
                {documents_view(&v.documents, doc_href, lang)}
            </section>
            {timeline(&v.events, tz, lang)}
            {cancel}
        }
        .into_any()
    })
}

/// A row of the review queue.
pub struct QueueRow {
    pub request: PermitRequest,
    pub procedure: String,
    pub clock: Option<ReviewClock>,
}

/// `GET /personal/revision`: the review queue, oldest first.
pub fn queue_document(ctx: PageContext, queue: Vec<QueueRow>, waiting: Vec<QueueRow>) -> String {
    // Staff pages are in Spanish, whatever the browser's language cookie.
    let ctx = PageContext { lang: Lang::Es, ..ctx };
    document(ctx, "Revisión de solicitudes", move || {
        let rows = |rows: Vec<QueueRow>, testid: &'static str| {
            let body = rows
                .into_iter()
                .map(|q| {
                    let href = format!("/personal/revision/{}", q.request.token);
                    let (left, overdue) = match q.clock {
                        Some(c) if c.left < 0 => (format!("Vencido por {} día(s) hábil(es)", -c.left), true),
                        Some(c) => (format!("{} de {} día(s) hábil(es)", c.left, c.limit), false),
                        None => ("Sin plazo legal".into(), false),
                    };
                    let class = if overdue { "overdue" } else { "" };
                    view! {
                        <tr data-testid=testid data-number=q.request.number.clone() class=class>
                            <td><a href=href>{q.request.number.clone()}</a></td>
                            <td>{q.procedure.clone()}</td>
                            <td>{q.request.applicant_name.clone()}</td>
                            <td>{q.request.filed_on.format("%d/%m/%Y").to_string()}</td>
                            <td>{q.request.status.label_es()}</td>
                            <td data-testid="time-left">{left}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <div class="table-scroll">
                    <table>
                        <thead><tr><th>"Número"</th><th>"Trámite"</th><th>"Solicitante"</th><th>"Presentada"</th>
                            <th>"Estado"</th><th>"Plazo restante"</th></tr></thead>
                        <tbody>{body}</tbody>
                    </table>
                </div>
            }
        };
        let empty = queue.is_empty();
        view! {
            <h1>"Revisión de solicitudes"</h1>
            <p class="lead">"Las más antiguas primero. El plazo se cuenta en días hábiles y se detiene mientras la \
               solicitud espera correcciones del ciudadano."</p>
            <h2>"Por revisar"</h2>
            {if empty { view! { <p data-testid="queue-empty">"No hay solicitudes por revisar."</p> }.into_any() } else { rows(queue, "queue-row").into_any() }}
            <h2>"Esperando al solicitante"</h2>
            {rows(waiting, "waiting-row")}
        }
        .into_any()
    })
}

/// A range line's input at approval.
pub struct RangeInput {
    pub index: usize,
    pub name: String,
    pub min: String,
    pub max: String,
}

/// The licence a request renews or changes, as the revisor sees it.
pub struct LicenceSummary {
    pub number: String,
    pub holder_rfc: String,
    /// The giro's name.
    pub giro: String,
    pub address: String,
    pub hours: String,
    /// The year a renewal renews (or a new licence was issued in).
    pub year: Option<i32>,
    /// The request registered it (a new licence, paid).
    pub registered: bool,
}

/// What the review page needs.
pub struct ReviewView {
    pub request: PermitRequest,
    pub events: Vec<RequestEvent>,
    pub documents: Vec<PermitDocument>,
    pub procedure: String,
    pub tariff_names: Vec<(String, String)>,
    pub clock: Option<ReviewClock>,
    pub ranges: Vec<RangeInput>,
    pub notice: Option<(bool, String)>,
    /// Approving it needs the H. Cabildo's approval recorded (a new
    /// alcohol licence).
    pub needs_cabildo: bool,
    /// The licence it renews or changes, as registered today.
    pub licence: Option<LicenceSummary>,
}

/// `GET /personal/revision/{token}`: one request and the revisor's decisions.
pub fn review_document(ctx: PageContext, csrf: &str, v: ReviewView) -> String {
    // Staff pages are in Spanish, whatever the browser's language cookie.
    let ctx = PageContext { lang: Lang::Es, ..ctx };
    let csrf = csrf.to_string();
    let tz = super::caja_pages::tz(&ctx);
    let r = v.request.clone();
    let title = format!("Revisión {}", r.number);
    document(ctx, &title, move || {
        let token = r.token.clone();
        let names = v.tariff_names.clone();
        let name_of = move |code: &str| {
            names.iter().find(|(c, _)| c == code).map_or_else(|| code.to_string(), |(_, n)| n.clone())
        };
        let base = format!("/personal/revision/{token}");
        let doc_href = {
            let base = base.clone();
            move |d: &PermitDocument| format!("{base}/documento?id={}", d.id)
        };
        let decide = r.status.in_queue();
        let take = (r.status == RequestStatus::Submitted).then(|| {
            view! {
                <form method="post" action=format!("{base}/tomar") class="inline-form">
                    {hidden_csrf(&csrf)}
                    <button type="submit" class="button secondary" data-testid="review-take">"Tomar para revisión"</button>
                </form>
            }
        });
        let current_docs: Vec<PermitDocument> = v.documents.iter().filter(|d| !d.replaced).cloned().collect();
        let forms = decide.then(|| {
            let doc_comments = current_docs
                .iter()
                .map(|d| {
                    let id = format!("doc-{}", d.id);
                    view! {
                        <label for=id.clone()>"Comentario sobre «"{d.file_name.clone()}"»"</label>
                        <input id=id.clone() name=id type="text" maxlength="300" data-testid=format!("doc-comment-{}", d.doc_code)/>
                    }
                })
                .collect_view();
            let ranges = v
                .ranges
                .iter()
                .map(|g| {
                    let id = format!("factor-{}", g.index);
                    view! {
                        <label for=id.clone()>{format!("Importe de «{}» en UMA (de {} a {})", g.name, g.min, g.max)}</label>
                        <input id=id.clone() name=id type="text" inputmode="decimal" required data-testid=format!("factor-{}", g.index)/>
                    }
                })
                .collect_view();
            let cabildo = v.needs_cabildo.then(|| {
                view! {
                    <fieldset data-testid="review-cabildo">
                        <legend>"Aprobación del H. Cabildo"</legend>
                        <p class="help">"Una licencia nueva solo se aprueba con el acuerdo de Cabildo: registre la \
                           fecha de la sesión y el número de acuerdo. Quedan en el historial y en las condiciones \
                           de la licencia."</p>
                        <label for="cabildo_fecha">"Fecha de la sesión de Cabildo"</label>
                        <input id="cabildo_fecha" name="cabildo_fecha" type="date" required data-testid="cabildo-date"/>
                        <label for="cabildo_acuerdo">"Número de acuerdo"</label>
                        <input id="cabildo_acuerdo" name="cabildo_acuerdo" type="text" maxlength="60" required
                            data-testid="cabildo-agreement"/>
                    </fieldset>
                }
            });
            view! {
                <section class="card" aria-labelledby="approve-title">
                    <h2 id="approve-title">"Aprobar"</h2>
                    <form method="post" action=format!("{base}/aprobar") data-testid="review-approve-form">
                        {hidden_csrf(&csrf)}
                        {cabildo}
                        {ranges}
                        <label for="condiciones">"Condiciones del permiso"<span class="muted">" (opcional)"</span></label>
                        <textarea id="condiciones" name="condiciones" rows="2" maxlength="500"></textarea>
                        <button type="submit" class="button" data-testid="review-approve">"Aprobar: el derecho queda por pagar"</button>
                    </form>
                </section>
                <section class="card" aria-labelledby="fix-title">
                    <h2 id="fix-title">"Pedir corrección"</h2>
                    <form method="post" action=format!("{base}/corregir") data-testid="review-correction-form">
                        {hidden_csrf(&csrf)}
                        <label for="comentario">"Qué debe corregir el solicitante"</label>
                        <textarea id="comentario" name="comentario" rows="3" maxlength="1000" required data-testid="review-comment"></textarea>
                        {doc_comments}
                        <button type="submit" class="button secondary" data-testid="review-ask-correction">"Pedir corrección"</button>
                    </form>
                </section>
                <section class="card" aria-labelledby="reject-title">
                    <h2 id="reject-title">"Rechazar"</h2>
                    <form method="post" action=format!("{base}/rechazar") data-testid="review-reject-form">
                        {hidden_csrf(&csrf)}
                        <label for="motivo">"Motivo del rechazo"</label>
                        <textarea id="motivo" name="motivo" rows="2" maxlength="1000" required data-testid="review-reason"></textarea>
                        <button type="submit" class="button danger" data-testid="review-reject">"Rechazar"</button>
                    </form>
                </section>
            }
        });
        let clock = v.clock.map(|c| {
            let text = if c.left < 0 {
                format!("Plazo vencido: se usaron {} de {} días hábiles.", c.used, c.limit)
            } else {
                format!("Quedan {} de {} días hábiles (se han usado {}).", c.left, c.limit, c.used)
            };
            view! { <p data-testid="review-clock">{text}</p> }
        });
        let licence = v.licence.as_ref().map(|l| {
            let what = match l.year {
                Some(y) if l.registered => format!("Expedida en {y}: inscrita en el padrón con esta solicitud"),
                Some(y) => format!("Refrendo del ejercicio {y}"),
                None => "Trámite de la licencia".to_string(),
            };
            view! {
                <section class="card" aria-labelledby="licence-title" data-testid="review-licence">
                    <h2 id="licence-title">{format!("Licencia {} — {what}", l.number)}</h2>
                    <dl class="owner">
                        <div><dt>"RFC del titular"</dt><dd>{l.holder_rfc.clone()}</dd></div>
                        <div><dt>"Giro registrado"</dt><dd>{l.giro.clone()}</dd></div>
                        <div><dt>"Domicilio registrado"</dt><dd>{l.address.clone()}</dd></div>
                        <div><dt>"Horario registrado"</dt><dd>{if l.hours.is_empty() { "—".to_string() } else { l.hours.clone() }}</dd></div>
                    </dl>
                </section>
            }
        });
        view! {
            <h1>"Solicitud "{r.number.clone()}</h1>
            {v.notice.clone().map(|(ok, n)| view! {
                <p class=if ok { "notice ok" } else { "notice error" } role="status" data-testid="notice">{n}</p>
            })}
            <p>{status_badge(r.status, Lang::Es)}" "{v.procedure.clone()}</p>
            {clock}
            {licence}
            <dl class="owner">
                <div><dt>"Solicitante"</dt><dd>{r.applicant_name.clone()}</dd></div>
                <div><dt>"Correo"</dt><dd>{r.applicant_email.clone()}</dd></div>
                {r.applicant_rfc.clone().map(|x| view! { <div><dt>"RFC"</dt><dd>{x}</dd></div> })}
                {r.applicant_phone.clone().map(|x| view! { <div><dt>"Teléfono"</dt><dd>{x}</dd></div> })}
                <div><dt>"Tipo"</dt><dd>{match (&r.licence, r.renewal) {
                    _ if r.is_new_licence() => "Licencia nueva",
                    (Some(l), _) if l.year.is_none() => "Trámite de una licencia registrada",
                    (_, true) => "Refrendo",
                    (_, false) => "Nuevo",
                }}</dd></div>
            </dl>
            {scope_view(&r, Lang::Es)}
            {lines_view(&r.lines, &name_of, Lang::Es)}
            <h2>"Documentos"</h2>
            {documents_view(&v.documents, doc_href, Lang::Es)}
            {take}
            {forms}
            {timeline(&v.events, tz, Lang::Es)}
            <p><a href="/personal/revision">"Volver a la cola"</a></p>
        }
        .into_any()
    })
}

/// `GET /p/{folio}?s=…`: a permit's QR code checked, for anyone holding
/// it: the verdict and the scope as recorded (the holder's name masked),
/// to compare with the paper.
pub fn verify_document(ctx: PageContext, check: crate::permits::PermitCheck) -> String {
    use crate::permits::PermitVerdict;
    let lang = ctx.lang;
    let title = format!("{} {}", lang.pick("Verificación del permiso", "Permit verification"), check.folio);
    let heading = title.clone();
    document(ctx, &title, move || {
        let ok = check.verdict == PermitVerdict::Authentic;
        let class = format!("verdict verdict-{}", if ok { "authentic" } else { "forged" });
        let scope = check.permit.as_ref().filter(|_| check.verdict != PermitVerdict::Forged).map(|p| {
            let s = &p.scope;
            view! {
                <dl class="owner" data-testid="permit-scope">
                    <div><dt>"Folio"</dt><dd>{p.folio.to_string()}</dd></div>
                    {s.licence.clone().map(|n| view! { <div><dt>{lang.pick("Licencia", "Licence")}</dt><dd data-testid="permit-licence">{n}</dd></div> })}
                    <div><dt>{lang.pick("Titular", "Holder")}</dt><dd>{crate::privacy::mask_name(&s.holder)}</dd></div>
                    <div><dt>{lang.pick("Ubicación", "Place")}</dt><dd>{s.location.clone()}</dd></div>
                    <div><dt>{lang.pick("Vigencia", "Valid")}</dt><dd data-testid="permit-dates">{validity(s.starts_on, s.ends_on, lang)}</dd></div>
                    {(!s.hours.is_empty()).then(|| view! { <div><dt>{lang.pick("Horario", "Hours")}</dt><dd>{s.hours.clone()}</dd></div> })}
                    <div><dt>{lang.pick("Medida", "Measure")}</dt><dd data-testid="permit-measure">{s.measure.clone()}</dd></div>
                    {s.attendance.map(|n| view! { <div><dt>{lang.pick("Asistentes esperados", "Expected attendance")}</dt><dd data-testid="permit-attendance">{n.to_string()}</dd></div> })}
                    {(!s.conditions.is_empty()).then(|| view! { <div><dt>{lang.pick("Condiciones", "Conditions")}</dt><dd>{s.conditions.clone()}</dd></div> })}
                    <div><dt>{lang.pick("Expedido", "Issued")}</dt><dd>{format::date(p.issued_on, lang)}</dd></div>
                </dl>
            }
        });
        view! {
            <h1>{heading}</h1>
            <section class=class data-testid="permit-verdict" data-verdict=check.verdict.as_str() aria-live="polite">
                <h2>{match (ok, lang) {
                    (true, Lang::Es) => "✔ Permiso auténtico",
                    (false, Lang::Es) => "✘ Permiso no válido",
                    (true, Lang::En) => "✔ Authentic permit",
                    (false, Lang::En) => "✘ Permit not valid",
                }}</h2>
                <p>{check.verdict.message(lang)}</p>
            </section>
            {scope}
            <p class="muted small">{lang.pick(
                "Si el papel dice otra cosa (otras fechas, otra medida, otro lugar), el permiso fue alterado: solo \
                 vale lo que esta página muestra.",
                "If the paper says something else (other dates, another measure, another place), the permit was \
                 altered: only what this page shows is valid.",
            )}</p>
        }
        .into_any()
    })
}
