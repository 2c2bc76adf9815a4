//! PostgreSQL backend. Lists of keys are bound as arrays (`= ANY($1)`,
//! `UNNEST($1::bigint[], …)`), so each statement has a fixed text, is prepared
//! once per connection, and a chunk of 1000 charges is one round trip.
//! Dates cross the wire as `YYYY-MM-DD` text (`$n::date`, `to_char(..)`), so the
//! sqlx `chrono` feature is not needed.

use std::time::Duration;

use chrono::NaiveDate;
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};

use super::{
    date_from_db, import_rows, normalize_rfc, person_kind_from_db, query_err, redact_url,
    status_from_db, AccountView, ChargeRecord, Counts, ExistingAccount, ExistingCharge,
    ExistingTaxpayer, IdTable, ImportSummary, ImportTx, NewAccount, NewCharge, NewTaxpayer,
    PadronRow, Store, StoreError,
};
use crate::domain::money::Centavos;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// Key of the transaction-scoped advisory lock that serialises padrón imports.
const IMPORT_LOCK_KEY: i64 = 0x5245_4341_5544_4131; // "RECAUDA1"

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

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The PostgreSQL store. Cheap to clone (the pool is reference-counted).
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects (`postgres://…` / `postgresql://…`) and applies migrations.
    pub async fn connect(url: &str) -> Result<PgStore, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|source| StoreError::Connect {
                url: redact_url(url),
                source,
            })?;
        MIGRATOR.run(&pool).await.map_err(StoreError::Migrate)?;
        Ok(PgStore { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait::async_trait]
impl Store for PgStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(query_err("ping the database"))?;
        Ok(())
    }

    async fn account_by_number(&self, number: &str) -> Result<Option<AccountView>, StoreError> {
        sqlx::query_as::<_, AccountViewRow>(concat!(account_view_select!(), " WHERE a.number = $1"))
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
            " WHERE t.rfc = $1 ORDER BY a.number COLLATE \"C\""
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
        // COLLATE "C": byte order, the same as SQLite, whatever the database locale.
        let rows = sqlx::query_as::<_, (i64, i64, String, String, String, String, i64, String)>(
            "SELECT c.id, c.account_id, a.number, c.concept, c.period, to_char(c.due_date, 'YYYY-MM-DD'), \
                    c.principal_centavos, c.status \
             FROM charges c JOIN accounts a ON a.id = c.account_id \
             WHERE c.status = 'open' AND c.account_id = ANY($1) \
             ORDER BY a.number COLLATE \"C\", c.due_date, c.concept COLLATE \"C\", c.period COLLATE \"C\"",
        )
        .bind(account_ids)
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
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(query_err("start the import transaction"))?;
        // One import at a time; released automatically at commit/rollback.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(IMPORT_LOCK_KEY)
            .execute(&mut *tx)
            .await
            .map_err(query_err("take the import lock"))?;
        // Every import statement is a key lookup, and the tables may grow by
        // millions of rows inside this transaction, which no statistics have seen:
        // plan each statement afresh and never with a sequential scan (a plan made
        // for an empty, unanalysed table would otherwise make the import quadratic).
        for setting in [
            "SET LOCAL plan_cache_mode = force_custom_plan",
            "SET LOCAL enable_seqscan = off",
        ] {
            sqlx::query(setting)
                .execute(&mut *tx)
                .await
                .map_err(query_err("configure the import transaction"))?;
        }
        let summary = import_rows(&mut PgImport { conn: &mut tx }, rows, progress).await?;
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

struct PgImport<'c> {
    conn: &'c mut PgConnection,
}

