//! Staff accounts: creating one (the password hashed with argon2id, OWASP's
//! parameters, off the async runtime) and checking a login (lockout after
//! repeated failures; an unknown user costs the same hashing work as a
//! known one, so timing does not tell which usernames exist), with the
//! optional TOTP second factor (`crate::totp`): enrolment, the code asked
//! after the password (no session until it is accepted), turning it off.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Duration, Utc};

use crate::csrf::CsrfKey;
use crate::domain::staff::{check_new_password, Roles, StaffInputError, Username};
use crate::store::{NewStaff, StaffUser, Store, StoreError, TotpChange};
use crate::totp;

/// A session unused this long ends…
pub const IDLE_MINUTES: i64 = 30;
/// …and any session ends this long after its login.
pub const ABSOLUTE_HOURS: i64 = 12;
/// A session's last use is written at most this often (reading a page is
/// not otherwise a write).
pub const TOUCH_EVERY_SECONDS: i64 = 60;

/// Failed logins in a row that lock an account…
pub const LOCK_AFTER_FAILURES: i64 = 5;
/// …for this long.
pub const LOCK_MINUTES: i64 = 15;

/// A login whose password was right waits this long for its code.
pub const CODE_MINUTES: i64 = 5;

/// argon2id with OWASP's minimum: 19 MiB of memory, 2 passes, 1 lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string of `password` with a fresh random salt (CPU-bound: call
/// it through [`hash_password`] from async code).
pub fn hash_password_blocking(password: &str) -> String {
    let salt = SaltString::encode_b64(&crate::tokens::random_bytes::<16>()).expect("16 bytes make a valid salt");
    hasher().hash_password(password.as_bytes(), &salt).expect("argon2 hashes any password").to_string()
}

/// Whether `password` matches the PHC string `hash` (constant time inside
/// argon2; a malformed hash matches nothing).
pub fn verify_password_blocking(hash: &str, password: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => hasher().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// [`hash_password_blocking`] on the blocking pool.
pub async fn hash_password(password: String) -> String {
    tokio::task::spawn_blocking(move || hash_password_blocking(&password)).await.expect("hashing never panics")
}

/// [`verify_password_blocking`] on the blocking pool.
pub async fn verify_password(hash: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || verify_password_blocking(&hash, &password))
        .await
        .expect("verifying never panics")
}

/// A hash of nothing anyone knows: what an unknown username is checked
/// against, so that it costs the same as a known one.
fn dummy_hash() -> String {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password_blocking(&crate::tokens::random_token())).clone()
}

