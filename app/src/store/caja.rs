//! The caja: till sessions (opened with a float, closed by a blind corte),
//! payments taken at the window (the same orders, the same signed
//! receipts, each till's own folio series), bounced cheques, and receipt
//! cancellations that need a second person.
//!
//! Every rule is one transaction that also appends its audit entry; a
//! refusal ([`CajaRefusal`]) writes nothing.

use std::ops::DerefMut;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::AnyConnection;

use super::audit::AuditAction;
use super::dialect::Stmt;
use super::receipts::{annul_payment, PaidBy};
use super::records::{timestamp_to_db, DbTime};
use super::{is_unique_violation, query_err, Conn, Store, StoreError};
use crate::domain::caja::{
    cancellation_text, change_due, ByMethod, CancelReason, CashCount, Corte, TenderError, TillCount, TillStatus,
    WindowTender,
};
use crate::domain::folio::Folio;
use crate::domain::money::Centavos;
use crate::domain::payment::{transition, Method, OrderStatus, PaymentEvent, PaymentEventKind, Provider, CURRENCY_MXN};
use crate::receipt_keys::ReceiptKeys;

/// Why a caja action was refused (nothing was written).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CajaRefusal {
    #[error("unknown till {0}")]
    UnknownTill(String),
    #[error("till {0} is in use or its corte is not closed")]
    TillBusy(String),
    #[error("the cajero already has an open till")]
    CashierHasOpenTill,
    #[error("the cajero has no open till")]
    NoOpenTill,
    #[error("the till session is not open (its corte has started)")]
    TillNotOpen,
    #[error("the till session belongs to another cajero")]
    NotYourTill,
    #[error("the order is {0}: it cannot be paid")]
    OrderNotPayable(OrderStatus),
    #[error("some charges of the order are no longer open")]
    ChargesNotOpen,
    #[error(transparent)]
    Tender(#[from] TenderError),
    #[error("no valid receipt with that folio")]
    ReceiptNotValid,
    #[error("the receipt is the demonstration's")]
    DemoReceipt,
    #[error("the receipt was not paid with a cheque at the window")]
    NotACheque,
    #[error("a cancellation of this receipt is already awaiting approval")]
    AlreadyRequested,
    #[error("the cancellation request is not awaiting a decision")]
    RequestNotPending,
    #[error("the person who asked cannot approve")]
    SamePerson,
    #[error("the corte is not awaiting approval")]
    NothingToApprove,
    #[error("the corte's difference has no explanation yet")]
    NeedsExplanation,
    #[error("the explanation or reason is too short or too long")]
    BadText,
}

impl CajaRefusal {
    /// The message for the person at the window (Spanish).
    pub fn message_es(&self) -> String {
        match self {
            CajaRefusal::UnknownTill(t) => format!("No existe la caja «{t}» en el archivo del municipio."),
            CajaRefusal::TillBusy(t) => {
                format!("La caja {t} está abierta por otra persona o su corte espera aprobación: no se puede abrir.")
            }
            CajaRefusal::CashierHasOpenTill => {
                "Usted ya tiene una caja abierta. Haga su corte antes de abrir otra.".into()
            }
            CajaRefusal::NoOpenTill => "Abra una caja (con su fondo inicial) antes de cobrar.".into(),
            CajaRefusal::TillNotOpen => {
                "La caja ya está en corte: no recibe más pagos hasta que un tesorero apruebe el corte y se abra de nuevo."
                    .into()
            }
            CajaRefusal::NotYourTill => "Esta caja la abrió otra persona.".into(),
            CajaRefusal::OrderNotPayable(s) => {
                format!("La orden está en estado «{}»: ya no se puede cobrar.", s.label_es())
            }
            CajaRefusal::ChargesNotOpen => {
                "Algún adeudo de la orden ya se pagó por otro medio. Vuelva a buscar los adeudos.".into()
            }
            CajaRefusal::Tender(e) => e.message_es(),
            CajaRefusal::ReceiptNotValid => "No hay un recibo vigente con ese folio.".into(),
            CajaRefusal::DemoReceipt => "Los recibos de demostración no tienen valor: no se cancelan.".into(),
            CajaRefusal::NotACheque => "Ese recibo no se pagó con cheque en ventanilla.".into(),
            CajaRefusal::AlreadyRequested => {
                "Ya hay una solicitud de cancelación de este recibo esperando aprobación.".into()
            }
            CajaRefusal::RequestNotPending => "Esa solicitud ya se resolvió.".into(),
            CajaRefusal::SamePerson => {
                "Quien solicita la cancelación no puede aprobarla: la aprueba otra persona con rol de tesorero.".into()
            }
            CajaRefusal::NothingToApprove => "Ese corte no está esperando aprobación.".into(),
            CajaRefusal::NeedsExplanation => {
                "El corte tiene diferencia: la persona de la caja debe explicarla antes de aprobarlo.".into()
            }
            CajaRefusal::BadText => "Escriba una explicación de 10 a 500 caracteres.".into(),
        }
    }

    /// The HTTP status it answers with.
    pub fn status(&self) -> u16 {
        match self {
            CajaRefusal::Tender(_) | CajaRefusal::BadText => 422,
            CajaRefusal::UnknownTill(_) | CajaRefusal::ReceiptNotValid => 404,
            CajaRefusal::NotYourTill | CajaRefusal::SamePerson => 403,
            _ => 409,
        }
    }
}

