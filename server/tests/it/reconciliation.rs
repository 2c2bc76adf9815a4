//! The treasury's reconciliation with Stripe: payouts and their balance
//! transactions served by the in-process fake (`stripe::PayoutBuilder`,
//! built on Stripe's published payout, balance transaction, charge, refund
//! and dispute objects), fetched through the real client and pages, judged
//! item by item, healed through the provider-event path; and the store's
//! part on SQLite and PostgreSQL.

use app::domain::money::Centavos;
use app::domain::payment::{OrderStatus, PaymentEvent, Provider, CURRENCY_MXN};
use app::domain::staff::Role;
use app::reconciliation::{FetchedItem, FetchedPayout, PayoutStatus, Verdict};
use app::store::{EventOutcome, HealNote, NewAttempt, ProviderEvent, Store};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use crate::common::TestApp;
use crate::staff::{get_as, page_token, post_as, session, staff};
use crate::store_story::{account_by_number, instant, keys, new_order, on_fresh_postgres};
use crate::stripe::{harness, order, order_and_checkout, paid_by_card, set_session, Harness, PayoutBuilder};

const HOME: &str = "/personal/tesoreria/conciliacion";

/// 20 November 2026, noon UTC: the day before the test servers' today.
fn payout_time() -> i64 {
    instant("2026-11-20T12:00:00Z").timestamp()
}

async fn total_of(app: &TestApp, id: i64) -> i64 {
    app.store.get_order(id).await.unwrap().unwrap().total.0
}

async fn token(app: &TestApp, id: i64) -> String {
    app.store.get_order(id).await.unwrap().unwrap().token.to_string()
}

async fn audits(app: &TestApp, action: &str) -> usize {
    app.store.audit_entries(action, "", 1000).await.unwrap().len()
}

