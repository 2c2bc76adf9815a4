//! The storage story, run against a fresh SQLite file and, when
//! RECAUDA_TEST_POSTGRES_URL is set (CI sets it via `.ci/postgres`), against a
//! freshly created PostgreSQL database that is dropped afterwards.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::NaiveDate;
use sqlx::Connection;

use chrono::{DateTime, Utc};

use app::domain::account::AccountNumber;
use app::domain::folio::{DEMO_SERIES, ONLINE_SERIES};
use app::domain::money::Centavos;
use app::domain::payment::{
    AttemptStatus, Instructions, Method, OrderStatus, OverpaymentReason, PaymentEvent, Provider, Transition,
    TransitionError, CURRENCY_MXN,
};
use app::domain::reference::OrderReference;
use app::domain::rfc::{PersonKind, Rfc};
use app::receipt_keys::ReceiptKeys;
use app::store::{
    AccountView, ChargeStatus, Counts, EventOutcome, ImportSummary, NewAttempt, NewOrder, OrderItem, PadronRow,
    ProviderEvent, RefundStatus, Store, StoreError,
};
use server::demo::{demo_padron, DEFAULT_SEED};
use server::import::parse_padron;

/// Enough demo accounts for more than 1000 rows (several progress calls).
const DEMO_ACCOUNTS: usize = 500;

const HEADER: &str = "account,kind,rfc,name,colonia,concept,period,due_date,amount\n";

const PADRON_1: &str = "\
P-900001,predial,PECJ800101H31,José Peña Cota,Centro,predial,2025-B6,2025-12-31,1234.56
P-900001,predial,PECJ800101H31,José Peña Cota,Centro,predial,2026-B1,2026-02-28,1234.56
P-900001,predial,PECJ800101H31,José Peña Cota,Centro,predial,2025-B5,2025-10-31,1200.00
A-900007,agua,,María Ibáñez Núñez,Nopoló,agua,2026-01,2026-02-15,250
LC-900003,licencia_comercial,HML180101AB4,\"Hotel Misión Loreto, S.A. de C.V.\",Miramar,licencia_comercial,2026,2026-03-31,15000.50
LC-900003,licencia_comercial,HML180101AB4,\"Hotel Misión Loreto, S.A. de C.V.\",Miramar,multa_reglamentos,MR-2025-0042,2025-11-20,1131.40
LA-900001,licencia_alcoholes,HML180101AB4,\"Hotel Misión Loreto, S.A. de C.V.\",Miramar,refrendo_alcoholes,2026,2026-02-28,38000
LA-900001,licencia_alcoholes,HML180101AB4,\"Hotel Misión Loreto, S.A. de C.V.\",Miramar,refrendo_alcoholes,2025,2025-02-28,36480
";

fn padron(body: &str) -> Vec<PadronRow> {
    parse_padron(format!("{HEADER}{body}").as_bytes()).unwrap_or_else(|e| panic!("test padrón invalid:\n{e}"))
}

