//! Official receipts end to end on a real server: issued when an online
//! payment succeeds (as Stripe reports one; the demonstration provider's
//! receipts have their own worthless series), linked from the order (page and API),
//! verified at `/v/{folio}` and as JSON (authentic, altered, forged,
//! cancelled, unknown), printed as HTML and as PDF (letter, ticket) whose
//! text holds the folio and the total and whose QR code decodes back to the
//! verification URL; "mis recibos"; `recauda verify` online and offline.

use crate::common::pdf::{qr_in_pdf, text};
use crate::common::{order_id, pay_as_stripe, spawn_app, TestApp};
use app::domain::folio::Folio;
use app::domain::receipt_sig::{sign, ReceiptFacts, SigningKeyPair};
use app::payments::{demo_action, DemoAction};
use serde_json::{json, Value};

/// Pays every open charge of `account` by card online (as Stripe reports a
/// payment); the order's token.
async fn pay(app: &TestApp, account: &str) -> String {
    let (status, order) = app.post_json("/api/v1/orders", &json!({ "account": account })).await;
    assert_eq!(status, 201, "{order}");
    let id = order["id"].as_str().unwrap().to_string();
    pay_as_stripe(app, &id).await;
    id
}

/// Pays every open charge of `account` through the demonstration
/// provider's card button; the order's token.
async fn pay_demo(app: &TestApp, account: &str) -> String {
    let (status, order) = app.post_json("/api/v1/orders", &json!({ "account": account })).await;
    assert_eq!(status, 201, "{order}");
    let id = order["id"].as_str().unwrap().to_string();
    let (status, checkout) = app.post_json(&format!("/api/v1/orders/{id}/checkout"), &json!({})).await;
    assert_eq!(status, 201, "{checkout}");
    demo_action(&app.state, order_id(app, &id).await, DemoAction::PayCard).await.unwrap();
    id
}

async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let r = app.get(path).await;
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The path and query of one of the portal's absolute URLs.
fn local(url: &str) -> String {
    url.strip_prefix("https://pagos.loreto.gob.mx").unwrap_or_else(|| panic!("{url} is not the portal's")).to_string()
}

fn verdict_of(html: &str) -> &str {
    let at = html.find("data-verdict=\"").expect("a verdict") + "data-verdict=\"".len();
    &html[at..at + html[at..].find('"').unwrap()]
}

