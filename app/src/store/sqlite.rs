//! SQLite: what differs from PostgreSQL, and nothing else. Timestamps are
//! RFC 3339 UTC text with microseconds (fixed width, so they compare as
//! text), dates `YYYY-MM-DD` text; lists arrive as one JSON array and are
//! expanded with `json_each`. Writers take the database's write lock when
//! they begin (`BEGIN IMMEDIATE`), so every write transaction runs alone.

use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Executor};

use super::{query_err, redact_url, IdTable, StoreError};

pub(super) const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// Every connection's settings: wait up to 10 s for the write lock, sync
/// the WAL at every commit (`synchronous = FULL`: a payment acknowledged to
/// Stripe with a 200 survives a power cut — with `NORMAL` the last commits
/// before one may vanish, and Stripe never sends that event again), enforce
/// foreign keys, and read the file through a memory map (up to 1 GiB: a
/// page read is a memory access, not a `pread` call) with a 16 MiB page
/// cache.
const PRAGMAS: &str = "PRAGMA busy_timeout = 10000; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
                       PRAGMA mmap_size = 1073741824; PRAGMA cache_size = -16384";

pub(super) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

pub(super) fn marker(name: &str, arg: &str) -> Option<String> {
    Some(match name {
        "ts" | "ts_text" | "date" | "date_text" | "bytewise" => arg.to_string(),
        "ids" | "texts" => format!("(SELECT value FROM json_each({arg}))"),
        "rows" => format!("json_each({arg})"),
        "json_array" => format!("json_array({arg})"),
        "json_agg" => format!("json_group_array({arg})"),
        "for_update" | "for_no_key_update" | "skip_locked" | "override" => String::new(),
        _ => return None,
    })
}

/// `n` fresh ids of `table`: `BEGIN IMMEDIATE` holds the write lock, so
/// nobody else can take them before this transaction inserts them.
pub(super) async fn allocate_ids(conn: &mut AnyConnection, table: IdTable, n: usize) -> Result<Vec<i64>, StoreError> {
    let sql = match table {
        IdTable::Taxpayers => "SELECT COALESCE(MAX(id), 0) FROM taxpayers",
        IdTable::Accounts => "SELECT COALESCE(MAX(id), 0) FROM accounts",
        IdTable::PaymentOrders => "SELECT COALESCE(MAX(id), 0) FROM payment_orders",
    };
    let max: i64 = sqlx::query_scalar(sql).fetch_one(conn).await.map_err(query_err("allocate ids"))?;
    Ok((max + 1..=max + n as i64).collect())
}

/// Nothing to prepare: `BEGIN IMMEDIATE` already made the import the only writer.
pub(super) async fn prepare_import(_conn: &mut AnyConnection) -> Result<(), StoreError> {
    Ok(())
}

/// The `sqlite:` URL for what the settings name: a URL as given, or a
/// plain path (created if missing).
fn url_of(database_url: &str) -> String {
    if database_url.starts_with("sqlite:") {
        if database_url.contains(":memory:") || database_url.contains('?') {
            database_url.to_string()
        } else {
            format!("{database_url}?mode=rwc")
        }
    } else {
        let path: String = database_url
            .bytes()
            .map(|b| match b {
                b'%' | b'?' | b'#' | b' ' => format!("%{b:02X}"),
                _ => char::from(b).to_string(),
            })
            .collect();
        format!("sqlite://{path}?mode=rwc")
    }
}

/// Opens (creating if missing) the database: WAL journal, foreign keys,
/// a 10-second busy timeout, and its migrations applied.
pub(super) async fn connect(database_url: &str) -> Result<AnyPool, StoreError> {
    let connect_err = |source| StoreError::Connect { url: redact_url(database_url), source };
    let url = url_of(database_url);
    let options: AnyConnectOptions = url.parse().map_err(connect_err)?;
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let pool_options = if in_memory {
        // Every connection to a private in-memory database is a new, empty database.
        AnyPoolOptions::new().max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None)
    } else {
        // A local file: no ping before each checkout (it would cost a round
        // trip to the connection's thread on every query).
        AnyPoolOptions::new().max_connections(8).acquire_timeout(Duration::from_secs(30)).test_before_acquire(false)
    };
    let pool = pool_options
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute(PRAGMAS).await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .map_err(connect_err)?;
    if !in_memory {
        // Persistent in the file: once is enough.
        pool.execute("PRAGMA journal_mode = WAL").await.map_err(connect_err)?;
    }
    MIGRATOR.run(&pool).await.map_err(StoreError::Migrate)?;
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(url_of("recauda.db"), "sqlite://recauda.db?mode=rwc");
        assert_eq!(url_of("/tmp/a b/r#1.db"), "sqlite:///tmp/a%20b/r%231.db?mode=rwc");
        assert_eq!(url_of("sqlite://x.db"), "sqlite://x.db?mode=rwc");
        assert_eq!(url_of("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(url_of("sqlite://x.db?mode=ro"), "sqlite://x.db?mode=ro");
    }

    /// Every pooled connection commits durably (a payment acknowledged to
    /// Stripe survives a power cut) in a WAL journal, with foreign keys.
    #[tokio::test]
    async fn every_connection_is_durable_in_wal() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let pool = connect(&dir.path().join("d.db").display().to_string()).await.unwrap();
        for _ in 0..3 {
            let mut conn = pool.acquire().await.unwrap();
            let sync: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&mut *conn).await.unwrap();
            assert_eq!(sync, 2, "synchronous = FULL");
            let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(&mut *conn).await.unwrap();
            assert_eq!(fk, 1);
            let journal: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut *conn).await.unwrap();
            assert_eq!(journal, "wal");
        }
    }
}