/// Why an account was not created.
#[derive(Debug, thiserror::Error)]
pub enum CreateStaffError {
    #[error("{0}")]
    Input(#[from] StaffInputError),
    #[error("ya existe un usuario «{0}»")]
    Taken(String),
    #[error("el nombre para mostrar no puede quedar vacío ni pasar de 80 caracteres")]
    DisplayName,
    #[error("{}", .0.message_es())]
    Store(#[from] StoreError),
}

/// Creates a staff account: checks the password, hashes it, stores it with
/// its roles; `actor` goes to the audit trail. Returns the new id.
pub async fn create_staff(
    store: &Store,
    username: &Username,
    display_name: &str,
    roles: Roles,
    password: String,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<i64, CreateStaffError> {
    check_new_password(&password, username)?;
    let display_name = display_name.trim();
    if display_name.is_empty() || display_name.chars().count() > 80 || display_name.chars().any(char::is_control) {
        return Err(CreateStaffError::DisplayName);
    }
    let staff = NewStaff {
        username: username.clone(),
        display_name: display_name.to_string(),
        roles,
        password_hash: hash_password(password).await,
    };
    store.create_staff(&staff, actor, now).await?.ok_or_else(|| CreateStaffError::Taken(username.to_string()))
}

/// Why a login was refused. The first two read the same to the person
/// logging in ("usuario o contraseña incorrectos"): which one it was is
/// for the audit trail only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginError {
    /// Unknown user, wrong password, or a disabled account.
    Invalid,
    /// Too many failures in a row: refused until then, even with the right password.
    Locked { until: DateTime<Utc> },
    /// The database did not answer.
    Unavailable,
}

/// Checks a login's password (the first factor): against the stored hash
/// (an unknown user against a dummy one), the lockout, the account being
/// active. A failure counts towards the lockout and is in the audit trail,
/// with the client's `address`. A success completes the login of an
/// account without a second factor (recorded: the count starts again); an
/// account with TOTP on (`user.totp_enabled()`) still owes a code — nothing
/// is recorded and the count goes on until [`log_in_with_code`] accepts it.
pub async fn authenticate(
    store: &Store,
    username: &str,
    password: String,
    address: &str,
    now: DateTime<Utc>,
) -> Result<StaffUser, LoginError> {
    let user = match Username::parse(username) {
        Ok(u) => store.staff_by_username(&u).await.map_err(|_| LoginError::Unavailable)?,
        Err(_) => None,
    };
    let hash = user.as_ref().map_or_else(dummy_hash, |u| u.password_hash.clone());
    let matches = verify_password(hash, password).await;
    let Some(user) = user else {
        // Recorded as well (which also costs what a known user's failure costs).
        let name: String = username.trim().chars().filter(|c| !c.is_control()).take(40).collect();
        let details = serde_json::json!({ "username": name, "address": address, "known": false });
        store
            .record_audit("anonymous", crate::store::AuditAction::LoginFailed, details, now)
            .await
            .map_err(|_| LoginError::Unavailable)?;
        return Err(LoginError::Invalid);
    };
    if let Some(until) = user.locked_until.filter(|t| *t > now) {
        return Err(LoginError::Locked { until });
    }
    if !matches || !user.active {
        let reason = if matches { "inactive" } else { "password" };
        return Err(match count_failure(store, &user, reason, address, now).await? {
            Some(until) => LoginError::Locked { until },
            None => LoginError::Invalid,
        });
    }
    if !user.totp_enabled() {
        store.record_login(&user, address, now).await.map_err(|_| LoginError::Unavailable)?;
    }
    Ok(user)
}

/// Counts a failure of `user` towards the lockout (in the audit trail with
/// its `reason`): when it locks the account, until when.
async fn count_failure(
    store: &Store,
    user: &StaffUser,
    reason: &str,
    address: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, LoginError> {
    let until = now + Duration::minutes(LOCK_MINUTES);
    let failures = store
        .record_login_failure(user.id, LOCK_AFTER_FAILURES, until, reason, address, now)
        .await
        .map_err(|_| LoginError::Unavailable)?;
    Ok((failures >= LOCK_AFTER_FAILURES).then_some(until))
}

/// The stored form of a session id: its SHA-256, in hex.
pub fn session_hash(session_id: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(session_id.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A login that succeeded: who, and the new session's id (for the cookie;
/// a new random id at every login, never one the browser brought).
#[derive(Debug)]
pub struct LoggedIn {
    pub user: StaffUser,
    pub session_id: String,
}

/// A login whose password was right and whose TOTP code is due: the token
/// of the pending login, for the code form (random, single use, good for
/// [`CODE_MINUTES`], only with the browser that typed the password; the
/// server keeps its hash).
#[derive(Debug)]
pub struct PendingLogin {
    pub user: StaffUser,
    pub token: String,
}

/// Where a right password leads.
#[derive(Debug)]
pub enum LoginStep {
    /// Logged in: a new session.
    Session(LoggedIn),
    /// The account has TOTP on: the code is asked next, no session yet.
    Code(PendingLogin),
}

impl LoginStep {
    /// The session, when the password was the whole login.
    pub fn into_session(self) -> Option<LoggedIn> {
        match self {
            LoginStep::Session(logged) => Some(logged),
            LoginStep::Code(_) => None,
        }
    }
}

/// [`authenticate`], then a new server-side session — or, for an account
/// with TOTP on, a pending login bound to `browser` (the browser's CSRF
/// session id) that [`log_in_with_code`] completes.
pub async fn log_in(
    store: &Store,
    username: &str,
    password: String,
    address: &str,
    browser: &str,
    now: DateTime<Utc>,
) -> Result<LoginStep, LoginError> {
    let user = authenticate(store, username, password, address, now).await?;
    if user.totp_enabled() {
        let token = crate::tokens::random_token();
        store
            .open_login_challenge(
                &user,
                &session_hash(&token),
                &session_hash(browser),
                address,
                now,
                now + Duration::minutes(CODE_MINUTES),
            )
            .await
            .map_err(|_| LoginError::Unavailable)?;
        return Ok(LoginStep::Code(PendingLogin { user, token }));
    }
    let session_id = crate::tokens::random_token();
    store
        .open_staff_session(&user, &session_hash(&session_id), address, now, now + Duration::hours(ABSOLUTE_HOURS))
        .await
        .map_err(|_| LoginError::Unavailable)?;
    Ok(LoginStep::Session(LoggedIn { user, session_id }))
}

/// Why a TOTP code was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeError {
    /// Not the current code, or one already used: counts towards the lockout.
    Wrong,
    /// The pending login is unknown, used, older than [`CODE_MINUTES`] or of
    /// another browser: the password must be typed again.
    Expired,
    /// Too many failures in a row (the pending login ends).
    Locked { until: DateTime<Utc> },
    /// The second factor is off or was reset meanwhile (or, when turning it
    /// on, was already on).
    NotApplicable,
    /// The municipality requires it for one of this person's roles.
    Required,
    /// The database did not answer.
    Unavailable,
}

/// The second step of a login: `code` for the pending login `token` of
/// `browser`. Accepted once (the pending login and the code's time step are
/// used up together); then a new session. A wrong or replayed code counts
/// towards the lockout like a wrong password.
pub async fn log_in_with_code(
    store: &Store,
    token: &str,
    browser: &str,
    code: &str,
    address: &str,
    now: DateTime<Utc>,
) -> Result<LoggedIn, CodeError> {
    if !crate::csrf::is_session_id(token) || !crate::csrf::is_session_id(browser) {
        return Err(CodeError::Expired);
    }
    let (challenge_hash, browser_hash) = (session_hash(token), session_hash(browser));
    let challenge =
        store.login_challenge(&challenge_hash, &browser_hash, now).await.map_err(|_| CodeError::Unavailable)?;
    let Some(challenge) = challenge else { return Err(CodeError::Expired) };
    let user = store.staff_by_id(challenge.staff_id).await.map_err(|_| CodeError::Unavailable)?;
    let Some(user) = user.filter(|u| u.active) else { return Err(CodeError::Expired) };
    if let Some(until) = user.locked_until.filter(|t| *t > now) {
        store.end_login_challenges(user.id, now).await.map_err(|_| CodeError::Unavailable)?;
        return Err(CodeError::Locked { until });
    }
    let Some(secret) = user.totp.as_ref().and_then(|s| s.bytes()) else { return Err(CodeError::Expired) };
    let step = match totp::verify(&secret, code, now, user.totp_last_step) {
        totp::Check::Accepted(step) => step,
        refused => {
            let reason = if refused == totp::Check::Replayed { "totp_replay" } else { "totp" };
            return Err(code_failure(store, &user, reason, address, now).await?);
        }
    };
    let session_id = crate::tokens::random_token();
    let done = store
        .complete_login_with_code(
            &user,
            &challenge_hash,
            &browser_hash,
            step,
            &session_hash(&session_id),
            address,
            now,
            now + Duration::hours(ABSOLUTE_HOURS),
        )
        .await
        .map_err(|_| CodeError::Unavailable)?;
    if !done {
        // The same code or pending login, used by another request meanwhile.
        return Err(code_failure(store, &user, "totp_replay", address, now).await?);
    }
    Ok(LoggedIn { user, session_id })
}

/// A refused code: counted towards the lockout; a lock ends the pending logins.
async fn code_failure(
    store: &Store,
    user: &StaffUser,
    reason: &str,
    address: &str,
    now: DateTime<Utc>,
) -> Result<CodeError, CodeError> {
    match count_failure(store, user, reason, address, now).await {
        Ok(Some(until)) => {
            store.end_login_challenges(user.id, now).await.map_err(|_| CodeError::Unavailable)?;
            Ok(CodeError::Locked { until })
        }
        Ok(None) => Ok(CodeError::Wrong),
        Err(_) => Err(CodeError::Unavailable),
    }
}

/// What the enrolment page shows: the secret offered, as an
/// `otpauth://` URI (for the QR code) and as base32 text (typed by hand).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TotpOffer {
    pub secret: String,
    pub uri: String,
}

/// The secret offered to `user` for enrolment in the staff session
/// `session_id`: derived from the installation's secret, the person, the
/// last code step they used and the session (the same on every reload, and
/// nothing is written until a code confirms it); `issuer` names the installation in the authenticator app.
/// `None` when TOTP is already on.
pub fn offer_totp(key: &CsrfKey, user: &StaffUser, session_id: &str, issuer: &str) -> Option<TotpOffer> {
    if user.totp_enabled() {
        return None;
    }
    let secret = totp::encode_secret(&offered_bytes(key, user, session_id));
    Some(TotpOffer { uri: totp::otpauth_uri(issuer, user.username.as_str(), &secret), secret })
}

fn offered_bytes(key: &CsrfKey, user: &StaffUser, session_id: &str) -> [u8; totp::SECRET_BYTES] {
    // The last step used changes whenever a second factor was on: turned
    // off and on again, the person is offered another secret.
    let derived = key.derive("totp-offer", &format!("{}:{}:{session_id}", user.id, user.totp_last_step.unwrap_or(0)));
    let mut bytes = [0u8; totp::SECRET_BYTES];
    bytes.copy_from_slice(&derived[..totp::SECRET_BYTES]);
    bytes
}

/// Turns TOTP on for `user` when `secret` is the one offered in this
/// session ([`offer_totp`]) and `code` its current code. A wrong code
/// changes nothing and is not counted: the person is logged in and setting
/// up.
#[allow(clippy::too_many_arguments)]
pub async fn enable_totp(
    store: &Store,
    key: &CsrfKey,
    user: &StaffUser,
    session_id: &str,
    secret: &str,
    code: &str,
    address: &str,
    now: DateTime<Utc>,
) -> Result<(), CodeError> {
    if user.totp_enabled() {
        return Err(CodeError::NotApplicable);
    }
    let offered = offered_bytes(key, user, session_id);
    if totp::decode_secret(secret).as_deref() != Some(&offered[..]) {
        return Err(CodeError::NotApplicable);
    }
    let totp::Check::Accepted(step) = totp::verify(&offered, code, now, None) else { return Err(CodeError::Wrong) };
    let change = TotpChange::Enable { secret: totp::encode_secret(&offered), step };
    match store.change_totp(user, &change, address, now).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(CodeError::NotApplicable),
        Err(_) => Err(CodeError::Unavailable),
    }
}

/// Turns off `user`'s own TOTP with a current code (`required`: the
/// municipality requires it for one of their roles, so it stays on). A wrong
/// code counts towards the lockout, and a locked account cannot turn it
/// off: a stolen session does not get to guess codes.
pub async fn disable_totp(
    store: &Store,
    user: &StaffUser,
    code: &str,
    required: bool,
    address: &str,
    now: DateTime<Utc>,
) -> Result<(), CodeError> {
    if required {
        return Err(CodeError::Required);
    }
    let Some(secret) = user.totp.as_ref().and_then(|s| s.bytes()) else { return Err(CodeError::NotApplicable) };
    if let Some(until) = user.locked_until.filter(|t| *t > now) {
        return Err(CodeError::Locked { until });
    }
    let step = match totp::verify(&secret, code, now, user.totp_last_step) {
        totp::Check::Accepted(step) => step,
        refused => {
            let reason = if refused == totp::Check::Replayed { "totp_replay" } else { "totp" };
            return Err(code_failure(store, user, reason, address, now).await?);
        }
    };
    match store.change_totp(user, &TotpChange::Disable { step }, address, now).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(code_failure(store, user, "totp_replay", address, now).await?),
        Err(_) => Err(CodeError::Unavailable),
    }
}

/// The user of a live session: not ended, used within [`IDLE_MINUTES`],
/// younger than [`ABSOLUTE_HOURS`], its account active. Marks it used (at
/// most every [`TOUCH_EVERY_SECONDS`]).
pub async fn session_user(
    store: &Store,
    session_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<StaffUser>, StoreError> {
    if !crate::csrf::is_session_id(session_id) {
        return Ok(None);
    }
    let hash = session_hash(session_id);
    let Some(row) = store.staff_session(&hash).await? else { return Ok(None) };
    if now >= row.expires_at || now - row.last_seen_at >= Duration::minutes(IDLE_MINUTES) || !row.user.active {
        return Ok(None);
    }
    if now - row.last_seen_at >= Duration::seconds(TOUCH_EVERY_SECONDS) {
        store.touch_staff_session(&hash, now).await?;
    }
    Ok(Some(row.user))
}

/// Ends the session (and with `everywhere`, every session of its user).
pub async fn log_out(
    store: &Store,
    user: &StaffUser,
    session_id: &str,
    everywhere: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    store.end_staff_session(&session_hash(session_id), everywhere, &format!("staff:{}", user.username), now).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_argon2id_with_owasp_parameters_and_a_fresh_salt() {
        let a = hash_password_blocking("caballo correcto batería grapa");
        let b = hash_password_blocking("caballo correcto batería grapa");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "a fresh salt each time");
        assert!(verify_password_blocking(&a, "caballo correcto batería grapa"));
        assert!(!verify_password_blocking(&a, "caballo correcto batería grapA"));
        assert!(!verify_password_blocking("not a hash", "x"));
    }
}
