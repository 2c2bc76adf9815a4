//! Payment orders through the JSON API, against a real server on port 0
//! with its own SQLite file (today fixed at 2026-11-21, Loreto).

use crate::common::{spawn_app, spawn_app_with_limit, TestApp};
use app::domain::payment::{PaymentEvent, CURRENCY_MXN};
use app::domain::reference::OrderReference;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};

/// Every item of a debts document, in order.
fn lookup_items(doc: &Value) -> Vec<Value> {
    doc["accounts"].as_array().unwrap().iter().flat_map(|a| a["items"].as_array().unwrap().clone()).collect()
}

/// The items of an order, reduced to the fields a lookup item also has.
fn order_items(order: &Value) -> Vec<Value> {
    order["items"].as_array().unwrap().iter().map(figures).collect()
}

fn figures(item: &Value) -> Value {
    json!({
        "charge_id": item["charge_id"], "concept": item["concept"], "period": item["period"],
        "due_date": item["due_date"], "principal": item["principal"], "recargos": item["recargos"],
        "discount": item["discount"], "total": item["total"],
    })
}

async fn charge_ids(app: &TestApp, query: &str) -> Vec<i64> {
    let (status, doc) = app.get_json(&format!("/api/v1/debts?{query}")).await;
    assert_eq!(status, 200, "{doc}");
    lookup_items(&doc).iter().map(|i| i["charge_id"].as_i64().unwrap()).collect()
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[tokio::test]
async fn an_order_by_account_freezes_the_lookup_figures_to_the_centavo() {
    let app = spawn_app().await;
    let (_, doc) = app.get_json("/api/v1/debts?account=LC-000001").await;
    let (status, order) = app.post_json("/api/v1/orders", &json!({"account": "lc-000001"})).await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["status"], "created");
    assert_eq!(order["currency"], "MXN");
    assert_eq!(order_items(&order), lookup_items(&doc).iter().map(figures).collect::<Vec<_>>());
    assert!(order["items"].as_array().unwrap().iter().all(|i| i["account"] == "LC-000001"));
    for field in ["subtotal", "rounding", "total"] {
        assert_eq!(order[field], doc[field], "{field}");
    }
    assert_eq!((order["subtotal"].as_str(), order["total"].as_str()), (Some("3134.95"), Some("3135.00")));
    // The reference: Loreto's prefix 01, issued in 2026, a random serial, check digits.
    let reference = OrderReference::parse(order["reference"].as_str().unwrap()).expect("valid reference");
    assert_eq!(reference.municipality_prefix(), 1);
    assert_eq!(reference.year_suffix(), 26);
    // The order's address is its token: 32 hex digits, not a number.
    let token = order["id"].as_str().expect("the id is the order's token");
    assert!(token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()), "{token}");
    // Valid until the end of 2026-11-21 in Loreto (UTC−7).
    assert_eq!(at(order["expires_at"].as_str().unwrap()), at("2026-11-22T07:00:00Z"));
    assert_eq!(order["transitions"].as_array().unwrap().len(), 1);
    assert_eq!(order["transitions"][0]["from"], Value::Null);
    assert_eq!(order["transitions"][0]["to"], "created");
    assert_eq!(order["transitions"][0]["event"], "created");

    let (status, again) = app.get_json(&format!("/api/v1/orders/{token}")).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again, order);
}

#[tokio::test]
async fn an_order_by_rfc_takes_every_account_of_the_taxpayer() {
    let app = spawn_app().await;
    let (status, order) = app.post_json("/api/v1/orders", &json!({"rfc": "GODE561231GR8"})).await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["items"].as_array().unwrap().len(), 3);
    // 2738.12 + 396.83 + 1073.50 = 4208.45 → 4208.00 (see the lookup tests).
    assert_eq!(order["subtotal"], "4208.45");
    assert_eq!(order["rounding"], "-0.45");
    assert_eq!(order["total"], "4208.00");
}