/// A till session: who opened which till with what float, and its corte.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TillSession {
    pub id: i64,
    pub till: String,
    pub cashier: String,
    pub status: TillStatus,
    pub opening_float: Centavos,
    pub opened_at: DateTime<Utc>,
    /// The blind count and what was expected, once counted.
    pub corte: Option<CorteRecord>,
    pub explanation: Option<String>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub approval_note: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// A corte as entered and as expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorteRecord {
    pub counted_at: DateTime<Utc>,
    pub denominations: CashCount,
    pub corte: Corte,
}

#[derive(sqlx::FromRow)]
struct TillSessionRow {
    id: i64,
    till: String,
    cashier: String,
    #[sqlx(try_from = "String")]
    status: TillStatus,
    opening_float_centavos: i64,
    opened_at: DbTime,
    counted_at: Option<DbTime>,
    denominations: Option<String>,
    counted_cash_centavos: Option<i64>,
    counted_card_centavos: Option<i64>,
    counted_cheque_centavos: Option<i64>,
    counted_transfer_centavos: Option<i64>,
    expected_cash_centavos: Option<i64>,
    expected_card_centavos: Option<i64>,
    expected_cheque_centavos: Option<i64>,
    expected_transfer_centavos: Option<i64>,
    explanation: Option<String>,
    approved_by: Option<String>,
    approved_at: Option<DbTime>,
    approval_note: Option<String>,
    closed_at: Option<DbTime>,
}

impl TryFrom<TillSessionRow> for TillSession {
    type Error = StoreError;
    fn try_from(r: TillSessionRow) -> Result<Self, StoreError> {
        let c = |v: Option<i64>| Centavos(v.unwrap_or(0));
        let corte = match r.counted_at {
            None => None,
            Some(at) => {
                let denominations: CashCount = serde_json::from_str(r.denominations.as_deref().unwrap_or("{}"))
                    .map_err(|e| StoreError::Corrupt(format!("till session {}: denominations: {e}", r.id)))?;
                Some(CorteRecord {
                    counted_at: at.0,
                    denominations,
                    corte: Corte {
                        counted: ByMethod {
                            cash: c(r.counted_cash_centavos),
                            card: c(r.counted_card_centavos),
                            cheque: c(r.counted_cheque_centavos),
                            transfer: c(r.counted_transfer_centavos),
                        },
                        expected: ByMethod {
                            cash: c(r.expected_cash_centavos),
                            card: c(r.expected_card_centavos),
                            cheque: c(r.expected_cheque_centavos),
                            transfer: c(r.expected_transfer_centavos),
                        },
                    },
                })
            }
        };
        Ok(TillSession {
            id: r.id,
            till: r.till,
            cashier: r.cashier,
            status: r.status,
            opening_float: Centavos(r.opening_float_centavos),
            opened_at: r.opened_at.0,
            corte,
            explanation: r.explanation,
            approved_by: r.approved_by,
            approved_at: r.approved_at.map(|t| t.0),
            approval_note: r.approval_note,
            closed_at: r.closed_at.map(|t| t.0),
        })
    }
}

/// A payment taken at the window, with its receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowPayment {
    pub id: i64,
    pub order_id: i64,
    pub till_session_id: i64,
    pub method: Method,
    pub amount: Centavos,
    pub tendered: Option<Centavos>,
    pub change: Option<Centavos>,
    /// Card authorisation, cheque number or transfer tracking key.
    pub reference: Option<String>,
    pub bank: Option<String>,
    pub taken_by: String,
    pub taken_at: DateTime<Utc>,
    pub bounced_at: Option<DateTime<Utc>>,
    pub folio: Option<Folio>,
    /// Whether its receipt is cancelled, and why.
    pub cancel_reason: Option<String>,
}

#[derive(sqlx::FromRow)]
struct WindowPaymentRow {
    id: i64,
    order_id: i64,
    till_session_id: i64,
    #[sqlx(try_from = "String")]
    method: Method,
    amount_centavos: i64,
    tendered_centavos: Option<i64>,
    change_centavos: Option<i64>,
    reference: Option<String>,
    bank: Option<String>,
    taken_by: String,
    taken_at: DbTime,
    bounced_at: Option<DbTime>,
    folio: Option<String>,
    cancel_reason: Option<String>,
}

impl TryFrom<WindowPaymentRow> for WindowPayment {
    type Error = StoreError;
    fn try_from(r: WindowPaymentRow) -> Result<Self, StoreError> {
        let folio =
            r.folio.map(|f| Folio::parse(&f).map_err(|_| StoreError::Corrupt(format!("folio {f:?}")))).transpose()?;
        Ok(WindowPayment {
            id: r.id,
            order_id: r.order_id,
            till_session_id: r.till_session_id,
            method: r.method,
            amount: Centavos(r.amount_centavos),
            tendered: r.tendered_centavos.map(Centavos),
            change: r.change_centavos.map(Centavos),
            reference: r.reference,
            bank: r.bank,
            taken_by: r.taken_by,
            taken_at: r.taken_at.0,
            bounced_at: r.bounced_at.map(|t| t.0),
            folio,
            cancel_reason: r.cancel_reason,
        })
    }
}

