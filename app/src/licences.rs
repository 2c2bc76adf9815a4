//! Alcohol licences, as a service: a business finds its licence by number
//! and RFC, sees this year's renewal fee for its giro, and files from there
//! its renewal (refrendo), a change of address or extra hours — each a
//! permit request of the procedure the tariffs belong to, so the review,
//! the payment and the signed permit are the permits' own.
//!
//! * A renewal that changes nothing is approved by the system as it is
//!   filed and goes straight to payment; a change of giro, address or hours
//!   goes to review, its lines the new giro's renewal plus the change of
//!   address when there is one.
//! * A renewal can be neither started nor paid while the holder's RFC owes
//!   an open charge already due of the concepts the municipality file
//!   names (`[licences] paid_up_concepts`), or an earlier renewal of the
//!   licence is unpaid ([`renewal_debts_in_order`] is the payment's check).
//!
//! The pages are `server::licences`; the rules and the storage are
//! [`crate::domain::licences`] and [`crate::store::licences`].

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use crate::domain::licences::{extra_hours_allowed_on, fiscal_year, licence_tariff, LicenceChange, LicenceUse};
use crate::domain::money::Centavos;
use crate::domain::municipality::Municipality;
use crate::domain::permits::{PermitScope, RequestLine};
use crate::domain::rfc::Rfc;
use crate::domain::tariffs::{self, QuoteError, Tariff, TariffQuote};
use crate::domain::uma::UmaTable;
use crate::permits::{date, email_error, err, is_email, phone_error, text, FieldError, PAYMENT_DAYS};
use crate::store::{
    ApprovedLine, ChargeRecord, Licence, LicenceDebt, LicenceLink, NewPermitRequest, PaidUpCheck, Store, StoreError,
    SystemApproval,
};

/// The timeline's comment of a renewal approved as it is filed.
pub const UNCHANGED_RENEWAL_COMMENT: &str = "Refrendo sin cambios: pasa directo a pago";

/// How far ahead extra hours may be requested.
const MAX_DAYS_AHEAD: i64 = 366;
/// Most extra hours in one request (one night).
const MAX_EXTRA_HOURS: u32 = 12;

/// The licence with this number whose holder has this RFC; `None` for an
/// unknown number and for a known one with another RFC alike (the answer
/// does not tell which).
pub async fn find_licence(store: &Store, number: &str, rfc: &Rfc) -> Result<Option<Licence>, StoreError> {
    let Some(number) = crate::domain::licences::parse_licence_number(number) else { return Ok(None) };
    let found = store.licence_by_number(&number).await?;
    Ok(found.filter(|l| same_text(&l.holder_rfc, rfc.as_str())))
}

/// Compares two short texts without stopping at the first difference.
fn same_text(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What a renewal of `licence` must satisfy on `today`.
pub fn paid_up_check(m: &Municipality, licence: &Licence, today: NaiveDate) -> PaidUpCheck {
    PaidUpCheck { rfc: licence.holder_rfc.clone(), concepts: m.licences.paid_up_concepts.clone(), today }
}

/// What keeps `licence` from being renewed this year (or this year's
/// renewal, whose own account is `leave_out`, from being paid): the debts
/// to pay first (none: it may be).
pub async fn renewal_debts(
    store: &Store,
    m: &Municipality,
    licence: &Licence,
    today: NaiveDate,
    leave_out: &[i64],
) -> Result<Vec<LicenceDebt>, StoreError> {
    store.licence_debts(&paid_up_check(m, licence, today), licence.id, today.year(), leave_out).await
}

/// This year's renewal fee of a giro, quoted by its tariff.
pub fn renewal_quote(
    m: &Municipality,
    uma: &UmaTable,
    giro: &str,
    today: NaiveDate,
) -> Result<TariffQuote, QuoteError> {
    let tariff = licence_tariff(m, LicenceUse::Renewal, giro, today)
        .ok_or_else(|| QuoteError::UnknownTariff(format!("refrendo del giro {giro}")))?;
    tariffs::quote(&m.tariff_schedules, uma, &tariff.code, Decimal::ONE, today, None)
}

/// The tariff of extra hours of a giro: `None` when the giro has none (not
/// offered); a "no se autoriza" tariff is returned (refused when quoted).
pub fn extra_hours_tariff<'a>(m: &'a Municipality, giro: &str, today: NaiveDate) -> Option<&'a Tariff> {
    licence_tariff(m, LicenceUse::ExtraHours, giro, today)
}