/// POSTs "Traer depósitos de Stripe" as `cookie`: the status and the page.
async fn fetch(app: &TestApp, cookie: &str, since: &str) -> (u16, String) {
    let token = page_token(app, cookie).await;
    let r = post_as(app, HOME, cookie, &format!("csrf={token}&desde={since}")).await;
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

async fn get_page(app: &TestApp, cookie: &str, path: &str) -> (u16, String) {
    let r = get_as(app, path, Some(cookie)).await;
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

/// The `data-verdict` of each item of a report page, in order.
fn verdicts(html: &str) -> Vec<String> {
    html.split("data-verdict=\"").skip(1).map(|s| s.split('"').next().unwrap().to_string()).collect()
}

/// The `data-item` (balance transaction id) of the item whose verdict is `verdict`.
fn item_with(html: &str, verdict: &str) -> String {
    let at = html.find(&format!("data-verdict=\"{verdict}\"")).expect(verdict);
    html[at..].split("data-item=\"").nth(1).unwrap().split('"').next().unwrap().to_string()
}

fn dd(html: &str, testid: &str) -> String {
    html.split(&format!("data-testid=\"{testid}\">")).nth(1).unwrap().split('<').next().unwrap().to_string()
}

async fn row_count(app: &TestApp, table: &str) -> i64 {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", app.db_path.display())).await.unwrap();
    let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&pool).await.unwrap();
    pool.close().await;
    n
}

/// Another account in the padrón, with one open charge of 500.00.
async fn extra_account(app: &TestApp, account: &str) {
    let row = format!("{account},predial,,Juan Pérez Soto,Centro,predial,2026-B6,2026-12-31,500.00\n");
    let body = format!("{}{row}", crate::common::TEST_PADRON);
    let rows = server::import::parse_padron(body.as_bytes()).unwrap();
    app.store.import_padron(&rows, &|_| {}).await.unwrap();
}

async fn people(h: &Harness) -> (String, String) {
    staff(&h.app, "tesorera", &[Role::Tesorero]).await;
    staff(&h.app, "cajera", &[Role::Cajero]).await;
    (session(&h.app, "tesorera").await, session(&h.app, "cajera").await)
}

#[tokio::test]
async fn payouts_are_fetched_matched_and_reported_item_by_item() {
    let h = harness().await;
    let (tesorera, cajera) = people(&h).await;
    // Three card payments applied by their webhooks.
    let (a, _) = paid_by_card(&h, "P-000002", "pi_rec_a").await;
    let (b, _) = paid_by_card(&h, "A-000003", "pi_rec_b").await;
    let (c, _) = paid_by_card(&h, "P-000001", "pi_rec_c").await;
    let (ta, tb, tc) = (total_of(&h.app, a).await, total_of(&h.app, b).await, total_of(&h.app, c).await);
    let token_a = token(&h.app, a).await;
    let token_b = token(&h.app, b).await;
    // One whose webhook was lost: Stripe took the card, the order is pending.
    let (d, session_d, _) = order_and_checkout(&h, "LC-000001").await;
    set_session(&h, &session_d, "complete", "paid", Some("pi_rec_d"));
    let td = total_of(&h.app, d).await;
    let token_d = token(&h.app, d).await;
    assert_eq!(order(&h.app, d).await["status"], "pending");

    let t = payout_time();
    // Charges with their fees, a partial refund, a dispute matched through
    // its charge (no PaymentIntent on it), Stripe's monthly fee.
    PayoutBuilder::new("po_rec_match", t)
        .charge("pi_rec_a", ta, 2_230, Some(&token_a))
        .charge("pi_rec_b", tb, 1_440, Some(&token_b))
        // No token in its metadata: matched by the attempt's PaymentIntent.
        .charge("pi_rec_c", tc, 3_480, None)
        .refund("pi_rec_b", 10_000)
        .dispute("pi_rec_c", tc, 15_000)
        .stripe_fee(500, "Cuota mensual")
        .publish(&h.fake);
    // The lost payment, and a charge whose amount is not its order's.
    extra_account(&h.app, "P-000009").await;
    let (e, _) = paid_by_card(&h, "P-000009", "pi_rec_e").await;
    PayoutBuilder::new("po_rec_diff", t - 60)
        .charge("pi_rec_d", td, 1_000, Some(&token_d))
        .charge("pi_rec_e", total_of(&h.app, e).await + 100, 1_000, None)
        .publish(&h.fake);
    // Nothing of Recauda's, with a hostile description.
    PayoutBuilder::new("po_rec_stranger", t - 120)
        .unknown_charge("ch_stranger", 50_000, 1_800, "=HYPERLINK(\"http://evil.example\",\"pagar\")")
        .publish(&h.fake);
    // Older than the date asked for: not fetched.
    PayoutBuilder::new("po_rec_old", instant("2026-09-01T12:00:00Z").timestamp())
        .charge("pi_rec_a", ta, 0, Some(&token_a))
        .publish(&h.fake);
    // Small pages: both lists are read across several.
    *h.fake.page_cap.lock().unwrap() = 2;

    // A cajero may not see nor fetch.
    assert_eq!(get_as(&h.app, HOME, Some(&cajera)).await.status().as_u16(), 403);
    assert_eq!(fetch(&h.app, &cajera, "2026-11-01").await.0, 403);
    // A GET never asks Stripe.
    let (status, html) = get_page(&h.app, &tesorera, HOME).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Traer depósitos de Stripe") && html.contains("method=\"post\""), "{html}");
    assert!(h.fake.list_queries.lock().unwrap().is_empty());

    let (status, html) = fetch(&h.app, &tesorera, "2026-11-01").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Stripe informó 3 depósitos"), "{html}");
    assert!(html.contains("3 nuevos o con cambios"), "{html}");
    let queries = h.fake.list_queries.lock().unwrap().clone();
    let since =
        app::stripe_payouts::start_of_day(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(), h.app.state.clock.timezone());
    assert!(queries[0].contains(&format!("created[gte]={}", since.timestamp())), "{queries:?}");
    assert!(queries.iter().any(|q| q.contains("starting_after=po_rec_diff")), "paged: {queries:?}");
    assert!(
        queries.iter().any(|q| q.contains("payout=po_rec_match") && q.contains("starting_after=txn_")),
        "{queries:?}"
    );
    assert!(queries.iter().filter(|q| q.starts_with("balance_transactions")).all(|q| q.contains("data.source")));
    assert_eq!(audits(&h.app, "reconciliation.fetched").await, 3);
    for (id, status) in [
        ("po_rec_match", "conciliado"),
        ("po_rec_diff", "con_diferencias"),
        ("po_rec_stranger", "requiere_investigacion"),
    ] {
        assert!(html.contains(&format!("href=\"{HOME}/{id}\"")), "{id}");
        let row = html.split(&format!("href=\"{HOME}/{id}\"")).next().unwrap();
        assert!(row.rsplit("data-testid=\"payout-row\"").next().unwrap().contains(status), "{id}: {status}");
    }
    assert!(!html.contains("po_rec_old"));

    // The matched payout: every item has its order, and the parts add up.
    let (status, html) = get_page(&h.app, &tesorera, &format!("{HOME}/po_rec_match")).await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(verdicts(&html), ["conciliado", "conciliado", "conciliado", "conciliado", "conciliado", "comision"]);
    assert_eq!(dd(&html, "payout-gross"), Centavos(ta + tb + tc).display_mxn());
    assert_eq!(dd(&html, "payout-fees"), Centavos(2_230 + 1_440 + 3_480 + 15_000 + 500).display_mxn());
    assert_eq!(dd(&html, "payout-refunds"), Centavos(-10_000).display_mxn());
    assert_eq!(dd(&html, "payout-disputes"), Centavos(-tc).display_mxn());
    let net = ta + tb + tc - 10_000 - tc - (2_230 + 1_440 + 3_480 + 15_000 + 500);
    assert_eq!(dd(&html, "payout-net"), Centavos(net).display_mxn());
    assert_eq!(dd(&html, "payout-amount"), Centavos(net).display_mxn());
    assert_eq!(dd(&html, "payout-matched"), "5");
    assert!(html.contains("Conciliación: conciliado"), "{html}");
    assert!(!html.contains("data-testid=\"heal\""));

    // Differences: the lost payment (with "Aplicar") and the wrong amount.
    let (_, html) = get_page(&h.app, &tesorera, &format!("{HOME}/po_rec_diff")).await;
    let mut got = verdicts(&html);
    got.sort();
    assert_eq!(got, ["importe_distinto", "no_aplicado"]);
    assert_eq!(html.matches("data-testid=\"heal\"").count(), 1);
    assert!(html
        .contains(&format!("Importe distinto al de la orden ({})", Centavos(total_of(&h.app, e).await).display_mxn())));

    // Nothing matched: requires investigation; the CSV is neutralised.
    let (_, html) = get_page(&h.app, &tesorera, &format!("{HOME}/po_rec_stranger")).await;
    assert_eq!(verdicts(&html), ["no_en_recauda"]);
    assert!(html.contains("data-testid=\"needs-investigation\""), "{html}");
    let r = get_as(&h.app, &format!("{HOME}/po_rec_stranger.csv"), Some(&tesorera)).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains("conciliacion-po_rec_stranger.csv"));
    let csv = r.text().await.unwrap();
    assert!(csv.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"pagar\"\")\""), "{csv}");
    assert!(!csv.contains(",=HYPERLINK") && !csv.contains(",\"=HYPERLINK"), "{csv}");
    assert!(csv.contains(",no_en_recauda,"), "{csv}");
    assert!(csv.contains("resumen,po_rec_stranger,,neto,"), "{csv}");
    assert!(csv.contains(",requiere_investigacion,"), "{csv}");
    // A cajero gets neither the report nor its CSV; an unknown payout is a 404.
    assert_eq!(get_as(&h.app, &format!("{HOME}/po_rec_stranger.csv"), Some(&cajera)).await.status().as_u16(), 403);
    assert_eq!(get_as(&h.app, &format!("{HOME}/po_nope"), Some(&tesorera)).await.status().as_u16(), 404);
    assert_eq!(get_as(&h.app, &format!("{HOME}/po_nope.csv"), Some(&tesorera)).await.status().as_u16(), 404);

    // Fetching again changes nothing: no row, no audit entry.
    let before = (row_count(&h.app, "stripe_payouts").await, row_count(&h.app, "stripe_payout_items").await);
    assert_eq!(before, (3, 9));
    let (status, html) = fetch(&h.app, &tesorera, "2026-11-01").await;
    assert_eq!(status, 200);
    assert!(html.contains("0 nuevos o con cambios"), "{html}");
    assert_eq!((row_count(&h.app, "stripe_payouts").await, row_count(&h.app, "stripe_payout_items").await), before);
    assert_eq!(audits(&h.app, "reconciliation.fetched").await, 3);

    // The accounting export lists Stripe's fees apart; the receipts still balance.
    let (status, html) =
        get_page(&h.app, &tesorera, "/personal/tesoreria/exportar?desde=2026-11-19&hasta=2026-11-21").await;
    assert_eq!(status, 200);
    assert_eq!(html.matches("data-testid=\"export-stripe-fee\"").count(), 8, "{html}");
    assert!(html.contains("Cuadra:"), "{html}");
    let fees = 2_230 + 1_440 + 3_480 + 15_000 + 500 + 1_000 + 1_000 + 1_800;
    assert!(html.contains(&format!("Total de comisiones de Stripe: {}", Centavos(fees).display_mxn())), "{html}");
    let csv = get_as(&h.app, "/personal/tesoreria/exportar.csv?desde=2026-11-19&hasta=2026-11-21", Some(&tesorera))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(csv.matches("\r\ncomision_stripe,").count(), 8, "{csv}");
    // Outside the range: none.
    let (_, html) = get_page(&h.app, &tesorera, "/personal/tesoreria/exportar?desde=2026-11-01&hasta=2026-11-18").await;
    assert_eq!(html.matches("data-testid=\"export-stripe-fee\"").count(), 0);
}

