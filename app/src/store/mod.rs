//! The store: every table and query of Recauda, written once, on SQLite
//! (one machine) and PostgreSQL (several `recauda serve` processes sharing
//! one database) alike.
//!
//! * [`Store`] is the one implementation. Its methods are the transactional
//!   rules (create an order, apply a provider event, issue a receipt,
//!   import a padrón…), each written once, in the module of its concept:
//!   [`padron`] (import and lookups), [`orders`], [`payments`], [`receipts`],
//!   [`caja`] (tills, window payments, cortes, cancellations), [`permits`],
//!   [`licences`] (alcohol licences and their renewals), [`garbage`] (the
//!   garbage service's registry, monthly charges, fines), and
//!   [`audit`], the hash-chained trail those rules append to.
//! * A rule runs over a [`Conn`]: a pooled connection for reads, or a write
//!   transaction ([`Tx`]) whose methods are one-statement primitives (lock
//!   an order, record an event, mark charges paid, take the next folio…),
//!   declared next to the rules that use them.
//! * Each statement is a [`dialect::Stmt`], written once with a few markers
//!   where the two SQL dialects differ; `sqlite.rs` and `postgres.rs` hold
//!   only those differences and their locking (`BEGIN IMMEDIATE` on SQLite,
//!   `FOR UPDATE` on PostgreSQL).
//! * Rows decode into [`records`] through `FromRow` structs; pure decisions
//!   (which transition, overpayment or not) are functions of
//!   [`crate::domain::payment`].
//!
//! Every query is parameterised (`$1`, `$2`… on both databases); no value
//! ever becomes SQL text. Money is integer centavos at rest.

use std::ops::DerefMut;
use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Transaction};

use crate::domain::money::Centavos;
use crate::domain::payment::TransitionError;
use crate::domain::reference::ReferenceError;
use crate::domain::rfc::PersonKind;

pub mod audit;
pub mod caja;
pub mod collections;
pub mod dialect;
pub mod garbage;
pub mod licences;
pub mod orders;
pub mod padron;
pub mod payments;
pub mod permits;
mod postgres;
pub mod receipts;
pub mod reconciliation;
pub mod records;
mod sqlite;
pub mod staff;

pub use crate::domain::payment::EventOutcome;
pub use audit::{AuditAction, AuditCheck, AuditEntry};
pub use caja::{
    CajaRefusal, CancellationRequest, CorteRecord, TakenPayment, TillSession, WindowPayment, WindowPaymentRequest,
};
pub use dialect::Dialect;
pub use garbage::{GarbageRefusal, GarbageRun, GarbageService, GarbageStaffCharge};
pub use licences::{
    Licence, LicenceDebt, LicenceImportSummary, LicenceRefusal, LicenceRow, PaidUpCheck, SystemApproval,
};
pub use permits::{
    ApprovedLine, LicenceLink, Mover, NewDocument, NewPermitRequest, Permit, PermitDocument, PermitRefusal,
    PermitRequest, RequestEvent,
};
pub use receipts::{RedeemOutcome, Redemption};
pub use reconciliation::HealNote;
pub use records::*;
pub use staff::{LoginChallenge, NewStaff, StaffChange, StaffSessionRow, StaffUser, TotpChange, TotpSecret};

/// The store. Cheap to clone (the pool is reference-counted).
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
    /// SQLite runs one write transaction at a time: writers of this process
    /// queue here, and each is woken the moment the previous one commits,
    /// instead of polling the database's lock (SQLite's busy handler sleeps
    /// between tries). PostgreSQL needs none: rows are locked, not the file.
    write_gate: Option<Arc<tokio::sync::Mutex<()>>>,
    /// Lookups arriving together share one statement.
    lookups: padron::Lookups,
}

/// A connection of the store and the dialect its statements are rendered
/// in: a pooled connection ([`Reader`]) or a write transaction ([`Tx`]).
pub struct Conn<C> {
    conn: C,
    dialect: Dialect,
    /// A writer's place at the gate, given up when the transaction ends
    /// (declared after `conn`, so it is dropped after it).
    _gate: Option<tokio::sync::OwnedMutexGuard<()>>,
}

/// A read on one pooled connection (several statements, one checkout).
pub type Reader = Conn<PoolConnection<Any>>;

/// A write transaction: `BEGIN IMMEDIATE` on SQLite (the one writer),
/// `BEGIN` on PostgreSQL (rows locked as they are decided on). Dropped
/// without [`Tx::commit`], it rolls back.
pub type Tx = Conn<Transaction<'static, Any>>;

