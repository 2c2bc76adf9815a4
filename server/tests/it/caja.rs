//! The caja through its pages: a till opened with a float, payments taken
//! at the window (cash with change, card, cheque), the ticket, the blind
//! corte with a shortage and its approval, a bounced cheque, a receipt
//! cancellation that needs a second person, and the accounting export
//! balancing to the centavo — on SQLite and on PostgreSQL.

use app::domain::staff::Role;
use app::store::ReceiptStatus;

use crate::common::{encode, spawn_app, spawn_app_on_database, TestApp};
use crate::staff::{get_as, page_token, post_as, session, staff};

/// A logged-in person: their session cookie and their forms' token.
struct Person {
    cookie: String,
    csrf: String,
}

async fn person(app: &TestApp, name: &str, roles: &[Role]) -> Person {
    staff(app, name, roles).await;
    let cookie = session(app, name).await;
    let csrf = page_token(app, &cookie).await;
    Person { cookie, csrf }
}

impl Person {
    /// GETs a page: the status and the HTML, or the `Location` of a 303.
    async fn get(&self, app: &TestApp, path: &str) -> (u16, String) {
        let r = get_as(app, path, Some(&self.cookie)).await;
        let status = r.status().as_u16();
        if status == 303 {
            (status, r.headers()["location"].to_str().unwrap().to_string())
        } else {
            (status, r.text().await.unwrap())
        }
    }

    /// POSTs a form (the token added): the status, and the `Location` of a 303.
    async fn post(&self, app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let mut body = format!("csrf={}", encode(&self.csrf));
        for (k, v) in fields {
            body.push_str(&format!("&{k}={}", encode(v)));
        }
        let r = post_as(app, path, &self.cookie, &body).await;
        let status = r.status().as_u16();
        if status == 303 {
            (status, r.headers()["location"].to_str().unwrap().to_string())
        } else {
            (status, r.text().await.unwrap())
        }
    }
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> Vec<&'a str> {
    html.split(start).skip(1).filter_map(|s| s.split(end).next()).collect()
}

/// Finds `account`'s debts at the window and prepares their order: the
/// order's page path.
async fn window_order(app: &TestApp, cajero: &Person, account: &str) -> String {
    let (status, html) = cajero.get(app, &format!("/personal/caja/cobrar?q={account}")).await;
    assert_eq!(status, 200, "{html}");
    let charges = between(&html, "name=\"cargo\" value=\"", "\"");
    assert!(!charges.is_empty(), "{html}");
    let mut fields = vec![("q", account)];
    fields.extend(charges.iter().map(|c| ("cargo", *c)));
    let (status, order) = cajero.post(app, "/personal/caja/orden", &fields).await;
    assert_eq!(status, 303, "{order}");
    assert!(order.starts_with("/personal/caja/orden/"), "{order}");
    order
}

/// Pays an order at the window: the receipt page's path.
async fn pay(app: &TestApp, cajero: &Person, order: &str, fields: &[(&str, &str)]) -> String {
    let (status, to) = cajero.post(app, &format!("{order}/cobrar"), fields).await;
    assert_eq!(status, 303, "{to}");
    assert!(to.starts_with("/personal/caja/recibo/"), "{to}");
    to
}

fn folio_of(receipt_path: &str) -> app::domain::folio::Folio {
    app::domain::folio::Folio::parse(receipt_path.trim_start_matches("/personal/caja/recibo/")).unwrap()
}

async fn open_charges(app: &TestApp, account: &str) -> usize {
    let (status, body) = app.get_json(&format!("/api/v1/debts?account={account}")).await;
    assert_eq!(status, 200, "{body}");
    body["accounts"][0]["items"].as_array().map_or(0, Vec::len)
}

async fn audit_actions(app: &TestApp) -> Vec<(String, String)> {
    app.store.audit_entries("", "", 500).await.unwrap().into_iter().map(|e| (e.actor, e.action)).collect()
}