/// The giro's name ("Bar y/o discoteca"), or its code.
pub fn giro_name(m: &Municipality, code: &str) -> String {
    m.giro(code).map_or_else(|| code.to_string(), |g| g.name.clone())
}

/// The contact fields every form of a licence's page asks for.
#[derive(Clone, Debug, Default)]
pub struct Contact {
    pub email: String,
    pub phone: String,
}

/// A renewal's form: what changes (empty: nothing).
#[derive(Clone, Debug, Default)]
pub struct RenewalForm {
    pub contact: Contact,
    pub giro: String,
    pub address: String,
    pub hours: String,
}

/// An extra-hours form.
#[derive(Clone, Debug, Default)]
pub struct ExtraHoursForm {
    pub contact: Contact,
    /// AAAA-MM-DD.
    pub day: String,
    pub hours: String,
    /// "02:00 a 04:00".
    pub schedule: String,
}

/// A request of a licence's page, ready to file: the request, the quotes
/// behind its fees and, for an unchanged renewal, the system's approval.
#[derive(Clone, Debug)]
pub struct PreparedLicenceRequest {
    pub request: NewPermitRequest,
    pub quotes: Vec<TariffQuote>,
    pub approval: Option<SystemApproval>,
    /// A renewal, whose holder must be paid up.
    pub renewal: bool,
}

fn contact(c: &Contact, errors: &mut Vec<FieldError>) -> (String, Option<String>) {
    let email = c.email.trim().to_lowercase();
    if !is_email(&email) {
        errors.push(email_error());
    }
    let phone: String = c.phone.chars().filter(char::is_ascii_digit).collect();
    if !c.phone.trim().is_empty() && phone.len() != 10 {
        errors.push(phone_error());
    }
    (email, Some(phone).filter(|p| !p.is_empty()))
}

/// Quotes one line of a licence's request; a refusal is the field's error.
fn quote_line(
    m: &Municipality,
    uma: &UmaTable,
    tariff: &Tariff,
    quantity: Decimal,
    today: NaiveDate,
    field: &str,
) -> Result<(ApprovedLine, TariffQuote), FieldError> {
    let q = tariffs::quote(&m.tariff_schedules, uma, &tariff.code, quantity, today, None)
        .map_err(|e| err(field, e.message_es(), e.message_en()))?;
    let concept = m.tariff_group(&tariff.group).map(|g| g.concept.clone()).unwrap_or_default();
    let line = RequestLine { tariff: tariff.code.clone(), quantity, staff_factor: None, fee: Some(q.fee) };
    Ok((ApprovedLine { concept, line }, q))
}

fn procedure_of(m: &Municipality, t: &Tariff) -> String {
    m.tariff_group(&t.group).map_or_else(String::new, |g| g.procedure.clone())
}

fn total(lines: &[ApprovedLine]) -> Option<Centavos> {
    lines.iter().map(|l| l.line.fee).try_fold(Centavos::ZERO, |t, f| t.checked_add(f?))
}

fn measure(m: &Municipality, licence: &Licence, giro: &str) -> String {
    format!("Licencia {} · Giro: {}", licence.number, giro_name(m, giro))
}

fn new_request(
    licence: &Licence,
    procedure: String,
    scope: PermitScope,
    lines: &[ApprovedLine],
    (email, phone): (String, Option<String>),
    link: LicenceLink,
) -> NewPermitRequest {
    NewPermitRequest {
        procedure,
        renewal: true,
        applicant_name: licence.holder_name.clone(),
        applicant_email: email,
        applicant_rfc: Some(licence.holder_rfc.clone()),
        applicant_phone: phone,
        scope,
        lines: lines.iter().map(|l| l.line.clone()).collect(),
        fee: total(lines),
        licence: Some(link),
        new_licence_giro: None,
    }
}

