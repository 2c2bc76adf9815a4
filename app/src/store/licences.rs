//! Alcohol licences: the registry (imported all or nothing), a licence by
//! its number, the debts that keep its renewal from starting or from being
//! paid, the requests of its page (a renewal filed — and, unchanged,
//! approved by the system — in one transaction with the no-debt check),
//! and what a paid request does to the registry, in the transaction that
//! issues its permit: a new licence registered, or a licence's change.
//!
//! The database keeps at most one live renewal per licence and year (a
//! partial unique index on `permit_requests`): the check here gives the
//! citizen a clear answer, the index holds under concurrent writers.

use std::collections::{HashMap, HashSet};
use std::ops::DerefMut;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::AnyConnection;

use super::audit::AuditAction;
use super::dialect::{json, Stmt};
use super::permits::{ApprovedLine, NewPermitRequest, PermitRequest, RENEWALS_TO_PAY_OF_ACCOUNTS, REQUESTS_OF_LICENCE};
use super::records::{date_to_db, timestamp_to_db, DbDate, DbTime};
use super::{query_err, Conn, Store, StoreError, Tx};
use crate::domain::licences::{
    new_licence_number, LicenceChange, LicenceStatus, LICENCE_SERIES, MAX_LICENCE_NUMBER_LEN,
};
use crate::domain::money::Centavos;
use crate::domain::permits::{system_approval, RequestStatus};
use crate::domain::quote::OpenCharge;
use crate::domain::rfc::Rfc;

/// A licence of the registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Licence {
    pub id: i64,
    /// As printed on the licence, uppercase.
    pub number: String,
    pub holder_rfc: String,
    pub holder_name: String,
    /// A code of the municipality file's `[[giros]]`.
    pub giro: String,
    pub address: String,
    pub hours: String,
    pub status: LicenceStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One validated line of a licences file (see
/// `server::licence_import::parse_licences`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LicenceRow {
    /// Line in the source file (1-based, the header is line 1).
    pub line: usize,
    pub number: String,
    pub rfc: Rfc,
    pub name: String,
    pub giro: String,
    pub address: String,
    pub hours: String,
    pub status: LicenceStatus,
}

/// What an import did. Importing the same file again changes nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LicenceImportSummary {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// Spanish, for the operator.
impl std::fmt::Display for LicenceImportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} licencias nuevas, {} licencias actualizadas, {} licencias sin cambios",
            self.created, self.updated, self.unchanged
        )
    }
}

/// A debt that keeps a licence's renewal from starting or from being paid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LicenceDebt {
    pub charge: OpenCharge,
    /// The fee of an earlier year's renewal of this licence, still unpaid.
    pub earlier_renewal: bool,
}

/// What a renewal must satisfy: no open charge of `concepts` already due on
/// `today` on an account of `rfc`, and no unpaid renewal of an earlier year.
#[derive(Clone, Debug)]
pub struct PaidUpCheck {
    pub rfc: String,
    pub concepts: Vec<String>,
    pub today: NaiveDate,
}

/// How the system approves a request as it is filed (a renewal without
/// changes): its fees, their due date, the timeline's comment.
#[derive(Clone, Debug)]
pub struct SystemApproval {
    pub lines: Vec<ApprovedLine>,
    pub due_date: NaiveDate,
    pub comment: String,
}

/// Why a licence's request was not filed (nothing was written).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LicenceRefusal {
    #[error("no such licence")]
    NotFound,
    #[error("the licence is {0}")]
    Inactive(LicenceStatus),
    #[error("renewal {number} of {year} is under way")]
    RenewalExists { number: String, status: Option<RequestStatus>, year: i32 },
    #[error("the holder owes {} charge(s) that must be paid first", .0.len())]
    Debts(Vec<LicenceDebt>),
    #[error("a fee has no amount")]
    FeeMissing,
}