/// PADRON_1 with: P-900001 2026-B1 now 1300.00, the multa's due date moved,
/// and a new agua month for A-900007.
fn padron_2() -> String {
    PADRON_1
        .replace("2026-B1,2026-02-28,1234.56", "2026-B1,2026-02-28,1300.00")
        .replace("MR-2025-0042,2025-11-20", "MR-2025-0042,2025-11-27")
        + "A-900007,agua,,María Ibáñez Núñez,Nopoló,agua,2026-02,2026-03-15,250\n"
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn summary(t: u64, a: u64, c: u64, u: u64, same: u64) -> ImportSummary {
    ImportSummary {
        taxpayers_created: t,
        accounts_created: a,
        charges_created: c,
        charges_updated: u,
        charges_unchanged: same,
    }
}

/// Direct database access for what the Store API cannot do yet (payments).
enum Backend {
    Sqlite(String),
    Postgres(String),
}

impl Backend {
    async fn set_status(&self, account: &str, concept: &str, period: &str, status: ChargeStatus) {
        let affected = match self {
            Backend::Sqlite(url) => {
                let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
                sqlx::query(
                    "UPDATE charges SET status = ?1 WHERE concept = ?2 AND period = ?3 \
                     AND account_id = (SELECT id FROM accounts WHERE number = ?4)",
                )
                .bind(status.as_str())
                .bind(concept)
                .bind(period)
                .bind(account)
                .execute(&mut conn)
                .await
                .unwrap()
                .rows_affected()
            }
            Backend::Postgres(url) => {
                let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::query(
                    "UPDATE charges SET status = $1 WHERE concept = $2 AND period = $3 \
                     AND account_id = (SELECT id FROM accounts WHERE number = $4)",
                )
                .bind(status.as_str())
                .bind(concept)
                .bind(period)
                .bind(account)
                .execute(&mut conn)
                .await
                .unwrap()
                .rows_affected()
            }
        };
        assert_eq!(affected, 1, "set_status {account} {concept} {period}");
    }
}

async fn import(store: &Store, rows: &[PadronRow]) -> (Result<ImportSummary, StoreError>, Vec<usize>) {
    let calls = Mutex::new(Vec::new());
    let result = store.import_padron(rows, &|done| calls.lock().unwrap().push(done)).await;
    (result, calls.into_inner().unwrap())
}

async fn open_keys(store: &Store, ids: &[i64]) -> Vec<(String, String, String, NaiveDate, Centavos)> {
    store
        .open_charges(ids)
        .await
        .unwrap()
        .into_iter()
        .map(|c| {
            assert_eq!(c.status, ChargeStatus::Open);
            (c.account.into_string(), c.concept, c.period, c.due_date, c.principal)
        })
        .collect()
}

/// The account with this number, as the lookup reads it.
pub(crate) async fn account_by_number(store: &Store, number: &str) -> Option<AccountView> {
    let number = AccountNumber::parse(number).expect("a well-formed account number");
    store.debts_of_account(&number).await.unwrap().map(|d| d.account)
}

/// The accounts of this RFC, as the lookup reads them.
async fn accounts_by_rfc(store: &Store, rfc: &str) -> Vec<AccountView> {
    let rfc = Rfc::parse(rfc).expect("a well-formed RFC");
    store.debts_of_rfc(&rfc).await.unwrap().into_iter().map(|d| d.account).collect()
}

fn key(a: &str, c: &str, p: &str, due: &str, amount: i64) -> (String, String, String, NaiveDate, Centavos) {
    (a.into(), c.into(), p.into(), date(due), Centavos(amount))
}

async fn story(shared: Store, backend: Backend) {
    let store: &Store = &shared;
    store.ping().await.unwrap();
    if let Backend::Postgres(_) = backend {
        // Every pooled connection carries the time limits: a stuck
        // statement or an abandoned transaction cannot hold locks for long.
        for (setting, value) in
            [("statement_timeout", "20s"), ("idle_in_transaction_session_timeout", "30s"), ("lock_timeout", "15s")]
        {
            let mut conn = store.pool().acquire().await.unwrap();
            let shown: String = sqlx::query_scalar(&format!("SHOW {setting}")).fetch_one(&mut *conn).await.unwrap();
            assert_eq!(shown, value, "{setting}");
        }
        let mut conn = store.pool().acquire().await.unwrap();
        sqlx::query("SET statement_timeout = '100ms'").execute(&mut *conn).await.unwrap();
        let cancelled = sqlx::query("SELECT pg_sleep(5)").execute(&mut *conn).await;
        assert!(cancelled.is_err(), "a statement over the limit is cancelled");
        sqlx::query("SET statement_timeout = '20s'").execute(&mut *conn).await.unwrap();
    }
    assert_eq!(store.counts().await.unwrap(), Counts::default());

    // 1. First import.
    let rows_1 = padron(PADRON_1);
    let (result, progress) = import(store, &rows_1).await;
    assert_eq!(result.unwrap(), summary(3, 4, 8, 0, 0));
    assert_eq!(progress, vec![8]);
    let after_first = Counts { taxpayers: 3, accounts: 4, charges: 8, open_charges: 8 };
    assert_eq!(store.counts().await.unwrap(), after_first);

    // 2. Lookups by account number.
    let p = account_by_number(store, "P-900001").await.expect("P-900001 exists");
    assert_eq!(p.number.as_str(), "P-900001");
    assert_eq!(p.kind, "predial");
    assert_eq!(p.rfc.as_deref(), Some("PECJ800101H31"));
    assert_eq!(p.person_kind, PersonKind::Fisica);
    assert_eq!(p.name, "José Peña Cota");
    assert_eq!(p.colonia.as_deref(), Some("Centro"));
    let a = account_by_number(store, "A-900007").await.expect("A-900007 exists");
    assert_eq!(a.rfc, None);
    assert_eq!(a.person_kind, PersonKind::Fisica);
    assert_eq!(a.name, "María Ibáñez Núñez");
    assert_eq!(a.colonia.as_deref(), Some("Nopoló"));
    assert!(account_by_number(store, "P-999998").await.is_none());

    // 3. Lookups by RFC: normalised input, ordered by account number, one taxpayer.
    let hotel = accounts_by_rfc(store, " hml180101ab4 ").await;
    let numbers: Vec<&str> = hotel.iter().map(|a| a.number.as_str()).collect();
    assert_eq!(numbers, ["LA-900001", "LC-900003"]);
    assert!(hotel.iter().all(|a| a.person_kind == PersonKind::Moral && a.taxpayer_id == hotel[0].taxpayer_id));
    assert_eq!(hotel[0].name, "Hotel Misión Loreto, S.A. de C.V.");
    assert_eq!(hotel[1].kind, "licencia_comercial");
    assert_eq!(accounts_by_rfc(store, "PECJ800101H31").await, vec![p.clone()]);
    assert!(accounts_by_rfc(store, "GOAN9002284X4").await.is_empty());
    let (la, lc) = (hotel[0].id, hotel[1].id);

    // 4. Open charges: ordered by account, due date, concept, period.
    assert!(store.open_charges(&[]).await.unwrap().is_empty());
    let expected_open = vec![
        key("LA-900001", "refrendo_alcoholes", "2025", "2025-02-28", 3_648_000),
        key("LA-900001", "refrendo_alcoholes", "2026", "2026-02-28", 3_800_000),
        key("LC-900003", "multa_reglamentos", "MR-2025-0042", "2025-11-20", 113_140),
        key("LC-900003", "licencia_comercial", "2026", "2026-03-31", 1_500_050),
        key("P-900001", "predial", "2025-B5", "2025-10-31", 120_000),
        key("P-900001", "predial", "2025-B6", "2025-12-31", 123_456),
        key("P-900001", "predial", "2026-B1", "2026-02-28", 123_456),
    ];
    assert_eq!(open_keys(store, &[p.id, lc, la]).await, expected_open);
    let records = store.open_charges(&[a.id]).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].account_id, a.id);
    assert_eq!(records[0].account.as_str(), "A-900007");

    // 5. Re-importing the same file changes nothing.
    let (result, _) = import(store, &rows_1).await;
    assert_eq!(result.unwrap(), summary(0, 0, 0, 0, 8));
    assert_eq!(store.counts().await.unwrap(), after_first);
    assert_eq!(open_keys(store, &[p.id, lc, la]).await, expected_open);
    assert_eq!(account_by_number(store, "A-900007").await, Some(a.clone()));

    // 6. An updated padrón: open charges follow the file, new ones are added.
    let rows_2 = padron(&padron_2());
    let (result, _) = import(store, &rows_2).await;
    assert_eq!(result.unwrap(), summary(0, 0, 1, 2, 6));
    let after_second = Counts { taxpayers: 3, accounts: 4, charges: 9, open_charges: 9 };
    assert_eq!(store.counts().await.unwrap(), after_second);
    let p_open = open_keys(store, &[p.id]).await;
    assert_eq!(p_open[2], key("P-900001", "predial", "2026-B1", "2026-02-28", 130_000));
    let lc_open = open_keys(store, &[lc]).await;
    assert_eq!(lc_open[0].3, date("2025-11-27"));
    assert_eq!(open_keys(store, &[a.id]).await.len(), 2);

    // 7. A paid charge leaves the open list; re-importing it with the same amount is fine.
    backend.set_status("P-900001", "predial", "2025-B5", ChargeStatus::Paid).await;
    backend.set_status("A-900007", "agua", "2026-01", ChargeStatus::Cancelled).await;
    let p_open = open_keys(store, &[p.id]).await;
    assert_eq!(p_open.iter().map(|k| k.2.as_str()).collect::<Vec<_>>(), ["2025-B6", "2026-B1"]);
    let (result, _) = import(store, &rows_2).await;
    assert_eq!(result.unwrap(), summary(0, 0, 0, 0, 9));
    let after_payment = Counts { taxpayers: 3, accounts: 4, charges: 9, open_charges: 7 };
    assert_eq!(store.counts().await.unwrap(), after_payment);

    // 8. A file that contradicts a paid charge is refused as a whole: nothing changes,
    //    not even its valid rows (a new account, an open charge's new amount).
    let conflicting = padron_2()
        .replace("2025-B5,2025-10-31,1200.00", "2025-B5,2025-10-31,999.00")
        .replace("2026-B1,2026-02-28,1300.00", "2026-B1,2026-02-28,1400.00")
        + "P-900099,predial,GOAN9002284X4,Ana González Núñez,Zaragoza,predial,2026-B1,2026-02-28,800\n";
    let (result, _) = import(store, &padron(&conflicting)).await;
    match result {
        Err(StoreError::ImportConflict { line, account, concept, period, status, stored, incoming }) => {
            assert_eq!(line, 4);
            assert_eq!((account.as_str(), concept.as_str(), period.as_str()), ("P-900001", "predial", "2025-B5"));
            assert_eq!(status, ChargeStatus::Paid);
            assert_eq!((stored, incoming), (Centavos(120_000), Centavos(99_900)));
        }
        other => panic!("expected ImportConflict, got {other:?}"),
    }
    assert_eq!(store.counts().await.unwrap(), after_payment);
    assert!(account_by_number(store, "P-900099").await.is_none());
    assert!(accounts_by_rfc(store, "GOAN9002284X4").await.is_empty());
    assert_eq!(open_keys(store, &[p.id]).await[1].4, Centavos(130_000));

    // Same for a cancelled charge; the message names the line.
    let conflicting = padron_2().replace("agua,2026-01,2026-02-15,250", "agua,2026-01,2026-02-15,260");
    let (result, _) = import(store, &padron(&conflicting)).await;
    let err = result.expect_err("cancelled charge with another amount");
    assert!(matches!(err, StoreError::ImportConflict { status: ChargeStatus::Cancelled, line: 5, .. }), "{err:?}");
    assert!(err.message_es().starts_with("línea 5: la cuenta «A-900007»"), "{}", err.message_es());
    assert_eq!(store.counts().await.unwrap(), after_payment);

    // 9. Duplicate keys handed to the store directly are refused (nothing written).
    let mut dup = padron("P-900050,predial,,Luis Cota,,predial,2026-B1,2026-02-28,10\n");
    dup.push(PadronRow { line: 3, ..dup[0].clone() });
    let (result, _) = import(store, &dup).await;
    assert!(matches!(result, Err(StoreError::DuplicateRow { line: 3, first_line: 2, .. })), "{result:?}");
    assert_eq!(store.counts().await.unwrap(), after_payment);

    // 10. A demo padrón on top: progress every 1000 rows, then idempotent again.
    let today = date("2026-05-20");
    let demo = demo_padron(DEMO_ACCOUNTS, DEFAULT_SEED, today);
    assert!(demo.len() > 1000, "demo has {} rows", demo.len());
    let (result, progress) = import(store, &demo).await;
    let s = result.unwrap();
    assert_eq!(s.accounts_created, DEMO_ACCOUNTS as u64);
    assert_eq!(s.charges_created, demo.len() as u64);
    let mut expected_progress: Vec<usize> = (1..=demo.len() / 1000).map(|k| k * 1000).collect();
    if !demo.len().is_multiple_of(1000) {
        expected_progress.push(demo.len());
    }
    assert_eq!(progress, expected_progress);
    let counts = store.counts().await.unwrap();
    assert_eq!(counts.accounts, 4 + DEMO_ACCOUNTS as u64);
    assert_eq!(counts.charges, 9 + demo.len() as u64);
    assert_eq!(counts.taxpayers, 3 + s.taxpayers_created);
    let (result, _) = import(store, &demo).await;
    assert_eq!(result.unwrap(), summary(0, 0, 0, 0, demo.len() as u64));
    assert_eq!(store.counts().await.unwrap(), counts);
    let first = account_by_number(store, demo[0].account.as_str()).await.unwrap();
    assert_eq!(first.name, demo[0].name);
    assert_eq!(first.rfc.as_deref(), demo[0].rfc.as_ref().map(|r| r.as_str()));
    let first_open = store.open_charges(&[first.id]).await.unwrap();
    let demo_first: Vec<&PadronRow> = demo.iter().filter(|r| r.account == demo[0].account).collect();
    assert_eq!(first_open.len(), demo_first.len());

    // 11. Payment orders.
    orders_chapter(store, p.id).await;

    // 12. Payment attempts and provider events.
    let second = demo.iter().find(|r| r.account != demo[0].account).expect("two demo accounts");
    let second = account_by_number(store, second.account.as_str()).await.expect("second demo account");
    payments_chapter(store, first.id, second.id).await;

    // 13. Official receipts and their folios.
    receipts_chapter(shared.clone(), &demo).await;

    // 14. Background jobs: one process at a time holds a job's lease.
    let t = instant("2026-05-20T18:00:00Z");
    let ttl = std::time::Duration::from_secs(600);
    assert!(store.take_lease("stripe_sweep", "proc-a", t, ttl).await.unwrap());
    assert!(!store.take_lease("stripe_sweep", "proc-b", t, ttl).await.unwrap(), "held by a");
    assert!(store.take_lease("other_job", "proc-b", t, ttl).await.unwrap(), "leases are per job");
    let later = t + chrono::Duration::minutes(5);
    assert!(store.take_lease("stripe_sweep", "proc-a", later, ttl).await.unwrap(), "a renews its own");
    assert!(!store.take_lease("stripe_sweep", "proc-b", later + chrono::Duration::minutes(9), ttl).await.unwrap());
    let expired = later + chrono::Duration::minutes(10);
    assert!(store.take_lease("stripe_sweep", "proc-b", expired, ttl).await.unwrap(), "a died: b takes over");
    assert!(!store.take_lease("stripe_sweep", "proc-a", expired, ttl).await.unwrap());
}