/// This year's renewal of `licence` from its form. Nothing changed: the
/// refrendo of its giro, approved by the system as it is filed. A change of
/// giro, address or hours: the refrendo of the new giro, plus the change of
/// address when the address changes, for review; the scope says what
/// changes.
pub fn prepare_renewal(
    m: &Municipality,
    uma: &UmaTable,
    licence: &Licence,
    form: &RenewalForm,
    today: NaiveDate,
) -> Result<PreparedLicenceRequest, Vec<FieldError>> {
    let mut errors = Vec::new();
    let who = contact(&form.contact, &mut errors);
    let mut keep = |r: Result<String, FieldError>| r.map_err(|e| errors.push(e)).unwrap_or_default();
    let address = keep(text("domicilio", &form.address, 0, 200, ("el nuevo domicilio", "the new address")));
    let hours = keep(text("horario", &form.hours, 0, 60, ("el nuevo horario", "the new hours")));
    let giro = form.giro.trim().to_string();
    let mut change = LicenceChange::default();
    if !giro.is_empty() && giro != licence.giro {
        if m.giro(&giro).is_some() {
            change.giro = Some(giro.clone());
        } else {
            errors.push(err(
                "giro",
                "Elija el nuevo giro de la lista.",
                "Choose the new line of business (giro) from the list.",
            ));
        }
    }
    if !address.is_empty() && address != licence.address {
        if address.chars().count() < 5 {
            errors.push(err(
                "domicilio",
                "Escriba el nuevo domicilio completo: calle, número y colonia.",
                "Type the full new address: street, number and neighbourhood (colonia).",
            ));
        } else {
            change.address = Some(address.clone());
        }
    }
    if !hours.is_empty() && hours != licence.hours {
        change.hours = Some(hours.clone());
    }
    let year = today.year();
    let Some((starts_on, ends_on)) = fiscal_year(year) else {
        errors.push(err("correo", "El ejercicio no es válido.", "The fiscal year is not valid."));
        return Err(errors);
    };
    let new_giro = change.giro.clone().unwrap_or_else(|| licence.giro.clone());
    let mut lines = Vec::new();
    let mut quotes = Vec::new();
    // The new giro's refrendo, and the change of address when asked.
    let fee = |use_: LicenceUse, field: &'static str, missing: FieldError| {
        let t = licence_tariff(m, use_, &new_giro, today).ok_or(missing)?;
        quote_line(m, uma, t, Decimal::ONE, today, field)
    };
    let mut fees = vec![fee(
        LicenceUse::Renewal,
        "giro",
        err(
            "giro",
            "Ese giro no tiene tarifa de refrendo: acuda a la Dirección de Ingresos.",
            "That giro has no renewal tariff: please go to the revenue office (Dirección de Ingresos).",
        ),
    )];
    if change.address.is_some() {
        fees.push(fee(
            LicenceUse::AddressChange,
            "domicilio",
            err(
                "domicilio",
                "Ese giro no tiene tarifa de cambio de domicilio.",
                "That giro has no change-of-address tariff.",
            ),
        ));
    }
    for f in fees {
        match f {
            Ok((l, q)) => {
                lines.push(l);
                quotes.push(q);
            }
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let Some(main) = licence_tariff(m, LicenceUse::Renewal, &new_giro, today) else { return Err(errors) };
    let mut description = format!("Refrendo de la licencia {}, ejercicio {year}.", licence.number);
    let mut changes = Vec::new();
    if let Some(g) = &change.giro {
        changes.push(format!("giro: {} → {}", giro_name(m, &licence.giro), giro_name(m, g)));
    }
    if let Some(a) = &change.address {
        changes.push(format!("domicilio: «{}» → «{a}»", licence.address));
    }
    if let Some(h) = &change.hours {
        let before = if licence.hours.is_empty() { "sin horario registrado" } else { licence.hours.as_str() };
        changes.push(format!("horario: «{before}» → «{h}»"));
    }
    if !changes.is_empty() {
        description.push_str(&format!(" Cambios solicitados: {}.", changes.join("; ")));
    }
    let scope = PermitScope {
        procedure: procedure_of(m, main),
        tariff: main.code.clone(),
        holder: licence.holder_name.clone(),
        location: change.address.clone().unwrap_or_else(|| licence.address.clone()),
        starts_on,
        ends_on,
        hours: change.hours.clone().unwrap_or_else(|| licence.hours.clone()),
        measure: measure(m, licence, &new_giro),
        description,
        conditions: String::new(),
        attendance: None,
        licence: None,
    };
    let unchanged = change.is_empty();
    let approval = unchanged.then(|| SystemApproval {
        lines: lines.clone(),
        due_date: today + chrono::Duration::days(PAYMENT_DAYS),
        comment: UNCHANGED_RENEWAL_COMMENT.into(),
    });
    let link = LicenceLink { licence_id: licence.id, year: Some(year), change: Some(change).filter(|c| !c.is_empty()) };
    Ok(PreparedLicenceRequest {
        request: new_request(licence, scope.procedure.clone(), scope, &lines, who, link),
        quotes,
        approval,
        renewal: true,
    })
}

/// A change of the establishment's address, for review: the giro's
/// change-of-address fee; once paid the licence takes the new address.
pub fn prepare_address_change(
    m: &Municipality,
    uma: &UmaTable,
    licence: &Licence,
    contact_form: &Contact,
    new_address: &str,
    today: NaiveDate,
) -> Result<PreparedLicenceRequest, Vec<FieldError>> {
    let mut errors = Vec::new();
    let who = contact(contact_form, &mut errors);
    let what = (
        "el nuevo domicilio completo (calle, número y colonia)",
        "the full new address (street, number and neighbourhood)",
    );
    let address = text("domicilio", new_address, 5, 200, what).map_err(|e| errors.push(e)).unwrap_or_default();
    if !address.is_empty() && address == licence.address {
        errors.push(err(
            "domicilio",
            "El nuevo domicilio es el mismo que el registrado.",
            "The new address is the same as the registered one.",
        ));
    }
    let Some(tariff) = licence_tariff(m, LicenceUse::AddressChange, &licence.giro, today) else {
        errors.push(err(
            "domicilio",
            "El giro de su licencia no tiene tarifa de cambio de domicilio.",
            "Your licence's giro has no change-of-address tariff.",
        ));
        return Err(errors);
    };
    let line = quote_line(m, uma, tariff, Decimal::ONE, today, "domicilio").map_err(|e| errors.push(e)).ok();
    let (Some((line, quote)), true) = (line, errors.is_empty()) else { return Err(errors) };
    let Some((_, ends_on)) = fiscal_year(today.year()) else { return Err(errors) };
    let scope = PermitScope {
        procedure: procedure_of(m, tariff),
        tariff: tariff.code.clone(),
        holder: licence.holder_name.clone(),
        location: address.clone(),
        starts_on: today,
        ends_on,
        hours: licence.hours.clone(),
        measure: measure(m, licence, &licence.giro),
        description: format!(
            "Cambio de domicilio de la licencia {}: de «{}» a «{address}».",
            licence.number, licence.address
        ),
        conditions: String::new(),
        attendance: None,
        licence: None,
    };
    let change = LicenceChange { address: Some(address), ..LicenceChange::default() };
    let link = LicenceLink { licence_id: licence.id, year: None, change: Some(change) };
    let lines = [line];
    Ok(PreparedLicenceRequest {
        request: new_request(licence, scope.procedure.clone(), scope, &lines, who, link),
        quotes: vec![quote],
        approval: None,
        renewal: false,
    })
}

/// Why extra hours cannot be requested for a licence at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExtraHoursRefusal {
    /// The giro has no extra-hours tariff (the form is not offered).
    NoTariff,
    /// The law does not authorise them for the giro ("no se autoriza").
    NotAuthorized(String),
}

