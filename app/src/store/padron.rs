//! The padrón: taxpayers, accounts and their charges. The lookups (one
//! query each) and the import (all or nothing, in chunks of batched
//! statements).

use std::collections::{HashMap, HashSet};
use std::ops::DerefMut;

use chrono::{NaiveDate, Utc};
use sqlx::AnyConnection;

use super::dialect::{json, Stmt};
use super::records::{
    date_to_db, timestamp_to_db, AccountDebts, AccountDebtsRow, ChargeRecord, ChargeRow, ChargeStatus, Counts, DbDate,
    ImportSummary, PadronRow,
};
use super::{guess_person_kind, query_err, Conn, Dialect, IdTable, Store, StoreError, Tx};
use crate::domain::account::AccountNumber;
use crate::domain::money::Centavos;
use crate::domain::rfc::{PersonKind, Rfc};

/// An account, its taxpayer, and its open charges (by due date, concept,
/// period) aggregated into one JSON array: one row per account, so a lookup
/// is one statement and one row crossing from the database.
macro_rules! debts_select {
    () => {
        "SELECT a.id, a.number, a.kind, a.taxpayer_id, t.person_kind, t.rfc, t.name, t.colonia, \
                (SELECT {json_agg:{json_array:c.id, c.concept, c.period, {date_text:c.due_date}, c.principal_centavos} \
                         ORDER BY c.due_date, {bytewise:c.concept}, {bytewise:c.period}} \
                 FROM charges c WHERE c.account_id = a.id AND c.status = 'open') AS charges \
         FROM accounts a JOIN taxpayers t ON t.id = a.taxpayer_id "
    };
}

static DEBTS_OF_ACCOUNTS: Stmt = Stmt::new(concat!(debts_select!(), "WHERE a.number IN {texts:$1}"));
static DEBTS_OF_RFCS: Stmt =
    Stmt::new(concat!(debts_select!(), "WHERE t.rfc IN {texts:$1} ORDER BY {bytewise:a.number}, a.id"));
static OPEN_CHARGES: Stmt = Stmt::new(
    "SELECT c.id, c.account_id, a.number AS account, c.concept, c.period, {date_text:c.due_date} AS due_date, \
            c.principal_centavos, c.status \
     FROM charges c JOIN accounts a ON a.id = c.account_id \
     WHERE c.status = 'open' AND c.account_id IN {ids:$1} \
     ORDER BY {bytewise:a.number}, c.due_date, {bytewise:c.concept}, {bytewise:c.period}",
);
static ACCOUNTS_OF_CHARGES: Stmt =
    Stmt::new("SELECT DISTINCT account_id FROM charges WHERE id IN {ids:$1} ORDER BY account_id");
static COUNTS: Stmt = Stmt::new(
    "SELECT (SELECT count(*) FROM taxpayers) AS taxpayers, (SELECT count(*) FROM accounts) AS accounts, \
            (SELECT count(*) FROM charges) AS charges, \
            (SELECT count(*) FROM charges WHERE status = 'open') AS open_charges",
);

impl Store {
    /// The account with this number and its open charges (by due date,
    /// concept, period). Lookups that arrive together share one statement
    /// ([`Lookups`]).
    #[tracing::instrument(name = "store.debts_of_account", skip_all)]
    pub async fn debts_of_account(&self, number: &AccountNumber) -> Result<Option<AccountDebts>, StoreError> {
        let found = self.lookups.ask(Key::Account(number.to_string()), self).await?;
        Ok(found.into_iter().next())
    }

    /// Every account of the taxpayer with this RFC (by account number),
    /// each with its open charges.
    #[tracing::instrument(name = "store.debts_of_rfc", skip_all)]
    pub async fn debts_of_rfc(&self, rfc: &Rfc) -> Result<Vec<AccountDebts>, StoreError> {
        self.lookups.ask(Key::Rfc(rfc.as_str().to_string()), self).await
    }
}