#[tokio::test]
async fn a_paid_order_gets_a_signed_receipt_anyone_can_verify() {
    let app = spawn_app().await;
    let id = pay(&app, "P-000002").await;
    let (_, order) = app.get_json(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(order["status"], "succeeded");
    let receipt = &order["receipt"];
    assert_eq!(receipt["folio"], "A-2026-000001", "{order}");
    let verify_url = receipt["verify_url"].as_str().unwrap();
    assert!(verify_url.starts_with("https://pagos.loreto.gob.mx/v/A-2026-000001?s="), "{verify_url}");
    let s = verify_url.split_once("?s=").unwrap().1.to_string();
    assert_eq!(s.len(), 95, "<kid>.<86 base64url>");
    // Described in the OpenAPI document.
    let (_, doc) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(doc["paths"]["/api/v1/receipts/{folio}/verify"]["get"]["operationId"], "verifyReceipt");
    assert!(doc["components"]["schemas"]["Order"]["properties"]["receipt"].is_object());
    // The published keyring holds the key that signed it.
    let (_, keys) = app.get_json("/api/v1/receipts/keys").await;
    assert_eq!(keys["keys"][0]["kid"].as_str(), Some(&s[..8]));

    // The order page links the receipt.
    let (_, html) = page(&app, &format!("/orden/{id}")).await;
    assert!(html.contains("A-2026-000001") && html.contains(&format!("/recibo/A-2026-000001?s={s}")), "{html}");

    // Scanning the QR: authentic, with the amounts to compare; the name masked.
    let (status, html) = page(&app, &local(verify_url)).await;
    assert_eq!((status, verdict_of(&html)), (200, "authentic"), "{html}");
    assert!(html.contains("Recibo auténtico") && html.contains("$640.00") && html.contains("P-000002"));
    assert!(html.contains("M**** P*** N****") && !html.contains("María Peña Núñez"), "{html}");
    let (status, v) = app.get_json(&format!("/api/v1/receipts/A-2026-000001/verify?s={s}")).await;
    assert_eq!((status, v["verdict"].as_str()), (200, Some("authentic")), "{v}");
    assert_eq!((v["receipt"]["total"].as_str(), v["receipt"]["account"].as_str()), (Some("640.00"), Some("P-000002")));
    assert_eq!(v["receipt"]["issued_on"], "2026-11-21");

    // The printable page (only with the receipt's own signature).
    let (status, html) = page(&app, &local(receipt["html_url"].as_str().unwrap())).await;
    assert_eq!(status, 200);
    for shown in ["A-2026-000001", "María Peña Núñez", "$640.00", "SEISCIENTOS CUARENTA PESOS 00/100 M.N.", "<svg"]
    {
        assert!(html.contains(shown), "{shown} in {html}");
    }
    assert_eq!(page(&app, "/recibo/A-2026-000001").await.0, 404);
    assert_eq!(page(&app, "/recibo/A-2026-000001?s=00000000.AAAA").await.0, 404);
}

#[tokio::test]
async fn altered_forged_cancelled_and_unknown_receipts_are_told_apart() {
    let app = spawn_app().await;
    pay(&app, "P-000002").await;
    let second = pay(&app, "A-000003").await;
    let first =
        app.store.receipt_by_folio(&app::domain::folio::Folio::parse("A-2026-000001").unwrap()).await.unwrap().unwrap();
    let s = first.signature.clone().unwrap();
    let check = |folio: &'static str, s: String| {
        let app = &app;
        async move {
            let (status, v) = app.get_json(&format!("/api/v1/receipts/{folio}/verify?s={s}")).await;
            let (page_status, html) = page(app, &format!("/v/{folio}?s={s}")).await;
            assert_eq!(v["verdict"].as_str(), Some(verdict_of(&html)), "page and JSON agree: {v}");
            assert_eq!(status, page_status);
            (status, v)
        }
    };
    // One character of the signature changed; truncated; another folio's signature.
    let mut flipped = s.clone().into_bytes();
    let last = flipped.len() - 2;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    for (folio, bad) in [
        ("A-2026-000001", String::from_utf8(flipped).unwrap()),
        ("A-2026-000001", s[..60].to_string()),
        ("A-2026-000002", s.clone()),
    ] {
        let (status, v) = check(folio, bad).await;
        assert_eq!((status, v["verdict"].as_str()), (200, Some("forged")), "{folio}: {v}");
        assert!(v["receipt"].is_null(), "a forged code reveals nothing: {v}");
    }
    // A changed amount: signed with the right key over other facts.
    let keys_file = std::fs::read_to_string(app.db_path.parent().unwrap().join("receipt-keys.json")).unwrap();
    let seed = serde_json::from_str::<Value>(&keys_file).unwrap()["signing_seed_b64url"].as_str().unwrap().to_string();
    let right_key = SigningKeyPair::from_seed_b64url(&seed).unwrap();
    let folio = Folio::parse("A-2026-000001").unwrap();
    let altered =
        ReceiptFacts::new(folio.clone(), app::domain::money::Centavos(6_400), first.issued_on, &first.account).unwrap();
    let (_, v) = check("A-2026-000001", sign(&right_key, &altered).into_string()).await;
    assert_eq!(v["verdict"], "forged", "another amount");
    // Another key, the same facts.
    let genuine = ReceiptFacts::new(folio, first.total, first.issued_on, &first.account).unwrap();
    assert_eq!(sign(&right_key, &genuine).into_string(), s, "the stored signature is the key's");
    let (_, v) = check("A-2026-000001", sign(&SigningKeyPair::from_seed([7; 32]), &genuine).into_string()).await;
    assert_eq!(v["verdict"], "forged", "another key");

    // Unknown folio; no signature at all.
    let (status, v) = check("A-2026-000099", s.clone()).await;
    assert_eq!((status, v["verdict"].as_str()), (404, Some("unknown")));
    let (status, v) = app.get_json("/api/v1/receipts/A-2026-000001/verify").await;
    assert_eq!((status, v["error"]["code"].as_str()), (400, Some("missing_signature")));

    // Cancelled by the treasury: grey, with the reason; the folio stays.
    assert!(app
        .store
        .cancel_receipt(
            &app::domain::folio::Folio::parse("A-2026-000002").unwrap(),
            "Pago duplicado",
            "cli:test",
            app.state.clock.now()
        )
        .await
        .unwrap());
    let s2 = app.store.receipt_of_order(order_id(&app, &second).await).await.unwrap().unwrap().signature.unwrap();
    let (status, v) = check("A-2026-000002", s2.clone()).await;
    assert_eq!(
        (status, v["verdict"].as_str(), v["cancel_reason"].as_str()),
        (200, Some("cancelled"), Some("Pago duplicado"))
    );
    let (_, html) = page(&app, &format!("/v/A-2026-000002?s={s2}")).await;
    assert!(html.contains("Recibo cancelado") && html.contains("Pago duplicado"), "{html}");
}

