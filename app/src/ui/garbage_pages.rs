//! The garbage collection's treasury page (`/personal/tesoreria/basura`,
//! tesorero): the businesses that receive the monthly service, the form
//! that registers one, and the form that sets an amount within a range
//! tariff (a fine, a special service) as a charge of an account. A whole
//! document rendered on the server by `server::garbage`, which checks the
//! session and the role first; real forms, no script. Spanish only.

#![cfg(feature = "ssr")]

use leptos::prelude::*;

use super::caja_pages::{hidden_csrf, notice_view, Notice};
use super::staff_pages::document;
use super::PageContext;
use crate::domain::garbage::{DUE_DAY_OF_MONTH, STAFF_CHARGE_DUE_DAYS};
use crate::domain::tariffs::{Rate, Tariff};
use crate::store::{GarbageService, GarbageStaffCharge};

/// What the page shows.
pub struct GarbagePage {
    /// Services not ended before today, by account.
    pub services: Vec<GarbageService>,
    /// Whether the list stopped at its limit.
    pub services_truncated: bool,
    /// The monthly tariffs in force today (code, name, factor).
    pub monthly: Vec<Tariff>,
    /// The range tariffs staff set, in force today.
    pub staff_set: Vec<Tariff>,
    /// The latest amounts set by staff.
    pub staff_charges: Vec<GarbageStaffCharge>,
    /// What the forms had (after a refusal): account, tariff, date; account,
    /// tariff, factor, reason.
    pub typed: GarbageTyped,
}

/// The fields as they were sent (to show them again after a refusal).
#[derive(Clone, Debug, Default)]
pub struct GarbageTyped {
    pub service_account: String,
    pub service_tariff: String,
    pub service_from: String,
    pub charge_account: String,
    pub charge_tariff: String,
    pub charge_factor: String,
    pub charge_reason: String,
}

fn rate_es(t: &Tariff) -> String {
    match &t.rate {
        Rate::Uma(f) => format!("{} UMA", f.normalize()),
        Rate::UmaRange { min, max } => format!("de {} a {} UMA", min.normalize(), max.normalize()),
        Rate::Percent(p) => format!("{} %", p.normalize()),
        Rate::NotAuthorized(_) => "no se autoriza".into(),
    }
}

fn options(tariffs: &[Tariff], chosen: &str) -> impl IntoView {
    tariffs
        .iter()
        .map(|t| {
            let label = format!("{} — {} ({})", t.code, t.name, rate_es(t));
            let selected = t.code == chosen;
            view! { <option value=t.code.clone() selected=selected>{label}</option> }
        })
        .collect_view()
}

