//! Garbage collection for businesses ([`crate::domain::garbage`]): the
//! registry of which accounts receive the monthly service (start, end; the
//! monthly factor of a range tariff), the month's charges generated for
//! every service active in it, and the amounts the treasury sets within a
//! range tariff (fines, special services) or charges per service (N
//! services at a fixed factor), each a charge of the account.
//!
//! Every rule is one transaction that also appends its audit entry; a
//! refusal ([`GarbageRefusal`]) writes nothing. The generation is
//! idempotent through the charges' UNIQUE (account, concept, period): a
//! charge already there (generated before, imported with the padrón, or
//! inserted meanwhile by another server running the same month) is left as
//! it is and counted as present; on PostgreSQL two runs at once wait for
//! each other's rows, never create one twice.

use std::ops::DerefMut;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::AnyConnection;

use super::audit::AuditAction;
use super::dialect::Stmt;
use super::records::{date_to_db, timestamp_to_db, ChargeStatus, DbDate, DbTime};
use super::{query_err, Conn, Store, StoreError};
use crate::domain::account::AccountNumber;
use crate::domain::garbage::{MonthlyFees, ServiceTerms, StaffCharge};
use crate::domain::money::Centavos;

/// A business's garbage service, with its account and taxpayer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GarbageService {
    pub id: i64,
    pub account_id: i64,
    pub account: String,
    pub taxpayer: String,
    /// The monthly tariff's code (`BAS-C-2S`).
    pub tariff: String,
    /// The monthly factor in UMA set at registration under a range tariff
    /// (`BAS-I`); `None` under a fixed one.
    pub factor: Option<Decimal>,
    /// Why (optional), as given at registration.
    pub reason: Option<String>,
    pub starts_on: NaiveDate,
    /// The last day served; `None` while it goes on.
    pub ends_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

/// What a month's generation did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GarbageRun {
    pub month: String,
    /// Services active in the month.
    pub services: u64,
    /// Charges created by this run.
    pub created: u64,
    /// Charges that were already there (left as they were).
    pub present: u64,
    /// The sum of the charges created.
    pub total: Centavos,
}

impl std::fmt::Display for GarbageRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Basura {}: {} servicios activos, {} cargos nuevos, {} ya existían; total de los cargos nuevos {}",
            self.month,
            self.services,
            self.created,
            self.present,
            self.total.display_mxn()
        )
    }
}

/// An amount set by staff, as put on the account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GarbageStaffCharge {
    pub id: i64,
    pub charge_id: i64,
    pub account: String,
    pub taxpayer: String,
    pub tariff: String,
    pub concept: String,
    pub period: String,
    /// UMA per service: set within the range, or the tariff's fixed one.
    pub factor: Decimal,
    /// How many services (1 for an amount set within a range).
    pub quantity: i64,
    pub uma: Decimal,
    pub fee: Centavos,
    pub reason: String,
    pub set_on: NaiveDate,
    pub due_date: NaiveDate,
    pub status: ChargeStatus,
    pub created_by: String,
}

/// Why a garbage action was refused (nothing was written).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GarbageRefusal {
    #[error("no account {0}")]
    UnknownAccount(String),
    #[error("account {account} already has a service ({tariff} from {starts_on})")]
    AlreadyServed { account: String, tariff: String, starts_on: NaiveDate, ends_on: Option<NaiveDate> },
    #[error("account {0} has no service without an end")]
    NotServed(String),
    #[error("the end precedes the service's start, {0}")]
    EndsBeforeStart(NaiveDate),
    #[error("account {account}'s service is under {tariff} (factor {factor:?}), no monthly tariff of {month}")]
    Unpriced { account: String, tariff: String, factor: Option<Decimal>, month: String },
}