#[tokio::test]
async fn a_selected_subset_is_quoted_alone_and_leaves_the_rest_free() {
    let app = spawn_app().await;
    let (_, doc) = app.get_json("/api/v1/debts?account=LC-000001").await;
    let basura = lookup_items(&doc).into_iter().find(|i| i["concept"] == "basura").unwrap();
    let (status, order) =
        app.post_json("/api/v1/orders", &json!({"account": "LC-000001", "charges": [basura["charge_id"]]})).await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order_items(&order), vec![figures(&basura)]);
    // 396.83: 83 centavos round up.
    assert_eq!((order["subtotal"].as_str(), order["rounding"].as_str()), (Some("396.83"), Some("0.17")));
    assert_eq!(order["total"], "397.00");
    // The licencia is not held: it can go in another order.
    let (status, other) = app.post_json("/api/v1/orders", &json!({"account": "LC-000001"})).await;
    assert_eq!(status, 409, "the basura is held: {other}");
    let licencia = lookup_items(&doc).into_iter().find(|i| i["concept"] == "licencia_comercial").unwrap();
    let (status, other) =
        app.post_json("/api/v1/orders", &json!({"account": "LC-000001", "charges": [licencia["charge_id"]]})).await;
    assert_eq!(status, 201, "{other}");
    assert_ne!(other["reference"], order["reference"]);
}

#[tokio::test]
async fn charges_are_paid_oldest_first() {
    let app = spawn_app().await;
    let ids = charge_ids(&app, "account=A-000003").await;
    assert_eq!(ids.len(), 2, "two agua months, oldest first");
    let (status, body) = app.post_json("/api/v1/orders", &json!({"account": "A-000003", "charges": [ids[1]]})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "older_charge_unpaid");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("periodo 2026-09"), "names the older period: {message}");
    assert!(message.contains("Agua potable"), "{message}");
    // Nothing was held by the refusal; the oldest alone is fine.
    let (status, order) = app.post_json("/api/v1/orders", &json!({"account": "A-000003", "charges": [ids[0]]})).await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["items"][0]["period"], "2026-09");
}

#[tokio::test]
async fn bad_selections_and_queries_are_refused_in_spanish() {
    let app = spawn_app().await;
    let other_account = charge_ids(&app, "account=P-000002").await[0];
    let cases: &[(Value, u16, &str)] = &[
        (json!({"account": "LC-000001", "charges": []}), 400, "invalid_charges"),
        (json!({"account": "LC-000001", "charges": [other_account]}), 400, "invalid_charges"),
        (json!({"account": "LC-000001", "charges": [999_999]}), 400, "invalid_charges"),
        (json!({}), 400, "invalid_query"),
        (json!({"account": "LC-000001", "rfc": "GODE561231GR8"}), 400, "invalid_query"),
        (json!({"rfc": "XAXX010101000"}), 400, "generic_rfc"),
        (json!({"account": "NO-EXISTE"}), 404, "not_found"),
    ];
    for (body, status, code) in cases {
        let (got, answer) = app.post_json("/api/v1/orders", body).await;
        assert_eq!(got, *status, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], *code, "{body}: {answer}");
        assert!(!answer["error"]["message"].as_str().unwrap().is_empty());
    }
    app.sql(
        "UPDATE charges SET status = 'paid' WHERE account_id = (SELECT id FROM accounts WHERE number = 'P-000002')",
    )
    .await;
    let (status, answer) = app.post_json("/api/v1/orders", &json!({"account": "P-000002"})).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (400, Some("invalid_charges")), "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("no tiene adeudos"), "{answer}");
}

#[tokio::test]
async fn malformed_json_gets_the_spanish_error_shape() {
    let app = spawn_app().await;
    let cases: &[(&str, &str, u16, &str)] = &[
        ("application/json", "{\"account\": ", 400, "invalid_json"),
        ("application/json", "no es json", 400, "invalid_json"),
        ("application/json", "{\"cuenta\": \"LC-000001\"}", 400, "invalid_json"),
        ("application/json", "{\"account\": \"LC-000001\", \"charges\": \"todos\"}", 400, "invalid_json"),
        ("text/plain", "{\"account\": \"LC-000001\"}", 415, "unsupported_media_type"),
    ];
    for (content_type, body, status, code) in cases {
        let (got, answer) = app.post_raw("/api/v1/orders", content_type, body).await;
        assert_eq!(got, *status, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], *code, "{body}: {answer}");
    }
    let (_, answer) = app.post_raw("/api/v1/orders", "application/json", "{").await;
    assert_eq!(answer["error"]["message"], "El cuerpo de la solicitud no es un JSON válido.");
    // The body limit applies too.
    let huge = format!("{{\"account\": \"{}\"}}", "9".repeat(70 * 1024));
    let response = app
        .client
        .post(format!("{}/api/v1/orders", app.base))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn the_same_charges_cannot_sit_in_two_live_orders() {
    let app = spawn_app().await;
    let (status, first) = app.post_json("/api/v1/orders", &json!({"account": "LC-000001"})).await;
    assert_eq!(status, 201, "{first}");
    // By RFC the LC-000001 charges come along: refused, nothing held for P-000001.
    let (status, body) = app.post_json("/api/v1/orders", &json!({"rfc": "GODE561231GR8"})).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "charges_in_live_order");
    assert!(body["error"]["message"].as_str().unwrap().contains("orden de pago vigente"), "{body}");
    let (status, body) = app.post_json("/api/v1/orders", &json!({"account": "P-000001"})).await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn two_tabs_creating_the_same_order_at_once_get_one_201_and_one_409() {
    let app = spawn_app().await;
    let body = json!({"rfc": "GODE561231GR8"});
    let (a, b) = tokio::join!(app.post_json("/api/v1/orders", &body), app.post_json("/api/v1/orders", &body));
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [201, 409], "{} / {}", a.1, b.1);
    let refused = if a.0 == 409 { &a.1 } else { &b.1 };
    assert_eq!(refused["error"]["code"], "charges_in_live_order");
}