#[tokio::test]
async fn a_cajero_opens_a_till_takes_cash_with_change_and_prints_the_ticket() {
    let app = spawn_app().await;
    let cajera = person(&app, "cajera", &[Role::Cajero]).await;

    // No till yet: nothing can be paid.
    let (status, html) = cajera.get(&app, "/personal/caja").await;
    assert_eq!(status, 200);
    assert!(html.contains("data-testid=\"open-till\"") && html.contains("C1 — Caja 1"), "{html}");
    let order = window_order(&app, &cajera, "P-000002").await;
    let (status, html) =
        cajera.post(&app, &format!("{order}/cobrar"), &[("forma", "efectivo"), ("recibido", "1000")]).await;
    assert_eq!(status, 409, "{html}");
    assert!(html.contains("Abra una caja"), "{html}");

    // Refused: an unknown till, a float that is not an amount.
    let (status, html) = cajera.post(&app, "/personal/caja/abrir", &[("caja", "Z9"), ("fondo", "500")]).await;
    assert_eq!((status, html.contains("No existe la caja")), (404, true), "{html}");
    let (status, _) = cajera.post(&app, "/personal/caja/abrir", &[("caja", "C1"), ("fondo", "quinientos")]).await;
    assert_eq!(status, 422);
    let (status, to) = cajera.post(&app, "/personal/caja/abrir", &[("caja", "C1"), ("fondo", "500.00")]).await;
    assert_eq!((status, to.as_str()), (303, "/personal/caja?aviso=abierta"));
    let (_, html) = cajera.get(&app, "/personal/caja?aviso=abierta").await;
    assert!(html.contains("Caja C1 abierta") && html.contains("$500.00"), "{html}");

    // A second cajero cannot take the same till.
    let otro = person(&app, "otro", &[Role::Cajero]).await;
    let (status, html) = otro.post(&app, "/personal/caja/abrir", &[("caja", "C1"), ("fondo", "0")]).await;
    assert_eq!(status, 409, "{html}");

    // $640.10 due in December, not late: $640.00 after the CFF rounding.
    let (_, html) = cajera.get(&app, &order).await;
    assert!(html.contains("data-testid=\"window-total\">$640.00"), "{html}");
    // Not enough cash: refused, nothing written.
    let (status, html) =
        cajera.post(&app, &format!("{order}/cobrar"), &[("forma", "efectivo"), ("recibido", "600")]).await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("El efectivo recibido ($600.00) es menor que el total a pagar ($640.00)"), "{html}");
    assert!(html.contains("value=\"600\""), "what was typed stays: {html}");
    assert!(app.store.receipts_of_series("C1", 2026).await.unwrap().is_empty());

    let receipt = pay(&app, &cajera, &order, &[("forma", "efectivo"), ("recibido", "1,000.00")]).await;
    assert_eq!(receipt, "/personal/caja/recibo/C1-2026-000001");
    let (status, html) = cajera.get(&app, &receipt).await;
    assert_eq!(status, 200);
    assert!(html.contains("data-testid=\"change-due\"") && html.contains("$360.00"), "{html}");

    // The receipt: the till's series, signed, verifiable; the charges paid.
    let stored = app.store.receipt_by_folio(&folio_of(&receipt)).await.unwrap().unwrap();
    assert_eq!(stored.total.0, 64_000);
    assert_eq!(stored.provider, Some(app::domain::payment::Provider::Window));
    assert_eq!(stored.method, Some(app::domain::payment::Method::Cash));
    let verify = app::receipts::verify_path(&stored).unwrap();
    let (_, html) = crate::common::page(&app, &verify).await;
    assert!(html.contains("data-verdict=\"authentic\""), "{html}");
    assert_eq!(open_charges(&app, "P-000002").await, 0);

    // The ticket: an 80 mm PDF of that receipt.
    let r = get_as(&app, &format!("{receipt}/ticket"), Some(&cajera.cookie)).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let doc = lopdf::Document::load_mem(&r.bytes().await.unwrap()).unwrap();
    let text = crate::common::pdf::text(&doc);
    assert!(text.contains("C1-2026-000001") && text.contains("Efectivo (en ventanilla)"), "{text}");

    // Paid: the order takes no second payment.
    let (status, html) =
        cajera.post(&app, &format!("{order}/cobrar"), &[("forma", "efectivo"), ("recibido", "1000")]).await;
    assert_eq!(status, 409, "{html}");
    assert!(html.contains("«pagado»"), "{html}");

    // Card and transfer need their references.
    let order = window_order(&app, &cajera, "A-000003").await;
    let (status, html) =
        cajera.post(&app, &format!("{order}/cobrar"), &[("forma", "tarjeta"), ("autorizacion", "1")]).await;
    assert_eq!(status, 422, "{html}");
    let receipt = pay(&app, &cajera, &order, &[("forma", "tarjeta"), ("autorizacion", "ab1234")]).await;
    assert_eq!(receipt, "/personal/caja/recibo/C1-2026-000002");
    let stored = app.store.window_payment_of(&folio_of(&receipt)).await.unwrap().unwrap();
    assert_eq!((stored.reference.as_deref(), stored.change), (Some("AB1234"), None));

    let actions = audit_actions(&app).await;
    for want in ["till.opened", "payment.applied", "receipt.issued"] {
        assert!(actions.iter().any(|(who, what)| who == "staff:cajera" && what == want), "{want}: {actions:?}");
    }
    assert!(app.store.verify_audit().await.unwrap().first_bad.is_none());
}

/// Pieces per denomination for a count: `(centavos, pieces)`.
fn count_fields(pieces: &[(i64, u32)], card: &str) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = pieces.iter().map(|(d, n)| (format!("d{d}"), n.to_string())).collect();
    f.push(("tarjeta".into(), card.into()));
    f.push(("cheques".into(), String::new()));
    f.push(("transferencias".into(), String::new()));
    f
}

async fn count(app: &TestApp, cajero: &Person, pieces: &[(i64, u32)], card: &str) -> (u16, String) {
    let (_, html) = cajero.get(app, "/personal/caja/corte").await;
    let session = between(&html, "name=\"sesion\" value=\"", "\"")[0].to_string();
    let mut fields = count_fields(pieces, card);
    fields.push(("sesion".into(), session));
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    cajero.post(app, "/personal/caja/corte", &borrowed).await
}

