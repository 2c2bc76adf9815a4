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

#![cfg(feature = "ssr")]

use leptos::prelude::*;

use super::caja_pages::hidden_csrf;
use super::permit_pages::{document, field_error, input, quote_breakdown, status_badge, summary};
use super::PageContext;
use crate::domain::tariffs::TariffQuote;
use crate::permits::FieldError;
use crate::store::{Licence, PermitRequest};

/// `GET /licencias` without (or with an unknown) licence: the lookup form.
pub fn lookup_document(ctx: PageContext, number: &str, rfc: &str, refused: Option<String>) -> String {
    let (number, rfc) = (number.to_string(), rfc.to_string());
    document(ctx, "Refrendar mi licencia de alcoholes", move || {
        view! {
            <h1>"Refrendar mi licencia de bebidas alcohólicas"</h1>
            <p class="lead">"Escriba el número de su licencia de funcionamiento y el RFC de su titular. Verá el \
               derecho de refrendo de este año para su giro y, si está al corriente, podrá refrendarla y pagarla \
               en línea; también puede solicitar un cambio de domicilio o horas extras."</p>
            {refused.map(|why| view! {
                <div class="error-summary" role="alert" tabindex="-1" autofocus data-testid="error-summary">
                    <h2>"No encontrada"</h2>
                    <ul><li><a href="#licencia">{why}</a></li></ul>
                </div>
            })}
            <form method="get" action="/licencias" class="card" data-testid="licence-lookup">
                <label for="licencia">"Número de licencia"</label>
                <p id="licencia-help" class="help">"Como aparece impreso en su licencia, por ejemplo ALC-2019-0042."</p>
                <input id="licencia" name="licencia" type="text" required maxlength="30" value=number
                    autocomplete="off" aria-describedby="licencia-help" data-testid="field-licencia"/>
                <label for="rfc">"RFC del titular"</label>
                <input id="rfc" name="rfc" type="text" required maxlength="20" value=rfc autocomplete="off"
                    data-testid="field-rfc"/>
                <button type="submit" class="button" data-testid="licence-lookup-submit">"Buscar mi licencia"</button>
            </form>
            <p><a href="/tramites/alcoholes">"¿Licencia nueva? Vea los requisitos y solicítela aquí."</a></p>
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

/// What the licence's page shows.
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

fn contact_fields(errors: &[FieldError], email: &str, phone: &str) -> impl IntoView {
    view! {
        {input(errors, "correo", "Correo electrónico", "Con él (o con su RFC) y el enlace de la solicitud podrá consultarla.", "email", email, true, "email")}
        {input(errors, "telefono", "Teléfono", "10 dígitos.", "tel", phone, false, "tel")}
    }
}

/// `GET /licencias?licencia=…&rfc=…`: the licence's page.
pub fn licence_document(ctx: PageContext, csrf: &str, v: LicenceView) -> String {
    let csrf = csrf.to_string();
    let title = format!("Licencia {}", v.licence.number);
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
                    <h2 id="fee-title">{format!("Refrendo {}: derecho a pagar", v.year)}</h2>
                    {quote_breakdown(std::slice::from_ref(q))}
                    <p class="muted small" data-testid="renewal-law">{format!("{} (tarifas vigentes desde el {}).", q.law, q.schedule_from.format("%d/%m/%Y"))}</p>
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
                    let concept = if d.earlier_renewal { format!("{} (refrendo anterior sin pagar)", d.concept) } else { d.concept.clone() };
                    view! {
                        <tr data-testid="licence-debt" data-account=d.account.clone()>
                            <td><a href=href data-testid="licence-debt-link">{d.account.clone()}</a></td>
                            <td>{concept}</td>
                            <td>{d.period.clone()}</td>
                            <td>{d.due_date.format("%d/%m/%Y").to_string()}</td>
                            <td class="num">{d.principal.clone()}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <section class="card" aria-labelledby="debts-title" data-testid="licence-debts">
                    <h2 id="debts-title">"Antes de refrendar, pague lo siguiente"</h2>
                    <p>"El refrendo no se puede iniciar ni pagar mientras haya adeudos vencidos de estos conceptos a \
                       nombre del RFC del titular. Pague primero (el importe indicado es sin recargos; la consulta \
                       muestra el total a pagar hoy):"</p>
                    <div class="table-scroll">
                        <table>
                            <thead><tr><th>"Cuenta"</th><th>"Concepto"</th><th>"Periodo"</th><th>"Vencimiento"</th><th>"Importe"</th></tr></thead>
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
                        <h2 id="renewal-title">{format!("Licencia expedida en {}", v.year)}</h2>
                        <p>"La expedición de la licencia (solicitud "<a href=href data-testid="renewal-link">{r.number.clone()}</a>
                           ") cubre el refrendo "{v.year}": no hay refrendo que pagar este año. El primero será el de "
                           {v.year + 1}"."</p>
                    </section>
                }
                .into_any();
            }
            view! {
                <section class="card" aria-labelledby="renewal-title" data-testid="renewal-under-way">
                    <h2 id="renewal-title">{format!("Refrendo {}", v.year)}</h2>
                    <p>"Solicitud "<a href=href data-testid="renewal-link">{r.number.clone()}</a>" "{status_badge(r.status)}</p>
                    <p>{r.status.explanation_es()}</p>
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
                    <h2 id="renew-title">{format!("Refrendar para {}", v.year)}</h2>
                    <form method="post" action="/licencias/refrendo" data-testid="renewal-form">
                        {hidden_csrf(&csrf)}
                        {hidden_licence(&v)}
                        {contact_fields(&errs, &email, &phone)}
                        <details open=!(giro.is_empty() && address.is_empty() && hours.is_empty())>
                            <summary>"¿Cambió el giro, el domicilio o el horario?"</summary>
                            <p class="help">"Deje vacío lo que no cambia. Un refrendo con cambios lo revisa primero la \
                               Dirección de Ingresos; el cambio de domicilio paga además su derecho."</p>
                            <label for="giro">"Nuevo giro"</label>
                            {field_error(&errs, "giro").map(|e| view! { <p id="giro-error" class="field-error">{e}</p> })}
                            <select id="giro" name="giro" data-testid="field-giro">
                                <option value="" selected=giro.is_empty()>"(sin cambio)"</option>
                                {options}
                            </select>
                            {input(&errs, "domicilio", "Nuevo domicilio", "Calle, número y colonia.", "text", &address, false, "")}
                            {input(&errs, "horario", "Nuevo horario", "Por ejemplo: 12:00 a 02:00.", "text", &hours, false, "")}
                        </details>
                        <button type="submit" class="button" data-testid="renewal-submit">"Refrendar mi licencia"</button>
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
            let fee = v.address_quote.as_ref().map(|q| format!("Derecho: {} ({}).", q.fee.display_mxn(), q.legal_basis));
            view! {
                <section class="card" aria-labelledby="address-title">
                    <h2 id="address-title">"Cambio de domicilio"</h2>
                    <p data-testid="address-fee">{fee}</p>
                    <form method="post" action="/licencias/domicilio" data-testid="address-form">
                        {hidden_csrf(&csrf)}
                        {hidden_licence(&v)}
                        {input(&errs, "domicilio", "Nuevo domicilio", "Calle, número y colonia. La Dirección de Ingresos lo revisa antes de aprobarlo.", "text", &address, true, "")}
                        {contact_fields(&errs, &email, &phone)}
                        <button type="submit" class="button secondary" data-testid="address-submit">"Solicitar cambio de domicilio"</button>
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
                view! {
                    <section class="card" aria-labelledby="hours-title">
                        <h2 id="hours-title">"Horas extras (lunes a sábado)"</h2>
                        <p data-testid="extra-hours-rate">{format!("Tarifa: {rate}. No se autorizan en domingo.")}</p>
                        <form method="post" action="/licencias/horas-extra" data-testid="extra-hours-form">
                            {hidden_csrf(&csrf)}
                            {hidden_licence(&v)}
                            {input(&errs, "fecha", "Fecha", "AAAA-MM-DD, de lunes a sábado.", "date", &day, true, "")}
                            {input(&errs, "horas", "Horas extras", "Número de horas.", "text", &hours, true, "numeric")}
                            {input(&errs, "horario", "Horario de las horas extras", "Por ejemplo: 02:00 a 04:00.", "text", &schedule, true, "")}
                            {contact_fields(&errs, &email, &phone)}
                            <button type="submit" class="button secondary" data-testid="extra-hours-submit">"Solicitar horas extras"</button>
                        </form>
                    </section>
                }
                .into_any()
            }
            Err(why) => view! {
                <section class="card" aria-labelledby="hours-title">
                    <h2 id="hours-title">"Horas extras"</h2>
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
                        Some(y) if r.is_new_licence() => format!("Expedición {y}"),
                        Some(y) => format!("Refrendo {y}"),
                        None => String::new(),
                    };
                    view! {
                        <tr data-testid="licence-request" data-number=r.number.clone()>
                            <td><a href=href>{r.number.clone()}</a></td>
                            <td>{r.filed_on.format("%d/%m/%Y").to_string()}</td>
                            <td>{year}</td>
                            <td>{r.status.label_es()}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <section aria-labelledby="history-title">
                    <h2 id="history-title">"Solicitudes de esta licencia"</h2>
                    <div class="table-scroll">
                        <table>
                            <thead><tr><th>"Solicitud"</th><th>"Presentada"</th><th>"Trámite"</th><th>"Estado"</th></tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                </section>
            }
        });
        let hours = if l.hours.is_empty() { "—".to_string() } else { l.hours.clone() };
        view! {
            <p class="back"><a href="/licencias">"Buscar otra licencia"</a></p>
            <h1>"Licencia "<span data-testid="licence-number">{l.number.clone()}</span></h1>
            {summary(&errors)}
            {v.refusal.clone().map(|why| view! {
                <div class="error-summary" role="alert" tabindex="-1" autofocus data-testid="licence-refusal">
                    <h2>"No se pudo continuar"</h2>
                    <p>{why}</p>
                </div>
            })}
            <dl class="owner" data-testid="licence">
                <div><dt>"Titular"</dt><dd>{crate::privacy::mask_name(&l.holder_name)}</dd></div>
                <div><dt>"Giro"</dt><dd data-testid="licence-giro">{v.giro_name.clone()}</dd></div>
                <div><dt>"Domicilio"</dt><dd data-testid="licence-address">{l.address.clone()}</dd></div>
                <div><dt>"Horario"</dt><dd>{hours}</dd></div>
                <div><dt>"Estado"</dt><dd data-testid="licence-status">{v.status_label.clone()}</dd></div>
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
