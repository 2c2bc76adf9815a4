//! Permit requests and permits: filing (with the documents, in one
//! transaction), the review's moves (each checked by
//! [`crate::domain::permits::next_status`] against the stored state, under
//! the row's lock), approval (the fees become charges of the request's own
//! account, paid through the same orders and receipts as everything else),
//! and the permit issued in the very transaction that applies the payment.
//!
//! Every rule is one transaction that also appends its audit entry; a
//! refusal ([`PermitRefusal`]) writes nothing.

use std::ops::DerefMut;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use super::audit::AuditAction;
use super::dialect::{json, Stmt};
use super::records::{date_to_db, timestamp_to_db, DbDate, DbTime};
use super::{guess_person_kind, is_unique_violation, query_err, Conn, IdTable, Store, StoreError, Tx};
use crate::domain::folio::{Folio, DEMO_PERMIT_SERIES, PERMIT_SERIES, REQUEST_SERIES};
use crate::domain::licences::LicenceChange;
use crate::domain::money::Centavos;
use crate::domain::permits::{
    next_status, PermitScope, RequestAction, RequestActor, RequestLine, RequestStatus, RequestTransitionError,
};
use crate::receipt_keys::ReceiptKeys;

/// Calendar days a request may wait for the applicant's corrections
/// before it expires.
pub const CORRECTION_DAYS: i64 = 30;

/// The account kind of a request's own account (its number is the
/// request's number).
pub const REQUEST_ACCOUNT_KIND: &str = "tramite";

/// A request as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PermitRequest {
    pub id: i64,
    /// The applicant's link carries it.
    pub token: String,
    /// SOL-2026-000123.
    pub number: String,
    pub procedure: String,
    pub renewal: bool,
    pub status: RequestStatus,
    pub applicant_name: String,
    pub applicant_email: String,
    pub applicant_rfc: Option<String>,
    pub applicant_phone: Option<String>,
    pub scope: PermitScope,
    pub lines: Vec<RequestLine>,
    pub fee: Option<Centavos>,
    pub account_id: Option<i64>,
    pub filed_on: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub reason: Option<String>,
    /// The alcohol licence it renews or changes, if any; for a new
    /// licence, once paid, the licence it registered (with the year of
    /// issue as its renewal's year).
    pub licence: Option<LicenceLink>,
    /// A request for a new alcohol licence: the giro of the licence it
    /// registers once paid (its tariff's giro).
    pub new_licence_giro: Option<String>,
}

impl PermitRequest {
    /// Whether it asks for a new alcohol licence (its expedition).
    pub fn is_new_licence(&self) -> bool {
        self.new_licence_giro.is_some()
    }
}

/// A request's link to the alcohol licence it renews or changes (or, for
/// a new licence, registered).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LicenceLink {
    pub licence_id: i64,
    /// The fiscal year a renewal (refrendo) renews, or the year a new
    /// licence was issued in (which counts as that year's renewal); none
    /// for the other requests of a licence (change of address, extra
    /// hours).
    pub year: Option<i32>,
    /// What the licence becomes once the permit is issued.
    pub change: Option<LicenceChange>,
}

/// One step of a request's timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestEvent {
    pub at: DateTime<Utc>,
    pub on_day: NaiveDate,
    /// `submit` or a [`RequestAction`].
    pub action: String,
    pub from: Option<RequestStatus>,
    pub to: RequestStatus,
    /// `applicant`, `system` or `staff:<username>`.
    pub actor: String,
    pub comment: Option<String>,
}

/// A document's record (without its bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PermitDocument {
    pub id: i64,
    pub request_id: i64,
    pub doc_code: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
    pub review_comment: Option<String>,
    /// A later upload of the same document replaced it.
    pub replaced: bool,
}

/// A permit as issued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permit {
    pub id: i64,
    pub folio: Folio,
    pub request_id: i64,
    pub issued_at: DateTime<Utc>,
    pub issued_on: NaiveDate,
    pub scope: PermitScope,
    pub cancelled: Option<String>,
    pub key_id: Option<String>,
    pub signature: Option<String>,
    pub redeemed_at: Option<DateTime<Utc>>,
    pub redeemed_by: Option<String>,
}

/// What a new request carries.
#[derive(Clone, Debug)]
pub struct NewPermitRequest {
    pub procedure: String,
    pub renewal: bool,
    pub applicant_name: String,
    pub applicant_email: String,
    pub applicant_rfc: Option<String>,
    pub applicant_phone: Option<String>,
    pub scope: PermitScope,
    pub lines: Vec<RequestLine>,
    /// The total, when every line has its fee (no range tariff).
    pub fee: Option<Centavos>,
    /// The alcohol licence it renews or changes (requests of a licence's
    /// page; see `crate::store::licences`).
    pub licence: Option<LicenceLink>,
    /// A new alcohol licence's request: the giro it registers once paid.
    pub new_licence_giro: Option<String>,
}