impl GarbageRefusal {
    /// The message for the treasury's staff (Spanish).
    pub fn message_es(&self) -> String {
        let day = |d: &NaiveDate| d.format("%d/%m/%Y").to_string();
        match self {
            GarbageRefusal::UnknownAccount(a) => format!("No existe la cuenta «{a}» en el padrón."),
            GarbageRefusal::AlreadyServed { account, tariff, starts_on, ends_on } => match ends_on {
                None => format!(
                    "La cuenta {account} ya recibe el servicio de recolección (tarifa {tariff}, desde el {}): \
                     dé de baja ese servicio antes de registrar otro.",
                    day(starts_on)
                ),
                Some(end) => format!(
                    "La cuenta {account} tiene el servicio de recolección (tarifa {tariff}) hasta el {}: \
                     el nuevo debe empezar después de esa fecha.",
                    day(end)
                ),
            },
            GarbageRefusal::NotServed(a) => {
                format!("La cuenta {a} no tiene un servicio de recolección vigente que dar de baja.")
            }
            GarbageRefusal::EndsBeforeStart(start) => {
                format!("La baja no puede ser anterior al inicio del servicio ({}).", day(start))
            }
            GarbageRefusal::Unpriced { account, tariff, factor: None, month } => format!(
                "El servicio de la cuenta {account} tiene la tarifa {tariff}, que no es una tarifa mensual de \
                 recolección vigente en {month} con factor fijo: corrija ese servicio (baja y alta) y vuelva a \
                 generar. No se generó ningún cargo."
            ),
            GarbageRefusal::Unpriced { account, tariff, factor: Some(f), month } => format!(
                "El servicio de la cuenta {account} tiene la tarifa {tariff} con un factor de {} UMA al mes, que \
                 no cabe en una tarifa mensual con rango vigente en {month}: corrija ese servicio (baja y alta) y \
                 vuelva a generar. No se generó ningún cargo.",
                f.normalize()
            ),
        }
    }

    /// The HTTP status a page answers with.
    pub fn status(&self) -> u16 {
        match self {
            GarbageRefusal::UnknownAccount(_) => 404,
            GarbageRefusal::EndsBeforeStart(_) => 422,
            _ => 409,
        }
    }
}

macro_rules! service_select {
    () => {
        "SELECT s.id, s.account_id, a.number AS account, t.name AS taxpayer, s.tariff, s.factor, s.reason, \
         {date_text:s.starts_on} AS starts_on, {date_text:s.ends_on} AS ends_on, \
         {ts_text:s.created_at} AS created_at, s.created_by \
         FROM garbage_services s JOIN accounts a ON a.id = s.account_id JOIN taxpayers t ON t.id = a.taxpayer_id "
    };
}

static LOCK_ACCOUNT: Stmt = Stmt::new("SELECT id FROM accounts WHERE number = $1 {for_no_key_update}");
static SERVICE_FROM: Stmt = Stmt::new(concat!(
    service_select!(),
    "WHERE s.account_id = $1 AND (s.ends_on IS NULL OR s.ends_on >= {date:$2}) ORDER BY s.starts_on DESC, s.id DESC"
));
static OPEN_SERVICE: Stmt = Stmt::new(concat!(service_select!(), "WHERE s.account_id = $1 AND s.ends_on IS NULL"));
static SERVICE_BY_ID: Stmt = Stmt::new(concat!(service_select!(), "WHERE s.id = $1"));
static INSERT_SERVICE: Stmt = Stmt::new(
    "INSERT INTO garbage_services (account_id, tariff, factor, reason, starts_on, created_at, created_by) \
     VALUES ($1, $2, $3, $4, {date:$5}, {ts:$6}, $7) RETURNING id",
);
static END_SERVICE: Stmt = Stmt::new(
    "UPDATE garbage_services SET ends_on = {date:$2}, ended_at = {ts:$3}, ended_by = $4 \
     WHERE id = $1 AND ends_on IS NULL",
);
static SERVICES_IN: Stmt = Stmt::new(concat!(
    service_select!(),
    "WHERE s.starts_on <= {date:$2} AND (s.ends_on IS NULL OR s.ends_on >= {date:$1}) ORDER BY s.starts_on, s.id"
));
static SERVICES_NOT_ENDED_BEFORE: Stmt = Stmt::new(concat!(
    service_select!(),
    "WHERE s.ends_on IS NULL OR s.ends_on >= {date:$1} ORDER BY {bytewise:a.number}, s.starts_on, s.id LIMIT $2"
));
static INSERT_CHARGE_IF_NEW: Stmt = Stmt::new(
    "INSERT INTO charges (account_id, concept, period, due_date, principal_centavos) \
     VALUES ($1, $2, $3, {date:$4}, $5) ON CONFLICT (account_id, concept, period) DO NOTHING",
);
static COUNT_PERIODS: Stmt =
    Stmt::new("SELECT count(*) FROM charges WHERE account_id = $1 AND concept = $2 AND period LIKE $3");