/// The whole cashier's day on one database: window payments, a blind
/// corte with a shortage, its explanation and approval.
async fn a_day_at_the_window(app: &TestApp) {
    let cajera = person(app, "cajera", &[Role::Cajero]).await;
    let tesorero = person(app, "tesorero", &[Role::Tesorero]).await;
    let (status, _) = cajera.post(app, "/personal/caja/abrir", &[("caja", "C2"), ("fondo", "500")]).await;
    assert_eq!(status, 303);
    let order = window_order(app, &cajera, "P-000002").await;
    pay(app, &cajera, &order, &[("forma", "efectivo"), ("recibido", "1000")]).await;
    let order = window_order(app, &cajera, "A-000003").await;
    let card = pay(app, &cajera, &order, &[("forma", "tarjeta"), ("autorizacion", "778899")]).await;
    let card_total = app.store.receipt_by_folio(&folio_of(&card)).await.unwrap().unwrap().total;

    // The count form shows nothing expected.
    let (status, html) = cajera.get(app, "/personal/caja/corte").await;
    assert_eq!(status, 200);
    assert!(html.contains("data-testid=\"count-form\""), "{html}");
    for hidden in ["$1,140.00", "$640.00", &card_total.display_mxn()] {
        assert!(!html.contains(hidden), "the count is blind: {hidden} shown");
    }
    // A bad count is refused and nothing is recorded.
    let (status, html) = count(app, &cajera, &[(100_000, 1), (5_000, 1)], "mucho").await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("Total de comprobantes de tarjeta"), "{html}");

    // Expected cash: the $500 float + $640 = $1,140; counted $1,130: $10 short.
    let card_typed = card_total.to_api_string();
    let (status, corte) = count(app, &cajera, &[(100_000, 1), (5_000, 1), (2_000, 4)], &card_typed).await;
    assert_eq!(status, 303, "{corte}");
    let (_, html) = cajera.get(app, &corte).await;
    assert!(html.contains("data-balanced=\"false\"") && html.contains("faltante de $10.00"), "{html}");
    assert!(html.contains("$1,140.00") && html.contains("$1,130.00"), "{html}");
    assert!(html.contains("C2-2026-000001") && html.contains("C2-2026-000002"), "the folios used: {html}");

    // Locked: no payment, no second count, until a tesorero approves.
    let order = window_order(app, &cajera, "LC-000001").await;
    let (status, html) =
        cajera.post(app, &format!("{order}/cobrar"), &[("forma", "efectivo"), ("recibido", "5000")]).await;
    assert_eq!(status, 409, "{html}");
    assert!(html.contains("en corte"), "{html}");
    let (status, to) = cajera.get(app, "/personal/caja/corte").await;
    assert_eq!((status, to.as_str()), (303, corte.as_str()), "the count form is gone");

    // The approval needs an explanation first, from the cajero.
    let id = corte.trim_start_matches("/personal/caja/corte/");
    let approve = format!("/personal/tesoreria/cortes/{id}/aprobar");
    let (status, html) = tesorero.post(app, &approve, &[("nota", "")]).await;
    assert_eq!(status, 409, "{html}");
    assert!(html.contains("debe explicarla"), "{html}");
    let (status, _) = cajera.post(app, &approve, &[("nota", "")]).await;
    assert_eq!(status, 403, "a cajero does not approve");
    let (status, _) = cajera.post(app, &format!("{corte}/explicacion"), &[("explicacion", "corto")]).await;
    assert_eq!(status, 422);
    let (status, to) = cajera
        .post(app, &format!("{corte}/explicacion"), &[("explicacion", "Se dio cambio de más a un contribuyente.")])
        .await;
    assert_eq!((status, to), (303, format!("{corte}?aviso=explicada")));
    let (_, html) = tesorero.get(app, "/personal/tesoreria/cortes").await;
    assert!(html.contains(&format!("/personal/caja/corte/{id}")) && html.contains("faltante de $10.00"), "{html}");
    // No PDF before it is closed.
    let r = get_as(app, &format!("{corte}/pdf"), Some(&tesorero.cookie)).await;
    assert_eq!(r.status().as_u16(), 409);
    let (status, _) = tesorero.post(app, &approve, &[("nota", "Se descuenta en nómina.")]).await;
    assert_eq!(status, 303);
    let (_, html) = cajera.get(app, &corte).await;
    assert!(html.contains("Corte aprobado por tesorero"), "{html}");
    let (status, _) = tesorero.post(app, &approve, &[("nota", "")]).await;
    assert_eq!(status, 409, "approved once");

    // The approved corte prints.
    let r = get_as(app, &format!("{corte}/pdf"), Some(&tesorero.cookie)).await;
    assert_eq!(r.status().as_u16(), 200);
    let doc = lopdf::Document::load_mem(&r.bytes().await.unwrap()).unwrap();
    let text = crate::common::pdf::text(&doc);
    for want in ["Corte de caja C2", "faltante de $10.00", "C2-2026-000001", "Se dio cambio de más", "-$10.00"] {
        assert!(text.contains(want), "{want} in {text}");
    }

    // Closed: the till opens again, and the next folio follows on.
    let (status, _) = cajera.post(app, "/personal/caja/abrir", &[("caja", "C2"), ("fondo", "500")]).await;
    assert_eq!(status, 303);
    let receipt = pay(app, &cajera, &order, &[("forma", "efectivo"), ("recibido", "5000")]).await;
    assert_eq!(receipt, "/personal/caja/recibo/C2-2026-000003");

    let actions: Vec<String> = audit_actions(app).await.into_iter().map(|(_, a)| a).collect();
    for want in ["till.counted", "corte.explained", "corte.approved", "till.closed"] {
        assert!(actions.iter().any(|a| a == want), "{want}");
    }
    assert!(app.store.verify_audit().await.unwrap().first_bad.is_none());
}

#[tokio::test]
async fn a_blind_corte_with_a_shortage_waits_for_a_tesorero_on_sqlite() {
    a_day_at_the_window(&spawn_app().await).await;
}

#[tokio::test]
async fn a_blind_corte_with_a_shortage_waits_for_a_tesorero_on_postgres() {
    crate::store_story::on_fresh_postgres("caja", |url| async move {
        a_day_at_the_window(&spawn_app_on_database(&url).await).await;
    })
    .await;
}

