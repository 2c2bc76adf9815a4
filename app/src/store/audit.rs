//! The audit trail: an entry for every action that touches money or rules,
//! appended in the transaction of the action itself (an action that rolls
//! back leaves no entry; an entry never exists without its action).
//!
//! Entries are numbered 1, 2, 3… and each carries the SHA-256 of its own
//! fields and of the previous entry's hash ([`entry_hash`]), so
//! [`Store::verify_audit`] finds the first entry that was edited (its hash
//! no longer matches), deleted (a number is missing, or the next entry's
//! `prev_hash` names another) or moved (the chain of `prev_hash` breaks).
//! The head row (`audit_head`: the last number and hash) is locked by the
//! appending transaction, which numbers entries one after the other on
//! PostgreSQL as on SQLite, and shows a deleted last entry.

use crate::domain::string_enum;
use std::ops::DerefMut;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use super::dialect::Stmt;
use super::records::timestamp_to_db;
use super::{query_err, Conn, Store, StoreError};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

static HEAD: Stmt = Stmt::new("SELECT seq, hash FROM audit_head WHERE id = 1 {for_update}");
static SET_HEAD: Stmt = Stmt::new("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1");
static INSERT_ENTRY: Stmt = Stmt::new(
    "INSERT INTO audit_log (seq, at, actor, action, details, prev_hash, hash) \
     VALUES ($1, {ts:$2}, $3, $4, $5, $6, $7)",
);
static ENTRIES_AFTER: Stmt = Stmt::new(
    "SELECT seq, {ts_text:at} AS at, actor, action, details, prev_hash, hash FROM audit_log \
     WHERE seq > $1 ORDER BY seq LIMIT $2",
);
static LATEST: Stmt = Stmt::new(
    "SELECT seq, {ts_text:at} AS at, actor, action, details, prev_hash, hash FROM audit_log \
     ORDER BY seq DESC LIMIT $1",
);
static FILTERED: Stmt = Stmt::new(
    "SELECT seq, {ts_text:at} AS at, actor, action, details, prev_hash, hash FROM audit_log \
     WHERE ($1 = '' OR action = $1) AND ($2 = '' OR actor = $2) ORDER BY seq DESC LIMIT $3",
);
static HEAD_READ: Stmt = Stmt::new("SELECT seq, hash FROM audit_head WHERE id = 1");