#[tokio::test]
async fn an_expired_order_releases_its_charges_and_is_requoted_at_the_new_figures() {
    let app = spawn_app().await;
    let (_, order) = app.post_json("/api/v1/orders", &json!({"account": "LC-000001"})).await;
    let id = order["id"].as_str().unwrap().to_string();
    // Still live: nothing to re-quote.
    let (status, body) = app.post_json(&format!("/api/v1/orders/{id}/requote"), &json!({})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("order_still_live")), "{body}");

    // Before the end of the day nothing expires; after it, the order does.
    assert_eq!(app.store.expire_due_orders(at("2026-11-22T06:59:59Z")).await.unwrap(), 0);
    assert_eq!(app.store.expire_due_orders(at("2026-11-22T07:00:00Z")).await.unwrap(), 1);
    let (_, expired) = app.get_json(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(expired["status"], "expired");
    let moves: Vec<(Value, Value, Value)> = expired["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["from"].clone(), t["to"].clone(), t["event"].clone()))
        .collect();
    assert_eq!(
        moves,
        [(Value::Null, json!("created"), json!("created")), (json!("created"), json!("expired"), json!("expired"))]
    );
    assert_eq!(at(expired["transitions"][1]["at"].as_str().unwrap()), at("2026-11-22T07:00:00Z"));

    // A month later the same charges owe more recargos.
    let later = app.on_day(NaiveDate::from_ymd_opt(2026, 12, 21).unwrap()).await;
    let (_, doc) = later.get_json("/api/v1/debts?account=LC-000001").await;
    let (status, requoted) = later.post_json(&format!("/api/v1/orders/{id}/requote"), &json!({})).await;
    assert_eq!(status, 201, "{requoted}");
    assert_eq!(requoted["requoted_from"], id);
    assert_eq!(requoted["status"], "created");
    assert_ne!(requoted["reference"], order["reference"]);
    assert_ne!(requoted["id"], order["id"]);
    assert_eq!(order_items(&requoted), lookup_items(&doc).iter().map(figures).collect::<Vec<_>>());
    assert_eq!(requoted["total"], doc["total"]);
    assert_ne!(requoted["total"], order["total"], "new figures");
    assert_eq!(at(requoted["expires_at"].as_str().unwrap()), at("2026-12-22T07:00:00Z"));
    // The new order holds the charges again.
    let (status, _) = later.post_json("/api/v1/orders", &json!({"account": "LC-000001"})).await;
    assert_eq!(status, 409);
    // Re-quoting the expired order twice would put the charges in two live orders.
    let (status, body) = later.post_json(&format!("/api/v1/orders/{id}/requote"), &json!({})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("charges_in_live_order")), "{body}");
}

