//! Permit requests, as a service: a citizen's form turned into a request
//! with its live quote (every fee through [`tariffs::quote`]), the uploads
//! judged by their content, the applicant's proof (e-mail or RFC) that
//! opens a request reached by its link, and the review clock.
//!
//! The pages and their forms are `server::permits`; the rules and the
//! storage are [`crate::store::permits`] and [`crate::domain::permits`].

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::domain::municipality::Municipality;
use crate::domain::permits::{days_spanned, PermitScope, RequestLine, RequestStatus};
use crate::domain::procedures::Procedure;
use crate::domain::rfc::Rfc;
use crate::domain::tariffs::{self, QuoteError, Rate, Tariff, TariffQuote, Unit};
use crate::domain::uma::UmaTable;
use crate::domain::working_days::{elapsed_working_days, WorkingCalendar};
use crate::store::{NewPermitRequest, RequestEvent};

/// Largest document accepted (per file).
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024 * 1024;
/// Most files in one form.
pub const MAX_DOCUMENTS: usize = 12;
/// Days an approved request has to be paid (its charges' due date).
pub const PAYMENT_DAYS: i64 = 10;
/// How far ahead a permit may start.
const MAX_DAYS_AHEAD: i64 = 366;

/// The raw fields of a request form, as typed.
#[derive(Clone, Debug, Default)]
pub struct RequestForm {
    pub tariff: String,
    pub renewal: bool,
    pub name: String,
    pub email: String,
    pub rfc: String,
    pub phone: String,
    pub location: String,
    pub starts_on: String,
    pub ends_on: String,
    pub hours: String,
    pub description: String,
    /// Metres, for measured tariffs (width × height = m²).
    pub width: String,
    pub height: String,
    /// Linear metres.
    pub metres: String,
    /// Items, months or hours.
    pub quantity: String,
    /// Declared ticket sales, in pesos (the 10 % tax of events).
    pub sales: String,
    /// Expected attendance (people), where the procedure asks it.
    pub attendance: String,
}

/// A field's problem, for the form's error summary, in both languages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The form field's name (the summary links to it).
    pub field: String,
    pub message_es: String,
    pub message_en: String,
}

impl FieldError {
    /// The message in the page's language.
    pub fn message(&self, lang: crate::i18n::Lang) -> &str {
        lang.pick(&self.message_es, &self.message_en)
    }
}

pub(crate) fn err(field: &str, message_es: impl Into<String>, message_en: impl Into<String>) -> FieldError {
    FieldError { field: field.to_string(), message_es: message_es.into(), message_en: message_en.into() }
}

/// A request ready to file, and the quotes behind its fees (the range
/// tariffs' fee is set at approval, so they have none yet).
#[derive(Clone, Debug)]
pub struct PreparedRequest {
    pub request: NewPermitRequest,
    pub quotes: Vec<TariffQuote>,
}

/// The tariffs a citizen can request online under `procedure`: those of
/// its groups in the schedule in force, authorised, except the groups an
/// existing licence's page reaches (`requires_licence` in the file: the
/// renewal, change of address and extra hours of an alcohol licence, see
/// `crate::licences`). A new licence's tariffs are offered. Range tariffs
/// are offered: staff set their amount at approval.
pub fn requestable_tariffs<'a>(m: &'a Municipality, procedure: &str, today: NaiveDate) -> Vec<&'a Tariff> {
    let Some(schedule) = tariffs::schedule_on(&m.tariff_schedules, today) else { return vec![] };
    schedule
        .tariffs
        .iter()
        .filter(|t| m.tariff_group(&t.group).is_some_and(|g| g.procedure == procedure && !g.requires_licence()))
        .filter(|t| !matches!(t.rate, Rate::NotAuthorized(_)))
        .filter(|t| t.unit != Unit::PercentOfSales)
        .collect()
}