#[tokio::test]
async fn a_payment_stripe_took_and_recauda_missed_is_healed_once_from_the_report() {
    let h = harness().await;
    let (tesorera, cajera) = people(&h).await;
    let (d, session_d, _) = order_and_checkout(&h, "P-000002").await;
    set_session(&h, &session_d, "complete", "paid", Some("pi_heal_d"));
    let td = total_of(&h.app, d).await;
    PayoutBuilder::new("po_heal", payout_time())
        .charge("pi_heal_d", td, 1_200, Some(&token(&h.app, d).await))
        .publish(&h.fake);
    fetch(&h.app, &tesorera, "2026-11-01").await;
    let path = format!("{HOME}/po_heal");
    let (_, html) = get_page(&h.app, &tesorera, &path).await;
    let item = item_with(&html, "no_aplicado");

    // Refused without the role, or without the form's token: nothing changes.
    let token = page_token(&h.app, &cajera).await;
    let r = post_as(&h.app, &format!("{path}/aplicar"), &cajera, &format!("csrf={token}&movimiento={item}")).await;
    assert_eq!(r.status().as_u16(), 403);
    let r = post_as(&h.app, &format!("{path}/aplicar"), &tesorera, &format!("csrf=forged&movimiento={item}")).await;
    assert_eq!(r.status().as_u16(), 403);
    let r = post_as(
        &h.app,
        &format!("{path}/aplicar"),
        &tesorera,
        &format!("csrf={}&movimiento=txn_nope", page_token(&h.app, &tesorera).await),
    )
    .await;
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(order(&h.app, d).await["status"], "pending");
    assert_eq!(audits(&h.app, "reconciliation.healed").await, 0);

    // "Aplicar": the same event the healing sweep builds, through THE path.
    let token = page_token(&h.app, &tesorera).await;
    let r = post_as(&h.app, &format!("{path}/aplicar"), &tesorera, &format!("csrf={token}&movimiento={item}")).await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(crate::common::location(&r), format!("{path}?aviso=aplicado"));
    let o = order(&h.app, d).await;
    assert_eq!(o["status"], "succeeded", "{o}");
    let receipt = h.app.store.receipt_of_order(d).await.unwrap().expect("its receipt");
    assert_eq!(receipt.provider_reference.as_deref(), Some("pi_heal_d"));
    let healed = h.app.store.audit_entries("reconciliation.healed", "", 10).await.unwrap();
    assert_eq!(healed.len(), 1);
    assert_eq!(healed[0].actor, "staff:tesorera");
    let details: Value = serde_json::from_str(&healed[0].details).unwrap();
    assert_eq!(details["payout_id"], "po_heal");
    assert_eq!(details["item_id"], item.as_str());
    assert_eq!(details["outcome"], "applied:succeeded");
    assert!(details["event_id"].as_str().unwrap().starts_with(&format!("heal_{session_d}_complete_paid")));
    assert_eq!(audits(&h.app, "payment.applied").await, 1);
    let (_, html) = get_page(&h.app, &tesorera, &format!("{path}?aviso=aplicado")).await;
    assert!(html.contains("Pago aplicado"), "{html}");
    assert_eq!(verdicts(&html), ["conciliado"]);

    // A second "Aplicar" (a double click, another tab): nothing changes.
    let r = post_as(&h.app, &format!("{path}/aplicar"), &tesorera, &format!("csrf={token}&movimiento={item}")).await;
    assert_eq!(r.status().as_u16(), 409);
    let again = app::reconciliation::heal(&h.app.state, "po_heal", &item, "staff:tesorera").await;
    assert!(matches!(again, Err(app::reconciliation::ReconciliationError::NotHealable(Verdict::Matched))), "{again:?}");
    assert_eq!(audits(&h.app, "reconciliation.healed").await, 1);
    assert_eq!(audits(&h.app, "receipt.issued").await, 1);
    // The sweep, asking about the same session later, applies nothing more.
    let later = h.app.state.clock.now() + chrono::Duration::hours(1);
    assert_eq!(app::payments::heal_stripe_attempts(&h.app.state, later).await.unwrap(), 0);
    assert_eq!(audits(&h.app, "receipt.issued").await, 1);
}