impl<C: DerefMut<Target = AnyConnection> + Send> Conn<C> {
    /// The debts of several accounts (by number) and of several RFCs, each
    /// kind in one statement.
    async fn debts_of(&mut self, keys: &[Key]) -> Result<Vec<(Key, Vec<AccountDebts>)>, StoreError> {
        let numbers: Vec<&str> = keys.iter().filter_map(Key::account).collect();
        let rfcs: Vec<&str> = keys.iter().filter_map(Key::rfc).collect();
        let r = self;
        let mut by_number: std::collections::HashMap<String, AccountDebts> = std::collections::HashMap::new();
        if !numbers.is_empty() {
            let rows: Vec<AccountDebtsRow> = sqlx::query_as(r.sql(&DEBTS_OF_ACCOUNTS))
                .bind(json(&numbers))
                .fetch_all(r.c())
                .await
                .map_err(query_err("look up accounts"))?;
            for row in rows {
                let debts = AccountDebts::try_from(row)?;
                by_number.insert(debts.account.number.to_string(), debts);
            }
        }
        let mut by_rfc: std::collections::HashMap<String, Vec<AccountDebts>> = std::collections::HashMap::new();
        if !rfcs.is_empty() {
            let rows: Vec<AccountDebtsRow> = sqlx::query_as(r.sql(&DEBTS_OF_RFCS))
                .bind(json(&rfcs))
                .fetch_all(r.c())
                .await
                .map_err(query_err("look up the accounts of RFCs"))?;
            for row in rows {
                let debts = AccountDebts::try_from(row)?;
                let rfc = debts.account.rfc.clone().unwrap_or_default();
                by_rfc.entry(rfc).or_default().push(debts);
            }
        }
        Ok(keys
            .iter()
            .map(|k| {
                let found = match k {
                    Key::Account(n) => by_number.get(n).cloned().into_iter().collect(),
                    Key::Rfc(r) => by_rfc.get(r).cloned().unwrap_or_default(),
                };
                (k.clone(), found)
            })
            .collect())
    }
}

impl Store {
    /// Open charges of these accounts, ordered by account number, due
    /// date, concept, period.
    pub async fn open_charges(&self, account_ids: &[i64]) -> Result<Vec<ChargeRecord>, StoreError> {
        if account_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut r = self.read().await?;
        let rows: Vec<ChargeRow> = sqlx::query_as(r.sql(&OPEN_CHARGES))
            .bind(json(account_ids))
            .fetch_all(r.c())
            .await
            .map_err(query_err("read open charges"))?;
        Ok(rows.into_iter().map(ChargeRecord::from).collect())
    }

    /// The accounts these charges belong to.
    pub async fn accounts_of_charges(&self, charge_ids: &[i64]) -> Result<Vec<i64>, StoreError> {
        let mut r = self.read().await?;
        sqlx::query_scalar(r.sql(&ACCOUNTS_OF_CHARGES))
            .bind(json(charge_ids))
            .fetch_all(r.c())
            .await
            .map_err(query_err("read the accounts of charges"))
    }

    pub async fn counts(&self) -> Result<Counts, StoreError> {
        let mut r = self.read().await?;
        sqlx::query_as(r.sql(&COUNTS)).fetch_one(r.c()).await.map_err(query_err("count rows"))
    }

    /// Imports a validated padrón in ONE transaction: all or nothing (see
    /// [`import_rows`] for the rules). `progress(rows_done)` is called every
    /// [`IMPORT_CHUNK`] rows and once at the end.
    #[tracing::instrument(name = "store.import_padron", skip_all, fields(rows = rows.len()))]
    pub async fn import_padron(
        &self,
        rows: &[PadronRow],
        progress: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<ImportSummary, StoreError> {
        let mut tx = self.write().await?;
        match self.dialect {
            super::Dialect::Sqlite => super::sqlite::prepare_import(tx.c()).await?,
            super::Dialect::Postgres => super::postgres::prepare_import(tx.c()).await?,
        }
        let summary = import_rows(&mut tx, rows, progress).await?;
        let details = serde_json::json!({
            "rows": rows.len(),
            "taxpayers_created": summary.taxpayers_created,
            "accounts_created": summary.accounts_created,
            "charges_created": summary.charges_created,
            "charges_updated": summary.charges_updated,
            "charges_unchanged": summary.charges_unchanged,
        });
        let now = super::records::timestamp_to_db(chrono::Utc::now());
        tx.audit("cli", super::AuditAction::PadronImported, details, &now).await?;
        tx.commit().await?;
        Ok(summary)
    }
}

// ---------------------------------------------------------------- batching

/// What a lookup asks for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    Account(String),
    Rfc(String),
}

