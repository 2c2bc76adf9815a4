//! An alcohol licence's pages, rendered on the server as whole documents by
//! `server::licences` (plain forms, no WebAssembly):
//!
//! * the lookup (`/licencias`): the licence's number and its holder's RFC;
//! * the licence's page: what is registered, this year's renewal fee for
//!   its giro with its legal basis and formula, what must be paid first
//!   (each debt linked to its lookup), this year's renewal if one is under
//!   way (or the licence's expedition, which covers its year), and the
//!   forms: renew (unchanged, or with changes), change of
//!   address, extra hours (only where the giro has that tariff).
//!
//! Both in the visitor's language; giro names and the law's wording stay
//! in Spanish. The page's three forms ask some of the same fields (e-mail,
//! phone, address, hours): each form prefixes its ids (`refrendo-correo`,
//! `domicilio-correo`, `horas-correo`, see [`Typed::prefix`]) while the
//! fields keep their names.

#![cfg(feature = "ssr")]

use leptos::prelude::*;

use super::caja_pages::hidden_csrf;
use super::permit_pages::{document, field_error, input, quote_breakdown, status_badge, summary, FormIds};
use super::{format, PageContext};
use crate::domain::tariffs::TariffQuote;
use crate::i18n::Lang;
use crate::permits::FieldError;
use crate::store::{Licence, PermitRequest};

/// `GET /licencias` without (or with an unknown) licence: the lookup form.
pub fn lookup_document(ctx: PageContext, number: &str, rfc: &str, refused: Option<String>) -> String {
    let (number, rfc) = (number.to_string(), rfc.to_string());
    let lang = ctx.lang;
    document(ctx, lang.pick("Refrendar mi licencia de alcoholes", "Renew my alcohol licence"), move || {
        view! {
            <h1>{lang.pick("Refrendar mi licencia de bebidas alcohólicas", "Renew my alcohol licence (refrendo)")}</h1>
            <p class="lead">{lang.pick(
                "Escriba el número de su licencia de funcionamiento y el RFC de su titular. Verá el derecho de \
                 refrendo de este año para su giro y, si está al corriente, podrá refrendarla y pagarla en línea; \
                 también puede solicitar un cambio de domicilio o horas extras.",
                "Type your business licence's number and its holder's RFC. You will see this year's renewal fee for \
                 your line of business (giro) and, if you are up to date with your payments, you can renew it and \
                 pay online; you can also ask for a change of address or extra hours.",
            )}</p>
            {refused.map(|why| view! {
                <div class="error-summary" role="alert" tabindex="-1" autofocus data-testid="error-summary">
                    <h2>{lang.pick("No encontrada", "Not found")}</h2>
                    <ul><li><a href="#licencia">{why}</a></li></ul>
                </div>
            })}
            <form method="get" action="/licencias" class="card" data-testid="licence-lookup">
                <label for="licencia">{lang.pick("Número de licencia", "Licence number")}</label>
                <p id="licencia-help" class="help">{lang.pick(
                    "Como aparece impreso en su licencia, por ejemplo ALC-2019-0042.",
                    "As printed on your licence, for example ALC-2019-0042.",
                )}</p>
                <input id="licencia" name="licencia" type="text" required maxlength="30" value=number
                    autocomplete="off" aria-describedby="licencia-help" data-testid="field-licencia"/>
                <label for="rfc">{lang.pick("RFC del titular", "The holder's RFC")}</label>
                <input id="rfc" name="rfc" type="text" required maxlength="20" value=rfc autocomplete="off"
                    data-testid="field-rfc"/>
                <button type="submit" class="button" data-testid="licence-lookup-submit">{lang.pick("Buscar mi licencia", "Find my licence")}</button>
            </form>
            <p><a href="/tramites/alcoholes">{lang.pick(
                "¿Licencia nueva? Vea los requisitos y solicítela aquí.",
                "A new licence? See the requirements and apply here.",
            )}</a></p>
        }
        .into_any()
    })
}

/// A debt to pay before renewing, as shown.
pub struct DebtRow {
    pub account: String,
    pub concept: String,
    pub period: String,
    pub due_date: chrono::NaiveDate,
    pub principal: String,
    pub earlier_renewal: bool,
}

/// Which form of the page a refusal belongs to (its fields keep what was
/// typed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Typed {
    #[default]
    None,
    Renewal {
        email: String,
        phone: String,
        giro: String,
        address: String,
        hours: String,
    },
    Address {
        email: String,
        phone: String,
        address: String,
    },
    ExtraHours {
        email: String,
        phone: String,
        day: String,
        hours: String,
        schedule: String,
    },
}