string_enum! {
    /// What an entry records.
    pub enum AuditAction {
        /// A payment applied: its order succeeded, its charges are paid.
        PaymentApplied = "payment.applied",
        /// Money that could not be applied (another amount or currency,
        /// charges already paid, an order closed): recorded to refund.
        PaymentNotApplied = "payment.not_applied",
        /// A refund or a dispute reported by the provider.
        PaymentAdjusted = "payment.adjusted",
        ReceiptIssued = "receipt.issued",
        ReceiptCancelled = "receipt.cancelled",
        /// Handed over at the cashier's desk ("entregar / canjear").
        ReceiptRedeemed = "receipt.redeemed",
        PadronImported = "padron.imported",
        KeysRotated = "keys.rotated",
        StaffCreated = "staff.created",
        LoggedIn = "staff.login",
        LoginFailed = "staff.login_failed",
        LoggedOut = "staff.logout",
        StaffRolesChanged = "staff.roles_changed",
        StaffEnabled = "staff.enabled",
        StaffDisabled = "staff.disabled",
        StaffPasswordReset = "staff.password_reset",
        /// A cajero opened a till session with its float.
        TillOpened = "till.opened",
        /// The blind count of a till session was entered (the difference
        /// in the details); a balanced count closes the till.
        TillCounted = "till.counted",
        /// The cajero explained a corte's difference.
        CorteExplained = "corte.explained",
        /// A tesorero approved a corte with a difference; the till closes.
        CorteApproved = "corte.approved",
        /// A till session closed (balanced, or approved).
        TillClosed = "till.closed",
        /// A cheque taken at the window was dishonoured.
        ChequeBounced = "cheque.bounced",
        /// Someone asked for a receipt to be cancelled.
        CancellationRequested = "receipt.cancel_requested",
        /// A second person (tesorero) approved it.
        CancellationApproved = "receipt.cancel_approved",
        /// A tesorero turned it down.
        CancellationRejected = "receipt.cancel_rejected",
        /// An order's payment was annulled (its receipt cancelled, charges reopened).
        PaymentAnnulled = "payment.annulled",
        /// A person turned on their TOTP second factor (a code confirmed it).
        StaffTotpEnabled = "staff.totp_enabled",
        /// A person turned off their own second factor (with a code).
        StaffTotpDisabled = "staff.totp_disabled",
        /// An admin reset someone's second factor (a lost phone).
        StaffTotpReset = "staff.totp_reset",
        /// A tesorero fetched Stripe's payouts: a payout new or changed in
        /// Recauda (its items, matched or not).
        ReconciliationFetched = "reconciliation.fetched",
        /// A tesorero applied, from the reconciliation, a payment Stripe
        /// took that Recauda had missed (through the provider-event path).
        ReconciliationHealed = "reconciliation.healed",
        /// A citizen filed a permit request (with its documents).
        PermitRequested = "permit.requested",
        /// A permit request moved (taken, corrections asked, resubmitted,
        /// rejected, cancelled).
        PermitRequestMoved = "permit.request_moved",
        /// A revisor approved a permit request: its fees became charges.
        PermitRequestApproved = "permit.request_approved",
        /// A permit was issued, in the transaction that applied its payment.
        PermitIssued = "permit.issued",
        /// The cashier desk handed a permit over (once).
        PermitRedeemed = "permit.redeemed",
        /// An account started receiving the monthly garbage collection.
        GarbageServiceStarted = "garbage.service_started",
        /// An account's garbage collection ended (its last day served).
        GarbageServiceEnded = "garbage.service_ended",
        /// A month's garbage charges were generated (how many new, how
        /// many already there, the total); a repeated run records 0 new.
        GarbageChargesGenerated = "garbage.charges_generated",
        /// A tesorero set an amount within a garbage range tariff (a fine,
        /// a special service): a charge of the account, with who and why.
        GarbageChargeSet = "garbage.charge_set",
        /// The alcohol licences' registry was loaded (`recauda licencias
        /// importar`, all or nothing).
        LicencesImported = "licences.imported",
        /// A licence's registry entry took the change its paid request
        /// carried (giro, address, hours), as the permit was issued.
        LicenceChanged = "licence.changed",
        /// A new licence entered the registry (`ALC-2026-0001`), as the
        /// permit of its paid request was issued.
        LicenceRegistered = "licence.registered",
    }
}

/// One entry, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    pub seq: i64,
    /// When, as stored (RFC 3339, microseconds, UTC).
    pub at: String,
    /// Who: a provider (`stripe`, `demo`), `cli` (an operator's command),
    /// later a staff user.
    pub actor: String,
    pub action: String,
    /// A JSON object (ids, amounts in centavos, folios, reasons).
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

/// SHA-256, in hex, of an entry's fields and the previous entry's hash.
pub fn entry_hash(seq: i64, at: &str, actor: &str, action: &str, details: &str, prev_hash: &str) -> String {
    let mut h = Sha256::new();
    for part in [seq.to_string().as_str(), at, actor, action, details, prev_hash] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// What [`Store::verify_audit`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditCheck {
    /// Entries read.
    pub entries: u64,
    /// The first entry that breaks the chain and why (Spanish), or `None`.
    pub first_bad: Option<(i64, String)>,
}

/// The audit trail's one-statement primitives.
impl<C: DerefMut<Target = AnyConnection> + Send> Conn<C> {
    /// Appends an entry inside this transaction (the head row stays locked
    /// until it ends).
    pub(crate) async fn audit(
        &mut self,
        actor: &str,
        action: AuditAction,
        details: impl Serialize,
        now: &str,
    ) -> Result<i64, StoreError> {
        let details =
            serde_json::to_string(&details).map_err(|e| StoreError::Corrupt(format!("audit details: {e}")))?;
        let (last, prev_hash): (i64, String) = sqlx::query_as(self.sql(&HEAD))
            .fetch_one(self.c())
            .await
            .map_err(query_err("lock the audit trail's head"))?;
        let seq = last + 1;
        let hash = entry_hash(seq, now, actor, action.as_str(), &details, &prev_hash);
        sqlx::query(self.sql(&INSERT_ENTRY))
            .bind(seq)
            .bind(now)
            .bind(actor)
            .bind(action.as_str())
            .bind(&details)
            .bind(&prev_hash)
            .bind(&hash)
            .execute(self.c())
            .await
            .map_err(query_err("append to the audit trail"))?;
        sqlx::query(self.sql(&SET_HEAD))
            .bind(seq)
            .bind(&hash)
            .execute(self.c())
            .await
            .map_err(query_err("move the audit trail's head"))?;
        Ok(seq)
    }
}

