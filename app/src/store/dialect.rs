//! The two SQL dialects of the one store.
//!
//! Every statement is written ONCE ([`Stmt`]), in the SQL both SQLite and
//! PostgreSQL understand, with a few markers where they differ:
//!
//! | marker            | SQLite                          | PostgreSQL                                      |
//! |-------------------|---------------------------------|-------------------------------------------------|
//! | `{ts:X}`          | `X` (RFC 3339 UTC text)         | `(X)::timestamptz`                              |
//! | `{ts_text:X}`     | `X`                             | `to_char(X AT TIME ZONE 'UTC', '…"Z"')`         |
//! | `{date:X}`        | `X` (`YYYY-MM-DD` text)         | `(X)::date`                                     |
//! | `{date_text:X}`   | `X`                             | `to_char(X, 'YYYY-MM-DD')`                      |
//! | `{ids:$n}`        | `(SELECT value FROM json_each($n))` | `(SELECT jsonb_array_elements_text(…)::bigint)` |
//! | `{texts:$n}`      | `(SELECT value FROM json_each($n))` | `(SELECT jsonb_array_elements_text($n::jsonb))` |
//! | `{rows:$n}`       | `json_each($n)`                 | `jsonb_array_elements($n::jsonb) WITH ORDINALITY AS r (value, key)` |
//! | `{bytewise:X}`   | `X` (text compares by bytes)    | `X COLLATE "C"`                                 |
//! | `{json_array:A, B}` | `json_array(A, B)`            | `json_build_array(A, B)`                        |
//! | `{json_agg:X ORDER BY Y}` | `json_group_array(X ORDER BY Y)` | `json_agg(X ORDER BY Y)::text`        |
//! | `{for_update}`    | (nothing: `BEGIN IMMEDIATE` holds the lock) | `FOR UPDATE`                          |
//! | `{for_no_key_update}` | (nothing)                   | `FOR NO KEY UPDATE` (does not block the `FOR KEY SHARE` a foreign key takes) |
//! | `{skip_locked}`   | (nothing)                       | `FOR UPDATE SKIP LOCKED`                        |
//! | `{override}`      | (nothing)                       | `OVERRIDING SYSTEM VALUE`                       |
//!
//! Markers nest (`{json_agg:{json_array:{date_text:d}, n}}`): the innermost
//! is rendered first.
//!
//! A list parameter (`{ids}`, `{texts}`, `{rows}`) is ONE JSON array bound
//! as text ([`json`]), so each statement has a fixed text and is prepared
//! once per connection. The rendering happens once per statement and
//! dialect, from these constant templates only: no value ever becomes SQL
//! text. What else differs — opening a write transaction, allocating ids,
//! connecting — is in `sqlite.rs` and `postgres.rs`.

use std::sync::OnceLock;

/// Which database a store talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }

    /// The statement that opens a write transaction: SQLite takes the
    /// database's write lock up front (`BEGIN IMMEDIATE`, so two writers
    /// queue instead of failing half-way); PostgreSQL locks rows as the
    /// statements reach them (`{for_update}`).
    pub(crate) fn begin_write(self) -> &'static str {
        match self {
            Dialect::Sqlite => super::sqlite::BEGIN_WRITE,
            Dialect::Postgres => super::postgres::BEGIN_WRITE,
        }
    }

    fn marker(self, name: &str, arg: &str) -> Option<String> {
        match self {
            Dialect::Sqlite => super::sqlite::marker(name, arg),
            Dialect::Postgres => super::postgres::marker(name, arg),
        }
    }

    /// The template with its markers replaced. Panics on an unknown marker:
    /// templates are constants of this crate, and every one runs in the
    /// store's tests on both dialects.
    pub(crate) fn render(self, template: &str) -> String {
        // Innermost first, so a marker may hold another one.
        let mut sql = template.to_string();
        while let Some(close) = sql.find('}') {
            let open = sql[..close].rfind('{').unwrap_or_else(|| panic!("unbalanced marker in {template}"));
            let inner = &sql[open + 1..close];
            let (name, arg) = inner.split_once(':').unwrap_or((inner, ""));
            let replaced = self
                .marker(name.trim(), arg.trim())
                .unwrap_or_else(|| panic!("unknown marker {{{inner}}} in {template}"));
            sql.replace_range(open..=close, &replaced);
        }
        assert!(!sql.contains('{'), "unclosed marker in {template}");
        sql
    }
}

/// One SQL statement, written once for both dialects (see the module
/// documentation for its markers), rendered on first use.
pub(crate) struct Stmt {
    template: &'static str,
    rendered: [OnceLock<String>; 2],
}

impl Stmt {
    pub(crate) const fn new(template: &'static str) -> Stmt {
        Stmt { template, rendered: [OnceLock::new(), OnceLock::new()] }
    }

    /// The statement's text in `dialect`.
    pub(crate) fn text(&'static self, dialect: Dialect) -> &'static str {
        let slot = match dialect {
            Dialect::Sqlite => &self.rendered[0],
            Dialect::Postgres => &self.rendered[1],
        };
        slot.get_or_init(|| dialect.render(self.template)).as_str()
    }
}

/// A list parameter: one JSON array (of ids, texts, or rows as arrays).
pub(crate) fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).expect("plain strings and integers always serialise")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_render_per_dialect() {
        let t = "SELECT {ts_text:o.created_at} FROM t WHERE id IN {ids:$1} AND at <= {ts:$2} {for_update}";
        assert_eq!(
            Dialect::Sqlite.render(t),
            "SELECT o.created_at FROM t WHERE id IN (SELECT value FROM json_each($1)) AND at <= $2 "
        );
        let pg = Dialect::Postgres.render(t);
        assert!(pg.contains("to_char(o.created_at AT TIME ZONE 'UTC'"), "{pg}");
        assert!(pg.contains("($2)::timestamptz"), "{pg}");
        assert!(pg.ends_with("FOR UPDATE"), "{pg}");
        assert!(pg.contains("jsonb_array_elements_text($1::jsonb)"), "{pg}");
        assert_eq!(Dialect::Sqlite.render("SELECT 1 {for_no_key_update}"), "SELECT 1 ");
        assert_eq!(Dialect::Postgres.render("SELECT 1 {for_no_key_update}"), "SELECT 1 FOR NO KEY UPDATE");
        assert_eq!(Dialect::Sqlite.render("no markers"), "no markers");
        let nested = "{json_agg:{json_array:c.id, {date_text:c.due}} ORDER BY c.id}";
        assert_eq!(Dialect::Sqlite.render(nested), "json_group_array(json_array(c.id, c.due) ORDER BY c.id)");
        assert_eq!(
            Dialect::Postgres.render(nested),
            "json_agg(json_build_array(c.id, to_char(c.due, 'YYYY-MM-DD')) ORDER BY c.id)::text"
        );
    }

    #[test]
    #[should_panic(expected = "unknown marker")]
    fn unknown_markers_are_refused() {
        Dialect::Sqlite.render("SELECT {nope:x}");
    }
}