impl ExtraHoursRefusal {
    pub fn message_es(&self) -> String {
        match self {
            ExtraHoursRefusal::NoTariff => {
                "La ley no fija tarifa de horas extras para el giro de esta licencia: no se \
                                            pueden solicitar en línea."
                    .into()
            }
            ExtraHoursRefusal::NotAuthorized(why) => QuoteError::NotAuthorized(why.clone()).message_es(),
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            ExtraHoursRefusal::NoTariff => {
                "The law sets no extra-hours tariff for this licence's giro: they cannot be requested online.".into()
            }
            ExtraHoursRefusal::NotAuthorized(why) => QuoteError::NotAuthorized(why.clone()).message_en(),
        }
    }
}

/// Whether the giro may ask for extra hours at all.
pub fn extra_hours_offered<'a>(
    m: &'a Municipality,
    giro: &str,
    today: NaiveDate,
) -> Result<&'a Tariff, ExtraHoursRefusal> {
    match extra_hours_tariff(m, giro, today) {
        None => Err(ExtraHoursRefusal::NoTariff),
        Some(t) => match &t.rate {
            tariffs::Rate::NotAuthorized(why) => Err(ExtraHoursRefusal::NotAuthorized(why.clone())),
            _ => Ok(t),
        },
    }
}

/// Extra hours on one day, Monday to Saturday, for review.
pub fn prepare_extra_hours(
    m: &Municipality,
    uma: &UmaTable,
    licence: &Licence,
    form: &ExtraHoursForm,
    today: NaiveDate,
) -> Result<PreparedLicenceRequest, Vec<FieldError>> {
    let mut errors = Vec::new();
    let tariff = match extra_hours_offered(m, &licence.giro, today) {
        Ok(t) => t,
        Err(e) => return Err(vec![err("horas", e.message_es(), e.message_en())]),
    };
    let who = contact(&form.contact, &mut errors);
    let day = date("fecha", &form.day).map_err(|e| errors.push(e)).ok();
    if let Some(d) = day {
        if d < today {
            errors.push(err("fecha", "La fecha no puede ser anterior a hoy.", "The date cannot be before today."));
        } else if (d - today).num_days() > MAX_DAYS_AHEAD {
            errors.push(err(
                "fecha",
                "La fecha puede estar a lo más a un año de hoy.",
                "The date can be at most one year from today.",
            ));
        } else if !extra_hours_allowed_on(d) {
            errors.push(err(
                "fecha",
                "Las horas extras solo se autorizan de lunes a sábado: elija otro día (no domingo).",
                "Extra hours are only authorised Monday to Saturday: choose another day (not a Sunday).",
            ));
        }
    }
    let what = (
        "el horario de las horas extras, por ejemplo 02:00 a 04:00",
        "the time of the extra hours, for example 02:00 to 04:00",
    );
    let schedule = text("horario", &form.schedule, 3, 60, what).map_err(|e| errors.push(e)).unwrap_or_default();
    let hours = form.hours.trim().parse::<u32>().ok().filter(|h| (1..=MAX_EXTRA_HOURS).contains(h));
    if hours.is_none() {
        errors.push(err(
            "horas",
            format!("Escriba las horas extras como un número entero de 1 a {MAX_EXTRA_HOURS}."),
            format!("Type the extra hours as a whole number from 1 to {MAX_EXTRA_HOURS}."),
        ));
    }
    let (Some(day), Some(hours)) = (day, hours) else { return Err(errors) };
    let line = quote_line(m, uma, tariff, Decimal::from(hours), today, "horas").map_err(|e| errors.push(e)).ok();
    let (Some((line, quote)), true) = (line, errors.is_empty()) else { return Err(errors) };
    let scope = PermitScope {
        procedure: procedure_of(m, tariff),
        tariff: tariff.code.clone(),
        holder: licence.holder_name.clone(),
        location: licence.address.clone(),
        starts_on: day,
        ends_on: day,
        hours: schedule,
        measure: format!("{hours} hora(s) extra · Licencia {} · Giro: {}", licence.number, giro_name(m, &licence.giro)),
        description: format!("Horas extras de la licencia {}.", licence.number),
        conditions: String::new(),
        attendance: None,
        licence: None,
    };
    let link = LicenceLink { licence_id: licence.id, year: None, change: None };
    let lines = [line];
    Ok(PreparedLicenceRequest {
        request: new_request(licence, scope.procedure.clone(), scope, &lines, who, link),
        quotes: vec![quote],
        approval: None,
        renewal: false,
    })
}