#[tokio::test]
async fn a_corte_that_balances_needs_only_the_tesoreros_sign_off() {
    let app = spawn_app().await;
    let cajera = person(&app, "cajera", &[Role::Cajero]).await;
    let tesorero = person(&app, "tesorero", &[Role::Tesorero]).await;
    cajera.post(&app, "/personal/caja/abrir", &[("caja", "C1"), ("fondo", "200")]).await;
    let order = window_order(&app, &cajera, "P-000002").await;
    pay(&app, &cajera, &order, &[("forma", "efectivo"), ("recibido", "640")]).await;
    // $200 + $640 = $840: 1 × $500, 1 × $200, 1 × $100, 2 × $20.
    let (status, corte) = count(&app, &cajera, &[(50_000, 1), (20_000, 1), (10_000, 1), (2_000, 2)], "").await;
    assert_eq!(status, 303);
    let (_, html) = cajera.get(&app, &corte).await;
    assert!(html.contains("data-balanced=\"true\"") && html.contains("Corte cuadrado"), "{html}");
    assert!(!html.contains("data-testid=\"explain-form\""), "nothing to explain: {html}");
    // Locked until the sign-off; no PDF yet.
    let (_, html) = cajera.get(&app, "/personal/caja").await;
    assert!(html.contains("data-testid=\"till-locked\""), "{html}");
    assert_eq!(get_as(&app, &format!("{corte}/pdf"), Some(&cajera.cookie)).await.status().as_u16(), 409);
    // Another cajero sees neither the corte nor its PDF.
    let otro = person(&app, "otro", &[Role::Cajero]).await;
    assert_eq!(otro.get(&app, &corte).await.0, 404);
    assert_eq!(get_as(&app, &format!("{corte}/pdf"), Some(&otro.cookie)).await.status().as_u16(), 404);
    // The tesorero signs it off without an explanation.
    let (_, html) = tesorero.get(&app, &corte).await;
    assert!(html.contains("data-testid=\"approve-form\""), "{html}");
    let id = corte.trim_start_matches("/personal/caja/corte/");
    let (status, _) = tesorero.post(&app, &format!("/personal/tesoreria/cortes/{id}/aprobar"), &[("nota", "")]).await;
    assert_eq!(status, 303);
    let r = get_as(&app, &format!("{corte}/pdf"), Some(&cajera.cookie)).await;
    assert_eq!(r.status().as_u16(), 200);
    let (_, html) = cajera.get(&app, "/personal/caja").await;
    assert!(html.contains("data-testid=\"open-till\""), "closed: open again: {html}");
}

#[tokio::test]
async fn a_bounced_cheque_cancels_its_receipt_and_reopens_the_charges() {
    let app = spawn_app().await;
    let cajera = person(&app, "cajera", &[Role::Cajero]).await;
    let tesorero = person(&app, "tesorero", &[Role::Tesorero]).await;
    cajera.post(&app, "/personal/caja/abrir", &[("caja", "C1"), ("fondo", "0")]).await;
    let order = window_order(&app, &cajera, "P-000002").await;
    let (status, html) = cajera
        .post(&app, &format!("{order}/cobrar"), &[("forma", "cheque"), ("banco", "Banorte"), ("cheque", "12a")])
        .await;
    assert_eq!(status, 422, "{html}");
    let receipt = pay(&app, &cajera, &order, &[("forma", "cheque"), ("banco", "Banorte"), ("cheque", "0004512")]).await;
    let folio = folio_of(&receipt);
    assert_eq!(open_charges(&app, "P-000002").await, 0);
    let cash_order = window_order(&app, &cajera, "A-000003").await;
    let cash = pay(&app, &cajera, &cash_order, &[("forma", "efectivo"), ("recibido", "500")]).await;

    // Only a tesorero records it; a cash receipt is no cheque.
    let fields = [("folio", folio.to_string()), ("nota", "Fondos insuficientes".to_string())];
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let (status, _) = cajera.post(&app, "/personal/tesoreria/cheques", &borrowed).await;
    assert_eq!(status, 403);
    let (status, html) = tesorero
        .post(&app, "/personal/tesoreria/cheques", &[("folio", &folio_of(&cash).to_string()), ("nota", "Sin fondos")])
        .await;
    assert_eq!(status, 409, "{html}");
    assert!(html.contains("no se pagó con cheque"), "{html}");

    let (status, to) = tesorero.post(&app, "/personal/tesoreria/cheques", &borrowed).await;
    assert_eq!((status, to.as_str()), (303, "/personal/tesoreria/cheques?aviso=devuelto"));
    let stored = app.store.receipt_by_folio(&folio).await.unwrap().unwrap();
    match &stored.status {
        ReceiptStatus::Cancelled { reason, .. } => {
            assert_eq!(reason, "Cheque devuelto (Banorte núm. 0004512): Fondos insuficientes")
        }
        other => panic!("{other:?}"),
    }
    let (_, html) = crate::common::page(&app, &app::receipts::verify_path(&stored).unwrap()).await;
    assert!(html.contains("data-verdict=\"cancelled\""), "{html}");
    assert_eq!(open_charges(&app, "P-000002").await, 1, "owed again");
    let order_id = app.store.receipt_by_folio(&folio).await.unwrap().unwrap().order_id;
    let order_row = app.store.get_order(order_id).await.unwrap().unwrap();
    assert_eq!(order_row.status, app::domain::payment::OrderStatus::Annulled);
    let payment = app.store.window_payment_of(&folio).await.unwrap().unwrap();
    assert!(payment.bounced_at.is_some() && payment.cancel_reason.is_some(), "recorded, never deleted");
    // Once.
    let (status, _) = tesorero.post(&app, "/personal/tesoreria/cheques", &borrowed).await;
    assert_eq!(status, 404);

    // Paid again: a new folio, the old one never reused.
    let order = window_order(&app, &cajera, "P-000002").await;
    let again = pay(&app, &cajera, &order, &[("forma", "efectivo"), ("recibido", "640")]).await;
    assert_eq!(folio_of(&again).number(), 3);
    let actions: Vec<String> = audit_actions(&app).await.into_iter().map(|(_, a)| a).collect();
    for want in ["cheque.bounced", "payment.annulled", "receipt.cancelled"] {
        assert!(actions.iter().any(|a| a == want), "{want}");
    }
}

