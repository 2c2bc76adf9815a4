//! Online payment with the embedded demo provider, end to end over HTTP
//! (real forms, CSRF, 303 redirects), and the shared provider-event path
//! (dedupe, amounts, overpayments), on a real server with its own SQLite file.

use crate::common::{location, order_id, page, post_form, post_form_with, spawn_app, TestApp, TOKEN};
use app::domain::money::Centavos;
use app::domain::payment::{Instructions, Provider};
use app::domain::payment::{OrderStatus, PaymentEvent, Transition, CURRENCY_MXN};
use app::payments::{apply_provider_event, PaymentError};
use app::store::{EventOutcome, ProviderEvent};
use chrono::NaiveDate;
use serde_json::{json, Value};

async fn charge_ids(app: &TestApp, account: &str) -> Vec<i64> {
    let (status, doc) = app.get_json(&format!("/api/v1/debts?account={account}")).await;
    assert_eq!(status, 200, "{doc}");
    doc["accounts"][0]["items"].as_array().unwrap().iter().map(|i| i["charge_id"].as_i64().unwrap()).collect()
}

/// Creates an order for every open charge of `account` through the form;
/// its token (the redirect goes to `/orden/{token}`).
async fn order_by_form(app: &TestApp, account: &str) -> String {
    let mut fields = vec![("cuenta", account.to_string())];
    for id in charge_ids(app, account).await {
        fields.push(("cargo", id.to_string()));
    }
    let r = post_form(app, "/orden", &fields).await;
    let to = location(&r);
    to.strip_prefix("/orden/").expect("redirect to the order page").to_string()
}

/// "Pagar en línea": redirected to the order's demo checkout
/// (`/prueba/pago/{token}`); the id of the attempt it opened.
async fn checkout(app: &TestApp, order_token: &str) -> i64 {
    let r = post_form(app, &format!("/orden/{order_token}/pagar"), &[]).await;
    assert_eq!(location(&r), format!("/prueba/pago/{order_token}"), "redirect to the demo checkout");
    let id = order_id(app, order_token).await;
    let attempts = app.store.attempts_of_order(id).await.unwrap();
    attempts.iter().rev().find(|a| a.status.as_str() == "pending").expect("a pending attempt").id
}

/// A button of the order's demo checkout.
async fn demo(app: &TestApp, order_token: &str, action: &str) -> reqwest::Response {
    post_form(app, &format!("/prueba/pago/{order_token}/accion"), &[("accion", action.to_string())]).await
}

async fn order_json(app: &TestApp, order_token: &str) -> Value {
    let (status, order) = app.get_json(&format!("/api/v1/orders/{order_token}")).await;
    assert_eq!(status, 200, "{order}");
    order
}

fn moves_to(order: &Value, status: &str) -> usize {
    order["transitions"].as_array().unwrap().iter().filter(|t| t["to"] == status).count()
}