/// A debt, as the citizen reads it: account, concept's name, period, amount.
pub fn debt_line_es(m: &Municipality, d: &LicenceDebt) -> String {
    let concept = m.concept(&d.charge.concept).map_or_else(|| d.charge.concept.clone(), |c| c.name_es.clone());
    format!("cuenta {}: {concept}, periodo {}, {}", d.charge.account, d.charge.period, d.charge.principal.display_mxn())
}

pub fn debt_line_en(m: &Municipality, d: &LicenceDebt) -> String {
    let concept = m.concept(&d.charge.concept).map_or_else(|| d.charge.concept.clone(), |c| c.name_en.clone());
    format!("account {}: {concept}, period {}, {}", d.charge.account, d.charge.period, d.charge.principal.display_mxn())
}

/// Why a licence's request was not filed, in the page's language (the
/// store's refusal says it in Spanish).
pub fn refusal_message(r: &crate::store::LicenceRefusal, lang: crate::i18n::Lang) -> String {
    use crate::store::LicenceRefusal;
    match lang {
        crate::i18n::Lang::Es => r.message_es(),
        crate::i18n::Lang::En => match r {
            LicenceRefusal::NotFound => "We could not find a licence with that number and RFC.".into(),
            LicenceRefusal::Inactive(s) => format!(
                "The licence is “{}”: please go to the revenue office (Dirección de Ingresos) to settle its situation.",
                s.label_en()
            ),
            LicenceRefusal::RenewalExists { number, status, year } => match status {
                Some(
                    s @ (crate::domain::permits::RequestStatus::Paid | crate::domain::permits::RequestStatus::Issued),
                ) => format!(
                    "This licence's {year} renewal (refrendo) is already covered: request {number} (“{}”).",
                    s.label_en()
                ),
                Some(s) => format!(
                    "This licence's {year} renewal (refrendo) is already under way: request {number} (“{}”). \
                     See that request instead of starting another.",
                    s.label_en()
                ),
                None => {
                    format!("This licence's {year} renewal (refrendo) is already under way: another cannot be started.")
                }
            },
            LicenceRefusal::Debts(debts) => format!(
                "The licence cannot be renewed while there are overdue debts ({}): pay them first.",
                debts.len()
            ),
            LicenceRefusal::FeeMissing => "A tariff's amount is missing.".into(),
        },
    }
}