static INSERT_CHARGE: Stmt = Stmt::new(
    "INSERT INTO charges (account_id, concept, period, due_date, principal_centavos) \
     VALUES ($1, $2, $3, {date:$4}, $5) RETURNING id",
);
static INSERT_STAFF_CHARGE: Stmt = Stmt::new(
    "INSERT INTO garbage_staff_charges (charge_id, tariff, factor, quantity, uma, fee_centavos, reason, set_on, \
     created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, {date:$8}, {ts:$9}, $10) RETURNING id",
);
macro_rules! staff_charge_select {
    () => {
        "SELECT g.id, g.charge_id, a.number AS account, t.name AS taxpayer, g.tariff, c.concept, c.period, g.factor, \
         g.quantity, g.uma, g.fee_centavos, g.reason, {date_text:g.set_on} AS set_on, \
         {date_text:c.due_date} AS due_date, c.status, g.created_by \
         FROM garbage_staff_charges g JOIN charges c ON c.id = g.charge_id \
         JOIN accounts a ON a.id = c.account_id JOIN taxpayers t ON t.id = a.taxpayer_id "
    };
}
static STAFF_CHARGE_BY_ID: Stmt = Stmt::new(concat!(staff_charge_select!(), "WHERE g.id = $1"));
static LATEST_STAFF_CHARGES: Stmt = Stmt::new(concat!(staff_charge_select!(), "ORDER BY g.id DESC LIMIT $1"));

#[derive(sqlx::FromRow)]
struct ServiceRow {
    id: i64,
    account_id: i64,
    account: String,
    taxpayer: String,
    tariff: String,
    factor: Option<String>,
    reason: Option<String>,
    starts_on: DbDate,
    ends_on: Option<DbDate>,
    created_at: DbTime,
    created_by: String,
}

impl TryFrom<ServiceRow> for GarbageService {
    type Error = StoreError;

    fn try_from(r: ServiceRow) -> Result<GarbageService, StoreError> {
        let factor = match r.factor.as_deref() {
            None => None,
            Some(f) => Some(
                f.parse::<Decimal>()
                    .map_err(|_| StoreError::Corrupt(format!("garbage service {}: factor {f:?}", r.id)))?,
            ),
        };
        Ok(GarbageService {
            id: r.id,
            account_id: r.account_id,
            account: r.account,
            taxpayer: r.taxpayer,
            tariff: r.tariff,
            factor,
            reason: r.reason,
            starts_on: r.starts_on.0,
            ends_on: r.ends_on.map(|d| d.0),
            created_at: r.created_at.0,
            created_by: r.created_by,
        })
    }
}

#[derive(sqlx::FromRow)]
struct StaffChargeRow {
    id: i64,
    charge_id: i64,
    account: String,
    taxpayer: String,
    tariff: String,
    concept: String,
    period: String,
    factor: String,
    quantity: i64,
    uma: String,
    fee_centavos: i64,
    reason: String,
    set_on: DbDate,
    due_date: DbDate,
    status: String,
    created_by: String,
}

impl TryFrom<StaffChargeRow> for GarbageStaffCharge {
    type Error = StoreError;

    fn try_from(r: StaffChargeRow) -> Result<GarbageStaffCharge, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("garbage staff charge {}: {what}", r.id));
        Ok(GarbageStaffCharge {
            id: r.id,
            charge_id: r.charge_id,
            factor: r.factor.parse().map_err(|_| corrupt("factor"))?,
            uma: r.uma.parse().map_err(|_| corrupt("uma"))?,
            status: ChargeStatus::parse(&r.status).ok_or_else(|| corrupt("status"))?,
            account: r.account,
            taxpayer: r.taxpayer,
            tariff: r.tariff,
            concept: r.concept,
            period: r.period,
            quantity: r.quantity,
            fee: Centavos(r.fee_centavos),
            reason: r.reason,
            set_on: r.set_on.0,
            due_date: r.due_date.0,
            created_by: r.created_by,
        })
    }
}