/// The procedure's percentage-of-sales tariff (events' 10 % on tickets).
pub fn sales_tariff<'a>(m: &'a Municipality, procedure: &str, today: NaiveDate) -> Option<&'a Tariff> {
    let schedule = tariffs::schedule_on(&m.tariff_schedules, today)?;
    schedule
        .tariffs
        .iter()
        .find(|t| t.unit == Unit::PercentOfSales && m.tariff_group(&t.group).is_some_and(|g| g.procedure == procedure))
}

/// Which measure fields a tariff's form asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    /// Width and height (m²).
    Area,
    /// Linear metres.
    Metres,
    /// The days between the dates.
    Days,
    /// A count (items, months, hours).
    Count,
}

pub fn measure_of(t: &Tariff) -> Measure {
    match t.unit {
        Unit::SquareMetre | Unit::SquareMetreYear => Measure::Area,
        Unit::LinearMetreYear => Measure::Metres,
        Unit::Day | Unit::EventDay => Measure::Days,
        _ => Measure::Count,
    }
}

/// Whether a permit under this tariff lasts the calendar year (annual
/// tariffs: permanent adverts, exclusive parking; and a licence of a giro,
/// renewed each year).
fn is_annual(t: &Tariff) -> bool {
    matches!(t.unit, Unit::SquareMetreYear | Unit::LinearMetreYear | Unit::ItemYear) || t.giro.is_some()
}

fn decimal(field: &'static str, s: &str, (what_es, what_en): (&str, &str)) -> Result<Decimal, FieldError> {
    let s = s.trim().replace(',', ".");
    let plain = !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    plain.then(|| s.parse::<Decimal>().ok()).flatten().filter(|d| *d > Decimal::ZERO).ok_or_else(|| {
        err(
            field,
            format!("Escriba {what_es} como un número mayor que cero, por ejemplo 2.5."),
            format!("Type {what_en} as a number greater than zero, for example 2.5."),
        )
    })
}

pub(crate) fn date(field: &'static str, s: &str) -> Result<NaiveDate, FieldError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        err(
            field,
            "Escriba la fecha como AAAA-MM-DD (por ejemplo 2026-12-01).",
            "Type the date as YYYY-MM-DD (for example 2026-12-01).",
        )
    })
}

pub(crate) fn text(
    field: &'static str,
    s: &str,
    min: usize,
    max: usize,
    (what_es, what_en): (&str, &str),
) -> Result<String, FieldError> {
    let t = s.trim();
    let n = t.chars().count();
    if n < min || n > max || t.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
        return Err(err(
            field,
            format!("Escriba {what_es} ({min} a {max} caracteres)."),
            format!("Type {what_en} ({min} to {max} characters)."),
        ));
    }
    Ok(t.to_string())
}

/// Whether `s` looks like an e-mail address (one `@`, a dot after it, no
/// spaces): the portal never sends mail, so it only has to be the
/// applicant's own proof.
pub fn is_email(s: &str) -> bool {
    let Some((user, domain)) = s.split_once('@') else { return false };
    !user.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && s.len() <= 254
        && !s.contains(char::is_whitespace)
        && !domain.contains('@')
}

/// The refusal of an e-mail address (every form that asks for one).
pub(crate) fn email_error() -> FieldError {
    err(
        "correo",
        "Escriba un correo electrónico válido, por ejemplo nombre@ejemplo.mx.",
        "Type a valid e-mail address, for example name@example.com.",
    )
}

/// The refusal of a phone number that is not 10 digits.
pub(crate) fn phone_error() -> FieldError {
    err("telefono", "El teléfono lleva 10 dígitos.", "The phone number has 10 digits.")
}

/// The largest expected attendance an event request may declare (a
/// stadium-sized event; anything more is a typo).
pub const MAX_ATTENDANCE: u32 = 200_000;