#[tokio::test]
async fn a_cancellation_needs_a_second_person_with_the_tesorero_role() {
    let app = spawn_app().await;
    let cajera = person(&app, "cajera", &[Role::Cajero]).await;
    let ana = person(&app, "ana", &[Role::Tesorero]).await;
    let beto = person(&app, "beto", &[Role::Tesorero]).await;
    // An online receipt (Stripe's series A) and a window one.
    let (status, body) = app.post_json("/api/v1/orders", &serde_json::json!({ "account": "P-000002" })).await;
    assert_eq!(status, 201, "{body}");
    let token = body["id"].as_str().unwrap().to_string();
    crate::common::pay_as_stripe(&app, &token).await;
    let online = app.store.receipt_of_order(crate::common::order_id(&app, &token).await).await.unwrap().unwrap();
    assert_eq!(open_charges(&app, "P-000002").await, 0);

    let request = |folio: String, detail: &'static str| {
        vec![("folio", folio), ("motivo", "error_captura".to_string()), ("detalle", detail.to_string())]
    };
    let post = |p: &Person, path: &str, fields: Vec<(&'static str, String)>| {
        let fields: Vec<(&str, String)> = fields;
        let path = path.to_string();
        let cookie = p.cookie.clone();
        let csrf = p.csrf.clone();
        let app = &app;
        async move {
            let mut body = format!("csrf={}", encode(&csrf));
            for (k, v) in &fields {
                body.push_str(&format!("&{k}={}", encode(v)));
            }
            let r = post_as(app, &path, &cookie, &body).await;
            let status = r.status().as_u16();
            (status, r.text().await.unwrap_or_default())
        }
    };
    // Bad input changes nothing.
    let (status, _) =
        post(&cajera, "/personal/cancelaciones", request("A-2026-XYZ".into(), "Se cobró a otra cuenta")).await;
    assert_eq!(status, 422);
    let (status, _) = post(&cajera, "/personal/cancelaciones", request(online.folio.to_string(), "corto")).await;
    assert_eq!(status, 422);
    // The cajero asks.
    let (status, _) =
        post(&cajera, "/personal/cancelaciones", request(online.folio.to_string(), "Se cobró la cuenta equivocada"))
            .await;
    assert_eq!(status, 303);
    let (status, html) =
        post(&ana, "/personal/cancelaciones", request(online.folio.to_string(), "Otra solicitud del mismo recibo"))
            .await;
    assert_eq!(status, 409, "one pending request per receipt: {html}");
    let pending = app.store.cancellation_requests("requested", 10).await.unwrap();
    assert_eq!(pending.len(), 1);
    let id = pending[0].id;
    // A cajero cannot approve; nothing changes.
    let (status, _) = post(&cajera, &format!("/personal/cancelaciones/{id}/aprobar"), vec![]).await;
    assert_eq!(status, 403);
    assert_eq!(app.store.receipt_by_folio(&online.folio).await.unwrap().unwrap().status, ReceiptStatus::Valid);

    // A tesorero who asks cannot approve their own request.
    let (status, _) = post(&cajera, &format!("/personal/cancelaciones/{id}/rechazar"), vec![]).await;
    assert_eq!(status, 403);
    let (status, html) =
        post(&ana, &format!("/personal/cancelaciones/{id}/rechazar"), vec![("nota", "No procede".into())]).await;
    assert_eq!(status, 303, "{html}");
    assert_eq!(app.store.receipt_by_folio(&online.folio).await.unwrap().unwrap().status, ReceiptStatus::Valid);
    let (status, _) = post(
        &ana,
        "/personal/cancelaciones",
        request(online.folio.to_string(), "Pago aplicado a la cuenta equivocada"),
    )
    .await;
    assert_eq!(status, 303);
    let id = app.store.cancellation_requests("requested", 10).await.unwrap()[0].id;
    let (status, html) = post(&ana, &format!("/personal/cancelaciones/{id}/aprobar"), vec![]).await;
    assert_eq!(status, 403, "{html}");
    assert!(html.contains("no puede aprobarla"), "{html}");
    assert_eq!(app.store.receipt_by_folio(&online.folio).await.unwrap().unwrap().status, ReceiptStatus::Valid);

    // A second tesorero approves: cancelled with the date and the reason,
    // the folio kept, the charges owed again.
    let (status, _) =
        post(&beto, &format!("/personal/cancelaciones/{id}/aprobar"), vec![("nota", "Visto".into())]).await;
    assert_eq!(status, 303);
    let cancelled = app.store.receipt_by_folio(&online.folio).await.unwrap().unwrap();
    match &cancelled.status {
        ReceiptStatus::Cancelled { reason, .. } => {
            assert_eq!(reason, "Error de captura (cuenta o adeudos equivocados): Pago aplicado a la cuenta equivocada")
        }
        other => panic!("{other:?}"),
    }
    let (_, html) = crate::common::page(&app, &app::receipts::verify_path(&cancelled).unwrap()).await;
    assert!(
        html.contains("data-verdict=\"cancelled\"") && html.contains("Pago aplicado a la cuenta equivocada"),
        "{html}"
    );
    assert_eq!(open_charges(&app, "P-000002").await, 1);
    let (status, _) = post(&beto, &format!("/personal/cancelaciones/{id}/aprobar"), vec![]).await;
    assert_eq!(status, 409, "decided once");
    let (status, _) =
        post(&beto, "/personal/cancelaciones", request(online.folio.to_string(), "Otra vez el mismo recibo")).await;
    assert_eq!(status, 404, "a cancelled receipt is not cancelled twice");
    let (_, html) = ana.get(&app, "/personal/cancelaciones").await;
    assert!(html.contains("aprobada por beto") && html.contains("rechazada por ana"), "{html}");
    let actions: Vec<String> = audit_actions(&app).await.into_iter().map(|(_, a)| a).collect();
    for want in ["receipt.cancel_requested", "receipt.cancel_rejected", "receipt.cancel_approved", "receipt.cancelled"]
    {
        assert!(actions.iter().any(|a| a == want), "{want}");
    }
    // A demonstration receipt is never cancelled: it has no value.
    let demo = app::domain::folio::Folio::parse("DEMO-2026-000001").unwrap();
    let (status, _) = post(&beto, "/personal/cancelaciones", request(demo.to_string(), "Recibo de demostración")).await;
    assert_eq!(status, 409);
}