#[tokio::test]
async fn two_heals_at_once_issue_one_receipt() {
    let h = harness().await;
    let (tesorera, _) = people(&h).await;
    let (d, session_d, _) = order_and_checkout(&h, "A-000003").await;
    set_session(&h, &session_d, "complete", "paid", Some("pi_twice"));
    PayoutBuilder::new("po_twice", payout_time())
        .charge("pi_twice", total_of(&h.app, d).await, 0, Some(&token(&h.app, d).await))
        .publish(&h.fake);
    fetch(&h.app, &tesorera, "2026-11-01").await;
    let report = h.app.store.payout_report("po_twice").await.unwrap().unwrap();
    let item = report.lines[0].item.id.clone();
    assert_eq!(report.lines[0].verdict, Verdict::NotApplied);
    let (one, two) = tokio::join!(
        app::reconciliation::heal(&h.app.state, "po_twice", &item, "staff:tesorera"),
        app::reconciliation::heal(&h.app.state, "po_twice", &item, "staff:tesorera"),
    );
    let applied = [&one, &two]
        .iter()
        .filter(|r| matches!(r, Ok(app::reconciliation::HealOutcome::Applied(EventOutcome::Applied(_)))))
        .count();
    assert_eq!(applied, 1, "{one:?} {two:?}");
    assert_eq!(audits(&h.app, "receipt.issued").await, 1);
    assert_eq!(audits(&h.app, "reconciliation.healed").await, 1);
}