/// Receipts are issued with the payment, one per succeeded order; folios of
/// a series and year are 1, 2, 3… with no gap and no repeat, also when many
/// payments succeed at once; a cancelled receipt keeps its folio.
async fn receipts_chapter(store: Store, demo: &[PadronRow]) {
    let numbers = |rs: &[app::store::Receipt]| rs.iter().map(|r| r.folio.number()).collect::<Vec<u32>>();
    // The chapters above paid through the demonstration provider: their
    // receipts have its own series, gapless too.
    let before = store.receipts_of_series(DEMO_SERIES, 2026).await.unwrap();
    assert!(!before.is_empty(), "the payments above issued receipts");
    assert_eq!(numbers(&before), (1..=u32::try_from(before.len()).unwrap()).collect::<Vec<_>>());
    assert!(before.iter().all(|r| r.is_demo()));
    let online_before = store.receipts_of_series(ONLINE_SERIES, 2026).await.unwrap().len();

    // Sixteen accounts pay at the same moment.
    let at = instant("2026-05-25T17:00:00Z");
    let today = date("2026-05-25");
    let mut accounts: Vec<&str> = Vec::new();
    for r in demo {
        if !accounts.contains(&r.account.as_str()) {
            accounts.push(r.account.as_str());
        }
    }
    let mut paying = Vec::new();
    for (i, number) in accounts.iter().skip(2).take(16).enumerate() {
        let account = account_by_number(&store, number).await.unwrap();
        let open = store.open_charges(&[account.id]).await.unwrap();
        if open.is_empty() {
            continue;
        }
        let wanted = NewOrder { expires_at: instant("2027-12-31T00:00:00Z"), ..new_order(&open, None) };
        let order = store.create_order(&wanted, at).await.unwrap();
        let online =
            NewAttempt { provider: Provider::Stripe, ..attempt(order.id, &format!("key-receipt-{i}"), order.total) };
        let attempt = store.start_attempt(&online, at).await.unwrap();
        paying.push((order, attempt, account));
    }
    assert!(paying.len() >= 10, "enough demo accounts with open charges");
    let mut tasks = Vec::new();
    for (order, attempt, _) in &paying {
        let store = store.clone();
        let paid = ProviderEvent {
            paid_on: None,
            method: Some(Method::Card),
            payment_intent: Some(format!("pi_receipt_{}", attempt.id)),
            provider: Provider::Stripe,
            ..demo_event(
                &format!("evt-receipt-{}", attempt.id),
                attempt.id,
                PaymentEvent::Paid { amount: order.total, currency: CURRENCY_MXN.into() },
            )
        };
        tasks.push(tokio::spawn(async move { store.apply_provider_event(&paid, at, today, keys()).await }));
    }
    for t in tasks {
        assert!(matches!(t.await.unwrap().unwrap(), EventOutcome::Applied(Transition::Moved { .. })));
    }
    let after = store.receipts_of_series(ONLINE_SERIES, 2026).await.unwrap();
    let expected: Vec<u32> = (1..=u32::try_from(online_before + paying.len()).unwrap()).collect();
    assert_eq!(numbers(&after), expected, "gapless, no repeats");
    assert_eq!(store.receipts_of_series(DEMO_SERIES, 2026).await.unwrap(), before, "the other series untouched");
    for (order, attempt, account) in &paying {
        let r = store.receipt_of_order(order.id).await.unwrap().expect("one receipt per paid order");
        assert_eq!(r.folio.to_string(), format!("A-2026-{:06}", r.folio.number()));
        assert_eq!(
            (r.total, r.issued_on, r.issued_at, r.account.as_str(), r.payer_name.as_str()),
            (order.total, today, at, account.number.as_str(), account.name.as_str())
        );
        assert_eq!(
            (r.attempt_id, r.method, r.provider, r.provider_reference.clone()),
            (Some(attempt.id), Some(Method::Card), Some(Provider::Stripe), Some(format!("pi_receipt_{}", attempt.id)))
        );
        // Signed when issued: the signature verifies against the keyring.
        assert_eq!(r.status, app::store::ReceiptStatus::Valid);
        let facts =
            app::domain::receipt_sig::ReceiptFacts::new(r.folio.clone(), r.total, r.issued_on, &r.account).unwrap();
        let token = r.signature.clone().expect("signed at issue");
        assert!(app::domain::receipt_sig::verify(&facts, &token, &keys().keyring()).is_authentic(), "{token}");
        assert_eq!(store.receipt_by_folio(&r.folio).await.unwrap(), Some(r));
    }
    assert!(store.unsigned_receipts(1000).await.unwrap().is_empty(), "every receipt is signed at issue");

    // A receipt stored unsigned (issued before receipts were signed at
    // issue) is signed once: a second signature never replaces the first.
    let first = after[0].clone();
    sqlx::query("UPDATE receipts SET signature = NULL, key_id = NULL WHERE id = $1")
        .bind(first.id)
        .execute(store.pool())
        .await
        .unwrap();
    assert!(store.unsigned_receipts(1000).await.unwrap().iter().any(|r| r.id == first.id));
    store.set_receipt_signature(first.id, "k1", "k1.first").await.unwrap();
    store.set_receipt_signature(first.id, "k2", "k2.second").await.unwrap();
    let signed = store.receipt_by_folio(&first.folio).await.unwrap().unwrap();
    assert_eq!(signed.signature.as_deref(), Some("k1.first"));
    assert!(!store.unsigned_receipts(1000).await.unwrap().iter().any(|r| r.id == first.id));

    // Cancelled: the folio stays, with its reason; it is never reused.
    let last = after.last().unwrap().clone();
    assert!(store.cancel_receipt(&last.folio, "Pago aplicado a otra cuenta", "cli:test", at).await.unwrap());
    assert!(!store.cancel_receipt(&last.folio, "otra vez", "cli:test", at).await.unwrap());
    let unknown = app::domain::folio::Folio::parse("A-2026-999999").unwrap();
    assert!(!store.cancel_receipt(&unknown, "no existe", "cli:test", at).await.unwrap());
    let cancelled = store.receipt_by_folio(&last.folio).await.unwrap().unwrap();
    assert_eq!(
        cancelled.status,
        app::store::ReceiptStatus::Cancelled { reason: "Pago aplicado a otra cuenta".into(), at }
    );

    // A new fiscal year starts its own count; the old one goes on.
    let mut more = Vec::new();
    for number in accounts.iter().skip(18).take(6) {
        let account = account_by_number(&store, number).await.unwrap();
        let open = store.open_charges(&[account.id]).await.unwrap();
        if !open.is_empty() {
            more.push(open);
        }
    }
    assert!(more.len() >= 2);
    let pay = |open: Vec<app::store::ChargeRecord>, key: &'static str, today: NaiveDate| {
        let store = store.clone();
        async move {
            let wanted = NewOrder { expires_at: instant("2027-12-31T00:00:00Z"), ..new_order(&open, None) };
            let order = store.create_order(&wanted, at).await.unwrap();
            let online = NewAttempt { provider: Provider::Stripe, ..attempt(order.id, key, order.total) };
            let a = store.start_attempt(&online, at).await.unwrap();
            let paid = ProviderEvent {
                paid_on: None,
                provider: Provider::Stripe,
                ..demo_event(key, a.id, PaymentEvent::Paid { amount: order.total, currency: CURRENCY_MXN.into() })
            };
            store.apply_provider_event(&paid, at, today, keys()).await.unwrap();
            store.receipt_of_order(order.id).await.unwrap().unwrap()
        }
    };
    let new_year = pay(more.pop().unwrap(), "key-2027", date("2027-01-01")).await;
    assert_eq!(new_year.folio.to_string(), "A-2027-000001");
    let same_year = pay(more.pop().unwrap(), "key-2026-late", today).await;
    assert_eq!(same_year.folio.number(), last.folio.number() + 1, "the cancelled folio is not reused");
    assert_eq!(
        same_year.provider_reference.as_deref(),
        Some("key-2026-late"),
        "the event id when there is no payment id"
    );
}