#[tokio::test]
async fn lookup_pay_by_demo_card_and_the_debt_is_gone() {
    let app = spawn_app().await;
    // The lookup page sets the CSRF cookie and echoes it in the pay form.
    let r = app.get("/consulta?cuenta=A-000003").await;
    assert_eq!(r.status().as_u16(), 200);
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("__Host-recauda_csrf="));
    let cookie = cookie.expect("a CSRF cookie, host-only under https");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Secure"] {
        assert!(cookie.contains(flag), "{flag} in {cookie}");
    }
    assert!(!cookie.contains("Domain="), "{cookie}");
    let session = cookie.trim_start_matches("__Host-recauda_csrf=").split(';').next().unwrap().to_string();
    let html = r.text().await.unwrap();
    let token = app.state.csrf_key.token_for(&session);
    assert!(html.contains(&format!("value=\"{token}\"")), "the form carries the token of the cookie's session");
    assert!(!html.contains(&session), "never the session id itself");
    assert!(html.contains("Pagar estos adeudos"));
    assert_eq!(html.matches("name=\"cargo\"").count(), 2);

    let order_token = order_by_form(&app, "A-000003").await;
    let (status, html) = page(&app, &format!("/orden/{order_token}")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Formato de pago") && html.contains("Por pagar") && html.contains("Pagar en línea"),
        "{html}"
    );
    assert!(html.contains("America/Mazatlan"), "expiry in the municipality's zone");

    checkout(&app, &order_token).await;
    let (status, html) = page(&app, &format!("/prueba/pago/{order_token}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("MODO DE PRUEBA — no se cobra dinero real"), "{html}");
    assert_eq!(order_json(&app, &order_token).await["status"], "pending");

    let r = demo(&app, &order_token, "pagar").await;
    assert_eq!(location(&r), format!("/orden/{order_token}"));
    let (_, html) = page(&app, &format!("/orden/{order_token}")).await;
    assert!(html.contains("Pago recibido"), "{html}");

    let order = order_json(&app, &order_token).await;
    assert_eq!(order["status"], "succeeded");
    assert_eq!(moves_to(&order, "succeeded"), 1);
    assert!(charge_ids(&app, "A-000003").await.is_empty());
    let (_, html) = page(&app, "/consulta?cuenta=A-000003").await;
    assert!(html.contains("no tiene adeudos"));
    assert_eq!(order["id"], order_token, "the API names the order by its token");
    let attempts = app.store.attempts_of_order(order_id(&app, &order_token).await).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!((attempts[0].status.as_str(), attempts[0].method.map(|m| m.as_str())), ("succeeded", Some("card")));

    // Paying again is refused; nothing changes.
    let r = post_form(&app, &format!("/orden/{order_token}/pagar"), &[]).await;
    assert_eq!(r.status().as_u16(), 409);
    let r = demo(&app, &order_token, "pagar").await;
    assert_eq!(location(&r), format!("/orden/{order_token}"), "a repeated success is harmless");
    assert_eq!(moves_to(&order_json(&app, &order_token).await, "succeeded"), 1);
}

#[tokio::test]
async fn the_same_event_delivered_ten_times_is_applied_once() {
    let app = spawn_app().await;
    let order_token = order_by_form(&app, "P-000002").await;
    let attempt = checkout(&app, &order_token).await;
    let order = order_json(&app, &order_token).await;
    assert_eq!(order["total"], "640.00", "640.10 rounds down to the peso");
    let event = ProviderEvent {
        paid_on: None,
        provider: Provider::Demo,
        event_id: "evt_repeated".into(),
        attempt_id: attempt,
        event: PaymentEvent::Paid { amount: Centavos(64_000), currency: CURRENCY_MXN.into() },
        method: Some(app::domain::payment::Method::Card),
        instructions: None,
        payment_intent: None,
    };
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let state = app.state.clone();
        let event = event.clone();
        tasks.push(tokio::spawn(async move { apply_provider_event(&state, &event).await }));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap().expect("applied or deduped"));
    }
    let applied: Vec<_> = outcomes.iter().filter(|o| **o != EventOutcome::Duplicate).collect();
    assert_eq!(
        applied,
        [&EventOutcome::Applied(Transition::Moved { from: OrderStatus::Pending, to: OrderStatus::Succeeded })]
    );
    let order = order_json(&app, &order_token).await;
    assert_eq!(order["status"], "succeeded");
    assert_eq!(moves_to(&order, "succeeded"), 1);
    assert!(charge_ids(&app, "P-000002").await.is_empty());

    // An amount that does not match the order is never applied (fresh
    // event id): a discrepancy for the treasury, the order closed.
    let app2 = spawn_app().await;
    let order_token = order_by_form(&app2, "P-000002").await;
    let attempt = checkout(&app2, &order_token).await;
    let wrong = ProviderEvent {
        paid_on: None,
        event_id: "evt_wrong_amount".into(),
        attempt_id: attempt,
        event: PaymentEvent::Paid { amount: Centavos(64_010), currency: CURRENCY_MXN.into() },
        ..event.clone()
    };
    assert!(matches!(
        apply_provider_event(&app2.state, &wrong).await,
        Ok(EventOutcome::Discrepancy { reason: app::domain::payment::OverpaymentReason::AmountMismatch, .. })
    ));
    let usd = ProviderEvent {
        paid_on: None,
        event_id: "evt_wrong_currency".into(),
        event: PaymentEvent::Paid { amount: Centavos(64_000), currency: "usd".into() },
        ..wrong.clone()
    };
    // The order is already closed: recorded too, nothing else changes.
    assert!(matches!(
        apply_provider_event(&app2.state, &usd).await,
        Ok(EventOutcome::Discrepancy { transition: None, .. })
    ));
    assert_eq!(order_json(&app2, &order_token).await["status"], "failed");
    assert_eq!(charge_ids(&app2, "P-000002").await.len(), 1, "still owed, free for a new order");
    assert!(app2.store.receipt_of_order(order_id(&app2, &order_token).await).await.unwrap().is_none());
}

