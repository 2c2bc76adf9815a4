//! The server-rendered pages, as a browser without JavaScript gets them.

use crate::common::spawn_app;

#[tokio::test]
async fn the_home_page_says_what_can_be_done_and_when_the_office_opens() {
    let app = spawn_app().await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let html = response.text().await.unwrap();
    assert!(html.contains("lang=\"es-MX\""));
    assert!(html.contains("data-testid=\"home-lookup-link\""));
    assert!(html.contains("8:00 a 15:00"), "office hours from the municipality file");
    assert!(html.contains("data-testid=\"discount-program\""), "discounts in force are listed");
}

#[tokio::test]
async fn the_lookup_form_is_answered_by_the_server() {
    let app = spawn_app().await;
    let response = app.get("/consulta?cuenta=LC-000001").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("data-testid=\"debt-result\""));
    assert!(html.contains("$3,135.00"), "grand total");
    assert!(html.contains("$288.12"), "recargos");
    assert!(html.contains("E***** G**** D***"), "masked owner");
    assert!(!html.contains("Gómez"), "the owner's name never appears");
    assert!(html.contains("method=\"get\""), "a real form");
}

#[tokio::test]
async fn lookup_problems_render_an_error_summary_with_the_right_status() {
    let app = spawn_app().await;
    let response = app.get("/consulta?rfc=GODE561331GR8").await;
    assert_eq!(response.status(), 400);
    let html = response.text().await.unwrap();
    assert!(html.contains("data-testid=\"error-summary\""));
    assert!(html.contains("aria-invalid=\"true\""));

    let response = app.get("/consulta?cuenta=NO-EXISTE").await;
    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("No encontramos la cuenta"));

    let response = app.get("/no-such-page").await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn the_language_switch_remembers_english_and_returns_to_the_page() {
    let app = spawn_app().await;
    let response = app.get("/idioma?lang=en&volver=%2Fconsulta%3Fcuenta%3DLC-000001").await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/consulta?cuenta=LC-000001");
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("__Host-recauda_lang=en"), "{cookie}");
    let page = app
        .client
        .get(format!("{}/consulta?cuenta=LC-000001", app.base))
        .header("cookie", "recauda_lang=en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("lang=\"en\""));
    assert!(page.contains("Total payable"));

    let evil = app.get("/idioma?lang=en&volver=https://evil.example/").await;
    assert_eq!(evil.headers()["location"], "/");
}

#[tokio::test]
async fn pages_travel_compressed_to_phones() {
    let app = spawn_app().await;
    let response =
        app.client.get(format!("{}/consulta", app.base)).header("accept-encoding", "br").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-encoding"], "br");
}

#[tokio::test]
async fn every_page_describes_itself_to_search_engines() {
    let app = spawn_app().await;
    for path in ["/", "/consulta", "/recibos"] {
        let (_, html) = crate::common::page(&app, path).await;
        assert!(html.contains(r#"<meta name="description" content="Consulte y pague en línea"#), "{path}: {html}");
    }
}

/// One debts table for the lookup and the order: on a phone every figure
/// carries its label, and the checkbox is the concept's own label.
#[tokio::test]
async fn the_lookup_and_the_order_share_one_labelled_debts_table() {
    let app = spawn_app().await;
    let (status, lookup) = crate::common::page(&app, "/consulta?cuenta=LC-000001").await;
    assert_eq!(status, 200, "{lookup}");
    for part in [
        r#"<label for="cargo-"#,
        r#"class="charge-choice""#,
        r#"data-label="Periodo""#,
        r#"data-label="Vencimiento""#,
        r#"data-label="Recargos""#,
        r#"<small class="late">"#,
    ] {
        assert!(lookup.contains(part), "lookup: {part} in {lookup}");
    }
    let (_, order) = app.post_json("/api/v1/orders", &serde_json::json!({"account": "LC-000001"})).await;
    let token = order["id"].as_str().unwrap();
    let (_, page) = crate::common::page(&app, &format!("/orden/{token}")).await;
    for part in
        [r#"data-testid="order-item""#, r#"data-label="Periodo""#, r#"data-label="Recargos""#, r#"data-label="Cuenta""#]
    {
        assert!(page.contains(part), "order page: {part}");
    }
    assert!(!page.contains(r#"type="checkbox""#), "a frozen order has nothing to choose");
}

#[tokio::test]
async fn a_paid_order_opens_with_its_confirmation_on_top() {
    let app = spawn_app().await;
    let (_, order) = app.post_json("/api/v1/orders", &serde_json::json!({"account": "P-000002"})).await;
    let token = order["id"].as_str().unwrap().to_string();
    let (status, checkout) = app.post_json(&format!("/api/v1/orders/{token}/checkout"), &serde_json::json!({})).await;
    assert_eq!(status, 201, "{checkout}");
    let r =
        crate::common::post_form(&app, &format!("/prueba/pago/{token}/accion"), &[("accion", "pagar".into())]).await;
    assert_eq!(crate::common::location(&r), format!("/orden/{token}"));
    let (_, html) = crate::common::page(&app, &format!("/orden/{token}")).await;
    let panel = html.find(r#"data-testid="payment-received""#).expect("the confirmation");
    let list = html.find(r#"data-testid="order""#).expect("the order");
    assert!(panel < list, "the confirmation comes before the list");
    assert!(
        html[panel..list].contains("DEMO-2026-000001") && html[panel..list].contains(r#"data-testid="open-receipt""#)
    );
    assert!(!html.contains("Presente la referencia"), "nothing left to present at the window");
}
