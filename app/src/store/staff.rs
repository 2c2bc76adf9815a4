//! The treasury's staff accounts: created with their roles and password
//! hash (never the password), found by username, and the lockout counters
//! of their logins; their optional TOTP second factor (the secret, the
//! last step used) and the pending logins that still owe a code. Creating
//! one and every change of its second factor are in the audit trail.

use chrono::{DateTime, Utc};

use super::audit::AuditAction;
use super::dialect::Stmt;
use super::records::{timestamp_to_db, DbTime};
use super::{query_err, Store, StoreError, Tx};
use crate::domain::staff::{Roles, Username};

static INSERT_STAFF: Stmt = Stmt::new(
    "INSERT INTO staff_users (username, display_name, roles, password_hash, active, failed_logins, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, 1, 0, {ts:$5}, {ts:$5}) ON CONFLICT (username) DO NOTHING RETURNING id",
);
static STAFF_BY_USERNAME: Stmt = Stmt::new(
    "SELECT id, username, display_name, roles, password_hash, active, failed_logins, \
     {ts_text:locked_until} AS locked_until, totp_secret, totp_last_step FROM staff_users WHERE username = $1",
);
static STAFF_BY_ID: Stmt = Stmt::new(
    "SELECT id, username, display_name, roles, password_hash, active, failed_logins, \
     {ts_text:locked_until} AS locked_until, totp_secret, totp_last_step FROM staff_users WHERE id = $1",
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
     {ts_text:locked_until} AS locked_until, totp_secret, totp_last_step FROM staff_users ORDER BY username",
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
     {ts_text:u.locked_until} AS locked_until, u.totp_secret, u.totp_last_step, \
     {ts_text:s.last_seen_at} AS last_seen_at, \
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
static ENABLE_TOTP: Stmt = Stmt::new(
    "UPDATE staff_users SET totp_secret = $2, totp_last_step = $3, \
     updated_at = {ts:$4} WHERE id = $1 AND totp_secret IS NULL",
);
static CLEAR_TOTP: Stmt = Stmt::new(
    "UPDATE staff_users SET totp_secret = NULL, updated_at = {ts:$2} \
     WHERE id = $1",
);
static USE_TOTP_STEP: Stmt = Stmt::new(
    "UPDATE staff_users SET totp_last_step = $3 \
     WHERE id = $1 AND totp_secret = $2 AND (totp_last_step IS NULL OR totp_last_step < $3)",
);
static DROP_OLD_CHALLENGES: Stmt = Stmt::new("DELETE FROM staff_login_challenges WHERE expires_at < {ts:$1}");
static INSERT_CHALLENGE: Stmt = Stmt::new(
    "INSERT INTO staff_login_challenges (id_hash, staff_id, browser_hash, address, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, {ts:$5}, {ts:$6})",
);
static CHALLENGE: Stmt = Stmt::new(
    "SELECT staff_id FROM staff_login_challenges \
     WHERE id_hash = $1 AND browser_hash = $2 AND used_at IS NULL AND expires_at > {ts:$3}",
);
static USE_CHALLENGE: Stmt = Stmt::new(
    "UPDATE staff_login_challenges SET used_at = {ts:$4} \
     WHERE id_hash = $1 AND browser_hash = $2 AND staff_id = $3 AND used_at IS NULL AND expires_at > {ts:$4}",
);
static END_CHALLENGES: Stmt =
    Stmt::new("UPDATE staff_login_challenges SET used_at = {ts:$2} WHERE staff_id = $1 AND used_at IS NULL");

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
    /// The TOTP secret when the second factor is on.
    pub totp: Option<TotpSecret>,
    /// The last time step whose code was accepted (a code is worth once);
    /// kept when the second factor is turned off, so the next enrolment is
    /// offered another secret.
    pub totp_last_step: Option<i64>,
}

impl StaffUser {
    /// Whether logging in asks for a TOTP code after the password.
    pub fn totp_enabled(&self) -> bool {
        self.totp.is_some()
    }
}

/// A TOTP secret as stored (base32), never shown in logs or `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(String);

impl TotpSecret {
    pub fn new(base32: String) -> TotpSecret {
        TotpSecret(base32)
    }

    /// The base32 text (for the `otpauth://` URI and manual entry).
    pub fn base32(&self) -> &str {
        &self.0
    }