/// Sums a CSV's `importe` column over the rows of `section`, in centavos.
fn csv_sum(csv: &str, section: &str) -> i64 {
    csv.lines()
        .skip(1)
        .filter(|l| l.starts_with(&format!("{section},")))
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            let amount = cells[cells.len() - 2];
            let (sign, digits) = amount.strip_prefix('-').map_or((1, amount), |d| (-1, d));
            sign * app::domain::money::Centavos::parse_pesos(digits).unwrap().0
        })
        .sum()
}

/// Receipts of every kind on one database, then the export: it balances to
/// the centavo against an independent sum of the receipts.
async fn the_export_balances(app: &TestApp) {
    let cajera = person(app, "cajera", &[Role::Cajero]).await;
    let tesorero = person(app, "tesorero", &[Role::Tesorero]).await;
    cajera.post(app, "/personal/caja/abrir", &[("caja", "C1"), ("fondo", "0")]).await;
    // Window: cash (P-000002), cheque later bounced (A-000003), card (LC-000001, late: recargos).
    let order = window_order(app, &cajera, "P-000002").await;
    pay(app, &cajera, &order, &[("forma", "efectivo"), ("recibido", "700")]).await;
    let order = window_order(app, &cajera, "A-000003").await;
    let cheque = pay(app, &cajera, &order, &[("forma", "cheque"), ("banco", "BBVA"), ("cheque", "77")]).await;
    let order = window_order(app, &cajera, "LC-000001").await;
    pay(app, &cajera, &order, &[("forma", "tarjeta"), ("autorizacion", "A1B2C3")]).await;
    tesorero
        .post(
            app,
            "/personal/tesoreria/cheques",
            &[("folio", &folio_of(&cheque).to_string()), ("nota", "Cuenta cancelada")],
        )
        .await;
    // Online: P-000001 through Stripe; then an emergency cancellation with
    // a hostile reason.
    let (_, body) = app.post_json("/api/v1/orders", &serde_json::json!({ "account": "P-000001" })).await;
    let token = body["id"].as_str().unwrap().to_string();
    crate::common::pay_as_stripe(app, &token).await;
    let online = app.store.receipt_of_order(crate::common::order_id(app, &token).await).await.unwrap().unwrap();
    // A-000003 again, online, then cancelled by the emergency path.
    let (_, body) = app.post_json("/api/v1/orders", &serde_json::json!({ "account": "A-000003" })).await;
    let token = body["id"].as_str().unwrap().to_string();
    crate::common::pay_as_stripe(app, &token).await;
    let hostile = app.store.receipt_of_order(crate::common::order_id(app, &token).await).await.unwrap().unwrap();
    let reason = "=HYPERLINK(\"http://x\",\"clic\")";
    assert!(app
        .store
        .cancel_receipt(&hostile.folio, reason, "staff:admin (cli:test)", app.state.clock.now())
        .await
        .unwrap());

    // Independently: the valid receipts of value, summed by the database.
    let valid: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(total_centavos), 0) AS BIGINT) FROM receipts WHERE status = 'valid' AND series <> 'DEMO'",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert!(valid > 0);

    let day = crate::common::today();
    let path = format!("/api/v1/exports/collections.csv?from={day}&to={day}");
    let r = get_as(app, &path, None).await;
    assert_eq!(r.status().as_u16(), 401);
    let r = get_as(app, &path, Some(&cajera.cookie)).await;
    assert_eq!(r.status().as_u16(), 403);
    let r = get_as(app, &path, Some(&tesorero.cookie)).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = r.text().await.unwrap();
    let csv = csv.trim_start_matches('\u{feff}');
    assert_eq!(csv_sum(csv, "ingreso") + csv_sum(csv, "redondeo"), valid, "{csv}");
    assert_eq!(csv_sum(csv, "forma_de_pago"), valid, "{csv}");
    assert_eq!(csv_sum(csv, "total"), valid, "{csv}");
    // By CRI: predial 1.2.1, recargos 1.7.1, and both channels.
    assert!(csv.contains("ingreso,1.2.1,Impuesto predial,principal,en línea"), "{csv}");
    assert!(csv.contains("ingreso,1.2.1,Impuesto predial,principal,ventanilla"), "{csv}");
    assert!(csv.lines().any(|l| l.starts_with("ingreso,1.7.1,") && l.contains("recargos")), "{csv}");
    assert!(csv.contains("forma_de_pago,,,,ventanilla,Efectivo"), "{csv}");
    assert!(csv.contains("forma_de_pago,,,,ventanilla,Tarjeta"), "{csv}");
    // Folio ranges and the cancelled folios with their reasons, neutralised.
    assert!(csv.contains("folios,,,,,,C1-2026-000001,C1-2026-000003,3,,serie C1 2026: 1 cancelados"), "{csv}");
    assert!(csv.contains(&format!("cancelado,,,,,,{f},{f},1", f = folio_of(&cheque))), "{csv}");
    assert!(csv.contains("\"'=HYPERLINK(\"\"http://x\"\",\"\"clic\"\")\""), "neutralised: {csv}");
    assert!(!csv.contains(",=HYPERLINK"), "{csv}");
    assert!(csv.contains(&online.folio.to_string()), "{csv}");
    // A day without receipts exports an empty, balanced file.
    let r = get_as(app, "/api/v1/exports/collections.csv?from=2026-01-01&to=2026-01-31", Some(&tesorero.cookie)).await;
    let empty = r.text().await.unwrap();
    assert_eq!(csv_sum(&empty, "total"), 0);
    // Bad ranges: 400 in the JSON shape.
    for bad in ["from=2026-11-30&to=2026-11-01", "from=2026-11-01", "from=ayer&to=hoy", "from=2020-01-01&to=2026-01-01"]
    {
        let r = get_as(app, &format!("/api/v1/exports/collections.csv?{bad}"), Some(&tesorero.cookie)).await;
        assert_eq!(r.status().as_u16(), 400, "{bad}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_query");
    }
    // The page shows the same and says it balances.
    let (status, html) = tesorero.get(app, &format!("/personal/tesoreria/exportar?desde={day}&hasta={day}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Cuadra:"), "{html}");
}