impl<C: DerefMut<Target = AnyConnection> + Send> Conn<C> {
    /// The connection, for a statement.
    pub(crate) fn c(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }

    /// A statement's text in this connection's dialect.
    pub(crate) fn sql(&self, stmt: &'static dialect::Stmt) -> &'static str {
        stmt.text(self.dialect)
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), StoreError> {
        self.conn.commit().await.map_err(query_err("commit"))
    }

    /// `n` fresh ids of `table`, to insert in this transaction.
    pub(crate) async fn allocate_ids(&mut self, table: IdTable, n: usize) -> Result<Vec<i64>, StoreError> {
        match self.dialect {
            Dialect::Sqlite => sqlite::allocate_ids(&mut self.conn, table, n).await,
            Dialect::Postgres => postgres::allocate_ids(&mut self.conn, table, n).await,
        }
    }
}

/// Tables whose ids are taken before their rows are inserted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IdTable {
    Taxpayers,
    Accounts,
    PaymentOrders,
}

impl Store {
    /// Opens the database named by `database_url` and applies pending
    /// migrations:
    ///
    /// * `postgres://…` or `postgresql://…` → PostgreSQL;
    /// * anything else is SQLite: `sqlite:path.db`, `sqlite://path.db`,
    ///   `sqlite::memory:` or a plain file path. The file is created if
    ///   missing; WAL journal, foreign keys on, busy timeout.
    pub async fn connect(database_url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        if is_postgres_url(database_url) {
            Ok(Store {
                pool: postgres::connect(database_url).await?,
                dialect: Dialect::Postgres,
                write_gate: None,
                lookups: Default::default(),
            })
        } else {
            Ok(Store {
                pool: sqlite::connect(database_url).await?,
                dialect: Dialect::Sqlite,
                write_gate: Some(Arc::new(tokio::sync::Mutex::new(()))),
                lookups: Default::default(),
            })
        }
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The pool (tests and benchmarks inspect the database directly).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// One pooled connection, for a read of one or more statements.
    pub async fn read(&self) -> Result<Reader, StoreError> {
        let conn = self.pool.acquire().await.map_err(query_err("reach the database"))?;
        Ok(Conn { conn, dialect: self.dialect, _gate: None })
    }

    /// A write transaction (see [`Tx`]).
    pub async fn write(&self) -> Result<Tx, StoreError> {
        let gate = match &self.write_gate {
            Some(gate) => Some(gate.clone().lock_owned().await),
            None => None,
        };
        let conn = self.pool.begin_with(self.dialect.begin_write()).await.map_err(query_err("start a transaction"))?;
        Ok(Conn { conn, dialect: self.dialect, _gate: gate })
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(query_err("ping the database"))?;
        Ok(())
    }

    /// Takes (or renews) the lease of background job `job` for `holder`
    /// until `now + ttl`: granted when nobody holds it, when `holder`
    /// already does, or when the last holder's lease ran out (a process
    /// that died). Returns whether `holder` holds it now.
    pub async fn take_lease(
        &self,
        job: &str,
        holder: &str,
        now: chrono::DateTime<chrono::Utc>,
        ttl: std::time::Duration,
    ) -> Result<bool, StoreError> {
        static TAKE_LEASE: dialect::Stmt = dialect::Stmt::new(
            "INSERT INTO job_leases (name, holder, until) VALUES ($1, $2, {ts:$3}) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until \
             WHERE job_leases.holder = excluded.holder OR job_leases.until <= {ts:$4}",
        );
        let until = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::minutes(10));
        let mut r = self.read().await?;
        let done = sqlx::query(r.sql(&TAKE_LEASE))
            .bind(job)
            .bind(holder)
            .bind(records::timestamp_to_db(until))
            .bind(records::timestamp_to_db(now))
            .execute(r.c())
            .await
            .map_err(query_err("take a job's lease"))?;
        Ok(done.rows_affected() == 1)
    }

