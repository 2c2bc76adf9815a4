//! The garbage collection's treasury page (`/personal/tesoreria/basura`,
//! tesorero): the businesses that receive the monthly service, the form
//! that registers one (with its monthly factor under a range tariff), the
//! form that charges N services of a tariff charged per service (a party
//! hall's collections, at the tariff's fixed factor), and the form that
//! sets an amount within a range tariff (a fine, a special service) as a
//! charge of an account. After each, the page shows what was done with its
//! quote. A whole document rendered on the server by `server::garbage`,
//! which checks the session and the role first; real forms, no script.
//! Spanish only.

#![cfg(feature = "ssr")]

use leptos::prelude::*;

use super::caja_pages::hidden_csrf;
use super::staff_pages::document;
use super::PageContext;
use crate::domain::garbage::{
    DUE_DAY_OF_MONTH, MAX_REASON_CHARS, MAX_SERVICES, MIN_REASON_CHARS, STAFF_CHARGE_DUE_DAYS,
};
use crate::domain::tariffs::{Rate, Tariff, TariffQuote};
use crate::store::{GarbageService, GarbageStaffCharge};

/// What the page shows.
pub struct GarbagePage {
    /// Services not ended before today, by account.
    pub services: Vec<GarbageService>,
    /// Whether the list stopped at its limit.
    pub services_truncated: bool,
    /// The monthly tariffs in force today (fixed and range).
    pub monthly: Vec<Tariff>,
    /// The range tariffs staff set, in force today.
    pub staff_set: Vec<Tariff>,
    /// The tariffs charged per service at a fixed factor, in force today.
    pub per_service: Vec<Tariff>,
    /// The latest amounts set by staff.
    pub staff_charges: Vec<GarbageStaffCharge>,
    /// What the forms had (after a refusal).
    pub typed: GarbageTyped,
    /// What was just done, shown back with its quote.
    pub done: Option<GarbageDone>,
}

/// What was just done (read again from the store).
pub enum GarbageDone {
    /// A service registered, and what it would owe a month at today's UMA.
    Service { service: GarbageService, quote: Option<TariffQuote> },
    /// A charge set (an amount within a range, or N services).
    Charge(GarbageStaffCharge),
}

/// The fields as they were sent (to show them again after a refusal).
#[derive(Clone, Debug, Default)]
pub struct GarbageTyped {
    pub service_account: String,
    pub service_tariff: String,
    pub service_from: String,
    pub service_factor: String,
    pub service_reason: String,
    pub charge_account: String,
    pub charge_tariff: String,
    pub charge_factor: String,
    pub charge_reason: String,
    pub per_service_account: String,
    pub per_service_tariff: String,
    pub per_service_quantity: String,
    pub per_service_reason: String,
    /// The id of the field a refusal is about (`alta-factor`), which the
    /// error summary links to.
    pub error_field: Option<String>,
}

fn rate_es(t: &Tariff) -> String {
    match &t.rate {
        Rate::Uma(f) => format!("{} UMA", f.normalize()),
        Rate::UmaRange { min, max } => format!("de {} a {} UMA", min.normalize(), max.normalize()),
        Rate::Percent(p) => format!("{} %", p.normalize()),
        Rate::NotAuthorized(_) => "no se autoriza".into(),
    }
}

fn options(tariffs: &[Tariff], chosen: &str, per: &str) -> impl IntoView {
    tariffs
        .iter()
        .map(|t| {
            let label = format!("{} — {} ({}{per})", t.code, t.name, rate_es(t));
            let selected = t.code == chosen;
            view! { <option value=t.code.clone() selected=selected>{label}</option> }
        })
        .collect_view()
}