impl Key {
    fn account(&self) -> Option<&str> {
        match self {
            Key::Account(n) => Some(n),
            Key::Rfc(_) => None,
        }
    }

    fn rfc(&self) -> Option<&str> {
        match self {
            Key::Rfc(r) => Some(r),
            Key::Account(_) => None,
        }
    }
}

type Reply = tokio::sync::oneshot::Sender<Result<Vec<AccountDebts>, StoreError>>;

/// Lookups that arrive together share one statement: while the store
/// answers a batch, the lookups that come in wait for the next one, which
/// answers them all (at most [`Lookups::BATCH`]). An idle store answers a
/// lookup at once: nothing waits for company. Each statement crosses to the
/// database (SQLite's thread, PostgreSQL's socket) once for the whole
/// batch, on a connection kept for lookups (taken from the pool once, never
/// handed back, so no check-out or check-in per batch), which is where a
/// lookup's time goes.
#[derive(Clone, Debug, Default)]
pub(crate) struct Lookups {
    queue: std::sync::Arc<std::sync::OnceLock<tokio::sync::mpsc::UnboundedSender<(Key, Reply)>>>,
}

impl Lookups {
    /// Lookups answered by one statement, at most.
    pub const BATCH: usize = 64;

    /// Batches running at once, at most: one on SQLite (its statements take
    /// microseconds; waiting lookups make the next batch), a few on
    /// PostgreSQL (a round trip over the network each).
    fn in_flight(dialect: Dialect) -> usize {
        match dialect {
            Dialect::Sqlite => 1,
            Dialect::Postgres => 4,
        }
    }

    /// How long a lookup waits for its batch before it asks alone (a
    /// batching task that is gone or stuck never holds a page up).
    pub const WAIT: std::time::Duration = std::time::Duration::from_secs(5);

    /// Starts the batching task on the current runtime (the server's, at
    /// start-up) unless it runs already.
    pub(crate) fn start(&self, store: &Store) -> &tokio::sync::mpsc::UnboundedSender<(Key, Reply)> {
        self.queue.get_or_init(|| {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            tokio::spawn(run_batches(store.clone(), rx));
            tx
        })
    }

    /// Asks for `key`'s debts, in the next batch.
    async fn ask(&self, key: Key, store: &Store) -> Result<Vec<AccountDebts>, StoreError> {
        let queue = self.start(store);
        let (reply, answer) = tokio::sync::oneshot::channel();
        if queue.send((key.clone(), reply)).is_ok() {
            match tokio::time::timeout(Self::WAIT, answer).await {
                Ok(Ok(result)) => return result,
                Ok(Err(_)) => {}
                Err(_) => tracing::warn!("a lookup batch did not answer in time: asking alone"),
            }
        }
        // The batching task is gone (its runtime shut down): ask alone.
        let mut r = store.read().await?;
        Ok(r.debts_of(&[key]).await?.pop().map(|(_, d)| d).unwrap_or_default())
    }
}

/// A connection kept for lookups.
type LookupConn = Conn<Box<AnyConnection>>;

async fn lookup_conn(store: &Store, idle: &std::sync::Mutex<Vec<LookupConn>>) -> Result<LookupConn, StoreError> {
    if let Some(conn) = idle.lock().unwrap_or_else(|e| e.into_inner()).pop() {
        return Ok(conn);
    }
    let conn = store.pool.acquire().await.map_err(query_err("reach the database"))?.detach();
    Ok(Conn { conn: Box::new(conn), dialect: store.dialect, _gate: None })
}