    /// The installation's secret `name` (32 random bytes): made by the
    /// first server that asks and shared by every server on this database.
    pub async fn instance_secret(&self, name: &str) -> Result<[u8; 32], StoreError> {
        static INSERT: dialect::Stmt = dialect::Stmt::new(
            "INSERT INTO instance_secrets (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        );
        static READ: dialect::Stmt = dialect::Stmt::new("SELECT secret FROM instance_secrets WHERE name = $1");
        let fresh: String = crate::tokens::random_bytes::<32>().iter().map(|b| format!("{b:02x}")).collect();
        let mut r = self.read().await?;
        sqlx::query(r.sql(&INSERT))
            .bind(name)
            .bind(&fresh)
            .execute(r.c())
            .await
            .map_err(query_err("store an instance secret"))?;
        let stored: String = sqlx::query_scalar(r.sql(&READ))
            .bind(name)
            .fetch_one(r.c())
            .await
            .map_err(query_err("read an instance secret"))?;
        let bytes: Vec<u8> =
            (0..stored.len()).step_by(2).filter_map(|i| u8::from_str_radix(stored.get(i..i + 2)?, 16).ok()).collect();
        bytes.try_into().map_err(|_| StoreError::Corrupt(format!("instance secret {name} is not 32 bytes of hex")))
    }

    /// Starts the task that batches lookups, on the current runtime (the
    /// server calls it at start-up; otherwise the first lookup does).
    pub fn start_lookup_batches(&self) {
        self.lookups.start(self);
    }

    /// Closes the pool (tests that reopen the same file).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Storage errors. Display is English (for logs) and the underlying sqlx error
/// is kept as `source()`, so cause chains are complete; `message_es()` is the
/// self-contained Spanish message for operators (it includes the cause).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {url}")]
    Connect {
        /// The URL with any password masked.
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot apply database migrations")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    #[error("database error while trying to {context}")]
    Query {
        context: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error(
        "padrón line {line}: account {account}, concept {concept}, period {period}: \
         the stored charge is {status} for {stored:?} centavos but the file says {incoming:?} centavos"
    )]
    ImportConflict {
        line: usize,
        account: String,
        concept: String,
        period: String,
        status: ChargeStatus,
        stored: Centavos,
        incoming: Centavos,
    },
    #[error("padrón line {line} changes charge {concept} {period} of account {account}, held by a live payment order")]
    ImportHeldCharge {
        line: usize,
        account: String,
        concept: String,
        period: String,
        stored: Centavos,
        incoming: Centavos,
    },
    #[error("padrón line {line} repeats account {account}, concept {concept}, period {period} of line {first_line}")]
    DuplicateRow { line: usize, first_line: usize, account: String, concept: String, period: String },
    #[error("unexpected value in the database: {0}")]
    Corrupt(String),
    /// Some of the charges already sit in a live (created or pending) order.
    #[error("charges {0:?} are already in a live payment order")]
    ChargesInLiveOrder(Vec<i64>),
    /// Some of the charges are no longer open (paid since they were quoted).
    #[error("some charges of the new payment order are no longer open")]
    ChargesNotOpen,
    /// A charge's amount or due date is no longer what the order quoted.
    #[error("a charge of the order changed since it was quoted")]
    ChargesChanged,
    #[error("payment order {0} does not exist")]
    OrderNotFound(i64),
    #[error("payment attempt {0} does not exist")]
    AttemptNotFound(i64),
    #[error("payment order {order_id}: transition refused")]
    Transition {
        order_id: i64,
        #[source]
        source: TransitionError,
    },
    #[error("cannot build the reference of payment order {order_id}")]
    Reference {
        order_id: i64,
        #[source]
        source: ReferenceError,
    },
}

impl StoreError {
    /// Spanish message for operators (CLI, admin pages).
    pub fn message_es(&self) -> String {
        match self {
            StoreError::Connect { url, source } => format!("no se pudo abrir la base de datos {url}: {source}"),
            StoreError::Migrate(source) => {
                format!("no se pudieron aplicar las migraciones de la base de datos: {source}")
            }
            StoreError::Query { context, source } => format!("error de la base de datos ({context}): {source}"),
            StoreError::ImportConflict { line, account, concept, period, status, stored, incoming } => format!(
                "línea {line}: la cuenta «{account}» ya tiene el cargo {concept} {period} {} por {} \
                 y el archivo indica {}; no se importó nada",
                status.name_es(),
                stored.display_mxn(),
                incoming.display_mxn()
            ),
            StoreError::ImportHeldCharge { line, account, concept, period, stored, incoming } => format!(
                "línea {line}: el cargo {concept} {period} de la cuenta «{account}» ({}) está en una orden de pago \
                 vigente y el archivo indica {}; espere a que la orden se pague o venza, o cancélela; no se importó nada",
                stored.display_mxn(),
                incoming.display_mxn()
            ),
            StoreError::DuplicateRow { line, first_line, account, concept, period } => format!(
                "línea {line}: el cargo {concept} {period} de la cuenta «{account}» ya aparece en la línea {first_line}"
            ),
            StoreError::Corrupt(what) => format!("dato inesperado en la base de datos: {what}"),
            StoreError::ChargesInLiveOrder(ids) => {
                format!("los cargos {ids:?} ya están en una orden de pago vigente")
            }
            StoreError::ChargesNotOpen => "algunos cargos de la orden ya no están pendientes".into(),
            StoreError::ChargesChanged => "algún cargo de la orden cambió desde que se cotizó".into(),
            StoreError::OrderNotFound(id) => format!("no existe la orden de pago {id}"),
            StoreError::AttemptNotFound(id) => format!("no existe el intento de pago {id}"),
            StoreError::Transition { order_id, source } => {
                format!("orden de pago {order_id}: {}", source.message_es())
            }
            StoreError::Reference { order_id, source } => {
                format!("no se pudo formar la referencia de la orden {order_id}: {}", source.message_es())
            }
        }
    }
}

/// Maps a sqlx error to [`StoreError::Query`] with what we were doing.
pub(crate) fn query_err(context: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Query { context, source }
}

/// Whether a database error is a unique / primary key violation.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// The URL with the password (if any) replaced by `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match (authority.rfind('@'), authority.find(':')) {
        (Some(at), Some(colon)) if colon < at => {
            format!("{}{}:***{}", &url[..scheme_end + 3], &authority[..colon], &rest[at..])
        }
        _ => url.to_string(),
    }
}