/// Checks a request form of `procedure` and quotes its fees on `today`.
/// Every problem is reported at once, each with its field.
pub fn prepare_request(
    m: &Municipality,
    uma: &UmaTable,
    procedure: &Procedure,
    form: &RequestForm,
    today: NaiveDate,
) -> Result<PreparedRequest, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut keep = |r: Result<String, FieldError>| r.map_err(|e| errors.push(e)).unwrap_or_default();
    let name = keep(text(
        "nombre",
        &form.name,
        3,
        120,
        ("el nombre del solicitante o de la empresa", "the name of the applicant or the business"),
    ));
    let location =
        keep(text("ubicacion", &form.location, 5, 200, ("el domicilio o la ubicación", "the address or place")));
    let description = keep(text("descripcion", &form.description, 0, 500, ("la descripción", "the description")));
    let hours = keep(text("horario", &form.hours, 0, 60, ("el horario", "the hours")));
    let email = form.email.trim().to_lowercase();
    if !is_email(&email) {
        errors.push(email_error());
    }
    let rfc = match form.rfc.trim() {
        "" => None,
        raw => match Rfc::parse(raw) {
            Ok(r) => Some(r.as_str().to_string()),
            Err(e) => {
                errors.push(err("rfc", e.message_es(), e.message_en()));
                None
            }
        },
    };
    let phone: String = form.phone.chars().filter(char::is_ascii_digit).collect();
    if !form.phone.trim().is_empty() && phone.len() != 10 {
        errors.push(phone_error());
    }

    let tariff = requestable_tariffs(m, &procedure.slug, today).into_iter().find(|t| t.code == form.tariff.trim());
    let Some(tariff) = tariff else {
        errors.push(err(
            "tarifa",
            "Elija el concepto que solicita de la lista.",
            "Choose what you are requesting from the list.",
        ));
        return Err(errors);
    };
    // A new alcohol licence enters the registry once paid: it needs its
    // holder's RFC and the establishment's opening hours, and it is never
    // a renewal (those are filed from the licence's page).
    let new_licence_giro = tariff.giro.clone().filter(|_| {
        m.tariff_group(&tariff.group).and_then(|g| g.licence) == Some(crate::domain::licences::LicenceUse::New)
    });
    if new_licence_giro.is_some() {
        if form.renewal {
            errors.push(err(
                "tipo",
                "Una licencia nueva es un trámite nuevo. Para refrendar una licencia vigente, búsquela en \
                 «Refrendar mi licencia» (/licencias).",
                "A new licence is a new application. To renew a licence in force, find it under \
                 \"Renew my licence\" (/licencias).",
            ));
        }
        if form.rfc.trim().is_empty() {
            errors.push(err(
                "rfc",
                "Una licencia nueva se inscribe a nombre del RFC de su titular: escríbalo.",
                "A new licence is registered under its holder's RFC: please enter it.",
            ));
        }
        if hours.chars().count() < 3 && !errors.iter().any(|e| e.field == "horario") {
            errors.push(err(
                "horario",
                "Escriba el horario de funcionamiento del establecimiento, por ejemplo 12:00 a 00:00.",
                "Enter the establishment's opening hours, for example 12:00 to 00:00.",
            ));
        }
    }
    let starts_on = date("inicio", &form.starts_on).map_err(|e| errors.push(e)).ok();
    let ends_on = if is_annual(tariff) {
        starts_on.and_then(|s| NaiveDate::from_ymd_opt(chrono::Datelike::year(&s), 12, 31))
    } else if form.ends_on.trim().is_empty() {
        starts_on
    } else {
        date("fin", &form.ends_on).map_err(|e| errors.push(e)).ok()
    };
    let mut days = None;
    if let (Some(s), Some(e)) = (starts_on, ends_on) {
        if s < today {
            errors.push(err(
                "inicio",
                "La fecha de inicio no puede ser anterior a hoy.",
                "The start date cannot be before today.",
            ));
        } else if (s - today).num_days() > MAX_DAYS_AHEAD {
            errors.push(err(
                "inicio",
                "La fecha de inicio puede estar a lo más a un año de hoy.",
                "The start date can be at most one year from today.",
            ));
        }
        match days_spanned(s, e) {
            None => errors.push(err(
                "fin",
                "La fecha de término no puede ser anterior a la de inicio.",
                "The end date cannot be before the start date.",
            )),
            Some(n) => {
                if let Some(max) = tariff.max_days.filter(|max| n > *max) {
                    errors.push(err(
                        "fin",
                        format!("Este permiso dura a lo más {max} días; solicitó {n}."),
                        format!("This permit lasts at most {max} days; you asked for {n}."),
                    ));
                }
                days = Some(n);
            }
        }
    }
    let needs_area = measure_of(tariff) == Measure::Area || tariff.max_area_m2.is_some();
    let mut area = None;
    if needs_area {
        let w = decimal("ancho", &form.width, ("el ancho en metros", "the width in metres"))
            .map_err(|e| errors.push(e))
            .ok();
        let h = decimal("alto", &form.height, ("el alto en metros", "the height in metres"))
            .map_err(|e| errors.push(e))
            .ok();
        if let (Some(w), Some(h)) = (w, h) {
            area = w.checked_mul(h);
            if let (Some(a), Some(max)) = (area, tariff.max_area_m2) {
                if a > max {
                    errors.push(err(
                        "ancho",
                        format!("La superficie ({} m²) excede el máximo de {} m².", a.normalize(), max.normalize()),
                        format!("The area ({} m²) exceeds the maximum of {} m².", a.normalize(), max.normalize()),
                    ));
                }
            }
        }
    }
    let quantity = match measure_of(tariff) {
        Measure::Area => area,
        Measure::Metres => decimal("metros", &form.metres, ("los metros lineales", "the linear metres"))
            .map_err(|e| errors.push(e))
            .ok(),
        Measure::Days => days.map(Decimal::from),
        Measure::Count => {
            decimal("cantidad", &form.quantity, ("la cantidad", "the quantity")).map_err(|e| errors.push(e)).ok()
        }
    };
    let sales_line = match form.sales.trim() {
        "" => None,
        raw => match (sales_tariff(m, &procedure.slug, today), crate::domain::money::Centavos::parse_pesos(raw)) {
            (Some(t), Ok(c)) if c.0 > 0 => Some((t, c.to_decimal())),
            (Some(_), _) => {
                errors.push(err(
                    "boletaje",
                    "Escriba el boletaje vendido en pesos, por ejemplo 25000.00.",
                    "Type the ticket sales in pesos, for example 25000.00.",
                ));
                None
            }
            (None, _) => None,
        },
    };
    let attendance = match form.attendance.trim() {
        _ if !procedure.asks_attendance => None,
        "" => {
            errors.push(err(
                "asistentes",
                "Escriba cuántas personas espera en el evento.",
                "Type how many people you expect at the event.",
            ));
            None
        }
        raw => match raw.replace([',', ' '], "").parse::<u32>() {
            Ok(n) if (1..=MAX_ATTENDANCE).contains(&n) => Some(n),
            _ => {
                errors.push(err(
                    "asistentes",
                    format!("Escriba el número de asistentes esperados como un entero de 1 a {MAX_ATTENDANCE}."),
                    format!("Type the expected attendance as a whole number from 1 to {MAX_ATTENDANCE}."),
                ));
                None
            }
        },
    };
    let Some(quantity) = quantity else { return Err(errors) };
    if !errors.is_empty() {
        return Err(errors);
    }

    let quote_line =
        |t: &Tariff, q: Decimal, field: &'static str| -> Result<(RequestLine, Option<TariffQuote>), FieldError> {
            match tariffs::quote(&m.tariff_schedules, uma, &t.code, q, today, None) {
                Ok(quote) => Ok((
                    RequestLine { tariff: t.code.clone(), quantity: q, staff_factor: None, fee: Some(quote.fee) },
                    Some(quote),
                )),
                Err(QuoteError::StaffSetsAmount { .. }) => {
                    // Still check the quantity, which staff do not set.
                    t.unit.charged(q).map_err(|e| err(field, e.message_es(), e.message_en()))?;
                    Ok((RequestLine { tariff: t.code.clone(), quantity: q, staff_factor: None, fee: None }, None))
                }
                Err(e) => Err(err(field, e.message_es(), e.message_en())),
            }
        };
    let field = match measure_of(tariff) {
        Measure::Area => "ancho",
        Measure::Metres => "metros",
        Measure::Days => "fin",
        Measure::Count => "cantidad",
    };
    let mut lines = Vec::new();
    let mut quotes = Vec::new();
    for (t, q, f) in std::iter::once((tariff, quantity, field)).chain(sales_line.map(|(t, s)| (t, s, "boletaje"))) {
        match quote_line(t, q, f) {
            Ok((line, quote)) => {
                lines.push(line);
                quotes.extend(quote);
            }
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let fee = lines.iter().map(|l| l.fee).try_fold(crate::domain::money::Centavos::ZERO, |acc, f| acc.checked_add(f?));
    let charged = tariff.unit.charged(quantity).unwrap_or(quantity);
    let measure = match tariff.giro.as_deref().and_then(|g| m.giro(g)) {
        Some(giro) => format!("Giro: {}", giro.name),
        None => measure_text(tariff.unit, charged, area),
    };
    let scope = PermitScope {
        procedure: procedure.slug.clone(),
        tariff: tariff.code.clone(),
        holder: name.clone(),
        location,
        starts_on: starts_on.unwrap_or(today),
        ends_on: ends_on.unwrap_or(today),
        hours,
        measure,
        description,
        conditions: String::new(),
        attendance,
        licence: None,
    };
    Ok(PreparedRequest {
        request: NewPermitRequest {
            procedure: procedure.slug.clone(),
            renewal: form.renewal,
            applicant_name: name,
            applicant_email: email,
            applicant_rfc: rfc,
            applicant_phone: Some(phone).filter(|p| !p.is_empty()),
            scope,
            lines,
            fee,
            licence: None,
            new_licence_giro,
        },
        quotes,
    })
}

/// The measure a permit allows, as printed ("13 m² (3.2 × 4)", "3 días").
fn measure_text(unit: Unit, charged: Decimal, area: Option<Decimal>) -> String {
    let n = charged.normalize();
    match unit {
        Unit::SquareMetre | Unit::SquareMetreYear => match area {
            Some(a) if a != charged => format!("{n} m² (medida: {} m²)", a.normalize()),
            _ => format!("{n} m²"),
        },
        Unit::LinearMetreYear => format!("{n} m lineales"),
        Unit::Day | Unit::EventDay => format!("{n} día(s)"),
        Unit::Month => format!("{n} mes(es)"),
        Unit::Hour => format!("{n} hora(s)"),
        Unit::Item | Unit::ItemYear => match area {
            Some(a) => format!("{n} pieza(s), {} m²", a.normalize()),
            None => format!("{n} pieza(s)"),
        },
        Unit::PercentOfSales => format!("${n} de boletaje"),
    }
}

/// What an uploaded file is, by its first bytes (never its name or its
/// declared type): PDF (`%PDF-`), JPEG (`FF D8 FF`) or PNG.
pub fn sniff_document(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else {
        None
    }
}

/// Why an upload was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    #[error("empty file")]
    Empty,
    #[error("file too large")]
    TooLarge,
    #[error("not a PDF, JPEG or PNG")]
    NotAllowed,
}