impl LicenceRefusal {
    pub fn message_es(&self) -> String {
        match self {
            LicenceRefusal::NotFound => "No encontramos una licencia con ese número y RFC.".into(),
            LicenceRefusal::Inactive(s) => format!(
                "La licencia está «{}»: acuda a la Dirección de Ingresos para aclarar su situación.",
                s.label_es()
            ),
            LicenceRefusal::RenewalExists { number, status, year } => match status {
                Some(s @ (RequestStatus::Paid | RequestStatus::Issued)) => format!(
                    "El refrendo {year} de esta licencia ya está cubierto: solicitud {number} («{}»).",
                    s.label_es()
                ),
                Some(s) => format!(
                    "Esta licencia ya tiene el refrendo {year} en trámite: solicitud {number} («{}»). \
                     Consulte esa solicitud en lugar de iniciar otra.",
                    s.label_es()
                ),
                None => format!("Esta licencia ya tiene el refrendo {year} en trámite: no se puede iniciar otro."),
            },
            LicenceRefusal::Debts(debts) => format!(
                "No se puede refrendar la licencia mientras haya adeudos vencidos ({}): páguelos primero.",
                debts.len()
            ),
            LicenceRefusal::FeeMissing => "Falta el importe de una tarifa.".into(),
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            LicenceRefusal::NotFound => 404,
            LicenceRefusal::Inactive(_) | LicenceRefusal::RenewalExists { .. } => 409,
            LicenceRefusal::Debts(_) | LicenceRefusal::FeeMissing => 422,
        }
    }
}

macro_rules! licence_select {
    () => {
        "SELECT id, number, holder_rfc, holder_name, giro, address, hours, status, \
         {ts_text:created_at} AS created_at, {ts_text:updated_at} AS updated_at FROM alcohol_licences"
    };
}

static LICENCE_BY_NUMBER: Stmt = Stmt::new(concat!(licence_select!(), " WHERE number = $1"));
static LICENCE_BY_ID: Stmt = Stmt::new(concat!(licence_select!(), " WHERE id = $1"));
static LICENCES_BY_NUMBERS: Stmt = Stmt::new(concat!(licence_select!(), " WHERE number IN {texts:$1}"));
static LOCK_LICENCE: Stmt = Stmt::new("SELECT status FROM alcohol_licences WHERE id = $1 {for_update}");
static INSERT_LICENCE: Stmt = Stmt::new(
    "INSERT INTO alcohol_licences (number, holder_rfc, holder_name, giro, address, hours, status, created_at, \
     updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, {ts:$8}, {ts:$8})",
);
/// A licence the portal registers: nothing when an imported one already
/// holds the number (the caller takes the next one).
static INSERT_NEW_LICENCE: Stmt = Stmt::new(
    "INSERT INTO alcohol_licences (number, holder_rfc, holder_name, giro, address, hours, status, created_at, \
     updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'active', {ts:$7}, {ts:$7}) ON CONFLICT (number) DO NOTHING \
     RETURNING id",
);
static UPDATE_LICENCE: Stmt = Stmt::new(
    "UPDATE alcohol_licences SET holder_rfc = $2, holder_name = $3, giro = $4, address = $5, hours = $6, \
     status = $7, updated_at = {ts:$8} WHERE number = $1",
);
static CHANGE_LICENCE: Stmt = Stmt::new(
    "UPDATE alcohol_licences SET giro = COALESCE($2, giro), address = COALESCE($3, address), \
     hours = COALESCE($4, hours), updated_at = {ts:$5} WHERE id = $1",
);
static LIVE_RENEWAL: Stmt = Stmt::new(
    "SELECT number, status FROM permit_requests WHERE licence_id = $1 AND licence_year = $2 \
     AND status NOT IN ('rejected', 'cancelled', 'expired') ORDER BY id LIMIT 1",
);
/// The open charges of `concepts` already due on an account of the RFC
/// (not the account of a request withdrawn or expired: its fee is owed by
/// nobody), and every open charge of an earlier year's renewal of the
/// licence still awaiting payment; the accounts `$4` left out (the renewal
/// being paid).
static LICENCE_DEBTS: Stmt = Stmt::new(
    "SELECT c.id AS id, a.number AS account, c.concept AS concept, c.period AS period, \
            {date_text:c.due_date} AS due_date, c.principal_centavos AS principal_centavos, 0 AS earlier_renewal \
     FROM charges c JOIN accounts a ON a.id = c.account_id JOIN taxpayers t ON t.id = a.taxpayer_id \
     WHERE t.rfc = $1 AND c.status = 'open' AND c.concept IN {texts:$2} AND c.due_date < {date:$3} \
       AND a.id NOT IN {ids:$4} \
       AND NOT EXISTS (SELECT 1 FROM permit_requests x WHERE x.account_id = a.id \
                       AND x.status IN ('rejected', 'cancelled', 'expired')) \
     UNION \
     SELECT c.id AS id, a.number AS account, c.concept AS concept, c.period AS period, \
            {date_text:c.due_date} AS due_date, c.principal_centavos AS principal_centavos, 1 AS earlier_renewal \
     FROM permit_requests r JOIN accounts a ON a.id = r.account_id JOIN charges c ON c.account_id = a.id \
     WHERE r.licence_id = $5 AND r.licence_year < $6 AND r.status = 'approved' AND c.status = 'open' \
       AND a.id NOT IN {ids:$4} \
     ORDER BY due_date, account, id",
);