/// The error summary of a refusal, its message linked to the field it is
/// about; or the notice of what was done.
fn notice_view(notice: super::caja_pages::Notice, field: Option<String>) -> impl IntoView {
    notice.map(|(ok, text)| {
        if ok {
            view! { <div class="notice ok" role="status" data-testid="caja-notice"><p>{text}</p></div> }.into_any()
        } else {
            let message = match field {
                Some(f) => view! { <a href=format!("#{f}")>{text}</a> }.into_any(),
                None => text.into_any(),
            };
            view! {
                <div class="error-summary" role="alert" tabindex="-1" autofocus data-testid="caja-error"
                    aria-labelledby="garbage-error-title">
                    <h2 id="garbage-error-title">"Revise lo siguiente"</h2>
                    <ul><li>{message}</li></ul>
                </div>
            }
            .into_any()
        }
    })
}

fn day(d: chrono::NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// What was just done, with its quote.
fn done_view(done: GarbageDone, tariffs: &[&Tariff]) -> AnyView {
    let name_of = |code: &str| tariffs.iter().find(|t| t.code == code).map(|t| t.name.clone()).unwrap_or_default();
    match done {
        GarbageDone::Service { service, quote } => {
            let factor = service.factor.map(|f| format!("{} UMA al mes (fijado al registrar)", f.normalize()));
            let monthly = quote.map(|q| {
                let uma = q.uma.map(|u| format!("${}", u.daily_value)).unwrap_or_default();
                format!(
                    "{} UMA × 1 mes × {uma} (UMA de hoy) = {} al mes. Cada mes se calcula con la UMA del primer \
                     día del mes.",
                    q.factor.normalize(),
                    q.fee.display_mxn()
                )
            });
            view! {
                <div class="notice success" role="status" data-testid="garbage-done">
                    <h2>"Servicio registrado"</h2>
                    <dl class="owner">
                        <div><dt>"Cuenta"</dt><dd>{format!("{} — {}", service.account, service.taxpayer)}</dd></div>
                        <div><dt>"Tarifa"</dt><dd>{format!("{} — {}", service.tariff, name_of(&service.tariff))}</dd></div>
                        {factor.map(|f| view! { <div><dt>"Factor"</dt><dd data-testid="garbage-done-factor">{f}</dd></div> })}
                        <div><dt>"Desde"</dt><dd>{day(service.starts_on)}</dd></div>
                        {service.reason.map(|r| view! { <div><dt>"Motivo"</dt><dd>{r}</dd></div> })}
                    </dl>
                    {monthly.map(|m| view! { <p data-testid="garbage-quote">{m}</p> })}
                </div>
            }
            .into_any()
        }
        GarbageDone::Charge(c) => {
            let formula = if c.quantity == 1 {
                format!("{} UMA × ${} (UMA de hoy) = {}", c.factor.normalize(), c.uma.normalize(), c.fee.display_mxn())
            } else {
                format!(
                    "{} servicios × {} UMA × ${} (UMA de hoy) = {}",
                    c.quantity,
                    c.factor.normalize(),
                    c.uma.normalize(),
                    c.fee.display_mxn()
                )
            };
            view! {
                <div class="notice success" role="status" data-testid="garbage-done">
                    <h2>"Adeudo registrado"</h2>
                    <dl class="owner">
                        <div><dt>"Cuenta"</dt><dd>{format!("{} — {}", c.account, c.taxpayer)}</dd></div>
                        <div><dt>"Tarifa"</dt><dd>{format!("{} — {}", c.tariff, name_of(&c.tariff))}</dd></div>
                        <div><dt>"Periodo"</dt><dd>{c.period.clone()}</dd></div>
                        <div><dt>"Importe"</dt><dd data-testid="garbage-quote">{formula}</dd></div>
                        <div><dt>"Vence"</dt><dd>{day(c.due_date)}</dd></div>
                        <div><dt>"Motivo"</dt><dd>{c.reason.clone()}</dd></div>
                    </dl>
                </div>
            }
            .into_any()
        }
    }
}

/// `GET /personal/tesoreria/basura` (tesorero).
pub fn garbage_document(ctx: PageContext, csrf: &str, page: GarbagePage, notice: super::caja_pages::Notice) -> String {
    let csrf = csrf.to_string();
    document(ctx, "Recolección de basura", move || {
        let GarbagePage { services, services_truncated, monthly, staff_set, per_service, staff_charges, typed, done } =
            page;
        let invalid = |id: &str| (typed.error_field.as_deref() == Some(id)).to_string();
        let all: Vec<&Tariff> = monthly.iter().chain(&staff_set).chain(&per_service).collect();
        let done = done.map(|d| done_view(d, &all));
        let name_of = |code: &str| {
            monthly.iter().find(|t| t.code == code).map(|t| t.name.clone()).unwrap_or_else(|| code.to_string())
        };
        let monthly_factor = |s: &GarbageService| match (s.factor, monthly.iter().find(|t| t.code == s.tariff)) {
            (Some(f), _) => format!("{} UMA", f.normalize()),
            (None, Some(Tariff { rate: Rate::Uma(f), .. })) => format!("{} UMA", f.normalize()),
            _ => "—".into(),
        };
        let none = services.is_empty().then(|| {
            view! { <p data-testid="garbage-none">"Ningún establecimiento recibe el servicio todavía."</p> }
        });
        let truncated = services_truncated.then(|| {
            view! { <p>"La lista muestra solo los primeros servicios, por número de cuenta."</p> }
        });
        let rows = services
            .iter()
            .map(|s| {
                let until = s.ends_on.map(day).unwrap_or_else(|| "—".into());
                view! {
                    <tr data-testid="garbage-service" data-account=s.account.clone()>
                        <td>{s.account.clone()}</td>
                        <td>{s.taxpayer.clone()}</td>
                        <td>{s.tariff.clone()}</td>
                        <td>{name_of(&s.tariff)}</td>
                        <td class="num">{monthly_factor(s)}</td>
                        <td>{day(s.starts_on)}</td>
                        <td>{until}</td>
                    </tr>
                }
            })
            .collect_view();
        let charge_rows = staff_charges
            .iter()
            .map(|c| {
                view! {
                    <tr data-testid="garbage-staff-charge" data-period=c.period.clone()>
                        <td>{c.account.clone()}</td>
                        <td>{c.taxpayer.clone()}</td>
                        <td>{c.tariff.clone()}</td>
                        <td>{c.period.clone()}</td>
                        <td class="num">{c.quantity.to_string()}</td>
                        <td class="num">{format!("{} UMA", c.factor.normalize())}</td>
                        <td class="num">{c.fee.display_mxn()}</td>
                        <td>{day(c.due_date)}</td>
                        <td>{c.status.name_es()}</td>
                        <td>{c.reason.clone()}</td>
                        <td>{c.created_by.clone()}</td>
                    </tr>
                }
            })
            .collect_view();
        let per_service_rows = per_service
            .iter()
            .map(|t| {
                view! {
                    <tr data-testid="garbage-per-service-tariff" data-tariff=t.code.clone()>
                        <td>{t.code.clone()}</td>
                        <td>{t.name.clone()}</td>
                        <td class="num">{format!("{} por servicio", rate_es(t))}</td>
                    </tr>
                }
            })
            .collect_view();
        let ranges: Vec<String> = monthly
            .iter()
            .filter_map(|t| match &t.rate {
                Rate::UmaRange { min, max } => {
                    Some(format!("{}: de {} a {} UMA al mes", t.code, min.normalize(), max.normalize()))
                }
                _ => None,
            })
            .collect();
        let factor_help = if ranges.is_empty() {
            "Solo para una tarifa mensual con rango; déjelo vacío con las de factor fijo.".to_string()
        } else {
            format!(
                "Solo para una tarifa mensual con rango ({}): la tesorería fija el factor mensual dentro del rango. \
                 Déjelo vacío con las tarifas de factor fijo.",
                ranges.join("; ")
            )
        };
        let (csrf_a, csrf_b, csrf_c) = (csrf.clone(), csrf.clone(), csrf.clone());
        let due_note = if DUE_DAY_OF_MONTH >= 31 {
            "vence el último día del mes".to_string()
        } else {
            format!("vence el día {DUE_DAY_OF_MONTH} del mes (o el último, si el mes es más corto)")
        };
        let reason_help = format!("De {MIN_REASON_CHARS} a {MAX_REASON_CHARS} caracteres; queda en la bitácora.");
        let reason_help_b = reason_help.clone();
        let reason_help_c = reason_help.clone();
        view! {
            <h1>"Recolección de basura"</h1>
            {notice_view(notice, typed.error_field.clone())}
            {done}
            <p>{format!(
                "Los establecimientos registrados aquí reciben cada mes un cargo de su tarifa (categoría y frecuencia, \
                 o el factor mensual fijado al registrarlo), calculado con la UMA del primer día del mes; {due_note}. \
                 Los cargos de un mes se generan con «recauda cargos generar basura --mes AAAA-MM»; generarlos otra \
                 vez no crea nada nuevo."
            )}</p>
            <h2>"Establecimientos con servicio"</h2>
            {none}
            {truncated}
            <div class="table-wrap">
                <table data-testid="garbage-services">
                    <thead><tr><th>"Cuenta"</th><th>"Contribuyente"</th><th>"Tarifa"</th><th>"Categoría y frecuencia"</th><th>"Factor mensual"</th><th>"Desde"</th><th>"Hasta"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <h2>"Registrar un establecimiento"</h2>
            <form method="post" action="/personal/tesoreria/basura/alta" class="card" data-testid="garbage-register">
                {hidden_csrf(&csrf_a)}
                <label for="alta-cuenta">"Número de cuenta del padrón"</label>
                <input id="alta-cuenta" name="cuenta" type="text" required autocomplete="off" autocapitalize="characters"
                    aria-invalid=invalid("alta-cuenta") value=typed.service_account.clone()/>
                <label for="alta-tarifa">"Tarifa mensual"</label>
                <select id="alta-tarifa" name="tarifa" required aria-invalid=invalid("alta-tarifa")>
                    {options(&monthly, &typed.service_tariff, " al mes")}
                </select>
                <label for="alta-factor">"Factor mensual en UMA"<span class="muted">" (solo tarifas con rango)"</span></label>
                <p id="alta-factor-help" class="help">{factor_help}</p>
                <input id="alta-factor" name="factor" type="text" inputmode="decimal" autocomplete="off"
                    aria-describedby="alta-factor-help" aria-invalid=invalid("alta-factor") value=typed.service_factor.clone()/>
                <label for="alta-motivo">"Motivo"<span class="muted">" (opcional)"</span></label>
                <p id="alta-motivo-help" class="help">{reason_help}</p>
                <textarea id="alta-motivo" name="motivo" maxlength="500" aria-describedby="alta-motivo-help"
                    aria-invalid=invalid("alta-motivo")>{typed.service_reason.clone()}</textarea>
                <label for="alta-desde">"Desde"</label>
                <input id="alta-desde" name="desde" type="date" required aria-invalid=invalid("alta-desde")
                    value=typed.service_from.clone()/>
                <button type="submit" class="button">"Registrar servicio"</button>
            </form>
            <h2>"Servicios de salones de baile o fiestas"</h2>
            <p>{format!(
                "Se cobran por servicio, con el factor fijo de su tarifa × el número de servicios × la UMA de hoy. \
                 Se vuelve un adeudo de la cuenta que vence en {STAFF_CHARGE_DUE_DAYS} días; el motivo (por ejemplo, \
                 la fecha del evento) queda en la bitácora."
            )}</p>
            <div class="table-wrap">
                <table data-testid="garbage-per-service-tariffs">
                    <thead><tr><th>"Tarifa"</th><th>"Concepto"</th><th>"Factor fijo"</th></tr></thead>
                    <tbody>{per_service_rows}</tbody>
                </table>
            </div>
            <form method="post" action="/personal/tesoreria/basura/servicio" class="card" data-testid="garbage-per-service">
                {hidden_csrf(&csrf_c)}
                <label for="servicio-cuenta">"Número de cuenta del padrón"</label>
                <input id="servicio-cuenta" name="cuenta" type="text" required autocomplete="off" autocapitalize="characters"
                    aria-invalid=invalid("servicio-cuenta") value=typed.per_service_account.clone()/>
                <label for="servicio-tarifa">"Tarifa (factor fijo por servicio)"</label>
                <select id="servicio-tarifa" name="tarifa" required aria-invalid=invalid("servicio-tarifa")>
                    {options(&per_service, &typed.per_service_tariff, " por servicio")}
                </select>
                <label for="servicio-cantidad">"Número de servicios"</label>
                <p id="servicio-cantidad-help" class="help">{format!("Un número entero de 1 a {MAX_SERVICES}.")}</p>
                <input id="servicio-cantidad" name="cantidad" type="number" min="1" max=MAX_SERVICES.to_string() step="1"
                    inputmode="numeric" required autocomplete="off" aria-describedby="servicio-cantidad-help"
                    aria-invalid=invalid("servicio-cantidad") value=typed.per_service_quantity.clone()/>
                <label for="servicio-motivo">"Motivo o referencia (fecha del evento)"</label>
                <p id="servicio-motivo-help" class="help">{reason_help_c}</p>
                <textarea id="servicio-motivo" name="motivo" required minlength="10" maxlength="500"
                    aria-describedby="servicio-motivo-help" aria-invalid=invalid("servicio-motivo")>{typed.per_service_reason.clone()}</textarea>
                <button type="submit" class="button">"Cobrar servicios"</button>
            </form>
            <h2>"Multas y servicios con importe del personal"</h2>
            <p>{format!(
                "El importe se fija en UMA dentro del rango de la tarifa y se calcula con la UMA de hoy. Se vuelve un \
                 adeudo de la cuenta que vence en {STAFF_CHARGE_DUE_DAYS} días; el motivo queda en la bitácora."
            )}</p>
            <form method="post" action="/personal/tesoreria/basura/multa" class="card" data-testid="garbage-fine">
                {hidden_csrf(&csrf_b)}
                <label for="multa-cuenta">"Número de cuenta del padrón"</label>
                <input id="multa-cuenta" name="cuenta" type="text" required autocomplete="off" autocapitalize="characters"
                    aria-invalid=invalid("multa-cuenta") value=typed.charge_account.clone()/>
                <label for="multa-tarifa">"Tarifa"</label>
                <select id="multa-tarifa" name="tarifa" required aria-invalid=invalid("multa-tarifa")>
                    {options(&staff_set, &typed.charge_tariff, "")}
                </select>
                <label for="multa-factor">"Importe en UMA"</label>
                <input id="multa-factor" name="factor" type="text" inputmode="decimal" required autocomplete="off"
                    aria-invalid=invalid("multa-factor") value=typed.charge_factor.clone()/>
                <label for="multa-motivo">"Motivo"</label>
                <p id="multa-motivo-help" class="help">{reason_help_b}</p>
                <textarea id="multa-motivo" name="motivo" required minlength="10" maxlength="500"
                    aria-describedby="multa-motivo-help" aria-invalid=invalid("multa-motivo")>{typed.charge_reason.clone()}</textarea>
                <button type="submit" class="button">"Registrar adeudo"</button>
            </form>
            <h2>"Últimos importes fijados"</h2>
            <div class="table-wrap">
                <table data-testid="garbage-staff-charges">
                    <thead><tr><th>"Cuenta"</th><th>"Contribuyente"</th><th>"Tarifa"</th><th>"Periodo"</th><th>"Servicios"</th><th>"Factor"</th><th>"Importe"</th><th>"Vence"</th><th>"Estado"</th><th>"Motivo"</th><th>"Registró"</th></tr></thead>
                    <tbody>{charge_rows}</tbody>
                </table>
            </div>
            <p><a href="/personal">"Volver"</a></p>
        }
        .into_any()
    })
}