impl UploadError {
    pub fn message_es(&self, file_name: &str) -> String {
        match self {
            UploadError::Empty => format!("El archivo «{file_name}» está vacío."),
            UploadError::TooLarge => format!(
                "El archivo «{file_name}» pesa más de {} MB. Redúzcalo o escanéelo con menor resolución.",
                MAX_DOCUMENT_BYTES / (1024 * 1024)
            ),
            UploadError::NotAllowed => {
                format!("El archivo «{file_name}» no es un PDF, JPEG ni PNG (se revisa su contenido, no su nombre).")
            }
        }
    }

    pub fn message_en(&self, file_name: &str) -> String {
        match self {
            UploadError::Empty => format!("The file “{file_name}” is empty."),
            UploadError::TooLarge => format!(
                "The file “{file_name}” is larger than {} MB. Make it smaller or scan it at a lower resolution.",
                MAX_DOCUMENT_BYTES / (1024 * 1024)
            ),
            UploadError::NotAllowed => {
                format!("The file “{file_name}” is not a PDF, JPEG or PNG (its content is checked, not its name).")
            }
        }
    }
}

/// Judges an upload: its type by content, its size.
pub fn check_upload(bytes: &[u8]) -> Result<&'static str, UploadError> {
    if bytes.is_empty() {
        return Err(UploadError::Empty);
    }
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(UploadError::TooLarge);
    }
    sniff_document(bytes).ok_or(UploadError::NotAllowed)
}