/// An uploaded file, already checked by content.
#[derive(Clone, Debug)]
pub struct NewDocument {
    pub doc_code: String,
    pub file_name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// A fee made payable at approval: the concept it is collected under and
/// its line (with `fee` set).
#[derive(Clone, Debug)]
pub struct ApprovedLine {
    pub concept: String,
    pub line: RequestLine,
}

/// Why a request could not move (nothing was written).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PermitRefusal {
    #[error("no such request")]
    NotFound,
    #[error(transparent)]
    Transition(#[from] RequestTransitionError),
    #[error("the request moved to {0} meanwhile")]
    Moved(RequestStatus),
    #[error("a fee has no amount yet")]
    FeeMissing,
    #[error("a document code is not in the request's checklist")]
    UnknownDocument,
    #[error("a payment of its fees is under way")]
    BeingPaid,
}

impl PermitRefusal {
    pub fn message_es(&self) -> String {
        match self {
            PermitRefusal::NotFound => "No encontramos esa solicitud.".into(),
            PermitRefusal::Transition(e) => e.message_es(),
            PermitRefusal::Moved(s) => format!(
                "Mientras tanto la solicitud pasó a «{}». Revise la página actualizada antes de continuar.",
                s.label_es()
            ),
            PermitRefusal::FeeMissing => "Falta fijar el importe de una tarifa con rango antes de aprobar.".into(),
            PermitRefusal::UnknownDocument => "Ese documento no está en la lista de requisitos del trámite.".into(),
            PermitRefusal::BeingPaid => {
                "Hay un pago en proceso de esta solicitud (por ejemplo, una ficha OXXO vigente): espere a que venza \
                 o se acredite antes de cancelarla."
                    .into()
            }
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            PermitRefusal::NotFound => 404,
            PermitRefusal::Transition(RequestTransitionError::WrongActor { .. }) => 403,
            PermitRefusal::Transition(RequestTransitionError::CommentRequired(_))
            | PermitRefusal::FeeMissing
            | PermitRefusal::UnknownDocument => 422,
            _ => 409,
        }
    }
}

macro_rules! request_select {
    () => {
        "SELECT id, token, number, procedure, kind, status, applicant_name, applicant_email, applicant_rfc, \
         applicant_phone, scope, lines, fee_centavos, account_id, {date_text:filed_on} AS filed_on, \
         {ts_text:created_at} AS created_at, {ts_text:updated_at} AS updated_at, reason, licence_id, licence_year, \
         licence_change, new_licence_giro FROM permit_requests"
    };
}

static INSERT_REQUEST: Stmt = Stmt::new(
    "INSERT INTO permit_requests (token, number, procedure, kind, status, applicant_name, applicant_email, \
     applicant_rfc, applicant_phone, scope, lines, fee_centavos, filed_on, created_at, updated_at, licence_id, \
     licence_year, licence_change, new_licence_giro) \
     VALUES ($1, $2, $3, $4, 'submitted', $5, $6, $7, $8, $9, $10, $11, {date:$12}, {ts:$13}, {ts:$13}, $14, $15, $16, \
     $17) RETURNING id",
);
pub(crate) static REQUEST_BY_ID: Stmt = Stmt::new(concat!(request_select!(), " WHERE id = $1"));
/// The requests of an alcohol licence, newest first.
pub(crate) static REQUESTS_OF_LICENCE: Stmt =
    Stmt::new(concat!(request_select!(), " WHERE licence_id = $1 ORDER BY id DESC LIMIT $2"));
/// The renewals awaiting payment whose account is one of these.
pub(crate) static RENEWALS_TO_PAY_OF_ACCOUNTS: Stmt = Stmt::new(concat!(
    request_select!(),
    " WHERE status = 'approved' AND licence_year IS NOT NULL AND account_id IN {ids:$1} ORDER BY id"
));
static REQUEST_BY_TOKEN: Stmt = Stmt::new(concat!(request_select!(), " WHERE token = $1"));
static REQUESTS_BY_STATUS: Stmt =
    Stmt::new(concat!(request_select!(), " WHERE status IN {texts:$1} ORDER BY id LIMIT $2"));
static REQUESTS_OF_ACCOUNTS_TO_PAY: Stmt = Stmt::new(concat!(
    request_select!(),
    " WHERE status = 'approved' AND account_id IN \
     (SELECT c.account_id FROM charges c JOIN payment_order_items i ON i.charge_id = c.id WHERE i.order_id = $1) \
     ORDER BY id {for_update}"
));
static LOCK_REQUEST: Stmt = Stmt::new("SELECT status FROM permit_requests WHERE id = $1 {for_update}");
static SET_REQUEST_STATUS: Stmt = Stmt::new(
    "UPDATE permit_requests SET status = $2, reason = COALESCE($3, reason), updated_at = {ts:$4} WHERE id = $1",
);
/// A paid new licence's request names the licence it registered, with the
/// year of issue, and its scope carries the licence's number.
static SET_REQUEST_LICENCE: Stmt =
    Stmt::new("UPDATE permit_requests SET licence_id = $2, licence_year = $3, scope = $4 WHERE id = $1");
static SET_REQUEST_APPROVED: Stmt = Stmt::new(
    "UPDATE permit_requests SET status = 'approved', lines = $2, fee_centavos = $3, account_id = $4, \
     updated_at = {ts:$5}, scope = $6 WHERE id = $1",
);
static INSERT_EVENT: Stmt = Stmt::new(
    "INSERT INTO permit_request_events (request_id, at, on_day, action, from_status, to_status, actor, comment) \
     VALUES ($1, {ts:$2}, {date:$3}, $4, $5, $6, $7, $8)",
);
static EVENTS_OF_REQUEST: Stmt = Stmt::new(
    "SELECT {ts_text:at} AS at, {date_text:on_day} AS on_day, action, from_status, to_status, actor, comment \
     FROM permit_request_events WHERE request_id = $1 ORDER BY id",
);
static INSERT_DOCUMENT: Stmt = Stmt::new(
    "INSERT INTO permit_documents (request_id, doc_code, file_name, content_type, size_bytes, sha256, bytes, \
     uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, {ts:$8})",
);
static REPLACE_DOCUMENTS: Stmt =
    Stmt::new("UPDATE permit_documents SET replaced = 1 WHERE request_id = $1 AND doc_code = $2 AND replaced = 0");
static COMMENT_DOCUMENT: Stmt =
    Stmt::new("UPDATE permit_documents SET review_comment = $3 WHERE request_id = $1 AND id = $2 AND replaced = 0");
macro_rules! document_select {
    () => {
        "SELECT id, request_id, doc_code, file_name, content_type, size_bytes, sha256, \
         {ts_text:uploaded_at} AS uploaded_at, review_comment, replaced FROM permit_documents"
    };
}
static DOCUMENTS_OF_REQUEST: Stmt = Stmt::new(concat!(document_select!(), " WHERE request_id = $1 ORDER BY id"));
static DOCUMENT_BYTES: Stmt = Stmt::new("SELECT bytes FROM permit_documents WHERE request_id = $1 AND id = $2");
static DOCUMENT_BY_ID: Stmt = Stmt::new(concat!(document_select!(), " WHERE request_id = $1 AND id = $2"));
static TAXPAYER_BY_RFC: Stmt = Stmt::new("SELECT id FROM taxpayers WHERE rfc = $1");
static INSERT_TAXPAYER: Stmt =
    Stmt::new("INSERT INTO taxpayers (id, person_kind, rfc, name) {override} VALUES ($1, $2, $3, $4)");
static INSERT_ACCOUNT: Stmt =
    Stmt::new("INSERT INTO accounts (id, number, kind, taxpayer_id) {override} VALUES ($1, $2, $3, $4)");
static INSERT_CHARGE: Stmt = Stmt::new(
    "INSERT INTO charges (account_id, concept, period, due_date, principal_centavos) \
     VALUES ($1, $2, $3, {date:$4}, $5)",
);
static OPEN_CHARGE_IDS: Stmt =
    Stmt::new("SELECT id FROM charges WHERE account_id = $1 AND status = 'open' ORDER BY id");
static OPEN_CHARGES_OF_ACCOUNT: Stmt =
    Stmt::new("SELECT count(*) FROM charges WHERE account_id = $1 AND status <> 'paid'");
static NEXT_NUMBER: Stmt = Stmt::new(
    "INSERT INTO folio_counters (series, fiscal_year, last_number) VALUES ($1, $2, 1) \
     ON CONFLICT (series, fiscal_year) DO UPDATE SET last_number = folio_counters.last_number + 1 \
     RETURNING last_number",
);
macro_rules! permit_select {
    () => {
        "SELECT id, folio, request_id, {ts_text:issued_at} AS issued_at, {date_text:issued_on} AS issued_on, scope, \
         status, cancel_reason, key_id, signature, {ts_text:redeemed_at} AS redeemed_at, redeemed_by FROM permits"
    };
}
static INSERT_PERMIT: Stmt = Stmt::new(
    "INSERT INTO permits (folio, series, fiscal_year, number, request_id, issued_at, issued_on, scope, key_id, \
     signature) VALUES ($1, $2, $3, $4, $5, {ts:$6}, {date:$7}, $8, $9, $10)",
);
static PERMIT_OF_REQUEST: Stmt = Stmt::new(concat!(permit_select!(), " WHERE request_id = $1"));
static PERMIT_BY_FOLIO: Stmt = Stmt::new(concat!(permit_select!(), " WHERE folio = $1"));
/// Approved requests whose fees fell due unpaid, with no order paying them
/// right now; and requests that waited for corrections since before `$2`.
static REQUESTS_TO_EXPIRE: Stmt = Stmt::new(
    "SELECT r.id, r.status FROM permit_requests r \
     WHERE (r.status = 'approved' \
            AND EXISTS (SELECT 1 FROM charges c WHERE c.account_id = r.account_id AND c.status = 'open' \
                        AND c.due_date < {date:$1}) \
            AND NOT EXISTS (SELECT 1 FROM live_order_charges l JOIN charges c ON c.id = l.charge_id \
                            WHERE c.account_id = r.account_id)) \
        OR (r.status = 'needs_correction' AND r.updated_at < {ts:$2}) \
     ORDER BY r.id {skip_locked}",
);
static REQUEST_ACCOUNT_IN_LIVE_ORDER: Stmt = Stmt::new(
    "SELECT count(*) FROM live_order_charges l JOIN charges c ON c.id = l.charge_id \
     JOIN permit_requests r ON r.account_id = c.account_id WHERE r.id = $1",
);
static CANCEL_OPEN_CHARGES: Stmt = Stmt::new(
    "UPDATE charges SET status = 'cancelled', updated_at = {ts:$2} WHERE account_id = $1 AND status = 'open'",
);
static REDEEM_PERMIT: Stmt = Stmt::new(
    "UPDATE permits SET redeemed_at = {ts:$2}, redeemed_by = $3 \
     WHERE folio = $1 AND status = 'valid' AND redeemed_at IS NULL",
);

#[derive(sqlx::FromRow)]
pub(crate) struct RequestRow {
    id: i64,
    token: String,
    number: String,
    procedure: String,
    kind: String,
    status: String,
    applicant_name: String,
    applicant_email: String,
    applicant_rfc: Option<String>,
    applicant_phone: Option<String>,
    scope: String,
    lines: String,
    fee_centavos: Option<i64>,
    account_id: Option<i64>,
    filed_on: DbDate,
    created_at: DbTime,
    updated_at: DbTime,
    reason: Option<String>,
    licence_id: Option<i64>,
    licence_year: Option<i64>,
    licence_change: Option<String>,
    new_licence_giro: Option<String>,
}

impl TryFrom<RequestRow> for PermitRequest {
    type Error = StoreError;