#[tokio::test]
async fn a_payout_stripe_cannot_list_whole_is_not_stored_at_all() {
    let h = harness().await;
    let (tesorera, _) = people(&h).await;
    let (a, _) = paid_by_card(&h, "P-000002", "pi_half_a").await;
    let ta = total_of(&h.app, a).await;
    PayoutBuilder::new("po_half", payout_time())
        .charge("pi_half_a", ta, 100, None)
        .stripe_fee(100, "uno")
        .stripe_fee(200, "dos")
        .publish(&h.fake);
    *h.fake.page_cap.lock().unwrap() = 2;
    *h.fake.fail_transactions_of.lock().unwrap() = Some("po_half".into());
    let (status, html) = fetch(&h.app, &tesorera, "2026-11-01").await;
    assert_eq!(status, 502, "{html}");
    assert!(html.contains("po_half") && html.contains("no se guardó nada"), "{html}");
    assert!(h.app.store.payout_report("po_half").await.unwrap().is_none());
    assert_eq!(row_count(&h.app, "stripe_payout_items").await, 0);
    assert_eq!(audits(&h.app, "reconciliation.fetched").await, 0);
    // Stripe answers again: the payout is stored whole.
    *h.fake.fail_transactions_of.lock().unwrap() = None;
    let (status, _) = fetch(&h.app, &tesorera, "2026-11-01").await;
    assert_eq!(status, 200);
    assert_eq!(row_count(&h.app, "stripe_payout_items").await, 3);
    // A date that is not one, or in the future: refused, Stripe not asked.
    let asked = h.fake.list_queries.lock().unwrap().len();
    assert_eq!(fetch(&h.app, &tesorera, "ayer").await.0, 400);
    assert_eq!(fetch(&h.app, &tesorera, "2027-01-01").await.0, 400);
    assert_eq!(h.fake.list_queries.lock().unwrap().len(), asked);
}