/// A file name safe to show and to send in `Content-Disposition`: its last
/// path part, letters, digits, `.`, `-`, `_` and spaces only, at most 80
/// characters.
pub fn clean_file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') { c } else { '_' })
        .take(80)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        "documento".into()
    } else {
        cleaned
    }
}

/// Whether `proof` (what the visitor typed) is the applicant's e-mail or
/// RFC.
pub fn applicant_proof_matches(email: &str, rfc: Option<&str>, proof: &str) -> bool {
    let proof = proof.trim();
    if proof.is_empty() {
        return false;
    }
    let same =
        |a: &str, b: &str| a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0;
    same(&proof.to_lowercase(), email) || rfc.is_some_and(|r| same(&proof.to_uppercase(), r))
}

/// The review clock of a request: working days used (paused while the
/// citizen corrects), the legal limit and what is left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReviewClock {
    pub used: u32,
    pub limit: u32,
    /// Negative when overdue.
    pub left: i64,
}

pub fn review_clock(
    calendar: &WorkingCalendar,
    events: &[RequestEvent],
    limit: Option<u32>,
    today: NaiveDate,
) -> Option<ReviewClock> {
    let limit = limit?;
    let timeline: Vec<_> = events.iter().map(|e| (e.on_day, e.to.clock())).collect();
    let used = elapsed_working_days(calendar, &timeline, today);
    Some(ReviewClock { used, limit, left: i64::from(limit) - i64::from(used) })
}

