//! SQLite backend. Dates are `YYYY-MM-DD` text. Lists of keys are bound as ONE
//! JSON array parameter and expanded with `json_each(?)`, so each statement has
//! a fixed text and is prepared once per connection (sqlx's statement cache).

use std::str::FromStr;
use std::time::Duration;

use chrono::NaiveDate;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};

use super::{
    date_from_db, import_rows, normalize_rfc, person_kind_from_db, query_err, redact_url,
    status_from_db, AccountView, ChargeRecord, Counts, ExistingAccount, ExistingCharge,
    ExistingTaxpayer, IdTable, ImportSummary, ImportTx, NewAccount, NewCharge, NewTaxpayer,
    PadronRow, Store, StoreError,
};
use crate::domain::money::Centavos;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

/// SQL text shared by the lookups (a macro so queries are built with `concat!`, never `format!`).
macro_rules! account_view_select {
    () => {
        "SELECT a.id, a.number, a.kind, a.taxpayer_id, t.person_kind, t.rfc, t.name, t.colonia \
         FROM accounts a JOIN taxpayers t ON t.id = a.taxpayer_id"
    };
}

type AccountViewRow = (
    i64,
    String,
    String,
    i64,
    String,
    Option<String>,
    String,
    Option<String>,
);

fn account_view(r: AccountViewRow) -> Result<AccountView, StoreError> {
    Ok(AccountView {
        id: r.0,
        number: r.1,
        kind: r.2,
        taxpayer_id: r.3,
        person_kind: person_kind_from_db(&r.4)?,
        rfc: r.5,
        name: r.6,
        colonia: r.7,
    })
}

fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).expect("plain strings and integers always serialise")
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The SQLite store. Cheap to clone (the pool is reference-counted).
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database and applies migrations.
    /// Accepts `sqlite:…` URLs (including `sqlite::memory:`) or a plain file path.
    pub async fn connect(url: &str) -> Result<SqliteStore, StoreError> {
        let connect_err = |source| StoreError::Connect {
            url: redact_url(url),
            source,
        };
        let base = if url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url).map_err(connect_err)?
        } else {
            SqliteConnectOptions::new().filename(url)
        };
        let options = base
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let pool_options = if in_memory {
            // Every connection to a private in-memory database is a new, empty database.
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            SqlitePoolOptions::new().max_connections(8)
        };
        let pool = pool_options
            .connect_with(options)
            .await
            .map_err(connect_err)?;
        MIGRATOR.run(&pool).await.map_err(StoreError::Migrate)?;
        Ok(SqliteStore { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(query_err("ping the database"))?;
        Ok(())
    }

    async fn account_by_number(&self, number: &str) -> Result<Option<AccountView>, StoreError> {
        sqlx::query_as::<_, AccountViewRow>(concat!(account_view_select!(), " WHERE a.number = ?1"))
            .bind(number)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_err("look up an account by number"))?
            .map(account_view)
            .transpose()
    }

    async fn accounts_by_rfc(&self, rfc: &str) -> Result<Vec<AccountView>, StoreError> {
        sqlx::query_as::<_, AccountViewRow>(concat!(
            account_view_select!(),
            " WHERE t.rfc = ?1 ORDER BY a.number"
        ))
        .bind(normalize_rfc(rfc))
        .fetch_all(&self.pool)
        .await
        .map_err(query_err("look up accounts by RFC"))?
        .into_iter()
        .map(account_view)
        .collect()
    }

    async fn open_charges(&self, account_ids: &[i64]) -> Result<Vec<ChargeRecord>, StoreError> {
        if account_ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query_as::<_, (i64, i64, String, String, String, String, i64, String)>(
            "SELECT c.id, c.account_id, a.number, c.concept, c.period, c.due_date, c.principal_centavos, c.status \
             FROM charges c JOIN accounts a ON a.id = c.account_id \
             WHERE c.status = 'open' AND c.account_id IN (SELECT value FROM json_each(?1)) \
             ORDER BY a.number, c.due_date, c.concept, c.period",
        )
        .bind(json(account_ids))
        .fetch_all(&self.pool)
        .await
        .map_err(query_err("read open charges"))?;
        rows.into_iter()
            .map(|r| {
                Ok(ChargeRecord {
                    id: r.0,
                    account_id: r.1,
                    account: r.2,
                    concept: r.3,
                    period: r.4,
                    due_date: date_from_db(&r.5)?,
                    principal: Centavos(r.6),
                    status: status_from_db(&r.7)?,
                })
            })
            .collect()
    }

    async fn import_padron(
        &self,
        rows: &[PadronRow],
        progress: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<ImportSummary, StoreError> {
        // IMMEDIATE: take the write lock up front, so a concurrent writer waits
        // (busy_timeout) instead of failing half-way through the file.
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(query_err("start the import transaction"))?;
        let summary = import_rows(&mut SqliteImport { conn: &mut tx }, rows, progress).await?;
        tx.commit().await.map_err(query_err("commit the import"))?;
        Ok(summary)
    }

    async fn counts(&self) -> Result<Counts, StoreError> {
        let (taxpayers, accounts, charges, open): (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM taxpayers), (SELECT count(*) FROM accounts), \
             (SELECT count(*) FROM charges), (SELECT count(*) FROM charges WHERE status = 'open')",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(query_err("count rows"))?;
        Ok(Counts {
            taxpayers: taxpayers as u64,
            accounts: accounts as u64,
            charges: charges as u64,
            open_charges: open as u64,
        })
    }
}