impl Typed {
    /// The id prefix of the form whose fields these are ("" for none):
    /// the error summary links to that form's inputs.
    pub fn prefix(&self) -> &'static str {
        match self {
            Typed::None => "",
            Typed::Renewal { .. } => RENEWAL,
            Typed::Address { .. } => ADDRESS,
            Typed::ExtraHours { .. } => EXTRA_HOURS,
        }
    }
}

/// The id prefixes of the page's forms.
const RENEWAL: &str = "refrendo";
const ADDRESS: &str = "domicilio";
const EXTRA_HOURS: &str = "horas";

/// What the licence's page shows (its texts already in the page's
/// language).
pub struct LicenceView {
    pub licence: Licence,
    /// The RFC as normalised, carried by the forms.
    pub rfc: String,
    pub giro_name: String,
    pub status_label: String,
    pub year: i32,
    /// This year's renewal fee of the giro (or why it cannot be quoted).
    pub renewal_quote: Result<TariffQuote, String>,
    pub debts: Vec<DebtRow>,
    /// This year's live renewal, or the request that registered the
    /// licence this year (its expedition counts as the year's renewal).
    pub renewal: Option<PermitRequest>,
    /// The licence's other requests, newest first.
    pub history: Vec<PermitRequest>,
    /// The giros to change to: (code, name).
    pub giros: Vec<(String, String)>,
    /// The change of address's fee, when the giro has that tariff.
    pub address_quote: Option<TariffQuote>,
    /// Extra hours: their tariff's rate ("2 UMA por hora"), or why they
    /// cannot be requested for this giro.
    pub extra_hours: Result<String, String>,
    pub errors: Vec<FieldError>,
    pub typed: Typed,
    /// A refusal's message for the whole page (a second renewal, an
    /// inactive licence).
    pub refusal: Option<String>,
}

fn hidden_licence(v: &LicenceView) -> impl IntoView {
    view! {
        <input type="hidden" name="licencia" value=v.licence.number.clone()/>
        <input type="hidden" name="rfc" value=v.rfc.clone()/>
    }
}

fn contact_fields(errors: &[FieldError], form: FormIds, email: &str, phone: &str) -> impl IntoView {
    let lang = form.lang;
    view! {
        {input(errors, form, "correo", lang.pick("Correo electrónico", "E-mail"), lang.pick("Con él (o con su RFC) y el enlace de la solicitud podrá consultarla.", "With it (or with your RFC) and the request's link you can look it up."), "email", email, true, "email")}
        {input(errors, form, "telefono", lang.pick("Teléfono", "Phone"), lang.pick("10 dígitos.", "10 digits."), "tel", phone, false, "tel")}
    }
}