#[tokio::test]
async fn the_export_balances_to_the_centavo_on_sqlite() {
    the_export_balances(&spawn_app().await).await;
}

#[tokio::test]
async fn the_export_balances_to_the_centavo_on_postgres() {
    crate::store_story::on_fresh_postgres("export", |url| async move {
        the_export_balances(&spawn_app_on_database(&url).await).await;
    })
    .await;
}

#[tokio::test]
async fn every_caja_form_refuses_a_missing_or_foreign_token() {
    let app = spawn_app().await;
    let cajera = person(&app, "cajera", &[Role::Cajero]).await;
    let tesorero = person(&app, "tesorero", &[Role::Tesorero]).await;
    let forms: [(&Person, &str, &str); 6] = [
        (&cajera, "/personal/caja/abrir", "caja=C1&fondo=0"),
        (&cajera, "/personal/caja/orden", "q=P-000002"),
        (&cajera, "/personal/caja/corte", "sesion=1"),
        (&tesorero, "/personal/tesoreria/cheques", "folio=C1-2026-000001&nota=x"),
        (&cajera, "/personal/cancelaciones", "folio=C1-2026-000001&motivo=otro&detalle=xxxxxxxxxxxx"),
        (&tesorero, "/personal/tesoreria/cortes/1/aprobar", "nota="),
    ];
    for (who, path, body) in forms {
        for token in ["", &tesorero.csrf, &cajera.csrf] {
            if token == who.csrf {
                continue;
            }
            let r = post_as(&app, path, &who.cookie, &format!("csrf={}&{body}", encode(token))).await;
            assert_eq!(r.status().as_u16(), 403, "{path} with token {token:?}");
            assert!(r.text().await.unwrap().contains("data-code=\"csrf\""), "{path}");
        }
    }
    assert!(app.store.sessions_not_closed().await.unwrap().is_empty(), "nothing opened");
}