#[derive(sqlx::FromRow)]
struct LicenceDbRow {
    id: i64,
    number: String,
    holder_rfc: String,
    holder_name: String,
    giro: String,
    address: String,
    hours: String,
    status: String,
    created_at: DbTime,
    updated_at: DbTime,
}

impl TryFrom<LicenceDbRow> for Licence {
    type Error = StoreError;

    fn try_from(r: LicenceDbRow) -> Result<Licence, StoreError> {
        let status = LicenceStatus::parse(&r.status)
            .ok_or_else(|| StoreError::Corrupt(format!("alcohol licence {}: status", r.id)))?;
        Ok(Licence {
            id: r.id,
            number: r.number,
            holder_rfc: r.holder_rfc,
            holder_name: r.holder_name,
            giro: r.giro,
            address: r.address,
            hours: r.hours,
            status,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
        })
    }
}

#[derive(sqlx::FromRow)]
struct DebtRow {
    id: i64,
    account: String,
    concept: String,
    period: String,
    due_date: DbDate,
    principal_centavos: i64,
    earlier_renewal: i64,
}

/// The licences' one-statement primitives.
impl<C: DerefMut<Target = AnyConnection> + Send> Conn<C> {
    async fn licence_where(&mut self, stmt: &'static Stmt, key: LicenceKey) -> Result<Option<Licence>, StoreError> {
        let q = sqlx::query_as::<_, LicenceDbRow>(self.sql(stmt));
        let q = match key {
            LicenceKey::Id(id) => q.bind(id),
            LicenceKey::Number(n) => q.bind(n),
        };
        q.fetch_optional(self.c())
            .await
            .map_err(query_err("read an alcohol licence"))?
            .map(Licence::try_from)
            .transpose()
    }

    /// The debts that keep licence `licence_id` from being renewed for
    /// `year` (see [`LICENCE_DEBTS`]), each once, oldest first.
    async fn licence_debts(
        &mut self,
        check: &PaidUpCheck,
        licence_id: i64,
        year: i32,
        leave_out: &[i64],
    ) -> Result<Vec<LicenceDebt>, StoreError> {
        let rows: Vec<DebtRow> = sqlx::query_as(self.sql(&LICENCE_DEBTS))
            .bind(&check.rfc)
            .bind(json(&check.concepts))
            .bind(date_to_db(check.today))
            .bind(json(leave_out))
            .bind(licence_id)
            .bind(year)
            .fetch_all(self.c())
            .await
            .map_err(query_err("read the debts of a licence's holder"))?;
        let mut seen: HashMap<i64, usize> = HashMap::new();
        let mut debts: Vec<LicenceDebt> = Vec::new();
        for r in rows {
            let debt = LicenceDebt {
                charge: OpenCharge {
                    charge_id: r.id,
                    account: r.account,
                    concept: r.concept,
                    period: r.period,
                    due_date: r.due_date.0,
                    principal: Centavos(r.principal_centavos),
                },
                earlier_renewal: r.earlier_renewal != 0,
            };
            match seen.get(&debt.charge.charge_id) {
                Some(&i) => debts[i].earlier_renewal |= debt.earlier_renewal,
                None => {
                    seen.insert(debt.charge.charge_id, debts.len());
                    debts.push(debt);
                }
            }
        }
        Ok(debts)
    }