/// A payment just taken: its receipt's folio and the change to give.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TakenPayment {
    pub folio: Folio,
    pub total: Centavos,
    pub change: Option<Centavos>,
}

/// A request to cancel a receipt, and its decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CancellationRequest {
    pub id: i64,
    pub folio: Folio,
    pub reason: CancelReason,
    pub detail: String,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    /// `requested`, `approved` or `rejected`.
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
    pub total: Centavos,
    pub account: String,
}

#[derive(sqlx::FromRow)]
struct CancellationRow {
    id: i64,
    folio: String,
    #[sqlx(try_from = "String")]
    reason: CancelReason,
    detail: String,
    requested_by: String,
    requested_at: DbTime,
    status: String,
    decided_by: Option<String>,
    decided_at: Option<DbTime>,
    decision_note: Option<String>,
    total_centavos: i64,
    account: String,
}

impl TryFrom<CancellationRow> for CancellationRequest {
    type Error = StoreError;
    fn try_from(r: CancellationRow) -> Result<Self, StoreError> {
        Ok(CancellationRequest {
            id: r.id,
            folio: Folio::parse(&r.folio).map_err(|_| StoreError::Corrupt(format!("folio {:?}", r.folio)))?,
            reason: r.reason,
            detail: r.detail,
            requested_by: r.requested_by,
            requested_at: r.requested_at.0,
            status: r.status,
            decided_by: r.decided_by,
            decided_at: r.decided_at.map(|t| t.0),
            decision_note: r.decision_note,
            total: Centavos(r.total_centavos),
            account: r.account,
        })
    }
}

macro_rules! session_select {
    () => {
        "SELECT id, till, cashier, status, opening_float_centavos, {ts_text:opened_at} AS opened_at, \
                {ts_text:counted_at} AS counted_at, denominations, counted_cash_centavos, counted_card_centavos, \
                counted_cheque_centavos, counted_transfer_centavos, expected_cash_centavos, expected_card_centavos, \
                expected_cheque_centavos, expected_transfer_centavos, explanation, approved_by, \
                {ts_text:approved_at} AS approved_at, approval_note, {ts_text:closed_at} AS closed_at \
         FROM till_sessions"
    };
}
static SESSION_BY_ID: Stmt = Stmt::new(concat!(session_select!(), " WHERE id = $1"));
static SESSION_OF_CASHIER: Stmt =
    Stmt::new(concat!(session_select!(), " WHERE cashier = $1 AND status <> 'closed' ORDER BY id DESC LIMIT 1"));
static SESSIONS_NOT_CLOSED: Stmt = Stmt::new(concat!(session_select!(), " WHERE status <> 'closed' ORDER BY till"));
static SESSIONS_RECENT: Stmt = Stmt::new(concat!(session_select!(), " ORDER BY id DESC LIMIT $1"));
static INSERT_SESSION: Stmt = Stmt::new(
    "INSERT INTO till_sessions (till, cashier, status, opening_float_centavos, opened_at) \
     VALUES ($1, $2, 'open', $3, {ts:$4}) RETURNING id",
);
static FLOAT: Stmt = Stmt::new("SELECT opening_float_centavos FROM till_sessions WHERE id = $1");
static TILL_IN_USE: Stmt = Stmt::new("SELECT count(*) FROM till_sessions WHERE till = $1 AND status <> 'closed'");
static LOCK_SESSION: Stmt = Stmt::new("SELECT status, till, cashier FROM till_sessions WHERE id = $1 {for_update}");
static INSERT_WINDOW_PAYMENT: Stmt = Stmt::new(
    "INSERT INTO window_payments (order_id, till_session_id, method, amount_centavos, tendered_centavos, \
     change_centavos, reference, bank, taken_by, taken_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, {ts:$10})",
);
macro_rules! window_payment_select {
    () => {
        "SELECT w.id, w.order_id, w.till_session_id, w.method, w.amount_centavos, w.tendered_centavos, \
                w.change_centavos, w.reference, w.bank, w.taken_by, {ts_text:w.taken_at} AS taken_at, \
                {ts_text:w.bounced_at} AS bounced_at, r.folio, r.cancel_reason \
         FROM window_payments w LEFT JOIN receipts r ON r.order_id = w.order_id"
    };
}
static PAYMENTS_OF_SESSION: Stmt =
    Stmt::new(concat!(window_payment_select!(), " WHERE w.till_session_id = $1 ORDER BY w.id"));