/// Person kind of a taxpayer the padrón gives without RFC: "moral" when the
/// name carries a company-type suffix (S.A., S. de R.L., A.C., S.C., …), else "fisica".
pub fn guess_person_kind(name: &str) -> PersonKind {
    let tokens: Vec<String> = name
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(|t| t.chars().filter(|c| *c != '.').collect::<String>().to_uppercase())
        .filter(|t| !t.is_empty())
        .collect();
    const SUFFIXES: [&[&str]; 12] = [
        &["SA"],
        &["SA", "DE", "CV"],
        &["SAB", "DE", "CV"],
        &["SAPI", "DE", "CV"],
        &["S", "DE", "RL"],
        &["S", "DE", "RL", "DE", "CV"],
        &["SRL"],
        &["AC"],
        &["SC"],
        &["SC", "DE", "RL"],
        &["SPR", "DE", "RL"],
        &["IAP"],
    ];
    if SUFFIXES.iter().any(|s| tokens.ends_with(&s.iter().map(|x| x.to_string()).collect::<Vec<_>>())) {
        PersonKind::Moral
    } else {
        PersonKind::Fisica
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db.example:5432/recauda?sslmode=require"),
            "postgres://app:***@db.example:5432/recauda?sslmode=require"
        );
        assert_eq!(redact_url("postgres://app@db/recauda"), "postgres://app@db/recauda");
        assert_eq!(redact_url("sqlite:recauda.db"), "sqlite:recauda.db");
    }

    #[test]
    fn guesses_person_kind_without_rfc() {
        assert_eq!(guess_person_kind("Hotel Misión Loreto, S.A. de C.V."), PersonKind::Moral);
        assert_eq!(guess_person_kind("Buceo Coronado S. de R.L. de C.V."), PersonKind::Moral);
        assert_eq!(guess_person_kind("Amigos de Loreto, A.C."), PersonKind::Moral);
        assert_eq!(guess_person_kind("José Luis Peña Cota"), PersonKind::Fisica);
        assert_eq!(guess_person_kind("Sacarías Núñez"), PersonKind::Fisica);
        assert_eq!(guess_person_kind("J. Luis Sosa"), PersonKind::Fisica);
        assert_eq!(guess_person_kind("Pescadería La Sirena SA"), PersonKind::Moral);
    }

    #[test]
    fn summary_display_is_spanish() {
        let s = ImportSummary {
            taxpayers_created: 3,
            accounts_created: 4,
            charges_created: 8,
            charges_updated: 1,
            charges_unchanged: 0,
        };
        assert_eq!(
            s.to_string(),
            "3 contribuyentes nuevos, 4 cuentas nuevas, 8 cargos nuevos, 1 cargos actualizados, 0 cargos sin cambios"
        );
    }

    #[test]
    fn statuses_round_trip() {
        for s in ChargeStatus::ALL {
            assert_eq!(ChargeStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(ChargeStatus::parse("OPEN"), None);
    }
}
