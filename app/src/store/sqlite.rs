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
    widen_order_statuses(&pool).await?;
    Ok(pool)
}

/// What payment_orders' status may be since the cashier office
/// (migration 0014): `annulled` added.
const ORDERS_TABLE: &str = "CREATE TABLE payment_orders_new (
    id                INTEGER PRIMARY KEY,
    reference         TEXT    NOT NULL UNIQUE CHECK (length(reference) = 16),
    status            TEXT    NOT NULL
        CHECK (status IN ('created', 'pending', 'succeeded', 'failed', 'expired', 'cancelled', 'refunded', 'annulled')),
    subtotal_centavos INTEGER NOT NULL,
    rounding_centavos INTEGER NOT NULL,
    total_centavos    INTEGER NOT NULL CHECK (total_centavos >= 0),
    currency          TEXT    NOT NULL DEFAULT 'MXN' CHECK (currency = 'MXN'),
    method_hint       TEXT,
    expires_at        TEXT    NOT NULL,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    requoted_from     INTEGER REFERENCES payment_orders (id),
    token             TEXT
);
INSERT INTO payment_orders_new
    (id, reference, status, subtotal_centavos, rounding_centavos, total_centavos, currency, method_hint,
     expires_at, created_at, updated_at, requoted_from, token)
SELECT id, reference, status, subtotal_centavos, rounding_centavos, total_centavos, currency, method_hint,
       expires_at, created_at, updated_at, requoted_from, token
FROM payment_orders;
DROP TABLE payment_orders;
ALTER TABLE payment_orders_new RENAME TO payment_orders;
CREATE INDEX payment_orders_live_by_expiry ON payment_orders (expires_at) WHERE status IN ('created', 'pending');
CREATE UNIQUE INDEX payment_orders_token ON payment_orders (token);";

/// Widens payment_orders' status CHECK to take `annulled`, once (a
/// database made before migration 0014). SQLite cannot change a CHECK in
/// place; its documented procedure rebuilds the table with foreign keys
/// off, which a migration's transaction cannot do: foreign keys off on one
/// connection, then in one `BEGIN IMMEDIATE` transaction the table is
/// copied, the old one dropped and the new one renamed (the children refer
/// to it by name) with its indexes, the foreign keys checked, and foreign
/// keys on again whatever happened.
async fn widen_order_statuses(pool: &AnyPool) -> Result<(), StoreError> {
    const SCHEMA: &str = "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'payment_orders'";
    let widened = |sql: &str| sql.contains("'annulled'");
    let mut conn = pool.acquire().await.map_err(query_err("reach the database"))?;
    let sql: String = sqlx::query_scalar(SCHEMA).fetch_one(&mut *conn).await.map_err(query_err("read the schema"))?;
    if widened(&sql) {
        return Ok(());
    }
    conn.execute("PRAGMA foreign_keys = OFF").await.map_err(query_err("turn foreign keys off"))?;
    let rebuilt = async {
        conn.execute(BEGIN_WRITE).await.map_err(query_err("start the orders' rebuild"))?;
        let done = async {
            // Another process may have done it meanwhile.
            let sql: String =
                sqlx::query_scalar(SCHEMA).fetch_one(&mut *conn).await.map_err(query_err("read the schema"))?;
            if !widened(&sql) {
                conn.execute(ORDERS_TABLE).await.map_err(query_err("rebuild payment_orders"))?;
                let broken: Vec<(String,)> = sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(query_err("check foreign keys"))?;
                if !broken.is_empty() {
                    return Err(StoreError::Corrupt(format!("foreign keys broken after the rebuild: {broken:?}")));
                }
            }
            Ok(())
        }
        .await;
        match done {
            Ok(()) => conn.execute("COMMIT").await.map(|_| ()).map_err(query_err("commit the orders' rebuild")),
            Err(e) => {
                let _ = conn.execute("ROLLBACK").await;
                Err(e)
            }
        }
    }
    .await;
    conn.execute("PRAGMA foreign_keys = ON").await.map_err(query_err("turn foreign keys on"))?;
    rebuilt
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

    /// A database made before the cashier office (migrations up to 0013,
    /// orders in it) gets `annulled` in payment_orders' CHECK when it is
    /// opened: every order and every child row kept, foreign keys still
    /// enforced, and opening it again changes nothing.
    #[tokio::test]
    async fn an_older_database_takes_annulled_orders_after_the_rebuild() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db").display().to_string();
        {
            let old = sqlx::migrate::Migrator {
                migrations: std::borrow::Cow::Owned(
                    MIGRATOR.migrations.iter().filter(|m| m.version <= 13).cloned().collect(),
                ),
                ..sqlx::migrate::Migrator::DEFAULT
            };
            let pool: AnyPool = AnyPoolOptions::new()
                .max_connections(1)
                .after_connect(|conn, _| Box::pin(async move { conn.execute(PRAGMAS).await.map(|_| ()) }))
                .connect(&url_of(&path))
                .await
                .unwrap();
            old.run(&pool).await.unwrap();
            pool.execute(
                "INSERT INTO payment_orders (id, reference, status, subtotal_centavos, rounding_centavos, \
                 total_centavos, expires_at, created_at, updated_at, token) VALUES \
                 (7, '0126112100000007', 'succeeded', 100, 0, 100, 'x', 'x', 'x', 'aa'); \
                 INSERT INTO payment_transitions (order_id, from_status, to_status, event, at) \
                 VALUES (7, 'created', 'succeeded', 'paid', 'x');",
            )
            .await
            .unwrap();
            let sql: String = sqlx::query_scalar("SELECT sql FROM sqlite_schema WHERE name = 'payment_orders'")
                .fetch_one(&pool)
                .await
                .unwrap();
            assert!(!sql.contains("annulled"));
            pool.close().await;
        }
        for _ in 0..2 {
            let pool = connect(&path).await.unwrap();
            let sql: String = sqlx::query_scalar("SELECT sql FROM sqlite_schema WHERE name = 'payment_orders'")
                .fetch_one(&pool)
                .await
                .unwrap();
            assert!(sql.contains("'annulled'"), "{sql}");
            let kept: (i64, String) =
                sqlx::query_as("SELECT count(*), MAX(token) FROM payment_orders").fetch_one(&pool).await.unwrap();
            assert_eq!(kept, (1, "aa".to_string()));
            pool.execute("UPDATE payment_orders SET status = 'annulled' WHERE id = 7").await.unwrap();
            // The children still point at the table, enforced.
            let orphan = pool
                .execute("INSERT INTO payment_transitions (order_id, to_status, event, at) VALUES (99, 'x', 'x', 'x')")
                .await;
            assert!(orphan.is_err(), "foreign keys enforced");
            let broken: Vec<(String,)> =
                sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check").fetch_all(&pool).await.unwrap();
            assert!(broken.is_empty(), "{broken:?}");
            pool.close().await;
        }
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