    /// The live renewal of a licence for a year: its number and status.
    async fn live_renewal(&mut self, licence_id: i64, year: i32) -> Result<Option<(String, String)>, StoreError> {
        sqlx::query_as(self.sql(&LIVE_RENEWAL))
            .bind(licence_id)
            .bind(year)
            .fetch_optional(self.c())
            .await
            .map_err(query_err("look for a licence's live renewal"))
    }
}

enum LicenceKey {
    Id(i64),
    Number(String),
}

impl Store {
    /// The licence with this number (already normalised, uppercase).
    pub async fn licence_by_number(&self, number: &str) -> Result<Option<Licence>, StoreError> {
        let mut r = self.read().await?;
        r.licence_where(&LICENCE_BY_NUMBER, LicenceKey::Number(number.to_string())).await
    }

    pub async fn licence(&self, id: i64) -> Result<Option<Licence>, StoreError> {
        let mut r = self.read().await?;
        r.licence_where(&LICENCE_BY_ID, LicenceKey::Id(id)).await
    }

    /// The requests of a licence's page, newest first (at most `limit`).
    pub async fn licence_requests(&self, licence_id: i64, limit: i64) -> Result<Vec<PermitRequest>, StoreError> {
        let mut r = self.read().await?;
        r.requests_where(&REQUESTS_OF_LICENCE, |q| q.bind(licence_id).bind(limit)).await
    }

    /// What keeps licence `licence_id` from being renewed for `year` (or its
    /// renewal paid): see [`PaidUpCheck`]. The accounts `leave_out` are not
    /// looked at (the renewal's own, when it is the one being paid).
    pub async fn licence_debts(
        &self,
        check: &PaidUpCheck,
        licence_id: i64,
        year: i32,
        leave_out: &[i64],
    ) -> Result<Vec<LicenceDebt>, StoreError> {
        let mut r = self.read().await?;
        r.licence_debts(check, licence_id, year, leave_out).await
    }

    /// The renewals awaiting payment whose own account is one of these
    /// (what an order paying them must check first).
    pub async fn renewals_to_pay_of_accounts(&self, account_ids: &[i64]) -> Result<Vec<PermitRequest>, StoreError> {
        if account_ids.is_empty() {
            return Ok(vec![]);
        }
        let ids = json(account_ids);
        let mut r = self.read().await?;
        r.requests_where(&RENEWALS_TO_PAY_OF_ACCOUNTS, |q| q.bind(ids)).await
    }

