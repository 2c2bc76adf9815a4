//! The JSON API against a real server on port 0 with its own SQLite file.

use crate::common::{spawn_app, spawn_app_with_limit};
use serde_json::Value;

fn item<'a>(doc: &'a Value, account: &str, concept: &str) -> &'a Value {
    doc["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account"] == account)
        .unwrap_or_else(|| panic!("account {account} in {doc}"))["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["concept"] == concept)
        .unwrap_or_else(|| panic!("{concept} in {account}"))
}

#[tokio::test]
async fn health_reports_the_database() {
    let app = spawn_app().await;
    let (status, body) = app.get_json("/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(body["database"], "ok");
}

#[tokio::test]
async fn debts_by_account_are_itemised_to_the_centavo() {
    let app = spawn_app().await;
    let (status, doc) = app.get_json("/api/v1/debts?account=lc-000001").await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["computed_on"], "2026-11-21");
    assert_eq!(doc["currency"], "MXN");
    let accounts = doc["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0]["owner"], "E***** G**** D***", "owner masked");
    assert_eq!(accounts[0]["colonia"], "Centro");

    // Licencia 2,450.00 due 2026-03-31: 8 months late on 2026-11-21
    // (Mar 31 + 8 months = Nov 30). 2450 × 0.0147 × 8 = 288.12.
    let licencia = item(&doc, "LC-000001", "licencia_comercial");
    assert_eq!(licencia["months_late"], 8);
    assert_eq!(licencia["principal"], "2450.00");
    assert_eq!(licencia["recargos"], "288.12");
    assert_eq!(licencia["discount"], "0.00");
    assert_eq!(licencia["total"], "2738.12");
    assert_eq!(licencia["due_date"], "2026-03-31");
    assert_eq!(licencia["period"], "2026");

    // Basura 385.50 due 2026-10-17: 2 months (Nov 17 < Nov 21 ≤ Dec 17).
    // 385.50 × 0.0147 × 2 = 11.3337 → 11.33 (half away from zero).
    let basura = item(&doc, "LC-000001", "basura");
    assert_eq!(basura["months_late"], 2);
    assert_eq!(basura["recargos"], "11.33");
    assert_eq!(basura["total"], "396.83");

    // 2738.12 + 396.83 = 3134.95 → 95 centavos round up (CFF art. 20).
    assert_eq!(doc["subtotal"], "3134.95");
    assert_eq!(doc["rounding"], "0.05");
    assert_eq!(doc["total"], "3135.00");
}

#[tokio::test]
async fn authorized_discounts_apply_with_their_legal_basis() {
    let app = spawn_app().await;
    let (status, doc) = app.get_json("/api/v1/debts?account=P-000001").await;
    assert_eq!(status, 200, "{doc}");
    // Predial 1,000.00 due 2026-01-31: 10 months (Jan 31 + 10 = Nov 30).
    // Recargos 1000 × 0.0147 × 10 = 147.00; the 2026 predial program takes
    // 50 % of the recargos: 73.50.
    let predial = item(&doc, "P-000001", "predial");
    assert_eq!(predial["recargos"], "147.00");
    assert_eq!(predial["discount"], "73.50");
    assert_eq!(predial["total"], "1073.50");
    let discount = &predial["discounts"][0];
    assert_eq!(discount["component"], "recargos");
    assert_eq!(discount["percent"], "50");
    assert_eq!(discount["amount"], "73.50");
    assert_eq!(discount["valid_until"], "2026-12-31");
    assert!(discount["legal_basis"].as_str().unwrap().contains("Cabildo"));
    // 1073.50: 50 centavos round down.
    assert_eq!(doc["rounding"], "-0.50");
    assert_eq!(doc["total"], "1073.00");
}

#[tokio::test]
async fn debts_by_rfc_cover_every_account_of_the_taxpayer() {
    let app = spawn_app().await;
    let (status, doc) = app.get_json("/api/v1/debts?rfc=gode561231gr8").await;
    assert_eq!(status, 200, "{doc}");
    let mut numbers: Vec<&str> =
        doc["accounts"].as_array().unwrap().iter().map(|a| a["account"].as_str().unwrap()).collect();
    numbers.sort();
    assert_eq!(numbers, ["LC-000001", "P-000001"]);
    // 2738.12 + 396.83 + 1073.50 = 4208.45 → 45 centavos round down.
    assert_eq!(doc["subtotal"], "4208.45");
    assert_eq!(doc["rounding"], "-0.45");
    assert_eq!(doc["total"], "4208.00");
}

#[tokio::test]
async fn a_charge_not_yet_due_has_no_recargos() {
    let app = spawn_app().await;
    let (_, doc) = app.get_json("/api/v1/debts?account=P-000002").await;
    let predial = item(&doc, "P-000002", "predial");
    assert_eq!(predial["months_late"], 0);
    assert_eq!(predial["recargos"], "0.00");
    assert_eq!(predial["total"], "640.10");
    assert_eq!(doc["total"], "640.00");
    assert_eq!(doc["accounts"][0]["owner"], "M**** P*** N****");
}

#[tokio::test]
async fn an_account_with_nothing_open_owes_nothing() {
    let app = spawn_app().await;
    app.sql(
        "UPDATE charges SET status = 'paid' WHERE account_id = (SELECT id FROM accounts WHERE number = 'P-000002')",
    )
    .await;
    let (status, doc) = app.get_json("/api/v1/debts?account=P-000002").await;
    assert_eq!(status, 200);
    assert_eq!(doc["accounts"][0]["items"].as_array().unwrap().len(), 0);
    assert_eq!(doc["total"], "0.00");
}

#[tokio::test]
async fn bad_input_gets_a_spanish_message_and_the_right_status() {
    let app = spawn_app().await;
    let cases: &[(&str, u16, &str)] = &[
        ("/api/v1/debts", 400, "invalid_query"),
        ("/api/v1/debts?account=", 400, "invalid_account"),
        ("/api/v1/debts?rfc=GODE561331GR8", 400, "invalid_rfc"),
        ("/api/v1/debts?rfc=ABC", 400, "invalid_rfc"),
        ("/api/v1/debts?rfc=XAXX010101000", 400, "generic_rfc"),
        ("/api/v1/debts?account=P-1&rfc=GODE561231GR8", 400, "invalid_query"),
        ("/api/v1/debts?account=NO-EXISTE", 404, "not_found"),
        ("/api/v1/debts?account=P-1%27%3B%20DROP%20TABLE%20charges", 400, "invalid_account"),
    ];
    for (path, status, code) in cases {
        let (got, body) = app.get_json(path).await;
        assert_eq!(got, *status, "{path}: {body}");
        assert_eq!(body["error"]["code"], *code, "{path}: {body}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }
    let huge = format!("/api/v1/debts?account={}", "9".repeat(8_000));
    let response = app.get(&huge).await;
    assert!(response.status().is_client_error(), "huge input refused: {}", response.status());
    // Nothing changed: the data is still there.
    let (status, _) = app.get_json("/api/v1/debts?account=LC-000001").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn an_rfc_with_a_wrong_check_digit_that_finds_nothing_says_verify_it() {
    let app = spawn_app().await;
    // Same RFC with the last character changed: well formed, wrong digit.
    let (status, body) = app.get_json("/api/v1/debts?rfc=GODE561231GR9").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    assert!(body["error"]["hint"].as_str().unwrap().contains("Verifique su RFC"), "{body}");
}

#[tokio::test]
async fn lookups_are_rate_limited_per_address() {
    let app = spawn_app_with_limit(2).await;
    for _ in 0..2 {
        assert_eq!(app.get("/api/v1/debts?account=LC-000001").await.status(), 200);
    }
    let response = app.get("/api/v1/debts?account=LC-000001").await;
    assert_eq!(response.status(), 429);
    let retry: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    // The page shares the same budget and answers with a friendly 429 page.
    let page = app.get("/consulta?cuenta=LC-000001").await;
    assert_eq!(page.status(), 429);
    assert!(page.headers().contains_key("retry-after"));
    assert!(page.text().await.unwrap().contains("data-testid=\"rate-limited\""));
}

#[tokio::test]
async fn the_openapi_document_describes_the_debts_endpoint() {
    let app = spawn_app().await;
    let (status, doc) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let item = &doc["components"]["schemas"]["Item"]["required"];
    for field in ["concept", "period", "due_date", "principal", "recargos", "discount", "total"] {
        assert!(item.as_array().unwrap().iter().any(|f| f == field), "{field}");
    }
    assert!(doc["paths"]["/api/v1/debts"]["get"]["responses"]["429"].is_object());
}

#[tokio::test]
async fn an_account_imported_in_lower_case_is_found_as_typed() {
    let app = spawn_app().await;
    let csv = "account,kind,rfc,name,colonia,concept,period,due_date,amount\n\
               p-000123,predial,,Luis Cota Peña,Centro,predial,2026-B6,2026-12-31,500.00\n";
    let rows = server::import::parse_padron(csv.as_bytes()).unwrap();
    assert_eq!(rows[0].account.as_str(), "P-000123", "normalised on import");
    app.store.import_padron(&rows, &|_| {}).await.unwrap();
    for typed in ["P-000123", "p-000123", "%20p-000123%20"] {
        let (status, doc) = app.get_json(&format!("/api/v1/debts?account={typed}")).await;
        assert_eq!(status, 200, "{typed}: {doc}");
        assert_eq!(doc["accounts"][0]["account"], "P-000123");
    }
    // The page and the order form too.
    let (status, html) = crate::common::page(&app, "/consulta?cuenta=p-000123").await;
    assert_eq!(status, 200);
    assert!(html.contains("P-000123"), "{html}");
    let (status, order) = app.post_json("/api/v1/orders", &serde_json::json!({"account": "p-000123"})).await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["items"][0]["account"], "P-000123");
}

/// Found by the API fuzzing (`.ci/api-fuzz`): a method a route does not
/// have was an empty 405. It is the one error, with `Allow`: JSON under
/// `/api` (and `/healthz`), the error page elsewhere.
#[tokio::test]
async fn a_method_a_route_does_not_have_is_a_405_in_the_error_shape() {
    let app = spawn_app().await;
    for (method, path, allow) in [
        ("GET", "/api/v1/orders", "POST"),
        ("DELETE", "/api/v1/debts?account=P-000002", "GET,HEAD"),
        ("PUT", "/api/v1/orders/0123456789abcdef0123456789abcdef", "GET,HEAD"),
        ("GET", "/api/v1/orders/0123456789abcdef0123456789abcdef/checkout", "POST"),
        ("TRACE", "/api/v1/receipts/keys", "GET,HEAD"),
        ("OPTIONS", "/api/v1/openapi.json", "GET,HEAD"),
        ("POST", "/healthz", "GET,HEAD"),
    ] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = app.client.request(method.clone(), format!("{}{}", app.base, path)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 405, "{method} {path}");
        assert_eq!(r.headers()["allow"], allow, "{method} {path}");
        assert_eq!(r.headers()["content-type"], "application/json", "{method} {path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "method_not_allowed", "{method} {path}: {body}");
        assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    }
    let r = app.client.delete(format!("{}/consulta", app.base)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 405);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"data-code="method_not_allowed""#), "{html}");
}

/// Found by the API fuzzing: a path parameter that is not UTF-8 once
/// percent-decoded (`%FF`) was axum's plain-text 400. It names nothing: the
/// answer of an unknown order or folio, in the API's shapes.
#[tokio::test]
async fn a_path_parameter_that_is_not_utf8_names_nothing() {
    let app = spawn_app().await;
    let (status, body) = app.get_json("/api/v1/orders/%FF%FE").await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("order_not_found")), "{body}");
    for path in ["/api/v1/orders/%C0/checkout", "/api/v1/orders/ab%FFcd/requote"] {
        let (status, body) = app.post_raw(path, "application/json", "").await;
        assert_eq!((status, body["error"]["code"].as_str()), (404, Some("order_not_found")), "{path}: {body}");
    }
    let (status, body) = app.get_json("/api/v1/receipts/A-2026-%FF/verify?s=x.y").await;
    assert_eq!((status, body["verdict"].as_str()), (404, Some("unknown")), "{body}");
    // The receipt's PDF (a page route): unknown, not a plain-text 400.
    let r = app.get("/recibo/%FF/pdf?s=x.y").await;
    assert_eq!(r.status().as_u16(), 404);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
}

/// The document's links lead from a created (or re-quoted) order to
/// reading, paying and re-quoting it, and from a checkout to its order (the
/// API fuzzing's stateful phase follows them), written with OpenAPI's keys
/// (`operationId`), not utoipa's field names.
#[tokio::test]
async fn the_openapi_document_links_an_order_to_its_operations() {
    let app = spawn_app().await;
    let (_, doc) = app.get_json("/api/v1/openapi.json").await;
    for (path, response) in [("/api/v1/orders", "201"), ("/api/v1/orders/{token}/requote", "201")] {
        let links = &doc["paths"][path]["post"]["responses"][response]["links"];
        for op in ["getOrder", "checkoutOrder", "requoteOrder"] {
            assert_eq!(links[op]["operationId"], op, "{path}: {links}");
            assert_eq!(links[op]["parameters"]["token"], "$response.body#/id", "{path}: {links}");
            assert!(links[op].get("operation_id").is_none(), "{path}: {links}");
        }
    }
    let links = &doc["paths"]["/api/v1/orders/{token}/checkout"]["post"]["responses"]["201"]["links"];
    assert_eq!(links["getOrder"]["operationId"], "getOrder", "{links}");
    assert_eq!(links["getOrder"]["parameters"]["token"], "$response.body#/order", "{links}");
}

/// Every address under `/api` answers in JSON: one that is not a route
/// (`/api`, another version) was the site's HTML 404 page.
#[tokio::test]
async fn every_unknown_address_under_api_is_the_json_404() {
    let app = spawn_app().await;
    for path in ["/api", "/api/", "/api/v2/debts?account=P-000002", "/api/sf/nothing", "/api/v1/nothing/at/all"] {
        let r = app.get(path).await;
        assert_eq!(r.status().as_u16(), 404, "{path}");
        assert_eq!(r.headers()["content-type"], "application/json", "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found", "{path}: {body}");
    }
    // The server functions under /api/sf are still reached.
    let r = app
        .client
        .post(format!("{}/api/sf/lookup", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("cuenta=P-000002")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}