#[tokio::test]
async fn a_stripe_payment_in_no_payout_after_the_delay_is_listed() {
    let h = harness().await;
    let (tesorera, _) = people(&h).await;
    let (a, _) = paid_by_card(&h, "P-000002", "pi_late_a").await;
    let (b, _) = paid_by_card(&h, "A-000003", "pi_late_b").await;
    PayoutBuilder::new("po_late", payout_time())
        .charge("pi_late_a", total_of(&h.app, a).await, 0, None)
        .publish(&h.fake);
    fetch(&h.app, &tesorera, "2026-11-01").await;
    let folio_b = h.app.store.receipt_of_order(b).await.unwrap().unwrap().folio.to_string();
    let folio_a = h.app.store.receipt_of_order(a).await.unwrap().unwrap().folio.to_string();
    // Paid today (Saturday 21 November): not expected in a payout yet.
    let (_, html) = get_page(&h.app, &tesorera, HOME).await;
    assert!(html.contains("data-testid=\"missing-none\""), "{html}");
    // Thursday 26: three business days have passed; the one in no payout is listed.
    let later = h.app.on_day(NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()).await;
    let cookie = session(&later, "tesorera").await;
    let (_, html) = get_page(&later, &cookie, HOME).await;
    assert_eq!(html.matches("data-testid=\"missing-row\"").count(), 1, "{html}");
    assert!(html.contains(&folio_b) && html.contains("pi_late_b"), "{html}");
    assert!(!html.contains(&folio_a), "{html}");
    // On Wednesday 25 the card payment of Saturday is not late yet.
    let earlier = h.app.on_day(NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()).await;
    let cookie = session(&earlier, "tesorera").await;
    let (_, html) = get_page(&earlier, &cookie, HOME).await;
    assert!(html.contains("data-testid=\"missing-none\""), "{html}");
}

#[tokio::test]
async fn without_stripe_the_page_says_so_and_fetching_is_refused() {
    let app = crate::common::spawn_app().await;
    staff(&app, "tesorera", &[Role::Tesorero]).await;
    let cookie = session(&app, "tesorera").await;
    let (status, html) = get_page(&app, &cookie, HOME).await;
    assert_eq!(status, 200);
    assert!(html.contains("data-testid=\"no-stripe\""), "{html}");
    let home = get_page(&app, &cookie, "/personal").await.1;
    assert!(home.contains(&format!("href=\"{HOME}\"")), "the staff home links it for a tesorero");
    let (status, html) = fetch(&app, &cookie, "2026-11-01").await;
    assert_eq!(status, 503, "{html}");
    assert!(html.contains("Stripe no está configurado"), "{html}");
}

// ------------------------------------------------------------- the store

fn item(id: &str, kind: &str, amount: i64, fee: i64, pi: Option<&str>, token: Option<&str>) -> FetchedItem {
    FetchedItem {
        id: id.into(),
        kind: kind.into(),
        category: match kind {
            "stripe_fee" => "fee",
            "adjustment" => "dispute",
            other => other,
        }
        .into(),
        amount: Centavos(amount),
        fee: Centavos(fee),
        net: Centavos(amount - fee),
        currency: "mxn".into(),
        created: instant("2026-05-21T15:00:00Z"),
        // A charge's source is the charge itself.
        source_id: match (kind, pi) {
            ("charge", Some(p)) => Some(format!("ch_{p}")),
            _ => Some(format!("src_{id}")),
        },
        payment_intent: pi.map(str::to_string),
        charge_id: pi.map(|p| format!("ch_{p}")),
        order_token: token.map(str::to_string),
        description: None,
    }
}

fn fetched(id: &str, items: Vec<FetchedItem>) -> FetchedPayout {
    FetchedPayout {
        id: id.into(),
        amount: items.iter().map(|i| i.net).sum(),
        currency: "mxn".into(),
        status: "paid".into(),
        created: instant("2026-05-22T12:00:00Z"),
        arrival_date: NaiveDate::from_ymd_opt(2026, 5, 23).unwrap(),
        description: Some("STRIPE PAYOUT".into()),
        items,
    }
}