/// The receipts' signing keys of these tests.
pub(crate) fn keys() -> &'static ReceiptKeys {
    static KEYS: OnceLock<ReceiptKeys> = OnceLock::new();
    KEYS.get_or_init(|| ReceiptKeys::from_seed([7; 32]))
}

fn demo_event(event_id: &str, attempt_id: i64, event: PaymentEvent) -> ProviderEvent {
    ProviderEvent {
        paid_on: None,
        provider: Provider::Demo,
        event_id: event_id.into(),
        attempt_id,
        event,
        method: None,
        instructions: None,
        payment_intent: None,
    }
}

async fn payments_chapter(store: &Store, account_a: i64, account_b: i64) {
    let t0 = instant("2026-05-20T18:00:00Z");
    let open = store.open_charges(&[account_a]).await.unwrap();
    assert!(!open.is_empty());
    let order = store.create_order(&new_order(&open, None), t0).await.unwrap();
    let a1 = store.start_attempt(&attempt(order.id, "key-a1", order.total), t0).await.unwrap();
    assert_eq!((a1.status, a1.order_id, a1.amount), (AttemptStatus::Pending, order.id, order.total));
    assert_eq!(store.get_order(order.id).await.unwrap().unwrap().status, OrderStatus::Pending);
    // A second checkout of a pending order is refused, and writes nothing.
    assert!(matches!(
        store.start_attempt(&attempt(order.id, "key-a2", order.total), t0).await,
        Err(StoreError::Transition { .. })
    ));
    assert_eq!(store.attempts_of_order(order.id).await.unwrap(), vec![a1.clone()]);
    // The healing sweep's work list, and the provider's id recorded once.
    assert_eq!(store.attempts_to_check(Provider::Demo, t0, t0).await.unwrap(), vec![a1.clone()]);
    assert!(store.attempts_to_check(Provider::Demo, t0 - chrono::Duration::seconds(1), t0).await.unwrap().is_empty());
    assert!(store.attempts_to_check(Provider::Stripe, t0, t0).await.unwrap().is_empty());
    // Asked about: not again before its next check.
    let next = t0 + chrono::Duration::hours(1);
    store.set_attempt_next_check(a1.id, next).await.unwrap();
    assert!(store.attempts_to_check(Provider::Demo, t0, t0).await.unwrap().is_empty());
    let a1 = store.get_attempt(a1.id).await.unwrap().unwrap();
    assert_eq!(a1.next_check_at, Some(next));
    assert_eq!(store.attempts_to_check(Provider::Demo, t0, next).await.unwrap(), vec![a1.clone()]);
    assert!(store.set_attempt_provider_ref(a1.id, "cs_test_1", t0).await.unwrap());
    assert!(!store.set_attempt_provider_ref(a1.id, "cs_test_2", t0).await.unwrap(), "set once");
    assert_eq!(store.get_attempt(a1.id).await.unwrap().unwrap().provider_ref.as_deref(), Some("cs_test_1"));

    // The same Paid event three times at once, on three tasks of a
    // multi-threaded runtime (three connections): applied once.
    let paid = demo_event("evt-paid", a1.id, PaymentEvent::Paid { amount: order.total, currency: CURRENCY_MXN.into() });
    let start = Arc::new(tokio::sync::Barrier::new(3));
    let deliveries: Vec<_> = (0..3)
        .map(|_| {
            let (store, paid, start) = (store.clone(), paid.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                store.apply_provider_event(&paid, t0, t0.date_naive(), keys()).await
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for d in deliveries {
        outcomes.push(d.await.unwrap().unwrap());
    }
    outcomes.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(
        outcomes,
        [
            EventOutcome::Applied(Transition::Moved { from: OrderStatus::Pending, to: OrderStatus::Succeeded }),
            EventOutcome::Duplicate,
            EventOutcome::Duplicate,
        ]
    );
    assert!(store.open_charges(&[account_a]).await.unwrap().is_empty());
    assert_eq!(store.get_attempt(a1.id).await.unwrap().unwrap().status, AttemptStatus::Succeeded);
    let done = store.get_order(order.id).await.unwrap().unwrap();
    assert_eq!(done.transitions.iter().filter(|t| t.to == OrderStatus::Succeeded).count(), 1);
    assert!(matches!(
        store.start_attempt(&attempt(order.id, "key-a3", order.total), t0).await,
        Err(StoreError::Transition { .. })
    ));
    assert!(matches!(
        store
            .apply_provider_event(
                &demo_event("evt-x", a1.id + 1000, PaymentEvent::Expired),
                t0,
                t0.date_naive(),
                keys()
            )
            .await,
        Err(StoreError::AttemptNotFound(_))
    ));

    // OXXO voucher, then the order expires and the cash arrives too late.
    let open_b = store.open_charges(&[account_b]).await.unwrap();
    assert!(!open_b.is_empty());
    let order_b = store.create_order(&new_order(&open_b, None), t0).await.unwrap();
    let b1 = store.start_attempt(&attempt(order_b.id, "key-b1", order_b.total), t0).await.unwrap();
    // The voucher is valid two days longer than the order: the order lives as long.
    let slip = Instructions::Oxxo {
        number: "93000001".into(),
        expires_at: Some(instant("2026-05-23T07:00:00Z")),
        url: Some("https://payments.stripe.com/oxxo/voucher/test".into()),
    };
    let voucher = ProviderEvent {
        paid_on: None,
        method: Some(Method::Oxxo),
        instructions: Some(slip.clone()),
        payment_intent: Some("pi_test_b1".into()),
        ..demo_event("evt-voucher", b1.id, PaymentEvent::AwaitingAsync)
    };
    assert_eq!(
        store.apply_provider_event(&voucher, t0, t0.date_naive(), keys()).await.unwrap(),
        EventOutcome::Applied(Transition::AlreadyThere(OrderStatus::Pending))
    );
    let b1 = store.get_attempt(b1.id).await.unwrap().unwrap();
    assert_eq!((b1.method, b1.instructions.as_ref()), (Some(Method::Oxxo), Some(&slip)));
    assert_eq!(b1.payment_intent.as_deref(), Some("pi_test_b1"));
    assert_eq!(store.get_order(order_b.id).await.unwrap().unwrap().expires_at, instant("2026-05-23T07:00:00Z"));
    assert_eq!(store.expire_due_orders(instant("2026-05-21T07:00:00Z")).await.unwrap(), 0, "the voucher still runs");
    assert_eq!(store.expire_due_orders(instant("2026-05-23T07:00:00Z")).await.unwrap(), 1);
    let t1 = instant("2026-05-23T09:00:00Z");
    let late =
        |id: &str| demo_event(id, b1.id, PaymentEvent::Paid { amount: order_b.total, currency: CURRENCY_MXN.into() });
    assert_eq!(
        store.apply_provider_event(&late("evt-late-1"), t1, t1.date_naive(), keys()).await.unwrap(),
        EventOutcome::Overpayment { reason: OverpaymentReason::PaidAfterExpired }
    );
    assert_eq!(
        store.apply_provider_event(&late("evt-late-1"), t1, t1.date_naive(), keys()).await.unwrap(),
        EventOutcome::Duplicate
    );
    assert!(matches!(
        store.apply_provider_event(&late("evt-late-2"), t1, t1.date_naive(), keys()).await.unwrap(),
        EventOutcome::Overpayment { .. }
    ));
    let over = store.overpayments_of_order(order_b.id).await.unwrap();
    assert_eq!(over.len(), 1, "one overpayment per attempt, never two");
    assert_eq!((over[0].attempt_id, over[0].amount, over[0].created_at), (b1.id, order_b.total, t1));
    assert_eq!(store.get_attempt(b1.id).await.unwrap().unwrap().status, AttemptStatus::Overpaid);
    assert_eq!(store.open_charges(&[account_b]).await.unwrap(), open_b, "an overpayment pays no charge");
    assert_eq!(store.get_order(order_b.id).await.unwrap().unwrap().status, OrderStatus::Expired);

    // Its refund: to refund, failed (retried), refunded, and refunded stays.
    assert_eq!((over[0].refund, over[0].provider.as_str()), (RefundStatus::ToRefund, "demo"));
    assert_eq!(over[0].payment_intent.as_deref(), Some("pi_test_b1"));
    assert_eq!(store.overpayments_to_refund(Provider::Demo).await.unwrap(), over);
    assert!(store.overpayments_to_refund(Provider::Stripe).await.unwrap().is_empty());
    store.record_refund(over[0].id, Err("Stripe no respondió"), t1).await.unwrap();
    let failed = store.overpayments_of_order(order_b.id).await.unwrap();
    assert_eq!(
        (failed[0].refund, failed[0].refund_error.as_deref()),
        (RefundStatus::RefundFailed, Some("Stripe no respondió"))
    );
    assert_eq!(store.overpayments_to_refund(Provider::Demo).await.unwrap().len(), 1, "a failed refund is retried");
    store.record_refund(over[0].id, Ok("re_test_1"), t1).await.unwrap();
    store.record_refund(over[0].id, Err("late failure"), t1).await.unwrap();
    let done = store.overpayments_of_order(order_b.id).await.unwrap();
    assert_eq!(
        (done[0].refund, done[0].refund_ref.as_deref(), done[0].refunded_at),
        (RefundStatus::Refunded, Some("re_test_1"), Some(t1))
    );
    assert!(store.overpayments_to_refund(Provider::Demo).await.unwrap().is_empty());

    // A pending Stripe attempt keeps its order past the expiry: Stripe's word decides.
    let order_c = store.create_order(&new_order(&open_b, None), t1).await.unwrap();
    let c1 = store
        .start_attempt(&NewAttempt { provider: Provider::Stripe, ..attempt(order_c.id, "key-c1", order_c.total) }, t1)
        .await
        .unwrap();
    let far = instant("2026-06-30T00:00:00Z");
    assert_eq!(store.expire_due_orders(far).await.unwrap(), 0);
    assert_eq!(store.get_order(order_c.id).await.unwrap().unwrap().status, OrderStatus::Pending);
    assert_eq!(store.attempts_to_check(Provider::Stripe, far, far).await.unwrap(), vec![c1.clone()]);
    let expired = demo_event("evt-c1-expired", c1.id, PaymentEvent::Expired);
    let expired = ProviderEvent { provider: Provider::Stripe, ..expired };
    assert!(matches!(
        store.apply_provider_event(&expired, far, far.date_naive(), keys()).await.unwrap(),
        EventOutcome::Applied(_)
    ));
    assert_eq!(store.get_order(order_c.id).await.unwrap().unwrap().status, OrderStatus::Expired);
    assert!(store.attempts_to_check(Provider::Stripe, far, far).await.unwrap().is_empty());
}

/// A demo attempt of `order_id`.
fn attempt(order_id: i64, key: &str, amount: Centavos) -> NewAttempt {
    NewAttempt {
        order_id,
        provider: app::domain::payment::Provider::Demo,
        provider_ref: None,
        idempotency_key: key.into(),
        amount,
    }
}

pub(crate) fn instant(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// An order for `charges` frozen with made-up recargos (the store does not
/// quote: it keeps what it is given).
pub(crate) fn new_order(charges: &[app::store::ChargeRecord], requoted_from: Option<i64>) -> NewOrder {
    let items: Vec<OrderItem> = charges
        .iter()
        .map(|c| OrderItem {
            charge_id: c.id,
            account: c.account.to_string(),
            concept: c.concept.clone(),
            period: c.period.clone(),
            due_date: c.due_date,
            principal: c.principal,
            recargos: Centavos(1_000),
            discount: Centavos(500),
            total: c.principal + Centavos(500),
        })
        .collect();
    let subtotal: Centavos = items.iter().map(|i| i.total).sum();
    NewOrder {
        items,
        subtotal,
        rounding: Centavos(44),
        total: subtotal + Centavos(44),
        expires_at: instant("2026-05-21T07:00:00Z"),
        requoted_from,
        reference_prefix: 7,
        issued_on: date("2026-05-20"),
    }
}

/// P-900001 has two open charges here (2025-B6 and 2026-B1).
async fn orders_chapter(store: &Store, account_id: i64) {
    let created_at = instant("2026-05-20T17:30:00.123456Z");
    let open = store.open_charges(&[account_id]).await.unwrap();
    assert_eq!(open.len(), 2);
    let open_before = store.counts().await.unwrap().open_charges;

    // Created in one go: items, first transition, a random token and a
    // reference with a random serial.
    let wanted = new_order(&open, None);
    let order = store.create_order(&wanted, created_at).await.unwrap();
    assert_eq!(order.status, OrderStatus::Created);
    assert_eq!(order.items, wanted.items);
    assert_eq!((order.subtotal, order.rounding, order.total), (wanted.subtotal, wanted.rounding, wanted.total));
    assert_eq!(order.currency, "MXN");
    assert_eq!(order.expires_at, wanted.expires_at);
    assert_eq!((order.created_at, order.updated_at), (created_at, created_at));
    assert_eq!(order.requoted_from, None);
    let reference = OrderReference::parse(&order.reference).unwrap();
    assert_eq!((reference.municipality_prefix(), reference.year_suffix()), (7, 26));
    assert_ne!(reference.serial(), order.id as u64, "the serial is random, not the id");
    assert_eq!(order.token.as_str().len(), 32);
    assert_eq!(store.order_id_by_token(&order.token).await.unwrap(), Some(order.id));
    let unknown = app::domain::order_token::OrderToken::from_bytes([7; 16]);
    assert_eq!(store.order_id_by_token(&unknown).await.unwrap(), None);
    assert_eq!(order.transitions.len(), 1);
    assert_eq!(order.transitions[0].from, None);
    assert_eq!(order.transitions[0].to, OrderStatus::Created);
    assert_eq!(order.transitions[0].at, created_at);
    assert_eq!(store.get_order(order.id).await.unwrap(), Some(order.clone()));
    assert_eq!(store.get_order(order.id + 1000).await.unwrap(), None);

    // The same charges cannot sit in two live orders, even one at a time.
    match store.create_order(&new_order(&open[1..], None), created_at).await {
        Err(StoreError::ChargesInLiveOrder(ids)) => assert_eq!(ids, vec![open[1].id]),
        other => panic!("expected ChargesInLiveOrder, got {other:?}"),
    }

    // Guarded transitions, each stored with its timestamp.
    let t1 = instant("2026-05-20T17:31:00Z");
    assert_eq!(
        store.apply_transition(order.id, &PaymentEvent::Redirected, t1, t1.date_naive(), keys()).await.unwrap(),
        Transition::Moved { from: OrderStatus::Created, to: OrderStatus::Pending }
    );
    assert_eq!(
        store.apply_transition(order.id, &PaymentEvent::AwaitingAsync, t1, t1.date_naive(), keys()).await.unwrap(),
        Transition::AlreadyThere(OrderStatus::Pending)
    );
    match store.apply_transition(order.id, &PaymentEvent::Redirected, t1, t1.date_naive(), keys()).await {
        Err(StoreError::Transition { order_id, source: TransitionError::NotAllowed { .. } }) => {
            assert_eq!(order_id, order.id)
        }
        other => panic!("expected a refused transition, got {other:?}"),
    }
    assert!(matches!(
        store.apply_transition(order.id + 1000, &PaymentEvent::Redirected, t1, t1.date_naive(), keys()).await,
        Err(StoreError::OrderNotFound(_))
    ));

    // Lazy expiry: nothing before the end of the day, then the order expires
    // and its charges are free again.
    assert_eq!(store.expire_due_orders(instant("2026-05-21T06:59:59Z")).await.unwrap(), 0);
    let t2 = instant("2026-05-21T07:00:00Z");
    assert_eq!(store.expire_due_orders(t2).await.unwrap(), 1);
    assert_eq!(store.expire_due_orders(t2).await.unwrap(), 0);
    let expired = store.get_order(order.id).await.unwrap().unwrap();
    assert_eq!(expired.status, OrderStatus::Expired);
    assert_eq!(expired.updated_at, t2);
    let moves: Vec<(Option<OrderStatus>, OrderStatus, &str, DateTime<Utc>)> =
        expired.transitions.iter().map(|t| (t.from, t.to, t.event.map_or("created", |e| e.as_str()), t.at)).collect();
    assert_eq!(
        moves,
        [
            (None, OrderStatus::Created, "created", created_at),
            (Some(OrderStatus::Created), OrderStatus::Pending, "redirected", t1),
            (Some(OrderStatus::Pending), OrderStatus::Expired, "expired", t2),
        ]
    );

    // Six orders for the same charges at once, each on its own task of a
    // multi-threaded runtime (its own connection): exactly one wins.
    let requote = new_order(&open, Some(order.id));
    let start = Arc::new(tokio::sync::Barrier::new(6));
    let racers: Vec<_> = (0..6)
        .map(|_| {
            let (store, requote, start) = (store.clone(), requote.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                store.create_order(&requote, t2).await
            })
        })
        .collect();
    let mut won = Vec::new();
    for r in racers {
        match r.await.unwrap() {
            Ok(o) => won.push(o),
            Err(e) => assert!(matches!(e, StoreError::ChargesInLiveOrder(ref ids) if !ids.is_empty()), "{e:?}"),
        }
    }
    assert_eq!(won.len(), 1, "exactly one order holds the charges");
    let won = won.pop().unwrap();
    assert_eq!(won.requoted_from, Some(order.id));
    assert_ne!(won.reference, order.reference);

    // Paid while four more orders for the same charges are being created,
    // all at once: the payment lands once, no other order gets the
    // charges (held, then paid), and they are paid exactly once.
    let paid = PaymentEvent::Paid { amount: won.total, currency: CURRENCY_MXN.into() };
    let t3 = instant("2026-05-21T08:00:00Z");
    let start = Arc::new(tokio::sync::Barrier::new(5));
    let payer = {
        let (store, paid, start, id) = (store.clone(), paid.clone(), start.clone(), won.id);
        tokio::spawn(async move {
            start.wait().await;
            store.apply_transition(id, &paid, t3, t3.date_naive(), keys()).await
        })
    };
    let creators: Vec<_> = (0..4)
        .map(|_| {
            let (store, again, start) = (store.clone(), new_order(&open, None), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                store.create_order(&again, t3).await
            })
        })
        .collect();
    assert!(payer.await.unwrap().unwrap().is_change());
    for c in creators {
        let refused = c.await.unwrap();
        assert!(matches!(refused, Err(StoreError::ChargesInLiveOrder(_) | StoreError::ChargesNotOpen)), "{refused:?}");
    }
    // An order quoted before the payment and created after it: the charges
    // are re-checked inside its transaction.
    let stale = store.create_order(&new_order(&open, None), t3).await;
    assert!(matches!(stale, Err(StoreError::ChargesNotOpen)), "{stale:?}");
    assert!(store.open_charges(&[account_id]).await.unwrap().is_empty());
    assert_eq!(store.counts().await.unwrap().open_charges, open_before - 2);
    assert_eq!(
        store.apply_transition(won.id, &paid, t3, t3.date_naive(), keys()).await.unwrap(),
        Transition::AlreadyThere(OrderStatus::Succeeded)
    );
    assert!(matches!(
        store.apply_transition(won.id, &PaymentEvent::Cancelled, t3, t3.date_naive(), keys()).await,
        Err(StoreError::Transition { source: TransitionError::Final { .. }, .. })
    ));
    // A paid order is final: it never expires.
    assert_eq!(store.expire_due_orders(instant("2027-01-01T00:00:00Z")).await.unwrap(), 0);
    let done = store.get_order(won.id).await.unwrap().unwrap();
    assert_eq!(done.status, OrderStatus::Succeeded);
    assert_eq!(done.transitions.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn story_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("recauda.db");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let path = path.to_str().unwrap().to_string();
    assert!(!std::path::Path::new(&path).exists());
    let store = Store::connect(&path).await.unwrap();
    assert!(std::path::Path::new(&path).exists(), "database file created");

    let url = format!("sqlite:{path}");
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut conn).await.unwrap();
    assert_eq!(mode, "wal");
    conn.close().await.unwrap();

    story(store, Backend::Sqlite(url.clone())).await;

    // Reopening runs no migration twice and keeps the data.
    let again = Store::connect(&url).await.unwrap();
    assert_eq!(again.counts().await.unwrap().accounts, 4 + DEMO_ACCOUNTS as u64);
}

#[tokio::test]
async fn sqlite_in_memory_url() {
    let store = Store::connect("sqlite::memory:").await.unwrap();
    let rows = padron(PADRON_1);
    let (result, _) = import(&store, &rows).await;
    assert_eq!(result.unwrap(), summary(3, 4, 8, 0, 0));
    assert_eq!(store.counts().await.unwrap().charges, 8);
}

#[tokio::test]
async fn connect_error_keeps_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing-dir").join("recauda.db");
    let err = match Store::connect(path.to_str().unwrap()).await {
        Err(e) => e,
        Ok(_) => panic!("the directory does not exist"),
    };
    assert!(matches!(err, StoreError::Connect { .. }), "{err:?}");
    assert!(err.to_string().contains("missing-dir"), "{err}");
    assert!(std::error::Error::source(&err).is_some());
}

/// Runs `test` with the URL of a fresh PostgreSQL database (created on
/// `RECAUDA_TEST_POSTGRES_URL`'s server, dropped afterwards, even when the
/// test panics: the panic is then resumed). Without that variable it skips,
/// except under CI, where PostgreSQL must not be skipped.
pub(crate) async fn on_fresh_postgres<F, Fut>(label: &str, test: F)
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let Ok(admin_url) = std::env::var("RECAUDA_TEST_POSTGRES_URL") else {
        assert!(std::env::var("CI").is_err(), "CI is set but RECAUDA_TEST_POSTGRES_URL is not");
        println!("skipped: RECAUDA_TEST_POSTGRES_URL not set");
        return;
    };
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    // Only digits and ASCII letters: safe to splice into the DDL below.
    assert!(label.bytes().all(|b| b.is_ascii_lowercase()), "{label}");
    let db = format!("recauda_{label}_{}_{}", std::process::id(), nanos);
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.expect("connect to RECAUDA_TEST_POSTGRES_URL");
    sqlx::query(&format!("CREATE DATABASE \"{db}\"")).execute(&mut admin).await.unwrap();
    let outcome = tokio::spawn(test(with_database(&admin_url, &db))).await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)")).execute(&mut admin).await.unwrap();
    admin.close().await.unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// `admin_url` with its database name replaced.