/// `GET /personal/tesoreria/basura` (tesorero).
pub fn garbage_document(ctx: PageContext, csrf: &str, page: GarbagePage, notice: Notice) -> String {
    let csrf = csrf.to_string();
    document(ctx, "Recolección de basura", move || {
        let GarbagePage { services, services_truncated, monthly, staff_set, staff_charges, typed } = page;
        let name_of = |code: &str| {
            monthly.iter().find(|t| t.code == code).map(|t| t.name.clone()).unwrap_or_else(|| code.to_string())
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
                let until = s.ends_on.map(|d| d.format("%d/%m/%Y").to_string()).unwrap_or_else(|| "—".into());
                view! {
                    <tr data-testid="garbage-service" data-account=s.account.clone()>
                        <td>{s.account.clone()}</td>
                        <td>{s.taxpayer.clone()}</td>
                        <td>{s.tariff.clone()}</td>
                        <td>{name_of(&s.tariff)}</td>
                        <td>{s.starts_on.format("%d/%m/%Y").to_string()}</td>
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
                        <td class="num">{format!("{} UMA", c.factor.normalize())}</td>
                        <td class="num">{c.fee.display_mxn()}</td>
                        <td>{c.due_date.format("%d/%m/%Y").to_string()}</td>
                        <td>{c.status.name_es()}</td>
                        <td>{c.reason.clone()}</td>
                        <td>{c.created_by.clone()}</td>
                    </tr>
                }
            })
            .collect_view();
        let (csrf_a, csrf_b) = (csrf.clone(), csrf.clone());
        let due_note = if DUE_DAY_OF_MONTH >= 31 {
            "vence el último día del mes".to_string()
        } else {
            format!("vence el día {DUE_DAY_OF_MONTH} del mes (o el último, si el mes es más corto)")
        };
        view! {
            <h1>"Recolección de basura"</h1>
            {notice_view(notice)}
            <p>{format!(
                "Los establecimientos registrados aquí reciben cada mes un cargo de su tarifa (categoría y frecuencia), \
                 calculado con la UMA del primer día del mes; {due_note}. Los cargos de un mes se generan con \
                 «recauda cargos generar basura --mes AAAA-MM»; generarlos otra vez no crea nada nuevo."
            )}</p>
            <h2>"Establecimientos con servicio"</h2>
            {none}
            {truncated}
            <div class="table-wrap">
                <table data-testid="garbage-services">
                    <thead><tr><th>"Cuenta"</th><th>"Contribuyente"</th><th>"Tarifa"</th><th>"Categoría y frecuencia"</th><th>"Desde"</th><th>"Hasta"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <h2>"Registrar un establecimiento"</h2>
            <form method="post" action="/personal/tesoreria/basura/alta" class="card" data-testid="garbage-register">
                {hidden_csrf(&csrf_a)}
                <label for="alta-cuenta">"Número de cuenta del padrón"</label>
                <input id="alta-cuenta" name="cuenta" type="text" required autocomplete="off" autocapitalize="characters" value=typed.service_account.clone()/>
                <label for="alta-tarifa">"Tarifa mensual"</label>
                <select id="alta-tarifa" name="tarifa" required>{options(&monthly, &typed.service_tariff)}</select>
                <label for="alta-desde">"Desde"</label>
                <input id="alta-desde" name="desde" type="date" required value=typed.service_from.clone()/>
                <button type="submit" class="button">"Registrar servicio"</button>
            </form>
            <h2>"Multas y servicios con importe del personal"</h2>
            <p>{format!(
                "El importe se fija en UMA dentro del rango de la tarifa y se calcula con la UMA de hoy. Se vuelve un \
                 adeudo de la cuenta que vence en {STAFF_CHARGE_DUE_DAYS} días; el motivo queda en la bitácora."
            )}</p>
            <form method="post" action="/personal/tesoreria/basura/multa" class="card" data-testid="garbage-fine">
                {hidden_csrf(&csrf_b)}
                <label for="multa-cuenta">"Número de cuenta del padrón"</label>
                <input id="multa-cuenta" name="cuenta" type="text" required autocomplete="off" autocapitalize="characters" value=typed.charge_account.clone()/>
                <label for="multa-tarifa">"Tarifa"</label>
                <select id="multa-tarifa" name="tarifa" required>{options(&staff_set, &typed.charge_tariff)}</select>
                <label for="multa-factor">"Importe en UMA"</label>
                <input id="multa-factor" name="factor" type="text" inputmode="decimal" required autocomplete="off" value=typed.charge_factor.clone()/>
                <label for="multa-motivo">"Motivo"</label>
                <textarea id="multa-motivo" name="motivo" required minlength="10" maxlength="500">{typed.charge_reason.clone()}</textarea>
                <button type="submit" class="button">"Registrar adeudo"</button>
            </form>
            <h2>"Últimos importes fijados"</h2>
            <div class="table-wrap">
                <table data-testid="garbage-staff-charges">
                    <thead><tr><th>"Cuenta"</th><th>"Contribuyente"</th><th>"Tarifa"</th><th>"Periodo"</th><th>"Factor"</th><th>"Importe"</th><th>"Vence"</th><th>"Estado"</th><th>"Motivo"</th><th>"Registró"</th></tr></thead>
                    <tbody>{charge_rows}</tbody>
                </table>
            </div>
            <p><a href="/personal">"Volver"</a></p>
        }
        .into_any()
    })
}