    fn try_from(r: RequestRow) -> Result<PermitRequest, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("permit request {}: {what}", r.id));
        let licence = match r.licence_id {
            Some(licence_id) => Some(LicenceLink {
                licence_id,
                year: r.licence_year.map(i32::try_from).transpose().map_err(|_| corrupt("licence year"))?,
                change: r
                    .licence_change
                    .as_deref()
                    .map(serde_json::from_str)
                    .transpose()
                    .map_err(|_| corrupt("licence change"))?,
            }),
            None => None,
        };
        Ok(PermitRequest {
            id: r.id,
            licence,
            status: RequestStatus::parse(&r.status).ok_or_else(|| corrupt("status"))?,
            scope: serde_json::from_str(&r.scope).map_err(|_| corrupt("scope"))?,
            lines: serde_json::from_str(&r.lines).map_err(|_| corrupt("lines"))?,
            renewal: r.kind == "renewal",
            token: r.token,
            number: r.number,
            procedure: r.procedure,
            applicant_name: r.applicant_name,
            applicant_email: r.applicant_email,
            applicant_rfc: r.applicant_rfc,
            applicant_phone: r.applicant_phone,
            fee: r.fee_centavos.map(Centavos),
            account_id: r.account_id,
            filed_on: r.filed_on.0,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
            reason: r.reason,
            new_licence_giro: r.new_licence_giro,
        })
    }
}

#[derive(sqlx::FromRow)]
struct EventRow {
    at: DbTime,
    on_day: DbDate,
    action: String,
    from_status: Option<String>,
    to_status: String,
    actor: String,
    comment: Option<String>,
}

#[derive(sqlx::FromRow)]
struct DocumentRow {
    id: i64,
    request_id: i64,
    doc_code: String,
    file_name: String,
    content_type: String,
    size_bytes: i64,
    sha256: String,
    uploaded_at: DbTime,
    review_comment: Option<String>,
    replaced: i64,
}

