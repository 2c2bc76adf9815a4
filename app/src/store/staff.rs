//! The treasury's staff accounts: created with their roles and password
//! hash (never the password), found by username, and the lockout counters
//! of their logins. Creating one is in the audit trail.

use chrono::{DateTime, Utc};

use super::audit::AuditAction;
use super::dialect::Stmt;
use super::records::{timestamp_to_db, DbTime};
use super::{query_err, Store, StoreError};
use crate::domain::staff::{Roles, Username};

static INSERT_STAFF: Stmt = Stmt::new(
    "INSERT INTO staff_users (username, display_name, roles, password_hash, active, failed_logins, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, 1, 0, {ts:$5}, {ts:$5}) ON CONFLICT (username) DO NOTHING RETURNING id",
);
static STAFF_BY_USERNAME: Stmt = Stmt::new(
    "SELECT id, username, display_name, roles, password_hash, active, failed_logins, \
     {ts_text:locked_until} AS locked_until FROM staff_users WHERE username = $1",
);
static LOGIN_FAILED: Stmt = Stmt::new(
    "UPDATE staff_users SET failed_logins = failed_logins + 1, \
     locked_until = CASE WHEN failed_logins + 1 >= $2 THEN {ts:$3} ELSE locked_until END, updated_at = {ts:$4} \
     WHERE id = $1 RETURNING failed_logins",
);
static LOGIN_SUCCEEDED: Stmt =
    Stmt::new("UPDATE staff_users SET failed_logins = 0, locked_until = NULL, updated_at = {ts:$2} WHERE id = $1");
static ALL_STAFF: Stmt = Stmt::new(
    "SELECT id, username, display_name, roles, password_hash, active, failed_logins, \
     {ts_text:locked_until} AS locked_until FROM staff_users ORDER BY username",
);
static SET_ROLES: Stmt = Stmt::new("UPDATE staff_users SET roles = $2, updated_at = {ts:$3} WHERE id = $1");
static SET_ACTIVE: Stmt = Stmt::new(
    "UPDATE staff_users SET active = $2, failed_logins = 0, locked_until = NULL, updated_at = {ts:$3} WHERE id = $1",
);
static SET_PASSWORD: Stmt = Stmt::new(
    "UPDATE staff_users SET password_hash = $2, failed_logins = 0, locked_until = NULL, updated_at = {ts:$3} WHERE id = $1",
);
static COUNT_STAFF: Stmt = Stmt::new("SELECT count(*) FROM staff_users");
static INSERT_SESSION: Stmt = Stmt::new(
    "INSERT INTO staff_sessions (id_hash, staff_id, address, created_at, last_seen_at, expires_at) \
     VALUES ($1, $2, $3, {ts:$4}, {ts:$4}, {ts:$5})",
);
static SESSION: Stmt = Stmt::new(
    "SELECT u.id, u.username, u.display_name, u.roles, u.password_hash, u.active, u.failed_logins, \
     {ts_text:u.locked_until} AS locked_until, {ts_text:s.last_seen_at} AS last_seen_at, \
     {ts_text:s.expires_at} AS expires_at FROM staff_sessions s JOIN staff_users u ON u.id = s.staff_id \
     WHERE s.id_hash = $1 AND s.ended_at IS NULL",
);
static TOUCH_SESSION: Stmt =
    Stmt::new("UPDATE staff_sessions SET last_seen_at = {ts:$2} WHERE id_hash = $1 AND ended_at IS NULL");
static END_SESSION: Stmt = Stmt::new(
    "UPDATE staff_sessions SET ended_at = {ts:$2} WHERE id_hash = $1 AND ended_at IS NULL RETURNING staff_id",
);
static END_ALL_SESSIONS: Stmt =
    Stmt::new("UPDATE staff_sessions SET ended_at = {ts:$2} WHERE staff_id = $1 AND ended_at IS NULL");

/// A new staff account, its password already hashed.
#[derive(Clone, Debug)]
pub struct NewStaff {
    pub username: Username,
    pub display_name: String,
    pub roles: Roles,
    /// The argon2id PHC string.
    pub password_hash: String,
}

/// A staff account as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffUser {
    pub id: i64,
    pub username: Username,
    pub display_name: String,
    pub roles: Roles,
    pub password_hash: String,
    pub active: bool,
    /// Failed logins in a row.
    pub failed_logins: i64,
    /// Logins are refused until then (too many failures).
    pub locked_until: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct StaffRow {
    id: i64,
    username: String,
    display_name: String,
    roles: String,
    password_hash: String,
    active: i64,
    failed_logins: i64,
    locked_until: Option<DbTime>,
}