#[tokio::test]
async fn a_declined_card_fails_the_order_and_frees_the_charges() {
    let app = spawn_app().await;
    let order_token = order_by_form(&app, "A-000003").await;
    checkout(&app, &order_token).await;
    let r = demo(&app, &order_token, "rechazar").await;
    assert_eq!(location(&r), format!("/orden/{order_token}"));
    let (_, html) = page(&app, &format!("/orden/{order_token}")).await;
    assert!(html.contains("Pago rechazado"), "{html}");
    let order = order_json(&app, &order_token).await;
    assert_eq!(order["status"], "failed");
    // Still owed, and free for a new order.
    assert_eq!(charge_ids(&app, "A-000003").await.len(), 2);
    let again = order_by_form(&app, "A-000003").await;
    assert_ne!(again, order_token);
}

#[tokio::test]
async fn oxxo_pending_then_paid() {
    let app = spawn_app().await;
    let order_token = order_by_form(&app, "A-000003").await;
    let attempt = checkout(&app, &order_token).await;
    // "OXXO pagado después" needs a voucher first.
    assert_eq!(demo(&app, &order_token, "oxxo-pagado").await.status().as_u16(), 409);
    let r = demo(&app, &order_token, "oxxo").await;
    assert_eq!(location(&r), format!("/orden/{order_token}"));
    let (_, html) = page(&app, &format!("/orden/{order_token}")).await;
    assert!(html.contains("Pago en proceso"), "{html}");
    let Some(Instructions::Oxxo { number, expires_at: Some(deadline), .. }) =
        app.store.get_attempt(attempt).await.unwrap().unwrap().instructions
    else {
        panic!("an OXXO voucher with a deadline")
    };
    assert!(html.contains(&number));
    // Valid until the end of the third day after today (2026-11-21, Loreto):
    // the order lives as long, so the charges stay held meanwhile.
    assert_eq!(deadline.to_rfc3339(), "2026-11-25T07:00:00+00:00");
    assert!(html.contains("24/11/2026 23:59 h"), "the deadline, local time: {html}");
    assert_eq!(order_json(&app, &order_token).await["expires_at"], "2026-11-25T07:00:00Z");
    assert_eq!(order_json(&app, &order_token).await["status"], "pending");
    assert_eq!(charge_ids(&app, "A-000003").await.len(), 2, "not paid yet");

    let r = demo(&app, &order_token, "oxxo-pagado").await;
    assert_eq!(location(&r), format!("/orden/{order_token}"));
    let order = order_json(&app, &order_token).await;
    assert_eq!(order["status"], "succeeded");
    assert_eq!(moves_to(&order, "succeeded"), 1);
    assert!(charge_ids(&app, "A-000003").await.is_empty());
    let a = app.store.get_attempt(attempt).await.unwrap().unwrap();
    assert_eq!((a.status.as_str(), a.method.map(|m| m.as_str())), ("succeeded", Some("oxxo")));
}

#[tokio::test]
async fn money_after_expiry_is_an_overpayment_recorded_once() {
    let app = spawn_app().await;
    let order_token = order_by_form(&app, "A-000003").await;
    let attempt = checkout(&app, &order_token).await;
    let order_id = order_id(&app, &order_token).await;
    let total = app.store.get_order(order_id).await.unwrap().unwrap().total;
    // The next day the order has expired (the voucher was paid too late).
    let later = app.on_day(NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()).await;
    assert_eq!(order_json(&later, &order_token).await["status"], "expired");
    let (_, html) = page(&later, &format!("/orden/{order_token}")).await;
    assert!(html.contains("Volver a cotizar"), "{html}");
    for event_id in ["evt_late_1", "evt_late_2", "evt_late_1"] {
        let late = ProviderEvent {
            paid_on: None,
            provider: Provider::Demo,
            event_id: event_id.into(),
            attempt_id: attempt,
            event: PaymentEvent::Paid { amount: total, currency: CURRENCY_MXN.into() },
            method: Some(app::domain::payment::Method::Oxxo),
            instructions: None,
            payment_intent: None,
        };
        let outcome = apply_provider_event(&later.state, &late).await.unwrap();
        assert!(matches!(outcome, EventOutcome::Overpayment { .. } | EventOutcome::Duplicate), "{outcome:?}");
    }
    let over = later.store.overpayments_of_order(order_id).await.unwrap();
    assert_eq!(over.len(), 1);
    assert_eq!((over[0].amount, over[0].reason.as_str()), (total, "paid_after_expired"));
    let order = order_json(&later, &order_token).await;
    assert_eq!(order["status"], "expired");
    assert_eq!(moves_to(&order, "succeeded"), 0);
    assert_eq!(charge_ids(&later, "A-000003").await.len(), 2, "the charges are not paid by an overpayment");
    // Re-quote in one click.
    let r = post_form(&later, &format!("/orden/{order_token}/cotizar"), &[]).await;
    assert!(location(&r).starts_with("/orden/"));
}