impl From<DocumentRow> for PermitDocument {
    fn from(r: DocumentRow) -> PermitDocument {
        PermitDocument {
            id: r.id,
            request_id: r.request_id,
            doc_code: r.doc_code,
            file_name: r.file_name,
            content_type: r.content_type,
            size_bytes: r.size_bytes,
            sha256: r.sha256,
            uploaded_at: r.uploaded_at.0,
            review_comment: r.review_comment,
            replaced: r.replaced != 0,
        }
    }
}

#[derive(sqlx::FromRow)]
struct PermitRow {
    id: i64,
    folio: String,
    request_id: i64,
    issued_at: DbTime,
    issued_on: DbDate,
    scope: String,
    status: String,
    cancel_reason: Option<String>,
    key_id: Option<String>,
    signature: Option<String>,
    redeemed_at: Option<DbTime>,
    redeemed_by: Option<String>,
}

impl TryFrom<PermitRow> for Permit {
    type Error = StoreError;

    fn try_from(r: PermitRow) -> Result<Permit, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("permit {}: {what}", r.id));
        Ok(Permit {
            id: r.id,
            folio: Folio::parse(&r.folio).map_err(|_| corrupt("folio"))?,
            request_id: r.request_id,
            issued_at: r.issued_at.0,
            issued_on: r.issued_on.0,
            scope: serde_json::from_str(&r.scope).map_err(|_| corrupt("scope"))?,
            cancelled: (r.status == "cancelled").then(|| r.cancel_reason.unwrap_or_default()),
            key_id: r.key_id,
            signature: r.signature,
            redeemed_at: r.redeemed_at.map(|t| t.0),
            redeemed_by: r.redeemed_by,
        })
    }
}

/// The permits' one-statement primitives.
impl<C: DerefMut<Target = AnyConnection> + Send> Conn<C> {
    pub(crate) async fn requests_where(
        &mut self,
        stmt: &'static Stmt,
        bind: impl FnOnce(
            sqlx::query::QueryAs<'static, sqlx::Any, RequestRow, sqlx::any::AnyArguments<'static>>,
        ) -> sqlx::query::QueryAs<'static, sqlx::Any, RequestRow, sqlx::any::AnyArguments<'static>>,
    ) -> Result<Vec<PermitRequest>, StoreError> {
        let rows = bind(sqlx::query_as(self.sql(stmt)))
            .fetch_all(self.c())
            .await
            .map_err(query_err("read permit requests"))?;
        rows.into_iter().map(PermitRequest::try_from).collect()
    }

    /// The next number of a series and year (the folio counters).
    pub(crate) async fn next_number(&mut self, series: &str, year: i32) -> Result<i64, StoreError> {
        sqlx::query_scalar(self.sql(&NEXT_NUMBER))
            .bind(series)
            .bind(year)
            .fetch_one(self.c())
            .await
            .map_err(query_err("take the next number of a series"))
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_request_event(
        &mut self,
        request_id: i64,
        at: &str,
        on_day: NaiveDate,
        action: &str,
        from: Option<RequestStatus>,
        to: RequestStatus,
        actor: &str,
        comment: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(self.sql(&INSERT_EVENT))
            .bind(request_id)
            .bind(at)
            .bind(date_to_db(on_day))
            .bind(action)
            .bind(from.map(RequestStatus::as_str))
            .bind(to.as_str())
            .bind(actor)
            .bind(comment)
            .execute(self.c())
            .await
            .map_err(query_err("record a step of a permit request"))?;
        Ok(())
    }

    async fn insert_documents(&mut self, request_id: i64, docs: &[NewDocument], at: &str) -> Result<(), StoreError> {
        for d in docs {
            sqlx::query(self.sql(&REPLACE_DOCUMENTS))
                .bind(request_id)
                .bind(&d.doc_code)
                .execute(self.c())
                .await
                .map_err(query_err("mark a document replaced"))?;
            let sha256: String = Sha256::digest(&d.bytes).iter().map(|b| format!("{b:02x}")).collect();
            sqlx::query(self.sql(&INSERT_DOCUMENT))
                .bind(request_id)
                .bind(&d.doc_code)
                .bind(&d.file_name)
                .bind(d.content_type)
                .bind(d.bytes.len() as i64)
                .bind(sha256)
                .bind(d.bytes.clone())
                .bind(at)
                .execute(self.c())
                .await
                .map_err(query_err("store a document of a permit request"))?;
        }
        Ok(())
    }

    pub(crate) async fn lock_request(&mut self, id: i64) -> Result<Option<RequestStatus>, StoreError> {
        let status: Option<String> = sqlx::query_scalar(self.sql(&LOCK_REQUEST))
            .bind(id)
            .fetch_optional(self.c())
            .await
            .map_err(query_err("lock a permit request"))?;
        status
            .map(|s| {
                RequestStatus::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("permit request {id}: status")))
            })
            .transpose()
    }

    async fn set_request_status(
        &mut self,
        id: i64,
        to: RequestStatus,
        reason: Option<&str>,
        at: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(self.sql(&SET_REQUEST_STATUS))
            .bind(id)
            .bind(to.as_str())
            .bind(reason)
            .bind(at)
            .execute(self.c())
            .await
            .map_err(query_err("move a permit request"))?;
        Ok(())
    }

    async fn permits_where(&mut self, stmt: &'static Stmt, key: String) -> Result<Option<Permit>, StoreError> {
        let row: Option<PermitRow> = sqlx::query_as(self.sql(stmt))
            .bind(key)
            .fetch_optional(self.c())
            .await
            .map_err(query_err("read a permit"))?;
        row.map(Permit::try_from).transpose()
    }
}