impl TryFrom<StaffRow> for StaffUser {
    type Error = StoreError;
    fn try_from(r: StaffRow) -> Result<StaffUser, StoreError> {
        Ok(StaffUser {
            id: r.id,
            username: Username::parse(&r.username)
                .map_err(|_| StoreError::Corrupt(format!("staff username {:?}", r.username)))?,
            display_name: r.display_name,
            roles: Roles::from_stored(&r.roles)
                .ok_or_else(|| StoreError::Corrupt(format!("staff roles {:?}", r.roles)))?,
            password_hash: r.password_hash,
            active: r.active == 1,
            failed_logins: r.failed_logins,
            locked_until: r.locked_until.map(|t| t.0),
        })
    }
}

/// A live session's row: its user, when it was last used and when it ends
/// at the latest.
#[derive(Clone, Debug)]
pub struct StaffSessionRow {
    pub user: StaffUser,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    #[sqlx(flatten)]
    user: StaffRow,
    last_seen_at: DbTime,
    expires_at: DbTime,
}

impl Store {
    /// Creates a staff account; `None` when the username is taken. `actor`
    /// (who creates it) goes to the audit trail with the roles given.
    pub async fn create_staff(
        &self,
        staff: &NewStaff,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError> {
        let now = timestamp_to_db(now);
        let mut tx = self.write().await?;
        let id: Option<i64> = sqlx::query_scalar(tx.sql(&INSERT_STAFF))
            .bind(staff.username.as_str())
            .bind(&staff.display_name)
            .bind(staff.roles.to_stored())
            .bind(&staff.password_hash)
            .bind(&now)
            .fetch_optional(tx.c())
            .await
            .map_err(query_err("create a staff account"))?;
        if let Some(id) = id {
            let details = serde_json::json!({
                "staff_id": id, "username": staff.username.as_str(), "roles": staff.roles.to_stored(),
            });
            tx.audit(actor, AuditAction::StaffCreated, details, &now).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    pub async fn staff_by_username(&self, username: &Username) -> Result<Option<StaffUser>, StoreError> {
        let mut r = self.read().await?;
        let row: Option<StaffRow> = sqlx::query_as(r.sql(&STAFF_BY_USERNAME))
            .bind(username.as_str())
            .fetch_optional(r.c())
            .await
            .map_err(query_err("read a staff account"))?;
        row.map(StaffUser::try_from).transpose()
    }

    /// How many staff accounts exist (the first admin is created from the
    /// command line).
    pub async fn count_staff(&self) -> Result<i64, StoreError> {
        let mut r = self.read().await?;
        sqlx::query_scalar(r.sql(&COUNT_STAFF)).fetch_one(r.c()).await.map_err(query_err("count the staff"))
    }

    /// Records a failed login of `id`: one more in a row; at `lock_after`
    /// in a row, logins are refused until `lock_until`. In the audit trail.
    /// Returns the failures in a row.
    pub async fn record_login_failure(
        &self,
        id: i64,
        lock_after: i64,
        lock_until: DateTime<Utc>,
        address: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let now = timestamp_to_db(now);
        let mut tx = self.write().await?;
        let failures: i64 = sqlx::query_scalar(tx.sql(&LOGIN_FAILED))
            .bind(id)
            .bind(lock_after)
            .bind(timestamp_to_db(lock_until))
            .bind(&now)
            .fetch_one(tx.c())
            .await
            .map_err(query_err("record a failed login"))?;
        let details = serde_json::json!({ "staff_id": id, "in_a_row": failures, "address": address });
        tx.audit("anonymous", AuditAction::LoginFailed, details, &now).await?;
        tx.commit().await?;
        Ok(failures)
    }

    /// Records a successful login: the failures in a row start again. In
    /// the audit trail.
    pub async fn record_login(&self, user: &StaffUser, address: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let now = timestamp_to_db(now);
        let mut tx = self.write().await?;
        sqlx::query(tx.sql(&LOGIN_SUCCEEDED))
            .bind(user.id)
            .bind(&now)
            .execute(tx.c())
            .await
            .map_err(query_err("record a login"))?;
        let details = serde_json::json!({ "staff_id": user.id, "address": address });
        tx.audit(&format!("staff:{}", user.username), AuditAction::LoggedIn, details, &now).await?;
        tx.commit().await
    }

    /// Opens a session for `user` (its id stored only as `id_hash`), until
    /// `expires_at` at the latest.
    pub async fn open_staff_session(
        &self,
        user: &StaffUser,
        id_hash: &str,
        address: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(tx.sql(&INSERT_SESSION))
            .bind(id_hash)
            .bind(user.id)
            .bind(address)
            .bind(timestamp_to_db(now))
            .bind(timestamp_to_db(expires_at))
            .execute(tx.c())
            .await
            .map_err(query_err("open a staff session"))?;
        tx.commit().await
    }

    /// The live (not ended) session `id_hash`, with its user.
    pub async fn staff_session(&self, id_hash: &str) -> Result<Option<StaffSessionRow>, StoreError> {
        let mut r = self.read().await?;
        let row: Option<SessionRow> = sqlx::query_as(r.sql(&SESSION))
            .bind(id_hash)
            .fetch_optional(r.c())
            .await
            .map_err(query_err("read a staff session"))?;
        row.map(|r| {
            Ok(StaffSessionRow {
                user: StaffUser::try_from(r.user)?,
                last_seen_at: r.last_seen_at.0,
                expires_at: r.expires_at.0,
            })
        })
        .transpose()
    }

    /// Marks session `id_hash` used at `now` (its idle time starts again).
    pub async fn touch_staff_session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut r = self.read().await?;
        sqlx::query(r.sql(&TOUCH_SESSION))
            .bind(id_hash)
            .bind(timestamp_to_db(now))
            .execute(r.c())
            .await
            .map_err(query_err("mark a staff session used"))?;
        Ok(())
    }

    /// Ends session `id_hash` (logout); with `everywhere`, every live
    /// session of its user. In the audit trail.
    pub async fn end_staff_session(
        &self,
        id_hash: &str,
        everywhere: bool,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let now = timestamp_to_db(now);
        let mut tx = self.write().await?;
        let staff_id: Option<i64> = sqlx::query_scalar(tx.sql(&END_SESSION))
            .bind(id_hash)
            .bind(&now)
            .fetch_optional(tx.c())
            .await
            .map_err(query_err("end a staff session"))?;
        if let Some(staff_id) = staff_id {
            if everywhere {
                sqlx::query(tx.sql(&END_ALL_SESSIONS))
                    .bind(staff_id)
                    .bind(&now)
                    .execute(tx.c())
                    .await
                    .map_err(query_err("end every staff session"))?;
            }
            let details = serde_json::json!({ "staff_id": staff_id, "everywhere": everywhere });
            tx.audit(actor, AuditAction::LoggedOut, details, &now).await?;
        }
        tx.commit().await
    }

    /// Every staff account, by username.
    pub async fn all_staff(&self) -> Result<Vec<StaffUser>, StoreError> {
        let mut r = self.read().await?;
        let rows: Vec<StaffRow> =
            sqlx::query_as(r.sql(&ALL_STAFF)).fetch_all(r.c()).await.map_err(query_err("read the staff"))?;
        rows.into_iter().map(StaffUser::try_from).collect()
    }

    /// An admin's change to an account: its roles, whether it is active, or
    /// a new password hash. Disabling it or resetting its password ends its
    /// sessions. In the audit trail (never the hash).
    pub async fn change_staff(
        &self,
        id: i64,
        change: &StaffChange,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let now = timestamp_to_db(now);
        let mut tx = self.write().await?;
        let (action, details, ends_sessions) = match change {
            StaffChange::Roles(roles) => {
                sqlx::query(tx.sql(&SET_ROLES))
                    .bind(id)
                    .bind(roles.to_stored())
                    .bind(&now)
                    .execute(tx.c())
                    .await
                    .map_err(query_err("change a staff member's roles"))?;
                (
                    AuditAction::StaffRolesChanged,
                    serde_json::json!({ "staff_id": id, "roles": roles.to_stored() }),
                    false,
                )
            }
            StaffChange::Active(active) => {
                sqlx::query(tx.sql(&SET_ACTIVE))
                    .bind(id)
                    .bind(i64::from(*active))
                    .bind(&now)
                    .execute(tx.c())
                    .await
                    .map_err(query_err("enable or disable a staff account"))?;
                let action = if *active { AuditAction::StaffEnabled } else { AuditAction::StaffDisabled };
                (action, serde_json::json!({ "staff_id": id }), !*active)
            }
            StaffChange::Password(hash) => {
                sqlx::query(tx.sql(&SET_PASSWORD))
                    .bind(id)
                    .bind(hash)
                    .bind(&now)
                    .execute(tx.c())
                    .await
                    .map_err(query_err("reset a staff password"))?;
                (AuditAction::StaffPasswordReset, serde_json::json!({ "staff_id": id }), true)
            }
        };
        if ends_sessions {
            sqlx::query(tx.sql(&END_ALL_SESSIONS))
                .bind(id)
                .bind(&now)
                .execute(tx.c())
                .await
                .map_err(query_err("end a staff member's sessions"))?;
        }
        tx.audit(actor, action, details, &now).await?;
        tx.commit().await
    }
}

/// What an admin changes in a staff account.
#[derive(Clone, Debug)]
pub enum StaffChange {
    Roles(Roles),
    Active(bool),
    /// The new argon2id hash.
    Password(String),
}
