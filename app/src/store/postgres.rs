//! PostgreSQL: what differs from SQLite, and nothing else. Timestamps are
//! `TIMESTAMPTZ` and dates `DATE`: they cross the wire as text (cast on the
//! way in, `to_char` on the way out), so both backends read the same
//! strings. Lists arrive as one JSON array (`jsonb_array_elements…`).
//! Writers lock the rows they decide on (`FOR UPDATE`), so transactions on
//! different orders run side by side; several `recauda serve` processes
//! can share one database.

use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool};

use super::{query_err, redact_url, IdTable, StoreError};

pub(super) const BEGIN_WRITE: &str = "BEGIN";

pub(super) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// Key of the transaction-scoped advisory lock that serialises padrón imports.
const IMPORT_LOCK_KEY: i64 = 0x5245_4341_5544_4131; // "RECAUDA1"

pub(super) fn marker(name: &str, arg: &str) -> Option<String> {
    Some(match name {
        "ts" => format!("({arg})::timestamptz"),
        "ts_text" => format!("to_char({arg} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"),
        "date" => format!("({arg})::date"),
        "date_text" => format!("to_char({arg}, 'YYYY-MM-DD')"),
        "ids" => format!("(SELECT jsonb_array_elements_text({arg}::jsonb)::bigint)"),
        "texts" => format!("(SELECT jsonb_array_elements_text({arg}::jsonb))"),
        "rows" => format!("jsonb_array_elements({arg}::jsonb) WITH ORDINALITY AS r (value, key)"),
        "json_array" => format!("json_build_array({arg})"),
        "json_agg" => format!("json_agg({arg})::text"),
        // Byte order, as SQLite compares text, whatever the database's locale.
        "bytewise" => format!("{arg} COLLATE \"C\""),
        "for_update" => "FOR UPDATE".into(),
        "for_no_key_update" => "FOR NO KEY UPDATE".into(),
        "skip_locked" => "FOR UPDATE SKIP LOCKED".into(),
        "override" => "OVERRIDING SYSTEM VALUE".into(),
        _ => return None,
    })
}

/// `n` fresh ids of `table`, from its identity sequence (never handed out twice).
pub(super) async fn allocate_ids(conn: &mut AnyConnection, table: IdTable, n: usize) -> Result<Vec<i64>, StoreError> {
    let sql = match table {
        IdTable::Taxpayers => "SELECT nextval(pg_get_serial_sequence('taxpayers', 'id')) FROM generate_series(1, $1)",
        IdTable::Accounts => "SELECT nextval(pg_get_serial_sequence('accounts', 'id')) FROM generate_series(1, $1)",
        IdTable::PaymentOrders => {
            "SELECT nextval(pg_get_serial_sequence('payment_orders', 'id')) FROM generate_series(1, $1)"
        }
    };
    sqlx::query_scalar(sql).bind(n as i64).fetch_all(conn).await.map_err(query_err("allocate ids"))
}

/// The padrón import runs alone (a transaction-scoped advisory lock), and
/// plans every statement afresh and never with a sequential scan: the
/// tables may grow by millions of rows inside this one transaction, which
/// no statistics have seen (a plan made for an empty table would make the
/// import quadratic).
pub(super) async fn prepare_import(conn: &mut AnyConnection) -> Result<(), StoreError> {
    for setting in [
        "SET LOCAL plan_cache_mode = force_custom_plan",
        "SET LOCAL enable_seqscan = off",
        // A padrón of millions of rows may take minutes, and so may the
        // wait for another import to finish.
        "SET LOCAL statement_timeout = 0",
        "SET LOCAL idle_in_transaction_session_timeout = '5min'",
        "SET LOCAL lock_timeout = 0",
    ] {
        sqlx::query(setting).execute(&mut *conn).await.map_err(query_err("configure the import transaction"))?;
    }
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(IMPORT_LOCK_KEY)
        .execute(&mut *conn)
        .await
        .map_err(query_err("take the import lock"))?;
    Ok(())
}

/// Every pooled connection's limits: a statement that runs longer than
/// `statement_timeout` is cancelled (a request has 30 s in all, see
/// `server::security`), and a transaction left idle longer than
/// `idle_in_transaction_session_timeout` is ended by the server with its
/// locks, so a stuck task can never hold charges locked. The padrón import
/// and the migrations, which may legitimately run long, lift them for
/// themselves.
pub const SESSION_LIMITS: &str = "SET statement_timeout = '20s'; SET idle_in_transaction_session_timeout = '30s'; \
                                  SET lock_timeout = '15s'";

/// Connects (`postgres://…` / `postgresql://…`) and applies the migrations
/// (on a connection of their own, without the pool's time limits).
pub(super) async fn connect(database_url: &str) -> Result<AnyPool, StoreError> {
    use sqlx::Executor;
    let connect_err = |source| StoreError::Connect { url: redact_url(database_url), source };
    let options: AnyConnectOptions = database_url.parse().map_err(connect_err)?;
    let migrating =
        AnyPoolOptions::new().max_connections(1).connect_with(options.clone()).await.map_err(connect_err)?;
    MIGRATOR.run(&migrating).await.map_err(StoreError::Migrate)?;
    migrating.close().await;
    AnyPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute(SESSION_LIMITS).await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .map_err(connect_err)
}