#[tokio::test]
async fn two_tabs_on_the_same_charges_get_a_409() {
    let app = spawn_app().await;
    // Oldest first, as an HTML error: the newer water bill alone.
    let ids = charge_ids(&app, "A-000003").await;
    let r = post_form(&app, "/orden", &[("cuenta", "A-000003".into()), ("cargo", ids[1].to_string())]).await;
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.text().await.unwrap().contains("data-code=\"older_charge_unpaid\""));

    order_by_form(&app, "A-000003").await;
    let mut fields = vec![("cuenta", "A-000003".to_string())];
    for id in charge_ids(&app, "A-000003").await {
        fields.push(("cargo", id.to_string()));
    }
    let r = post_form(&app, "/orden", &fields).await;
    assert_eq!(r.status().as_u16(), 409);
    let html = r.text().await.unwrap();
    assert!(html.contains("data-code=\"charges_in_live_order\""), "{html}");
    // A charge that is not the account's.
    let r = post_form(&app, "/orden", &[("cuenta", "P-000001".into()), ("cargo", "999".into())]).await;
    assert_eq!(r.status().as_u16(), 400);
    // Nothing checked.
    let r = post_form(&app, "/orden", &[("cuenta", "P-000002".into())]).await;
    assert_eq!(r.status().as_u16(), 400);
}

#[tokio::test]
async fn forms_without_the_right_csrf_token_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let ids = charge_ids(&app, "P-000002").await;
    let fields = vec![("cuenta", "P-000002".to_string()), ("cargo", ids[0].to_string())];
    let other = "fedcba9876543210fedcba9876543210";
    let right = app.state.csrf_key.token_for(TOKEN);
    let of_other_session = app.state.csrf_key.token_for(other);
    for (cookie, field) in [
        (None, None),
        (Some(TOKEN), None),
        (None, Some(right.as_str())),
        (Some(TOKEN), Some(other)),
        (Some("short"), Some("short")),
        // The plain double submit (field = cookie) proves nothing.
        (Some(TOKEN), Some(TOKEN)),
        // A real token, but of another browser session (copied, or planted
        // next to an attacker's cookie).
        (Some(TOKEN), Some(of_other_session.as_str())),
        (Some(other), Some(right.as_str())),
    ] {
        let r = post_form_with(&app, "/orden", &fields, cookie, field).await;
        assert_eq!(r.status().as_u16(), 403, "{cookie:?} {field:?}");
        let html = r.text().await.unwrap();
        assert!(html.contains("Solicitud rechazada"));
    }
    // No order was created: the charge is still free.
    let (status, _) = app.post_json("/api/v1/orders", &json!({"account": "P-000002"})).await;
    assert_eq!(status, 201);

    let order_token = order_by_form(&app, "A-000003").await;
    let r = post_form_with(&app, &format!("/orden/{order_token}/pagar"), &[], Some(TOKEN), Some(other)).await;
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(order_json(&app, &order_token).await["status"], "created");
    checkout(&app, &order_token).await;
    let r = post_form_with(
        &app,
        &format!("/prueba/pago/{order_token}/accion"),
        &[("accion", "pagar".into())],
        Some(TOKEN),
        None,
    )
    .await;
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(order_json(&app, &order_token).await["status"], "pending");
}

#[tokio::test]
async fn the_checkout_api_starts_or_resumes_an_attempt() {
    let app = spawn_app().await;
    let (_, order) = app.post_json("/api/v1/orders", &json!({"account": "P-000002"})).await;
    let token = order["id"].as_str().expect("the order's token");
    let (status, a) = app.post_json(&format!("/api/v1/orders/{token}/checkout"), &json!({})).await;
    assert_eq!(status, 201, "{a}");
    assert_eq!(a["redirect_url"], format!("/prueba/pago/{token}"));
    assert_eq!(a["order"], token);
    let (status, b) = app.post_json(&format!("/api/v1/orders/{token}/checkout"), &json!({})).await;
    assert_eq!(status, 201, "{b}");
    assert_eq!(a["attempt_id"], b["attempt_id"], "the pending attempt is resumed");
    let (status, e) = app.post_json("/api/v1/orders/999/checkout", &json!({})).await;
    assert_eq!((status, e["error"]["code"].as_str()), (404, Some("order_not_found")));
    let (_, doc) = app.get_json("/api/v1/openapi.json").await;
    assert!(doc["paths"]["/api/v1/orders/{token}/checkout"]["post"]["responses"]["201"].is_object());
}