/// What a permit's QR code says once checked against the portal's record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PermitVerdict {
    /// Signed by the treasury over exactly this scope, and in force.
    Authentic,
    /// Authentic, but paid through the demonstration provider: no value.
    Demo,
    /// Authentic, but cancelled since (its payment was taken back).
    Cancelled,
    /// The code does not match the record: altered or not ours.
    Forged,
    /// No permit has this folio.
    Unknown,
}

impl PermitVerdict {
    pub fn message_es(self) -> &'static str {
        match self {
            PermitVerdict::Authentic => "Permiso auténtico: compare su contenido con el documento impreso.",
            PermitVerdict::Demo => "Permiso de demostración — sin validez: no se pagó dinero real.",
            PermitVerdict::Cancelled => "Este permiso fue cancelado: no es válido.",
            PermitVerdict::Forged => {
                "El código no corresponde a un permiso expedido por la tesorería: el documento no es válido."
            }
            PermitVerdict::Unknown => "No existe un permiso con ese folio.",
        }
    }

    pub fn message_en(self) -> &'static str {
        match self {
            PermitVerdict::Authentic => "Authentic permit: compare what it says with the printed document.",
            PermitVerdict::Demo => "Demonstration permit — not valid: no real money was paid.",
            PermitVerdict::Cancelled => "This permit was cancelled: it is not valid.",
            PermitVerdict::Forged => {
                "The code does not match a permit issued by the treasury: the document is not valid."
            }
            PermitVerdict::Unknown => "There is no permit with that folio.",
        }
    }

    /// The verdict in the page's language.
    pub fn message(self, lang: crate::i18n::Lang) -> &'static str {
        lang.pick(self.message_es(), self.message_en())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PermitVerdict::Authentic => "authentic",
            PermitVerdict::Demo => "demo",
            PermitVerdict::Cancelled => "cancelled",
            PermitVerdict::Forged => "forged",
            PermitVerdict::Unknown => "unknown",
        }
    }
}

/// A permit's check: the verdict and, when the folio exists, the permit
/// as recorded (its scope is what the holder's paper must show).
#[derive(Clone, Debug)]
pub struct PermitCheck {
    pub folio: String,
    pub signature: String,
    pub verdict: PermitVerdict,
    pub permit: Option<crate::store::Permit>,
}