static PAYMENT_BY_FOLIO: Stmt = Stmt::new(concat!(window_payment_select!(), " WHERE r.folio = $1"));
/// What a session's till should hold: the payments whose orders still
/// stand (an annulled one gave its money back), by method.
static EXPECTED_BY_METHOD: Stmt = Stmt::new(
    "SELECT w.method, CAST(SUM(w.amount_centavos) AS BIGINT) AS total FROM window_payments w \
     JOIN payment_orders o ON o.id = w.order_id \
     WHERE w.till_session_id = $1 AND o.status = 'succeeded' GROUP BY w.method ORDER BY w.method",
);
static RECORD_COUNT: Stmt = Stmt::new(
    "UPDATE till_sessions SET status = $2, counted_at = {ts:$3}, denominations = $4, counted_cash_centavos = $5, \
            counted_card_centavos = $6, counted_cheque_centavos = $7, counted_transfer_centavos = $8, \
            expected_cash_centavos = $9, expected_card_centavos = $10, expected_cheque_centavos = $11, \
            expected_transfer_centavos = $12 \
     WHERE id = $1 AND status = 'open'",
);
static EXPLAIN: Stmt = Stmt::new("UPDATE till_sessions SET explanation = $2 WHERE id = $1 AND status = 'counted'");
static APPROVE: Stmt = Stmt::new(
    "UPDATE till_sessions SET status = 'closed', approved_by = $2, approved_at = {ts:$3}, approval_note = $4, \
            closed_at = {ts:$3} WHERE id = $1 AND status = 'counted'",
);
static MARK_BOUNCED: Stmt = Stmt::new(
    "UPDATE window_payments SET bounced_at = {ts:$2}, bounced_by = $3, bounce_note = $4 \
     WHERE id = $1 AND method = 'cheque' AND bounced_at IS NULL",
);
static VALID_RECEIPT: Stmt = Stmt::new("SELECT order_id, series FROM receipts WHERE folio = $1 AND status = 'valid'");
static INSERT_CANCELLATION: Stmt = Stmt::new(
    "INSERT INTO receipt_cancellations (folio, reason, detail, requested_by, requested_at, status) \
     VALUES ($1, $2, $3, $4, {ts:$5}, 'requested') RETURNING id",
);
macro_rules! cancellation_select {
    () => {
        "SELECT c.id, c.folio, c.reason, c.detail, c.requested_by, {ts_text:c.requested_at} AS requested_at, \
                c.status, c.decided_by, {ts_text:c.decided_at} AS decided_at, c.decision_note, \
                r.total_centavos, r.account \
         FROM receipt_cancellations c JOIN receipts r ON r.folio = c.folio"
    };
}
static CANCELLATIONS: Stmt = Stmt::new(concat!(
    cancellation_select!(),
    " WHERE ($1 = '' OR c.status = $1) ORDER BY c.status = 'requested' DESC, c.id DESC LIMIT $2"
));
static CANCELLATION_BY_ID: Stmt = Stmt::new(concat!(cancellation_select!(), " WHERE c.id = $1"));
static LOCK_CANCELLATION: Stmt = Stmt::new(
    "SELECT folio, reason, detail, requested_by, status FROM receipt_cancellations WHERE id = $1 {for_update}",
);
static DECIDE_CANCELLATION: Stmt = Stmt::new(
    "UPDATE receipt_cancellations SET status = $2, decided_by = $3, decided_at = {ts:$4}, decision_note = $5 \
     WHERE id = $1 AND status = 'requested'",
);

#[derive(sqlx::FromRow)]
struct LockedSession {
    #[sqlx(try_from = "String")]
    status: TillStatus,
    till: String,
    cashier: String,
}

#[derive(sqlx::FromRow)]
struct LockedCancellation {
    folio: String,
    #[sqlx(try_from = "String")]
    reason: CancelReason,
    detail: String,
    requested_by: String,
    status: String,
}

/// The caja's one-statement primitives.
impl<C: DerefMut<Target = AnyConnection> + Send> Conn<C> {
    async fn sessions_where(
        &mut self,
        stmt: &'static Stmt,
        bind: impl FnOnce(
            sqlx::query::QueryAs<'static, sqlx::Any, TillSessionRow, sqlx::any::AnyArguments<'static>>,
        )
            -> sqlx::query::QueryAs<'static, sqlx::Any, TillSessionRow, sqlx::any::AnyArguments<'static>>,
    ) -> Result<Vec<TillSession>, StoreError> {
        let rows =
            bind(sqlx::query_as(self.sql(stmt))).fetch_all(self.c()).await.map_err(query_err("read till sessions"))?;
        rows.into_iter().map(TillSession::try_from).collect()
    }

    async fn window_payments_where(
        &mut self,
        stmt: &'static Stmt,
        bind: impl FnOnce(
            sqlx::query::QueryAs<'static, sqlx::Any, WindowPaymentRow, sqlx::any::AnyArguments<'static>>,
        )
            -> sqlx::query::QueryAs<'static, sqlx::Any, WindowPaymentRow, sqlx::any::AnyArguments<'static>>,
    ) -> Result<Vec<WindowPayment>, StoreError> {
        let rows = bind(sqlx::query_as(self.sql(stmt)))
            .fetch_all(self.c())
            .await
            .map_err(query_err("read window payments"))?;
        rows.into_iter().map(WindowPayment::try_from).collect()
    }

    async fn lock_session(&mut self, id: i64) -> Result<Option<LockedSession>, StoreError> {
        sqlx::query_as(self.sql(&LOCK_SESSION))
            .bind(id)
            .fetch_optional(self.c())
            .await
            .map_err(query_err("lock a till session"))
    }
}

/// What [`Store::take_window_payment`] is asked to do.
#[derive(Clone, Debug)]
pub struct WindowPaymentRequest<'a> {
    pub session_id: i64,
    /// The cajero's username (the session must be theirs).
    pub cashier: &'a str,
    pub order_id: i64,
    pub tender: WindowTender,
}