    /// Files a request of a licence's page, in one transaction: the licence
    /// must be active; a renewal (a year in `new.licence`) must be the only
    /// live one of that licence and year and, with `paid_up`, its holder
    /// must owe nothing due of those concepts nor an earlier renewal; with
    /// `approval` the system approves it at once (its fees become charges of
    /// its own account, its timeline says why). A refusal writes nothing.
    #[tracing::instrument(name = "store.file_licence_request", skip_all)]
    pub async fn file_licence_request(
        &self,
        new: &NewPermitRequest,
        paid_up: Option<&PaidUpCheck>,
        approval: Option<&SystemApproval>,
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<Result<PermitRequest, LicenceRefusal>, StoreError> {
        let Some(link) = new.licence.as_ref() else {
            return Err(StoreError::Corrupt("a licence's request without its licence".into()));
        };
        let total = match approval {
            Some(a) => {
                let fees = a.lines.iter().map(|l| l.line.fee).try_fold(Centavos::ZERO, |t, f| t.checked_add(f?));
                match fees {
                    Some(t) => Some(t),
                    None => return Ok(Err(LicenceRefusal::FeeMissing)),
                }
            }
            None => None,
        };
        let at = timestamp_to_db(now);
        let mut tx = self.write().await?;
        let status: Option<String> = sqlx::query_scalar(tx.sql(&LOCK_LICENCE))
            .bind(link.licence_id)
            .fetch_optional(tx.c())
            .await
            .map_err(query_err("lock an alcohol licence"))?;
        let Some(status) = status else { return Ok(Err(LicenceRefusal::NotFound)) };
        let status = LicenceStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("alcohol licence {}: status", link.licence_id)))?;
        if status != LicenceStatus::Active {
            return Ok(Err(LicenceRefusal::Inactive(status)));
        }
        if let Some(year) = link.year {
            if let Some((number, status)) = tx.live_renewal(link.licence_id, year).await? {
                return Ok(Err(LicenceRefusal::RenewalExists { number, status: RequestStatus::parse(&status), year }));
            }
            if let Some(check) = paid_up {
                let debts = tx.licence_debts(check, link.licence_id, year, &[]).await?;
                if !debts.is_empty() {
                    return Ok(Err(LicenceRefusal::Debts(debts)));
                }
            }
        }
        let Some((id, number)) = tx.insert_request(new, &[], &at, today).await? else {
            let year = link.year.unwrap_or_default();
            return Ok(Err(LicenceRefusal::RenewalExists { number: String::new(), status: None, year }));
        };
        if let (Some(a), Some(total)) = (approval, total) {
            let to = system_approval(RequestStatus::Submitted)
                .map_err(|e| StoreError::Corrupt(format!("request {number}: {e}")))?;
            debug_assert_eq!(to, RequestStatus::Approved);
            let request = tx
                .requests_where(&super::permits::REQUEST_BY_ID, |q| q.bind(id))
                .await?
                .pop()
                .ok_or_else(|| StoreError::Corrupt(format!("permit request {id}")))?;
            tx.approve_request(
                &request,
                RequestStatus::Submitted,
                "system",
                &a.lines,
                total,
                "",
                a.due_date,
                Some(a.comment.as_str()),
                &at,
                today,
            )
            .await?;
        }
        tx.commit().await?;
        let request = self.permit_request(id).await?.ok_or_else(|| StoreError::Corrupt(format!("request {id}")))?;
        Ok(Ok(request))
    }

    /// Loads a validated licences file in ONE transaction (all or nothing):
    /// a new number is added; a known one takes the file's holder, giro,
    /// address, hours and status. The audit entry names `actor`.
    #[tracing::instrument(name = "store.import_licences", skip_all, fields(rows = rows.len()))]
    pub async fn import_licences(
        &self,
        rows: &[LicenceRow],
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<LicenceImportSummary, StoreError> {
        let at = timestamp_to_db(now);
        let mut tx = self.write().await?;
        let mut summary = LicenceImportSummary::default();
        for chunk in rows.chunks(500) {
            let numbers: Vec<&str> = chunk.iter().map(|r| r.number.as_str()).collect();
            let stored: Vec<LicenceDbRow> = sqlx::query_as(tx.sql(&LICENCES_BY_NUMBERS))
                .bind(json(&numbers))
                .fetch_all(tx.c())
                .await
                .map_err(query_err("read the licences being imported"))?;
            let stored: HashMap<String, Licence> = stored
                .into_iter()
                .map(Licence::try_from)
                .map(|l| l.map(|l| (l.number.clone(), l)))
                .collect::<Result<_, _>>()?;
            let mut in_chunk = HashSet::new();
            for r in chunk {
                if !in_chunk.insert(r.number.as_str()) {
                    return Err(StoreError::Corrupt(format!("licence {} twice in one import", r.number)));
                }
                let same = |l: &Licence| {
                    l.holder_rfc == r.rfc.as_str()
                        && l.holder_name == r.name
                        && l.giro == r.giro
                        && l.address == r.address
                        && l.hours == r.hours
                        && l.status == r.status
                };
                let stmt = match stored.get(&r.number) {
                    Some(l) if same(l) => {
                        summary.unchanged += 1;
                        continue;
                    }
                    Some(_) => {
                        summary.updated += 1;
                        &UPDATE_LICENCE
                    }
                    None => {
                        summary.created += 1;
                        &INSERT_LICENCE
                    }
                };
                sqlx::query(tx.sql(stmt))
                    .bind(&r.number)
                    .bind(r.rfc.as_str())
                    .bind(&r.name)
                    .bind(&r.giro)
                    .bind(&r.address)
                    .bind(&r.hours)
                    .bind(r.status.as_str())
                    .bind(&at)
                    .execute(tx.c())
                    .await
                    .map_err(query_err("import an alcohol licence"))?;
            }
        }
        let details = serde_json::json!({
            "rows": rows.len(), "created": summary.created, "updated": summary.updated,
            "unchanged": summary.unchanged,
        });
        tx.audit(actor, AuditAction::LicencesImported, details, &at).await?;
        tx.commit().await?;
        Ok(summary)
    }
}