#[tokio::test]
async fn the_order_shows_every_transition_and_a_paid_order_clears_the_debt() {
    let app = spawn_app().await;
    let (_, order) = app.post_json("/api/v1/orders", &json!({"account": "P-000001"})).await;
    let id = order["id"].as_str().unwrap().to_string();
    let now = at("2026-11-21T18:00:00Z");
    app.store
        .apply_transition(
            crate::common::order_id(&app, &id).await,
            &PaymentEvent::Redirected,
            now,
            now.date_naive(),
            &app.state.receipt_keys,
        )
        .await
        .unwrap();
    let paid = PaymentEvent::Paid { amount: app::domain::money::Centavos(107_300), currency: CURRENCY_MXN.into() };
    app.store
        .apply_transition(
            crate::common::order_id(&app, &id).await,
            &paid,
            now,
            now.date_naive(),
            &app.state.receipt_keys,
        )
        .await
        .unwrap();
    let (status, shown) = app.get_json(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(shown["status"], "succeeded");
    let events: Vec<&str> =
        shown["transitions"].as_array().unwrap().iter().map(|t| t["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["created", "redirected", "paid"]);
    assert_eq!(shown["transitions"][2]["from"], "pending");
    let (_, doc) = app.get_json("/api/v1/debts?account=P-000001").await;
    assert_eq!(doc["total"], "0.00", "the paid charge left the lookup");
    // A succeeded order is not re-quoted.
    let (status, body) = app.post_json(&format!("/api/v1/orders/{id}/requote"), &json!({})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("order_not_requotable")), "{body}");
}

#[tokio::test]
async fn unknown_orders_are_404_in_json() {
    let app = spawn_app().await;
    for path in ["/api/v1/orders/999", "/api/v1/orders/abc", "/api/v1/orders/-1"] {
        let (status, body) = app.get_json(path).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body["error"]["code"], "order_not_found");
    }
    let (status, body) = app.post_json("/api/v1/orders/999/requote", &json!({})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("order_not_found")));
}

#[tokio::test]
async fn creating_orders_shares_the_lookup_rate_limit() {
    let app = spawn_app_with_limit(1).await;
    let (status, _) = app.post_json("/api/v1/orders", &json!({"account": "P-000002"})).await;
    assert_eq!(status, 201);
    let (status, body) = app.post_json("/api/v1/orders", &json!({"account": "P-000002"})).await;
    assert_eq!(status, 429);
    assert_eq!(body["error"]["code"], "rate_limited");
}

#[tokio::test]
async fn the_openapi_document_describes_the_orders_endpoints() {
    let app = spawn_app().await;
    let (_, doc) = app.get_json("/api/v1/openapi.json").await;
    assert!(doc["paths"]["/api/v1/orders"]["post"]["responses"]["409"].is_object());
    assert!(doc["paths"]["/api/v1/orders/{token}"]["get"].is_object());
    assert!(doc["paths"]["/api/v1/orders/{token}/requote"]["post"].is_object());
    let codes =
        doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"].as_array().unwrap();
    for code in ["charges_in_live_order", "older_charge_unpaid", "invalid_charges", "invalid_json"] {
        assert!(codes.iter().any(|c| c == code), "{code}");
    }
}

/// Issue 9, defect 1: orders were read by walking `/api/v1/orders/1, 2, …`
/// and `/orden/{reference}` (a computable reference), and a paid one gave
/// away its receipt's signature and the payer's full name.
#[tokio::test]
async fn orders_are_reached_only_by_their_unguessable_token() {
    let app = spawn_app().await;
    let (_, first) = app.post_json("/api/v1/orders", &json!({"account": "P-000002"})).await;
    let (_, second) = app.post_json("/api/v1/orders", &json!({"account": "A-000003"})).await;
    let token = first["id"].as_str().unwrap().to_string();
    let reference = first["reference"].as_str().unwrap().to_string();
    crate::common::pay_as_stripe(&app, &token).await;

    // Sequential ids, the printed reference, its grouped form: nothing.
    for path in ["1", "2", "3", reference.as_str(), &reference[..4]] {
        let (status, body) = app.get_json(&format!("/api/v1/orders/{path}")).await;
        assert_eq!((status, body["error"]["code"].as_str()), (404, Some("order_not_found")), "{path}: {body}");
        let (status, body) = app.post_json(&format!("/api/v1/orders/{path}/checkout"), &json!({})).await;
        assert_eq!(status, 404, "{path}: {body}");
        let r = app.get(&format!("/orden/{path}")).await;
        assert_eq!(r.status().as_u16(), 404, "/orden/{path}");
        let html = r.text().await.unwrap();
        assert!(!html.contains("?s=") && !html.contains("Peña"), "/orden/{path}: {html}");
    }
    let r = crate::common::post_form(&app, &format!("/orden/{reference}/pagar"), &[]).await;
    assert_eq!(r.status().as_u16(), 404);

    // The token opens the order, typed in either case; a token one digit
    // off opens nothing.
    let (status, order) = app.get_json(&format!("/api/v1/orders/{}", token.to_uppercase())).await;
    assert_eq!((status, order["id"].as_str()), (200, Some(token.as_str())));
    assert!(order["receipt"]["verify_url"].as_str().unwrap().contains("?s="));
    let (status, html) = crate::common::page(&app, &format!("/orden/{token}")).await;
    assert!(status == 200 && html.contains(&reference), "{html}");
    let last = token.chars().last().unwrap();
    let off = format!("{}{}", &token[..31], if last == '0' { '1' } else { '0' });
    assert_eq!(app.get_json(&format!("/api/v1/orders/{off}")).await.0, 404);

    // References carry random serials: not the order's id, not consecutive.
    let (a, b) = (
        OrderReference::parse(&reference).unwrap(),
        OrderReference::parse(second["reference"].as_str().unwrap()).unwrap(),
    );
    assert!(a.serial().abs_diff(b.serial()) > 1, "{a} {b}");
    assert!(a.serial() > 2 || b.serial() > 2, "{a} {b}");
    assert_ne!(first["id"], second["id"]);

    // A folio alone opens no receipt: the verification page without the
    // signature, or with another, shows no name and no signature.
    for path in ["/v/A-2026-000001", "/v/A-2026-000001?s=x", "/recibo/A-2026-000001", "/recibo/A-2026-000001?s=x"] {
        let (_, html) = crate::common::page(&app, path).await;
        assert!(!html.contains("Peña") && !html.contains("?s="), "{path}: {html}");
    }
    let (status, body) = app.get_json("/api/v1/receipts/A-2026-000001/verify").await;
    assert!(status >= 400 || !body.to_string().contains("Peña"), "{status}: {body}");
}