impl Store {
    /// Opens a till session for `cashier` at `till` with `float` in the
    /// drawer. A till takes one session at a time (until its corte is
    /// closed) and a cajero works one open till at a time.
    #[tracing::instrument(name = "store.open_till", skip(self))]
    pub async fn open_till(
        &self,
        till: &str,
        cashier: &str,
        float: Centavos,
        now: DateTime<Utc>,
    ) -> Result<Result<TillSession, CajaRefusal>, StoreError> {
        let at = timestamp_to_db(now);
        let mut tx = self.write().await?;
        let in_use: i64 = sqlx::query_scalar(tx.sql(&TILL_IN_USE))
            .bind(till)
            .fetch_one(tx.c())
            .await
            .map_err(query_err("check whether a till is in use"))?;
        if in_use > 0 {
            return Ok(Err(CajaRefusal::TillBusy(till.into())));
        }
        let id: i64 = match sqlx::query_scalar(tx.sql(&INSERT_SESSION))
            .bind(till)
            .bind(cashier)
            .bind(float.0)
            .bind(&at)
            .fetch_one(tx.c())
            .await
        {
            Ok(id) => id,
            // The other unique index: this cajero's open till (or a
            // concurrent opening of the same till).
            Err(e) if is_unique_violation(&e) => {
                drop(tx);
                let mine = self.open_session_of(cashier).await?;
                return Ok(Err(match mine {
                    Some(s) if s.status == TillStatus::Open => CajaRefusal::CashierHasOpenTill,
                    _ => CajaRefusal::TillBusy(till.into()),
                }));
            }
            Err(e) => return Err(query_err("open a till session")(e)),
        };
        let details = serde_json::json!({ "session_id": id, "till": till, "opening_float_centavos": float.0 });
        tx.audit(&format!("staff:{cashier}"), AuditAction::TillOpened, details, &at).await?;
        tx.commit().await?;
        Ok(Ok(self.till_session(id).await?.ok_or_else(|| StoreError::Corrupt(format!("till session {id}")))?))
    }

    pub async fn till_session(&self, id: i64) -> Result<Option<TillSession>, StoreError> {
        let mut r = self.read().await?;
        Ok(r.sessions_where(&SESSION_BY_ID, |q| q.bind(id)).await?.pop())
    }

    /// The cajero's session that is not closed yet (open, or its corte
    /// awaiting approval).
    pub async fn open_session_of(&self, cashier: &str) -> Result<Option<TillSession>, StoreError> {
        let cashier = cashier.to_string();
        let mut r = self.read().await?;
        Ok(r.sessions_where(&SESSION_OF_CASHIER, |q| q.bind(cashier)).await?.pop())
    }

    /// Every session not closed yet, by till (which tills are busy; the
    /// cortes awaiting approval).
    pub async fn sessions_not_closed(&self) -> Result<Vec<TillSession>, StoreError> {
        let mut r = self.read().await?;
        r.sessions_where(&SESSIONS_NOT_CLOSED, |q| q).await
    }

    /// The latest sessions, newest first.
    pub async fn recent_sessions(&self, limit: i64) -> Result<Vec<TillSession>, StoreError> {
        let mut r = self.read().await?;
        r.sessions_where(&SESSIONS_RECENT, |q| q.bind(limit)).await
    }

    /// The payments a session took, in order, with their receipts.
    pub async fn session_payments(&self, session_id: i64) -> Result<Vec<WindowPayment>, StoreError> {
        let mut r = self.read().await?;
        r.window_payments_where(&PAYMENTS_OF_SESSION, |q| q.bind(session_id)).await
    }

    /// The window payment a receipt records, if it was paid at the window.
    pub async fn window_payment_of(&self, folio: &Folio) -> Result<Option<WindowPayment>, StoreError> {
        let folio = folio.to_string();
        let mut r = self.read().await?;
        Ok(r.window_payments_where(&PAYMENT_BY_FOLIO, |q| q.bind(folio)).await?.pop())
    }

