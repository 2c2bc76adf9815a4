//! The HTTP boundary, written once: one error rendered as JSON under `/api`
//! and as a page inside the site layout elsewhere; rate limits on every
//! public route class; request ids; the OpenAPI document generated from the
//! handlers; reads that never write.

use serde_json::{json, Value};

use crate::common::{page, post_form_with, spawn_app, spawn_app_over_http, spawn_app_with_limit, TestApp, TOKEN};

#[tokio::test]
async fn a_refused_form_is_an_error_page_inside_the_site_layout() {
    let app = spawn_app().await;
    let r = post_form_with(&app, "/orden", &[("cuenta", "P-000002".into())], Some(TOKEN), None).await;
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    for part in [
        r#"<html lang="es-MX""#,
        r#"class="site-header""#,
        r#"class="site-nav""#,
        r#"class="site-footer""#,
        r#"data-testid="error-summary""#,
        r#"data-code="csrf""#,
        "No pudimos verificar que este formulario salió de este portal",
        r#"href="/consulta""#,
    ] {
        assert!(html.contains(part), "{part} in {html}");
    }
    // In the visitor's language.
    let r = app
        .client
        .post(format!("{}/orden", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", "recauda_lang=en")
        .body("cuenta=P-000002")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"<html lang="en"#) && html.contains("We could not verify that this form"), "{html}");
}

#[tokio::test]
async fn api_errors_keep_their_json_shape_and_unknown_api_routes_are_json() {
    let app = spawn_app().await;
    let (status, body) = app.get_json("/api/v1/no-such-thing").await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")), "{body}");
    let (status, body) = app.post_raw("/api/v1/orders", "text/plain", "account=P-000002").await;
    assert_eq!((status, body["error"]["code"].as_str()), (415, Some("unsupported_media_type")), "{body}");
    let (status, body) = app.post_raw("/api/v1/orders", "application/json", "{nope").await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_json")), "{body}");
    // A repeated single-valued parameter: the first one counts.
    let (status, body) = app.get_json("/api/v1/debts?account=P-000002&account=NO-EXISTE").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accounts"][0]["account"], "P-000002");
}

/// A body over the limit is refused before any handler, in the same shape
/// as every other error: JSON under `/api` (whether the size was declared
/// or only found while reading), a page elsewhere.
#[tokio::test]
async fn an_oversized_body_is_a_413_in_the_error_shape() {
    let app = spawn_app().await;
    let big = format!("{{\"account\": \"{}\"}}", "x".repeat(server::security::MAX_BODY_BYTES));
    let (status, body) = app.post_raw("/api/v1/orders", "application/json", &big).await;
    assert_eq!((status, body["error"]["code"].as_str()), (413, Some("payload_too_large")), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("demasiado grande"), "{body}");
    // Chunked, without a Content-Length: found while reading.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = "POST /api/v1/stripe/webhook HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
                transfer-encoding: chunked\r\nconnection: close\r\n\r\n";
    conn.write_all(head.as_bytes()).await.unwrap();
    for chunk in big.as_bytes().chunks(8192) {
        let sent = conn.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await;
        if sent.is_err() || conn.write_all(chunk).await.is_err() || conn.write_all(b"\r\n").await.is_err() {
            break;
        }
    }
    let _ = conn.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.to_lowercase().contains("content-type: application/json"), "{answer}");
    assert!(answer.contains(r#""code":"payload_too_large""#), "{answer}");
    // A page form: the error page.
    let r =
        post_form_with(&app, "/orden", &[("cuenta", "x".repeat(server::security::MAX_BODY_BYTES))], None, None).await;
    assert_eq!(r.status().as_u16(), 413);
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"data-code="payload_too_large""#) && html.contains("demasiado grande"), "{html}");
}

/// Under https every cookie is `__Host-` and `Secure`, and every answer
/// carries HSTS; over plain http (a development machine) neither, and a
/// `__Host-` cookie is not what the portal reads.
#[tokio::test]
async fn under_https_cookies_are_host_only_and_secure_and_hsts_is_sent() {
    let app = spawn_app().await;
    for path in ["/", "/consulta?cuenta=P-000002", "/api/v1/debts?account=P-000002", "/no-such-page"] {
        let r = app.get(path).await;
        assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000; includeSubDomains", "{path}");
    }
    let r = app.get("/idioma?lang=en&volver=/consulta").await;
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.starts_with("__Host-recauda_lang=en;") && cookie.contains("; Secure") && cookie.contains("Path=/"),
        "{cookie}"
    );
    // The language cookie under its https name is read.
    let r = app
        .client
        .get(format!("{}/consulta", app.base))
        .header("cookie", "__Host-recauda_lang=en")
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains(r#"<html lang="en""#));
    // The plain-named CSRF cookie (which any subdomain could set) is not
    // the session under https.
    let token = app.state.csrf_key.token_for(TOKEN);
    let r = app
        .client
        .post(format!("{}/orden", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", format!("recauda_csrf={TOKEN}"))
        .body(format!("csrf={token}&cuenta=P-000002"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    // Every server on the database shares the key: a form rendered by one
    // is accepted by another.
    let second = app.on_day(crate::common::today()).await;
    assert_eq!(second.state.csrf_key.token_for(TOKEN), token);
    let r = post_form_with(&second, "/orden", &[("cuenta", "P-000002".into())], Some(TOKEN), Some(&token)).await;
    assert_ne!(r.status().as_u16(), 403);

    let dev = spawn_app_over_http().await;
    let r = dev.get("/consulta?cuenta=P-000002").await;
    assert!(r.headers().get("strict-transport-security").is_none());
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("recauda_csrf=") && !cookie.contains("Secure"), "{cookie}");
    let r = dev.get("/idioma?lang=en&volver=/").await;
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("recauda_lang=en;") && !cookie.contains("Secure"), "{cookie}");
}

/// A request: method, path, JSON body (a form when `None` for a POST).
type Request<'a> = (&'a str, String, Option<&'a Value>);

async fn status_of(app: &TestApp, method: &str, path: &str, body: Option<&Value>) -> (u16, String, Option<String>) {
    let url = format!("{}{}", app.base, path);
    let request = match (method, body) {
        ("GET", _) => app.client.get(url),
        (_, Some(json)) => app.client.post(url).json(json),
        (_, None) => app
            .client
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", format!("__Host-recauda_csrf={TOKEN}"))
            .body(format!("csrf={}&cuenta=P-000002", app.state.csrf_key.token_for(TOKEN))),
    };
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    (status, r.text().await.unwrap(), retry)
}

#[tokio::test]
async fn every_public_route_class_is_rate_limited() {
    let app = spawn_app_with_limit(1).await;
    // (class, the request that spends the budget, the one refused), for
    // each class: a page and an API route share one budget.
    // Orders: the API spends the budget, the form is refused.
    let (_, order) = app.post_json("/api/v1/orders", &json!({"account": "A-000003"})).await;
    let id = order["id"].as_str().expect("an order").to_string();
    let reference = order["reference"].as_str().unwrap().to_string();
    let (status, body, _) = status_of(&app, "POST", "/orden", None).await;
    assert!(status == 429 && body.contains(r#"data-testid="rate-limited""#), "{status}: {body}");
    let create = json!({});
    let cases: Vec<(&str, Request<'_>, Request<'_>)> = vec![
        (
            "lookup",
            ("GET", "/consulta?cuenta=P-000002".into(), None),
            ("GET", "/api/v1/debts?account=P-000002".into(), None),
        ),
        (
            "checkout",
            ("POST", format!("/api/v1/orders/{id}/checkout"), Some(&create)),
            ("POST", format!("/orden/{id}/pagar"), None),
        ),
        (
            "receipts",
            ("GET", "/recibo/A-2026-000001?s=x".into(), None),
            ("GET", "/recibos?cuenta=P-000002&folio=A-2026-000001".into(), None),
        ),
        (
            "verify",
            ("GET", "/v/A-2026-000001?s=x".into(), None),
            ("GET", "/api/v1/receipts/A-2026-000001/verify?s=x".into(), None),
        ),
    ];
    for (class, (m1, p1, b1), (m2, p2, b2)) in cases {
        let (first, body, _) = status_of(&app, m1, &p1, b1).await;
        assert_ne!(first, 429, "{class}: the first request passes: {body}");
        let (second, body, retry) = status_of(&app, m2, &p2, b2).await;
        assert_eq!(second, 429, "{class}: {m2} {p2} is over the budget: {body}");
        let secs: u64 = retry.expect("Retry-After").parse().unwrap();
        assert!((1..=60).contains(&secs));
        if p2.starts_with("/api/") {
            let json: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(json["error"]["code"], "rate_limited", "{class}");
        } else {
            assert!(
                body.contains(r#"data-testid="rate-limited""#) && body.contains(r#"class="site-header""#),
                "{class}: {body}"
            );
        }
    }
    // Reading an order has four times the budget (its page refreshes itself).
    for i in 0..3 {
        let (status, _) = app.get_json(&format!("/api/v1/orders/{id}")).await;
        assert_eq!(status, 200, "order read {i}");
    }
    let (_, html) = page(&app, &format!("/orden/{id}")).await;
    assert!(html.contains(&reference));
    let (status, body) = app.get_json(&format!("/api/v1/orders/{id}")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (429, Some("rate_limited")));
    // What is not a public lookup is never limited.
    for path in ["/", "/healthz", "/api/v1/receipts/keys", "/api/v1/openapi.json", "/consulta"] {
        assert_ne!(app.get(path).await.status().as_u16(), 429, "{path}");
    }
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let r = app.get("/").await;
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(id.len(), 24);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(app.get("/").await.headers()["x-request-id"].to_str().unwrap(), id, "one id per request");
    // A proxy's id is kept.
    let r =
        app.client.get(format!("{}/api/v1/debts", app.base)).header("x-request-id", "proxy-42").send().await.unwrap();
    assert_eq!(r.headers()["x-request-id"], "proxy-42");
}

#[tokio::test]
async fn the_openapi_document_comes_from_the_handlers_and_lists_every_api_route() {
    let app = spawn_app().await;
    let (_, doc) = app.get_json("/api/v1/openapi.json").await;
    let mut paths: Vec<&str> = doc["paths"].as_object().unwrap().keys().map(String::as_str).collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        [
            "/api/v1/debts",
            "/api/v1/exports/collections.csv",
            "/api/v1/openapi.json",
            "/api/v1/orders",
            "/api/v1/orders/{token}",
            "/api/v1/orders/{token}/checkout",
            "/api/v1/orders/{token}/requote",
            "/api/v1/quotes",
            "/api/v1/receipts/keys",
            "/api/v1/receipts/{folio}/redeem",
            "/api/v1/receipts/{folio}/verify",
            "/api/v1/stripe/webhook",
            "/api/v1/tariffs",
            "/healthz",
        ]
    );
    // Every documented operation is a route: none answers the API's "no such
    // address" (the document cannot list a route that is not there).
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let url = format!("{}{}", app.base, path.replace("{id}", "999999").replace("{folio}", "A-2026-999999"));
            let r = match method.as_str() {
                "get" => app.client.get(url),
                "post" => app.client.post(url).json(&json!({})),
                other => panic!("unexpected method {other}"),
            };
            let r = r.send().await.unwrap();
            let status = r.status().as_u16();
            let text = r.text().await.unwrap();
            assert_ne!(status, 405, "{method} {path}");
            assert!(
                !text.contains("No existe esa dirección de la API"),
                "{method} {path} is documented but not routed"
            );
        }
    }
    // And every route of the API is declared where it is documented
    // (`api::routes`, through `utoipa_axum::routes!`): no other module
    // registers an `/api/` path by hand.
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for entry in walk(&src) {
        let text = std::fs::read_to_string(&entry).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.contains(".route(\"/api/") && !line.contains("api_not_found") {
                panic!("{}:{}: an /api route outside api::routes: {line}", entry.display(), n + 1);
            }
        }
    }
    // Money is a decimal string; states list their names.
    assert_eq!(doc["components"]["schemas"]["Money"]["type"], "string");
    let statuses = doc["components"]["schemas"]["OrderStatus"]["enum"].as_array().unwrap();
    assert_eq!(statuses.len(), 8);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn reading_never_writes() {
    let app = spawn_app().await;
    let (_, order) = app.post_json("/api/v1/orders", &json!({"account": "P-000002"})).await;
    let (id, reference) = (order["id"].as_str().unwrap().to_string(), order["reference"].as_str().unwrap().to_string());
    // Its day is over, but nobody has expired it yet.
    app.sql(&format!("UPDATE payment_orders SET expires_at = '2026-11-20T00:00:00.000000Z' WHERE token = '{id}'"))
        .await;
    let (_, read) = app.get_json(&format!("/api/v1/orders/{id}")).await;
    let (_, html) = page(&app, &format!("/orden/{id}")).await;
    assert!(html.contains(&reference));
    let (_, again) = app.get_json(&format!("/api/v1/orders/{id}")).await;
    assert_eq!((read["status"].as_str(), again["transitions"].as_array().unwrap().len()), (Some("created"), 1));
    // The expiry job does it.
    assert_eq!(app.store.expire_due_orders(app.state.clock.now()).await.unwrap(), 1);
    let (_, expired) = app.get_json(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(expired["status"], "expired");
}