/// Inside the transaction that issues the permit of a paid request of
/// licence `licence_id`: the registry takes the request's `change`.
pub(crate) async fn apply_change(
    tx: &mut Tx,
    licence_id: i64,
    change: &LicenceChange,
    request: &str,
    now: &str,
) -> Result<(), StoreError> {
    if change.is_empty() {
        return Ok(());
    }
    sqlx::query(tx.sql(&CHANGE_LICENCE))
        .bind(licence_id)
        .bind(change.giro.as_deref())
        .bind(change.address.as_deref())
        .bind(change.hours.as_deref())
        .bind(now)
        .execute(tx.c())
        .await
        .map_err(query_err("change an alcohol licence"))?;
    let details = serde_json::json!({ "licence_id": licence_id, "request": request, "change": change });
    tx.audit("system", AuditAction::LicenceChanged, details, now).await?;
    Ok(())
}

/// A licence a paid request registered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RegisteredLicence {
    pub id: i64,
    /// `ALC-2026-0001`.
    pub number: String,
}

/// Inside the transaction that issues the permit of a paid request for a
/// new licence of `giro`: the registry takes the licence, active, with the
/// request's holder (RFC and name), the establishment's address and hours
/// (its scope), numbered `ALC-<year>-NNNN` (see
/// [`crate::domain::licences`]): the next number of the series and year,
/// and past any number an imported licence already holds. A request
/// without what the registry needs (one filed before the RFC was asked)
/// registers nothing: the payment stands, and the answer is the timeline's
/// note for the office.
pub(crate) async fn register_new_licence(
    tx: &mut Tx,
    request: &PermitRequest,
    giro: &str,
    year: i32,
    now: &str,
) -> Result<Result<RegisteredLicence, String>, StoreError> {
    let rfc = request.applicant_rfc.as_deref().and_then(|r| Rfc::parse(r).ok());
    let address = request.scope.location.trim();
    let holder = request.applicant_name.trim();
    let Some(rfc) = rfc.filter(|_| !address.is_empty() && !holder.is_empty() && !giro.is_empty()) else {
        return Ok(Err("La licencia no se inscribió en el padrón: la solicitud no tiene el RFC del titular. La \
                       Dirección de Ingresos debe inscribirla."
            .into()));
    };
    let mut taken = Vec::new();
    loop {
        let n = tx.next_number(LICENCE_SERIES, year).await?;
        let number = new_licence_number(year, n);
        if number.len() > MAX_LICENCE_NUMBER_LEN {
            return Err(StoreError::Corrupt(format!("licence number {number} too long")));
        }
        let id: Option<i64> = sqlx::query_scalar(tx.sql(&INSERT_NEW_LICENCE))
            .bind(&number)
            .bind(rfc.as_str())
            .bind(holder)
            .bind(giro)
            .bind(address)
            .bind(request.scope.hours.trim())
            .bind(now)
            .fetch_optional(tx.c())
            .await
            .map_err(query_err("register a new alcohol licence"))?;
        let Some(id) = id else {
            // An imported licence holds it: never reused, take the next.
            taken.push(number);
            continue;
        };
        let details = serde_json::json!({
            "licence_id": id, "number": number, "request": request.number, "giro": giro,
            "numbers_already_held": taken,
        });
        tx.audit("system", AuditAction::LicenceRegistered, details, now).await?;
        return Ok(Ok(RegisteredLicence { id, number }));
    }
}