#[tokio::test]
async fn the_pdf_carries_folio_total_and_a_qr_that_decodes_to_the_verify_url() {
    let app = spawn_app().await;
    let id = pay(&app, "LC-000001").await;
    let (_, order) = app.get_json(&format!("/api/v1/orders/{id}")).await;
    let receipt = &order["receipt"];
    let total = app::domain::money::Centavos::parse_pesos(order["total"].as_str().unwrap()).unwrap().display_mxn();
    assert!(total.starts_with('$') && total.contains(','), "{total}: a total above a thousand pesos");
    for key in ["pdf_letter_url", "pdf_ticket_url"] {
        let r = app.get(&local(receipt[key].as_str().unwrap())).await;
        assert_eq!(r.status(), 200, "{key}");
        assert_eq!(r.headers()["content-type"], "application/pdf");
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
        let doc = lopdf::Document::load_mem(&bytes).expect("a PDF");
        let t = text(&doc);
        assert!(t.contains("A-2026-000001"), "{key}: {t}");
        assert!(t.contains(&total), "{key}: {total} in {t}");
        assert!(t.contains("Emilio Gómez Díaz"), "{key}: {t}");
        assert!(!t.contains("SIN VALIDEZ") && !t.contains("DEMOSTRACIÓN"), "{key}: a real receipt: {t}");
        assert_eq!(qr_in_pdf(&doc), receipt["verify_url"].as_str().unwrap(), "{key}: the QR");
    }
    // Without the receipt's own signature: nothing.
    let (status, _) = page(&app, "/recibo/A-2026-000001/pdf?papel=carta&s=x").await;
    assert_eq!(status, 404);
    let (status, _) = page(&app, &format!("{}&papel=a4", local(receipt["pdf_letter_url"].as_str().unwrap()))).await;
    assert_eq!(status, 200, "the first papel wins");
}