/// The payment's check: when the `chosen` charges include a renewal's
/// fee, what its holder still owes (of the paid-up concepts, already due,
/// or an earlier renewal) and the order does not pay too. `None`: nothing.
pub async fn renewal_debts_in_order(
    store: &Store,
    m: &Municipality,
    chosen: &[&ChargeRecord],
    today: NaiveDate,
) -> Result<Option<(Licence, Vec<LicenceDebt>)>, StoreError> {
    let accounts: Vec<i64> = chosen.iter().map(|c| c.account_id).collect::<HashSet<_>>().into_iter().collect();
    let renewals = store.renewals_to_pay_of_accounts(&accounts).await?;
    let taken: HashSet<i64> = chosen.iter().map(|c| c.id).collect();
    for r in renewals {
        let (Some(link), Some(account)) = (r.licence.as_ref(), r.account_id) else { continue };
        let Some(year) = link.year else { continue };
        let Some(licence) = store.licence(link.licence_id).await? else { continue };
        let check = paid_up_check(m, &licence, today);
        let mut debts = store.licence_debts(&check, licence.id, year, &[account]).await?;
        debts.retain(|d| !taken.contains(&d.charge.charge_id));
        if !debts.is_empty() {
            return Ok(Some((licence, debts)));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::licences::LicenceStatus;

    fn loreto() -> Municipality {
        Municipality::from_toml_str(include_str!("../../config/municipalities/loreto.toml")).unwrap()
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
    }

    fn licence(giro: &str) -> Licence {
        let at = chrono::DateTime::parse_from_rfc3339("2026-01-05T16:00:00Z").unwrap().to_utc();
        Licence {
            id: 7,
            number: "ALC-0042".into(),
            holder_rfc: "GODE561231GR8".into(),
            holder_name: "Emilio Gómez Díaz".into(),
            giro: giro.into(),
            address: "Calle Salvatierra 12, Centro".into(),
            hours: "12:00 a 02:00".into(),
            status: LicenceStatus::Active,
            created_at: at,
            updated_at: at,
        }
    }

    fn contact() -> Contact {
        Contact { email: "Bar@Ejemplo.MX".into(), phone: String::new() }
    }

    #[test]
    fn an_unchanged_renewal_is_approved_as_it_is_filed() {
        let m = loreto();
        let uma = m.uma_table().unwrap();
        let form = RenewalForm { contact: contact(), ..RenewalForm::default() };
        let p = prepare_renewal(&m, &uma, &licence("BAR-DISCO"), &form, today()).unwrap();
        // 150 UMA × 117.31 = 17,596.50
        assert_eq!(p.request.fee, Some(Centavos(1_759_650)));
        assert_eq!(p.request.lines.len(), 1);
        assert_eq!(p.request.lines[0].tariff, "ALC-REF-BAR-DISCO");
        let approval = p.approval.expect("approved by the system");
        assert_eq!(approval.lines[0].concept, "refrendo_alcoholes");
        assert_eq!(approval.comment, UNCHANGED_RENEWAL_COMMENT);
        let s = &p.request.scope;
        assert_eq!((s.starts_on.to_string(), s.ends_on.to_string()), ("2026-01-01".into(), "2026-12-31".into()));
        assert_eq!(s.measure, "Licencia ALC-0042 · Giro: Bar y/o discoteca");
        assert_eq!(p.request.applicant_email, "bar@ejemplo.mx");
        assert_eq!(p.request.licence.as_ref().and_then(|l| l.year), Some(2026));
        // The same values typed again are no change.
        let same = RenewalForm {
            contact: contact(),
            giro: "BAR-DISCO".into(),
            address: "Calle Salvatierra 12, Centro".into(),
            hours: "12:00 a 02:00".into(),
        };
        assert!(prepare_renewal(&m, &uma, &licence("BAR-DISCO"), &same, today()).unwrap().approval.is_some());
    }

    #[test]
    fn a_change_goes_to_review_with_the_new_giro_and_the_change_of_address() {
        let m = loreto();
        let uma = m.uma_table().unwrap();
        let form = RenewalForm {
            contact: contact(),
            giro: "CANTINA".into(),
            address: "Boulevard López Mateos 3, Centro".into(),
            hours: String::new(),
        };
        let p = prepare_renewal(&m, &uma, &licence("BAR-DISCO"), &form, today()).unwrap();
        assert!(p.approval.is_none(), "to review");
        let tariffs: Vec<&str> = p.request.lines.iter().map(|l| l.tariff.as_str()).collect();
        assert_eq!(tariffs, ["ALC-REF-CANTINA", "ALC-DOM-CANTINA"]);
        // 100 × 117.31 + 90 × 117.31 = 11,731.00 + 10,557.90
        assert_eq!(p.request.fee, Some(Centavos(2_228_890)));
        assert!(
            p.request.scope.description.contains("giro: Bar y/o discoteca → Cantina"),
            "{}",
            p.request.scope.description
        );
        assert_eq!(p.request.scope.location, "Boulevard López Mateos 3, Centro");
        let change = p.request.licence.unwrap().change.unwrap();
        assert_eq!(change.giro.as_deref(), Some("CANTINA"));
        assert_eq!(change.hours, None);
    }

    #[test]
    fn extra_hours_follow_the_law() {
        let m = loreto();
        let uma = m.uma_table().unwrap();
        let form = |day: &str| ExtraHoursForm {
            contact: contact(),
            day: day.into(),
            hours: "2".into(),
            schedule: "02:00 a 04:00".into(),
        };
        // 2026-11-28 is a Saturday: 2 UMA × 2 hours × 117.31 = 469.24.
        let p = prepare_extra_hours(&m, &uma, &licence("BAR-DISCO"), &form("2026-11-28"), today()).unwrap();
        assert_eq!(p.request.fee, Some(Centavos(46_924)));
        let sunday = prepare_extra_hours(&m, &uma, &licence("BAR-DISCO"), &form("2026-11-29"), today()).unwrap_err();
        assert!(sunday[0].message_es.contains("de lunes a sábado"), "{sunday:?}");
        let agencia = prepare_extra_hours(&m, &uma, &licence("AGENCIA"), &form("2026-11-28"), today()).unwrap_err();
        assert!(agencia[0].message_es.starts_with("No se autoriza"), "{agencia:?}");
        assert_eq!(extra_hours_offered(&m, "HOTEL-4", today()).unwrap_err(), ExtraHoursRefusal::NoTariff);
        assert_eq!(extra_hours_offered(&m, "REST-BAR-PISTA", today()).unwrap_err(), ExtraHoursRefusal::NoTariff);
    }

    #[test]
    fn a_change_of_address_needs_a_new_address() {
        let m = loreto();
        let uma = m.uma_table().unwrap();
        let l = licence("DEPOSITO");
        let same = prepare_address_change(&m, &uma, &l, &contact(), "Calle Salvatierra 12, Centro", today());
        assert!(same.unwrap_err()[0].message_es.contains("el mismo"));
        let p = prepare_address_change(&m, &uma, &l, &contact(), "Calle Madero 8, Centro", today()).unwrap();
        assert_eq!(p.request.lines[0].tariff, "ALC-DOM-DEPOSITO");
        // 90 × 117.31 = 10,557.90
        assert_eq!(p.request.fee, Some(Centavos(1_055_790)));
        assert!(p.approval.is_none());
    }
}