struct SqliteImport<'c> {
    conn: &'c mut SqliteConnection,
}

#[async_trait::async_trait]
impl ImportTx for SqliteImport<'_> {
    async fn accounts_by_numbers(
        &mut self,
        numbers: &[&str],
    ) -> Result<Vec<ExistingAccount>, StoreError> {
        let rows = sqlx::query_as::<_, (i64, String, String, i64, String, Option<String>)>(
            "SELECT a.id, a.number, a.kind, a.taxpayer_id, t.name, t.colonia \
             FROM accounts a JOIN taxpayers t ON t.id = a.taxpayer_id \
             WHERE a.number IN (SELECT value FROM json_each(?1))",
        )
        .bind(json(numbers))
        .fetch_all(&mut *self.conn)
        .await
        .map_err(query_err("read existing accounts"))?;
        Ok(rows
            .into_iter()
            .map(|r| ExistingAccount {
                id: r.0,
                number: r.1,
                kind: r.2,
                taxpayer_id: r.3,
                taxpayer_name: r.4,
                taxpayer_colonia: r.5,
            })
            .collect())
    }

    async fn taxpayers_by_rfcs(
        &mut self,
        rfcs: &[&str],
    ) -> Result<Vec<ExistingTaxpayer>, StoreError> {
        let rows = sqlx::query_as::<_, (i64, String, String, Option<String>)>(
            "SELECT id, rfc, name, colonia FROM taxpayers WHERE rfc IN (SELECT value FROM json_each(?1))",
        )
        .bind(json(rfcs))
        .fetch_all(&mut *self.conn)
        .await
        .map_err(query_err("read existing taxpayers"))?;
        Ok(rows
            .into_iter()
            .map(|r| ExistingTaxpayer {
                id: r.0,
                rfc: r.1,
                name: r.2,
                colonia: r.3,
            })
            .collect())
    }

    async fn allocate_ids(&mut self, table: IdTable, n: usize) -> Result<Vec<i64>, StoreError> {
        // BEGIN IMMEDIATE holds the write lock: nobody else can take these ids.
        let sql = match table {
            IdTable::Taxpayers => "SELECT COALESCE(MAX(id), 0) FROM taxpayers",
            IdTable::Accounts => "SELECT COALESCE(MAX(id), 0) FROM accounts",
        };
        let max: i64 = sqlx::query_scalar(sql)
            .fetch_one(&mut *self.conn)
            .await
            .map_err(query_err("allocate ids"))?;
        Ok((max + 1..=max + n as i64).collect())
    }

    async fn insert_taxpayers(&mut self, taxpayers: &[NewTaxpayer<'_>]) -> Result<(), StoreError> {
        let batch: Vec<(i64, &str, Option<&str>, &str, Option<&str>)> = taxpayers
            .iter()
            .map(|t| (t.id, t.person_kind.as_str(), t.rfc, t.name, t.colonia))
            .collect();
        sqlx::query(
            "INSERT INTO taxpayers (id, person_kind, rfc, name, colonia) \
             SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), \
                    json_extract(value, '$[3]'), json_extract(value, '$[4]') \
             FROM json_each(?1) ORDER BY key",
        )
        .bind(json(&batch))
        .execute(&mut *self.conn)
        .await
        .map_err(query_err("insert taxpayers"))?;
        Ok(())
    }

    async fn update_taxpayer(
        &mut self,
        id: i64,
        name: &str,
        colonia: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE taxpayers SET name = ?1, colonia = ?2 WHERE id = ?3")
            .bind(name)
            .bind(colonia)
            .bind(id)
            .execute(&mut *self.conn)
            .await
            .map_err(query_err("update a taxpayer"))?;
        Ok(())
    }

    async fn insert_accounts(&mut self, accounts: &[NewAccount<'_>]) -> Result<(), StoreError> {
        let batch: Vec<(i64, &str, &str, i64)> = accounts
            .iter()
            .map(|a| (a.id, a.number, a.kind, a.taxpayer_id))
            .collect();
        sqlx::query(
            "INSERT INTO accounts (id, number, kind, taxpayer_id) \
             SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), \
                    json_extract(value, '$[3]') \
             FROM json_each(?1) ORDER BY key",
        )
        .bind(json(&batch))
        .execute(&mut *self.conn)
        .await
        .map_err(query_err("insert accounts"))?;
        Ok(())
    }

    async fn update_account(
        &mut self,
        id: i64,
        kind: &str,
        taxpayer_id: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE accounts SET kind = ?1, taxpayer_id = ?2 WHERE id = ?3")
            .bind(kind)
            .bind(taxpayer_id)
            .bind(id)
            .execute(&mut *self.conn)
            .await
            .map_err(query_err("update an account"))?;
        Ok(())
    }

    async fn charges_of_accounts(
        &mut self,
        account_ids: &[i64],
    ) -> Result<Vec<ExistingCharge>, StoreError> {
        let rows = sqlx::query_as::<_, (i64, i64, String, String, String, i64, String)>(
            "SELECT id, account_id, concept, period, due_date, principal_centavos, status \
             FROM charges WHERE account_id IN (SELECT value FROM json_each(?1))",
        )
        .bind(json(account_ids))
        .fetch_all(&mut *self.conn)
        .await
        .map_err(query_err("read existing charges"))?;
        rows.into_iter()
            .map(|r| {
                Ok(ExistingCharge {
                    id: r.0,
                    account_id: r.1,
                    concept: r.2,
                    period: r.3,
                    due_date: date_from_db(&r.4)?,
                    principal: r.5,
                    status: status_from_db(&r.6)?,
                })
            })
            .collect()
    }

    async fn update_charge(
        &mut self,
        id: i64,
        due_date: NaiveDate,
        principal: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE charges SET due_date = ?1, principal_centavos = ?2, \
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
             WHERE id = ?3 AND status = 'open'",
        )
        .bind(iso(due_date))
        .bind(principal)
        .bind(id)
        .execute(&mut *self.conn)
        .await
        .map_err(query_err("update a charge"))?;
        Ok(())
    }

    async fn insert_charges(&mut self, charges: &[NewCharge<'_>]) -> Result<(), StoreError> {
        let batch: Vec<(i64, &str, &str, String, i64)> = charges
            .iter()
            .map(|c| {
                (
                    c.account_id,
                    c.concept,
                    c.period,
                    iso(c.due_date),
                    c.principal,
                )
            })
            .collect();
        sqlx::query(
            "INSERT INTO charges (account_id, concept, period, due_date, principal_centavos) \
             SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), \
                    json_extract(value, '$[3]'), json_extract(value, '$[4]') \
             FROM json_each(?1) ORDER BY key",
        )
        .bind(json(&batch))
        .execute(&mut *self.conn)
        .await
        .map_err(query_err("insert charges"))?;
        Ok(())
    }
}
