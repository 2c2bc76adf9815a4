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
use super::{guess_person_kind, query_err, Conn, IdTable, Store, StoreError, Tx};
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

static DEBTS_OF_ACCOUNT: Stmt = Stmt::new(concat!(debts_select!(), "WHERE a.number = $1"));
static DEBTS_OF_RFC: Stmt = Stmt::new(concat!(debts_select!(), "WHERE t.rfc = $1 ORDER BY {bytewise:a.number}, a.id"));
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
    /// concept, period): one query.
    #[tracing::instrument(name = "store.debts_of_account", skip_all)]
    pub async fn debts_of_account(&self, number: &AccountNumber) -> Result<Option<AccountDebts>, StoreError> {
        let mut r = self.read().await?;
        let row: Option<AccountDebtsRow> = sqlx::query_as(r.sql(&DEBTS_OF_ACCOUNT))
            .bind(number.as_str())
            .fetch_optional(r.c())
            .await
            .map_err(query_err("look up an account"))?;
        row.map(AccountDebts::try_from).transpose()
    }

    /// Every account of the taxpayer with this RFC (by account number),
    /// each with its open charges: one query.
    #[tracing::instrument(name = "store.debts_of_rfc", skip_all)]
    pub async fn debts_of_rfc(&self, rfc: &Rfc) -> Result<Vec<AccountDebts>, StoreError> {
        let mut r = self.read().await?;
        let rows: Vec<AccountDebtsRow> = sqlx::query_as(r.sql(&DEBTS_OF_RFC))
            .bind(rfc.as_str())
            .fetch_all(r.c())
            .await
            .map_err(query_err("look up the accounts of an RFC"))?;
        rows.into_iter().map(AccountDebts::try_from).collect()
    }

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
        tx.commit().await?;
        Ok(summary)
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
     FROM charges WHERE account_id IN {ids:$1}",
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
///   different amount → [`StoreError::ImportConflict`] for the whole import.
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
        if !to_load.is_empty() {
            for c in tx.charges_of_accounts(&to_load).await? {
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
                        if c.principal_centavos != row.amount.0 || c.due_date.0 != row.due_date {
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