/// Checks a permit's folio and code: the code must be the treasury's
/// signature over the scope AS RECORDED (a paper, or a record, with another
/// date or a larger area does not match), with a key valid on its issue day.
pub async fn check_permit(
    state: &crate::state::AppState,
    folio: &str,
    signature: &str,
) -> Result<PermitCheck, crate::store::StoreError> {
    let unknown = |verdict| PermitCheck {
        folio: folio.trim().to_uppercase(),
        signature: signature.trim().to_string(),
        verdict,
        permit: None,
    };
    let Ok(parsed) = crate::domain::folio::Folio::parse(folio.trim()) else {
        return Ok(unknown(PermitVerdict::Unknown));
    };
    let Some(permit) = state.store.permit_by_folio(&parsed).await? else { return Ok(unknown(PermitVerdict::Unknown)) };
    let text = permit.scope.signed_text(&permit.folio.to_string());
    let keyring = state.receipt_keys.keyring();
    let signed =
        crate::domain::receipt_sig::verify_message(text.as_bytes(), permit.issued_on, signature.trim(), &keyring);
    let verdict = match signed {
        crate::domain::receipt_sig::Verdict::Authentic { .. } if permit.cancelled.is_some() => PermitVerdict::Cancelled,
        crate::domain::receipt_sig::Verdict::Authentic { .. }
            if permit.folio.series() == crate::domain::folio::DEMO_PERMIT_SERIES =>
        {
            PermitVerdict::Demo
        }
        crate::domain::receipt_sig::Verdict::Authentic { .. } => PermitVerdict::Authentic,
        _ => PermitVerdict::Forged,
    };
    Ok(PermitCheck {
        folio: permit.folio.to_string(),
        signature: signature.trim().to_string(),
        verdict,
        permit: Some(permit),
    })
}

/// The desk's check of a scanned permit URL (`…/p/<folio>?s=<code>`);
/// `Ok(Err(why))` when it is not one.
pub async fn desk_check_permit(
    state: &crate::state::AppState,
    scanned: &str,
) -> Result<Result<PermitCheck, String>, crate::store::StoreError> {
    match crate::domain::receipt_sig::parse_signed_url(scanned, "p") {
        Ok((folio, s)) => Ok(Ok(check_permit(state, &folio.to_string(), &s).await?)),
        Err(e) => Ok(Err(e.message_es().to_string())),
    }
}

/// Whether a scanned text is a permit's URL (the desk checks receipts
/// otherwise).
pub fn is_permit_url(scanned: &str) -> bool {
    crate::domain::receipt_sig::parse_signed_url(scanned, "p").is_ok()
}

/// The URL a permit's QR code carries.
pub fn permit_url(public_url: &str, permit: &crate::store::Permit) -> Option<String> {
    let s = permit.signature.as_ref()?;
    Some(format!("{}/p/{}?s={s}", public_url.trim_end_matches('/'), permit.folio))
}

/// The status a request's page explains (for both languages).
pub fn explanation(status: RequestStatus, lang: crate::i18n::Lang) -> &'static str {
    lang.pick(status.explanation_es(), status.explanation_en())
}

/// A request's state as its page names it, in the page's language.
pub fn status_label(status: RequestStatus, lang: crate::i18n::Lang) -> &'static str {
    lang.pick(status.label_es(), status.label_en())
}