#[tokio::test]
async fn without_a_provider_online_payment_is_unavailable_and_nothing_can_pay() {
    // `recauda serve` with neither Stripe nor RECAUDA_DEMO_PAYMENTS.
    let app = crate::common::spawn_app_without_payments().await;
    assert_eq!(app.state.online_provider(), None);
    let order_token = order_by_form(&app, "A-000003").await;
    // The formato de pago is still there, to pay at the window; no button.
    let (status, html) = page(&app, &format!("/orden/{order_token}")).await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"data-testid="online-unavailable""#), "{html}");
    assert!(html.contains("páguelo en las cajas de la tesorería"), "{html}");
    assert!(!html.contains(r#"data-testid="pay-online""#), "{html}");
    // The form posted anyway (an old tab): a friendly page with 503.
    let r = post_form(&app, &format!("/orden/{order_token}/pagar"), &[]).await;
    assert_eq!(r.status().as_u16(), 503);
    let html = r.text().await.unwrap();
    assert!(html.contains("El pago en línea no está disponible") && html.contains("<header"), "{html}");
    // The API: 503 payments_unavailable in the JSON error shape.
    let id = order_id(&app, &order_token).await;
    let (status, body) = app.post_json(&format!("/api/v1/orders/{order_token}/checkout"), &json!({})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (503, Some("payments_unavailable")), "{body}");
    // Nothing changed: still created, no attempt.
    let order = order_json(&app, &order_token).await;
    assert_eq!(order["status"], "created");
    assert!(app.store.attempts_of_order(id).await.unwrap().is_empty());

    // An attempt left by a demonstration on this database cannot "pay"
    // anything once the demo is off: its page is gone, its buttons refused.
    let order_id = id;
    let attempt = app
        .store
        .start_attempt(
            &app::store::NewAttempt {
                order_id,
                provider: Provider::Demo,
                provider_ref: None,
                idempotency_key: "left-by-a-demo".into(),
                amount: Centavos::parse_pesos(order["total"].as_str().unwrap()).unwrap(),
            },
            app.state.clock.now(),
        )
        .await
        .unwrap();
    assert_eq!(attempt.provider, Provider::Demo);
    let (status, _) = page(&app, &format!("/prueba/pago/{order_token}")).await;
    assert_eq!(status, 404);
    let r = demo(&app, &order_token, "pagar").await;
    assert_eq!(r.status().as_u16(), 503);
    let err = app::payments::demo_action(&app.state, order_id, app::payments::DemoAction::PayCard).await;
    assert_eq!(err, Err(PaymentError::NoProvider));
    let order = order_json(&app, &order_token).await;
    assert_eq!(order["status"], "pending", "left as the demonstration left it: unpaid");
    assert!(app.store.receipt_of_order(order_id).await.unwrap().is_none());
    // Its "pagar" does not resume the demo checkout either.
    let r = post_form(&app, &format!("/orden/{order_token}/pagar"), &[]).await;
    assert_eq!(r.status().as_u16(), 503);
}

/// Issue 9, defect 4: money for an order whose charges were paid some
/// other way meanwhile (the window, a raced order) is never applied twice.
#[tokio::test]
async fn money_for_charges_already_paid_is_a_discrepancy_not_a_second_payment() {
    let app = spawn_app().await;
    let order_token = order_by_form(&app, "P-000002").await;
    let attempt = checkout(&app, &order_token).await;
    let id = order_id(&app, &order_token).await;
    // Paid at the window while the online checkout was open.
    app.sql("UPDATE charges SET status = 'paid' WHERE id IN (SELECT charge_id FROM payment_order_items)").await;
    let event = ProviderEvent {
        paid_on: None,
        provider: Provider::Demo,
        event_id: "evt_paid_twice".into(),
        attempt_id: attempt,
        event: PaymentEvent::Paid {
            amount: Centavos::parse_pesos(order_json(&app, &order_token).await["total"].as_str().unwrap()).unwrap(),
            currency: CURRENCY_MXN.into(),
        },
        method: None,
        instructions: None,
        payment_intent: None,
    };
    let outcome = apply_provider_event(&app.state, &event).await.unwrap();
    assert!(
        matches!(
            outcome,
            EventOutcome::Discrepancy {
                reason: app::domain::payment::OverpaymentReason::ChargesAlreadyPaid,
                transition: Some(_)
            }
        ),
        "{outcome:?}"
    );
    assert_eq!(order_json(&app, &order_token).await["status"], "failed");
    assert!(app.store.receipt_of_order(id).await.unwrap().is_none(), "no second receipt");
    let over = app.store.overpayments_of_order(id).await.unwrap();
    assert_eq!(over.len(), 1, "recorded for the treasury to refund");
}