/// The permits' rules that need a write transaction's own primitives
/// (ids taken before insert), shared with the licences' requests.
impl Tx {
    /// Files a request in this transaction: its number (the next of the
    /// SOL series this year), a random token, the `submit` step, the files
    /// and the audit entry. `None` when the database refused it as a second
    /// live renewal of the same licence and year (nothing written that
    /// the caller must keep: it rolls back).
    pub(crate) async fn insert_request(
        &mut self,
        new: &NewPermitRequest,
        docs: &[NewDocument],
        at: &str,
        today: NaiveDate,
    ) -> Result<Option<(i64, String)>, StoreError> {
        let n = self.next_number(REQUEST_SERIES, today.year()).await?;
        let number = Folio::new(REQUEST_SERIES, today.year() as u16, n as u32)
            .map_err(|e| StoreError::Corrupt(format!("request number: {e}")))?
            .to_string();
        let token = crate::tokens::random_token();
        let licence = new.licence.as_ref();
        let inserted = sqlx::query_scalar::<_, i64>(self.sql(&INSERT_REQUEST))
            .bind(&token)
            .bind(&number)
            .bind(&new.procedure)
            .bind(if new.renewal { "renewal" } else { "new" })
            .bind(&new.applicant_name)
            .bind(new.applicant_email.to_lowercase())
            .bind(new.applicant_rfc.as_deref())
            .bind(new.applicant_phone.as_deref())
            .bind(json(&new.scope))
            .bind(json(&new.lines))
            .bind(new.fee.map(|f| f.0))
            .bind(date_to_db(today))
            .bind(at)
            .bind(licence.map(|l| l.licence_id))
            .bind(licence.and_then(|l| l.year))
            .bind(licence.and_then(|l| l.change.as_ref()).filter(|c| !c.is_empty()).map(json))
            .bind(new.new_licence_giro.as_deref())
            .fetch_one(self.c())
            .await;
        let id = match inserted {
            Ok(id) => id,
            Err(e) if licence.is_some_and(|l| l.year.is_some()) && is_unique_violation(&e) => return Ok(None),
            Err(e) => return Err(query_err("file a permit request")(e)),
        };
        self.insert_request_event(id, at, today, "submit", None, RequestStatus::Submitted, "applicant", None).await?;
        self.insert_documents(id, docs, at).await?;
        let details = serde_json::json!({
            "request": number, "procedure": new.procedure, "documents": docs.len(),
            "licence_id": licence.map(|l| l.licence_id), "licence_year": licence.and_then(|l| l.year),
        });
        self.audit("applicant", AuditAction::PermitRequested, details, at).await?;
        Ok(Some((id, number)))
    }

    /// Approves `request` (locked by the caller, in `from`) in this
    /// transaction: its fees become charges of its own account, the scope
    /// takes the `conditions`, the `approve` step (by `actor`, with its
    /// comment) and the audit entry are written.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn approve_request(
        &mut self,
        request: &PermitRequest,
        from: RequestStatus,
        actor: &str,
        lines: &[ApprovedLine],
        total: Centavos,
        conditions: &str,
        due_date: NaiveDate,
        comment: Option<&str>,
        at: &str,
        today: NaiveDate,
    ) -> Result<(), StoreError> {
        let id = request.id;
        let taxpayer = match &request.applicant_rfc {
            Some(rfc) => sqlx::query_scalar::<_, i64>(self.sql(&TAXPAYER_BY_RFC))
                .bind(rfc.clone())
                .fetch_optional(self.c())
                .await
                .map_err(query_err("find the applicant's taxpayer"))?,
            None => None,
        };
        let taxpayer = match taxpayer {
            Some(t) => t,
            None => {
                let t = self.allocate_ids(IdTable::Taxpayers, 1).await?[0];
                let kind = match request.applicant_rfc.as_deref().map(str::len) {
                    Some(12) => "moral",
                    Some(_) => "fisica",
                    None => guess_person_kind(&request.applicant_name).as_str(),
                };
                sqlx::query(self.sql(&INSERT_TAXPAYER))
                    .bind(t)
                    .bind(kind)
                    .bind(request.applicant_rfc.as_deref())
                    .bind(&request.applicant_name)
                    .execute(self.c())
                    .await
                    .map_err(query_err("register the applicant as taxpayer"))?;
                t
            }
        };
        let account = self.allocate_ids(IdTable::Accounts, 1).await?[0];
        sqlx::query(self.sql(&INSERT_ACCOUNT))
            .bind(account)
            .bind(&request.number)
            .bind(REQUEST_ACCOUNT_KIND)
            .bind(taxpayer)
            .execute(self.c())
            .await
            .map_err(query_err("open the account of a permit request"))?;
        for l in lines {
            sqlx::query(self.sql(&INSERT_CHARGE))
                .bind(account)
                .bind(&l.concept)
                .bind(&l.line.tariff)
                .bind(date_to_db(due_date))
                .bind(l.line.fee.map_or(0, |f| f.0))
                .execute(self.c())
                .await
                .map_err(query_err("put a permit's fee on its account"))?;
        }
        let stored: Vec<RequestLine> = lines.iter().map(|l| l.line.clone()).collect();
        let mut scope = request.scope.clone();
        scope.conditions = conditions.trim().to_string();
        sqlx::query(self.sql(&SET_REQUEST_APPROVED))
            .bind(id)
            .bind(json(&stored))
            .bind(total.0)
            .bind(account)
            .bind(at)
            .bind(json(&scope))
            .execute(self.c())
            .await
            .map_err(query_err("approve a permit request"))?;
        self.insert_request_event(
            id,
            at,
            today,
            RequestAction::Approve.as_str(),
            Some(from),
            RequestStatus::Approved,
            actor,
            comment,
        )
        .await?;
        let details = serde_json::json!({
            "request_id": id, "request": request.number, "total_centavos": total.0,
            "due_date": date_to_db(due_date),
        });
        self.audit(actor, AuditAction::PermitRequestApproved, details, at).await?;
        Ok(())
    }
}

/// Who acts on a request, as the timeline and the audit trail name them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mover {
    Applicant,
    Staff(String),
    System,
}

impl Mover {
    fn actor(&self) -> RequestActor {
        match self {
            Mover::Applicant => RequestActor::Applicant,
            Mover::Staff(_) => RequestActor::Revisor,
            Mover::System => RequestActor::System,
        }
    }

    fn name(&self) -> String {
        match self {
            Mover::Applicant => "applicant".into(),
            Mover::Staff(user) => format!("staff:{user}"),
            Mover::System => "system".into(),
        }
    }
}