/// The garbage rules' one-statement primitives.
impl<C: DerefMut<Target = AnyConnection> + Send> Conn<C> {
    /// The account's id, its row locked until the transaction ends (so
    /// two rules on one account run one after the other on PostgreSQL; the
    /// lock lets charges still reference it).
    async fn lock_account(&mut self, number: &AccountNumber) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar(self.sql(&LOCK_ACCOUNT))
            .bind(number.as_str())
            .fetch_optional(self.c())
            .await
            .map_err(query_err("lock an account"))
    }

    async fn services_where(
        &mut self,
        stmt: &'static Stmt,
        bind: impl FnOnce(
            sqlx::query::QueryAs<'static, sqlx::Any, ServiceRow, sqlx::any::AnyArguments<'static>>,
        ) -> sqlx::query::QueryAs<'static, sqlx::Any, ServiceRow, sqlx::any::AnyArguments<'static>>,
    ) -> Result<Vec<GarbageService>, StoreError> {
        let rows = bind(sqlx::query_as(self.sql(stmt)))
            .fetch_all(self.c())
            .await
            .map_err(query_err("read garbage services"))?;
        rows.into_iter().map(GarbageService::try_from).collect()
    }

    async fn staff_charges_where(
        &mut self,
        stmt: &'static Stmt,
        key: i64,
    ) -> Result<Vec<GarbageStaffCharge>, StoreError> {
        let rows: Vec<StaffChargeRow> = sqlx::query_as(self.sql(stmt))
            .bind(key)
            .fetch_all(self.c())
            .await
            .map_err(query_err("read garbage staff charges"))?;
        rows.into_iter().map(GarbageStaffCharge::try_from).collect()
    }
}

fn service_missing(id: i64) -> StoreError {
    StoreError::Corrupt(format!("garbage service {id} vanished inside its own transaction"))
}