async fn run_batches(store: Store, mut rx: tokio::sync::mpsc::UnboundedReceiver<(Key, Reply)>) {
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(Lookups::in_flight(store.dialect)));
    let idle: std::sync::Arc<std::sync::Mutex<Vec<LookupConn>>> = Default::default();
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else { return };
        let Some(first) = rx.recv().await else { return };
        let mut batch = vec![first];
        while batch.len() < Lookups::BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (store, idle) = (store.clone(), idle.clone());
        tokio::spawn(async move {
            let keys: Vec<Key> = batch.iter().map(|(k, _)| k.clone()).collect();
            let answered = match lookup_conn(&store, &idle).await {
                Ok(mut conn) => match conn.debts_of(&keys).await {
                    Ok(found) => {
                        idle.lock().unwrap_or_else(|e| e.into_inner()).push(conn);
                        Ok(found)
                    }
                    // A connection that failed is dropped, not kept.
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            };
            match answered {
                Ok(found) => {
                    for ((_, reply), (_, debts)) in batch.into_iter().zip(found) {
                        let _ = reply.send(Ok(debts));
                    }
                }
                // Each lookup then meets its own error (or its answer).
                Err(_) => {
                    for (key, reply) in batch {
                        let one = match store.read().await {
                            Ok(mut r) => r.debts_of(std::slice::from_ref(&key)).await,
                            Err(e) => Err(e),
                        };
                        let _ = reply.send(one.map(|mut v| v.pop().map(|(_, d)| d).unwrap_or_default()));
                    }
                }
            }
            drop(permit);
        });
    }
}

// ---------------------------------------------------------------- import

/// Rows handled between two progress calls, and the unit of batching.
pub const IMPORT_CHUNK: usize = 1000;

#[derive(sqlx::FromRow)]
pub(crate) struct ExistingAccount {
    id: i64,
    number: String,
    kind: String,
    taxpayer_id: i64,
    taxpayer_name: String,
    taxpayer_colonia: Option<String>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ExistingTaxpayer {
    id: i64,
    rfc: String,
    name: String,
    colonia: Option<String>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ExistingCharge {
    id: i64,
    account_id: i64,
    concept: String,
    period: String,
    due_date: DbDate,
    principal_centavos: i64,
    #[sqlx(try_from = "String")]
    status: ChargeStatus,
}

/// One new taxpayer as a JSON array (`{rows:…}`): id, person kind, RFC, name, colonia.
type TaxpayerJson<'a> = (i64, &'a str, Option<&'a str>, &'a str, Option<&'a str>);

struct NewTaxpayer<'a> {
    id: i64,
    person_kind: PersonKind,
    rfc: Option<&'a str>,
    name: &'a str,
    colonia: Option<&'a str>,
}

struct NewAccount<'a> {
    id: i64,
    number: &'a str,
    kind: &'a str,
    taxpayer_id: i64,
}

struct NewCharge<'a> {
    account_id: i64,
    concept: &'a str,
    period: &'a str,
    due_date: NaiveDate,
    principal: i64,
}

static ACCOUNTS_BY_NUMBERS: Stmt = Stmt::new(
    "SELECT a.id, a.number, a.kind, a.taxpayer_id, t.name AS taxpayer_name, t.colonia AS taxpayer_colonia \
     FROM accounts a JOIN taxpayers t ON t.id = a.taxpayer_id WHERE a.number IN {texts:$1}",
);
static TAXPAYERS_BY_RFCS: Stmt = Stmt::new("SELECT id, rfc, name, colonia FROM taxpayers WHERE rfc IN {texts:$1}");
static INSERT_TAXPAYERS: Stmt = Stmt::new(
    "INSERT INTO taxpayers (id, person_kind, rfc, name, colonia) {override} \
     SELECT CAST(value ->> 0 AS BIGINT), value ->> 1, value ->> 2, value ->> 3, value ->> 4 \
     FROM {rows:$1} ORDER BY key",
);
static UPDATE_TAXPAYER: Stmt = Stmt::new("UPDATE taxpayers SET name = $1, colonia = $2 WHERE id = $3");
static INSERT_ACCOUNTS: Stmt = Stmt::new(
    "INSERT INTO accounts (id, number, kind, taxpayer_id) {override} \
     SELECT CAST(value ->> 0 AS BIGINT), value ->> 1, value ->> 2, CAST(value ->> 3 AS BIGINT) \
     FROM {rows:$1} ORDER BY key",
);
static UPDATE_ACCOUNT: Stmt = Stmt::new("UPDATE accounts SET kind = $1, taxpayer_id = $2 WHERE id = $3");
static CHARGES_OF_ACCOUNTS: Stmt = Stmt::new(
    "SELECT id, account_id, concept, period, {date_text:due_date} AS due_date, principal_centavos, status \
     FROM charges WHERE account_id IN {ids:$1} ORDER BY id {for_no_key_update}",
);
static UPDATE_CHARGE: Stmt = Stmt::new(
    "UPDATE charges SET due_date = {date:$1}, principal_centavos = $2, updated_at = {ts:$4} \
     WHERE id = $3 AND status = 'open'",
);
static INSERT_CHARGES: Stmt = Stmt::new(
    "INSERT INTO charges (account_id, concept, period, due_date, principal_centavos) \
     SELECT CAST(value ->> 0 AS BIGINT), value ->> 1, value ->> 2, {date:value ->> 3}, CAST(value ->> 4 AS BIGINT) \
     FROM {rows:$1} ORDER BY key",
);