    /// Takes a payment at the window, in ONE transaction: the session must
    /// be the cajero's and open (a till in corte takes nothing); the order
    /// live, its charges all still open; cash must cover the total (the
    /// change is recorded). The order moves to `succeeded` (charges paid),
    /// the payment is recorded and the receipt issued, signed, with the
    /// next folio of the till's series in `today`'s fiscal year.
    #[tracing::instrument(name = "store.take_window_payment", skip(self, keys), fields(order_id = req.order_id))]
    pub async fn take_window_payment(
        &self,
        req: &WindowPaymentRequest<'_>,
        now: DateTime<Utc>,
        today: NaiveDate,
        keys: &ReceiptKeys,
    ) -> Result<Result<TakenPayment, CajaRefusal>, StoreError> {
        let at = timestamp_to_db(now);
        let mut tx = self.write().await?;
        let Some(session) = tx.lock_session(req.session_id).await? else {
            return Ok(Err(CajaRefusal::NoOpenTill));
        };
        if session.cashier != req.cashier {
            return Ok(Err(CajaRefusal::NotYourTill));
        }
        if session.status != TillStatus::Open {
            return Ok(Err(CajaRefusal::TillNotOpen));
        }
        let order = tx.lock_order(req.order_id).await?.ok_or(StoreError::OrderNotFound(req.order_id))?;
        if !order.status.is_live() {
            return Ok(Err(CajaRefusal::OrderNotPayable(order.status)));
        }
        let (tendered, change) = match &req.tender {
            WindowTender::Cash { tendered } => match change_due(order.total, *tendered) {
                Ok(change) => (Some(*tendered), Some(change)),
                Err(e) => return Ok(Err(e.into())),
            },
            _ => (None, None),
        };
        if !tx.charges_all_open(req.order_id).await? {
            return Ok(Err(CajaRefusal::ChargesNotOpen));
        }
        let paid = PaymentEvent::Paid { amount: order.total, currency: CURRENCY_MXN.into() };
        let t = transition(order.status, &paid)
            .map_err(|source| StoreError::Transition { order_id: req.order_id, source })?;
        super::orders::persist_transition(&mut tx, req.order_id, t, PaymentEventKind::Paid, &at).await?;
        let method = req.tender.method();
        sqlx::query(tx.sql(&INSERT_WINDOW_PAYMENT))
            .bind(req.order_id)
            .bind(req.session_id)
            .bind(method.as_str())
            .bind(order.total.0)
            .bind(tendered.map(|c| c.0))
            .bind(change.map(|c| c.0))
            .bind(req.tender.reference())
            .bind(req.tender.bank())
            .bind(req.cashier)
            .bind(&at)
            .execute(tx.c())
            .await
            .map_err(query_err("record a window payment"))?;
        let actor = format!("staff:{}", req.cashier);
        let details = serde_json::json!({
            "order_id": req.order_id, "till": session.till, "session_id": req.session_id,
            "method": method.as_str(), "amount_centavos": order.total.0,
            "change_centavos": change.map(|c| c.0), "reference": req.tender.reference(),
        });
        tx.audit(&actor, AuditAction::PaymentApplied, details, &at).await?;
        let paid_by = PaidBy {
            attempt_id: None,
            provider: Provider::Window,
            method: Some(method),
            reference: req.tender.reference(),
            till: Some(session.till.clone()),
            actor: Some(actor),
        };
        let folio =
            super::receipts::issue_receipt(&mut tx, req.order_id, order.total, Some(paid_by), &at, today, keys).await?;
        tx.commit().await?;
        Ok(Ok(TakenPayment { folio, total: order.total, change }))
    }