impl Store {
    /// Registers the monthly service of `account` under `terms` (a monthly
    /// tariff and, for a range, its factor, as
    /// [`crate::domain::garbage::service_terms`] decided them) from
    /// `starts_on`. Refused when the account is unknown, or already has a
    /// service that has not ended before `starts_on` (one service at a
    /// time).
    #[tracing::instrument(name = "store.start_garbage_service", skip(self, terms, now), fields(tariff = %terms.tariff))]
    pub async fn start_garbage_service(
        &self,
        account: &AccountNumber,
        terms: &ServiceTerms,
        starts_on: NaiveDate,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<GarbageService, GarbageRefusal>, StoreError> {
        let at = timestamp_to_db(now);
        let mut tx = self.write().await?;
        let Some(account_id) = tx.lock_account(account).await? else {
            return Ok(Err(GarbageRefusal::UnknownAccount(account.to_string())));
        };
        let day = date_to_db(starts_on);
        let current = tx.services_where(&SERVICE_FROM, |q| q.bind(account_id).bind(day.clone())).await?;
        if let Some(s) = current.into_iter().next() {
            return Ok(Err(GarbageRefusal::AlreadyServed {
                account: s.account,
                tariff: s.tariff,
                starts_on: s.starts_on,
                ends_on: s.ends_on,
            }));
        }
        let factor = terms.factor.map(|f| f.normalize().to_string());
        let id: i64 = sqlx::query_scalar(tx.sql(&INSERT_SERVICE))
            .bind(account_id)
            .bind(&terms.tariff)
            .bind(factor.clone())
            .bind(terms.reason.clone())
            .bind(&day)
            .bind(&at)
            .bind(actor)
            .fetch_one(tx.c())
            .await
            .map_err(query_err("register a garbage service"))?;
        let service =
            tx.services_where(&SERVICE_BY_ID, |q| q.bind(id)).await?.pop().ok_or_else(|| service_missing(id))?;
        let details = serde_json::json!({
            "service_id": id, "account": service.account, "tariff": terms.tariff, "factor": factor,
            "reason": terms.reason, "starts_on": day,
        });
        tx.audit(actor, AuditAction::GarbageServiceStarted, details, &at).await?;
        tx.commit().await?;
        Ok(Ok(service))
    }

    /// Ends the service of `account` that has no end: `ends_on` is its
    /// last day served (its month is still charged).
    #[tracing::instrument(name = "store.end_garbage_service", skip(self, now))]
    pub async fn end_garbage_service(
        &self,
        account: &AccountNumber,
        ends_on: NaiveDate,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<GarbageService, GarbageRefusal>, StoreError> {
        let at = timestamp_to_db(now);
        let mut tx = self.write().await?;
        let Some(account_id) = tx.lock_account(account).await? else {
            return Ok(Err(GarbageRefusal::UnknownAccount(account.to_string())));
        };
        let Some(open) = tx.services_where(&OPEN_SERVICE, |q| q.bind(account_id)).await?.pop() else {
            return Ok(Err(GarbageRefusal::NotServed(account.to_string())));
        };
        if ends_on < open.starts_on {
            return Ok(Err(GarbageRefusal::EndsBeforeStart(open.starts_on)));
        }
        let day = date_to_db(ends_on);
        let ended = sqlx::query(tx.sql(&END_SERVICE))
            .bind(open.id)
            .bind(&day)
            .bind(&at)
            .bind(actor)
            .execute(tx.c())
            .await
            .map_err(query_err("end a garbage service"))?;
        if ended.rows_affected() != 1 {
            return Ok(Err(GarbageRefusal::NotServed(account.to_string())));
        }
        let details = serde_json::json!({
            "service_id": open.id, "account": open.account, "tariff": open.tariff,
            "factor": open.factor.map(|f| f.normalize().to_string()), "starts_on": date_to_db(open.starts_on),
            "ends_on": day,
        });
        tx.audit(actor, AuditAction::GarbageServiceEnded, details, &at).await?;
        tx.commit().await?;
        Ok(Ok(GarbageService { ends_on: Some(ends_on), ..open }))
    }

    /// The services not ended before `on` (still served, or ending later),
    /// by account number; at most `limit`.
    pub async fn garbage_services_from(&self, on: NaiveDate, limit: i64) -> Result<Vec<GarbageService>, StoreError> {
        let mut r = self.read().await?;
        r.services_where(&SERVICES_NOT_ENDED_BEFORE, |q| q.bind(date_to_db(on)).bind(limit)).await
    }

    /// Generates the month's charges in ONE transaction (all or nothing):
    /// for every service active on some day of the month (started on or
    /// before its last day, not ended before its first), a charge of its
    /// tariff's concept, period `YYYY-MM`, the fee `fees` gives its tariff
    /// (and its factor, under a range tariff), due on the month's due date
    /// ([`crate::domain::garbage::Month::due_date`]). A charge already
    /// there is left as it is. An account with two services in the month
    /// (one ended, the next started) is charged once, under the one that
    /// started first. Refused, with nothing written, when a service's
    /// tariff has no fee for the month (no longer a monthly tariff, or its
    /// factor no longer fits it).
    #[tracing::instrument(name = "store.generate_garbage_charges", skip(self, fees, now), fields(month = %fees.month))]
    pub async fn generate_garbage_charges(
        &self,
        fees: &MonthlyFees,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<GarbageRun, GarbageRefusal>, StoreError> {
        let at = timestamp_to_db(now);
        let month = fees.month;
        let (first, last) = (date_to_db(month.first_day()), date_to_db(month.last_day()));
        let (period, due) = (month.period(), date_to_db(month.due_date()));
        let mut tx = self.write().await?;
        let services = tx.services_where(&SERVICES_IN, |q| q.bind(first).bind(last)).await?;
        let mut run = GarbageRun {
            month: period.clone(),
            services: services.len() as u64,
            created: 0,
            present: 0,
            total: Centavos::ZERO,
        };
        for s in &services {
            let Some(fee) = fees.fee_for(&s.tariff, s.factor) else {
                return Ok(Err(GarbageRefusal::Unpriced {
                    account: s.account.clone(),
                    tariff: s.tariff.clone(),
                    factor: s.factor,
                    month: period,
                }));
            };
            let inserted = sqlx::query(tx.sql(&INSERT_CHARGE_IF_NEW))
                .bind(s.account_id)
                .bind(&fee.concept)
                .bind(&period)
                .bind(&due)
                .bind(fee.fee.0)
                .execute(tx.c())
                .await
                .map_err(query_err("insert a garbage charge"))?;
            if inserted.rows_affected() == 1 {
                run.created += 1;
                run.total = run.total.checked_add(fee.fee).ok_or_else(|| {
                    StoreError::Corrupt("the garbage charges of a month add up beyond any amount".into())
                })?;
            } else {
                run.present += 1;
            }
        }
        let details = serde_json::json!({
            "month": period, "uma": fees.uma.to_string(), "due_date": due, "services": run.services,
            "created": run.created, "present": run.present, "total_centavos": run.total.0,
        });
        tx.audit(actor, AuditAction::GarbageChargesGenerated, details, &at).await?;
        tx.commit().await?;
        Ok(Ok(run))
    }

    /// Puts an amount staff set (a fine, a special service) or N services
    /// charged per service on `account` as a charge of its concept, period
    /// `MULTA-YYYYMMDD-N` or `SERV-YYYYMMDD-N` (N: the account's N-th of
    /// that day), with the factor, the number of services, the UMA, who
    /// and why kept beside it and in the audit trail.
    #[tracing::instrument(name = "store.set_garbage_charge", skip(self, charge, now), fields(tariff = %charge.tariff))]
    pub async fn set_garbage_charge(
        &self,
        account: &AccountNumber,
        charge: &StaffCharge,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<GarbageStaffCharge, GarbageRefusal>, StoreError> {
        let at = timestamp_to_db(now);
        let mut tx = self.write().await?;
        let Some(account_id) = tx.lock_account(account).await? else {
            return Ok(Err(GarbageRefusal::UnknownAccount(account.to_string())));
        };
        let prefix = charge.period_prefix();
        let earlier: i64 = sqlx::query_scalar(tx.sql(&COUNT_PERIODS))
            .bind(account_id)
            .bind(&charge.concept)
            .bind(format!("{prefix}%"))
            .fetch_one(tx.c())
            .await
            .map_err(query_err("count an account's charges of the day"))?;
        let period = format!("{prefix}{}", earlier + 1);
        let charge_id: i64 = sqlx::query_scalar(tx.sql(&INSERT_CHARGE))
            .bind(account_id)
            .bind(&charge.concept)
            .bind(&period)
            .bind(date_to_db(charge.due_date))
            .bind(charge.fee.0)
            .fetch_one(tx.c())
            .await
            .map_err(query_err("insert a charge set by staff"))?;
        let id: i64 = sqlx::query_scalar(tx.sql(&INSERT_STAFF_CHARGE))
            .bind(charge_id)
            .bind(&charge.tariff)
            .bind(charge.factor.normalize().to_string())
            .bind(i64::from(charge.quantity))
            .bind(charge.uma.normalize().to_string())
            .bind(charge.fee.0)
            .bind(&charge.reason)
            .bind(date_to_db(charge.set_on))
            .bind(&at)
            .bind(actor)
            .fetch_one(tx.c())
            .await
            .map_err(query_err("record a charge set by staff"))?;
        let details = serde_json::json!({
            "account": account.as_str(), "charge_id": charge_id, "tariff": charge.tariff,
            "concept": charge.concept, "period": period, "factor": charge.factor.normalize().to_string(),
            "quantity": charge.quantity,
            "uma": charge.uma.normalize().to_string(), "amount_centavos": charge.fee.0,
            "due_date": date_to_db(charge.due_date), "reason": charge.reason,
        });
        tx.audit(actor, AuditAction::GarbageChargeSet, details, &at).await?;
        let set = tx.staff_charges_where(&STAFF_CHARGE_BY_ID, id).await?.pop().ok_or_else(|| {
            StoreError::Corrupt(format!("garbage staff charge {id} vanished inside its own transaction"))
        })?;
        tx.commit().await?;
        Ok(Ok(set))
    }

    /// The service `id`, if there is one.
    pub async fn garbage_service(&self, id: i64) -> Result<Option<GarbageService>, StoreError> {
        let mut r = self.read().await?;
        Ok(r.services_where(&SERVICE_BY_ID, |q| q.bind(id)).await?.pop())
    }

    /// The amount set by staff `id`, if there is one.
    pub async fn garbage_staff_charge(&self, id: i64) -> Result<Option<GarbageStaffCharge>, StoreError> {
        let mut r = self.read().await?;
        Ok(r.staff_charges_where(&STAFF_CHARGE_BY_ID, id).await?.pop())
    }

    /// The latest `limit` amounts set by staff, newest first.
    pub async fn latest_garbage_staff_charges(&self, limit: i64) -> Result<Vec<GarbageStaffCharge>, StoreError> {
        let mut r = self.read().await?;
        r.staff_charges_where(&LATEST_STAFF_CHARGES, limit).await
    }
}