#[tokio::test]
async fn my_receipts_finds_a_receipt_by_account_folio_and_total() {
    let app = spawn_app().await;
    let id = pay(&app, "P-000002").await;
    let receipt = app.store.receipt_of_order(order_id(&app, &id).await).await.unwrap().unwrap();
    // The total as the receipt prints it ("$640.10"), URL-encoded by the form.
    let printed = crate::common::encode(&receipt.total.display_mxn());
    let (status, html) = page(&app, &format!("/recibos?cuenta=P-000002&folio=a-2026-000001&importe={printed}")).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains(r#"data-testid="receipt-found""#) && html.contains("/recibo/A-2026-000001?s="), "{html}");
    let plain = receipt.total.to_decimal().to_string();
    let (status, _) = page(&app, &format!("/recibos?cuenta=P-000002&folio=A-2026-000001&importe={plain}")).await;
    assert_eq!(status, 200, "{plain}");
    // Account and folio alone (both easy to come by) open nothing, nor a
    // wrong total, another account's folio, a malformed folio or a
    // missing field: Spanish errors, no signature anywhere on the page.
    let wrong = crate::common::encode(&(receipt.total + app::domain::money::Centavos(1)).to_string());
    for (query, code) in [
        ("cuenta=P-000002&folio=A-2026-000001".to_string(), 400),
        (format!("cuenta=P-000002&folio=A-2026-000001&importe={wrong}"), 404),
        (format!("cuenta=A-000003&folio=A-2026-000001&importe={printed}"), 404),
        (format!("cuenta=P-000002&folio=A-2026-1&importe={printed}"), 400),
        (format!("cuenta=&folio=A-2026-000001&importe={printed}"), 400),
        ("cuenta=P-000002&folio=A-2026-000001&importe=abc".to_string(), 400),
    ] {
        let (status, html) = page(&app, &format!("/recibos?{query}")).await;
        assert_eq!(status, code, "{query}");
        assert!(html.contains(r#"data-testid="error-summary""#) && !html.contains("receipt-found"), "{query}: {html}");
        assert!(!html.contains("?s=") && !html.contains(receipt.signature.as_deref().unwrap()), "{query}: {html}");
    }
    let (_, html) = page(&app, &format!("/recibos?cuenta=A-000003&folio=A-2026-000001&importe={printed}")).await;
    assert!(html.contains("No encontramos un recibo con esos datos"), "{html}");
    let (_, html) = page(&app, "/recibos?cuenta=P-000002&folio=A-2026-000001").await;
    assert!(html.contains("Escriba el importe total del recibo."), "{html}");
}

#[tokio::test]
async fn recauda_verify_checks_a_url_online_and_offline() {
    let app = spawn_app().await;
    let id = pay(&app, "P-000002").await;
    let receipt = app.store.receipt_of_order(order_id(&app, &id).await).await.unwrap().unwrap();
    let s = receipt.signature.clone().unwrap();
    // The QR's URL, but pointing at this test server.
    let url = format!("{}/v/{}?s={s}", app.base, receipt.folio);
    let client = reqwest::Client::new();
    // The portal pinned in the configuration (here, this test server).
    let none = server::verify_cli::Options { portal: Some(app.base.clone()), ..Default::default() };
    let online = server::verify_cli::run(&url, &none, &client).await.unwrap();
    assert!(online.verdict.is_authentic(), "{online:?}");
    assert_eq!(online.portal.as_deref(), Some("authentic"));
    assert!(online.accepted() && online.conclusion_es().starts_with("Recibo auténtico"), "{online:?}");
    let forged = server::verify_cli::run(&url.replace("?s=", "?s=0"), &none, &client).await.unwrap();
    assert!(!forged.verdict.is_authentic());
    assert!(!forged.accepted());

    // Offline: the printed facts and the saved keyring, no server.
    let keys = app.db_path.parent().unwrap().join("keys.json");
    let (_, keyring) = app.get_json("/api/v1/receipts/keys").await;
    std::fs::write(&keys, keyring.to_string()).unwrap();
    let offline = |total: &str| server::verify_cli::Options {
        total: Some(total.into()),
        date: Some("21/11/2026".into()),
        account: Some("P-000002".into()),
        keys: Some(keys.display().to_string()),
        portal: Some(app.base.clone()),
    };
    app.kill().await;
    let printed = server::verify_cli::run(&url, &offline("640.00"), &client).await.unwrap();
    assert!(printed.verdict.is_authentic(), "{printed:?}");
    // Offline nobody knows whether it was cancelled since: it says so.
    assert!(printed.accepted(), "{printed:?}");
    assert!(printed.conclusion_es().starts_with("Firma válida; cancelación no verificada"), "{printed:?}");
    let altered = server::verify_cli::run(&url, &offline("6400.00"), &client).await.unwrap();
    assert!(!altered.verdict.is_authentic(), "an altered amount on the paper");
    assert!(!altered.accepted());
}

#[tokio::test]
async fn recauda_verify_refuses_a_cancelled_receipt_whose_signature_is_good() {
    let app = spawn_app().await;
    let id = pay(&app, "P-000002").await;
    let receipt = app.store.receipt_of_order(order_id(&app, &id).await).await.unwrap().unwrap();
    app.store.cancel_receipt(&receipt.folio, "Pago duplicado", "cli:test", app.state.clock.now()).await.unwrap();
    let url = format!("{}/v/{}?s={}", app.base, receipt.folio, receipt.signature.unwrap());
    let pinned = server::verify_cli::Options { portal: Some(app.base.clone()), ..Default::default() };
    let outcome = server::verify_cli::run(&url, &pinned, &reqwest::Client::new()).await.unwrap();
    assert!(outcome.verdict.is_authentic(), "the signature itself is good: {outcome:?}");
    assert_eq!(outcome.portal.as_deref(), Some("cancelled"));
    assert!(!outcome.accepted(), "a cancelled receipt covers nothing");
    assert!(outcome.conclusion_es().starts_with("Recibo cancelado"), "{}", outcome.conclusion_es());
}

#[tokio::test]
async fn a_demonstration_receipt_says_it_has_no_value_in_every_verdict() {
    let app = spawn_app().await;
    let id = pay_demo(&app, "P-000002").await;
    let (_, order) = app.get_json(&format!("/api/v1/orders/{id}")).await;
    let receipt = &order["receipt"];
    // Its own series, part of what is signed: it cannot pass for an online receipt.
    assert_eq!(receipt["folio"], "DEMO-2026-000001", "{order}");
    let url = receipt["verify_url"].as_str().unwrap().to_string();
    let s = url.split_once("?s=").unwrap().1.to_string();
    // The verification page and the JSON verdict.
    let (status, html) = page(&app, &local(&url)).await;
    assert_eq!((status, verdict_of(&html)), (200, "demo"));
    assert!(html.contains("Recibo de demostración — sin validez"), "{html}");
    let (status, v) = app.get_json(&format!("/api/v1/receipts/DEMO-2026-000001/verify?s={s}")).await;
    assert_eq!((status, v["verdict"].as_str()), (200, Some("demo")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("sin validez"), "{v}");
    // The printable page and the PDF.
    let (_, html) = page(&app, &local(receipt["html_url"].as_str().unwrap())).await;
    assert!(html.contains(r#"data-testid="demo-banner""#) && html.contains("sin validez"), "{html}");
    let pdf = app.get(&local(receipt["pdf_letter_url"].as_str().unwrap())).await.bytes().await.unwrap();
    let t = text(&lopdf::Document::load_mem(&pdf).unwrap());
    assert!(t.contains("RECIBO DE DEMOSTRACIÓN — SIN VALIDEZ"), "{t}");
    // The cashier desk (the same check as the offline island).
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let desk = format!("/verificar?url={}&total=640.00&fecha=21/11/2026&cuenta=P-000002", encode(&url));
    let (status, html) = page(&app, &desk).await;
    assert_eq!((status, verdict_of(&html)), (200, "demo"), "{html}");
    assert!(html.contains("Recibo de demostración — sin validez"), "{html}");
    // `recauda verify`, online and offline: never accepted.
    let local_url = format!("{}{}", app.base, local(&url));
    let client = reqwest::Client::new();
    let pinned = server::verify_cli::Options { portal: Some(app.base.clone()), ..Default::default() };
    let online = server::verify_cli::run(&local_url, &pinned, &client).await.unwrap();
    assert_eq!(online.portal.as_deref(), Some("demo"));
    assert!(!online.accepted() && online.conclusion_es().contains("sin validez"), "{online:?}");
    let keys = app.db_path.parent().unwrap().join("keys.json");
    let (_, keyring) = app.get_json("/api/v1/receipts/keys").await;
    std::fs::write(&keys, keyring.to_string()).unwrap();
    let offline = server::verify_cli::Options {
        total: Some("640.00".into()),
        date: Some("21/11/2026".into()),
        account: Some("P-000002".into()),
        keys: Some(keys.display().to_string()),
        portal: Some(app.base.clone()),
    };
    let printed = server::verify_cli::run(&local_url, &offline, &client).await.unwrap();
    assert!(printed.verdict.is_authentic(), "genuinely signed: {printed:?}");
    assert!(!printed.accepted() && printed.conclusion_es().contains("sin validez"), "{printed:?}");
    // Online receipts keep their own series, numbered from 1.
    let real = pay(&app, "A-000003").await;
    let (_, order) = app.get_json(&format!("/api/v1/orders/{real}")).await;
    assert_eq!(order["receipt"]["folio"], "A-2026-000001");
}

#[tokio::test]
async fn the_cashier_desk_checks_the_qr_against_the_printed_facts() {
    let app = spawn_app().await;
    let id = pay(&app, "P-000002").await;
    let (_, order) = app.get_json(&format!("/api/v1/orders/{id}")).await;
    let url = order["receipt"]["verify_url"].as_str().unwrap().to_string();
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let desk = |total: &str, fecha: &str, cuenta: &str| {
        format!(
            "/verificar?url={}&total={}&fecha={}&cuenta={}",
            encode(&url),
            encode(total),
            encode(fecha),
            encode(cuenta)
        )
    };
    let (status, html) = page(&app, &desk("$640.00", "21/11/2026", "P-000002")).await;
    assert_eq!((status, verdict_of(&html)), (200, "authentic"), "{html}");
    assert!(html.contains("Firma válida; cancelación no verificada"), "{html}");
    // The page carries the keyring for the in-browser check.
    assert!(html.contains("public_key_b64url"), "{html}");
    for (total, fecha, cuenta) in [
        ("6,400.00", "21/11/2026", "P-000002"),
        ("640.00", "22/11/2026", "P-000002"),
        ("640.00", "21/11/2026", "P-000003"),
    ] {
        let (status, html) = page(&app, &desk(total, fecha, cuenta)).await;
        assert_eq!((status, verdict_of(&html)), (200, "forged"), "{total} {fecha} {cuenta}");
    }
    let (status, html) = page(&app, &desk("640.00", "", "P-000002")).await;
    assert_eq!(status, 400);
    assert!(html.contains(r#"data-testid="error-summary""#));
    let (status, html) = page(&app, "/verificar").await;
    assert_eq!(status, 200);
    assert!(!html.contains("data-verdict"));
}

/// Issue 9, defect 7: keys that made genuine receipts look forged.
#[tokio::test]
async fn keys_rotate_without_a_restart_and_a_lost_key_file_stops_the_portal() {
    let app = spawn_app().await;
    let first = pay(&app, "P-000002").await;
    let r1 = app.store.receipt_of_order(order_id(&app, &first).await).await.unwrap().unwrap();
    let old_kid = app.state.receipt_keys.kid();
    let kid_of = |r: &app::store::Receipt| r.signature.as_deref().unwrap().split('.').next().unwrap().to_string();
    assert_eq!(kid_of(&r1), old_kid);

    // `recauda llaves rotar` while the server runs: it takes the new key
    // by itself (the reload job), no restart.
    let (retired, new_kid) =
        app::receipt_keys::ReceiptKeys::rotate(&app.settings.receipt_keys, crate::common::today()).unwrap();
    assert_eq!(retired, old_kid);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let (_, keys) = app.get_json("/api/v1/receipts/keys").await;
        if keys["keys"].as_array().unwrap().len() == 2 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the running server never took the rotated key: {keys}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let second = pay(&app, "A-000003").await;
    let r2 = app.store.receipt_of_order(order_id(&app, &second).await).await.unwrap().unwrap();
    assert_eq!(kid_of(&r2), new_kid, "signed with the new key");
    // Both verify: the old one with the retired key, the new one with the new.
    for r in [&r1, &r2] {
        let (status, v) =
            app.get_json(&format!("/api/v1/receipts/{}/verify?s={}", r.folio, r.signature.as_deref().unwrap())).await;
        assert_eq!((status, v["verdict"].as_str()), (200, Some("authentic")), "{v}");
    }

    // The key file lost (a new volume, a wrong RECAUDA_RECEIPT_KEYS): the
    // portal refuses to start rather than make a new key that would turn
    // every receipt "unknown"; nothing is written.
    std::fs::remove_file(&app.settings.receipt_keys).unwrap();
    let refused = server::startup::build_state(&app.settings).await;
    let message = match refused {
        Err(e) => {
            // As `recauda serve` prints it: the error and its causes.
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                text.push_str(&format!(" / {cause}"));
                source = cause.source();
            }
            text
        }
        Ok(_) => panic!("the portal started without its key file"),
    };
    assert!(message.contains("recibos firmados") && message.contains("RECAUDA_RECEIPT_KEYS"), "{message}");
    assert!(!app.settings.receipt_keys.exists(), "no new key file was made");
}

/// Issue 9, defect 8: the CLI trusted whatever host the QR named — a forger
/// printing his own portal's URL got his own "auténtico".
#[tokio::test]
async fn recauda_verify_trusts_only_the_configured_portal_and_keyring() {
    use server::verify_cli::{run, Options, VerifyCliError};
    let app = spawn_app().await;
    let id = pay(&app, "P-000002").await;
    let receipt = app.store.receipt_of_order(order_id(&app, &id).await).await.unwrap().unwrap();
    let s = receipt.signature.clone().unwrap();
    // A forger's portal: answers "authentic" to everything, with its own keys.
    let forger = spawn_app().await;
    let forged_url = format!("{}/v/{}?s={s}", forger.base, receipt.folio);
    let client = reqwest::Client::new();
    let pinned = Options { portal: Some(app.base.clone()), ..Default::default() };
    match run(&forged_url, &pinned, &client).await {
        Err(e @ VerifyCliError::Untrusted { .. }) => {
            assert!(e.to_string().contains("no es el portal configurado"), "{e}")
        }
        other => panic!("a QR naming another host must be refused: {other:?}"),
    }
    // Offline too: the QR's host is checked against the configuration.
    let offline = Options {
        total: Some("640.00".into()),
        date: Some("21/11/2026".into()),
        account: Some("P-000002".into()),
        keys: None,
        portal: Some(app.base.clone()),
    };
    assert!(matches!(run(&forged_url, &offline, &client).await, Err(VerifyCliError::Untrusted { .. })));
    // No portal configured: nothing is asked of the QR's host.
    assert!(matches!(run(&forged_url, &Options::default(), &client).await, Err(VerifyCliError::NoPortal)));
    // Same host, other case or a trailing slash: the same origin.
    let url = format!("{}/v/{}?s={s}", app.base.to_uppercase().replace("HTTP://", "http://"), receipt.folio);
    let ok = run(&url, &Options { portal: Some(format!("{}/", app.base)), ..Default::default() }, &client).await;
    assert!(ok.unwrap().accepted());

    // A pinned keyring: the forger's keys cannot stand in for the portal's.
    let theirs = forger.db_path.parent().unwrap().join("their-keys.json");
    let (_, keyring) = forger.get_json("/api/v1/receipts/keys").await;
    std::fs::write(&theirs, keyring.to_string()).unwrap();
    let with_their_keys =
        Options { keys: Some(theirs.display().to_string()), portal: Some(app.base.clone()), ..Default::default() };
    let outcome = run(&format!("{}/v/{}?s={s}", app.base, receipt.folio), &with_their_keys, &client).await.unwrap();
    assert!(!outcome.verdict.is_authentic() && !outcome.accepted(), "{outcome:?}");
}