impl Store {
    /// Appends an entry in a transaction of its own (an action done outside
    /// the database, such as a key rotation).
    pub async fn record_audit(
        &self,
        actor: &str,
        action: AuditAction,
        details: impl Serialize,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let seq = tx.audit(actor, action, details, &timestamp_to_db(now)).await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// The latest `limit` entries, newest first.
    pub async fn latest_audit(&self, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let mut r = self.read().await?;
        sqlx::query_as(r.sql(&LATEST)).bind(limit).fetch_all(r.c()).await.map_err(query_err("read the audit trail"))
    }

    /// The latest `limit` entries of `action` by `actor` (an empty filter
    /// matches all), newest first.
    pub async fn audit_entries(&self, action: &str, actor: &str, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let mut r = self.read().await?;
        sqlx::query_as(r.sql(&FILTERED))
            .bind(action)
            .bind(actor)
            .bind(limit)
            .fetch_all(r.c())
            .await
            .map_err(query_err("read the audit trail"))
    }

    /// Walks the whole trail in order (in pages) and reports the first
    /// entry that was edited, deleted or moved.
    pub async fn verify_audit(&self) -> Result<AuditCheck, StoreError> {
        const PAGE: i64 = 5_000;
        let mut r = self.read().await?;
        let mut expected_seq = 1;
        let mut prev_hash = GENESIS_HASH.to_string();
        let mut entries = 0;
        loop {
            let page: Vec<AuditEntry> = sqlx::query_as(r.sql(&ENTRIES_AFTER))
                .bind(expected_seq - 1)
                .bind(PAGE)
                .fetch_all(r.c())
                .await
                .map_err(query_err("read the audit trail"))?;
            let done = (page.len() as i64) < PAGE;
            for e in page {
                entries += 1;
                let bad = |why: String| Ok(AuditCheck { entries, first_bad: Some((e.seq, why)) });
                if e.seq != expected_seq {
                    return bad(format!("falta la entrada {expected_seq} (borrada o renumerada)"));
                }
                if e.prev_hash != prev_hash {
                    return bad("no sigue a la entrada anterior (borrada, movida o alterada)".into());
                }
                if entry_hash(e.seq, &e.at, &e.actor, &e.action, &e.details, &e.prev_hash) != e.hash {
                    return bad("su contenido fue alterado (el hash no coincide)".into());
                }
                prev_hash = e.hash;
                expected_seq += 1;
            }
            if done {
                break;
            }
        }
        let (head_seq, head_hash): (i64, String) = sqlx::query_as(r.sql(&HEAD_READ))
            .fetch_one(r.c())
            .await
            .map_err(query_err("read the audit trail's head"))?;
        if head_seq != expected_seq - 1 || head_hash != prev_hash {
            let why = format!("la bitácora termina en la entrada {} pero su cabeza dice {head_seq}", expected_seq - 1);
            return Ok(AuditCheck { entries, first_bad: Some((expected_seq, why)) });
        }
        Ok(AuditCheck { entries, first_bad: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_and_the_previous_hash_are_in_the_hash() {
        let base = entry_hash(1, "2026-11-26T01:00:00.000000Z", "stripe", "payment.applied", "{}", GENESIS_HASH);
        assert_eq!(base.len(), 64);
        assert_ne!(base, entry_hash(2, "2026-11-26T01:00:00.000000Z", "stripe", "payment.applied", "{}", GENESIS_HASH));
        assert_ne!(base, entry_hash(1, "2026-11-26T01:00:00.000001Z", "stripe", "payment.applied", "{}", GENESIS_HASH));
        assert_ne!(base, entry_hash(1, "2026-11-26T01:00:00.000000Z", "demo", "payment.applied", "{}", GENESIS_HASH));
        assert_ne!(base, entry_hash(1, "2026-11-26T01:00:00.000000Z", "stripe", "receipt.issued", "{}", GENESIS_HASH));
        assert_ne!(
            base,
            entry_hash(1, "2026-11-26T01:00:00.000000Z", "stripe", "payment.applied", "{ }", GENESIS_HASH)
        );
        assert_ne!(
            base,
            entry_hash(1, "2026-11-26T01:00:00.000000Z", "stripe", "payment.applied", "{}", &"1".repeat(64))
        );
        // Fields are length-prefixed: moving a character across a boundary changes the hash.
        assert_ne!(entry_hash(1, "a", "bc", "d", "e", "f"), entry_hash(1, "ab", "c", "d", "e", "f"));
    }
}