    /// The secret's bytes; `None` when the stored text is not base32.
    pub fn bytes(&self) -> Option<Vec<u8>> {
        crate::totp::decode_secret(&self.0)
    }
}

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(***)")
    }
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
    totp_secret: Option<String>,
    totp_last_step: Option<i64>,
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
            totp: r.totp_secret.map(TotpSecret),
            totp_last_step: r.totp_last_step,
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

    pub async fn staff_by_id(&self, id: i64) -> Result<Option<StaffUser>, StoreError> {
        let mut r = self.read().await?;
        let row: Option<StaffRow> = sqlx::query_as(r.sql(&STAFF_BY_ID))
            .bind(id)
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
    /// in a row, logins are refused until `lock_until`. In the audit trail
    /// with its `reason` (`password`, `inactive`, `totp`, `totp_replay`).
    /// Returns the failures in a row.
    pub async fn record_login_failure(
        &self,
        id: i64,
        lock_after: i64,
        lock_until: DateTime<Utc>,
        reason: &str,
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
        let details = serde_json::json!({ "staff_id": id, "in_a_row": failures, "reason": reason, "address": address });
        tx.audit("anonymous", AuditAction::LoginFailed, details, &now).await?;
        tx.commit().await?;
        Ok(failures)
    }

    /// Records a successful login: the failures in a row start again. In
    /// the audit trail.
    pub async fn record_login(&self, user: &StaffUser, address: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let now = timestamp_to_db(now);
        let mut tx = self.write().await?;
        tx.record_login(user, address, None, &now).await?;
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
        tx.insert_session(user, id_hash, address, &timestamp_to_db(now), expires_at).await?;
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

    /// An admin's change to an account: its roles, whether it is active, a
    /// new password hash, or its second factor reset. Disabling it or
    /// resetting its password or its second factor ends its sessions and its
    /// pending logins. In the audit trail (never the hash).
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
            StaffChange::ResetTotp => {
                sqlx::query(tx.sql(&CLEAR_TOTP))
                    .bind(id)
                    .bind(&now)
                    .execute(tx.c())
                    .await
                    .map_err(query_err("reset a staff member's second factor"))?;
                (AuditAction::StaffTotpReset, serde_json::json!({ "staff_id": id }), true)
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
            sqlx::query(tx.sql(&END_CHALLENGES))
                .bind(id)
                .bind(&now)
                .execute(tx.c())
                .await
                .map_err(query_err("end a staff member's pending logins"))?;
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
    /// The second factor turned off (a lost phone): the person logs in with
    /// the password alone, or enrols again.
    ResetTotp,
}

/// A second-factor change a person makes to their own account.
#[derive(Clone, Debug)]
pub enum TotpChange {
    /// Turn it on with the secret offered (base32), whose code of `step` was typed.
    Enable { secret: String, step: i64 },
    /// Turn it off; the code of `step` was typed (it is used up).
    Disable { step: i64 },
}

/// A login whose password was right, still owing a code: which account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginChallenge {
    pub staff_id: i64,
}

/// The second factor: enrolment, turning it off, the codes used, and the
/// logins that still owe a code.
impl Store {
    /// Turns the second factor of `user` on or off (a code was checked by
    /// the caller). `false` when nothing changed: the secret offered is no
    /// longer the one checked, the second factor changed meanwhile, or the
    /// code's step was already used. In the audit trail.
    pub async fn change_totp(
        &self,
        user: &StaffUser,
        change: &TotpChange,
        address: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let now = timestamp_to_db(now);
        let mut tx = self.write().await?;
        let (changed, action) = match change {
            TotpChange::Enable { secret, step } => {
                let done = sqlx::query(tx.sql(&ENABLE_TOTP))
                    .bind(user.id)
                    .bind(secret)
                    .bind(*step)
                    .bind(&now)
                    .execute(tx.c())
                    .await
                    .map_err(query_err("turn a second factor on"))?;
                (done.rows_affected() == 1, AuditAction::StaffTotpEnabled)
            }
            TotpChange::Disable { step } => {
                let Some(secret) = &user.totp else { return Ok(false) };
                let used = tx.use_totp_step(user.id, secret, *step).await?;
                if used {
                    sqlx::query(tx.sql(&CLEAR_TOTP))
                        .bind(user.id)
                        .bind(&now)
                        .execute(tx.c())
                        .await
                        .map_err(query_err("turn a second factor off"))?;
                }
                (used, AuditAction::StaffTotpDisabled)
            }
        };
        if !changed {
            return Ok(false);
        }
        let details = serde_json::json!({ "staff_id": user.id, "address": address });
        tx.audit(&format!("staff:{}", user.username), action, details, &now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Starts a login that owes a code: the challenge `id_hash` (the hash
    /// of the token the browser holds), bound to the browser `browser_hash`,
    /// until `expires_at`. Expired challenges are dropped on the way.
    pub async fn open_login_challenge(
        &self,
        user: &StaffUser,
        id_hash: &str,
        browser_hash: &str,
        address: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let now = timestamp_to_db(now);
        let mut tx = self.write().await?;
        sqlx::query(tx.sql(&DROP_OLD_CHALLENGES))
            .bind(&now)
            .execute(tx.c())
            .await
            .map_err(query_err("drop expired pending logins"))?;
        sqlx::query(tx.sql(&INSERT_CHALLENGE))
            .bind(id_hash)
            .bind(user.id)
            .bind(browser_hash)
            .bind(address)
            .bind(&now)
            .bind(timestamp_to_db(expires_at))
            .execute(tx.c())
            .await
            .map_err(query_err("start a pending login"))?;
        tx.commit().await
    }

    /// The live challenge `id_hash` of browser `browser_hash`: not used,
    /// not expired.
    pub async fn login_challenge(
        &self,
        id_hash: &str,
        browser_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<LoginChallenge>, StoreError> {
        let mut r = self.read().await?;
        let staff_id: Option<i64> = sqlx::query_scalar(r.sql(&CHALLENGE))
            .bind(id_hash)
            .bind(browser_hash)
            .bind(timestamp_to_db(now))
            .fetch_optional(r.c())
            .await
            .map_err(query_err("read a pending login"))?;
        Ok(staff_id.map(|staff_id| LoginChallenge { staff_id }))
    }

    /// Ends every pending login of `id` (its account got locked).
    pub async fn end_login_challenges(&self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(tx.sql(&END_CHALLENGES))
            .bind(id)
            .bind(timestamp_to_db(now))
            .execute(tx.c())
            .await
            .map_err(query_err("end pending logins"))?;
        tx.commit().await
    }

    /// Completes a login that owed a code, all or nothing: uses up the
    /// challenge (once) and the code's `step` (once), records the login
    /// (the failures in a row start again) and opens the session
    /// `session_hash`. `false`, and nothing done, when the challenge or the
    /// step was used meanwhile.
    #[allow(clippy::too_many_arguments)]
    pub async fn complete_login_with_code(
        &self,
        user: &StaffUser,
        challenge_hash: &str,
        browser_hash: &str,
        step: i64,
        session_hash: &str,
        address: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let Some(secret) = &user.totp else { return Ok(false) };
        let now = timestamp_to_db(now);
        let mut tx = self.write().await?;
        let challenge = sqlx::query(tx.sql(&USE_CHALLENGE))
            .bind(challenge_hash)
            .bind(browser_hash)
            .bind(user.id)
            .bind(&now)
            .execute(tx.c())
            .await
            .map_err(query_err("use a pending login"))?;
        if challenge.rows_affected() != 1 || !tx.use_totp_step(user.id, secret, step).await? {
            return Ok(false);
        }
        tx.record_login(user, address, Some("totp"), &now).await?;
        tx.insert_session(user, session_hash, address, &now, expires_at).await?;
        tx.commit().await?;
        Ok(true)
    }
}

impl Tx {
    /// A successful login (the failures in a row start again), in the
    /// audit trail, with the second factor used if any.
    async fn record_login(
        &mut self,
        user: &StaffUser,
        address: &str,
        second_factor: Option<&str>,
        now: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(self.sql(&LOGIN_SUCCEEDED))
            .bind(user.id)
            .bind(now)
            .execute(self.c())
            .await
            .map_err(query_err("record a login"))?;
        let mut details = serde_json::json!({ "staff_id": user.id, "address": address });
        if let Some(factor) = second_factor {
            details["second_factor"] = serde_json::Value::from(factor);
        }
        self.audit(&format!("staff:{}", user.username), AuditAction::LoggedIn, details, now).await?;
        Ok(())
    }

    /// A session of `user`, its id stored only as `id_hash`, until `expires_at` at the latest.
    async fn insert_session(
        &mut self,
        user: &StaffUser,
        id_hash: &str,
        address: &str,
        now: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(self.sql(&INSERT_SESSION))
            .bind(id_hash)
            .bind(user.id)
            .bind(address)
            .bind(now)
            .bind(timestamp_to_db(expires_at))
            .execute(self.c())
            .await
            .map_err(query_err("open a staff session"))?;
        Ok(())
    }

    /// Uses up the code of `step` for `id`, whose secret is still `secret`:
    /// `false` when that step (or a later one) was already used.
    async fn use_totp_step(&mut self, id: i64, secret: &TotpSecret, step: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(self.sql(&USE_TOTP_STEP))
            .bind(id)
            .bind(secret.base32())
            .bind(step)
            .execute(self.c())
            .await
            .map_err(query_err("use a TOTP code"))?;
        Ok(done.rows_affected() == 1)
    }
}