pub(crate) fn with_database(admin_url: &str, db: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin_url, None),
    };
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn story_postgres() {
    let Ok(admin_url) = std::env::var("RECAUDA_TEST_POSTGRES_URL") else {
        // CI must never skip the PostgreSQL story: .ci/test starts a server.
        assert!(
            std::env::var("CI").is_err(),
            "CI is set but RECAUDA_TEST_POSTGRES_URL is not: .ci/postgres did not run"
        );
        println!("skipped: RECAUDA_TEST_POSTGRES_URL not set");
        return;
    };
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    // Only digits and ASCII letters: safe to splice into the DDL below.
    let db = format!("recauda_test_{}_{}", std::process::id(), nanos);
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.expect("connect to RECAUDA_TEST_POSTGRES_URL");
    sqlx::query(&format!("CREATE DATABASE \"{db}\"")).execute(&mut admin).await.unwrap();

    let url = with_database(&admin_url, &db);
    let outcome = tokio::spawn(async move {
        let store = Store::connect(&url).await.unwrap();
        story(store, Backend::Postgres(url)).await;
    })
    .await;

    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)")).execute(&mut admin).await.unwrap();
    admin.close().await.unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// A database left by migrations 0001–0003 (an OXXO voucher in the old
/// `voucher_reference` column, an overpayment) upgraded by [`connect`]:
/// nothing is lost.
async fn upgrade_keeps_payments(backend: &str, url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations").join(backend);
    for n in ["0001_init.sql", "0002_payment_orders.sql", "0003_payment_attempts.sql"] {
        std::fs::copy(source.join(n), dir.path().join(n)).unwrap();
    }
    let old = sqlx::migrate::Migrator::new(dir.path()).await.unwrap();
    let at = "2026-05-20T18:00:00.000000Z";
    let rows = [
        "INSERT INTO payment_orders (id, reference, status, subtotal_centavos, rounding_centavos, total_centavos, \
         expires_at, created_at, updated_at) VALUES (41, '0726000000004168', 'expired', 36000, 0, 36000, \
         '2026-05-21T07:00:00.000000Z', '2026-05-20T18:00:00.000000Z', '2026-05-21T07:00:00.000000Z')",
        "INSERT INTO payment_attempts (id, order_id, provider, idempotency_key, method, voucher_reference, status, \
         amount_centavos, created_at, updated_at) VALUES (7, 41, 'demo', 'key-old', 'oxxo', '93000001', 'overpaid', \
         36000, '2026-05-20T18:00:00.000000Z', '2026-05-21T09:00:00.000000Z')",
        "INSERT INTO overpayments (order_id, attempt_id, amount_centavos, reason, created_at) \
         VALUES (41, 7, 36000, 'paid_after_expired', '2026-05-21T09:00:00.000000Z')",
        // Account numbers imported in lower case before they were normalised;
        // one whose upper-case form also exists stays as it was.
        "INSERT INTO taxpayers (id, person_kind, name) VALUES (1, 'fisica', 'Luis Cota')",
        "INSERT INTO accounts (id, number, kind, taxpayer_id) VALUES (1, 'p-000777', 'predial', 1)",
        "INSERT INTO accounts (id, number, kind, taxpayer_id) VALUES (2, 'a-000001', 'agua', 1)",
        "INSERT INTO accounts (id, number, kind, taxpayer_id) VALUES (3, 'A-000001', 'agua', 1)",
    ];
    if backend == "sqlite" {
        let pool = sqlx::SqlitePool::connect(&format!("{url}?mode=rwc")).await.unwrap();
        old.run(&pool).await.unwrap();
        for r in rows {
            sqlx::query(r).execute(&pool).await.unwrap();
        }
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        old.run(&pool).await.unwrap();
        for r in rows {
            // Explicit ids into identity columns.
            let r = if r.contains("(id,") {
                r.replacen(" VALUES (", " OVERRIDING SYSTEM VALUE VALUES (", 1)
            } else {
                r.into()
            };
            sqlx::query(&r).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }
    let store = Store::connect(url).await.unwrap();
    assert_eq!(account_by_number(&store, "P-000777").await.map(|a| a.id), Some(1), "upper-cased by the migration");
    assert_eq!(account_by_number(&store, "A-000001").await.map(|a| a.id), Some(3));
    let kept: String =
        sqlx::query_scalar("SELECT number FROM accounts WHERE id = 2").fetch_one(store.pool()).await.unwrap();
    assert_eq!(kept, "a-000001", "a clash is left for the treasury");
    let attempt = store.get_attempt(7).await.unwrap().unwrap();
    assert_eq!(
        (attempt.method, attempt.status, attempt.instructions),
        (
            Some(Method::Oxxo),
            AttemptStatus::Overpaid,
            Some(Instructions::Oxxo { number: "93000001".into(), expires_at: None, url: None })
        )
    );
    let over = store.overpayments_of_order(41).await.unwrap();
    assert_eq!(over.len(), 1);
    assert_eq!(
        (over[0].attempt_id, over[0].amount, over[0].refund, over[0].created_at),
        (7, Centavos(36_000), RefundStatus::ToRefund, instant(at) + chrono::Duration::hours(15))
    );
    assert_eq!(store.overpayments_to_refund(Provider::Demo).await.unwrap(), over);
}

#[tokio::test]
async fn upgrading_a_sqlite_database_keeps_its_payments() {
    let dir = tempfile::tempdir().unwrap();
    upgrade_keeps_payments("sqlite", &format!("sqlite://{}", dir.path().join("old.db").display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrading_a_postgres_database_keeps_its_payments() {
    let Ok(admin_url) = std::env::var("RECAUDA_TEST_POSTGRES_URL") else {
        assert!(std::env::var("CI").is_err(), "CI is set but RECAUDA_TEST_POSTGRES_URL is not");
        println!("skipped: RECAUDA_TEST_POSTGRES_URL not set");
        return;
    };
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    // Only digits and ASCII letters: safe to splice into the DDL below.
    let db = format!("recauda_upgrade_{}_{}", std::process::id(), nanos);
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE \"{db}\"")).execute(&mut admin).await.unwrap();
    let url = with_database(&admin_url, &db);
    let outcome = tokio::spawn(async move { upgrade_keeps_payments("postgres", &url).await }).await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)")).execute(&mut admin).await.unwrap();
    admin.close().await.unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

#[test]
fn database_url_rewriting() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5433/postgres", "x"),
        "postgres://postgres@127.0.0.1:5433/x"
    );
    assert_eq!(with_database("postgresql://u:p@h/db?sslmode=disable", "x"), "postgresql://u:p@h/x?sslmode=disable");
    assert_eq!(with_database("postgres://h:5432", "x"), "postgres://h:5432/x");
}