/// A Stripe order paid (applied, with its receipt) or left pending: the
/// order id and its token.
async fn stripe_order(store: &Store, account: &str, pi: &str, paid: bool, t0: DateTime<Utc>) -> (i64, String) {
    let account_id = account_by_number(store, account).await.unwrap().id;
    let open = store.open_charges(&[account_id]).await.unwrap();
    let order = store.create_order(&new_order(&open, None), t0).await.unwrap();
    let attempt = NewAttempt {
        order_id: order.id,
        provider: Provider::Stripe,
        provider_ref: Some(format!("cs_{pi}")),
        idempotency_key: format!("key-{pi}"),
        amount: order.total,
    };
    let attempt = store.start_attempt(&attempt, t0).await.unwrap();
    if paid {
        let ev = paid_event(&format!("evt_{pi}"), attempt.id, order.total, pi);
        let outcome = store.apply_provider_event(&ev, t0, t0.date_naive(), keys()).await.unwrap();
        assert!(matches!(outcome, EventOutcome::Applied(_)), "{outcome:?}");
    }
    (order.id, order.token.to_string())
}

fn paid_event(event_id: &str, attempt_id: i64, amount: Centavos, pi: &str) -> ProviderEvent {
    ProviderEvent {
        provider: Provider::Stripe,
        event_id: event_id.into(),
        attempt_id,
        event: PaymentEvent::Paid { amount, currency: CURRENCY_MXN.into() },
        method: Some(app::domain::payment::Method::Card),
        instructions: None,
        payment_intent: Some(pi.into()),
        paid_on: None,
    }
}