impl Store {
    /// Files a request with its documents, in one transaction: its number
    /// (the next of the SOL series this year), a random token, the
    /// `submit` step, the files and the audit entry.
    #[tracing::instrument(name = "store.file_permit_request", skip_all, fields(procedure = %new.procedure))]
    pub async fn file_permit_request(
        &self,
        new: &NewPermitRequest,
        docs: &[NewDocument],
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<PermitRequest, StoreError> {
        let at = timestamp_to_db(now);
        let mut tx = self.write().await?;
        let Some((id, _)) = tx.insert_request(new, docs, &at, today).await? else {
            return Err(StoreError::Corrupt("a live renewal of the same licence and year".into()));
        };
        tx.commit().await?;
        self.permit_request(id).await?.ok_or_else(|| StoreError::Corrupt(format!("permit request {id} vanished")))
    }

    pub async fn permit_request(&self, id: i64) -> Result<Option<PermitRequest>, StoreError> {
        let mut r = self.read().await?;
        Ok(r.requests_where(&REQUEST_BY_ID, |q| q.bind(id)).await?.pop())
    }

    /// The request its link names (the caller then checks the e-mail or RFC).
    pub async fn permit_request_by_token(&self, token: &str) -> Result<Option<PermitRequest>, StoreError> {
        let token = token.to_string();
        let mut r = self.read().await?;
        Ok(r.requests_where(&REQUEST_BY_TOKEN, |q| q.bind(token)).await?.pop())
    }

    /// Requests in any of `statuses`, oldest first (the review queue).
    pub async fn permit_requests_in(
        &self,
        statuses: &[RequestStatus],
        limit: i64,
    ) -> Result<Vec<PermitRequest>, StoreError> {
        let names: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
        let names = json(&names);
        let mut r = self.read().await?;
        r.requests_where(&REQUESTS_BY_STATUS, |q| q.bind(names).bind(limit)).await
    }

    /// The request's timeline, oldest first.
    pub async fn permit_request_events(&self, request_id: i64) -> Result<Vec<RequestEvent>, StoreError> {
        let mut r = self.read().await?;
        let rows: Vec<EventRow> = sqlx::query_as(r.sql(&EVENTS_OF_REQUEST))
            .bind(request_id)
            .fetch_all(r.c())
            .await
            .map_err(query_err("read the steps of a permit request"))?;
        rows.into_iter()
            .map(|e| {
                let status = |s: &str| {
                    RequestStatus::parse(s)
                        .ok_or_else(|| StoreError::Corrupt(format!("permit request {request_id}: step status {s}")))
                };
                Ok(RequestEvent {
                    at: e.at.0,
                    on_day: e.on_day.0,
                    from: e.from_status.as_deref().map(status).transpose()?,
                    to: status(&e.to_status)?,
                    action: e.action,
                    actor: e.actor,
                    comment: e.comment,
                })
            })
            .collect()
    }

    /// The request's documents (every upload, replaced ones too), oldest first.
    pub async fn permit_documents(&self, request_id: i64) -> Result<Vec<PermitDocument>, StoreError> {
        let mut r = self.read().await?;
        let rows: Vec<DocumentRow> = sqlx::query_as(r.sql(&DOCUMENTS_OF_REQUEST))
            .bind(request_id)
            .fetch_all(r.c())
            .await
            .map_err(query_err("read the documents of a permit request"))?;
        Ok(rows.into_iter().map(PermitDocument::from).collect())
    }

    /// A document of request `request_id` and its bytes.
    pub async fn permit_document_file(
        &self,
        request_id: i64,
        document_id: i64,
    ) -> Result<Option<(PermitDocument, Vec<u8>)>, StoreError> {
        let mut r = self.read().await?;
        let row: Option<DocumentRow> = sqlx::query_as(r.sql(&DOCUMENT_BY_ID))
            .bind(request_id)
            .bind(document_id)
            .fetch_optional(r.c())
            .await
            .map_err(query_err("read a document of a permit request"))?;
        let Some(row) = row else { return Ok(None) };
        let bytes: Vec<u8> = sqlx::query_scalar(r.sql(&DOCUMENT_BYTES))
            .bind(request_id)
            .bind(document_id)
            .fetch_one(r.c())
            .await
            .map_err(query_err("read the bytes of a document"))?;
        Ok(Some((row.into(), bytes)))
    }

    /// Moves a request by `action` (not approval: [`Store::approve_permit_request`]),
    /// if it is still in `expected` and the state machine allows it for
    /// `mover`. Asking for corrections stores each document's comment;
    /// resubmitting stores the corrected files (replacing the earlier
    /// uploads of the same documents).
    #[allow(clippy::too_many_arguments)]
    #[tracing::instrument(name = "store.move_permit_request", skip_all, fields(id, action = %action))]
    pub async fn move_permit_request(
        &self,
        id: i64,
        expected: RequestStatus,
        action: RequestAction,
        mover: &Mover,
        comment: &str,
        document_comments: &[(i64, String)],
        docs: &[NewDocument],
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<Result<PermitRequest, PermitRefusal>, StoreError> {
        let at = timestamp_to_db(now);
        let mut tx = self.write().await?;
        let Some(current) = tx.lock_request(id).await? else { return Ok(Err(PermitRefusal::NotFound)) };
        if current != expected {
            return Ok(Err(PermitRefusal::Moved(current)));
        }
        let to = match next_status(current, action, mover.actor(), comment) {
            Ok(to) => to,
            Err(e) => return Ok(Err(e.into())),
        };
        // An approved request withdrawn: its fees are no longer owed (they
        // are cancelled), unless a payment of them is under way right now.
        let approved_account = match current {
            RequestStatus::Approved => {
                tx.requests_where(&REQUEST_BY_ID, |q| q.bind(id)).await?.pop().and_then(|r| r.account_id)
            }
            _ => None,
        };
        if let Some(account) = approved_account {
            let paying: i64 = sqlx::query_scalar(tx.sql(&REQUEST_ACCOUNT_IN_LIVE_ORDER))
                .bind(id)
                .fetch_one(tx.c())
                .await
                .map_err(query_err("check whether a permit request is being paid"))?;
            if paying > 0 {
                return Ok(Err(PermitRefusal::BeingPaid));
            }
            sqlx::query(tx.sql(&CANCEL_OPEN_CHARGES))
                .bind(account)
                .bind(&at)
                .execute(tx.c())
                .await
                .map_err(query_err("cancel the fees of a withdrawn permit request"))?;
        }
        let comment = Some(comment.trim()).filter(|c| !c.is_empty());
        let reason = comment.filter(|_| action == RequestAction::Reject);
        tx.set_request_status(id, to, reason, &at).await?;
        tx.insert_request_event(id, &at, today, action.as_str(), Some(current), to, &mover.name(), comment).await?;
        for (doc_id, text) in document_comments.iter().filter(|(_, t)| !t.trim().is_empty()) {
            sqlx::query(tx.sql(&COMMENT_DOCUMENT))
                .bind(id)
                .bind(doc_id)
                .bind(text.trim())
                .execute(tx.c())
                .await
                .map_err(query_err("comment a document"))?;
        }
        tx.insert_documents(id, docs, &at).await?;
        let details = serde_json::json!({
            "request_id": id, "action": action.as_str(), "from": current.as_str(), "to": to.as_str(),
            "documents": docs.len(),
        });
        tx.audit(&mover.name(), AuditAction::PermitRequestMoved, details, &at).await?;
        tx.commit().await?;
        let request = self.permit_request(id).await?.ok_or(StoreError::Corrupt(format!("permit request {id}")))?;
        Ok(Ok(request))
    }

    /// Approves a request still in `expected`, with the revisor's
    /// `conditions` written into its scope: its fees (each with its
    /// amount) become charges of the request's own account (numbered as the
    /// request, under the applicant as taxpayer — the one with the same RFC
    /// when there is one), due on `due_date`, payable through the same
    /// orders and receipts as any other debt.
    #[allow(clippy::too_many_arguments)]
    #[tracing::instrument(name = "store.approve_permit_request", skip_all, fields(id))]
    pub async fn approve_permit_request(
        &self,
        id: i64,
        expected: RequestStatus,
        revisor: &str,
        lines: &[ApprovedLine],
        conditions: &str,
        due_date: NaiveDate,
        comment: &str,
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<Result<PermitRequest, PermitRefusal>, StoreError> {
        let at = timestamp_to_db(now);
        let mover = Mover::Staff(revisor.to_string());
        let Some(fees) = lines.iter().map(|l| l.line.fee).collect::<Option<Vec<Centavos>>>() else {
            return Ok(Err(PermitRefusal::FeeMissing));
        };
        let total = fees.iter().try_fold(Centavos::ZERO, |a, f| a.checked_add(*f)).ok_or(PermitRefusal::FeeMissing);
        let total = match total {
            Ok(t) => t,
            Err(e) => return Ok(Err(e)),
        };
        let mut tx = self.write().await?;
        let Some(current) = tx.lock_request(id).await? else { return Ok(Err(PermitRefusal::NotFound)) };
        if current != expected {
            return Ok(Err(PermitRefusal::Moved(current)));
        }
        let to = match next_status(current, RequestAction::Approve, mover.actor(), comment) {
            Ok(to) => to,
            Err(e) => return Ok(Err(e.into())),
        };
        debug_assert_eq!(to, RequestStatus::Approved);
        let request = tx
            .requests_where(&REQUEST_BY_ID, |q| q.bind(id))
            .await?
            .pop()
            .ok_or_else(|| StoreError::Corrupt(format!("permit request {id}")))?;
        let comment = Some(comment.trim()).filter(|c| !c.is_empty());
        tx.approve_request(&request, current, &mover.name(), lines, total, conditions, due_date, comment, &at, today)
            .await?;
        tx.commit().await?;
        let request = self.permit_request(id).await?.ok_or(StoreError::Corrupt(format!("permit request {id}")))?;
        Ok(Ok(request))
    }

    /// The open charges of an approved request (what its payment button
    /// puts on an order).
    pub async fn permit_request_open_charges(&self, request: &PermitRequest) -> Result<Vec<i64>, StoreError> {
        let Some(account) = request.account_id else { return Ok(vec![]) };
        let mut r = self.read().await?;
        sqlx::query_scalar(r.sql(&OPEN_CHARGE_IDS))
            .bind(account)
            .fetch_all(r.c())
            .await
            .map_err(query_err("read the open charges of a permit request"))
    }

    /// Expires what time alone decides (the background job): approved
    /// requests whose fees fell due unpaid (their charges are cancelled, so
    /// they no longer show as debts) and requests that waited for
    /// corrections more than [`CORRECTION_DAYS`]. A request being paid right
    /// now (its charges in a live order) is left alone. On PostgreSQL the
    /// rows are taken `SKIP LOCKED`, so several servers expire each once.
    #[tracing::instrument(name = "store.expire_permit_requests", skip_all)]
    pub async fn expire_permit_requests(&self, now: DateTime<Utc>, today: NaiveDate) -> Result<u64, StoreError> {
        let at = timestamp_to_db(now);
        let waited_since = timestamp_to_db(now - chrono::Duration::days(CORRECTION_DAYS));
        let mut tx = self.write().await?;
        let due: Vec<(i64, String)> = sqlx::query_as(tx.sql(&REQUESTS_TO_EXPIRE))
            .bind(date_to_db(today))
            .bind(&waited_since)
            .fetch_all(tx.c())
            .await
            .map_err(query_err("find permit requests to expire"))?;
        for (id, status) in &due {
            let from =
                RequestStatus::parse(status).ok_or_else(|| StoreError::Corrupt(format!("permit request {id}")))?;
            let (comment, account) = if from == RequestStatus::Approved {
                let account: Option<i64> =
                    tx.requests_where(&REQUEST_BY_ID, |q| q.bind(*id)).await?.pop().and_then(|r| r.account_id);
                ("No se pagó antes de la fecha límite.", account)
            } else {
                ("No se enviaron las correcciones a tiempo.", None)
            };
            if let Some(account) = account {
                sqlx::query(tx.sql(&CANCEL_OPEN_CHARGES))
                    .bind(account)
                    .bind(&at)
                    .execute(tx.c())
                    .await
                    .map_err(query_err("cancel the fees of an expired permit request"))?;
            }
            tx.set_request_status(*id, RequestStatus::Expired, None, &at).await?;
            tx.insert_request_event(
                *id,
                &at,
                today,
                "expire",
                Some(from),
                RequestStatus::Expired,
                "system",
                Some(comment),
            )
            .await?;
            let details = serde_json::json!({ "request_id": id, "from": from.as_str() });
            tx.audit("system", AuditAction::PermitRequestMoved, details, &at).await?;
        }
        tx.commit().await?;
        Ok(due.len() as u64)
    }

    /// The permit issued for a request.
    pub async fn permit_of_request(&self, request_id: i64) -> Result<Option<Permit>, StoreError> {
        let mut r = self.read().await?;
        sqlx::query_as::<_, PermitRow>(r.sql(&PERMIT_OF_REQUEST))
            .bind(request_id)
            .fetch_optional(r.c())
            .await
            .map_err(query_err("read the permit of a request"))?
            .map(Permit::try_from)
            .transpose()
    }

    pub async fn permit_by_folio(&self, folio: &Folio) -> Result<Option<Permit>, StoreError> {
        let mut r = self.read().await?;
        r.permits_where(&PERMIT_BY_FOLIO, folio.to_string()).await
    }

    /// Hands over a valid permit, once: `false` when it was already
    /// redeemed, is cancelled or does not exist.
    pub async fn redeem_permit(
        &self,
        folio: &Folio,
        actor: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let at = timestamp_to_db(now);
        let mut tx = self.write().await?;
        let done = sqlx::query(tx.sql(&REDEEM_PERMIT))
            .bind(folio.to_string())
            .bind(&at)
            .bind(by)
            .execute(tx.c())
            .await
            .map_err(query_err("redeem a permit"))?
            .rows_affected()
            == 1;
        if done {
            let details = serde_json::json!({ "folio": folio.to_string(), "by": by });
            tx.audit(actor, AuditAction::PermitRedeemed, details, &at).await?;
            tx.commit().await?;
        }
        Ok(done)
    }
}

/// Inside the transaction that applies order `order_id`'s payment (right
/// after its receipt): every approved request whose account the order paid
/// and which owes nothing more moves to `paid`, and its permit is issued —
/// the next folio of the PER series, its scope signed — and the request to
/// `issued`. Exactly once: the payment's transaction is applied once. A
/// payment of the demonstration provider issues a demonstration permit
/// (series PDEM), worthless like its receipt.
///
/// The registry follows, for real payments only: a new licence's request
/// registers its licence (see [`super::licences::register_new_licence`]),
/// names it, and its permit's signed scope carries the licence's number;
/// a licence's other requests apply their change.
pub(crate) async fn issue_permits_paid_by(
    tx: &mut Tx,
    order_id: i64,
    demo: bool,
    now: &str,
    today: NaiveDate,
    keys: &ReceiptKeys,
) -> Result<(), StoreError> {
    let requests = tx.requests_where(&REQUESTS_OF_ACCOUNTS_TO_PAY, |q| q.bind(order_id)).await?;
    for request in requests {
        let Some(account) = request.account_id else { continue };
        let owed: i64 = sqlx::query_scalar(tx.sql(&OPEN_CHARGES_OF_ACCOUNT))
            .bind(account)
            .fetch_one(tx.c())
            .await
            .map_err(query_err("check what a permit request still owes"))?;
        if owed > 0 {
            continue;
        }
        let id = request.id;
        tx.set_request_status(id, RequestStatus::Paid, None, now).await?;
        tx.insert_request_event(
            id,
            now,
            today,
            "pay",
            Some(RequestStatus::Approved),
            RequestStatus::Paid,
            "system",
            None,
        )
        .await?;
        let year = today.year();
        let mut scope = request.scope.clone();
        // A new licence enters the registry before its permit is signed, so
        // the permit names it. A demonstration payment registers nothing.
        let registered = match request.new_licence_giro.as_deref() {
            Some(giro) if !demo && request.licence.is_none() => {
                Some(super::licences::register_new_licence(tx, &request, giro, year, now).await?)
            }
            _ => None,
        };
        if let Some(Ok(licence)) = &registered {
            scope.licence = Some(licence.number.clone());
            sqlx::query(tx.sql(&SET_REQUEST_LICENCE))
                .bind(id)
                .bind(licence.id)
                .bind(year)
                .bind(json(&scope))
                .execute(tx.c())
                .await
                .map_err(query_err("name the licence a permit request registered"))?;
        }
        let series = if demo { DEMO_PERMIT_SERIES } else { PERMIT_SERIES };
        let number = tx.next_number(series, year).await?;
        let folio = Folio::new(series, year as u16, number as u32)
            .map_err(|e| StoreError::Corrupt(format!("permit folio: {e}")))?;
        let text = scope.signed_text(&folio.to_string());
        let (kid, token) = keys.sign_text(today, &text);
        sqlx::query(tx.sql(&INSERT_PERMIT))
            .bind(folio.to_string())
            .bind(series)
            .bind(year)
            .bind(number)
            .bind(id)
            .bind(now)
            .bind(date_to_db(today))
            .bind(json(&scope))
            .bind(kid)
            .bind(token)
            .execute(tx.c())
            .await
            .map_err(query_err("issue a permit"))?;
        tx.set_request_status(id, RequestStatus::Issued, None, now).await?;
        let comment = match &registered {
            None => format!("Folio {folio}"),
            Some(Ok(licence)) => {
                format!("Folio {folio}. Licencia {} inscrita en el padrón de licencias.", licence.number)
            }
            Some(Err(why)) => format!("Folio {folio}. {why}"),
        };
        tx.insert_request_event(
            id,
            now,
            today,
            "issue",
            Some(RequestStatus::Paid),
            RequestStatus::Issued,
            "system",
            Some(&comment),
        )
        .await?;
        let mut details =
            serde_json::json!({ "folio": folio.to_string(), "request": request.number, "order_id": order_id });
        if let Some(licence) = &scope.licence {
            details["licence"] = serde_json::json!(licence);
        }
        tx.audit("system", AuditAction::PermitIssued, details, now).await?;
        // A demonstration payment moves no money: the registry keeps the
        // licence as it was.
        if let Some(LicenceLink { licence_id, change: Some(change), .. }) = request.licence.as_ref().filter(|_| !demo) {
            super::licences::apply_change(tx, *licence_id, change, &request.number, now).await?;
        }
    }
    Ok(())
}