/// Issue 9, defect 5: the padrón import rewrote a charge held by a live
/// order, which then paid the old amount. Now the import refuses (all or
/// nothing, the held charge named), and an order quoted before a change is
/// refused too.
#[tokio::test]
async fn the_import_never_rewrites_a_charge_held_by_a_live_order() {
    use app::store::StoreError;
    let app = spawn_app().await;
    let (_, order) = app.post_json("/api/v1/orders", &json!({"account": "P-000002"})).await;
    let token = order["id"].as_str().unwrap().to_string();
    let id = crate::common::order_id(&app, &token).await;
    let changed = crate::common::TEST_PADRON.replace(
        "P-000002,predial,,María Peña Núñez,Zaragoza,predial,2026-B6,2026-12-31,640.10",
        "P-000002,predial,,María Peña Núñez,Zaragoza,predial,2026-B6,2026-12-31,700.00",
    );
    assert_ne!(changed, crate::common::TEST_PADRON);
    let rows = server::import::parse_padron(changed.as_bytes()).unwrap();
    let refused = app.store.import_padron(&rows, &|_| {}).await;
    match &refused {
        Err(e @ StoreError::ImportHeldCharge { account, stored, incoming, .. }) => {
            assert_eq!((account.as_str(), stored.0, incoming.0), ("P-000002", 64_010, 70_000));
            assert!(e.message_es().contains("orden de pago vigente"), "{}", e.message_es());
        }
        other => panic!("expected the held charge to be reported, got {other:?}"),
    }
    // Nothing changed: the order still pays what it quoted.
    let (_, doc) = app.get_json("/api/v1/debts?account=P-000002").await;
    assert_eq!(doc["accounts"][0]["items"][0]["principal"], "640.10", "{doc}");

    // Once the order is no longer live, the same file imports.
    app.sql(&format!("UPDATE payment_orders SET expires_at = '2026-11-20T00:00:00.000000Z' WHERE id = {id}")).await;
    assert_eq!(app.store.expire_due_orders(app.state.clock.now()).await.unwrap(), 1);
    app.store.import_padron(&rows, &|_| {}).await.expect("imports now");
    let (_, doc) = app.get_json("/api/v1/debts?account=P-000002").await;
    assert_eq!(doc["accounts"][0]["items"][0]["principal"], "700.00", "{doc}");

    // An order frozen from the old quote, created after the change: refused.
    let old = app.store.get_order(id).await.unwrap().unwrap();
    let stale = app::store::NewOrder {
        items: old.items.clone(),
        subtotal: old.subtotal,
        rounding: old.rounding,
        total: old.total,
        expires_at: old.expires_at + chrono::Duration::days(2),
        requoted_from: None,
        reference_prefix: 1,
        issued_on: NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
    };
    let r = app.store.create_order(&stale, app.state.clock.now()).await;
    assert!(matches!(r, Err(StoreError::ChargesChanged)), "{r:?}");
}