#[async_trait::async_trait]
impl ImportTx for PgImport<'_> {
    async fn accounts_by_numbers(
        &mut self,
        numbers: &[&str],
    ) -> Result<Vec<ExistingAccount>, StoreError> {
        let rows = sqlx::query_as::<_, (i64, String, String, i64, String, Option<String>)>(
            "SELECT a.id, a.number, a.kind, a.taxpayer_id, t.name, t.colonia \
             FROM accounts a JOIN taxpayers t ON t.id = a.taxpayer_id \
             WHERE a.number = ANY($1)",
        )
        .bind(numbers)
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
            "SELECT id, rfc, name, colonia FROM taxpayers WHERE rfc = ANY($1)",
        )
        .bind(rfcs)
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
        let sql = match table {
            IdTable::Taxpayers => "SELECT nextval(pg_get_serial_sequence('taxpayers', 'id')) FROM generate_series(1, $1)",
            IdTable::Accounts => "SELECT nextval(pg_get_serial_sequence('accounts', 'id')) FROM generate_series(1, $1)",
        };
        sqlx::query_scalar(sql)
            .bind(n as i64)
            .fetch_all(&mut *self.conn)
            .await
            .map_err(query_err("allocate ids"))
    }

    async fn insert_taxpayers(&mut self, taxpayers: &[NewTaxpayer<'_>]) -> Result<(), StoreError> {
        let ids: Vec<i64> = taxpayers.iter().map(|t| t.id).collect();
        let kinds: Vec<&str> = taxpayers.iter().map(|t| t.person_kind.as_str()).collect();
        let rfcs: Vec<Option<&str>> = taxpayers.iter().map(|t| t.rfc).collect();
        let names: Vec<&str> = taxpayers.iter().map(|t| t.name).collect();
        let colonias: Vec<Option<&str>> = taxpayers.iter().map(|t| t.colonia).collect();
        sqlx::query(
            "INSERT INTO taxpayers (id, person_kind, rfc, name, colonia) OVERRIDING SYSTEM VALUE \
             SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])",
        )
        .bind(ids)
        .bind(kinds)
        .bind(rfcs)
        .bind(names)
        .bind(colonias)
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
        sqlx::query("UPDATE taxpayers SET name = $1, colonia = $2 WHERE id = $3")
            .bind(name)
            .bind(colonia)
            .bind(id)
            .execute(&mut *self.conn)
            .await
            .map_err(query_err("update a taxpayer"))?;
        Ok(())
    }

    async fn insert_accounts(&mut self, accounts: &[NewAccount<'_>]) -> Result<(), StoreError> {
        let ids: Vec<i64> = accounts.iter().map(|a| a.id).collect();
        let numbers: Vec<&str> = accounts.iter().map(|a| a.number).collect();
        let kinds: Vec<&str> = accounts.iter().map(|a| a.kind).collect();
        let owners: Vec<i64> = accounts.iter().map(|a| a.taxpayer_id).collect();
        sqlx::query(
            "INSERT INTO accounts (id, number, kind, taxpayer_id) OVERRIDING SYSTEM VALUE \
             SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::bigint[])",
        )
        .bind(ids)
        .bind(numbers)
        .bind(kinds)
        .bind(owners)
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
        sqlx::query("UPDATE accounts SET kind = $1, taxpayer_id = $2 WHERE id = $3")
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
            "SELECT id, account_id, concept, period, to_char(due_date, 'YYYY-MM-DD'), principal_centavos, status \
             FROM charges WHERE account_id = ANY($1)",
        )
        .bind(account_ids)
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
            "UPDATE charges SET due_date = $1::date, principal_centavos = $2, updated_at = now() \
             WHERE id = $3 AND status = 'open'",
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
        let account_ids: Vec<i64> = charges.iter().map(|c| c.account_id).collect();
        let concepts: Vec<&str> = charges.iter().map(|c| c.concept).collect();
        let periods: Vec<&str> = charges.iter().map(|c| c.period).collect();
        let due_dates: Vec<String> = charges.iter().map(|c| iso(c.due_date)).collect();
        let principals: Vec<i64> = charges.iter().map(|c| c.principal).collect();
        sqlx::query(
            "INSERT INTO charges (account_id, concept, period, due_date, principal_centavos) \
             SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[]::date[], $5::bigint[])",
        )
        .bind(account_ids)
        .bind(concepts)
        .bind(periods)
        .bind(due_dates)
        .bind(principals)
        .execute(&mut *self.conn)
        .await
        .map_err(query_err("insert charges"))?;
        Ok(())
    }
}