/// The import's one-statement primitives. Lists are passed whole, so each
/// is one round trip.
impl<C: DerefMut<Target = AnyConnection> + Send> Conn<C> {
    async fn accounts_by_numbers(&mut self, numbers: &[&str]) -> Result<Vec<ExistingAccount>, StoreError> {
        sqlx::query_as(self.sql(&ACCOUNTS_BY_NUMBERS))
            .bind(json(numbers))
            .fetch_all(self.c())
            .await
            .map_err(query_err("read existing accounts"))
    }

    async fn taxpayers_by_rfcs(&mut self, rfcs: &[&str]) -> Result<Vec<ExistingTaxpayer>, StoreError> {
        sqlx::query_as(self.sql(&TAXPAYERS_BY_RFCS))
            .bind(json(rfcs))
            .fetch_all(self.c())
            .await
            .map_err(query_err("read existing taxpayers"))
    }

    async fn insert_taxpayers(&mut self, taxpayers: &[NewTaxpayer<'_>]) -> Result<(), StoreError> {
        let batch: Vec<TaxpayerJson<'_>> =
            taxpayers.iter().map(|t| (t.id, t.person_kind.as_str(), t.rfc, t.name, t.colonia)).collect();
        sqlx::query(self.sql(&INSERT_TAXPAYERS))
            .bind(json(&batch))
            .execute(self.c())
            .await
            .map_err(query_err("insert taxpayers"))?;
        Ok(())
    }

    async fn update_taxpayer(&mut self, id: i64, name: &str, colonia: Option<&str>) -> Result<(), StoreError> {
        sqlx::query(self.sql(&UPDATE_TAXPAYER))
            .bind(name)
            .bind(colonia)
            .bind(id)
            .execute(self.c())
            .await
            .map_err(query_err("update a taxpayer"))?;
        Ok(())
    }

    async fn insert_accounts(&mut self, accounts: &[NewAccount<'_>]) -> Result<(), StoreError> {
        let batch: Vec<(i64, &str, &str, i64)> =
            accounts.iter().map(|a| (a.id, a.number, a.kind, a.taxpayer_id)).collect();
        sqlx::query(self.sql(&INSERT_ACCOUNTS))
            .bind(json(&batch))
            .execute(self.c())
            .await
            .map_err(query_err("insert accounts"))?;
        Ok(())
    }

    async fn update_account(&mut self, id: i64, kind: &str, taxpayer_id: i64) -> Result<(), StoreError> {
        sqlx::query(self.sql(&UPDATE_ACCOUNT))
            .bind(kind)
            .bind(taxpayer_id)
            .bind(id)
            .execute(self.c())
            .await
            .map_err(query_err("update an account"))?;
        Ok(())
    }

    async fn charges_of_accounts(&mut self, account_ids: &[i64]) -> Result<Vec<ExistingCharge>, StoreError> {
        sqlx::query_as(self.sql(&CHARGES_OF_ACCOUNTS))
            .bind(json(account_ids))
            .fetch_all(self.c())
            .await
            .map_err(query_err("read existing charges"))
    }

    async fn update_charge(
        &mut self,
        id: i64,
        due_date: NaiveDate,
        principal: i64,
        now: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(self.sql(&UPDATE_CHARGE))
            .bind(date_to_db(due_date))
            .bind(principal)
            .bind(id)
            .bind(now)
            .execute(self.c())
            .await
            .map_err(query_err("update a charge"))?;
        Ok(())
    }

    async fn insert_charges(&mut self, charges: &[NewCharge<'_>]) -> Result<(), StoreError> {
        let batch: Vec<(i64, &str, &str, String, i64)> =
            charges.iter().map(|c| (c.account_id, c.concept, c.period, date_to_db(c.due_date), c.principal)).collect();
        sqlx::query(self.sql(&INSERT_CHARGES))
            .bind(json(&batch))
            .execute(self.c())
            .await
            .map_err(query_err("insert charges"))?;
        Ok(())
    }
}

struct TaxpayerState {
    id: i64,
    name: String,
    colonia: Option<String>,
}

/// Who owns an account being upserted in the current chunk.
#[derive(Clone, Copy)]
enum Owner {
    Existing(i64),
    /// Index into the chunk's new taxpayers.
    New(usize),
}

/// Refuses a file that repeats (account, concept, period): sorting indices
/// keeps memory small even for a million rows.
fn check_no_duplicates(rows: &[PadronRow]) -> Result<(), StoreError> {
    let mut idx: Vec<u32> = (0..rows.len() as u32).collect();
    let key = |i: &u32| {
        let r = &rows[*i as usize];
        (r.account.as_str(), r.concept.as_str(), r.period.as_str())
    };
    idx.sort_by(|a, b| key(a).cmp(&key(b)).then(a.cmp(b)));
    for pair in idx.windows(2) {
        if key(&pair[0]) == key(&pair[1]) {
            let first = &rows[pair[0] as usize];
            let dup = &rows[pair[1] as usize];
            return Err(StoreError::DuplicateRow {
                line: dup.line,
                first_line: first.line,
                account: dup.account.to_string(),
                concept: dup.concept.clone(),
                period: dup.period.clone(),
            });
        }
    }
    Ok(())
}

/// The import rules, inside the caller's transaction:
///
/// * taxpayer: by RFC when the row has one; otherwise the account's current
///   taxpayer; otherwise a new one (name and colonia follow the file);
/// * account: by number (kind and owner follow the file);
/// * charge, by (account, concept, period): new → inserted; open and different
///   amount or due date → updated; identical → unchanged; paid/cancelled with a
///   different amount → [`StoreError::ImportConflict`] for the whole import;
///   open but held by a live payment order (its quote frozen, the citizen
///   may be paying it right now) with a different amount or due date →
///   [`StoreError::ImportHeldCharge`] for the whole import. The stored
///   charges are locked (`FOR NO KEY UPDATE` on PostgreSQL) before the live orders
///   are read, so an order created meanwhile either waits for the import or
///   is seen.
///
/// Rows are handled in chunks of [`IMPORT_CHUNK`]: a few batched statements per
/// chunk, then `progress(rows_done)`.
async fn import_rows(
    tx: &mut Tx,
    rows: &[PadronRow],
    progress: &(dyn Fn(usize) + Send + Sync),
) -> Result<ImportSummary, StoreError> {
    check_no_duplicates(rows)?;
    let now = timestamp_to_db(Utc::now());
    let mut summary = ImportSummary::default();
    // account number -> id, for accounts already upserted by this import
    let mut accounts_done: HashMap<&str, i64> = HashMap::new();
    let mut taxpayers_by_rfc: HashMap<String, TaxpayerState> = HashMap::new();
    let mut rows_done = 0usize;

    for chunk in rows.chunks(IMPORT_CHUNK) {
        // 1. Taxpayers and accounts met for the first time in this chunk.
        let mut seen_here: HashSet<&str> = HashSet::new();
        let pending: Vec<&PadronRow> = chunk
            .iter()
            .filter(|r| !accounts_done.contains_key(r.account.as_str()) && seen_here.insert(r.account.as_str()))
            .collect();
        let mut created_here: HashSet<i64> = HashSet::new();
        if !pending.is_empty() {
            let numbers: Vec<&str> = pending.iter().map(|r| r.account.as_str()).collect();
            let mut existing: HashMap<String, ExistingAccount> =
                tx.accounts_by_numbers(&numbers).await?.into_iter().map(|a| (a.number.clone(), a)).collect();
            let mut rfcs: Vec<&str> = pending
                .iter()
                .filter_map(|r| r.rfc.as_ref().map(|x| x.as_str()))
                .filter(|x| !taxpayers_by_rfc.contains_key(*x))
                .collect();
            rfcs.sort_unstable();
            rfcs.dedup();
            if !rfcs.is_empty() {
                for t in tx.taxpayers_by_rfcs(&rfcs).await? {
                    taxpayers_by_rfc.insert(t.rfc, TaxpayerState { id: t.id, name: t.name, colonia: t.colonia });
                }
            }

            // Decide every owner; updates of existing rows go out one by one (rare),
            // inserts are collected and sent in batches below.
            let mut new_taxpayers: Vec<NewTaxpayer<'_>> = Vec::new();
            let mut new_by_rfc: HashMap<&str, usize> = HashMap::new();
            let mut plans: Vec<(&PadronRow, Owner, Option<ExistingAccount>)> = Vec::with_capacity(pending.len());
            for row in pending {
                let colonia = row.colonia.as_deref();
                let known = existing.remove(row.account.as_str());
                let owner = match &row.rfc {
                    Some(rfc) => {
                        if let Some(t) = taxpayers_by_rfc.get_mut(rfc.as_str()) {
                            if t.name != row.name || t.colonia.as_deref() != colonia {
                                tx.update_taxpayer(t.id, &row.name, colonia).await?;
                                t.name.clone_from(&row.name);
                                t.colonia.clone_from(&row.colonia);
                            }
                            Owner::Existing(t.id)
                        } else if let Some(&i) = new_by_rfc.get(rfc.as_str()) {
                            new_taxpayers[i].name = &row.name;
                            new_taxpayers[i].colonia = colonia;
                            Owner::New(i)
                        } else {
                            new_by_rfc.insert(rfc.as_str(), new_taxpayers.len());
                            new_taxpayers.push(NewTaxpayer {
                                id: 0,
                                person_kind: rfc.person_kind(),
                                rfc: Some(rfc.as_str()),
                                name: &row.name,
                                colonia,
                            });
                            Owner::New(new_taxpayers.len() - 1)
                        }
                    }
                    None => match &known {
                        Some(a) => {
                            if a.taxpayer_name != row.name || a.taxpayer_colonia.as_deref() != colonia {
                                tx.update_taxpayer(a.taxpayer_id, &row.name, colonia).await?;
                            }
                            Owner::Existing(a.taxpayer_id)
                        }
                        None => {
                            new_taxpayers.push(NewTaxpayer {
                                id: 0,
                                person_kind: guess_person_kind(&row.name),
                                rfc: None,
                                name: &row.name,
                                colonia,
                            });
                            Owner::New(new_taxpayers.len() - 1)
                        }
                    },
                };
                plans.push((row, owner, known));
            }

            if !new_taxpayers.is_empty() {
                let ids = tx.allocate_ids(IdTable::Taxpayers, new_taxpayers.len()).await?;
                for (t, id) in new_taxpayers.iter_mut().zip(ids) {
                    t.id = id;
                }
                tx.insert_taxpayers(&new_taxpayers).await?;
                summary.taxpayers_created += new_taxpayers.len() as u64;
                for t in &new_taxpayers {
                    if let Some(rfc) = t.rfc {
                        taxpayers_by_rfc.insert(
                            rfc.to_string(),
                            TaxpayerState {
                                id: t.id,
                                name: t.name.to_string(),
                                colonia: t.colonia.map(str::to_string),
                            },
                        );
                    }
                }
            }

            let mut new_accounts: Vec<NewAccount<'_>> = Vec::new();
            for (row, owner, known) in plans {
                let taxpayer_id = match owner {
                    Owner::Existing(id) => id,
                    Owner::New(i) => new_taxpayers[i].id,
                };
                match known {
                    Some(a) => {
                        if a.kind != row.kind || a.taxpayer_id != taxpayer_id {
                            tx.update_account(a.id, &row.kind, taxpayer_id).await?;
                        }
                        accounts_done.insert(row.account.as_str(), a.id);
                    }
                    None => new_accounts.push(NewAccount {
                        id: 0,
                        number: row.account.as_str(),
                        kind: &row.kind,
                        taxpayer_id,
                    }),
                }
            }
            if !new_accounts.is_empty() {
                let ids = tx.allocate_ids(IdTable::Accounts, new_accounts.len()).await?;
                for (a, id) in new_accounts.iter_mut().zip(ids) {
                    a.id = id;
                    created_here.insert(id);
                    accounts_done.insert(a.number, id);
                }
                tx.insert_accounts(&new_accounts).await?;
                summary.accounts_created += new_accounts.len() as u64;
            }
        }

        // 2. Charges: load what the touched accounts already have (accounts
        //    created in this very chunk have nothing yet), then classify.
        let mut to_load: Vec<i64> =
            chunk.iter().map(|r| accounts_done[r.account.as_str()]).filter(|id| !created_here.contains(id)).collect();
        to_load.sort_unstable();
        to_load.dedup();
        let mut stored: HashMap<i64, Vec<ExistingCharge>> = HashMap::new();
        let mut held: HashSet<i64> = HashSet::new();
        if !to_load.is_empty() {
            let existing = tx.charges_of_accounts(&to_load).await?;
            let open: Vec<i64> = existing.iter().filter(|c| c.status == ChargeStatus::Open).map(|c| c.id).collect();
            if !open.is_empty() {
                held.extend(tx.held_charges(&open).await?);
            }
            for c in existing {
                stored.entry(c.account_id).or_default().push(c);
            }
        }

        let mut inserts: Vec<NewCharge<'_>> = Vec::with_capacity(chunk.len());
        for row in chunk {
            let account_id = accounts_done[row.account.as_str()];
            let existing = stored
                .get(&account_id)
                .and_then(|list| list.iter().find(|c| c.concept == row.concept && c.period == row.period));
            match existing {
                None => inserts.push(NewCharge {
                    account_id,
                    concept: &row.concept,
                    period: &row.period,
                    due_date: row.due_date,
                    principal: row.amount.0,
                }),
                Some(c) => match c.status {
                    ChargeStatus::Open => {
                        let changed = c.principal_centavos != row.amount.0 || c.due_date.0 != row.due_date;
                        if changed && held.contains(&c.id) {
                            return Err(StoreError::ImportHeldCharge {
                                line: row.line,
                                account: row.account.to_string(),
                                concept: row.concept.clone(),
                                period: row.period.clone(),
                                stored: Centavos(c.principal_centavos),
                                incoming: row.amount,
                            });
                        }
                        if changed {
                            tx.update_charge(c.id, row.due_date, row.amount.0, &now).await?;
                            summary.charges_updated += 1;
                        } else {
                            summary.charges_unchanged += 1;
                        }
                    }
                    ChargeStatus::Paid | ChargeStatus::Cancelled => {
                        if c.principal_centavos != row.amount.0 {
                            return Err(StoreError::ImportConflict {
                                line: row.line,
                                account: row.account.to_string(),
                                concept: row.concept.clone(),
                                period: row.period.clone(),
                                status: c.status,
                                stored: Centavos(c.principal_centavos),
                                incoming: row.amount,
                            });
                        }
                        summary.charges_unchanged += 1;
                    }
                },
            }
        }
        if !inserts.is_empty() {
            tx.insert_charges(&inserts).await?;
            summary.charges_created += inserts.len() as u64;
        }

        rows_done += chunk.len();
        progress(rows_done);
    }
    if rows.is_empty() {
        progress(0);
    }
    Ok(summary)
}