    /// The blind count of a session, in ONE transaction: the expected
    /// figures are computed now (the float plus the cash taken; each other
    /// method's total; payments annulled meanwhile left out) and frozen
    /// beside the count. The till is locked from then on (no payments, no
    /// second count) until a tesorero approves the corte; a difference must
    /// be explained by the cajero first.
    #[tracing::instrument(name = "store.count_till", skip(self, count))]
    pub async fn count_till(
        &self,
        session_id: i64,
        cashier: &str,
        count: &TillCount,
        now: DateTime<Utc>,
    ) -> Result<Result<TillSession, CajaRefusal>, StoreError> {
        let at = timestamp_to_db(now);
        let mut tx = self.write().await?;
        let Some(session) = tx.lock_session(session_id).await? else {
            return Ok(Err(CajaRefusal::NoOpenTill));
        };
        if session.cashier != cashier {
            return Ok(Err(CajaRefusal::NotYourTill));
        }
        if session.status != TillStatus::Open {
            return Ok(Err(CajaRefusal::TillNotOpen));
        }
        let float: i64 = sqlx::query_scalar(tx.sql(&FLOAT))
            .bind(session_id)
            .fetch_one(tx.c())
            .await
            .map_err(query_err("read a till's float"))?;
        let rows: Vec<(String, i64)> = sqlx::query_as(tx.sql(&EXPECTED_BY_METHOD))
            .bind(session_id)
            .fetch_all(tx.c())
            .await
            .map_err(query_err("add up a till's payments"))?;
        let mut expected = ByMethod { cash: Centavos(float), ..ByMethod::default() };
        for (method, total) in rows {
            let method = Method::parse(&method).ok_or_else(|| StoreError::Corrupt(format!("method {method:?}")))?;
            expected.add(method, Centavos(total));
        }
        let counted = count.by_method();
        let corte = Corte { counted, expected };
        let balanced = corte.balances();
        let status = TillStatus::Counted;
        let denominations = serde_json::to_string(&count.cash).expect("a count serialises");
        sqlx::query(tx.sql(&RECORD_COUNT))
            .bind(session_id)
            .bind(status.as_str())
            .bind(&at)
            .bind(denominations)
            .bind(counted.cash.0)
            .bind(counted.card.0)
            .bind(counted.cheque.0)
            .bind(counted.transfer.0)
            .bind(expected.cash.0)
            .bind(expected.card.0)
            .bind(expected.cheque.0)
            .bind(expected.transfer.0)
            .execute(tx.c())
            .await
            .map_err(query_err("record a till's count"))?;
        let actor = format!("staff:{cashier}");
        let details = serde_json::json!({
            "session_id": session_id, "till": session.till,
            "counted_centavos": counted.total().0, "expected_centavos": expected.total().0,
            "difference_centavos": corte.difference().0, "balanced": balanced,
        });
        tx.audit(&actor, AuditAction::TillCounted, details, &at).await?;
        tx.commit().await?;
        Ok(Ok(self
            .till_session(session_id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("till session {session_id}")))?))
    }

    /// The cajero's explanation of a corte's difference (it may be
    /// rewritten until a tesorero approves).
    pub async fn explain_corte(
        &self,
        session_id: i64,
        cashier: &str,
        explanation: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<(), CajaRefusal>, StoreError> {
        if !crate::domain::caja::valid_cancel_detail(explanation) {
            return Ok(Err(CajaRefusal::BadText));
        }
        let at = timestamp_to_db(now);
        let mut tx = self.write().await?;
        let Some(session) = tx.lock_session(session_id).await? else {
            return Ok(Err(CajaRefusal::NothingToApprove));
        };
        if session.cashier != cashier {
            return Ok(Err(CajaRefusal::NotYourTill));
        }
        let done = sqlx::query(tx.sql(&EXPLAIN))
            .bind(session_id)
            .bind(explanation.trim())
            .execute(tx.c())
            .await
            .map_err(query_err("record a corte's explanation"))?;
        if done.rows_affected() == 0 {
            return Ok(Err(CajaRefusal::NothingToApprove));
        }
        let details =
            serde_json::json!({ "session_id": session_id, "till": session.till, "explanation": explanation.trim() });
        tx.audit(&format!("staff:{cashier}"), AuditAction::CorteExplained, details, &at).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// A tesorero (not the cajero of the till) approves a counted corte —
    /// one with a difference only once the cajero explained it: the till
    /// closes.
    pub async fn approve_corte(
        &self,
        session_id: i64,
        approver: &str,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<(), CajaRefusal>, StoreError> {
        let at = timestamp_to_db(now);
        let mut tx = self.write().await?;
        let Some(session) = tx.lock_session(session_id).await? else {
            return Ok(Err(CajaRefusal::NothingToApprove));
        };
        if session.status != TillStatus::Counted {
            return Ok(Err(CajaRefusal::NothingToApprove));
        }
        if session.cashier == approver {
            return Ok(Err(CajaRefusal::SamePerson));
        }
        let Some(counted) = tx.sessions_where(&SESSION_BY_ID, |q| q.bind(session_id)).await?.pop() else {
            return Ok(Err(CajaRefusal::NothingToApprove));
        };
        let balanced = counted.corte.as_ref().is_some_and(|c| c.corte.balances());
        if !balanced && counted.explanation.is_none() {
            return Ok(Err(CajaRefusal::NeedsExplanation));
        }
        let done = sqlx::query(tx.sql(&APPROVE))
            .bind(session_id)
            .bind(approver)
            .bind(&at)
            .bind(note.trim())
            .execute(tx.c())
            .await
            .map_err(query_err("approve a corte"))?;
        if done.rows_affected() == 0 {
            return Ok(Err(CajaRefusal::NothingToApprove));
        }
        let actor = format!("staff:{approver}");
        let details = serde_json::json!({
            "session_id": session_id, "till": session.till, "balanced": balanced, "note": note.trim(),
        });
        tx.audit(&actor, AuditAction::CorteApproved, details, &at).await?;
        let details = serde_json::json!({ "session_id": session_id, "till": session.till });
        tx.audit(&actor, AuditAction::TillClosed, details, &at).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// A cheque taken at the window came back unpaid: recorded on its
    /// payment (never deleted), the payment annulled — its receipt
    /// cancelled with the reason, its charges owed again.
    #[tracing::instrument(name = "store.bounce_cheque", skip(self))]
    pub async fn bounce_cheque(
        &self,
        folio: &Folio,
        by: &str,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<(), CajaRefusal>, StoreError> {
        let at = timestamp_to_db(now);
        let mut tx = self.write().await?;
        let payment: Option<WindowPayment> =
            tx.window_payments_where(&PAYMENT_BY_FOLIO, |q| q.bind(folio.to_string())).await?.pop();
        let Some(payment) = payment.filter(|p| p.method == Method::Cheque) else {
            return Ok(Err(CajaRefusal::NotACheque));
        };
        let marked = sqlx::query(tx.sql(&MARK_BOUNCED))
            .bind(payment.id)
            .bind(&at)
            .bind(by)
            .bind(note.trim())
            .execute(tx.c())
            .await
            .map_err(query_err("record a bounced cheque"))?;
        if marked.rows_affected() == 0 || payment.cancel_reason.is_some() {
            return Ok(Err(CajaRefusal::ReceiptNotValid));
        }
        let actor = format!("staff:{by}");
        let details = serde_json::json!({
            "folio": folio.to_string(), "order_id": payment.order_id, "bank": payment.bank,
            "cheque": payment.reference, "amount_centavos": payment.amount.0, "note": note.trim(),
        });
        tx.audit(&actor, AuditAction::ChequeBounced, details, &at).await?;
        let reason = format!(
            "Cheque devuelto ({} núm. {}): {}",
            payment.bank.as_deref().unwrap_or(""),
            payment.reference.as_deref().unwrap_or(""),
            note.trim()
        );
        if annul_payment(&mut tx, payment.order_id, &reason, &actor, &at).await?.is_none() {
            return Ok(Err(CajaRefusal::ReceiptNotValid));
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Asks for a receipt to be cancelled (a cajero or a tesorero): the
    /// receipt must be valid and of value; one request at a time.
    #[tracing::instrument(name = "store.request_cancellation", skip(self, detail))]
    pub async fn request_cancellation(
        &self,
        folio: &Folio,
        reason: CancelReason,
        detail: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<i64, CajaRefusal>, StoreError> {
        if !crate::domain::caja::valid_cancel_detail(detail) {
            return Ok(Err(CajaRefusal::BadText));
        }
        if folio.is_demo() {
            return Ok(Err(CajaRefusal::DemoReceipt));
        }
        let at = timestamp_to_db(now);
        let mut tx = self.write().await?;
        let valid: Option<(i64, String)> = sqlx::query_as(tx.sql(&VALID_RECEIPT))
            .bind(folio.to_string())
            .fetch_optional(tx.c())
            .await
            .map_err(query_err("read a receipt"))?;
        if valid.is_none() {
            return Ok(Err(CajaRefusal::ReceiptNotValid));
        }
        let id: i64 = match sqlx::query_scalar(tx.sql(&INSERT_CANCELLATION))
            .bind(folio.to_string())
            .bind(reason.as_str())
            .bind(detail.trim())
            .bind(by)
            .bind(&at)
            .fetch_one(tx.c())
            .await
        {
            Ok(id) => id,
            Err(e) if is_unique_violation(&e) => return Ok(Err(CajaRefusal::AlreadyRequested)),
            Err(e) => return Err(query_err("request a receipt's cancellation")(e)),
        };
        let details = serde_json::json!({
            "request_id": id, "folio": folio.to_string(), "reason": reason.as_str(), "detail": detail.trim(),
        });
        tx.audit(&format!("staff:{by}"), AuditAction::CancellationRequested, details, &at).await?;
        tx.commit().await?;
        Ok(Ok(id))
    }

    /// Cancellation requests (`status` `requested`, `approved`,
    /// `rejected`, or empty for all), pending first, newest first.
    pub async fn cancellation_requests(
        &self,
        status: &str,
        limit: i64,
    ) -> Result<Vec<CancellationRequest>, StoreError> {
        let status = status.to_string();
        let mut r = self.read().await?;
        let rows: Vec<CancellationRow> = sqlx::query_as(r.sql(&CANCELLATIONS))
            .bind(status)
            .bind(limit)
            .fetch_all(r.c())
            .await
            .map_err(query_err("read cancellation requests"))?;
        rows.into_iter().map(CancellationRequest::try_from).collect()
    }

    pub async fn cancellation_request(&self, id: i64) -> Result<Option<CancellationRequest>, StoreError> {
        let mut r = self.read().await?;
        let row: Option<CancellationRow> = sqlx::query_as(r.sql(&CANCELLATION_BY_ID))
            .bind(id)
            .fetch_optional(r.c())
            .await
            .map_err(query_err("read a cancellation request"))?;
        row.map(CancellationRequest::try_from).transpose()
    }

    /// A second person with the tesorero role decides a cancellation
    /// request, in ONE transaction. Approved: the payment is annulled — the
    /// receipt "cancelado" with the date and the reason (its folio kept,
    /// never reused), the charges owed again. Rejected: only the decision.
    #[tracing::instrument(name = "store.decide_cancellation", skip(self, note))]
    pub async fn decide_cancellation(
        &self,
        id: i64,
        by: &str,
        approve: bool,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<(), CajaRefusal>, StoreError> {
        let at = timestamp_to_db(now);
        let mut tx = self.write().await?;
        let req: Option<LockedCancellation> = sqlx::query_as(tx.sql(&LOCK_CANCELLATION))
            .bind(id)
            .fetch_optional(tx.c())
            .await
            .map_err(query_err("lock a cancellation request"))?;
        let Some(req) = req.filter(|r| r.status == "requested") else {
            return Ok(Err(CajaRefusal::RequestNotPending));
        };
        if req.requested_by == by {
            return Ok(Err(CajaRefusal::SamePerson));
        }
        let status = if approve { "approved" } else { "rejected" };
        sqlx::query(tx.sql(&DECIDE_CANCELLATION))
            .bind(id)
            .bind(status)
            .bind(by)
            .bind(&at)
            .bind(note.trim())
            .execute(tx.c())
            .await
            .map_err(query_err("decide a cancellation request"))?;
        let actor = format!("staff:{by}");
        let details = serde_json::json!({ "request_id": id, "folio": req.folio, "note": note.trim() });
        if !approve {
            tx.audit(&actor, AuditAction::CancellationRejected, details, &at).await?;
            tx.commit().await?;
            return Ok(Ok(()));
        }
        tx.audit(&actor, AuditAction::CancellationApproved, details, &at).await?;
        let order_id: Option<(i64, String)> = sqlx::query_as(tx.sql(&VALID_RECEIPT))
            .bind(&req.folio)
            .fetch_optional(tx.c())
            .await
            .map_err(query_err("read a receipt"))?;
        let Some((order_id, _)) = order_id else {
            return Ok(Err(CajaRefusal::ReceiptNotValid));
        };
        let reason = cancellation_text(req.reason, &req.detail);
        if annul_payment(&mut tx, order_id, &reason, &actor, &at).await?.is_none() {
            return Ok(Err(CajaRefusal::ReceiptNotValid));
        }
        tx.commit().await?;
        Ok(Ok(()))
    }
}