/// `GET /licencias?licencia=…&rfc=…`: the licence's page.
pub fn licence_document(ctx: PageContext, csrf: &str, v: LicenceView) -> String {
    let csrf = csrf.to_string();
    let lang = ctx.lang;
    let title = format!("{} {}", lang.pick("Licencia", "Licence"), v.licence.number);
    document(ctx, &title, move || {
        let l = &v.licence;
        let errors = v.errors.clone();
        let active = l.status == crate::domain::licences::LicenceStatus::Active;
        // Issued this year: the expedition was the year's renewal.
        let issued_this_year = v.renewal.as_ref().is_some_and(PermitRequest::is_new_licence);
        let fee = match &v.renewal_quote {
            _ if issued_this_year => ().into_any(),
            Ok(q) => view! {
                <section class="card" aria-labelledby="fee-title" data-testid="renewal-fee">
                    <h2 id="fee-title">{match lang {
                        Lang::Es => format!("Refrendo {}: derecho a pagar", v.year),
                        Lang::En => format!("{} renewal (refrendo): the fee to pay", v.year),
                    }}</h2>
                    {quote_breakdown(std::slice::from_ref(q), lang)}
                    <p class="muted small" data-testid="renewal-law">{format!(
                        "{} ({} {}).",
                        q.law,
                        lang.pick("tarifas vigentes desde el", "tariffs in force since"),
                        format::date(q.schedule_from, lang)
                    )}</p>
                </section>
            }
            .into_any(),
            Err(why) => view! { <p class="field-error" data-testid="renewal-fee-missing">{why.clone()}</p> }.into_any(),
        };
        let debts = (!v.debts.is_empty() && !issued_this_year).then(|| {
            let rows = v
                .debts
                .iter()
                .map(|d| {
                    let href = format!("/consulta?cuenta={}", form_urlencoded::byte_serialize(d.account.as_bytes()).collect::<String>());
                    let concept = if d.earlier_renewal {
                        format!("{} ({})", d.concept, lang.pick("refrendo anterior sin pagar", "earlier renewal, unpaid"))
                    } else {
                        d.concept.clone()
                    };
                    view! {
                        <tr data-testid="licence-debt" data-account=d.account.clone()>
                            <td><a href=href data-testid="licence-debt-link">{d.account.clone()}</a></td>
                            <td>{concept}</td>
                            <td>{d.period.clone()}</td>
                            <td>{format::date(d.due_date, lang)}</td>
                            <td class="num">{d.principal.clone()}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <section class="card" aria-labelledby="debts-title" data-testid="licence-debts">
                    <h2 id="debts-title">{lang.pick("Antes de refrendar, pague lo siguiente", "Before renewing, pay the following")}</h2>
                    <p>{lang.pick(
                        "El refrendo no se puede iniciar ni pagar mientras haya adeudos vencidos de estos conceptos a \
                         nombre del RFC del titular. Pague primero (el importe indicado es sin recargos; la consulta \
                         muestra el total a pagar hoy):",
                        "The renewal can be neither started nor paid while the holder's RFC has overdue debts of these \
                         kinds. Pay them first (the amount shown is without surcharges; the lookup shows the total to \
                         pay today):",
                    )}</p>
                    <div class="table-scroll">
                        <table>
                            <thead><tr>
                                <th>{lang.pick("Cuenta", "Account")}</th><th>{lang.pick("Concepto", "Concept")}</th>
                                <th>{lang.pick("Periodo", "Period")}</th><th>{lang.pick("Vencimiento", "Due date")}</th>
                                <th>{lang.pick("Importe", "Amount")}</th>
                            </tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                </section>
            }
        });
        let renewal = v.renewal.as_ref().map(|r| {
            let href = format!("/tramites/solicitud/{}", r.token);
            if r.is_new_licence() {
                return view! {
                    <section class="card" aria-labelledby="renewal-title" data-testid="licence-issued-this-year">
                        <h2 id="renewal-title">{match lang {
                            Lang::Es => format!("Licencia expedida en {}", v.year),
                            Lang::En => format!("Licence issued in {}", v.year),
                        }}</h2>
                        <p>{lang.pick("La expedición de la licencia (solicitud ", "The licence's expedition (request ")}
                           <a href=href data-testid="renewal-link">{r.number.clone()}</a>
                           {match lang {
                               Lang::Es => format!(") cubre el refrendo {}: no hay refrendo que pagar este año. El primero será el de {}.", v.year, v.year + 1),
                               Lang::En => format!(") covers the {} renewal (refrendo): there is nothing to renew this year. The first renewal is {}'s.", v.year, v.year + 1),
                           }}</p>
                    </section>
                }
                .into_any();
            }
            view! {
                <section class="card" aria-labelledby="renewal-title" data-testid="renewal-under-way">
                    <h2 id="renewal-title">{renewal_of(v.year, lang)}</h2>
                    <p>{lang.pick("Solicitud ", "Request ")}<a href=href data-testid="renewal-link">{r.number.clone()}</a>" "{status_badge(r.status, lang)}</p>
                    <p>{crate::permits::explanation(r.status, lang)}</p>
                </section>
            }
            .into_any()
        });
        let renew_form = (active && v.renewal.is_none() && v.debts.is_empty() && v.renewal_quote.is_ok()).then(|| {
            let (email, phone, giro, address, hours) = match &v.typed {
                Typed::Renewal { email, phone, giro, address, hours } => {
                    (email.clone(), phone.clone(), giro.clone(), address.clone(), hours.clone())
                }
                _ => Default::default(),
            };
            let errs = if matches!(v.typed, Typed::Renewal { .. }) { errors.clone() } else { vec![] };
            let form = FormIds { lang, prefix: RENEWAL };
            let giro_id = form.id("giro");
            let options = v
                .giros
                .iter()
                .map(|(code, name)| {
                    let selected = giro == *code;
                    view! { <option value=code.clone() selected=selected>{name.clone()}</option> }
                })
                .collect_view();
            view! {
                <section class="card" aria-labelledby="renew-title">
                    <h2 id="renew-title">{format!("{} {}", lang.pick("Refrendar para", "Renew for"), v.year)}</h2>
                    <form method="post" action="/licencias/refrendo" data-testid="renewal-form">
                        {hidden_csrf(&csrf)}
                        {hidden_licence(&v)}
                        {contact_fields(&errs, form, &email, &phone)}
                        <details open=!(giro.is_empty() && address.is_empty() && hours.is_empty())>
                            <summary>{lang.pick("¿Cambió el giro, el domicilio o el horario?", "Did the line of business (giro), the address or the hours change?")}</summary>
                            <p class="help">{lang.pick(
                                "Deje vacío lo que no cambia. Un refrendo con cambios lo revisa primero la Dirección de \
                                 Ingresos; el cambio de domicilio paga además su derecho.",
                                "Leave empty what does not change. The revenue office (Dirección de Ingresos) reviews a \
                                 renewal with changes first; a change of address also pays its own fee.",
                            )}</p>
                            <label for=giro_id.clone()>{lang.pick("Nuevo giro", "New giro")}</label>
                            {field_error(&errs, "giro", lang).map(|e| view! { <p id=format!("{giro_id}-error") class="field-error">{e}</p> })}
                            <select id=giro_id.clone() name="giro" data-testid="field-giro">
                                <option value="" selected=giro.is_empty()>{lang.pick("(sin cambio)", "(no change)")}</option>
                                {options}
                            </select>
                            {input(&errs, form, "domicilio", lang.pick("Nuevo domicilio", "New address"), lang.pick("Calle, número y colonia.", "Street, number and neighbourhood (colonia)."), "text", &address, false, "")}
                            {input(&errs, form, "horario", lang.pick("Nuevo horario", "New hours"), lang.pick("Por ejemplo: 12:00 a 02:00.", "For example: 12:00 to 02:00."), "text", &hours, false, "")}
                        </details>
                        <button type="submit" class="button" data-testid="renewal-submit">{lang.pick("Refrendar mi licencia", "Renew my licence")}</button>
                    </form>
                </section>
            }
        });
        let address_form = (active && v.address_quote.is_some()).then(|| {
            let (email, phone, address) = match &v.typed {
                Typed::Address { email, phone, address } => (email.clone(), phone.clone(), address.clone()),
                _ => Default::default(),
            };
            let errs = if matches!(v.typed, Typed::Address { .. }) { errors.clone() } else { vec![] };
            let form = FormIds { lang, prefix: ADDRESS };
            let fee = v.address_quote.as_ref().map(|q| {
                format!("{}: {} ({}).", lang.pick("Derecho", "Fee"), q.fee.display_mxn(), q.legal_basis)
            });
            view! {
                <section class="card" aria-labelledby="address-title">
                    <h2 id="address-title">{lang.pick("Cambio de domicilio", "Change of address")}</h2>
                    <p data-testid="address-fee">{fee}</p>
                    <form method="post" action="/licencias/domicilio" data-testid="address-form">
                        {hidden_csrf(&csrf)}
                        {hidden_licence(&v)}
                        {input(&errs, form, "domicilio", lang.pick("Nuevo domicilio", "New address"), lang.pick("Calle, número y colonia. La Dirección de Ingresos lo revisa antes de aprobarlo.", "Street, number and neighbourhood (colonia). The revenue office reviews it before approving it."), "text", &address, true, "")}
                        {contact_fields(&errs, form, &email, &phone)}
                        <button type="submit" class="button secondary" data-testid="address-submit">{lang.pick("Solicitar cambio de domicilio", "Request the change of address")}</button>
                    </form>
                </section>
            }
        });
        let extra_hours = active.then(|| match &v.extra_hours {
            Ok(rate) => {
                let (email, phone, day, hours, schedule) = match &v.typed {
                    Typed::ExtraHours { email, phone, day, hours, schedule } => {
                        (email.clone(), phone.clone(), day.clone(), hours.clone(), schedule.clone())
                    }
                    _ => Default::default(),
                };
                let errs = if matches!(v.typed, Typed::ExtraHours { .. }) { errors.clone() } else { vec![] };
                let form = FormIds { lang, prefix: EXTRA_HOURS };
                let rate = match lang {
                    Lang::Es => format!("Tarifa: {rate}. No se autorizan en domingo."),
                    Lang::En => format!("Rate: {rate}. Not authorised on Sundays."),
                };
                view! {
                    <section class="card" aria-labelledby="hours-title">
                        <h2 id="hours-title">{lang.pick("Horas extras (lunes a sábado)", "Extra hours (Monday to Saturday)")}</h2>
                        <p data-testid="extra-hours-rate">{rate}</p>
                        <form method="post" action="/licencias/horas-extra" data-testid="extra-hours-form">
                            {hidden_csrf(&csrf)}
                            {hidden_licence(&v)}
                            {input(&errs, form, "fecha", lang.pick("Fecha", "Date"), lang.pick("AAAA-MM-DD, de lunes a sábado.", "YYYY-MM-DD, Monday to Saturday."), "date", &day, true, "")}
                            {input(&errs, form, "horas", lang.pick("Horas extras", "Extra hours"), lang.pick("Número de horas.", "Number of hours."), "text", &hours, true, "numeric")}
                            {input(&errs, form, "horario", lang.pick("Horario de las horas extras", "Time of the extra hours"), lang.pick("Por ejemplo: 02:00 a 04:00.", "For example: 02:00 to 04:00."), "text", &schedule, true, "")}
                            {contact_fields(&errs, form, &email, &phone)}
                            <button type="submit" class="button secondary" data-testid="extra-hours-submit">{lang.pick("Solicitar horas extras", "Request extra hours")}</button>
                        </form>
                    </section>
                }
                .into_any()
            }
            Err(why) => view! {
                <section class="card" aria-labelledby="hours-title">
                    <h2 id="hours-title">{lang.pick("Horas extras", "Extra hours")}</h2>
                    <p data-testid="extra-hours-refused">{why.clone()}</p>
                </section>
            }
            .into_any(),
        });
        let history = (!v.history.is_empty()).then(|| {
            let rows = v
                .history
                .iter()
                .map(|r| {
                    let href = format!("/tramites/solicitud/{}", r.token);
                    let year = match r.licence.as_ref().and_then(|k| k.year) {
                        Some(y) if r.is_new_licence() => match lang {
                            Lang::Es => format!("Expedición {y}"),
                            Lang::En => format!("{y} expedition"),
                        },
                        Some(y) => renewal_of(y, lang),
                        None => String::new(),
                    };
                    view! {
                        <tr data-testid="licence-request" data-number=r.number.clone()>
                            <td><a href=href>{r.number.clone()}</a></td>
                            <td>{format::date(r.filed_on, lang)}</td>
                            <td>{year}</td>
                            <td>{crate::permits::status_label(r.status, lang)}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <section aria-labelledby="history-title">
                    <h2 id="history-title">{lang.pick("Solicitudes de esta licencia", "This licence's requests")}</h2>
                    <div class="table-scroll">
                        <table>
                            <thead><tr>
                                <th>{lang.pick("Solicitud", "Request")}</th><th>{lang.pick("Presentada", "Filed")}</th>
                                <th>{lang.pick("Trámite", "Procedure")}</th><th>{lang.pick("Estado", "Status")}</th>
                            </tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                </section>
            }
        });
        let hours = if l.hours.is_empty() { "—".to_string() } else { l.hours.clone() };
        view! {
            <p class="back"><a href="/licencias">{lang.pick("Buscar otra licencia", "Look up another licence")}</a></p>
            <h1>{lang.pick("Licencia ", "Licence ")}<span data-testid="licence-number">{l.number.clone()}</span></h1>
            {summary(&errors, FormIds { lang, prefix: v.typed.prefix() })}
            {v.refusal.clone().map(|why| view! {
                <div class="error-summary" role="alert" tabindex="-1" autofocus data-testid="licence-refusal">
                    <h2>{lang.pick("No se pudo continuar", "We could not continue")}</h2>
                    <p>{why}</p>
                </div>
            })}
            <dl class="owner" data-testid="licence">
                <div><dt>{lang.pick("Titular", "Holder")}</dt><dd>{crate::privacy::mask_name(&l.holder_name)}</dd></div>
                <div><dt>{lang.pick("Giro", "Line of business (giro)")}</dt><dd data-testid="licence-giro">{v.giro_name.clone()}</dd></div>
                <div><dt>{lang.pick("Domicilio", "Address")}</dt><dd data-testid="licence-address">{l.address.clone()}</dd></div>
                <div><dt>{lang.pick("Horario", "Hours")}</dt><dd>{hours}</dd></div>
                <div><dt>{lang.pick("Estado", "Status")}</dt><dd data-testid="licence-status">{v.status_label.clone()}</dd></div>
            </dl>
            {fee}
            {renewal}
            {debts}
            {renew_form}
            {address_form}
            {extra_hours}
            {history}
        }
        .into_any()
    })
}

/// "Refrendo 2026", "2026 renewal".
fn renewal_of(year: i32, lang: Lang) -> String {
    match lang {
        Lang::Es => format!("Refrendo {year}"),
        Lang::En => format!("{year} renewal"),
    }
}