#[tokio::test]
async fn a_payment_at_the_window_beats_an_open_voucher_whose_money_is_then_refunded() {
    use app::domain::payment::{AttemptStatus, Method, OrderStatus, PaymentEvent, Provider};
    use app::store::{EventOutcome, NewAttempt, ProviderEvent};
    let app = spawn_app().await;
    let cajera = person(&app, "cajera", &[Role::Cajero]).await;
    cajera.post(&app, "/personal/caja/abrir", &[("caja", "C1"), ("fondo", "0")]).await;
    // The citizen made an order online and got an OXXO voucher…
    let (_, body) = app.post_json("/api/v1/orders", &serde_json::json!({ "account": "P-000002" })).await;
    let token = body["id"].as_str().unwrap().to_string();
    let order_id = crate::common::order_id(&app, &token).await;
    let order = app.store.get_order(order_id).await.unwrap().unwrap();
    let now = app.state.clock.now();
    let attempt = app
        .store
        .start_attempt(
            &NewAttempt {
                order_id,
                provider: Provider::Stripe,
                provider_ref: Some("cs_test_voucher".into()),
                idempotency_key: "voucher".into(),
                amount: order.total,
            },
            now,
        )
        .await
        .unwrap();
    // …then paid at the window instead, by the order's reference.
    let (status, to) = cajera.get(&app, &format!("/personal/caja/cobrar?q={}", order.reference)).await;
    assert_eq!((status, to.as_str()), (303, format!("/personal/caja/orden/{token}").as_str()));
    pay(&app, &cajera, &to, &[("forma", "efectivo"), ("recibido", "640")]).await;
    assert_eq!(app.store.get_order(order_id).await.unwrap().unwrap().status, OrderStatus::Succeeded);

    let event = |id: &str, event: PaymentEvent| ProviderEvent {
        provider: Provider::Stripe,
        event_id: id.into(),
        attempt_id: attempt.id,
        event,
        method: Some(Method::Oxxo),
        instructions: None,
        payment_intent: Some("pi_voucher".into()),
        paid_on: None,
    };
    // The voucher's money arrives anyway: never applied, to refund.
    let paid = event("evt_paid", PaymentEvent::Paid { amount: order.total, currency: "mxn".into() });
    let outcome = app::payments::apply_provider_event(&app.state, &paid).await.unwrap();
    assert!(matches!(outcome, EventOutcome::Overpayment { .. }), "{outcome:?}");
    let over = app.store.overpayments_of_order(order_id).await.unwrap();
    assert_eq!((over.len(), over[0].amount), (1, order.total));
    assert_eq!(app.store.receipts_of_series("A", 2026).await.unwrap().len(), 0, "no second receipt");

    // Had it expired instead, the attempt would close and the order stay paid.
    let (_, body) = app.post_json("/api/v1/orders", &serde_json::json!({ "account": "A-000003" })).await;
    let token = body["id"].as_str().unwrap().to_string();
    let second = crate::common::order_id(&app, &token).await;
    let total = app.store.get_order(second).await.unwrap().unwrap().total;
    let voucher = app
        .store
        .start_attempt(
            &NewAttempt {
                order_id: second,
                provider: Provider::Stripe,
                provider_ref: Some("cs_test_voucher_2".into()),
                idempotency_key: "voucher-2".into(),
                amount: total,
            },
            now,
        )
        .await
        .unwrap();
    let order_page = format!("/personal/caja/orden/{token}");
    pay(&app, &cajera, &order_page, &[("forma", "efectivo"), ("recibido", "1000")]).await;
    let expired = ProviderEvent { attempt_id: voucher.id, ..event("evt_expired", PaymentEvent::Expired) };
    app::payments::apply_provider_event(&app.state, &expired).await.unwrap();
    let attempt = app.store.get_attempt(voucher.id).await.unwrap().unwrap();
    assert_eq!(attempt.status, AttemptStatus::Expired, "the sweep stops asking about it");
    assert_eq!(app.store.get_order(second).await.unwrap().unwrap().status, OrderStatus::Succeeded);
}

/// Runs `recauda recibo cancelar ARGS` on the test app's database.
fn cli_cancel(app: &TestApp, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_recauda"))
        .args(["recibo", "cancelar"])
        .args(args)
        .env("RECAUDA_DATABASE_URL", format!("sqlite://{}", app.db_path.display()))
        .env_remove("RECAUDA_CONFIG")
        .output()
        .unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test]
async fn the_emergency_cancellation_on_the_command_line_needs_an_active_admin() {
    let app = spawn_app().await;
    staff(&app, "sistemas", &[Role::Admin]).await;
    staff(&app, "cajera", &[Role::Cajero]).await;
    let (_, body) = app.post_json("/api/v1/orders", &serde_json::json!({ "account": "P-000002" })).await;
    let token = body["id"].as_str().unwrap().to_string();
    crate::common::pay_as_stripe(&app, &token).await;
    let receipt = app.store.receipt_of_order(crate::common::order_id(&app, &token).await).await.unwrap().unwrap();
    let folio = receipt.folio.to_string();

    let (ok, out) = cli_cancel(&app, &[&folio, "Pago", "aplicado", "a", "otra", "cuenta"]);
    assert!(!ok && out.contains("falta --admin USUARIO"), "{out}");
    let (ok, out) = cli_cancel(&app, &[&folio, "Pago aplicado a otra cuenta", "--admin", "cajera"]);
    assert!(!ok && out.contains("no es un administrador activo"), "{out}");
    let (ok, out) = cli_cancel(&app, &[&folio, "corto", "--admin", "sistemas"]);
    assert!(!ok && out.contains("al menos 10 caracteres"), "{out}");
    assert_eq!(app.store.receipt_by_folio(&receipt.folio).await.unwrap().unwrap().status, ReceiptStatus::Valid);

    let (ok, out) = cli_cancel(&app, &[&folio, "Pago aplicado a otra cuenta", "--admin", "sistemas"]);
    assert!(ok && out.contains(&format!("Recibo {folio} cancelado")), "{out}");
    assert!(matches!(
        app.store.receipt_by_folio(&receipt.folio).await.unwrap().unwrap().status,
        ReceiptStatus::Cancelled { .. }
    ));
    assert_eq!(open_charges(&app, "P-000002").await, 1, "owed again");
    let actors = audit_actions(&app).await;
    assert!(
        actors.iter().any(|(who, what)| who.starts_with("staff:sistemas (cli:") && what == "receipt.cancelled"),
        "{actors:?}"
    );
    let (ok, out) = cli_cancel(&app, &[&folio, "Pago aplicado a otra cuenta", "--admin", "sistemas"]);
    assert!(!ok && out.contains("No hay un recibo vigente"), "{out}");
}