/// Why the applicant's move of a request was refused, in the page's
/// language (the store's refusal says it in Spanish).
pub fn refusal_message(r: &crate::store::PermitRefusal, lang: crate::i18n::Lang) -> String {
    use crate::store::PermitRefusal;
    match lang {
        crate::i18n::Lang::Es => r.message_es(),
        crate::i18n::Lang::En => match r {
            PermitRefusal::NotFound => "We could not find that request.".into(),
            PermitRefusal::Transition(e) => e.message_en(),
            PermitRefusal::Moved(s) => {
                format!("Meanwhile the request became “{}”. Check the updated page before going on.", s.label_en())
            }
            PermitRefusal::FeeMissing => "The amount of a range tariff must be set before approval.".into(),
            PermitRefusal::UnknownDocument => "That document is not on the procedure's list of requirements.".into(),
            PermitRefusal::BeingPaid => "A payment of this request is under way (for example, an OXXO voucher still \
                                         valid): wait until it expires or is credited before cancelling it."
                .into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_are_judged_by_content() {
        assert_eq!(check_upload(b"%PDF-1.7\n..."), Ok("application/pdf"));
        assert_eq!(check_upload(&[0xFF, 0xD8, 0xFF, 0xE0]), Ok("image/jpeg"));
        assert_eq!(check_upload(b"\x89PNG\r\n\x1a\n...."), Ok("image/png"));
        // An HTML page named "medidas.pdf" is still HTML.
        assert_eq!(check_upload(b"<html><script>alert(1)</script>%PDF-"), Err(UploadError::NotAllowed));
        assert_eq!(check_upload(b""), Err(UploadError::Empty));
        assert_eq!(check_upload(&vec![b'%'; MAX_DOCUMENT_BYTES + 1]), Err(UploadError::TooLarge));
    }

    #[test]
    fn file_names_are_cleaned() {
        assert_eq!(clean_file_name("C:\\Users\\ana\\Medidas anuncio.pdf"), "Medidas anuncio.pdf");
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("..."), "documento");
        assert_eq!(clean_file_name("año\"; x=.pdf"), "a_o__ x_.pdf");
    }

    #[test]
    fn a_new_licence_asks_for_what_the_registry_needs() {
        let m = Municipality::from_toml_str(include_str!("../../config/municipalities/loreto.toml")).unwrap();
        let uma = m.uma_table().unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        let alcoholes = m.procedure("alcoholes").unwrap();
        let form = RequestForm {
            tariff: "ALC-EXP-CANTINA".into(),
            name: "Cantina El Pescador".into(),
            email: "pescador@ejemplo.mx".into(),
            rfc: "cpe150301qx5".into(),
            location: "Calle Zapata 9, Zaragoza".into(),
            starts_on: "2026-12-01".into(),
            hours: "12:00 a 00:00".into(),
            quantity: "1".into(),
            ..RequestForm::default()
        };
        let p = prepare_request(&m, &uma, alcoholes, &form, today).unwrap();
        assert_eq!(p.request.new_licence_giro.as_deref(), Some("CANTINA"));
        assert_eq!(p.request.applicant_rfc.as_deref(), Some("CPE150301QX5"));
        assert_eq!(p.request.scope.hours, "12:00 a 00:00");
        assert_eq!(p.request.scope.licence, None, "numbered once paid");

        // Without the holder's RFC or the hours, or as a renewal: refused.
        let bare = RequestForm { rfc: String::new(), hours: " ".into(), renewal: true, ..form.clone() };
        let errors = prepare_request(&m, &uma, alcoholes, &bare, today).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["tipo", "rfc", "horario"], "{errors:?}");

        // An eventual permit registers no licence and needs neither.
        let eventual =
            RequestForm { tariff: "ALC-EXP-EVENTUAL".into(), rfc: String::new(), hours: String::new(), ..form };
        let p = prepare_request(&m, &uma, alcoholes, &eventual, today).unwrap();
        assert_eq!(p.request.new_licence_giro, None);
    }

    #[test]
    fn the_proof_is_the_email_or_the_rfc() {
        assert!(applicant_proof_matches("ana@ejemplo.mx", None, " Ana@Ejemplo.MX "));
        assert!(applicant_proof_matches("ana@ejemplo.mx", Some("GODE561231GR8"), "gode561231gr8"));
        assert!(!applicant_proof_matches("ana@ejemplo.mx", None, "otra@ejemplo.mx"));
        assert!(!applicant_proof_matches("ana@ejemplo.mx", None, ""));
        assert!(is_email("a.b@c.mx") && !is_email("a b@c.mx") && !is_email("a@b") && !is_email("@b.mx"));
    }
}