async fn reconciliation_store(store: Store) {
    let rows = server::import::parse_padron(crate::common::TEST_PADRON.as_bytes()).unwrap();
    store.import_padron(&rows, &|_| {}).await.unwrap();
    let t0 = instant("2026-05-20T18:00:00Z");
    let (a, token_a) = stripe_order(&store, "P-000002", "pi_s_a", true, t0).await;
    let (b, _) = stripe_order(&store, "A-000003", "pi_s_b", true, t0).await;
    let (c, token_c) = stripe_order(&store, "P-000001", "pi_s_c", false, t0).await;
    let mut totals = Vec::new();
    for id in [a, b, c] {
        totals.push(store.get_order(id).await.unwrap().unwrap().total.0);
    }
    let (ta, tb, tc) = (totals[0], totals[1], totals[2]);
    let count = |action: &'static str| {
        let store = store.clone();
        async move { store.audit_entries(action, "", 100).await.unwrap().len() }
    };

    // A refund stored before the payout of its charge: unmatched for now.
    let mut refunds = fetched("po_s_refunds", vec![item("txn_r", "refund", -5_000, 0, None, None)]);
    refunds.items[0].charge_id = Some("ch_pi_s_a".into());
    assert!(store.store_payout(&refunds, "staff:t", t0).await.unwrap());
    let r = store.payout_report("po_s_refunds").await.unwrap().unwrap();
    assert_eq!((r.lines[0].verdict, r.status), (Verdict::Unknown, PayoutStatus::NeedsInvestigation));

    let payout = fetched(
        "po_s_1",
        vec![
            item("txn_a", "charge", ta, 300, Some("pi_s_a"), Some(&token_a)),
            item("txn_b", "charge", tb + 1, 300, Some("pi_s_b"), Some("a token that names nothing")),
            // A payment Recauda missed: only the token names its order.
            item("txn_c", "charge", tc, 300, Some("pi_s_c"), Some(&token_c)),
            item("txn_x", "charge", 9_999, 300, Some("pi_s_x"), None),
            item("txn_d", "adjustment", -ta, 1_500, Some("pi_s_a"), None),
            item("txn_f", "stripe_fee", -700, 0, None, None),
        ],
    );
    assert!(store.store_payout(&payout, "staff:t", t0).await.unwrap());
    let r = store.payout_report("po_s_1").await.unwrap().unwrap();
    let got: Vec<(&str, Verdict)> = r.lines.iter().map(|l| (l.item.id.as_str(), l.verdict)).collect();
    assert_eq!(
        got,
        [
            ("txn_a", Verdict::Matched),
            ("txn_b", Verdict::AmountMismatch { expected: Centavos(tb) }),
            ("txn_c", Verdict::NotApplied),
            ("txn_d", Verdict::Matched),
            ("txn_f", Verdict::Fee),
            ("txn_x", Verdict::Unknown),
        ]
    );
    assert_eq!(r.matched, 4);
    assert_eq!(r.status, PayoutStatus::WithDifferences);
    assert_eq!(r.fees, Centavos(4 * 300 + 1_500 + 700));
    assert_eq!(r.net, r.payout.amount);
    assert_eq!(
        r.lines.iter().find(|l| l.item.id == "txn_c").unwrap().item.order.as_ref().unwrap().status,
        OrderStatus::Pending
    );

    // The same payout again: nothing changes, no audit entry.
    assert_eq!(count("reconciliation.fetched").await, 2);
    assert!(!store.store_payout(&payout, "staff:t", t0).await.unwrap());
    assert_eq!(store.payout_report("po_s_1").await.unwrap().unwrap(), r);
    assert_eq!(count("reconciliation.fetched").await, 2);
    // The refund's payout again: its charge is now known, so it is matched.
    assert!(store.store_payout(&refunds, "staff:t", t0).await.unwrap());
    let again = store.payout_report("po_s_refunds").await.unwrap().unwrap();
    assert_eq!(again.lines[0].item.order.as_ref().map(|o| o.id), Some(a));
    assert_eq!(again.status, PayoutStatus::Reconciled);
    assert!(!store.store_payout(&refunds, "staff:t", t0).await.unwrap());
    assert_eq!(store.payout_reports(10).await.unwrap().len(), 2);

    // Receipts in no payout: b's charge is in one, a's too; none left.
    let today = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
    assert!(store.stripe_receipts_without_payout(today).await.unwrap().is_empty());
    let (e, _) = stripe_order(&store, "LC-000001", "pi_s_e", true, t0).await;
    let missing = store.stripe_receipts_without_payout(today).await.unwrap();
    assert_eq!(missing.iter().map(|m| m.order_id).collect::<Vec<_>>(), [e]);
    assert_eq!(missing[0].payment_intent.as_deref(), Some("pi_s_e"));
    assert_eq!(missing[0].paid_on, t0.date_naive());
    assert!(store.stripe_receipts_without_payout(t0.date_naive() - chrono::Days::new(1)).await.unwrap().is_empty());

    // Stripe's fees of a range (by the items' time).
    let fees = store.stripe_fees(instant("2026-05-21T00:00:00Z"), instant("2026-05-22T00:00:00Z")).await.unwrap();
    assert_eq!(fees.iter().map(|f| f.amount).sum::<Centavos>(), Centavos(4 * 300 + 1_500 + 700));
    assert!(store
        .stripe_fees(instant("2026-05-22T00:00:00Z"), instant("2026-05-23T00:00:00Z"))
        .await
        .unwrap()
        .is_empty());

    // Healing c through the provider-event path: audited once; a repeat is a duplicate.
    let attempt = store.attempts_of_order(c).await.unwrap().remove(0);
    let ev = paid_event("heal_cs_pi_s_c_complete_paid_", attempt.id, Centavos(tc), "pi_s_c");
    let note = HealNote { actor: "staff:t".into(), payout_id: "po_s_1".into(), item_id: "txn_c".into() };
    let first = store.apply_provider_event_noting(&ev, t0, t0.date_naive(), keys(), Some(&note)).await.unwrap();
    assert!(matches!(first, EventOutcome::Applied(_)), "{first:?}");
    let second = store.apply_provider_event_noting(&ev, t0, t0.date_naive(), keys(), Some(&note)).await.unwrap();
    assert_eq!(second, EventOutcome::Duplicate);
    assert_eq!(count("reconciliation.healed").await, 1);
    assert!(store.receipt_of_order(c).await.unwrap().is_some());
    let r = store.payout_report("po_s_1").await.unwrap().unwrap();
    assert_eq!(r.lines.iter().find(|l| l.item.id == "txn_c").unwrap().verdict, Verdict::Matched);
    assert_eq!(store.verify_audit().await.unwrap().first_bad, None);
}

#[tokio::test]
async fn reconciliation_store_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(dir.path().join("recauda.db").to_str().unwrap()).await.unwrap();
    reconciliation_store(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciliation_store_on_postgres() {
    on_fresh_postgres("reconciliation", |url| async move {
        let store = Store::connect(&url).await.unwrap();
        reconciliation_store(store).await;
    })
    .await;
}
